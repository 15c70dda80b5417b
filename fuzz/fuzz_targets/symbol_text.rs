#![no_main]
// The body and what it asserts: `options_core::fuzzing::symbol_text`.
libfuzzer_sys::fuzz_target!(|data: &[u8]| options_core::fuzzing::symbol_text(data));
