//! sendmail mode: `mailroom sendmail ...`, or this program called as `sendmail`. The message
//! comes on standard input; recipients from the arguments, or with `-t` from its headers.

use std::io::Read;

use mailroom::mime::{Address, AddressError};
use mailroom::{Outbox, RawEnvelope, Selection, SendOption, Sender};

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

/// The message as the user gave it, split where sendmail looks.
#[derive(Debug, PartialEq, Eq)]
struct Input<'a> {
    /// The header block through the empty line that ends it; empty when the input starts with
    /// the body (sendmail then treats the whole input as the body of an empty header).
    header: &'a [u8],
    /// Everything after the header block.
    body: &'a [u8],
    /// The user's line number of the header's first line (2 after an mbox `From ` line).
    first_line: usize,
}

impl<'a> Input<'a> {
    fn split(raw: &'a [u8]) -> Input<'a> {
        let (mut rest, mut first_line) = (raw, 1);
        // An mbox separator, as git format-patch writes, is not part of the message.
        if is_mbox_separator(next_line(rest).0) {
            rest = next_line(rest).1;
            first_line = 2;
        }
        let (line, after) = next_line(rest);
        if !is_field(trim_eol(line)) {
            // No header: everything is body; an empty first line only separates it.
            let body = if trim_eol(line).is_empty() {
                after
            } else {
                rest
            };
            return Input {
                header: &[],
                body,
                first_line,
            };
        }
        let mut end = 0;
        for line in rest.split_inclusive(|&b| b == b'\n') {
            end += line.len();
            if trim_eol(line).is_empty() {
                break;
            }
        }
        Input {
            header: &rest[..end],
            body: &rest[end..],
            first_line,
        }
    }

    /// Checks the header block as the Outbox would, naming lines as the user numbers them.
    fn check(&self) -> Result<(), CliError> {
        for (n, line) in self.header.split_inclusive(|&b| b == b'\n').enumerate() {
            let line = trim_eol(line);
            let number = self.first_line + n;
            let why = if line.is_empty() {
                break;
            } else if line.contains(&0) {
                "contains a NUL byte"
            } else if line.len() > 998 {
                "is over 998 octets"
            } else if !line.starts_with(b" ") && !line.starts_with(b"\t") && !is_field(line) {
                "is not a header field (expected \"Name: value\"; an empty line ends the header)"
            } else {
                continue;
            };
            return Err(CliError::input(anyhow::anyhow!(
                "line {number} of the message's header {why}"
            )));
        }
        Ok(())
    }

    /// The header fields, unfolded, as (name, value).
    fn fields(&self) -> Vec<(String, String)> {
        let mut fields: Vec<(String, String)> = Vec::new();
        for line in self.header.split_inclusive(|&b| b == b'\n').map(trim_eol) {
            let line = String::from_utf8_lossy(line);
            if line.starts_with([' ', '\t']) {
                if let Some((_, value)) = fields.last_mut() {
                    value.push(' ');
                    value.push_str(line.trim());
                }
            } else if let Some((name, value)) = line.split_once(':') {
                fields.push((name.to_string(), value.trim().to_string()));
            }
        }
        fields
    }
}

/// The first line (with its line break) and the rest.
fn next_line(bytes: &[u8]) -> (&[u8], &[u8]) {
    let end = bytes
        .iter()
        .position(|&b| b == b'\n')
        .map_or(bytes.len(), |p| p + 1);
    bytes.split_at(end)
}

fn trim_eol(line: &[u8]) -> &[u8] {
    let line = line.strip_suffix(b"\n").unwrap_or(line);
    line.strip_suffix(b"\r").unwrap_or(line)
}

/// Whether a line is an mbox separator: `From SENDER Mon Sep 17 00:00:00 2001`. A body's first
/// line that merely starts with "From " is kept.
fn is_mbox_separator(line: &[u8]) -> bool {
    const DAYS: [&[u8]; 7] = [b"Mon", b"Tue", b"Wed", b"Thu", b"Fri", b"Sat", b"Sun"];
    let Some(rest) = line.strip_prefix(b"From ") else {
        return false;
    };
    let mut words = rest
        .split(u8::is_ascii_whitespace)
        .filter(|w| !w.is_empty());
    words.next().is_some() && words.next().is_some_and(|day| DAYS.contains(&day))
}

/// Whether a line starts a header field: a name of printable ASCII, then a colon.
fn is_field(line: &[u8]) -> bool {
    line.iter()
        .position(|&b| b == b':')
        .is_some_and(|colon| colon > 0 && line[..colon].iter().all(|b| (33..=126).contains(b)))
}

/// One element of an address list: its text as written, and what sat between `<` and `>`.
#[derive(Default)]
struct Item {
    written: String,
    outside: String,
    inside: Option<String>,
    /// The `>` was seen.
    closed: bool,
    /// Something other than white space follows the `>`.
    trailing: bool,
}

impl Item {
    fn push(&mut self, c: char, angle: bool) {
        self.written.push(c);
        match &mut self.inside {
            Some(inside) if angle => inside.push(c),
            _ if self.closed => self.trailing |= !c.is_whitespace(),
            _ => self.outside.push(c),
        }
    }

    /// The address: the bracketed one (less any source route), or the whole text. A display
    /// name is not needed for the envelope and is not looked at.
    fn address(self) -> Result<Option<Address>, (String, AddressError)> {
        let written = self.written.trim().to_string();
        let spec = match self.inside {
            None if written.is_empty() => return Ok(None),
            None => self.outside,
            Some(_) if !self.closed => return Err((written, AddressError::InvalidCharacter('<'))),
            Some(_) if self.trailing => return Err((written, AddressError::InvalidCharacter('>'))),
            Some(inside) => match inside.trim().strip_prefix('@') {
                // Obsolete source route `<@relay:user@domain>`: the route is ignored.
                Some(route) => route
                    .split_once(':')
                    .map_or(inside.clone(), |(_, a)| a.into()),
                None => inside,
            },
        };
        Address::parse(spec.trim())
            .map(Some)
            .map_err(|e| (written, e))
    }
}

/// The addresses of an address-list header value (groups opened, comments skipped). The error
/// names the first element that is not an address.
fn address_list(value: &str) -> Result<Vec<Address>, (String, AddressError)> {
    let mut items = vec![Item::default()];
    let (mut quoted, mut escaped, mut comment, mut angle, mut literal) =
        (false, false, 0usize, false, false);
    for c in value.chars() {
        let item = items.last_mut().expect("never empty");
        if escaped {
            escaped = false;
            if comment == 0 {
                item.push(c, angle);
            }
        } else if c == '\\' && (quoted || comment > 0) {
            escaped = true;
            if comment == 0 {
                item.push(c, angle);
            }
        } else if comment > 0 {
            match c {
                '(' => comment += 1,
                ')' => comment -= 1,
                _ => {}
            }
        } else if quoted || literal {
            quoted &= c != '"';
            literal &= c != ']';
            item.push(c, angle);
        } else {
            match c {
                '"' => quoted = true,
                '[' => literal = true,
                '(' => {
                    comment = 1;
                    continue;
                }
                '<' if !angle && item.inside.is_none() => {
                    angle = true;
                    item.inside = Some(String::new());
                    item.written.push(c);
                    continue;
                }
                '>' if angle => {
                    angle = false;
                    item.closed = true;
                    item.written.push(c);
                    continue;
                }
                ',' | ';' if !angle => {
                    items.push(Item::default());
                    continue;
                }
                // A group's name (`Team: a@x, b@y;`) is a phrase, never an address.
                ':' if !angle && item.inside.is_none() && !item.written.contains('@') => {
                    *item = Item::default();
                    continue;
                }
                _ => {}
            }
            item.push(c, angle);
        }
    }
    if comment > 0 {
        return Err((
            value.trim().to_string(),
            AddressError::InvalidCharacter('('),
        ));
    }
    items
        .into_iter()
        .filter_map(|item| item.address().transpose())
        .collect()
}

/// The same mailbox, as the Outbox and `Message::recipients` compare envelope addresses: the
/// A-label form without regard to case (servers do not tell `B@x` from `b@x` in practice, and a
/// message sent to both would arrive twice).
fn same_address(a: &Address, b: &Address) -> bool {
    a.to_ascii_domain_address().to_lowercase() == b.to_ascii_domain_address().to_lowercase()
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

    fn split(raw: &[u8]) -> (&[u8], &[u8]) {
        let input = Input::split(raw);
        (input.header, input.body)
    }

    #[test]
    fn sendmail_input_without_header_is_all_body() {
        assert_eq!(split(b"hello\n"), (&b""[..], &b"hello\n"[..]));
        assert_eq!(
            split(b"hello world: x\n"),
            (&b""[..], &b"hello world: x\n"[..])
        );
        assert_eq!(split(b" folded?\n"), (&b""[..], &b" folded?\n"[..]));
        assert_eq!(split(b"\r\nhello\r\n"), (&b""[..], &b"hello\r\n"[..]));
        assert_eq!(split(b""), (&b""[..], &b""[..]));
        assert_eq!(
            split(b"Subject: x\n\nbody\n"),
            (&b"Subject: x\n\n"[..], &b"body\n"[..])
        );
        assert_eq!(split(b"Subject: x"), (&b"Subject: x"[..], &b""[..]));
    }

    #[test]
    fn sendmail_bad_header_line_names_the_users_line() {
        let err = Input::split(b"Subject: x\nFrom me@example.com\n\nbody\n").check();
        assert!(err.unwrap_err().to_string().contains("line 2 "));
        let raw = b"From 1234abcd Mon Sep 17 00:00:00 2001\nSubject: x\n  folded\nbad\n\nb\n";
        let err = Input::split(raw).check().unwrap_err().to_string();
        assert!(
            err.contains("line 4 ") && err.contains("not a header field"),
            "{err}"
        );
        let mut long = b"Subject: x\nX-Long: ".to_vec();
        long.extend(std::iter::repeat_n(b'a', 995));
        let err = Input::split(&long).check().unwrap_err().to_string();
        assert!(err.contains("line 2 ") && err.contains("998"), "{err}");
        assert!(Input::split(b"Subject: x\nX: a\0b\n").check().is_err());
        assert!(
            Input::split(b"Subject: x\n\nbody\nno header\n")
                .check()
                .is_ok()
        );
    }

    #[test]
    fn sendmail_mbox_from_line_is_dropped() {
        let raw = b"From 1234abcd Mon Sep 17 00:00:00 2001\nFrom: A <a@example.com>\n\nb\n";
        let input = Input::split(raw);
        assert_eq!(input.header, b"From: A <a@example.com>\n\n");
        assert_eq!(input.first_line, 2);
        assert_eq!(
            input.fields()[0],
            ("From".into(), "A <a@example.com>".into())
        );
        let input = Input::split(b"From the desk of Bob\nhello\n");
        assert_eq!(
            (input.header, input.body),
            (&b""[..], &b"From the desk of Bob\nhello\n"[..])
        );
        let raw = b"From MAILER-DAEMON Fri Jul  8 12:08:34 2011\r\nSubject: x\r\n\r\nb";
        assert_eq!(Input::split(raw).header, b"Subject: x\r\n\r\n");
    }

    fn list(value: &str) -> Result<Vec<String>, String> {
        address_list(value)
            .map(|l| l.iter().map(ToString::to_string).collect())
            .map_err(|(written, _)| written)
    }

    #[test]
    fn sendmail_address_lists_give_every_address_or_name_the_bad_one() {
        let ok = |v: &str, want: &[&str]| {
            let want: Vec<String> = want.iter().map(|s| s.to_string()).collect();
            assert_eq!(list(v), Ok(want), "{v}");
        };
        ok(
            "a@x.example, B <b@x.example>",
            &["a@x.example", "b@x.example"],
        );
        ok(
            "\"Doe, J\" <j@x.example> (boss, really), k@x.example",
            &["j@x.example", "k@x.example"],
        );
        ok(
            "<@route.example,@r2.example:r@example.com>",
            &["r@example.com"],
        );
        ok(
            "Team: a@x.example, b@x.example;, c@x.example",
            &["a@x.example", "b@x.example", "c@x.example"],
        );
        ok("undisclosed-recipients:;", &[]);
        ok(
            "\"a b\"@x.example, u@[IPv6:::1]",
            &["\"a b\"@x.example", "u@[IPv6:::1]"],
        );
        ok("", &[]);
        let bad = |v: &str, named: &str| assert_eq!(list(v), Err(named.to_string()), "{v}");
        bad("not-an-address, ok@example.com", "not-an-address");
        bad("ok@example.com, Name <broken", "Name <broken");
        bad("<a@x.example> junk", "<a@x.example> junk");
        bad("a@x.example (open comment", "a@x.example (open comment");
        bad("a@@x.example", "a@@x.example");
    }

    #[test]
    fn sendmail_same_address_compares_without_regard_to_case() {
        let a = |s: &str| Address::parse(s).unwrap();
        assert!(same_address(&a("a@Example.COM"), &a("a@example.com")));
        assert!(same_address(&a("A@example.com"), &a("a@example.com")));
        assert!(same_address(
            &a("a@bücher.example"),
            &a("a@xn--bcher-kva.example")
        ));
        assert!(!same_address(&a("a@example.com"), &a("a@example.org")));
    }
}
