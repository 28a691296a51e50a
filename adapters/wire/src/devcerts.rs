//! Development certificates: a throw-away CA with server and client certificates.
//!
//! `switchyard dev-certs --out DIR` and the demo use this so that every run, even the first on a
//! fresh machine, speaks real mutual TLS. Never use these certificates in production: the CA key
//! is written next to the certificates.

use std::path::Path;

use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DistinguishedName, DnType, ExtendedKeyUsagePurpose,
    IsCa, KeyPair, KeyUsagePurpose,
};

use crate::tls::{certs_from_pem, Identity, TlsError};

/// A generated CA and the certificates it issued, all as PEM text.
#[derive(Debug, Clone)]
pub struct DevCerts {
    pub ca_pem: String,
    pub ca_key_pem: String,
    /// (name, certificate PEM, key PEM) per issued certificate.
    pub issued: Vec<IssuedCert>,
}

/// One certificate issued by the development CA.
#[derive(Debug, Clone)]
pub struct IssuedCert {
    pub name: String,
    pub cert_pem: String,
    pub key_pem: String,
}

/// Why development certificates could not be made or written.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DevCertError {
    #[error("certificate generation: {0}")]
    Generate(#[from] rcgen::Error),
    #[error("{path}: {source}")]
    Write { path: String, source: std::io::Error },
    #[error("no certificate named {0}")]
    Missing(String),
    #[error(transparent)]
    Tls(#[from] TlsError),
}

/// Validity window of issued certificates: long enough for any demo or test run.
#[derive(Debug, Clone, Copy)]
pub struct Validity {
    pub not_before: (i32, u8, u8),
    pub not_after: (i32, u8, u8),
}

impl Default for Validity {
    fn default() -> Self {
        Self { not_before: (2024, 1, 1), not_after: (2099, 1, 1) }
    }
}

fn params(name: &str, sans: Vec<String>, validity: Validity) -> Result<CertificateParams, rcgen::Error> {
    let mut params = CertificateParams::new(sans)?;
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, name);
    dn.push(DnType::OrganizationName, "Switchyard development");
    params.distinguished_name = dn;
    let (y, m, d) = validity.not_before;
    params.not_before = rcgen::date_time_ymd(y, m, d);
    let (y, m, d) = validity.not_after;
    params.not_after = rcgen::date_time_ymd(y, m, d);
    Ok(params)
}

impl DevCerts {
    /// A CA plus one server certificate per `servers` name (valid for that name, `localhost`,
    /// 127.0.0.1 and ::1) and one client certificate per `clients` name (CN = the name).
    pub fn generate(servers: &[&str], clients: &[&str]) -> Result<Self, DevCertError> {
        Self::generate_with(servers, clients, Validity::default())
    }

    /// As [`DevCerts::generate`], with an explicit validity window for the issued certificates.
    pub fn generate_with(
        servers: &[&str],
        clients: &[&str],
        validity: Validity,
    ) -> Result<Self, DevCertError> {
        let mut ca_params = params("Switchyard development CA", Vec::new(), Validity::default())?;
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca_params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let ca_key = KeyPair::generate()?;
        let ca_key_pem = ca_key.serialize_pem();
        let ca = CertifiedIssuer::self_signed(ca_params, ca_key)?;
        let mut issued = Vec::new();
        for name in servers {
            let sans = vec![(*name).to_owned(), "localhost".into(), "127.0.0.1".into(), "::1".into()];
            let mut p = params(name, sans, validity)?;
            p.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
            issued.push(issue(name, &p, &ca)?);
        }
        for name in clients {
            let mut p = params(name, vec![(*name).to_owned()], validity)?;
            p.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
            issued.push(issue(name, &p, &ca)?);
        }
        Ok(Self { ca_pem: ca.pem(), ca_key_pem, issued })
    }

    /// The certificate issued for `name` as a TLS identity.
    pub fn identity(&self, name: &str) -> Result<Identity, DevCertError> {
        let cert = self.issued.iter().find(|c| c.name == name);
        let cert = cert.ok_or_else(|| DevCertError::Missing(name.to_owned()))?;
        Ok(Identity::from_pem(cert.cert_pem.as_bytes(), cert.key_pem.as_bytes(), name)?)
    }

    /// The CA certificate, parsed.
    pub fn ca(&self) -> Result<Vec<rustls_pki_types::CertificateDer<'static>>, DevCertError> {
        Ok(certs_from_pem(self.ca_pem.as_bytes(), "development CA")?)
    }

    /// Writes `ca.pem`, `ca.key`, and `<name>.pem` / `<name>.key` for each certificate.
    pub fn write_to(&self, dir: &Path) -> Result<(), DevCertError> {
        let write = |file: String, text: &str| {
            let path = dir.join(file);
            std::fs::write(&path, text)
                .map_err(|source| DevCertError::Write { path: path.display().to_string(), source })
        };
        std::fs::create_dir_all(dir)
            .map_err(|source| DevCertError::Write { path: dir.display().to_string(), source })?;
        write("ca.pem".into(), &self.ca_pem)?;
        write("ca.key".into(), &self.ca_key_pem)?;
        for cert in &self.issued {
            write(format!("{}.pem", cert.name), &cert.cert_pem)?;
            write(format!("{}.key", cert.name), &cert.key_pem)?;
        }
        Ok(())
    }
}

fn issue(
    name: &str,
    params: &CertificateParams,
    ca: &CertifiedIssuer<'_, KeyPair>,
) -> Result<IssuedCert, rcgen::Error> {
    let key = KeyPair::generate()?;
    let cert = params.signed_by(&key, ca)?;
    Ok(IssuedCert { name: name.to_owned(), cert_pem: cert.pem(), key_pem: key.serialize_pem() })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn issued_certificates_carry_their_names() {
        let certs = DevCerts::generate(&["switch"], &["bank-a"]).unwrap();
        let id = certs.identity("bank-a").unwrap();
        assert_eq!(crate::identity::peer_name(&id.chain[0]).as_deref(), Some("bank-a"));
        assert!(certs.identity("nobody").is_err());
        let dir = tempfile::tempdir().unwrap();
        certs.write_to(dir.path()).unwrap();
        let loaded = Identity::load(&dir.path().join("switch.pem"), &dir.path().join("switch.key"));
        assert!(loaded.is_ok());
    }
}
