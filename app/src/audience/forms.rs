//! Capture forms: defined in the app, embedded on a website, submitted to
//! an unauthenticated endpoint that turns each submission into a lead (new
//! or updated by email) and puts it on the form's list.
//!
//! Two ways in, both signed with the form's secret:
//! - a browser on an allowed origin, posting the embed snippet, which
//!   carries a token (HMAC of origin and slug) minted for that origin only;
//! - a server, signing the raw body: `X-Corral-Signature: t=<unix>,v1=<hex
//!   HMAC-SHA256(secret, "<t>.<body>")>`, valid for five minutes.

use std::sync::LazyLock;

use chrono::{DateTime, Utc};
use serde_json::{json, Map, Value};
use uuid::Uuid;

use super::types::*;
use crate::crm::leads::{
    ops as leads,
    types::{LeadPatch, LeadSource, NewLead},
};
use crate::error::{AppError, AppResult};
use crate::platform::context::Ctx;
use crate::platform::db::{now, Tx, Q};
use crate::platform::rate_limit::FixedWindows;
pub use crate::platform::signing::body_signature;
use crate::platform::signing::{hmac_hex, verify_body_signature, verify_hmac};
use crate::platform::types::Scope;
use crate::platform::validate::required_text;
use crate::platform::{audit, events};

const STANDARD_FIELDS: &[&str] = &["name", "email", "phone", "company_name", "title"];

#[derive(sqlx::FromRow)]
struct FormRow {
    id: Uuid,
    workspace_id: Uuid,
    slug: String,
    name: String,
    fields: sqlx::types::Json<Vec<FormField>>,
    list_id: Option<Uuid>,
    campaign_id: Option<Uuid>,
    #[sqlx(try_from = "String")]
    lead_source: LeadSource,
    tags: sqlx::types::Json<Vec<String>>,
    allowed_origins: sqlx::types::Json<Vec<String>>,
    secret: String,
    active: bool,
    submissions: i64,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

const COLUMNS: &str = "id, workspace_id, slug, name, fields, list_id, campaign_id, lead_source, tags, allowed_origins, secret, active, \
                       submissions, created_at, updated_at";

impl FormRow {
    fn view(&self) -> CaptureForm {
        CaptureForm {
            id: self.id,
            slug: self.slug.clone(),
            name: self.name.clone(),
            fields: self.fields.0.clone(),
            list_id: self.list_id,
            campaign_id: self.campaign_id,
            lead_source: self.lead_source,
            tags: self.tags.0.clone(),
            allowed_origins: self.allowed_origins.0.clone(),
            signing_secret: self.secret.clone(),
            active: self.active,
            submissions: self.submissions,
            endpoint: format!("/api/v1/public/forms/{}", self.slug),
            created_at: self.created_at,
            updated_at: self.updated_at,
        }
    }
}

fn check_fields(fields: &[FormField]) -> AppResult<()> {
    if fields.is_empty() || fields.len() > 50 {
        return Err(AppError::validation("fields", "a form has 1 to 50 fields"));
    }
    let mut seen = Vec::new();
    for (i, field) in fields.iter().enumerate() {
        let valid = STANDARD_FIELDS.contains(&field.name.as_str())
            || field.name.strip_prefix("cf.").is_some_and(crate::crm::leads::types::is_custom_field_key);
        if !valid {
            return Err(AppError::validation(
                format!("fields[{i}].name"),
                format!("{:?} is not a lead field; use {} or cf.<key>", field.name, STANDARD_FIELDS.join(", ")),
            ));
        }
        if seen.contains(&field.name) {
            return Err(AppError::validation(format!("fields[{i}].name"), format!("{} appears twice", field.name)));
        }
        seen.push(field.name.clone());
    }
    if !seen.iter().any(|f| f == "email") {
        return Err(AppError::validation("fields", "a form needs an email field: it is how submissions find their lead"));
    }
    Ok(())
}

/// `https://www.example.com` (scheme, host, optional port; nothing else).
fn check_origins(origins: &[String]) -> AppResult<Vec<String>> {
    let mut out = Vec::new();
    for (i, origin) in origins.iter().enumerate() {
        let origin = origin.trim().trim_end_matches('/').to_lowercase();
        let rest = origin.strip_prefix("https://").or_else(|| origin.strip_prefix("http://"));
        let valid = rest.is_some_and(|host| !host.is_empty() && !host.contains(['/', '?', '#', '@', ' ']));
        if !valid {
            return Err(AppError::validation(
                format!("allowed_origins[{i}]"),
                "an origin is scheme and host, like https://www.example.com",
            ));
        }
        if !out.contains(&origin) {
            out.push(origin);
        }
    }
    Ok(out)
}

async fn check_campaign(tx: &mut Tx, ctx: &Ctx, campaign_id: Option<Uuid>) -> AppResult<()> {
    if let Some(id) = campaign_id {
        let found: Option<(Uuid,)> = tx
            .fetch_optional(Q::new("SELECT id FROM campaigns WHERE workspace_id = $1 AND id = $2").bind(ctx.workspace_id).bind(id))
            .await?;
        if found.is_none() {
            return Err(AppError::validation("campaign_id", "no such campaign"));
        }
    }
    Ok(())
}

async fn check_list(tx: &mut Tx, ctx: &Ctx, list_id: Option<Uuid>) -> AppResult<()> {
    if let Some(id) = list_id {
        let list = super::lists::get(tx, ctx, id).await.map_err(|_| AppError::validation("list_id", "list_id does not name a list"))?;
        if list.entity != ListEntity::Lead {
            return Err(AppError::validation("list_id", "submissions are leads: pick a list or segment of leads"));
        }
    }
    Ok(())
}

fn check_form_tags(tags: Vec<String>) -> AppResult<Vec<String>> {
    if tags.len() > 10 {
        return Err(AppError::validation("tags", "a form adds at most 10 tags"));
    }
    leads::check_tags(tags)
}

async fn find(tx: &mut Tx, ctx: &Ctx, id: Uuid) -> AppResult<FormRow> {
    tx.fetch_optional(
        Q::new(format!("SELECT {COLUMNS} FROM capture_forms WHERE workspace_id = $1 AND id = $2")).bind(ctx.workspace_id).bind(id),
    )
    .await?
    .ok_or(AppError::NotFound("form"))
}

pub async fn get(tx: &mut Tx, ctx: &Ctx, id: Uuid) -> AppResult<CaptureForm> {
    ctx.require(Scope::CrmRead)?;
    Ok(find(tx, ctx, id).await?.view())
}

pub async fn list(tx: &mut Tx, ctx: &Ctx) -> AppResult<Vec<CaptureForm>> {
    ctx.require(Scope::CrmRead)?;
    let rows: Vec<FormRow> = tx
        .fetch_all(Q::new(format!("SELECT {COLUMNS} FROM capture_forms WHERE workspace_id = $1 ORDER BY id DESC")).bind(ctx.workspace_id))
        .await?;
    Ok(rows.iter().map(FormRow::view).collect())
}

pub async fn create(tx: &mut Tx, ctx: &Ctx, input: NewCaptureForm) -> AppResult<CaptureForm> {
    ctx.require(Scope::CrmWrite)?;
    let name = required_text("name", &input.name, 200)?;
    check_fields(&input.fields)?;
    let origins = check_origins(&input.allowed_origins)?;
    let tags = check_form_tags(input.tags)?;
    check_list(tx, ctx, input.list_id).await?;
    check_campaign(tx, ctx, input.campaign_id).await?;
    let slug = match input.slug.map(|s| s.trim().to_lowercase()) {
        Some(slug) => {
            let valid = (3..=64).contains(&slug.len()) && slug.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
            if !valid {
                return Err(AppError::validation("slug", "a slug is 3-64 characters of a-z, 0-9 and -"));
            }
            slug
        }
        None => crate::platform::accounts::slugify(&name),
    };
    let taken: Option<(Uuid,)> = tx.fetch_optional(Q::new("SELECT id FROM capture_forms WHERE slug = $1").bind(slug.as_str())).await?;
    if taken.is_some() {
        return Err(AppError::Conflict { code: "slug_taken", message: format!("the slug {slug:?} is taken") });
    }
    let secret = format!("cfs_{}", hex::encode(rand::random::<[u8; 24]>()));
    let (id, at) = (Uuid::now_v7(), now());
    tx.execute(
        Q::new(
            "INSERT INTO capture_forms (id, workspace_id, slug, name, fields, list_id, lead_source, allowed_origins, secret, \
             active, submissions, created_at, updated_at, tags, campaign_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, TRUE, 0, $10, $11, $12, $13)",
        )
        .bind(id)
        .bind(ctx.workspace_id)
        .bind(slug.as_str())
        .bind(name.as_str())
        .bind(json!(input.fields))
        .bind(input.list_id)
        .bind(input.lead_source.unwrap_or(LeadSource::Website).as_str())
        .bind(json!(origins))
        .bind(secret.as_str())
        .bind(at)
        .bind(at)
        .bind(json!(tags))
        .bind(input.campaign_id),
    )
    .await?;
    let form = get(tx, ctx, id).await?;
    audit::record(tx, ctx, "capture_form.created", "capture_form", Some(id), None::<&()>, Some(&redacted(&form))).await?;
    Ok(form)
}

/// Audit rows never hold the signing secret.
fn redacted(form: &CaptureForm) -> CaptureForm {
    CaptureForm { signing_secret: "[redacted]".into(), ..form.clone() }
}

pub async fn update(tx: &mut Tx, ctx: &Ctx, id: Uuid, patch: CaptureFormPatch) -> AppResult<CaptureForm> {
    ctx.require(Scope::CrmWrite)?;
    let before = find(tx, ctx, id).await?;
    let name = match patch.name {
        Some(n) => required_text("name", &n, 200)?,
        None => before.name.clone(),
    };
    let fields = match patch.fields {
        Some(f) => {
            check_fields(&f)?;
            f
        }
        None => before.fields.0.clone(),
    };
    let origins = match patch.allowed_origins {
        Some(o) => check_origins(&o)?,
        None => before.allowed_origins.0.clone(),
    };
    let tags = match patch.tags {
        Some(t) => check_form_tags(t)?,
        None => before.tags.0.clone(),
    };
    let list_id = patch.list_id.unwrap_or(before.list_id);
    check_list(tx, ctx, list_id).await?;
    let campaign_id = patch.campaign_id.unwrap_or(before.campaign_id);
    check_campaign(tx, ctx, campaign_id).await?;
    tx.execute(
        Q::new(
            "UPDATE capture_forms SET name = $1, fields = $2, list_id = $3, lead_source = $4, allowed_origins = $5, \
             active = $6, updated_at = $7, tags = $10, campaign_id = $11 WHERE workspace_id = $8 AND id = $9",
        )
        .bind(name.as_str())
        .bind(json!(fields))
        .bind(list_id)
        .bind(patch.lead_source.unwrap_or(before.lead_source).as_str())
        .bind(json!(origins))
        .bind(patch.active.unwrap_or(before.active))
        .bind(now())
        .bind(ctx.workspace_id)
        .bind(id)
        .bind(json!(tags))
        .bind(campaign_id),
    )
    .await?;
    let after = get(tx, ctx, id).await?;
    audit::record(tx, ctx, "capture_form.updated", "capture_form", Some(id), Some(&redacted(&before.view())), Some(&redacted(&after)))
        .await?;
    Ok(after)
}

pub async fn delete(tx: &mut Tx, ctx: &Ctx, id: Uuid) -> AppResult<CaptureForm> {
    ctx.require(Scope::CrmWrite)?;
    let form = find(tx, ctx, id).await?.view();
    tx.execute(Q::new("DELETE FROM capture_forms WHERE workspace_id = $1 AND id = $2").bind(ctx.workspace_id).bind(id)).await?;
    audit::record(tx, ctx, "capture_form.deleted", "capture_form", Some(id), Some(&redacted(&form)), None::<&()>).await?;
    Ok(form)
}

/// The token an embed snippet carries: valid for one origin and one form.
pub fn origin_token(secret: &str, slug: &str, origin: &str) -> String {
    hmac_hex(secret, &format!("origin:{origin}|form:{slug}"))
}

fn html_escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// The HTML to paste into a page on `origin`: a plain form (it works
/// without JavaScript) and a small script that submits it in place.
pub async fn embed(tx: &mut Tx, ctx: &Ctx, id: Uuid, origin: &str, base_url: &str) -> AppResult<EmbedSnippet> {
    ctx.require(Scope::CrmRead)?;
    let form = find(tx, ctx, id).await?;
    let origin = check_origins(&[origin.to_string()])
        .map_err(|_| AppError::validation("origin", "give the page's origin, like https://www.example.com"))?
        .remove(0);
    if !form.allowed_origins.0.contains(&origin) {
        return Err(AppError::validation("origin", format!("{origin} is not one of this form's allowed origins")));
    }
    let token = origin_token(&form.secret, &form.slug, &origin);
    let element_id = format!("corral-form-{}", form.slug);
    let mut inputs = String::new();
    for field in &form.fields.0 {
        let label = field.label.clone().unwrap_or_else(|| field.name.trim_start_matches("cf.").replace('_', " "));
        let kind = match field.name.as_str() {
            "email" => "email",
            "phone" => "tel",
            _ => "text",
        };
        inputs.push_str(&format!(
            "  <label>{}<input type=\"{kind}\" name=\"{}\"{}></label>\n",
            html_escape(&label),
            html_escape(&field.name),
            if field.required { " required" } else { "" }
        ));
    }
    let action = format!("{}/api/v1/public/forms/{}", base_url.trim_end_matches('/'), form.slug);
    let html = format!(
        "<form id=\"{element_id}\" action=\"{action}\" method=\"post\">\n{inputs}  <input type=\"hidden\" name=\"_token\" value=\"{token}\">\n  \
         <button type=\"submit\">Send</button>\n</form>\n<script>\ndocument.getElementById(\"{element_id}\").addEventListener(\"submit\", async function (event) {{\n  \
         event.preventDefault();\n  var form = event.target;\n  var data = new URLSearchParams(new FormData(form));\n  \
         new URLSearchParams(location.search).forEach(function (value, key) {{\n    \
         if (/^(utm_(source|medium|campaign|term|content)|gclid|fbclid|li_fat_id)$/.test(key)) {{ data.set(key, value); }}\n  }});\n  var response = await fetch(form.action, {{ method: \"POST\", body: data }});\n  \
         var message = document.createElement(\"p\");\n  message.textContent = response.ok ? \"Thank you!\" : (await response.json()).error.message;\n  \
         if (response.ok) {{ form.replaceWith(message); }} else {{ form.appendChild(message); }}\n}});\n</script>\n"
    );
    Ok(EmbedSnippet { origin, html })
}

// ---------------------------------------------------------------------------
// Public submissions.

/// Public submissions per (client IP, form), in this process.
static WINDOWS: LazyLock<FixedWindows> = LazyLock::new(FixedWindows::new);

fn rate_limited(ip: &str, slug: &str, per_minute: u32) -> bool {
    WINDOWS.hit(&format!("{ip}\n{slug}"), per_minute).is_err()
}

/// What arrived, as the route read it.
pub struct Submission<'a> {
    pub slug: &'a str,
    pub ip: String,
    pub origin: Option<String>,
    pub signature: Option<String>,
    pub body: &'a [u8],
    pub fields: Map<String, Value>,
}

/// The form a public request names, checked for rate, origin and
/// signature; answers CORS for allowed origins.
pub async fn public_form(tx: &mut Tx, slug: &str) -> AppResult<Option<(Uuid, Vec<String>)>> {
    let row: Option<(Uuid, sqlx::types::Json<Vec<String>>)> =
        tx.fetch_optional(Q::new("SELECT id, allowed_origins FROM capture_forms WHERE slug = $1 AND active = TRUE").bind(slug)).await?;
    Ok(row.map(|(id, origins)| (id, origins.0)))
}

/// Turns a submission into a lead. Returns the lead's id and whether it
/// was new.
pub async fn submit(tx: &mut Tx, submission: Submission<'_>, per_minute: u32) -> AppResult<(Uuid, bool)> {
    let row: Option<FormRow> = tx
        .fetch_optional(Q::new(format!("SELECT {COLUMNS} FROM capture_forms WHERE slug = $1 AND active = TRUE")).bind(submission.slug))
        .await?;
    let form = row.ok_or(AppError::NotFound("form"))?;
    if rate_limited(&submission.ip, &form.slug, per_minute) {
        return Err(AppError::TooManyRequests);
    }

    // Who may submit: a signed server, or a browser on an allowed origin
    // holding that origin's token.
    let mut fields = submission.fields;
    let token = fields.remove("_token");
    let tracking = crate::marketing::attribution::take_tracking(&mut fields);
    match (&submission.signature, &submission.origin) {
        (Some(header), _) => verify_body_signature(&form.secret, header, submission.body, "this form's secret")?,
        (None, Some(origin)) => {
            let origin = origin.trim_end_matches('/').to_lowercase();
            if !form.allowed_origins.0.contains(&origin) {
                return Err(AppError::Forbidden(format!("{origin} is not allowed to submit this form")));
            }
            let token = token.as_ref().and_then(Value::as_str).unwrap_or_default();
            if !verify_hmac(&form.secret, format!("origin:{origin}|form:{}", form.slug).as_bytes(), token) {
                return Err(AppError::Unauthenticated("the form token is missing or was not issued for this origin".into()));
            }
        }
        (None, None) => {
            return Err(AppError::Unauthenticated(
                "submit from an allowed origin with the embed snippet, or sign the body with X-Corral-Signature".into(),
            ));
        }
    }

    // The fields: exactly the form's, required ones present.
    let mut values: Map<String, Value> = Map::new();
    let mut custom: Map<String, Value> = Map::new();
    for (key, value) in &fields {
        if !form.fields.0.iter().any(|f| &f.name == key) {
            return Err(AppError::validation(key.clone(), format!("this form has no field {key:?}")));
        }
        let text = match value {
            Value::String(s) => s.trim().to_string(),
            Value::Number(n) => n.to_string(),
            Value::Bool(b) => b.to_string(),
            Value::Null => String::new(),
            _ => return Err(AppError::validation(key.clone(), format!("{key} must be text"))),
        };
        if text.chars().count() > 5000 {
            return Err(AppError::validation(key.clone(), format!("{key} must be at most 5000 characters")));
        }
        if text.is_empty() {
            continue;
        }
        match key.strip_prefix("cf.") {
            Some(k) => {
                custom.insert(k.to_string(), Value::String(text));
            }
            None => {
                values.insert(key.clone(), Value::String(text));
            }
        }
    }
    for field in &form.fields.0 {
        let present = values.contains_key(&field.name) || field.name.strip_prefix("cf.").is_some_and(|k| custom.contains_key(k));
        if (field.required || field.name == "email") && !present {
            return Err(AppError::validation(
                field.name.clone(),
                format!("{} is required", field.label.clone().unwrap_or(field.name.clone())),
            ));
        }
    }
    let email = crate::platform::validate::normalize_email("email", values["email"].as_str().unwrap_or_default())?;

    let ctx = Ctx::form(form.workspace_id);
    let existing = crate::crm::fields::oldest_id_where(tx, &ctx, "leads", "email", &email).await?;
    let (lead_id, created) = match existing {
        Some(id) => {
            let lead = leads::get(tx, &ctx, id).await?;
            values.remove("email");
            // A form never renames an existing lead: people type their
            // name differently each time; the rest fills in or updates.
            if !lead.name.is_empty() {
                values.remove("name");
            }
            let mut patch: LeadPatch =
                serde_json::from_value(Value::Object(values)).map_err(|e| AppError::validation("fields", e.to_string()))?;
            if form.tags.0.iter().any(|t| !lead.tags.iter().any(|have| have.eq_ignore_ascii_case(t))) {
                let mut tags = lead.tags.clone();
                tags.extend(form.tags.0.iter().cloned());
                // A lead already at the tag limit keeps its tags rather
                // than losing the submission.
                patch.tags = leads::check_tags(tags).ok();
            }
            if !custom.is_empty() {
                let mut merged = lead.custom_fields.as_object().cloned().unwrap_or_default();
                merged.extend(custom);
                patch.custom_fields = Some(Value::Object(merged));
            }
            leads::update(tx, &ctx, id, patch).await?;
            (id, false)
        }
        None => {
            if !values.contains_key("name") {
                values.insert("name".into(), Value::String(email.clone()));
            }
            let mut input: NewLead =
                serde_json::from_value(Value::Object(values)).map_err(|e| AppError::validation("fields", e.to_string()))?;
            input.source = Some(form.lead_source);
            input.tags = (!form.tags.0.is_empty()).then(|| form.tags.0.clone());
            input.custom_fields = (!custom.is_empty()).then_some(Value::Object(custom));
            (leads::create(tx, &ctx, input).await?.id, true)
        }
    };
    if let Some(list_id) = form.list_id {
        super::lists::place_lead(tx, &ctx, list_id, lead_id, super::types::MembershipReason::Form).await?;
    }
    crate::marketing::attribution::from_form(tx, form.workspace_id, lead_id, form.id, form.campaign_id, tracking).await?;
    tx.execute(Q::new("UPDATE capture_forms SET submissions = submissions + 1 WHERE id = $1").bind(form.id)).await?;
    audit::record(
        tx,
        &ctx,
        "capture_form.submitted",
        "lead",
        Some(lead_id),
        None::<&()>,
        Some(&json!({"form": form.slug, "created": created})),
    )
    .await?;
    let data = json!({ "lead_id": lead_id, "form_id": form.id, "created": created });
    events::emit(tx, form.workspace_id, "form.submitted", Some(lead_id), data, events::fresh_key("form.submitted")).await?;
    Ok((lead_id, created))
}
