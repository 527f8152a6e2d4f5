//! Declaring lead custom fields, and checking lead writes against them.

use chrono::{DateTime, NaiveDate, Utc};
use serde_json::{Number, Value};
use uuid::Uuid;

use super::types::*;
use crate::crm::leads::types::is_custom_field_key;
use crate::error::{AppError, AppResult};
use crate::platform::audit;
use crate::platform::context::Ctx;
use crate::platform::db::{now, Tx, Q};
use crate::platform::types::Scope;
use crate::platform::validate::required_text;

/// Declared fields per workspace; indexed ones per workspace. Every
/// indexed field adds an index entry to each lead that holds it.
pub const MAX_FIELDS: usize = 100;
pub const MAX_INDEXED: usize = 10;
const MAX_OPTIONS: usize = 100;
const MAX_TEXT: usize = 2000;

#[derive(sqlx::FromRow)]
struct FieldRow {
    id: Uuid,
    field_key: String,
    label: String,
    #[sqlx(try_from = "String")]
    field_type: CustomFieldType,
    options: sqlx::types::Json<Vec<String>>,
    indexed: bool,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl From<FieldRow> for CustomField {
    fn from(row: FieldRow) -> CustomField {
        CustomField {
            id: row.id,
            key: row.field_key,
            label: row.label,
            field_type: row.field_type,
            options: row.options.0,
            indexed: row.indexed,
            created_at: row.created_at,
            updated_at: row.updated_at,
        }
    }
}

const COLUMNS: &str = "id, field_key, label, field_type, options, indexed, created_at, updated_at";

/// The workspace's declared fields, in key order. Every lead write and
/// every rule compile reads them, so this takes no scope: the callers hold
/// theirs.
pub async fn declared(tx: &mut Tx, ctx: &Ctx) -> AppResult<DeclaredFields> {
    let rows: Vec<FieldRow> = tx
        .fetch_all(
            Q::new(format!("SELECT {COLUMNS} FROM custom_field_definitions WHERE workspace_id = $1 ORDER BY field_key"))
                .bind(ctx.workspace_id),
        )
        .await?;
    Ok(DeclaredFields(rows.into_iter().map(CustomField::from).collect()))
}

pub async fn list(tx: &mut Tx, ctx: &Ctx) -> AppResult<Vec<CustomField>> {
    ctx.require(Scope::CrmRead)?;
    Ok(declared(tx, ctx).await?.0)
}

async fn find(tx: &mut Tx, ctx: &Ctx, id: Uuid) -> AppResult<Option<CustomField>> {
    let row: Option<FieldRow> = tx
        .fetch_optional(
            Q::new(format!("SELECT {COLUMNS} FROM custom_field_definitions WHERE workspace_id = $1 AND id = $2"))
                .bind(ctx.workspace_id)
                .bind(id),
        )
        .await?;
    Ok(row.map(CustomField::from))
}

pub async fn get(tx: &mut Tx, ctx: &Ctx, id: Uuid) -> AppResult<CustomField> {
    ctx.require(Scope::CrmRead)?;
    find(tx, ctx, id).await?.ok_or(AppError::NotFound("custom field"))
}

fn check_options(field_type: CustomFieldType, options: Vec<String>) -> AppResult<Vec<String>> {
    if field_type != CustomFieldType::Choice {
        if !options.is_empty() {
            return Err(AppError::validation("options", "only choice fields have options"));
        }
        return Ok(options);
    }
    let mut clean: Vec<String> = Vec::with_capacity(options.len());
    for (i, option) in options.iter().enumerate() {
        let option = required_text(&format!("options[{i}]"), option, 200)?;
        if clean.iter().any(|o| o.to_lowercase() == option.to_lowercase()) {
            return Err(AppError::validation(format!("options[{i}]"), format!("{option:?} is listed twice")));
        }
        clean.push(option);
    }
    if clean.is_empty() || clean.len() > MAX_OPTIONS {
        return Err(AppError::validation("options", format!("a choice field has 1 to {MAX_OPTIONS} options")));
    }
    Ok(clean)
}

pub async fn create(tx: &mut Tx, ctx: &Ctx, input: NewCustomField) -> AppResult<CustomField> {
    ctx.require(Scope::CrmWrite)?;
    let key = input.key.trim().to_string();
    if !is_custom_field_key(&key) {
        return Err(AppError::validation("key", "a key is 1-64 letters, digits, _ or -"));
    }
    let field_type =
        input.field_type.ok_or_else(|| AppError::validation("type", "give the field a type: text, number, date, boolean or choice"))?;
    let label = match input.label {
        Some(label) => required_text("label", &label, 100)?,
        None => key.clone(),
    };
    let options = check_options(field_type, input.options.unwrap_or_default())?;
    let existing = declared(tx, ctx).await?;
    if existing.get(&key).is_some() {
        return Err(AppError::Duplicate { code: "key_taken", field: "key".into(), message: format!("a field {key} is already declared") });
    }
    if existing.0.len() >= MAX_FIELDS {
        return Err(AppError::Conflict { code: "too_many_fields", message: format!("a workspace declares at most {MAX_FIELDS} fields") });
    }
    let at = now();
    let field = CustomField {
        id: Uuid::now_v7(),
        key,
        label,
        field_type,
        options,
        indexed: input.indexed.unwrap_or(false),
        created_at: at,
        updated_at: at,
    };
    check_index_budget(&existing, &field)?;
    check_values_fit(tx, ctx, &field).await?;
    tx.execute(
        Q::new(format!("INSERT INTO custom_field_definitions ({COLUMNS}, workspace_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"))
            .bind(field.id)
            .bind(field.key.as_str())
            .bind(field.label.as_str())
            .bind(field.field_type.as_str())
            .bind(serde_json::json!(field.options))
            .bind(field.indexed)
            .bind(at)
            .bind(at)
            .bind(ctx.workspace_id),
    )
    .await?;
    if field.indexed {
        create_index(tx, &field).await?;
    }
    crate::audience::lists::refresh_fully_at_next_sweep(tx, ctx).await?;
    audit::record(tx, ctx, "custom_field.created", "custom_field", Some(field.id), None::<&()>, Some(&field)).await?;
    Ok(field)
}

pub async fn update(tx: &mut Tx, ctx: &Ctx, id: Uuid, patch: CustomFieldPatch) -> AppResult<CustomField> {
    ctx.require(Scope::CrmWrite)?;
    let before = find(tx, ctx, id).await?.ok_or(AppError::NotFound("custom field"))?;
    let mut after = before.clone();
    if let Some(label) = patch.label {
        after.label = required_text("label", &label, 100)?;
    }
    if let Some(field_type) = patch.field_type {
        after.field_type = field_type;
        if field_type != CustomFieldType::Choice && patch.options.is_none() {
            after.options = Vec::new();
        }
    }
    if let Some(options) = patch.options {
        after.options = options;
    }
    after.options = check_options(after.field_type, after.options)?;
    if let Some(indexed) = patch.indexed {
        after.indexed = indexed;
    }
    if after == before {
        return Ok(before);
    }
    let others = DeclaredFields(declared(tx, ctx).await?.0.into_iter().filter(|f| f.id != id).collect());
    check_index_budget(&others, &after)?;
    if after.field_type != before.field_type || after.options != before.options {
        check_values_fit(tx, ctx, &after).await?;
    }
    after.updated_at = now();
    tx.execute(
        Q::new(
            "UPDATE custom_field_definitions SET label = $1, field_type = $2, options = $3, indexed = $4, updated_at = $5 \
             WHERE workspace_id = $6 AND id = $7",
        )
        .bind(after.label.as_str())
        .bind(after.field_type.as_str())
        .bind(serde_json::json!(after.options))
        .bind(after.indexed)
        .bind(after.updated_at)
        .bind(ctx.workspace_id)
        .bind(id),
    )
    .await?;
    if before.indexed {
        drop_index_if_unused(tx, &before).await?;
    }
    if after.indexed {
        create_index(tx, &after).await?;
    }
    if after.field_type != before.field_type || after.options != before.options {
        crate::audience::lists::refresh_fully_at_next_sweep(tx, ctx).await?;
    }
    audit::record(tx, ctx, "custom_field.updated", "custom_field", Some(id), Some(&before), Some(&after)).await?;
    Ok(after)
}

/// Forgets the declaration (and its index); the values stay on the leads
/// as free-form custom fields.
pub async fn delete(tx: &mut Tx, ctx: &Ctx, id: Uuid) -> AppResult<CustomField> {
    ctx.require(Scope::CrmWrite)?;
    let field = find(tx, ctx, id).await?.ok_or(AppError::NotFound("custom field"))?;
    tx.execute(Q::new("DELETE FROM custom_field_definitions WHERE workspace_id = $1 AND id = $2").bind(ctx.workspace_id).bind(id)).await?;
    if field.indexed {
        drop_index_if_unused(tx, &field).await?;
    }
    crate::audience::lists::refresh_fully_at_next_sweep(tx, ctx).await?;
    audit::record(tx, ctx, "custom_field.deleted", "custom_field", Some(id), Some(&field), None::<&()>).await?;
    Ok(field)
}

fn check_index_budget(others: &DeclaredFields, field: &CustomField) -> AppResult<()> {
    if field.indexed && others.0.iter().filter(|f| f.indexed).count() >= MAX_INDEXED {
        return Err(AppError::validation("indexed", format!("a workspace indexes at most {MAX_INDEXED} fields")));
    }
    Ok(())
}

/// Indexes are shared by every workspace that indexes the same key with a
/// numeric or a textual type (`workspace_id` leads them).
async fn create_index(tx: &mut Tx, field: &CustomField) -> AppResult<()> {
    let (_, create) = tx.backend().custom_field_index(&field.key, field.field_type == CustomFieldType::Number);
    tx.execute(Q::new(create)).await?;
    Ok(())
}

async fn drop_index_if_unused(tx: &mut Tx, field: &CustomField) -> AppResult<()> {
    let numeric = field.field_type == CustomFieldType::Number;
    let kind_test = if numeric { "field_type = 'number'" } else { "field_type <> 'number'" };
    // Across workspaces on purpose: the index is theirs too.
    let (users,): (i64,) = tx
        .fetch_one(
            Q::new(format!("SELECT COUNT(*) FROM custom_field_definitions WHERE field_key = $1 AND indexed = $2 AND {kind_test}"))
                .bind(field.key.as_str())
                .bind(true),
        )
        .await?;
    if users == 0 {
        let (name, _) = tx.backend().custom_field_index(&field.key, numeric);
        tx.execute(Q::new(format!("DROP INDEX IF EXISTS {name}"))).await?;
    }
    Ok(())
}

/// Refuses a type (or a shorter list of options) that values leads
/// already hold do not fit, naming how many and one example.
async fn check_values_fit(tx: &mut Tx, ctx: &Ctx, field: &CustomField) -> AppResult<()> {
    let backend = tx.backend();
    let value = backend.json_key("custom_fields", &field.key);
    let mut q = Q::new("").bind(ctx.workspace_id);
    let (misfit, what) = match field.field_type {
        CustomFieldType::Text => (value.is_structured(), "objects or lists, not text".to_string()),
        CustomFieldType::Number => (format!("NOT ({})", value.number_guard), "not numbers".to_string()),
        CustomFieldType::Boolean => (format!("NOT ({})", value.is_boolean()), "not true or false".to_string()),
        CustomFieldType::Date => (format!("NOT {}", value.is_date()), "not dates like 2026-01-31".to_string()),
        CustomFieldType::Choice => {
            let options: Vec<String> = field.options.iter().map(|o| q.arg(o.to_lowercase())).collect();
            (
                format!("(NOT ({}) OR {} NOT IN ({}))", value.is_string(), value.lower_text, options.join(", ")),
                format!("not one of {}", field.options.join(", ")),
            )
        }
    };
    let condition = format!("workspace_id = $1 AND {} AND {misfit}", value.is_set());
    let count = q.clone().with_sql(format!("SELECT COUNT(*) FROM leads WHERE {condition}"));
    let (n,): (i64,) = tx.fetch_one(count).await?;
    if n == 0 {
        return Ok(());
    }
    let example = q.with_sql(format!("SELECT id, {} FROM leads WHERE {condition} ORDER BY id LIMIT 1", value.text));
    let (lead, shown): (Uuid, Option<String>) = tx.fetch_one(example).await?;
    Err(AppError::Conflict {
        code: "values_do_not_fit",
        message: format!(
            "{n} lead(s) hold {} values that are {what} (e.g. lead {lead}: {}); change them, or declare {} with another type",
            field.key,
            shown.unwrap_or_default(),
            field.key
        ),
    })
}

/// Checks a lead's custom fields against the declared ones and writes each
/// declared value in its type's JSON: `"42"` becomes 42 for a number,
/// `"yes"` true for a boolean, `"31/01/2026"` is refused for a date (only
/// `2026-01-31` or an RFC 3339 time), a choice takes the option's own
/// spelling. Imports and forms send text, so text that reads as the type
/// is accepted from every caller. Undeclared keys pass as they are; JSON
/// null stays (it means "no value").
pub fn conform(fields: &DeclaredFields, custom_fields: &mut Value) -> AppResult<()> {
    let Some(object) = custom_fields.as_object_mut() else { return Ok(()) };
    for (key, value) in object.iter_mut() {
        let Some(field) = fields.get(key) else { continue };
        if value.is_null() {
            continue;
        }
        *value = typed(field, value).map_err(|message| AppError::validation(format!("custom_fields.{key}"), message))?;
    }
    Ok(())
}

fn typed(field: &CustomField, value: &Value) -> Result<Value, String> {
    let text = match value {
        Value::String(s) => Some(s.trim()),
        _ => None,
    };
    let key = &field.key;
    match field.field_type {
        CustomFieldType::Text => match value {
            Value::String(s) if s.chars().count() > MAX_TEXT => Err(format!("{key} is at most {MAX_TEXT} characters")),
            Value::String(_) => Ok(value.clone()),
            Value::Number(n) => Ok(Value::String(n.to_string())),
            Value::Bool(b) => Ok(Value::String(b.to_string())),
            _ => Err(format!("{key} is text")),
        },
        CustomFieldType::Number => {
            let number = match (value, text) {
                (Value::Number(n), _) => n.as_f64(),
                (_, Some(t)) => t.parse::<f64>().ok(),
                _ => None,
            };
            match number.filter(|n| n.is_finite()) {
                Some(n) if n.fract() == 0.0 && n.abs() < 9.0e15 => Ok(Value::from(n as i64)),
                Some(n) => Number::from_f64(n).map(Value::Number).ok_or_else(|| format!("{key} is a number")),
                None => Err(format!("{key} is a number, like 42 or 9.5")),
            }
        }
        CustomFieldType::Boolean => match (value, text.map(str::to_lowercase).as_deref()) {
            (Value::Bool(b), _) => Ok(Value::Bool(*b)),
            (_, Some("true" | "yes" | "y" | "1")) => Ok(Value::Bool(true)),
            (_, Some("false" | "no" | "n" | "0")) => Ok(Value::Bool(false)),
            (Value::Number(n), _) if n.as_i64() == Some(1) => Ok(Value::Bool(true)),
            (Value::Number(n), _) if n.as_i64() == Some(0) => Ok(Value::Bool(false)),
            _ => Err(format!("{key} is true or false")),
        },
        CustomFieldType::Date => {
            let date = text.and_then(|t| {
                NaiveDate::parse_from_str(t, "%Y-%m-%d")
                    .ok()
                    .or_else(|| DateTime::parse_from_rfc3339(t).ok().map(|d| d.with_timezone(&Utc).date_naive()))
            });
            date.map(|d| Value::String(d.format("%Y-%m-%d").to_string())).ok_or_else(|| format!("{key} is a date like 2026-01-31"))
        }
        CustomFieldType::Choice => {
            let given = match value {
                Value::String(s) => s.trim().to_lowercase(),
                Value::Number(n) => n.to_string(),
                Value::Bool(b) => b.to_string(),
                _ => return Err(format!("{key} is one of {}", field.options.join(", "))),
            };
            field
                .options
                .iter()
                .find(|o| o.to_lowercase() == given)
                .map(|o| Value::String(o.clone()))
                .ok_or_else(|| format!("{key} is one of {}", field.options.join(", ")))
        }
    }
}
