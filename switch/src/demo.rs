//! `switchyard demo`: the main job on an embedded default, with no setup.
//!
//! Generates development certificates, starts the clearing-house simulator and a node (journal
//! in `--data DIR` or a temporary directory), drives open-loop load from simulated participants
//! over mutual TLS, and prints what happened and how fast. Exits non-zero if any acknowledged
//! payment is stuck or lost, or if any payment reached the clearing house more than once.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use anyhow::Context;
use rustls::pki_types::ServerName;
use switchyard_actors::route::{Route, RouteMatch, RouteTable};
use switchyard_bench::client::ClientSpec;
use switchyard_bench::loadgen::{self, LoadReport, LoadSpec, ParticipantSpec};
use switchyard_bench::report::{latency_header, latency_row};
use switchyard_clearing::sim::{self, SimConfig, SimStats};
use switchyard_iso20022::{read_pacs008, Limits as IsoLimits, Pacs008};
use switchyard_wire::devcerts::DevCerts;
use switchyard_wire::tls;

use crate::config::{JournalTuning, Limits, LinkConfig, NodeConfig, TenantConfig};
use crate::node::Node;

/// The pacs.008 every demo payment is made from (fresh identifiers per message).
pub const TEMPLATE: &[u8] = include_bytes!("../../bench/templates/pacs008.xml");

/// Demo settings (the CLI flags).
#[derive(Debug, Clone)]
pub struct DemoSettings {
    pub data: Option<PathBuf>,
    pub duration: Duration,
    pub rate_per_s: u64,
    pub participants: usize,
    pub clearing_latency: Duration,
    /// Parts per million of payments the simulator rejects.
    pub clearing_reject_ppm: u32,
    /// Parts per million of submissions the simulator never answers.
    pub clearing_drop_ppm: u32,
    /// How long a payment waits for the clearing house before it is in doubt.
    pub clearing_timeout: Duration,
}

impl Default for DemoSettings {
    fn default() -> Self {
        Self {
            data: None,
            duration: Duration::from_secs(10),
            rate_per_s: 2_000,
            participants: 4,
            clearing_latency: Duration::ZERO,
            clearing_reject_ppm: 0,
            clearing_drop_ppm: 0,
            clearing_timeout: Duration::from_secs(2),
        }
    }
}

/// What the demo measured.
#[derive(Debug)]
pub struct DemoResult {
    pub load: LoadReport,
    pub max_submissions_per_uetr: u32,
    pub clearing_received: u64,
    pub journal_records: u64,
    pub elapsed: Duration,
}

impl DemoResult {
    /// Nothing stuck, nothing lost, nothing submitted twice.
    #[must_use]
    pub fn passed(&self) -> bool {
        self.load.stuck == 0 && self.load.unanswered == 0 && self.max_submissions_per_uetr <= 1
    }
}

/// Runs the demo and prints its report.
pub async fn run(settings: DemoSettings) -> anyhow::Result<DemoResult> {
    let started = Instant::now();
    let temp = tempfile::tempdir().context("creating a temporary data directory")?;
    let data_dir = settings.data.clone().unwrap_or_else(|| temp.path().to_path_buf());
    let names: Vec<String> = (0..settings.participants.max(1))
        .map(|i| format!("bank-{}", (b'a' + (i % 26) as u8) as char))
        .collect();
    let mut clients: Vec<&str> = names.iter().map(String::as_str).collect();
    clients.push("switchyard");
    let certs = DevCerts::generate(&["switchyard-node", "clearing-sim"], &clients)?;
    certs.write_to(&data_dir.join("certs"))?;
    let ca = certs.ca()?;

    let sim_config = SimConfig {
        latency: settings.clearing_latency,
        reject_ppm: settings.clearing_reject_ppm,
        drop_ppm: settings.clearing_drop_ppm,
        ..SimConfig::default()
    };
    let sim_tls = tls::server_config(&certs.identity("clearing-sim")?, &ca)?;
    let sim = sim::start(loopback(), sim_tls, sim_config).await.context("starting the clearing simulator")?;

    let config = node_config(&settings, &certs, data_dir.clone(), sim.addr)?;
    let node = Node::start(config).await?;
    println!(
        "switchyard demo: node on {} (data {}), clearing simulator on {}",
        node.addr,
        data_dir.display(),
        sim.addr
    );
    println!(
        "load: {} payments/s for {} s from {} participants over TLS 1.3 (mTLS), open loop",
        settings.rate_per_s,
        settings.duration.as_secs(),
        names.len()
    );
    wait_for_link(&sim.stats).await;

    let template: Pacs008 =
        read_pacs008(TEMPLATE, &IsoLimits::default()).map_err(|e| anyhow::anyhow!("demo template: {e}"))?;
    let participants = names
        .iter()
        .map(|name| {
            let client = ClientSpec {
                addr: node.addr,
                server_name: ServerName::try_from("switchyard-node").expect("static name"),
                tls: tls::client_config(&ca, Some(&certs.identity(name)?))?,
                max_frame_bytes: 1 << 20,
                timeout: Duration::from_secs(5),
            };
            anyhow::Ok(ParticipantSpec { name: name.clone(), client })
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    let spec = LoadSpec {
        participants,
        rate_per_s: settings.rate_per_s,
        duration: settings.duration,
        drain: settings.clearing_timeout + Duration::from_secs(5),
        template,
    };
    let load = loadgen::run(spec).await?;
    let max_submissions_per_uetr = sim.stats.max_submissions_per_uetr();
    let clearing_received = sim.stats.received.load(Ordering::Relaxed);
    node.stop().await?;
    sim.stop().await;
    let journal_records = switchyard_journal::read_all(&data_dir.join("journal"))?.count() as u64;
    let result = DemoResult {
        load,
        max_submissions_per_uetr,
        clearing_received,
        journal_records,
        elapsed: started.elapsed(),
    };
    print_report(&settings, &result);
    Ok(result)
}

fn loopback() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 0))
}

/// Waits (at most 10 s) until the switch's link has signed on to the simulator, so the first
/// payments do not measure the link's start-up.
async fn wait_for_link(stats: &SimStats) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while stats.sign_ons.load(Ordering::Relaxed) == 0 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// The node configuration the demo uses: every `bank-*` certificate is a tenant, one link "sim".
pub fn node_config(
    settings: &DemoSettings,
    certs: &DevCerts,
    data_dir: PathBuf,
    sim_addr: SocketAddr,
) -> anyhow::Result<NodeConfig> {
    let ca = certs.ca()?;
    let tenants = certs
        .issued
        .iter()
        .filter(|c| c.name.starts_with("bank-"))
        .map(|c| TenantConfig { name: c.name.clone(), certificate_name: c.name.clone() })
        .collect();
    let link = LinkConfig {
        name: "sim".into(),
        addr: sim_addr,
        server_name: "clearing-sim".into(),
        client_identity: certs.identity("switchyard")?,
        server_ca: ca.clone(),
    };
    let mut limits = Limits::default();
    limits.payment.clearing_timeout_ms =
        u64::try_from(settings.clearing_timeout.as_millis()).unwrap_or(u64::MAX);
    Ok(NodeConfig {
        data_dir,
        listen: loopback(),
        server_identity: certs.identity("switchyard-node")?,
        participant_ca: ca,
        tenants,
        links: vec![link],
        routes: RouteTable { routes: vec![Route { matches: RouteMatch::default(), link: "sim".into() }] },
        limits,
        journal: JournalTuning::default(),
    })
}

fn print_report(settings: &DemoSettings, r: &DemoResult) {
    let l = &r.load;
    let secs = l.elapsed.as_secs_f64().max(0.001);
    println!();
    println!("== Switchyard demo report ==");
    println!("submitted        {:>10}", l.submitted);
    println!("acknowledged     {:>10}   (pacs.002 ACTC, after fdatasync)", l.acknowledged);
    println!("settled          {:>10}   (pacs.002 ACSC)", l.settled);
    println!("rejected         {:>10}   (after ACTC, by the clearing house)", l.rejected);
    println!("refused          {:>10}   (before ACTC: validation, duplicate, busy)", l.refused);
    println!(
        "in doubt         {:>10}   (clearing timeout; resolved by pacs.028 in a later release)",
        l.in_doubt
    );
    println!("stuck            {:>10}", l.stuck);
    println!("lost             {:>10}   (sent, never answered)", l.unanswered);
    println!(
        "clearing submissions: {} received, max per UETR {}",
        r.clearing_received, r.max_submissions_per_uetr
    );
    println!("journal records  {:>10}", r.journal_records);
    println!(
        "throughput       {:>10.0} payments/s acknowledged (target {} /s, {} s)",
        l.acknowledged as f64 / secs,
        settings.rate_per_s,
        settings.duration.as_secs()
    );
    println!();
    println!("{}", latency_header());
    println!("{}", latency_row("ACK (→ACTC)", &l.ack_us));
    println!("{}", latency_row("final (→ACSC)", &l.final_us));
    println!();
    println!("result: {}", if r.passed() { "PASS (nothing stuck, lost or submitted twice)" } else { "FAIL" });
}
