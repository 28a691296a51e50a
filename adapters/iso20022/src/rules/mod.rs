//! Business rules beyond the XSD (RULES.md): value rules run inside the schema walk
//! (`values`), message-level rules on the typed models (`message`), header/document
//! consistency (`header`), and the per-scheme profile hook (`profile`).

pub(crate) mod cbpr;
pub(crate) mod fednow;
pub(crate) mod header;
pub(crate) mod message;
pub(crate) mod profile;
pub(crate) mod sepa;
pub(crate) mod values;
