//! pacs.009 financial institution credit transfer (the interbank / clearing leg, or the
//! cover of a customer transfer): typed model, reader and writer (pacs.009.001.08).

use crate::envelope::parse_parts;
use crate::error::ValidationError;
use crate::limits::Limits;
use crate::messages::apphdr::{read_app_hdr, AppHdr};
use crate::messages::envelope_writer::write_with_header;
use crate::messages::fields::{
    agent, element_of, money, text_at, texts_of, write_agent, write_agent_opt, write_code_choice,
    write_element, write_money, write_ustrd, ClearingMember, XmlElement,
};
use crate::messages::related::document_root;
use crate::rule::Rule;
use crate::types::bic::Bic;
use crate::types::money::Money;
use crate::types::uetr::Uetr;
use crate::xml::tree::Tree;
use crate::xml::writer::XmlWriter;
use crate::Text;

/// A pacs.009 message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pacs009 {
    pub app_hdr: Option<AppHdr>,
    pub msg_id: Text,
    pub cre_dt_tm: Text,
    pub nb_of_txs: u32,
    pub sttlm_mtd: Text,
    pub clr_sys: Option<Text>,
    pub txs: Vec<FiCreditTransferTx>,
}

/// One FI credit transfer (`CdtTrfTxInf`); debtor and creditor are institutions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FiCreditTransferTx {
    pub instr_id: Option<Text>,
    pub end_to_end_id: Text,
    pub tx_id: Option<Text>,
    pub uetr: Option<Uetr>,
    pub svc_lvl_cd: Option<Text>,
    pub lcl_instrm_prtry: Option<Text>,
    pub amount: Money,
    pub intr_bk_sttlm_dt: Option<Text>,
    pub instg_agt: Option<Bic>,
    pub instg_agt_mmb: Option<ClearingMember>,
    pub instd_agt: Option<Bic>,
    pub instd_agt_mmb: Option<ClearingMember>,
    pub dbtr: Option<Bic>,
    pub dbtr_mmb: Option<ClearingMember>,
    pub dbtr_agt: Option<Bic>,
    pub cdtr_agt: Option<Bic>,
    pub cdtr: Option<Bic>,
    pub cdtr_mmb: Option<ClearingMember>,
    /// `IntrmyAgt1` (BIC).
    pub intrmy_agt1: Option<Bic>,
    /// `RmtInf/Ustrd` lines.
    pub rmt_inf_ustrd: Vec<Text>,
    /// `UndrlygCstmrCdtTrf` of a cover payment (pacs.009 COV), kept whole.
    pub undrlyg_cstmr_cdt_trf: Option<XmlElement>,
}

/// Reads and fully validates a pacs.009.
///
/// # Errors
/// The first failure found.
pub fn read_pacs009(input: &[u8], limits: &Limits) -> Result<Pacs009, ValidationError> {
    let parts = parse_parts(input, limits)?;
    crate::validate::check_parts(&parts)?;
    let root = document_root(&parts, "pacs.009", "FICdtTrf")?;
    let tree = &parts.tree;
    let grp = tree.child(root, "GrpHdr").unwrap_or(root);
    let txs =
        tree.children_named(root, "CdtTrfTxInf").map(|t| read_tx(tree, t)).collect::<Result<Vec<_>, _>>()?;
    Ok(Pacs009 {
        app_hdr: parts.app_hdr.map(|(n, s)| read_app_hdr(tree, n, &s.msg_def)),
        msg_id: text_at(tree, grp, "MsgId").unwrap_or_default(),
        cre_dt_tm: text_at(tree, grp, "CreDtTm").unwrap_or_default(),
        nb_of_txs: text_at(tree, grp, "NbOfTxs").and_then(|t| t.parse().ok()).unwrap_or(0),
        sttlm_mtd: text_at(tree, grp, "SttlmInf/SttlmMtd").unwrap_or_default(),
        clr_sys: text_at(tree, grp, "SttlmInf/ClrSys/Cd"),
        txs,
    })
}

fn read_tx(tree: &Tree<'_>, tx: u32) -> Result<FiCreditTransferTx, ValidationError> {
    let t = |p: &str| text_at(tree, tx, p);
    let amt = tree
        .child(tx, "IntrBkSttlmAmt")
        .ok_or_else(|| Rule::XsdMissingElement.at(tree.path(tx), "no IntrBkSttlmAmt"))?;
    let (instg_agt, instg_agt_mmb) = agent(tree, tree.child(tx, "InstgAgt"));
    let (instd_agt, instd_agt_mmb) = agent(tree, tree.child(tx, "InstdAgt"));
    let (dbtr, dbtr_mmb) = agent(tree, tree.child(tx, "Dbtr"));
    let (cdtr, cdtr_mmb) = agent(tree, tree.child(tx, "Cdtr"));
    Ok(FiCreditTransferTx {
        instr_id: t("PmtId/InstrId"),
        end_to_end_id: t("PmtId/EndToEndId").unwrap_or_default(),
        tx_id: t("PmtId/TxId"),
        uetr: t("PmtId/UETR").and_then(|u| Uetr::parse(&u)),
        svc_lvl_cd: t("PmtTpInf/SvcLvl/Cd"),
        lcl_instrm_prtry: t("PmtTpInf/LclInstrm/Prtry"),
        amount: money(tree, amt)?,
        intr_bk_sttlm_dt: t("IntrBkSttlmDt"),
        instg_agt,
        instg_agt_mmb,
        instd_agt,
        instd_agt_mmb,
        dbtr,
        dbtr_mmb,
        dbtr_agt: agent(tree, tree.child(tx, "DbtrAgt")).0,
        cdtr_agt: agent(tree, tree.child(tx, "CdtrAgt")).0,
        cdtr,
        cdtr_mmb,
        intrmy_agt1: agent(tree, tree.child(tx, "IntrmyAgt1")).0,
        rmt_inf_ustrd: tree.child(tx, "RmtInf").map(|r| texts_of(tree, r, "Ustrd")).unwrap_or_default(),
        undrlyg_cstmr_cdt_trf: tree.child(tx, "UndrlygCstmrCdtTrf").map(|u| element_of(tree, u)),
    })
}

/// pacs.009.001.08 namespace.
pub const PACS009_NS: &str = "urn:iso:std:iso:20022:tech:xsd:pacs.009.001.08";

/// Writes a pacs.009.001.08 Document (inside the envelope with the AppHdr when present).
#[must_use]
pub fn write_pacs009(m: &Pacs009) -> Vec<u8> {
    write_with_header(m.app_hdr.as_ref(), PACS009_NS, |w| {
        w.open_ns("Document", PACS009_NS);
        w.open("FICdtTrf");
        w.open("GrpHdr");
        w.leaf("MsgId", &m.msg_id);
        w.leaf("CreDtTm", &m.cre_dt_tm);
        w.leaf("NbOfTxs", &m.nb_of_txs.to_string());
        w.open("SttlmInf");
        w.leaf("SttlmMtd", &m.sttlm_mtd);
        write_code_choice(w, "ClrSys", m.clr_sys.as_deref(), None);
        w.close("SttlmInf");
        w.close("GrpHdr");
        for tx in &m.txs {
            write_tx(w, tx);
        }
        w.close("FICdtTrf");
        w.close("Document");
    })
}

fn write_tx(w: &mut XmlWriter, tx: &FiCreditTransferTx) {
    w.open("CdtTrfTxInf");
    w.open("PmtId");
    w.opt("InstrId", tx.instr_id.as_deref());
    w.leaf("EndToEndId", &tx.end_to_end_id);
    w.opt("TxId", tx.tx_id.as_deref());
    w.opt("UETR", tx.uetr.as_ref().map(Uetr::as_str));
    w.close("PmtId");
    if tx.svc_lvl_cd.is_some() || tx.lcl_instrm_prtry.is_some() {
        w.open("PmtTpInf");
        write_code_choice(w, "SvcLvl", tx.svc_lvl_cd.as_deref(), None);
        write_code_choice(w, "LclInstrm", None, tx.lcl_instrm_prtry.as_deref());
        w.close("PmtTpInf");
    }
    write_money(w, "IntrBkSttlmAmt", &tx.amount);
    w.opt("IntrBkSttlmDt", tx.intr_bk_sttlm_dt.as_deref());
    write_agent_opt(w, "InstgAgt", tx.instg_agt.as_ref(), tx.instg_agt_mmb.as_ref());
    write_agent_opt(w, "InstdAgt", tx.instd_agt.as_ref(), tx.instd_agt_mmb.as_ref());
    write_agent_opt(w, "IntrmyAgt1", tx.intrmy_agt1.as_ref(), None);
    write_agent(w, "Dbtr", tx.dbtr.as_ref(), tx.dbtr_mmb.as_ref());
    write_agent_opt(w, "DbtrAgt", tx.dbtr_agt.as_ref(), None);
    write_agent_opt(w, "CdtrAgt", tx.cdtr_agt.as_ref(), None);
    write_agent(w, "Cdtr", tx.cdtr.as_ref(), tx.cdtr_mmb.as_ref());
    write_ustrd(w, &tx.rmt_inf_ustrd);
    if let Some(u) = &tx.undrlyg_cstmr_cdt_trf {
        write_element(w, u);
    }
    w.close("CdtTrfTxInf");
}
