//! The campaign's working directory: development certificates, the node's and the simulator's
//! TOML files, and the ports they listen on (fixed for the whole campaign, so participants and
//! the node's clearing link find them again after every restart).

use std::fmt::Write as _;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use anyhow::Context;
use switchyard_wire::devcerts::DevCerts;

/// The participant banks of the campaign; each is a tenant with its own certificate.
pub const TENANTS: [&str; 2] = ["bank-a", "bank-b"];

/// Everything the campaign wrote before starting any process.
#[derive(Debug)]
pub struct Setup {
    pub dir: PathBuf,
    pub certs: DevCerts,
    /// Where participants connect: the node's TLS port, or its QUIC port with `quic`.
    pub node_addr: SocketAddr,
    /// The simulator's listening address (TCP, or UDP with `quic`).
    pub sim_addr: SocketAddr,
    pub node_config: PathBuf,
    pub sim_config: PathBuf,
    pub sim_stats: PathBuf,
    /// The node's data directory (journal, state store).
    pub data_dir: PathBuf,
}

/// Node settings that shape a cycle.
#[derive(Debug, Clone)]
pub struct NodeSettings {
    /// `fdatasync`, `power-loss-simulation` or `ack-before-sync` (`journal.sync`).
    pub journal_sync: String,
    pub clearing_timeout_ms: u64,
    pub drain_timeout_ms: u64,
    pub credit_window: u64,
    /// Simulator rejections, parts per million.
    pub reject_ppm: u32,
    /// Simulator answer latency.
    pub sim_latency_ms: u64,
    /// Participants and the clearing link over QUIC instead of TLS over TCP.
    pub quic: bool,
}

/// A port that was free a moment ago on 127.0.0.1.
fn free_port() -> anyhow::Result<SocketAddr> {
    Ok(SocketAddr::from(([127, 0, 0, 1], crate::ports::free_port(crate::ports::Protocols::Tcp)?)))
}

/// A UDP port that was free a moment ago on 127.0.0.1.
fn free_udp_port() -> anyhow::Result<SocketAddr> {
    Ok(SocketAddr::from(([127, 0, 0, 1], crate::ports::free_port(crate::ports::Protocols::Udp)?)))
}

/// Writes certificates and both configuration files into `dir`.
pub fn write(dir: &Path, settings: &NodeSettings) -> anyhow::Result<Setup> {
    let mut clients: Vec<&str> = TENANTS.to_vec();
    clients.push("switchyard");
    let certs = DevCerts::generate(&["switchyard-node", "clearing-sim"], &clients)?;
    certs.write_to(&dir.join("tls"))?;
    let tls_addr = free_port()?;
    let (node_addr, sim_addr) =
        if settings.quic { (free_udp_port()?, free_udp_port()?) } else { (tls_addr, free_port()?) };
    let quic_listen = if settings.quic { format!("listen_quic = \"{node_addr}\"\n") } else { String::new() };
    let transport = if settings.quic { "quic" } else { "tls" };
    let data_dir = dir.join("data");
    let mut node = format!(
        "[node]\ndata_dir = \"data\"\nlisten = \"{tls_addr}\"\n{quic_listen}\n\
         [tls]\ncertificate = \"tls/switchyard-node.pem\"\nprivate_key = \"tls/switchyard-node.key\"\n\
         participant_ca = \"tls/ca.pem\"\n\n\
         [limits]\ncredit_window = {}\nclearing_timeout_ms = {}\ndrain_timeout_ms = {}\n\
         handshake_timeout_ms = 10000\n\n\
         [journal]\nsegment_bytes = 4194304\nsync = \"{}\"\n\n",
        settings.credit_window,
        settings.clearing_timeout_ms,
        settings.drain_timeout_ms,
        settings.journal_sync
    );
    for tenant in TENANTS {
        let _ = write!(
            node,
            "[[tenants]]\nname = \"{tenant}\"\ncertificate_name = \"{tenant}\"\nrate_per_s = 100000\nburst = 100000\n\n"
        );
    }
    let _ = write!(
        node,
        "[[links]]\nname = \"sim\"\naddress = \"{sim_addr}\"\ntransport = \"{transport}\"\nserver_name = \"clearing-sim\"\n\
         certificate = \"tls/switchyard.pem\"\nprivate_key = \"tls/switchyard.key\"\nserver_ca = \"tls/ca.pem\"\n\n\
         [[routes]]\nlink = \"sim\"\n"
    );
    let node_config = dir.join("switchyard.toml");
    std::fs::write(&node_config, node).context("writing the node's configuration")?;
    let sim = format!(
        "listen = \"{sim_addr}\"\ntransport = \"{transport}\"\ncertificate = \"tls/clearing-sim.pem\"\nprivate_key = \"tls/clearing-sim.key\"\n\
         client_ca = \"tls/ca.pem\"\nlatency_ms = {}\nreject_ppm = {}\nstats_file = \"clearing-sim-stats.json\"\n",
        settings.sim_latency_ms, settings.reject_ppm
    );
    let sim_config = dir.join("clearing-sim.toml");
    std::fs::write(&sim_config, sim).context("writing the simulator's configuration")?;
    Ok(Setup {
        dir: dir.to_path_buf(),
        certs,
        node_addr,
        sim_addr,
        node_config,
        sim_config,
        sim_stats: dir.join("clearing-sim-stats.json"),
        data_dir,
    })
}
