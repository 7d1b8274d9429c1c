//! The command line: `run`, `chat`, `ask` and `check`. `ask`, `chat` and `check` work offline,
//! with no Discord token.

use std::io::{BufRead, IsTerminal as _, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use clap::{Parser, Subcommand, ValueEnum};
use serde_json::Value;

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
                Format::Text => write!(stdout, "{}", render_text(&answered.reply))?,
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

/// Answers a batch of JSON Lines: one output line per non-blank input line, in order. A bad line
/// gets an error object (echoing its `id` when it has one) and a message on `errors`; the rest of
/// the batch still answers. Returns how many lines failed.
///
/// # Errors
/// Only I/O errors on the streams themselves.
pub fn ask_batch(
    bot: &Bot,
    format: Format,
    input: impl BufRead,
    output: impl Write,
    errors: &mut impl Write,
) -> std::io::Result<usize> {
    let mut output = std::io::BufWriter::new(output);
    let mut failures = 0;
    for (number, line) in input.lines().enumerate() {
        let number = number + 1;
        let line = match line {
            Ok(line) => line,
            Err(err) if err.kind() == std::io::ErrorKind::InvalidData => {
                failures += 1;
                writeln!(errors, "line {number}: not UTF-8")?;
                serde_json::to_writer(&mut output, &error_json(None, "line is not valid UTF-8"))?;
                output.write_all(b"\n")?;
                continue;
            }
            Err(err) => return Err(err),
        };
        if line.trim().is_empty() {
            continue;
        }
        match parse_batch_line(bot.catalogue(), &line) {
            Ok((id, text, answers)) => match format {
                Format::Json => {
                    let answered = bot.answer(&text, &answers);
                    serde_json::to_writer(&mut output, &analysis_json(id.as_ref(), &answered, bot.catalogue()))?;
                    output.write_all(b"\n")?;
                }
                Format::Text => {
                    let reply = render_text(&bot.answer(&text, &answers).reply);
                    if let Some(id) = &id {
                        writeln!(output, "== {id}")?;
                    }
                    writeln!(output, "{reply}")?;
                }
            },
            Err((id, message)) => {
                failures += 1;
                writeln!(errors, "line {number}: {message}")?;
                serde_json::to_writer(&mut output, &error_json(id.as_ref(), &message))?;
                output.write_all(b"\n")?;
            }
        }
    }
    output.flush()?;
    Ok(failures)
}

type BatchLineError = (Option<Value>, String);

/// An answer to a follow-up question, by the question's id and `yes`, `no` or `unsure`.
fn parse_answer(catalogue: &Catalogue, id: &str, value: &str) -> Result<(usize, Answer), String> {
    let index = catalogue.followup_index(id.trim()).ok_or_else(|| format!("unknown follow-up question {id:?}"))?;
    let answer = Answer::parse(value).ok_or_else(|| format!("answer to {id:?} must be yes, no or unsure"))?;
    Ok((index, answer))
}

/// The `answers` of a batch line: `{"<follow-up id>": "yes" | "no" | "unsure"}`.
fn parse_answers(catalogue: &Catalogue, value: Option<Value>) -> Result<Answers, String> {
    let mut answers = Answers::new();
    match value {
        None | Some(Value::Null) => {}
        Some(Value::Object(map)) => {
            for (id, value) in map {
                let Value::String(value) = value else {
                    return Err(format!("answer to {id:?} must be \"yes\", \"no\" or \"unsure\""));
                };
                let (index, answer) = parse_answer(catalogue, &id, &value)?;
                answers.insert(index, answer);
            }
        }
        Some(_) => return Err("`answers` must be an object like {\"calf_warm\": \"yes\"}".to_owned()),
    }
    Ok(answers)
}

fn parse_batch_line(catalogue: &Catalogue, line: &str) -> Result<(Option<Value>, String, Answers), BatchLineError> {
    let value: Value = serde_json::from_str(line).map_err(|err| (None, format!("invalid JSON: {err}")))?;
    let Value::Object(mut object) = value else {
        return Err((None, "expected a JSON object like {\"id\": 1, \"text\": \"...\"}".to_owned()));
    };
    let id = object.remove("id");
    let answers = match parse_answers(catalogue, object.remove("answers")) {
        Ok(answers) => answers,
        Err(message) => return Err((id, message)),
    };
    let text = parse_text(object.remove("text")).map_err(|message| (id.clone(), message))?;
    Ok((id, text, answers))
}

fn parse_text(text: Option<Value>) -> Result<String, String> {
    match text {
        Some(Value::String(text)) if text.len() > MAX_TEXT_BYTES => {
            Err(format!("text is {} bytes; the limit is {MAX_TEXT_BYTES}", text.len()))
        }
        Some(Value::String(text)) if text.trim().is_empty() => Err("text is empty".to_owned()),
        Some(Value::String(text)) => Ok(text),
        Some(_) => Err("`text` must be a string".to_owned()),
        None => Err("no `text` field".to_owned()),
    }
}
