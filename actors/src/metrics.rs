//! Metric names and the helpers that record them (the `metrics` facade; the composition root
//! installs the Prometheus exporter). One place for names so dashboards and docs/OPERATIONS.md
//! stay in step with the code. Every label set carries the tenant or the link (invariant 5).

use std::time::Duration;

/// Submissions by tenant and result (`accepted`, `resend`, `duplicate`, `busy`, `rate_limited`,
/// `invalid`).
pub const SUBMISSIONS: &str = "switchyard_submissions_total";
/// Payment outcomes by tenant and outcome (`settled`, `rejected`, `dead_lettered`, `in_doubt`).
pub const OUTCOMES: &str = "switchyard_payment_outcomes_total";
/// Status inquiries (pacs.028) sent, by link.
pub const INQUIRIES: &str = "switchyard_status_inquiries_total";
/// Submission → ACTC inside the node (from the frame read to the status queued), seconds.
pub const ACK_LATENCY: &str = "switchyard_ack_latency_seconds";
/// Submission → outcome inside the node, seconds.
pub const FINAL_LATENCY: &str = "switchyard_final_latency_seconds";
/// Payments admitted and not final, by tenant.
pub const IN_FLIGHT: &str = "switchyard_tenant_in_flight";
/// Payments awaiting a clearing answer, by link.
pub const LINK_OUTSTANDING: &str = "switchyard_link_outstanding";
/// Breaker state by link: 0 closed, 1 half-open, 2 open.
pub const BREAKER: &str = "switchyard_link_breaker_state";
/// Link connected (1) or not (0).
pub const LINK_UP: &str = "switchyard_link_connected";
/// Cancellation requests (camt.056) answered by the payment actor, by tenant and answer
/// (`cancelled`, `refused`, `relayed`).
pub const CANCELLATIONS: &str = "switchyard_cancellations_total";
/// Re-inquiry rounds started for payments reported in doubt, by tenant.
pub const REINQUIRIES: &str = "switchyard_in_doubt_reinquiries_total";
/// Clearing replies that matched no outstanding payment, by link.
pub const UNMATCHED: &str = "switchyard_link_unmatched_replies_total";

/// Messages waiting in actor mailboxes, by actor kind and tenant (ractor does not expose queue
/// lengths, so each is counted up at the send and down when the handler starts):
/// `actor="session"` — frames the socket readers of the tenant's sessions handed over and its
/// session actors have not handled yet (bounded by the credit windows); `actor="tenant"` —
/// participant messages (submissions, inquiries, cancellations, statuses) its sessions sent
/// and the tenant actor has not handled yet.
pub const MAILBOX_DEPTH: &str = "switchyard_mailbox_depth";

/// The mailbox-depth gauge of one actor kind of one tenant (see [`MAILBOX_DEPTH`]).
pub fn mailbox(actor: &'static str, tenant: &str) -> metrics::Gauge {
    metrics::gauge!(MAILBOX_DEPTH, "actor" => actor, "tenant" => tenant.to_owned())
}

/// Every `result` label value of [`SUBMISSIONS`]: the node registers each at zero per tenant,
/// so an alert on any sees its first event.
pub const SUBMISSION_RESULTS: [&str; 14] = [
    "accepted",
    "busy",
    "rate_limited",
    "invalid",
    "forbidden",
    "resend",
    "duplicate",
    "scheme_refused",
    "inquiry",
    "cancellation",
    "cancellation_answer",
    "status",
    "return",
    "retired",
];

/// Every `outcome` label value of [`OUTCOMES`]: the outcomes' own labels.
pub const OUTCOME_LABELS: [&str; 6] = crate::domain::Outcome::LABELS;

/// Counts one submission result (one of [`SUBMISSION_RESULTS`]).
pub fn submission(tenant: &str, result: &'static str) {
    debug_assert!(SUBMISSION_RESULTS.contains(&result), "unregistered submission result {result}");
    metrics::counter!(SUBMISSIONS, "tenant" => tenant.to_owned(), "result" => result).increment(1);
}

/// Counts one outcome (one of [`OUTCOME_LABELS`]) and records the node-internal final latency.
pub fn outcome(tenant: &str, outcome: &'static str, elapsed: Option<Duration>) {
    debug_assert!(OUTCOME_LABELS.contains(&outcome), "unregistered outcome {outcome}");
    metrics::counter!(OUTCOMES, "tenant" => tenant.to_owned(), "outcome" => outcome).increment(1);
    if let Some(d) = elapsed {
        metrics::histogram!(FINAL_LATENCY, "tenant" => tenant.to_owned()).record(d.as_secs_f64());
    }
}

/// Records the node-internal ACK latency.
pub fn ack(tenant: &str, elapsed: Duration) {
    metrics::histogram!(ACK_LATENCY, "tenant" => tenant.to_owned()).record(elapsed.as_secs_f64());
}

/// Counts one re-inquiry round of an in-doubt payment.
pub fn reinquiry(tenant: &str) {
    metrics::counter!(REINQUIRIES, "tenant" => tenant.to_owned()).increment(1);
}
