//! The store's contract as the MTM layer uses it: entries, recipients, streams, listing.

use std::io::Read;
use std::os::unix::fs::PermissionsExt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use mailroom_store::{
    EmailFields, EntryError, EntryId, EntryKind, Event, Filter, Flags, InvalidOperation, NewEntry,
    Priority, RecipientKind, RecipientRecord, RecipientState, SendState, Sort, SortBy, Store,
    StoreError,
};

fn open() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("store")).unwrap();
    (dir, store)
}

fn at(secs: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(secs)
}

fn message(parent: EntryId, subject: &str, date: SystemTime) -> NewEntry {
    let mut m = NewEntry::message(parent, "smtp", None);
    m.description = subject.into();
    m.date = date;
    m.send_state = Some(SendState::Waiting);
    m
}

#[test]
fn store_is_send_and_sync() {
    fn check<T: Send + Sync>() {}
    check::<Store>();
}

#[test]
fn open_creates_private_directory_and_file_with_standard_folders() {
    let (dir, store) = open();
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&dir.path().join("store")), 0o700);
    assert_eq!(mode(store.path()), 0o600);
    store
        .create(&NewEntry::folder(EntryId::INBOX, "x"), &mut [])
        .unwrap();
    for side in ["-wal", "-shm"] {
        let mut p = store.path().as_os_str().to_owned();
        p.push(side);
        assert_eq!(mode(std::path::Path::new(&p)), 0o600, "{side} file");
    }
    let folders = store
        .children(EntryId::LOCAL_SERVICE, &Filter::all())
        .unwrap();
    let ids: Vec<EntryId> = folders.iter().map(|e| e.id).collect();
    for id in [
        EntryId::INBOX,
        EntryId::OUTBOX,
        EntryId::DRAFTS,
        EntryId::SENT,
        EntryId::DELETED,
    ] {
        assert!(ids.contains(&id), "{id} missing");
        assert_eq!(store.entry(id).unwrap().kind, EntryKind::Folder);
    }
    assert_eq!(store.entry(EntryId::ROOT).unwrap().kind, EntryKind::Root);
    assert_eq!(store.entry(EntryId::OUTBOX).unwrap().description, "Outbox");
}

#[test]
fn every_field_round_trips_through_create_and_update() {
    let (_dir, store) = open();
    let service = store
        .create(&NewEntry::service("smtp", "Work"), &mut [])
        .unwrap();
    let mut new = message(EntryId::OUTBOX, "Quarterly report", at(1_700_000_000));
    new.service = Some(service);
    new.details = "alice@example.com".into();
    new.flags = Flags {
        unread: true,
        priority: Priority::High,
        ..Flags::default()
    };
    new.scheduled = Some(at(1_700_000_600));
    new.email = EmailFields {
        html: true,
        has_attachments: true,
        multipart: Some("mixed".into()),
        message_id: Some("<1@example.com>".into()),
        ..EmailFields::default()
    };
    new.recipients = vec![
        RecipientRecord::new("alice@example.com", RecipientKind::To),
        RecipientRecord::new("bob@example.com", RecipientKind::Bcc),
    ];
    let id = store
        .create(&new, &mut [("mime", &mut &b"0123456789"[..])])
        .unwrap();
    assert!(id >= EntryId::FIRST_FREE);

    let mut e = store.entry(id).unwrap();
    assert_eq!(
        (e.parent, e.kind, e.mtm.as_str()),
        (EntryId::OUTBOX, EntryKind::Message, "smtp")
    );
    assert_eq!(e.service, Some(service));
    assert_eq!(e.date, at(1_700_000_000));
    assert_eq!(e.size, 10, "size counts the streams when not given");
    assert_eq!(e.flags, new.flags);
    assert_eq!(e.scheduled, new.scheduled);
    assert_eq!(e.email, new.email);
    assert_eq!(e.recipients, new.recipients);
    assert_eq!(e.lease, None);

    e.send_state = Some(SendState::Resend);
    e.error = Some(EntryError {
        kind: "smtp".into(),
        code: Some(451),
        text: "try later".into(),
    });
    e.recipients[0].state = RecipientState::Accepted;
    e.recipients[0].code = Some(250);
    e.recipients[1].state = RecipientState::Deferred;
    e.recipients[1].enhanced = Some("4.2.2".into());
    e.recipients[1].text = Some("mailbox full".into());
    e.recipients[1].time = Some(at(1_700_000_100));
    e.recipients
        .push(RecipientRecord::new("carol@example.com", RecipientKind::Cc));
    e.email.in_reply_to = Some("<0@example.com>".into());
    e.flags.read_only = true;
    e.size = 4242;
    store.update(&e).unwrap();
    assert_eq!(store.entry(id).unwrap(), e);

    // Fewer recipients, one readdressed: the records follow exactly.
    e.recipients.truncate(2);
    e.recipients[1] = RecipientRecord::new("dave@example.com", RecipientKind::To);
    store.update(&e).unwrap();
    assert_eq!(store.entry(id).unwrap(), e);
    e.recipients.clear();
    store.update(&e).unwrap();
    assert_eq!(store.entry(id).unwrap().recipients, []);
}

#[test]
fn update_of_a_missing_entry_is_not_found() {
    let (_dir, store) = open();
    let id = store
        .create(&message(EntryId::DRAFTS, "x", at(1)), &mut [])
        .unwrap();
    let e = store.entry(id).unwrap();
    store.delete(id).unwrap();
    assert!(matches!(store.update(&e), Err(StoreError::NotFound(i)) if i == id));
    assert!(matches!(store.entry(id), Err(StoreError::NotFound(_))));
}

#[test]
fn children_filter_by_kind_mtm_service_and_state_and_sort_both_ways() {
    let (_dir, store) = open();
    let svc = store
        .create(&NewEntry::service("smtp", "Home"), &mut [])
        .unwrap();
    let mut ids = Vec::new();
    for (i, (subject, size, state)) in [
        ("banana", 30, SendState::Waiting),
        ("Apple", 10, SendState::Failed),
        ("cherry", 20, SendState::Waiting),
    ]
    .into_iter()
    .enumerate()
    {
        let mut m = message(EntryId::OUTBOX, subject, at(100 + i as u64));
        m.size = Some(size);
        m.send_state = Some(state);
        m.service = (i != 1).then_some(svc);
        ids.push(store.create(&m, &mut []).unwrap());
    }
    store
        .create(&NewEntry::folder(EntryId::OUTBOX, "sub"), &mut [])
        .unwrap();
    let list = |f: Filter| -> Vec<EntryId> {
        store
            .children(EntryId::OUTBOX, &f)
            .unwrap()
            .iter()
            .map(|e| e.id)
            .collect()
    };
    let msgs = Filter::all().kind(EntryKind::Message);
    assert_eq!(list(msgs.clone()), ids);
    assert_eq!(
        list(msgs.clone().sort(Sort::descending(SortBy::Date))),
        [ids[2], ids[1], ids[0]]
    );
    assert_eq!(
        list(msgs.clone().sort(Sort::ascending(SortBy::Size))),
        [ids[1], ids[2], ids[0]]
    );
    assert_eq!(
        list(msgs.clone().sort(Sort::ascending(SortBy::Description))),
        [ids[1], ids[0], ids[2]],
        "subject sort ignores ASCII case"
    );
    assert_eq!(
        list(Filter::all().send_states(&[SendState::Waiting])),
        [ids[0], ids[2]]
    );
    assert_eq!(list(Filter::all().send_states(&[])), []);
    assert_eq!(list(Filter::all().service(svc)), [ids[0], ids[2]]);
    assert_eq!(list(Filter::all().mtm("local")).len(), 1);
    assert_eq!(list(Filter::all()).len(), 4);
    assert!(matches!(
        store.children(EntryId(999_999), &Filter::all()),
        Err(StoreError::NotFound(EntryId(999_999)))
    ));
}

#[test]
fn streams_create_read_replace_delete() {
    let (_dir, store) = open();
    let id = store
        .create(&message(EntryId::DRAFTS, "s", at(1)), &mut [])
        .unwrap();
    let big: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
    assert_eq!(
        store.write_stream(id, "body", &mut &big[..]).unwrap(),
        200_000
    );
    store
        .write_stream(id, "headers", &mut &b"Subject: s\r\n"[..])
        .unwrap();
    assert_eq!(store.stream_names(id).unwrap(), ["body", "headers"]);
    let mut back = Vec::new();
    let mut r = store.open_stream(id, "body").unwrap();
    assert_eq!(r.len(), 200_000);
    r.read_to_end(&mut back).unwrap();
    assert_eq!(back, big);

    store.write_stream(id, "body", &mut &b"short"[..]).unwrap();
    let mut back = String::new();
    store
        .open_stream(id, "body")
        .unwrap()
        .read_to_string(&mut back)
        .unwrap();
    assert_eq!(back, "short");

    assert!(store.delete_stream(id, "body").unwrap());
    assert!(!store.delete_stream(id, "body").unwrap());
    assert!(matches!(
        store.open_stream(id, "body"),
        Err(StoreError::StreamNotFound { entry, .. }) if entry == id
    ));
    assert!(matches!(
        store.write_stream(id, "", &mut &b""[..]),
        Err(StoreError::Invalid(InvalidOperation::StreamName(_)))
    ));
    let empty = store.write_stream(id, "empty", &mut &b""[..]).unwrap();
    assert_eq!(empty, 0);
    let mut none = Vec::new();
    store
        .open_stream(id, "empty")
        .unwrap()
        .read_to_end(&mut none)
        .unwrap();
    assert!(none.is_empty());
}

#[test]
fn reader_of_a_replaced_stream_fails_instead_of_mixing_versions() {
    let (_dir, store) = open();
    let id = store
        .create(&message(EntryId::DRAFTS, "s", at(1)), &mut [])
        .unwrap();
    store
        .write_stream(id, "body", &mut &vec![1u8; 300_000][..])
        .unwrap();
    let mut r = store.open_stream(id, "body").unwrap();
    let mut first = [0u8; 1000];
    r.read_exact(&mut first).unwrap();
    store
        .write_stream(id, "body", &mut &vec![2u8; 300_000][..])
        .unwrap();
    let mut rest = Vec::new();
    let err = r.read_to_end(&mut rest).unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::NotFound);
    assert!(rest.iter().all(|b| *b == 1));
}

struct FailingReader(usize);

impl Read for FailingReader {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.0 == 0 {
            return Err(std::io::Error::other("disk unplugged"));
        }
        let n = buf.len().min(self.0);
        buf[..n].fill(b'x');
        self.0 -= n;
        Ok(n)
    }
}

#[test]
fn create_with_an_unreadable_stream_stores_nothing() {
    let (_dir, store) = open();
    let rx = store.subscribe();
    let before = store
        .children(EntryId::OUTBOX, &Filter::all())
        .unwrap()
        .len();
    let err = store
        .create(
            &message(EntryId::OUTBOX, "att", at(1)),
            &mut [
                ("body", &mut &b"ok"[..]),
                ("attachment", &mut FailingReader(100_000)),
            ],
        )
        .unwrap_err();
    assert!(matches!(err, StoreError::Io { .. }), "{err:?}");
    assert_eq!(
        store
            .children(EntryId::OUTBOX, &Filter::all())
            .unwrap()
            .len(),
        before
    );
    assert!(rx.try_recv().is_err(), "no event for a rolled-back create");
}

#[test]
fn observers_see_created_changed_moved_deleted_after_commit() {
    let (_dir, store) = open();
    let rx = store.subscribe();
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let sink = seen.clone();
    let obs = store.observe(move |e| sink.lock().unwrap().push(*e));
    let id = store
        .create(&message(EntryId::DRAFTS, "e", at(1)), &mut [])
        .unwrap();
    let e = store.entry(id).unwrap();
    store.update(&e).unwrap();
    store.move_to(id, EntryId::OUTBOX).unwrap();
    store.delete(id).unwrap();
    let expected = vec![
        Event::Created {
            id,
            parent: EntryId::DRAFTS,
        },
        Event::Changed { id },
        Event::Moved {
            id,
            from: EntryId::DRAFTS,
            to: EntryId::OUTBOX,
        },
        Event::Deleted {
            id,
            parent: EntryId::OUTBOX,
        },
    ];
    assert_eq!(rx.try_iter().collect::<Vec<_>>(), expected);
    assert_eq!(*seen.lock().unwrap(), expected);
    assert!(store.unobserve(obs));
    store
        .create(&message(EntryId::DRAFTS, "f", at(1)), &mut [])
        .unwrap();
    assert_eq!(
        seen.lock().unwrap().len(),
        4,
        "removed observer is not called"
    );
}

#[test]
fn batch_commits_all_or_nothing() {
    let (_dir, store) = open();
    let ids = store
        .batch(|b| {
            (0..100)
                .map(|i| b.create(&message(EntryId::OUTBOX, &format!("m{i}"), at(i)), &mut []))
                .collect::<Result<Vec<_>, _>>()
        })
        .unwrap();
    assert_eq!(ids.len(), 100);
    let err = store
        .batch(|b| {
            b.create(&message(EntryId::OUTBOX, "lost", at(1)), &mut [])?;
            b.delete(EntryId::OUTBOX)
        })
        .unwrap_err();
    assert!(matches!(
        err,
        StoreError::Invalid(InvalidOperation::StandardEntry(EntryId::OUTBOX))
    ));
    assert_eq!(
        store
            .children(EntryId::OUTBOX, &Filter::all())
            .unwrap()
            .len(),
        100
    );
}

#[test]
fn copy_duplicates_subtree_with_streams_and_recipients() {
    let (_dir, store) = open();
    let mut m = message(EntryId::DRAFTS, "orig", at(5));
    m.recipients = vec![RecipientRecord::new("a@example.com", RecipientKind::To)];
    let id = store
        .create(&m, &mut [("body", &mut &b"hello"[..])])
        .unwrap();
    let part = store
        .create(
            &NewEntry::part(id, "smtp"),
            &mut [("data", &mut &vec![7u8; 70_000][..])],
        )
        .unwrap();
    let copy = store.copy(id, EntryId::OUTBOX).unwrap();
    assert_ne!(copy, id);
    let c = store.entry(copy).unwrap();
    assert_eq!(
        (c.parent, c.description.as_str()),
        (EntryId::OUTBOX, "orig")
    );
    assert_eq!(c.recipients, m.recipients);
    let mut body = String::new();
    store
        .open_stream(copy, "body")
        .unwrap()
        .read_to_string(&mut body)
        .unwrap();
    assert_eq!(body, "hello");
    let parts = store.children(copy, &Filter::all()).unwrap();
    assert_eq!(parts.len(), 1);
    assert_ne!(parts[0].id, part);
    let mut data = Vec::new();
    store
        .open_stream(parts[0].id, "data")
        .unwrap()
        .read_to_end(&mut data)
        .unwrap();
    assert_eq!(data, vec![7u8; 70_000]);
    store.delete(id).unwrap();
    assert!(
        store.open_stream(parts[0].id, "data").is_ok(),
        "copy is independent"
    );
}

#[test]
fn delete_removes_whole_subtree_and_its_streams() {
    let (_dir, store) = open();
    let folder = store
        .create(&NewEntry::folder(EntryId::INBOX, "f"), &mut [])
        .unwrap();
    let msg = store
        .create(&message(folder, "m", at(1)), &mut [("b", &mut &b"x"[..])])
        .unwrap();
    let part = store.create(&NewEntry::part(msg, "smtp"), &mut []).unwrap();
    store.delete(folder).unwrap();
    for id in [folder, msg, part] {
        assert!(matches!(store.entry(id), Err(StoreError::NotFound(_))));
    }
    store.check().unwrap();
}

#[test]
fn standard_entries_refuse_delete_and_move() {
    let (_dir, store) = open();
    for id in EntryId::STANDARD {
        assert!(matches!(
            store.delete(id),
            Err(StoreError::Invalid(InvalidOperation::StandardEntry(i))) if i == id
        ));
        assert!(matches!(
            store.move_to(id, EntryId::DRAFTS),
            Err(StoreError::Invalid(InvalidOperation::StandardEntry(_)))
        ));
    }
}

#[test]
fn move_into_own_subtree_is_refused() {
    let (_dir, store) = open();
    let a = store
        .create(&NewEntry::folder(EntryId::INBOX, "a"), &mut [])
        .unwrap();
    let b = store.create(&NewEntry::folder(a, "b"), &mut []).unwrap();
    let c = store.create(&NewEntry::folder(b, "c"), &mut []).unwrap();
    for target in [a, b, c] {
        assert!(matches!(
            store.move_to(a, target),
            Err(StoreError::Invalid(InvalidOperation::Cycle { .. }))
        ));
    }
    assert!(matches!(
        store.move_to(a, EntryId(123_456)),
        Err(StoreError::NotFound(_))
    ));
    assert_eq!(store.entry(a).unwrap().parent, EntryId::INBOX);
    assert!(matches!(
        store.copy(a, c),
        Err(StoreError::Invalid(InvalidOperation::Cycle { .. }))
    ));
    store.move_to(c, EntryId::DRAFTS).unwrap();
    store.move_to(a, c).unwrap();
    assert_eq!(
        store.entry(a).unwrap().parent,
        c,
        "allowed once c left a's subtree"
    );
}

#[test]
fn send_state_text_forms_are_snake_case() {
    for s in SendState::ALL {
        assert_eq!(s.to_string().parse::<SendState>().unwrap(), *s);
    }
    assert_eq!(SendState::UponRequest.to_string(), "upon_request");
    assert!("UponRequest".parse::<SendState>().is_err());
}

#[test]
fn streams_at_chunk_boundaries_keep_their_exact_length() {
    let (_dir, store) = open();
    let id = store
        .create(&message(EntryId::DRAFTS, "b", at(1)), &mut [])
        .unwrap();
    const CHUNK: usize = 64 * 1024;
    for len in [1, CHUNK - 1, CHUNK, CHUNK + 1, 2 * CHUNK, 3 * CHUNK - 7] {
        let data: Vec<u8> = (0..len).map(|i| (i * 13 % 256) as u8).collect();
        assert_eq!(
            store.write_stream(id, "s", &mut &data[..]).unwrap(),
            len as u64
        );
        let mut r = store.open_stream(id, "s").unwrap();
        assert_eq!(r.len(), len as u64);
        let mut back = Vec::new();
        r.read_to_end(&mut back).unwrap();
        assert!(back == data, "length {len}");
        let created = store
            .create(
                &message(EntryId::DRAFTS, "c", at(1)),
                &mut [("s", &mut &data[..])],
            )
            .unwrap();
        assert_eq!(store.entry(created).unwrap().size, len as u64);
        assert_eq!(store.open_stream(created, "s").unwrap().len(), len as u64);
        let batched = store
            .batch(|b| {
                let m = message(EntryId::DRAFTS, "d", at(1));
                b.create(&m, &mut [("s", &mut &data[..]), ("t", &mut &b"tail"[..])])
            })
            .unwrap();
        assert_eq!(store.entry(batched).unwrap().size, len as u64 + 4);
        let mut back = Vec::new();
        store
            .open_stream(batched, "s")
            .unwrap()
            .read_to_end(&mut back)
            .unwrap();
        assert!(back == data, "batched, length {len}");
    }
}

#[test]
fn calling_the_store_inside_its_own_batch_fails_instead_of_deadlocking() {
    let (_dir, store) = open();
    let id = store
        .create(&message(EntryId::DRAFTS, "r", at(1)), &mut [])
        .unwrap();
    store
        .write_stream(id, "body", &mut &vec![3u8; 100_000][..])
        .unwrap();
    let mut reader = store.open_stream(id, "body").unwrap();
    let err = store
        .batch(|b| {
            b.update(&b.entry(id)?)?;
            let io = reader.read(&mut [0u8; 10]).unwrap_err();
            assert!(io.to_string().contains("inside its own batch"), "{io}");
            store.entry(id).map(drop)
        })
        .unwrap_err();
    assert!(
        matches!(err, StoreError::Invalid(InvalidOperation::Reentrant)),
        "{err:?}"
    );
    // Nothing was committed and the store still works.
    let mut rest = Vec::new();
    reader.read_to_end(&mut rest).unwrap();
    assert_eq!(rest.len(), 100_000);
    assert!(store.changes_since(0, 10).unwrap().changes.len() == 2);
}

#[test]
fn deleting_a_service_leaves_its_messages_without_a_service() {
    let (_dir, store) = open();
    let svc = store
        .create(&NewEntry::service("smtp", "gone"), &mut [])
        .unwrap();
    let mut m = message(EntryId::OUTBOX, "orphaned service", at(1));
    m.service = Some(svc);
    let id = store.create(&m, &mut []).unwrap();
    store.delete(svc).unwrap();
    let e = store.entry(id).unwrap();
    assert_eq!((e.parent, e.service), (EntryId::OUTBOX, None));
    let mut e2 = e.clone();
    e2.service = Some(svc);
    assert!(matches!(store.update(&e2), Err(StoreError::NotFound(s)) if s == svc));
}

#[test]
fn default_dir_honours_mailroom_store_then_the_platform_data_directory() {
    let harness = env!("CARGO_BIN_EXE_mailroom-store-harness");
    let run = |env: &[(&str, &str)]| {
        let mut cmd = std::process::Command::new(harness);
        cmd.arg("default-dir")
            .env_remove("MAILROOM_STORE")
            .env_remove("XDG_DATA_HOME");
        for (k, v) in env {
            cmd.env(k, v);
        }
        let out = cmd.output().unwrap();
        assert!(out.status.success());
        String::from_utf8(out.stdout).unwrap().trim().to_owned()
    };
    assert_eq!(
        run(&[("MAILROOM_STORE", "/srv/mail"), ("HOME", "/home/x")]),
        "/srv/mail"
    );
    assert_eq!(run(&[("HOME", "/home/x")]), "/home/x/.local/share/mailroom");
}
