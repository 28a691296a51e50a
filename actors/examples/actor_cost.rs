//! What one idle ractor actor costs in resident memory, and its parts (issue 9's per-payment
//! memory goal): `cargo run --release -p switchyard-actors --example actor_cost`.
use ractor::{Actor, ActorProcessingErr, ActorRef};

struct Nop;
impl Actor for Nop {
    type Msg = ();
    type State = ();
    type Arguments = ();
    async fn pre_start(&self, _m: ActorRef<()>, _a: ()) -> Result<(), ActorProcessingErr> {
        Ok(())
    }
}

fn rss_kib() -> u64 {
    let s = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    s.lines()
        .find(|l| l.starts_with("VmRSS"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

const N: usize = 100_000;

async fn per_item<T>(what: &str, mut make: impl FnMut() -> T) -> Vec<T> {
    let before = rss_kib();
    let mut items = Vec::with_capacity(N);
    for _ in 0..N {
        items.push(make());
    }
    tokio::task::yield_now().await;
    let after = rss_kib();
    println!("{what:<48} {:>6} bytes each", (after.saturating_sub(before)) * 1024 / N as u64);
    items
}

#[tokio::main]
async fn main() {
    let _a = per_item("tokio unbounded mpsc<[u8; 64]> (first block)", || {
        tokio::sync::mpsc::unbounded_channel::<[u8; 64]>()
    })
    .await;
    let _b = per_item("tokio task, pending, 64-byte future", || {
        tokio::spawn(async {
            let x = std::hint::black_box([0u8; 64]);
            std::future::pending::<()>().await;
            std::hint::black_box(x);
        })
    })
    .await;
    let before = rss_kib();
    let mut refs = Vec::with_capacity(N);
    for _ in 0..N {
        refs.push(Actor::spawn(None, Nop, ()).await.expect("spawn"));
    }
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    println!(
        "{:<48} {:>6} bytes each",
        "idle ractor actor (spawned, waiting)",
        (rss_kib() - before) * 1024 / N as u64
    );
}
