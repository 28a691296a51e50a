//! Hostile and malformed input: DOCTYPE, encodings, limits, broken XML. Each is rejected with
//! the documented rule, and nothing panics.

mod support;

use switchyard_iso20022::{read_pacs008, validate_any, Limits, ReasonCode};

const MINI: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:pacs.008.001.08"><FIToFICstmrCdtTrf><GrpHdr><MsgId>M1</MsgId><CreDtTm>2026-01-01T10:00:00Z</CreDtTm><NbOfTxs>1</NbOfTxs><SttlmInf><SttlmMtd>CLRG</SttlmMtd></SttlmInf></GrpHdr><CdtTrfTxInf><PmtId><EndToEndId>E1</EndToEndId><UETR>eb6305c9-1f7f-49de-aed0-16487c27b42d</UETR></PmtId><IntrBkSttlmAmt Ccy="EUR">10.50</IntrBkSttlmAmt><ChrgBr>SLEV</ChrgBr><Dbtr><Nm>A &amp; B</Nm></Dbtr><DbtrAcct><Id><IBAN>DE89370400440532013000</IBAN></Id></DbtrAcct><DbtrAgt><FinInstnId><BICFI>DEUTDEFF</BICFI></FinInstnId></DbtrAgt><CdtrAgt><FinInstnId><BICFI>BNPAFRPP</BICFI></FinInstnId></CdtrAgt><Cdtr><Nm>C</Nm></Cdtr></CdtTrfTxInf></FIToFICstmrCdtTrf></Document>"#;

fn rule_of(input: &[u8], limits: &Limits) -> String {
    let e = validate_any(input, limits).expect_err("must be rejected");
    e.rule_id().unwrap_or("").to_owned()
}

#[test]
fn baseline_is_valid() {
    let m = read_pacs008(MINI.as_bytes(), &Limits::default()).expect("valid");
    assert_eq!(m.txs[0].amount.minor_units, 1050);
    assert_eq!(m.txs[0].dbtr_name.as_deref(), Some("A & B"));
}

#[test]
fn variants_are_rejected_with_their_rule() {
    let l = Limits::default();
    let cases: &[(String, &str)] = &[
        (
            MINI.replace(
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?>",
                "<?xml version=\"1.0\"?><!DOCTYPE d [<!ENTITY x \"y\">]>",
            ),
            "xml.doctype",
        ),
        (MINI.replace("encoding=\"UTF-8\"", "encoding=\"ISO-8859-1\""), "xml.encoding"),
        (MINI.replace("</Dbtr>", ""), "xml.syntax"),
        (MINI.replace("A &amp; B", "A &ent; B"), "xml.syntax"),
        (MINI.replace("10.50", "-10.50"), "xsd.facet"),
        (MINI.replace("10.50", "1e3"), "xsd.facet"),
        (MINI.replace("10.50", "10.505"), "amt.precision"),
        (MINI.replace("Ccy=\"EUR\"", "Ccy=\"XAU\""), "ccy.not_active"),
        (MINI.replace("eb6305c9", "EB6305C9"), "xsd.facet"),
        (MINI.replace("DE89370400440532013000", "DE89370400440532013001"), "iban.invalid"),
        (MINI.replace("<NbOfTxs>1</NbOfTxs>", "<NbOfTxs>2</NbOfTxs>"), "grp.nb_of_txs"),
        (MINI.replace("<EndToEndId>E1</EndToEndId>", "<EndToEndId>/E1</EndToEndId>"), "ref.chars"),
        (MINI.replace("<Nm>C</Nm>", "<Nm>C\u{202e}D</Nm>"), "text.bidi"),
        (MINI.replace("<ChrgBr>SLEV</ChrgBr>", ""), "xsd.missing"),
        (MINI.replace("<ChrgBr>SLEV</ChrgBr>", "<ChrgBr>XXXX</ChrgBr>"), "xsd.facet"),
        (MINI.replace("<Cdtr><Nm>C</Nm></Cdtr>", "<Cdtr><Nm>C</Nm></Cdtr><Bogus/>"), "xsd.unexpected"),
        (MINI.replace("10.50", "0.00"), "amt.zero"),
        (MINI.replace("10.50", "+10.50"), "amt.range"),
        (MINI.replace("10.50", "10."), "amt.range"),
        (
            MINI.replace(
                "<NbOfTxs>1</NbOfTxs>",
                "<NbOfTxs>1</NbOfTxs><TtlIntrBkSttlmAmt Ccy=\"EUR\">10.51</TtlIntrBkSttlmAmt>",
            ),
            "grp.ctrl_sum",
        ),
        (MINI.replace("<NbOfTxs>1</NbOfTxs>", "<NbOfTxs>1</NbOfTxs><CtrlSum>9</CtrlSum>"), "grp.ctrl_sum"),
        (MINI.replace("Ccy=\"EUR\"", "Ccy=\"ABC\""), "ccy.not_active"),
        (MINI.replace("<EndToEndId>E1</EndToEndId>", "<EndToEndId>E&#10;1</EndToEndId>"), "ref.chars"),
        (MINI.replace("<Nm>C</Nm>", "<Nm>C&#x202E;D</Nm>"), "text.bidi"),
        (
            MINI.replace(
                "<Document xmlns=\"urn:iso:std:iso:20022:tech:xsd:pacs.008.001.08\">",
                "<Document xmlns=\"urn:iso:std:iso:20022:tech:xsd:pacs.008.001.99\">",
            ),
            "msg.unknown",
        ),
        (format!("<Envelope>{}{}</Envelope>", &MINI[38..], &MINI[38..]), "env.wrapper"),
        (MINI.replace("2026-01-01T10:00:00Z", "2026-02-30T10:00:00Z"), "xsd.facet"),
        (MINI.replace("<Nm>C</Nm>", "<Nm>C\u{1}</Nm>"), "xml.encoding"),
    ];
    for (input, want) in cases {
        assert_eq!(rule_of(input.as_bytes(), &l), *want, "{input}");
    }
}

#[test]
fn another_prefix_bound_to_the_same_namespace_is_accepted() {
    let ns = "urn:iso:std:iso:20022:tech:xsd:pacs.008.001.08";
    let doc = MINI
        .replace(
            &format!("<Document xmlns=\"{ns}\">"),
            &format!("<Document xmlns=\"{ns}\" xmlns:p=\"{ns}\">"),
        )
        .replace("<Cdtr><Nm>C</Nm></Cdtr>", "<p:Cdtr><p:Nm>C</p:Nm></p:Cdtr>");
    validate_any(doc.as_bytes(), &Limits::default()).expect("same namespace, other prefix");
    let foreign =
        doc.replace("xmlns:p=\"urn:iso:std:iso:20022:tech:xsd:pacs.008.001.08\"", "xmlns:p=\"urn:x\"");
    assert_eq!(rule_of(foreign.as_bytes(), &Limits::default()), "xsd.namespace");
}

#[test]
fn limits_are_enforced() {
    let tiny = Limits { max_message_bytes: 100, ..Limits::default() };
    assert_eq!(rule_of(MINI.as_bytes(), &tiny), "limit.size");
    let shallow = Limits { max_depth: 4, ..Limits::default() };
    assert_eq!(rule_of(MINI.as_bytes(), &shallow), "limit.depth");
    let short = Limits { max_text_bytes: 8, ..Limits::default() };
    assert_eq!(rule_of(MINI.as_bytes(), &short), "limit.text");
    let few = Limits { max_transactions: 0, ..Limits::default() };
    assert_eq!(rule_of(MINI.as_bytes(), &few), "limit.transactions");
}

#[test]
fn non_utf8_and_junk_are_rejected_as_ff01() {
    let l = Limits::default();
    for input in [&b"\xff\xfe<\x00D\x00"[..], b"\xc3\x28", b"", b"<a>", b"not xml", b"<a></b>", b"<a/><b/>"] {
        let e = validate_any(input, &l).expect_err("reject");
        assert_eq!(e.code, ReasonCode::FF01, "{input:?}: {e}");
    }
}
