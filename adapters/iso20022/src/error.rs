//! The crate's error type: one failure, one reason code, one path, one readable detail.

use crate::reason::ReasonCode;

/// Why a message was rejected.
///
/// `path` names the offending element from the ISO root (`/Document/...` or `/AppHdr/...`),
/// 1-based `[n]` after repeatable elements; `detail` starts with the `[rule.id]` of the check
/// that failed (see [`crate::Rule`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{code} {path}: {detail}")]
pub struct ValidationError {
    /// The one ISO reason code this failure maps to.
    pub code: ReasonCode,
    /// Path of the offending element.
    pub path: String,
    /// Human-readable explanation, prefixed with the rule id in brackets.
    pub detail: String,
}

impl ValidationError {
    /// Builds an error directly (scheme profiles outside this crate use this).
    pub fn new(code: ReasonCode, path: impl Into<String>, detail: impl Into<String>) -> Self {
        ValidationError { code, path: path.into(), detail: detail.into() }
    }

    /// The `rule.id` prefix of the detail, when the failure came from a [`crate::Rule`].
    #[must_use]
    pub fn rule_id(&self) -> Option<&str> {
        let rest = self.detail.strip_prefix('[')?;
        rest.split_once(']').map(|(id, _)| id)
    }
}

/// At most 40 characters of `value` for an error detail, with `…` where it was cut (names and
/// values in details come from the input, which may be long).
pub(crate) fn shorten(value: &str) -> String {
    let mut s: String = value.chars().take(40).collect();
    if s.len() < value.len() {
        s.push('…');
    }
    s
}
