//! LinkedIn Marketing API (versioned REST, Rest.li 2.0): ad campaigns under
//! an ad account and campaign group, partial updates for status and
//! budget, DMP segments fed hashed emails, and daily ad analytics.

use chrono::{Datelike, NaiveDate};
use serde_json::{json, Value};

use super::{
    decimal_to_minor, int_of, minor_to_decimal, send, AdPlatform, CampaignSpec, Connection, DayMetrics, ExternalCampaign, PlatformStatus,
    UploadedAudience,
};
use crate::error::{AppError, AppResult};
use crate::marketing::ads::audience::{sha256_hex, Member, LINKEDIN_BATCH};
use crate::marketing::ads::types::{AdObjective, Platform};
use crate::platform::BoxFuture;

/// The `LinkedIn-Version` (YYYYMM) the requests are written against.
pub const VERSION: &str = "202511";

pub struct Linkedin(pub Connection);

impl Linkedin {
    fn account(&self) -> &str {
        self.0.account_id.trim_start_matches("urn:li:sponsoredAccount:")
    }

    fn request(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        self.0
            .client
            .request(method, format!("{}/rest/{path}", self.0.base_url))
            .bearer_auth(&self.0.credentials.access_token)
            .header("LinkedIn-Version", VERSION)
            .header("X-Restli-Protocol-Version", "2.0.0")
    }

    fn campaign_path(&self, campaign: &ExternalCampaign) -> String {
        format!("adAccounts/{}/adCampaigns/{}", self.account(), campaign.campaign_id)
    }

    async fn partial_update(&self, campaign: &ExternalCampaign, set: Value) -> AppResult<()> {
        let request = self
            .request(reqwest::Method::POST, &self.campaign_path(campaign))
            .header("X-RestLi-Method", "PARTIAL_UPDATE")
            .json(&json!({ "patch": { "$set": set } }));
        send(Platform::Linkedin, request).await?;
        Ok(())
    }

    /// The id of a created entity: the `x-restli-id` header (or `id`).
    fn created_id(headers: &reqwest::header::HeaderMap, body: &Value, what: &str) -> AppResult<String> {
        headers
            .get("x-restli-id")
            .or_else(|| headers.get("x-linkedin-id"))
            .and_then(|v| v.to_str().ok())
            .map(|v| v.rsplit(':').next().unwrap_or(v).to_string())
            .or_else(|| body["id"].as_i64().map(|id| id.to_string()).or_else(|| body["id"].as_str().map(str::to_string)))
            .ok_or_else(|| AppError::Upstream(format!("LinkedIn did not answer with the new {what}'s id")))
    }
}

fn rest_li_date(day: NaiveDate) -> String {
    format!("(year:{},month:{},day:{})", day.year(), day.month(), day.day())
}

impl AdPlatform for Linkedin {
    fn create_paused_campaign<'a>(&'a self, spec: &'a CampaignSpec) -> BoxFuture<'a, AppResult<ExternalCampaign>> {
        Box::pin(async move {
            let group = self.0.credentials.campaign_group_id.as_deref().unwrap_or_default();
            let objective = match spec.objective {
                AdObjective::Leads => "LEAD_GENERATION",
                AdObjective::Traffic => "WEBSITE_VISIT",
                AdObjective::Awareness => "BRAND_AWARENESS",
            };
            let start = spec.start_date.unwrap_or_else(|| chrono::Utc::now().date_naive());
            let mut schedule = json!({ "start": start.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc().timestamp_millis() });
            if let Some(end) = spec.end_date {
                schedule["end"] = json!(end.and_hms_opt(23, 59, 59).unwrap_or_default().and_utc().timestamp_millis());
            }
            let body = json!({
                "account": format!("urn:li:sponsoredAccount:{}", self.account()),
                "campaignGroup": format!("urn:li:sponsoredCampaignGroup:{}", group.trim_start_matches("urn:li:sponsoredCampaignGroup:")),
                "name": spec.name,
                "type": "SPONSORED_UPDATES",
                "objectiveType": objective,
                "costType": "CPM",
                "dailyBudget": { "amount": minor_to_decimal(spec.daily_budget_minor), "currencyCode": spec.currency },
                "status": "PAUSED",
                "locale": { "country": "US", "language": "en" },
                "offsiteDeliveryEnabled": false,
                "politicalIntent": "NOT_DECLARED",
                "runSchedule": schedule,
                "targetingCriteria": { "include": { "and": [ { "or": { "urn:li:adTargetingFacet:locations": ["urn:li:geo:103644278"] } } ] } },
            });
            let request = self.request(reqwest::Method::POST, &format!("adAccounts/{}/adCampaigns", self.account())).json(&body);
            let (headers, answer) = send(Platform::Linkedin, request).await?;
            Ok(ExternalCampaign { campaign_id: Self::created_id(&headers, &answer, "campaign")?, budget_id: None })
        })
    }

    fn set_status<'a>(&'a self, campaign: &'a ExternalCampaign, status: PlatformStatus) -> BoxFuture<'a, AppResult<()>> {
        Box::pin(async move {
            let status = match status {
                PlatformStatus::Active => "ACTIVE",
                PlatformStatus::Paused => "PAUSED",
                PlatformStatus::Ended => "CANCELED",
            };
            self.partial_update(campaign, json!({ "status": status })).await
        })
    }

    fn set_budget<'a>(
        &'a self,
        campaign: &'a ExternalCampaign,
        daily_budget_minor: i64,
        currency: &'a str,
    ) -> BoxFuture<'a, AppResult<()>> {
        Box::pin(async move {
            self.partial_update(
                campaign,
                json!({ "dailyBudget": { "amount": minor_to_decimal(daily_budget_minor), "currencyCode": currency } }),
            )
            .await
        })
    }

    fn upload_audience<'a>(
        &'a self,
        _campaign: &'a ExternalCampaign,
        name: &'a str,
        existing: Option<&'a str>,
        members: &'a [Member],
    ) -> BoxFuture<'a, AppResult<UploadedAudience>> {
        Box::pin(async move {
            let segment = match existing {
                Some(id) => id.to_string(),
                None => {
                    let request = self.request(reqwest::Method::POST, "dmpSegments").json(&json!({
                        "name": name,
                        "sourcePlatform": "CORRAL",
                        "account": format!("urn:li:sponsoredAccount:{}", self.account()),
                        "accessPolicy": "PRIVATE",
                        "type": "USER",
                        "destinations": [{ "destination": "LINKEDIN" }],
                    }));
                    let (headers, answer) = send(Platform::Linkedin, request).await?;
                    Self::created_id(&headers, &answer, "DMP segment")?
                }
            };
            let with_email: Vec<&Member> = members.iter().filter(|m| m.email.is_some()).collect();
            let mut sent = 0i64;
            for chunk in with_email.chunks(LINKEDIN_BATCH) {
                let elements: Vec<Value> = chunk
                    .iter()
                    .map(|m| {
                        json!({ "action": "ADD", "userIds": [{ "idType": "SHA256_EMAIL", "idValue": sha256_hex(m.email.as_deref().unwrap_or_default()) }] })
                    })
                    .collect();
                let request = self
                    .request(reqwest::Method::POST, &format!("dmpSegments/{segment}/users"))
                    .header("X-RestLi-Method", "BATCH_CREATE")
                    .json(&json!({ "elements": elements }));
                send(Platform::Linkedin, request).await?;
                sent += chunk.len() as i64;
            }
            Ok(UploadedAudience { audience_id: segment, sent, received: None })
        })
    }

    fn daily_metrics<'a>(
        &'a self,
        campaign: &'a ExternalCampaign,
        from: NaiveDate,
        to: NaiveDate,
    ) -> BoxFuture<'a, AppResult<Vec<DayMetrics>>> {
        Box::pin(async move {
            // Rest.li query syntax: parentheses and colons stay as they are; the URN inside List() is encoded.
            let query = format!(
                "q=analytics&pivot=CAMPAIGN&timeGranularity=DAILY&dateRange=(start:{},end:{})&campaigns=List(urn%3Ali%3AsponsoredCampaign%3A{})\
                 &fields=costInLocalCurrency,impressions,clicks,oneClickLeads,externalWebsiteConversions,dateRange",
                rest_li_date(from),
                rest_li_date(to),
                campaign.campaign_id
            );
            let request = self.request(reqwest::Method::GET, &format!("adAnalytics?{query}"));
            let (_, answer) = send(Platform::Linkedin, request).await?;
            let mut days = Vec::new();
            for row in answer["elements"].as_array().into_iter().flatten() {
                let start = &row["dateRange"]["start"];
                let Some(day) =
                    NaiveDate::from_ymd_opt(int_of(&start["year"]) as i32, int_of(&start["month"]) as u32, int_of(&start["day"]) as u32)
                else {
                    continue;
                };
                days.push(DayMetrics {
                    day,
                    spend_minor: row["costInLocalCurrency"].as_str().and_then(decimal_to_minor).unwrap_or(0),
                    impressions: int_of(&row["impressions"]),
                    clicks: int_of(&row["clicks"]),
                    conversions: int_of(&row["oneClickLeads"]) + int_of(&row["externalWebsiteConversions"]),
                });
            }
            Ok(days)
        })
    }
}
