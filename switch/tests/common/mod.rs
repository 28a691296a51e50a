//! Shared fixtures for the black-box tests: certificates, the clearing simulator, a node on
//! port 0 with its journal in a temp dir, and a participant that submits within its window.
#![allow(dead_code)]

use std::collections::HashMap;
use std::time::Duration;

use futures::StreamExt;
use switchyard::config::NodeConfig;
use switchyard::demo::{node_config, DemoSettings};
use switchyard::node::Node;
use switchyard_actors::JournalRecord;
use switchyard_bench::client::{ClientSpec, Participant, Transport};
use switchyard_bench::messages::MessageFactory;
use switchyard_clearing::sim::{self, SimConfig, SimHandle};
use switchyard_iso20022::{read_pacs002, Limits, TxStatus};
use switchyard_journal::{codec, read_all};
use switchyard_wire::devcerts::DevCerts;
use switchyard_wire::tls;
use switchyard_wire::{Frame, FrameKind};

pub const TIMEOUT: Duration = Duration::from_secs(30);

pub struct Fixture {
    pub certs: DevCerts,
    pub sim: SimHandle,
    pub dir: tempfile::TempDir,
}

pub async fn fixture() -> Fixture {
    fixture_with(SimConfig::default()).await
}

pub async fn fixture_with(sim_config: SimConfig) -> Fixture {
    let certs = DevCerts::generate(
        &["switchyard-node", "clearing-sim"],
        &["bank-a", "bank-b", "bank-z", "switchyard"],
    )
    .unwrap();
    let ca = certs.ca().unwrap();
    let sim_tls = tls::server_config(&certs.identity("clearing-sim").unwrap(), &ca).unwrap();
    let sim = sim::start("127.0.0.1:0".parse().unwrap(), sim_tls, sim_config).await.unwrap();
    Fixture { certs, sim, dir: tempfile::tempdir().unwrap() }
}

pub async fn start_node(f: &Fixture, credit_window: usize) -> Node {
    start_node_with(f, |config| config.limits.credit_window = credit_window).await
}

/// Tenants bank-a and bank-b (bank-z has a certificate from the right CA but is no tenant).
pub async fn start_node_with(f: &Fixture, edit: impl FnOnce(&mut NodeConfig)) -> Node {
    let mut config =
        node_config(&DemoSettings::default(), &f.certs, f.dir.path().to_path_buf(), f.sim.addr).unwrap();
    config.tenants.retain(|t| t.name != "bank-z");
    edit(&mut config);
    Node::start(config).await.unwrap()
}

pub fn client(f: &Fixture, node: &Node, identity: Option<&str>) -> ClientSpec {
    ClientSpec {
        addr: node.addr,
        transport: Transport::Tls,
        server_name: "switchyard-node".to_owned(),
        ca: f.certs.ca().unwrap(),
        identity: identity.map(|name| f.certs.identity(name).unwrap()),
        max_frame_bytes: 1 << 20,
        timeout: Duration::from_secs(5),
    }
}

pub fn journal_records(f: &Fixture) -> Vec<JournalRecord> {
    read_all(&f.dir.path().join("journal"))
        .unwrap()
        .map(|r| codec::decode(&r.unwrap().payload).unwrap())
        .collect()
}

/// Submits `count` payments within the credit window; returns, per UETR, the statuses in the
/// order they arrived.
pub async fn submit_all(
    p: &mut Participant,
    factory: &MessageFactory,
    count: u64,
) -> HashMap<String, Vec<TxStatus>> {
    let mut uetr_of = HashMap::new();
    let mut statuses: HashMap<String, Vec<TxStatus>> = HashMap::new();
    let mut sent = 0u64;
    let mut finished = 0u64;
    let mut in_flight = 0usize;
    let limits = Limits::default();
    while finished < count {
        while sent < count && in_flight < p.credit_window {
            let (xml, uetr) = factory.make(sent);
            sent += 1;
            uetr_of.insert(sent, uetr);
            p.tx.send(Frame::new(FrameKind::Submit, sent, xml)).await.unwrap();
            in_flight += 1;
        }
        let frame =
            tokio::time::timeout(TIMEOUT, p.reader.next()).await.expect("status in time").unwrap().unwrap();
        assert_eq!(frame.kind, FrameKind::Status, "{}", String::from_utf8_lossy(&frame.payload));
        let report = read_pacs002(&frame.payload, &limits).expect("the switch writes valid pacs.002");
        let status = report.txs[0].tx_sts;
        let uetr = &uetr_of[&frame.correlation];
        // A refusal before the message is read (rate limit, unreadable) names no UETR; the
        // correlation id is the key (docs/PROTOCOL.md). Anything that names one names the right one.
        if let Some(named) = report.txs[0].orgnl_uetr.as_ref() {
            assert_eq!(named.as_str(), uetr.as_str());
        } else {
            assert_eq!(status, TxStatus::RJCT, "only refusals may omit the UETR");
        }
        statuses.entry(uetr.clone()).or_default().push(status);
        if status != TxStatus::ACTC {
            finished += 1;
            in_flight -= 1;
        }
    }
    statuses
}

/// Connects `name`, submits `count` payments made from the demo template, returns the statuses.
pub async fn run_participant(
    f: &Fixture,
    node: &Node,
    name: &str,
    count: u64,
) -> HashMap<String, Vec<TxStatus>> {
    let template = switchyard_iso20022::read_pacs008(switchyard::demo::TEMPLATE, &Limits::default()).unwrap();
    let factory = MessageFactory::new(template, name).sending_as(&switchyard::demo::demo_bic(name));
    let mut p = Participant::connect(&client(f, node, Some(name))).await.unwrap();
    submit_all(&mut p, &factory, count).await
}

/// Writes `dir/switchyard.toml` for the fixture's certificates (written to `dir/tls`) and
/// simulator, with an admin listener whose bearer tokens are signed with `jwt_key` (written to
/// `dir/jwt.key`); `sections` (`[limits]`, `[[tenants]]`) go between `[tls]` and `[[links]]`.
pub fn write_config(
    f: &Fixture,
    dir: &std::path::Path,
    jwt_key: &[u8],
    sections: &str,
) -> std::path::PathBuf {
    f.certs.write_to(&dir.join("tls")).unwrap();
    std::fs::write(dir.join("jwt.key"), jwt_key).unwrap();
    let text = format!(
        r#"
[node]
data_dir = "data"
listen = "127.0.0.1:0"
[admin]
listen = "127.0.0.1:0"
jwt_secret_file = "jwt.key"
[tls]
certificate = "tls/switchyard-node.pem"
private_key = "tls/switchyard-node.key"
participant_ca = "tls/ca.pem"
{sections}
[[links]]
name = "sim"
address = "{sim}"
server_name = "clearing-sim"
certificate = "tls/switchyard.pem"
private_key = "tls/switchyard.key"
server_ca = "tls/ca.pem"
[[routes]]
link = "sim"
"#,
        sim = f.sim.addr
    );
    let path = dir.join("switchyard.toml");
    std::fs::write(&path, text).unwrap();
    path
}

/// One `[[tenants]]` entry: certificate named as the tenant, its demo BIC, `rate` per second
/// with an equal burst, and an optional `max_in_flight`.
pub fn tenant_toml(name: &str, rate: u32, max_in_flight: Option<usize>) -> String {
    let budget = max_in_flight.map(|m| format!("max_in_flight = {m}\n")).unwrap_or_default();
    format!(
        "[[tenants]]\nname = \"{name}\"\ncertificate_name = \"{name}\"\nrate_per_s = {rate}\nburst = {rate}\nbics = [\"{}\"]\n{budget}",
        switchyard::demo::demo_bic(name).as_str()
    )
}

/// Pipes a Prometheus exposition through `promtool check metrics` where it is installed
/// (.ci/run installs it); without promtool the check is skipped with a notice.
pub fn promtool_check(metrics: &str) {
    use std::io::Write;
    let Ok(mut child) = std::process::Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
    else {
        eprintln!("NOTICE: promtool not found; skipping `promtool check metrics` (.ci/run installs it)");
        return;
    };
    child.stdin.take().unwrap().write_all(metrics.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "promtool check metrics failed:\n{text}");
}

/// Runs the `switchyard` binary with `args`: its exit code (-1 if killed) and stdout + stderr.
pub fn cli(args: &[&str]) -> (i32, String) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_switchyard")).args(args).output().unwrap();
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    (out.status.code().unwrap_or(-1), text)
}

/// `GET path` on the admin listener over plain HTTP/1.1: the status and the body.
pub async fn http_get(addr: std::net::SocketAddr, path: &str) -> std::io::Result<(u16, String)> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut tcp = tokio::net::TcpStream::connect(addr).await?;
    let request = format!("GET {path} HTTP/1.1\r\nHost: admin\r\nConnection: close\r\n\r\n");
    tcp.write_all(request.as_bytes()).await?;
    let mut response = String::new();
    tcp.read_to_string(&mut response).await?;
    let status = response.split_whitespace().nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    let body = response.split_once("\r\n\r\n").map(|(_, b)| b.to_owned()).unwrap_or_default();
    Ok((status, body))
}
