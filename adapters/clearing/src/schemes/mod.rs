//! Clearing scheme profiles and transformers: one module per clearing system, all one shape.
//!
//! This module owns the template every scheme fills in (the hyperswitch connector-template idea):
//! a [`Profile`] that states the scheme's usage rules as data (clearing system, message versions,
//! settlement methods, currencies, amount limit in integer minor units, operating window,
//! identifiers required), a validation that turns each broken rule into exactly one ISO reason
//! code ([`SchemeRule`]), and a transformer from the canonical pacs.008 to the scheme's leg.
//! It also owns the registry ([`profile`], [`SCHEMES`]).
//!
//! A scheme sees a payment through [`PaymentFacts`], which can be taken from the typed
//! [`Pacs008`] (what the switch holds) or from the iso20022 crate's [`MessageView`] (so every
//! scheme is also a [`SchemeProfile`] usable with `validate_with_profile` on raw bytes). One
//! check, two doors: the verdict and the reason code cannot differ between them.
//!
//! Architecture invariant: nothing here does I/O or reads a clock. The operating window is
//! checked against a time the caller passes ([`ClearingScheme::check_window`]).
//! Sources and assumptions for every number are in docs/SCHEMES.md.

/// The `ClearingScheme` and `SchemeProfile` impls of a scheme whose rules are all in its
/// `PROFILE` (no scheme-specific checks) and whose legs are the standard ones. Expects
/// `PROFILE` and the usual imports in the scheme's module.
macro_rules! profile_scheme {
    ($scheme:ident $(, $fi:ident)?) => {
        impl ClearingScheme for $scheme {
            fn profile(&self) -> &Profile {
                &PROFILE
            }

            $(fn fi_profile(&self) -> Option<&Profile> {
                Some(&$fi)
            })?

            fn check_facts(&self, facts: &PaymentFacts) -> Result<(), ValidationError> {
                check_profile(&PROFILE, facts)
            }

            fn as_profile(&self) -> &dyn SchemeProfile {
                self
            }

            fn transform(
                &self,
                canonical: &Pacs008,
                parties: &LegParties,
            ) -> Result<Vec<Pacs008>, ValidationError> {
                standard_legs(self, canonical, parties)
            }
        }

        impl SchemeProfile for $scheme {
            fn name(&self) -> &str {
                PROFILE.scheme
            }

            fn check(&self, msg: &MessageView<'_, '_>) -> Result<(), ValidationError> {
                check_view(self, msg)
            }
        }
    };
}

pub mod bankserv;
mod checks;
mod facts;
mod fi;
pub mod gate;
pub mod payshap;
pub mod proxy;
pub mod rtc;
pub mod samos;
pub mod swift;

use std::fmt::Debug;

use switchyard_iso20022::{Bic, MessageView, Pacs008, Pacs009, SchemeProfile, ValidationError};

pub use checks::SchemeRule;
pub use facts::{AccountFacts, AgentFacts, HeaderFacts, PaymentFacts, TxFacts};

/// How a scheme is named in `SttlmInf/ClrSys`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClearingSystemId {
    /// An ExternalCashClearingSystem1Code (`ClrSys/Cd`).
    Code(&'static str),
    /// A proprietary name (`ClrSys/Prtry`), used where no external code is known to us.
    Proprietary(&'static str),
    /// The scheme is not a clearing system (correspondent banking: no `ClrSys`).
    None,
}

/// The currencies a scheme settles.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Currencies {
    /// Exactly these ISO 4217 codes.
    Only(&'static [&'static str]),
    /// Any active ISO 4217 currency; commodity and other special codes (XAU, XAG, XPD, XPT,
    /// XDR, ...) never are (the iso20022 `Currency` type refuses them; checked again here).
    AnyActive,
}

/// How the scheme identifies debtor and creditor agents.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AgentIds {
    /// A BIC (`FinInstnId/BICFI`) is required.
    Bic,
    /// A BIC, or a South African National Clearing Code (`ClrSysMmbId`, `ZANCC`, six digits).
    BicOrZancc,
}

/// The form of debtor and creditor accounts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccountIds {
    /// IBAN or any other identification.
    Any,
    /// A South African account number: `Id/Othr/Id`, 1 to 11 digits, no IBAN.
    ZaAccountNumber,
}

/// An identifier a scheme requires on every transaction (or message, for the AppHdr).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Identifier {
    /// The head.001 Business Application Header.
    AppHdr,
    /// `PmtId/UETR`.
    Uetr,
    /// `IntrBkSttlmDt` (transaction or group level).
    SettlementDate,
    /// `DbtrAcct`.
    DebtorAccount,
    /// `CdtrAcct`.
    CreditorAccount,
    /// `DbtrAgt` identified per [`AgentIds`].
    DebtorAgent,
    /// `CdtrAgt` identified per [`AgentIds`].
    CreditorAgent,
    /// `InstgAgt` and `InstdAgt` with BICs.
    LegAgents,
}

/// Days of the week a window covers: bit 0 is Monday, bit 6 Sunday.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Days(pub u8);

impl Days {
    /// Monday to Friday.
    pub const MON_FRI: Days = Days(0b001_1111);
    /// Monday to Saturday.
    pub const MON_SAT: Days = Days(0b011_1111);
    /// Every day.
    pub const EVERY_DAY: Days = Days(0b111_1111);

    /// Whether day `index` (0 = Monday) is covered.
    #[must_use]
    pub fn contains(self, index: u8) -> bool {
        index < 7 && self.0 & (1 << index) != 0
    }
}

/// A half-open interval `[opens, closes)` of minutes after local midnight.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Session {
    pub opens_minute: u16,
    pub closes_minute: u16,
}

impl Session {
    /// The whole day.
    pub const ALL_DAY: Session = Session { opens_minute: 0, closes_minute: 24 * 60 };
}

/// When a scheme accepts submissions, as data. Public holidays are not modelled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OperatingWindow {
    /// The scheme's local time offset from UTC in minutes (South Africa: +120, no DST).
    pub utc_offset_minutes: i16,
    pub days: Days,
    /// Submission sessions within a covered day (batch windows for ACH-style schemes).
    pub sessions: &'static [Session],
}

const MINUTES_PER_DAY: i64 = 24 * 60;

impl OperatingWindow {
    /// Around the clock, every day.
    pub const ALWAYS: OperatingWindow =
        OperatingWindow { utc_offset_minutes: 0, days: Days::EVERY_DAY, sessions: &[Session::ALL_DAY] };

    /// Whether the window is open at `unix_ms` (milliseconds since 1970-01-01T00:00Z).
    #[must_use]
    pub fn is_open_at(&self, unix_ms: i64) -> bool {
        let local_minutes = unix_ms.div_euclid(60_000) + i64::from(self.utc_offset_minutes);
        let day = local_minutes.div_euclid(MINUTES_PER_DAY);
        let minute = local_minutes.rem_euclid(MINUTES_PER_DAY);
        // 1970-01-01 was a Thursday: index 3 with Monday = 0.
        let weekday = u8::try_from((day + 3).rem_euclid(7)).unwrap_or(0);
        self.days.contains(weekday)
            && self
                .sessions
                .iter()
                .any(|s| (i64::from(s.opens_minute)..i64::from(s.closes_minute)).contains(&minute))
    }
}

/// A clearing scheme's usage rules, as data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Profile {
    /// Registry and config name (`"samos"`).
    pub scheme: &'static str,
    /// Human name.
    pub title: &'static str,
    /// `SttlmInf/ClrSys` the transformer writes and the validation accepts.
    pub clearing_system: ClearingSystemId,
    /// Message definitions accepted (`pacs.008.001.08`).
    pub message_versions: &'static [&'static str],
    /// `SttlmMtd` values accepted; the transformer writes the first when the canonical
    /// message's method is not among them.
    pub settlement_methods: &'static [&'static str],
    pub currencies: Currencies,
    /// Largest `IntrBkSttlmAmt` per transaction, in minor units of the (single) scheme
    /// currency; `None` for no scheme maximum.
    pub max_amount_minor: Option<i64>,
    /// Transactions per message (1 for real-time and CBPR+ schemes).
    pub max_txs_per_message: usize,
    /// `PmtTpInf/SvcLvl/Cd` values the scheme cannot honour (e.g. urgent in a batch scheme).
    pub refused_service_levels: &'static [&'static str],
    pub agent_ids: AgentIds,
    pub account_ids: AccountIds,
    pub required: &'static [Identifier],
    pub window: OperatingWindow,
}

/// Who instructs and who is instructed on the scheme leg (from the route, not the payment).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LegParties {
    /// `InstgAgt`: the member submitting to the scheme (the switch's sponsor or the debtor agent).
    pub instructing: Bic,
    /// `InstdAgt`: the member receiving from the scheme (usually the creditor agent).
    pub instructed: Bic,
}

/// One clearing scheme: its profile, its checks and its transformer.
pub trait ClearingScheme: SchemeProfile + Debug + Send + Sync {
    /// The scheme's rules as data.
    fn profile(&self) -> &Profile;

    /// Checks a payment against every rule of the scheme; the first failure wins.
    ///
    /// # Errors
    /// A [`ValidationError`] with the [`SchemeRule`]'s reason code and the element path.
    fn check_facts(&self, facts: &PaymentFacts) -> Result<(), ValidationError>;

    /// This scheme as the iso20022 crate's profile hook.
    fn as_profile(&self) -> &dyn SchemeProfile;

    /// Checks a typed pacs.008 (canonical or scheme leg) against the scheme.
    ///
    /// # Errors
    /// The first broken rule.
    fn validate(&self, msg: &Pacs008) -> Result<(), ValidationError> {
        self.check_facts(&PaymentFacts::from_pacs008(msg))
    }

    /// The scheme legs for a canonical payment: settlement information, agents and (where the
    /// scheme wants one) an AppHdr set, split to the scheme's transactions per message. Every
    /// leg returned has passed [`ClearingScheme::validate`].
    ///
    /// # Errors
    /// The first rule the canonical payment cannot be made to satisfy.
    fn transform(&self, canonical: &Pacs008, parties: &LegParties) -> Result<Vec<Pacs008>, ValidationError>;

    /// The scheme's rules for interbank transfers (pacs.009), when it settles them (SAMOS,
    /// SWIFT CBPR+); `None`: pacs.009 is refused (`FF01`, `scheme.msg_version`).
    fn fi_profile(&self) -> Option<&Profile> {
        None
    }

    /// Checks pacs.009 facts against [`ClearingScheme::fi_profile`] (and the scheme's own rules,
    /// where it has some).
    ///
    /// # Errors
    /// The first broken rule.
    fn check_fi_facts(&self, facts: &PaymentFacts) -> Result<(), ValidationError> {
        fi::check(self, facts)
    }

    /// Checks a typed pacs.009 (canonical or scheme leg) against the scheme.
    ///
    /// # Errors
    /// The first broken rule.
    fn validate_fi(&self, msg: &Pacs009) -> Result<(), ValidationError> {
        self.check_fi_facts(&PaymentFacts::from_pacs009(msg))
    }

    /// The scheme legs for a canonical pacs.009 (one per transaction, settlement information,
    /// leg agents, an AppHdr where the scheme wants one); every leg validated.
    ///
    /// # Errors
    /// The first rule the transfer cannot be made to satisfy.
    fn transform_fi(
        &self,
        canonical: &Pacs009,
        parties: &LegParties,
    ) -> Result<Vec<Pacs009>, ValidationError> {
        fi::standard_legs(self, canonical, parties, None)
    }

    /// `TM01` when the scheme is closed at `unix_ms`.
    ///
    /// # Errors
    /// [`SchemeRule::OutsideWindow`].
    fn check_window(&self, unix_ms: i64) -> Result<(), ValidationError> {
        checks::check_window(self.profile(), unix_ms)
    }
}

/// Checks a message seen through the iso20022 crate's view; the shared body of every
/// scheme's [`SchemeProfile::check`].
fn check_view(scheme: &dyn ClearingScheme, msg: &MessageView<'_, '_>) -> Result<(), ValidationError> {
    scheme.check_facts(&PaymentFacts::from_view(msg)?)
}

/// The registered schemes with their default profiles.
pub static SCHEMES: [&(dyn ClearingScheme + 'static); 5] =
    [&samos::Samos, &bankserv::Bankserv, &rtc::Rtc, &payshap::PayShap::DEFAULT, &swift::Swift::DEFAULT];

/// The scheme registered under `name` (`samos`, `bankserv`, `rtc`, `payshap`, `swift`).
#[must_use]
pub fn profile(name: &str) -> Option<&'static dyn ClearingScheme> {
    SCHEMES.iter().copied().find(|s| s.profile().scheme == name)
}

/// The transformer body most schemes share: settlement information and leg agents set,
/// transactions split to the scheme's maximum, then every leg validated.
fn standard_legs(
    scheme: &dyn ClearingScheme,
    canonical: &Pacs008,
    parties: &LegParties,
) -> Result<Vec<Pacs008>, ValidationError> {
    let profile = scheme.profile();
    let mut legs = split(canonical, profile.max_txs_per_message)?;
    for leg in &mut legs {
        set_settlement(profile, leg);
        set_leg_agents(leg, parties);
        scheme.validate(leg)?;
    }
    Ok(legs)
}

/// Splits `canonical` into messages of at most `max_txs` transactions.
///
/// One message stays as it is. Split messages get `MsgId`s `<MsgId>-<n>` (1-based), and their
/// group totals (`CtrlSum`, `TtlIntrBkSttlmAmt`) are dropped rather than recomputed: both are
/// optional and a stale one would fail the ISO control-sum rule.
///
/// # Errors
/// [`SchemeRule::Reference`] when a split `MsgId` would exceed 35 characters.
fn split(canonical: &Pacs008, max_txs: usize) -> Result<Vec<Pacs008>, ValidationError> {
    let max_txs = max_txs.max(1);
    if canonical.txs.len() <= max_txs {
        return Ok(vec![canonical.clone()]);
    }
    let chunks = canonical.txs.chunks(max_txs);
    chunks.enumerate().map(|(n, txs)| split_leg(canonical, n + 1, txs)).collect()
}

fn split_leg(
    canonical: &Pacs008,
    n: usize,
    txs: &[switchyard_iso20022::CreditTransferTx],
) -> Result<Pacs008, ValidationError> {
    let msg_id = format!("{}-{n}", canonical.msg_id);
    if msg_id.chars().count() > MAX_MSG_ID_CHARS {
        let detail = format!("split MsgId '{msg_id}' exceeds {MAX_MSG_ID_CHARS} characters");
        return Err(SchemeRule::Reference.at("/Document/FIToFICstmrCdtTrf/GrpHdr/MsgId", detail));
    }
    let mut leg = canonical.clone();
    leg.msg_id = msg_id.into();
    leg.txs = txs.to_vec();
    leg.nb_of_txs = u32::try_from(txs.len()).unwrap_or(u32::MAX);
    leg.ctrl_sum = None;
    leg.ttl_intr_bk_sttlm_amt = None;
    Ok(leg)
}

/// `Max35Text`, the length of `MsgId`.
const MAX_MSG_ID_CHARS: usize = 35;

/// Sets `SttlmMtd` (kept when the scheme allows it, else the scheme's first) and `ClrSys`.
fn set_settlement(profile: &Profile, leg: &mut Pacs008) {
    if !profile.settlement_methods.contains(&leg.sttlm_mtd.as_str()) {
        if let Some(first) = profile.settlement_methods.first() {
            leg.sttlm_mtd = (*first).into();
        }
    }
    let (cd, prtry) = match profile.clearing_system {
        ClearingSystemId::Code(cd) => (Some(cd.into()), None),
        ClearingSystemId::Proprietary(p) => (None, Some(p.into())),
        ClearingSystemId::None => (None, None),
    };
    leg.clr_sys = cd;
    leg.clr_sys_prtry = prtry;
}

/// Sets every transaction's `InstgAgt`/`InstdAgt` to the route's parties (BIC only) and drops
/// group-level agents, so the leg names each party once.
fn set_leg_agents(leg: &mut Pacs008, parties: &LegParties) {
    leg.grp_instg_agt = None;
    leg.grp_instd_agt = None;
    for tx in &mut leg.txs {
        tx.instg_agt = Some(parties.instructing.clone());
        tx.instg_agt_mmb = None;
        tx.instd_agt = Some(parties.instructed.clone());
        tx.instd_agt_mmb = None;
    }
}

#[cfg(test)]
pub(crate) mod fixtures;

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    #[test]
    fn every_scheme_is_registered_under_its_name() {
        for name in ["samos", "bankserv", "rtc", "payshap", "swift"] {
            let scheme = profile(name).unwrap_or_else(|| panic!("{name} not registered"));
            assert_eq!(scheme.profile().scheme, name);
            assert_eq!(scheme.as_profile().name(), name);
        }
        assert!(profile("fednow").is_none());
    }

    #[test]
    fn rule_ids_are_unique_and_carry_their_code() {
        let ids: HashSet<_> = SchemeRule::ALL.iter().map(|r| r.id()).collect();
        assert_eq!(ids.len(), SchemeRule::ALL.len());
        let err = SchemeRule::AmountAboveMaximum.at("/x", "too much");
        assert_eq!(
            (err.code, err.rule_id()),
            (switchyard_iso20022::ReasonCode::AM02, Some("scheme.amt_max"))
        );
    }

    #[test]
    fn windows_follow_local_days_and_sessions() {
        let window = OperatingWindow {
            utc_offset_minutes: 120,
            days: Days::MON_FRI,
            sessions: &[Session { opens_minute: 60, closes_minute: 120 }],
        };
        // 1970-01-01 (Thursday) 23:30 UTC is Friday 01:30 at UTC+2.
        let thursday_2330_utc = (23 * 60 + 30) * 60_000;
        assert!(window.is_open_at(thursday_2330_utc));
        assert!(!window.is_open_at(thursday_2330_utc + 3_600_000));
        assert!(!window.is_open_at(thursday_2330_utc + 86_400_000), "Saturday");
        assert!(OperatingWindow::ALWAYS.is_open_at(-1));
    }
}
