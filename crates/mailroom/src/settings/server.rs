//! Reaching the server: its address, TLS mode and credentials.

use std::fmt;
use std::process::{Command, Stdio};
use std::str::FromStr;

use mailroom_smtp::Secret;
use serde::{Deserialize, Serialize};

use crate::error::Error;

/// How the connection to the server is secured.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TlsMode {
    /// STARTTLS, required: a server that does not offer it is never used in plaintext.
    #[default]
    Starttls,
    /// TLS from the first byte.
    Implicit,
    /// No TLS; must be asked for.
    None,
}

impl TlsMode {
    /// The port used when the server address names none: 587, 465 or 25.
    pub fn default_port(self) -> u16 {
        match self {
            TlsMode::Starttls => 587,
            TlsMode::Implicit => 465,
            TlsMode::None => 25,
        }
    }
}

impl TlsMode {
    /// The name used on the command line.
    pub fn name(self) -> &'static str {
        match self {
            TlsMode::Starttls => "starttls",
            TlsMode::Implicit => "implicit",
            TlsMode::None => "none",
        }
    }
}

impl FromStr for TlsMode {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self, Error> {
        match s {
            "starttls" => Ok(TlsMode::Starttls),
            "implicit" => Ok(TlsMode::Implicit),
            "none" => Ok(TlsMode::None),
            other => Err(Error::config(format!(
                "unknown TLS mode {other:?}: expected starttls, implicit or none"
            ))),
        }
    }
}

/// A server named by `smtp://HOST[:PORT]` or `smtps://HOST[:PORT]`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServerUrl {
    /// Host name or IP address (IPv6 without brackets).
    pub host: String,
    /// Port, if the URL gave one.
    pub port: Option<u16>,
    /// `smtps://` asks for implicit TLS.
    pub implicit_tls: bool,
}

impl FromStr for ServerUrl {
    type Err = Error;

    fn from_str(url: &str) -> Result<Self, Error> {
        // Never echo a password written into the URL (`smtp://user:secret@host`).
        let shown = match url.rsplit_once('@') {
            Some((_, host)) => format!("…@{host}"),
            None => url.to_string(),
        };
        let bad = |why: &str| Error::config(format!("invalid server {shown:?}: {why}"));
        if url.bytes().any(|b| b.is_ascii_control() || b == b' ') {
            return Err(bad("contains spaces or control characters"));
        }
        let (implicit_tls, rest) = if let Some(rest) = url.strip_prefix("smtp://") {
            (false, rest)
        } else if let Some(rest) = url.strip_prefix("smtps://") {
            (true, rest)
        } else {
            return Err(bad("expected smtp://HOST[:PORT] or smtps://HOST[:PORT]"));
        };
        let rest = rest.strip_suffix('/').unwrap_or(rest);
        if rest.contains('@') {
            return Err(bad(
                "credentials do not belong in the URL: use --user with --password-env or \
                 --password-command",
            ));
        }
        if rest.contains(['/', '?', '#']) {
            return Err(bad("only a host and a port may follow the scheme"));
        }
        let (host, port) = if let Some(inner) = rest.strip_prefix('[') {
            let (host, after) = inner.split_once(']').ok_or_else(|| bad("unclosed '['"))?;
            let port = match after {
                "" => None,
                p => Some(p.strip_prefix(':').ok_or_else(|| bad("junk after ']'"))?),
            };
            if host.parse::<std::net::Ipv6Addr>().is_err() {
                return Err(bad("not an IPv6 address inside [ ]"));
            }
            (host, port)
        } else {
            match rest.rsplit_once(':') {
                Some((host, port)) => (host, Some(port)),
                None => (rest, None),
            }
        };
        if host.is_empty() {
            return Err(bad("no host"));
        }
        // A name (internationalised ones too) or an IPv4 address; IPv6 goes inside [ ].
        let name_ok = host
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '-' | '.' | '_'));
        if !rest.starts_with('[') && !name_ok {
            return Err(bad(if host.contains(':') {
                "an IPv6 address goes inside [ ], as in smtp://[::1]:25"
            } else {
                "the host is not a name or an address"
            }));
        }
        let port = match port {
            None => None,
            Some(p) => match p.parse::<u16>() {
                Ok(0) | Err(_) => return Err(bad("the port must be a number from 1 to 65535")),
                Ok(n) => Some(n),
            },
        };
        Ok(ServerUrl {
            host: host.to_string(),
            port,
            implicit_tls,
        })
    }
}

impl fmt::Display for ServerUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let scheme = if self.implicit_tls { "smtps" } else { "smtp" };
        let host = if self.host.contains(':') {
            format!("[{}]", self.host)
        } else {
            self.host.clone()
        };
        match self.port {
            Some(port) => write!(f, "{scheme}://{host}:{port}"),
            None => write!(f, "{scheme}://{host}"),
        }
    }
}

/// Where the password comes from. Neither a stored secret nor a command's arguments (which may
/// carry one) appear in `Debug` output.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PasswordSource {
    /// Read from this environment variable at send time.
    Env(String),
    /// The first line printed by this shell command, run at send time.
    Command(String),
    /// Kept in the store.
    Stored(#[serde(with = "stored_secret")] Secret),
}

impl fmt::Debug for PasswordSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PasswordSource::Env(name) => f.debug_tuple("Env").field(name).finish(),
            // The program only: `printf %s secret` must not print the secret.
            PasswordSource::Command(command) => {
                let program = command.split_whitespace().next().unwrap_or("");
                let shown = if program.len() < command.trim().len() {
                    format!("{program} …")
                } else {
                    program.to_string()
                };
                f.debug_tuple("Command").field(&shown).finish()
            }
            PasswordSource::Stored(secret) => f.debug_tuple("Stored").field(secret).finish(),
        }
    }
}

mod stored_secret {
    use mailroom_smtp::Secret;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(secret: &Secret, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(secret.expose())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Secret, D::Error> {
        String::deserialize(d).map(Secret::new)
    }
}

impl PasswordSource {
    /// Fetches the password now. Errors name the source, never the secret.
    pub fn resolve(&self) -> Result<Secret, Error> {
        match self {
            PasswordSource::Env(var) => std::env::var(var).map(Secret::new).map_err(|_| {
                Error::config(format!(
                    "the password variable {var} is not set (or not UTF-8)"
                ))
            }),
            PasswordSource::Command(cmd) => run_password_command(cmd),
            PasswordSource::Stored(secret) => Ok(secret.clone()),
        }
    }
}

fn run_password_command(cmd: &str) -> Result<Secret, Error> {
    let output = Command::new("/bin/sh")
        .arg("-c")
        .arg(cmd)
        .stdin(Stdio::null())
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| Error::config(format!("cannot run the password command: {e}")))?;
    if !output.status.success() {
        return Err(Error::config(format!(
            "the password command failed ({})",
            output.status
        )));
    }
    let text = String::from_utf8(output.stdout)
        .map_err(|_| Error::config("the password command printed something that is not UTF-8"))?;
    let first = text.lines().next().unwrap_or("");
    if first.is_empty() {
        return Err(Error::config("the password command printed nothing"));
    }
    Ok(Secret::new(first))
}

/// Authentication settings.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthSettings {
    /// Login name.
    pub login: String,
    /// Where the password comes from.
    pub password: PasswordSource,
    /// Mechanisms allowed (upper case names); empty means any the server offers, strongest first.
    pub mechanisms: Vec<String>,
}
