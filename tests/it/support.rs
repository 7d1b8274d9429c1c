//! Shared test helpers.

use std::sync::OnceLock;

use crampbot::bot::Bot;
use crampbot::knowledge::Catalogue;

/// The bot over the shipped catalogue, built once per test binary.
pub fn bot() -> &'static Bot {
    static BOT: OnceLock<Bot> = OnceLock::new();
    BOT.get_or_init(|| Bot::new(Catalogue::embedded().expect("the shipped catalogue loads")))
}
