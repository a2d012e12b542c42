"""A private Postfix on 127.0.0.1 for mailroom-smtp's interop tests.

Postfix (smtpd with STARTTLS, SIZE limit, PIPELINING, CHUNKING, DSN, SMTPUTF8) relays
everything to an smtp-sink that writes one file per transaction into DIR/sink.
Prints "READY <port>" once listening; stops everything when standard input closes.
"""
import argparse
import os
import pwd
import shutil
import socket
import subprocess
import sys
import time

POSTFIX = "/usr/sbin/postfix"
SINK = "/usr/sbin/smtp-sink"

MASTER_CF = """\
127.0.0.1:{port} inet n - n - - smtpd
cleanup   unix  n - n - 0 cleanup
qmgr      unix  n - n 300 1 qmgr
rewrite   unix  - - n - - trivial-rewrite
bounce    unix  - - n - 0 bounce
defer     unix  - - n - 0 bounce
trace     unix  - - n - 0 bounce
verify    unix  - - n - 1 verify
flush     unix  n - n 1000? 0 flush
smtp      unix  - - n - - smtp
relay     unix  - - n - - smtp
error     unix  - - n - - error
retry     unix  - - n - - error
discard   unix  - - n - - discard
anvil     unix  - - n - 1 anvil
scache    unix  - - n - 1 scache
postlog   unix-dgram n - n - 1 postlogd
tlsmgr    unix  - - n 1000? 1 tlsmgr
proxymap  unix  - - n - - proxymap
showq     unix  n - n - - showq
"""

MAIN_CF = """\
compatibility_level = 3.6
queue_directory = {d}/queue
data_directory = {d}/data
mail_owner = postfix
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
myhostname = mx.postfix.test
mydestination =
relayhost = [127.0.0.1]:{sink_port}
mynetworks = 127.0.0.0/8
smtpd_relay_restrictions = permit_mynetworks, reject
smtpd_tls_cert_file = {cert}
smtpd_tls_key_file = {key}
smtpd_tls_security_level = may
message_size_limit = {size}
smtputf8_enable = yes
maillog_file = /dev/stdout
alias_maps =
alias_database =
"""


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
    p.add_argument("--size", default="100000")
    a = p.parse_args()
    for binary in (POSTFIX, SINK):
        if not os.path.exists(binary):
            print(f"MISSING {binary} (Debian package postfix)", flush=True)
            sys.exit(2)
    d = os.path.abspath(a.dir)
    conf = os.path.join(d, "conf")
    for sub in ("conf", "queue", "data", "sink"):
        os.makedirs(os.path.join(d, sub), exist_ok=True)
    os.chmod(d, 0o755)
    root = os.geteuid() == 0
    if root:
        pw = pwd.getpwnam("postfix")
        for sub in ("data", "sink"):
            os.chown(os.path.join(d, sub), pw.pw_uid, pw.pw_gid)
    port, sink_port = free_port(), free_port()
    with open(os.path.join(conf, "main.cf"), "w") as f:
        f.write(MAIN_CF.format(d=d, sink_port=sink_port, cert=a.cert, key=a.key, size=a.size))
    with open(os.path.join(conf, "master.cf"), "w") as f:
        f.write(MASTER_CF.format(port=port))
    sink_cmd = [SINK] + (["-u", "postfix"] if root else [])
    sink_cmd += ["-d", os.path.join(d, "sink", "msg"), f"127.0.0.1:{sink_port}", "10"]
    sink = subprocess.Popen(sink_cmd, stdout=subprocess.DEVNULL)
    log = open(os.path.join(d, "postfix.out"), "w")
    master = subprocess.Popen([POSTFIX, "-c", conf, "start-fg"], stdout=log, stderr=log)
    try:
        if not wait_port(port) or not wait_port(sink_port):
            print("FAILED postfix did not start; see postfix.out", flush=True)
            sys.exit(1)
        print(f"READY {port}", flush=True)
        sys.stdin.read()
    finally:
        subprocess.run([POSTFIX, "-c", conf, "stop"], stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)
        try:
            master.wait(timeout=10)
        except subprocess.TimeoutExpired:
            master.kill()
        sink.terminate()
        sink.wait(timeout=5)


if __name__ == "__main__":
    main()
