//! The commands: each builds its input in full, checks it, then acts.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use mailroom::store::{EntryId, Store};
use mailroom::{DsnDefaults, MessageReport, Outbox, Selection, SendOption, Sender};

use crate::accounts::{self, Resolved};
use crate::cli::{Cli, Command, DsnRet, SendArgs, When};
use crate::compose::{Content, build_content, dry_run};
use crate::exit::{CliError, Exit};
use crate::output::{print_error, print_reports};

/// What every command gets besides its own options.
pub struct Globals {
    pub store_dir: Option<PathBuf>,
    pub json: bool,
    pub quiet: bool,
}

/// Runs the command and returns the exit code; everything printed is printed here.
pub async fn run(cli: Cli) -> Exit {
    let globals = Globals {
        json: cli.json(),
        store_dir: cli.store.clone(),
        quiet: cli.quiet,
    };
    let result = match cli.command {
        Command::Send(args) => send(&globals, *args).await,
        Command::Flush(args) => crate::flush::run(&globals, args).await,
        Command::Account(command) => crate::folders::account(&globals, command),
        Command::Outbox(args) => crate::folders::list(&globals, EntryId::OUTBOX, args),
        Command::Drafts(args) => crate::folders::list(&globals, EntryId::DRAFTS, args),
        Command::Sent(args) => crate::folders::list(&globals, EntryId::SENT, args),
        Command::Show(args) => crate::folders::show(&globals, args),
        Command::Resend(args) => crate::folders::resend(&globals, args).await,
        Command::Cancel(args) => crate::folders::cancel(&globals, args),
        Command::Delete(args) => crate::folders::delete(&globals, args),
        Command::Sendmail(args) => {
            crate::sendmail::run(&globals, args.account, args.args, args.json).await
        }
        Command::Reply(args) => crate::derive::reply(&globals, args).await,
        Command::Forward(args) => crate::derive::forward(&globals, args).await,
        Command::Find(args) => crate::derive::find(&globals, args),
        Command::Watch(args) => crate::watch::run(&globals, args).await,
        Command::Completions(args) => crate::manual::completions(args.shell),
        Command::Man => crate::manual::man(),
    };
    match result {
        Ok(exit) => exit,
        Err(e) => {
            print_error(&e, globals.json);
            e.exit
        }
    }
}

async fn send(g: &Globals, args: SendArgs) -> Result<Exit, CliError> {
    let store = open_store(g.store_dir.clone())?;
    let Resolved { settings, service } = accounts::resolve(&store, &args.server)?;
    // A DSN request given here goes with the message, whenever it is sent.
    let dsn = (args.dsn_notify.is_some() || args.dsn_ret.is_some()).then(|| DsnDefaults {
        notify: args
            .dsn_notify
            .iter()
            .flat_map(|l| l.split(','))
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty())
            .collect(),
        ret: args.dsn_ret.map(|r| match r {
            DsnRet::Full => "full".to_string(),
            DsnRet::Hdrs => "hdrs".to_string(),
        }),
    });
    if let Some(dsn) = &dsn {
        // A bad value given here is input, not the account's configuration.
        dsn.to_dsn().map_err(CliError::input)?;
    }
    let when = match (&args.at, args.when) {
        (Some(at), _) => SendOption::At(crate::compose::parse_time(at)?),
        (None, When::Now) => SendOption::Immediately,
        (None, When::NextConnection) => SendOption::NextConnection,
        (None, When::OnRequest) => SendOption::OnRequest,
    };
    let content = build_content(&args, &settings)?;
    if args.dry_run {
        dry_run(content, &args)?;
        return Ok(Exit::Ok);
    }
    let sends_now = matches!(when, SendOption::Immediately | SendOption::NextConnection)
        && settings.server.is_some();
    if when == SendOption::Immediately && settings.server.is_none() {
        return Err(CliError::config(anyhow::anyhow!(
            "--when now needs --server or an account (or use --when next-connection or \
             on-request to queue)"
        )));
    }
    let config = if sends_now {
        Some(settings.client_config()?)
    } else {
        None
    };
    let mut outbox = Outbox::new(store.clone(), service);
    if let Some(dsn) = dsn {
        outbox = outbox.with_dsn(dsn)?;
    }
    let id = match content {
        Content::Composed(message) => {
            outbox.queue_message(&message, args.envelope_from.as_deref(), when)?
        }
        Content::Raw(mut reader) => {
            let envelope = mailroom::RawEnvelope {
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
                Sender::new(store.clone(), settings.clone(), service).with_client_config(config);
            let _interrupt = crate::interrupt::guard(&sender);
            let bar = crate::progress::attach(&sender, g);
            let reports = sender.send(Selection::Ids(vec![id])).await?;
            crate::progress::finish(bar);
            reports
        }
        None => vec![MessageReport::from_entry(
            &store.entry(id).map_err(mailroom::Error::from)?,
        )],
    };
    print_reports(&reports, g.json, false, &settings);
    Ok(Exit::for_reports(&reports))
}

/// Opens the store named by `--store`, `MAILROOM_STORE`, or the platform data directory.
pub fn open_store(dir: Option<PathBuf>) -> Result<Arc<Store>, CliError> {
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
