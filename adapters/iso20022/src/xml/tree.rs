//! A flat, zero-copy element tree built from the lexer's tokens.
//!
//! One `Vec<Node>` arena per message: every node borrows its name, attributes and text from
//! the input, and links to parent/first child/next sibling by index. The builder owns tag
//! balance, depth, text-placement and the transaction-count limit; it rejects input that is
//! not valid UTF-8, contains C0 controls or U+FFFE/U+FFFF, or exceeds
//! `Limits::max_message_bytes`. The arena
//! grows with the number of elements, which the size limit bounds.

use std::borrow::Cow;

use crate::error::ValidationError;
use crate::limits::Limits;
use crate::rule::Rule;
use crate::xml::escape;
use crate::xml::lexer::{is_ws, Lexer, Token};

/// Index of "no node".
pub(crate) const NONE: u32 = u32::MAX;

/// The kind of transaction-like element `local` names (an index into the builder's counts),
/// or `None`. Each kind is counted on its own against `Limits::max_transactions`: a message
/// with N transactions has at most N elements of each kind, containers included (a PmtInf,
/// Ntry, Undrlyg, CxlDtls or OrgnlPmtInfAndSts holds at least one transaction or is one).
#[inline(always)]
fn transaction_kind(local: &str) -> Option<usize> {
    // Dispatch on the length first: most element names are rejected by one compare.
    let kind = match local.len() {
        4 if local == "Ntry" => 0,
        5 if local == "TxInf" => 1,
        6 if local == "TxDtls" => 2,
        6 if local == "PmtInf" => 3,
        7 if local == "Undrlyg" => 4,
        7 if local == "CxlDtls" => 5,
        11 if local == "CdtTrfTxInf" => 6,
        11 if local == "TxInfAndSts" => 7,
        17 if local == "OrgnlPmtInfAndSts" => 8,
        _ => return None,
    };
    Some(kind)
}

/// Number of [`transaction_kind`]s.
const TRANSACTION_KINDS: usize = 9;

#[inline(always)]
fn is_transaction_element(local: &str) -> bool {
    transaction_kind(local).is_some()
}

#[derive(Debug, Clone, Copy)]
pub(crate) struct Node<'a> {
    pub(crate) qname: &'a str,
    pub(crate) local: &'a str,
    pub(crate) attrs: &'a str,
    /// First character-data segment (raw); `""` when none.
    pub(crate) text: &'a str,
    /// The text needs no entity decoding (a CDATA section, or character data without `&`).
    pub(crate) text_verbatim: bool,
    /// `text` runs over comments, processing instructions or CDATA sections between its
    /// character-data pieces (`AB<!-- x -->C`); [`Tree::text`] takes the markup out.
    pub(crate) text_mixed: bool,
    /// Non-whitespace text after a child element (mixed content); white space written as
    /// character references does not count.
    pub(crate) text_split: bool,
    pub(crate) parent: u32,
    pub(crate) first_child: u32,
    pub(crate) last_child: u32,
    pub(crate) next_sibling: u32,
}

#[derive(Debug)]
pub(crate) struct Tree<'a> {
    pub(crate) nodes: Vec<Node<'a>>,
}

impl Drop for Tree<'_> {
    fn drop(&mut self) {
        arena::give_back(std::mem::take(&mut self.nodes));
    }
}

/// The tree's node arena and the builder's element stack, kept per thread (`crate::spare`): a
/// message's tree would otherwise allocate and free a block of several KB each time (with
/// glibc's malloc that is a large-bin allocation and a consolidation on free). No `unsafe`: an
/// empty `Vec<Node<'static>>` is a `Vec<Node<'a>>` by covariance, and an emptied
/// `Vec<Node<'a>>` goes back through an in-place `collect`, which keeps its allocation.
mod arena {
    use super::Node;
    use crate::spare::{self, Slot};

    thread_local! {
        static NODES: Slot<Node<'static>> = const { Slot::new(Vec::new()) };
        static STACK: Slot<u32> = const { Slot::new(Vec::new()) };
    }

    /// An empty arena with room for at least `capacity` nodes.
    pub(super) fn take<'a>(capacity: usize) -> Vec<Node<'a>> {
        spare::take(&NODES, capacity)
    }

    /// Keeps `nodes`' allocation for the next tree on this thread.
    pub(super) fn give_back(mut nodes: Vec<Node<'_>>) {
        nodes.clear();
        // `filter_map`, not `filter`: it changes the element type's lifetime (the vector is
        // empty, so the closure never runs) and std collects it in place.
        #[allow(clippy::unnecessary_filter_map)]
        let empty: Vec<Node<'static>> = nodes.into_iter().filter_map(|_| None).collect();
        spare::keep(&NODES, empty);
    }

    /// An empty element stack with room for at least `capacity` entries (the builder's).
    pub(super) fn take_stack(capacity: usize) -> Vec<u32> {
        spare::take(&STACK, capacity)
    }

    /// Keeps `stack`'s allocation for the next tree on this thread.
    pub(super) fn give_back_stack(stack: Vec<u32>) {
        spare::keep(&STACK, stack);
    }
}

/// Branch-free (vectorisable) scan for C0 controls other than tab, LF and CR, and for the
/// bytes 0xEF..=0xFF (0xEF starts U+FFFE and U+FFFF, and other characters: [`first_forbidden`]
/// tells): one add and one compare per byte (`b + 0x11` wraps those into `0x00..0x31`) as for
/// the controls alone. Long chunks keep the per-chunk reduction rare.
fn has_control(input: &[u8]) -> bool {
    input.chunks(512).any(|chunk| {
        // `b | 4 == 13` exactly for tab (9) and CR (13): one compare instead of two.
        chunk
            .iter()
            .fold(false, |acc, &b| acc | ((b.wrapping_add(0x11) < 0x31) & ((b | 4) != b'\r') & (b != b'\n')))
    })
}

/// Offset of the first character XML excludes (a C0 control other than tab, LF and CR, or
/// the non-characters U+FFFE / U+FFFF, UTF-8 `EF BF BE` / `EF BF BF`) in `input`.
#[cold]
fn first_forbidden(input: &[u8]) -> Option<usize> {
    input.iter().enumerate().position(|(i, &b)| {
        (b < 0x20 && !is_ws(b))
            || (b == 0xef && input.get(i + 1) == Some(&0xbf) && matches!(input.get(i + 2), Some(0xbe | 0xbf)))
    })
}

/// Decodes and checks the raw input: size and UTF-8. C0 controls are found as the tree is
/// built ([`Tree::read`]), not by a pass of their own.
pub(crate) fn check_input<'a>(input: &'a [u8], limits: &Limits) -> Result<&'a str, ValidationError> {
    limits.check_size(input.len())?;
    if input.starts_with(&[0xfe, 0xff]) || input.starts_with(&[0xff, 0xfe]) || input.starts_with(&[0, b'<']) {
        return Err(Rule::XmlEncoding.at("/", "UTF-16 input is not accepted"));
    }
    // The vectorised check first; std's, which says where the input goes wrong, on failure.
    if let Ok(src) = simdutf8::basic::from_utf8(input) {
        return Ok(src);
    }
    std::str::from_utf8(input)
        .map_err(|e| Rule::XmlEncoding.at("/", format!("invalid UTF-8 at byte {}", e.valid_up_to())))
}

/// The error for the first character XML excludes (a C0 control other than tab, LF, CR, or
/// U+FFFE / U+FFFF) in `input`, if any.
#[cold]
fn control_error(input: &[u8]) -> Option<ValidationError> {
    // The vectorised test first: most failing inputs have no such character.
    if !has_control(input) {
        return None;
    }
    let i = first_forbidden(input)?;
    let b = input.get(i).copied().unwrap_or(0);
    let detail = if b == 0xef {
        let c = if input.get(i + 2) == Some(&0xbe) { "FFFE" } else { "FFFF" };
        format!("non-character U+{c} at byte {i}")
    } else {
        format!("control character 0x{b:02x} at byte {i}")
    };
    Some(Rule::XmlEncoding.at("/", detail))
}

/// The general path's check of the bytes a token took: no C0 control, U+FFFE or U+FFFF
/// among them (the error names the input's first one, which no earlier token held). A
/// token starts and ends at ASCII delimiters, so no character straddles its bounds.
#[inline]
fn no_control_in(bytes: &[u8], from: usize, to: usize) -> Result<(), ValidationError> {
    let token = bytes.get(from..to).unwrap_or(&[]);
    if has_control(token) && first_forbidden(token).is_some() {
        return Err(control_error(bytes).unwrap_or_else(|| Rule::XmlEncoding.at("/", "control character")));
    }
    Ok(())
}

impl<'a> Tree<'a> {
    /// Checks and parses a raw input: [`check_input`], then [`Tree::parse`]. An input with a
    /// C0 control character fails with that, whatever else is wrong with it, as when the
    /// characters were checked first.
    #[inline(always)]
    pub(crate) fn read(input: &'a [u8], limits: &Limits) -> Result<Tree<'a>, ValidationError> {
        let src = check_input(input, limits)?;
        Tree::parse(src, limits).map_err(|e| control_error(input).unwrap_or(e))
    }

    /// Parses `src` (already checked by [`check_input`]) into a tree. A tree is returned only
    /// if `src` has no C0 control character, U+FFFE or U+FFFF: every byte is passed over
    /// either by a fast path that admits only known bytes (ASCII names, spaces and line
    /// breaks, character data without bytes below 0x20 or above 0x7f) or by the lexer's
    /// general path, whose tokens are scanned whole. On an error, [`Tree::read`] decides
    /// whether such a character takes precedence. Element names are not checked for
    /// namespace well-formedness here (see [`element_name_error`]).
    ///
    /// The loop handles the common shapes itself — `<name>` without attributes, an end tag
    /// that names the open element, indentation, and short character data without `&`/`>` —
    /// and hands everything else to the lexer's general path at the same offset, so the
    /// outcome (tree or error) is the lexer's for every input.
    pub(crate) fn parse(src: &'a str, limits: &Limits) -> Result<Tree<'a>, ValidationError> {
        Self::parse_impl::<true>(src, limits)
    }

    /// The reference builder: every token through the lexer's general path, no fast paths.
    /// Tests compare it with [`Tree::parse`] on samples and mutations.
    #[cfg(test)]
    pub(crate) fn parse_reference(src: &'a str, limits: &Limits) -> Result<Tree<'a>, ValidationError> {
        Self::parse_impl::<false>(src, limits)
    }

    #[inline(always)]
    fn parse_impl<const FAST: bool>(src: &'a str, limits: &Limits) -> Result<Tree<'a>, ValidationError> {
        let mut b = Builder {
            src,
            nodes: arena::take((src.len() / 40).min(1 << 16)),
            stack: arena::take_stack(limits.max_depth.min(64)),
            limits,
            transactions: [0; TRANSACTION_KINDS],
            root_closed: false,
            last_len: 0,
        };
        let bytes = src.as_bytes();
        let mut lexer = Lexer::new(src, limits);
        let max_text = lexer.max_text;
        loop {
            let mut pos = lexer.pos;
            let Some(&(mut first)) = bytes.get(pos) else { break };
            if !FAST {
                let tok = lexer.next_token()?;
                no_control_in(bytes, pos, lexer.pos)?;
                match tok {
                    Some(tok) => b.push(tok, lexer.offset())?,
                    None => break,
                }
                continue;
            }
            if first == b'\n' {
                // Indentation: a line break and spaces, then a tag. Before a start tag,
                // comment or PI it is never content; before an end tag it is content only
                // of an element without children (left to the text path below).
                let end = indent_end(bytes, pos);
                if end - pos <= max_text && bytes.get(end) == Some(&b'<') {
                    let skip = match bytes.get(end + 1) {
                        Some(b'/') => b.open_has_child(),
                        None => false,
                        Some(_) => true,
                    };
                    if skip {
                        // Straight on to the tag.
                        (pos, first) = (end, b'<');
                        lexer.pos = end;
                    }
                }
            }
            if first == b'<' {
                // The fast paths change the builder, so they stay out of match guards.
                #[allow(clippy::collapsible_match)]
                match bytes.get(pos + 1) {
                    Some(b'/') => {
                        if b.fast_end(bytes, pos) {
                            lexer.pos = pos + 3 + b.last_len;
                            continue;
                        }
                    }
                    Some(b'!' | b'?') => {}
                    Some(_) => {
                        if let Some(end) = b.fast_start(src, pos)? {
                            lexer.pos = end;
                            continue;
                        }
                    }
                    None => {}
                }
            } else if let Some(end) = b.fast_text(src, pos, lexer.max_text)? {
                lexer.pos = end;
                continue;
            }
            // General path, from the same offset; its tokens are scanned for C0 controls.
            let from = lexer.pos;
            let tok = lexer.next_token()?;
            no_control_in(bytes, from, lexer.pos)?;
            match tok {
                Some(tok) => b.push(tok, lexer.offset())?,
                None => break,
            }
        }
        if !b.stack.is_empty() || b.nodes.is_empty() {
            return Err(Rule::XmlSyntax.at("/", "unexpected end of input (unclosed element or no root)"));
        }
        Ok(Tree { nodes: std::mem::take(&mut b.nodes) })
    }

    pub(crate) fn node(&self, i: u32) -> Option<&Node<'a>> {
        self.nodes.get(i as usize)
    }

    /// Children of `i` in document order.
    pub(crate) fn children(&self, i: u32) -> Children<'_, 'a> {
        let next = self.node(i).map_or(NONE, |n| n.first_child);
        Children { tree: self, next }
    }

    /// Children of `i` with local name `name`, in document order (repeated elements).
    pub(crate) fn children_named<'t>(&'t self, i: u32, name: &'t str) -> impl Iterator<Item = u32> + 't {
        self.children(i).filter(move |&c| same_name(self.nodes[c as usize].local, name))
    }

    /// First child of `i` with local name `name`.
    pub(crate) fn child(&self, i: u32, name: &str) -> Option<u32> {
        let mut at = self.node(i)?.first_child;
        while let Some(n) = self.node(at) {
            if same_name(n.local, name) {
                return Some(at);
            }
            at = n.next_sibling;
        }
        None
    }

    /// The first child of `i` named each of `names`, found in one pass over the children
    /// (each slot as [`Tree::child`] would find it; the names must differ).
    #[inline]
    pub(crate) fn kids<const N: usize>(&self, i: u32, names: [&str; N]) -> [Option<u32>; N] {
        debug_assert!(
            names.iter().enumerate().all(|(k, a)| !names[..k].contains(a)),
            "kids: a name given twice would leave its second slot empty"
        );
        let mut found = [None; N];
        for c in self.children(i) {
            let local = self.nodes[c as usize].local;
            if let Some(k) = names.iter().position(|name| same_name(local, name)) {
                if let Some(slot) = found.get_mut(k) {
                    slot.get_or_insert(c);
                }
            }
        }
        found
    }

    /// Follows a `/`-separated chain of first-matching children.
    ///
    /// The path is never searched for its `/`s: each child's name is compared with the start
    /// of the rest of the path, and matches when the byte after it ends a segment (element
    /// names contain no `/`). A search would cost a mispredicted loop exit per segment.
    pub(crate) fn descend(&self, i: u32, path: &str) -> Option<u32> {
        let path = path.as_bytes();
        let mut at = i;
        let mut from = 0;
        loop {
            let rest = path.get(from..)?;
            let mut c = self.node(at)?.first_child;
            let len = loop {
                let n = self.node(c)?;
                let name = n.local.as_bytes();
                // The byte after a same-length segment must end it: that rejects most
                // siblings with one compare, as a length check would.
                let ends = match rest.get(name.len()) {
                    None => rest.len() == name.len(),
                    Some(&b) => b == b'/',
                };
                if ends && rest.get(..name.len()).is_some_and(|head| same_name_bytes(head, name)) {
                    if name.len() == rest.len() {
                        return Some(c);
                    }
                    break name.len();
                }
                c = n.next_sibling;
            };
            at = c;
            from += len + 1;
        }
    }

    /// One past the last node of the subtree rooted at `i` (nodes are in document order).
    pub(crate) fn subtree_end(&self, i: u32) -> usize {
        let mut at = i;
        while let Some(n) = self.node(at) {
            if n.next_sibling != NONE {
                return n.next_sibling as usize;
            }
            at = n.parent;
        }
        self.nodes.len()
    }

    /// Decoded text of `i` (entities resolved); borrowed unless it contained an `&`.
    pub(crate) fn text(&self, i: u32) -> Cow<'a, str> {
        match self.node(i) {
            Some(n) if n.text_verbatim => Cow::Borrowed(n.text), // verbatim: CDATA or no '&'
            Some(n) if n.text_mixed => escape::decode_content(n.text),
            Some(n) => escape::decode(n.text),
            None => Cow::Borrowed(""),
        }
    }

    /// Value of attribute `name` (matched on the local name), decoded.
    pub(crate) fn attr(&self, i: u32, name: &str) -> Option<Cow<'a, str>> {
        let n = self.node(i)?;
        let raw = first_attribute_named(n.attrs, name)
            .or_else(|| attributes(n.attrs).find(|(k, _)| local_name(k) == name).map(|(_, v)| v))?;
        Some(escape::decode(raw))
    }

    /// A readable path from the outermost ISO element (`Document`/`AppHdr`) down to `i`;
    /// repeated siblings get a 1-based `[n]`.
    #[cold]
    pub(crate) fn path(&self, i: u32) -> String {
        let mut parts = Vec::new();
        let mut at = i;
        while let Some(n) = self.node(at) {
            let idx = self.sibling_index(at);
            parts.push(match idx {
                Some(k) => format!("{}[{k}]", n.local),
                None => n.local.to_owned(),
            });
            if n.local == "Document" || n.local == "AppHdr" {
                break;
            }
            at = n.parent;
        }
        parts.reverse();
        format!("/{}", parts.join("/"))
    }

    fn sibling_index(&self, i: u32) -> Option<usize> {
        let n = self.node(i)?;
        let name = n.local;
        let mut index = 0;
        let mut total = 0;
        for c in self.children(n.parent) {
            if self.nodes[c as usize].local == name {
                total += 1;
                if c == i {
                    index = total;
                }
            }
        }
        let repeatable = total > 1 || is_transaction_element(name);
        (repeatable && index > 0).then_some(index)
    }
}

#[derive(Clone)]
pub(crate) struct Children<'t, 'a> {
    tree: &'t Tree<'a>,
    next: u32,
}

impl Iterator for Children<'_, '_> {
    type Item = u32;
    fn next(&mut self) -> Option<u32> {
        let cur = self.next;
        let n = self.tree.node(cur)?;
        self.next = n.next_sibling;
        Some(cur)
    }
}

/// Name equality without a libc call for the short names ISO uses.
#[inline]
pub(crate) fn same_name(a: &str, b: &str) -> bool {
    same_name_bytes(a.as_bytes(), b.as_bytes())
}

/// [`same_name`] on bytes. Names of up to 16 bytes (nearly all ISO element names) are
/// compared without a loop or a `bcmp` call: up to three bytes one by one (first, middle,
/// last cover them all), longer ones as two overlapping words, head and tail.
#[inline(always)]
pub(crate) fn same_name_bytes(a: &[u8], b: &[u8]) -> bool {
    let n = a.len();
    if n != b.len() {
        return false;
    }
    match n {
        1..=3 => a.first() == b.first() && a.get(n / 2) == b.get(n / 2) && a.last() == b.last(),
        4..=7 => word32(a, 0) == word32(b, 0) && word32(a, n - 4) == word32(b, n - 4),
        8..=16 => word64(a, 0) == word64(b, 0) && word64(a, n - 8) == word64(b, n - 8),
        _ => a == b,
    }
}

#[inline(always)]
fn word32(s: &[u8], at: usize) -> u32 {
    s.get(at..at + 4).and_then(|c| <[u8; 4]>::try_from(c).ok()).map_or(0, u32::from_le_bytes)
}

#[inline(always)]
fn word64(s: &[u8], at: usize) -> u64 {
    s.get(at..at + 8).and_then(|c| <[u8; 8]>::try_from(c).ok()).map_or(0, u64::from_le_bytes)
}

pub(crate) fn local_name(qname: &str) -> &str {
    match qname.bytes().rposition(|b| b == b':') {
        Some(i) => qname.get(i + 1..).unwrap_or(qname),
        None => qname,
    }
}

pub(crate) fn prefix(qname: &str) -> &str {
    match qname.bytes().position(|b| b == b':') {
        Some(i) => qname.get(..i).unwrap_or(""),
        None => "",
    }
}

/// The raw value when the first attribute is written exactly ` name="value"` (one space
/// before it, none around `=`), as an amount's ` Ccy="EUR"` is: the value [`attributes`]
/// yields first for that name, without its trims. `None` for anything else.
#[inline]
fn first_attribute_named<'a>(raw: &'a str, name: &str) -> Option<&'a str> {
    let rest = raw.strip_prefix(' ')?.strip_prefix(name)?.as_bytes();
    let quote = match rest {
        [b'=', q @ (b'"' | b'\''), ..] => *q,
        _ => return None,
    };
    let body = rest.get(2..)?;
    let end = crate::xml::lexer::find_byte(body, quote)?;
    let start = raw.len() - body.len();
    raw.get(start..start + end)
}

/// The XML namespace, bound to the prefix `xml` without a declaration.
const XML_NAMESPACE: &str = "http://www.w3.org/XML/1998/namespace";

/// The prefix attribute `qname` declares: `""` for `xmlns`, `p` for `xmlns:p`; `None` for any
/// other attribute.
#[inline]
pub(crate) fn declared_prefix(qname: &str) -> Option<&str> {
    if qname == "xmlns" {
        Some("")
    } else {
        qname.strip_prefix("xmlns:")
    }
}

/// The namespace (raw, entities not decoded) that `prefix` (`""`: the default namespace) is
/// bound to at node `at`: its own declarations first, then its ancestors'. `None` when the
/// prefix is not declared; `Some("")` for an undeclared default namespace (`xmlns=""`).
pub(crate) fn lookup_namespace<'a>(nodes: &[Node<'a>], mut at: u32, prefix: &str) -> Option<&'a str> {
    if prefix == "xml" {
        return Some(XML_NAMESPACE);
    }
    while let Some(n) = nodes.get(at as usize) {
        if !n.attrs.is_empty() {
            for (k, v) in attributes(n.attrs) {
                if declared_prefix(k) == Some(prefix) {
                    return Some(v);
                }
            }
        }
        at = n.parent;
    }
    None
}

/// Why the name of element `i` is not namespace-well-formed (Namespaces in XML 1.0), if it
/// is not: a name with a `:` must be `prefix:local` (each a name without `:`) with a declared
/// prefix. The builder leaves this to the walks that visit every element after it
/// (`envelope::locate`, the schema walk, [`subtree_name_error`]).
#[cold]
pub(crate) fn element_name_error(tree: &Tree<'_>, i: u32) -> Option<String> {
    let n = tree.node(i)?;
    if n.qname.len() == n.local.len() {
        return None;
    }
    let q = crate::error::shorten(n.qname);
    if !crate::xml::lexer::is_qname(n.qname, n.qname.len() - n.local.len()) {
        return Some(format!("element name '{q}' is not a qualified name"));
    }
    if lookup_namespace(&tree.nodes, i, prefix(n.qname)).is_none() {
        return Some(format!("namespace prefix of element '{q}' is not declared"));
    }
    None
}

/// [`element_name_error`] for the first element below `root` (not `root` itself) that has one.
#[cold]
pub(crate) fn subtree_name_error(tree: &Tree<'_>, root: u32) -> Option<String> {
    let end = u32::try_from(tree.subtree_end(root)).unwrap_or(NONE);
    (root.saturating_add(1)..end).find_map(|i| element_name_error(tree, i))
}

/// Iterates `(qname, raw value)` over attribute text the lexer has already validated.
pub(crate) fn attributes(raw: &str) -> Attributes<'_> {
    Attributes { rest: raw }
}

/// The iterator of [`attributes`].
pub(crate) struct Attributes<'a> {
    rest: &'a str,
}

impl<'a> Iterator for Attributes<'a> {
    type Item = (&'a str, &'a str);

    #[inline]
    fn next(&mut self) -> Option<(&'a str, &'a str)> {
        // Only XML whitespace can separate the parts (the lexer checked the syntax), so the
        // trims are ASCII ones, not `str::trim`'s Unicode ones.
        let xml_ws = |c: char| matches!(c, ' ' | '\t' | '\n' | '\r');
        let trimmed = self.rest.trim_start_matches(xml_ws);
        let eq = trimmed.bytes().position(|b| b == b'=')?;
        let name = trimmed.get(..eq)?.trim_end_matches(xml_ws);
        let after = trimmed.get(eq + 1..)?.trim_start_matches(xml_ws);
        let quote = *after.as_bytes().first()?;
        let body = after.get(1..)?;
        let end = crate::xml::lexer::find_byte(body.as_bytes(), quote)?;
        self.rest = body.get(end + 1..)?;
        Some((name, body.get(..end)?))
    }
}

/// End of the spaces after the line break at `pos` (`pos + 1` when none), eight at a time;
/// stops at the first other byte or eight bytes before the end of the input.
#[inline(always)]
fn indent_end(bytes: &[u8], pos: usize) -> usize {
    const SPACES: u64 = u64::from_le_bytes(*b"        ");
    let mut i = pos + 1;
    while let Some(chunk) = bytes.get(i..i + 8) {
        let word = <[u8; 8]>::try_from(chunk).map_or(0, u64::from_le_bytes);
        if word != SPACES {
            // Little-endian: the low bytes come first, so the trailing zero bits count the
            // spaces that start this word.
            return i + ((word ^ SPACES).trailing_zeros() / 8) as usize;
        }
        i += 8;
    }
    i
}

/// A leaf's plain content right after its start tag: ASCII character data without `&`, `>` or bytes
/// below 0x20, of at most `max_text` bytes, then `</qname>` byte for byte. Returns the text and the offset after
/// the end tag; `None` for anything else (the builder then takes the usual steps).
#[inline(always)]
fn leaf_text<'a>(src: &'a str, at: usize, qname: &str, max_text: usize) -> Option<(&'a str, usize)> {
    let bytes = src.as_bytes();
    let (len, special, low) = crate::xml::lexer::char_data_len(bytes.get(at..)?);
    let close = at + len;
    let q = qname.as_bytes();
    let name_at = close + 2;
    if special
        || low
        || len > max_text
        || bytes.get(close + 1) != Some(&b'/')
        || bytes.get(name_at + q.len()) != Some(&b'>')
        || !bytes.get(name_at..name_at + q.len()).is_some_and(|t| same_name_bytes(t, q))
    {
        return None;
    }
    Some((src.get(at..close)?, name_at + q.len() + 1))
}

struct Builder<'a, 'l> {
    src: &'a str,
    nodes: Vec<Node<'a>>,
    stack: Vec<u32>,
    limits: &'l Limits,
    /// Elements of each [`transaction_kind`] so far.
    transactions: [usize; TRANSACTION_KINDS],
    root_closed: bool,
    /// Length of the qname the last [`Builder::fast_end`] closed.
    last_len: usize,
}

/// The builder's allocations go back to this thread's spares, also when parsing fails.
impl Drop for Builder<'_, '_> {
    fn drop(&mut self) {
        arena::give_back_stack(std::mem::take(&mut self.stack));
        arena::give_back(std::mem::take(&mut self.nodes));
    }
}

impl<'a> Builder<'a, '_> {
    /// Whether the open element already has a child (so whitespace in it is not content).
    #[inline(always)]
    fn open_has_child(&self) -> bool {
        self.stack.last().and_then(|&top| self.nodes.get(top as usize)).is_some_and(|n| n.first_child != NONE)
    }

    /// `</qname>` closing the open element, byte for byte: pops it and returns `true`.
    /// Anything else (other name, spaces before `>`, no open element) is left to the lexer.
    #[inline(always)]
    fn fast_end(&mut self, bytes: &[u8], pos: usize) -> bool {
        let Some(&top) = self.stack.last() else { return false };
        let Some(open) = self.nodes.get(top as usize) else { return false };
        let q = open.qname.as_bytes();
        let from = pos + 2;
        if bytes.get(from + q.len()) != Some(&b'>')
            || !bytes.get(from..from + q.len()).is_some_and(|t| same_name_bytes(t, q))
        {
            return false;
        }
        self.stack.pop();
        self.root_closed = self.stack.is_empty();
        self.last_len = q.len();
        true
    }

    /// `<qname>` or `<qname/>` without attributes: adds the element and returns the offset
    /// after the tag, or `None` to leave the tag to the lexer.
    #[inline(always)]
    fn fast_start(&mut self, src: &'a str, pos: usize) -> Result<Option<usize>, ValidationError> {
        let bytes = src.as_bytes();
        let Some((len, local_at)) = crate::xml::lexer::scan_qname(bytes.get(pos + 1..).unwrap_or(&[])) else {
            return Ok(None);
        };
        let name_end = pos + 1 + len;
        let (end, empty) = match bytes.get(name_end) {
            Some(b'>') => (name_end + 1, false),
            Some(b'/') if bytes.get(name_end + 1) == Some(&b'>') => (name_end + 2, true),
            _ => return Ok(None),
        };
        let qname = src.get(pos + 1..name_end).unwrap_or("");
        let local = qname.get(local_at..).unwrap_or(qname);
        self.may_open(qname, end)?;
        // Indentation or a tag right after the start tag: an element with children (or an
        // empty one); anything else is probably a leaf's value.
        if !empty && !matches!(bytes.get(end), Some(b'\n' | b'<') | None) {
            if let Some((text, after)) = leaf_text(src, end, qname, self.limits.max_text_bytes) {
                // `<qname>text</qname>`: the element opens and closes here, with its text.
                self.start_named(qname, local, "", true)?;
                if let Some(node) = self.nodes.last_mut() {
                    node.text = text;
                    node.text_verbatim = true;
                }
                return Ok(Some(after));
            }
        }
        self.start_named(qname, local, "", empty)?;
        Ok(Some(end))
    }

    /// Whitespace followed by a start tag, comment or PI (never element content: skipped),
    /// whitespace before an end tag, and character data without `&`/`>`; `None` for the rest
    /// (long text, entity references, end of input), which the lexer handles.
    #[inline(always)]
    fn fast_text(
        &mut self,
        src: &'a str,
        pos: usize,
        max_text: usize,
    ) -> Result<Option<usize>, ValidationError> {
        let bytes = src.as_bytes();
        let rest = bytes.get(pos..).unwrap_or(&[]);
        let ws = crate::xml::lexer::skip_ws_len(rest);
        let len = if ws > 0 {
            if rest.get(ws) != Some(&b'<') || ws > max_text {
                return Ok(None);
            }
            if rest.get(ws + 1) != Some(&b'/') {
                return Ok(Some(pos + ws));
            }
            // White space before an end tag is the content of an element without children:
            // with a CR in it, the general path keeps it for line-end reading.
            if !self.open_has_child() && rest.get(..ws).is_some_and(|w| w.contains(&b'\r')) {
                return Ok(None);
            }
            ws
        } else {
            let (len, special, low) = crate::xml::lexer::char_data_len(rest);
            if special || low || len > max_text || len == rest.len() {
                return Ok(None);
            }
            len
        };
        let end = pos + len;
        let raw = src.get(pos..end).unwrap_or("");
        self.text(raw, true, ws > 0, end)?;
        Ok(Some(end))
    }

    fn push(&mut self, tok: Token<'a>, offset: usize) -> Result<(), ValidationError> {
        match tok {
            Token::Start { qname, attrs, empty, duplicate, prefixed } => {
                self.start(qname, attrs, empty, duplicate, prefixed, offset)
            }
            Token::End { qname } => self.end(qname, offset),
            Token::Text { raw, cdata, blank, plain } => {
                if raw.as_bytes().contains(&b'\r') {
                    return self.text_with_cr(raw, cdata, blank, plain, offset);
                }
                self.text(raw, cdata || plain, blank, offset)
            }
        }
    }

    fn start(
        &mut self,
        qname: &'a str,
        attrs: &'a str,
        empty: bool,
        duplicate: Option<&str>,
        prefixed: bool,
        offset: usize,
    ) -> Result<(), ValidationError> {
        self.may_open(qname, offset)?;
        if let Some(name) = duplicate {
            return Err(Rule::XmlSyntax.at("/", format!("duplicate attribute {name} on <{qname}>")));
        }
        self.start_named(qname, local_name(qname), attrs, empty)?;
        if prefixed {
            self.attribute_prefixes_declared()?;
        }
        Ok(())
    }

    /// Each prefixed attribute of the element just added, other than namespace
    /// declarations, uses a prefix declared in scope (Namespaces in XML 1.0). Element names
    /// are checked after the tree is built ([`element_name_error`]), by the walks that visit
    /// every element anyway: the fast paths here never look at prefixes.
    #[cold]
    fn attribute_prefixes_declared(&self) -> Result<(), ValidationError> {
        let idx = self.nodes.len().saturating_sub(1);
        let Some(n) = self.nodes.get(idx) else { return Ok(()) };
        let at = u32::try_from(idx).unwrap_or(NONE);
        let undeclared = attributes(n.attrs)
            .map(|(k, _)| k)
            .filter(|k| k.contains(':') && !k.starts_with("xmlns:"))
            .find(|k| lookup_namespace(&self.nodes, at, prefix(k)).is_none());
        if let Some(qname) = undeclared {
            let q = crate::error::shorten(qname);
            return Err(
                Rule::XmlSyntax.at("/", format!("namespace prefix of attribute '{q}' is not declared"))
            );
        }
        // Namespaces in XML 1.0 §6.3: no two attributes with the same local name and the
        // same namespace, whatever prefixes name it (`a:schemaLocation` and `b:schemaLocation`
        // with `a` and `b` bound to one namespace).
        let expanded: Vec<(Cow<'_, str>, &str, &str)> = attributes(n.attrs)
            .map(|(k, _)| k)
            .filter(|k| k.contains(':') && !k.starts_with("xmlns:"))
            .map(|k| {
                let ns = lookup_namespace(&self.nodes, at, prefix(k)).map(escape::decode).unwrap_or_default();
                (ns, local_name(k), k)
            })
            .collect();
        for (i, (ns, local, qname)) in expanded.iter().enumerate() {
            if let Some((_, _, other)) = expanded[..i].iter().find(|(n2, l2, _)| n2 == ns && l2 == local) {
                let (a, b) = (crate::error::shorten(other), crate::error::shorten(qname));
                return Err(
                    Rule::XmlSyntax.at("/", format!("attributes '{a}' and '{b}' name the same attribute"))
                );
            }
        }
        Ok(())
    }

    /// A new element may open: the root is still open (or not yet seen) and depth allows.
    #[inline(always)]
    fn may_open(&self, qname: &str, offset: usize) -> Result<(), ValidationError> {
        if self.root_closed {
            return Err(Rule::XmlSyntax.at("/", format!("second root element <{qname}> at offset {offset}")));
        }
        if self.stack.len() >= self.limits.max_depth {
            return Err(Rule::LimitDepth.at("/", format!("depth > {} at <{qname}>", self.limits.max_depth)));
        }
        Ok(())
    }

    #[inline(always)]
    fn start_named(
        &mut self,
        qname: &'a str,
        local: &'a str,
        attrs: &'a str,
        empty: bool,
    ) -> Result<(), ValidationError> {
        if let Some(kind) = transaction_kind(local) {
            if let Some(count) = self.transactions.get_mut(kind) {
                *count += 1;
                if *count > self.limits.max_transactions {
                    return Err(Rule::LimitTransactions.at(
                        "/",
                        format!(
                            "more than {} <{local}> (transactions/entries)",
                            self.limits.max_transactions
                        ),
                    ));
                }
            }
        }
        let Ok(idx) = u32::try_from(self.nodes.len()) else {
            return Err(Rule::LimitSize.at("/", "too many elements"));
        };
        let parent = self.stack.last().copied().unwrap_or(NONE);
        self.nodes.push(Node {
            qname,
            local,
            attrs,
            text: "",
            text_verbatim: false,
            text_mixed: false,
            text_split: false,
            parent,
            first_child: NONE,
            last_child: NONE,
            next_sibling: NONE,
        });
        if let Some(p) = self.nodes.get_mut(parent as usize) {
            let prev = p.last_child;
            p.last_child = idx;
            if prev == NONE {
                p.first_child = idx;
            } else if let Some(s) = self.nodes.get_mut(prev as usize) {
                s.next_sibling = idx;
            }
        }
        if empty {
            self.root_closed = parent == NONE;
        } else {
            self.stack.push(idx);
        }
        Ok(())
    }

    fn end(&mut self, qname: &str, offset: usize) -> Result<(), ValidationError> {
        let open = self.stack.pop().and_then(|i| self.nodes.get(i as usize)).map(|n| n.qname);
        match open {
            Some(name) if name == qname => {
                self.root_closed = self.stack.is_empty();
                Ok(())
            }
            Some(name) => {
                Err(Rule::XmlSyntax.at("/", format!("</{qname}> closes <{name}> at offset {offset}")))
            }
            None => Err(Rule::XmlSyntax.at("/", format!("stray </{qname}> at offset {offset}"))),
        }
    }

    #[inline(always)]
    fn text(&mut self, raw: &'a str, cdata: bool, blank: bool, offset: usize) -> Result<(), ValidationError> {
        let Some(&top) = self.stack.last() else {
            if !blank {
                return Err(
                    Rule::XmlSyntax.at("/", format!("text outside the root element at offset {offset}"))
                );
            }
            return Ok(());
        };
        let src = self.src;
        let Some(node) = self.nodes.get_mut(top as usize) else { return Ok(()) };
        if node.first_child != NONE {
            node.text_split |= !blank && !blank_when_decoded(raw, cdata);
        } else if node.text.is_empty() && !node.text_verbatim {
            node.text = raw;
            node.text_verbatim = cdata;
        } else if !blank || !node.text.bytes().all(is_ws) {
            further_piece(node, src, raw);
        }
        Ok(())
    }
}

impl<'a> Builder<'a, '_> {
    /// Character data with a literal CR, which XML reads as LF (§2.11): an element's first
    /// piece is kept for decoding rather than lent as written ([`Tree::text`] then reads it
    /// through `escape::decode`, or `decode_content` for a CDATA section, whose markup the
    /// kept span then includes); later pieces make the text mixed anyway.
    #[cold]
    fn text_with_cr(
        &mut self,
        raw: &'a str,
        cdata: bool,
        blank: bool,
        plain: bool,
        offset: usize,
    ) -> Result<(), ValidationError> {
        let first_piece = self
            .stack
            .last()
            .and_then(|&top| self.nodes.get(top as usize))
            .is_some_and(|n| n.first_child == NONE && n.text.is_empty() && !n.text_verbatim);
        if !first_piece {
            return self.text(raw, cdata || plain, blank, offset);
        }
        self.text(raw, false, blank, offset)?;
        if cdata {
            let src = self.src;
            if let Some(node) = self.stack.last().and_then(|&top| self.nodes.get_mut(top as usize)) {
                node.text = content_span(src, raw, raw);
                node.text_mixed = true;
            }
        }
        Ok(())
    }
}

/// Whether character data that is not literally white space is white space once its
/// character references are resolved (`&#32;`, `&#x9;`: still no content).
#[cold]
fn blank_when_decoded(raw: &str, cdata: bool) -> bool {
    !cdata && raw.contains('&') && escape::decode(raw).bytes().all(is_ws)
}

/// A further piece of a leaf's text, after a comment, PI or CDATA section: the text now
/// spans from the first piece to this one, markup included (rare; kept out of line).
#[cold]
fn further_piece<'a>(node: &mut Node<'a>, src: &'a str, raw: &'a str) {
    node.text = content_span(src, node.text, raw);
    node.text_mixed = true;
    node.text_verbatim = false;
}

/// The slice of `src` from the first text piece `first` to the last one `last`, widened to
/// take in the `<![CDATA[` / `]]>` markup when a piece is a CDATA section (a CDATA token is
/// its inner text; no other text piece is directly preceded by `<![CDATA[` or followed by
/// `]]>`). Offsets come from the slices' addresses; both borrow from `src`.
fn content_span<'a>(src: &'a str, first: &'a str, last: &'a str) -> &'a str {
    let base = src.as_ptr() as usize;
    let mut start = (first.as_ptr() as usize).saturating_sub(base);
    let mut end = (last.as_ptr() as usize).saturating_sub(base) + last.len();
    if start >= 9 && src.as_bytes().get(start - 9..start) == Some(b"<![CDATA[") {
        start -= 9;
    }
    if src.as_bytes().get(end..end + 3) == Some(b"]]>") {
        end += 3;
    }
    src.get(start..end).unwrap_or(last)
}

/// The shared test mutator (a path relative to this file's directory, `src/xml`).
#[cfg(test)]
#[path = "../../tests/support/mutate.rs"]
mod mutate_support;

#[cfg(test)]
mod tests {
    use super::{check_input, Tree};
    use crate::limits::Limits;

    const SAMPLES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/iso20022/samples");

    use super::mutate_support::mutate;

    /// `kids` finds, in one pass, what `child` finds name by name: the first child of each
    /// name, on every element of every shared sample (names taken from the sample itself,
    /// plus names no element has).
    #[test]
    fn kids_agree_with_child() {
        let Some(samples) = all_samples() else { return };
        let limits = Limits::default();
        let mut checked = 0;
        for bytes in &samples {
            let Ok(t) = Tree::read(bytes, &limits) else { continue };
            let mut names: Vec<&str> = t.nodes.iter().map(|n| n.local).collect();
            names.sort_unstable();
            names.dedup();
            for i in 0..t.nodes.len() as u32 {
                for chunk in names.chunks(3) {
                    let want = [chunk[0], chunk.get(1).copied().unwrap_or("NoSuchName"), "Absent"];
                    let got = t.kids(i, want);
                    for (name, found) in want.iter().zip(got) {
                        assert_eq!(found, t.child(i, name), "node {i}, {name}");
                        checked += usize::from(found.is_some());
                    }
                }
            }
        }
        assert!(checked > 1000, "only {checked} children found");
    }

    /// Every shared sample (valid, invalid, unvalidated), or `None` with a notice when the
    /// shared material is not beside the checkout.
    fn all_samples() -> Option<Vec<Vec<u8>>> {
        let mut samples = Vec::new();
        for dir in ["valid", "invalid", "unvalidated"] {
            let Ok(entries) = std::fs::read_dir(format!("{SAMPLES}/{dir}")) else { continue };
            for e in entries.filter_map(Result::ok) {
                samples.push(std::fs::read(e.path()).expect("read sample"));
            }
        }
        if samples.is_empty() {
            println!("NOTICE: shared samples not found; skipping");
            return None;
        }
        Some(samples)
    }

    /// The loop-free name compare agrees with `==` on every pair of names up to 20 bytes
    /// drawn from a small alphabet (so that near misses at every position occur).
    #[test]
    fn same_name_bytes_agrees_with_eq() {
        let mut names: Vec<Vec<u8>> = vec![Vec::new()];
        let mut x = 0x2545_f491_4f6c_dd1du64;
        for len in 1..=20usize {
            for _ in 0..40 {
                let name = (0..len)
                    .map(|_| {
                        x ^= x << 13;
                        x ^= x >> 7;
                        x ^= x << 17;
                        b"ab:"[(x % 3) as usize]
                    })
                    .collect();
                names.push(name);
            }
        }
        for a in &names {
            for b in &names {
                assert_eq!(super::same_name_bytes(a, b), a == b, "{a:?} vs {b:?}");
            }
        }
    }

    /// The control-character scan flags exactly the C0 controls other than tab, LF and CR, and
    /// the lead bytes from 0xEF up (U+FFFE / U+FFFF start with 0xEF).
    #[test]
    fn has_control_flags_exactly_the_forbidden_bytes() {
        for b in 0..=255u8 {
            let want = (b < 0x20 && !matches!(b, b'\t' | b'\n' | b'\r')) || b >= 0xef;
            let mut input = vec![b'a'; 700];
            input[600] = b;
            assert_eq!(super::has_control(&input), want, "byte {b:#04x}");
        }
    }

    /// A C0 control character anywhere — in a name, a value, an attribute, a comment, between
    /// tags, before or after the root — fails the read with the same error as a check of every
    /// byte up front would give (the first such character and its offset), also when the
    /// input has other faults; tab, LF and CR are accepted. Every shared sample, every
    /// forbidden byte, eight positions each.
    #[test]
    fn control_characters_fail_wherever_they_are() {
        let limits = Limits::default();
        let Some(samples) = all_samples() else { return };
        let mut x = 0x2545_f491_4f6c_dd1du64;
        let mut checked = 0;
        for sample in &samples {
            for b in (0u8..0x20).filter(|b| !matches!(b, b'\t' | b'\n' | b'\r')) {
                for _ in 0..8 {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    let at = (x % (sample.len() as u64 + 1)) as usize;
                    let mut input = sample.clone();
                    input.insert(at, b);
                    // `\0<` at the start reads as UTF-16, refused as such before anything else.
                    let Ok(text) = std::str::from_utf8(&input) else { continue };
                    if input.starts_with(&[0, b'<']) {
                        continue;
                    }
                    let first = input.iter().position(|&c| c < 0x20 && !matches!(c, b'\t' | b'\n' | b'\r'));
                    let at = first.expect("the inserted byte");
                    let want = format!("control character 0x{:02x} at byte {at}", input[at]);
                    let err = Tree::read(&input, &limits).expect_err(&want);
                    assert!(err.detail.ends_with(&want), "{}: {}", want, err.detail);
                    assert_eq!(
                        Tree::parse_reference(text, &limits).map(|_| ()).map_err(|_| ()),
                        Err(()),
                        "the reference builder refuses it too"
                    );
                    checked += 1;
                }
            }
        }
        assert!(checked > 10_000, "{checked}");
        for ok in ["<r>\ta\r\nb\n</r>", "<r a=\"\t\"/>", "<r>\n\t<x/>\r\n</r>", "<!-- \t -->\n<r/>\r\n"] {
            assert!(Tree::read(ok.as_bytes(), &limits).is_ok(), "{ok:?}");
        }
    }

    /// A repeated attribute name is refused, naming the first repeat, at any position
    /// (also past the eight names the lexer keeps at hand); distinct names pass.
    #[test]
    fn duplicate_attributes_are_refused() {
        let limits = Limits::default();
        let tag = |names: &[String]| {
            let attrs: String = names.iter().map(|n| format!(" {n}=\"v\"")).collect();
            format!("<r{attrs}/>")
        };
        let distinct: Vec<String> = (0..12).map(|i| format!("a{i}")).collect();
        assert!(Tree::parse(&tag(&distinct), &limits).is_ok());
        assert!(
            Tree::parse(r#"<r xmlns:p="urn:p" xmlns:q="urn:q" p:x="1" q:x="2"/>"#, &limits).is_ok(),
            "qnames differ"
        );
        for (len, repeat_of) in [(2, 0), (8, 6), (9, 0), (9, 7), (12, 3)] {
            let mut names = distinct[..len - 1].to_vec();
            names.push(names[repeat_of].clone());
            names.push(names[0].clone()); // a later repeat: the first one is named
            let err = Tree::parse(&tag(&names), &limits).expect_err("duplicate");
            let want = format!("duplicate attribute {} on <r>", names[repeat_of]);
            assert!(err.detail.ends_with(&want), "{len}/{repeat_of}: {}", err.detail);
        }
    }

    /// `descend` follows `/`-separated paths to the first matching child at each step.
    #[test]
    fn descend_follows_paths() {
        let limits = Limits::default();
        let t = Tree::parse(
            "<r><Id><Othr><Id>1</Id></Othr><IBAN>2</IBAN></Id><Id><IBAN>3</IBAN></Id></r>",
            &limits,
        )
        .expect("tree");
        let text = |p: &str| t.descend(0, p).map(|n| t.text(n).into_owned());
        assert_eq!(text("Id/Othr/Id").as_deref(), Some("1"));
        assert_eq!(text("Id/IBAN").as_deref(), Some("2"), "the first Id is followed");
        assert_eq!(t.descend(0, "Id/Othr").map(|n| t.nodes[n as usize].local), Some("Othr"));
        for missing in ["", "/", "Id/", "Id//IBAN", "I", "Idx", "Id/IBANx", "Id/IBA", "IBAN", "Id/Othr/Id/x"]
        {
            assert_eq!(t.descend(0, missing), None, "{missing:?}");
        }
    }

    /// A tree's node arena is reused by the next tree on the same thread (no allocation per
    /// message), and the reuse does not leak one message's nodes into the next.
    #[test]
    fn node_arena_is_reused_across_messages() {
        let limits = Limits::default();
        let first = Tree::parse("<a><b>x</b><c/></a>", &limits).expect("tree");
        let (at, cap) = (first.nodes.as_ptr() as usize, first.nodes.capacity());
        assert_eq!(first.nodes.len(), 3);
        drop(first);
        let second = Tree::parse("<z>y</z>", &limits).expect("tree");
        assert_eq!(second.nodes.as_ptr() as usize, at, "same allocation");
        assert_eq!(second.nodes.capacity(), cap);
        assert_eq!(second.nodes.len(), 1);
        assert_eq!((second.nodes[0].local, second.nodes[0].text), ("z", "y"));
    }

    /// The fast paths of the tree builder (indentation, plain start/end tags, plain text)
    /// give exactly the tree, or the error, of the lexer's general path: on every shared
    /// sample and 10,000 mutations of them, with default and with small limits.
    #[test]
    fn fast_builder_matches_reference_builder() {
        let Some(bases) = all_samples() else { return };
        let small = Limits { max_depth: 12, max_text_bytes: 24, max_transactions: 1, ..Limits::default() };
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        let (mut trees, mut errors) = (0, 0);
        for i in 0..bases.len() + 10_000 {
            let input = match bases.get(i) {
                Some(b) => b.clone(),
                None => mutate(&bases[i % bases.len()], &mut x),
            };
            let limits = if i % 4 == 3 { small } else { Limits::default() };
            let Ok(src) = check_input(&input, &limits) else { continue };
            let fast = Tree::parse(src, &limits).map(|t| format!("{:?}", t.nodes));
            let reference = Tree::parse_reference(src, &limits).map(|t| format!("{:?}", t.nodes));
            assert_eq!(fast, reference, "input #{i}: {}", String::from_utf8_lossy(&input));
            if fast.is_ok() {
                trees += 1;
            } else {
                errors += 1;
            }
        }
        // Both outcomes must be well represented for the comparison to mean anything.
        assert!(trees > 500 && errors > 500, "{trees} trees, {errors} errors");
    }

    /// The first-attribute shortcut finds exactly what iterating finds first for that name,
    /// whatever the layout: spacing, quotes, prefixes, other attributes before or after.
    #[test]
    fn first_attribute_shortcut_agrees_with_iteration() {
        use super::{attributes, first_attribute_named, local_name};
        let layouts = [
            " Ccy=\"EUR\"",
            " Ccy='EUR'",
            "  Ccy=\"EUR\"",
            " Ccy =\"EUR\"",
            " Ccy= \"EUR\"",
            "\tCcy=\"EUR\"",
            " Ccy=\"\"",
            " Ccy=\"a'b\" x=\"1\"",
            " x=\"1\" Ccy=\"EUR\"",
            " Ccyx=\"EUR\" Ccy=\"USD\"",
            " a:Ccy=\"EUR\"",
            " xmlns=\"urn:a\"",
            " xmlns:head=\"urn:h\" xmlns=\"urn:d\"",
            " xmlns:headx=\"urn:h\"",
            "",
        ];
        let mut hits = 0;
        for raw in layouts {
            for name in ["Ccy", "xmlns", "xmlns:head", "x"] {
                let iterated = attributes(raw).find(|(k, _)| *k == name).map(|(_, v)| v);
                if let Some(v) = first_attribute_named(raw, name) {
                    hits += 1;
                    assert_eq!(Some(v), iterated, "{raw:?} {name}");
                    // What `Tree::attr` matches on (the local name) agrees for unprefixed names.
                    if !name.contains(':') {
                        let by_local = attributes(raw).find(|(k, _)| local_name(k) == name).map(|(_, v)| v);
                        assert_eq!(Some(v), by_local, "{raw:?} {name}");
                    }
                }
            }
        }
        assert!(hits >= 5, "the shortcut must apply to the usual layouts ({hits})");
    }
}
