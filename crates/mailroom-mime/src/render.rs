//! The streaming renderer: a model becomes RFC 5322 bytes, written as it goes.

use std::fmt;
use std::io::{self, BufWriter, Read, Write};
use std::sync::Arc;

use time::OffsetDateTime;

use crate::body::{self, Cte};
use crate::header::{Token, mailbox_list, unstructured, write_field};
use crate::ids::{format_date, new_message_id, random_boundary};
use crate::model::{Message, Priority};
use crate::tree::{Node, build_tree};
use crate::validate::MessageError;

/// Opens the streams that [`Source::Stream`](crate::Source::Stream) attachments name.
pub trait StreamOpener: Send + Sync {
    /// Opens the stream called `key` for reading from its start. It may be called twice for
    /// one key (message/rfc822 parts are scanned before they are written).
    fn open(&self, key: &str) -> io::Result<Box<dyn Read + Send>>;
}

impl<F> StreamOpener for F
where
    F: Fn(&str) -> io::Result<Box<dyn Read + Send>> + Send + Sync,
{
    fn open(&self, key: &str) -> io::Result<Box<dyn Read + Send>> {
        self(key)
    }
}

/// How MIME boundaries are made.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum Boundaries {
    /// Random boundaries from a CSPRNG (the default).
    #[default]
    Random,
    /// The given prefix followed by 1, 2, 3... in the order multiparts are written
    /// (for golden tests).
    Counter(String),
}

/// Choices the renderer cannot make from the model alone.
#[derive(Clone, Default)]
pub struct RenderOptions {
    /// The server accepts 8BITMIME: UTF-8 text may go as 8bit instead of quoted-printable.
    pub allow_8bit: bool,
    /// How boundaries are made.
    pub boundaries: Boundaries,
    /// Opens [`Source::Stream`](crate::Source::Stream) attachments; rendering one without it fails.
    pub streams: Option<Arc<dyn StreamOpener>>,
}

impl fmt::Debug for RenderOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RenderOptions")
            .field("allow_8bit", &self.allow_8bit)
            .field("boundaries", &self.boundaries)
            .field("streams", &self.streams.as_ref().map(|_| "StreamOpener"))
            .finish()
    }
}

/// What a render wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RenderInfo {
    /// Bytes written.
    pub bytes: u64,
    /// Whether any written byte has the high bit set (the envelope needs BODY=8BITMIME, or
    /// SMTPUTF8 when `needs_smtputf8`).
    pub has_8bit: bool,
    /// Whether a header carries a UTF-8 address (the envelope needs SMTPUTF8).
    pub needs_smtputf8: bool,
    /// The Message-ID written: the model's, or a new one when the model had none.
    pub message_id: String,
    /// The Date written: the model's, or the render time when the model had none.
    pub date: OffsetDateTime,
}

/// True for message/rfc822 and the other message/* types, sent unencoded when they can be.
fn is_message_type(content_type: &str) -> bool {
    content_type
        .get(..8)
        .is_some_and(|t| t.eq_ignore_ascii_case("message/"))
}

/// A writer that counts bytes and notices 8-bit ones.
pub(crate) struct Counted<W: Write> {
    inner: W,
    pub(crate) bytes: u64,
    pub(crate) eight_bit: bool,
}

impl<W: Write> Counted<W> {
    pub(crate) fn new(inner: W) -> Self {
        Counted {
            inner,
            bytes: 0,
            eight_bit: false,
        }
    }
}

impl<W: Write> Write for Counted<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.bytes += n as u64;
        self.eight_bit = self.eight_bit || !buf[..n].is_ascii();
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

pub(crate) struct Renderer<'o> {
    opts: &'o RenderOptions,
    counter: u32,
}

impl Message {
    /// Renders the message to `out` as it goes: CRLF line ends, no Bcc header, attachments read
    /// in bounded chunks. Fails with `InvalidInput` when [`Message::validate`] refuses the
    /// model or there is no From, and with the source's error when an attachment cannot be read.
    pub fn render<W: Write>(&self, opts: &RenderOptions, out: W) -> io::Result<RenderInfo> {
        self.validate()?;
        let from = self.from.as_ref().ok_or(MessageError::MissingFrom)?;
        self.check_files()?;
        let date = self.date.unwrap_or_else(OffsetDateTime::now_utc);
        let message_id = self
            .message_id
            .clone()
            .unwrap_or_else(|| new_message_id(&from.address.to_ascii_domain()));
        let tree = build_tree(self);
        let mut out = Counted::new(BufWriter::with_capacity(16 * 1024, out));
        self.write_header(&mut out, date, &message_id)?;
        out.write_all(b"MIME-Version: 1.0\r\n")?;
        let mut renderer = Renderer { opts, counter: 0 };
        renderer.write_node(&mut out, &tree)?;
        out.flush()?;
        Ok(RenderInfo {
            bytes: out.bytes,
            has_8bit: out.eight_bit,
            needs_smtputf8: self.needs_smtputf8(),
            message_id,
            date,
        })
    }

    /// Whether rendering with `allow_8bit` may write 8-bit bytes: a non-ASCII text, HTML,
    /// signature or vCard, a UTF-8 address, or an enclosed message (message/*) that has
    /// 8-bit bytes or is read from a file or stream (not scanned here). When false, the
    /// rendering is 7-bit whatever the options say.
    pub fn needs_8bit(&self) -> bool {
        let texts = [&self.text, &self.html, &self.signature, &self.vcard];
        let enclosed = self.attachments.iter().any(|a| {
            is_message_type(&a.content_type)
                && match &a.source {
                    crate::Source::Bytes { data } => !data.is_ascii(),
                    _ => true,
                }
        });
        enclosed
            || self.needs_smtputf8()
            || texts
                .iter()
                .any(|t| t.as_deref().is_some_and(|t| !t.is_ascii()))
    }

    /// Whether any address, in the header or the envelope (Bcc included), has a UTF-8 local part.
    pub fn needs_smtputf8(&self) -> bool {
        self.all_mailboxes().any(|m| m.address.needs_smtputf8())
    }

    /// The envelope recipients: To, Cc and Bcc addresses, each once (compared without regard
    /// to case, with IDN domains in A-label form), in that order.
    pub fn recipients(&self) -> Vec<&crate::Address> {
        let mut seen = Vec::new();
        let mut out = Vec::new();
        for m in self.to.iter().chain(&self.cc).chain(&self.bcc) {
            let key = m.address.mailbox_key();
            if !seen.contains(&key) {
                seen.push(key);
                out.push(&m.address);
            }
        }
        out
    }

    fn all_mailboxes(&self) -> impl Iterator<Item = &crate::Mailbox> {
        self.from
            .iter()
            .chain(&self.sender)
            .chain(&self.reply_to)
            .chain(&self.to)
            .chain(&self.cc)
            .chain(&self.bcc)
            .chain(&self.receipt_to)
    }

    /// Refuses files that cannot be opened before any byte is written.
    fn check_files(&self) -> io::Result<()> {
        for part in self.inline.iter().chain(&self.attachments) {
            if let crate::Source::File { path } = &part.source {
                let fail = |e: io::Error| {
                    let text = format!("cannot read attachment {}: {e}", path.display());
                    io::Error::new(e.kind(), text)
                };
                let file = std::fs::File::open(path).map_err(fail)?;
                if !file.metadata().map_err(fail)?.is_file() {
                    return Err(fail(io::Error::new(
                        io::ErrorKind::InvalidInput,
                        "not a file",
                    )));
                }
            }
        }
        Ok(())
    }

    fn write_header<W: Write>(
        &self,
        out: &mut W,
        date: OffsetDateTime,
        id: &str,
    ) -> io::Result<()> {
        write_field(out, "Date", &[Token::spaced(format_date(date))])?;
        let lists: [(&str, &[crate::Mailbox]); 5] = [
            ("From", self.from.as_slice()),
            ("Sender", self.sender.as_slice()),
            ("Reply-To", &self.reply_to),
            ("To", &self.to),
            ("Cc", &self.cc),
        ];
        for (name, boxes) in &lists {
            if !boxes.is_empty() {
                write_field(out, name, &mailbox_list(boxes))?;
            }
        }
        if let Some(subject) = &self.subject {
            write_field(out, "Subject", &unstructured(subject))?;
        }
        write_field(out, "Message-ID", &[Token::spaced(id)])?;
        if let Some(irt) = &self.in_reply_to {
            write_field(out, "In-Reply-To", &[Token::spaced(irt.as_str())])?;
        }
        if !self.references.is_empty() {
            let ids: Vec<Token> = self
                .references
                .iter()
                .map(|r| Token::spaced(r.as_str()))
                .collect();
            write_field(out, "References", &ids)?;
        }
        if let Some(receipt) = &self.receipt_to {
            write_field(
                out,
                "Disposition-Notification-To",
                &mailbox_list(std::slice::from_ref(receipt)),
            )?;
        }
        if let Some(priority) = self.priority {
            let (x, importance) = match priority {
                Priority::High => ("1 (Highest)", "high"),
                Priority::Normal => ("3 (Normal)", "normal"),
                Priority::Low => ("5 (Lowest)", "low"),
            };
            write_field(out, "X-Priority", &unstructured(x))?;
            write_field(out, "Importance", &[Token::spaced(importance)])?;
        }
        for (name, value) in &self.headers {
            write_field(out, name, &unstructured(value))?;
        }
        Ok(())
    }
}

impl Renderer<'_> {
    fn next_boundary(&mut self) -> String {
        self.counter += 1;
        match &self.opts.boundaries {
            Boundaries::Random => random_boundary(),
            Boundaries::Counter(prefix) => format!("{prefix}{}", self.counter),
        }
    }

    /// Writes a part's header fields, the blank line, and its body.
    fn write_node<W: Write>(&mut self, out: &mut W, node: &Node<'_>) -> io::Result<()> {
        match node {
            Node::Text {
                subtype,
                text,
                extra,
            } => {
                let cte = body::text_encoding(text, self.opts.allow_8bit);
                let ct = format!("text/{subtype}; charset=utf-8");
                write_field(out, "Content-Type", &crate::tree::content_type_tokens(&ct))?;
                for (name, tokens) in extra {
                    write_field(out, name, tokens)?;
                }
                write_field(
                    out,
                    "Content-Transfer-Encoding",
                    &[Token::spaced(cte.name())],
                )?;
                out.write_all(b"\r\n")?;
                body::write_text(out, text, cte)
            }
            Node::File { part, disposition } => self.write_file(out, part, disposition),
            Node::Multi {
                kind,
                root_type,
                parts,
            } => {
                let boundary = self.next_boundary();
                let mut ct = vec![Token::spaced(format!("multipart/{kind};"))];
                ct.push(Token::spaced(format!("boundary=\"{boundary}\"")));
                if let Some(root) = root_type {
                    ct.last_mut().expect("pushed above").text.push(';');
                    ct.push(Token::spaced(format!("type=\"{root}\"")));
                }
                write_field(out, "Content-Type", &ct)?;
                out.write_all(b"\r\n")?;
                for (n, part) in parts.iter().enumerate() {
                    let lead = if n == 0 { "" } else { "\r\n" };
                    write!(out, "{lead}--{boundary}\r\n")?;
                    self.write_node(out, part)?;
                }
                write!(out, "\r\n--{boundary}--\r\n")
            }
        }
    }

    fn open<'a>(&'a self, source: &'a crate::Source) -> io::Result<Box<dyn Read + Send + 'a>> {
        match source {
            crate::Source::File { path } => Ok(Box::new(std::fs::File::open(path)?)),
            crate::Source::Bytes { data } => Ok(Box::new(&data[..])),
            crate::Source::Stream { key } => match &self.opts.streams {
                Some(opener) => opener.open(key),
                None => Err(io::Error::new(
                    io::ErrorKind::InvalidInput,
                    "an attachment names a stream but no stream opener was given",
                )),
            },
        }
    }

    fn write_file<W: Write>(
        &mut self,
        out: &mut W,
        part: &crate::Attachment,
        disposition: &str,
    ) -> io::Result<()> {
        let (ct, cd) = crate::tree::file_headers(part, disposition);
        write_field(out, "Content-Type", &ct)?;
        write_field(out, "Content-Disposition", &cd)?;
        if let Some(id) = &part.content_id {
            write_field(out, "Content-ID", &[Token::spaced(format!("<{id}>"))])?;
        }
        // RFC 2046 allows only 7bit, 8bit or binary for message/rfc822 (and other message/*
        // types are read the same way); base64 is the fallback when the enclosed message has
        // long lines, NUL, or 8-bit bytes the server cannot take.
        let cte = if is_message_type(&part.content_type) {
            let scan = body::scan_lines(self.open(&part.source)?)?;
            match scan {
                s if s.long_line || s.nul => Cte::Base64,
                s if !s.eight_bit => Cte::SevenBit,
                _ if self.opts.allow_8bit => Cte::EightBit,
                _ => Cte::Base64,
            }
        } else {
            Cte::Base64
        };
        write_field(
            out,
            "Content-Transfer-Encoding",
            &[Token::spaced(cte.name())],
        )?;
        out.write_all(b"\r\n")?;
        let source = self.open(&part.source)?;
        match cte {
            Cte::Base64 => body::write_base64(source, out).map(|_| ()),
            _ => body::copy_crlf(source, out),
        }
    }
}
