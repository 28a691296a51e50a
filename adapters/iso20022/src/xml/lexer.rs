//! Zero-copy XML tokenizer over a UTF-8 `&str`.
//!
//! It owns well-formedness at the token level: names, attribute syntax, entity references,
//! comments, processing instructions, CDATA, the XML declaration (UTF-8 only) and the
//! refusal of any DOCTYPE. Tokens borrow from the input; nothing is decoded here. Nesting and
//! tag balance are the tree builder's job (`xml::tree`).

use crate::error::ValidationError;
use crate::limits::Limits;
use crate::rule::Rule;

/// One lexical token. Slices borrow from the input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Token<'a> {
    /// `<qname attrs>` or `<qname attrs/>`; `attrs` is the validated raw attribute text;
    /// `duplicate` names the first attribute that repeats an earlier one.
    Start { qname: &'a str, attrs: &'a str, empty: bool, duplicate: Option<&'a str> },
    /// `</qname>`.
    End { qname: &'a str },
    /// Character data between tags (raw, entities not decoded) or a CDATA section;
    /// `blank` when it is only XML whitespace, `plain` when it has no `&` (nothing to decode).
    Text { raw: &'a str, cdata: bool, blank: bool, plain: bool },
}

pub(crate) struct Lexer<'a> {
    src: &'a str,
    /// Byte offset of the next token; the tree builder's fast paths advance it directly.
    pub(crate) pos: usize,
    pub(crate) max_text: usize,
}

#[cold]
fn err(rule: Rule, detail: impl AsRef<str>) -> ValidationError {
    rule.at("/", detail)
}

pub(crate) fn is_ws(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r')
}

fn is_name_start(b: u8) -> bool {
    b.is_ascii_alphabetic() || b == b'_' || b == b':' || b >= 0x80
}

/// Name characters by byte (non-ASCII bytes are accepted; the input is valid UTF-8).
static NAME_CHAR: [bool; 256] = {
    let mut t = [false; 256];
    let mut i = 0;
    while i < 256 {
        let b = i as u8;
        t[i] = b.is_ascii_alphanumeric() || b == b'_' || b == b':' || b == b'-' || b == b'.' || b >= 0x80;
        i += 1;
    }
    t
};

fn is_name_char(b: u8) -> bool {
    NAME_CHAR[usize::from(b)]
}

/// Length of the XML name at the start of `bytes` and where its local part starts (one past
/// the last `:`, 0 when there is none), in one pass. `None` when `bytes` does not start with a
/// name-start character.
#[inline(always)]
pub(crate) fn scan_qname(bytes: &[u8]) -> Option<(usize, usize)> {
    let first = *bytes.first()?;
    if !is_name_start(first) {
        return None;
    }
    let mut local = usize::from(first == b':');
    let mut i = 1;
    while let Some(&b) = bytes.get(i) {
        if !is_name_char(b) {
            break;
        }
        i += 1;
        if b == b':' {
            local = i;
        }
    }
    Some((i, local))
}

/// Length of the leading XML whitespace, eight spaces at a time where possible.
#[inline]
pub(crate) fn skip_ws_len(bytes: &[u8]) -> usize {
    const SPACES: u64 = u64::from_le_bytes(*b"        ");
    // Indentation is a line break followed by spaces: step over the break first.
    let mut n = match bytes {
        [b'\r', b'\n', ..] => 2,
        [b'\n', ..] => 1,
        _ => 0,
    };
    for chunk in bytes.get(n..).unwrap_or(&[]).chunks_exact(8) {
        let word = word_at(chunk);
        if word != SPACES {
            // Step over the spaces that start this word (little-endian: low bytes first).
            n += ((word ^ SPACES).trailing_zeros() / 8) as usize;
            break;
        }
        n += 8;
    }
    let rest = bytes.get(n..).unwrap_or(&[]);
    n + rest.iter().position(|&b| !is_ws(b)).unwrap_or(rest.len())
}

/// The first eight bytes of `chunk` as a little-endian word (one load; `chunk` has eight).
#[inline]
fn word_at(chunk: &[u8]) -> u64 {
    chunk.get(..8).and_then(|c| <[u8; 8]>::try_from(c).ok()).map_or(0, u64::from_le_bytes)
}

const LO: u64 = 0x0101_0101_0101_0101;
const HI: u64 = 0x8080_8080_8080_8080;

/// High bit set in every byte of `word` equal to `byte`. Exact for the lowest match; a
/// byte above a true match may be flagged falsely (borrow), which callers tolerate.
#[inline]
fn eq_mask(word: u64, byte: u8) -> u64 {
    let x = word ^ (LO * u64::from(byte));
    x.wrapping_sub(LO) & !x & HI
}

/// Length of the character data at the start of `bytes` (up to the first `<` or the end),
/// whether it may contain `&` or `>` (never a false "no"; a rare false "yes" only costs the
/// exact check), and whether it contains a byte below 0x20 (tab, line breaks and the C0
/// controls; exact). Eight bytes at a time.
#[inline]
pub(crate) fn char_data_len(bytes: &[u8]) -> (usize, bool, bool) {
    let mut special = 0u64;
    let mut low = 0u64;
    let mut at = 0;
    for chunk in bytes.chunks_exact(8) {
        let word = word_at(chunk);
        let lt = eq_mask(word, b'<');
        let sp = eq_mask(word, b'&') | eq_mask(word, b'>');
        // Set at a byte below 0x20 (and possibly above one: borrows only run upwards).
        let lo = word.wrapping_sub(LO * 0x20) & !word & HI;
        if lt != 0 {
            // Bytes below the first '<' only.
            let below = (lt & lt.wrapping_neg()) - 1;
            special |= sp & below;
            low |= lo & below;
            return (at + (lt.trailing_zeros() / 8) as usize, special != 0, low != 0);
        }
        special |= sp;
        low |= lo;
        at += 8;
    }
    let (mut has, mut has_low) = (special != 0, low != 0);
    for (i, &b) in bytes.iter().enumerate().skip(at) {
        if b == b'<' {
            return (i, has, has_low);
        }
        has |= b == b'&' || b == b'>';
        has_low |= b < 0x20;
    }
    (bytes.len(), has, has_low)
}

/// Offset of the first `byte` in `bytes`, eight bytes at a time.
#[inline]
pub(crate) fn find_byte(bytes: &[u8], byte: u8) -> Option<usize> {
    let mut at = 0;
    for chunk in bytes.chunks_exact(8) {
        // The lowest flagged byte of `eq_mask` is always a true match.
        let m = eq_mask(word_at(chunk), byte);
        if m != 0 {
            return Some(at + (m.trailing_zeros() / 8) as usize);
        }
        at += 8;
    }
    bytes.get(at..)?.iter().position(|&b| b == byte).map(|i| at + i)
}

/// Length of an attribute value up to the first `quote` or `<` (`None` when neither
/// occurs), and whether a `&` or `>` occurs before it (exact). Eight bytes at a time.
#[inline]
pub(crate) fn attr_value_len(bytes: &[u8], quote: u8) -> Option<(usize, bool)> {
    let mut special = false;
    let mut at = 0;
    for chunk in bytes.chunks_exact(8) {
        let word = word_at(chunk);
        // Lowest set bits are exact in each mask, so also in their union; a false `&`/`>`
        // flag lies above a true one, so "any below the stop" is exact too.
        let stop = eq_mask(word, quote) | eq_mask(word, b'<');
        let sp = eq_mask(word, b'&') | eq_mask(word, b'>');
        if stop != 0 {
            let below = (stop & stop.wrapping_neg()) - 1;
            return Some((at + (stop.trailing_zeros() / 8) as usize, special || sp & below != 0));
        }
        special |= sp != 0;
        at += 8;
    }
    for (i, &b) in bytes.iter().enumerate().skip(at) {
        if b == quote || b == b'<' {
            return Some((i, special));
        }
        special |= b == b'&' || b == b'>';
    }
    None
}

impl<'a> Lexer<'a> {
    pub(crate) fn new(src: &'a str, limits: &Limits) -> Self {
        let pos = if src.starts_with('\u{feff}') { 3 } else { 0 };
        Lexer { src, pos, max_text: limits.max_text_bytes }
    }

    fn bytes(&self) -> &'a [u8] {
        self.src.as_bytes()
    }

    fn rest(&self) -> &'a [u8] {
        self.bytes().get(self.pos..).unwrap_or(&[])
    }

    /// Position (byte offset) of the next token; used in error details.
    pub(crate) fn offset(&self) -> usize {
        self.pos
    }

    /// Next token, or `None` at end of input.
    #[inline(always)]
    pub(crate) fn next_token(&mut self) -> Result<Option<Token<'a>>, ValidationError> {
        loop {
            let rest = self.rest();
            if rest.is_empty() {
                return Ok(None);
            }
            if rest[0] != b'<' {
                let tok = self.text()?;
                // Indentation before a start tag, comment or PI is never element content:
                // drop it here instead of handing it to the tree builder.
                let before_end_tag = self.rest().get(1) == Some(&b'/');
                if matches!(tok, Token::Text { blank: true, .. })
                    && !before_end_tag
                    && !self.rest().is_empty()
                {
                    continue;
                }
                return Ok(Some(tok));
            }
            match rest.get(1) {
                Some(b'/') => return self.end_tag().map(Some),
                Some(b'?') => self.processing_instruction()?,
                Some(b'!') => {
                    if let Some(tok) = self.bang()? {
                        return Ok(Some(tok));
                    }
                }
                _ => return self.start_tag().map(Some),
            }
        }
    }

    #[inline]
    fn text(&mut self) -> Result<Token<'a>, ValidationError> {
        let start = self.pos;
        let rest = self.rest();
        // Fast path: indentation between tags is whitespace up to the next '<'.
        let ws = skip_ws_len(rest);
        let (len, blank, special) = if rest.get(ws) == Some(&b'<') || ws == rest.len() {
            (ws, true, false)
        } else {
            // Leaf values are short: a word-at-a-time scan beats a memchr set-up here.
            let (len, special, _) = char_data_len(rest.get(ws..).unwrap_or(&[]));
            (ws + len, false, special)
        };
        self.pos += len;
        let raw = self.slice(start, self.pos);
        if len > self.max_text {
            return Err(err(Rule::LimitText, format!("text node of {len} bytes at offset {start}")));
        }
        if special {
            check_char_data(raw, start)?;
        }
        Ok(Token::Text { raw, cdata: false, blank, plain: !special })
    }

    #[inline]
    fn slice(&self, from: usize, to: usize) -> &'a str {
        // Every boundary we cut at is an ASCII delimiter, hence a char boundary; `get`
        // keeps this panic-free even if that reasoning were ever wrong.
        self.src.get(from..to).unwrap_or("")
    }

    /// Offset of the first `needle` (`?>`, `-->` or `]]>`: each ends with `>`) at or after
    /// `from`. Steps from `>` to `>` with memchr: a one-shot `memmem` search costs more to
    /// set up than a comment or declaration takes to scan.
    fn find(&self, from: usize, needle: &[u8]) -> Option<usize> {
        debug_assert_eq!(needle.last(), Some(&b'>'));
        let hay = self.bytes().get(from..)?;
        let mut at = 0;
        while let Some(i) = memchr::memchr(b'>', hay.get(at..)?) {
            let end = at + i + 1;
            if let Some(start) = end.checked_sub(needle.len()) {
                if hay.get(start..end) == Some(needle) {
                    return Some(from + start);
                }
            }
            at = end;
        }
        None
    }

    fn processing_instruction(&mut self) -> Result<(), ValidationError> {
        let start = self.pos;
        let end = self
            .find(start + 2, b"?>")
            .ok_or_else(|| err(Rule::XmlSyntax, "unterminated processing instruction"))?;
        let body = self.slice(start + 2, end);
        self.pos = end + 2;
        let target = body.split(|c: char| c.is_ascii_whitespace()).next().unwrap_or("");
        if target.eq_ignore_ascii_case("xml") {
            if start != 0 && !(start == 3 && self.src.starts_with('\u{feff}')) {
                return Err(err(Rule::XmlSyntax, "XML declaration not at the start of the input"));
            }
            check_declaration(body)?;
        }
        Ok(())
    }

    /// `<!--`, `<![CDATA[` or `<!DOCTYPE`. Returns a token only for CDATA.
    fn bang(&mut self) -> Result<Option<Token<'a>>, ValidationError> {
        let rest = self.rest();
        if rest.starts_with(b"<!--") {
            let end = self
                .find(self.pos + 4, b"-->")
                .ok_or_else(|| err(Rule::XmlSyntax, "unterminated comment"))?;
            self.pos = end + 3;
            return Ok(None);
        }
        if rest.starts_with(b"<![CDATA[") {
            let start = self.pos + 9;
            let end =
                self.find(start, b"]]>").ok_or_else(|| err(Rule::XmlSyntax, "unterminated CDATA section"))?;
            if end - start > self.max_text {
                return Err(err(Rule::LimitText, "CDATA section too long"));
            }
            self.pos = end + 3;
            return Ok(Some(Token::Text {
                raw: self.slice(start, end),
                cdata: true,
                blank: false,
                plain: true,
            }));
        }
        if rest.len() >= 9 && rest[2..9].eq_ignore_ascii_case(b"DOCTYPE") {
            return Err(err(Rule::XmlDoctype, "DOCTYPE declarations are not accepted"));
        }
        Err(err(Rule::XmlSyntax, format!("unsupported markup declaration at offset {}", self.pos)))
    }

    #[inline]
    fn name(&mut self) -> Result<&'a str, ValidationError> {
        let start = self.pos;
        let rest = self.rest();
        match rest.first() {
            Some(&b) if is_name_start(b) => {}
            _ => return Err(err(Rule::XmlSyntax, format!("expected a name at offset {start}"))),
        }
        let len = rest.iter().position(|&b| !is_name_char(b)).unwrap_or(rest.len());
        self.pos += len;
        Ok(self.slice(start, self.pos))
    }

    fn skip_ws(&mut self) -> bool {
        let n = skip_ws_len(self.rest());
        self.pos += n;
        n > 0
    }

    /// `</name S?>`: the name is taken up to `>` (one memchr) and only trimmed; the tree
    /// builder compares it with the open element's validated name, so no per-byte name scan.
    #[inline]
    fn end_tag(&mut self) -> Result<Token<'a>, ValidationError> {
        let start = self.pos + 2;
        let tail = self.bytes().get(start..).unwrap_or(&[]);
        let Some(len) = tail.iter().position(|&b| b == b'>') else {
            return Err(err(Rule::XmlSyntax, "unterminated end tag"));
        };
        let mut name_len = len;
        while name_len > 0 && is_ws(tail[name_len - 1]) {
            name_len -= 1;
        }
        let qname = self.slice(start, start + name_len);
        self.pos = start + len + 1;
        Ok(Token::End { qname })
    }

    #[inline]
    fn start_tag(&mut self) -> Result<Token<'a>, ValidationError> {
        self.pos += 1;
        let qname = self.name()?;
        if self.bytes().get(self.pos) == Some(&b'>') {
            // The common case: `<Name>` without attributes.
            self.pos += 1;
            return Ok(Token::Start { qname, attrs: "", empty: false, duplicate: None });
        }
        let attrs_start = self.pos;
        // Names seen so far, compared as each attribute is read: no second pass over the
        // attribute text (beyond eight attributes, the earlier text is re-read).
        let mut seen = [""; 8];
        let mut count = 0usize;
        let mut duplicate = None;
        loop {
            let had_ws = self.skip_ws();
            match self.rest().first() {
                Some(b'>') => {
                    let attrs = self.slice(attrs_start, self.pos);
                    self.pos += 1;
                    return Ok(Token::Start { qname, attrs, empty: false, duplicate });
                }
                Some(b'/') if self.rest().get(1) == Some(&b'>') => {
                    let attrs = self.slice(attrs_start, self.pos);
                    self.pos += 2;
                    return Ok(Token::Start { qname, attrs, empty: true, duplicate });
                }
                Some(_) if had_ws => {
                    let before = self.pos;
                    let name = self.attribute()?;
                    if duplicate.is_none() {
                        let repeated = match seen.get_mut(count) {
                            Some(slot) => {
                                *slot = name;
                                seen.get(..count).is_some_and(|earlier| earlier.contains(&name))
                            }
                            None => crate::xml::tree::attributes(self.slice(attrs_start, before))
                                .any(|(earlier, _)| earlier == name),
                        };
                        if repeated {
                            duplicate = Some(name);
                        }
                    }
                    count += 1;
                }
                _ => return Err(err(Rule::XmlSyntax, format!("malformed start tag <{qname}"))),
            }
        }
    }

    /// One `name="value"`; returns the name.
    fn attribute(&mut self) -> Result<&'a str, ValidationError> {
        let name = self.name()?;
        self.skip_ws();
        if self.rest().first() != Some(&b'=') {
            return Err(err(Rule::XmlSyntax, format!("attribute without '=' at offset {}", self.pos)));
        }
        self.pos += 1;
        self.skip_ws();
        let quote = match self.rest().first() {
            Some(&q) if q == b'"' || q == b'\'' => q,
            _ => {
                return Err(err(Rule::XmlSyntax, format!("unquoted attribute value at offset {}", self.pos)))
            }
        };
        let start = self.pos + 1;
        let rest = self.bytes().get(start..).unwrap_or(&[]);
        let (len, special) = attr_value_len(rest, quote)
            .ok_or_else(|| err(Rule::XmlSyntax, "unterminated attribute value"))?;
        if rest[len] != quote {
            return Err(err(Rule::XmlSyntax, "'<' inside an attribute value"));
        }
        if len > self.max_text {
            return Err(err(Rule::LimitText, "attribute value too long"));
        }
        if special {
            check_char_data(self.slice(start, start + len), start)?;
        }
        self.pos = start + len + 1;
        Ok(name)
    }
}

/// Character data may not contain `]]>` and every `&` must start a known entity reference.
fn check_char_data(raw: &str, offset: usize) -> Result<(), ValidationError> {
    if !raw.bytes().any(|b| b == b'&' || b == b'>') {
        return Ok(());
    }
    if raw.contains("]]>") {
        return Err(err(Rule::XmlSyntax, format!("']]>' in character data at offset {offset}")));
    }
    let mut rest = raw;
    while let Some(i) = rest.find('&') {
        let after = &rest[i + 1..];
        let end = after.find(';').ok_or_else(|| {
            err(Rule::XmlSyntax, format!("unterminated entity reference near offset {offset}"))
        })?;
        if crate::xml::escape::decode_entity(&after[..end]).is_none() {
            let name: String = after.get(..end).unwrap_or("").chars().take(16).collect();
            return Err(err(Rule::XmlSyntax, format!("unknown entity '&{name};'")));
        }
        rest = &after[end + 1..];
    }
    Ok(())
}

/// `version="1.0" encoding="UTF-8" standalone="yes"`: only UTF-8 (any case) is accepted.
fn check_declaration(body: &str) -> Result<(), ValidationError> {
    let Some(i) = body.find("encoding") else { return Ok(()) };
    let value = body[i + 8..]
        .trim_start()
        .strip_prefix('=')
        .map(str::trim_start)
        .and_then(|v| {
            let (q, v) =
                if let Some(v) = v.strip_prefix('"') { ('"', v) } else { ('\'', v.strip_prefix('\'')?) };
            v.find(q).map(|e| &v[..e])
        })
        .ok_or_else(|| err(Rule::XmlSyntax, "malformed encoding in the XML declaration"))?;
    if value.eq_ignore_ascii_case("utf-8") || value.eq_ignore_ascii_case("utf8") {
        Ok(())
    } else {
        Err(err(
            Rule::XmlEncoding,
            format!("declared encoding '{}' is not UTF-8", value.chars().take(32).collect::<String>()),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::{attr_value_len, char_data_len, find_byte};

    /// The `>`-to-`>` search finds what a substring search finds, for every start offset.
    #[test]
    fn find_matches_substring_search() {
        let alphabet: &[u8] = b"-?]>x";
        let limits = crate::limits::Limits::default();
        for len in 0..14usize {
            for seed in 0..300u32 {
                let mut x = seed.wrapping_mul(2_654_435_761).wrapping_add(len as u32) | 1;
                let text: String = (0..len)
                    .map(|_| {
                        x ^= x << 13;
                        x ^= x >> 17;
                        x ^= x << 5;
                        char::from(alphabet[(x as usize) % alphabet.len()])
                    })
                    .collect();
                let lexer = super::Lexer::new(&text, &limits);
                for needle in [&b"?>"[..], b"-->", b"]]>"] {
                    for from in 0..=len + 1 {
                        let expected = text
                            .as_bytes()
                            .get(from..)
                            .and_then(|h| memchr::memmem::find(h, needle))
                            .map(|i| from + i);
                        assert_eq!(lexer.find(from, needle), expected, "{text:?} {needle:?} {from}");
                    }
                }
            }
        }
    }

    /// The word-at-a-time scan agrees with a byte loop on `<` and never misses `&`/`>`.
    #[test]
    fn char_data_len_matches_byte_loop() {
        let alphabet: &[u8] = b"a<&> \xc3\xa9\n\x01";
        for len in 0..20usize {
            for seed in 0..400u32 {
                let mut x = seed.wrapping_mul(2_654_435_761).wrapping_add(len as u32);
                let bytes: Vec<u8> = (0..len)
                    .map(|_| {
                        x ^= x << 13;
                        x ^= x >> 17;
                        x ^= x << 5;
                        alphabet[(x as usize) % alphabet.len()]
                    })
                    .collect();
                let want_len = bytes.iter().position(|&b| b == b'<').unwrap_or(bytes.len());
                let want_special = bytes[..want_len].iter().any(|&b| b == b'&' || b == b'>');
                let want_low = bytes[..want_len].iter().any(|&b| b < 0x20);
                let (got_len, got_special, got_low) = char_data_len(&bytes);
                assert_eq!(got_len, want_len, "{bytes:?}");
                assert!(got_special || !want_special, "{bytes:?}");
                // Exact: a borrow only runs upwards from a byte that is itself below 0x20.
                assert_eq!(got_low, want_low, "{bytes:?}");
            }
        }
    }

    /// The word-at-a-time attribute-value and byte scans agree with byte loops.
    #[test]
    fn attr_value_len_and_find_byte_match_byte_loops() {
        let alphabet: &[u8] = b"a<&>\"' \xc3\xa9-";
        for len in 0..24usize {
            for seed in 0..400u32 {
                let mut x = seed.wrapping_mul(2_654_435_761).wrapping_add(len as u32 * 7919);
                let bytes: Vec<u8> = (0..len)
                    .map(|_| {
                        x ^= x << 13;
                        x ^= x >> 17;
                        x ^= x << 5;
                        alphabet[(x as usize) % alphabet.len()]
                    })
                    .collect();
                for quote in [b'"', b'\''] {
                    let want = bytes
                        .iter()
                        .position(|&b| b == quote || b == b'<')
                        .map(|n| (n, bytes[..n].iter().any(|&b| b == b'&' || b == b'>')));
                    assert_eq!(attr_value_len(&bytes, quote), want, "{bytes:?}");
                }
                for byte in [b'-', b'<', b'a', 0xa9] {
                    assert_eq!(find_byte(&bytes, byte), bytes.iter().position(|&b| b == byte), "{bytes:?}");
                }
            }
        }
    }
}
