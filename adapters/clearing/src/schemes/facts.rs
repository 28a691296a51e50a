//! `PaymentFacts`: what a scheme profile looks at in a pacs.008, taken from either door.
//!
//! The switch holds typed [`Pacs008`] values; the iso20022 crate hands profiles a read-only
//! [`MessageView`] of the parsed XML. Both are reduced to the same facts here so that a scheme's
//! checks are written once. Paths are synthesised the way the iso20022 crate prints them
//! (`/Document/FIToFICstmrCdtTrf/CdtTrfTxInf[2]/IntrBkSttlmAmt`, the index only when there is
//! more than one transaction), so both doors report the same element.
//!
//! The view carries one thing the typed model does not: the creditor account proxy
//! (`CdtrAcct/Prxy/Id`). From a [`Pacs008`] it is always `None` (docs/SCHEMES.md, "Gaps").

use switchyard_iso20022::{
    Bic, ClearingMember, CreditTransferTx, Currency, ElementRef, FiCreditTransferTx, MessageView, Money,
    Pacs008, Pacs009, Text, ValidationError,
};

use super::checks::SchemeRule;

/// Group-level facts plus one [`TxFacts`] per `CdtTrfTxInf`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaymentFacts {
    /// Message definition (`pacs.008.001.08`, `pacs.009.001.08`).
    pub msg_def: Text,
    /// The Document's message element: `FIToFICstmrCdtTrf` (pacs.008) or `FICdtTrf` (pacs.009);
    /// every path reported is below `/Document/<root>`.
    pub root: &'static str,
    pub app_hdr: Option<HeaderFacts>,
    pub msg_id: Text,
    pub sttlm_mtd: Text,
    pub clr_sys_cd: Option<Text>,
    pub clr_sys_prtry: Option<Text>,
    pub txs: Vec<TxFacts>,
}

/// The AppHdr fields schemes check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeaderFacts {
    pub biz_msg_idr: Text,
}

/// One transaction's facts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TxFacts {
    pub amount: Money,
    pub instr_id: Option<Text>,
    pub end_to_end_id: Text,
    pub tx_id: Option<Text>,
    pub uetr: Option<Text>,
    /// `IntrBkSttlmDt`, transaction level or else group level.
    pub sttlm_dt: Option<Text>,
    pub svc_lvl_cd: Option<Text>,
    pub chrg_br: Option<Text>,
    pub instg_agt: Option<Text>,
    pub instd_agt: Option<Text>,
    pub dbtr_acct: AccountFacts,
    pub cdtr_acct: AccountFacts,
    pub dbtr_agt: AgentFacts,
    pub cdtr_agt: AgentFacts,
}

/// An account: IBAN, other identification, proxy.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AccountFacts {
    pub iban: Option<Text>,
    /// `Id/Othr/Id`.
    pub other: Option<Text>,
    /// `Prxy/Id` (view only).
    pub proxy: Option<Text>,
    /// `Prxy/Tp/Cd` (view only).
    pub proxy_type: Option<Text>,
}

impl AccountFacts {
    /// Whether the account is identified at all.
    #[must_use]
    pub fn is_present(&self) -> bool {
        self.iban.is_some() || self.other.is_some() || self.proxy.is_some()
    }
}

/// An agent: BIC and/or clearing system member id.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AgentFacts {
    pub bic: Option<Text>,
    /// `ClrSysMmbId/ClrSysId/Cd`.
    pub member_system: Option<Text>,
    /// `ClrSysMmbId/MmbId`.
    pub member_id: Option<Text>,
}

/// The pacs.008 message element.
pub const PACS008_ROOT: &str = "FIToFICstmrCdtTrf";
/// The pacs.009 message element.
pub const PACS009_ROOT: &str = "FICdtTrf";

/// The message definition the typed model writes when it has no AppHdr saying otherwise.
const MODEL_MSG_DEF: &str = "pacs.008.001.08";

impl PaymentFacts {
    /// Path of transaction `index` (0-based), as the iso20022 crate prints it.
    #[must_use]
    pub fn tx_path(&self, index: usize) -> String {
        if self.txs.len() > 1 {
            format!("/Document/{}/CdtTrfTxInf[{}]", self.root, index + 1)
        } else {
            format!("/Document/{}/CdtTrfTxInf", self.root)
        }
    }

    /// Path of the group header.
    #[must_use]
    pub fn grp_path(&self) -> String {
        format!("/Document/{}/GrpHdr", self.root)
    }

    /// Facts of a typed pacs.008 (written as pacs.008.001.08 unless its AppHdr names another).
    #[must_use]
    pub fn from_pacs008(msg: &Pacs008) -> Self {
        let msg_def = msg.app_hdr.as_ref().map_or(MODEL_MSG_DEF, |h| h.msg_def_idr.as_str());
        let group_dt = msg.intr_bk_sttlm_dt.as_ref();
        Self {
            msg_def: msg_def.into(),
            root: PACS008_ROOT,
            app_hdr: msg.app_hdr.as_ref().map(|h| HeaderFacts { biz_msg_idr: h.biz_msg_idr.clone() }),
            msg_id: msg.msg_id.clone(),
            sttlm_mtd: msg.sttlm_mtd.clone(),
            clr_sys_cd: msg.clr_sys.clone(),
            clr_sys_prtry: msg.clr_sys_prtry.clone(),
            txs: msg.txs.iter().map(|tx| model_tx(tx, group_dt)).collect(),
        }
    }

    /// Facts of a message seen through the iso20022 crate's view.
    ///
    /// A Document that is not a pacs.008 yields no transactions (the message version check
    /// refuses it).
    ///
    /// # Errors
    /// `AM03`/`AM12` for an amount the ISO layer should already have refused.
    pub fn from_view(view: &MessageView<'_, '_>) -> Result<Self, ValidationError> {
        let root = view.document().and_then(|d| d.child("FIToFICstmrCdtTrf"));
        let grp = root.and_then(|r| r.child("GrpHdr"));
        let group_dt = text(grp, "IntrBkSttlmDt");
        let txs = root
            .into_iter()
            .flat_map(|r| r.children())
            .filter(|c| c.name() == "CdtTrfTxInf")
            .map(|tx| view_tx(&tx, group_dt.as_ref()))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self {
            msg_def: view.msg_def().into(),
            root: PACS008_ROOT,
            app_hdr: view
                .app_hdr()
                .map(|h| HeaderFacts { biz_msg_idr: text(Some(h), "BizMsgIdr").unwrap_or_default() }),
            msg_id: text(grp, "MsgId").unwrap_or_default(),
            sttlm_mtd: text(grp, "SttlmInf/SttlmMtd").unwrap_or_default(),
            clr_sys_cd: text(grp, "SttlmInf/ClrSys/Cd"),
            clr_sys_prtry: text(grp, "SttlmInf/ClrSys/Prtry"),
            txs,
        })
    }
}

/// The message definition the typed pacs.009 model writes.
const MODEL_009_DEF: &str = "pacs.009.001.08";

impl PaymentFacts {
    /// Facts of a typed pacs.009 (an FI credit transfer): the debtor and creditor
    /// institutions (`Dbtr`, `Cdtr`) stand where a pacs.008's agents do, so the agent rules
    /// apply to them (paths name `Dbtr`/`Cdtr`); there are no accounts.
    #[must_use]
    pub fn from_pacs009(msg: &Pacs009) -> Self {
        let msg_def = msg.app_hdr.as_ref().map_or(MODEL_009_DEF, |h| h.msg_def_idr.as_str());
        Self {
            msg_def: msg_def.into(),
            root: PACS009_ROOT,
            app_hdr: msg.app_hdr.as_ref().map(|h| HeaderFacts { biz_msg_idr: h.biz_msg_idr.clone() }),
            msg_id: msg.msg_id.clone(),
            sttlm_mtd: msg.sttlm_mtd.clone(),
            clr_sys_cd: msg.clr_sys.clone(),
            clr_sys_prtry: None,
            txs: msg.txs.iter().map(fi_tx).collect(),
        }
    }
}

fn fi_tx(tx: &FiCreditTransferTx) -> TxFacts {
    TxFacts {
        amount: tx.amount,
        instr_id: tx.instr_id.clone(),
        end_to_end_id: tx.end_to_end_id.clone(),
        tx_id: tx.tx_id.clone(),
        uetr: tx.uetr.as_ref().map(|u| u.as_str().into()),
        sttlm_dt: tx.intr_bk_sttlm_dt.clone(),
        svc_lvl_cd: tx.svc_lvl_cd.clone(),
        chrg_br: None,
        instg_agt: tx.instg_agt.as_ref().map(|b| b.as_str().into()),
        instd_agt: tx.instd_agt.as_ref().map(|b| b.as_str().into()),
        dbtr_acct: AccountFacts::default(),
        cdtr_acct: AccountFacts::default(),
        dbtr_agt: model_agent(tx.dbtr.as_ref(), tx.dbtr_mmb.as_ref()),
        cdtr_agt: model_agent(tx.cdtr.as_ref(), tx.cdtr_mmb.as_ref()),
    }
}

fn model_tx(tx: &CreditTransferTx, group_dt: Option<&Text>) -> TxFacts {
    TxFacts {
        amount: tx.amount,
        instr_id: tx.instr_id.clone(),
        end_to_end_id: tx.end_to_end_id.clone(),
        tx_id: tx.tx_id.clone(),
        uetr: tx.uetr.as_ref().map(|u| u.as_str().into()),
        sttlm_dt: tx.intr_bk_sttlm_dt.as_ref().or(group_dt).cloned(),
        svc_lvl_cd: tx.svc_lvl_cd.clone(),
        chrg_br: tx.chrg_br.clone(),
        instg_agt: tx.instg_agt.as_ref().map(|b| b.as_str().into()),
        instd_agt: tx.instd_agt.as_ref().map(|b| b.as_str().into()),
        dbtr_acct: model_account(tx.dbtr_iban.as_ref(), tx.dbtr_acct_othr.as_ref()),
        cdtr_acct: model_account(tx.cdtr_iban.as_ref(), tx.cdtr_acct_othr.as_ref()),
        dbtr_agt: model_agent(tx.dbtr_agt.as_ref(), tx.dbtr_agt_mmb.as_ref()),
        cdtr_agt: model_agent(tx.cdtr_agt.as_ref(), tx.cdtr_agt_mmb.as_ref()),
    }
}

fn model_account(iban: Option<&Text>, other: Option<&Text>) -> AccountFacts {
    AccountFacts { iban: iban.cloned(), other: other.cloned(), proxy: None, proxy_type: None }
}

fn model_agent(bic: Option<&Bic>, member: Option<&ClearingMember>) -> AgentFacts {
    AgentFacts {
        bic: bic.map(|b| b.as_str().into()),
        member_system: member.and_then(|m| m.clr_sys_cd.clone()),
        member_id: member.map(|m| m.mmb_id.clone()),
    }
}

/// Text of the descendant at `path` below `el`, owned.
fn text(el: Option<ElementRef<'_, '_>>, path: &str) -> Option<Text> {
    el.and_then(|e| e.descend(path)).map(|e| Text::from(e.text()))
}

fn view_tx(tx: &ElementRef<'_, '_>, group_dt: Option<&Text>) -> Result<TxFacts, ValidationError> {
    let t = |path: &str| text(Some(*tx), path);
    let amount_el = tx.child("IntrBkSttlmAmt");
    let amount = amount_el
        .ok_or_else(|| SchemeRule::Currency.at(tx.path(), "no IntrBkSttlmAmt"))
        .and_then(|el| view_money(&el))?;
    Ok(TxFacts {
        amount,
        instr_id: t("PmtId/InstrId"),
        end_to_end_id: t("PmtId/EndToEndId").unwrap_or_default(),
        tx_id: t("PmtId/TxId"),
        uetr: t("PmtId/UETR"),
        sttlm_dt: t("IntrBkSttlmDt").or_else(|| group_dt.cloned()),
        svc_lvl_cd: t("PmtTpInf/SvcLvl/Cd"),
        chrg_br: t("ChrgBr"),
        instg_agt: t("InstgAgt/FinInstnId/BICFI"),
        instd_agt: t("InstdAgt/FinInstnId/BICFI"),
        dbtr_acct: view_account(tx.child("DbtrAcct")),
        cdtr_acct: view_account(tx.child("CdtrAcct")),
        dbtr_agt: view_agent(tx.child("DbtrAgt")),
        cdtr_agt: view_agent(tx.child("CdtrAgt")),
    })
}

fn view_money(el: &ElementRef<'_, '_>) -> Result<Money, ValidationError> {
    let code = el.attr("Ccy").unwrap_or_default();
    let ccy = Currency::parse(&code).ok_or_else(|| {
        SchemeRule::Currency.at(el.path(), format!("'{code}' is not an active ISO 4217 currency"))
    })?;
    Money::parse_decimal(el.text().trim(), ccy)
        .map_err(|(code, detail)| ValidationError::new(code, el.path(), detail))
}

fn view_account(acct: Option<ElementRef<'_, '_>>) -> AccountFacts {
    AccountFacts {
        iban: text(acct, "Id/IBAN"),
        other: text(acct, "Id/Othr/Id"),
        proxy: text(acct, "Prxy/Id"),
        proxy_type: text(acct, "Prxy/Tp/Cd"),
    }
}

fn view_agent(agent: Option<ElementRef<'_, '_>>) -> AgentFacts {
    let fin = agent.and_then(|a| a.child("FinInstnId"));
    AgentFacts {
        bic: text(fin, "BICFI"),
        member_system: text(fin, "ClrSysMmbId/ClrSysId/Cd"),
        member_id: text(fin, "ClrSysMmbId/MmbId"),
    }
}
