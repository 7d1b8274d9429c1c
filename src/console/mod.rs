//! `crampbot chat`: the bot in a terminal, with the same core and the same answers as
//! `crampbot ask` and Discord.
//!
//! Each line is parsed by the pure [`parse`] into a [`Line`], then answered. Commands take
//! their options positionally (`/cause sciatica`) or in Discord's form (`/cause name:sciatica`,
//! `/remind set time:07:30 timezone:Europe/London`), so what works on Discord works here. Works
//! with piped input too (no prompt when stdin is not a terminal), which is how the tests drive it.
//!
//! # Reminders
//!
//! `/remind set 09:00 Europe/London [silent]`, `/remind show|off|snooze [30|60]` and `/forget`
//! work on the configured reminder database (`reminders.database`, `CRAMPBOT_DATABASE`: a file or
//! a `postgres://` URL) for one local user, [`CONSOLE_USER_ID`]. [`chat`] runs the scheduler while
//! the session lasts, with [`ConsoleDeliver`] printing a due reminder in the terminal; input is
//! read on a blocking thread so the scheduler never waits for it. A database that also holds
//! Discord users' reminders belongs to `crampbot run`'s scheduler, and an SQLite file whose
//! scheduler is already running refuses a second one, so then the console only stores its
//! reminder and says so. `/hydration` needs a Discord server. Times are shown in the zone the
//! reminder follows, the person's own.

use std::fmt::Write as _;
use std::io::{self, BufRead, Write};
use std::sync::{Arc, Mutex, PoisonError};

use jiff::Timestamp;

use crate::analyze::followups::{Answer, Answers};
use crate::bot::{Bot, MAX_TEXT_BYTES, Request, TipsKind};
use crate::cli::printable;
use crate::clock::Clock;
use crate::reminders::store::{ReminderStore, StoreError, Target, TargetKey};
use crate::reminders::text::{Piece, RichText, TimeStyle};
use crate::reminders::{Deliver, DeliveryError, Outgoing, Reminders, Scheduler, SchedulerOptions, Snooze, Wakeup};
use crate::reply::render_text;

/// The user id of the person at the terminal. Discord ids are never 0, so the console's
/// reminder can never be mistaken for a Discord user's (a Discord bot on the same database
/// finds no DM channel for it and pauses it).
pub const CONSOLE_USER_ID: u64 = 0;

/// One line of console input, parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Line<'a> {
    /// A request for the bot core: free text or one of the slash commands.
    Request(Request<'a>),
    /// `/remind ...` with the rest of the line: the hook for reminders.
    Remind(&'a str),
    /// `/quit` or `/exit`.
    Quit,
    /// A blank line: nothing to do.
    Blank,
    /// A command that cannot be answered, with what to tell the user.
    Invalid(String),
}

/// Parses one line: free text is a description, `/...` a command.
pub fn parse(line: &str) -> Line<'_> {
    let line = line.trim();
    if line.is_empty() {
        return Line::Blank;
    }
    if line.len() > MAX_TEXT_BYTES {
        return Line::Invalid(format!("That is {} bytes; the limit is {MAX_TEXT_BYTES}.", line.len()));
    }
    let Some(command) = line.strip_prefix('/') else {
        return Line::Request(Request::Ask(line));
    };
    let (name, rest) = command.split_once(char::is_whitespace).unwrap_or((command, ""));
    let rest = rest.trim();
    // Discord's option form (`/cause name:sciatica`) says the same as the positional one.
    let option = |keys: &[&'static str]| {
        discord_options(rest, keys)
            .and_then(|options| options.into_iter().find(|(name, _)| *name == keys[0]))
            .map_or(rest, |(_, value)| value)
    };
    let rest = match name.to_lowercase().as_str() {
        "ask" => option(&["description", "private"]),
        "cause" => option(&["name"]),
        "tips" => option(&["kind"]),
        _ => rest,
    };
    match name.to_lowercase().as_str() {
        "ask" if rest.is_empty() => Line::Invalid("Usage: /ask DESCRIPTION".to_owned()),
        "ask" => Line::Request(Request::Ask(rest)),
        "cause" if rest.is_empty() => Line::Invalid("Usage: /cause NAME (see /causes for the list)".to_owned()),
        "cause" => Line::Request(Request::Cause(rest)),
        "causes" => Line::Request(Request::Causes),
        "tips" => match rest.to_lowercase().as_str() {
            "" | "prevention" => Line::Request(Request::Tips(TipsKind::Prevention)),
            "treatment" => Line::Request(Request::Tips(TipsKind::Treatment)),
            _ => Line::Invalid("Usage: /tips [prevention|treatment]".to_owned()),
        },
        "about" => Line::Request(Request::About),
        "help" => Line::Request(Request::Help),
        "quit" | "exit" => Line::Quit,
        "remind" | "hydration" | "forget" => Line::Remind(command),
        "helpchannel" => Line::Invalid(
            "Help channels (/helpchannel) are channels of a Discord server; here, every line is answered.".to_owned(),
        ),
        _ => Line::Invalid(format!("Unknown command /{name}. Try /help.")),
    }
}

/// The options of a command in Discord's form, `key:value` with `key` one of `keys`, as slices
/// of `rest`; a value runs to the next `key:` (so `name:nerve issues` is one value). `None` when
/// `rest` does not start with one of `keys` followed by a colon: the positional form.
pub fn discord_options<'a, 'k>(rest: &'a str, keys: &[&'k str]) -> Option<Vec<(&'k str, &'a str)>> {
    let key_of = |word: &str| {
        let (key, _) = word.split_once(':')?;
        keys.iter().copied().find(|known| known.eq_ignore_ascii_case(key))
    };
    let mut options: Vec<(&'k str, usize, usize)> = Vec::new();
    let mut offset = 0;
    for word in rest.split_whitespace() {
        let start = offset + rest[offset..].find(word).unwrap_or(0);
        let end = start + word.len();
        offset = end;
        if let Some(key) = key_of(word) {
            options.push((key, start + key.len() + 1, end));
        } else if let Some(last) = options.last_mut() {
            last.2 = end;
        } else {
            return None;
        }
    }
    (!options.is_empty()).then(|| options.into_iter().map(|(key, start, end)| (key, rest[start..end].trim())).collect())
}

/// Usage of the console's reminder commands.
pub const REMIND_USAGE: &str = "Usage: /remind set HH:MM ZONE [silent] (e.g. /remind set 09:00 Europe/London, or /remind set time:09:00 timezone:Europe/London as on Discord), /remind show, /remind off, /remind snooze [30|60], /forget";

/// The reminder commands of a console session: the store and the clock.
pub struct ConsoleReminders<S> {
    /// The commands over the store.
    pub reminders: Reminders<S>,
    /// The clock the commands read.
    pub clock: Arc<dyn Clock>,
}

/// The answer to a reminder command line (`command` is the line without its `/`), for
/// [`CONSOLE_USER_ID`]; `None` reminders (no database) say so. Times are shown in the zone the
/// reminder follows.
pub async fn remind<S: ReminderStore>(reminders: Option<&ConsoleReminders<S>>, command: &str) -> String {
    let mut words: Vec<&str> = command.split_whitespace().collect();
    // `/remind set time:07:30 timezone:Europe/London silent:true` and `/remind snooze
    // minutes:60`, as on Discord, become the positional form.
    if let [name, subcommand, ..] = words[..] {
        let rest = command.trim_start()[name.len()..].trim_start()[subcommand.len()..].trim_start();
        if let Some(options) = discord_options(rest, &["time", "timezone", "silent", "minutes"]) {
            let value = |key: &str| options.iter().find(|(option, _)| *option == key).map(|(_, value)| *value);
            words = vec![name, subcommand];
            words.extend(value("time"));
            words.extend(value("timezone"));
            words.extend(value("minutes"));
            if value("silent").is_some_and(|silent| silent.eq_ignore_ascii_case("true")) {
                words.push("silent");
            }
        }
    }
    let lower: Vec<String> = words.iter().map(|word| word.to_lowercase()).collect();
    let lower: Vec<&str> = lower.iter().map(String::as_str).collect();
    if lower.first() == Some(&"hydration") {
        return "Channel reminders (/hydration) need a Discord server; in the console, use /remind set.\n".to_owned();
    }
    let Some(console) = reminders else {
        return "Reminders are not available: no reminder database.\n".to_owned();
    };
    let user = CONSOLE_USER_ID;
    let now = console.clock.now();
    let reminders = &console.reminders;
    let answer = match lower.as_slice() {
        ["forget"] => reminders.forget(user).await,
        ["remind", "set", _, _] => reminders.set_user(user, words[2], words[3], false, now).await,
        ["remind", "set", _, _, "silent"] => reminders.set_user(user, words[2], words[3], true, now).await,
        ["remind", "off"] => reminders.off_user(user).await,
        ["remind"] | ["remind", "show"] => reminders.show_user(user).await,
        ["remind", "snooze"] | ["remind", "snooze", "30"] => reminders.snooze_user(user, Snooze::HalfHour, now).await,
        ["remind", "snooze", "60"] => reminders.snooze_user(user, Snooze::Hour, now).await,
        _ => return format!("{REMIND_USAGE}\n"),
    };
    match answer {
        Ok(text) => format!("{}\n", plain(&text, now)),
        Err(err) => format!("Sorry, the reminder database failed: {err}\n"),
    }
}

/// A reminder text for the terminal: each time in the zone the reminder follows (the person's
/// own), with its abbreviation, and relative times from `now`.
pub fn plain(text: &RichText, now: Timestamp) -> String {
    let mut out = String::new();
    for piece in text.pieces() {
        match piece {
            Piece::Text(words) => out.push_str(words),
            Piece::Time { at, style: TimeStyle::Full, zone } => {
                let tz = jiff::tz::db().get(zone).unwrap_or(jiff::tz::TimeZone::UTC);
                let _ = write!(out, "{}", at.to_zoned_datetime(tz).strftime("%Y-%m-%d %H:%M %Z"));
            }
            Piece::Time { at, style: TimeStyle::Relative, .. } => {
                let minutes = (at.as_second() - now.as_second()).div_euclid(60);
                let (hours, minutes) = (minutes.abs() / 60, minutes.abs() % 60);
                let span = if hours > 0 { format!("{hours} h {minutes} min") } else { format!("{minutes} min") };
                let _ = if *at >= now { write!(out, "in {span}") } else { write!(out, "{span} ago") };
            }
            Piece::Channel(channel) => {
                let _ = write!(out, "channel {channel}");
            }
            Piece::Role(role) => {
                let _ = write!(out, "role {role}");
            }
        }
    }
    out
}

/// The console's delivery port: prints the console user's reminders to the shared output.
pub struct ConsoleDeliver<W> {
    output: Arc<Mutex<W>>,
    clock: Arc<dyn Clock>,
}

impl<W: Write + Send + 'static> ConsoleDeliver<W> {
    /// Prints to `output`, showing times relative to `clock`.
    pub fn new(output: Arc<Mutex<W>>, clock: Arc<dyn Clock>) -> ConsoleDeliver<W> {
        ConsoleDeliver { output, clock }
    }
}

impl<W: Write + Send + 'static> Deliver for ConsoleDeliver<W> {
    async fn deliver(&self, reminder: Outgoing) -> Result<(), DeliveryError> {
        if reminder.target != (Target::User { user_id: CONSOLE_USER_ID }) {
            return Err(DeliveryError::Transient { reason: "not the console's reminder".to_owned() });
        }
        let text = format!("\n[reminder] {}\n\n", plain(&reminder.text, self.clock.now()));
        let mut output = self.output.lock().unwrap_or_else(PoisonError::into_inner);
        output
            .write_all(text.as_bytes())
            .and_then(|()| output.flush())
            .map_err(|err| DeliveryError::Transient { reason: format!("cannot print: {}", err.kind()) })
    }
}

/// A writer shared between the session and the scheduler; each write holds the lock.
struct Shared<W>(Arc<Mutex<W>>);

impl<W: Write> Write for Shared<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner).write(buf)
    }

    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner).write_all(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner).flush()
    }
}

/// `crampbot chat` with reminders: runs the session over `input` on a blocking thread and the
/// scheduler (printing due reminders to `output`) until `/quit` or the end of input. Call
/// inside a tokio runtime.
///
/// # Errors
/// Only I/O errors on the streams.
pub async fn chat<S: ReminderStore, W: Write + Send + 'static>(
    bot: Bot,
    store: Arc<S>,
    clock: Arc<dyn Clock>,
    options: SchedulerOptions,
    input: impl BufRead + Send + 'static,
    output: Arc<Mutex<W>>,
    prompt: bool,
) -> io::Result<()> {
    let wakeup = Wakeup::new();
    let console = ConsoleReminders { reminders: Reminders::new(Arc::clone(&store), wakeup.clone()), clock };
    let others = match (store.count().await, store.find(TargetKey::User(CONSOLE_USER_ID)).await) {
        (Ok(count), Ok(mine)) => count.saturating_sub(usize::from(mine.is_some())),
        (Err(err), _) | (_, Err(err)) => return Err(io::Error::other(err.to_string())),
    };
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let slot = if others == 0 { Some(store.start_scheduler().await) } else { None };
    if let Some(Err(StoreError::SchedulerBusy { .. })) = &slot {
        let note = "Note: `crampbot run` is delivering from this reminder database; reminders are stored here but not printed in this session.\n\n";
        Shared(Arc::clone(&output)).write_all(note.as_bytes())?;
    } else if let Some(Err(err)) = &slot {
        return Err(io::Error::other(err.to_string()));
    }
    let scheduler = if others == 0 && slot.as_ref().is_some_and(Result::is_ok) {
        let deliver = ConsoleDeliver::new(Arc::clone(&output), Arc::clone(&console.clock));
        let tips = bot.catalogue().hydration_tips.clone();
        let scheduler =
            Scheduler::new(store, Arc::new(deliver), Arc::new(Arc::clone(&console.clock)), tips, options, wakeup);
        Some(tokio::spawn(scheduler.run(async {
            let _ = stopped.await;
        })))
    } else {
        let note = "Note: this reminder database also holds Discord reminders, which `crampbot run` delivers; reminders are stored here but not printed in this session.\n\n";
        Shared(Arc::clone(&output)).write_all(note.as_bytes())?;
        None
    };
    let handle = tokio::runtime::Handle::current();
    let session =
        tokio::task::spawn_blocking(move || run_with(&bot, Some(&console), input, Shared(output), prompt, &handle));
    let result = session.await.unwrap_or_else(|err| Err(io::Error::other(format!("the session panicked: {err}"))));
    let _ = stop.send(());
    if let Some(scheduler) = scheduler {
        match scheduler.await {
            // Another process runs this file's scheduler: the session itself worked.
            Ok(Ok(()) | Err(StoreError::SchedulerBusy { .. })) => {}
            Ok(Err(err)) => return Err(io::Error::other(err.to_string())),
            Err(err) => return Err(io::Error::other(format!("the scheduler panicked: {err}"))),
        }
    }
    result
}

/// Runs the chat loop over `input` and `output` until `/quit` or the end of input, without
/// reminders. `prompt` shows a banner and a `> ` prompt (for a terminal).
///
/// # Errors
/// Only I/O errors on the streams.
pub fn run(bot: &Bot, input: impl BufRead, output: impl Write, prompt: bool) -> io::Result<()> {
    let runtime = tokio::runtime::Builder::new_current_thread().build()?;
    run_with::<crate::store::SqliteStore>(bot, None, input, output, prompt, runtime.handle())
}

/// [`run`] with the reminder commands on `reminders`, run on `runtime`. Each answer is
/// written in one call, so a reminder printed meanwhile never splits it. Call on a thread that
/// may block (not an async worker).
///
/// # Errors
/// Only I/O errors on the streams.
pub fn run_with<S: ReminderStore>(
    bot: &Bot,
    reminders: Option<&ConsoleReminders<S>>,
    input: impl BufRead,
    mut output: impl Write,
    prompt: bool,
    runtime: &tokio::runtime::Handle,
) -> io::Result<()> {
    let mut conversation: Option<Conversation> = None;
    if prompt {
        writeln!(output, "crampbot chat: describe what happens, or try /help. /quit leaves.")?;
        write!(output, "> ")?;
        output.flush()?;
    }
    for line in input.lines() {
        let line = match line {
            Ok(line) => line,
            Err(err) if err.kind() == io::ErrorKind::InvalidData => {
                writeln!(output, "That line is not valid UTF-8.")?;
                continue;
            }
            Err(err) => return Err(err),
        };
        // Answers to the follow-up questions just asked ("y", "n ?", "2 yes") continue the
        // conversation; anything else starts a new one.
        if let Some(conversation) = conversation.as_mut()
            && let Some(given) = parse_followup_answers(&line, conversation.pending.len())
        {
            for (position, answer) in given {
                if let Some(index) = bot.catalogue().followup_index(&conversation.pending[position]) {
                    conversation.answers.insert(index, answer);
                }
            }
            let answered = bot.answer(&conversation.text, &conversation.answers);
            conversation.pending = answered.reply.followups.iter().map(|followup| followup.id.clone()).collect();
            output.write_all(format!("{}\n", printable(&render_text(&answered.reply))).as_bytes())?;
            if prompt {
                write!(output, "> ")?;
            }
            output.flush()?;
            continue;
        }
        match parse(&line) {
            Line::Quit => break,
            Line::Blank => {}
            Line::Request(Request::Ask(text)) => {
                let answered = bot.answer(text, &Answers::new());
                let pending: Vec<String> =
                    answered.reply.followups.iter().map(|followup| followup.id.clone()).collect();
                conversation = Some(Conversation { text: text.to_owned(), answers: Answers::new(), pending });
                output.write_all(format!("{}\n", printable(&render_text(&answered.reply))).as_bytes())?;
            }
            Line::Request(request) => {
                conversation = None;
                output.write_all(format!("{}\n", printable(&render_text(&bot.handle(request)))).as_bytes())?;
            }
            Line::Remind(command) => {
                let answer = runtime.block_on(remind(reminders, command));
                output.write_all(format!("{answer}\n").as_bytes())?;
            }
            Line::Invalid(message) => output.write_all(format!("{message}\n\n").as_bytes())?,
        }
        if prompt {
            write!(output, "> ")?;
        }
        output.flush()?;
    }
    if prompt {
        writeln!(output)?;
    }
    output.flush()
}

/// A description being narrowed down: its text, the answers so far, and the follow-up
/// questions just asked (by id, in the numbered order shown).
struct Conversation {
    text: String,
    answers: Answers,
    pending: Vec<String>,
}

/// Reads a line as answers to the `pending` numbered follow-up questions: one answer per
/// question in order (`y n ?`, `yes, no`), or a number and an answer (`2 y`, `3n`). Answers
/// are `y`/`yes`, `n`/`no` and `?`/`not sure`/`unsure`. Returns `(position, answer)` pairs,
/// or `None` when the line is not answers (then it is a new message).
pub fn parse_followup_answers(line: &str, pending: usize) -> Option<Vec<(usize, Answer)>> {
    if pending == 0 {
        return None;
    }
    let line = line.trim().to_ascii_lowercase().replace("not sure", "?");
    let words: Vec<&str> = line.split(|c: char| c.is_whitespace() || c == ',').filter(|w| !w.is_empty()).collect();
    if words.is_empty() {
        return None;
    }
    // "2 y" or "2y": one numbered answer.
    let numbered = match words.as_slice() {
        [number, answer] => number.parse::<usize>().ok().zip(Answer::parse(answer)),
        [one] => {
            let split = one.find(|c: char| !c.is_ascii_digit()).unwrap_or(one.len());
            let (number, answer) = one.split_at(split);
            number.parse::<usize>().ok().zip(Answer::parse(answer))
        }
        _ => None,
    };
    if let Some((number, answer)) = numbered {
        return (1..=pending).contains(&number).then(|| vec![(number - 1, answer)]);
    }
    if words.len() > pending {
        return None;
    }
    words.iter().enumerate().map(|(position, word)| Answer::parse(word).map(|answer| (position, answer))).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn followup_answers_parse_in_order_or_by_number() {
        assert_eq!(parse_followup_answers("y", 3), Some(vec![(0, Answer::Yes)]));
        assert_eq!(
            parse_followup_answers("y n ?", 3),
            Some(vec![(0, Answer::Yes), (1, Answer::No), (2, Answer::Unsure)])
        );
        assert_eq!(parse_followup_answers("no, not sure", 2), Some(vec![(0, Answer::No), (1, Answer::Unsure)]));
        assert_eq!(parse_followup_answers("2 yes", 3), Some(vec![(1, Answer::Yes)]));
        assert_eq!(parse_followup_answers("3n", 3), Some(vec![(2, Answer::No)]));
        assert_eq!(parse_followup_answers("4 y", 3), None);
        assert_eq!(parse_followup_answers("y y y y", 3), None);
        assert_eq!(parse_followup_answers("my calf twitches", 3), None);
        assert_eq!(parse_followup_answers("y", 0), None);
    }

    #[test]
    fn free_text_is_a_description() {
        assert_eq!(parse("my calf twitches"), Line::Request(Request::Ask("my calf twitches")));
        assert_eq!(parse("  /ask my calf  "), Line::Request(Request::Ask("my calf")));
    }

    #[test]
    fn commands_parse() {
        assert_eq!(parse("/cause dehydration"), Line::Request(Request::Cause("dehydration")));
        assert_eq!(parse("/cause  muscle fatigue"), Line::Request(Request::Cause("muscle fatigue")));
        assert_eq!(parse("/causes"), Line::Request(Request::Causes));
        assert_eq!(parse("/tips"), Line::Request(Request::Tips(TipsKind::Prevention)));
        assert_eq!(parse("/tips Treatment"), Line::Request(Request::Tips(TipsKind::Treatment)));
        assert_eq!(parse("/about"), Line::Request(Request::About));
        assert_eq!(parse("/HELP"), Line::Request(Request::Help));
        assert_eq!(parse("/quit"), Line::Quit);
        assert_eq!(parse("/exit"), Line::Quit);
        assert_eq!(parse("   "), Line::Blank);
        assert_eq!(parse("/remind set 09:00 Europe/Paris"), Line::Remind("remind set 09:00 Europe/Paris"));
    }

    #[test]
    fn times_show_in_the_reminders_own_zone() {
        let now: Timestamp = "2026-06-01T08:00:00Z".parse().unwrap();
        let at: Timestamp = "2026-06-01T09:30:00Z".parse().unwrap();
        let mut text = RichText::plain("Next: ");
        text.push_time(at, TimeStyle::Full, "Europe/London")
            .push_text(" (")
            .push_time(at, TimeStyle::Relative, "Europe/London")
            .push_text(").");
        assert_eq!(plain(&text, now), "Next: 2026-06-01 10:30 BST (in 1 h 30 min).");
        let mut tokyo = RichText::new();
        tokyo.push_time(at, TimeStyle::Full, "Asia/Tokyo");
        assert_eq!(plain(&tokyo, now), "2026-06-01 18:30 JST");
    }

    #[tokio::test]
    async fn reminder_lines_without_a_database_say_so() {
        let none: Option<&ConsoleReminders<crate::store::SqliteStore>> = None;
        assert!(remind(none, "hydration set").await.contains("Discord server"));
        assert!(remind(none, "remind set 09:00 UTC").await.contains("no reminder database"));
    }

    #[test]
    fn discords_option_form_reads_like_the_positional_one() {
        assert_eq!(parse("/cause name:nerve issues"), Line::Request(Request::Cause("nerve issues")));
        assert_eq!(parse("/tips kind:treatment"), Line::Request(Request::Tips(TipsKind::Treatment)));
        assert_eq!(
            parse("/ask description:my calf twitches private:true"),
            Line::Request(Request::Ask("my calf twitches"))
        );
        assert_eq!(parse("/cause sciatica"), Line::Request(Request::Cause("sciatica")));
        assert_eq!(
            discord_options("time:07:30 timezone:Europe/London silent:true", &["time", "timezone", "silent"]),
            Some(vec![("time", "07:30"), ("timezone", "Europe/London"), ("silent", "true")])
        );
        assert_eq!(discord_options("07:30 Europe/London", &["time", "timezone"]), None);
        assert_eq!(discord_options("note: my calf", &["name"]), None);
    }

    #[test]
    fn bad_commands_say_what_to_do() {
        for line in ["/cause", "/ask", "/tips later", "/frobnicate", "/helpchannel add"] {
            assert!(matches!(parse(line), Line::Invalid(_)), "{line}");
        }
        assert!(matches!(parse(&"a".repeat(MAX_TEXT_BYTES + 1)), Line::Invalid(_)));
    }
}
