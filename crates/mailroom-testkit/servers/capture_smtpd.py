"""A real aiosmtpd server for mailroom's integration tests.

Listens on 127.0.0.1 (port 0 by default), prints "PORT <n>" on stdout once it accepts connections,
and writes every message it accepts to OUTDIR as one JSON file (envelope and base64 data), written
to a temporary name and renamed so readers never see half a file. It stops when its standard input
closes, so it never outlives the test that started it.
"""

import argparse
import asyncio
import base64
import json
import os
import ssl
import sys
import threading

from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword


class Limited(SMTP):
    """Answers 421 at once to connections beyond `limit` open at a time (0: no limit)."""

    limit = 0
    active = 0

    def connection_made(self, transport):
        self.refused = Limited.limit and Limited.active >= Limited.limit
        if self.refused:
            transport.write(b"421 4.7.0 too many connections to the test server\r\n")
            transport.close()
            return
        Limited.active += 1
        super().connection_made(transport)

    def connection_lost(self, exc):
        if self.refused:
            return
        Limited.active -= 1
        super().connection_lost(exc)


class Capture:
    def __init__(self, outdir, reject, defer, fail_data, drop_after_data, delay_data,
                 drop_after_message=0, pipelining=False):
        self.outdir = outdir
        self.reject = {a.lower() for a in reject}
        self.defer = {a.lower() for a in defer}
        self.fail_data = fail_data
        self.drop_after_data = drop_after_data
        self.delay_data = delay_data
        self.drop_after_message = drop_after_message
        self.pipelining = pipelining
        self.seq = 0

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        session.host_name = hostname
        if self.pipelining:
            # aiosmtpd reads pipelined commands in order; it just does not say so.
            responses.insert(1, "250-PIPELINING")
        return responses

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.lower() in self.reject:
            return "550 5.1.1 <%s>: recipient refused by test server" % address
        if address.lower() in self.defer:
            return "450 4.2.1 <%s>: recipient deferred by test server" % address
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.append(rcpt_options)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.fail_data > 0:
            self.fail_data -= 1
            return "451 4.3.0 temporary failure injected by test server"
        if self.delay_data:
            await asyncio.sleep(self.delay_data)
        self.seq += 1
        record = {
            "mail_from": envelope.mail_from,
            "mail_options": envelope.mail_options,
            "rcpt_tos": envelope.rcpt_tos,
            "rcpt_options": envelope.rcpt_options,
            "data": base64.b64encode(envelope.original_content or envelope.content).decode(),
            "peer_port": session.peer[1] if session.peer else None,
            "tls": session.ssl is not None
            or server.transport.get_extra_info("ssl_object") is not None,
            "authenticated": bool(session.authenticated),
            "login": session.auth_data.login.decode() if isinstance(session.auth_data, LoginPassword) else None,
        }
        name = os.path.join(self.outdir, "%06d.json" % self.seq)
        with open(name + ".tmp", "w") as f:
            json.dump(record, f)
        os.rename(name + ".tmp", name)
        if self.drop_after_data or self.seq == self.drop_after_message:
            # The message is taken, but the link drops before the reply: the client cannot
            # know whether it was delivered.
            server.transport.abort()
            return None
        return "250 2.0.0 OK queued as %06d" % self.seq


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--outdir", required=True)
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--mode", choices=["plain", "starttls", "implicit"], default="plain")
    p.add_argument("--cert")
    p.add_argument("--key")
    p.add_argument("--require-starttls", action="store_true")
    p.add_argument("--auth", help="USER:PASSWORD accepted by AUTH PLAIN and LOGIN")
    p.add_argument("--smtputf8", action="store_true")
    p.add_argument("--reject", action="append", default=[], help="recipient refused with 550")
    p.add_argument("--defer", action="append", default=[], help="recipient deferred with 450")
    p.add_argument("--fail-data", type=int, default=0, help="answer 451 after the first N messages' data")
    p.add_argument("--drop-after-data", action="store_true", help="close without a reply after data")
    p.add_argument("--delay-data", type=float, default=0, help="seconds to wait before answering data")
    p.add_argument("--drop-after-message", type=int, default=0,
                   help="close without a reply after the data of message N only")
    p.add_argument("--pipelining", action="store_true", help="advertise PIPELINING")
    p.add_argument("--max-connections", type=int, default=0,
                   help="answer 421 to connections beyond N open at once")
    args = p.parse_args()

    context = None
    if args.mode != "plain":
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(args.cert, args.key)

    def authenticator(server, session, envelope, mechanism, auth_data):
        if not args.auth or not isinstance(auth_data, LoginPassword):
            return AuthResult(success=False, handled=False)
        user, _, password = args.auth.partition(":")
        ok = auth_data.login.decode() == user and auth_data.password.decode() == password
        return AuthResult(success=ok, handled=False, auth_data=auth_data)

    handler = Capture(
        args.outdir, args.reject, args.defer, args.fail_data, args.drop_after_data, args.delay_data,
        args.drop_after_message, args.pipelining,
    )

    Limited.limit = args.max_connections

    def factory():
        return Limited(
            handler,
            hostname="capture.test",
            enable_SMTPUTF8=args.smtputf8,
            tls_context=context if args.mode == "starttls" else None,
            require_starttls=args.require_starttls,
            authenticator=authenticator if args.auth else None,
            # aiosmtpd only counts STARTTLS as TLS; an implicit-TLS session is already secure.
            auth_require_tls=args.mode == "starttls",
            auth_exclude_mechanism=[],
        )

    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    server = loop.run_until_complete(
        loop.create_server(
            factory,
            host="127.0.0.1",
            port=args.port,
            ssl=context if args.mode == "implicit" else None,
        )
    )
    port = server.sockets[0].getsockname()[1]
    print("PORT %d" % port, flush=True)

    def watch_stdin():
        sys.stdin.read()
        loop.call_soon_threadsafe(loop.stop)

    threading.Thread(target=watch_stdin, daemon=True).start()
    loop.run_forever()


if __name__ == "__main__":
    main()
