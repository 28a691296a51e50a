//! `switchyard-iso20022`: read, validate and write ISO 20022 payment messages (with the
//! head.001 Business Application Header), for the Switchyard payment switch.
//!
//! A leaf crate: no I/O, no clock, no async; it never panics on input and never allocates
//! beyond [`Limits`]. The reader is a hand-written zero-copy tokenizer (`xml`) feeding a flat
//! element tree, validated against schema tables derived from the official XSDs (`schema`),
//! then against the business rules of RULES.md and scheme profiles (`rules`). Every failure
//! is one [`ValidationError`] carrying exactly one [`ReasonCode`], chosen by the single
//! [`Rule`] table.
//!
//! Entry points: [`read_pacs008`], [`read_pacs002`], [`validate_any`], the `write_*`
//! functions, and the [`SchemeProfile`] hook.

mod envelope;
mod error;
mod limits;
mod messages;
mod reason;
mod rule;
mod rules;
mod schema;
mod spare;
mod types;
mod validate;
mod xml;

pub use envelope::ENVELOPE_NAMESPACE;
/// The text of a model field: a string kept inline up to 24 bytes, on the heap beyond
/// (`compact_str::CompactString`). It derefs to `str`; build one with `"x".into()`.
pub type Text = compact_str::CompactString;
pub use error::ValidationError;
pub use limits::Limits;
pub use messages::admi002::{read_admi002, write_admi002, Admi002, ADMI002_NS};
pub use messages::apphdr::{AppHdr, HeadVersion};
pub use messages::camt029::{
    read_camt029, write_camt029, Camt029, CancellationStatusTx, GroupCancellationStatus, CAMT029_NS,
};
pub use messages::camt056::{
    read_camt056, write_camt056, Camt056, CancellationTx, GroupCancellation, CAMT056_NS,
};
pub use messages::fields::{ClearingMember, XmlElement};
pub use messages::pacs002::{read_pacs002, write_pacs002, StatusReport, TxStatusInfo, PACS002_NS};
pub use messages::pacs004::{read_pacs004, write_pacs004, Pacs004, ReturnTx, PACS004_NS};
pub use messages::pacs008::{
    read_pacs008, write_pacs008, write_pacs008_document, CreditTransferTx, Pacs008, PACS008_NS,
};
pub use messages::pacs009::{read_pacs009, write_pacs009, FiCreditTransferTx, Pacs009, PACS009_NS};
pub use messages::pacs028::{read_pacs028, write_pacs028, Pacs028, StatusRequestTx, PACS028_NS};
pub use messages::related::{Assignment, Case, OriginalRef, PartyRef, Reason};
pub use messages::status::TxStatus;
pub use reason::ReasonCode;
pub use rule::Rule;
pub use rules::cbpr::CbprPlusProfile;
pub use rules::fednow::{FedNowProfile, FEDNOW_SERVICE_MMB_ID};
pub use rules::profile::{ElementRef, MessageView, SchemeProfile};
pub use rules::sepa::SepaProfile;
pub use types::bic::Bic;
pub use types::currency::Currency;
pub use types::iban::is_valid_iban;
pub use types::money::Money;
pub use types::uetr::Uetr;
pub use validate::{validate_any, validate_with_profile, MessageSummary};
