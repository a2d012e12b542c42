//! Server replies: the value type and an incremental parser with size caps.

use std::fmt;

/// Longest reply line accepted, CRLF included. RFC 5321 asks for 512; real servers exceed it.
pub(crate) const MAX_LINE: usize = 4096;
/// Most lines accepted in one multi-line reply (an EHLO list is the longest in practice).
pub(crate) const MAX_LINES: usize = 256;

/// An enhanced status code (RFC 3463), such as `5.7.1`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct EnhancedCode {
    /// Class: 2 (success), 4 (transient) or 5 (permanent).
    pub class: u8,
    /// Subject.
    pub subject: u16,
    /// Detail.
    pub detail: u16,
}

impl fmt::Display for EnhancedCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.class, self.subject, self.detail)
    }
}

impl EnhancedCode {
    /// Parses the leading `class.subject.detail` token of a reply text (RFC 2034).
    fn parse_prefix(text: &str) -> Option<EnhancedCode> {
        let token = text.split(' ').next()?;
        let mut parts = token.split('.');
        let (class, subject, detail) = (parts.next()?, parts.next()?, parts.next()?);
        if parts.next().is_some() || subject.len() > 3 || detail.len() > 3 {
            return None;
        }
        let class: u8 = match class {
            "2" => 2,
            "4" => 4,
            "5" => 5,
            _ => return None,
        };
        let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
        if !digits(subject) || !digits(detail) {
            return None;
        }
        Some(EnhancedCode {
            class,
            subject: subject.parse().ok()?,
            detail: detail.parse().ok()?,
        })
    }
}

/// One complete server reply, possibly of several lines.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reply {
    /// The three-digit reply code.
    pub code: u16,
    /// The enhanced status code from the first line, when the server sent one.
    pub enhanced: Option<EnhancedCode>,
    /// The text of each line, without the code, separator and line ending.
    pub lines: Vec<String>,
}

impl Reply {
    /// Whether the code is 2xx.
    pub fn is_positive(&self) -> bool {
        (200..300).contains(&self.code)
    }

    /// Whether the code is 3xx (an intermediate go-ahead).
    pub fn is_intermediate(&self) -> bool {
        (300..400).contains(&self.code)
    }

    /// Whether the code is 4xx: trying again later can help.
    pub fn is_transient(&self) -> bool {
        (400..500).contains(&self.code)
    }

    /// Whether the code is 5xx: trying again will not help.
    pub fn is_permanent(&self) -> bool {
        (500..600).contains(&self.code)
    }

    /// All lines of text joined by single spaces.
    pub fn text(&self) -> String {
        self.lines.join(" ")
    }
}

impl fmt::Display for Reply {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.code)?;
        for line in &self.lines {
            if !line.is_empty() {
                write!(f, " {line}")?;
            }
        }
        Ok(())
    }
}

/// Why bytes from the server could not be read as replies.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum ReplyError {
    /// A line grew past [`MAX_LINE`] bytes without ending.
    LineTooLong,
    /// A reply grew past [`MAX_LINES`] lines.
    TooManyLines,
    /// A line did not start with a three-digit code and a separator.
    Malformed(String),
    /// The lines of one multi-line reply carried different codes.
    CodeMismatch,
}

impl fmt::Display for ReplyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReplyError::LineTooLong => write!(f, "reply line longer than {MAX_LINE} bytes"),
            ReplyError::TooManyLines => write!(f, "reply of more than {MAX_LINES} lines"),
            ReplyError::Malformed(line) => write!(f, "malformed reply line {line:?}"),
            ReplyError::CodeMismatch => write!(f, "multi-line reply with differing codes"),
        }
    }
}

/// Incremental reply parser: bytes go in as they arrive, complete replies come out.
///
/// Memory stays bounded: at most one partial line of [`MAX_LINE`] bytes and one partial
/// reply of [`MAX_LINES`] lines are held, beyond bytes handed in but not yet parsed.
#[derive(Debug, Default)]
pub(crate) struct ReplyParser {
    buf: Vec<u8>,
    pending: Option<Reply>,
}

impl ReplyParser {
    /// Appends bytes received from the server.
    pub(crate) fn push(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
    }

    /// Whether any byte is held that is not yet part of a returned reply.
    pub(crate) fn has_buffered(&self) -> bool {
        !self.buf.is_empty() || self.pending.is_some()
    }

    /// Bytes received but not yet consumed.
    #[cfg(any(test, feature = "fuzzing"))]
    pub(crate) fn buffered_len(&self) -> usize {
        self.buf.len()
    }

    /// Takes the next complete reply, if the buffer holds one.
    pub(crate) fn next_reply(&mut self) -> Result<Option<Reply>, ReplyError> {
        loop {
            let Some(end) = self.buf.iter().position(|&b| b == b'\n') else {
                if self.buf.len() > MAX_LINE {
                    return Err(ReplyError::LineTooLong);
                }
                return Ok(None);
            };
            if end + 1 > MAX_LINE {
                return Err(ReplyError::LineTooLong);
            }
            let mut line = &self.buf[..end];
            if let Some(stripped) = line.strip_suffix(b"\r") {
                line = stripped;
            }
            let parsed = parse_line(line);
            self.buf.drain(..=end);
            let (code, last, text) = parsed?;
            let reply = match self.pending.take() {
                Some(mut reply) => {
                    if reply.code != code {
                        return Err(ReplyError::CodeMismatch);
                    }
                    if reply.lines.len() >= MAX_LINES {
                        return Err(ReplyError::TooManyLines);
                    }
                    reply.lines.push(text);
                    reply
                }
                None => {
                    let enhanced = EnhancedCode::parse_prefix(&text)
                        .filter(|e| u16::from(e.class) == code / 100);
                    Reply {
                        code,
                        enhanced,
                        lines: vec![text],
                    }
                }
            };
            if last {
                return Ok(Some(reply));
            }
            self.pending = Some(reply);
        }
    }
}

fn parse_line(line: &[u8]) -> Result<(u16, bool, String), ReplyError> {
    let malformed =
        || ReplyError::Malformed(String::from_utf8_lossy(line).chars().take(80).collect());
    if line.len() < 3 || !line[..3].iter().all(u8::is_ascii_digit) {
        return Err(malformed());
    }
    let code = u16::from(line[0] - b'0') * 100 + u16::from(line[1] - b'0') * 10;
    let code = code + u16::from(line[2] - b'0');
    if !(200..600).contains(&code) {
        return Err(malformed());
    }
    let (last, text) = match line.get(3) {
        None => (true, &line[3..]),
        Some(b' ') => (true, &line[4..]),
        Some(b'-') => (false, &line[4..]),
        Some(_) => return Err(malformed()),
    };
    Ok((code, last, String::from_utf8_lossy(text).into_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_all(input: &[u8]) -> Result<Vec<Reply>, ReplyError> {
        let mut parser = ReplyParser::default();
        parser.push(input);
        let mut out = Vec::new();
        while let Some(reply) = parser.next_reply()? {
            out.push(reply);
        }
        Ok(out)
    }

    #[test]
    fn single_line_with_enhanced_code() {
        let replies = parse_all(b"550 5.7.1 Relaying denied\r\n").unwrap();
        assert_eq!(replies.len(), 1);
        let reply = &replies[0];
        assert_eq!(reply.code, 550);
        assert_eq!(
            reply.enhanced,
            Some(EnhancedCode {
                class: 5,
                subject: 7,
                detail: 1
            })
        );
        assert!(reply.is_permanent());
        assert_eq!(reply.to_string(), "550 5.7.1 Relaying denied");
    }

    #[test]
    fn enhanced_code_with_wrong_class_is_ignored() {
        let reply = &parse_all(b"250 5.1.0 odd\r\n").unwrap()[0];
        assert_eq!(reply.enhanced, None);
    }

    #[test]
    fn multi_line_reply_collects_every_line() {
        let replies = parse_all(b"250-mx.example\r\n250-SIZE 100\r\n250 8BITMIME\r\n").unwrap();
        assert_eq!(replies[0].lines, ["mx.example", "SIZE 100", "8BITMIME"]);
    }

    #[test]
    fn bare_code_and_bare_lf_are_accepted() {
        let replies = parse_all(b"250\n354 go\n").unwrap();
        assert_eq!(replies.len(), 2);
        assert_eq!(replies[0].lines, [""]);
        assert_eq!(replies[1].code, 354);
    }

    #[test]
    fn partial_input_waits_for_more() {
        let mut parser = ReplyParser::default();
        parser.push(b"250-a\r\n25");
        assert_eq!(parser.next_reply().unwrap(), None);
        parser.push(b"0 b\r\n");
        assert_eq!(parser.next_reply().unwrap().unwrap().lines, ["a", "b"]);
        assert!(!parser.has_buffered());
    }

    #[test]
    fn endless_line_is_refused_once_past_the_cap() {
        let mut parser = ReplyParser::default();
        parser.push(&vec![b'2'; MAX_LINE + 1]);
        assert_eq!(parser.next_reply(), Err(ReplyError::LineTooLong));
    }

    #[test]
    fn too_many_lines_are_refused() {
        let mut input = Vec::new();
        for _ in 0..=MAX_LINES {
            input.extend_from_slice(b"250-x\r\n");
        }
        input.extend_from_slice(b"250 x\r\n");
        assert_eq!(parse_all(&input), Err(ReplyError::TooManyLines));
    }

    #[test]
    fn garbage_and_mixed_codes_are_refused() {
        assert!(matches!(
            parse_all(b"hello\r\n"),
            Err(ReplyError::Malformed(_))
        ));
        assert!(matches!(
            parse_all(b"250x\r\n"),
            Err(ReplyError::Malformed(_))
        ));
        assert!(matches!(
            parse_all(b"099 x\r\n"),
            Err(ReplyError::Malformed(_))
        ));
        assert_eq!(
            parse_all(b"250-a\r\n251 b\r\n"),
            Err(ReplyError::CodeMismatch)
        );
    }
}
