//! A small HTTP/1.1 client for the admin API, used by the CLI (`payment show`, `dlq ...`,
//! `switchyard top` with `--admin URL`): one connection per request (hyper), a bearer token,
//! a deadline, and the response's status and body. `http://host:port`, or mutual TLS with
//! [`AdminClient::with_tls`] (a client certificate instead of, or with, a token);
//! [`AdminClient::from_auth`] builds either from the CLI's flags (`https://host:port` with
//! `--admin-cert`, `--admin-key`, `--admin-ca`).

use std::time::Duration;

use anyhow::{bail, Context};
use http_body_util::{BodyExt, Empty};
use hyper::body::Bytes;
use hyper_util::rt::TokioIo;
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};

/// Largest response body accepted.
const MAX_BODY: usize = 16 << 20;

/// What stays as it is in a path segment or a query value: RFC 3986's unreserved characters.
/// Everything else (`/`, `?`, `#`, `&`, `=`, `+`, `%`, spaces, non-ASCII) is percent-encoded.
const COMPONENT: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_').remove(b'~');

/// `value` percent-encoded as one URL path segment or one query value, so that an argument
/// (a UETR, a tenant name) can neither add a path segment or query parameter nor make the URI
/// invalid. The admin API decodes it back.
#[must_use]
pub fn encode(value: &str) -> String {
    utf8_percent_encode(value, COMPONENT).to_string()
}

/// `?tenant=T` with `T` percent-encoded, or nothing.
#[must_use]
pub fn tenant_query(tenant: Option<&str>) -> String {
    tenant.map(|t| format!("?tenant={}", encode(t))).unwrap_or_default()
}

/// How the CLI authenticates to the admin API: a bearer token, a client certificate, or both.
#[derive(Debug, Clone, Default)]
pub struct AdminAuth {
    pub token: Option<String>,
    /// PEM certificate chain of the client certificate (`--admin-cert`).
    pub cert: Option<std::path::PathBuf>,
    /// PEM private key of the client certificate (`--admin-key`).
    pub key: Option<std::path::PathBuf>,
    /// PEM CA that issued the admin listener's server certificate (`--admin-ca`).
    pub ca: Option<std::path::PathBuf>,
    /// The name the server certificate must carry (`--admin-server-name`; default: the URL's host).
    pub server_name: Option<String>,
}

/// Where the admin API is and who is asking.
#[derive(Debug, Clone)]
pub struct AdminClient {
    /// `host:port`.
    authority: String,
    token: Option<String>,
    timeout: Duration,
    tls: Option<(std::sync::Arc<rustls::ClientConfig>, rustls::pki_types::ServerName<'static>)>,
}

impl AdminClient {
    /// `url` is `http://host:port` (a trailing `/` is fine).
    pub fn new(url: &str, token: Option<String>) -> anyhow::Result<Self> {
        let Some(rest) = url.strip_prefix("http://") else {
            bail!("--admin {url:?}: expected http://host:port");
        };
        let authority = rest.trim_end_matches('/');
        if authority.is_empty() || authority.contains('/') {
            bail!("--admin {url:?}: expected http://host:port without a path");
        }
        Ok(Self { authority: authority.to_owned(), token, timeout: Duration::from_secs(10), tls: None })
    }

    /// A client for `url` as `auth` says: `http://host:port` with a token, or
    /// `https://host:port` with `--admin-ca` and (usually) `--admin-cert` and `--admin-key`.
    /// Every error names the flag.
    pub fn from_auth(url: &str, auth: AdminAuth) -> anyhow::Result<Self> {
        let tls_flags = auth.cert.is_some() || auth.key.is_some() || auth.ca.is_some();
        let Some(rest) = url.strip_prefix("https://") else {
            if tls_flags {
                bail!("--admin {url:?}: --admin-cert, --admin-key and --admin-ca need https://host:port");
            }
            return Self::new(url, auth.token);
        };
        let authority = rest.trim_end_matches('/');
        if authority.is_empty() || authority.contains('/') {
            bail!("--admin {url:?}: expected https://host:port without a path");
        }
        let ca_path =
            auth.ca.as_ref().context("--admin-ca is required with https:// (the admin server's CA)")?;
        let ca = switchyard_wire::tls::load_ca(ca_path)
            .with_context(|| format!("--admin-ca {}", ca_path.display()))?;
        let identity = match (&auth.cert, &auth.key) {
            (Some(cert), Some(key)) => {
                Some(switchyard_wire::tls::Identity::load(cert, key).with_context(|| {
                    format!("--admin-cert {} / --admin-key {}", cert.display(), key.display())
                })?)
            }
            (None, None) => None,
            _ => bail!("--admin-cert and --admin-key go together"),
        };
        if identity.is_none() && auth.token.is_none() {
            bail!("--admin {url:?}: give --admin-cert and --admin-key, or --token");
        }
        let config = switchyard_wire::tls::client_config(&ca, identity.as_ref())
            .context("building the admin TLS client configuration")?;
        let host = authority.rsplit_once(':').map_or(authority, |(h, _)| h).trim_matches(['[', ']']);
        let server_name = auth.server_name.unwrap_or_else(|| host.to_owned());
        Self::with_tls(authority, &server_name, config, auth.token)
    }

    /// An admin listener with mutual TLS at `authority` (`host:port`) whose certificate carries
    /// `server_name`; `tls` holds the CA and, usually, the client certificate.
    pub fn with_tls(
        authority: &str,
        server_name: &str,
        tls: std::sync::Arc<rustls::ClientConfig>,
        token: Option<String>,
    ) -> anyhow::Result<Self> {
        let name = rustls::pki_types::ServerName::try_from(server_name.to_owned())
            .with_context(|| format!("{server_name:?} is not a DNS name or IP address"))?;
        // The admin listener speaks HTTP/1.1 whatever protocol `tls` was built for.
        let mut tls = std::sync::Arc::unwrap_or_clone(tls);
        tls.alpn_protocols = vec![crate::admin_tls::ADMIN_ALPN.to_vec()];
        let tls = std::sync::Arc::new(tls);
        Ok(Self {
            authority: authority.to_owned(),
            token,
            timeout: Duration::from_secs(10),
            tls: Some((tls, name)),
        })
    }

    /// `GET path`.
    pub async fn get(&self, path: &str) -> anyhow::Result<(u16, String)> {
        self.send(hyper::Method::GET, path).await
    }

    /// `POST path` without a body.
    pub async fn post(&self, path: &str) -> anyhow::Result<(u16, String)> {
        self.send(hyper::Method::POST, path).await
    }

    async fn send(&self, method: hyper::Method, path: &str) -> anyhow::Result<(u16, String)> {
        tokio::time::timeout(self.timeout, self.exchange(method, path)).await.with_context(|| {
            format!("admin API at {} did not answer within {:?}", self.authority, self.timeout)
        })?
    }

    async fn exchange(&self, method: hyper::Method, path: &str) -> anyhow::Result<(u16, String)> {
        let tcp = tokio::net::TcpStream::connect(&self.authority)
            .await
            .with_context(|| format!("connecting to the admin API at {}", self.authority))?;
        match &self.tls {
            None => self.request(TokioIo::new(tcp), method, path).await,
            Some((config, name)) => {
                let tls = tokio_rustls::TlsConnector::from(std::sync::Arc::clone(config))
                    .connect(name.clone(), tcp)
                    .await
                    .context("TLS handshake with the admin API")?;
                self.request(TokioIo::new(tls), method, path).await
            }
        }
    }

    async fn request<IO>(&self, io: IO, method: hyper::Method, path: &str) -> anyhow::Result<(u16, String)>
    where
        IO: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
    {
        let (mut sender, conn) = hyper::client::conn::http1::handshake(io).await?;
        let driver = tokio::spawn(conn);
        let mut request =
            hyper::Request::builder().method(method).uri(path).header(hyper::header::HOST, &self.authority);
        if let Some(token) = &self.token {
            request = request.header(hyper::header::AUTHORIZATION, format!("Bearer {token}"));
        }
        let response = match sender.send_request(request.body(Empty::<Bytes>::new())?).await {
            Ok(response) => response,
            // A TLS listener answers a plain HTTP request with a TLS alert (or nothing), which
            // hyper reports as "invalid HTTP version parsed": say what is likely wrong.
            Err(e) if self.tls.is_none() && (e.is_parse() || e.is_incomplete_message()) => {
                return Err(anyhow::Error::new(e).context(format!(
                    "the admin API at {0} did not answer in plain HTTP: the listener may be TLS \
                     (admin mutual TLS); use --admin https://{0} with --admin-ca, --admin-cert and \
                     --admin-key",
                    self.authority
                )));
            }
            Err(e) => return Err(e.into()),
        };
        let status = response.status().as_u16();
        let body = http_body_util::Limited::new(response.into_body(), MAX_BODY)
            .collect()
            .await
            .map_err(|e| anyhow::anyhow!("reading the admin API's answer: {e}"))?
            .to_bytes();
        driver.abort();
        Ok((status, String::from_utf8_lossy(&body).into_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::{encode, tenant_query};

    #[test]
    fn path_segments_and_query_values_are_percent_encoded() {
        assert_eq!(encode("0f5a2c1e-7b3d-4e9a-8c6f-1d2e3f4a5b6c"), "0f5a2c1e-7b3d-4e9a-8c6f-1d2e3f4a5b6c");
        assert_eq!(encode("a/b?c#d"), "a%2Fb%3Fc%23d");
        assert_eq!(encode("bank a&x=1+%"), "bank%20a%26x%3D1%2B%25");
        assert_eq!(encode("bänk~_."), "b%C3%A4nk~_.");
        assert_eq!(tenant_query(Some("bank-a&x=1")), "?tenant=bank-a%26x%3D1");
        assert_eq!(tenant_query(None), "");
    }
}
