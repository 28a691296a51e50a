//! One deterministic XML mutator shared by the reader's differential tests and the
//! `read_loop` example (included with `#[path]`, so it is not a public API of the crate): byte
//! edits, deletions, duplicated ranges, XML fragments and truncations, driven by a xorshift
//! state so a run is reproducible from its seed.

/// One deterministic mutation of `base` (byte edits, deletions, XML fragments, truncation).
pub fn mutate(base: &[u8], x: &mut u64) -> Vec<u8> {
    const TOKENS: &[&[u8]] = &[
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
        let t = TOKENS[(next() as usize) % TOKENS.len()];
        match next() % 6 {
            0 => v[i] = next() as u8,
            1 => {
                v.drain(i..end);
            }
            2 => {
                v.splice(i..i, t.iter().copied());
            }
            3 => {
                let chunk = v[i..end].to_vec();
                v.splice(i..i, chunk);
            }
            4 => v.truncate(i),
            _ => {
                v.splice(i..end, t.iter().copied());
            }
        }
    }
    v
}
