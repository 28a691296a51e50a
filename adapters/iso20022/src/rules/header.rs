//! AppHdr ↔ Document consistency: MsgDefIdr names the Document's message, and the header's
//! From/To BICs are the Document's instructing/instructed agents (unless the header marks
//! the message as a copy, `CpyDplct` = COPY or CODU).

use std::borrow::Cow;

use crate::envelope::Parts;
use crate::error::ValidationError;
use crate::rule::Rule;
use crate::types::bic::{is_bic, same_institution};
use crate::xml::tree::Tree;

pub(crate) fn check(parts: &Parts<'_>) -> Result<(), ValidationError> {
    let (Some((hdr, _)), Some((doc, doc_schema))) = (parts.app_hdr, parts.document) else { return Ok(()) };
    let tree = &parts.tree;
    if let Some(m) = tree.child(hdr, "MsgDefIdr") {
        let declared = tree.text(m);
        if *declared != *doc_schema.msg_def {
            return Err(Rule::BahMsgDefMismatch.at(
                tree.path(m),
                format!("MsgDefIdr '{declared}' but the Document is {}", doc_schema.msg_def),
            ));
        }
    }
    let copy = tree.child(hdr, "CpyDplct").is_some_and(|c| matches!(&*tree.text(c), "COPY" | "CODU"));
    if copy {
        return Ok(());
    }
    party(tree, hdr, "Fr", doc, "InstgAgt")?;
    party(tree, hdr, "To", doc, "InstdAgt")
}

fn header_bic<'a>(tree: &Tree<'a>, hdr: u32, side: &str) -> Option<(u32, Cow<'a, str>)> {
    let n = tree.descend(hdr, side).and_then(|p| tree.descend(p, "FIId/FinInstnId/BICFI"))?;
    let text = tree.text(n);
    is_bic(&text).then_some((n, text))
}

/// The Document's agent BIC: group header first, else the first transaction's.
fn document_agent<'a>(tree: &Tree<'a>, doc: u32, agent: &str) -> Option<Cow<'a, str>> {
    let root = tree.children(doc).next()?;
    let grp = tree.child(root, "GrpHdr");
    let at_group = grp.and_then(|g| tree.descend(g, agent));
    let at_tx = || {
        tree.children(root)
            .find(|&c| matches!(tree.nodes[c as usize].local, "CdtTrfTxInf" | "TxInf" | "TxInfAndSts"))
            .and_then(|t| tree.child(t, agent))
    };
    let a = at_group.or_else(at_tx)?;
    let bic = tree.descend(a, "FinInstnId/BICFI").or_else(|| tree.descend(a, "FinInstnId/BIC"))?;
    let text = tree.text(bic);
    is_bic(&text).then_some(text)
}

/// Compares BIC texts without building [`crate::Bic`] values (they are only needed for the
/// error detail).
fn party(tree: &Tree<'_>, hdr: u32, side: &str, doc: u32, agent: &str) -> Result<(), ValidationError> {
    let (Some((node, h)), Some(d)) = (header_bic(tree, hdr, side), document_agent(tree, doc, agent)) else {
        return Ok(());
    };
    if same_institution(&h, &d) {
        return Ok(());
    }
    Err(Rule::BahPartyMismatch.at(tree.path(node), format!("AppHdr {side} BIC {h} differs from {agent} {d}")))
}
