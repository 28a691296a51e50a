//! `switchyard-bench`: measuring Switchyard as a participant bank would see it.
//!
//! - [`client`]: a participant: TLS 1.3 with a client certificate, sign-on, submissions within
//!   the credit window, statuses back.
//! - [`loadgen`]: open-loop load. Each message has an intended send time on a constant-rate
//!   schedule; latency is measured from that intended time, so a stalled switch cannot hide its
//!   queueing behind a slowed-down generator (coordinated omission).
//! - [`report`]: percentiles from HDR histograms, printed as a table.
//! - [`messages`]: pacs.008 messages with fresh identifiers.
//! - [`mix`]: the message mix (payments of two sizes, pacs.028, camt.056, invalid messages).
//! - [`echo`]: the raw TLS/QUIC echo server, the transport baseline.
//! - [`target`]: what a run drives: a running node, or a self-hosted node or echo server
//!   started as child processes.
//! - [`output`]: a run's files: JSON report, `.hgrm` distributions, SVG plots.
//! - [`plot`], [`machine`]: SVG plots; the machine and git revision of a run.
//! - [`proxy`]: a fault-injecting proxy between the switch and a clearing house.
//! - [`crash`]: the crash campaign against the real binary (`switchyard-bench crash`).
//! - [`open_loop`]: the same open-loop (and closed-loop) schedule for any "submit bytes, await a
//!   durable ack" sink; `peer` drives NATS, RabbitMQ and PostgreSQL with it.
//! - `peers` (cargo feature `peers`): the clients for those peers.

pub mod client;
pub mod cmd;
pub mod crash;
pub mod echo;
pub mod loadgen;
pub mod machine;
pub mod messages;
pub mod mix;
pub mod open_loop;
pub mod output;
#[cfg(feature = "peers")]
pub mod peers;
pub mod plot;
pub mod ports;
pub mod proxy;
pub mod report;
pub mod target;
