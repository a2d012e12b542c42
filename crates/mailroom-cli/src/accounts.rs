//! Accounts: SMTP settings kept as services in the store, and how a command's options combine
//! with them.

use std::io::Read;
use std::sync::Arc;
use std::time::Duration;

use mailroom::smtp::Secret;
use mailroom::store::{EntryId, Store};
use mailroom::{
    AuthSettings, MTM_ID, PasswordSource, ServerUrl, Services, SmtpSettings, TlsMode, parse_mailbox,
};
use serde_json::{Value, json};

use crate::cli::{ServerArgs, Tls};
use crate::cli_more::{AccountArgs, AccountCommand, NameArgs};
use crate::exit::{CliError, Exit};

/// The settings a command uses, and the account they come from.
pub struct Resolved {
    pub settings: SmtpSettings,
    pub service: Option<EntryId>,
}

/// The settings for a command: the named account (or the default one when no `--server` is
/// given), with the command's own options laid over them.
pub fn resolve(store: &Arc<Store>, args: &ServerArgs) -> Result<Resolved, CliError> {
    let services = Services::new(store.clone());
    let account = match &args.account {
        Some(name) => Some(services.get(MTM_ID, name)?),
        None if args.server.is_none() => services.default_service(MTM_ID)?,
        None => None,
    };
    let (base, service) = match account {
        Some(info) => (services.settings::<SmtpSettings>(info.id)?, Some(info.id)),
        None => (SmtpSettings::default(), None),
    };
    let settings = overlay(base, args, None)?;
    settings.validate()?;
    if settings.auth.is_some() && settings.effective_tls() == TlsMode::None {
        eprintln!("mailroom: warning: --tls none sends the password in clear text");
    }
    Ok(Resolved { settings, service })
}

/// Lays the server options given on the command line over `settings`. `stored` is a password
/// to keep in the store.
pub fn overlay(
    mut settings: SmtpSettings,
    args: &ServerArgs,
    stored: Option<Secret>,
) -> Result<SmtpSettings, CliError> {
    if let Some(url) = &args.server {
        settings.server = Some(url.parse::<ServerUrl>()?);
    }
    if let Some(tls) = args.tls {
        settings.tls = Some(match tls {
            Tls::Starttls => TlsMode::Starttls,
            Tls::Implicit => TlsMode::Implicit,
            Tls::None => TlsMode::None,
        });
    }
    if !args.ca_files.is_empty() {
        settings.ca_files = args.ca_files.clone();
    }
    if let Some(name) = &args.ehlo_name {
        settings.ehlo_name = Some(name.clone());
    }
    if let Some(secs) = args.timeout {
        settings.timeout = Some(Duration::from_secs(secs));
    }
    if let Some(n) = args.connections {
        settings.connections_per_server = n;
    }
    if let Some(n) = args.messages_per_connection {
        settings.messages_per_connection = n;
    }
    let password = match (&args.password_env, &args.password_command, stored) {
        (Some(var), _, _) => Some(PasswordSource::Env(var.clone())),
        (None, Some(cmd), _) => Some(PasswordSource::Command(cmd.clone())),
        (None, None, Some(secret)) => Some(PasswordSource::Stored(secret)),
        (None, None, None) => None,
    };
    match (&args.user, password, settings.auth.as_mut()) {
        (Some(login), Some(password), _) => {
            settings.auth = Some(AuthSettings {
                login: login.clone(),
                password,
                mechanisms: Vec::new(),
            })
        }
        (Some(login), None, Some(auth)) => auth.login = login.clone(),
        (None, Some(password), Some(auth)) => auth.password = password,
        (Some(_), None, None) => {
            return Err(CliError::config(anyhow::anyhow!(
                "--user needs --password-env VAR or --password-command CMD"
            )));
        }
        (None, Some(_), None) => {
            return Err(CliError::config(anyhow::anyhow!(
                "a password source needs --user (the login name)"
            )));
        }
        (None, None, _) => {}
    }
    if !args.auth.is_empty() {
        let auth = settings
            .auth
            .as_mut()
            .ok_or_else(|| CliError::config(anyhow::anyhow!("--auth needs --user")))?;
        auth.mechanisms = args
            .auth
            .iter()
            .map(|m| m.trim().to_ascii_uppercase())
            .collect();
    }
    Ok(settings)
}

/// Runs `mailroom account ...`.
pub fn run(store: Arc<Store>, command: AccountCommand) -> Result<Value, CliError> {
    let services = Services::new(store.clone());
    match command {
        AccountCommand::Add(args) => {
            if services.find(MTM_ID, &args.name)?.is_some() {
                return Err(CliError::input(anyhow::anyhow!(
                    "an account named {:?} already exists (use `mailroom account set`)",
                    args.name
                )));
            }
            let settings = account_settings(SmtpSettings::default(), &args)?;
            if settings.server.is_none() {
                return Err(CliError::config(anyhow::anyhow!(
                    "account add needs --server"
                )));
            }
            let id = services.create(MTM_ID, &args.name, &settings)?;
            eprintln_unless_json(&args.output, &format!("account {:?} added", args.name));
            describe(&services, id)
        }
        AccountCommand::Set(args) => {
            let info = services.get(MTM_ID, &args.name)?;
            let current = services.settings::<SmtpSettings>(info.id)?;
            let settings = account_settings(current, &args)?;
            services.set_settings(info.id, &settings)?;
            eprintln_unless_json(&args.output, &format!("account {:?} changed", args.name));
            describe(&services, info.id)
        }
        AccountCommand::List(_) => {
            let mut list = Vec::new();
            for info in services.list(Some(MTM_ID))? {
                list.push(describe(&services, info.id)?);
            }
            Ok(Value::Array(list))
        }
        AccountCommand::Show(NameArgs { name, .. }) => {
            let info = services.get(MTM_ID, &name)?;
            describe(&services, info.id)
        }
        AccountCommand::Remove(NameArgs { name, .. }) => {
            let info = services.get(MTM_ID, &name)?;
            services.delete(info.id)?;
            Ok(json!({ "name": name, "removed": true }))
        }
        AccountCommand::Default(NameArgs { name, .. }) => {
            let info = services.get(MTM_ID, &name)?;
            services.set_default(info.id)?;
            describe(&services, info.id)
        }
        AccountCommand::Import(args) => crate::msmtp::import(&services, args.file.as_deref()),
    }
}

fn eprintln_unless_json(output: &crate::cli::OutputArgs, text: &str) {
    if !output.json {
        tracing::info!("{text}");
    }
}

fn account_settings(base: SmtpSettings, args: &AccountArgs) -> Result<SmtpSettings, CliError> {
    if args.server.account.is_some() {
        return Err(CliError::new(
            Exit::Usage,
            "usage",
            anyhow::anyhow!("give the account's name as the argument, not --account"),
        ));
    }
    let stored = if args.password_stdin {
        let mut text = String::new();
        std::io::stdin()
            .read_to_string(&mut text)
            .map_err(|e| CliError::input(anyhow::anyhow!("cannot read the password: {e}")))?;
        let line = text.lines().next().unwrap_or("").to_string();
        if line.is_empty() {
            return Err(CliError::input(anyhow::anyhow!(
                "no password on standard input"
            )));
        }
        eprintln!(
            "mailroom: warning: the password is kept in the message store (a file readable only \
             by you); --password-command or --password-env keep it out of the store"
        );
        Some(Secret::new(line))
    } else {
        None
    };
    let mut settings = overlay(base, &args.server, stored)?;
    if let Some(from) = &args.from {
        let mailbox = parse_mailbox("--from address", from)?;
        settings.address = Some(mailbox.address.as_str().to_string());
        settings.display_name = mailbox.name.clone();
    }
    if let Some(reply_to) = &args.reply_to {
        parse_mailbox("--reply-to address", reply_to)?;
        settings.reply_to = Some(reply_to.clone());
    }
    if let Some(signature) = &args.signature {
        settings.signature = Some(signature.clone());
    }
    settings.validate()?;
    Ok(settings)
}

/// An account as shown: never the secret itself, only where it comes from.
pub fn describe(services: &Services, id: EntryId) -> Result<Value, CliError> {
    let info = services
        .list(Some(MTM_ID))?
        .into_iter()
        .find(|s| s.id == id)
        .ok_or_else(|| {
            CliError::new(
                Exit::Software,
                "internal",
                anyhow::anyhow!("account vanished"),
            )
        })?;
    let s: SmtpSettings = services.settings(id)?;
    let password = s.auth.as_ref().map(|a| match &a.password {
        PasswordSource::Env(var) => json!({ "source": "env", "variable": var }),
        PasswordSource::Command(cmd) => json!({ "source": "command", "command": cmd }),
        PasswordSource::Stored(_) => json!({ "source": "stored" }),
    });
    let from = s.address.as_ref().map(|a| match &s.display_name {
        Some(name) if !name.is_empty() => format!("{name} <{a}>"),
        _ => a.clone(),
    });
    Ok(json!({
        "id": info.id.0,
        "name": info.name,
        "default": info.is_default,
        "server": s.server.as_ref().map(|u| u.to_string()),
        "tls": s.effective_tls().name(),
        "ca_files": s.ca_files,
        "ehlo_name": s.ehlo_name,
        "timeout": s.timeout.map(|t| t.as_secs()),
        "connections": s.connections_per_server,
        "messages_per_connection": s.messages_per_connection,
        "user": s.auth.as_ref().map(|a| a.login.clone()),
        "password": password,
        "auth": s.auth.as_ref().map(|a| a.mechanisms.clone()).unwrap_or_default(),
        "from": from,
        "reply_to": s.reply_to,
        "signature": s.signature,
    }))
}

/// One account as text lines.
pub fn print_account(v: &Value) {
    let mark = if v["default"].as_bool() == Some(true) {
        " (default)"
    } else {
        ""
    };
    outln!("{}{mark}", v["name"].as_str().unwrap_or(""));
    for key in ["server", "tls", "user", "from", "reply_to", "ehlo_name"] {
        if let Some(text) = v[key].as_str() {
            outln!("  {key}: {text}");
        }
    }
    if let Some(secs) = v["timeout"].as_u64() {
        outln!("  timeout: {secs}s");
    }
    if let Some(n) = v["connections"].as_u64().filter(|n| *n > 1) {
        outln!("  connections: {n}");
    }
    if let Some(n) = v["messages_per_connection"].as_u64().filter(|n| *n > 0) {
        outln!("  messages per connection: {n}");
    }
    if let Some(p) = v["password"].as_object() {
        let how = match p.get("source").and_then(|s| s.as_str()) {
            Some("env") => format!("from ${}", p["variable"].as_str().unwrap_or("")),
            Some("command") => format!("from the command {}", p["command"].as_str().unwrap_or("")),
            Some("stored") => "stored (not shown)".to_string(),
            _ => "unknown".to_string(),
        };
        outln!("  password: {how}");
    }
}
