use super::*;

fn machine() -> PaymentMachine {
    PaymentMachine::new(PaymentLimits { max_attempts: 3, max_inquiries: 2, ..PaymentLimits::default() })
}

fn deadline(attempt: u32, inquiry: u32) -> PaymentEffect {
    PaymentEffect::ScheduleDeadline { attempt, inquiry, after_ms: 10_000 }
}

#[test]
fn happy_path_settles_after_the_outcome_is_durable() {
    let mut m = machine();
    assert_eq!(m.step(PaymentEvent::Started, 0), vec![PaymentEffect::Submit { attempt: 1 }]);
    assert_eq!(m.step(PaymentEvent::Sent, 5), vec![deadline(1, 0)]);
    assert_eq!(
        m.step(PaymentEvent::ClearingAnswered(Outcome::Settled), 7),
        vec![PaymentEffect::JournalOutcome(Outcome::Settled)]
    );
    assert!(!m.is_done(), "not reported before durable");
    assert_eq!(m.step(PaymentEvent::OutcomeDurable, 8), vec![PaymentEffect::Report(Outcome::Settled)]);
    assert!(m.is_done());
}

#[test]
fn a_timeout_asks_the_clearing_house_and_never_resends() {
    let mut m = machine();
    m.step(PaymentEvent::Started, 0);
    m.step(PaymentEvent::Sent, 0);
    let effects = m.step(PaymentEvent::DeadlineReached { attempt: 1, inquiry: 0 }, 10_000);
    assert_eq!(effects, vec![PaymentEffect::ReportTimeout, PaymentEffect::Inquire { inquiry: 1 }]);
    assert_eq!(m.step(PaymentEvent::Sent, 10_001), vec![deadline(1, 1)]);
    assert_eq!(
        m.step(PaymentEvent::ClearingAnswered(Outcome::Settled), 10_002),
        vec![PaymentEffect::JournalOutcome(Outcome::Settled)]
    );
    assert_eq!(m.inquiries_sent, 1);
}

/// On-us: the creditor tenant is the clearing house; the deadline is its participant's answer
/// timeout, and the creditor tenant's answer to the inquiry after it is final.
#[test]
fn an_on_us_delivery_waits_for_the_creditors_answer_timeout_then_asks_the_creditor_tenant() {
    let mut m = machine();
    m.step(PaymentEvent::Started, 0);
    let timeout = m.limits.inbound_answer_timeout_ms;
    assert_ne!(timeout, m.limits.clearing_timeout_ms);
    assert_eq!(
        m.step(PaymentEvent::Delivered, 1),
        vec![PaymentEffect::ScheduleDeadline { attempt: 1, inquiry: 0, after_ms: timeout }]
    );
    assert_eq!(m.step(PaymentEvent::Delivered, 2), vec![], "a repeat changes nothing");
    let effects = m.step(PaymentEvent::DeadlineReached { attempt: 1, inquiry: 0 }, timeout + 1);
    assert_eq!(effects, vec![PaymentEffect::ReportTimeout, PaymentEffect::Inquire { inquiry: 1 }]);
    m.step(PaymentEvent::Sent, timeout + 1);
    let rejected = Outcome::Rejected("AB05".into());
    assert_eq!(
        m.step(PaymentEvent::ClearingAnswered(rejected.clone()), timeout + 2),
        vec![PaymentEffect::JournalOutcome(rejected)]
    );
    // Not found at the creditor tenant (it never held it): delivered again, never in doubt.
    let mut m = machine();
    m.step(PaymentEvent::Started, 0);
    m.step(PaymentEvent::Delivered, 0);
    m.step(PaymentEvent::DeadlineReached { attempt: 1, inquiry: 0 }, timeout);
    m.step(PaymentEvent::Sent, timeout);
    assert_eq!(m.step(PaymentEvent::NotFound, timeout), vec![PaymentEffect::Submit { attempt: 2 }]);
}

#[test]
fn not_found_makes_a_new_submission_safe() {
    let mut m = machine();
    m.step(PaymentEvent::Started, 0);
    m.step(PaymentEvent::Sent, 0);
    m.step(PaymentEvent::DeadlineReached { attempt: 1, inquiry: 0 }, 10_000);
    m.step(PaymentEvent::Sent, 10_000);
    assert_eq!(m.step(PaymentEvent::NotFound, 10_001), vec![PaymentEffect::Submit { attempt: 2 }]);
}

#[test]
fn unanswered_inquiries_end_in_doubt() {
    let mut m = machine();
    m.step(PaymentEvent::Started, 0);
    m.step(PaymentEvent::Sent, 0);
    m.step(PaymentEvent::DeadlineReached { attempt: 1, inquiry: 0 }, 1);
    m.step(PaymentEvent::Sent, 1);
    assert_eq!(
        m.step(PaymentEvent::DeadlineReached { attempt: 1, inquiry: 1 }, 2),
        vec![PaymentEffect::ScheduleRetry { after_ms: 50 }]
    );
    assert_eq!(m.step(PaymentEvent::RetryDue, 3), vec![PaymentEffect::Inquire { inquiry: 2 }]);
    m.step(PaymentEvent::Sent, 3);
    assert_eq!(
        m.step(PaymentEvent::DeadlineReached { attempt: 1, inquiry: 2 }, 4),
        vec![PaymentEffect::JournalOutcome(Outcome::InDoubt)]
    );
}

#[test]
fn recovery_inquires_before_anything_else() {
    let mut m = machine();
    assert_eq!(m.step(PaymentEvent::Recovered, 0), vec![PaymentEffect::Inquire { inquiry: 1 }]);
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
    assert!(m.step(PaymentEvent::DeadlineReached { attempt: 7, inquiry: 0 }, 1).is_empty());
    m.step(PaymentEvent::ClearingAnswered(Outcome::Settled), 2);
    assert!(m.step(PaymentEvent::ClearingAnswered(Outcome::Rejected("AM04".into())), 3).is_empty());
    assert!(m.step(PaymentEvent::DeadlineReached { attempt: 1, inquiry: 0 }, 10_000).is_empty());
    assert!(m.step(PaymentEvent::NotFound, 10_001).is_empty());
}

#[test]
fn backoff_is_capped() {
    let m = machine();
    assert_eq!(m.backoff_ms(1), 50);
    assert_eq!(m.backoff_ms(3), 200);
    assert_eq!(m.backoff_ms(30), 2_000);
}

fn cancelled_locally() -> Outcome {
    Outcome::Cancelled("cancelled by the participant before clearing".into())
}

#[test]
fn cancel_before_clearing_is_local_and_answered_after_durable() {
    let mut m = machine();
    m.step(PaymentEvent::Started, 0);
    m.step(PaymentEvent::LinkUnavailable("down".into()), 0);
    assert!(matches!(m.phase, Phase::Backoff { .. }));
    assert_eq!(
        m.step(PaymentEvent::CancelRequested, 1),
        vec![PaymentEffect::JournalOutcome(cancelled_locally())]
    );
    assert!(m.step(PaymentEvent::RetryDue, 2).is_empty(), "a cancelled payment is never submitted");
    assert_eq!(
        m.step(PaymentEvent::OutcomeDurable, 3),
        vec![
            PaymentEffect::Report(cancelled_locally()),
            PaymentEffect::AnswerCancel(CancelAnswer::Cancelled)
        ]
    );
}

#[test]
fn cancel_while_routing_waits_for_the_link() {
    // Refused by the link: it never left, so it is cancelled here.
    let mut m = machine();
    m.step(PaymentEvent::Started, 0);
    assert!(m.step(PaymentEvent::CancelRequested, 1).is_empty());
    assert_eq!(
        m.step(PaymentEvent::LinkUnavailable("down".into()), 2),
        vec![PaymentEffect::JournalOutcome(cancelled_locally())]
    );
    // Sent by the link: only the clearing house can cancel it now.
    let mut m = machine();
    m.step(PaymentEvent::Started, 0);
    m.step(PaymentEvent::CancelRequested, 1);
    assert_eq!(m.step(PaymentEvent::Sent, 2), vec![deadline(1, 0), PaymentEffect::ForwardCancel]);
    assert_eq!(m.cancel, CancelState::Forwarded);
}

#[test]
fn cancel_at_clearing_is_forwarded_and_the_answer_relayed() {
    // The clearing house cancels: final state Cancelled, its camt.029 relayed once durable.
    let mut m = machine();
    m.step(PaymentEvent::Started, 0);
    m.step(PaymentEvent::Sent, 0);
    assert_eq!(m.step(PaymentEvent::CancelRequested, 1), vec![PaymentEffect::ForwardCancel]);
    let by_clearing = Outcome::Cancelled("cancelled by the clearing house".into());
    assert_eq!(
        m.step(PaymentEvent::CancelAnswered { cancelled: true }, 2),
        vec![PaymentEffect::JournalOutcome(by_clearing.clone())]
    );
    assert!(m.step(PaymentEvent::ClearingAnswered(Outcome::Settled), 3).is_empty());
    assert_eq!(
        m.step(PaymentEvent::OutcomeDurable, 4),
        vec![PaymentEffect::Report(by_clearing), PaymentEffect::AnswerCancel(CancelAnswer::Relay)]
    );

    // The clearing house refuses: relayed at once, the payment goes on.
    let mut m = machine();
    m.step(PaymentEvent::Started, 0);
    m.step(PaymentEvent::Sent, 0);
    m.step(PaymentEvent::CancelRequested, 1);
    assert_eq!(
        m.step(PaymentEvent::CancelAnswered { cancelled: false }, 2),
        vec![PaymentEffect::AnswerCancel(CancelAnswer::Relay)]
    );
    assert_eq!(m.cancel, CancelState::None);
    assert_eq!(
        m.step(PaymentEvent::ClearingAnswered(Outcome::Settled), 3),
        vec![PaymentEffect::JournalOutcome(Outcome::Settled)]
    );
}

#[test]
fn cancel_outcomes_race_and_failures_are_answered_once() {
    // The outcome arrives before the clearing house's camt.029: the requester hears RJCR.
    let mut m = machine();
    m.step(PaymentEvent::Started, 0);
    m.step(PaymentEvent::Sent, 0);
    m.step(PaymentEvent::CancelRequested, 1);
    m.step(PaymentEvent::ClearingAnswered(Outcome::Settled), 2);
    let effects = m.step(PaymentEvent::OutcomeDurable, 3);
    assert!(matches!(
        effects.as_slice(),
        [
            PaymentEffect::Report(Outcome::Settled),
            PaymentEffect::AnswerCancel(CancelAnswer::Refused { reason: "AGNT", .. })
        ]
    ));
    assert!(m.step(PaymentEvent::CancelAnswered { cancelled: true }, 4).is_empty(), "late answer ignored");
    // A second request while one is in progress, and a request after the outcome.
    let mut m = machine();
    m.step(PaymentEvent::Started, 0);
    m.step(PaymentEvent::Sent, 0);
    m.step(PaymentEvent::CancelRequested, 1);
    assert!(matches!(
        m.step(PaymentEvent::CancelRequested, 2).as_slice(),
        [PaymentEffect::AnswerCancel(CancelAnswer::Refused { reason: "ARPL", .. })]
    ));
    // The link could not deliver the request.
    assert!(matches!(
        m.step(PaymentEvent::CancelUndeliverable("down".into()), 3).as_slice(),
        [PaymentEffect::AnswerCancel(CancelAnswer::Refused { reason: "ARPL", .. })]
    ));
    m.step(PaymentEvent::ClearingAnswered(Outcome::Rejected("AM04".into())), 4);
    m.step(PaymentEvent::OutcomeDurable, 5);
    assert!(matches!(
        m.step(PaymentEvent::CancelRequested, 6).as_slice(),
        [PaymentEffect::AnswerCancel(CancelAnswer::Refused { reason: "AGNT", .. })]
    ));
}

#[test]
fn retry_delays_carry_jitter_within_bounds() {
    let mut m = machine();
    assert_eq!(m.jittered_backoff_ms(3, Jitter::NONE), 200);
    // 20% of 200 ms at most: 999_999 ppm takes 39 ms off (integer arithmetic, rounded down).
    assert_eq!(m.jittered_backoff_ms(3, Jitter(999_999)), 161);
    assert_eq!(m.jittered_backoff_ms(3, Jitter(500_000)), 180);
    assert_eq!(m.jittered_backoff_ms(30, Jitter(500_000)), 1_800, "capped first, then jittered");
    m.step(PaymentEvent::Started, 0);
    assert_eq!(
        m.step_with_jitter(PaymentEvent::LinkUnavailable("down".into()), 0, Jitter(500_000)),
        vec![PaymentEffect::ScheduleRetry { after_ms: 45 }]
    );
}

#[test]
fn in_doubt_reinquiry_rounds_back_off_to_a_cap() {
    let limits =
        PaymentLimits { reinquiry_base_ms: 100, reinquiry_max_ms: 1_000, ..PaymentLimits::default() };
    let delays: Vec<u64> = (1..=6).map(|round| limits.reinquiry_delay_ms(round, Jitter::NONE)).collect();
    assert_eq!(delays, vec![100, 200, 400, 800, 1_000, 1_000]);
    // 20% jitter at most, taken off the capped delay.
    assert_eq!(limits.reinquiry_delay_ms(6, Jitter(500_000)), 900);
    assert_eq!(limits.reinquiry_delay_ms(u32::MAX, Jitter::NONE), 1_000, "no overflow far out");
}
