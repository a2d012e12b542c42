//! Scripted-server cases for `Session::send_batch`: the next transaction pipelined behind the
//! previous message's final dot, and one transaction at a time without PIPELINING.

mod common;

use std::sync::Arc;

use common::batch::{PIPELINING, accepted, batch, to};
use common::{Recorder, Step::*, Transcript, ehlo, serve};
use mailroom_smtp::{DataOutcome, ErrorKind, Event, Session, SessionState};

#[tokio::test]
async fn final_dot_and_next_envelope_leave_in_one_write_before_the_final_reply() {
    let mut script = ehlo(PIPELINING);
    script.extend([
        ExpectOneRead("MAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.org>\r\nDATA\r\n"),
        Reply("250 ok\r\n250 ok\r\n354 go\r\n"),
        // The reply to this dot is withheld until the next DATA has arrived.
        ExpectOneRead(
            "one\r\n.\r\nMAIL FROM:<a@example.org>\r\nRCPT TO:<c@example.org>\r\nDATA\r\n",
        ),
        Reply("250 queued one\r\n250 ok\r\n250 ok\r\n354 go\r\n"),
        ExpectOneRead("two\r\n.\r\n"),
        Reply("250 queued two\r\n"),
        Expect("QUIT\r\n"),
        Reply("221 bye\r\n"),
    ]);
    let server = serve(script).await;
    let events = Arc::new(Recorder::default());
    let transcript = Arc::new(Transcript::default());
    let mut config = server.config();
    config.transcript = Some(transcript.clone());
    let mut session = Session::connect(&config, Some(events.clone()))
        .await
        .unwrap();
    events.0.lock().unwrap().clear();
    transcript.0.lock().unwrap().clear();
    let (outcomes, log) = batch(
        &mut session,
        vec![(to("b@example.org"), b"one"), (to("c@example.org"), b"two")],
    )
    .await;
    assert!(outcomes.iter().all(accepted), "{outcomes:?}");
    assert_eq!(log, ["next 0", "next 1", "done 0", "next none", "done 1"]);
    assert!(session.is_open());
    session.quit().await.unwrap();
    assert!(
        server
            .client_bytes()
            .await
            .ends_with("two\r\n.\r\nQUIT\r\n")
    );

    let sent = |n| Event::BytesSent {
        sent: n,
        total: None,
    };
    let sending = Event::State(SessionState::Sending);
    let events: Vec<Event> = events.0.lock().unwrap().clone();
    let ready = Event::State(SessionState::Ready);
    let closing = Event::State(SessionState::Closing);
    assert_eq!(
        events,
        [sending.clone(), sent(3), sending, sent(3), ready, closing]
    );
    let lines = transcript.0.lock().unwrap().clone();
    assert_eq!(
        lines,
        [
            "C: MAIL FROM:<a@example.org>",
            "C: RCPT TO:<b@example.org>",
            "C: DATA",
            "S: 250 ok",
            "S: 250 ok",
            "S: 354 go",
            "C: [message content: 5 bytes]",
            "C: .",
            "C: MAIL FROM:<a@example.org>",
            "C: RCPT TO:<c@example.org>",
            "C: DATA",
            "S: 250 queued one",
            "S: 250 ok",
            "S: 250 ok",
            "S: 354 go",
            "C: [message content: 5 bytes]",
            "C: .",
            "S: 250 queued two",
            "C: QUIT",
            "S: 221 bye",
        ]
    );
}

#[tokio::test]
async fn three_messages_each_pipelined_behind_the_previous_dot() {
    let mut script = ehlo(PIPELINING);
    script.extend([
        ExpectOneRead("MAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.org>\r\nDATA\r\n"),
        Reply("250 ok\r\n250 ok\r\n354 go\r\n"),
        ExpectOneRead(
            "one\r\n.\r\nMAIL FROM:<a@example.org>\r\nRCPT TO:<c@example.org>\r\nDATA\r\n",
        ),
        Reply("250 queued one\r\n250 ok\r\n250 ok\r\n354 go\r\n"),
        ExpectOneRead(
            "two\r\n.\r\nMAIL FROM:<a@example.org>\r\nRCPT TO:<d@example.org>\r\nDATA\r\n",
        ),
        Reply("250 queued two\r\n250 ok\r\n250 ok\r\n354 go\r\n"),
        ExpectOneRead("..three\r\n.\r\n"),
        Reply("250 queued three\r\n"),
    ]);
    let server = serve(script).await;
    let mut session = Session::connect(&server.config(), None).await.unwrap();
    let (outcomes, log) = batch(
        &mut session,
        vec![
            (to("b@example.org"), b"one"),
            (to("c@example.org"), b"two\n"),
            (to("d@example.org"), b".three"),
        ],
    )
    .await;
    assert!(outcomes.iter().all(accepted), "{outcomes:?}");
    let codes: Vec<String> = outcomes
        .iter()
        .map(|r| match &r.as_ref().unwrap().data {
            DataOutcome::Accepted(reply) => reply.to_string(),
            other => panic!("{other:?}"),
        })
        .collect();
    assert!(codes[0].contains("one") && codes[1].contains("two") && codes[2].contains("three"));
    assert_eq!(
        log,
        [
            "next 0",
            "next 1",
            "done 0",
            "next 2",
            "done 1",
            "next none",
            "done 2"
        ]
    );
    drop(session);
    server.client_bytes().await;
}

#[tokio::test]
async fn envelope_refused_before_writing_is_reported_in_its_turn() {
    let mut script = ehlo(PIPELINING);
    script.extend([
        Expect("MAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.org>\r\nDATA\r\n"),
        Reply("250 ok\r\n250 ok\r\n354 go\r\n"),
        // The bad envelope wrote nothing; the third message took its place behind the dot.
        ExpectOneRead(
            "one\r\n.\r\nMAIL FROM:<a@example.org>\r\nRCPT TO:<d@example.org>\r\nDATA\r\n",
        ),
        Reply("250 queued\r\n250 ok\r\n250 ok\r\n354 go\r\n"),
        ExpectOneRead("three\r\n.\r\n"),
        Reply("250 queued\r\n"),
    ]);
    let server = serve(script).await;
    let mut session = Session::connect(&server.config(), None).await.unwrap();
    let (outcomes, log) = batch(
        &mut session,
        vec![
            (to("b@example.org"), b"one"),
            (to("bad\r\nRCPT TO:<x@example.org>"), b"two"),
            (to("d@example.org"), b"three"),
        ],
    )
    .await;
    assert!(accepted(&outcomes[0]) && accepted(&outcomes[2]));
    assert_eq!(outcomes[1].as_ref().unwrap_err().kind(), ErrorKind::Input);
    assert_eq!(
        log,
        [
            "next 0",
            "next 1",
            "next 2",
            "done 0",
            "done 1",
            "next none",
            "done 2"
        ]
    );
    drop(session);
    server.client_bytes().await;
}

/// Without pipelining every command waits for its reply, and the next message starts only once
/// the previous final reply is in.
fn one_at_a_time(extensions: &'static str) -> Vec<common::Step> {
    let mut script = ehlo(extensions);
    script.extend([
        ExpectAlone("MAIL FROM:<a@example.org>\r\n"),
        Reply("250 ok\r\n"),
        ExpectAlone("RCPT TO:<b@example.org>\r\n"),
        Reply("250 ok\r\n"),
        ExpectAlone("DATA\r\n"),
        Reply("354 go\r\n"),
        ExpectAlone("one\r\n.\r\n"),
        Reply("250 queued\r\n"),
        ExpectAlone("MAIL FROM:<a@example.org>\r\n"),
        Reply("250 ok\r\n"),
        ExpectAlone("RCPT TO:<c@example.org>\r\n"),
        Reply("250 ok\r\n"),
        ExpectAlone("DATA\r\n"),
        Reply("354 go\r\n"),
        ExpectAlone("two\r\n.\r\n"),
        Reply("250 queued\r\n"),
    ]);
    script
}

#[tokio::test]
async fn batch_without_pipelining_runs_one_transaction_at_a_time() {
    let server = serve(one_at_a_time("250-mx.test\r\n250 8BITMIME\r\n")).await;
    let mut session = Session::connect(&server.config(), None).await.unwrap();
    let (outcomes, log) = batch(
        &mut session,
        vec![(to("b@example.org"), b"one"), (to("c@example.org"), b"two")],
    )
    .await;
    assert!(outcomes.iter().all(accepted), "{outcomes:?}");
    assert_eq!(log, ["next 0", "done 0", "next 1", "done 1", "next none"]);
    drop(session);
    assert!(!server.client_bytes().await.contains("<<EARLY>>"));
}

#[tokio::test]
async fn batch_with_pipelining_disabled_runs_one_transaction_at_a_time() {
    let server = serve(one_at_a_time(PIPELINING)).await;
    let mut config = server.config();
    config.disable.pipelining = true;
    let mut session = Session::connect(&config, None).await.unwrap();
    let (outcomes, log) = batch(
        &mut session,
        vec![(to("b@example.org"), b"one"), (to("c@example.org"), b"two")],
    )
    .await;
    assert!(outcomes.iter().all(accepted), "{outcomes:?}");
    assert_eq!(log, ["next 0", "done 0", "next 1", "done 1", "next none"]);
    drop(session);
    assert!(!server.client_bytes().await.contains("<<EARLY>>"));
}

#[tokio::test]
async fn last_bdat_chunk_and_next_envelope_leave_in_one_write_before_its_reply() {
    let mut script = ehlo("250-mx.test\r\n250-PIPELINING\r\n250 CHUNKING\r\n");
    script.extend([
        ExpectOneRead("MAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.org>\r\n"),
        Reply("250 ok\r\n250 ok\r\n"),
        ExpectOneRead(
            "BDAT 5 LAST\r\none\r\nRSET\r\nMAIL FROM:<a@example.org>\r\nRCPT TO:<c@example.org>\r\n",
        ),
        Reply("250 queued one\r\n250 reset\r\n250 ok\r\n250 ok\r\n"),
        ExpectOneRead("BDAT 5 LAST\r\ntwo\r\n"),
        Reply("250 queued two\r\n"),
    ]);
    let server = serve(script).await;
    let mut session = Session::connect(&server.config(), None).await.unwrap();
    let (outcomes, log) = batch(
        &mut session,
        vec![(to("b@example.org"), b"one"), (to("c@example.org"), b"two")],
    )
    .await;
    assert!(outcomes.iter().all(accepted), "{outcomes:?}");
    assert_eq!(log, ["next 0", "next 1", "done 0", "next none", "done 1"]);
    drop(session);
    server.client_bytes().await;
}

#[tokio::test]
async fn large_body_keeps_its_tail_for_the_write_that_carries_the_next_envelope() {
    // 3 blocks of 64 KiB and a bit: earlier blocks go out on their own, the tail waits.
    static BODY: std::sync::LazyLock<Vec<u8>> = std::sync::LazyLock::new(|| {
        let line =
            b"0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789abcd\r\n";
        line.iter().copied().cycle().take(78 * 2600).collect()
    });
    let mut script = ehlo(PIPELINING);
    script.extend([
        Expect("MAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.org>\r\nDATA\r\n"),
        Reply("250 ok\r\n250 ok\r\n354 go\r\n"),
        ReadBytes(3 * 64 * 1024),
    ]);
    let tail_len = BODY.len() - 3 * 64 * 1024;
    let tail = format!(
        "{}.\r\nMAIL FROM:<a@example.org>\r\nRCPT TO:<c@example.org>\r\nDATA\r\n",
        String::from_utf8_lossy(&BODY[BODY.len() - tail_len..])
    );
    script.extend([
        ExpectOneRead(Box::leak(tail.into_boxed_str())),
        Reply("250 queued\r\n250 ok\r\n250 ok\r\n354 go\r\n"),
        ExpectOneRead("two\r\n.\r\n"),
        Reply("250 queued\r\n"),
    ]);
    let server = serve(script).await;
    let mut session = Session::connect(&server.config(), None).await.unwrap();
    let (outcomes, _) = batch(
        &mut session,
        vec![
            (to("b@example.org"), &BODY[..]),
            (to("c@example.org"), b"two"),
        ],
    )
    .await;
    assert!(outcomes.iter().all(accepted), "{outcomes:?}");
    drop(session);
    let bytes = server.client_bytes().await;
    assert!(bytes.contains(std::str::from_utf8(&BODY).unwrap()));
}
