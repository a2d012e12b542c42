//! The command line beyond `send` and `flush`: accounts, folders, sendmail mode, replies and
//! forwards, find, watch, completions.

use std::path::PathBuf;

use clap::{Args, Subcommand, ValueEnum};

use crate::cli::{OutputArgs, ServerArgs};

/// `mailroom account ...`.
#[derive(Debug, Subcommand)]
pub enum AccountCommand {
    /// Add an account; the first one added becomes the default
    Add(AccountArgs),
    /// List the accounts
    List(ListAccountsArgs),
    /// Show an account's settings (secrets are never printed)
    Show(NameArgs),
    /// Change an account's settings (only the options given)
    Set(AccountArgs),
    /// Remove an account (refused while messages of it are queued)
    Remove(NameArgs),
    /// Make an account the default
    Default(NameArgs),
    /// Import the accounts of an msmtp configuration file (~/.msmtprc)
    Import(ImportArgs),
}

/// `account add|set NAME`.
#[derive(Debug, Args)]
pub struct AccountArgs {
    /// The account's name
    pub name: String,

    #[command(flatten)]
    pub server: ServerArgs,

    /// The author of the account's messages, `Name <addr>` or `addr`
    #[arg(long, value_name = "ADDR", help_heading = "Identity")]
    pub from: Option<String>,

    /// A Reply-To address for the account's messages
    #[arg(long, value_name = "ADDR", help_heading = "Identity")]
    pub reply_to: Option<String>,

    /// A signature appended to the account's messages (after a "-- " line, added if missing)
    #[arg(
        long,
        value_name = "TEXT",
        help_heading = "Identity",
        allow_hyphen_values = true
    )]
    pub signature: Option<String>,

    /// Read the password from standard input and keep it in the store (readable only by you;
    /// prefer --password-command or --password-env)
    #[arg(long, help_heading = "Server", conflicts_with_all = ["password_env", "password_command"])]
    pub password_stdin: bool,

    #[command(flatten)]
    pub output: OutputArgs,
}

/// `account list`.
#[derive(Debug, Args)]
pub struct ListAccountsArgs {
    /// Print JSON
    #[arg(long)]
    pub json: bool,
}

/// An account name.
#[derive(Debug, Args)]
pub struct NameArgs {
    /// The account's name
    pub name: String,

    #[command(flatten)]
    pub output: OutputArgs,
}

/// `account import`.
#[derive(Debug, Args)]
pub struct ImportArgs {
    /// The msmtp configuration file [default: ~/.msmtprc, else $XDG_CONFIG_HOME/msmtp/config]
    #[arg(value_name = "FILE")]
    pub file: Option<PathBuf>,

    #[command(flatten)]
    pub output: OutputArgs,
}

/// `outbox`, `drafts`, `sent`.
#[derive(Debug, Args)]
pub struct ListArgs {
    /// Only messages of this account
    #[arg(long, value_name = "NAME")]
    pub account: Option<String>,

    #[command(flatten)]
    pub output: OutputArgs,
}

/// `show ID`.
#[derive(Debug, Args)]
pub struct ShowArgs {
    /// The message's id
    pub id: i64,

    /// Print the message as transmitted, without its Bcc header (rendered as for a server
    /// without 8BITMIME; MIME boundaries are chosen afresh each time)
    #[arg(long, conflicts_with = "json")]
    pub raw: bool,

    #[command(flatten)]
    pub output: OutputArgs,
}

/// A message id.
#[derive(Debug, Args)]
pub struct IdArgs {
    /// The message's id
    pub id: i64,

    #[command(flatten)]
    pub output: OutputArgs,
}

/// `resend ID`.
#[derive(Debug, Args)]
pub struct ResendArgs {
    /// The message's id
    pub id: i64,

    /// Only queue it again; `mailroom flush` or `mailroom watch` sends it
    #[arg(long)]
    pub queue_only: bool,

    #[command(flatten)]
    pub server: ServerArgs,

    #[command(flatten)]
    pub output: OutputArgs,
}

/// `sendmail`: the arguments sendmail takes, read by hand because their syntax is not
/// getopt-long (`-oi`, `-fADDR`, `-FName`).
#[derive(Debug, Args)]
pub struct SendmailArgs {
    /// Print a JSON report
    #[arg(long)]
    pub json: bool,

    /// Send through this account [default: the default account]
    #[arg(long, value_name = "NAME")]
    pub account: Option<String>,

    /// sendmail options (-t, -i, -oi, -f ADDR, -F NAME; other -o and -B options are accepted
    /// and ignored) and recipients
    #[arg(
        value_name = "ARG",
        allow_hyphen_values = true,
        trailing_var_arg = true
    )]
    pub args: Vec<String>,
}

/// `reply ID`.
#[derive(Debug, Args)]
pub struct ReplyArgs {
    /// The message to reply to
    pub id: i64,

    /// Reply to the sender and every other recipient
    #[arg(long)]
    pub all: bool,

    #[command(flatten)]
    pub draft: DraftArgs,
}

/// `forward ID`.
#[derive(Debug, Args)]
pub struct ForwardArgs {
    /// The message to forward
    pub id: i64,

    /// Attach the original as message/rfc822 instead of quoting it
    #[arg(long)]
    pub as_attachment: bool,

    /// A recipient (repeatable)
    #[arg(long, value_name = "ADDR")]
    pub to: Vec<String>,

    #[command(flatten)]
    pub draft: DraftArgs,
}

/// What reply and forward add to the draft.
#[derive(Debug, Args)]
pub struct DraftArgs {
    /// Text put above the quoted original
    #[arg(long, value_name = "TEXT")]
    pub body: Option<String>,

    /// Queue the draft and send it now instead of leaving it in Drafts
    #[arg(long)]
    pub send: bool,

    #[command(flatten)]
    pub server: ServerArgs,

    #[command(flatten)]
    pub output: OutputArgs,
}

/// Which parts `find` searches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Part {
    /// The subject
    Subject,
    /// From, Sender, Reply-To, To, Cc and Bcc
    Addresses,
    /// Further header fields
    Headers,
    /// The body text (plain and HTML)
    Body,
    /// Attachment file names
    Attachments,
}

/// `find TEXT`.
#[derive(Debug, Args)]
pub struct FindArgs {
    /// The text to find (case is ignored)
    pub text: String,

    /// Search only these parts (comma-separated) [default: all]
    #[arg(long = "in", value_enum, value_name = "PARTS", value_delimiter = ',')]
    pub parts: Vec<Part>,

    #[command(flatten)]
    pub output: OutputArgs,
}

/// `watch`.
#[derive(Debug, Args)]
pub struct WatchArgs {
    #[command(flatten)]
    pub server: ServerArgs,

    #[command(flatten)]
    pub output: OutputArgs,
}

/// `completions SHELL`.
#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}
