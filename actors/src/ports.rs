//! Ports: the only ways actors reach the world. Adapters implement them; tests can too.

use bytes::Bytes;

use crate::admission::Stored;
use crate::record::JournalRecord;

/// Called once the record is durable (its batch fdatasync'ed), with its sequence number.
pub type DurableCallback = Box<dyn FnOnce(Result<u64, JournalFailure>) + Send + 'static>;

/// Why the journal could not take or keep a record.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum JournalFailure {
    /// The journal's bounded queue is full: the caller must push back, not drop.
    #[error("journal queue full")]
    Full,
    /// The journal is shut down.
    #[error("journal closed")]
    Closed,
    /// A write or sync failed; nothing in the batch is acknowledged.
    #[error("journal i/o: {0}")]
    Io(String),
}

/// The write-ahead journal as the actors see it.
pub trait JournalPort: Send + Sync + 'static {
    /// Queues `record`. `done` runs exactly once: with the sequence number after the record is
    /// durable, or with the failure (e.g. `Full` when the queue is at its bound, synchronously,
    /// before `append` returns). Never blocks.
    fn append(&self, record: &JournalRecord, done: DurableCallback);
}

/// The durable idempotency index (the state store) for keys a tenant's memory let go of, and
/// the two sequence numbers that say when letting go is safe.
pub trait HistoryPort: Send + Sync + 'static {
    /// What the store knows of this tenant's UETR and MsgId (an empty MsgId: the UETR only).
    /// An error means the store cannot
    /// answer; the submission is then refused as busy rather than risk a duplicate.
    fn stored(&self, tenant: &str, uetr: &str, msg_id: &str) -> Result<Stored, String>;
    /// The last sequence number the journal has made durable.
    fn durable_seq(&self) -> u64;
    /// The last journal sequence number the store has applied.
    fn projected_seq(&self) -> u64;
    /// Messages for the tenant's participant that were journaled as undelivered and not
    /// delivered since (returns), by UETR; read once when the tenant starts.
    fn undelivered(&self, _tenant: &str) -> Result<Vec<(String, Vec<u8>)>, String> {
        Ok(Vec::new())
    }
    /// What the store knows of an inbound payment (clearing house → this tenant's participant)
    /// with this UETR: asked when the tenant's memory has no answer (after a restart, or once
    /// it let the UETR go). An error: the store cannot answer (the caller refuses, retryable).
    fn inbound(&self, _tenant: &str, _uetr: &str) -> Result<Option<InboundStored>, String> {
        Ok(None)
    }
    /// Inbound payments of the tenant received (journaled) and never answered by its
    /// participant, nor refused: (UETR, link it arrived on, the pacs.008 as received). Read
    /// once when the tenant starts; they are delivered again (the participant's answer was
    /// lost with the previous run, or never came).
    fn unanswered_inbound(&self, _tenant: &str) -> Result<Vec<(String, String, Vec<u8>)>, String> {
        Ok(Vec::new())
    }
    /// The kind of one of the tenant's stored payments (for answers naming it once memory let
    /// go of it); `None` when the store has no such payment or it was stored without its kind.
    fn kind(&self, _tenant: &str, _uetr: &str) -> Result<Option<crate::message::MessageKind>, String> {
        Ok(None)
    }
    /// Returns (pacs.004) of the tenant's participant journaled and sent, or being sent, to a
    /// clearing house whose answer never came (nor that they were not sent): (UETR, link, the
    /// pacs.004 as sent). Read once when the tenant starts; each is asked about (pacs.028).
    fn unanswered_returns(&self, _tenant: &str) -> Result<Vec<(String, String, Vec<u8>)>, String> {
        Ok(Vec::new())
    }
}

/// What the durable store knows of one inbound payment ([`HistoryPort::inbound`]).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct InboundStored {
    /// The clearing link it arrived on.
    pub link: String,
    /// The participant's final status as relayed to the clearing house (`ACSC`, `RJCT`, ...);
    /// `None`: received, the participant's status never came (or never was relayed).
    pub status: Option<String>,
    /// The status reason code, if any.
    pub reason: Option<String>,
    /// The participant returned it (its pacs.004 is journaled) and the return was not
    /// refused since (not sent, or rejected by the clearing house).
    pub returned: bool,
    /// The clearing house's status of the participant's last return (`ACSC`, `RJCT`), if it
    /// answered.
    pub return_status: Option<String>,
}

/// No store behind the tenants: nothing is ever forgotten (tests and tools).
#[derive(Debug, Default, Clone, Copy)]
pub struct NoHistory;

impl HistoryPort for NoHistory {
    fn stored(&self, _: &str, _: &str, _: &str) -> Result<Stored, String> {
        Ok(Stored::default())
    }
    /// Past every projected seq, so no final payment is ever dropped from memory.
    fn durable_seq(&self) -> u64 {
        u64::MAX
    }
    fn projected_seq(&self) -> u64 {
        0
    }
}

/// What a frame on a connection means, in the actors' terms (wire kinds map 1:1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WireKind {
    Submit,
    Status,
    Deliver,
    Error,
}

/// One message for a peer: kind, correlation id, payload (ISO 20022 XML or control text).
#[derive(Debug, Clone)]
pub struct WireMsg {
    pub kind: WireKind,
    pub correlation: u64,
    pub payload: Bytes,
}

/// The peer has gone (connection closed); the message was not sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("peer connection closed")]
pub struct PeerGone;

/// The write side of one connection. Implementations queue into a bounded writer; the bound is
/// sized so that a peer honouring its credit window can never fill it (docs/PROTOCOL.md).
pub trait Outbound: Send + Sync + 'static {
    fn send(&self, msg: WireMsg) -> Result<(), PeerGone>;
}

/// Wall-clock time for the actor shells. Pure machines never call it; they get `now_ms`.
pub trait Clock: Send + Sync + 'static {
    /// Milliseconds since the Unix epoch.
    fn now_ms(&self) -> u64;
    /// ISO 8601 UTC timestamp for message headers (CreDtTm).
    fn timestamp(&self) -> String;
}
