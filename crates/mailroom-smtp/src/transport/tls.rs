//! TLS client configuration: rustls with the ring provider, verification always on.

use std::net::{IpAddr, SocketAddr};
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

/// The default EHLO name: the host's FQDN, else an address literal of the local address.
pub(crate) fn default_ehlo_name(local: SocketAddr) -> String {
    if let Some(name) = hostname::get().ok().and_then(|h| h.into_string().ok()) {
        let valid = name.contains('.')
            && !name.starts_with('.')
            && !name.ends_with('.')
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.');
        if valid {
            return name;
        }
    }
    address_literal(local.ip())
}

/// `[192.0.2.1]`, `[IPv6:2001:db8::1]`; an IPv4-mapped IPv6 address is written as IPv4.
pub(crate) fn address_literal(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(v4) => format!("[{v4}]"),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => format!("[{v4}]"),
            None => format!("[IPv6:{v6}]"),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn address_literals_follow_rfc_5321() {
        assert_eq!(address_literal("192.0.2.7".parse().unwrap()), "[192.0.2.7]");
        assert_eq!(
            address_literal("2001:db8::1".parse().unwrap()),
            "[IPv6:2001:db8::1]"
        );
        assert_eq!(
            address_literal("::ffff:192.0.2.7".parse().unwrap()),
            "[192.0.2.7]"
        );
    }
}
