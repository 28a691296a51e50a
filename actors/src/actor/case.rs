//! Participant requests about an existing payment: status inquiries (pacs.028) and
//! cancellation requests (camt.056). What a request carries on its way from the session to the
//! tenant and the payment actor, and how its answer is written.
//!
//! A request is answered on the connection it came on, with its frame's correlation id, and
//! holds the credit its frame took until it is answered (invariant 2). Requests are scoped to
//! the authenticated tenant: a UETR another tenant owns is "not found" (invariant 5).

use std::sync::Arc;

use bytes::Bytes;
use switchyard_iso20022::{Camt056, OriginalRef, Pacs028, ReasonCode, TxStatus};
use tokio::sync::OwnedSemaphorePermit;

use super::context::NodeContext;
use super::status::StatusSubject;
use crate::message::MessageKind;
use crate::ports::{Outbound, WireKind, WireMsg};

/// The proprietary pacs.002 reason for a status inquiry about a payment this tenant does not
/// have (the same convention as a clearing house's answer, docs/PROTOCOL.md).
pub const INQUIRY_NOT_FOUND: &str = "NOTFOUND";

/// The ISO 20022 message family of a payload (`pacs.008`, `camt.056`, ...), from the first
/// namespace that is not the AppHdr's. Cheap: a byte scan of at most the first 4 KiB.
#[must_use]
pub fn message_family(payload: &[u8]) -> Option<&str> {
    message_identifier(payload).and_then(|id| id.get(..8))
}

/// The ISO 20022 message identifier of a payload (`pacs.004.001.09`, ...), from the first
/// namespace that is not the AppHdr's (as [`message_family`]).
#[must_use]
pub fn message_identifier(payload: &[u8]) -> Option<&str> {
    const MARK: &[u8] = b"tech:xsd:";
    let head = &payload[..payload.len().min(4096)];
    for at in memchr::memmem::find_iter(head, MARK) {
        let start = at + MARK.len();
        let id = head.get(start..start + 15)?;
        if !id.starts_with(b"head.") {
            return std::str::from_utf8(id).ok();
        }
    }
    None
}

/// Where a request came from and how to answer it.
pub struct Requester {
    pub outbound: Arc<dyn Outbound>,
    pub correlation: u64,
    pub credit: OwnedSemaphorePermit,
}

impl std::fmt::Debug for Requester {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Requester").field("correlation", &self.correlation).finish_non_exhaustive()
    }
}

impl Requester {
    /// Sends the answer and returns the credit.
    pub fn answer(self, payload: Bytes) {
        let _ =
            self.outbound.send(WireMsg { kind: WireKind::Status, correlation: self.correlation, payload });
        drop(self.credit);
    }
}

/// The message name (`OrgnlMsgNmId`) an answer about a payment gives: the payment's own kind
/// when the node knows it (`kind`), else the kind the request names (a pacs.009 when its
/// `OrgnlMsgNmId` says so), else pacs.008.
fn answer_name(kind: Option<MessageKind>, original: &OriginalRef) -> &'static str {
    kind.unwrap_or_else(|| {
        let named = original.orgnl_msg_nm_id.as_deref().unwrap_or_default();
        if named.starts_with("pacs.009") {
            MessageKind::Pacs009
        } else {
            MessageKind::Pacs008
        }
    })
    .message_name()
}

/// A status inquiry (pacs.028) about one of the tenant's payments.
pub struct InquiryRequest {
    pub from: Requester,
    pub uetr: String,
    pub request: Pacs028,
    /// The kind of the payment asked about, once the node found it (`None`: not known yet).
    pub kind: Option<MessageKind>,
}

impl std::fmt::Debug for InquiryRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InquiryRequest").field("uetr", &self.uetr).finish_non_exhaustive()
    }
}

impl InquiryRequest {
    fn original(&self) -> &OriginalRef {
        &self.request.txs[0].original
    }

    /// Answers with a pacs.002 carrying the payment's current status.
    pub fn answer(self, ctx: &NodeContext, status: TxStatus, reason: Option<ReasonCode>, detail: &str) {
        let o = self.original();
        let subject = StatusSubject {
            orgnl_msg_nm_id: answer_name(self.kind, o),
            orgnl_msg_id: o.orgnl_msg_id.as_deref().unwrap_or("NOTPROVIDED"),
            orgnl_end_to_end_id: o.orgnl_end_to_end_id.as_deref(),
            orgnl_uetr: Some(&self.uetr),
        };
        let payload = ctx.status.pacs002(subject, status, reason, Some(detail));
        self.from.answer(payload);
    }

    /// Answers RJCT `NOTFOUND`: the tenant has no payment with this UETR.
    pub fn not_found(self, ctx: &NodeContext) {
        let o = self.original();
        let subject = StatusSubject {
            orgnl_msg_nm_id: answer_name(self.kind, o),
            orgnl_msg_id: o.orgnl_msg_id.as_deref().unwrap_or("NOTPROVIDED"),
            orgnl_end_to_end_id: o.orgnl_end_to_end_id.as_deref(),
            orgnl_uetr: Some(&self.uetr),
        };
        let payload = ctx.status.pacs002_proprietary(
            subject,
            INQUIRY_NOT_FOUND,
            "no payment of this tenant has this UETR",
        );
        self.from.answer(payload);
    }
}

/// A cancellation request (camt.056) for one of the tenant's payments.
pub struct CancelRequest {
    pub from: Requester,
    pub uetr: String,
    pub request: Camt056,
    /// The request as the participant sent it (forwarded to the clearing house unchanged).
    pub raw: Bytes,
    /// The kind of the payment to cancel, once the node found it (`None`: not known yet).
    pub kind: Option<MessageKind>,
}

impl std::fmt::Debug for CancelRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CancelRequest").field("uetr", &self.uetr).finish_non_exhaustive()
    }
}

impl CancelRequest {
    /// The request's original reference, naming the payment's kind (`OrgnlMsgNmId`).
    fn original(&self) -> OriginalRef {
        let mut original = self.request.txs[0].original.clone();
        original.orgnl_msg_nm_id = Some(answer_name(self.kind, &original).into());
        original
    }

    /// Answers camt.029 `CNCL`.
    pub fn cancelled(self, ctx: &NodeContext, detail: &str) {
        let payload =
            ctx.status.camt029(&self.request.assignment, &self.original(), "CNCL", None, Some(detail));
        self.from.answer(payload);
    }

    /// Answers camt.029 `RJCR` with a cancellation-rejection reason code (`NOOR`, `AGNT`, ...).
    pub fn refused(self, ctx: &NodeContext, reason: &str, detail: &str) {
        let payload = ctx.status.camt029(
            &self.request.assignment,
            &self.original(),
            "RJCR",
            Some(reason),
            Some(detail),
        );
        self.from.answer(payload);
    }
}

#[cfg(test)]
mod tests {
    use super::message_family;

    #[test]
    fn family_skips_the_app_header() {
        let with_header = br#"<Envelope><AppHdr xmlns="urn:iso:std:iso:20022:tech:xsd:head.001.001.02"/>
            <Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.056.001.08"/></Envelope>"#;
        assert_eq!(message_family(with_header), Some("camt.056"));
        assert_eq!(
            message_family(br#"<Document xmlns="urn:iso:std:iso:20022:tech:xsd:pacs.028.001.03">"#),
            Some("pacs.028")
        );
        assert_eq!(message_family(b"<Document/>"), None);
        assert_eq!(message_family(b"tech:xsd:pa"), None);
    }
}
