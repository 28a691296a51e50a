//! SWIFT CBPR+: cross-border payments over SWIFT in ISO 20022, under the CBPR+ usage guidelines.
//!
//! Owns the CBPR+ profile and transformer. A CBPR+ pacs.008 travels with a head.001 Business
//! Application Header, carries exactly one transaction with a UETR, settles by account
//! (`INDA`/`INGA`) or cover (`COVE`) and never through a clearing system (`CLRG`), names its
//! instructing and instructed agents by BIC, keeps its references to the CBPR+ character set,
//! and may use any active currency (commodity codes never). The transformer splits a canonical
//! payment into one message per transaction and writes the AppHdr. Sources and assumptions:
//! docs/SCHEMES.md.

use switchyard_iso20022::{AppHdr, MessageView, Pacs008, Pacs009, SchemeProfile, ValidationError};

use super::checks::{check_profile, SchemeRule};
use super::{
    check_view, fi, set_leg_agents, set_settlement, split, AccountIds, AgentIds, ClearingScheme,
    ClearingSystemId, Currencies, Identifier, LegParties, OperatingWindow, PaymentFacts, Profile,
};

/// The CBPR+ profile.
pub const PROFILE: Profile = Profile {
    scheme: "swift",
    title: "SWIFT CBPR+",
    clearing_system: ClearingSystemId::None,
    message_versions: &["pacs.008.001.08"],
    settlement_methods: &["INDA", "INGA", "COVE"],
    currencies: Currencies::AnyActive,
    max_amount_minor: None,
    max_txs_per_message: 1,
    refused_service_levels: &[],
    agent_ids: AgentIds::Bic,
    account_ids: AccountIds::Any,
    required: &[
        Identifier::AppHdr,
        Identifier::Uetr,
        Identifier::LegAgents,
        Identifier::DebtorAgent,
        Identifier::CreditorAgent,
    ],
    // The network runs around the clock; correspondents' cut-offs are bilateral.
    window: OperatingWindow::ALWAYS,
};

/// CBPR+ for interbank transfers (pacs.009 core, cover and advice): AppHdr, one transaction,
/// UETR, settlement `INDA`/`INGA`/`COVE` (the public CBPR+ advice sample settles `COVE`), never
/// `CLRG`; instructing/instructed agents by BIC (the debtor and creditor institutions may be
/// left empty, as in the public CBPR+ minimal sample: the leg agents carry the BICs).
pub const FI_PROFILE: Profile = Profile {
    title: "SWIFT CBPR+ (pacs.009)",
    message_versions: &["pacs.009.001.08"],
    required: &[Identifier::AppHdr, Identifier::Uetr, Identifier::LegAgents],
    ..PROFILE
};

/// The CBPR+ business service written into the AppHdr.
pub const BIZ_SVC: &str = "swift.cbprplus.02";

/// SWIFT CBPR+; `settlement_method` is what the transformer writes when the canonical payment's
/// method is not a CBPR+ one (a domestic `CLRG` payment leaving the country).
#[derive(Debug, Clone, Copy)]
pub struct Swift {
    pub settlement_method: &'static str,
}

impl Swift {
    /// Settles by instructed agent's account (`INDA`) when the canonical payment does not say.
    pub const DEFAULT: Swift = Swift { settlement_method: "INDA" };
}

impl Default for Swift {
    fn default() -> Self {
        Self::DEFAULT
    }
}

/// `ChrgBr` values CBPR+ allows (`SLEV` is a SEPA/domestic code).
const CHARGE_BEARERS: &[&str] = &["DEBT", "CRED", "SHAR"];

fn cbpr_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || "/-?:().,'+ ".contains(c)
}

/// CBPR+ reference: the SWIFT `x` character set; `InstrId` at most 16 characters.
fn check_reference(name: &str, value: &str, at: String) -> Result<(), ValidationError> {
    if !value.chars().all(cbpr_char) {
        let detail = format!("{name} '{value}' uses characters outside the CBPR+ set");
        return Err(SchemeRule::Reference.at(at, detail));
    }
    if name == "InstrId" && value.chars().count() > 16 {
        return Err(SchemeRule::Reference.at(at, "CBPR+ InstrId is at most 16 characters"));
    }
    Ok(())
}

fn check_references(facts: &PaymentFacts) -> Result<(), ValidationError> {
    check_reference("MsgId", &facts.msg_id, format!("{}/MsgId", facts.grp_path()))?;
    if let Some(h) = &facts.app_hdr {
        check_reference("BizMsgIdr", &h.biz_msg_idr, "/AppHdr/BizMsgIdr".into())?;
    }
    for (index, tx) in facts.txs.iter().enumerate() {
        let path = facts.tx_path(index);
        let refs = [("InstrId", tx.instr_id.as_deref()), ("TxId", tx.tx_id.as_deref())];
        for (name, value) in refs.into_iter().chain([("EndToEndId", Some(tx.end_to_end_id.as_str()))]) {
            if let Some(v) = value {
                check_reference(name, v, format!("{path}/PmtId/{name}"))?;
            }
        }
        if let Some(cb) = tx.chrg_br.as_deref().filter(|cb| !CHARGE_BEARERS.contains(cb)) {
            let detail = format!("CBPR+ charge bearer is one of {CHARGE_BEARERS:?}, not {cb}");
            return Err(SchemeRule::ChargeBearer.at(format!("{path}/ChrgBr"), detail));
        }
    }
    Ok(())
}

/// The AppHdr of a CBPR+ leg: From/To the leg's agents, `BizMsgIdr` = `MsgId`.
fn app_hdr(leg: &Pacs008, parties: &LegParties) -> AppHdr {
    AppHdr {
        fr_bic: Some(parties.instructing.clone()),
        to_bic: Some(parties.instructed.clone()),
        biz_msg_idr: leg.msg_id.clone(),
        msg_def_idr: "pacs.008.001.08".into(),
        biz_svc: Some(BIZ_SVC.into()),
        cre_dt: leg.cre_dt_tm.clone(),
        ..AppHdr::default()
    }
}

impl ClearingScheme for Swift {
    fn profile(&self) -> &Profile {
        &PROFILE
    }

    fn check_facts(&self, facts: &PaymentFacts) -> Result<(), ValidationError> {
        check_profile(&PROFILE, facts)?;
        check_references(facts)
    }

    fn as_profile(&self) -> &dyn SchemeProfile {
        self
    }

    fn fi_profile(&self) -> Option<&Profile> {
        Some(&FI_PROFILE)
    }

    fn check_fi_facts(&self, facts: &PaymentFacts) -> Result<(), ValidationError> {
        check_profile(&FI_PROFILE, facts)?;
        check_references(facts)
    }

    fn transform_fi(
        &self,
        canonical: &Pacs009,
        parties: &LegParties,
    ) -> Result<Vec<Pacs009>, ValidationError> {
        fi::standard_legs(self, canonical, parties, Some(BIZ_SVC))
    }

    fn transform(&self, canonical: &Pacs008, parties: &LegParties) -> Result<Vec<Pacs008>, ValidationError> {
        let mut legs = split(canonical, PROFILE.max_txs_per_message)?;
        for leg in &mut legs {
            if !PROFILE.settlement_methods.contains(&leg.sttlm_mtd.as_str()) {
                leg.sttlm_mtd = self.settlement_method.into();
            }
            set_settlement(&PROFILE, leg);
            set_leg_agents(leg, parties);
            leg.app_hdr = Some(app_hdr(leg, parties));
            self.validate(leg)?;
        }
        Ok(legs)
    }
}

impl SchemeProfile for Swift {
    fn name(&self) -> &str {
        PROFILE.scheme
    }

    fn check(&self, msg: &MessageView<'_, '_>) -> Result<(), ValidationError> {
        check_view(self, msg)
    }
}

#[cfg(test)]
mod tests {
    use switchyard_iso20022::ReasonCode;

    use super::*;
    use crate::schemes::fixtures::{
        assert_rejected, assert_round_trip, assert_view_agrees, cbpr_sample, money, parties, template,
    };

    /// The ZAR template as a CBPR+ leg: charges shared (CBPR+ has no SLEV).
    fn cbpr_leg() -> Pacs008 {
        let mut canonical = template();
        canonical.txs[0].chrg_br = Some("SHAR".into());
        let mut legs = Swift::DEFAULT.transform(&canonical, &parties()).unwrap();
        assert_eq!(legs.len(), 1);
        legs.remove(0)
    }

    #[test]
    fn accepts_the_public_cbpr_plus_sample() {
        let Some(sample) = cbpr_sample() else { return };
        Swift::DEFAULT.validate(&sample).unwrap();
        assert_round_trip(&Swift::DEFAULT, &sample);
    }

    #[test]
    fn a_domestic_payment_becomes_a_cbpr_plus_leg_that_round_trips() {
        let leg = cbpr_leg();
        let hdr = leg.app_hdr.as_ref().expect("AppHdr written");
        assert_eq!(hdr.biz_svc.as_deref(), Some(BIZ_SVC));
        assert_eq!(hdr.biz_msg_idr, leg.msg_id);
        assert_eq!((leg.sttlm_mtd.as_str(), leg.clr_sys.as_ref()), ("INDA", None));
        assert_round_trip(&Swift::DEFAULT, &leg);
    }

    #[test]
    fn requires_the_app_hdr() {
        let mut leg = cbpr_leg();
        leg.app_hdr = None;
        assert_rejected(Swift::DEFAULT.validate(&leg), ReasonCode::FF01, "scheme.bah");
        assert_view_agrees(&Swift::DEFAULT, &leg);
    }

    #[test]
    fn takes_exactly_one_transaction_and_splits_batches() {
        let mut leg = cbpr_leg();
        leg.txs.push(leg.txs[0].clone());
        leg.nb_of_txs = 2;
        assert_rejected(Swift::DEFAULT.validate(&leg), ReasonCode::FF01, "scheme.tx_count");
        let mut canonical = template();
        canonical.txs[0].chrg_br = Some("DEBT".into());
        canonical.txs.push(canonical.txs[0].clone());
        canonical.nb_of_txs = 2;
        let legs = Swift::DEFAULT.transform(&canonical, &parties()).unwrap();
        assert_eq!(legs.len(), 2);
        assert!(legs.iter().all(|l| l.app_hdr.as_ref().is_some_and(|h| h.biz_msg_idr == l.msg_id)));
    }

    #[test]
    fn never_settles_through_a_clearing_system() {
        let mut leg = cbpr_leg();
        leg.sttlm_mtd = "CLRG".into();
        assert_rejected(Swift::DEFAULT.validate(&leg), ReasonCode::FF01, "scheme.sttlm_mtd");
        for method in ["INGA", "COVE"] {
            leg.sttlm_mtd = method.into();
            Swift::DEFAULT.validate(&leg).unwrap();
        }
        leg.clr_sys = Some("TGT".into());
        assert_rejected(Swift::DEFAULT.validate(&leg), ReasonCode::FF01, "scheme.clr_sys");
    }

    #[test]
    fn takes_any_active_currency_and_has_no_scheme_maximum() {
        let mut leg = cbpr_leg();
        leg.txs[0].amount = money("JPY", 9_000_000_000_000);
        Swift::DEFAULT.validate(&leg).unwrap();
        assert_round_trip(&Swift::DEFAULT, &leg);
    }

    #[test]
    fn keeps_references_to_the_cbpr_plus_character_set() {
        let mut leg = cbpr_leg();
        leg.txs[0].end_to_end_id = "E2E_1".into();
        assert_rejected(Swift::DEFAULT.validate(&leg), ReasonCode::FF01, "scheme.ref");
        assert_view_agrees(&Swift::DEFAULT, &leg);
        let mut leg = cbpr_leg();
        leg.txs[0].instr_id = Some("INSTRUCTION-0000001".into());
        assert_rejected(Swift::DEFAULT.validate(&leg), ReasonCode::FF01, "scheme.ref");
    }

    #[test]
    fn refuses_slev_charges_and_bic_less_agents() {
        let mut leg = cbpr_leg();
        leg.txs[0].chrg_br = Some("SLEV".into());
        assert_rejected(Swift::DEFAULT.validate(&leg), ReasonCode::FF01, "scheme.chrg_br");
        let refused = Swift::DEFAULT.transform(&template(), &parties());
        assert_rejected(refused.map(|_| ()), ReasonCode::FF01, "scheme.chrg_br");
        let mut leg = cbpr_leg();
        leg.txs[0].instd_agt = None;
        assert_rejected(Swift::DEFAULT.validate(&leg), ReasonCode::RC02, "scheme.leg_agents");
        let mut leg = cbpr_leg();
        leg.txs[0].dbtr_agt = None;
        assert_rejected(Swift::DEFAULT.validate(&leg), ReasonCode::RC03, "scheme.dbtr_agt");
    }

    #[test]
    fn pacs009_legs_follow_cbpr_plus() {
        use crate::schemes::fixtures::{assert_fi_round_trip, fi_template};
        let mut transfer = fi_template();
        transfer.txs[0].amount = money("EUR", 25_000_000);
        // Canonical CLRG becomes INDA; the AppHdr is written.
        let legs = Swift::DEFAULT.transform_fi(&transfer, &parties()).unwrap();
        let leg = &legs[0];
        assert_eq!(leg.sttlm_mtd, "INDA");
        let hdr = leg.app_hdr.as_ref().expect("AppHdr");
        assert_eq!(
            (hdr.msg_def_idr.as_str(), hdr.biz_msg_idr.as_str()),
            ("pacs.009.001.08", leg.msg_id.as_str())
        );
        assert_fi_round_trip(leg);
        // Without the AppHdr, through a clearing system, or with a reference outside the
        // character set: FF01.
        let mut bare = leg.clone();
        bare.app_hdr = None;
        assert_rejected(Swift::DEFAULT.validate_fi(&bare), ReasonCode::FF01, "scheme.bah");
        let mut clrg = leg.clone();
        clrg.sttlm_mtd = "CLRG".into();
        assert_rejected(Swift::DEFAULT.validate_fi(&clrg), ReasonCode::FF01, "scheme.sttlm_mtd");
        let mut odd = leg.clone();
        odd.txs[0].end_to_end_id = "E2E_1".into();
        assert_rejected(Swift::DEFAULT.validate_fi(&odd), ReasonCode::FF01, "scheme.ref");
        let mut clearing = leg.clone();
        clearing.clr_sys = Some("TGT".into());
        assert_rejected(Swift::DEFAULT.validate_fi(&clearing), ReasonCode::FF01, "scheme.clr_sys");
    }

    #[test]
    fn accepts_the_public_cbpr_plus_pacs009_samples() {
        for name in
            ["pacs.009.001.08__cbprplus2025__adv_min.xml", "pacs.009.001.08__cbprplus2025__cov_max.xml"]
        {
            let path =
                format!("{}/../../../shared/iso20022/samples/valid/{name}", env!("CARGO_MANIFEST_DIR"));
            let Ok(bytes) = std::fs::read(&path) else {
                println!("NOTICE: {name} not found; skipping");
                continue;
            };
            let sample = switchyard_iso20022::read_pacs009(&bytes, &switchyard_iso20022::Limits::default())
                .unwrap_or_else(|e| panic!("{name}: {e}"));
            Swift::DEFAULT.validate_fi(&sample).unwrap_or_else(|e| panic!("{name}: {e}"));
        }
    }
}
