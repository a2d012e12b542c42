//! The sans-IO protocol core: fed server bytes, it yields commands, data and events.
//!
//! The transport asks [`Core::wait`] what to do next, writes [`Core::take_output`], and feeds
//! what it reads to [`Core::receive`] (or reports [`Core::link_lost`]). No I/O happens here, so
//! the same core serves one-off sends, long sessions, the tests and the fuzzers.

mod behind;
mod content;
mod open;
mod params;
mod txn;

use std::collections::VecDeque;
use std::sync::Arc;

use crate::auth::AuthExchange;
use crate::caps::Capabilities;
use crate::config::{Credentials, Disabled, Mechanism, TlsMode};
use crate::delivery::Delivery;
use crate::error::{Error, Phase};
use crate::event::{Direction, Event, SessionState, TranscriptSink};
use crate::reply::{Reply, ReplyParser};

pub(crate) use txn::BodyMode;
use txn::Txn;

/// What the transport must do next.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Wait {
    /// Flush output, then read server bytes; the phase picks the timeout.
    Reply(Phase),
    /// Flush output, then run the TLS handshake and call [`Core::tls_established`].
    Tls,
    /// Stream the message content ([`Core::body_data`] / [`Core::bdat_chunk`]).
    Body(BodyMode),
    /// Idle and open: ready for a transaction or QUIT.
    Ready,
    /// The session is over.
    Closed,
}

/// How the link failed, as seen by the transport.
#[derive(Debug)]
pub(crate) enum LinkLoss {
    /// End of stream.
    Eof,
    /// No reply in time.
    Timeout,
    /// Read or write error.
    Io(std::io::Error),
    /// TLS handshake failure.
    Tls(Error),
}

/// Settings the core needs; I/O-free and fixed for one session.
#[derive(Clone)]
pub(crate) struct CoreConfig {
    pub(crate) ehlo_name: String,
    pub(crate) tls: TlsMode,
    pub(crate) credentials: Option<Credentials>,
    pub(crate) mechanisms: Option<Vec<Mechanism>>,
    pub(crate) disable: Disabled,
    pub(crate) transcript: Option<Arc<dyn TranscriptSink>>,
    /// Random client nonce for SCRAM (injected, so tests are repeatable).
    pub(crate) nonce: String,
}

#[derive(Debug)]
enum State {
    ExpectGreeting,
    ExpectEhlo { after_tls: bool },
    ExpectHelo,
    ExpectStartTls,
    Handshake,
    ExpectAuth(AuthExchange),
    Ready,
    Transaction,
    ExpectQuit,
    Closed,
}

/// The protocol state machine of one SMTP session.
pub(crate) struct Core {
    config: CoreConfig,
    state: State,
    parser: ReplyParser,
    out: Vec<u8>,
    events: Vec<Event>,
    caps: Capabilities,
    tls_active: bool,
    txn: Option<Txn>,
    /// A transaction whose final reply is still due, with `txn` pipelined behind it; its reply
    /// comes before any of `txn`'s.
    previous: Option<Txn>,
    /// Session-level failure (opening, AUTH, protocol breach).
    failure: Option<Error>,
    /// Results of finished transactions, oldest first, until taken.
    outcomes: VecDeque<Result<Delivery, Error>>,
    /// Complete replies received so far (each one restarts the reply timer).
    replies_seen: u64,
}

impl Core {
    /// A core for a new connection; `tls_active` is true for implicit TLS.
    pub(crate) fn new(config: CoreConfig, tls_active: bool) -> Core {
        Core {
            config,
            state: State::ExpectGreeting,
            parser: ReplyParser::default(),
            out: Vec::with_capacity(1024),
            events: vec![Event::State(SessionState::Greeting)],
            caps: Capabilities::default(),
            tls_active,
            txn: None,
            previous: None,
            failure: None,
            outcomes: VecDeque::with_capacity(2),
            replies_seen: 0,
        }
    }

    /// What the transport must do next.
    pub(crate) fn wait(&self) -> Wait {
        match &self.state {
            State::ExpectGreeting => Wait::Reply(Phase::Greeting),
            State::ExpectEhlo { .. } => Wait::Reply(Phase::Ehlo),
            State::ExpectHelo => Wait::Reply(Phase::Helo),
            State::ExpectStartTls => Wait::Reply(Phase::StartTls),
            State::Handshake => Wait::Tls,
            State::ExpectAuth(_) => Wait::Reply(Phase::Auth),
            State::Ready => Wait::Ready,
            State::Transaction if self.previous.is_some() => Wait::Reply(Phase::DataEnd),
            State::Transaction => self.txn.as_ref().map_or(Wait::Ready, Txn::wait),
            State::ExpectQuit => Wait::Reply(Phase::Quit),
            State::Closed => Wait::Closed,
        }
    }

    /// Bytes to write, taken.
    pub(crate) fn take_output(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.out)
    }

    /// How many bytes wait to be written.
    pub(crate) fn output_len(&self) -> usize {
        self.out.len()
    }

    /// Progress events since the last call.
    pub(crate) fn take_events(&mut self) -> Vec<Event> {
        std::mem::take(&mut self.events)
    }

    /// The session failure, if the session failed.
    pub(crate) fn take_failure(&mut self) -> Option<Error> {
        self.failure.take()
    }

    /// The result of the oldest finished transaction not yet taken, if any.
    pub(crate) fn take_outcome(&mut self) -> Option<Result<Delivery, Error>> {
        self.outcomes.pop_front()
    }

    /// Capabilities from the last EHLO.
    pub(crate) fn capabilities(&self) -> &Capabilities {
        &self.caps
    }

    /// Whether the session can still carry a transaction.
    pub(crate) fn is_open(&self) -> bool {
        !matches!(self.state, State::Closed | State::ExpectQuit)
    }

    /// How many complete replies have been received.
    pub(crate) fn replies_seen(&self) -> u64 {
        self.replies_seen
    }

    /// Whether TLS protects the session.
    pub(crate) fn tls_active(&self) -> bool {
        self.tls_active
    }

    /// Feeds bytes read from the server.
    pub(crate) fn receive(&mut self, bytes: &[u8]) {
        if matches!(self.state, State::Closed) {
            return;
        }
        self.parser.push(bytes);
        loop {
            if !matches!(self.wait(), Wait::Reply(_)) {
                break;
            }
            match self.parser.next_reply() {
                Ok(Some(reply)) => {
                    self.replies_seen += 1;
                    self.record_reply(&reply);
                    let written = self.out.len();
                    self.handle_reply(reply);
                    if self.out.len() > written && self.parser.has_buffered() {
                        // Bytes already here cannot answer a command only now being sent.
                        let phase = self.current_phase();
                        self.abort(Error::protocol(phase, "reply arrived before its command"));
                        return;
                    }
                }
                Ok(None) => return,
                Err(e) => {
                    let phase = self.current_phase();
                    self.abort(Error::protocol(phase, e.to_string()));
                    return;
                }
            }
        }
        if self.parser.has_buffered() && !matches!(self.state, State::Closed) {
            let phase = self.current_phase();
            let message = match self.state {
                State::Handshake => "plaintext bytes after the STARTTLS go-ahead (injection?)",
                _ => "server sent data out of turn",
            };
            self.abort(Error::protocol(phase, message));
        }
    }

    /// Reports that the connection failed; settles whatever was pending.
    pub(crate) fn link_lost(&mut self, loss: LinkLoss) {
        let phase = self.current_phase();
        let error = match loss {
            LinkLoss::Eof => Error::Closed { phase, reply: None },
            LinkLoss::Timeout => Error::Timeout { phase },
            LinkLoss::Io(source) => Error::Io { phase, source },
            LinkLoss::Tls(error) => error,
        };
        match self.state {
            State::ExpectQuit | State::Closed => self.state = State::Closed,
            State::Transaction => {
                self.state = State::Closed;
                self.settle_lost(error);
            }
            _ => {
                self.state = State::Closed;
                self.failure.get_or_insert(error);
            }
        }
    }

    /// Starts QUIT from the ready state.
    pub(crate) fn quit(&mut self) {
        if matches!(self.state, State::Ready) {
            self.write_command("QUIT", None);
            self.state = State::ExpectQuit;
            self.events.push(Event::State(SessionState::Closing));
        } else if !matches!(self.state, State::ExpectQuit) {
            self.state = State::Closed;
        }
    }

    fn current_phase(&self) -> Phase {
        match self.wait() {
            Wait::Reply(phase) => phase,
            Wait::Tls => Phase::TlsHandshake,
            Wait::Body(_) => Phase::Message,
            Wait::Ready | Wait::Closed => Phase::Quit,
        }
    }

    fn handle_reply(&mut self, reply: Reply) {
        match std::mem::replace(&mut self.state, State::Closed) {
            State::ExpectGreeting => self.on_greeting(reply),
            State::ExpectEhlo { after_tls } => self.on_ehlo(reply, after_tls),
            State::ExpectHelo => self.on_helo(reply),
            State::ExpectStartTls => self.on_starttls(reply),
            State::ExpectAuth(exchange) => self.on_auth(exchange, reply),
            State::Transaction => {
                self.state = State::Transaction;
                self.on_txn_reply(reply);
            }
            State::ExpectQuit => self.state = State::Closed,
            other => self.state = other,
        }
    }

    /// Fails the session and closes it without a word (the stream cannot be trusted).
    fn abort(&mut self, error: Error) {
        if matches!(self.state, State::Transaction) && self.txn.is_some() {
            self.state = State::Closed;
            self.settle_lost(error);
            return;
        }
        self.failure.get_or_insert(error);
        self.state = State::Closed;
    }

    /// Fails the session politely: QUIT, then close after its reply.
    fn fail_with_quit(&mut self, error: Error) {
        self.failure.get_or_insert(error);
        self.write_command("QUIT", None);
        self.state = State::ExpectQuit;
        self.events.push(Event::State(SessionState::Closing));
    }

    fn write_command(&mut self, line: &str, redacted: Option<&str>) {
        self.transcript(Direction::Client, redacted.unwrap_or(line));
        self.out.extend_from_slice(line.as_bytes());
        self.out.extend_from_slice(b"\r\n");
    }

    fn transcript(&self, direction: Direction, text: &str) {
        if let Some(sink) = &self.config.transcript {
            sink.line(direction, text);
        }
    }

    fn record_reply(&self, reply: &Reply) {
        let Some(sink) = &self.config.transcript else {
            return;
        };
        let redact = matches!(self.state, State::ExpectAuth(_)) && reply.code == 334;
        let last = reply.lines.len().saturating_sub(1);
        for (i, line) in reply.lines.iter().enumerate() {
            let sep = if i == last { ' ' } else { '-' };
            let text = if redact { "[redacted]" } else { line.as_str() };
            sink.line(Direction::Server, &format!("{}{sep}{text}", reply.code));
        }
    }
}

#[cfg(test)]
mod tests;
