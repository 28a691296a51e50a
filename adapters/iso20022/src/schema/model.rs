//! The in-memory form of one message schema: simple types with their facets, complex types
//! as a sequence or choice of element particles (the only shapes ISO 20022 schemas use),
//! simple content with attributes, and lax wildcards.
//!
//! Schemas are loaded once per process from the compact text the generator derives from the
//! official XSDs (see `schema::load` and `schema::sourcegen`).

use crate::schema::pattern::Pattern;

/// XSD built-in base of a simple type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Base {
    Str,
    Decimal,
    Date,
    DateTime,
    Time,
    Bool,
    GYear,
    GYearMonth,
    Base64,
}

impl Base {
    pub(crate) fn parse(name: &str) -> Option<Base> {
        Some(match name.strip_prefix("xs:").unwrap_or(name) {
            "string" => Base::Str,
            "decimal" => Base::Decimal,
            "date" => Base::Date,
            "dateTime" => Base::DateTime,
            "time" => Base::Time,
            "boolean" => Base::Bool,
            "gYear" => Base::GYear,
            "gYearMonth" => Base::GYearMonth,
            "base64Binary" => Base::Base64,
            _ => return None,
        })
    }
}

/// Business meaning attached to a simple type by name, so the business rules run in the same
/// pass as the facets. Only types with a value rule have one: a BIC's pattern is its facet,
/// and its country is deliberately not checked (see `Bic`), so BIC types are `Plain`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Semantic {
    Plain,
    Iban,
    ActiveCurrency,
}

impl Semantic {
    pub(crate) fn of(type_name: &str) -> Semantic {
        match type_name {
            "IBAN2007Identifier" => Semantic::Iban,
            "ActiveCurrencyCode" => Semantic::ActiveCurrency,
            _ => Semantic::Plain,
        }
    }
}

#[derive(Debug, Clone)]
pub(crate) struct SimpleType {
    pub(crate) name: Box<str>,
    pub(crate) base: Base,
    pub(crate) min_len: Option<u32>,
    pub(crate) max_len: Option<u32>,
    pub(crate) pattern: Option<Pattern>,
    pub(crate) enums: Vec<Box<str>>,
    pub(crate) total_digits: Option<u32>,
    pub(crate) fraction_digits: Option<u32>,
    /// `minInclusive` (ISO uses only `0`, for amounts).
    pub(crate) min_inclusive_zero: bool,
    pub(crate) semantic: Semantic,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TypeRef {
    Simple(u32),
    Complex(u32),
}

#[derive(Debug, Clone)]
pub(crate) struct Particle {
    pub(crate) name: Box<str>,
    /// [`name_key`] of `name`: most names are told apart by one word compare.
    pub(crate) key: u64,
    pub(crate) ty: TypeRef,
    pub(crate) min: u32,
    pub(crate) max: u32,
    /// Value rules that depend on the element name (`rules::values::flags_of`), resolved once.
    pub(crate) flags: u8,
}

impl Particle {
    /// Whether `name` (with `key == name_key(name)`) is this particle's element name.
    #[inline(always)]
    pub(crate) fn is_named(&self, name: &str, key: u64) -> bool {
        self.key == key
            && self.name.len() == name.len()
            && (name.len() <= 8 || self.name.as_bytes().get(8..) == name.as_bytes().get(8..))
    }
}

/// The first eight bytes of `name`, little-endian, zero-padded: equal names have equal keys,
/// and with equal lengths up to eight bytes equal keys mean equal names.
#[inline(always)]
pub(crate) fn name_key(name: &str) -> u64 {
    let b = name.as_bytes();
    let n = b.len();
    // Overlapping loads instead of a byte loop: the shifted tail re-ORs bytes the head
    // already holds, so the result is the zero-padded little-endian value.
    let byte = |at: usize| b.get(at).map_or(0, |&c| u64::from(c));
    let word32 = |at: usize| {
        b.get(at..at + 4)
            .and_then(|s| <[u8; 4]>::try_from(s).ok())
            .map_or(0, |w| u64::from(u32::from_le_bytes(w)))
    };
    match n {
        0 => 0,
        1..=3 => byte(0) | (byte(n / 2) << (8 * (n / 2))) | (byte(n - 1) << (8 * (n - 1))),
        4..=7 => word32(0) | (word32(n - 4) << (8 * (n - 4))),
        _ => b.get(..8).and_then(|s| <[u8; 8]>::try_from(s).ok()).map_or(0, u64::from_le_bytes),
    }
}

#[derive(Debug, Clone)]
pub(crate) struct AttrDecl {
    pub(crate) name: Box<str>,
    pub(crate) ty: u32,
    pub(crate) required: bool,
}

#[derive(Debug, Clone)]
pub(crate) enum Content {
    Seq(Vec<Particle>),
    Choice(Vec<Particle>),
    Simple {
        base: u32,
        attrs: Vec<AttrDecl>,
    },
    /// `<xs:sequence><xs:any processContents="lax" namespace=".."/></xs:sequence>`: exactly one
    /// element, in `namespace` (`None`: `##any`), with any well-formed content.
    Any {
        namespace: Option<Box<str>>,
    },
}

#[derive(Debug, Clone)]
pub(crate) struct ComplexType {
    pub(crate) content: Content,
}

#[derive(Debug)]
pub(crate) struct Schema {
    /// `pacs.008.001.08`.
    pub(crate) msg_def: Box<str>,
    pub(crate) namespace: Box<str>,
    pub(crate) root: Box<str>,
    pub(crate) root_ty: TypeRef,
    pub(crate) simple: Vec<SimpleType>,
    pub(crate) complex: Vec<ComplexType>,
}

impl Schema {
    pub(crate) fn simple(&self, i: u32) -> Option<&SimpleType> {
        self.simple.get(i as usize)
    }
    pub(crate) fn complex(&self, i: u32) -> Option<&ComplexType> {
        self.complex.get(i as usize)
    }
}

#[cfg(test)]
mod tests {
    /// `name_key` is the first eight bytes, little-endian and zero-padded, for every length.
    #[test]
    fn name_key_is_the_zero_padded_head() {
        let text = "ABCDEFGHIJKLMNOPQRSTUVWXYZ";
        for start in 0..4 {
            for len in 0..=12 {
                let name = &text[start..start + len];
                let mut head = [0u8; 8];
                let n = len.min(8);
                head[..n].copy_from_slice(&name.as_bytes()[..n]);
                assert_eq!(super::name_key(name), u64::from_le_bytes(head), "{name:?}");
            }
        }
    }
}
