//! Variants of the shared valid samples, each changed in one place, with the verdict the
//! change calls for: markup inside a value that XML allows (comments, processing
//! instructions, CDATA sections), schema-instance attributes that would change an element's
//! type, and rules checked against further public material (the FedNow OSS conformance
//! vectors, CBPR+ commodity currencies in historic-amount fields, SEPA's euro-only rule, an
//! AppHdr heading a Document no supported schema covers).

mod support;

use switchyard_iso20022::{read_pacs008, validate_any, Limits, ReasonCode, ValidationError};

/// The shared sample `name` as text, or `None` (with a notice) when the material is absent.
fn sample(name: &str) -> Option<String> {
    let found = support::samples("valid").into_iter().find(|(n, _)| n == name);
    if found.is_none() {
        println!("NOTICE: sample {name} not found; skipping");
    }
    found.map(|(_, b)| String::from_utf8(b).expect("samples are UTF-8"))
}

/// `xml` with the first `from` after the first `anchor` replaced by `to`; the test fails if
/// either is missing, so a sample that changes cannot make it pass vacuously.
fn replace_after(xml: &str, anchor: &str, from: &str, to: &str) -> String {
    let a = xml.find(anchor).unwrap_or_else(|| panic!("anchor {anchor} not in sample"));
    let f = a + xml[a..].find(from).unwrap_or_else(|| panic!("{from} not after {anchor}"));
    format!("{}{to}{}", &xml[..f], &xml[f + from.len()..])
}

fn rejected(xml: &str) -> ValidationError {
    match validate_any(xml.as_bytes(), &Limits::default()) {
        Ok(s) => panic!("accepted: {s:?}\n{xml}"),
        Err(e) => e,
    }
}

fn assert_rule(e: &ValidationError, code: ReasonCode, rule_id: &str, path_end: &str) {
    assert_eq!(e.code, code, "{e}");
    assert!(e.detail.starts_with(&format!("[{rule_id}]")), "{e}");
    assert!(e.path.ends_with(path_end), "{e}");
}

const FEDNOW_PACS008: &str = "pacs.008.001.08__fednow-oss__valid.xml";
const MSG_ID: &str = "<MsgId>20260702021040078FIXTURE001</MsgId>";

/// A comment, a processing instruction or a CDATA section inside a value is markup the value
/// runs over (XML 1.0 §3.1; XSD validates the concatenated character data): accepted, and
/// the model reads the value without it.
#[test]
fn markup_inside_a_value_is_not_part_of_it() {
    let Some(xml) = sample(FEDNOW_PACS008) else { return };
    let variants = [
        "<MsgId>20260702021040078<!-- note -->FIXTURE001</MsgId>",
        "<MsgId>20260702021040078<?audit x?>FIXTURE001</MsgId>",
        "<MsgId>20260702021040078<![CDATA[FIXTURE001]]></MsgId>",
        "<MsgId><![CDATA[2026070202]]>1040078<!---->FIX&#84;URE001</MsgId>",
    ];
    for v in variants {
        let changed = xml.replace(MSG_ID, v);
        assert_ne!(changed, xml);
        let m = read_pacs008(changed.as_bytes(), &Limits::default()).unwrap_or_else(|e| panic!("{v}: {e}"));
        assert_eq!(m.msg_id, "20260702021040078FIXTURE001", "{v}");
    }
    // Text beside a child element is still mixed content, which ISO types never allow.
    let mixed = xml.replace("<NbOfTxs>1</NbOfTxs>", "<NbOfTxs>1</NbOfTxs>stray");
    assert_rule(&rejected(&mixed), ReasonCode::FF01, "xsd.text", "/GrpHdr");
}

/// `xsi:type` (type substitution) and `xsi:nil` are refused; schema locations are hints.
#[test]
fn schema_instance_attributes_other_than_locations_are_refused() {
    let Some(xml) = sample(FEDNOW_PACS008) else { return };
    let xsi = r#"xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance""#;
    for attr in [r#"xsi:type="GroupHeader93""#, r#"xsi:nil="true""#] {
        let changed = xml.replace("<GrpHdr>", &format!("<GrpHdr {xsi} {attr}>"));
        assert_rule(&rejected(&changed), ReasonCode::FF01, "xsd.attribute", "/GrpHdr");
    }
    let located = xml.replace("<GrpHdr>", &format!(r#"<GrpHdr {xsi} xsi:schemaLocation="urn:x x.xsd">"#));
    assert!(validate_any(located.as_bytes(), &Limits::default()).is_ok());
}

/// FedNow (clearing system FDN): every credit transfer carries a category purpose, and the
/// message id is CCYYMMDD + 9-character connection party id + reference. The FedNow OSS
/// conformance vectors `missing-category-purpose` and `non-fednow-msgid` are these changes.
#[test]
fn fednow_requires_category_purpose_and_its_message_id_format() {
    let Some(xml) = sample(FEDNOW_PACS008) else { return };
    let start = xml.find("<CtgyPurp>").expect("sample has CtgyPurp");
    let end = xml.find("</CtgyPurp>").expect("sample has CtgyPurp") + "</CtgyPurp>".len();
    let no_purpose = format!("{}{}", &xml[..start], &xml[end..]);
    assert_rule(&rejected(&no_purpose), ReasonCode::FF03, "profile.pmttpinf", "/PmtTpInf");
    for bad in ["MYREF-0001", "2026070202104007", "X0260702021040078FIXTURE001", "20260702021040078FIX-001"] {
        let changed = xml.replace(MSG_ID, &format!("<MsgId>{bad}</MsgId>"));
        assert_rule(&rejected(&changed), ReasonCode::FF01, "profile.ref", "/GrpHdr/MsgId");
    }
    // Without the FedNow clearing system, neither rule applies.
    let plain =
        no_purpose.replace("<Cd>FDN</Cd>", "<Cd>XYZ</Cd>").replace(MSG_ID, "<MsgId>MYREF-0001</MsgId>");
    assert!(validate_any(plain.as_bytes(), &Limits::default()).is_ok());
}

/// camt.029: a rejected cancellation (RJCR) says why, as a RJCT status does (FedNow OSS
/// vector `rjcr-without-reason`); another confirmation needs no reason.
#[test]
fn rejected_cancellation_needs_a_reason() {
    let Some(xml) = sample("camt.029.001.09__fednow-oss__rjcr.xml") else { return };
    let start = xml.find("<CxlStsRsnInf>").expect("sample has a reason");
    let end = xml.find("</CxlStsRsnInf>").expect("sample has a reason") + "</CxlStsRsnInf>".len();
    let no_reason = format!("{}{}", &xml[..start], &xml[end..]);
    assert_rule(&rejected(&no_reason), ReasonCode::FF01, "cxl.rjcr_reason", "/TxInfAndSts[1]");
    let accepted = no_reason.replace("<Conf>RJCR</Conf>", "<Conf>CNCL</Conf>");
    assert!(validate_any(accepted.as_bytes(), &Limits::default()).is_ok());
    // The transaction's own status decides over the case's.
    let tx_rjcr = accepted.replace("</OrgnlUETR>", "</OrgnlUETR>\n        <TxCxlSts>RJCR</TxCxlSts>");
    assert_rule(&rejected(&tx_rjcr), ReasonCode::FF01, "cxl.rjcr_reason", "/TxInfAndSts[1]");
}

/// CBPR+: a commodity code is no settlement currency, also in a field whose schema type
/// admits historic codes (`OrgnlIntrBkSttlmAmt` is ActiveOrHistoricCurrencyAndAmount).
#[test]
fn cbpr_refuses_commodity_codes_in_historic_amount_fields() {
    let Some(xml) = sample("pacs.004.001.09__cbprplus2025__max.xml") else { return };
    let changed = replace_after(&xml, "<OrgnlIntrBkSttlmAmt", r#"Ccy="EUR""#, r#"Ccy="XAU""#);
    assert_rule(&rejected(&changed), ReasonCode::AM03, "ccy.not_active", "/OrgnlIntrBkSttlmAmt");
}

/// SEPA (service level `SEPA`) settles in euro only.
#[test]
fn sepa_service_level_pins_the_euro() {
    let Some(xml) = sample("pain.001.001.09__cbprplus2025__max.xml") else { return };
    let sepa = replace_after(&xml, "<SvcLvl>", "<Cd>EXCd</Cd>", "<Cd>SEPA</Cd>");
    // The sample's amounts are all in euro: SEPA applies and passes.
    let summary = validate_any(sepa.as_bytes(), &Limits::default()).expect("euro amounts pass");
    assert!(summary.profiles.contains(&"sepa"), "{:?}", summary.profiles);
    let francs = replace_after(&sepa, "<EqvtAmt>", r#"Ccy="EUR""#, r#"Ccy="CHF""#);
    assert_rule(&rejected(&francs), ReasonCode::AM03, "profile.ccy", "/EqvtAmt/Amt");
    let summary = validate_any(xml.as_bytes(), &Limits::default()).expect("sample is valid");
    assert!(!summary.profiles.contains(&"sepa"), "{:?}", summary.profiles);
}

/// An AppHdr heading a Document in a namespace no supported schema covers is not a valid
/// bare header: the message is unsupported.
#[test]
fn header_over_an_unknown_document_is_unsupported() {
    let Some(xml) = sample("pacs.008.001.08__mt103-to-mx__p.2.1.2_A_B.xml") else { return };
    let foreign = xml.replace(
        r#"xmlns:pacs="urn:iso:std:iso:20022:tech:xsd:pacs.008.001.08""#,
        r#"xmlns:pacs="urn:swift:xsd:admi.998.001.02""#,
    );
    assert_ne!(foreign, xml);
    let e = rejected(&foreign);
    assert_rule(&e, ReasonCode::FF01, "msg.unknown", "/Document");
    assert!(e.detail.contains("urn:swift:xsd:admi.998.001.02"), "{e}");
}
