//! Fuzz target: see `crampbot::fuzzing::batch`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| crampbot::fuzzing::batch(data));
