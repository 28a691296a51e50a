//! FedNow usage rules (Federal Reserve FedNow Service), applied when a message declares
//! FedNow: AppHdr market practice `frb.fednow.01`, clearing system `FDN`, or a FedNow wrapper.

use crate::error::ValidationError;
use crate::rule::Rule;
use crate::rules::profile::{MessageView, SchemeProfile};

/// The FedNow Service routing number (the header party for messages to/from FedNow).
pub const FEDNOW_SERVICE_MMB_ID: &str = "021150706";

/// The payment statuses FedNow exchanges in pacs.002.
const FEDNOW_STATUSES: &[&str] = &["ACTC", "ACSC", "ACSP", "ACWP", "ACCC", "BLCK", "PDNG", "RCVD", "RJCT"];

/// FedNow profile: USD only, FedNow status codes, no in-band BAH signature, FedNow as
/// header From or To.
#[derive(Debug, Clone, Copy, Default)]
pub struct FedNowProfile;

impl FedNowProfile {
    /// Whether `msg` declares itself a FedNow message.
    #[must_use]
    pub fn applies(msg: &MessageView<'_, '_>) -> bool {
        let practice = msg
            .app_hdr()
            .and_then(|h| h.descend("MktPrctc/Id"))
            .is_some_and(|id| id.text() == "frb.fednow.01");
        let clearing = msg.document().is_some_and(|d| {
            d.find_all("ClrSys").any(|c| c.child("Cd").is_some_and(|cd| cd.text() == "FDN"))
        });
        let wrapper = msg.wrapper().is_some_and(|w| w.starts_with("FedNow"));
        practice || clearing || wrapper
    }
}

impl SchemeProfile for FedNowProfile {
    fn name(&self) -> &str {
        "fednow"
    }

    fn check(&self, msg: &MessageView<'_, '_>) -> Result<(), ValidationError> {
        if let Some(doc) = msg.document() {
            for el in doc.descendants().filter(|e| e.attr("Ccy").is_some()) {
                let ccy = el.attr("Ccy").unwrap_or_default();
                if ccy != "USD" {
                    return Err(
                        Rule::ProfileCurrency.at(el.path(), format!("FedNow settles USD only, not {ccy}"))
                    );
                }
            }
        }
        if let Some(doc) = msg.document() {
            for s in doc.find_all("TxSts").chain(doc.find_all("GrpSts")) {
                let code = s.text();
                if !FEDNOW_STATUSES.contains(&&*code) {
                    return Err(
                        Rule::ProfileStatus.at(s.path(), format!("'{code}' is not a FedNow payment status"))
                    );
                }
            }
        }
        let Some(hdr) = msg.app_hdr() else { return Ok(()) };
        if let Some(s) = hdr.child("Sgntr") {
            return Err(Rule::ProfileSignature
                .at(s.path(), "FedNow carries the signature out of band, not in the AppHdr"));
        }
        let is_service = |side: &str| {
            hdr.descend(side)
                .and_then(|p| p.descend("FIId/FinInstnId/ClrSysMmbId/MmbId"))
                .is_some_and(|m| m.text() == FEDNOW_SERVICE_MMB_ID)
        };
        if !is_service("Fr") && !is_service("To") {
            let at = hdr.child("To").map_or_else(|| hdr.path(), |t| t.path());
            return Err(Rule::ProfileHeaderParty
                .at(at, format!("FedNow messages go to or come from {FEDNOW_SERVICE_MMB_ID}")));
        }
        Ok(())
    }
}
