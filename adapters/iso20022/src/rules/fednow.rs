//! FedNow usage rules (Federal Reserve FedNow Service), applied when a message declares
//! FedNow: AppHdr market practice `frb.fednow.01`, clearing system `FDN`, or a FedNow wrapper.
//!
//! USD only; the FedNow payment statuses; no in-band AppHdr signature; FedNow (021150706) as
//! the header's From or To; a category purpose on every customer credit transfer; and the
//! FedNow message id (`CCYYMMDD` + 9-character connection party id + 1–18-character
//! reference, alphanumeric) on the messages participants originate.

use crate::error::ValidationError;
use crate::rule::Rule;
use crate::rules::profile::{only_currency, Declared, ElementRef, MessageView, SchemeProfile};

/// The FedNow Service routing number (the header party for messages to/from FedNow).
pub const FEDNOW_SERVICE_MMB_ID: &str = "021150706";

/// The payment statuses FedNow exchanges in pacs.002.
const FEDNOW_STATUSES: &[&str] = &["ACTC", "ACSC", "ACSP", "ACWP", "ACCC", "BLCK", "PDNG", "RCVD", "RJCT"];

/// The messages a participant originates, with the element carrying their message id.
/// (pacs.002, camt.054 and admi.002 also come from the service itself, whose ids follow
/// other conventions, so they are not checked.)
const PARTICIPANT_IDS: &[(&str, &str)] = &[
    ("pacs.008", "GrpHdr/MsgId"),
    ("pacs.009", "GrpHdr/MsgId"),
    ("pacs.004", "GrpHdr/MsgId"),
    ("pacs.028", "GrpHdr/MsgId"),
    ("camt.056", "Assgnmt/Id"),
    ("camt.029", "Assgnmt/Id"),
];

/// FedNow message id: `CCYYMMDD` (a calendar date), a 9-character connection party id and a
/// 1–18-character reference; 18 to 35 ASCII letters and digits.
fn is_fednow_message_id(id: &str) -> bool {
    let b = id.as_bytes();
    (18..=35).contains(&b.len())
        && b.iter().all(u8::is_ascii_alphanumeric)
        && id.get(..8).is_some_and(crate::schema::lexical::compact_date)
}

/// FedNow profile: USD only, FedNow status codes, no in-band BAH signature, FedNow as
/// header From or To, category purpose on credit transfers, FedNow message ids.
#[derive(Debug, Clone, Copy, Default)]
pub struct FedNowProfile;

impl FedNowProfile {
    /// Whether `msg` declares itself a FedNow message.
    #[must_use]
    pub fn applies(msg: &MessageView<'_, '_>) -> bool {
        Declared::scan(msg).fednow_clearing || Self::applies_by_header(msg)
    }

    /// The declarations outside the Document's body: AppHdr market practice
    /// `frb.fednow.01`, or a FedNow wrapper element.
    pub(crate) fn applies_by_header(msg: &MessageView<'_, '_>) -> bool {
        let practice = msg
            .app_hdr()
            .and_then(|h| h.descend("MktPrctc/Id"))
            .is_some_and(|id| id.text() == "frb.fednow.01");
        practice || msg.wrapper().is_some_and(|w| w.starts_with("FedNow"))
    }
}

/// The message id format and, on pacs.008, the category purpose of every transaction.
fn document_rules(msg_def: &str, doc: &ElementRef<'_, '_>) -> Result<(), ValidationError> {
    let Some(root) = doc.children().next() else { return Ok(()) };
    let family = msg_def.get(..8).unwrap_or("");
    if let Some(id) = PARTICIPANT_IDS.iter().find(|(f, _)| *f == family).and_then(|(_, p)| root.descend(p)) {
        let text = id.text();
        if !is_fednow_message_id(&text) {
            return Err(Rule::ProfileReference.at(
                id.path(),
                format!("'{text}' is not a FedNow message id (CCYYMMDD + 9-character connection party id + 1-18-character reference)"),
            ));
        }
    }
    if family == "pacs.008" {
        for tx in root.children().filter(|c| c.name() == "CdtTrfTxInf") {
            if tx.descend("PmtTpInf/CtgyPurp").is_none() {
                let at = tx.child("PmtTpInf").map_or_else(|| tx.path(), |p| p.path());
                return Err(
                    Rule::ProfilePaymentType.at(at, "FedNow credit transfers carry PmtTpInf/CtgyPurp")
                );
            }
        }
    }
    Ok(())
}

impl SchemeProfile for FedNowProfile {
    fn name(&self) -> &str {
        "fednow"
    }

    fn check(&self, msg: &MessageView<'_, '_>) -> Result<(), ValidationError> {
        if let Some(doc) = msg.document() {
            document_rules(msg.msg_def(), &doc)?;
            only_currency(&doc, "USD", "FedNow")?;
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
