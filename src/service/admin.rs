//! Administration: the organisation, the diarieserier, accounts and the roles people hold, and
//! the outbox, for administrators (accounts with the admin flag) only.
//!
//! Every use case takes the acting [`User`] and refuses one who is not an administrator itself,
//! so a page that forgot its check still cannot do an administrator's work. Every change is
//! written together with its entry in the audit trail (`audit_event` without an ärende) in one
//! transaction, and logged at info with the actor. Problems with the input come back per field,
//! in Swedish, for the page's error summary; nothing is written when there is one.

use chrono::{DateTime, Utc};

use super::accounts::{AccountInputError, User, new_password_hash, password_problem};
use super::{ImportSummary, Kansli, MessageView, ServiceError, optional_text, required_text};
use crate::domain::audit::Action;
use crate::domain::case_number::{CaseNumberParts, SeriesFormat, is_class_char};
use crate::domain::organisation::Role;
use crate::store::{AccountRow, OrgSnapshot, OutboxStatus, SeriesRow};

/// Why an administrator's request was not carried out.
#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    /// The user is not an administrator; nothing was read or written.
    #[error("{0} is not an administrator")]
    NotAdmin(String),
    /// The input is wrong; each problem names its field. Nothing was written.
    #[error("{}", .0.iter().map(|p| p.message.as_str()).collect::<Vec<_>>().join(" "))]
    Invalid(Vec<Problem>),
    /// What the request names does not exist. Nothing was written.
    #[error("{0}")]
    NotFound(String),
    /// Anything else.
    #[error(transparent)]
    Service(#[from] ServiceError),
}

impl From<crate::store::StoreError> for AdminError {
    fn from(err: crate::store::StoreError) -> Self {
        Self::Service(err.into())
    }
}

/// A problem with one field of a form, in Swedish.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Problem {
    /// The field (its form name).
    pub field: String,
    /// What is wrong, in Swedish.
    pub message: String,
}

fn problem(field: &str, message: impl Into<String>) -> Problem {
    Problem {
        field: field.to_owned(),
        message: message.into(),
    }
}

fn invalid(field: &str, message: impl Into<String>) -> AdminError {
    AdminError::Invalid(vec![problem(field, message)])
}

/// A diarieserie to add or change, as typed.
#[derive(Debug, Clone, Default)]
pub struct SeriesInput {
    /// The prefix (an existing one changes that series).
    pub prefix: String,
    /// Its name.
    pub name: String,
    /// The number format.
    pub format: String,
    /// The classification code an ärende gets when none is given.
    pub default_classification: String,
    /// The organ whose diarium it is (empty: none).
    pub organ: String,
}

/// A diarieserie with an example of its numbers.
#[derive(Debug, Clone, serde::Serialize)]
pub struct SeriesView {
    /// The prefix.
    pub prefix: String,
    /// The name.
    pub name: String,
    /// The format template.
    pub format: String,
    /// How a number of the series reads.
    pub example: String,
    /// The default classification code.
    pub default_classification: Option<String>,
    /// The organ's code.
    pub organ: Option<String>,
}

/// A new account, as typed.
#[derive(Debug, Clone, Default)]
pub struct AccountInput {
    /// The login name.
    pub username: String,
    /// The person's key or email.
    pub person: String,
    /// The first password.
    pub password: String,
    /// Whether it administers Kansli.
    pub admin: bool,
}

/// Messages on a page of the outbox.
pub const OUTBOX_PAGE: u64 = 100;

/// The statuses the outbox can be filtered by.
pub const OUTBOX_STATUSES: [OutboxStatus; 4] = OutboxStatus::ALL;

fn example_number(prefix: &str, format: &SeriesFormat) -> String {
    format.render(
        prefix,
        &CaseNumberParts {
            year: 2026,
            seq: 41,
            classification: Some("2.4.1".into()),
        },
    )
}

/// A Swedish message for a format the parser refused.
fn format_problem(e: &crate::domain::case_number::FormatError) -> String {
    use crate::domain::case_number::FormatError as F;
    match e {
        F::Unclosed(_) => "Formatet har en { utan avslutande }.".into(),
        F::UnknownPlaceholder(p) => format!(
            "Formatet har den okända platshållaren {{{p}}}; använd {{prefix}}, {{year}}, {{seq}}, {{seq:N}} (N = 1–9) eller {{class}}."
        ),
        F::Count(what) => format!("Formatet måste innehålla {{{what}}} exakt en gång."),
        F::Adjacent(a, b) => format!(
            "{{{a}}} och {{{b}}} måste ha text emellan sig, annars går numret inte att läsa tillbaka."
        ),
        F::RunsOn(part, _) => format!(
            "Efter {{{part}}} måste det stå ett skiljetecken som inte är en siffra, en bokstav, punkt eller bindestreck (och inte {{prefix}}), annars går numret inte att läsa tillbaka."
        ),
    }
}

impl Kansli {
    /// The acting user, if an administrator; logged and refused otherwise.
    fn admin_only(&self, by: &User, what: &str) -> Result<(), AdminError> {
        if by.admin {
            return Ok(());
        }
        tracing::warn!(username = %by.username, %what, "refused: not an administrator");
        Err(AdminError::NotAdmin(by.username.clone()))
    }

    /// The whole organisation, as stored.
    pub async fn admin_organisation(&self, by: &User) -> Result<OrgSnapshot, AdminError> {
        self.admin_only(by, "read the organisation")?;
        Ok(self.store.org_snapshot().await?)
    }

    /// Imports an organisation file (the TOML `kansli org import` reads). Every problem comes
    /// back with its line, as the CLI shows it, and nothing is written unless the whole file is
    /// valid.
    pub async fn admin_import_organisation(
        &self,
        by: &User,
        file: &str,
        text: &str,
    ) -> Result<ImportSummary, AdminError> {
        self.admin_only(by, "import the organisation")?;
        if text.trim().is_empty() {
            return Err(invalid(
                "organisation",
                "Organisationsfilen är tom: klistra in den eller välj en fil.",
            ));
        }
        match self.import_organisation_by(file, text, &by.username).await {
            Ok(summary) => {
                tracing::info!(actor = %by.username, %file, ?summary, "organisation imported");
                Ok(summary)
            }
            // The first line says nothing was imported; the rest are the problems, one a line.
            Err(ServiceError::Invalid(m)) => {
                let lead = problem(
                    "organisation",
                    "Ingenting importerades. Rätta de här raderna i filen och importera igen:",
                );
                Err(AdminError::Invalid(
                    std::iter::once(lead)
                        .chain(
                            m.lines()
                                .filter(|l| !l.starts_with("nothing was imported"))
                                .map(|l| problem("organisation", l)),
                        )
                        .collect(),
                ))
            }
            Err(e) => Err(e.into()),
        }
    }

    /// Every diarieserie, with an example number.
    pub async fn admin_series(&self, by: &User) -> Result<Vec<SeriesView>, AdminError> {
        self.admin_only(by, "read the series")?;
        let rows = self.store.all_series().await?;
        Ok(rows
            .into_iter()
            .map(|row| SeriesView {
                example: SeriesFormat::parse(&row.format)
                    .map(|f| example_number(&row.prefix, &f))
                    .unwrap_or_default(),
                prefix: row.prefix,
                name: row.name,
                format: row.format,
                default_classification: row.default_classification,
                organ: row.organ_code,
            })
            .collect())
    }

    /// Adds a diarieserie, or changes the one with this prefix (in any letter case). Numbers are
    /// stored in parts, so a new format changes how every number of the series reads without
    /// renumbering; a format that shows the classification is refused while ärenden of the
    /// series lack one, since their numbers could not be read back. The prefix as stored, and
    /// whether the series is new.
    pub async fn admin_save_series(
        &self,
        by: &User,
        input: SeriesInput,
    ) -> Result<(String, bool), AdminError> {
        self.admin_only(by, "change a series")?;
        let org = self.store.org_snapshot().await?;
        let mut problems = Vec::new();
        let prefix = input.prefix.trim();
        if prefix.is_empty() || !prefix.chars().all(|c| c.is_alphanumeric() || c == '-') {
            problems.push(problem(
                "prefix",
                "Prefixet måste vara ett ord av bokstäver och siffror (t.ex. KS).",
            ));
        }
        let existing = org
            .series
            .iter()
            .find(|s| s.prefix.eq_ignore_ascii_case(prefix));
        let prefix = existing.map_or_else(|| prefix.to_owned(), |s| s.prefix.clone());
        let name = match required_text("name", &input.name, 200) {
            Ok(n) => n,
            Err(_) => {
                problems.push(problem(
                    "name",
                    "Namnet måste fyllas i, med högst 200 tecken och utan radbrytningar.",
                ));
                String::new()
            }
        };
        if name.contains('\n') {
            problems.push(problem("name", "Namnet får inte ha radbrytningar."));
        }
        let format_text = input.format.trim();
        let format = match SeriesFormat::parse(format_text) {
            Ok(f) => Some(f),
            Err(e) => {
                problems.push(problem("format", format_problem(&e)));
                None
            }
        };
        let classification =
            optional_text("classification", Some(&input.default_classification), 40)
                .ok()
                .flatten();
        if let Some(code) = &classification
            && !code.chars().all(is_class_char)
        {
            problems.push(problem(
                "default_classification",
                "Standardklassificeringen får bara ha bokstäver, siffror, punkt och bindestreck (t.ex. 2.4.1).",
            ));
        }
        let organ = Some(input.organ.trim().to_owned()).filter(|o| !o.is_empty());
        if let Some(o) = &organ
            && !org.organs.iter().any(|x| x.code == *o)
        {
            problems.push(problem("organ", format!("Organet {o:?} finns inte.")));
        }
        if let (Some(f), Some(s)) = (&format, existing)
            && f.shows_classification()
        {
            let lacking = self.store.unclassified_cases(s.id).await?;
            if lacking > 0 {
                problems.push(problem(
                    "format",
                    format!(
                        "Formatet visar klassificeringen, men {lacking} ärenden i serien {} saknar klassificering; deras nummer skulle inte gå att läsa.",
                        s.prefix
                    ),
                ));
            }
        }
        if !problems.is_empty() {
            return Err(AdminError::Invalid(problems));
        }
        let row = SeriesRow {
            id: 0,
            prefix: prefix.clone(),
            name,
            format: format_text.to_owned(),
            default_classification: classification,
            organ_code: organ,
        };
        let created = existing.is_none();
        let tx = self.store.begin().await?;
        tx.upsert_series(&row).await?;
        tx.append_audit(
            None,
            &by.username,
            if created {
                Action::SeriesCreated
            } else {
                Action::SeriesChanged
            },
            Some(format!("{prefix}: {} ({})", row.name, row.format)),
            self.clock.now(),
        )
        .await?;
        tx.commit().await?;
        tracing::info!(actor = %by.username, %prefix, format = %row.format, created, "series saved");
        Ok((prefix, created))
    }

    /// Every account, by username.
    pub async fn admin_accounts(&self, by: &User) -> Result<Vec<AccountRow>, AdminError> {
        self.admin_only(by, "read the accounts")?;
        Ok(self.store.accounts().await?)
    }

    /// Creates an account for a person, by the rules of `kansli user add`.
    pub async fn admin_add_account(
        &self,
        by: &User,
        input: AccountInput,
    ) -> Result<AccountRow, AdminError> {
        self.admin_only(by, "create an account")?;
        let new = match self
            .new_account(&input.username, &input.person, &input.password, input.admin)
            .await?
        {
            Ok(new) => new,
            Err(e) => {
                let field = match e {
                    AccountInputError::Username(_) => "username",
                    AccountInputError::Password | AccountInputError::WeakPassword => "password",
                    AccountInputError::Person(_) => "person",
                };
                return Err(invalid(field, e.swedish()));
            }
        };
        let tx = self.store.begin().await?;
        let row = match tx.insert_account(new, self.clock.now()).await {
            Ok(row) => row,
            Err(crate::store::StoreError::Conflict(_)) => {
                return Err(invalid(
                    "username",
                    format!(
                        "Användarnamnet {:?} är redan taget.",
                        input.username.trim().to_lowercase()
                    ),
                ));
            }
            Err(e) => return Err(e.into()),
        };
        tx.append_audit(
            None,
            &by.username,
            Action::AccountCreated,
            Some(format!(
                "{} för {}{}",
                row.username,
                row.person_key,
                if row.admin { " (administratör)" } else { "" }
            )),
            self.clock.now(),
        )
        .await?;
        tx.commit().await?;
        tracing::info!(actor = %by.username, username = %row.username, person = %row.person_key, admin = row.admin, "account created");
        Ok(row)
    }

    async fn account_named(&self, username: &str) -> Result<AccountRow, AdminError> {
        let username = username.trim().to_lowercase();
        self.store
            .account_by_username(&username)
            .await?
            .ok_or_else(|| AdminError::NotFound(format!("Kontot {username:?} finns inte.")))
    }

    /// Turns an account off (its sessions end, its API tokens are revoked, and it cannot log
    /// in) or on again. An
    /// administrator cannot turn off their own account, so there is always one left to undo it.
    pub async fn admin_set_account_enabled(
        &self,
        by: &User,
        username: &str,
        enabled: bool,
    ) -> Result<(), AdminError> {
        self.admin_only(by, "turn an account off or on")?;
        let account = self.account_named(username).await?;
        if !enabled && account.username == by.username {
            return Err(invalid("konton", "Du kan inte stänga av ditt eget konto."));
        }
        let now = self.clock.now();
        let disabled_at: Option<DateTime<Utc>> = (!enabled).then_some(now);
        let tx = self.store.begin().await?;
        tx.set_account_disabled(account.id, disabled_at).await?;
        if !enabled {
            tx.delete_sessions_of(account.id).await?;
            tx.revoke_api_tokens_of(account.id, now).await?;
        }
        tx.append_audit(
            None,
            &by.username,
            if enabled {
                Action::AccountEnabled
            } else {
                Action::AccountDisabled
            },
            Some(account.username.clone()),
            now,
        )
        .await?;
        tx.commit().await?;
        tracing::info!(actor = %by.username, username = %account.username, enabled, "account turned on or off");
        Ok(())
    }

    /// Gives an account a new password; its sessions end and its API tokens are revoked.
    pub async fn admin_set_password(
        &self,
        by: &User,
        username: &str,
        password: &str,
    ) -> Result<(), AdminError> {
        self.admin_only(by, "set a password")?;
        let account = self.account_named(username).await?;
        let name = self
            .store
            .find_person(&account.person_key)
            .await?
            .map(|p| p.name)
            .unwrap_or_default();
        if let Some(problem) =
            password_problem(password, &[&account.username, &account.person_key, &name])
        {
            return Err(invalid("new_password", problem.swedish()));
        }
        let candidate = password.to_owned();
        // Argon2 is slow on purpose: off the async threads.
        let hash = tokio::task::spawn_blocking(move || new_password_hash(&candidate, &[]))
            .await
            .map_err(|e| ServiceError::Unexpected(e.into()))??;
        let now = self.clock.now();
        let tx = self.store.begin().await?;
        tx.set_account_password(account.id, &hash).await?;
        // A new password ends every way in the old one may have given: sessions and tokens.
        tx.delete_sessions_of(account.id).await?;
        tx.revoke_api_tokens_of(account.id, now).await?;
        tx.append_audit(
            None,
            &by.username,
            Action::PasswordChanged,
            Some(account.username.clone()),
            now,
        )
        .await?;
        tx.commit().await?;
        tracing::info!(actor = %by.username, username = %account.username, "password set");
        Ok(())
    }

    /// Makes the roles a person holds exactly `roles` (role, unit code). What a person may do
    /// follows at their next request. The next import of an organisation file that lists the
    /// person sets their roles to the file's again.
    pub async fn admin_set_roles(
        &self,
        by: &User,
        person: &str,
        roles: &[(Role, String)],
    ) -> Result<(), AdminError> {
        self.admin_only(by, "set roles")?;
        let org = self.store.org_snapshot().await?;
        let person = org
            .people
            .iter()
            .find(|p| p.key == person.trim())
            .ok_or_else(|| AdminError::NotFound(format!("Personen {person:?} finns inte.")))?;
        let mut rows = Vec::with_capacity(roles.len());
        let mut problems = Vec::new();
        for (role, unit) in roles {
            match org.units.iter().find(|u| u.code == *unit) {
                Some(u) => rows.push((role.code().to_owned(), u.id)),
                None => problems.push(problem("roller", format!("Enheten {unit:?} finns inte."))),
            }
        }
        if !problems.is_empty() {
            return Err(AdminError::Invalid(problems));
        }
        let mut labels: Vec<String> = roles
            .iter()
            .map(|(r, u)| format!("{} ({u})", r.label()))
            .collect();
        labels.sort();
        labels.dedup();
        let tx = self.store.begin().await?;
        tx.set_roles(person.id, &rows).await?;
        tx.append_audit(
            None,
            &by.username,
            Action::RolesChanged,
            Some(format!(
                "{}: {}",
                person.key,
                if labels.is_empty() {
                    "inga".to_owned()
                } else {
                    labels.join(", ")
                }
            )),
            self.clock.now(),
        )
        .await?;
        tx.commit().await?;
        tracing::info!(actor = %by.username, person = %person.key, roles = %labels.join(", "), "roles set");
        Ok(())
    }

    /// A page of the outbox, newest first: at most [`OUTBOX_PAGE`] messages older than the
    /// message `before` (from the newest when `None`), only those of `status` when given.
    /// Returns them and, when older ones are left, the id the next page starts before.
    pub async fn admin_messages_page(
        &self,
        by: &User,
        status: Option<&str>,
        before: Option<i32>,
    ) -> Result<(Vec<MessageView>, Option<i32>), AdminError> {
        self.outbox_reader(by, status)?;
        let (messages, more) = self.messages_page(status, before, OUTBOX_PAGE).await?;
        let older = messages.last().filter(|_| more).map(|m| m.id);
        Ok((messages, older))
    }

    /// How many messages in the outbox have `status`.
    pub async fn admin_message_count(
        &self,
        by: &User,
        status: OutboxStatus,
    ) -> Result<u64, AdminError> {
        self.outbox_reader(by, Some(&status.code()))?;
        Ok(self.store.count_outbox(status).await?)
    }

    /// Whether `by` may read the outbox, filtered by `status` when given.
    fn outbox_reader(&self, by: &User, status: Option<&str>) -> Result<(), AdminError> {
        self.admin_only(by, "read the outbox")?;
        match status {
            Some(s) if OutboxStatus::from_code(s).is_none() => {
                Err(invalid("status", format!("Okänd status {s:?}.")))
            }
            _ => Ok(()),
        }
    }

    /// Queues a failed message again, to be sent at once.
    pub async fn admin_retry_message(&self, by: &User, id: i32) -> Result<MessageView, AdminError> {
        self.admin_only(by, "retry a message")?;
        let actor = super::Actor::new(by.username.clone());
        match self.retry_message(id, &actor).await {
            Ok(view) => {
                tracing::info!(actor = %by.username, outbox = id, "message queued again");
                Ok(view)
            }
            Err(ServiceError::NotFound(_)) => {
                Err(AdminError::NotFound(format!("Meddelande {id} finns inte.")))
            }
            Err(ServiceError::Invalid(_)) => Err(invalid(
                "meddelanden",
                format!(
                    "Meddelande {id} har inte misslyckats; bara ett misslyckat meddelande kan skickas igen."
                ),
            )),
            Err(e) => Err(e.into()),
        }
    }

    /// The timers whose step failed, for the administrator's overview.
    pub async fn admin_failed_timers(
        &self,
        by: &User,
    ) -> Result<Vec<super::FailedTimer>, AdminError> {
        self.admin_only(by, "read the failed timers")?;
        Ok(self.failed_timers().await?)
    }

    /// Puts a failed timer back in the queue.
    pub async fn admin_retry_timer(&self, by: &User, id: i32) -> Result<(), AdminError> {
        self.admin_only(by, "retry a timer")?;
        let actor = super::Actor::new(by.username.clone());
        match self.retry_timer(id, &actor).await {
            Ok(()) => {
                tracing::info!(actor = %by.username, timer = id, "failed timer queued again");
                Ok(())
            }
            Err(ServiceError::NotFound(_)) => Err(AdminError::NotFound(format!(
                "Timer {id} är ingen misslyckad timer."
            ))),
            Err(e) => Err(e.into()),
        }
    }
}
