use std::fs;
use std::path::{Path, PathBuf};

use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair, SanType};
use tempfile::TempDir;

/// A certificate authority made for one test, and a server certificate it signed for
/// `localhost` and `127.0.0.1`, written as PEM files in a private directory.
pub struct TestCerts {
    dir: TempDir,
    /// The CA certificate (PEM): the trust anchor a client must be given.
    pub ca_pem: String,
}

impl TestCerts {
    /// Generates a fresh CA and server certificate.
    pub fn generate() -> TestCerts {
        let mut ca_params = CertificateParams::new(Vec::<String>::new()).expect("ca params");
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca_params
            .distinguished_name
            .push(DnType::CommonName, "mailroom test CA");
        let ca_key = KeyPair::generate().expect("ca key");
        let ca = CertifiedIssuer::self_signed(ca_params, ca_key).expect("self-signed CA");

        let mut params =
            CertificateParams::new(vec!["localhost".to_string()]).expect("server params");
        params
            .subject_alt_names
            .push(SanType::IpAddress([127, 0, 0, 1].into()));
        params
            .distinguished_name
            .push(DnType::CommonName, "localhost");
        let key = KeyPair::generate().expect("server key");
        let cert = params.signed_by(&key, &ca).expect("server certificate");

        let dir = tempfile::Builder::new()
            .prefix("mailroom-certs")
            .tempdir()
            .expect("tempdir");
        let ca_pem = ca.pem();
        fs::write(dir.path().join("ca.pem"), &ca_pem).expect("write ca.pem");
        fs::write(dir.path().join("cert.pem"), cert.pem()).expect("write cert.pem");
        fs::write(dir.path().join("key.pem"), key.serialize_pem()).expect("write key.pem");
        TestCerts { dir, ca_pem }
    }

    /// The CA certificate file, for `--ca-file`.
    pub fn ca_path(&self) -> PathBuf {
        self.dir.path().join("ca.pem")
    }

    /// The server certificate file.
    pub fn cert_path(&self) -> PathBuf {
        self.dir.path().join("cert.pem")
    }

    /// The server's private key file.
    pub fn key_path(&self) -> PathBuf {
        self.dir.path().join("key.pem")
    }

    /// The directory holding the three files.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }
}
