//! The commands: each builds its input in full, checks it, then acts.

use std::fs;
use std::io::Read;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use mailroom::mime::Message;
use mailroom::store::Store;
use mailroom::{
    AuthSettings, MessageReport, Outbox, PasswordSource, RawEnvelope, Selection, SendOption,
    Sender, ServerUrl, SmtpSettings, TlsMode, parse_mailbox,
};

use crate::cli::{Cli, Command, FlushArgs, SendArgs, ServerArgs, Tls, When};
use crate::exit::{CliError, Exit};
use crate::output::{print_error, print_reports};

/// Runs the command and returns the exit code; everything printed is printed here.
pub async fn run(cli: Cli) -> Exit {
    let json = match &cli.command {
        Command::Send(a) => a.output.json,
        Command::Flush(a) => a.output.json,
    };
    let result = match cli.command {
        Command::Send(args) => send(cli.store, *args).await,
        Command::Flush(args) => flush(cli.store, args).await,
    };
    match result {
        Ok(exit) => exit,
        Err(e) => {
            print_error(&e, json);
            e.exit
        }
    }
}

async fn send(store_dir: Option<PathBuf>, args: SendArgs) -> Result<Exit, CliError> {
    let settings = settings_from(&args.server)?;
    let sends_now = args.when != When::OnRequest && settings.server.is_some();
    if args.when == When::Now && settings.server.is_none() {
        return Err(CliError::config(anyhow::anyhow!(
            "--when now needs --server (or use --when next-connection or on-request to queue)"
        )));
    }
    let config = if sends_now {
        Some(settings.client_config()?)
    } else {
        None
    };
    let when = match args.when {
        When::Now => SendOption::Immediately,
        When::NextConnection => SendOption::NextConnection,
        When::OnRequest => SendOption::OnRequest,
    };

    let content = build_content(&args)?;
    let store = open_store(store_dir)?;
    let outbox = Outbox::new(store.clone(), None);
    let id = match content {
        Content::Composed(message) => {
            outbox.queue_message(&message, args.envelope_from.as_deref(), when)?
        }
        Content::Raw(mut reader) => {
            let envelope = RawEnvelope {
                from: args.envelope_from.clone().or(args.from.clone()),
                to: args.to.clone(),
                cc: args.cc.clone(),
                bcc: args.bcc.clone(),
            };
            outbox.queue_raw(&mut reader, &envelope, when)?
        }
    };

    let reports = match config {
        Some(config) => {
            let sender =
                Sender::new(store.clone(), settings.clone(), None).with_client_config(config);
            sender.send(Selection::Ids(vec![id])).await?
        }
        None => vec![MessageReport::from_entry(
            &store.entry(id).map_err(mailroom::Error::from)?,
        )],
    };
    print_reports(&reports, args.output.json, false, &settings);
    Ok(Exit::for_reports(&reports))
}

async fn flush(store_dir: Option<PathBuf>, args: FlushArgs) -> Result<Exit, CliError> {
    let settings = settings_from(&args.server)?;
    if settings.server.is_none() {
        return Err(CliError::config(anyhow::anyhow!("flush needs --server")));
    }
    let store = open_store(store_dir)?;
    let sender = Sender::new(store, settings.clone(), None);
    let reports = sender.send(Selection::Queued).await?;
    if args.output.json {
        print_reports(&reports, true, true, &settings);
    } else if reports.is_empty() {
        println!("nothing to send");
    } else {
        print_reports(&reports, false, true, &settings);
    }
    Ok(Exit::for_reports(&reports))
}

/// What `send` stores: a message built from the options, or a ready one.
enum Content {
    Composed(Box<Message>),
    Raw(Box<dyn Read>),
}

fn build_content(args: &SendArgs) -> Result<Content, CliError> {
    if let Some(path) = &args.raw {
        let reader: Box<dyn Read> = if path.as_os_str() == "-" {
            Box::new(std::io::stdin())
        } else {
            let file = fs::File::open(path)
                .with_context(|| format!("cannot open the raw message {}", path.display()))
                .map_err(CliError::input)?;
            Box::new(file)
        };
        return Ok(Content::Raw(reader));
    }
    let from = args.from.as_deref().ok_or_else(|| {
        CliError::input(anyhow::anyhow!("--from is required (the message's author)"))
    })?;
    let mut message = Message {
        from: Some(parse_mailbox("--from address", from)?),
        ..Message::default()
    };
    for (list, values, what) in [
        (&mut message.to, &args.to, "--to address"),
        (&mut message.cc, &args.cc, "--cc address"),
        (&mut message.bcc, &args.bcc, "--bcc address"),
    ] {
        for value in values {
            list.push(parse_mailbox(what, value)?);
        }
    }
    message.subject = args.subject.clone();
    message.text = Some(match (&args.body, &args.body_file) {
        (Some(text), _) => text.clone(),
        (None, Some(path)) => {
            let bytes = fs::read(path)
                .with_context(|| format!("cannot read the body file {}", path.display()))
                .map_err(CliError::input)?;
            String::from_utf8(bytes)
                .map_err(|_| anyhow::anyhow!("the body file {} is not UTF-8", path.display()))
                .map_err(CliError::input)?
        }
        (None, None) => String::new(),
    });
    Ok(Content::Composed(Box::new(message)))
}

fn settings_from(args: &ServerArgs) -> Result<SmtpSettings, CliError> {
    let server = match &args.server {
        Some(url) => Some(url.parse::<ServerUrl>()?),
        None => None,
    };
    let auth = match &args.user {
        None => None,
        Some(login) => {
            let password = match (&args.password_env, &args.password_command) {
                (Some(var), _) => PasswordSource::Env(var.clone()),
                (None, Some(cmd)) => PasswordSource::Command(cmd.clone()),
                (None, None) => {
                    return Err(CliError::config(anyhow::anyhow!(
                        "--user needs --password-env VAR or --password-command CMD"
                    )));
                }
            };
            let mechanisms = args
                .auth
                .iter()
                .map(|m| m.trim().to_ascii_uppercase())
                .collect();
            Some(AuthSettings {
                login: login.clone(),
                password,
                mechanisms,
            })
        }
    };
    if auth.is_none() && !args.auth.is_empty() {
        return Err(CliError::config(anyhow::anyhow!("--auth needs --user")));
    }
    let settings = SmtpSettings {
        server,
        tls: args.tls.map(|t| match t {
            Tls::Starttls => TlsMode::Starttls,
            Tls::Implicit => TlsMode::Implicit,
            Tls::None => TlsMode::None,
        }),
        tls_server_name: None,
        ca_files: args.ca_files.clone(),
        ehlo_name: args.ehlo_name.clone(),
        timeout: args.timeout.map(Duration::from_secs),
        auth,
        ..SmtpSettings::default()
    };
    settings.validate()?;
    Ok(settings)
}

fn open_store(dir: Option<PathBuf>) -> Result<Arc<Store>, CliError> {
    let dir = match dir {
        Some(dir) => dir,
        None => Store::default_dir()
            .context("cannot find the platform data directory; use --store DIR")
            .map_err(|e| CliError::new(Exit::IoErr, "store", e))?,
    };
    let store = Store::open(&dir)
        .with_context(|| format!("cannot open the message store in {}", dir.display()))
        .map_err(|e| CliError::new(Exit::IoErr, "store", e))?;
    Ok(Arc::new(store))
}
