//! `Uetr`: the unique end-to-end transaction reference, a lowercase UUID v4 exactly as the
//! ISO pattern `[a-f0-9]{8}-[a-f0-9]{4}-4[a-f0-9]{3}-[89ab][a-f0-9]{3}-[a-f0-9]{12}` demands.

use std::fmt;

/// A lowercase UUID v4 UETR.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(try_from = "String", into = "String"))]
pub struct Uetr(String);

impl Uetr {
    /// Parses a lowercase UUID v4; uppercase is rejected.
    #[must_use]
    pub fn parse(text: &str) -> Option<Self> {
        let b = text.as_bytes();
        if b.len() != 36 {
            return None;
        }
        let hex = |c: u8| c.is_ascii_digit() || (b'a'..=b'f').contains(&c);
        let ok = b.iter().enumerate().all(|(i, &c)| match i {
            8 | 13 | 18 | 23 => c == b'-',
            14 => c == b'4',
            19 => matches!(c, b'8' | b'9' | b'a' | b'b'),
            _ => hex(c),
        });
        ok.then(|| Uetr(text.to_owned()))
    }

    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Uetr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for Uetr {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        Uetr::parse(&s).ok_or_else(|| format!("not a lowercase UUID v4: {s}"))
    }
}

impl From<Uetr> for String {
    fn from(u: Uetr) -> String {
        u.0
    }
}
