//! The example byte dumps of docs/PROTOCOL.md, generated from the real codec.
//!
//! The block between `<!-- dumps:begin -->` and `<!-- dumps:end -->` in docs/PROTOCOL.md must
//! equal what this test generates by encoding frames with [`FrameCodec`] (and decoding them
//! back), so the document cannot drift from the code. After a deliberate change to the frame
//! format, regenerate the block with `SWITCHYARD_BLESS=1 cargo test -p switchyard-wire --test
//! protocol_dumps` and review the diff.

use std::fmt::Write as _;

use bytes::BytesMut;
use switchyard_iso20022::{write_pacs002, StatusReport, TxStatus, TxStatusInfo, Uetr};
use switchyard_wire::{Frame, FrameCodec, FrameKind, FLAG_POSSIBLE_DUPLICATE};
use tokio_util::codec::{Decoder, Encoder};

const DOC: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/PROTOCOL.md");
const BEGIN: &str = "<!-- dumps:begin -->";
const END: &str = "<!-- dumps:end -->";
/// Payload bytes shown for a message frame; the rest is summarised.
const SHOWN_PAYLOAD: usize = 48;

fn encode(frame: &Frame) -> Vec<u8> {
    let mut codec = FrameCodec::new(1 << 20);
    let mut buf = BytesMut::new();
    codec.encode(frame.clone(), &mut buf).expect("encodes");
    let bytes = buf.to_vec();
    // What the dump shows is what a reader decodes.
    let decoded = codec.decode(&mut buf).expect("decodes").expect("one whole frame");
    assert_eq!(&decoded, frame);
    bytes
}

/// `xxd`-style lines: offset, 16 bytes in two groups of 8, printable ASCII.
fn hex_lines(bytes: &[u8], out: &mut String) {
    for (row, chunk) in bytes.chunks(16).enumerate() {
        let mut hex = String::new();
        for (i, b) in chunk.iter().enumerate() {
            if i == 8 {
                hex.push(' ');
            }
            let _ = write!(hex, "{b:02x} ");
        }
        let ascii: String =
            chunk.iter().map(|&b| if b.is_ascii_graphic() || b == b' ' { b as char } else { '.' }).collect();
        let _ = writeln!(out, "{:04x}  {hex:<49} {ascii}", row * 16);
    }
}

fn dump(title: &str, frame: &Frame, out: &mut String) {
    let bytes = encode(frame);
    let length = u32::from_be_bytes(bytes[..4].try_into().expect("4 bytes"));
    let _ = writeln!(out, "{title}\n\n```text");
    let _ = writeln!(
        out,
        "length={length} version={} kind={:?}(0x{:02x}) flags=0x{:04x} correlation={} payload={} bytes",
        bytes[4],
        frame.kind,
        bytes[5],
        frame.flags,
        frame.correlation,
        frame.payload.len()
    );
    let shown = if matches!(frame.kind, FrameKind::Submit | FrameKind::Status | FrameKind::Deliver) {
        (16 + SHOWN_PAYLOAD).min(bytes.len())
    } else {
        bytes.len()
    };
    hex_lines(&bytes[..shown], out);
    if shown < bytes.len() {
        let _ = writeln!(out, "...   ({} more payload bytes)", bytes.len() - shown);
    }
    let _ = writeln!(out, "```\n");
}

/// The ACK a participant receives for an accepted payment: pacs.002 with `TxSts=ACTC`.
fn actc() -> Vec<u8> {
    let report = StatusReport {
        msg_id: "SWY-ACK-1".into(),
        cre_dt_tm: "2026-11-23T08:00:00.123Z".into(),
        orgnl_msg_id: "BANKA-20261123-1".into(),
        orgnl_msg_nm_id: "pacs.008.001.08".into(),
        txs: vec![TxStatusInfo {
            orgnl_end_to_end_id: Some("E2E-1".into()),
            orgnl_uetr: Uetr::parse("e0b4d9b2-2d4f-4c77-9a7e-2b0c1d5e6f70"),
            ..TxStatusInfo::new(TxStatus::ACTC)
        }],
        ..StatusReport::default()
    };
    write_pacs002(&report)
}

fn generate() -> String {
    let mut out = String::new();
    let frames: Vec<(&str, Frame)> = vec![
        (
            "**SignOn** (client → node, correlation 0):",
            Frame::control(FrameKind::SignOn, 0, &[("protocol", "1")]),
        ),
        (
            "**SignOnOk** (node → client: session 42, a credit window of 1024, heartbeats every 20 s):",
            Frame::control(
                FrameKind::SignOnOk,
                0,
                &[("session", "42"), ("credit_window", "1024"), ("heartbeat_ms", "20000")],
            ),
        ),
        ("**Status ACTC** (the ACK: node → participant, the answer to the Submit with correlation 1; the payload is a pacs.002 with `TxSts=ACTC`):", Frame::new(FrameKind::Status, 1, actc())),
        ("**Heartbeat** (either side, correlation 7):", Frame::new(FrameKind::Heartbeat, 7, Vec::new())),
        ("**HeartbeatAck** (the answer, same correlation):", Frame::new(FrameKind::HeartbeatAck, 7, Vec::new())),
        (
            "**CreditUpdate** (node → participant, 16 more credits; reserved, version 1 never sends it):",
            Frame::control(FrameKind::CreditUpdate, 0, &[("credits", "16")]),
        ),
        (
            "**Error** (a frame over the limit; the connection closes after it):",
            Frame::control(
                FrameKind::Error,
                0,
                &[("code", "FF02"), ("detail", "frame of 2000000 bytes exceeds the limit of 1048576")],
            ),
        ),
        (
            "**Submit resent after a reconnect** (flag `0x0001`, possible duplicate; payload cut):",
            Frame { flags: FLAG_POSSIBLE_DUPLICATE, ..Frame::new(FrameKind::Submit, 3, &b"<?xml version=\"1.0\" encoding=\"UTF-8\"?><Document xmlns=\"urn:iso:std:iso:20022:tech:xsd:pacs.008.001.08\">"[..]) },
        ),
        ("**SignOff** (either side):", Frame::new(FrameKind::SignOff, 0, Vec::new())),
        ("**SignOffOk** (the answer; its sender then closes):", Frame::new(FrameKind::SignOffOk, 0, Vec::new())),
    ];
    for (title, frame) in &frames {
        dump(title, frame, &mut out);
        if frame.kind == FrameKind::Status {
            let xml = String::from_utf8(frame.payload.to_vec()).expect("UTF-8");
            let _ = writeln!(out, "Its payload in full:\n\n```xml\n{}\n```\n", xml.trim_end());
        }
    }
    out
}

#[test]
fn protocol_md_dumps_match_the_codec() {
    let doc = std::fs::read_to_string(DOC).expect("docs/PROTOCOL.md");
    let (head, rest) = doc.split_once(BEGIN).expect("docs/PROTOCOL.md has the dumps:begin marker");
    let (current, tail) = rest.split_once(END).expect("docs/PROTOCOL.md has the dumps:end marker");
    let generated = format!("\n{}", generate());
    if current == generated {
        return;
    }
    if std::env::var("SWITCHYARD_BLESS").as_deref() == Ok("1") {
        std::fs::write(DOC, format!("{head}{BEGIN}{generated}{END}{tail}")).expect("write docs/PROTOCOL.md");
        return;
    }
    panic!(
        "docs/PROTOCOL.md example dumps differ from the codec; regenerate with \
         SWITCHYARD_BLESS=1 cargo test -p switchyard-wire --test protocol_dumps\n\
         --- expected ---\n{generated}"
    );
}

#[test]
fn the_dumps_decode_field_by_field_as_documented() {
    // The layout table of docs/PROTOCOL.md, checked on one encoded frame byte by byte.
    let bytes = encode(&Frame {
        flags: FLAG_POSSIBLE_DUPLICATE,
        ..Frame::new(FrameKind::Status, 0x0102, &b"xy"[..])
    });
    assert_eq!(&bytes[..4], &14u32.to_be_bytes(), "length = 12 + payload");
    assert_eq!(bytes[4], 1, "version");
    assert_eq!(bytes[5], 0x05, "kind Status");
    assert_eq!(&bytes[6..8], &[0x00, 0x01], "flags, big-endian");
    assert_eq!(&bytes[8..16], &0x0102u64.to_be_bytes(), "correlation, big-endian");
    assert_eq!(&bytes[16..], b"xy");
}
