#![no_main]

// The signing agent's request handling: see src/agent.rs for the input format and the properties.
libfuzzer_sys::fuzz_target!(|data: &[u8]| latchkey_fuzz::agent::check(data));
