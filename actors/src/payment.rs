//! The payment state machine: from durable acceptance to an outcome, with no I/O.
//!
//! `PaymentMachine::step(event, now_ms)` returns the effects the actor must apply. The rule that
//! shapes it (invariant 4): a submission whose fate is unknown is never sent again. After a
//! clearing deadline, or after a restart, the machine asks the clearing house (pacs.028 status
//! inquiry). Only an explicit "not found" answer — the clearing house never received it — makes a
//! new submission safe. A link that refuses a submission locally (not connected, window full,
//! breaker open) never sent it, so that is retried with capped exponential backoff, moving
//! through the alternate routes.

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
}

impl Default for PaymentLimits {
    fn default() -> Self {
        Self {
            clearing_timeout_ms: 10_000,
            retry_base_ms: 50,
            retry_max_ms: 2_000,
            max_attempts: 20,
            max_inquiries: 5,
        }
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
}

/// The pure payment machine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaymentMachine {
    pub phase: Phase,
    pub limits: PaymentLimits,
    /// Status inquiries sent; > 0 means the outcome was resolved by inquiry.
    pub inquiries_sent: u32,
}

impl PaymentMachine {
    #[must_use]
    pub fn new(limits: PaymentLimits) -> Self {
        Self { phase: Phase::Accepted, limits, inquiries_sent: 0 }
    }

    /// Capped exponential backoff for attempt `n` (1-based). Jitter, if any, is added by the
    /// shell from its RNG; the machine stays deterministic.
    #[must_use]
    pub fn backoff_ms(&self, attempt: u32) -> u64 {
        let shift = attempt.saturating_sub(1).min(20);
        self.limits.retry_base_ms.saturating_mul(1 << shift).min(self.limits.retry_max_ms)
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
        match (self.phase.clone(), event) {
            (Phase::Accepted, E::Started) => self.submit(1),
            (Phase::Accepted, E::Recovered) => self.inquire(0, 1),
            (Phase::Backoff { attempt }, E::RetryDue) => self.submit(attempt + 1),
            (Phase::Routing { attempt }, E::Sent) => {
                self.phase = Phase::AwaitingClearing { attempt };
                vec![self.deadline(attempt, 0)]
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
                vec![PaymentEffect::Report(outcome)]
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
        vec![PaymentEffect::ScheduleRetry { after_ms: self.backoff_ms(attempt) }]
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
        vec![PaymentEffect::ScheduleRetry { after_ms: self.backoff_ms(inquiry) }]
    }

    fn deadline(&self, attempt: u32, inquiry: u32) -> PaymentEffect {
        PaymentEffect::ScheduleDeadline { attempt, inquiry, after_ms: self.limits.clearing_timeout_ms }
    }

    fn finalize(&mut self, outcome: Outcome) -> Vec<PaymentEffect> {
        self.phase = Phase::Finalizing(outcome.clone());
        vec![PaymentEffect::JournalOutcome(outcome)]
    }
}

#[cfg(test)]
mod tests;
