//! The outbox sender against real aiosmtpd servers on 127.0.0.1: per-recipient outcomes, the
//! retry schedule (with an injected clock, no sleeping), uncertain outcomes, cancel and resend,
//! sending on the next connection, and progress.

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use mailroom::mime::{Mailbox, Message};
use mailroom::store::{EntryId, RecipientState, SendState, Store};
use mailroom::{
    Outbox, ProgressState, Selection, SendOption, Sender, SmtpSettings, TlsMode, WatchTiming,
    Watcher,
};
use mailroom_testkit::{CaptureOptions, CaptureServer, free_port};

const WAIT: Duration = Duration::from_secs(10);

fn store() -> (tempfile::TempDir, Arc<Store>) {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(Store::open(dir.path()).unwrap());
    (dir, store)
}

fn settings(port: u16) -> SmtpSettings {
    SmtpSettings {
        server: Some(format!("smtp://127.0.0.1:{port}").parse().unwrap()),
        tls: Some(TlsMode::None),
        timeout: Some(Duration::from_secs(5)),
        ..SmtpSettings::default()
    }
}

fn message(to: &[&str]) -> Message {
    Message {
        from: Some(Mailbox::parse("alice@example.com").unwrap()),
        to: to.iter().map(|a| Mailbox::parse(a).unwrap()).collect(),
        subject: Some("test".into()),
        text: Some("hello".into()),
        ..Message::default()
    }
}

fn queue(store: &Arc<Store>, to: &[&str], when: SendOption) -> EntryId {
    Outbox::new(store.clone(), None)
        .queue_message(&message(to), None, when)
        .unwrap()
}

fn later(minutes: u64) -> mailroom::Clock {
    let at = SystemTime::now() + Duration::from_secs(minutes * 60);
    Arc::new(move || at)
}

fn states(store: &Store, id: EntryId) -> Vec<RecipientState> {
    store
        .entry(id)
        .unwrap()
        .recipients
        .iter()
        .map(|r| r.state)
        .collect()
}

#[tokio::test]
async fn partial_rejection_retry_goes_only_to_the_deferred_recipient() {
    let (_dir, store) = store();
    let port = free_port();
    let first = CaptureServer::start(
        &CaptureOptions {
            port: Some(port),
            defer: vec!["carol@example.org".into()],
            reject: vec!["dave@example.org".into()],
            ..Default::default()
        },
        None,
    );
    let id = queue(
        &store,
        &["bob@example.net", "carol@example.org", "dave@example.org"],
        SendOption::Immediately,
    );
    let sender = Sender::new(store.clone(), settings(port), None);
    let reports = sender.send(Selection::Ids(vec![id])).await.unwrap();
    assert_eq!(reports[0].state, SendState::Resend);
    use RecipientState::*;
    assert_eq!(states(&store, id), vec![Accepted, Deferred, Rejected]);
    assert_eq!(first.wait_for(1, WAIT)[0].rcpt_tos, vec!["bob@example.net"]);
    drop(first);

    let second = CaptureServer::start(
        &CaptureOptions {
            port: Some(port),
            ..Default::default()
        },
        None,
    );
    // Not due yet: nothing is sent.
    assert!(sender.send(Selection::Due).await.unwrap().is_empty());
    let retry = Sender::new(store.clone(), settings(port), None).with_clock(later(30));
    let reports = retry.send(Selection::Due).await.unwrap();
    assert_eq!(reports.len(), 1);
    assert_eq!(reports[0].state, SendState::Sent);
    assert_eq!(states(&store, id), vec![Accepted, Accepted, Rejected]);
    let got = second.wait_for(1, WAIT);
    assert_eq!(got.len(), 1);
    assert_eq!(
        got[0].rcpt_tos,
        vec!["carol@example.org"],
        "the retry went to someone else too"
    );
    assert_eq!(store.entry(id).unwrap().parent, EntryId::SENT);
}

#[tokio::test]
async fn transient_4xx_leads_to_resend_and_a_later_delivery() {
    let (_dir, store) = store();
    let server = CaptureServer::start(
        &CaptureOptions {
            fail_data: 1,
            ..Default::default()
        },
        None,
    );
    let id = queue(&store, &["bob@example.net"], SendOption::Immediately);
    let sender = Sender::new(store.clone(), settings(server.port()), None);
    let reports = sender.send(Selection::Ids(vec![id])).await.unwrap();
    assert_eq!(reports[0].state, SendState::Resend);
    assert_eq!(reports[0].error.as_ref().unwrap().kind, "rejected");
    let entry = store.entry(id).unwrap();
    let next = entry.scheduled.expect("a retry time");
    assert!(
        next > SystemTime::now() + Duration::from_secs(60),
        "retry too soon"
    );
    assert_eq!(entry.recipients[0].state, RecipientState::Deferred);
    assert_eq!(entry.recipients[0].code, Some(451));

    assert!(sender.send(Selection::Due).await.unwrap().is_empty());
    let retry = Sender::new(store.clone(), settings(server.port()), None).with_clock(later(10));
    let reports = retry.send(Selection::Due).await.unwrap();
    assert_eq!(reports[0].state, SendState::Sent);
    assert_eq!(server.wait_for(1, WAIT).len(), 1);
}

#[tokio::test]
async fn give_up_after_the_retry_lifetime() {
    let (_dir, store) = store();
    let server = CaptureServer::start(
        &CaptureOptions {
            fail_data: 5,
            ..Default::default()
        },
        None,
    );
    let id = queue(&store, &["bob@example.net"], SendOption::Immediately);
    let sender =
        Sender::new(store.clone(), settings(server.port()), None).with_clock(later(6 * 24 * 60));
    let reports = sender.send(Selection::Ids(vec![id])).await.unwrap();
    assert_eq!(reports[0].state, SendState::Failed);
    assert_eq!(store.entry(id).unwrap().parent, EntryId::OUTBOX);
}

#[tokio::test]
async fn close_after_the_final_dot_leaves_the_message_uncertain_until_resent() {
    let (_dir, store) = store();
    let dropping = CaptureServer::start(
        &CaptureOptions {
            drop_after_data: true,
            ..Default::default()
        },
        None,
    );
    let id = queue(&store, &["bob@example.net"], SendOption::Immediately);
    let sender = Sender::new(store.clone(), settings(dropping.port()), None);
    let reports = sender.send(Selection::Ids(vec![id])).await.unwrap();
    assert_eq!(reports[0].state, SendState::Uncertain, "{reports:?}");
    assert_eq!(reports[0].error.as_ref().unwrap().kind, "outcome_unknown");
    assert_eq!(states(&store, id), vec![RecipientState::Unknown]);
    assert_eq!(dropping.wait_for(1, WAIT).len(), 1);

    // Neither a due run nor a flush of the queue touches it, even much later.
    let much_later =
        Sender::new(store.clone(), settings(dropping.port()), None).with_clock(later(600));
    assert!(much_later.send(Selection::Due).await.unwrap().is_empty());
    assert!(much_later.send(Selection::Queued).await.unwrap().is_empty());
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(dropping.messages().len(), 1);

    // Asked for while the server is down, it stays uncertain and says both why.
    let down = Sender::new(store.clone(), settings(mailroom_testkit::free_port()), None);
    let reports = down.send(Selection::Ids(vec![id])).await.unwrap();
    assert_eq!(reports[0].state, SendState::Uncertain, "{reports:?}");
    let text = &reports[0].error.as_ref().unwrap().message;
    assert!(
        text.contains("may have been delivered") && text.contains("connect"),
        "{text}"
    );

    // Asked for by id, it goes again.
    let good = CaptureServer::start(&CaptureOptions::default(), None);
    let sender = Sender::new(store.clone(), settings(good.port()), None);
    let reports = sender.send(Selection::Ids(vec![id])).await.unwrap();
    assert_eq!(reports[0].state, SendState::Sent);
    assert_eq!(good.wait_for(1, WAIT).len(), 1);
}

#[tokio::test]
async fn message_pipelined_behind_a_lost_final_reply_goes_out_on_a_fresh_session() {
    // The server offers PIPELINING, so the second message's envelope travels behind the first
    // one's final dot; the server takes the first and drops the link without replying. The
    // first is uncertain; the second never had its content sent, so it goes out at once on a
    // new session instead of waiting for a retry.
    let (_dir, store) = store();
    let server = CaptureServer::start(
        &CaptureOptions {
            pipelining: true,
            drop_after_message: Some(1),
            ..Default::default()
        },
        None,
    );
    let ids: Vec<_> = (0..3)
        .map(|_| queue(&store, &["bob@example.net"], SendOption::Immediately))
        .collect();
    let sender = Sender::new(store.clone(), settings(server.port()), None);
    let reports = sender.send(Selection::Ids(ids.clone())).await.unwrap();
    let state = |id| reports.iter().find(|r| r.id == id).unwrap().state;
    assert_eq!(state(ids[0]), SendState::Uncertain, "{reports:?}");
    assert_eq!(state(ids[1]), SendState::Sent, "{reports:?}");
    assert_eq!(state(ids[2]), SendState::Sent, "{reports:?}");
    assert_eq!(reports.len(), 3, "{reports:?}");
    // Each message reached the server once, over two sessions.
    let captured = server.wait_for(3, WAIT);
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(server.messages().len(), 3);
    let ports: std::collections::HashSet<_> = captured.iter().map(|m| m.peer_port).collect();
    assert_eq!(ports.len(), 2, "{captured:?}");
}

#[tokio::test]
async fn cancelled_message_is_not_sent_until_resent() {
    let (_dir, store) = store();
    let server = CaptureServer::start(&CaptureOptions::default(), None);
    let outbox = Outbox::new(store.clone(), None);
    let id = queue(&store, &["bob@example.net"], SendOption::OnRequest);
    outbox.cancel(id).unwrap();
    assert_eq!(
        store.entry(id).unwrap().send_state,
        Some(SendState::Suspended)
    );
    let sender = Sender::new(store.clone(), settings(server.port()), None);
    assert!(sender.send(Selection::Queued).await.unwrap().is_empty());
    outbox.resend(id).unwrap();
    let reports = sender.send(Selection::Queued).await.unwrap();
    assert_eq!(reports[0].state, SendState::Sent);
    let err = outbox.cancel(id).unwrap_err();
    assert!(err.to_string().contains("not in the Outbox"), "{err}");
}

#[tokio::test]
async fn progress_reports_bytes_and_counts() {
    let (_dir, store) = store();
    let server = CaptureServer::start(&CaptureOptions::default(), None);
    let ids: Vec<_> = (0..3)
        .map(|_| queue(&store, &["bob@example.net"], SendOption::Immediately))
        .collect();
    let sender = Sender::new(store.clone(), settings(server.port()), None);
    let latest = sender.progress();
    let seen = Arc::new(std::sync::Mutex::new(Vec::new()));
    let log = seen.clone();
    sender.on_progress(move |p| log.lock().unwrap().push(p.clone()));
    let reports = sender.send(Selection::Ids(ids)).await.unwrap();
    assert!(reports.iter().all(|r| r.state == SendState::Sent));
    assert_eq!(latest.borrow().sent, 3);
    let seen = seen.lock().unwrap();
    let last = seen.last().unwrap();
    assert_eq!(
        (last.state, last.sent, last.total, last.failed),
        (ProgressState::Done, 3, 3, 0)
    );
    assert!(
        seen.iter()
            .any(|p| p.state == ProgressState::Sending && p.bytes_sent > 0)
    );
    assert!(seen.iter().any(|p| p.index == 2));
}

#[tokio::test]
async fn next_connection_sending_starts_within_5_seconds_of_the_server_coming_up() {
    let (_dir, store) = store();
    let port = free_port();
    let id = queue(&store, &["bob@example.net"], SendOption::NextConnection);
    let watcher = Watcher::new(Sender::new(store.clone(), settings(port), None))
        .with_timing(WatchTiming::default());
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        watcher
            .run(
                async {
                    let _ = stop_rx.await;
                },
                |_| {},
            )
            .await
    });
    // The server is down for a while; the watcher backs off meanwhile.
    tokio::time::sleep(Duration::from_secs(6)).await;
    assert_eq!(
        store.entry(id).unwrap().send_state,
        Some(SendState::Waiting)
    );
    let server = CaptureServer::start(
        &CaptureOptions {
            port: Some(port),
            ..Default::default()
        },
        None,
    );
    let up = Instant::now();
    let got = tokio::task::spawn_blocking(move || {
        let got = server.wait_for(1, Duration::from_secs(10));
        (got.len(), server)
    })
    .await
    .unwrap();
    let took = up.elapsed();
    assert_eq!(got.0, 1);
    assert!(took < Duration::from_secs(5), "took {took:?}");
    stop_tx.send(()).unwrap();
    task.await.unwrap().unwrap();
    assert_eq!(store.entry(id).unwrap().send_state, Some(SendState::Sent));
}

#[tokio::test]
async fn stop_during_a_send_finishes_the_message_on_the_wire_and_leaves_the_rest() {
    let (_dir, store) = store();
    let server = CaptureServer::start(
        &CaptureOptions {
            delay_data: Some(Duration::from_millis(1500)),
            ..Default::default()
        },
        None,
    );
    let ids: Vec<_> = (0..4)
        .map(|_| queue(&store, &["bob@example.net"], SendOption::NextConnection))
        .collect();
    let watcher = Watcher::new(Sender::new(store.clone(), settings(server.port()), None));
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let started = Instant::now();
    let task = tokio::spawn(async move {
        let mut sent = Vec::new();
        watcher
            .run(
                async {
                    let _ = stop_rx.await;
                },
                |r| sent.extend(r.to_vec()),
            )
            .await
            .map(|()| sent)
    });
    tokio::time::sleep(Duration::from_millis(700)).await;
    stop_tx.send(()).unwrap();
    let sent = task.await.unwrap().unwrap();
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "the stop waited for every message"
    );
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert_eq!(sent[0].state, SendState::Sent);
    let states: Vec<_> = ids
        .iter()
        .map(|id| store.entry(*id).unwrap().send_state.unwrap())
        .collect();
    assert_eq!(
        states.iter().filter(|s| **s == SendState::Sent).count(),
        1,
        "{states:?}"
    );
    assert_eq!(
        states.iter().filter(|s| **s == SendState::Waiting).count(),
        3,
        "{states:?}"
    );
    assert!(
        ids.iter()
            .all(|id| store.entry(*id).unwrap().lease.is_none()),
        "leases left behind"
    );
    assert_eq!(server.messages().len(), 1);
}

fn connections(server: &CaptureServer) -> usize {
    let ports: std::collections::HashSet<_> = server
        .messages()
        .iter()
        .map(|m| m.peer_port.expect("peer port"))
        .collect();
    ports.len()
}

#[tokio::test]
async fn connections_per_server_sends_over_several_sessions_each_message_once() {
    let (_dir, store) = store();
    let server = CaptureServer::start(&CaptureOptions::default(), None);
    let ids: Vec<_> = (0..30)
        .map(|_| queue(&store, &["bob@example.net"], SendOption::OnRequest))
        .collect();
    let settings = SmtpSettings {
        connections_per_server: 3,
        ..settings(server.port())
    };
    let reports = Sender::new(store.clone(), settings, None)
        .send(Selection::Queued)
        .await
        .unwrap();
    assert_eq!(reports.len(), 30);
    assert!(reports.iter().all(|r| r.state == SendState::Sent));
    assert_eq!(server.wait_for(30, WAIT).len(), 30);
    assert_eq!(connections(&server), 3);
    assert!(
        ids.iter()
            .all(|id| store.entry(*id).unwrap().parent == EntryId::SENT)
    );
}

#[tokio::test]
async fn session_refused_by_a_connection_limit_leaves_its_batches_to_the_open_ones() {
    // Four sessions wanted, the server takes two at a time and answers 421 to the others:
    // the refused sessions must not take batches they cannot send.
    let (_dir, store) = store();
    let server = CaptureServer::start(
        &CaptureOptions {
            max_connections: Some(2),
            ..Default::default()
        },
        None,
    );
    let ids: Vec<_> = (0..40)
        .map(|_| queue(&store, &["bob@example.net"], SendOption::OnRequest))
        .collect();
    let settings = SmtpSettings {
        connections_per_server: 4,
        ..settings(server.port())
    };
    let reports = Sender::new(store.clone(), settings, None)
        .send(Selection::Queued)
        .await
        .unwrap();
    assert_eq!(reports.len(), 40);
    assert!(
        reports.iter().all(|r| r.state == SendState::Sent),
        "{:?}",
        reports.iter().find(|r| r.state != SendState::Sent)
    );
    assert_eq!(server.wait_for(40, WAIT).len(), 40);
    assert_eq!(connections(&server), 2);
    assert!(
        ids.iter()
            .all(|id| store.entry(*id).unwrap().parent == EntryId::SENT)
    );
}

#[tokio::test]
async fn messages_per_connection_opens_a_fresh_session_after_the_limit() {
    let (_dir, store) = store();
    let server = CaptureServer::start(&CaptureOptions::default(), None);
    for _ in 0..12 {
        queue(&store, &["bob@example.net"], SendOption::OnRequest);
    }
    let settings = SmtpSettings {
        messages_per_connection: 5,
        ..settings(server.port())
    };
    let reports = Sender::new(store.clone(), settings, None)
        .send(Selection::Queued)
        .await
        .unwrap();
    assert!(reports.iter().all(|r| r.state == SendState::Sent));
    assert_eq!(server.wait_for(12, WAIT).len(), 12);
    assert_eq!(connections(&server), 3);
}

/// A server that takes 400 ms to answer each message's data.
fn slow_server() -> CaptureServer {
    CaptureServer::start(
        &CaptureOptions {
            delay_data: Some(Duration::from_millis(400)),
            ..Default::default()
        },
        None,
    )
}

/// Waits (on a blocking thread) until a sender has marked message `id` `Sending`.
fn wait_until_sending(store: &Store, id: EntryId) {
    let until = Instant::now() + WAIT;
    while store.entry(id).unwrap().send_state != Some(SendState::Sending) {
        assert!(Instant::now() < until, "message {id} was never sent");
        std::thread::sleep(Duration::from_millis(5));
    }
}

#[tokio::test]
async fn a_message_deleted_while_it_is_sent_does_not_take_the_others_down() {
    let (_dir, store) = store();
    let server = slow_server();
    let ids: Vec<EntryId> = (0..3)
        .map(|_| queue(&store, &["bob@example.net"], SendOption::OnRequest))
        .collect();
    let sender = Sender::new(store.clone(), settings(server.port()), None);
    let deleting = {
        let store = store.clone();
        let first = ids[0];
        tokio::task::spawn_blocking(move || {
            // While the first message waits for its reply to DATA.
            wait_until_sending(&store, first);
            store.delete(first).unwrap();
        })
    };
    let reports = sender.send(Selection::Queued).await.unwrap();
    deleting.await.unwrap();
    for id in &ids[1..] {
        let entry = store.entry(*id).unwrap();
        assert_eq!(entry.parent, EntryId::SENT, "{id}: {reports:?}");
        assert!(entry.lease.is_none());
    }
    assert!(store.entry(ids[0]).is_err());
    assert_eq!(server.wait_for(3, WAIT).len(), 3);
}

#[tokio::test]
async fn progress_ends_done_when_the_send_operation_fails_as_a_whole() {
    let (_dir, store) = store();
    queue(&store, &["bob@example.net"], SendOption::OnRequest);
    let mut bad = settings(free_port());
    bad.auth = Some(mailroom::AuthSettings {
        login: "alice".into(),
        password: mailroom::PasswordSource::Env("MAILROOM_TEST_UNSET_VARIABLE".into()),
        mechanisms: Vec::new(),
    });
    let sender = Sender::new(store.clone(), bad, None);
    let progress = sender.progress();
    assert!(sender.send(Selection::Queued).await.is_err());
    assert_eq!(progress.borrow().state, ProgressState::Done);
}

#[tokio::test]
async fn outbox_delete_refuses_a_message_a_sender_holds_and_deletes_it_after() {
    let (_dir, store) = store();
    let server = slow_server();
    let id = queue(&store, &["bob@example.net"], SendOption::OnRequest);
    let sender = Sender::new(store.clone(), settings(server.port()), None);
    let refused = {
        let store = store.clone();
        tokio::task::spawn_blocking(move || {
            wait_until_sending(&store, id);
            Outbox::new(store.clone(), None).delete(id).unwrap_err()
        })
    };
    let reports = sender.send(Selection::Queued).await.unwrap();
    let err = refused.await.unwrap();
    assert!(
        err.to_string().contains("a sender is sending it now"),
        "{err}"
    );
    assert_eq!(reports[0].state, SendState::Sent);
    assert_eq!(store.entry(id).unwrap().parent, EntryId::SENT);
    Outbox::new(store.clone(), None).delete(id).unwrap();
    assert!(store.entry(id).is_err());
}

#[tokio::test]
async fn progress_over_several_sessions_moves_forward_and_closes_once() {
    let (_dir, store) = store();
    let server = CaptureServer::start(&CaptureOptions::default(), None);
    let ids: Vec<_> = (0..12)
        .map(|_| queue(&store, &["bob@example.net"], SendOption::OnRequest))
        .collect();
    let mut two = settings(server.port());
    two.connections_per_server = 2;
    let sender = Sender::new(store.clone(), two, None);
    let seen = Arc::new(std::sync::Mutex::new(Vec::new()));
    let log = seen.clone();
    sender.on_progress(move |p| log.lock().unwrap().push(p.clone()));
    let reports = sender.send(Selection::Ids(ids)).await.unwrap();
    assert!(reports.iter().all(|r| r.state == SendState::Sent));
    let seen = seen.lock().unwrap();
    let indexes: Vec<usize> = seen
        .iter()
        .filter(|p| p.state == ProgressState::Sending)
        .map(|p| p.index)
        .collect();
    assert!(indexes.windows(2).all(|w| w[0] <= w[1]), "{indexes:?}");
    assert!(indexes.iter().all(|&i| i < 12), "{indexes:?}");
    // Closing comes once, after the last message, and nothing is sent after it.
    let closing = seen
        .iter()
        .position(|p| p.state == ProgressState::Closing)
        .expect("a Closing state");
    let after: Vec<_> = seen[closing..]
        .iter()
        .map(|p| (p.state, p.index, p.sent))
        .collect();
    assert!(
        after
            .iter()
            .all(|(state, _, _)| matches!(state, ProgressState::Closing | ProgressState::Done)),
        "{after:?}"
    );
    assert_eq!(seen.last().unwrap().sent, 12);
}
