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

/// The first element of `xml` from `open` (after `anchor`) to its `close`, tags included; the
/// test fails if it is missing.
fn element_span(xml: &str, anchor: &str, open: &str, close: &str) -> std::ops::Range<usize> {
    let a = xml.find(anchor).unwrap_or_else(|| panic!("anchor {anchor} not in sample"));
    let start = a + xml[a..].find(open).unwrap_or_else(|| panic!("{open} not after {anchor}"));
    let end =
        start + xml[start..].find(close).unwrap_or_else(|| panic!("{close} not after {open}")) + close.len();
    start..end
}

/// `xml` with that element (see [`element_span`]) replaced by `with`.
fn replace_element(xml: &str, anchor: &str, open: &str, close: &str, with: &str) -> String {
    let span = element_span(xml, anchor, open, close);
    format!("{}{with}{}", &xml[..span.start], &xml[span.end..])
}

/// The FedNow pacs.008 sample with `content` as the one element of a `SplmtryData/Envlp`.
fn in_envlp(fednow: &str, content: &str) -> String {
    let data = format!("<SplmtryData><Envlp>{content}</Envlp></SplmtryData></CdtTrfTxInf>");
    replace_after(fednow, "<ChrgBr>", "</CdtTrfTxInf>", &data)
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

/// `xml` with a copy of the first `open`…`close` element, edited by `edits`, right after it.
fn duplicate(xml: &str, open: &str, close: &str, edits: &[(&str, &str)]) -> String {
    let s = xml.find(open).unwrap_or_else(|| panic!("{open} not in sample"));
    let e = s + xml[s..].find(close).unwrap_or_else(|| panic!("{close} not after {open}")) + close.len();
    let mut copy = xml[s..e].to_owned();
    for (from, to) in edits {
        assert!(copy.contains(from), "{from} not in {open}");
        copy = copy.replace(from, to);
    }
    format!("{}\n{copy}{}", &xml[..e], &xml[e..])
}

fn accepted(xml: &str) {
    if let Err(e) = validate_any(xml.as_bytes(), &Limits::default()) {
        panic!("rejected: {e}\n{xml}");
    }
}

const CBPR_PACS008: &str = "pacs.008.001.08__mt103-to-mx__p.2.1.2_A_B.xml";
const CBPR_PACS002: &str = "pacs.002.001.10__cbprplus__status_report_sample.xml";
const CBPR_PACS004: &str = "pacs.004.001.09__cbprplus2025__min.xml";
const CBPR_PAIN001: &str = "pain.001.001.09__cbprplus__sample.xml";
const CBPR_CAMT054: &str = "camt.054.001.08__cbprplus2025__min.xml";
const STP_PACS008: &str = "pacs.008.001.08__cbprplus2025__stp_min.xml";
const FEDNOW_CAMT056: &str = "camt.056.001.08__fednow-oss__valid.xml";
const FEDNOW_CAMT029: &str = "camt.029.001.09__fednow-oss__rjcr.xml";
const FEDNOW_PACS028: &str = "pacs.028.001.03__fednow-oss__valid.xml";
const FEDNOW_PACS002: &str = "pacs.002.001.10__fednow-oss__rjct.xml";
const FEDNOW_ADMI002: &str = "admi.002.001.01__fednow__outgoing.xml";
const MOOV_PAIN002: &str = "pain.002.001.11__moov__minimal.xml";
const MT_CAMT056: &str = "camt.056.001.08__mt192-to-mx__c.29.2.2_A_D.xml";
const STP_CREDITOR_IBAN: &str = "GB29UVWX34567845678901";

/// Every country of the SWIFT IBAN registry has its length (PK 24 and HN 28 were missing).
#[test]
fn iban_registry_countries_have_their_lengths() {
    let Some(xml) = sample(STP_PACS008) else { return };
    for iban in ["PK36SCBL0000001123456702", "HN88CABF00000000000250005469"] {
        accepted(&xml.replacen(STP_CREDITOR_IBAN, iban, 1));
    }
    // One character too many for PK: the length still decides.
    let long = xml.replacen(STP_CREDITOR_IBAN, "PK36SCBL00000011234567021", 1);
    assert_rule(&rejected(&long), ReasonCode::AC03, "iban.creditor_invalid", "/IBAN");
}

/// A reason may be in any reason block, not only the first: a first block with only
/// `AddtlInf` and a second with `Rsn` satisfies the RJCT / return / cancellation rules.
#[test]
fn a_reason_in_a_later_block_counts() {
    if let Some(xml) = sample(CBPR_PACS002) {
        let v = xml.replacen(
            "<pacs:TxSts>ACSP</pacs:TxSts>",
            "<pacs:TxSts>RJCT</pacs:TxSts><pacs:StsRsnInf><pacs:AddtlInf>see next</pacs:AddtlInf></pacs:StsRsnInf>\
             <pacs:StsRsnInf><pacs:Rsn><pacs:Cd>AC01</pacs:Cd></pacs:Rsn></pacs:StsRsnInf>",
            1,
        );
        assert_ne!(v, xml);
        accepted(&v);
        // Without any reason it is still refused.
        let none = xml.replacen(
            "<pacs:TxSts>ACSP</pacs:TxSts>",
            "<pacs:TxSts>RJCT</pacs:TxSts><pacs:StsRsnInf><pacs:AddtlInf>x</pacs:AddtlInf></pacs:StsRsnInf>",
            1,
        );
        assert_rule(&rejected(&none), ReasonCode::FF01, "sts.rjct_reason", "/TxSts");
    }
    if let Some(xml) = sample(MOOV_PAIN002) {
        let v = replace_after(
            &xml,
            "</OrgnlMsgNmId>",
            "</OrgnlMsgNmId>",
            "</OrgnlMsgNmId><GrpSts>RJCT</GrpSts><StsRsnInf><AddtlInf>x</AddtlInf></StsRsnInf>\
             <StsRsnInf><Rsn><Cd>FF01</Cd></Rsn></StsRsnInf>",
        );
        accepted(&v);
    }
    if let Some(xml) = sample(CBPR_PACS004) {
        let v = replace_after(
            &xml,
            "<TxInf>",
            "<RtrRsnInf>",
            "<RtrRsnInf><AddtlInf>first</AddtlInf></RtrRsnInf><RtrRsnInf>",
        );
        accepted(&v);
    }
    if let Some(xml) = sample(FEDNOW_CAMT056) {
        let v = replace_after(
            &xml,
            "<TxInf>",
            "<CxlRsnInf>",
            "<CxlRsnInf><AddtlInf>first</AddtlInf></CxlRsnInf><CxlRsnInf>",
        );
        accepted(&v);
    }
    if let Some(xml) = sample(FEDNOW_CAMT029) {
        let v = replace_after(
            &xml,
            "<TxInfAndSts>",
            "<CxlStsRsnInf>",
            "<CxlStsRsnInf><AddtlInf>first</AddtlInf></CxlStsRsnInf><CxlStsRsnInf>",
        );
        accepted(&v);
    }
}

/// pain.001 totals count the amount each transaction carries, `InstdAmt` or
/// `EqvtAmt/Amt`; a CtrlSum of 0 against nonzero amounts fails.
#[test]
fn pain001_control_sums_count_equivalent_amounts() {
    let Some(xml) = sample(CBPR_PAIN001) else { return };
    let nb = "<pain:NbOfTxs>1</pain:NbOfTxs>";
    assert!(xml.contains("<pain:EqvtAmt>"));
    accepted(&xml.replacen(nb, &format!("{nb}<pain:CtrlSum>320000</pain:CtrlSum>"), 1));
    let pmt = "<pain:PmtMtd>TRF</pain:PmtMtd>";
    assert!(xml.contains(pmt), "the PmtInf-level edit applies");
    accepted(&xml.replacen(pmt, &format!("{pmt}{nb}<pain:CtrlSum>320000.00</pain:CtrlSum>"), 1));
    let zero = xml.replacen(nb, &format!("{nb}<pain:CtrlSum>0</pain:CtrlSum>"), 1);
    assert_rule(&rejected(&zero), ReasonCode::AM10, "grp.ctrl_sum", "/GrpHdr/CtrlSum");
}

/// The AppHdr From/To agree with the InstgAgt/InstdAgt of every transaction, not only the
/// first.
#[test]
fn header_parties_agree_with_every_transaction() {
    let Some(xml) = sample(CBPR_PACS008) else { return };
    let xml = xml.replacen("<head:BizSvc>swift.cbprplus.03</head:BizSvc>", "", 1);
    let tx = ("<pacs:CdtTrfTxInf>", "</pacs:CdtTrfTxInf>");
    let uetr = ("174c245f-2682-4291-ad67-2a41e530cd27", "274c245f-2682-4291-ad67-2a41e530cd27");
    let two = |instg: &str| {
        let agent = format!("<pacs:BICFI>{instg}</pacs:BICFI>");
        let v = duplicate(&xml, tx.0, tx.1, &[uetr, ("<pacs:BICFI>CHASGB2LXXX</pacs:BICFI>", &agent)]);
        v.replacen("<pacs:NbOfTxs>1</pacs:NbOfTxs>", "<pacs:NbOfTxs>2</pacs:NbOfTxs>", 1)
    };
    accepted(&two("CHASGB2LXXX"));
    let e = rejected(&two("DEUTDEFFXXX"));
    assert_rule(&e, ReasonCode::RC02, "bah.party", "/AppHdr/Fr/FIId/FinInstnId/BICFI");
    assert!(e.detail.contains("CdtTrfTxInf[2]"), "{e}");
}

/// A pacs.028 naming no original message at all (no `OrgnlGrpInf`, no `TxInf`) is refused.
#[test]
fn status_request_naming_nothing_is_refused() {
    let Some(xml) = sample(FEDNOW_PACS028) else { return };
    let s = xml.find("<TxInf>").expect("TxInf");
    let e = xml.find("</TxInf>").expect("/TxInf") + "</TxInf>".len();
    let v = format!("{}{}", &xml[..s], &xml[e..]);
    assert_rule(&rejected(&v), ReasonCode::FF01, "orgnl.grp", "FIToFIPmtStsReq");
}

/// Currency codes typed ActiveOrHistoricCurrencyCode must still be ISO 4217 codes, current
/// or historic (DEM passes, QQQ does not).
#[test]
fn historic_currency_fields_need_an_iso_code() {
    if let Some(xml) = sample(CBPR_PACS008) {
        let instd = r#"<pacs:InstdAmt Ccy="USD">136500<"#;
        let v = xml.replacen(instd, r#"<pacs:InstdAmt Ccy="QQQ">136500<"#, 1);
        assert_ne!(v, xml);
        assert_rule(&rejected(&v), ReasonCode::AM03, "ccy.not_active", "/InstdAmt");
        let no_cbpr = xml.replacen("<head:BizSvc>swift.cbprplus.03</head:BizSvc>", "", 1);
        accepted(&no_cbpr.replacen(instd, r#"<pacs:InstdAmt Ccy="DEM">136500<"#, 1));
    }
    if let Some(xml) = sample(CBPR_CAMT054) {
        let v = xml.replacen(r#"<Amt Ccy="EUR">1000.00<"#, r#"<Amt Ccy="ABC">1000.00<"#, 1);
        assert_ne!(v, xml);
        assert_rule(&rejected(&v), ReasonCode::AM03, "ccy.not_active", "/Amt");
    }
}

/// CR/LF in any identifier (here `Assgnmt/Id`, `RltdRef/Ref`, an account's `Othr/Id`,
/// `NtryRef`) is refused (`ref.chars`), also when written as a character reference.
#[test]
fn line_breaks_in_identifiers_are_refused() {
    let cases = [
        (
            FEDNOW_CAMT056,
            "<Id>20260703021040078RETREQ0001</Id>",
            "<Id>2026&#10;0703021040078RETREQ0001</Id>",
            "/Assgnmt/Id",
        ),
        (FEDNOW_ADMI002, "<Ref>NOTAVAILABLE</Ref>", "<Ref>NOT&#10;AVAILABLE</Ref>", "/RltdRef/Ref"),
        (FEDNOW_PACS008, "<Id>987654321000</Id>", "<Id>9876&#10;54321000</Id>", "/Othr/Id"),
        (CBPR_CAMT054, "<NtryRef>EXNtryRef<", "<NtryRef>EX&#13;NtryRef<", "/NtryRef"),
        (
            FEDNOW_CAMT056,
            "<Id>20260703021040078RETREQ0001</Id>",
            "<Id>2026\n0703021040078RETREQ0001</Id>",
            "/Assgnmt/Id",
        ),
    ];
    for (name, from, to, path) in cases {
        let Some(xml) = sample(name) else { continue };
        let v = xml.replacen(from, to, 1);
        assert_ne!(v, xml, "{from} not in {name}");
        assert_rule(&rejected(&v), ReasonCode::FF01, "ref.chars", path);
    }
}

/// CBPR+ allows one transaction also in pacs.002 and camt.056 (and camt.029), and every
/// date-time of the message carries a UTC offset, not only the creation stamps.
#[test]
fn cbpr_one_transaction_and_offsets_cover_every_message() {
    if let Some(xml) = sample(CBPR_PACS002) {
        let two = duplicate(
            &xml,
            "<pacs:TxInfAndSts>",
            "</pacs:TxInfAndSts>",
            &[("d4e5f6a7-b8c9-4123-9efa-234567890123", "d4e5f6a7-b8c9-4123-9efa-234567890124")],
        );
        assert_rule(&rejected(&two), ReasonCode::FF01, "profile.one_tx", "/Document");
        let accptnc = xml.replacen(
            "<pacs:InstgAgt>",
            "<pacs:AccptncDtTm>2026-04-13T08:09:00</pacs:AccptncDtTm><pacs:InstgAgt>",
            1,
        );
        assert_rule(&rejected(&accptnc), ReasonCode::DT01, "profile.dt_offset", "/AccptncDtTm");
        accepted(&xml.replacen(
            "<pacs:InstgAgt>",
            "<pacs:AccptncDtTm>2026-04-13T08:09:00+02:00</pacs:AccptncDtTm><pacs:InstgAgt>",
            1,
        ));
        let orgnl = xml.replacen(
            "</pacs:OrgnlMsgNmId>",
            "</pacs:OrgnlMsgNmId><pacs:OrgnlCreDtTm>2026-04-12T08:09:00</pacs:OrgnlCreDtTm>",
            1,
        );
        assert_rule(&rejected(&orgnl), ReasonCode::DT01, "profile.dt_offset", "/OrgnlCreDtTm");
    }
    if let Some(xml) = sample(MT_CAMT056) {
        let two = duplicate(&xml, "<camt:TxInf>", "</camt:TxInf>", &[]);
        assert_rule(&rejected(&two), ReasonCode::FF01, "profile.one_tx", "/Document");
    }
}

/// camt.056 `CtrlData` is checked against the transactions: NbOfTxs (AM18), CtrlSum (AM10).
#[test]
fn cancellation_control_data_matches_the_transactions() {
    let Some(xml) = sample(FEDNOW_CAMT056) else { return };
    let ctrl = |data: &str| {
        replace_after(&xml, "</Assgnmt>", "<Undrlyg>", &format!("<CtrlData>{data}</CtrlData><Undrlyg>"))
    };
    accepted(&ctrl("<NbOfTxs>1</NbOfTxs><CtrlSum>1250.00</CtrlSum>"));
    assert_rule(
        &rejected(&ctrl("<NbOfTxs>2</NbOfTxs>")),
        ReasonCode::AM18,
        "grp.nb_of_txs",
        "/CtrlData/NbOfTxs",
    );
    assert_rule(
        &rejected(&ctrl("<NbOfTxs>1</NbOfTxs><CtrlSum>9.00</CtrlSum>")),
        ReasonCode::AM10,
        "grp.ctrl_sum",
        "/CtrlData/CtrlSum",
    );
}

/// Zero returned, instructed and pain.001 amounts are refused (AM01).
#[test]
fn zero_amounts_are_refused_everywhere() {
    if let Some(xml) = sample(CBPR_PACS004) {
        let v = xml.replacen(
            r#"<RtrdIntrBkSttlmAmt Ccy="EUR">1000.00<"#,
            r#"<RtrdIntrBkSttlmAmt Ccy="EUR">0.00<"#,
            1,
        );
        assert_ne!(v, xml);
        assert_rule(&rejected(&v), ReasonCode::AM01, "amt.zero", "/RtrdIntrBkSttlmAmt");
    }
    if let Some(xml) = sample(CBPR_PACS008) {
        let v = xml.replacen(r#"<pacs:InstdAmt Ccy="USD">136500<"#, r#"<pacs:InstdAmt Ccy="USD">0<"#, 1);
        assert_ne!(v, xml);
        assert_rule(&rejected(&v), ReasonCode::AM01, "amt.zero", "/InstdAmt");
    }
    if let Some(xml) = sample(CBPR_PAIN001) {
        let eqvt = r#"<pain:Amt Ccy="AUD">320000<"#;
        let v = xml.replacen(eqvt, r#"<pain:Amt Ccy="AUD">0<"#, 1);
        assert_ne!(v, xml);
        assert_rule(&rejected(&v), ReasonCode::AM01, "amt.zero", "/EqvtAmt/Amt");
    }
}

#[test]
fn decimals_are_counted_as_written_against_the_minor_unit() {
    let Some(xml) = sample(CBPR_PACS008) else { return };
    let instd = r#"<pacs:InstdAmt Ccy="USD">136500<"#;
    let with = |to: &str| {
        let v = xml.replacen(instd, to, 1);
        assert_ne!(v, xml);
        v
    };
    accepted(&with(r#"<pacs:InstdAmt Ccy="USD">136500.00<"#));
    // Trailing zeros are decimals too: USD has two, JPY none.
    let e = rejected(&with(r#"<pacs:InstdAmt Ccy="USD">136500.000<"#));
    assert_rule(&e, ReasonCode::AM12, "amt.precision", "/InstdAmt");
    let e = rejected(&with(r#"<pacs:InstdAmt Ccy="JPY">136500.0<"#));
    assert_rule(&e, ReasonCode::AM12, "amt.precision", "/InstdAmt");
}

/// The schema layer comes first for the whole message: a value rule (here a commodity
/// currency, AM03) broken by an element that comes first in the document, in the Document
/// or in its AppHdr, does not hide a schema error further on; the schema's reason (FF01) is
/// the message's. With the schema error gone, the value rule's reason is reported.
#[test]
fn a_schema_error_anywhere_wins_over_a_value_rule_met_earlier() {
    let Some(xml) = sample(CBPR_PACS008) else { return };
    let bad_ccy = replace_after(&xml, "<pacs:IntrBkSttlmAmt", "Ccy=\"USD\"", "Ccy=\"XAU\"");
    assert_rule(&rejected(&bad_ccy), ReasonCode::AM03, "ccy.not_active", "/IntrBkSttlmAmt");
    // A schema error after it in the Document: an unknown element in the creditor.
    let later = replace_after(&bad_ccy, "<pacs:Cdtr>", "<pacs:Nm>", "<pacs:Foo/><pacs:Nm>");
    assert_rule(&rejected(&later), ReasonCode::FF01, "xsd.unexpected", "/Cdtr/Foo");
    // A schema error in the AppHdr, the part validated after the Document.
    let in_header = replace_after(&bad_ccy, "<head:BizSvc>", "swift.cbprplus.03", &"x".repeat(40));
    assert_rule(&rejected(&in_header), ReasonCode::FF01, "xsd.facet", "/AppHdr/BizSvc");
    // And a value rule in the AppHdr (a line break in its identifier) does not hide a schema
    // error in the Document.
    let hdr_rule = replace_after(&xml, "<head:BizMsgIdr>", "</head:BizMsgIdr>", "&#10;</head:BizMsgIdr>");
    assert_rule(&rejected(&hdr_rule), ReasonCode::FF01, "ref.chars", "/AppHdr/BizMsgIdr");
    let both = replace_after(&hdr_rule, "<pacs:Cdtr>", "<pacs:Nm>", "<pacs:Foo/><pacs:Nm>");
    assert_rule(&rejected(&both), ReasonCode::FF01, "xsd.unexpected", "/Cdtr/Foo");
}

// --- Third review: real public messages and 729 further variants ---------------------------

/// `xs:any` (lax) takes exactly one element, in the wildcard's namespace when it names one:
/// the AppHdr `Sgntr` one element of XML-DSig, `SplmtryData/Envlp` one element of any
/// namespace; no text, no second element, not empty. What is inside that element is free.
#[test]
fn wildcards_take_exactly_one_element_of_their_namespace() {
    let Some(xml) = sample(CBPR_PACS008) else { return };
    let sgntr = |content: &str| {
        replace_after(
            &xml,
            "<head:CreDt>",
            "</head:CreDt>",
            &format!("</head:CreDt><head:Sgntr>{content}</head:Sgntr>"),
        )
    };
    let ds = r#"<ds:Signature xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><ds:SignedInfo><x:Any xmlns:x="urn:x"/></ds:SignedInfo></ds:Signature>"#;
    accepted(&sgntr(ds));
    let cases = [
        ("", "xsd.missing", "/AppHdr/Sgntr"),
        ("signed", "xsd.text", "/AppHdr/Sgntr"),
        ("<head:SignatureEnvelope/>", "xsd.unexpected", "/AppHdr/Sgntr/SignatureEnvelope"),
        (r#"<Signature xmlns="urn:foo"/>"#, "xsd.unexpected", "/AppHdr/Sgntr/Signature"),
        (&format!("{ds}{ds}"), "xsd.too_many", "/AppHdr/Sgntr/Signature"),
    ];
    for (content, rule, path) in cases {
        assert_rule(&rejected(&sgntr(content)), ReasonCode::FF01, rule, path);
    }
    let Some(fednow) = sample(FEDNOW_PACS008) else { return };
    let envlp = |content: &str| in_envlp(&fednow, content);
    accepted(&envlp(r#"<x:Note xmlns:x="urn:x">any <x:b>content</x:b></x:Note>"#));
    accepted(&envlp("<Note>in the message's own namespace</Note>"));
    let cases = [
        ("", "xsd.missing", "/SplmtryData[1]/Envlp"),
        ("free text", "xsd.text", "/SplmtryData[1]/Envlp"),
        ("<A/><B/>", "xsd.too_many", "/SplmtryData[1]/Envlp/B"),
    ];
    for (content, rule, path) in cases {
        assert_rule(&rejected(&envlp(content)), ReasonCode::FF01, rule, path);
    }
}

/// A rejected group says why itself: reasons given for its transactions (or for another
/// group) do not cover it.
#[test]
fn a_rejected_group_carries_its_own_reason() {
    let Some(xml) = sample(FEDNOW_PACS002) else { return };
    let group = |inner: &str| {
        replace_after(
            &xml,
            "</GrpHdr>",
            "<TxInfAndSts>",
            &format!(
                "<OrgnlGrpInfAndSts><OrgnlMsgId>20260702021040078FIXTURE001</OrgnlMsgId>\
             <OrgnlMsgNmId>pacs.008.001.08</OrgnlMsgNmId>{inner}</OrgnlGrpInfAndSts><TxInfAndSts>"
            ),
        )
    };
    accepted(&group("<GrpSts>RJCT</GrpSts><StsRsnInf><Rsn><Cd>FF01</Cd></Rsn></StsRsnInf>"));
    let e = rejected(&group("<GrpSts>RJCT</GrpSts>"));
    assert_rule(&e, ReasonCode::FF01, "sts.rjct_reason", "/OrgnlGrpInfAndSts/GrpSts");
    let e = rejected(&group("<GrpSts>RJCT</GrpSts><StsRsnInf><AddtlInf>no code</AddtlInf></StsRsnInf>"));
    assert_rule(&e, ReasonCode::FF01, "sts.rjct_reason", "/OrgnlGrpInfAndSts/GrpSts");
}

/// XML details the third review found handled against the specification: character
/// references with leading zeros, references in namespace names, `]]>` inside an attribute
/// value and white space written as references between elements are all well-formed; a
/// signed reference, a PI target with a colon, and one attribute named twice through two
/// prefixes of one namespace are not.
#[test]
fn xml_references_and_names_as_the_specifications_say() {
    let Some(xml) = sample(FEDNOW_PACS008) else { return };
    let root = r#"<Document xmlns="urn:iso:std:iso:20022:tech:xsd:pacs.008.001.08">"#;
    let valid = [
        replace_after(&xml, "<MsgId>", "FIXTURE001", "FIXTUR&#x0000000045;001"),
        replace_after(&xml, "<MsgId>", "FIXTURE001", "FIXTUR&#00000069;001"),
        xml.replacen(root, r#"<Document xmlns="&#x75;rn:iso:std:iso:20022:tech:xsd:pacs.008.001.08">"#, 1),
        xml.replacen(root, &format!("{}<FIToFICstmrCdtTrf xmlns=\"urn:iso:std:iso:20022:tech:xsd:pacs&#46;008.001.08\">", root), 1)
            .replacen("<FIToFICstmrCdtTrf>", "", 1),
        xml.replacen(
            root,
            r#"<Document xmlns="urn:iso:std:iso:20022:tech:xsd:pacs.008.001.08" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:schemaLocation="urn:x ]]> x.xsd">"#,
            1,
        ),
        replace_after(&xml, "<GrpHdr>", "<MsgId>", "&#32;&#9;&#10;&#13;<MsgId>"),
        replace_after(&xml, "</MsgId>", "<CreDtTm>", "&#x20;<CreDtTm>"),
    ];
    for v in &valid {
        assert_ne!(v, &xml);
        accepted(v);
    }
    let invalid = [
        (replace_after(&xml, "<MsgId>", "FIXTURE001", "FIXTUR&#x+45;001"), "xml.syntax"),
        (replace_after(&xml, "<GrpHdr>", "<MsgId>", "&#65;<MsgId>"), "xsd.text"),
        (replace_after(&xml, "</MsgId>", "<CreDtTm>", "&#x41;<CreDtTm>"), "xsd.text"),
        (replace_after(&xml, "<MsgId>", "FIXTURE001", "FIXTURE<?a:b x?>001"), "xml.syntax"),
        (
            xml.replacen(
                root,
                r#"<Document xmlns="urn:iso:std:iso:20022:tech:xsd:pacs.008.001.08" xmlns:a="http://www.w3.org/2001/XMLSchema-instance" xmlns:b="http://www.w3.org/2001/XMLSchema-instance" a:schemaLocation="urn:x x.xsd" b:schemaLocation="urn:x x.xsd">"#,
                1,
            ),
            "xml.syntax",
        ),
    ];
    for (v, rule) in &invalid {
        assert_ne!(v, &xml);
        let e = rejected(v);
        assert_eq!(e.code, ReasonCode::FF01, "{e}");
        assert!(e.detail.starts_with(&format!("[{rule}]")), "{rule}: {e}");
    }
}

/// An element no particle of the content model names is "not allowed here", not a
/// mandatory element "missing before" it.
#[test]
fn an_unknown_element_is_unexpected_not_a_missing_one() {
    let Some(xml) = sample(FEDNOW_PACS008) else { return };
    let e = rejected(&replace_after(&xml, "<GrpHdr>", "<MsgId>", "<Foo/><MsgId>"));
    assert_rule(&e, ReasonCode::FF01, "xsd.unexpected", "/GrpHdr/Foo");
    // A later particle's element in the place of a mandatory one: that one is missing.
    let e = rejected(&replace_after(&xml, "<GrpHdr>", "<MsgId>20260702021040078FIXTURE001</MsgId>", ""));
    assert_rule(&e, ReasonCode::FF01, "xsd.missing", "/GrpHdr");
}

/// `39.` and `.36` are xs:decimal amounts (RULES.md forbids only signs, exponents and
/// commas): accepted, and read as 39.00 and 0.36.
#[test]
fn amounts_with_digits_on_one_side_of_the_point() {
    let Some(xml) = sample(FEDNOW_PACS008) else { return };
    for (text, cents) in [("1250.", 125_000), (".36", 36), ("0.", 0)] {
        let v = xml.replace(">1250.00</IntrBkSttlmAmt>", &format!(">{text}</IntrBkSttlmAmt>"));
        assert_ne!(v, xml);
        if cents == 0 {
            assert_rule(&rejected(&v), ReasonCode::AM01, "amt.zero", "/IntrBkSttlmAmt");
            continue;
        }
        let m = read_pacs008(v.as_bytes(), &Limits::default()).unwrap_or_else(|e| panic!("{text}: {e}"));
        assert_eq!(m.txs[0].amount.minor_units, cents, "{text}");
    }
    let v = xml.replace(">1250.00</IntrBkSttlmAmt>", ">.</IntrBkSttlmAmt>");
    assert_eq!(rejected(&v).code, ReasonCode::FF01, "'.' is no decimal (xs:decimal lexical form)");
}

/// The `CCYYMMDD` of a FedNow message id is a calendar date.
#[test]
fn fednow_message_ids_start_with_a_real_date() {
    let Some(xml) = sample(FEDNOW_PACS008) else { return };
    for date in ["20261302", "20260230", "20260700"] {
        let v = xml.replace(MSG_ID, &format!("<MsgId>{date}021040078FIXTURE001</MsgId>"));
        assert_ne!(v, xml);
        assert_rule(&rejected(&v), ReasonCode::FF01, "profile.ref", "/GrpHdr/MsgId");
    }
    accepted(&xml.replace(MSG_ID, "<MsgId>20240229021040078FIXTURE001</MsgId>"));
}

// --- Fifth review: headers, envelopes, validate-only messages --------------------------------

/// Inside a FedNow envelope the element around the parts must be a FedNow message wrapper
/// that names the Document's family: none (the parts straight in `FedNowIncomingMessage`)
/// or an unknown one is FF01 `env.wrapper`, like a wrong one.
#[test]
fn a_fednow_envelope_names_its_message_family() {
    let Some(xml) = sample("pacs.002.001.10__fednow__incoming.xml") else { return };
    accepted(&xml);
    let cases = [
        xml.replace("<FedNowPaymentStatus>", "").replace("</FedNowPaymentStatus>", ""),
        xml.replace("<FedNowPaymentStatus>", "<FedNowFoo>").replace("</FedNowPaymentStatus>", "</FedNowFoo>"),
        xml.replace("<FedNowPaymentStatus>", "<FedNowPaymentReturn>")
            .replace("</FedNowPaymentStatus>", "</FedNowPaymentReturn>"),
    ];
    for v in &cases {
        assert_ne!(v, &xml);
        assert_rule(&rejected(v), ReasonCode::FF01, "env.wrapper", "/Document");
    }
}

/// A header party given as an organisation's BIC (`OrgId/Id/OrgId/AnyBIC`) is held to the
/// Document's agents like an institution's `BICFI`; and a header in a namespace this crate
/// cannot read is refused rather than left unchecked.
#[test]
fn header_organisation_bics_and_unknown_headers_are_checked() {
    let Some(xml) = sample(CBPR_PACS008) else { return };
    let fr = |bic: &str| {
        let org = format!("<head:Fr><head:OrgId><head:Id><head:OrgId><head:AnyBIC>{bic}</head:AnyBIC></head:OrgId></head:Id></head:OrgId></head:Fr>");
        let start = xml.find("<head:Fr>").expect("Fr");
        let end = xml.find("</head:Fr>").expect("/Fr") + "</head:Fr>".len();
        format!("{}{org}{}", &xml[..start], &xml[end..])
    };
    accepted(&fr("CHASGB2LXXX"));
    assert_rule(
        &rejected(&fr("ZZZZGBFGXXX")),
        ReasonCode::RC02,
        "bah.party",
        "/AppHdr/Fr/OrgId/Id/OrgId/AnyBIC",
    );
    let foreign = xml.replace(
        r#"<head:AppHdr xmlns:head="urn:iso:std:iso:20022:tech:xsd:head.001.001.02">"#,
        r#"<head:AppHdr xmlns:head="urn:foo:head">"#,
    );
    assert_ne!(foreign, xml);
    assert_rule(&rejected(&foreign), ReasonCode::FF01, "msg.unknown", "/AppHdr");
}

// --- Eighth review: 3,000 random schema edits against xmllint ------------------------------

/// Lax wildcard content is validated where a declaration is known: a copy of the message's
/// own `Document` inside `SplmtryData/Envlp`, at any depth, must be valid as one (xmllint
/// checks it so). Other content stays free, and the copy's business rules are not the
/// message's.
#[test]
fn a_document_copy_in_a_wildcard_is_validated_as_one() {
    let Some(xml) = sample(FEDNOW_PACS008) else { return };
    let envlp = |content: &str| in_envlp(&xml, content);
    let ns = "urn:iso:std:iso:20022:tech:xsd:pacs.008.001.08";
    let e = rejected(&envlp(&format!(r#"<Document xmlns="{ns}"><Foo/></Document>"#)));
    assert_rule(&e, ReasonCode::FF01, "xsd.unexpected", "/SplmtryData[1]/Envlp/Document/Foo");
    let nested =
        format!(r#"<x:Wrap xmlns:x="urn:x"><d:Document xmlns:d="{ns}"><d:Foo/></d:Document></x:Wrap>"#);
    let e = rejected(&envlp(&nested));
    assert_rule(&e, ReasonCode::FF01, "xsd.unexpected", "/Envlp/Wrap/Document/Foo");
    // A whole copy of the message: valid; with a broken facet: refused at the copy's element.
    let body = &xml[element_span(&xml, "", "<FIToFICstmrCdtTrf>", "</FIToFICstmrCdtTrf>")];
    let copy = format!(r#"<Document xmlns="{ns}">{body}</Document>"#);
    accepted(&envlp(&copy));
    let broken = copy.replacen("<NbOfTxs>1</NbOfTxs>", "<NbOfTxs>one</NbOfTxs>", 1);
    assert_ne!(broken, copy);
    let e = rejected(&envlp(&broken));
    assert_rule(&e, ReasonCode::FF01, "xsd.facet", "/Envlp/Document/FIToFICstmrCdtTrf/GrpHdr/NbOfTxs");
    // A business rule broken only inside the copy (a zero amount) is the copy's, not the message's.
    let zero = copy.replacen(">1250.00</IntrBkSttlmAmt>", ">0</IntrBkSttlmAmt>", 1);
    assert_ne!(zero, copy);
    accepted(&envlp(&zero));
    // A Document of another message is content no declaration covers: free.
    accepted(&envlp(r#"<Document xmlns="urn:iso:std:iso:20022:tech:xsd:pacs.002.001.10"><Foo/></Document>"#));
}

/// XML reads a literal CR LF (or a lone CR) as one LF before any schema sees the text
/// (XML 1.0 §2.11): a 140-character name with a CR LF inside is 140 characters; a CR
/// written as `&#13;` is a character of its own.
#[test]
fn literal_line_ends_count_as_one_character() {
    let Some(xml) = sample(FEDNOW_PACS008) else { return };
    let with_name =
        |value: &str| replace_element(&xml, "<Dbtr>", "<Nm>", "</Nm>", &format!("<Nm>{value}</Nm>"));
    let a138 = "A".repeat(138);
    accepted(&with_name(&format!("{a138}\r\nB")));
    accepted(&with_name(&format!("{a138}\rB")));
    accepted(&with_name(&format!("{a138}\r\n<![CDATA[B]]>")));
    let e = rejected(&with_name(&format!("{a138}&#13;\nB")));
    assert_rule(&e, ReasonCode::FF01, "xsd.facet", "/Dbtr/Nm");
    let e = rejected(&with_name(&format!("{a138}B\r\nC")));
    assert_rule(&e, ReasonCode::FF01, "xsd.facet", "/Dbtr/Nm");
    let m = read_pacs008(with_name(&format!("{a138}\r\nB")).as_bytes(), &Limits::default()).expect("valid");
    assert_eq!(m.txs[0].dbtr_name.as_deref(), Some(format!("{a138}\nB").as_str()));
}

/// The default limits refuse no schema-valid message: admi.002 `AddtlData` (Max20000Text)
/// takes 20,000 characters, multi-byte ones too; 20,001 break the XSD, not a limit.
#[test]
fn the_longest_text_a_schema_allows_is_within_the_default_limit() {
    let Some(xml) = sample(FEDNOW_ADMI002) else { return };
    let with = |data: &str| {
        replace_after(&xml, "<RjctnDtTm>", "</Rsn>", &format!("<AddtlData>{data}</AddtlData></Rsn>"))
    };
    let ascii = with(&"A".repeat(20_000));
    assert_ne!(ascii, xml);
    accepted(&ascii);
    accepted(&with(&"€".repeat(20_000)));
    let e = rejected(&with(&"A".repeat(20_001)));
    assert_rule(&e, ReasonCode::FF01, "xsd.facet", "/Rsn/AddtlData");
}

// --- Ninth review: namespace games, two edits, line ends and declarations against xmllint ---

/// Namespaces in XML lets an inner element bind the part's own prefix (here the default
/// namespace) to another namespace: only the names that use it change meaning. A subtree
/// that names its elements through another prefix bound to the message namespace is valid;
/// an element whose name the rebinding moves out of the message namespace is refused.
#[test]
fn rebinding_the_parts_prefix_moves_only_the_names_that_use_it() {
    let Some(xml) = sample(FEDNOW_PACS028) else { return };
    let ns = "urn:iso:std:iso:20022:tech:xsd:pacs.028.001.03";
    let id = "20260702021040078STATUSREQ01";
    let msg_id = |open: &str, close: &str| {
        replace_element(&xml, "", &format!("<MsgId>{id}"), "</MsgId>", &format!("{open}{id}{close}"))
    };
    accepted(&msg_id(&format!(r#"<p:MsgId xmlns="urn:foo" xmlns:p="{ns}">"#), "</p:MsgId>"));
    accepted(&msg_id(&format!(r#"<p:MsgId xmlns="" xmlns:p="{ns}">"#), "</p:MsgId>"));
    let e = rejected(&msg_id(r#"<MsgId xmlns="urn:foo">"#, "</MsgId>"));
    assert_rule(&e, ReasonCode::FF01, "xsd.namespace", "/GrpHdr/MsgId");
    // A rebound subtree: its prefixed children pass, an unprefixed one is in no namespace.
    let grp = |inner: &str| replace_element(&xml, "", "<GrpHdr>", "</GrpHdr>", inner);
    let cre = "<p:CreDtTm>2026-07-02T10:31:30-05:00</p:CreDtTm>";
    accepted(&grp(&format!(r#"<p:GrpHdr xmlns="" xmlns:p="{ns}"><p:MsgId>{id}</p:MsgId>{cre}</p:GrpHdr>"#)));
    let e =
        rejected(&grp(&format!(r#"<p:GrpHdr xmlns="" xmlns:p="{ns}"><MsgId>{id}</MsgId>{cre}</p:GrpHdr>"#)));
    assert_rule(&e, ReasonCode::FF01, "xsd.namespace", "/GrpHdr/MsgId");
}
