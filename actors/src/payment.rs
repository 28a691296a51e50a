//! The payment state machine: from durable acceptance to an outcome, with no I/O.
//!
//! `PaymentMachine::step(event, now_ms)` returns the effects the actor must apply. The machine
//! never submits twice without knowing the first submission failed before reaching the clearing
//! house (`LinkUnavailable` means the link refused it locally): a clearing timeout is an unknown
//! outcome and ends in `InDoubt`, to be resolved by a status inquiry, never by a resend
//! (invariant 4).

use crate::domain::Outcome;

/// Limits that bound a payment's life; all from config.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PaymentLimits {
    /// How long to wait for the clearing house's answer to one submission.
    pub clearing_timeout_ms: u64,
    /// First retry delay when no link could take the submission; doubles per attempt.
    pub retry_base_ms: u64,
    /// Cap on the retry delay.
    pub retry_max_ms: u64,
    /// Submission attempts (all refused locally) before the payment is dead-lettered.
    pub max_attempts: u32,
}

impl Default for PaymentLimits {
    fn default() -> Self {
        Self { clearing_timeout_ms: 10_000, retry_base_ms: 50, retry_max_ms: 2_000, max_attempts: 20 }
    }
}

/// Where a payment is. `Finalizing` means the outcome is being made durable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Phase {
    /// Durable, not yet offered to a clearing link.
    Accepted,
    /// Offered to a link (attempt n, 1-based); waiting for the link to take it.
    Routing { attempt: u32 },
    /// Waiting to retry after a local refusal.
    Backoff { attempt: u32 },
    /// Sent to the clearing house; waiting for its pacs.002 until `deadline_ms`.
    AwaitingClearing { attempt: u32, deadline_ms: u64 },
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
    /// The actor started during recovery: the payment may already be at the clearing house,
    /// so it must not be submitted again before a status inquiry resolves it.
    Recovered,
    /// A link took the submission and wrote it to the clearing house.
    Sent,
    /// No link could take the submission (none routed, disconnected, window full, breaker open).
    LinkUnavailable(String),
    /// A backoff timer fired.
    RetryDue,
    /// The clearing house answered: settled, or rejected with a reason code.
    ClearingAnswered(Outcome),
    /// A clearing deadline timer fired for the given attempt.
    DeadlineReached { attempt: u32 },
    /// The outcome record is durable.
    OutcomeDurable,
    /// The journal could not take the outcome record (full, i/o): write it again.
    OutcomeNotDurable,
}

/// What the actor must do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PaymentEffect {
    /// Ask the router/link to submit (attempt n).
    Submit { attempt: u32 },
    /// Fire `RetryDue` after the delay.
    ScheduleRetry { after_ms: u64 },
    /// Fire `DeadlineReached { attempt }` after the delay.
    ScheduleDeadline { attempt: u32, after_ms: u64 },
    /// Append the outcome to the journal; answer `OutcomeDurable` when synced.
    JournalOutcome(Outcome),
    /// Tell the participant (pacs.002) and the tenant; then the actor may stop.
    Report(Outcome),
}

/// The pure payment machine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaymentMachine {
    pub phase: Phase,
    pub limits: PaymentLimits,
}

impl PaymentMachine {
    #[must_use]
    pub fn new(limits: PaymentLimits) -> Self {
        Self { phase: Phase::Accepted, limits }
    }

    /// Capped exponential backoff for attempt `n` (1-based). Jitter, if any, is added by the
    /// shell from its RNG; the machine stays deterministic.
    #[must_use]
    pub fn backoff_ms(&self, attempt: u32) -> u64 {
        let shift = attempt.saturating_sub(1).min(20);
        self.limits.retry_base_ms.saturating_mul(1 << shift).min(self.limits.retry_max_ms)
    }

    /// Applies one event; events that do not fit the phase are ignored (late timers, duplicate
    /// answers) and produce no effect.
    pub fn step(&mut self, event: PaymentEvent, now_ms: u64) -> Vec<PaymentEffect> {
        use PaymentEvent as E;
        match (&self.phase, event) {
            (Phase::Accepted, E::Started) | (Phase::Backoff { .. }, E::RetryDue) => {
                let attempt = match self.phase {
                    Phase::Backoff { attempt } => attempt + 1,
                    _ => 1,
                };
                self.phase = Phase::Routing { attempt };
                vec![PaymentEffect::Submit { attempt }]
            }
            (Phase::Accepted, E::Recovered) => self.finalize(Outcome::InDoubt),
            (&Phase::Routing { attempt }, E::Sent) => {
                let after_ms = self.limits.clearing_timeout_ms;
                self.phase = Phase::AwaitingClearing { attempt, deadline_ms: now_ms + after_ms };
                vec![PaymentEffect::ScheduleDeadline { attempt, after_ms }]
            }
            (&Phase::Routing { attempt }, E::LinkUnavailable(why)) => {
                if attempt >= self.limits.max_attempts {
                    self.finalize(Outcome::DeadLettered(why))
                } else {
                    self.phase = Phase::Backoff { attempt };
                    vec![PaymentEffect::ScheduleRetry { after_ms: self.backoff_ms(attempt) }]
                }
            }
            (Phase::AwaitingClearing { .. } | Phase::Routing { .. }, E::ClearingAnswered(outcome)) => {
                self.finalize(outcome)
            }
            (&Phase::AwaitingClearing { attempt, .. }, E::DeadlineReached { attempt: fired })
                if fired == attempt =>
            {
                self.finalize(Outcome::InDoubt)
            }
            (Phase::Finalizing(outcome), E::OutcomeNotDurable) => {
                vec![PaymentEffect::JournalOutcome(outcome.clone())]
            }
            (Phase::Finalizing(outcome), E::OutcomeDurable) => {
                let outcome = outcome.clone();
                self.phase = Phase::Done(outcome.clone());
                vec![PaymentEffect::Report(outcome)]
            }
            _ => Vec::new(),
        }
    }

    fn finalize(&mut self, outcome: Outcome) -> Vec<PaymentEffect> {
        self.phase = Phase::Finalizing(outcome.clone());
        vec![PaymentEffect::JournalOutcome(outcome)]
    }

    /// Terminal: nothing more will happen.
    #[must_use]
    pub fn is_done(&self) -> bool {
        matches!(self.phase, Phase::Done(_))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn machine() -> PaymentMachine {
        PaymentMachine::new(PaymentLimits { max_attempts: 3, ..PaymentLimits::default() })
    }

    #[test]
    fn happy_path_settles_after_the_outcome_is_durable() {
        let mut m = machine();
        assert_eq!(m.step(PaymentEvent::Started, 0), vec![PaymentEffect::Submit { attempt: 1 }]);
        assert_eq!(
            m.step(PaymentEvent::Sent, 5),
            vec![PaymentEffect::ScheduleDeadline { attempt: 1, after_ms: 10_000 }]
        );
        assert_eq!(
            m.step(PaymentEvent::ClearingAnswered(Outcome::Settled), 7),
            vec![PaymentEffect::JournalOutcome(Outcome::Settled)]
        );
        assert!(!m.is_done(), "not reported before durable");
        assert_eq!(m.step(PaymentEvent::OutcomeDurable, 8), vec![PaymentEffect::Report(Outcome::Settled)]);
        assert!(m.is_done());
    }

    #[test]
    fn a_timeout_is_in_doubt_never_a_resend() {
        let mut m = machine();
        m.step(PaymentEvent::Started, 0);
        m.step(PaymentEvent::Sent, 0);
        let effects = m.step(PaymentEvent::DeadlineReached { attempt: 1 }, 10_000);
        assert_eq!(effects, vec![PaymentEffect::JournalOutcome(Outcome::InDoubt)]);
        assert!(!effects.iter().any(|e| matches!(e, PaymentEffect::Submit { .. })));
    }

    #[test]
    fn recovery_never_resubmits() {
        let mut m = machine();
        assert_eq!(m.step(PaymentEvent::Recovered, 0), vec![PaymentEffect::JournalOutcome(Outcome::InDoubt)]);
    }

    #[test]
    fn local_refusals_back_off_then_dead_letter() {
        let mut m = machine();
        m.step(PaymentEvent::Started, 0);
        let e = m.step(PaymentEvent::LinkUnavailable("down".into()), 0);
        assert_eq!(e, vec![PaymentEffect::ScheduleRetry { after_ms: 50 }]);
        assert_eq!(m.step(PaymentEvent::RetryDue, 50), vec![PaymentEffect::Submit { attempt: 2 }]);
        assert_eq!(
            m.step(PaymentEvent::LinkUnavailable("down".into()), 50),
            vec![PaymentEffect::ScheduleRetry { after_ms: 100 }]
        );
        m.step(PaymentEvent::RetryDue, 150);
        assert_eq!(
            m.step(PaymentEvent::LinkUnavailable("down".into()), 150),
            vec![PaymentEffect::JournalOutcome(Outcome::DeadLettered("down".into()))]
        );
    }

    #[test]
    fn stale_timers_and_duplicate_answers_are_ignored() {
        let mut m = machine();
        m.step(PaymentEvent::Started, 0);
        m.step(PaymentEvent::Sent, 0);
        assert!(m.step(PaymentEvent::DeadlineReached { attempt: 7 }, 1).is_empty());
        m.step(PaymentEvent::ClearingAnswered(Outcome::Settled), 2);
        assert!(m.step(PaymentEvent::ClearingAnswered(Outcome::Rejected("AM04".into())), 3).is_empty());
        assert!(m.step(PaymentEvent::DeadlineReached { attempt: 1 }, 10_000).is_empty());
    }

    #[test]
    fn backoff_is_capped() {
        let m = machine();
        assert_eq!(m.backoff_ms(1), 50);
        assert_eq!(m.backoff_ms(3), 200);
        assert_eq!(m.backoff_ms(30), 2_000);
    }
}
