//! Deterministic tests of the real actors with tokio's paused clock: the journal and the
//! connections are in-memory implementations of the ports, the clearing house is the test.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use ractor::{Actor, ActorRef};
use switchyard_actors::actor::{
    LinkMsg, NodeActor, NodeArgs, NodeContext, NodeLimits, NodeMsg, SessionActor, SessionArgs, SessionMsg,
    TenantArgs, NOT_FOUND_REASON,
};
use switchyard_actors::payment::PaymentLimits;
use switchyard_actors::ports::{Clock, DurableCallback, JournalPort, Outbound, PeerGone, WireKind, WireMsg};
use switchyard_actors::rate::{RateLimit, RateSpec};
use switchyard_actors::route::{Route, RouteMatch, RouteTable};
use switchyard_actors::{JournalRecord, TenantId};
use switchyard_iso20022::{
    read_pacs002, read_pacs008, write_pacs002, Limits, StatusReport, TxStatus, TxStatusInfo,
};

/// Durable at once, and remembers every record.
#[derive(Default)]
struct MemoryJournal {
    records: Mutex<Vec<JournalRecord>>,
}

impl JournalPort for MemoryJournal {
    fn append(&self, record: &JournalRecord, done: DurableCallback) {
        let mut records = self.records.lock().unwrap();
        records.push(record.clone());
        done(Ok(records.len() as u64));
    }
}

/// Reads tokio's (paused) clock.
struct TokioClock(tokio::time::Instant);

impl Clock for TokioClock {
    fn now_ms(&self) -> u64 {
        self.0.elapsed().as_millis() as u64
    }
    fn timestamp(&self) -> String {
        "2026-11-23T08:00:00.000Z".into()
    }
}

/// Captures what an actor sends on a connection.
#[derive(Default)]
struct Capture(Mutex<Vec<WireMsg>>);

impl Outbound for Capture {
    fn send(&self, msg: WireMsg) -> Result<(), PeerGone> {
        self.0.lock().unwrap().push(msg);
        Ok(())
    }
}

impl Capture {
    fn take(&self) -> Vec<WireMsg> {
        std::mem::take(&mut *self.0.lock().unwrap())
    }
}

const TEMPLATE: &[u8] = include_bytes!("../../bench/templates/pacs008.xml");

fn answer(uetr: &str, status: TxStatus, prtry: Option<&str>) -> Bytes {
    let report = StatusReport {
        msg_id: "CH-1".into(),
        cre_dt_tm: "2026-11-23T08:00:00.000Z".into(),
        orgnl_msg_id: "X".into(),
        orgnl_msg_nm_id: "pacs.008.001.08".into(),
        txs: vec![TxStatusInfo {
            orgnl_uetr: switchyard_iso20022::Uetr::parse(uetr),
            reason_prtry: prtry.map(Into::into),
            ..TxStatusInfo::new(status)
        }],
        ..StatusReport::default()
    };
    Bytes::from(write_pacs002(&report))
}

async fn settle(steps: usize) {
    for _ in 0..steps {
        tokio::task::yield_now().await;
    }
}

/// A node with one link "ch" (connected to `clearing`) and one tenant with one session (on
/// `participant`), every part real except the journal and the connections.
struct Harness {
    link: ActorRef<LinkMsg>,
    clearing: Arc<Capture>,
    participant: Arc<Capture>,
    session: ActorRef<SessionMsg>,
}

async fn harness(journal: Arc<dyn JournalPort>, payment: PaymentLimits, tenant: &str, bic: &str) -> Harness {
    let (link, clearing, mut parties) = harness_of(journal, payment, &[(tenant, bic)]).await;
    let (participant, session) = parties.remove(0);
    Harness { link, clearing, participant, session }
}

/// The node of [`harness`] with several tenants `(name, BIC)`, each with one session whose
/// participant is the first of its pair.
async fn harness_of(
    journal: Arc<dyn JournalPort>,
    payment: PaymentLimits,
    tenants: &[(&str, &str)],
) -> (ActorRef<LinkMsg>, Arc<Capture>, Vec<(Arc<Capture>, ActorRef<SessionMsg>)>) {
    let limits = NodeLimits {
        iso: Limits::default(),
        payment,
        tenant_max_in_flight: 10,
        node_max_in_flight: 15,
        link_window: 10,
        breaker: Default::default(),
    };
    let routes = RouteTable { routes: vec![Route::new(RouteMatch::default(), "ch")] };
    let ctx = NodeContext::new(journal, Arc::new(TokioClock(tokio::time::Instant::now())), limits, routes);
    let parsed: Vec<(TenantId, switchyard_iso20022::Bic)> = tenants
        .iter()
        .map(|(tenant, bic)| (TenantId::new(tenant), switchyard_iso20022::Bic::parse(bic).unwrap()))
        .collect();
    *ctx.institutions.write().unwrap() =
        parsed.iter().map(|(tenant, bic)| (bic.clone(), tenant.to_string())).collect();
    let tenant_args = parsed
        .iter()
        .map(|(tenant, _)| TenantArgs {
            tenant: tenant.clone(),
            ctx: ctx.clone(),
            recovered: vec![],
            history: vec![],
        })
        .collect();
    let (node, _) = Actor::spawn(
        None,
        NodeActor,
        NodeArgs { ctx: ctx.clone(), links: vec!["ch".into()], tenants: tenant_args },
    )
    .await
    .unwrap();
    let refs = ractor::call!(node, NodeMsg::Refs).unwrap();
    let link: ActorRef<LinkMsg> = refs.links["ch"].clone();
    let clearing = Arc::new(Capture::default());
    link.cast(LinkMsg::Connected(clearing.clone())).unwrap();
    let mut parties = Vec::new();
    for (tenant, bic) in parsed {
        let participant = Arc::new(Capture::default());
        let session_args = SessionArgs {
            tenant: tenant.clone(),
            rate: Arc::new(RateLimit::new(RateSpec::default())),
            policy: Arc::new(switchyard_actors::policy::TenantPolicy::new(vec![bic])),
            tenant_ref: refs.tenants[&tenant].clone(),
            outbound: participant.clone(),
            ctx: ctx.clone(),
        };
        let (session, _) = Actor::spawn(None, SessionActor, session_args).await.unwrap();
        parties.push((participant, session));
    }
    settle(50).await;
    (link, clearing, parties)
}

#[tokio::test(start_paused = true)]
async fn timeout_inquiry_not_found_resubmit_settle() {
    let journal = Arc::new(MemoryJournal::default());
    let payment = PaymentLimits { clearing_timeout_ms: 1_000, ..PaymentLimits::default() };
    let Harness { link, clearing, participant, session } =
        harness(journal.clone(), payment, "bank-a", "ZYAAZAJJ").await;
    let credits = Arc::new(tokio::sync::Semaphore::new(1));
    let credit = credits.clone().try_acquire_owned().unwrap();
    let uetr = read_pacs008(TEMPLATE, &Limits::default()).unwrap().txs[0].uetr.clone().unwrap();
    session
        .cast(SessionMsg::Submit {
            correlation: 7,
            payload: Bytes::from_static(TEMPLATE),
            credit,
            received: std::time::Instant::now(),
        })
        .unwrap();
    settle(50).await;

    // ACTC first, then the submission reaches the clearing house.
    let acks = participant.take();
    assert_eq!(acks.len(), 1);
    assert_eq!(read_pacs002(&acks[0].payload, &Limits::default()).unwrap().txs[0].tx_sts, TxStatus::ACTC);
    let sent = clearing.take();
    assert_eq!(sent.len(), 1, "one submission");
    assert!(read_pacs008(&sent[0].payload, &Limits::default()).is_ok());

    // No answer: just before the deadline nothing happens; after it, a pacs.028, not a resend.
    tokio::time::advance(Duration::from_millis(999)).await;
    settle(50).await;
    assert!(clearing.take().is_empty());
    tokio::time::advance(Duration::from_millis(2)).await;
    settle(50).await;
    let inquiry = clearing.take();
    assert_eq!(inquiry.len(), 1);
    let text = String::from_utf8_lossy(&inquiry[0].payload).to_string();
    assert!(text.contains("pacs.028") && text.contains(uetr.as_str()), "{text}");
    assert_eq!(credits.available_permits(), 0, "the credit is held until the outcome");

    // The clearing house never got it: now, and only now, it is submitted again.
    link.cast(LinkMsg::Reply {
        correlation: 2,
        payload: answer(uetr.as_str(), TxStatus::RJCT, Some(NOT_FOUND_REASON)),
    })
    .unwrap();
    settle(50).await;
    let resent = clearing.take();
    assert_eq!(resent.len(), 1);
    assert!(read_pacs008(&resent[0].payload, &Limits::default()).is_ok());

    link.cast(LinkMsg::Reply { correlation: 3, payload: answer(uetr.as_str(), TxStatus::ACSC, None) })
        .unwrap();
    settle(50).await;
    let finals = participant.take();
    assert_eq!(finals.len(), 1);
    assert_eq!(finals[0].correlation, 7);
    assert_eq!(finals[0].kind, WireKind::Status);
    assert_eq!(read_pacs002(&finals[0].payload, &Limits::default()).unwrap().txs[0].tx_sts, TxStatus::ACSC);
    assert_eq!(credits.available_permits(), 1, "the credit is returned with the outcome");
    let outcomes: Vec<_> = journal
        .records
        .lock()
        .unwrap()
        .iter()
        .filter_map(|r| match r {
            JournalRecord::Outcome(o) => Some(o.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(outcomes.len(), 1);
    assert_eq!(outcomes[0].inquiries, 1);
}

#[tokio::test(start_paused = true)]
async fn breaker_reopens_for_probes_exactly_after_open_ms() {
    use switchyard_actors::breaker::{Breaker, BreakerLimits, BreakerState};
    // The breaker is pure; here we check its timing with the paused clock's milliseconds.
    let start = tokio::time::Instant::now();
    let mut b = Breaker::new(BreakerLimits { failure_threshold: 2, open_ms: 500 });
    let now = || start.elapsed().as_millis() as u64;
    b.failure(now());
    b.failure(now());
    assert!(matches!(b.state, BreakerState::Open { .. }));
    tokio::time::advance(Duration::from_millis(499)).await;
    assert!(!b.admit(now()));
    tokio::time::advance(Duration::from_millis(1)).await;
    assert!(b.admit(now()), "half-open probe after open_ms");
}

/// Holds the callbacks of records that `hold` picks until the test releases them (or fails
/// them); every other record is durable at once.
struct GatedJournal {
    hold: fn(&JournalRecord) -> bool,
    held: Mutex<Vec<DurableCallback>>,
    records: Mutex<Vec<JournalRecord>>,
}

impl JournalPort for GatedJournal {
    fn append(&self, record: &JournalRecord, done: DurableCallback) {
        self.records.lock().unwrap().push(record.clone());
        if (self.hold)(record) {
            self.held.lock().unwrap().push(done);
        } else {
            done(Ok(1));
        }
    }
}

impl GatedJournal {
    fn finish(&self, result: &Result<u64, switchyard_actors::ports::JournalFailure>) -> usize {
        let held = std::mem::take(&mut *self.held.lock().unwrap());
        let n = held.len();
        for done in held {
            done(result.clone());
        }
        n
    }
}

/// A node with one link ("ch", connected to `clearing`) and tenant bank-b (BIC ZYBBZAJJ, one
/// session on `participant`), to which the clearing house has just sent the template payment
/// (frame 41); `hold` picks the records the journal holds back.
struct InboundCase {
    link: ActorRef<LinkMsg>,
    journal: Arc<GatedJournal>,
    clearing: Arc<Capture>,
    participant: Arc<Capture>,
    session: ActorRef<SessionMsg>,
    uetr: String,
}

async fn inbound_case(hold: fn(&JournalRecord) -> bool, payment: PaymentLimits) -> InboundCase {
    let journal =
        Arc::new(GatedJournal { hold, held: Mutex::new(Vec::new()), records: Mutex::new(Vec::new()) });
    let Harness { link, clearing, participant, session } =
        harness(journal.clone(), payment, "bank-b", "ZYBBZAJJ").await;
    let uetr = read_pacs008(TEMPLATE, &Limits::default()).unwrap().txs[0].uetr.clone().unwrap();

    // The clearing house sends a payment for bank-b; it is delivered to the participant.
    link.cast(LinkMsg::Reply { correlation: 41, payload: Bytes::from_static(TEMPLATE) }).unwrap();
    settle(50).await;
    let delivered = participant.take();
    assert_eq!(delivered.len(), 1, "the inbound payment is delivered");
    assert!(read_pacs008(&delivered[0].payload, &Limits::default()).is_ok());
    InboundCase { link, journal, clearing, participant, session, uetr: uetr.as_str().to_owned() }
}

fn status_of(msg: &WireMsg) -> TxStatusInfo {
    read_pacs002(&msg.payload, &Limits::default()).unwrap().txs[0].clone()
}

/// A participant's late status was answered with one RJCT naming the node's AB05 answer.
fn refused_as_answered_ab05(answers: &[WireMsg]) {
    assert_eq!(answers.len(), 1);
    let refused = status_of(&answers[0]);
    assert_eq!(refused.tx_sts, TxStatus::RJCT);
    assert!(refused.addtl_inf.as_deref().unwrap_or("").contains("already answered RJCT AB05"), "{refused:?}");
}

/// Invariant 1 for inbound payments: the creditor participant's pacs.002 is relayed to the
/// clearing house, and acknowledged to the participant, only once its record is durable; when
/// the record cannot be written nothing is relayed and the participant is asked to send again.
#[tokio::test(start_paused = true)]
async fn an_inbound_status_is_relayed_only_once_its_record_is_durable() {
    let InboundCase { journal, clearing, participant, session, uetr, .. } = inbound_case(
        |r| matches!(r, JournalRecord::Inbound(i) if i.status.is_some()),
        PaymentLimits::default(),
    )
    .await;

    let credits = Arc::new(tokio::sync::Semaphore::new(2));
    let send_status = |correlation: u64| {
        let credit = credits.clone().try_acquire_owned().unwrap();
        session
            .cast(SessionMsg::Submit {
                correlation,
                payload: answer(&uetr, TxStatus::ACSC, None),
                credit,
                received: std::time::Instant::now(),
            })
            .unwrap();
    };

    // The participant settles it, but the record cannot be written: nothing reaches the
    // clearing house, and the participant is told to send it again.
    send_status(1);
    settle(50).await;
    assert!(clearing.take().is_empty(), "not relayed before its record is durable");
    assert!(participant.take().is_empty(), "not acknowledged before its record is durable");
    assert_eq!(journal.finish(&Err(switchyard_actors::ports::JournalFailure::Full)), 1);
    settle(50).await;
    assert!(clearing.take().is_empty(), "a status that was not journaled is not relayed");
    let refused = participant.take();
    assert_eq!(refused.len(), 1);
    assert_eq!(refused[0].correlation, 1);
    let refused = status_of(&refused[0]);
    assert_eq!(refused.tx_sts, TxStatus::RJCT);
    assert_eq!(refused.reason.map(|r| r.as_str()), Some("NARR"));

    // Sent again and made durable: relayed on the clearing frame it answers, then acknowledged.
    send_status(2);
    settle(50).await;
    assert!(clearing.take().is_empty(), "not relayed before its record is durable");
    assert_eq!(journal.finish(&Ok(7)), 1);
    settle(50).await;
    let relayed = clearing.take();
    assert_eq!(relayed.len(), 1);
    assert_eq!(relayed[0].correlation, 41);
    assert_eq!(status_of(&relayed[0]).tx_sts, TxStatus::ACSC);
    let acked = participant.take();
    assert_eq!(acked.len(), 1);
    assert_eq!(acked[0].correlation, 2);
    assert_eq!(status_of(&acked[0]).tx_sts, TxStatus::ACTC);
    assert_eq!(credits.available_permits(), 2, "every credit is returned with its answer");
}

/// Deadlines on every step: an inbound payment its participant never answers is answered RJCT
/// AB05 to the clearing house by the node (journaled first), exactly at the deadline; the
/// participant's late status is refused as already answered and not relayed.
#[tokio::test(start_paused = true)]
async fn an_inbound_payment_unanswered_by_its_participant_is_rejected_ab05_at_the_deadline() {
    let payment = PaymentLimits { inbound_answer_timeout_ms: 2_000, ..PaymentLimits::default() };
    let InboundCase { journal, clearing, participant, session, uetr, .. } =
        inbound_case(|_| false, payment).await;
    tokio::time::advance(Duration::from_millis(1_999)).await;
    settle(50).await;
    assert!(clearing.take().is_empty(), "nothing before the deadline");
    tokio::time::advance(Duration::from_millis(2)).await;
    settle(50).await;
    let answered = clearing.take();
    assert_eq!(answered.len(), 1, "one answer at the deadline");
    assert_eq!(answered[0].correlation, 41, "on the frame of the payment");
    let timed_out = status_of(&answered[0]);
    assert_eq!(timed_out.tx_sts, TxStatus::RJCT);
    assert_eq!(timed_out.reason.map(|r| r.as_str()), Some("AB05"));
    assert_eq!(timed_out.orgnl_uetr.as_ref().map(switchyard_iso20022::Uetr::as_str), Some(uetr.as_str()));
    let journaled = journal
        .records
        .lock()
        .unwrap()
        .iter()
        .filter(|r| matches!(r, JournalRecord::Inbound(i) if i.status.as_deref() == Some("RJCT") && i.reason.as_deref() == Some("AB05")))
        .count();
    assert_eq!(journaled, 1, "the node's answer is journaled");

    // The participant answers late: refused, named, and not relayed.
    let credits = Arc::new(tokio::sync::Semaphore::new(1));
    session
        .cast(SessionMsg::Submit {
            correlation: 5,
            payload: answer(&uetr, TxStatus::ACSC, None),
            credit: credits.clone().try_acquire_owned().unwrap(),
            received: std::time::Instant::now(),
        })
        .unwrap();
    settle(50).await;
    assert!(clearing.take().is_empty(), "a late status is not relayed");
    refused_as_answered_ab05(&participant.take());
    // And no second deadline answer.
    tokio::time::advance(Duration::from_millis(10_000)).await;
    settle(50).await;
    assert!(clearing.take().is_empty());
}

/// Deadlines on every step, on-us: the template payment goes from bank-a (ZYAAZAJJ) to bank-b
/// (ZYBBZAJJ), both tenants. bank-b's participant never answers: exactly at the answer timeout
/// the debtor's payment is rejected AB05 (journaled, then reported to bank-a) — not left in
/// doubt, never sent to a clearing house; bank-b's late status is refused as already answered.
#[tokio::test(start_paused = true)]
async fn an_on_us_payment_its_creditor_never_answers_is_rejected_ab05_at_the_deadline() {
    let journal = Arc::new(MemoryJournal::default());
    let payment = PaymentLimits {
        inbound_answer_timeout_ms: 3_000,
        clearing_timeout_ms: 1_000,
        ..PaymentLimits::default()
    };
    let (_link, clearing, parties) =
        harness_of(journal.clone(), payment, &[("bank-a", "ZYAAZAJJ"), ("bank-b", "ZYBBZAJJ")]).await;
    let [(debtor, debtor_session), (creditor, creditor_session)] = <[_; 2]>::try_from(parties).ok().unwrap();
    let uetr = read_pacs008(TEMPLATE, &Limits::default()).unwrap().txs[0].uetr.clone().unwrap();
    let credits = Arc::new(tokio::sync::Semaphore::new(2));
    let submit = |session: &ActorRef<SessionMsg>, correlation: u64, payload: Bytes| {
        let credit = credits.clone().try_acquire_owned().unwrap();
        let received = std::time::Instant::now();
        session.cast(SessionMsg::Submit { correlation, payload, credit, received }).unwrap();
    };
    submit(&debtor_session, 7, Bytes::from_static(TEMPLATE));
    settle(50).await;
    assert_eq!(status_of(&debtor.take()[0]).tx_sts, TxStatus::ACTC);
    let delivered = creditor.take();
    assert_eq!(delivered.len(), 1, "delivered to the creditor tenant's participant");
    assert_eq!(delivered[0].kind, WireKind::Deliver);

    // Past the clearing timeout nothing happens: the creditor's answer timeout is the deadline.
    tokio::time::advance(Duration::from_millis(2_999)).await;
    settle(50).await;
    assert!(debtor.take().is_empty() && creditor.take().is_empty(), "nothing before the deadline");
    tokio::time::advance(Duration::from_millis(2)).await;
    settle(50).await;
    let reported = debtor.take();
    assert_eq!(reported.len(), 1, "one final status at the deadline");
    assert_eq!(reported[0].correlation, 7, "answering the submission");
    let final_status = status_of(&reported[0]);
    assert_eq!(
        (final_status.tx_sts, final_status.reason.map(|r| r.as_str())),
        (TxStatus::RJCT, Some("AB05"))
    );
    let outcomes: Vec<_> = journal
        .records
        .lock()
        .unwrap()
        .iter()
        .filter_map(|r| match r {
            JournalRecord::Outcome(o) => Some(o.outcome.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(
        outcomes,
        vec![switchyard_actors::Outcome::Rejected("AB05".into())],
        "journaled once, not in doubt"
    );
    assert!(clearing.take().is_empty(), "no clearing house is involved");
    assert!(creditor.take().is_empty(), "not delivered again");

    // bank-b answers late: refused as already answered; bank-a hears nothing more.
    submit(&creditor_session, 9, answer(uetr.as_str(), TxStatus::ACSC, None));
    settle(50).await;
    refused_as_answered_ab05(&creditor.take());
    tokio::time::advance(Duration::from_millis(60_000)).await;
    settle(50).await;
    assert!(debtor.take().is_empty(), "nothing after the outcome");
    assert_eq!(credits.available_permits(), 2, "every credit is returned with its answer");
}

/// A participant's pacs.004 returning the template payment (sent to it by the clearing house).
fn participant_return(uetr: &str) -> Bytes {
    let amount = read_pacs008(TEMPLATE, &Limits::default()).unwrap().txs[0].amount;
    Bytes::from(switchyard_iso20022::write_pacs004(&switchyard_iso20022::Pacs004 {
        app_hdr: None,
        msg_id: "RTR-B-9".into(),
        cre_dt_tm: "2026-11-23T08:00:00Z".into(),
        nb_of_txs: 1,
        ttl_rtrd_intr_bk_sttlm_amt: None,
        intr_bk_sttlm_dt: Some("2026-11-23".into()),
        sttlm_mtd: "CLRG".into(),
        clr_sys: None,
        txs: vec![switchyard_iso20022::ReturnTx {
            rtr_id: Some("RTR-B-9".into()),
            original: switchyard_iso20022::OriginalRef {
                orgnl_msg_id: Some("ORIGINAL".into()),
                orgnl_msg_nm_id: Some("pacs.008.001.08".into()),
                orgnl_uetr: switchyard_iso20022::Uetr::parse(uetr),
                ..Default::default()
            },
            orgnl_intr_bk_sttlm_amt: None,
            amount,
            intr_bk_sttlm_dt: None,
            chrg_br: None,
            instg_agt: None,
            instg_agt_mmb: None,
            instd_agt: None,
            instd_agt_mmb: None,
            reason: switchyard_iso20022::Reason { cd: Some("AC06".into()), prtry: None, addtl_inf: None },
        }],
    }))
}

/// Every return reaches a known outcome: a participant's return the clearing house does not
/// answer is answered PDNG to the participant at the clearing timeout, then asked about by
/// pacs.028 (never blindly sent again) at the re-inquiry delay; "not found" (and only that)
/// sends the same pacs.004 once more; the clearing house's ACSC is journaled and delivered to
/// the participant, and nothing more is asked.
#[tokio::test(start_paused = true)]
async fn a_return_the_clearing_house_does_not_answer_is_asked_about_and_sent_again_only_if_not_found() {
    let payment = PaymentLimits {
        clearing_timeout_ms: 1_000,
        reinquiry_base_ms: 4_000,
        retry_jitter_pct: 0,
        ..PaymentLimits::default()
    };
    let InboundCase { link, journal, clearing, participant, session, uetr } =
        inbound_case(|_| false, payment).await;
    let credits = Arc::new(tokio::sync::Semaphore::new(2));
    let submit = |correlation: u64, payload: Bytes| {
        let credit = credits.clone().try_acquire_owned().unwrap();
        session
            .cast(SessionMsg::Submit { correlation, payload, credit, received: std::time::Instant::now() })
            .unwrap();
    };
    submit(1, answer(&uetr, TxStatus::ACSC, None));
    settle(50).await;
    assert_eq!(clearing.take().len(), 1, "the participant's ACSC is relayed");
    assert_eq!(status_of(&participant.take()[0]).tx_sts, TxStatus::ACTC);

    // The return goes to the clearing house; no answer comes.
    let pacs004 = participant_return(&uetr);
    submit(2, pacs004.clone());
    settle(50).await;
    let sent = clearing.take();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].payload, pacs004, "the participant's pacs.004 as sent");
    tokio::time::advance(Duration::from_millis(1_001)).await;
    settle(50).await;
    let pending = participant.take();
    assert_eq!(pending.len(), 1);
    assert_eq!(pending[0].correlation, 2);
    assert_eq!(status_of(&pending[0]).tx_sts, TxStatus::PDNG);
    assert_eq!(credits.available_permits(), 2, "the participant's credit comes back with PDNG");
    assert!(clearing.take().is_empty(), "not sent again blindly");

    // At the re-inquiry delay: a pacs.028 naming the return.
    tokio::time::advance(Duration::from_millis(3_998)).await;
    settle(50).await;
    assert!(clearing.take().is_empty(), "nothing before the re-inquiry delay");
    tokio::time::advance(Duration::from_millis(2)).await;
    settle(50).await;
    let asked = clearing.take();
    assert_eq!(asked.len(), 1, "one inquiry");
    let inquiry = switchyard_iso20022::read_pacs028(&asked[0].payload, &Limits::default()).unwrap();
    let original = &inquiry.txs[0].original;
    assert_eq!(original.orgnl_msg_nm_id.as_deref(), Some("pacs.004.001.09"));
    assert_eq!(original.orgnl_msg_id.as_deref(), Some("RTR-B-9"));
    assert_eq!(original.orgnl_uetr.as_ref().map(switchyard_iso20022::Uetr::as_str), Some(uetr.as_str()));

    // Not found: the return never arrived, so it is sent once more (the same pacs.004).
    link.cast(LinkMsg::Reply {
        correlation: asked[0].correlation,
        payload: answer(&uetr, TxStatus::RJCT, Some(NOT_FOUND_REASON)),
    })
    .unwrap();
    settle(50).await;
    let resent = clearing.take();
    assert_eq!(resent.len(), 1);
    assert_eq!(resent[0].payload, pacs004);

    // Settled: journaled, delivered to the participant (it was answered PDNG), never asked again.
    link.cast(LinkMsg::Reply {
        correlation: resent[0].correlation,
        payload: answer(&uetr, TxStatus::ACSC, None),
    })
    .unwrap();
    settle(50).await;
    let delivered = participant.take();
    assert_eq!(delivered.len(), 1);
    assert_eq!(delivered[0].kind, WireKind::Deliver);
    assert_eq!(status_of(&delivered[0]).tx_sts, TxStatus::ACSC);
    let fates: Vec<String> = journal
        .records
        .lock()
        .unwrap()
        .iter()
        .filter_map(|r| match r {
            JournalRecord::Inbound(i) if i.uetr == uetr => i.status.clone(),
            _ => None,
        })
        .collect();
    assert_eq!(fates, ["ACSC", "RETURNED", "RETURN-ACSC"]);
    tokio::time::advance(Duration::from_secs(600)).await;
    settle(50).await;
    assert!(clearing.take().is_empty(), "a return with a known outcome is not asked about");

    // Returned again by the participant: refused, naming the clearing house's answer.
    submit(3, pacs004);
    settle(50).await;
    let refused = status_of(&participant.take()[0]);
    assert_eq!((refused.tx_sts, refused.reason.map(|r| r.as_str())), (TxStatus::RJCT, Some("DUPL")));
    assert!(refused.addtl_inf.unwrap_or_default().contains("answered ACSC"));
    assert!(clearing.take().is_empty());
}

/// Late and unmatched replies are journaled, never dropped: a camt.029 for a payment nobody
/// waits for, a pacs.004 naming no original UETR and a pacs.004 of a payment no tenant has
/// each leave an `UnmatchedReply` record.
#[tokio::test(start_paused = true)]
async fn a_cancellation_answer_and_a_return_nobody_waits_for_are_journaled() {
    let journal = Arc::new(MemoryJournal::default());
    let Harness { link, .. } = harness(journal.clone(), PaymentLimits::default(), "bank-a", "ZYAAZAJJ").await;
    let camt029 = switchyard_iso20022::write_camt029(&switchyard_iso20022::Camt029 {
        app_hdr: None,
        assignment: switchyard_iso20022::Assignment {
            id: "CH-9".into(),
            assgnr: switchyard_iso20022::PartyRef { name: Some("CH".into()), ..Default::default() },
            assgne: switchyard_iso20022::PartyRef { name: Some("SWITCHYARD".into()), ..Default::default() },
            cre_dt_tm: "2026-11-23T08:00:00.000Z".into(),
        },
        sts_conf: Some("RJCR".into()),
        sts_assgnmt_cxl_conf: None,
        sts_rjctd_mod: Vec::new(),
        sts_dplct_of: None,
        group: None,
        txs: vec![switchyard_iso20022::CancellationStatusTx {
            cxl_sts_id: None,
            original: switchyard_iso20022::OriginalRef {
                orgnl_uetr: switchyard_iso20022::Uetr::parse("7c0b2e3e-1c2d-4e5f-8a9b-0c1d2e3f4a5b"),
                ..Default::default()
            },
            tx_cxl_sts: Some("RJCR".into()),
            reason: switchyard_iso20022::Reason { cd: Some("NOOR".into()), prtry: None, addtl_inf: None },
        }],
    });
    link.cast(LinkMsg::Reply { correlation: 9, payload: Bytes::from(camt029) }).unwrap();
    let mut no_uetr = participant_return("7c0b2e3e-1c2d-4e5f-8a9b-0c1d2e3f4a5b").to_vec();
    let text = String::from_utf8(no_uetr.clone()).unwrap();
    let start = text.find("<OrgnlUETR>").unwrap();
    let end = text.find("</OrgnlUETR>").unwrap() + "</OrgnlUETR>".len();
    no_uetr.drain(start..end);
    link.cast(LinkMsg::Reply { correlation: 10, payload: Bytes::from(no_uetr) }).unwrap();
    link.cast(LinkMsg::Reply {
        correlation: 11,
        payload: participant_return("7c0b2e3e-1c2d-4e5f-8a9b-0c1d2e3f4a5b"),
    })
    .unwrap();
    settle(50).await;
    let unmatched: Vec<(u64, String)> = journal
        .records
        .lock()
        .unwrap()
        .iter()
        .filter_map(|r| match r {
            JournalRecord::UnmatchedReply(u) => Some((u.correlation, u.status.clone())),
            _ => None,
        })
        .collect();
    assert_eq!(
        unmatched,
        [(9, "camt.029".to_owned()), (10, "pacs.004".to_owned()), (11, "pacs.004".to_owned())]
    );
}
