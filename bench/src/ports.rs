//! Ports for the processes the bench starts (node, simulator, admin listener).
//!
//! Chosen below the kernel's ephemeral range: a port from `bind(:0)` is an ephemeral one, which
//! a connection opened before the listener binds (the node's link to the simulator, a
//! participant's, a restarted node's) may take meanwhile — a sweep of many runs met "Address
//! already in use" that way.

use std::net::{TcpListener, UdpSocket};

use anyhow::bail;
use rand::Rng;

/// Which protocols the port must be free for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocols {
    Tcp,
    Udp,
    /// TCP and UDP (the node's TLS and QUIC listeners share a port).
    Both,
}

/// The first port the kernel hands out for outgoing connections (Linux default 32768).
fn ephemeral_low() -> u16 {
    std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range")
        .ok()
        .and_then(|r| r.split_whitespace().next().and_then(|p| p.parse().ok()))
        .unwrap_or(32_768)
}

/// A port on 127.0.0.1 free a moment ago for `protocols`, below the ephemeral range.
///
/// # Errors
/// None found in 1,000 random tries.
pub fn free_port(protocols: Protocols) -> anyhow::Result<u16> {
    let high = ephemeral_low().max(10_001);
    let mut rng = rand::thread_rng();
    for _ in 0..1_000 {
        let port = rng.gen_range(10_000..high);
        let tcp = protocols == Protocols::Udp || TcpListener::bind(("127.0.0.1", port)).is_ok();
        if tcp && (protocols == Protocols::Tcp || UdpSocket::bind(("127.0.0.1", port)).is_ok()) {
            return Ok(port);
        }
    }
    bail!("no port free below {high} on 127.0.0.1")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ports_are_free_and_below_the_ephemeral_range() {
        for protocols in [Protocols::Tcp, Protocols::Udp, Protocols::Both] {
            let port = free_port(protocols).unwrap();
            assert!(port < ephemeral_low(), "{port}");
            if protocols != Protocols::Udp {
                TcpListener::bind(("127.0.0.1", port)).unwrap();
            }
        }
    }
}
