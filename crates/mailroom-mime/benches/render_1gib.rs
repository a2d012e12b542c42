//! Benchmark: render a message with a 1 GiB attachment read from a stream, in constant memory.
//!
//! Run with `cargo bench -p mailroom-mime --bench render_1gib`. Prints base64 rendering
//! throughput beside a plain copy of the same bytes, and the process's peak RSS; exits with an
//! error when the peak passes 32 MiB. `MAILROOM_BENCH_MIB` changes the attachment size.

use std::io::{self, Read, Write};
use std::sync::Arc;
use std::time::Instant;

use mailroom_mime::{Attachment, Mailbox, Message, RenderOptions, Source};

/// Pseudo-random bytes (xorshift), generated on the fly: no file, no buffer of the whole.
struct Noise {
    left: u64,
    state: u64,
}

impl Noise {
    fn new(len: u64) -> Noise {
        Noise {
            left: len,
            state: 0x9E37_79B9_7F4A_7C15,
        }
    }
}

impl Read for Noise {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = buf
            .len()
            .min(usize::try_from(self.left).unwrap_or(usize::MAX));
        for chunk in buf[..n].chunks_mut(8) {
            self.state ^= self.state << 13;
            self.state ^= self.state >> 7;
            self.state ^= self.state << 17;
            chunk.copy_from_slice(&self.state.to_le_bytes()[..chunk.len()]);
        }
        self.left -= n as u64;
        Ok(n)
    }
}

/// A sink that counts what it is given.
#[derive(Default)]
struct Count(u64);

impl Write for Count {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0 += buf.len() as u64;
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
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

fn mb_per_s(bytes: u64, secs: f64) -> f64 {
    bytes as f64 / 1e6 / secs
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mib: u64 = std::env::var("MAILROOM_BENCH_MIB")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1024);
    let size = mib * 1024 * 1024;

    let start = Instant::now();
    let copied = io::copy(&mut Noise::new(size), &mut Count::default())?;
    let copy_secs = start.elapsed().as_secs_f64();

    let message = Message {
        from: Some(Mailbox::parse("Bench <bench@example.org>")?),
        to: vec![Mailbox::parse("sink@example.net")?],
        subject: Some("One big attachment".into()),
        text: Some("See the attachment.".into()),
        attachments: vec![Attachment {
            file_name: Some("big.bin".into()),
            content_type: "application/octet-stream".into(),
            content_id: None,
            source: Source::Stream { key: "big".into() },
        }],
        ..Message::default()
    };
    let opener =
        move |_: &str| -> io::Result<Box<dyn Read + Send>> { Ok(Box::new(Noise::new(size))) };
    let opts = RenderOptions {
        streams: Some(Arc::new(opener)),
        ..RenderOptions::default()
    };
    let mut sink = Count::default();
    let start = Instant::now();
    let info = message.render(&opts, &mut sink)?;
    let render_secs = start.elapsed().as_secs_f64();
    let peak = peak_rss_kib();

    println!("attachment: {mib} MiB ({size} bytes)");
    println!(
        "plain copy:       {:>8.1} MB/s  ({copied} bytes in {copy_secs:.2} s)",
        mb_per_s(copied, copy_secs)
    );
    println!(
        "base64 rendering: {:>8.1} MB/s of input, {:.1} MB/s of output  ({} bytes out in {render_secs:.2} s)",
        mb_per_s(size, render_secs),
        mb_per_s(info.bytes, render_secs),
        info.bytes
    );
    println!("peak RSS: {:.1} MiB", peak as f64 / 1024.0);
    if peak > 32 * 1024 {
        return Err(format!("peak RSS {peak} KiB is over 32 MiB").into());
    }
    Ok(())
}
