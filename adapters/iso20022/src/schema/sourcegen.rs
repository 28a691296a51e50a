//! Test-only generator: derives `schemas/<msg-def>.txt` from the official XSDs in the shared
//! reference directory, in the style of rust-analyzer's sourcegen tests. Running the tests
//! rewrites a stale file and fails once, so the checked-in tables never drift from the XSDs.

use std::fmt::Write as _;

use crate::limits::Limits;
use crate::schema::pattern::Pattern;
use crate::xml::tree::Tree;

/// Compiles one XSD into the compact format described in `schema::load`.
pub(crate) fn compile_xsd(xsd: &[u8]) -> Result<String, String> {
    let limits = Limits {
        max_message_bytes: 8 << 20,
        max_depth: 64,
        max_text_bytes: 1 << 16,
        max_transactions: usize::MAX,
    };
    let tree = Tree::read(xsd, &limits).map_err(|e| e.to_string())?;
    let mut out = String::new();
    for top in tree.children(0) {
        match tree.nodes[top as usize].local {
            "element" => {
                let name = tree.attr(top, "name").unwrap_or_default();
                let ty = tree.attr(top, "type").unwrap_or_default();
                let ns = tree.attr(0, "targetNamespace").unwrap_or_default();
                writeln!(out, "N\t{ns}\t{name}\t{ty}").map_err(|e| e.to_string())?;
            }
            "simpleType" => simple(&tree, top, &mut out)?,
            "complexType" => complex(&tree, top, &mut out)?,
            _ => {}
        }
    }
    Ok(out)
}

fn simple(tree: &Tree<'_>, node: u32, out: &mut String) -> Result<(), String> {
    let name = tree.attr(node, "name").ok_or("simpleType without name")?;
    let r = tree.child(node, "restriction").ok_or_else(|| format!("{name}: no restriction"))?;
    let base = tree.attr(r, "base").ok_or("restriction without base")?;
    out.push_str(&format!("S\t{name}\t{base}"));
    for f in tree.children(r) {
        let facet = tree.nodes[f as usize].local;
        let value = tree.attr(f, "value").unwrap_or_default();
        if facet == "pattern" && Pattern::compile(&value).is_none() {
            return Err(format!("{name}: unsupported pattern {value}"));
        }
        if value.contains('\t') {
            return Err(format!("{name}: tab in facet value"));
        }
        out.push_str(&format!("\t{facet}={value}"));
    }
    out.push('\n');
    Ok(())
}

fn complex(tree: &Tree<'_>, node: u32, out: &mut String) -> Result<(), String> {
    let name = tree.attr(node, "name").ok_or("complexType without name")?;
    let body = tree.children(node).next().ok_or_else(|| format!("{name}: empty complexType"))?;
    match tree.nodes[body as usize].local {
        "simpleContent" => {
            let ext = tree.child(body, "extension").ok_or_else(|| format!("{name}: no extension"))?;
            let base = tree.attr(ext, "base").unwrap_or_default();
            out.push_str(&format!("X\t{name}\t{base}"));
            for a in tree.children(ext) {
                let an = tree.attr(a, "name").unwrap_or_default();
                let at = tree.attr(a, "type").unwrap_or_default();
                let req = if tree.attr(a, "use").as_deref() == Some("required") { "req" } else { "opt" };
                out.push_str(&format!("\t{an} {at} {req}"));
            }
        }
        kind @ ("sequence" | "choice") => {
            let mut group = body;
            let mut kind = if kind == "sequence" { "seq" } else { "choice" };
            let first = tree.children(body).next();
            if let Some(only) = first.filter(|&c| tree.nodes[c as usize].local == "choice") {
                if tree.children(body).count() != 1 {
                    return Err(format!("{name}: sequence mixing a choice and elements"));
                }
                group = only;
                kind = "choice";
            }
            if let Some(any) = first.filter(|&c| tree.nodes[c as usize].local == "any") {
                out.push_str(&format!("C\t{name}\tany\t{}", wildcard(tree, body, any, name.as_ref())?));
            } else {
                out.push_str(&format!("C\t{name}\t{kind}"));
                particles(tree, group, name.as_ref(), out)?;
            }
        }
        other => return Err(format!("{name}: unsupported complexType body {other}")),
    }
    out.push('\n');
    Ok(())
}

/// The namespace of a sequence holding one `xs:any` (the only wildcard the ISO schemas use):
/// `##any` or a namespace name; lax processing, exactly one element (the defaults).
fn wildcard(tree: &Tree<'_>, body: u32, any: u32, name: &str) -> Result<String, String> {
    if tree.children(body).count() != 1 {
        return Err(format!("{name}: a wildcard beside other particles"));
    }
    if tree.attr(any, "processContents").as_deref() != Some("lax") {
        return Err(format!("{name}: only lax wildcards are supported"));
    }
    if tree.attr(any, "minOccurs").is_some() || tree.attr(any, "maxOccurs").is_some() {
        return Err(format!("{name}: wildcard occurrence other than exactly one"));
    }
    let ns = tree.attr(any, "namespace").unwrap_or("##any".into());
    if ns.starts_with("##") && ns != "##any" || ns.contains(char::is_whitespace) {
        return Err(format!("{name}: unsupported wildcard namespace {ns}"));
    }
    Ok(ns.into_owned())
}

fn particles(tree: &Tree<'_>, group: u32, name: &str, out: &mut String) -> Result<(), String> {
    for e in tree.children(group) {
        if tree.nodes[e as usize].local != "element" {
            return Err(format!("{name}: unsupported particle {}", tree.nodes[e as usize].local));
        }
        let en = tree.attr(e, "name").unwrap_or_default();
        let et = tree.attr(e, "type").unwrap_or_default();
        let min = tree.attr(e, "minOccurs").unwrap_or("1".into());
        let max = tree.attr(e, "maxOccurs").unwrap_or("1".into());
        out.push_str(&format!("\t{en} {et} {min} {max}"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::compile_xsd;
    use crate::schema::registry::SCHEMAS;

    const XSD_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/iso20022/xsd");
    const OUT_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/schemas");

    #[test]
    fn sourcegen_schemas_are_fresh() {
        if !std::path::Path::new(XSD_DIR).is_dir() {
            println!("NOTICE: shared XSD directory not found; schema freshness not checked");
            return;
        }
        let mut stale = Vec::new();
        for (msg_def, _) in SCHEMAS {
            let xsd = std::fs::read(format!("{XSD_DIR}/{msg_def}.xsd")).expect("read xsd");
            let text = compile_xsd(&xsd).unwrap_or_else(|e| panic!("{msg_def}: {e}"));
            let path = format!("{OUT_DIR}/{msg_def}.txt");
            if std::fs::read_to_string(&path).ok().as_deref() != Some(text.as_str()) {
                std::fs::write(&path, &text).expect("write schema");
                stale.push(*msg_def);
            }
        }
        assert!(stale.is_empty(), "regenerated stale schema tables {stale:?}; rebuild and re-run the tests");
    }
}
