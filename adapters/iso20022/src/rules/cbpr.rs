//! CBPR+ (SWIFT cross-border payments and reporting) usage rules, applied when the AppHdr
//! declares a `swift.cbprplus.*` business service: one transaction per payment message,
//! settlement method INDA/INGA/COVE (never CLRG), date-times with a UTC offset, BizMsgIdr
//! equal to GrpHdr/MsgId, the CBPR+ reference character set with InstrId at most 16
//! characters, and no commodity code (XAU, XAG, XPD, XPT) as the currency of any amount —
//! also where the schema allows historic codes (e.g. `OrgnlTxRef/IntrBkSttlmAmt`).

use crate::error::ValidationError;
use crate::rule::Rule;
use crate::rules::profile::{ElementRef, MessageView, SchemeProfile};

/// CBPR+ profile.
#[derive(Debug, Clone, Copy, Default)]
pub struct CbprPlusProfile;

/// The messages CBPR+ restricts to one transaction, with their transaction element: the
/// payments, and the messages about one payment (its status report, cancellation request
/// and the answer to it), whose CBPR+ usage guidelines each allow exactly one
/// `TxInfAndSts` / `Undrlyg/TxInf`.
const PAYMENT_TXS: &[(&str, &str)] = &[
    ("pacs.008", "CdtTrfTxInf"),
    ("pacs.009", "CdtTrfTxInf"),
    ("pacs.004", "TxInf"),
    ("pacs.002", "TxInfAndSts"),
    ("camt.056", "TxInf"),
    ("camt.029", "TxInfAndSts"),
];
/// The references CBPR+ restricts (`MsgId`, `InstrId`, `EndToEndId`, `TxId`, `BizMsgIdr`).
fn is_reference(name: &str) -> bool {
    matches!(name, "MsgId" | "InstrId" | "EndToEndId" | "TxId" | "BizMsgIdr")
}

impl CbprPlusProfile {
    /// Whether `msg` declares CBPR+ in its AppHdr.
    #[must_use]
    pub fn applies(msg: &MessageView<'_, '_>) -> bool {
        msg.app_hdr().and_then(|h| h.child("BizSvc")).is_some_and(|s| s.text().starts_with("swift.cbprplus"))
    }
}

/// CBPR+: BizMsgIdr carries GrpHdr/MsgId, and the header's date-times (`CreDt`, also of a
/// related header, and `BizPrcgDt`) carry a UTC offset.
fn header_consistency(msg: &MessageView<'_, '_>) -> Result<(), ValidationError> {
    let Some(hdr) = msg.app_hdr() else { return Ok(()) };
    let grp = msg.document().and_then(|doc| doc.children().next()).and_then(|root| root.child("GrpHdr"));
    if let (Some(biz), Some(msg_id)) = (hdr.child("BizMsgIdr"), grp.and_then(|g| g.child("MsgId"))) {
        if biz.text() != msg_id.text() {
            return Err(Rule::BahBizMsgIdrMismatch
                .at(biz.path(), format!("BizMsgIdr '{}' but GrpHdr/MsgId '{}'", biz.text(), msg_id.text())));
        }
    }
    for el in hdr.descendants().filter(|el| matches!(el.name(), "CreDt" | "BizPrcgDt")) {
        date_time_offset(&el)?;
    }
    Ok(())
}

/// Every date-time of a CBPR+ message carries a UTC offset.
fn date_time_offset(el: &ElementRef<'_, '_>) -> Result<(), ValidationError> {
    if !crate::schema::lexical::date_time_has_offset(&el.text()) {
        return Err(Rule::ProfileDateTimeOffset.at(el.path(), "CBPR+ date-times carry a UTC offset"));
    }
    Ok(())
}

/// Whether element `name` is an ISODateTime: ISO 20022 names every date-time element
/// `...DtTm` (`CreDtTm`, `AccptncDtTm`, `OrgnlCreDtTm`, `DbtDtTm`, the `DtTm` of a
/// date-or-date-time choice, ...), and no element of another type ends so.
#[inline(always)]
fn is_date_time(name: &str) -> bool {
    // The last byte first: one compare passes over nearly every other name.
    name.as_bytes().last_chunk::<4>() == Some(b"DtTm")
}

/// The CBPR+ reference character set, by byte. Every member is ASCII, so a text is in the set
/// exactly when each of its bytes is (the bytes of other characters are all above 0x7f).
static CBPR_BYTE: [bool; 256] = {
    let mut t = [false; 256];
    let mut i = 0;
    while i < 128 {
        let b = i as u8;
        t[i] = b.is_ascii_alphanumeric()
            || matches!(b, b'/' | b'-' | b'?' | b':' | b'(' | b')' | b'.' | b',' | b'\'' | b'+' | b' ');
        i += 1;
    }
    t
};

fn reference(el: &ElementRef<'_, '_>) -> Result<(), ValidationError> {
    let text = el.text();
    if !text.bytes().all(|b| CBPR_BYTE[usize::from(b)]) {
        return Err(
            Rule::ProfileReference.at(el.path(), format!("'{text}' uses characters outside the CBPR+ set"))
        );
    }
    // ASCII by now: bytes are characters.
    if el.name() == "InstrId" && text.len() > 16 {
        return Err(Rule::ProfileReference.at(el.path(), "CBPR+ InstrId is at most 16 characters"));
    }
    Ok(())
}

/// Precious-metal commodity codes: ISO 4217 lists them, but they are not settlement currencies.
const COMMODITIES: &[&str] = &["XAU", "XAG", "XPD", "XPT"];

fn commodity(el: &ElementRef<'_, '_>, ccy: &str) -> Result<(), ValidationError> {
    if COMMODITIES.contains(&ccy) {
        return Err(Rule::CurrencyInvalid
            .at(el.path(), format!("'{ccy}' is a commodity code, not a CBPR+ settlement currency")));
    }
    Ok(())
}

/// A one-compare prefilter by (length, first byte) for the names the check looks at: the
/// transaction elements of [`PAYMENT_TXS`], `SttlmMtd` and the [`is_reference`] names.
fn may_matter(name: &str) -> bool {
    matches!(
        (name.len(), name.as_bytes().first()),
        (11, Some(b'C' | b'T')) // CdtTrfTxInf, TxInfAndSts
            | (5, Some(b'T' | b'M')) // TxInf, MsgId
            | (8, Some(b'S')) // SttlmMtd
            | (7, Some(b'I')) // InstrId
            | (10, Some(b'E')) // EndToEndId
            | (4, Some(b'T')) // TxId
            | (9, Some(b'B')) // BizMsgIdr
    )
}

impl SchemeProfile for CbprPlusProfile {
    fn name(&self) -> &str {
        "cbpr+"
    }

    fn check(&self, msg: &MessageView<'_, '_>) -> Result<(), ValidationError> {
        let Some(doc) = msg.document() else { return Ok(()) };
        let family = msg.msg_def().get(..8).unwrap_or("");
        let tx_name = PAYMENT_TXS.iter().find(|(f, _)| *f == family).map(|(_, t)| *t);
        let mut txs = 0usize;
        for el in doc.descendants() {
            if let Some(ccy) = el.currency() {
                commodity(&el, &ccy)?;
            }
            let name = el.name();
            if is_date_time(name) && el.is_leaf() {
                date_time_offset(&el)?;
            }
            if !may_matter(name) {
                continue;
            }
            if Some(name) == tx_name {
                txs += 1;
            } else if name == "SttlmMtd" && el.text() == "CLRG" {
                return Err(
                    Rule::ProfileSettlementMethod.at(el.path(), "CBPR+ settles INDA/INGA/COVE, never CLRG")
                );
            } else if is_reference(name) && el.is_leaf() {
                reference(&el)?;
            }
        }
        header_consistency(msg)?;
        if tx_name.is_some() && txs != 1 {
            let tx = tx_name.unwrap_or("");
            return Err(Rule::ProfileOneTransaction
                .at(doc.path(), format!("CBPR+ allows exactly one {tx}, found {txs}")));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::{is_reference, may_matter, CBPR_BYTE, PAYMENT_TXS};

    /// The byte table accepts a text exactly when every character is in the CBPR+ set
    /// (letters, digits and `/-?:().,'+` and space).
    #[test]
    fn byte_table_is_the_character_set() {
        let in_set = |c: char| c.is_ascii_alphanumeric() || "/-?:().,'+ ".contains(c);
        let by_bytes = |t: &str| t.bytes().all(|b| CBPR_BYTE[usize::from(b)]);
        for c in (0u32..0x3000).filter_map(char::from_u32).chain(['\u{1f600}', '\u{fffd}']) {
            let t = format!("AB{c}9");
            assert_eq!(by_bytes(&t), in_set(c), "{c:?}");
        }
    }

    /// The prefilter lets through every name the check acts on.
    #[test]
    fn prefilter_keeps_every_checked_name() {
        let refs = ["MsgId", "InstrId", "EndToEndId", "TxId", "BizMsgIdr"];
        assert!(refs.iter().all(|r| is_reference(r)));
        let names = PAYMENT_TXS.iter().map(|(_, t)| *t).chain(["SttlmMtd"]).chain(refs);
        for n in names {
            assert!(may_matter(n), "{n}");
        }
        assert!(!may_matter("Cdtr") && !may_matter("BICFI"));
    }
}
