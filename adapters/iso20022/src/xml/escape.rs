//! Entity decoding for the reader and text/attribute escaping for the writers.
//!
//! Only the five predefined entities and numeric character references exist in our input
//! (DOCTYPEs are refused, so nothing else can be declared). Decoding allocates only when the
//! text actually contains an `&`.

use std::borrow::Cow;

/// Decodes the body of one entity reference (`amp`, `#65`, `#x41`) to its character.
pub(crate) fn decode_entity(name: &str) -> Option<char> {
    match name {
        "lt" => Some('<'),
        "gt" => Some('>'),
        "amp" => Some('&'),
        "quot" => Some('"'),
        "apos" => Some('\''),
        _ => {
            let num = name.strip_prefix('#')?;
            // `'&#' [0-9]+ ';'` or `'&#x' [0-9a-fA-F]+ ';'`: any number of digits (leading
            // zeros included), nothing else (`from_str_radix` alone would take a `+`).
            let (digits, radix, max_len) = match num.strip_prefix('x') {
                Some(hex) if !hex.is_empty() && hex.bytes().all(|b| b.is_ascii_hexdigit()) => (hex, 16, 6),
                None if !num.is_empty() && num.bytes().all(|b| b.is_ascii_digit()) => (num, 10, 7),
                _ => return None,
            };
            let significant = digits.trim_start_matches('0');
            if significant.len() > max_len {
                return None;
            }
            let value =
                if significant.is_empty() { 0 } else { u32::from_str_radix(significant, radix).ok()? };
            let c = char::from_u32(value)?;
            is_xml_char(c).then_some(c)
        }
    }
}

/// XML 1.0 `Char`: no NUL and no C0 controls other than tab, LF and CR.
pub(crate) fn is_xml_char(c: char) -> bool {
    !matches!(c, '\u{0}'..='\u{8}' | '\u{b}' | '\u{c}' | '\u{e}'..='\u{1f}' | '\u{fffe}' | '\u{ffff}')
}

/// The value of element content that runs over comments, processing instructions or CDATA
/// sections (`AB<!-- x -->C`, `A<![CDATA[<B>]]>`): the character data without the comments
/// and PIs, CDATA sections verbatim, entity references decoded. `raw` is content the lexer
/// has already checked, with no element markup in it.
pub(crate) fn decode_content(raw: &str) -> Cow<'_, str> {
    let mut out = String::with_capacity(raw.len());
    let mut rest = raw;
    while let Some(i) = rest.find('<') {
        out.push_str(&decode(&rest[..i]));
        let tail = &rest[i..];
        let (kept, close, body) = if let Some(b) = tail.strip_prefix("<![CDATA[") {
            (true, "]]>", b)
        } else if let Some(b) = tail.strip_prefix("<!--") {
            (false, "-->", b)
        } else if let Some(b) = tail.strip_prefix("<?") {
            (false, "?>", b)
        } else {
            // Not reachable for lexer-checked content; keep the byte rather than lose text.
            out.push('<');
            rest = &tail[1..];
            continue;
        };
        let end = body.find(close).unwrap_or(body.len());
        if kept {
            push_line_ends_read(&mut out, &body[..end]);
        }
        rest = body.get(end + close.len()..).unwrap_or("");
    }
    out.push_str(&decode(rest));
    Cow::Owned(out)
}

/// Decodes entity references in already-validated character data (the lexer checked them),
/// and reads each literal CR, alone or before an LF, as one LF (XML 1.0 §2.11: a processor
/// passes no CR that was not written as a reference, `&#13;`).
pub(crate) fn decode(raw: &str) -> Cow<'_, str> {
    if memchr::memchr2(b'&', b'\r', raw.as_bytes()).is_none() {
        return Cow::Borrowed(raw);
    }
    let mut out = String::with_capacity(raw.len());
    let mut rest = raw;
    while let Some(i) = rest.find('&') {
        push_line_ends_read(&mut out, &rest[..i]);
        let after = &rest[i + 1..];
        match after.find(';') {
            Some(end) => {
                out.push(decode_entity(&after[..end]).unwrap_or('\u{fffd}'));
                rest = &after[end + 1..];
            }
            None => {
                push_line_ends_read(&mut out, &rest[i..]);
                rest = "";
            }
        }
    }
    push_line_ends_read(&mut out, rest);
    Cow::Owned(out)
}

/// Appends `text` (written, not a reference) with each CR, alone or before an LF, read as one
/// LF (XML 1.0 §2.11): the one place literal line ends are read, for character data
/// ([`decode`]) and CDATA sections ([`decode_content`]).
fn push_line_ends_read(out: &mut String, text: &str) {
    let mut rest = text;
    while let Some(i) = memchr::memchr(b'\r', rest.as_bytes()) {
        out.push_str(&rest[..i]);
        out.push('\n');
        let skip = if rest.as_bytes().get(i + 1) == Some(&b'\n') { 2 } else { 1 };
        rest = &rest[i + skip..];
    }
    out.push_str(rest);
}

/// Appends `text` escaped for element content or a double-quoted attribute value.
pub(crate) fn escape_into(out: &mut Vec<u8>, text: &str) {
    for &b in text.as_bytes() {
        match b {
            b'<' => out.extend_from_slice(b"&lt;"),
            b'>' => out.extend_from_slice(b"&gt;"),
            b'&' => out.extend_from_slice(b"&amp;"),
            b'"' => out.extend_from_slice(b"&quot;"),
            b'\r' => out.extend_from_slice(b"&#13;"),
            b'\t' | b'\n' => out.push(b),
            0..=0x1f => out.extend_from_slice("\u{fffd}".as_bytes()),
            _ => out.push(b),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::decode_content;

    /// XML 1.0 §2.11: CR LF and a lone CR are read as LF; a CR written as `&#13;` stays.
    #[test]
    fn literal_line_ends_are_read_as_line_feeds() {
        assert_eq!(super::decode("A\r\nB\rC\n"), "A\nB\nC\n");
        assert_eq!(super::decode("A&#13;&#10;B&#13;\r\n"), "A\r\nB\r\n");
        assert_eq!(super::decode("plain"), "plain");
        assert_eq!(decode_content("A\r\n<![CDATA[B\r\nC\r]]>&#13;"), "A\nB\nC\n\r");
    }

    #[test]
    fn content_drops_comments_and_pis_and_keeps_cdata() {
        assert_eq!(decode_content("AB<!-- c -->C"), "ABC");
        assert_eq!(decode_content("A<?pi x?>B&amp;C"), "AB&C");
        assert_eq!(decode_content("A<![CDATA[<&B>]]>&lt;C"), "A<&B><C");
        assert_eq!(decode_content("<![CDATA[x]]><!---->y"), "xy");
    }
}
