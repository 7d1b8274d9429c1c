//! The command line: `run`, `chat`, `ask` and `check`. `ask`, `chat` and `check` work offline,
//! with no Discord token.

use std::io::{BufRead, IsTerminal as _, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use clap::{Parser, Subcommand, ValueEnum};
use serde::Deserialize;
use serde_json::value::RawValue;

use crate::analyze::followups::{Answer, Answers};
use crate::bot::{Bot, MAX_TEXT_BYTES};
use crate::clock::SystemClock;
use crate::config::Config;
use crate::knowledge::{Catalogue, LoadError};
use crate::reminders::SchedulerOptions;
use crate::reminders::store::StoreError;
use crate::reply::{analysis_json, error_json, render_text};
use crate::store::AnyStore;

/// crampbot: what calf twitching and hamstring cramps while walking may come from, with sources.
/// Not a diagnosis.
#[derive(Debug, Parser)]
#[command(version, about, long_about = None)]
pub struct Cli {
    /// Config file (TOML); see config.example.toml. Environment variables override it.
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Load the catalogue from this folder instead of the built-in one.
    #[arg(long, global = true, value_name = "DIR")]
    pub knowledge: Option<PathBuf>,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Connect to Discord and answer mentions, DMs and slash commands (needs `DISCORD_TOKEN`).
    Run,
    /// Talk to the bot in this terminal: free text and the slash commands, no token needed.
    Chat,
    /// Analyze a description offline and print the reply.
    Ask {
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
        /// Read JSON Lines `{"id": ..., "text": "..."}` from stdin and answer each, in order.
        #[arg(long)]
        batch: bool,
        /// An answer to a follow-up question, as `ID=yes`, `ID=no` or `ID=unsure`; repeat it for
        /// each answer. The reply is what the text plus these answers give.
        #[arg(long = "answer", value_name = "ID=ANSWER", conflicts_with = "batch")]
        answers: Vec<String>,
        /// The description; several words are joined with spaces.
        #[arg(required_unless_present = "batch", conflicts_with = "batch")]
        text: Vec<String>,
    },
    /// Validate the catalogue and list every problem as `FILE:LINE: message`.
    Check,
}

/// Output formats of `ask`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// The reply as readable text.
    Text,
    /// The analysis as JSON (the contract in DESIGN.md).
    Json,
}

/// Runs the parsed command line and returns the process exit code.
pub fn run(cli: Cli) -> ExitCode {
    match execute(cli) {
        Ok(code) => code,
        // A reader that went away (`| head -1`) is not an error: stop quietly.
        Err(err)
            if err.downcast_ref::<std::io::Error>().is_some_and(|err| err.kind() == std::io::ErrorKind::BrokenPipe) =>
        {
            ExitCode::SUCCESS
        }
        Err(err) => {
            let _ = writeln!(std::io::stderr(), "crampbot: {err:#}");
            ExitCode::from(2)
        }
    }
}

fn execute(cli: Cli) -> Result<ExitCode, Box<dyn std::error::Error>> {
    let mut config = Config::load(cli.config.as_deref())?;
    if cli.knowledge.is_some() {
        config.knowledge_dir = cli.knowledge;
    }
    if let Command::Check = cli.command {
        return Ok(check(&config));
    }
    if matches!(cli.command, Command::Run) && config.discord.token.is_none() {
        return Err(crate::discord::RunError::NoToken.into());
    }
    let catalogue = load_catalogue(&config)?;
    let bot = Bot::new(catalogue);
    match cli.command {
        Command::Check => unreachable!("handled above"),
        Command::Ask { format, batch: true, .. } => {
            let stdin = std::io::stdin().lock();
            let stdout = std::io::stdout().lock();
            let failures = ask_batch(&bot, format, stdin, stdout, &mut std::io::stderr().lock())?;
            Ok(if failures == 0 { ExitCode::SUCCESS } else { ExitCode::from(1) })
        }
        Command::Ask { format, text, answers, .. } => {
            let text = text.join(" ");
            if text.len() > MAX_TEXT_BYTES {
                return Err(format!("the text is {} bytes; the limit is {MAX_TEXT_BYTES}", text.len()).into());
            }
            let mut given = Answers::new();
            for answer in &answers {
                let (id, value) =
                    answer.split_once('=').ok_or_else(|| format!("--answer {answer:?}: expected ID=yes|no|unsure"))?;
                let (index, answer) = parse_answer(bot.catalogue(), id, value)?;
                given.insert(index, answer);
            }
            let answered = bot.answer(&text, &given);
            let mut stdout = std::io::stdout().lock();
            match format {
                Format::Text => write!(stdout, "{}", printable(&render_text(&answered.reply)))?,
                Format::Json => {
                    writeln!(stdout, "{}", serde_json::to_string(&analysis_json(None, &answered, bot.catalogue()))?)?;
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Chat => {
            let prompt = std::io::stdin().is_terminal();
            let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build()?;
            // Q&A works without reminders: a database that cannot be opened only turns them off.
            let store = match runtime.block_on(open_store(&config)) {
                Ok(store) => store,
                Err(err) => {
                    writeln!(std::io::stderr(), "crampbot: reminders are off in this session: {err}")?;
                    runtime.shutdown_background();
                    crate::console::run(&bot, std::io::stdin().lock(), std::io::stdout().lock(), prompt)?;
                    return Ok(ExitCode::SUCCESS);
                }
            };
            let output = Arc::new(std::sync::Mutex::new(std::io::stdout()));
            let input = std::io::BufReader::new(std::io::stdin());
            let options = SchedulerOptions::from_config(&config.reminders);
            runtime.block_on(crate::console::chat(
                bot,
                store,
                Arc::new(SystemClock),
                options,
                input,
                output,
                prompt,
            ))?;
            runtime.shutdown_background();
            Ok(ExitCode::SUCCESS)
        }
        Command::Run => {
            init_logging(&config);
            let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
            let store = runtime.block_on(open_store(&config))?;
            tracing::info!(backend = store.backend(), "reminder database open");
            // One scheduler per SQLite file: a second `crampbot run` on it stops here, saying so,
            // before it connects (it would also answer every message a second time).
            runtime.block_on(crate::reminders::ReminderStore::start_scheduler(&*store))?;
            let options = crate::discord::RunOptions {
                reminders: Some(crate::discord::RemindersSetup {
                    store,
                    clock: Arc::new(SystemClock),
                    scheduler: SchedulerOptions::from_config(&config.reminders),
                }),
                ..crate::discord::RunOptions::default()
            };
            runtime.block_on(crate::discord::run_with(&config.discord, bot, options, shutdown_signal()))?;
            tracing::info!("stopped");
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// Opens (creating and migrating) the reminder database named by `reminders.database`: an
/// SQLite file or a PostgreSQL server. The error names the file or server, never a password.
///
/// # Errors
/// The database cannot be opened or reached, is not a crampbot database, or was written by a
/// newer build.
pub async fn open_store(config: &Config) -> Result<Arc<AnyStore>, String> {
    match crate::store::open(&config.reminders).await {
        Ok(store) => Ok(Arc::new(store)),
        Err(err @ StoreError::Open { .. }) => Err(err.to_string()),
        Err(err) => Err(format!("reminder database: {err}")),
    }
}

/// Logs to stderr through the configured filter (`RUST_LOG`, with payload-carrying libraries
/// capped at warn: see [`crate::config::log_filter`]).
fn init_logging(config: &Config) {
    // The filter was validated when the configuration was loaded.
    let filter = tracing_subscriber::EnvFilter::new(&config.log_filter);
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(std::io::stderr)
        .try_init();
}

/// Completes on Ctrl-C or, on Unix, SIGTERM, so that `crampbot run` closes the gateway cleanly.
async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = terminate => {}
    }
}

/// Loads the configured catalogue: the folder if one is set, else the built-in one.
///
/// # Errors
/// Every problem of the catalogue.
pub fn load_catalogue(config: &Config) -> Result<Catalogue, LoadError> {
    match &config.knowledge_dir {
        Some(dir) => Catalogue::from_dir(dir),
        None => Catalogue::embedded(),
    }
}

fn check(config: &Config) -> ExitCode {
    let origin =
        config.knowledge_dir.as_ref().map_or_else(|| "built-in knowledge/".to_owned(), |dir| dir.display().to_string());
    match load_catalogue(config) {
        Ok(catalogue) => {
            let _ = writeln!(
                std::io::stdout(),
                "{origin}: ok ({} causes, {} red flags, {} sources)",
                catalogue.causes.len(),
                catalogue.red_flags.len(),
                catalogue.sources.len()
            );
            ExitCode::SUCCESS
        }
        Err(LoadError::Invalid(problems)) => {
            let mut stderr = std::io::stderr().lock();
            for problem in &problems {
                let _ = writeln!(stderr, "{problem}");
            }
            let _ = writeln!(stderr, "{origin}: {} problem(s)", problems.len());
            ExitCode::from(1)
        }
        Err(err) => {
            let _ = writeln!(std::io::stderr(), "{origin}: {err}");
            ExitCode::from(1)
        }
    }
}

/// The longest batch line read, in bytes. A line holding a text within [`MAX_TEXT_BYTES`] fits
/// however it is escaped (`\u00e9` is six bytes for two), with room for the id; a longer line is
/// never read whole: its first bytes are dropped and the rest skipped up to the next newline.
pub const MAX_LINE_BYTES: usize = 6 * MAX_TEXT_BYTES + 4_096;

/// One batch line, parsed: the id exactly as written, and the text.
#[derive(Debug)]
pub struct BatchLine<'a> {
    /// The id as written (any JSON value), echoed byte for byte.
    pub id: Option<&'a RawValue>,
    /// The text to analyze.
    pub text: String,
    /// The answers given so far to follow-up questions.
    pub answers: Answers,
}

/// Why a batch line cannot be answered, with its id when it had one.
#[derive(Debug)]
pub struct BatchLineError<'a> {
    /// The id as written, when the line had one.
    pub id: Option<&'a RawValue>,
    /// What is wrong, in plain words.
    pub message: String,
}

/// The fields of a batch line, each kept as written; other fields are ignored.
#[derive(Deserialize)]
struct RawBatchLine<'a> {
    #[serde(borrow, default)]
    id: Option<&'a RawValue>,
    #[serde(borrow, default)]
    text: Option<&'a RawValue>,
    #[serde(borrow, default)]
    answers: Option<&'a RawValue>,
}

/// Answers a batch of JSON Lines: one output line per non-blank input line, in order. A bad line
/// gets an error object (echoing its `id` when it has one) and a message on `errors`; the rest of
/// the batch still answers. Lines are read with a cap ([`MAX_LINE_BYTES`]), a leading UTF-8 BOM
/// is skipped, and ids are echoed exactly as written. Returns how many lines failed.
///
/// # Errors
/// Only I/O errors on the streams themselves.
pub fn ask_batch(
    bot: &Bot,
    format: Format,
    mut input: impl BufRead,
    output: impl Write,
    errors: &mut impl Write,
) -> std::io::Result<usize> {
    let mut output = std::io::BufWriter::new(output);
    let mut failures = 0;
    let mut buffer = Vec::new();
    let mut number = 0;
    loop {
        let read = read_capped_line(&mut input, &mut buffer, MAX_LINE_BYTES)?;
        let whole = match read {
            LineRead::End => break,
            LineRead::Whole => true,
            LineRead::TooLong => false,
        };
        number += 1;
        let mut bytes = &buffer[..];
        if number == 1 {
            bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
        }
        let cut_id;
        let result = if whole {
            match std::str::from_utf8(bytes) {
                Ok(line) if line.trim().is_empty() => continue,
                Ok(line) => parse_batch_line(bot.catalogue(), line),
                Err(err) => Err(BatchLineError {
                    id: None,
                    message: format!("line is not valid UTF-8 (byte {})", err.valid_up_to() + 1),
                }),
            }
        } else {
            cut_id = id_of_cut_line(bytes);
            Err(BatchLineError {
                id: cut_id.as_deref(),
                message: format!("line is longer than {MAX_LINE_BYTES} bytes; the text limit is {MAX_TEXT_BYTES}"),
            })
        };
        match result {
            Ok(BatchLine { id, text, answers }) => match format {
                Format::Json => {
                    let answered = bot.answer(&text, &answers);
                    serde_json::to_writer(&mut output, &analysis_json(id, &answered, bot.catalogue()))?;
                    output.write_all(b"\n")?;
                }
                Format::Text => {
                    let reply = render_text(&bot.answer(&text, &answers).reply);
                    if let Some(id) = id {
                        writeln!(output, "== {}", printable(id.get()))?;
                    }
                    writeln!(output, "{}", printable(&reply))?;
                }
            },
            Err(BatchLineError { id, message }) => {
                failures += 1;
                writeln!(errors, "line {number}: {message}")?;
                serde_json::to_writer(&mut output, &error_json(id, &message))?;
                output.write_all(b"\n")?;
            }
        }
    }
    output.flush()?;
    Ok(failures)
}

/// How [`read_capped_line`] ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LineRead {
    /// A whole line (without its newline) is in the buffer.
    Whole,
    /// The line was longer than the cap: the buffer holds its first bytes, and the rest was
    /// skipped up to and including its newline.
    TooLong,
    /// The input has ended.
    End,
}

/// An answer to a follow-up question, by the question's id and `yes`, `no` or `unsure`.
fn parse_answer(catalogue: &Catalogue, id: &str, value: &str) -> Result<(usize, Answer), String> {
    let index = catalogue.followup_index(id.trim()).ok_or_else(|| format!("unknown follow-up question {id:?}"))?;
    let answer = Answer::parse(value).ok_or_else(|| format!("answer to {id:?} must be yes, no or unsure"))?;
    Ok((index, answer))
}

/// The `answers` of a batch line: `{"<follow-up id>": "yes" | "no" | "unsure"}`.
fn parse_answers(catalogue: &Catalogue, raw: Option<&RawValue>) -> Result<Answers, String> {
    let mut answers = Answers::new();
    let Some(raw) = raw.filter(|raw| raw.get() != "null") else { return Ok(answers) };
    let shape = || "`answers` must be an object like {\"calf_warm\": \"yes\"}".to_owned();
    let map: std::collections::BTreeMap<String, &RawValue> = serde_json::from_str(raw.get()).map_err(|_| shape())?;
    for (id, value) in map {
        let Ok(value) = serde_json::from_str::<String>(value.get()) else {
            return Err(format!("answer to {id:?} must be \"yes\", \"no\" or \"unsure\""));
        };
        let (index, answer) = parse_answer(catalogue, &id, &value)?;
        answers.insert(index, answer);
    }
    Ok(answers)
}

/// Reads one line into `buffer` (cleared first), keeping at most `cap` bytes of it, so that a
/// huge line costs no more memory than the cap.
///
/// # Errors
/// The reader's errors.
pub fn read_capped_line(input: &mut impl BufRead, buffer: &mut Vec<u8>, cap: usize) -> std::io::Result<LineRead> {
    buffer.clear();
    let mut too_long = false;
    let mut any = false;
    loop {
        let available = match input.fill_buf() {
            Ok(available) => available,
            Err(err) if err.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(err) => return Err(err),
        };
        if available.is_empty() {
            return Ok(match (any, too_long) {
                (false, _) => LineRead::End,
                (true, false) => LineRead::Whole,
                (true, true) => LineRead::TooLong,
            });
        }
        any = true;
        let (chunk, found_newline) = match available.iter().position(|&b| b == b'\n') {
            Some(at) => (&available[..at], true),
            None => (available, false),
        };
        let room = cap.saturating_sub(buffer.len());
        if chunk.len() > room {
            too_long = true;
        }
        buffer.extend_from_slice(&chunk[..chunk.len().min(room)]);
        let used = chunk.len() + usize::from(found_newline);
        input.consume(used);
        if found_newline {
            if buffer.last() == Some(&b'\r') && !too_long {
                buffer.pop();
            }
            return Ok(if too_long { LineRead::TooLong } else { LineRead::Whole });
        }
    }
}

/// The `id` of a line cut at [`MAX_LINE_BYTES`], when it comes before the cut: the object is
/// read member by member until the id is found or the cut ends it.
fn id_of_cut_line(prefix: &[u8]) -> Option<Box<RawValue>> {
    struct FirstId<'s>(&'s mut Option<Box<RawValue>>);
    impl<'de> serde::de::Visitor<'de> for FirstId<'_> {
        type Value = ();

        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("a JSON object")
        }

        fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
            while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
                if key == "id" {
                    *self.0 = Some(map.next_value()?);
                    return Ok(());
                }
                map.next_value::<serde::de::IgnoredAny>()?;
            }
            Ok(())
        }
    }
    let mut id = None;
    let mut reader = serde_json::Deserializer::from_slice(prefix);
    // The cut makes the object end early: the error is expected, the id is what was read.
    let _ = serde::Deserializer::deserialize_map(&mut reader, FirstId(&mut id));
    id.filter(|id| id.get() != "null")
}

/// Parses one batch line `{"id": ..., "text": "...", "answers": {...}}`. The id may be any JSON
/// value and is kept as written.
///
/// # Errors
/// The line is not a JSON object, its text is missing, not a string, empty or too long, or an
/// answer names an unknown follow-up question or is not yes, no or unsure.
pub fn parse_batch_line<'a>(catalogue: &Catalogue, line: &'a str) -> Result<BatchLine<'a>, BatchLineError<'a>> {
    let raw: RawBatchLine<'_> = serde_json::from_str(line).map_err(|err| BatchLineError {
        id: None,
        message: if err.is_data() {
            "expected a JSON object like {\"id\": 1, \"text\": \"...\"}".to_owned()
        } else {
            format!("invalid JSON: {err}")
        },
    })?;
    let id = raw.id.filter(|id| id.get() != "null");
    let fail = |message: String| Err(BatchLineError { id, message });
    let answers = match parse_answers(catalogue, raw.answers) {
        Ok(answers) => answers,
        Err(message) => return fail(message),
    };
    let Some(text) = raw.text else { return fail("no `text` field".to_owned()) };
    let Ok(text) = serde_json::from_str::<String>(text.get()) else {
        return fail("`text` must be a string".to_owned());
    };
    if text.len() > MAX_TEXT_BYTES {
        return fail(format!("text is {} bytes; the limit is {MAX_TEXT_BYTES}", text.len()));
    }
    if text.trim().is_empty() {
        return fail("text is empty".to_owned());
    }
    Ok(BatchLine { id, text, answers })
}

/// `text` without control characters other than newline and tab, for a terminal: a message
/// quoted back (evidence, an id) can never move the cursor or change colours.
pub fn printable(text: &str) -> std::borrow::Cow<'_, str> {
    if text.chars().all(|c| !c.is_control() || c == '\n' || c == '\t') {
        std::borrow::Cow::Borrowed(text)
    } else {
        std::borrow::Cow::Owned(text.chars().filter(|&c| !c.is_control() || c == '\n' || c == '\t').collect())
    }
}
