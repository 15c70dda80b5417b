#![no_main]
// The body and what it asserts: `redis_options::fuzzing::rdb_payload`.
libfuzzer_sys::fuzz_target!(|data: &[u8]| redis_options::fuzzing::rdb_payload(data));
