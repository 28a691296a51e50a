//! `LinkActor`: one clearing link (a persistent connection to a clearing house).
//!
//! Owns: the connection's write side while connected, the window of payments with an outcome
//! pending at this clearing house (keyed by UETR), and the circuit breaker. The connection itself
//! (dialling, TLS, reconnecting forever with capped backoff and jitter) is the clearing adapter's
//! job; it tells this actor `Connected`, `Reply` and `Disconnected`. Mailbox bound: the link
//! window of submissions plus one reply and one release each. Failure policy: when the
//! connection drops, submissions already written stay outstanding — their outcome is unknown and
//! their payments resolve them by status inquiry (never a blind resend, invariant 4). Replies
//! are matched by UETR, so a late reply still reaches its payment; a reply for no known payment
//! (a duplicate, or a late answer after the payment learnt its outcome by inquiry) is counted,
//! logged and journaled (`JournalRecord::UnmatchedReply`), never forwarded twice and never
//! dropped silently.

use std::collections::HashMap;
use std::sync::Arc;

use bytes::Bytes;
use ractor::{Actor, ActorProcessingErr, ActorRef};
use switchyard_iso20022::{read_camt029, read_pacs002, read_pacs004, StatusReport, TxStatus};

use super::context::NodeContext;
use super::payment::PaymentMsg;
use crate::breaker::{Breaker, BreakerLimits};
use crate::domain::Outcome;
use crate::payment::PaymentEvent;
use crate::ports::{Outbound, WireKind, WireMsg};
use crate::record::{JournalRecord, UnmatchedReply};

/// The proprietary reason a clearing house puts on the answer to a status inquiry about a
/// payment it never received (docs/PROTOCOL.md).
pub const NOT_FOUND_REASON: &str = "NOTFOUND";

/// The link actor.
#[derive(Debug, Default)]
pub struct LinkActor;

/// Startup arguments.
#[derive(Debug)]
pub struct LinkArgs {
    pub name: String,
    pub ctx: Arc<NodeContext>,
    pub breaker: BreakerLimits,
}

/// What a submission is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SubmitKind {
    /// The payment itself (counts against the window).
    Payment,
    /// A status inquiry about a payment already outstanding (or recovered).
    Inquiry,
    /// A participant's cancellation request (camt.056) for a payment at this clearing house.
    /// Outside the window and the breaker; the answer (camt.029) is matched by UETR.
    Cancel,
}

/// Link messages.
pub enum LinkMsg {
    /// A payment asks to submit itself or an inquiry.
    Submit { kind: SubmitKind, uetr: String, payload: Bytes, reply: ActorRef<PaymentMsg> },
    /// The payment's deadline passed without an answer (a breaker failure).
    Timeout { uetr: String },
    /// The payment reached its outcome: free its window slot.
    Release { uetr: String },
    /// The adapter established (or re-established) the connection.
    Connected(Arc<dyn Outbound>),
    /// The connection is gone.
    Disconnected(String),
    /// A Status frame from the clearing house.
    Reply { correlation: u64, payload: Bytes },
    /// A creditor tenant's pacs.002 for an inbound payment this clearing house sent: relay it.
    Relay { correlation: u64, payload: Bytes },
    /// A participant returns (pacs.004) an inbound payment this clearing house sent, or the
    /// tenant asks about such a return (a pacs.028, `inquiry`): forward it and hand the
    /// clearing house's pacs.002 for it to `tenant` (`TenantMsg::ReturnAnswer`).
    Return { uetr: String, payload: Bytes, tenant: ActorRef<super::tenant::TenantMsg>, inquiry: bool },
    /// The link's state, for the admin API.
    Snapshot(ractor::RpcReplyPort<LinkSnapshot>),
}

/// A link's state at one moment.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct LinkSnapshot {
    pub name: String,
    pub connected: bool,
    /// `closed`, `half-open` or `open`.
    pub breaker: String,
    /// Payments awaiting a clearing answer (window use).
    pub in_flight: usize,
    /// The window bound.
    pub window: usize,
    /// The last disconnect reason or unreadable answer, if any.
    pub last_error: Option<String>,
    pub unmatched_replies: u64,
}

impl std::fmt::Debug for LinkMsg {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Submit { kind, uetr, .. } => write!(f, "Submit({kind:?}, {uetr})"),
            Self::Timeout { uetr } => write!(f, "Timeout({uetr})"),
            Self::Release { uetr } => write!(f, "Release({uetr})"),
            Self::Connected(_) => f.write_str("Connected"),
            Self::Disconnected(why) => write!(f, "Disconnected({why})"),
            Self::Reply { correlation, .. } => write!(f, "Reply({correlation})"),
            Self::Relay { correlation, .. } => write!(f, "Relay({correlation})"),
            Self::Return { uetr, .. } => write!(f, "Return({uetr})"),
            Self::Snapshot(_) => f.write_str("Snapshot"),
        }
    }
}

/// Link state.
pub struct LinkState {
    name: String,
    ctx: Arc<NodeContext>,
    conn: Option<Arc<dyn Outbound>>,
    /// Payments whose outcome is pending at this clearing house.
    outstanding: HashMap<String, ActorRef<PaymentMsg>>,
    breaker: Breaker,
    next_correlation: u64,
    unmatched_replies: u64,
    /// Messages handled (drives gauge refreshes).
    messages: u64,
    /// Breaker gauge and connection state last exported.
    published: (u8, bool),
    /// The last disconnect reason or unreadable answer.
    last_error: Option<String>,
    /// Participants' returns (pacs.004) forwarded here and not answered yet, by the frame's
    /// correlation: (UETR, the tenant waiting). Bounded by the link window; emptied when the
    /// connection goes (the tenants' own deadlines answer their participants).
    returns: HashMap<u64, (String, ActorRef<super::tenant::TenantMsg>)>,
}

impl std::fmt::Debug for LinkState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LinkState")
            .field("name", &self.name)
            .field("outstanding", &self.outstanding.len())
            .field("breaker", &self.breaker.state)
            .finish_non_exhaustive()
    }
}

impl Actor for LinkActor {
    type Msg = LinkMsg;
    type State = LinkState;
    type Arguments = LinkArgs;

    async fn pre_start(
        &self,
        _myself: ActorRef<LinkMsg>,
        args: LinkArgs,
    ) -> Result<LinkState, ActorProcessingErr> {
        Ok(LinkState {
            name: args.name,
            ctx: args.ctx,
            conn: None,
            outstanding: HashMap::new(),
            breaker: Breaker::new(args.breaker),
            next_correlation: 1,
            unmatched_replies: 0,
            messages: 0,
            published: (u8::MAX, false),
            last_error: None,
            returns: HashMap::new(),
        })
    }

    async fn handle(
        &self,
        myself: ActorRef<LinkMsg>,
        message: LinkMsg,
        state: &mut LinkState,
    ) -> Result<(), ActorProcessingErr> {
        let now = state.ctx.clock.now_ms();
        match message {
            LinkMsg::Submit { kind, uetr, payload, reply } => submit(state, kind, uetr, payload, &reply, now),
            LinkMsg::Timeout { uetr } => {
                state.breaker.failure(now);
                tracing::debug!(link = %state.name, %uetr, breaker = ?state.breaker.state, "clearing timeout");
            }
            LinkMsg::Release { uetr } => {
                state.outstanding.remove(&uetr);
            }
            LinkMsg::Connected(conn) => {
                tracing::info!(link = %state.name, "clearing link connected");
                state.conn = Some(conn);
                // Payments left in doubt by this link's silence are asked about again now.
                for tenant in state.ctx.tenant_refs() {
                    let _ = tenant.cast(super::tenant::TenantMsg::LinkUp(state.name.clone()));
                }
            }
            LinkMsg::Disconnected(why) if state.conn.is_none() || why == "shutdown" => {
                state.returns.clear();
                tracing::info!(link = %state.name, %why, "clearing link down");
                state.conn = None;
                state.last_error = Some(why);
            }
            LinkMsg::Disconnected(why) => {
                tracing::warn!(link = %state.name, %why, outstanding = state.outstanding.len(), "clearing link disconnected");
                state.returns.clear();
                state.conn = None;
                state.breaker.failure(now);
                state.last_error = Some(why);
            }
            LinkMsg::Reply { correlation, payload } => answer(&myself, state, correlation, &payload),
            LinkMsg::Relay { correlation, payload } => {
                let sent = state.conn.as_ref().is_some_and(|c| {
                    c.send(WireMsg { kind: WireKind::Status, correlation, payload }).is_ok()
                });
                if !sent {
                    tracing::warn!(link = %state.name, correlation, "inbound payment's status not relayed: link down (the clearing house will ask again)");
                }
            }
            LinkMsg::Return { uetr, payload, tenant, inquiry } => {
                forward_return(state, uetr, payload, tenant, inquiry);
            }
            LinkMsg::Snapshot(reply) => {
                let _ = reply.send(snapshot(state));
            }
        }
        state.messages += 1;
        // Gauges are cheap but not free: refresh them on every 64th message and on changes of
        // connection or breaker state.
        let breaker = state.breaker.state.gauge();
        if state.messages % 64 == 0
            || breaker != state.published.0
            || state.conn.is_some() != state.published.1
        {
            publish(state);
            state.published = (breaker, state.conn.is_some());
        }
        Ok(())
    }
}

fn snapshot(state: &LinkState) -> LinkSnapshot {
    LinkSnapshot {
        name: state.name.clone(),
        connected: state.conn.is_some(),
        breaker: match state.breaker.state.gauge() {
            0 => "closed",
            1 => "half-open",
            _ => "open",
        }
        .to_owned(),
        in_flight: state.outstanding.len(),
        window: state.ctx.limits.link_window,
        last_error: state.last_error.clone(),
        unmatched_replies: state.unmatched_replies,
    }
}

/// Exports the link's gauges: its window use, breaker and connection.
fn publish(state: &LinkState) {
    let link = state.name.clone();
    metrics::gauge!(crate::metrics::LINK_OUTSTANDING, "link" => link.clone())
        .set(state.outstanding.len() as f64);
    metrics::gauge!(crate::metrics::BREAKER, "link" => link.clone())
        .set(f64::from(state.breaker.state.gauge()));
    metrics::gauge!(crate::metrics::LINK_UP, "link" => link).set(if state.conn.is_some() {
        1.0
    } else {
        0.0
    });
}

fn submit(
    state: &mut LinkState,
    kind: SubmitKind,
    uetr: String,
    payload: Bytes,
    reply: &ActorRef<PaymentMsg>,
    now: u64,
) {
    let refuse = |why: String| {
        let event = if kind == SubmitKind::Cancel {
            PaymentEvent::CancelUndeliverable(why)
        } else {
            PaymentEvent::LinkUnavailable(why)
        };
        let _ = reply.cast(PaymentMsg::Event(event));
    };
    let Some(conn) = state.conn.as_ref() else {
        return refuse(format!("link {} is not connected", state.name));
    };
    let window = state.ctx.limits.link_window;
    if kind == SubmitKind::Payment
        && !state.outstanding.contains_key(&uetr)
        && state.outstanding.len() >= window
    {
        return refuse(format!("link {} window of {window} is full", state.name));
    }
    // Inquiries are how an open breaker learns the clearing house is back; they always go.
    if kind == SubmitKind::Payment && !state.breaker.admit(now) {
        return refuse(format!("link {} circuit breaker is open", state.name));
    }
    let correlation = state.next_correlation;
    state.next_correlation += 1;
    if conn.send(WireMsg { kind: WireKind::Submit, correlation, payload }).is_err() {
        state.conn = None;
        return refuse(format!("link {} connection closed", state.name));
    }
    if kind == SubmitKind::Cancel {
        // The payment is (or was) outstanding here already; the camt.029 finds it by UETR.
        state.outstanding.entry(uetr).or_insert_with(|| reply.clone());
        return;
    }
    state.outstanding.insert(uetr, reply.clone());
    let _ = reply.cast(PaymentMsg::Event(PaymentEvent::Sent));
}

/// Forwards a participant's pacs.004 of an inbound payment (or a pacs.028 about it); the
/// clearing house's pacs.002 for it (same correlation) goes to `tenant`. Not connected or a
/// full window: not sent.
fn forward_return(
    state: &mut LinkState,
    uetr: String,
    payload: Bytes,
    tenant: ActorRef<super::tenant::TenantMsg>,
    inquiry: bool,
) {
    use super::tenant::{ReturnAnswer, TenantMsg};
    let not_sent = |why: String| {
        let _ =
            tenant.cast(TenantMsg::ReturnAnswer { uetr: uetr.clone(), answer: ReturnAnswer::NotSent(why) });
    };
    let window = state.ctx.limits.link_window;
    let Some(conn) = state.conn.as_ref() else {
        return not_sent(format!("link {} is not connected", state.name));
    };
    if state.returns.len() >= window {
        return not_sent(format!("link {} has {window} returns waiting for an answer", state.name));
    }
    let correlation = state.next_correlation;
    state.next_correlation += 1;
    if conn.send(WireMsg { kind: WireKind::Submit, correlation, payload }).is_err() {
        state.conn = None;
        return not_sent(format!("link {} connection closed", state.name));
    }
    let what =
        if inquiry { "status inquiry (pacs.028) about a return" } else { "participant's return (pacs.004)" };
    tracing::info!(link = %state.name, %uetr, correlation, "{what} forwarded");
    state.returns.insert(correlation, (uetr, tenant));
}

/// What a clearing house's pacs.002 means for the payment.
fn event_of(report: &StatusReport) -> Option<(String, PaymentEvent)> {
    let tx = report.txs.first()?;
    let uetr = tx.orgnl_uetr.as_ref()?.as_str().to_owned();
    let event = match tx.tx_sts {
        TxStatus::ACSC | TxStatus::ACCC => PaymentEvent::ClearingAnswered(Outcome::Settled),
        TxStatus::RJCT if tx.reason_prtry.as_deref() == Some(NOT_FOUND_REASON) => PaymentEvent::NotFound,
        TxStatus::RJCT => {
            PaymentEvent::ClearingAnswered(Outcome::Rejected(tx.reason_code().unwrap_or("NARR").to_owned()))
        }
        _ => return None,
    };
    Some((uetr, event))
}

/// A camt.029 (the answer to a forwarded camt.056): relayed to its payment, matched by UETR.
fn cancellation_answer(state: &mut LinkState, correlation: u64, payload: &[u8]) {
    let answer = match read_camt029(payload, &state.ctx.limits.iso) {
        Ok(answer) => answer,
        Err(e) => {
            tracing::error!(link = %state.name, correlation, error = %e, "unreadable camt.029 from clearing house");
            return unmatched(state, correlation, None, "UNREADABLE", payload);
        }
    };
    state.breaker.success();
    let tx = answer.txs.first();
    let uetr = tx.and_then(|t| t.original.orgnl_uetr.as_ref()).map(|u| u.as_str().to_owned());
    let cancelled = answer.sts_conf.as_deref() == Some("CNCL")
        || tx.and_then(|t| t.tx_cxl_sts.as_deref()) == Some("ACCR");
    match uetr.as_ref().and_then(|u| state.outstanding.get(u)) {
        Some(payment) => {
            let msg = PaymentMsg::CancelAnswer { cancelled, payload: Bytes::copy_from_slice(payload) };
            if payment.cast(msg).is_err() {
                // The payment ended meanwhile: kept like any reply nobody waits for.
                unmatched(state, correlation, uetr, "camt.029", payload);
            }
        }
        None => unmatched(state, correlation, uetr, "camt.029", payload),
    }
}

/// A pacs.004 (a return of a settled payment): offered to every tenant; the one that owns the
/// UETR applies it (the link does not know tenants; UETRs are keyed per tenant).
fn payment_return(state: &mut LinkState, correlation: u64, payload: &[u8]) {
    let ret = match read_pacs004(payload, &state.ctx.limits.iso) {
        Ok(ret) => ret,
        Err(e) => {
            tracing::error!(link = %state.name, correlation, error = %e, "unreadable pacs.004 from clearing house");
            return unmatched(state, correlation, None, "UNREADABLE", payload);
        }
    };
    for tx in &ret.txs {
        let Some(uetr) = tx.original.orgnl_uetr.as_ref() else {
            tracing::warn!(link = %state.name, correlation, "pacs.004 without OrgnlUETR; not applied");
            state.ctx.counters.unmatched_returns.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            unmatched(state, correlation, None, "pacs.004", payload);
            continue;
        };
        let tenants = state.ctx.tenant_refs();
        let inbound = Arc::new(super::tenant::InboundReturn::new(
            uetr.as_str().to_owned(),
            tx.reason.code().unwrap_or("NARR").to_owned(),
            Bytes::copy_from_slice(payload),
            state.name.clone(),
            correlation,
            tenants.len(),
        ));
        inbound.offer(&tenants, &*state.ctx.journal, state.ctx.clock.now_ms());
    }
}

/// A pacs.008 the clearing house sends for one of this node's tenants (inbound): delivered to
/// the creditor tenant, whose pacs.002 comes back through [`LinkMsg::Relay`].
fn inbound_payment(myself: &ActorRef<LinkMsg>, state: &mut LinkState, correlation: u64, payload: &[u8]) {
    let refuse =
        |state: &LinkState, reason: &str, detail: &str, msg: Option<&switchyard_iso20022::Pacs008>| {
            let tx = msg.and_then(|m| m.txs.first());
            let subject = super::status::StatusSubject {
                orgnl_msg_nm_id: crate::message::MessageKind::Pacs008.message_name(),
                orgnl_msg_id: msg.map_or("NOTPROVIDED", |m| m.msg_id.as_str()),
                orgnl_end_to_end_id: tx.map(|t| t.end_to_end_id.as_str()),
                orgnl_uetr: tx.and_then(|t| t.uetr.as_ref()).map(switchyard_iso20022::Uetr::as_str),
            };
            let code = switchyard_iso20022::ReasonCode::parse(reason);
            let answer = state.ctx.status.pacs002(subject, TxStatus::RJCT, code, Some(detail));
            if let Some(conn) = state.conn.as_ref() {
                let _ = conn.send(WireMsg { kind: WireKind::Status, correlation, payload: answer });
            }
        };
    let msg = match switchyard_iso20022::read_pacs008(payload, &state.ctx.limits.iso) {
        Ok(msg) => msg,
        Err(e) => return refuse(state, e.code.as_str(), &format!("{} {}", e.path, e.detail), None),
    };
    let Some(tx) = msg.txs.first() else { return };
    let (Some(uetr), Some(creditor)) = (tx.uetr.as_ref(), tx.cdtr_agt.as_ref()) else {
        return refuse(state, "FF01", "inbound payments need a UETR and a creditor agent BIC", Some(&msg));
    };
    let Some((tenant, actor)) = state.ctx.tenant_of_institution(creditor.as_str()) else {
        return refuse(state, "AC01", "the creditor agent is not a participant of this node", Some(&msg));
    };
    tracing::info!(link = %state.name, %tenant, uetr = %uetr.as_str(), "inbound payment from clearing");
    let inbound = super::tenant::TenantMsg::DeliverInbound {
        uetr: uetr.as_str().to_owned(),
        payload: Bytes::copy_from_slice(payload),
        link: myself.clone(),
        correlation,
    };
    if actor.cast(inbound).is_err() {
        refuse(state, "NARR", "the creditor tenant is not running", Some(&msg));
    }
}

fn answer(myself: &ActorRef<LinkMsg>, state: &mut LinkState, correlation: u64, payload: &[u8]) {
    let family = crate::actor::message_family(payload);
    if family == Some("pacs.002") {
        if let Some((uetr, tenant)) = state.returns.remove(&correlation) {
            state.breaker.success();
            let answer = super::tenant::ReturnAnswer::Status(Bytes::copy_from_slice(payload));
            let _ = tenant.cast(super::tenant::TenantMsg::ReturnAnswer { uetr, answer });
            return;
        }
    }
    match family {
        Some("camt.029") => return cancellation_answer(state, correlation, payload),
        Some("pacs.004") => return payment_return(state, correlation, payload),
        Some("pacs.008") => return inbound_payment(myself, state, correlation, payload),
        _ => {}
    }
    let report = match read_pacs002(payload, &state.ctx.limits.iso) {
        Ok(report) => report,
        Err(e) => {
            tracing::error!(link = %state.name, correlation, error = %e, "unreadable status from clearing house");
            state.last_error = Some(format!("unreadable status: {e}"));
            return unmatched(state, correlation, None, "UNREADABLE", payload);
        }
    };
    state.breaker.success();
    let Some((uetr, event)) = event_of(&report) else {
        tracing::debug!(link = %state.name, correlation, "intermediate or unattributable status");
        return;
    };
    let final_answer = matches!(event, PaymentEvent::ClearingAnswered(_));
    let payment =
        if final_answer { state.outstanding.remove(&uetr) } else { state.outstanding.get(&uetr).cloned() };
    let status = report.txs.first().map_or("?", |tx| tx.tx_sts.as_str());
    match payment {
        Some(payment) => {
            if payment.cast(PaymentMsg::Event(event)).is_err() {
                tracing::warn!(link = %state.name, %uetr, "answer for a payment that already ended");
                unmatched(state, correlation, Some(uetr), status, payload);
            }
        }
        None => unmatched(state, correlation, Some(uetr), status, payload),
    }
}

/// A reply no payment is waiting for (a duplicate, a late answer after the outcome was learnt
/// by inquiry, or an unreadable one): counted, logged and journaled, never forwarded, so a
/// participant hears each outcome once.
fn unmatched(state: &mut LinkState, correlation: u64, uetr: Option<String>, status: &str, payload: &[u8]) {
    state.unmatched_replies += 1;
    metrics::counter!(crate::metrics::UNMATCHED, "link" => state.name.clone()).increment(1);
    tracing::warn!(link = %state.name, uetr = uetr.as_deref().unwrap_or(""), status, correlation,
        unmatched = state.unmatched_replies, "clearing reply for no outstanding payment (duplicate or late); journaled, not forwarded");
    let record = JournalRecord::UnmatchedReply(UnmatchedReply {
        link: state.name.clone(),
        uetr,
        status: status.to_owned(),
        correlation,
        message: payload.to_vec(),
        at_ms: state.ctx.clock.now_ms(),
    });
    let link = state.name.clone();
    state.ctx.journal.append(
        &record,
        Box::new(move |result| {
            if let Err(failure) = result {
                tracing::error!(%link, correlation, %failure, "unmatched clearing reply not journaled");
            }
        }),
    );
}
