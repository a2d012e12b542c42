//! Building the message `send` stores from its options, and `--dry-run`.

use std::fs;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use anyhow::Context;
use mailroom::mime::{Attachment, Message, Priority};
use mailroom::{SmtpSettings, parse_mailbox};

use crate::cli::{PriorityArg, SendArgs};
use crate::exit::CliError;

/// What `send` stores: a message built from the options, or a ready one.
pub enum Content {
    Composed(Box<Message>),
    Raw(Box<dyn Read>),
}

/// Builds the message: options first, then the account's identity for what they leave out.
pub fn build_content(args: &SendArgs, settings: &SmtpSettings) -> Result<Content, CliError> {
    if let Some(path) = &args.raw {
        let reader: Box<dyn Read> = if path.as_os_str() == "-" {
            Box::new(std::io::stdin())
        } else {
            let file = fs::File::open(path)
                .with_context(|| format!("cannot open the raw message {}", path.display()))
                .map_err(CliError::input)?;
            Box::new(file)
        };
        return Ok(Content::Raw(reader));
    }
    let from = match (&args.from, &settings.address) {
        (Some(from), _) => parse_mailbox("--from address", from)?,
        (None, Some(address)) => {
            let mut from = parse_mailbox("account address", address)?;
            from.name = settings.display_name.clone().filter(|n| !n.is_empty());
            from
        }
        (None, None) => {
            return Err(CliError::input(anyhow::anyhow!(
                "--from is required (the message's author)"
            )));
        }
    };
    let mut message = Message {
        from: Some(from.clone()),
        ..Message::default()
    };
    for (list, values, what) in [
        (&mut message.to, &args.to, "--to address"),
        (&mut message.cc, &args.cc, "--cc address"),
        (&mut message.bcc, &args.bcc, "--bcc address"),
    ] {
        for value in values {
            list.push(parse_mailbox(what, value)?);
        }
    }
    if args.from.is_none()
        && let Some(reply_to) = &settings.reply_to
    {
        message.reply_to = vec![parse_mailbox("account reply-to address", reply_to)?];
    }
    if args.from.is_none() {
        message.signature = settings.signature.clone();
    }
    message.subject = args.subject.clone();
    if let Some(path) = &args.html_file {
        message.html = Some(read_text(path, "HTML file")?);
    }
    message.text = Some(match (&args.body, &args.body_file, &message.html) {
        (Some(text), _, _) => text.clone(),
        (None, Some(path), _) => read_text(path, "body file")?,
        // HTML alone: its text is the plain alternative, for readers that show no HTML.
        (None, None, Some(html)) => mailroom::mime::html_to_text(html),
        (None, None, None) => String::new(),
    });
    for header in &args.header {
        let (name, value) = header.split_once(':').ok_or_else(|| {
            CliError::input(anyhow::anyhow!(
                "--header {header:?} is not \"Name: value\""
            ))
        })?;
        message
            .headers
            .push((name.trim().to_string(), value.trim().to_string()));
    }
    if args.receipt {
        let to = settings
            .receipt_address
            .as_deref()
            .map(|a| parse_mailbox("account receipt address", a))
            .transpose()?;
        message.receipt_to = Some(to.unwrap_or(from.clone()));
    }
    message.priority = args.priority.map(|p| match p {
        PriorityArg::High => Priority::High,
        PriorityArg::Normal => Priority::Normal,
        PriorityArg::Low => Priority::Low,
    });
    for path in &args.attach {
        message.attachments.push(attachment(path)?);
    }
    message.date = Some(time::OffsetDateTime::now_utc());
    message.message_id = Some(mailroom::mime::new_message_id(from.address.domain()));
    Ok(Content::Composed(Box::new(message)))
}

fn read_text(path: &Path, what: &str) -> Result<String, CliError> {
    let bytes = fs::read(path)
        .with_context(|| format!("cannot read the {what} {}", path.display()))
        .map_err(CliError::input)?;
    String::from_utf8(bytes)
        .map_err(|_| anyhow::anyhow!("the {what} {} is not UTF-8", path.display()))
        .map_err(CliError::input)
}

/// An attachment named by its file; the Outbox copies the file into the store when the
/// message is queued, so moving the file afterwards does not matter.
fn attachment(path: &Path) -> Result<Attachment, CliError> {
    let cannot = |e: std::io::Error| {
        CliError::input(
            anyhow::Error::new(e).context(format!("cannot read the attachment {}", path.display())),
        )
    };
    // A pipe (`--attach /dev/stdin`, `--attach <(command)`) is read now: it can be read only
    // once, and its path means nothing later.
    {
        use std::os::unix::fs::FileTypeExt;
        let kind = fs::metadata(path).map_err(cannot)?.file_type();
        if kind.is_fifo() || kind.is_char_device() {
            let data = fs::read(path).map_err(cannot)?;
            let name = path
                .file_name()
                .and_then(|n| n.to_str())
                .filter(|n| !n.is_empty() && n.parse::<u32>().is_err())
                .unwrap_or("attachment");
            return Ok(Attachment::from_bytes(name, media_type(name), data));
        }
    }
    let absolute: PathBuf = fs::canonicalize(path)
        .with_context(|| format!("cannot read the attachment {}", path.display()))
        .map_err(CliError::input)?;
    let meta = fs::metadata(&absolute)
        .with_context(|| format!("cannot read the attachment {}", path.display()))
        .map_err(CliError::input)?;
    fs::File::open(&absolute)
        .with_context(|| format!("cannot read the attachment {}", path.display()))
        .map_err(CliError::input)?;
    if !meta.is_file() {
        return Err(CliError::input(anyhow::anyhow!(
            "the attachment {} is not a file",
            path.display()
        )));
    }
    let name = absolute
        .file_name()
        .and_then(|n| n.to_str())
        .ok_or_else(|| CliError::input(anyhow::anyhow!("{} has no usable name", path.display())))?;
    Ok(Attachment::from_file(name, media_type(name), &absolute))
}

/// The media type for a file name, by its extension.
pub fn media_type(name: &str) -> &'static str {
    let ext = name.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase());
    match ext.as_deref() {
        Some("txt" | "text" | "log") => "text/plain",
        Some("html" | "htm") => "text/html",
        Some("csv") => "text/csv",
        Some("pdf") => "application/pdf",
        Some("zip") => "application/zip",
        Some("gz") => "application/gzip",
        Some("json") => "application/json",
        Some("png") => "image/png",
        Some("jpg" | "jpeg") => "image/jpeg",
        Some("gif") => "image/gif",
        Some("svg") => "image/svg+xml",
        Some("ics") => "text/calendar",
        Some("vcf") => "text/vcard",
        Some("eml") => "message/rfc822",
        Some("patch" | "diff") => "text/x-diff",
        _ => "application/octet-stream",
    }
}

/// `--at`: RFC 3339, or `+N` with s, m, h or d from now.
pub fn parse_time(text: &str) -> Result<SystemTime, CliError> {
    let bad = || {
        CliError::input(anyhow::anyhow!(
            "--at {text:?}: expected RFC 3339 (2026-12-24T09:00:00Z) or +N[smhd]"
        ))
    };
    if let Some(rel) = text.strip_prefix('+') {
        let (num, unit) =
            rel.split_at(rel.find(|c: char| !c.is_ascii_digit()).unwrap_or(rel.len()));
        let n: u64 = num.parse().map_err(|_| bad())?;
        let unit_secs = match unit {
            "" | "s" => 1,
            "m" => 60,
            "h" => 3600,
            "d" => 86400,
            _ => return Err(bad()),
        };
        let secs = n.checked_mul(unit_secs).ok_or_else(too_far)?;
        return SystemTime::now()
            .checked_add(Duration::from_secs(secs))
            .ok_or_else(too_far);
    }
    let t = time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339)
        .map_err(|_| bad())?;
    Ok(SystemTime::from(t))
}

fn too_far() -> CliError {
    CliError::input(anyhow::anyhow!("--at: the time is too far in the future"))
}

/// `--dry-run`: the message bytes on stdout, the envelope on stderr (with `--json`, both in one
/// JSON object on stdout); nothing stored or sent.
pub fn dry_run(content: Content, args: &SendArgs) -> Result<(), CliError> {
    // The same checks as a real send, before anything is written.
    if let Some(addr) = &args.envelope_from {
        mailroom::mime::Address::parse(addr).map_err(|e| {
            CliError::input(
                anyhow::Error::new(e).context(format!("invalid --envelope-from {addr:?}")),
            )
        })?;
    }
    for addr in args.to.iter().chain(&args.cc).chain(&args.bcc) {
        mailroom::parse_mailbox("recipient", addr)?;
    }
    let mut out = Vec::new();
    let (from, recipients) = match content {
        Content::Composed(message) => {
            message
                .validate()
                .map_err(|e| CliError::input(anyhow::Error::new(e).context("invalid message")))?;
            message
                .render(&mailroom::mime::RenderOptions::default(), &mut out)
                .map_err(|e| CliError::input(anyhow::anyhow!("cannot render the message: {e}")))?;
            let from = match &args.envelope_from {
                Some(a) => a.clone(),
                None => message
                    .from
                    .as_ref()
                    .map(|m| m.address.to_string())
                    .unwrap_or_default(),
            };
            let rcpts: Vec<String> = message.recipients().iter().map(|a| a.to_string()).collect();
            (from, rcpts)
        }
        Content::Raw(mut reader) => {
            let mut raw = Vec::new();
            reader.read_to_end(&mut raw).map_err(|e| {
                CliError::input(anyhow::anyhow!("cannot read the raw message: {e}"))
            })?;
            let parsed = mailroom::mime::parse_message(&raw).map_err(|e| {
                CliError::input(anyhow::anyhow!("cannot parse the raw message: {e}"))
            })?;
            mailroom::mime::strip_bcc(raw.as_slice(), &mut out).map_err(io_error)?;
            let from = args
                .envelope_from
                .clone()
                .or(args.from.clone())
                .or(parsed.message.from.map(|m| m.address.to_string()))
                .unwrap_or_default();
            let rcpts: Vec<String> = args
                .to
                .iter()
                .chain(&args.cc)
                .chain(&args.bcc)
                .cloned()
                .collect();
            (from, rcpts)
        }
    };
    if args.output.json {
        // One value: the envelope and the message (as text; CRLF line endings kept).
        let value = serde_json::json!({
            "mail_from": from,
            "rcpt_to": recipients,
            "message": String::from_utf8_lossy(&out),
        });
        outln!("{value}");
        return Ok(());
    }
    let mut stdout = crate::output::stdout();
    stdout.write_all(&out).map_err(io_error)?;
    stdout.flush().map_err(io_error)?;
    let mut err = std::io::stderr().lock();
    let _ = writeln!(err, "MAIL FROM:<{from}>");
    for r in recipients {
        let _ = writeln!(err, "RCPT TO:<{r}>");
    }
    Ok(())
}

fn io_error(e: std::io::Error) -> CliError {
    CliError::new(crate::exit::Exit::IoErr, "io", e)
}
