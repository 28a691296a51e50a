//! What every actor of a node shares: ports, limits, the route table and the link registry.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use ractor::ActorRef;
use switchyard_iso20022::Limits;

use super::link::LinkMsg;
use super::status::StatusWriter;
use super::tenant::TenantMsg;
use crate::payment::PaymentLimits;
use crate::ports::{Clock, HistoryPort, JournalPort, NoHistory};
use crate::route::RouteTable;

/// Limits the actors enforce; all from config.
#[derive(Debug, Clone)]
pub struct NodeLimits {
    pub iso: Limits,
    pub payment: PaymentLimits,
    /// Per-tenant bound on admitted, not yet final payments.
    pub tenant_max_in_flight: usize,
    /// Node-wide bound on admitted, not yet final payments (all tenants together): what bounds
    /// the memory payments take, whatever the offered load.
    pub node_max_in_flight: usize,
    /// Per-link bound on payments awaiting a clearing answer.
    pub link_window: usize,
    /// Circuit breaker thresholds for every link.
    pub breaker: crate::breaker::BreakerLimits,
}

/// Shared by all actors of one node.
pub struct NodeContext {
    pub journal: Arc<dyn JournalPort>,
    pub clock: Arc<dyn Clock>,
    pub limits: NodeLimits,
    /// Swapped whole on reload; readers clone the `Arc` and never hold the lock across work.
    pub routes: RwLock<Arc<RouteTable>>,
    /// Clearing links by name; filled once the node has spawned them.
    pub links: RwLock<HashMap<String, ActorRef<LinkMsg>>>,
    /// Tenant actors by name; filled once the node has spawned them (messages from a clearing
    /// house that are not replies — returns — are offered to the tenant that owns the UETR).
    pub tenants: RwLock<HashMap<String, ActorRef<TenantMsg>>>,
    /// Which tenant each configured institution (BIC) belongs to: a payment whose creditor
    /// agent is one of them is settled on-us, without a clearing house. Set by the composition
    /// root from config before the node starts taking traffic.
    pub institutions: RwLock<Vec<(switchyard_iso20022::Bic, String)>>,
    /// Each link's clearing-scheme profile by link name (a link without one forwards the
    /// participant's message unchanged); filled once by the node before intake opens.
    pub schemes: RwLock<crate::scheme::Gates>,
    pub status: StatusWriter,
    pub counters: Counters,
    /// The durable idempotency index behind the tenants' memory ([`NoHistory`] by default).
    pub history: Arc<dyn HistoryPort>,
    /// The node-wide in-flight bound as last reloaded (starts at `limits.node_max_in_flight`).
    pub node_max_in_flight: std::sync::atomic::AtomicUsize,
}

/// Node-wide event counters (exported as metrics by the composition root).
#[derive(Debug, Default)]
pub struct Counters {
    /// Returns (pacs.004) from a clearing house that no tenant could apply.
    pub unmatched_returns: std::sync::atomic::AtomicU64,
    /// Submissions refused because the tenant was over its rate limit.
    pub rate_limited: std::sync::atomic::AtomicU64,
    /// Work in progress: submissions admitted (journal write pending) plus live payment actors.
    /// A graceful stop waits for it to reach zero (or its deadline).
    pub in_flight: std::sync::atomic::AtomicI64,
}

impl std::fmt::Debug for NodeContext {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NodeContext").field("limits", &self.limits).finish_non_exhaustive()
    }
}

impl NodeContext {
    #[must_use]
    pub fn new(
        journal: Arc<dyn JournalPort>,
        clock: Arc<dyn Clock>,
        limits: NodeLimits,
        routes: RouteTable,
    ) -> Arc<Self> {
        Self::with_history(journal, clock, limits, routes, Arc::new(NoHistory))
    }

    /// As [`NodeContext::new`], with the state store answering for keys tenants let go of.
    #[must_use]
    pub fn with_history(
        journal: Arc<dyn JournalPort>,
        clock: Arc<dyn Clock>,
        limits: NodeLimits,
        routes: RouteTable,
        history: Arc<dyn HistoryPort>,
    ) -> Arc<Self> {
        let status = StatusWriter::new(Arc::clone(&clock));
        let node_max_in_flight = std::sync::atomic::AtomicUsize::new(limits.node_max_in_flight);
        Arc::new(Self {
            journal,
            clock,
            limits,
            routes: RwLock::new(Arc::new(routes)),
            links: RwLock::new(HashMap::new()),
            tenants: RwLock::new(HashMap::new()),
            institutions: RwLock::new(Vec::new()),
            schemes: RwLock::new(HashMap::new()),
            status,
            counters: Counters::default(),
            history,
            node_max_in_flight,
        })
    }

    /// Takes one of the node's in-flight slots for a newly admitted payment; `Err` with the
    /// count and the bound when all are taken. Exact under concurrency (one atomic update), so
    /// the bound holds across tenants. Recovered payments are counted in without asking: they
    /// were acknowledged before the restart and must run.
    pub fn reserve_in_flight(&self) -> Result<(), (usize, usize)> {
        use std::sync::atomic::Ordering;
        let limit = self.node_max_in_flight.load(Ordering::Relaxed);
        let bound = i64::try_from(limit).unwrap_or(i64::MAX);
        self.counters
            .in_flight
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| (n < bound).then_some(n + 1))
            .map(|_| ())
            .map_err(|n| (usize::try_from(n).unwrap_or(0), limit))
    }

    /// The current route table.
    #[must_use]
    pub fn routes(&self) -> Arc<RouteTable> {
        Arc::clone(&self.routes.read().unwrap_or_else(std::sync::PoisonError::into_inner))
    }

    /// Every tenant actor.
    #[must_use]
    pub fn tenant_refs(&self) -> Vec<ActorRef<TenantMsg>> {
        self.tenants.read().unwrap_or_else(std::sync::PoisonError::into_inner).values().cloned().collect()
    }

    /// The tenant an institution (BIC8 or BIC11, compared as institutions) belongs to.
    #[must_use]
    pub fn tenant_of_institution(&self, bic: &str) -> Option<(String, ActorRef<TenantMsg>)> {
        let owner = self.owner_of_institution(bic)?;
        let actor =
            self.tenants.read().unwrap_or_else(std::sync::PoisonError::into_inner).get(&owner).cloned()?;
        Some((owner, actor))
    }

    /// The tenant whose participant is the institution `bic`, by name, whether or not its
    /// actor is running yet.
    #[must_use]
    pub fn owner_of_institution(&self, bic: &str) -> Option<String> {
        let bic = switchyard_iso20022::Bic::parse(bic)?;
        self.institutions
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .iter()
            .find(|(own, _)| own.same_institution(&bic))
            .map(|(_, tenant)| tenant.clone())
    }

    /// The scheme profile of a named link, if it has one.
    #[must_use]
    pub fn scheme(&self, link: &str) -> Option<Arc<dyn crate::scheme::SchemeGate>> {
        self.schemes.read().unwrap_or_else(std::sync::PoisonError::into_inner).get(link).cloned()
    }

    /// The actor of a named link.
    #[must_use]
    pub fn link(&self, name: &str) -> Option<ActorRef<LinkMsg>> {
        self.links.read().unwrap_or_else(std::sync::PoisonError::into_inner).get(name).cloned()
    }
}
