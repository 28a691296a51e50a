//! One deterministic XML mutator shared by the reader's differential tests and the
//! `read_loop` example (included with `#[path]`, so it is not a public API of the crate): byte
//! edits, deletions, duplicated ranges, XML fragments and truncations, driven by a xorshift
//! state so a run is reproducible from its seed.

/// XML fragments and bytes the mutations insert.
pub const TOKENS: &[&[u8]] = &[
    b"<",
    b">",
    b"</",
    b"/>",
    b"&",
    b"&amp;",
    b"&#0;",
    b"<!DOCTYPE x>",
    b"<![CDATA[",
    b"]]>",
    b"<!--",
    b"-->",
    b"\"",
    b"'",
    b":",
    b"xmlns=\"x\"",
    b"\xff",
    b"\xc3",
    b"\x00",
    b"<a>",
    b"</Document>",
    b"Ccy=\"XAU\"",
    b" ",
    b"\n",
    b"<Nm>x</Nm>",
    b"-",
    b"a:",
    b"\n      ",
    b"\t",
    b"\r\n",
    b"</a>",
    b"<a/>",
    b"x=\"1\"",
    b"\xc3\xa9",
];

/// One edit of `v` in `i..end` (`i < v.len()`, `end <= v.len()`), chosen by `op % 6`:
/// overwrite a byte, delete the range, insert `token`, duplicate the range, truncate, or
/// replace the range with `token`.
pub fn edit(v: &mut Vec<u8>, op: u64, i: usize, end: usize, token: &[u8], byte: u8) {
    match op % 6 {
        0 => v[i] = byte,
        1 => {
            v.drain(i..end);
        }
        2 => {
            v.splice(i..i, token.iter().copied());
        }
        3 => {
            let chunk = v[i..end].to_vec();
            v.splice(i..i, chunk);
        }
        4 => v.truncate(i),
        _ => {
            v.splice(i..end, token.iter().copied());
        }
    }
}

/// One deterministic mutation of `base` (byte edits, deletions, XML fragments, truncation).
pub fn mutate(base: &[u8], x: &mut u64) -> Vec<u8> {
    let mut next = || {
        *x ^= *x << 13;
        *x ^= *x >> 7;
        *x ^= *x << 17;
        *x
    };
    let mut v = base.to_vec();
    for _ in 0..=(next() % 3) {
        if v.is_empty() {
            return v;
        }
        let i = (next() as usize) % v.len();
        let end = (i + (next() as usize) % 64).min(v.len());
        let token = TOKENS[(next() as usize) % TOKENS.len()];
        let (op, byte) = (next(), next() as u8);
        edit(&mut v, op, i, end, token, byte);
    }
    v
}
