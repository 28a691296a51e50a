//! `PaymentActor`: one payment, from durable acceptance to a durable, reported outcome.
//!
//! Owns: the [`PaymentMachine`], the participant's reply path (connection, correlation id, the
//! credit the submission took), and which clearing links the payment may be at. Mailbox bound:
//! a handful of messages (one per pending timer, link answer or journal callback). Waits on:
//! nothing; the link and the journal answer through casts. Failure policy: never fails on input;
//! if the actor dies, the tenant logs it and the payment is resumed from the journal on recovery.
//! Stops itself once its outcome is reported, which releases the credit.
//!
//! Where inquiries go: a fresh payment asks the link it was last sent to. A payment resumed after
//! a restart does not know where it went, so it asks every candidate link in turn and treats
//! "not found" as final only when all of them said so (invariant 4 holds with alternate routes).

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use ractor::{Actor, ActorProcessingErr, ActorRef};
use switchyard_iso20022::{ReasonCode, TxStatus};
use tokio::sync::OwnedSemaphorePermit;

use super::case::{CancelRequest, InquiryRequest};
use super::context::NodeContext;
use super::link::{LinkMsg, SubmitKind};
use super::status::StatusSubject;
use super::tenant::TenantMsg;
use crate::domain::{Outcome, TenantId};
use crate::payment::{CancelAnswer, Jitter, PaymentEffect, PaymentEvent, PaymentMachine, Phase};
use crate::ports::{Outbound, WireKind, WireMsg};
use crate::record::{AcceptedPayment, JournalRecord, PaymentOutcome};
use crate::route::RouteQuery;

/// The payment actor.
#[derive(Debug, Default)]
pub struct PaymentActor;

/// How to answer the participant that submitted the payment.
pub struct Reply {
    pub outbound: Arc<dyn Outbound>,
    pub correlation: u64,
    pub credit: OwnedSemaphorePermit,
    /// When the submission's frame was read (node-internal final latency).
    pub received: std::time::Instant,
}

impl std::fmt::Debug for Reply {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Reply").field("correlation", &self.correlation).finish_non_exhaustive()
    }
}

/// Startup arguments.
#[derive(Debug)]
pub struct PaymentArgs {
    pub tenant: TenantId,
    pub tenant_ref: ActorRef<TenantMsg>,
    /// The acceptance record, without its `message` (one copy per payment is enough: `raw`).
    pub record: AcceptedPayment,
    /// The message as the participant sent it (the acceptance record's `message`).
    pub raw: Bytes,
    /// `None` for a payment resumed by recovery (its connection is gone).
    pub reply: Option<Reply>,
    pub ctx: Arc<NodeContext>,
    /// Routing facts of the message that the acceptance record does not carry.
    pub facts: RouteFacts,
}

/// Facts from the message that routing rules may match on, beyond the acceptance record.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RouteFacts {
    /// Which payment message it is: the routing key `message_type`, and which of the scheme
    /// gate's legs (pacs.008 or pacs.009) a link sends.
    pub kind: crate::message::MessageKind,
    /// `SttlmInf/ClrSys/Cd`.
    pub clearing_system: Option<String>,
    /// `PmtTpInf/SvcLvl/Cd` of the transaction.
    pub service_level: Option<String>,
}

impl RouteFacts {
    /// The facts of a parsed payment message (its first transaction).
    #[must_use]
    pub fn of(message: &crate::message::PaymentMessage) -> Self {
        Self {
            kind: message.kind(),
            clearing_system: message.clearing_system().map(str::to_owned),
            service_level: message.service_level().map(str::to_owned),
        }
    }
}

/// Payment messages: machine events, from links, timers and the journal; participant requests.
#[derive(Debug)]
pub enum PaymentMsg {
    Event(PaymentEvent),
    /// A status inquiry (pacs.028) from the tenant's participant.
    Inquiry(Box<InquiryRequest>),
    /// A cancellation request (camt.056) from the tenant's participant.
    Cancel(Box<CancelRequest>),
    /// The clearing house's camt.029 to a forwarded cancellation request.
    CancelAnswer {
        cancelled: bool,
        payload: Bytes,
    },
    /// The tenant has recorded the outcome: stop (after answering anything queued before this).
    Stop,
}

/// Payment state: the machine, its arguments, and where the payment may be.
#[derive(Debug)]
pub struct PaymentState {
    machine: PaymentMachine,
    args: PaymentArgs,
    /// The link the last submission went to (fresh payments).
    sent_to: Option<String>,
    /// Recovered payments: links that have not yet said "not found".
    unasked: Vec<String>,
    /// The link the outstanding inquiry went to.
    inquiring_at: Option<String>,
    /// The participant waiting for the answer to its cancellation request.
    canceller: Option<CancelRequest>,
    /// The clearing house's camt.029, to be relayed to `canceller`.
    relay: Option<Bytes>,
    /// Pending deadline and retry timers. Each holds a reference to this actor until it fires,
    /// which would keep the stopped actor's cell and mailboxes in memory for up to the clearing
    /// timeout after the payment ended (RSS 565 MiB at 6,000/s with ~100 payments in flight,
    /// found by the overload run, docs/RELIABILITY.md §6); aborted when the actor stops.
    timers: Vec<Timer>,
}

type Timer = ractor::concurrency::JoinHandle<Result<(), ractor::MessagingErr<PaymentMsg>>>;

impl Actor for PaymentActor {
    type Msg = PaymentMsg;
    type State = PaymentState;
    type Arguments = PaymentArgs;

    async fn pre_start(
        &self,
        _myself: ActorRef<PaymentMsg>,
        args: PaymentArgs,
    ) -> Result<PaymentState, ActorProcessingErr> {
        let unasked = match (&args.reply, args.ctx.owner_of_institution(&args.record.creditor_agent)) {
            (Some(_), _) => Vec::new(),
            // On-us: the creditor tenant is the only one that can have it.
            (None, Some(creditor)) => vec![on_us_name(&creditor)],
            (None, None) => candidates(&args),
        };
        Ok(PaymentState {
            machine: PaymentMachine::new(args.ctx.limits.payment),
            args,
            sent_to: None,
            unasked,
            inquiring_at: None,
            canceller: None,
            relay: None,
            timers: Vec::new(),
        })
    }

    async fn post_stop(
        &self,
        _myself: ActorRef<PaymentMsg>,
        state: &mut PaymentState,
    ) -> Result<(), ActorProcessingErr> {
        // Counted in when admitted (or resumed) by the tenant; counted out here, whatever ended it.
        state.args.ctx.counters.in_flight.fetch_sub(1, std::sync::atomic::Ordering::Relaxed);
        for timer in state.timers.drain(..) {
            timer.abort();
        }
        Ok(())
    }

    async fn post_start(
        &self,
        myself: ActorRef<PaymentMsg>,
        state: &mut PaymentState,
    ) -> Result<(), ActorProcessingErr> {
        let first = if state.args.reply.is_some() { PaymentEvent::Started } else { PaymentEvent::Recovered };
        let _span = span(&state.args).entered();
        apply(&myself, state, first);
        Ok(())
    }

    async fn handle(
        &self,
        myself: ActorRef<PaymentMsg>,
        message: PaymentMsg,
        state: &mut PaymentState,
    ) -> Result<(), ActorProcessingErr> {
        let event = match message {
            PaymentMsg::Event(event) => event,
            PaymentMsg::Inquiry(mut request) => {
                request.kind = Some(state.args.facts.kind);
                answer_inquiry(state, *request);
                return Ok(());
            }
            PaymentMsg::Cancel(mut request) => {
                request.kind = Some(state.args.facts.kind);
                if state.canceller.is_some() {
                    let detail = "a cancellation request for this payment is already in progress";
                    request.refused(&state.args.ctx, "ARPL", detail);
                    return Ok(());
                }
                state.canceller = Some(*request);
                PaymentEvent::CancelRequested
            }
            PaymentMsg::CancelAnswer { cancelled, payload } => {
                state.relay = Some(payload);
                PaymentEvent::CancelAnswered { cancelled }
            }
            PaymentMsg::Stop => {
                myself.stop(None);
                return Ok(());
            }
        };
        let event = match event {
            PaymentEvent::NotFound => match not_found(state) {
                Some(event) => event,
                None => return Ok(()),
            },
            other => other,
        };
        let _span = span(&state.args).entered();
        apply(&myself, state, event);
        Ok(())
    }
}

/// Every step of a payment runs inside this span, so each log line of it carries the tenant
/// and the UETR (and nothing else of the payment: no names, no accounts).
fn span(args: &PaymentArgs) -> tracing::Span {
    tracing::info_span!("payment", tenant = %args.tenant, uetr = %args.record.uetr)
}

/// A "not found" answer: final only once no candidate link is left to ask.
fn not_found(state: &mut PaymentState) -> Option<PaymentEvent> {
    if let Some(link) = state.inquiring_at.take() {
        state.unasked.retain(|l| l != &link);
    }
    if state.unasked.is_empty() {
        Some(PaymentEvent::NotFound)
    } else {
        // Ask the next candidate as if this inquiry had not been answered.
        let crate::payment::Phase::Inquiring { inquiry, .. } = state.machine.phase else {
            return None;
        };
        Some(PaymentEvent::DeadlineReached { attempt: current_attempt(state), inquiry })
    }
}

fn current_attempt(state: &PaymentState) -> u32 {
    match state.machine.phase {
        crate::payment::Phase::Inquiring { attempt, .. }
        | crate::payment::Phase::AwaitingClearing { attempt } => attempt,
        _ => 0,
    }
}

fn candidates(args: &PaymentArgs) -> Vec<String> {
    let query = RouteQuery {
        tenant: args.tenant.as_str(),
        message_type: args.facts.kind.as_str(),
        currency: &args.record.currency,
        amount_minor: args.record.amount_minor,
        creditor_agent: &args.record.creditor_agent,
        clearing_system: args.facts.clearing_system.as_deref(),
        service_level: args.facts.service_level.as_deref(),
    };
    args.ctx.routes().candidates(&query)
}

/// What the payment's statuses and inquiries are about (the original message's name by kind).
fn subject(args: &PaymentArgs) -> StatusSubject<'_> {
    let record = &args.record;
    StatusSubject {
        orgnl_msg_nm_id: args.facts.kind.message_name(),
        orgnl_msg_id: &record.msg_id,
        orgnl_end_to_end_id: Some(&record.end_to_end_id),
        orgnl_uetr: Some(&record.uetr),
    }
}

/// Answers a status inquiry from the machine's phase.
fn answer_inquiry(state: &PaymentState, request: InquiryRequest) {
    let ctx = &state.args.ctx;
    match &state.machine.phase {
        Phase::Accepted | Phase::Routing { .. } | Phase::Backoff { .. } => {
            request.answer(ctx, TxStatus::ACTC, None, "accepted; not yet at a clearing house");
        }
        Phase::AwaitingClearing { .. } | Phase::Inquiring { .. } | Phase::Finalizing(_) => {
            request.answer(ctx, TxStatus::PDNG, None, "at the clearing house; outcome pending");
        }
        Phase::Done(outcome) => {
            request.answer(ctx, outcome.tx_status(), outcome.reason(), outcome.label());
        }
    }
}

/// A jitter draw for the machine's next retry (the shell's RNG; the machine has none).
fn jitter() -> Jitter {
    use rand::Rng;
    Jitter(rand::thread_rng().gen_range(0..1_000_000))
}

fn apply(myself: &ActorRef<PaymentMsg>, state: &mut PaymentState, event: PaymentEvent) {
    let now = state.args.ctx.clock.now_ms();
    for effect in state.machine.step_with_jitter(event, now, jitter()) {
        match effect {
            PaymentEffect::Submit { attempt } => submit(myself, state, attempt),
            PaymentEffect::Inquire { inquiry } => inquire(myself, state, inquiry),
            PaymentEffect::ScheduleRetry { after_ms } => {
                let timer = myself.send_after(Duration::from_millis(after_ms), || {
                    PaymentMsg::Event(PaymentEvent::RetryDue)
                });
                keep(state, timer);
            }
            PaymentEffect::ScheduleDeadline { attempt, inquiry, after_ms } => {
                let timer = myself.send_after(Duration::from_millis(after_ms), move || {
                    PaymentMsg::Event(PaymentEvent::DeadlineReached { attempt, inquiry })
                });
                keep(state, timer);
            }
            PaymentEffect::ReportTimeout => {
                if let Some(link) = state.sent_to.as_deref().and_then(|l| state.args.ctx.link(l)) {
                    let _ = link.cast(LinkMsg::Timeout { uetr: state.args.record.uetr.clone() });
                }
            }
            PaymentEffect::JournalOutcome(outcome) => journal_outcome(myself, state, outcome),
            PaymentEffect::Report(outcome) => report(state, &outcome),
            PaymentEffect::ForwardCancel => forward_cancel(myself, state),
            PaymentEffect::AnswerCancel(answer) => answer_cancel(state, answer),
        }
    }
}

/// Keeps a pending timer (forgetting those that fired) so that stopping aborts it.
fn keep(state: &mut PaymentState, timer: Timer) {
    state.timers.retain(|t| !t.is_finished());
    state.timers.push(timer);
}

fn unavailable(myself: &ActorRef<PaymentMsg>, why: &str) {
    let _ = myself.cast(PaymentMsg::Event(PaymentEvent::LinkUnavailable(why.to_owned())));
}

/// The name payments use for the on-us "link" of a creditor tenant (also the `link` the
/// creditor tenant records for its answers and returns of on-us payments).
pub(super) fn on_us_name(tenant: &str) -> String {
    format!("{ON_US_PREFIX}{tenant}")
}

/// A running tenant by name.
fn tenant_ref(state: &PaymentState, tenant: &str) -> Option<ActorRef<TenantMsg>> {
    let tenants = state.args.ctx.tenants.read().unwrap_or_else(std::sync::PoisonError::into_inner);
    tenants.get(tenant).cloned()
}

/// Prefix of `sent_to` for a payment delivered on-us.
pub(super) const ON_US_PREFIX: &str = "on-us:";

fn submit(myself: &ActorRef<PaymentMsg>, state: &mut PaymentState, attempt: u32) {
    if let Some(creditor) = state.args.ctx.owner_of_institution(&state.args.record.creditor_agent) {
        // On-us: both agents are tenants of this node; the creditor tenant is the "clearing house".
        let Some(tenant) = tenant_ref(state, &creditor) else {
            return unavailable(myself, &format!("creditor tenant {creditor} is not running"));
        };
        tracing::debug!(tenant = %state.args.tenant, uetr = %state.args.record.uetr, attempt, %creditor, "delivering on-us");
        state.sent_to = Some(on_us_name(&creditor));
        let msg = TenantMsg::DeliverOnUs {
            uetr: state.args.record.uetr.clone(),
            payload: state.args.raw.clone(),
            payment: myself.clone(),
        };
        if tenant.cast(msg).is_err() {
            unavailable(myself, &format!("creditor tenant {creditor} is not running"));
        }
        return;
    }
    let links = candidates(&state.args);
    if links.is_empty() {
        return unavailable(myself, "no route");
    }
    // Attempt n goes to the n-th candidate, wrapping: failover without a separate state.
    let index = usize::try_from(attempt.saturating_sub(1)).unwrap_or(0) % links.len();
    let name = &links[index];
    let Some(link) = state.args.ctx.link(name) else {
        return unavailable(myself, &format!("link {name} is not running"));
    };
    // The scheme leg of this link (docs/SCHEMES.md); never sent when the scheme refuses it.
    let (ctx, kind) = (&state.args.ctx, state.args.facts.kind);
    let payload = match crate::scheme::leg_for(ctx, name, kind, &state.args.raw, &ctx.limits.iso) {
        Ok(payload) => payload,
        Err(why) => return unavailable(myself, &why),
    };
    tracing::debug!(tenant = %state.args.tenant, uetr = %state.args.record.uetr, attempt, link = %name, "submitting to clearing");
    state.sent_to = Some(name.clone());
    let msg = LinkMsg::Submit {
        kind: SubmitKind::Payment,
        uetr: state.args.record.uetr.clone(),
        payload,
        reply: myself.clone(),
    };
    if link.cast(msg).is_err() {
        unavailable(myself, "link actor stopped");
    }
}

fn inquire(myself: &ActorRef<PaymentMsg>, state: &mut PaymentState, inquiry: u32) {
    let target = state.sent_to.clone().or_else(|| {
        let n = usize::try_from(inquiry.saturating_sub(1)).unwrap_or(0);
        (!state.unasked.is_empty()).then(|| state.unasked[n % state.unasked.len()].clone())
    });
    let Some(name) = target else {
        return unavailable(myself, "no link to ask");
    };
    if let Some(creditor) = name.strip_prefix(ON_US_PREFIX) {
        // On-us: the creditor tenant answers for its participant (`TenantMsg::OnUsInquiry`).
        let Some(tenant) = tenant_ref(state, creditor) else {
            return unavailable(myself, &format!("creditor tenant {creditor} is not running"));
        };
        tracing::info!(tenant = %state.args.tenant, uetr = %state.args.record.uetr, inquiry, %creditor, "on-us inquiry to the creditor tenant");
        state.inquiring_at = Some(name.clone());
        let msg = TenantMsg::OnUsInquiry { uetr: state.args.record.uetr.clone(), payment: myself.clone() };
        if tenant.cast(msg).is_err() {
            unavailable(myself, &format!("creditor tenant {creditor} is not running"));
        }
        return;
    }
    let Some(link) = state.args.ctx.link(&name) else {
        return unavailable(myself, &format!("link {name} is not running"));
    };
    tracing::info!(tenant = %state.args.tenant, uetr = %state.args.record.uetr, inquiry, link = %name, "status inquiry (pacs.028)");
    metrics::counter!(crate::metrics::INQUIRIES, "link" => name.clone()).increment(1);
    state.inquiring_at = Some(name);
    let payload = state.args.ctx.status.pacs028(subject(&state.args));
    let msg = LinkMsg::Submit {
        kind: SubmitKind::Inquiry,
        uetr: state.args.record.uetr.clone(),
        payload,
        reply: myself.clone(),
    };
    if link.cast(msg).is_err() {
        unavailable(myself, "link actor stopped");
    }
}

fn journal_outcome(myself: &ActorRef<PaymentMsg>, state: &PaymentState, outcome: Outcome) {
    let args = &state.args;
    let record = JournalRecord::Outcome(PaymentOutcome {
        tenant: args.tenant.to_string(),
        uetr: args.record.uetr.clone(),
        outcome,
        inquiries: state.machine.inquiries_sent,
        at_ms: args.ctx.clock.now_ms(),
    });
    let me = myself.clone();
    args.ctx.journal.append(
        &record,
        Box::new(move |result| {
            let event = match result {
                Ok(_) => PaymentEvent::OutcomeDurable,
                Err(failure) => {
                    // Not durable: write it again shortly; nothing is reported until it is.
                    tracing::warn!(%failure, "outcome not journaled; retrying");
                    me.send_after(Duration::from_millis(10), || {
                        PaymentMsg::Event(PaymentEvent::OutcomeNotDurable)
                    });
                    return;
                }
            };
            let _ = me.cast(PaymentMsg::Event(event));
        }),
    );
}

/// Sends the participant's cancellation request to the clearing link the payment went to.
fn forward_cancel(myself: &ActorRef<PaymentMsg>, state: &PaymentState) {
    let undeliverable = |why: &str| {
        let _ = myself.cast(PaymentMsg::Event(PaymentEvent::CancelUndeliverable(why.to_owned())));
    };
    let Some(request) = state.canceller.as_ref() else { return undeliverable("no request") };
    let Some(name) = state.sent_to.clone().or_else(|| state.inquiring_at.clone()) else {
        return undeliverable("no clearing link known for this payment");
    };
    if let Some(creditor) = name.strip_prefix(ON_US_PREFIX) {
        // On-us: the creditor tenant's participant decides, as a clearing house would.
        let Some(tenant) = tenant_ref(state, creditor) else {
            return undeliverable(&format!("creditor tenant {creditor} is not running"));
        };
        tracing::info!(tenant = %state.args.tenant, uetr = %state.args.record.uetr, %creditor, "on-us cancellation request forwarded (camt.056)");
        let msg = TenantMsg::ForwardCancel {
            uetr: state.args.record.uetr.clone(),
            payload: request.raw.clone(),
            payment: myself.clone(),
        };
        if tenant.cast(msg).is_err() {
            undeliverable(&format!("creditor tenant {creditor} is not running"));
        }
        return;
    }
    let Some(link) = state.args.ctx.link(&name) else {
        return undeliverable(&format!("link {name} is not running"));
    };
    tracing::info!(tenant = %state.args.tenant, uetr = %state.args.record.uetr, link = %name, "cancellation request forwarded (camt.056)");
    let msg = LinkMsg::Submit {
        kind: SubmitKind::Cancel,
        uetr: state.args.record.uetr.clone(),
        payload: request.raw.clone(),
        reply: myself.clone(),
    };
    if link.cast(msg).is_err() {
        undeliverable("link actor stopped");
    }
}

/// Answers the cancellation requester (camt.029).
fn answer_cancel(state: &mut PaymentState, answer: CancelAnswer) {
    let Some(request) = state.canceller.take() else { return };
    let ctx = &state.args.ctx;
    metrics::counter!(crate::metrics::CANCELLATIONS, "tenant" => state.args.tenant.to_string(),
        "answer" => match &answer { CancelAnswer::Cancelled => "cancelled", CancelAnswer::Refused { .. } => "refused", CancelAnswer::Relay => "relayed" })
    .increment(1);
    match answer {
        CancelAnswer::Cancelled => request.cancelled(ctx, "cancelled before it reached a clearing house"),
        CancelAnswer::Refused { reason, detail } => request.refused(ctx, reason, &detail),
        CancelAnswer::Relay => match state.relay.take() {
            Some(payload) => request.from.answer(payload),
            None => request.refused(ctx, "AGNT", "the clearing house's answer was lost"),
        },
    }
}

fn report(state: &mut PaymentState, outcome: &Outcome) {
    let args = &mut state.args;
    tracing::debug!(tenant = %args.tenant, uetr = %args.record.uetr, ?outcome, "payment outcome");
    let label = outcome.label();
    crate::metrics::outcome(args.tenant.as_str(), label, args.reply.as_ref().map(|r| r.received.elapsed()));
    if let Some(reply) = args.reply.take() {
        let detail = match outcome {
            Outcome::DeadLettered(why) => Some(why.as_str()),
            Outcome::InDoubt => Some("outcome unknown at the clearing house; status inquiries continue"),
            Outcome::Cancelled(why) => Some(why.as_str()),
            _ => None,
        };
        let reason = outcome.reason().or_else(|| (!outcome.is_final()).then_some(ReasonCode::NARR));
        let payload = args.ctx.status.pacs002(subject(args), outcome.tx_status(), reason, detail);
        let _ =
            reply.outbound.send(WireMsg { kind: WireKind::Status, correlation: reply.correlation, payload });
        drop(reply.credit);
    }
    // Free the window slot wherever the payment (or an inquiry about it) went.
    let mut links = candidates(args);
    links.extend(state.sent_to.iter().chain(state.inquiring_at.iter()).cloned());
    links.sort();
    links.dedup();
    for link in links.iter().filter_map(|l| args.ctx.link(l)) {
        let _ = link.cast(LinkMsg::Release { uetr: args.record.uetr.clone() });
    }
    if *outcome == Outcome::InDoubt {
        // Not the end: the tenant asks again later (a new round of inquiries, never a resend).
        // The record travels without its message while the payment runs (`raw` holds it).
        let record = AcceptedPayment { message: args.raw.to_vec(), ..args.record.clone() };
        let _ = args.tenant_ref.cast(TenantMsg::Unresolved(Box::new(record)));
    }
    // The tenant answers with Stop once it has recorded the outcome.
    let _ = args
        .tenant_ref
        .cast(TenantMsg::Finished { uetr: args.record.uetr.clone(), outcome: outcome.clone() });
}
