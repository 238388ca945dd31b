//! Staff accounts and sessions: local passwords hashed with argon2id and refused when easy to
//! guess, sessions found by the hash of a random token that end at their absolute end or when
//! idle, and logins throttled per address, per account and address, and with a back-off per
//! account that never locks the owner out of an address they have logged in from.
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

/// How long a session lasts at most: a working day.
pub const SESSION_LENGTH: Duration = Duration::hours(10);
/// How long a session may go unused before it ends, unless the settings say otherwise.
pub const SESSION_IDLE: Duration = Duration::minutes(60);
/// Failed logins counted for throttling within this window.
pub const THROTTLE_WINDOW: Duration = Duration::minutes(15);
/// Failed logins for one account from one address within the window before that address is
/// held back for that account (the owner elsewhere is not).
pub const MAX_FAILURES_PER_ACCOUNT_AND_ADDRESS: u64 = 5;
/// Failed logins from one address within the window before it is held back.
pub const MAX_FAILURES_PER_ADDRESS: u64 = 20;
/// Failed logins for an account from anywhere within the window before it backs off: an
/// address it has not logged in from must then wait a delay that doubles with every failure.
pub const ACCOUNT_BACKOFF_AFTER: u64 = 10;
/// The longest back-off.
pub const MAX_ACCOUNT_BACKOFF: Duration = Duration::minutes(5);
/// How long an address an account logged in from stays known to it (free of its back-off).
pub const KNOWN_ADDRESS: Duration = Duration::days(90);
/// How every API token begins, so that a leaked one is easy to recognise (secret scanners).
pub const API_TOKEN_PREFIX: &str = "kansli_";
/// How long an API token lives when its creator names no lifetime.
pub const API_TOKEN_DAYS: u32 = 365;
/// The shortest password an account may have.
pub const MIN_PASSWORD_LENGTH: usize = 12;
/// The least zxcvbn score (0–4) a password must have: 3 is "safely unguessable" (about 10^8
/// guesses and more), which every common password, keyboard walk, repetition and dictionary
/// word with digits falls short of.
pub const MIN_PASSWORD_SCORE: u8 = 3;

/// The delay an account with `failures` failed logins in the window imposes on addresses it
/// has not logged in from: one second after [`ACCOUNT_BACKOFF_AFTER`], doubling with each
/// failure, at most [`MAX_ACCOUNT_BACKOFF`].
fn account_backoff(failures: u64) -> Duration {
    let doublings = failures.saturating_sub(ACCOUNT_BACKOFF_AFTER + 1).min(20);
    Duration::seconds(1_i64 << doublings).min(MAX_ACCOUNT_BACKOFF)
}

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
    /// The key of the person the account belongs to.
    #[serde(skip)]
    pub person_key: String,
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
    /// Long enough, but easy to guess: a common password, a word with digits, a repetition
    /// or a keyboard walk, or the person's own name.
    #[error(
        "password: too easy to guess (a common password, a word with digits, a repetition or a \
         name); use a phrase of several uncommon words"
    )]
    WeakPassword,
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
            Self::WeakPassword => "Lösenordet är för lätt att gissa: det är ett vanligt \
                lösenord, ett ord med siffror, en upprepning, en tangentbordsföljd eller ett \
                namn. Välj en fras av flera ovanliga ord."
                .to_owned(),
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

/// Why `password` may not be an account's, if it may not: too short, holding a word of
/// `hints` (the username, the person's name), or too easy to guess by zxcvbn's estimate.
pub(crate) fn password_problem(password: &str, hints: &[&str]) -> Option<AccountInputError> {
    if password.chars().count() < MIN_PASSWORD_LENGTH {
        return Some(AccountInputError::Password);
    }
    // zxcvbn's cost grows with the length; a passphrase is well within this.
    let examined: String = password.chars().take(100).collect();
    // A name is guessed as it is typed on any keyboard: each word, and without its accents.
    let mut words: Vec<String> = Vec::new();
    for hint in hints {
        for word in std::iter::once(*hint).chain(hint.split(|c: char| !c.is_alphanumeric())) {
            let word = word.to_lowercase();
            if word.chars().count() >= 3 {
                words.push(without_accents(&word));
                words.push(word);
            }
        }
    }
    // A password with the person's own name in it is among the first an attacker tries,
    // whatever zxcvbn makes of the rest.
    let folded = without_accents(&examined.to_lowercase());
    if words
        .iter()
        .any(|w| w.chars().count() >= 4 && folded.contains(w.as_str()))
    {
        return Some(AccountInputError::WeakPassword);
    }
    let words: Vec<&str> = words.iter().map(String::as_str).collect();
    let score = u8::from(zxcvbn::zxcvbn(&examined, &words).score());
    (score < MIN_PASSWORD_SCORE).then_some(AccountInputError::WeakPassword)
}

/// `word` with the accented letters of Swedish and the names in a municipality's staff
/// written plainly (`hadžić` as `hadzic`, `åström` as `astrom`).
fn without_accents(word: &str) -> String {
    word.chars()
        .map(|c| match c {
            'å' | 'ä' | 'á' | 'à' | 'â' | 'ã' => 'a',
            'ö' | 'ø' | 'ó' | 'ò' | 'ô' | 'õ' => 'o',
            'é' | 'è' | 'ê' | 'ë' => 'e',
            'ü' | 'ú' | 'ù' | 'û' => 'u',
            'í' | 'ì' | 'î' | 'ï' => 'i',
            'č' | 'ć' | 'ç' => 'c',
            'š' | 'ś' => 's',
            'ž' | 'ź' | 'ż' => 'z',
            'đ' => 'd',
            'ñ' | 'ń' => 'n',
            'ł' => 'l',
            other => other,
        })
        .collect()
}

/// The argon2id hash of a password that may be an account's (see [`password_problem`]).
pub(crate) fn new_password_hash(password: &str, hints: &[&str]) -> Result<String, ServiceError> {
    if let Some(problem) = password_problem(password, hints) {
        return Err(problem.into());
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
        let Some(person) = self.store.find_person(person).await? else {
            return Ok(Err(AccountInputError::Person(person.to_owned())));
        };
        if let Some(problem) = password_problem(password, &[&username, &person.name, &person.key]) {
            return Ok(Err(problem));
        }
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

    /// Every account, by username.
    pub async fn accounts(&self) -> Result<Vec<crate::store::AccountRow>, ServiceError> {
        Ok(self.store.accounts().await?)
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
    ///
    /// The attempt is recorded as failed before the password is checked, and counted after,
    /// so that attempts made at the same moment count each other (see
    /// [`crate::store::Store::record_login_attempts`]); a right password marks it as
    /// succeeded. Held back (429): an address with [`MAX_FAILURES_PER_ADDRESS`] failures in
    /// the window, an account from an address with [`MAX_FAILURES_PER_ACCOUNT_AND_ADDRESS`],
    /// and an account with more than [`ACCOUNT_BACKOFF_AFTER`] failures from an address it
    /// has not logged in from within [`KNOWN_ADDRESS`], until a delay that doubles with each
    /// failure has passed since the last one.
    pub async fn login(
        &self,
        username: &str,
        password: &str,
        address: &str,
    ) -> Result<NewSession, LoginError> {
        let now = self.clock.now();
        let username = username.trim().to_lowercase();
        let by_pair = format!("konto:{username} adress:{address}");
        let by_address = format!("adress:{address}");
        let by_account = format!("konto:{username}");
        let store = &self.store;
        let failed = |e: crate::store::StoreError| LoginError::Failed(e.into());
        let ids = store
            .record_login_attempts(
                &[by_pair.clone(), by_address.clone(), by_account.clone()],
                now,
            )
            .await
            .map_err(failed)?;
        let since = now - THROTTLE_WINDOW;
        let failures = |subject: String| async move {
            store
                .failed_logins_since(&subject, since)
                .await
                .map_err(failed)
        };
        let throttled = |why: &'static str| {
            tracing::warn!(%username, %address, why, "login throttled");
            Err(LoginError::Throttled)
        };
        // Each count includes this attempt.
        if failures(by_address.clone()).await? > MAX_FAILURES_PER_ADDRESS {
            return throttled("address");
        }
        if failures(by_pair.clone()).await? > MAX_FAILURES_PER_ACCOUNT_AND_ADDRESS {
            return throttled("account from this address");
        }
        let on_account = failures(by_account.clone()).await?;
        if on_account > ACCOUNT_BACKOFF_AFTER
            && !store
                .login_succeeded_since(&by_pair, now - KNOWN_ADDRESS)
                .await
                .map_err(failed)?
        {
            let delay = account_backoff(on_account);
            let previous = store
                .previous_failed_login(&by_account, ids[2])
                .await
                .map_err(failed)?;
            if previous.is_some_and(|at| now - at < delay) {
                return throttled("account back-off");
            }
        }
        let account = store.account_by_username(&username).await.map_err(failed)?;
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
                tracing::warn!(%username, %address, "login refused");
                return Err(LoginError::WrongCredentials);
            }
        };
        store.login_attempts_succeeded(&ids).await.map_err(failed)?;
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
                last_seen_at: Some(now),
            })
            .await?;
        tracing::info!(username = %account.username, "logged in");
        Ok(NewSession { token, expires_at })
    }

    /// The user of a session token, while the session lives and the account is enabled.
    pub async fn session_user(&self, token: &str) -> Result<Option<User>, ServiceError> {
        let Some(session) = self
            .store
            .session(&hash_of(token), self.clock.now(), self.session_idle)
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
            person_key: account.person_key.clone(),
            name,
            username: account.username,
            admin: account.admin,
            roles,
            csrf_token,
        }))
    }

    /// Creates a personal API token for the account `username`, valid for `days` (for
    /// [`API_TOKEN_DAYS`] when `None`). The token is returned once and kept only as its hash.
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
        let days = days.unwrap_or(API_TOKEN_DAYS);
        if days == 0 {
            return Err(ServiceError::Invalid(
                "days: a token lives at least one day".into(),
            ));
        }
        let expires_at = Some(now + Duration::days(i64::from(days)));
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

    /// Deletes what has run out: ended and idle sessions, failed login attempts older than
    /// the throttling window, successful ones older than [`KNOWN_ADDRESS`], and the API's
    /// kept answers older than their day. How many rows went.
    pub async fn sweep_expired(&self) -> Result<u64, ServiceError> {
        let now = self.clock.now();
        let removed = self
            .store
            .sweep_expired(&crate::store::SweepCutoffs {
                now,
                idle_since: now - self.session_idle,
                failures_since: now - THROTTLE_WINDOW,
                successes_since: now - KNOWN_ADDRESS,
                keys_since: now - super::idempotency::KEY_LIFETIME,
            })
            .await?;
        Ok(removed)
    }

    /// Ends a session.
    pub async fn logout(&self, token: &str) -> Result<(), ServiceError> {
        Ok(self.store.delete_session(&hash_of(token)).await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn common_and_personal_passwords_are_refused_and_passphrases_taken() {
        for weak in [
            "aaaaaaaaaaaa",
            "password1234",
            "123456789012",
            "            ",
            "qwertyuiop12",
            "amirahadzic1",
        ] {
            assert_eq!(
                password_problem(weak, &["amira", "Amira Hadžić", "amira.hadzic"]),
                Some(AccountInputError::WeakPassword),
                "{weak:?}"
            );
        }
        assert_eq!(
            password_problem("kort", &[]),
            Some(AccountInputError::Password)
        );
        // The passwords the README and the demo give are accepted.
        for strong in [
            "norrvika-demo",
            "ett-långt-lösenord",
            "ett-annat-lösenord",
            "sekreterarens-lösenord",
            "administratorns-lösenord",
            "lingonsylt-på-fredag",
        ] {
            assert_eq!(password_problem(strong, &["amira"]), None, "{strong:?}");
        }
    }

    #[test]
    fn the_back_off_doubles_from_one_second_to_its_ceiling() {
        assert_eq!(
            account_backoff(ACCOUNT_BACKOFF_AFTER + 1),
            Duration::seconds(1)
        );
        assert_eq!(
            account_backoff(ACCOUNT_BACKOFF_AFTER + 2),
            Duration::seconds(2)
        );
        assert_eq!(
            account_backoff(ACCOUNT_BACKOFF_AFTER + 5),
            Duration::seconds(16)
        );
        assert_eq!(account_backoff(1_000), MAX_ACCOUNT_BACKOFF);
    }
}
