//! Every valid sample of each typed message reads, re-writes to XSD-valid XML (xmllint when
//! installed; the AppHdr is emitted as head.001.001.02) and re-reads to an equal model.

mod support;

use support::{lint_or_skip, samples};
use switchyard_iso20022::*;

macro_rules! round_trip_test {
    ($test:ident, $prefix:literal, $xsd:literal, $read:ident, $write:ident) => {
        #[test]
        fn $test() {
            let limits = Limits::default();
            let mut seen = 0;
            for (name, bytes) in samples("valid").into_iter().filter(|(n, _)| n.starts_with($prefix)) {
                let mut msg = $read(&bytes, &limits).unwrap_or_else(|e| panic!("{name}: {e}"));
                if let Some(h) = msg.app_hdr.as_mut() {
                    h.version = HeadVersion::V02;
                }
                let out = $write(&msg);
                lint_or_skip(&out, $xsd, &name);
                let again = $read(&out, &limits)
                    .unwrap_or_else(|e| panic!("{name}: re-read: {e}\n{}", String::from_utf8_lossy(&out)));
                assert_eq!(msg, again, "{name}: round trip changed the model");
                seen += 1;
            }
            println!("{} samples of {}", seen, $prefix);
        }
    };
}

round_trip_test!(pacs004_round_trips, "pacs.004", "pacs.004.001.09", read_pacs004, write_pacs004);
round_trip_test!(pacs009_round_trips, "pacs.009", "pacs.009.001.08", read_pacs009, write_pacs009);
round_trip_test!(pacs028_round_trips, "pacs.028", "pacs.028.001.03", read_pacs028, write_pacs028);
round_trip_test!(camt056_round_trips, "camt.056", "camt.056.001.08", read_camt056, write_camt056);
round_trip_test!(camt029_round_trips, "camt.029", "camt.029.001.09", read_camt029, write_camt029);
round_trip_test!(admi002_round_trips, "admi.002", "admi.002.001.01", read_admi002, write_admi002);

#[test]
fn admi002_from_a_validation_error_is_xsd_valid() {
    let e = validate_any(b"<!DOCTYPE x><x/>", &Limits::default()).expect_err("doctype");
    let m = Admi002::from_error("MSG-1", "2026-01-01T10:00:00Z", &e);
    let out = write_admi002(&m);
    lint_or_skip(&out, "admi.002.001.01", "admi-from-error");
    assert_eq!(read_admi002(&out, &Limits::default()).expect("re-read"), m);
}

/// Found by the fuzz target: a pacs.002 whose transaction carries no `OrgnlGrpInf` (optional
/// in pacs.002.001.10) used to be written with an empty, schema-invalid `OrgnlMsgId`.
#[test]
fn pacs002_without_original_group_round_trips() {
    let input = r#"<Document xmlns="urn:iso:std:iso:20022:tech:xsd:pacs.002.001.10"><FIToFIPmtStsRpt><GrpHdr><MsgId>M1</MsgId><CreDtTm>2026-07-02T10:31:00-05:00</CreDtTm></GrpHdr><TxInfAndSts><OrgnlEndToEndId>E1</OrgnlEndToEndId><TxSts>RJCT</TxSts><StsRsnInf><Rsn><Cd>AC04</Cd></Rsn></StsRsnInf></TxInfAndSts></FIToFIPmtStsRpt></Document>"#;
    let limits = Limits::default();
    let msg = read_pacs002(input.as_bytes(), &limits).expect("valid");
    assert!(msg.orgnl_msg_id.is_empty());
    let out = write_pacs002(&msg);
    lint_or_skip(&out, "pacs.002.001.10", "pacs002_without_original_group");
    let again = read_pacs002(&out, &limits)
        .unwrap_or_else(|e| panic!("re-read: {e}\n{}", String::from_utf8_lossy(&out)));
    assert_eq!(msg, again);
}
