//! Throwaway PostgreSQL databases for tests and benchmarks: each gets a database of its own on
//! the server, so runs never see each other's rows.

use sea_orm::{ConnectionTrait, Database};

use super::StoreError;

/// Creates an empty database named `<prefix>_<random>` on the server `server_url` points at,
/// and returns its URL.
pub async fn create_postgres_database(
    server_url: &str,
    prefix: &str,
) -> Result<String, StoreError> {
    let name = format!("{prefix}_{:016x}", rand::random::<u64>());
    let admin = Database::connect(server_url).await?;
    admin
        .execute_unprepared(&format!("CREATE DATABASE \"{name}\""))
        .await?;
    admin.close().await?;
    Ok(with_database(server_url, &name))
}

/// Drops a database made by [`create_postgres_database`].
pub async fn drop_postgres_database(server_url: &str, url: &str) -> Result<(), StoreError> {
    let name = database_name(url);
    let admin = Database::connect(server_url).await?;
    admin
        .execute_unprepared(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
        .await?;
    admin.close().await?;
    Ok(())
}

fn split(url: &str) -> (&str, &str, &str) {
    let (before_query, query) = url.split_once('?').map_or((url, ""), |(a, b)| (a, b));
    let scheme_end = before_query.find("://").map_or(0, |i| i + 3);
    match before_query[scheme_end..].find('/') {
        Some(i) => (
            &before_query[..scheme_end + i],
            &before_query[scheme_end + i + 1..],
            query,
        ),
        None => (before_query, "", query),
    }
}

fn database_name(url: &str) -> &str {
    split(url).1
}

/// `url` with its database name replaced.
pub fn with_database(url: &str, name: &str) -> String {
    let (base, _, query) = split(url);
    if query.is_empty() {
        format!("{base}/{name}")
    } else {
        format!("{base}/{name}?{query}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_database_name_is_replaced_and_the_rest_kept() {
        assert_eq!(
            with_database("postgres://u:p@h:5432/test?sslmode=disable", "x"),
            "postgres://u:p@h:5432/x?sslmode=disable"
        );
        assert_eq!(with_database("postgres://h", "x"), "postgres://h/x");
        assert_eq!(database_name("postgres://h:1/abc"), "abc");
    }
}
