//! The `switchyard` binary: the CLI over the library's composition root.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, Subcommand};

/// mimalloc instead of the system allocator: the switch allocates per message (parsing, frames,
/// statuses) and glibc malloc's slow paths measured ~24% of CPU at saturation (bench/RESULTS.md).
/// Built with `no_thp`: mimalloc otherwise madvises its arena for transparent huge pages, and
/// every touched 2 MiB page then counts whole in RSS (idle memory, bench/RESULTS.md §4).
/// The `system-allocator` feature keeps the system's malloc instead, so heap profilers that
/// intercept malloc (heaptrack, valgrind) see every allocation (bench/RESULTS.md §4).
#[cfg(not(feature = "system-allocator"))]
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;
use switchyard::demo::{self, DemoSettings};

#[derive(Debug, Parser)]
#[command(name = "switchyard", version, about = "ISO 20022 payment message switch")]
struct Cli {
    /// Log format on stderr: `text` for people, `json` (one object per line) for log shippers.
    /// The level filter comes from RUST_LOG (default `warn,switchyard::ops=info`: warnings, and
    /// operator actions and reloads). Colours only when stderr is a terminal and NO_COLOR is unset.
    #[arg(long, global = true, default_value = "text", value_parser = ["text", "json"])]
    log_format: String,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run a node with the built-in clearing simulator under open-loop load and print a report.
    Demo {
        /// Data directory (journal, certificates); a temporary directory when omitted.
        #[arg(long)]
        data: Option<PathBuf>,
        /// Seconds of load.
        #[arg(long, default_value_t = 10)]
        duration: u64,
        /// Payments per second, across all participants.
        #[arg(long, default_value_t = 2000)]
        rate: u64,
        /// Simulated participant banks (one TLS session each, named bank-a, bank-b, ...), 1..=26.
        #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u16).range(1..=26))]
        participants: u16,
        /// Simulator answer latency in milliseconds.
        #[arg(long, default_value_t = 0)]
        clearing_latency_ms: u64,
        /// Fraction of payments the simulator rejects (0.0 to 1.0).
        #[arg(long, default_value_t = 0.0)]
        clearing_reject_rate: f64,
        /// Fraction of submissions the simulator processes but never answers (0.0 to 1.0).
        #[arg(long, default_value_t = 0.0)]
        clearing_drop_rate: f64,
        /// Fraction of submissions the simulator loses before recording them (0.0 to 1.0).
        #[arg(long, default_value_t = 0.0)]
        clearing_lose_rate: f64,
        /// Participant transport: tls (TLS 1.3 over TCP) or quic.
        #[arg(long, default_value = "tls")]
        transport: switchyard_bench::client::Transport,
        /// How long a payment waits for the clearing house before asking (pacs.028), in ms
        /// (10..=3600000).
        #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(u64).range(10..=3_600_000))]
        clearing_timeout_ms: u64,
        /// Clearing scheme profile on the demo's link (samos, bankserv, rtc, payshap, swift);
        /// without it the link forwards the participants' messages unchanged.
        #[arg(long)]
        scheme: Option<String>,
    },
    /// Run a node from a configuration file until SIGTERM or SIGINT.
    Run {
        #[arg(long)]
        config: PathBuf,
    },
    /// Run the clearing-house simulator from its configuration file until SIGTERM or SIGINT.
    ClearingSim {
        #[arg(long)]
        config: PathBuf,
    },
    /// Validate ISO 20022 messages: one line per file; exit 0 only if all are valid.
    Validate {
        /// Message files (bare Document, with AppHdr, or in an envelope); `-` reads standard input.
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Journal maintenance.
    Journal {
        #[command(subcommand)]
        command: JournalCommand,
    },
    /// Audit chain maintenance.
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
    /// Rebuild the state store (payments, idempotency, DLQ, audit chain) from the journal.
    Reindex {
        /// The node's data directory (the node must be stopped).
        #[arg(long)]
        data: PathBuf,
    },
    /// Payments in the state store.
    Payment {
        #[command(subcommand)]
        command: PaymentCommand,
    },
    /// The dead-letter queue.
    Dlq {
        #[command(subcommand)]
        command: DlqCommand,
    },
    /// Live view of a running node (throughput, latency, tenants, links, DLQ, stuck payments),
    /// read from its admin API and redrawn every second; --once prints one frame.
    Top {
        /// The node's admin API, http://host:port (https://host:port with --admin-cert).
        #[arg(long)]
        admin: String,
        /// An operator token (scope clearing:manage or scheme:manage), or a client certificate.
        #[command(flatten)]
        auth: Auth,
        /// Print one frame (rates over one interval) to stdout and exit.
        #[arg(long)]
        once: bool,
        /// Refresh interval in milliseconds (100..=60000).
        #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(u64).range(100..=60_000))]
        interval_ms: u64,
    },
    /// Validate a configuration file (keys, bounds, references, certificates); exit 0 if valid.
    CheckConfig {
        /// The TOML file.
        file: PathBuf,
    },
    /// Generate a development CA with server and client certificates.
    ///
    /// Server certificates: switchyard-node and clearing-sim; client certificates: --clients and
    /// switchyard. Never use them in production: the CA key is written next to them.
    DevCerts {
        /// Output directory (created if missing). Private keys (*.key) are written mode 0600.
        #[arg(long)]
        out: PathBuf,
        /// Client certificate names (participants), comma-separated: 1 to 64 ASCII letters,
        /// digits, '-', '_' or '.', not starting with '.', each once, and not `ca`,
        /// `switchyard-node` or `clearing-sim`. The switch's own client certificate `switchyard`
        /// is always added; listing it is accepted and does not duplicate it.
        #[arg(long, value_delimiter = ',', default_value = "bank-a,bank-b")]
        clients: Vec<String>,
        /// Replace an existing development CA in --out (refused without it). Certificates the
        /// old CA issued, in --out or copied elsewhere, no longer chain to the new CA: files of
        /// this run's names are rewritten, others are left in place and listed.
        #[arg(long)]
        force: bool,
    },
}

#[derive(Debug, Subcommand)]
enum JournalCommand {
    /// Check every segment and record (CRC, sequence, framing); report counts and the first problem.
    Verify {
        /// The node's data directory (the journal is in DIR/journal).
        #[arg(long)]
        data: PathBuf,
    },
}

#[derive(Debug, Subcommand)]
enum AuditCommand {
    /// Walk the SHA-256 hash chain of every state change; name the first broken link.
    Verify {
        #[arg(long)]
        data: PathBuf,
    },
}

/// Where an operator command acts: a stopped node's data directory, or a running node's
/// admin API.
#[derive(Debug, clap::Args)]
#[group(required = true, multiple = false)]
struct Target {
    /// The data directory of a stopped node.
    #[arg(long)]
    data: Option<PathBuf>,
    /// A running node's admin API: http://host:port (with --token) or, with admin mutual TLS,
    /// https://host:port (with --admin-cert, --admin-key, --admin-ca).
    #[arg(long)]
    admin: Option<String>,
}

/// How a remote command authenticates to the admin API: a bearer token (operator: scope
/// clearing:manage; participant: iso20022:send), or a client certificate when the admin
/// listener has mutual TLS (an `[admin] operators` name, or a tenant's certificate name).
#[derive(Debug, clap::Args)]
struct Auth {
    /// A bearer token.
    #[arg(long, requires = "admin")]
    token: Option<String>,
    /// The client certificate (PEM chain) for an https:// admin API.
    #[arg(long, requires = "admin", requires = "admin_key", requires = "admin_ca")]
    admin_cert: Option<PathBuf>,
    /// The client certificate's private key (PEM).
    #[arg(long, requires = "admin_cert")]
    admin_key: Option<PathBuf>,
    /// The CA (PEM) that issued the admin listener's server certificate.
    #[arg(long)]
    admin_ca: Option<PathBuf>,
    /// The name the admin server certificate must carry (default: the host of the URL).
    #[arg(long, requires = "admin_ca")]
    admin_server_name: Option<String>,
}

impl From<Auth> for switchyard::admin_client::AdminAuth {
    fn from(a: Auth) -> Self {
        Self {
            token: a.token,
            cert: a.admin_cert,
            key: a.admin_key,
            ca: a.admin_ca,
            server_name: a.admin_server_name,
        }
    }
}

#[derive(Debug, Subcommand)]
enum PaymentCommand {
    /// One payment of one tenant, with its state history, as JSON.
    Show {
        #[command(flatten)]
        target: Target,
        #[command(flatten)]
        auth: Auth,
        /// Required with --data and with an operator token; a tenant token implies it.
        #[arg(long)]
        tenant: Option<String>,
        #[arg(long)]
        uetr: String,
    },
}

#[derive(Debug, Subcommand)]
enum DlqCommand {
    /// Dead-lettered payments with their reasons.
    List {
        #[command(flatten)]
        target: Target,
        #[command(flatten)]
        auth: Auth,
        #[arg(long)]
        tenant: Option<String>,
    },
    /// Re-inject a dead-lettered payment into the payment flow (journaled). Offline (--data)
    /// only while no node holds the data directory; the payment then resumes on the next start.
    Replay {
        #[command(flatten)]
        target: Target,
        #[command(flatten)]
        auth: Auth,
        #[arg(long)]
        tenant: Option<String>,
        #[arg(long)]
        uetr: String,
    },
    /// Remove a dead-lettered payment from the DLQ for good (journaled).
    Purge {
        #[command(flatten)]
        target: Target,
        #[command(flatten)]
        auth: Auth,
        #[arg(long)]
        tenant: Option<String>,
        #[arg(long)]
        uetr: String,
    },
}

fn need_tenant(tenant: Option<String>) -> anyhow::Result<String> {
    tenant.ok_or_else(|| anyhow::anyhow!("--tenant is required with --data"))
}

fn dlq(command: DlqCommand) -> anyhow::Result<ExitCode> {
    use switchyard::cli;
    use switchyard_actors::record::OperatorKind;
    let (target, auth, tenant, action) = match command {
        DlqCommand::List { target, auth, tenant } => {
            return Ok(match (target.data, target.admin) {
                (Some(data), _) => cli::dlq_list(&data, tenant.as_deref()),
                (None, Some(admin)) => cli::remote(
                    &admin,
                    auth.into(),
                    false,
                    &format!("/v1/dlq{}", switchyard::admin_client::tenant_query(tenant.as_deref())),
                ),
                (None, None) => unreachable!("clap requires one target"),
            });
        }
        DlqCommand::Replay { target, auth, tenant, uetr } => {
            (target, auth, tenant, (OperatorKind::DlqReplay, "replay", uetr))
        }
        DlqCommand::Purge { target, auth, tenant, uetr } => {
            (target, auth, tenant, (OperatorKind::DlqPurge, "purge", uetr))
        }
    };
    let (kind, verb, uetr) = action;
    Ok(match (target.data, target.admin) {
        (Some(data), _) => cli::dlq_offline_action(&data, &need_tenant(tenant)?, &uetr, kind),
        (None, Some(admin)) => {
            let uetr = switchyard::admin_client::encode(&uetr);
            let path =
                format!("/v1/dlq/{uetr}/{verb}{}", switchyard::admin_client::tenant_query(tenant.as_deref()));
            cli::remote(&admin, auth.into(), true, &path)
        }
        (None, None) => unreachable!("clap requires one target"),
    })
}

fn ppm(rate: f64, flag: &str) -> anyhow::Result<u32> {
    if !(0.0..=1.0).contains(&rate) {
        anyhow::bail!("--{flag} must be between 0.0 and 1.0, got {rate}");
    }
    Ok((rate * 1_000_000.0).round() as u32)
}

/// The log filter without `RUST_LOG`: warnings and errors, plus the operator actions and
/// configuration changes (`switchyard::ops`: DLQ replay/purge, reloads, tenant removal), which
/// an audit of the service's log must find.
const DEFAULT_LOG_FILTER: &str = "warn,switchyard::ops=info";

/// Set once in `main` for `--log-format json`.
static JSON_LOGS: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// A lifecycle line on stderr (listening, reload, draining, stopped, a fatal error): as
/// written for `--log-format text`; for `json`, one object shaped like the tracing lines
/// (`timestamp`, `level`, `fields.message`, `target`), so that stream stays one object per line.
fn status(level: &str, line: &str) {
    if JSON_LOGS.load(std::sync::atomic::Ordering::Relaxed) {
        let object = serde_json::json!({
            "timestamp": humantime::format_rfc3339_micros(std::time::SystemTime::now()).to_string(),
            "level": level,
            "fields": { "message": line },
            "target": "switchyard",
        });
        eprintln!("{object}");
    } else {
        eprintln!("{line}");
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let filter = || {
        tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| DEFAULT_LOG_FILTER.into())
    };
    // Colours only for a terminal: a file or journald gets plain text.
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr()) && std::env::var_os("NO_COLOR").is_none();
    let logs =
        tracing_subscriber::fmt().with_env_filter(filter()).with_writer(std::io::stderr).with_ansi(ansi);
    if cli.log_format == "json" {
        JSON_LOGS.store(true, std::sync::atomic::Ordering::Relaxed);
        logs.json().init();
    } else {
        logs.init();
    }
    match run(cli) {
        // Output cut short (a closed pipe) is incomplete output: never a success.
        Ok(code) if code == ExitCode::SUCCESS && switchyard::out::closed() => ExitCode::FAILURE,
        Ok(code) => code,
        Err(e) => {
            status("ERROR", &format!("error: {e:#}"));
            ExitCode::from(2)
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Demo {
            data,
            duration,
            rate,
            participants,
            clearing_latency_ms,
            clearing_reject_rate,
            clearing_drop_rate,
            clearing_lose_rate,
            clearing_timeout_ms,
            transport,
            scheme,
        } => {
            let settings = DemoSettings {
                data,
                duration: Duration::from_secs(duration),
                rate_per_s: rate,
                participants: usize::from(participants),
                clearing_latency: Duration::from_millis(clearing_latency_ms),
                clearing_reject_ppm: ppm(clearing_reject_rate, "clearing-reject-rate")?,
                clearing_drop_ppm: ppm(clearing_drop_rate, "clearing-drop-rate")?,
                clearing_lose_ppm: ppm(clearing_lose_rate, "clearing-lose-rate")?,
                clearing_timeout: Duration::from_millis(clearing_timeout_ms),
                transport,
                scheme,
            };
            let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
            let result = runtime.block_on(demo::run(settings))?;
            Ok(if result.passed() { ExitCode::SUCCESS } else { ExitCode::FAILURE })
        }
        Command::Run { config } => {
            let path = config.clone();
            let config = switchyard::config_file::load(&config)
                .map_err(|e| anyhow::anyhow!("{}: {e}", config.display()))?;
            let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
            runtime.block_on(run_node(config, path))?;
            Ok(ExitCode::SUCCESS)
        }
        Command::ClearingSim { config } => {
            let setup = switchyard::sim_config::load(&config)
                .map_err(|e| anyhow::anyhow!("{}: {e}", config.display()))?;
            let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
            runtime.block_on(run_sim(setup))?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Validate { files } => Ok(switchyard::cli::validate(&files)),
        Command::Journal { command: JournalCommand::Verify { data } } => {
            Ok(switchyard::cli::journal_verify(&data))
        }
        Command::Audit { command: AuditCommand::Verify { data } } => Ok(switchyard::cli::audit_verify(&data)),
        Command::Reindex { data } => Ok(switchyard::cli::reindex(&data)),
        Command::Payment { command: PaymentCommand::Show { target, auth, tenant, uetr } } => {
            Ok(match (target.data, target.admin) {
                (Some(data), _) => switchyard::cli::payment_show(&data, &need_tenant(tenant)?, &uetr),
                (None, Some(admin)) => {
                    let uetr = switchyard::admin_client::encode(&uetr);
                    let path = format!(
                        "/v1/payments/{uetr}{}",
                        switchyard::admin_client::tenant_query(tenant.as_deref())
                    );
                    switchyard::cli::remote(&admin, auth.into(), false, &path)
                }
                (None, None) => unreachable!("clap requires one target"),
            })
        }
        Command::Dlq { command } => dlq(command),
        Command::Top { admin, auth, once, interval_ms } => {
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
            let interval = Duration::from_millis(interval_ms);
            runtime.block_on(switchyard::top::run(&admin, auth.into(), once, interval))?;
            Ok(ExitCode::SUCCESS)
        }
        Command::CheckConfig { file } => match switchyard::config_file::load(&file) {
            Ok(config) => {
                switchyard::say!(
                    "{}: valid ({} tenants, {} links, {} routes, listen {})",
                    file.display(),
                    config.tenants.len(),
                    config.links.len(),
                    config.routes.routes.len(),
                    config.listen
                );
                Ok(ExitCode::SUCCESS)
            }
            Err(e) => {
                eprintln!("{}: invalid: {e}", file.display());
                Ok(ExitCode::FAILURE)
            }
        },
        Command::DevCerts { out, clients, force } => {
            use anyhow::Context as _;
            use switchyard_wire::devcerts::{self, DevCerts};
            const SERVERS: [&str; 2] = ["switchyard-node", "clearing-sim"];
            let mut names: Vec<&str> =
                clients.iter().map(String::as_str).filter(|name| *name != "switchyard").collect();
            names.push("switchyard");
            devcerts::check_client_names(&SERVERS, &names).context("--clients")?;
            // A new CA makes every certificate the old one issued useless (DecryptError at the
            // handshake), including copies handed out: only on request.
            let existing_ca = ["ca.pem", "ca.key"].iter().any(|f| out.join(f).symlink_metadata().is_ok());
            if existing_ca && !force {
                anyhow::bail!(
                    "{} already holds a development CA (ca.pem/ca.key): a new CA would replace it, and \
                     certificates the old CA issued would no longer chain to it (handshakes fail with \
                     DecryptError); choose another --out, or pass --force to replace it",
                    out.display()
                );
            }
            let before: Vec<String> = std::fs::read_dir(&out)
                .map(|dir| dir.filter_map(|e| e.ok()?.file_name().into_string().ok()).collect())
                .unwrap_or_default();
            let certs = DevCerts::generate(&SERVERS, &names)?;
            certs.write_to(&out)?;
            let written = certs.file_names();
            let pairs =
                |names: &[&str]| names.iter().map(|n| format!("{n}.pem/.key")).collect::<Vec<_>>().join(", ");
            switchyard::say!("wrote {} files to {}:", written.len(), out.display());
            switchyard::say!(
                "  development CA: ca.pem, ca.key (keep ca.key private: it can issue certificates)"
            );
            switchyard::say!("  server certificates ({}): {}", SERVERS.len(), pairs(&SERVERS));
            switchyard::say!("  client certificates ({}): {}", names.len(), pairs(&names));
            switchyard::say!("  private keys (*.key) are readable by their owner only (mode 0600)");
            if existing_ca {
                let mut stale: Vec<String> = before
                    .into_iter()
                    .filter(|f| (f.ends_with(".pem") || f.ends_with(".key")) && !written.contains(f))
                    .collect();
                stale.sort();
                eprintln!(
                    "warning: replaced the development CA in {}: certificates issued by the previous CA \
                     (including copies elsewhere) no longer chain to the new ca.pem",
                    out.display()
                );
                if !stale.is_empty() {
                    eprintln!(
                        "warning: left in place, not rewritten by this run (delete or reissue them): {}",
                        stale.join(", ")
                    );
                }
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

async fn run_node(config: switchyard::NodeConfig, path: PathBuf) -> anyhow::Result<()> {
    use sd_notify::NotifyState;
    use tokio::signal::unix::{signal, SignalKind};
    let mut term = signal(SignalKind::terminate())?;
    let mut hup = signal(SignalKind::hangup())?;
    if config.journal.sync != switchyard_journal::SyncMode::Fdatasync {
        status(
            "WARN",
            &format!(
                "switchyard: WARNING: journal.sync = {:?} is a crash-test mode, not for production",
                config.journal.sync
            ),
        );
    }
    let node = switchyard::Node::start(config).await?;
    node.ops.set_config_path(path.clone());
    status(
        "INFO",
        &format!(
            "switchyard: listening on {} (journal recovered: {} records; state store caught up {})",
            node.addr, node.recovery.records, node.replayed
        ),
    );
    // Readiness only now: the journal is recovered, the state store caught up, listeners bound.
    let _ = sd_notify::notify(&[NotifyState::Ready]);
    let watchdog = watchdog_interval();
    let mut ping = tokio::time::interval(watchdog.unwrap_or(std::time::Duration::from_secs(3600)));
    loop {
        tokio::select! {
            _ = term.recv() => break,
            _ = tokio::signal::ctrl_c() => break,
            _ = hup.recv() => {
                // systemd >= 253 wants the monotonic time with RELOADING=1 (sd_notify(3)).
                let _ = match NotifyState::monotonic_usec_now() {
                    Ok(now) => sd_notify::notify(&[NotifyState::Reloading, now]),
                    Err(_) => sd_notify::notify(&[NotifyState::Reloading]),
                };
                match node.ops.reload_from_file().await {
                    Ok(r) => status("INFO", &format!(
                        "switchyard: SIGHUP: reloaded {} ({} routes; tenants added {:?}, updated {:?}, removed {:?}; applied {:?}; restart required for {:?})",
                        path.display(), r.routes, r.tenants_added, r.tenants_updated, r.tenants_removed, r.applied, r.restart_required
                    )),
                    Err(e) => status("ERROR", &format!("switchyard: SIGHUP: {e}")),
                }
                let _ = sd_notify::notify(&[NotifyState::Ready]);
            }
            _ = ping.tick(), if watchdog.is_some() => {
                let _ = sd_notify::notify(&[NotifyState::Watchdog]);
            }
        }
    }
    let _ = sd_notify::notify(&[NotifyState::Stopping]);
    status("INFO", &format!("switchyard: draining ({} payments in flight)", node.in_flight()));
    // A second SIGTERM/SIGINT cuts the drain short: what is in flight is journaled and resumes
    // on the next start (the same as after a crash), so nothing is lost by not waiting.
    // The watchdog keeps being fed while the drain runs (it may last drain_timeout_ms, longer
    // than WatchdogSec), so systemd does not kill a healthy drain.
    let stop = node.stop();
    tokio::pin!(stop);
    let left = loop {
        tokio::select! {
            left = &mut stop => break left?,
            _ = term.recv() => cut_drain_short(),
            _ = tokio::signal::ctrl_c() => cut_drain_short(),
            _ = ping.tick(), if watchdog.is_some() => {
                let _ = sd_notify::notify(&[NotifyState::Watchdog]);
            }
        }
    };
    status(
        "INFO",
        &format!("switchyard: stopped; {left} payments left in flight (they resume on the next start)"),
    );
    Ok(())
}

/// The second stop signal during a drain: exit at once, status 1.
fn cut_drain_short() -> ! {
    status(
        "WARN",
        "switchyard: second stop signal: exiting without finishing the drain; payments in flight resume on the next start",
    );
    std::process::exit(1)
}

/// Half of systemd's WatchdogSec, when the service has one.
fn watchdog_interval() -> Option<std::time::Duration> {
    sd_notify::watchdog_enabled().map(|period| period / 2)
}

async fn run_sim(setup: switchyard::sim_config::SimSetup) -> anyhow::Result<()> {
    use std::sync::atomic::Ordering;
    use tokio::signal::unix::{signal, SignalKind};
    let mut term = signal(SignalKind::terminate())?;
    let mut usr1 = signal(SignalKind::user_defined1())?;
    let stats_file = setup.stats_file.clone();
    let dialing = matches!(setup.endpoint, switchyard::sim_config::SimEndpoint::Dial { .. });
    let transport = setup.transport;
    let sim = setup.start().await?;
    if dialing {
        status("INFO", &format!("clearing-sim: dialing {} ({transport:?})", sim.addr));
    } else {
        status("INFO", &format!("clearing-sim: listening on {} ({transport:?})", sim.addr));
    }
    let snapshot = |why: &str| -> bool {
        let Some(path) = &stats_file else { return true };
        match switchyard::sim_config::write_stats(&sim.stats, path) {
            Ok(()) => {
                status("INFO", &format!("clearing-sim: {why}: stats written to {}", path.display()));
                true
            }
            Err(e) => {
                status(
                    "ERROR",
                    &format!("clearing-sim: {why}: stats not written to {}: {e}", path.display()),
                );
                false
            }
        }
    };
    loop {
        tokio::select! {
            _ = term.recv() => break,
            _ = tokio::signal::ctrl_c() => break,
            _ = usr1.recv() => {
                snapshot("SIGUSR1");
            }
        }
    }
    let written = snapshot("stopping");
    let s = &sim.stats;
    status(
        "INFO",
        &format!(
            "clearing-sim: stopping; received {} settled {} rejected {} dropped {} max submissions per UETR {}",
            s.received.load(Ordering::Relaxed),
            s.settled.load(Ordering::Relaxed),
            s.rejected.load(Ordering::Relaxed),
            s.dropped.load(Ordering::Relaxed),
            s.max_submissions_per_uetr()
        ),
    );
    sim.stop().await;
    if !written {
        anyhow::bail!("the final stats snapshot could not be written (stats_file)");
    }
    Ok(())
}
