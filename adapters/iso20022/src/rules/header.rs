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

/// The BIC a header party names: an institution's `FIId/FinInstnId/BICFI`, or an
/// organisation's `OrgId/Id/OrgId/AnyBIC`.
fn header_bic<'a>(tree: &Tree<'a>, hdr: u32, side: &str) -> Option<(u32, Cow<'a, str>)> {
    let party = tree.descend(hdr, side)?;
    let n = tree
        .descend(party, "FIId/FinInstnId/BICFI")
        .or_else(|| tree.descend(party, "OrgId/Id/OrgId/AnyBIC"))?;
    let text = tree.text(n);
    is_bic(&text).then_some((n, text))
}

/// The agent BIC of an agent element (`FinInstnId/BICFI`, or `FinInstnId/BIC` in older
/// versions), if it is a BIC.
fn agent_bic<'a>(tree: &Tree<'a>, a: u32) -> Option<Cow<'a, str>> {
    let bic = tree.descend(a, "FinInstnId/BICFI").or_else(|| tree.descend(a, "FinInstnId/BIC"))?;
    let text = tree.text(bic);
    is_bic(&text).then_some(text)
}

/// Compares BIC texts without building [`crate::Bic`] values (they are only needed for the
/// error detail). Every `agent` of the Document that names a BIC must be the header's: the
/// group header's and each transaction's (a message's transactions all travel between the
/// same two agents, so a second transaction may not name another one).
fn party(tree: &Tree<'_>, hdr: u32, side: &str, doc: u32, agent: &str) -> Result<(), ValidationError> {
    let Some((node, h)) = header_bic(tree, hdr, side) else { return Ok(()) };
    let Some(root) = tree.children(doc).next() else { return Ok(()) };
    let check = |a: u32| match agent_bic(tree, a) {
        Some(d) if !same_institution(&h, &d) => Err(Rule::BahPartyMismatch
            .at(tree.path(node), format!("AppHdr {side} BIC {h} differs from {} {d}", tree.path(a)))),
        _ => Ok(()),
    };
    for c in tree.children(root) {
        let local = tree.nodes[c as usize].local;
        let a = match local {
            "GrpHdr" => tree.descend(c, agent),
            "CdtTrfTxInf" | "TxInf" | "TxInfAndSts" => tree.child(c, agent),
            _ => None,
        };
        if let Some(a) = a {
            check(a)?;
        }
    }
    Ok(())
}
