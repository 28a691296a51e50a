//! `switchyard-bench proxy`: the fault proxy ([`crate::proxy`]) as a process, for manual runs
//! between a node's clearing link and a clearing house (`switchyard clearing-sim`).
//!
//! TLS (`--transport tls`, default): the frame proxy — TLS terminated on both sides with the
//! certificates of a `switchyard dev-certs` directory. QUIC (`--transport quic`): the datagram
//! relay. The fault starts as `--fault` and changes at run time: type a fault (or `rebind` for
//! QUIC) on standard input, one per line. The counters are printed on standard error every
//! `--stats-every` seconds; the proxy stops on SIGTERM, Ctrl-C or the end of standard input
//! with `--exit-on-eof`.

use std::io::Write as _;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::AtomicU64;
use std::sync::atomic::Ordering::Relaxed;
use std::time::Duration;

use anyhow::Context;
use switchyard_wire::tls::{self, Identity};
use tokio::io::AsyncBufReadExt;

use crate::client::Transport;
use crate::proxy::udp::{UdpFault, UdpProxy, UDP_FAULT_SYNTAX};
use crate::proxy::{Fault, FaultProxy, ProxyTls, FAULT_SYNTAX};

/// Arguments of `switchyard-bench proxy`.
#[derive(Debug, clap::Args)]
pub struct ProxyArgs {
    /// Where the node's clearing link connects, IP:port (port 0: any free port).
    #[arg(long)]
    pub listen: SocketAddr,
    /// The clearing house, IP:port.
    #[arg(long)]
    pub upstream: SocketAddr,
    /// `tls` (frames, TLS terminated) or `quic` (datagrams).
    #[arg(long, default_value = "tls", value_parser = |s: &str| s.parse::<Transport>())]
    pub transport: Transport,
    /// TLS only: a directory written by `switchyard dev-certs` with ca.pem and the two
    /// certificates below (.pem and .key each).
    #[arg(long)]
    pub certs: Option<PathBuf>,
    /// The certificate presented to the node (the clearing house's; its name is the one the
    /// node's link checks).
    #[arg(long, default_value = "clearing-sim")]
    pub clearing_name: String,
    /// The certificate presented to the clearing house (the node's client certificate).
    #[arg(long, default_value = "switchyard")]
    pub client_name: String,
    #[arg(long, default_value = "none", help = fault_help())]
    pub fault: String,
    /// Print the counters every this many seconds; 0: only at the end.
    #[arg(long, default_value_t = 1)]
    pub stats_every: u64,
    /// Stop when standard input ends (for scripts); otherwise only on SIGTERM or Ctrl-C.
    #[arg(long)]
    pub exit_on_eof: bool,
}

/// The running proxy of either kind.
enum Running {
    Tls(FaultProxy),
    Quic(UdpProxy),
}

impl Running {
    fn addr(&self) -> SocketAddr {
        match self {
            Self::Tls(p) => p.addr,
            Self::Quic(p) => p.addr,
        }
    }

    /// Applies one line of standard input: a fault, or `rebind` (QUIC).
    fn command(&self, line: &str) -> Result<String, String> {
        let line = line.trim();
        match self {
            Self::Tls(p) => {
                let fault: Fault = line.parse()?;
                p.set(fault);
                Ok(format!("fault: {fault:?}"))
            }
            Self::Quic(p) if line == "rebind" => {
                p.rebind();
                Ok("rebinding: the next datagram leaves from a new port".to_owned())
            }
            Self::Quic(p) => {
                let fault: UdpFault = line.parse().map_err(|e| format!("{e}, or rebind"))?;
                p.set(fault);
                Ok(format!("fault: {fault:?}"))
            }
        }
    }

    fn stats(&self) -> String {
        let counters: &[(&str, &AtomicU64)] = match self {
            Self::Tls(p) => {
                let s = &p.stats;
                &[
                    ("connections", &s.connections),
                    ("replies", &s.replies),
                    ("dropped", &s.dropped),
                    ("duplicated", &s.duplicated),
                    ("reordered", &s.reordered),
                    ("resets", &s.resets),
                    ("swallowed", &s.swallowed),
                    ("alerts", &s.alerts),
                    ("refused", &s.refused),
                    ("slowed", &s.slowed),
                ]
            }
            Self::Quic(p) => {
                let s = &p.stats;
                &[
                    ("flows", &s.flows),
                    ("relayed", &s.relayed),
                    ("dropped", &s.dropped),
                    ("swallowed", &s.swallowed),
                    ("rebinds", &s.rebinds),
                ]
            }
        };
        let shown: Vec<String> =
            counters.iter().map(|(name, n)| format!("{name} {}", n.load(Relaxed))).collect();
        shown.join(" ")
    }
}

/// The `--fault` help: the syntax of both kinds, from the parsers' own lists.
fn fault_help() -> String {
    format!("The fault at start. TLS: {FAULT_SYNTAX}. QUIC: {UDP_FAULT_SYNTAX}")
}

/// Runs `switchyard-bench proxy`.
///
/// # Errors
/// A fault that does not parse, missing or unusable certificates, or a listener that cannot bind.
#[allow(clippy::needless_pass_by_value)] // the dispatcher in main.rs hands each subcommand its args
pub fn run(args: ProxyArgs) -> anyhow::Result<ExitCode> {
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?;
    runtime.block_on(serve(&args))?;
    Ok(ExitCode::SUCCESS)
}

async fn start(args: &ProxyArgs) -> anyhow::Result<Running> {
    Ok(match args.transport {
        Transport::Tls => {
            let fault: Fault = args.fault.parse().map_err(|e| anyhow::anyhow!("--fault: {e}"))?;
            let dir = args.certs.as_ref().context("--certs is required with --transport tls")?;
            let load = |name: &str| {
                Identity::load(&dir.join(format!("{name}.pem")), &dir.join(format!("{name}.key")))
                    .with_context(|| format!("certificate {name} in {}", dir.display()))
            };
            let ca = tls::load_ca(&dir.join("ca.pem"))?;
            let proxy_tls = ProxyTls {
                server: tls::server_config(&load(&args.clearing_name)?, &ca)?,
                client: tls::client_config(&ca, Some(&load(&args.client_name)?))?,
                upstream_name: args.clearing_name.clone(),
            };
            let proxy = FaultProxy::start(args.listen, args.upstream, proxy_tls)
                .await
                .with_context(|| format!("listening on {}", args.listen))?;
            proxy.set(fault);
            Running::Tls(proxy)
        }
        Transport::Quic => {
            let fault: UdpFault = args.fault.parse().map_err(|e| anyhow::anyhow!("--fault: {e}"))?;
            let proxy = UdpProxy::start(args.listen, args.upstream)
                .await
                .with_context(|| format!("listening on {}", args.listen))?;
            proxy.set(fault);
            Running::Quic(proxy)
        }
    })
}

async fn serve(args: &ProxyArgs) -> anyhow::Result<()> {
    use tokio::signal::unix::{signal, SignalKind};
    let mut term = signal(SignalKind::terminate())?;
    let proxy = start(args).await?;
    let syntax = match args.transport {
        Transport::Tls => FAULT_SYNTAX.to_owned(),
        Transport::Quic => format!("{UDP_FAULT_SYNTAX}, rebind"),
    };
    println!("proxy: {} {} -> {} (type a fault: {syntax})", args.transport, proxy.addr(), args.upstream);
    let _ = std::io::stdout().flush();
    let mut lines = tokio::io::BufReader::new(tokio::io::stdin()).lines();
    let mut stdin_open = true;
    let every = Duration::from_secs(args.stats_every.max(1));
    let mut ticks = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
    loop {
        tokio::select! {
            _ = term.recv() => break,
            _ = tokio::signal::ctrl_c() => break,
            _ = ticks.tick(), if args.stats_every > 0 => eprintln!("proxy: {}", proxy.stats()),
            line = lines.next_line(), if stdin_open => match line {
                Ok(Some(line)) if line.trim().is_empty() => {}
                Ok(Some(line)) => match proxy.command(&line) {
                    Ok(done) => println!("proxy: {done}"),
                    Err(e) => println!("proxy: {e}"),
                },
                Ok(None) | Err(_) => {
                    if args.exit_on_eof {
                        break;
                    }
                    stdin_open = false;
                }
            },
        }
        let _ = std::io::stdout().flush();
    }
    eprintln!("proxy: stopping; {}", proxy.stats());
    Ok(())
}
