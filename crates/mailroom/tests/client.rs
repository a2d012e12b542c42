//! The client MTM and SendAs, each call against a real store file, and sends against a real
//! aiosmtpd server on 127.0.0.1.

use std::sync::Arc;
use std::time::Duration;

use mail_parser::{MessageParser, MimeHeaders};
use mailroom::mime::Scope;
use mailroom::store::{EntryId, RecipientKind, RecipientState, SendState, Store};
use mailroom::{
    Capability, CopyToSelf, ErrorKind, Registry, SendAs, SendOption, Services, SmtpClientMtm,
    SmtpSettings, TlsMode,
};
use mailroom_testkit::{CaptureOptions, CaptureServer};

struct Fixture {
    _dir: tempfile::TempDir,
    store: Arc<Store>,
    account: EntryId,
}

fn fixture(server: Option<&CaptureServer>) -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(Store::open(dir.path()).unwrap());
    let settings = SmtpSettings {
        server: server.map(|s| format!("smtp://127.0.0.1:{}", s.port()).parse().unwrap()),
        tls: Some(TlsMode::None),
        address: Some("alice@example.com".into()),
        display_name: Some("Alice Example".into()),
        reply_to: Some("replies@example.com".into()),
        signature: Some("Alice, from the test".into()),
        request_receipts: true,
        ..SmtpSettings::default()
    };
    let account = Services::new(store.clone())
        .create("smtp", "work", &settings)
        .unwrap();
    Fixture {
        _dir: dir,
        store,
        account,
    }
}

#[test]
fn created_message_is_a_draft_in_preparation_with_the_account_defaults() {
    let f = fixture(None);
    let mut client = SmtpClientMtm::new(f.store.clone());
    let id = client.create_message(Some(f.account)).unwrap();
    let entry = f.store.entry(id).unwrap();
    assert_eq!(entry.parent, EntryId::DRAFTS);
    assert!(entry.flags.in_preparation && !entry.flags.visible);
    let m = client.message().unwrap();
    let from = m.from.as_ref().unwrap();
    assert_eq!(
        (from.name.as_deref(), from.address.as_str()),
        (Some("Alice Example"), "alice@example.com")
    );
    assert_eq!(m.reply_to[0].address.as_str(), "replies@example.com");
    assert_eq!(
        m.receipt_to.as_ref().unwrap().address.as_str(),
        "alice@example.com"
    );
    assert_eq!(m.signature.as_deref(), Some("Alice, from the test"));
}

#[test]
fn edit_save_and_load_round_trip_and_refresh_the_entry() {
    let f = fixture(None);
    let mut client = SmtpClientMtm::new(f.store.clone());
    let id = client.create_message(Some(f.account)).unwrap();
    client
        .add_addressee(RecipientKind::To, "Bob <bob@example.net>")
        .unwrap();
    client
        .add_addressee(RecipientKind::Cc, "carol@example.org")
        .unwrap();
    client
        .add_addressee(RecipientKind::Bcc, "dave@example.org")
        .unwrap();
    assert!(client.remove_addressee("CAROL@example.org").unwrap());
    assert!(!client.remove_addressee("nobody@example.org").unwrap());
    client.set_subject("Plans for Zürich").unwrap();
    client.set_body("Let us meet.").unwrap();
    client.save().unwrap();

    let entry = f.store.entry(id).unwrap();
    assert_eq!(entry.description, "Plans for Zürich");
    assert_eq!(entry.details, "bob@example.net");
    assert!(entry.size > 100);
    assert!(!entry.flags.in_preparation && entry.flags.visible && entry.flags.multiple_recipients);
    assert!(entry.email.receipt_requested);

    let mut other = SmtpClientMtm::new(f.store.clone());
    other.switch_context(id).unwrap();
    let m = other.message().unwrap();
    assert_eq!(m.subject.as_deref(), Some("Plans for Zürich"));
    assert_eq!(m.to.len(), 1);
    assert!(m.cc.is_empty());
    assert_eq!(m.bcc[0].address.as_str(), "dave@example.org");
}

#[test]
fn validate_names_what_is_missing_and_bad_addresses_are_refused() {
    let f = fixture(None);
    let mut client = SmtpClientMtm::new(f.store.clone());
    client.create_message(Some(f.account)).unwrap();
    let e = client.validate().unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Input);
    assert!(e.to_string().contains("no recipients"), "{e}");
    let e = client
        .add_addressee(RecipientKind::To, "bob@example.net\r\nBcc: x@y.z")
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Input);
    client
        .add_addressee(RecipientKind::To, "bob@example.net")
        .unwrap();
    client.validate().unwrap();
    let e = client.queue(SendOption::OnRequest);
    assert!(e.is_ok());
}

#[test]
fn attachment_is_copied_into_the_store_and_removed_streams_are_dropped_on_save() {
    let f = fixture(None);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("notes.txt");
    std::fs::write(&path, "attached words").unwrap();
    let mut client = SmtpClientMtm::new(f.store.clone());
    let id = client.create_message(Some(f.account)).unwrap();
    client.add_attachment_file(&path, "text/plain").unwrap();
    client.add_attachment_file(&path, "text/plain").unwrap();
    std::fs::remove_file(&path).unwrap();
    client.remove_attachment(1).unwrap();
    assert!(client.remove_attachment(5).is_err());
    client.save().unwrap();
    let names = f.store.stream_names(id).unwrap();
    assert_eq!(
        names
            .iter()
            .filter(|n| n.starts_with("attachment-"))
            .count(),
        1,
        "{names:?}"
    );
    assert!(f.store.entry(id).unwrap().email.has_attachments);
    assert!(client.add_attachment_file(&path, "text/plain").is_err());
    assert!(
        client
            .add_attachment_file(dir.path(), "not a type")
            .is_err()
    );
}

#[test]
fn reply_reply_all_forward_and_find_work_from_a_saved_message() {
    let f = fixture(None);
    let mut client = SmtpClientMtm::new(f.store.clone());
    let original = client.create_message(Some(f.account)).unwrap();
    {
        let m = client.message_mut().unwrap();
        m.from = Some(mailroom::mime::Mailbox::parse("Bob <bob@example.net>").unwrap());
        m.reply_to.clear();
        m.message_id = Some("<orig-1@example.net>".into());
        m.text = Some("The Straße is closed.".into());
    }
    client
        .add_addressee(RecipientKind::To, "alice@example.com")
        .unwrap();
    client
        .add_addressee(RecipientKind::Cc, "carol@example.org")
        .unwrap();
    client.set_subject("Re: RE: Road works").unwrap();
    client.save().unwrap();

    let hits = client.find("STRAßE", Scope::ALL).unwrap();
    assert_eq!(hits.len(), 1);
    assert!(client.find("road WORKS", Scope::ALL).unwrap().len() == 1);

    let reply = client.reply(false).unwrap();
    assert_ne!(reply, original);
    let m = client.message().unwrap().clone();
    assert_eq!(m.subject.as_deref(), Some("Re: Road works"));
    assert_eq!(m.in_reply_to.as_deref(), Some("<orig-1@example.net>"));
    assert_eq!(m.to[0].address.as_str(), "bob@example.net");
    assert!(
        m.text
            .as_deref()
            .unwrap()
            .contains("> The Straße is closed.")
    );

    client.switch_context(original).unwrap();
    client.reply(true).unwrap();
    let m = client.message().unwrap().clone();
    let all: Vec<_> =
        m.to.iter()
            .chain(&m.cc)
            .map(|x| x.address.to_string())
            .collect();
    assert!(all.contains(&"carol@example.org".to_string()));
    assert!(
        !all.contains(&"alice@example.com".to_string()),
        "own address left in: {all:?}"
    );

    client.switch_context(original).unwrap();
    client.forward(false).unwrap();
    assert_eq!(
        client.message().unwrap().subject.as_deref(),
        Some("Fwd: Road works")
    );
    client.switch_context(original).unwrap();
    client.forward(true).unwrap();
    let m = client.message().unwrap();
    assert_eq!(m.attachments.len(), 1);
    assert_eq!(m.attachments[0].content_type, "message/rfc822");
}

#[test]
fn settings_live_under_the_service_and_receiving_is_not_supported() {
    let f = fixture(None);
    let mut client = SmtpClientMtm::new(f.store.clone());
    client.switch_context(f.account).unwrap();
    let mut settings = client.restore_settings().unwrap();
    settings.copy_to_self = CopyToSelf::Cc;
    client.store_settings(&settings).unwrap();
    assert_eq!(
        client.restore_settings().unwrap().copy_to_self,
        CopyToSelf::Cc
    );
    settings.connections_per_server = 0;
    assert_eq!(
        client.store_settings(&settings).unwrap_err().kind(),
        ErrorKind::Config
    );
    let e = client.receive().unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotSupported);
    assert!(e.to_string().contains("receive"), "{e}");
    assert!(client.query_capability(Capability::Reply).is_ok());
    let registry = Registry::standard();
    assert_eq!(registry.ids(), vec!["maildir", "smtp"]);
    assert!(!registry.capabilities("smtp").contains(&Capability::Receive));
    assert!(registry.capabilities("maildir").contains(&Capability::Send));
    assert!(
        !registry
            .capabilities("maildir")
            .contains(&Capability::Reply)
    );
}

#[test]
fn queue_moves_the_draft_to_the_outbox_with_records_and_a_copy_to_self() {
    let f = fixture(None);
    let services = Services::new(f.store.clone());
    let mut settings: SmtpSettings = services.settings(f.account).unwrap();
    settings.copy_to_self = CopyToSelf::Bcc;
    services.set_settings(f.account, &settings).unwrap();
    let mut client = SmtpClientMtm::new(f.store.clone());
    let id = client.create_message(Some(f.account)).unwrap();
    client
        .add_addressee(RecipientKind::To, "bob@example.net")
        .unwrap();
    client.queue(SendOption::NextConnection).unwrap();
    let entry = f.store.entry(id).unwrap();
    assert_eq!(entry.parent, EntryId::OUTBOX);
    assert_eq!(entry.send_state, Some(SendState::Waiting));
    let records: Vec<_> = entry
        .recipients
        .iter()
        .map(|r| (r.address.as_str(), r.kind, r.state))
        .collect();
    assert_eq!(
        records,
        vec![
            (
                "bob@example.net",
                RecipientKind::To,
                RecipientState::Pending
            ),
            (
                "alice@example.com",
                RecipientKind::Bcc,
                RecipientState::Pending
            ),
        ]
    );
    assert!(entry.email.message_id.is_some());
}

#[tokio::test]
async fn send_as_sends_with_an_attachment_and_save_keeps_a_draft() {
    let server = CaptureServer::start(&CaptureOptions::default(), None);
    let f = fixture(Some(&server));
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("report.csv");
    std::fs::write(&path, "a,b\n1,2\n").unwrap();

    let mut mail = SendAs::new(f.store.clone(), None).unwrap();
    mail.to("Bob <bob@example.net>")
        .unwrap()
        .subject("Figures")
        .unwrap()
        .body("Attached.")
        .unwrap();
    mail.attach(&path, "text/csv").unwrap();
    let report = mail.send().await.unwrap();
    assert_eq!(report.state, SendState::Sent, "{report:?}");
    let got = server.wait_for(1, Duration::from_secs(10));
    let data = got[0].data();
    let parsed = MessageParser::default().parse(&data).unwrap();
    assert_eq!(parsed.subject(), Some("Figures"));
    let attachment = parsed.attachment(0).expect("an attachment");
    assert_eq!(attachment.attachment_name(), Some("report.csv"));
    assert_eq!(attachment.contents(), b"a,b\n1,2\n");
    assert_eq!(f.store.entry(report.id).unwrap().parent, EntryId::SENT);

    let mut draft = SendAs::new(f.store.clone(), Some("work")).unwrap();
    draft.to("carol@example.org").unwrap();
    let id = draft.save().unwrap();
    assert_eq!(f.store.entry(id).unwrap().parent, EntryId::DRAFTS);
    assert_eq!(
        SendAs::new(f.store.clone(), Some("nope"))
            .err()
            .unwrap()
            .kind(),
        ErrorKind::NotFound
    );
}

#[test]
fn plain_text_account_refuses_html_and_attachments() {
    let f = fixture(None);
    let services = Services::new(f.store.clone());
    let mut settings: SmtpSettings = services.settings(f.account).unwrap();
    settings.body_encoding = mailroom::BodyEncoding::Plain;
    services.set_settings(f.account, &settings).unwrap();
    let mut client = SmtpClientMtm::new(f.store.clone());
    client.create_message(Some(f.account)).unwrap();
    client
        .add_addressee(RecipientKind::To, "bob@example.net")
        .unwrap();
    client.validate().unwrap();
    client.set_html("<p>hi</p>").unwrap();
    let e = client.validate().unwrap_err();
    assert!(e.to_string().contains("plain text only"), "{e}");
    assert!(client.queue(SendOption::Immediately).is_err());
}

#[tokio::test]
async fn queue_or_save_of_a_sent_message_is_refused_and_nothing_is_sent_again() {
    let server = CaptureServer::start(&CaptureOptions::default(), None);
    let f = fixture(Some(&server));
    let mut mail = SendAs::new(f.store.clone(), Some("work")).unwrap();
    mail.to("bob@example.net").unwrap().body("once").unwrap();
    let report = mail.send().await.unwrap();
    assert_eq!(report.state, SendState::Sent, "{report:?}");
    assert_eq!(server.wait_for(1, Duration::from_secs(10)).len(), 1);

    // An application's "edit and send again" on the sent message.
    let mut client = SmtpClientMtm::new(f.store.clone());
    client.switch_context(report.id).unwrap();
    client.set_body("edited after sending").unwrap();
    let err = client.queue(SendOption::Immediately).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Input);
    assert!(err.to_string().contains("was sent"), "{err}");
    let err = client.save().unwrap_err();
    assert!(err.to_string().contains("was sent"), "{err}");
    let entry = f.store.entry(report.id).unwrap();
    assert_eq!(entry.parent, EntryId::SENT);
    assert_eq!(entry.recipients[0].state, RecipientState::Accepted);
    let sender = mailroom::Sender::new(
        f.store.clone(),
        Services::new(f.store.clone()).settings(f.account).unwrap(),
        Some(f.account),
    );
    assert!(
        sender
            .send(mailroom::Selection::Queued)
            .await
            .unwrap()
            .is_empty()
    );
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(server.messages().len(), 1, "the message went out twice");
}

#[test]
fn a_file_attachment_put_in_directly_is_copied_into_the_store_on_save() {
    let f = fixture(None);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("notes.txt");
    std::fs::write(&path, "first version").unwrap();
    let mut client = SmtpClientMtm::new(f.store.clone());
    let id = client.create_message(Some(f.account)).unwrap();
    client
        .add_addressee(RecipientKind::To, "bob@example.net")
        .unwrap();
    client
        .message_mut()
        .unwrap()
        .attachments
        .push(mailroom::mime::Attachment::from_file(
            "notes.txt",
            "text/plain",
            &path,
        ));
    client.save().unwrap();
    // What is stored is the file as it was when saved.
    std::fs::write(&path, "changed later").unwrap();
    std::fs::remove_file(&path).unwrap();
    client.switch_context(id).unwrap();
    let mut out = Vec::new();
    mailroom::write_message_bytes(&f.store, id, &mut out).unwrap();
    let parsed = MessageParser::default().parse(&out).unwrap();
    assert_eq!(parsed.attachment(0).unwrap().contents(), b"first version");

    let err = client
        .add_attachment_file(dir.path(), "application/octet-stream")
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Input);
    assert!(err.to_string().contains("is not a file"), "{err}");
}

#[test]
fn two_clients_editing_one_draft_do_not_delete_each_others_attachments() {
    let f = fixture(None);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a.txt");
    std::fs::write(&path, "from client A").unwrap();
    let mut a = SmtpClientMtm::new(f.store.clone());
    let id = a.create_message(Some(f.account)).unwrap();
    a.add_addressee(RecipientKind::To, "bob@example.net")
        .unwrap();
    a.save().unwrap();
    let mut b = SmtpClientMtm::new(f.store.clone());
    b.switch_context(id).unwrap();
    // A attaches (the stream is written at once), B saves its older copy, then A saves.
    a.add_attachment_file(&path, "text/plain").unwrap();
    b.set_subject("from B").unwrap();
    b.save().unwrap();
    a.save().unwrap();
    let mut out = Vec::new();
    mailroom::write_message_bytes(&f.store, id, &mut out).unwrap();
    let parsed = MessageParser::default().parse(&out).unwrap();
    assert_eq!(parsed.attachment(0).unwrap().contents(), b"from client A");
}

#[tokio::test]
async fn unfinished_messages_do_not_pile_up_in_drafts() {
    let f = fixture(None);
    let drafts = || {
        f.store
            .children(EntryId::DRAFTS, &mailroom::store::Filter::all())
            .unwrap()
            .len()
    };
    // Dropped before it was saved or sent, or refused by send: nothing is left behind.
    let mut mail = SendAs::new(f.store.clone(), Some("work")).unwrap();
    mail.subject("never finished").unwrap();
    drop(mail);
    let mail = SendAs::new(f.store.clone(), Some("work")).unwrap();
    assert!(mail.send().await.is_err(), "no recipient");
    assert_eq!(drafts(), 0);
    // Saved ones stay; a client can discard a draft, but not a queued message.
    let mut mail = SendAs::new(f.store.clone(), Some("work")).unwrap();
    mail.to("bob@example.net").unwrap();
    let kept = mail.save().unwrap();
    assert_eq!(drafts(), 1);
    let mut client = SmtpClientMtm::new(f.store.clone());
    client.switch_context(kept).unwrap();
    client.queue(SendOption::OnRequest).unwrap();
    assert!(client.discard().is_err());
    let draft = client.create_message(Some(f.account)).unwrap();
    client.discard().unwrap();
    assert!(f.store.entry(draft).is_err());
    assert!(f.store.entry(kept).is_ok());
}
