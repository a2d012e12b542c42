//! Sends many small messages to one SMTP server and prints the rate.
//!
//! `throughput HOST PORT MESSAGES SIZE SESSIONS`; plaintext, no AUTH (for a local sink). Each
//! session sends its share as one batch, each message pipelined behind the previous final dot
//! when the server offers PIPELINING.

use std::time::Instant;

use mailroom_smtp::{ClientConfig, Envelope, Outgoing, Session, TlsMode};

fn message(size: usize) -> Vec<u8> {
    let mut m =
        b"From: bench@example.org\r\nTo: sink@example.org\r\nSubject: throughput\r\n\r\n".to_vec();
    let line = b"0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789abcd\r\n";
    while m.len() + line.len() <= size {
        m.extend_from_slice(line);
    }
    m.resize(size.max(m.len()), b'x');
    m
}

async fn run(config: ClientConfig, count: usize, body: std::sync::Arc<Vec<u8>>) -> usize {
    let mut session = Session::connect(&config, None).await.expect("connect");
    let envelope = Envelope::new("bench@example.org", ["sink@example.org"]);
    let size = Some(body.len() as u64);
    let mut handed = 0;
    let mut accepted = 0;
    session
        .send_batch(
            || {
                handed += 1;
                (handed <= count).then(|| Outgoing::new((), envelope.clone(), &body[..], size))
            },
            |(), result| match result {
                Ok(delivery) if delivery.is_accepted() => accepted += 1,
                Ok(delivery) => eprintln!("not accepted: {:?}", delivery.data),
                Err(error) => panic!("send: {error}"),
            },
        )
        .await;
    session.quit().await.expect("quit");
    accepted
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() != 6 {
        eprintln!("usage: throughput HOST PORT MESSAGES SIZE SESSIONS");
        std::process::exit(64);
    }
    let host = args[1].clone();
    let port: u16 = args[2].parse().expect("port");
    let messages: usize = args[3].parse().expect("messages");
    let size: usize = args[4].parse().expect("size");
    let sessions: usize = args[5].parse().expect("sessions");
    let mut config = ClientConfig::new(host, port);
    config.tls = TlsMode::None;
    config.ehlo_name = Some("bench.mailroom.test".into());
    let body = std::sync::Arc::new(message(size));
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let started = Instant::now();
    let accepted: usize = runtime.block_on(async {
        if sessions == 1 {
            // One session runs on the runtime's own thread, no task hand-offs.
            return run(config.clone(), messages, body.clone()).await;
        }
        let mut tasks = Vec::new();
        for i in 0..sessions {
            let share = messages / sessions + usize::from(i < messages % sessions);
            tasks.push(tokio::spawn(run(config.clone(), share, body.clone())));
        }
        let mut total = 0;
        for task in tasks {
            total += task.await.expect("task");
        }
        total
    });
    let seconds = started.elapsed().as_secs_f64();
    println!(
        "messages={accepted} seconds={seconds:.3} rate={:.1}",
        accepted as f64 / seconds
    );
}
