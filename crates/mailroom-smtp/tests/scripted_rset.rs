//! Scripted-server cases for where RSET goes on the wire: never between transactions whose
//! final reply to the end of content came in (whatever it said), always after a transaction
//! refused before that, and behind a last BDAT chunk when the next one is pipelined.

mod common;

use common::batch::{PIPELINING, accepted, batch, to};
use common::{Step::*, ehlo, serve};
use mailroom_smtp::{DataOutcome, Delivery, ErrorKind, Phase, RecipientStatus, Session};

const CHUNKING: &str = "250-mx.test\r\n250-PIPELINING\r\n250 CHUNKING\r\n";

fn rsets(bytes: &str) -> usize {
    bytes.matches("RSET\r\n").count()
}

#[tokio::test]
async fn no_rset_between_transactions_that_ended_with_a_final_reply() {
    let mut script = ehlo(PIPELINING);
    script.extend([
        Expect("MAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.org>\r\nDATA\r\n"),
        Reply("250 ok\r\n250 ok\r\n354 go\r\n"),
        Expect("one\r\n.\r\n"),
        Reply("250 queued\r\n"),
        Expect("MAIL FROM:<a@example.org>\r\nRCPT TO:<c@example.org>\r\nDATA\r\n"),
        Reply("250 ok\r\n250 ok\r\n354 go\r\n"),
        Expect("two\r\n.\r\n"),
        Reply("554 5.7.1 refused\r\n"),
        Expect("MAIL FROM:<a@example.org>\r\nRCPT TO:<d@example.org>\r\nDATA\r\n"),
        Reply("250 ok\r\n250 ok\r\n354 go\r\n"),
        Expect("three\r\n.\r\n"),
        Reply("250 queued\r\n"),
        Expect("QUIT\r\n"),
        Reply("221 bye\r\n"),
    ]);
    let server = serve(script).await;
    let mut session = Session::connect(&server.config(), None).await.unwrap();
    let first = session.send(&to("b@example.org"), &b"one"[..], None).await;
    assert!(accepted(&first), "{first:?}");
    let second = session.send(&to("c@example.org"), &b"two"[..], None).await;
    assert!(
        matches!(&second, Ok(Delivery { data: DataOutcome::Rejected(r), .. }) if r.code == 554),
        "{second:?}"
    );
    let third = session
        .send(&to("d@example.org"), &b"three"[..], None)
        .await;
    assert!(accepted(&third), "{third:?}");
    session.quit().await.unwrap();
    let bytes = server.client_bytes().await;
    assert_eq!(rsets(&bytes), 0, "{bytes}");
}

#[tokio::test]
async fn no_rset_between_batched_transactions_that_ended_with_a_final_reply() {
    let mut script = ehlo(PIPELINING);
    script.extend([
        ExpectOneRead("MAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.org>\r\nDATA\r\n"),
        Reply("250 ok\r\n250 ok\r\n354 go\r\n"),
        ExpectOneRead(
            "one\r\n.\r\nMAIL FROM:<a@example.org>\r\nRCPT TO:<c@example.org>\r\nDATA\r\n",
        ),
        Reply("554 5.7.1 refused\r\n250 ok\r\n250 ok\r\n354 go\r\n"),
        ExpectOneRead(
            "two\r\n.\r\nMAIL FROM:<a@example.org>\r\nRCPT TO:<d@example.org>\r\nDATA\r\n",
        ),
        Reply("250 queued\r\n250 ok\r\n250 ok\r\n354 go\r\n"),
        ExpectOneRead("three\r\n.\r\n"),
        Reply("250 queued\r\n"),
    ]);
    let server = serve(script).await;
    let mut session = Session::connect(&server.config(), None).await.unwrap();
    let (outcomes, _) = batch(
        &mut session,
        vec![
            (to("b@example.org"), b"one"),
            (to("c@example.org"), b"two"),
            (to("d@example.org"), b"three"),
        ],
    )
    .await;
    assert!(
        matches!(&outcomes[0], Ok(Delivery { data: DataOutcome::Rejected(r), .. }) if r.code == 554),
        "{:?}",
        outcomes[0]
    );
    assert!(
        accepted(&outcomes[1]) && accepted(&outcomes[2]),
        "{outcomes:?}"
    );
    drop(session);
    let bytes = server.client_bytes().await;
    assert_eq!(rsets(&bytes), 0, "{bytes}");
}

#[tokio::test]
async fn rset_still_precedes_the_next_mail_after_a_refused_mail_or_every_recipient_refused() {
    let mut script = ehlo(PIPELINING);
    script.extend([
        Expect("MAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.org>\r\nDATA\r\n"),
        Reply("550 5.7.1 sender refused\r\n503 5.5.1 no sender\r\n503 5.5.1 no recipients\r\n"),
        ExpectAlone("RSET\r\n"),
        Reply("250 reset\r\n"),
        Expect("MAIL FROM:<a@example.org>\r\nRCPT TO:<c@example.org>\r\nDATA\r\n"),
        Reply("250 ok\r\n550 5.1.1 unknown\r\n554 5.5.1 no valid recipients\r\n"),
        ExpectAlone("RSET\r\n"),
        Reply("250 reset\r\n"),
        Expect("MAIL FROM:<a@example.org>\r\nRCPT TO:<d@example.org>\r\nDATA\r\n"),
        Reply("250 ok\r\n250 ok\r\n354 go\r\n"),
        Expect("three\r\n.\r\n"),
        Reply("250 queued\r\n"),
    ]);
    let server = serve(script).await;
    let mut session = Session::connect(&server.config(), None).await.unwrap();
    let err = session
        .send(&to("b@example.org"), &b"one"[..], None)
        .await
        .unwrap_err();
    assert_eq!(
        (err.kind(), err.phase()),
        (ErrorKind::Rejected, Some(Phase::MailFrom))
    );
    let second = session
        .send(&to("c@example.org"), &b"two"[..], None)
        .await
        .unwrap();
    assert!(matches!(second.data, DataOutcome::NotAttempted));
    assert_eq!(second.recipients[0].status, RecipientStatus::Rejected);
    let third = session
        .send(&to("d@example.org"), &b"three"[..], None)
        .await;
    assert!(accepted(&third), "{third:?}");
    drop(session);
    let bytes = server.client_bytes().await;
    assert_eq!(rsets(&bytes), 2, "{bytes}");
}

#[tokio::test]
async fn failed_reply_to_bdat_last_is_followed_by_rset_but_a_successful_one_is_not() {
    let mut script = ehlo("250-mx.test\r\n250 CHUNKING\r\n");
    script.extend([
        ExpectAlone("MAIL FROM:<a@example.org>\r\n"),
        Reply("250 ok\r\n"),
        ExpectAlone("RCPT TO:<b@example.org>\r\n"),
        Reply("250 ok\r\n"),
        ExpectAlone("BDAT 5 LAST\r\none\r\n"),
        Reply("250 queued\r\n"),
        // A successful LAST reply ended the transaction.
        ExpectAlone("MAIL FROM:<a@example.org>\r\n"),
        Reply("250 ok\r\n"),
        ExpectAlone("RCPT TO:<c@example.org>\r\n"),
        Reply("250 ok\r\n"),
        ExpectAlone("BDAT 5 LAST\r\ntwo\r\n"),
        Reply("554 5.7.1 refused\r\n"),
        // RFC 3030 leaves open whether a refused LAST chunk cleared the transaction.
        ExpectAlone("RSET\r\n"),
        Reply("250 reset\r\n"),
        ExpectAlone("MAIL FROM:<a@example.org>\r\n"),
        Reply("250 ok\r\n"),
        ExpectAlone("RCPT TO:<d@example.org>\r\n"),
        Reply("250 ok\r\n"),
        ExpectAlone("BDAT 7 LAST\r\nthree\r\n"),
        Reply("250 queued\r\n"),
    ]);
    let server = serve(script).await;
    let mut session = Session::connect(&server.config(), None).await.unwrap();
    let first = session.send(&to("b@example.org"), &b"one"[..], None).await;
    assert!(accepted(&first), "{first:?}");
    let second = session
        .send(&to("c@example.org"), &b"two"[..], None)
        .await
        .unwrap();
    assert!(matches!(&second.data, DataOutcome::Rejected(r) if r.code == 554));
    let third = session
        .send(&to("d@example.org"), &b"three"[..], None)
        .await;
    assert!(accepted(&third), "{third:?}");
    drop(session);
    let bytes = server.client_bytes().await;
    assert_eq!(rsets(&bytes), 1, "{bytes}");
}

#[tokio::test]
async fn server_refusing_rset_behind_the_last_bdat_chunk_still_gets_the_next_message() {
    let mut script = ehlo(CHUNKING);
    script.extend([
        ExpectOneRead("MAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.org>\r\n"),
        Reply("250 ok\r\n250 ok\r\n"),
        ExpectOneRead(
            "BDAT 5 LAST\r\none\r\nRSET\r\nMAIL FROM:<a@example.org>\r\nRCPT TO:<c@example.org>\r\n",
        ),
        Reply("250 queued\r\n502 5.5.1 RSET not implemented\r\n250 ok\r\n250 ok\r\n"),
        ExpectOneRead("BDAT 5 LAST\r\ntwo\r\n"),
        Reply("250 queued\r\n"),
    ]);
    let server = serve(script).await;
    let mut session = Session::connect(&server.config(), None).await.unwrap();
    let (outcomes, _) = batch(
        &mut session,
        vec![(to("b@example.org"), b"one"), (to("c@example.org"), b"two")],
    )
    .await;
    assert!(outcomes.iter().all(accepted), "{outcomes:?}");
    drop(session);
    server.client_bytes().await;
}

#[tokio::test]
async fn refused_reply_to_the_last_bdat_chunk_still_delivers_the_message_behind_its_rset() {
    let mut script = ehlo(CHUNKING);
    script.extend([
        ExpectOneRead("MAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.org>\r\n"),
        Reply("250 ok\r\n250 ok\r\n"),
        ExpectOneRead(
            "BDAT 5 LAST\r\none\r\nRSET\r\nMAIL FROM:<a@example.org>\r\nRCPT TO:<c@example.org>\r\n",
        ),
        Reply("554 5.7.1 refused\r\n250 reset\r\n250 ok\r\n250 ok\r\n"),
        // The RSET already sent behind it covers the refused message: no second one.
        ExpectOneRead("BDAT 5 LAST\r\ntwo\r\n"),
        Reply("250 queued\r\n"),
    ]);
    let server = serve(script).await;
    let mut session = Session::connect(&server.config(), None).await.unwrap();
    let (outcomes, _) = batch(
        &mut session,
        vec![(to("b@example.org"), b"one"), (to("c@example.org"), b"two")],
    )
    .await;
    assert!(
        matches!(&outcomes[0], Ok(Delivery { data: DataOutcome::Rejected(r), .. }) if r.code == 554),
        "{:?}",
        outcomes[0]
    );
    assert!(accepted(&outcomes[1]), "{:?}", outcomes[1]);
    drop(session);
    let bytes = server.client_bytes().await;
    assert_eq!(rsets(&bytes), 1, "{bytes}");
}
