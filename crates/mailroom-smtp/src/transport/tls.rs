//! TLS client configuration: rustls with the ring provider, verification always on.

use std::sync::{Arc, OnceLock};

use rustls::RootCertStore;
use rustls_pki_types::ServerName;

use crate::config::ClientConfig;
use crate::error::Error;

/// The default trust anchors: webpki-roots plus the platform's certificates, loaded once.
fn default_roots() -> &'static RootCertStore {
    static ROOTS: OnceLock<RootCertStore> = OnceLock::new();
    ROOTS.get_or_init(|| {
        let mut roots = RootCertStore {
            roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
        };
        let native = rustls_native_certs::load_native_certs();
        let (added, ignored) = roots.add_parsable_certificates(native.certs);
        tracing::debug!(added, ignored, "loaded platform trust anchors");
        roots
    })
}

/// Builds the rustls client configuration for `config`.
pub(crate) fn client_config(config: &ClientConfig) -> Result<Arc<rustls::ClientConfig>, Error> {
    let mut roots = default_roots().clone();
    for cert in &config.extra_roots {
        roots
            .add(cert.clone())
            .map_err(|e| Error::input(format!("unusable extra trust anchor: {e}")))?;
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let tls = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| Error::Tls {
            message: "no usable protocol version".into(),
            source: Some(Box::new(e)),
        })?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Arc::new(tls))
}

/// The name the certificate must match.
pub(crate) fn server_name(config: &ClientConfig) -> Result<ServerName<'static>, Error> {
    let name = config.tls_server_name.as_deref().unwrap_or(&config.host);
    let name = name.trim_start_matches('[').trim_end_matches(']');
    ServerName::try_from(name.to_owned())
        .map_err(|_| Error::input(format!("{name:?} is not a valid TLS server name")))
}
