//! The simulator's TOML file (`config/clearing-sim.toml`), parsed and validated like the node's.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use serde::Deserialize;
use switchyard_clearing::sim::SimConfig;
use switchyard_wire::tls::{self, load_ca, Identity};

use crate::config_file::ConfigError;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSim {
    /// `listen` (default: the switch dials the simulator) or `dial` (the simulator dials a
    /// switch whose clearing link is in accept mode).
    #[serde(default)]
    mode: Option<String>,
    /// `tls` (default) or `quic`.
    #[serde(default)]
    transport: Option<String>,
    /// Listen mode: where to listen.
    #[serde(default)]
    listen: Option<String>,
    /// Dial mode: the switch's clearing listener.
    #[serde(default)]
    dial: Option<String>,
    /// Dial mode: the name on the switch's server certificate.
    #[serde(default)]
    server_name: Option<String>,
    /// Dial mode: pause between connection attempts.
    #[serde(default = "default_dial_retry_ms")]
    dial_retry_ms: u64,
    certificate: PathBuf,
    private_key: PathBuf,
    client_ca: PathBuf,
    #[serde(default)]
    latency_ms: u64,
    #[serde(default)]
    reject_ppm: u32,
    #[serde(default)]
    drop_ppm: u32,
    #[serde(default)]
    lose_ppm: u32,
    #[serde(default)]
    latency_tail_mean_ms: u64,
    #[serde(default = "default_latency_max_ms")]
    latency_max_ms: u64,
    #[serde(default)]
    duplicate_ppm: u32,
    #[serde(default)]
    late_ppm: u32,
    #[serde(default = "default_late_by_ms")]
    late_by_ms: u64,
    #[serde(default)]
    crash_ppm: u32,
    #[serde(default)]
    cancel_held_ppm: u32,
    reject_reason: Option<String>,
    /// Where to write the per-UETR JSON snapshot (on SIGUSR1 and at exit); none when omitted.
    #[serde(default)]
    stats_file: Option<PathBuf>,
}

fn default_latency_max_ms() -> u64 {
    60_000
}

fn default_late_by_ms() -> u64 {
    5_000
}

fn default_dial_retry_ms() -> u64 {
    500
}

/// Where the simulator meets the switch.
#[derive(Debug)]
pub enum SimEndpoint {
    /// Listen on this address (the switch's link dials).
    Listen(SocketAddr),
    /// Dial the switch's accept-mode clearing link at this address; its server certificate
    /// must carry `server_name`.
    Dial { addr: SocketAddr, server_name: String, retry: Duration },
}

/// The simulator's transport.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SimTransport {
    Tls,
    Quic,
}

/// A validated simulator configuration.
#[derive(Debug)]
pub struct SimSetup {
    pub endpoint: SimEndpoint,
    pub transport: SimTransport,
    /// Listen mode: the server configuration (client certificate required).
    pub tls: Arc<rustls::ServerConfig>,
    /// The simulator's certificate (its client certificate in dial mode).
    pub identity: Identity,
    /// The CA that issues the switch's certificate.
    pub ca: Vec<rustls::pki_types::CertificateDer<'static>>,
    pub config: SimConfig,
    /// The JSON snapshot file (`stats_file`), resolved against the config file's directory.
    pub stats_file: Option<PathBuf>,
}

fn err(key: &str, reason: impl Into<String>) -> ConfigError {
    ConfigError { key: key.to_owned(), reason: reason.into() }
}

/// Reads and validates the simulator's file.
pub fn load(path: &Path) -> Result<SimSetup, ConfigError> {
    let raw: RawSim = crate::config_file::read_toml(path)?;
    let base = path.parent().unwrap_or(Path::new("."));
    let resolve = |p: &Path| if p.is_absolute() { p.to_path_buf() } else { base.join(p) };
    let addr = |key: &str, text: &str| -> Result<SocketAddr, ConfigError> {
        text.parse().map_err(|e| err(key, format!("{text:?} is not IP:port ({e})")))
    };
    let transport = match raw.transport.as_deref() {
        None | Some("tls") => SimTransport::Tls,
        Some("quic") => SimTransport::Quic,
        Some(other) => return Err(err("transport", format!("{other:?} is not \"tls\" or \"quic\""))),
    };
    let endpoint = match raw.mode.as_deref() {
        None | Some("listen") => {
            if raw.dial.is_some() || raw.server_name.is_some() {
                return Err(err("dial", "dial and server_name are for mode = \"dial\""));
            }
            SimEndpoint::Listen(addr(
                "listen",
                raw.listen.as_deref().ok_or_else(|| err("listen", "required"))?,
            )?)
        }
        Some("dial") => {
            if raw.listen.is_some() {
                return Err(err("listen", "not used in mode = \"dial\""));
            }
            let target =
                addr("dial", raw.dial.as_deref().ok_or_else(|| err("dial", "required in dial mode"))?)?;
            let server_name =
                raw.server_name.clone().ok_or_else(|| err("server_name", "required in dial mode"))?;
            rustls::pki_types::ServerName::try_from(server_name.clone()).map_err(|_| {
                err("server_name", format!("{server_name:?} is not a DNS name or IP address"))
            })?;
            if !(10..=60_000).contains(&raw.dial_retry_ms) {
                return Err(err("dial_retry_ms", format!("{} is outside 10..=60000", raw.dial_retry_ms)));
            }
            SimEndpoint::Dial { addr: target, server_name, retry: Duration::from_millis(raw.dial_retry_ms) }
        }
        Some(other) => return Err(err("mode", format!("{other:?} is not \"listen\" or \"dial\""))),
    };
    let identity = Identity::load(&resolve(&raw.certificate), &resolve(&raw.private_key))
        .map_err(|e| err("certificate", e.to_string()))?;
    let ca = load_ca(&resolve(&raw.client_ca)).map_err(|e| err("client_ca", e.to_string()))?;
    let tls = tls::server_config(&identity, &ca).map_err(|e| err("certificate", e.to_string()))?;
    if transport == SimTransport::Quic && matches!(endpoint, SimEndpoint::Listen(_)) {
        // Fail at load time, not at start: the configuration must suit QUIC.
        quinn::crypto::rustls::QuicServerConfig::try_from(Arc::clone(&tls))
            .map_err(|e| err("transport", format!("the TLS configuration does not suit QUIC: {e}")))?;
    }
    for (key, value) in [
        ("reject_ppm", raw.reject_ppm),
        ("drop_ppm", raw.drop_ppm),
        ("lose_ppm", raw.lose_ppm),
        ("duplicate_ppm", raw.duplicate_ppm),
        ("late_ppm", raw.late_ppm),
        ("crash_ppm", raw.crash_ppm),
        ("cancel_held_ppm", raw.cancel_held_ppm),
    ] {
        if value > 1_000_000 {
            return Err(err(key, format!("{value} is outside 0..=1000000")));
        }
    }
    for (key, value) in [
        ("latency_ms", raw.latency_ms),
        ("latency_tail_mean_ms", raw.latency_tail_mean_ms),
        ("latency_max_ms", raw.latency_max_ms),
        ("late_by_ms", raw.late_by_ms),
    ] {
        if value > 60_000 {
            return Err(err(key, format!("{value} is outside 0..=60000")));
        }
    }
    let reject_reason = match raw.reject_reason.as_deref() {
        None => SimConfig::default().reject_reason,
        Some(code) => switchyard_iso20022::ReasonCode::parse(code).ok_or_else(|| {
            err("reject_reason", format!("{code:?} is not an ISO 20022 status reason code"))
        })?,
    };
    let config = SimConfig {
        latency: Duration::from_millis(raw.latency_ms),
        latency_tail_mean: Duration::from_millis(raw.latency_tail_mean_ms),
        latency_max: Duration::from_millis(raw.latency_max_ms),
        reject_ppm: raw.reject_ppm,
        drop_ppm: raw.drop_ppm,
        lose_ppm: raw.lose_ppm,
        duplicate_ppm: raw.duplicate_ppm,
        late_ppm: raw.late_ppm,
        late_by: Duration::from_millis(raw.late_by_ms),
        crash_ppm: raw.crash_ppm,
        cancel_held_ppm: raw.cancel_held_ppm,
        reject_reason,
        ..SimConfig::default()
    };
    let stats_file = raw.stats_file.as_deref().map(resolve);
    if let Some(file) = &stats_file {
        // Found now, not when the first snapshot is due.
        let dir = file.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
        if !dir.is_dir() {
            return Err(err(
                "stats_file",
                format!("{}: directory {} does not exist", file.display(), dir.display()),
            ));
        }
        if file.is_dir() {
            return Err(err("stats_file", format!("{} is a directory", file.display())));
        }
    }
    Ok(SimSetup { endpoint, transport, tls, identity, ca, config, stats_file })
}

impl SimSetup {
    /// Starts the simulator as configured (needs a tokio runtime).
    ///
    /// # Errors
    /// A bind or TLS/QUIC setup failure, naming the address.
    pub async fn start(self) -> anyhow::Result<switchyard_clearing::sim::SimHandle> {
        use anyhow::Context;
        use switchyard_clearing::sim::{self, SimDial, SimDialTransport};
        Ok(match (self.endpoint, self.transport) {
            (SimEndpoint::Listen(at), SimTransport::Tls) => {
                sim::start(at, self.tls, self.config).await.with_context(|| format!("binding {at}"))?
            }
            (SimEndpoint::Listen(at), SimTransport::Quic) => {
                sim::start_quic(at, self.tls, self.config).with_context(|| format!("binding QUIC {at}"))?
            }
            (SimEndpoint::Dial { addr, server_name, retry }, transport) => {
                let transport = match transport {
                    SimTransport::Tls => {
                        SimDialTransport::Tls(tls::client_config(&self.ca, Some(&self.identity))?)
                    }
                    SimTransport::Quic => SimDialTransport::Quic(
                        switchyard_wire::quic::client_endpoint(&self.ca, Some(&self.identity))
                            .context("QUIC client endpoint")?,
                    ),
                };
                sim::start_dialing(SimDial { addr, server_name, transport, retry }, self.config)
            }
        })
    }
}

/// The simulator's record as JSON: totals, then one object per UETR (`uetr`, `submissions`,
/// `status`, `amount_minor`, `currency`). Read by `switchyard-bench crash` as the clearing
/// house's own view: submissions per UETR and settled amounts.
#[must_use]
pub fn stats_json(stats: &switchyard_clearing::sim::SimStats) -> serde_json::Value {
    use std::sync::atomic::Ordering::Relaxed;
    let uetrs: Vec<serde_json::Value> = stats
        .per_uetr()
        .into_iter()
        .map(|r| {
            serde_json::json!({
                "uetr": r.uetr,
                "submissions": r.submissions,
                "status": r.status.as_str(),
                "amount_minor": r.amount_minor,
                "currency": r.currency,
            })
        })
        .collect();
    serde_json::json!({
        "received": stats.received.load(Relaxed),
        "settled": stats.settled.load(Relaxed),
        "rejected": stats.rejected.load(Relaxed),
        "dropped": stats.dropped.load(Relaxed),
        "inquiries": stats.inquiries.load(Relaxed),
        "not_found": stats.not_found.load(Relaxed),
        "sign_ons": stats.sign_ons.load(Relaxed),
        "max_submissions_per_uetr": stats.max_submissions_per_uetr(),
        "uetrs": uetrs,
    })
}

/// Writes [`stats_json`] to `path` atomically (a temporary file renamed over it), so a reader
/// never sees half a snapshot.
pub fn write_stats(stats: &switchyard_clearing::sim::SimStats, path: &Path) -> std::io::Result<()> {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, serde_json::to_vec(&stats_json(stats)).map_err(std::io::Error::other)?)?;
    std::fs::rename(&tmp, path)
}
