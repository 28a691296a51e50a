//! `PaymentActor`: one payment, from durable acceptance to a durable, reported outcome.
//!
//! Owns: the [`PaymentMachine`] and the participant's reply path (connection, correlation id,
//! the credit the submission took). Mailbox bound: a handful of messages (one per pending timer,
//! link answer or journal callback). Waits on: nothing; the link and the journal answer through
//! casts. Failure policy: never fails on input; if the actor dies, the tenant logs it and the
//! payment is resumed from the journal on recovery. Stops itself once its outcome is reported,
//! which releases the credit.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use ractor::{Actor, ActorProcessingErr, ActorRef};
use switchyard_iso20022::ReasonCode;
use tokio::sync::OwnedSemaphorePermit;

use super::context::NodeContext;
use super::link::LinkMsg;
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

/// Payment state: the machine plus its arguments.
#[derive(Debug)]
pub struct PaymentState {
    machine: PaymentMachine,
    args: PaymentArgs,
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
        Ok(PaymentState { machine: PaymentMachine::new(args.ctx.limits.payment), args })
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
        apply(&myself, state, event);
        Ok(())
    }
}

fn apply(myself: &ActorRef<PaymentMsg>, state: &mut PaymentState, event: PaymentEvent) {
    let now = state.args.ctx.clock.now_ms();
    for effect in state.machine.step(event, now) {
        match effect {
            PaymentEffect::Submit { attempt } => submit(myself, &state.args, attempt),
            PaymentEffect::ScheduleRetry { after_ms } => {
                myself.send_after(Duration::from_millis(after_ms), || {
                    PaymentMsg::Event(PaymentEvent::RetryDue)
                });
            }
            PaymentEffect::ScheduleDeadline { attempt, after_ms } => {
                myself.send_after(Duration::from_millis(after_ms), move || {
                    PaymentMsg::Event(PaymentEvent::DeadlineReached { attempt })
                });
            }
            PaymentEffect::JournalOutcome(outcome) => journal_outcome(myself, &state.args, outcome),
            PaymentEffect::Report(outcome) => report(myself, &mut state.args, &outcome),
        }
    }
}

fn submit(myself: &ActorRef<PaymentMsg>, args: &PaymentArgs, attempt: u32) {
    let query = RouteQuery {
        tenant: args.tenant.as_str(),
        currency: &args.record.currency,
        creditor_agent: &args.record.creditor_agent,
    };
    let routes = args.ctx.routes();
    let link = routes.select(&query).and_then(|name| args.ctx.link(name));
    let Some(link) = link else {
        let _ = myself.cast(PaymentMsg::Event(PaymentEvent::LinkUnavailable("no route".into())));
        return;
    };
    tracing::debug!(tenant = %args.tenant, uetr = %args.record.uetr, attempt, "submitting to clearing");
    let submit =
        LinkMsg::Submit { uetr: args.record.uetr.clone(), payload: args.raw.clone(), reply: myself.clone() };
    if link.cast(submit).is_err() {
        let _ = myself.cast(PaymentMsg::Event(PaymentEvent::LinkUnavailable("link actor stopped".into())));
    }
}

fn journal_outcome(myself: &ActorRef<PaymentMsg>, args: &PaymentArgs, outcome: Outcome) {
    let record = JournalRecord::Outcome(PaymentOutcome {
        tenant: args.tenant.to_string(),
        uetr: args.record.uetr.clone(),
        outcome,
        at_ms: args.ctx.clock.now_ms(),
    });
    let me = myself.clone();
    args.ctx.journal.append(
        &record,
        Box::new(move |result| match result {
            Ok(_) => {
                let _ = me.cast(PaymentMsg::Event(PaymentEvent::OutcomeDurable));
            }
            Err(failure) => {
                // Not durable: try again shortly; the outcome is not reported until it is.
                tracing::warn!(%failure, "outcome not journaled; retrying");
                me.send_after(Duration::from_millis(10), || {
                    PaymentMsg::Event(PaymentEvent::OutcomeNotDurable)
                });
            }
        }),
    );
}

fn report(myself: &ActorRef<PaymentMsg>, args: &mut PaymentArgs, outcome: &Outcome) {
    tracing::debug!(tenant = %args.tenant, uetr = %args.record.uetr, ?outcome, "payment outcome");
    if let Some(reply) = args.reply.take() {
        let subject = StatusSubject {
            orgnl_msg_id: &args.record.msg_id,
            orgnl_end_to_end_id: Some(&args.record.end_to_end_id),
            orgnl_uetr: Some(&args.record.uetr),
        };
        let detail = match outcome {
            Outcome::DeadLettered(why) => Some(why.as_str()),
            _ => None,
        };
        let reason = outcome.reason().or_else(|| (!outcome.is_final()).then_some(ReasonCode::NARR));
        let payload = args.ctx.status.pacs002(subject, outcome.tx_status(), reason, detail);
        let _ =
            reply.outbound.send(WireMsg { kind: WireKind::Status, correlation: reply.correlation, payload });
        drop(reply.credit);
    }
    let _ = args
        .tenant_ref
        .cast(TenantMsg::Finished { uetr: args.record.uetr.clone(), outcome: outcome.clone() });
    myself.stop(None);
}
