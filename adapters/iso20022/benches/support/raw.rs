//! quick-xml's raw event passes, the baselines of `benches/read.rs` and `examples/read_loop.rs`
//! (shared through `#[path]`): one pass over the bytes, every event counted, no validation.

/// The buffered pass: each event is copied into a reused buffer (`read_event_into`).
pub fn raw_events(bytes: &[u8]) -> usize {
    let mut reader = quick_xml::Reader::from_reader(bytes);
    let mut buf = Vec::new();
    let mut n = 0usize;
    loop {
        match reader.read_event_into(&mut buf) {
            Ok(quick_xml::events::Event::Eof) | Err(_) => break,
            Ok(_) => n += 1,
        }
        buf.clear();
    }
    n
}

/// The borrowing pass over a byte slice: events point into `bytes`, nothing is copied
/// (`read_event`; the cheaper baseline).
pub fn raw_events_borrowed(bytes: &[u8]) -> usize {
    let mut reader = quick_xml::Reader::from_reader(bytes);
    let mut n = 0usize;
    loop {
        match reader.read_event() {
            Ok(quick_xml::events::Event::Eof) | Err(_) => break,
            Ok(_) => n += 1,
        }
    }
    n
}
