#![no_main]

// The otpauth URI and the typed base32 secret: see src/guard.rs.
libfuzzer_sys::fuzz_target!(|data: &[u8]| latchkey_fuzz::guard::check_otpauth(data));
