//! Operations on a running node, shared by the admin API, SIGHUP and `switchyard top`:
//! DLQ replay and purge (journaled operator records), the state of tenants and links, a status
//! summary, and configuration reload (routes, tenants, limits) without dropping a connection
//! or a payment.
//!
//! Owns: the tenant directory the listeners read (swapped whole on reload), the tenant actors
//! by name, the tenant configuration in force and the path of the configuration file. Every
//! operator action is journaled (and so projected and audited) before it takes effect; actions
//! are serialized by one lock and each waits until the state store has applied its record, so
//! two replays of one payment can never both resume it.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::time::{Duration, Instant};

use ractor::{Actor, ActorRef};
use serde::{Deserialize, Serialize};
use switchyard_actors::actor::{
    LinkMsg, LinkSnapshot, NodeContext, NodeMsg, TenantActor, TenantArgs, TenantMsg, TenantSnapshot,
};
use switchyard_actors::rate::RateLimit;
use switchyard_actors::record::{OperatorAction, OperatorKind};
use switchyard_actors::{JournalRecord, TenantId};
use switchyard_journal::state::{DlqEntry, StateStore};

use crate::config::{NodeConfig, TenantConfig};
use crate::listener::{TenantDirectory, TenantEntry};

/// How long an RPC to an actor (snapshot) may take before the answer is "unavailable".
const RPC_TIMEOUT: Duration = Duration::from_secs(2);
/// How long an operator action waits for the state store to apply its record.
const APPLY_WAIT: Duration = Duration::from_secs(10);

/// Why an operation failed; the admin API maps each to a status code.
#[derive(Debug, thiserror::Error)]
pub enum OpError {
    /// No such payment, DLQ entry or tenant — also when it belongs to another tenant.
    #[error("not found")]
    NotFound,
    /// The operation cannot run now (tenant not running, configuration path unknown).
    #[error("{0}")]
    Conflict(String),
    /// The journal or the state store failed.
    #[error("{0}")]
    Unavailable(String),
}

/// A tenant as the admin API shows it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TenantStatus {
    pub name: String,
    pub certificate_name: String,
    pub rate_per_s: u32,
    pub burst: u32,
    pub bics: Vec<String>,
    /// Payments admitted and not final; `None` if the tenant actor did not answer.
    pub in_flight: Option<usize>,
    /// The in-flight budget.
    pub budget: Option<usize>,
}

/// What a reload changed.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ReloadReport {
    pub routes: usize,
    pub tenants_added: Vec<String>,
    pub tenants_updated: Vec<String>,
    /// Tenants in the running node but not in the file: they keep running until a restart
    /// (removing a tenant with payments in flight is not done live).
    pub tenants_kept: Vec<String>,
    /// Keys that changed but only take effect on a restart.
    pub restart_required: Vec<String>,
}

/// The node-wide summary that `switchyard top` draws.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct NodeStatus {
    pub uptime_s: u64,
    /// Submissions being made durable plus live payment actors.
    pub in_flight: i64,
    pub open_payments: u64,
    pub dlq: u64,
    /// Payments open longer than their whole deadline budget.
    pub stuck: u64,
    pub journal_last_seq: u64,
    pub state_applied_seq: u64,
    pub tenants: Vec<TenantStatus>,
    pub links: Vec<LinkSnapshot>,
}

/// The operations handle of one node.
pub struct Operations {
    ctx: Arc<NodeContext>,
    root: ActorRef<NodeMsg>,
    state: StateStore,
    /// Tenants by certificate name, as the listeners see them.
    directory: Arc<TenantDirectory>,
    /// Tenant actors by tenant name.
    actors: RwLock<HashMap<String, ActorRef<TenantMsg>>>,
    configs: RwLock<Vec<TenantConfig>>,
    limits: RwLock<crate::config::Limits>,
    config_path: Mutex<Option<PathBuf>>,
    /// Serializes operator actions and reloads.
    serial: tokio::sync::Mutex<()>,
    started: Instant,
}

impl std::fmt::Debug for Operations {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Operations").finish_non_exhaustive()
    }
}

/// The listener's entry for a configured tenant.
pub(crate) fn entry(t: &TenantConfig, actor: ActorRef<TenantMsg>) -> TenantEntry {
    TenantEntry {
        id: TenantId::new(&t.name),
        actor,
        rate: Arc::new(RateLimit::new(t.rate)),
        bics: t.bics.clone().into(),
    }
}

fn read<T: Clone>(lock: &RwLock<T>) -> T {
    lock.read().unwrap_or_else(PoisonError::into_inner).clone()
}

fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

impl Operations {
    pub(crate) fn new(
        ctx: Arc<NodeContext>,
        root: ActorRef<NodeMsg>,
        state: StateStore,
        directory: Arc<TenantDirectory>,
        config: &NodeConfig,
    ) -> Self {
        let actors =
            directory.snapshot().values().map(|e| (e.id.as_str().to_owned(), e.actor.clone())).collect();
        Self {
            ctx,
            root,
            state,
            directory,
            actors: RwLock::new(actors),
            configs: RwLock::new(config.tenants.clone()),
            limits: RwLock::new(config.limits.clone()),
            config_path: Mutex::new(None),
            serial: tokio::sync::Mutex::new(()),
            started: Instant::now(),
        }
    }

    /// Remembers the configuration file that `reload_from_file` (SIGHUP, `POST /v1/reload`) reads.
    pub fn set_config_path(&self, path: PathBuf) {
        *self.config_path.lock().unwrap_or_else(PoisonError::into_inner) = Some(path);
    }

    /// The tenant a participant certificate name maps to.
    #[must_use]
    pub fn tenant_of_certificate(&self, certificate_name: &str) -> Option<String> {
        self.directory.get(certificate_name).map(|e| e.id.as_str().to_owned())
    }

    fn actor(&self, tenant: &str) -> Option<ActorRef<TenantMsg>> {
        self.actors.read().unwrap_or_else(PoisonError::into_inner).get(tenant).cloned()
    }

    async fn blocking<T: Send + 'static>(
        &self,
        f: impl FnOnce(&StateStore) -> Result<T, switchyard_journal::state::StateError> + Send + 'static,
    ) -> Result<T, OpError> {
        let store = self.state.clone();
        tokio::task::spawn_blocking(move || f(&store))
            .await
            .map_err(|e| OpError::Unavailable(e.to_string()))?
            .map_err(|e| OpError::Unavailable(format!("state store: {e}")))
    }

    /// Dead-lettered payments of one tenant, or of all.
    pub async fn dlq_list(&self, tenant: Option<String>) -> Result<Vec<DlqEntry>, OpError> {
        self.blocking(move |s| s.dlq_list(tenant.as_deref())).await
    }

    /// One tenant's DLQ entry; another tenant's UETR is `NotFound`.
    pub async fn dlq_entry(&self, tenant: &str, uetr: &str) -> Result<DlqEntry, OpError> {
        let (t, u) = (tenant.to_owned(), uetr.to_owned());
        self.blocking(move |s| s.dlq_entry(&t, &u)).await?.ok_or(OpError::NotFound)
    }

    /// Journals the operator record, waits until the state store applied it, and for a replay
    /// hands the payment back to its tenant actor (it resumes like a recovered payment).
    pub async fn dlq_action(
        &self,
        tenant: &str,
        uetr: &str,
        kind: OperatorKind,
        operator: &str,
    ) -> Result<DlqEntry, OpError> {
        let _serial = self.serial.lock().await;
        let entry = self.dlq_entry(tenant, uetr).await?;
        let actor =
            match kind {
                OperatorKind::DlqReplay => Some(self.actor(tenant).ok_or_else(|| {
                    OpError::Conflict(format!("tenant {tenant} is not running on this node"))
                })?),
                OperatorKind::DlqPurge => None,
            };
        let record = JournalRecord::Operator(OperatorAction {
            tenant: tenant.to_owned(),
            uetr: uetr.to_owned(),
            kind,
            operator: operator.to_owned(),
            at_ms: now_ms(),
        });
        let (done, durable) = tokio::sync::oneshot::channel();
        self.ctx.journal.append(
            &record,
            Box::new(move |result| {
                let _ = done.send(result);
            }),
        );
        let seq = durable
            .await
            .map_err(|_| OpError::Unavailable("journal closed".into()))?
            .map_err(|e| OpError::Unavailable(format!("journal: {e}")))?;
        tracing::info!(tenant, uetr, action = kind.label(), operator, seq, "operator action journaled");
        let deadline = Instant::now() + APPLY_WAIT;
        while self.state.applied_seq() < seq && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        if let Some(actor) = actor {
            actor
                .cast(TenantMsg::Replay(Box::new(entry.payment.clone())))
                .map_err(|e| OpError::Unavailable(format!("tenant actor: {e}")))?;
        }
        Ok(entry)
    }

    /// Payments in flight node-wide (admitted, not yet at an outcome).
    #[must_use]
    pub fn in_flight(&self) -> i64 {
        self.ctx.counters.in_flight.load(Ordering::Acquire)
    }

    /// Since the node started.
    #[must_use]
    pub fn uptime(&self) -> Duration {
        self.started.elapsed()
    }

    /// (open payments, DLQ size) from the state store.
    pub async fn status_counts(&self) -> Result<(u64, u64), OpError> {
        let c = self.blocking(StateStore::counts).await?;
        Ok((c.open, c.dlq))
    }

    /// Every configured tenant with its live admission numbers.
    pub async fn tenants(&self) -> Vec<TenantStatus> {
        let configs = read(&self.configs);
        let mut out = Vec::with_capacity(configs.len());
        for t in configs {
            let snapshot = match self.actor(&t.name) {
                Some(actor) => ractor::call_t!(
                    actor,
                    TenantMsg::Snapshot,
                    u64::try_from(RPC_TIMEOUT.as_millis()).unwrap_or(2000)
                )
                .ok(),
                None => None,
            };
            let rate = self.directory.get(&t.certificate_name).map(|e| e.rate.spec()).unwrap_or(t.rate);
            out.push(TenantStatus {
                name: t.name.clone(),
                certificate_name: t.certificate_name.clone(),
                rate_per_s: rate.per_second.get(),
                burst: rate.burst.get(),
                bics: t.bics.iter().map(|b| b.as_str().to_owned()).collect(),
                in_flight: snapshot.map(|s: TenantSnapshot| s.in_flight),
                budget: snapshot.map(|s| s.budget),
            });
        }
        out
    }

    /// Every clearing link's state (connection, breaker, window use, last error).
    pub async fn links(&self) -> Vec<LinkSnapshot> {
        let links: Vec<(String, ActorRef<LinkMsg>)> = self
            .ctx
            .links
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .map(|(n, r)| (n.clone(), r.clone()))
            .collect();
        let mut out = Vec::with_capacity(links.len());
        for (name, link) in links {
            let ms = u64::try_from(RPC_TIMEOUT.as_millis()).unwrap_or(2000);
            match ractor::call_t!(link, LinkMsg::Snapshot, ms) {
                Ok(s) => out.push(s),
                Err(e) => out.push(LinkSnapshot {
                    name,
                    connected: false,
                    breaker: "unknown".to_owned(),
                    in_flight: 0,
                    window: self.ctx.limits.link_window,
                    last_error: Some(format!("link actor did not answer: {e}")),
                    unmatched_replies: 0,
                }),
            }
        }
        out.sort_by(|a, b| a.name.cmp(&b.name));
        out
    }

    /// How long a payment may stay open before it counts as stuck: its whole deadline budget
    /// (one clearing timeout per submission and per allowed inquiry), at least a minute.
    #[must_use]
    pub fn stuck_after_ms(&self) -> u64 {
        let p = &self.ctx.limits.payment;
        (p.clearing_timeout_ms.saturating_mul(u64::from(p.max_inquiries) + 1)).max(60_000)
    }

    /// Open payments older than [`Operations::stuck_after_ms`], over all tenants.
    pub async fn stuck(&self) -> Result<u64, OpError> {
        let tenants: Vec<String> = read(&self.configs).into_iter().map(|t| t.name).collect();
        let cutoff = now_ms().saturating_sub(self.stuck_after_ms());
        self.blocking(move |s| {
            let mut stuck = 0u64;
            for t in &tenants {
                stuck += s.open_payments(t)?.iter().filter(|p| p.accepted_at_ms < cutoff).count() as u64;
            }
            Ok(stuck)
        })
        .await
    }

    /// The node-wide summary.
    pub async fn status(&self, journal_last_seq: u64) -> Result<NodeStatus, OpError> {
        let counts = self.blocking(StateStore::counts).await?;
        Ok(NodeStatus {
            uptime_s: self.started.elapsed().as_secs(),
            in_flight: self.ctx.counters.in_flight.load(Ordering::Acquire),
            open_payments: counts.open,
            dlq: counts.dlq,
            stuck: self.stuck().await?,
            journal_last_seq,
            state_applied_seq: counts.applied_seq,
            tenants: self.tenants().await,
            links: self.links().await,
        })
    }

    /// Reads the configuration file again and applies it (SIGHUP and `POST /v1/reload`).
    pub async fn reload_from_file(&self) -> Result<ReloadReport, OpError> {
        let path =
            self.config_path.lock().unwrap_or_else(PoisonError::into_inner).clone().ok_or_else(|| {
                OpError::Conflict("this node was not started from a configuration file".into())
            })?;
        let load = path.clone();
        let config = tokio::task::spawn_blocking(move || crate::config_file::load(&load))
            .await
            .map_err(|e| OpError::Unavailable(e.to_string()))?
            .map_err(|e| OpError::Conflict(format!("{}: not reloaded: {e}", path.display())))?;
        self.reload(config).await
    }

    /// Applies a new configuration: routes (swapped whole), tenants (rate, budget and BICs of
    /// existing ones; new ones started), and the tenant budget limit. Connections and payments
    /// are untouched. Keys that need a restart are named in the report, not applied.
    pub async fn reload(&self, new: NodeConfig) -> Result<ReloadReport, OpError> {
        let _serial = self.serial.lock().await;
        let mut report = ReloadReport { routes: new.routes.routes.len(), ..ReloadReport::default() };
        let old_limits = read(&self.limits);
        restart_keys(&old_limits, &new.limits, &mut report.restart_required);
        let old = read(&self.configs);
        let mut directory = (*self.directory.snapshot()).clone();
        for t in &new.tenants {
            let budget = t.max_in_flight.unwrap_or(new.limits.tenant_max_in_flight);
            match old.iter().find(|o| o.name == t.name) {
                Some(o) => {
                    let Some(actor) = self.actor(&t.name) else { continue };
                    if let Some(live) = directory.get(&o.certificate_name) {
                        live.rate.set(t.rate);
                    }
                    let _ = actor.cast(TenantMsg::SetBudget(budget));
                    let mut updated = entry(t, actor);
                    if let Some(live) = directory.remove(&o.certificate_name) {
                        updated.rate = live.rate; // keep the shared bucket (already updated)
                    }
                    directory.insert(t.certificate_name.clone(), updated);
                    report.tenants_updated.push(t.name.clone());
                }
                None => {
                    let actor = self.spawn_tenant(t, budget).await?;
                    directory.insert(t.certificate_name.clone(), entry(t, actor));
                    report.tenants_added.push(t.name.clone());
                }
            }
        }
        let mut configs = new.tenants.clone();
        for o in &old {
            if !new.tenants.iter().any(|t| t.name == o.name) {
                report.tenants_kept.push(o.name.clone());
                configs.push(o.clone());
            }
        }
        self.directory.replace(directory);
        *self.configs.write().unwrap_or_else(PoisonError::into_inner) = configs;
        *self.ctx.routes.write().unwrap_or_else(PoisonError::into_inner) = Arc::new(new.routes);
        let mut limits = old_limits;
        limits.tenant_max_in_flight = new.limits.tenant_max_in_flight;
        *self.limits.write().unwrap_or_else(PoisonError::into_inner) = limits;
        tracing::info!(?report, "configuration reloaded");
        Ok(report)
    }

    async fn spawn_tenant(&self, t: &TenantConfig, budget: usize) -> Result<ActorRef<TenantMsg>, OpError> {
        let args = TenantArgs {
            tenant: TenantId::new(&t.name),
            ctx: Arc::clone(&self.ctx),
            recovered: Vec::new(),
            history: Vec::new(),
        };
        let (actor, _) = Actor::spawn_linked(None, TenantActor, args, self.root.get_cell())
            .await
            .map_err(|e| OpError::Unavailable(format!("starting tenant {}: {e}", t.name)))?;
        let _ = actor.cast(TenantMsg::SetBudget(budget));
        self.actors.write().unwrap_or_else(PoisonError::into_inner).insert(t.name.clone(), actor.clone());
        Ok(actor)
    }
}

/// Names the limits that differ and are only read at start.
fn restart_keys(old: &crate::config::Limits, new: &crate::config::Limits, out: &mut Vec<String>) {
    let pairs: [(&str, bool); 9] = [
        ("limits.credit_window", old.credit_window != new.credit_window),
        ("limits.max_frame_bytes", old.max_frame_bytes != new.max_frame_bytes),
        ("limits.max_connections", old.max_connections != new.max_connections),
        ("limits.handshake_timeout_ms", old.handshake_timeout != new.handshake_timeout),
        ("limits.idle_timeout_ms", old.idle_timeout != new.idle_timeout),
        ("limits.link_window", old.link_window != new.link_window),
        ("limits.link_heartbeat_ms", old.link_heartbeat != new.link_heartbeat),
        ("limits.clearing_timeout_ms", old.payment.clearing_timeout_ms != new.payment.clearing_timeout_ms),
        ("limits.max_message_bytes", old.iso.max_message_bytes != new.iso.max_message_bytes),
    ];
    out.extend(pairs.iter().filter(|(_, changed)| *changed).map(|(k, _)| (*k).to_owned()));
}
