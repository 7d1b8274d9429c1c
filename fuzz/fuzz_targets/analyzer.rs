//! Fuzz target: see `crampbot::fuzzing::analyze`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| crampbot::fuzzing::analyze(data));
