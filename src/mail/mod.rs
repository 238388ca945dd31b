//! Sending email. A [`Mailer`] delivers one fully rendered [`OutgoingMessage`] and says
//! whether a failure is worth retrying; it knows nothing of ärenden or workflows. Two
//! transports: [`SmtpMailer`] (lettre, STARTTLS, implicit TLS or none for a local relay) and
//! [`FileMailer`], which writes `.eml` files into a folder, the default for a first run.

mod file;
mod message;
mod smtp;

use std::fmt;

pub use file::FileMailer;
pub use message::to_lettre;
pub use smtp::{SmtpMailer, SmtpSecurity, SmtpSettings};

/// A name and an address.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Address {
    /// The display name, may be empty.
    pub name: String,
    /// The address.
    pub email: String,
}

impl fmt::Display for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.name.is_empty() {
            write!(f, "<{}>", self.email)
        } else {
            write!(f, "{} <{}>", self.name, self.email)
        }
    }
}

/// A file attached to a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attachment {
    /// The file name the recipient sees.
    pub name: String,
    /// Its media type.
    pub media_type: String,
    /// Its content.
    pub content: Vec<u8>,
}

/// A message ready to send, exactly as it was stored in the outbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutgoingMessage {
    /// The Message-ID, fixed when the message was queued, so a message delivered twice after a
    /// crash carries the same id both times.
    pub message_id: String,
    /// The municipality's sender address.
    pub from: Address,
    /// The handläggare, for replies.
    pub reply_to: Option<Address>,
    /// The recipient.
    pub to: Address,
    /// The subject (carries the ärende number).
    pub subject: String,
    /// The plain-text part.
    pub text: String,
    /// The HTML part.
    pub html: String,
    /// Attachments.
    pub attachments: Vec<Attachment>,
}

/// Why a message was not delivered, sorted by what to do next.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MailError {
    /// Worth trying again later: the server is down, busy (4xx), or did not answer in time.
    #[error("temporary failure: {0}")]
    Transient(String),
    /// Trying again will not help: the server refused the message or the recipient (5xx), or
    /// the message itself is malformed.
    #[error("permanent failure: {0}")]
    Permanent(String),
}

/// Delivers messages.
#[async_trait::async_trait]
pub trait Mailer: Send + Sync + fmt::Debug {
    /// Delivers one message.
    async fn send(&self, message: &OutgoingMessage) -> Result<(), MailError>;
}
