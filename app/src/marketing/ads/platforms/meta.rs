//! Meta Marketing API (Graph API): campaigns under `act_<id>/campaigns`
//! with a campaign budget, status and budget through the campaign node,
//! customer-file custom audiences fed through `/<audience>/users` in
//! batches of at most 10,000, and daily insights.

use chrono::NaiveDate;
use serde_json::{json, Value};

use super::{
    decimal_to_minor, int_of, send, AdPlatform, CampaignSpec, Connection, DayMetrics, ExternalCampaign, PlatformStatus, UploadedAudience,
};
use crate::error::{AppError, AppResult};
use crate::marketing::ads::audience::{hashed_phone, sha256_hex, Member, META_BATCH};
use crate::marketing::ads::types::{AdObjective, Platform};
use crate::platform::BoxFuture;

pub const VERSION: &str = "v25.0";

pub struct Meta(pub Connection);

impl Meta {
    fn account(&self) -> String {
        format!("act_{}", self.0.account_id.trim_start_matches("act_"))
    }

    fn url(&self, path: &str) -> String {
        format!("{}/{VERSION}/{path}", self.0.base_url)
    }

    /// Graph API writes are form posts.
    async fn post(&self, path: &str, form: &[(&str, String)]) -> AppResult<Value> {
        let request = self.0.client.post(self.url(path)).bearer_auth(&self.0.credentials.access_token).form(form);
        Ok(send(Platform::Meta, request).await?.1)
    }

    fn id_of(answer: &Value, what: &str) -> AppResult<String> {
        answer["id"].as_str().map(str::to_string).ok_or_else(|| AppError::Upstream(format!("Meta did not answer with the new {what}'s id")))
    }
}

impl AdPlatform for Meta {
    fn create_paused_campaign<'a>(&'a self, spec: &'a CampaignSpec) -> BoxFuture<'a, AppResult<ExternalCampaign>> {
        Box::pin(async move {
            let objective = match spec.objective {
                AdObjective::Leads => "OUTCOME_LEADS",
                AdObjective::Traffic => "OUTCOME_TRAFFIC",
                AdObjective::Awareness => "OUTCOME_AWARENESS",
            };
            let created = self
                .post(
                    &format!("{}/campaigns", self.account()),
                    &[
                        ("name", spec.name.clone()),
                        ("objective", objective.into()),
                        ("status", "PAUSED".into()),
                        ("special_ad_categories", "[]".into()),
                        // The account currency's minor units.
                        ("daily_budget", spec.daily_budget_minor.to_string()),
                        ("bid_strategy", "LOWEST_COST_WITHOUT_CAP".into()),
                    ],
                )
                .await?;
            Ok(ExternalCampaign { campaign_id: Self::id_of(&created, "campaign")?, budget_id: None })
        })
    }

    fn set_status<'a>(&'a self, campaign: &'a ExternalCampaign, status: PlatformStatus) -> BoxFuture<'a, AppResult<()>> {
        Box::pin(async move {
            let status = match status {
                PlatformStatus::Active => "ACTIVE",
                PlatformStatus::Paused => "PAUSED",
                PlatformStatus::Ended => "ARCHIVED",
            };
            self.post(&campaign.campaign_id, &[("status", status.into())]).await?;
            Ok(())
        })
    }

    fn set_budget<'a>(
        &'a self,
        campaign: &'a ExternalCampaign,
        daily_budget_minor: i64,
        _currency: &'a str,
    ) -> BoxFuture<'a, AppResult<()>> {
        Box::pin(async move {
            self.post(&campaign.campaign_id, &[("daily_budget", daily_budget_minor.to_string())]).await?;
            Ok(())
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
            let audience = match existing {
                Some(id) => id.to_string(),
                None => {
                    let created = self
                        .post(
                            &format!("{}/customaudiences", self.account()),
                            &[
                                ("name", name.to_string()),
                                ("subtype", "CUSTOM".into()),
                                ("description", "Uploaded by Corral from an approved audience snapshot".into()),
                                ("customer_file_source", "USER_PROVIDED_ONLY".into()),
                            ],
                        )
                        .await?;
                    Self::id_of(&created, "custom audience")?
                }
            };
            let (mut sent, mut received) = (0i64, 0i64);
            let batches = members.len().div_ceil(META_BATCH).max(1);
            let session_id = rand::random::<u32>() as u64;
            for (i, chunk) in members.chunks(META_BATCH).enumerate() {
                let data: Vec<Value> = chunk
                    .iter()
                    .map(|m| {
                        json!([
                            m.email.as_deref().map(sha256_hex).unwrap_or_default(),
                            m.phone.as_deref().map(|p| hashed_phone(Platform::Meta, p)).unwrap_or_default(),
                        ])
                    })
                    .collect();
                let payload = json!({ "schema": ["EMAIL_SHA256", "PHONE_SHA256"], "data": data });
                let session = json!({
                    "session_id": session_id,
                    "batch_seq": i + 1,
                    "last_batch_flag": i + 1 == batches,
                    "estimated_num_total": members.len(),
                });
                let answer =
                    self.post(&format!("{audience}/users"), &[("payload", payload.to_string()), ("session", session.to_string())]).await?;
                sent += chunk.len() as i64;
                received += int_of(&answer["num_received"]);
            }
            Ok(UploadedAudience { audience_id: audience, sent, received: Some(received) })
        })
    }

    fn daily_metrics<'a>(
        &'a self,
        campaign: &'a ExternalCampaign,
        from: NaiveDate,
        to: NaiveDate,
    ) -> BoxFuture<'a, AppResult<Vec<DayMetrics>>> {
        Box::pin(async move {
            let time_range = json!({ "since": from.format("%Y-%m-%d").to_string(), "until": to.format("%Y-%m-%d").to_string() });
            let request = self
                .0
                .client
                .get(self.url(&format!("{}/insights", campaign.campaign_id)))
                .bearer_auth(&self.0.credentials.access_token)
                .query(&[
                    ("fields", "spend,impressions,clicks,actions".to_string()),
                    ("time_increment", "1".into()),
                    ("time_range", time_range.to_string()),
                    ("limit", "100".into()),
                ]);
            let (_, answer) = send(Platform::Meta, request).await?;
            let mut days = Vec::new();
            for row in answer["data"].as_array().into_iter().flatten() {
                let Some(day) = row["date_start"].as_str().and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok()) else { continue };
                let conversions = row["actions"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter(|a| a["action_type"] == "lead")
                    .map(|a| int_of(&a["value"]))
                    .sum();
                days.push(DayMetrics {
                    day,
                    spend_minor: row["spend"].as_str().and_then(decimal_to_minor).unwrap_or(0),
                    impressions: int_of(&row["impressions"]),
                    clicks: int_of(&row["clicks"]),
                    conversions,
                });
            }
            Ok(days)
        })
    }
}
