//! Fills an Outbox with N messages of S bytes, or flushes it into a server, for the end-to-end
//! benchmark (`bench/run`): `outbox_flush_bench fill DIR N S`, `outbox_flush_bench flush DIR
//! HOST:PORT`. Filling is not timed by the benchmark; flushing is, records included.

use std::sync::Arc;
use std::time::Instant;

use mailroom::mime::{Mailbox, Message};
use mailroom::store::Store;
use mailroom::{Outbox, Selection, SendOption, Sender, SmtpSettings, TlsMode};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .as_slice()
    {
        ["fill", dir, count, size] => {
            let store = Arc::new(Store::open(std::path::Path::new(dir))?);
            let outbox = Outbox::new(store, None);
            let body = "x".repeat(size.parse::<usize>()?.saturating_sub(400));
            let started = Instant::now();
            let count: usize = count.parse()?;
            for i in 0..count {
                let message = Message {
                    from: Some(Mailbox::parse("bench@example.org")?),
                    to: vec![Mailbox::parse("sink@example.org")?],
                    subject: Some(format!("bench {i}")),
                    text: Some(body.clone()),
                    ..Message::default()
                };
                outbox.queue_message(&message, None, SendOption::OnRequest)?;
            }
            println!(
                "filled={count} seconds={:.3}",
                started.elapsed().as_secs_f64()
            );
        }
        ["flush", dir, server, rest @ ..] => {
            let sessions: u32 = rest.first().map_or(Ok(1), |s| s.parse())?;
            let store = Arc::new(Store::open(std::path::Path::new(dir))?);
            let settings = SmtpSettings {
                server: Some(format!("smtp://{server}").parse()?),
                tls: Some(TlsMode::None),
                connections_per_server: sessions,
                ..SmtpSettings::default()
            };
            let started = Instant::now();
            let reports = Sender::new(store, settings, None)
                .send(Selection::Queued)
                .await?;
            let sent = reports.iter().filter(|r| r.delivered()).count();
            println!(
                "sent={sent} of={} seconds={:.3}",
                reports.len(),
                started.elapsed().as_secs_f64()
            );
        }
        _ => {
            eprintln!("usage: outbox_flush_bench fill DIR N SIZE | flush DIR HOST:PORT [SESSIONS]");
            std::process::exit(64);
        }
    }
    Ok(())
}
