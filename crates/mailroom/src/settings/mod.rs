//! SMTP settings: everything needed to reach and use one SMTP server, and how messages of the
//! account are composed and delivered. Validated in full before any network traffic; stored as
//! JSON under the service entry.

mod server;

use std::path::PathBuf;
use std::time::Duration;

use mailroom_smtp::{
    ClientConfig, Credentials, Disabled, Dsn, DsnNotify, DsnReturn, Mechanism, Timeouts,
};
use serde::{Deserialize, Serialize};

pub use server::{AuthSettings, PasswordSource, ServerUrl, TlsMode};

use crate::error::{Error, ErrorKind};
use crate::outbox::parse_address;
use crate::retry::RetryPolicy;

/// How message bodies are written.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BodyEncoding {
    /// MIME: parts, transfer encodings and encoded words as needed.
    #[default]
    Mime,
    /// Plain text only: attachments and HTML are refused.
    Plain,
}

/// Whether the sender gets a copy of each message, and as what kind of recipient.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CopyToSelf {
    /// No copy.
    #[default]
    None,
    /// Added to To.
    To,
    /// Added to Cc.
    Cc,
    /// Added to Bcc.
    Bcc,
}

/// When new messages of the account go out by default.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DefaultSendOption {
    /// As soon as they are queued.
    #[default]
    Immediately,
    /// With the next connection to the server.
    NextConnection,
    /// Only when asked.
    OnRequest,
}

/// DSN requests added to every message unless the message asks otherwise.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DsnDefaults {
    /// `NOTIFY` values: `never`, or any of `success`, `failure`, `delay`.
    pub notify: Vec<String>,
    /// `RET`: `full` or `hdrs`.
    pub ret: Option<String>,
}

impl DsnDefaults {
    /// The engine's DSN request, or `None` when nothing is asked.
    pub fn to_dsn(&self) -> Result<Option<Dsn>, Error> {
        if self.notify.is_empty() && self.ret.is_none() {
            return Ok(None);
        }
        let mut notify = Vec::new();
        for n in &self.notify {
            notify.push(match n.to_ascii_lowercase().as_str() {
                "never" => DsnNotify::Never,
                "success" => DsnNotify::Success,
                "failure" => DsnNotify::Failure,
                "delay" => DsnNotify::Delay,
                other => {
                    return Err(Error::config(format!(
                        "unknown DSN notify value {other:?}: expected never, success, failure or delay"
                    )));
                }
            });
        }
        if notify.contains(&DsnNotify::Never) && notify.len() > 1 {
            return Err(Error::config(
                "DSN notify \"never\" cannot be combined with others",
            ));
        }
        let ret = match self.ret.as_deref().map(str::to_ascii_lowercase).as_deref() {
            None => None,
            Some("full") => Some(DsnReturn::Full),
            Some("hdrs") => Some(DsnReturn::Headers),
            Some(other) => {
                return Err(Error::config(format!(
                    "unknown DSN ret {other:?}: expected full or hdrs"
                )));
            }
        };
        Ok(Some(Dsn {
            ret,
            envid: None,
            notify,
            orcpt: true,
        }))
    }
}

/// Extensions to leave unused even when the server offers them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct DisabledExtensions {
    /// PIPELINING.
    pub pipelining: bool,
    /// CHUNKING (BDAT).
    pub chunking: bool,
    /// 8BITMIME.
    pub eight_bit_mime: bool,
    /// SMTPUTF8.
    pub smtputf8: bool,
    /// SIZE.
    pub size: bool,
    /// DSN.
    pub dsn: bool,
}

/// Everything needed to reach and use one SMTP server, and the account's habits.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct SmtpSettings {
    /// The server; `None` leaves messages queued until one is given.
    pub server: Option<ServerUrl>,
    /// How the connection is secured; see [`SmtpSettings::effective_tls`].
    pub tls: Option<TlsMode>,
    /// Name to verify the certificate against, when not the host name.
    pub tls_server_name: Option<String>,
    /// Extra trust anchors (PEM files).
    pub ca_files: Vec<PathBuf>,
    /// Name sent with EHLO; by default the host's FQDN, else an address literal.
    pub ehlo_name: Option<String>,
    /// One limit for connecting and for every reply, instead of RFC 5321's defaults.
    #[serde(with = "opt_secs")]
    pub timeout: Option<Duration>,
    /// Authentication, if the server wants it.
    pub auth: Option<AuthSettings>,

    /// The display name shown with the address (the alias).
    pub display_name: Option<String>,
    /// The account's email address: From of new messages.
    pub address: Option<String>,
    /// Reply-To of new messages.
    pub reply_to: Option<String>,
    /// Where read receipts go (default: the account's address).
    pub receipt_address: Option<String>,
    /// MIME or plain bodies.
    pub body_encoding: BodyEncoding,
    /// Charset of text parts; only UTF-8 is written.
    pub charset: String,
    /// A vCard attached to new messages.
    pub vcard: Option<String>,
    /// A signature added to new messages.
    pub signature: Option<String>,
    /// Ask for a read receipt on new messages.
    pub request_receipts: bool,
    /// Send a copy of each message to the account's own address.
    pub copy_to_self: CopyToSelf,
    /// When new messages go out.
    pub send_option: DefaultSendOption,
    /// How many To and Cc addresses of the original are quoted in replies and forwards.
    pub include_limit: usize,

    /// Connections opened to the server at once.
    pub connections_per_server: u32,
    /// Messages sent over one connection before it is renewed (0: no limit).
    pub messages_per_connection: u32,
    /// Retry schedule for transient failures.
    pub retry: RetrySettings,
    /// DSN requests.
    pub dsn: DsnDefaults,
    /// Extensions to leave unused.
    pub disable: DisabledExtensions,
}

/// The retry schedule, in seconds, as stored.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RetrySettings {
    /// Shortest wait before a retry, in seconds.
    pub min_backoff_secs: u64,
    /// Longest wait before a retry, in seconds.
    pub max_backoff_secs: u64,
    /// Give up after this many seconds in the queue.
    pub lifetime_secs: u64,
}

impl Default for RetrySettings {
    fn default() -> Self {
        RetrySettings::from(RetryPolicy::default())
    }
}

impl From<RetryPolicy> for RetrySettings {
    fn from(p: RetryPolicy) -> Self {
        RetrySettings {
            min_backoff_secs: p.min_backoff.as_secs(),
            max_backoff_secs: p.max_backoff.as_secs(),
            lifetime_secs: p.lifetime.as_secs(),
        }
    }
}

impl From<RetrySettings> for RetryPolicy {
    fn from(s: RetrySettings) -> Self {
        RetryPolicy {
            min_backoff: Duration::from_secs(s.min_backoff_secs),
            max_backoff: Duration::from_secs(s.max_backoff_secs),
            lifetime: Duration::from_secs(s.lifetime_secs),
        }
    }
}

impl Default for SmtpSettings {
    fn default() -> Self {
        SmtpSettings {
            server: None,
            tls: None,
            tls_server_name: None,
            ca_files: Vec::new(),
            ehlo_name: None,
            timeout: None,
            auth: None,
            display_name: None,
            address: None,
            reply_to: None,
            receipt_address: None,
            body_encoding: BodyEncoding::Mime,
            charset: "utf-8".into(),
            vcard: None,
            signature: None,
            request_receipts: false,
            copy_to_self: CopyToSelf::None,
            send_option: DefaultSendOption::Immediately,
            include_limit: 10,
            connections_per_server: 1,
            messages_per_connection: 0,
            retry: RetrySettings::default(),
            dsn: DsnDefaults::default(),
            disable: DisabledExtensions::default(),
        }
    }
}

impl SmtpSettings {
    /// The TLS mode in force: the one asked for, else implicit for `smtps://`, else STARTTLS.
    pub fn effective_tls(&self) -> TlsMode {
        match (self.tls, &self.server) {
            (Some(mode), _) => mode,
            (None, Some(url)) if url.implicit_tls => TlsMode::Implicit,
            _ => TlsMode::Starttls,
        }
    }

    /// The retry schedule.
    pub fn retry_policy(&self) -> RetryPolicy {
        self.retry.into()
    }

    /// Checks every value, without touching the network.
    pub fn validate(&self) -> Result<(), Error> {
        if let (Some(url), Some(mode)) = (&self.server, self.tls)
            && url.implicit_tls
            && mode != TlsMode::Implicit
        {
            return Err(Error::config(format!(
                "{url} asks for implicit TLS, which contradicts --tls {}",
                mode.name()
            )));
        }
        for (what, value) in [
            ("EHLO name", &self.ehlo_name),
            ("TLS server name", &self.tls_server_name),
        ] {
            if let Some(v) = value
                && (v.is_empty() || v.bytes().any(|b| b.is_ascii_control() || b == b' '))
            {
                return Err(Error::config(format!("invalid {what} {v:?}")));
            }
        }
        if let Some(name) = &self.ehlo_name {
            mailroom_smtp::ehlo_domain(name).map_err(|e| Error::config(e.to_string()))?;
        }
        // Stored in whole seconds: anything else would come back changed (half a second as 0).
        if let Some(t) = self.timeout
            && (t < Duration::from_secs(1)
                || t > Duration::from_secs(3600)
                || t.subsec_nanos() != 0)
        {
            return Err(Error::config(
                "the timeout must be a whole number of seconds from 1 to 3600",
            ));
        }
        if let Some(auth) = &self.auth {
            if auth.login.is_empty() || auth.login.bytes().any(|b| b.is_ascii_control()) {
                return Err(Error::config(
                    "the login name is empty or has control characters",
                ));
            }
            for m in &auth.mechanisms {
                parse_mechanism(m)?;
            }
        }
        for file in &self.ca_files {
            if !file.is_file() {
                return Err(Error::config(format!(
                    "CA file {} cannot be read",
                    file.display()
                )));
            }
        }
        for (what, value) in [
            ("account address", &self.address),
            ("reply-to address", &self.reply_to),
            ("receipt address", &self.receipt_address),
        ] {
            if let Some(v) = value {
                parse_address(what, v).map_err(|e| Error::config(e.to_string()))?;
            }
        }
        for (what, value) in [("display name", &self.display_name)] {
            if let Some(v) = value
                && v.chars().any(|c| c.is_control())
            {
                return Err(Error::config(format!("the {what} has control characters")));
            }
        }
        if !self.charset.eq_ignore_ascii_case("utf-8") {
            return Err(Error::config(format!(
                "charset {:?} is not supported: mailroom writes UTF-8",
                self.charset
            )));
        }
        if self.copy_to_self != CopyToSelf::None && self.address.is_none() {
            return Err(Error::config("a copy to self needs the account's address"));
        }
        if !(1..=16).contains(&self.connections_per_server) {
            return Err(Error::config("connections per server must be from 1 to 16"));
        }
        let r = &self.retry;
        if r.min_backoff_secs == 0 || r.min_backoff_secs > r.max_backoff_secs {
            return Err(Error::config(
                "the retry backoff must be at least 1 s and min <= max",
            ));
        }
        if r.lifetime_secs == 0 {
            return Err(Error::config("the retry lifetime must be at least 1 s"));
        }
        self.dsn.to_dsn()?;
        Ok(())
    }

    /// Builds the engine's configuration, fetching the password and reading CA files now.
    pub fn client_config(&self) -> Result<ClientConfig, Error> {
        self.validate()?;
        let url = self
            .server
            .as_ref()
            .ok_or_else(|| Error::config("no server given (use --server smtp://HOST[:PORT])"))?;
        let tls = self.effective_tls();
        let mut config =
            ClientConfig::new(url.host.clone(), url.port.unwrap_or(tls.default_port()));
        config.tls = match tls {
            TlsMode::Starttls => mailroom_smtp::TlsMode::StartTls,
            TlsMode::Implicit => mailroom_smtp::TlsMode::Implicit,
            TlsMode::None => mailroom_smtp::TlsMode::None,
        };
        config.tls_server_name = self.tls_server_name.clone();
        for file in &self.ca_files {
            config.add_roots_from_pem_file(file).map_err(|e| {
                Error::new(ErrorKind::Config, format!("CA file {}", file.display())).with_source(e)
            })?;
        }
        config.ehlo_name = self.ehlo_name.clone();
        if let Some(limit) = self.timeout {
            config.timeouts = Timeouts::uniform(limit);
        }
        if let Some(auth) = &self.auth {
            let password = auth.password.resolve()?;
            config.credentials = Some(Credentials {
                username: auth.login.clone(),
                password,
            });
            if !auth.mechanisms.is_empty() {
                let list = auth.mechanisms.iter().map(|m| parse_mechanism(m));
                config.mechanisms = Some(list.collect::<Result<_, _>>()?);
            }
        }
        let d = &self.disable;
        config.disable = Disabled {
            pipelining: d.pipelining,
            chunking: d.chunking,
            eight_bit_mime: d.eight_bit_mime,
            smtputf8: d.smtputf8,
            size: d.size,
            dsn: d.dsn,
        };
        Ok(config)
    }
}

fn parse_mechanism(name: &str) -> Result<Mechanism, Error> {
    Mechanism::from_name(name)
        .ok_or_else(|| Error::config(format!("unknown authentication mechanism {name:?}")))
}

mod opt_secs {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(v: &Option<Duration>, s: S) -> Result<S::Ok, S::Error> {
        match v {
            Some(d) => s.serialize_some(&d.as_secs()),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Duration>, D::Error> {
        Ok(Option::<u64>::deserialize(d)?.map(Duration::from_secs))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_password_command_shows_only_its_program_in_debug() {
        let source = PasswordSource::Command("printf %s hunter3".into());
        let shown = format!("{source:?}");
        assert!(
            shown.contains("printf") && !shown.contains("hunter3"),
            "{shown}"
        );
        let settings = SmtpSettings {
            auth: Some(AuthSettings {
                login: "alice".into(),
                password: source,
                mechanisms: Vec::new(),
            }),
            ..SmtpSettings::default()
        };
        assert!(!format!("{settings:?}").contains("hunter3"));
    }

    #[test]
    fn a_timeout_that_storage_would_change_is_refused() {
        let with = |t: Duration| SmtpSettings {
            timeout: Some(t),
            ..SmtpSettings::default()
        };
        for bad in [0, 500, 1500, 3_601_000] {
            let err = with(Duration::from_millis(bad)).validate().unwrap_err();
            assert_eq!(err.kind(), ErrorKind::Config, "{bad} ms");
        }
        for good in [1, 30, 3600] {
            with(Duration::from_secs(good)).validate().unwrap();
        }
    }

    #[test]
    fn settings_round_trip_through_json_with_secrets_hidden_from_debug() {
        let mut s = SmtpSettings {
            server: Some("smtps://mail.example.com".parse().unwrap()),
            address: Some("alice@example.com".into()),
            copy_to_self: CopyToSelf::Bcc,
            timeout: Some(Duration::from_secs(30)),
            ..SmtpSettings::default()
        };
        s.auth = Some(AuthSettings {
            login: "alice".into(),
            password: PasswordSource::Stored(mailroom_smtp::Secret::new("hunter2")),
            mechanisms: vec!["PLAIN".into()],
        });
        s.validate().unwrap();
        let json = serde_json::to_string(&s).unwrap();
        let back: SmtpSettings = serde_json::from_str(&json).unwrap();
        assert_eq!(back, s);
        assert!(!format!("{s:?}").contains("hunter2"));
    }

    #[test]
    fn out_of_range_values_are_refused_with_a_clear_message() {
        let bad = [
            SmtpSettings {
                connections_per_server: 0,
                ..Default::default()
            },
            SmtpSettings {
                charset: "latin1".into(),
                ..Default::default()
            },
            SmtpSettings {
                address: Some("no at sign".into()),
                ..Default::default()
            },
            SmtpSettings {
                copy_to_self: CopyToSelf::Cc,
                ..Default::default()
            },
            SmtpSettings {
                dsn: DsnDefaults {
                    notify: vec!["never".into(), "success".into()],
                    ret: None,
                },
                ..Default::default()
            },
        ];
        for s in bad {
            let e = s.validate().unwrap_err();
            assert_eq!(e.kind(), ErrorKind::Config, "{e}");
        }
    }

    #[test]
    fn server_urls_with_a_bare_ipv6_address_or_a_strange_host_are_refused() {
        for good in [
            "smtp://mail.example.org:587",
            "smtps://[::1]",
            "smtp://127.0.0.1",
            "smtp://bücher.example",
            "smtp://mail_relay:25",
        ] {
            good.parse::<ServerUrl>().unwrap();
        }
        for (bad, why) in [
            ("smtp://::1", "inside [ ]"),
            ("smtp://bad_host!:25", "not a name"),
            ("smtp://a,b:25", "not a name"),
        ] {
            let e = bad.parse::<ServerUrl>().unwrap_err();
            assert!(e.to_string().contains(why), "{bad}: {e}");
        }
    }

    #[test]
    fn default_ports_follow_the_tls_mode() {
        let url: ServerUrl = "smtps://[::1]".parse().unwrap();
        let s = SmtpSettings {
            server: Some(url),
            ..Default::default()
        };
        assert_eq!(s.effective_tls(), TlsMode::Implicit);
        assert_eq!(s.client_config().unwrap().port, 465);
        let s = SmtpSettings {
            server: Some("smtp://h".parse().unwrap()),
            ..Default::default()
        };
        assert_eq!(s.client_config().unwrap().port, 587);
        let s = SmtpSettings {
            tls: Some(TlsMode::None),
            ..s
        };
        assert_eq!(s.client_config().unwrap().port, 25);
    }
}
