//! `switchyard-bench echo`: the raw TLS/QUIC echo server ([`crate::echo`]) until SIGTERM or
//! Ctrl-C. Prints `echo: tls ADDR quic ADDR` on stdout once listening.

use std::io::Write as _;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::Ordering;

use anyhow::Context;
use switchyard_wire::tls::{self, Identity};

use crate::echo::{self, EchoConfig};

/// Arguments of `switchyard-bench echo`.
#[derive(Debug, clap::Args)]
pub struct EchoArgs {
    /// TLS 1.3 over TCP listener, IP:port (port 0: any free port).
    #[arg(long, default_value = "127.0.0.1:7543")]
    pub listen: SocketAddr,
    /// QUIC listener, IP:port (may share the TLS port number); omit for TLS only.
    #[arg(long)]
    pub listen_quic: Option<SocketAddr>,
    /// Directory written by `switchyard dev-certs`: ca.pem (issues client certificates) and
    /// <server-name>.pem / .key (this server's certificate).
    #[arg(long)]
    pub certs: PathBuf,
    /// The certificate (file stem in --certs) the server presents.
    #[arg(long, default_value = "switchyard-node")]
    pub server_name: String,
    /// Credit window announced at sign-on (as the node's `limits.credit_window`). 1..=65536.
    #[arg(long, default_value_t = 1024, value_parser = clap::value_parser!(u32).range(1..=65_536))]
    pub credit_window: u32,
    /// Largest frame accepted, bytes. 4096..=16777216.
    #[arg(long, default_value_t = 1 << 20, value_parser = clap::value_parser!(u32).range(4096..=16_777_216))]
    pub max_frame_bytes: u32,
    /// Runtime threads.
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u32).range(1..=64))]
    pub threads: u32,
}

/// Runs `switchyard-bench echo`.
///
/// # Errors
/// Unusable certificates or a listener that cannot bind.
#[allow(clippy::needless_pass_by_value)] // the dispatcher in main.rs hands each subcommand its args
pub fn run(args: EchoArgs) -> anyhow::Result<ExitCode> {
    let identity = Identity::load(
        &args.certs.join(format!("{}.pem", args.server_name)),
        &args.certs.join(format!("{}.key", args.server_name)),
    )
    .with_context(|| format!("server certificate {} in {}", args.server_name, args.certs.display()))?;
    let client_ca = tls::load_ca(&args.certs.join("ca.pem"))?;
    let config = EchoConfig {
        listen: Some(args.listen),
        listen_quic: args.listen_quic,
        identity,
        client_ca,
        credit_window: args.credit_window as usize,
        max_frame_bytes: args.max_frame_bytes as usize,
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(args.threads as usize)
        .enable_all()
        .build()?;
    runtime.block_on(async {
        use tokio::signal::unix::{signal, SignalKind};
        let mut term = signal(SignalKind::terminate())?;
        let server = echo::start(config).await?;
        let show = |a: Option<SocketAddr>| a.map_or_else(|| "-".to_owned(), |a| a.to_string());
        println!("echo: tls {} quic {}", show(server.addr), show(server.quic_addr));
        let _ = std::io::stdout().flush();
        tokio::select! {
            _ = term.recv() => {}
            _ = tokio::signal::ctrl_c() => {}
        }
        eprintln!("echo: stopping after {} submissions echoed", server.echoed.load(Ordering::Relaxed));
        server.stop().await;
        anyhow::Ok(())
    })?;
    Ok(ExitCode::SUCCESS)
}
