//! REST: /api/v1/leads

use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::StatusCode;
use axum::routing::{delete, get, patch, post};
use axum::{Json, Router};
use chrono::{DateTime, Utc};

use super::ops;
use super::types::*;
use crate::error::{AppError, AppResult};
use crate::platform::context::{AppState, Ctx};
use crate::platform::http::{ApiJson, ApiPath, ApiResult, IdPath, Idempotency};
use crate::platform::openapi::{self, json, query_of, Caller, Endpoint};
use crate::platform::types::Page;
use crate::platform::types::Scope;

pub static ENDPOINTS: &[Endpoint] = &[
    Endpoint::new("get", "/leads", Caller::Scoped(Scope::CrmRead), "List leads; `cf.<key>=<value>` filters by a custom field.", || {
        get(list)
    })
    .tool("list_leads")
    .query(query_of::<LeadQueryParameters>)
    .answers(200, json::<Page<Lead>>),
    Endpoint::new("post", "/leads", Caller::Scoped(Scope::CrmWrite), "Create a lead.", || post(create))
        .tool("create_lead")
        .body(json::<NewLead>)
        .answers(201, json::<Lead>),
    Endpoint::new("get", "/leads/{id}", Caller::Scoped(Scope::CrmRead), "Read a lead.", || get(show))
        .tool("get_lead")
        .answers(200, json::<Lead>),
    Endpoint::new("patch", "/leads/{id}", Caller::Scoped(Scope::CrmWrite), "Change a lead.", || patch(update))
        .tool("update_lead")
        .body(json::<LeadPatch>)
        .answers(200, json::<Lead>),
    Endpoint::new("delete", "/leads/{id}", Caller::Scoped(Scope::CrmWrite), "Delete an unconverted lead.", || delete(remove))
        .tool("delete_lead")
        .answers(200, json::<Lead>),
    Endpoint::new(
        "post",
        "/leads/{id}/convert",
        Caller::Scoped(Scope::CrmWrite),
        "Convert a lead into a contact, a company and optionally a deal.",
        || post(convert),
    )
    .tool("convert_lead")
    .body(json::<ConvertLead>)
    .answers(200, json::<Conversion>),
];

/// The documented query parameters of `GET /leads` (read by `LeadQuery`).
#[derive(schemars::JsonSchema)]
#[allow(dead_code)]
struct LeadQueryParameters {
    /// Free text matched against name, email and company.
    q: Option<String>,
    status: Option<LeadStatus>,
    source: Option<LeadSource>,
    min_score: Option<i64>,
    max_score: Option<i64>,
    /// A user id, `me` or `unassigned`.
    owner: Option<String>,
    /// A date (2026-01-31) or an RFC 3339 time.
    created_after: Option<String>,
    created_before: Option<String>,
    last_activity_after: Option<String>,
    last_activity_before: Option<String>,
    limit: Option<i64>,
    cursor: Option<String>,
}

pub fn router() -> Router<AppState> {
    openapi::router(ENDPOINTS)
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
        crate::platform::http::refuse_nul_in_query(parts.uri.query().unwrap_or(""))?;
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
    let mut tx = state.db.begin_read().await?;
    let found = ops::list(&mut tx, &ctx, filter).await?;
    tx.commit().await?;
    Ok(Json(found))
}

async fn show(State(state): State<AppState>, ctx: Ctx, ApiPath(id): IdPath) -> AppResult<Json<Lead>> {
    let mut tx = state.db.begin_read().await?;
    let lead = ops::get(&mut tx, &ctx, id).await?;
    tx.commit().await?;
    Ok(Json(lead))
}

async fn create(State(state): State<AppState>, ctx: Ctx, idem: Idempotency, body: ApiJson<NewLead>) -> ApiResult {
    let mut tx = idem.begin(&state, &ctx, &body.body_digest).await?;
    let lead = ops::create(&mut tx, &ctx, body.value).await?;
    tx.respond(StatusCode::CREATED, &lead).await
}

async fn update(State(state): State<AppState>, ctx: Ctx, ApiPath(id): IdPath, idem: Idempotency, body: ApiJson<LeadPatch>) -> ApiResult {
    let mut tx = idem.begin(&state, &ctx, &body.body_digest).await?;
    let lead = ops::update(&mut tx, &ctx, id, body.value).await?;
    tx.respond(StatusCode::OK, &lead).await
}

async fn remove(State(state): State<AppState>, ctx: Ctx, ApiPath(id): IdPath, idem: Idempotency) -> ApiResult {
    let mut tx = idem.begin(&state, &ctx, "").await?;
    let lead = ops::delete(&mut tx, &ctx, id).await?;
    tx.respond(StatusCode::OK, &lead).await
}

async fn convert(State(state): State<AppState>, ctx: Ctx, ApiPath(id): IdPath, idem: Idempotency, body: ApiJson<ConvertLead>) -> ApiResult {
    let mut tx = idem.begin(&state, &ctx, &body.body_digest).await?;
    let conversion = ops::convert(&mut tx, &ctx, id, body.value).await?;
    tx.respond(StatusCode::OK, &conversion).await
}
