//! The admin HTTP listener (axum), separate from participant traffic: `/livez`, `/readyz`,
//! `/metrics` (Prometheus text), and the operator API under `/v1` (JWT bearer with scopes):
//!
//! | route | who |
//! |---|---|
//! | `GET /v1/payments/{uetr}[?tenant=T]` | tenant token (own), `clearing:manage` |
//! | `GET /v1/dlq[?tenant=T]`, `GET /v1/dlq/{uetr}[?tenant=T]` | tenant token (own), `clearing:manage` |
//! | `POST /v1/dlq/{uetr}/replay`, `POST /v1/dlq/{uetr}/purge` | tenant token (own), `clearing:manage` |
//! | `GET /v1/tenants` | tenant token (own entry), operators |
//! | `GET /v1/links`, `GET /v1/status` | operators (`clearing:manage` or `scheme:manage`) |
//! | `POST /v1/reload` (same as SIGHUP) | operators (`clearing:manage` or `scheme:manage`) |
//!
//! A tenant token never learns that another tenant's payment or DLQ entry exists: reading,
//! replaying or purging one is `404`, exactly like a UETR that does not exist (invariant 5).
//!
//! Metrics come from the `metrics` facade (actors record them) plus values sampled at scrape
//! time: journal statistics and histograms, the state store's sizes, stuck payments and every
//! configured bound (invariant 2: every bound is a metric).

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};

use axum::extract::ConnectInfo;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::http::{Extensions, HeaderMap};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::Router;
use jsonwebtoken::{decode, Algorithm, DecodingKey, Validation};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use switchyard_journal::state::StateStore;
use switchyard_journal::Journal;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::admin_tls::{AdminPeer, AdminTls, TlsListener};
use crate::config::{JournalTuning, Limits};
use crate::ops::{OpError, Operations};

/// The process-wide Prometheus recorder (installed once; later nodes in the same process, as in
/// tests, share it).
fn prometheus() -> &'static PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE.get_or_init(|| {
        // Latencies as real histograms (not summaries): aggregatable across nodes, and
        // `switchyard top` takes p50/p99 over the last second from bucket deltas.
        let buckets =
            [0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0];
        let recorder = PrometheusBuilder::new()
            .set_buckets_for_metric(Matcher::Suffix("_latency_seconds".into()), &buckets)
            .map_or_else(|_| PrometheusBuilder::new().build_recorder(), PrometheusBuilder::build_recorder);
        let handle = recorder.handle();
        // Another recorder may already be installed (a test harness): then ours only renders.
        let _ = metrics::set_global_recorder(recorder);
        describe();
        handle
    })
}

/// Help text for every series (Prometheus and `promtool check metrics` want one per metric).
fn describe() {
    use metrics::{describe_counter, describe_gauge, describe_histogram, Unit};
    use switchyard_actors::metrics as m;
    describe_counter!(m::SUBMISSIONS, "Submissions by tenant and result (accepted, resend, duplicate, busy, rate_limited, invalid, forbidden).");
    describe_counter!(
        m::OUTCOMES,
        "Payment outcomes by tenant (settled, rejected, dead_lettered, in_doubt)."
    );
    describe_counter!(m::INQUIRIES, "Status inquiries (pacs.028) sent, by clearing link.");
    describe_counter!(m::REINQUIRIES, "Re-inquiry rounds started for payments reported in doubt, by tenant.");
    describe_counter!(
        m::CANCELLATIONS,
        "Cancellation requests (camt.056) answered, by tenant and answer (cancelled, refused, relayed)."
    );
    describe_counter!(
        CLEARING_REFUSED,
        "Inbound clearing connections an accept-mode link refused, by link, transport and reason (handshake, identity)."
    );
    describe_counter!(m::UNMATCHED, "Clearing replies that matched no outstanding payment, by link.");
    describe_histogram!(
        m::ACK_LATENCY,
        Unit::Seconds,
        "Frame read to ACTC queued, inside the node, by tenant."
    );
    describe_histogram!(
        m::FINAL_LATENCY,
        Unit::Seconds,
        "Frame read to final status queued, inside the node, by tenant."
    );
    describe_gauge!(m::IN_FLIGHT, "Payments admitted and not final, by tenant (its in-flight budget use).");
    describe_gauge!(m::LINK_OUTSTANDING, "Payments awaiting a clearing answer, by link (link window use).");
    describe_gauge!(m::BREAKER, "Circuit breaker state by link: 0 closed, 1 half-open, 2 open.");
    describe_gauge!(m::LINK_UP, "Clearing link connected (1) or not (0).");
    describe_gauge!(
        m::MAILBOX_DEPTH,
        "Messages waiting in actor mailboxes, by actor (session, tenant) and tenant."
    );
    describe_counter!(
        CONNECTIONS_REFUSED,
        "Participant connections refused or failed, by transport and reason."
    );
    describe_gauge!("switchyard_journal_last_seq", "Last durable journal sequence number.");
    describe_gauge!("switchyard_journal_records", "Records made durable since start.");
    describe_gauge!("switchyard_journal_batches", "Group commits since start.");
    describe_gauge!("switchyard_journal_last_batch_records", "Records in the most recent group commit.");
    describe_gauge!("switchyard_journal_fsyncs", "fdatasync calls since start.");
    describe_gauge!("switchyard_journal_fsync_seconds_max", "Longest single fdatasync since start, seconds.");
    describe_gauge!(
        "switchyard_journal_paced_batches",
        "Group commits whose fdatasync waited for journal.min_sync_interval_us (sync pacing) since start."
    );
    describe_gauge!("switchyard_journal_queue_depth", "Records waiting in the journal's append queue.");
    describe_gauge!("switchyard_node_in_flight", "Node-wide work in progress: submissions being made durable plus live payments (bounded by the credit windows).");
    describe_gauge!("switchyard_uptime_seconds", "Seconds since the node started.");
    describe_gauge!("switchyard_payments_open", "Payments without a final outcome in the state store.");
    describe_gauge!("switchyard_dlq_size", "Dead-lettered payments waiting for an operator.");
    describe_gauge!(
        "switchyard_payments_stuck",
        "Open payments older than their whole deadline budget (maintained as payments open and close)."
    );
    describe_gauge!("switchyard_link_window_used_ratio", "Link window use, 0..1, by link.");
    describe_gauge!("switchyard_limit", "Every configured bound, by name.");
}

/// Inbound clearing connections an accept-mode link refused (recorded by the clearing adapter).
const CLEARING_REFUSED: &str = "switchyard_clearing_refused_total";
/// Participant connections refused or failed (recorded by the listeners).
const CONNECTIONS_REFUSED: &str = "switchyard_connections_refused_total";

/// Registers every series of docs/OPERATIONS.md's metrics table at start, so that `/metrics`
/// lists it (at zero) before its first event and dashboards and alerts (`rate`, `increase`)
/// see it from the start: per configured tenant and link, with the label values the code
/// records. Registering never changes a value an actor already recorded. A family whose labels
/// no configured object can take (no accept-mode link) is registered without labels.
pub(crate) fn register_series(ops: &Operations) {
    use crate::config::{LinkMode, LinkTransport};
    use switchyard_actors::metrics as m;
    for tenant in ops.tenant_names() {
        register_tenant_series(&tenant);
    }
    let transport = |t: LinkTransport| match t {
        LinkTransport::Tls => "tls",
        LinkTransport::Quic => "quic",
    };
    let config = ops.started_config();
    let mut accepting = false;
    for link in &config.links {
        let name = || link.name.clone();
        metrics::counter!(m::INQUIRIES, "link" => name()).increment(0);
        metrics::counter!(m::UNMATCHED, "link" => name()).increment(0);
        metrics::gauge!(m::LINK_OUTSTANDING, "link" => name()).increment(0.0);
        metrics::gauge!(m::BREAKER, "link" => name()).increment(0.0);
        metrics::gauge!(m::LINK_UP, "link" => name()).increment(0.0);
        if let LinkMode::Accept { .. } = link.mode {
            accepting = true;
            for reason in ["handshake", "identity"] {
                metrics::counter!(CLEARING_REFUSED, "link" => name(), "transport" => transport(link.transport), "reason" => reason)
                    .increment(0);
            }
        }
    }
    if !accepting {
        metrics::counter!(CLEARING_REFUSED).increment(0);
    }
    let transports: &[&'static str] = if config.listen_quic.is_some() { &["tls", "quic"] } else { &["tls"] };
    for transport in transports {
        for reason in ["handshake", "identity", "slow_sender", "protocol"] {
            metrics::counter!(CONNECTIONS_REFUSED, "transport" => *transport, "reason" => reason)
                .increment(0);
        }
    }
}

/// Registers one tenant's series at zero (at start, and for a tenant a reload adds).
pub(crate) fn register_tenant_series(tenant: &str) {
    use switchyard_actors::metrics as m;
    let t = || tenant.to_owned();
    for result in m::SUBMISSION_RESULTS {
        metrics::counter!(m::SUBMISSIONS, "tenant" => t(), "result" => result).increment(0);
    }
    for outcome in m::OUTCOME_LABELS {
        metrics::counter!(m::OUTCOMES, "tenant" => t(), "outcome" => outcome).increment(0);
    }
    for answer in ["cancelled", "refused", "relayed"] {
        metrics::counter!(m::CANCELLATIONS, "tenant" => t(), "answer" => answer).increment(0);
    }
    metrics::counter!(m::REINQUIRIES, "tenant" => t()).increment(0);
    // A histogram is listed (empty buckets) once registered; nothing is recorded here.
    let _ = metrics::histogram!(m::ACK_LATENCY, "tenant" => t());
    let _ = metrics::histogram!(m::FINAL_LATENCY, "tenant" => t());
    metrics::gauge!(m::IN_FLIGHT, "tenant" => t()).increment(0.0);
    m::mailbox("session", tenant).increment(0.0);
    m::mailbox("tenant", tenant).increment(0.0);
}

/// Installs the recorder before any actor records a metric.
pub fn install_recorder() {
    let _ = prometheus();
}

/// The HS256 key that signs admin bearer tokens. `Debug` never prints it.
#[derive(Clone)]
pub struct JwtKey(pub Arc<[u8]>);

impl std::fmt::Debug for JwtKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("JwtKey(***)")
    }
}

/// What the handlers read.
#[derive(Debug, Clone)]
pub struct AdminState {
    pub ready: Arc<AtomicBool>,
    pub journal: Journal,
    pub limits: Limits,
    pub journal_tuning: JournalTuning,
    pub state: StateStore,
    /// Without a key the `/v1` API refuses every request.
    pub jwt: Option<JwtKey>,
    pub ops: Arc<Operations>,
    /// Admin client certificate names that are operators (mTLS); filled by [`start`].
    pub operators: Arc<[String]>,
}

/// Bearer token claims: `scope` is space-separated (`iso20022:send`, `scheme:manage`,
/// `clearing:manage`); a token with `tenant` sees only that tenant. `sub` must not be blank;
/// `exp` is required and `nbf`, when the token has one, is checked too (both with
/// [`JWT_LEEWAY_S`] of clock skew).
#[derive(Debug, serde::Serialize, serde::Deserialize)]
pub struct Claims {
    pub sub: String,
    pub exp: u64,
    pub scope: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tenant: Option<String>,
}

/// Scope that lets an operator read any tenant.
pub const SCOPE_OPERATOR: &str = "clearing:manage";
/// Scope of a participant's token (its own tenant only).
pub const SCOPE_SEND: &str = "iso20022:send";
/// Scope that lets an operator read node state and reload the configuration (routes, schemes),
/// but not read payments.
pub const SCOPE_SCHEME: &str = "scheme:manage";

/// Binds `addr` and serves until `shutdown`.
pub async fn start(
    addr: SocketAddr,
    mut state: AdminState,
    tls: Option<AdminTls>,
    shutdown: CancellationToken,
) -> std::io::Result<(SocketAddr, JoinHandle<()>)> {
    state.operators = tls.as_ref().map(|t| t.operators.clone().into()).unwrap_or_default();
    install_recorder();
    register_series(&state.ops);
    let listener = tokio::net::TcpListener::bind(addr).await?;
    let bound = listener.local_addr()?;
    let app = Router::new()
        .route("/livez", get(|| async { "ok\n" }))
        .route("/readyz", get(readyz))
        .route("/metrics", get(render_metrics))
        .route("/v1/payments/{uetr}", get(payment))
        .route("/v1/dlq", get(dlq_list))
        .route("/v1/dlq/{uetr}", get(dlq_show))
        .route("/v1/dlq/{uetr}/replay", post(dlq_replay))
        .route("/v1/dlq/{uetr}/purge", post(dlq_purge))
        .route("/v1/tenants", get(tenants))
        .route("/v1/links", get(links))
        .route("/v1/status", get(status))
        .route("/v1/reload", post(reload))
        .with_state(state);
    let task = tokio::spawn(async move {
        let stop = async move { shutdown.cancelled().await };
        let served = match tls {
            None => axum::serve(listener, app).with_graceful_shutdown(stop).await,
            Some(tls) => {
                let listener = TlsListener::new(listener, &tls.server);
                let app = app.into_make_service_with_connect_info::<AdminPeer>();
                axum::serve(listener, app).with_graceful_shutdown(stop).await
            }
        };
        if let Err(e) = served {
            tracing::error!(error = %e, "admin listener failed");
        }
    });
    Ok((bound, task))
}

async fn readyz(State(state): State<AdminState>) -> impl IntoResponse {
    if state.ready.load(Ordering::Acquire) {
        (StatusCode::OK, "ready\n")
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "not ready: starting up (journal recovery) or draining\n")
    }
}

async fn render_metrics(State(state): State<AdminState>) -> impl IntoResponse {
    sample(&state);
    if let Ok(counts) = state.ops.status_counts().await {
        metrics::gauge!("switchyard_payments_open").set(counts.0 as f64);
        metrics::gauge!("switchyard_dlq_size").set(counts.1 as f64);
    }
    if let Ok(stuck) = state.ops.stuck().await {
        metrics::gauge!("switchyard_payments_stuck").set(stuck as f64);
    }
    for link in state.ops.links().await {
        metrics::gauge!("switchyard_link_window_used_ratio", "link" => link.name.clone())
            .set(link.in_flight as f64 / link.window.max(1) as f64);
    }
    let mut body = prometheus().render();
    journal_histograms(&state.journal.stats(), &mut body);
    ([(axum::http::header::CONTENT_TYPE, "text/plain; version=0.0.4")], body)
}

/// Scrape-time values: journal statistics and the configured bounds.
fn sample(state: &AdminState) {
    let s = state.journal.stats();
    metrics::gauge!("switchyard_journal_last_seq").set(s.last_seq as f64);
    metrics::gauge!("switchyard_journal_records").set(s.records as f64);
    metrics::gauge!("switchyard_journal_batches").set(s.batches as f64);
    metrics::gauge!("switchyard_journal_last_batch_records").set(s.last_batch_records as f64);
    metrics::gauge!("switchyard_journal_fsyncs").set(s.fsyncs as f64);
    metrics::gauge!("switchyard_journal_fsync_seconds_max").set(s.fsync_micros_max as f64 / 1e6);
    metrics::gauge!("switchyard_journal_paced_batches").set(s.paced_batches as f64);
    metrics::gauge!("switchyard_journal_queue_depth").set(s.queue_len as f64);
    metrics::gauge!("switchyard_node_in_flight").set(state.ops.in_flight() as f64);
    metrics::gauge!("switchyard_uptime_seconds").set(state.ops.uptime().as_secs_f64());
    let l = state.ops.limits(); // as last reloaded
    let bounds: [(&'static str, usize); 9] = [
        ("credit_window", l.credit_window),
        ("max_frame_bytes", l.max_frame_bytes),
        ("max_connections", l.max_connections),
        ("tenant_max_in_flight", l.tenant_max_in_flight),
        ("node_max_in_flight", l.node_max_in_flight),
        ("link_window", l.link_window),
        ("max_message_bytes", l.iso.max_message_bytes),
        ("journal_queue_capacity", state.journal_tuning.queue_capacity),
        ("journal_max_batch_records", state.journal_tuning.max_batch_records),
    ];
    for (name, value) in bounds {
        metrics::gauge!("switchyard_limit", "name" => name).set(value as f64);
    }
}

/// Appends the journal's batch-size and fdatasync-latency histograms (kept by the journal's
/// writer thread as fixed buckets) in the Prometheus text format.
fn journal_histograms(s: &switchyard_journal::JournalStats, out: &mut String) {
    use std::fmt::Write;
    let mut histogram = |name: &str, help: &str, bounds: &[f64], counts: &[u64], sum: f64| {
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} histogram");
        let mut cumulative = 0u64;
        for (i, count) in counts.iter().enumerate() {
            cumulative += count;
            match bounds.get(i) {
                Some(le) => {
                    let _ = writeln!(out, "{name}_bucket{{le=\"{le}\"}} {cumulative}");
                }
                None => {
                    let _ = writeln!(out, "{name}_bucket{{le=\"+Inf\"}} {cumulative}");
                }
            }
        }
        let _ = writeln!(out, "{name}_sum {sum}\n{name}_count {cumulative}");
    };
    let batch: Vec<f64> = switchyard_journal::BATCH_BUCKETS.iter().map(|b| *b as f64).collect();
    histogram(
        "switchyard_journal_batch_records",
        "Records per group commit.",
        &batch,
        &s.batch_hist,
        s.records as f64,
    );
    let fsync: Vec<f64> = switchyard_journal::FSYNC_BUCKETS_MICROS.iter().map(|b| *b as f64 / 1e6).collect();
    histogram(
        "switchyard_journal_fsync_latency_seconds",
        "Duration of one fdatasync.",
        &fsync,
        &s.fsync_hist,
        s.fsync_micros_total as f64 / 1e6,
    );
}

/// Who the caller is: a tenant (its own data only) or an operator.
#[derive(Debug, Clone)]
pub enum Caller {
    /// A participant's token (`iso20022:send` with a `tenant` claim) or client certificate.
    Tenant { tenant: String, subject: String },
    /// An operator; `payments` is true with `clearing:manage` (may read and act on payments).
    Operator { subject: String, payments: bool },
}

impl Caller {
    fn subject(&self) -> &str {
        match self {
            Self::Tenant { subject, .. } | Self::Operator { subject, .. } => subject,
        }
    }
}

type Refusal = (StatusCode, &'static str);

/// Seconds of clock skew allowed when checking a token's `exp` and `nbf` (jsonwebtoken's
/// default is 60 s; docs/OPERATIONS.md documents this value).
pub const JWT_LEEWAY_S: u64 = 5;

/// A bearer token decides when present; otherwise the admin client certificate (mTLS): an
/// operator name from `[admin] operators`, or a tenant's `certificate_name`.
fn authorize(state: &AdminState, headers: &HeaderMap, ext: &Extensions) -> Result<Caller, Refusal> {
    let bearer = headers.get(axum::http::header::AUTHORIZATION).is_some();
    let peer = ext.get::<ConnectInfo<AdminPeer>>().and_then(|c| c.0 .0.clone());
    if let (false, Some(name)) = (bearer, peer) {
        if state.operators.iter().any(|o| o == &name) {
            return Ok(Caller::Operator { subject: format!("cert:{name}"), payments: true });
        }
        return match state.ops.tenant_of_certificate(&name) {
            Some(tenant) => Ok(Caller::Tenant { tenant, subject: format!("cert:{name}") }),
            None => Err((StatusCode::FORBIDDEN, "client certificate maps to no operator or tenant\n")),
        };
    }
    let key = state
        .jwt
        .as_ref()
        .ok_or((StatusCode::UNAUTHORIZED, "the /v1 API is disabled: no admin.jwt_secret_file\n"))?;
    let token = headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .ok_or((StatusCode::UNAUTHORIZED, "missing bearer token\n"))?;
    let mut validation = Validation::new(Algorithm::HS256);
    validation.validate_nbf = true; // `nbf`, when present, is honoured
    validation.leeway = JWT_LEEWAY_S; // clock skew allowed on `exp` and `nbf`
    let claims = decode::<Claims>(token, &DecodingKey::from_secret(&key.0), &validation)
        .map_err(|_| (StatusCode::UNAUTHORIZED, "invalid, expired or not yet valid token\n"))?
        .claims;
    if claims.sub.trim().is_empty() {
        // `sub` names the operator in the journal with every DLQ action.
        return Err((StatusCode::UNAUTHORIZED, "token claim `sub` is empty: it must name who is acting\n"));
    }
    let scopes: Vec<&str> = claims.scope.split_whitespace().collect();
    let has = |s: &str| scopes.contains(&s);
    match claims.tenant {
        Some(tenant) if has(SCOPE_SEND) => Ok(Caller::Tenant { tenant, subject: claims.sub }),
        None if has(SCOPE_OPERATOR) => Ok(Caller::Operator { subject: claims.sub, payments: true }),
        None if has(SCOPE_SCHEME) => Ok(Caller::Operator { subject: claims.sub, payments: false }),
        _ => Err((StatusCode::FORBIDDEN, "token lacks the scope for this API\n")),
    }
}

#[derive(Debug, serde::Deserialize)]
struct TenantQuery {
    tenant: Option<String>,
}

/// The tenant whose payment data a request may touch: a tenant caller's own; an operator with
/// `clearing:manage` names it with `?tenant=`.
fn payment_tenant(caller: Caller, query: Option<String>) -> Result<String, Refusal> {
    match caller {
        Caller::Tenant { tenant, .. } => Ok(tenant),
        Caller::Operator { payments: true, .. } => {
            query.ok_or((StatusCode::BAD_REQUEST, "operator requests about a payment name ?tenant=\n"))
        }
        Caller::Operator { payments: false, .. } => {
            Err((StatusCode::FORBIDDEN, "payment data needs clearing:manage\n"))
        }
    }
}

fn op_error(e: &OpError) -> axum::response::Response {
    match e {
        OpError::NotFound => (StatusCode::NOT_FOUND, "not found\n".to_owned()).into_response(),
        OpError::Conflict(why) => (StatusCode::CONFLICT, format!("{why}\n")).into_response(),
        OpError::Unavailable(why) => (StatusCode::SERVICE_UNAVAILABLE, format!("{why}\n")).into_response(),
    }
}

fn operator_only(caller: Caller) -> Result<Caller, Refusal> {
    match caller {
        Caller::Operator { .. } => Ok(caller),
        Caller::Tenant { .. } => {
            Err((StatusCode::FORBIDDEN, "operators only (clearing:manage or scheme:manage)\n"))
        }
    }
}

/// `GET /v1/payments/{uetr}[?tenant=T]`: a tenant token reads its own payments only — another
/// tenant's UETR is "not found", exactly as a UETR that does not exist (invariant 5).
async fn payment(
    State(state): State<AdminState>,
    Path(uetr): Path<String>,
    Query(query): Query<TenantQuery>,
    headers: HeaderMap,
    ext: Extensions,
) -> axum::response::Response {
    let caller = match authorize(&state, &headers, &ext) {
        Ok(caller) => caller,
        Err(refusal) => return refusal.into_response(),
    };
    let tenant = match payment_tenant(caller, query.tenant) {
        Ok(t) => t,
        Err(refusal) => return refusal.into_response(),
    };
    let store = state.state.clone();
    let found = tokio::task::spawn_blocking(move || store.payment(&tenant, &uetr)).await;
    match found {
        Ok(Ok(Some(view))) => axum::Json(view).into_response(),
        Ok(Ok(None)) => (StatusCode::NOT_FOUND, "no such payment\n").into_response(),
        _ => (StatusCode::INTERNAL_SERVER_ERROR, "state store unavailable\n").into_response(),
    }
}

/// A DLQ entry as the API shows it: no message bytes.
#[derive(Debug, serde::Serialize)]
pub struct DlqItem {
    pub tenant: String,
    pub uetr: String,
    pub reason: String,
    pub at_ms: u64,
    pub seq: u64,
    pub msg_id: String,
    pub amount_minor: i64,
    pub currency: String,
}

impl From<switchyard_journal::state::DlqEntry> for DlqItem {
    fn from(e: switchyard_journal::state::DlqEntry) -> Self {
        Self {
            tenant: e.tenant,
            uetr: e.uetr,
            reason: e.reason,
            at_ms: e.at_ms,
            seq: e.seq,
            msg_id: e.payment.msg_id,
            amount_minor: e.payment.amount_minor,
            currency: e.payment.currency,
        }
    }
}

/// `GET /v1/dlq[?tenant=T]`: a tenant's own entries; an operator's of all tenants (or one).
async fn dlq_list(
    State(state): State<AdminState>,
    Query(query): Query<TenantQuery>,
    headers: HeaderMap,
    ext: Extensions,
) -> axum::response::Response {
    let tenant = match authorize(&state, &headers, &ext) {
        Ok(Caller::Tenant { tenant, .. }) => Some(tenant),
        Ok(Caller::Operator { payments: true, .. }) => query.tenant,
        Ok(Caller::Operator { payments: false, .. }) => {
            return (StatusCode::FORBIDDEN, "payment data needs clearing:manage\n").into_response()
        }
        Err(refusal) => return refusal.into_response(),
    };
    match state.ops.dlq_list(tenant).await {
        Ok(entries) => axum::Json(entries.into_iter().map(DlqItem::from).collect::<Vec<_>>()).into_response(),
        Err(e) => op_error(&e),
    }
}

/// `GET /v1/dlq/{uetr}[?tenant=T]`.
async fn dlq_show(
    State(state): State<AdminState>,
    Path(uetr): Path<String>,
    Query(query): Query<TenantQuery>,
    headers: HeaderMap,
    ext: Extensions,
) -> axum::response::Response {
    let tenant = match authorize(&state, &headers, &ext).and_then(|c| payment_tenant(c, query.tenant)) {
        Ok(t) => t,
        Err(refusal) => return refusal.into_response(),
    };
    match state.ops.dlq_entry(&tenant, &uetr).await {
        Ok(entry) => axum::Json(DlqItem::from(entry)).into_response(),
        Err(e) => op_error(&e),
    }
}

async fn dlq_action(
    state: AdminState,
    uetr: String,
    query: TenantQuery,
    headers: HeaderMap,
    ext: Extensions,
    kind: switchyard_actors::record::OperatorKind,
) -> axum::response::Response {
    let caller = match authorize(&state, &headers, &ext) {
        Ok(caller) => caller,
        Err(refusal) => return refusal.into_response(),
    };
    let subject = caller.subject().to_owned();
    let tenant = match payment_tenant(caller, query.tenant) {
        Ok(t) => t,
        Err(refusal) => return refusal.into_response(),
    };
    match state.ops.dlq_action(&tenant, &uetr, kind, &subject).await {
        Ok(entry) => {
            let body = serde_json::json!({ "action": kind.label(), "entry": DlqItem::from(entry) });
            axum::Json(body).into_response()
        }
        Err(e) => op_error(&e),
    }
}

/// `POST /v1/dlq/{uetr}/replay[?tenant=T]`: journals the replay, then resumes the payment.
async fn dlq_replay(
    State(state): State<AdminState>,
    Path(uetr): Path<String>,
    Query(query): Query<TenantQuery>,
    headers: HeaderMap,
    ext: Extensions,
) -> axum::response::Response {
    dlq_action(state, uetr, query, headers, ext, switchyard_actors::record::OperatorKind::DlqReplay).await
}

/// `POST /v1/dlq/{uetr}/purge[?tenant=T]`: journals the purge (the entry leaves the DLQ).
async fn dlq_purge(
    State(state): State<AdminState>,
    Path(uetr): Path<String>,
    Query(query): Query<TenantQuery>,
    headers: HeaderMap,
    ext: Extensions,
) -> axum::response::Response {
    dlq_action(state, uetr, query, headers, ext, switchyard_actors::record::OperatorKind::DlqPurge).await
}

/// `GET /v1/tenants`: rate, burst, BICs, in-flight and budget; a tenant sees its own entry.
async fn tenants(
    State(state): State<AdminState>,
    headers: HeaderMap,
    ext: Extensions,
) -> axum::response::Response {
    let caller = match authorize(&state, &headers, &ext) {
        Ok(caller) => caller,
        Err(refusal) => return refusal.into_response(),
    };
    let mut all = state.ops.tenants().await;
    if let Caller::Tenant { tenant, .. } = &caller {
        all.retain(|t| &t.name == tenant);
    }
    axum::Json(all).into_response()
}

/// `GET /v1/links`: connection, breaker, window use and last error of every clearing link.
async fn links(
    State(state): State<AdminState>,
    headers: HeaderMap,
    ext: Extensions,
) -> axum::response::Response {
    match authorize(&state, &headers, &ext).and_then(operator_only) {
        Ok(_) => axum::Json(state.ops.links().await).into_response(),
        Err(refusal) => refusal.into_response(),
    }
}

/// `GET /v1/status`: the node summary `switchyard top` draws.
async fn status(
    State(state): State<AdminState>,
    headers: HeaderMap,
    ext: Extensions,
) -> axum::response::Response {
    if let Err(refusal) = authorize(&state, &headers, &ext).and_then(operator_only) {
        return refusal.into_response();
    }
    match state.ops.status(state.journal.stats().last_seq).await {
        Ok(status) => axum::Json(status).into_response(),
        Err(e) => op_error(&e),
    }
}

/// `POST /v1/reload`: the same as SIGHUP.
async fn reload(
    State(state): State<AdminState>,
    headers: HeaderMap,
    ext: Extensions,
) -> axum::response::Response {
    if let Err(refusal) = authorize(&state, &headers, &ext).and_then(operator_only) {
        return refusal.into_response();
    }
    match state.ops.reload_from_file().await {
        Ok(report) => axum::Json(report).into_response(),
        Err(e) => op_error(&e),
    }
}
