//! Interop of `Session::send_batch` with real servers on 127.0.0.1: 50 messages each, every
//! one pipelined behind the previous final dot or last BDAT chunk where the server offers
//! PIPELINING (Postfix, Exim) and one at a time where it does not (aiosmtpd), every one
//! arriving exactly once.

mod common;

use std::sync::Arc;

use common::Transcript;
use mailroom_smtp::{
    ClientConfig, Credentials, Delivery, Envelope, Error, Outgoing, Session, TlsMode,
};

const COUNT: usize = 50;

fn message(i: usize) -> Vec<u8> {
    format!(
        "From: a@example.org\nTo: b@example.net\nSubject: batch {i}\n\
         Message-ID: <batch-{i}@mailroom.test>\n\n.dotted line {i}\nbody\n"
    )
    .into_bytes()
}

fn config(port: u16, cert: &common::Cert) -> ClientConfig {
    let mut config = ClientConfig::new("127.0.0.1", port);
    config.tls = TlsMode::StartTls;
    config.tls_server_name = Some("localhost".into());
    config.extra_roots = vec![cert.der.clone()];
    config.ehlo_name = Some("client.mailroom.test".into());
    config
}

/// Sends `COUNT` messages in one batch; every outcome must be an acceptance, in order.
async fn send_all(session: &mut Session) {
    let bodies: Vec<Vec<u8>> = (0..COUNT).map(message).collect();
    let mut next = 0;
    let mut outcomes: Vec<(usize, Result<Delivery, Error>)> = Vec::new();
    session
        .send_batch(
            || {
                let i = next;
                next += 1;
                let envelope = Envelope::new("a@example.org", ["b@example.net"]);
                let body = bodies.get(i)?;
                Some(Outgoing::new(
                    i,
                    envelope,
                    &body[..],
                    Some(body.len() as u64),
                ))
            },
            |i, result| outcomes.push((i, result)),
        )
        .await;
    assert_eq!(outcomes.len(), COUNT);
    for (n, (i, result)) in outcomes.iter().enumerate() {
        assert_eq!(n, *i);
        assert!(
            matches!(result, Ok(d) if d.is_accepted()),
            "{i}: {result:?}"
        );
    }
}

/// How often the client wrote the next transaction right after a message's end (MAIL behind a
/// final dot, RSET behind a last BDAT chunk), before reading that end's reply.
fn pipelined_behind_ends(transcript: &Transcript) -> usize {
    let lines = transcript.0.lock().unwrap();
    lines
        .windows(2)
        .filter(|w| {
            let dot = w[0] == "C: ." && w[1].starts_with("C: MAIL FROM:");
            let chunk = w[0].starts_with("C: [message content") && w[1] == "C: RSET";
            dot || chunk
        })
        .count()
}

/// How many RSET commands the client sent.
fn rsets(transcript: &Transcript) -> usize {
    let lines = transcript.0.lock().unwrap();
    lines.iter().filter(|l| *l == "C: RSET").count()
}

/// RSET goes only behind a last BDAT chunk: the reply to a final dot ends its transaction.
fn rsets_expected(chunking: bool) -> usize {
    if chunking { COUNT - 1 } else { 0 }
}

/// Each Message-ID of the batch exactly once among the captured messages.
fn each_once(captured: &[String]) {
    assert_eq!(
        captured.len(),
        COUNT,
        "captured {} messages",
        captured.len()
    );
    for i in 0..COUNT {
        // Exim logs the Message-ID without its angle brackets.
        let id = format!("batch-{i}@mailroom.test");
        let n = captured.iter().filter(|m| m.contains(&id)).count();
        assert_eq!(n, 1, "{id} captured {n} times");
    }
}

async fn postfix_batch(chunking: bool) {
    let cert = common::cert();
    let server = common::servers::postfix(&cert, 100_000).await;
    let transcript = Arc::new(Transcript::default());
    let mut config = config(server.port, &cert);
    config.disable.chunking = !chunking;
    config.transcript = Some(transcript.clone());
    let mut session = Session::connect(&config, None).await.unwrap();
    assert!(session.capabilities().pipelining() && session.capabilities().chunking());
    send_all(&mut session).await;
    session.quit().await.unwrap();
    assert_eq!(pipelined_behind_ends(&transcript), COUNT - 1);
    assert_eq!(rsets(&transcript), rsets_expected(chunking));
    let bdat = transcript
        .0
        .lock()
        .unwrap()
        .iter()
        .filter(|l| l.starts_with("C: BDAT"))
        .count();
    assert_eq!(bdat, if chunking { COUNT } else { 0 });
    let relayed = server.relayed(COUNT).await;
    each_once(&relayed);
    let first = relayed
        .iter()
        .find(|m| m.contains("<batch-0@mailroom.test>"))
        .unwrap();
    assert!(first.contains("\n.dotted line 0") && !first.contains("..dotted"));
}

#[tokio::test]
async fn postfix_batch_over_data_pipelined_behind_each_dot_arrives_once_each() {
    postfix_batch(false).await;
}

#[tokio::test]
async fn postfix_batch_over_bdat_pipelined_behind_each_last_chunk_arrives_once_each() {
    postfix_batch(true).await;
}

#[tokio::test]
async fn aiosmtpd_batch_without_pipelining_arrives_once_each() {
    let cert = common::cert();
    let server = common::servers::aiosmtpd(&cert, "starttls").await;
    let transcript = Arc::new(Transcript::default());
    let mut config = config(server.port, &cert);
    config.credentials = Some(Credentials::new("alice", "s3cret"));
    config.transcript = Some(transcript.clone());
    let mut session = Session::connect(&config, None).await.unwrap();
    assert!(!session.capabilities().pipelining());
    send_all(&mut session).await;
    session.quit().await.unwrap();
    assert_eq!(pipelined_behind_ends(&transcript), 0);
    assert_eq!(rsets(&transcript), 0);
    let contents: Vec<String> = server
        .spool()
        .iter()
        .map(|m| m["content"].as_str().unwrap().to_string())
        .collect();
    each_once(&contents);
    assert!(
        contents[0].contains("\r\n.dotted line 0\r\n"),
        "{}",
        contents[0]
    );
}

async fn exim_batch(chunking: bool) {
    let cert = common::cert();
    let server = common::servers::exim(&cert).await;
    let transcript = Arc::new(Transcript::default());
    let mut config = config(server.port, &cert);
    config.credentials = Some(Credentials::new("alice", "s3cret"));
    config.disable.chunking = !chunking;
    config.transcript = Some(transcript.clone());
    let mut session = Session::connect(&config, None).await.unwrap();
    assert!(session.capabilities().pipelining() && session.capabilities().chunking());
    send_all(&mut session).await;
    session.quit().await.unwrap();
    assert_eq!(pipelined_behind_ends(&transcript), COUNT - 1);
    assert_eq!(rsets(&transcript), rsets_expected(chunking));
    let log = server.exim_log();
    let received: Vec<String> = log
        .lines()
        .filter(|l| l.contains("<= a@example.org"))
        .map(String::from)
        .collect();
    each_once(&received);
    assert!(!log.contains("synchronization error"), "{log}");
}

#[tokio::test]
async fn exim_batch_over_data_pipelined_behind_each_dot_arrives_once_each() {
    exim_batch(false).await;
}

#[tokio::test]
async fn exim_batch_over_bdat_pipelined_behind_each_last_chunk_arrives_once_each() {
    exim_batch(true).await;
}
