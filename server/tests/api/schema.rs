//! The two backends' migrations must describe the same schema: a table or
//! column on one backend only is a bug waiting for the other's users.

use std::collections::BTreeSet;

use app::platform::db::Db;
use sqlx::Connection;
use uuid::Uuid;

type Columns = BTreeSet<(String, String)>;

/// SQLite's tables, less the lead search index (migration 20: an FTS5
/// table and its shadow tables; PostgreSQL's counterpart is an index).
async fn sqlite_columns() -> Columns {
    let path = std::env::temp_dir().join(format!("corral-schema-{}.db", Uuid::now_v7().simple()));
    let db = Db::connect(&format!("sqlite://{}", path.display())).await.unwrap();
    db.migrate().await.unwrap();
    let Db::Sqlite(pool) = &db else { unreachable!() };
    let rows: Vec<(String, String)> = sqlx::query_as(
        "SELECT m.name, p.name FROM sqlite_master m JOIN pragma_table_info(m.name) p \
         WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' AND m.name NOT LIKE '_sqlx_%' \
         AND m.name NOT LIKE 'leads\\_search%' ESCAPE '\\'",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    db.close().await;
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
    rows.into_iter().collect()
}

async fn postgres_columns() -> Columns {
    let admin = std::env::var("CORRAL_TEST_POSTGRES_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into());
    let name = format!("corral_test_schema_{}", Uuid::now_v7().simple());
    let mut conn =
        sqlx::PgConnection::connect(&admin).await.expect("the schema parity test needs PostgreSQL: set CORRAL_TEST_POSTGRES_URL");
    sqlx::query(&format!("CREATE DATABASE {name}")).execute(&mut conn).await.unwrap();
    let base = admin.rsplit_once('/').map(|(b, _)| b.to_string()).unwrap_or(admin.clone());
    let db = Db::connect(&format!("{base}/{name}")).await.unwrap();
    db.migrate().await.unwrap();
    let Db::Postgres(pool) = &db else { unreachable!() };
    let rows: Vec<(String, String)> = sqlx::query_as(
        "SELECT table_name::text, column_name::text FROM information_schema.columns \
         WHERE table_schema = 'public' AND table_name NOT LIKE '\\_sqlx\\_%'",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    db.close().await;
    sqlx::query(&format!("DROP DATABASE {name} WITH (FORCE)")).execute(&mut conn).await.unwrap();
    rows.into_iter().collect()
}

#[tokio::test]
async fn both_backends_migrate_to_the_same_tables_and_columns() {
    let (sqlite, postgres) = (sqlite_columns().await, postgres_columns().await);
    assert!(sqlite.len() > 100, "the SQLite schema was not read: {sqlite:?}");
    let only_sqlite: Vec<_> = sqlite.difference(&postgres).collect();
    let only_postgres: Vec<_> = postgres.difference(&sqlite).collect();
    assert!(
        only_sqlite.is_empty() && only_postgres.is_empty(),
        "columns on SQLite only: {only_sqlite:?}; on PostgreSQL only: {only_postgres:?}"
    );
}
