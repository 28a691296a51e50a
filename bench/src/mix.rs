//! The message mix of a load run: which kind of message each scheduled send is, and its bytes.
//!
//! Kinds: pacs.008 from the template, a large pacs.008 (the same payment with long unstructured
//! remittance information, ~40 KB by default), a pacs.028 status request and a camt.056
//! cancellation request about a payment this participant sent earlier, and invalid messages
//! (three variants in turn: an unknown currency, an element the schema does not allow, and a
//! document cut in half). The choice is a seeded random draw by weight, so a run is repeatable.

use std::collections::VecDeque;

use compact_str::format_compact;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::Serialize;
use switchyard_iso20022::{
    read_pacs008, write_camt056, write_pacs028, Assignment, Bic, Camt056, CancellationTx, Limits,
    OriginalRef, Pacs008, Pacs028, PartyRef, Reason, StatusRequestTx, Uetr,
};

use crate::messages::MessageFactory;

/// What one scheduled send is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MessageKind {
    /// pacs.008 from the template (~1.8 KB).
    Payment,
    /// pacs.008 with long remittance information.
    LargePayment,
    /// pacs.028 about an earlier payment of the same participant.
    StatusRequest,
    /// camt.056 about an earlier payment of the same participant.
    Cancellation,
    /// A message the switch must refuse.
    Invalid,
}

impl MessageKind {
    /// Every kind, in report order.
    pub const ALL: [Self; 5] =
        [Self::Payment, Self::LargePayment, Self::StatusRequest, Self::Cancellation, Self::Invalid];

    /// A payment (pacs.008): it gets ACTC and an outcome; its latencies are the run's.
    #[must_use]
    pub fn is_payment(self) -> bool {
        matches!(self, Self::Payment | Self::LargePayment)
    }

    /// The name used in `--mix` and in reports.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Self::Payment => "payment",
            Self::LargePayment => "large",
            Self::StatusRequest => "status",
            Self::Cancellation => "cancel",
            Self::Invalid => "invalid",
        }
    }
}

/// Relative weights of the kinds (`--mix payment=90,large=2,status=3,cancel=2,invalid=3`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Mix {
    pub payment: u32,
    pub large: u32,
    pub status: u32,
    pub cancel: u32,
    pub invalid: u32,
}

impl Default for Mix {
    /// Payments only.
    fn default() -> Self {
        Self { payment: 1, large: 0, status: 0, cancel: 0, invalid: 0 }
    }
}

impl Mix {
    fn weight(&self, kind: MessageKind) -> u32 {
        match kind {
            MessageKind::Payment => self.payment,
            MessageKind::LargePayment => self.large,
            MessageKind::StatusRequest => self.status,
            MessageKind::Cancellation => self.cancel,
            MessageKind::Invalid => self.invalid,
        }
    }

    fn total(&self) -> u64 {
        MessageKind::ALL.iter().map(|k| u64::from(self.weight(*k))).sum()
    }

    /// The kind a draw in `0..total` falls on.
    fn pick(&self, mut draw: u64) -> MessageKind {
        for kind in MessageKind::ALL {
            let w = u64::from(self.weight(kind));
            if draw < w {
                return kind;
            }
            draw -= w;
        }
        MessageKind::Payment
    }
}

impl std::str::FromStr for Mix {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let mut mix = Self { payment: 0, large: 0, status: 0, cancel: 0, invalid: 0 };
        for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (name, weight) =
                part.split_once('=').ok_or_else(|| format!("mix entry {part:?}: expected KIND=WEIGHT"))?;
            let weight: u32 = weight
                .trim()
                .parse()
                .ok()
                .filter(|w| *w <= 1_000_000)
                .ok_or_else(|| format!("mix entry {part:?}: weight must be an integer 0..=1000000"))?;
            let slot = match name.trim() {
                "payment" => &mut mix.payment,
                "large" => &mut mix.large,
                "status" => &mut mix.status,
                "cancel" => &mut mix.cancel,
                "invalid" => &mut mix.invalid,
                other => {
                    return Err(format!(
                        "mix entry {part:?}: unknown kind {other:?} (payment, large, status, cancel, invalid)"
                    ))
                }
            };
            *slot = weight;
        }
        if mix.total() == 0 {
            return Err("the mix needs at least one kind with a weight above 0".into());
        }
        Ok(mix)
    }
}

/// A payment sent earlier, for status and cancellation requests to refer to.
#[derive(Debug, Clone)]
struct Earlier {
    msg_id: String,
    end_to_end_id: String,
    uetr: String,
}

/// How many earlier payments a participant remembers.
const EARLIER: usize = 256;

/// Makes the messages of one participant.
#[derive(Debug)]
pub struct Mixer {
    mix: Mix,
    payments: MessageFactory,
    large: MessageFactory,
    template: Pacs008,
    bic: Option<Bic>,
    prefix: String,
    rng: StdRng,
    earlier: VecDeque<Earlier>,
}

/// One message ready to send.
#[derive(Debug)]
pub struct Made {
    pub kind: MessageKind,
    pub bytes: Vec<u8>,
    /// The UETR of a payment; the referred payment's UETR for status and cancellation requests.
    pub uetr: String,
}

impl Mixer {
    /// A mixer for participant `prefix` (unique per participant: it starts every MsgId).
    /// `large_bytes` is the target size of a large payment.
    #[must_use]
    pub fn new(
        template: &Pacs008,
        bic: Option<&Bic>,
        prefix: &str,
        mix: Mix,
        large_bytes: usize,
        seed: u64,
    ) -> Self {
        let mut payments = MessageFactory::new(template.clone(), prefix);
        let mut large = MessageFactory::new(large_template(template, large_bytes), &format!("{prefix}L"));
        let mut template = template.clone();
        if let Some(bic) = bic {
            payments = payments.sending_as(bic);
            large = large.sending_as(bic);
            for tx in &mut template.txs {
                tx.instg_agt = Some(bic.clone());
            }
        }
        Self {
            mix,
            payments,
            large,
            template,
            bic: bic.cloned(),
            prefix: prefix.to_owned(),
            rng: StdRng::seed_from_u64(seed),
            earlier: VecDeque::with_capacity(EARLIER),
        }
    }

    /// The `n`th message of this participant.
    pub fn make(&mut self, n: u64) -> Made {
        let draw = self.rng.gen_range(0..self.mix.total().max(1));
        let mut kind = self.mix.pick(draw);
        if matches!(kind, MessageKind::StatusRequest | MessageKind::Cancellation) && self.earlier.is_empty() {
            kind = MessageKind::Payment;
        }
        match kind {
            MessageKind::Payment | MessageKind::LargePayment => {
                let factory = if kind == MessageKind::Payment { &self.payments } else { &self.large };
                let (bytes, uetr) = factory.make(n);
                let prefix = if kind == MessageKind::Payment {
                    self.prefix.clone()
                } else {
                    format!("{}L", self.prefix)
                };
                if self.earlier.len() == EARLIER {
                    self.earlier.pop_front();
                }
                self.earlier.push_back(Earlier {
                    msg_id: format!("{prefix}-{n}"),
                    end_to_end_id: format!("E2E-{n}"),
                    uetr: uetr.clone(),
                });
                Made { kind, bytes, uetr }
            }
            MessageKind::StatusRequest | MessageKind::Cancellation => {
                let pick = self.rng.gen_range(0..self.earlier.len());
                let earlier = self.earlier[pick].clone();
                let bytes = if kind == MessageKind::StatusRequest {
                    self.pacs028(n, &earlier)
                } else {
                    self.camt056(n, &earlier)
                };
                Made { kind, bytes, uetr: earlier.uetr }
            }
            MessageKind::Invalid => {
                let (bytes, uetr) = self.payments.make(n);
                Made { kind, bytes: spoil(bytes, n), uetr }
            }
        }
    }

    fn original(earlier: &Earlier) -> OriginalRef {
        OriginalRef {
            orgnl_msg_id: Some(earlier.msg_id.clone().into()),
            orgnl_msg_nm_id: Some("pacs.008.001.08".into()),
            orgnl_end_to_end_id: Some(earlier.end_to_end_id.clone().into()),
            orgnl_uetr: Uetr::parse(&earlier.uetr),
            ..OriginalRef::default()
        }
    }

    fn pacs028(&self, n: u64, earlier: &Earlier) -> Vec<u8> {
        let tx = self.template.txs.first();
        let request = Pacs028 {
            app_hdr: None,
            msg_id: format_compact!("{}S-{n}", self.prefix),
            cre_dt_tm: self.template.cre_dt_tm.clone(),
            orgnl_grp: None,
            txs: vec![StatusRequestTx {
                sts_req_id: None,
                original: Self::original(earlier),
                instg_agt: self.bic.clone().or_else(|| tx.and_then(|t| t.instg_agt.clone())),
                instg_agt_mmb: None,
                instd_agt: tx.and_then(|t| t.instd_agt.clone()),
                instd_agt_mmb: None,
            }],
        };
        write_pacs028(&request)
    }

    fn camt056(&self, n: u64, earlier: &Earlier) -> Vec<u8> {
        let tx = self.template.txs.first();
        let request = Camt056 {
            group: None,
            app_hdr: None,
            assignment: Assignment {
                id: format_compact!("{}C-{n}", self.prefix),
                assgnr: PartyRef {
                    bic: self.bic.clone().or_else(|| tx.and_then(|t| t.instg_agt.clone())),
                    ..PartyRef::default()
                },
                assgne: PartyRef { bic: tx.and_then(|t| t.instd_agt.clone()), ..PartyRef::default() },
                cre_dt_tm: self.template.cre_dt_tm.clone(),
            },
            txs: vec![CancellationTx {
                cxl_id: Some(format_compact!("{}X-{n}", self.prefix)),
                original: Self::original(earlier),
                orgnl_intr_bk_sttlm_amt: tx.map(|t| t.amount),
                orgnl_intr_bk_sttlm_dt: tx.and_then(|t| t.intr_bk_sttlm_dt.clone()),
                reason: Reason { cd: Some("DUPL".into()), ..Reason::default() },
            }],
        };
        write_camt056(&request)
    }
}

/// The template with enough 140-character `RmtInf/Ustrd` lines to reach about `bytes`.
#[must_use]
pub fn large_template(template: &Pacs008, bytes: usize) -> Pacs008 {
    let mut large = template.clone();
    let base = switchyard_iso20022::write_pacs008(template).len();
    // Each line is 140 characters plus `<Ustrd></Ustrd>` and indentation.
    let lines = bytes.saturating_sub(base).div_ceil(165).max(1);
    if let Some(tx) = large.txs.first_mut() {
        tx.rmt_inf_ustrd = (0..lines)
            .map(|i| {
                let mut line = format!("INV {i:05} remittance detail for load testing ");
                while line.len() < 140 {
                    line.push_str("0123456789");
                }
                line.truncate(140);
                line.into()
            })
            .collect();
    }
    large
}

/// Turns a valid pacs.008 into an invalid one (three variants in turn).
fn spoil(bytes: Vec<u8>, n: u64) -> Vec<u8> {
    let text = String::from_utf8(bytes).unwrap_or_default();
    match n % 3 {
        0 => match text.find("Ccy=\"") {
            // A well-formed code that is no currency: a business-rule refusal, not a schema one.
            Some(at) if text.len() >= at + 8 => {
                format!("{}QQQ{}", &text[..at + 5], &text[at + 8..]).into_bytes()
            }
            _ => text.into_bytes(),
        },
        1 => text.replacen("<GrpHdr>", "<GrpHdr><Bogus>1</Bogus>", 1).into_bytes(),
        _ => {
            let mut b = text.into_bytes();
            b.truncate(b.len() / 2);
            b
        }
    }
}

/// Reads a pacs.008 template file (one transaction).
///
/// # Errors
/// When the file does not parse as a valid pacs.008 with one transaction.
pub fn read_template(bytes: &[u8], what: &str) -> anyhow::Result<Pacs008> {
    let template = read_pacs008(bytes, &Limits::default()).map_err(|e| anyhow::anyhow!("{what}: {e}"))?;
    if template.txs.len() != 1 {
        anyhow::bail!("{what}: a template must hold exactly one transaction, found {}", template.txs.len());
    }
    Ok(template)
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEMPLATE: &[u8] = include_bytes!("../templates/pacs008.xml");

    #[test]
    fn every_kind_is_made_and_valid_ones_validate() {
        let template = read_template(TEMPLATE, "template").unwrap();
        let mix: Mix = "payment=1,large=1,status=1,cancel=1,invalid=1".parse().unwrap();
        let bic = Bic::parse("ZYAAZAJJ").unwrap();
        let mut mixer = Mixer::new(&template, Some(&bic), "t", mix, 40_000, 7);
        let mut seen = std::collections::BTreeMap::new();
        for n in 0..200 {
            let made = mixer.make(n);
            let result = switchyard_iso20022::validate_any(&made.bytes, &Limits::default());
            if made.kind == MessageKind::Invalid {
                assert!(result.is_err(), "invalid variant {} validated", n % 3);
            } else {
                let summary = result.unwrap_or_else(|e| panic!("{:?} invalid: {e}", made.kind));
                let expected = match made.kind {
                    MessageKind::StatusRequest => "pacs.028",
                    MessageKind::Cancellation => "camt.056",
                    _ => "pacs.008",
                };
                assert!(summary.msg_def.starts_with(expected), "{:?}: {}", made.kind, summary.msg_def);
            }
            if made.kind == MessageKind::LargePayment {
                assert!((35_000..48_000).contains(&made.bytes.len()), "large is {} bytes", made.bytes.len());
            }
            *seen.entry(made.kind).or_insert(0) += 1;
        }
        assert_eq!(seen.len(), 5, "{seen:?}");
        // The longest prefix a run makes (tenant bank-zz, session 9999, run tag) still fits MsgId.
        let mut long = Mixer::new(&template, Some(&bic), "bank-zz-s9999-zzzzzz", Mix::default(), 40_000, 1);
        let made = long.make(99_999_999);
        switchyard_iso20022::validate_any(&made.bytes, &Limits::default()).unwrap();
    }

    #[test]
    fn mixes_parse_with_clear_errors() {
        assert_eq!("payment=9,invalid=1".parse::<Mix>().unwrap().invalid, 1);
        assert!("payment=0".parse::<Mix>().unwrap_err().contains("at least one"));
        assert!("bogus=1".parse::<Mix>().unwrap_err().contains("unknown kind"));
        assert!("payment".parse::<Mix>().unwrap_err().contains("KIND=WEIGHT"));
    }
}
