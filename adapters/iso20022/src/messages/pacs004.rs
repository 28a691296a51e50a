//! pacs.004 payment return: typed model, reader (.001.09 and .001.10) and writer (.001.09).

use crate::envelope::parse_parts;
use crate::error::ValidationError;
use crate::limits::Limits;
use crate::messages::apphdr::{read_app_hdr, AppHdr};
use crate::messages::envelope_writer::write_with_header;
use crate::messages::fields::{
    agent, money, money_at, text_at, write_agent_opt, write_code_choice, write_money, ClearingMember,
};
use crate::messages::related::{
    document_root, read_original, read_reason, write_original_group, write_original_ids, write_reason,
    OriginalRef, Reason,
};
use crate::rule::Rule;
use crate::types::bic::Bic;
use crate::types::money::Money;
use crate::types::uetr::Uetr;
use crate::xml::tree::Tree;
use crate::xml::writer::XmlWriter;
use crate::Text;

/// A pacs.004 payment return.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pacs004 {
    pub app_hdr: Option<AppHdr>,
    pub msg_id: Text,
    pub cre_dt_tm: Text,
    pub nb_of_txs: u32,
    pub ttl_rtrd_intr_bk_sttlm_amt: Option<Money>,
    pub intr_bk_sttlm_dt: Option<Text>,
    pub sttlm_mtd: Text,
    pub clr_sys: Option<Text>,
    pub txs: Vec<ReturnTx>,
}

/// One returned transaction (`TxInf`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReturnTx {
    pub rtr_id: Option<Text>,
    pub original: OriginalRef,
    pub orgnl_intr_bk_sttlm_amt: Option<Money>,
    /// `RtrdIntrBkSttlmAmt`.
    pub amount: Money,
    pub intr_bk_sttlm_dt: Option<Text>,
    pub chrg_br: Option<Text>,
    pub instg_agt: Option<Bic>,
    pub instg_agt_mmb: Option<ClearingMember>,
    pub instd_agt: Option<Bic>,
    pub instd_agt_mmb: Option<ClearingMember>,
    /// The `RtrRsnInf` reason (required; the first block giving one, the first `AddtlInf`).
    pub reason: Reason,
}

/// Reads and fully validates a pacs.004.
///
/// # Errors
/// The first failure found.
pub fn read_pacs004(input: &[u8], limits: &Limits) -> Result<Pacs004, ValidationError> {
    let parts = parse_parts(input, limits)?;
    crate::validate::check_parts(&parts)?;
    let root = document_root(&parts, "pacs.004", "PmtRtr")?;
    let tree = &parts.tree;
    let grp = tree.child(root, "GrpHdr").unwrap_or(root);
    let txs = tree.children_named(root, "TxInf").map(|t| read_tx(tree, t)).collect::<Result<Vec<_>, _>>()?;
    Ok(Pacs004 {
        app_hdr: parts.app_hdr.map(|(n, s)| read_app_hdr(tree, n, &s.msg_def)),
        msg_id: text_at(tree, grp, "MsgId").unwrap_or_default(),
        cre_dt_tm: text_at(tree, grp, "CreDtTm").unwrap_or_default(),
        nb_of_txs: text_at(tree, grp, "NbOfTxs").and_then(|t| t.parse().ok()).unwrap_or(0),
        ttl_rtrd_intr_bk_sttlm_amt: money_at(tree, grp, "TtlRtrdIntrBkSttlmAmt")?,
        intr_bk_sttlm_dt: text_at(tree, grp, "IntrBkSttlmDt"),
        sttlm_mtd: text_at(tree, grp, "SttlmInf/SttlmMtd").unwrap_or_default(),
        clr_sys: text_at(tree, grp, "SttlmInf/ClrSys/Cd"),
        txs,
    })
}

fn read_tx(tree: &Tree<'_>, tx: u32) -> Result<ReturnTx, ValidationError> {
    let amt = tree
        .child(tx, "RtrdIntrBkSttlmAmt")
        .ok_or_else(|| Rule::XsdMissingElement.at(tree.path(tx), "no RtrdIntrBkSttlmAmt"))?;
    let (instg_agt, instg_agt_mmb) = agent(tree, tree.child(tx, "InstgAgt"));
    let (instd_agt, instd_agt_mmb) = agent(tree, tree.child(tx, "InstdAgt"));
    Ok(ReturnTx {
        rtr_id: text_at(tree, tx, "RtrId"),
        original: read_original(tree, tx),
        orgnl_intr_bk_sttlm_amt: money_at(tree, tx, "OrgnlIntrBkSttlmAmt")?,
        amount: money(tree, amt)?,
        intr_bk_sttlm_dt: text_at(tree, tx, "IntrBkSttlmDt"),
        chrg_br: text_at(tree, tx, "ChrgBr"),
        instg_agt,
        instg_agt_mmb,
        instd_agt,
        instd_agt_mmb,
        reason: read_reason(tree, tx, "RtrRsnInf"),
    })
}

/// pacs.004.001.09 namespace.
pub const PACS004_NS: &str = "urn:iso:std:iso:20022:tech:xsd:pacs.004.001.09";

/// Writes a pacs.004.001.09 Document (inside the envelope with the AppHdr when present).
#[must_use]
pub fn write_pacs004(m: &Pacs004) -> Vec<u8> {
    write_with_header(m.app_hdr.as_ref(), PACS004_NS, |w| {
        w.open_ns("Document", PACS004_NS);
        w.open("PmtRtr");
        w.open("GrpHdr");
        w.leaf("MsgId", &m.msg_id);
        w.leaf("CreDtTm", &m.cre_dt_tm);
        w.leaf("NbOfTxs", &m.nb_of_txs.to_string());
        if let Some(t) = &m.ttl_rtrd_intr_bk_sttlm_amt {
            write_money(w, "TtlRtrdIntrBkSttlmAmt", t);
        }
        w.opt("IntrBkSttlmDt", m.intr_bk_sttlm_dt.as_deref());
        w.open("SttlmInf");
        w.leaf("SttlmMtd", &m.sttlm_mtd);
        write_code_choice(w, "ClrSys", m.clr_sys.as_deref(), None);
        w.close("SttlmInf");
        w.close("GrpHdr");
        for tx in &m.txs {
            write_tx(w, tx);
        }
        w.close("PmtRtr");
        w.close("Document");
    })
}

fn write_tx(w: &mut XmlWriter, tx: &ReturnTx) {
    w.open("TxInf");
    w.opt("RtrId", tx.rtr_id.as_deref());
    write_original_group(w, &tx.original);
    write_original_ids(w, &tx.original);
    w.opt("OrgnlUETR", tx.original.orgnl_uetr.as_ref().map(Uetr::as_str));
    if let Some(a) = &tx.orgnl_intr_bk_sttlm_amt {
        write_money(w, "OrgnlIntrBkSttlmAmt", a);
    }
    write_money(w, "RtrdIntrBkSttlmAmt", &tx.amount);
    w.opt("IntrBkSttlmDt", tx.intr_bk_sttlm_dt.as_deref());
    w.opt("ChrgBr", tx.chrg_br.as_deref());
    write_agent_opt(w, "InstgAgt", tx.instg_agt.as_ref(), tx.instg_agt_mmb.as_ref());
    write_agent_opt(w, "InstdAgt", tx.instd_agt.as_ref(), tx.instd_agt_mmb.as_ref());
    write_reason(w, "RtrRsnInf", &tx.reason);
    w.close("TxInf");
}
