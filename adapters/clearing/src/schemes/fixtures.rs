//! Test fixtures shared by the scheme tests: the bench ZAR template, the public CBPR+ sample,
//! leg parties, and the checks every scheme's tests repeat (write/read round trip, both doors
//! of validation agreeing).

use switchyard_iso20022::{
    read_pacs008, read_pacs009, validate_with_profile, write_pacs008, write_pacs009, Bic, Currency,
    FiCreditTransferTx, Limits, Money, Pacs008, Pacs009, ReasonCode, Uetr, ValidationError,
};

use super::{ClearingScheme, LegParties};

/// The load-generation template: a ZAR CLRG pacs.008 between two fictitious ZA banks.
const TEMPLATE: &[u8] = include_bytes!("../../../../bench/templates/pacs008.xml");

/// The public CBPR+ minimal STP sample, when the shared ISO 20022 material is present.
const CBPR_SAMPLE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/iso20022/samples/valid/pacs.008.001.08__cbprplus2025__stp_min.xml"
);

pub(crate) fn template() -> Pacs008 {
    read_pacs008(TEMPLATE, &Limits::default()).expect("the bench template is a valid pacs.008")
}

/// The CBPR+ sample, or `None` (with a notice) when the shared material is absent.
pub(crate) fn cbpr_sample() -> Option<Pacs008> {
    let Ok(bytes) = std::fs::read(CBPR_SAMPLE) else {
        println!("NOTICE: CBPR+ sample not found; skipping");
        return None;
    };
    Some(read_pacs008(&bytes, &Limits::default()).expect("the CBPR+ sample is a valid pacs.008"))
}

pub(crate) fn parties() -> LegParties {
    LegParties {
        instructing: Bic::parse("ZYAAZAJJXXX").expect("BIC"),
        instructed: Bic::parse("ZYBBZAJJXXX").expect("BIC"),
    }
}

pub(crate) fn zar(minor_units: i64) -> Money {
    Money { minor_units, currency: Currency::parse("ZAR").expect("ZAR") }
}

pub(crate) fn money(code: &str, minor_units: i64) -> Money {
    Money { minor_units, currency: Currency::parse(code).expect("currency") }
}

/// The template with its one transaction's amount replaced.
pub(crate) fn template_with_amount(amount: Money) -> Pacs008 {
    let mut msg = template();
    msg.txs[0].amount = amount;
    msg
}

/// Asserts `result` failed with `code` and rule `id`.
pub(crate) fn assert_rejected(result: Result<(), ValidationError>, code: ReasonCode, id: &str) {
    let err = result.expect_err("expected a rejection");
    assert_eq!((err.code, err.rule_id()), (code, Some(id)), "{err}");
}

/// Writes `msg`, reads it back, and checks the model survived and the scheme's profile hook
/// gives the same verdict as the typed validation.
pub(crate) fn assert_round_trip(scheme: &dyn ClearingScheme, msg: &Pacs008) {
    let bytes = write_pacs008(msg);
    let text = String::from_utf8_lossy(&bytes);
    let again = read_pacs008(&bytes, &Limits::default()).unwrap_or_else(|e| panic!("{e}\n{text}"));
    assert_eq!(&again, msg, "round trip changed the leg");
    let via_view = validate_with_profile(&bytes, &Limits::default(), scheme.as_profile()).map(|_| ());
    assert_eq!(via_view, scheme.validate(msg), "the two doors disagree");
}

/// Asserts both doors reject `msg` with the same code (the typed door is given by `typed`).
pub(crate) fn assert_view_agrees(scheme: &dyn ClearingScheme, msg: &Pacs008) {
    let bytes = write_pacs008(msg);
    let via_view = validate_with_profile(&bytes, &Limits::default(), scheme.as_profile()).map(|_| ());
    assert_eq!(via_view.map_err(|e| e.code), scheme.validate(msg).map_err(|e| e.code));
}

/// `msg` written, with `CdtrAcct/Prxy` (type `kind`, id `id`) added by text: the typed model
/// cannot carry a proxy.
pub(crate) fn bytes_with_proxy(msg: &Pacs008, kind: &str, id: &str) -> Vec<u8> {
    let xml = String::from_utf8(write_pacs008(msg)).expect("UTF-8");
    let proxy = format!("<Prxy><Tp><Cd>{kind}</Cd></Tp><Id>{id}</Id></Prxy></CdtrAcct>");
    let (head, tail) = xml.split_once("</CdtrAcct>").expect("a creditor account");
    format!("{head}{proxy}{tail}").into_bytes()
}

/// An interbank transfer (pacs.009) of R1,000,000.00 from ZYAAZAJJ to ZYBBZAJJ, settled CLRG.
pub(crate) fn fi_template() -> Pacs009 {
    let bic = |b: &str| Some(Bic::parse(b).expect("BIC"));
    Pacs009 {
        app_hdr: None,
        msg_id: "FI-TEMPLATE-1".into(),
        cre_dt_tm: "2026-11-23T08:00:00.000+02:00".into(),
        nb_of_txs: 1,
        sttlm_mtd: "CLRG".into(),
        clr_sys: None,
        txs: vec![FiCreditTransferTx {
            instr_id: Some("FI-INSTR-1".into()),
            end_to_end_id: "FI-E2E-1".into(),
            tx_id: Some("FI-TX-1".into()),
            uetr: Uetr::parse("8a562c67-ca16-48ba-b074-65581be6f011"),
            svc_lvl_cd: None,
            lcl_instrm_prtry: None,
            amount: zar(100_000_000),
            intr_bk_sttlm_dt: Some("2026-11-23".into()),
            instg_agt: bic("ZYAAZAJJXXX"),
            instg_agt_mmb: None,
            instd_agt: bic("ZYBBZAJJXXX"),
            instd_agt_mmb: None,
            dbtr: bic("ZYAAZAJJXXX"),
            dbtr_mmb: None,
            dbtr_agt: None,
            cdtr_agt: None,
            cdtr: bic("ZYBBZAJJXXX"),
            cdtr_mmb: None,
            intrmy_agt1: None,
            rmt_inf_ustrd: Vec::new(),
            undrlyg_cstmr_cdt_trf: None,
        }],
    }
}

/// Writes a pacs.009 leg, reads it back, and checks the model survived.
pub(crate) fn assert_fi_round_trip(msg: &Pacs009) {
    let bytes = write_pacs009(msg);
    let again = read_pacs009(&bytes, &Limits::default())
        .unwrap_or_else(|e| panic!("{e}\n{}", String::from_utf8_lossy(&bytes)));
    assert_eq!(&again, msg, "round trip changed the pacs.009 leg");
}
