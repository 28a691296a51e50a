//! The state store: a queryable projection of the journal in sled (DESIGN §5, issue 5).
//!
//! The journal is the source of truth; this store is derived from it record by record and
//! holds what the node and operators query: payments by (tenant, UETR), the lifetime
//! idempotency index (UETR → fingerprint, MsgId, outcome; MsgId → UETR), per-tenant listings
//! by acceptance time, the recovery set (open payments, with their message bytes), the
//! dead-letter queue and a SHA-256 audit chain over every change. Each applied batch updates
//! all of it and the applied sequence number in one sled transaction, so the store is always
//! a consistent prefix of the journal; it may lag (sled's flush is not an fsync), never lead,
//! and never backs an acknowledgement. `catch_up` replays from the applied seq; `reindex`
//! rebuilds from scratch. Every tenant-data key starts with the tenant (invariant 5).
//!
//! Module map: `store` (the handle and queries), `project` (how a record changes the trees),
//! `audit` (the hash chain and its verification), `trees` (the sled trees and the
//! transaction), `keys` (key layout), `stored` (values on disk), `view` (what callers get),
//! `reindex` (rebuild), `filter` (which keys the store might hold, in memory), `error`. The layout is documented in docs/STORAGE.md §10.

mod audit;
mod error;
mod filter;
mod keys;
mod project;
mod reindex;
mod store;
mod stored;
mod trees;
mod view;

pub use audit::{AuditReport, BrokenLink};
pub use error::StateError;
pub use keys::LAYOUT_VERSION;
pub use reindex::{open_or_rebuild, reindex, Rebuilt, ReindexReport};
pub use store::{StateStore, DEFAULT_CACHE_BYTES};
pub use view::{DlqEntry, IdempotencyEntry, PaymentView, StateChange, StateCounts};

/// Names of the sled trees, for tools and tests that look at the files directly.
pub mod tree_names {
    pub use super::keys::{
        AUDIT, BY_TIME, DLQ, INBOUND, MESSAGES, META, MSG_IDS, OPEN, PAYMENTS, UNDELIVERED,
    };
}
