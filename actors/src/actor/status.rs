//! Writes the pacs.002 status reports the switch sends, with unique message ids.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use bytes::Bytes;
use switchyard_iso20022::{
    write_camt029, write_pacs002, write_pacs028, Assignment, Camt029, CancellationStatusTx, OriginalRef,
    Pacs028, PartyRef, Reason, ReasonCode, StatusReport, StatusRequestTx, TxStatus, TxStatusInfo, Uetr,
};

use crate::ports::Clock;

/// Builds pacs.002 messages. Message ids are `SY` + the node's start time + a counter, so they
/// are unique across restarts without coordination and fit Max35Text.
pub struct StatusWriter {
    clock: Arc<dyn Clock>,
    prefix: String,
    next: AtomicU64,
}

impl std::fmt::Debug for StatusWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StatusWriter").field("prefix", &self.prefix).finish_non_exhaustive()
    }
}

/// What a status is about: the original message and transaction.
#[derive(Debug, Clone, Copy)]
pub struct StatusSubject<'a> {
    /// `OrgnlMsgNmId`: `pacs.008.001.08` or `pacs.009.001.08`
    /// ([`crate::message::MessageKind::message_name`]).
    pub orgnl_msg_nm_id: &'a str,
    pub orgnl_msg_id: &'a str,
    pub orgnl_end_to_end_id: Option<&'a str>,
    pub orgnl_uetr: Option<&'a str>,
}

impl<'a> StatusSubject<'a> {
    /// A pacs.008 known only by its UETR (`OrgnlMsgId` `NOTPROVIDED`): inbound payments and
    /// the answers to participants' requests about them.
    #[must_use]
    pub fn pacs008_by_uetr(uetr: &'a str) -> Self {
        Self {
            orgnl_msg_nm_id: crate::message::MessageKind::Pacs008.message_name(),
            orgnl_msg_id: "NOTPROVIDED",
            orgnl_end_to_end_id: None,
            orgnl_uetr: Some(uetr),
        }
    }
}

impl StatusWriter {
    #[must_use]
    pub fn new(clock: Arc<dyn Clock>) -> Self {
        let prefix = format!("SY{:X}", clock.now_ms());
        Self { clock, prefix, next: AtomicU64::new(1) }
    }

    fn next_msg_id(&self) -> String {
        let n = self.next.fetch_add(1, Ordering::Relaxed);
        format!("{}-{n}", self.prefix)
    }

    /// A pacs.028 status request about one payment.
    #[must_use]
    pub fn pacs028(&self, subject: StatusSubject<'_>) -> Bytes {
        let request = Pacs028 {
            app_hdr: None,
            msg_id: self.next_msg_id().into(),
            cre_dt_tm: self.clock.timestamp().into(),
            orgnl_grp: None,
            txs: vec![StatusRequestTx {
                sts_req_id: None,
                original: OriginalRef {
                    orgnl_msg_id: Some(subject.orgnl_msg_id.into()),
                    orgnl_msg_nm_id: Some(subject.orgnl_msg_nm_id.into()),
                    orgnl_end_to_end_id: subject.orgnl_end_to_end_id.map(Into::into),
                    orgnl_uetr: subject.orgnl_uetr.and_then(Uetr::parse),
                    ..OriginalRef::default()
                },
                instg_agt: None,
                instg_agt_mmb: None,
                instd_agt: None,
                instd_agt_mmb: None,
            }],
        };
        Bytes::from(write_pacs028(&request))
    }

    /// A pacs.002 with one transaction status.
    #[must_use]
    pub fn pacs002(
        &self,
        subject: StatusSubject<'_>,
        status: TxStatus,
        reason: Option<ReasonCode>,
        detail: Option<&str>,
    ) -> Bytes {
        let report = StatusReport {
            msg_id: self.next_msg_id().into(),
            cre_dt_tm: self.clock.timestamp().into(),
            orgnl_msg_id: subject.orgnl_msg_id.into(),
            orgnl_msg_nm_id: subject.orgnl_msg_nm_id.into(),
            txs: vec![TxStatusInfo {
                orgnl_instr_id: None,
                orgnl_end_to_end_id: subject.orgnl_end_to_end_id.map(Into::into),
                orgnl_tx_id: None,
                orgnl_uetr: subject.orgnl_uetr.and_then(Uetr::parse),
                tx_sts: status,
                reason,
                addtl_inf: detail.map(|d| d.chars().take(105).collect()),
                ..TxStatusInfo::new(status)
            }],
            ..StatusReport::default()
        };
        Bytes::from(write_pacs002(&report))
    }

    /// A pacs.002 RJCT with a proprietary reason (e.g. `NOTFOUND`) instead of an ISO code.
    #[must_use]
    pub fn pacs002_proprietary(&self, subject: StatusSubject<'_>, reason: &str, detail: &str) -> Bytes {
        let report = StatusReport {
            msg_id: self.next_msg_id().into(),
            cre_dt_tm: self.clock.timestamp().into(),
            orgnl_msg_id: subject.orgnl_msg_id.into(),
            orgnl_msg_nm_id: subject.orgnl_msg_nm_id.into(),
            txs: vec![TxStatusInfo {
                orgnl_end_to_end_id: subject.orgnl_end_to_end_id.map(Into::into),
                orgnl_uetr: subject.orgnl_uetr.and_then(Uetr::parse),
                reason_prtry: Some(reason.into()),
                addtl_inf: Some(detail.chars().take(105).collect()),
                ..TxStatusInfo::new(TxStatus::RJCT)
            }],
            ..StatusReport::default()
        };
        Bytes::from(write_pacs002(&report))
    }

    /// A camt.029 answering the cancellation request assigned by `request`: `Sts/Conf` `CNCL`
    /// (transaction status `ACCR`) or `RJCR`
    /// with a cancellation-rejection reason code. The switch is the assigner of the answer (by
    /// name); the requester's assigner becomes the assignee.
    #[must_use]
    pub fn camt029(
        &self,
        request: &Assignment,
        original: &OriginalRef,
        conf: &str,
        reason: Option<&str>,
        detail: Option<&str>,
    ) -> Bytes {
        let assgne = if request.assgnr == PartyRef::default() {
            PartyRef { name: Some("NOTPROVIDED".into()), ..PartyRef::default() }
        } else {
            request.assgnr.clone()
        };
        let answer = Camt029 {
            app_hdr: None,
            assignment: Assignment {
                id: self.next_msg_id().into(),
                assgnr: PartyRef { name: Some("SWITCHYARD".into()), ..PartyRef::default() },
                assgne,
                cre_dt_tm: self.clock.timestamp().into(),
            },
            sts_conf: Some(conf.into()),
            sts_assgnmt_cxl_conf: None,
            sts_rjctd_mod: Vec::new(),
            sts_dplct_of: None,
            group: None,
            txs: vec![CancellationStatusTx {
                cxl_sts_id: None,
                original: original.clone(),
                // CancellationIndividualStatus1Code has ACCR where the case status says CNCL.
                tx_cxl_sts: Some(if conf == "CNCL" { "ACCR" } else { conf }.into()),
                reason: Reason {
                    cd: reason.map(Into::into),
                    prtry: None,
                    addtl_inf: detail.map(|d| d.chars().take(105).collect()),
                },
            }],
        };
        Bytes::from(write_camt029(&answer))
    }
}
