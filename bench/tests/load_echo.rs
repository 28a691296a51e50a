//! `switchyard-bench load` against `switchyard-bench echo`, over TLS and QUIC: real child
//! processes, real mTLS on 127.0.0.1, one second at a low rate; checks the files and counts.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, Stdio};

const BIN: &str = env!("CARGO_BIN_EXE_switchyard-bench");

/// Kills the echo server however the test ends.
struct Guard(Child);

impl Drop for Guard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts the echo server on free ports; returns it with its TLS and QUIC addresses.
fn echo(certs: &Path) -> (Guard, SocketAddr, SocketAddr) {
    let mut child = Command::new(BIN)
        .args(["echo", "--listen", "127.0.0.1:0", "--listen-quic", "127.0.0.1:0", "--certs"])
        .arg(certs)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    let words: Vec<&str> = line.split_whitespace().collect();
    assert_eq!(words.first(), Some(&"echo:"), "unexpected first line {line:?}");
    (Guard(child), words[2].parse().unwrap(), words[4].parse().unwrap())
}

fn load(addr: SocketAddr, transport: &str, certs: &Path, out: &Path) -> serde_json::Value {
    let output = Command::new(BIN)
        .args(["load", "--target-kind", "echo", "--target", &addr.to_string(), "--transport", transport])
        .arg("--identity")
        .arg(certs)
        .args(["--tenants", "2", "--participants", "3", "--rate", "150", "--duration", "1", "--warmup", "0"])
        .args(["--mix", "payment=80,large=5,status=5,cancel=5,invalid=5", "--no-progress", "--strict"])
        .arg("--out")
        .arg(out)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "load over {transport} failed: {stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(stdout.contains("p99.9"), "no percentile table: {stdout}");
    let text = std::fs::read_to_string(out.join("report.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

#[test]
fn load_against_the_echo_baseline_over_tls_and_quic_writes_sane_reports() {
    let dir = tempfile::tempdir().unwrap();
    let certs = dir.path().join("certs");
    switchyard_wire::devcerts::DevCerts::generate(&["switchyard-node"], &["bank-a", "bank-b"])
        .unwrap()
        .write_to(&certs)
        .unwrap();
    let (_echo, tls, quic) = echo(&certs);
    for (transport, addr) in [("tls", tls), ("quic", quic)] {
        let out = dir.path().join(transport);
        let report = load(addr, transport, &certs, &out);
        let r = &report["results"];
        let sent: u64 = report["results"]["kinds"]
            .as_object()
            .unwrap()
            .values()
            .map(|k| k["sent"].as_u64().unwrap())
            .sum();
        assert_eq!(sent, 150, "{transport}: 150 messages due in one second at 150/s: {r}");
        let submitted = r["submitted"].as_u64().unwrap();
        assert!(submitted > 100 && submitted < 150, "{transport}: payments are most of the mix: {r}");
        assert_eq!(r["acknowledged"], r["submitted"], "{transport}: every echo answers: {r}");
        assert_eq!(r["unanswered"], 0, "{transport}: {r}");
        assert_eq!(r["ack"]["count"], r["acknowledged"], "{transport}: no warm-up, all measured: {r}");
        assert!(r["ack"]["p50_ms"].as_f64().unwrap() > 0.0, "{transport}: {r}");
        assert_eq!(report["config"]["target"]["transport"], transport);
        assert!(report["machine"]["cores"].as_u64().unwrap() >= 1);
        assert!(!report["machine"]["git_revision"].as_str().unwrap().is_empty());
        for file in ["ack.hgrm", "final.hgrm"] {
            let text = std::fs::read_to_string(out.join(file)).unwrap();
            assert!(text.contains("#[Max"), "{file}: {text}");
            let lines =
                text.lines().filter(|l| l.trim_start().starts_with(|c: char| c.is_ascii_digit())).count();
            assert!(lines > 5, "{file} has {lines} percentile lines");
        }
        let svg = std::fs::read_to_string(out.join("latency.svg")).unwrap();
        assert!(svg.starts_with("<svg") && svg.contains("ACK"), "{}", &svg[..svg.len().min(200)]);
    }
}
