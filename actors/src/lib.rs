//! `switchyard-actors`: the switch's domain, its pure state machines, its ports, and the thin
//! ractor actors that apply the machines' effects.
//!
//! Layers, inside out:
//! - [`domain`], [`record`]: value types and the journal record (what is durable).
//! - [`payment`], [`admission`], [`route`]: pure state machines and tables. They do no I/O and
//!   read no clock or RNG: time comes in as an argument (`now_ms`), so they can be simulated,
//!   property-tested and replayed.
//! - [`ports`]: the traits through which actors reach the outside (journal, connections, clock).
//! - [`actor`]: ractor actors. Each one's `handle` maps a message to a machine event, calls
//!   `step`, and applies the returned effects through ports.
//!
//! Architecture invariant: nothing here opens a socket or a file; adapters implement the ports.

pub mod actor;
pub mod admission;
pub mod breaker;
pub mod domain;
pub mod message;
pub mod metrics;
pub mod payment;
pub mod policy;
pub mod ports;
pub mod rate;
pub mod record;
pub mod route;
pub mod scheme;
pub mod sender;

pub use domain::{Fingerprint, Outcome, TenantId};
pub use record::JournalRecord;
