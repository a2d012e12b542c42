//! Scripted-server cases: greeting, EHLO/HELO, transactions and data.

mod common;

use common::{Step::*, ehlo, serve};
use mailroom_smtp::{DataOutcome, Envelope, ErrorKind, RecipientStatus, Session};

const EHLO_PLAIN: &str = "250-mx.test\r\n250-8BITMIME\r\n250 ENHANCEDSTATUSCODES\r\n";

#[tokio::test]
async fn non_pipelining_server_is_answered_one_command_at_a_time() {
    let mut script = ehlo(EHLO_PLAIN);
    script.extend([
        ExpectAlone("MAIL FROM:<a@example.org>\r\n"),
        Reply("250 2.1.0 ok\r\n"),
        ExpectAlone("RCPT TO:<b@example.org>\r\n"),
        Reply("250 2.1.5 ok\r\n"),
        ExpectAlone("DATA\r\n"),
        Reply("354 go ahead\r\n"),
        Expect("Subject: hi\r\n\r\n..dot\r\nend\r\n.\r\n"),
        Reply("250 2.0.0 queued as X\r\n"),
        Expect("QUIT\r\n"),
        Reply("221 bye\r\n"),
    ]);
    let server = serve(script).await;
    let mut session = Session::connect(&server.config(), None).await.unwrap();
    let envelope = Envelope::new("a@example.org", ["b@example.org"]);
    let delivery = session
        .send(&envelope, &b"Subject: hi\n\n.dot\nend"[..], None)
        .await
        .unwrap();
    assert!(matches!(&delivery.data, DataOutcome::Accepted(r) if r.code == 250));
    assert_eq!(delivery.recipients[0].status, RecipientStatus::Accepted);
    session.quit().await.unwrap();
    assert_eq!(
        server.client_bytes().await,
        "EHLO client.test\r\nMAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.org>\r\nDATA\r\n\
         Subject: hi\r\n\r\n..dot\r\nend\r\n.\r\nQUIT\r\n"
    );
}

#[tokio::test]
async fn non_220_greeting_fails_cleanly_with_quit() {
    let server = serve(vec![
        Reply("554-mx.test no service\r\n554 go away\r\n"),
        Expect("QUIT\r\n"),
        Reply("221 bye\r\n"),
    ])
    .await;
    let err = Session::connect(&server.config(), None).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Rejected);
    assert_eq!(err.reply().unwrap().code, 554);
    assert!(err.to_string().contains("greeting"), "{err}");
    assert_eq!(server.client_bytes().await, "QUIT\r\n");
}

#[tokio::test]
async fn client_waits_for_the_whole_multiline_greeting() {
    let server = serve(vec![Reply("220-mx.test first line\r\n"), Silence]).await;
    let mut config = server.config();
    config.timeouts = mailroom_smtp::Timeouts::uniform(std::time::Duration::from_millis(400));
    let err = Session::connect(&config, None).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Timeout);
    assert_eq!(
        server.client_bytes().await,
        "",
        "client spoke before the greeting ended"
    );
}

#[tokio::test]
async fn ehlo_refused_falls_back_to_helo() {
    let server = serve(vec![
        Reply("220 mx.test\r\n"),
        Expect("EHLO client.test\r\n"),
        Reply("502 5.5.1 what?\r\n"),
        Expect("HELO client.test\r\n"),
        Reply("250 mx.test\r\n"),
        Expect("QUIT\r\n"),
        Reply("221 bye\r\n"),
    ])
    .await;
    let session = Session::connect(&server.config(), None).await.unwrap();
    assert!(!session.capabilities().is_esmtp());
    session.quit().await.unwrap();
    assert_eq!(
        server.client_bytes().await,
        "EHLO client.test\r\nHELO client.test\r\nQUIT\r\n"
    );
}

#[tokio::test]
async fn rcpt_partial_rejection_still_sends() {
    let mut script = ehlo(EHLO_PLAIN);
    script.extend([
        Expect("MAIL FROM:<a@example.org>\r\n"),
        Reply("250 ok\r\n"),
        Expect("RCPT TO:<b@example.org>\r\n"),
        Reply("550 5.1.1 no such user\r\n"),
        Expect("RCPT TO:<c@example.org>\r\n"),
        Reply("250 ok\r\n"),
        Expect("DATA\r\n"),
        Reply("354 go\r\n"),
        Expect("x\r\n.\r\n"),
        Reply("250 ok\r\n"),
    ]);
    let server = serve(script).await;
    let mut session = Session::connect(&server.config(), None).await.unwrap();
    let envelope = Envelope::new("a@example.org", ["b@example.org", "c@example.org"]);
    let delivery = session.send(&envelope, &b"x"[..], None).await.unwrap();
    assert_eq!(delivery.recipients[0].status, RecipientStatus::Rejected);
    assert_eq!(delivery.recipients[0].reply.code, 550);
    assert_eq!(delivery.recipients[1].status, RecipientStatus::Accepted);
    assert!(delivery.is_accepted());
    drop(session);
    let bytes = server.client_bytes().await;
    assert!(bytes.ends_with("DATA\r\nx\r\n.\r\n"), "{bytes:?}");
}

#[tokio::test]
async fn all_recipients_refused_sends_no_data() {
    let mut script = ehlo(EHLO_PLAIN);
    script.extend([
        Expect("MAIL FROM:<a@example.org>\r\n"),
        Reply("250 ok\r\n"),
        Expect("RCPT TO:<b@example.org>\r\n"),
        Reply("550 5.1.1 no\r\n"),
        Expect("RCPT TO:<c@example.org>\r\n"),
        Reply("451 4.3.0 later\r\n"),
        Expect("RSET\r\n"),
        Reply("250 ok\r\n"),
    ]);
    let server = serve(script).await;
    let mut session = Session::connect(&server.config(), None).await.unwrap();
    let envelope = Envelope::new("a@example.org", ["b@example.org", "c@example.org"]);
    let delivery = session.send(&envelope, &b"x"[..], None).await.unwrap();
    assert!(matches!(delivery.data, DataOutcome::NotAttempted));
    assert_eq!(delivery.recipients[0].status, RecipientStatus::Rejected);
    assert_eq!(delivery.recipients[1].status, RecipientStatus::Deferred);
    assert!(session.is_open());
    drop(session);
    assert!(!server.client_bytes().await.contains("DATA"));
}

#[tokio::test]
async fn mail_from_421_closes_the_session_as_transient() {
    let mut script = ehlo(EHLO_PLAIN);
    script.extend([
        Expect("MAIL FROM:<a@example.org>\r\n"),
        Reply("421 4.3.2 shutting down\r\n"),
        Close,
    ]);
    let server = serve(script).await;
    let mut session = Session::connect(&server.config(), None).await.unwrap();
    let envelope = Envelope::new("a@example.org", ["b@example.org"]);
    let err = session.send(&envelope, &b"x"[..], None).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Closed);
    assert!(err.is_transient());
    assert_eq!(err.reply().unwrap().code, 421);
    assert!(!session.is_open());
    drop(session);
    assert_eq!(
        server.client_bytes().await,
        "EHLO client.test\r\nMAIL FROM:<a@example.org>\r\n"
    );
}

#[tokio::test]
async fn mail_from_refusal_is_an_error_and_resets() {
    let mut script = ehlo(EHLO_PLAIN);
    script.extend([
        Expect("MAIL FROM:<a@example.org>\r\n"),
        Reply("550 5.7.1 sender denied\r\n"),
        Expect("RSET\r\n"),
        Reply("250 ok\r\n"),
    ]);
    let server = serve(script).await;
    let mut session = Session::connect(&server.config(), None).await.unwrap();
    let envelope = Envelope::new("a@example.org", ["b@example.org"]);
    let err = session.send(&envelope, &b"x"[..], None).await.unwrap_err();
    assert_eq!(
        err.to_string(),
        "server refused MAIL FROM: 550 5.7.1 sender denied"
    );
    let enhanced = err.reply().unwrap().enhanced.unwrap();
    assert_eq!(
        (enhanced.class, enhanced.subject, enhanced.detail),
        (5, 7, 1)
    );
    assert!(session.is_open());
    drop(session);
    assert!(!server.client_bytes().await.contains("RCPT"));
}

#[tokio::test]
async fn link_lost_after_final_dot_is_outcome_unknown() {
    let mut script = ehlo(EHLO_PLAIN);
    script.extend([
        Expect("MAIL FROM:<a@example.org>\r\n"),
        Reply("250 ok\r\n"),
        Expect("RCPT TO:<b@example.org>\r\n"),
        Reply("250 ok\r\n"),
        Expect("DATA\r\n"),
        Reply("354 go\r\n"),
        Expect("x\r\n.\r\n"),
        Close,
    ]);
    let server = serve(script).await;
    let mut session = Session::connect(&server.config(), None).await.unwrap();
    let envelope = Envelope::new("a@example.org", ["b@example.org"]);
    let delivery = session.send(&envelope, &b"x"[..], None).await.unwrap();
    match &delivery.data {
        DataOutcome::Unknown(err) => assert_eq!(err.kind(), ErrorKind::Closed),
        other => panic!("expected Unknown, got {other:?}"),
    }
    assert!(!session.is_open());
}

#[tokio::test]
async fn silence_after_final_dot_is_outcome_unknown() {
    let mut script = ehlo(EHLO_PLAIN);
    script.extend([
        Expect("MAIL FROM:<a@example.org>\r\n"),
        Reply("250 ok\r\n"),
        Expect("RCPT TO:<b@example.org>\r\n"),
        Reply("250 ok\r\n"),
        Expect("DATA\r\n"),
        Reply("354 go\r\n"),
        Expect("x\r\n.\r\n"),
        Silence,
    ]);
    let server = serve(script).await;
    let mut config = server.config();
    config.timeouts.data_done = std::time::Duration::from_millis(300);
    let mut session = Session::connect(&config, None).await.unwrap();
    let envelope = Envelope::new("a@example.org", ["b@example.org"]);
    let delivery = session.send(&envelope, &b"x"[..], None).await.unwrap();
    match &delivery.data {
        DataOutcome::Unknown(err) => assert_eq!(err.kind(), ErrorKind::Timeout),
        other => panic!("expected Unknown, got {other:?}"),
    }
}

#[tokio::test]
async fn endless_reply_line_is_a_protocol_error() {
    let server = serve(vec![
        Reply("220 mx.test\r\n"),
        Expect("EHLO client.test\r\n"),
        ReplyBytes(vec![b'2'; 100 * 1024]),
        Silence,
    ])
    .await;
    let err = Session::connect(&server.config(), None).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Protocol, "{err}");
}

#[tokio::test]
async fn crlf_in_an_address_is_refused_before_anything_is_written() {
    let mut script = ehlo(EHLO_PLAIN);
    script.extend([Expect("QUIT\r\n"), Reply("221 bye\r\n")]);
    let server = serve(script).await;
    let mut session = Session::connect(&server.config(), None).await.unwrap();
    for bad in [
        "b@example.org\r\nRCPT TO:<evil@x>",
        "b@exa\0mple.org",
        "b@example.org\n",
    ] {
        let envelope = Envelope::new("a@example.org", [bad]);
        let err = session.send(&envelope, &b"x"[..], None).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Input);
    }
    let envelope = Envelope::new("a@example.org\r", ["b@example.org"]);
    assert_eq!(
        session
            .send(&envelope, &b"x"[..], None)
            .await
            .unwrap_err()
            .kind(),
        ErrorKind::Input
    );
    session.quit().await.unwrap();
    assert_eq!(server.client_bytes().await, "EHLO client.test\r\nQUIT\r\n");
}

#[tokio::test]
async fn legacy_auth_equals_form_is_understood() {
    let server = serve(vec![
        Reply("220 mx.test\r\n"),
        Expect("EHLO client.test\r\n"),
        Reply("250-mx.test\r\n250 AUTH=LOGIN\r\n"),
        Expect("AUTH LOGIN\r\n"),
        Reply("334 VXNlcm5hbWU6\r\n"),
        Expect("YWxpY2U=\r\n"),
        Reply("334 UGFzc3dvcmQ6\r\n"),
        Expect("czNjcmV0\r\n"),
        Reply("235 ok\r\n"),
    ])
    .await;
    let mut config = server.config();
    config.credentials = Some(mailroom_smtp::Credentials::new("alice", "s3cret"));
    let session = Session::connect(&config, None).await.unwrap();
    assert_eq!(
        session.capabilities().auth_mechanisms(),
        [mailroom_smtp::Mechanism::Login]
    );
}
