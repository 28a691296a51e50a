//! The XSD regular-expression subset used by the ISO 20022 schemas.
//!
//! ISO schemas use anchored patterns built from literals, `\` escapes, `.`, character
//! classes with ranges, groups and the quantifiers `?`, `*`, `+`, `{n}`, `{n,m}`. That is all
//! this module supports; the schema generator refuses anything else, so an unsupported
//! construct can never silently pass. Matching is backtracking over code points, which is
//! fine for the short, static patterns involved.

#[derive(Debug, Clone, PartialEq, Eq)]
enum Atom {
    Any,
    Literal(u32),
    Class { ranges: Vec<(u32, u32)>, negated: bool },
    Group(Vec<Vec<Item>>),
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Item {
    atom: Atom,
    min: u32,
    max: u32,
}

/// A compiled pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Pattern {
    alternatives: Vec<Vec<Item>>,
    /// The pattern expanded to fixed strings of atoms, when it has that shape; each atom as
    /// the set of ASCII bytes it accepts (an [`AsciiSet`]).
    fixed: Option<Vec<Vec<AsciiSet>>>,
    /// One alternative of single-character atoms where only the last may vary in count
    /// (`[A-Z]{2,2}[0-9]{2,2}[a-zA-Z0-9]{1,30}`, `[0-9]{1,15}`): `(ASCII mask, min, max)`
    /// per item, matched greedily, which is exact for that shape.
    runs: Option<Vec<(AsciiSet, u32, u32)>>,
    source: Box<str>,
}

/// A set of ASCII bytes: bit `c % 64` of word `c / 64`. Two words, not a `u128`: testing a
/// byte is then one load and one shift, where a 128-bit shift takes several instructions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct AsciiSet([u64; 2]);

impl AsciiSet {
    /// Whether byte `c` is in the set (never for bytes above 0x7f).
    #[inline(always)]
    fn has(self, c: u8) -> bool {
        self.0.get(usize::from(c >> 6)).is_some_and(|w| (w >> (c & 63)) & 1 == 1)
    }
}

/// The ASCII bytes a single-character atom accepts.
fn ascii_mask(atom: &Atom) -> AsciiSet {
    let mut words = [0u64; 2];
    for c in (0..128u32).filter(|&c| atom_matches_one(atom, c)) {
        words[(c / 64) as usize] |= 1 << (c % 64);
    }
    AsciiSet(words)
}

/// See [`Pattern::runs`].
fn fixed_runs(alternatives: &[Vec<Item>]) -> Option<Vec<(AsciiSet, u32, u32)>> {
    let [items] = alternatives else { return None };
    let last = items.len().checked_sub(1)?;
    items
        .iter()
        .enumerate()
        .map(|(k, item)| match item.atom {
            Atom::Group(_) => None,
            ref atom if item.min == item.max || k == last => Some((ascii_mask(atom), item.min, item.max)),
            _ => None,
        })
        .collect()
}

impl Pattern {
    /// Compiles `source`; `None` when it uses syntax outside the supported subset.
    pub(crate) fn compile(source: &str) -> Option<Pattern> {
        let chars: Vec<u32> = source.chars().map(u32::from).collect();
        let mut pos = 0;
        let alternatives = parse_alternatives(&chars, &mut pos, 0)?;
        if pos != chars.len() {
            return None;
        }
        let fixed = expand_fixed(&alternatives)
            .map(|alts| alts.iter().map(|alt| alt.iter().map(ascii_mask).collect()).collect());
        let runs = fixed_runs(&alternatives);
        Some(Pattern { alternatives, fixed, runs, source: source.into() })
    }

    /// Fast path: when every alternative is a run of single-character atoms with fixed
    /// counts (UUIDs, BICs after expanding a trailing `(...){0,1}`, codes), matching is one
    /// left-to-right check per alternative of the right length. `None` = not applicable.
    fn fixed_match(&self, text: &str) -> Option<bool> {
        let in_mask = |m: AsciiSet, c: u8| m.has(c);
        if let Some(fixed) = &self.fixed {
            // A non-ASCII byte is in no mask: it fails here only where the atom could not
            // match it either, so decide by the slow path then.
            if !text.is_ascii() {
                return None;
            }
            return Some(fixed.iter().any(|alt| {
                alt.len() == text.len() && alt.iter().zip(text.bytes()).all(|(&m, c)| in_mask(m, c))
            }));
        }
        let runs = self.runs.as_ref()?;
        if !text.is_ascii() {
            return None;
        }
        let bytes = text.as_bytes();
        let mut at = 0usize;
        for &(mask, min, max) in runs {
            let want = (min as usize, max as usize);
            let mut n = 0usize;
            while n < want.1 && bytes.get(at + n).is_some_and(|&c| in_mask(mask, c)) {
                n += 1;
            }
            if n < want.0 {
                return Some(false);
            }
            at += n;
        }
        Some(at == bytes.len())
    }

    pub(crate) fn source(&self) -> &str {
        &self.source
    }

    /// Whether the whole of `text` matches.
    pub(crate) fn is_match(&self, text: &str) -> bool {
        if let Some(fixed) = self.fixed_match(text) {
            return fixed;
        }
        if text.is_ascii() {
            let s = Ascii(text.as_bytes());
            return match_alternatives(&self.alternatives, &s, 0, &mut |end| end == s.len());
        }
        let cps = Wide(text.chars().map(u32::from).collect());
        match_alternatives(&self.alternatives, &cps, 0, &mut |end| end == cps.len())
    }
}

/// Code points the matcher walks: bytes for ASCII text (no allocation), else decoded chars.
trait CodePoints {
    fn at(&self, i: usize) -> Option<u32>;
    fn len(&self) -> usize;
}

struct Ascii<'s>(&'s [u8]);
struct Wide(Vec<u32>);

impl CodePoints for Ascii<'_> {
    fn at(&self, i: usize) -> Option<u32> {
        self.0.get(i).map(|&b| u32::from(b))
    }
    fn len(&self) -> usize {
        self.0.len()
    }
}

impl CodePoints for Wide {
    fn at(&self, i: usize) -> Option<u32> {
        self.0.get(i).copied()
    }
    fn len(&self) -> usize {
        self.0.len()
    }
}

const MAX_NESTING: usize = 8;

/// Expands alternatives made of fixed-count single-character atoms, optionally ending in a
/// `(fixed run){0,1}` group, into the list of fixed atom strings they denote.
fn expand_fixed(alternatives: &[Vec<Item>]) -> Option<Vec<Vec<Atom>>> {
    let mut out = Vec::new();
    for items in alternatives {
        let mut prefixes: Vec<Vec<Atom>> = vec![Vec::new()];
        for (k, item) in items.iter().enumerate() {
            match &item.atom {
                Atom::Group(inner) if k + 1 == items.len() && item.min == 0 && item.max == 1 => {
                    let tails = expand_fixed(inner)?;
                    let base = prefixes.clone();
                    for tail in tails {
                        prefixes.extend(base.iter().map(|p| p.iter().chain(&tail).cloned().collect()));
                    }
                }
                Atom::Group(_) => return None,
                atom if item.min == item.max && item.max <= 64 => {
                    for p in &mut prefixes {
                        p.extend(std::iter::repeat_n(atom.clone(), item.min as usize));
                    }
                }
                _ => return None,
            }
        }
        out.extend(prefixes);
    }
    (out.len() <= 8).then_some(out)
}

fn parse_alternatives(p: &[u32], pos: &mut usize, nesting: usize) -> Option<Vec<Vec<Item>>> {
    if nesting > MAX_NESTING {
        return None;
    }
    let mut alts = vec![Vec::new()];
    while let Some(&c) = p.get(*pos) {
        match char::from_u32(c)? {
            ')' => break,
            '|' => {
                *pos += 1;
                alts.push(Vec::new());
            }
            _ => {
                let atom = parse_atom(p, pos, nesting)?;
                let (min, max) = parse_quantifier(p, pos)?;
                alts.last_mut()?.push(Item { atom, min, max });
            }
        }
    }
    Some(alts)
}

fn parse_atom(p: &[u32], pos: &mut usize, nesting: usize) -> Option<Atom> {
    let c = char::from_u32(*p.get(*pos)?)?;
    *pos += 1;
    match c {
        '.' => Some(Atom::Any),
        '\\' => {
            let e = *p.get(*pos)?;
            *pos += 1;
            escaped(e).map(Atom::Literal)
        }
        '[' => parse_class(p, pos),
        '(' => {
            let alts = parse_alternatives(p, pos, nesting + 1)?;
            (p.get(*pos) == Some(&u32::from(')'))).then(|| {
                *pos += 1;
                Atom::Group(alts)
            })
        }
        '{' | '}' | '*' | '+' | '?' | ']' => None,
        other => Some(Atom::Literal(u32::from(other))),
    }
}

/// Single-character escapes only (`\+`, `\-`, `\.`, ...); class escapes like `\d` are unsupported.
fn escaped(c: u32) -> Option<u32> {
    let ch = char::from_u32(c)?;
    match ch {
        'n' => Some(u32::from('\n')),
        'r' => Some(u32::from('\r')),
        't' => Some(u32::from('\t')),
        '\\' | '|' | '.' | '-' | '^' | '?' | '*' | '+' | '{' | '}' | '(' | ')' | '[' | ']' | '/' => Some(c),
        _ => None,
    }
}

fn parse_class(p: &[u32], pos: &mut usize) -> Option<Atom> {
    let negated = p.get(*pos) == Some(&u32::from('^'));
    if negated {
        *pos += 1;
    }
    let mut ranges = Vec::new();
    loop {
        let c = *p.get(*pos)?;
        *pos += 1;
        let lo = match char::from_u32(c)? {
            ']' if !ranges.is_empty() => return Some(Atom::Class { ranges, negated }),
            '\\' => {
                let e = *p.get(*pos)?;
                *pos += 1;
                escaped(e)?
            }
            '[' => return None,
            _ => c,
        };
        let is_range =
            p.get(*pos) == Some(&u32::from('-')) && p.get(*pos + 1).is_some_and(|&n| n != u32::from(']'));
        if is_range {
            let hi = *p.get(*pos + 1)?;
            *pos += 2;
            let hi = if hi == u32::from('\\') {
                let e = *p.get(*pos)?;
                *pos += 1;
                escaped(e)?
            } else {
                hi
            };
            ranges.push((lo, hi));
        } else {
            ranges.push((lo, lo));
        }
    }
}

fn parse_quantifier(p: &[u32], pos: &mut usize) -> Option<(u32, u32)> {
    let Some(c) = p.get(*pos).and_then(|&c| char::from_u32(c)) else { return Some((1, 1)) };
    let q = match c {
        '?' => (0, 1),
        '*' => (0, u32::MAX),
        '+' => (1, u32::MAX),
        '{' => return parse_braces(p, pos),
        _ => return Some((1, 1)),
    };
    *pos += 1;
    Some(q)
}

fn parse_braces(p: &[u32], pos: &mut usize) -> Option<(u32, u32)> {
    *pos += 1;
    let mut text = String::new();
    loop {
        let c = char::from_u32(*p.get(*pos)?)?;
        *pos += 1;
        if c == '}' {
            break;
        }
        text.push(c);
    }
    match text.split_once(',') {
        None => {
            let n = text.parse().ok()?;
            Some((n, n))
        }
        Some((lo, "")) => Some((lo.parse().ok()?, u32::MAX)),
        Some((lo, hi)) => {
            let (lo, hi): (u32, u32) = (lo.parse().ok()?, hi.parse().ok()?);
            (lo <= hi).then_some((lo, hi))
        }
    }
}

fn atom_matches_one(atom: &Atom, c: u32) -> bool {
    match atom {
        Atom::Any => c != u32::from('\n') && c != u32::from('\r'),
        Atom::Literal(l) => *l == c,
        Atom::Class { ranges, negated } => ranges.iter().any(|&(lo, hi)| lo <= c && c <= hi) != *negated,
        Atom::Group(_) => false,
    }
}

fn match_alternatives(
    alts: &[Vec<Item>],
    s: &dyn CodePoints,
    at: usize,
    k: &mut dyn FnMut(usize) -> bool,
) -> bool {
    alts.iter().any(|items| match_items(items, s, at, k))
}

fn match_items(items: &[Item], s: &dyn CodePoints, at: usize, k: &mut dyn FnMut(usize) -> bool) -> bool {
    let Some((first, rest)) = items.split_first() else { return k(at) };
    match_repeat(first, 0, rest, s, at, k)
}

/// Greedy repetition of `item` (already matched `count` times) followed by `rest`.
fn match_repeat(
    item: &Item,
    count: u32,
    rest: &[Item],
    s: &dyn CodePoints,
    at: usize,
    k: &mut dyn FnMut(usize) -> bool,
) -> bool {
    if let Atom::Group(alts) = &item.atom {
        if count < item.max {
            let mut next = |end: usize| end != at && match_repeat(item, count + 1, rest, s, end, k);
            if match_alternatives(alts, s, at, &mut next) {
                return true;
            }
        }
        return count >= item.min && match_items(rest, s, at, k);
    }
    // Simple atoms: count how far the run can go, then back off.
    let mut run = 0usize;
    while (count as usize + run) < item.max as usize
        && s.at(at + run).is_some_and(|c| atom_matches_one(&item.atom, c))
    {
        run += 1;
    }
    loop {
        if count as usize + run >= item.min as usize && match_items(rest, s, at + run, k) {
            return true;
        }
        if run == 0 {
            return false;
        }
        run -= 1;
    }
}

#[cfg(test)]
mod tests {
    use super::Pattern;

    #[test]
    fn iso_patterns() {
        let cases: &[(&str, &str, bool)] = &[
            ("[A-Z0-9]{4,4}[A-Z]{2,2}[A-Z0-9]{2,2}([A-Z0-9]{3,3}){0,1}", "DEUTDEFF", true),
            ("[A-Z0-9]{4,4}[A-Z]{2,2}[A-Z0-9]{2,2}([A-Z0-9]{3,3}){0,1}", "DEUTDEFF500", true),
            ("[A-Z0-9]{4,4}[A-Z]{2,2}[A-Z0-9]{2,2}([A-Z0-9]{3,3}){0,1}", "DEUTDEFF50", false),
            ("[A-Z0-9]{4,4}[A-Z]{2,2}[A-Z0-9]{2,2}([A-Z0-9]{3,3}){0,1}", "", false),
            (".*Z", "2020-01-01T00:00:00Z", true),
            (".*Z", "2020-01-01T00:00:00", false),
            ("\\+[0-9]{1,3}-[0-9()+\\-]{1,30}", "+44-(0)20-1234", true),
            ("[\\+]{0,1}[0-9]{1,15}", "+123", true),
            (
                "[a-f0-9]{8}-[a-f0-9]{4}-4[a-f0-9]{3}-[89ab][a-f0-9]{3}-[a-f0-9]{12}",
                "eb6305c9-1f7f-49de-aed0-16487c27b42d",
                true,
            ),
            (
                "[a-f0-9]{8}-[a-f0-9]{4}-4[a-f0-9]{3}-[89ab][a-f0-9]{3}-[a-f0-9]{12}",
                "EB6305C9-1f7f-49de-aed0-16487c27b42d",
                false,
            ),
            ("[A-Z]{6,6}[A-Z2-9][A-NP-Z0-9]([A-Z0-9]{3,3}){0,1}", "DEUTDEFFO", false),
            ("[A-Z]{6,6}[A-Z2-9][A-NP-Z0-9]([A-Z0-9]{3,3}){0,1}", "DEUTDEFF", true),
        ];
        for (p, s, want) in cases {
            let pat = Pattern::compile(p).expect(p);
            assert_eq!(pat.is_match(s), *want, "{p} on {s}");
        }
        assert!(Pattern::compile("\\d+").is_none());
    }

    /// The fixed-string and run fast paths agree with the backtracking matcher on every
    /// pattern of every compiled-in schema, over strings built from the patterns' alphabet.
    #[test]
    fn fast_paths_agree_with_backtracking() {
        let mut sources: Vec<&str> = crate::schema::registry::SCHEMAS
            .iter()
            .flat_map(|(_, text)| text.split(['\t', '\n']))
            .filter_map(|f| f.strip_prefix("pattern="))
            .collect();
        sources.sort_unstable();
        sources.dedup();
        let alphabet: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789abcdef-+()/.";
        let mut x = 0x2545_f491_4f6c_dd1du64;
        let mut next = move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        for src in sources {
            let pat = Pattern::compile(src).expect(src);
            for _ in 0..5000 {
                let r = next();
                let len = if r % 3 == 0 { (r >> 8) % 40 } else { (r >> 8) % 14 } as usize;
                let mut bytes: Vec<u8> =
                    (0..len).map(|_| alphabet[(next() % alphabet.len() as u64) as usize]).collect();
                if r % 17 == 0 {
                    bytes.extend_from_slice("\u{e9}".as_bytes());
                }
                let text = String::from_utf8(bytes).expect("utf8");
                let slow = {
                    let s = super::Ascii(text.as_bytes());
                    text.is_ascii().then(|| {
                        super::match_alternatives(&pat.alternatives, &s, 0, &mut |end| end == s.0.len())
                    })
                };
                if let Some(slow) = slow {
                    assert_eq!(pat.is_match(&text), slow, "{src} on {text:?}");
                }
            }
        }
    }
}
