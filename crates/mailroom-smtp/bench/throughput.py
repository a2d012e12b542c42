"""Throughput: mailroom's engine against Postfix's smtp-source, one smtp-sink, same run.

Usage: python3 bench/throughput.py [MESSAGES] [SIZE] [ROUNDS]   (defaults 20000, 2048, 3)
Needs /usr/sbin/smtp-sink and /usr/sbin/smtp-source (Debian package postfix) and a
release build of the `throughput` example (built here with cargo).
"""
import os
import socket
import statistics
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
CRATE = os.path.dirname(HERE)
SINK = "/usr/sbin/smtp-sink"
SOURCE = "/usr/sbin/smtp-source"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port):
    for _ in range(200):
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.05)
    sys.exit("smtp-sink did not start")


def vm_hwm(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def timed(cmd):
    """Runs cmd; returns (seconds, peak RSS in KiB sampled from /proc, stdout)."""
    start = time.monotonic()
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    chunks = []
    reader = threading.Thread(target=lambda: chunks.append(p.stdout.read()))
    reader.start()
    peak = 0
    while p.poll() is None:
        peak = max(peak, vm_hwm(p.pid))
        time.sleep(0.005)
    seconds = time.monotonic() - start
    reader.join()
    out = b"".join(chunks).decode(errors="replace")
    if p.returncode != 0:
        sys.exit(f"{cmd[0]} failed ({p.returncode}): {out}")
    return seconds, peak, out


def main():
    messages = int(sys.argv[1]) if len(sys.argv) > 1 else 20000
    size = int(sys.argv[2]) if len(sys.argv) > 2 else 2048
    rounds = int(sys.argv[3]) if len(sys.argv) > 3 else 3
    for binary in (SINK, SOURCE):
        if not os.path.exists(binary):
            sys.exit(f"{binary} is missing: install the Debian package postfix")
    env = dict(os.environ)
    subprocess.run(["cargo", "build", "--release", "-q", "-p", "mailroom-smtp",
                    "--example", "throughput"], cwd=CRATE, check=True, env=env)
    target = env.get("CARGO_TARGET_DIR", os.path.join(CRATE, "..", "..", "target"))
    engine = os.path.join(target, "release", "examples", "throughput")

    port = free_port()
    sink_cmd = [SINK] + (["-u", "postfix"] if os.geteuid() == 0 else [])
    sink = subprocess.Popen(sink_cmd + [f"127.0.0.1:{port}", "256"])
    try:
        wait_port(port)
        rows = []
        for sessions in (1, 4):
            src = [SOURCE, "-d", "-s", str(sessions), "-m", str(messages), "-l", str(size),
                   "-f", "bench@example.org", "-t", "sink@example.org", f"127.0.0.1:{port}"]
            eng = [engine, "127.0.0.1", str(port), str(messages), str(size), str(sessions)]
            s_rates, m_rates, s_rss, m_rss = [], [], 0, 0
            # Alternate the two clients and take medians: other load on the machine comes
            # and goes, and alternating spreads it over both.
            for _ in range(rounds):
                s_time, rss, _ = timed(src)
                s_rates.append(messages / s_time)
                s_rss = max(s_rss, rss)
                m_time, rss, out = timed(eng)
                if f"messages={messages} " not in out:
                    sys.exit(f"mailroom did not send every message: {out}")
                m_rates.append(messages / m_time)
                m_rss = max(m_rss, rss)
            s_rate, m_rate = statistics.median(s_rates), statistics.median(m_rates)
            rows.append((sessions, s_rate, m_rate, m_rate / s_rate, s_rss, m_rss))
        print(f"{messages} messages of {size} bytes to one smtp-sink on 127.0.0.1, "
              f"median of {rounds} alternating rounds")
        print("sessions  smtp-source msg/s  mailroom msg/s  ratio  peak RSS KiB (source/mailroom)")
        for sessions, s_rate, m_rate, ratio, s_rss, m_rss in rows:
            print(f"{sessions:>8}  {s_rate:>17.0f}  {m_rate:>14.0f}  {ratio:>5.2f}  {s_rss}/{m_rss}")
        worst = min(r[3] for r in rows)
        print(f"worst ratio {worst:.2f} (target 1.5)")
        sys.exit(0 if worst >= 1.5 else 1)
    finally:
        sink.terminate()
        sink.wait()


if __name__ == "__main__":
    main()
