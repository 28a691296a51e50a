//! Every writer's output validates against the official XSD (xmllint, skipped with a notice
//! when it is not installed) and re-reads to an equal model.

mod support;

use support::{samples, split_parts, xmllint, xmllint_available};
use switchyard_iso20022::{
    read_pacs002, read_pacs008, write_pacs002, write_pacs008, Limits, ReasonCode, StatusReport, TxStatus,
    TxStatusInfo,
};

fn lint(xml: &[u8], doc_def: &str, name: &str) {
    if !xmllint_available() {
        println!("NOTICE: xmllint not installed; XSD check of {name} skipped");
        return;
    }
    let (hdr, doc) = split_parts(xml);
    if let Some(h) = hdr {
        xmllint(h.as_bytes(), "head.001.001.02", &format!("{name}-hdr"))
            .unwrap_or_else(|e| panic!("{name} AppHdr: {e}\n{h}"));
    }
    xmllint(doc.as_bytes(), doc_def, name).unwrap_or_else(|e| panic!("{name} Document: {e}\n{doc}"));
}

#[test]
fn written_pacs008_is_xsd_valid_for_every_sample() {
    let limits = Limits::default();
    for (name, bytes) in samples("valid").into_iter().filter(|(n, _)| n.starts_with("pacs.008")) {
        let msg = read_pacs008(&bytes, &limits).unwrap_or_else(|e| panic!("{name}: {e}"));
        let mut copy = msg.clone();
        if let Some(h) = copy.app_hdr.as_mut() {
            h.version = switchyard_iso20022::HeadVersion::V02;
        }
        let out = write_pacs008(&copy);
        lint(&out, "pacs.008.001.08", &name);
        assert_eq!(read_pacs008(&out, &limits).expect("re-read"), copy, "{name}");
    }
}

#[test]
fn written_pacs002_is_xsd_valid_for_every_sample() {
    let limits = Limits::default();
    for (name, bytes) in samples("valid").into_iter().filter(|(n, _)| n.starts_with("pacs.002")) {
        let mut msg = read_pacs002(&bytes, &limits).unwrap_or_else(|e| panic!("{name}: {e}"));
        if let Some(h) = msg.app_hdr.as_mut() {
            h.version = switchyard_iso20022::HeadVersion::V02;
        }
        let out = write_pacs002(&msg);
        lint(&out, "pacs.002.001.10", &name);
        assert_eq!(read_pacs002(&out, &limits).expect("re-read"), msg, "{name}");
    }
}

#[test]
fn built_status_reports_are_xsd_valid() {
    let mut rjct = TxStatusInfo::new(TxStatus::RJCT);
    rjct.reason = Some(ReasonCode::AC01);
    rjct.addtl_inf = Some("IBAN <bad> & \"odd\"".into());
    rjct.orgnl_end_to_end_id = Some("E2E-1".into());
    let reports = [
        StatusReport {
            msg_id: "SW-1".into(),
            cre_dt_tm: "2026-01-01T10:00:00+00:00".into(),
            orgnl_msg_id: "M-1".into(),
            orgnl_msg_nm_id: "pacs.008.001.08".into(),
            txs: vec![TxStatusInfo::new(TxStatus::ACTC), rjct.clone()],
            ..StatusReport::default()
        },
        StatusReport {
            msg_id: "SW-2".into(),
            cre_dt_tm: "2026-01-01T10:00:00Z".into(),
            orgnl_msg_id: "M-2".into(),
            orgnl_msg_nm_id: "pacs.008.001.08".into(),
            grp_sts: Some(TxStatus::RJCT),
            grp_reason: Some(ReasonCode::FF01),
            ..StatusReport::default()
        },
    ];
    for (i, r) in reports.iter().enumerate() {
        let out = write_pacs002(r);
        lint(&out, "pacs.002.001.10", &format!("built-{i}"));
        assert_eq!(&read_pacs002(&out, &Limits::default()).expect("re-read"), r);
    }
}

#[test]
fn built_pacs008_is_xsd_valid() {
    use switchyard_iso20022::{Bic, CreditTransferTx, Currency, Money, Pacs008, Uetr};
    let eur = Currency::parse("EUR").expect("EUR");
    let mut msg = Pacs008::new("SW-8", "2026-01-01T10:00:00+01:00", "CLRG");
    let mut tx = CreditTransferTx::new("E2E-1", Money { minor_units: 123_456, currency: eur });
    tx.uetr = Uetr::parse("eb6305c9-1f7f-49de-aed0-16487c27b42d");
    tx.dbtr_agt = Bic::parse("DEUTDEFF");
    tx.cdtr_agt = Bic::parse("BNPAFRPPXXX");
    tx.dbtr_name = Some("Müller & Söhne <GmbH>".into());
    tx.cdtr_iban = Some("FR1420041010050500013M02606".into());
    tx.chrg_br = Some("SLEV".into()); // mandatory in .001.08; written as SHAR when None
    msg.txs.push(tx);
    msg.nb_of_txs = 1;
    let out = write_pacs008(&msg);
    lint(&out, "pacs.008.001.08", "built-pacs008");
    assert_eq!(read_pacs008(&out, &Limits::default()).expect("re-read"), msg);
}
