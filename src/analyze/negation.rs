//! Negation.
