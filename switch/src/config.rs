//! The validated, typed node configuration: every limit computed and every certificate loaded
//! before a socket is bound. (The TOML front end that produces it is `config/`'s job, issue 8;
//! the demo and tests build it in code.)

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use rustls::pki_types::CertificateDer;
use switchyard_actors::breaker::BreakerLimits;
use switchyard_actors::payment::PaymentLimits;
use switchyard_actors::rate::RateSpec;
use switchyard_actors::route::RouteTable;
use switchyard_journal::SyncMode;
use switchyard_wire::tls::Identity;

/// A participant bank: its tenant name and the certificate name that authenticates it.
/// Equality is what a reload reports as `tenants_updated`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TenantConfig {
    pub name: String,
    /// The peer name (certificate CN) mapped to this tenant.
    pub certificate_name: String,
    /// Submissions per second and burst (default 100/s, burst 200).
    pub rate: RateSpec,
    /// The BICs this tenant may instruct as (AppHdr Fr, InstgAgt, DbtrAgt); empty: unrestricted.
    pub bics: Vec<switchyard_iso20022::Bic>,
    /// This tenant's in-flight budget; `None`: `limits.tenant_max_in_flight`.
    pub max_in_flight: Option<usize>,
}

/// The transport of a clearing link.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LinkTransport {
    /// TLS 1.3 over TCP (the default).
    #[default]
    Tls,
    /// QUIC (one ordered bidirectional stream, docs/QUIC.md), same certificates.
    Quic,
}

/// Who opens a clearing link's connection.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum LinkMode {
    /// The node dials the clearing house at `addr` (the default).
    #[default]
    Dial,
    /// The clearing house dials the node: the node listens on `addr` and accepts only a client
    /// certificate issued by `server_ca` whose name is `peer_name`.
    Accept { peer_name: String },
}

/// A clearing link: the node dials it, or accepts the clearing house's connection.
#[derive(Debug, Clone)]
pub struct LinkConfig {
    pub name: String,
    /// Dial mode: the clearing house's address. Accept mode: where the node listens for it.
    pub addr: SocketAddr,
    /// Dial mode: the name the clearing house's server certificate must carry (unused when
    /// accepting).
    pub server_name: String,
    /// What the switch presents to the clearing house: its client certificate when dialling,
    /// its server certificate when accepting.
    pub client_identity: Identity,
    /// The CA that issued the clearing house's certificate (its server certificate when
    /// dialling, its client certificate when accepting).
    pub server_ca: Vec<CertificateDer<'static>>,
    /// The clearing system behind the link (SAMOS, BankservAfrica, RTC, PayShap, SWIFT): its
    /// profile checks payments at admission and makes the leg sent on the link
    /// (docs/SCHEMES.md). `None`: the participant's message is forwarded unchanged.
    pub scheme: Option<switchyard_clearing::schemes::gate::GateOptions>,
    /// TLS over TCP or QUIC.
    pub transport: LinkTransport,
    /// Dial out or accept.
    pub mode: LinkMode,
}

/// Every bound the node enforces.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Submissions one session may have in flight (sent at sign-on).
    pub credit_window: usize,
    pub max_frame_bytes: usize,
    pub max_connections: usize,
    pub handshake_timeout: Duration,
    /// A session with no frame for this long is closed.
    pub idle_timeout: Duration,
    /// Once a frame's first bytes arrived, the whole frame must arrive within this (slow-sender
    /// cut, docs/PROTOCOL.md).
    pub frame_timeout: Duration,
    pub tenant_max_in_flight: usize,
    /// Admitted, not yet final payments of all tenants together: the bound on the memory
    /// payments take (docs/OPERATIONS.md, "Memory").
    pub node_max_in_flight: usize,
    pub link_window: usize,
    pub link_heartbeat: Duration,
    /// On stop (SIGTERM): how long to wait for payments in flight to reach an outcome.
    pub drain_timeout: Duration,
    pub breaker: BreakerLimits,
    pub payment: PaymentLimits,
    pub iso: switchyard_iso20022::Limits,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            credit_window: 1024,
            max_frame_bytes: 1 << 20,
            max_connections: 1024,
            handshake_timeout: Duration::from_secs(5),
            idle_timeout: Duration::from_secs(60),
            frame_timeout: Duration::from_secs(10),
            tenant_max_in_flight: 16_384,
            node_max_in_flight: 65_536,
            link_window: 8192,
            link_heartbeat: Duration::from_secs(5),
            drain_timeout: Duration::from_secs(30),
            breaker: BreakerLimits::default(),
            payment: PaymentLimits::default(),
            iso: switchyard_iso20022::Limits::default(),
        }
    }
}

/// Journal tuning. Every field is read once at start: a reload that changes any of them is
/// reported as needing a restart (`ops`, compared whole).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct JournalTuning {
    pub segment_bytes: u64,
    pub max_batch_records: usize,
    pub queue_capacity: usize,
    pub sync: SyncMode,
    /// Sync pacing: an fdatasync starts no sooner than this after the previous one
    /// (`JournalConfig::min_sync_interval`; zero = off).
    pub min_sync_interval: Duration,
    /// How often the state store is checkpointed and the journal segments it covers are
    /// archived (`None`: never; every segment stays live and is scanned at start).
    pub checkpoint_interval: Option<Duration>,
    /// Bound of the state store's (sled's) page cache, bytes.
    pub state_cache_bytes: u64,
}

impl Default for JournalTuning {
    fn default() -> Self {
        Self {
            segment_bytes: 64 << 20,
            max_batch_records: 4096,
            queue_capacity: 65_536,
            sync: SyncMode::Fdatasync,
            min_sync_interval: switchyard_journal::DEFAULT_MIN_SYNC_INTERVAL,
            checkpoint_interval: Some(Duration::from_secs(10)),
            state_cache_bytes: switchyard_journal::state::DEFAULT_CACHE_BYTES,
        }
    }
}

/// The whole node.
#[derive(Debug, Clone)]
pub struct NodeConfig {
    pub data_dir: PathBuf,
    /// Where participants connect (TLS 1.3, mTLS).
    pub listen: SocketAddr,
    /// Where participants connect over QUIC (same certificates, same frames); off when `None`.
    pub listen_quic: Option<SocketAddr>,
    /// The admin HTTP listener (health, metrics, operator API); off when `None`.
    pub admin_listen: Option<SocketAddr>,
    /// HS256 key for the admin API's bearer tokens; without it `/v1` refuses every request.
    pub admin_jwt: Option<crate::admin::JwtKey>,
    /// Mutual TLS on the admin listener (client certificate → operator or tenant); plain HTTP
    /// when `None`.
    pub admin_tls: Option<crate::admin_tls::AdminTls>,
    pub server_identity: Identity,
    /// The CA that issues participant certificates.
    pub participant_ca: Vec<CertificateDer<'static>>,
    pub tenants: Vec<TenantConfig>,
    pub links: Vec<LinkConfig>,
    pub routes: RouteTable,
    pub limits: Limits,
    pub journal: JournalTuning,
}
