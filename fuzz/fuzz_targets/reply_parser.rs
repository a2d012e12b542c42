//! The reply parser fed arbitrary server bytes: no panic, bounded buffering.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    mailroom_smtp::fuzzing::parse_replies(data);
});
