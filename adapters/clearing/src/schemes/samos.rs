//! SAMOS: the South African Multiple Option Settlement system, the South African Reserve Bank's
//! real-time gross settlement (RTGS) system for high-value ZAR payments.
//!
//! Owns the SAMOS profile and transformer. Settlement is final in central bank money, one
//! payment at a time, so a leg carries one transaction, settlement method `CLRG` with the
//! clearing system named, a UETR, an interbank settlement date, and BIC-identified agents
//! (SAMOS participants are reached over SWIFT). There is no scheme maximum: high value is the
//! point. Sources and assumptions: docs/SCHEMES.md.

use switchyard_iso20022::{MessageView, Pacs008, SchemeProfile, ValidationError};

use super::checks::check_profile;
use super::{
    check_view, standard_legs, AccountIds, AgentIds, ClearingScheme, ClearingSystemId, Currencies, Days,
    Identifier, LegParties, OperatingWindow, PaymentFacts, Profile, Session,
};

/// The SAMOS profile.
pub const PROFILE: Profile = Profile {
    scheme: "samos",
    title: "SAMOS",
    // Assumption: no ExternalCashClearingSystem1Code known to us for SAMOS; proprietary name.
    clearing_system: ClearingSystemId::Proprietary("SAMOS"),
    message_versions: &["pacs.008.001.08"],
    settlement_methods: &["CLRG"],
    currencies: Currencies::Only(&["ZAR"]),
    max_amount_minor: None,
    max_txs_per_message: 1,
    refused_service_levels: &[],
    agent_ids: AgentIds::Bic,
    account_ids: AccountIds::Any,
    required: &[
        Identifier::Uetr,
        Identifier::SettlementDate,
        Identifier::DebtorAgent,
        Identifier::CreditorAgent,
        Identifier::CreditorAccount,
    ],
    // Assumption: business days, 07:00 to 18:00 South African Standard Time.
    window: OperatingWindow {
        utc_offset_minutes: 120,
        days: Days::MON_FRI,
        sessions: &[Session { opens_minute: 7 * 60, closes_minute: 18 * 60 }],
    },
};

/// SAMOS for interbank transfers (pacs.009): banks' own transfers settled gross in central
/// bank money. Same window and currency; institutions (`Dbtr`, `Cdtr`) and leg agents by BIC.
pub const FI_PROFILE: Profile = Profile {
    title: "SAMOS (pacs.009)",
    message_versions: &["pacs.009.001.08"],
    account_ids: AccountIds::Any,
    required: &[
        Identifier::Uetr,
        Identifier::SettlementDate,
        Identifier::LegAgents,
        Identifier::DebtorAgent,
        Identifier::CreditorAgent,
    ],
    ..PROFILE
};

/// SAMOS, with [`PROFILE`] (pacs.008) and [`FI_PROFILE`] (pacs.009).
#[derive(Debug, Clone, Copy, Default)]
pub struct Samos;

profile_scheme!(Samos, FI_PROFILE);

#[cfg(test)]
mod tests {
    use switchyard_iso20022::ReasonCode;

    use super::*;
    use crate::schemes::fixtures::{
        assert_rejected, assert_round_trip, assert_view_agrees, money, parties, template,
        template_with_amount, zar,
    };

    #[test]
    fn accepts_the_zar_template_and_its_leg_round_trips() {
        let canonical = template();
        Samos.validate(&canonical).unwrap();
        let legs = Samos.transform(&canonical, &parties()).unwrap();
        assert_eq!(legs.len(), 1);
        assert_eq!(legs[0].clr_sys_prtry.as_deref(), Some("SAMOS"));
        assert_eq!(legs[0].sttlm_mtd, "CLRG");
        assert_eq!(legs[0].txs[0].instd_agt, Some(parties().instructed));
        assert_round_trip(&Samos, &legs[0]);
    }

    #[test]
    fn high_value_has_no_scheme_maximum() {
        Samos.validate(&template_with_amount(zar(90_000_000_000_000))).unwrap();
    }

    #[test]
    fn refuses_other_currencies() {
        let msg = template_with_amount(money("USD", 10_000));
        assert_rejected(Samos.validate(&msg), ReasonCode::AM03, "scheme.ccy");
        assert_view_agrees(&Samos, &msg);
    }

    #[test]
    fn refuses_other_settlement_methods_and_clearing_systems() {
        let mut msg = template();
        msg.sttlm_mtd = "INDA".into();
        assert_rejected(Samos.validate(&msg), ReasonCode::FF01, "scheme.sttlm_mtd");
        let mut msg = template();
        msg.clr_sys_prtry = Some("RTC".into());
        assert_rejected(Samos.validate(&msg), ReasonCode::FF01, "scheme.clr_sys");
        assert_view_agrees(&Samos, &msg);
    }

    #[test]
    fn requires_a_settlement_date_a_uetr_and_bic_agents() {
        let mut msg = template();
        msg.txs[0].intr_bk_sttlm_dt = None;
        assert_rejected(Samos.validate(&msg), ReasonCode::DT01, "scheme.sttlm_dt");
        assert_view_agrees(&Samos, &msg);
        let mut msg = template();
        msg.txs[0].uetr = None;
        assert_rejected(Samos.validate(&msg), ReasonCode::FF01, "scheme.uetr");
        let mut msg = template();
        msg.txs[0].cdtr_agt = None;
        assert_rejected(Samos.validate(&msg), ReasonCode::RC04, "scheme.cdtr_agt");
    }

    #[test]
    fn splits_a_multi_transaction_payment_into_one_leg_each() {
        let mut canonical = template();
        canonical.txs.push(canonical.txs[0].clone());
        canonical.nb_of_txs = 2;
        assert_rejected(Samos.validate(&canonical), ReasonCode::FF01, "scheme.tx_count");
        let legs = Samos.transform(&canonical, &parties()).unwrap();
        let ids: Vec<_> = legs.iter().map(|l| (l.msg_id.as_str(), l.txs.len())).collect();
        assert_eq!(ids, [("TEMPLATE-1-1", 1), ("TEMPLATE-1-2", 1)]);
    }

    #[test]
    fn is_closed_at_night_and_at_weekends() {
        // 2026-11-23 is a Monday. 08:00 UTC = 10:00 SAST.
        let monday_10_sast = 1_795_420_800_000;
        Samos.check_window(monday_10_sast).unwrap();
        let monday_22_sast = monday_10_sast + 12 * 3_600_000;
        assert_rejected(Samos.check_window(monday_22_sast), ReasonCode::TM01, "scheme.window");
        let saturday_10_sast = monday_10_sast + 5 * 86_400_000;
        assert_rejected(Samos.check_window(saturday_10_sast), ReasonCode::TM01, "scheme.window");
    }

    #[test]
    fn settles_interbank_transfers_as_pacs009_legs() {
        use crate::schemes::fixtures::{assert_fi_round_trip, fi_template};
        let transfer = fi_template();
        Samos.validate_fi(&transfer).unwrap();
        let legs = Samos.transform_fi(&transfer, &parties()).unwrap();
        assert_eq!(legs.len(), 1);
        assert_eq!(legs[0].sttlm_mtd, "CLRG");
        assert_fi_round_trip(&legs[0]);
        let mut no_date = transfer.clone();
        no_date.txs[0].intr_bk_sttlm_dt = None;
        assert_rejected(Samos.validate_fi(&no_date), ReasonCode::DT01, "scheme.sttlm_dt");
        let mut no_creditor = transfer.clone();
        no_creditor.txs[0].cdtr = None;
        let e = Samos.validate_fi(&no_creditor).unwrap_err();
        assert_eq!(
            (e.code, e.path.as_str()),
            (ReasonCode::RC04, "/Document/FICdtTrf/CdtTrfTxInf/Cdtr/FinInstnId")
        );
        let mut inda = transfer.clone();
        inda.sttlm_mtd = "INDA".into();
        assert_rejected(Samos.validate_fi(&inda), ReasonCode::FF01, "scheme.sttlm_mtd");
        // The transformer puts it right: a SAMOS leg settles CLRG.
        assert_eq!(Samos.transform_fi(&inda, &parties()).unwrap()[0].sttlm_mtd, "CLRG");
        let mut two = transfer;
        two.txs.push(two.txs[0].clone());
        two.nb_of_txs = 2;
        assert_rejected(Samos.validate_fi(&two), ReasonCode::FF01, "scheme.tx_count");
        let ids: Vec<_> =
            Samos.transform_fi(&two, &parties()).unwrap().into_iter().map(|l| l.msg_id).collect();
        assert_eq!(ids, ["FI-TEMPLATE-1-1", "FI-TEMPLATE-1-2"]);
    }
}
