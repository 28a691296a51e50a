//! The scheme rule table and the checks every [`Profile`] drives.
//!
//! [`SchemeRule`] is the one table that maps each scheme check to exactly one ISO 20022 reason
//! code and a stable id (`scheme.amt_max`), the way the iso20022 crate's `Rule` does for ISO
//! rules. Where that crate already decided a code for the same condition (settlement method,
//! one transaction per message, reference character set: `FF01`; currency `AM03`; amount
//! `AM02`), the same code is used, so a message gets one verdict whichever layer sees it first.
//!
//! The checks here read only the [`Profile`]'s data; rules with no data form (CBPR+ references,
//! PayShap proxies, SAMOS settlement date) live in their scheme's module.

use switchyard_iso20022::{ReasonCode, ValidationError};

use super::facts::{AccountFacts, AgentFacts, PaymentFacts, TxFacts, PACS009_ROOT};
use super::{AccountIds, AgentIds, ClearingSystemId, Currencies, Identifier, Profile};

macro_rules! scheme_rules {
    ($($rule:ident => ($code:ident, $id:literal, $doc:literal),)*) => {
        /// One scheme check. Each maps to exactly one reason code (docs/SCHEMES.md).
        #[non_exhaustive]
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum SchemeRule {
            $(#[doc = $doc] $rule,)*
        }

        impl SchemeRule {
            /// Every rule, in table order.
            pub const ALL: &'static [SchemeRule] = &[$(SchemeRule::$rule,)*];

            /// The single reason code this failure maps to.
            #[must_use]
            pub fn code(self) -> ReasonCode {
                match self { $(SchemeRule::$rule => ReasonCode::$code,)* }
            }

            /// A stable dotted identifier (`scheme.amt_max`).
            #[must_use]
            pub fn id(self) -> &'static str {
                match self { $(SchemeRule::$rule => $id,)* }
            }

            /// What the rule checks, in one sentence.
            #[must_use]
            pub fn description(self) -> &'static str {
                match self { $(SchemeRule::$rule => $doc,)* }
            }
        }
    };
}

scheme_rules! {
    MessageVersion => (FF01, "scheme.msg_version", "The message definition is not one the scheme accepts."),
    AppHdrMissing => (FF01, "scheme.bah", "The scheme requires a Business Application Header (head.001)."),
    SettlementMethod => (FF01, "scheme.sttlm_mtd", "SttlmInf/SttlmMtd is not a settlement method of the scheme."),
    ClearingSystem => (FF01, "scheme.clr_sys", "SttlmInf/ClrSys names another clearing system."),
    TransactionCount => (FF01, "scheme.tx_count", "The message carries more transactions than the scheme allows per message."),
    Currency => (AM03, "scheme.ccy", "The scheme does not settle in this currency."),
    AmountAboveMaximum => (AM02, "scheme.amt_max", "The amount exceeds the scheme's per-transaction maximum."),
    UetrMissing => (FF01, "scheme.uetr", "The scheme requires a UETR."),
    SettlementDateMissing => (DT01, "scheme.sttlm_dt", "The scheme requires an interbank settlement date."),
    ServiceLevel => (FF03, "scheme.svc_lvl", "The service level asks for a treatment the scheme does not offer."),
    DebtorAccountMissing => (RR01, "scheme.dbtr_acct", "The debtor account is missing."),
    DebtorAccountForm => (AC01, "scheme.dbtr_acct_form", "The debtor account is not in the scheme's account form."),
    CreditorAccount => (AC03, "scheme.cdtr_acct", "The creditor account is missing or not in the scheme's account form."),
    DebtorAgent => (RC03, "scheme.dbtr_agt", "The debtor agent is not identified the way the scheme requires."),
    CreditorAgent => (RC04, "scheme.cdtr_agt", "The creditor agent is not identified the way the scheme requires."),
    ClearingMember => (RC08, "scheme.mmb_id", "A ZANCC clearing member id is not a six-digit branch code."),
    LegAgents => (RC02, "scheme.leg_agents", "InstgAgt or InstdAgt is missing or has no BIC."),
    Reference => (FF01, "scheme.ref", "A reference breaks the scheme's character set or length."),
    ChargeBearer => (FF01, "scheme.chrg_br", "The charge bearer code is not one the scheme allows."),
    Proxy => (BE23, "scheme.proxy", "The creditor proxy is not in a form the scheme accepts."),
    ProxyUnknown => (BE23, "scheme.proxy_unknown", "The creditor proxy is not registered in the proxy directory."),
    OutsideWindow => (TM01, "scheme.window", "The scheme is closed at this time (outside its operating window)."),
}

impl SchemeRule {
    /// Builds the failure for this rule at `path`; the detail starts with `[id]`.
    pub fn at(self, path: impl Into<String>, detail: impl AsRef<str>) -> ValidationError {
        ValidationError::new(self.code(), path, format!("[{}] {}", self.id(), detail.as_ref()))
    }
}

/// Every data-driven rule of `p`, message first, then each transaction in order.
pub(super) fn check_profile(p: &Profile, f: &PaymentFacts) -> Result<(), ValidationError> {
    check_message(p, f)?;
    for (index, tx) in f.txs.iter().enumerate() {
        let path = f.tx_path(index);
        check_amount(p, tx, &path)?;
        check_identifiers(p, tx, &path)?;
        check_service_level(p, tx, &path)?;
        check_agents(p, tx, &path, f.root)?;
        check_accounts(p, tx, &path)?;
    }
    Ok(())
}

fn check_message(p: &Profile, f: &PaymentFacts) -> Result<(), ValidationError> {
    if !p.message_versions.contains(&f.msg_def.as_str()) {
        let detail = format!("{} accepts {:?}, not {}", p.title, p.message_versions, f.msg_def);
        return Err(SchemeRule::MessageVersion.at("/Document", detail));
    }
    if p.required.contains(&Identifier::AppHdr) && f.app_hdr.is_none() {
        return Err(
            SchemeRule::AppHdrMissing.at("/AppHdr", format!("{} requires a head.001 AppHdr", p.title))
        );
    }
    if !p.settlement_methods.contains(&f.sttlm_mtd.as_str()) {
        let detail = format!("{} settles {:?}, not '{}'", p.title, p.settlement_methods, f.sttlm_mtd);
        return Err(SchemeRule::SettlementMethod.at(format!("{}/SttlmInf/SttlmMtd", f.grp_path()), detail));
    }
    check_clearing_system(p, f)?;
    if f.txs.len() > p.max_txs_per_message {
        let detail =
            format!("{} takes at most {} per message, found {}", p.title, p.max_txs_per_message, f.txs.len());
        return Err(SchemeRule::TransactionCount.at(format!("/Document/{}", f.root), detail));
    }
    Ok(())
}

/// A `ClrSys` that is present must name this scheme (absent is fine: the transformer sets it).
fn check_clearing_system(p: &Profile, f: &PaymentFacts) -> Result<(), ValidationError> {
    let (cd, prtry) = (f.clr_sys_cd.as_deref(), f.clr_sys_prtry.as_deref());
    let same = match p.clearing_system {
        _ if cd.is_none() && prtry.is_none() => true,
        ClearingSystemId::Code(code) => cd == Some(code),
        ClearingSystemId::Proprietary(name) => cd.is_none() && prtry == Some(name),
        ClearingSystemId::None => false,
    };
    if same {
        return Ok(());
    }
    let given = cd.or(prtry).unwrap_or_default();
    let detail = format!("{} is cleared as {:?}, not '{given}'", p.title, p.clearing_system);
    Err(SchemeRule::ClearingSystem.at(format!("{}/SttlmInf/ClrSys", f.grp_path()), detail))
}

fn check_amount(p: &Profile, tx: &TxFacts, path: &str) -> Result<(), ValidationError> {
    let ccy = tx.amount.currency.as_str();
    let allowed = match p.currencies {
        Currencies::Only(list) => list.contains(&ccy),
        Currencies::AnyActive => !COMMODITIES.contains(&ccy),
    };
    let at = || format!("{path}/IntrBkSttlmAmt");
    if !allowed {
        return Err(SchemeRule::Currency.at(at(), format!("{} does not settle {ccy}", p.title)));
    }
    match p.max_amount_minor {
        Some(max) if tx.amount.minor_units > max => {
            let detail =
                format!("{} minor units exceed the {} maximum of {max}", tx.amount.minor_units, p.title);
            Err(SchemeRule::AmountAboveMaximum.at(at(), detail))
        }
        _ => Ok(()),
    }
}

/// Commodity codes: never a settlement currency.
const COMMODITIES: &[&str] = &["XAU", "XAG", "XPD", "XPT"];

fn check_identifiers(p: &Profile, tx: &TxFacts, path: &str) -> Result<(), ValidationError> {
    if p.required.contains(&Identifier::Uetr) && tx.uetr.is_none() {
        return Err(
            SchemeRule::UetrMissing.at(format!("{path}/PmtId"), format!("{} requires a UETR", p.title))
        );
    }
    if p.required.contains(&Identifier::SettlementDate) && tx.sttlm_dt.is_none() {
        let detail = format!("{} requires IntrBkSttlmDt", p.title);
        return Err(SchemeRule::SettlementDateMissing.at(format!("{path}/IntrBkSttlmDt"), detail));
    }
    if p.required.contains(&Identifier::LegAgents) {
        for (name, bic) in [("InstgAgt", &tx.instg_agt), ("InstdAgt", &tx.instd_agt)] {
            if bic.is_none() {
                let detail = format!("{} requires {name} with a BIC", p.title);
                return Err(SchemeRule::LegAgents.at(format!("{path}/{name}"), detail));
            }
        }
    }
    Ok(())
}

fn check_service_level(p: &Profile, tx: &TxFacts, path: &str) -> Result<(), ValidationError> {
    match tx.svc_lvl_cd.as_deref() {
        Some(code) if p.refused_service_levels.contains(&code) => {
            let detail = format!("{} cannot honour service level {code}", p.title);
            Err(SchemeRule::ServiceLevel.at(format!("{path}/PmtTpInf/SvcLvl/Cd"), detail))
        }
        _ => Ok(()),
    }
}

fn check_agents(p: &Profile, tx: &TxFacts, path: &str, root: &str) -> Result<(), ValidationError> {
    // In a pacs.009 the debtor and creditor are the institutions themselves.
    let (debtor, creditor) = if root == PACS009_ROOT { ("Dbtr", "Cdtr") } else { ("DbtrAgt", "CdtrAgt") };
    let agents = [
        (Identifier::DebtorAgent, debtor, &tx.dbtr_agt, SchemeRule::DebtorAgent),
        (Identifier::CreditorAgent, creditor, &tx.cdtr_agt, SchemeRule::CreditorAgent),
    ];
    for (id, name, agent, rule) in agents {
        if p.required.contains(&id) {
            check_agent(p, agent, &format!("{path}/{name}/FinInstnId"), rule)?;
        }
    }
    Ok(())
}

fn check_agent(p: &Profile, agent: &AgentFacts, at: &str, rule: SchemeRule) -> Result<(), ValidationError> {
    if agent.bic.is_some() {
        return Ok(());
    }
    let zancc = agent.member_system.as_deref() == Some("ZANCC");
    match (p.agent_ids, zancc, agent.member_id.as_deref()) {
        (AgentIds::BicOrZancc, true, Some(id)) if is_branch_code(id) => Ok(()),
        (AgentIds::BicOrZancc, true, Some(id)) => Err(SchemeRule::ClearingMember
            .at(format!("{at}/ClrSysMmbId/MmbId"), format!("'{id}' is not a six-digit branch code"))),
        (AgentIds::BicOrZancc, ..) => {
            Err(rule.at(at, format!("{} requires a BIC or a ZANCC member id", p.title)))
        }
        (AgentIds::Bic, ..) => Err(rule.at(at, format!("{} requires a BIC", p.title))),
    }
}

/// A South African branch code: six digits, optionally written with the `ZA` prefix.
fn is_branch_code(id: &str) -> bool {
    let digits = id.strip_prefix("ZA").unwrap_or(id);
    digits.len() == 6 && digits.bytes().all(|b| b.is_ascii_digit())
}

fn check_accounts(p: &Profile, tx: &TxFacts, path: &str) -> Result<(), ValidationError> {
    let dbtr_at = format!("{path}/DbtrAcct");
    if p.required.contains(&Identifier::DebtorAccount) && !tx.dbtr_acct.is_present() {
        return Err(SchemeRule::DebtorAccountMissing.at(dbtr_at, format!("{} requires DbtrAcct", p.title)));
    }
    if tx.dbtr_acct.is_present() && !account_form_ok(p.account_ids, &tx.dbtr_acct) {
        return Err(SchemeRule::DebtorAccountForm.at(dbtr_at, account_form_detail(p)));
    }
    let cdtr_at = format!("{path}/CdtrAcct");
    if p.required.contains(&Identifier::CreditorAccount) && !tx.cdtr_acct.is_present() {
        return Err(SchemeRule::CreditorAccount.at(cdtr_at, format!("{} requires CdtrAcct", p.title)));
    }
    if tx.cdtr_acct.is_present() && !account_form_ok(p.account_ids, &tx.cdtr_acct) {
        return Err(SchemeRule::CreditorAccount.at(cdtr_at, account_form_detail(p)));
    }
    Ok(())
}

fn account_form_ok(form: AccountIds, acct: &AccountFacts) -> bool {
    match form {
        AccountIds::Any => true,
        AccountIds::ZaAccountNumber => {
            acct.iban.is_none()
                && acct
                    .other
                    .as_deref()
                    .is_some_and(|id| (1..=11).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_digit()))
        }
    }
}

fn account_form_detail(p: &Profile) -> String {
    format!(
        "{} accounts are {:?} (Id/Othr/Id of 1 to 11 digits for ZA account numbers)",
        p.title, p.account_ids
    )
}

/// `TM01` when `p`'s window is closed at `unix_ms`.
pub(super) fn check_window(p: &Profile, unix_ms: i64) -> Result<(), ValidationError> {
    if p.window.is_open_at(unix_ms) {
        return Ok(());
    }
    Err(SchemeRule::OutsideWindow.at("/", format!("{} is outside its operating window", p.title)))
}
