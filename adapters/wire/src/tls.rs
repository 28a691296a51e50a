//! TLS 1.3 with mutual authentication, for both ends of every Switchyard connection.
//!
//! Only TLS 1.3 is offered and accepted; the crypto provider is rustls' `ring` provider, chosen
//! explicitly rather than through a process-wide default so that two configurations in one
//! process (a node and its built-in simulator) cannot disagree. Servers always require a client
//! certificate chained to the configured CA: identity comes from the certificate, never from a
//! message body.

use std::path::Path;
use std::sync::Arc;

use rustls::crypto::CryptoProvider;
use rustls::server::WebPkiClientVerifier;
use rustls::{ClientConfig, RootCertStore, ServerConfig};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};

/// ALPN protocol id of the Switchyard frame protocol, version 1 (used by TLS and QUIC).
pub const ALPN: &[u8] = b"switchyard/1";

/// Why TLS material could not be loaded or assembled into a configuration.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TlsError {
    #[error("{path}: {source}")]
    Read { path: String, source: std::io::Error },
    #[error("{what}: no PEM {expected} found")]
    Pem { what: String, expected: &'static str },
    #[error("{what}: {source}")]
    Rustls { what: String, source: rustls::Error },
    #[error("{what}: the private key does not belong to the certificate")]
    KeyMismatch { what: String },
    #[error("client certificate verifier: {0}")]
    Verifier(String),
}

/// A certificate chain with its private key: what one side presents.
#[derive(Debug)]
pub struct Identity {
    pub chain: Vec<CertificateDer<'static>>,
    pub key: PrivateKeyDer<'static>,
}

impl Identity {
    /// Parses a PEM certificate chain and a PEM private key.
    pub fn from_pem(cert_pem: &[u8], key_pem: &[u8], what: &str) -> Result<Self, TlsError> {
        Self::parse(cert_pem, what, key_pem, what)
    }

    /// [`Identity::from_pem`], each error naming its own source.
    fn parse(cert_pem: &[u8], cert_what: &str, key_pem: &[u8], key_what: &str) -> Result<Self, TlsError> {
        let chain = certs_from_pem(cert_pem, cert_what)?;
        let key = PrivateKeyDer::from_pem_slice(key_pem)
            .map_err(|_| TlsError::Pem { what: key_what.to_owned(), expected: "PRIVATE KEY" })?;
        Ok(Self { chain, key })
    }

    /// Reads a PEM certificate chain file and a PEM private key file, and checks that the
    /// key is the certificate's (each error names the file it is about).
    pub fn load(cert: &Path, key: &Path) -> Result<Self, TlsError> {
        let (cert_name, key_name) = (cert.display().to_string(), key.display().to_string());
        let identity = Self::parse(&read(cert)?, &cert_name, &read(key)?, &key_name)?;
        identity.check_key(&format!("{key_name} (private key of {cert_name})"))?;
        Ok(identity)
    }

    /// Whether the private key is usable and belongs to the chain's end-entity certificate
    /// (as rustls checks when a configuration is built; done at load so that `check-config`
    /// finds a mismatch too).
    pub fn check_key(&self, what: &str) -> Result<(), TlsError> {
        rustls::sign::CertifiedKey::from_der(self.chain.clone(), self.key.clone_key(), &provider())
            .map(drop)
            .map_err(|source| match source {
                rustls::Error::InconsistentKeys(_) => TlsError::KeyMismatch { what: what.to_owned() },
                source => TlsError::Rustls { what: what.to_owned(), source },
            })
    }
}

impl Clone for Identity {
    fn clone(&self) -> Self {
        Self { chain: self.chain.clone(), key: self.key.clone_key() }
    }
}

fn read(path: &Path) -> Result<Vec<u8>, TlsError> {
    std::fs::read(path).map_err(|source| TlsError::Read { path: path.display().to_string(), source })
}

/// Parses every certificate in a PEM bundle; at least one is required.
pub fn certs_from_pem(pem: &[u8], what: &str) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let certs: Vec<_> = CertificateDer::pem_slice_iter(pem).filter_map(Result::ok).collect();
    if certs.is_empty() {
        return Err(TlsError::Pem { what: what.to_owned(), expected: "CERTIFICATE" });
    }
    Ok(certs)
}

/// Reads a PEM CA bundle file.
pub fn load_ca(path: &Path) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    certs_from_pem(&read(path)?, &path.display().to_string())
}

/// The crypto provider every Switchyard TLS and QUIC configuration uses.
#[must_use]
pub fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

fn roots(ca: &[CertificateDer<'static>]) -> Result<RootCertStore, TlsError> {
    let mut store = RootCertStore::empty();
    for cert in ca {
        store
            .add(cert.clone())
            .map_err(|source| TlsError::Rustls { what: "CA certificate".into(), source })?;
    }
    Ok(store)
}

/// A server configuration that requires a client certificate issued by `client_ca`.
pub fn server_config(
    identity: &Identity,
    client_ca: &[CertificateDer<'static>],
) -> Result<Arc<ServerConfig>, TlsError> {
    let provider = provider();
    let verifier =
        WebPkiClientVerifier::builder_with_provider(Arc::new(roots(client_ca)?), Arc::clone(&provider))
            .build()
            .map_err(|e| TlsError::Verifier(e.to_string()))?;
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13])
        .map_err(|source| TlsError::Rustls { what: "server protocol versions".into(), source })?
        .with_client_cert_verifier(verifier)
        .with_single_cert(identity.chain.clone(), identity.key.clone_key())
        .map_err(|source| TlsError::Rustls { what: "server certificate".into(), source })?;
    config.alpn_protocols = vec![ALPN.to_vec()];
    // 0-RTT stays off (the default): early data is replayable and submissions must not be.
    config.max_early_data_size = 0;
    Ok(Arc::new(config))
}

/// A client configuration that trusts `server_ca` and presents `identity` when given.
pub fn client_config(
    server_ca: &[CertificateDer<'static>],
    identity: Option<&Identity>,
) -> Result<Arc<ClientConfig>, TlsError> {
    let builder = ClientConfig::builder_with_provider(provider())
        .with_protocol_versions(&[&rustls::version::TLS13])
        .map_err(|source| TlsError::Rustls { what: "client protocol versions".into(), source })?
        .with_root_certificates(roots(server_ca)?);
    let mut config = match identity {
        Some(id) => builder
            .with_client_auth_cert(id.chain.clone(), id.key.clone_key())
            .map_err(|source| TlsError::Rustls { what: "client certificate".into(), source })?,
        None => builder.with_no_client_auth(),
    };
    config.alpn_protocols = vec![ALPN.to_vec()];
    config.enable_early_data = false;
    Ok(Arc::new(config))
}

#[cfg(test)]
mod tests {
    use super::{Identity, TlsError};
    use crate::devcerts::DevCerts;

    #[test]
    fn load_names_the_key_file_and_refuses_a_key_of_another_certificate() {
        let dir = tempfile::TempDir::new().unwrap();
        let certs = DevCerts::generate(&["node"], &["bank-a"]).unwrap();
        certs.write_to(dir.path()).unwrap();
        let file = |name: &str| dir.path().join(name);
        Identity::load(&file("node.pem"), &file("node.key")).unwrap();

        let mismatch = Identity::load(&file("node.pem"), &file("bank-a.key")).unwrap_err();
        assert!(matches!(mismatch, TlsError::KeyMismatch { .. }), "{mismatch:?}");
        let text = mismatch.to_string();
        assert!(text.contains("bank-a.key") && text.contains("node.pem"), "{text}");

        std::fs::write(file("empty.key"), b"").unwrap();
        let empty = Identity::load(&file("node.pem"), &file("empty.key")).unwrap_err().to_string();
        assert!(empty.contains("empty.key") && empty.contains("PRIVATE KEY"), "{empty}");
    }

    /// A full handshake in memory between `server` and `client` identities of one CA.
    fn handshake(certs: &DevCerts, server: &str, client: &str) -> Result<(), rustls::Error> {
        use std::io::Cursor;
        let ca = certs.ca().unwrap();
        let server_config = super::server_config(&certs.identity(server).unwrap(), &ca).unwrap();
        let client_config = super::client_config(&ca, Some(&certs.identity(client).unwrap())).unwrap();
        let name = rustls::pki_types::ServerName::try_from(server.to_owned()).unwrap();
        let mut c = rustls::ClientConnection::new(client_config, name)?;
        let mut s = rustls::ServerConnection::new(server_config)?;
        for _ in 0..10 {
            let mut buf = Vec::new();
            c.write_tls(&mut buf).unwrap();
            s.read_tls(&mut Cursor::new(&buf)).unwrap();
            s.process_new_packets()?;
            let mut buf = Vec::new();
            s.write_tls(&mut buf).unwrap();
            c.read_tls(&mut Cursor::new(&buf)).unwrap();
            c.process_new_packets()?;
            if !c.is_handshaking() && !s.is_handshaking() {
                return Ok(());
            }
        }
        panic!("handshake did not finish");
    }

    #[test]
    fn development_certificates_serve_and_dial_in_both_link_modes() {
        let certs =
            DevCerts::generate(&["switchyard-node", "clearing-sim"], &["switchyard", "bank-a"]).unwrap();
        // A participant to the node; the node's link dialling the simulator.
        handshake(&certs, "switchyard-node", "bank-a").unwrap();
        handshake(&certs, "clearing-sim", "switchyard").unwrap();
        // Accept mode: the simulator dials the node's link listener, which presents `switchyard`.
        handshake(&certs, "switchyard", "clearing-sim").unwrap();
    }
}
