//! TLS for `wss://`: what the fuzzing client trusts, and the certificate the
//! fuzzing and echo servers present (`-c/--cert`, `-k/--key`, or the
//! fuzzingserver spec's `cert`/`key`, as in the reference).
//!
//! rustls with the ring provider, through autostrada's re-exports.

use std::path::Path;
use std::sync::Arc;

use autostrada::rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use autostrada::rustls::crypto::{CryptoProvider, verify_tls12_signature, verify_tls13_signature};
use autostrada::rustls::pki_types::pem::PemObject;
use autostrada::rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use autostrada::rustls::{self, ClientConfig, DigitallySignedStruct, RootCertStore, ServerConfig, SignatureScheme};
use autostrada::tokio_rustls::{TlsAcceptor, TlsConnector};

/// The upgrade is an HTTP/1.1 request (RFC 6455 §4.1).
const ALPN: &[u8] = b"http/1.1";

fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// How the fuzzing client checks a `wss://` server's certificate.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Trust {
    /// The Mozilla roots (webpki-roots): public servers.
    #[default]
    PublicRoots,
    /// Exactly the certificates in this PEM file (a test or company CA).
    Ca(std::path::PathBuf),
    /// Any certificate, for self-signed test servers. The handshake's
    /// signatures are still checked; who signed the certificate is not.
    SkipVerify,
}

/// The connector of a `wss://` server in a spec.
#[derive(Clone)]
pub struct ClientTls(pub TlsConnector);

impl std::fmt::Debug for ClientTls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ClientTls(..)")
    }
}

/// A connector for `wss://` servers trusted as `trust` says.
///
/// # Errors
/// The CA file cannot be read or holds no certificate.
pub fn connector(trust: &Trust) -> Result<TlsConnector, String> {
    client_config(trust).map(TlsConnector::from)
}

/// The rustls client configuration for `trust` (ALPN `http/1.1`).
///
/// # Errors
/// As [`connector`].
pub fn client_config(trust: &Trust) -> Result<Arc<ClientConfig>, String> {
    let builder = ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?;
    let mut config = match trust {
        Trust::PublicRoots => {
            let roots = RootCertStore { roots: webpki_roots::TLS_SERVER_ROOTS.to_vec() };
            builder.with_root_certificates(roots).with_no_client_auth()
        }
        Trust::Ca(path) => {
            let mut roots = RootCertStore::empty();
            let certs = CertificateDer::pem_file_iter(path)
                .map_err(|e| format!("{}: {e}", path.display()))?
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| format!("{}: {e}", path.display()))?;
            let (added, _) = roots.add_parsable_certificates(certs);
            if added == 0 {
                return Err(format!("{}: no usable PEM certificate in the file", path.display()));
            }
            builder.with_root_certificates(roots).with_no_client_auth()
        }
        Trust::SkipVerify => builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(AnyCertificate(provider())))
            .with_no_client_auth(),
    };
    config.alpn_protocols = vec![ALPN.to_vec()];
    Ok(Arc::new(config))
}

/// An acceptor presenting the certificate chain in `cert` (PEM, the
/// server's own first) with the private key in `key` (PEM: PKCS#8, PKCS#1
/// or SEC1).
///
/// # Errors
/// A file cannot be read, holds no certificate or key, or the key does not
/// fit the certificate.
pub fn acceptor(cert: &Path, key: &Path) -> Result<TlsAcceptor, String> {
    let chain = CertificateDer::pem_file_iter(cert)
        .map_err(|e| format!("certificate {}: {e}", cert.display()))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("certificate {}: {e}", cert.display()))?;
    if chain.is_empty() {
        return Err(format!("certificate {}: no PEM certificate in the file", cert.display()));
    }
    let key = PrivateKeyDer::from_pem_file(key).map_err(|e| format!("key {}: {e}", key.display()))?;
    let mut config = ServerConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .map_err(|e| format!("certificate {} and its key: {e}", cert.display()))?;
    config.alpn_protocols = vec![ALPN.to_vec()];
    Ok(TlsAcceptor::from(Arc::new(config)))
}

/// Accepts any server certificate (spec option `"skip-verify": true`).
#[derive(Debug)]
struct AnyCertificate(Arc<CryptoProvider>);

impl ServerCertVerifier for AnyCertificate {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
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
        verify_tls12_signature(message, cert, dss, &self.0.signature_verification_algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(message, cert, dss, &self.0.signature_verification_algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}
