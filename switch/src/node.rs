//! `Node`: one running switch. Start order: journal (recovery) → state store catch-up → actors →
//! clearing links (dialers and accept-mode listeners) → participant listener. Stop order is the
//! reverse, ending with a journal flush.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use anyhow::Context;
use ractor::{Actor, ActorRef};
use rustls::pki_types::ServerName;
use switchyard_actors::actor::{NodeActor, NodeArgs, NodeContext, NodeLimits, NodeMsg, NodeRefs, TenantArgs};
use switchyard_actors::TenantId;
use switchyard_clearing::acceptor;
use switchyard_clearing::dialer::{self, Backoff, Connector, DialerArgs};
use switchyard_clearing::schemes::gate::Gate;
use switchyard_clearing::session::SessionArgs;
use switchyard_journal::state::{open_or_rebuild, StateStore};
use switchyard_journal::{Journal, JournalConfig, Recovery};
use switchyard_wire::quic::{self, QuicLimits};
use switchyard_wire::tls;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::admin::{self, AdminState};
use crate::clock::SystemClock;
use crate::config::{LinkMode, LinkTransport, NodeConfig};
use crate::journal_port::{JournalAdapter, StateHistory};
use crate::listener::{self, ListenerArgs, LiveLimits, TenantDirectory, TenantEntry};
use crate::ops::Operations;
use crate::projector::{Projector, Retention};
use crate::stuck::{StuckEvent, StuckTracker};

/// The QUIC stateless-reset key in the data directory (`quic::ResetKey`; created at the first
/// start with a QUIC listener, kept across restarts).
pub const QUIC_RESET_KEY_FILE: &str = "quic-reset.key";

/// A running node.
#[derive(Debug)]
pub struct Node {
    /// Where participants connect.
    pub addr: SocketAddr,
    /// Where participants connect over QUIC, when enabled.
    pub quic_addr: Option<SocketAddr>,
    /// The admin HTTP listener, when enabled.
    pub admin_addr: Option<SocketAddr>,
    /// Where each accept-mode clearing link listens for its clearing house, by link name.
    pub clearing_addrs: HashMap<String, SocketAddr>,
    pub recovery: Recovery,
    /// Journal records the state store caught up on at start.
    pub replayed: u64,
    /// The queryable projection (payments, idempotency, DLQ, audit chain).
    pub state: StateStore,
    projector: Option<Projector>,
    journal: Journal,
    root: ActorRef<NodeMsg>,
    root_task: JoinHandle<()>,
    /// Cancelled first on stop: listeners stop accepting, sessions stop reading and sign off.
    intake: CancellationToken,
    /// Cancelled once drained: clearing dialers and the admin listener.
    shutdown: CancellationToken,
    tasks: Vec<JoinHandle<()>>,
    ctx: Arc<NodeContext>,
    /// Operations on the running node (admin API, SIGHUP, `switchyard top`).
    pub ops: Arc<Operations>,
    /// What `/readyz` answers: set once started, cleared when the drain begins.
    ready: Arc<AtomicBool>,
}

impl Node {
    /// Opens the journal, replays it, starts the actors and binds the listener.
    pub async fn start(config: NodeConfig) -> anyhow::Result<Self> {
        admin::install_recorder();
        let journal_dir = config.data_dir.join("journal");
        let mut jc = JournalConfig::new(&journal_dir);
        jc.segment_bytes = config.journal.segment_bytes;
        jc.max_batch_records = config.journal.max_batch_records;
        jc.queue_capacity = config.journal.queue_capacity;
        jc.sync = config.journal.sync;
        jc.min_sync_interval = config.journal.min_sync_interval;
        let (journal, recovery) =
            Journal::open(jc).with_context(|| format!("opening journal in {}", journal_dir.display()))?;
        // The state store catches up with the journal before anything can be admitted.
        let state_dir = config.data_dir.join("state");
        let (state, replayed) = {
            let (dir, journal_dir) = (state_dir.clone(), journal_dir.clone());
            let cache_bytes = config.journal.state_cache_bytes;
            tokio::task::spawn_blocking(move || {
                // A store sled cannot read is rebuilt from the journal (it is a projection).
                let (store, rebuilt) = open_or_rebuild(&dir, &journal_dir, cache_bytes)?;
                if let Some(r) = &rebuilt {
                    eprintln!(
                        "switchyard: state store unreadable ({}); moved to {} and rebuilt from {} journal records",
                        r.reason,
                        r.moved_to.display(),
                        r.report.records
                    );
                }
                let caught_up = store.catch_up(&journal_dir)?;
                // Admission reads sled only for keys this filter cannot rule out.
                store.enable_key_filter();
                anyhow::Ok((store, caught_up))
            })
            .await?
            .with_context(|| format!("state store in {}", state_dir.display()))?
        };
        let retention = config
            .journal
            .checkpoint_interval
            .map(|interval| Retention { journal: journal.clone(), interval });
        let projector =
            Projector::start(state.clone(), journal_dir.clone(), config.journal.queue_capacity, retention)?;
        let limits = NodeLimits {
            iso: config.limits.iso,
            payment: config.limits.payment,
            tenant_max_in_flight: config.limits.tenant_max_in_flight,
            node_max_in_flight: config.limits.node_max_in_flight,
            link_window: config.limits.link_window,
            breaker: config.limits.breaker,
        };
        // Stuck payments, seeded below with the recovered open payments.
        let stuck = Arc::new(StuckTracker::new(crate::stuck::budget_ms(&config.limits.payment)));
        let ctx = NodeContext::with_history(
            Arc::new(JournalAdapter {
                journal: journal.clone(),
                projector: Some(projector.sender()),
                stuck: Some(Arc::clone(&stuck)),
            }),
            Arc::new(SystemClock),
            limits,
            config.routes.clone(),
            Arc::new(StateHistory { store: state.clone(), journal: journal.clone() }),
        );
        // On-us settlement: which tenant each configured institution belongs to.
        *ctx.institutions.write().unwrap_or_else(std::sync::PoisonError::into_inner) =
            config.tenants.iter().flat_map(|t| t.bics.iter().map(|b| (b.clone(), t.name.clone()))).collect();
        install_schemes(&ctx, &config)?;
        let ctx_for_drain = Arc::clone(&ctx);
        let tenants = config
            .tenants
            .iter()
            .map(|t| {
                // Past payments stay in the state store (the lifetime idempotency index): the
                // tenant asks it on demand, so start-up does not load the tenant's history.
                let recovered = state.open_payments(&t.name)?;
                for p in &recovered {
                    stuck.observe(StuckEvent::Opened {
                        tenant: p.tenant.clone(),
                        uetr: p.uetr.clone(),
                        at_ms: p.accepted_at_ms,
                    });
                }
                anyhow::Ok(TenantArgs {
                    tenant: TenantId::new(&t.name),
                    ctx: Arc::clone(&ctx),
                    recovered,
                    history: Vec::new(),
                })
            })
            .collect::<anyhow::Result<Vec<_>>>()?;
        let links = config.links.iter().map(|l| l.name.clone()).collect();
        let (root, root_task) =
            Actor::spawn(None, NodeActor, NodeArgs { ctx: Arc::clone(&ctx), links, tenants })
                .await
                .context("starting the actor tree")?;
        let refs: NodeRefs = ractor::call!(root, NodeMsg::Refs).context("asking the node for its actors")?;
        let shutdown = CancellationToken::new();
        let intake = CancellationToken::new();
        let (mut tasks, clearing_addrs) =
            start_links(&config, &refs, &shutdown).await.context("starting the clearing links")?;
        let by_certificate: HashMap<String, TenantEntry> = config
            .tenants
            .iter()
            .filter_map(|t| {
                let actor = refs.tenants.get(&TenantId::new(&t.name))?.clone();
                if let Some(budget) = t.max_in_flight {
                    let _ = actor.cast(switchyard_actors::actor::TenantMsg::SetBudget(budget));
                }
                Some((t.certificate_name.clone(), crate::ops::entry(t, actor)))
            })
            .collect();
        let directory = Arc::new(TenantDirectory::new(by_certificate));
        let live_limits = Arc::new(LiveLimits::new(config.limits.clone()));
        let ops = Arc::new(Operations::new(
            Arc::clone(&ctx),
            root.clone(),
            state.clone(),
            Arc::clone(&directory),
            Arc::clone(&live_limits),
            stuck,
            &config,
        ));
        let server_tls = tls::server_config(&config.server_identity, &config.participant_ca)?;
        let tcp = tokio::net::TcpListener::bind(config.listen)
            .await
            .with_context(|| format!("binding {}", config.listen))?;
        let addr = tcp.local_addr()?;
        let args = ListenerArgs { tls: server_tls, tenants: directory, limits: live_limits, ctx };
        let quic_addr = match config.listen_quic {
            Some(at) => {
                // The same stateless-reset key across restarts: participants of the previous
                // run learn at once that their connection is gone (`quic::ResetKey`).
                let reset_key = quic::ResetKey::load_or_create(&config.data_dir.join(QUIC_RESET_KEY_FILE))?;
                let endpoint = quic::server_endpoint_with(
                    at,
                    Arc::clone(&args.tls),
                    QuicLimits::default(),
                    Some(&reset_key),
                )
                .with_context(|| format!("binding QUIC {at}"))?;
                let bound = endpoint.local_addr()?;
                tasks.push(tokio::spawn(listener::serve_quic(endpoint, args.clone(), intake.clone())));
                Some(bound)
            }
            None => None,
        };
        tasks.push(tokio::spawn(listener::serve_tls(tcp, args, intake.clone())));
        let ready = Arc::new(AtomicBool::new(false));
        let admin_addr = match config.admin_listen {
            Some(at) => {
                let state = AdminState {
                    ready: Arc::clone(&ready),
                    journal: journal.clone(),
                    limits: config.limits.clone(),
                    journal_tuning: config.journal,
                    state: state.clone(),
                    jwt: config.admin_jwt.clone(),
                    ops: Arc::clone(&ops),
                    operators: Arc::from(Vec::new()),
                };
                let (bound, task) = admin::start(at, state, config.admin_tls.clone(), shutdown.clone())
                    .await
                    .with_context(|| format!("binding admin listener {at}"))?;
                tasks.push(task);
                Some(bound)
            }
            None => None,
        };
        // Journal recovered, actors and listeners up: ready.
        ready.store(true, Ordering::Release);
        tracing::info!(%addr, ?quic_addr, replayed, "node ready");
        Ok(Self {
            addr,
            quic_addr,
            admin_addr,
            clearing_addrs,
            recovery,
            replayed,
            state,
            projector: Some(projector),
            journal,
            root,
            root_task,
            intake,
            shutdown,
            tasks,
            ctx: Arc::clone(&ctx_for_drain),
            ops,
            ready,
        })
    }

    /// Swaps the route table (SIGHUP): payments already routed keep their link; new submissions
    /// and retries use the new table. Connections and payments are untouched.
    pub fn reload_routes(&self, routes: switchyard_actors::route::RouteTable) {
        *self.ctx.routes.write().unwrap_or_else(std::sync::PoisonError::into_inner) = Arc::new(routes);
    }

    /// Payments admitted and not yet at an outcome (plus submissions being made durable).
    #[must_use]
    pub fn in_flight(&self) -> i64 {
        self.ctx.counters.in_flight.load(Ordering::Acquire)
    }

    /// Graceful stop (SIGTERM): stop accepting and reading, sign sessions off, wait up to the
    /// drain deadline for payments in flight to reach an outcome (their statuses still reach the
    /// participants), then stop links and actors and flush the journal and the state store.
    /// Returns how many payments were still in flight at the deadline (0 when fully drained);
    /// those are durable and resume, by status inquiry, on the next start.
    pub async fn stop(self) -> anyhow::Result<i64> {
        // A load balancer polling `/readyz` stops sending here, while the drain runs.
        self.ready.store(false, Ordering::Release);
        self.intake.cancel();
        // The drain deadline as last reloaded.
        let deadline = tokio::time::Instant::now() + self.ops.limits().drain_timeout;
        while self.in_flight() > 0 && tokio::time::Instant::now() < deadline {
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        let left = self.in_flight().max(0);
        if left > 0 {
            tracing::warn!(left, "drain deadline reached; payments in flight resume on the next start");
        }
        self.shutdown.cancel();
        for task in self.tasks {
            let _ = task.await;
        }
        self.root.stop(None);
        let _ = self.root_task.await;
        self.journal.shutdown().context("flushing the journal")?;
        if let Some(projector) = self.projector {
            // Applies what is queued and catches up with the journal's last records.
            tokio::task::spawn_blocking(move || projector.stop()).await?;
        }
        Ok(left)
    }
}

/// Gives every link with a configured clearing scheme its profile (docs/SCHEMES.md), before any
/// participant can submit.
fn install_schemes(ctx: &NodeContext, config: &NodeConfig) -> anyhow::Result<()> {
    let mut gates = ctx.schemes.write().unwrap_or_else(std::sync::PoisonError::into_inner);
    for link in &config.links {
        if let Some(options) = &link.scheme {
            let gate = Gate::new(options).with_context(|| format!("links.{}.scheme", link.name))?;
            tracing::info!(link = %link.name, scheme = %options.scheme, "clearing scheme profile on link");
            gates.insert(link.name.clone(), Arc::new(gate));
        }
    }
    Ok(())
}

/// Starts every clearing link's connection keeper: a dialer for dial-mode links, a listener
/// for accept-mode ones. Returns the tasks and the bound address of each accept-mode link.
async fn start_links(
    config: &NodeConfig,
    refs: &NodeRefs,
    shutdown: &CancellationToken,
) -> anyhow::Result<(Vec<JoinHandle<()>>, HashMap<String, SocketAddr>)> {
    let mut tasks = Vec::new();
    let mut bound = HashMap::new();
    for link in &config.links {
        let actor = refs.links.get(&link.name).context("link actor missing")?.clone();
        let session = SessionArgs {
            name: link.name.clone(),
            link: actor,
            max_frame_bytes: config.limits.max_frame_bytes,
            out_capacity: config.limits.link_window + 64,
            handshake_timeout: config.limits.handshake_timeout,
            heartbeat: config.limits.link_heartbeat,
        };
        match &link.mode {
            LinkMode::Dial => {
                let connector = match link.transport {
                    LinkTransport::Tls => {
                        let server_name =
                            ServerName::try_from(link.server_name.clone()).with_context(|| {
                                format!("links.{}.server_name: not a DNS name or IP address", link.name)
                            })?;
                        Connector::Tls {
                            addr: link.addr,
                            server_name,
                            tls: tls::client_config(&link.server_ca, Some(&link.client_identity))?,
                        }
                    }
                    LinkTransport::Quic => Connector::Quic {
                        addr: link.addr,
                        server_name: link.server_name.clone(),
                        endpoint: quic::client_endpoint(&link.server_ca, Some(&link.client_identity))
                            .with_context(|| format!("links.{}: QUIC client endpoint", link.name))?,
                    },
                };
                let args = DialerArgs { connector, session, backoff: Backoff { base_ms: 50, max_ms: 5_000 } };
                tasks.push(dialer::spawn(args, shutdown.clone()));
            }
            LinkMode::Accept { peer_name } => {
                let server = tls::server_config(&link.client_identity, &link.server_ca)?;
                let listen = match link.transport {
                    LinkTransport::Tls => acceptor::Listen::tls(link.addr, server).await?,
                    LinkTransport::Quic => acceptor::Listen::quic(link.addr, server)?,
                };
                let addr = listen.local_addr()?;
                tracing::info!(link = %link.name, %addr, peer = %peer_name, transport = ?link.transport, "clearing link accepting");
                bound.insert(link.name.clone(), addr);
                let args = acceptor::AcceptorArgs { listen, peer_name: peer_name.clone(), session };
                tasks.push(acceptor::spawn(args, shutdown.clone()));
            }
        }
    }
    Ok((tasks, bound))
}
