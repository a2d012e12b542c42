//! The message bytes for one transaction, produced on a blocking thread (rendering or copying
//! from the store) and read by the SMTP engine as an async stream, a chunk at a time.

use std::io::{self, Read, Write};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use mailroom_mime::{Message, RenderOptions};
use mailroom_store::{EntryId, Store};
use tokio::io::{AsyncRead, ReadBuf};
use tokio::sync::mpsc;

use crate::outbox::{STREAM_MESSAGE, STREAM_RAW};

/// Size of the chunks handed from the producing thread to the engine.
const CHUNK: usize = 64 * 1024;
/// Messages up to this size are rendered in memory before the transaction starts.
const IN_MEMORY: u64 = 256 * 1024;

/// The message bytes of one transaction.
pub(crate) enum Body {
    /// Rendered in full, with the read position.
    Memory(Vec<u8>, usize),
    /// Rendering failed; the error is given to the first read.
    Failed(Option<io::Error>),
    /// Produced while read.
    Stream(BodyReader),
}

impl AsyncRead for Body {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match &mut *self {
            Body::Memory(bytes, pos) => {
                let n = buf.remaining().min(bytes.len() - *pos);
                buf.put_slice(&bytes[*pos..*pos + n]);
                *pos += n;
                Poll::Ready(Ok(()))
            }
            Body::Failed(e) => Poll::Ready(Err(e
                .take()
                .unwrap_or_else(|| io::Error::other("the message could not be rendered")))),
            Body::Stream(reader) => Pin::new(reader).poll_read(cx, buf),
        }
    }
}

enum Piece {
    Data(Vec<u8>),
    Failed(io::Error),
    Done,
}

/// What a stored message is made of.
pub(crate) enum Content {
    /// A model, rendered at send time.
    Composed(Box<Message>),
    /// Ready bytes in the store, sent with their Bcc header removed.
    Raw,
}

impl Content {
    /// Loads the model of a composed message, or notes that the message is raw.
    pub fn load(store: &Store, id: EntryId) -> io::Result<Content> {
        let names = store.stream_names(id).map_err(io::Error::other)?;
        if names.iter().any(|n| n == STREAM_RAW) {
            return Ok(Content::Raw);
        }
        let mut json = Vec::new();
        store
            .open_stream(id, STREAM_MESSAGE)
            .map_err(io::Error::other)?
            .read_to_end(&mut json)?;
        let message: Message = serde_json::from_slice(&json).map_err(io::Error::other)?;
        Ok(Content::Composed(Box::new(message)))
    }

    /// Whether the bytes to send may carry 8-bit data once rendered with `allow_8bit`.
    pub fn eight_bit(&self, allow_8bit: bool) -> bool {
        match self {
            Content::Composed(m) => allow_8bit && m.needs_8bit(),
            Content::Raw => allow_8bit,
        }
    }

    /// Writes the bytes to transmit: the rendered model, or the stored message without its
    /// Bcc header.
    pub fn write_to(
        self,
        store: &Arc<Store>,
        id: EntryId,
        allow_8bit: bool,
        out: &mut dyn Write,
    ) -> io::Result<()> {
        match self {
            Content::Composed(message) => {
                let options = RenderOptions {
                    allow_8bit,
                    streams: Some(Arc::new(StoreStreams {
                        store: store.clone(),
                        id,
                    })),
                    ..RenderOptions::default()
                };
                message.render(&options, out).map(|_| ())
            }
            Content::Raw => store
                .open_stream(id, STREAM_RAW)
                .map_err(io::Error::other)
                .and_then(|raw| mailroom_mime::strip_bcc(raw, out).map(|_| ())),
        }
    }

    /// The bytes to transmit, as the engine reads them: rendered here into memory when the
    /// message is small, else produced on a blocking thread while the engine reads.
    pub fn reader(self, store: Arc<Store>, id: EntryId, allow_8bit: bool, size: u64) -> Body {
        if size <= IN_MEMORY {
            let mut bytes = Vec::with_capacity(size as usize + 1024);
            return match self.write_to(&store, id, allow_8bit, &mut bytes) {
                Ok(()) => Body::Memory(bytes, 0),
                Err(e) => Body::Failed(Some(e)),
            };
        }
        Body::Stream(self.spawn(store, id, allow_8bit))
    }

    /// Starts producing the bytes on a blocking thread; the reader yields them, or the error
    /// that stopped the producer (never a silent early end).
    fn spawn(self, store: Arc<Store>, id: EntryId, allow_8bit: bool) -> BodyReader {
        let (tx, rx) = mpsc::channel(4);
        tokio::task::spawn_blocking(move || {
            let mut out = ChunkWriter {
                tx: tx.clone(),
                buf: Vec::with_capacity(CHUNK),
            };
            let result = self.write_to(&store, id, allow_8bit, &mut out);
            let last = match result.and_then(|()| out.flush()) {
                Ok(()) => Piece::Done,
                Err(e) => Piece::Failed(e),
            };
            let _ = tx.blocking_send(last);
        });
        BodyReader {
            rx,
            current: Vec::new(),
            pos: 0,
            finished: false,
        }
    }
}

/// Opens attachment streams of a message in the store while it renders.
pub(crate) struct StoreStreams {
    pub store: Arc<Store>,
    pub id: EntryId,
}

impl mailroom_mime::StreamOpener for StoreStreams {
    fn open(&self, key: &str) -> io::Result<Box<dyn Read + Send>> {
        let reader = self
            .store
            .open_stream(self.id, key)
            .map_err(io::Error::other)?;
        Ok(Box::new(reader))
    }
}

struct ChunkWriter {
    tx: mpsc::Sender<Piece>,
    buf: Vec<u8>,
}

impl Write for ChunkWriter {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        self.buf.extend_from_slice(data);
        if self.buf.len() >= CHUNK {
            self.flush()?;
        }
        Ok(data.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let chunk = std::mem::replace(&mut self.buf, Vec::with_capacity(CHUNK));
        self.tx
            .blocking_send(Piece::Data(chunk))
            .map_err(|_| io::Error::new(io::ErrorKind::BrokenPipe, "the transaction was abandoned"))
    }
}

/// The engine's side of the body: an `AsyncRead` fed by the producing thread.
pub(crate) struct BodyReader {
    rx: mpsc::Receiver<Piece>,
    current: Vec<u8>,
    pos: usize,
    finished: bool,
}

impl AsyncRead for BodyReader {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        loop {
            if self.pos < self.current.len() {
                let n = buf.remaining().min(self.current.len() - self.pos);
                let start = self.pos;
                buf.put_slice(&self.current[start..start + n]);
                self.pos += n;
                return Poll::Ready(Ok(()));
            }
            if self.finished {
                return Poll::Ready(Ok(()));
            }
            match self.rx.poll_recv(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Some(Piece::Data(chunk))) => {
                    self.current = chunk;
                    self.pos = 0;
                }
                Poll::Ready(Some(Piece::Done)) => self.finished = true,
                Poll::Ready(Some(Piece::Failed(e))) => return Poll::Ready(Err(e)),
                Poll::Ready(None) => {
                    return Poll::Ready(Err(io::Error::other(
                        "the message producer stopped before the end of the message",
                    )));
                }
            }
        }
    }
}
