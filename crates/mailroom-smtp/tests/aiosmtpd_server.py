"""aiosmtpd on 127.0.0.1 for mailroom-smtp's interop tests.

Prints "READY <port>" once listening, writes each accepted message as JSON into --spool,
and stops when its standard input closes.
"""
import argparse
import json
import os
import socket
import ssl
import sys

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Handler:
    def __init__(self, spool):
        self.spool = spool
        self.count = 0

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.startswith("reject"):
            return "550 5.1.1 no such user"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.count += 1
        record = {
            "from": envelope.mail_from,
            "to": envelope.rcpt_tos,
            "mail_options": envelope.mail_options,
            "content": envelope.original_content.decode("utf-8", "surrogateescape"),
            "auth": session.authenticated,
        }
        path = os.path.join(self.spool, f"{self.count:04}.json")
        with open(path + ".tmp", "w") as f:
            json.dump(record, f)
        os.rename(path + ".tmp", path)
        return "250 2.0.0 OK queued"


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--cert", required=True)
    p.add_argument("--key", required=True)
    p.add_argument("--mode", choices=["starttls", "implicit"], default="starttls")
    p.add_argument("--spool", required=True)
    p.add_argument("--user", default="alice")
    p.add_argument("--password", default="s3cret")
    a = p.parse_args()

    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(a.cert, a.key)

    def authenticator(server, session, envelope, mechanism, auth_data):
        ok = (
            isinstance(auth_data, LoginPassword)
            and auth_data.login == a.user.encode()
            and auth_data.password == a.password.encode()
        )
        # handled=False: aiosmtpd itself answers 535 on failure.
        return AuthResult(success=ok, handled=False)

    port = free_port()
    kwargs = dict(
        hostname="127.0.0.1",
        port=port,
        authenticator=authenticator,
        auth_require_tls=True,
        enable_SMTPUTF8=True,
        server_hostname="mx.aiosmtpd.test",
        decode_data=False,
    )
    if a.mode == "starttls":
        kwargs.update(tls_context=ctx, require_starttls=True)
    else:
        # aiosmtpd only sees STARTTLS as TLS, so AUTH must be allowed without it here.
        kwargs.update(ssl_context=ctx, auth_require_tls=False)
    controller = Controller(Handler(a.spool), **kwargs)
    controller.start()
    print(f"READY {port}", flush=True)
    sys.stdin.read()
    controller.stop()


if __name__ == "__main__":
    main()
