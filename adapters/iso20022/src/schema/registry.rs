//! The schemas compiled into the crate, keyed by message definition id, each parsed on first
//! use and then shared for the life of the process.

use std::sync::OnceLock;

use crate::schema::load::load;
use crate::schema::model::Schema;

macro_rules! schemas {
    ($($id:literal),* $(,)?) => {
        /// `(message definition id, compact schema text)` for every supported schema.
        pub(crate) const SCHEMAS: &[(&str, &str)] = &[
            $(($id, include_str!(concat!("../../schemas/", $id, ".txt"))),)*
        ];
    };
}

schemas!(
    "admi.002.001.01",
    "camt.029.001.09",
    "camt.053.001.08",
    "camt.054.001.08",
    "camt.056.001.08",
    "head.001.001.01",
    "head.001.001.02",
    "head.001.001.04",
    "pacs.002.001.08",
    "pacs.002.001.10",
    "pacs.004.001.09",
    "pacs.004.001.10",
    "pacs.008.001.02",
    "pacs.008.001.08",
    "pacs.008.001.10",
    "pacs.009.001.08",
    "pacs.028.001.03",
    "pain.001.001.09",
    "pain.002.001.10",
    "pain.002.001.11",
);

static LOADED: [OnceLock<Option<Schema>>; 20] = [const { OnceLock::new() }; 20];

/// The schema for `msg_def` (e.g. `pacs.008.001.08`), or `None` when unsupported.
pub(crate) fn schema(msg_def: &str) -> Option<&'static Schema> {
    let i = SCHEMAS.iter().position(|(id, _)| crate::xml::tree::same_name(id, msg_def))?;
    let (id, text) = SCHEMAS[i];
    LOADED.get(i)?.get_or_init(|| load(id, text).ok()).as_ref()
}

/// Message definition id for an ISO namespace `urn:iso:std:iso:20022:tech:xsd:<id>`.
pub(crate) fn msg_def_of_namespace(ns: &str) -> Option<&str> {
    ns.strip_prefix("urn:iso:std:iso:20022:tech:xsd:")
}

#[cfg(test)]
mod tests {
    use super::{load, SCHEMAS};

    #[test]
    fn every_schema_loads() {
        for (id, text) in SCHEMAS {
            let s = load(id, text).unwrap_or_else(|e| panic!("{e}"));
            assert!(!s.root.is_empty(), "{id} has no root");
        }
    }

    /// The default text limit is the longest value any supported schema admits (four bytes
    /// a character; base64 as its encoded length), so it refuses no schema-valid message.
    #[test]
    fn default_text_limit_is_the_longest_schema_value() {
        use crate::schema::model::Base;
        let longest = SCHEMAS
            .iter()
            .flat_map(|(id, text)| load(id, text).unwrap_or_else(|e| panic!("{e}")).simple)
            .filter_map(|t| {
                let max = t.max_len? as usize;
                Some(if t.base == Base::Base64 { max.div_ceil(3) * 4 } else { max * 4 })
            })
            .max();
        assert_eq!(longest, Some(crate::limits::MAX_SCHEMA_TEXT_BYTES));
        assert_eq!(crate::Limits::default().max_text_bytes, crate::limits::MAX_SCHEMA_TEXT_BYTES);
    }
}
