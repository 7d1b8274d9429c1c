//! The systemd unit in `deploy/`: hardened as the README says, and valid for `systemd-analyze
//! verify` where systemd's tools are installed.

use std::process::Command;

const UNIT: &str = include_str!("../../deploy/crampbot.service");

#[test]
fn the_unit_runs_as_a_confined_service_with_its_database_in_the_state_directory() {
    let lines: Vec<&str> = UNIT.lines().map(str::trim).filter(|line| !line.starts_with('#')).collect();
    for expected in [
        "ExecStart=/usr/local/bin/crampbot run --config /etc/crampbot/config.toml",
        "EnvironmentFile=/etc/crampbot/crampbot.env",
        "Environment=CRAMPBOT_DATABASE=/var/lib/crampbot/crampbot.sqlite3",
        "StateDirectory=crampbot",
        "DynamicUser=yes",
        "Restart=on-failure",
        "KillSignal=SIGTERM",
        "ProtectSystem=strict",
        "ProtectHome=yes",
        "PrivateTmp=yes",
        "NoNewPrivileges=yes",
        "CapabilityBoundingSet=",
        "RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX",
        "SystemCallFilter=@system-service",
    ] {
        assert!(lines.contains(&expected), "the unit has {expected:?}");
    }
    assert!(
        !lines.iter().any(|line| line.contains("DISCORD_TOKEN")),
        "the token lives in the environment file, not the unit"
    );
}

#[test]
fn the_unit_passes_systemd_analyze_verify() {
    if Command::new("systemd-analyze").arg("--version").output().is_err() {
        eprintln!("skipped: systemd-analyze is not installed");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    // verify checks that the program exists; point it at the binary under test.
    let unit = UNIT.replace("/usr/local/bin/crampbot", env!("CARGO_BIN_EXE_crampbot"));
    let path = dir.path().join("crampbot.service");
    std::fs::write(&path, unit).unwrap();
    let output = Command::new("systemd-analyze").args(["verify", "--man=no"]).arg(&path).output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "systemd-analyze verify: {stderr}");
    assert!(stderr.trim().is_empty(), "no warnings: {stderr}");
}
