#![no_main]
// The body and what it asserts: `options_feeder::fuzzing::ticker_frame`.
libfuzzer_sys::fuzz_target!(|data: &[u8]| options_feeder::fuzzing::ticker_frame(data));
