"""A private Exim on 127.0.0.1 for mailroom-smtp's interop tests.

AUTH PLAIN and LOGIN (user alice, password s3cret) are offered only after STARTTLS;
accepted messages stay queued. Prints "READY <port>" once listening and stops when its
standard input closes. The binary: $MAILROOM_EXIM, exim4 or exim on PATH, or
/opt/mailroom-exim/usr/sbin/exim4 (see install_exim.sh).
"""
import argparse
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import time

CONFIG = r"""
primary_hostname = mx.exim.test
daemon_smtp_ports = {port}
local_interfaces = 127.0.0.1
spool_directory = {d}/spool
log_file_path = {d}/log/%slog
pid_file_path = {d}/exim.pid
queue_only = true
tls_advertise_hosts = *
tls_certificate = {cert}
tls_privatekey = {key}
auth_advertise_hosts = ${{if eq{{$tls_in_cipher}}{{}}{{}}{{*}}}}
acl_smtp_rcpt = acl_check_rcpt
begin acl
acl_check_rcpt:
  deny !authenticated = *
  accept
begin routers
drop:
  driver = redirect
  data = :blackhole:
begin transports
begin authenticators
plain:
  driver = plaintext
  public_name = PLAIN
  server_prompts = :
  server_condition = ${{if and {{{{eq{{$auth2}}{{alice}}}}{{eq{{$auth3}}{{s3cret}}}}}}}}
  server_set_id = $auth2
login:
  driver = plaintext
  public_name = LOGIN
  server_prompts = <| Username: | Password:
  server_condition = ${{if and {{{{eq{{$auth1}}{{alice}}}}{{eq{{$auth2}}{{s3cret}}}}}}}}
  server_set_id = $auth1
"""


def find_exim():
    candidates = [os.environ.get("MAILROOM_EXIM"), shutil.which("exim4"), shutil.which("exim"),
                  "/opt/mailroom-exim/usr/sbin/exim4"]
    for c in candidates:
        if c and os.path.exists(c):
            return c
    return None


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port, seconds=20):
    end = time.time() + seconds
    while time.time() < end:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return True
        except OSError:
            time.sleep(0.1)
    return False


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--dir", required=True)
    p.add_argument("--cert", required=True)
    p.add_argument("--key", required=True)
    a = p.parse_args()
    exim = find_exim()
    if exim is None:
        print("MISSING exim (run crates/mailroom-smtp/tests/install_exim.sh as root)", flush=True)
        sys.exit(2)
    d = os.path.abspath(a.dir)
    for sub in ("spool", "log"):
        os.makedirs(os.path.join(d, sub), exist_ok=True)
    os.chmod(d, 0o755)
    if os.geteuid() == 0:
        pw = pwd.getpwnam("Debian-exim")
        for root, dirs, files in os.walk(d):
            for name in dirs + files:
                os.chown(os.path.join(root, name), pw.pw_uid, pw.pw_gid)
        os.chown(d, pw.pw_uid, pw.pw_gid)
    port = free_port()
    conf = os.path.join(d, "exim.conf")
    with open(conf, "w") as f:
        f.write(CONFIG.format(port=port, d=d, cert=a.cert, key=a.key))
    out = open(os.path.join(d, "exim.out"), "w")
    daemon = subprocess.Popen([exim, "-C", conf, "-bdf"], stdout=out, stderr=out, cwd=d)
    try:
        if not wait_port(port):
            print("FAILED exim did not start; see exim.out", flush=True)
            sys.exit(1)
        print(f"READY {port}", flush=True)
        sys.stdin.read()
    finally:
        daemon.send_signal(signal.SIGTERM)
        try:
            daemon.wait(timeout=10)
        except subprocess.TimeoutExpired:
            daemon.kill()


if __name__ == "__main__":
    main()
