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

/// The shared sample `name`, edited: `from` (which must occur) replaced by `to`.
fn edited(name: &str, from: &str, to: &str) -> Option<Vec<u8>> {
    let Some((_, bytes)) = samples("valid").into_iter().find(|(n, _)| n == name) else {
        println!("NOTICE: sample {name} not found; skipping");
        return None;
    };
    let text = String::from_utf8(bytes).expect("UTF-8 sample");
    assert!(text.contains(from), "{name}: {from} not in the sample");
    Some(text.replacen(from, to, 1).into_bytes())
}

/// read → write (XSD-valid) → read gives the same model; returns the model.
macro_rules! same_after_round_trip {
    ($input:expr, $read:ident, $write:ident, $xsd:literal, $name:expr) => {{
        let limits = Limits::default();
        let msg = $read(&$input, &limits).unwrap_or_else(|e| panic!("{}: {e}", $name));
        let out = $write(&msg);
        lint_or_skip(&out, $xsd, $name);
        let again = $read(&out, &limits)
            .unwrap_or_else(|e| panic!("{}: re-read: {e}\n{}", $name, String::from_utf8_lossy(&out)));
        assert_eq!(msg, again, "{}: round trip changed the model", $name);
        msg
    }};
}

/// Found by the writers review: valid inputs that lost what made them valid on the way
/// through the model. A reason in a later reason block (the validator accepts any block), a
/// group reason that is proprietary, an unlisted ISO code or stands without `GrpSts`, and
/// agents identified by clearing-system member ids all survive read → write → read.
#[test]
fn reasons_in_any_block_and_group_reasons_survive_a_round_trip() {
    let note = |block: &str| format!("<{block}><AddtlInf>see below</AddtlInf></{block}>\n<{block}>");
    let cases = [
        ("pacs.002.001.10__fednow-oss__rjct.xml", "StsRsnInf"),
        ("pacs.004.001.10__fednow-oss__valid.xml", "RtrRsnInf"),
        ("camt.056.001.08__fednow-oss__valid.xml", "CxlRsnInf"),
        ("camt.029.001.09__fednow-oss__rjcr.xml", "CxlStsRsnInf"),
    ];
    for (name, block) in cases {
        let Some(input) = edited(name, &format!("<{block}>"), &note(block)) else { continue };
        match name.get(..8) {
            Some("pacs.002") => {
                let m = same_after_round_trip!(input, read_pacs002, write_pacs002, "pacs.002.001.10", name);
                assert_eq!(m.txs[0].reason, Some(ReasonCode::AC04));
                assert_eq!(m.txs[0].addtl_inf.as_deref(), Some("see below"));
                // FedNow agents are ABA member ids, not BICs: kept.
                assert_eq!(m.txs[0].instg_agt_mmb.as_ref().map(|c| c.mmb_id.as_str()), Some("091000019"));
            }
            Some("pacs.004") => {
                let m = same_after_round_trip!(input, read_pacs004, write_pacs004, "pacs.004.001.09", name);
                assert_eq!(m.txs[0].reason.cd.as_deref(), Some("AC04"));
            }
            Some("camt.056") => {
                let m = same_after_round_trip!(input, read_camt056, write_camt056, "camt.056.001.08", name);
                assert_eq!(m.txs[0].reason.cd.as_deref(), Some("DUPL"));
            }
            _ => {
                let m = same_after_round_trip!(input, read_camt029, write_camt029, "camt.029.001.09", name);
                assert_eq!(m.txs[0].reason.cd.as_deref(), Some("LEGL"));
            }
        }
    }
    let group = |inner: &str| {
        edited(
            "pacs.002.001.10__fednow-oss__rjct.xml",
            "<TxInfAndSts>",
            &format!(
                "<OrgnlGrpInfAndSts><OrgnlMsgId>20260702021040078FIXTURE001</OrgnlMsgId>\
                 <OrgnlMsgNmId>pacs.008.001.08</OrgnlMsgNmId>{inner}</OrgnlGrpInfAndSts><TxInfAndSts>"
            ),
        )
    };
    let groups = [
        "<GrpSts>RJCT</GrpSts><StsRsnInf><Rsn><Prtry>BADBATCH</Prtry></Rsn></StsRsnInf>",
        "<GrpSts>RJCT</GrpSts><StsRsnInf><Rsn><Cd>BE05</Cd></Rsn></StsRsnInf>",
        "<StsRsnInf><Rsn><Cd>AM04</Cd></Rsn><AddtlInf>no group status</AddtlInf></StsRsnInf>",
    ];
    for (i, inner) in groups.iter().enumerate() {
        let Some(input) = group(inner) else { return };
        let name = format!("pacs002_group_reason_{i}");
        let m = same_after_round_trip!(input, read_pacs002, write_pacs002, "pacs.002.001.10", &name);
        assert!(
            m.grp_reason.is_some() || m.grp_reason_other_cd.is_some() || m.grp_reason_prtry.is_some(),
            "{inner}: {m:?}"
        );
    }
}

/// A header read over a pacs.008.001.10 (or pacs.004.001.10) and written with the .08 (.09)
/// Document the writers produce names the written message, so the output stays valid.
#[test]
fn a_header_names_the_message_written_with_it() {
    let name = "pacs.008.001.08__fednow__participant_to_fednow.xml";
    let Some(v10) =
        edited(name, "<MsgDefIdr>pacs.008.001.08</MsgDefIdr>", "<MsgDefIdr>pacs.008.001.10</MsgDefIdr>")
    else {
        return;
    };
    let v10 = String::from_utf8(v10).unwrap().replace(
        "urn:iso:std:iso:20022:tech:xsd:pacs.008.001.08",
        "urn:iso:std:iso:20022:tech:xsd:pacs.008.001.10",
    );
    let limits = Limits::default();
    let msg = read_pacs008(v10.as_bytes(), &limits).expect("the .10 variant is valid");
    assert_eq!(msg.app_hdr.as_ref().map(|h| h.msg_def_idr.as_str()), Some("pacs.008.001.10"));
    let out = write_pacs008(&msg);
    let again = read_pacs008(&out, &limits)
        .unwrap_or_else(|e| panic!("re-read: {e}\n{}", String::from_utf8_lossy(&out)));
    assert_eq!(again.app_hdr.as_ref().map(|h| h.msg_def_idr.as_str()), Some("pacs.008.001.08"));
    assert_eq!(again.txs, msg.txs);
}

/// A camt.056 cancelling a whole original message (`OrgnlGrpInfAndCxl`) keeps that group
/// through the model; an `Undrlyg` naming nothing is refused (`cxl.nothing`), so the writer
/// cannot turn a group cancellation into a cancellation of nothing that still validates.
#[test]
fn a_group_cancellation_survives_a_round_trip() {
    let name = "camt.056.001.08__fednow-oss__valid.xml";
    let group = "<Undrlyg><OrgnlGrpInfAndCxl><GrpCxlId>GC-1</GrpCxlId>\
                 <OrgnlMsgId>20260702021040078FIXTURE001</OrgnlMsgId><OrgnlMsgNmId>pacs.008.001.08</OrgnlMsgNmId>\
                 <GrpCxl>false</GrpCxl><CxlRsnInf><Rsn><Cd>DUPL</Cd></Rsn></CxlRsnInf></OrgnlGrpInfAndCxl>";
    let Some(input) = edited(name, "<Undrlyg>", group) else { return };
    let m = same_after_round_trip!(input, read_camt056, write_camt056, "camt.056.001.08", "camt056_group");
    let g = m.group.as_ref().expect("the group cancellation is read");
    assert_eq!((g.orgnl_msg_id.as_str(), g.grp_cxl), ("20260702021040078FIXTURE001", Some(false)));
    assert_eq!(g.reason.cd.as_deref(), Some("DUPL"));
    assert_eq!(m.txs.len(), 1);
    let Some(empty) = edited(name, "<Undrlyg>", "<Undrlyg/><Undrlyg>") else { return };
    let e = read_camt056(&empty, &Limits::default()).expect_err("an Undrlyg naming nothing");
    assert_eq!(e.rule_id(), Some("cxl.nothing"), "{e}");
    let mut nothing = m.clone();
    nothing.group = None;
    nothing.txs.clear();
    let e = read_camt056(&write_camt056(&nothing), &Limits::default()).expect_err("written, it is refused");
    assert_eq!(e.rule_id(), Some("cxl.nothing"), "{e}");
}

/// camt.029: every branch of the `Sts` choice, the status of a whole original message, and
/// an assigner that is an agent known by name only survive read → write → read (a duplicate
/// or a rejected modification was re-written as `Conf PDCR`, a name-only agent as a party).
#[test]
fn camt029_statuses_groups_and_agents_survive_a_round_trip() {
    let name = "camt.029.001.09__fednow-oss__rjcr.xml";
    let conf = "<Sts>\n      <Conf>RJCR</Conf>\n    </Sts>";
    let sts = [
        "<Sts><RjctdMod><Cd>AM09</Cd></RjctdMod><RjctdMod><Prtry>NOPE</Prtry></RjctdMod></Sts>",
        "<Sts><DplctOf><Id>CASE-7</Id><Cretr><Pty><Nm>Bank A</Nm></Pty></Cretr><ReopCaseIndctn>false</ReopCaseIndctn></DplctOf></Sts>",
        "<Sts><AssgnmtCxlConf>true</AssgnmtCxlConf></Sts>",
    ];
    for (i, s) in sts.iter().enumerate() {
        let Some(input) = edited(name, conf, s) else { return };
        let m = same_after_round_trip!(
            input,
            read_camt029,
            write_camt029,
            "camt.029.001.09",
            &format!("camt029_sts_{i}")
        );
        assert!(m.sts_conf.is_none(), "{s}");
        match i {
            0 => assert_eq!(
                m.sts_rjctd_mod.iter().filter_map(Reason::code).collect::<Vec<_>>(),
                ["AM09", "NOPE"]
            ),
            1 => assert_eq!(m.sts_dplct_of.as_ref().map(|c| c.id.as_str()), Some("CASE-7")),
            _ => assert_eq!(m.sts_assgnmt_cxl_conf, Some(true)),
        }
    }
    let group = "<CxlDtls><OrgnlGrpInfAndSts><OrgnlMsgId>M-1</OrgnlMsgId><OrgnlMsgNmId>pacs.008.001.08</OrgnlMsgNmId>\
                 <GrpCxlSts>RJCR</GrpCxlSts><CxlStsRsnInf><Rsn><Cd>LEGL</Cd></Rsn></CxlStsRsnInf></OrgnlGrpInfAndSts>";
    let Some(input) = edited(name, "<CxlDtls>", group) else { return };
    let m = same_after_round_trip!(input, read_camt029, write_camt029, "camt.029.001.09", "camt029_group");
    let g = m.group.as_ref().expect("group status read");
    assert_eq!((g.grp_cxl_sts.as_deref(), g.reason.code()), (Some("RJCR"), Some("LEGL")));
    let Some(input) = edited(
        name,
        "<Agt>\n          <FinInstnId>\n            <ClrSysMmbId>",
        "<Agt><FinInstnId><Nm>Bank by name</Nm></FinInstnId></Agt><X>",
    ) else {
        return;
    };
    // Cut the original agent: from the marker to the end of its `</Agt>`.
    let text = String::from_utf8(input).unwrap();
    let (head, rest) = text.split_once("<X>").unwrap();
    let tail = &rest[rest.find("</Agt>").unwrap() + "</Agt>".len()..];
    let input = format!("{head}{tail}").into_bytes();
    let m =
        same_after_round_trip!(input, read_camt029, write_camt029, "camt.029.001.09", "camt029_agent_name");
    assert!(m.assignment.assgnr.is_agent && m.assignment.assgnr.bic.is_none());
    assert_eq!(m.assignment.assgnr.name.as_deref(), Some("Bank by name"));
    let out: String = String::from_utf8(write_camt029(&m)).unwrap().split_whitespace().collect();
    assert!(out.contains("<Assgnr><Agt><FinInstnId><Nm>Bankbyname</Nm>"), "{out}");
}

/// A pacs.009 cover keeps its underlying customer transfer, intermediary agent and
/// remittance lines through read → write → read: re-written, a cover was a plain pacs.009
/// that still claimed (in its header) to be a cover, and the switch forwards legs so.
#[test]
fn a_cover_keeps_its_underlying_customer_transfer() {
    let limits = Limits::default();
    let mut seen = 0;
    for (name, bytes) in samples("valid") {
        if !(name.starts_with("pacs.009") && name.contains("cov")) {
            continue;
        }
        let m = same_after_round_trip!(bytes, read_pacs009, write_pacs009, "pacs.009.001.08", &name);
        let u = m.txs[0].undrlyg_cstmr_cdt_trf.as_ref().unwrap_or_else(|| panic!("{name}: no underlying"));
        assert_eq!(u.name, "UndrlygCstmrCdtTrf");
        assert!(u.children.iter().any(|c| c.name == "Dbtr"), "{name}");
        let written = String::from_utf8(write_pacs009(&m)).unwrap();
        assert!(written.contains("<UndrlygCstmrCdtTrf>"), "{name}");
        if name.contains("mt205cov") {
            assert!(written.contains("<Nm>A Investor</Nm>"), "{name}");
        }
        let again = read_pacs009(written.as_bytes(), &limits).unwrap();
        assert_eq!(again.txs[0].undrlyg_cstmr_cdt_trf, m.txs[0].undrlyg_cstmr_cdt_trf);
        seen += 1;
    }
    assert!(seen >= 2 || samples("valid").is_empty(), "both cover samples checked");
    let Some((_, max)) =
        samples("valid").into_iter().find(|(n, _)| n == "pacs.009.001.08__cbprplus2025__cov_max.xml")
    else {
        return;
    };
    let m = read_pacs009(&max, &limits).unwrap();
    assert!(m.txs[0].intrmy_agt1.is_some());
    assert_eq!(m.txs[0].rmt_inf_ustrd, ["EXUstrd"]);
}
