//! The projection: how one journal record changes the store's trees, inside a transaction.
//!
//! The rules, in one place:
//! - `Accepted` stores the payment (without its bytes), its `by_time` row, its MsgId (the first
//!   payment to use a MsgId keeps it: a lifetime index), its `open` row and its message bytes.
//!   An `Accepted` for a UETR the tenant already has is a re-acceptance (a DLQ replay): the
//!   payment is reopened with the new fields and keeps its history.
//! - `Outcome` appends to the payment's history and sets its outcome. In doubt keeps it open;
//!   dead-lettered closes it and lists it in the DLQ (its bytes stay, a replay needs them);
//!   settled and rejected are terminal: closed, off the DLQ, bytes dropped. An outcome after a
//!   terminal one is kept in the history only (the payment machine never does this; the
//!   journal is still the truth, so it is not an error). Cancelled and returned are terminal
//!   too; `Returned` after `Settled` (a pacs.004) is the one outcome that replaces a terminal one. An outcome for an unknown payment is
//!   audited and logged.
//! - `Refused` changes no payment; it is counted and audited.
//! - `Operator` (an operator's DLQ action) appends `dlq-replayed` or `dlq-purged` to the
//!   payment's history. A replay of a listed payment clears its outcome, takes it off the DLQ
//!   and puts it back in the open set (so a restart resumes it); a purge takes it off the DLQ
//!   and drops its bytes (the payment and its history stay). On a payment that is not listed,
//!   the action is kept in the history only.
//!
//! Every record appends exactly one audit entry. Nothing here reads a clock.

use switchyard_actors::domain::Outcome;
use switchyard_actors::record::{
    AcceptedPayment, Delivery, InboundPayment, JournalRecord, OperatorAction, OperatorKind, PaymentOutcome,
    RefusedSubmission,
};

use crate::state::audit::{self, AuditChange, AuditHead};
use crate::state::keys;
use crate::state::stored::{self, DlqRecord, StoredInbound, StoredPayment};
use crate::state::trees::{TxResult, TxTrees};
use crate::state::view::StateChange;

/// Applies `record` (journal seq `seq`) and appends its audit entry after `head`.
pub(crate) fn apply_record(
    t: &TxTrees<'_>,
    head: &mut AuditHead,
    seq: u64,
    record: &JournalRecord,
) -> TxResult<()> {
    let (tenant, uetr, at_ms, change) = match record {
        JournalRecord::Accepted(a) => (&a.tenant, Some(&a.uetr), a.accepted_at_ms, accept(t, seq, a)?),
        JournalRecord::Outcome(o) => (&o.tenant, Some(&o.uetr), o.at_ms, outcome(t, seq, o)?),
        JournalRecord::Refused(r) => (&r.tenant, r.uetr.as_ref(), r.at_ms, refused(t, r)?),
        JournalRecord::Operator(o) => (&o.tenant, Some(&o.uetr), o.at_ms, operator(t, seq, o)?),
        // Link-level, no tenant: audited only (the payment's own history is its outcome).
        JournalRecord::UnmatchedReply(u) => {
            (&String::new(), u.uetr.as_ref(), u.at_ms, format!("unmatched-reply:{}:{}", u.link, u.status))
        }
        JournalRecord::Delivery(d) => (&d.tenant, Some(&d.uetr), d.at_ms, delivery(t, d)?),
        // An inbound payment (clearing house → participant): kept in its own `inbound` tree
        // (dedup of a clearing house's repeated pacs.008, returns); it is not one of the
        // tenant's own payments (inquiries, DLQ and listings are about those).
        JournalRecord::Inbound(i) => (&i.tenant, Some(&i.uetr), i.at_ms, inbound(t, i)?),
    };
    let change = AuditChange {
        tenant: tenant.clone(),
        uetr: uetr.cloned(),
        at_ms,
        change,
        record_digest: audit::record_digest(record),
    };
    head.append(t, seq, change)
}

/// Removes a payment from the DLQ listing (its bytes stay while it is dead-lettered) and
/// audits the purge at `applied_seq`. Returns whether it was listed.
pub(crate) fn purge_dlq(
    t: &TxTrees<'_>,
    tenant: &str,
    uetr: &str,
    applied_seq: u64,
    now_ms: u64,
) -> TxResult<bool> {
    if t.dlq.remove(keys::tenant_key(tenant, uetr)?)?.is_none() {
        return Ok(false);
    }
    let mut head = AuditHead::load(t)?;
    let change = AuditChange {
        tenant: tenant.into(),
        uetr: Some(uetr.into()),
        at_ms: now_ms,
        change: "dlq-purged".into(),
        record_digest: [0; 32],
    };
    head.append(t, applied_seq, change)?;
    head.save(t)?;
    Ok(true)
}

/// A message waiting for the participant's session: kept until delivered.
fn delivery(t: &TxTrees<'_>, d: &Delivery) -> TxResult<String> {
    let key = keys::tenant_key(&d.tenant, &d.uetr)?;
    if d.delivered {
        t.undelivered.remove(key)?;
        Ok("delivered".into())
    } else {
        t.undelivered.insert(key, d.message.as_slice())?;
        Ok("undelivered".into())
    }
}

/// An inbound payment's row: created when received, its status set when the participant's
/// status is relayed, `returned` set by its return (a `RETURNED` record) and cleared again by a
/// return that was not sent or that the clearing house rejected (`RETURN-NOT-SENT`,
/// `RETURN-RJCT`); the clearing house's answer to a return is kept (`RETURN-<status>`).
/// Received again (a repeated delivery after a restart), the row keeps what it knew. While a
/// received payment is unanswered (no status, not refused: `REFUSED`), its pacs.008 is kept
/// under its open key so a restart delivers it again; while a return's answer is unknown
/// (`RETURNED`, then neither `RETURN-NOT-SENT` nor `RETURN-<status>`), its pacs.004 is kept under
/// its return key so a restart asks about it.
fn inbound(t: &TxTrees<'_>, i: &InboundPayment) -> TxResult<String> {
    let key = keys::tenant_key(&i.tenant, &i.uetr)?;
    let open = keys::inbound_open_key(&i.tenant, &i.uetr)?;
    let return_open = keys::return_open_key(&i.tenant, &i.uetr)?;
    let mut row = match t.inbound.get(&key)? {
        Some(bytes) => stored::decode_inbound(&bytes)?,
        None => StoredInbound {
            link: i.link.clone(),
            status: None,
            reason: None,
            returned: false,
            return_status: None,
        },
    };
    match i.status.as_deref() {
        None => {
            if row.status.is_none() && !row.returned {
                t.inbound.insert(open, i.message.as_slice())?;
            }
        }
        Some(InboundPayment::REFUSED) => {
            t.inbound.remove(open)?;
        }
        Some(InboundPayment::RETURNED) => {
            row.returned = true;
            row.return_status = None;
            t.inbound.insert(return_open, i.message.as_slice())?;
        }
        Some(InboundPayment::RETURN_NOT_SENT) => {
            row.returned = false;
            t.inbound.remove(return_open)?;
        }
        Some(_) if i.return_answer().is_some() => {
            t.inbound.remove(return_open)?;
            let answer = i.return_answer().unwrap_or_default();
            if answer == "RJCT" {
                row.returned = false;
            }
            row.return_status = Some(answer.to_owned());
        }
        Some(status) => {
            row.status = Some(status.to_owned());
            row.reason.clone_from(&i.reason);
            t.inbound.remove(open)?;
        }
    }
    t.inbound.insert(key, stored::encode(&row))?;
    Ok(format!("inbound:{}:{}", i.link, i.status.as_deref().unwrap_or("received")))
}

fn accept(t: &TxTrees<'_>, seq: u64, a: &AcceptedPayment) -> TxResult<String> {
    let key = keys::tenant_key(&a.tenant, &a.uetr)?;
    let mut payment = StoredPayment::accepted(seq, a);
    if let Some(old) = t.payment(&key)? {
        tracing::info!(tenant = %a.tenant, uetr = %a.uetr, seq, "payment accepted again (replay): reopened");
        t.by_time.remove(keys::time_key(&old.tenant, old.accepted_at_ms, old.accepted_seq)?)?;
        payment.history = old.history;
    }
    payment.history.push(StateChange { seq, at_ms: a.accepted_at_ms, state: StateChange::ACCEPTED.into() });
    t.payments.insert(key.clone(), stored::encode(&payment))?;
    t.by_time.insert(keys::time_key(&a.tenant, a.accepted_at_ms, seq)?, a.uetr.as_bytes())?;
    let msg_key = keys::tenant_key(&a.tenant, &a.msg_id)?;
    if t.msg_ids.get(&msg_key)?.is_none() {
        t.msg_ids.insert(msg_key, a.uetr.as_bytes())?;
    }
    t.open.insert(key.clone(), &seq.to_be_bytes()[..])?;
    t.dlq.remove(key.clone())?;
    t.messages.insert(key, a.message.as_slice())?;
    Ok(StateChange::ACCEPTED.into())
}

fn outcome(t: &TxTrees<'_>, seq: u64, o: &PaymentOutcome) -> TxResult<String> {
    let label = StateChange::outcome_label(&o.outcome);
    let key = keys::tenant_key(&o.tenant, &o.uetr)?;
    let Some(mut payment) = t.payment(&key)? else {
        tracing::warn!(tenant = %o.tenant, uetr = %o.uetr, seq, "outcome for a payment the store never saw accepted");
        return Ok(label);
    };
    payment.history.push(StateChange { seq, at_ms: o.at_ms, state: label.clone() });
    // A return (pacs.004) is the one outcome that follows a terminal one: settled → returned.
    let returned_after_settled =
        matches!(o.outcome, Outcome::Returned(_)) && payment.outcome == Some(Outcome::Settled);
    if payment.is_terminal() && !returned_after_settled {
        tracing::warn!(tenant = %o.tenant, uetr = %o.uetr, seq, "outcome after a terminal outcome: history only");
    } else {
        payment.outcome = Some(o.outcome.clone());
        place(t, &key, seq, &payment, o)?;
    }
    t.payments.insert(key, stored::encode(&payment))?;
    Ok(label)
}

/// Moves the payment between the open set, the DLQ and closed, by its new outcome.
fn place(t: &TxTrees<'_>, key: &[u8], seq: u64, payment: &StoredPayment, o: &PaymentOutcome) -> TxResult<()> {
    match &o.outcome {
        Outcome::InDoubt => {
            t.open.insert(key, &payment.accepted_seq.to_be_bytes()[..])?;
            t.dlq.remove(key)?;
        }
        Outcome::DeadLettered(reason) => {
            t.open.remove(key)?;
            t.dlq.insert(key, stored::encode(&DlqRecord { reason: reason.clone(), at_ms: o.at_ms, seq }))?;
        }
        Outcome::Settled | Outcome::Rejected(_) | Outcome::Cancelled(_) | Outcome::Returned(_) => {
            t.open.remove(key)?;
            t.dlq.remove(key)?;
            t.messages.remove(key)?;
        }
    }
    Ok(())
}

fn operator(t: &TxTrees<'_>, seq: u64, o: &OperatorAction) -> TxResult<String> {
    let label = o.kind.label().to_owned();
    let key = keys::tenant_key(&o.tenant, &o.uetr)?;
    let Some(mut payment) = t.payment(&key)? else {
        tracing::warn!(tenant = %o.tenant, uetr = %o.uetr, seq, "operator action on a payment the store never saw");
        return Ok(label);
    };
    payment.history.push(StateChange { seq, at_ms: o.at_ms, state: label.clone() });
    if t.dlq.remove(key.clone())?.is_some() {
        match o.kind {
            OperatorKind::DlqReplay => {
                payment.outcome = None;
                t.open.insert(key.clone(), &payment.accepted_seq.to_be_bytes()[..])?;
            }
            OperatorKind::DlqPurge => {
                t.messages.remove(key.clone())?;
            }
        }
    } else {
        tracing::warn!(tenant = %o.tenant, uetr = %o.uetr, seq, action = %label, "operator action on a payment not in the DLQ: history only");
    }
    t.payments.insert(key, stored::encode(&payment))?;
    Ok(label)
}

fn refused(t: &TxTrees<'_>, r: &RefusedSubmission) -> TxResult<String> {
    let refused = t.meta_u64(keys::META_REFUSED)?;
    t.put_meta_u64(keys::META_REFUSED, refused + 1)?;
    Ok(format!("refused:{}", r.reason))
}
