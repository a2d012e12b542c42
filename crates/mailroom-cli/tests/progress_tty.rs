//! The progress bar as a person sees it: `mailroom send` with a 50 MB attachment runs on a
//! pseudo-terminal against an aiosmtpd server that is slow to answer the final dot, and
//! every redraw of the terminal is captured. With stderr not a terminal, no bar is drawn.

mod common;

use std::process::Command;
use std::time::{Duration, Instant};

use common::*;
use mailroom_testkit::{CaptureOptions, CaptureServer};

/// The slow sink of `servers/slow_sink.py`, stopped when dropped.
struct SlowSink {
    child: std::process::Child,
    port: u16,
    dir: tempfile::TempDir,
}

impl SlowSink {
    fn start(delay: Duration) -> SlowSink {
        use std::io::BufRead;
        let dir = tempfile::tempdir().unwrap();
        let port = mailroom_testkit::free_port();
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/servers/slow_sink.py");
        let mut child = Command::new("python3")
            .arg(script)
            .arg("--outdir")
            .arg(dir.path())
            .args(["--port", &port.to_string()])
            .args(["--delay-data", &delay.as_secs_f64().to_string()])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .expect("python3 with aiosmtpd");
        let mut line = String::new();
        std::io::BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        assert_eq!(line.trim(), "READY", "the slow sink did not start");
        SlowSink { child, port, dir }
    }

    fn wait_for_message(&self, timeout: Duration) -> (serde_json::Value, Vec<u8>) {
        let deadline = Instant::now() + timeout;
        let eml = self.dir.path().join("1.eml");
        let env = self.dir.path().join("1.json");
        while !(eml.exists() && env.exists()) {
            assert!(Instant::now() < deadline, "no message arrived");
            std::thread::sleep(Duration::from_millis(50));
        }
        std::thread::sleep(Duration::from_millis(100));
        let envelope = serde_json::from_slice(&std::fs::read(env).unwrap()).unwrap();
        (envelope, std::fs::read(eml).unwrap())
    }
}

impl Drop for SlowSink {
    fn drop(&mut self) {
        drop(self.child.stdin.take());
        let _ = self.child.wait();
    }
}

const FIFTY_MB: usize = 50 * 1024 * 1024;

fn bar_filled(line: &str) -> Option<(usize, usize)> {
    let start = line.find('[')?;
    let end = start + line[start..].find(']')?;
    let bar = &line[start + 1..end];
    Some((bar.matches('#').count(), bar.matches('-').count()))
}

#[test]
fn progress_bar_drawn_on_a_terminal_while_50mb_goes_to_a_slow_server() {
    let server = SlowSink::start(Duration::from_secs(3));
    let store = tempfile::tempdir().unwrap();
    add_account(store.path(), "work", server.port, "alice@example.com");
    let files = tempfile::tempdir().unwrap();
    let big = files.path().join("big.bin");
    let data: Vec<u8> = (0..FIFTY_MB).map(|i| (i % 253) as u8).collect();
    std::fs::write(&big, &data).unwrap();
    // util-linux `script` runs the command on a pseudo-terminal and copies everything drawn
    // on it, every redraw included, to its standard output.
    let command = format!(
        "'{}' --store '{}' send --to bob@example.net --subject big --attach '{}'",
        env!("CARGO_BIN_EXE_mailroom"),
        store.path().display(),
        big.display()
    );
    let out = Command::new("script")
        .args(["-q", "-e", "-f", "-c", &command, "/dev/null"])
        .env_remove("MAILROOM_STORE")
        .env_remove("RUST_LOG")
        .stdin(std::process::Stdio::null())
        .output()
        .expect("script (util-linux)");
    let screen = text(&out.stdout);
    assert_eq!(code(&out), 0, "terminal output:\n{screen}");
    let draws: Vec<&str> = screen
        .split(['\r', '\n'])
        .map(|d| d.trim_start_matches("\u{1b}[2K"))
        .filter(|d| d.contains("messages ["))
        .collect();
    let partial: Vec<&str> = draws
        .iter()
        .copied()
        .filter(|d| bar_filled(d).is_some_and(|(filled, empty)| filled > 0 && empty > 0))
        .collect();
    assert!(
        partial
            .iter()
            .any(|l| l.starts_with("sending") && l.contains("/71.7 MB") && l.contains("0/1")),
        "no partly filled bar while sending: {draws:?}"
    );
    assert!(
        draws
            .iter()
            .any(|d| d.contains("71.7/71.7 MB") && bar_filled(d) == Some((24, 0))),
        "the bar never reached the full size: {draws:?}"
    );
    assert!(screen.contains("sent to 1 recipient"), "{screen}");
    let (envelope, delivered) = server.wait_for_message(Duration::from_secs(30));
    assert_eq!(envelope["mail_from"], "alice@example.com");
    assert_eq!(envelope["rcpt_tos"], serde_json::json!(["bob@example.net"]));
    assert!(
        delivered.len() > FIFTY_MB,
        "{} bytes delivered",
        delivered.len()
    );
    let msg = mail_parser::MessageParser::default()
        .parse(&delivered)
        .unwrap();
    use mail_parser::MimeHeaders;
    let att = msg.attachment(0).unwrap();
    assert_eq!(att.attachment_name(), Some("big.bin"));
    assert!(
        att.contents() == data.as_slice(),
        "the attachment arrived changed"
    );
}

#[test]
fn no_progress_bar_when_stderr_is_not_a_terminal() {
    let server = CaptureServer::start(&CaptureOptions::default(), None);
    let store = tempfile::tempdir().unwrap();
    add_account(store.path(), "work", server.port(), "alice@example.com");
    let files = tempfile::tempdir().unwrap();
    let file = files.path().join("a.bin");
    std::fs::write(&file, vec![7u8; 2 * 1024 * 1024]).unwrap();
    let out = run(mailroom(store.path())
        .args(["send", "--to", "bob@example.net", "--attach"])
        .arg(&file));
    ok(&out);
    let err = text(&out.stderr);
    assert!(!err.contains("messages [") && !err.contains('\r'), "{err}");
}
