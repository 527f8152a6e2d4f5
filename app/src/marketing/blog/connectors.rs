//! CMS connectors: where approved posts are published. The secret is
//! write-only: stored for the publish jobs, never read back.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::types::*;
use crate::error::{AppError, AppResult};
use crate::platform::audit;
use crate::platform::context::Ctx;
use crate::platform::db::{now, Tx, Q};
use crate::platform::types::Scope;
use crate::platform::validate::required_text;

#[derive(sqlx::FromRow)]
pub(super) struct ConnectorRow {
    pub id: Uuid,
    pub workspace_id: Uuid,
    #[sqlx(try_from = "String")]
    pub kind: CmsKind,
    pub name: String,
    pub base_url: String,
    pub settings: sqlx::types::Json<CmsSettings>,
    pub credentials: sqlx::types::Json<serde_json::Value>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

const COLUMNS: &str = "id, workspace_id, kind, name, base_url, settings, credentials, created_at, updated_at";

impl ConnectorRow {
    pub fn to_connector(&self) -> BlogConnector {
        BlogConnector {
            id: self.id,
            workspace_id: self.workspace_id,
            kind: self.kind,
            name: self.name.clone(),
            base_url: self.base_url.clone(),
            settings: self.settings.0.clone(),
            created_at: self.created_at,
            updated_at: self.updated_at,
        }
    }

    pub fn secret(&self) -> String {
        self.credentials.0["secret"].as_str().unwrap_or_default().to_string()
    }
}

pub(super) async fn find(tx: &mut Tx, workspace_id: Uuid, id: Uuid) -> AppResult<Option<ConnectorRow>> {
    Ok(tx
        .fetch_optional(
            Q::new(format!("SELECT {COLUMNS} FROM blog_connectors WHERE workspace_id = $1 AND id = $2")).bind(workspace_id).bind(id),
        )
        .await?)
}

pub async fn get(tx: &mut Tx, ctx: &Ctx, id: Uuid) -> AppResult<BlogConnector> {
    ctx.require(Scope::MarketingRead)?;
    find(tx, ctx.workspace_id, id).await?.map(|r| r.to_connector()).ok_or(AppError::NotFound("blog connector"))
}

pub async fn list(tx: &mut Tx, ctx: &Ctx) -> AppResult<Vec<BlogConnector>> {
    ctx.require(Scope::MarketingRead)?;
    let rows: Vec<ConnectorRow> = tx
        .fetch_all(
            Q::new(format!("SELECT {COLUMNS} FROM blog_connectors WHERE workspace_id = $1 ORDER BY name, id")).bind(ctx.workspace_id),
        )
        .await?;
    Ok(rows.iter().map(ConnectorRow::to_connector).collect())
}

fn public_root(kind: CmsKind) -> Option<&'static str> {
    match kind {
        CmsKind::Webflow => Some("https://api.webflow.com"),
        CmsKind::Sanity => None,
        _ => None,
    }
}

fn check_url(field: &str, url: &str) -> AppResult<String> {
    let url = url.trim().trim_end_matches('/').to_string();
    match reqwest::Url::parse(&url) {
        Ok(u) if matches!(u.scheme(), "http" | "https") && u.host_str().is_some() => Ok(url),
        _ => Err(AppError::validation(field, "give an http(s) URL")),
    }
}

fn present(field: &str, value: &Option<String>, why: &str) -> AppResult<()> {
    if value.as_deref().is_none_or(|v| v.trim().is_empty()) {
        return Err(AppError::validation(field, why.to_string()));
    }
    Ok(())
}

pub async fn create(tx: &mut Tx, ctx: &Ctx, input: NewBlogConnector) -> AppResult<BlogConnector> {
    ctx.require(Scope::MarketingWrite)?;
    let name = required_text("name", &input.name, 200)?;
    let secret = required_text("secret", &input.secret, 2000)?;
    let s = &input.settings;
    let base_url = match (input.base_url.as_deref().filter(|u| !u.trim().is_empty()), input.kind) {
        (Some(url), _) => check_url("base_url", url)?,
        (None, CmsKind::Sanity) => {
            present("settings.project_id", &s.project_id, "Sanity needs the project id")?;
            format!("https://{}.api.sanity.io", s.project_id.as_deref().unwrap_or_default())
        }
        (None, kind) => match public_root(kind) {
            Some(root) => root.to_string(),
            None => return Err(AppError::validation("base_url", format!("give the {} site's address", kind.label()))),
        },
    };
    match input.kind {
        CmsKind::Wordpress => {
            present("settings.username", &s.username, "WordPress application passwords belong to a user: give the username")?
        }
        CmsKind::Ghost => {
            let (id, key) = secret.split_once(':').unwrap_or_default();
            if id.is_empty() || hex::decode(key).is_err() {
                return Err(AppError::validation("secret", "a Ghost Admin API key looks like <id>:<hex secret>"));
            }
        }
        CmsKind::Webflow => {
            present("settings.collection_id", &s.collection_id, "Webflow posts go in a CMS collection: give its id")?;
            present("settings.post_url_template", &s.post_url_template, "say where posts are shown, like https://example.com/blog/{slug}")?;
        }
        CmsKind::Sanity => {
            present("settings.project_id", &s.project_id, "Sanity needs the project id")?;
            present("settings.dataset", &s.dataset, "Sanity needs the dataset (production)")?;
            present("settings.post_url_template", &s.post_url_template, "say where posts are shown, like https://example.com/blog/{slug}")?;
        }
    }
    if let Some(template) = &s.post_url_template {
        if !template.contains("{slug}") {
            return Err(AppError::validation("settings.post_url_template", "the pattern must hold {slug}"));
        }
    }
    let id = Uuid::now_v7();
    let at = now();
    tx.execute(
        Q::new(
            "INSERT INTO blog_connectors (id, workspace_id, kind, name, base_url, settings, credentials, source, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9)",
        )
        .bind(id)
        .bind(ctx.workspace_id)
        .bind(input.kind.as_str())
        .bind(name)
        .bind(base_url)
        .bind(serde_json::to_value(&input.settings).unwrap_or_default())
        .bind(serde_json::json!({ "secret": secret }))
        .bind(ctx.record_source())
        .bind(at),
    )
    .await?;
    let connector = get(tx, ctx, id).await?;
    audit::record(tx, ctx, "blog_connector.created", "blog_connector", Some(id), None::<&()>, Some(&connector)).await?;
    Ok(connector)
}
