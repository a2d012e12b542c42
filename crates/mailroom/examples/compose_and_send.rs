//! Creates a message with the client MTM, edits it, saves it, and sends it through an SMTP
//! server, printing progress as it goes.
//!
//! ```sh
//! cargo run -p mailroom --example compose_and_send -- STORE_DIR smtp://127.0.0.1:2525 FROM TO
//! ```
//! The server is used without TLS when it is on 127.0.0.1, with STARTTLS otherwise.

use std::sync::Arc;

use mailroom::store::{RecipientKind, Store};
use mailroom::{Selection, SendOption, Sender, SmtpClientMtm, SmtpSettings, TlsMode};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [dir, server, from, to] = args.as_slice() else {
        eprintln!("usage: compose_and_send STORE_DIR smtp://HOST[:PORT] FROM TO");
        std::process::exit(64);
    };
    let store = Arc::new(Store::open(std::path::Path::new(dir))?);
    let server: mailroom::ServerUrl = server.parse()?;
    let local = server.host == "127.0.0.1";
    let settings = SmtpSettings {
        tls: local.then_some(TlsMode::None),
        server: Some(server),
        address: Some(from.clone()),
        ..SmtpSettings::default()
    };

    // Create, edit and save.
    let mut client = SmtpClientMtm::new(store.clone());
    let id = client.create_message(None)?;
    client.message_mut()?.from = Some(mailroom::parse_mailbox("from", from)?);
    client.add_addressee(RecipientKind::To, to)?;
    client.set_subject("Hello from mailroom")?;
    client.set_body("This message was composed, saved and sent by the example program.")?;
    client.save()?;
    println!("saved message {id} in Drafts");

    // Queue and send, printing progress.
    client.queue(SendOption::Immediately)?;
    let sender = Sender::new(store, settings, None);
    sender.on_progress(|p| {
        println!(
            "progress: {:?} message {}/{} bytes {}/{} sent {} not sent {} failed {}",
            p.state,
            p.index + 1,
            p.total,
            p.bytes_sent,
            p.bytes_total,
            p.sent,
            p.not_sent,
            p.failed
        )
    });
    for report in sender.send(Selection::Ids(vec![id])).await? {
        println!("{}", serde_json::to_string(&report)?);
    }
    Ok(())
}
