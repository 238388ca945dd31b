//! Statements over sets of rows whose text does not grow with the set.
//!
//! Written out, a list of ids is `IN ($1, ..., $n)` and a list of rows `VALUES (...), ...`,
//! so every size is a statement of its own: the server parses and plans it afresh, and it
//! pushes the statements that do repeat out of the connection's cache. On PostgreSQL that was
//! a third of the server's work in `kansli bench engine`. There a list of ids goes as one array
//! (`= ANY($1)`) and a list of rows as one JSON text read back by `json_to_recordset`, typed by
//! the entity's columns: one text per table, parsed and planned once per connection.
//!
//! SQLite keeps the written-out forms (its JSON functions would store times and booleans in
//! another form than the driver does), but in few sizes: a list of ids is padded to a power of
//! two with its last id, and rows go in chunks of powers of two. A round's statements then have
//! a handful of texts, which the connection's statement cache keeps prepared.

use chrono::SecondsFormat;
use sea_orm::sea_query::{ColumnType, Value};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseTransaction, DbBackend, DbErr,
    EntityTrait, FromQueryResult, IdenStatic, Iterable, QueryFilter, Select, Statement,
};
use serde_json::{Map, Value as Json};

use super::StoreError;

/// Most rows per written-out multi-row insert, a power of two: the widest table (the outbox,
/// 21 columns) stays well under SQLite's limit on parameters (32,766).
const INSERT_CHUNK: usize = 256;

/// Most ids per written-out `IN (...)` list (2,048 once padded).
pub(super) const ID_CHUNK: usize = 2000;

/// The rows `select` picks whose `column` is one of `ids`, on `conn` (the pool or a
/// transaction), a chunk of ids at a time.
pub(super) async fn find_in<E: EntityTrait>(
    conn: &impl ConnectionTrait,
    select: Select<E>,
    column: E::Column,
    ids: &[i32],
) -> Result<Vec<E::Model>, DbErr> {
    let backend = conn.get_database_backend();
    let mut out = Vec::with_capacity(ids.len());
    for chunk in ids.chunks(ID_CHUNK) {
        let chunk = chunk.iter().copied();
        out.extend(
            select
                .clone()
                .filter(one_of(backend, column, chunk))
                .all(conn)
                .await?,
        );
    }
    Ok(out)
}

/// `column` is one of `ids`.
pub(super) fn one_of<C: ColumnTrait>(
    backend: DbBackend,
    column: C,
    ids: impl IntoIterator<Item = i32>,
) -> sea_orm::sea_query::Expr {
    match backend {
        DbBackend::Postgres => column.eq_any(ids),
        _ => column.is_in(padded(ids.into_iter().collect())),
    }
}

/// `ids` padded to a power of two with its last id, which changes no `IN (...)`.
fn padded(mut ids: Vec<i32>) -> Vec<i32> {
    if let Some(&last) = ids.last() {
        ids.resize(ids.len().next_power_of_two(), last);
    }
    ids
}

/// The sizes of the chunks `n` rows go in: powers of two, largest first, at most
/// [`INSERT_CHUNK`].
fn chunk_sizes(mut n: usize) -> impl Iterator<Item = usize> {
    std::iter::from_fn(move || {
        let size = match n {
            0 => return None,
            n if n >= INSERT_CHUNK => INSERT_CHUNK,
            n => 1 << n.ilog2(),
        };
        n -= size;
        Some(size)
    })
}

/// Inserts `models`, all with the same columns set, in the order given.
pub(super) async fn insert<E: EntityTrait>(
    txn: &DatabaseTransaction,
    models: Vec<E::ActiveModel>,
) -> Result<(), StoreError> {
    match txn.get_database_backend() {
        DbBackend::Postgres => {
            if let Some(statement) = json_insert::<E>(&models, false)? {
                txn.execute_raw(statement).await?;
            }
        }
        _ => {
            let mut rest = models.into_iter();
            for size in chunk_sizes(rest.len()) {
                let chunk: Vec<_> = rest.by_ref().take(size).collect();
                E::insert_many(chunk).exec_without_returning(txn).await?;
            }
        }
    }
    Ok(())
}

/// Inserts `models`, all with the same columns set, and returns the stored rows in no promised
/// order. One statement, so the caller may match rows back by a key it knows.
pub(super) async fn insert_returning<E: EntityTrait>(
    txn: &DatabaseTransaction,
    models: Vec<E::ActiveModel>,
) -> Result<Vec<E::Model>, DbErr>
where
    E::Model: FromQueryResult + sea_orm::IntoActiveModel<E::ActiveModel>,
{
    match txn.get_database_backend() {
        DbBackend::Postgres => match json_insert::<E>(&models, true)? {
            Some(statement) => txn
                .query_all_raw(statement)
                .await?
                .iter()
                .map(|row| E::Model::from_query_result(row, ""))
                .collect(),
            None => Ok(Vec::new()),
        },
        _ if models.is_empty() => Ok(Vec::new()),
        _ => E::insert_many(models).exec_with_returning(txn).await,
    }
}

/// `INSERT INTO t (...) SELECT ... FROM json_to_recordset($1)`, or `None` for no rows.
fn json_insert<E: EntityTrait>(
    models: &[E::ActiveModel],
    returning: bool,
) -> Result<Option<Statement>, DbErr> {
    let Some(first) = models.first() else {
        return Ok(None);
    };
    let columns: Vec<E::Column> = E::Column::iter()
        .filter(|c| !first.get(*c).is_not_set())
        .collect();
    let rows = rows_json::<E>(
        &columns,
        models.iter().map(|model| {
            columns
                .iter()
                .map(|&c| model.get(c).into_value().ok_or_else(|| unset::<E>(c)))
                .collect::<Result<Vec<_>, _>>()
        }),
    )?;
    let names = columns
        .iter()
        .map(|c| quoted(c.as_str()))
        .collect::<Vec<_>>()
        .join(", ");
    let record = record_type::<E>(&columns)?;
    let table = quoted(&E::default().to_string());
    let mut sql = format!(
        "INSERT INTO {table} ({names}) SELECT {names} FROM json_to_recordset($1::json) AS r({record})"
    );
    if returning {
        sql.push_str(" RETURNING *");
    }
    Ok(Some(json_statement(sql, rows)))
}

/// Rows of values for `columns`, in their order, as the JSON text `json_to_recordset` reads.
pub(super) fn rows_json<E: EntityTrait>(
    columns: &[E::Column],
    rows: impl Iterator<Item = Result<Vec<Value>, DbErr>>,
) -> Result<String, DbErr> {
    let rows = rows
        .map(|values| {
            columns
                .iter()
                .zip(values?)
                .map(|(&c, value)| Ok((c.as_str().to_owned(), json_of::<E>(c, value)?)))
                .collect::<Result<Map<_, _>, DbErr>>()
                .map(Json::Object)
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Json::Array(rows).to_string())
}

/// A statement on PostgreSQL with the JSON text of [`rows_json`] as `$1`.
pub(super) fn json_statement(sql: String, rows: String) -> Statement {
    Statement::from_sql_and_values(DbBackend::Postgres, sql, [Value::from(rows)])
}

/// The column list of a `json_to_recordset` for these columns: `"id" int4, "name" text, ...`.
pub(super) fn record_type<E: EntityTrait>(columns: &[E::Column]) -> Result<String, DbErr> {
    columns
        .iter()
        .map(|&c| {
            let ty = pg_type(c.def().get_column_type()).ok_or_else(|| {
                DbErr::Type(format!(
                    "{}.{} has a column type JSON row sets do not carry",
                    E::default().to_string(),
                    c.as_str()
                ))
            })?;
            Ok(format!("{} {ty}", quoted(c.as_str())))
        })
        .collect::<Result<Vec<_>, _>>()
        .map(|parts| parts.join(", "))
}

/// PostgreSQL's name for a column type, for the types the engine's tables use.
fn pg_type(ty: &ColumnType) -> Option<&'static str> {
    Some(match ty {
        ColumnType::SmallInteger => "int2",
        ColumnType::Integer => "int4",
        ColumnType::BigInteger => "int8",
        ColumnType::Boolean => "bool",
        ColumnType::Char(_) | ColumnType::String(_) | ColumnType::Text => "text",
        ColumnType::TimestampWithTimeZone => "timestamptz",
        ColumnType::Json => "json",
        ColumnType::JsonBinary => "jsonb",
        _ => return None,
    })
}

/// A value as JSON that `json_to_recordset` reads back as the same value. Times keep
/// microseconds, as PostgreSQL does, truncated as the driver's binary encoding truncates them.
fn json_of<E: EntityTrait>(column: E::Column, value: Value) -> Result<Json, DbErr> {
    Ok(match value {
        Value::Bool(v) => v.map_or(Json::Null, Json::from),
        Value::SmallInt(v) => v.map_or(Json::Null, Json::from),
        Value::Int(v) => v.map_or(Json::Null, Json::from),
        Value::BigInt(v) => v.map_or(Json::Null, Json::from),
        Value::String(v) => v.map_or(Json::Null, Json::from),
        Value::ChronoDateTimeUtc(v) => v.map_or(Json::Null, |t| {
            Json::from(t.to_rfc3339_opts(SecondsFormat::Micros, true))
        }),
        Value::Json(v) => v.map_or(Json::Null, |j| *j),
        other => {
            return Err(DbErr::Type(format!(
                "{}.{}: a {:?} value does not go in a JSON row set",
                E::default().to_string(),
                column.as_str(),
                other.array_type()
            )));
        }
    })
}

fn unset<E: EntityTrait>(column: E::Column) -> DbErr {
    DbErr::Type(format!(
        "{}.{} is set in the first row of a multi-row insert but not in every row",
        E::default().to_string(),
        column.as_str()
    ))
}

/// An identifier in double quotes, for names that come from the entities.
pub(super) fn quoted(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_are_padded_to_a_power_of_two_with_their_last_id() {
        assert_eq!(padded(vec![]), Vec::<i32>::new());
        assert_eq!(padded(vec![7]), vec![7]);
        assert_eq!(padded(vec![3, 1, 2]), vec![3, 1, 2, 2]);
        assert_eq!(padded((1..=5).collect()).len(), 8);
    }

    #[test]
    fn rows_go_in_chunks_of_powers_of_two_that_add_up() {
        assert_eq!(chunk_sizes(0).collect::<Vec<_>>(), Vec::<usize>::new());
        assert_eq!(chunk_sizes(200).collect::<Vec<_>>(), vec![128, 64, 8]);
        assert_eq!(
            chunk_sizes(600).collect::<Vec<_>>(),
            vec![256, 256, 64, 16, 8]
        );
        for n in 0..1100 {
            let sizes: Vec<usize> = chunk_sizes(n).collect();
            assert_eq!(sizes.iter().sum::<usize>(), n);
            assert!(
                sizes
                    .iter()
                    .all(|s| s.is_power_of_two() && *s <= INSERT_CHUNK)
            );
        }
    }
}
