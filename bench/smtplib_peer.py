"""Python's smtplib as a benchmark peer: SESSIONS processes, each reusing one connection.

Usage: python3 bench/smtplib_peer.py HOST PORT MESSAGES SIZE SESSIONS
Prints `messages=N seconds=S rate=R` like the other senders. Processes, not threads, so that
the sessions are not serialised by the interpreter lock.
"""
import multiprocessing
import smtplib
import sys
import time

LINE = b"0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789abcd\r\n"


def message(size):
    """The same message as mailroom's throughput example: headers, then 78-byte lines."""
    m = bytearray(b"From: bench@example.org\r\nTo: sink@example.org\r\nSubject: throughput\r\n\r\n")
    while len(m) + len(LINE) <= size:
        m += LINE
    m += b"x" * max(0, size - len(m))
    return bytes(m)


def session(args):
    host, port, count, size = args
    body = message(size)
    accepted = 0
    with smtplib.SMTP(host, port, local_hostname="bench.mailroom.test") as smtp:
        for _ in range(count):
            refused = smtp.sendmail("bench@example.org", ["sink@example.org"], body)
            if not refused:
                accepted += 1
    return accepted


def main():
    host, port, messages, size, sessions = sys.argv[1], *map(int, sys.argv[2:6])
    shares = [messages // sessions + (1 if i < messages % sessions else 0) for i in range(sessions)]
    if sessions == 1:
        started = time.monotonic()
        accepted = session((host, port, messages, size))
        seconds = time.monotonic() - started
    else:
        with multiprocessing.Pool(sessions) as pool:
            pool.map(len, [b""] * sessions)  # start the workers before the clock does
            started = time.monotonic()
            accepted = sum(pool.map(session, [(host, port, s, size) for s in shares]))
            seconds = time.monotonic() - started
    print(f"messages={accepted} seconds={seconds:.3f} rate={accepted / seconds:.1f}")


if __name__ == "__main__":
    main()
