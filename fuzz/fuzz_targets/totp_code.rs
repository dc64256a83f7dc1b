#![no_main]

// A typed TOTP code against a secret and a time: see src/guard.rs.
libfuzzer_sys::fuzz_target!(|data: &[u8]| latchkey_fuzz::guard::check_totp_code(data));
