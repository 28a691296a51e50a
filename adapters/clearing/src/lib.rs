//! `switchyard-clearing`: the clearing side of the switch.
//!
//! - [`dialer`]: keeps a clearing link's connection up (TLS, sign-on, reconnect forever with
//!   capped exponential backoff and jitter) and feeds the link actor.
//! - [`sim`]: the clearing-house simulator, a product feature: it speaks the same protocol as a
//!   clearing house, answers pacs.008 with pacs.002, counts submissions per UETR (the oracle for
//!   at-most-once submission) and injects latency, rejects and drops.
//!
//! - [`schemes`]: the clearing-system profiles (SAMOS, BankservAfrica, RTC, PayShap, SWIFT CBPR+),
//!   one module each in the same shape: profile, checks with one reason code each, transformer
//!   to the scheme leg (docs/SCHEMES.md).

pub mod dialer;
pub mod schemes;
pub mod sim;
