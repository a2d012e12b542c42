"""An aiosmtpd server for the progress-bar test: no message size limit (the shared capture
server keeps aiosmtpd's 32 MiB default), a delay before answering the final dot, and each
message written to OUTDIR/N.eml with its envelope in OUTDIR/N.json."""

import argparse
import asyncio
import json
import os
import sys
import time

from aiosmtpd.controller import Controller


class Sink:
    def __init__(self, outdir, delay):
        self.outdir = outdir
        self.delay = delay
        self.count = 0

    async def handle_DATA(self, server, session, envelope):
        await asyncio.sleep(self.delay)
        self.count += 1
        base = os.path.join(self.outdir, str(self.count))
        with open(base + ".eml.part", "wb") as f:
            f.write(envelope.original_content)
        os.rename(base + ".eml.part", base + ".eml")
        with open(base + ".json", "w") as f:
            json.dump({"mail_from": envelope.mail_from, "rcpt_tos": envelope.rcpt_tos}, f)
        return "250 OK stored"


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--outdir", required=True)
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--delay-data", type=float, default=0)
    a = p.parse_args()
    controller = Controller(
        Sink(a.outdir, a.delay_data),
        hostname="127.0.0.1",
        port=a.port,
        data_size_limit=None,
    )
    controller.start()
    print("READY", flush=True)
    try:
        sys.stdin.read()
    finally:
        controller.stop()


if __name__ == "__main__":
    main()
