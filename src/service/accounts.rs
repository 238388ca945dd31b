//! Staff accounts and sessions: local passwords hashed with argon2id, sessions found by the
//! hash of a random token, login throttled per account and per address.
//!
//! An account belongs to a person of the organisation and acts with that person's roles in
//! their units, so what someone may do follows the organisation as it is imported. Single sign-on
//! (OIDC or SAML, the norm in municipalities) will prove who someone is in place of the
//! password and then call [`Kansli::open_session`] for the account with that username: nothing
//! else changes.

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use chrono::{DateTime, Duration, Utc};
use serde::Serialize;

use super::{Kansli, ServiceError};
use crate::domain::organisation::Role;
use crate::store::{AccountRow, ApiTokenRow, NewAccount, SessionRow};

/// How long a session lasts: a working day.
pub const SESSION_LENGTH: Duration = Duration::hours(10);
/// Failed logins counted for throttling within this window.
pub const THROTTLE_WINDOW: Duration = Duration::minutes(15);
/// Failed logins per account within the window before it is held back.
pub const MAX_FAILURES_PER_ACCOUNT: u64 = 5;
/// Failed logins per address within the window before it is held back.
pub const MAX_FAILURES_PER_ADDRESS: u64 = 20;
/// How every API token begins, so that a leaked one is easy to recognise (secret scanners).
pub const API_TOKEN_PREFIX: &str = "kansli_";
/// The shortest password an account may have.
pub const MIN_PASSWORD_LENGTH: usize = 12;

/// Why a login did not open a session.
#[derive(Debug, thiserror::Error)]
pub enum LoginError {
    /// The username or the password is wrong (which, is not said).
    #[error("fel användarnamn eller lösenord")]
    WrongCredentials,
    /// Too many failed attempts lately; try again later.
    #[error("för många misslyckade inloggningar; försök igen om en stund")]
    Throttled,
    /// Something else failed.
    #[error(transparent)]
    Failed(#[from] ServiceError),
}

/// A new session: the token for the cookie (shown once, stored only as its hash).
#[derive(Debug, Clone)]
pub struct NewSession {
    /// The cookie's value.
    pub token: String,
    /// When it ends.
    pub expires_at: DateTime<Utc>,
}

/// Someone logged in.
#[derive(Debug, Clone, Serialize)]
pub struct User {
    /// The account's id.
    #[serde(skip)]
    pub account_id: i32,
    /// The account's username.
    pub username: String,
    /// The person's name.
    pub name: String,
    /// Whether the account administers Kansli.
    pub admin: bool,
    /// The person's roles, each with the unit it is held in.
    pub roles: Vec<(Role, String)>,
    /// The token that every form of this session must carry (CSRF).
    pub csrf_token: String,
}

impl User {
    /// Whether the user holds `role` in any unit (an administrator holds every role).
    pub fn has_role(&self, role: Role) -> bool {
        self.admin || self.roles.iter().any(|(r, _)| *r == role)
    }

    /// Whether the user holds any of `roles`.
    pub fn has_any(&self, roles: &[Role]) -> bool {
        roles.iter().any(|r| self.has_role(*r))
    }
}

fn hash_of(token: &str) -> String {
    hex::encode(<sha2::Sha256 as sha2::Digest>::digest(token.as_bytes()))
}

fn hash_password(password: &str) -> Result<String, ServiceError> {
    let salt = SaltString::encode_b64(&rand::random::<[u8; 16]>())
        .map_err(|e| anyhow::anyhow!("salt: {e}"))?;
    Ok(Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map_err(|e| anyhow::anyhow!("password hash: {e}"))?
        .to_string())
}

/// A stored hash to check against when the username is unknown, so that a wrong username takes
/// as long as a wrong password and reveals nothing.
fn decoy_hash() -> &'static str {
    static DECOY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DECOY.get_or_init(|| hash_password("kansli-decoy-password").unwrap_or_default())
}

fn password_matches(password: &str, stored: &str) -> bool {
    PasswordHash::new(stored).is_ok_and(|parsed| {
        Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok()
    })
}

/// Why the details of an account were refused. The messages are English for the CLI; the
/// administration pages say the same in Swedish ([`AccountInputError::swedish`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AccountInputError {
    /// Not 1–64 of the allowed characters.
    #[error("username {0:?}: use 1–64 letters a–z, digits and . - _ @")]
    Username(String),
    /// Shorter than [`MIN_PASSWORD_LENGTH`].
    #[error("password: at least {MIN_PASSWORD_LENGTH} characters")]
    Password,
    /// No person of the organisation has this key or email.
    #[error("person {0:?} is not in the organisation (give a person key or email)")]
    Person(String),
}

impl AccountInputError {
    /// The message for a page.
    pub fn swedish(&self) -> String {
        match self {
            Self::Username(u) => format!(
                "Användarnamnet {u:?} går inte: använd 1–64 tecken bland a–z, siffror och . - _ @."
            ),
            Self::Password => {
                format!("Lösenordet måste ha minst {MIN_PASSWORD_LENGTH} tecken.")
            }
            Self::Person(p) => format!("Personen {p:?} finns inte i organisationen."),
        }
    }
}

impl From<AccountInputError> for ServiceError {
    fn from(err: AccountInputError) -> Self {
        ServiceError::Invalid(err.to_string())
    }
}

/// A username as stored (trimmed, lower case), or why it cannot be one.
pub(crate) fn normalised_username(username: &str) -> Result<String, AccountInputError> {
    let username = username.trim().to_lowercase();
    if username.is_empty()
        || username.len() > 64
        || !username
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | '@'))
    {
        return Err(AccountInputError::Username(username));
    }
    Ok(username)
}

/// The argon2id hash of a password long enough to be one.
pub(crate) fn new_password_hash(password: &str) -> Result<String, ServiceError> {
    if password.chars().count() < MIN_PASSWORD_LENGTH {
        return Err(AccountInputError::Password.into());
    }
    hash_password(password)
}

impl Kansli {
    /// Checks a new account's details against the rules every way of creating one shares
    /// (`kansli user add`, the administration page); the account to insert, or why not.
    pub(crate) async fn new_account(
        &self,
        username: &str,
        person: &str,
        password: &str,
        admin: bool,
    ) -> Result<Result<NewAccount, AccountInputError>, ServiceError> {
        let username = match normalised_username(username) {
            Ok(u) => u,
            Err(e) => return Ok(Err(e)),
        };
        if password.chars().count() < MIN_PASSWORD_LENGTH {
            return Ok(Err(AccountInputError::Password));
        }
        let Some(person) = self.store.find_person(person).await? else {
            return Ok(Err(AccountInputError::Person(person.to_owned())));
        };
        // Argon2 is slow on purpose: off the async threads.
        let candidate = password.to_owned();
        let password_hash = tokio::task::spawn_blocking(move || hash_password(&candidate))
            .await
            .map_err(|e| ServiceError::Unexpected(e.into()))??;
        Ok(Ok(NewAccount {
            username,
            person_key: person.key,
            password_hash,
            admin,
        }))
    }

    /// Creates an account for a person of the organisation.
    pub async fn add_account(
        &self,
        username: &str,
        person: &str,
        password: &str,
        admin: bool,
    ) -> Result<AccountRow, ServiceError> {
        let new = self
            .new_account(username, person, password, admin)
            .await??;
        Ok(self.store.insert_account(new, self.clock.now()).await?)
    }

    /// Checks a username and password from `address` and opens a new session. A new token
    /// every time, so a session id planted before login is worth nothing after it.
    pub async fn login(
        &self,
        username: &str,
        password: &str,
        address: &str,
    ) -> Result<NewSession, LoginError> {
        let now = self.clock.now();
        let username = username.trim().to_lowercase();
        let by_account = format!("konto:{username}");
        let by_address = format!("adress:{address}");
        let since = now - THROTTLE_WINDOW;
        let store = &self.store;
        let failures = |subject: String| async move {
            store
                .failed_logins_since(&subject, since)
                .await
                .map_err(ServiceError::from)
        };
        if failures(by_account.clone()).await? >= MAX_FAILURES_PER_ACCOUNT
            || failures(by_address.clone()).await? >= MAX_FAILURES_PER_ADDRESS
        {
            tracing::warn!(%username, %address, "login throttled");
            return Err(LoginError::Throttled);
        }
        let account = store
            .account_by_username(&username)
            .await
            .map_err(ServiceError::from)?;
        let stored = account
            .as_ref()
            .map_or_else(|| decoy_hash().to_owned(), |a| a.password_hash.clone());
        // Argon2 is slow on purpose: off the async threads.
        let candidate = password.to_owned();
        let matches = tokio::task::spawn_blocking(move || password_matches(&candidate, &stored))
            .await
            .map_err(|e| ServiceError::Unexpected(e.into()))?;
        let account = match account {
            Some(a) if matches && a.disabled_at.is_none() => a,
            _ => {
                for subject in [&by_account, &by_address] {
                    store
                        .record_login_attempt(subject, false, now)
                        .await
                        .map_err(ServiceError::from)?;
                }
                tracing::warn!(%username, %address, "login refused");
                return Err(LoginError::WrongCredentials);
            }
        };
        store
            .record_login_attempt(&by_account, true, now)
            .await
            .map_err(ServiceError::from)?;
        Ok(self.open_session(&account).await?)
    }

    /// Opens a session for an account whose holder has been proven (by password, or later by
    /// single sign-on).
    pub async fn open_session(&self, account: &AccountRow) -> Result<NewSession, ServiceError> {
        let now = self.clock.now();
        let token = hex::encode(rand::random::<[u8; 32]>());
        let expires_at = now + SESSION_LENGTH;
        self.store
            .insert_session(SessionRow {
                token_sha256: hash_of(&token),
                account_id: account.id,
                csrf_token: hex::encode(rand::random::<[u8; 32]>()),
                created_at: now,
                expires_at,
            })
            .await?;
        tracing::info!(username = %account.username, "logged in");
        Ok(NewSession { token, expires_at })
    }

    /// The user of a session token, while the session lives and the account is enabled.
    pub async fn session_user(&self, token: &str) -> Result<Option<User>, ServiceError> {
        let Some(session) = self
            .store
            .session(&hash_of(token), self.clock.now())
            .await?
        else {
            return Ok(None);
        };
        let Some(account) = self.store.account(session.account_id).await? else {
            return Ok(None);
        };
        self.user_of(account, session.csrf_token).await
    }

    /// The account as a user with its person's roles; none when the account is disabled.
    async fn user_of(
        &self,
        account: AccountRow,
        csrf_token: String,
    ) -> Result<Option<User>, ServiceError> {
        if account.disabled_at.is_some() {
            return Ok(None);
        }
        let (name, roles) = match self.store.person_with_roles(&account.person_key).await? {
            Some((person, held)) => {
                let roles = held
                    .into_iter()
                    .filter_map(|(role, unit)| Some((role.parse::<Role>().ok()?, unit)))
                    .collect();
                (person.name, roles)
            }
            None => (account.username.clone(), Vec::new()),
        };
        Ok(Some(User {
            account_id: account.id,
            name,
            username: account.username,
            admin: account.admin,
            roles,
            csrf_token,
        }))
    }

    /// Creates a personal API token for the account `username`, valid for `days` (for ever
    /// when `None`). The token is returned once and kept only as its hash.
    pub async fn create_api_token(
        &self,
        username: &str,
        name: &str,
        days: Option<u32>,
    ) -> Result<(ApiTokenRow, String), ServiceError> {
        let name = name.trim();
        if name.is_empty() || name.chars().count() > 100 {
            return Err(ServiceError::Invalid(
                "the token's name must be 1 to 100 characters (what it is for)".into(),
            ));
        }
        let account = self
            .store
            .account_by_username(&username.trim().to_lowercase())
            .await?
            .ok_or_else(|| ServiceError::NotFound(format!("no account named {username:?}")))?;
        let now = self.clock.now();
        let token = format!(
            "{API_TOKEN_PREFIX}{}",
            hex::encode(rand::random::<[u8; 32]>())
        );
        let expires_at = days.map(|d| now + Duration::days(i64::from(d)));
        let row = self
            .store
            .insert_api_token(account.id, name, &hash_of(&token), now, expires_at)
            .await?;
        tracing::info!(username = %account.username, token = %name, "API token created");
        Ok((row, token))
    }

    /// The user of a live API token; none when it is unknown, revoked, expired or its account
    /// is disabled.
    pub async fn token_user(&self, token: &str) -> Result<Option<User>, ServiceError> {
        if !token.starts_with(API_TOKEN_PREFIX) {
            return Ok(None);
        }
        let now = self.clock.now();
        let Some(row) = self.store.use_api_token(&hash_of(token), now).await? else {
            return Ok(None);
        };
        let Some(account) = self.store.account(row.account_id).await? else {
            return Ok(None);
        };
        self.user_of(account, String::new()).await
    }

    /// The API tokens of the account `username`, newest first.
    pub async fn api_tokens(&self, username: &str) -> Result<Vec<ApiTokenRow>, ServiceError> {
        let account = self
            .store
            .account_by_username(&username.trim().to_lowercase())
            .await?
            .ok_or_else(|| ServiceError::NotFound(format!("no account named {username:?}")))?;
        Ok(self.store.api_tokens_of(account.id).await?)
    }

    /// Revokes the token `id` of the account `username`.
    pub async fn revoke_api_token(&self, username: &str, id: i32) -> Result<(), ServiceError> {
        let account = self
            .store
            .account_by_username(&username.trim().to_lowercase())
            .await?
            .ok_or_else(|| ServiceError::NotFound(format!("no account named {username:?}")))?;
        match self
            .store
            .revoke_api_token(account.id, id, self.clock.now())
            .await?
        {
            true => {
                tracing::info!(username = %account.username, token = id, "API token revoked");
                Ok(())
            }
            false => Err(ServiceError::NotFound(format!(
                "{username} has no live API token {id}"
            ))),
        }
    }

    /// Ends a session.
    pub async fn logout(&self, token: &str) -> Result<(), ServiceError> {
        Ok(self.store.delete_session(&hash_of(token)).await?)
    }
}
