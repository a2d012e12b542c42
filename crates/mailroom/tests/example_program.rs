//! The example program creates, edits, saves and sends a message and prints its progress.
//! (`cargo test` builds examples beside the test binaries.)

use std::process::Command;
use std::time::Duration;

use mailroom_testkit::{CaptureOptions, CaptureServer};

#[test]
fn compose_and_send_example_delivers_and_prints_progress() {
    let exe = std::env::current_exe().unwrap();
    let example = exe
        .parent()
        .unwrap()
        .parent()
        .unwrap()
        .join("examples/compose_and_send");
    assert!(
        example.exists(),
        "build the examples first: {}",
        example.display()
    );
    let server = CaptureServer::start(&CaptureOptions::default(), None);
    let store = tempfile::tempdir().unwrap();
    let out = Command::new(example)
        .arg(store.path())
        .arg(format!("smtp://127.0.0.1:{}", server.port()))
        .args(["alice@example.com", "bob@example.net"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("saved message"), "{stdout}");
    assert!(stdout.contains("progress: Done message 1/1"), "{stdout}");
    assert!(stdout.contains("\"state\":\"sent\""), "{stdout}");
    let got = server.wait_for(1, Duration::from_secs(10));
    assert_eq!(got[0].rcpt_tos, vec!["bob@example.net"]);
}
