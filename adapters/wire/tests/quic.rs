//! QUIC black-box tests over real loopback UDP (127.0.0.1, port 0): mutual TLS is enforced,
//! frames round-trip through `conn::split` unchanged, and a client gets exactly one stream.

use std::net::SocketAddr;
use std::time::Duration;

use switchyard_wire::conn::{self, next_frame};
use switchyard_wire::devcerts::DevCerts;
use switchyard_wire::quic::{self, QuicLimits};
use switchyard_wire::{Frame, FrameCodec, FrameKind};

const MAX_FRAME_BYTES: usize = 1 << 20;
const PATIENCE: Duration = Duration::from_secs(10);

fn server(certs: &DevCerts) -> quinn::Endpoint {
    let loopback = SocketAddr::from(([127, 0, 0, 1], 0));
    let identity = certs.identity("switch").unwrap();
    quic::server_endpoint(loopback, &identity, &certs.ca().unwrap(), QuicLimits::default()).unwrap()
}

fn loopback_client(ca: &DevCerts, identity: Option<&switchyard_wire::tls::Identity>) -> quinn::Endpoint {
    let bind = SocketAddr::from(([127, 0, 0, 1], 0));
    quic::client_endpoint_with(bind, &ca.ca().unwrap(), identity, &QuicLimits::default()).unwrap()
}

/// Serves one session: answers SignOn with SignOnOk and echoes Submits as Status frames until
/// the client ends its stream. Returns the peer name and the number of frames read.
async fn serve_one(endpoint: quinn::Endpoint) -> (Option<String>, usize) {
    let (stream, peer) = quic::accept(&endpoint).await.expect("endpoint open").expect("session");
    let (mut reader, tx, writer) = conn::split(stream, FrameCodec::new(MAX_FRAME_BYTES), 16);
    let mut frames = 0;
    while let Some(frame) = next_frame(&mut reader).await {
        let frame = frame.expect("well-formed frame");
        frames += 1;
        let answer = match frame.kind {
            FrameKind::SignOn => Frame::control(FrameKind::SignOnOk, frame.correlation, &[("session", "1")]),
            FrameKind::Heartbeat => Frame::new(FrameKind::HeartbeatAck, frame.correlation, Vec::new()),
            _ => Frame::new(FrameKind::Status, frame.correlation, frame.payload),
        };
        tx.send(answer).await.expect("writer alive");
    }
    drop(tx);
    writer.await.expect("writer task").expect("writer flushed");
    (peer, frames)
}

#[tokio::test]
async fn handshake_with_client_certificate_and_frame_round_trip() {
    let certs = DevCerts::generate(&["switch"], &["bank-a"]).unwrap();
    let endpoint = server(&certs);
    let addr = endpoint.local_addr().unwrap();
    let served = tokio::spawn(serve_one(endpoint));

    let client = loopback_client(&certs, Some(&certs.identity("bank-a").unwrap()));
    let stream = quic::connect(&client, addr, "localhost").await.unwrap();
    let (mut reader, tx, writer) = conn::split(stream, FrameCodec::new(MAX_FRAME_BYTES), 16);
    tx.send(Frame::control(FrameKind::SignOn, 0, &[("protocol", "1")])).await.unwrap();
    let ok = next_frame(&mut reader).await.unwrap().unwrap();
    assert_eq!(ok.kind, FrameKind::SignOnOk);
    assert_eq!(ok.control_value("session"), Some("1"));

    // A payload spanning many QUIC packets, then a heartbeat: order is preserved on the stream.
    let payload = vec![b'x'; 200_000];
    tx.send(Frame::new(FrameKind::Submit, 7, payload.clone())).await.unwrap();
    tx.send(Frame::new(FrameKind::Heartbeat, 8, Vec::new())).await.unwrap();
    let status = next_frame(&mut reader).await.unwrap().unwrap();
    assert_eq!((status.kind, status.correlation), (FrameKind::Status, 7));
    assert_eq!(status.payload.as_ref(), payload.as_slice());
    let ack = next_frame(&mut reader).await.unwrap().unwrap();
    assert_eq!((ack.kind, ack.correlation), (FrameKind::HeartbeatAck, 8));

    drop(tx);
    writer.await.unwrap().unwrap();
    let (peer, frames) = tokio::time::timeout(PATIENCE, served).await.unwrap().unwrap();
    assert_eq!(peer.as_deref(), Some("bank-a"));
    assert_eq!(frames, 3);
    assert!(next_frame(&mut reader).await.is_none(), "the server ended its side cleanly");
}

/// Connects and signs on; `Err` when any step fails (as a refused client must).
async fn try_sign_on(client: &quinn::Endpoint, addr: SocketAddr) -> Result<Frame, String> {
    let stream = quic::connect(client, addr, "localhost").await.map_err(|e| e.to_string())?;
    let (mut reader, tx, _writer) = conn::split(stream, FrameCodec::new(MAX_FRAME_BYTES), 4);
    tx.send(Frame::control(FrameKind::SignOn, 0, &[("protocol", "1")])).await.map_err(|e| e.to_string())?;
    match next_frame(&mut reader).await {
        Some(Ok(frame)) => Ok(frame),
        Some(Err(e)) => Err(e.to_string()),
        None => Err("closed".into()),
    }
}

async fn assert_refused(certs: &DevCerts, client: quinn::Endpoint) {
    let endpoint = server(certs);
    let addr = endpoint.local_addr().unwrap();
    let (served, attempted) = tokio::join!(tokio::time::timeout(PATIENCE, quic::accept(&endpoint)), async {
        tokio::time::timeout(PATIENCE, try_sign_on(&client, addr)).await
    });
    let served = served.expect("server decided in time").expect("endpoint open");
    assert!(served.is_err(), "the server must refuse the handshake");
    let attempted = attempted.expect("client learned of the refusal in time");
    assert!(attempted.is_err(), "a refused client must not get an answer: {attempted:?}");
}

#[tokio::test]
async fn client_without_certificate_is_refused() {
    let certs = DevCerts::generate(&["switch"], &[]).unwrap();
    assert_refused(&certs, loopback_client(&certs, None)).await;
}

#[tokio::test]
async fn client_with_certificate_from_another_ca_is_refused() {
    let certs = DevCerts::generate(&["switch"], &[]).unwrap();
    let stranger = DevCerts::generate(&[], &["bank-x"]).unwrap();
    let identity = stranger.identity("bank-x").unwrap();
    assert_refused(&certs, loopback_client(&certs, Some(&identity))).await;
}

#[tokio::test]
async fn a_session_is_one_stream_in_one_direction() {
    let certs = DevCerts::generate(&["switch"], &["bank-a"]).unwrap();
    let endpoint = server(&certs);
    let addr = endpoint.local_addr().unwrap();
    let served = tokio::spawn(async move { quic::accept(&endpoint).await.map(|r| r.map(|(s, _)| s)) });
    let client = loopback_client(&certs, Some(&certs.identity("bank-a").unwrap()));
    let stream = quic::connect(&client, addr, "localhost").await.unwrap();
    let client_connection = stream.connection().clone();
    let (_reader, tx, _writer) = conn::split(stream, FrameCodec::new(MAX_FRAME_BYTES), 4);
    tx.send(Frame::new(FrameKind::Heartbeat, 1, Vec::new())).await.unwrap();
    let server_side = served.await.unwrap().unwrap().unwrap();

    let wait = Duration::from_millis(300);
    let second = tokio::time::timeout(wait, client_connection.open_bi()).await;
    assert!(second.is_err(), "a client may not open a second stream while its session is open");
    let reverse = tokio::time::timeout(wait, server_side.connection().open_bi()).await;
    assert!(reverse.is_err(), "the server may not open streams towards a client");
}

/// A UDP relay standing for "the node's address": datagrams from the client go to whichever
/// server `target` names now, the server's answers come back. Switching `target` is a restart
/// on the same address as the client sees it: the old server never hears from it again and
/// sends nothing (as after SIGKILL), the new one gets the old connection's packets.
async fn relay(target: std::sync::Arc<std::sync::Mutex<SocketAddr>>) -> SocketAddr {
    let front = std::sync::Arc::new(tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap());
    let back = std::sync::Arc::new(tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap());
    let addr = front.local_addr().unwrap();
    let client = std::sync::Arc::new(std::sync::Mutex::new(None::<SocketAddr>));
    {
        let (front, back, client) = (front.clone(), back.clone(), client.clone());
        tokio::spawn(async move {
            let mut buf = vec![0_u8; 65_535];
            while let Ok((n, from)) = front.recv_from(&mut buf).await {
                *client.lock().unwrap() = Some(from);
                let to = *target.lock().unwrap();
                let _ = back.send_to(&buf[..n], to).await;
            }
        });
    }
    tokio::spawn(async move {
        let mut buf = vec![0_u8; 65_535];
        while let Ok((n, _)) = back.recv_from(&mut buf).await {
            let to = *client.lock().unwrap();
            if let Some(to) = to {
                let _ = front.send_to(&buf[..n], to).await;
            }
        }
    });
    addr
}

/// A server that vanished (its process killed: no CONNECTION_CLOSE) and came back at the same
/// address answers the old connection's next packet with a stateless reset — valid only when
/// it derives it from the same `ResetKey`. With it the client learns at once that the session
/// is gone; with a fresh key the reset is not recognised and the client hears nothing (it would
/// wait for its idle timeout).
#[tokio::test]
async fn a_server_back_with_the_same_reset_key_resets_the_old_connections_at_once() {
    for same_key in [true, false] {
        let certs = DevCerts::generate(&["switch"], &["bank-a"]).unwrap();
        let tls =
            switchyard_wire::tls::server_config(&certs.identity("switch").unwrap(), &certs.ca().unwrap())
                .unwrap();
        let key = quic::ResetKey::random().unwrap();
        let loopback = SocketAddr::from(([127, 0, 0, 1], 0));
        let first =
            quic::server_endpoint_with(loopback, tls.clone(), QuicLimits::default(), Some(&key)).unwrap();
        let target = std::sync::Arc::new(std::sync::Mutex::new(first.local_addr().unwrap()));
        let addr = relay(target.clone()).await;
        let accepted = {
            let first = first.clone();
            tokio::spawn(async move { quic::accept(&first).await.unwrap().unwrap() })
        };
        let client = loopback_client(&certs, Some(&certs.identity("bank-a").unwrap()));
        let stream = quic::connect(&client, addr, "localhost").await.unwrap();
        let (mut reader, tx, _writer) = conn::split(stream, FrameCodec::new(MAX_FRAME_BYTES), 16);
        tx.send(Frame::control(FrameKind::SignOn, 0, &[("protocol", "1")])).await.unwrap();
        let (server_side, _) = accepted.await.unwrap();

        // The restart: the old server is cut off without a word, a new one answers instead.
        let other = quic::ResetKey::random().unwrap();
        let new_key = if same_key { &key } else { &other };
        let back = quic::server_endpoint_with(loopback, tls, QuicLimits::default(), Some(new_key)).unwrap();
        *target.lock().unwrap() = back.local_addr().unwrap();

        tx.send(Frame::new(FrameKind::Submit, 1, vec![b'x'; 1_000])).await.unwrap();
        let heard = tokio::time::timeout(Duration::from_secs(3), next_frame(&mut reader)).await;
        if same_key {
            let ended = heard.expect("the client learns at once");
            assert!(!matches!(ended, Some(Ok(_))), "the session ended, no frame: {ended:?}");
        } else {
            assert!(heard.is_err(), "a reset from another key is not believed: {heard:?}");
        }
        let reason = server_side.connection().close_reason();
        assert!(reason.is_none(), "the old server never closed it: {reason:?}");
        drop((server_side, back, first));
    }
}

#[test]
fn the_reset_key_is_created_once_private_and_refused_when_damaged() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("quic-reset.key");
    quic::ResetKey::load_or_create(&path).unwrap();
    let bytes = std::fs::read(&path).unwrap();
    assert_eq!(bytes.len(), quic::RESET_KEY_BYTES);
    assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
    quic::ResetKey::load_or_create(&path).unwrap();
    assert_eq!(std::fs::read(&path).unwrap(), bytes, "loaded, not replaced");
    std::fs::write(&path, b"short").unwrap();
    let error = quic::ResetKey::load_or_create(&path).unwrap_err().to_string();
    assert!(error.contains("quic-reset.key") && error.contains("expected 32 bytes, found 5"), "{error}");
}
