//! Launchers for real SMTP servers on 127.0.0.1. A missing server fails the test loudly.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

use super::Cert;

/// A running server. Dropping it closes the launcher's standard input, which stops the
/// server cleanly, and waits for that.
pub struct Running {
    pub port: u16,
    pub dir: tempfile::TempDir,
    child: Child,
}

impl Drop for Running {
    fn drop(&mut self) {
        drop(self.child.stdin.take());
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.start_kill();
    }
}

impl Running {
    /// JSON records of the messages aiosmtpd accepted, in order.
    pub fn spool(&self) -> Vec<serde_json::Value> {
        self.files("spool", "json")
            .iter()
            .map(|p| serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap())
            .collect()
    }

    fn files(&self, sub: &str, ext: &str) -> Vec<PathBuf> {
        let mut names: Vec<PathBuf> = std::fs::read_dir(self.dir.path().join(sub))
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| ext.is_empty() || p.extension().is_some_and(|e| e == ext))
            .collect();
        names.sort();
        names
    }

    /// Waits until the sink behind Postfix holds `count` transactions; returns them all.
    pub async fn relayed(&self, count: usize) -> Vec<String> {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let files = self.files("sink", "");
            if files.len() >= count {
                // A file is complete once the sink has written the message end.
                tokio::time::sleep(Duration::from_millis(200)).await;
                return files
                    .iter()
                    .map(|p| String::from_utf8_lossy(&std::fs::read(p).unwrap()).into_owned())
                    .collect();
            }
            assert!(
                Instant::now() < deadline,
                "Postfix relayed {} of {count}",
                files.len()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

fn write_cert(dir: &Path, cert: &Cert) -> (PathBuf, PathBuf) {
    let (c, k) = (dir.join("cert.pem"), dir.join("key.pem"));
    std::fs::write(&c, &cert.pem).unwrap();
    std::fs::write(&k, &cert.key_pem).unwrap();
    (c, k)
}

fn script(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests")
        .join(name)
}

async fn launch(mut command: Command, dir: tempfile::TempDir, what: &str) -> Running {
    let mut child = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start the {what} launcher: {e}"));
    let stdout = child.stdout.take().unwrap();
    let mut lines = BufReader::new(stdout).lines();
    let line = tokio::time::timeout(Duration::from_secs(30), lines.next_line())
        .await
        .unwrap_or_else(|_| panic!("{what} did not start in time"))
        .unwrap()
        .unwrap_or_else(|| panic!("{what} exited before listening"));
    let Some(port) = line.strip_prefix("READY ") else {
        panic!("{what} could not start: {line}");
    };
    let port = port.trim().parse().unwrap();
    Running { port, dir, child }
}

/// Starts aiosmtpd (`mode`: "starttls" or "implicit").
pub async fn aiosmtpd(cert: &Cert, mode: &str) -> Running {
    let check = std::process::Command::new("python3")
        .args(["-c", "import aiosmtpd"])
        .output();
    match check {
        Ok(out) if out.status.success() => {}
        _ => panic!("aiosmtpd is not installed: run `python3 -m pip install aiosmtpd`"),
    }
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("spool")).unwrap();
    let (c, k) = write_cert(dir.path(), cert);
    let mut command = Command::new("python3");
    command
        .arg(script("aiosmtpd_server.py"))
        .args([
            "--cert",
            c.to_str().unwrap(),
            "--key",
            k.to_str().unwrap(),
            "--mode",
            mode,
        ])
        .args(["--spool", dir.path().join("spool").to_str().unwrap()]);
    launch(command, dir, "aiosmtpd").await
}

/// Starts Postfix relaying to an smtp-sink; `size` is its message_size_limit.
pub async fn postfix(cert: &Cert, size: u64) -> Running {
    for binary in ["/usr/sbin/postfix", "/usr/sbin/smtp-sink"] {
        assert!(
            Path::new(binary).exists(),
            "{binary} is missing: install the Debian package postfix"
        );
    }
    let dir = tempfile::tempdir().unwrap();
    let (c, k) = write_cert(dir.path(), cert);
    let mut command = Command::new("python3");
    command
        .arg(script("postfix_server.py"))
        .args(["--dir", dir.path().to_str().unwrap()])
        .args(["--cert", c.to_str().unwrap(), "--key", k.to_str().unwrap()])
        .args(["--size", &size.to_string()]);
    launch(command, dir, "Postfix").await
}

/// Starts Exim (AUTH PLAIN and LOGIN after STARTTLS).
pub async fn exim(cert: &Cert) -> Running {
    let dir = tempfile::tempdir().unwrap();
    let (c, k) = write_cert(dir.path(), cert);
    let mut command = Command::new("python3");
    command
        .arg(script("exim_server.py"))
        .args(["--dir", dir.path().to_str().unwrap()])
        .args(["--cert", c.to_str().unwrap(), "--key", k.to_str().unwrap()]);
    launch(command, dir, "Exim").await
}

impl Running {
    /// Exim's main log.
    pub fn exim_log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("log/mainlog")).unwrap_or_default()
    }
}
