//! Helpers for running the built binary against real servers.
#![allow(dead_code)]

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};

use serde_json::Value;

pub fn mailroom(store: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_mailroom"));
    cmd.arg("--store")
        .arg(store)
        .env_remove("MAILROOM_STORE")
        .env_remove("RUST_LOG");
    cmd
}

pub fn run(cmd: &mut Command) -> Output {
    cmd.stdin(Stdio::null()).output().expect("run mailroom")
}

pub fn run_with_input(cmd: &mut Command, input: &[u8]) -> Output {
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn mailroom");
    child.stdin.take().unwrap().write_all(input).unwrap();
    child.wait_with_output().expect("wait for mailroom")
}

pub fn json(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not JSON ({e}): {}\nstderr: {}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

pub fn code(out: &Output) -> i32 {
    out.status.code().expect("exit code")
}

pub fn ok(out: &Output) {
    assert_eq!(
        code(out),
        0,
        "stdout: {}\nstderr: {}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Adds account `name` for a plain-text capture server on `port`.
pub fn add_account(store: &Path, name: &str, port: u16, from: &str) {
    let out = run(mailroom(store).args([
        "account",
        "add",
        name,
        "--server",
        &format!("smtp://127.0.0.1:{port}"),
        "--tls",
        "none",
        "--from",
        from,
    ]));
    ok(&out);
}
