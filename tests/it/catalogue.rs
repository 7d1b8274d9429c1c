//! The shipped catalogue loads; broken catalogues are rejected with `file:line` problems.

use crampbot::knowledge::{CAUSE_IDS, Catalogue, LoadError, Problem, RED_FLAG_IDS};

/// The shipped catalogue's files, as the loader sees them.
fn shipped_files() -> Vec<(String, String)> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("knowledge");
    let mut files = Vec::new();
    let mut dirs = vec![root.clone()];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(dir).expect("knowledge/ is readable") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                dirs.push(path);
            } else {
                let name = path.strip_prefix(&root).expect("inside").to_string_lossy().replace('\\', "/");
                files.push((name, std::fs::read_to_string(&path).expect("utf-8 file")));
            }
        }
    }
    files
}

/// Loads the shipped files after `edit` changed the one named `name`; returns the problems.
fn problems_after(name: &str, edit: impl FnOnce(&str) -> String) -> Vec<Problem> {
    let mut files = shipped_files();
    let file = files.iter_mut().find(|(n, _)| n == name).expect("file exists");
    file.1 = edit(&file.1);
    match Catalogue::from_files(files) {
        Ok(_) => panic!("the broken catalogue loaded"),
        Err(LoadError::Invalid(problems)) => problems,
        Err(other) => panic!("unexpected error {other}"),
    }
}

/// The 1-based line of the first line containing `needle`.
fn line_of(text: &str, needle: &str) -> usize {
    text.lines().position(|line| line.contains(needle)).expect("needle present") + 1
}

#[test]
fn the_shipped_catalogue_loads_with_every_fixed_id() {
    let catalogue = Catalogue::embedded().expect("loads");
    let causes: Vec<&str> = catalogue.causes.iter().map(|c| c.id.as_str()).collect();
    assert_eq!(causes, CAUSE_IDS);
    let flags: Vec<&str> = catalogue.red_flags.iter().map(|f| f.id.as_str()).collect();
    assert_eq!(flags, RED_FLAG_IDS);
    for cause in &catalogue.causes {
        assert!(!cause.tips.is_empty() && cause.tips.iter().all(|tip| tip.source.url.starts_with("http")));
    }
    for flag in &catalogue.red_flags {
        assert!(!flag.sources.is_empty(), "{} names a source", flag.id);
    }
    assert!(!catalogue.guidance.consult.is_empty());
    assert!(catalogue.hydration_tips.len() >= 7, "a week of different reminders");
}

#[test]
fn the_folder_and_the_embedded_copy_are_the_same_catalogue() {
    let from_dir =
        Catalogue::from_dir(&std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("knowledge")).expect("loads");
    let embedded = Catalogue::embedded().expect("loads");
    assert_eq!(format!("{from_dir:?}"), format!("{embedded:?}"));
}

#[test]
fn an_unknown_source_is_reported_at_its_line() {
    let name = "causes/muscle_fatigue.toml";
    let original = shipped_files().into_iter().find(|(n, _)| n == name).expect("exists").1;
    let line = line_of(&original, "source = \"");
    let problems = problems_after(name, |text| {
        let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
        let at = line - 1;
        let start = lines[at].find("source = \"").expect("on the line") + "source = \"".len();
        lines[at].insert_str(start, "no_such_");
        lines.join("\n")
    });
    assert!(
        problems.iter().any(|p| p.file == name && p.line == Some(line) && p.message.contains("unknown source")),
        "{problems:?}"
    );
}

#[test]
fn invalid_toml_is_reported_at_its_line() {
    let problems = problems_after("guidance.toml", |text| format!("{text}\nthis is = = not toml\n"));
    let problem = &problems[0];
    assert_eq!(problem.file, "guidance.toml");
    let expected =
        shipped_files().into_iter().find(|(n, _)| n == "guidance.toml").expect("exists").1.lines().count() + 2;
    assert_eq!(problem.line, Some(expected), "{problem}");
    assert!(problem.to_string().starts_with(&format!("guidance.toml:{expected}: ")));
}

#[test]
fn an_unknown_key_is_rejected() {
    let problems = problems_after("hydration.toml", |text| format!("colour = \"blue\"\n{text}"));
    assert!(problems.iter().any(|p| p.line == Some(1) && p.message.contains("colour")), "{problems:?}");
}

#[test]
fn a_missing_cause_and_an_unknown_id_are_both_reported() {
    let problems =
        problems_after("causes/nerve_issues.toml", |text| text.replacen("id = \"nerve_issues\"", "id = \"nerves\"", 1));
    assert!(
        problems.iter().any(|p| p.message.contains("unknown cause id `nerves`") && p.line == Some(1)),
        "{problems:?}"
    );
    assert!(problems.iter().any(|p| p.message.contains("missing cause `nerve_issues`")), "{problems:?}");
}

#[test]
fn a_term_claimed_by_two_causes_must_be_marked_shared() {
    let problems =
        problems_after("causes/muscle_fatigue.toml", |text| text.replacen("strong = [", "strong = [\"sciatica\", ", 1));
    let files: Vec<&str> =
        problems.iter().filter(|p| p.message.contains("\"sciatica\" is claimed")).map(|p| p.file.as_str()).collect();
    assert!(
        files.contains(&"causes/muscle_fatigue.toml") && files.contains(&"causes/nerve_issues.toml"),
        "{problems:?}"
    );
}

#[test]
fn a_pattern_with_an_unknown_concept_cannot_match_and_is_rejected() {
    let problems = problems_after("red_flags.toml", |text| {
        text.replacen("[\"swelling\", \"warmth\"]", "[\"swelling\", \"warmness\"]", 1)
    });
    assert!(
        problems.iter().any(|p| p.message.contains("unknown concept `warmness`") && p.line.is_some()),
        "{problems:?}"
    );
}

#[test]
fn a_bad_urgency_and_an_empty_message_are_reported() {
    let problems =
        problems_after("red_flags.toml", |text| text.replacen("urgency = \"urgent\"", "urgency = \"whenever\"", 1));
    assert!(problems.iter().any(|p| p.message.contains("\"whenever\" is not one of")), "{problems:?}");
    let problems = problems_after("guidance.toml", |text| {
        let start = text.find("consult = \"").expect("consult line");
        let end = start + text[start..].find('\n').expect("line end");
        format!("{}consult = \"  \"{}", &text[..start], &text[end..])
    });
    assert!(problems.iter().any(|p| p.message.contains("`consult` is empty") && p.line.is_some()), "{problems:?}");
}

#[test]
fn every_problem_is_listed_not_just_the_first() {
    let mut files = shipped_files();
    files.retain(|(name, _)| name != "hydration.toml" && name != "lexicon.toml");
    let Err(LoadError::Invalid(problems)) = Catalogue::from_files(files) else { panic!("loaded") };
    let missing: Vec<&str> = problems.iter().filter(|p| p.message == "missing file").map(|p| p.file.as_str()).collect();
    assert_eq!(missing, ["hydration.toml", "lexicon.toml"]);
}

#[test]
fn the_example_config_parses_and_validates() {
    let text = include_str!("../../config.example.toml");
    let raw = crampbot::config::RawConfig::parse(text, "config.example.toml").expect("parses");
    let config = crampbot::config::Config::from_raw(raw, |_| None).expect("valid");
    assert!(config.discord.token.is_none());
    // Uncommenting every example value must still give a valid config.
    let uncommented: String = text
        .lines()
        .map(|line| match line.strip_prefix("# ") {
            Some(rest) if rest.split_once(" = ").is_some_and(|(key, _)| !key.contains(' ')) => rest,
            _ => line,
        })
        .collect::<Vec<_>>()
        .join("\n");
    let raw = crampbot::config::RawConfig::parse(&uncommented, "uncommented").expect("parses");
    let config = crampbot::config::Config::from_raw(raw, |_| None).expect("valid");
    assert_eq!(config.discord.guild_id, Some(123_456_789_012_345_678));
    assert_eq!(config.reminders.grace, std::time::Duration::from_secs(120 * 60));
}

#[test]
fn bad_config_values_name_their_key() {
    use crampbot::config::{Config, RawConfig};
    let cases = [
        ("[reminders]\ngrace_minutes = 5000\n", "reminders.grace_minutes"),
        ("[discord]\napi_base = \"ftp://example\"\n", "discord.api_base"),
        ("[discord]\nguild_id = 0\n", "discord.guild_id"),
    ];
    for (text, key) in cases {
        let raw = RawConfig::parse(text, "test.toml").expect("parses");
        let err = Config::from_raw(raw, |_| None).expect_err("rejected");
        assert!(err.to_string().contains(key), "{err}");
    }
    let err = RawConfig::parse("[discord]\ntokn = \"x\"\n", "test.toml").expect_err("unknown key");
    assert!(err.to_string().contains("line 2") && err.to_string().contains("tokn"), "{err}");
    let err = Config::from_raw(RawConfig::default(), |name| (name == "CRAMPBOT_GRACE_MINUTES").then(|| "soon".into()))
        .expect_err("bad env");
    assert!(err.to_string().contains("CRAMPBOT_GRACE_MINUTES"), "{err}");
    let err =
        Config::from_raw(RawConfig::default(), |name| (name == "CRAMPBOT_MESSAGE_CONTENT").then(|| "maybe".into()))
            .expect_err("bad env");
    assert!(err.to_string().contains("CRAMPBOT_MESSAGE_CONTENT"), "{err}");
    let err = RawConfig::parse("[discord]\nmessage_content = \"yes\"\n", "test.toml").expect_err("not a boolean");
    assert!(err.to_string().contains("line 2"), "{err}");
}

#[test]
fn message_content_is_off_unless_asked_for() {
    use crampbot::config::{Config, RawConfig};
    let off = Config::from_raw(RawConfig::default(), |_| None).unwrap();
    assert!(!off.discord.message_content);
    let on = Config::from_raw(RawConfig::parse("[discord]\nmessage_content = true\n", "t").unwrap(), |_| None).unwrap();
    assert!(on.discord.message_content);
    for (value, expected) in [("true", true), ("1", true), ("false", false), ("0", false)] {
        let config =
            Config::from_raw(RawConfig::default(), |name| (name == "CRAMPBOT_MESSAGE_CONTENT").then(|| value.into()))
                .unwrap();
        assert_eq!(config.discord.message_content, expected, "{value}");
    }
    let env_wins = Config::from_raw(RawConfig::parse("[discord]\nmessage_content = true\n", "t").unwrap(), |name| {
        (name == "CRAMPBOT_MESSAGE_CONTENT").then(|| "false".into())
    })
    .unwrap();
    assert!(!env_wins.discord.message_content, "the environment overrides the file");
}

#[test]
fn the_token_never_shows_in_debug_output() {
    let config = crampbot::config::Config::from_raw(crampbot::config::RawConfig::default(), |name| {
        (name == "DISCORD_TOKEN").then(|| "super-secret-token".into())
    })
    .expect("valid");
    assert!(!format!("{config:?}").contains("super-secret-token"));
}

#[test]
fn a_bad_log_filter_is_a_start_up_error_naming_rust_log() {
    use crampbot::config::{Config, RawConfig};
    let err = Config::from_raw(RawConfig::default(), |name| (name == "RUST_LOG").then(|| "crampbot=loud".into()))
        .expect_err("rejected");
    assert!(err.to_string().contains("RUST_LOG"), "{err}");
}

#[test]
fn an_urgent_or_emergency_red_flag_must_say_where_to_get_help() {
    let problems = problems_after("red_flags.toml", |text| {
        // The first red flag in the file is an urgent one (DVT): make its action say nothing useful.
        let start = text.find("action = \"").expect("an action");
        let end = start + text[start..].find('\n').expect("end of line");
        format!("{}action = \"Rest and see how it goes.\"{}", &text[..start], &text[end..])
    });
    assert!(
        problems.iter().any(|p| p.message.contains("must name a way to get help") && p.file == "red_flags.toml"),
        "{problems:?}"
    );
}

#[test]
fn a_notice_with_an_unknown_concept_or_tag_is_refused() {
    let problems = problems_after("notices.toml", |text| {
        text.replacen("[[\"fluid_restricted\"]]", "[[\"fluid_restriktion\"]]", 1).replacen(
            "hides = [\"drink_more\"]",
            "hides = [\"drinking\"]",
            1,
        )
    });
    let messages: Vec<&str> = problems.iter().map(|p| p.message.as_str()).collect();
    assert!(messages.iter().any(|m| m.contains("unknown concept `fluid_restriktion`")), "{messages:?}");
    assert!(messages.iter().any(|m| m.contains("unknown tip tag \"drinking\"")), "{messages:?}");
}
