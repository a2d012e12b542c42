//! The command line: every command and option, with its help.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Create, queue and send email from the command line.
#[derive(Debug, Parser)]
#[command(name = "mailroom", version, about, max_term_width = 100)]
pub struct Cli {
    /// The message store directory [default: the platform data directory, e.g.
    /// ~/.local/share/mailroom]
    #[arg(long, global = true, env = "MAILROOM_STORE", value_name = "DIR")]
    pub store: Option<PathBuf>,

    /// More log output on stderr (repeat for more); RUST_LOG overrides
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,

    /// Only errors on stderr
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    pub quiet: bool,

    #[command(subcommand)]
    pub command: Command,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create a message, store it in the Outbox, and send it (now, with the next connection, or
    /// on request)
    Send(Box<SendArgs>),
    /// Send every queued message now (waiting, scheduled, deferred and on-request ones)
    Flush(FlushArgs),
}

/// When `send` delivers the message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum When {
    /// Store it, send it, report, exit
    Now,
    /// Store it and send it if the server is reachable now; otherwise it waits in the Outbox
    /// for the next connection (`mailroom flush`)
    NextConnection,
    /// Store it; send it only when asked (`mailroom flush`)
    OnRequest,
}

/// How the connection is secured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Tls {
    /// STARTTLS, required (the default for smtp://)
    Starttls,
    /// TLS from the first byte (the default for smtps://)
    Implicit,
    /// No TLS at all; must be asked for
    None,
}

/// Where and how to reach the SMTP server.
#[derive(Debug, Args)]
#[command(next_help_heading = "Server")]
pub struct ServerArgs {
    /// The SMTP server: smtp://HOST[:PORT] or smtps://HOST[:PORT] (ports default to 587 for
    /// STARTTLS, 465 for implicit TLS, 25 without TLS)
    #[arg(long, value_name = "URL")]
    pub server: Option<String>,

    /// TLS mode [default: starttls for smtp://, implicit for smtps://]
    #[arg(long, value_enum, value_name = "MODE")]
    pub tls: Option<Tls>,

    /// Extra trust anchors: a PEM file of CA certificates (repeatable)
    #[arg(long = "ca-file", value_name = "PEM")]
    pub ca_files: Vec<PathBuf>,

    /// The name to send with EHLO [default: this host's FQDN, else its address]
    #[arg(long, value_name = "NAME")]
    pub ehlo_name: Option<String>,

    /// One limit in seconds for connecting and for each server reply [default: RFC 5321's
    /// per-command limits]
    #[arg(long, value_name = "SECS")]
    pub timeout: Option<u64>,

    /// Log in with this name
    #[arg(long, value_name = "NAME")]
    pub user: Option<String>,

    /// Read the password from this environment variable
    #[arg(
        long,
        value_name = "VAR",
        requires = "user",
        conflicts_with = "password_command"
    )]
    pub password_env: Option<String>,

    /// Run this shell command and use the first line it prints as the password
    #[arg(long, value_name = "CMD", requires = "user")]
    pub password_command: Option<String>,

    /// Allowed authentication mechanism, e.g. PLAIN or LOGIN (repeatable, or comma-separated)
    /// [default: the strongest the server offers]
    #[arg(long = "auth", value_name = "MECH", value_delimiter = ',')]
    pub auth: Vec<String>,
}

/// Output options shared by the commands.
#[derive(Debug, Args)]
pub struct OutputArgs {
    /// Print one JSON object (an array for flush) instead of a summary line
    #[arg(long)]
    pub json: bool,
}

/// `mailroom send`.
#[derive(Debug, Args)]
pub struct SendArgs {
    #[command(flatten)]
    pub server: ServerArgs,

    /// The author, `Name <addr>` or `addr` (also MAIL FROM unless --envelope-from is given)
    #[arg(long, value_name = "ADDR", help_heading = "Message")]
    pub from: Option<String>,

    /// A recipient (repeatable)
    #[arg(long, value_name = "ADDR", help_heading = "Message")]
    pub to: Vec<String>,

    /// A copy recipient (repeatable)
    #[arg(long, value_name = "ADDR", help_heading = "Message")]
    pub cc: Vec<String>,

    /// A blind copy recipient, never shown in the header (repeatable)
    #[arg(long, value_name = "ADDR", help_heading = "Message")]
    pub bcc: Vec<String>,

    /// The subject
    #[arg(
        long,
        value_name = "TEXT",
        help_heading = "Message",
        conflicts_with = "raw"
    )]
    pub subject: Option<String>,

    /// The body text
    #[arg(long, value_name = "TEXT", help_heading = "Message", conflicts_with_all = ["body_file", "raw"])]
    pub body: Option<String>,

    /// Read the body text from a file (UTF-8)
    #[arg(
        long,
        value_name = "PATH",
        help_heading = "Message",
        conflicts_with = "raw"
    )]
    pub body_file: Option<PathBuf>,

    /// Send a ready RFC 5322 message from a file, or `-` for standard input, as is (line
    /// endings normalised, Bcc header removed); recipients come from --to, --cc and --bcc
    #[arg(long, value_name = "PATH", help_heading = "Message")]
    pub raw: Option<PathBuf>,

    /// The MAIL FROM address [default: the --from address]
    #[arg(long, value_name = "ADDR", help_heading = "Message")]
    pub envelope_from: Option<String>,

    /// When to send it
    #[arg(long, value_enum, default_value = "now")]
    pub when: When,

    #[command(flatten)]
    pub output: OutputArgs,
}

/// `mailroom flush`.
#[derive(Debug, Args)]
pub struct FlushArgs {
    #[command(flatten)]
    pub server: ServerArgs,

    #[command(flatten)]
    pub output: OutputArgs,
}
