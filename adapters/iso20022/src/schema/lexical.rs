//! Lexical forms of the XSD built-in types ISO 20022 uses (decimal, date, dateTime, time,
//! boolean, gYear, gYearMonth, base64Binary) and the decimal digit facets.

/// Parsed shape of an `xs:decimal` literal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct DecimalShape<'a> {
    pub(crate) negative: bool,
    pub(crate) int: &'a str,
    pub(crate) frac: &'a str,
}

impl DecimalShape<'_> {
    /// Significant digits (`totalDigits`): leading integer zeros and trailing fraction zeros
    /// do not count.
    pub(crate) fn total_digits(&self) -> usize {
        let int = self.int.trim_start_matches('0');
        let frac = self.frac.trim_end_matches('0');
        (int.len() + frac.len()).max(1)
    }

    pub(crate) fn fraction_digits(&self) -> usize {
        self.frac.trim_end_matches('0').len()
    }

    pub(crate) fn is_zero(&self) -> bool {
        self.int.bytes().all(|b| b == b'0') && self.frac.bytes().all(|b| b == b'0')
    }
}

/// `s.split_once(delim)` for an ASCII `delim`, as a plain byte loop (values are short, and
/// the `char` searcher's set-up costs more than the scan).
#[inline]
pub(crate) fn split_once_byte(s: &str, delim: u8) -> Option<(&str, &str)> {
    let i = s.bytes().position(|b| b == delim)?;
    Some((s.get(..i)?, s.get(i + 1..)?))
}

/// `[+-]?(digits(.digits?)?|.digits)`.
pub(crate) fn decimal(text: &str) -> Option<DecimalShape<'_>> {
    let (negative, body) = match text.as_bytes().first() {
        Some(b'-') => (true, &text[1..]),
        Some(b'+') => (false, &text[1..]),
        _ => (false, text),
    };
    let (int, frac) = split_once_byte(body, b'.').unwrap_or((body, ""));
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    (digits(int) && digits(frac) && !(int.is_empty() && frac.is_empty())).then_some(DecimalShape {
        negative,
        int,
        frac,
    })
}

/// Exactly `len` (at most 9) ASCII digits, as a number.
fn num(s: &str, len: usize) -> Option<u32> {
    if s.len() != len || len > 9 {
        return None;
    }
    s.bytes().try_fold(0u32, |acc, b| b.is_ascii_digit().then(|| acc * 10 + u32::from(b - b'0')))
}

/// A four-digit year other than `0000` (XSD 1.0 has no year zero).
fn year(s: &str) -> Option<u32> {
    num(s, 4).filter(|&y| y != 0)
}

fn days_in_month(year: u32, month: u32) -> u32 {
    match month {
        2 if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Splits an optional timezone (`Z`, `+hh:mm`, `-hh:mm`) off the end.
fn split_tz(s: &str) -> Option<(&str, bool)> {
    if !s.is_ascii() {
        return None;
    }
    if let Some(body) = s.strip_suffix('Z') {
        return Some((body, true));
    }
    if s.len() > 6 {
        let (body, tz) = s.split_at(s.len() - 6);
        let b = tz.as_bytes();
        if (b[0] == b'+' || b[0] == b'-') && b[3] == b':' {
            let hh = num(&tz[1..3], 2)?;
            let mm = num(&tz[4..6], 2)?;
            // At most 14:00 either way.
            return (mm <= 59 && (hh < 14 || (hh == 14 && mm == 0))).then_some((body, true));
        }
    }
    Some((s, false))
}

/// `YYYY-MM-DD` (fixed positions: each field has an exact digit count).
fn ymd(s: &str) -> Option<()> {
    let b = s.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    calendar_date(s.get(..4)?, s.get(5..7)?, s.get(8..)?).then_some(())
}

/// Four-digit year, two-digit month and day that name a day of the calendar.
fn calendar_date(year_digits: &str, month_digits: &str, day_digits: &str) -> bool {
    let (Some(y), Some(m), Some(d)) = (year(year_digits), num(month_digits, 2), num(day_digits, 2)) else {
        return false;
    };
    (1..=12).contains(&m) && d >= 1 && d <= days_in_month(y, m)
}

/// `CCYYMMDD`, a calendar date written without separators (FedNow message ids).
pub(crate) fn compact_date(s: &str) -> bool {
    s.len() == 8
        && s.is_char_boundary(4)
        && s.is_char_boundary(6)
        && calendar_date(&s[..4], &s[4..6], &s[6..])
}

/// The integer and fraction digits of an unsigned xs:decimal (`39.50`, `39.`, `.5`): digits on
/// at least one side of an optional `.`, nothing else.
pub(crate) fn unsigned_decimal(text: &str) -> Option<(&str, &str)> {
    let (int, frac) = split_once_byte(text, b'.').unwrap_or((text, ""));
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    (digits(int) && digits(frac) && int.len() + frac.len() > 0).then_some((int, frac))
}

/// The value of a valid `xs:boolean` (`true`/`1`; XML white space around it collapsed).
pub(crate) fn boolean_value(v: &str) -> bool {
    matches!(v.trim_matches(|c| matches!(c, ' ' | '\t' | '\n' | '\r')), "true" | "1")
}

fn hms(s: &str) -> Option<()> {
    let (main, frac) = split_once_byte(s, b'.').unwrap_or((s, "0"));
    if frac.is_empty() || !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let b = main.as_bytes();
    if b.len() != 8 || b[2] != b':' || b[5] != b':' {
        return None;
    }
    let h = num(main.get(..2)?, 2)?;
    let m = num(main.get(3..5)?, 2)?;
    let sec = num(main.get(6..)?, 2)?;
    let midnight = h == 24 && m == 0 && sec == 0 && frac.bytes().all(|b| b == b'0');
    ((h < 24 && m < 60 && sec < 60) || midnight).then_some(())
}

/// `YYYY-MM-DD` with optional timezone.
pub(crate) fn date(s: &str) -> bool {
    split_tz(s).and_then(|(d, _)| ymd(d)).is_some()
}

/// `YYYY-MM-DDThh:mm:ss(.f+)?` with optional timezone.
pub(crate) fn date_time(s: &str) -> bool {
    let Some((body, _)) = split_tz(s) else { return false };
    let Some((d, t)) = split_once_byte(body, b'T') else { return false };
    ymd(d).is_some() && hms(t).is_some()
}

/// Whether a dateTime carries an explicit UTC offset (or `Z`).
pub(crate) fn date_time_has_offset(s: &str) -> bool {
    split_tz(s).is_some_and(|(_, tz)| tz)
}

/// `hh:mm:ss(.f+)?` with optional timezone.
pub(crate) fn time(s: &str) -> bool {
    split_tz(s).and_then(|(t, _)| hms(t)).is_some()
}

pub(crate) fn boolean(s: &str) -> bool {
    matches!(s, "true" | "false" | "1" | "0")
}

pub(crate) fn g_year(s: &str) -> bool {
    split_tz(s).and_then(|(y, _)| year(y)).is_some()
}

pub(crate) fn g_year_month(s: &str) -> bool {
    split_tz(s)
        .and_then(|(ym, _)| {
            let (y, m) = split_once_byte(ym, b'-')?;
            year(y)?;
            num(m, 2).filter(|m| (1..=12).contains(m))
        })
        .is_some()
}

/// The number of octets `s` decodes to, or `None` when it is not the lexical form of
/// `xs:base64Binary` (XSD 1.0, whitespace already collapsed at the ends): groups of four
/// characters, the last one possibly padded with one or two `=`, and the character before
/// the padding canonical (`AQgw` before `==`, `AEIMQUYcgkosw048` before `=`: its unused bits
/// are zero). Length facets count these octets.
pub(crate) fn base64_octets(s: &str) -> Option<usize> {
    let mut n = 0usize;
    let mut pad = 0usize;
    let mut last = 0u8;
    for b in s.bytes() {
        match b {
            b' ' | b'\t' | b'\n' | b'\r' => {}
            b'=' => {
                pad += 1;
                n += 1;
            }
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'+' | b'/' if pad == 0 => {
                n += 1;
                last = b;
            }
            _ => return None,
        }
    }
    let canonical = match pad {
        0 => true,
        1 => b"AEIMQUYcgkosw048".contains(&last),
        2 => b"AQgw".contains(&last),
        _ => false,
    };
    (n % 4 == 0 && canonical).then(|| n / 4 * 3 - pad)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms() {
        assert!(date("2024-02-29") && !date("2023-02-29") && date("2024-01-01+01:00"));
        assert!(date_time("2020-01-01T10:00:00.123+05:30") && date_time("2020-01-01T10:00:00"));
        assert!(!date_time("2020-01-01 10:00:00") && !date_time("2020-13-01T10:00:00"));
        assert!(time("10:00:00") && !time("25:00:00"));
        assert!(date("0001-01-01") && !date("0000-01-01") && !g_year("0000") && !g_year_month("0000-01"));
        assert!(date("2024-01-01+14:00") && date("2024-01-01-14:00") && !date("2024-01-01+14:30"));
        assert!(!date_time("2020-01-01T10:00:00-14:01") && !time("10:00:00+15:00"));
        assert_eq!(
            (base64_octets(""), base64_octets("YQ=="), base64_octets("YWI="), base64_octets("YWJj")),
            (Some(0), Some(1), Some(2), Some(3))
        );
        let base64 = |s: &str| base64_octets(s).is_some();
        assert!(!base64("YR==") && !base64("YWJ=") && !base64("Y===") && !base64("YQ=") && base64("YW Jj"));
        let d = decimal("0012.3400").expect("decimal");
        assert_eq!((d.total_digits(), d.fraction_digits()), (4, 2));
        assert!(decimal("1e5").is_none() && decimal(".").is_none() && decimal("1,5").is_none());
    }

    /// The fixed-position date/time parsers agree with the split-based ones they replaced.
    #[test]
    fn fixed_position_parsers_match_split_based() {
        fn num_old(s: &str, len: usize) -> Option<u32> {
            (s.len() == len && s.bytes().all(|b| b.is_ascii_digit())).then(|| s.parse().ok()).flatten()
        }
        fn ymd_old(s: &str) -> Option<()> {
            let mut it = s.splitn(3, '-');
            let y = num_old(it.next()?, 4).filter(|&y| y != 0)?;
            let m = num_old(it.next()?, 2)?;
            let d = num_old(it.next()?, 2)?;
            ((1..=12).contains(&m) && d >= 1 && d <= days_in_month(y, m)).then_some(())
        }
        fn hms_old(s: &str) -> Option<()> {
            let (main, frac) = s.split_once('.').unwrap_or((s, "0"));
            if frac.is_empty() || !frac.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            let mut it = main.splitn(3, ':');
            let h = num_old(it.next()?, 2)?;
            let m = num_old(it.next()?, 2)?;
            let sec = num_old(it.next()?, 2)?;
            let midnight = h == 24 && m == 0 && sec == 0 && frac.bytes().all(|b| b == b'0');
            ((h < 24 && m < 60 && sec < 60) || midnight).then_some(())
        }
        let seeds = ["2024-02-29", "1999-12-31", "24:00:00.000", "23:59:59.5", "0000-01-01", "12:30:00"];
        let alphabet = b"0123456789-:.T+Z 9";
        let mut x = 0x2545_f491_4f6c_dd1du64;
        for i in 0..200_000usize {
            let mut v = seeds[i % seeds.len()].as_bytes().to_vec();
            for _ in 0..=(i % 3) {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                let at = (x as usize) % (v.len() + 1);
                let c = alphabet[(x >> 32) as usize % alphabet.len()];
                match (x >> 20) % 3 {
                    0 if at < v.len() => v[at] = c,
                    1 => v.insert(at, c),
                    _ if at < v.len() => {
                        v.remove(at);
                    }
                    _ => {}
                }
            }
            let s = String::from_utf8(v).expect("ascii");
            assert_eq!(ymd(&s), ymd_old(&s), "{s}");
            assert_eq!(hms(&s), hms_old(&s), "{s}");
            for len in 1..=4 {
                assert_eq!(num(&s, len), num_old(&s, len), "{s}");
            }
        }
    }
}
