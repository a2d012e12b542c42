//! Launchers for real SMTP servers on 127.0.0.1. A missing server binary fails the test.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

use super::Cert;

/// A running server; killed when dropped.
pub struct Running {
    pub port: u16,
    pub dir: tempfile::TempDir,
    _child: Child,
}

impl Running {
    /// JSON records of the messages the server accepted, in order.
    pub fn spool(&self) -> Vec<serde_json::Value> {
        let mut names: Vec<PathBuf> = std::fs::read_dir(self.dir.path().join("spool"))
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "json"))
            .collect();
        names.sort();
        names
            .iter()
            .map(|p| serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap())
            .collect()
    }
}

fn write_cert(dir: &Path, cert: &Cert) -> (PathBuf, PathBuf) {
    let (c, k) = (dir.join("cert.pem"), dir.join("key.pem"));
    std::fs::write(&c, &cert.pem).unwrap();
    std::fs::write(&k, &cert.key_pem).unwrap();
    (c, k)
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
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/aiosmtpd_server.py");
    let mut child = Command::new("python3")
        .arg(script)
        .args([
            "--cert",
            c.to_str().unwrap(),
            "--key",
            k.to_str().unwrap(),
            "--mode",
            mode,
        ])
        .args(["--spool", dir.path().join("spool").to_str().unwrap()])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("start aiosmtpd");
    let stdout = child.stdout.take().unwrap();
    let mut lines = BufReader::new(stdout).lines();
    let line = tokio::time::timeout(Duration::from_secs(20), lines.next_line())
        .await
        .expect("aiosmtpd did not start in time")
        .unwrap()
        .expect("aiosmtpd exited before listening");
    let port = line
        .strip_prefix("READY ")
        .expect("READY line")
        .trim()
        .parse()
        .unwrap();
    Running {
        port,
        dir,
        _child: child,
    }
}
