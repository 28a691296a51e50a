//! pacs.028 FI-to-FI payment status request (what the switch sends instead of a blind
//! resubmit after a timeout): typed model, reader and writer (pacs.028.001.03).

use crate::envelope::parse_parts;
use crate::error::ValidationError;
use crate::limits::Limits;
use crate::messages::apphdr::{read_app_hdr, AppHdr};
use crate::messages::envelope_writer::write_with_header;
use crate::messages::fields::{agent, text_at, write_agent_opt, ClearingMember};
use crate::messages::related::{
    document_root, read_original, write_original_group, write_original_ids, OriginalRef,
};
use crate::types::bic::Bic;
use crate::types::uetr::Uetr;
use crate::xml::tree::Tree;
use crate::xml::writer::XmlWriter;
use crate::Text;

/// A pacs.028 status request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pacs028 {
    pub app_hdr: Option<AppHdr>,
    pub msg_id: Text,
    pub cre_dt_tm: Text,
    /// Group-level `OrgnlGrpInf` (msg id, msg name id, creation time).
    pub orgnl_grp: Option<OriginalRef>,
    pub txs: Vec<StatusRequestTx>,
}

/// One transaction whose status is requested (`TxInf`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusRequestTx {
    pub sts_req_id: Option<Text>,
    pub original: OriginalRef,
    pub instg_agt: Option<Bic>,
    pub instg_agt_mmb: Option<ClearingMember>,
    pub instd_agt: Option<Bic>,
    pub instd_agt_mmb: Option<ClearingMember>,
}

/// Reads and fully validates a pacs.028.
///
/// # Errors
/// The first failure found.
pub fn read_pacs028(input: &[u8], limits: &Limits) -> Result<Pacs028, ValidationError> {
    let parts = parse_parts(input, limits)?;
    crate::validate::check_parts(&parts)?;
    let root = document_root(&parts, "pacs.028", "FIToFIPmtStsReq")?;
    let tree = &parts.tree;
    let grp = tree.child(root, "GrpHdr").unwrap_or(root);
    let orgnl_grp = tree.child(root, "OrgnlGrpInf").map(|g| OriginalRef {
        orgnl_msg_id: text_at(tree, g, "OrgnlMsgId"),
        orgnl_msg_nm_id: text_at(tree, g, "OrgnlMsgNmId"),
        orgnl_cre_dt_tm: text_at(tree, g, "OrgnlCreDtTm"),
        ..OriginalRef::default()
    });
    let txs = tree.children_named(root, "TxInf").map(|t| read_tx(tree, t)).collect();
    Ok(Pacs028 {
        app_hdr: parts.app_hdr.map(|(n, s)| read_app_hdr(tree, n, &s.msg_def)),
        msg_id: text_at(tree, grp, "MsgId").unwrap_or_default(),
        cre_dt_tm: text_at(tree, grp, "CreDtTm").unwrap_or_default(),
        orgnl_grp,
        txs,
    })
}

fn read_tx(tree: &Tree<'_>, tx: u32) -> StatusRequestTx {
    let (instg_agt, instg_agt_mmb) = agent(tree, tree.child(tx, "InstgAgt"));
    let (instd_agt, instd_agt_mmb) = agent(tree, tree.child(tx, "InstdAgt"));
    StatusRequestTx {
        sts_req_id: text_at(tree, tx, "StsReqId"),
        original: read_original(tree, tx),
        instg_agt,
        instg_agt_mmb,
        instd_agt,
        instd_agt_mmb,
    }
}

/// pacs.028.001.03 namespace.
pub const PACS028_NS: &str = "urn:iso:std:iso:20022:tech:xsd:pacs.028.001.03";

/// Writes a pacs.028.001.03 Document (inside the envelope with the AppHdr when present).
#[must_use]
pub fn write_pacs028(m: &Pacs028) -> Vec<u8> {
    write_with_header(m.app_hdr.as_ref(), PACS028_NS, |w| {
        w.open_ns("Document", PACS028_NS);
        w.open("FIToFIPmtStsReq");
        w.open("GrpHdr");
        w.leaf("MsgId", &m.msg_id);
        w.leaf("CreDtTm", &m.cre_dt_tm);
        w.close("GrpHdr");
        if let Some(g) = &m.orgnl_grp {
            w.open("OrgnlGrpInf");
            w.leaf("OrgnlMsgId", g.orgnl_msg_id.as_deref().unwrap_or(""));
            w.leaf("OrgnlMsgNmId", g.orgnl_msg_nm_id.as_deref().unwrap_or(""));
            w.opt("OrgnlCreDtTm", g.orgnl_cre_dt_tm.as_deref());
            w.close("OrgnlGrpInf");
        }
        for tx in &m.txs {
            write_tx(w, tx);
        }
        w.close("FIToFIPmtStsReq");
        w.close("Document");
    })
}

fn write_tx(w: &mut XmlWriter, tx: &StatusRequestTx) {
    w.open("TxInf");
    w.opt("StsReqId", tx.sts_req_id.as_deref());
    write_original_group(w, &tx.original);
    write_original_ids(w, &tx.original);
    w.opt("OrgnlUETR", tx.original.orgnl_uetr.as_ref().map(Uetr::as_str));
    write_agent_opt(w, "InstgAgt", tx.instg_agt.as_ref(), tx.instg_agt_mmb.as_ref());
    write_agent_opt(w, "InstdAgt", tx.instd_agt.as_ref(), tx.instd_agt_mmb.as_ref());
    w.close("TxInf");
}
