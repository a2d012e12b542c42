//! `mailroom`: create, queue and send email from the command line.
#![forbid(unsafe_code)]

/// `println!` through [`output::stdout`]: a reader that went away or a full disk is noted, not
/// a panic (see `main`).
macro_rules! outln {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!($crate::output::stdout(), $($arg)*);
    }};
}

mod accounts;
mod cli;
mod cli_more;
mod commands;
mod compose;
mod derive;
mod exit;
mod flush;
mod folders;
mod interrupt;
mod manual;
mod msmtp;
mod output;
mod progress;
mod sendmail;
mod watch;

use std::io::IsTerminal;
use std::process::ExitCode;

use clap::Parser;

use crate::cli::Cli;
use crate::exit::Exit;

fn main() -> ExitCode {
    let cli = match Cli::try_parse_from(arguments()) {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { Exit::Usage as u8 } else { 0 });
        }
    };
    init_logging(cli.verbose, cli.quiet);
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("mailroom: cannot start the async runtime: {e}");
            return ExitCode::from(Exit::Software as u8);
        }
    };
    let exit = runtime.block_on(commands::run(cli));
    match output::finish() {
        // The reader went away (`mailroom sent | head`): nothing more to say.
        Some(e) if e.kind() == std::io::ErrorKind::BrokenPipe => ExitCode::from(exit as u8),
        Some(e) => {
            eprintln!("mailroom: the output could not be written: {e}");
            ExitCode::from(Exit::IoErr as u8)
        }
        None => ExitCode::from(exit as u8),
    }
}

/// The arguments, with `sendmail` put in front when this program was called as `sendmail`
/// (through a symlink), so that sendmail's options reach sendmail mode.
fn arguments() -> Vec<std::ffi::OsString> {
    let mut args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    let called = args
        .first()
        .and_then(|a| std::path::Path::new(a).file_name())
        .and_then(|n| n.to_str())
        .unwrap_or("");
    if called == "sendmail" {
        args.insert(1, "sendmail".into());
        args.insert(2, "--".into());
    }
    args
}

fn init_logging(verbose: u8, quiet: bool) {
    use tracing_subscriber::EnvFilter;
    let default = match (quiet, verbose) {
        (true, _) => "error",
        (false, 0) => "error",
        (false, 1) => "info",
        (false, _) => "debug",
    };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .with_ansi(std::io::stderr().is_terminal())
        .init();
}
