//! TLS for `jobsql serve` (`--tls-cert`, `--tls-key`): rustls over ring, no OpenSSL.
//!
//! [`TlsFiles::acceptor`] reads the PEM certificate chain and private key once, at start, and
//! builds the acceptor pgwire upgrades a connection with after answering its `SSLRequest` with
//! `S` (and a direct TLS connection, `sslnegotiation=direct`, ALPN `postgresql`). Without TLS
//! configured an `SSLRequest` is answered `N`, as before.
//!
//! With TLS configured, every session is encrypted: a client that starts in clear
//! (`sslmode=disable`, or `allow` on its first try) is refused with `28000` before it is asked
//! for a password ([`clear_text_refused`]). A `CancelRequest` in clear is still accepted — libpq
//! up to 16 (psql 15's Ctrl-C) sends it on a plain connection; it carries only the connection's
//! random key, as with Postgres.
//!
//! Bad files are a one-line [`TlsError`] naming the file.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use pgwire::error::{ErrorInfo, PgWireError};
use pgwire::tokio::tokio_rustls::rustls::{self, ServerConfig};
use pgwire::tokio::TlsAcceptor;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};

/// Why the TLS files cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// A file cannot be read.
    #[error("cannot read {what} {}: {source}", path.display())]
    Read {
        /// `--tls-cert` or `--tls-key`.
        what: &'static str,
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// A file holds no PEM item of the kind needed (or a malformed one).
    #[error("{what} {}: {problem}", path.display())]
    Pem {
        /// `--tls-cert` or `--tls-key`.
        what: &'static str,
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        problem: String,
    },
    /// Only one of `--tls-cert` and `--tls-key`.
    #[error("--tls-cert and --tls-key go together: give both, or neither")]
    Incomplete,
    /// rustls refuses the pair (the key does not match the certificate, an unsupported key).
    #[error("--tls-cert {} with --tls-key {}: {source}", cert.display(), key.display())]
    Config {
        /// The certificate file.
        cert: PathBuf,
        /// The key file.
        key: PathBuf,
        /// The cause.
        source: rustls::Error,
    },
}

/// The PEM files of `--tls-cert` and `--tls-key`.
#[derive(Debug, Clone)]
pub struct TlsFiles {
    /// The certificate chain, the server's certificate first.
    pub cert: PathBuf,
    /// The private key (PKCS#8, PKCS#1 RSA or SEC1 EC).
    pub key: PathBuf,
}

impl TlsFiles {
    /// The files from the two options: both or neither.
    pub fn from_options(
        cert: Option<PathBuf>,
        key: Option<PathBuf>,
    ) -> Result<Option<TlsFiles>, TlsError> {
        match (cert, key) {
            (Some(cert), Some(key)) => Ok(Some(TlsFiles { cert, key })),
            (None, None) => Ok(None),
            _ => Err(TlsError::Incomplete),
        }
    }

    /// The certificate file's PEM text (channel binding hashes its first certificate).
    pub fn cert_pem(&self) -> Result<Vec<u8>, TlsError> {
        read("--tls-cert", &self.cert)
    }

    /// Read and check both files; the acceptor for the server.
    pub fn acceptor(&self) -> Result<TlsAcceptor, TlsError> {
        let pem = self.cert_pem()?;
        let chain = CertificateDer::pem_slice_iter(&pem)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| pem_error("--tls-cert", &self.cert, e))?;
        if chain.is_empty() {
            return Err(pem_error(
                "--tls-cert",
                &self.cert,
                rustls_pki_types::pem::Error::NoItemsFound,
            ));
        }
        let key = PrivateKeyDer::from_pem_slice(&read("--tls-key", &self.key)?)
            .map_err(|e| pem_error("--tls-key", &self.key, e))?;
        let config_error = |source| TlsError::Config {
            cert: self.cert.clone(),
            key: self.key.clone(),
            source,
        };
        let mut config =
            ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
                .with_safe_default_protocol_versions()
                .map_err(config_error)?
                .with_no_client_auth()
                .with_single_cert(chain, key)
                .map_err(config_error)?;
        // Direct TLS (libpq 17's sslnegotiation=direct) names the protocol by ALPN.
        config.alpn_protocols = vec![b"postgresql".to_vec()];
        Ok(TlsAcceptor::from(Arc::new(config)))
    }
}

fn read(what: &'static str, path: &Path) -> Result<Vec<u8>, TlsError> {
    std::fs::read(path).map_err(|source| TlsError::Read {
        what,
        path: path.to_path_buf(),
        source,
    })
}

fn pem_error(what: &'static str, path: &Path, e: rustls_pki_types::pem::Error) -> TlsError {
    let problem = match e {
        rustls_pki_types::pem::Error::NoItemsFound if what == "--tls-key" => {
            "no PEM private key in it".to_string()
        }
        rustls_pki_types::pem::Error::NoItemsFound => "no PEM certificate in it".to_string(),
        other => format!("not valid PEM ({other})"),
    };
    TlsError::Pem {
        what,
        path: path.to_path_buf(),
        problem,
    }
}

/// The error of a session started in clear on a server with TLS (SQLSTATE 28000, as Postgres'
/// `hostssl`-only refusal).
pub fn clear_text_refused() -> PgWireError {
    PgWireError::UserError(Box::new(ErrorInfo::new(
        "FATAL".to_string(),
        "28000".to_string(),
        "this server accepts TLS connections only: connect with sslmode=require".to_string(),
    )))
}

/// The error of a certificate pgwire cannot hash for SCRAM channel binding.
pub fn channel_binding_error(files: Option<&TlsFiles>, e: PgWireError) -> TlsError {
    TlsError::Pem {
        what: "--tls-cert",
        path: files.map(|f| f.cert.clone()).unwrap_or_default(),
        problem: format!("cannot be used for SCRAM channel binding ({e})"),
    }
}
