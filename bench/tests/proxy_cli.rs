//! `switchyard-bench proxy` as a process: the datagram proxy between a UDP client and a UDP
//! echo server on 127.0.0.1, its fault changed by lines on standard input, a bad line answered
//! with what is wrong, and its counters printed when standard input ends.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, UdpSocket};
use std::process::{Command, Stdio};
use std::time::Duration;

const BIN: &str = env!("CARGO_BIN_EXE_switchyard-bench");

/// A UDP echo server on a free port (a thread; it ends with the test process).
fn echo() -> SocketAddr {
    let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
    let addr = socket.local_addr().unwrap();
    std::thread::spawn(move || {
        let mut buf = [0_u8; 1500];
        while let Ok((n, from)) = socket.recv_from(&mut buf) {
            let _ = socket.send_to(&buf[..n], from);
        }
    });
    addr
}

/// Sends one datagram through the proxy; whether its echo came back within `wait`.
fn echoed(client: &UdpSocket, wait: Duration) -> bool {
    client.set_read_timeout(Some(wait)).unwrap();
    client.send(b"ping").unwrap();
    let mut buf = [0_u8; 16];
    matches!(client.recv(&mut buf), Ok(4))
}

#[test]
fn the_datagram_proxy_takes_its_fault_from_standard_input() {
    let mut child = Command::new(BIN)
        .args([
            "proxy",
            "--transport",
            "quic",
            "--listen",
            "127.0.0.1:0",
            "--stats-every",
            "0",
            "--exit-on-eof",
        ])
        .args(["--upstream", &echo().to_string()])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    out.read_line(&mut line).unwrap();
    // "proxy: quic 127.0.0.1:PORT -> UPSTREAM (type a fault: ...)"
    let addr: SocketAddr = line.split_whitespace().nth(2).and_then(|a| a.parse().ok()).expect(&line);
    let client = UdpSocket::bind("127.0.0.1:0").unwrap();
    client.connect(addr).unwrap();
    assert!(echoed(&client, Duration::from_secs(5)), "relayed with no fault");

    let mut say = |command: &str| {
        writeln!(stdin, "{command}").unwrap();
        let mut answer = String::new();
        out.read_line(&mut answer).unwrap();
        answer
    };
    assert!(say("black-hole").contains("BlackHole"));
    assert!(!echoed(&client, Duration::from_millis(300)), "swallowed");
    let refused = say("loss-every:zero");
    assert!(refused.contains("\"zero\"") && refused.contains("rebind"), "{refused}");
    assert!(say("rebind").contains("new port"));
    assert!(say("none").contains("None"));
    assert!(echoed(&client, Duration::from_secs(5)), "relayed again, from the new port");

    drop(stdin);
    let status = child.wait().unwrap();
    assert!(status.success(), "{status}");
    let mut err = String::new();
    child.stderr.take().unwrap().read_to_string(&mut err).unwrap();
    assert!(err.contains("swallowed 1") && err.contains("rebinds 1"), "{err}");
}
