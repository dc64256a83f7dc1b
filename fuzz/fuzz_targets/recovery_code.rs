#![no_main]

// A typed recovery code: see src/guard.rs.
libfuzzer_sys::fuzz_target!(|data: &[u8]| latchkey_fuzz::guard::check_recovery_code(data));
