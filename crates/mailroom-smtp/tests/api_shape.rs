//! Compile-time checks of the public API the MTM layer relies on.

use mailroom_smtp::{ClientConfig, Delivery, Envelope, Error, Session};

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
}

#[test]
fn error_is_small_enough_to_return_by_value() {
    assert!(
        std::mem::size_of::<Error>() <= 96,
        "{}",
        std::mem::size_of::<Error>()
    );
}
