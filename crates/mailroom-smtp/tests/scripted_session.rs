//! Scripted-server cases: session reuse and reopening, timeouts, events, transcript.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::{Recorder, Step::*, Transcript, ehlo, serve, serve_many};
use mailroom_smtp::{
    DataOutcome, Envelope, ErrorKind, Event, Phase, RecipientStatus, Session, SessionState,
};

const EHLO: &str = "250-mx.test\r\n250 PIPELINING\r\n";

fn one_message(body_line: &'static str) -> Vec<common::Step> {
    vec![
        Expect("MAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.org>\r\nDATA\r\n"),
        Reply("250 ok\r\n250 ok\r\n354 go\r\n"),
        Expect(body_line),
        Reply("250 ok\r\n"),
    ]
}

#[tokio::test]
async fn session_closed_while_idle_is_reopened_before_the_next_message() {
    let mut first = ehlo(EHLO);
    first.extend(one_message("one\r\n.\r\n"));
    first.extend([Reply("421 4.4.2 idle too long\r\n"), Close]);
    let mut second = ehlo(EHLO);
    second.extend(one_message("two\r\n.\r\n"));
    let server = serve_many(vec![first, second]).await;
    let mut session = Session::connect(&server.config(), None).await.unwrap();
    let envelope = Envelope::new("a@example.org", ["b@example.org"]);
    assert!(
        session
            .send(&envelope, &b"one"[..], None)
            .await
            .unwrap()
            .is_accepted()
    );
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(
        session
            .send(&envelope, &b"two"[..], None)
            .await
            .unwrap()
            .is_accepted()
    );
    drop(session);
    let connections = server.connections().await;
    assert_eq!(connections.len(), 2);
    assert!(!connections[0].contains("two"), "{:?}", connections[0]);
}

#[tokio::test]
async fn eof_while_idle_is_noticed_and_reopened() {
    let mut first = ehlo(EHLO);
    first.extend(one_message("one\r\n.\r\n"));
    first.push(Close);
    let mut second = ehlo(EHLO);
    second.extend(one_message("two\r\n.\r\n"));
    let server = serve_many(vec![first, second]).await;
    let mut session = Session::connect(&server.config(), None).await.unwrap();
    let envelope = Envelope::new("a@example.org", ["b@example.org"]);
    assert!(
        session
            .send(&envelope, &b"one"[..], None)
            .await
            .unwrap()
            .is_accepted()
    );
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(
        session
            .send(&envelope, &b"two"[..], None)
            .await
            .unwrap()
            .is_accepted()
    );
}

#[tokio::test]
async fn rcpt_421_in_a_pipelined_group_closes_and_leaves_all_transient() {
    let mut script = ehlo(EHLO);
    script.extend([
        Expect("MAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.org>\r\nRCPT TO:<c@example.org>\r\nDATA\r\n"),
        Reply("250 ok\r\n250 ok\r\n421 4.3.2 going down\r\n"),
        Close,
    ]);
    let server = serve(script).await;
    let mut session = Session::connect(&server.config(), None).await.unwrap();
    let envelope = Envelope::new("a@example.org", ["b@example.org", "c@example.org"]);
    let err = session.send(&envelope, &b"x"[..], None).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Closed);
    assert_eq!(err.phase(), Some(Phase::RcptTo));
    assert!(err.is_transient());
    assert!(!session.is_open());
}

#[tokio::test]
async fn content_refused_after_the_dot_ends_the_transaction_without_rset() {
    let mut script = ehlo(EHLO);
    script.extend([
        Expect("MAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.org>\r\nDATA\r\n"),
        Reply("250 ok\r\n250 ok\r\n354 go\r\n"),
        Expect("spam\r\n.\r\n"),
        Reply("554 5.7.1 looks like spam\r\n"),
        // The reply to the dot ended the transaction: MAIL follows at once.
        Expect("MAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.org>\r\nDATA\r\n"),
        Reply("250 ok\r\n452 4.2.2 mailbox full\r\n554 no valid recipients\r\n"),
        Expect("RSET\r\n"),
        Reply("250 ok\r\n"),
    ]);
    let server = serve(script).await;
    let mut session = Session::connect(&server.config(), None).await.unwrap();
    let envelope = Envelope::new("a@example.org", ["b@example.org"]);
    let delivery = session.send(&envelope, &b"spam"[..], None).await.unwrap();
    match &delivery.data {
        DataOutcome::Rejected(reply) => assert_eq!(reply.code, 554),
        other => panic!("{other:?}"),
    }
    assert_eq!(delivery.recipients[0].status, RecipientStatus::Accepted);
    let delivery = session.send(&envelope, &b"again"[..], None).await.unwrap();
    assert_eq!(delivery.recipients[0].status, RecipientStatus::Deferred);
    assert!(matches!(delivery.data, DataOutcome::NotAttempted));
    drop(session);
    assert!(!server.client_bytes().await.contains("again"));
}

#[tokio::test]
async fn rcpt_timeout_is_a_timeout_in_rcpt() {
    let mut script = ehlo("250 mx.test\r\n");
    script.extend([
        Expect("MAIL FROM:<a@example.org>\r\n"),
        Reply("250 ok\r\n"),
        Expect("RCPT TO:<b@example.org>\r\n"),
        Silence,
    ]);
    let server = serve(script).await;
    let mut config = server.config();
    config.timeouts.rcpt = Duration::from_millis(300);
    let mut session = Session::connect(&config, None).await.unwrap();
    let envelope = Envelope::new("a@example.org", ["b@example.org"]);
    let started = std::time::Instant::now();
    let err = session.send(&envelope, &b"x"[..], None).await.unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(3));
    assert_eq!(err.kind(), ErrorKind::Timeout);
    assert_eq!(err.phase(), Some(Phase::RcptTo));
}

#[tokio::test]
async fn events_report_states_and_bytes() {
    let mut script = ehlo(EHLO);
    script.extend(one_message("0123456789\r\n.\r\n"));
    script.extend([Expect("QUIT\r\n"), Reply("221 bye\r\n")]);
    let server = serve(script).await;
    let recorder = Arc::new(Recorder::default());
    let mut session = Session::connect(&server.config(), Some(recorder.clone()))
        .await
        .unwrap();
    let envelope = Envelope::new("a@example.org", ["b@example.org"]);
    session
        .send(&envelope, &b"0123456789"[..], Some(10))
        .await
        .unwrap();
    session.quit().await.unwrap();
    let events = recorder.0.lock().unwrap().clone();
    let states: Vec<SessionState> = events
        .iter()
        .filter_map(|e| {
            if let Event::State(s) = e {
                Some(*s)
            } else {
                None
            }
        })
        .collect();
    assert_eq!(
        states,
        [
            SessionState::Connecting,
            SessionState::Greeting,
            SessionState::Ready,
            SessionState::Sending,
            SessionState::Ready,
            SessionState::Closing
        ]
    );
    assert!(
        events.contains(&Event::BytesSent {
            sent: 10,
            total: Some(10)
        }),
        "{events:?}"
    );
}

#[tokio::test]
async fn transcript_summarises_content_and_shows_replies() {
    let mut script = ehlo(EHLO);
    script.extend(one_message("private words\r\n.\r\n"));
    let server = serve(script).await;
    let transcript = Arc::new(Transcript::default());
    let mut config = server.config();
    config.transcript = Some(transcript.clone());
    let mut session = Session::connect(&config, None).await.unwrap();
    let envelope = Envelope::new("a@example.org", ["b@example.org"]);
    session
        .send(&envelope, &b"private words"[..], None)
        .await
        .unwrap();
    let lines = transcript.0.lock().unwrap().clone();
    assert_eq!(lines[0], "S: 220 mx.test ESMTP");
    assert!(lines.contains(&"C: MAIL FROM:<a@example.org>".to_string()));
    assert!(
        lines.contains(&"C: [message content: 15 bytes]".to_string()),
        "{lines:?}"
    );
    assert!(!lines.iter().any(|l| l.contains("private")));
}

#[tokio::test]
async fn unreadable_content_drops_the_link_without_ending_the_data() {
    struct Broken(bool);
    impl tokio::io::AsyncRead for Broken {
        fn poll_read(
            mut self: std::pin::Pin<&mut Self>,
            _: &mut std::task::Context<'_>,
            buf: &mut tokio::io::ReadBuf<'_>,
        ) -> std::task::Poll<std::io::Result<()>> {
            if self.0 {
                return std::task::Poll::Ready(Err(std::io::Error::other("disk gone")));
            }
            self.0 = true;
            buf.put_slice(b"partial");
            std::task::Poll::Ready(Ok(()))
        }
    }
    let mut script = ehlo(EHLO);
    script.extend([
        Expect("MAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.org>\r\nDATA\r\n"),
        Reply("250 ok\r\n250 ok\r\n354 go\r\n"),
    ]);
    let server = serve(script).await;
    let mut session = Session::connect(&server.config(), None).await.unwrap();
    let envelope = Envelope::new("a@example.org", ["b@example.org"]);
    let err = session
        .send(&envelope, Broken(false), None)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Io);
    assert!(!session.is_open());
    let bytes = server.client_bytes().await;
    assert!(
        !bytes.contains("\r\n.\r\n"),
        "the content must not be ended: {bytes:?}"
    );
}

#[tokio::test]
async fn default_ehlo_name_is_a_domain_or_an_address_literal() {
    let server = serve(vec![
        Reply("220 mx.test\r\n"),
        ExpectUntil("\r\n"),
        Reply("250 mx.test\r\n"),
    ])
    .await;
    let mut config = server.config();
    config.ehlo_name = None;
    let session = Session::connect(&config, None).await.unwrap();
    drop(session);
    let bytes = server.client_bytes().await;
    let name = bytes
        .strip_prefix("EHLO ")
        .unwrap()
        .strip_suffix("\r\n")
        .unwrap();
    assert!(
        name == "[127.0.0.1]" || (name.contains('.') && !name.contains('[')),
        "{name}"
    );
}

#[tokio::test]
async fn greeting_421_is_a_closed_error() {
    let server = serve(vec![Reply("421 4.3.2 busy\r\n"), Expect("QUIT\r\n"), Close]).await;
    let err = Session::connect(&server.config(), None).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Closed);
    assert!(err.is_transient());
}

#[tokio::test]
async fn trickled_reply_cannot_stretch_the_timeout() {
    let mut script = ehlo("250 mx.test\r\n");
    script.extend([
        Expect("MAIL FROM:<a@example.org>\r\n"),
        common::Step::Trickle("250 2.1.0 sender ok, slowly\r\n", Duration::from_millis(60)),
    ]);
    let server = serve(script).await;
    let mut config = server.config();
    config.timeouts.mail = Duration::from_millis(500);
    let mut session = Session::connect(&config, None).await.unwrap();
    let envelope = Envelope::new("a@example.org", ["b@example.org"]);
    let started = std::time::Instant::now();
    let err = session.send(&envelope, &b"x"[..], None).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Timeout, "{err}");
    assert_eq!(err.phase(), Some(Phase::MailFrom));
    assert!(started.elapsed() < Duration::from_millis(1500));
}

#[tokio::test]
async fn control_characters_in_settings_are_refused_before_connecting() {
    // Nothing listens on this configuration's port: an Input error proves no connect happened.
    let mut config = mailroom_smtp::ClientConfig::new("127.0.0.1", 9);
    config.tls = mailroom_smtp::TlsMode::None;
    config.ehlo_name = Some("client.test\r\nMAIL FROM:<x@y>".into());
    let err = Session::connect(&config, None).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Input);
    config.ehlo_name = Some("client.test".into());
    config.credentials = Some(mailroom_smtp::Credentials::new("al\0ice", "pw"));
    let err = Session::connect(&config, None).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Input);
}
