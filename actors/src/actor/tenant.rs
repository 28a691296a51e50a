//! `TenantActor`: one participant bank. Supervises its sessions and payments.
//!
//! Owns: the tenant's [`Admission`] state (in-flight budget, idempotency index). Mailbox bound:
//! the sum of its sessions' credit windows plus one message per live payment (completion and
//! journal callbacks carry the credit of the submission they belong to). Waits on: nothing; the
//! journal answers through callbacks cast back into the mailbox. Failure policy: a payment actor
//! that fails is logged and counted; its payment stays accepted in the journal and is resumed by
//! recovery (the payment is in doubt until then, never silently dropped).

use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use ractor::{Actor, ActorProcessingErr, ActorRef, SupervisionEvent};
use switchyard_iso20022::{ReasonCode, Text, TxStatus};
use tokio::sync::OwnedSemaphorePermit;
use tracing::Instrument;

use super::case::{self, CancelRequest, InquiryRequest};
use super::context::NodeContext;
use super::payment::{PaymentActor, PaymentArgs, PaymentMsg, Reply, RouteFacts};
use super::session::Refusal;
use super::status::StatusSubject;
use crate::admission::{Admission, Decision, Known, Stored};
use crate::domain::{Fingerprint, Outcome, TenantId};
use crate::metrics;
use crate::payment::PaymentEvent;
use crate::ports::{JournalFailure, Outbound, WireKind, WireMsg};
use crate::record::{AcceptedPayment, Delivery, InboundPayment, JournalRecord, PaymentOutcome};

/// The tenant actor.
#[derive(Debug, Default)]
pub struct TenantActor;

/// Startup arguments.
#[derive(Debug)]
pub struct TenantArgs {
    pub tenant: TenantId,
    pub ctx: Arc<NodeContext>,
    /// Payments accepted before a restart that have no outcome yet.
    pub recovered: Vec<AcceptedPayment>,
    /// Payments to hold in memory from the start (idempotency keys and outcomes). The node
    /// passes none: the state store answers for past payments through `NodeContext::history`.
    pub history: Vec<HistoryEntry>,
}

/// What idempotency needs to remember of a past payment.
#[derive(Debug, Clone)]
pub struct HistoryEntry {
    pub uetr: String,
    pub msg_id: String,
    pub fingerprint: Fingerprint,
    /// `None`: accepted, no outcome yet.
    pub outcome: Option<Outcome>,
}

/// A parsed, valid submission on its way to acceptance.
pub struct Submission {
    pub outbound: Arc<dyn Outbound>,
    pub correlation: u64,
    pub credit: OwnedSemaphorePermit,
    pub uetr: String,
    pub fingerprint: Fingerprint,
    /// The parsed message (pacs.008 or pacs.009) with exactly one transaction.
    pub message: crate::message::PaymentMessage,
    pub raw: Bytes,
    /// When the socket reader took the frame (node-internal latency metrics).
    pub received: Instant,
}

impl std::fmt::Debug for Submission {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Submission").field("uetr", &self.uetr).finish_non_exhaustive()
    }
}

/// Tenant messages.
#[derive(Debug)]
pub enum TenantMsg {
    Submit(Box<Submission>),
    /// The acceptance record's journal write finished.
    Durable {
        submission: Box<Submission>,
        record: Box<AcceptedPayment>,
        result: Result<u64, JournalFailure>,
    },
    /// A payment's outcome is durable.
    Finished {
        uetr: String,
        outcome: Outcome,
    },
    /// A status inquiry (pacs.028) from one of the tenant's sessions.
    Inquiry(Box<InquiryRequest>),
    /// A cancellation request (camt.056) from one of the tenant's sessions.
    Cancel(Box<CancelRequest>),
    /// A session signed on: messages for the participant may be delivered on it.
    Attach {
        session: ractor::ActorId,
        outbound: SessionOutbound,
    },
    /// A session ended.
    Detach {
        session: ractor::ActorId,
    },
    /// A clearing house returned a payment (pacs.004); applied by the tenant that owns the UETR.
    Returned(Arc<InboundReturn>),
    /// A return this tenant applies could not be journaled: try again.
    JournalReturn(Arc<InboundReturn>),
    /// The `Returned` outcome record's journal write finished.
    ReturnDurable {
        inbound: Arc<InboundReturn>,
        result: Result<u64, JournalFailure>,
    },
    /// An on-us payment for this (creditor) tenant: deliver it to a session and wait for the
    /// participant's pacs.002.
    DeliverOnUs {
        uetr: String,
        payload: Bytes,
        payment: ActorRef<PaymentMsg>,
    },
    /// The debtor side's deadline for an on-us payment delivered to this (creditor) tenant has
    /// passed (or it was resumed after a restart) and it asks what became of it: RJCT AB05 if the
    /// participant still has not answered (the node answers for it, as for inbound payments),
    /// the node's earlier answer if it gave one, else "not found" (never delivered here).
    OnUsInquiry {
        uetr: String,
        payment: ActorRef<PaymentMsg>,
    },
    /// A pacs.002 from one of this tenant's sessions about a payment delivered to it.
    CreditorStatus(Box<CreditorStatus>),
    /// The record of a participant's status for an inbound payment is durable (or not): relay
    /// it to the clearing house and acknowledge it to the participant now.
    InboundStatusDurable(Box<InboundStatus>, Result<u64, JournalFailure>),
    /// An inbound payment delivered to the participant is due its answer: if none came, the
    /// node answers the clearing house RJCT AB05 on the participant's behalf.
    InboundDeadline {
        uetr: String,
    },
    /// The debtor side asks to cancel an on-us payment delivered to this (creditor) tenant:
    /// forward the camt.056 to the participant and relay its camt.029 to `payment`.
    ForwardCancel {
        uetr: String,
        payload: Bytes,
        payment: ActorRef<PaymentMsg>,
    },
    /// A camt.029 from one of this tenant's sessions: its answer to a forwarded camt.056.
    CreditorCancelAnswer(Box<CreditorCancelAnswer>),
    /// A pacs.004 from one of this tenant's sessions: it returns a payment it received.
    ParticipantReturn(Box<ParticipantReturn>),
    /// The record of a participant's return of an inbound payment is durable (or not):
    /// forward the pacs.004 on `link`, the link the payment arrived on.
    InboundReturnDurable {
        ret: Box<ParticipantReturn>,
        /// The clearing link the payment arrived on, by name.
        link: Arc<str>,
        result: Result<u64, JournalFailure>,
    },
    /// What became of a return forwarded to a clearing house (from the link, or the deadline).
    ReturnAnswer {
        uetr: String,
        answer: ReturnAnswer,
    },
    /// A payment a clearing house sent for this (creditor) tenant: deliver it and relay the
    /// participant's pacs.002 back on `link` with `correlation`.
    DeliverInbound {
        uetr: String,
        payload: Bytes,
        link: ActorRef<super::link::LinkMsg>,
        correlation: u64,
    },
    /// The inbound payment's receipt record is durable (or not): deliver it now.
    InboundDurable {
        uetr: String,
        payload: Bytes,
        link: ActorRef<super::link::LinkMsg>,
        correlation: u64,
        result: Result<u64, JournalFailure>,
    },
    /// An operator's DLQ replay is durable: resume the payment as a recovered one.
    Replay(Box<AcceptedPayment>),
    /// A payment was reported in doubt (its inquiries went unanswered): ask again later.
    /// Sent by the payment actor just before its `Finished`.
    Unresolved(Box<AcceptedPayment>),
    /// The next inquiry about a participant's return whose answer is unknown is due.
    ReaskReturn {
        uetr: String,
        round: u32,
    },
    /// Re-inquiry round `round` of an in-doubt payment is due.
    Reinquire {
        uetr: String,
        round: u32,
    },
    /// A clearing link (re)connected: in-doubt payments are asked about now, not at their timer.
    LinkUp(String),
    /// A configuration reload changed the tenant's in-flight budget.
    SetBudget(usize),
    /// The tenant's admission numbers, for the admin API.
    Snapshot(ractor::RpcReplyPort<TenantSnapshot>),
}

/// A tenant's admission state at one moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TenantSnapshot {
    /// Payments admitted and not final (in doubt included).
    pub in_flight: usize,
    /// The in-flight budget.
    pub budget: usize,
}

/// What became of a participant's return (pacs.004) forwarded to a clearing house.
#[derive(Debug, Clone)]
pub enum ReturnAnswer {
    /// The clearing house's pacs.002 for it (relayed to the participant unchanged).
    Status(Bytes),
    /// It never left the node (the link was down or full): the payment stays returnable.
    NotSent(String),
    /// No answer within the clearing timeout to the return's send or inquiry number `round`:
    /// it may have reached the clearing house (asked about by pacs.028 later).
    TimedOut { round: u32 },
}

/// A participant's return forwarded to a clearing house whose answer is not known yet: until
/// the clearing house's pacs.002 for it (or for a pacs.028 about it) comes, it is asked about
/// again and again (capped exponential delay with jitter, and at once when its link comes
/// up), and sent once more only when the clearing house answered that it has no such return.
#[derive(Debug)]
struct ReturnOut {
    /// The participant's session waiting for the answer, until the first clearing timeout
    /// (then it is answered `PDNG`); `None` for a return recovered after a restart.
    from: Option<super::case::Requester>,
    /// The clearing link the payment arrived on (the return goes back there).
    link: Arc<str>,
    /// The pacs.004 as the participant sent it (and as journaled).
    payload: Bytes,
    /// Its `MsgId` and message identifier, named by the pacs.028 that asks about it.
    msg_id: String,
    msg_name: String,
    /// Sends and inquiries so far; a timer or answer of an older round is stale.
    round: u32,
    /// A pacs.004 or pacs.028 of the current round is out (its timer armed).
    asking: bool,
    /// What is out is a pacs.028 (its "not found" answer means the return never arrived).
    inquiry: bool,
}

/// Bound on a tenant's returns waiting for a clearing house's answer (sent, or in doubt and
/// being asked about); beyond it a participant's return is refused (retryable).
pub const MAX_RETURNS_OUTSTANDING: usize = 10_000;

/// Who waits for a creditor tenant's pacs.002.
#[derive(Debug, Clone)]
enum Waiting {
    /// An on-us payment's actor (debtor side of this node), and the payment's kind.
    OnUs(ActorRef<PaymentMsg>, crate::message::MessageKind),
    /// A clearing house, through its link, answering the frame with this correlation.
    Clearing { link: ActorRef<super::link::LinkMsg>, correlation: u64 },
    /// An inbound payment received before a restart and delivered again since: the
    /// participant's status goes to the link of this name, unsolicited (correlation 0), unless
    /// the clearing house sends the payment again meanwhile (then it answers that frame).
    Recovered { link: String },
}

/// A participant's pacs.002 for a payment the node delivered to it (on-us).
pub struct CreditorStatus {
    pub from: super::case::Requester,
    pub report: switchyard_iso20022::StatusReport,
}

impl std::fmt::Debug for CreditorStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CreditorStatus").field("msg_id", &self.report.msg_id).finish_non_exhaustive()
    }
}

/// A participant's status for an inbound payment, waiting for its record to be durable.
pub struct InboundStatus {
    /// The participant's session, to acknowledge its status; `None` when the node answers for
    /// a participant that did not (the deadline).
    from: Option<super::case::Requester>,
    orgnl_msg_id: String,
    kind: crate::message::MessageKind,
    uetr: String,
    waiting: Waiting,
    tx_sts: TxStatus,
    reason: Option<ReasonCode>,
    link: Option<ActorRef<super::link::LinkMsg>>,
    link_name: String,
    correlation: u64,
    raw: Bytes,
}

impl std::fmt::Debug for InboundStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InboundStatus").field("uetr", &self.uetr).finish_non_exhaustive()
    }
}

/// A participant's camt.029 for a cancellation request the node forwarded to it (on-us).
pub struct CreditorCancelAnswer {
    pub from: super::case::Requester,
    pub uetr: String,
    /// `CNCL` / `ACCR`: the participant cancelled it.
    pub cancelled: bool,
    /// The camt.029 as the participant sent it (relayed to the requester unchanged).
    pub payload: Bytes,
}

impl std::fmt::Debug for CreditorCancelAnswer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CreditorCancelAnswer").field("uetr", &self.uetr).finish_non_exhaustive()
    }
}

/// A participant's pacs.004 returning a payment it received as creditor.
pub struct ParticipantReturn {
    pub from: super::case::Requester,
    pub uetr: String,
    /// The return reason code (`RtrRsnInf/Rsn/Cd`, or `NARR`).
    pub reason: String,
    /// The pacs.004 as the participant sent it (delivered to the debtor side unchanged).
    pub payload: Bytes,
}

impl std::fmt::Debug for ParticipantReturn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ParticipantReturn").field("uetr", &self.uetr).finish_non_exhaustive()
    }
}

/// The write side of one of the tenant's sessions.
#[derive(Clone)]
pub struct SessionOutbound(pub Arc<dyn Outbound>);

impl std::fmt::Debug for SessionOutbound {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SessionOutbound")
    }
}

/// A pacs.004 from a clearing house, offered to every tenant; only the owner of the UETR with a
/// settled payment applies it. When every tenant offered it has decided and none applied it
/// (nobody's payment, not settled, a repeat), it is journaled as an `UnmatchedReply`: a reply
/// nobody takes is kept, never dropped.
#[derive(Debug)]
pub struct InboundReturn {
    pub uetr: String,
    /// The return reason code (`RtrRsnInf/Rsn/Cd`, or `NARR`).
    pub reason: String,
    /// The pacs.004 as the clearing house sent it (delivered to the participant unchanged).
    pub payload: Bytes,
    pub link: String,
    /// The frame it came on (for the unmatched record).
    pub correlation: u64,
    /// Tenants offered it that have not decided yet.
    undecided: std::sync::atomic::AtomicUsize,
    /// A tenant applied it.
    applied: std::sync::atomic::AtomicBool,
}

impl InboundReturn {
    /// A return to offer to `tenants` tenants.
    #[must_use]
    pub fn new(
        uetr: String,
        reason: String,
        payload: Bytes,
        link: String,
        correlation: u64,
        tenants: usize,
    ) -> Self {
        Self {
            uetr,
            reason,
            payload,
            link,
            correlation,
            undecided: std::sync::atomic::AtomicUsize::new(tenants),
            applied: std::sync::atomic::AtomicBool::new(false),
        }
    }

    /// Offers it to every tenant; a tenant that cannot take it has decided (not applied).
    pub fn offer(
        self: &Arc<Self>,
        tenants: &[ActorRef<TenantMsg>],
        journal: &dyn crate::ports::JournalPort,
        now_ms: u64,
    ) {
        for tenant in tenants {
            if tenant.cast(TenantMsg::Returned(Arc::clone(self))).is_err() {
                self.decided(false, journal, now_ms);
            }
        }
    }

    /// One tenant's decision; the last one journals the return as unmatched if none applied it.
    pub fn decided(&self, applied: bool, journal: &dyn crate::ports::JournalPort, now_ms: u64) {
        use std::sync::atomic::Ordering;
        if applied {
            self.applied.store(true, Ordering::SeqCst);
        }
        if self.undecided.fetch_sub(1, Ordering::SeqCst) != 1 || self.applied.load(Ordering::SeqCst) {
            return;
        }
        tracing::warn!(link = %self.link, uetr = %self.uetr, correlation = self.correlation,
            "return (pacs.004) no tenant applied (not its payment, not settled, or a repeat); journaled, not delivered");
        let record = JournalRecord::UnmatchedReply(crate::record::UnmatchedReply {
            link: self.link.clone(),
            uetr: Some(self.uetr.clone()),
            status: "pacs.004".to_owned(),
            correlation: self.correlation,
            message: self.payload.to_vec(),
            at_ms: now_ms,
        });
        let (link, uetr) = (self.link.clone(), self.uetr.clone());
        journal.append(
            &record,
            Box::new(move |result| {
                if let Err(failure) = result {
                    tracing::error!(%link, %uetr, %failure, "unmatched return not journaled");
                }
            }),
        );
    }
}

/// Bound on messages the participant did not ask for (returns, the clearing house's answers
/// to its returns) kept in memory for a tenant with no session connected. Each is journaled
/// as undelivered (`JournalRecord::Delivery`) and stays in the state store until delivered;
/// beyond the bound the oldest leaves memory and is delivered after the next restart.
pub const MAX_UNDELIVERED: usize = 10_000;

/// Tenant state.
#[derive(Debug)]
pub struct TenantState {
    tenant: TenantId,
    ctx: Arc<NodeContext>,
    admission: Admission,
    /// Live payment actors by UETR (requests about a payment in progress go to its actor).
    live: HashMap<String, ActorRef<PaymentMsg>>,
    /// The tenant's connected sessions, in sign-on order.
    sessions: Vec<(ractor::ActorId, SessionOutbound)>,
    /// Messages for the participant waiting for a session (bounded by [`MAX_UNDELIVERED`]).
    undelivered: std::collections::VecDeque<(String, Bytes)>,
    /// Payments delivered to this tenant (on-us or inbound), waiting for its pacs.002, by UETR.
    on_us: HashMap<String, Waiting>,
    /// On-us payments delivered to this tenant whose cancellation request was forwarded to the
    /// participant, waiting for its camt.029, by UETR (a subset of `on_us`'s keys).
    cancels: HashMap<String, ActorRef<PaymentMsg>>,
    /// On-us payments this tenant settled as creditor (it may return them with a pacs.004),
    /// bounded by [`MAX_INBOUND_REMEMBERED`], oldest forgotten first.
    returnable: std::collections::VecDeque<(String, crate::message::MessageKind)>,
    /// Returns that arrived while the payment's actor was still live, applied at its `Finished`.
    pending_returns: HashMap<String, Arc<InboundReturn>>,
    /// Payments reported in doubt, waiting for their next re-inquiry round (or being re-asked),
    /// by UETR. Bounded by the in-flight budget: an in-doubt payment keeps its budget slot.
    in_doubt: HashMap<String, InDoubt>,
    /// Inbound payments seen, by UETR, so a clearing house's repeated pacs.008 is answered
    /// from here instead of being delivered twice. Bounded by [`MAX_INBOUND_REMEMBERED`]
    /// (oldest forgotten first, in `inbound_order`).
    inbound: HashMap<String, InboundSeen>,
    inbound_order: std::collections::VecDeque<String>,
    /// Participants' returns of inbound payments forwarded to a clearing house, waiting for
    /// its pacs.002 (or in doubt and asked about), by UETR. Bounded by
    /// [`MAX_RETURNS_OUTSTANDING`].
    returning: HashMap<String, ReturnOut>,
    /// Inbound payments received before a restart and never answered by the participant,
    /// delivered again to its next session (bounded by [`MAX_INBOUND_REMEMBERED`]; beyond it
    /// they stay in the state store for the next restart).
    redeliver: std::collections::VecDeque<(String, Bytes)>,
}

/// Inbound UETRs a tenant remembers for deduplication (in memory; the journal keeps them all).
pub const MAX_INBOUND_REMEMBERED: usize = 100_000;

/// What the tenant knows of an inbound payment it has seen.
#[derive(Debug, Clone, PartialEq, Eq)]
enum InboundSeen {
    /// Being journaled or delivered; the participant's status has not come yet.
    Pending,
    /// The participant's final status, relayed to the clearing house on `link`; `returned`:
    /// the participant has returned it (pacs.004 journaled, not refused since);
    /// `return_status`: the clearing house's status of that return, once it answered.
    Answered {
        status: TxStatus,
        reason: Option<ReasonCode>,
        link: Arc<str>,
        returned: bool,
        return_status: Option<TxStatus>,
    },
}

/// An in-doubt payment between re-inquiry rounds.
#[derive(Debug)]
struct InDoubt {
    accepted: Box<AcceptedPayment>,
    /// Rounds started so far (the delay before the next one doubles per round, capped).
    round: u32,
    /// Waiting for its timer (`false` while a resumed payment actor is asking).
    waiting: bool,
}

impl Actor for TenantActor {
    type Msg = TenantMsg;
    type State = TenantState;
    type Arguments = TenantArgs;

    async fn pre_start(
        &self,
        myself: ActorRef<TenantMsg>,
        args: TenantArgs,
    ) -> Result<TenantState, ActorProcessingErr> {
        let mut admission = Admission::new(args.ctx.limits.tenant_max_in_flight);
        for entry in args.history {
            admission.restore_accepted(&entry.uetr, &entry.msg_id, entry.fingerprint);
            if let Some(outcome) = entry.outcome {
                admission.finished(&entry.uetr, outcome, args.ctx.history.durable_seq());
            }
        }
        for accepted in &args.recovered {
            if admission.needs_stored(&accepted.uetr) {
                admission.restore_accepted(&accepted.uetr, &accepted.msg_id, accepted.fingerprint);
            }
        }
        let mut state = TenantState {
            tenant: args.tenant,
            ctx: args.ctx,
            admission,
            live: HashMap::new(),
            sessions: Vec::new(),
            undelivered: std::collections::VecDeque::new(),
            on_us: HashMap::new(),
            cancels: HashMap::new(),
            returnable: std::collections::VecDeque::new(),
            pending_returns: HashMap::new(),
            in_doubt: HashMap::new(),
            inbound: HashMap::new(),
            inbound_order: std::collections::VecDeque::new(),
            returning: HashMap::new(),
            redeliver: std::collections::VecDeque::new(),
        };
        for accepted in args.recovered {
            resume(&myself, &mut state, accepted).await?;
        }
        recover_inbound(&mut state);
        recover_returns(&myself, &mut state);
        // Returns journaled as undelivered before a restart wait for the next session.
        match state.ctx.history.undelivered(state.tenant.as_str()) {
            Ok(waiting) => {
                if !waiting.is_empty() {
                    tracing::info!(tenant = %state.tenant, messages = waiting.len(), "undelivered returns waiting for a session");
                }
                state.undelivered.extend(
                    waiting
                        .into_iter()
                        .take(MAX_UNDELIVERED)
                        .map(|(uetr, message)| (uetr, Bytes::from(message))),
                );
            }
            Err(error) => {
                tracing::error!(tenant = %state.tenant, %error, "undelivered returns unreadable; delivered after a restart");
            }
        }
        Ok(state)
    }

    async fn handle(
        &self,
        myself: ActorRef<TenantMsg>,
        message: TenantMsg,
        state: &mut TenantState,
    ) -> Result<(), ActorProcessingErr> {
        super::session::tenant_handles(&message, &state.tenant);
        match message {
            TenantMsg::Submit(submission) => {
                let span = tracing::info_span!("payment", tenant = %state.tenant, uetr = %submission.uetr);
                span.in_scope(|| admit(&myself, state, *submission));
            }
            TenantMsg::Durable { submission, record, result } => {
                let span = tracing::info_span!("payment", tenant = %state.tenant, uetr = %submission.uetr);
                durable(&myself, state, *submission, *record, result).instrument(span).await?;
            }
            TenantMsg::Finished { uetr, outcome } => {
                // Requests forwarded before this point are in the payment's mailbox ahead of
                // Stop, so it answers them (from its final phase) before it stops.
                if let Some(payment) = state.live.remove(&uetr) {
                    let _ = payment.cast(PaymentMsg::Stop);
                }
                if outcome.is_final() && state.in_doubt.remove(&uetr).is_some() {
                    tracing::info!(tenant = %state.tenant, %uetr, outcome = outcome.label(), "in-doubt payment resolved by re-inquiry");
                }
                // The outcome record is durable, so the journal's durable seq is at or past it.
                state.admission.finished(&uetr, outcome, state.ctx.history.durable_seq());
                state.admission.forget_projected(state.ctx.history.projected_seq());
                if let Some(inbound) = state.pending_returns.remove(&uetr) {
                    returned(&myself, state, inbound);
                }
                in_flight_gauge(state);
            }
            TenantMsg::Inquiry(request) => inquiry(state, *request),
            TenantMsg::Cancel(request) => cancel(state, *request),
            TenantMsg::Attach { session, outbound } => {
                state.sessions.push((session, outbound));
                while let Some((uetr, payload)) = state.undelivered.pop_front() {
                    if let Err(payload) = deliver(state, payload) {
                        state.undelivered.push_front((uetr, payload));
                        break;
                    }
                    journal_delivery(state, &uetr, None);
                }
                while let Some((uetr, payload)) = state.redeliver.pop_front() {
                    if !state.on_us.contains_key(&uetr) {
                        continue; // answered meanwhile
                    }
                    if let Err(payload) = deliver(state, payload) {
                        state.redeliver.push_front((uetr, payload));
                        break;
                    }
                    tracing::info!(tenant = %state.tenant, %uetr, "inbound payment unanswered before a restart delivered again");
                    arm_inbound_deadline(&myself, state, uetr);
                }
            }
            TenantMsg::Detach { session } => state.sessions.retain(|(id, _)| *id != session),
            TenantMsg::Returned(inbound) => returned(&myself, state, inbound),
            TenantMsg::JournalReturn(inbound) => journal_return(&myself, state, inbound),
            TenantMsg::ReturnDurable { inbound, result } => return_durable(&myself, state, inbound, result),
            TenantMsg::DeliverOnUs { uetr, payload, payment } => {
                deliver_on_us(state, uetr, payload, &payment);
            }
            TenantMsg::OnUsInquiry { uetr, payment } => on_us_inquiry(state, &uetr, &payment),
            TenantMsg::CreditorStatus(status) => creditor_status(&myself, state, *status),
            TenantMsg::InboundStatusDurable(pending, result) => {
                inbound_status_durable(&myself, state, *pending, result);
            }
            TenantMsg::InboundDeadline { uetr } => inbound_deadline(&myself, state, &uetr),
            TenantMsg::ForwardCancel { uetr, payload, payment } => {
                forward_cancel(state, uetr, payload, &payment);
            }
            TenantMsg::CreditorCancelAnswer(answer) => creditor_cancel_answer(state, *answer),
            TenantMsg::ParticipantReturn(ret) => participant_return(&myself, state, *ret),
            TenantMsg::InboundReturnDurable { ret, link, result } => {
                inbound_return_durable(&myself, state, *ret, link, result);
            }
            TenantMsg::ReturnAnswer { uetr, answer } => return_answer(&myself, state, &uetr, answer),
            TenantMsg::ReaskReturn { uetr, round } => {
                let due = state.returning.get(&uetr).is_some_and(|r| !r.asking && r.round == round);
                if due {
                    send_return(&myself, state, &uetr, true);
                }
            }
            TenantMsg::DeliverInbound { uetr, payload, link, correlation } => {
                inbound_received(&myself, state, uetr, payload, link, correlation);
            }
            TenantMsg::InboundDurable { uetr, payload, link, correlation, result } => {
                if let Err(failure) = result {
                    tracing::warn!(tenant = %state.tenant, %uetr, %failure, "inbound payment not journaled; refused");
                    forget_inbound(state, &uetr);
                    let detail = format!("busy: {failure}; retry later");
                    refuse_inbound(state, &uetr, &link, correlation, &detail);
                } else {
                    deliver_inbound(&myself, state, uetr, payload, link, correlation);
                }
            }
            TenantMsg::Replay(accepted) => {
                tracing::info!(tenant = %state.tenant, uetr = %accepted.uetr, "DLQ replay: payment resumed");
                state.admission.restore_accepted(&accepted.uetr, &accepted.msg_id, accepted.fingerprint);
                in_flight_gauge(state);
                resume(&myself, state, *accepted).await?;
            }
            TenantMsg::Unresolved(accepted) => unresolved(&myself, state, accepted),
            TenantMsg::Reinquire { uetr, round } => {
                let due = state.in_doubt.get(&uetr).is_some_and(|d| d.waiting && d.round == round);
                if due {
                    reinquire(&myself, state, &uetr).await?;
                }
            }
            TenantMsg::LinkUp(link) => {
                let waiting: Vec<String> =
                    state.in_doubt.iter().filter(|(_, d)| d.waiting).map(|(u, _)| u.clone()).collect();
                if !waiting.is_empty() {
                    tracing::info!(tenant = %state.tenant, %link, payments = waiting.len(), "clearing link up: in-doubt payments asked about again");
                }
                for uetr in waiting {
                    reinquire(&myself, state, &uetr).await?;
                }
                let returns: Vec<String> = state
                    .returning
                    .iter()
                    .filter(|(_, r)| !r.asking && *r.link == *link)
                    .map(|(u, _)| u.clone())
                    .collect();
                if !returns.is_empty() {
                    tracing::info!(tenant = %state.tenant, %link, returns = returns.len(), "clearing link up: returns with no answer asked about again");
                }
                for uetr in returns {
                    send_return(&myself, state, &uetr, true);
                }
            }
            TenantMsg::SetBudget(budget) => state.admission.set_max_in_flight(budget),
            TenantMsg::Snapshot(reply) => {
                let snapshot = TenantSnapshot {
                    in_flight: state.admission.in_flight(),
                    budget: state.admission.max_in_flight(),
                };
                let _ = reply.send(snapshot);
            }
        }
        Ok(())
    }

    async fn handle_supervisor_evt(
        &self,
        _myself: ActorRef<TenantMsg>,
        event: SupervisionEvent,
        state: &mut TenantState,
    ) -> Result<(), ActorProcessingErr> {
        if let SupervisionEvent::ActorFailed(cell, error) = event {
            state.live.retain(|_, payment| payment.get_id() != cell.get_id());
            tracing::error!(tenant = %state.tenant, actor = ?cell.get_id(), %error,
                "payment actor failed; its payment stays accepted and is resumed on recovery");
        }
        Ok(())
    }
}

fn admit(myself: &ActorRef<TenantMsg>, state: &mut TenantState, sub: Submission) {
    let msg_id = sub.message.msg_id().to_owned();
    let refusal = Refusal {
        tenant: &state.tenant,
        outbound: &sub.outbound,
        ctx: &state.ctx,
        correlation: sub.correlation,
        kind: sub.message.kind(),
    };
    let stored = if state.admission.needs_stored(&sub.uetr) {
        match state.ctx.history.stored(state.tenant.as_str(), &sub.uetr, &msg_id) {
            Ok(stored) => stored,
            Err(error) => {
                tracing::error!(tenant = %state.tenant, %error, "idempotency index unreadable; refusing");
                let detail = "busy: the idempotency index cannot be read; retry later";
                return refusal.refuse(Some(&msg_id), Some(&sub.uetr), ReasonCode::NARR, detail, sub.credit);
            }
        }
    } else {
        Stored::default()
    };
    // Over the tenant's budget or the node's: who is full, in flight, the limit.
    let busy = match state.admission.admit(&sub.uetr, &msg_id, sub.fingerprint, &stored) {
        Decision::Admit => match state.ctx.reserve_in_flight() {
            Ok(()) => None,
            Err((in_flight, limit)) => {
                state.admission.abandon(&sub.uetr, &msg_id);
                Some(("the node", in_flight, limit))
            }
        },
        Decision::OverBudget { in_flight, limit } => Some(("tenant", in_flight, limit)),
        Decision::Resend(known) => {
            metrics::submission(state.tenant.as_str(), "resend");
            return answer_resend(state, &sub, &known);
        }
        Decision::Conflict { key } => {
            metrics::submission(state.tenant.as_str(), "duplicate");
            let detail = format!("{key} already used by a different payment");
            return refusal.refuse(Some(&msg_id), Some(&sub.uetr), ReasonCode::DUPL, &detail, sub.credit);
        }
    };
    if let Some((who, in_flight, limit)) = busy {
        metrics::submission(state.tenant.as_str(), "busy");
        let detail = format!("busy: {who} has {in_flight} payments in flight (limit {limit}); retry later");
        return refusal.refuse(Some(&msg_id), Some(&sub.uetr), ReasonCode::NARR, &detail, sub.credit);
    }
    let record = accepted_record(state, &sub);
    let myself = myself.clone();
    let journal_record = JournalRecord::Accepted(record.clone());
    let submission = Box::new(sub);
    let record = Box::new(record);
    state.ctx.journal.append(
        &journal_record,
        Box::new(move |result| {
            let _ = myself.cast(TenantMsg::Durable { submission, record, result });
        }),
    );
}

fn accepted_record(state: &TenantState, sub: &Submission) -> AcceptedPayment {
    let m = &sub.message;
    AcceptedPayment {
        tenant: state.tenant.to_string(),
        uetr: sub.uetr.clone(),
        msg_id: m.msg_id().to_owned(),
        end_to_end_id: m.end_to_end_id().to_owned(),
        amount_minor: m.amount().map_or(0, |a| a.minor_units),
        currency: m.amount().map_or_else(String::new, |a| a.currency.as_str().to_owned()),
        debtor_agent: m.debtor_agent().map_or_else(String::new, |b| b.as_str().to_owned()),
        creditor_agent: m.creditor_agent().map_or_else(String::new, |b| b.as_str().to_owned()),
        fingerprint: sub.fingerprint,
        message: sub.raw.to_vec(),
        accepted_at_ms: state.ctx.clock.now_ms(),
    }
}

fn answer_resend(state: &TenantState, sub: &Submission, known: &Known) {
    let (status, reason) = match known {
        Known::Pending => (TxStatus::RCVD, None),
        Known::Accepted => (TxStatus::ACTC, None),
        Known::Final(outcome) => (outcome.tx_status(), outcome.reason()),
    };
    let subject = StatusSubject {
        orgnl_msg_nm_id: sub.message.kind().message_name(),
        orgnl_msg_id: sub.message.msg_id(),
        orgnl_end_to_end_id: Some(sub.message.end_to_end_id()),
        orgnl_uetr: Some(&sub.uetr),
    };
    let payload = state.ctx.status.pacs002(subject, status, reason, Some("resend: status of the original"));
    let _ = sub.outbound.send(WireMsg { kind: WireKind::Status, correlation: sub.correlation, payload });
}

async fn durable(
    myself: &ActorRef<TenantMsg>,
    state: &mut TenantState,
    sub: Submission,
    record: AcceptedPayment,
    result: Result<u64, JournalFailure>,
) -> Result<(), ActorProcessingErr> {
    if let Err(failure) = result {
        state.ctx.counters.in_flight.fetch_sub(1, Ordering::Relaxed);
        state.admission.abandon(&sub.uetr, sub.message.msg_id());
        let refusal = Refusal {
            tenant: &state.tenant,
            outbound: &sub.outbound,
            ctx: &state.ctx,
            correlation: sub.correlation,
            kind: sub.message.kind(),
        };
        let detail = format!("busy: {failure}; retry later");
        refusal.refuse(Some(sub.message.msg_id()), Some(&sub.uetr), ReasonCode::NARR, &detail, sub.credit);
        return Ok(());
    }
    state.admission.accepted(&sub.uetr);
    metrics::submission(state.tenant.as_str(), "accepted");
    metrics::ack(state.tenant.as_str(), sub.received.elapsed());
    in_flight_gauge(state);
    let subject = StatusSubject {
        orgnl_msg_nm_id: sub.message.kind().message_name(),
        orgnl_msg_id: sub.message.msg_id(),
        orgnl_end_to_end_id: Some(sub.message.end_to_end_id()),
        orgnl_uetr: Some(&sub.uetr),
    };
    // Invariant 1: this ACTC is sent only here, after the acceptance record is durable.
    let payload = state.ctx.status.pacs002(subject, TxStatus::ACTC, None, None);
    let _ = sub.outbound.send(WireMsg { kind: WireKind::Status, correlation: sub.correlation, payload });
    let reply = Reply {
        outbound: sub.outbound,
        correlation: sub.correlation,
        credit: sub.credit,
        received: sub.received,
    };
    let facts = RouteFacts::of(&sub.message);
    spawn_payment(myself, state, record, sub.raw, Some(reply), facts).await
}

/// Answers a status inquiry from the tenant's own state (rebuilt from the journal and state
/// store at start): a live payment answers for itself; a finished one with its durable outcome.
fn inquiry(state: &TenantState, request: InquiryRequest) {
    if let Some(payment) = state.live.get(&request.uetr) {
        if let Err(ractor::MessagingErr::SendErr(PaymentMsg::Inquiry(request))) =
            payment.cast(PaymentMsg::Inquiry(Box::new(request)))
        {
            // The actor ended before our Finished: answer from what we know.
            answer_known(state, *request);
        }
        return;
    }
    answer_known(state, request);
}

/// Where one of this tenant's payments is: memory first, then the state store, which answers
/// for the final payments memory has let go of.
fn known(state: &TenantState, uetr: &str) -> Option<Known> {
    if let Some(known) = state.admission.lookup(uetr) {
        return Some(known);
    }
    match state.ctx.history.stored(state.tenant.as_str(), uetr, "") {
        Ok(stored) => stored.payment.map(|(_, known)| known),
        Err(error) => {
            tracing::warn!(tenant = %state.tenant, %uetr, %error, "state store unreadable; payment unknown");
            None
        }
    }
}

/// The kind of one of this tenant's payments that is not live: from its message when memory
/// still holds it (in doubt), else from the state store; unknown there too (not stored yet, or
/// stored before kinds were kept), the answer names the kind the request named.
fn known_kind(state: &TenantState, uetr: &str) -> Option<crate::message::MessageKind> {
    if let Some(d) = state.in_doubt.get(uetr) {
        return crate::message::MessageKind::of_raw(&d.accepted.message);
    }
    state.ctx.history.kind(state.tenant.as_str(), uetr).unwrap_or_else(|error| {
        tracing::warn!(tenant = %state.tenant, %uetr, %error, "state store unreadable; payment kind unknown");
        None
    })
}

fn answer_known(state: &TenantState, mut request: InquiryRequest) {
    request.kind = request.kind.or_else(|| known_kind(state, &request.uetr));
    let ctx = &state.ctx;
    match known(state, &request.uetr).as_ref() {
        None => request.not_found(ctx),
        Some(Known::Pending) => request.answer(ctx, TxStatus::RCVD, None, "received; not yet accepted"),
        Some(Known::Accepted) => request.answer(ctx, TxStatus::ACTC, None, "accepted; outcome pending"),
        Some(Known::Final(outcome)) => {
            let detail = format!("{}{}", outcome.label(), outcome_detail(outcome));
            request.answer(ctx, outcome.tx_status(), outcome.reason(), &detail);
        }
    }
}

fn outcome_detail(outcome: &Outcome) -> String {
    match outcome {
        Outcome::Rejected(code) => format!(": {code}"),
        Outcome::DeadLettered(why) | Outcome::Cancelled(why) => format!(": {why}"),
        Outcome::Returned(code) => format!(" (pacs.004, reason {code})"),
        Outcome::Settled | Outcome::InDoubt => String::new(),
    }
}

/// A cancellation request: a live payment decides for itself (payment machine); a finished or
/// unknown one is answered here.
fn cancel(state: &TenantState, request: CancelRequest) {
    if let Some(payment) = state.live.get(&request.uetr) {
        if let Err(ractor::MessagingErr::SendErr(PaymentMsg::Cancel(request))) =
            payment.cast(PaymentMsg::Cancel(Box::new(request)))
        {
            answer_cancel_known(state, *request);
        }
        return;
    }
    answer_cancel_known(state, request);
}

fn answer_cancel_known(state: &TenantState, mut request: CancelRequest) {
    request.kind = request.kind.or_else(|| known_kind(state, &request.uetr));
    let ctx = &state.ctx;
    match known(state, &request.uetr).as_ref() {
        None => request.refused(ctx, "NOOR", "no payment of this tenant has this UETR"),
        Some(Known::Final(Outcome::Cancelled(_))) => request.cancelled(ctx, "already cancelled"),
        Some(Known::Final(Outcome::Returned(_))) => request.refused(ctx, "ARDT", "already returned"),
        Some(Known::Final(outcome)) => {
            let detail = format!("the payment already has its outcome: {}", outcome.label());
            request.refused(ctx, "AGNT", &detail);
        }
        Some(Known::Pending | Known::Accepted) => {
            request.refused(ctx, "ARPL", "the payment is being accepted; retry the request");
        }
    }
}

/// A clearing house's pacs.004: if this tenant has the payment settled, journal `Returned`.
fn returned(myself: &ActorRef<TenantMsg>, state: &mut TenantState, inbound: Arc<InboundReturn>) {
    if state.live.contains_key(&inbound.uetr) {
        // Its outcome may be reported but not yet recorded here (the payment's `Finished` is
        // still on its way): decide once it is. One per live payment, so bounded.
        state.pending_returns.insert(inbound.uetr.clone(), inbound);
        return;
    }
    let ctx = Arc::clone(&state.ctx);
    let not_applied = |inbound: &InboundReturn| inbound.decided(false, &*ctx.journal, ctx.clock.now_ms());
    match known(state, &inbound.uetr).as_ref() {
        Some(Known::Final(Outcome::Settled)) => {}
        None => return not_applied(&inbound), // another tenant's payment
        Some(Known::Final(Outcome::Returned(_))) => {
            tracing::info!(tenant = %state.tenant, uetr = %inbound.uetr, "repeated return ignored");
            return not_applied(&inbound);
        }
        Some(other) => {
            tracing::warn!(tenant = %state.tenant, uetr = %inbound.uetr, link = %inbound.link, state = ?other,
                "return for a payment that is not settled; not applied");
            return not_applied(&inbound);
        }
    }
    inbound.decided(true, &*ctx.journal, ctx.clock.now_ms());
    journal_return(myself, state, inbound);
}

/// Journals a return this tenant applies (`Returned` outcome); tried again until durable.
fn journal_return(myself: &ActorRef<TenantMsg>, state: &TenantState, inbound: Arc<InboundReturn>) {
    let record = JournalRecord::Outcome(PaymentOutcome {
        tenant: state.tenant.to_string(),
        uetr: inbound.uetr.clone(),
        outcome: Outcome::Returned(inbound.reason.clone()),
        inquiries: 0,
        at_ms: state.ctx.clock.now_ms(),
    });
    let me = myself.clone();
    state.ctx.journal.append(
        &record,
        Box::new(move |result| {
            let _ = me.cast(TenantMsg::ReturnDurable { inbound, result });
        }),
    );
}

fn return_durable(
    myself: &ActorRef<TenantMsg>,
    state: &mut TenantState,
    inbound: Arc<InboundReturn>,
    result: Result<u64, JournalFailure>,
) {
    let seq = match result {
        Ok(seq) => seq,
        Err(failure) => {
            // Not durable: try again shortly; nothing is delivered until it is.
            tracing::warn!(tenant = %state.tenant, uetr = %inbound.uetr, %failure, "return not journaled; retrying");
            myself
                .send_after(std::time::Duration::from_millis(10), move || TenantMsg::JournalReturn(inbound));
            return;
        }
    };
    // Memory answers for the return until the store has applied its record (`seq`): the
    // settlement it replaces may already be all memory has let go of.
    let seq = seq.max(state.ctx.history.durable_seq());
    state.admission.finished(&inbound.uetr, Outcome::Returned(inbound.reason.clone()), seq);
    metrics::outcome(state.tenant.as_str(), "returned", None);
    tracing::info!(tenant = %state.tenant, uetr = %inbound.uetr, reason = %inbound.reason, "payment returned (pacs.004)");
    deliver_or_keep(state, &inbound.uetr, inbound.payload.clone());
}

/// Delivers a message the participant did not ask for (a return, the answer to its return)
/// to a session, or — none connected — journals it as undelivered and keeps it for the next
/// session (bounded by [`MAX_UNDELIVERED`]; beyond it, the state store keeps it for a restart).
fn deliver_or_keep(state: &mut TenantState, uetr: &str, payload: Bytes) {
    if let Err(payload) = deliver(state, payload) {
        journal_delivery(state, uetr, Some(&payload));
        if state.undelivered.len() >= MAX_UNDELIVERED {
            tracing::error!(tenant = %state.tenant, "undelivered messages at their bound; the oldest is delivered after a restart");
            state.undelivered.pop_front();
        }
        state.undelivered.push_back((uetr.to_owned(), payload));
    }
}

/// Journals a return that found no session (`Some(message)`) or its delivery since (`None`),
/// so undelivered returns survive a restart (the state store keeps them until delivered).
fn journal_delivery(state: &TenantState, uetr: &str, undelivered: Option<&Bytes>) {
    let record = JournalRecord::Delivery(Delivery {
        tenant: state.tenant.to_string(),
        uetr: uetr.to_owned(),
        delivered: undelivered.is_none(),
        message: undelivered.map(|m| m.to_vec()).unwrap_or_default(),
        at_ms: state.ctx.clock.now_ms(),
    });
    let (tenant, uetr) = (state.tenant.clone(), uetr.to_owned());
    state.ctx.journal.append(
        &record,
        Box::new(move |result| {
            if let Err(failure) = result {
                tracing::error!(%tenant, %uetr, %failure, "return delivery state not journaled");
            }
        }),
    );
}

/// An on-us payment for this tenant: delivered now on a session, or refused (the debtor's
/// payment backs off and tries again until its attempts run out: it stays accepted and durable).
fn deliver_on_us(state: &mut TenantState, uetr: String, payload: Bytes, payment: &ActorRef<PaymentMsg>) {
    let kind = crate::message::MessageKind::of_raw(&payload).unwrap_or_default();
    let event = if state.sessions.is_empty() {
        PaymentEvent::LinkUnavailable(format!("creditor tenant {} has no session connected", state.tenant))
    } else if deliver(state, payload).is_ok() {
        tracing::debug!(tenant = %state.tenant, %uetr, "on-us payment delivered");
        state.on_us.insert(uetr, Waiting::OnUs(payment.clone(), kind));
        PaymentEvent::Delivered
    } else {
        PaymentEvent::LinkUnavailable(format!("creditor tenant {} has no session connected", state.tenant))
    };
    let _ = payment.cast(PaymentMsg::Event(event));
}

/// The on-us debtor's payment asks what became of its delivery (its deadline, the participant's
/// answer timeout, has passed; or it was resumed after a restart or from doubt). Answered at
/// once, as a clearing house answers a pacs.028 — `Sent`, then the answer:
/// - still waiting for the participant: the node rejects it for the participant (RJCT AB05,
///   remembered so the participant's late pacs.002 is refused as already answered);
/// - the node answered AB05 before: that answer again;
/// - unknown here (never delivered, or delivered before a restart): "not found", so the
///   payment delivers it again (same UETR: the participant answers a repeat with its status).
fn on_us_inquiry(state: &mut TenantState, uetr: &str, payment: &ActorRef<PaymentMsg>) {
    let ab05 = || PaymentEvent::ClearingAnswered(Outcome::Rejected(ReasonCode::AB05.as_str().to_owned()));
    let answer = if matches!(state.on_us.get(uetr), Some(Waiting::OnUs(..))) {
        state.on_us.remove(uetr);
        state.cancels.remove(uetr);
        let timeout_ms = state.ctx.limits.payment.inbound_answer_timeout_ms;
        tracing::warn!(tenant = %state.tenant, %uetr, timeout_ms, "on-us payment unanswered by the creditor participant; rejected AB05");
        let seen = InboundSeen::Answered {
            status: TxStatus::RJCT,
            reason: Some(ReasonCode::AB05),
            link: super::payment::on_us_name(state.tenant.as_str()).into(),
            returned: false,
            return_status: None,
        };
        remember_inbound(state, uetr, seen);
        ab05()
    } else {
        match state.inbound.get(uetr) {
            Some(InboundSeen::Answered {
                status: TxStatus::RJCT,
                reason: Some(ReasonCode::AB05),
                link,
                ..
            }) if link.starts_with(super::payment::ON_US_PREFIX) => ab05(),
            _ => PaymentEvent::NotFound,
        }
    };
    let _ = payment.cast(PaymentMsg::Event(PaymentEvent::Sent));
    let _ = payment.cast(PaymentMsg::Event(answer));
}

/// A payment from a clearing house for this tenant. A UETR seen before is answered from what
/// the tenant knows (the participant's status as relayed before, or PDNG while it is pending),
/// never delivered twice. A new one is journaled first (`JournalRecord::Inbound`) and
/// delivered once durable; refused at once (RJCT) when the participant has no session.
fn inbound_received(
    myself: &ActorRef<TenantMsg>,
    state: &mut TenantState,
    uetr: String,
    payload: Bytes,
    link: ActorRef<super::link::LinkMsg>,
    correlation: u64,
) {
    let subject = StatusSubject::pacs008_by_uetr(&uetr);
    let seen = match state.inbound.get(&uetr) {
        Some(seen) => Some(seen.clone()),
        None => match stored_inbound(state, &uetr) {
            Ok(seen) => seen,
            Err(error) => {
                tracing::error!(tenant = %state.tenant, %uetr, %error, "inbound index unreadable; refused");
                let detail = "busy: the inbound index cannot be read; retry later";
                return refuse_inbound(state, &uetr, &link, correlation, detail);
            }
        },
    };
    if let (Some(InboundSeen::Pending), Some(Waiting::Recovered { .. })) = (&seen, state.on_us.get(&uetr)) {
        // Received before a restart and not answered yet: the participant's status will
        // answer this frame (the earlier frame's connection is gone).
        tracing::info!(tenant = %state.tenant, %uetr, "repeated inbound payment, unanswered before a restart: the participant's status answers it");
        state.on_us.insert(uetr, Waiting::Clearing { link, correlation });
        return;
    }
    let prior = match &seen {
        Some(InboundSeen::Answered { status, reason, .. }) => Some(state.ctx.status.pacs002(
            subject,
            *status,
            *reason,
            Some("duplicate: the participant's status as relayed before"),
        )),
        Some(InboundSeen::Pending) => Some(state.ctx.status.pacs002(
            subject,
            TxStatus::PDNG,
            None,
            Some("duplicate: delivered to the participant; its status is pending"),
        )),
        None => None,
    };
    if let Some(answer) = prior {
        tracing::info!(tenant = %state.tenant, %uetr, "repeated inbound payment answered, not delivered again");
        let _ = link.cast(super::link::LinkMsg::Relay { correlation, payload: answer });
        return;
    }
    if state.sessions.is_empty() {
        let detail = format!("creditor tenant {} has no session connected; retry later", state.tenant);
        return refuse_inbound(state, &uetr, &link, correlation, &detail);
    }
    remember_inbound(state, &uetr, InboundSeen::Pending);
    let record = JournalRecord::Inbound(InboundPayment {
        tenant: state.tenant.to_string(),
        uetr: uetr.clone(),
        link: link_name(state, &link),
        status: None,
        reason: None,
        message: payload.to_vec(),
        at_ms: state.ctx.clock.now_ms(),
    });
    let me = myself.clone();
    state.ctx.journal.append(
        &record,
        Box::new(move |result| {
            let _ = me.cast(TenantMsg::InboundDurable { uetr, payload, link, correlation, result });
        }),
    );
}

/// The name of a link actor (for journal records), or `?` if it is no longer registered.
fn link_name(state: &TenantState, link: &ActorRef<super::link::LinkMsg>) -> String {
    let links = state.ctx.links.read().unwrap_or_else(std::sync::PoisonError::into_inner);
    links.iter().find(|(_, l)| l.get_id() == link.get_id()).map_or_else(|| "?".to_owned(), |(n, _)| n.clone())
}

/// What the state store knows of an inbound UETR this tenant's memory has not (after a
/// restart, or let go of): the participant's status as relayed, and whether it was returned.
/// Received but never answered (the node stopped meanwhile) counts as unknown: it is
/// delivered again, and the participant's pacs.002 relayed as for a new one.
fn stored_inbound(state: &mut TenantState, uetr: &str) -> Result<Option<InboundSeen>, String> {
    let Some(row) = state.ctx.history.inbound(state.tenant.as_str(), uetr)? else { return Ok(None) };
    let Some(status) = row.status.as_deref().and_then(TxStatus::parse) else { return Ok(None) };
    let seen = InboundSeen::Answered {
        status,
        reason: row.reason.as_deref().and_then(ReasonCode::parse),
        link: row.link.as_str().into(),
        returned: row.returned,
        return_status: row.return_status.as_deref().and_then(TxStatus::parse),
    };
    remember_inbound(state, uetr, seen.clone());
    Ok(Some(seen))
}

/// Records what the tenant knows of an inbound UETR (replacing what it knew).
fn remember_inbound(state: &mut TenantState, uetr: &str, seen: InboundSeen) {
    if state.inbound.insert(uetr.to_owned(), seen).is_none() {
        state.inbound_order.push_back(uetr.to_owned());
        while state.inbound_order.len() > MAX_INBOUND_REMEMBERED {
            if let Some(oldest) = state.inbound_order.pop_front() {
                state.inbound.remove(&oldest);
            }
        }
    }
}

fn forget_inbound(state: &mut TenantState, uetr: &str) {
    if state.inbound.remove(uetr).is_some() {
        state.inbound_order.retain(|u| u != uetr);
    }
}

/// Refuses an inbound payment back to the clearing house (RJCT NARR): it may send it again.
fn refuse_inbound(
    state: &TenantState,
    uetr: &str,
    link: &ActorRef<super::link::LinkMsg>,
    correlation: u64,
    detail: &str,
) {
    let subject = StatusSubject::pacs008_by_uetr(uetr);
    let answer = state.ctx.status.pacs002(subject, TxStatus::RJCT, Some(ReasonCode::NARR), Some(detail));
    let _ = link.cast(super::link::LinkMsg::Relay { correlation, payload: answer });
}

/// A journaled inbound payment: delivered on a session (the participant's pacs.002 is relayed
/// back), or refused (RJCT) when no session takes it; a refused one may come again.
fn deliver_inbound(
    myself: &ActorRef<TenantMsg>,
    state: &mut TenantState,
    uetr: String,
    payload: Bytes,
    link: ActorRef<super::link::LinkMsg>,
    correlation: u64,
) {
    if deliver(state, payload).is_ok() {
        tracing::debug!(tenant = %state.tenant, %uetr, "inbound payment delivered");
        state.on_us.insert(uetr.clone(), Waiting::Clearing { link, correlation });
        arm_inbound_deadline(myself, state, uetr);
        return;
    }
    forget_inbound(state, &uetr);
    // Its receipt is journaled: journal the refusal too, so a restart does not deliver it.
    journal_inbound(state, &uetr, &link_name(state, &link), InboundPayment::REFUSED, None, &[]);
    let detail = format!("creditor tenant {} has no session connected; retry later", state.tenant);
    refuse_inbound(state, &uetr, &link, correlation, &detail);
}

/// Journals a change of an inbound payment's state that nothing waits for (a refusal, a
/// return's fate); a failure is logged (the state store then keeps the previous state).
fn journal_inbound(
    state: &TenantState,
    uetr: &str,
    link: &str,
    status: &str,
    reason: Option<&str>,
    message: &[u8],
) {
    let record = JournalRecord::Inbound(InboundPayment {
        tenant: state.tenant.to_string(),
        uetr: uetr.to_owned(),
        link: link.to_owned(),
        status: Some(status.to_owned()),
        reason: reason.map(str::to_owned),
        message: message.to_vec(),
        at_ms: state.ctx.clock.now_ms(),
    });
    let (tenant, uetr, status) = (state.tenant.clone(), uetr.to_owned(), status.to_owned());
    state.ctx.journal.append(
        &record,
        Box::new(move |result| {
            if let Err(failure) = result {
                tracing::error!(%tenant, %uetr, %status, %failure, "inbound payment's state not journaled");
            }
        }),
    );
}

/// Inbound payments received before a restart that the participant never answered: they wait
/// for its status again and are delivered to its next session (the clearing house may send
/// one again meanwhile: its frame is then answered by that status).
fn recover_inbound(state: &mut TenantState) {
    let open = match state.ctx.history.unanswered_inbound(state.tenant.as_str()) {
        Ok(open) => open,
        Err(error) => {
            tracing::error!(tenant = %state.tenant, %error, "unanswered inbound payments unreadable; delivered after a restart");
            return;
        }
    };
    if !open.is_empty() {
        tracing::info!(tenant = %state.tenant, payments = open.len(), "inbound payments unanswered before the restart: delivered again");
    }
    for (uetr, link, message) in open.into_iter().take(MAX_INBOUND_REMEMBERED) {
        remember_inbound(state, &uetr, InboundSeen::Pending);
        state.on_us.insert(uetr.clone(), Waiting::Recovered { link });
        state.redeliver.push_back((uetr, Bytes::from(message)));
    }
}

/// The creditor tenant's pacs.002 for an on-us payment delivered to it: settles or rejects the
/// debtor's payment. Only this tenant's pacs.002 can (the map is per tenant).
fn creditor_status(myself: &ActorRef<TenantMsg>, state: &mut TenantState, status: CreditorStatus) {
    let ctx = Arc::clone(&state.ctx);
    let tx = status.report.txs.first();
    let uetr = tx.and_then(|t| t.orgnl_uetr.as_ref()).map(|u| u.as_str().to_owned()).unwrap_or_default();
    let kind = match state.on_us.get(&uetr) {
        Some(Waiting::OnUs(_, kind)) => *kind,
        _ => crate::message::MessageKind::Pacs008,
    };
    let subject = StatusSubject {
        orgnl_msg_nm_id: kind.message_name(),
        orgnl_msg_id: &status.report.msg_id,
        orgnl_end_to_end_id: None,
        orgnl_uetr: Some(&uetr),
    };
    let Some(waiting) = state.on_us.get(&uetr).cloned() else {
        let detail = match state.inbound.get(&uetr) {
            Some(InboundSeen::Answered { status, reason, link, .. }) => format!(
                "already answered {}{} {}",
                status.as_str(),
                reason.map(|r| format!(" {}", r.as_str())).unwrap_or_default(),
                if link.starts_with(super::payment::ON_US_PREFIX) {
                    "to the debtor agent (on-us; the participant's answer timeout passed)"
                } else {
                    "to the clearing house"
                }
            ),
            _ => "no payment with this UETR is waiting for this tenant's status".to_owned(),
        };
        return status.from.answer(ctx.status.pacs002_proprietary(subject, case::INQUIRY_NOT_FOUND, &detail));
    };
    let Some(tx) = tx else { return };
    let payment = match waiting {
        Waiting::OnUs(payment, _) => payment,
        waiting @ (Waiting::Clearing { .. } | Waiting::Recovered { .. }) => {
            // The clearing house hears the participant's own pacs.002, once it is final.
            if !tx.tx_sts.is_final() {
                let detail = format!("{} noted; waiting for ACSC or RJCT", tx.tx_sts.as_str());
                return status.from.answer(ctx.status.pacs002(subject, TxStatus::ACTC, None, Some(&detail)));
            }
            let Some((link, name, correlation)) = clearing_side(state, &waiting) else { return };
            // Journaled before it is relayed or acknowledged (invariant 1): a clearing house
            // that did not hear it (link gone, or the node stopped) is answered from the record
            // when it sends the payment again. Until then a repeat is answered PDNG.
            state.on_us.remove(&uetr);
            let pending = InboundStatus {
                from: Some(status.from),
                orgnl_msg_id: status.report.msg_id.to_string(),
                kind,
                uetr,
                waiting,
                tx_sts: tx.tx_sts,
                reason: tx.reason,
                link,
                link_name: name,
                correlation,
                raw: Bytes::from(switchyard_iso20022::write_pacs002(&status.report)),
            };
            journal_inbound_status(myself, state, pending);
            return;
        }
    };
    let event = match tx.tx_sts {
        TxStatus::ACSC | TxStatus::ACCC => PaymentEvent::ClearingAnswered(Outcome::Settled),
        TxStatus::RJCT => {
            PaymentEvent::ClearingAnswered(Outcome::Rejected(tx.reason_code().unwrap_or("NARR").to_owned()))
        }
        other => {
            let detail = format!("{} noted; waiting for ACSC or RJCT", other.as_str());
            return status.from.answer(ctx.status.pacs002(subject, TxStatus::ACTC, None, Some(&detail)));
        }
    };
    state.on_us.remove(&uetr);
    state.cancels.remove(&uetr);
    if event == PaymentEvent::ClearingAnswered(Outcome::Settled) {
        state.returnable.push_back((uetr.clone(), kind));
        if state.returnable.len() > MAX_INBOUND_REMEMBERED {
            state.returnable.pop_front();
        }
    }
    let delivered = payment.cast(PaymentMsg::Event(event)).is_ok();
    let answer = if delivered {
        ctx.status.pacs002(subject, TxStatus::ACTC, None, Some("status accepted"))
    } else {
        ctx.status.pacs002_proprietary(subject, case::INQUIRY_NOT_FOUND, "the payment has already ended")
    };
    status.from.answer(answer);
}

/// Journals the answer to an inbound payment (the participant's status, or the node's AB05 at
/// the deadline); [`inbound_status_durable`] relays it once the record is durable. Until then
/// the payment is `Pending` (a repeat from the clearing house is answered PDNG).
fn journal_inbound_status(myself: &ActorRef<TenantMsg>, state: &mut TenantState, pending: InboundStatus) {
    remember_inbound(state, &pending.uetr, InboundSeen::Pending);
    let record = JournalRecord::Inbound(InboundPayment {
        tenant: state.tenant.to_string(),
        uetr: pending.uetr.clone(),
        link: pending.link_name.clone(),
        status: Some(pending.tx_sts.as_str().to_owned()),
        reason: pending.reason.map(|r| r.as_str().to_owned()),
        message: pending.raw.to_vec(),
        at_ms: state.ctx.clock.now_ms(),
    });
    let me = myself.clone();
    state.ctx.journal.append(
        &record,
        Box::new(move |result| {
            let _ = me.cast(TenantMsg::InboundStatusDurable(Box::new(pending), result));
        }),
    );
}

/// The answer to an inbound payment is durable: relayed to the clearing house (on the frame
/// it answers, or unsolicited on the named link after a restart) and the participant told so.
/// Not durable: nothing is relayed and the payment waits again — the participant is asked to
/// send its status again (RJCT NARR, busy), or the node's deadline answer is tried again.
fn inbound_status_durable(
    myself: &ActorRef<TenantMsg>,
    state: &mut TenantState,
    pending: InboundStatus,
    result: Result<u64, JournalFailure>,
) {
    let ctx = Arc::clone(&state.ctx);
    let subject = StatusSubject {
        orgnl_msg_nm_id: pending.kind.message_name(),
        orgnl_msg_id: &pending.orgnl_msg_id,
        orgnl_end_to_end_id: None,
        orgnl_uetr: Some(&pending.uetr),
    };
    if let Err(failure) = result {
        tracing::warn!(tenant = %state.tenant, uetr = %pending.uetr, %failure, "inbound status not journaled; not relayed");
        state.on_us.insert(pending.uetr.clone(), pending.waiting);
        let Some(from) = pending.from else {
            let uetr = pending.uetr;
            myself.send_after(INBOUND_DEADLINE_RETRY, move || TenantMsg::InboundDeadline { uetr });
            return;
        };
        let detail = format!("busy: {failure}; send the status again");
        let answer = ctx.status.pacs002(subject, TxStatus::RJCT, Some(ReasonCode::NARR), Some(&detail));
        return from.answer(answer);
    }
    let seen = InboundSeen::Answered {
        status: pending.tx_sts,
        reason: pending.reason,
        link: pending.link_name.as_str().into(),
        returned: false,
        return_status: None,
    };
    remember_inbound(state, &pending.uetr, seen);
    let relayed = pending.link.is_some_and(|l| {
        l.cast(super::link::LinkMsg::Relay { correlation: pending.correlation, payload: pending.raw }).is_ok()
    });
    let Some(from) = pending.from else { return };
    let answer = if relayed {
        ctx.status.pacs002(subject, TxStatus::ACTC, None, Some("status relayed to the clearing house"))
    } else {
        ctx.status.pacs002_proprietary(subject, case::INQUIRY_NOT_FOUND, "the clearing link has stopped")
    };
    from.answer(answer);
}

/// Where the answer to an inbound payment goes: the clearing link (if running), its name and
/// the frame it answers (0: unsolicited, after a restart); `None` for an on-us payment.
fn clearing_side(
    state: &TenantState,
    waiting: &Waiting,
) -> Option<(Option<ActorRef<super::link::LinkMsg>>, String, u64)> {
    match waiting {
        Waiting::Clearing { link, correlation } => {
            Some((Some(link.clone()), link_name(state, link), *correlation))
        }
        Waiting::Recovered { link: name } => {
            let links = state.ctx.links.read().unwrap_or_else(std::sync::PoisonError::into_inner);
            Some((links.get(name).cloned(), name.clone(), 0))
        }
        Waiting::OnUs(..) => None,
    }
}

/// A journal failure delays the node's deadline answer by this much before it is tried again.
const INBOUND_DEADLINE_RETRY: std::time::Duration = std::time::Duration::from_secs(1);

/// Starts the clock on the participant's answer to an inbound payment just delivered to it.
fn arm_inbound_deadline(myself: &ActorRef<TenantMsg>, state: &TenantState, uetr: String) {
    let after = std::time::Duration::from_millis(state.ctx.limits.payment.inbound_answer_timeout_ms);
    myself.send_after(after, move || TenantMsg::InboundDeadline { uetr });
}

/// The participant did not answer an inbound payment in time: the node answers the clearing
/// house RJCT AB05 (timeout at the creditor agent) for it, journaled first; the participant's
/// status, if it comes later, is refused as already answered. Nothing to do when the payment
/// was answered (or is being) meanwhile.
fn inbound_deadline(myself: &ActorRef<TenantMsg>, state: &mut TenantState, uetr: &str) {
    let Some((link, name, correlation)) = state.on_us.get(uetr).and_then(|w| clearing_side(state, w)) else {
        return;
    };
    let Some(waiting) = state.on_us.remove(uetr) else { return };
    let timeout_ms = state.ctx.limits.payment.inbound_answer_timeout_ms;
    tracing::warn!(tenant = %state.tenant, %uetr, timeout_ms, "inbound payment unanswered by the participant; answered RJCT AB05");
    let detail = format!("no answer from the creditor participant within {timeout_ms} ms");
    let subject = StatusSubject::pacs008_by_uetr(uetr);
    let raw = state.ctx.status.pacs002(subject, TxStatus::RJCT, Some(ReasonCode::AB05), Some(&detail));
    let pending = InboundStatus {
        from: None,
        orgnl_msg_id: "NOTPROVIDED".to_owned(),
        kind: crate::message::MessageKind::Pacs008,
        uetr: uetr.to_owned(),
        waiting,
        tx_sts: TxStatus::RJCT,
        reason: Some(ReasonCode::AB05),
        link,
        link_name: name,
        correlation,
        raw,
    };
    journal_inbound_status(myself, state, pending);
}

/// A cancellation request for an on-us payment delivered to this tenant and not yet answered
/// by its participant: forwarded to the participant, whose camt.029 decides it. Anything else
/// cannot be forwarded (the payment asking is answered RJCR by its machine).
fn forward_cancel(state: &mut TenantState, uetr: String, payload: Bytes, payment: &ActorRef<PaymentMsg>) {
    let undeliverable = |why: String| {
        let _ = payment.cast(PaymentMsg::Event(PaymentEvent::CancelUndeliverable(why)));
    };
    if !matches!(state.on_us.get(&uetr), Some(Waiting::OnUs(..))) {
        return undeliverable(format!("the payment is not waiting for creditor tenant {}", state.tenant));
    }
    if deliver(state, payload).is_err() {
        return undeliverable(format!("creditor tenant {} has no session connected", state.tenant));
    }
    tracing::info!(tenant = %state.tenant, %uetr, "on-us cancellation request forwarded (camt.056)");
    state.cancels.insert(uetr, payment.clone());
}

/// The participant's camt.029 for a forwarded cancellation request: relayed to the payment,
/// whose machine decides (CNCL: cancelled; RJCR: the payment goes on).
fn creditor_cancel_answer(state: &mut TenantState, answer: CreditorCancelAnswer) {
    let ctx = Arc::clone(&state.ctx);
    let mut subject = StatusSubject::pacs008_by_uetr(&answer.uetr);
    if let Some(Waiting::OnUs(_, kind)) = state.on_us.get(&answer.uetr) {
        subject.orgnl_msg_nm_id = kind.message_name();
    }
    let Some(payment) = state.cancels.remove(&answer.uetr) else {
        let detail = "no cancellation request for this UETR is waiting for this tenant's answer";
        return answer.from.answer(ctx.status.pacs002_proprietary(subject, case::INQUIRY_NOT_FOUND, detail));
    };
    if answer.cancelled {
        // Cancelled by the creditor: its pacs.002 is no longer awaited.
        state.on_us.remove(&answer.uetr);
    }
    let relayed = payment
        .cast(PaymentMsg::CancelAnswer { cancelled: answer.cancelled, payload: answer.payload })
        .is_ok();
    let reply = if relayed {
        ctx.status.pacs002(subject, TxStatus::ACTC, None, Some("cancellation answer relayed"))
    } else {
        ctx.status.pacs002_proprietary(subject, case::INQUIRY_NOT_FOUND, "the payment has already ended")
    };
    answer.from.answer(reply);
}

/// A participant returns a payment it settled as creditor. On-us: offered to every tenant as a
/// clearing house's pacs.004 is, so the debtor tenant journals `Returned` and delivers it.
/// Inbound (from a clearing house): see [`inbound_return`]. Only a UETR this tenant settled as
/// creditor may be returned (another tenant's payments cannot be touched).
fn participant_return(myself: &ActorRef<TenantMsg>, state: &mut TenantState, ret: ParticipantReturn) {
    let ctx = Arc::clone(&state.ctx);
    let Some(at) = state.returnable.iter().position(|(u, _)| *u == ret.uetr) else {
        return inbound_return(myself, state, ret);
    };
    let Some((_, kind)) = state.returnable.remove(at) else { return };
    let mut subject = StatusSubject::pacs008_by_uetr(&ret.uetr);
    subject.orgnl_msg_nm_id = kind.message_name();
    tracing::info!(tenant = %state.tenant, uetr = %ret.uetr, reason = %ret.reason, "on-us payment returned by its creditor (pacs.004)");
    let tenants = ctx.tenant_refs();
    let link = super::payment::on_us_name(state.tenant.as_str());
    let inbound =
        Arc::new(InboundReturn::new(ret.uetr.clone(), ret.reason, ret.payload, link, 0, tenants.len()));
    inbound.offer(&tenants, &*ctx.journal, ctx.clock.now_ms());
    ret.from.answer(ctx.status.pacs002(subject, TxStatus::ACTC, None, Some("return forwarded")));
}

/// A participant returns an inbound payment (one a clearing house sent it and it settled):
/// found by UETR in memory or the state store; journaled (`Inbound` with status `RETURNED`)
/// before the pacs.004 goes to the clearing link the payment arrived on; the clearing house's
/// pacs.002 for it is relayed to the participant. A payment already returned is refused
/// (`DUPL`).
fn inbound_return(myself: &ActorRef<TenantMsg>, state: &mut TenantState, ret: ParticipantReturn) {
    let ctx = Arc::clone(&state.ctx);
    let uetr = ret.uetr.clone();
    let subject = StatusSubject::pacs008_by_uetr(&uetr);
    let refuse = |ret: ParticipantReturn, reason: ReasonCode, detail: &str| {
        ret.from.answer(ctx.status.pacs002(subject, TxStatus::RJCT, Some(reason), Some(detail)));
    };
    let seen = match state.inbound.get(&ret.uetr) {
        Some(seen) => Some(seen.clone()),
        None => match stored_inbound(state, &ret.uetr) {
            Ok(seen) => seen,
            Err(error) => {
                tracing::error!(tenant = %state.tenant, uetr = %ret.uetr, %error, "inbound index unreadable");
                return refuse(ret, ReasonCode::NARR, "busy: the inbound index cannot be read; retry later");
            }
        },
    };
    let link = match seen {
        Some(InboundSeen::Answered { returned: true, return_status, .. }) => {
            let detail = match return_status {
                Some(status) => format!(
                    "the payment has already been returned (the clearing house answered {})",
                    status.as_str()
                ),
                None => "the payment has already been returned (the clearing house's answer is unknown)"
                    .to_owned(),
            };
            return refuse(ret, ReasonCode::DUPL, &detail);
        }
        Some(InboundSeen::Answered { status: TxStatus::ACSC | TxStatus::ACCC, link, .. }) => link,
        Some(_) => {
            return refuse(
                ret,
                ReasonCode::NARR,
                "the payment was not settled by this tenant; nothing to return",
            );
        }
        None => {
            let detail = "no payment settled by this tenant has this UETR";
            return ret.from.answer(ctx.status.pacs002_proprietary(subject, case::INQUIRY_NOT_FOUND, detail));
        }
    };
    if state.returning.contains_key(&ret.uetr) {
        return refuse(ret, ReasonCode::DUPL, "a return of this payment is in progress");
    }
    if state.returning.len() >= MAX_RETURNS_OUTSTANDING {
        let detail = format!(
            "busy: {MAX_RETURNS_OUTSTANDING} returns of this tenant wait for a clearing house's answer; retry later"
        );
        return refuse(ret, ReasonCode::NARR, &detail);
    }
    let configured = {
        let links = ctx.links.read().unwrap_or_else(std::sync::PoisonError::into_inner);
        links.contains_key(&*link)
    };
    if !configured {
        let detail =
            format!("the clearing link {link} the payment arrived on is not configured; retry later");
        return refuse(ret, ReasonCode::NARR, &detail);
    };
    set_returned(state, &ret.uetr, true);
    let record = JournalRecord::Inbound(InboundPayment {
        tenant: state.tenant.to_string(),
        uetr: ret.uetr.clone(),
        link: link.to_string(),
        status: Some(InboundPayment::RETURNED.to_owned()),
        reason: Some(ret.reason.clone()),
        message: ret.payload.to_vec(),
        at_ms: ctx.clock.now_ms(),
    });
    let me = myself.clone();
    let ret = Box::new(ret);
    ctx.journal.append(
        &record,
        Box::new(move |result| {
            let _ = me.cast(TenantMsg::InboundReturnDurable { ret, link, result });
        }),
    );
}

/// Marks an inbound payment in memory as returned (or returnable again).
fn set_returned(state: &mut TenantState, uetr: &str, value: bool) {
    if let Some(InboundSeen::Answered { returned, return_status, .. }) = state.inbound.get_mut(uetr) {
        *returned = value;
        if value {
            *return_status = None;
        }
    }
}

/// The return's record is durable: the pacs.004 goes to the clearing link, and the participant
/// waits for the clearing house's answer (at most the clearing timeout).
fn inbound_return_durable(
    myself: &ActorRef<TenantMsg>,
    state: &mut TenantState,
    ret: ParticipantReturn,
    link: Arc<str>,
    result: Result<u64, JournalFailure>,
) {
    if let Err(failure) = result {
        tracing::warn!(tenant = %state.tenant, uetr = %ret.uetr, %failure, "return not journaled; refused");
        set_returned(state, &ret.uetr, false);
        let subject = StatusSubject::pacs008_by_uetr(&ret.uetr);
        let detail = format!("busy: {failure}; retry later");
        let answer = state.ctx.status.pacs002(subject, TxStatus::RJCT, Some(ReasonCode::NARR), Some(&detail));
        return ret.from.answer(answer);
    }
    tracing::info!(tenant = %state.tenant, uetr = %ret.uetr, reason = %ret.reason, "inbound payment returned by its creditor (pacs.004)");
    let out = ReturnOut::new(Some(ret.from), link, ret.payload, &state.ctx.limits.iso);
    state.returning.insert(ret.uetr.clone(), out);
    send_return(myself, state, &ret.uetr, false);
}

impl ReturnOut {
    fn new(
        from: Option<super::case::Requester>,
        link: Arc<str>,
        payload: Bytes,
        limits: &switchyard_iso20022::Limits,
    ) -> Self {
        let msg_id = switchyard_iso20022::read_pacs004(&payload, limits)
            .map_or_else(|_| "NOTPROVIDED".to_owned(), |r| r.msg_id.to_string());
        let msg_name = super::case::message_identifier(&payload).unwrap_or("pacs.004.001.09").to_owned();
        Self { from, link, payload, msg_id, msg_name, round: 0, asking: false, inquiry: false }
    }
}

/// Sends a participant's return (its pacs.004), or a pacs.028 asking the clearing house about
/// it (`inquiry`), on the link the payment arrived on; the answer (or the clearing timeout,
/// [`ReturnAnswer::TimedOut`] of this round) comes back as [`TenantMsg::ReturnAnswer`].
fn send_return(myself: &ActorRef<TenantMsg>, state: &mut TenantState, uetr: &str, inquiry: bool) {
    let ctx = Arc::clone(&state.ctx);
    let Some(out) = state.returning.get_mut(uetr) else { return };
    out.round = out.round.saturating_add(1);
    out.asking = true;
    out.inquiry = inquiry;
    let round = out.round;
    let payload = if inquiry {
        let subject = StatusSubject {
            orgnl_msg_nm_id: &out.msg_name,
            orgnl_msg_id: &out.msg_id,
            orgnl_end_to_end_id: None,
            orgnl_uetr: Some(uetr),
        };
        tracing::info!(tenant = %state.tenant, %uetr, round, link = %out.link, "return with no answer: asking the clearing house (pacs.028)");
        ctx.status.pacs028(subject)
    } else {
        out.payload.clone()
    };
    let link = {
        let links = ctx.links.read().unwrap_or_else(std::sync::PoisonError::into_inner);
        links.get(&*out.link).cloned()
    };
    let msg =
        super::link::LinkMsg::Return { uetr: uetr.to_owned(), payload, tenant: myself.clone(), inquiry };
    if link.is_none_or(|link| link.cast(msg).is_err()) {
        let why = format!("the clearing link {} is not running", out.link);
        return return_answer(myself, state, uetr, ReturnAnswer::NotSent(why));
    }
    let after = std::time::Duration::from_millis(ctx.limits.payment.clearing_timeout_ms);
    let uetr = uetr.to_owned();
    myself.send_after(after, move || TenantMsg::ReturnAnswer {
        uetr,
        answer: ReturnAnswer::TimedOut { round },
    });
}

/// Returns journaled before a restart whose clearing house's answer never came (nor that they
/// were not sent): asked about again (pacs.028) once the tenant runs — at the first re-inquiry
/// delay, or when their link comes up, whichever is first.
fn recover_returns(myself: &ActorRef<TenantMsg>, state: &mut TenantState) {
    let open = match state.ctx.history.unanswered_returns(state.tenant.as_str()) {
        Ok(open) => open,
        Err(error) => {
            tracing::error!(tenant = %state.tenant, %error, "returns with no answer unreadable; asked about after a restart");
            return;
        }
    };
    if !open.is_empty() {
        tracing::info!(tenant = %state.tenant, returns = open.len(), "returns with no clearing answer before the restart: asked about again");
    }
    for (uetr, link, message) in open.into_iter().take(MAX_RETURNS_OUTSTANDING) {
        state.returning.insert(
            uetr.clone(),
            ReturnOut::new(None, Arc::from(link), Bytes::from(message), &state.ctx.limits.iso),
        );
        let after = reinquiry_delay_ms(state, 0);
        myself.send_after(std::time::Duration::from_millis(after), move || TenantMsg::ReaskReturn {
            uetr,
            round: 0,
        });
    }
}

/// What became of a participant's return (or of a pacs.028 about it):
/// - the clearing house's pacs.002 of it: journaled (`RETURN-<status>`, a `RJCT` makes the
///   payment returnable again), relayed to the participant as received if it still waits, else
///   delivered to it unsolicited; "not found" in answer to a pacs.028: the return never reached
///   the clearing house, so it is sent once more;
/// - not sent: the first send while the participant waits is journaled (`RETURN-NOT-SENT`, the
///   payment is returnable again, also after a restart) and refused RJCT (retryable); a later
///   send or inquiry is asked again after the re-inquiry delay;
/// - no answer in time: the participant is answered `PDNG` (nothing is journaled: the return
///   may have reached the clearing house) and the return is asked about after the delay.
fn return_answer(myself: &ActorRef<TenantMsg>, state: &mut TenantState, uetr: &str, answer: ReturnAnswer) {
    let Some(out) = state.returning.get_mut(uetr) else {
        tracing::info!(tenant = %state.tenant, %uetr, ?answer, "answer for a return already decided (late)");
        return;
    };
    match answer {
        ReturnAnswer::Status(payload) => {
            let tx = switchyard_iso20022::read_pacs002(&payload, &state.ctx.limits.iso)
                .ok()
                .and_then(|r| r.txs.into_iter().next());
            let Some(tx) = tx else {
                tracing::warn!(tenant = %state.tenant, %uetr, "unreadable answer to a return; asked about again later");
                out.asking = false;
                if let Some(from) = out.from.take() {
                    from.answer(payload);
                }
                return reask_return_later(myself, state, uetr);
            };
            if tx.tx_sts == TxStatus::RJCT
                && tx.reason_prtry.as_deref() == Some(super::link::NOT_FOUND_REASON)
            {
                // Only ever the answer to a pacs.028; to an earlier round's, it is stale.
                if out.inquiry && out.asking {
                    tracing::info!(tenant = %state.tenant, %uetr, "the clearing house has no record of the return: sent again");
                    return send_return(myself, state, uetr, false);
                }
                return;
            }
            if !matches!(tx.tx_sts, TxStatus::ACSC | TxStatus::ACCC | TxStatus::RJCT) {
                // Not an outcome (pending, in process): relayed if the participant waits, and
                // asked about again.
                out.asking = false;
                if let Some(from) = out.from.take() {
                    from.answer(payload);
                }
                return reask_return_later(myself, state, uetr);
            }
            let Some(out) = state.returning.remove(uetr) else { return };
            let status = format!("{}{}", InboundPayment::RETURN_ANSWER_PREFIX, tx.tx_sts.as_str());
            let reason = tx.reason.map(|r| r.as_str().to_owned()).or(tx.reason_prtry.map(Text::into_string));
            journal_inbound(state, uetr, &out.link, &status, reason.as_deref(), &payload);
            if let Some(InboundSeen::Answered { returned, return_status, .. }) = state.inbound.get_mut(uetr) {
                *return_status = Some(tx.tx_sts);
                if tx.tx_sts == TxStatus::RJCT {
                    *returned = false;
                }
            }
            match out.from {
                Some(from) => from.answer(payload),
                None => {
                    tracing::info!(tenant = %state.tenant, %uetr, status = tx.tx_sts.as_str(), "the clearing house's answer to a return, after it was answered PDNG: delivered");
                    deliver_or_keep(state, uetr, payload);
                }
            }
        }
        ReturnAnswer::NotSent(why) => {
            if out.round == 1 && out.from.is_some() {
                let Some(out) = state.returning.remove(uetr) else { return };
                journal_inbound(state, uetr, &out.link, InboundPayment::RETURN_NOT_SENT, None, &[]);
                set_returned(state, uetr, false);
                if let Some(from) = out.from {
                    let subject = StatusSubject::pacs008_by_uetr(uetr);
                    let detail = format!("return not forwarded: {why}; retry later");
                    from.answer(state.ctx.status.pacs002(
                        subject,
                        TxStatus::RJCT,
                        Some(ReasonCode::NARR),
                        Some(&detail),
                    ));
                }
                return;
            }
            tracing::info!(tenant = %state.tenant, %uetr, %why, "return's inquiry not sent; asked again later");
            out.asking = false;
            reask_return_later(myself, state, uetr);
        }
        ReturnAnswer::TimedOut { round } => {
            if round != out.round || !out.asking {
                return; // an earlier round's timer
            }
            out.asking = false;
            if let Some(from) = out.from.take() {
                let subject = StatusSubject::pacs008_by_uetr(uetr);
                let detail = "return forwarded; the clearing house has not answered yet";
                from.answer(state.ctx.status.pacs002(subject, TxStatus::PDNG, None, Some(detail)));
            }
            reask_return_later(myself, state, uetr);
        }
    }
}

/// Schedules the next inquiry about a return with no answer: the re-inquiry delay of its round
/// (capped exponential with jitter), or sooner when its link comes up.
fn reask_return_later(myself: &ActorRef<TenantMsg>, state: &TenantState, uetr: &str) {
    let Some(out) = state.returning.get(uetr) else { return };
    let round = out.round;
    let after = reinquiry_delay_ms(state, round);
    tracing::info!(tenant = %state.tenant, %uetr, round, after_ms = after, "return with no answer from the clearing house; asked about later");
    let uetr = uetr.to_owned();
    myself
        .send_after(std::time::Duration::from_millis(after), move || TenantMsg::ReaskReturn { uetr, round });
}

/// Delivers a message to the participant on its first session that takes it. A session whose
/// writer is full (or closing) is skipped, not forgotten: it leaves the list when it detaches.
/// Deliveries are bounded by what causes them (debtors' credit windows for on-us payments).
fn deliver(state: &TenantState, payload: Bytes) -> Result<(), Bytes> {
    for (_, outbound) in &state.sessions {
        let msg = WireMsg { kind: WireKind::Deliver, correlation: 0, payload: payload.clone() };
        if outbound.0.send(msg).is_ok() {
            return Ok(());
        }
    }
    Err(payload)
}

fn in_flight_gauge(state: &TenantState) {
    ::metrics::gauge!(metrics::IN_FLIGHT, "tenant" => state.tenant.to_string())
        .set(state.admission.in_flight() as f64);
}

/// The delay before re-inquiry round `round` (of an in-doubt payment or of a return with no
/// answer): `PaymentLimits::reinquiry_delay_ms` with a jitter draw from the RNG.
fn reinquiry_delay_ms(state: &TenantState, round: u32) -> u64 {
    use rand::Rng;
    let jitter = crate::payment::Jitter(rand::thread_rng().gen_range(0..1_000_000));
    state.ctx.limits.payment.reinquiry_delay_ms(round, jitter)
}

/// A payment was reported in doubt: schedule its next re-inquiry round (capped exponential
/// delay with jitter, `PaymentLimits::reinquiry_delay_ms`).
fn unresolved(myself: &ActorRef<TenantMsg>, state: &mut TenantState, accepted: Box<AcceptedPayment>) {
    let uetr = accepted.uetr.clone();
    let entry = state.in_doubt.entry(uetr.clone()).or_insert(InDoubt { accepted, round: 0, waiting: true });
    entry.round = entry.round.saturating_add(1);
    entry.waiting = true;
    let round = entry.round;
    let after = reinquiry_delay_ms(state, round);
    tracing::info!(tenant = %state.tenant, %uetr, round, after_ms = after, "payment in doubt; status inquiries resume later");
    myself.send_after(std::time::Duration::from_millis(after), move || TenantMsg::Reinquire { uetr, round });
}

/// Resumes an in-doubt payment as a recovered one: it asks every candidate link (pacs.028)
/// and submits again only after all of them answered "not found" (invariant 4).
async fn reinquire(
    myself: &ActorRef<TenantMsg>,
    state: &mut TenantState,
    uetr: &str,
) -> Result<(), ActorProcessingErr> {
    if state.live.contains_key(uetr) {
        return Ok(()); // already being asked about (or replayed)
    }
    if !matches!(state.admission.lookup(uetr), Some(Known::Final(Outcome::InDoubt))) {
        state.in_doubt.remove(uetr); // resolved some other way meanwhile
        return Ok(());
    }
    let Some(entry) = state.in_doubt.get_mut(uetr) else { return Ok(()) };
    entry.waiting = false;
    let accepted = (*entry.accepted).clone();
    metrics::reinquiry(state.tenant.as_str());
    tracing::info!(tenant = %state.tenant, %uetr, round = entry.round, "re-inquiry of an in-doubt payment");
    resume(myself, state, accepted).await
}

async fn resume(
    myself: &ActorRef<TenantMsg>,
    state: &mut TenantState,
    mut accepted: AcceptedPayment,
) -> Result<(), ActorProcessingErr> {
    let raw = Bytes::from(std::mem::take(&mut accepted.message));
    state.ctx.counters.in_flight.fetch_add(1, Ordering::Relaxed);
    // The acceptance record keeps the message as sent: read it again for its kind (from its
    // namespace) and the routing facts.
    let kind = crate::message::MessageKind::of_raw(&raw).unwrap_or_default();
    let facts = crate::message::PaymentMessage::read(kind, &raw, &state.ctx.limits.iso)
        .map(|m| RouteFacts::of(&m))
        .unwrap_or(RouteFacts { kind, ..RouteFacts::default() });
    spawn_payment(myself, state, accepted, raw, None, facts).await
}

async fn spawn_payment(
    myself: &ActorRef<TenantMsg>,
    state: &mut TenantState,
    mut record: AcceptedPayment,
    raw: Bytes,
    reply: Option<Reply>,
    facts: RouteFacts,
) -> Result<(), ActorProcessingErr> {
    // One copy of the message per in-flight payment (issue 9's memory goal): `raw`.
    record.message = Vec::new();
    let args = PaymentArgs {
        facts,
        tenant: state.tenant.clone(),
        tenant_ref: myself.clone(),
        record,
        raw,
        reply,
        ctx: Arc::clone(&state.ctx),
    };
    let uetr = args.record.uetr.clone();
    let (payment, _) = Actor::spawn_linked(None, PaymentActor, args, myself.get_cell()).await?;
    state.live.insert(uetr, payment);
    Ok(())
}
