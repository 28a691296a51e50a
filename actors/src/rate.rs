//! A tenant's submission rate limit: a token bucket (GCRA, from the governor crate) shared by all
//! of the tenant's sessions. Checked by the session before a message is even parsed, so a tenant
//! far over its quota costs little CPU and never touches the journal or other tenants' actors.
//!
//! This is part of the actor shell, not a pure machine: governor reads a monotonic clock.

use std::num::NonZeroU32;

use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};

/// Submissions per second and burst, from config (defaults: 100/s, burst 200).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateSpec {
    pub per_second: NonZeroU32,
    pub burst: NonZeroU32,
}

impl Default for RateSpec {
    fn default() -> Self {
        Self {
            per_second: NonZeroU32::new(100).expect("non-zero"),
            burst: NonZeroU32::new(200).expect("non-zero"),
        }
    }
}

/// One tenant's limiter.
#[derive(Debug)]
pub struct RateLimit {
    spec: RateSpec,
    limiter: DefaultDirectRateLimiter,
}

impl RateLimit {
    #[must_use]
    pub fn new(spec: RateSpec) -> Self {
        let quota = Quota::per_second(spec.per_second).allow_burst(spec.burst);
        Self { spec, limiter: RateLimiter::direct(quota) }
    }

    /// Takes one token; `false` when the tenant is over its rate.
    #[must_use]
    pub fn try_take(&self) -> bool {
        self.limiter.check().is_ok()
    }

    #[must_use]
    pub fn spec(&self) -> RateSpec {
        self.spec
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn burst_then_refuse() {
        let spec = RateSpec { per_second: NonZeroU32::new(1).unwrap(), burst: NonZeroU32::new(3).unwrap() };
        let limit = RateLimit::new(spec);
        let taken = (0..10).filter(|_| limit.try_take()).count();
        // The burst is available at once; at 1/s hardly any more token accrues during the loop.
        assert!((3..=4).contains(&taken), "took {taken}");
    }
}
