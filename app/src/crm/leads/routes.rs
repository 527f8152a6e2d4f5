//! REST: /api/v1/leads

use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::{DateTime, Utc};

use super::ops;
use super::types::*;
use crate::error::{AppError, AppResult};
use crate::platform::context::{AppState, Ctx};
use crate::platform::http::{read, write, ApiJson, IdPath, Idempotency};
use crate::platform::types::Page;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/leads", get(list).post(create))
        .route("/leads/{id}", get(show).patch(update).delete(remove))
        .route("/leads/{id}/convert", post(convert))
}

/// The lead filter has open-ended `cf.<key>` parameters, so it is parsed
/// by hand, still refusing names it does not know.
pub struct LeadQuery(pub LeadFilter);

fn parse_number(field: &str, value: &str) -> AppResult<i64> {
    value.parse().map_err(|_| AppError::validation(field, format!("{field} must be a whole number")))
}

fn parse_time(field: &str, value: &str) -> AppResult<DateTime<Utc>> {
    if let Ok(t) = DateTime::parse_from_rfc3339(value) {
        return Ok(t.with_timezone(&Utc));
    }
    chrono::NaiveDate::parse_from_str(value, "%Y-%m-%d")
        .map(|d| d.and_hms_opt(0, 0, 0).unwrap().and_utc())
        .map_err(|_| AppError::validation(field, format!("{field} must be a date (2026-01-31) or an RFC 3339 time")))
}

impl<S: Send + Sync> FromRequestParts<S> for LeadQuery {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, AppError> {
        let mut f = LeadFilter::default();
        for (name, value) in form_urlencoded::parse(parts.uri.query().unwrap_or("").as_bytes()) {
            let value = value.to_string();
            if value.is_empty() {
                continue;
            }
            match name.as_ref() {
                "q" => f.q = Some(value),
                "status" => {
                    f.status = Some(LeadStatus::parse(&value).ok_or_else(|| AppError::validation("status", "unknown lead status"))?)
                }
                "source" => {
                    f.source = Some(LeadSource::parse(&value).ok_or_else(|| AppError::validation("source", "unknown lead source"))?)
                }
                "min_score" => f.min_score = Some(parse_number("min_score", &value)?),
                "max_score" => f.max_score = Some(parse_number("max_score", &value)?),
                "owner" => f.owner = Some(value),
                "created_after" => f.created_after = Some(parse_time("created_after", &value)?),
                "created_before" => f.created_before = Some(parse_time("created_before", &value)?),
                "last_activity_after" => f.last_activity_after = Some(parse_time("last_activity_after", &value)?),
                "last_activity_before" => f.last_activity_before = Some(parse_time("last_activity_before", &value)?),
                "limit" => f.limit = Some(parse_number("limit", &value)?),
                "cursor" => f.cursor = Some(value),
                other => match other.strip_prefix("cf.") {
                    Some(key) => f.custom_fields.push((key.to_string(), value)),
                    None => {
                        return Err(AppError::Validation {
                            field: Some(other.to_string()),
                            message: format!("unknown query parameter `{other}`"),
                        })
                    }
                },
            }
        }
        Ok(LeadQuery(f))
    }
}

async fn list(State(state): State<AppState>, ctx: Ctx, LeadQuery(filter): LeadQuery) -> AppResult<Json<Page<Lead>>> {
    read(&state, move |tx| Box::pin(async move { ops::list(tx, &ctx, filter).await })).await
}

async fn show(State(state): State<AppState>, ctx: Ctx, IdPath { 0: id }: IdPath) -> AppResult<Json<Lead>> {
    read(&state, move |tx| Box::pin(async move { ops::get(tx, &ctx, id).await })).await
}

async fn create(State(state): State<AppState>, ctx: Ctx, idem: Idempotency, body: ApiJson<NewLead>) -> AppResult<Response> {
    let (op_ctx, input) = (ctx.clone(), body.value);
    write(&state, &ctx, idem, &body.body_digest, StatusCode::CREATED, move |tx| {
        Box::pin(async move { ops::create(tx, &op_ctx, input).await })
    })
    .await
}

async fn update(
    State(state): State<AppState>,
    ctx: Ctx,
    IdPath { 0: id }: IdPath,
    idem: Idempotency,
    body: ApiJson<LeadPatch>,
) -> AppResult<Response> {
    let (op_ctx, patch) = (ctx.clone(), body.value);
    write(&state, &ctx, idem, &body.body_digest, StatusCode::OK, move |tx| {
        Box::pin(async move { ops::update(tx, &op_ctx, id, patch).await })
    })
    .await
}

async fn remove(State(state): State<AppState>, ctx: Ctx, IdPath { 0: id }: IdPath, idem: Idempotency) -> AppResult<Response> {
    let op_ctx = ctx.clone();
    write(&state, &ctx, idem, "", StatusCode::OK, move |tx| Box::pin(async move { ops::delete(tx, &op_ctx, id).await })).await
}

async fn convert(
    State(state): State<AppState>,
    ctx: Ctx,
    IdPath { 0: id }: IdPath,
    idem: Idempotency,
    body: ApiJson<ConvertLead>,
) -> AppResult<Response> {
    let (op_ctx, input) = (ctx.clone(), body.value);
    write(&state, &ctx, idem, &body.body_digest, StatusCode::OK, move |tx| {
        Box::pin(async move { ops::convert(tx, &op_ctx, id, input).await })
    })
    .await
}
