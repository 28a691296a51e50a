//! `LinkActor`: one clearing link (a persistent connection to a clearing house).
//!
//! Owns: the connection's write side while connected, the correlation of submissions to payment
//! actors, and the in-flight window. The connection itself (dialling, TLS, reconnecting forever
//! with capped backoff and jitter) is the clearing adapter's job; it tells this actor
//! `Connected`, `Reply` and `Disconnected`. Mailbox bound: the link window of submissions plus
//! one reply each. Failure policy: when the connection drops, submissions already written stay
//! pending — their outcome is unknown and their payments' deadlines resolve them (never a blind
//! resend, invariant 4). Unmatched replies are logged and counted, never dropped silently.

use std::collections::HashMap;
use std::sync::Arc;

use bytes::Bytes;
use ractor::{Actor, ActorProcessingErr, ActorRef};
use switchyard_iso20022::{read_pacs002, TxStatus};

use super::context::NodeContext;
use super::payment::PaymentMsg;
use crate::domain::Outcome;
use crate::payment::PaymentEvent;
use crate::ports::{Outbound, WireKind, WireMsg};

/// The link actor.
#[derive(Debug, Default)]
pub struct LinkActor;

/// Startup arguments.
#[derive(Debug)]
pub struct LinkArgs {
    pub name: String,
    pub ctx: Arc<NodeContext>,
}

/// Link messages.
pub enum LinkMsg {
    /// A payment asks to be submitted.
    Submit { uetr: String, payload: Bytes, reply: ActorRef<PaymentMsg> },
    /// The adapter established (or re-established) the connection.
    Connected(Arc<dyn Outbound>),
    /// The connection is gone.
    Disconnected(String),
    /// A frame from the clearing house answering `correlation`.
    Reply { correlation: u64, payload: Bytes },
}

impl std::fmt::Debug for LinkMsg {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Submit { uetr, .. } => write!(f, "Submit({uetr})"),
            Self::Connected(_) => f.write_str("Connected"),
            Self::Disconnected(why) => write!(f, "Disconnected({why})"),
            Self::Reply { correlation, .. } => write!(f, "Reply({correlation})"),
        }
    }
}

/// Link state.
pub struct LinkState {
    name: String,
    ctx: Arc<NodeContext>,
    conn: Option<Arc<dyn Outbound>>,
    pending: HashMap<u64, (String, ActorRef<PaymentMsg>)>,
    next_correlation: u64,
    unmatched_replies: u64,
}

impl std::fmt::Debug for LinkState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LinkState")
            .field("name", &self.name)
            .field("pending", &self.pending.len())
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
            pending: HashMap::new(),
            next_correlation: 1,
            unmatched_replies: 0,
        })
    }

    async fn handle(
        &self,
        _myself: ActorRef<LinkMsg>,
        message: LinkMsg,
        state: &mut LinkState,
    ) -> Result<(), ActorProcessingErr> {
        match message {
            LinkMsg::Submit { uetr, payload, reply } => submit(state, uetr, payload, &reply),
            LinkMsg::Connected(conn) => {
                tracing::info!(link = %state.name, "clearing link connected");
                state.conn = Some(conn);
            }
            LinkMsg::Disconnected(why) if state.conn.is_none() || why == "shutdown" => {
                tracing::info!(link = %state.name, %why, "clearing link down");
                state.conn = None;
            }
            LinkMsg::Disconnected(why) => {
                tracing::warn!(link = %state.name, %why, pending = state.pending.len(), "clearing link disconnected");
                state.conn = None;
            }
            LinkMsg::Reply { correlation, payload } => answer(state, correlation, &payload),
        }
        Ok(())
    }
}

fn submit(state: &mut LinkState, uetr: String, payload: Bytes, reply: &ActorRef<PaymentMsg>) {
    let refuse = |why: String| {
        let _ = reply.cast(PaymentMsg::Event(PaymentEvent::LinkUnavailable(why)));
    };
    let Some(conn) = state.conn.as_ref() else {
        return refuse(format!("link {} is not connected", state.name));
    };
    if state.pending.len() >= state.ctx.limits.link_window {
        return refuse(format!("link {} window of {} is full", state.name, state.ctx.limits.link_window));
    }
    let correlation = state.next_correlation;
    state.next_correlation += 1;
    if conn.send(WireMsg { kind: WireKind::Submit, correlation, payload }).is_err() {
        state.conn = None;
        return refuse(format!("link {} connection closed", state.name));
    }
    state.pending.insert(correlation, (uetr, reply.clone()));
    let _ = reply.cast(PaymentMsg::Event(PaymentEvent::Sent));
}

fn answer(state: &mut LinkState, correlation: u64, payload: &[u8]) {
    let report = match read_pacs002(payload, &state.ctx.limits.iso) {
        Ok(report) => report,
        Err(e) => {
            tracing::error!(link = %state.name, correlation, error = %e, "unreadable status from clearing house");
            return;
        }
    };
    let Some(tx) = report.txs.first() else {
        tracing::error!(link = %state.name, correlation, "status without a transaction");
        return;
    };
    let outcome = match tx.tx_sts {
        TxStatus::ACSC | TxStatus::ACCC => Outcome::Settled,
        TxStatus::RJCT => Outcome::Rejected(
            tx.reason
                .map(|r| r.as_str().to_owned())
                .or_else(|| tx.reason_other_cd.clone())
                .unwrap_or_else(|| "NARR".to_owned()),
        ),
        other => {
            tracing::debug!(link = %state.name, correlation, status = other.as_str(), "intermediate status");
            return;
        }
    };
    match state.pending.remove(&correlation) {
        Some((uetr, payment)) => {
            if payment.cast(PaymentMsg::Event(PaymentEvent::ClearingAnswered(outcome))).is_err() {
                tracing::warn!(link = %state.name, %uetr, "answer for a payment that already ended");
            }
        }
        None => {
            state.unmatched_replies += 1;
            tracing::warn!(link = %state.name, correlation, unmatched = state.unmatched_replies, "unmatched clearing reply");
        }
    }
}
