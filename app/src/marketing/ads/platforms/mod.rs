//! The ad platforms behind one trait. Each adapter speaks its platform's
//! own HTTP API for what Corral does: create a paused campaign with a daily
//! budget, change its status or budget, upload an audience, and read daily
//! spend, impressions, clicks and conversions.

mod google;
mod linkedin;
mod meta;

use std::time::Duration;

use chrono::NaiveDate;
use serde_json::Value;

use super::audience::Member;
use super::types::{AdCreative, AdCredentials, AdObjective, Platform};
use crate::error::{AppError, AppResult};
use crate::platform::BoxFuture;

/// What a launch asks the platform for.
#[derive(Clone, Debug)]
pub struct CampaignSpec {
    pub name: String,
    pub objective: AdObjective,
    pub daily_budget_minor: i64,
    pub currency: String,
    pub start_date: Option<NaiveDate>,
    pub end_date: Option<NaiveDate>,
    pub creatives: Vec<AdCreative>,
}

/// A campaign on the platform: its id, and Google's separate budget.
#[derive(Clone, Debug, PartialEq)]
pub struct ExternalCampaign {
    pub campaign_id: String,
    pub budget_id: Option<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PlatformStatus {
    Active,
    Paused,
    /// Stopped for good (Google REMOVED, LinkedIn CANCELED, Meta ARCHIVED).
    Ended,
}

#[derive(Clone, Debug, PartialEq)]
pub struct UploadedAudience {
    pub audience_id: String,
    pub sent: i64,
    /// What the platform said it received, when it says.
    pub received: Option<i64>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct DayMetrics {
    pub day: NaiveDate,
    pub spend_minor: i64,
    pub impressions: i64,
    pub clicks: i64,
    pub conversions: i64,
}

pub trait AdPlatform: Send + Sync {
    fn create_paused_campaign<'a>(&'a self, spec: &'a CampaignSpec) -> BoxFuture<'a, AppResult<ExternalCampaign>>;
    fn set_status<'a>(&'a self, campaign: &'a ExternalCampaign, status: PlatformStatus) -> BoxFuture<'a, AppResult<()>>;
    fn set_budget<'a>(&'a self, campaign: &'a ExternalCampaign, daily_budget_minor: i64, currency: &'a str)
        -> BoxFuture<'a, AppResult<()>>;
    /// Creates the platform audience (or adds to `existing`) and uploads the members.
    fn upload_audience<'a>(
        &'a self,
        campaign: &'a ExternalCampaign,
        name: &'a str,
        existing: Option<&'a str>,
        members: &'a [Member],
    ) -> BoxFuture<'a, AppResult<UploadedAudience>>;
    fn daily_metrics<'a>(
        &'a self,
        campaign: &'a ExternalCampaign,
        from: NaiveDate,
        to: NaiveDate,
    ) -> BoxFuture<'a, AppResult<Vec<DayMetrics>>>;
}

/// An account's connection: where its API is and how to sign in.
#[derive(Clone, Debug)]
pub struct Connection {
    pub platform: Platform,
    /// The API root without a trailing slash.
    pub base_url: String,
    pub account_id: String,
    pub currency: String,
    pub credentials: AdCredentials,
    pub client: reqwest::Client,
}

pub fn default_base_url(platform: Platform) -> &'static str {
    match platform {
        Platform::Google => "https://googleads.googleapis.com",
        Platform::Linkedin => "https://api.linkedin.com",
        Platform::Meta => "https://graph.facebook.com",
    }
}

/// What an account's credentials must hold, checked when they are saved.
pub fn check_credentials(platform: Platform, credentials: &AdCredentials) -> AppResult<()> {
    if credentials.access_token.trim().is_empty() {
        return Err(AppError::validation("credentials.access_token", "an access token is required"));
    }
    match platform {
        Platform::Google if credentials.developer_token.as_deref().is_none_or(|t| t.trim().is_empty()) => {
            Err(AppError::validation("credentials.developer_token", "Google Ads needs the developer token of your API access"))
        }
        Platform::Linkedin if credentials.campaign_group_id.as_deref().is_none_or(|t| t.trim().is_empty()) => {
            Err(AppError::validation("credentials.campaign_group_id", "LinkedIn campaigns go in a campaign group: give its id"))
        }
        _ => Ok(()),
    }
}

/// The adapter for a connection.
pub fn adapter(connection: Connection) -> Box<dyn AdPlatform> {
    match connection.platform {
        Platform::Google => Box::new(google::Google(connection)),
        Platform::Linkedin => Box::new(linkedin::Linkedin(connection)),
        Platform::Meta => Box::new(meta::Meta(connection)),
    }
}

pub async fn client(base_url: &str, allow_private_networks: bool) -> AppResult<reqwest::Client> {
    crate::audience::enrichment::outbound_client(base_url, Duration::from_secs(30), allow_private_networks).await
}

/// Sends a request and reads a JSON answer (empty bodies read as `null`);
/// a refusal becomes an upstream error quoting the platform's message.
pub(crate) async fn send(platform: Platform, request: reqwest::RequestBuilder) -> AppResult<(reqwest::header::HeaderMap, Value)> {
    let response = request.send().await.map_err(|e| AppError::Upstream(format!("{} could not be reached: {e}", platform.label())))?;
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = response.bytes().await.map_err(|e| AppError::Upstream(format!("{}'s answer broke off: {e}", platform.label())))?;
    let body: Value = if bytes.is_empty() { Value::Null } else { serde_json::from_slice(&bytes).unwrap_or(Value::Null) };
    if !status.is_success() {
        let message = body["error"]["message"]
            .as_str()
            .or_else(|| body["message"].as_str())
            .or_else(|| body[0]["error"]["message"].as_str())
            .map(str::to_string)
            .unwrap_or_else(|| String::from_utf8_lossy(&bytes).chars().take(300).collect());
        return Err(AppError::Upstream(format!("{} answered {}: {message}", platform.label(), status.as_u16())));
    }
    Ok((headers, body))
}

/// A decimal amount in major units ("12.345") as minor units, rounded half up.
pub fn decimal_to_minor(text: &str) -> Option<i64> {
    let text = text.trim();
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    if whole.is_empty() && fraction.is_empty() || !whole.chars().chain(fraction.chars()).all(|c| c.is_ascii_digit()) {
        return None;
    }
    let whole: i64 = if whole.is_empty() { 0 } else { whole.parse().ok()? };
    let mut digits = fraction.chars();
    let cents: i64 = (0..2).map(|_| digits.next().and_then(|c| c.to_digit(10)).unwrap_or(0) as i64).fold(0, |a, d| a * 10 + d);
    let round_up = digits.next().and_then(|c| c.to_digit(10)).is_some_and(|d| d >= 5);
    whole.checked_mul(100)?.checked_add(cents + round_up as i64)
}

/// Minor units as a decimal in major units: 10050 → "100.50".
pub fn minor_to_decimal(minor: i64) -> String {
    format!("{}{}.{:02}", if minor < 0 { "-" } else { "" }, minor.unsigned_abs() / 100, minor.unsigned_abs() % 100)
}

/// A JSON number or numeric string as an integer (platforms send int64 as strings).
pub(crate) fn int_of(value: &Value) -> i64 {
    match value {
        Value::Number(n) => n.as_i64().or_else(|| n.as_f64().map(|f| f.round() as i64)).unwrap_or(0),
        Value::String(s) => s.parse::<i64>().ok().or_else(|| s.parse::<f64>().ok().map(|f| f.round() as i64)).unwrap_or(0),
        _ => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimals_and_minor_units_round_trip() {
        assert_eq!(decimal_to_minor("12.34"), Some(1234));
        assert_eq!(decimal_to_minor("12.345"), Some(1235));
        assert_eq!(decimal_to_minor("7"), Some(700));
        assert_eq!(decimal_to_minor("0.5"), Some(50));
        assert_eq!(decimal_to_minor("-1"), None);
        assert_eq!(minor_to_decimal(10050), "100.50");
        assert_eq!(int_of(&serde_json::json!("1230000")), 1_230_000);
        assert_eq!(int_of(&serde_json::json!(2.0)), 2);
    }
}
