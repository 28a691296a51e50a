//! A circuit breaker for one clearing link, with no I/O: time comes in as `now_ms`.
//!
//! Closed: submissions flow; `failure_threshold` consecutive failures (timeouts, connection
//! losses) open it. Open: every submission is refused locally for `open_ms` (payments back off
//! and fail over to alternate routes). Half-open: one probe submission is let through; its success
//! closes the breaker, its failure opens it again.

/// Thresholds, from config.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BreakerLimits {
    pub failure_threshold: u32,
    pub open_ms: u64,
}

impl Default for BreakerLimits {
    fn default() -> Self {
        Self { failure_threshold: 5, open_ms: 1_000 }
    }
}

/// The breaker's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BreakerState {
    Closed {
        consecutive_failures: u32,
    },
    Open {
        until_ms: u64,
    },
    /// A probe is outstanding (`true`) or may be sent (`false`).
    HalfOpen {
        probing: bool,
    },
}

impl BreakerState {
    /// The metric value: 0 closed, 1 half-open, 2 open.
    #[must_use]
    pub fn gauge(self) -> u8 {
        match self {
            Self::Closed { .. } => 0,
            Self::HalfOpen { .. } => 1,
            Self::Open { .. } => 2,
        }
    }
}

/// The pure breaker.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Breaker {
    pub state: BreakerState,
    pub limits: BreakerLimits,
}

impl Breaker {
    #[must_use]
    pub fn new(limits: BreakerLimits) -> Self {
        Self { state: BreakerState::Closed { consecutive_failures: 0 }, limits }
    }

    /// May a submission go out now? Taking the half-open probe slot is part of the answer.
    pub fn admit(&mut self, now_ms: u64) -> bool {
        match self.state {
            BreakerState::Closed { .. } => true,
            BreakerState::Open { until_ms } if now_ms >= until_ms => {
                self.state = BreakerState::HalfOpen { probing: true };
                true
            }
            BreakerState::Open { .. } | BreakerState::HalfOpen { probing: true } => false,
            BreakerState::HalfOpen { probing: false } => {
                self.state = BreakerState::HalfOpen { probing: true };
                true
            }
        }
    }

    /// The clearing house answered something.
    pub fn success(&mut self) {
        self.state = BreakerState::Closed { consecutive_failures: 0 };
    }

    /// A timeout or a lost connection.
    pub fn failure(&mut self, now_ms: u64) {
        let open = BreakerState::Open { until_ms: now_ms.saturating_add(self.limits.open_ms) };
        self.state = match self.state {
            BreakerState::Closed { consecutive_failures }
                if consecutive_failures + 1 < self.limits.failure_threshold =>
            {
                BreakerState::Closed { consecutive_failures: consecutive_failures + 1 }
            }
            BreakerState::Open { until_ms } => BreakerState::Open { until_ms },
            _ => open,
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn opens_after_threshold_then_probes_once() {
        let mut b = Breaker::new(BreakerLimits { failure_threshold: 2, open_ms: 100 });
        assert!(b.admit(0));
        b.failure(0);
        assert!(b.admit(1), "one failure is below the threshold");
        b.failure(1);
        assert_eq!(b.state, BreakerState::Open { until_ms: 101 });
        assert!(!b.admit(50));
        assert!(b.admit(101), "half-open probe");
        assert!(!b.admit(102), "only one probe at a time");
        b.failure(102);
        assert_eq!(b.state, BreakerState::Open { until_ms: 202 });
        assert!(b.admit(202));
        b.success();
        assert!(b.admit(203));
        assert_eq!(b.state.gauge(), 0);
    }

    #[test]
    fn a_success_resets_the_failure_count() {
        let mut b = Breaker::new(BreakerLimits { failure_threshold: 2, open_ms: 100 });
        b.failure(0);
        b.success();
        b.failure(1);
        assert!(b.admit(2));
    }
}
