"""Runs every benchmark comparison on 127.0.0.1 and prints one table; called by bench/run.

Environment: BENCH_TARGET (the cargo target directory, built by bench/run), BENCH_ROUNDS
(alternating rounds per throughput figure, default 3), BENCH_MESSAGES (default 20000),
BENCH_SIZE (default 2048), BENCH_NAGLE_MESSAGES (messages for lettre as shipped, default 200),
BENCH_STARTUP_RUNS (default 41), BENCH_ATTACH_MIB (default 1024), BENCH_DIR (scratch directory
on the disk to measure; default: the system temporary directory).
"""
import os
import platform
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
TARGET = os.environ.get("BENCH_TARGET", os.path.join(ROOT, "target"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3"))
MESSAGES = int(os.environ.get("BENCH_MESSAGES", "20000"))
SIZE = int(os.environ.get("BENCH_SIZE", "2048"))
NAGLE_MESSAGES = int(os.environ.get("BENCH_NAGLE_MESSAGES", "200"))
STARTUP_RUNS = int(os.environ.get("BENCH_STARTUP_RUNS", "41"))
ATTACH_MIB = int(os.environ.get("BENCH_ATTACH_MIB", "1024"))

SINK = "/usr/sbin/smtp-sink"
SOURCE = "/usr/sbin/smtp-source"
ENGINE = os.path.join(TARGET, "release", "examples", "throughput")
OUTBOX = os.path.join(TARGET, "release", "examples", "outbox_flush_bench")
MAILROOM = os.path.join(TARGET, "release", "mailroom")
LETTRE = os.path.join(TARGET, "release", "mailroom-bench-peers")
NODELAY = os.path.join(TARGET, "bench", "nodelay.so")

SERVERS = []  # every process started here that listens; stopped in main's finally


class Stop(Exception):
    """Raised by the SIGTERM/SIGHUP handler so that the finally blocks stop the servers."""


def on_signal(signum, _frame):
    raise Stop(f"signal {signum}")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_sink():
    """Starts one smtp-sink on a free loopback port; returns the port."""
    port = free_port()
    cmd = [SINK] + (["-u", "postfix"] if os.geteuid() == 0 else []) + [f"127.0.0.1:{port}", "256"]
    SERVERS.append(subprocess.Popen(cmd, stdout=subprocess.DEVNULL))
    for _ in range(200):
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return port
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("smtp-sink did not start")


def sink_cpu_seconds():
    """User + system CPU seconds the (first) smtp-sink has used so far."""
    with open(f"/proc/{SERVERS[0].pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def stop_servers():
    for p in SERVERS:
        if p.poll() is None:
            p.terminate()
            try:
                p.wait(5)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
    SERVERS.clear()


def run(cmd, env=None):
    """Runs cmd to completion; returns (wall seconds, stdout and stderr, user+system CPU seconds,
    peak RSS in KiB), the last two that child's own (and its reaped children's), from wait4."""
    started = time.perf_counter()
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env)
    out = p.stdout.read()
    _, status, usage = os.wait4(p.pid, 0)
    seconds = time.perf_counter() - started
    p.returncode = os.waitstatus_to_exitcode(status)
    p.stdout.close()
    out = out.decode(errors="replace")
    if p.returncode != 0:
        raise RuntimeError(f"{cmd[0]} failed ({p.returncode}): {out}")
    return seconds, out, usage.ru_utime + usage.ru_stime, usage.ru_maxrss


def field(text, name):
    m = re.search(rf"{name}=([0-9.]+)", text)
    if not m:
        raise RuntimeError(f"no {name}= in {text!r}")
    return float(m.group(1))


class LoadSampler(threading.Thread):
    """Samples the 1-minute load average every second while the figures run."""

    def __init__(self):
        super().__init__(daemon=True)
        self.samples, self.done = [], threading.Event()

    def run(self):
        while not self.done.wait(1.0):
            self.samples.append(os.getloadavg()[0])


# --- the figures -------------------------------------------------------------------------


def senders(port, messages, sessions):
    """The throughput clients, each a command that sends `messages` and its expected count."""
    addr = ["127.0.0.1", str(port)]
    nodelay_env = dict(os.environ, LD_PRELOAD=NODELAY)
    return {
        "mailroom": ([ENGINE, *addr, str(messages), str(SIZE), str(sessions)], None),
        "smtp-source -d": (
            [SOURCE, "-d", "-s", str(sessions), "-m", str(messages), "-l", str(SIZE),
             "-f", "bench@example.org", "-t", "sink@example.org", f"127.0.0.1:{port}"],
            None,
        ),
        "lettre TCP_NODELAY": (
            [LETTRE, "throughput", *addr, str(messages), str(SIZE), str(sessions)], nodelay_env,
        ),
        "python smtplib": (
            [sys.executable, os.path.join(HERE, "smtplib_peer.py"), *addr, str(messages),
             str(SIZE), str(sessions)],
            None,
        ),
    }


def engine_figure(port):
    """Figure 1: for 1 and 4 sessions, each client's median rate, the median of the per-round
    ratios mailroom/peer (the clients run back to back in each round, in an order that rotates
    from round to round, so that load from elsewhere on the machine hits them alike), and each
    client's median CPU time per message."""
    results = {}
    for sessions in (1, 4):
        rates, cpu, ratios, sink = {}, {}, {}, {}
        for r in range(ROUNDS):
            clients = list(senders(port, MESSAGES, sessions).items())
            clients = clients[r % len(clients):] + clients[: r % len(clients)]
            round_rates = {}
            for name, (cmd, env) in clients:
                sink_before = sink_cpu_seconds()
                seconds, out, cpu_seconds, _ = run(cmd, env)
                sink.setdefault(name, []).append((sink_cpu_seconds() - sink_before) / seconds)
                if name != "smtp-source -d" and field(out, "messages") != MESSAGES:
                    raise RuntimeError(f"{name} did not send every message: {out}")
                round_rates[name] = MESSAGES / seconds
                rates.setdefault(name, []).append(MESSAGES / seconds)
                cpu.setdefault(name, []).append(cpu_seconds / MESSAGES * 1e6)
            for name, rate in round_rates.items():
                ratios.setdefault(name, []).append(round_rates["mailroom"] / rate)
        # lettre as shipped stalls on Nagle's algorithm: a smaller count, one round.
        cmd = [LETTRE, "throughput", "127.0.0.1", str(port), str(NAGLE_MESSAGES), str(SIZE),
               str(sessions)]
        seconds, out, cpu_seconds, _ = run(cmd)
        rates["lettre as shipped"] = [NAGLE_MESSAGES / seconds]
        cpu["lettre as shipped"] = [cpu_seconds / NAGLE_MESSAGES * 1e6]
        ratios["lettre as shipped"] = [statistics.median(rates["mailroom"]) * seconds
                                       / NAGLE_MESSAGES]
        results[sessions] = {
            name: (statistics.median(r), statistics.median(ratios[name]),
                   statistics.median(cpu[name]),
                   statistics.median(sink[name]) if name in sink else None)
            for name, r in rates.items()
        }
    return results


def end_to_end_figure(port, scratch):
    """Figure 2: the same load filled into an Outbox beforehand, then flushed with its records,
    over 1 and 4 connections (`connections_per_server`). Each round flushes a fresh copy and
    runs the peers with the same number of sessions next to it; ratios are medians of the
    per-round ratios."""
    template = os.path.join(scratch, "outbox-template")
    fill_seconds, out, _, _ = run([OUTBOX, "fill", template, str(MESSAGES), str(SIZE)])
    results = {}
    for sessions in (1, 4):
        rates, ratios, peer_rates = [], {}, {}
        peers = {k: v for k, v in senders(port, MESSAGES, sessions).items() if k != "mailroom"}
        for i in range(ROUNDS):
            store = os.path.join(scratch, f"outbox-{sessions}-{i}")
            shutil.copytree(template, store)
            seconds, out, _, _ = run([OUTBOX, "flush", store, f"127.0.0.1:{port}", str(sessions)])
            if int(field(out, "sent")) != MESSAGES:
                raise RuntimeError(f"the flush did not send every message: {out}")
            rates.append(MESSAGES / seconds)
            shutil.rmtree(store)
            for name, (cmd, env) in peers.items():
                peer_seconds, _, _, _ = run(cmd, env)
                ratios.setdefault(name, []).append(peer_seconds / seconds)
                peer_rates.setdefault(name, []).append(MESSAGES / peer_seconds)
        results[sessions] = (statistics.median(rates),
                             {k: (statistics.median(peer_rates[k]), statistics.median(v))
                              for k, v in ratios.items()})
    return results, MESSAGES / fill_seconds


def memory_figure(port, scratch):
    """Figure 3: peak RSS sending one message with a 1 GiB attachment."""
    big = os.path.join(scratch, "big.bin")
    chunk = os.urandom(1 << 20)
    with open(big, "wb") as f:
        for i in range(ATTACH_MIB):
            f.write(chunk[i % 7:] + chunk[: i % 7])
    store = os.path.join(scratch, "attach-store")
    m_seconds, _, _, m_rss = run([
        MAILROOM, "send", "--store", store, "--server", f"smtp://127.0.0.1:{port}",
        "--tls", "none", "--from", "bench@example.org", "--to", "sink@example.org",
        "--subject", "One big attachment", "--body", "See the attachment.", "--attach", big,
    ])
    shutil.rmtree(store)
    l_seconds, _, _, l_rss = run([LETTRE, "attach", "127.0.0.1", str(port), big])
    os.remove(big)
    return (m_rss, m_seconds), (l_rss, l_seconds)


def store_figure(scratch):
    """Figure 4: the store crate's own benchmark, run here so that it shares this machine."""
    env = dict(os.environ, MAILROOM_BENCH_DIR=scratch, MAILROOM_BENCH_STREAM_MIB="256",
               CARGO_TARGET_DIR=TARGET)
    _, out, _, _ = run(["cargo", "bench", "-q", "-p", "mailroom-store", "--bench", "throughput"], env)

    def num(pattern):
        m = re.search(pattern, out)
        if not m:
            raise RuntimeError(f"store benchmark output lacks {pattern!r}:\n{out}")
        return float(m.group(1))

    return {
        "single": num(r"durable single enqueues \(2 KiB\): ([0-9.]+)/s"),
        "raw": num(r"raw write\+fsync \(2 KiB\): +([0-9.]+)/s"),
        "ratio": num(r"ratio enqueue/raw \(median of rounds\): ([0-9.]+)"),
        "batched": num(r"batched enqueues \(1,000 per commit\): ([0-9.]+)/s"),
    }


def startup_figure(scratch):
    """Figure 5: median wall time of one process, alternating the three commands."""
    store = os.path.join(scratch, "startup-store")
    cmds = {
        "/bin/true": ["/bin/true"],
        "msmtp --version": ["msmtp", "--version"],
        "mailroom send --when on-request": [
            MAILROOM, "send", "--store", store, "--when", "on-request", "--server",
            "smtp://127.0.0.1:25", "--tls", "none", "--from", "bench@example.org",
            "--to", "sink@example.org", "--subject", "start-up", "--body", "start-up",
        ],
    }
    run(cmds["mailroom send --when on-request"])  # creates the store: not part of the figure
    times = {name: [] for name in cmds}
    for _ in range(STARTUP_RUNS):
        for name, cmd in cmds.items():
            seconds, _, _, _ = run(cmd)
            times[name].append(seconds)
    shutil.rmtree(store)
    return {name: statistics.median(t) for name, t in times.items()}


# --- the table ---------------------------------------------------------------------------


def verdict(ok):
    return "met" if ok else "MISSED"


def machine():
    with open("/proc/meminfo") as f:
        mem_kib = int(f.readline().split()[1])
    return (f"{os.cpu_count()} CPUs (nproc {len(os.sched_getaffinity(0))}), "
            f"{mem_kib / 1024 / 1024:.1f} GiB memory, Linux {platform.release()}")


def main():
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGHUP, on_signal)
    for binary in (SINK, SOURCE, ENGINE, OUTBOX, MAILROOM, LETTRE, NODELAY):
        if not os.path.exists(binary):
            sys.exit(f"{binary} is missing: run bench/run, which installs and builds it")
    scratch = tempfile.mkdtemp(prefix="mailroom-bench-", dir=os.environ.get("BENCH_DIR"))
    sampler = LoadSampler()
    sampler.start()
    load_start = os.getloadavg()
    started = time.monotonic()
    try:
        port = start_sink()
        step = lambda what: print(f"[{time.monotonic() - started:5.0f} s] {what}", file=sys.stderr)
        step("engine throughput")
        engine = engine_figure(port)
        step("end-to-end through the Outbox")
        e2e, fill_rate = end_to_end_figure(port, scratch)
        step("1 GiB attachment")
        (m_rss, m_secs), (l_rss, l_secs) = memory_figure(port, scratch)
        step("store")
        store = store_figure(scratch)
        step("start-up")
        startup = startup_figure(scratch)
    finally:
        stop_servers()
        sampler.done.set()
        shutil.rmtree(scratch, ignore_errors=True)
    elapsed = time.monotonic() - started
    load = sampler.samples or [os.getloadavg()[0]]

    rows = []
    add = lambda *cells: rows.append(cells)
    add("figure", "mailroom", "peer", "peer's figure", "ratio", "target", "verdict")
    for sessions, r in engine.items():
        m = r["mailroom"][0]
        for peer, target in (("smtp-source -d", 1.5), ("lettre TCP_NODELAY", 2.0),
                             ("lettre as shipped", None), ("python smtplib", None)):
            rate, ratio, _, _ = r[peer]
            add(f"1. engine, {sessions} session{'s' if sessions > 1 else ''} (msg/s)",
                f"{m:,.0f}", peer, f"{rate:,.0f}", f"{ratio:.2f}",
                f">= {target}" if target else "", verdict(ratio >= target) if target else "")
    for sessions, (rate_m, e2e_ratios) in e2e.items():
        label = f"2. end-to-end, Outbox + records, {sessions} session{'s' if sessions > 1 else ''} (msg/s)"
        for peer, target in (("smtp-source -d", 0.8), ("lettre TCP_NODELAY", None),
                             ("python smtplib", None)):
            rate, ratio = e2e_ratios[peer]
            add(label, f"{rate_m:,.0f}", f"{peer}, {sessions} session{'s' if sessions > 1 else ''}",
                f"{rate:,.0f}", f"{ratio:.2f}",
                f">= {target}" if target else "", verdict(ratio >= target) if target else "")
    add(f"3. peak RSS, one message with a {ATTACH_MIB} MiB attachment (MiB)",
        f"{m_rss / 1024:,.1f}", "lettre", f"{l_rss / 1024:,.1f}", f"{m_rss / l_rss:.3f}",
        "< 64 MiB", verdict(m_rss < 64 * 1024))
    add("4. durable single enqueues, 2 KiB (per s)", f"{store['single']:,.0f}",
        "write+fsync of 2 KiB", f"{store['raw']:,.0f}", f"{store['ratio']:.2f}", ">= 0.5",
        verdict(store["ratio"] >= 0.5))
    add("4. batched enqueues, 1,000 per commit (per s)", f"{store['batched']:,.0f}",
        "write+fsync of 2 KiB", f"{store['raw']:,.0f}", f"{store['batched'] / store['raw']:.1f}",
        "", "")
    floor = startup["/bin/true"]
    for peer in ("/bin/true", "msmtp --version"):
        ms = startup["mailroom send --when on-request"] * 1000
        add("5. start-up, `mailroom send --when on-request` (ms)", f"{ms:.2f}", peer,
            f"{startup[peer] * 1000:.2f}", f"{ms / (startup[peer] * 1000):.1f}", "", "")

    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    print()
    print(f"mailroom benchmarks, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}")
    print(f"machine: {machine()}")
    print(f"load average (1 min) during the run: start {load_start[0]:.2f}, "
          f"min {min(load):.2f}, mean {statistics.mean(load):.2f}, max {max(load):.2f}")
    print(f"throughput: {MESSAGES} messages of {SIZE} bytes into one smtp-sink on 127.0.0.1, "
          f"median of {ROUNDS} alternating rounds (lettre as shipped: {NAGLE_MESSAGES} "
          f"messages, one round); wall time of each client process")
    print(f"end-to-end: the Outbox filled with the same {MESSAGES} messages beforehand "
          f"({fill_rate:,.0f} durable enqueues/s, not timed), then flushed with records")
    print(f"1 GiB attachment: mailroom {m_secs:.1f} s, lettre {l_secs:.1f} s; "
          f"start-up: median of {STARTUP_RUNS} runs each")
    print()
    for i, row in enumerate(rows):
        print("  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip())
        if i == 0:
            print("  ".join("-" * w for w in widths))
    print()
    print("engine CPU time per message (user + system, median of rounds), microseconds:")
    for sessions, r in engine.items():
        print(f"  {sessions} session{'s' if sessions > 1 else ' '}: " + ", ".join(
            f"{name} {cpu:.0f}" for name, (_, _, cpu, _) in r.items()))
    print("smtp-sink's CPU use while each client ran (share of one core, median of rounds):")
    for sessions, r in engine.items():
        print(f"  {sessions} session{'s' if sessions > 1 else ' '}: " + ", ".join(
            f"{name} {busy:.0%}" for name, (_, _, _, busy) in r.items() if busy is not None))
    print("ratios: median of the per-round ratios (each round runs the clients back to back)")
    print()
    print(f"figures took {elapsed:.0f} s")
    if any(row[6] == "MISSED" for row in rows[1:]):
        print("missed: " + "; ".join(f"{r[0]} vs {r[2]}" for r in rows[1:] if r[6] == "MISSED"))


if __name__ == "__main__":
    try:
        main()
    except (KeyboardInterrupt, Stop) as e:
        stop_servers()
        sys.exit(f"interrupted ({e or 'Ctrl-C'}); every server started here is stopped")
