//! Shared test helpers: a bot over the shipped catalogue (or a tiny inline one while the shipped
//! one is not there yet), and a harness that runs the real Discord adapter against the fake.

#![allow(dead_code, clippy::missing_panics_doc)]

use std::fmt::Write as _;
use std::sync::OnceLock;
use std::time::Duration;

use crampbot::bot::Bot;
use crampbot::config::{Config, RawConfig};
use crampbot::discord::outbox::SendRetry;
use crampbot::discord::{RunError, RunOptions};
use crampbot::help_channels::store::HelpChannelStore;
use crampbot::knowledge::{CAUSE_IDS, Catalogue};
use crampbot::reminders::ReminderStore;
use tokio::sync::oneshot;

use crate::fake_discord::{FakeDiscord, TOKEN};

/// The bot over the shipped catalogue, built once per test binary.
pub fn bot() -> &'static Bot {
    static BOT: OnceLock<Bot> = OnceLock::new();
    BOT.get_or_init(|| Bot::new(Catalogue::embedded().expect("the shipped catalogue loads")))
}

/// The bot the tests talk to: the built-in catalogue when it loads, else [`tiny_catalogue`].
pub fn test_bot() -> Bot {
    Bot::new(Catalogue::embedded().unwrap_or_else(|_| tiny_catalogue()))
}

/// The tiny catalogue's files, for tests that need a folder (`--knowledge`).
pub fn tiny_catalogue_files() -> Vec<(String, String)> {
    let source = r#"[{ text = "Drink water through the day.", source = "nhs" }]"#;
    let mut files = vec![
        (
            "sources.toml".to_owned(),
            "[sources.nhs]\npublisher = \"NHS\"\ntitle = \"Leg cramps\"\nurl = \"https://www.nhs.uk/conditions/leg-cramps/\"\n"
                .to_owned(),
        ),
        (
            "guidance.toml".to_owned(),
            format!(
                "consult = \"This is not a diagnosis. If it keeps happening or worries you, see a doctor or physiotherapist.\"\n\
                 emergency = \"If this is an emergency, call your local emergency number now.\"\n\
                 overview = \"Most calf twitches and cramps are harmless.\"\n\
                 off_topic = \"I can only help with calf twitching and leg cramps.\"\n\
                 see_a_professional = [\"Cramps that keep coming back.\"]\n\
                 prevention = {source}\ntreatment = [{{ text = \"Stretch the calf gently.\", source = \"nhs\" }}]\n"
            ),
        ),
        ("hydration.toml".to_owned(), format!("tips = {source}\n")),
        (
            "lexicon.toml".to_owned(),
            "[topic]\nbody = [\"calf\", \"leg\", \"hamstring\"]\nsymptom = [\"twitch\", \"cramp\"]\nactivity = [\"walk\"]\n\
             [negation]\npre = [\"no\"]\npost = [\"ruled out\"]\npseudo = [\"no change\"]\nterminators = [\"but\"]\n"
                .to_owned(),
        ),
        ("common_words.txt".to_owned(), "the\nmy\nand\n".to_owned()),
    ];
    let mut red_flags = String::from("[concepts]\n");
    let flag_ids = crampbot::knowledge::RED_FLAG_IDS;
    for (n, _) in flag_ids.iter().enumerate() {
        let _ = writeln!(red_flags, "concept{n} = [\"warning sign {n}\"]");
    }
    for (n, id) in flag_ids.iter().enumerate() {
        let _ = write!(
            red_flags,
            "\n[[red_flag]]\nid = \"{id}\"\nurgency = \"{}\"\ntitle = \"Warning {n}\"\nmessage = \"These signs can be serious.\"\n\
             action = \"See a doctor today, or call your emergency number.\"\nsources = [\"nhs\"]\npatterns = [[\"concept{n}\"]]\n",
            ["emergency", "urgent", "soon"][n % 3]
        );
    }
    files.push(("red_flags.toml".to_owned(), red_flags));
    let names = [
        ("Dehydration and electrolytes", "dehydration", "dehydrated"),
        ("Muscle fatigue", "overuse", "tired muscles"),
        ("Nerve issues", "sciatica", "pinched nerve"),
        ("Circulatory problems", "poor circulation", "claudication"),
        ("Medication side effects", "statins", "water pills"),
        ("Muscle strain or injury", "pulled muscle", "strained"),
        ("Neurological conditions", "neuropathy", "numbness spreading"),
        ("Footwear and biomechanics", "shoes", "flat feet"),
        ("Nutritional deficiencies", "magnesium", "low potassium"),
    ];
    for (id, (name, synonym, term)) in CAUSE_IDS.iter().zip(names) {
        files.push((
            format!("causes/{id}.toml"),
            format!(
                "id = \"{id}\"\nname = \"{name}\"\nsynonyms = [\"{synonym}\"]\nsummary = \"{name} can cause cramps. More text.\"\n\
                 explanation = \"A longer explanation of {name}.\"\nsee_a_professional = \"If it keeps happening.\"\n\
                 sources = [\"nhs\"]\ntips = [{{ text = \"A tip about {name}.\", source = \"nhs\" }}]\n\
                 [vocabulary]\nstrong = [\"{term}\"]\n"
            ),
        ));
    }
    files
}

/// A small valid catalogue built from strings, for tests that run before the shipped one exists.
pub fn tiny_catalogue() -> Catalogue {
    Catalogue::from_files(tiny_catalogue_files()).expect("the tiny catalogue is valid")
}

/// Retries that are quick enough for tests but keep their shape.
pub fn fast_retry() -> SendRetry {
    SendRetry {
        max_attempts: 4,
        base_delay: Duration::from_millis(20),
        max_delay: Duration::from_millis(500),
        max_total: Duration::from_secs(3),
        request_timeout: Duration::from_secs(5),
    }
}

/// Options for tests: fast retries, no restarts.
pub fn test_options() -> RunOptions<crampbot::store::SqliteStore> {
    RunOptions { retry: fast_retry(), max_restarts: 0, ..RunOptions::default() }
}

/// The config that points the adapter at the fake, built as production builds it.
pub fn config_for(fake: &FakeDiscord, guild: Option<u64>) -> Config {
    config_with(fake, guild, &[])
}

/// [`config_for`] with more environment variables, such as `CRAMPBOT_MESSAGE_CONTENT`.
pub fn config_with(fake: &FakeDiscord, guild: Option<u64>, env: &[(&str, &str)]) -> Config {
    let base = fake.base.clone();
    let guild = guild.map(|g| g.to_string());
    let env: Vec<(String, String)> = env.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
    Config::from_raw(RawConfig::default(), move |name| match name {
        "DISCORD_TOKEN" => Some(TOKEN.to_owned()),
        "DISCORD_API_BASE" => Some(base.clone()),
        "CRAMPBOT_GUILD_ID" => guild.clone(),
        _ => env.iter().find(|(key, _)| key == name).map(|(_, value)| value.clone()),
    })
    .expect("valid test config")
}

/// The real adapter running against a fake Discord.
pub struct Harness {
    /// The fake.
    pub fake: FakeDiscord,
    shutdown: Option<oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<Result<(), RunError>>,
}

impl Harness {
    /// Starts the fake and the adapter with [`test_options`], and waits for READY's command
    /// registration.
    pub async fn start() -> Harness {
        Harness::start_with(test_options(), None).await
    }

    /// Like [`Harness::start`] with options and an optional guild for command registration.
    pub async fn start_with<S: ReminderStore + HelpChannelStore>(
        options: RunOptions<S>,
        guild: Option<u64>,
    ) -> Harness {
        Harness::start_on(FakeDiscord::start().await, options, guild).await
    }

    /// Like [`Harness::start_with`] on a fake the test set up.
    pub async fn start_on<S: ReminderStore + HelpChannelStore>(
        fake: FakeDiscord,
        options: RunOptions<S>,
        guild: Option<u64>,
    ) -> Harness {
        let config = config_for(&fake, guild);
        Harness::start_configured(fake, options, config).await
    }

    /// Starts the adapter on `fake` with a config the test built (see [`config_with`]).
    pub async fn start_configured<S: ReminderStore + HelpChannelStore>(
        fake: FakeDiscord,
        options: RunOptions<S>,
        config: Config,
    ) -> Harness {
        let (shutdown, signal) = oneshot::channel::<()>();
        let bot = test_bot();
        let task = tokio::spawn(async move {
            crampbot::discord::run_with(&config.discord, bot, options, async {
                let _ = signal.await;
            })
            .await
        });
        fake.wait_calls("PUT", "/commands", 1).await;
        Harness { fake, shutdown: Some(shutdown), task }
    }

    /// Asks the adapter to shut down and returns how it ended.
    pub async fn stop(mut self) -> Result<(), RunError> {
        self.shut_down().await
    }

    /// Like [`Harness::stop`], keeping the fake for inspection.
    pub async fn shut_down(&mut self) -> Result<(), RunError> {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        tokio::time::timeout(Duration::from_secs(10), &mut self.task)
            .await
            .expect("the adapter stops")
            .expect("no panic")
    }

    /// Stops the adapter and hands back the fake, for a second instance on it.
    pub async fn stop_keeping_fake(mut self) -> (Result<(), RunError>, FakeDiscord) {
        let result = self.shut_down().await;
        (result, self.fake)
    }

    /// Whether the adapter is still running.
    pub fn is_running(&self) -> bool {
        !self.task.is_finished()
    }
}

/// `--knowledge DIR` arguments when the built-in catalogue is not there yet, with the folder
/// (kept alive by the caller).
pub fn knowledge_args() -> (Vec<String>, Option<tempfile::TempDir>) {
    if Catalogue::embedded().is_ok() {
        return (Vec::new(), None);
    }
    let dir = tempfile::tempdir().unwrap();
    for (name, text) in tiny_catalogue_files() {
        let path = dir.path().join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
    (vec!["--knowledge".to_owned(), dir.path().display().to_string()], Some(dir))
}

/// Runs the `crampbot` binary as a user would: piped stdin, no token in the environment, and its
/// reminder database at `db` (so no test writes into the working directory).
pub fn run_binary<S: AsRef<std::ffi::OsStr>>(db: &std::path::Path, args: &[S], stdin: &str) -> std::process::Output {
    use std::io::Write as _;
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_crampbot"))
        .args(args)
        .env("CRAMPBOT_DATABASE", db)
        .env_remove("DISCORD_TOKEN")
        .env_remove("CRAMPBOT_KNOWLEDGE")
        .env_remove("RUST_LOG")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("the binary runs");
    child.stdin.take().expect("stdin").write_all(stdin.as_bytes()).expect("write stdin");
    child.wait_with_output().expect("the binary exits")
}
