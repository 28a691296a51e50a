//! A tenant's submission rate limit: a token bucket (GCRA, from the governor crate) shared by all
//! of the tenant's sessions. Checked by the session before a message is even parsed, so a tenant
//! far over its quota costs little CPU and never touches the journal or other tenants' actors.
//!
//! This is part of the actor shell, not a pure machine: governor reads a monotonic clock.

use std::num::NonZeroU32;
use std::sync::{PoisonError, RwLock};

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

/// One tenant's limiter. A configuration reload swaps the bucket in place ([`RateLimit::set`]),
/// so sessions that are already connected follow the new rate at once.
#[derive(Debug)]
pub struct RateLimit {
    inner: RwLock<(RateSpec, DefaultDirectRateLimiter)>,
}

fn limiter(spec: RateSpec) -> DefaultDirectRateLimiter {
    RateLimiter::direct(Quota::per_second(spec.per_second).allow_burst(spec.burst))
}

impl RateLimit {
    #[must_use]
    pub fn new(spec: RateSpec) -> Self {
        Self { inner: RwLock::new((spec, limiter(spec))) }
    }

    /// Takes one token; `false` when the tenant is over its rate.
    #[must_use]
    pub fn try_take(&self) -> bool {
        self.inner.read().unwrap_or_else(PoisonError::into_inner).1.check().is_ok()
    }

    #[must_use]
    pub fn spec(&self) -> RateSpec {
        self.inner.read().unwrap_or_else(PoisonError::into_inner).0
    }

    /// Replaces the rate (a full bucket at the new burst); a no-op when it is unchanged.
    pub fn set(&self, spec: RateSpec) {
        let mut inner = self.inner.write().unwrap_or_else(PoisonError::into_inner);
        if inner.0 != spec {
            *inner = (spec, limiter(spec));
        }
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

    #[test]
    fn set_replaces_the_bucket_and_keeps_an_unchanged_one() {
        let one = RateSpec { per_second: NonZeroU32::new(1).unwrap(), burst: NonZeroU32::new(1).unwrap() };
        let limit = RateLimit::new(one);
        assert!(limit.try_take());
        assert!(!limit.try_take(), "bucket empty");
        limit.set(one);
        assert!(!limit.try_take(), "the same spec keeps the (empty) bucket");
        let more = RateSpec { per_second: NonZeroU32::new(1).unwrap(), burst: NonZeroU32::new(5).unwrap() };
        limit.set(more);
        assert_eq!(limit.spec(), more);
        assert_eq!((0..10).filter(|_| limit.try_take()).count(), 5, "a fresh bucket at the new burst");
    }
}
