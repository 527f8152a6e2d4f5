//! CSV export of a list or segment, streamed page by page (1,000 records
//! per query, keyset-paginated by id), so memory stays flat for any size.
//! Cells that a spreadsheet would run as a formula are neutralised.
//!
//! Lead lists reach a million members, so their lines are written by the
//! database: a page comes back as one row holding its thousand CSV lines
//! (`lead_line_sql`), not a thousand rows decoded into leads and formatted
//! here. [`lead_csv_line`] is the same line written in Rust: the tests hold
//! the two equal.

use axum::body::{Body, Bytes};
use axum::http::{header, HeaderValue};
use axum::response::Response;
use futures::stream;
use uuid::Uuid;

use super::lists;
use super::types::*;
use crate::crm::companies::{ops as companies, types::Company};
use crate::crm::leads::types::Lead;
use crate::error::{AppError, AppResult};
use crate::platform::context::Ctx;
use crate::platform::db::{Backend, Db, Q};

const PAGE: i64 = 1000;

/// A cell as CSV: formula triggers (`= + - @`, tab, carriage return) at the
/// start get a leading apostrophe (OWASP's advice), then RFC 4180 quoting.
pub fn csv_cell(value: &str) -> String {
    let neutral = match value.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{value}"),
        _ => value.to_string(),
    };
    if neutral.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", neutral.replace('"', "\"\""))
    } else {
        neutral
    }
}

fn csv_line(cells: &[String]) -> String {
    let mut line = cells.iter().map(|c| csv_cell(c)).collect::<Vec<_>>().join(",");
    line.push_str("\r\n");
    line
}

fn opt(value: &Option<String>) -> String {
    value.clone().unwrap_or_default()
}

const LEAD_HEADER: &[&str] =
    &["id", "name", "email", "phone", "company_name", "title", "source", "status", "score", "tags", "custom_fields", "created_at"];
const COMPANY_HEADER: &[&str] =
    &["id", "name", "domain", "website", "status", "industry", "employee_count", "country", "city", "phone", "custom_fields", "created_at"];

/// One lead's CSV line as the export writes it (in SQL, `lead_line_sql`):
/// what the tests compare the database's lines with.
pub fn lead_csv_line(lead: &Lead) -> String {
    csv_line(&lead_row(lead))
}

/// [`csv_cell`] as SQL over a text expression (NULL is an empty cell).
fn sql_cell(backend: Backend, value: &str) -> String {
    let position = match backend {
        Backend::Sqlite => "instr",
        Backend::Postgres => "strpos",
    };
    // Tab, carriage return and line feed are written into the literals
    // themselves: both databases take them there.
    let neutral = format!("CASE WHEN substr({value}, 1, 1) IN ('=', '+', '-', '@', '\t', '\r') THEN '''' || {value} ELSE {value} END");
    format!(
        "CASE WHEN {value} IS NULL THEN '' \
         WHEN {position}({value}, ',') > 0 OR {position}({value}, '\"') > 0 OR {position}({value}, '\n') > 0 OR {position}({value}, '\r') > 0 \
         THEN '\"' || replace({neutral}, '\"', '\"\"') || '\"' ELSE {neutral} END"
    )
}

/// A lead row's CSV line (with its CRLF) as one SQL expression over
/// `leads`, the same text as [`lead_csv_line`]: ids as hyphenated
/// lowercase, tags joined by `;`, custom fields as compact JSON, the
/// creation time in RFC 3339 with the sub-second digits chrono writes. One difference is left: on
/// PostgreSQL a custom field holding an object or array is written with
/// PostgreSQL's spacing (`{"a": 1}`), as its JSON output has no compact form.
fn lead_line_sql(backend: Backend) -> String {
    let cell = |value: &str| sql_cell(backend, value);
    let (id, tags, custom_fields, created_at) = match backend {
        Backend::Sqlite => (
            "lower(substr(hex(leads.id), 1, 8) || '-' || substr(hex(leads.id), 9, 4) || '-' || substr(hex(leads.id), 13, 4) || '-' \
             || substr(hex(leads.id), 17, 4) || '-' || substr(hex(leads.id), 21))"
                .to_string(),
            cell("(SELECT group_concat(t.value, ';' ORDER BY t.key) FROM json_each(leads.tags) t)"),
            cell("leads.custom_fields"),
            // Stored as sqlx writes it (`…+00:00`, chrono's own text), or by
            // SQLite's strftime in SQL-written rows (`….097Z`): the latter
            // is brought to the former.
            cell("(CASE WHEN substr(leads.created_at, -1) = 'Z' THEN replace(replace(leads.created_at, '.000Z', 'Z'), 'Z', '+00:00') ELSE leads.created_at END)"),
        ),
        Backend::Postgres => (
            "leads.id::text".to_string(),
            cell("(SELECT string_agg(t.value, ';' ORDER BY t.n) FROM jsonb_array_elements_text(leads.tags) WITH ORDINALITY AS t(value, n))"),
            cell(
                "COALESCE((SELECT '{' || string_agg(to_json(f.key)::text || ':' || f.value::text, ',' ORDER BY f.key COLLATE \"C\") || '}' \
                 FROM jsonb_each(leads.custom_fields) f), '{}')",
            ),
            cell(
                "(to_char(leads.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS') || \
                 CASE WHEN CAST(extract(microseconds FROM leads.created_at) AS BIGINT) % 1000000 = 0 THEN '' \
                 WHEN CAST(extract(microseconds FROM leads.created_at) AS BIGINT) % 1000 = 0 THEN to_char(leads.created_at AT TIME ZONE 'UTC', '.MS') \
                 ELSE to_char(leads.created_at AT TIME ZONE 'UTC', '.US') END || '+00:00')",
            ),
        ),
    };
    let cells = [
        id,
        cell("leads.name"),
        cell("leads.email"),
        cell("leads.phone"),
        cell("leads.company_name"),
        cell("leads.title"),
        cell("leads.source"),
        cell("leads.status"),
        cell("CAST(leads.score AS TEXT)"),
        tags,
        custom_fields,
        created_at,
    ];
    format!("{} || '\r\n'", cells.map(|c| format!("({c})")).join(" || ',' || "))
}

fn lead_row(l: &Lead) -> Vec<String> {
    vec![
        l.id.to_string(),
        l.name.clone(),
        opt(&l.email),
        opt(&l.phone),
        opt(&l.company_name),
        opt(&l.title),
        l.source.as_str().into(),
        l.status.as_str().into(),
        l.score.to_string(),
        l.tags.join(";"),
        l.custom_fields.to_string(),
        l.created_at.to_rfc3339(),
    ]
}

fn company_row(c: &Company) -> Vec<String> {
    vec![
        c.id.to_string(),
        c.name.clone(),
        opt(&c.domain),
        opt(&c.website),
        c.status.as_str().into(),
        opt(&c.industry),
        c.employee_count.map(|n| n.to_string()).unwrap_or_default(),
        opt(&c.country),
        opt(&c.city),
        opt(&c.phone),
        c.custom_fields.to_string(),
        c.created_at.to_rfc3339(),
    ]
}

struct Cursor {
    db: Db,
    ctx: Ctx,
    list: List,
    after: Option<Uuid>,
    started: bool,
    done: bool,
}

async fn next_chunk(mut cursor: Cursor) -> AppResult<Option<(Bytes, Cursor)>> {
    if cursor.done {
        return Ok(None);
    }
    if !cursor.started {
        cursor.started = true;
        let header = match cursor.list.entity {
            ListEntity::Lead => LEAD_HEADER,
            ListEntity::Company => COMPANY_HEADER,
        };
        let line = csv_line(&header.iter().map(|h| h.to_string()).collect::<Vec<_>>());
        return Ok(Some((Bytes::from(line), cursor)));
    }
    let mut tx = cursor.db.begin_read().await?;
    let backend = tx.backend();
    let (table, columns) = match cursor.list.entity {
        ListEntity::Lead => ("leads", format!("leads.id, {} AS line", lead_line_sql(backend))),
        ListEntity::Company => ("companies", companies::COLUMNS.to_string()),
    };
    let mut q: Q = match (&cursor.list.kind, &cursor.list.rules) {
        (ListKind::Segment, Some(rules)) => lists::segment_query(&mut tx, &cursor.ctx, &columns, rules).await?,
        _ => Q::new(format!(
            "SELECT {columns} FROM {table} WHERE {table}.workspace_id = $1 AND EXISTS \
             (SELECT 1 FROM list_members m WHERE m.list_id = $2 AND m.member_id = {table}.id)"
        ))
        .bind(cursor.ctx.workspace_id)
        .bind(cursor.list.id),
    };
    if let Some(after) = cursor.after {
        let p = q.arg(after);
        q.push(&format!(" AND {table}.id > {p}"));
    }
    let p = q.arg(PAGE);
    q.push(&format!(" ORDER BY {table}.id LIMIT {p}"));
    let (count, last, out) = match cursor.list.entity {
        ListEntity::Lead => {
            // The page's lines joined into one value: one row to decode per
            // thousand leads.
            let (last_id, lines) = match backend {
                Backend::Sqlite => ("MAX(page.id)", "group_concat(page.line, '' ORDER BY page.id)"),
                Backend::Postgres => ("(array_agg(page.id ORDER BY page.id DESC))[1]", "string_agg(page.line, '' ORDER BY page.id)"),
            };
            let sql = format!("SELECT CAST(COUNT(*) AS BIGINT), {last_id}, {lines} FROM ({}) page", q.sql());
            let (count, last, lines): (i64, Option<Uuid>, Option<String>) = tx.fetch_one(q.with_sql(sql)).await?;
            (count, last, lines.unwrap_or_default())
        }
        ListEntity::Company => {
            let rows: Vec<Company> = tx.fetch_all(q).await?;
            let mut out = String::new();
            rows.iter().for_each(|r| out.push_str(&csv_line(&company_row(r))));
            (rows.len() as i64, rows.last().map(|r| r.id), out)
        }
    };
    tx.commit().await?;
    cursor.after = last.or(cursor.after);
    cursor.done = count < PAGE;
    if out.is_empty() {
        return Ok(None);
    }
    Ok(Some((Bytes::from(out), cursor)))
}

fn file_name(name: &str) -> String {
    let slug: String = name.chars().map(|c| if c.is_ascii_alphanumeric() || c == '-' { c } else { '_' }).take(80).collect();
    format!("{}.csv", if slug.is_empty() { "export".to_string() } else { slug })
}

/// The response for `GET /lists/{id}/export.csv`: checked up front (rights,
/// existence, rules), then streamed.
pub async fn csv_response(db: Db, ctx: Ctx, id: Uuid) -> AppResult<Response> {
    let mut tx = db.begin_read().await?;
    let list = lists::get(&mut tx, &ctx, id).await?;
    tx.commit().await?;
    let disposition = format!("attachment; filename=\"{}\"", file_name(&list.name));
    let cursor = Cursor { db, ctx, list, after: None, started: false, done: false };
    let body = stream::try_unfold(cursor, next_chunk);
    let mut response = Response::new(Body::from_stream(futures::StreamExt::map(body, |r| {
        r.map_err(|e: AppError| {
            tracing::error!(error = %e, "export stream failed");
            std::io::Error::other(e.to_string())
        })
    })));
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/csv; charset=utf-8"));
    headers.insert(header::CONTENT_DISPOSITION, HeaderValue::from_str(&disposition).map_err(|e| AppError::Internal(e.to_string()))?);
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::csv_cell;

    #[test]
    fn formulas_are_neutralised_and_quoting_is_rfc4180() {
        assert_eq!(csv_cell("=HYPERLINK(\"http://evil\")"), "\"'=HYPERLINK(\"\"http://evil\"\")\"");
        assert_eq!(csv_cell("+1"), "'+1");
        assert_eq!(csv_cell("-2+3"), "'-2+3");
        assert_eq!(csv_cell("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(csv_cell("a,b"), "\"a,b\"");
        assert_eq!(csv_cell("plain"), "plain");
    }
}
