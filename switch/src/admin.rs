//! The admin HTTP listener (axum), separate from participant traffic: `/livez`, `/readyz`,
//! `/metrics` (Prometheus text), and the operator API under `/v1` (JWT bearer with scopes).
//!
//! Metrics come from the `metrics` facade (actors record them) plus values sampled at scrape
//! time: journal statistics and every configured bound (invariant 2: every bound is a metric).

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
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

/// What the handlers read.
#[derive(Debug, Clone)]
pub struct AdminState {
    pub ready: Arc<AtomicBool>,
    pub journal: Journal,
    pub limits: Limits,
    pub journal_tuning: JournalTuning,
}

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
