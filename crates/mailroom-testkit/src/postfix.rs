use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use tempfile::TempDir;

use crate::{CaptureOptions, CaptureServer, TestCerts, free_port, wait_for_port};

/// How to start a [`Postfix`].
#[derive(Debug, Clone)]
pub struct PostfixOptions {
    /// `message_size_limit` in bytes, advertised as `SIZE`.
    pub message_size_limit: u64,
    /// Options for the capture server Postfix relays everything to.
    pub relay: CaptureOptions,
}

impl Default for PostfixOptions {
    fn default() -> Self {
        PostfixOptions {
            message_size_limit: 10_240_000,
            relay: CaptureOptions::default(),
        }
    }
}

/// A real Postfix master running in the foreground with its own configuration, queue and data
/// directories, listening on 127.0.0.1 with STARTTLS, and relaying every message it accepts to a
/// [`CaptureServer`]. Stopped when dropped. Needs root (Postfix drops to the `postfix` user).
pub struct Postfix {
    dir: TempDir,
    master: Child,
    port: u16,
    relay: CaptureServer,
}

impl Postfix {
    /// Starts Postfix with STARTTLS using `certs`.
    pub fn start(options: &PostfixOptions, certs: &TestCerts) -> Postfix {
        let postfix = postfix_binary();
        let relay = CaptureServer::start(&options.relay, None);
        let dir = tempfile::Builder::new()
            .prefix("mailroom-postfix")
            .tempdir()
            .expect("tempdir");
        let root = dir.path();
        for sub in ["conf", "queue", "data"] {
            fs::create_dir(root.join(sub)).expect("mkdir");
        }
        set_mode(root, 0o755);
        run(Command::new("chown").arg("postfix").arg(root.join("data")));
        fs::copy(certs.cert_path(), root.join("conf/cert.pem")).expect("copy cert");
        fs::copy(certs.key_path(), root.join("conf/key.pem")).expect("copy key");
        set_mode(&root.join("conf/key.pem"), 0o600);

        let port = free_port();
        let main_cf = format!(
            "compatibility_level = 3.6\n\
             queue_directory = {queue}\n\
             data_directory = {data}\n\
             mail_owner = postfix\n\
             setgid_group = postdrop\n\
             inet_interfaces = 127.0.0.1\n\
             inet_protocols = ipv4\n\
             myhostname = postfix.test\n\
             mydomain = test\n\
             mydestination =\n\
             mynetworks = 127.0.0.0/8\n\
             relayhost = [127.0.0.1]:{relay}\n\
             smtp_tls_security_level = none\n\
             smtpd_tls_security_level = may\n\
             smtpd_tls_cert_file = {conf}/cert.pem\n\
             smtpd_tls_key_file = {conf}/key.pem\n\
             message_size_limit = {limit}\n\
             smtputf8_enable = yes\n\
             smtpd_tls_loglevel = 1\n\
             maillog_file = {root}/maillog\n\
             maillog_file_prefixes = {root}\n\
             syslog_name = postfix-{port}\n",
            queue = root.join("queue").display(),
            data = root.join("data").display(),
            conf = root.join("conf").display(),
            root = root.display(),
            relay = relay.port(),
            limit = options.message_size_limit,
        );
        fs::write(root.join("conf/main.cf"), main_cf).expect("main.cf");
        fs::write(root.join("conf/master.cf"), master_cf(port)).expect("master.cf");

        let conf = root.join("conf");
        run(Command::new(&postfix).arg("-c").arg(&conf).arg("check"));
        let master = Command::new(&postfix)
            .arg("-c")
            .arg(&conf)
            .arg("start-fg")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start postfix");
        let postfix = Postfix {
            dir,
            master,
            port,
            relay,
        };
        if !wait_for_port(port, Duration::from_secs(30)) {
            panic!(
                "Postfix did not start listening on 127.0.0.1:{port}; log:\n{}",
                postfix.log()
            );
        }
        postfix
    }

    /// The port Postfix's smtpd listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The server that receives what Postfix relays.
    pub fn relay(&self) -> &CaptureServer {
        &self.relay
    }

    /// Postfix's log so far.
    pub fn log(&self) -> String {
        fs::read_to_string(self.dir.path().join("maillog")).unwrap_or_default()
    }
}

impl Drop for Postfix {
    fn drop(&mut self) {
        let _ = Command::new(postfix_binary())
            .arg("-c")
            .arg(self.dir.path().join("conf"))
            .arg("stop")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
        let _ = self.master.kill();
        let _ = self.master.wait();
    }
}

fn master_cf(port: u16) -> String {
    let mut text = format!("127.0.0.1:{port} inet n - n - - smtpd\n");
    for (name, kind, private, limit, service) in [
        ("pickup", "unix", "n", "1", "pickup"),
        ("cleanup", "unix", "n", "0", "cleanup"),
        ("qmgr", "unix", "n", "1", "qmgr"),
        ("tlsmgr", "unix", "-", "1", "tlsmgr"),
        ("rewrite", "unix", "-", "-", "trivial-rewrite"),
        ("bounce", "unix", "-", "0", "bounce"),
        ("defer", "unix", "-", "0", "bounce"),
        ("trace", "unix", "-", "0", "bounce"),
        ("verify", "unix", "-", "1", "verify"),
        ("flush", "unix", "n", "0", "flush"),
        ("proxymap", "unix", "-", "-", "proxymap"),
        ("smtp", "unix", "-", "-", "smtp"),
        ("relay", "unix", "-", "-", "smtp"),
        ("showq", "unix", "n", "-", "showq"),
        ("error", "unix", "-", "-", "error"),
        ("retry", "unix", "-", "-", "error"),
        ("discard", "unix", "-", "-", "discard"),
        ("anvil", "unix", "-", "1", "anvil"),
        ("scache", "unix", "-", "1", "scache"),
        ("postlog", "unix-dgram", "n", "1", "postlogd"),
    ] {
        text.push_str(&format!(
            "{name} {kind} {private} - n - {limit} {service}\n"
        ));
    }
    text
}

fn postfix_binary() -> PathBuf {
    for candidate in ["/usr/sbin/postfix", "/usr/local/sbin/postfix"] {
        if Path::new(candidate).exists() {
            return PathBuf::from(candidate);
        }
    }
    panic!("Postfix is not installed (no /usr/sbin/postfix); run .ci/install-deps")
}

fn run(cmd: &mut Command) {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    if !out.status.success() {
        panic!(
            "{cmd:?} failed (Postfix tests need root): {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

fn set_mode(path: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(path, fs::Permissions::from_mode(mode)).expect("chmod");
}
