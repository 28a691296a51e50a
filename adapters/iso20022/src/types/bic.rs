//! `Bic`: an ISO 9362 business identifier code (8 or 11 characters).

use std::fmt;
use std::str::FromStr;

/// A syntactically valid BIC (the ISO pattern; the country code is checked separately by
/// [`Bic::has_known_country`], because published translator samples use fictitious ones).
///
/// Stored inline (11 bytes and a length), so reading a message's agents allocates nothing.
/// Unused bytes are zero, which keeps the derived order that of the text.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(try_from = "String", into = "String"))]
pub struct Bic {
    bytes: [u8; 11],
    len: u8,
}

fn is_upper_alnum(b: u8) -> bool {
    b.is_ascii_uppercase() || b.is_ascii_digit()
}

/// Whether `text` is what [`Bic::parse`] accepts (no allocation). Every byte is tested
/// without an early exit (a BIC is short, and the branch-free form compiles to straight code).
pub(crate) fn is_bic(text: &str) -> bool {
    let b = text.as_bytes();
    (b.len() == 8 || b.len() == 11)
        && b.iter().fold(true, |ok, &c| ok & is_upper_alnum(c))
        && b.get(4..6).is_some_and(|cc| cc.iter().all(u8::is_ascii_uppercase))
}

/// [`Bic::same_institution`] on texts: equal BIC11 forms (BIC8 = branch `XXX`).
pub(crate) fn same_institution(a: &str, b: &str) -> bool {
    fn branch(s: &str) -> &str {
        if s.len() == 8 {
            "XXX"
        } else {
            s.get(8..).unwrap_or("")
        }
    }
    a.get(..8) == b.get(..8) && branch(a) == branch(b)
}

impl Bic {
    /// Parses `AAAABBCC` or `AAAABBCCDDD`: 4 alphanumeric party prefix, ISO country, 2
    /// alphanumeric location, optional 3 alphanumeric branch.
    #[must_use]
    pub fn parse(text: &str) -> Option<Self> {
        if !is_bic(text) {
            return None;
        }
        // Byte by byte: a fixed-size loop, where a copy of the variable length is a libc call.
        let mut bytes = [0u8; 11];
        for (to, &from) in bytes.iter_mut().zip(text.as_bytes()) {
            *to = from;
        }
        Some(Bic { bytes, len: text.len() as u8 })
    }

    #[must_use]
    pub fn as_str(&self) -> &str {
        // Only `parse` builds a `Bic`, from ASCII text, so this never falls back.
        self.bytes.get(..usize::from(self.len)).and_then(|b| std::str::from_utf8(b).ok()).unwrap_or("")
    }

    /// Same institution and branch, comparing BIC8 as BIC11 with branch `XXX`.
    #[must_use]
    pub fn same_institution(&self, other: &Bic) -> bool {
        same_institution(self.as_str(), other.as_str())
    }

    /// The 11-character form (BIC8 padded with `XXX`).
    #[must_use]
    pub fn bic11(&self) -> String {
        if self.len == 8 {
            format!("{}XXX", self.as_str())
        } else {
            self.as_str().to_owned()
        }
    }

    /// Whether characters 5-6 are an ISO 3166 country code (or XK).
    #[must_use]
    pub fn has_known_country(&self) -> bool {
        self.as_str().get(4..6).is_some_and(country_exists)
    }

    /// Location character 2 is `0`: a test-and-training BIC.
    #[must_use]
    pub fn is_test(&self) -> bool {
        self.bytes[7] == b'0'
    }
}

/// ISO 3166 alpha-2 country (plus XK, which SWIFT uses for Kosovo).
pub(crate) fn country_exists(code: &str) -> bool {
    code == "XK" || iso_currency::Country::from_str(code).is_ok()
}

impl fmt::Display for Bic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for Bic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Bic").field(&self.as_str()).finish()
    }
}

impl TryFrom<String> for Bic {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        Bic::parse(&s).ok_or_else(|| format!("not a BIC: {s}"))
    }
}

impl From<Bic> for String {
    fn from(b: Bic) -> String {
        b.as_str().to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::Bic;

    /// The inline form behaves as the text: same string, order, equality and debug form.
    #[test]
    fn inline_bic_behaves_as_its_text() {
        let texts = ["DEUTDEFF", "DEUTDEFFXXX", "DEUTDEFF500", "CHASGB2L", "CHASGB2LXXX", "AAAAZA20"];
        let mut bics: Vec<Bic> = texts.iter().map(|t| Bic::parse(t).expect("valid BIC")).collect();
        for (b, t) in bics.iter().zip(texts) {
            assert_eq!(b.as_str(), t);
            assert_eq!(b.to_string(), t);
            assert_eq!(format!("{b:?}"), format!("Bic({t:?})"));
            assert_eq!(String::from(b.clone()), t);
        }
        let mut sorted_texts = texts.to_vec();
        sorted_texts.sort_unstable();
        bics.sort();
        assert_eq!(bics.iter().map(Bic::as_str).collect::<Vec<_>>(), sorted_texts);
        assert_ne!(bics[0], bics[1]);
        assert!(Bic::parse("DEUTDEFF")
            .expect("bic")
            .same_institution(&Bic::parse("DEUTDEFFXXX").expect("bic")));
        assert_eq!(Bic::parse("AAAAZA20").expect("bic").bic11(), "AAAAZA20XXX");
        assert!(Bic::parse("AAAAZA20").expect("bic").is_test());
        for bad in ["", "DEUTDEF", "DEUTDEFFXX", "DEUTDEFFXXXX", "deutdeff", "DEUT1EFF"] {
            assert!(Bic::parse(bad).is_none(), "{bad:?}");
        }
    }
}
