//! The TOML configuration file, in two phases (ripgrep's lowargs → hiargs shape):
//! 1. [`RawConfig`]: plain serde structs with `deny_unknown_fields`, so a misspelt key is an
//!    error naming the key and line, never a silently ignored setting.
//! 2. [`RawConfig::validate`]: checks every bound, resolves every reference (routes → links) and
//!    loads every certificate, producing a [`NodeConfig`] before any socket is bound. Every error
//!    names the key, the value and the reason.
//!
//! `config/switchyard.toml` documents every key with its default and bound.

use std::collections::HashSet;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use std::num::NonZeroU32;

use serde::Deserialize;
use switchyard_actors::payment::PaymentLimits;
use switchyard_actors::rate::RateSpec;
use switchyard_actors::route::{Route, RouteMatch, RouteTable, DEFAULT_PRIORITY};
use switchyard_iso20022::Limits as IsoLimits;
use switchyard_wire::tls::{load_ca, Identity};

use switchyard_clearing::schemes::gate::{Gate, GateError, GateOptions};
use switchyard_clearing::schemes::proxy::{ProxyDirectory, ProxyTarget};

use crate::config::{JournalTuning, Limits, LinkConfig, LinkMode, LinkTransport, NodeConfig, TenantConfig};

/// A configuration problem: the key (empty for a file that cannot be read or parsed; the
/// caller names the file), and what is wrong with it.
#[derive(Debug, thiserror::Error)]
pub struct ConfigError {
    pub key: String,
    pub reason: String,
}

impl std::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.key.is_empty() {
            f.write_str(&self.reason)
        } else {
            write!(f, "{}: {}", self.key, self.reason)
        }
    }
}

/// Reads and parses a TOML configuration file: `cannot read it: <OS error>`, or the place
/// and TOML's message (`line 3, column 1: unknown field ...`) on one line.
pub(crate) fn read_toml<T: serde::de::DeserializeOwned>(path: &Path) -> Result<T, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|e| err("", format!("cannot read it: {e}")))?;
    toml::from_str(&text).map_err(|e| {
        let message = e.message().trim_end().replace('\n', "; ");
        let Some(span) = e.span() else { return err("", message) };
        let before = text.get(..span.start).unwrap_or(&text);
        let line = before.matches('\n').count() + 1;
        let column = before.chars().rev().take_while(|&c| c != '\n').count() + 1;
        err("", format!("line {line}, column {column}: {message}"))
    })
}

fn err(key: impl Into<String>, reason: impl Into<String>) -> ConfigError {
    ConfigError { key: key.into(), reason: reason.into() }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawConfig {
    pub node: RawNode,
    pub tls: RawTls,
    #[serde(default)]
    pub admin: Option<RawAdmin>,
    #[serde(default)]
    pub limits: RawLimits,
    #[serde(default)]
    pub journal: RawJournal,
    #[serde(default)]
    pub tenants: Vec<RawTenant>,
    #[serde(default)]
    pub links: Vec<RawLink>,
    #[serde(default)]
    pub routes: Vec<RawRoute>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawNode {
    pub data_dir: PathBuf,
    pub listen: String,
    pub listen_quic: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawAdmin {
    pub listen: String,
    /// A file holding the HS256 key (at least 32 bytes) for the `/v1` API's bearer tokens.
    pub jwt_secret_file: Option<PathBuf>,
    /// Mutual TLS on the admin listener: all three or none.
    pub tls_certificate: Option<PathBuf>,
    pub tls_private_key: Option<PathBuf>,
    pub client_ca: Option<PathBuf>,
    /// Admin client certificate names that are operators.
    #[serde(default)]
    pub operators: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawTls {
    pub certificate: PathBuf,
    pub private_key: PathBuf,
    pub participant_ca: PathBuf,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RawLimits {
    pub credit_window: u64,
    pub max_frame_bytes: u64,
    pub max_connections: u64,
    pub handshake_timeout_ms: u64,
    pub idle_timeout_ms: u64,
    pub frame_timeout_ms: u64,
    pub tenant_max_in_flight: u64,
    pub node_max_in_flight: u64,
    pub link_window: u64,
    pub link_heartbeat_ms: u64,
    pub clearing_timeout_ms: u64,
    pub max_message_bytes: u64,
    pub drain_timeout_ms: u64,
    pub retry_base_ms: u64,
    pub retry_max_ms: u64,
    pub retry_jitter_pct: u64,
    pub reinquiry_base_ms: u64,
    pub reinquiry_max_ms: u64,
    pub inbound_answer_timeout_ms: u64,
}

impl Default for RawLimits {
    fn default() -> Self {
        let d = Limits::default();
        let ms = |t: Duration| u64::try_from(t.as_millis()).unwrap_or(u64::MAX);
        Self {
            credit_window: d.credit_window as u64,
            max_frame_bytes: d.max_frame_bytes as u64,
            max_connections: d.max_connections as u64,
            handshake_timeout_ms: ms(d.handshake_timeout),
            idle_timeout_ms: ms(d.idle_timeout),
            frame_timeout_ms: ms(d.frame_timeout),
            tenant_max_in_flight: d.tenant_max_in_flight as u64,
            node_max_in_flight: d.node_max_in_flight as u64,
            link_window: d.link_window as u64,
            link_heartbeat_ms: ms(d.link_heartbeat),
            clearing_timeout_ms: d.payment.clearing_timeout_ms,
            max_message_bytes: d.iso.max_message_bytes as u64,
            drain_timeout_ms: ms(d.drain_timeout),
            retry_base_ms: d.payment.retry_base_ms,
            retry_max_ms: d.payment.retry_max_ms,
            retry_jitter_pct: u64::from(d.payment.retry_jitter_pct),
            reinquiry_base_ms: d.payment.reinquiry_base_ms,
            reinquiry_max_ms: d.payment.reinquiry_max_ms,
            inbound_answer_timeout_ms: d.payment.inbound_answer_timeout_ms,
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RawJournal {
    pub segment_bytes: u64,
    pub max_batch_records: u64,
    pub queue_capacity: u64,
    /// Sync pacing, microseconds (0 = off).
    pub min_sync_interval_us: u64,
    pub checkpoint_interval_ms: u64,
    pub state_cache_bytes: u64,
    /// `fdatasync` (production), or a test mode of the crash campaign (docs/RELIABILITY.md).
    pub sync: String,
}

/// The environment variable that must be `1` for `journal.sync = "ack-before-sync"` (the
/// canary that acknowledges before fdatasync) to be accepted.
pub const ALLOW_CANARY_ENV: &str = "SWITCHYARD_ALLOW_CANARY";

impl Default for RawJournal {
    fn default() -> Self {
        let d = JournalTuning::default();
        Self {
            segment_bytes: d.segment_bytes,
            max_batch_records: d.max_batch_records as u64,
            queue_capacity: d.queue_capacity as u64,
            min_sync_interval_us: d.min_sync_interval.as_micros() as u64,
            checkpoint_interval_ms: d.checkpoint_interval.map_or(0, |i| i.as_millis() as u64),
            state_cache_bytes: d.state_cache_bytes,
            sync: "fdatasync".to_owned(),
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawTenant {
    pub name: String,
    pub certificate_name: String,
    pub rate_per_s: Option<u32>,
    pub burst: Option<u32>,
    #[serde(default)]
    pub bics: Vec<String>,
    /// This tenant's in-flight budget (default: limits.tenant_max_in_flight).
    pub max_in_flight: Option<u64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawLink {
    pub name: String,
    /// `dial` (default: the node connects to `address`) or `accept` (the clearing house
    /// connects to `listen`, presenting a certificate named `peer_name`).
    pub mode: Option<String>,
    /// `tls` (default) or `quic`.
    pub transport: Option<String>,
    /// Dial mode: the clearing house's address.
    pub address: Option<String>,
    /// Dial mode: the name on the clearing house's server certificate.
    pub server_name: Option<String>,
    /// Accept mode: where the node listens for the clearing house.
    pub listen: Option<String>,
    /// Accept mode: the certificate name the clearing house must present.
    pub peer_name: Option<String>,
    pub certificate: PathBuf,
    pub private_key: PathBuf,
    pub server_ca: PathBuf,
    /// `samos`, `bankserv`, `rtc`, `payshap` or `swift`; absent: pass-through.
    pub scheme: Option<String>,
    /// PayShap only: the per-transaction limit in cents.
    pub scheme_max_amount_minor: Option<i64>,
    /// The BIC the switch submits to the scheme as (leg `InstgAgt`).
    pub member_bic: Option<String>,
    /// Refuse payments outside the scheme's operating window (default true).
    pub check_window: Option<bool>,
    /// PayShap only: a TOML file of `[[proxy]]` entries (`id`, `account`, optional `agent`);
    /// creditor proxies are then resolved by the switch.
    pub proxy_directory: Option<PathBuf>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawProxyFile {
    #[serde(default)]
    proxy: Vec<RawProxy>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawProxy {
    id: String,
    account: String,
    agent: Option<String>,
}

/// Largest proxy directory file read (64 MiB).
const MAX_PROXY_FILE_BYTES: u64 = 64 << 20;

/// Reads a PayShap proxy directory (`links[].proxy_directory`).
fn proxy_directory(key: &str, path: &Path) -> Result<ProxyDirectory, ConfigError> {
    let shown = path.display();
    let size = std::fs::metadata(path).map_err(|e| err(key, format!("{shown}: {e}")))?.len();
    if size > MAX_PROXY_FILE_BYTES {
        return Err(err(key, format!("{shown}: {size} bytes is over the {MAX_PROXY_FILE_BYTES}-byte limit")));
    }
    let raw: RawProxyFile = read_toml(path).map_err(|e| err(key, format!("{shown}: {}", e.reason)))?;
    let mut entries = Vec::with_capacity(raw.proxy.len());
    for (index, p) in raw.proxy.into_iter().enumerate() {
        let agent = p
            .agent
            .as_deref()
            .map(|b| {
                switchyard_iso20022::Bic::parse(b)
                    .ok_or_else(|| err(key, format!("{shown}: proxy[{index}].agent {b:?} is not a BIC")))
            })
            .transpose()?;
        entries.push((p.id, ProxyTarget { account: p.account, agent }));
    }
    ProxyDirectory::new(entries).map_err(|e| err(key, format!("{shown}: {e}")))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRoute {
    pub link: String,
    pub currency: Option<String>,
    pub creditor_agent_prefix: Option<String>,
    pub tenant: Option<String>,
    pub message_type: Option<String>,
    pub min_amount_minor: Option<i64>,
    pub max_amount_minor: Option<i64>,
    pub creditor_agent: Option<String>,
    pub clearing_system: Option<String>,
    pub service_level: Option<String>,
    pub priority: Option<u32>,
    #[serde(default)]
    pub alternates: Vec<String>,
}

/// Message types a route may name (what the node routes to clearing links).
const ROUTABLE_MESSAGE_TYPES: &[&str] = &["pacs.008", "pacs.009"];
/// Bound on a route's priority.
const MAX_ROUTE_PRIORITY: u32 = 1_000_000;
/// Bound on a route's alternates.
const MAX_ALTERNATES: usize = 8;

/// Reads and validates a configuration file. Relative paths in it are relative to the file.
pub fn load(path: &Path) -> Result<NodeConfig, ConfigError> {
    let raw: RawConfig = read_toml(path)?;
    raw.validate(path.parent().unwrap_or(Path::new(".")))
}

fn jwt_key(path: &Path) -> Result<crate::admin::JwtKey, ConfigError> {
    let key = "admin.jwt_secret_file";
    let bytes = std::fs::read(path).map_err(|e| err(key, format!("{}: {e}", path.display())))?;
    let trimmed = bytes.trim_ascii();
    if trimmed.len() < 32 {
        return Err(err(key, format!("{}: the key must be at least 32 bytes", path.display())));
    }
    Ok(crate::admin::JwtKey(trimmed.into()))
}

fn admin_tls(
    a: &RawAdmin,
    resolve: &impl Fn(&Path) -> PathBuf,
) -> Result<Option<crate::admin_tls::AdminTls>, ConfigError> {
    let key = "admin.tls_certificate / admin.tls_private_key / admin.client_ca";
    let (cert, private_key, ca) = match (&a.tls_certificate, &a.tls_private_key, &a.client_ca) {
        (None, None, None) => {
            if !a.operators.is_empty() {
                return Err(err("admin.operators", "needs admin TLS (client certificates)"));
            }
            return Ok(None);
        }
        (Some(c), Some(k), Some(ca)) => (c, k, ca),
        _ => return Err(err(key, "set all three for admin mTLS, or none")),
    };
    let identity =
        Identity::load(&resolve(cert), &resolve(private_key)).map_err(|e| err(key, e.to_string()))?;
    let ca = load_ca(&resolve(ca)).map_err(|e| err("admin.client_ca", e.to_string()))?;
    let server = switchyard_wire::tls::server_config(&identity, &ca).map_err(|e| err(key, e.to_string()))?;
    Ok(Some(crate::admin_tls::AdminTls { server, operators: a.operators.clone() }))
}

fn bounded(key: &str, value: u64, min: u64, max: u64) -> Result<usize, ConfigError> {
    if value < min || value > max {
        return Err(err(key, format!("{value} is outside {min}..={max}")));
    }
    usize::try_from(value).map_err(|_| err(key, format!("{value} does not fit this platform")))
}

fn millis(key: &str, value: u64, min: u64, max: u64) -> Result<Duration, ConfigError> {
    bounded(key, value, min, max).map(|_| Duration::from_millis(value))
}

fn address(key: &str, value: &str) -> Result<SocketAddr, ConfigError> {
    value.parse().map_err(|e| err(key, format!("{value:?} is not an IP:port address ({e})")))
}

impl RawConfig {
    /// Phase 2: bounds, references and certificates.
    pub fn validate(self, base: &Path) -> Result<NodeConfig, ConfigError> {
        let resolve = |p: &Path| if p.is_absolute() { p.to_path_buf() } else { base.join(p) };
        let listen = address("node.listen", &self.node.listen)?;
        let listen_quic =
            self.node.listen_quic.as_deref().map(|a| address("node.listen_quic", a)).transpose()?;
        let server_identity =
            Identity::load(&resolve(&self.tls.certificate), &resolve(&self.tls.private_key))
                .map_err(|e| err("tls.certificate / tls.private_key", e.to_string()))?;
        let participant_ca = load_ca(&resolve(&self.tls.participant_ca))
            .map_err(|e| err("tls.participant_ca", e.to_string()))?;
        let limits = self.limits.validate()?;
        let journal = self.journal.validate()?;
        let tenants = validate_tenants(self.tenants)?;
        let links = self
            .links
            .into_iter()
            .enumerate()
            .map(|(i, l)| l.validate(i, &resolve))
            .collect::<Result<Vec<_>, _>>()?;
        check_link_names(&links)?;
        let routes = validate_routes(self.routes, &links, &tenants)?;
        let admin_listen = self.admin.as_ref().map(|a| address("admin.listen", &a.listen)).transpose()?;
        check_listeners(listen, listen_quic, admin_listen, &links)?;
        Ok(NodeConfig {
            data_dir: resolve(&self.node.data_dir),
            listen,
            listen_quic,
            admin_listen,
            admin_jwt: self
                .admin
                .as_ref()
                .and_then(|a| a.jwt_secret_file.as_ref())
                .map(|f| jwt_key(&resolve(f)))
                .transpose()?,
            admin_tls: self.admin.as_ref().map(|a| admin_tls(a, &resolve)).transpose()?.flatten(),
            server_identity,
            participant_ca,
            tenants,
            links,
            routes,
            limits,
            journal,
        })
    }
}

/// Tenant and link names (metric labels, admin API paths, log fields): non-empty ASCII
/// letters, digits, `-`, `_` and `.`.
fn plain_name(key: &str, name: &str) -> Result<(), ConfigError> {
    if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c)) {
        return Err(err(key, format!("{name:?} must be non-empty ASCII letters, digits, '-', '_' or '.'")));
    }
    Ok(())
}

/// Link names are unique (routes, metrics and the admin API name links by them).
fn check_link_names(links: &[LinkConfig]) -> Result<(), ConfigError> {
    let mut names = HashSet::new();
    for (i, l) in links.iter().enumerate() {
        plain_name(&format!("links[{i}].name"), &l.name)?;
        if !names.insert(l.name.as_str()) {
            return Err(err(format!("links[{i}].name"), format!("{:?} is defined twice", l.name)));
        }
    }
    Ok(())
}

/// No two listeners of the node on one address and protocol (TCP: `node.listen`,
/// `admin.listen`, accept-mode TLS links; UDP: `node.listen_quic`, accept-mode QUIC links), so
/// a configuration that passes `check-config` does not fail to bind at start. (Port 0 asks the
/// kernel for a free port and never clashes.)
fn check_listeners(
    listen: SocketAddr,
    listen_quic: Option<SocketAddr>,
    admin: Option<SocketAddr>,
    links: &[LinkConfig],
) -> Result<(), ConfigError> {
    let mut tcp: Vec<(String, SocketAddr)> = vec![("node.listen".to_owned(), listen)];
    let mut udp: Vec<(String, SocketAddr)> =
        listen_quic.map(|a| ("node.listen_quic".to_owned(), a)).into_iter().collect();
    tcp.extend(admin.map(|a| ("admin.listen".to_owned(), a)));
    for (i, l) in links.iter().enumerate() {
        if matches!(l.mode, LinkMode::Accept { .. }) {
            let side = if l.transport == LinkTransport::Quic { &mut udp } else { &mut tcp };
            side.push((format!("links[{i}].listen"), l.addr));
        }
    }
    for side in [&tcp, &udp] {
        for (j, (key, addr)) in side.iter().enumerate() {
            let clash = side[..j].iter().find(|(_, other)| {
                addr.port() != 0
                    && other.port() == addr.port()
                    && (other.ip() == addr.ip() || other.ip().is_unspecified() || addr.ip().is_unspecified())
            });
            if let Some((first, _)) = clash {
                return Err(err(key.clone(), format!("{addr} is already {first}'s address")));
            }
        }
    }
    Ok(())
}

impl RawLimits {
    fn validate(self) -> Result<Limits, ConfigError> {
        let defaults = Limits::default();
        let max_frame_bytes = bounded("limits.max_frame_bytes", self.max_frame_bytes, 4096, 16 << 20)?;
        let max_message = bounded("limits.max_message_bytes", self.max_message_bytes, 1024, 16 << 20)?;
        if max_message > max_frame_bytes {
            let reason = format!("{max_message} exceeds limits.max_frame_bytes ({max_frame_bytes})");
            return Err(err("limits.max_message_bytes", reason));
        }
        let clearing_timeout = millis("limits.clearing_timeout_ms", self.clearing_timeout_ms, 10, 3_600_000)?;
        Ok(Limits {
            credit_window: bounded("limits.credit_window", self.credit_window, 1, 65_536)?,
            max_frame_bytes,
            max_connections: bounded("limits.max_connections", self.max_connections, 1, 100_000)?,
            handshake_timeout: millis("limits.handshake_timeout_ms", self.handshake_timeout_ms, 100, 60_000)?,
            idle_timeout: millis("limits.idle_timeout_ms", self.idle_timeout_ms, 1_000, 3_600_000)?,
            frame_timeout: millis("limits.frame_timeout_ms", self.frame_timeout_ms, 100, 600_000)?,
            tenant_max_in_flight: bounded(
                "limits.tenant_max_in_flight",
                self.tenant_max_in_flight,
                1,
                10_000_000,
            )?,
            node_max_in_flight: bounded("limits.node_max_in_flight", self.node_max_in_flight, 1, 10_000_000)?,
            link_window: bounded("limits.link_window", self.link_window, 1, 1_000_000)?,
            link_heartbeat: millis("limits.link_heartbeat_ms", self.link_heartbeat_ms, 100, 600_000)?,
            drain_timeout: millis("limits.drain_timeout_ms", self.drain_timeout_ms, 0, 3_600_000)?,
            payment: PaymentLimits {
                clearing_timeout_ms: u64::try_from(clearing_timeout.as_millis()).unwrap_or(u64::MAX),
                retry_base_ms: bounded("limits.retry_base_ms", self.retry_base_ms, 1, 60_000)? as u64,
                retry_max_ms: {
                    let max = bounded("limits.retry_max_ms", self.retry_max_ms, 1, 3_600_000)? as u64;
                    if max < self.retry_base_ms {
                        return Err(err(
                            "limits.retry_max_ms",
                            format!("{max} is below limits.retry_base_ms"),
                        ));
                    }
                    max
                },
                retry_jitter_pct: bounded("limits.retry_jitter_pct", self.retry_jitter_pct, 0, 100)? as u32,
                reinquiry_base_ms: bounded("limits.reinquiry_base_ms", self.reinquiry_base_ms, 10, 3_600_000)?
                    as u64,
                reinquiry_max_ms: {
                    let max =
                        bounded("limits.reinquiry_max_ms", self.reinquiry_max_ms, 10, 86_400_000)? as u64;
                    if max < self.reinquiry_base_ms {
                        return Err(err(
                            "limits.reinquiry_max_ms",
                            format!("{max} is below limits.reinquiry_base_ms"),
                        ));
                    }
                    max
                },
                inbound_answer_timeout_ms: bounded(
                    "limits.inbound_answer_timeout_ms",
                    self.inbound_answer_timeout_ms,
                    100,
                    86_400_000,
                )? as u64,
                ..defaults.payment
            },
            iso: IsoLimits { max_message_bytes: max_message, ..defaults.iso },
            ..defaults
        })
    }
}

impl RawJournal {
    fn validate(self) -> Result<JournalTuning, ConfigError> {
        use switchyard_journal::SyncMode;
        let sync = match self.sync.as_str() {
            "fdatasync" => SyncMode::Fdatasync,
            "power-loss-simulation" => SyncMode::PowerLossSimulation,
            "ack-before-sync" if std::env::var(ALLOW_CANARY_ENV).as_deref() == Ok("1") => {
                SyncMode::AckBeforeSync
            }
            "ack-before-sync" => {
                return Err(err(
                    "journal.sync",
                    format!(
                        "\"ack-before-sync\" acknowledges payments before they are durable; it is \
                         the crash campaign's canary and needs {ALLOW_CANARY_ENV}=1"
                    ),
                ))
            }
            other => {
                return Err(err(
                    "journal.sync",
                    format!(
                    "{other:?} is not one of \"fdatasync\", \"power-loss-simulation\", \"ack-before-sync\""
                ),
                ))
            }
        };
        Ok(JournalTuning {
            sync,
            segment_bytes: bounded("journal.segment_bytes", self.segment_bytes, 1 << 20, 1 << 30)? as u64,
            max_batch_records: bounded("journal.max_batch_records", self.max_batch_records, 1, 1 << 20)?,
            queue_capacity: bounded("journal.queue_capacity", self.queue_capacity, 16, 1 << 24)?,
            min_sync_interval: Duration::from_micros(bounded(
                "journal.min_sync_interval_us",
                self.min_sync_interval_us,
                0,
                switchyard_journal::MAX_MIN_SYNC_INTERVAL.as_micros() as u64,
            )? as u64),
            checkpoint_interval: match self.checkpoint_interval_ms {
                0 => None,
                ms => Some(millis("journal.checkpoint_interval_ms", ms, 100, 86_400_000)?),
            },
            state_cache_bytes: bounded("journal.state_cache_bytes", self.state_cache_bytes, 1 << 20, 1 << 34)?
                as u64,
        })
    }
}

fn validate_tenants(raw: Vec<RawTenant>) -> Result<Vec<TenantConfig>, ConfigError> {
    let mut names = HashSet::new();
    let mut certs = HashSet::new();
    let mut out = Vec::new();
    for (i, t) in raw.into_iter().enumerate() {
        plain_name(&format!("tenants[{i}].name"), &t.name)?;
        if !names.insert(t.name.clone()) {
            return Err(err(format!("tenants[{i}].name"), format!("{:?} is defined twice", t.name)));
        }
        if t.certificate_name.trim().is_empty() {
            return Err(err(
                format!("tenants[{i}].certificate_name"),
                "must name the participant's client certificate (it is empty)",
            ));
        }
        if !certs.insert(t.certificate_name.clone()) {
            return Err(err(
                format!("tenants[{i}].certificate_name"),
                format!("{:?} already maps to another tenant", t.certificate_name),
            ));
        }
        let default = RateSpec::default();
        let nonzero = |key: &str, v: Option<u32>, d: NonZeroU32| match v {
            None => Ok(d),
            Some(v) => NonZeroU32::new(v)
                .filter(|v| v.get() <= 1_000_000)
                .ok_or_else(|| err(format!("tenants[{i}].{key}"), format!("{v} is outside 1..=1000000"))),
        };
        let rate = RateSpec {
            per_second: nonzero("rate_per_s", t.rate_per_s, default.per_second)?,
            burst: nonzero("burst", t.burst, default.burst)?,
        };
        let bics = t
            .bics
            .iter()
            .map(|b| {
                switchyard_iso20022::Bic::parse(b).ok_or_else(|| {
                    err(
                        format!("tenants[{i}].bics"),
                        format!("{b:?} is not a BIC (8 or 11 characters, ISO 9362)"),
                    )
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        let max_in_flight = t
            .max_in_flight
            .map(|v| bounded(&format!("tenants[{i}].max_in_flight"), v, 1, 10_000_000))
            .transpose()?;
        out.push(TenantConfig {
            name: t.name,
            certificate_name: t.certificate_name,
            rate,
            bics,
            max_in_flight,
        });
    }
    Ok(out)
}

impl RawLink {
    fn validate(self, i: usize, resolve: &impl Fn(&Path) -> PathBuf) -> Result<LinkConfig, ConfigError> {
        let key = |k: &str| format!("links[{i}].{k}");
        let transport = match self.transport.as_deref() {
            None | Some("tls") => LinkTransport::Tls,
            Some("quic") => LinkTransport::Quic,
            Some(other) => {
                return Err(err(key("transport"), format!("{other:?} is not \"tls\" or \"quic\"")))
            }
        };
        let dial_only = [("address", self.address.is_some()), ("server_name", self.server_name.is_some())];
        let accept_only = [("listen", self.listen.is_some()), ("peer_name", self.peer_name.is_some())];
        let misplaced = |keys: &[(&str, bool)], mode: &str| {
            keys.iter().find(|(_, set)| *set).map_or(Ok(()), |(k, _)| {
                Err(err(key(k), format!("not used in mode = \"{mode}\"; remove it")))
            })
        };
        let (addr, server_name, mode) = match self.mode.as_deref() {
            None | Some("dial") => {
                misplaced(&accept_only, "dial")?;
                let target =
                    self.address.as_deref().ok_or_else(|| err(key("address"), "required in dial mode"))?;
                let server_name = self
                    .server_name
                    .clone()
                    .ok_or_else(|| err(key("server_name"), "required in dial mode"))?;
                rustls::pki_types::ServerName::try_from(server_name.clone()).map_err(|_| {
                    err(key("server_name"), format!("{server_name:?} is not a DNS name or IP address"))
                })?;
                (address(&key("address"), target)?, server_name, LinkMode::Dial)
            }
            Some("accept") => {
                misplaced(&dial_only, "accept")?;
                let listen =
                    self.listen.as_deref().ok_or_else(|| err(key("listen"), "required in accept mode"))?;
                let peer_name = self
                    .peer_name
                    .clone()
                    .filter(|p| !p.is_empty() && p.len() <= 255)
                    .ok_or_else(|| err(key("peer_name"), "required in accept mode (1-255 characters)"))?;
                (address(&key("listen"), listen)?, String::new(), LinkMode::Accept { peer_name })
            }
            Some(other) => {
                return Err(err(key("mode"), format!("{other:?} is not \"dial\" or \"accept\"")));
            }
        };
        let client_identity = Identity::load(&resolve(&self.certificate), &resolve(&self.private_key))
            .map_err(|e| err(key("certificate"), e.to_string()))?;
        let server_ca =
            load_ca(&resolve(&self.server_ca)).map_err(|e| err(key("server_ca"), e.to_string()))?;
        let scheme = self.scheme_options(i, resolve)?;
        Ok(LinkConfig {
            name: self.name,
            addr,
            server_name,
            client_identity,
            server_ca,
            scheme,
            transport,
            mode,
        })
    }

    fn scheme_options(
        &self,
        i: usize,
        resolve: &impl Fn(&Path) -> PathBuf,
    ) -> Result<Option<GateOptions>, ConfigError> {
        let key = |k: &str| format!("links[{i}].{k}");
        let Some(name) = &self.scheme else {
            for (set, k) in [
                (self.scheme_max_amount_minor.is_some(), "scheme_max_amount_minor"),
                (self.member_bic.is_some(), "member_bic"),
                (self.check_window.is_some(), "check_window"),
                (self.proxy_directory.is_some(), "proxy_directory"),
            ] {
                if set {
                    return Err(err(key(k), "only meaningful with links[].scheme"));
                }
            }
            return Ok(None);
        };
        let member_bic = self
            .member_bic
            .as_deref()
            .map(|b| {
                switchyard_iso20022::Bic::parse(b).ok_or_else(|| {
                    err(key("member_bic"), format!("{b:?} is not a BIC (8 or 11 characters, ISO 9362)"))
                })
            })
            .transpose()?;
        let options = GateOptions {
            scheme: name.clone(),
            max_amount_minor: self.scheme_max_amount_minor,
            member_bic,
            check_window: self.check_window.unwrap_or(true),
            proxy_directory: self
                .proxy_directory
                .as_deref()
                .map(|p| proxy_directory(&key("proxy_directory"), &resolve(p)).map(std::sync::Arc::new))
                .transpose()?,
        };
        Gate::new(&options).map_err(|e| {
            let k = match e {
                GateError::UnknownScheme(_) => "scheme",
                GateError::DirectoryNotApplicable(_) => "proxy_directory",
                _ => "scheme_max_amount_minor",
            };
            err(key(k), e.to_string())
        })?;
        Ok(Some(options))
    }
}

fn validate_routes(
    raw: Vec<RawRoute>,
    links: &[LinkConfig],
    tenants: &[TenantConfig],
) -> Result<RouteTable, ConfigError> {
    let mut routes = Vec::new();
    for (i, r) in raw.into_iter().enumerate() {
        let key = |field: &str| format!("routes[{i}].{field}");
        let known_link = |name: &str| links.iter().any(|l| l.name == name);
        if !known_link(&r.link) {
            return Err(err(key("link"), format!("{:?} is not a configured link", r.link)));
        }
        if r.alternates.len() > MAX_ALTERNATES {
            return Err(err(key("alternates"), format!("at most {MAX_ALTERNATES} alternates")));
        }
        for (j, alt) in r.alternates.iter().enumerate() {
            if !known_link(alt) {
                return Err(err(
                    format!("routes[{i}].alternates[{j}]"),
                    format!("{alt:?} is not a configured link"),
                ));
            }
            if *alt == r.link || r.alternates[..j].contains(alt) {
                return Err(err(format!("routes[{i}].alternates[{j}]"), format!("{alt:?} is named twice")));
            }
        }
        if let Some(ccy) = &r.currency {
            if switchyard_iso20022::Currency::parse(ccy).is_none() {
                return Err(err(key("currency"), format!("{ccy:?} is not an active ISO 4217 currency")));
            }
        }
        if let Some(t) = &r.tenant {
            if !tenants.iter().any(|c| &c.name == t) {
                return Err(err(key("tenant"), format!("{t:?} is not a configured tenant")));
            }
        }
        if let Some(m) = &r.message_type {
            if !ROUTABLE_MESSAGE_TYPES.contains(&m.as_str()) {
                return Err(err(
                    key("message_type"),
                    format!("{m:?} is not routed; one of {ROUTABLE_MESSAGE_TYPES:?}"),
                ));
            }
        }
        for (field, value) in
            [("min_amount_minor", r.min_amount_minor), ("max_amount_minor", r.max_amount_minor)]
        {
            if value.is_some_and(|v| v < 0) {
                return Err(err(key(field), "must be 0 or more (integer minor units)".to_owned()));
            }
        }
        if let (Some(min), Some(max)) = (r.min_amount_minor, r.max_amount_minor) {
            if min > max {
                return Err(err(key("min_amount_minor"), format!("{min} is above max_amount_minor {max}")));
            }
        }
        let prefix = match (r.creditor_agent, r.creditor_agent_prefix) {
            (Some(_), Some(_)) => {
                return Err(err(
                    key("creditor_agent"),
                    "give creditor_agent or creditor_agent_prefix, not both".to_owned(),
                ))
            }
            (Some(bic), None) => {
                let parsed = switchyard_iso20022::Bic::parse(&bic)
                    .ok_or_else(|| err(key("creditor_agent"), format!("{bic:?} is not a BIC")))?;
                // A BIC matches its institution: BIC8 and BIC11 alike.
                Some(parsed.as_str()[..8].to_owned())
            }
            (None, Some(p)) => {
                let valid = (1..=11).contains(&p.len())
                    && p.chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit());
                if !valid {
                    return Err(err(key("creditor_agent_prefix"), format!("{p:?} is not 1-11 of A-Z, 0-9")));
                }
                Some(p)
            }
            (None, None) => None,
        };
        for (field, value) in [("clearing_system", &r.clearing_system), ("service_level", &r.service_level)] {
            if value.as_ref().is_some_and(|v| v.is_empty() || v.len() > 35) {
                return Err(err(key(field), "must be 1-35 characters".to_owned()));
            }
        }
        let priority = r.priority.unwrap_or(DEFAULT_PRIORITY);
        if priority > MAX_ROUTE_PRIORITY {
            return Err(err(key("priority"), format!("at most {MAX_ROUTE_PRIORITY}")));
        }
        let matches = RouteMatch {
            message_type: r.message_type,
            currency: r.currency,
            min_amount_minor: r.min_amount_minor,
            max_amount_minor: r.max_amount_minor,
            creditor_agent_prefix: prefix,
            clearing_system: r.clearing_system,
            service_level: r.service_level,
            tenant: r.tenant,
        };
        routes.push(Route { matches, link: r.link, priority, alternates: r.alternates });
    }
    Ok(RouteTable { routes })
}
