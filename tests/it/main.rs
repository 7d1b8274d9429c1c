//! The integration tests, in one binary.

mod console;
mod discord;
mod fake_discord;
mod support;
