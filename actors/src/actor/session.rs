//! `SessionActor`: one participant connection after sign-on.
//!
//! Owns: the connection's write side (an [`Outbound`] port) and nothing else. It parses and
//! validates each submission and hands valid ones to its tenant. Mailbox bound: the credit window
//! (each inbound message carries a credit permit taken by the socket reader before reading).
//! Waits on: nothing (parsing is CPU only). Failure policy: a malformed message is answered
//! with a pacs.002 RJCT carrying the reason code; the actor never fails on input.

use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use ractor::{Actor, ActorProcessingErr, ActorRef};
use switchyard_iso20022::{read_camt056, read_pacs002, read_pacs028, ReasonCode, TxStatus};
use tokio::sync::OwnedSemaphorePermit;

use super::case::{message_family, CancelRequest, InquiryRequest, Requester};
use super::context::NodeContext;
use super::status::StatusSubject;
use super::tenant::{Submission, TenantMsg};
use crate::domain::TenantId;
use crate::message::{MessageKind, PaymentMessage};
use crate::metrics;
use crate::policy::TenantPolicy;
use crate::ports::{Outbound, WireKind, WireMsg};
use crate::rate::RateLimit;
use crate::record::{JournalRecord, RefusedSubmission};
use crate::route::RouteQuery;
use crate::scheme::{admissible, SchemeRefusal};

/// The session actor (stateless apart from its arguments).
#[derive(Debug, Default)]
pub struct SessionActor;

/// Startup arguments.
pub struct SessionArgs {
    pub tenant: TenantId,
    /// The tenant's rate limit, shared by all its sessions.
    pub rate: Arc<RateLimit>,
    /// The BICs the tenant may instruct as (empty: unrestricted) and whether it is still
    /// admitted; shared by the tenant's sessions and changed in place by a reload.
    pub policy: Arc<TenantPolicy>,
    pub tenant_ref: ActorRef<TenantMsg>,
    pub outbound: Arc<dyn Outbound>,
    pub ctx: Arc<NodeContext>,
}

impl std::fmt::Debug for SessionArgs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SessionArgs").field("tenant", &self.tenant).finish_non_exhaustive()
    }
}

/// Messages from the connection's reader.
#[derive(Debug)]
pub enum SessionMsg {
    /// A submission frame, with the credit it consumed.
    Submit { correlation: u64, payload: Bytes, credit: OwnedSemaphorePermit, received: Instant },
}

impl Actor for SessionActor {
    type Msg = SessionMsg;
    type State = SessionArgs;
    type Arguments = SessionArgs;

    async fn pre_start(
        &self,
        myself: ActorRef<SessionMsg>,
        args: SessionArgs,
    ) -> Result<SessionArgs, ActorProcessingErr> {
        // The tenant delivers messages addressed to the participant (returns) on its sessions.
        let attach = TenantMsg::Attach {
            session: myself.get_id(),
            outbound: super::tenant::SessionOutbound(Arc::clone(&args.outbound)),
        };
        let _ = args.tenant_ref.cast(attach);
        Ok(args)
    }

    async fn post_stop(
        &self,
        myself: ActorRef<SessionMsg>,
        state: &mut SessionArgs,
    ) -> Result<(), ActorProcessingErr> {
        let _ = state.tenant_ref.cast(TenantMsg::Detach { session: myself.get_id() });
        Ok(())
    }

    async fn handle(
        &self,
        _myself: ActorRef<SessionMsg>,
        message: SessionMsg,
        state: &mut SessionArgs,
    ) -> Result<(), ActorProcessingErr> {
        let SessionMsg::Submit { correlation, payload, credit, received } = message;
        // Counted up by the socket reader (`SessionMsg` senders count with `metrics::mailbox`).
        metrics::mailbox("session", state.tenant.as_str()).decrement(1.0);
        submit(state, correlation, payload, credit, received);
        Ok(())
    }
}

fn submit(
    state: &SessionArgs,
    correlation: u64,
    payload: Bytes,
    credit: OwnedSemaphorePermit,
    received: Instant,
) {
    let refusal = Refusal {
        tenant: &state.tenant,
        outbound: &state.outbound,
        ctx: &state.ctx,
        correlation,
        kind: MessageKind::Pacs008,
    };
    if !state.rate.try_take() {
        // Over the rate: refused before parsing, and not journaled, so an abusive tenant
        // cannot load the journal or other tenants' actors (it is counted instead).
        state.ctx.counters.rate_limited.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let spec = state.rate.spec();
        let detail = format!(
            "busy: over the tenant rate limit of {}/s (burst {}); slow down",
            spec.per_second, spec.burst
        );
        metrics::submission(state.tenant.as_str(), "rate_limited");
        return refusal.answer(None, None, ReasonCode::NARR, &detail, credit);
    }
    let family = message_family(&payload);
    match family {
        Some("pacs.028") => return inquiry(state, &refusal, &payload, credit),
        Some("camt.056") => return cancel(state, &refusal, payload, credit),
        Some("pacs.002") => return creditor_status(state, &refusal, &payload, credit),
        Some("camt.029") => return creditor_cancel_answer(state, &refusal, payload, credit),
        Some("pacs.004") => return participant_return(state, &refusal, payload, credit),
        _ => {}
    }
    // A payment: pacs.009 when it says so; anything else is read as a pacs.008 (and refused
    // with the parser's reason code if it is not one), as before pacs.009 was taken.
    let kind = family.and_then(MessageKind::of_family).unwrap_or(MessageKind::Pacs008);
    let refusal = Refusal { kind, ..refusal };
    if state.policy.is_retired() {
        // The tenant was removed from the configuration: no new payment is admitted while its
        // payments in flight drain (inquiries, cancellations and statuses still are); then its sessions are signed off (docs/OPERATIONS.md).
        metrics::submission(state.tenant.as_str(), "retired");
        let detail = format!("tenant {} is being removed from this node; no new payments", state.tenant);
        return refusal.refuse(None, None, ReasonCode::AG01, &detail, credit);
    }
    let message = match PaymentMessage::read(kind, &payload, &state.ctx.limits.iso) {
        Ok(message) => message,
        Err(e) => {
            let detail = format!("{} {}", e.path, e.detail);
            metrics::submission(state.tenant.as_str(), "invalid");
            return refusal.refuse(None, None, e.code, &detail, credit);
        }
    };
    let msg_id = message.msg_id().to_owned();
    if message.tx_count() != 1 {
        let detail = "this switch takes exactly one transaction per message";
        return refusal.refuse(Some(&msg_id), None, ReasonCode::NARR, detail, credit);
    }
    let Some(uetr) = message.uetr().map(str::to_owned) else {
        let detail = "CdtTrfTxInf/PmtId/UETR is required";
        return refusal.refuse(Some(&msg_id), None, ReasonCode::FF01, detail, credit);
    };
    if let Err(m) = message.check_sender(&state.policy.bics()) {
        metrics::submission(state.tenant.as_str(), "forbidden");
        let detail =
            format!("{} names {}, which is not an institution of tenant {}", m.path, m.claimed, state.tenant);
        return refusal.refuse(Some(&msg_id), Some(&uetr), ReasonCode::AG01, &detail, credit);
    }
    // The route is known here: a payment no clearing scheme on its route would take is refused
    // before it is acknowledged, with the scheme's reason code (ARCHITECTURE.md, decisions).
    let Some(amount) = message.amount() else {
        let detail = "CdtTrfTxInf/IntrBkSttlmAmt is required";
        return refusal.refuse(Some(&msg_id), Some(&uetr), ReasonCode::FF01, detail, credit);
    };
    let query = RouteQuery {
        tenant: state.tenant.as_str(),
        message_type: kind.as_str(),
        currency: amount.currency.as_str(),
        amount_minor: amount.minor_units,
        creditor_agent: message.creditor_agent().map_or("", |b| b.as_str()),
        clearing_system: message.clearing_system(),
        service_level: message.service_level(),
    };
    if let Err(refused) = admissible(&state.ctx, &query, &message, &payload, state.ctx.clock.now_ms()) {
        metrics::submission(state.tenant.as_str(), "scheme_refused");
        return refuse_for_scheme(&refused, &refusal, &msg_id, &uetr, credit);
    }
    let fingerprint = message.fingerprint();
    let submission = Submission {
        outbound: Arc::clone(&state.outbound),
        correlation,
        credit,
        uetr,
        fingerprint,
        message,
        raw: payload,
        received,
    };
    if let Err(e) = to_tenant(state, TenantMsg::Submit(Box::new(submission))) {
        tracing::error!(tenant = %state.tenant, error = %e, "tenant actor gone; submission dropped with its connection");
    }
}

/// Sends a participant message to the tenant, counted in its mailbox depth (the tenant counts
/// it down with [`tenant_handles`]).
fn to_tenant(state: &SessionArgs, msg: TenantMsg) -> Result<(), ractor::MessagingErr<TenantMsg>> {
    let depth = metrics::mailbox("tenant", state.tenant.as_str());
    depth.increment(1.0);
    let sent = state.tenant_ref.cast(msg);
    if sent.is_err() {
        depth.decrement(1.0);
    }
    sent
}

/// Called by the tenant actor as it starts handling `msg`: a participant message from a session
/// leaves its mailbox-depth count.
pub(crate) fn tenant_handles(msg: &TenantMsg, tenant: &TenantId) {
    if matches!(
        msg,
        TenantMsg::Submit(_) | TenantMsg::Inquiry(_) | TenantMsg::Cancel(_) | TenantMsg::CreditorStatus(_)
    ) {
        metrics::mailbox("tenant", tenant.as_str()).decrement(1.0);
    }
}

/// A status inquiry (pacs.028) about one of the tenant's own payments: answered by the tenant
/// from its journal-backed state, never forwarded.
fn inquiry(state: &SessionArgs, refusal: &Refusal<'_>, payload: &Bytes, credit: OwnedSemaphorePermit) {
    let request = match read_pacs028(payload, &state.ctx.limits.iso) {
        Ok(request) => request,
        Err(e) => {
            metrics::submission(state.tenant.as_str(), "invalid");
            return refusal.refuse(None, None, e.code, &format!("{} {}", e.path, e.detail), credit);
        }
    };
    let msg_id = request.msg_id.clone();
    let [tx] = request.txs.as_slice() else {
        let detail = "a status request must name exactly one transaction";
        return refusal.refuse(Some(&msg_id), None, ReasonCode::NARR, detail, credit);
    };
    let Some(uetr) = tx.original.orgnl_uetr.as_ref().map(|u| u.as_str().to_owned()) else {
        let detail = "TxInf/OrgnlUETR is required";
        return refusal.refuse(Some(&msg_id), None, ReasonCode::FF01, detail, credit);
    };
    metrics::submission(state.tenant.as_str(), "inquiry");
    let from = Requester { outbound: Arc::clone(&state.outbound), correlation: refusal.correlation, credit };
    let request = InquiryRequest { from, uetr, request, kind: None };
    if let Err(e) = to_tenant(state, TenantMsg::Inquiry(Box::new(request))) {
        tracing::error!(tenant = %state.tenant, error = %e, "tenant actor gone; inquiry dropped with its connection");
    }
}

/// A pacs.002 from the participant about a payment the node delivered to it (on-us).
fn creditor_status(
    state: &SessionArgs,
    refusal: &Refusal<'_>,
    payload: &Bytes,
    credit: OwnedSemaphorePermit,
) {
    let report = match read_pacs002(payload, &state.ctx.limits.iso) {
        Ok(report) => report,
        Err(e) => {
            metrics::submission(state.tenant.as_str(), "invalid");
            return refusal.refuse(None, None, e.code, &format!("{} {}", e.path, e.detail), credit);
        }
    };
    if report.txs.len() != 1 || report.txs[0].orgnl_uetr.is_none() {
        let detail = "a status report must carry exactly one transaction with OrgnlUETR";
        return refusal.refuse(Some(&report.msg_id), None, ReasonCode::NARR, detail, credit);
    }
    metrics::submission(state.tenant.as_str(), "status");
    let from = Requester { outbound: Arc::clone(&state.outbound), correlation: refusal.correlation, credit };
    let status = super::tenant::CreditorStatus { from, report };
    if let Err(e) = to_tenant(state, TenantMsg::CreditorStatus(Box::new(status))) {
        tracing::error!(tenant = %state.tenant, error = %e, "tenant actor gone; status dropped with its connection");
    }
}

/// A camt.029 from the participant: its answer to a cancellation request the node forwarded to
/// it for an on-us payment delivered to it.
fn creditor_cancel_answer(
    state: &SessionArgs,
    refusal: &Refusal<'_>,
    payload: Bytes,
    credit: OwnedSemaphorePermit,
) {
    let answer = match switchyard_iso20022::read_camt029(&payload, &state.ctx.limits.iso) {
        Ok(answer) => answer,
        Err(e) => {
            metrics::submission(state.tenant.as_str(), "invalid");
            return refusal.refuse(None, None, e.code, &format!("{} {}", e.path, e.detail), credit);
        }
    };
    let case_id = answer.assignment.id.clone();
    let [tx] = answer.txs.as_slice() else {
        let detail = "a cancellation answer must name exactly one transaction";
        return refusal.refuse(Some(&case_id), None, ReasonCode::NARR, detail, credit);
    };
    let Some(uetr) = tx.original.orgnl_uetr.as_ref().map(|u| u.as_str().to_owned()) else {
        let detail = "OrgnlUETR is required";
        return refusal.refuse(Some(&case_id), None, ReasonCode::FF01, detail, credit);
    };
    let cancelled = answer.sts_conf.as_deref() == Some("CNCL") || tx.tx_cxl_sts.as_deref() == Some("ACCR");
    metrics::submission(state.tenant.as_str(), "cancellation_answer");
    let from = Requester { outbound: Arc::clone(&state.outbound), correlation: refusal.correlation, credit };
    let answer = super::tenant::CreditorCancelAnswer { from, uetr, cancelled, payload };
    if let Err(e) = state.tenant_ref.cast(TenantMsg::CreditorCancelAnswer(Box::new(answer))) {
        tracing::error!(tenant = %state.tenant, error = %e, "tenant actor gone; cancellation answer dropped with its connection");
    }
}

/// A pacs.004 from the participant: it returns a payment it received as creditor (on-us).
fn participant_return(
    state: &SessionArgs,
    refusal: &Refusal<'_>,
    payload: Bytes,
    credit: OwnedSemaphorePermit,
) {
    let ret = match switchyard_iso20022::read_pacs004(&payload, &state.ctx.limits.iso) {
        Ok(ret) => ret,
        Err(e) => {
            metrics::submission(state.tenant.as_str(), "invalid");
            return refusal.refuse(None, None, e.code, &format!("{} {}", e.path, e.detail), credit);
        }
    };
    let [tx] = ret.txs.as_slice() else {
        let detail = "a return must carry exactly one transaction";
        return refusal.refuse(Some(&ret.msg_id), None, ReasonCode::NARR, detail, credit);
    };
    let Some(uetr) = tx.original.orgnl_uetr.as_ref().map(|u| u.as_str().to_owned()) else {
        let detail = "OrgnlUETR is required";
        return refusal.refuse(Some(&ret.msg_id), None, ReasonCode::FF01, detail, credit);
    };
    let reason = tx.reason.code().unwrap_or("NARR").to_owned();
    metrics::submission(state.tenant.as_str(), "return");
    let from = Requester { outbound: Arc::clone(&state.outbound), correlation: refusal.correlation, credit };
    let ret = super::tenant::ParticipantReturn { from, uetr, reason, payload };
    if let Err(e) = state.tenant_ref.cast(TenantMsg::ParticipantReturn(Box::new(ret))) {
        tracing::error!(tenant = %state.tenant, error = %e, "tenant actor gone; return dropped with its connection");
    }
}

/// A cancellation request (camt.056) for one of the tenant's own payments.
fn cancel(state: &SessionArgs, refusal: &Refusal<'_>, payload: Bytes, credit: OwnedSemaphorePermit) {
    let request = match read_camt056(&payload, &state.ctx.limits.iso) {
        Ok(request) => request,
        Err(e) => {
            metrics::submission(state.tenant.as_str(), "invalid");
            return refusal.refuse(None, None, e.code, &format!("{} {}", e.path, e.detail), credit);
        }
    };
    let case_id = request.assignment.id.clone();
    let [tx] = request.txs.as_slice() else {
        let detail = "a cancellation request must name exactly one transaction";
        return refusal.refuse(Some(&case_id), None, ReasonCode::NARR, detail, credit);
    };
    let Some(uetr) = tx.original.orgnl_uetr.as_ref().map(|u| u.as_str().to_owned()) else {
        let detail = "Undrlyg/TxInf/OrgnlUETR is required";
        return refusal.refuse(Some(&case_id), None, ReasonCode::FF01, detail, credit);
    };
    metrics::submission(state.tenant.as_str(), "cancellation");
    let from = Requester { outbound: Arc::clone(&state.outbound), correlation: refusal.correlation, credit };
    let request = CancelRequest { from, uetr, request, raw: payload, kind: None };
    if let Err(e) = to_tenant(state, TenantMsg::Cancel(Box::new(request))) {
        tracing::error!(tenant = %state.tenant, error = %e, "tenant actor gone; cancellation dropped with its connection");
    }
}

/// Journals and answers a refusal by the clearing scheme of the payment's route.
fn refuse_for_scheme(
    refused: &SchemeRefusal,
    answer: &Refusal<'_>,
    msg_id: &str,
    uetr: &str,
    credit: OwnedSemaphorePermit,
) {
    tracing::info!(tenant = %answer.tenant, %uetr, link = %refused.link, scheme = %refused.scheme,
        rule = refused.error.rule_id().unwrap_or(""), "payment refused by the clearing scheme of its route");
    answer.refuse(Some(msg_id), Some(uetr), refused.error.code, &refused.detail(), credit);
}

/// Answers a submission with RJCT after journaling the refusal.
pub(crate) struct Refusal<'a> {
    pub tenant: &'a TenantId,
    pub outbound: &'a Arc<dyn Outbound>,
    pub ctx: &'a Arc<NodeContext>,
    pub correlation: u64,
    /// The kind of the refused message, named as `OrgnlMsgNmId` (pacs.008 until known).
    pub kind: MessageKind,
}

impl Refusal<'_> {
    fn status(&self, msg_id: Option<&str>, uetr: Option<&str>, code: ReasonCode, detail: &str) -> Bytes {
        let subject = StatusSubject {
            orgnl_msg_nm_id: self.kind.message_name(),
            orgnl_msg_id: msg_id.unwrap_or("NOTPROVIDED"),
            orgnl_end_to_end_id: None,
            orgnl_uetr: uetr,
        };
        self.ctx.status.pacs002(subject, TxStatus::RJCT, Some(code), Some(detail))
    }

    /// Answers RJCT at once, without a journal record (rate-limit refusals).
    pub(crate) fn answer(
        &self,
        msg_id: Option<&str>,
        uetr: Option<&str>,
        code: ReasonCode,
        detail: &str,
        credit: OwnedSemaphorePermit,
    ) {
        let payload = self.status(msg_id, uetr, code, detail);
        let _ =
            self.outbound.send(WireMsg { kind: WireKind::Status, correlation: self.correlation, payload });
        drop(credit);
    }

    /// Journals the refusal; once durable, sends the pacs.002 RJCT and returns the credit.
    pub(crate) fn refuse(
        &self,
        msg_id: Option<&str>,
        uetr: Option<&str>,
        code: ReasonCode,
        detail: &str,
        credit: OwnedSemaphorePermit,
    ) {
        tracing::info!(tenant = %self.tenant, uetr, reason = code.as_str(), detail, "submission refused");
        let record = JournalRecord::Refused(RefusedSubmission {
            tenant: self.tenant.to_string(),
            msg_id: msg_id.map(str::to_owned),
            uetr: uetr.map(str::to_owned),
            reason: code.as_str().to_owned(),
            detail: detail.to_owned(),
            at_ms: self.ctx.clock.now_ms(),
        });
        let payload = self.status(msg_id, uetr, code, detail);
        let outbound = Arc::clone(self.outbound);
        let correlation = self.correlation;
        // The answer waits for the refusal record (audit); if the journal cannot take it, the
        // answer goes anyway: a refusal acknowledges nothing, so invariant 1 is not at stake.
        self.ctx.journal.append(
            &record,
            Box::new(move |_| {
                let _ = outbound.send(WireMsg { kind: WireKind::Status, correlation, payload });
                drop(credit);
            }),
        );
    }
}
