//! Interbank transfers (pacs.009, `FICdtTrf`) through a scheme: the same profile shape, checks
//! and transformer as for customer transfers, applied to a financial institution credit
//! transfer.
//!
//! A scheme that settles pacs.009 gives a second [`Profile`] (its `FI_PROFILE`: SAMOS, which
//! settles interbank transfers via the central bank, and SWIFT CBPR+ `pacs.009` core/cover);
//! [`super::ClearingScheme::fi_profile`] returns it, and a scheme without one refuses pacs.009
//! with `FF01` (`scheme.msg_version`). The checks are the rule table's
//! ([`super::SchemeRule`]), on the facts of the pacs.009 ([`PaymentFacts::from_pacs009`]: the
//! debtor and creditor institutions are checked where a pacs.008's agents are).
//!
//! Gap: the iso20022 typed pacs.009 carries `ClrSys/Cd` only, so a scheme named by a
//! proprietary clearing system (SAMOS) gets no `ClrSys` on its pacs.009 leg (docs/SCHEMES.md).

use compact_str::format_compact;
use switchyard_iso20022::{AppHdr, Pacs009, ValidationError};

use super::checks::{check_profile, SchemeRule};
use super::{ClearingScheme, ClearingSystemId, Identifier, LegParties, PaymentFacts, Profile};

/// The refusal of a scheme that takes no pacs.009.
pub(super) fn not_taken(scheme: &Profile) -> ValidationError {
    let detail =
        format!("{} takes {:?}, not pacs.009 (interbank transfers)", scheme.title, scheme.message_versions);
    SchemeRule::MessageVersion.at("/Document", detail)
}

/// The data-driven checks of `scheme`'s pacs.009 profile.
pub(super) fn check<S: ClearingScheme + ?Sized>(
    scheme: &S,
    facts: &PaymentFacts,
) -> Result<(), ValidationError> {
    match scheme.fi_profile() {
        Some(profile) => check_profile(profile, facts),
        None => Err(not_taken(scheme.profile())),
    }
}

/// The standard pacs.009 legs: one message per transaction (both pacs.009 schemes settle
/// gross), settlement method and clearing system set, `InstgAgt`/`InstdAgt` from the route,
/// an AppHdr when the profile requires one (CBPR+), every leg validated.
pub(super) fn standard_legs<S: ClearingScheme + ?Sized>(
    scheme: &S,
    canonical: &Pacs009,
    parties: &LegParties,
    biz_svc: Option<&str>,
) -> Result<Vec<Pacs009>, ValidationError> {
    let Some(profile) = scheme.fi_profile() else { return Err(not_taken(scheme.profile())) };
    let chunk = profile.max_txs_per_message.max(1);
    let mut legs = Vec::new();
    for (n, txs) in canonical.txs.chunks(chunk).enumerate() {
        let mut leg = canonical.clone();
        if canonical.txs.len() > chunk {
            leg.msg_id = format_compact!("{}-{}", canonical.msg_id, n + 1);
            if leg.msg_id.chars().count() > 35 {
                let detail = format!("split MsgId '{}' exceeds 35 characters", leg.msg_id);
                return Err(SchemeRule::Reference.at("/Document/FICdtTrf/GrpHdr/MsgId", detail));
            }
        }
        leg.txs = txs.to_vec();
        leg.nb_of_txs = u32::try_from(txs.len()).unwrap_or(u32::MAX);
        if !profile.settlement_methods.contains(&leg.sttlm_mtd.as_str()) {
            if let Some(first) = profile.settlement_methods.first() {
                leg.sttlm_mtd = (*first).into();
            }
        }
        leg.clr_sys = match profile.clearing_system {
            ClearingSystemId::Code(cd) => Some(cd.into()),
            // The typed pacs.009 has no ClrSys/Prtry (module docs, gap).
            ClearingSystemId::Proprietary(_) | ClearingSystemId::None => None,
        };
        for tx in &mut leg.txs {
            tx.instg_agt = Some(parties.instructing.clone());
            tx.instg_agt_mmb = None;
            tx.instd_agt = Some(parties.instructed.clone());
            tx.instd_agt_mmb = None;
        }
        // The participant's AppHdr addressed its own hop (its `To`, its `BizSvc`, e.g. a CBPR+
        // service whose rules the leg no longer follows): a leg carries the scheme's header or none.
        leg.app_hdr = None;
        if profile.required.contains(&Identifier::AppHdr) {
            leg.app_hdr = Some(AppHdr {
                fr_bic: Some(parties.instructing.clone()),
                to_bic: Some(parties.instructed.clone()),
                biz_msg_idr: leg.msg_id.clone(),
                msg_def_idr: "pacs.009.001.08".into(),
                biz_svc: biz_svc.map(Into::into),
                cre_dt: leg.cre_dt_tm.clone(),
                ..AppHdr::default()
            });
        }
        scheme.validate_fi(&leg)?;
        legs.push(leg);
    }
    Ok(legs)
}
