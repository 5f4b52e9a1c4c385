#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| bolt::fuzzing::message_decode(data));
