use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine;
use serde::Deserialize;
use tempfile::TempDir;

use crate::TestCerts;

/// How the capture server offers TLS.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TlsMode {
    /// No TLS at all.
    Plain,
    /// STARTTLS offered after EHLO.
    StartTls,
    /// TLS from the first byte.
    Implicit,
}

/// How to start a [`CaptureServer`].
#[derive(Debug, Clone)]
pub struct CaptureOptions {
    /// TLS offered.
    pub tls: TlsMode,
    /// Refuse MAIL before STARTTLS.
    pub require_starttls: bool,
    /// Accept AUTH PLAIN and LOGIN with this user and password.
    pub auth: Option<(String, String)>,
    /// Advertise SMTPUTF8.
    pub smtputf8: bool,
    /// Recipients refused with 550.
    pub reject: Vec<String>,
    /// Recipients deferred with 450.
    pub defer: Vec<String>,
    /// Answer 451 after the data of the first N messages.
    pub fail_data: u32,
    /// Take each message, then close the connection without replying to the final dot.
    pub drop_after_data: bool,
    /// Wait this long before answering the final dot.
    pub delay_data: Option<Duration>,
    /// Take message N (counting from 1), then close without replying to its final dot.
    pub drop_after_message: Option<u32>,
    /// Advertise PIPELINING (aiosmtpd handles pipelined commands but does not offer it).
    pub pipelining: bool,
    /// Answer 421 at once to connections beyond this many open at a time.
    pub max_connections: Option<u32>,
    /// Listen on this port instead of one the system picks.
    pub port: Option<u16>,
}

impl Default for CaptureOptions {
    fn default() -> Self {
        CaptureOptions {
            tls: TlsMode::Plain,
            require_starttls: false,
            auth: None,
            smtputf8: false,
            reject: Vec::new(),
            defer: Vec::new(),
            fail_data: 0,
            drop_after_data: false,
            delay_data: None,
            drop_after_message: None,
            pipelining: false,
            max_connections: None,
            port: None,
        }
    }
}

/// One message the capture server accepted.
#[derive(Debug, Clone, Deserialize)]
pub struct Captured {
    /// MAIL FROM address.
    pub mail_from: String,
    /// MAIL FROM parameters.
    pub mail_options: Vec<String>,
    /// Accepted RCPT TO addresses.
    pub rcpt_tos: Vec<String>,
    /// RCPT TO parameters, one list per recipient.
    pub rcpt_options: Vec<Vec<String>>,
    #[serde(rename = "data")]
    data_b64: String,
    /// The client's port: messages with the same port came over one connection.
    #[serde(default)]
    pub peer_port: Option<u16>,
    /// Whether the session was under TLS.
    pub tls: bool,
    /// Whether the client authenticated.
    pub authenticated: bool,
    /// The login name it authenticated with.
    pub login: Option<String>,
}

impl Captured {
    /// The message bytes exactly as received (after the server undid dot-stuffing).
    pub fn data(&self) -> Vec<u8> {
        base64::engine::general_purpose::STANDARD
            .decode(&self.data_b64)
            .expect("base64 data")
    }
}

/// A running aiosmtpd server (`servers/capture_smtpd.py`) on 127.0.0.1 that records every
/// message it accepts. Stopped when dropped.
pub struct CaptureServer {
    child: Child,
    stdin: Option<ChildStdin>,
    port: u16,
    outdir: TempDir,
}

impl CaptureServer {
    /// Starts a server; `certs` is needed for any TLS mode.
    pub fn start(options: &CaptureOptions, certs: Option<&TestCerts>) -> CaptureServer {
        let outdir = tempfile::Builder::new()
            .prefix("mailroom-capture")
            .tempdir()
            .expect("tmp");
        let mut cmd = Command::new("python3");
        cmd.arg(script_path()).arg("--outdir").arg(outdir.path());
        cmd.arg("--port").arg(options.port.unwrap_or(0).to_string());
        let mode = match options.tls {
            TlsMode::Plain => "plain",
            TlsMode::StartTls => "starttls",
            TlsMode::Implicit => "implicit",
        };
        cmd.arg("--mode").arg(mode);
        if options.tls != TlsMode::Plain {
            let certs = certs.expect("a TLS capture server needs TestCerts");
            cmd.arg("--cert")
                .arg(certs.cert_path())
                .arg("--key")
                .arg(certs.key_path());
        }
        if options.require_starttls {
            cmd.arg("--require-starttls");
        }
        if let Some((user, password)) = &options.auth {
            cmd.arg("--auth").arg(format!("{user}:{password}"));
        }
        if options.smtputf8 {
            cmd.arg("--smtputf8");
        }
        for address in &options.reject {
            cmd.arg("--reject").arg(address);
        }
        for address in &options.defer {
            cmd.arg("--defer").arg(address);
        }
        if options.fail_data > 0 {
            cmd.arg("--fail-data").arg(options.fail_data.to_string());
        }
        if options.drop_after_data {
            cmd.arg("--drop-after-data");
        }
        if let Some(n) = options.drop_after_message {
            cmd.arg("--drop-after-message").arg(n.to_string());
        }
        if options.pipelining {
            cmd.arg("--pipelining");
        }
        if let Some(n) = options.max_connections {
            cmd.arg("--max-connections").arg(n.to_string());
        }
        if let Some(delay) = options.delay_data {
            cmd.arg("--delay-data").arg(delay.as_secs_f64().to_string());
        }
        cmd.stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        let mut child = cmd.spawn().unwrap_or_else(|e| {
            panic!(
                "cannot start python3 for the aiosmtpd capture server ({e}); run .ci/install-deps"
            )
        });
        let stdout = child.stdout.take().expect("stdout");
        let mut line = String::new();
        BufReader::new(stdout)
            .read_line(&mut line)
            .expect("read PORT line");
        let port = line
            .strip_prefix("PORT ")
            .and_then(|p| p.trim().parse().ok())
            .unwrap_or_else(|| {
                let _ = child.kill();
                panic!(
                    "the aiosmtpd capture server did not start (said {line:?}); is aiosmtpd \
                     installed? run .ci/install-deps"
                )
            });
        let stdin = child.stdin.take();
        CaptureServer {
            child,
            stdin,
            port,
            outdir,
        }
    }

    /// The port it listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Every message accepted so far, in order.
    pub fn messages(&self) -> Vec<Captured> {
        read_messages(self.outdir.path())
    }

    /// Waits up to `timeout` for at least `count` messages, and returns all there are.
    pub fn wait_for(&self, count: usize, timeout: Duration) -> Vec<Captured> {
        let deadline = Instant::now() + timeout;
        loop {
            let messages = self.messages();
            if messages.len() >= count || Instant::now() >= deadline {
                return messages;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for CaptureServer {
    fn drop(&mut self) {
        drop(self.stdin.take());
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn read_messages(dir: &Path) -> Vec<Captured> {
    let mut names: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("capture dir")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    names.sort();
    names
        .iter()
        .map(|p| {
            let text = std::fs::read_to_string(p).expect("read capture");
            serde_json::from_str(&text).expect("parse capture")
        })
        .collect()
}

fn script_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("servers")
        .join("capture_smtpd.py")
}
