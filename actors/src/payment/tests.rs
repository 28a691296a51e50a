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
