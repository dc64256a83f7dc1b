#![no_main]

// Gate answers: see src/exchange.rs for the input format and the properties.
libfuzzer_sys::fuzz_target!(|data: &[u8]| latchkey_fuzz::exchange::check(latchkey_core::model::Exchange::Gate, data));
