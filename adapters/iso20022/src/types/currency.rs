//! `Currency`: an active ISO 4217 settlement currency, stored inline as three ASCII bytes.
//!
//! Active means: known to the `iso_currency` table, not superseded, has a minor unit, and is
//! not a special code (XAU, XAG, XPD, XPT, XDR, XTS, XXX, ...), so commodity codes never pass.

use std::fmt;
use std::sync::OnceLock;

/// An active ISO 4217 currency code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(try_from = "String", into = "String"))]
pub struct Currency {
    code: [u8; 3],
    /// Minor-unit decimals, derived from `code` (cached: the table lookup is a string match).
    minor: u8,
}

impl Currency {
    /// Parses an active ISO 4217 code (`"EUR"`); `None` for unknown, historic or special codes.
    #[must_use]
    pub fn parse(code: &str) -> Option<Self> {
        let bytes: [u8; 3] = code.as_bytes().try_into().ok()?;
        if !bytes.iter().all(u8::is_ascii_uppercase) {
            return None;
        }
        let index = bytes.iter().fold(0usize, |acc, &b| acc * 26 + usize::from(b - b'A'));
        match active_table().get(index).copied() {
            Some(minor) if minor != NOT_ACTIVE => Some(Currency { code: bytes, minor }),
            _ => None,
        }
    }

    /// The three-letter code.
    #[must_use]
    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.code).unwrap_or("XXX")
    }

    /// Number of decimals of the minor unit (JPY 0, EUR 2, BHD 3, CLF 4).
    #[must_use]
    pub fn minor_units(&self) -> u8 {
        self.minor
    }
}

const NOT_ACTIVE: u8 = u8::MAX;

/// Codes `iso_currency` 0.5 marks superseded that ISO 4217's current list (List One) still
/// carries: VES (928, bolívar soberano) stands beside VED (926, bolívar digital, added in
/// 2021); it was not replaced by it.
const STILL_ACTIVE: &[&str] = &["VES"];

/// Minor units of every active code, indexed by the code read as a base-26 number
/// (`AAA` = 0 .. `ZZZ` = 17575); built once from `iso_currency`, whose lookup is a long
/// string match too slow for the per-amount hot path.
fn active_table() -> &'static [u8] {
    static TABLE: OnceLock<Vec<u8>> = OnceLock::new();
    TABLE.get_or_init(|| {
        let mut table = vec![NOT_ACTIVE; 26 * 26 * 26];
        for (index, slot) in table.iter_mut().enumerate() {
            let code = [index / 676, index / 26 % 26, index % 26].map(|d| char::from(b'A' + (d as u8)));
            let code: String = code.iter().collect();
            if let Some(c) = iso_currency::Currency::from_code(&code) {
                let active =
                    !c.is_special() && (c.is_superseded().is_none() || STILL_ACTIVE.contains(&code.as_str()));
                if let Some(minor) = c.exponent().and_then(|e| u8::try_from(e).ok()).filter(|_| active) {
                    *slot = minor;
                }
            }
        }
        table
    })
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl TryFrom<String> for Currency {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        Currency::parse(&s).ok_or_else(|| format!("not an active ISO 4217 currency: {s}"))
    }
}

impl From<Currency> for String {
    fn from(c: Currency) -> String {
        c.as_str().to_owned()
    }
}

/// ISO 4217 historic denominations ("List Three" of the ISO 4217 maintenance agency, SIX
/// Financial Information: codes withdrawn from use, e.g. the euro area's former national
/// currencies). `iso_currency` carries only a few recently superseded codes, so
/// `ActiveOrHistoricCurrencyCode` values are checked against this table as well. Sorted.
const HISTORIC: &[&str] = &[
    "ADP", "AFA", "ALK", "ANG", "AOK", "AON", "AOR", "ARA", "ARP", "ARY", "ATS", "AYM", "AZM", "BAD", "BEC",
    "BEF", "BEL", "BGJ", "BGK", "BGL", "BOP", "BRB", "BRC", "BRE", "BRN", "BRR", "BUK", "BYB", "BYR", "CHC",
    "CSD", "CSJ", "CSK", "CUC", "CYP", "DDM", "DEM", "ECS", "ECV", "EEK", "ESA", "ESB", "ESP", "FIM", "FRF",
    "GEK", "GHC", "GHP", "GNE", "GNS", "GQE", "GRD", "GWE", "GWP", "HRD", "HRK", "IEP", "ILP", "ILR", "ISJ",
    "ITL", "LAJ", "LSM", "LTL", "LTT", "LUC", "LUF", "LUL", "LVL", "LVR", "MGF", "MLF", "MRO", "MTL", "MTP",
    "MVQ", "MXP", "MZE", "MZM", "NIC", "NLG", "PEH", "PEI", "PES", "PLZ", "PTE", "RHD", "ROK", "ROL", "RUR",
    "SDD", "SDP", "SIT", "SKK", "SLL", "SRG", "STD", "SUR", "TJR", "TMM", "TPE", "TRL", "UAK", "UGS", "UGW",
    "USS", "UYN", "UYP", "VEB", "VEF", "VNC", "XEU", "XFO", "XFU", "XRE", "YDD", "YUD", "YUM", "YUN", "ZAL",
    "ZMK", "ZRN", "ZRZ", "ZWC", "ZWD", "ZWL", "ZWN", "ZWR",
];

/// Whether `code` is a current or historic ISO 4217 code (what the XSD type
/// `ActiveOrHistoricCurrencyCode` means): an active currency, any other code `iso_currency`
/// knows (special codes such as XAU or XDR, recently superseded ones), or a [`HISTORIC`]
/// denomination.
pub(crate) fn is_active_or_historic(code: &str) -> bool {
    Currency::parse(code).is_some()
        || iso_currency::Currency::from_code(code).is_some()
        || HISTORIC.binary_search(&code).is_ok()
}

#[cfg(test)]
mod tests {
    use super::{is_active_or_historic, Currency, HISTORIC};

    #[test]
    fn current_codes_are_active_and_replaced_ones_are_not() {
        // VES and VED are both on ISO 4217's current list; HRK became EUR in 2023.
        for (code, minor) in [("VES", 2), ("VED", 2), ("EUR", 2), ("JPY", 0), ("BHD", 3), ("CLF", 4)] {
            assert_eq!(Currency::parse(code).map(|c| c.minor_units()), Some(minor), "{code}");
        }
        for code in ["HRK", "DEM", "XAU", "XTS", "XXX", "QQQ", "eur"] {
            assert!(Currency::parse(code).is_none(), "{code}");
        }
    }

    #[test]
    fn historic_table_is_sorted_and_codes_are_recognised() {
        assert!(HISTORIC.windows(2).all(|w| w[0] < w[1]));
        for code in ["EUR", "USD", "DEM", "FRF", "XEU", "XAU", "HRK"] {
            assert!(is_active_or_historic(code), "{code}");
        }
        for code in ["QQQ", "ABC", "eur", "EU", "EURO"] {
            assert!(!is_active_or_historic(code), "{code}");
        }
    }
}
