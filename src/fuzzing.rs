//! Entry points for the fuzz targets in `fuzz/`: each takes the fuzzer's bytes, runs one parser
//! or the analyzer on them, and panics only when an invariant breaks. Not a public API.

use std::sync::OnceLock;

use crate::bot::Bot;
use crate::cli::{Format, ask_batch};
use crate::knowledge::Catalogue;

/// The bot over the shipped catalogue, built once per process.
fn bot() -> &'static Bot {
    static BOT: OnceLock<Bot> = OnceLock::new();
    BOT.get_or_init(|| Bot::new(Catalogue::embedded().expect("the shipped catalogue loads")))
}

/// At most [`crate::bot::MAX_TEXT_BYTES`] of `data`, as text.
fn text(data: &[u8]) -> String {
    let text = String::from_utf8_lossy(data);
    crate::discord::commands::clip(&text).to_owned()
}

/// The analyzer: any text within the limit is analyzed without a panic, and the evidence it
/// quotes lies inside the message.
pub fn analyze(data: &[u8]) {
    let text = text(data);
    let analysis = bot().analyzer().analyze(&text);
    for cause in &analysis.causes {
        for evidence in &cause.evidence {
            assert!(text.contains(&*evidence.text), "evidence {:?} is not in the message", evidence.text);
        }
    }
    let answered = bot().answer(&text, &crate::analyze::followups::Answers::new());
    assert!(answered.reply.followups.len() <= 3, "at most three follow-up questions");
    let json = crate::reply::analysis_json(None, &answered, bot().catalogue());
    serde_json::to_string(&json).expect("an analysis serializes");
    let _ = crate::reply::render_text(&answered.reply);
}

/// The batch reader and line parser: one well-formed JSON object per non-blank input line.
/// Checked as JSON text, not as `serde_json::Value`: ids are echoed exactly as written, and a
/// number such as `1E4567890` is valid JSON that `Value` cannot hold.
pub fn batch(data: &[u8]) {
    let mut output = Vec::new();
    let mut errors = Vec::new();
    ask_batch(bot(), Format::Json, data, &mut output, &mut errors).expect("writing to memory cannot fail");
    let output = String::from_utf8(output).expect("the output is UTF-8");
    for line in output.lines() {
        let value: &serde_json::value::RawValue = serde_json::from_str(line).expect("every output line is JSON");
        assert!(value.get().starts_with('{'), "every output line is an object");
    }
    assert!(output.lines().count() <= data.split(|&b| b == b'\n').count());
}

/// The catalogue loader over the shipped `knowledge/` with one file replaced: the fuzzer's
/// first line names the file (`causes/nerve_issues.toml`; a name the catalogue does not have is
/// added as a new file), the rest is its contents. Loading never panics, and a catalogue that
/// loads answers a message.
pub fn catalogue(data: &[u8]) {
    let data = String::from_utf8_lossy(data);
    let (name, contents) = data.split_once('\n').unwrap_or((&data, ""));
    let mut files: Vec<(String, String)> =
        crate::knowledge::embedded_files().map(|(name, text)| (name.to_owned(), text.to_owned())).collect();
    match files.iter_mut().find(|(known, _)| known == name) {
        Some(file) => contents.clone_into(&mut file.1),
        None => files.push((name.to_owned(), contents.to_owned())),
    }
    match Catalogue::from_files(files) {
        Ok(catalogue) => {
            let bot = Bot::new(catalogue);
            let _ = bot.ask("my calves twitch and cramp when I walk, no swelling, dehidrated");
        }
        Err(err) => {
            let _ = err.to_string();
        }
    }
}

/// The config parser and validation, with an empty environment.
pub fn config(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(raw) = crate::config::RawConfig::parse(text, "fuzz.toml") {
        let _ = crate::config::Config::from_raw(raw, |_| None);
    }
}

/// The `chat` command parser, and the bot's answer to what it parses.
pub fn chat(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    for line in text.lines() {
        if let crate::console::Line::Request(request) = crate::console::parse(line) {
            let _ = crate::reply::render_text(&bot().handle(request));
        }
    }
}

/// The button `custom_id` decoder: what it reads, it writes back the same.
pub fn custom_id(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Some(action) = crate::discord::render::ButtonAction::parse(text) {
        assert_eq!(crate::discord::render::ButtonAction::parse(&action.custom_id()), Some(action));
    }
}
