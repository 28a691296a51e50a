//! A clearing link's scheme on the switch's submission path: the actors' [`SchemeGate`] port
//! implemented over a scheme profile.
//!
//! Owns: building a link's gate from configuration ([`GateOptions`]: scheme name, the PayShap
//! limit, the switch's own member BIC, whether the operating window is enforced), choosing the
//! leg parties of a payment, and turning the transformer's leg into wire bytes. The checks and
//! the transformer themselves are the scheme modules'; this file only wires them in.

use std::borrow::Cow;
use std::sync::Arc;

use bytes::Bytes;
use switchyard_actors::scheme::SchemeGate;
use switchyard_iso20022::{
    write_pacs008, write_pacs009, Bic, Limits, Pacs008, Pacs009, ReasonCode, ValidationError,
};

use super::proxy::{self, Proxy, ProxyDirectory, ProxyPolicy};
use super::{bankserv, payshap, rtc, samos, swift, ClearingScheme, LegParties, SCHEMES};

/// How a link's scheme is configured.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GateOptions {
    /// Registry name: `samos`, `bankserv`, `rtc`, `payshap` or `swift`.
    pub scheme: String,
    /// PayShap's per-transaction limit in minor units (only PayShap's limit is configurable).
    pub max_amount_minor: Option<i64>,
    /// The BIC the switch submits as (`InstgAgt` of the leg) when it is the scheme member;
    /// `None`: the payment's debtor agent (or its `InstgAgt`) instructs.
    pub member_bic: Option<Bic>,
    /// Refuse payments (`TM01`) outside the scheme's operating window.
    pub check_window: bool,
    /// PayShap only: resolve creditor proxies in this directory
    /// ([`ProxyPolicy::Resolve`]); `None`: check their form and carry them to the scheme.
    pub proxy_directory: Option<Arc<ProxyDirectory>>,
}

impl GateOptions {
    /// A scheme with its defaults: no member BIC, the window enforced.
    #[must_use]
    pub fn new(scheme: &str) -> Self {
        Self {
            scheme: scheme.to_owned(),
            max_amount_minor: None,
            member_bic: None,
            check_window: true,
            proxy_directory: None,
        }
    }
}

/// Why a gate could not be built (a configuration error; the caller names the key).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GateError {
    #[error("{0:?} is not a clearing scheme (one of samos, bankserv, rtc, payshap, swift)")]
    UnknownScheme(String),
    #[error("max_amount_minor is configurable only for payshap, not {0}")]
    LimitNotConfigurable(String),
    #[error("max_amount_minor must be at least 1, not {0}")]
    BadLimit(i64),
    #[error("a proxy directory is only for payshap, not {0}")]
    DirectoryNotApplicable(String),
}

/// A link's scheme: checks at admission, legs at submission.
#[derive(Debug)]
pub struct Gate {
    scheme: Box<dyn ClearingScheme>,
    member_bic: Option<Bic>,
    check_window: bool,
    /// Schemes with proxy-addressed creditors (PayShap): what to do with `CdtrAcct/Prxy`.
    proxy: Option<ProxyPolicy>,
}

impl Gate {
    /// Builds the gate `options` describe.
    ///
    /// # Errors
    /// An unknown scheme, or a limit for a scheme whose limit is not configurable.
    pub fn new(options: &GateOptions) -> Result<Self, GateError> {
        let name = options.scheme.as_str();
        if let Some(max) = options.max_amount_minor {
            if name != "payshap" {
                return Err(GateError::LimitNotConfigurable(name.to_owned()));
            }
            if max < 1 {
                return Err(GateError::BadLimit(max));
            }
        }
        let scheme: Box<dyn ClearingScheme> = match name {
            "samos" => Box::new(samos::Samos),
            "bankserv" => Box::new(bankserv::Bankserv),
            "rtc" => Box::new(rtc::Rtc),
            "payshap" => Box::new(
                options
                    .max_amount_minor
                    .map_or(payshap::PayShap::DEFAULT, payshap::PayShap::with_max_amount_minor),
            ),
            "swift" => Box::new(swift::Swift::DEFAULT),
            other => return Err(GateError::UnknownScheme(other.to_owned())),
        };
        debug_assert!(SCHEMES.iter().any(|s| s.profile().scheme == name));
        let proxy = match (&options.proxy_directory, name) {
            (Some(dir), "payshap") => Some(ProxyPolicy::Resolve(Arc::clone(dir))),
            (Some(_), other) => return Err(GateError::DirectoryNotApplicable(other.to_owned())),
            (None, "payshap") => Some(ProxyPolicy::Validate),
            (None, _) => None,
        };
        Ok(Self { scheme, member_bic: options.member_bic.clone(), check_window: options.check_window, proxy })
    }

    /// The payment as the scheme sees it: for a proxy scheme, each creditor proxy (read from
    /// the participant's bytes) checked and, with a directory, resolved into the creditor
    /// account and agent. Also returns the proxies, for the leg.
    fn prepare<'a>(
        &self,
        canonical: &'a Pacs008,
        raw: &[u8],
    ) -> Result<(Cow<'a, Pacs008>, Vec<Option<Proxy>>), ValidationError> {
        let Some(policy) = &self.proxy else { return Ok((Cow::Borrowed(canonical), Vec::new())) };
        let defaults = Limits::default();
        let limits = Limits { max_message_bytes: defaults.max_message_bytes.max(raw.len()), ..defaults };
        let proxies = proxy::creditor_proxies(raw, &limits)?;
        if proxies.iter().all(Option::is_none) {
            return Ok((Cow::Borrowed(canonical), proxies));
        }
        let mut resolved = canonical.clone();
        proxy::apply(policy, &proxies, &mut resolved)?;
        Ok((Cow::Owned(resolved), proxies))
    }

    /// The scheme's profile.
    #[must_use]
    pub fn scheme_profile(&self) -> &super::Profile {
        self.scheme.profile()
    }

    /// Who instructs and who is instructed on the leg: the configured member (else the
    /// payment's instructing or debtor agent) and the creditor agent (else the instructed agent).
    fn parties(&self, canonical: &Pacs008) -> Result<LegParties, ValidationError> {
        let tx = canonical.txs.first();
        let instructing = self
            .member_bic
            .clone()
            .or_else(|| tx.and_then(|t| t.instg_agt.clone()))
            .or_else(|| canonical.grp_instg_agt.clone())
            .or_else(|| tx.and_then(|t| t.dbtr_agt.clone()));
        let instructed = tx
            .and_then(|t| t.cdtr_agt.clone())
            .or_else(|| tx.and_then(|t| t.instd_agt.clone()))
            .or_else(|| canonical.grp_instd_agt.clone());
        let path = "/Document/FIToFICstmrCdtTrf/CdtTrfTxInf[1]";
        let Some(instructing) = instructing else {
            let detail = "[scheme.leg_agents] no BIC to instruct the scheme leg as (InstgAgt, DbtrAgt)";
            return Err(ValidationError::new(ReasonCode::RC02, format!("{path}/InstgAgt"), detail));
        };
        let Some(instructed) = instructed else {
            let detail = "[scheme.leg_agents] no BIC to address the scheme leg to (CdtrAgt, InstdAgt)";
            return Err(ValidationError::new(ReasonCode::RC02, format!("{path}/InstdAgt"), detail));
        };
        Ok(LegParties { instructing, instructed })
    }

    /// The one leg for a one-transaction payment.
    fn one_leg(&self, canonical: &Pacs008) -> Result<Pacs008, ValidationError> {
        let parties = self.parties(canonical)?;
        let mut legs = self.scheme.transform(canonical, &parties)?;
        if legs.len() != 1 {
            let detail = format!("[scheme.tx_count] the payment makes {} scheme legs, not one", legs.len());
            return Err(ValidationError::new(
                ReasonCode::FF01,
                "/Document/FIToFICstmrCdtTrf/GrpHdr/NbOfTxs",
                detail,
            ));
        }
        Ok(legs.remove(0))
    }
}

/// Interbank transfers (pacs.009) through the link's scheme: the pacs.009 leg the port's
/// [`SchemeGate::check_fi`] and [`SchemeGate::leg_fi`] make.
impl Gate {
    fn one_fi_leg(&self, canonical: &Pacs009) -> Result<Pacs009, ValidationError> {
        let tx = canonical.txs.first();
        let instructing = self
            .member_bic
            .clone()
            .or_else(|| tx.and_then(|t| t.instg_agt.clone()))
            .or_else(|| tx.and_then(|t| t.dbtr.clone()));
        let instructed = tx
            .and_then(|t| t.cdtr_agt.clone())
            .or_else(|| tx.and_then(|t| t.cdtr.clone()))
            .or_else(|| tx.and_then(|t| t.instd_agt.clone()));
        let path = "/Document/FICdtTrf/CdtTrfTxInf";
        let (Some(instructing), Some(instructed)) = (instructing, instructed) else {
            let detail = "[scheme.leg_agents] no BICs to instruct and address the scheme leg (InstgAgt/Dbtr, CdtrAgt/Cdtr)";
            return Err(ValidationError::new(ReasonCode::RC02, format!("{path}/InstgAgt"), detail));
        };
        let mut legs = self.scheme.transform_fi(canonical, &LegParties { instructing, instructed })?;
        if legs.len() != 1 {
            let detail = format!("[scheme.tx_count] the transfer makes {} scheme legs, not one", legs.len());
            return Err(ValidationError::new(ReasonCode::FF01, "/Document/FICdtTrf/GrpHdr/NbOfTxs", detail));
        }
        Ok(legs.remove(0))
    }
}

impl SchemeGate for Gate {
    fn scheme(&self) -> &str {
        self.scheme.profile().scheme
    }

    fn check(&self, canonical: &Pacs008, raw: &[u8], now_ms: u64) -> Result<(), ValidationError> {
        if self.check_window {
            self.scheme.check_window(i64::try_from(now_ms).unwrap_or(i64::MAX))?;
        }
        let (payment, _) = self.prepare(canonical, raw)?;
        self.one_leg(&payment).map(|_| ())
    }

    fn leg(&self, canonical: &Pacs008, raw: &[u8]) -> Result<Bytes, ValidationError> {
        let (payment, proxies) = self.prepare(canonical, raw)?;
        let leg = write_pacs008(&self.one_leg(&payment)?);
        Ok(Bytes::from(proxy::carry_proxies(&leg, &proxies)))
    }

    /// A scheme without interbank transfers refuses with `FF01` (`scheme.msg_version`).
    fn check_fi(&self, canonical: &Pacs009, now_ms: u64) -> Result<(), ValidationError> {
        if self.check_window {
            self.scheme.check_window(i64::try_from(now_ms).unwrap_or(i64::MAX))?;
        }
        self.one_fi_leg(canonical).map(|_| ())
    }

    fn leg_fi(&self, canonical: &Pacs009) -> Result<Bytes, ValidationError> {
        self.one_fi_leg(canonical).map(|leg| Bytes::from(write_pacs009(&leg)))
    }
}

#[cfg(test)]
mod tests {
    use switchyard_iso20022::{read_pacs008, Limits};

    use super::super::fixtures::{bytes_with_proxy, money, template, template_with_amount, zar};
    use super::super::proxy::{creditor_proxies, DirectoryError, ProxyTarget};
    use super::*;

    /// The port's methods on a typed message (its bytes as the model writes them).
    trait Typed {
        fn check_typed(&self, msg: &Pacs008, now_ms: u64) -> Result<(), ValidationError>;
        fn leg_typed(&self, msg: &Pacs008) -> Result<Bytes, ValidationError>;
    }

    impl Typed for Gate {
        fn check_typed(&self, msg: &Pacs008, now_ms: u64) -> Result<(), ValidationError> {
            self.check(msg, &write_pacs008(msg), now_ms)
        }

        fn leg_typed(&self, msg: &Pacs008) -> Result<Bytes, ValidationError> {
            self.leg(msg, &write_pacs008(msg))
        }
    }

    fn gate(scheme: &str) -> Gate {
        Gate::new(&GateOptions { check_window: false, ..GateOptions::new(scheme) }).unwrap()
    }

    fn code(result: Result<(), ValidationError>) -> (ReasonCode, String) {
        let e = result.expect_err("expected a refusal");
        (e.code, e.rule_id().unwrap_or_default().to_owned())
    }

    #[test]
    fn options_are_checked() {
        assert_eq!(
            Gate::new(&GateOptions::new("fednow")).unwrap_err(),
            GateError::UnknownScheme("fednow".into())
        );
        let limited =
            |scheme: &str, max| GateOptions { max_amount_minor: Some(max), ..GateOptions::new(scheme) };
        assert_eq!(
            Gate::new(&limited("rtc", 10)).unwrap_err(),
            GateError::LimitNotConfigurable("rtc".into())
        );
        assert_eq!(Gate::new(&limited("payshap", 0)).unwrap_err(), GateError::BadLimit(0));
        assert!(Gate::new(&limited("payshap", 10)).is_ok());
    }

    #[test]
    fn each_scheme_checks_the_template_with_its_own_verdict() {
        // The bench template: ZAR, CLRG, R1,250.75, ZA accounts, BIC agents, ChrgBr SLEV.
        let msg = template();
        for scheme in ["samos", "bankserv", "rtc", "payshap"] {
            assert_eq!(gate(scheme).check_typed(&msg, 0), Ok(()), "{scheme}");
        }
        // CBPR+ never allows SLEV.
        assert_eq!(code(gate("swift").check_typed(&msg, 0)), (ReasonCode::FF01, "scheme.chrg_br".into()));
    }

    #[test]
    fn payshap_limit_is_the_configured_one() {
        let over_default = template_with_amount(zar(5_000_001));
        assert_eq!(
            code(gate("payshap").check_typed(&over_default, 0)),
            (ReasonCode::AM02, "scheme.amt_max".into())
        );
        let raised = Gate::new(&GateOptions {
            max_amount_minor: Some(10_000_000),
            check_window: false,
            ..GateOptions::new("payshap")
        })
        .unwrap();
        assert_eq!(raised.check_typed(&over_default, 0), Ok(()));
        assert_eq!(
            code(raised.check_typed(&template_with_amount(zar(10_000_001)), 0)),
            (ReasonCode::AM02, "scheme.amt_max".into())
        );
        let usd = template_with_amount(money("USD", 100));
        assert_eq!(code(gate("payshap").check_typed(&usd, 0)), (ReasonCode::AM03, "scheme.ccy".into()));
    }

    #[test]
    fn legs_carry_the_scheme_and_read_back() {
        for (scheme, prtry) in [("samos", "SAMOS"), ("bankserv", "ACH"), ("rtc", "RTC"), ("payshap", "RPP")] {
            let bytes = gate(scheme).leg_typed(&template()).unwrap();
            let leg = read_pacs008(&bytes, &Limits::default()).unwrap();
            assert_eq!(leg.clr_sys_prtry.as_deref(), Some(prtry), "{scheme}");
            assert_eq!(leg.sttlm_mtd, "CLRG");
            assert_eq!(leg.txs[0].instd_agt.as_ref().map(Bic::as_str), Some("ZYBBZAJJXXX"));
        }
        let mut cbpr = template();
        cbpr.txs[0].chrg_br = Some("SHAR".into());
        let bytes = gate("swift").leg_typed(&cbpr).unwrap();
        let leg = read_pacs008(&bytes, &Limits::default()).unwrap();
        assert_eq!(leg.sttlm_mtd, "INDA");
        assert!(leg.app_hdr.is_some(), "CBPR+ legs travel with an AppHdr");
        assert_eq!(leg.clr_sys_prtry, None);
    }

    #[test]
    fn member_bic_instructs_the_leg() {
        let member = Bic::parse("ZYSWZAJJ").unwrap();
        let gate =
            Gate::new(&GateOptions { member_bic: Some(member.clone()), ..GateOptions::new("rtc") }).unwrap();
        let leg = read_pacs008(&gate.leg_typed(&template()).unwrap(), &Limits::default()).unwrap();
        assert_eq!(leg.txs[0].instg_agt.as_ref(), Some(&member));
    }

    #[test]
    fn the_window_is_enforced_when_configured() {
        let samos = Gate::new(&GateOptions::new("samos")).unwrap();
        // 1970-01-03 was a Saturday: SAMOS is closed all day.
        let saturday_noon_ms = (2 * 86_400 + 12 * 3600) * 1000;
        assert_eq!(
            code(samos.check_typed(&template(), saturday_noon_ms)),
            (ReasonCode::TM01, "scheme.window".into())
        );
        assert_eq!(gate("samos").check_typed(&template(), saturday_noon_ms), Ok(()));
    }

    fn payshap(directory: Option<ProxyDirectory>) -> Gate {
        Gate::new(&GateOptions {
            check_window: false,
            proxy_directory: directory.map(Arc::new),
            ..GateOptions::new("payshap")
        })
        .unwrap()
    }

    fn directory() -> ProxyDirectory {
        ProxyDirectory::new([
            (
                "+27821234567".to_owned(),
                ProxyTarget { account: "99887766".into(), agent: Some(Bic::parse("ZYCCZAJJXXX").unwrap()) },
            ),
            ("shop.one@zybank".to_owned(), ProxyTarget { account: "12345".into(), agent: None }),
        ])
        .unwrap()
    }

    #[test]
    fn payshap_checks_a_proxy_at_admission_and_carries_it_on_the_leg() {
        let msg = template();
        let gate = payshap(None);
        let raw = bytes_with_proxy(&msg, "MBNO", "0821234567@zybank");
        assert_eq!(gate.check(&msg, &raw, 0), Ok(()));
        let leg = gate.leg(&msg, &raw).unwrap();
        let proxies = creditor_proxies(&leg, &Limits::default()).expect("the leg stays valid");
        assert_eq!(
            proxies,
            [Some(Proxy { kind: Some("MBNO".into()), id: "0821234567@zybank".into() })],
            "{}",
            String::from_utf8_lossy(&leg)
        );
        // The scheme's own door agrees with the gate on the written leg.
        let view =
            switchyard_iso20022::validate_with_profile(&leg, &Limits::default(), &payshap::PayShap::DEFAULT);
        assert!(view.is_ok(), "{view:?}");
        for bad in ["12345", "0821234567@", "+2782123456"] {
            let raw = bytes_with_proxy(&msg, "MBNO", bad);
            assert_eq!(code(gate.check(&msg, &raw, 0)), (ReasonCode::BE23, "scheme.proxy".into()), "{bad}");
            assert!(gate.leg(&msg, &raw).is_err(), "{bad}");
        }
        // No proxy: the leg is exactly the typed one.
        let plain = write_pacs008(&msg);
        assert_eq!(gate.leg(&msg, &plain).unwrap(), gate.leg_typed(&msg).unwrap());
    }

    #[test]
    fn payshap_resolves_a_proxy_in_the_directory() {
        let msg = template();
        let gate = payshap(Some(directory()));
        // The participant knows only the ShapID (and a placeholder account).
        let raw = bytes_with_proxy(&msg, "MBNO", "0821234567");
        assert_eq!(gate.check(&msg, &raw, 0), Ok(()));
        let leg_bytes = gate.leg(&msg, &raw).unwrap();
        let leg = read_pacs008(&leg_bytes, &Limits::default()).unwrap();
        let tx = &leg.txs[0];
        assert_eq!(tx.cdtr_acct_othr.as_deref(), Some("99887766"));
        assert_eq!(tx.cdtr_agt.as_ref().map(Bic::as_str), Some("ZYCCZAJJXXX"));
        assert_eq!(
            tx.instd_agt.as_ref().map(Bic::as_str),
            Some("ZYCCZAJJXXX"),
            "addressed to the resolved bank"
        );
        let carried = creditor_proxies(&leg_bytes, &Limits::default()).unwrap();
        assert_eq!(carried[0].as_ref().map(|p| p.id.as_str()), Some("0821234567"));
        // An alias without a listed agent keeps the payment's creditor agent.
        let raw = bytes_with_proxy(&msg, "EMAL", "shop.one@zybank");
        let leg = read_pacs008(&gate.leg(&msg, &raw).unwrap(), &Limits::default()).unwrap();
        assert_eq!(leg.txs[0].cdtr_acct_othr.as_deref(), Some("12345"));
        assert_eq!(leg.txs[0].cdtr_agt, msg.txs[0].cdtr_agt);
        // Unlisted: refused, BE23.
        let raw = bytes_with_proxy(&msg, "MBNO", "0829999999");
        assert_eq!(code(gate.check(&msg, &raw, 0)), (ReasonCode::BE23, "scheme.proxy_unknown".into()));
        // A payment without a proxy is untouched by the directory.
        assert_eq!(gate.check_typed(&msg, 0), Ok(()));
    }

    #[test]
    fn proxy_directories_are_checked_and_only_for_payshap() {
        let target = |account: &str| ProxyTarget { account: account.into(), agent: None };
        assert_eq!(
            ProxyDirectory::new([
                ("0821234567".to_owned(), target("1")),
                ("+27821234567".to_owned(), target("2"))
            ]),
            Err(DirectoryError::Duplicate { index: 1, id: "+27821234567".into() })
        );
        assert!(matches!(
            ProxyDirectory::new([("0821234567".to_owned(), target("12ab"))]),
            Err(DirectoryError::Account { index: 0, .. })
        ));
        assert!(matches!(
            ProxyDirectory::new([("bad alias".to_owned(), target("1"))]),
            Err(DirectoryError::Proxy { index: 0, .. })
        ));
        let options = GateOptions { proxy_directory: Some(Arc::new(directory())), ..GateOptions::new("rtc") };
        assert_eq!(Gate::new(&options).unwrap_err(), GateError::DirectoryNotApplicable("rtc".into()));
    }

    #[test]
    fn pacs009_goes_through_samos_and_swift_and_is_refused_elsewhere() {
        use super::super::fixtures::fi_template;
        use switchyard_iso20022::{read_pacs009, AppHdr};
        let transfer = fi_template();
        let samos = gate("samos");
        assert_eq!(samos.check_fi(&transfer, 0), Ok(()));
        let leg = read_pacs009(&samos.leg_fi(&transfer).unwrap(), &Limits::default()).unwrap();
        assert_eq!((leg.sttlm_mtd.as_str(), leg.app_hdr.is_none()), ("CLRG", true));
        assert_eq!(leg.txs[0].instd_agt.as_ref().map(Bic::as_str), Some("ZYBBZAJJXXX"));
        // The participant's own AppHdr (here a CBPR+ one, whose rules a CLRG leg breaks) is not
        // the leg's: the SAMOS leg has none and reads back valid.
        let mut headed = transfer.clone();
        headed.app_hdr = Some(AppHdr {
            fr_bic: Bic::parse("ZYAAZAJJXXX"),
            to_bic: Bic::parse("ZYBBZAJJXXX"),
            biz_msg_idr: headed.msg_id.clone(),
            msg_def_idr: "pacs.009.001.08".into(),
            biz_svc: Some("swift.cbprplus.02".into()),
            cre_dt: headed.cre_dt_tm.clone(),
            ..AppHdr::default()
        });
        headed.sttlm_mtd = "COVE".into();
        let leg = read_pacs009(&samos.leg_fi(&headed).unwrap(), &Limits::default()).unwrap();
        assert_eq!((leg.sttlm_mtd.as_str(), leg.app_hdr), ("CLRG", None));
        // The same interbank transfer in USD: SAMOS settles ZAR only; CBPR+ takes it.
        let mut usd = transfer.clone();
        usd.txs[0].amount = money("USD", 1_000_000);
        let e = samos.check_fi(&usd, 0).unwrap_err();
        assert_eq!((e.code, e.rule_id()), (ReasonCode::AM03, Some("scheme.ccy")));
        let swift = gate("swift");
        assert_eq!(swift.check_fi(&usd, 0), Ok(()));
        let leg = read_pacs009(&swift.leg_fi(&usd).unwrap(), &Limits::default()).unwrap();
        assert_eq!(leg.sttlm_mtd, "INDA");
        let hdr = leg.app_hdr.expect("CBPR+ pacs.009 travels with an AppHdr");
        assert_eq!(
            (hdr.msg_def_idr.as_str(), hdr.biz_svc.as_deref()),
            ("pacs.009.001.08", Some(swift::BIZ_SVC))
        );
        // Schemes without interbank transfers refuse pacs.009.
        for scheme in ["bankserv", "rtc", "payshap"] {
            let e = gate(scheme).check_fi(&transfer, 0).unwrap_err();
            assert_eq!((e.code, e.rule_id()), (ReasonCode::FF01, Some("scheme.msg_version")), "{scheme}");
        }
        // SAMOS keeps office hours for pacs.009 too.
        let saturday_noon_ms = (2 * 86_400 + 12 * 3600) * 1000;
        let windowed = Gate::new(&GateOptions::new("samos")).unwrap();
        let e = windowed.check_fi(&transfer, saturday_noon_ms).unwrap_err();
        assert_eq!(e.code, ReasonCode::TM01);
    }
}
