//! The repository's `knowledge/` folder, compiled into the binary by `build.rs`, so that the
//! binary runs from any directory.

include!(concat!(env!("OUT_DIR"), "/embedded_knowledge.rs"));
