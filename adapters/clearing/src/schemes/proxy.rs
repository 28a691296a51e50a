//! Proxy-addressed creditors (PayShap "ShapIDs"): reading, checking, resolving and carrying
//! `CdtrAcct/Prxy`.
//!
//! Owns: reading the creditor proxies of a message from its bytes ([`creditor_proxies`]; the
//! iso20022 typed model has no proxy field, docs/SCHEMES.md "Gaps"), the proxy directory a
//! deployment may configure ([`ProxyDirectory`]: proxy → creditor account and agent, the
//! switch's stand-in for the scheme's proxy resolution service), what a profile does with a
//! proxy ([`ProxyPolicy`]), and writing the proxy back into a leg written from the model
//! ([`carry_proxies`]).
//!
//! Reason codes: a proxy in the wrong form, or one the directory does not know, is `BE23`
//! ("Account proxy invalid"): `scheme.proxy` and `scheme.proxy_unknown`.

use std::collections::HashMap;
use std::sync::Mutex;

use switchyard_iso20022::{
    validate_with_profile, Bic, Limits, MessageView, Pacs008, SchemeProfile, ValidationError,
};

use super::checks::SchemeRule;

/// A creditor proxy as a message carries it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Proxy {
    /// `Prxy/Tp/Cd` (e.g. `MBNO`) or `Prxy/Tp/Prtry`, when given.
    pub kind: Option<String>,
    /// `Prxy/Id`.
    pub id: String,
}

/// `ExternalProxyAccountType1Code` for a mobile phone number.
pub const MOBILE: &str = "MBNO";

/// The creditor proxy of each transaction of a pacs.008 (`None` for a transaction without
/// one), read from the message's bytes.
///
/// # Errors
/// The message does not validate (the caller has normally read it already, so this does not
/// happen on the submission path).
pub fn creditor_proxies(raw: &[u8], limits: &Limits) -> Result<Vec<Option<Proxy>>, ValidationError> {
    let capture = Capture(Mutex::new(Vec::new()));
    validate_with_profile(raw, limits, &capture)?;
    Ok(capture.0.into_inner().unwrap_or_else(std::sync::PoisonError::into_inner))
}

/// A profile that only records what it sees.
struct Capture(Mutex<Vec<Option<Proxy>>>);

impl SchemeProfile for Capture {
    fn name(&self) -> &str {
        "proxy-capture"
    }

    fn check(&self, msg: &MessageView<'_, '_>) -> Result<(), ValidationError> {
        let root = msg.document().and_then(|d| d.child("FIToFICstmrCdtTrf"));
        let proxies = root
            .into_iter()
            .flat_map(|r| r.children())
            .filter(|c| c.name() == "CdtTrfTxInf")
            .map(|tx| {
                let prxy = tx.child("CdtrAcct").and_then(|a| a.child("Prxy"))?;
                let id = prxy.child("Id")?.text().trim().to_owned();
                let kind = prxy
                    .descend("Tp/Cd")
                    .or_else(|| prxy.descend("Tp/Prtry"))
                    .map(|k| k.text().trim().to_owned());
                Some(Proxy { kind, id })
            })
            .collect();
        *self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = proxies;
        Ok(())
    }
}

/// A South African mobile number: `0` or `+27`, then nine digits.
#[must_use]
pub fn is_za_mobile(text: &str) -> bool {
    let national = text.strip_prefix("+27").or_else(|| text.strip_prefix('0'));
    national.is_some_and(|n| n.len() == 9 && n.bytes().all(|b| b.is_ascii_digit()))
}

fn is_alias_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || "._-".contains(c)
}

/// Assumed ShapID form: `<mobile or alias>[@<bank>]`; a mobile proxy (`MBNO`) is a ZA number.
#[must_use]
pub fn proxy_form_ok(kind: Option<&str>, id: &str) -> bool {
    let (alias, bank) = id.split_once('@').map_or((id, None), |(a, b)| (a, Some(b)));
    let bank_ok = bank.is_none_or(|b| !b.is_empty() && b.len() <= 35 && b.chars().all(is_alias_char));
    let alias_ok = match kind {
        Some(MOBILE) => is_za_mobile(alias),
        _ => !alias.is_empty() && alias.len() <= 64 && alias.chars().all(is_alias_char),
    };
    bank_ok && alias_ok
}

/// The directory key of a proxy: mobile numbers in `+27` form, aliases as given; the `@bank`
/// suffix kept (`0821234567@zybank` → `+27821234567@zybank`).
#[must_use]
pub fn normalise(id: &str) -> String {
    let (alias, bank) = id.split_once('@').map_or((id, None), |(a, b)| (a, Some(b)));
    let alias = match alias.strip_prefix('0') {
        Some(national) if is_za_mobile(alias) => format!("+27{national}"),
        _ => alias.to_owned(),
    };
    bank.map_or_else(|| alias.clone(), |b| format!("{alias}@{b}"))
}

/// Where a proxy points: the creditor's account and, when known, its bank.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProxyTarget {
    /// A South African account number (`Id/Othr/Id`, 1 to 11 digits).
    pub account: String,
    /// The creditor agent's BIC.
    pub agent: Option<Bic>,
}

/// Why a directory entry was refused (a configuration error; the caller names the file).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DirectoryError {
    #[error("entry {index}: proxy {id:?} is not a ShapID (a ZA mobile number or alias, optionally @bank)")]
    Proxy { index: usize, id: String },
    #[error("entry {index}: account {account:?} is not a ZA account number (1 to 11 digits)")]
    Account { index: usize, account: String },
    #[error("entry {index}: proxy {id:?} is listed twice")]
    Duplicate { index: usize, id: String },
    #[error("more than {max} entries")]
    TooMany { max: usize },
}

/// Proxy → creditor, as configured: the switch's stand-in for the scheme's proxy resolution
/// service. Bounded ([`ProxyDirectory::MAX_ENTRIES`]); keys normalised ([`normalise`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProxyDirectory {
    entries: HashMap<String, ProxyTarget>,
}

impl ProxyDirectory {
    /// The most entries a directory holds.
    pub const MAX_ENTRIES: usize = 1_000_000;

    /// Builds a directory, checking every entry.
    ///
    /// # Errors
    /// The first malformed or repeated entry, or too many entries.
    pub fn new(entries: impl IntoIterator<Item = (String, ProxyTarget)>) -> Result<Self, DirectoryError> {
        let mut map = HashMap::new();
        for (index, (id, target)) in entries.into_iter().enumerate() {
            if index >= Self::MAX_ENTRIES {
                return Err(DirectoryError::TooMany { max: Self::MAX_ENTRIES });
            }
            let kind = is_za_mobile(id.split('@').next().unwrap_or_default()).then_some(MOBILE);
            if !proxy_form_ok(kind, &id) {
                return Err(DirectoryError::Proxy { index, id });
            }
            let account_ok = (1..=11).contains(&target.account.len())
                && target.account.bytes().all(|b| b.is_ascii_digit());
            if !account_ok {
                return Err(DirectoryError::Account { index, account: target.account });
            }
            if map.insert(normalise(&id), target).is_some() {
                return Err(DirectoryError::Duplicate { index, id });
            }
        }
        Ok(Self { entries: map })
    }

    /// Where `id` points, if listed.
    #[must_use]
    pub fn resolve(&self, id: &str) -> Option<&ProxyTarget> {
        self.entries.get(&normalise(id))
    }

    /// Entries listed.
    #[must_use]
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether the directory is empty.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

/// What a profile does with a creditor proxy.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum ProxyPolicy {
    /// Check its form and carry it to the scheme, which resolves it (the default).
    #[default]
    Validate,
    /// Resolve it in the directory: the leg's creditor account (and agent, when listed) come
    /// from the directory, the proxy travels too; an unlisted proxy is refused (`BE23`).
    Resolve(std::sync::Arc<ProxyDirectory>),
}

fn proxy_path(index: usize, count: usize) -> String {
    let tx = if count > 1 {
        format!("/Document/FIToFICstmrCdtTrf/CdtTrfTxInf[{}]", index + 1)
    } else {
        "/Document/FIToFICstmrCdtTrf/CdtTrfTxInf".to_owned()
    };
    format!("{tx}/CdtrAcct/Prxy/Id")
}

/// Checks each proxy's form and, under [`ProxyPolicy::Resolve`], resolves it into `canonical`
/// (creditor account, and agent when the directory lists one).
///
/// # Errors
/// `BE23`: a proxy in the wrong form (`scheme.proxy`) or not in the directory
/// (`scheme.proxy_unknown`).
pub fn apply(
    policy: &ProxyPolicy,
    proxies: &[Option<Proxy>],
    canonical: &mut Pacs008,
) -> Result<(), ValidationError> {
    let count = proxies.len();
    for (index, proxy) in proxies.iter().enumerate() {
        let Some(proxy) = proxy else { continue };
        if !proxy_form_ok(proxy.kind.as_deref(), &proxy.id) {
            let detail = format!(
                "'{}' is not a PayShap proxy (a ZA mobile number or alias, optionally @bank)",
                proxy.id
            );
            return Err(SchemeRule::Proxy.at(proxy_path(index, count), detail));
        }
        if let ProxyPolicy::Resolve(directory) = policy {
            let Some(target) = directory.resolve(&proxy.id) else {
                let detail = format!("proxy '{}' is not registered in the proxy directory", proxy.id);
                return Err(SchemeRule::ProxyUnknown.at(proxy_path(index, count), detail));
            };
            if let Some(tx) = canonical.txs.get_mut(index) {
                tx.cdtr_iban = None;
                tx.cdtr_acct_othr = Some(target.account.clone().into());
                if let Some(agent) = &target.agent {
                    tx.cdtr_agt = Some(agent.clone());
                    tx.cdtr_agt_mmb = None;
                }
            }
        }
    }
    Ok(())
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

/// Writes each transaction's proxy into a leg written by `write_pacs008` (which cannot, the
/// model having no proxy field): `<Prxy>` is the last element of `CashAccount38`, so it goes
/// right before the n-th transaction's `</CdtrAcct>`.
#[must_use]
pub fn carry_proxies(leg_xml: &[u8], proxies: &[Option<Proxy>]) -> Vec<u8> {
    if proxies.iter().all(Option::is_none) {
        return leg_xml.to_vec();
    }
    let Ok(text) = std::str::from_utf8(leg_xml) else { return leg_xml.to_vec() };
    let mut out = String::with_capacity(text.len() + 128);
    let mut rest = text;
    for proxy in proxies {
        let Some(at) = rest.find("</CdtrAcct>") else { break };
        out.push_str(&rest[..at]);
        if let Some(p) = proxy {
            out.push_str("<Prxy>");
            if let Some(kind) = &p.kind {
                let tag = if kind.len() == 4 && kind.bytes().all(|b| b.is_ascii_uppercase()) {
                    "Cd"
                } else {
                    "Prtry"
                };
                out.push_str(&format!("<Tp><{tag}>{}</{tag}></Tp>", escape(kind)));
            }
            out.push_str(&format!("<Id>{}</Id></Prxy>", escape(&p.id)));
        }
        out.push_str("</CdtrAcct>");
        rest = &rest[at + "</CdtrAcct>".len()..];
    }
    out.push_str(rest);
    out.into_bytes()
}
