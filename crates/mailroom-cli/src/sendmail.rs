//! sendmail mode: `mailroom sendmail ...`, or this program called as `sendmail`. The message
//! comes on standard input; recipients from the arguments, or with `-t` from its headers.

use std::io::Read;

use mailroom::{MessageReport, Outbox, RawEnvelope, Selection, SendOption, Sender};

use crate::commands::{Globals, open_store};
use crate::exit::{CliError, Exit};
use crate::output::print_reports;

/// sendmail's options as parsed.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Options {
    /// `-t`: recipients from To, Cc and Bcc.
    pub from_headers: bool,
    /// `-i` / `-oi`: a line with a single dot does not end the message.
    pub ignore_dots: bool,
    /// `-f ADDR`: the envelope sender.
    pub envelope_from: Option<String>,
    /// `-F NAME`: the full name for a From header that is added.
    pub full_name: Option<String>,
    /// Recipients given as arguments.
    pub recipients: Vec<String>,
}

/// Parses sendmail's command line (without the program name).
pub fn parse_args(args: &[String]) -> Result<Options, String> {
    let mut o = Options::default();
    let mut i = 0;
    let mut only_recipients = false;
    while i < args.len() {
        let a = &args[i];
        i += 1;
        if only_recipients || !a.starts_with('-') || a == "-" {
            o.recipients.extend(
                a.split(',')
                    .map(str::trim)
                    .filter(|r| !r.is_empty())
                    .map(String::from),
            );
            continue;
        }
        let mut value = |flag: &str| -> Result<String, String> {
            if a.len() > 2 {
                Ok(a[2..].to_string())
            } else if i < args.len() {
                i += 1;
                Ok(args[i - 1].clone())
            } else {
                Err(format!("{flag} needs a value"))
            }
        };
        match a.as_str() {
            "--" => only_recipients = true,
            "-t" => o.from_headers = true,
            "-i" | "-oi" => o.ignore_dots = true,
            s if s.starts_with("-f") || s.starts_with("-r") => o.envelope_from = Some(value("-f")?),
            s if s.starts_with("-F") => o.full_name = Some(value("-F")?),
            // -odi, -oem, -B8BITMIME, -v, -bm, -N...: delivery details this program decides.
            s if s.starts_with("-o")
                || s.starts_with("-B")
                || s.starts_with("-N")
                || s.starts_with("-R")
                || s.starts_with("-X") =>
            {
                if matches!(s, "-B" | "-N" | "-R" | "-X") {
                    value(s)?;
                }
            }
            "-v" | "-bm" | "-U" | "-m" | "-em" | "-ee" | "-ep" | "-eq" => {}
            other => return Err(format!("unsupported sendmail option {other}")),
        }
    }
    Ok(o)
}

/// Reads the message: up to the end of input, or a line with a single dot unless `-i`.
pub fn read_message(input: &mut dyn Read, ignore_dots: bool) -> std::io::Result<Vec<u8>> {
    let mut all = Vec::new();
    input.read_to_end(&mut all)?;
    if ignore_dots {
        return Ok(all);
    }
    let mut start = 0;
    while start < all.len() {
        let end = all[start..]
            .iter()
            .position(|b| *b == b'\n')
            .map(|p| start + p + 1)
            .unwrap_or(all.len());
        let line = &all[start..end];
        let trimmed = line.strip_suffix(b"\n").unwrap_or(line);
        let trimmed = trimmed.strip_suffix(b"\r").unwrap_or(trimmed);
        if trimmed == b"." {
            all.truncate(start);
            break;
        }
        start = end;
    }
    Ok(all)
}

/// Runs sendmail mode.
pub async fn run(
    g: &Globals,
    account: Option<String>,
    args: Vec<String>,
    json: bool,
) -> Result<Exit, CliError> {
    let options = parse_args(&args)
        .map_err(|e| CliError::new(Exit::Usage, "usage", anyhow::anyhow!("sendmail: {e}")))?;
    let mut stdin = std::io::stdin().lock();
    let mut raw = read_message(&mut stdin, options.ignore_dots)
        .map_err(|e| CliError::input(anyhow::anyhow!("cannot read the message: {e}")))?;
    let store = open_store(g.store_dir.clone())?;
    let server = crate::cli::ServerArgs {
        account,
        ..crate::cli::ServerArgs::default()
    };
    let resolved = crate::accounts::resolve(&store, &server)?;
    let settings = resolved.settings;
    let parsed = mailroom::mime::parse_message(&raw)
        .map_err(|e| CliError::input(anyhow::anyhow!("cannot parse the message: {e}")))?
        .message;
    let envelope_from = options
        .envelope_from
        .clone()
        .or_else(|| parsed.from.as_ref().map(|m| m.address.to_string()))
        .or_else(|| settings.address.clone())
        .ok_or_else(|| {
            CliError::input(anyhow::anyhow!(
                "no sender: use -f ADDR, a From header, or an account with --from"
            ))
        })?;
    let mut added = String::new();
    if parsed.from.is_none() {
        let name = options.full_name.clone().or(settings.display_name.clone());
        let mailbox = mailroom::mime::Mailbox {
            name,
            ..mailroom::parse_mailbox("sender", &envelope_from)?
        };
        let field = mailroom::mime::address_field("From", &[mailbox]).map_err(|_| {
            CliError::input(anyhow::anyhow!(
                "the full name (-F) contains a line break or NUL; refused"
            ))
        })?;
        added.push_str(&String::from_utf8_lossy(&field));
    }
    if parsed.date.is_none() {
        added.push_str(&format!(
            "Date: {}\r\n",
            mailroom::mime::format_date(time::OffsetDateTime::now_utc())
        ));
    }
    if parsed.message_id.is_none() {
        let domain = envelope_from
            .rsplit_once('@')
            .map(|(_, d)| d)
            .unwrap_or("localhost");
        added.push_str(&format!(
            "Message-ID: {}\r\n",
            mailroom::mime::new_message_id(domain)
        ));
    }
    if !added.is_empty() {
        let mut with = added.into_bytes();
        with.extend_from_slice(&raw);
        raw = with;
    }
    let mut envelope = RawEnvelope {
        from: Some(envelope_from),
        to: options.recipients.clone(),
        ..RawEnvelope::default()
    };
    if options.from_headers {
        let addrs = |l: &[mailroom::mime::Mailbox]| {
            l.iter().map(|m| m.address.to_string()).collect::<Vec<_>>()
        };
        envelope.to.extend(addrs(&parsed.to));
        envelope.cc = addrs(&parsed.cc);
        envelope.bcc = addrs(&parsed.bcc);
    }
    if envelope.to.is_empty() && envelope.cc.is_empty() && envelope.bcc.is_empty() {
        return Err(CliError::new(
            Exit::Usage,
            "usage",
            anyhow::anyhow!("sendmail: no recipients (give them as arguments, or use -t)"),
        ));
    }
    let outbox = Outbox::new(store.clone(), resolved.service);
    let sends_now = settings.server.is_some();
    let when = if sends_now {
        SendOption::Immediately
    } else {
        SendOption::NextConnection
    };
    let id = outbox.queue_raw(&mut raw.as_slice(), &envelope, when)?;
    let reports = if sends_now {
        let config = settings.client_config()?;
        let sender = Sender::new(store.clone(), settings.clone(), resolved.service)
            .with_client_config(config);
        let _interrupt = crate::interrupt::guard(&sender);
        sender.send(Selection::Ids(vec![id])).await?
    } else {
        vec![MessageReport::from_entry(
            &store.entry(id).map_err(mailroom::Error::from)?,
        )]
    };
    if json {
        print_reports(&reports, true, false, &settings);
    } else {
        // sendmail prints nothing on success; problems go to stderr for cron to mail.
        for r in reports.iter().filter(|r| !r.delivered()) {
            eprintln!("mailroom: {}", crate::output::summary(r, &settings));
        }
    }
    Ok(Exit::for_reports(&reports))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn sendmail_cron_style_arguments() {
        let o = parse_args(&args(&["-FCronDaemon", "-i", "-B8BITMIME", "-oem", "root"])).unwrap();
        assert_eq!(o.full_name.as_deref(), Some("CronDaemon"));
        assert!(o.ignore_dots);
        assert_eq!(o.recipients, ["root"]);
        let o = parse_args(&args(&["-oi", "-f", "a@b.c", "-t", "--", "-x@y.z"])).unwrap();
        assert!(o.from_headers && o.ignore_dots);
        assert_eq!(o.envelope_from.as_deref(), Some("a@b.c"));
        assert_eq!(o.recipients, ["-x@y.z"]);
        assert!(parse_args(&args(&["-Q"])).is_err());
    }

    #[test]
    fn sendmail_dot_line_ends_input_without_i() {
        let text = b"Subject: x\n\nline\n.\nafter\n";
        assert_eq!(
            read_message(&mut &text[..], false).unwrap(),
            b"Subject: x\n\nline\n"
        );
        assert_eq!(read_message(&mut &text[..], true).unwrap(), text);
    }
}
