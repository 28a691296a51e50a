//! SEPA (Single Euro Payments Area) currency rule, applied when a message declares the SEPA
//! service level (`PmtTpInf/SvcLvl/Cd` = `SEPA`, at any level): SEPA settles in euro only,
//! so every amount of the Document is in EUR.

use crate::error::ValidationError;
use crate::rule::Rule;
use crate::rules::profile::{MessageView, SchemeProfile};

/// SEPA profile: EUR only.
#[derive(Debug, Clone, Copy, Default)]
pub struct SepaProfile;

impl SepaProfile {
    /// Whether `msg` declares the SEPA service level anywhere in its Document.
    #[must_use]
    pub fn applies(msg: &MessageView<'_, '_>) -> bool {
        msg.document().is_some_and(|d| {
            d.find_all("SvcLvl").any(|s| s.child("Cd").is_some_and(|cd| cd.text() == "SEPA"))
        })
    }
}

impl SchemeProfile for SepaProfile {
    fn name(&self) -> &str {
        "sepa"
    }

    fn check(&self, msg: &MessageView<'_, '_>) -> Result<(), ValidationError> {
        let Some(doc) = msg.document() else { return Ok(()) };
        for el in doc.descendants().filter(|e| e.has_attributes() && e.is_leaf()) {
            if let Some(ccy) = el.attr("Ccy").filter(|c| c != "EUR") {
                return Err(Rule::ProfileCurrency.at(el.path(), format!("SEPA settles EUR only, not {ccy}")));
            }
        }
        Ok(())
    }
}
