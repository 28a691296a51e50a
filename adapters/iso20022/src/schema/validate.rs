//! Validates one ISO part (a `Document` or an `AppHdr` element and its subtree) against its
//! schema. Walks the tree once, depth-first; every failure carries the element path built
//! from the walk (`[n]` on elements whose particle may repeat).
//!
//! The value rules the walk applies on the way (RULES.md: IBAN, currency, references,
//! amounts) are the second layer: the first of their failures is kept, not returned, and
//! reported only once the schema layer has passed — in this part and in the message's other
//! part — so a message that breaks the XSD anywhere gets the schema's reason, never a
//! business code of an element that happens to come first.

use crate::error::{shorten, ValidationError};
use crate::rule::Rule;
use crate::rules::values;
use crate::schema::lexical;
use crate::schema::model::{name_key, Base, Content, Particle, Schema, SimpleType, TypeRef};
use crate::spare::{self, Slot};
use crate::xml::tree::{
    attributes, declared_prefix, element_name_error, local_name, lookup_namespace, prefix, same_name,
    same_name_bytes, subtree_name_error, Tree, NONE,
};

/// The XML Schema instance namespace (`xsi:*` attributes).
const XSI_NAMESPACE: &str = "http://www.w3.org/2001/XMLSchema-instance";

/// Deepest recursion the walker allows regardless of `Limits::max_depth`.
const MAX_WALK_DEPTH: usize = 256;

thread_local! {
    /// The walk's element stack, kept per thread (`crate::spare`; at most `MAX_WALK_DEPTH + 1`
    /// entries).
    static WALK_STACK: Slot<(u32, bool)> = const { Slot::new(Vec::new()) };
}

pub(crate) struct Validator<'t, 'a> {
    tree: &'t Tree<'a>,
    schema: &'static Schema,
    prefix: &'a str,
    /// `(node, repeatable)` from the part's root down to the element being checked.
    stack: Vec<(u32, bool)>,
    /// The first value-rule failure met (see the module documentation).
    deferred: Option<ValidationError>,
}

impl<'t, 'a> Validator<'t, 'a> {
    /// Checks the subtree at `root` against `schema`; the caller has matched the namespace.
    /// `Err` is a schema failure; `Ok(Some(_))` the first value-rule failure of a part that
    /// is schema-valid, for the caller to report once every part passed the schema layer.
    pub(crate) fn run(
        tree: &'t Tree<'a>,
        root: u32,
        schema: &'static Schema,
    ) -> Result<Option<ValidationError>, ValidationError> {
        let Some(node) = tree.node(root) else { return Err(Rule::XmlSyntax.at("/", "no root")) };
        if node.local != &*schema.root {
            return Err(
                Rule::WrongMessageType.at(format!("/{}", node.local), format!("expected <{}>", schema.root))
            );
        }
        let stack = spare::take(&WALK_STACK, 32);
        // A name with the part's prefix is in the part's namespace, unless an element inside
        // binds that prefix to another one (Namespaces in XML allows it: only the names that use
        // it change meaning). Then no name is taken on its prefix: a prefix no name can have
        // sends every element to the namespace look-up.
        let part_prefix =
            if part_rebinds_prefix(tree, root, schema) { NO_NAME_PREFIX } else { prefix(node.qname) };
        let mut v = Validator { tree, schema, prefix: part_prefix, stack, deferred: None };
        let result = v.element(root, schema.root_ty, false, values::flags_of(&schema.root));
        spare::keep(&WALK_STACK, v.stack);
        result.map(|()| v.deferred)
    }

    /// Keeps the first value-rule failure (at the element on top of the stack).
    #[cold]
    fn defer(&mut self, rule: Rule, detail: String) {
        if self.deferred.is_none() {
            self.deferred = Some(self.fail(rule, detail));
        }
    }

    #[cold]
    fn path(&self) -> String {
        let mut out = String::new();
        for &(node, repeatable) in &self.stack {
            let n = &self.tree.nodes[node as usize];
            out.push('/');
            out.push_str(n.local);
            if repeatable {
                let index = self
                    .tree
                    .children(n.parent)
                    .filter(|&c| self.tree.nodes[c as usize].local == n.local)
                    .position(|c| c == node)
                    .map_or(1, |p| p + 1);
                out.push_str(&format!("[{index}]"));
            }
        }
        out
    }

    #[cold]
    fn fail(&self, rule: Rule, detail: impl AsRef<str>) -> ValidationError {
        rule.at(self.path(), detail)
    }

    fn element(
        &mut self,
        node: u32,
        ty: TypeRef,
        repeatable: bool,
        flags: u8,
    ) -> Result<(), ValidationError> {
        if self.stack.len() >= MAX_WALK_DEPTH {
            return Err(self.fail(Rule::LimitDepth, "schema walk too deep"));
        }
        self.stack.push((node, repeatable));
        let result = self.element_body(node, ty, flags);
        self.stack.pop();
        result
    }

    fn element_body(&mut self, node: u32, ty: TypeRef, flags: u8) -> Result<(), ValidationError> {
        let n = &self.tree.nodes[node as usize];
        let same_ns =
            || crate::envelope::namespace_of(self.tree, node).is_some_and(|ns| *ns == *self.schema.namespace);
        if !self.has_part_prefix(n.qname, n.local) {
            // Not the part's prefix: the name must be namespace-well-formed (the tree builder
            // leaves that to this walk), and in the message's namespace.
            if let Some(detail) = element_name_error(self.tree, node) {
                return Err(self.fail(Rule::XmlSyntax, detail));
            }
            if !same_ns() {
                return Err(
                    self.fail(Rule::XsdNamespace, format!("<{}> is not in the message namespace", n.qname))
                );
            }
        }
        match ty {
            TypeRef::Simple(s) => {
                self.check_attributes(node, None)?;
                self.no_children(node)?;
                let st = self.schema.simple(s).ok_or_else(|| self.fail(Rule::XsdFacet, "dangling type"))?;
                self.simple_value(node, st, flags)
            }
            TypeRef::Complex(c) => {
                let ct = self.schema.complex(c).ok_or_else(|| self.fail(Rule::XsdFacet, "dangling type"))?;
                match &ct.content {
                    Content::Seq(ps) => self.complex_children(node, ps, false),
                    Content::Choice(ps) => self.complex_children(node, ps, true),
                    Content::Simple { base, attrs } => self.simple_content(node, *base, attrs, flags),
                    Content::Any { namespace } => self.wildcard(node, namespace.as_deref()),
                }
            }
        }
    }

    /// Whether `qname` is the part's prefix, one `:` and `local` (its local name): the part's
    /// prefix is declared (its root was found through it) and has no `:`, so `qname` starting
    /// with it and a `:`, and being exactly that long, decides without a scan.
    #[inline(always)]
    fn has_part_prefix(&self, qname: &str, local: &str) -> bool {
        let q = qname.as_bytes();
        let p = self.prefix.as_bytes();
        if p.is_empty() {
            q.len() == local.len()
        } else {
            // `local` follows the last `:`, so the length puts that `:` right after the prefix.
            q.len() == p.len() + 1 + local.len()
                && q.get(..p.len()).is_some_and(|head| same_name_bytes(head, p))
        }
    }

    #[inline]
    fn no_children(&self, node: u32) -> Result<(), ValidationError> {
        match self.tree.children(node).next() {
            Some(c) => Err(match element_name_error(self.tree, c) {
                Some(detail) => self.fail(Rule::XmlSyntax, detail),
                None => self.fail(
                    Rule::XsdUnexpectedElement,
                    format!("<{}> not allowed in simple content", self.tree.nodes[c as usize].local),
                ),
            }),
            None => Ok(()),
        }
    }

    /// Attributes allowed everywhere: namespace declarations (ours must keep our namespace)
    /// and `xsi:*`; plus `decls` on simple content.
    #[inline(always)]
    fn check_attributes(
        &self,
        node: u32,
        decls: Option<&[crate::schema::model::AttrDecl]>,
    ) -> Result<(), ValidationError> {
        if self.tree.nodes[node as usize].attrs.is_empty() {
            return Ok(());
        }
        self.check_present_attributes(node, decls)
    }

    #[inline(never)]
    fn check_present_attributes(
        &self,
        node: u32,
        decls: Option<&[crate::schema::model::AttrDecl]>,
    ) -> Result<(), ValidationError> {
        let n = &self.tree.nodes[node as usize];
        for (qname, _) in attributes(n.attrs) {
            if qname == "xmlns" || qname.starts_with("xmlns:") {
                // Any declaration: a part whose prefix is bound elsewhere inside it is walked
                // with every name looked up (`part_rebinds_prefix`), so a name the binding
                // moves is refused as not in the message's namespace, and one it does not
                // move passes.
                continue;
            }
            let p = prefix(qname);
            // An attribute is XSI's by the namespace its prefix is bound to, not by the prefix.
            let xsi = !p.is_empty()
                && lookup_namespace(&self.tree.nodes, node, p)
                    .is_some_and(|ns| crate::xml::escape::decode(ns) == XSI_NAMESPACE);
            if xsi {
                // Schema locations are hints; type substitution (`xsi:type`) and `xsi:nil`
                // change what the element means, and no ISO 20022 type allows either.
                if matches!(local_name(qname), "schemaLocation" | "noNamespaceSchemaLocation") {
                    continue;
                }
                return Err(self.fail(
                    Rule::XsdAttribute,
                    format!("attribute '{qname}' is not allowed (no type substitution or nil in ISO 20022)"),
                ));
            }
            // Declared attributes are unqualified: a prefixed name is never one of them.
            let known = p.is_empty() && decls.is_some_and(|d| d.iter().any(|a| &*a.name == qname));
            if !known {
                return Err(self
                    .fail(Rule::XsdAttribute, format!("attribute '{}' is not allowed", local_name(qname))));
            }
        }
        Ok(())
    }

    fn complex_children(
        &mut self,
        node: u32,
        particles: &[Particle],
        choice: bool,
    ) -> Result<(), ValidationError> {
        self.check_attributes(node, None)?;
        self.element_only(node)?;
        let (mut pi, mut count) = (0usize, 0u32);
        let mut chosen = false;
        for child in self.tree.children(node) {
            let name = self.tree.nodes[child as usize].local;
            let key = name_key(name);
            loop {
                let Some(p) = particles.get(pi) else {
                    return Err(self.unexpected(child, particles, choice));
                };
                if count < p.max && p.is_named(name, key) {
                    count += 1;
                    chosen = true;
                    if !self.plain_leaf_ok(child, p) {
                        self.element(child, p.ty, p.max > 1, p.flags)?;
                    }
                    break;
                }
                if choice && chosen {
                    return Err(self.unexpected(child, particles, choice));
                }
                if !choice && count < p.min {
                    // An element of an earlier particle, or of none at all, is the fault; one
                    // of a later particle means this mandatory one was left out.
                    if !particles[pi..].iter().any(|q| same_name(&q.name, name)) {
                        return Err(self.unexpected(child, particles, choice));
                    }
                    return Err(self.ill_formed(child).unwrap_or_else(|| self.missing(&p.name, Some(name))));
                }
                pi += 1;
                count = 0;
            }
        }
        self.check_end(particles, pi, count, choice, chosen)
    }

    /// Element-only content: character data between the children is white space only.
    #[inline(always)]
    fn element_only(&self, node: u32) -> Result<(), ValidationError> {
        let n = &self.tree.nodes[node as usize];
        if n.text_split || !n.text.bytes().all(crate::xml::lexer::is_ws) {
            return self.element_only_slow(node);
        }
        Ok(())
    }

    /// White space may also be written as character references (`&#32;`): the decoded
    /// character data decides (pieces after the first child were decoded as they were read,
    /// see `text_split`).
    #[cold]
    #[inline(never)]
    fn element_only_slow(&self, node: u32) -> Result<(), ValidationError> {
        let n = &self.tree.nodes[node as usize];
        if n.text_split || !self.tree.text(node).bytes().all(crate::xml::lexer::is_ws) {
            return Err(self.fail(Rule::XsdText, "character data in element-only content"));
        }
        Ok(())
    }

    /// `xs:any` (lax): exactly one child element, in `namespace` if one is named, with any
    /// well-formed content (no declarations of its elements are known to check it against).
    fn wildcard(&mut self, node: u32, namespace: Option<&str>) -> Result<(), ValidationError> {
        if let Some(detail) = subtree_name_error(self.tree, node) {
            return Err(self.fail(Rule::XmlSyntax, detail));
        }
        self.check_attributes(node, None)?;
        self.element_only(node)?;
        let expected = || match namespace {
            Some(ns) => format!("one element in namespace {ns}"),
            None => "one element".to_owned(),
        };
        let mut children = self.tree.children(node);
        let Some(child) = children.next() else {
            return Err(self.fail(Rule::XsdMissingElement, format!("{} required", expected())));
        };
        if let Some(second) = children.next() {
            self.stack.push((second, false));
            let name = self.tree.nodes[second as usize].local;
            let e = self.fail(Rule::XsdTooMany, format!("<{name}> not allowed: {} only", expected()));
            self.stack.pop();
            return Err(e);
        }
        if let Some(ns) = namespace {
            let found = crate::envelope::namespace_of(self.tree, child);
            if found.as_deref() != Some(ns) {
                self.stack.push((child, false));
                let name = self.tree.nodes[child as usize].local;
                let e = self.fail(
                    Rule::XsdUnexpectedElement,
                    format!("<{name}> not allowed: {} expected", expected()),
                );
                self.stack.pop();
                return Err(e);
            }
        }
        self.lax_content(child)
    }

    /// Lax processing validates what it has a declaration for: an element of the wildcard's
    /// content, at any depth, that is this schema's global element (a copy of the `Document`
    /// in `SplmtryData/Envlp`) must be valid as one, as xmllint checks it. The business rules
    /// are the message's, not a copy's: value-rule failures inside it are not kept.
    fn lax_content(&mut self, child: u32) -> Result<(), ValidationError> {
        let end = self.tree.subtree_end(child);
        let mut at = child as usize;
        while at < end {
            let n = &self.tree.nodes[at];
            let i = u32::try_from(at).unwrap_or(NONE);
            if n.local != &*self.schema.root
                || crate::envelope::namespace_of(self.tree, i).is_none_or(|ns| *ns != *self.schema.namespace)
            {
                at += 1;
                continue;
            }
            self.copy_of_root(child, i)?;
            at = self.tree.subtree_end(i).max(at + 1);
        }
        Ok(())
    }

    /// Walks `copy` (inside the wildcard content starting at `child`) as the schema's root,
    /// with the elements between on the stack for its paths.
    #[cold]
    fn copy_of_root(&mut self, child: u32, copy: u32) -> Result<(), ValidationError> {
        let mut between = Vec::new();
        let mut up = self.tree.nodes[copy as usize].parent;
        if copy != child {
            while up != NONE {
                between.push(up);
                if up == child {
                    break;
                }
                up = self.tree.nodes[up as usize].parent;
            }
        }
        let depth = self.stack.len();
        self.stack.extend(between.iter().rev().map(|&n| (n, false)));
        let kept = self.deferred.take();
        let result = self.element(copy, self.schema.root_ty, false, values::flags_of(&self.schema.root));
        self.deferred = kept;
        self.stack.truncate(depth);
        result
    }

    /// The common leaf, checked without the general steps: a simple-typed element in the
    /// part's prefix, without attributes or children, whose text is one plain piece, and
    /// whose value passes. `true` only where [`Validator::element`] would pass it too; for
    /// anything else (and for every failure, to report it) the caller takes that path.
    #[inline(always)]
    fn plain_leaf_ok(&mut self, node: u32, p: &Particle) -> bool {
        let TypeRef::Simple(s) = p.ty else { return false };
        let n = &self.tree.nodes[node as usize];
        if !n.attrs.is_empty()
            || n.first_child != NONE
            || !n.text_verbatim
            || n.text_split
            || self.stack.len() >= MAX_WALK_DEPTH
            || !self.has_part_prefix(n.qname, n.local)
        {
            return false;
        }
        let Some(st) = self.schema.simple(s) else { return false };
        let value = facet_value(st, n.text);
        if failed_facet(st, value).is_some() {
            return false;
        }
        if !values::applies(p.flags, value, st.semantic) {
            return true;
        }
        // Value rules see the element on the stack, as in the general path.
        self.stack.push((node, p.max > 1));
        let ok = values::check(p.flags, value, st.semantic, &self.stack, self.tree).is_ok();
        self.stack.pop();
        ok
    }

    fn check_end(
        &self,
        particles: &[Particle],
        pi: usize,
        count: u32,
        choice: bool,
        chosen: bool,
    ) -> Result<(), ValidationError> {
        if choice {
            if !chosen && particles.iter().all(|p| p.min > 0) {
                let names: Vec<&str> = particles.iter().map(|p| &*p.name).collect();
                return Err(
                    self.fail(Rule::XsdMissingElement, format!("one of {} is required", names.join("|")))
                );
            }
            return Ok(());
        }
        if let Some(p) = particles.get(pi).filter(|p| count < p.min) {
            return Err(self.missing(&p.name, None));
        }
        match particles.iter().skip(pi + 1).find(|p| p.min > 0) {
            Some(p) => Err(self.missing(&p.name, None)),
            None => Ok(()),
        }
    }

    #[cold]
    fn missing(&self, name: &str, before: Option<&str>) -> ValidationError {
        let detail = match before {
            Some(b) => format!("mandatory <{name}> missing before <{b}>"),
            None => format!("mandatory <{name}> missing"),
        };
        self.fail(Rule::XsdMissingElement, detail)
    }

    /// The error for a child whose name is not namespace-well-formed, reported before any
    /// schema error about it (its name was matched by the local part only).
    #[cold]
    fn ill_formed(&mut self, child: u32) -> Option<ValidationError> {
        let detail = element_name_error(self.tree, child)?;
        self.stack.push((child, false));
        let e = self.fail(Rule::XmlSyntax, detail);
        self.stack.pop();
        Some(e)
    }

    #[cold]
    fn unexpected(&mut self, child: u32, particles: &[Particle], choice: bool) -> ValidationError {
        if let Some(e) = self.ill_formed(child) {
            return e;
        }
        let name = self.tree.nodes[child as usize].local;
        let known = particles.iter().find(|p| &*p.name == name);
        self.stack.push((child, known.is_some_and(|p| p.max > 1)));
        let e = match known {
            Some(p) if choice => {
                self.fail(Rule::XsdTooMany, format!("choice already made; <{}> not allowed", p.name))
            }
            Some(p) if p.max != u32::MAX && self.count_named(child) > p.max as usize => {
                self.fail(Rule::XsdTooMany, format!("<{name}> occurs more than {} times", p.max))
            }
            Some(_) => self.fail(Rule::XsdUnexpectedElement, format!("<{name}> is out of order")),
            None => self.fail(Rule::XsdUnexpectedElement, format!("<{name}> is not allowed here")),
        };
        self.stack.pop();
        e
    }

    fn count_named(&self, child: u32) -> usize {
        let n = &self.tree.nodes[child as usize];
        self.tree.children(n.parent).filter(|&c| self.tree.nodes[c as usize].local == n.local).count()
    }

    fn simple_content(
        &mut self,
        node: u32,
        base: u32,
        attrs: &[crate::schema::model::AttrDecl],
        flags: u8,
    ) -> Result<(), ValidationError> {
        self.check_attributes(node, Some(attrs))?;
        self.no_children(node)?;
        let st = self.schema.simple(base).ok_or_else(|| self.fail(Rule::XsdFacet, "dangling type"))?;
        self.simple_value(node, st, flags)?;
        let mut ccy = None;
        for a in attrs {
            let Some(value) = self.tree.attr(node, &a.name) else {
                if a.required {
                    return Err(
                        self.fail(Rule::XsdAttribute, format!("required attribute '{}' missing", a.name))
                    );
                }
                continue;
            };
            let at = self.schema.simple(a.ty).ok_or_else(|| self.fail(Rule::XsdFacet, "dangling type"))?;
            check_facets(at, &value).map_err(|d| self.fail(Rule::XsdFacet, format!("@{}: {d}", a.name)))?;
            if &*a.name == "Ccy" {
                ccy = Some((value, at.semantic));
            }
        }
        if let Some((ccy, semantic)) = ccy {
            let text = self.tree.text(node);
            if let Err((rule, d)) = values::amount(text.trim(), &ccy, semantic) {
                self.defer(rule, d);
            }
        }
        Ok(())
    }

    fn simple_value(&mut self, node: u32, st: &SimpleType, flags: u8) -> Result<(), ValidationError> {
        let n = &self.tree.nodes[node as usize];
        if n.text_split {
            return Err(self.fail(Rule::XsdText, "simple content mixed with elements"));
        }
        let text = self.tree.text(node);
        let value = facet_value(st, &text);
        check_facets(st, value).map_err(|d| self.fail(Rule::XsdFacet, d))?;
        if let Err((rule, d)) = values::check(flags, value, st.semantic, &self.stack, self.tree) {
            self.defer(rule, d);
        }
        Ok(())
    }
}

/// A prefix no element name has (`NUL` is no name character): the walk's prefix when names
/// cannot be taken on their prefix.
const NO_NAME_PREFIX: &str = "\0";

/// Whether an element below `root` binds the prefix of `root`'s name to a namespace other
/// than the schema's. One pass over the part's nodes, looking only at those with attributes.
fn part_rebinds_prefix(tree: &Tree<'_>, root: u32, schema: &Schema) -> bool {
    let Some(r) = tree.node(root) else { return false };
    let pfx = prefix(r.qname);
    let end = tree.subtree_end(root);
    tree.nodes.get(root as usize + 1..end).unwrap_or(&[]).iter().any(|n| {
        !n.attrs.is_empty()
            && n.attrs.contains("xmlns")
            && attributes(n.attrs).any(|(qname, value)| {
                declared_prefix(qname) == Some(pfx) && crate::xml::escape::decode(value) != *schema.namespace
            })
    })
}

/// The value the facets of `st` see: `xs:string` as written, every other base with XML
/// whitespace collapsed at both ends (`whiteSpace="collapse"`).
#[inline(always)]
fn facet_value<'v>(st: &SimpleType, text: &'v str) -> &'v str {
    if st.base == Base::Str {
        text
    } else {
        text.trim_matches(|c| matches!(c, ' ' | '\t' | '\n' | '\r'))
    }
}

/// Checks every facet of `st` on `value` (whitespace already handled per base type).
pub(crate) fn check_facets(st: &SimpleType, value: &str) -> Result<(), String> {
    match failed_facet(st, value) {
        None => Ok(()),
        Some(facet) => Err(describe(st, value, facet)),
    }
}

/// The facet of a simple type that a value breaks.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Facet {
    Lexical,
    Length(usize),
    Enumeration,
    Pattern,
    TotalDigits,
    FractionDigits,
    Negative,
}

/// The first facet of `st` that `value` breaks, if any: the test alone, with no text built,
/// so the passing case stays small; [`describe`] words a failure.
#[inline]
pub(crate) fn failed_facet(st: &SimpleType, value: &str) -> Option<Facet> {
    // base64Binary's length facets count decoded octets, which its lexical check yields.
    let mut octets = None;
    let lexical_ok = match st.base {
        Base::Str => true,
        Base::Base64 => {
            octets = lexical::base64_octets(value);
            octets.is_some()
        }
        Base::Decimal => return failed_decimal_facet(st, value),
        Base::Date => lexical::date(value),
        Base::DateTime => lexical::date_time(value),
        Base::Time => lexical::time(value),
        Base::Bool => lexical::boolean(value),
        Base::GYear => lexical::g_year(value),
        Base::GYearMonth => lexical::g_year_month(value),
    };
    if !lexical_ok {
        return Some(Facet::Lexical);
    }
    if let Some(len) = octets {
        if st.min_len.is_some_and(|m| len < m as usize) || st.max_len.is_some_and(|m| len > m as usize) {
            return Some(Facet::Length(len));
        }
    }
    if st.base == Base::Str && !length_surely_ok(st, value) {
        let len = value.chars().count();
        if st.min_len.is_some_and(|m| len < m as usize) || st.max_len.is_some_and(|m| len > m as usize) {
            return Some(Facet::Length(len));
        }
    }
    if !st.enums.is_empty() && !st.enums.iter().any(|e| &**e == value) {
        return Some(Facet::Enumeration);
    }
    match &st.pattern {
        Some(p) if !p.is_match(value) => Some(Facet::Pattern),
        _ => None,
    }
}

/// Whether the length facets of `st` hold for `value` without counting its characters: a
/// UTF-8 string of `n` bytes has between `ceil(n / 4)` and `n` characters.
#[inline]
fn length_surely_ok(st: &SimpleType, value: &str) -> bool {
    let bytes = value.len();
    st.max_len.is_none_or(|m| bytes <= m as usize)
        && st.min_len.is_none_or(|m| bytes.div_ceil(4) >= m as usize)
}

fn failed_decimal_facet(st: &SimpleType, value: &str) -> Option<Facet> {
    let Some(d) = lexical::decimal(value) else { return Some(Facet::Lexical) };
    if st.total_digits.is_some_and(|t| d.total_digits() > t as usize) {
        return Some(Facet::TotalDigits);
    }
    if st.fraction_digits.is_some_and(|f| d.fraction_digits() > f as usize) {
        return Some(Facet::FractionDigits);
    }
    if st.min_inclusive_zero && d.negative && !d.is_zero() {
        return Some(Facet::Negative);
    }
    if !st.enums.is_empty() && !st.enums.iter().any(|e| &**e == value) {
        return Some(Facet::Enumeration);
    }
    None
}

/// The readable detail of a facet failure.
#[cold]
#[inline(never)]
fn describe(st: &SimpleType, value: &str, facet: Facet) -> String {
    let v = shorten(value);
    match facet {
        Facet::Lexical if st.base == Base::Decimal => format!("'{v}' is not a decimal ({})", st.name),
        Facet::Lexical => format!("'{v}' is not a valid {:?} ({})", st.base, st.name),
        Facet::Length(len) => format!(
            "length {len} outside {}..{} ({})",
            st.min_len.unwrap_or(0),
            st.max_len.map_or("∞".to_owned(), |m| m.to_string()),
            st.name
        ),
        Facet::Enumeration if st.base == Base::Decimal => format!("'{v}' is not allowed"),
        Facet::Enumeration => format!("'{v}' is not a code of {}", st.name),
        Facet::Pattern => {
            let source = st.pattern.as_ref().map_or("", |p| p.source());
            format!("'{v}' does not match {source} ({})", st.name)
        }
        Facet::TotalDigits => format!("'{v}' has more than {} digits", st.total_digits.unwrap_or(0)),
        Facet::FractionDigits => format!("'{v}' has more than {} decimals", st.fraction_digits.unwrap_or(0)),
        Facet::Negative => format!("'{v}' is negative"),
    }
}
