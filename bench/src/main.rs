//! `switchyard-bench`: the load generator, baselines, peers and crash campaigns.

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use switchyard_bench::cmd;

#[derive(Debug, Parser)]
#[command(name = "switchyard-bench", version, about = "Measure Switchyard as a participant bank sees it")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Open-loop constant-rate load against a running node (or a raw echo baseline).
    Load(cmd::load::LoadArgs),
    /// Rate sweep: the highest rate whose ACK p99 stays under a bound.
    Sweep(cmd::sweep::SweepArgs),
    /// A raw TLS or QUIC echo server: the transport baseline for the same bytes.
    Echo(cmd::echo::EchoArgs),
    /// The same load against a peer a user might pick instead (NATS JetStream, RabbitMQ, PostgreSQL).
    Peer(cmd::peer::PeerArgs),
    /// Crash campaign: SIGKILL/SIGSTOP/SIGTERM the real node under load, restart, check the ledger.
    Crash(cmd::crash::CrashArgs),
    /// Fault proxy between a node's clearing link and a clearing house (TLS frames or QUIC
    /// datagrams); change the fault by typing it on standard input.
    Proxy(cmd::proxy::ProxyArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Load(args) => cmd::load::run(args),
        Command::Sweep(args) => cmd::sweep::run(args),
        Command::Echo(args) => cmd::echo::run(args),
        Command::Peer(args) => cmd::peer::run(args),
        Command::Crash(args) => cmd::crash::run(args),
        Command::Proxy(args) => cmd::proxy::run(args),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("switchyard-bench: {e:#}");
            ExitCode::from(2)
        }
    }
}
