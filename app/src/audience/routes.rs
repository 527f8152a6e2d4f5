//! REST: /api/v1/lists (static lists and segments), /segments/preview,
//! /audience-events and /imports.

use axum::body::Body;
use axum::extract::{Multipart, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{delete, get, options, patch, post};
use axum::{Json, Router};
use serde::Deserialize;

use super::types::*;
use super::{enrichment, export, forms, imports, lists};
use crate::error::{AppError, AppResult};
use crate::platform::context::{AppState, Ctx};
use crate::platform::http::{ApiJson, ApiPath, ApiQuery, ApiResult, IdPath, Idempotency};
use crate::platform::openapi::{self, json, query_of, Caller, Endpoint};
use crate::platform::types::Page;
use crate::platform::types::Scope;

pub static ENDPOINTS: &[Endpoint] = &[
    Endpoint::new("get", "/lists", Caller::Scoped(Scope::CrmRead), "Lists and segments.", || get(list_lists))
        .tool("list_lists")
        .query(query_of::<PageQuery>)
        .answers(200, json::<Page<List>>),
    Endpoint::new("post", "/lists", Caller::Scoped(Scope::CrmWrite), "Create a static list, or a segment with rules.", || {
        post(create_list)
    })
    .tool("create_list")
    .body(json::<NewList>)
    .answers(201, json::<List>),
    Endpoint::new("get", "/lists/{id}", Caller::Scoped(Scope::CrmRead), "Read a list or segment.", || get(show_list))
        .tool("get_list")
        .answers(200, json::<List>),
    Endpoint::new("patch", "/lists/{id}", Caller::Scoped(Scope::CrmWrite), "Change a list or a segment's rules.", || patch(update_list))
        .tool("update_list")
        .body(json::<ListPatch>)
        .answers(200, json::<List>),
    Endpoint::new("delete", "/lists/{id}", Caller::Scoped(Scope::CrmWrite), "Delete a list or segment.", || delete(delete_list))
        .tool("delete_list")
        .answers(200, json::<List>),
    Endpoint::new("get", "/lists/{id}/members", Caller::Scoped(Scope::CrmRead), "A list's members.", || get(list_members))
        .tool("list_list_members")
        .query(query_of::<PageQuery>)
        .answers(200, json::<Page<Member>>),
    Endpoint::new("post", "/lists/{id}/members", Caller::Scoped(Scope::CrmWrite), "Add members to a static list.", || post(add_members))
        .tool("add_list_members")
        .body(json::<MemberChange>)
        .answers(200, json::<MemberChangeResult>),
    Endpoint::new("post", "/lists/{id}/members/remove", Caller::Scoped(Scope::CrmWrite), "Remove members from a static list.", || {
        post(remove_members)
    })
    .tool("remove_list_members")
    .body(json::<MemberChange>)
    .answers(200, json::<MemberChangeResult>),
    Endpoint::new("post", "/lists/{id}/refresh", Caller::Scoped(Scope::CrmWrite), "Recompute a segment's members.", || {
        post(refresh_segment)
    })
    .tool("refresh_segment")
    .answers(200, json::<RefreshResult>),
    Endpoint::new("get", "/lists/{id}/export.csv", Caller::Scoped(Scope::CrmRead), "A list's members as CSV, streamed.", || {
        get(export_list)
    })
    .no_tool("a streamed file; agents page through list_list_members")
    .answers_csv(),
    Endpoint::new("post", "/segments/preview", Caller::Scoped(Scope::CrmRead), "Count and sample what rules would hold.", || {
        post(preview_segment)
    })
    .tool("preview_segment")
    .body(json::<PreviewRequest>)
    .answers(200, json::<SegmentPreview>),
    Endpoint::new("get", "/audience-events", Caller::Scoped(Scope::CrmRead), "Membership changes in order.", || get(list_events))
        .tool("list_audience_events")
        .query(query_of::<EventQuery>)
        .answers(200, json::<EventPage>),
    Endpoint::new("get", "/imports", Caller::Scoped(Scope::CrmRead), "Imports.", || get(list_imports))
        .tool("list_imports")
        .query(query_of::<PageQuery>)
        .answers(200, json::<Page<Import>>),
    Endpoint::new(
        "post",
        "/imports",
        Caller::Scoped(Scope::CrmWrite),
        "Upload a CSV or JSON file to import (the body is the file).",
        || post(upload_import),
    )
    .no_tool("the body is the file itself; agents follow and start uploaded imports with get_import and start_import")
    .query(query_of::<NewImport>)
    .raw_body()
    .answers(201, json::<Import>),
    Endpoint::new("post", "/imports/upload-form", Caller::Session, "The import page's multipart upload (redirects to the import).", || {
        post(upload_import_form)
    })
    .answers_nothing(303),
    Endpoint::new("get", "/imports/{id}", Caller::Scoped(Scope::CrmRead), "Read an import.", || get(show_import))
        .tool("get_import")
        .answers(200, json::<Import>),
    Endpoint::new("post", "/imports/{id}/start", Caller::Scoped(Scope::CrmWrite), "Start an uploaded import.", || post(start_import))
        .tool("start_import")
        .body(json::<StartImport>)
        .answers(200, json::<Import>),
    Endpoint::new("post", "/imports/{id}/cancel", Caller::Scoped(Scope::CrmWrite), "Stop an import.", || post(cancel_import))
        .tool("cancel_import")
        .answers(200, json::<Import>),
    Endpoint::new("get", "/imports/{id}/errors", Caller::Scoped(Scope::CrmRead), "An import's refused rows.", || get(import_errors))
        .tool("list_import_errors")
        .query(query_of::<ErrorQuery>)
        .answers(200, json::<Vec<ImportRowError>>),
    Endpoint::new("get", "/forms", Caller::Scoped(Scope::CrmRead), "Capture forms.", || get(list_forms))
        .tool("list_forms")
        .answers(200, json::<Vec<CaptureForm>>),
    Endpoint::new("post", "/forms", Caller::Scoped(Scope::CrmWrite), "Create a capture form.", || post(create_form))
        .tool("create_form")
        .body(json::<NewCaptureForm>)
        .answers(201, json::<CaptureForm>),
    Endpoint::new("get", "/forms/{id}", Caller::Scoped(Scope::CrmRead), "Read a capture form.", || get(show_form))
        .tool("get_form")
        .answers(200, json::<CaptureForm>),
    Endpoint::new("patch", "/forms/{id}", Caller::Scoped(Scope::CrmWrite), "Change a capture form.", || patch(update_form))
        .tool("update_form")
        .body(json::<CaptureFormPatch>)
        .answers(200, json::<CaptureForm>),
    Endpoint::new("delete", "/forms/{id}", Caller::Scoped(Scope::CrmWrite), "Delete a capture form.", || delete(delete_form))
        .tool("delete_form")
        .answers(200, json::<CaptureForm>),
    Endpoint::new("get", "/forms/{id}/embed", Caller::Scoped(Scope::CrmRead), "The snippet that embeds a form on a site.", || {
        get(embed_form)
    })
    .no_tool("the snippet carries the server's public address, which only a browser's request tells")
    .query(query_of::<EmbedQuery>)
    .answers(200, json::<EmbedSnippet>),
    Endpoint::new("post", "/public/forms/{slug}", Caller::Public, "Submit a capture form (JSON or form-encoded fields).", || {
        post(public_submit)
    })
    .answers(201, json::<serde_json::Value>),
    Endpoint::new("options", "/public/forms/{slug}", Caller::Public, "CORS preflight of a form submission.", || options(public_preflight))
        .answers_nothing(204),
    Endpoint::new("get", "/enrichment-connectors", Caller::Scoped(Scope::CrmRead), "Enrichment connectors.", || get(list_connectors))
        .tool("list_enrichment_connectors")
        .answers(200, json::<Vec<EnrichmentConnector>>),
    Endpoint::new("post", "/enrichment-connectors", Caller::Scoped(Scope::CrmWrite), "Add an enrichment connector.", || {
        post(create_connector)
    })
    .tool("create_enrichment_connector")
    .body(json::<NewEnrichmentConnector>)
    .answers(201, json::<EnrichmentConnector>),
    Endpoint::new("get", "/enrichment-connectors/{id}", Caller::Scoped(Scope::CrmRead), "Read a connector.", || get(show_connector))
        .tool("get_enrichment_connector")
        .answers(200, json::<EnrichmentConnector>),
    Endpoint::new("patch", "/enrichment-connectors/{id}", Caller::Scoped(Scope::CrmWrite), "Change a connector.", || {
        patch(update_connector)
    })
    .tool("update_enrichment_connector")
    .body(json::<EnrichmentConnectorPatch>)
    .answers(200, json::<EnrichmentConnector>),
    Endpoint::new("delete", "/enrichment-connectors/{id}", Caller::Scoped(Scope::CrmWrite), "Delete a connector.", || {
        delete(delete_connector)
    })
    .tool("delete_enrichment_connector")
    .answers(200, json::<EnrichmentConnector>),
    Endpoint::new("post", "/leads/{id}/enrich", Caller::Scoped(Scope::CrmWrite), "Enrich a lead through a connector now.", || {
        post(enrich_lead)
    })
    .tool("enrich_lead")
    .body(json::<EnrichLead>)
    .answers(200, json::<crate::crm::leads::types::Lead>),
];

pub fn router() -> Router<AppState> {
    openapi::router(ENDPOINTS)
}

#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
struct PageQuery {
    limit: Option<i64>,
    cursor: Option<String>,
}

async fn list_lists(State(state): State<AppState>, ctx: Ctx, ApiQuery(q): ApiQuery<PageQuery>) -> AppResult<Json<Page<List>>> {
    let mut tx = state.db.begin_read().await?;
    let found = lists::list(&mut tx, &ctx, q.limit, q.cursor.as_deref()).await?;
    tx.commit().await?;
    Ok(Json(found))
}

async fn show_list(State(state): State<AppState>, ctx: Ctx, ApiPath(id): IdPath) -> AppResult<Json<List>> {
    let mut tx = state.db.begin_read().await?;
    let list = lists::get(&mut tx, &ctx, id).await?;
    tx.commit().await?;
    Ok(Json(list))
}

async fn create_list(State(state): State<AppState>, ctx: Ctx, idem: Idempotency, body: ApiJson<NewList>) -> ApiResult {
    let mut tx = idem.begin(&state, &ctx, &body.body_digest).await?;
    let list = lists::create(&mut tx, &ctx, body.value).await?;
    tx.respond(StatusCode::CREATED, &list).await
}

async fn update_list(
    State(state): State<AppState>,
    ctx: Ctx,
    ApiPath(id): IdPath,
    idem: Idempotency,
    body: ApiJson<ListPatch>,
) -> ApiResult {
    let mut tx = idem.begin(&state, &ctx, &body.body_digest).await?;
    let list = lists::update(&mut tx, &ctx, id, body.value).await?;
    tx.respond(StatusCode::OK, &list).await
}

async fn delete_list(State(state): State<AppState>, ctx: Ctx, ApiPath(id): IdPath, idem: Idempotency) -> ApiResult {
    let mut tx = idem.begin(&state, &ctx, "").await?;
    let list = lists::delete(&mut tx, &ctx, id).await?;
    tx.respond(StatusCode::OK, &list).await
}

async fn list_members(
    State(state): State<AppState>,
    ctx: Ctx,
    ApiPath(id): IdPath,
    ApiQuery(q): ApiQuery<PageQuery>,
) -> AppResult<Json<Page<Member>>> {
    let mut tx = state.db.begin_read().await?;
    let members = lists::members(&mut tx, &ctx, id, q.limit, q.cursor.as_deref()).await?;
    tx.commit().await?;
    Ok(Json(members))
}

async fn add_members(
    State(state): State<AppState>,
    ctx: Ctx,
    ApiPath(id): IdPath,
    idem: Idempotency,
    body: ApiJson<MemberChange>,
) -> ApiResult {
    let mut tx = idem.begin(&state, &ctx, &body.body_digest).await?;
    let members = lists::add_members(&mut tx, &ctx, id, body.value).await?;
    tx.respond(StatusCode::OK, &members).await
}

async fn remove_members(
    State(state): State<AppState>,
    ctx: Ctx,
    ApiPath(id): IdPath,
    idem: Idempotency,
    body: ApiJson<MemberChange>,
) -> ApiResult {
    let mut tx = idem.begin(&state, &ctx, &body.body_digest).await?;
    let members = lists::remove_members(&mut tx, &ctx, id, body.value).await?;
    tx.respond(StatusCode::OK, &members).await
}

async fn refresh_segment(State(state): State<AppState>, ctx: Ctx, ApiPath(id): IdPath, idem: Idempotency) -> ApiResult {
    let mut tx = idem.begin(&state, &ctx, "").await?;
    let segment = lists::refresh(&mut tx, &ctx, id).await?;
    tx.respond(StatusCode::OK, &segment).await
}

async fn export_list(State(state): State<AppState>, ctx: Ctx, ApiPath(id): IdPath) -> AppResult<Response> {
    export::csv_response(state.db.clone(), ctx, id).await
}

async fn preview_segment(State(state): State<AppState>, ctx: Ctx, body: ApiJson<PreviewRequest>) -> AppResult<Json<SegmentPreview>> {
    let rules = body.value.rules;
    let mut tx = state.db.begin_read().await?;
    let preview = lists::preview(&mut tx, &ctx, &rules).await?;
    tx.commit().await?;
    Ok(Json(preview))
}

async fn list_events(State(state): State<AppState>, ctx: Ctx, ApiQuery(q): ApiQuery<EventQuery>) -> AppResult<Json<EventPage>> {
    let mut tx = state.db.begin_read().await?;
    let events = lists::events(&mut tx, &ctx, q).await?;
    tx.commit().await?;
    Ok(Json(events))
}

async fn list_imports(State(state): State<AppState>, ctx: Ctx, ApiQuery(q): ApiQuery<PageQuery>) -> AppResult<Json<Page<Import>>> {
    let mut tx = state.db.begin_read().await?;
    let found = imports::list(&mut tx, &ctx, q.limit, q.cursor.as_deref()).await?;
    tx.commit().await?;
    Ok(Json(found))
}

async fn show_import(State(state): State<AppState>, ctx: Ctx, ApiPath(id): IdPath) -> AppResult<Json<Import>> {
    let mut tx = state.db.begin_read().await?;
    let import = imports::get(&mut tx, &ctx, id).await?;
    tx.commit().await?;
    Ok(Json(import))
}

/// The body is the file itself (CSV or JSON), streamed to disk; settings
/// travel in the query string. Answers with the detected columns and a
/// suggested mapping; `POST /imports/{id}/start` runs it.
async fn upload_import(
    State(state): State<AppState>,
    ctx: Ctx,
    idem: Idempotency,
    ApiQuery(input): ApiQuery<NewImport>,
    body: Body,
) -> ApiResult {
    ctx.require(crate::platform::types::Scope::CrmWrite)?;
    let upload = imports::store_upload(&state.config, body.into_data_stream()).await?;
    let outcome = store_import(&state, &ctx, idem, input, &upload).await;
    // A refused or replayed upload leaves no file behind.
    if outcome.is_err() {
        let _ = tokio::fs::remove_file(&upload.path).await;
    }
    outcome
}

async fn store_import(state: &AppState, ctx: &Ctx, idem: Idempotency, input: NewImport, upload: &imports::StoredUpload) -> ApiResult {
    let mut tx = idem.begin(state, ctx, &upload.digest).await?;
    let import = imports::create(&mut tx, ctx, input, upload).await?;
    tx.respond(StatusCode::CREATED, &import).await
}

/// The browser's upload form (multipart, file last): the same as
/// `POST /imports`, answered with a redirect to the mapping page.
async fn upload_import_form(State(state): State<AppState>, ctx: Ctx, mut form: Multipart) -> Response {
    let result: AppResult<uuid::Uuid> = async {
        ctx.require(crate::platform::types::Scope::CrmWrite)?;
        let mut input = NewImport::default();
        while let Some(field) = form.next_field().await.map_err(|e| AppError::BadRequest(e.body_text()))? {
            let name = field.name().unwrap_or_default().to_string();
            match name.as_str() {
                "entity" | "dedup" => {
                    let text = field.text().await.map_err(|e| AppError::BadRequest(e.body_text()))?;
                    if name == "entity" {
                        input.entity = ImportEntity::parse(&text)
                            .ok_or_else(|| AppError::validation("entity", "entity is lead, contact or company"))?;
                    } else {
                        input.dedup =
                            Some(DedupMode::parse(&text).ok_or_else(|| AppError::validation("dedup", "dedup is skip, update or create"))?);
                    }
                }
                "file" => {
                    input.file_name = field.file_name().map(str::to_string).filter(|n| !n.is_empty());
                    let stream = futures::stream::unfold(field, |mut field| async move {
                        match field.chunk().await {
                            Ok(Some(chunk)) => Some((Ok::<_, String>(chunk), field)),
                            Ok(None) => None,
                            Err(e) => Some((Err(e.body_text()), field)),
                        }
                    });
                    let upload = imports::store_upload(&state.config, Box::pin(stream)).await?;
                    let mut tx = state.db.begin().await?;
                    let created = imports::create(&mut tx, &ctx, input.clone(), &upload).await;
                    match created {
                        Ok(import) => {
                            tx.commit().await?;
                            return Ok(import.id);
                        }
                        Err(e) => {
                            tx.rollback().await?;
                            upload.discard().await;
                            return Err(e);
                        }
                    }
                }
                _ => {}
            }
        }
        Err(AppError::validation("file", "choose a file to import"))
    }
    .await;
    match result {
        Ok(id) => Redirect::to(&format!("/imports/{id}")).into_response(),
        Err(e) => {
            let message: String = form_urlencoded::byte_serialize(e.public_message().as_bytes()).collect();
            (StatusCode::SEE_OTHER, [(header::LOCATION, format!("/imports?error={message}"))]).into_response()
        }
    }
}

async fn start_import(
    State(state): State<AppState>,
    ctx: Ctx,
    ApiPath(id): IdPath,
    idem: Idempotency,
    body: ApiJson<StartImport>,
) -> ApiResult {
    let mut tx = idem.begin(&state, &ctx, &body.body_digest).await?;
    let import = imports::start(&mut tx, &ctx, id, body.value).await?;
    tx.respond(StatusCode::OK, &import).await
}

async fn cancel_import(State(state): State<AppState>, ctx: Ctx, ApiPath(id): IdPath, idem: Idempotency) -> ApiResult {
    let mut tx = idem.begin(&state, &ctx, "").await?;
    let import = imports::cancel(&mut tx, &ctx, id).await?;
    tx.respond(StatusCode::OK, &import).await
}

#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
struct ErrorQuery {
    after_line: Option<i64>,
    limit: Option<i64>,
}

async fn import_errors(
    State(state): State<AppState>,
    ctx: Ctx,
    ApiPath(id): IdPath,
    ApiQuery(q): ApiQuery<ErrorQuery>,
) -> AppResult<Json<Vec<ImportRowError>>> {
    let mut tx = state.db.begin_read().await?;
    let row_errors = imports::row_errors(&mut tx, &ctx, id, q.after_line, q.limit).await?;
    tx.commit().await?;
    Ok(Json(row_errors))
}

async fn list_forms(State(state): State<AppState>, ctx: Ctx) -> AppResult<Json<Vec<CaptureForm>>> {
    let mut tx = state.db.begin_read().await?;
    let found = forms::list(&mut tx, &ctx).await?;
    tx.commit().await?;
    Ok(Json(found))
}

async fn show_form(State(state): State<AppState>, ctx: Ctx, ApiPath(id): IdPath) -> AppResult<Json<CaptureForm>> {
    let mut tx = state.db.begin_read().await?;
    let form = forms::get(&mut tx, &ctx, id).await?;
    tx.commit().await?;
    Ok(Json(form))
}

async fn create_form(State(state): State<AppState>, ctx: Ctx, idem: Idempotency, body: ApiJson<NewCaptureForm>) -> ApiResult {
    let mut tx = idem.begin(&state, &ctx, &body.body_digest).await?;
    let form = forms::create(&mut tx, &ctx, body.value).await?;
    tx.respond(StatusCode::CREATED, &form).await
}

async fn update_form(
    State(state): State<AppState>,
    ctx: Ctx,
    ApiPath(id): IdPath,
    idem: Idempotency,
    body: ApiJson<CaptureFormPatch>,
) -> ApiResult {
    let mut tx = idem.begin(&state, &ctx, &body.body_digest).await?;
    let form = forms::update(&mut tx, &ctx, id, body.value).await?;
    tx.respond(StatusCode::OK, &form).await
}

async fn delete_form(State(state): State<AppState>, ctx: Ctx, ApiPath(id): IdPath, idem: Idempotency) -> ApiResult {
    let mut tx = idem.begin(&state, &ctx, "").await?;
    let form = forms::delete(&mut tx, &ctx, id).await?;
    tx.respond(StatusCode::OK, &form).await
}

#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
struct EmbedQuery {
    origin: String,
}

/// Where this server is reached, for the snippet's form action.
fn base_url(headers: &axum::http::HeaderMap) -> String {
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok()).unwrap_or("localhost:3000");
    let scheme = headers.get("x-forwarded-proto").and_then(|h| h.to_str().ok()).filter(|p| *p == "https").unwrap_or("http");
    format!("{scheme}://{host}")
}

async fn embed_form(
    State(state): State<AppState>,
    ctx: Ctx,
    ApiPath(id): IdPath,
    ApiQuery(q): ApiQuery<EmbedQuery>,
    headers: axum::http::HeaderMap,
) -> AppResult<Json<EmbedSnippet>> {
    let base = base_url(&headers);
    let mut tx = state.db.begin_read().await?;
    let embed = forms::embed(&mut tx, &ctx, id, &q.origin, &base).await?;
    tx.commit().await?;
    Ok(Json(embed))
}

const MAX_SUBMISSION_BYTES: usize = 64 * 1024;

fn cors(response: &mut Response, origin: Option<&str>, allowed: &[String]) {
    let headers = response.headers_mut();
    headers.insert(header::VARY, axum::http::HeaderValue::from_static("Origin"));
    if let Some(origin) = origin.filter(|o| allowed.iter().any(|a| a == &o.trim_end_matches('/').to_lowercase())) {
        if let Ok(value) = axum::http::HeaderValue::from_str(origin) {
            headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, value);
            headers.insert(header::ACCESS_CONTROL_ALLOW_METHODS, axum::http::HeaderValue::from_static("POST"));
            headers.insert(header::ACCESS_CONTROL_ALLOW_HEADERS, axum::http::HeaderValue::from_static("content-type, x-corral-signature"));
            headers.insert(header::ACCESS_CONTROL_MAX_AGE, axum::http::HeaderValue::from_static("600"));
        }
    }
}

async fn allowed_origins(state: &AppState, slug: &str) -> Vec<String> {
    let Ok(mut tx) = state.db.begin_read().await else { return Vec::new() };
    let found = forms::public_form(&mut tx, slug).await.ok().flatten();
    let _ = tx.commit().await;
    found.map(|(_, origins)| origins).unwrap_or_default()
}

async fn public_preflight(
    State(state): State<AppState>,
    axum::extract::Path(slug): axum::extract::Path<String>,
    headers: axum::http::HeaderMap,
) -> Response {
    let origin = headers.get(header::ORIGIN).and_then(|o| o.to_str().ok()).map(str::to_string);
    let allowed = allowed_origins(&state, &slug).await;
    let mut response = StatusCode::NO_CONTENT.into_response();
    cors(&mut response, origin.as_deref(), &allowed);
    response
}

/// Unauthenticated: JSON or form-encoded fields, checked by the form's
/// origin list and signature, rate-limited per IP and form.
async fn public_submit(
    State(state): State<AppState>,
    axum::extract::Path(slug): axum::extract::Path<String>,
    request: axum::extract::Request,
) -> Response {
    let (parts, body) = request.into_parts();
    let header_text = |name: &str| parts.headers.get(name).and_then(|v| v.to_str().ok()).map(str::to_string);
    let origin = header_text("origin");
    let allowed = allowed_origins(&state, &slug).await;
    let result: AppResult<bool> = async {
        let body = axum::body::to_bytes(body, MAX_SUBMISSION_BYTES).await.map_err(|_| AppError::PayloadTooLarge(MAX_SUBMISSION_BYTES))?;
        let content_type = header_text("content-type").unwrap_or_default();
        let fields: serde_json::Map<String, serde_json::Value> = if content_type.starts_with("application/json") {
            match serde_json::from_slice(&body) {
                Ok(serde_json::Value::Object(map)) => map,
                Ok(_) => return Err(AppError::validation("body", "send a JSON object of fields")),
                Err(e) => return Err(AppError::MalformedJson(format!("request body is not valid JSON: {e}"))),
            }
        } else if content_type.starts_with("application/x-www-form-urlencoded")
            || content_type.is_empty()
            || content_type.starts_with("text/plain")
        {
            form_urlencoded::parse(&body).map(|(k, v)| (k.into_owned(), serde_json::Value::String(v.into_owned()))).collect()
        } else {
            return Err(AppError::UnsupportedMediaType("send application/json or application/x-www-form-urlencoded".into()));
        };
        let ip = parts
            .extensions
            .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
            .map(|c| {
                let forwarded_for = header_text("x-forwarded-for");
                crate::platform::http::client_ip(c.0.ip(), forwarded_for.as_deref(), &state.config.trusted_proxies).to_string()
            })
            .unwrap_or_else(|| "unknown".into());
        let submission = forms::Submission {
            slug: &slug,
            ip,
            origin: origin.clone(),
            signature: header_text("x-corral-signature"),
            body: &body,
            fields,
        };
        let mut tx = state.db.begin().await?;
        match forms::submit(&mut tx, submission, state.config.form_submissions_per_minute).await {
            Ok((_, created)) => {
                tx.commit().await?;
                Ok(created)
            }
            Err(e) => {
                tx.rollback().await?;
                Err(e)
            }
        }
    }
    .await;
    let mut response = match result {
        // The same answer for new and known emails: a public form must not
        // tell strangers who is already a lead.
        Ok(_) => (StatusCode::ACCEPTED, Json(serde_json::json!({"status": "received"}))).into_response(),
        Err(e) => {
            let retry = matches!(e, AppError::TooManyRequests);
            let mut response = e.into_response();
            if retry {
                response.headers_mut().insert(header::RETRY_AFTER, axum::http::HeaderValue::from_static("60"));
            }
            response
        }
    };
    cors(&mut response, origin.as_deref(), &allowed);
    response
}

async fn list_connectors(State(state): State<AppState>, ctx: Ctx) -> AppResult<Json<Vec<EnrichmentConnector>>> {
    let mut tx = state.db.begin_read().await?;
    let found = enrichment::list(&mut tx, &ctx).await?;
    tx.commit().await?;
    Ok(Json(found))
}

async fn show_connector(State(state): State<AppState>, ctx: Ctx, ApiPath(id): IdPath) -> AppResult<Json<EnrichmentConnector>> {
    let mut tx = state.db.begin_read().await?;
    let connector = enrichment::get(&mut tx, &ctx, id).await?;
    tx.commit().await?;
    Ok(Json(connector))
}

async fn create_connector(State(state): State<AppState>, ctx: Ctx, idem: Idempotency, body: ApiJson<NewEnrichmentConnector>) -> ApiResult {
    let (input, allow_private) = (body.value, state.config.enrichment_private_networks);
    let mut tx = idem.begin(&state, &ctx, &body.body_digest).await?;
    let connector = enrichment::create(&mut tx, &ctx, input, allow_private).await?;
    tx.respond(StatusCode::CREATED, &connector).await
}

async fn update_connector(
    State(state): State<AppState>,
    ctx: Ctx,
    ApiPath(id): IdPath,
    idem: Idempotency,
    body: ApiJson<EnrichmentConnectorPatch>,
) -> ApiResult {
    let (patch, allow_private) = (body.value, state.config.enrichment_private_networks);
    let mut tx = idem.begin(&state, &ctx, &body.body_digest).await?;
    let connector = enrichment::update(&mut tx, &ctx, id, patch, allow_private).await?;
    tx.respond(StatusCode::OK, &connector).await
}

async fn delete_connector(State(state): State<AppState>, ctx: Ctx, ApiPath(id): IdPath, idem: Idempotency) -> ApiResult {
    let mut tx = idem.begin(&state, &ctx, "").await?;
    let connector = enrichment::delete(&mut tx, &ctx, id).await?;
    tx.respond(StatusCode::OK, &connector).await
}

/// Not wrapped in `write`: the remote call must not hold a transaction
/// open. The merge itself is one audited transaction.
async fn enrich_lead(
    State(state): State<AppState>,
    ctx: Ctx,
    ApiPath(id): IdPath,
    body: ApiJson<EnrichLead>,
) -> AppResult<Json<crate::crm::leads::types::Lead>> {
    enrichment::enrich_lead(&state.db, &ctx, id, body.value, state.config.enrichment_private_networks).await.map(Json)
}
