//! `switchyard-bench peer`: the switch's load, same bytes and same schedule, against a system a
//! user might pick instead (NATS JetStream, RabbitMQ, PostgreSQL).
//!
//! Parses its arguments in every build; the clients themselves are behind the cargo feature
//! `peers` (bench/src/peers/), so without it the command says how to enable it. The peers are
//! installed and started by bench/peers/install.sh and start.sh.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

/// Which peer to load.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Kind {
    /// NATS JetStream (file storage stream, PubAck).
    Nats,
    /// RabbitMQ (quorum queue, publisher confirms).
    Rabbitmq,
    /// PostgreSQL (INSERT into a table with a unique index, synchronous_commit = on).
    Postgres,
}

impl Kind {
    /// The name used on the command line.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Self::Nats => "nats",
            Self::Rabbitmq => "rabbitmq",
            Self::Postgres => "postgres",
        }
    }

    /// Where bench/peers/start.sh starts this peer.
    #[must_use]
    pub fn default_url(self) -> &'static str {
        match self {
            Self::Nats => "nats://127.0.0.1:42220",
            Self::Rabbitmq => "amqp://guest:guest@127.0.0.1:56720/%2f",
            Self::Postgres => "host=127.0.0.1 port=54320 user=switchyard dbname=switchyard",
        }
    }
}

/// Arguments of `switchyard-bench peer`.
#[derive(Debug, clap::Args)]
pub struct PeerArgs {
    /// The peer to load.
    #[arg(long, value_enum)]
    pub kind: Kind,
    /// Where it listens: a nats:// or amqp:// URL, or a libpq-style PostgreSQL config string.
    /// Default: where bench/peers/start.sh puts it.
    #[arg(long)]
    pub url: Option<String>,
    /// Open loop: messages per second in total across connections (as `switchyard demo --rate`).
    #[arg(long, default_value_t = 2_000, conflicts_with = "saturate")]
    pub rate: u64,
    /// Closed loop instead: keep every window full and report the peer's maximum acknowledged/s.
    #[arg(long)]
    pub saturate: bool,
    /// Seconds of load.
    #[arg(long, default_value_t = 10)]
    pub duration: u64,
    /// Connections (sessions), like the demo's participants.
    #[arg(long, default_value_t = 4)]
    pub connections: usize,
    /// Messages each connection may have awaiting acknowledgement (the switch's credit window).
    #[arg(long, default_value_t = 1024)]
    pub window: usize,
    /// Seconds to wait for outstanding acknowledgements after the last send.
    #[arg(long, default_value_t = 30)]
    pub drain: u64,
    /// The pacs.008 template (default: bench/templates/pacs008.xml, the demo's).
    #[arg(long)]
    pub template: Option<PathBuf>,
}

/// The pacs.008 the switch demo sends (fresh identifiers per message).
pub const TEMPLATE: &[u8] = include_bytes!("../../templates/pacs008.xml");

impl PeerArgs {
    fn check(&self) -> anyhow::Result<()> {
        anyhow::ensure!((1..=1024).contains(&self.connections), "--connections must be 1..=1024");
        anyhow::ensure!((1..=65_536).contains(&self.window), "--window must be 1..=65536");
        anyhow::ensure!((1..=3600).contains(&self.duration), "--duration must be 1..=3600 seconds");
        anyhow::ensure!(self.drain <= 3600, "--drain must be at most 3600 seconds");
        anyhow::ensure!(self.saturate || (1..=1_000_000).contains(&self.rate), "--rate must be 1..=1000000");
        Ok(())
    }

    /// Open loop at `--rate`, or closed loop with `--saturate`.
    #[must_use]
    pub fn pacing(&self) -> crate::open_loop::Pacing {
        if self.saturate {
            crate::open_loop::Pacing::Saturate
        } else {
            crate::open_loop::Pacing::Rate(self.rate)
        }
    }

    /// The driver settings these flags ask for.
    #[must_use]
    pub fn spec(&self) -> crate::open_loop::DriveSpec {
        crate::open_loop::DriveSpec {
            pacing: self.pacing(),
            duration: Duration::from_secs(self.duration),
            window: self.window,
            drain: Duration::from_secs(self.drain),
        }
    }
}

/// Runs `switchyard-bench peer`.
pub fn run(args: PeerArgs) -> anyhow::Result<ExitCode> {
    args.check()?;
    imp::run(args)
}

#[cfg(not(feature = "peers"))]
mod imp {
    use super::{ExitCode, PeerArgs};

    // Same signature as the `peers` build's `run`, which consumes the arguments.
    #[allow(clippy::needless_pass_by_value)]
    pub fn run(args: PeerArgs) -> anyhow::Result<ExitCode> {
        let kind = args.kind;
        anyhow::bail!(
            "this switchyard-bench was built without the peer clients, so `peer --kind {}` cannot run. \
             Build it with the `peers` feature: `cargo build --release -p switchyard-bench --features peers`, \
             and start the peers with bench/peers/install.sh and bench/peers/start.sh DIR",
            kind.name()
        )
    }
}

#[cfg(feature = "peers")]
mod imp {
    use std::time::Duration;

    use anyhow::Context as _;
    use switchyard_iso20022::{read_pacs008, Limits};

    use super::{ExitCode, Kind, PeerArgs, TEMPLATE};
    use crate::messages::MessageFactory;
    use crate::open_loop::{self, Pacing};
    use crate::peers::{self, Peer};
    use crate::report::{latency_header, latency_row};

    const CONNECT_TIMEOUT: Duration = Duration::from_secs(30);

    pub fn run(args: PeerArgs) -> anyhow::Result<ExitCode> {
        let xml = match &args.template {
            Some(path) => std::fs::read(path).with_context(|| format!("reading {}", path.display()))?,
            None => TEMPLATE.to_vec(),
        };
        let template =
            read_pacs008(&xml, &Limits::default()).map_err(|e| anyhow::anyhow!("pacs.008 template: {e}"))?;
        let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
        runtime.block_on(async move {
            let url = args.url.clone().unwrap_or_else(|| args.kind.default_url().to_owned());
            let peer = connect(args.kind, &url, args.connections, args.window).await?;
            // A run tag keeps MsgIds unique across runs (the peers deduplicate on them).
            let run_tag = &uuid::Uuid::new_v4().simple().to_string()[..8];
            let factories = (0..args.connections)
                .map(|i| MessageFactory::new(template.clone(), &format!("{run_tag}-c{i}")))
                .collect();
            println!("switchyard-bench peer: {} at {url}", args.kind.name());
            for line in &peer.description {
                println!("  {line}");
            }
            match args.pacing() {
                Pacing::Rate(rate) => println!(
                    "load: {rate} messages/s for {} s over {} connections, window {}, open loop \
                     (latency from each message's intended send time)",
                    args.duration, args.connections, args.window
                ),
                Pacing::Saturate => println!(
                    "load: closed loop for {} s over {} connections, window {} kept full (saturation)",
                    args.duration, args.connections, args.window
                ),
            }
            let report = open_loop::run(peer.sessions, factories, &args.spec()).await?;
            println!(
                "submitted {}  acknowledged {}  errors {}  unanswered {}",
                report.submitted, report.acknowledged, report.errors, report.unanswered
            );
            println!(
                "acknowledged/s {:.0} (over {:.2} s)",
                report.ack_throughput(),
                report.ack_elapsed.as_secs_f64()
            );
            println!("{}", latency_header());
            println!("{}", latency_row("ack", &report.ack_us));
            for e in &report.error_samples {
                println!("error: {e}");
            }
            let clean = report.errors == 0 && report.unanswered == 0 && report.acknowledged > 0;
            Ok(if clean { ExitCode::SUCCESS } else { ExitCode::FAILURE })
        })
    }

    async fn connect(kind: Kind, url: &str, connections: usize, window: usize) -> anyhow::Result<Peer> {
        match kind {
            Kind::Nats => peers::nats::connect(url, connections, window, CONNECT_TIMEOUT).await,
            Kind::Rabbitmq => peers::rabbitmq::connect(url, connections, window, CONNECT_TIMEOUT).await,
            Kind::Postgres => peers::postgres::connect(url, connections, CONNECT_TIMEOUT).await,
        }
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    #[derive(Debug, Parser)]
    struct Cli {
        #[command(flatten)]
        args: PeerArgs,
    }

    #[test]
    fn defaults_match_the_demo_and_the_start_script() {
        let cli = Cli::try_parse_from(["peer", "--kind", "rabbitmq"]).unwrap();
        assert_eq!((cli.args.rate, cli.args.connections, cli.args.window), (2_000, 4, 1024));
        assert!(cli.args.check().is_ok());
        assert_eq!(cli.args.pacing(), crate::open_loop::Pacing::Rate(2_000));
        assert!(Kind::Rabbitmq.default_url().contains(":56720"));
        let cli = Cli::try_parse_from(["peer", "--kind", "nats", "--saturate", "--window", "64"]).unwrap();
        assert_eq!(cli.args.pacing(), crate::open_loop::Pacing::Saturate);
        assert!(Cli::try_parse_from(["peer", "--kind", "kafka"]).is_err(), "unknown kinds are refused");
        assert!(Cli::try_parse_from(["peer", "--kind", "nats", "--saturate", "--rate", "5"]).is_err());
    }

    #[test]
    fn bounds_are_checked_with_the_flag_named() {
        let cli = Cli::try_parse_from(["peer", "--kind", "postgres", "--window", "0"]).unwrap();
        let err = cli.args.check().unwrap_err().to_string();
        assert!(err.contains("--window"), "{err}");
        let cli = Cli::try_parse_from(["peer", "--kind", "postgres", "--rate", "0"]).unwrap();
        assert!(cli.args.check().unwrap_err().to_string().contains("--rate"));
    }

    #[cfg(not(feature = "peers"))]
    #[test]
    fn without_the_feature_the_command_says_how_to_enable_it() {
        let cli = Cli::try_parse_from(["peer", "--kind", "nats"]).unwrap();
        let err = run(cli.args).unwrap_err().to_string();
        assert!(err.contains("--features peers"), "{err}");
    }

    #[test]
    fn the_template_is_the_demo_template() {
        let t = switchyard_iso20022::read_pacs008(TEMPLATE, &switchyard_iso20022::Limits::default()).unwrap();
        assert_eq!(t.txs.len(), 1);
    }
}
