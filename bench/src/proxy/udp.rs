//! The datagram fault proxy: a man in the middle between the switch and a clearing house on a
//! QUIC link, for the faults only a datagram network has.
//!
//! QUIC is encrypted and authenticated end to end (TLS 1.3 inside QUIC), so unlike the TCP
//! proxy this one cannot read or forge frames: it relays UDP datagrams as they are and acts on
//! whole datagrams — which is where QUIC's own faults live:
//! - **loss**: every `n`th datagram (either direction, one count) is dropped; QUIC's loss
//!   recovery must retransmit, the switch must not notice beyond latency;
//! - **black hole**: every datagram is dropped, both ways, while the "connection" stays as it
//!   was (no close, no reset): only timeouts can tell;
//! - **rebinding**: the next datagram from the switch leaves from a new source port, as after
//!   a NAT rebinding; the clearing house sees the switch's connection arrive from another
//!   address and must validate and migrate the path (QUIC connection migration), the old
//!   port's datagrams are gone.
//!
//! Each address the switch sends from is one flow with its own upstream socket (bounded:
//! [`MAX_FLOWS`]; the oldest is dropped). Only for tests and benchmarks on loopback.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use tokio::net::UdpSocket;
use tokio_util::sync::CancellationToken;

/// What the proxy does to datagrams.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum UdpFault {
    /// Relay faithfully.
    #[default]
    None,
    /// Drop every `n`th datagram (both directions count together).
    LossEvery(u32),
    /// Drop everything, both ways.
    BlackHole,
}

/// The names [`UdpFault`] parses from (`switchyard-bench proxy --transport quic`).
pub const UDP_FAULT_SYNTAX: &str = "none, loss-every:N, black-hole";

impl std::str::FromStr for UdpFault {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        match s.trim().split_once(':') {
            None if s.trim() == "none" => Ok(Self::None),
            None if s.trim() == "black-hole" => Ok(Self::BlackHole),
            Some(("loss-every", n)) => super::count("loss-every", n).map(Self::LossEvery),
            _ => Err(format!("unknown datagram fault {:?}: use one of {UDP_FAULT_SYNTAX}", s.trim())),
        }
    }
}

/// What the proxy did.
#[derive(Debug, Default)]
pub struct UdpStats {
    /// Datagrams relayed (both directions).
    pub relayed: AtomicU64,
    /// Datagrams dropped by [`UdpFault::LossEvery`].
    pub dropped: AtomicU64,
    /// Datagrams swallowed by [`UdpFault::BlackHole`].
    pub swallowed: AtomicU64,
    /// Flows moved to a new upstream source port by [`UdpProxy::rebind`].
    pub rebinds: AtomicU64,
    /// Flows (switch source addresses) seen.
    pub flows: AtomicU64,
}

/// Most flows kept at once; a new one beyond it drops the oldest.
pub const MAX_FLOWS: usize = 64;

/// Largest datagram relayed (QUIC's datagrams are far smaller).
const MAX_DATAGRAM: usize = 65_535;

/// A running datagram proxy.
#[derive(Debug)]
pub struct UdpProxy {
    /// Where the switch should send (its link's address).
    pub addr: SocketAddr,
    pub stats: Arc<UdpStats>,
    shared: Arc<Shared>,
    shutdown: CancellationToken,
}

#[derive(Debug, Default)]
struct Shared {
    fault: Mutex<UdpFault>,
    /// Datagrams counted for [`UdpFault::LossEvery`].
    nth: AtomicU64,
    /// Bumped by [`UdpProxy::rebind`]: a flow of an older generation gets a new socket.
    generation: AtomicU64,
}

impl Shared {
    /// Whether a datagram passes under the current fault (counting it).
    fn passes(&self, stats: &UdpStats) -> bool {
        let fault = *self.fault.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        match fault {
            UdpFault::None => true,
            UdpFault::BlackHole => {
                stats.swallowed.fetch_add(1, Ordering::Relaxed);
                false
            }
            UdpFault::LossEvery(n) => {
                let nth = self.nth.fetch_add(1, Ordering::Relaxed) + 1;
                if nth % u64::from(n.max(1)) == 0 {
                    stats.dropped.fetch_add(1, Ordering::Relaxed);
                    false
                } else {
                    true
                }
            }
        }
    }
}

/// One switch address and the upstream socket its datagrams leave from.
struct Flow {
    up: Arc<UdpSocket>,
    generation: u64,
    /// Stops the task relaying the clearing house's datagrams back.
    reader: CancellationToken,
    /// Order of creation, to drop the oldest flow first.
    born: u64,
}

impl UdpProxy {
    /// Listens on `listen` and relays to `upstream`.
    pub async fn start(listen: SocketAddr, upstream: SocketAddr) -> std::io::Result<Self> {
        let down = Arc::new(UdpSocket::bind(listen).await?);
        let addr = down.local_addr()?;
        let (stats, shared, shutdown) =
            (Arc::new(UdpStats::default()), Arc::new(Shared::default()), CancellationToken::new());
        let relay = Relay { down, upstream, stats: Arc::clone(&stats), shared: Arc::clone(&shared) };
        tokio::spawn(relay.run(shutdown.clone()));
        Ok(Self { addr, stats, shared, shutdown })
    }

    /// Changes the fault, at once.
    pub fn set(&self, fault: UdpFault) {
        *self.shared.fault.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = fault;
    }

    /// A NAT rebinding: each flow's next datagram from the switch leaves from a new source port
    /// (and the old port is closed).
    pub fn rebind(&self) {
        self.shared.generation.fetch_add(1, Ordering::Relaxed);
    }

    /// Stops relaying.
    pub fn stop(&self) {
        self.shutdown.cancel();
    }
}

impl Drop for UdpProxy {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

struct Relay {
    down: Arc<UdpSocket>,
    upstream: SocketAddr,
    stats: Arc<UdpStats>,
    shared: Arc<Shared>,
}

impl Relay {
    async fn run(self, stop: CancellationToken) {
        let mut flows: HashMap<SocketAddr, Flow> = HashMap::new();
        let mut born = 0u64;
        let mut buf = vec![0_u8; MAX_DATAGRAM];
        loop {
            let received = tokio::select! {
                () = stop.cancelled() => break,
                received = self.down.recv_from(&mut buf) => received,
            };
            let Ok((n, from)) = received else { continue };
            let generation = self.shared.generation.load(Ordering::Relaxed);
            let stale = flows.get(&from).is_none_or(|f| f.generation != generation);
            if stale {
                let Ok(up) = self.bind_upstream().await else { continue };
                if let Some(old) = flows.remove(&from) {
                    old.reader.cancel();
                    self.stats.rebinds.fetch_add(1, Ordering::Relaxed);
                } else {
                    self.stats.flows.fetch_add(1, Ordering::Relaxed);
                }
                if flows.len() >= MAX_FLOWS {
                    if let Some(oldest) = flows.iter().min_by_key(|(_, f)| f.born).map(|(a, _)| *a) {
                        if let Some(f) = flows.remove(&oldest) {
                            f.reader.cancel();
                        }
                    }
                }
                let reader = stop.child_token();
                tokio::spawn(self.back(Arc::clone(&up), from, reader.clone()));
                born += 1;
                flows.insert(from, Flow { up, generation, reader, born });
            }
            if !self.shared.passes(&self.stats) {
                continue;
            }
            let Some(flow) = flows.get(&from) else { continue };
            if flow.up.send(&buf[..n]).await.is_ok() {
                self.stats.relayed.fetch_add(1, Ordering::Relaxed);
            }
        }
        for flow in flows.into_values() {
            flow.reader.cancel();
        }
    }

    /// A new socket towards the clearing house, from a fresh port.
    async fn bind_upstream(&self) -> std::io::Result<Arc<UdpSocket>> {
        let local: SocketAddr =
            if self.upstream.is_ipv4() { "127.0.0.1:0".parse() } else { "[::1]:0".parse() }
                .expect("a literal address");
        let up = UdpSocket::bind(local).await?;
        up.connect(self.upstream).await?;
        Ok(Arc::new(up))
    }

    /// Relays the clearing house's datagrams on `up` back to the switch at `to`.
    fn back(
        &self,
        up: Arc<UdpSocket>,
        to: SocketAddr,
        stop: CancellationToken,
    ) -> impl std::future::Future<Output = ()> + Send + 'static {
        let (down, stats, shared) =
            (Arc::clone(&self.down), Arc::clone(&self.stats), Arc::clone(&self.shared));
        async move {
            let mut buf = vec![0_u8; MAX_DATAGRAM];
            loop {
                let received = tokio::select! {
                    () = stop.cancelled() => return,
                    received = up.recv(&mut buf) => received,
                };
                // An ICMP error (port unreachable) surfaces here on a connected socket: skip it.
                let Ok(n) = received else { continue };
                if shared.passes(&stats) && down.send_to(&buf[..n], to).await.is_ok() {
                    stats.relayed.fetch_add(1, Ordering::Relaxed);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    /// A UDP echo server that answers each datagram with the port it came from.
    async fn port_echo() -> SocketAddr {
        let echo = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let addr = echo.local_addr().unwrap();
        tokio::spawn(async move {
            let mut buf = [0_u8; 64];
            while let Ok((_, from)) = echo.recv_from(&mut buf).await {
                let _ = echo.send_to(from.port().to_string().as_bytes(), from).await;
            }
        });
        addr
    }

    /// One datagram through the proxy: the port the echo server saw it come from, or `None`
    /// when nothing came back within `wait`.
    async fn ask(client: &UdpSocket, wait: Duration) -> Option<u16> {
        client.send(b"x").await.unwrap();
        let mut buf = [0_u8; 64];
        let n = tokio::time::timeout(wait, client.recv(&mut buf)).await.ok()?.unwrap();
        std::str::from_utf8(&buf[..n]).unwrap().parse().ok()
    }

    #[test]
    fn faults_parse_from_their_names_and_bad_ones_are_named() {
        assert_eq!("loss-every:8".parse(), Ok(UdpFault::LossEvery(8)));
        assert_eq!(" black-hole ".parse(), Ok(UdpFault::BlackHole));
        assert_eq!("none".parse(), Ok(UdpFault::None));
        let bad = "loss-every:0".parse::<UdpFault>().unwrap_err();
        assert!(bad.contains("\"0\""), "{bad}");
        let unknown = "drop".parse::<UdpFault>().unwrap_err();
        assert!(unknown.contains("\"drop\"") && unknown.contains(UDP_FAULT_SYNTAX), "{unknown}");
        use super::super::Fault;
        assert_eq!("delay:500".parse(), Ok(Fault::Delay(std::time::Duration::from_millis(500))));
        assert_eq!("refuse-and-close-every:10".parse(), Ok(Fault::RefuseAndCloseEvery(10)));
        assert_eq!("reorder".parse(), Ok(Fault::Reorder));
        assert_eq!("slow-every:5".parse(), Ok(Fault::SlowEvery(5)));
        assert!("reorder:2".parse::<Fault>().unwrap_err().contains("takes no argument"));
        assert!("drop-every".parse::<Fault>().unwrap_err().contains("drop-every:N"));
        assert!("drop-every:x".parse::<Fault>().unwrap_err().contains("\"x\""));
        assert!("flip".parse::<Fault>().unwrap_err().contains(super::super::FAULT_SYNTAX));
    }

    #[tokio::test]
    async fn relays_rebinds_to_a_new_port_swallows_and_drops_every_nth() {
        let proxy = UdpProxy::start("127.0.0.1:0".parse().unwrap(), port_echo().await).await.unwrap();
        let client = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        client.connect(proxy.addr).await.unwrap();
        let (long, short) = (Duration::from_secs(5), Duration::from_millis(200));

        let first = ask(&client, long).await.expect("relayed");
        assert_eq!(ask(&client, long).await, Some(first), "one flow, one upstream port");
        proxy.rebind();
        let moved = ask(&client, long).await.expect("relayed after the rebinding");
        assert_ne!(moved, first, "the clearing house sees a new source port");
        assert_eq!(proxy.stats.rebinds.load(Ordering::Relaxed), 1);
        assert_eq!(proxy.stats.flows.load(Ordering::Relaxed), 1);

        proxy.set(UdpFault::BlackHole);
        assert_eq!(ask(&client, short).await, None, "swallowed");
        assert_eq!(proxy.stats.swallowed.load(Ordering::Relaxed), 1);

        // Every 3rd datagram, both directions counted together: request 1 and its answer
        // (2) pass, request 3 is dropped, request 4 and its answer (5) pass, request 6 dropped.
        proxy.set(UdpFault::LossEvery(3));
        let seen = [
            ask(&client, long).await.is_some(),
            ask(&client, short).await.is_some(),
            ask(&client, long).await.is_some(),
            ask(&client, short).await.is_some(),
        ];
        assert_eq!(seen, [true, false, true, false]);
        assert_eq!(proxy.stats.dropped.load(Ordering::Relaxed), 2);
    }
}
