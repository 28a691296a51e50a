//! pacs.008 messages for load: one template, fresh MsgId and UETR per message.

use compact_str::format_compact;
use switchyard_iso20022::{write_pacs008, Bic, Pacs008, Uetr};

/// Makes messages from a template read once.
#[derive(Debug, Clone)]
pub struct MessageFactory {
    template: Pacs008,
    prefix: String,
}

impl MessageFactory {
    /// `template` must hold exactly one transaction; `prefix` makes MsgIds unique per sender.
    #[must_use]
    pub fn new(template: Pacs008, prefix: &str) -> Self {
        Self { template, prefix: prefix.to_owned() }
    }

    /// Messages that instruct as `bic`: InstgAgt, DbtrAgt and the AppHdr `Fr` (the switch
    /// checks them against the sender's certificate).
    #[must_use]
    pub fn sending_as(mut self, bic: &Bic) -> Self {
        for tx in &mut self.template.txs {
            tx.instg_agt = Some(bic.clone());
            tx.dbtr_agt = Some(bic.clone());
        }
        if let Some(hdr) = self.template.app_hdr.as_mut() {
            hdr.fr_bic = Some(bic.clone());
        }
        self
    }

    /// The MsgId of the `n`th message (what [`Self::make`] writes into it).
    #[must_use]
    pub fn msg_id(&self, n: u64) -> String {
        format!("{}-{n}", self.prefix)
    }

    /// The `n`th message and its UETR.
    #[must_use]
    pub fn make(&self, n: u64) -> (Vec<u8>, String) {
        let mut msg = self.template.clone();
        let uetr_text = uuid::Uuid::new_v4().to_string();
        let uetr = Uetr::parse(&uetr_text);
        msg.msg_id = self.msg_id(n).into();
        if let Some(hdr) = msg.app_hdr.as_mut() {
            hdr.biz_msg_idr.clone_from(&msg.msg_id);
        }
        if let Some(tx) = msg.txs.first_mut() {
            tx.uetr = uetr;
            tx.end_to_end_id = format_compact!("E2E-{n}");
            if tx.instr_id.is_some() {
                tx.instr_id = Some(format_compact!("I{n}"));
            }
            if tx.tx_id.is_some() {
                tx.tx_id = Some(format_compact!("T{n}"));
            }
        }
        (write_pacs008(&msg), uetr_text)
    }
}
