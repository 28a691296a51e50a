//! Clearing links over both transports and in both directions, on real loopback sockets
//! (issue 7): a link that dials the clearing house over QUIC; links in accept mode, where the
//! clearing house (the simulator in dial mode) opens the connection over TLS or QUIC and is
//! admitted only with a certificate of the configured name; refusals logged and counted.

mod common;

use std::time::{Duration, Instant};

use common::{run_participant, Fixture};
use switchyard::config::{LinkMode, LinkTransport, NodeConfig};
use switchyard::demo::{node_config, DemoSettings};
use switchyard::node::Node;
use switchyard_clearing::sim::{self, SimConfig, SimDial, SimDialTransport, SimHandle};
use switchyard_iso20022::TxStatus;
use switchyard_wire::devcerts::DevCerts;
use switchyard_wire::{quic, tls};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const WAIT: Duration = Duration::from_secs(30);

fn certs() -> DevCerts {
    DevCerts::generate(
        &["switchyard-node", "clearing-sim"],
        &["bank-a", "bank-b", "switchyard", "clearing-house"],
    )
    .unwrap()
}

/// The demo's node configuration for `certs`, tenants bank-a and bank-b, admin listener on.
fn base_config(certs: &DevCerts, dir: &std::path::Path, sim_addr: std::net::SocketAddr) -> NodeConfig {
    let mut config = node_config(&DemoSettings::default(), certs, dir.to_path_buf(), sim_addr).unwrap();
    config.tenants.retain(|t| t.name == "bank-a" || t.name == "bank-b");
    config.admin_listen = Some("127.0.0.1:0".parse().unwrap());
    config
}

fn assert_all_settled(statuses: &std::collections::HashMap<String, Vec<TxStatus>>, count: usize) {
    assert_eq!(statuses.len(), count);
    for (uetr, seen) in statuses {
        assert_eq!(seen.as_slice(), [TxStatus::ACTC, TxStatus::ACSC], "{uetr}");
    }
}

async fn wait_for(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + WAIT;
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_link_dials_the_clearing_house_over_quic_and_payments_settle() {
    let certs = certs();
    let ca = certs.ca().unwrap();
    let sim_tls = tls::server_config(&certs.identity("clearing-sim").unwrap(), &ca).unwrap();
    let sim = sim::start_quic("127.0.0.1:0".parse().unwrap(), sim_tls, SimConfig::default()).unwrap();
    let f = Fixture { certs, sim, dir: tempfile::tempdir().unwrap() };
    let mut config = base_config(&f.certs, f.dir.path(), f.sim.addr);
    config.links[0].transport = LinkTransport::Quic;
    let node = Node::start(config).await.unwrap();
    let statuses = run_participant(&f, &node, "bank-a", 5).await;
    assert_all_settled(&statuses, 5);
    assert_eq!(f.sim.stats.received.load(std::sync::atomic::Ordering::Relaxed), 5);
    assert_eq!(f.sim.stats.max_submissions_per_uetr(), 1);
    node.stop().await.unwrap();
}

/// A node whose link "sim" accepts the clearing house named `clearing-house` over `transport`.
async fn accepting_node(certs: &DevCerts, dir: &std::path::Path, transport: LinkTransport) -> Node {
    let mut config = base_config(certs, dir, "127.0.0.1:9".parse().unwrap());
    let link = &mut config.links[0];
    link.mode = LinkMode::Accept { peer_name: "clearing-house".into() };
    link.transport = transport;
    link.addr = "127.0.0.1:0".parse().unwrap();
    // Accepting, the node presents a server certificate.
    link.client_identity = certs.identity("switchyard-node").unwrap();
    Node::start(config).await.unwrap()
}

/// The simulator in dial mode, presenting `identity`'s certificate.
fn dialing_sim(certs: &DevCerts, node: &Node, transport: LinkTransport, identity: &str) -> SimHandle {
    dialing_sim_as(certs, certs, node, transport, identity)
}

/// As [`dialing_sim`], trusting `certs`' CA but presenting a certificate issued by `issuer`.
fn dialing_sim_as(
    certs: &DevCerts,
    issuer: &DevCerts,
    node: &Node,
    transport: LinkTransport,
    identity: &str,
) -> SimHandle {
    let ca = certs.ca().unwrap();
    let id = issuer.identity(identity).unwrap();
    let transport = match transport {
        LinkTransport::Tls => SimDialTransport::Tls(tls::client_config(&ca, Some(&id)).unwrap()),
        LinkTransport::Quic => SimDialTransport::Quic(quic::client_endpoint(&ca, Some(&id)).unwrap()),
    };
    let dial = SimDial {
        addr: node.clearing_addrs["sim"],
        server_name: "switchyard-node".into(),
        transport,
        retry: Duration::from_millis(50),
    };
    sim::start_dialing(dial, SimConfig::default())
}

/// `switchyard_clearing_refused_total{link="sim",reason}` from the node's /metrics.
async fn refused_count(node: &Node, reason: &str) -> f64 {
    let mut tcp = TcpStream::connect(node.admin_addr.expect("admin listener")).await.unwrap();
    tcp.write_all(b"GET /metrics HTTP/1.1\r\nHost: admin\r\nConnection: close\r\n\r\n").await.unwrap();
    let mut text = String::new();
    tcp.read_to_string(&mut text).await.unwrap();
    text.lines()
        .filter(|l| l.starts_with("switchyard_clearing_refused_total{"))
        .filter(|l| l.contains(r#"link="sim""#) && l.contains(&format!(r#"reason="{reason}""#)))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

async fn accept_mode_settles(transport: LinkTransport) {
    let certs = certs();
    let dir = tempfile::tempdir().unwrap();
    let node = accepting_node(&certs, dir.path(), transport).await;
    let sim = dialing_sim(&certs, &node, transport, "clearing-house");
    let stats = std::sync::Arc::clone(&sim.stats);
    wait_for("the simulator to sign on", || stats.sign_ons.load(std::sync::atomic::Ordering::Relaxed) >= 1)
        .await;
    let f = Fixture { certs, sim, dir };
    let statuses = run_participant(&f, &node, "bank-a", 5).await;
    assert_all_settled(&statuses, 5);
    // The clearing house drops its connection and dials again: the link follows.
    f.sim.disconnect_all();
    wait_for("the simulator to sign on again", || {
        stats.sign_ons.load(std::sync::atomic::Ordering::Relaxed) >= 2
    })
    .await;
    let statuses = run_participant(&f, &node, "bank-b", 3).await;
    assert_all_settled(&statuses, 3);
    assert_eq!(f.sim.stats.received.load(std::sync::atomic::Ordering::Relaxed), 8);
    assert_eq!(f.sim.stats.max_submissions_per_uetr(), 1);
    node.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_clearing_house_dials_in_over_tls_and_payments_settle() {
    accept_mode_settles(LinkTransport::Tls).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_clearing_house_dials_in_over_quic_and_payments_settle() {
    accept_mode_settles(LinkTransport::Quic).await;
}

async fn accept_mode_refuses_strangers(transport: LinkTransport) {
    let certs = certs();
    let dir = tempfile::tempdir().unwrap();
    let node = accepting_node(&certs, dir.path(), transport).await;
    // A certificate from the right CA, but of a participant, not the clearing house.
    let before = refused_count(&node, "identity").await;
    let impostor = dialing_sim(&certs, &node, transport, "bank-a");
    let deadline = Instant::now() + WAIT;
    while refused_count(&node, "identity").await <= before {
        assert!(Instant::now() < deadline, "identity refusal not counted");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // A certificate of the right name from another CA: the handshake fails.
    let before = refused_count(&node, "handshake").await;
    let other = certs_from_another_ca();
    let stranger = dialing_sim_as(&certs, &other, &node, transport, "clearing-house");
    let deadline = Instant::now() + WAIT;
    while refused_count(&node, "handshake").await <= before {
        assert!(Instant::now() < deadline, "handshake refusal not counted");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(impostor.stats.sign_ons.load(std::sync::atomic::Ordering::Relaxed), 0);
    assert_eq!(stranger.stats.sign_ons.load(std::sync::atomic::Ordering::Relaxed), 0);
    impostor.stop().await;
    stranger.stop().await;
    // The real clearing house is still admitted and payments settle.
    let sim = dialing_sim(&certs, &node, transport, "clearing-house");
    let f = Fixture { certs, sim, dir };
    let statuses = run_participant(&f, &node, "bank-a", 2).await;
    assert_all_settled(&statuses, 2);
    node.stop().await.unwrap();
}

/// Certificates of the same names from a CA the node does not trust.
fn certs_from_another_ca() -> DevCerts {
    certs()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn accept_mode_refuses_a_wrong_certificate_over_tls() {
    accept_mode_refuses_strangers(LinkTransport::Tls).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn accept_mode_refuses_a_wrong_certificate_over_quic() {
    accept_mode_refuses_strangers(LinkTransport::Quic).await;
}

/// Kills the child process when dropped (also when the test fails).
struct Child(std::process::Child);

impl Drop for Child {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn switchyard_clearing_sim_dials_an_accept_mode_link_over_quic() {
    let certs = certs();
    let dir = tempfile::tempdir().unwrap();
    certs.write_to(&dir.path().join("tls")).unwrap();
    let node = accepting_node(&certs, dir.path(), LinkTransport::Quic).await;
    let file = dir.path().join("clearing-sim.toml");
    let config = format!(
        "mode = \"dial\"\ntransport = \"quic\"\ndial = \"{}\"\nserver_name = \"switchyard-node\"\n\
         dial_retry_ms = 50\ncertificate = \"tls/clearing-house.pem\"\nprivate_key = \"tls/clearing-house.key\"\n\
         client_ca = \"tls/ca.pem\"\n",
        node.clearing_addrs["sim"]
    );
    std::fs::write(&file, config).unwrap();
    let _sim = Child(
        std::process::Command::new(env!("CARGO_BIN_EXE_switchyard"))
            .arg("clearing-sim")
            .arg("--config")
            .arg(&file)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap(),
    );
    let deadline = Instant::now() + WAIT;
    loop {
        let links = node.ops.links().await;
        if links.iter().any(|l| l.name == "sim" && l.connected) {
            break;
        }
        assert!(Instant::now() < deadline, "the clearing-sim process did not connect: {links:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // The Fixture's own simulator is unused here; payments go to the child process.
    let ca = certs.ca().unwrap();
    let idle = sim::start(
        "127.0.0.1:0".parse().unwrap(),
        tls::server_config(&certs.identity("clearing-sim").unwrap(), &ca).unwrap(),
        SimConfig::default(),
    )
    .await
    .unwrap();
    let f = Fixture { certs, sim: idle, dir };
    let statuses = run_participant(&f, &node, "bank-a", 3).await;
    assert_all_settled(&statuses, 3);
    assert_eq!(f.sim.stats.received.load(std::sync::atomic::Ordering::Relaxed), 0);
    node.stop().await.unwrap();
}
