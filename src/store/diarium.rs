//! Rows of the diarium, and the number allocation that must never give a number twice or skip
//! one.
//!
//! Numbers come from counters bumped with `UPDATE ... RETURNING` inside the registering
//! transaction. The bump takes the row lock on PostgreSQL (and the database write lock on
//! SQLite), so concurrent registrations queue for the counter, and a registration that rolls
//! back takes its bump with it: the next one gets the same number.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::sea_query::{Expr, ExprTrait, LikeExpr, OnConflict, Query};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, EntityTrait, PaginatorTrait,
    QueryFilter, QueryOrder, QuerySelect, Set,
};

use super::entity::{audit_event, case, document, file_blob, series_counter};
use super::sets::{self, ID_CHUNK, find_in, one_of};
use super::{AuditRow, Store, StoreError, Tx};
use crate::domain::audit::Action;
use crate::domain::case_status::CaseStatus;

/// An ärende, as stored.
pub type CaseRow = case::Model;

impl case::Model {
    /// Its status; a stored code that is neither reads as closed, which takes nothing new.
    pub fn status(&self) -> CaseStatus {
        self.status.parse().unwrap_or(CaseStatus::Closed)
    }
}
/// A handling, as stored.
pub type DocumentRow = document::Model;

/// An ärende about to be registered. Its number is allocated in the same transaction.
#[derive(Debug, Clone)]
pub struct NewCase {
    /// The series.
    pub series_id: i32,
    /// The year the number belongs to.
    pub year: i32,
    /// The KLASSA code.
    pub classification: Option<String>,
    /// The internal title (ärendemening).
    pub title: String,
    /// The title the public sees.
    pub public_title: String,
    /// Lower-cased words to search in.
    pub search_text: String,
    /// The responsible handläggare.
    pub handlaggare_id: Option<i32>,
    /// An earlier ärende this one continues (last year's follow-up).
    pub previous_case_id: Option<i32>,
    /// When.
    pub opened_at: DateTime<Utc>,
    /// Who.
    pub opened_by: String,
}

/// A handling about to be registered.
#[derive(Debug, Clone)]
pub struct NewDocument {
    /// The ärende.
    pub case_id: i32,
    /// Received or drawn up on.
    pub date: NaiveDate,
    /// `in`, `internal` or `out`.
    pub direction: String,
    /// Sender or recipient.
    pub counterpart: Option<String>,
    /// OSL 5:2: keep the sender or recipient out of the public register.
    pub counterpart_protected: bool,
    /// What it is about.
    pub description: String,
    /// OSL 5:2: keep the description out of the public register.
    pub description_protected: bool,
    /// Sekretessmarkering: provision, date, authority.
    pub secrecy: Option<(String, NaiveDate, String)>,
    /// The attached file's hash, name and media type.
    pub file: Option<(String, String, String)>,
    /// When.
    pub registered_at: DateTime<Utc>,
    /// Who.
    pub registered_by: String,
}

/// A file to store by content hash.
#[derive(Debug, Clone)]
pub struct NewFile {
    /// Hex SHA-256 of the content.
    pub sha256: String,
    /// The bytes.
    pub content: Vec<u8>,
    /// When.
    pub stored_at: DateTime<Utc>,
}

/// Which ärenden to list. The default lists the 100 newest.
#[derive(Debug, Clone)]
pub struct CaseFilter {
    /// Only this series.
    pub series_id: Option<i32>,
    /// Only this year.
    pub year: Option<i32>,
    /// Only this status (`open`, `closed`).
    pub status: Option<String>,
    /// Lower-cased words that must each occur in the search text (bounded by
    /// [`crate::domain::search::SearchWords`]: every word is one condition).
    pub words: Vec<String>,
    /// Only this handläggare.
    pub handlaggare_id: Option<i32>,
    /// Opened at or after.
    pub opened_from: Option<DateTime<Utc>>,
    /// Opened before.
    pub opened_before: Option<DateTime<Utc>>,
    /// At most this many.
    pub limit: u64,
    /// Skip this many.
    pub offset: u64,
}

impl Default for CaseFilter {
    fn default() -> Self {
        Self {
            series_id: None,
            year: None,
            status: None,
            words: Vec::new(),
            handlaggare_id: None,
            opened_from: None,
            opened_before: None,
            limit: 100,
            offset: 0,
        }
    }
}

impl Tx {
    /// Takes the next number in a series and year.
    pub async fn allocate_case_seq(&self, series_id: i32, year: i32) -> Result<u32, StoreError> {
        self.allocate_case_seqs(series_id, year, 1).await
    }

    /// Takes the next `n` numbers in a series and year at once; returns the first (the others
    /// follow it).
    pub async fn allocate_case_seqs(
        &self,
        series_id: i32,
        year: i32,
        n: u32,
    ) -> Result<u32, StoreError> {
        let last = self
            .bump_counter_by(
                series_counter::Entity,
                (series_counter::Column::SeriesId, series_id.into()),
                (series_counter::Column::Year, year),
                series_counter::Column::LastNumber,
                n,
            )
            .await?;
        Ok(last + 1 - n)
    }

    /// Takes the next number from a counter row keyed by (key, year), creating the row the
    /// first time. The bump locks the row until the transaction ends (on SQLite the whole
    /// database is the writer's already), so numbers are handed out one at a time, and a
    /// transaction that rolls back gives its number back.
    pub(crate) async fn bump_counter<E, C>(
        &self,
        table: E,
        key: (C, sea_orm::Value),
        year: (C, i32),
        last: C,
    ) -> Result<u32, StoreError>
    where
        E: sea_orm::sea_query::IntoIden + Copy + 'static,
        C: sea_orm::sea_query::IntoIden + sea_orm::ColumnTrait + Copy + 'static,
    {
        self.bump_counter_by(table, key, year, last, 1).await
    }

    /// Takes the next `n` numbers from a counter row at once; returns the last of them.
    async fn bump_counter_by<E, C>(
        &self,
        table: E,
        key: (C, sea_orm::Value),
        year: (C, i32),
        last: C,
        n: u32,
    ) -> Result<u32, StoreError>
    where
        E: sea_orm::sea_query::IntoIden + Copy + 'static,
        C: sea_orm::sea_query::IntoIden + sea_orm::ColumnTrait + Copy + 'static,
    {
        // One statement: the first number of a year creates the row, every later one bumps it.
        let bump = Query::insert()
            .into_table(table)
            .columns([key.0, year.0, last])
            .values_panic([key.1.clone().into(), year.1.into(), (n as i32).into()])
            .on_conflict(
                OnConflict::columns([key.0, year.0])
                    .value(last, Expr::col((table, last)).add(n as i32))
                    .to_owned(),
            )
            .returning_col(last)
            .to_owned();
        let row = self
            .txn
            .query_one(&bump)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("counter {:?}/{}", key.1, year.1)))?;
        let value: i32 = row.try_get_by_index(0)?;
        Ok(value as u32)
    }

    /// Takes the next handling number in an ärende.
    pub async fn allocate_document_seq(&self, case_id: i32) -> Result<u32, StoreError> {
        let bump = Query::update()
            .table(case::Entity)
            .value(
                case::Column::LastDocumentSeq,
                Expr::col(case::Column::LastDocumentSeq).add(1),
            )
            .and_where(case::Column::Id.eq(case_id))
            .returning_col(case::Column::LastDocumentSeq)
            .to_owned();
        let row = self
            .txn
            .query_one(&bump)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("ärende id {case_id}")))?;
        let last: i32 = row.try_get("", "last_document_seq")?;
        Ok(last as u32)
    }

    /// Registers an ärende under a number taken with [`Tx::allocate_case_seq`].
    pub async fn insert_case(&self, new: NewCase, seq: u32) -> Result<CaseRow, StoreError> {
        let model = case_model(new, seq);
        model
            .insert(&self.txn)
            .await
            .map_err(|e| StoreError::from_write(e, "that diarienummer is already taken"))
    }

    /// Registers ärenden under numbers taken with [`Tx::allocate_case_seqs`], with one
    /// statement; returns the rows in the order given.
    pub async fn insert_cases(&self, new: Vec<(NewCase, u32)>) -> Result<Vec<CaseRow>, StoreError> {
        let keys: Vec<(i32, i32, i32)> = new
            .iter()
            .map(|(c, seq)| (c.series_id, c.year, *seq as i32))
            .collect();
        let models = new.into_iter().map(|(c, seq)| case_model(c, seq)).collect();
        let rows = sets::insert_returning::<case::Entity>(&self.txn, models)
            .await
            .map_err(|e| StoreError::from_write(e, "that diarienummer is already taken"))?;
        // RETURNING gives the rows in no promised order: they are put back in the given one.
        keys.iter()
            .map(|&(series, year, seq)| {
                rows.iter()
                    .find(|r| r.series_id == series && r.year == year && r.seq == seq)
                    .cloned()
                    .ok_or_else(|| {
                        StoreError::NotFound(format!("the new ärende {series}/{year}/{seq}"))
                    })
            })
            .collect()
    }

    /// Sets an ärende's status, provided nobody changed it since `row_version` was read.
    pub async fn set_case_status(
        &self,
        case_id: i32,
        row_version: i32,
        status: &str,
        closed: Option<(DateTime<Utc>, String)>,
    ) -> Result<(), StoreError> {
        let (closed_at, closed_by) = closed.unzip();
        let result = case::Entity::update_many()
            .col_expr(case::Column::Status, Expr::value(status))
            .col_expr(case::Column::ClosedAt, Expr::value(closed_at))
            .col_expr(case::Column::ClosedBy, Expr::value(closed_by))
            .col_expr(case::Column::RowVersion, Expr::value(row_version + 1))
            .filter(case::Column::Id.eq(case_id))
            .filter(case::Column::RowVersion.eq(row_version))
            .exec(&self.txn)
            .await?;
        if result.rows_affected == 0 {
            return Err(StoreError::Conflict(
                "the ärende was changed by someone else meanwhile; load it again and retry".into(),
            ));
        }
        Ok(())
    }

    /// Stores `content` under its SHA-256, unless identical content is already stored;
    /// returns the hash (hex) that a handling or protocol names it by.
    pub async fn store_content(
        &self,
        content: Vec<u8>,
        at: DateTime<Utc>,
    ) -> Result<String, StoreError> {
        let sha256 = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(&content));
        self.store_file(NewFile {
            sha256: sha256.clone(),
            content,
            stored_at: at,
        })
        .await?;
        Ok(sha256)
    }

    /// Stores a file unless identical content is already stored.
    pub async fn store_file(&self, file: NewFile) -> Result<(), StoreError> {
        let size = file.content.len() as i64;
        let model = file_blob::ActiveModel {
            sha256: Set(file.sha256),
            size: Set(size),
            content: Set(file.content),
            stored_at: Set(file.stored_at),
        };
        file_blob::Entity::insert(model)
            .on_conflict_do_nothing()
            .exec(&self.txn)
            .await?;
        Ok(())
    }

    /// Registers a handling under a number taken with [`Tx::allocate_document_seq`].
    pub async fn insert_document(
        &self,
        new: NewDocument,
        seq: u32,
    ) -> Result<DocumentRow, StoreError> {
        let model = document_model(new, seq);
        model
            .insert(&self.txn)
            .await
            .map_err(|e| StoreError::from_write(e, "that handling number is already taken"))
    }

    /// The handlingar of an ärende, read inside the transaction.
    pub async fn documents_of(&self, case_id: i32) -> Result<Vec<DocumentRow>, StoreError> {
        Ok(document::Entity::find()
            .filter(document::Column::CaseId.eq(case_id))
            .order_by_asc(document::Column::Seq)
            .all(&self.txn)
            .await?)
    }

    /// Appends a step to the audit trail.
    pub async fn append_audit(
        &self,
        case_id: Option<i32>,
        actor: &str,
        action: Action,
        detail: Option<String>,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        audit_model(case_id, actor, action.text(), detail, at)
            .insert(&self.txn)
            .await?;
        Ok(())
    }
}

impl Store {
    /// The ärenden with these numbers' parts (series, year, sequence number), in no order.
    ///
    /// One statement per series and year, the sequence numbers as a list; an OR per number
    /// instead would nest a level deeper per number (see `Tx::cancel_timer_sets`).
    pub async fn find_cases(&self, keys: &[(i32, i32, u32)]) -> Result<Vec<CaseRow>, StoreError> {
        let mut groups: BTreeMap<(i32, i32), Vec<i32>> = BTreeMap::new();
        for &(series, year, seq) in keys {
            groups.entry((series, year)).or_default().push(seq as i32);
        }
        let mut out = Vec::with_capacity(keys.len());
        for ((series, year), seqs) in groups {
            for chunk in seqs.chunks(ID_CHUNK) {
                out.extend(
                    case::Entity::find()
                        .filter(case::Column::SeriesId.eq(series))
                        .filter(case::Column::Year.eq(year))
                        .filter(one_of(
                            self.db_backend(),
                            case::Column::Seq,
                            chunk.iter().copied(),
                        ))
                        .all(self.db())
                        .await?,
                );
            }
        }
        Ok(out)
    }

    /// An ärende by its number's parts.
    pub async fn find_case(
        &self,
        series_id: i32,
        year: i32,
        seq: u32,
    ) -> Result<Option<CaseRow>, StoreError> {
        Ok(self.find_cases(&[(series_id, year, seq)]).await?.pop())
    }

    /// An ärende by id.
    pub async fn case_by_id(&self, id: i32) -> Result<Option<CaseRow>, StoreError> {
        Ok(case::Entity::find_by_id(id).one(self.db()).await?)
    }

    /// How many ärenden of a series have no classification code (their numbers could not show
    /// one).
    pub async fn unclassified_cases(&self, series_id: i32) -> Result<u64, StoreError> {
        Ok(case::Entity::find()
            .filter(case::Column::SeriesId.eq(series_id))
            .filter(case::Column::Classification.is_null())
            .count(self.db())
            .await?)
    }

    /// Ärenden by id, for joining in memory.
    pub async fn cases_by_ids(&self, ids: &[i32]) -> Result<Vec<CaseRow>, StoreError> {
        Ok(find_in(self.db(), case::Entity::find(), case::Column::Id, ids).await?)
    }

    /// Ärenden matching a filter, newest first.
    pub async fn list_cases(&self, filter: &CaseFilter) -> Result<Vec<CaseRow>, StoreError> {
        let mut cond = Condition::all();
        if let Some(id) = filter.series_id {
            cond = cond.add(case::Column::SeriesId.eq(id));
        }
        if let Some(year) = filter.year {
            cond = cond.add(case::Column::Year.eq(year));
        }
        if let Some(status) = &filter.status {
            cond = cond.add(case::Column::Status.eq(status.as_str()));
        }
        if let Some(id) = filter.handlaggare_id {
            cond = cond.add(case::Column::HandlaggareId.eq(id));
        }
        if let Some(from) = filter.opened_from {
            cond = cond.add(case::Column::OpenedAt.gte(from));
        }
        if let Some(before) = filter.opened_before {
            cond = cond.add(case::Column::OpenedAt.lt(before));
        }
        for word in &filter.words {
            let pattern = format!("%{}%", escape_like(word));
            cond = cond
                .add(Expr::col(case::Column::SearchText).like(LikeExpr::new(pattern).escape('\\')));
        }
        Ok(case::Entity::find()
            .filter(cond)
            .order_by_desc(case::Column::Year)
            .order_by_desc(case::Column::Seq)
            .order_by_asc(case::Column::SeriesId)
            .limit(filter.limit)
            .offset(filter.offset)
            .all(self.db())
            .await?)
    }

    /// How many ärenden a series has in a year: the counter's value, for checks and benches.
    pub async fn count_cases(&self, series_id: i32, year: i32) -> Result<u64, StoreError> {
        use sea_orm::PaginatorTrait;
        Ok(case::Entity::find()
            .filter(case::Column::SeriesId.eq(series_id))
            .filter(case::Column::Year.eq(year))
            .count(self.db())
            .await?)
    }

    /// The handlingar of an ärende, in number order.
    pub async fn documents_of(&self, case_id: i32) -> Result<Vec<DocumentRow>, StoreError> {
        Ok(document::Entity::find()
            .filter(document::Column::CaseId.eq(case_id))
            .order_by_asc(document::Column::Seq)
            .all(self.db())
            .await?)
    }

    /// Handlingar dated within `[from, to]`, by date and number.
    pub async fn documents_dated(
        &self,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Vec<DocumentRow>, StoreError> {
        Ok(document::Entity::find()
            .filter(document::Column::Date.gte(from))
            .filter(document::Column::Date.lte(to))
            .order_by_asc(document::Column::Date)
            .order_by_asc(document::Column::CaseId)
            .order_by_asc(document::Column::Seq)
            .all(self.db())
            .await?)
    }

    /// A stored file's content.
    pub async fn file(&self, sha256: &str) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(file_blob::Entity::find_by_id(sha256.to_owned())
            .one(self.db())
            .await?
            .map(|f| f.content))
    }

    /// How many files are stored; for tests of deduplication.
    pub async fn count_files(&self) -> Result<u64, StoreError> {
        use sea_orm::PaginatorTrait;
        Ok(file_blob::Entity::find().count(self.db()).await?)
    }

    /// The audit trail of an ärende, oldest first.
    pub async fn audit_of(&self, case_id: i32) -> Result<Vec<AuditRow>, StoreError> {
        Ok(audit_event::Entity::find()
            .filter(audit_event::Column::CaseId.eq(case_id))
            .order_by_asc(audit_event::Column::Id)
            .all(self.db())
            .await?)
    }
}

/// The row an ärende is registered as under `seq`: open, with no handlingar yet.
pub(super) fn case_model(new: NewCase, seq: u32) -> case::ActiveModel {
    case::ActiveModel {
        series_id: Set(new.series_id),
        year: Set(new.year),
        seq: Set(seq as i32),
        classification: Set(new.classification),
        title: Set(new.title),
        public_title: Set(new.public_title),
        search_text: Set(new.search_text),
        handlaggare_id: Set(new.handlaggare_id),
        status: Set(CaseStatus::Open.code().into()),
        previous_case_id: Set(new.previous_case_id),
        last_document_seq: Set(0),
        opened_at: Set(new.opened_at),
        opened_by: Set(new.opened_by),
        closed_at: Set(None),
        closed_by: Set(None),
        row_version: Set(1),
        ..Default::default()
    }
}

/// The row a handling is registered as under `seq`.
pub(super) fn document_model(new: NewDocument, seq: u32) -> document::ActiveModel {
    let (secrecy_provision, secrecy_date, secrecy_authority) = match new.secrecy {
        Some((p, d, a)) => (Some(p), Some(d), Some(a)),
        None => (None, None, None),
    };
    let (file_sha256, file_name, media_type) = match new.file {
        Some((h, n, m)) => (Some(h), Some(n), Some(m)),
        None => (None, None, None),
    };
    document::ActiveModel {
        case_id: Set(new.case_id),
        seq: Set(seq as i32),
        date: Set(new.date),
        direction: Set(new.direction),
        counterpart: Set(new.counterpart),
        counterpart_protected: Set(new.counterpart_protected),
        description: Set(new.description),
        description_protected: Set(new.description_protected),
        secrecy_provision: Set(secrecy_provision),
        secrecy_date: Set(secrecy_date),
        secrecy_authority: Set(secrecy_authority),
        file_sha256: Set(file_sha256),
        file_name: Set(file_name),
        media_type: Set(media_type),
        registered_at: Set(new.registered_at),
        registered_by: Set(new.registered_by),
        ..Default::default()
    }
}

/// The audit row of a step taken outside a workflow.
pub(super) fn audit_model(
    case_id: Option<i32>,
    actor: &str,
    action: &str,
    detail: Option<String>,
    at: DateTime<Utc>,
) -> audit_event::ActiveModel {
    audit_event::ActiveModel {
        case_id: Set(case_id),
        instance_id: Set(None),
        actor: Set(actor.to_owned()),
        role: Set(None),
        action: Set(action.to_owned()),
        from_state: Set(None),
        to_state: Set(None),
        detail: Set(detail),
        at: Set(at),
        ..Default::default()
    }
}

/// Escapes `%`, `_` and the escape character itself for a LIKE pattern.
fn escape_like(word: &str) -> String {
    let mut out = String::with_capacity(word.len());
    for c in word.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}
