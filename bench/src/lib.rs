//! `switchyard-bench`: measuring Switchyard as a participant bank would see it.
//!
//! - [`client`]: a participant: TLS 1.3 with a client certificate, sign-on, submissions within
//!   the credit window, statuses back.
//! - [`loadgen`]: open-loop load. Each message has an intended send time on a constant-rate
//!   schedule; latency is measured from that intended time, so a stalled switch cannot hide its
//!   queueing behind a slowed-down generator (coordinated omission).
//! - [`report`]: percentiles from HDR histograms, printed as a table.
//! - [`messages`]: pacs.008 messages with fresh identifiers.
//! - [`open_loop`]: the same open-loop (and closed-loop) schedule for any "submit bytes, await a
//!   durable ack" sink; `peer` drives NATS, RabbitMQ and PostgreSQL with it.
//! - `peers` (cargo feature `peers`): the clients for those peers.

pub mod client;
pub mod cmd;
pub mod loadgen;
pub mod messages;
pub mod open_loop;
#[cfg(feature = "peers")]
pub mod peers;
pub mod report;
