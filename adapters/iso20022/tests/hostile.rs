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
        // `10.` and `.5` are decimals (tests/variants.rs); a point alone is none.
        (MINI.replace("10.50", "."), "xsd.facet"),
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

/// The verdict of `input` under `limits`: `Ok` or the failing rule id.
fn verdict(input: &str, limits: &Limits) -> Result<(), String> {
    validate_any(input.as_bytes(), limits).map(|_| ()).map_err(|e| e.rule_id().unwrap_or("").to_owned())
}

/// `text` with the first `<open>...</close>` element repeated `n` times.
fn repeat_first(text: &str, open: &str, close: &str, n: usize) -> String {
    let start = text.find(open).expect("element");
    let end = text[start..].find(close).expect("end") + start + close.len();
    format!("{}{}{}", &text[..start], text[start..end].repeat(n), &text[end..])
}

/// `max_transactions` counts each kind of transaction element on its own: a message with
/// N transactions passes a limit of N however its transactions are grouped (a pain.001's
/// CdtTrfTxInf inside one PmtInf, a camt.053's Ntry each with its TxDtls), and fails a
/// limit of N - 1.
#[test]
fn transaction_limit_counts_transactions_not_their_containers() {
    let samples = support::samples("valid");
    let sample = |prefix: &str| {
        samples
            .iter()
            .find(|(name, _)| name.starts_with(prefix))
            .map(|(_, b)| String::from_utf8_lossy(b).into_owned())
    };
    let (Some(pain), Some(camt)) =
        (sample("pain.001.001.09__cbprplus__sample"), sample("camt.053.001.08__mt940"))
    else {
        println!("NOTICE: shared samples not found; skipping");
        return;
    };
    let n = 3;
    let pain = repeat_first(&pain, "<pain:CdtTrfTxInf>", "</pain:CdtTrfTxInf>", n)
        .replace("<pain:NbOfTxs>1</pain:NbOfTxs>", &format!("<pain:NbOfTxs>{n}</pain:NbOfTxs>"));
    let camt = repeat_first(&camt, "<camt:Ntry>", "</camt:Ntry>", n);
    assert_eq!(camt.matches("<camt:TxDtls>").count(), n, "one TxDtls per entry");
    for (name, input) in [("pain.001", &pain), ("camt.053", &camt)] {
        let at_limit = Limits { max_transactions: n, ..Limits::default() };
        assert_eq!(verdict(input, &at_limit), verdict(input, &Limits::default()), "{name}: {n} at limit {n}");
        assert_ne!(verdict(input, &Limits::default()), Err("limit.transactions".to_owned()), "{name}");
        let below = Limits { max_transactions: n - 1, ..Limits::default() };
        assert_eq!(
            verdict(input, &below),
            Err("limit.transactions".to_owned()),
            "{name}: {n} at limit {}",
            n - 1
        );
    }
}

/// MINI as a pacs.008.001.10 with a mandate signature (`Max10KBinary`, base64) and a tax
/// period year (`ISOYear`, gYear): `sig` and `year` are their values.
fn mini10(sig: &str, year: &str) -> String {
    MINI.replace("pacs.008.001.08", "pacs.008.001.10")
        .replace(
            "<ChrgBr>SLEV</ChrgBr>",
            &format!("<ChrgBr>SLEV</ChrgBr><MndtRltdInf><ElctrncSgntr>{sig}</ElctrncSgntr></MndtRltdInf>"),
        )
        .replace("</Cdtr>", &format!("</Cdtr><Tax><Rcrd><Prd><Yr>{year}</Yr></Prd></Rcrd></Tax>"))
}

/// XSD 1.0 lexical and length rules xmllint applies: no year 0000 (date, dateTime, gYear),
/// time-zone offsets within ±14:00, base64 length facets in decoded octets, and canonical
/// base64 padding (the unused bits before `=`/`==` are zero).
#[test]
fn xsd_1_0_values_xmllint_rejects_are_rejected() {
    let l = Limits::default();
    let facet = Err("xsd.facet".to_owned());
    let dt = "2026-01-01T10:00:00Z";
    assert_eq!(verdict(&MINI.replace(dt, "0000-01-01T10:00:00Z"), &l), facet);
    assert_eq!(verdict(&MINI.replace(dt, "2026-01-01T10:00:00+14:30"), &l), facet);
    assert_eq!(verdict(&MINI.replace(dt, "2026-01-01T10:00:00-15:00"), &l), facet);
    assert_eq!(verdict(&MINI.replace(dt, "2026-01-01T10:00:00+14:00"), &l), Ok(()));
    assert_eq!(verdict(&MINI.replace(dt, "2026-01-01T10:00:00-14:00"), &l), Ok(()));
    assert_eq!(verdict(&mini10("YQ==", "2024"), &l), Ok(()));
    assert_eq!(verdict(&mini10("YWJj ZA==", "2024Z"), &l), Ok(()));
    for (sig, year) in [("YQ==", "0000"), ("", "2024"), ("YR==", "2024"), ("YWJ=", "2024"), ("YQ", "2024")] {
        assert_eq!(verdict(&mini10(sig, year), &l), facet, "{sig:?} {year:?}");
    }
    // 10240 octets is the maximum; one more is too long.
    let max = "AAAA".repeat(10240 / 3) + "AA==";
    let limits = Limits { max_text_bytes: 1 << 16, ..l };
    assert_eq!(verdict(&mini10(&max, "2024"), &limits), Ok(()));
    assert_eq!(verdict(&mini10(&(max.replace("AA==", "AAA=")), "2024"), &limits), facet);
}

/// Input that is not (namespace-)well-formed XML 1.0 is refused as such: the non-characters
/// U+FFFE/U+FFFF anywhere, `--` in a comment, a PI without target, a malformed XML
/// declaration, a name with a character names may not have, and the Namespaces in XML
/// constraints (one `:` at most, no undeclaring a prefix, every prefix declared).
#[test]
fn not_well_formed_xml_is_refused() {
    let l = Limits::default();
    let decl = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>";
    let doc = "<Document xmlns=\"urn:iso:std:iso:20022:tech:xsd:pacs.008.001.08\">";
    let cases: &[(String, &str)] = &[
        (MINI.replace("<Nm>C</Nm>", "<Nm>C\u{fffe}</Nm>"), "xml.encoding"),
        (MINI.replace("<Nm>C</Nm>", "<Nm>C\u{ffff}</Nm>"), "xml.encoding"),
        (MINI.replace("<MsgId>M1</MsgId>", "<MsgId>M1\u{ffff}</MsgId>"), "xml.encoding"),
        (MINI.replace("<Nm>A &amp; B</Nm>", "<Nm>A &amp; B\u{fffe}</Nm>"), "xml.encoding"),
        (MINI.replace("Ccy=\"EUR\"", "Ccy=\"EUR\u{fffe}\""), "xml.encoding"),
        (MINI.replace("<Cdtr>", "<Cdtr\u{ffff}>").replace("</Cdtr>", "</Cdtr\u{ffff}>"), "xml.encoding"),
        (MINI.replace(decl, &format!("{decl}<!-- a \u{fffe} -->")), "xml.encoding"),
        (MINI.replace(decl, &format!("{decl}<!-- a -- b -->")), "xml.syntax"),
        (MINI.replace(decl, &format!("{decl}<!-- a --->")), "xml.syntax"),
        (MINI.replace(decl, &format!("{decl}<? ?>")), "xml.syntax"),
        (MINI.replace(decl, &format!("{decl}<??>")), "xml.syntax"),
        (MINI.replace(decl, &format!("{decl}<?a\"b?>")), "xml.syntax"),
        (MINI.replace(decl, "<?xml encoding=\"UTF-8\"?>"), "xml.syntax"),
        (MINI.replace(decl, "<?xml?>"), "xml.syntax"),
        (MINI.replace(decl, "<?xml version=\"2.0\"?>"), "xml.syntax"),
        (MINI.replace(decl, "<?xml version=\"1.0\" standalone=\"maybe\"?>"), "xml.syntax"),
        (MINI.replace(decl, "<?xml encoding=\"UTF-8\" version=\"1.0\"?>"), "xml.syntax"),
        (MINI.replace(decl, "<?xml version=\"1.0\"encoding=\"UTF-8\"?>"), "xml.syntax"),
        (MINI.replace(decl, "<?xml version=\"1.0\" foo=\"bar\"?>"), "xml.syntax"),
        (format!("<Note\u{d7}>{}</Note\u{d7}>", &MINI[decl.len() + 1..]), "xml.syntax"),
        (format!("<\u{b7}x>{}</\u{b7}x>", &MINI[decl.len() + 1..]), "xml.syntax"),
        (MINI.replace("<Cdtr><Nm>C</Nm></Cdtr>", "<Cdtr><Nm\u{d7}>C</Nm\u{d7}></Cdtr>"), "xml.syntax"),
        (format!("<a:b:c xmlns:a=\"urn:a\">{}</a:b:c>", &MINI[decl.len() + 1..]), "xml.syntax"),
        (format!("<a: xmlns:a=\"urn:a\">{}</a:>", &MINI[decl.len() + 1..]), "xml.syntax"),
        (format!("<:a>{}</:a>", &MINI[decl.len() + 1..]), "xml.syntax"),
        (MINI.replace(doc, &format!("{}<p:x:y xmlns:p=\"urn:p\"/>", doc)), "xml.syntax"),
        (MINI.replace(doc, &doc.replace('>', " xmlns:p=\"\">")), "xml.syntax"),
        (MINI.replace(doc, &doc.replace('>', " xmlns:xmlns=\"urn:x\">")), "xml.syntax"),
        (
            MINI.replace(doc, &doc.replace('>', " xmlns:p=\"http://www.w3.org/XML/1998/namespace\">")),
            "xml.syntax",
        ),
        (MINI.replace(doc, &doc.replace('>', " xsi:schemaLocation=\"a b\">")), "xml.syntax"),
        (MINI.replace(doc, &doc.replace('>', " a:b:c=\"1\">")), "xml.syntax"),
        (format!("<env:Envelope>{}</env:Envelope>", &MINI[decl.len() + 1..]), "xml.syntax"),
        (MINI.replace("<Cdtr><Nm>C</Nm></Cdtr>", "<Cdtr><x:Nm>C</x:Nm></Cdtr>"), "xml.syntax"),
        (MINI.replace("<Nm>C</Nm>", "<Nm>C<x:b/></Nm>"), "xml.syntax"),
        (MINI.replace("<Nm>C</Nm>", "<Nm>C</Nm><Nm:1/>"), "xml.syntax"),
        (
            MINI.replace(
                "<Cdtr><Nm>C</Nm></Cdtr>",
                "<Cdtr><Nm>C</Nm></Cdtr><SplmtryData><Envlp><x:a/></Envlp></SplmtryData>",
            ),
            "xml.syntax",
        ),
    ];
    for (input, want) in cases {
        assert_eq!(rule_of(input.as_bytes(), &l), *want, "{input}");
    }
    // Still accepted: other non-ASCII characters, names with non-ASCII name characters, a
    // declared prefix, the xml prefix, XML 1.x declarations, PIs with a target.
    let ok: &[String] = &[
        MINI.replace("<Nm>C</Nm>", "<Nm>C\u{fffd}\u{fdd0}\u{e9}\u{1f600}</Nm>"),
        MINI.replace(decl, "<?xml version='1.1' encoding='utf-8' standalone='no' ?>"),
        MINI.replace(decl, "<?xml version=\"1.0\"?><?xml-stylesheet href=\"a\"?><!-- - a - -->"),
        format!("<Not\u{e9}>{}</Not\u{e9}>", &MINI[decl.len() + 1..]),
        format!(
            "<e:Env xmlns:e=\"urn:e\" xml:lang=\"en\" e:x=\"1\"><e:H/>{}</e:Env>",
            &MINI[decl.len() + 1..]
        ),
        MINI.replace(doc, &doc.replace('>', " xmlns:p=\"urn:p\">")).replace(
            "<Nm>C</Nm>",
            "<p:Nm xmlns:p=\"urn:iso:std:iso:20022:tech:xsd:pacs.008.001.08\">C</p:Nm>",
        ),
    ];
    for input in ok {
        assert_eq!(verdict(input, &l).map_err(|r| (r, input.clone())), Ok(()), "{input}");
    }
}

/// `xsi:*` attributes are recognised by the namespace their prefix is bound to, not by the
/// prefix text: `xsi` bound elsewhere is an ordinary (undeclared) attribute, another prefix
/// bound to the XML Schema instance namespace is `xsi`.
#[test]
fn xsi_attributes_are_recognised_by_namespace() {
    let l = Limits::default();
    let doc = "<Document xmlns=\"urn:iso:std:iso:20022:tech:xsd:pacs.008.001.08\">";
    let with = |attrs: &str| MINI.replace(doc, &doc.replace('>', &format!(" {attrs}>")));
    let xsi = "http://www.w3.org/2001/XMLSchema-instance";
    assert_eq!(verdict(&with(&format!("xmlns:xsi=\"{xsi}\" xsi:schemaLocation=\"a b\"")), &l), Ok(()));
    assert_eq!(verdict(&with(&format!("xmlns:s=\"{xsi}\" s:schemaLocation=\"a b\"")), &l), Ok(()));
    assert_eq!(verdict(&with(&format!("xmlns:s=\"{xsi}\" s:noNamespaceSchemaLocation=\"a\"")), &l), Ok(()));
    for attrs in [
        "xmlns:xsi=\"urn:evil\" xsi:schemaLocation=\"a b\"".to_owned(),
        format!("xmlns:s=\"{xsi}\" s:type=\"x\""),
        format!("xmlns:s=\"{xsi}\" s:nil=\"true\""),
        "xmlns:p=\"urn:p\" p:Ccy=\"EUR\"".to_owned(),
    ] {
        assert_eq!(verdict(&with(&attrs), &l), Err("xsd.attribute".to_owned()), "{attrs}");
    }
    // Declared on an ancestor (the envelope) counts too.
    let env = format!("<Envelope xmlns:s=\"{xsi}\">{}</Envelope>", &MINI[39..]);
    assert_eq!(verdict(&env.replace(doc, &doc.replace('>', " s:schemaLocation=\"a b\">")), &l), Ok(()));
}
