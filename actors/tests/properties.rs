//! Property tests of the pure machines against reference models and invariants.

use proptest::prelude::*;
use switchyard_actors::admission::{Admission, Decision, Known, Stored};
use switchyard_actors::breaker::{Breaker, BreakerLimits, BreakerState};
use switchyard_actors::payment::{
    CancelState, Jitter, PaymentEffect, PaymentEvent, PaymentLimits, PaymentMachine, Phase,
};
use switchyard_actors::{Fingerprint, Outcome};

fn event() -> impl Strategy<Value = PaymentEvent> {
    prop_oneof![
        Just(PaymentEvent::Started),
        Just(PaymentEvent::Recovered),
        Just(PaymentEvent::Sent),
        Just(PaymentEvent::Delivered),
        Just(PaymentEvent::LinkUnavailable("down".into())),
        Just(PaymentEvent::RetryDue),
        Just(PaymentEvent::ClearingAnswered(Outcome::Settled)),
        Just(PaymentEvent::ClearingAnswered(Outcome::Rejected("AM04".into()))),
        Just(PaymentEvent::NotFound),
        (0u32..4, 0u32..4).prop_map(|(attempt, inquiry)| PaymentEvent::DeadlineReached { attempt, inquiry }),
        Just(PaymentEvent::OutcomeDurable),
        Just(PaymentEvent::OutcomeNotDurable),
        Just(PaymentEvent::CancelRequested),
        any::<bool>().prop_map(|cancelled| PaymentEvent::CancelAnswered { cancelled }),
        Just(PaymentEvent::CancelUndeliverable("down".into())),
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
        let (mut cancel_requests, mut cancel_answers) = (0u32, 0u32);
        for (now, ev) in std::iter::once(first).chain(events).enumerate() {
            let before = m.phase.clone();
            let done_before = m.is_done();
            let not_found = ev == PaymentEvent::NotFound;
            let is_cancel_request = ev == PaymentEvent::CancelRequested;
            cancel_requests += u32::from(is_cancel_request);
            let effects = m.step(ev, now as u64);
            cancel_answers += effects.iter().filter(|e| matches!(e, PaymentEffect::AnswerCancel(_))).count() as u32;
            // Every cancellation request gets exactly one answer: now, or later while one is pending.
            let pending = u32::from(m.cancel != CancelState::None);
            prop_assert_eq!(cancel_requests, cancel_answers + pending, "cancel answers after {:?}", before);
            if done_before {
                let only_answers = effects.iter().all(|e| matches!(e, PaymentEffect::AnswerCancel(_)));
                prop_assert!(only_answers && (effects.is_empty() || is_cancel_request),
                    "no effect after the outcome is reported, except refusing a cancellation");
            }
            if matches!(journaled, Some(Outcome::Cancelled(_))) {
                prop_assert!(!effects.iter().any(|e| matches!(e, PaymentEffect::Submit { .. })), "submitted after cancel");
            }
            if not_found && !effects.is_empty() {
                maybe_at_clearing = false; // the clearing house said it never received it
            }
            for e in &effects {
                match e {
                    PaymentEffect::Submit { .. } => prop_assert!(!maybe_at_clearing, "resubmitted from {before:?}"),
                    PaymentEffect::ForwardCancel => prop_assert!(maybe_at_clearing || matches!(m.phase, Phase::AwaitingClearing { .. }),
                        "forwarded a cancellation for a payment that never left"),
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

    /// Retry delays: never above the cap, never below (100 - jitter%) of the unjittered delay,
    /// monotone in the attempt without jitter, and a pure function of (attempt, jitter).
    #[test]
    fn retry_delay_bounds(base in 1u64..1_000, max in 1u64..100_000, pct in 0u32..=100,
                          attempt in 1u32..40, draw in 0u32..1_000_000) {
        let limits = PaymentLimits { retry_base_ms: base, retry_max_ms: max, retry_jitter_pct: pct, ..PaymentLimits::default() };
        let m = PaymentMachine::new(limits);
        let full = m.backoff_ms(attempt);
        let jittered = m.jittered_backoff_ms(attempt, Jitter(draw));
        prop_assert!(full <= max.max(base.min(max)));
        prop_assert!(jittered <= full);
        prop_assert!(u128::from(jittered) * 100 >= u128::from(full) * u128::from(100 - pct));
        prop_assert!(m.backoff_ms(attempt + 1) >= full);
        prop_assert_eq!(jittered, m.jittered_backoff_ms(attempt, Jitter(draw)));
    }

    /// In-doubt re-inquiry delays: never above the cap, never below (100 - jitter%) of the
    /// unjittered delay, and monotone in the round without jitter.
    #[test]
    fn reinquiry_delay_bounds(base in 1u64..10_000, extra in 0u64..1_000_000, pct in 0u32..=100,
                              round in 1u32..100, draw in 0u32..1_000_000) {
        let limits = PaymentLimits { reinquiry_base_ms: base, reinquiry_max_ms: base + extra, retry_jitter_pct: pct, ..PaymentLimits::default() };
        let full = limits.reinquiry_delay_ms(round, Jitter::NONE);
        let jittered = limits.reinquiry_delay_ms(round, Jitter(draw));
        prop_assert!(full <= base + extra && full >= base);
        prop_assert!(jittered <= full);
        prop_assert!(u128::from(jittered) * 100 >= u128::from(full) * u128::from(100 - pct));
        prop_assert!(limits.reinquiry_delay_ms(round + 1, Jitter::NONE) >= full);
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
                        prop_assert_eq!(a.lookup(&u), Some(Known::Final(Outcome::Settled)));
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

mod routing {
    use proptest::prelude::*;
    use switchyard_actors::route::{Route, RouteMatch, RouteQuery, RouteTable};

    const LINKS: &[&str] = &["a", "b", "c", "d"];
    const CCY: &[&str] = &["ZAR", "USD"];
    const BICS: &[&str] = &["ZYAAZAJJ", "ZYABZAJJXXX", "ZYBBZAJJ"];
    const CODES: &[&str] = &["INST", "URGP"];

    fn opt(values: &'static [&'static str]) -> impl Strategy<Value = Option<String>> {
        proptest::option::of(proptest::sample::select(values).prop_map(str::to_owned))
    }

    fn rule() -> impl Strategy<Value = Route> {
        (
            (
                opt(&["pacs.008", "pacs.009"]),
                opt(CCY),
                proptest::option::of(0i64..1_000),
                proptest::option::of(0i64..1_000),
            ),
            (opt(&["ZY", "ZYAA", "ZYABZAJJ", "ZYBB"]), opt(&["RTGS", "ACH"]), opt(CODES), opt(&["t1", "t2"])),
            (
                proptest::sample::select(LINKS),
                0u32..4,
                proptest::collection::vec(proptest::sample::select(LINKS), 0..3),
            ),
        )
            .prop_map(
                |(
                    (message_type, currency, min, max),
                    (prefix, clearing_system, service_level, tenant),
                    (link, priority, alternates),
                )| Route {
                    matches: RouteMatch {
                        message_type,
                        currency,
                        min_amount_minor: min,
                        max_amount_minor: max,
                        creditor_agent_prefix: prefix,
                        clearing_system,
                        service_level,
                        tenant,
                    },
                    link: link.to_owned(),
                    priority,
                    alternates: alternates.into_iter().map(str::to_owned).collect(),
                },
            )
    }

    /// The reference: each criterion checked on its own, rules sorted by (priority, position).
    fn model(rules: &[Route], q: &RouteQuery<'_>) -> Vec<String> {
        let ok = |want: &Option<String>, have: Option<&str>| match want {
            None => true,
            Some(w) => have == Some(w.as_str()),
        };
        let mut matching: Vec<(u32, usize, &Route)> = Vec::new();
        for (i, r) in rules.iter().enumerate() {
            let m = &r.matches;
            let in_range = (m.min_amount_minor.unwrap_or(i64::MIN)..=m.max_amount_minor.unwrap_or(i64::MAX))
                .contains(&q.amount_minor);
            let prefix = m
                .creditor_agent_prefix
                .as_ref()
                .is_none_or(|p| q.creditor_agent.get(..p.len()) == Some(p.as_str()));
            if ok(&m.message_type, Some(q.message_type))
                && ok(&m.currency, Some(q.currency))
                && ok(&m.tenant, Some(q.tenant))
                && ok(&m.clearing_system, q.clearing_system)
                && ok(&m.service_level, q.service_level)
                && in_range
                && prefix
            {
                matching.push((r.priority, i, r));
            }
        }
        matching.sort_by_key(|(p, i, _)| (*p, *i));
        let mut out: Vec<String> = Vec::new();
        for (_, _, r) in matching {
            for l in std::iter::once(&r.link).chain(&r.alternates) {
                if !out.iter().any(|o| o == l) {
                    out.push(l.clone());
                }
            }
        }
        out
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2_000))]

        /// The route table agrees with the reference model on every query; `select` is the
        /// first candidate; candidates never repeat and name only links the table names.
        #[test]
        fn route_table_matches_its_model(
            rules in proptest::collection::vec(rule(), 0..8),
            ccy in proptest::sample::select(CCY),
            amount in 0i64..1_000,
            bic in proptest::sample::select(BICS),
            clearing in opt(&["RTGS", "ACH"]),
            level in opt(CODES),
            tenant in proptest::sample::select(&["t1", "t2"][..]),
            message_type in proptest::sample::select(&["pacs.008", "pacs.009"][..]),
        ) {
            let table = RouteTable { routes: rules.clone() };
            let q = RouteQuery {
                tenant, message_type, currency: ccy, amount_minor: amount, creditor_agent: bic,
                clearing_system: clearing.as_deref(), service_level: level.as_deref(),
            };
            let got = table.candidates(&q);
            prop_assert_eq!(&got, &model(&rules, &q));
            prop_assert_eq!(table.select(&q), got.first().map(String::as_str));
            let mut unique = got.clone();
            unique.sort();
            unique.dedup();
            prop_assert_eq!(unique.len(), got.len());
            let named: Vec<&str> = table.links().collect();
            prop_assert!(got.iter().all(|l| named.contains(&l.as_str())));
        }
    }
}
