//! The entry model: ids, kinds, flags, send states, recipient records and email fields.

use std::fmt;
use std::str::FromStr;
use std::time::SystemTime;

use serde::{Deserialize, Serialize};

/// Identifies one entry of the store. Ids are never reused within one store.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct EntryId(pub i64);

impl EntryId {
    /// The root of the tree; its own parent.
    pub const ROOT: EntryId = EntryId(1);
    /// The local service, parent of the standard folders.
    pub const LOCAL_SERVICE: EntryId = EntryId(2);
    /// Received messages.
    pub const INBOX: EntryId = EntryId(3);
    /// Messages waiting to be sent.
    pub const OUTBOX: EntryId = EntryId(4);
    /// Messages being written.
    pub const DRAFTS: EntryId = EntryId(5);
    /// Messages that were sent.
    pub const SENT: EntryId = EntryId(6);
    /// Messages the user deleted but did not purge.
    pub const DELETED: EntryId = EntryId(7);
    /// The lowest id given to an entry that is not a standard one.
    pub const FIRST_FREE: EntryId = EntryId(1000);

    /// The standard entries, created with every store; none can be moved or deleted.
    pub const STANDARD: [EntryId; 7] = [
        Self::ROOT,
        Self::LOCAL_SERVICE,
        Self::INBOX,
        Self::OUTBOX,
        Self::DRAFTS,
        Self::SENT,
        Self::DELETED,
    ];

    /// Whether this is one of the standard entries.
    pub fn is_standard(self) -> bool {
        Self::STANDARD.contains(&self)
    }
}

impl fmt::Display for EntryId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// Declares a unit-only enum stored and printed as snake_case text.
macro_rules! text_enum {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum $name {
            $($(#[$vmeta])* $variant),+
        }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The snake_case name used in storage, serde and `Display`.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text),+
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl FromStr for $name {
            type Err = ParseEnumError;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s {
                    $($text => Ok($name::$variant),)+
                    _ => Err(ParseEnumError { kind: stringify!($name), text: s.to_owned() }),
                }
            }
        }
    };
}

/// A text that names no value of the enum it was parsed as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseEnumError {
    kind: &'static str,
    text: String,
}

impl fmt::Display for ParseEnumError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?} is not a {}", self.text, self.kind)
    }
}

impl std::error::Error for ParseEnumError {}

text_enum! {
    /// What an entry is.
    EntryKind {
        /// The root of the tree.
        Root => "root",
        /// An account of one MTM; its settings live in its streams.
        Service => "service",
        /// A folder of messages.
        Folder => "folder",
        /// A message.
        Message => "message",
        /// A part of a message (an attachment, an alternative body).
        Part => "part",
    }
}

text_enum! {
    /// Where a message is on its way out.
    SendState {
        /// Sent only when the user asks.
        UponRequest => "upon_request",
        /// Ready to be sent at the next chance.
        Waiting => "waiting",
        /// To be sent at its scheduled time.
        Scheduled => "scheduled",
        /// Being sent now.
        Sending => "sending",
        /// A transient failure; a retry is due at the scheduled time.
        Resend => "resend",
        /// The link was lost after the final dot: the outcome is unknown; never resent on its own.
        Uncertain => "uncertain",
        /// Cancelled by the user.
        Suspended => "suspended",
        /// Failed permanently.
        Failed => "failed",
        /// Delivered to the server for every recipient.
        Sent => "sent",
    }
}

text_enum! {
    /// How a recipient was addressed.
    RecipientKind {
        /// A `To` recipient.
        To => "to",
        /// A `Cc` recipient.
        Cc => "cc",
        /// A `Bcc` recipient (never shown in headers on the wire).
        Bcc => "bcc",
    }
}

text_enum! {
    /// The delivery outcome for one recipient.
    RecipientState {
        /// Not tried yet, or to be tried again.
        Pending => "pending",
        /// The server accepted the recipient.
        Accepted => "accepted",
        /// Refused permanently (5xx).
        Rejected => "rejected",
        /// Refused for now (4xx).
        Deferred => "deferred",
        /// The outcome is not known.
        Unknown => "unknown",
    }
}

text_enum! {
    /// The importance of a message.
    Priority {
        /// Low importance.
        Low => "low",
        /// Normal importance.
        Normal => "normal",
        /// High importance.
        High => "high",
    }
}

/// Flags of an entry. The default is visible, normal priority, everything else off.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Flags {
    /// Shown to the user (off while an entry is being built).
    pub visible: bool,
    /// All of the entry's content is present.
    pub complete: bool,
    /// Still being written by a client.
    pub in_preparation: bool,
    /// Not yet seen in any listing.
    pub new: bool,
    /// Not yet opened.
    pub unread: bool,
    /// Must not be changed by the user.
    pub read_only: bool,
    /// Has or is an attachment.
    pub attachment: bool,
    /// Addressed to more than one recipient.
    pub multiple_recipients: bool,
    /// Importance.
    pub priority: Priority,
}

impl Default for Flags {
    fn default() -> Self {
        Flags {
            visible: true,
            complete: false,
            in_preparation: false,
            new: false,
            unread: false,
            read_only: false,
            attachment: false,
            multiple_recipients: false,
            priority: Priority::Normal,
        }
    }
}

/// An error recorded on an entry (for example the last failed delivery).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct EntryError {
    /// The class of error, chosen by the MTM (e.g. `"smtp"`, `"network"`).
    pub kind: String,
    /// A numeric code (e.g. an SMTP reply code), if any.
    pub code: Option<u16>,
    /// Text for the user.
    pub text: String,
}

/// Email-specific fields of a message entry.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct EmailFields {
    /// A read receipt was asked for.
    pub receipt_requested: bool,
    /// The body has an HTML version.
    pub html: bool,
    /// A vCard is attached.
    pub vcard: bool,
    /// An iCalendar object is attached.
    pub icalendar: bool,
    /// The message is encrypted.
    pub encrypted: bool,
    /// The message is signed.
    pub signed: bool,
    /// The message has attachments.
    pub has_attachments: bool,
    /// The multipart subtype (`"mixed"`, `"alternative"`, ...), if multipart.
    pub multipart: Option<String>,
    /// The Message-ID, fixed at creation and kept across retries.
    pub message_id: Option<String>,
    /// The Message-ID this message replies to.
    pub in_reply_to: Option<String>,
}

/// The delivery record of one recipient of a message.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct RecipientRecord {
    /// The address (no display name).
    pub address: String,
    /// To, Cc or Bcc.
    pub kind: RecipientKind,
    /// The outcome so far.
    pub state: RecipientState,
    /// The server's reply code, if any.
    pub code: Option<u16>,
    /// The enhanced status code (`"5.1.1"`), if any.
    pub enhanced: Option<String>,
    /// The server's reply text, if any.
    pub text: Option<String>,
    /// When the outcome was recorded.
    pub time: Option<SystemTime>,
}

impl RecipientRecord {
    /// A pending recipient with no outcome yet.
    pub fn new(address: impl Into<String>, kind: RecipientKind) -> Self {
        RecipientRecord {
            address: address.into(),
            kind,
            state: RecipientState::Pending,
            code: None,
            enhanced: None,
            text: None,
            time: None,
        }
    }
}

/// Who holds a message's lease, and until when.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Lease {
    /// The name the holder claimed with.
    pub owner: String,
    /// When the lease runs out unless renewed.
    pub expires: SystemTime,
}

/// One node of the store.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    /// Its id.
    pub id: EntryId,
    /// Its parent (the root is its own parent). Changed only by [`Store::move_to`].
    ///
    /// [`Store::move_to`]: crate::Store::move_to
    pub parent: EntryId,
    /// What it is; fixed at creation.
    pub kind: EntryKind,
    /// The MTM that owns it (`"smtp"`, `"local"`).
    pub mtm: String,
    /// The service it belongs to, if any.
    pub service: Option<EntryId>,
    /// Its date (stored at microsecond precision).
    pub date: SystemTime,
    /// Its size in bytes, as the MTM counts it.
    pub size: u64,
    /// Subject of a message, name of a folder or service.
    pub description: String,
    /// First recipient or sender.
    pub details: String,
    /// Flags.
    pub flags: Flags,
    /// Send state, for messages on their way out.
    pub send_state: Option<SendState>,
    /// When to send (or retry), if scheduled.
    pub scheduled: Option<SystemTime>,
    /// The last error, if any.
    pub error: Option<EntryError>,
    /// Email fields.
    pub email: EmailFields,
    /// Per-recipient delivery records, in order.
    pub recipients: Vec<RecipientRecord>,
    /// The current lease, if any (read-only: set by claims, cleared by release and finish).
    pub lease: Option<Lease>,
}

/// The fields of an entry to create.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewEntry {
    /// Where to create it.
    pub parent: EntryId,
    /// What it is (not [`EntryKind::Root`]).
    pub kind: EntryKind,
    /// The owning MTM.
    pub mtm: String,
    /// The service it belongs to, if any.
    pub service: Option<EntryId>,
    /// Its date.
    pub date: SystemTime,
    /// Its size; `None` counts the bytes of the streams given at creation.
    pub size: Option<u64>,
    /// Subject or name.
    pub description: String,
    /// First recipient or sender.
    pub details: String,
    /// Flags.
    pub flags: Flags,
    /// Send state.
    pub send_state: Option<SendState>,
    /// Scheduled time.
    pub scheduled: Option<SystemTime>,
    /// Error.
    pub error: Option<EntryError>,
    /// Email fields.
    pub email: EmailFields,
    /// Recipient records.
    pub recipients: Vec<RecipientRecord>,
}

impl NewEntry {
    /// An entry of `kind` under `parent`, owned by `mtm`, dated now, with default fields.
    pub fn new(parent: EntryId, kind: EntryKind, mtm: impl Into<String>) -> Self {
        NewEntry {
            parent,
            kind,
            mtm: mtm.into(),
            service: None,
            date: SystemTime::now(),
            size: None,
            description: String::new(),
            details: String::new(),
            flags: Flags::default(),
            send_state: None,
            scheduled: None,
            error: None,
            email: EmailFields::default(),
            recipients: Vec::new(),
        }
    }

    /// A message under `parent` for the given MTM and service.
    pub fn message(parent: EntryId, mtm: impl Into<String>, service: Option<EntryId>) -> Self {
        NewEntry {
            service,
            ..Self::new(parent, EntryKind::Message, mtm)
        }
    }

    /// A folder named `name` under `parent`, owned by the local MTM.
    pub fn folder(parent: EntryId, name: impl Into<String>) -> Self {
        NewEntry {
            description: name.into(),
            ..Self::new(parent, EntryKind::Folder, "local")
        }
    }

    /// A service (account) for `mtm`, named `name`, under the root.
    pub fn service(mtm: impl Into<String>, name: impl Into<String>) -> Self {
        NewEntry {
            description: name.into(),
            ..Self::new(EntryId::ROOT, EntryKind::Service, mtm)
        }
    }

    /// A part of the message `message`, for the same MTM.
    pub fn part(message: EntryId, mtm: impl Into<String>) -> Self {
        Self::new(message, EntryKind::Part, mtm)
    }
}
