//! Who a message claims to come from must be who the certificate says sent it.
//!
//! The tenant is authenticated by its certificate; config lists the BICs it may instruct as. A
//! message whose Business Application Header `Fr`, instructing agent or (when there is no
//! instructing agent) debtor agent names another institution is refused with AG01 — a valid
//! certificate of tenant A can never move tenant B's money. Pure: no I/O.

use switchyard_iso20022::{Bic, Pacs008, Pacs009};

/// Why a message's sender claim does not match the authenticated tenant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SenderMismatch {
    /// The element that names another institution.
    pub path: &'static str,
    pub claimed: String,
}

/// Checks every sender claim of `msg` against `bics` (BIC8 or BIC11, compared as institutions).
/// An empty `bics` list means the tenant is not restricted (development setups only).
pub fn check_sender(bics: &[Bic], msg: &Pacs008) -> Result<(), SenderMismatch> {
    let fr = msg.app_hdr.as_ref().and_then(|h| h.fr_bic.as_ref());
    let txs = msg.txs.iter().map(|tx| (tx.instg_agt.as_ref(), tx.dbtr_agt.as_ref()));
    check_claims(bics, fr, txs, "CdtTrfTxInf/DbtrAgt/FinInstnId/BICFI")
}

/// The same check for a pacs.009: the AppHdr `Fr`, each transaction's instructing agent or
/// (without one) its debtor institution (`Dbtr`, the bank whose money moves).
pub fn check_sender_fi(bics: &[Bic], msg: &Pacs009) -> Result<(), SenderMismatch> {
    let fr = msg.app_hdr.as_ref().and_then(|h| h.fr_bic.as_ref());
    let txs = msg.txs.iter().map(|tx| (tx.instg_agt.as_ref(), tx.dbtr.as_ref()));
    check_claims(bics, fr, txs, "CdtTrfTxInf/Dbtr/FinInstnId/BICFI")
}

fn check_claims<'a>(
    bics: &[Bic],
    fr: Option<&'a Bic>,
    txs: impl Iterator<Item = (Option<&'a Bic>, Option<&'a Bic>)>,
    debtor_path: &'static str,
) -> Result<(), SenderMismatch> {
    if bics.is_empty() {
        return Ok(());
    }
    let ours = |b: &Bic| bics.iter().any(|own| own.same_institution(b));
    let mut claims: Vec<(&'static str, &Bic)> = Vec::new();
    if let Some(fr) = fr {
        claims.push(("/AppHdr/Fr/FIId/FinInstnId/BICFI", fr));
    }
    for (instg, debtor) in txs {
        match (instg, debtor) {
            (Some(instg), _) => claims.push(("CdtTrfTxInf/InstgAgt/FinInstnId/BICFI", instg)),
            (None, Some(debtor)) => claims.push((debtor_path, debtor)),
            (None, None) => {}
        }
    }
    match claims.into_iter().find(|(_, b)| !ours(b)) {
        Some((path, b)) => Err(SenderMismatch { path, claimed: b.as_str().to_owned() }),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEMPLATE: &[u8] = include_bytes!("../../bench/templates/pacs008.xml");

    fn msg() -> Pacs008 {
        switchyard_iso20022::read_pacs008(TEMPLATE, &switchyard_iso20022::Limits::default()).unwrap()
    }

    #[test]
    fn own_bic8_or_bic11_passes_another_institution_fails() {
        let m = msg(); // InstgAgt and DbtrAgt ZYAAZAJJXXX
        assert!(check_sender(&[Bic::parse("ZYAAZAJJ").unwrap()], &m).is_ok());
        assert!(check_sender(&[], &m).is_ok(), "unrestricted tenant");
        let err = check_sender(&[Bic::parse("ZYBBZAJJ").unwrap()], &m).unwrap_err();
        assert_eq!(err.path, "CdtTrfTxInf/InstgAgt/FinInstnId/BICFI");
        assert_eq!(err.claimed, "ZYAAZAJJXXX");
    }
}
