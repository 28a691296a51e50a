//! Certificate → identity: the only way a peer's name enters the switch.
//!
//! The identity of a peer is the Common Name of its end-entity certificate's subject (falling back
//! to the first DNS subject-alternative name). Config maps that name to a tenant or a clearing
//! system; a message body can never claim to be someone else.

use rustls_pki_types::CertificateDer;
use x509_parser::prelude::{FromDer, GeneralName, X509Certificate};

/// The peer name carried by an end-entity certificate, if it has one.
#[must_use]
pub fn peer_name(end_entity: &CertificateDer<'_>) -> Option<String> {
    let (_, cert) = X509Certificate::from_der(end_entity.as_ref()).ok()?;
    if let Some(cn) = cert.subject().iter_common_name().next() {
        if let Ok(text) = cn.as_str() {
            return Some(text.to_owned());
        }
    }
    let san = cert.subject_alternative_name().ok()??;
    san.value.general_names.iter().find_map(|name| match name {
        GeneralName::DNSName(dns) => Some((*dns).to_owned()),
        _ => None,
    })
}

/// The peer name of the first certificate of a presented chain.
#[must_use]
pub fn chain_peer_name(chain: Option<&[CertificateDer<'_>]>) -> Option<String> {
    chain.and_then(|c| c.first()).and_then(peer_name)
}
