//! The test servers themselves start, accept mail over their advertised paths, and stop.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::time::Duration;

use mailroom_testkit::{CaptureOptions, CaptureServer, Postfix, PostfixOptions, TestCerts};

fn chat(port: u16, lines: &[&str]) -> Vec<String> {
    let stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut writer = stream;
    let mut replies = Vec::new();
    let read_reply = |reader: &mut BufReader<TcpStream>| {
        let mut all = String::new();
        loop {
            let mut line = String::new();
            reader.read_line(&mut line).unwrap();
            all.push_str(&line);
            if line.len() < 4 || line.as_bytes()[3] != b'-' {
                return all;
            }
        }
    };
    replies.push(read_reply(&mut reader));
    for line in lines {
        writer.write_all(format!("{line}\r\n").as_bytes()).unwrap();
        replies.push(read_reply(&mut reader));
    }
    replies
}

#[test]
fn capture_server_records_envelope_and_data() {
    let server = CaptureServer::start(&CaptureOptions::default(), None);
    let replies = chat(
        server.port(),
        &[
            "EHLO t",
            "MAIL FROM:<a@example.com>",
            "RCPT TO:<b@example.net>",
            "DATA",
            "hi\r\n.",
            "QUIT",
        ],
    );
    assert!(replies[0].starts_with("220"), "{replies:?}");
    assert!(replies[5].starts_with("250"), "{replies:?}");
    let got = server.wait_for(1, Duration::from_secs(5));
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].mail_from, "a@example.com");
    assert_eq!(got[0].rcpt_tos, vec!["b@example.net"]);
    assert_eq!(got[0].data(), b"hi\r\n");
}

#[test]
fn postfix_offers_starttls_and_relays_to_capture() {
    let certs = TestCerts::generate();
    let postfix = Postfix::start(&PostfixOptions::default(), &certs);
    let replies = chat(
        postfix.port(),
        &[
            "EHLO t",
            "MAIL FROM:<a@example.com>",
            "RCPT TO:<b@example.net>",
            "DATA",
            "Subject: x\r\n\r\nhi\r\n.",
            "QUIT",
        ],
    );
    assert!(replies[1].contains("STARTTLS"), "{replies:?}");
    assert!(
        replies[5].starts_with("250"),
        "{replies:?}\n{}",
        postfix.log()
    );
    let got = postfix.relay().wait_for(1, Duration::from_secs(20));
    assert_eq!(got.len(), 1, "nothing relayed; log:\n{}", postfix.log());
    assert_eq!(got[0].rcpt_tos, vec!["b@example.net"]);
}
