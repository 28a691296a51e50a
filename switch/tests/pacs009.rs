//! Interbank transfers (pacs.009) on the real submission path: a participant submits a real
//! pacs.009 sample (its UETR, ids and institutions adjusted per submission) over mutual TLS; the
//! node routes it by `message_type`, checks it against the scheme of its link before ACTC,
//! journals it, sends the scheme's pacs.009 leg to the real simulator and forwards the final
//! pacs.002. A scheme that takes no pacs.009 (PayShap) refuses it with FF01 before any ACTC.

mod common;

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use common::{client, fixture, journal_records, start_node_with, TIMEOUT};
use futures::StreamExt;
use switchyard::config::LinkConfig;
use switchyard::demo::{demo_bic, TEMPLATE};
use switchyard_actors::route::{Route, RouteMatch, RouteTable};
use switchyard_actors::{JournalRecord, Outcome};
use switchyard_bench::client::Participant;
use switchyard_bench::messages::MessageFactory;
use switchyard_clearing::schemes::gate::GateOptions;
use switchyard_iso20022::{read_pacs002, read_pacs008, read_pacs009, Bic, Limits, TxStatus};
use switchyard_wire::{Frame, FrameKind};

/// A real pacs.009 (CBPR+ translation of an MT202): AppHdr, COVE settlement, a reimbursement
/// agent, previous instructing agent and remittance information the typed model does not keep.
const SAMPLE: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../shared/iso20022/samples/valid/pacs.009.001.08__mt202-to-mx__pc.09.1.1_A_B.xml"
));

/// Creditor-side BICs routed to the SAMOS link and to the PayShap link.
const SAMOS_BIC: &str = "ZYSAZAJJXXX";
const PAYSHAP_BIC: &str = "ZYPSZAJJXXX";

/// The sample, submitted by bank-a (`ZYAAZAJJ`) as submission `n`, in ZAR, for the institution
/// `creditor` (as `InstdAgt`, `CdtrAgt` and the AppHdr `To`). Returns the bytes and the UETR.
fn pacs009(n: u64, creditor: &str) -> (Vec<u8>, String) {
    let uetr = format!("9a0b{n:04x}-1c2d-4e3f-8a9b-{:012x}", 0x0009_0000_0000 + n);
    let own = format!("{}XXX", demo_bic("bank-a").as_str());
    let xml = SAMPLE
        .replace("dab3b64f-092b-4839-b7e9-8f438af50961", &uetr)
        .replace("pacs9bizmsgidr02", &format!("P9SAMPLE{n}"))
        .replace("NDEAFIHHXXX", &own)
        .replace("RBOSGB2LXXX", &own)
        .replace("HELSFIHHXXX", creditor)
        .replace("Ccy=\"EUR\"", "Ccy=\"ZAR\"");
    // The edits kept it a valid pacs.009 with the new identity.
    let msg = read_pacs009(xml.as_bytes(), &Limits::default()).expect("the edited sample is valid");
    assert_eq!(msg.txs[0].uetr.as_ref().map(switchyard_iso20022::Uetr::as_str), Some(uetr.as_str()));
    (xml.into_bytes(), uetr)
}

/// The message name (`OrgnlMsgNmId`) a status about `xml` gives.
fn kind_of(xml: &[u8]) -> &'static str {
    if xml.windows(15).any(|w| w == b"pacs.009.001.08") {
        "pacs.009.001.08"
    } else {
        "pacs.008.001.08"
    }
}

/// The next status frame's transaction status (it must answer `correlation`).
async fn next_status(p: &mut Participant, correlation: u64) -> TxStatus {
    let frame =
        tokio::time::timeout(TIMEOUT, p.reader.next()).await.expect("status in time").unwrap().unwrap();
    assert_eq!((frame.kind, frame.correlation), (FrameKind::Status, correlation));
    read_pacs002(&frame.payload, &Limits::default()).unwrap().txs[0].tx_sts
}

/// Sends one message and reads statuses until a final one: (statuses, reason, detail).
async fn submit_one(p: &mut Participant, correlation: u64, xml: Vec<u8>) -> (Vec<TxStatus>, String, String) {
    let xml_name = xml.clone();
    p.tx.send(Frame::new(FrameKind::Submit, correlation, xml)).await.unwrap();
    let mut statuses = Vec::new();
    loop {
        let frame =
            tokio::time::timeout(TIMEOUT, p.reader.next()).await.expect("status in time").unwrap().unwrap();
        assert_eq!(frame.kind, FrameKind::Status);
        assert_eq!(frame.correlation, correlation);
        let report = read_pacs002(&frame.payload, &Limits::default()).unwrap();
        // Every status names the kind of message it is about.
        assert_eq!(report.orgnl_msg_nm_id, kind_of(&xml_name), "{:?}", report.txs[0].tx_sts);
        let tx = &report.txs[0];
        statuses.push(tx.tx_sts);
        if tx.tx_sts != TxStatus::ACTC {
            let reason = tx.reason.map(|r| r.as_str().to_owned()).unwrap_or_default();
            return (statuses, reason, tx.addtl_inf.clone().unwrap_or_default().to_string());
        }
    }
}

fn route(message_type: &str, creditor_prefix: Option<&str>, link: &str) -> Route {
    let matches = RouteMatch {
        message_type: Some(message_type.to_owned()),
        creditor_agent_prefix: creditor_prefix.map(str::to_owned),
        ..RouteMatch::default()
    };
    Route::new(matches, link)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pacs009_is_routed_checked_settled_and_refused_by_schemes_without_it() {
    let f = fixture().await;
    let node = start_node_with(&f, |config| {
        let template = config.links[0].clone();
        let link = |name: &str, scheme: Option<&str>| LinkConfig {
            name: name.to_owned(),
            // SAMOS keeps office hours; this test must not depend on the day it runs.
            scheme: scheme.map(|s| GateOptions { check_window: false, ..GateOptions::new(s) }),
            ..template.clone()
        };
        config.links =
            vec![link("samos", Some("samos")), link("payshap", Some("payshap")), link("plain", None)];
        // The same creditor institution goes to SAMOS as a pacs.009 and to the plain link as a
        // pacs.008: the message type alone picks the link.
        config.routes = RouteTable {
            routes: vec![
                route("pacs.009", Some("ZYSA"), "samos"),
                route("pacs.009", Some("ZYPS"), "payshap"),
                route("pacs.008", None, "plain"),
            ],
        };
    })
    .await;
    let deadline = Instant::now() + TIMEOUT;
    while f.sim.stats.sign_ons.load(Ordering::Relaxed) < 3 {
        assert!(Instant::now() < deadline, "links did not sign on");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let mut p = Participant::connect(&client(&f, &node, Some("bank-a"))).await.unwrap();

    // To SAMOS: ACTC (after the journal), then ACSC from the simulator.
    let (xml, settled) = pacs009(1, SAMOS_BIC);
    let (statuses, reason, detail) = submit_one(&mut p, 1, xml.clone()).await;
    assert_eq!(statuses, [TxStatus::ACTC, TxStatus::ACSC], "{reason} {detail}");
    assert_eq!(f.sim.stats.received_009.load(Ordering::Relaxed), 1, "the simulator got a pacs.009");
    assert_eq!(f.sim.stats.submissions_of(&settled), 1);
    // It went out as the SAMOS pacs.009 leg: the participant's COVE became SAMOS's CLRG (a
    // link without a scheme would have forwarded COVE), addressed from the participant.
    let leg = f.sim.stats.leg_of(&settled).expect("at the simulator");
    assert_eq!(leg.settlement_method, "CLRG");
    assert_eq!(leg.instructing.as_deref(), Some("ZYAAZAJJXXX"));
    assert_eq!(leg.creditor_agent.as_deref(), Some(SAMOS_BIC));

    // A resend of the same transfer is answered with the original's status, never sent again.
    // (Right after the ACSC the tenant may not have recorded the outcome yet and answer ACTC:
    // resend until the stored final status comes back, bounded.)
    let deadline = Instant::now() + TIMEOUT;
    for correlation in 2.. {
        p.tx.send(Frame::new(FrameKind::Submit, correlation, xml.clone())).await.unwrap();
        let status = next_status(&mut p, correlation).await;
        assert!(matches!(status, TxStatus::ACTC | TxStatus::ACSC), "resend answered {status:?}");
        if status == TxStatus::ACSC {
            break;
        }
        assert!(Instant::now() < deadline, "the resend never got the stored ACSC");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(f.sim.stats.submissions_of(&settled), 1, "a resend never reaches the clearing house");

    // To PayShap, which settles no interbank transfers: FF01 before any ACTC, never sent.
    let (xml, refused) = pacs009(2, PAYSHAP_BIC);
    let (statuses, reason, detail) = submit_one(&mut p, 1_000, xml).await;
    assert_eq!(statuses, [TxStatus::RJCT], "no ACTC before a scheme refusal");
    assert_eq!(reason, "FF01", "{detail}");
    assert!(detail.starts_with("[scheme.msg_version]"), "{detail}");
    assert_eq!(f.sim.stats.submissions_of(&refused), 0);

    // A pacs.008 for the SAMOS link's institution takes the pacs.008 route (the plain link:
    // forwarded as sent, so no SAMOS clearing system on it).
    let mut customer = read_pacs008(TEMPLATE, &Limits::default()).unwrap();
    customer.txs[0].cdtr_agt = Some(Bic::parse(SAMOS_BIC).unwrap());
    let (xml, customer_uetr) = MessageFactory::new(customer, "P8").sending_as(&demo_bic("bank-a")).make(3);
    let (statuses, reason, detail) = submit_one(&mut p, 1_001, xml).await;
    assert_eq!(statuses, [TxStatus::ACTC, TxStatus::ACSC], "{reason} {detail}");
    let leg = f.sim.stats.leg_of(&customer_uetr).expect("at the simulator");
    assert_ne!(leg.clearing_system.as_deref(), Some("SAMOS"), "the pacs.008 did not go to SAMOS");
    assert_eq!(f.sim.stats.received_009.load(Ordering::Relaxed), 1);
    drop(p);
    node.stop().await.unwrap();

    // The journal: the pacs.009 accepted (with its message and institutions) and settled; the
    // refused one only as a refusal with its code.
    let (mut accepted, mut outcome, mut refusal) = (None, None, None);
    for record in journal_records(&f) {
        match record {
            JournalRecord::Accepted(a) if a.uetr == settled => accepted = Some(a),
            JournalRecord::Accepted(a) => assert_ne!(a.uetr, refused, "a refused transfer was accepted"),
            JournalRecord::Outcome(o) if o.uetr == settled => outcome = Some(o.outcome),
            JournalRecord::Refused(r) if r.uetr.as_deref() == Some(refused.as_str()) => refusal = Some(r),
            _ => {}
        }
    }
    let accepted = accepted.expect("the pacs.009 acceptance journaled");
    assert_eq!(
        (accepted.creditor_agent.as_str(), accepted.debtor_agent.as_str(), accepted.currency.as_str()),
        (SAMOS_BIC, "ZYAAZAJJXXX", "ZAR")
    );
    assert_eq!(accepted.amount_minor, 65_448_998);
    assert!(accepted.message.windows(8).any(|w| w == b"pacs.009"), "the message as sent");
    assert_eq!(outcome, Some(Outcome::Settled));
    let refusal = refusal.expect("the refusal journaled");
    assert_eq!(refusal.reason, "FF01");
    assert!(refusal.detail.ends_with("(clearing scheme payshap of link payshap)"), "{}", refusal.detail);
}

/// The original reference of a request about `uetr`, naming the message `name`.
fn original_named(uetr: &str, name: &str) -> switchyard_iso20022::OriginalRef {
    switchyard_iso20022::OriginalRef {
        orgnl_msg_id: Some("ORIGINAL".into()),
        orgnl_msg_nm_id: Some(name.into()),
        orgnl_uetr: switchyard_iso20022::Uetr::parse(uetr),
        ..switchyard_iso20022::OriginalRef::default()
    }
}

/// A pacs.028 about `uetr` whose `OrgnlMsgNmId` is `name`.
fn pacs028(uetr: &str, name: &str) -> Vec<u8> {
    switchyard_iso20022::write_pacs028(&switchyard_iso20022::Pacs028 {
        app_hdr: None,
        msg_id: "INQ-9".into(),
        cre_dt_tm: "2026-11-23T05:00:00Z".into(),
        orgnl_grp: None,
        txs: vec![switchyard_iso20022::StatusRequestTx {
            sts_req_id: None,
            original: original_named(uetr, name),
            instg_agt: None,
            instg_agt_mmb: None,
            instd_agt: None,
            instd_agt_mmb: None,
        }],
    })
}

/// A camt.056 from bank-a for `uetr` whose `OrgnlMsgNmId` is `name`.
fn camt056(uetr: &str, name: &str) -> Vec<u8> {
    use switchyard_iso20022::{Assignment, Camt056, CancellationTx, PartyRef, Reason};
    switchyard_iso20022::write_camt056(&Camt056 {
        group: None,
        app_hdr: None,
        assignment: Assignment {
            id: "CASE-9".into(),
            assgnr: PartyRef { bic: Some(demo_bic("bank-a")), ..PartyRef::default() },
            assgne: PartyRef { name: Some("SWITCHYARD".into()), ..PartyRef::default() },
            cre_dt_tm: "2026-11-23T05:00:00Z".into(),
        },
        txs: vec![CancellationTx {
            cxl_id: None,
            original: original_named(uetr, name),
            orgnl_intr_bk_sttlm_amt: None,
            orgnl_intr_bk_sttlm_dt: None,
            reason: Reason { cd: Some("DUPL".into()), prtry: None, addtl_inf: None },
        }],
    })
}

/// Waits until the simulator has seen `n` sign-ons (the node's link is up).
async fn signed_on(f: &common::Fixture, n: u64) {
    let deadline = Instant::now() + TIMEOUT;
    while f.sim.stats.sign_ons.load(Ordering::Relaxed) < n {
        assert!(Instant::now() < deadline, "the link did not sign on");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Sends `payload` and returns the answer frame's payload (the next frame must answer it).
async fn ask(p: &mut Participant, correlation: u64, payload: Vec<u8>) -> Vec<u8> {
    p.tx.send(Frame::new(FrameKind::Submit, correlation, payload)).await.unwrap();
    let frame =
        tokio::time::timeout(TIMEOUT, p.reader.next()).await.expect("answer in time").unwrap().unwrap();
    assert_eq!((frame.kind, frame.correlation), (FrameKind::Status, correlation));
    frame.payload.to_vec()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_in_flight_pacs009_survives_a_restart_and_settles_once_and_answers_name_it() {
    // The simulator records every payment but never answers it: the node learns the outcome
    // only by asking (pacs.028), which after the restart is the recovery's first step.
    let f = common::fixture_with(switchyard_clearing::sim::SimConfig {
        drop_ppm: 1_000_000,
        ..Default::default()
    })
    .await;
    let edit = |c: &mut switchyard::config::NodeConfig| {
        c.limits.payment.clearing_timeout_ms = 60_000;
        c.limits.drain_timeout = Duration::from_millis(200);
    };
    let node = start_node_with(&f, edit).await;
    signed_on(&f, 1).await;
    let mut p = Participant::connect(&client(&f, &node, Some("bank-a"))).await.unwrap();
    let (xml, uetr) = pacs009(7, SAMOS_BIC);
    p.tx.send(Frame::new(FrameKind::Submit, 1, xml)).await.unwrap();
    assert_eq!(next_status(&mut p, 1).await, TxStatus::ACTC);
    let deadline = Instant::now() + TIMEOUT;
    while f.sim.stats.submissions_of(&uetr) == 0 {
        assert!(Instant::now() < deadline, "the pacs.009 never reached the simulator");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // In flight: answers name the pacs.009 even when the request says pacs.008.
    let answer =
        read_pacs002(&ask(&mut p, 2, pacs028(&uetr, "pacs.008.001.08")).await, &Limits::default()).unwrap();
    assert_eq!((answer.orgnl_msg_nm_id.as_str(), answer.txs[0].tx_sts), ("pacs.009.001.08", TxStatus::PDNG));
    // A cancellation goes to the clearing house, whose camt.029 (already settled there) names it.
    let camt029 = switchyard_iso20022::read_camt029(
        &ask(&mut p, 3, camt056(&uetr, "pacs.008.001.08")).await,
        &Limits::default(),
    )
    .unwrap();
    assert_eq!(camt029.sts_conf.as_deref(), Some("RJCR"));
    assert_eq!(camt029.txs[0].original.orgnl_msg_nm_id.as_deref(), Some("pacs.009.001.08"));
    drop(p);
    node.stop().await.unwrap();
    let outcomes = |f: &common::Fixture| -> Vec<Outcome> {
        journal_records(f)
            .into_iter()
            .filter_map(|r| match r {
                JournalRecord::Outcome(o) if o.uetr == uetr => Some(o.outcome),
                _ => None,
            })
            .collect()
    };
    assert!(outcomes(&f).iter().all(|o| !o.is_final()), "no outcome before the restart: {:?}", outcomes(&f));

    // Restarted: the recovered pacs.009 asks the clearing house and settles, never resent.
    let node = start_node_with(&f, edit).await;
    let mut p = Participant::connect(&client(&f, &node, Some("bank-a"))).await.unwrap();
    let deadline = Instant::now() + TIMEOUT;
    for correlation in 10.. {
        let answer = read_pacs002(
            &ask(&mut p, correlation, pacs028(&uetr, "pacs.009.001.08")).await,
            &Limits::default(),
        )
        .unwrap();
        assert_eq!(answer.orgnl_msg_nm_id, "pacs.009.001.08");
        if answer.txs[0].tx_sts == TxStatus::ACSC {
            break;
        }
        assert!(Instant::now() < deadline, "the recovered pacs.009 never settled: {answer:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    drop(p);
    node.stop().await.unwrap();
    assert_eq!(f.sim.stats.submissions_of(&uetr), 1, "one submission per UETR");
    assert_eq!(f.sim.stats.received_009.load(Ordering::Relaxed), 1);
    let finals: Vec<_> = outcomes(&f).into_iter().filter(Outcome::is_final).collect();
    assert_eq!(finals, [Outcome::Settled], "settled once");

    // Restarted again: memory holds nothing of the settled payment; the state store names its
    // kind, whatever the request says.
    let node = start_node_with(&f, edit).await;
    let mut p = Participant::connect(&client(&f, &node, Some("bank-a"))).await.unwrap();
    let answer =
        read_pacs002(&ask(&mut p, 99, pacs028(&uetr, "pacs.008.001.08")).await, &Limits::default()).unwrap();
    assert_eq!((answer.orgnl_msg_nm_id.as_str(), answer.txs[0].tx_sts), ("pacs.009.001.08", TxStatus::ACSC));
    drop(p);
    node.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pacs009_and_a_pacs008_with_one_uetr_from_one_tenant_are_duplicates() {
    let f = fixture().await;
    let node = start_node_with(&f, |_| {}).await;
    signed_on(&f, 1).await;
    let mut p = Participant::connect(&client(&f, &node, Some("bank-a"))).await.unwrap();
    // A pacs.008 with the UETR of a pacs.009 (different MsgId, different message).
    let customer = |n: u64, uetr: &str| -> Vec<u8> {
        let mut template = read_pacs008(TEMPLATE, &Limits::default()).unwrap();
        template.txs[0].cdtr_agt = Some(Bic::parse(SAMOS_BIC).unwrap());
        let (xml, own) = MessageFactory::new(template, "DUP").sending_as(&demo_bic("bank-a")).make(n);
        String::from_utf8(xml).unwrap().replace(&own, uetr).into_bytes()
    };

    // pacs.009 first, then a pacs.008 with its UETR.
    let (xml, first) = pacs009(21, SAMOS_BIC);
    let (statuses, reason, detail) = submit_one(&mut p, 1, xml).await;
    assert_eq!(statuses, [TxStatus::ACTC, TxStatus::ACSC], "{reason} {detail}");
    let (statuses, reason, detail) = submit_one(&mut p, 2, customer(21, &first)).await;
    assert_eq!((statuses.as_slice(), reason.as_str()), (&[TxStatus::RJCT][..], "DUPL"), "{detail}");

    // pacs.008 first, then a pacs.009 with its UETR.
    let (_, second) = pacs009(22, SAMOS_BIC);
    let (statuses, reason, detail) = submit_one(&mut p, 3, customer(22, &second)).await;
    assert_eq!(statuses, [TxStatus::ACTC, TxStatus::ACSC], "{reason} {detail}");
    let (xml, _) = pacs009(22, SAMOS_BIC);
    let (statuses, reason, detail) = submit_one(&mut p, 4, xml).await;
    assert_eq!((statuses.as_slice(), reason.as_str()), (&[TxStatus::RJCT][..], "DUPL"), "{detail}");
    drop(p);
    node.stop().await.unwrap();
    assert_eq!(f.sim.stats.submissions_of(&first), 1);
    assert_eq!(f.sim.stats.submissions_of(&second), 1);
    assert_eq!(f.sim.stats.received_009.load(Ordering::Relaxed), 1, "the duplicate pacs.009 never left");
}
