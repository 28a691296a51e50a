//! PayShap: South Africa's instant, low-value, proxy-addressable payment service, built by
//! BankservAfrica under the Rapid Payments Programme.
//!
//! Owns the PayShap profile (with a configurable per-transaction limit, default R50,000.00) and
//! transformer. A payment is instant (one transaction per message, 24/7) and its creditor may be
//! addressed by a proxy (a "ShapID": a mobile number or an alias, at a bank) in
//! `CdtrAcct/Prxy`. The iso20022 typed model has no proxy field, so the profile checks the proxy
//! through the [`SchemeProfile`] door (the parsed message), and on the submission path the gate
//! reads it from the participant's bytes, checks or resolves it and writes it back into the
//! leg ([`super::proxy`], [`super::gate`]). Sources and assumptions: docs/SCHEMES.md.

use switchyard_iso20022::{MessageView, Pacs008, SchemeProfile, ValidationError};

use super::checks::{check_profile, SchemeRule};
use super::proxy::proxy_form_ok;
use super::{
    check_view, standard_legs, AccountIds, AgentIds, ClearingScheme, ClearingSystemId, Currencies,
    Identifier, LegParties, OperatingWindow, PaymentFacts, Profile, TxFacts,
};

/// The default per-transaction limit: R50,000.00 in cents.
pub const DEFAULT_MAX_AMOUNT_MINOR: i64 = 5_000_000;

/// The PayShap profile with the default limit.
pub const PROFILE: Profile = Profile {
    scheme: "payshap",
    title: "PayShap",
    // Assumption: proprietary clearing system name (the Rapid Payments Programme).
    clearing_system: ClearingSystemId::Proprietary("RPP"),
    message_versions: &["pacs.008.001.08"],
    settlement_methods: &["CLRG"],
    currencies: Currencies::Only(&["ZAR"]),
    max_amount_minor: Some(DEFAULT_MAX_AMOUNT_MINOR),
    max_txs_per_message: 1,
    refused_service_levels: &[],
    agent_ids: AgentIds::BicOrZancc,
    account_ids: AccountIds::ZaAccountNumber,
    required: &[
        Identifier::Uetr,
        Identifier::DebtorAccount,
        Identifier::CreditorAccount,
        Identifier::DebtorAgent,
        Identifier::CreditorAgent,
    ],
    window: OperatingWindow::ALWAYS,
};

/// PayShap with its profile; the limit is configurable per deployment.
#[derive(Debug, Clone, Copy)]
pub struct PayShap {
    profile: Profile,
}

impl PayShap {
    /// PayShap with the default R50,000.00 limit.
    pub const DEFAULT: PayShap = PayShap { profile: PROFILE };

    /// PayShap with a per-transaction limit of `max_amount_minor` cents (integer minor units).
    #[must_use]
    pub const fn with_max_amount_minor(max_amount_minor: i64) -> PayShap {
        let mut profile = PROFILE;
        profile.max_amount_minor = Some(max_amount_minor);
        PayShap { profile }
    }
}

impl Default for PayShap {
    fn default() -> Self {
        Self::DEFAULT
    }
}

fn check_proxy(tx: &TxFacts, path: &str) -> Result<(), ValidationError> {
    let Some(id) = tx.cdtr_acct.proxy.as_deref() else { return Ok(()) };
    if proxy_form_ok(tx.cdtr_acct.proxy_type.as_deref(), id) {
        return Ok(());
    }
    let detail = format!("'{id}' is not a PayShap proxy (a ZA mobile number or alias, optionally @bank)");
    Err(SchemeRule::Proxy.at(format!("{path}/CdtrAcct/Prxy/Id"), detail))
}

impl ClearingScheme for PayShap {
    fn profile(&self) -> &Profile {
        &self.profile
    }

    fn check_facts(&self, facts: &PaymentFacts) -> Result<(), ValidationError> {
        check_profile(&self.profile, facts)?;
        for (index, tx) in facts.txs.iter().enumerate() {
            check_proxy(tx, &facts.tx_path(index))?;
        }
        Ok(())
    }

    fn as_profile(&self) -> &dyn SchemeProfile {
        self
    }

    fn transform(&self, canonical: &Pacs008, parties: &LegParties) -> Result<Vec<Pacs008>, ValidationError> {
        standard_legs(self, canonical, parties)
    }
}

impl SchemeProfile for PayShap {
    fn name(&self) -> &str {
        self.profile.scheme
    }

    fn check(&self, msg: &MessageView<'_, '_>) -> Result<(), ValidationError> {
        check_view(self, msg)
    }
}

#[cfg(test)]
mod tests {
    use switchyard_iso20022::{read_pacs008, validate_with_profile, write_pacs008, Limits, ReasonCode};

    use super::*;
    use crate::schemes::fixtures::{
        assert_rejected, assert_round_trip, assert_view_agrees, money, parties, template,
        template_with_amount, zar,
    };

    #[test]
    fn accepts_the_zar_template_and_its_leg_round_trips() {
        PayShap::DEFAULT.validate(&template()).unwrap();
        let legs = PayShap::DEFAULT.transform(&template(), &parties()).unwrap();
        assert_eq!(legs.len(), 1);
        assert_eq!(legs[0].clr_sys_prtry.as_deref(), Some("RPP"));
        assert_round_trip(&PayShap::DEFAULT, &legs[0]);
    }

    #[test]
    fn refuses_amounts_above_the_default_limit() {
        PayShap::DEFAULT.validate(&template_with_amount(zar(DEFAULT_MAX_AMOUNT_MINOR))).unwrap();
        let msg = template_with_amount(zar(DEFAULT_MAX_AMOUNT_MINOR + 1));
        assert_rejected(PayShap::DEFAULT.validate(&msg), ReasonCode::AM02, "scheme.amt_max");
        assert_view_agrees(&PayShap::DEFAULT, &msg);
    }

    #[test]
    fn the_limit_is_configurable() {
        let lowered = PayShap::with_max_amount_minor(300_000);
        let msg = template_with_amount(zar(300_001));
        PayShap::DEFAULT.validate(&msg).unwrap();
        assert_rejected(lowered.validate(&msg), ReasonCode::AM02, "scheme.amt_max");
        assert_eq!(lowered.profile().max_amount_minor, Some(300_000));
    }

    #[test]
    fn refuses_other_currencies_and_batches() {
        let msg = template_with_amount(money("USD", 10_000));
        assert_rejected(PayShap::DEFAULT.validate(&msg), ReasonCode::AM03, "scheme.ccy");
        let mut msg = template();
        msg.txs.push(msg.txs[0].clone());
        msg.nb_of_txs = 2;
        assert_rejected(PayShap::DEFAULT.validate(&msg), ReasonCode::FF01, "scheme.tx_count");
    }

    /// The template, written, with `CdtrAcct/Prxy` added by text (the model cannot carry it).
    fn with_proxy(kind: &str, id: &str) -> Vec<u8> {
        let xml = String::from_utf8(write_pacs008(&template())).unwrap();
        let proxy = format!("<Prxy><Tp><Cd>{kind}</Cd></Tp><Id>{id}</Id></Prxy></CdtrAcct>");
        let (head, tail) = xml.split_once("</CdtrAcct>").expect("a creditor account");
        format!("{head}{proxy}{tail}").into_bytes()
    }

    fn check_bytes(bytes: &[u8]) -> Result<(), switchyard_iso20022::ValidationError> {
        validate_with_profile(bytes, &Limits::default(), &PayShap::DEFAULT).map(|_| ())
    }

    #[test]
    fn checks_a_proxy_addressed_creditor_through_the_profile_hook() {
        check_bytes(&with_proxy("MBNO", "+27821234567")).unwrap();
        check_bytes(&with_proxy("MBNO", "0821234567@zybank")).unwrap();
        assert_rejected(check_bytes(&with_proxy("MBNO", "12345")), ReasonCode::BE23, "scheme.proxy");
        assert_rejected(check_bytes(&with_proxy("MBNO", "0821234567@")), ReasonCode::BE23, "scheme.proxy");
    }

    #[test]
    fn gap_the_typed_model_drops_the_proxy() {
        // Pins docs/SCHEMES.md "Gaps": when the model gains a proxy field, this fails and the
        // PayShap transformer should carry it.
        let read = read_pacs008(&with_proxy("MBNO", "+27821234567"), &Limits::default()).unwrap();
        let written = String::from_utf8(write_pacs008(&read)).unwrap();
        assert!(!written.contains("Prxy"));
    }

    #[test]
    fn recognises_za_mobile_numbers() {
        use crate::schemes::proxy::is_za_mobile;
        assert!(is_za_mobile("+27821234567") && is_za_mobile("0821234567"));
        assert!(!is_za_mobile("+2782123456") && !is_za_mobile("821234567"));
    }
}
