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
use switchyard_iso20022::ReasonCode;
use tokio::sync::OwnedSemaphorePermit;

use super::context::NodeContext;
use super::link::{LinkMsg, SubmitKind};
use super::status::StatusSubject;
use super::tenant::TenantMsg;
use crate::domain::{Outcome, TenantId};
use crate::payment::{PaymentEffect, PaymentEvent, PaymentMachine};
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
    pub record: AcceptedPayment,
    /// The message to submit to the clearing house.
    pub raw: Bytes,
    /// `None` for a payment resumed by recovery (its connection is gone).
    pub reply: Option<Reply>,
    pub ctx: Arc<NodeContext>,
}

/// Payment messages: machine events, from links, timers and the journal.
#[derive(Debug)]
pub enum PaymentMsg {
    Event(PaymentEvent),
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
}

impl Actor for PaymentActor {
    type Msg = PaymentMsg;
    type State = PaymentState;
    type Arguments = PaymentArgs;

    async fn pre_start(
        &self,
        _myself: ActorRef<PaymentMsg>,
        args: PaymentArgs,
    ) -> Result<PaymentState, ActorProcessingErr> {
        let unasked = if args.reply.is_none() { candidates(&args) } else { Vec::new() };
        Ok(PaymentState {
            machine: PaymentMachine::new(args.ctx.limits.payment),
            args,
            sent_to: None,
            unasked,
            inquiring_at: None,
        })
    }

    async fn post_stop(
        &self,
        _myself: ActorRef<PaymentMsg>,
        state: &mut PaymentState,
    ) -> Result<(), ActorProcessingErr> {
        // Counted in when admitted (or resumed) by the tenant; counted out here, whatever ended it.
        state.args.ctx.counters.in_flight.fetch_sub(1, std::sync::atomic::Ordering::Relaxed);
        Ok(())
    }

    async fn post_start(
        &self,
        myself: ActorRef<PaymentMsg>,
        state: &mut PaymentState,
    ) -> Result<(), ActorProcessingErr> {
        let first = if state.args.reply.is_some() { PaymentEvent::Started } else { PaymentEvent::Recovered };
        apply(&myself, state, first);
        Ok(())
    }

    async fn handle(
        &self,
        myself: ActorRef<PaymentMsg>,
        message: PaymentMsg,
        state: &mut PaymentState,
    ) -> Result<(), ActorProcessingErr> {
        let PaymentMsg::Event(event) = message;
        let event = match event {
            PaymentEvent::NotFound => match not_found(state) {
                Some(event) => event,
                None => return Ok(()),
            },
            other => other,
        };
        apply(&myself, state, event);
        Ok(())
    }
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
        currency: &args.record.currency,
        creditor_agent: &args.record.creditor_agent,
    };
    args.ctx.routes().candidates(&query)
}

fn subject(record: &AcceptedPayment) -> StatusSubject<'_> {
    StatusSubject {
        orgnl_msg_id: &record.msg_id,
        orgnl_end_to_end_id: Some(&record.end_to_end_id),
        orgnl_uetr: Some(&record.uetr),
    }
}

fn apply(myself: &ActorRef<PaymentMsg>, state: &mut PaymentState, event: PaymentEvent) {
    let now = state.args.ctx.clock.now_ms();
    for effect in state.machine.step(event, now) {
        match effect {
            PaymentEffect::Submit { attempt } => submit(myself, state, attempt),
            PaymentEffect::Inquire { inquiry } => inquire(myself, state, inquiry),
            PaymentEffect::ScheduleRetry { after_ms } => {
                myself.send_after(Duration::from_millis(after_ms), || {
                    PaymentMsg::Event(PaymentEvent::RetryDue)
                });
            }
            PaymentEffect::ScheduleDeadline { attempt, inquiry, after_ms } => {
                myself.send_after(Duration::from_millis(after_ms), move || {
                    PaymentMsg::Event(PaymentEvent::DeadlineReached { attempt, inquiry })
                });
            }
            PaymentEffect::ReportTimeout => {
                if let Some(link) = state.sent_to.as_deref().and_then(|l| state.args.ctx.link(l)) {
                    let _ = link.cast(LinkMsg::Timeout { uetr: state.args.record.uetr.clone() });
                }
            }
            PaymentEffect::JournalOutcome(outcome) => journal_outcome(myself, state, outcome),
            PaymentEffect::Report(outcome) => report(myself, state, &outcome),
        }
    }
}

fn unavailable(myself: &ActorRef<PaymentMsg>, why: &str) {
    let _ = myself.cast(PaymentMsg::Event(PaymentEvent::LinkUnavailable(why.to_owned())));
}

fn submit(myself: &ActorRef<PaymentMsg>, state: &mut PaymentState, attempt: u32) {
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
    let payload =
        match crate::scheme::leg_for(&state.args.ctx, name, &state.args.raw, &state.args.ctx.limits.iso) {
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
    let Some(link) = state.args.ctx.link(&name) else {
        return unavailable(myself, &format!("link {name} is not running"));
    };
    tracing::info!(tenant = %state.args.tenant, uetr = %state.args.record.uetr, inquiry, link = %name, "status inquiry (pacs.028)");
    metrics::counter!(crate::metrics::INQUIRIES, "link" => name.clone()).increment(1);
    state.inquiring_at = Some(name);
    let payload = state.args.ctx.status.pacs028(subject(&state.args.record));
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

fn report(myself: &ActorRef<PaymentMsg>, state: &mut PaymentState, outcome: &Outcome) {
    let args = &mut state.args;
    tracing::debug!(tenant = %args.tenant, uetr = %args.record.uetr, ?outcome, "payment outcome");
    let label = match outcome {
        Outcome::Settled => "settled",
        Outcome::Rejected(_) => "rejected",
        Outcome::DeadLettered(_) => "dead_lettered",
        Outcome::InDoubt => "in_doubt",
    };
    crate::metrics::outcome(args.tenant.as_str(), label, args.reply.as_ref().map(|r| r.received.elapsed()));
    if let Some(reply) = args.reply.take() {
        let detail = match outcome {
            Outcome::DeadLettered(why) => Some(why.as_str()),
            Outcome::InDoubt => Some("outcome unknown at the clearing house; status inquiries continue"),
            _ => None,
        };
        let reason = outcome.reason().or_else(|| (!outcome.is_final()).then_some(ReasonCode::NARR));
        let payload = args.ctx.status.pacs002(subject(&args.record), outcome.tx_status(), reason, detail);
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
    let _ = args
        .tenant_ref
        .cast(TenantMsg::Finished { uetr: args.record.uetr.clone(), outcome: outcome.clone() });
    myself.stop(None);
}
