//! A scripted SMTP server: plays given replies, records every byte the client sends.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use mailroom_smtp::{ClientConfig, Direction, Event, Observer, TlsMode, TranscriptSink};
use rustls_pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

/// One step of a script.
pub enum Step {
    /// Write these bytes.
    Reply(&'static str),
    /// Write owned bytes.
    ReplyBytes(Vec<u8>),
    /// Read exactly this many bytes' worth and record them (they must equal the text).
    Expect(&'static str),
    /// Like `Expect`, then check that nothing more arrives for a moment (no pipelining).
    ExpectAlone(&'static str),
    /// Read once: that single read must return exactly this text (the client wrote it in one
    /// go; a small write on loopback arrives whole).
    ExpectOneRead(&'static str),
    /// Read until this text has been seen at the end of what was received.
    ExpectUntil(&'static str),
    /// Write these bytes one at a time, pausing between them.
    Trickle(&'static str, Duration),
    /// Read exactly this many bytes and record them.
    ReadBytes(usize),
    /// Read one line from the client, record it, and write what the function makes of it.
    Answer(Box<dyn FnMut(&str) -> String + Send>),
    /// Switch to TLS as the server.
    Tls,
    /// Close the connection now.
    Close,
    /// Say nothing more; record until the client goes away.
    Silence,
}

pub struct Cert {
    pub der: CertificateDer<'static>,
    pub pem: String,
    pub key_der: Vec<u8>,
    pub key_pem: String,
}

/// A fresh self-signed certificate for `localhost` and 127.0.0.1.
pub fn cert() -> Cert {
    let ck =
        rcgen::generate_simple_self_signed(vec!["localhost".to_string(), "127.0.0.1".to_string()])
            .expect("certificate");
    Cert {
        der: ck.cert.der().clone(),
        pem: ck.cert.pem(),
        key_der: ck.signing_key.serialize_der(),
        key_pem: ck.signing_key.serialize_pem(),
    }
}

fn acceptor(cert: &Cert) -> tokio_rustls::TlsAcceptor {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(
            vec![cert.der.clone()],
            PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(cert.key_der.clone())),
        )
        .unwrap();
    tokio_rustls::TlsAcceptor::from(Arc::new(config))
}

trait Io: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Io for T {}

pub struct Scripted {
    pub addr: SocketAddr,
    pub cert: Arc<Cert>,
    handle: JoinHandle<Vec<Vec<u8>>>,
}

const STEP_WAIT: Duration = Duration::from_secs(10);

/// Starts a server that runs `script` for each of `connections` connections in turn.
pub async fn serve_many(scripts: Vec<Vec<Step>>) -> Scripted {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let cert = Arc::new(cert());
    let tls = acceptor(&cert);
    let handle = tokio::spawn(async move {
        let mut all = Vec::new();
        for script in scripts {
            let Ok(Ok((tcp, _))) = tokio::time::timeout(STEP_WAIT, listener.accept()).await else {
                break;
            };
            all.push(run(Box::new(tcp), script, &tls).await);
        }
        all
    });
    Scripted { addr, cert, handle }
}

pub async fn serve(script: Vec<Step>) -> Scripted {
    serve_many(vec![script]).await
}

async fn run(mut io: Box<dyn Io>, script: Vec<Step>, tls: &tokio_rustls::TlsAcceptor) -> Vec<u8> {
    let mut seen = Vec::new();
    for step in script {
        match step {
            Step::Reply(text) => {
                if io.write_all(text.as_bytes()).await.is_err() {
                    return seen;
                }
            }
            Step::ReplyBytes(bytes) => {
                if io.write_all(&bytes).await.is_err() {
                    return seen;
                }
            }
            Step::Expect(text) | Step::ExpectAlone(text) => {
                let alone = matches!(step, Step::ExpectAlone(_));
                let mut buf = vec![0u8; text.len()];
                let mut got = 0;
                while got < buf.len() {
                    match tokio::time::timeout(STEP_WAIT, io.read(&mut buf[got..])).await {
                        Ok(Ok(n)) if n > 0 => got += n,
                        _ => {
                            seen.extend_from_slice(&buf[..got]);
                            return seen;
                        }
                    }
                }
                seen.extend_from_slice(&buf);
                if buf != text.as_bytes() {
                    return seen;
                }
                if alone {
                    let mut extra = [0u8; 1024];
                    if let Ok(Ok(n)) =
                        tokio::time::timeout(Duration::from_millis(150), io.read(&mut extra)).await
                    {
                        seen.extend_from_slice(b"<<EARLY>>");
                        seen.extend_from_slice(&extra[..n]);
                        return seen;
                    }
                }
            }
            Step::ExpectOneRead(text) => {
                let mut buf = vec![0u8; text.len() + 4096];
                match tokio::time::timeout(STEP_WAIT, io.read(&mut buf)).await {
                    Ok(Ok(n)) if n > 0 => {
                        seen.extend_from_slice(&buf[..n]);
                        if &buf[..n] != text.as_bytes() {
                            seen.extend_from_slice(b"<<NOT ONE READ>>");
                            return seen;
                        }
                    }
                    _ => return seen,
                }
            }
            Step::ExpectUntil(text) => {
                let mut buf = [0u8; 8192];
                let start = seen.len();
                while !seen[start..].ends_with(text.as_bytes()) {
                    match tokio::time::timeout(STEP_WAIT, io.read(&mut buf)).await {
                        Ok(Ok(n)) if n > 0 => seen.extend_from_slice(&buf[..n]),
                        _ => return seen,
                    }
                }
            }
            Step::Trickle(text, pause) => {
                for b in text.bytes() {
                    if io.write_all(&[b]).await.is_err() {
                        return seen;
                    }
                    tokio::time::sleep(pause).await;
                }
            }
            Step::ReadBytes(n) => {
                let mut buf = vec![0u8; n];
                match tokio::time::timeout(STEP_WAIT, io.read_exact(&mut buf)).await {
                    Ok(Ok(_)) => seen.extend_from_slice(&buf),
                    _ => return seen,
                }
            }
            Step::Answer(mut f) => {
                let start = seen.len();
                let mut byte = [0u8; 1];
                while !seen[start..].ends_with(b"\r\n") {
                    match tokio::time::timeout(STEP_WAIT, io.read(&mut byte)).await {
                        Ok(Ok(1)) => seen.push(byte[0]),
                        _ => return seen,
                    }
                }
                let line = String::from_utf8_lossy(&seen[start..seen.len() - 2]).into_owned();
                if io.write_all(f(&line).as_bytes()).await.is_err() {
                    return seen;
                }
            }
            Step::Tls => match tls.accept(io).await {
                Ok(stream) => io = Box::new(stream),
                Err(_) => {
                    seen.extend_from_slice(b"<<TLS FAILED>>");
                    return seen;
                }
            },
            Step::Close => return seen,
            Step::Silence => break,
        }
    }
    let mut buf = [0u8; 8192];
    loop {
        match tokio::time::timeout(STEP_WAIT, io.read(&mut buf)).await {
            Ok(Ok(n)) if n > 0 => seen.extend_from_slice(&buf[..n]),
            _ => return seen,
        }
    }
}

impl Scripted {
    /// Every byte the client sent on each connection, as text.
    pub async fn connections(self) -> Vec<String> {
        let all = self.handle.await.expect("server task");
        all.into_iter()
            .map(|b| String::from_utf8_lossy(&b).into_owned())
            .collect()
    }

    /// Every byte the client sent on the only connection.
    pub async fn client_bytes(self) -> String {
        self.connections()
            .await
            .into_iter()
            .next()
            .unwrap_or_default()
    }

    /// A plaintext client configuration for this server.
    pub fn config(&self) -> ClientConfig {
        let mut config = ClientConfig::new("127.0.0.1", self.addr.port());
        config.tls = TlsMode::None;
        config.ehlo_name = Some("client.test".into());
        config.timeouts = mailroom_smtp::Timeouts::uniform(Duration::from_secs(5));
        config
    }

    /// A STARTTLS configuration trusting this server's certificate.
    pub fn tls_config(&self) -> ClientConfig {
        let mut config = self.config();
        config.tls = TlsMode::StartTls;
        config.tls_server_name = Some("localhost".into());
        config.extra_roots = vec![self.cert.der.clone()];
        config
    }
}

/// Records events.
#[derive(Default)]
pub struct Recorder(pub Mutex<Vec<Event>>);

impl Observer for Recorder {
    fn event(&self, event: &Event) {
        self.0.lock().unwrap().push(event.clone());
    }
}

/// Records transcript lines.
#[derive(Default)]
pub struct Transcript(pub Mutex<Vec<String>>);

impl TranscriptSink for Transcript {
    fn line(&self, direction: Direction, text: &str) {
        let arrow = if direction == Direction::Client {
            "C:"
        } else {
            "S:"
        };
        self.0.lock().unwrap().push(format!("{arrow} {text}"));
    }
}

/// The usual opening of a plaintext session: greeting and EHLO with the given extensions.
pub fn ehlo(extensions: &'static str) -> Vec<Step> {
    vec![
        Step::Reply("220 mx.test ESMTP\r\n"),
        Step::Expect("EHLO client.test\r\n"),
        Step::Reply(extensions),
    ]
}

pub mod batch;
pub mod servers;
