//! `switchyard-clearing`: the clearing side of the switch.
//!
//! - [`dialer`]: keeps a dial-out clearing link's connection up (TLS or QUIC, sign-on,
//!   reconnect forever with capped exponential backoff and jitter) and feeds the link actor.
//! - [`acceptor`]: accept-mode links: the clearing house dials in; its certificate must carry
//!   the name configured for the link, or the connection is refused (logged and counted).
//! - [`session`]: one connected link session, shared by both: sign-on, relay, heartbeats.
//! - [`sim`]: the clearing-house simulator, a product feature: it speaks the same protocol as a
//!   clearing house, answers pacs.008 with pacs.002, counts submissions per UETR (the oracle for
//!   at-most-once submission) and injects latency, rejects and drops.
//!
//! - [`schemes`]: the clearing-system profiles (SAMOS, BankservAfrica, RTC, PayShap, SWIFT CBPR+),
//!   one module each in the same shape: profile, checks with one reason code each, transformer
//!   to the scheme leg (docs/SCHEMES.md).

pub mod acceptor;
pub mod dialer;
pub mod schemes;
pub mod session;
pub mod sim;
