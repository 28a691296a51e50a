//! Read + full validation throughput of `read_pacs008`, against baselines measured in the
//! same run over the same bytes: quick-xml's raw event reader (one pass, no validation), both
//! its buffered form (`read_event_into`, each event copied into a reused buffer) and its
//! borrowing form over a byte slice (`read_event`, zero-copy like ours), and quick-xml +
//! serde-derive deserialising the same fields our model holds (no validation).
//!
//! Run: `cargo bench -p switchyard-iso20022 --bench read` (the system allocator), and with
//! `--features bench-mimalloc` under mimalloc, the allocator the switch binary runs with (all
//! three readers under the same allocator either way; the groups are named after it).

// The baseline structs exist to be deserialized; their fields are never read back.
#![allow(dead_code)]

use std::hint::black_box;

#[cfg(feature = "bench-mimalloc")]
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Suffix of the benchmark groups: which allocator the run used.
const ALLOCATOR: &str = if cfg!(feature = "bench-mimalloc") { "mimalloc" } else { "system" };

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use serde::Deserialize;
use switchyard_iso20022::{read_pacs008, Limits};

#[path = "support/raw.rs"]
mod raw;
use raw::{raw_events, raw_events_borrowed};

const SHARED: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/iso20022/samples/valid/");
const SAMPLES: &[(&str, &str)] = &[
    ("mt103_4.9KB", "pacs.008.001.08__mt103-to-mx__p.2.1.2_A_B.xml"),
    ("cbpr_max_40KB", "pacs.008.001.08__cbprplus2025__max.xml"),
];

// --- the serde-derive baseline: the same fields as `Pacs008`/`CreditTransferTx` ---------
#[derive(Debug, Deserialize)]
struct Envelope {
    #[serde(rename = "AppHdr")]
    _app_hdr: Option<AppHdr>,
    #[serde(rename = "Document")]
    document: Document,
}
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct AppHdr {
    fr: Option<Party>,
    to: Option<Party>,
    biz_msg_idr: String,
    msg_def_idr: String,
    biz_svc: Option<String>,
    cre_dt: String,
    pssbl_dplct: Option<String>,
}
#[derive(Debug, Deserialize)]
struct Party {
    #[serde(rename = "FIId")]
    fi_id: Option<Agent>,
}
#[derive(Debug, Deserialize)]
struct Document {
    #[serde(rename = "FIToFICstmrCdtTrf")]
    body: Body,
}
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Body {
    grp_hdr: GrpHdr,
    cdt_trf_tx_inf: Vec<Tx>,
}
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct GrpHdr {
    msg_id: String,
    cre_dt_tm: String,
    nb_of_txs: String,
    sttlm_inf: SttlmInf,
}
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct SttlmInf {
    sttlm_mtd: String,
}
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Amount {
    #[serde(rename = "@Ccy")]
    ccy: String,
    #[serde(rename = "$text")]
    value: String,
}
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct FinInstnId {
    #[serde(rename = "BICFI")]
    bicfi: Option<String>,
}
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Agent {
    fin_instn_id: FinInstnId,
}
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Named {
    nm: Option<String>,
}
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct PmtId {
    instr_id: Option<String>,
    end_to_end_id: String,
    tx_id: Option<String>,
    #[serde(rename = "UETR")]
    uetr: Option<String>,
}
#[derive(Debug, Deserialize)]
struct AcctId {
    #[serde(rename = "IBAN")]
    iban: Option<String>,
}
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Acct {
    id: AcctId,
}
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Tx {
    pmt_id: PmtId,
    intr_bk_sttlm_amt: Amount,
    intr_bk_sttlm_dt: Option<String>,
    instd_amt: Option<Amount>,
    chrg_br: Option<String>,
    instg_agt: Option<Agent>,
    instd_agt: Option<Agent>,
    dbtr: Named,
    dbtr_acct: Option<Acct>,
    dbtr_agt: Agent,
    cdtr_agt: Agent,
    cdtr: Named,
    cdtr_acct: Option<Acct>,
}

/// quick-xml's serde deserializer matches element names literally, so the baseline gets
/// the same document with namespace prefixes removed (done once, outside the timing).
fn strip_prefixes(xml: &str) -> String {
    xml.replace("<head:", "<").replace("</head:", "</").replace("<pacs:", "<").replace("</pacs:", "</")
}

fn bench(c: &mut Criterion) {
    let limits = Limits::default();
    for (label, file) in SAMPLES {
        let Ok(bytes) = std::fs::read(format!("{SHARED}{file}")) else {
            println!("NOTICE: sample {file} not found; skipping");
            continue;
        };
        read_pacs008(&bytes, &limits).expect("sample must be valid");
        let stripped = strip_prefixes(std::str::from_utf8(&bytes).expect("utf8"));
        quick_xml::de::from_str::<Envelope>(&stripped).expect("serde baseline must parse");
        let mut g = c.benchmark_group(format!("{label}/{ALLOCATOR}"));
        g.throughput(Throughput::Elements(1));
        g.bench_function("switchyard_read_validate", |b| b.iter(|| read_pacs008(black_box(&bytes), &limits)));
        g.bench_function("quick_xml_raw_events", |b| b.iter(|| raw_events(black_box(&bytes))));
        g.bench_function("quick_xml_raw_events_borrowed", |b| {
            b.iter(|| raw_events_borrowed(black_box(&bytes)));
        });
        g.bench_function("quick_xml_serde_same_fields", |b| {
            b.iter(|| quick_xml::de::from_str::<Envelope>(black_box(&stripped)));
        });
        g.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
