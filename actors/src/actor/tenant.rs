//! `TenantActor`: one participant bank. Supervises its sessions and payments.
//!
//! Owns: the tenant's [`Admission`] state (in-flight budget, idempotency index). Mailbox bound:
//! the sum of its sessions' credit windows plus one message per live payment (completion and
//! journal callbacks carry the credit of the submission they belong to). Waits on: nothing; the
//! journal answers through callbacks cast back into the mailbox. Failure policy: a payment actor
//! that fails is logged and counted; its payment stays accepted in the journal and is resumed by
//! recovery (the payment is in doubt until then, never silently dropped).

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use ractor::{Actor, ActorProcessingErr, ActorRef, SupervisionEvent};
use switchyard_iso20022::{Pacs008, ReasonCode, TxStatus};
use tokio::sync::OwnedSemaphorePermit;
use tracing::Instrument;

use super::context::NodeContext;
use super::payment::{PaymentActor, PaymentArgs, Reply};
use super::session::Refusal;
use super::status::StatusSubject;
use crate::admission::{Admission, Decision, Known};
use crate::domain::{Fingerprint, Outcome, TenantId};
use crate::metrics;
use crate::ports::{JournalFailure, Outbound, WireKind, WireMsg};
use crate::record::{AcceptedPayment, JournalRecord};

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
    /// Every payment this tenant ever had, from the journal (idempotency keys and outcomes).
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
    pub message: Pacs008,
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
    /// An operator's DLQ replay is durable: resume the payment as a recovered one.
    Replay(Box<AcceptedPayment>),
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

/// Tenant state.
#[derive(Debug)]
pub struct TenantState {
    tenant: TenantId,
    ctx: Arc<NodeContext>,
    admission: Admission,
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
                admission.finished(&entry.uetr, outcome);
            }
        }
        let state = TenantState { tenant: args.tenant, ctx: args.ctx, admission };
        for accepted in args.recovered {
            resume(&myself, &state, accepted).await?;
        }
        Ok(state)
    }

    async fn handle(
        &self,
        myself: ActorRef<TenantMsg>,
        message: TenantMsg,
        state: &mut TenantState,
    ) -> Result<(), ActorProcessingErr> {
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
                state.admission.finished(&uetr, outcome);
                in_flight_gauge(state);
            }
            TenantMsg::Replay(accepted) => {
                tracing::info!(tenant = %state.tenant, uetr = %accepted.uetr, "DLQ replay: payment resumed");
                state.admission.restore_accepted(&accepted.uetr, &accepted.msg_id, accepted.fingerprint);
                in_flight_gauge(state);
                resume(&myself, state, *accepted).await?;
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
            tracing::error!(tenant = %state.tenant, actor = ?cell.get_id(), %error,
                "payment actor failed; its payment stays accepted and is resumed on recovery");
        }
        Ok(())
    }
}

fn admit(myself: &ActorRef<TenantMsg>, state: &mut TenantState, sub: Submission) {
    let msg_id = sub.message.msg_id.clone();
    let refusal = Refusal {
        tenant: &state.tenant,
        outbound: &sub.outbound,
        ctx: &state.ctx,
        correlation: sub.correlation,
    };
    match state.admission.admit(&sub.uetr, &msg_id, sub.fingerprint) {
        Decision::Admit => {
            state.ctx.counters.in_flight.fetch_add(1, Ordering::Relaxed);
        }
        Decision::Resend(known) => {
            metrics::submission(state.tenant.as_str(), "resend");
            return answer_resend(state, &sub, &known);
        }
        Decision::Conflict { key } => {
            metrics::submission(state.tenant.as_str(), "duplicate");
            let detail = format!("{key} already used by a different payment");
            return refusal.refuse(Some(&msg_id), Some(&sub.uetr), ReasonCode::DUPL, &detail, sub.credit);
        }
        Decision::OverBudget { in_flight, limit } => {
            metrics::submission(state.tenant.as_str(), "busy");
            let detail =
                format!("busy: tenant has {in_flight} payments in flight (limit {limit}); retry later");
            return refusal.refuse(Some(&msg_id), Some(&sub.uetr), ReasonCode::NARR, &detail, sub.credit);
        }
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
    let tx = &sub.message.txs[0];
    AcceptedPayment {
        tenant: state.tenant.to_string(),
        uetr: sub.uetr.clone(),
        msg_id: sub.message.msg_id.clone(),
        end_to_end_id: tx.end_to_end_id.clone(),
        amount_minor: tx.amount.minor_units,
        currency: tx.amount.currency.as_str().to_owned(),
        debtor_agent: tx.dbtr_agt.as_ref().map_or_else(String::new, |b| b.as_str().to_owned()),
        creditor_agent: tx.cdtr_agt.as_ref().map_or_else(String::new, |b| b.as_str().to_owned()),
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
    let tx = &sub.message.txs[0];
    let subject = StatusSubject {
        orgnl_msg_id: &sub.message.msg_id,
        orgnl_end_to_end_id: Some(&tx.end_to_end_id),
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
        state.admission.abandon(&sub.uetr, &sub.message.msg_id);
        let refusal = Refusal {
            tenant: &state.tenant,
            outbound: &sub.outbound,
            ctx: &state.ctx,
            correlation: sub.correlation,
        };
        let detail = format!("busy: {failure}; retry later");
        refusal.refuse(Some(&sub.message.msg_id), Some(&sub.uetr), ReasonCode::NARR, &detail, sub.credit);
        return Ok(());
    }
    state.admission.accepted(&sub.uetr);
    metrics::submission(state.tenant.as_str(), "accepted");
    metrics::ack(state.tenant.as_str(), sub.received.elapsed());
    in_flight_gauge(state);
    let tx = &sub.message.txs[0];
    let subject = StatusSubject {
        orgnl_msg_id: &sub.message.msg_id,
        orgnl_end_to_end_id: Some(&tx.end_to_end_id),
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
    spawn_payment(myself, state, record, sub.raw, Some(reply)).await
}

fn in_flight_gauge(state: &TenantState) {
    ::metrics::gauge!(metrics::IN_FLIGHT, "tenant" => state.tenant.to_string())
        .set(state.admission.in_flight() as f64);
}

async fn resume(
    myself: &ActorRef<TenantMsg>,
    state: &TenantState,
    accepted: AcceptedPayment,
) -> Result<(), ActorProcessingErr> {
    let raw = Bytes::from(accepted.message.clone());
    state.ctx.counters.in_flight.fetch_add(1, Ordering::Relaxed);
    spawn_payment(myself, state, accepted, raw, None).await
}

async fn spawn_payment(
    myself: &ActorRef<TenantMsg>,
    state: &TenantState,
    record: AcceptedPayment,
    raw: Bytes,
    reply: Option<Reply>,
) -> Result<(), ActorProcessingErr> {
    let args = PaymentArgs {
        tenant: state.tenant.clone(),
        tenant_ref: myself.clone(),
        record,
        raw,
        reply,
        ctx: Arc::clone(&state.ctx),
    };
    Actor::spawn_linked(None, PaymentActor, args, myself.get_cell()).await?;
    Ok(())
}
