//! `Bic`: an ISO 9362 business identifier code (8 or 11 characters).

use std::fmt;
use std::str::FromStr;

/// A syntactically valid BIC (the ISO pattern; the country code is checked separately by
/// [`Bic::has_known_country`], because published translator samples use fictitious ones).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(try_from = "String", into = "String"))]
pub struct Bic(String);

fn is_upper_alnum(b: u8) -> bool {
    b.is_ascii_uppercase() || b.is_ascii_digit()
}

/// Whether `text` is what [`Bic::parse`] accepts (no allocation).
pub(crate) fn is_bic(text: &str) -> bool {
    let b = text.as_bytes();
    (b.len() == 8 || b.len() == 11)
        && b.iter().copied().all(is_upper_alnum)
        && b[4..6].iter().all(u8::is_ascii_uppercase)
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
        is_bic(text).then(|| Bic(text.to_owned()))
    }

    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Same institution and branch, comparing BIC8 as BIC11 with branch `XXX`.
    #[must_use]
    pub fn same_institution(&self, other: &Bic) -> bool {
        same_institution(&self.0, &other.0)
    }

    /// The 11-character form (BIC8 padded with `XXX`).
    #[must_use]
    pub fn bic11(&self) -> String {
        if self.0.len() == 8 {
            format!("{}XXX", self.0)
        } else {
            self.0.clone()
        }
    }

    /// Whether characters 5-6 are an ISO 3166 country code (or XK).
    #[must_use]
    pub fn has_known_country(&self) -> bool {
        self.0.get(4..6).is_some_and(country_exists)
    }

    /// Location character 2 is `0`: a test-and-training BIC.
    #[must_use]
    pub fn is_test(&self) -> bool {
        self.0.as_bytes().get(7) == Some(&b'0')
    }
}

/// ISO 3166 alpha-2 country (plus XK, which SWIFT uses for Kosovo).
pub(crate) fn country_exists(code: &str) -> bool {
    code == "XK" || iso_currency::Country::from_str(code).is_ok()
}

impl fmt::Display for Bic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
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
        b.0
    }
}
