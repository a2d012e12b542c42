//! Copying ready RFC 5322 messages: dropping Bcc fields on the way to the wire.

use std::io::{self, BufRead, BufReader, BufWriter, Read, Write};

use crate::render::Counted;

/// Longest field name looked at; a longer "name" is kept as it is.
const NAME_MAX: usize = 128;

/// What [`strip_bcc`] copied.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct RawInfo {
    /// Bytes of the header block written, including the blank line that ends it.
    pub header_bytes: u64,
    /// Bytes of the body written.
    pub body_bytes: u64,
    /// Whether the header written has 8-bit bytes (UTF-8 headers need SMTPUTF8).
    pub header_8bit: bool,
    /// Whether anything written has 8-bit bytes (the envelope needs BODY=8BITMIME).
    pub has_8bit: bool,
    /// How many Bcc and Resent-Bcc fields were dropped.
    pub bcc_removed: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// At the start of a header line.
    LineStart,
    /// Reading a field name, up to its colon.
    Name,
    /// In the rest of a header line; `true` when it is written.
    Line(bool),
    /// In the blank line that ends the header.
    Blank,
    /// Past the header.
    Body,
}

/// Copies a ready RFC 5322 message, dropping every Bcc and Resent-Bcc header field (with its
/// folded continuation lines) from the header block only; the body is untouched. Streaming, with
/// constant memory whatever the line lengths.
pub fn strip_bcc<R: Read, W: Write>(input: R, output: W) -> io::Result<RawInfo> {
    let mut reader = BufReader::with_capacity(64 * 1024, input);
    let mut out = Counted::new(BufWriter::with_capacity(64 * 1024, output));
    let mut info = RawInfo::default();
    let mut state = State::LineStart;
    let mut name: Vec<u8> = Vec::with_capacity(NAME_MAX);
    let mut keep = true;
    loop {
        let buf = reader.fill_buf()?;
        if buf.is_empty() {
            break;
        }
        let len = buf.len();
        let mut i = 0;
        while i < len {
            match state {
                State::Body => {
                    out.write_all(&buf[i..])?;
                    i = len;
                }
                State::LineStart => match buf[i] {
                    b' ' | b'\t' => state = State::Line(keep),
                    b'\r' | b'\n' => state = State::Blank,
                    _ => {
                        name.clear();
                        state = State::Name;
                    }
                },
                State::Name => {
                    let b = buf[i];
                    if b == b'\r' || b == b'\n' || name.len() >= NAME_MAX {
                        // No colon: not a field we know; keep the line as it is.
                        keep = true;
                        out.write_all(&name)?;
                        state = State::Line(true);
                        continue;
                    }
                    name.push(b);
                    i += 1;
                    if b == b':' {
                        let field = name[..name.len() - 1].trim_ascii_end();
                        keep = !field.eq_ignore_ascii_case(b"bcc")
                            && !field.eq_ignore_ascii_case(b"resent-bcc");
                        if keep {
                            out.write_all(&name)?;
                        } else {
                            info.bcc_removed += 1;
                        }
                        state = State::Line(keep);
                    }
                }
                State::Line(write) => {
                    let rest = &buf[i..];
                    let (end, next) = match rest.iter().position(|&b| b == b'\n') {
                        Some(p) => (p + 1, State::LineStart),
                        None => (rest.len(), state),
                    };
                    if write {
                        out.write_all(&rest[..end])?;
                    }
                    i += end;
                    state = next;
                }
                State::Blank => {
                    let b = buf[i];
                    out.write_all(&[b])?;
                    i += 1;
                    if b == b'\n' {
                        out.flush()?;
                        info.header_bytes = out.bytes;
                        info.header_8bit = out.eight_bit;
                        state = State::Body;
                    }
                }
            }
        }
        reader.consume(len);
    }
    if state == State::Name {
        out.write_all(&name)?;
    }
    out.flush()?;
    if state != State::Body {
        info.header_bytes = out.bytes;
        info.header_8bit = out.eight_bit;
    }
    info.body_bytes = out.bytes - info.header_bytes;
    info.has_8bit = out.eight_bit;
    Ok(info)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strip(input: &[u8]) -> (Vec<u8>, RawInfo) {
        let mut out = Vec::new();
        let info = strip_bcc(input, &mut out).unwrap();
        (out, info)
    }

    #[test]
    fn bcc_fields_and_their_continuations_are_dropped() {
        let input =
            b"From: a@x\r\nBcc: b@x,\r\n  c@x\r\nTo: d@x\r\nbcc : e@x\r\n\r\nBcc: body stays\r\n";
        let (out, info) = strip(input);
        assert_eq!(out, b"From: a@x\r\nTo: d@x\r\n\r\nBcc: body stays\r\n");
        assert_eq!(info.bcc_removed, 2);
        assert_eq!(info.header_bytes, 22);
        assert_eq!(info.body_bytes, 17);
        assert!(!info.has_8bit);
    }

    #[test]
    fn similar_names_and_lf_only_messages_are_kept() {
        let input = b"Bccx: keep\nX-Bcc: keep\nBcc:drop\n\tmore\nResent-BCC: x\nSubject: \xc3\xa4\n\nbody\xff";
        let (out, info) = strip(input);
        assert_eq!(
            out,
            b"Bccx: keep\nX-Bcc: keep\nSubject: \xc3\xa4\n\nbody\xff".to_vec()
        );
        assert!(info.header_8bit && info.has_8bit);
    }

    #[test]
    fn a_line_without_colon_and_a_header_only_message_pass_through() {
        let (out, _) = strip(b"garbage line\r\nBcc: x\r\n");
        assert_eq!(out, b"garbage line\r\n");
        let (out, info) = strip(b"To: a@x");
        assert_eq!(out, b"To: a@x");
        assert_eq!(info.header_bytes, 7);
    }

    #[test]
    fn a_huge_header_line_streams_through_small_buffers() {
        let mut input = b"X-Long: ".to_vec();
        input.extend(std::iter::repeat_n(b'a', 300_000));
        input.extend_from_slice(b"\r\nBcc: z\r\n\r\nbody");
        let reader = io::BufReader::with_capacity(7, &input[..]);
        let mut out = Vec::new();
        strip_bcc(reader, &mut out).unwrap();
        assert_eq!(out.len(), input.len() - b"Bcc: z\r\n".len());
    }
}
