//! The journal as the actors' [`JournalPort`]: records are encoded with the journal's codec (the
//! project's one bincode module) and their completion is mapped to the port's contract
//! (`done` runs exactly once, also when the journal refuses the record).

use std::sync::{Arc, Mutex};

use crossbeam_channel::Sender;

use switchyard_actors::admission::{Known, Stored};
use switchyard_actors::ports::{DurableCallback, HistoryPort, InboundStored, JournalFailure, JournalPort};
use switchyard_actors::JournalRecord;
use switchyard_journal::state::StateStore;
use switchyard_journal::{codec, Journal, JournalError};

use crate::projector::Projected;

/// Adapts a [`Journal`] handle; durable records are also offered to the state projector.
#[derive(Debug, Clone)]
pub struct JournalAdapter {
    pub journal: Journal,
    /// The projector's input (bounded; a full channel is caught up from the journal later).
    pub projector: Option<Sender<Projected>>,
    /// The stuck-payment counter, told about payments opening and closing as they are durable.
    pub stuck: Option<Arc<crate::stuck::StuckTracker>>,
}

fn failure(e: &JournalError) -> JournalFailure {
    match e {
        JournalError::Full => JournalFailure::Full,
        JournalError::Closed => JournalFailure::Closed,
        other => JournalFailure::Io(other.to_string()),
    }
}

impl JournalPort for JournalAdapter {
    fn append(&self, record: &JournalRecord, done: DurableCallback) {
        let payload = codec::encode(record);
        // The journal drops `done` uncalled when it refuses a record; keep a way to call it.
        let slot = Arc::new(Mutex::new(Some(done)));
        let in_writer = Arc::clone(&slot);
        let projected = self.projector.clone().map(|tx| (tx, Box::new(record.clone())));
        let stuck =
            self.stuck.as_ref().and_then(|t| Some((Arc::clone(t), crate::stuck::StuckEvent::of(record)?)));
        let completion = Box::new(move |result: Result<u64, JournalError>| {
            if let (Ok(seq), Some((tx, record))) = (&result, projected) {
                let _ = tx.try_send((*seq, record));
            }
            if let (Ok(_), Some((tracker, event))) = (&result, stuck) {
                tracker.observe(event);
            }
            if let Some(done) = in_writer.lock().ok().and_then(|mut s| s.take()) {
                done(result.map_err(|e| failure(&e)));
            }
        });
        if let Err(e) = self.journal.append(record.record_type(), payload, completion) {
            if let Some(done) = slot.lock().ok().and_then(|mut s| s.take()) {
                done(Err(failure(&e)));
            }
        }
    }
}

/// The state store as the tenants' durable idempotency index ([`HistoryPort`]): keys a tenant
/// let go of are answered from the projection, which is never behind what they let go of.
#[derive(Debug, Clone)]
pub struct StateHistory {
    pub store: StateStore,
    pub journal: Journal,
}

impl HistoryPort for StateHistory {
    /// The store's in-memory key filter answers for keys it certainly lacks (almost every new
    /// payment); sled is read only for the rest.
    fn stored(&self, tenant: &str, uetr: &str, msg_id: &str) -> Result<Stored, String> {
        let payment = if self.store.may_hold_payment(tenant, uetr) {
            self.store.idempotency(tenant, uetr).map_err(|e| e.to_string())?.map(|entry| {
                let known = entry.outcome.map_or(Known::Accepted, Known::Final);
                (entry.fingerprint, known)
            })
        } else {
            None
        };
        let msg_id_owner = if msg_id.is_empty() || !self.store.may_hold_msg_id(tenant, msg_id) {
            None
        } else {
            self.store.msg_id_owner(tenant, msg_id).map_err(|e| e.to_string())?
        };
        Ok(Stored { payment, msg_id_owner })
    }

    fn durable_seq(&self) -> u64 {
        self.journal.stats().last_seq
    }

    fn projected_seq(&self) -> u64 {
        self.store.applied_seq()
    }

    fn undelivered(&self, tenant: &str) -> Result<Vec<(String, Vec<u8>)>, String> {
        self.store.undelivered(tenant).map_err(|e| e.to_string())
    }

    /// Straight from the store's `inbound` tree (not through the payments key filter).
    fn inbound(&self, tenant: &str, uetr: &str) -> Result<Option<InboundStored>, String> {
        self.store.inbound(tenant, uetr).map_err(|e| e.to_string())
    }

    fn unanswered_inbound(&self, tenant: &str) -> Result<Vec<(String, String, Vec<u8>)>, String> {
        self.store.unanswered_inbound(tenant).map_err(|e| e.to_string())
    }

    /// Straight from the store (not through the key filter: asked for inquiries and
    /// cancellations only, never per submission).
    fn kind(
        &self,
        tenant: &str,
        uetr: &str,
    ) -> Result<Option<switchyard_actors::message::MessageKind>, String> {
        let entry = self.store.idempotency(tenant, uetr).map_err(|e| e.to_string())?;
        Ok(entry.and_then(|e| e.kind).and_then(|k| switchyard_actors::message::MessageKind::of_family(&k)))
    }

    fn unanswered_returns(&self, tenant: &str) -> Result<Vec<(String, String, Vec<u8>)>, String> {
        self.store.unanswered_returns(tenant).map_err(|e| e.to_string())
    }
}
