//! Real servers for mailroom's integration tests, all on 127.0.0.1 and all stopped on drop:
//! an aiosmtpd capture server ([`CaptureServer`]), a foreground Postfix relaying to one
//! ([`Postfix`]), and a throw-away certificate authority ([`TestCerts`]).
//!
//! A missing server program is a test failure with a message saying what to install, never a
//! silent skip: CI installs every server (see `.ci/install-deps`).
#![forbid(unsafe_code)]

mod capture;
mod certs;
mod postfix;

pub use capture::{CaptureOptions, CaptureServer, Captured, TlsMode};
pub use certs::TestCerts;
pub use postfix::{Postfix, PostfixOptions};

use std::net::{TcpListener, TcpStream};
use std::time::{Duration, Instant};

/// A port on 127.0.0.1 that nothing listened on a moment ago, for servers that cannot bind port 0
/// themselves and report it (Postfix).
pub fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    listener.local_addr().expect("local address").port()
}

/// Waits until something accepts TCP connections on 127.0.0.1:`port`.
pub fn wait_for_port(port: u16, timeout: Duration) -> bool {
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        if TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    false
}
