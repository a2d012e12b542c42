//! Connection settings: server, TLS, timeouts, credentials and extension switches.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use rustls_pki_types::CertificateDer;
use zeroize::Zeroize;

use crate::error::Error;
use crate::event::TranscriptSink;

/// How the connection is secured.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum TlsMode {
    /// STARTTLS is required: a server that does not offer it is a hard failure.
    #[default]
    StartTls,
    /// TLS from the first byte (usually port 465).
    Implicit,
    /// No TLS at all.
    None,
}

/// Per-phase timeouts; the defaults follow RFC 5321 section 4.5.3.2.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Timeouts {
    /// TCP connect and TLS handshake.
    pub connect: Duration,
    /// The initial 220 greeting.
    pub greeting: Duration,
    /// EHLO, HELO, STARTTLS, AUTH, RSET and QUIT replies.
    pub command: Duration,
    /// The reply to MAIL.
    pub mail: Duration,
    /// The reply to each RCPT.
    pub rcpt: Duration,
    /// The 354 go-ahead after DATA.
    pub data_go: Duration,
    /// Writing each block of message data (and each BDAT reply).
    pub data_block: Duration,
    /// The reply after the final dot.
    pub data_done: Duration,
}

impl Default for Timeouts {
    fn default() -> Timeouts {
        let min = |m: u64| Duration::from_secs(m * 60);
        Timeouts {
            connect: min(2),
            greeting: min(5),
            command: min(5),
            mail: min(5),
            rcpt: min(5),
            data_go: min(2),
            data_block: min(3),
            data_done: min(10),
        }
    }
}

impl Timeouts {
    /// The same timeout for every phase.
    pub fn uniform(limit: Duration) -> Timeouts {
        Timeouts {
            connect: limit,
            greeting: limit,
            command: limit,
            mail: limit,
            rcpt: limit,
            data_go: limit,
            data_block: limit,
            data_done: limit,
        }
    }
}

/// A secret string: `Debug` prints `***`, and the memory is zeroed on drop.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret value.
    pub fn new(value: impl Into<String>) -> Secret {
        Secret(value.into())
    }

    /// Runs a program and takes its standard output, trailing newline removed, as the secret
    /// (for example an OAuth token helper).
    pub fn from_command(program: &str, args: &[&str]) -> Result<Secret, Error> {
        let output = std::process::Command::new(program)
            .args(args)
            .stdin(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .output()
            .map_err(|e| Error::input(format!("cannot run secret command {program:?}: {e}")))?;
        if !output.status.success() {
            return Err(Error::input(format!(
                "secret command {program:?} failed with {}",
                output.status
            )));
        }
        let mut bytes = output.stdout;
        let text = String::from_utf8(bytes.clone());
        bytes.zeroize();
        let mut text = text
            .map_err(|_| Error::input(format!("secret command {program:?} printed non-UTF-8")))?;
        while text.ends_with('\n') || text.ends_with('\r') {
            text.pop();
        }
        Ok(Secret(text))
    }

    /// The secret value.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

impl Drop for Secret {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

/// A login name and its secret (a password, or a bearer token for the OAuth mechanisms).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Credentials {
    /// Login name.
    pub username: String,
    /// Password, or OAuth 2 access token for XOAUTH2 and OAUTHBEARER.
    pub password: Secret,
}

impl Credentials {
    /// Builds credentials from a name and a secret.
    pub fn new(username: impl Into<String>, password: impl Into<String>) -> Credentials {
        Credentials {
            username: username.into(),
            password: Secret::new(password),
        }
    }
}

/// A SASL mechanism this client implements.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Mechanism {
    /// SCRAM-SHA-256 (RFC 7677), without channel binding.
    ScramSha256,
    /// OAUTHBEARER (RFC 7628); the secret is an access token.
    OAuthBearer,
    /// XOAUTH2 (Google's pre-standard form); the secret is an access token.
    XOAuth2,
    /// CRAM-MD5 (RFC 2195).
    CramMd5,
    /// PLAIN (RFC 4616).
    Plain,
    /// LOGIN (draft-murchison-sasl-login).
    Login,
}

impl Mechanism {
    /// Every mechanism, strongest first.
    pub const ALL: [Mechanism; 6] = [
        Mechanism::ScramSha256,
        Mechanism::OAuthBearer,
        Mechanism::XOAuth2,
        Mechanism::CramMd5,
        Mechanism::Plain,
        Mechanism::Login,
    ];

    /// The name used in EHLO and AUTH.
    pub fn name(self) -> &'static str {
        match self {
            Mechanism::ScramSha256 => "SCRAM-SHA-256",
            Mechanism::OAuthBearer => "OAUTHBEARER",
            Mechanism::XOAuth2 => "XOAUTH2",
            Mechanism::CramMd5 => "CRAM-MD5",
            Mechanism::Plain => "PLAIN",
            Mechanism::Login => "LOGIN",
        }
    }

    /// Parses a mechanism name (any case).
    pub fn from_name(name: &str) -> Option<Mechanism> {
        Mechanism::ALL
            .into_iter()
            .find(|m| m.name().eq_ignore_ascii_case(name))
    }

    /// Whether the secret is a bearer token rather than a password.
    pub fn uses_token(self) -> bool {
        matches!(self, Mechanism::OAuthBearer | Mechanism::XOAuth2)
    }
}

/// Switches to stop using an extension that a server advertises but mishandles.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Disabled {
    /// Do not pipeline commands.
    pub pipelining: bool,
    /// Use DATA rather than BDAT.
    pub chunking: bool,
    /// Never send `BODY=8BITMIME`.
    pub eight_bit_mime: bool,
    /// Never send `SMTPUTF8`.
    pub smtputf8: bool,
    /// Never send the `SIZE=` parameter.
    pub size: bool,
    /// Never send DSN parameters.
    pub dsn: bool,
}

/// Everything needed to reach and use one SMTP server.
#[derive(Clone)]
pub struct ClientConfig {
    /// Server host name or IP address.
    pub host: String,
    /// Server port.
    pub port: u16,
    /// TLS mode.
    pub tls: TlsMode,
    /// Name to verify the certificate against, when it differs from `host`.
    pub tls_server_name: Option<String>,
    /// Trust anchors added to the default roots.
    pub extra_roots: Vec<CertificateDer<'static>>,
    /// EHLO name; `None`: the host's FQDN, else an address literal.
    pub ehlo_name: Option<String>,
    /// Timeouts.
    pub timeouts: Timeouts,
    /// Credentials for AUTH; `None` skips AUTH.
    pub credentials: Option<Credentials>,
    /// Allowed AUTH mechanisms; `None`: any advertised password mechanism, strongest first.
    pub mechanisms: Option<Vec<Mechanism>>,
    /// Extension switches.
    pub disable: Disabled,
    /// Receives a redacted wire log when set.
    pub transcript: Option<Arc<dyn TranscriptSink>>,
}

impl ClientConfig {
    /// A configuration with defaults: STARTTLS required, RFC timeouts, no AUTH.
    pub fn new(host: impl Into<String>, port: u16) -> ClientConfig {
        ClientConfig {
            host: host.into(),
            port,
            tls: TlsMode::StartTls,
            tls_server_name: None,
            extra_roots: Vec::new(),
            ehlo_name: None,
            timeouts: Timeouts::default(),
            credentials: None,
            mechanisms: None,
            disable: Disabled::default(),
            transcript: None,
        }
    }

    /// Adds every certificate of a PEM file to `extra_roots`.
    pub fn add_roots_from_pem_file(&mut self, path: &std::path::Path) -> Result<usize, Error> {
        use rustls_pki_types::pem::PemObject;
        let certs = CertificateDer::pem_file_iter(path)
            .map_err(|e| Error::input(format!("cannot read {}: {e}", path.display())))?
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| Error::input(format!("bad PEM in {}: {e}", path.display())))?;
        if certs.is_empty() {
            return Err(Error::input(format!(
                "no certificate in {}",
                path.display()
            )));
        }
        let n = certs.len();
        self.extra_roots.extend(certs);
        Ok(n)
    }
}

impl fmt::Debug for ClientConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientConfig")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("tls", &self.tls)
            .field("tls_server_name", &self.tls_server_name)
            .field("extra_roots", &self.extra_roots.len())
            .field("ehlo_name", &self.ehlo_name)
            .field("timeouts", &self.timeouts)
            .field("credentials", &self.credentials)
            .field("mechanisms", &self.mechanisms)
            .field("disable", &self.disable)
            .field("transcript", &self.transcript.is_some())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_the_password() {
        let mut config = ClientConfig::new("mx.example", 587);
        config.credentials = Some(Credentials::new("alice", "hunter2-secret"));
        let shown = format!("{config:?}");
        assert!(shown.contains("alice") && shown.contains("***"));
        assert!(!shown.contains("hunter2"));
    }

    #[test]
    fn secret_from_command_trims_the_newline() {
        let secret = Secret::from_command("printf", &["tok-123\\n"]).unwrap();
        assert_eq!(secret.expose(), "tok-123");
        assert!(Secret::from_command("false", &[]).is_err());
    }
}
