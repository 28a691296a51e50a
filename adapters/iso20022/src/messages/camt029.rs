//! camt.029 resolution of investigation (the answer to a camt.056): typed model, reader and
//! writer (camt.029.001.09). Transaction statuses of all `CxlDtls` are read into one list
//! and written back under a single `CxlDtls`.

use crate::envelope::parse_parts;
use crate::error::ValidationError;
use crate::limits::Limits;
use crate::messages::apphdr::{read_app_hdr, AppHdr};
use crate::messages::envelope_writer::write_with_header;
use crate::messages::fields::text_at;
use crate::messages::related::{
    document_root, read_assignment, read_original, read_reason, write_assignment, write_original_group,
    write_original_ids, write_reason, Assignment, OriginalRef, Reason,
};
use crate::types::uetr::Uetr;
use crate::xml::tree::Tree;
use crate::xml::writer::XmlWriter;
use crate::Text;

/// A camt.029 resolution of investigation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Camt029 {
    pub app_hdr: Option<AppHdr>,
    pub assignment: Assignment,
    /// `Sts/Conf` (e.g. `CNCL`, `RJCR`, `PDCR`).
    pub sts_conf: Option<Text>,
    /// `Sts/AssgnmtCxlConf`, used when there is no `Conf`.
    pub sts_assgnmt_cxl_conf: Option<bool>,
    pub txs: Vec<CancellationStatusTx>,
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
    for d in tree.children_named(root, "CxlDtls") {
        for t in tree.children_named(d, "TxInfAndSts") {
            txs.push(read_tx(tree, t));
        }
    }
    let conf = text_at(tree, root, "Sts/Conf");
    Ok(Camt029 {
        app_hdr: parts.app_hdr.map(|(n, s)| read_app_hdr(tree, n, &s.msg_def)),
        assignment: read_assignment(tree, root),
        sts_assgnmt_cxl_conf: if conf.is_none() {
            text_at(tree, root, "Sts/AssgnmtCxlConf").map(|v| v.trim() == "true" || v.trim() == "1")
        } else {
            None
        },
        sts_conf: conf,
        txs,
    })
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
/// Without `sts_conf` and `sts_assgnmt_cxl_conf`, `Sts/Conf` is written as `PDCR` (pending).
#[must_use]
pub fn write_camt029(m: &Camt029) -> Vec<u8> {
    write_with_header(m.app_hdr.as_ref(), CAMT029_NS, |w| {
        w.open_ns("Document", CAMT029_NS);
        w.open("RsltnOfInvstgtn");
        write_assignment(w, &m.assignment);
        w.open("Sts");
        match (&m.sts_conf, m.sts_assgnmt_cxl_conf) {
            (Some(c), _) => w.leaf("Conf", c),
            (None, Some(b)) => w.leaf("AssgnmtCxlConf", if b { "true" } else { "false" }),
            (None, None) => w.leaf("Conf", "PDCR"),
        }
        w.close("Sts");
        if !m.txs.is_empty() {
            w.open("CxlDtls");
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
