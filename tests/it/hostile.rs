//! Hostile input: catalogues that loop or point at devices, batch lines that are huge or
//! strange, terminals that close early, zones that are not places, and words built to make the
//! analyzer slow. Every test asserts what happens, not how long it takes, except the per-byte
//! cost bound, which compares two texts measured side by side.

use std::path::{Path, PathBuf};
use std::process::Output;
use std::sync::Arc;

use crampbot::analyze::Analyzer;
use crampbot::knowledge::Catalogue;

fn crampbot(args: &[&str], stdin: &str) -> Output {
    let db = tempfile::tempdir().expect("temp dir");
    crate::support::run_binary(&db.path().join("reminders.sqlite3"), args, stdin)
}

fn stdout(output: &Output) -> String {
    String::from_utf8(output.stdout.clone()).expect("utf-8")
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// A copy of the shipped `knowledge/` in a temporary folder.
fn knowledge_copy() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("temp dir");
    let root = dir.path().join("knowledge");
    copy_dir(&Path::new(env!("CARGO_MANIFEST_DIR")).join("knowledge"), &root);
    (dir, root)
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for entry in std::fs::read_dir(from).expect("readable") {
        let entry = entry.expect("entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("type").is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).expect("copy");
        }
    }
}

fn edit(path: &Path, change: impl FnOnce(&str) -> String) {
    let text = std::fs::read_to_string(path).expect("read");
    std::fs::write(path, change(&text)).expect("write");
}

fn check(root: &Path) -> Output {
    crampbot(&["--knowledge", root.to_str().expect("utf-8 path"), "check"], "")
}

fn line_of(path: &Path, needle: &str) -> usize {
    let text = std::fs::read_to_string(path).expect("read");
    text[..text.find(needle).expect("present")].matches('\n').count() + 1
}

#[test]
fn a_spelling_cycle_is_reported_at_its_line_and_ask_does_not_crash() {
    let (_dir, root) = knowledge_copy();
    let lexicon = root.join("lexicon.toml");
    edit(&lexicon, |text| {
        text.replacen("[spelling]\n", "[spelling]\nzzaa = \"zzbb\"\nzzbb = \"zzaa\"\nqqqq = \"qqqq\"\n", 1)
    });
    let output = check(&root);
    assert_eq!(output.status.code(), Some(1));
    let problems = stderr(&output);
    let cycle_line = line_of(&lexicon, "zzaa = ");
    assert!(
        problems.contains(&format!("lexicon.toml:{cycle_line}: spelling variants go round in a circle")),
        "{problems}"
    );
    let self_line = line_of(&lexicon, "qqqq = ");
    assert!(
        problems.contains(&format!("lexicon.toml:{self_line}: spelling variant \"qqqq\" maps to itself")),
        "{problems}"
    );

    let output = crampbot(&["--knowledge", root.to_str().expect("utf-8"), "ask", "zzaa qqqq calf cramps"], "");
    assert_eq!(output.status.code(), Some(2), "refused with a message, not aborted: {}", stderr(&output));
    assert!(stderr(&output).contains("circle"));
}

#[cfg(unix)]
#[test]
fn fifos_devices_and_symlink_loops_are_refused_without_being_opened() {
    use std::os::unix::fs::symlink;
    let (_dir, root) = knowledge_copy();
    let causes = root.join("causes");
    let fifo = std::process::Command::new("mkfifo").arg(causes.join("pipe.toml")).status().expect("mkfifo runs");
    assert!(fifo.success());
    symlink("/dev/zero", causes.join("zero.toml")).expect("symlink");
    symlink("loop_b.toml", causes.join("loop_a.toml")).expect("symlink");
    symlink("loop_a.toml", causes.join("loop_b.toml")).expect("symlink");
    symlink(".", causes.join("here")).expect("symlink");
    symlink("..", causes.join("up")).expect("symlink");
    let output = check(&root);
    assert_eq!(output.status.code(), Some(1));
    let problems = stderr(&output);
    assert!(problems.contains("causes/pipe.toml: not a regular file"), "{problems}");
    assert!(problems.contains("causes/zero.toml: symlink leads outside the catalogue folder"), "{problems}");
    assert_eq!(problems.matches("causes/loop_a.toml: symlink loops").count(), 1, "{problems}");
    assert_eq!(problems.matches("causes/loop_b.toml: symlink loops").count(), 1, "{problems}");
    // The folder symlinks lead back inside: walked once, so nothing is reported twice.
    assert_eq!(problems.matches("pipe.toml").count(), 1, "{problems}");
    assert!(problems.ends_with("4 problem(s)\n"), "{problems}");
}

#[test]
fn an_oversized_file_is_refused_unread() {
    let (_dir, root) = knowledge_copy();
    std::fs::write(root.join("causes/huge.toml"), "# x\n".repeat(1_100_000)).expect("write");
    let problems = stderr(&check(&root));
    assert!(problems.contains("causes/huge.toml: file is larger than 4 MB; not read"), "{problems}");
}

#[test]
fn a_file_that_is_not_utf8_is_reported_at_its_line_and_the_check_goes_on() {
    let (_dir, root) = knowledge_copy();
    std::fs::write(root.join("causes/latin1.toml"), b"# fine\n# fine\nid = \"caf\xe9\"\n").expect("write");
    edit(&root.join("sources.toml"), |text| text.replacen("https://", "ftp://", 1));
    let problems = stderr(&check(&root));
    assert!(problems.contains("causes/latin1.toml:3: not UTF-8 text: byte 10 of this line (0xe9)"), "{problems}");
    assert!(problems.contains("sources.toml:"), "later files are still checked: {problems}");
}

#[test]
fn an_upper_case_extension_is_read_or_reported() {
    let (_dir, root) = knowledge_copy();
    std::fs::write(root.join("EXTRA.TOML"), "x = 1\n").expect("write");
    let problems = stderr(&check(&root));
    assert!(problems.contains("EXTRA.TOML: unexpected file"), "{problems}");
}

#[test]
fn a_number_in_the_vocabulary_gets_a_plain_message() {
    let (_dir, root) = knowledge_copy();
    let file = root.join("causes/nerve_issues.toml");
    edit(&file, |text| text.replacen("strong = [", "strong = [42, ", 1));
    let problems = stderr(&check(&root));
    let line = line_of(&file, "strong = [");
    assert!(
        problems.contains(&format!("causes/nerve_issues.toml:{line}: invalid type: integer `42`, expected a term")),
        "{problems}"
    );
    assert!(!problems.contains("untagged"), "{problems}");
    assert!(!problems.contains("missing cause"), "no dependent problem: {problems}");
}

#[test]
fn a_term_of_combining_marks_alone_can_never_match_and_is_reported() {
    let (_dir, root) = knowledge_copy();
    edit(&root.join("causes/nerve_issues.toml"), |text| {
        text.replacen("strong = [", "strong = [\"\u{301}\u{302}\", ", 1)
    });
    let problems = stderr(&check(&root));
    assert!(problems.contains("has no letters (combining marks alone are folded away)"), "{problems}");
}

#[test]
fn a_broken_sources_file_is_one_problem_not_one_per_citation() {
    let (_dir, root) = knowledge_copy();
    edit(&root.join("sources.toml"), |text| format!("[broken\n{text}"));
    let output = check(&root);
    let problems = stderr(&output);
    assert!(problems.contains("sources.toml:1:"), "{problems}");
    assert!(!problems.contains("unknown source"), "{problems}");
    assert!(problems.ends_with("1 problem(s)\n"), "{problems}");
}

#[test]
fn batch_accepts_a_bom_and_echoes_ids_exactly() {
    let input = "\u{feff}{\"id\": 123456789012345678901234567890, \"text\": \"calf cramps\"}\n\
                 {\"id\": {\"run\": [1, 2.50, null]}, \"text\": \"twitching calves\"}\n\
                 {\"id\": -0.000000000000000000001, \"text\": 7}\n";
    let output = crampbot(&["ask", "--format", "json", "--batch"], input);
    let out = stdout(&output);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 3, "{out}");
    assert!(lines[0].starts_with("{\"id\":123456789012345678901234567890,"), "{}", lines[0]);
    assert!(lines[1].starts_with("{\"id\":{\"run\": [1, 2.50, null]},"), "{}", lines[1]);
    assert!(lines[2].starts_with("{\"id\":-0.000000000000000000001,\"error\":"), "{}", lines[2]);
}

#[test]
fn a_huge_batch_line_is_skipped_with_its_id_and_the_batch_goes_on() {
    let input = format!(
        "{{\"id\": \"huge\", \"text\": \"{}\"}}\n{{\"id\": \"next\", \"text\": \"calf cramps\"}}\n",
        "a".repeat(2_000_000)
    );
    let output = crampbot(&["ask", "--format", "json", "--batch"], &input);
    let lines: Vec<serde_json::Value> =
        stdout(&output).lines().map(|line| serde_json::from_str(line).expect("JSON")).collect();
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0]["id"], "huge");
    assert!(lines[0]["error"].as_str().expect("error").contains("longer than"));
    assert_eq!(lines[1]["id"], "next");
}

#[test]
fn a_closed_stdout_ends_the_batch_quietly() {
    use std::io::{BufRead as _, Write as _};
    let db = tempfile::tempdir().expect("temp dir");
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_crampbot"))
        .args(["ask", "--format", "json", "--batch"])
        .env("CRAMPBOT_DATABASE", db.path().join("reminders.sqlite3"))
        .env_remove("CRAMPBOT_KNOWLEDGE")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("runs");
    let mut stdin = child.stdin.take().expect("stdin");
    let writer = std::thread::spawn(move || {
        for n in 0..5_000 {
            if writeln!(stdin, "{{\"id\": {n}, \"text\": \"my calves twitch when I walk\"}}").is_err() {
                break;
            }
        }
    });
    let mut first = String::new();
    std::io::BufReader::new(child.stdout.take().expect("stdout")).read_line(&mut first).expect("one line");
    // The reader is dropped here: the pipe closes, like `| head -1`.
    let output = child.wait_with_output().expect("exits");
    writer.join().expect("writer");
    assert!(first.starts_with("{\"id\":0,"), "{first}");
    assert_eq!(output.status.code(), Some(0));
    assert_eq!(stderr(&output), "", "no 'Broken pipe'");
}

#[test]
fn control_characters_never_reach_the_terminal() {
    let output = crampbot(&["ask", "my calf\u{1b}[31m twitches \u{1b}[2Jwhen dehidrated \u{7}and I walk"], "");
    assert!(output.status.success());
    let text = stdout(&output);
    assert!(!text.contains('\u{1b}') && !text.contains('\u{7}'), "{text:?}");
    let output =
        crampbot(&["ask", "--batch"], "{\"id\": \"x\", \"text\": \"my calf \\u001b[31m twitches when dehidrated\"}\n");
    assert!(!stdout(&output).contains('\u{1b}'), "{:?}", stdout(&output));
    assert_eq!(crampbot::cli::printable("a\u{1b}b\nc\td\u{9b}"), "ab\nc\td");
}

#[test]
fn non_geographic_zones_are_refused_and_long_zones_cut() {
    use crampbot::reminders::schedule::parse_zone;
    for zone in ["Factory", "EST5EDT", "Etc/GMT+3", "factory"] {
        assert!(parse_zone(zone).is_err(), "{zone}");
    }
    for zone in ["Europe/London", "UTC", "Etc/UTC", "london"] {
        assert!(parse_zone(zone).is_ok(), "{zone}");
    }
    let long = "Europe/London".repeat(700);
    let err = parse_zone(&long).expect_err("not a zone");
    assert!(err.to_string().chars().count() < 300, "the echo is cut: {err}");
    assert!(crampbot::reminders::zones::suggest(&"x".repeat(9_000), 25).is_empty());
    assert!(!crampbot::reminders::zones::suggest("fact", 25).contains(&"Factory"));
}

#[test]
fn a_long_cause_query_is_cut_before_any_search() {
    let bot = crampbot::bot::Bot::new(Catalogue::embedded().expect("loads"));
    let long = "sciatica ".repeat(1_000);
    assert_eq!(bot.autocomplete_cause(&long).first().map(|choice| choice.value.as_str()), Some("nerve_issues"));
    let reply = bot.cause_card(&"zq".repeat(5_000));
    assert_eq!(reply.kind, crampbot::reply::ReplyKind::NotFound);
}

/// Ordinary text of `len` bytes, in the style of the bot's users.
fn ordinary(len: usize) -> String {
    let sentences = [
        "my calves twitch on long walks and I just started water pills. ",
        "no swelling or redness, but the hamstring cramps after about a mile. ",
        "so dehidrated after the weekend, calfs been twitching all day at work. ",
        "doc thinks its sciatica, pins and needles down the back of my leg. ",
    ];
    let mut text = String::new();
    for sentence in sentences.iter().cycle() {
        if text.len() + sentence.len() > len {
            break;
        }
        text.push_str(sentence);
    }
    text
}

/// The fastest of several runs, in nanoseconds per byte.
fn cost_per_byte(analyzer: &Analyzer, text: &str) -> f64 {
    let mut best = std::time::Duration::MAX;
    for _ in 0..5 {
        let started = std::time::Instant::now();
        std::hint::black_box(analyzer.analyze(std::hint::black_box(text)));
        best = best.min(started.elapsed());
    }
    best.as_nanos() as f64 / text.len().max(1) as f64
}

fn analyzer() -> &'static Analyzer {
    static ANALYZER: std::sync::OnceLock<Analyzer> = std::sync::OnceLock::new();
    ANALYZER.get_or_init(|| Analyzer::new(Arc::new(Catalogue::embedded().expect("loads"))))
}

proptest::proptest! {
    #![proptest_config(proptest::test_runner::Config { cases: 12, ..proptest::test_runner::Config::default() })]

    /// Random long words cost no more per byte than ten times ordinary text measured in the
    /// same run: the typo search skips words too long to be a typo of any catalogue word.
    #[test]
    fn analysis_cost_per_byte_stays_bounded_on_long_words(
        words in proptest::collection::vec("[a-z]{6,4000}", 1..40),
        separator in proptest::sample::select(vec![" ", ", ", ". ", "-"]),
    ) {
        let mut text = words.join(separator);
        text.truncate(10_000);
        let analyzer = analyzer();
        let baseline = cost_per_byte(analyzer, &ordinary(10_000));
        let hostile = cost_per_byte(analyzer, &text);
        proptest::prop_assert!(
            hostile <= 10.0 * baseline.max(1.0),
            "{hostile:.1} ns/byte against {baseline:.1} ns/byte for ordinary text"
        );
    }
}
