//! `flush`: every queued message now (scheduled and deferred ones included, as a queue flush
//! does), or only the messages named; Uncertain and Suspended ones only when named.

use std::sync::Arc;

use mailroom::store::{EntryId, Filter, SendState, Store};
use mailroom::{ErrorKind, MessageReport, Outbox, Selection, Sender, Services, SmtpSettings};

use crate::accounts;
use crate::cli::FlushArgs;
use crate::commands::{Globals, open_store};
use crate::exit::{CliError, Exit};
use crate::output::print_reports;

/// The states a flush takes without being told which messages.
const QUEUED: [SendState; 4] = [
    SendState::Waiting,
    SendState::Scheduled,
    SendState::Resend,
    SendState::UponRequest,
];

/// One send operation of the flush.
struct Group {
    settings: SmtpSettings,
    service: Option<EntryId>,
    selection: Selection,
}

/// Runs `flush`.
pub async fn run(g: &Globals, args: FlushArgs) -> Result<Exit, CliError> {
    let store = open_store(g.store_dir.clone())?;
    // A message a killed sender held must not look busy for good, nor be skipped as such.
    let mut all = Outbox::new(store.clone(), None).settle_stopped_senders()?;
    let mut last_settings = SmtpSettings::default();
    let mut stopped = false;
    for group in plan(&store, &args)? {
        let sender = Sender::new(store.clone(), group.settings.clone(), group.service);
        let _interrupt = crate::interrupt::guard(&sender);
        let bar = crate::progress::attach(&sender, g);
        let reports = send(&store, &sender, group.selection).await?;
        crate::progress::finish(bar);
        all.extend(reports);
        last_settings = group.settings;
        if sender.stop_handle().is_stopped() {
            stopped = true;
            break;
        }
    }
    if g.json {
        print_reports(&all, true, true, &last_settings);
    } else if all.is_empty() && !stopped {
        outln!("nothing to send");
    } else {
        print_reports(&all, false, true, &last_settings);
    }
    let exit = Exit::for_reports(&all);
    if stopped {
        // Interrupted: what was not attempted stays queued, and the exit code says so.
        let left = queued_count(&store)?;
        if left > 0 {
            eprintln!(
                "mailroom: stopped; {left} message(s) left queued in the Outbox (mailroom flush \
                 sends them)"
            );
            return Ok(exit.max_severity(Exit::TempFail));
        }
    }
    Ok(exit)
}

/// How many messages of the SMTP module wait in the Outbox to be sent.
fn queued_count(store: &Store) -> Result<usize, CliError> {
    let filter = Filter::all().mtm(mailroom::MTM_ID).send_states(&QUEUED);
    Ok(store
        .child_ids(EntryId::OUTBOX, &filter)
        .map_err(mailroom::Error::from)?
        .len())
}

/// Sends a selection. A list of ids may lose members to another sender that delivers them
/// first (they leave the Outbox); those are dropped and the rest sent.
async fn send(
    store: &Arc<Store>,
    sender: &Sender,
    selection: Selection,
) -> Result<Vec<MessageReport>, CliError> {
    let Selection::Ids(mut ids) = selection else {
        return Ok(sender.send(selection).await?);
    };
    for _ in 0..3 {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        match sender.send(Selection::Ids(ids.clone())).await {
            Ok(reports) => return Ok(reports),
            Err(e) if e.kind() == ErrorKind::Input => {
                ids.retain(|id| store.entry(*id).is_ok_and(|e| e.parent == EntryId::OUTBOX));
            }
            Err(e) => return Err(e.into()),
        }
    }
    Ok(sender.send(Selection::Ids(ids)).await?)
}

/// Which sends the flush makes. With `--server` or `--account`, one send through those
/// settings (with `--account`, only that account's messages); otherwise one per account, each
/// through its own settings, and messages of no account through the default account.
fn plan(store: &Arc<Store>, args: &FlushArgs) -> Result<Vec<Group>, CliError> {
    let named: Vec<EntryId> = args.ids.iter().map(|i| EntryId(*i)).collect();
    let explicit = args.server.server.is_some() || args.server.account.is_some();
    let filter = Filter::all().mtm(mailroom::MTM_ID);
    let entries = store
        .children(EntryId::OUTBOX, &filter)
        .map_err(mailroom::Error::from)?;
    for id in &named {
        if !entries.iter().any(|e| e.id == *id) {
            return Err(CliError::input(anyhow::anyhow!(
                "message {id} is not in the Outbox"
            )));
        }
    }
    if explicit {
        let resolved = accounts::resolve(store, &args.server)?;
        if resolved.settings.server.is_none() {
            return Err(CliError::config(anyhow::anyhow!(
                "the account has no server"
            )));
        }
        let (service, selection) = if named.is_empty() {
            let only = args.server.account.as_ref().and(resolved.service);
            (only, Selection::Queued)
        } else {
            (None, Selection::Ids(named))
        };
        return Ok(vec![Group {
            settings: resolved.settings,
            service,
            selection,
        }]);
    }
    let services = Services::new(store.clone());
    let default = services.default_service(mailroom::MTM_ID)?.map(|s| s.id);
    let selected = entries.into_iter().filter(|e| {
        if named.is_empty() {
            e.send_state.is_some_and(|s| QUEUED.contains(&s))
        } else {
            named.contains(&e.id)
        }
    });
    // (account, messages of that account, messages of no account sent through it)
    let mut accounts: Vec<(EntryId, bool, Vec<EntryId>)> = Vec::new();
    for entry in selected {
        let Some(account) = entry.service.or(default) else {
            return Err(CliError::config(anyhow::anyhow!(
                "flush needs --server or an account (mailroom account add)"
            )));
        };
        let index = match accounts.iter().position(|a| a.0 == account) {
            Some(i) => i,
            None => {
                accounts.push((account, false, Vec::new()));
                accounts.len() - 1
            }
        };
        if entry.service.is_some() && named.is_empty() {
            accounts[index].1 = true;
        } else {
            accounts[index].2.push(entry.id);
        }
    }
    let mut groups = Vec::new();
    for (account, own, ids) in accounts {
        let settings: SmtpSettings = services.settings(account)?;
        let settings = accounts::overlay(settings, &args.server, None)?;
        settings.validate()?;
        if own {
            groups.push(Group {
                settings: settings.clone(),
                service: Some(account),
                selection: Selection::Queued,
            });
        }
        if !ids.is_empty() {
            groups.push(Group {
                settings,
                service: None,
                selection: Selection::Ids(ids),
            });
        }
    }
    Ok(groups)
}
