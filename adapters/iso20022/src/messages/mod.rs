//! Typed models, readers and writers, one module per message.

pub(crate) mod admi002;
pub(crate) mod apphdr;
pub(crate) mod camt029;
pub(crate) mod camt056;
pub(crate) mod envelope_writer;
pub(crate) mod fields;
pub(crate) mod pacs002;
pub(crate) mod pacs004;
pub(crate) mod pacs008;
pub(crate) mod pacs009;
pub(crate) mod pacs028;
pub(crate) mod related;
pub(crate) mod status;
