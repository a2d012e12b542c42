//! `watch`: stays running, sends due messages when the server can be reached and on the retry
//! schedule, and stops on SIGINT or SIGTERM after finishing the message in flight.

use mailroom::{Sender, Watcher};
use tokio::signal::unix::{SignalKind, signal};

use crate::cli_more::WatchArgs;
use crate::commands::{Globals, open_store};
use crate::exit::{CliError, Exit};
use crate::output::print_reports;

/// Runs the watcher until a signal arrives.
pub async fn run(g: &Globals, args: WatchArgs) -> Result<Exit, CliError> {
    let store = open_store(g.store_dir.clone())?;
    let resolved = crate::accounts::resolve(&store, &args.server)?;
    let settings = resolved.settings;
    if settings.server.is_none() {
        return Err(CliError::config(anyhow::anyhow!(
            "watch needs --server or an account (mailroom account add)"
        )));
    }
    let config = settings.client_config()?;
    // With --account only that account's messages; otherwise every queued message goes
    // through the chosen server.
    let service = args.server.account.as_ref().and(resolved.service);
    let sender = Sender::new(store.clone(), settings.clone(), service).with_client_config(config);
    let _bar = crate::progress::attach(&sender, g);
    let watcher = Watcher::new(sender);
    let io = |e: std::io::Error| CliError::new(Exit::Software, "internal", e);
    let mut interrupt = signal(SignalKind::interrupt()).map_err(io)?;
    let mut terminate = signal(SignalKind::terminate()).map_err(io)?;
    let stop = async {
        tokio::select! {
            _ = interrupt.recv() => {}
            _ = terminate.recv() => {}
        }
    };
    if !g.json && !g.quiet {
        eprintln!(
            "mailroom: watching the Outbox, sending through {}; Ctrl-C stops",
            settings
                .server
                .as_ref()
                .map(|s| s.to_string())
                .unwrap_or_default()
        );
    }
    let json = g.json;
    watcher
        .run(stop, |reports| {
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
        .await?;
    if !g.json && !g.quiet {
        eprintln!("mailroom: stopped");
    }
    Ok(Exit::Ok)
}
