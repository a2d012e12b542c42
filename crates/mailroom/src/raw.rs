//! Ready-made RFC 5322 messages (`--raw`): a look at the header block before storing, and a
//! guard against bytes SMTP cannot carry.

use std::io::{self, Read};

use mailroom_mime::Mailbox;

use crate::error::Error;

/// The most header bytes read before the blank line that ends the header block.
const MAX_HEADER: usize = 1 << 20;

/// The first bytes of a raw message, through the end of its header block.
pub(crate) struct HeaderBlock {
    /// Every byte read so far (the header block and perhaps the start of the body).
    pub bytes: Vec<u8>,
    /// Length of the header block within `bytes`.
    pub header_len: usize,
}

/// Reads `input` up to the blank line that ends the header block, and checks that block.
pub(crate) fn read_header_block(input: &mut dyn Read) -> Result<HeaderBlock, Error> {
    let mut bytes = Vec::with_capacity(8192);
    let mut chunk = [0u8; 8192];
    let header_len = loop {
        if let Some(end) = header_end(&bytes) {
            break end;
        }
        if bytes.len() > MAX_HEADER {
            return Err(Error::input("the raw message's header block is over 1 MiB"));
        }
        let n = input
            .read(&mut chunk)
            .map_err(|e| Error::input("cannot read the raw message").with_source(e))?;
        if n == 0 {
            break bytes.len();
        }
        bytes.extend_from_slice(&chunk[..n]);
    };
    let mut block = HeaderBlock { bytes, header_len };
    block.drop_mbox_separator();
    if block.header_len == 0
        || block
            .bytes
            .iter()
            .take(block.header_len)
            .all(|b| b.is_ascii_whitespace())
    {
        return Err(Error::input(
            "the raw message is empty or has no header fields",
        ));
    }
    block.check()?;
    Ok(block)
}

/// Position just past the blank line ending the header block, if it has been read.
fn header_end(bytes: &[u8]) -> Option<usize> {
    let mut line_start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        if b == b'\n' {
            let line = &bytes[line_start..i];
            if line.is_empty() || line == b"\r" {
                return Some(i + 1);
            }
            line_start = i + 1;
        }
    }
    None
}

impl HeaderBlock {
    /// Drops an mbox `From ` separator line (as `git format-patch` writes), which is not part
    /// of the message.
    fn drop_mbox_separator(&mut self) {
        if self.bytes.starts_with(b"From ")
            && let Some(end) = self.bytes.iter().position(|&b| b == b'\n')
        {
            self.bytes.drain(..=end);
            self.header_len -= end + 1;
        }
    }

    fn header(&self) -> &[u8] {
        &self.bytes[..self.header_len]
    }

    /// Header fields, unfolded, as (name, value) with the value trimmed.
    fn fields(&self) -> Vec<(String, String)> {
        let text = String::from_utf8_lossy(self.header());
        let mut fields: Vec<(String, String)> = Vec::new();
        for line in text.split('\n').map(|l| l.strip_suffix('\r').unwrap_or(l)) {
            if line.is_empty() {
                break;
            }
            if line.starts_with([' ', '\t']) {
                if let Some((_, value)) = fields.last_mut() {
                    value.push(' ');
                    value.push_str(line.trim());
                }
            } else if let Some((name, value)) = line.split_once(':') {
                fields.push((name.trim().to_string(), value.trim().to_string()));
            }
        }
        fields
    }

    fn check(&self) -> Result<(), Error> {
        check_header_block(self.header(), 1)
    }

    fn field(&self, name: &str) -> Option<String> {
        self.fields()
            .into_iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v)
    }

    /// The Subject field, encoded words decoded (as listings show it).
    pub fn subject(&self) -> Option<String> {
        let written = self.field("Subject")?;
        if !written.contains("=?") {
            return Some(written);
        }
        let decoded = mailroom_mime::parse_message(&self.bytes[..self.header_len])
            .ok()
            .and_then(|p| p.message.subject);
        Some(decoded.unwrap_or(written))
    }

    /// The Message-ID field.
    pub fn message_id(&self) -> Option<String> {
        self.field("Message-ID")
    }

    /// The address of the first mailbox of the From field.
    pub fn author_address(&self) -> Option<String> {
        let from = self.field("From")?;
        from.split(',')
            .find_map(|part| Mailbox::parse(part).ok())
            .map(|m| m.address.to_string())
    }
}

/// Checks a raw message's header block (up to the empty line that ends it) for what cannot be
/// sent: a NUL byte, a line over 998 octets (counted in octets, as SMTP counts them), a folded
/// first line, a line that is not a header field. Lines are named from `first_line`, as the
/// person who wrote the message numbers them.
pub fn check_header_block(header: &[u8], first_line: usize) -> Result<(), Error> {
    for (n, line) in header.split(|&b| b == b'\n').enumerate() {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        let folded = line.starts_with(b" ") || line.starts_with(b"\t");
        let why = if line.is_empty() {
            break;
        } else if line.contains(&0) {
            "contains a NUL byte"
        } else if line.len() > MAX_LINE {
            "is over 998 octets"
        } else if n == 0 && folded {
            "is folded, but no field comes before it"
        } else if !folded && !is_header_field(line) {
            "is not a header field (expected \"Name: value\"; an empty line ends the header)"
        } else {
            continue;
        };
        let number = first_line + n;
        return Err(Error::input(format!(
            "line {number} of the message's header {why}"
        )));
    }
    Ok(())
}

/// Whether a line starts a header field: a name of printable ASCII, then a colon.
pub fn is_header_field(line: &[u8]) -> bool {
    line.iter()
        .position(|&b| b == b':')
        .is_some_and(|colon| colon > 0 && line[..colon].iter().all(|b| (33..=126).contains(b)))
}

/// The longest line SMTP carries, in octets without its CRLF (RFC 5321 4.5.3.1.6).
const MAX_LINE: usize = 998;

/// A reader that fails on what SMTP DATA cannot carry: a NUL byte, or a line over
/// [`MAX_LINE`] octets. It remembers why, so that the raw message is refused before it is
/// stored rather than by the server.
pub(crate) struct WireGuard<R> {
    inner: R,
    offset: u64,
    /// Line number (from 1) and length so far of the line being read.
    line: u64,
    line_len: usize,
    error: Option<String>,
}

impl<R: Read> WireGuard<R> {
    pub fn new(inner: R) -> Self {
        WireGuard {
            inner,
            offset: 0,
            line: 1,
            line_len: 0,
            error: None,
        }
    }

    /// The reason reading stopped, if this guard stopped it.
    pub fn take_error(&mut self) -> Option<String> {
        self.error.take()
    }
}

impl<R: Read> WireGuard<R> {
    fn refuse(&mut self, why: String) -> io::Error {
        self.error = Some(why.clone());
        io::Error::new(io::ErrorKind::InvalidData, why)
    }
}

impl<R: Read> Read for WireGuard<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        if let Some(pos) = buf[..n].iter().position(|&b| b == 0) {
            let offset = self.offset + pos as u64;
            return Err(self.refuse(format!("the raw message has a NUL byte at offset {offset}")));
        }
        // CR and LF each end a line, as the SMTP engine sends them (both become CRLF).
        for &b in &buf[..n] {
            match b {
                b'\n' => {
                    self.line += 1;
                    self.line_len = 0;
                }
                b'\r' => self.line_len = 0,
                _ => {
                    self.line_len += 1;
                    if self.line_len > MAX_LINE {
                        let line = self.line;
                        return Err(self.refuse(format!(
                            "line {line} of the raw message is over {MAX_LINE} octets, more \
                             than SMTP carries (wrap the line or encode the content)"
                        )));
                    }
                }
            }
        }
        self.offset += n as u64;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn guarded(raw: &[u8], chunk: usize) -> Result<Vec<u8>, String> {
        // Reads in chunks of `chunk` bytes, to cross every boundary a line can cross.
        struct Chunks<'a>(&'a [u8], usize);
        impl Read for Chunks<'_> {
            fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
                let n = self.0.len().min(self.1).min(buf.len());
                buf[..n].copy_from_slice(&self.0[..n]);
                self.0 = &self.0[n..];
                Ok(n)
            }
        }
        let mut guard = WireGuard::new(Chunks(raw, chunk));
        let mut out = Vec::new();
        match guard.read_to_end(&mut out) {
            Ok(_) => Ok(out),
            Err(_) => Err(guard.take_error().unwrap()),
        }
    }

    #[test]
    fn raw_line_over_998_octets_is_refused_before_it_is_stored() {
        // The line under test, then (unless it is the last, with no line break) one more.
        let ok = |len: usize, eol: &str| {
            let more = if eol.is_empty() { "" } else { "next\r\n" };
            format!("S: x\r\n\r\n{}{eol}{more}", "a".repeat(len))
        };
        for chunk in [1, 2, 7, 999, 1000, 8192] {
            for eol in ["\r\n", "\n", ""] {
                let fits = ok(998, eol);
                assert_eq!(guarded(fits.as_bytes(), chunk).unwrap(), fits.as_bytes());
                let long = ok(999, eol);
                let err = guarded(long.as_bytes(), chunk).unwrap_err();
                assert!(
                    err.contains("line 3") && err.contains("998"),
                    "{chunk} {eol:?}: {err}"
                );
            }
            // A bare CR ends a line too: the engine sends it as CRLF.
            let cr = format!("S: x\r\n\r\n{0}\r{0}", "a".repeat(998));
            assert!(guarded(cr.as_bytes(), chunk).is_ok(), "{chunk}");
        }
        let nul = guarded(b"S: x\r\n\r\na\0b", 3).unwrap_err();
        assert!(nul.contains("NUL byte at offset 9"), "{nul}");
    }

    #[test]
    fn header_lines_are_measured_in_octets_not_decoded_characters() {
        // 500 invalid UTF-8 bytes would be 1,500 octets once decoded lossily.
        let mut raw = b"From: a@example.com\r\nX-Junk: ".to_vec();
        raw.extend(std::iter::repeat_n(0xff, 500));
        raw.extend(b"\r\n\r\nbody\r\n");
        let block = read_header_block(&mut raw.as_slice()).unwrap();
        block.check().unwrap();
    }

    #[test]
    fn encoded_subject_of_a_raw_message_is_listed_decoded() {
        let raw = "From: a@example.com\r\nSubject: =?UTF-8?Q?Re:_Gr=C3=BC=C3=9Fe?=\r\n \
            =?UTF-8?B?YXVz?= Köln\r\n\r\nbody\r\n";
        let block = read_header_block(&mut raw.as_bytes()).unwrap();
        assert_eq!(block.subject().as_deref(), Some("Re: Grüßeaus Köln"));
        let plain = b"From: a@example.com\r\nSubject: 50% =? off\r\n\r\nbody\r\n";
        let block = read_header_block(&mut plain.as_slice()).unwrap();
        assert_eq!(block.subject().as_deref(), Some("50% =? off"));
    }

    #[test]
    fn header_block_fields_are_unfolded() {
        let raw = b"From: A <a@example.com>\r\nSubject: one\r\n two\r\n\r\nbody\r\n";
        let block = read_header_block(&mut raw.as_slice()).unwrap();
        assert_eq!(block.subject().as_deref(), Some("one two"));
        assert_eq!(block.author_address().as_deref(), Some("a@example.com"));
        assert_eq!(block.bytes, raw);
    }

    #[test]
    fn mbox_separator_line_is_dropped() {
        let raw = b"From 1234abcd Mon Sep 17 00:00:00 2001\nFrom: A <a@example.com>\nSubject: patch\n\nbody\n";
        let block = read_header_block(&mut raw.as_slice()).unwrap();
        assert_eq!(block.bytes, &raw[39..]);
        assert_eq!(block.subject().as_deref(), Some("patch"));
    }

    #[test]
    fn empty_raw_message_is_refused() {
        for raw in [&b""[..], b"\n", b"\r\n\r\nbody only"] {
            let err = read_header_block(&mut &raw[..]).err().unwrap();
            assert!(err.to_string().contains("empty"), "{err}");
        }
    }

    #[test]
    fn raw_message_without_header_is_refused() {
        let raw = b"just a body line\n\nmore\n";
        let err = read_header_block(&mut raw.as_slice()).err().unwrap();
        assert!(err.to_string().contains("line 1"), "{err}");
    }

    #[test]
    fn nul_byte_in_body_stops_the_copy() {
        let mut guard = WireGuard::new(&b"Subject: x\n\nab\0c"[..]);
        let mut out = Vec::new();
        assert!(guard.read_to_end(&mut out).is_err());
        assert!(guard.take_error().unwrap().contains("offset 14"));
    }
}
