//! The payment state machine: from durable acceptance to an outcome, with no I/O.
//!
//! `PaymentMachine::step(event, now_ms)` returns the effects the actor must apply. The rule that
//! shapes it (invariant 4): a submission whose fate is unknown is never sent again. After a
//! clearing deadline, or after a restart, the machine asks the clearing house (pacs.028 status
//! inquiry). Only an explicit "not found" answer — the clearing house never received it — makes a
//! new submission safe. A link that refuses a submission locally (not connected, window full,
//! breaker open) never sent it, so that is retried with capped exponential backoff and jitter
//! (the jitter is an input, [`Jitter`], never drawn here), moving through the alternate routes.
//!
//! Cancellation (camt.056, DESIGN §3): a payment that has not reached a clearing house yet is
//! cancelled locally (outcome `Cancelled`, journaled before the camt.029 CNCL); one that may be at
//! the clearing house has the request forwarded there and the clearing house's camt.029 relayed;
//! a request that arrives while the payment is being offered to a link waits for the link's
//! answer (sent: forward; refused: cancel locally). A request always gets exactly one answer.
//! In doubt is not the end: the tenant resumes an in-doubt payment after
//! [`PaymentLimits::reinquiry_delay_ms`] (or when a clearing link reconnects) as a recovered one,
//! so it asks again (`Recovered` → inquiry), never resubmits blindly.
//! On-us payments (both agents are tenants of the node) treat the creditor tenant as their
//! clearing house: `Delivered` instead of `Sent`, with the participant's answer timeout as the
//! deadline; the inquiry that follows it is answered at once by the creditor tenant (RJCT AB05
//! if the participant still has not answered, "not found" if it never held the payment).
//! Returns (pacs.004) move a settled payment to `Returned`; that happens after the payment
//! actor has ended and is handled by the tenant (see `actor/tenant.rs`).

use crate::domain::Outcome;

/// Limits that bound a payment's life; all from config.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PaymentLimits {
    /// How long to wait for the clearing house's answer to one submission or inquiry.
    pub clearing_timeout_ms: u64,
    /// First retry delay after a local refusal; doubles per attempt.
    pub retry_base_ms: u64,
    /// Cap on the retry delay.
    pub retry_max_ms: u64,
    /// Submission attempts (refused locally or not found) before the payment is dead-lettered.
    pub max_attempts: u32,
    /// Unanswered status inquiries before the payment is reported in doubt (PDNG).
    pub max_inquiries: u32,
    /// Share of each retry delay (percent, 0..=100) that jitter may take off, so retries of
    /// payments refused together spread out instead of arriving together.
    pub retry_jitter_pct: u32,
    /// First delay before a payment reported in doubt is asked about again (a new round of
    /// status inquiries, never a resubmission); doubles per round.
    pub reinquiry_base_ms: u64,
    /// Cap on the delay between re-inquiry rounds of an in-doubt payment.
    pub reinquiry_max_ms: u64,
    /// How long a payment delivered to a tenant's participant as creditor (inbound from a
    /// clearing house, or on-us from another tenant) waits for the participant's pacs.002; then
    /// the node answers RJCT AB05 (timeout at the creditor agent) on the participant's behalf,
    /// to the clearing house or to the on-us debtor's payment.
    pub inbound_answer_timeout_ms: u64,
}

/// A jitter draw in parts per million (`0..1_000_000`), made by the shell from its RNG and passed
/// in, so the machine stays deterministic (invariant 8).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Jitter(pub u32);

impl Jitter {
    /// No jitter: the full capped exponential delay.
    pub const NONE: Self = Self(0);
}

impl Default for PaymentLimits {
    fn default() -> Self {
        Self {
            clearing_timeout_ms: 10_000,
            retry_base_ms: 50,
            retry_max_ms: 2_000,
            max_attempts: 20,
            max_inquiries: 5,
            retry_jitter_pct: 20,
            reinquiry_base_ms: 5_000,
            reinquiry_max_ms: 300_000,
            inbound_answer_timeout_ms: 60_000,
        }
    }
}

impl PaymentLimits {
    /// Delay before re-inquiry round `round` (1-based) of a payment reported in doubt: capped
    /// exponential from `reinquiry_base_ms` to `reinquiry_max_ms`, minus up to
    /// `retry_jitter_pct` percent of it scaled by `jitter`, so payments that went in doubt
    /// together are not asked about together. Never above the cap.
    #[must_use]
    pub fn reinquiry_delay_ms(&self, round: u32, jitter: Jitter) -> u64 {
        let shift = round.saturating_sub(1).min(30);
        let full = self.reinquiry_base_ms.saturating_mul(1 << shift).min(self.reinquiry_max_ms);
        let pct = u128::from(self.retry_jitter_pct.min(100));
        let ppm = u128::from(jitter.0.min(999_999));
        let off = u128::from(full) * pct * ppm / (100 * 1_000_000);
        full - u64::try_from(off).unwrap_or(full)
    }
}

/// Where a payment is. `Finalizing` means the outcome is being made durable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Phase {
    /// Durable, not yet offered to a clearing link.
    Accepted,
    /// Offered to a link (attempt n, 1-based); waiting for the link to take it.
    Routing { attempt: u32 },
    /// Waiting to retry submission after a local refusal.
    Backoff { attempt: u32 },
    /// Sent to the clearing house; waiting for its pacs.002.
    AwaitingClearing { attempt: u32 },
    /// Fate unknown; status inquiry `n` (1-based) is outstanding or being routed.
    Inquiring { attempt: u32, inquiry: u32, sent: bool },
    /// Outcome known; its journal record is being synced.
    Finalizing(Outcome),
    /// Outcome durable and reported. Terminal.
    Done(Outcome),
}

/// What happened to the payment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PaymentEvent {
    /// The actor started for a freshly accepted payment.
    Started,
    /// The actor started during recovery: the payment may already be at the clearing house.
    Recovered,
    /// The link wrote the submission (or inquiry) to the clearing house.
    Sent,
    /// On-us: the payment was delivered to the creditor tenant's participant. The node is the
    /// clearing house here, so the submission's deadline is the participant's answer timeout
    /// (`inbound_answer_timeout_ms`); at it the creditor tenant answers RJCT AB05 for the
    /// participant (asked as an inquiry is), or "not found" if it never held the payment.
    Delivered,
    /// No link could take it (no route, disconnected, window full, breaker open).
    LinkUnavailable(String),
    /// A backoff timer fired.
    RetryDue,
    /// The clearing house answered (to the submission or an inquiry): settled or rejected.
    ClearingAnswered(Outcome),
    /// The clearing house answered an inquiry: it never received the payment.
    NotFound,
    /// The deadline timer armed for `(attempt, inquiry)` fired; inquiry 0 is the submission.
    DeadlineReached { attempt: u32, inquiry: u32 },
    /// The outcome record is durable.
    OutcomeDurable,
    /// The journal could not take the outcome record: write it again.
    OutcomeNotDurable,
    /// The participant asked to cancel the payment (camt.056).
    CancelRequested,
    /// The clearing house answered the forwarded cancellation request (camt.029): `true` when it
    /// cancelled the payment (CNCL), `false` when it refused (RJCR).
    CancelAnswered { cancelled: bool },
    /// The forwarded cancellation request could not be written to the clearing house.
    CancelUndeliverable(String),
}

/// The answer a cancellation requester gets (camt.029).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CancelAnswer {
    /// Cancelled by the switch before the payment reached a clearing house (CNCL).
    Cancelled,
    /// Refused (RJCR) with an ISO cancellation-rejection reason code and a detail.
    Refused { reason: &'static str, detail: String },
    /// Relay the clearing house's own camt.029 (CNCL or RJCR).
    Relay,
}

/// Where a cancellation request is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CancelState {
    /// No request outstanding.
    None,
    /// Asked while the payment was being offered to a link; decided by the link's answer.
    Deferred,
    /// Forwarded to the clearing house; waiting for its camt.029.
    Forwarded,
    /// The clearing house cancelled it (CNCL); its answer is relayed once `Cancelled` is durable.
    ClearingCancelled,
    /// Cancelled locally; CNCL is answered once `Cancelled` is durable.
    Local,
}

/// What the actor must do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PaymentEffect {
    /// Route and submit (attempt n).
    Submit { attempt: u32 },
    /// Send status inquiry n (pacs.028) to the link the payment was routed to.
    Inquire { inquiry: u32 },
    /// Fire `RetryDue` after the delay.
    ScheduleRetry { after_ms: u64 },
    /// Fire `DeadlineReached { attempt, inquiry }` after the delay.
    ScheduleDeadline { attempt: u32, inquiry: u32, after_ms: u64 },
    /// Tell the link its window slot and breaker: the clearing house did not answer in time.
    ReportTimeout,
    /// Append the outcome to the journal; answer `OutcomeDurable` when synced.
    JournalOutcome(Outcome),
    /// Tell the participant (pacs.002), the tenant and the link; then the actor stops.
    Report(Outcome),
    /// Send the cancellation request (camt.056) to the clearing link the payment went to.
    ForwardCancel,
    /// Answer the cancellation requester (camt.029).
    AnswerCancel(CancelAnswer),
}

/// The pure payment machine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaymentMachine {
    pub phase: Phase,
    pub limits: PaymentLimits,
    /// Status inquiries sent; > 0 means the outcome was resolved by inquiry.
    pub inquiries_sent: u32,
    /// The cancellation request in progress, if any.
    pub cancel: CancelState,
    /// Jitter for the next retry delay (set by the shell before each step).
    pub jitter: Jitter,
}

impl PaymentMachine {
    #[must_use]
    pub fn new(limits: PaymentLimits) -> Self {
        Self {
            phase: Phase::Accepted,
            limits,
            inquiries_sent: 0,
            cancel: CancelState::None,
            jitter: Jitter::NONE,
        }
    }

    /// Capped exponential backoff for attempt `n` (1-based), without jitter.
    #[must_use]
    pub fn backoff_ms(&self, attempt: u32) -> u64 {
        let shift = attempt.saturating_sub(1).min(20);
        self.limits.retry_base_ms.saturating_mul(1 << shift).min(self.limits.retry_max_ms)
    }

    /// The retry delay actually scheduled: the capped exponential delay minus up to
    /// `retry_jitter_pct` percent of it, scaled by `jitter` (ppm). Never above the cap, never
    /// below `(100 - retry_jitter_pct)`% of the capped delay.
    #[must_use]
    pub fn jittered_backoff_ms(&self, attempt: u32, jitter: Jitter) -> u64 {
        let full = self.backoff_ms(attempt);
        let pct = u128::from(self.limits.retry_jitter_pct.min(100));
        let ppm = u128::from(jitter.0.min(999_999));
        let off = u128::from(full) * pct * ppm / (100 * 1_000_000);
        full - u64::try_from(off).unwrap_or(full)
    }

    /// Applies one event with a jitter draw for any retry it schedules.
    pub fn step_with_jitter(
        &mut self,
        event: PaymentEvent,
        now_ms: u64,
        jitter: Jitter,
    ) -> Vec<PaymentEffect> {
        self.jitter = jitter;
        self.step(event, now_ms)
    }

    /// Terminal: nothing more will happen.
    #[must_use]
    pub fn is_done(&self) -> bool {
        matches!(self.phase, Phase::Done(_))
    }

    /// Applies one event. Events that do not fit the phase (late timers, duplicate answers) are
    /// ignored and produce no effect.
    pub fn step(&mut self, event: PaymentEvent, _now_ms: u64) -> Vec<PaymentEffect> {
        use PaymentEvent as E;
        match event {
            E::CancelRequested => return self.cancel_requested(),
            E::CancelAnswered { cancelled } => return self.cancel_answered(cancelled),
            E::CancelUndeliverable(why) => return self.cancel_undeliverable(&why),
            _ => {}
        }
        match (self.phase.clone(), event) {
            (Phase::Accepted, E::Started) => self.submit(1),
            (Phase::Accepted, E::Recovered) => self.inquire(0, 1),
            (Phase::Backoff { attempt }, E::RetryDue) => self.submit(attempt + 1),
            (Phase::Routing { attempt }, event @ (E::Sent | E::Delivered)) => {
                self.phase = Phase::AwaitingClearing { attempt };
                let after_ms = if event == E::Delivered {
                    self.limits.inbound_answer_timeout_ms
                } else {
                    self.limits.clearing_timeout_ms
                };
                let mut effects = vec![PaymentEffect::ScheduleDeadline { attempt, inquiry: 0, after_ms }];
                if self.cancel == CancelState::Deferred {
                    // It went out while the request waited: only the clearing house can cancel now.
                    self.cancel = CancelState::Forwarded;
                    effects.push(PaymentEffect::ForwardCancel);
                }
                effects
            }
            (Phase::Routing { .. }, E::LinkUnavailable(_)) if self.cancel == CancelState::Deferred => {
                // Never sent: cancel here.
                self.cancel = CancelState::Local;
                self.finalize(Outcome::Cancelled("cancelled by the participant before clearing".into()))
            }
            (Phase::Routing { attempt }, E::LinkUnavailable(why)) => self.refused(attempt, why),
            (Phase::Inquiring { attempt, inquiry, sent: false }, E::Sent) => {
                self.phase = Phase::Inquiring { attempt, inquiry, sent: true };
                self.inquiries_sent += 1;
                vec![self.deadline(attempt, inquiry)]
            }
            (Phase::Inquiring { attempt, inquiry, sent: false }, E::LinkUnavailable(_)) => {
                // The inquiry did not go out; ask again later (counts against the inquiry budget).
                self.next_inquiry(attempt, inquiry)
            }
            (Phase::Inquiring { attempt, inquiry, sent: false }, E::RetryDue) => {
                self.phase = Phase::Inquiring { attempt, inquiry, sent: false };
                vec![PaymentEffect::Inquire { inquiry }]
            }
            (Phase::AwaitingClearing { .. } | Phase::Inquiring { .. }, E::ClearingAnswered(outcome)) => {
                self.finalize(outcome)
            }
            (Phase::Inquiring { attempt, sent: true, .. }, E::NotFound) => self.submit(attempt + 1),
            (Phase::AwaitingClearing { attempt }, E::DeadlineReached { attempt: a, inquiry: 0 })
                if a == attempt =>
            {
                let mut effects = vec![PaymentEffect::ReportTimeout];
                effects.extend(self.inquire(attempt, 1));
                effects
            }
            (
                Phase::Inquiring { attempt, inquiry, sent: true },
                E::DeadlineReached { attempt: a, inquiry: i },
            ) if a == attempt && i == inquiry => self.next_inquiry(attempt, inquiry),
            (Phase::Finalizing(outcome), E::OutcomeNotDurable) => {
                vec![PaymentEffect::JournalOutcome(outcome)]
            }
            (Phase::Finalizing(outcome), E::OutcomeDurable) => {
                self.phase = Phase::Done(outcome.clone());
                let answer = match self.cancel {
                    CancelState::None => None,
                    CancelState::Local => Some(CancelAnswer::Cancelled),
                    CancelState::ClearingCancelled => Some(CancelAnswer::Relay),
                    CancelState::Deferred | CancelState::Forwarded => Some(CancelAnswer::Refused {
                        reason: "AGNT",
                        detail: format!("the payment reached its outcome first: {}", outcome.label()),
                    }),
                };
                self.cancel = CancelState::None;
                let mut effects = vec![PaymentEffect::Report(outcome)];
                effects.extend(answer.map(PaymentEffect::AnswerCancel));
                effects
            }
            _ => Vec::new(),
        }
    }

    fn submit(&mut self, attempt: u32) -> Vec<PaymentEffect> {
        if attempt > self.limits.max_attempts {
            return self.finalize(Outcome::DeadLettered(format!(
                "no clearing link took it in {} attempts",
                self.limits.max_attempts
            )));
        }
        self.phase = Phase::Routing { attempt };
        vec![PaymentEffect::Submit { attempt }]
    }

    fn refused(&mut self, attempt: u32, why: String) -> Vec<PaymentEffect> {
        if attempt >= self.limits.max_attempts {
            return self.finalize(Outcome::DeadLettered(why));
        }
        self.phase = Phase::Backoff { attempt };
        vec![PaymentEffect::ScheduleRetry { after_ms: self.jittered_backoff_ms(attempt, self.jitter) }]
    }

    fn inquire(&mut self, attempt: u32, inquiry: u32) -> Vec<PaymentEffect> {
        self.phase = Phase::Inquiring { attempt, inquiry, sent: false };
        vec![PaymentEffect::Inquire { inquiry }]
    }

    fn next_inquiry(&mut self, attempt: u32, inquiry: u32) -> Vec<PaymentEffect> {
        if inquiry >= self.limits.max_inquiries {
            return self.finalize(Outcome::InDoubt);
        }
        self.phase = Phase::Inquiring { attempt, inquiry: inquiry + 1, sent: false };
        vec![PaymentEffect::ScheduleRetry { after_ms: self.jittered_backoff_ms(inquiry, self.jitter) }]
    }

    fn deadline(&self, attempt: u32, inquiry: u32) -> PaymentEffect {
        PaymentEffect::ScheduleDeadline { attempt, inquiry, after_ms: self.limits.clearing_timeout_ms }
    }

    fn refuse_cancel(reason: &'static str, detail: &str) -> Vec<PaymentEffect> {
        vec![PaymentEffect::AnswerCancel(CancelAnswer::Refused { reason, detail: detail.to_owned() })]
    }

    fn cancel_requested(&mut self) -> Vec<PaymentEffect> {
        if self.cancel != CancelState::None {
            return Self::refuse_cancel(
                "ARPL",
                "a cancellation request for this payment is already in progress",
            );
        }
        match self.phase {
            // Not offered to any link yet (or refused by all so far): nothing reached a clearing house.
            Phase::Accepted | Phase::Backoff { .. } => {
                self.cancel = CancelState::Local;
                self.finalize(Outcome::Cancelled("cancelled by the participant before clearing".into()))
            }
            Phase::Routing { .. } => {
                self.cancel = CancelState::Deferred;
                Vec::new()
            }
            Phase::AwaitingClearing { .. } | Phase::Inquiring { .. } => {
                self.cancel = CancelState::Forwarded;
                vec![PaymentEffect::ForwardCancel]
            }
            Phase::Finalizing(ref outcome) | Phase::Done(ref outcome) => Self::refuse_cancel(
                "AGNT",
                &format!("the payment already has its outcome: {}", outcome.label()),
            ),
        }
    }

    fn cancel_answered(&mut self, cancelled: bool) -> Vec<PaymentEffect> {
        if self.cancel != CancelState::Forwarded {
            return Vec::new(); // late or unasked-for answer
        }
        if !cancelled {
            self.cancel = CancelState::None;
            return vec![PaymentEffect::AnswerCancel(CancelAnswer::Relay)];
        }
        match self.phase {
            Phase::AwaitingClearing { .. } | Phase::Inquiring { .. } => {
                self.cancel = CancelState::ClearingCancelled;
                self.finalize(Outcome::Cancelled("cancelled by the clearing house".into()))
            }
            // The outcome was already known; the clearing house's answer is relayed as it is.
            _ => {
                self.cancel = CancelState::None;
                vec![PaymentEffect::AnswerCancel(CancelAnswer::Relay)]
            }
        }
    }

    fn cancel_undeliverable(&mut self, why: &str) -> Vec<PaymentEffect> {
        if self.cancel != CancelState::Forwarded {
            return Vec::new();
        }
        self.cancel = CancelState::None;
        vec![PaymentEffect::AnswerCancel(CancelAnswer::Refused {
            reason: "ARPL",
            detail: format!("the request could not reach the clearing house ({why}); retry later"),
        })]
    }

    fn finalize(&mut self, outcome: Outcome) -> Vec<PaymentEffect> {
        self.phase = Phase::Finalizing(outcome.clone());
        vec![PaymentEffect::JournalOutcome(outcome)]
    }
}

#[cfg(test)]
mod tests;
