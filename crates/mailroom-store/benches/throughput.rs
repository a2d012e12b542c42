//! Store throughput against this machine's own disk, reported as ratios measured in one run.
//!
//! ```text
//! CARGO_TARGET_DIR=/work/target-store cargo bench -p mailroom-store --bench throughput
//! MAILROOM_BENCH_DIR=/some/disk/dir ... (default: the system temporary directory; it must be on
//!                                          the disk to measure, not a tmpfs)
//! MAILROOM_BENCH_STREAM_MIB=1024 ...     (size of the large-stream round trip)
//! MAILROOM_BENCH_BATCHED_ONLY=1 ...       (only the batched phase, for profiling)
//! ```
//!
//! 1. Raw rate: append 2 KiB to a file and fsync it, repeatedly (what one durable commit costs
//!    the disk at least).
//! 2. Durable single enqueues: one Outbox message with a 2 KiB stream and two recipients per
//!    transaction. Target: at least half the raw rate.
//! 3. Batched enqueues: 1,000 such messages per transaction. Target: at least 20,000/s.
//! 4. A large stream (1 GiB by default) written and read back in a child process, which reports
//!    its peak RSS. Target: under 64 MiB.
//!
//! Phases 1 and 2 alternate in eleven short rounds; the reported ratio is the median of the
//! per-round ratios, so that load from other processes on the machine hits both alike.

use std::fs::OpenOptions;
use std::io::Write;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use mailroom_store::{EntryId, NewEntry, RecipientKind, RecipientRecord, SendState, Store};

const MESSAGE: usize = 2048;
/// Raw and enqueue runs alternate in short rounds so that load from other processes on the
/// machine hits both alike; the ratio is the median of the per-round ratios.
const ROUNDS: usize = 11;
const PER_ROUND: usize = 300;

fn raw_fsync_rate(dir: &Path, n: usize) -> f64 {
    let path = dir.join("raw-fsync");
    let mut file = OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .unwrap();
    let block = vec![b'r'; MESSAGE];
    let started = Instant::now();
    for _ in 0..n {
        file.write_all(&block).unwrap();
        file.sync_all().unwrap();
    }
    let rate = n as f64 / started.elapsed().as_secs_f64();
    drop(file);
    std::fs::remove_file(path).unwrap();
    rate
}

fn message(i: usize) -> NewEntry {
    let mut m = NewEntry::message(EntryId::OUTBOX, "smtp", None);
    m.description = format!("benchmark message {i}");
    m.details = "someone@example.com".into();
    m.send_state = Some(SendState::Waiting);
    m.email.message_id = Some(format!("<{i}@bench.example>"));
    m.recipients = vec![
        RecipientRecord::new("someone@example.com", RecipientKind::To),
        RecipientRecord::new("other@example.com", RecipientKind::Cc),
    ];
    m
}

fn single_enqueue_rate(store: &Store, n: usize) -> f64 {
    let body = vec![b'm'; MESSAGE];
    let started = Instant::now();
    for i in 0..n {
        store
            .create(&message(i), &mut [("mime", &mut &body[..])])
            .unwrap();
    }
    n as f64 / started.elapsed().as_secs_f64()
}

fn batched_enqueue_rate(store: &Store, batches: usize, per_batch: usize) -> f64 {
    let body = vec![b'b'; MESSAGE];
    let started = Instant::now();
    for b in 0..batches {
        store
            .batch(|tx| {
                for i in 0..per_batch {
                    tx.create(&message(b * per_batch + i), &mut [("mime", &mut &body[..])])?;
                }
                Ok(())
            })
            .unwrap();
    }
    (batches * per_batch) as f64 / started.elapsed().as_secs_f64()
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return; // `cargo test --benches` asks for the list of benchmarks; there are none to list.
    }
    let tmp = tempfile::tempdir_in(
        std::env::var_os("MAILROOM_BENCH_DIR").unwrap_or(std::env::temp_dir().into()),
    )
    .unwrap();
    let mib: u64 = std::env::var("MAILROOM_BENCH_STREAM_MIB")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1024);
    println!("store benchmark in {}", tmp.path().display());

    let store = Store::open(&tmp.path().join("store")).unwrap();
    if std::env::var_os("MAILROOM_BENCH_BATCHED_ONLY").is_some() {
        println!(
            "batched enqueues: {:.0}/s",
            batched_enqueue_rate(&store, 50, 1000)
        );
        return;
    }
    let (mut raw, mut single, mut ratios) = (Vec::new(), Vec::new(), Vec::new());
    for round in 0..ROUNDS {
        let r = raw_fsync_rate(tmp.path(), PER_ROUND);
        let s = single_enqueue_rate(&store, PER_ROUND);
        println!("  round {round:2}: raw write+fsync {r:6.0}/s, durable enqueue {s:6.0}/s");
        raw.push(r);
        single.push(s);
        ratios.push(s / r);
    }
    let ratio = median(ratios.clone());
    let (raw, single) = (median(raw), median(single));
    let batched = batched_enqueue_rate(&store, 50, 1000);
    drop(store);

    let stream_dir = tmp.path().join("stream");
    let started = Instant::now();
    let out = Command::new(env!("CARGO_BIN_EXE_mailroom-store-harness"))
        .args(["stream", stream_dir.to_str().unwrap(), &mib.to_string()])
        .output()
        .unwrap();
    let stream_time = started.elapsed();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report = String::from_utf8(out.stdout).unwrap();
    let field = |name: &str| -> f64 {
        let mut w = report.split_whitespace();
        w.find(|x| *x == name)
            .and_then(|_| w.next())
            .and_then(|v| v.parse().ok())
            .unwrap()
    };
    let peak_mib = field("peak_rss_kib") / 1024.0;
    let (write_s, read_s) = (field("write_s"), field("read_s"));

    println!();
    println!("durable single enqueues (2 KiB): {single:.0}/s");
    println!("raw write+fsync (2 KiB):         {raw:.0}/s");
    println!(
        "  ratio enqueue/raw (median of rounds): {ratio:.2} (target >= 0.50) {}; spread {:.2}..{:.2}",
        verdict(ratio >= 0.5),
        ratios.iter().copied().fold(f64::INFINITY, f64::min),
        ratios.iter().copied().fold(0.0, f64::max)
    );
    println!(
        "batched enqueues (1,000 per commit): {batched:.0}/s, ratio to 20,000/s: {:.2} {}",
        batched / 20_000.0,
        verdict(batched >= 20_000.0)
    );
    println!(
        "{mib} MiB stream: written {:.0} MiB/s, read back {:.0} MiB/s, total {:.1?}",
        mib as f64 / write_s,
        mib as f64 / read_s,
        Duration::from_secs_f64(stream_time.as_secs_f64())
    );
    println!(
        "  peak RSS {peak_mib:.1} MiB, ratio to 64 MiB: {:.2} {}",
        peak_mib / 64.0,
        verdict(peak_mib < 64.0)
    );
}

fn verdict(ok: bool) -> &'static str {
    if ok { "ok" } else { "MISSED" }
}
