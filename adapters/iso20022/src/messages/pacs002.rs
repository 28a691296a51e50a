//! pacs.002 FI-to-FI payment status report: typed model, reader and writer (pacs.002.001.10).
//!
//! Original message references are read from `OrgnlGrpInfAndSts` when present, otherwise from
//! the first transaction's `OrgnlGrpInf` (the CBPR+ shape). The writer emits
//! `OrgnlGrpInfAndSts` when there is a group status or no transaction, and per-transaction
//! `OrgnlGrpInf` otherwise, so both shapes round-trip to the same model.

use crate::envelope::parse_parts;
use crate::error::ValidationError;
use crate::limits::Limits;
use crate::messages::apphdr::read_app_hdr;
use crate::messages::apphdr::AppHdr;
use crate::messages::fields::{agent, text_at, write_agent_opt, ClearingMember};
use crate::messages::status::TxStatus;
use crate::reason::ReasonCode;
use crate::rule::Rule;
use crate::types::bic::Bic;
use crate::types::uetr::Uetr;
use crate::xml::tree::Tree;
use crate::xml::writer::XmlWriter;
use crate::Text;

/// A pacs.002 status report.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct StatusReport {
    pub app_hdr: Option<AppHdr>,
    pub msg_id: Text,
    pub cre_dt_tm: Text,
    pub instg_agt: Option<Bic>,
    pub instd_agt: Option<Bic>,
    /// `GrpHdr/InstgAgt` identified by a clearing-system member id (FedNow's ABA numbers).
    pub instg_agt_mmb: Option<ClearingMember>,
    /// `GrpHdr/InstdAgt` identified by a clearing-system member id.
    pub instd_agt_mmb: Option<ClearingMember>,
    pub orgnl_msg_id: Text,
    /// e.g. `pacs.008.001.08`.
    pub orgnl_msg_nm_id: Text,
    pub orgnl_cre_dt_tm: Option<Text>,
    pub grp_sts: Option<TxStatus>,
    /// Group-level reason (`OrgnlGrpInfAndSts/StsRsnInf/Rsn/Cd`), a code this crate knows.
    pub grp_reason: Option<ReasonCode>,
    /// Group-level `Rsn/Cd` when it is an ISO code outside [`ReasonCode`].
    pub grp_reason_other_cd: Option<Text>,
    /// Group-level `Rsn/Prtry`.
    pub grp_reason_prtry: Option<Text>,
    pub grp_addtl_inf: Option<Text>,
    pub txs: Vec<TxStatusInfo>,
}

/// One `TxInfAndSts`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TxStatusInfo {
    pub orgnl_instr_id: Option<Text>,
    pub orgnl_end_to_end_id: Option<Text>,
    pub orgnl_tx_id: Option<Text>,
    pub orgnl_uetr: Option<Uetr>,
    /// The status; [`TxStatus::PDNG`] when the wire code is not one of ours (see `tx_sts_unlisted`).
    pub tx_sts: TxStatus,
    /// The wire `TxSts` when it is a code outside [`TxStatus`] (written back verbatim).
    pub tx_sts_unlisted: Option<Text>,
    /// `StsRsnInf/Rsn/Cd` when it is a code this crate knows.
    pub reason: Option<ReasonCode>,
    /// `StsRsnInf/Rsn/Cd` when it is an ISO code outside [`ReasonCode`].
    pub reason_other_cd: Option<Text>,
    /// `StsRsnInf/Rsn/Prtry`.
    pub reason_prtry: Option<Text>,
    /// The first `StsRsnInf/AddtlInf` (the reason fields come from the first block with a `Rsn`).
    pub addtl_inf: Option<Text>,
    pub accptnc_dt_tm: Option<Text>,
    pub fctv_intr_bk_sttlm_dt: Option<Text>,
    pub clr_sys_ref: Option<Text>,
    pub instg_agt: Option<Bic>,
    pub instd_agt: Option<Bic>,
    /// `InstgAgt` identified by a clearing-system member id (FedNow's ABA numbers).
    pub instg_agt_mmb: Option<ClearingMember>,
    /// `InstdAgt` identified by a clearing-system member id.
    pub instd_agt_mmb: Option<ClearingMember>,
}

impl TxStatusInfo {
    /// A status line with only the status set.
    #[must_use]
    pub fn new(tx_sts: TxStatus) -> Self {
        TxStatusInfo {
            orgnl_instr_id: None,
            orgnl_end_to_end_id: None,
            orgnl_tx_id: None,
            orgnl_uetr: None,
            tx_sts,
            tx_sts_unlisted: None,
            reason: None,
            reason_other_cd: None,
            reason_prtry: None,
            addtl_inf: None,
            accptnc_dt_tm: None,
            fctv_intr_bk_sttlm_dt: None,
            clr_sys_ref: None,
            instg_agt: None,
            instd_agt: None,
            instg_agt_mmb: None,
            instd_agt_mmb: None,
        }
    }

    /// The ISO reason code as written (`StsRsnInf/Rsn/Cd`), known to this crate or not.
    #[must_use]
    pub fn reason_code(&self) -> Option<&str> {
        self.reason.map(|r| r.as_str()).or(self.reason_other_cd.as_deref())
    }
}

/// Reads and fully validates a pacs.002 (bare or with AppHdr).
///
/// # Errors
/// The first failure found.
pub fn read_pacs002(input: &[u8], limits: &Limits) -> Result<StatusReport, ValidationError> {
    let parts = parse_parts(input, limits)?;
    crate::validate::check_parts(&parts)?;
    let (doc, s) = parts.document.ok_or_else(|| Rule::WrongMessageType.at("/", "no Document"))?;
    if !s.msg_def.starts_with("pacs.002") {
        return Err(Rule::WrongMessageType.at("/Document", format!("expected pacs.002, found {}", s.msg_def)));
    }
    let tree = &parts.tree;
    let root = tree
        .child(doc, "FIToFIPmtStsRpt")
        .ok_or_else(|| Rule::WrongMessageType.at("/Document", "no FIToFIPmtStsRpt"))?;
    let grp = tree.child(root, "GrpHdr").unwrap_or(root);
    let og = tree.child(root, "OrgnlGrpInfAndSts");
    let tx_nodes: Vec<u32> = tree.children_named(root, "TxInfAndSts").collect();
    let orig = og.or_else(|| tx_nodes.first().and_then(|&t| tree.child(t, "OrgnlGrpInf")));
    let grp_sts = og.and_then(|g| text_at(tree, g, "GrpSts")).and_then(|s| TxStatus::parse(&s));
    let (grp_reason, grp_reason_other_cd, grp_reason_prtry, grp_addtl_inf) = reason(tree, og);
    let txs = tx_nodes.iter().map(|&t| read_tx(tree, t, grp_sts)).collect::<Result<Vec<_>, _>>()?;
    let (instg_agt, instg_agt_mmb) = agent(tree, tree.child(grp, "InstgAgt"));
    let (instd_agt, instd_agt_mmb) = agent(tree, tree.child(grp, "InstdAgt"));
    Ok(StatusReport {
        app_hdr: parts.app_hdr.map(|(n, s)| read_app_hdr(tree, n, &s.msg_def)),
        msg_id: text_at(tree, grp, "MsgId").unwrap_or_default(),
        cre_dt_tm: text_at(tree, grp, "CreDtTm").unwrap_or_default(),
        instg_agt,
        instd_agt,
        instg_agt_mmb,
        instd_agt_mmb,
        orgnl_msg_id: orig.and_then(|o| text_at(tree, o, "OrgnlMsgId")).unwrap_or_default(),
        orgnl_msg_nm_id: orig.and_then(|o| text_at(tree, o, "OrgnlMsgNmId")).unwrap_or_default(),
        orgnl_cre_dt_tm: orig.and_then(|o| text_at(tree, o, "OrgnlCreDtTm")),
        grp_sts,
        grp_reason,
        grp_reason_other_cd,
        grp_reason_prtry,
        grp_addtl_inf,
        txs,
    })
}

type Reason = (Option<ReasonCode>, Option<Text>, Option<Text>, Option<Text>);

/// `(known code, other code, proprietary, AddtlInf)`: the reason of the first `StsRsnInf`
/// that gives one (the validator looks at every block, so the model does too), and the first
/// `AddtlInf` of any block.
fn reason(tree: &Tree<'_>, node: Option<u32>) -> Reason {
    let Some(node) = node else { return (None, None, None, None) };
    let rsn = tree.children_named(node, "StsRsnInf").find_map(|b| tree.child(b, "Rsn"));
    let addtl = tree.children_named(node, "StsRsnInf").find_map(|b| text_at(tree, b, "AddtlInf"));
    let cd = rsn.and_then(|r| text_at(tree, r, "Cd"));
    let known = cd.as_deref().and_then(ReasonCode::parse);
    let other = if known.is_none() { cd } else { None };
    (known, other, rsn.and_then(|r| text_at(tree, r, "Prtry")), addtl)
}

fn read_tx(tree: &Tree<'_>, tx: u32, grp_sts: Option<TxStatus>) -> Result<TxStatusInfo, ValidationError> {
    let t = |p: &str| text_at(tree, tx, p);
    let wire = t("TxSts");
    let unlisted = wire.clone().filter(|s| TxStatus::parse(s).is_none());
    let tx_sts = match (&wire, &unlisted) {
        (_, Some(_)) => TxStatus::PDNG,
        (Some(s), None) => TxStatus::parse(s).unwrap_or(TxStatus::PDNG),
        (None, _) => {
            grp_sts.ok_or_else(|| Rule::StatusUnknown.at(tree.path(tx), "no TxSts and no group status"))?
        }
    };
    let (reason, reason_other_cd, reason_prtry, addtl_inf) = reason(tree, Some(tx));
    let (instg_agt, instg_agt_mmb) = agent(tree, tree.child(tx, "InstgAgt"));
    let (instd_agt, instd_agt_mmb) = agent(tree, tree.child(tx, "InstdAgt"));
    Ok(TxStatusInfo {
        orgnl_instr_id: t("OrgnlInstrId"),
        orgnl_end_to_end_id: t("OrgnlEndToEndId"),
        orgnl_tx_id: t("OrgnlTxId"),
        orgnl_uetr: t("OrgnlUETR").and_then(|u| Uetr::parse(&u)),
        tx_sts,
        tx_sts_unlisted: unlisted,
        reason,
        reason_other_cd,
        reason_prtry,
        addtl_inf,
        accptnc_dt_tm: t("AccptncDtTm"),
        fctv_intr_bk_sttlm_dt: t("FctvIntrBkSttlmDt/Dt"),
        clr_sys_ref: t("ClrSysRef"),
        instg_agt,
        instd_agt,
        instg_agt_mmb,
        instd_agt_mmb,
    })
}

/// pacs.002.001.10 namespace.
pub const PACS002_NS: &str = "urn:iso:std:iso:20022:tech:xsd:pacs.002.001.10";

/// Writes a pacs.002.001.10 Document (inside the envelope with the AppHdr when present).
#[must_use]
pub fn write_pacs002(r: &StatusReport) -> Vec<u8> {
    crate::messages::envelope_writer::write_with_header(r.app_hdr.as_ref(), PACS002_NS, |w| {
        write_document(w, r);
    })
}

fn write_document(w: &mut XmlWriter, r: &StatusReport) {
    w.open_ns("Document", PACS002_NS);
    w.open("FIToFIPmtStsRpt");
    w.open("GrpHdr");
    w.leaf("MsgId", &r.msg_id);
    w.leaf("CreDtTm", &r.cre_dt_tm);
    write_agent_opt(w, "InstgAgt", r.instg_agt.as_ref(), r.instg_agt_mmb.as_ref());
    write_agent_opt(w, "InstdAgt", r.instd_agt.as_ref(), r.instd_agt_mmb.as_ref());
    w.close("GrpHdr");
    let group_reason = r.grp_reason.is_some()
        || r.grp_reason_other_cd.is_some()
        || r.grp_reason_prtry.is_some()
        || r.grp_addtl_inf.is_some();
    let group_level = r.grp_sts.is_some() || group_reason || r.txs.is_empty();
    // A report read without any original group reference (both are optional in the schema)
    // is written without one: an empty mandatory OrgnlMsgId would not be schema-valid.
    let has_original = !r.orgnl_msg_id.is_empty();
    if group_level && (has_original || r.grp_sts.is_some() || group_reason) {
        w.open("OrgnlGrpInfAndSts");
        write_original(w, r);
        w.opt("GrpSts", r.grp_sts.as_ref().map(TxStatus::as_str));
        let prtry = if r.grp_reason.is_none() && r.grp_reason_other_cd.is_none() {
            r.grp_reason_prtry.as_deref()
        } else {
            None
        };
        write_reason(w, r.grp_reason, r.grp_reason_other_cd.as_deref(), prtry, r.grp_addtl_inf.as_deref());
        w.close("OrgnlGrpInfAndSts");
    }
    for tx in &r.txs {
        write_tx(w, r, tx, !group_level && has_original);
    }
    w.close("FIToFIPmtStsRpt");
    w.close("Document");
}

fn write_original(w: &mut XmlWriter, r: &StatusReport) {
    w.leaf("OrgnlMsgId", &r.orgnl_msg_id);
    w.leaf("OrgnlMsgNmId", &r.orgnl_msg_nm_id);
    w.opt("OrgnlCreDtTm", r.orgnl_cre_dt_tm.as_deref());
}

fn write_reason(
    w: &mut XmlWriter,
    code: Option<ReasonCode>,
    other: Option<&str>,
    prtry: Option<&str>,
    addtl: Option<&str>,
) {
    let cd = code.as_ref().map(ReasonCode::as_str).or(other);
    if cd.is_none() && prtry.is_none() && addtl.is_none() {
        return;
    }
    w.open("StsRsnInf");
    if cd.is_some() || prtry.is_some() {
        w.open("Rsn");
        match cd {
            Some(c) => w.leaf("Cd", c),
            None => w.opt("Prtry", prtry),
        }
        w.close("Rsn");
    }
    w.opt("AddtlInf", addtl);
    w.close("StsRsnInf");
}

fn write_tx(w: &mut XmlWriter, r: &StatusReport, tx: &TxStatusInfo, with_original: bool) {
    w.open("TxInfAndSts");
    if with_original {
        w.open("OrgnlGrpInf");
        write_original(w, r);
        w.close("OrgnlGrpInf");
    }
    w.opt("OrgnlInstrId", tx.orgnl_instr_id.as_deref());
    w.opt("OrgnlEndToEndId", tx.orgnl_end_to_end_id.as_deref());
    w.opt("OrgnlTxId", tx.orgnl_tx_id.as_deref());
    w.opt("OrgnlUETR", tx.orgnl_uetr.as_ref().map(Uetr::as_str));
    w.leaf("TxSts", tx.tx_sts_unlisted.as_deref().unwrap_or(tx.tx_sts.as_str()));
    let prtry =
        if tx.reason.is_none() && tx.reason_other_cd.is_none() { tx.reason_prtry.as_deref() } else { None };
    write_reason(w, tx.reason, tx.reason_other_cd.as_deref(), prtry, tx.addtl_inf.as_deref());
    w.opt("AccptncDtTm", tx.accptnc_dt_tm.as_deref());
    if let Some(d) = &tx.fctv_intr_bk_sttlm_dt {
        w.open("FctvIntrBkSttlmDt");
        w.leaf("Dt", d);
        w.close("FctvIntrBkSttlmDt");
    }
    w.opt("ClrSysRef", tx.clr_sys_ref.as_deref());
    write_agent_opt(w, "InstgAgt", tx.instg_agt.as_ref(), tx.instg_agt_mmb.as_ref());
    write_agent_opt(w, "InstdAgt", tx.instd_agt.as_ref(), tx.instd_agt_mmb.as_ref());
    w.close("TxInfAndSts");
}

#[cfg(test)]
mod tests {
    use super::{ReasonCode, TxStatus, TxStatusInfo};

    /// The reason code is the known code, else the unlisted ISO code, never the proprietary
    /// reason.
    #[test]
    fn reason_code_is_the_iso_code_as_written() {
        let mut tx = TxStatusInfo::new(TxStatus::RJCT);
        tx.reason_prtry = Some("NOTFOUND".into());
        assert_eq!(tx.reason_code(), None);
        tx.reason_other_cd = Some("XT99".into());
        assert_eq!(tx.reason_code(), Some("XT99"));
        tx.reason = Some(ReasonCode::AM04);
        assert_eq!(tx.reason_code(), Some("AM04"));
    }
}
