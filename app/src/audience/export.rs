//! CSV export of a list or segment, streamed page by page (1,000 records
//! per query, keyset-paginated by id), so memory stays flat for any size.
//! Cells that a spreadsheet would run as a formula are neutralised.

use axum::body::{Body, Bytes};
use axum::http::{header, HeaderValue};
use axum::response::Response;
use futures::stream;
use uuid::Uuid;

use super::lists;
use super::types::*;
use crate::crm::companies::{ops as companies, types::Company};
use crate::crm::leads::{ops as leads, types::Lead};
use crate::error::{AppError, AppResult};
use crate::platform::context::Ctx;
use crate::platform::db::{Db, Q};

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
    let (table, columns) = match cursor.list.entity {
        ListEntity::Lead => ("leads", leads::COLUMNS),
        ListEntity::Company => ("companies", companies::COLUMNS),
    };
    let mut q: Q = match (&cursor.list.kind, &cursor.list.rules) {
        (ListKind::Segment, Some(rules)) => lists::segment_query(&mut tx, &cursor.ctx, columns, rules).await?,
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
    let mut out = String::new();
    let (count, last) = match cursor.list.entity {
        ListEntity::Lead => {
            let rows: Vec<Lead> = tx.fetch_all(q).await?;
            rows.iter().for_each(|r| out.push_str(&csv_line(&lead_row(r))));
            (rows.len() as i64, rows.last().map(|r| r.id))
        }
        ListEntity::Company => {
            let rows: Vec<Company> = tx.fetch_all(q).await?;
            rows.iter().for_each(|r| out.push_str(&csv_line(&company_row(r))));
            (rows.len() as i64, rows.last().map(|r| r.id))
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
