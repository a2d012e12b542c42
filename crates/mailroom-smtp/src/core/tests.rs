//! Unit tests of the core alone: bytes in, bytes and decisions out.

use super::*;
use crate::config::Disabled;
use crate::delivery::DataOutcome;
use crate::envelope::Envelope;

fn core(tls: TlsMode) -> Core {
    Core::new(
        CoreConfig {
            ehlo_name: "c.test".into(),
            tls,
            credentials: None,
            mechanisms: None,
            disable: Disabled::default(),
            transcript: None,
            nonce: "n".into(),
        },
        false,
    )
}

fn out(core: &mut Core) -> String {
    String::from_utf8(core.take_output()).unwrap()
}

fn ready(extensions: &str) -> Core {
    let mut c = core(TlsMode::None);
    c.receive(b"220 hi\r\n");
    assert_eq!(out(&mut c), "EHLO c.test\r\n");
    c.receive(format!("250-mx\r\n{extensions}").as_bytes());
    assert_eq!(c.wait(), Wait::Ready);
    c
}

#[test]
fn greeting_fed_byte_by_byte_is_answered_once_complete() {
    let mut c = core(TlsMode::None);
    for b in b"220-first\r\n220 second\r\n" {
        assert_eq!(c.output_len(), 0, "spoke before the greeting ended");
        c.receive(&[*b]);
    }
    assert_eq!(out(&mut c), "EHLO c.test\r\n");
}

#[test]
fn starttls_required_asks_for_the_handshake_and_forgets_plaintext_capabilities() {
    let mut c = core(TlsMode::StartTls);
    c.receive(b"220 hi\r\n");
    out(&mut c);
    c.receive(b"250-mx\r\n250-SIZE 5\r\n250 STARTTLS\r\n");
    assert_eq!(out(&mut c), "STARTTLS\r\n");
    c.receive(b"220 go\r\n");
    assert_eq!(c.wait(), Wait::Tls);
    c.tls_established();
    assert_eq!(c.capabilities().size_limit(), None);
    assert_eq!(out(&mut c), "EHLO c.test\r\n");
    c.receive(b"250 mx\r\n");
    assert_eq!(c.wait(), Wait::Ready);
    assert!(c.tls_active());
}

#[test]
fn replies_split_anywhere_give_the_same_outcome() {
    let replies = b"250 ok\r\n550 no\r\n250-fine\r\n250 really\r\n354 go\r\n";
    for cut in 0..replies.len() {
        let mut c = ready("250 PIPELINING\r\n");
        let env = Envelope::new("a@x.org", ["b@x.org", "c@x.org"]);
        c.begin(&env, None).unwrap();
        out(&mut c);
        c.receive(&replies[..cut]);
        c.receive(&replies[cut..]);
        assert_eq!(c.wait(), Wait::Body(BodyMode::Data), "cut at {cut}");
        c.body_data(b"hi");
        c.body_end();
        assert_eq!(out(&mut c), "hi\r\n.\r\n");
        c.receive(b"250 queued\r\n");
        let delivery = c.take_outcome().unwrap().unwrap();
        assert!(delivery.is_accepted());
        assert_eq!(delivery.recipients.len(), 2);
    }
}

#[test]
fn link_lost_after_the_dot_is_unknown_but_before_it_an_error() {
    let mut c = ready("250 PIPELINING\r\n");
    c.begin(&Envelope::new("a@x.org", ["b@x.org"]), None)
        .unwrap();
    c.receive(b"250 ok\r\n250 ok\r\n354 go\r\n");
    c.body_end();
    c.link_lost(LinkLoss::Timeout);
    let delivery = c.take_outcome().unwrap().unwrap();
    assert!(
        matches!(delivery.data, DataOutcome::Unknown(ref e) if e.kind() == crate::ErrorKind::Timeout)
    );

    let mut c = ready("250 PIPELINING\r\n");
    c.begin(&Envelope::new("a@x.org", ["b@x.org"]), None)
        .unwrap();
    c.receive(b"250 ok\r\n");
    c.link_lost(LinkLoss::Eof);
    assert_eq!(
        c.take_outcome().unwrap().unwrap_err().kind(),
        crate::ErrorKind::Closed
    );
}

#[test]
fn reply_out_of_turn_is_a_protocol_error() {
    let mut c = ready("250 8BITMIME\r\n");
    c.begin(&Envelope::new("a@x.org", ["b@x.org"]), None)
        .unwrap();
    assert_eq!(out(&mut c), "MAIL FROM:<a@x.org>\r\n");
    c.receive(b"250 ok\r\n250 extra\r\n");
    // The second reply arrived before RCPT was even written: a desynchronised or forged stream.
    let err = c.take_outcome().unwrap().unwrap_err();
    assert_eq!(err.kind(), crate::ErrorKind::Protocol);
    assert_eq!(c.wait(), Wait::Closed);
}

#[test]
fn begin_on_a_closed_session_is_refused() {
    let mut c = ready("250 8BITMIME\r\n");
    c.link_lost(LinkLoss::Eof);
    let err = c
        .begin(&Envelope::new("a@x.org", ["b@x.org"]), None)
        .unwrap_err();
    assert_eq!(err.kind(), crate::ErrorKind::Closed);
}

#[test]
fn next_transaction_begins_behind_only_once_the_dot_is_written_and_one_deep() {
    let mut c = ready("250 PIPELINING\r\n");
    let env = Envelope::new("a@x.org", ["b@x.org"]);
    assert!(!c.can_begin_behind(), "nothing to begin behind");
    c.begin(&env, None).unwrap();
    assert!(!c.can_begin_behind(), "DATA not yet answered");
    c.receive(b"250 ok\r\n250 ok\r\n354 go\r\n");
    c.body_data(b"one");
    assert!(!c.can_begin_behind(), "content still open");
    c.body_end();
    assert!(c.can_begin_behind());
    c.begin(&env, None).unwrap();
    assert!(!c.can_begin_behind(), "only one transaction behind a dot");
    assert!(c.begin(&env, None).is_err());
    assert_eq!(
        out(&mut c),
        "MAIL FROM:<a@x.org>\r\nRCPT TO:<b@x.org>\r\nDATA\r\n\
         one\r\n.\r\nMAIL FROM:<a@x.org>\r\nRCPT TO:<b@x.org>\r\nDATA\r\n"
    );
    assert_eq!(c.wait(), Wait::Reply(Phase::DataEnd));
    c.receive(b"250 first\r\n");
    assert!(c.take_outcome().unwrap().unwrap().is_accepted());
    assert_eq!(c.wait(), Wait::Reply(Phase::MailFrom));
    c.receive(b"250 ok\r\n250 ok\r\n354 go\r\n");
    assert_eq!(c.wait(), Wait::Body(BodyMode::Data));
    assert!(c.take_outcome().is_none());
}

#[test]
fn no_transaction_begins_behind_without_pipelining() {
    let mut c = ready("250 8BITMIME\r\n");
    let env = Envelope::new("a@x.org", ["b@x.org"]);
    c.begin(&env, None).unwrap();
    for reply in ["250 ok\r\n", "250 ok\r\n", "354 go\r\n"] {
        c.receive(reply.as_bytes());
    }
    c.body_data(b"one");
    c.body_end();
    assert_eq!(c.wait(), Wait::Reply(Phase::DataEnd));
    assert!(!c.can_begin_behind());
    assert!(c.begin(&env, None).is_err());
}

#[test]
fn next_transaction_begins_behind_the_last_bdat_chunk() {
    let mut c = ready("250-PIPELINING\r\n250 CHUNKING\r\n");
    let env = Envelope::new("a@x.org", ["b@x.org"]);
    c.begin(&env, None).unwrap();
    c.receive(b"250 ok\r\n250 ok\r\n");
    assert_eq!(c.wait(), Wait::Body(BodyMode::Bdat));
    c.bdat_chunk(b"one", false);
    assert!(!c.can_begin_behind(), "a chunk that is not the last");
    c.receive(b"250 chunk\r\n");
    c.bdat_chunk(b"two", true);
    assert!(c.can_begin_behind());
    c.begin(&env, None).unwrap();
    assert_eq!(
        out(&mut c),
        "MAIL FROM:<a@x.org>\r\nRCPT TO:<b@x.org>\r\nBDAT 3\r\none\
         BDAT 5 LAST\r\ntwo\r\nRSET\r\nMAIL FROM:<a@x.org>\r\nRCPT TO:<b@x.org>\r\n"
    );
    c.receive(b"250 first\r\n250 reset\r\n250 ok\r\n250 ok\r\n");
    assert!(c.take_outcome().unwrap().unwrap().is_accepted());
    assert_eq!(c.wait(), Wait::Body(BodyMode::Bdat));
}

/// Runs one pipelined DATA transaction to its final reply; returns what the core wrote.
fn one_transaction(c: &mut Core, final_reply: &[u8]) -> String {
    c.begin(&Envelope::new("a@x.org", ["b@x.org"]), None)
        .unwrap();
    c.receive(b"250 ok\r\n250 ok\r\n354 go\r\n");
    c.body_data(b"hi");
    c.body_end();
    c.receive(final_reply);
    out(c)
}

#[test]
fn no_rset_between_transactions_that_ended_with_a_final_reply() {
    let mut c = ready("250 PIPELINING\r\n");
    let group = "MAIL FROM:<a@x.org>\r\nRCPT TO:<b@x.org>\r\nDATA\r\nhi\r\n.\r\n";
    assert_eq!(one_transaction(&mut c, b"250 queued\r\n"), group);
    assert!(c.take_outcome().unwrap().unwrap().is_accepted());
    // A refused final reply ends the transaction just as well.
    assert_eq!(one_transaction(&mut c, b"554 refused\r\n"), group);
    assert!(!c.take_outcome().unwrap().unwrap().is_accepted());
    assert_eq!(c.wait(), Wait::Ready);
    assert_eq!(one_transaction(&mut c, b"250 queued\r\n"), group);
    assert!(c.take_outcome().unwrap().unwrap().is_accepted());
}

#[test]
fn rset_follows_a_transaction_refused_before_its_content() {
    let mut c = ready("250 PIPELINING\r\n");
    let env = Envelope::new("a@x.org", ["b@x.org"]);
    c.begin(&env, None).unwrap();
    c.receive(b"550 no sender\r\n503 no\r\n503 no\r\n");
    assert_eq!(
        out(&mut c),
        "MAIL FROM:<a@x.org>\r\nRCPT TO:<b@x.org>\r\nDATA\r\nRSET\r\n"
    );
    assert_eq!(c.wait(), Wait::Reply(Phase::Rset));
    c.receive(b"250 reset\r\n");
    assert!(c.take_outcome().unwrap().is_err());
    // Reset once: the next transaction starts with MAIL.
    let group = "MAIL FROM:<a@x.org>\r\nRCPT TO:<b@x.org>\r\nDATA\r\nhi\r\n.\r\n";
    assert_eq!(one_transaction(&mut c, b"250 queued\r\n"), group);
}

#[test]
fn failed_reply_to_bdat_last_is_followed_by_rset() {
    let mut c = ready("250-PIPELINING\r\n250 CHUNKING\r\n");
    let env = Envelope::new("a@x.org", ["b@x.org"]);
    c.begin(&env, None).unwrap();
    c.receive(b"250 ok\r\n250 ok\r\n");
    c.bdat_chunk(b"one", true);
    out(&mut c);
    c.receive(b"552 too big\r\n");
    assert_eq!(out(&mut c), "RSET\r\n");
    c.receive(b"250 reset\r\n");
    assert!(!c.take_outcome().unwrap().unwrap().is_accepted());
    c.begin(&env, None).unwrap();
    c.receive(b"250 ok\r\n250 ok\r\n");
    c.bdat_chunk(b"two", true);
    c.receive(b"250 queued\r\n");
    assert!(c.take_outcome().unwrap().unwrap().is_accepted());
    assert_eq!(
        out(&mut c),
        "MAIL FROM:<a@x.org>\r\nRCPT TO:<b@x.org>\r\nBDAT 5 LAST\r\ntwo\r\n"
    );
    // A successful LAST reply needs no RSET.
    c.begin(&env, None).unwrap();
    assert_eq!(out(&mut c), "MAIL FROM:<a@x.org>\r\nRCPT TO:<b@x.org>\r\n");
}
