//! The folders: `outbox`, `drafts`, `sent`, `show`, `resend`, `cancel`, `delete`, and the
//! printing of `account` results.

use std::io::Write;
use std::time::SystemTime;

use mailroom::store::{Entry, EntryId, EntryKind, Filter, SendState};
use mailroom::{MessageReport, Outbox, Selection, Sender, Services, SmtpClientMtm};
use serde_json::{Value, json};

use crate::cli_more::{AccountCommand, IdArgs, ListArgs, ResendArgs, ShowArgs};
use crate::commands::{Globals, open_store};
use crate::exit::{CliError, Exit};

/// `mailroom account ...`, printed.
pub fn account(g: &Globals, command: AccountCommand) -> Result<Exit, CliError> {
    let store = open_store(g.store_dir.clone())?;
    let listing = matches!(command, AccountCommand::List(_));
    let value = crate::accounts::run(store, command)?;
    if g.json {
        outln!("{value}");
    } else if listing {
        let list = value.as_array().cloned().unwrap_or_default();
        if list.is_empty() {
            outln!("no accounts (mailroom account add NAME --server ...)");
        }
        for v in &list {
            crate::accounts::print_account(v);
        }
    } else if value.get("imported").is_some() {
        for name in value["imported"].as_array().into_iter().flatten() {
            outln!("imported account {}", name.as_str().unwrap_or(""));
        }
        for name in value["skipped"].as_array().into_iter().flatten() {
            outln!(
                "skipped account {} (it exists)",
                name.as_str().unwrap_or("")
            );
        }
    } else if value.get("removed").is_some() {
        outln!("account {} removed", value["name"].as_str().unwrap_or(""));
    } else {
        crate::accounts::print_account(&value);
    }
    Ok(Exit::Ok)
}

/// One message as listed.
pub fn entry_json(e: &Entry, services: &[mailroom::ServiceInfo]) -> Value {
    let account = e
        .service
        .and_then(|s| services.iter().find(|i| i.id == s))
        .map(|i| i.name.clone());
    let mut report = serde_json::to_value(MessageReport::from_entry(e)).unwrap_or(Value::Null);
    if let Some(obj) = report.as_object_mut() {
        obj.insert("subject".into(), json!(e.description));
        obj.insert("to".into(), json!(e.details));
        obj.insert("account".into(), json!(account));
        obj.insert("size".into(), json!(e.size));
        obj.insert("date".into(), json!(rfc3339(e.date)));
        obj.insert("scheduled".into(), json!(e.scheduled.map(rfc3339)));
        obj.insert("message_id".into(), json!(e.email.message_id));
    }
    report
}

fn rfc3339(t: SystemTime) -> String {
    time::OffsetDateTime::from(t)
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

/// `outbox`, `drafts`, `sent`.
pub fn list(g: &Globals, folder: EntryId, args: ListArgs) -> Result<Exit, CliError> {
    let store = open_store(g.store_dir.clone())?;
    let services = Services::new(store.clone()).list(Some(mailroom::MTM_ID))?;
    let mut filter = Filter::all().kind(EntryKind::Message);
    if let Some(name) = &args.account {
        let info = services.iter().find(|s| &s.name == name).ok_or_else(|| {
            CliError::new(
                Exit::DataErr,
                "not_found",
                anyhow::anyhow!("no account named {name:?}"),
            )
        })?;
        filter = filter.service(info.id);
    }
    let entries: Vec<Entry> = store
        .children(folder, &filter)
        .map_err(mailroom::Error::from)?
        .into_iter()
        .filter(|e| !e.flags.in_preparation)
        .collect();
    let values: Vec<Value> = entries.iter().map(|e| entry_json(e, &services)).collect();
    if g.json {
        outln!("{}", Value::Array(values));
        return Ok(Exit::Ok);
    }
    let mut out = crate::output::stdout();
    if entries.is_empty() {
        let _ = writeln!(out, "empty");
    }
    for e in &entries {
        let state = e
            .send_state
            .map(|s| s.to_string())
            .unwrap_or_else(|| "-".into());
        let _ = writeln!(
            out,
            "{:>5}  {:<12} {:<16}  {}",
            e.id.0,
            state,
            short_date(e.date),
            truncate(&e.description, 50)
        );
        if folder == EntryId::DRAFTS {
            continue;
        }
        for r in &e.recipients {
            let reply = match (r.code, &r.text) {
                (Some(code), Some(text)) => format!(" {code} {}", truncate(text, 60)),
                (Some(code), None) => format!(" {code}"),
                _ => String::new(),
            };
            let _ = writeln!(
                out,
                "         {:<9} {}{reply}",
                r.state.to_string(),
                r.address
            );
        }
        if let Some(error) = &e.error {
            let _ = writeln!(out, "         error: {}", truncate(&error.text, 80));
        }
        if let (Some(t), Some(SendState::Scheduled | SendState::Resend)) =
            (e.scheduled, e.send_state)
        {
            let _ = writeln!(out, "         next attempt: {}", rfc3339(t));
        }
    }
    Ok(Exit::Ok)
}

/// `YYYY-MM-DD HH:MM` in UTC.
fn short_date(t: SystemTime) -> String {
    let t = time::OffsetDateTime::from(t);
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02}",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute()
    )
}

fn truncate(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        let mut t: String = s.chars().take(n - 1).collect();
        t.push('…');
        t
    }
}

fn message_entry(store: &mailroom::store::Store, id: i64) -> Result<Entry, CliError> {
    let entry = store.entry(EntryId(id)).map_err(|e| {
        CliError::new(
            Exit::DataErr,
            "not_found",
            anyhow::anyhow!("no message {id}: {e}"),
        )
    })?;
    if entry.kind != EntryKind::Message {
        return Err(CliError::new(
            Exit::DataErr,
            "not_found",
            anyhow::anyhow!("entry {id} is not a message"),
        ));
    }
    Ok(entry)
}

/// `show ID`.
pub fn show(g: &Globals, args: ShowArgs) -> Result<Exit, CliError> {
    let store = open_store(g.store_dir.clone())?;
    let entry = message_entry(&store, args.id)?;
    if args.raw {
        let mut out = crate::output::stdout();
        mailroom::write_message_bytes(&store, entry.id, &mut out)?;
        let _ = out.flush();
        return Ok(Exit::Ok);
    }
    let mut client = SmtpClientMtm::new(store.clone());
    client.switch_context(entry.id)?;
    let message = client.message()?.clone();
    let services = Services::new(store.clone()).list(Some(mailroom::MTM_ID))?;
    let envelope_from = mailroom::envelope_sender(&store, entry.id)?;
    let folder = match entry.parent {
        EntryId::OUTBOX => "outbox",
        EntryId::DRAFTS => "drafts",
        EntryId::SENT => "sent",
        _ => "other",
    };
    let mailboxes =
        |l: &[mailroom::mime::Mailbox]| l.iter().map(|m| m.to_string()).collect::<Vec<_>>();
    if g.json {
        let mut v = entry_json(&entry, &services);
        if let Some(obj) = v.as_object_mut() {
            obj.insert("folder".into(), json!(folder));
            obj.insert("envelope_from".into(), json!(envelope_from));
            obj.insert(
                "headers".into(),
                json!({
                    "from": message.from.as_ref().map(|m| m.to_string()),
                    "to": mailboxes(&message.to),
                    "cc": mailboxes(&message.cc),
                    "bcc": mailboxes(&message.bcc),
                    "reply_to": mailboxes(&message.reply_to),
                    "subject": message.subject,
                    "in_reply_to": message.in_reply_to,
                    "extra": message.headers,
                }),
            );
            obj.insert("body".into(), json!(message.text));
            obj.insert("html".into(), json!(message.html));
            let names: Vec<_> = message
                .attachments
                .iter()
                .map(|a| json!({ "file_name": a.file_name, "content_type": a.content_type }))
                .collect();
            obj.insert("attachments".into(), json!(names));
        }
        outln!("{v}");
        return Ok(Exit::Ok);
    }
    let mut out = crate::output::stdout();
    let state = entry
        .send_state
        .map(|s| s.to_string())
        .unwrap_or_else(|| "draft".into());
    // "(sent)" rather than "(sent, sent)" when the folder and the state have one name.
    let place = if state == folder {
        state
    } else {
        format!("{folder}, {state}")
    };
    let _ = writeln!(out, "Message {} ({place})", entry.id);
    if let Some(from) = &message.from {
        let _ = writeln!(out, "From: {from}");
    }
    for (name, list) in [
        ("To", &message.to),
        ("Cc", &message.cc),
        ("Bcc", &message.bcc),
    ] {
        if !list.is_empty() {
            let _ = writeln!(out, "{name}: {}", mailboxes(list).join(", "));
        }
    }
    let _ = writeln!(out, "Subject: {}", message.subject.as_deref().unwrap_or(""));
    if let Some(id) = &message.message_id {
        let _ = writeln!(out, "Message-ID: {id}");
    }
    for a in &message.attachments {
        let _ = writeln!(
            out,
            "Attachment: {} ({})",
            a.file_name.as_deref().unwrap_or("?"),
            a.content_type
        );
    }
    let _ = writeln!(out);
    let _ = writeln!(out, "{}", message.text.as_deref().unwrap_or("").trim_end());
    if !entry.recipients.is_empty() {
        let _ = writeln!(out);
        let _ = writeln!(out, "Delivery:");
        for r in &entry.recipients {
            let _ = writeln!(
                out,
                "  {} {} {}{}",
                r.state,
                r.address,
                r.code.map(|c| c.to_string()).unwrap_or_default(),
                r.text
                    .as_deref()
                    .map(|t| format!(" {t}"))
                    .unwrap_or_default()
            );
        }
    }
    if let Some(error) = &entry.error {
        let _ = writeln!(out, "Error: {}", error.text);
    }
    Ok(Exit::Ok)
}

/// `resend ID`: queue again, then send now through its account (unless --queue-only).
pub async fn resend(g: &Globals, args: ResendArgs) -> Result<Exit, CliError> {
    let store = open_store(g.store_dir.clone())?;
    let entry = message_entry(&store, args.id)?;
    Outbox::new(store.clone(), entry.service).resend(entry.id)?;
    let mut server_args = args.server;
    if server_args.account.is_none()
        && server_args.server.is_none()
        && let Some(service) = entry.service
    {
        let services = Services::new(store.clone()).list(Some(mailroom::MTM_ID))?;
        server_args.account = services
            .iter()
            .find(|s| s.id == service)
            .map(|s| s.name.clone());
    }
    let resolved = crate::accounts::resolve(&store, &server_args)?;
    let reports = if args.queue_only || resolved.settings.server.is_none() {
        vec![MessageReport::from_entry(
            &store.entry(entry.id).map_err(mailroom::Error::from)?,
        )]
    } else {
        let sender = Sender::new(store.clone(), resolved.settings.clone(), entry.service);
        let _interrupt = crate::interrupt::guard(&sender);
        let bar = crate::progress::attach(&sender, g);
        let reports = sender.send(Selection::Ids(vec![entry.id])).await?;
        crate::progress::finish(bar);
        reports
    };
    crate::output::print_reports(&reports, g.json, false, &resolved.settings);
    Ok(Exit::for_reports(&reports))
}

/// `cancel ID`.
pub fn cancel(g: &Globals, args: IdArgs) -> Result<Exit, CliError> {
    let store = open_store(g.store_dir.clone())?;
    let entry = message_entry(&store, args.id)?;
    Outbox::new(store.clone(), entry.service).cancel(entry.id)?;
    let report = MessageReport::from_entry(&store.entry(entry.id).map_err(mailroom::Error::from)?);
    if g.json {
        outln!("{}", serde_json::to_value(&report).unwrap_or(Value::Null));
    } else {
        outln!(
            "message {}: cancelled (suspended; mailroom resend {} sends it)",
            entry.id,
            entry.id
        );
    }
    Ok(Exit::Ok)
}

/// `delete ID`: refused while a sender holds the message.
pub fn delete(g: &Globals, args: IdArgs) -> Result<Exit, CliError> {
    let store = open_store(g.store_dir.clone())?;
    let entry = message_entry(&store, args.id)?;
    Outbox::new(store.clone(), None).delete(entry.id)?;
    if g.json {
        outln!("{}", json!({ "id": entry.id.0, "deleted": true }));
    } else {
        outln!("message {}: deleted", entry.id);
    }
    Ok(Exit::Ok)
}
