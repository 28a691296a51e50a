//! Operations on a running node, shared by the admin API, SIGHUP and `switchyard top`:
//! DLQ replay and purge (journaled operator records), the state of tenants and links, a status
//! summary, and configuration reload (routes, tenants, limits) without dropping a connection
//! or a payment.
//!
//! Reload reaches what is already running: a tenant's rate, budget and BICs change in place for
//! its signed-on sessions; a tenant removed from the file is retired (no new payment admitted,
//! payments in flight drained to an outcome, sessions signed off, then its actor stopped); the
//! listener limits are swapped for new and existing connections. Only keys read once at start
//! (listener addresses, data and journal, certificates, links and the limits inside the actor
//! context) are reported as `restart_required` (ARCHITECTURE.md, decisions).
//!
//! Owns: the tenant directory the listeners read (swapped whole on reload), the tenant actors
//! by name, the tenants being retired, the configuration in force, the live listener limits and
//! the path of the configuration file. Every
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
use switchyard_actors::policy::TenantPolicy;
use switchyard_actors::rate::RateLimit;
use switchyard_actors::record::{OperatorAction, OperatorKind};
use switchyard_actors::{JournalRecord, TenantId};
use switchyard_journal::state::{DlqEntry, StateStore};

use crate::config::{NodeConfig, TenantConfig};
use crate::listener::{LiveLimits, TenantDirectory, TenantEntry};

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
    /// Tenants whose configuration changed (rate or burst, BICs, budget, certificate name);
    /// a tenant the file leaves as it was is not listed.
    pub tenants_updated: Vec<String>,
    /// Tenants in the running node but not in the file: retired — new payments refused (AG01),
    /// payments in flight drained to an outcome, then their sessions signed off.
    pub tenants_removed: Vec<String>,
    /// Keys that changed and took effect (limits applied to new and existing connections).
    pub applied: Vec<String>,
    /// Keys that changed but only take effect on a restart.
    pub restart_required: Vec<String>,
}

/// The node-wide summary that `switchyard top` draws.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct NodeStatus {
    pub uptime_s: u64,
    /// Submissions being made durable plus live payment actors.
    pub in_flight: i64,
    /// The node-wide bound on payments in flight (`limits.node_max_in_flight`, as last
    /// reloaded; 0 from a node that predates it).
    #[serde(default)]
    pub max_in_flight: usize,
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
    /// Tenant actors by tenant name (retiring ones included until they have drained).
    actors: Arc<RwLock<HashMap<String, ActorRef<TenantMsg>>>>,
    /// Tenants removed by a reload whose payments are still draining, by tenant name.
    retiring: Arc<Mutex<HashMap<String, TenantEntry>>>,
    configs: RwLock<Vec<TenantConfig>>,
    /// The limits in force (the listeners read them live).
    limits: Arc<LiveLimits>,
    /// The configuration the node started with: what only a restart changes is compared to it.
    started_with: NodeConfig,
    /// Stuck payments, counted as payments open and close (not by scanning).
    stuck: Arc<crate::stuck::StuckTracker>,
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
    TenantEntry::new(TenantId::new(&t.name), actor, RateLimit::new(t.rate), TenantPolicy::new(t.bics.clone()))
}

/// How often a retiring tenant is asked whether its payments have drained.
const RETIRE_POLL: Duration = Duration::from_millis(25);

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
        limits: Arc<LiveLimits>,
        stuck: Arc<crate::stuck::StuckTracker>,
        config: &NodeConfig,
    ) -> Self {
        let actors =
            directory.snapshot().values().map(|e| (e.id.as_str().to_owned(), e.actor.clone())).collect();
        Self {
            ctx,
            root,
            state,
            directory,
            actors: Arc::new(RwLock::new(actors)),
            retiring: Arc::new(Mutex::new(HashMap::new())),
            configs: RwLock::new(config.tenants.clone()),
            limits,
            started_with: config.clone(),
            stuck,
            config_path: Mutex::new(None),
            serial: tokio::sync::Mutex::new(()),
            started: Instant::now(),
        }
    }

    /// Remembers the configuration file that `reload_from_file` (SIGHUP, `POST /v1/reload`) reads.
    pub fn set_config_path(&self, path: PathBuf) {
        *self.config_path.lock().unwrap_or_else(PoisonError::into_inner) = Some(path);
    }

    /// The configuration the node started with (listeners and links change only on restart).
    pub(crate) fn started_config(&self) -> &NodeConfig {
        &self.started_with
    }

    /// The configured tenants' names (as last reloaded; retiring ones not included).
    #[must_use]
    pub fn tenant_names(&self) -> Vec<String> {
        read(&self.configs).into_iter().map(|t| t.name).collect()
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
        crate::stuck::budget_ms(&self.ctx.limits.payment)
    }

    /// Open payments older than [`Operations::stuck_after_ms`] (a DLQ replay restarts the
    /// clock), over all tenants; maintained incrementally ([`crate::stuck`]).
    pub async fn stuck(&self) -> Result<u64, OpError> {
        Ok(self.stuck.stuck(now_ms()))
    }

    /// The node-wide summary.
    pub async fn status(&self, journal_last_seq: u64) -> Result<NodeStatus, OpError> {
        let counts = self.blocking(StateStore::counts).await?;
        Ok(NodeStatus {
            uptime_s: self.started.elapsed().as_secs(),
            in_flight: self.ctx.counters.in_flight.load(Ordering::Acquire),
            max_in_flight: self.ctx.node_max_in_flight.load(Ordering::Relaxed),
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

    /// The limits in force (as last reloaded).
    #[must_use]
    pub fn limits(&self) -> Arc<crate::config::Limits> {
        self.limits.get()
    }

    /// Tenants removed by a reload that are still draining.
    #[must_use]
    pub fn retiring(&self) -> Vec<String> {
        let mut names: Vec<String> =
            self.retiring.lock().unwrap_or_else(PoisonError::into_inner).keys().cloned().collect();
        names.sort();
        names
    }

    /// Applies a new configuration: routes (swapped whole); tenants (rate, budget and BICs of
    /// existing ones changed in place, for signed-on sessions too; new ones started; removed ones
    /// retired); the listener limits and the tenant budget. Connections and payments are never
    /// dropped. Keys that need a restart are named in the report, not applied.
    pub async fn reload(&self, new: NodeConfig) -> Result<ReloadReport, OpError> {
        let _serial = self.serial.lock().await;
        let mut report = ReloadReport { routes: new.routes.routes.len(), ..ReloadReport::default() };
        let old_limits = self.limits.get();
        restart_keys(&self.started_with, &new, &mut report.restart_required);
        live_keys(&old_limits, &new.limits, &mut report.applied);
        let old = read(&self.configs);
        let mut directory = (*self.directory.snapshot()).clone();
        for t in &new.tenants {
            let budget = t.max_in_flight.unwrap_or(new.limits.tenant_max_in_flight);
            match old.iter().find(|o| o.name == t.name) {
                Some(o) => {
                    let Some(mut updated) = directory.remove(&o.certificate_name) else { continue };
                    updated.rate.set(t.rate); // shared with the tenant's sessions: in place
                    updated.policy.set_bics(t.bics.clone());
                    let _ = updated.actor.cast(TenantMsg::SetBudget(budget));
                    updated.id = TenantId::new(&t.name);
                    directory.insert(t.certificate_name.clone(), updated);
                    if o != t {
                        report.tenants_updated.push(t.name.clone());
                    }
                }
                None => {
                    let reinstated =
                        self.retiring.lock().unwrap_or_else(PoisonError::into_inner).remove(&t.name);
                    let entry = match reinstated {
                        // Removed by an earlier reload and still draining: the same actor and
                        // sessions take new payments again.
                        Some(mut e) => {
                            e.rate.set(t.rate);
                            e.policy.set_bics(t.bics.clone());
                            e.policy.reinstate();
                            e.closing = tokio_util::sync::CancellationToken::new();
                            let _ = e.actor.cast(TenantMsg::SetBudget(budget));
                            e
                        }
                        None => entry(t, self.spawn_tenant(t, budget).await?),
                    };
                    crate::admin::register_tenant_series(&t.name);
                    directory.insert(t.certificate_name.clone(), entry);
                    report.tenants_added.push(t.name.clone());
                }
            }
        }
        for o in &old {
            if new.tenants.iter().any(|t| t.name == o.name) {
                continue;
            }
            if let Some(entry) = directory.remove(&o.certificate_name) {
                entry.policy.retire();
                report.tenants_removed.push(o.name.clone());
                self.retiring
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .insert(o.name.clone(), entry.clone());
                tokio::spawn(retire(
                    entry,
                    new.limits.drain_timeout,
                    Arc::clone(&self.ctx),
                    Arc::clone(&self.actors),
                    Arc::clone(&self.retiring),
                ));
            }
        }
        // On-us deliveries go to the configured tenants only (not to retiring ones).
        *self.ctx.institutions.write().unwrap_or_else(PoisonError::into_inner) =
            new.tenants.iter().flat_map(|t| t.bics.iter().map(|b| (b.clone(), t.name.clone()))).collect();
        self.directory.replace(directory);
        *self.configs.write().unwrap_or_else(PoisonError::into_inner) = new.tenants.clone();
        *self.ctx.routes.write().unwrap_or_else(PoisonError::into_inner) = Arc::new(new.routes);
        // Every limit the listeners read is swapped; the ones inside the actor context keep
        // their start values (they are in `restart_required` when they differ).
        let mut limits = new.limits.clone();
        let started = &self.started_with.limits;
        limits.link_window = started.link_window;
        limits.link_heartbeat = started.link_heartbeat;
        limits.breaker = started.breaker;
        limits.payment = started.payment;
        limits.iso = started.iso;
        self.ctx.node_max_in_flight.store(limits.node_max_in_flight, Ordering::Relaxed);
        self.limits.set(limits);
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
        // On-us deliveries find the tenant's actor here.
        self.ctx
            .tenants
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(t.name.clone(), actor.clone());
        Ok(actor)
    }
}

/// A tenant's payments admitted and not final; `None` once its actor is gone.
async fn tenant_in_flight(actor: &ActorRef<TenantMsg>) -> Option<usize> {
    let ms = u64::try_from(RPC_TIMEOUT.as_millis()).unwrap_or(2000);
    ractor::call_t!(actor, TenantMsg::Snapshot, ms).ok().map(|s: TenantSnapshot| s.in_flight)
}

/// Retires a tenant removed by a reload (its policy already refuses new payments, and its
/// certificate no longer signs on): waits up to `drain` for its payments in flight to reach an
/// outcome (their statuses still reach its sessions), signs its sessions off, and stops its
/// actor once nothing is in flight — however long that takes, so no payment is orphaned. A
/// reload that configures the tenant again in the meantime takes it back (`reinstate`).
async fn retire(
    entry: TenantEntry,
    drain: Duration,
    ctx: Arc<NodeContext>,
    actors: Arc<RwLock<HashMap<String, ActorRef<TenantMsg>>>>,
    retiring: Arc<Mutex<HashMap<String, TenantEntry>>>,
) {
    let name = entry.id.as_str().to_owned();
    let still_retiring = || {
        retiring
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&name)
            .is_some_and(|e| e.actor.get_id() == entry.actor.get_id())
    };
    tracing::info!(tenant = %name, "tenant removed from the configuration: draining");
    let deadline = Instant::now() + drain;
    loop {
        match tenant_in_flight(&entry.actor).await {
            None => break,
            Some(0) => break,
            Some(_) if Instant::now() >= deadline => break,
            Some(_) => tokio::time::sleep(RETIRE_POLL).await,
        }
        if !still_retiring() {
            return;
        }
    }
    if !still_retiring() {
        return;
    }
    entry.closing.cancel();
    let signed_off = Instant::now() + drain;
    while entry.sessions.load(Ordering::Acquire) > 0 && Instant::now() < signed_off {
        tokio::time::sleep(RETIRE_POLL).await;
    }
    tracing::info!(tenant = %name, sessions = entry.sessions.load(Ordering::Acquire), "removed tenant's sessions signed off");
    loop {
        match tenant_in_flight(&entry.actor).await {
            None | Some(0) => break,
            Some(_) => tokio::time::sleep(RETIRE_POLL * 4).await,
        }
        if !still_retiring() {
            return;
        }
    }
    let mut map = retiring.lock().unwrap_or_else(PoisonError::into_inner);
    if map.get(&name).is_none_or(|e| e.actor.get_id() != entry.actor.get_id()) {
        return; // reinstated by a reload
    }
    map.remove(&name);
    let mut by_name = actors.write().unwrap_or_else(PoisonError::into_inner);
    if by_name.get(&name).is_some_and(|a| a.get_id() == entry.actor.get_id()) {
        by_name.remove(&name);
    }
    let mut registered = ctx.tenants.write().unwrap_or_else(PoisonError::into_inner);
    if registered.get(&name).is_some_and(|a| a.get_id() == entry.actor.get_id()) {
        registered.remove(&name);
    }
    entry.actor.stop(Some("removed from the configuration".into()));
    tracing::info!(tenant = %name, "removed tenant drained and stopped");
}

/// Names the keys that differ from the start configuration and are only read at start: the
/// listener addresses, the data directory and journal, the certificates and CAs, the admin
/// listener's keys, the clearing links, and the limits that live inside the actor context or
/// the link dialers (every payment of the node reads them; changing them under a running
/// payment would change its deadline budget or retry plan mid-flight).
fn restart_keys(old: &NodeConfig, new: &NodeConfig, out: &mut Vec<String>) {
    let (o, n) = (&old.limits, &new.limits);
    let links = |c: &NodeConfig| {
        c.links
            .iter()
            .map(|l| {
                (
                    l.name.clone(),
                    l.addr,
                    l.server_name.clone(),
                    l.server_ca.clone(),
                    l.client_identity.chain.clone(),
                )
            })
            .collect::<Vec<_>>()
    };
    let pairs: [(&str, bool); 17] = [
        ("node.data_dir", old.data_dir != new.data_dir),
        ("node.listen", old.listen != new.listen),
        ("node.listen_quic", old.listen_quic != new.listen_quic),
        ("admin.listen", old.admin_listen != new.admin_listen),
        (
            "admin.jwt_secret_file",
            old.admin_jwt.as_ref().map(|k| k.0.clone()) != new.admin_jwt.as_ref().map(|k| k.0.clone()),
        ),
        (
            "admin.tls",
            old.admin_tls.as_ref().map(|t| &t.operators) != new.admin_tls.as_ref().map(|t| &t.operators)
                || old.admin_tls.is_some() != new.admin_tls.is_some(),
        ),
        ("tls.certificate", old.server_identity.chain != new.server_identity.chain),
        ("tls.participant_ca", old.participant_ca != new.participant_ca),
        ("links", links(old) != links(new)),
        ("journal", old.journal != new.journal),
        ("limits.link_window", o.link_window != n.link_window),
        ("limits.link_heartbeat_ms", o.link_heartbeat != n.link_heartbeat),
        ("limits.clearing_timeout_ms", o.payment.clearing_timeout_ms != n.payment.clearing_timeout_ms),
        ("limits.retry_base_ms", o.payment.retry_base_ms != n.payment.retry_base_ms),
        ("limits.retry_max_ms", o.payment.retry_max_ms != n.payment.retry_max_ms),
        ("limits.retry_jitter_pct", o.payment.retry_jitter_pct != n.payment.retry_jitter_pct),
        ("limits.max_message_bytes", o.iso.max_message_bytes != n.iso.max_message_bytes),
    ];
    out.extend(pairs.iter().filter(|(_, changed)| *changed).map(|(k, _)| (*k).to_owned()));
}

/// Names the limits that changed and take effect live (listener limits, tenant budget, drain).
fn live_keys(o: &crate::config::Limits, n: &crate::config::Limits, out: &mut Vec<String>) {
    let pairs: [(&str, bool); 9] = [
        ("limits.credit_window", o.credit_window != n.credit_window),
        ("limits.max_frame_bytes", o.max_frame_bytes != n.max_frame_bytes),
        ("limits.max_connections", o.max_connections != n.max_connections),
        ("limits.handshake_timeout_ms", o.handshake_timeout != n.handshake_timeout),
        ("limits.idle_timeout_ms", o.idle_timeout != n.idle_timeout),
        ("limits.frame_timeout_ms", o.frame_timeout != n.frame_timeout),
        ("limits.tenant_max_in_flight", o.tenant_max_in_flight != n.tenant_max_in_flight),
        ("limits.node_max_in_flight", o.node_max_in_flight != n.node_max_in_flight),
        ("limits.drain_timeout_ms", o.drain_timeout != n.drain_timeout),
    ];
    out.extend(pairs.iter().filter(|(_, changed)| *changed).map(|(k, _)| (*k).to_owned()));
}
