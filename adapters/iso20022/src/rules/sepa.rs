//! SEPA (Single Euro Payments Area) currency rule, applied when a message declares the SEPA
//! service level (`PmtTpInf/SvcLvl/Cd` = `SEPA`, at any level): SEPA settles in euro only,
//! so every amount of the Document is in EUR.

use crate::error::ValidationError;
use crate::rules::profile::{only_currency, Declared, MessageView, SchemeProfile};

/// SEPA profile: EUR only.
#[derive(Debug, Clone, Copy, Default)]
pub struct SepaProfile;

impl SepaProfile {
    /// Whether `msg` declares the SEPA service level anywhere in its Document.
    #[must_use]
    pub fn applies(msg: &MessageView<'_, '_>) -> bool {
        Declared::scan(msg).sepa
    }
}

impl SchemeProfile for SepaProfile {
    fn name(&self) -> &str {
        "sepa"
    }

    fn check(&self, msg: &MessageView<'_, '_>) -> Result<(), ValidationError> {
        msg.document().map_or(Ok(()), |doc| only_currency(&doc, "EUR", "SEPA"))
    }
}
