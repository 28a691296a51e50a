//! Fuzz target: the frame decoder on arbitrary bytes, fed in arbitrary chunks, as a peer's
//! socket would deliver them. It must return frames or an error, never panic; it must never
//! reserve more than one frame's worth of buffer beyond the limit; every frame it yields must
//! be within the limit and re-encode to exactly the bytes it was read from; and a chunked read
//! must yield the same frames as reading the whole input at once.
//! Run: `cd adapters/wire/fuzz && cargo +nightly fuzz run frame_decode`.

#![no_main]

use bytes::BytesMut;
use libfuzzer_sys::fuzz_target;
use switchyard_wire::{Frame, FrameCodec};
use tokio_util::codec::{Decoder, Encoder};

/// Small, so the fuzzer reaches the "too large" edge with short inputs.
const LIMIT: usize = 4096;

/// Decodes `chunks` fed one after another; the frames and whether the stream ended in error.
fn decode(chunks: &[&[u8]]) -> (Vec<(Frame, Vec<u8>)>, bool) {
    let mut codec = FrameCodec::new(LIMIT);
    let mut buf = BytesMut::new();
    let mut consumed: Vec<u8> = Vec::new();
    let mut frames = Vec::new();
    for chunk in chunks {
        buf.extend_from_slice(chunk);
        loop {
            let before = buf.clone();
            match codec.decode(&mut buf) {
                Ok(Some(frame)) => {
                    let used = before.len() - buf.len();
                    assert!(used <= LIMIT + 4, "a frame of {used} bytes passed a {LIMIT}-byte limit");
                    consumed.clear();
                    consumed.extend_from_slice(&before[..used]);
                    frames.push((frame, consumed.clone()));
                }
                Ok(None) => {
                    // Generous for BytesMut's growth policy, yet far below what a lying
                    // length prefix (up to 4 GiB) would make it reserve.
                    let bound = 4 * (LIMIT + 4 + 256);
                    assert!(
                        buf.capacity() <= bound,
                        "reserved {} bytes for a {LIMIT}-byte limit",
                        buf.capacity()
                    );
                    break;
                }
                Err(_) => return (frames, true),
            }
        }
    }
    (frames, false)
}

fuzz_target!(|data: &[u8]| {
    // The first byte picks the chunk size, the rest is the stream.
    let Some((&split, stream)) = data.split_first() else { return };
    let size = usize::from(split).max(1);
    let chunks: Vec<&[u8]> = stream.chunks(size).collect();
    let (frames, failed) = decode(&chunks);
    let (whole, whole_failed) = decode(&[stream]);
    assert_eq!(failed, whole_failed, "chunking changed whether the stream is an error");
    assert_eq!(frames.len(), whole.len(), "chunking changed the frames");
    for ((frame, bytes), (other, _)) in frames.iter().zip(&whole) {
        assert_eq!(frame, other);
        let mut out = BytesMut::new();
        FrameCodec::new(LIMIT).encode(frame.clone(), &mut out).expect("a decoded frame re-encodes");
        assert_eq!(&out[..], &bytes[..], "re-encoding gives the bytes read");
        let _ = frame.control_value("credit_window");
    }
});
