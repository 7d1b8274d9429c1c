//! Stemming.
