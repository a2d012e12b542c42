//! Scripted-server cases: refusals and closings at awkward moments, and recovery from them.

mod common;

use common::{Step::*, ehlo, serve, serve_many};
use mailroom_smtp::{
    Credentials, DataOutcome, Envelope, ErrorKind, Event, Mechanism, Phase, Session,
};

const EHLO: &str = "250-mx.test\r\n250 PIPELINING\r\n";

fn tls_opening(after_tls: &'static str) -> Vec<common::Step> {
    vec![
        Reply("220 mx.test ESMTP\r\n"),
        Expect("EHLO client.test\r\n"),
        Reply("250-mx.test\r\n250 STARTTLS\r\n"),
        Expect("STARTTLS\r\n"),
        Reply("220 go ahead\r\n"),
        Tls,
        Expect("EHLO client.test\r\n"),
        Reply(after_tls),
    ]
}

#[tokio::test]
async fn session_closed_by_421_mid_transaction_is_reopened_for_the_next_message() {
    let mut first = ehlo(EHLO);
    first.extend([
        Expect("MAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.org>\r\nDATA\r\n"),
        Reply("421 4.7.0 too busy\r\n"),
        Close,
    ]);
    let mut second = ehlo(EHLO);
    second.extend([
        Expect("MAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.org>\r\nDATA\r\n"),
        Reply("250 ok\r\n250 ok\r\n354 go\r\n"),
        Expect("retry\r\n.\r\n"),
        Reply("250 ok\r\n"),
    ]);
    let server = serve_many(vec![first, second]).await;
    let mut session = Session::connect(&server.config(), None).await.unwrap();
    let envelope = Envelope::new("a@example.org", ["b@example.org"]);
    let err = session
        .send(&envelope, &b"first"[..], None)
        .await
        .unwrap_err();
    assert_eq!(
        (err.kind(), err.phase()),
        (ErrorKind::Closed, Some(Phase::MailFrom))
    );
    assert!(!session.is_open());
    let delivery = session.send(&envelope, &b"retry"[..], None).await.unwrap();
    assert!(delivery.is_accepted());
    assert!(session.is_open());
    drop(session);
    assert_eq!(server.connections().await.len(), 2);
}

#[tokio::test]
async fn final_dot_answered_with_421_is_a_transient_refusal() {
    let mut script = ehlo(EHLO);
    script.extend([
        Expect("MAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.org>\r\nDATA\r\n"),
        Reply("250 ok\r\n250 ok\r\n354 go\r\n"),
        Expect("x\r\n.\r\n"),
        Reply("421 4.3.0 shutting down\r\n"),
        Close,
    ]);
    let server = serve(script).await;
    let mut session = Session::connect(&server.config(), None).await.unwrap();
    let envelope = Envelope::new("a@example.org", ["b@example.org"]);
    let delivery = session.send(&envelope, &b"x"[..], None).await.unwrap();
    match &delivery.data {
        DataOutcome::Rejected(reply) => assert!(reply.is_transient() && reply.code == 421),
        other => panic!("{other:?}"),
    }
    assert!(!session.is_open());
}

#[tokio::test]
async fn starttls_refused_is_a_tls_failure_with_quit() {
    let server = serve(vec![
        Reply("220 mx.test ESMTP\r\n"),
        Expect("EHLO client.test\r\n"),
        Reply("250-mx.test\r\n250 STARTTLS\r\n"),
        Expect("STARTTLS\r\n"),
        Reply("454 4.7.0 TLS not available\r\n"),
        Expect("QUIT\r\n"),
        Reply("221 bye\r\n"),
    ])
    .await;
    let err = Session::connect(&server.tls_config(), None)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Tls, "{err}");
    assert!(err.to_string().contains("454"), "{err}");
    assert_eq!(
        server.client_bytes().await,
        "EHLO client.test\r\nSTARTTLS\r\nQUIT\r\n"
    );
}

#[tokio::test]
async fn helo_only_server_is_refused_when_tls_is_required() {
    let server = serve(vec![
        Reply("220 mx.test\r\n"),
        Expect("EHLO client.test\r\n"),
        Reply("500 5.5.1 unrecognised\r\n"),
        Expect("HELO client.test\r\n"),
        Reply("250 mx.test\r\n"),
        Expect("QUIT\r\n"),
        Reply("221 bye\r\n"),
    ])
    .await;
    let err = Session::connect(&server.tls_config(), None)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Tls);
}

#[tokio::test]
async fn require_tls_is_sent_over_tls_when_offered() {
    let mut script = tls_opening("250-mx.test\r\n250 REQUIRETLS\r\n");
    script.extend([
        Expect("MAIL FROM:<a@example.org> REQUIRETLS\r\n"),
        Reply("250 ok\r\n"),
        Expect("RCPT TO:<b@example.org>\r\n"),
        Reply("250 ok\r\n"),
        Expect("DATA\r\n"),
        Reply("354 go\r\n"),
        Expect("x\r\n.\r\n"),
        Reply("250 ok\r\n"),
    ]);
    let server = serve(script).await;
    let mut session = Session::connect(&server.tls_config(), None).await.unwrap();
    let mut envelope = Envelope::new("a@example.org", ["b@example.org"]);
    envelope.require_tls = true;
    assert!(
        session
            .send(&envelope, &b"x"[..], None)
            .await
            .unwrap()
            .is_accepted()
    );
}

#[tokio::test]
async fn long_oauthbearer_token_uses_the_two_step_form() {
    let mut script = tls_opening("250-mx.test\r\n250 AUTH OAUTHBEARER PLAIN\r\n");
    script.extend([
        Expect("AUTH OAUTHBEARER\r\n"),
        Reply("334 \r\n"),
        ExpectUntil("\r\n"),
        Reply("235 2.7.0 ok\r\n"),
        Expect("QUIT\r\n"),
        Reply("221 bye\r\n"),
    ]);
    let server = serve(script).await;
    let mut config = server.tls_config();
    config.credentials = Some(Credentials::new("a@example.org", "t".repeat(700)));
    config.mechanisms = Some(vec![Mechanism::OAuthBearer]);
    let session = Session::connect(&config, None).await.unwrap();
    session.quit().await.unwrap();
    let bytes = server.client_bytes().await;
    let response = bytes.split("\r\n").nth(4).unwrap();
    use base64::Engine;
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(response)
        .unwrap();
    let decoded = String::from_utf8(decoded).unwrap();
    assert!(
        decoded.starts_with("n,a=a@example.org,\x01auth=Bearer ttt"),
        "{decoded}"
    );
    assert!(decoded.ends_with("\x01\x01"));
}

#[tokio::test]
async fn oauth_is_never_picked_unless_allowed() {
    let mut script = tls_opening("250-mx.test\r\n250 AUTH XOAUTH2 OAUTHBEARER LOGIN\r\n");
    script.extend([
        Expect("AUTH LOGIN\r\n"),
        Reply("334 VXNlcm5hbWU6\r\n"),
        Expect("YWxpY2U=\r\n"),
        Reply("334 UGFzc3dvcmQ6\r\n"),
        Expect("czNjcmV0\r\n"),
        Reply("235 ok\r\n"),
    ]);
    let server = serve(script).await;
    let mut config = server.tls_config();
    config.credentials = Some(Credentials::new("alice", "s3cret"));
    let session = Session::connect(&config, None).await.unwrap();
    drop(session);
    assert!(!server.client_bytes().await.contains("OAUTH"));
}

#[tokio::test]
async fn big_message_reports_progress_in_blocks() {
    let body = vec![b'q'; 200 * 1024];
    let mut script = ehlo(EHLO);
    script.extend([
        Expect("MAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.org>\r\nDATA\r\n"),
        Reply("250 ok\r\n250 ok\r\n354 go\r\n"),
        ReadBytes(200 * 1024 + 5),
        Reply("250 ok\r\n"),
    ]);
    let server = serve(script).await;
    let recorder = std::sync::Arc::new(common::Recorder::default());
    let mut session = Session::connect(&server.config(), Some(recorder.clone()))
        .await
        .unwrap();
    let envelope = Envelope::new("a@example.org", ["b@example.org"]);
    let size = Some(body.len() as u64);
    assert!(
        session
            .send(&envelope, &body[..], size)
            .await
            .unwrap()
            .is_accepted()
    );
    let sent: Vec<u64> = recorder
        .0
        .lock()
        .unwrap()
        .iter()
        .filter_map(|e| {
            if let Event::BytesSent { sent, .. } = e {
                Some(*sent)
            } else {
                None
            }
        })
        .collect();
    assert!(sent.len() >= 3, "{sent:?}");
    assert!(sent.windows(2).all(|w| w[0] <= w[1]), "{sent:?}");
    assert_eq!(*sent.last().unwrap(), 200 * 1024);
    drop(session);
    assert!(server.client_bytes().await.ends_with("qqq\r\n.\r\n"));
}

#[tokio::test]
async fn send_cancelled_midway_leaves_a_session_that_reopens() {
    let mut first = ehlo(EHLO);
    first.extend([
        Expect("MAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.org>\r\nDATA\r\n"),
        Silence,
    ]);
    let mut second = ehlo(EHLO);
    second.extend([
        Expect("MAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.org>\r\nDATA\r\n"),
        Reply("250 ok\r\n250 ok\r\n354 go\r\n"),
        Expect("again\r\n.\r\n"),
        Reply("250 ok\r\n"),
    ]);
    let server = serve_many(vec![first, second]).await;
    let mut session = Session::connect(&server.config(), None).await.unwrap();
    let envelope = Envelope::new("a@example.org", ["b@example.org"]);
    let cancelled = tokio::time::timeout(
        std::time::Duration::from_millis(200),
        session.send(&envelope, &b"first"[..], None),
    )
    .await;
    assert!(
        cancelled.is_err(),
        "the send should still have been waiting"
    );
    let delivery = session.send(&envelope, &b"again"[..], None).await.unwrap();
    assert!(delivery.is_accepted());
    drop(session);
    assert_eq!(server.connections().await.len(), 2);
}

#[tokio::test]
async fn closing_during_the_reset_keeps_the_settled_recipient_results() {
    let mut script = ehlo(EHLO);
    script.extend([
        Expect("MAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.org>\r\nDATA\r\n"),
        Reply("250 ok\r\n550 5.1.1 no such user\r\n554 no valid recipients\r\n"),
        Expect("RSET\r\n"),
        Reply("421 4.3.0 bye now\r\n"),
        Close,
    ]);
    let server = serve(script).await;
    let mut session = Session::connect(&server.config(), None).await.unwrap();
    let envelope = Envelope::new("a@example.org", ["b@example.org"]);
    let delivery = session.send(&envelope, &b"x"[..], None).await.unwrap();
    assert!(matches!(delivery.data, DataOutcome::NotAttempted));
    assert_eq!(
        delivery.recipients[0].status,
        mailroom_smtp::RecipientStatus::Rejected
    );
    assert!(!session.is_open());
}

#[tokio::test]
async fn ip_address_host_is_verified_against_the_certificate_ip() {
    let mut script = tls_opening("250 mx.test\r\n");
    script.extend([Expect("QUIT\r\n"), Reply("221 bye\r\n")]);
    let server = serve(script).await;
    let mut config = server.tls_config();
    config.tls_server_name = None;
    let session = Session::connect(&config, None).await.unwrap();
    assert!(session.is_tls());
    session.quit().await.unwrap();
}
