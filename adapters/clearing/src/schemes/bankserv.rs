//! BankservAfrica ACH: South Africa's automated clearing house for EFT credits, cleared in batch
//! windows and settled net in SAMOS.
//!
//! Owns the ACH profile and transformer. A batch scheme takes many transactions per message and
//! cannot honour urgent or instant service levels; it identifies banks by BIC or by their
//! South African National Clearing Code (ZANCC branch code) and accounts by South African
//! account number. Items above the EFT item limit belong in SAMOS or RTC. Sources and
//! assumptions: docs/SCHEMES.md.

use switchyard_iso20022::{MessageView, Pacs008, SchemeProfile, ValidationError};

use super::checks::check_profile;
use super::{
    check_view, standard_legs, AccountIds, AgentIds, ClearingScheme, ClearingSystemId, Currencies, Days,
    Identifier, LegParties, OperatingWindow, PaymentFacts, Profile, Session,
};

/// The BankservAfrica ACH profile.
pub const PROFILE: Profile = Profile {
    scheme: "bankserv",
    title: "BankservAfrica ACH",
    // Assumption: proprietary clearing system name.
    clearing_system: ClearingSystemId::Proprietary("ACH"),
    message_versions: &["pacs.008.001.08"],
    settlement_methods: &["CLRG"],
    currencies: Currencies::Only(&["ZAR"]),
    // Assumption: the R5,000,000.00 EFT item limit (in cents).
    max_amount_minor: Some(500_000_000),
    // A batch: bounded by the reader's default transaction limit.
    max_txs_per_message: 1000,
    refused_service_levels: &["URGP", "INST"],
    agent_ids: AgentIds::BicOrZancc,
    account_ids: AccountIds::ZaAccountNumber,
    required: &[
        Identifier::DebtorAccount,
        Identifier::CreditorAccount,
        Identifier::DebtorAgent,
        Identifier::CreditorAgent,
    ],
    // Assumption (illustrative): three weekday submission windows, SAST.
    window: OperatingWindow {
        utc_offset_minutes: 120,
        days: Days::MON_FRI,
        sessions: &[
            Session { opens_minute: 6 * 60, closes_minute: 9 * 60 },
            Session { opens_minute: 10 * 60 + 30, closes_minute: 13 * 60 },
            Session { opens_minute: 14 * 60, closes_minute: 16 * 60 + 30 },
        ],
    },
};

/// BankservAfrica ACH, with [`PROFILE`].
#[derive(Debug, Clone, Copy, Default)]
pub struct Bankserv;

profile_scheme!(Bankserv);

#[cfg(test)]
mod tests {
    use switchyard_iso20022::{ClearingMember, ReasonCode};

    use super::*;
    use crate::schemes::fixtures::{
        assert_rejected, assert_round_trip, assert_view_agrees, money, parties, template,
        template_with_amount, zar,
    };

    fn zancc(mmb_id: &str) -> Option<ClearingMember> {
        Some(ClearingMember { clr_sys_cd: Some("ZANCC".into()), mmb_id: mmb_id.into() })
    }

    #[test]
    fn accepts_a_batch_and_its_leg_round_trips() {
        let mut canonical = template();
        canonical.txs.push(canonical.txs[0].clone());
        canonical.nb_of_txs = 2;
        Bankserv.validate(&canonical).unwrap();
        let legs = Bankserv.transform(&canonical, &parties()).unwrap();
        assert_eq!(legs.len(), 1, "one batch message");
        assert_eq!(legs[0].clr_sys_prtry.as_deref(), Some("ACH"));
        assert_round_trip(&Bankserv, &legs[0]);
    }

    #[test]
    fn refuses_items_above_the_limit() {
        Bankserv.validate(&template_with_amount(zar(500_000_000))).unwrap();
        let msg = template_with_amount(zar(500_000_001));
        assert_rejected(Bankserv.validate(&msg), ReasonCode::AM02, "scheme.amt_max");
        assert_view_agrees(&Bankserv, &msg);
    }

    #[test]
    fn refuses_other_currencies() {
        let msg = template_with_amount(money("EUR", 10_000));
        assert_rejected(Bankserv.validate(&msg), ReasonCode::AM03, "scheme.ccy");
    }

    #[test]
    fn refuses_urgent_service_levels() {
        let mut msg = template();
        msg.txs[0].svc_lvl_cd = Some("URGP".into());
        assert_rejected(Bankserv.validate(&msg), ReasonCode::FF03, "scheme.svc_lvl");
        assert_view_agrees(&Bankserv, &msg);
    }

    #[test]
    fn takes_zancc_branch_codes_for_agents() {
        let mut msg = template();
        msg.txs[0].cdtr_agt = None;
        msg.txs[0].cdtr_agt_mmb = zancc("250655");
        Bankserv.validate(&msg).unwrap();
        assert_round_trip(&Bankserv, &msg);
        msg.txs[0].cdtr_agt_mmb = zancc("2506");
        assert_rejected(Bankserv.validate(&msg), ReasonCode::RC08, "scheme.mmb_id");
        msg.txs[0].cdtr_agt_mmb = None;
        assert_rejected(Bankserv.validate(&msg), ReasonCode::RC04, "scheme.cdtr_agt");
    }

    #[test]
    fn requires_south_african_account_numbers() {
        let mut msg = template();
        msg.txs[0].cdtr_acct_othr = None;
        msg.txs[0].cdtr_iban = Some("GB29NWBK60161331926819".into());
        assert_rejected(Bankserv.validate(&msg), ReasonCode::AC03, "scheme.cdtr_acct");
        let mut msg = template();
        msg.txs[0].dbtr_acct_othr = Some("62-0012".into());
        assert_rejected(Bankserv.validate(&msg), ReasonCode::AC01, "scheme.dbtr_acct_form");
        msg.txs[0].dbtr_acct_othr = None;
        assert_rejected(Bankserv.validate(&msg), ReasonCode::RR01, "scheme.dbtr_acct");
        assert_view_agrees(&Bankserv, &msg);
    }

    #[test]
    fn submits_only_inside_a_batch_window() {
        // 2026-11-23 (a Monday) 06:00 UTC = 08:00 SAST: first window. 07:30 UTC = 09:30 SAST: between.
        let monday_08_sast = 1_795_413_600_000;
        Bankserv.check_window(monday_08_sast).unwrap();
        let between = monday_08_sast + 90 * 60_000;
        assert_rejected(Bankserv.check_window(between), ReasonCode::TM01, "scheme.window");
    }
}
