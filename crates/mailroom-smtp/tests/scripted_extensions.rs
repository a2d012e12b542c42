//! Scripted-server cases: PIPELINING, SIZE, 8BITMIME, SMTPUTF8, DSN, CHUNKING, REQUIRETLS.

mod common;

use common::{Step::*, ehlo, serve};
use mailroom_smtp::{
    DataOutcome, Dsn, DsnNotify, DsnReturn, Envelope, ErrorKind, RecipientStatus, Session,
};

#[tokio::test]
async fn pipelined_group_answered_in_one_write() {
    let mut script = ehlo("250-mx.test\r\n250-PIPELINING\r\n250 8BITMIME\r\n");
    script.extend([
        Expect("MAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.org>\r\nRCPT TO:<c@example.org>\r\nDATA\r\n"),
        Reply("250 ok\r\n550 5.1.1 unknown\r\n250 ok\r\n354 go\r\n"),
        Expect("one\r\n.\r\n"),
        Reply("250 queued\r\n"),
        // The session is reused: the reply to the dot ended the transaction, no RSET.
        Expect("MAIL FROM:<a@example.org>\r\nRCPT TO:<d@example.org>\r\nDATA\r\n"),
        Reply("250 ok\r\n250 ok\r\n354 go\r\n"),
        Expect("two\r\n.\r\n"),
        Reply("250 queued\r\n"),
        Expect("QUIT\r\n"),
        Reply("221 bye\r\n"),
    ]);
    let server = serve(script).await;
    let mut session = Session::connect(&server.config(), None).await.unwrap();
    let envelope = Envelope::new("a@example.org", ["b@example.org", "c@example.org"]);
    let first = session.send(&envelope, &b"one"[..], None).await.unwrap();
    assert_eq!(first.recipients[0].status, RecipientStatus::Rejected);
    assert_eq!(first.recipients[1].status, RecipientStatus::Accepted);
    assert!(first.is_accepted());
    let envelope = Envelope::new("a@example.org", ["d@example.org"]);
    assert!(
        session
            .send(&envelope, &b"two\n"[..], None)
            .await
            .unwrap()
            .is_accepted()
    );
    session.quit().await.unwrap();
    let bytes = server.client_bytes().await;
    assert!(bytes.ends_with("two\r\n.\r\nQUIT\r\n"), "{bytes}");
}

#[tokio::test]
async fn pipelined_all_refused_consumes_every_reply_and_resets() {
    let mut script = ehlo("250-mx.test\r\n250 PIPELINING\r\n");
    script.extend([
        Expect("MAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.org>\r\nDATA\r\n"),
        Reply("250 ok\r\n550 no\r\n554 5.5.1 no valid recipients\r\n"),
        Expect("RSET\r\n"),
        Reply("250 ok\r\n"),
        Expect("QUIT\r\n"),
        Reply("221 bye\r\n"),
    ]);
    let server = serve(script).await;
    let mut session = Session::connect(&server.config(), None).await.unwrap();
    let envelope = Envelope::new("a@example.org", ["b@example.org"]);
    let delivery = session.send(&envelope, &b"x"[..], None).await.unwrap();
    assert!(matches!(delivery.data, DataOutcome::NotAttempted));
    session.quit().await.unwrap();
    let bytes = server.client_bytes().await;
    assert!(bytes.ends_with("DATA\r\nRSET\r\nQUIT\r\n"), "{bytes}");
}

#[tokio::test]
async fn pipelined_go_ahead_with_no_recipient_gets_an_empty_ending() {
    let mut script = ehlo("250-mx.test\r\n250 PIPELINING\r\n");
    script.extend([
        Expect("MAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.org>\r\nDATA\r\n"),
        Reply("250 ok\r\n550 no\r\n354 go\r\n"),
        Expect(".\r\n"),
        Reply("554 no recipients\r\n"),
        Expect("RSET\r\n"),
        Reply("250 ok\r\n"),
    ]);
    let server = serve(script).await;
    let mut session = Session::connect(&server.config(), None).await.unwrap();
    let envelope = Envelope::new("a@example.org", ["b@example.org"]);
    let delivery = session
        .send(&envelope, &b"secret body"[..], None)
        .await
        .unwrap();
    assert!(matches!(delivery.data, DataOutcome::NotAttempted));
    drop(session);
    assert!(!server.client_bytes().await.contains("secret body"));
}

#[tokio::test]
async fn lowercase_keywords_enable_extensions() {
    let mut script = ehlo("250-mx.test\r\n250-pipelining\r\n250-size 100000\r\n250 8bitmime\r\n");
    script.extend([
        Expect(
            "MAIL FROM:<a@example.org> BODY=8BITMIME SIZE=3\r\nRCPT TO:<b@example.org>\r\nDATA\r\n",
        ),
        Reply("250 ok\r\n250 ok\r\n354 go\r\n"),
        Expect("\u{e9}\r\n.\r\n"),
        Reply("250 ok\r\n"),
    ]);
    let server = serve(script).await;
    let mut session = Session::connect(&server.config(), None).await.unwrap();
    let mut envelope = Envelope::new("a@example.org", ["b@example.org"]);
    envelope.body_8bit = true;
    let body = "\u{e9}".as_bytes();
    assert!(
        session
            .send(&envelope, body, Some(body.len() as u64 + 1))
            .await
            .unwrap()
            .is_accepted()
    );
}

#[tokio::test]
async fn size_limit_refuses_oversize_before_mail() {
    let mut script = ehlo("250-mx.test\r\n250 SIZE 1000\r\n");
    script.extend([Expect("QUIT\r\n"), Reply("221 bye\r\n")]);
    let server = serve(script).await;
    let mut session = Session::connect(&server.config(), None).await.unwrap();
    assert_eq!(session.capabilities().size_limit(), Some(1000));
    let envelope = Envelope::new("a@example.org", ["b@example.org"]);
    let err = session
        .send(&envelope, &[b'x'; 2000][..], Some(2000))
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            mailroom_smtp::Error::TooLarge {
                size: 2000,
                limit: 1000
            }
        ),
        "{err}"
    );
    assert!(session.is_open());
    session.quit().await.unwrap();
    assert_eq!(server.client_bytes().await, "EHLO client.test\r\nQUIT\r\n");
}

#[tokio::test]
async fn size_zero_means_no_limit() {
    let mut script = ehlo("250-mx.test\r\n250 SIZE 0\r\n");
    script.extend([
        Expect("MAIL FROM:<a@example.org> SIZE=5000000\r\n"),
        Reply("250 ok\r\n"),
        Expect("RCPT TO:<b@example.org>\r\n"),
        Reply("250 ok\r\n"),
        Expect("DATA\r\n"),
        Reply("354 go\r\n"),
        Expect("x\r\n.\r\n"),
        Reply("250 ok\r\n"),
    ]);
    let server = serve(script).await;
    let mut session = Session::connect(&server.config(), None).await.unwrap();
    assert_eq!(session.capabilities().size_limit(), None);
    let envelope = Envelope::new("a@example.org", ["b@example.org"]);
    assert!(
        session
            .send(&envelope, &b"x"[..], Some(5_000_000))
            .await
            .unwrap()
            .is_accepted()
    );
}

#[tokio::test]
async fn eight_bit_content_without_8bitmime_is_refused_before_mail() {
    let mut script = ehlo("250-mx.test\r\n250 PIPELINING\r\n");
    script.extend([Expect("QUIT\r\n"), Reply("221 bye\r\n")]);
    let server = serve(script).await;
    let mut session = Session::connect(&server.config(), None).await.unwrap();
    let mut envelope = Envelope::new("a@example.org", ["b@example.org"]);
    envelope.body_8bit = true;
    let err = session.send(&envelope, &b"x"[..], None).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unsupported);
    session.quit().await.unwrap();
    assert_eq!(server.client_bytes().await, "EHLO client.test\r\nQUIT\r\n");
}

#[tokio::test]
async fn non_ascii_local_part_without_smtputf8_is_refused_before_mail() {
    let mut script = ehlo("250-mx.test\r\n250 8BITMIME\r\n");
    script.extend([
        // An IDN domain alone needs no SMTPUTF8: it goes out as A-labels.
        Expect("MAIL FROM:<a@example.org>\r\n"),
        Reply("250 ok\r\n"),
        Expect("RCPT TO:<b@xn--bcher-kva.example>\r\n"),
        Reply("250 ok\r\n"),
        Expect("DATA\r\n"),
        Reply("354 go\r\n"),
        Expect("x\r\n.\r\n"),
        Reply("250 ok\r\n"),
        Expect("QUIT\r\n"),
        Reply("221 bye\r\n"),
    ]);
    let server = serve(script).await;
    let mut session = Session::connect(&server.config(), None).await.unwrap();
    let envelope = Envelope::new("a@example.org", ["jörg@example.org"]);
    let err = session.send(&envelope, &b"x"[..], None).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unsupported, "{err}");
    let envelope = Envelope::new("a@example.org", ["b@bücher.example"]);
    assert!(
        session
            .send(&envelope, &b"x"[..], None)
            .await
            .unwrap()
            .is_accepted()
    );
    session.quit().await.unwrap();
    assert!(!server.client_bytes().await.contains("jörg"));
}

#[tokio::test]
async fn smtputf8_parameter_when_an_address_needs_it() {
    let mut script = ehlo("250-mx.test\r\n250-SMTPUTF8\r\n250 8BITMIME\r\n");
    script.extend([
        Expect("MAIL FROM:<a@example.org> SMTPUTF8\r\n"),
        Reply("250 ok\r\n"),
        Expect("RCPT TO:<jörg@xn--bcher-kva.example>\r\n"),
        Reply("250 ok\r\n"),
        Expect("DATA\r\n"),
        Reply("354 go\r\n"),
        Expect("x\r\n.\r\n"),
        Reply("250 ok\r\n"),
    ]);
    let server = serve(script).await;
    let mut session = Session::connect(&server.config(), None).await.unwrap();
    let envelope = Envelope::new("a@example.org", ["jörg@bücher.example"]);
    assert!(
        session
            .send(&envelope, &b"x"[..], None)
            .await
            .unwrap()
            .is_accepted()
    );
}

#[tokio::test]
async fn dsn_parameters_are_sent_when_offered() {
    let mut script = ehlo("250-mx.test\r\n250 DSN\r\n");
    script.extend([
        Expect("MAIL FROM:<a@example.org> RET=HDRS ENVID=id+2B1+3Dx\r\n"),
        Reply("250 ok\r\n"),
        Expect("RCPT TO:<b+tag@example.org> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;b+2Btag@example.org\r\n"),
        Reply("250 ok\r\n"),
        Expect("DATA\r\n"),
        Reply("354 go\r\n"),
        Expect("x\r\n.\r\n"),
        Reply("250 ok\r\n"),
    ]);
    let server = serve(script).await;
    let mut session = Session::connect(&server.config(), None).await.unwrap();
    let mut envelope = Envelope::new("a@example.org", ["b+tag@example.org"]);
    envelope.dsn = Some(Dsn {
        ret: Some(DsnReturn::Headers),
        envid: Some("id+1=x".into()),
        notify: vec![DsnNotify::Success, DsnNotify::Failure],
        orcpt: true,
    });
    assert!(
        session
            .send(&envelope, &b"x"[..], None)
            .await
            .unwrap()
            .is_accepted()
    );
}

#[tokio::test]
async fn chunking_uses_bdat_and_can_be_switched_off() {
    let mut script = ehlo("250-mx.test\r\n250-PIPELINING\r\n250 CHUNKING\r\n");
    script.extend([
        Expect("MAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.org>\r\n"),
        Reply("250 ok\r\n250 ok\r\n"),
        Expect("BDAT 10 LAST\r\n.a\r\nb\r\nc\r\n"),
        Reply("250 2.0.0 queued\r\n"),
        Expect("QUIT\r\n"),
        Reply("221 bye\r\n"),
    ]);
    let server = serve(script).await;
    let mut session = Session::connect(&server.config(), None).await.unwrap();
    let envelope = Envelope::new("a@example.org", ["b@example.org"]);
    assert!(
        session
            .send(&envelope, &b".a\nb\rc"[..], None)
            .await
            .unwrap()
            .is_accepted()
    );
    session.quit().await.unwrap();
    server.client_bytes().await;

    let mut script = ehlo("250-mx.test\r\n250-PIPELINING\r\n250 CHUNKING\r\n");
    script.extend([
        Expect("MAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.org>\r\nDATA\r\n"),
        Reply("250 ok\r\n250 ok\r\n354 go\r\n"),
        Expect("..a\r\n.\r\n"),
        Reply("250 ok\r\n"),
    ]);
    let server = serve(script).await;
    let mut config = server.config();
    config.disable.chunking = true;
    let mut session = Session::connect(&config, None).await.unwrap();
    assert!(
        session
            .send(&envelope, &b".a"[..], None)
            .await
            .unwrap()
            .is_accepted()
    );
}

#[tokio::test]
async fn large_content_goes_out_in_several_bdat_chunks() {
    let body = vec![b'y'; 150 * 1024];
    let mut script = ehlo("250-mx.test\r\n250 CHUNKING\r\n");
    script.extend([
        Expect("MAIL FROM:<a@example.org>\r\n"),
        Reply("250 ok\r\n"),
        Expect("RCPT TO:<b@example.org>\r\n"),
        Reply("250 ok\r\n"),
        Expect("BDAT 65536\r\n"),
        ReadBytes(65536),
        Reply("250 2.0.0 chunk ok\r\n"),
        Expect("BDAT 65536\r\n"),
        ReadBytes(65536),
        Reply("250 2.0.0 chunk ok\r\n"),
        Expect("BDAT 22530 LAST\r\n"),
        ReadBytes(22530),
        Reply("250 2.0.0 queued\r\n"),
    ]);
    let server = serve(script).await;
    let mut session = Session::connect(&server.config(), None).await.unwrap();
    let envelope = Envelope::new("a@example.org", ["b@example.org"]);
    let delivery = session.send(&envelope, &body[..], None).await.unwrap();
    assert!(delivery.is_accepted());
    drop(session);
    assert!(server.client_bytes().await.ends_with("yyy\r\n"));
}

#[tokio::test]
async fn require_tls_without_tls_is_refused_before_mail() {
    let mut script = ehlo("250-mx.test\r\n250 REQUIRETLS\r\n");
    script.extend([Expect("QUIT\r\n"), Reply("221 bye\r\n")]);
    let server = serve(script).await;
    let mut session = Session::connect(&server.config(), None).await.unwrap();
    let mut envelope = Envelope::new("a@example.org", ["b@example.org"]);
    envelope.require_tls = true;
    let err = session.send(&envelope, &b"x"[..], None).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unsupported);
    session.quit().await.unwrap();
    assert_eq!(server.client_bytes().await, "EHLO client.test\r\nQUIT\r\n");
}
