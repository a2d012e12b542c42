//! Import of an msmtp configuration file: each `account` becomes a mailroom account, with the
//! `defaults` section and inherited accounts (`account NAME : PARENT`) applied.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use mailroom::smtp::Secret;
use mailroom::{
    AuthSettings, MTM_ID, PasswordSource, ServerUrl, Services, SmtpSettings, TlsMode, parse_mailbox,
};
use serde_json::{Value, json};

use crate::exit::CliError;

/// One account's msmtp settings, as written (later lines win).
type Section = BTreeMap<String, String>;

/// The parsed file: accounts in file order, and the name `account default` points to.
#[derive(Debug, Default)]
pub struct MsmtpFile {
    pub accounts: Vec<(String, Section)>,
    pub default: Option<String>,
}

/// Parses msmtp's configuration syntax: `key value` lines, `#` comments, `defaults`,
/// `account NAME [: PARENT[, PARENT...]]`, and `account default : NAME`.
pub fn parse(text: &str) -> Result<MsmtpFile, String> {
    let mut defaults = Section::new();
    let mut file = MsmtpFile::default();
    let mut current: Option<usize> = None;
    for (n, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (key, value) = match line.split_once(char::is_whitespace) {
            Some((k, v)) => (k, unquote(v.trim())),
            None => (line, String::new()),
        };
        match key {
            "defaults" => current = None,
            "account" => {
                let (name, parents) = match value.split_once(':') {
                    Some((name, parents)) => (name.trim().to_string(), parents.trim().to_string()),
                    None => (value.trim().to_string(), String::new()),
                };
                if name.is_empty() {
                    return Err(format!("line {}: account without a name", n + 1));
                }
                if name == "default" {
                    file.default = Some(parents);
                    current = None;
                    continue;
                }
                let mut section = defaults.clone();
                for parent in parents.split(',').map(str::trim).filter(|p| !p.is_empty()) {
                    let found = file.accounts.iter().find(|(n, _)| n == parent);
                    let Some((_, inherited)) = found else {
                        return Err(format!("line {}: unknown account {parent:?}", n + 1));
                    };
                    section.extend(inherited.clone());
                }
                file.accounts.push((name, section));
                current = Some(file.accounts.len() - 1);
            }
            _ => match current {
                Some(i) => {
                    file.accounts[i].1.insert(key.to_string(), value);
                }
                None => {
                    defaults.insert(key.to_string(), value);
                }
            },
        }
    }
    Ok(file)
}

fn unquote(v: &str) -> String {
    if v.len() >= 2 && v.starts_with('"') && v.ends_with('"') {
        v[1..v.len() - 1]
            .replace("\\\"", "\"")
            .replace("\\\\", "\\")
    } else {
        v.to_string()
    }
}

fn on(section: &Section, key: &str, default: bool) -> bool {
    match section.get(key).map(String::as_str) {
        Some("on") | Some("") => true,
        Some("off") => false,
        _ => default,
    }
}

/// Mailroom settings for one msmtp account, and whether it keeps a password in the file.
pub fn settings_of(name: &str, s: &Section) -> Result<(SmtpSettings, bool), String> {
    let host = s
        .get("host")
        .ok_or_else(|| format!("account {name:?} has no host"))?;
    let tls = if !on(s, "tls", false) {
        TlsMode::None
    } else if on(s, "tls_starttls", true) {
        TlsMode::Starttls
    } else {
        TlsMode::Implicit
    };
    let port = match s.get("port") {
        Some(p) => Some(
            p.parse::<u16>()
                .map_err(|_| format!("account {name:?}: invalid port {p:?}"))?,
        ),
        None => None,
    };
    let scheme = if tls == TlsMode::Implicit {
        "smtps"
    } else {
        "smtp"
    };
    let url = match port {
        Some(port) => format!("{scheme}://{host}:{port}"),
        None => format!("{scheme}://{host}"),
    };
    let mut settings = SmtpSettings {
        server: Some(
            url.parse::<ServerUrl>()
                .map_err(|e| format!("account {name:?}: {e}"))?,
        ),
        tls: Some(tls),
        ..SmtpSettings::default()
    };
    if let Some(file) = s
        .get("tls_trust_file")
        .filter(|f| !f.is_empty() && *f != "system")
    {
        settings.ca_files = vec![expand_home(file)];
    }
    if let Some(domain) = s.get("domain") {
        settings.ehlo_name = Some(domain.clone());
    }
    if let Some(t) = s.get("timeout").and_then(|t| t.parse::<u64>().ok()) {
        settings.timeout = Some(Duration::from_secs(t));
    }
    if let Some(from) = s.get("from") {
        let mailbox = parse_mailbox("from address", from).map_err(|e| e.to_string())?;
        settings.address = Some(mailbox.address.as_str().to_string());
        settings.display_name = mailbox.name.clone();
    }
    let auth = s.get("auth").map(String::as_str).unwrap_or("off");
    let mut stored = false;
    if auth != "off" {
        let login = s
            .get("user")
            .ok_or_else(|| format!("account {name:?} authenticates but has no user"))?;
        let password = if let Some(cmd) = s.get("passwordeval") {
            PasswordSource::Command(cmd.clone())
        } else if let Some(pw) = s.get("password") {
            stored = true;
            PasswordSource::Stored(Secret::new(pw.clone()))
        } else {
            return Err(format!(
                "account {name:?} has no password or passwordeval (keyrings are not read)"
            ));
        };
        let mechanisms = match auth {
            "on" => Vec::new(),
            mech => vec![mech.to_ascii_uppercase()],
        };
        settings.auth = Some(AuthSettings {
            login: login.clone(),
            password,
            mechanisms,
        });
    }
    Ok((settings, stored))
}

fn expand_home(path: &str) -> PathBuf {
    match (path.strip_prefix("~/"), std::env::var_os("HOME")) {
        (Some(rest), Some(home)) => Path::new(&home).join(rest),
        _ => PathBuf::from(path),
    }
}

fn default_file() -> Option<PathBuf> {
    let home = std::env::var_os("HOME").map(PathBuf::from);
    let rc = home.as_ref().map(|h| h.join(".msmtprc"));
    if let Some(rc) = rc.filter(|p| p.exists()) {
        return Some(rc);
    }
    let config = std::env::var_os("XDG_CONFIG_HOME")
        .map(PathBuf::from)
        .or_else(|| home.map(|h| h.join(".config")))?;
    Some(config.join("msmtp").join("config"))
}

/// Imports every account of the file; accounts whose name exists already are left alone.
pub fn import(services: &Services, file: Option<&Path>) -> Result<Value, CliError> {
    let path = match file {
        Some(p) => p.to_path_buf(),
        None => default_file().ok_or_else(|| {
            CliError::config(anyhow::anyhow!(
                "no msmtp configuration file found; name one"
            ))
        })?,
    };
    let text = std::fs::read_to_string(&path)
        .map_err(|e| CliError::input(anyhow::anyhow!("cannot read {}: {e}", path.display())))?;
    let parsed =
        parse(&text).map_err(|e| CliError::input(anyhow::anyhow!("{}: {e}", path.display())))?;
    let mut checked = Vec::new();
    for (name, section) in &parsed.accounts {
        let (settings, stored) = settings_of(name, section)
            .map_err(|e| CliError::input(anyhow::anyhow!("{}: {e}", path.display())))?;
        settings.validate()?;
        checked.push((name.clone(), settings, stored));
    }
    let mut imported = Vec::new();
    let mut skipped = Vec::new();
    for (name, settings, stored) in checked {
        if services.find(MTM_ID, &name)?.is_some() {
            skipped.push(name);
            continue;
        }
        if stored {
            eprintln!(
                "mailroom: warning: account {name:?} has its password in the msmtp file; it is \
                 now kept in the store too (readable only by you)"
            );
        }
        services.create(MTM_ID, &name, &settings)?;
        imported.push(name);
    }
    if let Some(default) = &parsed.default
        && let Some(info) = services.find(MTM_ID, default)?
    {
        services.set_default(info.id)?;
    }
    Ok(json!({ "file": path, "imported": imported, "skipped": skipped }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn msmtp_defaults_inheritance_and_default_account() {
        let text = "# comment\ndefaults\nauth on\ntls on\ntls_trust_file /etc/ssl/ca.pem\n\n\
                    account work\nhost smtp.example.com\nport 587\nfrom \"Work <w@example.com>\"\n\
                    user w\npasswordeval \"pass show work\"\n\n\
                    account alt : work\nhost smtps.example.org\ntls_starttls off\nport 465\n\n\
                    account plain\nhost 127.0.0.1\ntls off\nauth off\n\
                    account default : alt\n";
        let file = parse(text).unwrap();
        assert_eq!(file.default.as_deref(), Some("alt"));
        let names: Vec<_> = file.accounts.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["work", "alt", "plain"]);
        let (work, stored) = settings_of("work", &file.accounts[0].1).unwrap();
        assert!(!stored);
        assert_eq!(
            work.server.unwrap().to_string(),
            "smtp://smtp.example.com:587"
        );
        assert_eq!(work.tls, Some(TlsMode::Starttls));
        assert_eq!(work.display_name.as_deref(), Some("Work"));
        let auth = work.auth.unwrap();
        assert_eq!(
            auth.password,
            PasswordSource::Command("pass show work".into())
        );
        let (alt, _) = settings_of("alt", &file.accounts[1].1).unwrap();
        assert_eq!(alt.tls, Some(TlsMode::Implicit));
        assert_eq!(alt.address.as_deref(), Some("w@example.com"));
        let (plain, _) = settings_of("plain", &file.accounts[2].1).unwrap();
        assert_eq!(plain.tls, Some(TlsMode::None));
        assert!(plain.auth.is_none());
    }

    #[test]
    fn msmtp_account_with_unknown_parent_is_refused() {
        assert!(parse("account a : nothere\nhost x\n").is_err());
    }
}
