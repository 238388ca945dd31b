//! Persistence: the only module that speaks SQL. Everything goes through sea-orm, so one code
//! path serves the embedded SQLite default and PostgreSQL.
//!
//! Writes happen in a [`Tx`], which the service layer opens, fills and commits: that is what
//! makes a registration, its number and its audit entry one atomic step. On SQLite a write
//! transaction starts as `BEGIN IMMEDIATE`, since a deferred one that reads first and writes
//! later can fail with `SQLITE_BUSY` whatever the busy timeout.

pub mod entity;

mod access;
mod accounts;
mod api;
mod corpus;
mod gauges;

mod diarium;
mod invitation;
mod meetings;
mod organisation;
mod outbox;
mod response;
mod round;
pub mod scratch;
mod sets;
mod workflow;

use std::path::Path;
use std::str::FromStr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use migrations::{Migrator, MigratorTrait};
use sea_orm::sqlx::postgres::{PgConnectOptions, PgSslMode};
use sea_orm::sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqliteSynchronous};
use sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DatabaseTransaction, DbBackend,
    DbErr, SqlErr, SqliteTransactionMode, TransactionOptions, TransactionTrait,
};

pub use access::AccessGrantRow;
pub use accounts::{AccountRow, NewAccount, SessionRow, SweepCutoffs};
pub use api::{ApiRequestRow, ApiTokenRow, StoredAnswer};
pub use corpus::{CorpusAudit, CorpusCase};
pub use diarium::{CaseFilter, CaseRow, DocumentRow, NewCase, NewDocument, NewFile};
pub use entity::audit_event::Model as AuditRow;
pub use gauges::Gauges;
pub use invitation::{InvitationRow, NewInvitation};
pub use meetings::{
    AgendaRow, AttendanceRow, MeetingPlan, MeetingRow, NewParagraph, ParagraphRow, ProtocolRow,
    RemarkRow, VoteRow,
};
pub use organisation::{
    MunicipalityRow, OrgSnapshot, OrganMemberRow, OrganRow, PersonRow, RoleRow, SeriesRow, UnitRow,
};
pub use outbox::{NewOutbox, OutboxFilter, OutboxRow, OutboxStatus};
pub use response::ResponseRow;
pub use workflow::{
    AuditInput, DefinitionRow, INSTANCE_SCOPE, InstanceMove, InstanceRow, NewInstance, NewTimer,
    TimerCancel, TimerRow, TimerStatus,
};

/// What went wrong in the store, sorted by what the caller can do about it.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The row asked for does not exist.
    #[error("{0} not found")]
    NotFound(String),
    /// Another writer got there first, or a uniqueness rule was hit: retry or report.
    #[error("conflict: {0}")]
    Conflict(String),
    /// The database refused or failed.
    #[error("database error: {0}")]
    Database(#[from] DbErr),
    /// The database could not be opened.
    #[error("cannot open the database {url}: {message}")]
    Open {
        /// The URL, without its password.
        url: String,
        /// Why.
        message: String,
    },
}

impl StoreError {
    /// Maps a uniqueness violation to [`StoreError::Conflict`], anything else to `Database`.
    pub(crate) fn from_write(err: DbErr, what: &str) -> Self {
        match err.sql_err() {
            Some(SqlErr::UniqueConstraintViolation(_)) => Self::Conflict(what.to_owned()),
            _ => Self::Database(err),
        }
    }
}

/// The kind of database behind a [`Store`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// Embedded SQLite.
    Sqlite,
    /// PostgreSQL.
    Postgres,
}

/// A handle on the database. Cheap to clone: clones share one pool.
#[derive(Debug, Clone)]
pub struct Store {
    db: DatabaseConnection,
    backend: Backend,
    /// The organisation as last read, with the change count it was read at.
    org_cache: Arc<Mutex<Option<(i64, OrgSnapshot)>>>,
}

/// An open write transaction. Dropped without [`Tx::commit`], it rolls back.
pub struct Tx {
    txn: DatabaseTransaction,
}

impl Store {
    /// Opens the database at `url`. A `sqlite://` file and its folder are created on first use
    /// and run in WAL mode with `synchronous=FULL`, so a committed step survives a power cut.
    pub async fn connect(url: &str, max_connections: u32) -> Result<Self, StoreError> {
        let open_err = |message: String| StoreError::Open {
            url: crate::config::redact_url(url),
            message,
        };
        let backend = if url.starts_with("sqlite:") {
            Backend::Sqlite
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Backend::Postgres
        } else {
            return Err(open_err(
                "the URL must start with sqlite:// or postgres://".into(),
            ));
        };
        let mut options = ConnectOptions::new(url.to_owned());
        options
            .max_connections(max_connections.max(1))
            .min_connections(0)
            .acquire_timeout(Duration::from_secs(30))
            .sqlx_logging(false);
        if backend == Backend::Sqlite {
            let parsed =
                SqliteConnectOptions::from_str(url).map_err(|e| open_err(e.to_string()))?;
            let path = parsed.get_filename();
            if path != Path::new(":memory:")
                && let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty())
            {
                crate::private::create_dir_all(parent)
                    .map_err(|e| open_err(format!("cannot create {}: {e}", parent.display())))?;
            }
            // The database is the owner's only; SQLite gives its WAL the same mode.
            if path != Path::new(":memory:") {
                crate::private::touch(path)
                    .map_err(|e| open_err(format!("cannot create {}: {e}", path.display())))?;
            }
            options.map_sqlx_sqlite_opts(|opts| {
                opts.create_if_missing(true)
                    .journal_mode(SqliteJournalMode::Wal)
                    .synchronous(SqliteSynchronous::Full)
                    .foreign_keys(true)
                    .busy_timeout(Duration::from_secs(30))
            });
        } else {
            options.map_sqlx_postgres_opts(without_loopback_tls);
        }
        let db = Database::connect(options)
            .await
            .map_err(|e| open_err(e.to_string()))?;
        Ok(Self {
            db,
            backend,
            org_cache: Arc::default(),
        })
    }

    /// Which database this is.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Which database this is, as sea-orm names it.
    pub(crate) fn db_backend(&self) -> DbBackend {
        self.db.get_database_backend()
    }

    /// Brings the schema up to date. Safe to call from several processes at once: on
    /// PostgreSQL the migrations run under a transaction-scoped advisory lock, on SQLite under
    /// the write lock, and PostgreSQL and SQLite both roll back DDL with the transaction.
    pub async fn migrate(&self) -> Result<(), StoreError> {
        let tx = self.begin().await?;
        if self.backend == Backend::Postgres {
            // An arbitrary constant, fixed so every Kansli process takes the same lock.
            tx.txn
                .execute_unprepared("SELECT pg_advisory_xact_lock(7262016230)")
                .await?;
        }
        Migrator::up(&tx.txn, None).await?;
        tx.commit().await
    }

    /// Opens a write transaction.
    pub async fn begin(&self) -> Result<Tx, StoreError> {
        let options = TransactionOptions {
            sqlite_transaction_mode: (self.backend == Backend::Sqlite)
                .then_some(SqliteTransactionMode::Immediate),
            ..Default::default()
        };
        Ok(Tx {
            txn: self.db.begin_with_options(options).await?,
        })
    }

    /// Closes the pool.
    pub async fn close(self) -> Result<(), StoreError> {
        Ok(self.db.close().await?)
    }

    /// Runs raw statements; for benchmarks that measure the database's own limit.
    pub async fn execute_raw(&self, sql: &str) -> Result<(), StoreError> {
        self.db.execute_unprepared(sql).await?;
        Ok(())
    }

    pub(crate) fn db(&self) -> &DatabaseConnection {
        &self.db
    }
}

/// `sslmode=prefer` (PostgreSQL's default) on a loopback server becomes `disable`.
///
/// Why: `prefer` promises no encryption (it falls back to plain text, and an attacker can make
/// it), and on loopback the bytes never leave the machine, so TLS there protects nothing. It
/// does cost: sqlx 0.9.0 connects without `TCP_NODELAY` (transact-rs/sqlx#4335), and a large
/// statement goes out as several 16 KiB TLS records, each a send of its own, so every one after
/// the first waits out the server's delayed ACK (40 ms). Plain text goes out in one send. An
/// explicit `require`, `verify-ca` or `verify-full` is kept as it is.
fn without_loopback_tls(options: PgConnectOptions) -> PgConnectOptions {
    let loopback = options.get_socket().is_some() || is_loopback(options.get_host());
    match (options.get_ssl_mode(), loopback) {
        (PgSslMode::Prefer | PgSslMode::Allow, true) => options.ssl_mode(PgSslMode::Disable),
        _ => options,
    }
}

/// Whether `host` names this machine: `localhost` or a loopback address.
fn is_loopback(host: &str) -> bool {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

impl Tx {
    /// The kind of database the transaction is on, as sea-orm names it.
    pub(crate) fn db_backend(&self) -> DbBackend {
        self.txn.get_database_backend()
    }

    /// Makes every write in the transaction durable at once.
    pub async fn commit(self) -> Result<(), StoreError> {
        Ok(self.txn.commit().await?)
    }

    /// Undoes every write in the transaction (or, for a savepoint, since the savepoint).
    pub async fn rollback(self) -> Result<(), StoreError> {
        Ok(self.txn.rollback().await?)
    }

    /// A savepoint inside this transaction: committing it keeps its writes in the outer
    /// transaction, rolling it back undoes only them. Group commit applies each step of a
    /// batch under its own savepoint, so one refused step does not undo the others.
    pub async fn savepoint(&self) -> Result<Tx, StoreError> {
        Ok(Tx {
            txn: self.txn.begin().await?,
        })
    }

    /// The ids a `SELECT id ...` finds (and, with its lock clause, locks).
    pub(crate) async fn locked_ids(
        &self,
        select: &sea_orm::sea_query::SelectStatement,
    ) -> Result<Vec<i32>, StoreError> {
        let rows = self.txn.query_all(select).await?;
        Ok(rows
            .iter()
            .map(|r| r.try_get_by_index::<i32>(0))
            .collect::<Result<_, _>>()?)
    }

    /// Runs raw statements inside the transaction; for benchmarks.
    pub async fn execute_raw(&self, sql: &str) -> Result<(), StoreError> {
        self.txn.execute_unprepared(sql).await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mode(url: &str) -> PgSslMode {
        without_loopback_tls(PgConnectOptions::from_str(url).unwrap()).get_ssl_mode()
    }

    #[test]
    fn opportunistic_tls_is_dropped_only_on_loopback() {
        assert!(matches!(
            mode("postgres://u@127.0.0.1/db"),
            PgSslMode::Disable
        ));
        assert!(matches!(
            mode("postgres://u@localhost/db"),
            PgSslMode::Disable
        ));
        assert!(matches!(
            mode("postgres://u@[::1]:5432/db"),
            PgSslMode::Disable
        ));
        assert!(matches!(
            mode("postgres://u@localhost/db?sslmode=prefer"),
            PgSslMode::Disable
        ));
        assert!(matches!(
            mode("postgres://u@db.example.se/db"),
            PgSslMode::Prefer
        ));
        assert!(matches!(
            mode("postgres://u@10.0.0.7/db"),
            PgSslMode::Prefer
        ));
        assert!(matches!(
            mode("postgres://u@127.0.0.1/db?sslmode=require"),
            PgSslMode::Require
        ));
        assert!(matches!(
            mode("postgres://u@localhost/db?sslmode=verify-full"),
            PgSslMode::VerifyFull
        ));
    }
}
