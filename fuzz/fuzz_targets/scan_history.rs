#![no_main]

// The scanner and the rewrite on history files: see src/scan.rs.
libfuzzer_sys::fuzz_target!(|data: &[u8]| latchkey_fuzz::scan::check(latchkey_fuzz::scan::HISTORY, data));
