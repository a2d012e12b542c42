//! Streaming the message content: DATA blocks or BDAT chunks, with progress events.

use tokio::io::{AsyncRead, AsyncReadExt};

use super::{BLOCK, Session};
use crate::core::{BodyMode, Wait};
use crate::event::Event;

impl Session {
    /// Streams the content and waits for the server's verdict on it.
    pub(super) async fn stream_body<R: AsyncRead + Unpin>(
        &mut self,
        mode: BodyMode,
        body: &mut R,
        size: Option<u64>,
    ) {
        self.stream_body_held(mode, body, size, false).await;
    }

    /// Streams the content; with `hold_end`, it stops short of writing the last block with its
    /// final dot (or the last BDAT chunk), so that the next transaction's commands can join
    /// that write.
    pub(super) async fn stream_body_held<R: AsyncRead + Unpin>(
        &mut self,
        mode: BodyMode,
        body: &mut R,
        size: Option<u64>,
        hold_end: bool,
    ) {
        let mut buf = std::mem::take(&mut self.body_buf);
        buf.resize(BLOCK, 0);
        self.stream_body_with(mode, body, size, &mut buf, hold_end)
            .await;
        self.body_buf = buf;
    }

    async fn stream_body_with<R: AsyncRead + Unpin>(
        &mut self,
        mode: BodyMode,
        body: &mut R,
        size: Option<u64>,
        buf: &mut [u8],
        hold_end: bool,
    ) {
        let mut sent = 0u64;
        match mode {
            BodyMode::Data => loop {
                let n = match body.read(buf).await {
                    Ok(n) => n,
                    Err(e) => return self.body_failed(e).await,
                };
                if n == 0 {
                    // The last content still buffered and the final dot leave in one write:
                    // the dot never goes out alone.
                    self.core.body_end();
                    if hold_end {
                        self.progress(sent, size);
                        return;
                    }
                    self.drive().await;
                    self.progress(sent, size);
                    return;
                }
                // Earlier content is written only once more has been read, so the tail of the
                // message is always still buffered when the end is seen.
                if self.core.output_len() >= BLOCK {
                    if let Err(loss) = self.flush(self.config.timeouts.data_block).await {
                        self.core.link_lost(loss);
                        self.drive().await;
                        return;
                    }
                    self.progress(sent, size);
                }
                self.core.body_data(&buf[..n]);
                sent += n as u64;
            },
            BodyMode::Bdat => {
                let mut current = match read_full(body, buf).await {
                    Ok(n) => buf[..n].to_vec(),
                    Err(e) => return self.body_failed(e).await,
                };
                loop {
                    let next = if current.len() < BLOCK {
                        Vec::new()
                    } else {
                        match read_full(body, buf).await {
                            Ok(n) => buf[..n].to_vec(),
                            Err(e) => return self.body_failed(e).await,
                        }
                    };
                    let last = next.is_empty();
                    self.core.bdat_chunk(&current, last);
                    sent += current.len() as u64;
                    if last && hold_end {
                        self.progress(sent, size);
                        return;
                    }
                    self.drive().await;
                    self.progress(sent, size);
                    if last || !matches!(self.core.wait(), Wait::Body(_)) {
                        return;
                    }
                    current = next;
                }
            }
        }
    }

    pub(super) async fn body_failed(&mut self, error: std::io::Error) {
        tracing::warn!(%error, "reading the message failed: dropping the connection");
        self.core.body_failed(error);
        self.close_stream().await;
    }

    fn progress(&self, sent: u64, total: Option<u64>) {
        if let Some(observer) = &self.observer {
            observer.event(&Event::BytesSent { sent, total });
        }
    }
}

async fn read_full<R: AsyncRead + Unpin>(reader: &mut R, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        let n = reader.read(&mut buf[filled..]).await?;
        if n == 0 {
            break;
        }
        filled += n;
    }
    Ok(filled)
}
