//! Hostile input over the wire (issue 10): every class of malformed message and every framing
//! attack, sent over a real TLS 1.3 session to a real node. Each gets its documented answer — a
//! pacs.002 RJCT with the reason code of docs/ISO20022.md, or an Error frame / a closed
//! connection for framing — while another participant keeps being served, and nothing that was
//! accepted is lost (checked in the journal after a stop).

mod common;

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use bytes::BytesMut;
use common::{client, fixture, journal_records, run_participant, start_node_with, Fixture, TIMEOUT};
use futures::StreamExt;
use rustls::pki_types::ServerName;
use switchyard::demo::TEMPLATE;
use switchyard_actors::{JournalRecord, Outcome};
use switchyard_bench::client::Participant;
use switchyard_iso20022::{read_pacs002, Limits, TxStatus};
use switchyard_wire::{tls, Frame, FrameCodec, FrameKind};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_util::codec::{Decoder, Encoder};

const SHARED: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/iso20022");

fn template() -> String {
    String::from_utf8(TEMPLATE.to_vec()).unwrap()
}

/// Replaces `from` (which must occur) in the template.
fn variant(from: &str, to: &str) -> Vec<u8> {
    let t = template();
    assert!(t.contains(from), "the template has {from:?}");
    t.replacen(from, to, 1).into_bytes()
}

/// The malformed-message classes: (class, message, expected reason code).
fn malformed() -> Vec<(String, Vec<u8>, &'static str)> {
    let nested = format!("<Nm>{}x{}</Nm>", "<a>".repeat(100), "</a>".repeat(100));
    let laughs = "<!DOCTYPE Document [<!ENTITY a \"aaaaaaaaaa\"><!ENTITY b \"&a;&a;&a;&a;&a;&a;&a;&a;\">]>";
    let mut cases: Vec<(String, Vec<u8>, &'static str)> = vec![
        ("well-formedness: unclosed element".into(), variant("</Dbtr>", ""), "FF01"),
        ("well-formedness: mismatched tag".into(), variant("</Cdtr>", "</Cdtx>"), "FF01"),
        (
            "well-formedness: undeclared entity".into(),
            variant("Thandi Mokoena", "Thandi &x; Mokoena"),
            "FF01",
        ),
        ("well-formedness: truncated".into(), template().as_bytes()[..600].to_vec(), "FF01"),
        ("well-formedness: empty".into(), Vec::new(), "FF01"),
        ("DOCTYPE: entity expansion".into(), variant("<Document ", &format!("{laughs}<Document ")), "FF01"),
        (
            "DOCTYPE: external entity".into(),
            variant("<Document ", "<!DOCTYPE d [<!ENTITY x SYSTEM \"file:///etc/passwd\">]><Document "),
            "FF01",
        ),
        ("size: over max_message_bytes".into(), variant("Thandi Mokoena", &"T".repeat(40_000)), "FF01"),
        ("size: text over max_text_bytes".into(), variant("Thandi Mokoena", &"T".repeat(5_000)), "FF01"),
        ("depth: 100 nested elements".into(), variant("<Nm>Thandi Mokoena</Nm>", &nested), "FF01"),
        ("namespace: unknown version".into(), variant("pacs.008.001.08", "pacs.008.001.99"), "FF01"),
        (
            "namespace: none".into(),
            variant(" xmlns=\"urn:iso:std:iso:20022:tech:xsd:pacs.008.001.08\"", ""),
            "FF01",
        ),
        (
            "namespace: foreign element".into(),
            variant("<ChrgBr>SLEV</ChrgBr>", "<x:ChrgBr xmlns:x=\"urn:evil\">SLEV</x:ChrgBr>"),
            "FF01",
        ),
        ("schema: unknown element".into(), variant("</Cdtr>", "</Cdtr><Bogus/>"), "FF01"),
        ("schema: missing mandatory".into(), variant("<ChrgBr>SLEV</ChrgBr>", ""), "FF01"),
        (
            "schema: out of order".into(),
            String::from_utf8(variant("<ChrgBr>SLEV</ChrgBr>", ""))
                .unwrap()
                .replacen("</Cdtr>", "</Cdtr><ChrgBr>SLEV</ChrgBr>", 1)
                .into_bytes(),
            "FF01",
        ),
        ("datatype: decimal comma".into(), variant("1250.75", "1250,75"), "FF01"),
        (
            "datatype: impossible date".into(),
            variant("<IntrBkSttlmDt>2026-11-23", "<IntrBkSttlmDt>2026-02-30"),
            "FF01",
        ),
        ("datatype: BIC pattern".into(), variant("<BICFI>ZYBBZAJJXXX</BICFI>", "<BICFI>zz</BICFI>"), "FF01"),
        ("datatype: UETR upper case".into(), variant("8a562c67-ca16", "8A562C67-CA16"), "FF01"),
        ("business rule: commodity currency".into(), variant("Ccy=\"ZAR\"", "Ccy=\"XAU\""), "AM03"),
        ("business rule: zero amount".into(), variant("1250.75", "0.00"), "AM01"),
        ("business rule: too many decimals".into(), variant("1250.75", "1250.755"), "AM12"),
        ("business rule: NbOfTxs".into(), variant("<NbOfTxs>1</NbOfTxs>", "<NbOfTxs>2</NbOfTxs>"), "AM18"),
        (
            "character set: declared Latin-1".into(),
            variant("encoding=\"UTF-8\"", "encoding=\"ISO-8859-1\""),
            "FF01",
        ),
        ("character set: control character".into(), variant("Thandi Mokoena", "Thandi\u{1}Mokoena"), "FF01"),
        ("character set: bidi override".into(), variant("Thandi Mokoena", "Thandi\u{202e}Mokoena"), "FF01"),
    ];
    let mut invalid_utf8 = template().into_bytes();
    let at = invalid_utf8.windows(6).position(|w| w == b"Thandi").unwrap();
    invalid_utf8[at] = 0xFF;
    cases.push(("character set: invalid UTF-8".into(), invalid_utf8, "FF01"));
    // The shared corpus of invalid pacs.008 samples, with the codes docs/ISO20022.md lists.
    for (file, code) in [
        ("pacs.008.001.08__RULE__commodity_currency_XAU.xml", "AM03"),
        ("pacs.008.001.08__XSD__element_order_CdtrAgt.xml", "FF01"),
        ("pacs.008.001.08__XSD__empty_BICFI_other_wrapper.xml", "FF01"),
        ("pacs.008.001.08__RULE__envelope_wrapper_document_mismatch.xml", "FF01"),
        ("pacs.008.001.08__RULE__envelope_MsgDefIdr_mismatch.xml", "FF01"),
    ] {
        let bytes = std::fs::read(format!("{SHARED}/samples/invalid/{file}")).unwrap();
        cases.push((format!("sample: {file}"), bytes, code));
    }
    cases
}

/// The node for these tests: bank-a may instruct as any BIC (so shared samples pass the
/// sender check and reach validation), a small message limit, a 1 s idle timeout.
async fn node(f: &Fixture) -> switchyard::node::Node {
    start_node_with(f, |config| {
        config.limits.credit_window = 64;
        config.limits.iso.max_message_bytes = 32 << 10;
        config.limits.idle_timeout = Duration::from_secs(1);
        for t in &mut config.tenants {
            if t.name == "bank-a" {
                t.bics.clear();
            }
        }
    })
    .await
}

/// After the hostile part: bank-b's payments all settled, and after a stop every one of them
/// is in the journal, accepted and settled, next to `also_accepted`.
fn check_nothing_lost(f: &Fixture, good: &std::collections::HashMap<String, Vec<TxStatus>>, also: &[String]) {
    assert_eq!(good.len(), 200);
    for (uetr, seen) in good {
        assert_eq!(seen, &vec![TxStatus::ACTC, TxStatus::ACSC], "{uetr}: the other participant was served");
    }
    let records = journal_records(f);
    let accepted: HashSet<&str> = records
        .iter()
        .filter_map(|r| match r {
            JournalRecord::Accepted(a) => Some(a.uetr.as_str()),
            _ => None,
        })
        .collect();
    let settled: HashSet<&str> = records
        .iter()
        .filter_map(|r| match r {
            JournalRecord::Outcome(o) if o.outcome == Outcome::Settled => Some(o.uetr.as_str()),
            _ => None,
        })
        .collect();
    for uetr in good.keys().chain(also) {
        assert!(accepted.contains(uetr.as_str()) && settled.contains(uetr.as_str()), "{uetr} kept");
    }
    assert_eq!(accepted.len(), good.len() + also.len(), "nothing hostile was accepted");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_malformed_class_gets_its_reason_code_while_another_participant_is_served() {
    let f = fixture().await;
    let node = node(&f).await;
    let hostile = async {
        let mut p = Participant::connect(&client(&f, &node, Some("bank-a"))).await.unwrap();
        let limits = Limits::default();
        for (i, (class, bytes, code)) in malformed().into_iter().enumerate() {
            let correlation = i as u64 + 1;
            p.tx.send(Frame::new(FrameKind::Submit, correlation, bytes)).await.unwrap();
            let frame = tokio::time::timeout(TIMEOUT, p.reader.next()).await.unwrap().unwrap().unwrap();
            assert_eq!(frame.kind, FrameKind::Status, "{class}: {}", String::from_utf8_lossy(&frame.payload));
            assert_eq!(frame.correlation, correlation, "{class}");
            let report = read_pacs002(&frame.payload, &limits).expect("a valid pacs.002");
            let tx = &report.txs[0];
            assert_eq!(tx.tx_sts, TxStatus::RJCT, "{class}");
            assert_eq!(tx.reason.map(|r| r.as_str()), Some(code), "{class}: {:?}", tx.addtl_inf);
        }
        // The same session still works: a valid payment is acknowledged and settled.
        let factory = switchyard_bench::messages::MessageFactory::new(
            switchyard_iso20022::read_pacs008(TEMPLATE, &limits).unwrap(),
            "AFTER",
        );
        let statuses = common::submit_all(&mut p, &factory, 1).await;
        let (uetr, seen) = statuses.into_iter().next().unwrap();
        assert_eq!(seen, vec![TxStatus::ACTC, TxStatus::ACSC]);
        uetr
    };
    let (good, after) = tokio::join!(run_participant(&f, &node, "bank-b", 200), hostile);
    node.stop().await.unwrap();
    check_nothing_lost(&f, &good, &[after]);
}

/// A raw TLS session as bank-a: the bytes we write are exactly what the node reads.
async fn raw(
    f: &Fixture,
    node: &switchyard::node::Node,
    sign_on: bool,
) -> tokio_rustls::client::TlsStream<TcpStream> {
    let config =
        tls::client_config(&f.certs.ca().unwrap(), Some(&f.certs.identity("bank-a").unwrap())).unwrap();
    let tcp = TcpStream::connect(node.addr).await.unwrap();
    let mut stream = tokio_rustls::TlsConnector::from(Arc::clone(&config))
        .connect(ServerName::try_from("switchyard-node").unwrap(), tcp)
        .await
        .unwrap();
    if sign_on {
        write_frame(&mut stream, Frame::control(FrameKind::SignOn, 0, &[("protocol", "1")])).await;
        let ok = next_frame(&mut stream).await.expect("SignOnOk");
        assert_eq!(ok.kind, FrameKind::SignOnOk);
    }
    stream
}

async fn write_frame(stream: &mut tokio_rustls::client::TlsStream<TcpStream>, frame: Frame) {
    let mut buf = BytesMut::new();
    FrameCodec::new(1 << 20).encode(frame, &mut buf).unwrap();
    stream.write_all(&buf).await.unwrap();
}

/// The next frame, or `None` when the node closed the connection (or reset it).
async fn next_frame(stream: &mut tokio_rustls::client::TlsStream<TcpStream>) -> Option<Frame> {
    let mut codec = FrameCodec::new(1 << 20);
    let mut buf = BytesMut::new();
    loop {
        if let Ok(Some(frame)) = codec.decode(&mut buf) {
            return Some(frame);
        }
        let mut chunk = [0u8; 4096];
        match tokio::time::timeout(TIMEOUT, stream.read(&mut chunk))
            .await
            .expect("the node answers or closes")
        {
            Ok(0) | Err(_) => return None,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    }
}

/// Reads until the node closes; returns the Error frame's code if it sent one first.
async fn error_then_close(stream: &mut tokio_rustls::client::TlsStream<TcpStream>) -> Option<String> {
    let mut code = None;
    while let Some(frame) = next_frame(stream).await {
        if frame.kind == FrameKind::Error {
            code = frame.control_value("code").map(str::to_owned);
        }
    }
    code
}

fn header(declared: u32, version: u8, kind: u8) -> Vec<u8> {
    let mut b = declared.to_be_bytes().to_vec();
    b.extend([version, kind, 0, 0]);
    b.extend(7u64.to_be_bytes());
    b
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn framing_attacks_cost_only_the_attackers_connection() {
    let f = fixture().await;
    let node = node(&f).await;
    let hostile = async {
        // Oversized length prefix: refused before any buffer grows.
        let mut s = raw(&f, &node, true).await;
        s.write_all(&header(u32::MAX, 1, 0x03)).await.unwrap();
        assert_eq!(error_then_close(&mut s).await.as_deref(), Some("FF02"), "4 GiB length prefix");
        // Just over the configured frame limit.
        let mut s = raw(&f, &node, true).await;
        s.write_all(&header((1 << 20) + 1, 1, 0x03)).await.unwrap();
        assert_eq!(error_then_close(&mut s).await.as_deref(), Some("FF02"), "limit + 1");
        // A length shorter than the header.
        let mut s = raw(&f, &node, true).await;
        s.write_all(&3u32.to_be_bytes()).await.unwrap();
        assert_eq!(error_then_close(&mut s).await.as_deref(), Some("FF02"), "length < header");
        // Unknown protocol version and unknown frame kind.
        let mut s = raw(&f, &node, true).await;
        s.write_all(&header(12, 9, 0x03)).await.unwrap();
        assert_eq!(error_then_close(&mut s).await.as_deref(), Some("FF02"), "version 9");
        let mut s = raw(&f, &node, true).await;
        s.write_all(&header(12, 1, 0x7F)).await.unwrap();
        assert_eq!(error_then_close(&mut s).await.as_deref(), Some("FF02"), "kind 0x7f");
        // A submission before sign-on.
        let mut s = raw(&f, &node, false).await;
        write_frame(&mut s, Frame::new(FrameKind::Submit, 1, TEMPLATE.to_vec())).await;
        assert_eq!(error_then_close(&mut s).await.as_deref(), Some("FF02"), "no sign-on");
        // Bad frames in place of the sign-on are answered like bad frames after it.
        for (bytes, what) in [
            (header(u32::MAX, 1, 0x01), "4 GiB length prefix before sign-on"),
            (3u32.to_be_bytes().to_vec(), "length < header before sign-on"),
            (header(12, 9, 0x01), "version 9 before sign-on"),
            (header(12, 1, 0x77), "kind 0x77 before sign-on"),
        ] {
            let mut s = raw(&f, &node, false).await;
            s.write_all(&bytes).await.unwrap();
            assert_eq!(error_then_close(&mut s).await.as_deref(), Some("FF02"), "{what}");
        }
        // Another protocol version in the SignOn, or none.
        for pairs in [&[("protocol", "2")][..], &[][..]] {
            let mut s = raw(&f, &node, false).await;
            write_frame(&mut s, Frame::control(FrameKind::SignOn, 0, pairs)).await;
            assert_eq!(error_then_close(&mut s).await.as_deref(), Some("FF02"), "SignOn {pairs:?}");
        }
        // Flag bits other than bit 0 (possible duplicate).
        let mut s = raw(&f, &node, true).await;
        let mut flagged = Frame::new(FrameKind::Submit, 2, TEMPLATE.to_vec());
        flagged.flags = 0x8000;
        let mut buf = BytesMut::new();
        FrameCodec::new(1 << 20).encode(flagged, &mut buf).unwrap();
        s.write_all(&buf).await.unwrap();
        assert_eq!(error_then_close(&mut s).await.as_deref(), Some("FF02"), "flags 0x8000");
        // A lying length prefix: 1,000 bytes announced, 100 sent. The idle timeout (1 s) ends it.
        let mut s = raw(&f, &node, true).await;
        let mut lying = header(1_000, 1, 0x03);
        lying.extend([b'<'; 88]);
        s.write_all(&lying).await.unwrap();
        let started = std::time::Instant::now();
        let _ = error_then_close(&mut s).await;
        assert!(started.elapsed() < Duration::from_secs(20), "a partial frame is not waited for forever");
        // A partial frame, then the client goes away.
        let mut s = raw(&f, &node, true).await;
        s.write_all(&header(500, 1, 0x03)[..10]).await.unwrap();
        s.shutdown().await.unwrap();
        drop(s);
        // Slow loris: a valid submission one byte every 50 ms (about a minute for the frame).
        // The node must close the connection long before the frame completes.
        let mut s = raw(&f, &node, true).await;
        let mut frame = BytesMut::new();
        FrameCodec::new(1 << 20)
            .encode(Frame::new(FrameKind::Submit, 9, TEMPLATE.to_vec()), &mut frame)
            .unwrap();
        let started = std::time::Instant::now();
        let mut written = 0;
        for byte in &frame {
            if s.write_all(&[*byte]).await.is_err() || s.flush().await.is_err() {
                break;
            }
            written += 1;
            tokio::time::sleep(Duration::from_millis(50)).await;
            let mut probe = [0u8; 64];
            let probe = tokio::time::timeout(Duration::from_millis(1), s.read(&mut probe)).await;
            if let Ok(Ok(0) | Err(_)) = probe {
                break;
            }
            assert!(started.elapsed() < Duration::from_secs(30), "slow loris still connected after 30 s");
        }
        assert!(written < frame.len(), "the slow sender was cut off before finishing ({written} bytes)");
        // Not TLS at all.
        let mut plain = TcpStream::connect(node.addr).await.unwrap();
        plain.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n").await.unwrap();
        let mut buf = [0u8; 256];
        let closed = tokio::time::timeout(TIMEOUT, async {
            loop {
                match plain.read(&mut buf).await {
                    Ok(0) | Err(_) => break,
                    Ok(_) => {}
                }
            }
        })
        .await;
        assert!(closed.is_ok(), "plain text on the TLS port is closed");
    };
    let (good, ()) = tokio::join!(run_participant(&f, &node, "bank-b", 200), hostile);
    // The node still accepts new participants after all of that.
    let mut p = Participant::connect(&client(&f, &node, Some("bank-a"))).await.unwrap();
    let factory = switchyard_bench::messages::MessageFactory::new(
        switchyard_iso20022::read_pacs008(TEMPLATE, &Limits::default()).unwrap(),
        "AFTER",
    );
    let statuses = common::submit_all(&mut p, &factory, 1).await;
    let after: Vec<String> = statuses.keys().cloned().collect();
    drop(p);
    node.stop().await.unwrap();
    check_nothing_lost(&f, &good, &after);
}
