//! `watch`: stays running, sends due messages when the server can be reached and on the retry
//! schedule, and stops on SIGINT or SIGTERM after finishing the message in flight.

use std::sync::Arc;

use mailroom::store::Store;
use mailroom::{MTM_ID, Sender, Services, SmtpSettings, Watcher};
use tokio::signal::unix::{SignalKind, signal};

use crate::cli_more::WatchArgs;
use crate::commands::{Globals, open_store};
use crate::exit::{CliError, Exit};
use crate::output::print_reports;

/// What one watcher sends: messages of `service` (or every message) through `settings`.
struct Plan {
    settings: SmtpSettings,
    service: Option<mailroom::store::EntryId>,
}

/// With `--server` one watcher for every queued message; with `--account` one for that
/// account's; otherwise one per account, each through its own settings.
fn plans(store: &Arc<Store>, args: &WatchArgs) -> Result<Vec<Plan>, CliError> {
    if args.server.server.is_some() || args.server.account.is_some() {
        let resolved = crate::accounts::resolve(store, &args.server)?;
        let service = args.server.account.as_ref().and(resolved.service);
        return Ok(vec![Plan {
            settings: resolved.settings,
            service,
        }]);
    }
    let services = Services::new(store.clone());
    let mut plans = Vec::new();
    for info in services.list(Some(MTM_ID))? {
        let settings: SmtpSettings = services.settings(info.id)?;
        let settings = crate::accounts::overlay(settings, &args.server, None)?;
        settings.validate()?;
        plans.push(Plan {
            settings,
            service: Some(info.id),
        });
    }
    Ok(plans)
}

/// Keeps the first error a watcher ended with.
fn note(
    done: Result<Result<(), mailroom::Error>, tokio::task::JoinError>,
    error: &mut Option<CliError>,
) {
    let failed = match done {
        Ok(Ok(())) => return,
        Ok(Err(e)) => CliError::from(e),
        Err(e) => CliError::new(Exit::Software, "internal", e),
    };
    error.get_or_insert(failed);
}

/// Runs the watchers until a signal arrives.
pub async fn run(g: &Globals, args: WatchArgs) -> Result<Exit, CliError> {
    let store = open_store(g.store_dir.clone())?;
    let plans = plans(&store, &args)?;
    if plans.is_empty() || plans.iter().any(|p| p.settings.server.is_none()) {
        return Err(CliError::config(anyhow::anyhow!(
            "watch needs --server or an account with a server (mailroom account add)"
        )));
    }
    let io = |e: std::io::Error| CliError::new(Exit::Software, "internal", e);
    let mut interrupt = signal(SignalKind::interrupt()).map_err(io)?;
    let mut terminate = signal(SignalKind::terminate()).map_err(io)?;
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let single = plans.len() == 1;
    let mut tasks = tokio::task::JoinSet::new();
    for plan in plans {
        let config = plan.settings.client_config()?;
        let sender = Sender::new(store.clone(), plan.settings.clone(), plan.service)
            .with_client_config(config);
        let bar = if single {
            crate::progress::attach(&sender, g)
        } else {
            None
        };
        if !g.json && !g.quiet {
            eprintln!(
                "mailroom: watching the Outbox, sending through {}; Ctrl-C stops",
                plan.settings
                    .server
                    .as_ref()
                    .map(|s| s.to_string())
                    .unwrap_or_default()
            );
        }
        let watcher = Watcher::new(sender);
        let mut stop_rx = stop_rx.clone();
        let stop = async move {
            let _ = stop_rx.wait_for(|stop| *stop).await;
        };
        let (json, settings) = (g.json, plan.settings);
        tasks.spawn(async move {
            let _bar = bar;
            watcher
                .run(stop, move |reports| {
                    if json {
                        for r in reports {
                            print_reports(std::slice::from_ref(r), true, false, &settings);
                        }
                    } else {
                        if std::io::IsTerminal::is_terminal(&std::io::stderr()) {
                            eprintln!();
                        }
                        print_reports(reports, false, true, &settings);
                    }
                })
                .await
        });
    }
    let mut error = None;
    tokio::select! {
        _ = interrupt.recv() => {}
        _ = terminate.recv() => {}
        Some(done) = tasks.join_next() => note(done, &mut error),
    }
    let _ = stop_tx.send(true);
    // Each watcher finishes the message it is sending before it returns.
    while let Some(done) = tasks.join_next().await {
        note(done, &mut error);
    }
    if let Some(error) = error {
        return Err(error);
    }
    if !g.json && !g.quiet {
        eprintln!("mailroom: stopped");
    }
    Ok(Exit::Ok)
}
