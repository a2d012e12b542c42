//! The command line: every command and option, with its help.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Create, queue and send email from the command line.
#[derive(Debug, Parser)]
#[command(name = "mailroom", version, about, max_term_width = 100, after_help = EXIT_CODES)]
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

/// The exit codes, shown under `mailroom --help` and in the manual page.
const EXIT_CODES: &str = "Exit codes: 0 done; 75 left queued after a transient failure, or \
outcome uncertain; 69 a message or recipient failed for good; 65 input refused before any network \
traffic; 77 authentication refused; 78 configuration error (also TLS the settings cannot get; the \
message stays queued); 74 the store could not be opened; 64 bad command line; 1 find found \
nothing.";

impl Cli {
    /// Whether the command asked for JSON output.
    pub fn json(&self) -> bool {
        use crate::cli_more::AccountCommand as A;
        match &self.command {
            Command::Send(a) => a.output.json,
            Command::Flush(a) => a.output.json,
            Command::Account(A::Add(a) | A::Set(a)) => a.output.json,
            Command::Account(A::Import(a)) => a.output.json,
            Command::Account(A::List(a)) => a.json,
            Command::Account(A::Show(a) | A::Remove(a) | A::Default(a)) => a.output.json,
            Command::Outbox(a) | Command::Drafts(a) | Command::Sent(a) => a.output.json,
            Command::Show(a) => a.output.json,
            Command::Resend(a) => a.output.json,
            Command::Cancel(a) | Command::Delete(a) => a.output.json,
            Command::Sendmail(a) => a.json,
            Command::Reply(a) => a.draft.output.json,
            Command::Forward(a) => a.draft.output.json,
            Command::Find(a) => a.output.json,
            Command::Watch(a) => a.output.json,
            Command::Completions(_) | Command::Man => false,
        }
    }
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create a message, store it in the Outbox, and send it (now, with the next connection,
    /// on request, or at a time)
    Send(Box<SendArgs>),
    /// Send every queued message now (waiting, scheduled, deferred and on-request ones);
    /// Uncertain and Suspended ones only when named
    Flush(FlushArgs),
    /// Manage accounts: server, login and identity kept in the store
    #[command(subcommand)]
    Account(crate::cli_more::AccountCommand),
    /// List the Outbox: each message's state and per-recipient detail
    Outbox(crate::cli_more::ListArgs),
    /// List Drafts
    Drafts(crate::cli_more::ListArgs),
    /// List Sent
    Sent(crate::cli_more::ListArgs),
    /// Show one message: headers, body and delivery records (or, with --raw, the message as transmitted)
    Show(crate::cli_more::ShowArgs),
    /// Queue a message again (Uncertain, Suspended and Failed ones included) and send it now
    Resend(crate::cli_more::ResendArgs),
    /// Stop a queued message from being sent (it becomes Suspended)
    Cancel(crate::cli_more::IdArgs),
    /// Delete a message that is not being sent
    Delete(crate::cli_more::IdArgs),
    /// Read a message on standard input and send it, as sendmail does (also when this
    /// program is called as `sendmail`)
    Sendmail(crate::cli_more::SendmailArgs),
    /// Create a reply to a message in Drafts (and send it with --send)
    Reply(crate::cli_more::ReplyArgs),
    /// Create a forward of a message in Drafts (and send it with --send)
    Forward(crate::cli_more::ForwardArgs),
    /// Find text in stored messages
    Find(crate::cli_more::FindArgs),
    /// Stay running: send on connection and on the retry schedule until SIGINT or SIGTERM
    Watch(crate::cli_more::WatchArgs),
    /// Print shell completions for the mailroom command
    Completions(crate::cli_more::CompletionsArgs),
    /// Print the manual page (roff) for the mailroom command
    Man,
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
#[derive(Debug, Default, Args)]
#[command(next_help_heading = "Server")]
pub struct ServerArgs {
    /// Use this account's server, login and identity (options given here override it)
    /// [default: the default account when no --server is given]
    #[arg(long, value_name = "NAME")]
    pub account: Option<String>,

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
    #[arg(long, value_name = "VAR", conflicts_with = "password_command")]
    pub password_env: Option<String>,

    /// Run this shell command and use the first line it prints as the password
    #[arg(long, value_name = "CMD")]
    pub password_command: Option<String>,

    /// Allowed authentication mechanism, e.g. PLAIN or LOGIN (repeatable, or comma-separated)
    /// [default: the strongest the server offers]
    #[arg(long = "auth", value_name = "MECH", value_delimiter = ',')]
    pub auth: Vec<String>,

    /// Sessions to open to the server at once when many messages wait, 1 to 16 [default: 1]
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=16))]
    pub connections: Option<u32>,

    /// Open a fresh session after this many messages, for servers that limit them; 0 for no
    /// limit [default: 0]
    #[arg(long, value_name = "N")]
    pub messages_per_connection: Option<u32>,
}

/// Output options shared by the commands.
#[derive(Debug, Args)]
pub struct OutputArgs {
    /// Print JSON for scripts instead of text: one value on standard output (errors too)
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

    /// Attach a file (repeatable); its media type is guessed from the file name
    #[arg(
        long,
        value_name = "PATH",
        help_heading = "Message",
        conflicts_with = "raw"
    )]
    pub attach: Vec<PathBuf>,

    /// An HTML alternative of the body, read from a file (UTF-8)
    #[arg(
        long,
        value_name = "PATH",
        help_heading = "Message",
        conflicts_with = "raw"
    )]
    pub html_file: Option<PathBuf>,

    /// An extra header, "Name: value" (repeatable)
    #[arg(
        long,
        value_name = "HEADER",
        help_heading = "Message",
        conflicts_with = "raw"
    )]
    pub header: Vec<String>,

    /// Ask for a read receipt (Disposition-Notification-To the sender)
    #[arg(long, help_heading = "Message", conflicts_with = "raw")]
    pub receipt: bool,

    /// The message's priority
    #[arg(
        long,
        value_enum,
        value_name = "LEVEL",
        help_heading = "Message",
        conflicts_with = "raw"
    )]
    pub priority: Option<PriorityArg>,

    /// Delivery status notifications: never, or a comma-separated list of success, failure,
    /// delay
    #[arg(long, value_name = "LIST", help_heading = "Delivery")]
    pub dsn_notify: Option<String>,

    /// What a delivery status notification returns: the full message or its headers
    #[arg(long, value_enum, value_name = "WHAT", help_heading = "Delivery")]
    pub dsn_ret: Option<DsnRet>,

    /// Send at this time: RFC 3339 (2026-12-24T09:00:00Z) or from now (+30s, +15m, +2h, +1d);
    /// the message waits in the Outbox for `mailroom flush` or `mailroom watch`
    #[arg(
        long,
        value_name = "TIME",
        help_heading = "Delivery",
        conflicts_with = "when"
    )]
    pub at: Option<String>,

    /// When to send it
    #[arg(long, value_enum, default_value = "now", help_heading = "Delivery")]
    pub when: When,

    /// Print the exact message bytes to standard output and the envelope to standard error;
    /// send and store nothing
    #[arg(long, help_heading = "Delivery")]
    pub dry_run: bool,

    #[command(flatten)]
    pub output: OutputArgs,
}

/// A message priority.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PriorityArg {
    /// X-Priority 1, Importance: high
    High,
    /// X-Priority 3
    Normal,
    /// X-Priority 5, Importance: low
    Low,
}

/// What a DSN returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DsnRet {
    /// The whole message
    Full,
    /// Only its headers
    Hdrs,
}

/// `mailroom flush`.
#[derive(Debug, Args)]
pub struct FlushArgs {
    /// Only these messages (Uncertain and Suspended ones are sent only when named here)
    #[arg(value_name = "ID")]
    pub ids: Vec<i64>,

    #[command(flatten)]
    pub server: ServerArgs,

    #[command(flatten)]
    pub output: OutputArgs,
}
