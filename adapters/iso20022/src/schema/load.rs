//! Loads a schema from the compact, line-oriented text the generator writes to
//! `schemas/<msg-def>.txt` (one line per type, tab-separated):
//!
//! ```text
//! N <namespace> <root element> <root type>
//! S <name> <xs:base> [facet=value]...        facets: minLength maxLength length pattern
//!                                            enumeration totalDigits fractionDigits minInclusive
//! C <name> seq|choice [element type min max]...   (particle fields space-separated)
//! C <name> any <namespace>                          (one lax wildcard: `##any` or a URI)
//! X <name> <simple base> [attr type req|opt]...      (simple content with attributes)
//! ```
//!
//! The texts are compiled into the crate; a malformed one is a build defect, caught by the
//! tests that load every schema.

use std::collections::HashMap;

use crate::schema::model::{
    AttrDecl, Base, ComplexType, Content, Particle, Schema, Semantic, SimpleType, TypeRef,
};
use crate::schema::pattern::Pattern;

/// Parses compact schema text; `Err` names the offending line.
pub(crate) fn load(msg_def: &str, text: &str) -> Result<Schema, String> {
    let mut names: HashMap<&str, TypeRef> = HashMap::new();
    let (mut n_simple, mut n_complex) = (0u32, 0u32);
    for line in text.lines() {
        let mut f = line.split('\t');
        match (f.next(), f.next()) {
            (Some("S"), Some(name)) => {
                names.insert(name, TypeRef::Simple(n_simple));
                n_simple += 1;
            }
            (Some("C" | "X"), Some(name)) => {
                names.insert(name, TypeRef::Complex(n_complex));
                n_complex += 1;
            }
            _ => {}
        }
    }
    let mut schema = Schema {
        msg_def: msg_def.into(),
        namespace: "".into(),
        root: "".into(),
        root_ty: TypeRef::Complex(0),
        simple: Vec::new(),
        complex: Vec::new(),
    };
    for (n, line) in text.lines().enumerate() {
        let fields: Vec<&str> = line.split('\t').collect();
        load_line(&mut schema, &names, &fields).map_err(|e| format!("{msg_def} line {}: {e}", n + 1))?;
    }
    Ok(schema)
}

fn resolve(names: &HashMap<&str, TypeRef>, name: &str) -> Result<TypeRef, String> {
    names.get(name).copied().ok_or_else(|| format!("unknown type {name}"))
}

fn load_line(schema: &mut Schema, names: &HashMap<&str, TypeRef>, f: &[&str]) -> Result<(), String> {
    match f {
        ["N", ns, root, root_ty] => {
            schema.namespace = (*ns).into();
            schema.root = (*root).into();
            schema.root_ty = resolve(names, root_ty)?;
        }
        ["S", name, base, facets @ ..] => schema.simple.push(simple_type(name, base, facets)?),
        ["C", _name, kind, particles @ ..] => {
            let ps = || particles.iter().map(|p| particle(names, p)).collect::<Result<Vec<_>, _>>();
            let content = match *kind {
                "seq" => Content::Seq(ps()?),
                "choice" => Content::Choice(ps()?),
                "any" => match particles {
                    [ns] if *ns == "##any" => Content::Any { namespace: None },
                    [ns] => Content::Any { namespace: Some((*ns).into()) },
                    _ => return Err("a wildcard names one namespace".into()),
                },
                other => return Err(format!("unknown content kind {other}")),
            };
            schema.complex.push(ComplexType { content });
        }
        ["X", _name, base, attrs @ ..] => {
            let TypeRef::Simple(base) = resolve(names, base)? else {
                return Err("complex simple-content base".into());
            };
            let attrs = attrs.iter().map(|a| attribute(names, a)).collect::<Result<Vec<_>, _>>()?;
            schema.complex.push(ComplexType { content: Content::Simple { base, attrs } });
        }
        [""] | [] => {}
        other => return Err(format!("unrecognised line {:?}", other.first())),
    }
    Ok(())
}

fn simple_type(name: &str, base: &str, facets: &[&str]) -> Result<SimpleType, String> {
    let mut t = SimpleType {
        name: name.into(),
        base: Base::parse(base).ok_or_else(|| format!("unsupported base {base}"))?,
        min_len: None,
        max_len: None,
        pattern: None,
        enums: Vec::new(),
        total_digits: None,
        fraction_digits: None,
        min_inclusive_zero: false,
        semantic: Semantic::of(name),
    };
    for facet in facets {
        let (k, v) = facet.split_once('=').ok_or_else(|| format!("bad facet {facet}"))?;
        let n = || v.parse::<u32>().map_err(|_| format!("bad number in {facet}"));
        match k {
            "minLength" => t.min_len = Some(n()?),
            "maxLength" => t.max_len = Some(n()?),
            "length" => (t.min_len, t.max_len) = (Some(n()?), Some(n()?)),
            "totalDigits" => t.total_digits = Some(n()?),
            "fractionDigits" => t.fraction_digits = Some(n()?),
            "minInclusive" if v == "0" => t.min_inclusive_zero = true,
            "enumeration" => t.enums.push(v.into()),
            "pattern" => {
                t.pattern = Some(Pattern::compile(v).ok_or_else(|| format!("unsupported pattern {v}"))?);
            }
            _ => return Err(format!("unsupported facet {facet}")),
        }
    }
    Ok(t)
}

fn particle(names: &HashMap<&str, TypeRef>, text: &str) -> Result<Particle, String> {
    let parts: Vec<&str> = text.split(' ').collect();
    let [name, ty, min, max] = parts[..] else { return Err(format!("bad particle {text}")) };
    Ok(Particle {
        name: name.into(),
        key: crate::schema::model::name_key(name),
        flags: crate::rules::values::flags_of(name),
        ty: resolve(names, ty)?,
        min: min.parse().map_err(|_| format!("bad minOccurs in {text}"))?,
        max: if max == "unbounded" {
            u32::MAX
        } else {
            max.parse().map_err(|_| format!("bad maxOccurs in {text}"))?
        },
    })
}

fn attribute(names: &HashMap<&str, TypeRef>, text: &str) -> Result<AttrDecl, String> {
    let parts: Vec<&str> = text.split(' ').collect();
    let [name, ty, req] = parts[..] else { return Err(format!("bad attribute {text}")) };
    let TypeRef::Simple(ty) = resolve(names, ty)? else {
        return Err(format!("complex attribute type in {text}"));
    };
    Ok(AttrDecl { name: name.into(), ty, required: req == "req" })
}
