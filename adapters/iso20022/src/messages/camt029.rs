//! camt.029 resolution of investigation (the answer to a camt.056): typed model, reader and
//! writer (camt.029.001.09). Transaction statuses of all `CxlDtls` are read into one list
//! and written back under a single `CxlDtls`, with the group status (`OrgnlGrpInfAndSts`) of
//! the first `CxlDtls` that has one.

use crate::envelope::parse_parts;
use crate::error::ValidationError;
use crate::limits::Limits;
use crate::messages::apphdr::{read_app_hdr, AppHdr};
use crate::messages::envelope_writer::write_with_header;
use crate::messages::fields::text_at;
use crate::messages::related::{
    document_root, read_assignment, read_case, read_original, read_reason, write_assignment, write_case,
    write_original_group, write_original_ids, write_reason, xml_bool, Assignment, Case, OriginalRef, Reason,
};
use crate::schema::lexical::boolean_value;
use crate::types::uetr::Uetr;
use crate::xml::tree::Tree;
use crate::xml::writer::XmlWriter;
use crate::Text;

/// A camt.029 resolution of investigation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Camt029 {
    pub app_hdr: Option<AppHdr>,
    pub assignment: Assignment,
    /// `Sts/Conf` (e.g. `CNCL`, `RJCR`, `PDCR`). `Sts` is a choice: the writer writes the
    /// first of `sts_conf`, `sts_rjctd_mod`, `sts_dplct_of`, `sts_assgnmt_cxl_conf` that is set.
    pub sts_conf: Option<Text>,
    /// `Sts/RjctdMod`: the reasons a modification request was rejected (`Cd` or `Prtry`).
    pub sts_rjctd_mod: Vec<Reason>,
    /// `Sts/DplctOf`: the case this one duplicates.
    pub sts_dplct_of: Option<Case>,
    /// `Sts/AssgnmtCxlConf`.
    pub sts_assgnmt_cxl_conf: Option<bool>,
    /// The status of a whole original message (`CxlDtls/OrgnlGrpInfAndSts`).
    pub group: Option<GroupCancellationStatus>,
    pub txs: Vec<CancellationStatusTx>,
}

/// `CxlDtls/OrgnlGrpInfAndSts`: the cancellation status of a whole original message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupCancellationStatus {
    pub orgnl_grp_cxl_id: Option<Text>,
    pub orgnl_msg_id: Text,
    /// e.g. `pacs.008.001.08`.
    pub orgnl_msg_nm_id: Text,
    pub orgnl_cre_dt_tm: Option<Text>,
    /// `GrpCxlSts` (`PACR`, `RJCR`, `ACCR`, `PDCR`).
    pub grp_cxl_sts: Option<Text>,
    /// The `CxlStsRsnInf` reason (the first block giving one, the first `AddtlInf`).
    pub reason: Reason,
}

/// One transaction's cancellation status (`CxlDtls/TxInfAndSts`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CancellationStatusTx {
    pub cxl_sts_id: Option<Text>,
    pub original: OriginalRef,
    /// `TxCxlSts` (`CNCL`, `RJCR`, `ACCR`, `PDCR`).
    pub tx_cxl_sts: Option<Text>,
    /// The `CxlStsRsnInf` reason (the first block giving one; the first `AddtlInf`).
    pub reason: Reason,
}

/// Reads and fully validates a camt.029.
///
/// # Errors
/// The first failure found.
pub fn read_camt029(input: &[u8], limits: &Limits) -> Result<Camt029, ValidationError> {
    let parts = parse_parts(input, limits)?;
    crate::validate::check_parts(&parts)?;
    let root = document_root(&parts, "camt.029", "RsltnOfInvstgtn")?;
    let tree = &parts.tree;
    let mut txs = Vec::new();
    let mut group = None;
    for d in tree.children_named(root, "CxlDtls") {
        if group.is_none() {
            group = tree.child(d, "OrgnlGrpInfAndSts").map(|g| read_group(tree, g));
        }
        for t in tree.children_named(d, "TxInfAndSts") {
            txs.push(read_tx(tree, t));
        }
    }
    let sts = tree.child(root, "Sts");
    let rjctd_mod = |s| {
        tree.children_named(s, "RjctdMod")
            .map(|m| Reason { cd: text_at(tree, m, "Cd"), prtry: text_at(tree, m, "Prtry"), addtl_inf: None })
            .collect()
    };
    Ok(Camt029 {
        app_hdr: parts.app_hdr.map(|(n, s)| read_app_hdr(tree, n, &s.msg_def)),
        assignment: read_assignment(tree, root),
        sts_conf: sts.and_then(|s| text_at(tree, s, "Conf")),
        sts_rjctd_mod: sts.map(rjctd_mod).unwrap_or_default(),
        sts_dplct_of: sts.and_then(|s| tree.child(s, "DplctOf")).map(|c| read_case(tree, c)),
        sts_assgnmt_cxl_conf: sts.and_then(|s| text_at(tree, s, "AssgnmtCxlConf")).map(|v| boolean_value(&v)),
        group,
        txs,
    })
}

fn read_group(tree: &Tree<'_>, g: u32) -> GroupCancellationStatus {
    let t = |p: &str| text_at(tree, g, p);
    GroupCancellationStatus {
        orgnl_grp_cxl_id: t("OrgnlGrpCxlId"),
        orgnl_msg_id: t("OrgnlMsgId").unwrap_or_default(),
        orgnl_msg_nm_id: t("OrgnlMsgNmId").unwrap_or_default(),
        orgnl_cre_dt_tm: t("OrgnlCreDtTm"),
        grp_cxl_sts: t("GrpCxlSts"),
        reason: read_reason(tree, g, "CxlStsRsnInf"),
    }
}

fn read_tx(tree: &Tree<'_>, tx: u32) -> CancellationStatusTx {
    CancellationStatusTx {
        cxl_sts_id: text_at(tree, tx, "CxlStsId"),
        original: read_original(tree, tx),
        tx_cxl_sts: text_at(tree, tx, "TxCxlSts"),
        reason: read_reason(tree, tx, "CxlStsRsnInf"),
    }
}

/// camt.029.001.09 namespace.
pub const CAMT029_NS: &str = "urn:iso:std:iso:20022:tech:xsd:camt.029.001.09";

/// Writes a camt.029.001.09 Document (inside the envelope with the AppHdr when present).
/// Without any status (`sts_*`), `Sts/Conf` is written as `PDCR` (pending).
#[must_use]
pub fn write_camt029(m: &Camt029) -> Vec<u8> {
    write_with_header(m.app_hdr.as_ref(), CAMT029_NS, |w| {
        w.open_ns("Document", CAMT029_NS);
        w.open("RsltnOfInvstgtn");
        write_assignment(w, &m.assignment);
        w.open("Sts");
        if let Some(c) = &m.sts_conf {
            w.leaf("Conf", c);
        } else if !m.sts_rjctd_mod.is_empty() {
            for r in &m.sts_rjctd_mod {
                w.open("RjctdMod");
                match (&r.cd, &r.prtry) {
                    (Some(cd), _) => w.leaf("Cd", cd),
                    (None, prtry) => w.leaf("Prtry", prtry.as_deref().unwrap_or_default()),
                }
                w.close("RjctdMod");
            }
        } else if let Some(c) = &m.sts_dplct_of {
            write_case(w, "DplctOf", c);
        } else if let Some(b) = m.sts_assgnmt_cxl_conf {
            w.leaf("AssgnmtCxlConf", xml_bool(b));
        } else {
            w.leaf("Conf", "PDCR");
        }
        w.close("Sts");
        if m.group.is_some() || !m.txs.is_empty() {
            w.open("CxlDtls");
            if let Some(g) = &m.group {
                w.open("OrgnlGrpInfAndSts");
                w.opt("OrgnlGrpCxlId", g.orgnl_grp_cxl_id.as_deref());
                w.leaf("OrgnlMsgId", &g.orgnl_msg_id);
                w.leaf("OrgnlMsgNmId", &g.orgnl_msg_nm_id);
                w.opt("OrgnlCreDtTm", g.orgnl_cre_dt_tm.as_deref());
                w.opt("GrpCxlSts", g.grp_cxl_sts.as_deref());
                write_reason(w, "CxlStsRsnInf", &g.reason);
                w.close("OrgnlGrpInfAndSts");
            }
            for tx in &m.txs {
                write_tx(w, tx);
            }
            w.close("CxlDtls");
        }
        w.close("RsltnOfInvstgtn");
        w.close("Document");
    })
}

fn write_tx(w: &mut XmlWriter, tx: &CancellationStatusTx) {
    w.open("TxInfAndSts");
    w.opt("CxlStsId", tx.cxl_sts_id.as_deref());
    write_original_group(w, &tx.original);
    write_original_ids(w, &tx.original);
    w.opt("OrgnlUETR", tx.original.orgnl_uetr.as_ref().map(Uetr::as_str));
    w.opt("TxCxlSts", tx.tx_cxl_sts.as_deref());
    write_reason(w, "CxlStsRsnInf", &tx.reason);
    w.close("TxInfAndSts");
}
