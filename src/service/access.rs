//! Who may do what: the roles each use case asks for, checked by the services and by the pages
//! and API routes in front of them, so that one rule serves every way in.

use super::ServiceError;
use super::accounts::User;
use crate::domain::organisation::Role;

/// A use case that needs a role.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Permission {
    /// Search the diarium and read ärenden, their handlingar and history.
    ReadDiarium,
    /// Register handlingar in an ärende.
    RegisterDocuments,
    /// Open new ärenden.
    OpenCases,
}

impl Permission {
    /// The roles that grant it (an administrator holds every role).
    pub fn roles(self) -> &'static [Role] {
        match self {
            Permission::ReadDiarium => &[
                Role::Registrator,
                Role::Handlaggare,
                Role::Sekreterare,
                Role::Admin,
            ],
            Permission::RegisterDocuments => &[Role::Registrator, Role::Handlaggare, Role::Admin],
            Permission::OpenCases => &[Role::Registrator, Role::Admin],
        }
    }

    /// What it is, in Swedish, for refusals ("Du får inte {what}").
    pub fn what(self) -> &'static str {
        match self {
            Permission::ReadDiarium => "läsa diariet",
            Permission::RegisterDocuments => "registrera handlingar",
            Permission::OpenCases => "öppna ärenden",
        }
    }
}

impl User {
    /// Whether the user may (to show or hide what they cannot do).
    pub fn can(&self, permission: Permission) -> bool {
        self.has_any(permission.roles())
    }

    /// Whether the user may; the refusal names the use case and is logged.
    pub fn may(&self, permission: Permission) -> Result<(), ServiceError> {
        if self.can(permission) {
            return Ok(());
        }
        tracing::warn!(username = %self.username, what = permission.what(), "refused");
        Err(ServiceError::Forbidden(format!(
            "Du har ingen roll som får {}.",
            permission.what()
        )))
    }
}
