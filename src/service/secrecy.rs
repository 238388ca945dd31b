//! Need-to-know for secret handlingar (OSL 5 kap, behörighetsstyrning): a handling with a
//! sekretessmarkering is read only by the ärende's handläggare, the registrators of its
//! series' organ, and the people its access list names. Everyone else who may read the diarium
//! sees its register entry masked as the postlista masks it, and is refused its file. Every
//! read of a secret handling's file, and every change to an access list, is in the ärende's
//! history.
//!
//! The administrator flag does not open secret handlingar: running the system is not a need
//! to know what an ärende holds.

use serde::Serialize;

use super::accounts::User;
use super::diarium::{CaseView, DocumentView, FileRef, SeriesBook};
use super::{Kansli, ServiceError};
use crate::domain::audit::Action;
use crate::domain::document::MASK;
use crate::domain::organisation::Role;
use crate::store::CaseRow;

/// A person on an ärende's access list.
#[derive(Debug, Clone, Serialize)]
pub struct AccessGrant {
    /// The person's key.
    pub person: String,
    /// The person's name.
    pub name: String,
    /// Who gave the access.
    pub granted_by: String,
    /// When.
    pub granted_at: chrono::DateTime<chrono::Utc>,
}

impl Kansli {
    /// Whether `user` may read the secret handlingar of the ärende `row` (see the module).
    async fn needs_to_know(
        &self,
        book: &SeriesBook,
        row: &CaseRow,
        user: &User,
    ) -> Result<bool, ServiceError> {
        if let Some(id) = row.handlaggare_id
            && self
                .store
                .person(id)
                .await?
                .is_some_and(|p| p.key == user.person_key)
        {
            return Ok(true);
        }
        if self.registrator_of(book, row, user).await? {
            return Ok(true);
        }
        Ok(self
            .store
            .case_access(row.id)
            .await?
            .iter()
            .any(|g| g.person_key == user.person_key))
    }

    /// Whether `user` is a registrator of the organ the ärende's series belongs to (of any
    /// unit, for a series that belongs to no organ).
    async fn registrator_of(
        &self,
        book: &SeriesBook,
        row: &CaseRow,
        user: &User,
    ) -> Result<bool, ServiceError> {
        let registrator_units: Vec<&str> = user
            .roles
            .iter()
            .filter(|(role, _)| *role == Role::Registrator)
            .map(|(_, unit)| unit.as_str())
            .collect();
        if registrator_units.is_empty() {
            return Ok(false);
        }
        let (series, _) = book.by_id(row.series_id)?;
        let Some(organ_code) = &series.organ_code else {
            return Ok(true);
        };
        let org = self.store.org_snapshot().await?;
        let unit = org
            .organs
            .iter()
            .find(|o| &o.code == organ_code)
            .and_then(|o| o.unit_code.as_deref());
        Ok(unit.is_some_and(|u| registrator_units.contains(&u)))
    }

    /// The ärende as `user` sees it: its secret handlingar masked, and without their files,
    /// unless the user needs to know them.
    pub async fn show_case_to(&self, user: &User, number: &str) -> Result<CaseView, ServiceError> {
        let book = SeriesBook::load(self).await?;
        let row = self.case_row(&book, number).await?;
        let mut view = self.view(&book, row.clone(), true).await?;
        if view.documents.iter().any(|d| d.secrecy.is_some())
            && !self.needs_to_know(&book, &row, user).await?
        {
            for document in view.documents.iter_mut().filter(|d| d.secrecy.is_some()) {
                withhold(document);
            }
        }
        Ok(view)
    }

    /// A handling's file for `user`: refused (403) when the handling is secret and the user
    /// does not need to know it; a secret one's read is written into the ärende's history.
    pub async fn document_file_for(
        &self,
        user: &User,
        number: &str,
    ) -> Result<(FileRef, Vec<u8>), ServiceError> {
        self.read_document_file(Some(user), &user.username, number)
            .await
    }

    /// A handling's file read by `actor` from the command line (the operator of the server,
    /// who holds the database itself); a secret one's read is written into the history.
    pub async fn document_file_by(
        &self,
        actor: &super::Actor,
        number: &str,
    ) -> Result<(FileRef, Vec<u8>), ServiceError> {
        self.read_document_file(None, actor.as_str(), number).await
    }

    async fn read_document_file(
        &self,
        user: Option<&User>,
        reader: &str,
        number: &str,
    ) -> Result<(FileRef, Vec<u8>), ServiceError> {
        let (row, document) = self.document_entry(number).await?;
        let (file, content) = self.file_of(number, &document).await?;
        if document.secrecy.is_none() {
            return Ok((file, content));
        }
        if let Some(user) = user {
            let book = SeriesBook::load(self).await?;
            if !self.needs_to_know(&book, &row, user).await? {
                tracing::warn!(username = %user.username, handling = %number, "a secret handling was refused");
                return Err(ServiceError::Forbidden(format!(
                    "Handlingen {number} är sekretessmarkerad ({}); bara ärendets handläggare, \
                     diariets registratorer och de som getts åtkomst i ärendet får läsa den.",
                    document
                        .secrecy
                        .as_ref()
                        .map(|s| s.provision.as_str())
                        .unwrap_or_default()
                )));
            }
        }
        let tx = self.store.begin().await?;
        tx.append_audit(
            Some(row.id),
            reader,
            Action::SecretRead,
            Some(document.number.clone()),
            self.clock.now(),
        )
        .await?;
        tx.commit().await?;
        tracing::info!(reader, handling = %number, "a secret handling was read");
        Ok((file, content))
    }

    /// The people on an ärende's access list, for `user` who needs to know its secrets.
    pub async fn case_access_list(
        &self,
        user: &User,
        number: &str,
    ) -> Result<Vec<AccessGrant>, ServiceError> {
        let book = SeriesBook::load(self).await?;
        let row = self.case_row(&book, number).await?;
        self.keeper_of(&book, &row, user).await?;
        let org = self.store.org_snapshot().await?;
        Ok(self
            .store
            .case_access(row.id)
            .await?
            .into_iter()
            .map(|g| AccessGrant {
                name: org
                    .people
                    .iter()
                    .find(|p| p.key == g.person_key)
                    .map(|p| p.name.clone())
                    .unwrap_or_default(),
                person: g.person_key,
                granted_by: g.granted_by,
                granted_at: g.granted_at,
            })
            .collect())
    }

    /// Gives `person` (a key or an email) access to the ärende's secret handlingar, or takes
    /// it away (`grant` false). Only someone who needs to know them may, and the change is in
    /// the ärende's history. True when the list changed.
    pub async fn set_case_access(
        &self,
        by: &User,
        number: &str,
        person: &str,
        grant: bool,
    ) -> Result<bool, ServiceError> {
        let book = SeriesBook::load(self).await?;
        let row = self.case_row(&book, number).await?;
        self.keeper_of(&book, &row, by).await?;
        let person = self
            .store
            .find_person(person.trim())
            .await?
            .ok_or_else(|| {
                ServiceError::Invalid(format!(
                    "person {:?} is not in the organisation (give a person key or email)",
                    person.trim()
                ))
            })?;
        let now = self.clock.now();
        let tx = self.store.begin().await?;
        let changed = match grant {
            true => {
                tx.grant_case_access(row.id, &person.key, &by.username, now)
                    .await?
            }
            false => tx.revoke_case_access(row.id, &person.key).await?,
        };
        if changed {
            let action = match grant {
                true => Action::AccessGiven,
                false => Action::AccessTaken,
            };
            tx.append_audit(
                Some(row.id),
                &by.username,
                action,
                Some(person.key.clone()),
                now,
            )
            .await?;
        }
        tx.commit().await?;
        tracing::info!(actor = %by.username, person = %person.key, grant, changed, "case access changed");
        Ok(changed)
    }

    /// Refuses anyone who does not need to know the ärende's secrets: only they keep its
    /// access list.
    async fn keeper_of(
        &self,
        book: &SeriesBook,
        row: &CaseRow,
        user: &User,
    ) -> Result<(), ServiceError> {
        match self.needs_to_know(book, row, user).await? {
            true => Ok(()),
            false => Err(ServiceError::Forbidden(
                "Bara ärendets handläggare, diariets registratorer och de som redan har \
                 åtkomst får se och ändra vilka som når ärendets sekretessmarkerade handlingar."
                    .into(),
            )),
        }
    }
}

/// A secret handling's entry as the postlista shows it: its description and (when protected)
/// its counterpart masked, no file to follow.
fn withhold(document: &mut DocumentView) {
    document.description = MASK.to_owned();
    if document.counterpart_protected {
        document.counterpart = document.counterpart.as_ref().map(|_| MASK.to_owned());
    }
    document.file = None;
    document.withheld = true;
}
