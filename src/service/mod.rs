//! Use cases. Each public method validates its input completely before it opens a transaction,
//! then does all its writes in one [`Tx`](crate::store::Tx): a registration, its number and its
//! audit entry land together or not at all.

pub mod access;
pub mod accounts;
pub mod admin;
mod anslagstavla;
mod answering;
mod corpus;
mod diarium;
pub mod dispatch;
mod engine;
mod failures;
pub mod idempotency;
pub mod links;
mod mail;
mod meetings;
mod organisation;
mod postlista;
mod report;
mod secrecy;
pub mod simulation;

use std::sync::Arc;

use crate::clock::Clock;
use crate::store::{Store, StoreError};

pub use anslagstavla::Notice;
pub use answering::{LinkView, Saved, UnitProgress};
pub use corpus::Corpus;
pub(crate) use diarium::megabytes;
pub use diarium::{
    CaseList, CaseQuery, CaseView, DocumentField, DocumentRefusal, DocumentView, FileRef,
    HistoryEntry, MAX_FILE_BYTES, NewDocumentInput, OpenCase, PersonRef, SearchChoices,
};
pub use engine::{
    DocumentFormat, Engine, InboxItem, InstanceEvents, Outcome, ParagraphRef, RenderObserver,
    StepCounts, Target, Unrendered, VersionInUse,
};
pub use failures::FailedTimer;
pub use mail::{DispatchOutcome, MessageView, Postman, RetryPolicy};
pub use meetings::{
    AgendaEntry, AttendanceInput, AttentionItem, DecisionView, MeetingView, ParagraphInput,
    ParagraphView, RemarkInput, VoteInput, lines_of, paragraph_label,
};
pub use organisation::{DEMO_ORGANISATION, ImportSummary};
pub use postlista::{PostlistaRow, postlista_csv};
pub use report::{Compilation, UnitAnswer};
pub use secrecy::AccessGrant;

/// What went wrong in a use case, sorted by what the caller can do about it.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// The input is wrong; the message says which field and why. Nothing was written.
    #[error("{0}")]
    Invalid(String),
    /// What the input refers to does not exist. Nothing was written.
    #[error("{0}")]
    NotFound(String),
    /// Someone else changed the same thing first; reload and retry. Nothing was written.
    #[error("{0}")]
    Conflict(String),
    /// The workflow refused the event (not in this state, not by this sender, a condition that
    /// does not hold, the instance is finished). Nothing was written. `Display` is the engine's
    /// English, for the API, the CLI and the logs; a page words it with
    /// [`TransitionError::swedish`](crate::workflow::TransitionError::swedish). Callers treat it
    /// as they treat `Invalid`.
    #[error("{0}")]
    Refused(crate::workflow::TransitionError),
    /// A handling was refused: a field or its file is wrong, or the ärende is closed. Nothing
    /// was written. `Display` is the English of the API, the CLI and the logs; a page words it
    /// with [`DocumentRefusal::swedish`]. Callers treat it as they treat `Invalid`.
    #[error(transparent)]
    InvalidDocument(#[from] DocumentRefusal),
    /// The user's roles do not allow this; the message says what was refused.
    #[error("{0}")]
    Forbidden(String),
    /// What it would change is final and stays as it is: a justerat protocol, a decision
    /// already recorded. Nothing was written; a correction is a new paragraph at a later
    /// meeting.
    #[error("{0}")]
    Final(String),
    /// A step of the use case needs documents that are not yet rendered: the use case wrote
    /// nothing, and runs again once they are (see `engine::renditions`). Never seen outside
    /// the engine's services.
    #[error("{} document(s) must be drawn up before the step is written; nothing was written", .0.len())]
    Unrendered(Vec<engine::Unrendered>),
    /// Something outside the caller's control failed.
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

impl From<StoreError> for ServiceError {
    fn from(err: StoreError) -> Self {
        match err {
            StoreError::NotFound(what) => Self::NotFound(format!("{what} not found")),
            StoreError::Conflict(what) => Self::Conflict(what),
            other => Self::Unexpected(other.into()),
        }
    }
}

/// Who does something: recorded in the audit trail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor(String);

impl Actor {
    /// An actor by name (a person's key, `cli:USER`, `system`).
    pub fn new(name: impl Into<String>) -> Self {
        Self(name.into())
    }

    /// The engine itself.
    pub fn system() -> Self {
        Self("system".into())
    }

    /// The recorded name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The diarium and organisation use cases, over one store and one clock.
#[derive(Debug, Clone)]
pub struct Kansli {
    store: Store,
    clock: Arc<dyn Clock>,
    /// How long a staff session may go unused.
    session_idle: chrono::Duration,
}

impl Kansli {
    /// The municipality's name (empty before an organisation is imported).
    pub async fn municipality_name(&self) -> Result<String, ServiceError> {
        Ok(self
            .store
            .municipality()
            .await?
            .map(|m| m.name)
            .unwrap_or_default())
    }

    /// The time now, from the injected clock.
    pub fn now(&self) -> chrono::DateTime<chrono::Utc> {
        self.clock.now()
    }

    /// Use cases over `store`, with time from `clock`.
    pub fn new(store: Store, clock: Arc<dyn Clock>) -> Self {
        Self {
            store,
            clock,
            session_idle: accounts::SESSION_IDLE,
        }
    }

    /// The same services, with sessions that end after `idle` unused.
    pub fn with_session_idle(mut self, idle: chrono::Duration) -> Self {
        self.session_idle = idle;
        self
    }

    /// The store behind the services: the services' own, and the benches'. The pages and the
    /// command line never reach it (a test holds them to that); they call the services.
    #[cfg(not(feature = "test-support"))]
    pub(crate) fn store(&self) -> &Store {
        &self.store
    }

    /// The store behind the services, for the integration tests' inspection of what was
    /// written (`test-support` only).
    #[cfg(feature = "test-support")]
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// The organisation as imported: municipality, organs, units, people, roles, series.
    pub async fn organisation(&self) -> Result<crate::store::OrgSnapshot, ServiceError> {
        Ok(self.store.org_snapshot().await?)
    }
}

/// Refuses empty text, text over `max` characters and control characters, naming the field.
pub(crate) fn required_text(field: &str, value: &str, max: usize) -> Result<String, ServiceError> {
    let value = value.trim();
    if value.is_empty() {
        return Err(ServiceError::Invalid(format!("{field} must not be empty")));
    }
    optional_text(field, Some(value), max).map(|v| v.unwrap_or_default())
}

/// Like [`required_text`], for a field that may be left out; blank counts as left out.
pub(crate) fn optional_text(
    field: &str,
    value: Option<&str>,
    max: usize,
) -> Result<Option<String>, ServiceError> {
    checked_text(value, max).map_err(|fault| {
        ServiceError::Invalid(match fault {
            TextFault::TooLong { length } => {
                format!("{field} is {length} characters long; at most {max} are allowed")
            }
            TextFault::ControlCharacter => format!("{field} contains a control character"),
        })
    })
}

/// What is wrong with a text field's value, for the caller to word.
pub(crate) enum TextFault {
    /// Longer than allowed, by its length in characters.
    TooLong { length: usize },
    /// A control character other than newline and tab.
    ControlCharacter,
}

/// A text field's value trimmed, blank as left out, or what is wrong with it: more than `max`
/// characters, or control characters but newline and tab.
pub(crate) fn checked_text(value: Option<&str>, max: usize) -> Result<Option<String>, TextFault> {
    let Some(value) = value.map(str::trim).filter(|v| !v.is_empty()) else {
        return Ok(None);
    };
    let length = value.chars().count();
    if length > max {
        return Err(TextFault::TooLong { length });
    }
    if value
        .chars()
        .any(|c| c.is_control() && c != '\n' && c != '\t')
    {
        return Err(TextFault::ControlCharacter);
    }
    Ok(Some(value.to_owned()))
}
