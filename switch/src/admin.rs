//! The admin HTTP listener (axum), separate from participant traffic: `/livez`, `/readyz`,
//! `/metrics` (Prometheus text), and the operator API under `/v1` (JWT bearer with scopes).
//!
//! Metrics come from the `metrics` facade (actors record them) plus values sampled at scrape
//! time: journal statistics and every configured bound (invariant 2: every bound is a metric).

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};

use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;
use jsonwebtoken::{decode, Algorithm, DecodingKey, Validation};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use switchyard_journal::state::StateStore;
use switchyard_journal::Journal;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::config::{JournalTuning, Limits};

/// The process-wide Prometheus recorder (installed once; later nodes in the same process, as in
/// tests, share it).
fn prometheus() -> &'static PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE.get_or_init(|| {
        let recorder = PrometheusBuilder::new().build_recorder();
        let handle = recorder.handle();
        // Another recorder may already be installed (a test harness): then ours only renders.
        let _ = metrics::set_global_recorder(recorder);
        handle
    })
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
}

/// Bearer token claims: `scope` is space-separated (`iso20022:send`, `scheme:manage`,
/// `clearing:manage`); a token with `tenant` sees only that tenant.
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

/// Binds `addr` and serves until `shutdown`.
pub async fn start(
    addr: SocketAddr,
    state: AdminState,
    shutdown: CancellationToken,
) -> std::io::Result<(SocketAddr, JoinHandle<()>)> {
    install_recorder();
    let listener = tokio::net::TcpListener::bind(addr).await?;
    let bound = listener.local_addr()?;
    let app = Router::new()
        .route("/livez", get(|| async { "ok\n" }))
        .route("/readyz", get(readyz))
        .route("/metrics", get(render_metrics))
        .route("/v1/payments/{uetr}", get(payment))
        .with_state(state);
    let task = tokio::spawn(async move {
        let served =
            axum::serve(listener, app).with_graceful_shutdown(async move { shutdown.cancelled().await });
        if let Err(e) = served.await {
            tracing::error!(error = %e, "admin listener failed");
        }
    });
    Ok((bound, task))
}

async fn readyz(State(state): State<AdminState>) -> impl IntoResponse {
    if state.ready.load(Ordering::Acquire) {
        (StatusCode::OK, "ready\n")
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "not ready: journal recovery or start-up in progress\n")
    }
}

async fn render_metrics(State(state): State<AdminState>) -> impl IntoResponse {
    sample(&state);
    let body = prometheus().render();
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
    metrics::gauge!("switchyard_journal_fsync_seconds_total").set(s.fsync_micros_total as f64 / 1e6);
    metrics::gauge!("switchyard_journal_fsync_seconds_max").set(s.fsync_micros_max as f64 / 1e6);
    metrics::gauge!("switchyard_journal_queue_depth").set(s.queue_len as f64);
    let l = &state.limits;
    let bounds: [(&'static str, usize); 8] = [
        ("credit_window", l.credit_window),
        ("max_frame_bytes", l.max_frame_bytes),
        ("max_connections", l.max_connections),
        ("tenant_max_in_flight", l.tenant_max_in_flight),
        ("link_window", l.link_window),
        ("max_message_bytes", l.iso.max_message_bytes),
        ("journal_queue_capacity", state.journal_tuning.queue_capacity),
        ("journal_max_batch_records", state.journal_tuning.max_batch_records),
    ];
    for (name, value) in bounds {
        metrics::gauge!("switchyard_limit", "name" => name).set(value as f64);
    }
}

/// Who the bearer is: a tenant (its own data only) or an operator (any tenant).
enum Caller {
    Tenant(String),
    Operator,
}

fn authorize(state: &AdminState, headers: &HeaderMap) -> Result<Caller, (StatusCode, &'static str)> {
    let key = state
        .jwt
        .as_ref()
        .ok_or((StatusCode::UNAUTHORIZED, "the /v1 API is disabled: no admin.jwt_secret_file\n"))?;
    let token = headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .ok_or((StatusCode::UNAUTHORIZED, "missing bearer token\n"))?;
    let validation = Validation::new(Algorithm::HS256);
    let claims = decode::<Claims>(token, &DecodingKey::from_secret(&key.0), &validation)
        .map_err(|_| (StatusCode::UNAUTHORIZED, "invalid or expired token\n"))?
        .claims;
    let scopes: Vec<&str> = claims.scope.split_whitespace().collect();
    match (claims.tenant, scopes.contains(&SCOPE_OPERATOR), scopes.contains(&SCOPE_SEND)) {
        (Some(tenant), _, true) => Ok(Caller::Tenant(tenant)),
        (None, true, _) => Ok(Caller::Operator),
        _ => Err((StatusCode::FORBIDDEN, "token lacks the scope for this API\n")),
    }
}

#[derive(Debug, serde::Deserialize)]
struct TenantQuery {
    tenant: Option<String>,
}

/// `GET /v1/payments/{uetr}[?tenant=T]`: a tenant token reads its own payments only — another
/// tenant's UETR is "not found", exactly as a UETR that does not exist (invariant 5).
async fn payment(
    State(state): State<AdminState>,
    Path(uetr): Path<String>,
    Query(query): Query<TenantQuery>,
    headers: HeaderMap,
) -> axum::response::Response {
    let tenant = match authorize(&state, &headers) {
        Ok(Caller::Tenant(tenant)) => tenant,
        Ok(Caller::Operator) => match query.tenant {
            Some(t) => t,
            None => return (StatusCode::BAD_REQUEST, "operator lookups name ?tenant=\n").into_response(),
        },
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
