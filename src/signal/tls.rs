//! TLS for HTTPS/WSS: the operator's PEM files, or a self-signed localhost certificate.

use std::path::Path;
use std::sync::Arc;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio_rustls::rustls::ServerConfig;
use tokio_rustls::TlsAcceptor;

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TlsError {
    #[error("{path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("{0}: no certificate found in PEM file")]
    NoCert(String),
    #[error("{0}: no private key found in PEM file")]
    NoKey(String),
    #[error("TLS setup: {0}")]
    Rustls(#[from] tokio_rustls::rustls::Error),
    #[error("self-signed certificate: {0}")]
    Generate(#[from] rcgen::Error),
}

fn provider() -> Arc<tokio_rustls::rustls::crypto::CryptoProvider> {
    Arc::new(tokio_rustls::rustls::crypto::ring::default_provider())
}

fn acceptor(
    certs: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
) -> Result<TlsAcceptor, TlsError> {
    let mut config = ServerConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()?
        .with_no_client_auth()
        .with_single_cert(certs, key)?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(TlsAcceptor::from(Arc::new(config)))
}

/// Loads a certificate chain and key from PEM files.
///
/// # Errors
/// [`TlsError`] naming the file that could not be read or used.
pub fn from_pem_files(cert: &Path, key: &Path) -> Result<TlsAcceptor, TlsError> {
    let read = |p: &Path| {
        std::fs::read(p).map_err(|source| TlsError::Read {
            path: p.display().to_string(),
            source,
        })
    };
    let cert_pem = read(cert)?;
    let key_pem = read(key)?;
    let certs: Vec<_> = rustls_pemfile::certs(&mut cert_pem.as_slice())
        .filter_map(Result::ok)
        .collect();
    if certs.is_empty() {
        return Err(TlsError::NoCert(cert.display().to_string()));
    }
    let key = rustls_pemfile::private_key(&mut key_pem.as_slice())
        .ok()
        .flatten()
        .ok_or_else(|| TlsError::NoKey(key.display().to_string()))?;
    acceptor(certs, key)
}

/// A self-signed certificate for `localhost` and 127.0.0.1, for trying HTTPS without a CA.
///
/// # Errors
/// [`TlsError`] when generation fails.
pub fn self_signed() -> Result<TlsAcceptor, TlsError> {
    let cert = rcgen::generate_simple_self_signed(vec!["localhost".into(), "127.0.0.1".into()])?;
    let key = PrivateKeyDer::try_from(cert.signing_key.serialize_der())
        .map_err(|_| TlsError::NoKey("generated".into()))?;
    acceptor(vec![cert.cert.der().clone()], key)
}
