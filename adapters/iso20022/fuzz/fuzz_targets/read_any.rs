//! Fuzz target: every reader on arbitrary bytes must return Ok or Err, never panic, and
//! never exceed the limits. Run: `cd adapters/iso20022/fuzz && cargo +nightly fuzz run read_any`
//! (seed the corpus from `shared/iso20022/samples/*/`).

#![no_main]

use libfuzzer_sys::fuzz_target;
use switchyard_iso20022::{read_pacs002, read_pacs008, validate_any, Limits};

fuzz_target!(|data: &[u8]| {
    let limits = Limits { max_message_bytes: 64 << 10, ..Limits::default() };
    let _ = validate_any(data, &limits);
    if let Ok(m) = read_pacs008(data, &limits) {
        let again = read_pacs008(&switchyard_iso20022::write_pacs008(&m), &limits);
        assert_eq!(again.as_ref(), Ok(&m), "pacs.008 round trip");
    }
    if let Ok(r) = read_pacs002(data, &limits) {
        let again = read_pacs002(&switchyard_iso20022::write_pacs002(&r), &limits);
        assert_eq!(again.as_ref(), Ok(&r), "pacs.002 round trip");
    }
});
