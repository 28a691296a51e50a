//! `Money`: integer minor units plus currency. No floats anywhere (DESIGN invariant 6).
//!
//! `parse_decimal` is the only way text becomes money: it accepts exactly the ISO decimal
//! lexical form (no sign, no exponent, no separators) and at most the currency's minor-unit
//! decimals, so every accepted amount is exact.

use crate::reason::ReasonCode;
use crate::types::currency::Currency;

/// An amount in integer minor units of `currency`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Money {
    /// Amount in minor units (cents for EUR, yen for JPY).
    pub minor_units: i64,
    /// The currency.
    pub currency: Currency,
}

impl Money {
    /// `"1234.56"` style text with exactly the currency's minor-unit decimals.
    #[must_use]
    pub fn format_decimal(&self) -> String {
        let exp = u32::from(self.currency.minor_units());
        let sign = if self.minor_units < 0 { "-" } else { "" };
        let abs = self.minor_units.unsigned_abs();
        if exp == 0 {
            return format!("{sign}{abs}");
        }
        let scale = 10u64.pow(exp);
        format!("{sign}{}.{:0width$}", abs / scale, abs % scale, width = exp as usize)
    }

    /// Parses ISO decimal text (`"1234.5"`) into minor units.
    ///
    /// # Errors
    /// `AM12` for a malformed, negative, signed or too long amount; `AM12` too when it has
    /// more decimals than the currency allows.
    pub fn parse_decimal(text: &str, ccy: Currency) -> Result<Money, (ReasonCode, String)> {
        let bad = |why: &str| {
            (ReasonCode::AM12, format!("amount '{}': {why}", text.chars().take(40).collect::<String>()))
        };
        let Some((int, frac)) = crate::schema::lexical::unsigned_decimal(text) else {
            return Err(bad("not a plain non-negative decimal"));
        };
        let exp = usize::from(ccy.minor_units());
        let frac = frac.trim_end_matches('0');
        if frac.len() > exp {
            return Err(bad(&format!("more than {exp} decimals for {ccy}")));
        }
        let int = int.trim_start_matches('0');
        if int.len() + exp > 18 {
            return Err(bad("too many digits"));
        }
        // At most 18 digits (checked above) fit an `i64`; the arithmetic is checked all the
        // same, so a mistake in that reasoning fails as an error, never as a wrong amount.
        let mut minor: i64 = 0;
        for digit in int.bytes().chain(frac.bytes()).map(|b| i64::from(b - b'0')) {
            minor =
                minor.checked_mul(10).and_then(|m| m.checked_add(digit)).ok_or_else(|| bad("overflow"))?;
        }
        for _ in frac.len()..exp {
            minor = minor.checked_mul(10).ok_or_else(|| bad("overflow"))?;
        }
        Ok(Money { minor_units: minor, currency: ccy })
    }
}
