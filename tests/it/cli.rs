//! The `crampbot` binary: `ask`, `ask --batch`, `check`, run as a user would.

use std::process::Output;

fn crampbot(args: &[&str], stdin: &str) -> Output {
    let db = tempfile::tempdir().expect("temp dir");
    crate::support::run_binary(&db.path().join("reminders.sqlite3"), args, stdin)
}

fn stdout(output: &Output) -> String {
    String::from_utf8(output.stdout.clone()).expect("utf-8")
}

#[test]
fn ask_prints_a_reply_with_the_guidance() {
    let output = crampbot(&["ask", "my", "calves", "twitch", "and", "I", "just", "started", "water", "pills"], "");
    assert!(output.status.success());
    let text = stdout(&output);
    let catalogue = crampbot::knowledge::Catalogue::embedded().expect("loads");
    let medication = catalogue.cause("medication_side_effects").expect("fixed id");
    assert!(text.contains(&format!("## {}", medication.name)), "{text}");
    assert!(text.contains("“water pills”"), "the why line quotes the user: {text}");
    assert!(text.contains(&catalogue.guidance.consult), "{text}");
}

#[test]
fn batch_answers_every_line_in_order_and_survives_bad_lines() {
    let too_long = format!("{{\"id\": \"long\", \"text\": \"{}\"}}", "a".repeat(200_000));
    let input = format!(
        "{}\n{}\n{}\n\n{}\n{}\n{}\n",
        r#"{"id": "a", "text": "calf twitching after leg day"}"#,
        "this is not json",
        r#"{"id": 7, "note": "no text"}"#,
        too_long,
        r#"{"id": "b", "text": 42}"#,
        r#"{"id": "c", "text": "lol"}"#,
    );
    let output = crampbot(&["ask", "--format", "json", "--batch"], &input);
    assert_eq!(output.status.code(), Some(1), "bad lines make the exit code 1");
    let lines: Vec<serde_json::Value> =
        stdout(&output).lines().map(|line| serde_json::from_str(line).expect("every output line is JSON")).collect();
    let ids: Vec<serde_json::Value> = lines.iter().map(|line| line["id"].clone()).collect();
    assert_eq!(
        ids,
        [
            serde_json::json!("a"),
            serde_json::Value::Null,
            serde_json::json!(7),
            serde_json::json!("long"),
            serde_json::json!("b"),
            serde_json::json!("c")
        ]
    );
    assert_eq!(lines[0]["causes"][0]["id"], "muscle_fatigue");
    for bad in &lines[1..5] {
        assert!(bad["error"].is_string(), "{bad}");
    }
    assert_eq!(lines[5]["on_topic"], false);
    let stderr = String::from_utf8_lossy(&output.stderr);
    for line in ["line 2:", "line 3:", "line 5:", "line 6:"] {
        assert!(stderr.contains(line), "stderr names {line}: {stderr}");
    }
}

#[test]
fn ask_refuses_a_100_kb_message_clearly() {
    let text = "calf ".repeat(20_000);
    let output = crampbot(&["ask", &text], "");
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("limit"));
}

#[test]
fn check_passes_on_the_shipped_catalogue_and_lists_problems_on_a_broken_one() {
    let output = crampbot(&["check"], "");
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));

    let dir = tempfile::tempdir().expect("temp dir");
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("knowledge");
    copy_dir(&root, dir.path());
    let guidance = dir.path().join("guidance.toml");
    let text = std::fs::read_to_string(&guidance).expect("read");
    std::fs::write(&guidance, format!("{text}\nbroken = [\n")).expect("write");
    std::fs::remove_file(dir.path().join("hydration.toml")).expect("remove");
    let output = crampbot(&["check", "--knowledge", dir.path().to_str().expect("utf-8 path")], "");
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.lines().any(|line| line.starts_with("guidance.toml:")
            && line.split(':').nth(1).is_some_and(|n| n.parse::<usize>().is_ok())),
        "{stderr}"
    );
    assert!(stderr.contains("hydration.toml: missing file"), "{stderr}");
}

fn copy_dir(from: &std::path::Path, to: &std::path::Path) {
    for entry in std::fs::read_dir(from).expect("read dir") {
        let path = entry.expect("entry").path();
        let target = to.join(path.file_name().expect("name"));
        if path.is_dir() {
            std::fs::create_dir_all(&target).expect("mkdir");
            copy_dir(&path, &target);
        } else {
            std::fs::copy(&path, &target).expect("copy");
        }
    }
}
