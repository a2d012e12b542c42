//! Scripted-server cases for `Session::send_batch`: the reply to a final dot lost, late,
//! refused or closing, with the next transaction already pipelined behind it.

mod common;

use std::time::Duration;

use common::batch::{PIPELINING, accepted, batch, to};
use common::{Step::*, ehlo, serve, serve_many};
use mailroom_smtp::{DataOutcome, Delivery, ErrorKind, Phase, RecipientStatus, Session};

#[tokio::test]
async fn lost_final_reply_leaves_it_unknown_and_the_next_unsent_and_not_resent() {
    let mut first = ehlo(PIPELINING);
    first.extend([
        Expect("MAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.org>\r\nDATA\r\n"),
        Reply("250 ok\r\n250 ok\r\n354 go\r\n"),
        ExpectOneRead(
            "one\r\n.\r\nMAIL FROM:<a@example.org>\r\nRCPT TO:<c@example.org>\r\nDATA\r\n",
        ),
        Close,
    ]);
    // The third message goes out on a new connection; the second is not sent again.
    let mut second = ehlo(PIPELINING);
    second.extend([
        Expect("MAIL FROM:<a@example.org>\r\nRCPT TO:<d@example.org>\r\nDATA\r\n"),
        Reply("250 ok\r\n250 ok\r\n354 go\r\n"),
        Expect("three\r\n.\r\n"),
        Reply("250 queued\r\n"),
    ]);
    let server = serve_many(vec![first, second]).await;
    let mut session = Session::connect(&server.config(), None).await.unwrap();
    let (outcomes, log) = batch(
        &mut session,
        vec![
            (to("b@example.org"), b"one"),
            (to("c@example.org"), b"two"),
            (to("d@example.org"), b"three"),
        ],
    )
    .await;
    match &outcomes[0] {
        Ok(Delivery {
            data: DataOutcome::Unknown(error),
            ..
        }) => assert_eq!(error.kind(), ErrorKind::Closed),
        other => panic!("{other:?}"),
    }
    let err = outcomes[1].as_ref().unwrap_err();
    assert_eq!(
        (err.kind(), err.phase()),
        (ErrorKind::Closed, Some(Phase::MailFrom))
    );
    assert!(accepted(&outcomes[2]), "{:?}", outcomes[2]);
    assert_eq!(
        log,
        [
            "next 0",
            "next 1",
            "done 0",
            "done 1",
            "next 2",
            "next none",
            "done 2"
        ]
    );
    drop(session);
    let connections = server.connections().await;
    assert_eq!(connections.len(), 2);
    assert!(
        connections.iter().all(|c| !c.contains("two")),
        "{connections:?}"
    );
}

#[tokio::test]
async fn final_reply_timeout_leaves_it_unknown_and_the_next_body_unsent() {
    let mut script = ehlo(PIPELINING);
    script.extend([
        Expect("MAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.org>\r\nDATA\r\n"),
        Reply("250 ok\r\n250 ok\r\n354 go\r\n"),
        ExpectOneRead(
            "one\r\n.\r\nMAIL FROM:<a@example.org>\r\nRCPT TO:<c@example.org>\r\nDATA\r\n",
        ),
        Silence,
    ]);
    let server = serve(script).await;
    let mut config = server.config();
    config.timeouts.data_done = Duration::from_millis(300);
    let mut session = Session::connect(&config, None).await.unwrap();
    let (outcomes, log) = batch(
        &mut session,
        vec![(to("b@example.org"), b"one"), (to("c@example.org"), b"two")],
    )
    .await;
    match &outcomes[0] {
        Ok(Delivery {
            data: DataOutcome::Unknown(error),
            ..
        }) => assert_eq!(error.kind(), ErrorKind::Timeout),
        other => panic!("{other:?}"),
    }
    let err = outcomes[1].as_ref().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Closed, "{err}");
    assert_eq!(log, ["next 0", "next 1", "done 0", "done 1", "next none"]);
    assert!(!session.is_open());
    drop(session);
    let bytes = server.client_bytes().await;
    assert!(
        bytes.ends_with("RCPT TO:<c@example.org>\r\nDATA\r\n"),
        "{bytes}"
    );
}

#[tokio::test]
async fn rejected_final_reply_still_delivers_the_message_behind_it() {
    let mut script = ehlo(PIPELINING);
    script.extend([
        Expect("MAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.org>\r\nDATA\r\n"),
        Reply("250 ok\r\n250 ok\r\n354 go\r\n"),
        ExpectOneRead(
            "one\r\n.\r\nMAIL FROM:<a@example.org>\r\nRCPT TO:<c@example.org>\r\nDATA\r\n",
        ),
        Reply("554 5.7.1 content refused\r\n250 ok\r\n250 ok\r\n354 go\r\n"),
        // No RSET for the refused message: the reply to its dot ended it.
        ExpectOneRead("two\r\n.\r\n"),
        Reply("250 queued\r\n"),
        Expect("QUIT\r\n"),
        Reply("221 bye\r\n"),
    ]);
    let server = serve(script).await;
    let mut session = Session::connect(&server.config(), None).await.unwrap();
    let (outcomes, _) = batch(
        &mut session,
        vec![(to("b@example.org"), b"one"), (to("c@example.org"), b"two")],
    )
    .await;
    match &outcomes[0] {
        Ok(Delivery {
            data: DataOutcome::Rejected(reply),
            ..
        }) => assert_eq!(reply.code, 554),
        other => panic!("{other:?}"),
    }
    assert!(accepted(&outcomes[1]), "{:?}", outcomes[1]);
    session.quit().await.unwrap();
    assert!(
        server
            .client_bytes()
            .await
            .ends_with("two\r\n.\r\nQUIT\r\n")
    );
}

#[tokio::test]
async fn closing_421_after_the_dot_refuses_it_and_fails_the_next_unsent() {
    let mut script = ehlo(PIPELINING);
    script.extend([
        Expect("MAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.org>\r\nDATA\r\n"),
        Reply("250 ok\r\n250 ok\r\n354 go\r\n"),
        ExpectOneRead(
            "one\r\n.\r\nMAIL FROM:<a@example.org>\r\nRCPT TO:<c@example.org>\r\nDATA\r\n",
        ),
        Reply("421 4.3.0 shutting down\r\n"),
        Silence,
    ]);
    let server = serve(script).await;
    let mut session = Session::connect(&server.config(), None).await.unwrap();
    let (outcomes, log) = batch(
        &mut session,
        vec![(to("b@example.org"), b"one"), (to("c@example.org"), b"two")],
    )
    .await;
    match &outcomes[0] {
        Ok(Delivery {
            data: DataOutcome::Rejected(reply),
            ..
        }) => assert!(reply.code == 421 && reply.is_transient()),
        other => panic!("{other:?}"),
    }
    let err = outcomes[1].as_ref().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Closed, "{err}");
    assert_eq!(err.reply().map(|r| r.code), Some(421));
    assert!(err.is_transient());
    assert_eq!(log, ["next 0", "next 1", "done 0", "done 1", "next none"]);
    assert!(!session.is_open());
    drop(session);
    let bytes = server.client_bytes().await;
    assert!(
        bytes.ends_with("\r\nDATA\r\n") && !bytes.contains("two"),
        "{bytes}"
    );
}

#[tokio::test]
async fn refused_mail_behind_the_dot_sends_no_content_and_the_batch_goes_on() {
    let mut script = ehlo(PIPELINING);
    script.extend([
        Expect("MAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.org>\r\nDATA\r\n"),
        Reply("250 ok\r\n250 ok\r\n354 go\r\n"),
        ExpectOneRead(
            "one\r\n.\r\nMAIL FROM:<a@example.org>\r\nRCPT TO:<c@example.org>\r\nDATA\r\n",
        ),
        Reply("250 queued\r\n550 5.7.1 sender refused\r\n503 5.5.1 no sender\r\n"),
        Reply("503 5.5.1 no valid recipients\r\n"),
        ExpectAlone("RSET\r\n"),
        Reply("250 reset\r\n"),
        // The transaction refused before its content ended with its own RSET.
        ExpectOneRead("MAIL FROM:<a@example.org>\r\nRCPT TO:<d@example.org>\r\nDATA\r\n"),
        Reply("250 ok\r\n250 ok\r\n354 go\r\n"),
        ExpectOneRead("three\r\n.\r\n"),
        Reply("250 queued\r\n"),
    ]);
    let server = serve(script).await;
    let mut session = Session::connect(&server.config(), None).await.unwrap();
    let (outcomes, log) = batch(
        &mut session,
        vec![
            (to("b@example.org"), b"one"),
            (to("c@example.org"), b"two"),
            (to("d@example.org"), b"three"),
        ],
    )
    .await;
    assert!(accepted(&outcomes[0]));
    let err = outcomes[1].as_ref().unwrap_err();
    assert_eq!(
        (err.kind(), err.phase()),
        (ErrorKind::Rejected, Some(Phase::MailFrom))
    );
    assert!(accepted(&outcomes[2]), "{:?}", outcomes[2]);
    assert_eq!(
        log,
        [
            "next 0",
            "next 1",
            "done 0",
            "done 1",
            "next 2",
            "next none",
            "done 2"
        ]
    );
    drop(session);
    assert!(!server.client_bytes().await.contains("two"));
}

#[tokio::test]
async fn go_ahead_after_every_recipient_refused_behind_the_dot_sends_an_empty_message() {
    let mut script = ehlo(PIPELINING);
    script.extend([
        Expect("MAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.org>\r\nDATA\r\n"),
        Reply("250 ok\r\n250 ok\r\n354 go\r\n"),
        ExpectOneRead(
            "one\r\n.\r\nMAIL FROM:<a@example.org>\r\nRCPT TO:<c@example.org>\r\nDATA\r\n",
        ),
        Reply("250 queued\r\n250 ok\r\n550 5.1.1 unknown\r\n354 go\r\n"),
        ExpectAlone(".\r\n"),
        Reply("554 5.5.1 no valid recipients\r\n"),
        ExpectAlone("RSET\r\n"),
        Reply("250 reset\r\n"),
    ]);
    let server = serve(script).await;
    let mut session = Session::connect(&server.config(), None).await.unwrap();
    let (outcomes, _) = batch(
        &mut session,
        vec![(to("b@example.org"), b"one"), (to("c@example.org"), b"two")],
    )
    .await;
    assert!(accepted(&outcomes[0]));
    let second = outcomes[1].as_ref().unwrap();
    assert!(
        matches!(second.data, DataOutcome::NotAttempted),
        "{second:?}"
    );
    assert_eq!(second.recipients[0].status, RecipientStatus::Rejected);
    assert!(session.is_open());
    drop(session);
    assert!(!server.client_bytes().await.contains("two"));
}

#[tokio::test]
async fn lost_reply_to_the_last_bdat_chunk_leaves_it_unknown_and_the_next_unsent() {
    let mut script = ehlo("250-mx.test\r\n250-PIPELINING\r\n250 CHUNKING\r\n");
    script.extend([
        Expect("MAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.org>\r\n"),
        Reply("250 ok\r\n250 ok\r\n"),
        ExpectOneRead(
            "BDAT 5 LAST\r\none\r\nRSET\r\nMAIL FROM:<a@example.org>\r\nRCPT TO:<c@example.org>\r\n",
        ),
        Close,
    ]);
    let server = serve(script).await;
    let mut session = Session::connect(&server.config(), None).await.unwrap();
    let (outcomes, log) = batch(
        &mut session,
        vec![(to("b@example.org"), b"one"), (to("c@example.org"), b"two")],
    )
    .await;
    assert!(
        matches!(
            &outcomes[0],
            Ok(Delivery {
                data: DataOutcome::Unknown(_),
                ..
            })
        ),
        "{:?}",
        outcomes[0]
    );
    let err = outcomes[1].as_ref().unwrap_err();
    assert_eq!(
        (err.kind(), err.phase()),
        (ErrorKind::Closed, Some(Phase::MailFrom))
    );
    assert_eq!(log, ["next 0", "next 1", "done 0", "done 1", "next none"]);
    drop(session);
    assert!(!server.client_bytes().await.contains("two"));
}
