//! A large attachment renders in constant memory: peak RSS grows by far less than its size.

use std::io::{self, Read, Write};
use std::sync::Arc;

use mailroom_mime::{Attachment, Mailbox, Message, RenderOptions, Source};

struct Zeros(u64);

impl Read for Zeros {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = buf.len().min(usize::try_from(self.0).unwrap_or(usize::MAX));
        buf[..n].fill(0xA5);
        self.0 -= n as u64;
        Ok(n)
    }
}

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
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .unwrap();
    line.trim().trim_end_matches("kB").trim().parse().unwrap()
}

#[test]
fn a_64_mib_stream_renders_without_growing_memory() {
    const SIZE: u64 = 64 * 1024 * 1024;
    let before = peak_rss_kib();
    let m = Message {
        from: Some(Mailbox::parse("a@example.org").unwrap()),
        text: Some("big".into()),
        attachments: vec![Attachment {
            file_name: Some("big.bin".into()),
            content_type: "application/octet-stream".into(),
            content_id: None,
            source: Source::Stream { key: "big".into() },
        }],
        ..Message::default()
    };
    let opener = |_: &str| -> io::Result<Box<dyn Read + Send>> { Ok(Box::new(Zeros(SIZE))) };
    let opts = RenderOptions {
        streams: Some(Arc::new(opener)),
        ..RenderOptions::default()
    };
    let mut sink = Count(0);
    let info = m.render(&opts, &mut sink).unwrap();
    assert_eq!(info.bytes, sink.0);
    // 64 MiB become 4/3 as much base64 plus a CRLF per 76 characters.
    assert!(sink.0 > SIZE * 4 / 3);
    let grown = peak_rss_kib().saturating_sub(before);
    assert!(grown < 8 * 1024, "peak RSS grew by {grown} KiB");
}
