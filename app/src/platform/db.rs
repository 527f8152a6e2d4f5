//! Storage: one enum over the two first-class backends.
//!
//! sqlx's `Any` driver cannot carry uuid/chrono values, so instead every
//! domain query is written once in a portable SQL subset with `$n`
//! placeholders, its arguments collected as backend-neutral [`Arg`]s, and run
//! on whichever pool is configured. Rows decode through `sqlx::FromRow`,
//! which both backends implement for the same structs.

use std::str::FromStr;
use std::time::Duration;

use chrono::{DateTime, Utc};
use sqlx::postgres::{PgPool, PgPoolOptions, PgRow};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteRow, SqliteSynchronous};
use sqlx::{FromRow, Postgres, Sqlite, Transaction};
use uuid::Uuid;

/// The current time at the precision both backends store (microseconds),
/// so a value written and read back compares equal.
pub fn now() -> DateTime<Utc> {
    let now = Utc::now();
    DateTime::from_timestamp_micros(now.timestamp_micros()).unwrap_or(now)
}

pub const DEFAULT_DATABASE_URL: &str = "sqlite://corral.db";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

macro_rules! bind_all {
    ($query:expr, $args:expr) => {{
        let mut query = $query;
        for arg in $args {
            query = match arg {
                Arg::Uuid(v) => query.bind(v),
                Arg::Text(v) => query.bind(v),
                Arg::Int(v) => query.bind(v),
                Arg::Real(v) => query.bind(v),
                Arg::Bool(v) => query.bind(v),
                Arg::Time(v) => query.bind(v),
                Arg::Date(v) => query.bind(v),
                Arg::Json(v) => query.bind(v.map(sqlx::types::Json)),
            };
        }
        query
    }};
}

#[derive(Clone, Debug)]
pub enum Db {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

static SQLITE_MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../migrations/sqlite");
static POSTGRES_MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../migrations/postgres");

impl Db {
    /// Connects to `sqlite:` or `postgres:` URLs. SQLite runs in WAL mode with
    /// a busy timeout and foreign keys enforced, the settings a multi-user
    /// server needs from an embedded database.
    pub async fn connect(url: &str) -> Result<Db, sqlx::Error> {
        if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            let pool = PgPoolOptions::new().max_connections(16).acquire_timeout(Duration::from_secs(10)).connect(url).await?;
            Ok(Db::Postgres(pool))
        } else if url.starts_with("sqlite:") {
            let options = SqliteConnectOptions::from_str(url)?
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .busy_timeout(Duration::from_secs(10))
                .foreign_keys(true)
                // Freed pages can be given back (flow run retention): only
                // new files take this at once; `migrate` converts old ones.
                .auto_vacuum(sqlx::sqlite::SqliteAutoVacuum::Incremental);
            let pool = SqlitePoolOptions::new().max_connections(8).acquire_timeout(Duration::from_secs(10)).connect_with(options).await?;
            Ok(Db::Sqlite(pool))
        } else {
            Err(sqlx::Error::Configuration(format!("unsupported DATABASE_URL scheme (use sqlite: or postgres:): {url}").into()))
        }
    }

    pub fn backend(&self) -> Backend {
        match self {
            Db::Sqlite(_) => Backend::Sqlite,
            Db::Postgres(_) => Backend::Postgres,
        }
    }

    pub async fn migrate(&self) -> Result<(), sqlx::migrate::MigrateError> {
        match self {
            Db::Sqlite(pool) => {
                SQLITE_MIGRATOR.run(pool).await?;
                // A file made before incremental auto-vacuum is rewritten
                // once (VACUUM applies the setting); new files have it.
                let (mode,): (i64,) = sqlx::query_as("PRAGMA auto_vacuum").fetch_one(pool).await?;
                if mode != 2 {
                    sqlx::query("PRAGMA auto_vacuum = INCREMENTAL").execute(pool).await?;
                    sqlx::query("VACUUM").execute(pool).await?;
                    // VACUUM may renumber rowids, which the lead search
                    // index (migration 20) points at: rebuild it from leads.
                    sqlx::query("INSERT INTO leads_search (leads_search) VALUES ('rebuild')").execute(pool).await?;
                }
                Ok(())
            }
            Db::Postgres(pool) => POSTGRES_MIGRATOR.run(pool).await,
        }
    }

    /// Gives the pages freed by deletions back to the file system (SQLite;
    /// PostgreSQL's autovacuum reuses them).
    pub async fn reclaim_space(&self) -> Result<(), sqlx::Error> {
        if let Db::Sqlite(pool) = self {
            sqlx::query("PRAGMA incremental_vacuum").execute(pool).await?;
        }
        Ok(())
    }

    /// A transaction for writes. On SQLite it takes the write lock up front
    /// (`BEGIN IMMEDIATE`): a deferred transaction that reads and then writes
    /// fails with SQLITE_BUSY instead of waiting when another writer commits
    /// in between.
    pub async fn begin(&self) -> Result<Tx, sqlx::Error> {
        Ok(match self {
            Db::Sqlite(pool) => Tx::Sqlite(pool.begin_with("BEGIN IMMEDIATE").await?),
            Db::Postgres(pool) => Tx::Postgres(pool.begin().await?),
        })
    }

    /// A transaction for reads: a consistent snapshot without the write lock.
    pub async fn begin_read(&self) -> Result<Tx, sqlx::Error> {
        Ok(match self {
            Db::Sqlite(pool) => Tx::Sqlite(pool.begin().await?),
            Db::Postgres(pool) => Tx::Postgres(pool.begin().await?),
        })
    }

    /// One read statement on its own, outside any transaction: a single
    /// statement sees one snapshot anyway, and on PostgreSQL it saves the
    /// `BEGIN` and `COMMIT` round trips. For reads done on every request.
    pub async fn fetch_optional<T: Record>(&self, q: Q) -> Result<Option<T>, sqlx::Error> {
        match self {
            Db::Sqlite(pool) => {
                let sql = q.sqlite_sql();
                bind_all!(sqlx::query_as::<_, T>(&sql), q.args).fetch_optional(pool).await
            }
            Db::Postgres(pool) => bind_all!(sqlx::query_as::<_, T>(&q.sql), q.args).fetch_optional(pool).await,
        }
    }

    pub async fn close(&self) {
        match self {
            Db::Sqlite(pool) => pool.close().await,
            Db::Postgres(pool) => pool.close().await,
        }
    }
}

/// A value bound to a query parameter. Each variant keeps its SQL type even
/// when NULL, which PostgreSQL needs to type the parameter.
#[derive(Clone, Debug)]
pub enum Arg {
    Uuid(Option<Uuid>),
    Text(Option<String>),
    Int(Option<i64>),
    Real(Option<f64>),
    Bool(Option<bool>),
    Time(Option<DateTime<Utc>>),
    Date(Option<chrono::NaiveDate>),
    Json(Option<serde_json::Value>),
}

macro_rules! arg_from {
    ($ty:ty, $variant:ident, $conv:expr) => {
        impl From<$ty> for Arg {
            fn from(value: $ty) -> Self {
                Arg::$variant(Some($conv(value)))
            }
        }
        impl From<Option<$ty>> for Arg {
            fn from(value: Option<$ty>) -> Self {
                Arg::$variant(value.map($conv))
            }
        }
    };
}
arg_from!(Uuid, Uuid, |v| v);
arg_from!(String, Text, |v| v);
arg_from!(&str, Text, |v: &str| v.to_string());
arg_from!(i64, Int, |v| v);
arg_from!(i32, Int, |v: i32| v as i64);
arg_from!(f64, Real, |v| v);
arg_from!(bool, Bool, |v| v);
arg_from!(DateTime<Utc>, Time, |v| v);
arg_from!(chrono::NaiveDate, Date, |v| v);
arg_from!(serde_json::Value, Json, |v| v);

impl From<&String> for Arg {
    fn from(value: &String) -> Self {
        Arg::Text(Some(value.clone()))
    }
}

/// Where [`wide_sum`] splits each value: the high part (value / 10^9, at
/// most 9.3 × 10^9 for any `i64`) can be summed over a billion rows
/// without overflowing a BIGINT, and so can the low part (value % 10^9).
const WIDE_SPLIT: i64 = 1_000_000_000;

/// Escapes LIKE wildcards so a search for "50%" means the text "50%".
pub fn like_pattern(text: &str) -> String {
    let mut pattern = String::from("%");
    for c in text.trim().to_lowercase().chars() {
        if matches!(c, '%' | '_' | '\\') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push('%');
    pattern
}

/// The text search over leads' name, email and company name (`q` on lists
/// and the search box): the same case-insensitive substring match as
/// [`text_search`], first narrowed by the lead search index (migration 20:
/// SQLite FTS5 trigrams, PostgreSQL pg_trgm) when the text has the three
/// characters a trigram needs. `table` qualifies the columns (`leads`).
pub fn lead_text_search(q: &mut Q, backend: Backend, text: Option<&str>, table: &str) -> crate::error::AppResult<()> {
    let Some(text) = text.filter(|t| !t.trim().is_empty()) else { return Ok(()) };
    let columns = [format!("{table}.name"), format!("{table}.email"), format!("{table}.company_name")];
    let columns: Vec<&str> = columns.iter().map(String::as_str).collect();
    text_search(q, Some(text), &columns)?;
    let needle = text.trim().to_lowercase();
    if needle.chars().count() < 3 {
        return Ok(());
    }
    match backend {
        Backend::Sqlite => {
            // One FTS5 phrase: the trigrams of the text in order.
            let p = q.arg(format!("\"{}\"", needle.replace('"', "\"\"")));
            q.push(&format!(" AND {table}.rowid IN (SELECT rowid FROM leads_search WHERE leads_search MATCH {p})"));
        }
        Backend::Postgres => {
            let p = q.arg(like_pattern(&needle));
            q.push(&format!(
                " AND lower(coalesce({table}.name, '') || ' ' || coalesce({table}.email, '') || ' ' || coalesce({table}.company_name, '')) \
                 LIKE {p} ESCAPE '\\'"
            ));
        }
    }
    Ok(())
}

/// Checks the text-search parameter and appends a case-insensitive match
/// over the given columns.
pub fn text_search(q: &mut Q, text: Option<&str>, columns: &[&str]) -> crate::error::AppResult<()> {
    let Some(text) = text.filter(|t| !t.trim().is_empty()) else { return Ok(()) };
    if text.chars().count() > 200 {
        return Err(crate::error::AppError::validation("q", "search text must be at most 200 characters"));
    }
    let p = q.arg(like_pattern(text));
    let parts: Vec<String> = columns.iter().map(|c| format!("LOWER(COALESCE({c}, '')) LIKE {p} ESCAPE '\\'")).collect();
    q.push(&format!(" AND ({})", parts.join(" OR ")));
    Ok(())
}

/// The SQL that differs between the backends, written once here: JSON
/// access and date truncation. Everything else is the portable subset.
impl Backend {
    /// One key of a JSON object column (`column` is trusted SQL). The key
    /// is written into the SQL as a literal, not bound, so the expressions
    /// are the ones an expression index was built on ([`Backend::custom_field_index`]);
    /// callers pass keys checked by `is_custom_field_key` (letters, digits,
    /// `_`, `-`), and anything else is dropped from the literal anyway.
    pub fn json_key(self, column: &str, key: &str) -> JsonKey {
        let key: String = key.chars().filter(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '-').collect();
        match self {
            Backend::Sqlite => {
                let path = format!("'$.\"{key}\"'");
                let json_type = format!("json_type({column}, {path})");
                let value = format!("json_extract({column}, {path})");
                JsonKey {
                    // json_extract reads true as 1; the text form says true
                    // on both backends.
                    text: format!("(CASE {json_type} WHEN 'true' THEN 'true' WHEN 'false' THEN 'false' ELSE CAST({value} AS TEXT) END)"),
                    lower_text: format!("LOWER({value})"),
                    number: value,
                    number_guard: format!("{json_type} IN ('integer', 'real')"),
                    json_type,
                    backend: self,
                }
            }
            Backend::Postgres => JsonKey {
                text: format!("({column} ->> '{key}')"),
                lower_text: format!("LOWER({column} ->> '{key}')"),
                number: format!(
                    "(CASE WHEN jsonb_typeof({column} -> '{key}') = 'number' THEN ({column} ->> '{key}')::double precision END)"
                ),
                number_guard: format!("jsonb_typeof({column} -> '{key}') = 'number'"),
                json_type: format!("jsonb_typeof({column} -> '{key}')"),
                backend: self,
            },
        }
    }

    /// `leads` read through `leads_by_updated` (workspace, updated_at), for
    /// "the leads changed since": SQLite is told the index, as its
    /// statistics may date from when most leads shared one `updated_at` (a
    /// bulk import), which makes a range over it look no better than a
    /// scan; PostgreSQL's planner needs no hint.
    pub fn leads_by_updated(self) -> &'static str {
        match self {
            Backend::Sqlite => "leads INDEXED BY leads_by_updated",
            Backend::Postgres => "leads",
        }
    }

    /// The expression index of a declared lead custom field: its name and
    /// `CREATE INDEX IF NOT EXISTS` statement. Text, choice, date and
    /// boolean fields index their lower-cased text, numbers their numeric
    /// value, each exactly as [`Backend::json_key`] writes it. One index per
    /// key and kind serves every workspace (`workspace_id` leads it).
    pub fn custom_field_index(self, key: &str, numeric: bool) -> (String, String) {
        let field = self.json_key("custom_fields", key);
        let kind = if numeric { "n" } else { "t" };
        // Index names are case-insensitive in SQLite and cut at 63 bytes in
        // PostgreSQL: a readable prefix and a hash of the exact key.
        let hash = key.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| (h ^ b as u64).wrapping_mul(0x100_0000_01b3));
        let readable: String = key.to_lowercase().chars().filter(|c| c.is_ascii_alphanumeric() || *c == '_').take(32).collect();
        let name = format!("leads_cf_{kind}_{readable}_{:08x}", hash as u32);
        let expression = if numeric { field.number } else { field.lower_text };
        // Only leads that hold the field are indexed: other workspaces'
        // leads cost the index nothing, and every comparison a rule makes
        // implies the value is not NULL, which both planners prove.
        (
            name.clone(),
            format!("CREATE INDEX IF NOT EXISTS {name} ON leads (workspace_id, ({expression})) WHERE ({expression}) IS NOT NULL"),
        )
    }

    /// A subquery of a JSON array column's elements as text, one row each
    /// in a column named `element`.
    pub fn json_array_elements(self, column: &str) -> String {
        match self {
            Backend::Sqlite => format!("SELECT value AS element FROM json_each({column})"),
            Backend::Postgres => format!("SELECT value AS element FROM jsonb_array_elements_text({column})"),
        }
    }

    /// The number of elements of a JSON array column.
    pub fn json_array_length(self, column: &str) -> String {
        match self {
            Backend::Sqlite => format!("json_array_length({column})"),
            Backend::Postgres => format!("jsonb_array_length({column})"),
        }
    }

    /// The Monday (UTC) starting the week of a timestamp column, as
    /// `YYYY-MM-DD` text.
    pub fn week_start(self, column: &str) -> String {
        match self {
            Backend::Sqlite => format!("date({column}, '-6 days', 'weekday 1')"),
            Backend::Postgres => format!("to_char(date_trunc('week', {column} AT TIME ZONE 'UTC'), 'YYYY-MM-DD')"),
        }
    }
}

/// SQL expressions over one key of a JSON object (see [`Backend::json_key`]).
pub struct JsonKey {
    /// The value as text (`"gold"` → gold, `42` → 42, `true` → true);
    /// NULL when absent.
    pub text: String,
    /// The value's text lower-cased: what declared text, choice, date and
    /// boolean fields are indexed and compared on.
    pub lower_text: String,
    /// The value as a number, for comparisons that also check
    /// [`JsonKey::number_guard`] (SQLite's expression yields text too).
    pub number: String,
    /// True when the value is a JSON number.
    pub number_guard: String,
    json_type: String,
    backend: Backend,
}

impl JsonKey {
    /// The key is present with a value other than JSON null.
    pub fn is_set(&self) -> String {
        format!("COALESCE({}, 'null') <> 'null'", self.json_type)
    }

    /// The value is the JSON boolean `value` (NULL when absent).
    pub fn is_bool(&self, value: bool) -> String {
        match self.backend {
            Backend::Sqlite => format!("{} = '{value}'", self.json_type),
            Backend::Postgres => format!("({} = 'boolean' AND {} = '{value}')", self.json_type, self.text),
        }
    }

    /// The value is a JSON string.
    pub fn is_string(&self) -> String {
        match self.backend {
            Backend::Sqlite => format!("{} = 'text'", self.json_type),
            Backend::Postgres => format!("{} = 'string'", self.json_type),
        }
    }

    /// The value is a JSON boolean.
    pub fn is_boolean(&self) -> String {
        match self.backend {
            Backend::Sqlite => format!("{} IN ('true', 'false')", self.json_type),
            Backend::Postgres => format!("{} = 'boolean'", self.json_type),
        }
    }

    /// The value is a JSON object or array.
    pub fn is_structured(&self) -> String {
        format!("{} IN ('object', 'array')", self.json_type)
    }

    /// The value is a string of the form `YYYY-MM-DD`.
    pub fn is_date(&self) -> String {
        match self.backend {
            Backend::Sqlite => format!("({} AND {} GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]')", self.is_string(), self.text),
            Backend::Postgres => format!("({} AND {} ~ '^[0-9]{{4}}-[0-9]{{2}}-[0-9]{{2}}$')", self.is_string(), self.text),
        }
    }

    /// `number <op> <bound>` for numbers only.
    pub fn compare_number(&self, op: &str, bound: &str) -> String {
        format!("({} {op} {bound} AND {})", self.number, self.number_guard)
    }
}

/// SQL for the exact sum of an integer expression that no number of rows
/// and no stored value can overflow, on either backend: SQLite's `SUM`
/// fails on integer overflow, PostgreSQL's returns NUMERIC (which sqlx
/// only decodes with extra crates). Selects two BIGINT columns,
/// `{alias}_hi` and `{alias}_lo`; [`wide`] joins them into an `i128`.
/// `factor` multiplies each row's parts (a small column such as a
/// probability); `over` makes it a window sum (`OVER (…)`).
pub fn wide_sum_of(expr: &str, factor: Option<&str>, over: Option<&str>, alias: &str) -> String {
    let times = factor.map(|f| format!(" * ({f})")).unwrap_or_default();
    let window = over.map(|w| format!(" OVER ({w})")).unwrap_or_default();
    format!(
        "CAST(COALESCE(SUM((({expr}) / {WIDE_SPLIT}){times}){window}, 0) AS BIGINT) AS {alias}_hi, \
         CAST(COALESCE(SUM((({expr}) % {WIDE_SPLIT}){times}){window}, 0) AS BIGINT) AS {alias}_lo"
    )
}

/// [`wide_sum_of`] a plain column or expression.
pub fn wide_sum(expr: &str, alias: &str) -> String {
    wide_sum_of(expr, None, None, alias)
}

/// Joins the two parts [`wide_sum`] selected. Integer division and
/// remainder truncate toward zero on both backends, so hi × 10^9 + lo is
/// the exact sum for negative values too.
pub fn wide(hi: i64, lo: i64) -> i128 {
    hi as i128 * WIDE_SPLIT as i128 + lo as i128
}

/// A query in the portable dialect: `$1`, `$2`, … placeholders in the order
/// the arguments are bound.
#[derive(Clone, Debug, Default)]
pub struct Q {
    sql: String,
    args: Vec<Arg>,
}

impl Q {
    pub fn new(sql: impl Into<String>) -> Q {
        Q { sql: sql.into(), args: Vec::new() }
    }

    /// Binds the next positional argument.
    pub fn bind(mut self, value: impl Into<Arg>) -> Q {
        self.args.push(value.into());
        self
    }

    /// Appends raw SQL (never user input) to a query being built.
    pub fn push(&mut self, sql: &str) -> &mut Q {
        self.sql.push_str(sql);
        self
    }

    /// Adds an argument and returns its placeholder, for dynamic SQL.
    pub fn arg(&mut self, value: impl Into<Arg>) -> String {
        self.args.push(value.into());
        format!("${}", self.args.len())
    }

    pub fn sql(&self) -> &str {
        &self.sql
    }

    /// The same arguments under new SQL: for wrapping a built query as a
    /// subquery (`INSERT … SELECT … FROM (<inner>)`).
    pub fn with_sql(self, sql: String) -> Q {
        Q { sql, args: self.args }
    }

    /// SQLite numbers `$name` parameters by first appearance; `?NNN` is its
    /// explicit positional form, so rewrite to that. When every placeholder
    /// appears once and in order (`$1, $2, …`, as multi-row INSERTs and
    /// IN lists build them), plain `?` says the same and binds in linear
    /// time: SQLite looks a named parameter's name up by walking all of
    /// them, which made binding 20,000 of them quadratic.
    fn sqlite_sql(&self) -> String {
        let mut out = String::with_capacity(self.sql.len());
        let mut numbers = Vec::new();
        let mut chars = self.sql.chars().peekable();
        while let Some(c) = chars.next() {
            if c == '$' && chars.peek().is_some_and(|n| n.is_ascii_digit()) {
                out.push('?');
                let mut number = 0usize;
                while let Some(digit) = chars.peek().and_then(|d| d.to_digit(10)) {
                    number = number * 10 + digit as usize;
                    out.push(chars.next().expect("peeked"));
                }
                numbers.push(number);
            } else {
                out.push(c);
            }
        }
        if numbers.len() > 1 && numbers.iter().enumerate().all(|(i, n)| *n == i + 1) {
            return anonymous_placeholders(&out);
        }
        out
    }
}

/// `?1, ?2, …` (already checked to be in order, each once) as plain `?`.
fn anonymous_placeholders(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len());
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        out.push(c);
        if c == '?' {
            while chars.peek().is_some_and(|d| d.is_ascii_digit()) {
                chars.next();
            }
        }
    }
    out
}

/// Rows that decode on both backends.
pub trait Record: for<'r> FromRow<'r, SqliteRow> + for<'r> FromRow<'r, PgRow> + Send + Unpin {}
impl<T> Record for T where T: for<'r> FromRow<'r, SqliteRow> + for<'r> FromRow<'r, PgRow> + Send + Unpin {}

pub enum Tx {
    Sqlite(Transaction<'static, Sqlite>),
    Postgres(Transaction<'static, Postgres>),
}

impl Tx {
    pub fn backend(&self) -> Backend {
        match self {
            Tx::Sqlite(_) => Backend::Sqlite,
            Tx::Postgres(_) => Backend::Postgres,
        }
    }

    pub async fn commit(self) -> Result<(), sqlx::Error> {
        match self {
            Tx::Sqlite(tx) => tx.commit().await,
            Tx::Postgres(tx) => tx.commit().await,
        }
    }

    pub async fn rollback(self) -> Result<(), sqlx::Error> {
        match self {
            Tx::Sqlite(tx) => tx.rollback().await,
            Tx::Postgres(tx) => tx.rollback().await,
        }
    }

    pub async fn execute(&mut self, q: Q) -> Result<u64, sqlx::Error> {
        match self {
            Tx::Sqlite(tx) => {
                let sql = q.sqlite_sql();
                let query = bind_all!(sqlx::query(&sql), q.args);
                Ok(query.execute(&mut **tx).await?.rows_affected())
            }
            Tx::Postgres(tx) => {
                let query = bind_all!(sqlx::query(&q.sql), q.args);
                Ok(query.execute(&mut **tx).await?.rows_affected())
            }
        }
    }

    pub async fn fetch_all<T: Record>(&mut self, q: Q) -> Result<Vec<T>, sqlx::Error> {
        match self {
            Tx::Sqlite(tx) => {
                let sql = q.sqlite_sql();
                let query = bind_all!(sqlx::query_as::<_, T>(&sql), q.args);
                query.fetch_all(&mut **tx).await
            }
            Tx::Postgres(tx) => {
                let query = bind_all!(sqlx::query_as::<_, T>(&q.sql), q.args);
                query.fetch_all(&mut **tx).await
            }
        }
    }

    pub async fn fetch_optional<T: Record>(&mut self, q: Q) -> Result<Option<T>, sqlx::Error> {
        match self {
            Tx::Sqlite(tx) => {
                let sql = q.sqlite_sql();
                let query = bind_all!(sqlx::query_as::<_, T>(&sql), q.args);
                query.fetch_optional(&mut **tx).await
            }
            Tx::Postgres(tx) => {
                let query = bind_all!(sqlx::query_as::<_, T>(&q.sql), q.args);
                query.fetch_optional(&mut **tx).await
            }
        }
    }

    pub async fn fetch_one<T: Record>(&mut self, q: Q) -> Result<T, sqlx::Error> {
        self.fetch_optional(q).await?.ok_or(sqlx::Error::RowNotFound)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_placeholders_become_explicit_positions() {
        let q = Q::new("SELECT a FROM t WHERE b = $2 AND c = $1 AND d = '$x'");
        assert_eq!(q.sqlite_sql(), "SELECT a FROM t WHERE b = ?2 AND c = ?1 AND d = '$x'");
        let reused = Q::new("INSERT INTO t VALUES ($1, $2, $2)");
        assert_eq!(reused.sqlite_sql(), "INSERT INTO t VALUES (?1, ?2, ?2)");
    }

    #[test]
    fn placeholders_in_order_each_once_become_plain_question_marks() {
        let q = Q::new("INSERT INTO t VALUES ($1, $2, '$.a'), ($3, $4, '?'), ($5, $6, $7, $8, $9, $10, $11)");
        assert_eq!(q.sqlite_sql(), "INSERT INTO t VALUES (?, ?, '$.a'), (?, ?, '?'), (?, ?, ?, ?, ?, ?, ?)");
    }
}
