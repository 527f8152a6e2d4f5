//! Google Ads API (REST): campaign budgets and campaigns through
//! `:mutate`, Customer Match through a CRM-based user list and an offline
//! user data job, metrics through GAQL `googleAds:search`.

use chrono::NaiveDate;
use serde_json::{json, Value};

use super::{int_of, send, AdPlatform, CampaignSpec, Connection, DayMetrics, ExternalCampaign, PlatformStatus, UploadedAudience};
use crate::error::{AppError, AppResult};
use crate::marketing::ads::audience::{hashed_phone, sha256_hex, Member, GOOGLE_BATCH};
use crate::marketing::ads::types::{AdObjective, Platform};
use crate::platform::BoxFuture;

pub const VERSION: &str = "v22";

pub struct Google(pub Connection);

impl Google {
    fn customer(&self) -> String {
        self.0.account_id.chars().filter(|c| c.is_ascii_digit()).collect()
    }

    fn url(&self, path: &str) -> String {
        format!("{}/{VERSION}/{path}", self.0.base_url)
    }

    async fn post(&self, path: &str, body: Value) -> AppResult<Value> {
        let c = &self.0.credentials;
        let mut request = self
            .0
            .client
            .post(self.url(path))
            .bearer_auth(&c.access_token)
            .header("developer-token", c.developer_token.as_deref().unwrap_or_default())
            .json(&body);
        if let Some(login) = c.login_customer_id.as_deref().filter(|l| !l.is_empty()) {
            request = request.header("login-customer-id", login.replace('-', ""));
        }
        Ok(send(Platform::Google, request).await?.1)
    }

    fn resource_name(answer: &Value, what: &str) -> AppResult<String> {
        answer["results"][0]["resourceName"]
            .as_str()
            .or_else(|| answer["resourceName"].as_str())
            .map(str::to_string)
            .ok_or_else(|| AppError::Upstream(format!("Google Ads did not answer with the new {what}'s resource name")))
    }
}

/// Micros of the currency: minor units (cents) × 10,000.
fn micros(minor: i64) -> String {
    (minor as i128 * 10_000).to_string()
}

impl AdPlatform for Google {
    fn create_paused_campaign<'a>(&'a self, spec: &'a CampaignSpec) -> BoxFuture<'a, AppResult<ExternalCampaign>> {
        Box::pin(async move {
            let customer = self.customer();
            let budget = self
                .post(
                    &format!("customers/{customer}/campaignBudgets:mutate"),
                    json!({ "operations": [{ "create": {
                        "name": format!("{} budget", spec.name),
                        "amountMicros": micros(spec.daily_budget_minor),
                        "deliveryMethod": "STANDARD",
                        "explicitlyShared": false,
                    }}]}),
                )
                .await?;
            let budget = Self::resource_name(&budget, "campaign budget")?;
            let (channel, bidding) = match spec.objective {
                AdObjective::Leads => ("SEARCH", ("maximizeConversions", json!({}))),
                AdObjective::Traffic => ("SEARCH", ("targetSpend", json!({}))),
                AdObjective::Awareness => ("DISPLAY", ("manualCpm", json!({}))),
            };
            let mut campaign = json!({
                "name": spec.name,
                "status": "PAUSED",
                "advertisingChannelType": channel,
                "campaignBudget": budget,
                "containsEuPoliticalAdvertising": "DOES_NOT_CONTAIN_EU_POLITICAL_ADVERTISING",
                bidding.0: bidding.1,
            });
            if channel == "SEARCH" {
                campaign["networkSettings"] =
                    json!({ "targetGoogleSearch": true, "targetSearchNetwork": true, "targetContentNetwork": false });
            }
            if let Some(start) = spec.start_date {
                campaign["startDate"] = json!(start.format("%Y-%m-%d").to_string());
            }
            if let Some(end) = spec.end_date {
                campaign["endDate"] = json!(end.format("%Y-%m-%d").to_string());
            }
            let created =
                self.post(&format!("customers/{customer}/campaigns:mutate"), json!({ "operations": [{ "create": campaign }] })).await?;
            Ok(ExternalCampaign { campaign_id: Self::resource_name(&created, "campaign")?, budget_id: Some(budget) })
        })
    }

    fn set_status<'a>(&'a self, campaign: &'a ExternalCampaign, status: PlatformStatus) -> BoxFuture<'a, AppResult<()>> {
        Box::pin(async move {
            let operation = match status {
                PlatformStatus::Ended => json!({ "remove": campaign.campaign_id }),
                PlatformStatus::Active | PlatformStatus::Paused => json!({
                    "update": { "resourceName": campaign.campaign_id, "status": if status == PlatformStatus::Active { "ENABLED" } else { "PAUSED" } },
                    "updateMask": "status",
                }),
            };
            self.post(&format!("customers/{}/campaigns:mutate", self.customer()), json!({ "operations": [operation] })).await?;
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
            let budget =
                campaign.budget_id.as_deref().ok_or_else(|| AppError::Upstream("the Google campaign's budget is not known".into()))?;
            self.post(
                &format!("customers/{}/campaignBudgets:mutate", self.customer()),
                json!({ "operations": [{ "update": { "resourceName": budget, "amountMicros": micros(daily_budget_minor) },
                                         "updateMask": "amount_micros" }] }),
            )
            .await?;
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
            let customer = self.customer();
            let user_list = match existing {
                Some(list) => list.to_string(),
                None => {
                    let created = self
                        .post(
                            &format!("customers/{customer}/userLists:mutate"),
                            json!({ "operations": [{ "create": {
                                "name": name,
                                "description": "Uploaded by Corral from an approved audience snapshot",
                                "membershipLifeSpan": 540,
                                "crmBasedUserList": { "uploadKeyType": "CONTACT_INFO", "dataSourceType": "FIRST_PARTY" },
                            }}]}),
                        )
                        .await?;
                    Self::resource_name(&created, "user list")?
                }
            };
            let job = self
                .post(
                    &format!("customers/{customer}/offlineUserDataJobs:create"),
                    json!({ "job": { "type": "CUSTOMER_MATCH_USER_LIST", "customerMatchUserListMetadata": { "userList": user_list } } }),
                )
                .await?;
            let job = Self::resource_name(&job, "offline user data job")?;
            let mut sent = 0i64;
            for chunk in members.chunks(GOOGLE_BATCH) {
                let operations: Vec<Value> = chunk
                    .iter()
                    .map(|m| {
                        let mut identifiers = Vec::new();
                        if let Some(email) = &m.email {
                            identifiers.push(json!({ "hashedEmail": sha256_hex(email) }));
                        }
                        if let Some(phone) = &m.phone {
                            identifiers.push(json!({ "hashedPhoneNumber": hashed_phone(Platform::Google, phone) }));
                        }
                        json!({ "create": { "userIdentifiers": identifiers } })
                    })
                    .collect();
                self.post(&format!("{job}:addOperations"), json!({ "enablePartialFailure": true, "operations": operations })).await?;
                sent += chunk.len() as i64;
            }
            self.post(&format!("{job}:run"), json!({})).await?;
            Ok(UploadedAudience { audience_id: user_list, sent, received: None })
        })
    }

    fn daily_metrics<'a>(
        &'a self,
        campaign: &'a ExternalCampaign,
        from: NaiveDate,
        to: NaiveDate,
    ) -> BoxFuture<'a, AppResult<Vec<DayMetrics>>> {
        Box::pin(async move {
            let query = format!(
                "SELECT segments.date, metrics.cost_micros, metrics.impressions, metrics.clicks, metrics.conversions FROM campaign \
                 WHERE campaign.resource_name = '{}' AND segments.date BETWEEN '{}' AND '{}'",
                campaign.campaign_id.replace('\'', ""),
                from.format("%Y-%m-%d"),
                to.format("%Y-%m-%d")
            );
            let mut days = Vec::new();
            let mut page_token: Option<String> = None;
            loop {
                let mut body = json!({ "query": query });
                if let Some(token) = &page_token {
                    body["pageToken"] = json!(token);
                }
                let answer = self.post(&format!("customers/{}/googleAds:search", self.customer()), body).await?;
                for row in answer["results"].as_array().into_iter().flatten() {
                    let Some(day) = row["segments"]["date"].as_str().and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok()) else {
                        continue;
                    };
                    days.push(DayMetrics {
                        day,
                        // Micros to cents, rounded.
                        spend_minor: (int_of(&row["metrics"]["costMicros"]) + 5_000) / 10_000,
                        impressions: int_of(&row["metrics"]["impressions"]),
                        clicks: int_of(&row["metrics"]["clicks"]),
                        conversions: int_of(&row["metrics"]["conversions"]),
                    });
                }
                match answer["nextPageToken"].as_str().filter(|t| !t.is_empty()) {
                    Some(token) if days.len() < 10_000 => page_token = Some(token.to_string()),
                    _ => break,
                }
            }
            Ok(days)
        })
    }
}
