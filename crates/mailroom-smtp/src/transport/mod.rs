//! The tokio + rustls transport around the sans-IO core.

mod batch;
mod connect;
mod content;
mod stream;
mod tls;

use std::sync::Arc;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt, ReadBuf};
use tokio::time::{Instant, timeout, timeout_at};

use crate::caps::Capabilities;
use crate::config::{ClientConfig, TlsMode};
use crate::core::{Core, CoreConfig, LinkLoss, Wait};
use crate::delivery::Delivery;
use crate::envelope::{Envelope, check_argument};
use crate::error::{Error, Phase};
use crate::event::{Event, Observer, SessionState};
pub use batch::Outgoing;
use connect::{TlsSetup, connect_tcp, fresh_nonce, handshake};
use stream::Stream;

/// Content is read and written in blocks of this size (also the BDAT chunk size).
const BLOCK: usize = 64 * 1024;
/// Longest wait for the reply to a QUIT.
const QUIT_WAIT: Duration = Duration::from_secs(30);

/// An open SMTP session: connected, greeted, secured and authenticated, ready for messages.
///
/// One session carries any number of transactions. When the server closes it (421, 221 or
/// end of stream) between messages, `send` notices and reconnects first.
pub struct Session {
    config: ClientConfig,
    observer: Option<Arc<dyn Observer>>,
    stream: Option<Stream>,
    core: Core,
    read_buf: Box<[u8]>,
    /// Reused between messages for reading content.
    body_buf: Vec<u8>,
    /// rustls configuration and server name, built once per connection.
    tls: Option<TlsSetup>,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("host", &self.config.host)
            .field("port", &self.config.port)
            .field("open", &self.is_open())
            .finish()
    }
}

impl Session {
    /// Connects, reads the greeting, says EHLO, secures the link and authenticates.
    #[tracing::instrument(name = "smtp_connect", skip_all, fields(host = %config.host, port = config.port))]
    pub async fn connect(
        config: &ClientConfig,
        observer: Option<Arc<dyn Observer>>,
    ) -> Result<Session, Error> {
        let notify = |event: Event| {
            if let Some(o) = &observer {
                o.event(&event);
            }
        };
        let ehlo_name = match &config.ehlo_name {
            Some(name) => {
                check_argument("EHLO name", name)?;
                Some(crate::envelope::ehlo_domain(name)?)
            }
            None => None,
        };
        if let Some(c) = &config.credentials {
            check_argument("user name", &c.username)?;
        }
        let tls = match config.tls {
            TlsMode::None => None,
            _ => Some((tls::client_config(config)?, tls::server_name(config)?)),
        };
        notify(Event::State(SessionState::Connecting));
        tracing::debug!(host = %config.host, port = config.port, tls = ?config.tls, "connecting");
        let tcp = connect_tcp(config).await?;
        let local = tcp.local_addr().map_err(|source| Error::Io {
            phase: Phase::Connect,
            source,
        })?;
        let ehlo_name = ehlo_name.unwrap_or_else(|| connect::default_ehlo_name(local));
        let stream = if config.tls == TlsMode::Implicit {
            notify(Event::State(SessionState::Tls));
            handshake(tcp, tls.as_ref(), config.timeouts.connect).await?
        } else {
            Stream::Plain(tcp)
        };
        let core = Core::new(
            CoreConfig {
                ehlo_name,
                tls: config.tls,
                credentials: config.credentials.clone(),
                mechanisms: config.mechanisms.clone(),
                disable: config.disable,
                transcript: config.transcript.clone(),
                nonce: fresh_nonce(),
            },
            config.tls == TlsMode::Implicit,
        );
        let mut session = Session {
            config: config.clone(),
            observer,
            stream: Some(stream),
            core,
            read_buf: vec![0; 16 * 1024].into_boxed_slice(),
            body_buf: Vec::new(),
            tls,
        };
        session.drive().await;
        match session.core.wait() {
            Wait::Ready => {
                let caps = session.core.capabilities();
                tracing::debug!(
                    tls = session.core.tls_active(),
                    pipelining = caps.pipelining(),
                    chunking = caps.chunking(),
                    size_limit = ?caps.size_limit(),
                    "session ready"
                );
                Ok(session)
            }
            _ => {
                session.close_stream().await;
                Err(session.core.take_failure().unwrap_or(Error::Closed {
                    phase: Phase::Greeting,
                    reply: None,
                }))
            }
        }
    }

    /// Capabilities from the last EHLO (after TLS when TLS is used).
    pub fn capabilities(&self) -> &Capabilities {
        self.core.capabilities()
    }

    /// Whether the session is open; false once the server closed it (421, 221, end of stream).
    pub fn is_open(&self) -> bool {
        self.core.is_open() && self.stream.is_some()
    }

    /// Whether the link is protected by TLS.
    pub fn is_tls(&self) -> bool {
        self.core.tls_active()
    }

    /// Sends one message: `body` is the raw RFC 5322 message with any line endings, streamed;
    /// `size` (its length in bytes, if known) feeds SIZE and progress events.
    ///
    /// `Ok(Delivery)` holds each recipient's answer and the content's fate: refused
    /// recipients, `DataOutcome::NotAttempted` when none was accepted, a refusal of the content
    /// (a 421 after the final dot included, which also closes the session), and
    /// `DataOutcome::Unknown` when the link failed after the final dot.
    ///
    /// `Err` when the transaction could not run: input refused before anything was written
    /// (CR, LF or NUL in an argument, SIZE limit, a missing SMTPUTF8, 8BITMIME or
    /// REQUIRETLS), a refused MAIL FROM, a 421 before the final dot (the session is then
    /// closed and everything pending is transient), a timeout or a lost link before it.
    ///
    /// A session the server closed is reopened first. If a previous `send` was cancelled
    /// midway (its future dropped), that connection is abandoned and a new one opened.
    #[tracing::instrument(
        name = "smtp_send",
        skip_all,
        fields(host = %self.config.host, recipients = envelope.recipients.len(), size)
    )]
    pub async fn send<R: AsyncRead + Unpin>(
        &mut self,
        envelope: &Envelope,
        mut body: R,
        size: Option<u64>,
    ) -> Result<Delivery, Error> {
        self.reopen_if_closed().await?;
        self.core.begin(envelope, size)?;
        self.drive().await;
        if let Wait::Body(mode) = self.core.wait() {
            self.stream_body(mode, &mut body, size).await;
        }
        let result = self.core.take_outcome();
        if let Some(result) = &result {
            batch::log_outcome(result);
        }
        self.close_if_over().await;
        match result {
            Some(result) => result,
            None => Err(self.core.take_failure().unwrap_or(Error::Closed {
                phase: Phase::MailFrom,
                reply: None,
            })),
        }
    }

    /// Says QUIT and closes the connection.
    pub async fn quit(mut self) -> Result<(), Error> {
        self.core.quit();
        self.drive().await;
        self.close_stream().await;
        Ok(())
    }

    fn emit(&mut self) {
        let events = self.core.take_events();
        if let Some(observer) = &self.observer {
            for event in &events {
                observer.event(event);
            }
        }
    }

    fn timeout_for(&self, phase: Phase) -> Duration {
        let t = &self.config.timeouts;
        match phase {
            Phase::Connect | Phase::TlsHandshake => t.connect,
            Phase::Greeting => t.greeting,
            Phase::MailFrom => t.mail,
            Phase::RcptTo => t.rcpt,
            Phase::Data => t.data_go,
            Phase::Message | Phase::Bdat => t.data_block,
            Phase::DataEnd => t.data_done,
            Phase::Quit => t.command.min(QUIT_WAIT),
            _ => t.command,
        }
    }

    /// Runs the core until it needs the caller (content, or a new transaction) or closes.
    ///
    /// Each reply has its own deadline: it starts when the command is written (or the previous
    /// reply arrives), so a server trickling bytes cannot stretch a wait past its timeout.
    async fn drive(&mut self) {
        let mut deadline: Option<(u64, Instant)> = None;
        loop {
            self.emit();
            if self.core.output_len() > 0 {
                let limit = match self.core.wait() {
                    Wait::Reply(Phase::DataEnd | Phase::Bdat) | Wait::Body(_) => {
                        self.config.timeouts.data_block
                    }
                    _ => self.config.timeouts.command,
                };
                deadline = None;
                if let Err(loss) = self.flush(limit).await {
                    self.core.link_lost(loss);
                    continue;
                }
            }
            match self.core.wait() {
                Wait::Reply(phase) => {
                    let seen = self.core.replies_seen();
                    let at = match deadline {
                        Some((s, at)) if s == seen => at,
                        _ => {
                            let at = Instant::now() + self.timeout_for(phase);
                            deadline = Some((seen, at));
                            at
                        }
                    };
                    match self.read(at).await {
                        Ok(0) => self.core.link_lost(LinkLoss::Eof),
                        Ok(n) => {
                            let (core, buf) = (&mut self.core, &self.read_buf);
                            core.receive(&buf[..n]);
                        }
                        Err(loss) => self.core.link_lost(loss),
                    }
                }
                Wait::Tls => self.start_tls().await,
                Wait::Body(_) | Wait::Ready => return,
                Wait::Closed => {
                    self.emit();
                    self.close_stream().await;
                    return;
                }
            }
        }
    }

    async fn flush(&mut self, limit: Duration) -> Result<(), LinkLoss> {
        let data = self.core.take_output();
        let Some(stream) = self.stream.as_mut() else {
            return Err(LinkLoss::Eof);
        };
        match timeout(limit, async {
            stream.write_all(&data).await?;
            stream.flush().await
        })
        .await
        {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => Err(LinkLoss::Io(e)),
            Err(_) => Err(LinkLoss::Timeout),
        }
    }

    async fn read(&mut self, deadline: Instant) -> Result<usize, LinkLoss> {
        let Some(stream) = self.stream.as_mut() else {
            return Err(LinkLoss::Eof);
        };
        match timeout_at(deadline, stream.read(&mut self.read_buf)).await {
            Ok(Ok(n)) => Ok(n),
            Ok(Err(e)) => Err(LinkLoss::Io(e)),
            Err(_) => Err(LinkLoss::Timeout),
        }
    }

    async fn start_tls(&mut self) {
        match self.stream.take() {
            Some(Stream::Plain(tcp)) => {
                match handshake(tcp, self.tls.as_ref(), self.config.timeouts.connect).await {
                    Ok(stream) => {
                        self.stream = Some(stream);
                        self.core.tls_established();
                    }
                    Err(e) => self.core.link_lost(LinkLoss::Tls(e)),
                }
            }
            other => {
                self.stream = other;
                self.core
                    .link_lost(LinkLoss::Tls(Error::tls("STARTTLS inside TLS")));
            }
        }
    }

    /// Notices, without waiting, a server that closed the idle session (421 or end of stream).
    fn notice_idle_close(&mut self) {
        if !matches!(self.core.wait(), Wait::Ready) {
            return;
        }
        let Some(stream) = self.stream.as_mut() else {
            return;
        };
        let mut probe = [0u8; 512];
        let mut buf = ReadBuf::new(&mut probe);
        let mut cx = Context::from_waker(Waker::noop());
        let closed = match std::pin::Pin::new(stream).poll_read(&mut cx, &mut buf) {
            Poll::Pending => false,
            Poll::Ready(Ok(())) => {
                let seen = String::from_utf8_lossy(buf.filled()).into_owned();
                tracing::debug!(seen = %seen.trim_end(), "server spoke or closed while idle");
                true
            }
            Poll::Ready(Err(_)) => true,
        };
        if closed {
            self.core.link_lost(LinkLoss::Eof);
            self.core.take_failure();
            self.stream = None;
        }
    }

    async fn close_stream(&mut self) {
        if let Some(mut stream) = self.stream.take() {
            let _ = timeout(Duration::from_secs(1), stream.shutdown()).await;
        }
    }
}
