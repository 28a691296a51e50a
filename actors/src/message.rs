//! The payment messages a participant may submit, and what the submission path needs of them.
//!
//! Owns: [`MessageKind`] (pacs.008 customer credit transfer or pacs.009 financial institution
//! credit transfer), which selects the parser, the routing key (`message_type`), the scheme
//! gate's check and its leg writer; and [`PaymentMessage`], the parsed message with the facts
//! of its one transaction that admission, the journal's acceptance record and routing use,
//! read the same way for both kinds. Pure: no I/O.
//!
//! For a pacs.009 the institutions are the parties: the debtor side is `DbtrAgt`, else `Dbtr`;
//! the creditor side is `CdtrAgt`, else `Cdtr` (the bank the transfer is for), which is what
//! routing matches as the creditor agent and what an on-us delivery looks for.

use sha2::{Digest, Sha256};
use switchyard_iso20022::{
    read_pacs008, read_pacs009, Bic, Limits, Money, Pacs008, Pacs009, Uetr, ValidationError,
};

use crate::domain::Fingerprint;
use crate::sender::{check_sender, check_sender_fi, SenderMismatch};

/// Which payment message a submission is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum MessageKind {
    /// pacs.008 `FIToFICstmrCdtTrf`: a customer credit transfer.
    #[default]
    Pacs008,
    /// pacs.009 `FICdtTrf`: a bank's own (interbank or cover) transfer.
    Pacs009,
}

impl MessageKind {
    /// The kind of an ISO message family (`pacs.008`), if it is a payment the node takes.
    #[must_use]
    pub fn of_family(family: &str) -> Option<Self> {
        match family {
            "pacs.008" => Some(Self::Pacs008),
            "pacs.009" => Some(Self::Pacs009),
            _ => None,
        }
    }

    /// The kind of a raw message, from its document namespace (see
    /// [`crate::actor::message_family`]); `None` for anything but pacs.008 and pacs.009.
    #[must_use]
    pub fn of_raw(raw: &[u8]) -> Option<Self> {
        crate::actor::message_family(raw).and_then(Self::of_family)
    }

    /// The message name a status report or inquiry gives as `OrgnlMsgNmId`.
    #[must_use]
    pub fn message_name(self) -> &'static str {
        match self {
            Self::Pacs008 => "pacs.008.001.08",
            Self::Pacs009 => "pacs.009.001.08",
        }
    }

    /// The routing key (`message_type` of a route rule): `pacs.008` or `pacs.009`.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pacs008 => "pacs.008",
            Self::Pacs009 => "pacs.009",
        }
    }
}

/// A parsed, valid payment message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PaymentMessage {
    Pacs008(Pacs008),
    Pacs009(Pacs009),
}

impl PaymentMessage {
    /// Reads and fully validates `raw` as a message of `kind`.
    ///
    /// # Errors
    /// The first failure, with its ISO reason code.
    pub fn read(kind: MessageKind, raw: &[u8], limits: &Limits) -> Result<Self, ValidationError> {
        match kind {
            MessageKind::Pacs008 => read_pacs008(raw, limits).map(Self::Pacs008),
            MessageKind::Pacs009 => read_pacs009(raw, limits).map(Self::Pacs009),
        }
    }

    #[must_use]
    pub fn kind(&self) -> MessageKind {
        match self {
            Self::Pacs008(_) => MessageKind::Pacs008,
            Self::Pacs009(_) => MessageKind::Pacs009,
        }
    }

    /// `GrpHdr/MsgId`.
    #[must_use]
    pub fn msg_id(&self) -> &str {
        match self {
            Self::Pacs008(m) => &m.msg_id,
            Self::Pacs009(m) => &m.msg_id,
        }
    }

    /// Transactions (`CdtTrfTxInf`) in the message.
    #[must_use]
    pub fn tx_count(&self) -> usize {
        match self {
            Self::Pacs008(m) => m.txs.len(),
            Self::Pacs009(m) => m.txs.len(),
        }
    }

    /// The first transaction's UETR.
    #[must_use]
    pub fn uetr(&self) -> Option<&str> {
        match self {
            Self::Pacs008(m) => m.txs.first().and_then(|t| t.uetr.as_ref()).map(Uetr::as_str),
            Self::Pacs009(m) => m.txs.first().and_then(|t| t.uetr.as_ref()).map(Uetr::as_str),
        }
    }

    /// The first transaction's `EndToEndId` (empty without a transaction).
    #[must_use]
    pub fn end_to_end_id(&self) -> &str {
        match self {
            Self::Pacs008(m) => m.txs.first().map_or("", |t| t.end_to_end_id.as_str()),
            Self::Pacs009(m) => m.txs.first().map_or("", |t| t.end_to_end_id.as_str()),
        }
    }

    /// The first transaction's interbank settlement amount.
    #[must_use]
    pub fn amount(&self) -> Option<&Money> {
        match self {
            Self::Pacs008(m) => m.txs.first().map(|t| &t.amount),
            Self::Pacs009(m) => m.txs.first().map(|t| &t.amount),
        }
    }

    /// The debtor side: `DbtrAgt` (pacs.009 without one: `Dbtr`).
    #[must_use]
    pub fn debtor_agent(&self) -> Option<&Bic> {
        match self {
            Self::Pacs008(m) => m.txs.first().and_then(|t| t.dbtr_agt.as_ref()),
            Self::Pacs009(m) => m.txs.first().and_then(|t| t.dbtr_agt.as_ref().or(t.dbtr.as_ref())),
        }
    }

    /// The creditor side: `CdtrAgt` (pacs.009 without one: `Cdtr`).
    #[must_use]
    pub fn creditor_agent(&self) -> Option<&Bic> {
        match self {
            Self::Pacs008(m) => m.txs.first().and_then(|t| t.cdtr_agt.as_ref()),
            Self::Pacs009(m) => m.txs.first().and_then(|t| t.cdtr_agt.as_ref().or(t.cdtr.as_ref())),
        }
    }

    /// `SttlmInf/ClrSys/Cd`.
    #[must_use]
    pub fn clearing_system(&self) -> Option<&str> {
        match self {
            Self::Pacs008(m) => m.clr_sys.as_deref(),
            Self::Pacs009(m) => m.clr_sys.as_deref(),
        }
    }

    /// The first transaction's `PmtTpInf/SvcLvl/Cd`.
    #[must_use]
    pub fn service_level(&self) -> Option<&str> {
        match self {
            Self::Pacs008(m) => m.txs.first().and_then(|t| t.svc_lvl_cd.as_deref()),
            Self::Pacs009(m) => m.txs.first().and_then(|t| t.svc_lvl_cd.as_deref()),
        }
    }

    /// The fingerprint of the first transaction (idempotency: same key and fingerprint is a
    /// resend). A pacs.008's is [`Fingerprint::of_transaction`], unchanged; a pacs.009's hashes
    /// a `pacs.009` tag first, so it never equals a pacs.008's.
    #[must_use]
    pub fn fingerprint(&self) -> Fingerprint {
        match self {
            Self::Pacs008(m) => m.txs.first().map_or(Fingerprint([0; 16]), Fingerprint::of_transaction),
            Self::Pacs009(m) => {
                let mut hash = Sha256::new();
                let mut field = |value: &str| {
                    hash.update((value.len() as u64).to_be_bytes());
                    hash.update(value.as_bytes());
                };
                field("pacs.009");
                if let Some(tx) = m.txs.first() {
                    field(tx.uetr.as_ref().map_or("", |u| u.as_str()));
                    field(&tx.end_to_end_id);
                    field(&tx.amount.minor_units.to_string());
                    field(tx.amount.currency.as_str());
                    field(tx.dbtr.as_ref().map_or("", Bic::as_str));
                    field(tx.dbtr_agt.as_ref().map_or("", Bic::as_str));
                    field(tx.cdtr_agt.as_ref().map_or("", Bic::as_str));
                    field(tx.cdtr.as_ref().map_or("", Bic::as_str));
                }
                let digest = hash.finalize();
                let mut out = [0u8; 16];
                out.copy_from_slice(&digest[..16]);
                Fingerprint(out)
            }
        }
    }

    /// Checks the message's sender claims against the tenant's BICs ([`crate::sender`]).
    ///
    /// # Errors
    /// The first claim naming another institution.
    pub fn check_sender(&self, bics: &[Bic]) -> Result<(), SenderMismatch> {
        match self {
            Self::Pacs008(m) => check_sender(bics, m),
            Self::Pacs009(m) => check_sender_fi(bics, m),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PACS008: &[u8] = include_bytes!("../../bench/templates/pacs008.xml");
    const PACS009: &[u8] = include_bytes!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../shared/iso20022/samples/valid/pacs.009.001.08__mt202-to-mx__pc.09.1.1_A_B.xml"
    ));

    #[test]
    fn kinds_are_told_apart_by_namespace_and_read_alike() {
        let limits = Limits::default();
        assert_eq!(MessageKind::of_raw(PACS008), Some(MessageKind::Pacs008));
        assert_eq!(MessageKind::of_raw(PACS009), Some(MessageKind::Pacs009));
        assert_eq!(MessageKind::of_family("camt.056"), None);
        let fi = PaymentMessage::read(MessageKind::Pacs009, PACS009, &limits).unwrap();
        assert_eq!(fi.kind().as_str(), "pacs.009");
        assert_eq!(fi.msg_id(), "pacs9bizmsgidr02");
        assert_eq!(fi.uetr(), Some("dab3b64f-092b-4839-b7e9-8f438af50961"));
        assert_eq!(fi.end_to_end_id(), "pacs009EndToEnd");
        assert_eq!(fi.amount().map(|m| (m.minor_units, m.currency.as_str())), Some((65_448_998, "EUR")));
        // No DbtrAgt: the debtor institution; CdtrAgt present: it, not the creditor.
        assert_eq!(fi.debtor_agent().map(Bic::as_str), Some("RBOSGB2LXXX"));
        assert_eq!(fi.creditor_agent().map(Bic::as_str), Some("HELSFIHHXXX"));
        // A pacs.009 read as a pacs.008 is refused, not misread.
        assert!(PaymentMessage::read(MessageKind::Pacs008, PACS009, &limits).is_err());
        let customer = PaymentMessage::read(MessageKind::Pacs008, PACS008, &limits).unwrap();
        let Some(tx) = (match &customer {
            PaymentMessage::Pacs008(m) => m.txs.first(),
            PaymentMessage::Pacs009(_) => None,
        }) else {
            panic!("a pacs.008 transaction")
        };
        assert_eq!(customer.fingerprint(), Fingerprint::of_transaction(tx), "pacs.008 fingerprint unchanged");
        assert_ne!(fi.fingerprint(), customer.fingerprint());
    }

    #[test]
    fn a_pacs009_sender_is_its_instructing_agent_or_debtor_institution() {
        let limits = Limits::default();
        let PaymentMessage::Pacs009(mut m) =
            PaymentMessage::read(MessageKind::Pacs009, PACS009, &limits).unwrap()
        else {
            panic!("pacs.009")
        };
        let nordea = [Bic::parse("NDEAFIHH").unwrap()];
        assert!(check_sender_fi(&nordea, &m).is_ok());
        m.app_hdr = None;
        m.txs[0].instg_agt = None;
        let err = check_sender_fi(&nordea, &m).unwrap_err();
        assert_eq!((err.path, err.claimed.as_str()), ("CdtTrfTxInf/Dbtr/FinInstnId/BICFI", "RBOSGB2LXXX"));
    }
}
