//! Statements over sets of rows whose text does not grow with the set.
//!
//! Written out, a list of ids is `IN ($1, ..., $n)` and a list of rows `VALUES (...), ...`,
//! so every size is a statement of its own: the server parses and plans it afresh, and it
//! pushes the statements that do repeat out of the connection's cache. On PostgreSQL that was
//! a third of the server's work in `kansli bench engine`. There a list of ids goes as one array
//! (`= ANY($1)`) and a list of rows as one array per column read back by `unnest`
//! ([`ArraySet`]), typed by the entity's columns: one text per table, parsed and planned once
//! per connection.
//!
//! SQLite has no arrays, so it keeps the written-out forms, but in few sizes: a list of ids is
//! padded to a power of two with its last id, and rows go in chunks of powers of two. A round's
//! statements then have a handful of texts, which the connection's statement cache keeps
//! prepared.
//!
//! Inserts are written here on both backends rather than by sea-query's builder, which copies
//! every value into the statement it builds: here the values are moved out of the models.

use sea_orm::sea_query::{ArrayType, ColumnType, Value};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseTransaction, DbBackend, DbErr,
    EntityTrait, FromQueryResult, IdenStatic, Iterable, QueryFilter, Select, Statement,
};

use super::StoreError;

/// Most rows per written-out multi-row statement (inserts, SQLite's instance moves), a power of
/// two: the widest table (the outbox, 21 columns) stays well under SQLite's limit on parameters
/// (32,766).
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
pub(super) fn chunk_sizes(mut n: usize) -> impl Iterator<Item = usize> {
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
    for statement in insert_statements::<E>(txn.get_database_backend(), models, false)? {
        txn.execute_raw(statement).await?;
    }
    Ok(())
}

/// Inserts `models`, all with the same columns set, and returns the stored rows in no promised
/// order; the caller matches them back by a key it knows.
pub(super) async fn insert_returning<E: EntityTrait>(
    txn: &DatabaseTransaction,
    models: Vec<E::ActiveModel>,
) -> Result<Vec<E::Model>, DbErr>
where
    E::Model: FromQueryResult,
{
    let mut stored = Vec::with_capacity(models.len());
    for statement in insert_statements::<E>(txn.get_database_backend(), models, true)? {
        for row in txn.query_all_raw(statement).await? {
            stored.push(E::Model::from_query_result(&row, "")?);
        }
    }
    Ok(stored)
}

/// The statements that insert `models`: on PostgreSQL one, reading the rows from an
/// [`ArraySet`]; elsewhere one per chunk (see [`chunk_sizes`]), written out as `VALUES` lists.
/// The values are moved out of the models, not copied: a round's messages are long.
fn insert_statements<E: EntityTrait>(
    backend: DbBackend,
    mut models: Vec<E::ActiveModel>,
    returning: bool,
) -> Result<Vec<Statement>, DbErr> {
    let Some(first) = models.first() else {
        return Ok(Vec::new());
    };
    let columns: Vec<E::Column> = E::Column::iter()
        .filter(|c| !first.get(*c).is_not_set())
        .collect();
    let names = columns
        .iter()
        .map(|c| quoted(c.as_str()))
        .collect::<Vec<_>>()
        .join(", ");
    let table = quoted(&E::default().to_string());
    let returning = if returning { " RETURNING *" } else { "" };
    let mut rows = models.iter_mut().map(|model| {
        columns
            .iter()
            .map(|&c| model.take(c).into_value().ok_or_else(|| unset::<E>(c)))
            .collect::<Result<Vec<_>, _>>()
    });
    if backend == DbBackend::Postgres {
        let set = ArraySet::new::<E>(&columns, rows, "r")?;
        let values = (0..columns.len())
            .map(|i| set.value(i))
            .collect::<Vec<_>>()
            .join(", ");
        // In the order given, so that ids (the audit trail's order) follow it.
        let sql = format!(
            "INSERT INTO {table} ({names}) SELECT {values} FROM {} ORDER BY {}{returning}",
            set.source(),
            set.ordinal()
        );
        return Ok(vec![set.statement(sql)]);
    }
    let placeholders = format!("({})", vec!["?"; columns.len()].join(", "));
    let mut statements = Vec::new();
    for size in chunk_sizes(rows.len()) {
        let mut values = Vec::with_capacity(size * columns.len());
        for row in rows.by_ref().take(size) {
            values.extend(row?);
        }
        let sql = format!(
            "INSERT INTO {table} ({names}) VALUES {}{returning}",
            vec![placeholders.as_str(); size].join(", ")
        );
        statements.push(Statement::from_sql_and_values(backend, sql, values));
    }
    Ok(statements)
}

/// Rows for some of an entity's columns as one array parameter per column, which `unnest`
/// reads back as rows: `unnest($1::int4[], $2::text[], ..., $n::int8[]) WITH ORDINALITY AS
/// r("id", "name", ..., "_nulls", "_at")`.
///
/// Arrays go to the server in the binary protocol, element by element with their lengths:
/// nothing is escaped, quoted or parsed on either side, which a JSON text of the same rows
/// costs both (it was a sixth of the server's work on the engine's rounds, outbox rows being
/// long HTML). The driver binds an array only without NULL elements, so a nullable column's
/// NULLs go as a placeholder of the column's type, and one more array, `_nulls`, holds a
/// bitmask per row of the nullable columns that are NULL in it; [`ArraySet::value`] reads a
/// column back as NULL where its bit is set.
pub(super) struct ArraySet {
    /// One array per column, then the null masks.
    params: Vec<Value>,
    alias: &'static str,
    /// Each column's quoted name, PostgreSQL type and, when nullable, its bit in the mask.
    columns: Vec<(String, &'static str, Option<u32>)>,
}

impl ArraySet {
    /// The rows of values for `columns`, each row's values in the columns' order, to be read
    /// under the name `alias`.
    pub(super) fn new<E: EntityTrait>(
        columns: &[E::Column],
        rows: impl Iterator<Item = Result<Vec<Value>, DbErr>>,
        alias: &'static str,
    ) -> Result<Self, DbErr> {
        let mut kinds = Vec::with_capacity(columns.len());
        let mut nullable = 0;
        for &c in columns {
            let ty = c.def().get_column_type().clone();
            let (pg, placeholder) = array_type(&ty).ok_or_else(|| {
                DbErr::Type(format!(
                    "{}: a {ty:?} column does not go in an array row set",
                    column_name::<E>(c)
                ))
            })?;
            let bit = c.def().is_null().then(|| {
                nullable += 1;
                nullable - 1
            });
            kinds.push((quoted(c.as_str()), pg, placeholder, bit));
        }
        if nullable > 63 {
            return Err(DbErr::Type(format!(
                "{}: more than 63 nullable columns do not fit a row set's null mask",
                E::default().to_string()
            )));
        }
        let mut arrays: Vec<Vec<Value>> = kinds.iter().map(|_| Vec::new()).collect();
        let mut masks = Vec::new();
        for row in rows {
            let row = row?;
            if row.len() != columns.len() {
                return Err(DbErr::Type(format!(
                    "{}: a row of {} values for {} columns",
                    E::default().to_string(),
                    row.len(),
                    columns.len()
                )));
            }
            let mut mask = 0i64;
            for (((value, array), kind), &c) in
                row.into_iter().zip(&mut arrays).zip(&kinds).zip(columns)
            {
                let (_, _, placeholder, bit) = kind;
                if value.array_type() != placeholder.array_type() {
                    return Err(DbErr::Type(format!(
                        "{}: a {:?} value in a {:?} column",
                        column_name::<E>(c),
                        value.array_type(),
                        placeholder.array_type()
                    )));
                }
                match (value.is_some(), bit) {
                    (true, _) => array.push(value),
                    (false, Some(bit)) => {
                        mask |= 1 << bit;
                        array.push(placeholder.clone());
                    }
                    (false, None) => {
                        return Err(DbErr::Type(format!(
                            "{} cannot be NULL, and a row has no value for it",
                            column_name::<E>(c)
                        )));
                    }
                }
            }
            masks.push(Value::BigInt(Some(mask)));
        }
        let mut params: Vec<Value> = arrays
            .into_iter()
            .zip(&kinds)
            .map(|(values, (_, _, placeholder, _))| {
                Value::Array(placeholder.array_type(), Some(Box::new(values)))
            })
            .collect();
        params.push(Value::Array(ArrayType::BigInt, Some(Box::new(masks))));
        Ok(Self {
            params,
            alias,
            columns: kinds
                .into_iter()
                .map(|(name, pg, _, bit)| (name, pg, bit))
                .collect(),
        })
    }

    /// The `FROM` item that reads the rows, each with its place in the set (see
    /// [`ArraySet::ordinal`]): `unnest($1::int4[], ..., $n::int8[]) WITH ORDINALITY AS r("id",
    /// ..., "_nulls", "_at")`.
    pub(super) fn source(&self) -> String {
        let arrays = self
            .columns
            .iter()
            .map(|(_, pg, _)| *pg)
            .chain(["int8"])
            .enumerate()
            .map(|(i, pg)| format!("${}::{pg}[]", i + 1))
            .collect::<Vec<_>>()
            .join(", ");
        let names = self
            .columns
            .iter()
            .map(|(name, _, _)| name.as_str())
            .chain([NULLS, ORDINAL])
            .collect::<Vec<_>>()
            .join(", ");
        format!(
            "unnest({arrays}) WITH ORDINALITY AS {}({names})",
            self.alias
        )
    }

    /// A row's place in the set, from 1, to keep the rows in their order.
    pub(super) fn ordinal(&self) -> String {
        format!("{}.{ORDINAL}", self.alias)
    }

    /// The value of the `i`-th column in a row read by [`ArraySet::source`].
    pub(super) fn value(&self, i: usize) -> String {
        let (name, _, bit) = &self.columns[i];
        let alias = self.alias;
        match bit {
            None => format!("{alias}.{name}"),
            Some(bit) => {
                format!(
                    "CASE WHEN {alias}.{NULLS} & {} = 0 THEN {alias}.{name} END",
                    1i64 << bit
                )
            }
        }
    }

    /// The statement `sql`, which reads the rows through [`ArraySet::source`], with the
    /// arrays as its parameters.
    pub(super) fn statement(self, sql: String) -> Statement {
        Statement::from_sql_and_values(DbBackend::Postgres, sql, self.params)
    }
}

/// The name of the null masks' column in an [`ArraySet`].
const NULLS: &str = "\"_nulls\"";

/// The name of the rows' places in an [`ArraySet`].
const ORDINAL: &str = "\"_at\"";

/// PostgreSQL's name for a column type, and a value of it to stand in for NULL, for the types
/// the engine's tables use.
fn array_type(ty: &ColumnType) -> Option<(&'static str, Value)> {
    Some(match ty {
        ColumnType::SmallInteger => ("int2", Value::SmallInt(Some(0))),
        ColumnType::Integer => ("int4", Value::Int(Some(0))),
        ColumnType::BigInteger => ("int8", Value::BigInt(Some(0))),
        ColumnType::Boolean => ("bool", Value::Bool(Some(false))),
        ColumnType::Char(_) | ColumnType::String(_) | ColumnType::Text => {
            ("text", Value::String(Some(String::new())))
        }
        ColumnType::TimestampWithTimeZone => (
            "timestamptz",
            Value::ChronoDateTimeUtc(Some(chrono::DateTime::UNIX_EPOCH)),
        ),
        _ => return None,
    })
}

/// `table.column`, for errors.
fn column_name<E: EntityTrait>(column: E::Column) -> String {
    format!("{}.{}", E::default().to_string(), column.as_str())
}

fn unset<E: EntityTrait>(column: E::Column) -> DbErr {
    DbErr::Type(format!(
        "{} is set in the first row of a multi-row insert but not in every row",
        column_name::<E>(column)
    ))
}

/// An identifier in double quotes, for names that come from the entities.
fn quoted(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::store::entity::timer;

    fn timer_set(rows: Vec<Vec<Value>>) -> Result<ArraySet, DbErr> {
        let columns = [timer::Column::Name, timer::Column::RepeatsLeft];
        ArraySet::new::<timer::Entity>(&columns, rows.into_iter().map(Ok), "r")
    }

    #[test]
    fn nulls_go_as_placeholders_marked_in_the_mask() {
        let set = timer_set(vec![
            vec!["a".into(), Value::Int(Some(3))],
            vec!["b".into(), Value::Int(None)],
        ])
        .unwrap();
        assert_eq!(
            set.source(),
            r#"unnest($1::text[], $2::int4[], $3::int8[]) WITH ORDINALITY AS r("name", "repeats_left", "_nulls", "_at")"#
        );
        assert_eq!(set.value(0), r#"r."name""#);
        assert_eq!(
            set.value(1),
            r#"CASE WHEN r."_nulls" & 1 = 0 THEN r."repeats_left" END"#
        );
        let array = |values: Vec<Value>, ty| Value::Array(ty, Some(Box::new(values)));
        assert_eq!(
            set.params,
            vec![
                array(vec!["a".into(), "b".into()], ArrayType::String),
                array(
                    vec![Value::Int(Some(3)), Value::Int(Some(0))],
                    ArrayType::Int
                ),
                array(
                    vec![Value::BigInt(Some(0)), Value::BigInt(Some(1))],
                    ArrayType::BigInt
                ),
            ]
        );
    }

    #[test]
    fn a_null_in_a_column_that_takes_none_is_refused_by_name() {
        let refused = timer_set(vec![vec![Value::String(None), Value::Int(None)]]);
        let message = refused.err().map(|e| e.to_string()).unwrap_or_default();
        assert!(message.contains("timer.name cannot be NULL"), "{message}");
        let mistyped = timer_set(vec![vec!["a".into(), Value::BigInt(Some(1))]]);
        let message = mistyped.err().map(|e| e.to_string()).unwrap_or_default();
        assert!(
            message.contains("timer.repeats_left: a BigInt value"),
            "{message}"
        );
    }

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
