//! `journal.sync`: the production mode is the default, the crash campaign's test modes are
//! accepted, and the ack-before-sync canary only with its environment switch.

use std::path::Path;
use std::process::Command;

use switchyard::config_file::ALLOW_CANARY_ENV;
use switchyard_wire::devcerts::DevCerts;

const EXAMPLE: &str = include_str!("../../config/switchyard.toml");

fn check(sync: &str, allow_canary: bool) -> (bool, String) {
    let dir = tempfile::tempdir().unwrap();
    DevCerts::generate(&["switchyard-node", "clearing-sim"], &["bank-a", "bank-b", "switchyard"])
        .unwrap()
        .write_to(&dir.path().join("tls"))
        .unwrap();
    let file = dir.path().join("switchyard.toml");
    assert!(EXAMPLE.contains("sync = \"fdatasync\""));
    std::fs::write(&file, EXAMPLE.replace("sync = \"fdatasync\"", &format!("sync = \"{sync}\""))).unwrap();
    run(&file, allow_canary)
}

fn run(file: &Path, allow_canary: bool) -> (bool, String) {
    let mut command = Command::new(env!("CARGO_BIN_EXE_switchyard"));
    command.arg("check-config").arg(file).env_remove(ALLOW_CANARY_ENV);
    if allow_canary {
        command.env(ALLOW_CANARY_ENV, "1");
    }
    let out = command.output().unwrap();
    (
        out.status.success(),
        format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr)),
    )
}

#[test]
fn the_canary_needs_its_switch_and_unknown_modes_are_refused() {
    for (sync, allow, valid) in [
        ("fdatasync", false, true),
        ("power-loss-simulation", false, true),
        ("ack-before-sync", false, false),
        ("ack-before-sync", true, true),
        ("fsync", false, false),
    ] {
        let (ok, text) = check(sync, allow);
        assert_eq!(ok, valid, "{sync} (canary allowed: {allow}): {text}");
        if !valid {
            assert!(text.contains("journal.sync"), "the error names the key: {text}");
        }
    }
}
