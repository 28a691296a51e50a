//! Development certificates: a throw-away CA with server and client certificates.
//!
//! `switchyard dev-certs --out DIR` and the demo use this so that every run, even the first on a
//! fresh machine, speaks real mutual TLS. Never use these certificates in production: the CA key
//! is written next to the certificates.

use std::fmt;
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
    #[error("invalid certificate name {name:?}: {problem}")]
    InvalidName { name: String, problem: NameProblem },
    #[error(transparent)]
    Tls(#[from] TlsError),
}

/// The longest certificate name: the X.509 upper bound of a common name (`ub-common-name`).
pub const MAX_NAME_LEN: usize = 64;

/// The file stem of the CA's files (`ca.pem`, `ca.key`): no issued certificate may use it.
pub const CA_STEM: &str = "ca";

/// Why a certificate name was refused (see [`check_name`] and [`check_client_names`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum NameProblem {
    Empty,
    TooLong,
    /// A character other than an ASCII letter, digit, `-`, `_` or `.`.
    BadCharacter,
    LeadingDot,
    /// The CA's file stem (`ca`): the certificate would overwrite `ca.pem` and `ca.key`.
    Ca,
    /// The name of a server certificate issued in the same run.
    Server,
    /// Given more than once (compared ignoring ASCII case).
    Duplicate,
}

impl fmt::Display for NameProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Empty => "empty",
            Self::TooLong => "longer than 64 bytes",
            Self::BadCharacter => "only ASCII letters, digits, '-', '_' and '.' are allowed",
            Self::LeadingDot => "must not start with '.'",
            Self::Ca => "reserved: the CA's files are ca.pem and ca.key",
            Self::Server => "reserved: a server certificate has this name",
            Self::Duplicate => "given more than once (names are compared ignoring ASCII case)",
        })
    }
}

fn invalid(name: &str, problem: NameProblem) -> DevCertError {
    DevCertError::InvalidName { name: name.to_owned(), problem }
}

/// Checks that `name` can name a certificate and its files `<name>.pem` / `<name>.key`: 1 to
/// [`MAX_NAME_LEN`] bytes of ASCII letters, digits, `-`, `_` and `.`, not starting with `.`
/// (so no path separators, `..`, or hidden files), and not the CA's stem `ca` (in any case, as the
/// files may land on a case-insensitive file system).
pub fn check_name(name: &str) -> Result<(), DevCertError> {
    let problem = if name.is_empty() {
        NameProblem::Empty
    } else if name.len() > MAX_NAME_LEN {
        NameProblem::TooLong
    } else if !name.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.')) {
        NameProblem::BadCharacter
    } else if name.starts_with('.') {
        NameProblem::LeadingDot
    } else if name.eq_ignore_ascii_case(CA_STEM) {
        NameProblem::Ca
    } else {
        return Ok(());
    };
    Err(invalid(name, problem))
}

/// Checks the client names of one `dev-certs` run against each other and the server names: each
/// passes [`check_name`], none is a server name, none is given twice (ASCII case-insensitively).
pub fn check_client_names(servers: &[&str], clients: &[&str]) -> Result<(), DevCertError> {
    for (i, name) in clients.iter().enumerate() {
        check_name(name)?;
        if servers.iter().any(|s| s.eq_ignore_ascii_case(name)) {
            return Err(invalid(name, NameProblem::Server));
        }
        if clients[..i].iter().any(|c| c.eq_ignore_ascii_case(name)) {
            return Err(invalid(name, NameProblem::Duplicate));
        }
    }
    Ok(())
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
        // Every leaf may serve and may dial: a clearing link in accept mode presents the
        // node's link certificate (`switchyard`) as a server, and a simulator in dial mode
        // presents its server certificate (`clearing-sim`) as a client.
        let both = || vec![ExtendedKeyUsagePurpose::ServerAuth, ExtendedKeyUsagePurpose::ClientAuth];
        for name in servers {
            let sans = vec![(*name).to_owned(), "localhost".into(), "127.0.0.1".into(), "::1".into()];
            let mut p = params(name, sans, validity)?;
            p.extended_key_usages = both();
            issued.push(issue(name, &p, &ca)?);
        }
        for name in clients {
            let mut p = params(name, vec![(*name).to_owned()], validity)?;
            p.extended_key_usages = both();
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

    /// The files [`DevCerts::write_to`] writes, in order: `ca.pem`, `ca.key`, then `<name>.pem`
    /// and `<name>.key` per issued certificate.
    #[must_use]
    pub fn file_names(&self) -> Vec<String> {
        self.files().into_iter().map(|(file, _)| file).collect()
    }

    fn files(&self) -> Vec<(String, &str)> {
        let mut files = vec![(format!("{CA_STEM}.pem"), self.ca_pem.as_str())];
        files.push((format!("{CA_STEM}.key"), self.ca_key_pem.as_str()));
        for cert in &self.issued {
            files.push((format!("{}.pem", cert.name), cert.cert_pem.as_str()));
            files.push((format!("{}.key", cert.name), cert.key_pem.as_str()));
        }
        files
    }

    /// Writes `ca.pem`, `ca.key`, and `<name>.pem` / `<name>.key` for each certificate into `dir`
    /// (created if missing), replacing files of the same names. Private keys (`*.key`) are
    /// readable by the owner only (mode 0600 on Unix, also when a file is replaced). Refuses,
    /// before writing anything, an issued name that fails [`check_name`].
    pub fn write_to(&self, dir: &Path) -> Result<(), DevCertError> {
        for cert in &self.issued {
            check_name(&cert.name)?;
        }
        std::fs::create_dir_all(dir)
            .map_err(|source| DevCertError::Write { path: dir.display().to_string(), source })?;
        for (file, text) in self.files() {
            let path = dir.join(&file);
            let written =
                if file.ends_with(".key") { write_private(&path, text) } else { std::fs::write(&path, text) };
            written.map_err(|source| DevCertError::Write { path: path.display().to_string(), source })?;
        }
        Ok(())
    }
}

/// Writes a private key readable by the owner only. A new file is created with mode 0600; an
/// existing one is truncated and set to 0600 before the key is written into it.
#[cfg(unix)]
fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
    let mut file =
        std::fs::OpenOptions::new().write(true).create(true).truncate(true).mode(0o600).open(path)?;
    file.set_permissions(std::fs::Permissions::from_mode(0o600))?;
    file.write_all(text.as_bytes())
}

#[cfg(not(unix))]
fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    std::fs::write(path, text)
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

    fn problem(result: Result<(), DevCertError>) -> Option<(String, NameProblem)> {
        match result {
            Ok(()) => None,
            Err(DevCertError::InvalidName { name, problem }) => Some((name, problem)),
            Err(e) => panic!("unexpected error {e}"),
        }
    }

    #[test]
    fn devcerts_names_must_be_safe_file_stems() {
        for good in ["bank-a", "BANK_B", "a", "bank.a", "a..b", "x.", "0", &"n".repeat(MAX_NAME_LEN)] {
            assert_eq!(problem(check_name(good)), None, "{good:?}");
        }
        let long = "n".repeat(MAX_NAME_LEN + 1);
        for (bad, expected) in [
            ("", NameProblem::Empty),
            (long.as_str(), NameProblem::TooLong),
            ("../evil", NameProblem::BadCharacter),
            ("a/b", NameProblem::BadCharacter),
            ("a\\b", NameProblem::BadCharacter),
            ("bank a", NameProblem::BadCharacter),
            ("bänk", NameProblem::BadCharacter),
            ("a\0b", NameProblem::BadCharacter),
            (".hidden", NameProblem::LeadingDot),
            ("..", NameProblem::LeadingDot),
            (".", NameProblem::LeadingDot),
            ("ca", NameProblem::Ca),
            ("CA", NameProblem::Ca),
        ] {
            assert_eq!(problem(check_name(bad)), Some((bad.to_owned(), expected)), "{bad:?}");
        }
        // The message names the name and the problem.
        let message = check_name("../evil").unwrap_err().to_string();
        assert!(message.contains("\"../evil\"") && message.contains("ASCII letters"), "{message}");
    }

    #[test]
    fn devcerts_client_names_are_unique_and_not_servers() {
        let servers = ["switchyard-node", "clearing-sim"];
        let check = |clients: &[&str]| problem(check_client_names(&servers, clients));
        assert_eq!(check(&["bank-a", "bank-b", "switchyard"]), None);
        assert_eq!(check(&[]), None);
        assert_eq!(check(&["bank-a", "clearing-sim"]), Some(("clearing-sim".into(), NameProblem::Server)));
        assert_eq!(check(&["Switchyard-Node"]), Some(("Switchyard-Node".into(), NameProblem::Server)));
        assert_eq!(check(&["bank-a", "bank-b", "bank-a"]), Some(("bank-a".into(), NameProblem::Duplicate)));
        assert_eq!(check(&["bank-a", "BANK-A"]), Some(("BANK-A".into(), NameProblem::Duplicate)));
        assert_eq!(check(&["bank-a", "ca"]), Some(("ca".into(), NameProblem::Ca)));
        assert_eq!(check(&["bank-a", ""]), Some((String::new(), NameProblem::Empty)));
        assert_eq!(check(&["../x"]), Some(("../x".into(), NameProblem::BadCharacter)));
    }

    #[test]
    fn devcerts_write_to_refuses_unsafe_names_before_writing() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("out");
        for bad in ["ca", "../escaped", ""] {
            let certs = DevCerts::generate(&["switch"], &["bank-a", bad]).unwrap();
            let err = certs.write_to(&out).unwrap_err();
            assert!(matches!(err, DevCertError::InvalidName { ref name, .. } if name == bad), "{err}");
        }
        assert!(!out.exists(), "nothing written");
        assert!(!dir.path().join("escaped.pem").exists());
    }

    #[test]
    fn devcerts_file_names_list_what_write_to_writes() {
        let certs = DevCerts::generate(&["switch"], &["bank-a"]).unwrap();
        let dir = tempfile::tempdir().unwrap();
        certs.write_to(dir.path()).unwrap();
        let mut on_disk: Vec<String> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        on_disk.sort();
        let mut listed = certs.file_names();
        assert_eq!(listed[..2], ["ca.pem", "ca.key"]);
        listed.sort();
        assert_eq!(on_disk, listed);
        assert_eq!(listed.len(), 6);
    }

    #[cfg(unix)]
    #[test]
    fn devcerts_private_keys_are_owner_only_also_when_replaced() {
        use std::os::unix::fs::PermissionsExt;
        let mode = |path: &Path| std::fs::metadata(path).unwrap().permissions().mode() & 0o777;
        let dir = tempfile::tempdir().unwrap();
        let certs = DevCerts::generate(&["switch"], &["bank-a"]).unwrap();
        // A key left world-readable by an earlier version is tightened when replaced.
        let stale = dir.path().join("bank-a.key");
        std::fs::write(&stale, "old").unwrap();
        std::fs::set_permissions(&stale, std::fs::Permissions::from_mode(0o644)).unwrap();
        certs.write_to(dir.path()).unwrap();
        for file in certs.file_names() {
            let path = dir.path().join(&file);
            if file.ends_with(".key") {
                assert_eq!(format!("{:o}", mode(&path)), "600", "{file}");
            } else {
                assert_ne!(mode(&path) & 0o444, 0, "{file}: certificates stay readable");
            }
        }
        assert_eq!(std::fs::read_to_string(&stale).unwrap(), certs.issued[1].key_pem);
        // Written twice into the same directory (the demo and tests do): still 0600, new content.
        let again = DevCerts::generate(&["switch"], &["bank-a"]).unwrap();
        again.write_to(dir.path()).unwrap();
        assert_eq!(format!("{:o}", mode(&dir.path().join("ca.key"))), "600");
        assert_eq!(std::fs::read_to_string(dir.path().join("ca.key")).unwrap(), again.ca_key_pem);
    }
}
