//! Never-panic property over mutated samples: a proptest in the normal run, and a long
//! deterministic random-mutation loop (`--ignored`) that prints its execution count.

mod support;

use support::mutate::{edit, TOKENS};

use proptest::prelude::*;
use switchyard_iso20022::{read_pacs002, read_pacs008, validate_any, write_pacs002, write_pacs008, Limits};

/// Applies one mutation chosen by `op` at position `at` (both taken modulo sizes).
fn mutate(base: &[u8], op: u8, at: usize, byte: u8, len: usize) -> Vec<u8> {
    let mut v = base.to_vec();
    if v.is_empty() {
        return vec![byte];
    }
    let i = at % v.len();
    let end = (i + len % 64).min(v.len());
    let token = TOKENS[usize::from(byte) % TOKENS.len()];
    edit(&mut v, u64::from(op), i, end, token, byte);
    v
}

/// Runs every entry point; panics only if a round trip of an accepted message breaks.
fn exercise(input: &[u8]) {
    let limits = Limits::default();
    let _ = validate_any(input, &limits);
    if let Ok(m) = read_pacs008(input, &limits) {
        assert_eq!(read_pacs008(&write_pacs008(&m), &limits).as_ref(), Ok(&m));
    }
    if let Ok(r) = read_pacs002(input, &limits) {
        assert_eq!(read_pacs002(&write_pacs002(&r), &limits).as_ref(), Ok(&r));
    }
}

fn corpus() -> Vec<Vec<u8>> {
    ["valid", "invalid", "unvalidated"].iter().flat_map(|d| support::samples(d)).map(|(_, b)| b).collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]
    #[test]
    fn mutated_samples_never_panic(pick in any::<usize>(), ops in proptest::collection::vec((any::<u8>(), any::<usize>(), any::<u8>(), any::<usize>()), 1..4)) {
        let corpus = corpus();
        if corpus.is_empty() {
            return Ok(());
        }
        let mut input = corpus[pick % corpus.len()].clone();
        for (op, at, byte, len) in ops {
            input = mutate(&input, op, at, byte, len);
        }
        exercise(&input);
    }
}

/// xorshift64*: deterministic, dependency-free randomness for the long loop.
fn next(state: &mut u64) -> u64 {
    *state ^= *state >> 12;
    *state ^= *state << 25;
    *state ^= *state >> 27;
    state.wrapping_mul(0x2545_f491_4f6c_dd1d)
}

#[test]
#[ignore = "long run; use --ignored (set MUTATION_EXECS to change the count)"]
fn long_random_mutation_loop() {
    let corpus = corpus();
    assert!(!corpus.is_empty(), "shared samples needed");
    let execs: u64 = std::env::var("MUTATION_EXECS").ok().and_then(|v| v.parse().ok()).unwrap_or(1_000_000);
    let mut s = 0x9e37_79b9_7f4a_7c15u64;
    for _ in 0..execs {
        let r = next(&mut s);
        let mut input = corpus[(r % corpus.len() as u64) as usize].clone();
        for _ in 0..=(r >> 60) % 4 {
            let r = next(&mut s);
            input = mutate(&input, r as u8, (r >> 8) as usize, (r >> 40) as u8, (r >> 48) as usize);
        }
        exercise(&input);
    }
    println!("long_random_mutation_loop: {execs} executions, no panic");
}
