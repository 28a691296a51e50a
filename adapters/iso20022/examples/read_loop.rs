//! Reads one file N times with `read_pacs008` (`ours`), `validate_any` (`any`) or quick-xml's
//! raw event reader, buffered (`raw`, `read_event_into`) or borrowing (`rawb`, `read_event`),
//! for instruction counting: the per-message cost is the difference of an N-message
//! and a 1-message run under `valgrind --tool=callgrind` (one-time schema loading cancels).
//!
//! Run: `cargo build --release -p switchyard-iso20022 --example read_loop`, then
//! `valgrind --tool=callgrind <target>/release/examples/read_loop ours FILE 51`.

use std::hint::black_box;

use switchyard_iso20022::{read_pacs002, read_pacs008, validate_any, Limits};

#[path = "../benches/support/raw.rs"]
mod raw;
use raw::{raw_events, raw_events_borrowed};

#[path = "../tests/support/mutate.rs"]
mod support;
use support::mutate;

/// Prints every entry point's outcome on each file and on `n` mutations of them, one line
/// each, so two builds can be compared with `diff`.
fn dump(files: &[String], n: usize) {
    let mut x = 0x9e37_79b9_7f4a_7c15u64;
    let bases: Vec<Vec<u8>> = files.iter().filter_map(|f| std::fs::read(f).ok()).collect();
    let small = Limits { max_depth: 12, max_text_bytes: 40, max_transactions: 1, ..Limits::default() };
    for i in 0..bases.len() + n {
        let input = match bases.get(i) {
            Some(b) => b.clone(),
            None => mutate(&bases[i % bases.len()], &mut x),
        };
        let limits = if i % 4 == 3 { small } else { Limits::default() };
        println!("{i} A {:?}", validate_any(&input, &limits));
        println!("{i} P8 {:?}", read_pacs008(&input, &limits));
        println!("{i} P2 {:?}", read_pacs002(&input, &limits));
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (Some(mode), Some(file)) = (args.get(1), args.get(2)) else {
        eprintln!("usage: read_loop ours|any|raw|rawb FILE [N] | read_loop dump MUTATIONS FILE...");
        std::process::exit(2);
    };
    if mode == "dump" {
        let n: usize = file.parse().unwrap_or(0);
        dump(&args[3..], n);
        return;
    }
    let n: usize = args.get(3).and_then(|s| s.parse().ok()).unwrap_or(1);
    let bytes = std::fs::read(file).unwrap_or_else(|e| {
        eprintln!("{file}: {e}");
        std::process::exit(2)
    });
    let limits = Limits::default();
    let mut ok = 0usize;
    for _ in 0..n {
        match mode.as_str() {
            "ours" => ok += usize::from(read_pacs008(black_box(&bytes), &limits).is_ok()),
            "any" => ok += usize::from(validate_any(black_box(&bytes), &limits).is_ok()),
            "rawb" => ok += usize::from(raw_events_borrowed(black_box(&bytes)) > 0),
            _ => ok += usize::from(raw_events(black_box(&bytes)) > 0),
        }
    }
    println!("{ok}/{n} ok");
}
