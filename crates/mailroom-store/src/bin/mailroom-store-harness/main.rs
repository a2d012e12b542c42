//! A child process for the store's crash, concurrency and memory tests (not a user tool).
//!
//! ```text
//! mailroom-store-harness enqueue DIR START COUNT
//!     creates COUNT Outbox messages numbered from START; prints "ack SEQ ID" after each commit
//! mailroom-store-harness claim DIR OWNER LEASE_MS BATCH WORK_US
//!     waits for a line on stdin, then claims and finishes Outbox messages until none is left;
//!     prints "claim ID NOW_US EXPIRES_US" and "finish ID ok|lost"
//! mailroom-store-harness stream DIR MIB
//!     stores a MIB-mebibyte stream, reads it back and checks it, then prints its peak memory
//! mailroom-store-harness default-dir
//!     prints the default store directory
//! ```
#![forbid(unsafe_code)]

mod payload;

use std::io::{BufRead, Read, Write};
use std::path::Path;
use std::process::ExitCode;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use mailroom_store::{
    Claim, EntryId, EntryKind, Filter, NewEntry, RecipientKind, RecipientRecord, SendState, Store,
    StoreError,
};

fn micros(t: SystemTime) -> u128 {
    t.duration_since(UNIX_EPOCH)
        .map(|d| d.as_micros())
        .unwrap_or(0)
}

fn arg<T: std::str::FromStr>(args: &[String], i: usize) -> Result<T, String> {
    args.get(i)
        .and_then(|a| a.parse().ok())
        .ok_or_else(|| format!("argument {i} missing or bad"))
}

fn enqueue(dir: &Path, start: u64, count: u64) -> Result<(), Box<dyn std::error::Error>> {
    let store = Store::open(dir)?;
    let mut out = std::io::stdout().lock();
    for seq in start..start + count {
        let mut m = NewEntry::message(EntryId::OUTBOX, "smtp", None);
        m.description = payload::subject(seq);
        m.details = format!("rcpt{seq}@example.com");
        m.send_state = Some(SendState::Waiting);
        m.email.message_id = Some(format!("<{seq}@crash.test>"));
        m.recipients = vec![
            RecipientRecord::new(format!("rcpt{seq}@example.com"), RecipientKind::To),
            RecipientRecord::new("copy@example.com", RecipientKind::Bcc),
        ];
        let mut body = payload::Body::new(seq, payload::body_len(seq));
        let id = store.create(&m, &mut [("mime", &mut body)])?;
        writeln!(out, "ack {seq} {id}")?;
        out.flush()?;
    }
    Ok(())
}

fn claim(
    dir: &Path,
    owner: &str,
    lease: Duration,
    batch: usize,
    work: Duration,
) -> Result<(), Box<dyn std::error::Error>> {
    let store = Store::open(dir)?;
    let mut go = String::new();
    std::io::stdin().lock().read_line(&mut go)?;
    let mut out = std::io::stdout().lock();
    let states = [SendState::Waiting];
    loop {
        let now = SystemTime::now();
        let claimed = store.claim(&Claim {
            folder: EntryId::OUTBOX,
            service: None,
            states: &states,
            now,
            owner,
            lease,
            limit: batch,
            ids: None,
            due_before: None,
        })?;
        if claimed.is_empty() {
            let left = store.children(EntryId::OUTBOX, &Filter::all().kind(EntryKind::Message))?;
            if left.is_empty() {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(2));
            continue;
        }
        for e in &claimed {
            let expires = e.lease.as_ref().map_or(0, |l| micros(l.expires));
            writeln!(out, "claim {} {} {}", e.id, micros(now), expires)?;
        }
        out.flush()?;
        for mut e in claimed {
            std::thread::sleep(work);
            e.send_state = Some(SendState::Sent);
            let outcome = match store.finish(&e, owner, Some(EntryId::SENT)) {
                Ok(()) => "ok",
                Err(StoreError::LeaseLost { .. }) => "lost",
                Err(err) => return Err(err.into()),
            };
            writeln!(out, "finish {} {outcome}", e.id)?;
        }
        out.flush()?;
    }
}

fn peak_rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

fn stream(dir: &Path, mib: u64) -> Result<(), Box<dyn std::error::Error>> {
    let store = Store::open(dir)?;
    let len = mib << 20;
    let id = store.create(&NewEntry::message(EntryId::DRAFTS, "smtp", None), &mut [])?;
    let started = Instant::now();
    let written = store.write_stream(id, "attachment", &mut payload::Body::new(7, len))?;
    let write_s = started.elapsed().as_secs_f64();
    if written != len {
        return Err(format!("wrote {written} of {len} bytes").into());
    }
    let started = Instant::now();
    let mut reader = store.open_stream(id, "attachment")?;
    let mut buf = vec![0u8; 256 * 1024];
    let mut pos = 0u64;
    loop {
        let n = reader.read(&mut buf)?;
        if n == 0 {
            break;
        }
        if let Some(k) = (0..n).find(|&k| buf[k] != payload::body_byte(7, pos + k as u64)) {
            return Err(format!("byte {} differs", pos + k as u64).into());
        }
        pos += n as u64;
    }
    let read_s = started.elapsed().as_secs_f64();
    if pos != len {
        return Err(format!("read {pos} of {len} bytes").into());
    }
    println!(
        "bytes {len} write_s {write_s:.3} read_s {read_s:.3} peak_rss_kib {}",
        peak_rss_kib()
    );
    Ok(())
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    let dir = Path::new(args.get(2).map_or("", String::as_str));
    let result = match args.get(1).map(String::as_str) {
        Some("enqueue") => arg(&args, 3)
            .and_then(|s| Ok((s, arg(&args, 4)?)))
            .map_err(Into::into)
            .and_then(|(start, count)| enqueue(dir, start, count)),
        Some("claim") => (|| {
            let owner: String = arg(&args, 3)?;
            let lease = Duration::from_millis(arg(&args, 4)?);
            let work = Duration::from_micros(arg(&args, 6)?);
            Ok::<_, String>((owner, lease, arg(&args, 5)?, work))
        })()
        .map_err(Into::into)
        .and_then(|(owner, lease, batch, work)| claim(dir, &owner, lease, batch, work)),
        Some("stream") => arg(&args, 3)
            .map_err(Into::into)
            .and_then(|mib| stream(dir, mib)),
        Some("default-dir") => Store::default_dir()
            .map(|d| println!("{}", d.display()))
            .map_err(Into::into),
        _ => Err("usage: mailroom-store-harness enqueue|claim|stream|default-dir DIR ...".into()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("mailroom-store-harness: {e}");
            let mut source = e.source();
            while let Some(s) = source {
                eprintln!("  caused by: {s}");
                source = s.source();
            }
            ExitCode::FAILURE
        }
    }
}
