//! Fuzz target: see `crampbot::fuzzing::chat`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| crampbot::fuzzing::chat(data));
