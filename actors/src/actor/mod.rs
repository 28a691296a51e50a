//! The ractor actors: thin shells around the pure machines.
//!
//! Supervision tree (DESIGN §6):
//! ```text
//! NodeActor ── TenantActor (one per configured tenant) ── SessionActor (one per connection)
//!          │                                          └─ PaymentActor (one per payment)
//!          └─ LinkActor (one per clearing link)
//! ```
//! Mailboxes are unbounded in ractor; every queue is bounded by credits instead: a session's
//! reader takes a permit from its credit semaphore (the credit window sent at sign-on) before it
//! reads a frame, and that permit travels with the submission into the payment actor, released
//! only when the payment reaches an outcome. So a tenant's queued work is at most the sum of its
//! sessions' windows, and a session without credit stops reading its socket (TCP pushes back).

mod case;
mod context;
mod link;
mod node;
mod payment;
mod session;
mod status;
mod tenant;

pub use case::{
    message_family, message_identifier, CancelRequest, InquiryRequest, Requester, INQUIRY_NOT_FOUND,
};
pub use context::{Counters, NodeContext, NodeLimits};
pub use link::{LinkActor, LinkArgs, LinkMsg, LinkSnapshot, SubmitKind, NOT_FOUND_REASON};
pub use node::{NodeActor, NodeArgs, NodeMsg, NodeRefs};
pub use payment::{PaymentActor, PaymentArgs, PaymentMsg, RouteFacts};
pub use session::{SessionActor, SessionArgs, SessionMsg};
pub use status::StatusWriter;
pub use tenant::{
    CreditorStatus, HistoryEntry, InboundReturn, SessionOutbound, TenantActor, TenantArgs, TenantMsg,
    TenantSnapshot, MAX_UNDELIVERED,
};
