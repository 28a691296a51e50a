//! Property tests of the pure machines against reference models and invariants.

use proptest::prelude::*;
use switchyard_actors::admission::{Admission, Decision, Known, Stored};
use switchyard_actors::breaker::{Breaker, BreakerLimits, BreakerState};
use switchyard_actors::payment::{PaymentEffect, PaymentEvent, PaymentLimits, PaymentMachine, Phase};
use switchyard_actors::{Fingerprint, Outcome};

fn event() -> impl Strategy<Value = PaymentEvent> {
    prop_oneof![
        Just(PaymentEvent::Started),
        Just(PaymentEvent::Recovered),
        Just(PaymentEvent::Sent),
        Just(PaymentEvent::LinkUnavailable("down".into())),
        Just(PaymentEvent::RetryDue),
        Just(PaymentEvent::ClearingAnswered(Outcome::Settled)),
        Just(PaymentEvent::ClearingAnswered(Outcome::Rejected("AM04".into()))),
        Just(PaymentEvent::NotFound),
        (0u32..4, 0u32..4).prop_map(|(attempt, inquiry)| PaymentEvent::DeadlineReached { attempt, inquiry }),
        Just(PaymentEvent::OutcomeDurable),
        Just(PaymentEvent::OutcomeNotDurable),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2_000))]

    /// Invariants 3 and 4 at the machine level, for any order of events (stale timers,
    /// duplicate and late answers included).
    #[test]
    fn payment_machine_invariants(first in prop_oneof![Just(PaymentEvent::Started), Just(PaymentEvent::Recovered)],
                                  events in proptest::collection::vec(event(), 0..60)) {
        let limits = PaymentLimits { max_attempts: 3, max_inquiries: 2, ..PaymentLimits::default() };
        let mut m = PaymentMachine::new(limits);
        // A recovered payment may be at the clearing house already.
        let mut maybe_at_clearing = first == PaymentEvent::Recovered;
        let mut journaled: Option<Outcome> = None;
        let mut reported = 0;
        for (now, ev) in std::iter::once(first).chain(events).enumerate() {
            let before = m.phase.clone();
            let done_before = m.is_done();
            let not_found = ev == PaymentEvent::NotFound;
            let effects = m.step(ev, now as u64);
            if done_before {
                prop_assert!(effects.is_empty(), "no effect after the outcome is reported");
            }
            if not_found && !effects.is_empty() {
                maybe_at_clearing = false; // the clearing house said it never received it
            }
            for e in &effects {
                match e {
                    PaymentEffect::Submit { .. } => prop_assert!(!maybe_at_clearing, "resubmitted from {before:?}"),
                    PaymentEffect::JournalOutcome(o) => journaled = Some(o.clone()),
                    PaymentEffect::Report(o) => {
                        reported += 1;
                        prop_assert_eq!(Some(o), journaled.as_ref(), "report only what was journaled");
                    }
                    _ => {}
                }
            }
            if matches!(before, Phase::Routing { .. }) && matches!(m.phase, Phase::AwaitingClearing { .. }) {
                maybe_at_clearing = true;
            }
            // No wait without a timer (nothing can get stuck in the machine).
            let entered = before != m.phase;
            match m.phase {
                Phase::AwaitingClearing { .. } | Phase::Inquiring { sent: true, .. } if entered => {
                    let timed = effects.iter().any(|e| matches!(e, PaymentEffect::ScheduleDeadline { .. }));
                    prop_assert!(timed, "waiting without a deadline");
                }
                Phase::Backoff { .. } if entered => {
                    let timed = effects.iter().any(|e| matches!(e, PaymentEffect::ScheduleRetry { .. }));
                    prop_assert!(timed, "backing off without a timer");
                }
                Phase::Inquiring { sent: false, .. } if entered => {
                    let next = effects.iter().any(|e| matches!(e, PaymentEffect::ScheduleRetry { .. } | PaymentEffect::Inquire { .. }));
                    prop_assert!(next, "inquiring without an inquiry or a timer");
                }
                _ => {}
            }
        }
        prop_assert!(reported <= 1, "reported {} times", reported);
    }

    /// Admission against a reference model: a map of UETR → (MsgId, fingerprint, final?).
    /// A simulated state store projects the model now and then (op 3); admission then forgets
    /// projected final payments and must decide exactly as the all-in-memory model does,
    /// asking the store for what it forgot.
    #[test]
    fn admission_matches_its_model(ops in proptest::collection::vec((0u8..4, 0u8..6, 0u8..6, 0u8..2), 0..200)) {
        let limit = 4;
        let mut a = Admission::new(limit);
        let mut model: std::collections::HashMap<u8, (u8, u8, bool)> = Default::default();
        let mut store: std::collections::HashMap<u8, (u8, u8, bool)> = Default::default();
        let mut seq = 0u64;
        for (op, uetr, msg, fp) in ops {
            let (u, m, f) = (format!("u{uetr}"), format!("m{msg}"), Fingerprint([fp; 16]));
            seq += 1;
            match op {
                0 => {
                    let stored = if a.needs_stored(&u) {
                        Stored {
                            payment: store.get(&uetr).map(|(_, sfp, done)| {
                                let known = if *done { Known::Final(Outcome::Settled) } else { Known::Accepted };
                                (Fingerprint([*sfp; 16]), known)
                            }),
                            msg_id_owner: store.iter().find(|(_, (mm, _, _))| *mm == msg).map(|(k, _)| format!("u{k}")),
                        }
                    } else {
                        Stored::default()
                    };
                    let got = a.admit(&u, &m, f, &stored);
                    let in_flight = model.values().filter(|(_, _, done)| !done).count();
                    let want = match model.get(&uetr) {
                        Some((_, mfp, _)) if *mfp == fp => "resend",
                        Some(_) => "conflict",
                        None if model.values().any(|(mm, _, _)| *mm == msg) => "conflict",
                        None if in_flight >= limit => "busy",
                        None => "admit",
                    };
                    let kind = match got {
                        Decision::Admit => "admit",
                        Decision::Resend(_) => "resend",
                        Decision::Conflict { .. } => "conflict",
                        Decision::OverBudget { .. } => "busy",
                    };
                    prop_assert_eq!(kind, want);
                    if kind == "admit" {
                        model.insert(uetr, (msg, fp, false));
                    }
                }
                1 => {
                    if let Some(entry) = model.get_mut(&uetr).filter(|e| !e.2) {
                        a.finished(&u, Outcome::Settled, seq);
                        entry.2 = true;
                        prop_assert_eq!(a.lookup(&u), Some(&Known::Final(Outcome::Settled)));
                    }
                }
                2 => a.accepted(&u),
                _ => {
                    store = model.clone();
                    a.forget_projected(seq);
                    prop_assert_eq!(a.held(), model.values().filter(|(_, _, done)| !done).count());
                }
            }
            prop_assert_eq!(a.in_flight(), model.values().filter(|(_, _, done)| !done).count());
        }
    }

    /// The breaker never admits while open before its time, and admits at most one probe.
    #[test]
    fn breaker_probes_one_at_a_time(ops in proptest::collection::vec((0u8..3, 0u64..50), 0..100)) {
        let mut b = Breaker::new(BreakerLimits { failure_threshold: 3, open_ms: 100 });
        let mut now = 0u64;
        for (op, dt) in ops {
            now += dt;
            match op {
                0 => {
                    let state = b.state;
                    let admitted = b.admit(now);
                    match state {
                        BreakerState::Open { until_ms } => prop_assert_eq!(admitted, now >= until_ms),
                        BreakerState::HalfOpen { probing: true } => prop_assert!(!admitted),
                        _ => prop_assert!(admitted),
                    }
                }
                1 => b.failure(now),
                _ => b.success(),
            }
        }
    }
}
