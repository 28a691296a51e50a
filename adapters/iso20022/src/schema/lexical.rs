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

/// `[+-]?(digits(.digits?)?|.digits)`.

/// `s.split_once(delim)` for an ASCII `delim`, as a plain byte loop (values are short, and
/// the `char` searcher's set-up costs more than the scan).
#[inline]
pub(crate) fn split_once_byte(s: &str, delim: u8) -> Option<(&str, &str)> {
    let i = s.bytes().position(|b| b == delim)?;
    Some((s.get(..i)?, s.get(i + 1..)?))
}
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

fn num(s: &str, len: usize) -> Option<u32> {
    (s.len() == len && s.bytes().all(|b| b.is_ascii_digit())).then(|| s.parse().ok()).flatten()
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
            return (hh <= 14 && mm <= 59).then_some((body, true));
        }
    }
    Some((s, false))
}

fn ymd(s: &str) -> Option<()> {
    let mut it = s.splitn(3, '-');
    let y = num(it.next()?, 4)?;
    let m = num(it.next()?, 2)?;
    let d = num(it.next()?, 2)?;
    ((1..=12).contains(&m) && d >= 1 && d <= days_in_month(y, m)).then_some(())
}

fn hms(s: &str) -> Option<()> {
    let (main, frac) = split_once_byte(s, b'.').unwrap_or((s, "0"));
    if frac.is_empty() || !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let mut it = main.splitn(3, ':');
    let h = num(it.next()?, 2)?;
    let m = num(it.next()?, 2)?;
    let sec = num(it.next()?, 2)?;
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
    split_tz(s).and_then(|(y, _)| num(y, 4)).is_some()
}

pub(crate) fn g_year_month(s: &str) -> bool {
    split_tz(s)
        .and_then(|(ym, _)| {
            let (y, m) = split_once_byte(ym, b'-')?;
            num(y, 4)?;
            num(m, 2).filter(|m| (1..=12).contains(m))
        })
        .is_some()
}

pub(crate) fn base64(s: &str) -> bool {
    let mut n = 0usize;
    let mut pad = 0usize;
    for b in s.bytes() {
        match b {
            b' ' | b'\t' | b'\n' | b'\r' => {}
            b'=' => {
                pad += 1;
                n += 1;
            }
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'+' | b'/' if pad == 0 => n += 1,
            _ => return false,
        }
    }
    n % 4 == 0 && pad <= 2
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
        let d = decimal("0012.3400").expect("decimal");
        assert_eq!((d.total_digits(), d.fraction_digits()), (4, 2));
        assert!(decimal("1e5").is_none() && decimal(".").is_none() && decimal("1,5").is_none());
    }
}
