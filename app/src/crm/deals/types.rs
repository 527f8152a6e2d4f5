use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::platform::types::non_null;

text_enum!(StageKind {
    Open => "open",
    Won => "won",
    Lost => "lost",
});

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[cfg_attr(feature = "ssr", derive(sqlx::FromRow))]
pub struct DealStage {
    pub id: Uuid,
    pub workspace_id: Uuid,
    #[cfg_attr(feature = "ssr", sqlx(rename = "stage_key"))]
    pub key: String,
    pub name: String,
    pub position: i64,
    #[cfg_attr(feature = "ssr", sqlx(try_from = "String"))]
    pub kind: StageKind,
    pub probability: i64,
    pub color: String,
    #[cfg_attr(feature = "ssr", sqlx(json))]
    pub custom_fields: serde_json::Value,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// How the record was created: ui, api, mcp, import, form, flow or system.
    pub source: String,
    /// The API key that last wrote the record (agents and scripts).
    pub last_agent_actor_id: Option<Uuid>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct NewDealStage {
    pub key: String,
    pub name: String,
    /// `open` when absent.
    #[serde(default)]
    pub kind: Option<StageKind>,
    /// The chance of winning a deal in this stage, in percent; when absent
    /// 100 for a won stage, 0 for a lost one, 50 for an open one.
    #[serde(default)]
    pub probability: Option<i64>,
    #[serde(default)]
    pub color: Option<String>,
    /// Where to insert it; at the end when absent.
    #[serde(default)]
    pub position: Option<i64>,
    /// Queryable workspace JSON (an object).
    #[serde(default)]
    pub custom_fields: Option<serde_json::Value>,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct DealStagePatch {
    #[serde(default, deserialize_with = "non_null")]
    pub name: Option<String>,
    #[serde(default, deserialize_with = "non_null")]
    pub kind: Option<StageKind>,
    #[serde(default, deserialize_with = "non_null")]
    pub probability: Option<i64>,
    #[serde(default, deserialize_with = "non_null")]
    pub color: Option<String>,
}

/// The complete new order of a workspace's stages.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct StageOrder {
    pub stage_ids: Vec<Uuid>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[cfg_attr(feature = "ssr", derive(sqlx::FromRow))]
pub struct Deal {
    pub id: Uuid,
    pub workspace_id: Uuid,
    pub name: String,
    pub company_id: Option<Uuid>,
    pub contact_id: Option<Uuid>,
    pub lead_id: Option<Uuid>,
    pub stage_id: Uuid,
    pub amount_cents: i64,
    pub currency: String,
    pub expected_close_date: Option<NaiveDate>,
    pub owner_id: Option<Uuid>,
    #[cfg_attr(feature = "ssr", sqlx(json))]
    pub custom_fields: serde_json::Value,
    pub closed_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// How the record was created: ui, api, mcp, import, form, flow or system.
    pub source: String,
    /// The API key that last wrote the record (agents and scripts).
    pub last_agent_actor_id: Option<Uuid>,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct NewDeal {
    pub name: String,
    /// The first open stage when absent (and no stage key is given).
    #[serde(default)]
    pub stage_id: Option<Uuid>,
    /// The stage by its key (the seed's spelling; same as `stage_key`).
    #[serde(default)]
    pub stage: Option<String>,
    /// The stage by its key, instead of `stage_id`.
    #[serde(default)]
    pub stage_key: Option<String>,
    #[serde(default)]
    pub company_id: Option<Uuid>,
    #[serde(default)]
    pub contact_id: Option<Uuid>,
    #[serde(default)]
    pub lead_id: Option<Uuid>,
    #[serde(default)]
    pub amount_cents: Option<i64>,
    #[serde(default)]
    pub currency: Option<String>,
    #[serde(default)]
    pub expected_close_date: Option<NaiveDate>,
    #[serde(default)]
    pub owner_id: Option<Uuid>,
    #[serde(default)]
    pub custom_fields: Option<serde_json::Value>,
}

patch!(
    DealPatch {
        name: required String,
        stage_id: required Uuid,
        /// The new stage by its key (same as `stage_key`).
        stage: required String,
        /// The new stage by its key, instead of `stage_id`.
        stage_key: required String,
        company_id: optional Uuid,
        contact_id: optional Uuid,
        amount_cents: required i64,
        currency: required String,
        expected_close_date: optional NaiveDate,
        owner_id: optional Uuid,
        custom_fields: required serde_json::Value,
    }
);

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct DealFilter {
    #[serde(default)]
    pub q: Option<String>,
    #[serde(default)]
    pub stage_id: Option<Uuid>,
    #[serde(default)]
    pub company_id: Option<Uuid>,
    #[serde(default)]
    pub owner: Option<String>,
    #[serde(default)]
    pub limit: Option<i64>,
    #[serde(default)]
    pub cursor: Option<String>,
}

/// A deal as a pipeline card.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[cfg_attr(feature = "ssr", derive(sqlx::FromRow))]
pub struct DealCard {
    pub id: Uuid,
    pub name: String,
    pub stage_id: Uuid,
    pub amount_cents: i64,
    pub currency: String,
    pub company_name: Option<String>,
    pub owner_id: Option<Uuid>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct CurrencyTotal {
    pub currency: String,
    /// A sum over any number of deals: wider than one amount.
    pub amount_cents: i128,
}

/// One column of the board: counts and sums cover every deal in the stage;
/// `deals` holds the most recent `BOARD_CARDS_PER_STAGE` of them.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct BoardColumn {
    pub stage: DealStage,
    pub count: i64,
    pub totals: Vec<CurrencyTotal>,
    pub deals: Vec<DealCard>,
}

pub const BOARD_CARDS_PER_STAGE: i64 = 100;

/// Formats minor units for people: 900000 USD → "9,000.00 USD". Takes
/// single amounts (`i64`) and sums (`i128`) alike.
/// On a page, in the workspace's locale ("9.000,00 USD" in de-DE).
pub fn format_money(amount_cents: impl Into<i128>, currency: &str) -> String {
    crate::platform::formats::Formats::current().money(amount_cents, currency)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_round_trips_for_people() {
        assert_eq!(format_money(900_000, "USD"), "9,000.00 USD");
        assert_eq!(format_money(5, "EUR"), "0.05 EUR");
        assert_eq!(format_money(123_456_789, "USD"), "1,234,567.89 USD");
        assert_eq!(format_money(i64::MIN, "USD"), "-92,233,720,368,547,758.08 USD");
        assert_eq!(format_money(i64::MAX as i128 * 3, "USD"), "276,701,161,105,643,274.21 USD");
    }
}
