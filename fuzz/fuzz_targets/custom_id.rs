//! Fuzz target: see `crampbot::fuzzing::custom_id`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| crampbot::fuzzing::custom_id(data));
