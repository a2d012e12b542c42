//! sendmail mode: `mailroom sendmail ...`, or this program called as `sendmail`. The message
//! comes on standard input; recipients from the arguments, or with `-t` from its headers.

use std::io::Read;

use mailroom::mime::{Address, AddressError};
use mailroom::{Outbox, RawEnvelope, Selection, SendOption, Sender};

use crate::commands::{Globals, open_store};
use crate::exit::{CliError, Exit};
use crate::output::print_reports;

mod addresses;
mod input;

use addresses::{address_list, same_address};
use input::Input;

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

/// The envelope's recipients: the arguments, then with `-t` To, Cc and Bcc; every address
/// checked, each mailbox once.
fn recipients(options: &Options, fields: &[(String, String)]) -> Result<RawEnvelope, CliError> {
    let invalid = |where_: &str, (written, e): (String, AddressError)| {
        CliError::input(anyhow::Error::new(e).context(format!(
            "invalid recipient {written:?}{where_}; nothing was sent"
        )))
    };
    let mut all: Vec<(Address, usize)> = Vec::new();
    for arg in &options.recipients {
        let list = address_list(arg).map_err(|e| invalid("", e))?;
        all.extend(list.into_iter().map(|a| (a, 0)));
    }
    if options.from_headers {
        for (kind, header) in ["To", "Cc", "Bcc"].into_iter().enumerate() {
            for (_, value) in fields
                .iter()
                .filter(|(n, _)| n.eq_ignore_ascii_case(header))
            {
                let list = address_list(value).map_err(|e| invalid(&format!(" in {header}"), e))?;
                all.extend(list.into_iter().map(|a| (a, kind)));
            }
        }
    }
    let mut envelope = RawEnvelope::default();
    let mut seen: Vec<Address> = Vec::new();
    for (address, kind) in all {
        if seen.iter().any(|s| same_address(s, &address)) {
            continue;
        }
        let list = match kind {
            0 => &mut envelope.to,
            1 => &mut envelope.cc,
            _ => &mut envelope.bcc,
        };
        list.push(address.to_string());
        seen.push(address);
    }
    Ok(envelope)
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
    let raw = read_message(&mut stdin, options.ignore_dots)
        .map_err(|e| CliError::input(anyhow::anyhow!("cannot read the message: {e}")))?;
    let store = open_store(g.store_dir.clone())?;
    let server = crate::cli::ServerArgs {
        account,
        ..crate::cli::ServerArgs::default()
    };
    let resolved = crate::accounts::resolve(&store, &server)?;
    let settings = resolved.settings;
    // As `send` does: with nowhere to send, refuse rather than queue for a connection that
    // cannot come.
    if settings.server.is_none() {
        return Err(CliError::config(anyhow::anyhow!(
            "sendmail needs an account with a server (mailroom account add NAME --server URL \
             --from ADDR); nothing was stored"
        )));
    }
    let input = Input::split(&raw);
    input.check()?;
    let fields = input.fields();
    let field = |name: &str| fields.iter().find(|(n, _)| n.eq_ignore_ascii_case(name));
    let account_address = match &settings.address {
        Some(a) => Some(mailroom::parse_mailbox("account address", a)?.address),
        None => None,
    };
    let option_from = match &options.envelope_from {
        Some(f) => Some(mailroom::parse_mailbox("-f address", f)?.address),
        None => None,
    };
    let author = field("From").and_then(|(_, v)| address_list(v).ok()?.into_iter().next());
    let envelope_from = option_from
        .clone()
        .or(author)
        .or(account_address.clone())
        .ok_or_else(|| {
            CliError::input(anyhow::anyhow!(
                "no sender: use -f ADDR, a From header, or an account with --from"
            ))
        })?;
    let mut envelope = recipients(&options, &fields)?;
    if envelope.to.is_empty() && envelope.cc.is_empty() && envelope.bcc.is_empty() {
        return Err(CliError::new(
            Exit::Usage,
            "usage",
            anyhow::anyhow!("sendmail: no recipients (give them as arguments, or use -t)"),
        ));
    }
    envelope.from = Some(envelope_from.to_string());
    let mut added = Vec::new();
    if field("From").is_none() {
        // The account's display name goes with the account's address only.
        let own = match (&option_from, &account_address) {
            (Some(f), Some(a)) => same_address(f, a),
            (Some(_), None) => false,
            (None, _) => true,
        };
        let name = match &options.full_name {
            Some(name) => Some(name.clone()),
            None if own => settings.display_name.clone().filter(|n| !n.is_empty()),
            None => None,
        };
        let mailbox = mailroom::mime::Mailbox::new(name, envelope_from.clone());
        added = mailroom::mime::address_field("From", &[mailbox]).map_err(|_| {
            CliError::input(anyhow::anyhow!(
                "the full name (-F) contains a line break or NUL; refused"
            ))
        })?;
    }
    if field("Date").is_none() {
        let now = mailroom::mime::format_date(time::OffsetDateTime::now_utc());
        added.extend_from_slice(format!("Date: {now}\r\n").as_bytes());
    }
    if field("Message-ID").is_none() {
        let id = mailroom::mime::new_message_id(envelope_from.domain());
        added.extend_from_slice(format!("Message-ID: {id}\r\n").as_bytes());
    }
    let mut message = added;
    if input.header.is_empty() {
        message.extend_from_slice(b"\r\n");
    }
    message.extend_from_slice(input.header);
    message.extend_from_slice(input.body);
    let outbox = Outbox::new(store.clone(), resolved.service);
    let config = settings.client_config()?;
    let id = outbox.queue_raw(&mut message.as_slice(), &envelope, SendOption::Immediately)?;
    let sender =
        Sender::new(store.clone(), settings.clone(), resolved.service).with_client_config(config);
    let _interrupt = crate::interrupt::guard(&sender);
    let reports = sender.send(Selection::Ids(vec![id])).await?;
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
