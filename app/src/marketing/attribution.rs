//! Attribution: which campaign brought a lead, so its conversion, deals,
//! invoices and payments count for that campaign in the rollups.
//!
//! First touch wins: a lead keeps the campaign it was first attributed to.
//! A capture form names its campaign (or the submission carries
//! `utm_campaign` naming one by id or name); an ad click id (`gclid`,
//! `fbclid`, `li_fat_id`) without a campaign goes to the one campaign
//! running ads on that platform, if there is exactly one; a reply to a
//! sequence attributes the lead to the sequence's campaign.

use serde_json::{json, Map, Value};
use uuid::Uuid;

use crate::error::AppResult;
use crate::platform::db::{now, Tx, Q};

/// What a page's address may carry about where a visitor came from.
pub const TRACKING_KEYS: &[&str] = &["utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content", "gclid", "fbclid", "li_fat_id"];

/// Takes the tracking parameters out of a submission's fields (they are
/// not the form's fields), trimmed and at most 500 characters each.
pub fn take_tracking(fields: &mut Map<String, Value>) -> Map<String, Value> {
    let mut out = Map::new();
    for key in TRACKING_KEYS {
        if let Some(value) = fields.remove(*key) {
            if let Some(text) = value.as_str().map(str::trim).filter(|t| !t.is_empty()) {
                out.insert(key.to_string(), Value::String(text.chars().take(500).collect()));
            }
        }
    }
    out
}

/// The platform an ad click id comes from.
fn click_platform(tracking: &Map<String, Value>) -> Option<(&'static str, &'static str)> {
    [("gclid", "google"), ("fbclid", "meta"), ("li_fat_id", "linkedin")].into_iter().find(|(key, _)| tracking.contains_key(*key))
}

/// The campaign `utm_campaign` names: its id, or its name (any case).
async fn campaign_named(tx: &mut Tx, workspace_id: Uuid, name: &str) -> AppResult<Option<Uuid>> {
    if let Ok(id) = name.parse::<Uuid>() {
        let found: Option<(Uuid,)> =
            tx.fetch_optional(Q::new("SELECT id FROM campaigns WHERE workspace_id = $1 AND id = $2").bind(workspace_id).bind(id)).await?;
        return Ok(found.map(|(id,)| id));
    }
    let found: Vec<(Uuid,)> = tx
        .fetch_all(
            Q::new("SELECT id FROM campaigns WHERE workspace_id = $1 AND LOWER(name) = LOWER($2) ORDER BY id DESC LIMIT 1")
                .bind(workspace_id)
                .bind(name),
        )
        .await?;
    Ok(found.first().map(|(id,)| *id))
}

/// Attributes a lead that came through a capture form.
pub async fn from_form(
    tx: &mut Tx,
    workspace_id: Uuid,
    lead_id: Uuid,
    form_id: Uuid,
    form_campaign: Option<Uuid>,
    tracking: Map<String, Value>,
) -> AppResult<()> {
    let click = click_platform(&tracking);
    let mut campaign = form_campaign;
    if campaign.is_none() {
        if let Some(name) = tracking.get("utm_campaign").and_then(Value::as_str) {
            campaign = campaign_named(tx, workspace_id, name).await?;
        }
    }
    if campaign.is_none() {
        if let Some((_, platform)) = click {
            let running: Vec<(Uuid,)> = tx
                .fetch_all(
                    Q::new(
                        "SELECT DISTINCT campaign_id FROM ad_campaigns WHERE workspace_id = $1 AND platform = $2 AND status IN ('active', 'paused', 'launching')",
                    )
                    .bind(workspace_id)
                    .bind(platform),
                )
                .await?;
            if running.len() == 1 {
                campaign = Some(running[0].0);
            }
        }
    }
    let via = if click.is_some() {
        "ad_click"
    } else if tracking.keys().any(|k| k.starts_with("utm_")) {
        "utm"
    } else {
        "form"
    };
    let mut detail = tracking;
    detail.insert("via".into(), json!(via));
    detail.insert("form_id".into(), json!(form_id));
    if let Some((key, platform)) = click {
        detail.insert("click_id_type".into(), json!(key));
        detail.insert("ad_platform".into(), json!(platform));
    }
    record(tx, workspace_id, lead_id, campaign, Value::Object(detail)).await
}

/// Attributes a lead who replied to a sequence to its campaign.
pub async fn from_reply(tx: &mut Tx, workspace_id: Uuid, lead_id: Uuid, sequence_id: Uuid) -> AppResult<()> {
    let found: Option<(Uuid,)> = tx
        .fetch_optional(
            Q::new("SELECT campaign_id FROM email_sequences WHERE workspace_id = $1 AND id = $2").bind(workspace_id).bind(sequence_id),
        )
        .await?;
    let Some((campaign,)) = found else { return Ok(()) };
    record(tx, workspace_id, lead_id, Some(campaign), json!({ "via": "sequence_reply", "sequence_id": sequence_id })).await
}

/// First touch: a lead already attributed keeps its campaign.
async fn record(tx: &mut Tx, workspace_id: Uuid, lead_id: Uuid, campaign: Option<Uuid>, mut detail: Value) -> AppResult<()> {
    detail["at"] = json!(now());
    detail["campaign_id"] = json!(campaign);
    tx.execute(
        Q::new("UPDATE leads SET campaign_id = $1, attribution = $2 WHERE workspace_id = $3 AND id = $4 AND campaign_id IS NULL AND attribution IS NULL")
            .bind(campaign)
            .bind(detail)
            .bind(workspace_id)
            .bind(lead_id),
    )
    .await?;
    Ok(())
}
