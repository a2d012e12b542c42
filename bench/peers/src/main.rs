//! lettre, the peer that `bench/run` measures mailroom against.
//!
//! ```text
//! mailroom-bench-peers throughput HOST PORT MESSAGES SIZE SESSIONS
//! mailroom-bench-peers attach HOST PORT FILE
//! ```
//!
//! `throughput` sends MESSAGES messages of SIZE bytes through one pooled `AsyncSmtpTransport`
//! (pool of SESSIONS connections, SESSIONS tasks sharing it) and prints
//! `messages=N seconds=S rate=R`, like mailroom's own `throughput` example. `attach` sends one
//! message with FILE as its attachment, built the way lettre's documentation shows (the file
//! read into memory), and prints `peak_rss_kib=K`. Both are plaintext, without AUTH, for a
//! local smtp-sink.

use std::sync::Arc;
use std::time::Instant;

use lettre::address::Envelope;
use lettre::message::header::ContentType;
use lettre::message::{Attachment, MultiPart, SinglePart};
use lettre::transport::smtp::PoolConfig;
use lettre::transport::smtp::extension::ClientId;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

type Transport = AsyncSmtpTransport<Tokio1Executor>;

fn transport(host: &str, port: u16, sessions: u32) -> Transport {
    AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host)
        .port(port)
        .hello_name(ClientId::Domain("bench.mailroom.test".into()))
        .pool_config(PoolConfig::new().max_size(sessions).min_idle(0))
        .build()
}

/// The same message body as mailroom's `throughput` example: headers, then 78-byte lines.
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

async fn send_share(transport: Transport, count: usize, body: Arc<Vec<u8>>) -> usize {
    let envelope = Envelope::new(
        Some("bench@example.org".parse().expect("from")),
        vec!["sink@example.org".parse().expect("to")],
    )
    .expect("envelope");
    let mut accepted = 0;
    for _ in 0..count {
        let response = transport.send_raw(&envelope, &body).await.expect("send");
        if response.is_positive() {
            accepted += 1;
        }
    }
    accepted
}

fn throughput(host: &str, port: u16, messages: usize, size: usize, sessions: usize) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let body = Arc::new(message(size));
    let started = Instant::now();
    let accepted: usize = runtime.block_on(async {
        let transport = transport(host, port, sessions as u32);
        let mut tasks = Vec::new();
        for i in 0..sessions {
            let share = messages / sessions + usize::from(i < messages % sessions);
            tasks.push(tokio::spawn(send_share(
                transport.clone(),
                share,
                body.clone(),
            )));
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

fn attach(host: &str, port: u16, file: &str) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let content = std::fs::read(file).expect("read the attachment");
    let message = Message::builder()
        .from("bench@example.org".parse().expect("from"))
        .to("sink@example.org".parse().expect("to"))
        .subject("One big attachment")
        .multipart(
            MultiPart::mixed()
                .singlepart(SinglePart::plain("See the attachment.".to_string()))
                .singlepart(Attachment::new("big.bin".into()).body(
                    content,
                    ContentType::parse("application/octet-stream").unwrap(),
                )),
        )
        .expect("message");
    let started = Instant::now();
    runtime.block_on(async {
        let response = transport(host, port, 1).send(message).await.expect("send");
        assert!(response.is_positive(), "refused: {response:?}");
    });
    println!(
        "sent=1 seconds={:.3} peak_rss_kib={}",
        started.elapsed().as_secs_f64(),
        peak_rss_kib()
    );
}

fn peak_rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    match args.as_slice() {
        ["throughput", host, port, messages, size, sessions] => throughput(
            host,
            port.parse().expect("port"),
            messages.parse().expect("messages"),
            size.parse().expect("size"),
            sessions.parse().expect("sessions"),
        ),
        ["attach", host, port, file] => attach(host, port.parse().expect("port"), file),
        _ => {
            eprintln!(
                "usage: mailroom-bench-peers throughput HOST PORT MESSAGES SIZE SESSIONS \
                 | attach HOST PORT FILE"
            );
            std::process::exit(64);
        }
    }
}
