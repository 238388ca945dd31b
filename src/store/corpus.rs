//! The benchmark corpus: ärenden written in bulk into a scratch database for `kansli bench
//! http`, so that pages can be measured over a diarium of realistic size.
//!
//! This path skips what makes registration trustworthy (one number at a time from the
//! counter, each ärende in a transaction of its own), which is exactly why it is fast. It
//! belongs to the benchmark and to nothing else.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sea_orm::sea_query::OnConflict;
use sea_orm::{EntityTrait, QuerySelect, Set};

use super::diarium::{audit_model, case_model, document_model};
use super::entity::{audit_event, case, document, series_counter};
use super::{NewCase, NewDocument, Store, StoreError};

/// Ärenden per transaction: few transactions, each small enough not to hold the writer long.
const CASES_PER_TRANSACTION: usize = 20_000;
/// Rows per INSERT: 1,000 rows of at most 17 columns stay under SQLite's 32,766 and
/// PostgreSQL's 65,535 bind parameters.
const ROWS_PER_INSERT: usize = 1_000;

/// An ärende of the benchmark corpus, with its number, handlingar and history.
#[derive(Debug, Clone)]
pub struct CorpusCase {
    /// The ärende; its `search_text` must already hold the rendered number.
    pub case: NewCase,
    /// Its running number in the series and year.
    pub seq: u32,
    /// When and by whom it was closed; open when `None`.
    pub closed: Option<(DateTime<Utc>, String)>,
    /// Its handlingar, numbered `:1`, `:2`, ... in this order; their `case_id` is ignored.
    pub documents: Vec<NewDocument>,
    /// Its audit trail, oldest first.
    pub audit: Vec<CorpusAudit>,
}

/// A step in a corpus ärende's audit trail.
#[derive(Debug, Clone)]
pub struct CorpusAudit {
    /// Who.
    pub actor: String,
    /// What.
    pub action: String,
    /// Details.
    pub detail: Option<String>,
    /// When.
    pub at: DateTime<Utc>,
}

impl Store {
    /// **For `kansli bench http` only: never use this to register ärenden.** Writes `cases`
    /// with the numbers they carry, in a few transactions of multi-row INSERTs, and moves each
    /// series' counter to the highest number written. It does not take numbers from the
    /// counter one at a time as [`Tx::allocate_case_seq`](super::Tx::allocate_case_seq) does,
    /// so it refuses a diarium that already holds an ärende, and numbers must be unique
    /// within the batch (the unique index will refuse them otherwise).
    pub async fn write_bench_corpus(&self, cases: Vec<CorpusCase>) -> Result<(), StoreError> {
        let mut counters: HashMap<(i32, i32), u32> = HashMap::new();
        for c in &cases {
            let top = counters.entry((c.case.series_id, c.case.year)).or_default();
            *top = (*top).max(c.seq);
        }
        let mut first = true;
        let mut cases = cases.into_iter().peekable();
        while cases.peek().is_some() {
            let batch: Vec<CorpusCase> = cases.by_ref().take(CASES_PER_TRANSACTION).collect();
            let tx = self.begin().await?;
            if first {
                let any = case::Entity::find()
                    .select_only()
                    .column(case::Column::Id)
                    .into_tuple::<i32>()
                    .one(&tx.txn)
                    .await?;
                if any.is_some() {
                    return Err(StoreError::Conflict(
                        "the benchmark corpus is written only into an empty diarium".into(),
                    ));
                }
                write_counters(&tx, &counters).await?;
                first = false;
            }
            for chunk in batch.chunks(ROWS_PER_INSERT) {
                write_chunk(&tx, chunk).await?;
            }
            tx.commit().await?;
        }
        Ok(())
    }
}

/// Sets each (series, year) counter to the highest number written.
async fn write_counters(
    tx: &super::Tx,
    counters: &HashMap<(i32, i32), u32>,
) -> Result<(), StoreError> {
    let rows: Vec<series_counter::ActiveModel> = counters
        .iter()
        .map(|(&(series_id, year), &last)| series_counter::ActiveModel {
            series_id: Set(series_id),
            year: Set(year),
            last_number: Set(last as i32),
        })
        .collect();
    if rows.is_empty() {
        return Ok(());
    }
    series_counter::Entity::insert_many(rows)
        .on_conflict(
            OnConflict::columns([
                series_counter::Column::SeriesId,
                series_counter::Column::Year,
            ])
            .update_column(series_counter::Column::LastNumber)
            .to_owned(),
        )
        .exec_without_returning(&tx.txn)
        .await?;
    Ok(())
}

/// One multi-row INSERT of ärenden, then their handlingar and audit rows under the ids the
/// database gave them (matched by number, since RETURNING promises no order).
async fn write_chunk(tx: &super::Tx, chunk: &[CorpusCase]) -> Result<(), StoreError> {
    let models = chunk.iter().map(|c| {
        let mut model = case_model(c.case.clone(), c.seq);
        model.last_document_seq = Set(c.documents.len() as i32);
        if let Some((at, by)) = &c.closed {
            model.status = Set(crate::domain::case_status::CaseStatus::Closed.code().into());
            model.closed_at = Set(Some(*at));
            model.closed_by = Set(Some(by.clone()));
        }
        model
    });
    let rows = case::Entity::insert_many(models)
        .exec_with_returning(&tx.txn)
        .await
        .map_err(|e| StoreError::from_write(e, "a corpus diarienummer is already taken"))?;
    let ids: HashMap<(i32, i32, i32), i32> = rows
        .iter()
        .map(|r| ((r.series_id, r.year, r.seq), r.id))
        .collect();
    let mut documents = Vec::new();
    let mut audit = Vec::new();
    for c in chunk {
        let id = ids[&(c.case.series_id, c.case.year, c.seq as i32)];
        for (i, d) in c.documents.iter().enumerate() {
            let new = NewDocument {
                case_id: id,
                ..d.clone()
            };
            documents.push(document_model(new, i as u32 + 1));
        }
        for a in &c.audit {
            audit.push(audit_model(
                Some(id),
                &a.actor,
                &a.action,
                a.detail.clone(),
                a.at,
            ));
        }
    }
    for part in chunked(documents) {
        document::Entity::insert_many(part)
            .exec_without_returning(&tx.txn)
            .await?;
    }
    for part in chunked(audit) {
        audit_event::Entity::insert_many(part)
            .exec_without_returning(&tx.txn)
            .await?;
    }
    Ok(())
}

/// `rows` in INSERT-sized parts.
fn chunked<T>(rows: Vec<T>) -> Vec<Vec<T>> {
    let mut parts = Vec::new();
    let mut rows = rows.into_iter().peekable();
    while rows.peek().is_some() {
        parts.push(rows.by_ref().take(ROWS_PER_INSERT).collect());
    }
    parts
}
