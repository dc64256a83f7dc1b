#![no_main]

// The add-key form's fields: see src/input.rs.
libfuzzer_sys::fuzz_target!(|data: &[u8]| latchkey_fuzz::input::check(data));
