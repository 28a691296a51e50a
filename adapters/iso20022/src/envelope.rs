//! Finds the ISO parts of an input and validates each against its schema.
//!
//! Accepted shapes: a bare `Document`, a bare `AppHdr`, or any envelope element that holds
//! an `AppHdr` and/or a `Document` somewhere below it — the SWIFT Translator `Envelope`
//! (`urn:swift:xsd:envelope`), an un-namespaced `Envelope`, `Request`
//! (SWIFTNetBusinessEnvelope), FedNow `FedNowIncoming`/`FedNowOutgoing`, or ours. ISO parts are
//! recognised by local name plus an `urn:iso:std:iso:20022:tech:xsd:` namespace. For FedNow
//! wrappers, the element directly around the parts must name the Document's message type.

use std::borrow::Cow;

use crate::error::ValidationError;
use crate::limits::Limits;
use crate::rule::Rule;
use crate::schema::model::Schema;
use crate::schema::registry::{msg_def_of_namespace, schema};
use crate::schema::validate::Validator;
use crate::xml::lexer::is_qname;
use crate::xml::tree::{element_name_error, lookup_namespace, prefix, subtree_name_error, Tree, NONE};

/// The namespace of the envelope element `write_*` functions put around AppHdr + Document.
pub const ENVELOPE_NAMESPACE: &str = "urn:switchyard:xsd:envelope";

/// FedNow wrapper elements and the message family each may carry.
const FEDNOW_WRAPPERS: &[(&str, &str)] = &[
    ("FedNowCustomerCreditTransfer", "pacs.008"),
    ("FedNowPaymentStatus", "pacs.002"),
    ("FedNowMessageReject", "admi.002"),
    ("FedNowPaymentReturn", "pacs.004"),
    ("FedNowReturnRequest", "camt.056"),
    ("FedNowReturnRequestResponse", "camt.029"),
    ("FedNowPaymentStatusRequest", "pacs.028"),
    ("FedNowAccountBalanceReport", "camt.052"),
    ("FedNowAccountActivityReport", "camt.052"),
    ("FedNowAccountActivityTotalsReport", "camt.052"),
];

/// A parsed input whose ISO parts passed the schema layer.
#[derive(Debug)]
pub(crate) struct Parts<'a> {
    pub(crate) tree: Tree<'a>,
    pub(crate) app_hdr: Option<(u32, &'static Schema)>,
    pub(crate) document: Option<(u32, &'static Schema)>,
}

impl Parts<'_> {
    /// `pacs.008.001.08` for the Document, or the AppHdr's id for a bare header.
    pub(crate) fn msg_def(&self) -> &'static str {
        self.document.or(self.app_hdr).map_or("", |(_, s)| &s.msg_def)
    }
}

/// Parses `input`, locates AppHdr/Document, and validates both against their schemas.
pub(crate) fn parse_parts<'a>(input: &'a [u8], limits: &Limits) -> Result<Parts<'a>, ValidationError> {
    let tree = Tree::read(input, limits)?;
    let (hdr, doc) = locate(&tree)?;
    let app_hdr = hdr.map(|(n, ns)| part_schema(&tree, n, &ns, "head.001")).transpose()?;
    let document = doc.map(|(n, ns)| part_schema(&tree, n, &ns, "")).transpose()?;
    if app_hdr.is_none() && document.is_none() {
        return Err(Rule::UnknownMessage.at("/", "no ISO 20022 AppHdr or Document found"));
    }
    // The schema layer of both parts first; then the first value-rule failure the walks met.
    let mut deferred = None;
    if let Some((n, s)) = document {
        check_wrapper(&tree, n, s)?;
        deferred = Validator::run(&tree, n, s)?;
    }
    if let Some((n, s)) = app_hdr {
        let in_header = Validator::run(&tree, n, s)?;
        deferred = deferred.or(in_header);
    }
    match deferred {
        Some(e) => Err(e),
        None => Ok(Parts { tree, app_hdr, document }),
    }
}

/// The AppHdr and the Document of the input, each with its namespace.
type Located<'a> = (Option<(u32, Cow<'a, str>)>, Option<(u32, Cow<'a, str>)>);

fn locate<'a>(tree: &Tree<'a>) -> Result<Located<'a>, ValidationError> {
    let (mut hdr, mut doc) = (None, None);
    // A `Document` in a namespace that is not ISO 20022's (`urn:swift:xsd:admi.998...`).
    let mut foreign_doc = None;
    // Elements outside the ISO parts, in document order; an AppHdr or Document subtree is
    // stepped over (what lies inside one is never another part). Each visited element's
    // name, and every name in a subtree that is no part, is checked for namespace
    // well-formedness here; the schema walk checks the parts'.
    let mut at = 0usize;
    while let Some(n) = tree.nodes.get(at) {
        let i = u32::try_from(at).unwrap_or(NONE);
        let slot = match n.local {
            "AppHdr" => &mut hdr,
            "Document" => &mut doc,
            _ => {
                if n.qname.len() != n.local.len() {
                    if let Some(detail) = element_name_error(tree, i) {
                        return Err(Rule::XmlSyntax.at("/", detail));
                    }
                }
                at += 1;
                continue;
            }
        };
        at = tree.subtree_end(i).max(at + 1);
        let ns = namespace_of(tree, i);
        // The namespace lookup has found the prefix declared; only the name's shape is left.
        if n.qname.len() != n.local.len()
            && (ns.is_none() || !is_qname(n.qname, n.qname.len() - n.local.len()))
        {
            if let Some(detail) = element_name_error(tree, i) {
                return Err(Rule::XmlSyntax.at("/", detail));
            }
        }
        let ns = match ns {
            Some(ns) if msg_def_of_namespace(&ns).is_some() => ns,
            other => {
                if let Some(detail) = subtree_name_error(tree, i) {
                    return Err(Rule::XmlSyntax.at("/", detail));
                }
                // A header this crate cannot read would go unchecked (its MsgDefIdr, parties,
                // service): refused, like a Document of an unknown namespace beside it.
                if n.local == "AppHdr" {
                    let ns = other.map_or_else(|| "(none)".to_owned(), |ns| format!("'{ns}'"));
                    return Err(
                        Rule::UnknownMessage.at("/AppHdr", format!("unsupported header namespace {ns}"))
                    );
                }
                if foreign_doc.is_none() {
                    foreign_doc = Some(other.unwrap_or_default());
                }
                continue;
            }
        };
        if slot.replace((i, ns)).is_some() {
            return Err(
                Rule::EnvelopeMismatch.at(format!("/{}", n.local), "more than one ISO part of this kind")
            );
        }
    }
    // A header with a Document this crate cannot read is not a valid bare header: the message
    // it heads is unsupported.
    if let (Some(_), None, Some(ns)) = (&hdr, &doc, foreign_doc) {
        let ns = if ns.is_empty() { "(none)".into() } else { format!("'{ns}'") };
        return Err(Rule::UnknownMessage.at("/Document", format!("unsupported message namespace {ns}")));
    }
    Ok((hdr, doc))
}

/// Resolves the namespace of element `node` from the `xmlns` declarations in scope.
pub(crate) fn namespace_of<'a>(tree: &Tree<'a>, node: u32) -> Option<Cow<'a, str>> {
    let want = prefix(tree.node(node)?.qname);
    lookup_namespace(&tree.nodes, node, want).map(crate::xml::escape::decode)
}

fn part_schema(
    tree: &Tree<'_>,
    node: u32,
    ns: &str,
    family: &str,
) -> Result<(u32, &'static Schema), ValidationError> {
    let local = tree.node(node).map_or("", |n| n.local);
    let id = msg_def_of_namespace(ns).unwrap_or("");
    match schema(id) {
        Some(s) if id.starts_with(family) => Ok((node, s)),
        _ => {
            Err(Rule::UnknownMessage.at(format!("/{local}"), format!("unsupported message namespace '{ns}'")))
        }
    }
}

fn check_wrapper(tree: &Tree<'_>, doc: u32, s: &Schema) -> Result<(), ValidationError> {
    let parent = tree.node(doc).map_or(NONE, |n| n.parent);
    let Some(wrapper) = tree.node(parent).map(|n| n.local) else { return Ok(()) };
    match FEDNOW_WRAPPERS.iter().find(|(w, _)| *w == wrapper) {
        Some((_, family)) if !s.msg_def.starts_with(family) => Err(Rule::EnvelopeMismatch.at(
            "/Document",
            format!("wrapper <{wrapper}> carries {family}, but the Document is {}", s.msg_def),
        )),
        Some(_) => Ok(()),
        // Inside a FedNow envelope the element around the parts names the message family:
        // none, or one FedNow does not define, says nothing the Document can be checked by.
        None if wrapper.starts_with("FedNow") || in_fednow_envelope(tree, parent) => {
            Err(Rule::EnvelopeMismatch.at(
                "/Document",
                format!("<{wrapper}> is not a FedNow message wrapper (e.g. <FedNowPaymentStatus>) around the Document"),
            ))
        }
        None => Ok(()),
    }
}

/// Whether `node` lies inside a `FedNowIncoming` / `FedNowOutgoing` envelope.
fn in_fednow_envelope(tree: &Tree<'_>, mut node: u32) -> bool {
    while let Some(n) = tree.node(node) {
        if matches!(n.local, "FedNowIncoming" | "FedNowOutgoing") {
            return true;
        }
        node = n.parent;
    }
    false
}
