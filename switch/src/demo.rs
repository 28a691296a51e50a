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

use std::num::NonZeroU32;

use anyhow::Context;
use switchyard_actors::rate::RateSpec;
use switchyard_actors::route::{Route, RouteMatch, RouteTable};
use switchyard_bench::client::{ClientSpec, Transport};
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
    /// Parts per million of submissions the simulator loses before recording them.
    pub clearing_lose_ppm: u32,
    /// How participants connect.
    pub transport: Transport,
    /// How long a payment waits for the clearing house before it is in doubt.
    pub clearing_timeout: Duration,
    /// The clearing scheme of the demo's link (`rtc`, ...); `None`: pass-through.
    pub scheme: Option<String>,
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
            clearing_lose_ppm: 0,
            clearing_timeout: Duration::from_secs(1),
            transport: Transport::Tls,
            scheme: None,
        }
    }
}

/// What the switch's journal says happened (the switch's own view, next to the participants').
#[derive(Debug, Default)]
pub struct JournalTally {
    pub records: u64,
    pub accepted: u64,
    pub settled: u64,
    pub rejected: u64,
    pub dead_lettered: u64,
    pub in_doubt: u64,
    /// Payments cancelled at a participant's request (camt.056).
    pub cancelled: u64,
    /// Settled payments returned (pacs.004).
    pub returned: u64,
    /// Outcomes learnt by status inquiry after a timeout or restart.
    pub resolved_by_inquiry: u64,
}

impl JournalTally {
    /// Reads every record of the journal in `dir`.
    pub fn read(dir: &std::path::Path) -> anyhow::Result<Self> {
        use switchyard_actors::{JournalRecord, Outcome};
        let mut t = Self::default();
        for record in switchyard_journal::read_all(dir)? {
            t.records += 1;
            match switchyard_journal::codec::decode::<JournalRecord>(&record?.payload)? {
                JournalRecord::Accepted(_) => t.accepted += 1,
                JournalRecord::Outcome(o) => {
                    match o.outcome {
                        Outcome::Settled => t.settled += 1,
                        Outcome::Rejected(_) => t.rejected += 1,
                        Outcome::DeadLettered(_) => t.dead_lettered += 1,
                        Outcome::InDoubt => t.in_doubt += 1,
                        Outcome::Cancelled(_) => t.cancelled += 1,
                        Outcome::Returned(_) => t.returned += 1,
                    }
                    if o.inquiries > 0 && o.outcome.is_final() {
                        t.resolved_by_inquiry += 1;
                    }
                }
                JournalRecord::Refused(_)
                | JournalRecord::Operator(_)
                | JournalRecord::UnmatchedReply(_)
                | JournalRecord::Inbound(_)
                | JournalRecord::Delivery(_) => {}
            }
        }
        Ok(t)
    }
}

/// What the simulator counted.
#[derive(Debug, Default)]
pub struct ClearingTally {
    pub received: u64,
    pub dropped: u64,
    pub lost: u64,
    pub inquiries: u64,
    pub not_found: u64,
    pub max_submissions_per_uetr: u32,
}

/// What the demo measured.
#[derive(Debug)]
pub struct DemoResult {
    pub load: LoadReport,
    pub clearing: ClearingTally,
    pub journal: JournalTally,
    pub elapsed: Duration,
}

impl DemoResult {
    /// Nothing stuck, nothing lost, nothing submitted twice.
    #[must_use]
    pub fn passed(&self) -> bool {
        self.load.stuck == 0 && self.load.unanswered == 0 && self.clearing.max_submissions_per_uetr <= 1
    }
}

/// `--data DIR` must be new or empty: the demo's report counts what its journal holds, so a
/// directory with another node's journal (or anything else) would mix two runs, and the demo
/// would write its certificates and journal among foreign files.
fn check_demo_dir(dir: &std::path::Path) -> anyhow::Result<()> {
    match std::fs::read_dir(dir) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(_) if !dir.is_dir() => anyhow::bail!("--data {}: not a directory", dir.display()),
        Err(e) => anyhow::bail!("--data {}: cannot read it: {e}", dir.display()),
        Ok(mut entries) => match entries.next() {
            None => Ok(()),
            Some(_) if dir.join("journal").exists() => anyhow::bail!(
                "--data {}: holds a journal (a node's or an earlier demo's data); the demo needs a new or empty directory",
                dir.display()
            ),
            Some(_) => anyhow::bail!(
                "--data {}: not empty; the demo needs a new or empty directory",
                dir.display()
            ),
        },
    }
}

/// Runs the demo and prints its report.
pub async fn run(settings: DemoSettings) -> anyhow::Result<DemoResult> {
    let started = Instant::now();
    let temp = tempfile::tempdir().context("creating a temporary data directory")?;
    if let Some(dir) = &settings.data {
        check_demo_dir(dir)?;
    }
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
        lose_ppm: settings.clearing_lose_ppm,
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
        "load: {} payments/s for {} s from {} participants over {} (mutual TLS 1.3), open loop",
        settings.rate_per_s,
        settings.duration.as_secs(),
        names.len(),
        match settings.transport {
            Transport::Tls => "TLS/TCP",
            Transport::Quic => "QUIC",
        }
    );
    wait_for_link(&sim.stats).await;

    let template: Pacs008 =
        read_pacs008(TEMPLATE, &IsoLimits::default()).map_err(|e| anyhow::anyhow!("demo template: {e}"))?;
    let participants = names
        .iter()
        .map(|name| {
            let client = ClientSpec {
                addr: match settings.transport {
                    Transport::Tls => node.addr,
                    Transport::Quic => node.quic_addr.context("QUIC listener not started")?,
                },
                transport: settings.transport,
                server_name: "switchyard-node".to_owned(),
                ca: ca.clone(),
                identity: Some(certs.identity(name)?),
                max_frame_bytes: 1 << 20,
                timeout: Duration::from_secs(5),
            };
            anyhow::Ok(ParticipantSpec { name: name.clone(), client, bic: Some(demo_bic(name)) })
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    let spec = LoadSpec {
        participants,
        rate_per_s: settings.rate_per_s,
        duration: settings.duration,
        // Long enough for every status inquiry a payment may make (limits.payment.max_inquiries).
        drain: settings.clearing_timeout * 8 + Duration::from_secs(5),
        template,
    };
    let load = loadgen::run(spec).await?;
    let s = &sim.stats;
    let clearing = ClearingTally {
        received: s.received.load(Ordering::Relaxed),
        dropped: s.dropped.load(Ordering::Relaxed),
        lost: s.lost.load(Ordering::Relaxed),
        inquiries: s.inquiries.load(Ordering::Relaxed),
        not_found: s.not_found.load(Ordering::Relaxed),
        max_submissions_per_uetr: s.max_submissions_per_uetr(),
    };
    node.stop().await?;
    sim.stop().await;
    let journal = JournalTally::read(&data_dir.join("journal"))?;
    let result = DemoResult { load, clearing, journal, elapsed: started.elapsed() };
    print_report(&settings, &result);
    Ok(result)
}

/// The BIC a demo participant instructs as: `bank-a` → ZYAAZAJJ, `bank-b` → ZYABZAJJ, ...
#[must_use]
pub fn demo_bic(participant: &str) -> switchyard_iso20022::Bic {
    let letter = participant.chars().last().filter(char::is_ascii_lowercase).unwrap_or('a');
    let text = format!("ZYA{}ZAJJ", letter.to_ascii_uppercase());
    switchyard_iso20022::Bic::parse(&text).expect("demo BICs are well-formed")
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
    // The demo's participants are well-behaved: give each tenant twice its share of the load.
    let share = settings.rate_per_s.div_ceil(settings.participants.max(1) as u64).saturating_mul(2).max(100);
    let per_second = NonZeroU32::new(u32::try_from(share).unwrap_or(u32::MAX)).unwrap_or(NonZeroU32::MIN);
    let rate = RateSpec { per_second, burst: per_second };
    let tenants = certs
        .issued
        .iter()
        .filter(|c| c.name.starts_with("bank-"))
        .map(|c| TenantConfig {
            name: c.name.clone(),
            certificate_name: c.name.clone(),
            rate,
            bics: vec![demo_bic(&c.name)],
            max_in_flight: None,
        })
        .collect();
    let link = LinkConfig {
        name: "sim".into(),
        addr: sim_addr,
        server_name: "clearing-sim".into(),
        client_identity: certs.identity("switchyard")?,
        server_ca: ca.clone(),
        scheme: settings.scheme.as_deref().map(switchyard_clearing::schemes::gate::GateOptions::new),
        transport: crate::config::LinkTransport::Tls,
        mode: crate::config::LinkMode::Dial,
    };
    let mut limits = Limits::default();
    limits.payment.clearing_timeout_ms =
        u64::try_from(settings.clearing_timeout.as_millis()).unwrap_or(u64::MAX);
    Ok(NodeConfig {
        data_dir,
        listen: loopback(),
        listen_quic: (settings.transport == Transport::Quic).then(loopback),
        admin_listen: None,
        admin_jwt: None,
        admin_tls: None,
        server_identity: certs.identity("switchyard-node")?,
        participant_ca: ca,
        tenants,
        links: vec![link],
        routes: RouteTable { routes: vec![Route::new(RouteMatch::default(), "sim")] },
        limits,
        journal: JournalTuning::default(),
    })
}

fn print_report(settings: &DemoSettings, r: &DemoResult) {
    let (l, j, c) = (&r.load, &r.journal, &r.clearing);
    println!();
    println!("== Switchyard demo report ==");
    println!("participants' ledger (independent of the switch):");
    println!("  submitted        {:>10}", l.submitted);
    println!("  acknowledged     {:>10}   pacs.002 ACTC, sent only after fdatasync", l.acknowledged);
    println!("  settled          {:>10}   pacs.002 ACSC", l.settled);
    println!("  rejected         {:>10}   RJCT after ACTC (clearing house, or dead-lettered)", l.rejected);
    println!("  refused          {:>10}   RJCT before ACTC (validation, duplicate, busy)", l.refused);
    println!(
        "  in doubt         {:>10}   PDNG: outcome still unknown after every status inquiry",
        l.in_doubt
    );
    println!("  stuck            {:>10}   acknowledged, no outcome by the end of the drain", l.stuck);
    println!("  lost             {:>10}   sent, never answered at all", l.unanswered);
    println!("switch journal:");
    println!(
        "  {} records: {} accepted, {} settled, {} rejected, {} dead-lettered, {} in doubt; {} resolved by status inquiry",
        j.records, j.accepted, j.settled, j.rejected, j.dead_lettered, j.in_doubt, j.resolved_by_inquiry
    );
    println!("  {} cancelled (camt.056), {} returned (pacs.004)", j.cancelled, j.returned);
    println!("clearing simulator:");
    println!(
        "  {} submissions ({} answers dropped, {} lost), {} status inquiries ({} not found); max submissions per UETR: {}",
        c.received, c.dropped, c.lost, c.inquiries, c.not_found, c.max_submissions_per_uetr
    );
    println!(
        "throughput         {:>8.0} payments/s acknowledged (target {} /s for {} s)",
        l.ack_throughput(),
        settings.rate_per_s,
        settings.duration.as_secs()
    );
    println!();
    println!("{}", latency_header());
    println!("{}", latency_row("ACK (→ACTC)", &l.ack_us));
    println!("{}", latency_row("final (→outcome)", &l.final_us));
    println!();
    println!("result: {}", if r.passed() { "PASS (nothing stuck, lost or submitted twice)" } else { "FAIL" });
}
