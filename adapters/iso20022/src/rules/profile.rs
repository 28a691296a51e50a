//! The per-scheme profile hook and the read-only message view a profile inspects.
//!
//! A [`SchemeProfile`] adds a clearing scheme's usage rules on top of ISO validation; the
//! clearing crate implements one per scheme. Three profiles ship here because the public
//! samples need them and because their messages identify themselves: [`FedNowProfile`]
//! (FedNow market practice / clearing system FDN / FedNow wrappers), [`CbprPlusProfile`]
//! (AppHdr `BizSvc` `swift.cbprplus.*`) and [`SepaProfile`] (service level `SEPA`).
//! [`crate::validate_any`] applies them only when the message declares that scheme.

use std::borrow::Cow;

use crate::envelope::Parts;
use crate::error::ValidationError;
use crate::rule::Rule;
use crate::xml::tree::{Tree, NONE};

/// A clearing scheme's additional rules.
pub trait SchemeProfile {
    /// Short scheme name for logs (`"fednow"`).
    fn name(&self) -> &str;
    /// Checks an already ISO-valid message; return the first failure.
    ///
    /// # Errors
    /// A [`ValidationError`], typically built with [`crate::Rule::at`] or [`ValidationError::new`].
    fn check(&self, msg: &MessageView<'_, '_>) -> Result<(), ValidationError>;
}

/// Read-only access to a validated message for profiles.
#[derive(Debug, Clone, Copy)]
pub struct MessageView<'p, 'a> {
    pub(crate) parts: &'p Parts<'a>,
}

/// One element of a [`MessageView`].
#[derive(Debug, Clone, Copy)]
pub struct ElementRef<'p, 'a> {
    tree: &'p Tree<'a>,
    node: u32,
}

impl<'p, 'a> MessageView<'p, 'a> {
    /// The Document's message definition id (`pacs.008.001.08`), or the AppHdr's for a bare header.
    #[must_use]
    pub fn msg_def(&self) -> &str {
        self.parts.msg_def()
    }

    /// The AppHdr element, if any.
    #[must_use]
    pub fn app_hdr(&self) -> Option<ElementRef<'p, 'a>> {
        self.parts.app_hdr.map(|(node, _)| ElementRef { tree: &self.parts.tree, node })
    }

    /// The Document element, if any.
    #[must_use]
    pub fn document(&self) -> Option<ElementRef<'p, 'a>> {
        self.parts.document.map(|(node, _)| ElementRef { tree: &self.parts.tree, node })
    }

    /// The local name of the element wrapping the Document (e.g. `FedNowCustomerCreditTransfer`).
    #[must_use]
    pub fn wrapper(&self) -> Option<&str> {
        let (doc, _) = self.parts.document.or(self.parts.app_hdr)?;
        let parent = self.parts.tree.node(doc)?.parent;
        self.parts.tree.node(parent).map(|n| n.local)
    }
}

impl<'p, 'a> ElementRef<'p, 'a> {
    /// Local name.
    #[must_use]
    pub fn name(&self) -> &'a str {
        self.tree.node(self.node).map_or("", |n| n.local)
    }

    /// Decoded text content.
    #[must_use]
    pub fn text(&self) -> Cow<'a, str> {
        self.tree.text(self.node)
    }

    /// Attribute value by local name.
    #[must_use]
    pub fn attr(&self, name: &str) -> Option<Cow<'a, str>> {
        self.tree.attr(self.node, name)
    }

    /// The currency of an amount: its `Ccy`. Amounts are leaves with attributes, so other
    /// elements (the envelope's and parts' namespace declarations) are passed over without
    /// parsing their attributes.
    pub(crate) fn currency(&self) -> Option<Cow<'a, str>> {
        let n = self.tree.node(self.node)?;
        if n.attrs.is_empty() || n.first_child != NONE {
            return None;
        }
        self.tree.attr(self.node, "Ccy")
    }

    /// Path for error reports (`/Document/.../UETR`).
    #[must_use]
    pub fn path(&self) -> String {
        self.tree.path(self.node)
    }

    /// First child with this local name.
    #[must_use]
    pub fn child(&self, name: &str) -> Option<ElementRef<'p, 'a>> {
        self.tree.child(self.node, name).map(|node| ElementRef { tree: self.tree, node })
    }

    /// First descendant along a `/`-separated chain of child names.
    #[must_use]
    pub fn descend(&self, path: &str) -> Option<ElementRef<'p, 'a>> {
        self.tree.descend(self.node, path).map(|node| ElementRef { tree: self.tree, node })
    }

    /// Whether the element has no child elements.
    #[must_use]
    pub fn is_leaf(&self) -> bool {
        self.tree.children(self.node).next().is_none()
    }

    /// Child elements in document order.
    pub fn children(&self) -> impl Iterator<Item = ElementRef<'p, 'a>> + 'p {
        let tree = self.tree;
        tree.children(self.node).map(move |node| ElementRef { tree, node })
    }

    /// All descendants in document order (the subtree is a contiguous index range).
    pub fn descendants(&self) -> impl Iterator<Item = ElementRef<'p, 'a>> + 'p {
        let tree = self.tree;
        let end = tree.subtree_end(self.node);
        (self.node as usize + 1..end)
            .map(move |i| ElementRef { tree, node: u32::try_from(i).unwrap_or(u32::MAX) })
    }

    /// All descendants (document order) with this local name.
    pub fn find_all(&self, name: &'p str) -> impl Iterator<Item = ElementRef<'p, 'a>> + 'p {
        self.descendants().filter(move |e| e.name() == name)
    }
}

/// A scheme that settles in one currency: every amount of the Document is in `ccy`.
pub(crate) fn only_currency(
    doc: &ElementRef<'_, '_>,
    ccy: &str,
    scheme: &str,
) -> Result<(), ValidationError> {
    for el in doc.descendants() {
        if let Some(found) = el.currency().filter(|c| c != ccy) {
            return Err(
                Rule::ProfileCurrency.at(el.path(), format!("{scheme} settles {ccy} only, not {found}"))
            );
        }
    }
    Ok(())
}

/// The scheme declarations in a Document's body, found in one pass over it: clearing system
/// `FDN` (FedNow) and service level `SEPA`.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Declared {
    pub(crate) fednow_clearing: bool,
    pub(crate) sepa: bool,
}

impl Declared {
    pub(crate) fn scan(msg: &MessageView<'_, '_>) -> Declared {
        let mut d = Declared::default();
        let Some(doc) = msg.document() else { return d };
        for el in doc.descendants() {
            let (marker, code) = match el.name() {
                "ClrSys" => (&mut d.fednow_clearing, "FDN"),
                "SvcLvl" => (&mut d.sepa, "SEPA"),
                _ => continue,
            };
            *marker |= el.child("Cd").is_some_and(|cd| cd.text() == code);
        }
        d
    }
}
