//! TLS to PostgreSQL the way libpq does it: the URL's `sslmode` and `sslrootcert` decide
//! whether TLS is used and what is verified, with rustls (the `ring` provider) doing the work.
//!
//! | `sslmode`             | TLS                          | verified                          |
//! |-----------------------|------------------------------|-----------------------------------|
//! | `disable`             | never                        | —                                 |
//! | `prefer` (default)    | when the server offers it    | nothing                           |
//! | `require`             | always                       | nothing; the chain when `sslrootcert` is given (libpq) |
//! | `verify-ca`           | always                       | the chain                         |
//! | `verify-full`         | always                       | the chain and the host name       |
//!
//! `sslrootcert` is a PEM file of CA certificates, or `system`; absent, the operating system's
//! roots are used (libpq would read `~/.postgresql/root.crt`). tokio-postgres knows neither
//! `verify-*` nor `sslrootcert`, so both are taken out of the URL before it parses the rest.

use std::path::PathBuf;
use std::sync::Arc;

use percent_encoding::percent_decode_str;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::WebPkiServerVerifier;
use rustls::crypto::{verify_tls12_signature, verify_tls13_signature, CryptoProvider};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{
    CertificateError, ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme,
};
use tokio_postgres_rustls::MakeRustlsConnect;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SslMode {
    Disable,
    Prefer,
    Require,
    VerifyCa,
    VerifyFull,
}

impl SslMode {
    fn parse(text: &str) -> Result<SslMode, String> {
        Ok(match text {
            "disable" => SslMode::Disable,
            "prefer" => SslMode::Prefer,
            "require" => SslMode::Require,
            "verify-ca" => SslMode::VerifyCa,
            "verify-full" => SslMode::VerifyFull,
            "allow" => {
                return Err("sslmode=allow is not supported (use prefer, or disable)".to_string())
            }
            other => {
                return Err(format!(
                "sslmode={other:?} is not one of disable, prefer, require, verify-ca, verify-full"
            ))
            }
        })
    }
}

/// Where the CA certificates come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RootCerts {
    System,
    File(PathBuf),
}

/// A `postgres://` URL taken apart: what tokio-postgres connects with, and the TLS policy.
#[derive(Debug, Clone)]
pub struct PgTarget {
    pub config: tokio_postgres::Config,
    pub mode: SslMode,
    /// `None`: no `sslrootcert` in the URL.
    pub root_certs: Option<RootCerts>,
}

/// Parses a `postgres://` / `postgresql://` URL with libpq's TLS parameters. The error never
/// quotes the URL (it may hold a password).
pub fn parse_url(url: &str) -> Result<PgTarget, String> {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let mut mode = None;
    let mut root_certs = None;
    let mut kept = Vec::new();
    for pair in query.into_iter().flat_map(|q| q.split('&')) {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        let decoded = || {
            percent_decode_str(value)
                .decode_utf8()
                .map(|v| v.into_owned())
                .map_err(|_| format!("{key} is not valid UTF-8"))
        };
        match key {
            "sslmode" => mode = Some(SslMode::parse(&decoded()?)?),
            "sslrootcert" => {
                let v = decoded()?;
                root_certs = Some(match v.as_str() {
                    "" => return Err("sslrootcert is empty".into()),
                    "system" => RootCerts::System,
                    path => RootCerts::File(PathBuf::from(path)),
                });
            }
            _ => kept.push(pair),
        }
    }
    // libpq: `sslrootcert=system` implies verify-full and refuses anything weaker (the system
    // roots vouch for names, not for one server).
    let mode = match (mode, &root_certs) {
        (None, Some(RootCerts::System)) => SslMode::VerifyFull,
        (Some(m), Some(RootCerts::System)) if m != SslMode::VerifyFull => {
            return Err("sslrootcert=system needs sslmode=verify-full".into())
        }
        (m, _) => m.unwrap_or(SslMode::Prefer),
    };
    let rest = if kept.is_empty() {
        base.to_string()
    } else {
        format!("{base}?{}", kept.join("&"))
    };
    let mut config: tokio_postgres::Config = rest.parse().map_err(|e| {
        format!(
            "not a valid PostgreSQL URL: {}",
            super::pg_pool::error_chain(&e)
        )
    })?;
    config.ssl_mode(match mode {
        SslMode::Disable => tokio_postgres::config::SslMode::Disable,
        SslMode::Prefer => tokio_postgres::config::SslMode::Prefer,
        _ => tokio_postgres::config::SslMode::Require,
    });
    Ok(PgTarget {
        config,
        mode,
        root_certs,
    })
}

fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

fn load_roots(source: &RootCerts) -> Result<RootCertStore, String> {
    let mut roots = RootCertStore::empty();
    match source {
        RootCerts::File(path) => {
            let certs = CertificateDer::pem_file_iter(path)
                .and_then(|it| it.collect::<Result<Vec<_>, _>>())
                .map_err(|e| format!("cannot read sslrootcert {}: {e}", path.display()))?;
            let (added, _) = roots.add_parsable_certificates(certs);
            if added == 0 {
                return Err(format!(
                    "sslrootcert {} holds no usable PEM certificate",
                    path.display()
                ));
            }
        }
        RootCerts::System => {
            let found = rustls_native_certs::load_native_certs();
            let (added, _) = roots.add_parsable_certificates(found.certs);
            if added == 0 {
                let why = found
                    .errors
                    .first()
                    .map(|e| format!(": {e}"))
                    .unwrap_or_default();
                return Err(format!(
                    "no CA certificates in the system store{why} (set sslrootcert to a PEM file)"
                ));
            }
        }
    }
    Ok(roots)
}

/// The TLS connector for `target`; `None` for `sslmode=disable`.
pub fn connector(target: &PgTarget) -> Result<Option<MakeRustlsConnect>, String> {
    let provider = provider();
    let chain_roots = match (target.mode, &target.root_certs) {
        (SslMode::Disable, _) => return Ok(None),
        (SslMode::Prefer, _) | (SslMode::Require, None) => None,
        (SslMode::Require | SslMode::VerifyCa, roots) => {
            Some((false, roots.clone().unwrap_or(RootCerts::System)))
        }
        (SslMode::VerifyFull, roots) => Some((true, roots.clone().unwrap_or(RootCerts::System))),
    };
    let verifier: Arc<dyn ServerCertVerifier> = match chain_roots {
        None => Arc::new(Unverified(provider.clone())),
        Some((check_name, source)) => {
            let webpki = WebPkiServerVerifier::builder_with_provider(
                Arc::new(load_roots(&source)?),
                provider.clone(),
            )
            .build()
            .map_err(|e| format!("cannot use the CA certificates: {e}"))?;
            if check_name {
                webpki
            } else {
                Arc::new(ChainOnly(webpki))
            }
        }
    };
    let config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS setup failed: {e}"))?
        .dangerous()
        .with_custom_certificate_verifier(verifier)
        .with_no_client_auth();
    Ok(Some(MakeRustlsConnect::new(config)))
}

/// `prefer` and `require` without `sslrootcert`: encrypted, but any certificate is accepted
/// (libpq's behaviour; it protects against passive listeners only). The handshake signatures
/// are still checked, so the server holds the key of the certificate it shows.
#[derive(Debug)]
struct Unverified(Arc<CryptoProvider>);

impl ServerCertVerifier for Unverified {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

/// `verify-ca`: the chain must lead to a trusted CA; the host name is not compared. webpki
/// checks the chain before the name, so a name mismatch means the chain was fine.
#[derive(Debug)]
struct ChainOnly(Arc<WebPkiServerVerifier>);

impl ServerCertVerifier for ChainOnly {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        match self
            .0
            .verify_server_cert(end_entity, intermediates, server_name, ocsp, now)
        {
            Err(rustls::Error::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
            )) => Ok(ServerCertVerified::assertion()),
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.supported_verify_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tls_parameters_come_out_of_the_url() {
        let t = parse_url("postgres://u:pw@db.example:5433/app").unwrap();
        assert_eq!(t.mode, SslMode::Prefer);
        assert_eq!(t.root_certs, None);
        assert_eq!(t.config.get_dbname(), Some("app"));
        let t = parse_url(
            "postgresql://u@h/app?sslmode=verify-full&sslrootcert=%2Fetc%2Fca.pem&connect_timeout=3",
        )
        .unwrap();
        assert_eq!(t.mode, SslMode::VerifyFull);
        assert_eq!(t.root_certs, Some(RootCerts::File("/etc/ca.pem".into())));
        assert_eq!(
            t.config.get_connect_timeout(),
            Some(&std::time::Duration::from_secs(3))
        );
        assert_eq!(
            t.config.get_ssl_mode(),
            tokio_postgres::config::SslMode::Require
        );
        let t = parse_url("postgres://h/db?sslrootcert=system").unwrap();
        assert_eq!(t.mode, SslMode::VerifyFull);
        for (url, needle) in [
            ("postgres://h/db?sslmode=verify", "not one of"),
            ("postgres://h/db?sslmode=allow", "not supported"),
            (
                "postgres://h/db?sslmode=require&sslrootcert=system",
                "verify-full",
            ),
            ("postgres://h/db?sslrootcert=", "empty"),
            ("postgres://u:secretpw@h/db?nonsense=1", "unknown option"),
        ] {
            let e = parse_url(url).unwrap_err();
            assert!(e.contains(needle), "{url}: {e}");
            assert!(!e.contains("secretpw"), "{e}");
        }
    }

    #[test]
    fn connectors_by_mode() {
        let c = |url: &str| connector(&parse_url(url).unwrap());
        assert!(c("postgres://h/db?sslmode=disable").unwrap().is_none());
        assert!(c("postgres://h/db").unwrap().is_some());
        assert!(c("postgres://h/db?sslmode=require").unwrap().is_some());
        let e = c("postgres://h/db?sslmode=verify-ca&sslrootcert=/nonexistent/ca.pem")
            .err()
            .unwrap();
        assert!(
            e.contains("cannot read sslrootcert /nonexistent/ca.pem"),
            "{e}"
        );
    }
}
