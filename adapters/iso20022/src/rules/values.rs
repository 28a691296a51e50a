//! Value-level business rules that apply wherever a value of a given kind appears, run by
//! the schema walker right after the facets pass: IBAN (mod-97 and length), BIC country,
//! active ISO 4217 currency and minor-unit precision of amounts, US ABA routing-number check
//! digits, reference character rules, and Unicode bidi overrides.

use crate::rule::Rule;
use crate::schema::lexical;
use crate::schema::model::Semantic;
use crate::types::currency::{is_active_or_historic, Currency};
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

/// Elements whose value identifies something (a message, case, entry, account, party, ...):
/// every name ending in `Id`, `Idr` or `Ref`, `Id` and `Ref` themselves included (the ISO
/// 20022 naming convention; in the supported schemas these are the Max35Text, Max34Text and
/// Max16Text identifiers: `Assgnmt/Id`, `RltdRef/Ref`, `Othr/Id`, `NtryRef`, `AcctSvcrRef`,
/// `MsgDefIdr`, ...). They may not hold control characters (RULES.md: CR/LF inside
/// identifiers are rejected). Such a name can also be a complex element (`ClrSysId`); the
/// flag only matters for values.
fn is_identifier(local: &str) -> bool {
    local.ends_with("Id") || local.ends_with("Idr") || local.ends_with("Ref")
}

/// Elements whose value is a currency code. Those the schema types `ActiveCurrencyCode`
/// have the stricter [`Semantic::ActiveCurrency`]; the others (`ActiveOrHistoricCurrencyCode`)
/// must be a current or historic ISO 4217 code.
fn is_currency(local: &str) -> bool {
    matches!(local, "Ccy" | "CcyOfTrf" | "SrcCcy" | "TrgtCcy" | "UnitCcy")
}

type Failure = (Rule, String);

/// [`flags_of`]: the element's value is a payment reference.
pub(crate) const REFERENCE: u8 = 1;
/// [`flags_of`]: the element is a clearing system member id (`MmbId`).
pub(crate) const MEMBER_ID: u8 = 2;
/// [`flags_of`]: the element's value is an identifier (no control characters).
pub(crate) const IDENTIFIER: u8 = 4;
/// [`flags_of`]: the element's value is a currency code (current or historic ISO 4217).
pub(crate) const CURRENCY: u8 = 8;
/// [`flags_of`]: the element is a settlement or instructed amount, which may not be zero.
pub(crate) const NONZERO_AMOUNT: u8 = 16;

/// Settlement and instructed amounts (pacs.008/009 `IntrBkSttlmAmt`, pacs.008 and pain.001
/// `InstdAmt`, pacs.004 `RtrdIntrBkSttlmAmt` / `RtrdInstdAmt`): a payment of nothing is
/// refused (`amt.zero`, AM01). Checked in the schema walk, which reads the value anyway, so
/// valid input pays one byte scan per amount and no tree search.
fn is_nonzero_amount(local: &str) -> bool {
    matches!(local, "IntrBkSttlmAmt" | "InstdAmt" | "RtrdIntrBkSttlmAmt" | "RtrdInstdAmt")
}

/// The name-dependent rules of element `local`, resolved once per schema particle.
pub(crate) fn flags_of(local: &str) -> u8 {
    let mut f = 0;
    if is_reference(local) {
        f |= REFERENCE;
    }
    if local == "MmbId" {
        f |= MEMBER_ID;
    }
    if is_identifier(local) {
        f |= IDENTIFIER;
    }
    if is_currency(local) {
        f |= CURRENCY;
    }
    if is_nonzero_amount(local) {
        f |= NONZERO_AMOUNT;
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
        Semantic::Plain if flags & CURRENCY != 0 && !is_active_or_historic(value) => {
            return Err((Rule::CurrencyInvalid, format!("'{value}' is not an ISO 4217 currency code")));
        }
        _ => {}
    }
    if flags & REFERENCE != 0 {
        reference(value)?;
    } else if flags & IDENTIFIER != 0 && has_control(value) {
        return Err((Rule::ReferenceInvalid, "identifier contains control characters".into()));
    }
    if flags & MEMBER_ID != 0 {
        clearing_member(value, stack, tree)?;
    }
    if flags & NONZERO_AMOUNT != 0 && is_zero(value) {
        return Err((Rule::AmountZero, format!("amount {value} is zero")));
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
    if has_control(value) {
        return Err((Rule::ReferenceInvalid, "reference contains control characters".into()));
    }
    Ok(())
}

/// Whether the decimal `value` (already checked by its facets, so digits and at most one
/// `.`, and whitespace-collapsed) is zero.
pub(crate) fn is_zero(value: &str) -> bool {
    value.bytes().all(|c| c == b'0' || c == b'.') && value.bytes().any(|c| c == b'0')
}

/// Whether `value` holds a control character (C0 such as CR, LF and TAB, DEL, or C1).
///
/// A prefilter reads eight bytes at a time and flags any byte below 0x20, 0x7f, or 0xc2
/// (the UTF-8 lead byte of U+0080..U+00BF, which holds the C1 controls); only a flagged
/// value is decoded and checked exactly. Identifiers are short, so this is a few word
/// operations per value instead of a loop per byte.
fn has_control(value: &str) -> bool {
    let b = value.as_bytes();
    let flagged = if b.len() >= 8 {
        let word = |at: usize| {
            b.get(at..at + 8).and_then(|s| <[u8; 8]>::try_from(s).ok()).map_or(0, u64::from_le_bytes)
        };
        let mut acc = control_bytes(word(b.len() - 8));
        let mut at = 0;
        while at + 8 < b.len() {
            acc |= control_bytes(word(at));
            at += 8;
        }
        acc != 0
    } else {
        b.iter().any(|&c| c < 0x20 || c == 0x7f || c == 0xc2)
    };
    flagged && value.chars().any(char::is_control)
}

/// Nonzero when some byte of `w` is below 0x20, 0x7f or 0xc2 (the classic "has less" and
/// "has zero" word tests: a borrow can only flag bytes above a byte that really matches,
/// so the result is exact as a yes/no answer).
#[inline(always)]
fn control_bytes(w: u64) -> u64 {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let zero = |x: u64| x.wrapping_sub(ONES) & !x;
    let below = w.wrapping_sub(ONES * 0x20) & !w;
    (below | zero(w ^ (ONES * 0x7f)) | zero(w ^ (ONES * 0xc2))) & HIGH
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
    // RULES.md forbids signs, exponents and commas; `39.` and `.36` are decimals.
    if lexical::unsigned_decimal(text).is_none() {
        return Err((Rule::AmountRange, format!("amount '{text}' is not a plain decimal (no sign)")));
    }
    let currency = Currency::parse(ccy);
    if currency.is_none() {
        // `Ccy` is typed ActiveCurrencyCode or ActiveOrHistoricCurrencyCode: the latter
        // admits withdrawn codes (DEM) and ISO's special codes, but not made-up ones.
        if semantic == Semantic::ActiveCurrency {
            return Err((
                Rule::CurrencyInvalid,
                format!("'{ccy}' is not an active ISO 4217 settlement currency"),
            ));
        }
        if !is_active_or_historic(ccy) {
            return Err((Rule::CurrencyInvalid, format!("'{ccy}' is not an ISO 4217 currency code")));
        }
    }
    let (Some(currency), Some(d)) = (currency, lexical::decimal(text)) else { return Ok(()) };
    // Decimals as written, trailing zeros included (RULES.md: "decimals must not exceed its
    // minor unit"; SWIFT's amount rule counts the digits after the separator the same way):
    // `1000.0` JPY is refused although its value has no fraction.
    if d.frac.len() > usize::from(currency.minor_units()) {
        return Err((
            Rule::AmountPrecision,
            format!("{text} {ccy} has more than {} decimals", currency.minor_units()),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::{aba_checksum_ok, has_control};

    /// The word prefilter agrees with a plain per-character test at every position and
    /// length, for every byte it must catch and for the characters next to them.
    #[test]
    fn has_control_agrees_with_char_test() {
        let specials =
            ['\n', '\r', '\t', '\u{1f}', '\u{7f}', '\u{80}', '\u{9f}', '\u{a0}', ' ', '~', 'é', '\u{2028}'];
        for len in 0..20 {
            for at in 0..len {
                for &c in &specials {
                    let text: String = (0..len).map(|i| if i == at { c } else { 'A' }).collect();
                    assert_eq!(has_control(&text), text.chars().any(char::is_control), "{text:?}");
                }
            }
        }
    }

    #[test]
    fn aba() {
        assert!(aba_checksum_ok("021000021"));
        assert!(aba_checksum_ok("011000015"));
        assert!(!aba_checksum_ok("021000022"));
    }
}
