//! The message on standard input, split where sendmail looks: an mbox line, the header, the
//! body.

use crate::exit::CliError;

/// The message as the user gave it, split where sendmail looks.
#[derive(Debug, PartialEq, Eq)]
pub(super) struct Input<'a> {
    /// The header block through the empty line that ends it; empty when the input starts with
    /// the body (sendmail then treats the whole input as the body of an empty header).
    pub(super) header: &'a [u8],
    /// Everything after the header block.
    pub(super) body: &'a [u8],
    /// The user's line number of the header's first line (2 after an mbox `From ` line).
    pub(super) first_line: usize,
}

impl<'a> Input<'a> {
    pub(super) fn split(raw: &'a [u8]) -> Input<'a> {
        let (mut rest, mut first_line) = (raw, 1);
        // An mbox separator, as git format-patch writes, is not part of the message.
        if is_mbox_separator(next_line(rest).0) {
            rest = next_line(rest).1;
            first_line = 2;
        }
        let (line, after) = next_line(rest);
        if !mailroom::is_header_field(trim_eol(line)) {
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
    pub(super) fn check(&self) -> Result<(), CliError> {
        Ok(mailroom::check_header_block(self.header, self.first_line)?)
    }

    /// The header fields, unfolded, as (name, value).
    pub(super) fn fields(&self) -> Vec<(String, String)> {
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

#[cfg(test)]
mod tests {
    use super::*;

    pub(super) fn split(raw: &[u8]) -> (&[u8], &[u8]) {
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
}
