//! Value-level business rules that apply wherever a value of a given kind appears, run by
//! the schema walker right after the facets pass: IBAN (mod-97 and length), BIC country,
//! active ISO 4217 currency and minor-unit precision of amounts, US ABA routing-number check
//! digits, reference character rules, and Unicode bidi overrides.

use crate::rule::Rule;
use crate::schema::lexical;
use crate::schema::model::Semantic;
use crate::types::currency::Currency;
use crate::types::iban::iban_problem;
use crate::xml::tree::Tree;

/// Elements whose value is a payment reference subject to the reference character rule.
fn is_reference(local: &str) -> bool {
    matches!(
        local,
        "MsgId"
            | "BizMsgIdr"
            | "InstrId"
            | "EndToEndId"
            | "TxId"
            | "OrgnlMsgId"
            | "OrgnlInstrId"
            | "OrgnlEndToEndId"
            | "OrgnlTxId"
            | "RtrId"
            | "CxlId"
            | "StsId"
            | "ClrSysRef"
            | "OrgnlClrSysRef"
            | "PmtInfId"
            | "OrgnlPmtInfId"
    )
}

type Failure = (Rule, String);

/// [`flags_of`]: the element's value is a payment reference.
pub(crate) const REFERENCE: u8 = 1;
/// [`flags_of`]: the element is a clearing system member id (`MmbId`).
pub(crate) const MEMBER_ID: u8 = 2;

/// The name-dependent rules of element `local`, resolved once per schema particle.
pub(crate) fn flags_of(local: &str) -> u8 {
    let mut f = 0;
    if is_reference(local) {
        f |= REFERENCE;
    }
    if local == "MmbId" {
        f |= MEMBER_ID;
    }
    f
}

/// Whether [`check`] has anything to check: no name flags, no semantic and ASCII text (so
/// no bidirectional controls) leave it nothing.
#[inline(always)]
pub(crate) fn applies(flags: u8, value: &str, semantic: Semantic) -> bool {
    flags != 0 || semantic != Semantic::Plain || !value.is_ascii()
}

/// Runs the rules that apply to a simple value with semantic `semantic` of an element whose
/// name has the [`flags_of`] `flags`.
#[inline]
pub(crate) fn check(
    flags: u8,
    value: &str,
    semantic: Semantic,
    stack: &[(u32, bool)],
    tree: &Tree<'_>,
) -> Result<(), Failure> {
    // Every rule below needs one of these; a rule that needs none must change `applies`.
    if !applies(flags, value, semantic) {
        return Ok(());
    }
    match semantic {
        Semantic::Iban => iban(value, stack, tree)?,
        Semantic::ActiveCurrency if Currency::parse(value).is_none() => {
            return Err((
                Rule::CurrencyInvalid,
                format!("'{value}' is not an active ISO 4217 settlement currency"),
            ));
        }
        _ => {}
    }
    if flags & REFERENCE != 0 {
        reference(value)?;
    }
    if flags & MEMBER_ID != 0 {
        clearing_member(value, stack, tree)?;
    }
    if !value.is_ascii() && value.chars().any(is_bidi_control) {
        return Err((
            Rule::TextBidiOverride,
            "bidirectional override/isolate characters are not accepted".into(),
        ));
    }
    Ok(())
}

fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{200e}' | '\u{200f}' | '\u{061c}')
}

fn iban(value: &str, stack: &[(u32, bool)], tree: &Tree<'_>) -> Result<(), Failure> {
    let Some(problem) = iban_problem(value) else { return Ok(()) };
    let creditor = stack.iter().any(|&(n, _)| tree.nodes[n as usize].local == "CdtrAcct");
    let rule = if creditor { Rule::CreditorIbanInvalid } else { Rule::IbanInvalid };
    Err((rule, format!("IBAN '{value}': {problem}")))
}

/// No leading/trailing `/`, no `//`, no control characters (CR/LF) in references.
pub(crate) fn reference(value: &str) -> Result<(), Failure> {
    let b = value.as_bytes();
    // Byte checks: `contains("//")` would set up a substring searcher per value.
    if b.first() == Some(&b'/') || b.last() == Some(&b'/') || b.windows(2).any(|w| w == b"//") {
        return Err((Rule::ReferenceInvalid, format!("'{value}' starts or ends with '/' or contains '//'")));
    }
    let control = if value.is_ascii() {
        b.iter().any(|&c| c < 0x20 || c == 0x7f)
    } else {
        value.chars().any(char::is_control)
    };
    if control {
        return Err((Rule::ReferenceInvalid, "reference contains control characters".into()));
    }
    Ok(())
}

/// A `MmbId` whose sibling `ClrSysId/Cd` is `USABA` must be a valid ABA routing number.
fn clearing_member(value: &str, stack: &[(u32, bool)], tree: &Tree<'_>) -> Result<(), Failure> {
    let Some(&(node, _)) = stack.last() else { return Ok(()) };
    let parent = tree.nodes[node as usize].parent;
    let is_aba = tree.descend(parent, "ClrSysId/Cd").is_some_and(|cd| tree.text(cd) == "USABA");
    if is_aba && !aba_checksum_ok(value) && !is_placeholder(value) {
        return Err((Rule::ClearingMemberInvalid, format!("'{value}' is not a valid ABA routing number")));
    }
    Ok(())
}

/// The Federal Reserve's published samples use repdigit placeholders (`111111111`) for
/// participants; they are accepted as placeholders, not as routing numbers.
fn is_placeholder(value: &str) -> bool {
    value.len() == 9 && value.bytes().all(|b| b == value.as_bytes()[0])
}

/// ABA routing number: 9 digits, 3·d1 + 7·d2 + d3 + 3·d4 + ... ≡ 0 (mod 10).
pub(crate) fn aba_checksum_ok(value: &str) -> bool {
    let b = value.as_bytes();
    if b.len() != 9 || !b.iter().all(u8::is_ascii_digit) {
        return false;
    }
    let sum: u32 = b.iter().zip([3u32, 7, 1].iter().cycle()).map(|(&d, &w)| u32::from(d - b'0') * w).sum();
    sum % 10 == 0
}

/// Amount with a `Ccy` attribute: active currency (for `ActiveCurrencyCode`) and no more
/// decimals than the currency's minor unit.
pub(crate) fn amount(text: &str, ccy: &str, semantic: Semantic) -> Result<(), Failure> {
    let plain = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    let (int, frac) = lexical::split_once_byte(text, b'.').map_or((text, None), |(i, f)| (i, Some(f)));
    if !plain(int) || frac.is_some_and(|f| !plain(f)) {
        return Err((
            Rule::AmountRange,
            format!("amount '{text}' is not a plain decimal (no sign, no bare '.')"),
        ));
    }
    let currency = Currency::parse(ccy);
    if semantic == Semantic::ActiveCurrency && currency.is_none() {
        return Err((
            Rule::CurrencyInvalid,
            format!("'{ccy}' is not an active ISO 4217 settlement currency"),
        ));
    }
    let (Some(currency), Some(d)) = (currency, lexical::decimal(text)) else { return Ok(()) };
    if d.fraction_digits() > usize::from(currency.minor_units()) {
        return Err((
            Rule::AmountPrecision,
            format!("{text} {ccy} has more than {} decimals", currency.minor_units()),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::aba_checksum_ok;

    #[test]
    fn aba() {
        assert!(aba_checksum_ok("021000021"));
        assert!(aba_checksum_ok("011000015"));
        assert!(!aba_checksum_ok("021000022"));
    }
}
