//! Many messages on one session, each transaction pipelined behind the previous message's end.

use std::collections::VecDeque;

use tokio::io::AsyncRead;

use super::Session;
use crate::core::Wait;
use crate::delivery::Delivery;
use crate::envelope::Envelope;
use crate::error::{Error, Phase};

/// One message handed to [`Session::send_batch`].
///
/// `tag` is the caller's own handle for the message (an id, an index); it comes back with the
/// message's outcome.
#[derive(Debug)]
pub struct Outgoing<T, R> {
    /// Returned with the outcome.
    pub tag: T,
    /// Sender and recipients.
    pub envelope: Envelope,
    /// The raw RFC 5322 message, any line endings, streamed.
    pub body: R,
    /// The length of `body` in bytes, if known (feeds SIZE and progress events).
    pub size: Option<u64>,
}

impl<T, R> Outgoing<T, R> {
    /// A message to send.
    pub fn new(tag: T, envelope: Envelope, body: R, size: Option<u64>) -> Outgoing<T, R> {
        Outgoing {
            tag,
            envelope,
            body,
            size,
        }
    }
}

impl Session {
    /// Sends messages one after another on this session, for as long as `next` hands them
    /// out, and reports each one's outcome through `done` as soon as it is known, in the
    /// order they were handed out. Outcomes mean what [`Session::send`]'s results mean.
    ///
    /// When the server offers PIPELINING (and it is not disabled), `next` is called once a
    /// message's content has been read, before its end is written: the next message's MAIL,
    /// RCPT and DATA then leave in the same write as the final dot (with CHUNKING: RSET, MAIL
    /// and RCPT in the same write as the last BDAT chunk), without waiting for its reply.
    /// Without PIPELINING `next` is called when the previous transaction has ended, and each
    /// runs as `send` runs it.
    /// Both closures run inline: keep them quick, for while `next` runs the previous final dot
    /// waits unwritten.
    ///
    /// A message refused before anything was written (an argument with CR or LF, over the
    /// SIZE limit, a missing extension) is reported in its turn and the batch goes on.
    /// `next` returning `None` ends the batch once every outstanding reply has been read; it
    /// is not called again. If the reply to a final dot never comes, that message's outcome is
    /// `DataOutcome::Unknown` and the message pipelined behind it fails with an error of kind
    /// `Closed`: its content was never sent. A 421 after the dot refuses that message and
    /// fails the one behind it the same way. The same holds for the reply to the last chunk.
    ///
    /// A session the server closed is reopened before the next message, as `send` does; if
    /// that fails, the error is that message's outcome and the batch ends.
    #[tracing::instrument(name = "smtp_batch", skip_all, fields(host = %self.config.host))]
    pub async fn send_batch<T, R, N, D>(&mut self, mut next: N, mut done: D)
    where
        R: AsyncRead + Unpin,
        N: FnMut() -> Option<Outgoing<T, R>>,
        D: FnMut(T, Result<Delivery, Error>),
    {
        let mut waiting = Waiting::new();
        while let Some(message) = next() {
            if let Err(error) = self.reopen_if_closed().await {
                waiting.push_settled(message.tag, Err(error));
                break;
            }
            if let Err(error) = self.core.begin(&message.envelope, message.size) {
                waiting.push_settled(message.tag, Err(error));
                self.report(&mut waiting, &mut done);
                continue;
            }
            waiting.push(message.tag);
            self.drive().await;
            let mut current = Some((message.body, message.size));
            while let Some((mut body, size)) = current.take() {
                self.report(&mut waiting, &mut done);
                let Wait::Body(mode) = self.core.wait() else {
                    break;
                };
                self.stream_body_held(mode, &mut body, size, true).await;
                while self.core.can_begin_behind() {
                    let Some(message) = next() else {
                        // Nothing more to send: finish what is on the wire.
                        self.drive().await;
                        self.report(&mut waiting, &mut done);
                        self.close_if_over().await;
                        return;
                    };
                    match self.core.begin(&message.envelope, message.size) {
                        Ok(()) => {
                            waiting.push(message.tag);
                            current = Some((message.body, message.size));
                            break;
                        }
                        // Refused before anything was written; reported in its turn.
                        Err(error) => waiting.push_settled(message.tag, Err(error)),
                    }
                }
                self.drive().await;
            }
            self.report(&mut waiting, &mut done);
        }
        self.report(&mut waiting, &mut done);
        self.close_if_over().await;
    }

    /// Hands out, in order, every outcome known so far; once no transaction is in progress, a
    /// message still without one gets the session's failure.
    fn report<T, D>(&mut self, waiting: &mut Waiting<T>, done: &mut D)
    where
        D: FnMut(T, Result<Delivery, Error>),
    {
        let idle = matches!(self.core.wait(), Wait::Ready | Wait::Closed);
        while let Some((tag, settled)) = waiting.queue.pop_front() {
            let result = match settled {
                Some(result) => result,
                None => match self.core.take_outcome() {
                    Some(result) => result,
                    None if idle => Err(self.core.take_failure().unwrap_or(Error::Closed {
                        phase: Phase::MailFrom,
                        reply: None,
                    })),
                    None => {
                        waiting.queue.push_front((tag, None));
                        return;
                    }
                },
            };
            log_outcome(&result);
            done(tag, result);
        }
        if self.core.take_outcome().is_some() {
            tracing::error!("an outcome with no message waiting for it");
        }
    }

    /// Before a transaction: abandons a connection left midway by a cancelled send, and
    /// reconnects if the server closed the session.
    pub(super) async fn reopen_if_closed(&mut self) -> Result<(), Error> {
        if self.stream.is_some() && !matches!(self.core.wait(), Wait::Ready | Wait::Closed) {
            tracing::debug!("previous send was interrupted: abandoning the connection");
            self.stream = None;
        }
        self.notice_idle_close();
        if !self.is_open() {
            tracing::debug!("session closed by the server: reconnecting");
            let fresh = Session::connect(&self.config, self.observer.clone()).await?;
            *self = fresh;
        }
        Ok(())
    }

    /// After a transaction: drops the connection if the session is over.
    pub(super) async fn close_if_over(&mut self) {
        if !self.core.is_open() {
            self.close_stream().await;
        }
    }
}

/// Messages handed out and not yet reported, in order; some already settled.
struct Waiting<T> {
    queue: VecDeque<(T, Option<Result<Delivery, Error>>)>,
}

impl<T> Waiting<T> {
    fn new() -> Waiting<T> {
        Waiting {
            queue: VecDeque::with_capacity(2),
        }
    }

    /// A message whose outcome the core will give.
    fn push(&mut self, tag: T) {
        self.queue.push_back((tag, None));
    }

    /// A message whose outcome is already known.
    fn push_settled(&mut self, tag: T, result: Result<Delivery, Error>) {
        self.queue.push_back((tag, Some(result)));
    }
}

/// Logs a transaction's result (decisions and sizes, never content).
pub(super) fn log_outcome(result: &Result<Delivery, Error>) {
    match result {
        Ok(delivery) => tracing::debug!(
            recipients = delivery.recipients.len(),
            accepted = delivery.accepted().count(),
            data = ?delivery.data_code(),
            "transaction finished"
        ),
        Err(error) => tracing::debug!(%error, "transaction failed"),
    }
}
