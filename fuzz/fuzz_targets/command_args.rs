#![no_main]
// The body and what it asserts: `redis_options::fuzzing::command_args`.
libfuzzer_sys::fuzz_target!(|data: &[u8]| redis_options::fuzzing::command_args(data));
