//! Fuzz target: see `crampbot::fuzzing::catalogue`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| crampbot::fuzzing::catalogue(data));
