//! Zero-copy XML tokenizer over a UTF-8 `&str`.
//!
//! It owns well-formedness at the token level: names, attribute syntax, entity references,
//! comments, processing instructions, CDATA, the XML declaration (UTF-8 only) and the
//! refusal of any DOCTYPE. Tokens borrow from the input; nothing is decoded here. Nesting and
//! tag balance are the tree builder's job (`xml::tree`).

use crate::error::{shorten, ValidationError};
use crate::limits::Limits;
use crate::rule::Rule;

/// One lexical token. Slices borrow from the input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Token<'a> {
    /// `<qname attrs>` or `<qname attrs/>`; `attrs` is the validated raw attribute text;
    /// `duplicate` names the first attribute that repeats an earlier one; `prefixed` says
    /// whether an attribute other than a namespace declaration has a prefix (which must be
    /// declared: the tree builder checks).
    Start { qname: &'a str, attrs: &'a str, empty: bool, duplicate: Option<&'a str>, prefixed: bool },
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

pub(crate) fn is_name_start(b: u8) -> bool {
    b.is_ascii_alphabetic() || b == b'_' || b == b':'
}

/// ASCII name characters by byte. Non-ASCII bytes stop the byte scans: names with other
/// characters are read by [`unicode_name_len`] on the general path.
static NAME_CHAR: [bool; 256] = {
    let mut t = [false; 256];
    let mut i = 0;
    while i < 256 {
        let b = i as u8;
        t[i] = b.is_ascii_alphanumeric() || b == b'_' || b == b':' || b == b'-' || b == b'.';
        i += 1;
    }
    t
};

/// XML 1.0 (fifth edition) `NameStartChar`, for any character.
pub(crate) fn is_name_start_char(c: char) -> bool {
    matches!(c,
        ':' | 'A'..='Z' | '_' | 'a'..='z'
        | '\u{C0}'..='\u{D6}' | '\u{D8}'..='\u{F6}' | '\u{F8}'..='\u{2FF}' | '\u{370}'..='\u{37D}'
        | '\u{37F}'..='\u{1FFF}' | '\u{200C}'..='\u{200D}' | '\u{2070}'..='\u{218F}'
        | '\u{2C00}'..='\u{2FEF}' | '\u{3001}'..='\u{D7FF}' | '\u{F900}'..='\u{FDCF}'
        | '\u{FDF0}'..='\u{FFFD}' | '\u{10000}'..='\u{EFFFF}')
}

/// XML 1.0 (fifth edition) `NameChar`, for any character.
pub(crate) fn is_name_char_unicode(c: char) -> bool {
    is_name_start_char(c)
        || matches!(c, '-' | '.' | '0'..='9' | '\u{B7}' | '\u{300}'..='\u{36F}' | '\u{203F}'..='\u{2040}')
}

/// Length of the XML name at the start of `s`, for names with any characters (the general
/// path's slow case).
#[cold]
fn unicode_name_len(s: &str) -> usize {
    let mut len = 0;
    for (i, c) in s.char_indices() {
        let ok = if i == 0 { is_name_start_char(c) } else { is_name_char_unicode(c) };
        if !ok {
            break;
        }
        len = i + c.len_utf8();
    }
    len
}

/// Whether a name with a `:` (its local part starting at `local`) is a qualified name of
/// Namespaces in XML 1.0: `prefix:local`, each a non-empty name without `:`.
pub(crate) fn is_qname(name: &str, local: usize) -> bool {
    let Some(prefix) = name.as_bytes().get(..local.wrapping_sub(1)) else { return false };
    local_part_starts(name, local) && !prefix.is_empty() && !prefix.contains(&b':')
}

/// Whether the local part of `name` (from `local`, after its last `:`) is not empty and
/// starts with a character a name may start with.
fn local_part_starts(name: &str, local: usize) -> bool {
    match name.as_bytes().get(local) {
        Some(&b) if b < 0x80 => b != b':' && is_name_start(b),
        Some(_) => name.get(local..).and_then(|l| l.chars().next()).is_some_and(is_name_start_char),
        None => false,
    }
}

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
/// controls) or above 0x7f (any non-ASCII character: the fast paths leave those to the
/// general path, which checks for U+FFFE / U+FFFF); exact. Eight bytes at a time.
#[inline]
pub(crate) fn char_data_len(bytes: &[u8]) -> (usize, bool, bool) {
    let mut special = 0u64;
    let mut low = 0u64;
    let mut at = 0;
    for chunk in bytes.chunks_exact(8) {
        let word = word_at(chunk);
        let lt = eq_mask(word, b'<');
        let sp = eq_mask(word, b'&') | eq_mask(word, b'>');
        // Set at a byte below 0x20 (and possibly above one: borrows only run upwards) or
        // above 0x7f.
        let lo = (word.wrapping_sub(LO * 0x20) | word) & HI;
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
        has_low |= !(0x20..0x80).contains(&b);
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
            check_char_data(raw, start, true)?;
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
        // `PITarget (S ...)?`: the target is a name right after `<?`, then space or `?>`.
        let target_len = pi_target_len(body);
        let target = body.get(..target_len).unwrap_or("");
        if target.is_empty() || !body.as_bytes().get(target_len).is_none_or(|&b| is_ws(b)) {
            return Err(err(
                Rule::XmlSyntax,
                format!("processing instruction without a valid target at offset {start}"),
            ));
        }
        // Namespaces in XML 1.0 §7: no processing-instruction target contains a colon.
        if target.contains(':') {
            return Err(err(
                Rule::XmlSyntax,
                format!("processing instruction target with ':' at offset {start}"),
            ));
        }
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
            // `--` may occur only in the closing `-->` (no `--` inside, no `--->`): the first
            // `--` after `<!--` ends the comment, and must be followed by `>`.
            let from = self.pos + 4;
            let end = self
                .bytes()
                .get(from..)
                .and_then(find_double_dash)
                .map(|i| from + i)
                .ok_or_else(|| err(Rule::XmlSyntax, "unterminated comment"))?;
            if self.bytes().get(end + 2) != Some(&b'>') {
                return Err(err(Rule::XmlSyntax, format!("'--' inside the comment at offset {}", self.pos)));
            }
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

    /// A name (element or attribute); whether a name with a `:` is a qualified name is
    /// checked by the callers.
    #[inline]
    fn name(&mut self) -> Result<&'a str, ValidationError> {
        let start = self.pos;
        let rest = self.rest();
        let mut len = match rest.first() {
            Some(&b) if is_name_start(b) => rest.iter().position(|&b| !is_name_char(b)).unwrap_or(rest.len()),
            _ => 0,
        };
        if rest.get(len).is_some_and(|&b| b >= 0x80) {
            // A non-ASCII character: the whole name again, character by character.
            len = unicode_name_len(self.src.get(start..).unwrap_or(""));
            if rest.get(len).is_some_and(|&b| b >= 0x80) {
                return Err(err(
                    Rule::XmlSyntax,
                    format!("character not allowed in a name at offset {}", start + len),
                ));
            }
        }
        if len == 0 {
            return Err(err(Rule::XmlSyntax, format!("expected a name at offset {start}")));
        }
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
            return Ok(Token::Start { qname, attrs: "", empty: false, duplicate: None, prefixed: false });
        }
        let attrs_start = self.pos;
        // Names seen so far, compared as each attribute is read: no second pass over the
        // attribute text (beyond eight attributes, the earlier text is re-read).
        let mut seen = [""; 8];
        let mut count = 0usize;
        let mut duplicate = None;
        let mut prefixed = false;
        loop {
            let had_ws = self.skip_ws();
            match self.rest().first() {
                Some(b'>') => {
                    let attrs = self.slice(attrs_start, self.pos);
                    self.pos += 1;
                    return Ok(Token::Start { qname, attrs, empty: false, duplicate, prefixed });
                }
                Some(b'/') if self.rest().get(1) == Some(&b'>') => {
                    let attrs = self.slice(attrs_start, self.pos);
                    self.pos += 2;
                    return Ok(Token::Start { qname, attrs, empty: true, duplicate, prefixed });
                }
                Some(_) if had_ws => {
                    let before = self.pos;
                    let (name, has_prefix) = self.attribute()?;
                    prefixed |= has_prefix;
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

    /// One `name="value"`; returns the name and whether it has a prefix other than `xmlns`.
    /// A namespace declaration must bind a prefix to a non-empty namespace (Namespaces in XML
    /// 1.0 cannot undeclare a prefix), and the reserved prefixes keep their meaning.
    fn attribute(&mut self) -> Result<(&'a str, bool), ValidationError> {
        let name = self.name()?;
        let local = name.bytes().rposition(|b| b == b':').map_or(0, |i| i + 1);
        // `xmlns:p`: the prefix is known to be a name without `:`; only `p` needs a look.
        let declaration = local == 6 && name.starts_with("xmlns:");
        let qualified = match local {
            0 => true,
            _ if declaration => local_part_starts(name, local),
            _ => is_qname(name, local),
        };
        if !qualified {
            return Err(err(
                Rule::XmlSyntax,
                format!("attribute name '{}' is not a qualified name", shorten(name)),
            ));
        }
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
            check_char_data(self.slice(start, start + len), start, false)?;
        }
        self.pos = start + len + 1;
        if local == 0 {
            return Ok((name, false));
        }
        if declaration {
            // The full check only where it can fail: an empty value, a reserved prefix, a
            // value as long as a reserved namespace, or one with references.
            let prefix = name.as_bytes().get(6..);
            if len == 0 || special || matches!(len, 29 | 36) || matches!(prefix, Some(b"xml" | b"xmlns")) {
                check_prefix_declaration(name, self.slice(start, start + len))?;
            }
            return Ok((name, false));
        }
        Ok((name, true))
    }
}

/// `xmlns:p="value"`: `value` may not be empty, `xmlns` is never declared, and `xml` only
/// to its own namespace, which no other prefix may take (Namespaces in XML 1.0).
#[cold]
fn check_prefix_declaration(name: &str, raw: &str) -> Result<(), ValidationError> {
    const XML_NS: &str = "http://www.w3.org/XML/1998/namespace";
    const XMLNS_NS: &str = "http://www.w3.org/2000/xmlns/";
    let prefix = name.get(6..).unwrap_or("");
    let value = crate::xml::escape::decode(raw);
    let fault = if value.is_empty() {
        Some("may not be undeclared (empty namespace)")
    } else if prefix == "xmlns" {
        Some("is reserved")
    } else if (prefix == "xml") != (value == XML_NS) || value == XMLNS_NS {
        Some("is bound to a reserved namespace, or xml to another")
    } else {
        None
    };
    match fault {
        Some(f) => Err(err(Rule::XmlSyntax, format!("namespace prefix '{}' {f}", shorten(prefix)))),
        None => Ok(()),
    }
}

/// Every `&` must start a known entity reference; character data (`content`, not an
/// attribute value: XML 1.0 §2.4 restricts only `CharData`) may not contain `]]>`.
fn check_char_data(raw: &str, offset: usize, content: bool) -> Result<(), ValidationError> {
    if !raw.bytes().any(|b| b == b'&' || b == b'>') {
        return Ok(());
    }
    if content && raw.contains("]]>") {
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

/// Offset of the first `--` in `bytes` (one vectorised search; the searcher is built once).
fn find_double_dash(bytes: &[u8]) -> Option<usize> {
    static DASHES: std::sync::LazyLock<memchr::memmem::Finder<'static>> =
        std::sync::LazyLock::new(|| memchr::memmem::Finder::new(b"--"));
    DASHES.find(bytes)
}

/// Length of the processing-instruction target (a name) at the start of `body`.
fn pi_target_len(body: &str) -> usize {
    let bytes = body.as_bytes();
    match scan_qname(bytes) {
        Some((len, _)) if bytes.get(len).is_none_or(|&b| b < 0x80) => len,
        _ => unicode_name_len(body),
    }
}

/// The XML declaration's body after `xml`: `S version="1.x" (S encoding="...")?
/// (S standalone="yes|no")? S?`, in that order. `version` must be `1.` and digits (XML 1.0,
/// fifth edition: a 1.0 processor reads any 1.x document as 1.0); only UTF-8 (any case,
/// also `utf8`) is accepted as encoding (`xml.encoding` for another).
fn check_declaration(body: &str) -> Result<(), ValidationError> {
    const XML_WS: [char; 4] = [' ', '\t', '\n', '\r'];
    let malformed = |what: &str| err(Rule::XmlSyntax, format!("malformed XML declaration: {what}"));
    let mut rest = body.get(3..).unwrap_or("");
    let mut seen = 0u8;
    let mut encoding = None;
    loop {
        let trimmed = rest.trim_start_matches(XML_WS);
        if trimmed.is_empty() {
            break;
        }
        if trimmed.len() == rest.len() {
            return Err(malformed("space expected"));
        }
        let eq = trimmed.find('=').ok_or_else(|| malformed("pseudo-attribute without '='"))?;
        let key = trimmed[..eq].trim_end_matches(XML_WS);
        let after = trimmed[eq + 1..].trim_start_matches(XML_WS);
        let quote = after
            .chars()
            .next()
            .filter(|&q| q == '"' || q == '\'')
            .ok_or_else(|| malformed("unquoted value"))?;
        let value_and_rest = &after[1..];
        let end = value_and_rest.find(quote).ok_or_else(|| malformed("unterminated value"))?;
        let value = &value_and_rest[..end];
        rest = &value_and_rest[end + 1..];
        let order = match key {
            "version" => 1,
            "encoding" => 2,
            "standalone" => 3,
            _ => return Err(malformed("unknown pseudo-attribute")),
        };
        if order <= seen || (seen == 0 && order != 1) {
            return Err(malformed("version first, then encoding, then standalone"));
        }
        seen = order;
        let ok = match order {
            1 => value
                .strip_prefix("1.")
                .is_some_and(|d| !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit())),
            2 => {
                let mut b = value.bytes();
                encoding = Some(value);
                b.next().is_some_and(|c| c.is_ascii_alphabetic())
                    && b.all(|c| c.is_ascii_alphanumeric() || matches!(c, b'.' | b'_' | b'-'))
            }
            _ => matches!(value, "yes" | "no"),
        };
        if !ok {
            return Err(malformed(&format!("bad {key} '{}'", shorten(value))));
        }
    }
    if seen == 0 {
        return Err(malformed("no version"));
    }
    match encoding {
        Some(v) if !(v.eq_ignore_ascii_case("utf-8") || v.eq_ignore_ascii_case("utf8")) => {
            Err(err(Rule::XmlEncoding, format!("declared encoding '{}' is not UTF-8", shorten(v))))
        }
        _ => Ok(()),
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
                let want_low = bytes[..want_len].iter().any(|&b| !(0x20..0x80).contains(&b));
                let (got_len, got_special, got_low) = char_data_len(&bytes);
                assert_eq!(got_len, want_len, "{bytes:?}");
                assert!(got_special || !want_special, "{bytes:?}");
                // Exact: a borrow only runs upwards from a byte that is itself below 0x20 (or
                // flagged as non-ASCII).
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
