//! camt.056 FI-to-FI payment cancellation request (also FedNow's return request): typed
//! model, reader and writer (camt.056.001.08). All `Undrlyg/TxInf` are read into one list and
//! written back under a single `Undrlyg`, with the cancellation of a whole original message
//! (`OrgnlGrpInfAndCxl`) of the first `Undrlyg` that has one.

use crate::envelope::parse_parts;
use crate::error::ValidationError;
use crate::limits::Limits;
use crate::messages::apphdr::{read_app_hdr, AppHdr};
use crate::messages::envelope_writer::write_with_header;
use crate::messages::fields::{money_at, text_at, write_money};
use crate::messages::related::{
    document_root, read_assignment, read_original, read_reason, write_assignment, write_original_group,
    write_original_ids, write_reason, Assignment, OriginalRef, Reason,
};
use crate::types::money::Money;
use crate::types::uetr::Uetr;
use crate::xml::tree::Tree;
use crate::xml::writer::XmlWriter;
use crate::Text;

/// A camt.056 cancellation request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Camt056 {
    pub app_hdr: Option<AppHdr>,
    pub assignment: Assignment,
    /// The cancellation of a whole original message, when the request names one.
    pub group: Option<GroupCancellation>,
    pub txs: Vec<CancellationTx>,
}

/// `Undrlyg/OrgnlGrpInfAndCxl`: a whole original message to cancel (with its reason when no
/// transaction is named one by one).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupCancellation {
    pub grp_cxl_id: Option<Text>,
    pub orgnl_msg_id: Text,
    /// e.g. `pacs.008.001.08`.
    pub orgnl_msg_nm_id: Text,
    pub orgnl_cre_dt_tm: Option<Text>,
    /// `GrpCxl`: whether the whole group is to be cancelled.
    pub grp_cxl: Option<bool>,
    /// The `CxlRsnInf` reason (the first block giving one, the first `AddtlInf`).
    pub reason: Reason,
}

/// One transaction to cancel (`Undrlyg/TxInf`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CancellationTx {
    pub cxl_id: Option<Text>,
    pub original: OriginalRef,
    pub orgnl_intr_bk_sttlm_amt: Option<Money>,
    pub orgnl_intr_bk_sttlm_dt: Option<Text>,
    /// The `CxlRsnInf` reason (required; the first block giving one, the first `AddtlInf`).
    pub reason: Reason,
}

/// Reads and fully validates a camt.056.
///
/// # Errors
/// The first failure found.
pub fn read_camt056(input: &[u8], limits: &Limits) -> Result<Camt056, ValidationError> {
    let parts = parse_parts(input, limits)?;
    crate::validate::check_parts(&parts)?;
    let root = document_root(&parts, "camt.056", "FIToFIPmtCxlReq")?;
    let tree = &parts.tree;
    let mut txs = Vec::new();
    let mut group = None;
    for u in tree.children_named(root, "Undrlyg") {
        if group.is_none() {
            group = tree.child(u, "OrgnlGrpInfAndCxl").map(|g| read_group(tree, g));
        }
        for t in tree.children_named(u, "TxInf") {
            txs.push(read_tx(tree, t)?);
        }
    }
    Ok(Camt056 {
        app_hdr: parts.app_hdr.map(|(n, s)| read_app_hdr(tree, n, &s.msg_def)),
        assignment: read_assignment(tree, root),
        group,
        txs,
    })
}

fn read_group(tree: &Tree<'_>, g: u32) -> GroupCancellation {
    let t = |p: &str| text_at(tree, g, p);
    GroupCancellation {
        grp_cxl_id: t("GrpCxlId"),
        orgnl_msg_id: t("OrgnlMsgId").unwrap_or_default(),
        orgnl_msg_nm_id: t("OrgnlMsgNmId").unwrap_or_default(),
        orgnl_cre_dt_tm: t("OrgnlCreDtTm"),
        grp_cxl: t("GrpCxl").map(|v| crate::schema::lexical::boolean_value(&v)),
        reason: read_reason(tree, g, "CxlRsnInf"),
    }
}

fn read_tx(tree: &Tree<'_>, tx: u32) -> Result<CancellationTx, ValidationError> {
    Ok(CancellationTx {
        cxl_id: text_at(tree, tx, "CxlId"),
        original: read_original(tree, tx),
        orgnl_intr_bk_sttlm_amt: money_at(tree, tx, "OrgnlIntrBkSttlmAmt")?,
        orgnl_intr_bk_sttlm_dt: text_at(tree, tx, "OrgnlIntrBkSttlmDt"),
        reason: read_reason(tree, tx, "CxlRsnInf"),
    })
}

/// camt.056.001.08 namespace.
pub const CAMT056_NS: &str = "urn:iso:std:iso:20022:tech:xsd:camt.056.001.08";

/// Writes a camt.056.001.08 Document (inside the envelope with the AppHdr when present).
#[must_use]
pub fn write_camt056(m: &Camt056) -> Vec<u8> {
    write_with_header(m.app_hdr.as_ref(), CAMT056_NS, |w| {
        w.open_ns("Document", CAMT056_NS);
        w.open("FIToFIPmtCxlReq");
        write_assignment(w, &m.assignment);
        w.open("Undrlyg");
        if let Some(g) = &m.group {
            w.open("OrgnlGrpInfAndCxl");
            w.opt("GrpCxlId", g.grp_cxl_id.as_deref());
            w.leaf("OrgnlMsgId", &g.orgnl_msg_id);
            w.leaf("OrgnlMsgNmId", &g.orgnl_msg_nm_id);
            w.opt("OrgnlCreDtTm", g.orgnl_cre_dt_tm.as_deref());
            w.opt("GrpCxl", g.grp_cxl.map(|c| if c { "true" } else { "false" }));
            write_reason(w, "CxlRsnInf", &g.reason);
            w.close("OrgnlGrpInfAndCxl");
        }
        for tx in &m.txs {
            write_tx(w, tx);
        }
        w.close("Undrlyg");
        w.close("FIToFIPmtCxlReq");
        w.close("Document");
    })
}

fn write_tx(w: &mut XmlWriter, tx: &CancellationTx) {
    w.open("TxInf");
    w.opt("CxlId", tx.cxl_id.as_deref());
    write_original_group(w, &tx.original);
    write_original_ids(w, &tx.original);
    w.opt("OrgnlUETR", tx.original.orgnl_uetr.as_ref().map(Uetr::as_str));
    if let Some(a) = &tx.orgnl_intr_bk_sttlm_amt {
        write_money(w, "OrgnlIntrBkSttlmAmt", a);
    }
    w.opt("OrgnlIntrBkSttlmDt", tx.orgnl_intr_bk_sttlm_dt.as_deref());
    write_reason(w, "CxlRsnInf", &tx.reason);
    w.close("TxInf");
}
