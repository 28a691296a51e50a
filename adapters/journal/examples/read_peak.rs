//! Peak memory of reading a whole journal with `read_all` (what catch-up and reindex do):
//! `cargo run --release -p switchyard-journal --example read_peak -- DATA/journal` prints the
//! records, their payload bytes and the process's peak RSS (bench/RESULTS.md §4).

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = std::env::args().nth(1).ok_or("usage: read_peak JOURNAL_DIR")?;
    let (mut records, mut bytes) = (0_u64, 0_usize);
    for record in switchyard_journal::read_all(std::path::Path::new(&dir))? {
        let record = record?;
        records += 1;
        bytes += record.payload.len();
    }
    let status = std::fs::read_to_string("/proc/self/status")?;
    let peak = status.lines().find(|l| l.starts_with("VmHWM")).unwrap_or("VmHWM: unknown");
    println!(
        "{records} records, {bytes} payload bytes, peak RSS {}",
        peak.trim_start_matches("VmHWM:").trim()
    );
    Ok(())
}
