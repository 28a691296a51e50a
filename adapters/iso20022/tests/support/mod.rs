//! Shared helpers for the data-driven tests: locating the shared sample directories and
//! running xmllint when it is installed.

#![allow(dead_code)]

pub mod mutate;

use std::path::{Path, PathBuf};
use std::process::Command;

pub const SHARED: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/iso20022");

/// `(file name, bytes)` of every `.xml` in `samples/<dir>`, sorted; empty (with a notice)
/// when the shared material is absent.
pub fn samples(dir: &str) -> Vec<(String, Vec<u8>)> {
    let path = Path::new(SHARED).join("samples").join(dir);
    let Ok(entries) = std::fs::read_dir(&path) else {
        println!("NOTICE: {} not found; skipping", path.display());
        return Vec::new();
    };
    let mut out: Vec<(String, Vec<u8>)> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "xml"))
        .map(|p| {
            let name = p.file_name().unwrap_or_default().to_string_lossy().into_owned();
            (name, std::fs::read(&p).expect("read sample"))
        })
        .collect();
    out.sort();
    out
}

pub fn xsd(msg_def: &str) -> PathBuf {
    Path::new(SHARED).join("xsd").join(format!("{msg_def}.xsd"))
}

pub fn xmllint_available() -> bool {
    Command::new("xmllint").arg("--version").output().is_ok()
}

/// Validates `xml` against the XSD of `msg_def` with xmllint; `Err` carries its output.
pub fn xmllint(xml: &[u8], msg_def: &str, name: &str) -> Result<(), String> {
    let dir = std::env::temp_dir().join(format!("iso20022-xmllint-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let file = dir.join(format!("{name}.xml"));
    std::fs::write(&file, xml).map_err(|e| e.to_string())?;
    let out = Command::new("xmllint")
        .args(["--noout", "--nonet", "--schema"])
        .arg(xsd(msg_def))
        .arg(&file)
        .output()
        .map_err(|e| e.to_string())?;
    if out.status.success() {
        Ok(())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).into_owned())
    }
}

/// Validates `xml` with xmllint unless it is not installed (prints a notice then).
pub fn lint_or_skip(xml: &[u8], doc_def: &str, name: &str) {
    if !xmllint_available() {
        println!("NOTICE: xmllint not installed; XSD check of {name} skipped");
        return;
    }
    let (hdr, doc) = split_parts(xml);
    if let Some(h) = hdr {
        let v = hdr_version(&h);
        xmllint(h.as_bytes(), &v, &format!("{name}-hdr"))
            .unwrap_or_else(|e| panic!("{name} AppHdr: {e}\n{h}"));
    }
    xmllint(doc.as_bytes(), doc_def, name).unwrap_or_else(|e| panic!("{name} Document: {e}\n{doc}"));
}

fn hdr_version(hdr: &str) -> String {
    let key = "urn:iso:std:iso:20022:tech:xsd:";
    hdr.find(key)
        .and_then(|i| hdr.get(i + key.len()..i + key.len() + 15))
        .unwrap_or("head.001.001.02")
        .to_owned()
}

/// Splits our envelope output into standalone AppHdr / Document texts for xmllint.
pub fn split_parts(xml: &[u8]) -> (Option<String>, String) {
    let text = String::from_utf8_lossy(xml).into_owned();
    let cut = |open: &str, close: &str| -> Option<String> {
        let s = text.find(open)?;
        let e = text.find(close)? + close.len();
        Some(format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n{}", &text[s..e]))
    };
    let hdr = cut("<AppHdr", "</AppHdr>");
    let doc = cut("<Document", "</Document>").unwrap_or(text.clone());
    (hdr, doc)
}

/// The message id a sample's file name starts with.
pub fn msg_def_of(name: &str) -> &str {
    name.split("__").next().unwrap_or("")
}
