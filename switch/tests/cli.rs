//! The offline operator commands, run as the real binary: `validate` and `journal verify`.

use std::path::{Path, PathBuf};
use std::process::Command;

const SHARED: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/iso20022/samples");

fn run(args: &[&str]) -> (bool, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_switchyard")).args(args).output().unwrap();
    (
        out.status.success(),
        format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr)),
    )
}

fn sample(kind: &str, name: &str) -> String {
    Path::new(SHARED).join(kind).join(name).display().to_string()
}

#[test]
fn validate_prints_one_line_per_file_and_fails_on_any_invalid() {
    let valid = sample("valid", "pacs.008.001.08__mt103-to-mx__p.2.1.2_A_B.xml");
    let invalid = sample("invalid", "pacs.008.001.08__RULE__commodity_currency_XAU.xml");
    let (ok, text) = run(&["validate", &valid]);
    assert!(ok, "{text}");
    assert!(text.contains(": valid pacs.008.001.08 A2B0506272708"), "{text}");
    let (ok, text) = run(&["validate", &valid, &invalid]);
    assert!(!ok, "one invalid file fails the run");
    assert_eq!(text.lines().count(), 2, "{text}");
    assert!(
        text.contains(": invalid AM03 /Document/FIToFICstmrCdtTrf/CdtTrfTxInf[1]/IntrBkSttlmAmt"),
        "{text}"
    );
}

/// A value quoted in a detail keeps its quotes and letters as written; only control
/// characters are escaped, so a line break in a value cannot start a forged output line.
#[test]
fn validate_escapes_only_control_characters_in_its_line() {
    let xml =
        std::fs::read_to_string(sample("valid", "pacs.008.001.08__mt103-to-mx__p.2.1.2_A_B.xml")).unwrap();
    let bad = xml.replace("<pacs:ChrgBr>SHAR</pacs:ChrgBr>", "<pacs:ChrgBr>SH&#10;ö'R</pacs:ChrgBr>");
    assert_ne!(bad, xml, "the sample's ChrgBr changed");
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("bad.xml");
    std::fs::write(&file, bad).unwrap();
    let (ok, text) = run(&["validate", &file.display().to_string()]);
    assert!(!ok);
    assert_eq!(text.lines().count(), 1, "{text}");
    assert!(text.contains("[xsd.facet] 'SH\\nö'R' is not a code of ChargeBearerType1Code"), "{text}");
}

/// A file over the message size limit is refused by its length, never read whole: a sparse
/// 64 GiB file (no disk used) would take minutes and all memory to read.
#[test]
fn validate_refuses_an_oversized_file_by_its_length() {
    let dir = tempfile::tempdir().unwrap();
    let huge = dir.path().join("huge.xml");
    std::fs::File::create(&huge).unwrap().set_len(64 << 30).unwrap();
    let (ok, text) = run(&["validate", &huge.display().to_string()]);
    assert!(!ok, "{text}");
    assert!(text.contains(": invalid FF01 /: [limit.size] 68719476736 bytes > limit 1048576"), "{text}");
}

/// `-` reads the message from standard input (`curl ... | switchyard validate -`), with the
/// same size limit as a file: more than the limit is refused, and not read to its end.
#[test]
fn validate_reads_standard_input_for_a_dash() {
    use std::io::Write as _;
    use std::process::Stdio;
    let pipe = |input: Vec<u8>| {
        let mut child = Command::new(env!("CARGO_BIN_EXE_switchyard"))
            .args(["validate", "-"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut stdin = child.stdin.take().unwrap();
        // The refused oversized input closes the pipe early: a failed write is expected then.
        let writer = std::thread::spawn(move || {
            let _ = stdin.write_all(&input);
        });
        let out = child.wait_with_output().unwrap();
        writer.join().unwrap();
        (out.status.code(), String::from_utf8_lossy(&out.stdout).into_owned())
    };
    let valid = std::fs::read(sample("valid", "pacs.008.001.08__mt103-to-mx__p.2.1.2_A_B.xml")).unwrap();
    assert_eq!(pipe(valid), (Some(0), "-: valid pacs.008.001.08 A2B0506272708\n".to_owned()));
    let invalid =
        std::fs::read(sample("invalid", "pacs.008.001.08__RULE__commodity_currency_XAU.xml")).unwrap();
    let (code, text) = pipe(invalid);
    assert_eq!(code, Some(1));
    assert!(
        text.starts_with("-: invalid AM03 /Document/FIToFICstmrCdtTrf/CdtTrfTxInf[1]/IntrBkSttlmAmt"),
        "{text}"
    );
    let (code, text) = pipe(vec![b' '; 3 << 20]);
    assert_eq!(code, Some(1));
    assert_eq!(text, "-: invalid FF01 /: [limit.size] 1048577 bytes > limit 1048576\n");
}

/// A reader that stops early (`| head -1`) ends the listing quietly: no panic, no torn
/// line, and a non-zero status because not every file was checked.
#[test]
fn validate_into_a_pipe_closed_by_its_reader_stops_quietly() {
    use std::io::Read as _;
    use std::process::Stdio;
    let valid = "pacs.008.001.08__mt103-to-mx__p.2.1.2_A_B.xml";
    // Lines enough to overflow the pipe's buffer (64 KiB), so a write meets the closed end.
    let files = vec![valid; 4_000];
    let mut child = Command::new(env!("CARGO_BIN_EXE_switchyard"))
        .current_dir(Path::new(SHARED).join("valid"))
        .arg("validate")
        .args(&files)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let mut first = [0u8; 64];
    stdout.read_exact(&mut first).unwrap();
    drop(stdout);
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(first.starts_with(valid.as_bytes()), "{}", String::from_utf8_lossy(&first));
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(stderr.is_empty(), "a closed pipe is not an error to report: {stderr}");
    assert_eq!(out.status.code(), Some(1), "not every file was checked");
}

fn journal_with_records(dir: &Path) -> PathBuf {
    let journal_dir = dir.join("journal");
    let (journal, _) =
        switchyard_journal::Journal::open(switchyard_journal::JournalConfig::new(&journal_dir)).unwrap();
    for i in 0..50u32 {
        let (done, rx) = std::sync::mpsc::channel();
        journal
            .append(1, vec![u8::try_from(i).unwrap(); 300], Box::new(move |r| done.send(r.is_ok()).unwrap()))
            .unwrap();
        assert!(rx.recv().unwrap());
    }
    journal.shutdown().unwrap();
    std::fs::read_dir(&journal_dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|e| e == "journal"))
        .unwrap()
}

#[test]
fn journal_verify_reports_counts_and_the_exact_place_of_a_flipped_byte() {
    let dir = tempfile::tempdir().unwrap();
    let segment = journal_with_records(dir.path());
    let data = dir.path().display().to_string();
    let (ok, text) = run(&["journal", "verify", "--data", &data]);
    assert!(ok, "{text}");
    assert!(text.contains("ok, 50 records, last seq 50"), "{text}");
    assert!(text.contains(": first seq 1, 50 records (Accepted 50), "), "counts per record type: {text}");

    // Flip one byte inside the 10th record's payload (not the tail): corruption, named.
    let mut bytes = std::fs::read(&segment).unwrap();
    let header = switchyard_journal::SEGMENT_HEADER_LEN;
    let record = switchyard_journal::RECORD_HEADER_LEN + 300;
    let at = header + 9 * record + switchyard_journal::RECORD_HEADER_LEN + 7;
    bytes[at] ^= 0x40;
    std::fs::write(&segment, bytes).unwrap();
    let (ok, text) = run(&["journal", "verify", "--data", &data]);
    assert!(!ok, "{text}");
    let expected_offset = format!("offset {}", header + 9 * record);
    assert!(text.contains("CORRUPT") && text.contains(&expected_offset), "{text}");
    assert!(text.contains("9 valid records before it"), "{text}");
}

mod common;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn payment_show_audit_verify_and_reindex_on_a_real_data_dir() {
    let f = common::fixture().await;
    let node = common::start_node(&f, 32).await;
    let statuses = common::run_participant(&f, &node, "bank-a", 30).await;
    node.stop().await.unwrap();
    let data = f.dir.path().display().to_string();
    let uetr = statuses.keys().next().unwrap().clone();

    let (ok, text) = run(&["payment", "show", "--data", &data, "--tenant", "bank-a", "--uetr", &uetr]);
    assert!(ok, "{text}");
    assert!(text.contains(&uetr) && text.contains("Settled"), "{text}");
    let (ok, text) = run(&["payment", "show", "--data", &data, "--tenant", "bank-b", "--uetr", &uetr]);
    assert!(!ok && text.contains("no payment"), "another tenant's payment is not found: {text}");

    let (ok, before) = run(&["audit", "verify", "--data", &data]);
    assert!(ok && before.contains("ok, 60 entries"), "{before}");
    let (ok, text) = run(&["reindex", "--data", &data]);
    assert!(ok && text.contains("30 payments"), "{text}");
    let (ok, after) = run(&["audit", "verify", "--data", &data]);
    assert!(ok);
    assert_eq!(before, after, "a rebuilt chain has the same head");
}

#[test]
fn json_logs_of_a_full_flow_parse_and_never_show_names_or_accounts() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().display().to_string();
    let out = Command::new(env!("CARGO_BIN_EXE_switchyard"))
        .args(["--log-format", "json", "demo", "--duration", "1", "--rate", "50", "--data", &data])
        .env("RUST_LOG", "debug")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stdout));
    let logs = String::from_utf8_lossy(&out.stderr);
    let lines: Vec<&str> = logs.lines().filter(|l| !l.trim().is_empty()).collect();
    assert!(lines.len() > 50, "debug logs of 50 payments");
    for line in &lines {
        let value: serde_json::Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"));
        assert!(value.get("level").is_some() && value.get("fields").is_some(), "{line}");
    }
    assert!(
        logs.contains("\"tenant\":\"bank-a\"") && logs.contains("\"uetr\""),
        "payment lines carry tenant and UETR"
    );
    // The demo's pacs.008 names its debtor and creditor and their accounts: none may be logged.
    for secret in ["Thandi", "Mokoena", "Pieter", "Merwe", "62001234567", "10987654321"] {
        assert!(!logs.contains(secret), "{secret} leaked into the logs");
    }
}

#[test]
fn offline_commands_refuse_a_path_that_is_not_a_data_directory_and_create_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nosuchdir");
    let data = missing.to_str().unwrap();
    let uetr = "0e5e3b4d-9c5d-4b4e-8f57-7a3a5f3c1b2a";
    let commands: [&[&str]; 7] = [
        &["journal", "verify", "--data", data],
        &["audit", "verify", "--data", data],
        &["reindex", "--data", data],
        &["dlq", "list", "--data", data],
        &["payment", "show", "--data", data, "--tenant", "bank-a", "--uetr", uetr],
        &["dlq", "purge", "--data", data, "--tenant", "bank-a", "--uetr", uetr],
        &["dlq", "replay", "--data", data, "--tenant", "bank-a", "--uetr", uetr],
    ];
    for args in commands {
        let out = Command::new(env!("CARGO_BIN_EXE_switchyard")).args(args).output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains("nosuchdir") && stderr.contains("no such directory"), "{args:?}: {stderr}");
        assert!(out.stdout.is_empty(), "{args:?}: errors go to stderr");
        assert!(!missing.exists(), "{args:?} created the directory");
    }
    // A directory without a journal is not a data directory either.
    let empty = dir.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    let (ok, text) = run(&["audit", "verify", "--data", empty.to_str().unwrap()]);
    assert!(!ok && text.contains("not a data directory"), "{text}");
    assert_eq!(std::fs::read_dir(&empty).unwrap().count(), 0, "nothing created in it");
}

#[test]
fn the_demo_refuses_a_data_directory_that_holds_anything() {
    let dir = tempfile::tempdir().unwrap();
    let node = dir.path().join("node");
    std::fs::create_dir_all(node.join("journal")).unwrap();
    let other = dir.path().join("other");
    std::fs::create_dir(&other).unwrap();
    std::fs::write(other.join("notes.txt"), b"x").unwrap();
    let file = dir.path().join("afile");
    std::fs::write(&file, b"x").unwrap();
    for (data, says) in [(&node, "holds a journal"), (&other, "not empty"), (&file, "not a directory")] {
        let out = Command::new(env!("CARGO_BIN_EXE_switchyard"))
            .args(["demo", "--duration", "1", "--data", data.to_str().unwrap()])
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{stderr}");
        assert!(stderr.contains("--data") && stderr.contains(says), "{stderr}");
    }
    assert_eq!(std::fs::read_dir(&other).unwrap().count(), 1, "nothing written into it");
}
