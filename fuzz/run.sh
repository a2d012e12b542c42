#!/bin/sh
# Runs each fuzz target for a bounded time (default 60 s each) with a memory cap, so a
# panic, a hang or unbounded growth fails the run. Usage: fuzz/run.sh [SECONDS]
# Needs cargo-fuzz (`cargo install cargo-fuzz`) and a nightly toolchain.
set -eu
cd "$(dirname "$0")"
seconds="${1:-60}"
mkdir -p corpus/reply_parser corpus/session_core
printf '250-mx.example\r\n250-PIPELINING\r\n250 SIZE 0\r\n' > corpus/reply_parser/ehlo
# Session seeds: a flags byte, then server reads separated by 0xff bytes.
printf '\011220 hi\r\n\377250-mx\r\n250 PIPELINING\r\n\377250 ok\r\n250 ok\r\n550 no\r\n354 go\r\n\377250 ok\r\n' \
    > corpus/session_core/pipelined
# Flag 32: each transaction pipelined behind the previous final dot (no RSET behind a dot;
# RSET, MAIL and RCPT behind a last BDAT chunk).
printf '\051220 hi\r\n\377250-mx\r\n250 PIPELINING\r\n\377250 ok\r\n250 ok\r\n250 ok\r\n354 go\r\n\377554 no\r\n250 ok\r\n250 ok\r\n250 ok\r\n354 go\r\n\377250 ok\r\n421 bye\r\n' \
    > corpus/session_core/behind
printf '\041220 hi\r\n\377250-mx\r\n250-PIPELINING\r\n250 CHUNKING\r\n\377250 ok\r\n250 ok\r\n250 ok\r\n\377250 ok\r\n250 ok\r\n250 ok\r\n250 ok\r\n250 ok\r\n\377250 ok\r\n' \
    > corpus/session_core/behind_bdat
printf '\002220 hi\r\n\377250-mx\r\n250 STARTTLS\r\n\377220 go\r\n\377250-mx\r\n250 AUTH PLAIN LOGIN\r\n\377235 ok\r\n' \
    > corpus/session_core/auth
printf '\006220 hi\r\n\377250-mx\r\n250 STARTTLS\r\n\377220 go\r\n\377250 AUTH SCRAM-SHA-256 CRAM-MD5\r\n\377334 cj1mdXp6bm9uY2VYWVoscz1RU1hDUisxOEFSRmM9LGk9NDA5Ng==\r\n' \
    > corpus/session_core/scram
for target in reply_parser session_core; do
    cargo +nightly fuzz run ${CARGO_TARGET_DIR:+--target-dir "$CARGO_TARGET_DIR/fuzz"} \
        "$target" "corpus/$target" -- \
        -max_total_time="$seconds" -rss_limit_mb=512 -timeout=10 -max_len=65536
done
echo "fuzzing finished: no crash, hang or memory blow-up in ${seconds}s per target"
