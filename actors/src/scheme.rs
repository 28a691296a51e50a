//! The clearing-scheme port: what a clearing link's scheme (SAMOS, BankservAfrica, RTC, PayShap,
//! SWIFT CBPR+) says about a payment, as the actors see it.
//!
//! Owns: the [`SchemeGate`] trait (implemented by the clearing adapter over its scheme profiles)
//! and the two uses of it on the submission path:
//! - [`admissible`], at admission (before ACTC): the payment is refused up front, with the
//!   scheme's reason code, when no clearing link it can be routed to would take it, so a
//!   payment that can never clear is never acknowledged and the clearing house never sees it;
//! - [`leg_for`], at submission: the bytes a link sends, i.e. the scheme leg the profile's
//!   transformer makes from the participant's message (settlement information, leg agents,
//!   an AppHdr for SWIFT).
//!
//! Both payment kinds take this path ([`MessageKind`]): a pacs.008 through [`SchemeGate::check`]
//! and [`SchemeGate::leg`], a pacs.009 through [`SchemeGate::check_fi`] and
//! [`SchemeGate::leg_fi`] (a scheme without interbank transfers refuses it with `FF01`).
//!
//! A link without a gate forwards the participant's message unchanged (tests and the simulator
//! in pass-through mode). Architecture invariant: a gate is pure (no I/O; the time for the
//! operating window is an argument).

use std::sync::Arc;

use bytes::Bytes;
use switchyard_iso20022::{Limits, Pacs008, Pacs009, ValidationError};

use crate::actor::NodeContext;
use crate::message::{MessageKind, PaymentMessage};
use crate::route::RouteQuery;

/// One clearing link's scheme profile.
pub trait SchemeGate: Send + Sync + 'static {
    /// The scheme's registry name (`payshap`).
    fn scheme(&self) -> &str;

    /// Whether the scheme would take this payment at `now_ms` (its rules and its operating
    /// window), i.e. whether a leg can be made from it. `raw` is the participant's message as
    /// received, for what the typed model does not carry (a PayShap creditor proxy).
    ///
    /// # Errors
    /// The first broken rule, with its one ISO reason code.
    fn check(&self, canonical: &Pacs008, raw: &[u8], now_ms: u64) -> Result<(), ValidationError>;

    /// The scheme leg for `canonical` (received as `raw`), written out: what goes on the wire to
    /// the clearing house.
    ///
    /// # Errors
    /// The first rule the payment cannot be made to satisfy.
    fn leg(&self, canonical: &Pacs008, raw: &[u8]) -> Result<Bytes, ValidationError>;

    /// Whether the scheme would take this interbank transfer (pacs.009) at `now_ms`.
    ///
    /// # Errors
    /// The first broken rule (`FF01` when the scheme takes no pacs.009).
    fn check_fi(&self, canonical: &Pacs009, now_ms: u64) -> Result<(), ValidationError>;

    /// The scheme's pacs.009 leg for `canonical`, written out.
    ///
    /// # Errors
    /// The first rule the transfer cannot be made to satisfy.
    fn leg_fi(&self, canonical: &Pacs009) -> Result<Bytes, ValidationError>;
}

/// One gate's verdict on a payment message of either kind.
fn check(
    gate: &dyn SchemeGate,
    message: &PaymentMessage,
    raw: &[u8],
    now_ms: u64,
) -> Result<(), ValidationError> {
    match message {
        PaymentMessage::Pacs008(m) => gate.check(m, raw, now_ms),
        PaymentMessage::Pacs009(m) => gate.check_fi(m, now_ms),
    }
}

/// A scheme refusal at admission, with the link whose scheme refused.
#[derive(Debug, Clone)]
pub struct SchemeRefusal {
    pub link: String,
    pub scheme: String,
    pub error: ValidationError,
}

impl SchemeRefusal {
    /// The detail for the participant's pacs.002 and the journal's refusal record: the rule id
    /// and its explanation first, then where, then which scheme and link.
    #[must_use]
    pub fn detail(&self) -> String {
        // The rule id leads: a pacs.002 AddtlInf keeps only the first 105 characters.
        format!(
            "{} at {} (clearing scheme {} of link {})",
            self.error.detail, self.error.path, self.scheme, self.link
        )
    }
}

/// Checks a payment against the schemes of every link its route may take, in priority order.
///
/// Admissible when some candidate link has no gate or its gate accepts; refused with the first
/// candidate's refusal when every one refuses. A payment with no route at all is left to the
/// payment actor (it dead-letters with "no route"), as before schemes existed.
///
/// # Errors
/// The primary candidate's [`SchemeRefusal`] when no candidate would take the payment.
pub fn admissible(
    ctx: &NodeContext,
    query: &RouteQuery<'_>,
    canonical: &PaymentMessage,
    raw: &[u8],
    now_ms: u64,
) -> Result<(), SchemeRefusal> {
    // No link has a scheme: nothing to check (and no route lookup on the hot path).
    if ctx.schemes.read().unwrap_or_else(std::sync::PoisonError::into_inner).is_empty() {
        return Ok(());
    }
    let candidates = ctx.routes().candidates(query);
    let mut first = None;
    for link in &candidates {
        let Some(gate) = ctx.scheme(link) else { return Ok(()) };
        match check(gate.as_ref(), canonical, raw, now_ms) {
            Ok(()) => return Ok(()),
            Err(error) => {
                if first.is_none() {
                    first =
                        Some(SchemeRefusal { link: link.clone(), scheme: gate.scheme().to_owned(), error });
                }
            }
        }
    }
    first.map_or(Ok(()), Err)
}

/// The payload to send on `link` for a payment whose participant message is `raw`, a message of
/// `kind`.
///
/// # Errors
/// A message naming the link and the scheme's broken rule when no leg can be made (the message
/// is unreadable, or the scheme refuses it at this link).
pub fn leg_for(
    ctx: &NodeContext,
    link: &str,
    kind: MessageKind,
    raw: &Bytes,
    limits: &Limits,
) -> Result<Bytes, String> {
    let Some(gate) = ctx.scheme(link) else { return Ok(raw.clone()) };
    let canonical = PaymentMessage::read(kind, raw, limits)
        .map_err(|e| format!("link {link}: message unreadable: {e}"))?;
    let leg = match &canonical {
        PaymentMessage::Pacs008(m) => gate.leg(m, raw),
        PaymentMessage::Pacs009(m) => gate.leg_fi(m),
    };
    leg.map_err(|e| format!("link {link}: scheme {} refuses: {e}", gate.scheme()))
}

/// The gates of a node's links by link name.
pub type Gates = std::collections::HashMap<String, Arc<dyn SchemeGate>>;
