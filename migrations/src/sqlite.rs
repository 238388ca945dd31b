//! SQLite cannot alter or drop a column's constraint: a table whose columns must change is
//! rebuilt, as SQLite's own documentation describes ("Making Other Kinds Of Table Schema
//! Changes"). Shared by the migrations that need it.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend, Statement};

/// Rebuilds `table` as `new` defines it (under a temporary name), keeping every row, the id
/// counter, and the old table's indexes and triggers.
pub(crate) async fn rebuild(
    manager: &SchemaManager<'_>,
    table: &str,
    mut new: TableCreateStatement,
) -> Result<(), DbErr> {
    let db = manager.get_connection();
    let rebuilt = format!("{table}_rebuilt");
    // Indexes first: a trigger may name one.
    let dependents = texts(
        db,
        "SELECT sql FROM sqlite_master WHERE type IN ('index', 'trigger') AND tbl_name = ? \
         AND sql IS NOT NULL ORDER BY type = 'trigger'",
        table,
    )
    .await?;
    let columns: Vec<String> = texts(
        db,
        "SELECT name FROM pragma_table_info(?) ORDER BY cid",
        table,
    )
    .await?
    .iter()
    .map(|c| format!("\"{c}\""))
    .collect();
    let columns = columns.join(", ");
    manager
        .create_table(new.table(Alias::new(&rebuilt)).to_owned())
        .await?;
    // By name: a column the new table lacks fails the migration rather than being dropped.
    for step in [
        format!("INSERT INTO \"{rebuilt}\" ({columns}) SELECT {columns} FROM \"{table}\""),
        // The copy set the counter to the highest id kept; the old one may stand higher.
        format!("DELETE FROM sqlite_sequence WHERE name = '{rebuilt}'"),
        format!(
            "INSERT INTO sqlite_sequence (name, seq) \
             SELECT '{rebuilt}', seq FROM sqlite_sequence WHERE name = '{table}'"
        ),
        format!("DROP TABLE \"{table}\""),
        format!("ALTER TABLE \"{rebuilt}\" RENAME TO \"{table}\""),
    ] {
        db.execute_unprepared(&step).await?;
    }
    for definition in dependents {
        db.execute_unprepared(&definition).await?;
    }
    Ok(())
}

/// The first column of what a query about `table` answers, as text.
async fn texts(
    db: &SchemaManagerConnection<'_>,
    sql: &str,
    table: &str,
) -> Result<Vec<String>, DbErr> {
    db.query_all_raw(Statement::from_sql_and_values(
        DbBackend::Sqlite,
        sql,
        [table.into()],
    ))
    .await?
    .iter()
    .map(|row| row.try_get_by_index::<String>(0))
    .collect()
}
