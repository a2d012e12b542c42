//! Compile-time checks of the public API the MTM layer relies on.

use mailroom_smtp::{ClientConfig, Delivery, Envelope, Error, Outgoing, Session};

fn assert_send<T: Send>(_: &T) {}
fn assert_send_sync<T: Send + Sync>() {}

#[test]
fn session_and_its_futures_can_move_between_threads() {
    assert_send_sync::<ClientConfig>();
    assert_send_sync::<Error>();
    assert_send_sync::<Delivery>();
    assert_send_sync::<Session>();
    let config = ClientConfig::new("127.0.0.1", 9);
    assert_send(&Session::connect(&config, None));
    fn send_future(session: &mut Session, envelope: &Envelope) {
        assert_send(&session.send(envelope, &b"x"[..], None));
    }
    let _ = send_future;
    fn batch_future(session: &mut Session, envelope: &Envelope) {
        let mut one = Some(Outgoing::new(7u64, envelope.clone(), &b"x"[..], None));
        assert_send(&session.send_batch(move || one.take(), |_tag: u64, _result| {}));
    }
    let _ = batch_future;
}

#[test]
fn error_is_small_enough_to_return_by_value() {
    assert!(
        std::mem::size_of::<Error>() <= 96,
        "{}",
        std::mem::size_of::<Error>()
    );
}

#[test]
fn extra_roots_load_from_a_pem_file() {
    let dir = tempfile::tempdir().unwrap();
    let ck = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).unwrap();
    let pem = dir.path().join("roots.pem");
    std::fs::write(&pem, format!("{}{}", ck.cert.pem(), ck.cert.pem())).unwrap();
    let mut config = ClientConfig::new("localhost", 25);
    assert_eq!(config.add_roots_from_pem_file(&pem).unwrap(), 2);
    assert_eq!(config.extra_roots.len(), 2);
    assert_eq!(config.extra_roots[0], *ck.cert.der());

    let junk = dir.path().join("junk.pem");
    std::fs::write(&junk, "not a certificate").unwrap();
    let err = config.add_roots_from_pem_file(&junk).unwrap_err();
    assert_eq!(err.kind(), mailroom_smtp::ErrorKind::Input);
    let missing = dir.path().join("missing.pem");
    assert!(config.add_roots_from_pem_file(&missing).is_err());
}
