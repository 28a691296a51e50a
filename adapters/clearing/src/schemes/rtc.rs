//! RTC: Real-Time Clearing, BankservAfrica's real-time interbank credit transfer service in ZAR.
//!
//! Owns the RTC profile and transformer. Real time means one transaction per message, cleared
//! around the clock, under a per-transaction limit; banks are identified by BIC or ZANCC branch
//! code and accounts by South African account number. Sources and assumptions: docs/SCHEMES.md.

use switchyard_iso20022::{MessageView, Pacs008, SchemeProfile, ValidationError};

use super::checks::check_profile;
use super::{
    check_view, standard_legs, AccountIds, AgentIds, ClearingScheme, ClearingSystemId, Currencies,
    Identifier, LegParties, OperatingWindow, PaymentFacts, Profile,
};

/// The RTC profile.
pub const PROFILE: Profile = Profile {
    scheme: "rtc",
    title: "RTC",
    // Assumption: proprietary clearing system name.
    clearing_system: ClearingSystemId::Proprietary("RTC"),
    message_versions: &["pacs.008.001.08"],
    settlement_methods: &["CLRG"],
    currencies: Currencies::Only(&["ZAR"]),
    // Assumption: R5,000,000.00 per transaction (in cents).
    max_amount_minor: Some(500_000_000),
    max_txs_per_message: 1,
    refused_service_levels: &[],
    agent_ids: AgentIds::BicOrZancc,
    account_ids: AccountIds::ZaAccountNumber,
    required: &[
        Identifier::DebtorAccount,
        Identifier::CreditorAccount,
        Identifier::DebtorAgent,
        Identifier::CreditorAgent,
    ],
    // Assumption: 24/7/365.
    window: OperatingWindow::ALWAYS,
};

/// RTC, with [`PROFILE`].
#[derive(Debug, Clone, Copy, Default)]
pub struct Rtc;

profile_scheme!(Rtc);

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
        Rtc.validate(&template()).unwrap();
        let legs = Rtc.transform(&template(), &parties()).unwrap();
        assert_eq!(legs.len(), 1);
        assert_eq!(legs[0].clr_sys_prtry.as_deref(), Some("RTC"));
        assert_round_trip(&Rtc, &legs[0]);
    }

    #[test]
    fn refuses_transactions_above_the_limit() {
        Rtc.validate(&template_with_amount(zar(500_000_000))).unwrap();
        let msg = template_with_amount(zar(500_000_001));
        assert_rejected(Rtc.validate(&msg), ReasonCode::AM02, "scheme.amt_max");
        assert_view_agrees(&Rtc, &msg);
    }

    #[test]
    fn refuses_other_currencies() {
        let msg = template_with_amount(money("GBP", 10_000));
        assert_rejected(Rtc.validate(&msg), ReasonCode::AM03, "scheme.ccy");
        assert_view_agrees(&Rtc, &msg);
    }

    #[test]
    fn takes_one_transaction_per_message() {
        let mut msg = template();
        msg.txs.push(msg.txs[0].clone());
        msg.nb_of_txs = 2;
        assert_rejected(Rtc.validate(&msg), ReasonCode::FF01, "scheme.tx_count");
        assert_view_agrees(&Rtc, &msg);
        assert_eq!(Rtc.transform(&msg, &parties()).unwrap().len(), 2);
    }

    #[test]
    fn requires_a_debtor_account() {
        let mut msg = template();
        msg.txs[0].dbtr_acct_othr = None;
        assert_rejected(Rtc.validate(&msg), ReasonCode::RR01, "scheme.dbtr_acct");
    }

    #[test]
    fn is_open_around_the_clock() {
        // Monday 2026-11-23 08:00 UTC minus 31 hours: Sunday 01:00 UTC, 03:00 SAST.
        let sunday_03_sast = 1_795_420_800_000 - 31 * 3_600_000;
        Rtc.check_window(sunday_03_sast).unwrap();
    }
}
