//! Opening the link: TCP with TCP_NODELAY, the TLS handshake, the default EHLO name and the
//! SCRAM nonce.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use tokio::net::TcpStream;
use tokio::time::timeout;

use super::stream::Stream;
use crate::config::ClientConfig;
use crate::error::{Error, Phase};

pub(super) async fn connect_tcp(config: &ClientConfig) -> Result<TcpStream, Error> {
    let address = format!("{}:{}", config.host, config.port);
    let host = config.host.trim_start_matches('[').trim_end_matches(']');
    let connect_error = |source| Error::Connect {
        address: address.clone(),
        source,
    };
    let attempt = async {
        let mut last = None;
        for addr in tokio::net::lookup_host((host, config.port)).await? {
            match TcpStream::connect(addr).await {
                Ok(tcp) => return Ok(tcp),
                Err(e) => last = Some(e),
            }
        }
        Err(last.unwrap_or_else(|| std::io::Error::other("host name resolved to no address")))
    };
    let tcp = match timeout(config.timeouts.connect, attempt).await {
        Ok(result) => result.map_err(connect_error)?,
        Err(_) => {
            return Err(Error::Timeout {
                phase: Phase::Connect,
            });
        }
    };
    // Small command groups and the final dot must never wait on Nagle's algorithm.
    tcp.set_nodelay(true).map_err(connect_error)?;
    Ok(tcp)
}

pub(super) type TlsSetup = (
    Arc<rustls::ClientConfig>,
    rustls_pki_types::ServerName<'static>,
);

pub(super) async fn handshake(
    tcp: TcpStream,
    tls: Option<&TlsSetup>,
    limit: Duration,
) -> Result<Stream, Error> {
    let Some((config, name)) = tls else {
        return Err(Error::tls("TLS is not configured"));
    };
    let connector = tokio_rustls::TlsConnector::from(config.clone());
    match timeout(limit, connector.connect(name.clone(), tcp)).await {
        Ok(Ok(stream)) => Ok(Stream::Tls(Box::new(stream))),
        // rustls reports what it refuses (a certificate, a protocol) as invalid data; anything
        // else is the connection failing under it, which may go better next time.
        Ok(Err(e)) if e.kind() != std::io::ErrorKind::InvalidData => Err(Error::Io {
            phase: Phase::TlsHandshake,
            source: e,
        }),
        Ok(Err(e)) => Err(Error::Tls {
            message: "handshake failed".into(),
            source: Some(Box::new(e)),
        }),
        Err(_) => Err(Error::Timeout {
            phase: Phase::TlsHandshake,
        }),
    }
}

pub(super) fn fresh_nonce() -> String {
    use ring::rand::SecureRandom;
    let mut bytes = [0u8; 18];
    if ring::rand::SystemRandom::new().fill(&mut bytes).is_err() {
        let t = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        bytes[..16].copy_from_slice(&t.as_nanos().to_le_bytes());
    }
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// The default EHLO name: the host's FQDN, else an address literal of the local address.
pub(crate) fn default_ehlo_name(local: SocketAddr) -> String {
    // A short host name is not resolved to its FQDN (no canonical-name lookup): such hosts
    // announce an address literal instead.
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
