//! The second module: messages of a Maildir service are written into a Maildir folder.

use std::sync::Arc;

use mailroom::mime::{Mailbox, Message};
use mailroom::store::{EntryId, RecipientState, SendState, Store};
use mailroom::{MAILDIR_MTM, MaildirSender, MaildirSettings, Outbox, SendOption, Services};

#[test]
fn maildir_service_delivers_queued_messages_into_new() {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(Store::open(&dir.path().join("store")).unwrap());
    let maildir = dir.path().join("Maildir");
    let settings = MaildirSettings {
        path: maildir.clone(),
    };
    let service = Services::new(store.clone())
        .create(MAILDIR_MTM, "local", &settings)
        .unwrap();
    let outbox = Outbox::for_module(store.clone(), MAILDIR_MTM, Some(service));
    let message = Message {
        from: Some(Mailbox::parse("alice@example.com").unwrap()),
        to: vec![Mailbox::parse("bob@example.net").unwrap()],
        bcc: vec![Mailbox::parse("hidden@example.org").unwrap()],
        subject: Some("to the folder".into()),
        text: Some("written, not sent".into()),
        ..Message::default()
    };
    let id = outbox
        .queue_message(&message, None, SendOption::Immediately)
        .unwrap();
    // An SMTP message in the same Outbox is not this module's business.
    let smtp = Outbox::new(store.clone(), None)
        .queue_message(&message, None, SendOption::OnRequest)
        .unwrap();

    let loaded: MaildirSettings = Services::new(store.clone()).settings(service).unwrap();
    let reports = MaildirSender::new(store.clone(), loaded, Some(service))
        .deliver_queued()
        .unwrap();
    assert_eq!(reports.len(), 1);
    assert_eq!(reports[0].state, SendState::Sent);
    let entry = store.entry(id).unwrap();
    assert_eq!(entry.parent, EntryId::SENT);
    assert!(
        entry
            .recipients
            .iter()
            .all(|r| r.state == RecipientState::Accepted)
    );
    assert_eq!(store.entry(smtp).unwrap().parent, EntryId::OUTBOX);

    let files: Vec<_> = std::fs::read_dir(maildir.join("new"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(files.len(), 1);
    assert_eq!(std::fs::read_dir(maildir.join("tmp")).unwrap().count(), 0);
    let text = std::fs::read_to_string(&files[0]).unwrap();
    assert!(text.contains("Subject: to the folder\r\n"), "{text}");
    assert!(!text.contains("hidden@example.org"), "{text}");
}
