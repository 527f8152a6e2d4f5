//! Ad accounts: one per platform account a workspace advertises from.
//! Credentials are write-only: stored, used by the adapters, never read
//! back by any API.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::platforms::{self, Connection};
use super::types::*;
use crate::error::{AppError, AppResult};
use crate::platform::audit;
use crate::platform::context::{Config, Ctx};
use crate::platform::db::{now, Db, Tx, Q};
use crate::platform::types::Scope;
use crate::platform::validate::required_text;

#[derive(sqlx::FromRow)]
struct AccountRow {
    id: Uuid,
    workspace_id: Uuid,
    #[sqlx(try_from = "String")]
    platform: Platform,
    name: String,
    external_account_id: String,
    currency: String,
    api_base_url: Option<String>,
    credentials: sqlx::types::Json<AdCredentials>,
    source: String,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

const COLUMNS: &str =
    "id, workspace_id, platform, name, external_account_id, currency, api_base_url, credentials, source, created_at, updated_at";

impl AccountRow {
    fn to_account(&self) -> AdAccount {
        let c = &self.credentials.0;
        let mut set = vec!["access_token".to_string()];
        for (name, value) in [
            ("developer_token", &c.developer_token),
            ("login_customer_id", &c.login_customer_id),
            ("campaign_group_id", &c.campaign_group_id),
        ] {
            if value.is_some() {
                set.push(name.into());
            }
        }
        AdAccount {
            id: self.id,
            workspace_id: self.workspace_id,
            platform: self.platform,
            name: self.name.clone(),
            external_account_id: self.external_account_id.clone(),
            currency: self.currency.clone(),
            api_base_url: self.api_base_url.clone(),
            credentials_set: set,
            source: self.source.clone(),
            created_at: self.created_at,
            updated_at: self.updated_at,
        }
    }
}

async fn find(tx: &mut Tx, workspace_id: Uuid, id: Uuid) -> AppResult<Option<AccountRow>> {
    Ok(tx
        .fetch_optional(
            Q::new(format!("SELECT {COLUMNS} FROM ad_accounts WHERE workspace_id = $1 AND id = $2")).bind(workspace_id).bind(id),
        )
        .await?)
}

pub async fn get(tx: &mut Tx, ctx: &Ctx, id: Uuid) -> AppResult<AdAccount> {
    ctx.require(Scope::MarketingRead)?;
    find(tx, ctx.workspace_id, id).await?.map(|r| r.to_account()).ok_or(AppError::NotFound("ad account"))
}

pub async fn list(tx: &mut Tx, ctx: &Ctx) -> AppResult<Vec<AdAccount>> {
    ctx.require(Scope::MarketingRead)?;
    let rows: Vec<AccountRow> = tx
        .fetch_all(
            Q::new(format!("SELECT {COLUMNS} FROM ad_accounts WHERE workspace_id = $1 ORDER BY platform, name, id")).bind(ctx.workspace_id),
        )
        .await?;
    Ok(rows.iter().map(AccountRow::to_account).collect())
}

fn check_base_url(url: Option<String>) -> AppResult<Option<String>> {
    let Some(url) = url.map(|u| u.trim().trim_end_matches('/').to_string()).filter(|u| !u.is_empty()) else { return Ok(None) };
    match reqwest::Url::parse(&url) {
        Ok(parsed) if matches!(parsed.scheme(), "https" | "http") && parsed.host_str().is_some() && parsed.query().is_none() => {
            Ok(Some(url))
        }
        _ => Err(AppError::validation("api_base_url", "give the API's root as an http(s) URL without a query")),
    }
}

fn check_external_id(platform: Platform, id: &str) -> AppResult<String> {
    let id = required_text("external_account_id", id, 100)?;
    let digits: String =
        id.trim_start_matches("act_").trim_start_matches("urn:li:sponsoredAccount:").chars().filter(|c| *c != '-').collect();
    if digits.is_empty() || !digits.chars().all(|c| c.is_ascii_digit()) {
        let example = match platform {
            Platform::Google => "a customer id like 123-456-7890",
            Platform::Linkedin => "a sponsored account id like 507404993",
            Platform::Meta => "an ad account id like act_1234567890",
        };
        return Err(AppError::validation("external_account_id", format!("give {example}")));
    }
    Ok(id)
}

pub async fn create(tx: &mut Tx, ctx: &Ctx, input: NewAdAccount) -> AppResult<AdAccount> {
    ctx.require(Scope::MarketingWrite)?;
    let name = required_text("name", &input.name, 200)?;
    let external = check_external_id(input.platform, &input.external_account_id)?;
    let currency = crate::crm::deals::ops::check_currency(input.currency)?;
    let base_url = check_base_url(input.api_base_url)?;
    platforms::check_credentials(input.platform, &input.credentials)?;
    let id = Uuid::now_v7();
    let at = now();
    tx.execute(
        Q::new(
            "INSERT INTO ad_accounts (id, workspace_id, platform, name, external_account_id, currency, api_base_url, credentials, source, \
             last_agent_actor_id, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11)",
        )
        .bind(id)
        .bind(ctx.workspace_id)
        .bind(input.platform.as_str())
        .bind(name)
        .bind(external)
        .bind(currency)
        .bind(base_url)
        .bind(serde_json::to_value(&input.credentials).unwrap_or_default())
        .bind(ctx.record_source())
        .bind(ctx.api_key_id)
        .bind(at),
    )
    .await?;
    let account = get(tx, ctx, id).await?;
    audit::record(tx, ctx, "ad_account.created", "ad_account", Some(id), None::<&()>, Some(&account)).await?;
    Ok(account)
}

pub async fn update(tx: &mut Tx, ctx: &Ctx, id: Uuid, patch: AdAccountPatch) -> AppResult<AdAccount> {
    ctx.require(Scope::MarketingWrite)?;
    let before = find(tx, ctx.workspace_id, id).await?.ok_or(AppError::NotFound("ad account"))?;
    let name = match patch.name {
        Some(name) => required_text("name", &name, 200)?,
        None => before.name.clone(),
    };
    let base_url = match patch.api_base_url {
        Some(url) => check_base_url(url)?,
        None => before.api_base_url.clone(),
    };
    let credentials = match patch.credentials {
        Some(c) => {
            platforms::check_credentials(before.platform, &c)?;
            c
        }
        None => before.credentials.0.clone(),
    };
    tx.execute(
        Q::new(
            "UPDATE ad_accounts SET name = $1, api_base_url = $2, credentials = $3, updated_at = $4 WHERE workspace_id = $5 AND id = $6",
        )
        .bind(name)
        .bind(base_url)
        .bind(serde_json::to_value(&credentials).unwrap_or_default())
        .bind(now())
        .bind(ctx.workspace_id)
        .bind(id),
    )
    .await?;
    let after = get(tx, ctx, id).await?;
    audit::record(tx, ctx, "ad_account.updated", "ad_account", Some(id), Some(&before.to_account()), Some(&after)).await?;
    Ok(after)
}

/// The account a new campaign runs on: the one named, or the workspace's
/// only account on the platform.
pub(super) async fn choose(tx: &mut Tx, ctx: &Ctx, id: Option<Uuid>, platform: Option<Platform>) -> AppResult<AdAccount> {
    if let Some(id) = id {
        let account = get(tx, ctx, id).await.map_err(|_| AppError::validation("ad_account_id", "no such ad account"))?;
        if platform.is_some_and(|p| p != account.platform) {
            return Err(AppError::validation("platform", format!("ad account {id} is on {}", account.platform.as_str())));
        }
        return Ok(account);
    }
    let Some(platform) = platform else { return Err(AppError::validation("platform", "name a platform or an ad account")) };
    let on_platform: Vec<AdAccount> = list(tx, ctx).await?.into_iter().filter(|a| a.platform == platform).collect();
    match on_platform.len() {
        1 => Ok(on_platform.into_iter().next().expect("one account")),
        0 => Err(AppError::validation(
            "platform",
            format!("no {} ad account is connected (POST /api/v1/marketing/ad-accounts)", platform.label()),
        )),
        n => Err(AppError::validation("ad_account_id", format!("{n} {} accounts are connected: name one", platform.label()))),
    }
}

/// A connection to an account's platform, for the ad worker. Reads in its
/// own transaction; builds the client (which may resolve names) after it.
pub async fn connection(db: &Db, config: &Config, workspace_id: Uuid, id: Uuid) -> AppResult<Connection> {
    let mut tx = db.begin_read().await?;
    let row = find(&mut tx, workspace_id, id).await?.ok_or(AppError::NotFound("ad account"))?;
    tx.commit().await?;
    let base_url = row.api_base_url.clone().unwrap_or_else(|| platforms::default_base_url(row.platform).to_string());
    let client = platforms::client(&base_url, config.enrichment_private_networks).await?;
    Ok(Connection {
        platform: row.platform,
        base_url,
        account_id: row.external_account_id.clone(),
        currency: row.currency.clone(),
        credentials: row.credentials.0.clone(),
        client,
    })
}
