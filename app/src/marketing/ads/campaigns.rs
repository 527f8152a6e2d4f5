//! Ad campaigns behind the approval gate.
//!
//! A campaign is written as a draft (platform, objective, budget, segment,
//! brand, schedule, creative variants), submitted, and approved by someone
//! who is not its author. Approving freezes the creatives, the budget, the
//! schedule and the audience snapshot; a launch re-checks the frozen terms
//! and hands the work to the ad worker, which creates the platform campaign
//! paused, uploads the audience and activates it. Any edit of what would
//! run — or a budget more than 50% over the approved one — makes a new
//! version that needs a new approval.

use chrono::{DateTime, NaiveDate, Utc};
use serde_json::{json, Value};
use uuid::Uuid;

use super::types::*;
use super::{accounts, audience, creatives, jobs};
use crate::error::{AppError, AppResult};
use crate::marketing::gate::{self, diff, digest};
use crate::marketing::senders::brand_row;
use crate::marketing::types::{ApprovalQueueItem, ApprovalRequest, ApprovalStatus, ApprovalSubject, Channel, NewCampaign, Rejection};
use crate::platform::audit;
use crate::platform::context::Ctx;
use crate::platform::db::{now, Tx, Q};
use crate::platform::pagination::PageRequest;
use crate::platform::types::{Page, Scope};
use crate::platform::validate::{in_range, required_text};

/// The most a campaign may spend a day: 1,000,000.00 in its currency.
pub const MAX_DAILY_BUDGET_MINOR: i64 = 100_000_000;
/// A raise up to this share of the approved budget keeps the approval.
pub const BUDGET_RAISE_WITHOUT_APPROVAL: f64 = 1.5;

#[derive(sqlx::FromRow)]
pub(super) struct AdCampaignRow {
    pub id: Uuid,
    pub workspace_id: Uuid,
    pub campaign_id: Uuid,
    pub ad_account_id: Uuid,
    #[sqlx(try_from = "String")]
    pub platform: Platform,
    pub name: String,
    #[sqlx(try_from = "String")]
    pub objective: AdObjective,
    pub daily_budget_minor: i64,
    pub currency: String,
    pub segment_id: Uuid,
    pub brand_id: Uuid,
    pub start_date: Option<NaiveDate>,
    pub end_date: Option<NaiveDate>,
    #[sqlx(try_from = "String")]
    pub status: AdCampaignStatus,
    pub version: i64,
    pub author_user_id: Option<Uuid>,
    pub author_api_key_id: Option<Uuid>,
    pub approved_version: Option<i64>,
    pub approved_digest: Option<String>,
    pub approved_content: Option<sqlx::types::Json<Value>>,
    pub approved_daily_budget_minor: Option<i64>,
    pub approved_by_user_id: Option<Uuid>,
    pub approved_by_api_key_id: Option<Uuid>,
    pub approved_at: Option<DateTime<Utc>>,
    pub audience_count: Option<i64>,
    pub external_campaign_id: Option<String>,
    pub external_budget_id: Option<String>,
    pub status_reason: Option<String>,
    pub launched_at: Option<DateTime<Utc>>,
    pub source: String,
    pub last_agent_actor_id: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

const COLUMNS: &str = "id, workspace_id, campaign_id, ad_account_id, platform, name, objective, daily_budget_minor, currency, segment_id, \
     brand_id, start_date, end_date, status, version, author_user_id, author_api_key_id, approved_version, approved_digest, \
     approved_content, approved_daily_budget_minor, approved_by_user_id, approved_by_api_key_id, approved_at, audience_count, \
     external_campaign_id, external_budget_id, status_reason, launched_at, source, last_agent_actor_id, created_at, updated_at";

impl AdCampaignRow {
    fn subject(&self) -> gate::Subject {
        gate::Subject {
            kind: ApprovalSubject::AdCampaign,
            id: self.id,
            version: self.version,
            author_user_id: self.author_user_id,
            author_api_key_id: self.author_api_key_id,
        }
    }

    /// Whether the current version carries an approval whose frozen terms
    /// are the current ones and whose budget covers the current budget.
    fn approval_holds(&self, current_terms: &Value) -> bool {
        let (Some(content), Some(stored)) = (self.approved_content.as_ref(), self.approved_digest.as_deref()) else { return false };
        self.approved_version == Some(self.version)
            && digest(&content.0) == stored
            && digest(&content.0["terms"]) == digest(current_terms)
            && self.approved_daily_budget_minor.is_some_and(|b| self.daily_budget_minor as f64 <= b as f64 * BUDGET_RAISE_WITHOUT_APPROVAL)
    }
}

pub(super) async fn find_row(tx: &mut Tx, workspace_id: Uuid, id: Uuid) -> AppResult<Option<AdCampaignRow>> {
    Ok(tx
        .fetch_optional(
            Q::new(format!("SELECT {COLUMNS} FROM ad_campaigns WHERE workspace_id = $1 AND id = $2")).bind(workspace_id).bind(id),
        )
        .await?)
}

async fn row(tx: &mut Tx, ctx: &Ctx, id: Uuid) -> AppResult<AdCampaignRow> {
    find_row(tx, ctx.workspace_id, id).await?.ok_or(AppError::NotFound("ad campaign"))
}

pub(super) async fn creatives_of(tx: &mut Tx, id: Uuid) -> AppResult<Vec<AdCreative>> {
    let rows: Vec<(String, String, String, String, Option<String>)> = tx
        .fetch_all(
            Q::new("SELECT headline, description, call_to_action, final_url, image_url FROM ad_creatives WHERE ad_campaign_id = $1 ORDER BY position")
                .bind(id),
        )
        .await?;
    Ok(rows
        .into_iter()
        .map(|(headline, description, cta, final_url, image_url)| AdCreative {
            headline,
            description,
            call_to_action: CallToAction::parse(&cta).unwrap_or(CallToAction::LearnMore),
            final_url,
            image_url,
        })
        .collect())
}

async fn audience_of(tx: &mut Tx, id: Uuid) -> AppResult<Option<AdAudience>> {
    #[derive(sqlx::FromRow)]
    struct AudienceRow {
        #[sqlx(try_from = "String")]
        platform: Platform,
        external_audience_id: Option<String>,
        #[sqlx(try_from = "String")]
        status: AudienceUploadStatus,
        member_count: i64,
        uploaded_count: i64,
        matched_count: Option<i64>,
        detail: Option<String>,
        updated_at: DateTime<Utc>,
    }
    let found: Option<AudienceRow> = tx
        .fetch_optional(
            Q::new(
                "SELECT platform, external_audience_id, status, member_count, uploaded_count, matched_count, detail, updated_at \
                 FROM ad_audiences WHERE ad_campaign_id = $1",
            )
            .bind(id),
        )
        .await?;
    Ok(found.map(|a| AdAudience {
        platform: a.platform,
        external_audience_id: a.external_audience_id,
        status: a.status,
        member_count: a.member_count,
        uploaded_count: a.uploaded_count,
        matched_count: a.matched_count,
        detail: a.detail,
        updated_at: a.updated_at,
    }))
}

/// The monthly equivalent of a daily budget, as the platforms bill it
/// (an average month of 30.4 days).
pub fn monthly(daily_minor: i64) -> i64 {
    (daily_minor as i128 * 304 / 10) as i64
}

pub(super) async fn to_campaign(tx: &mut Tx, r: &AdCampaignRow) -> AppResult<AdCampaign> {
    Ok(AdCampaign {
        id: r.id,
        workspace_id: r.workspace_id,
        campaign_id: r.campaign_id,
        ad_account_id: r.ad_account_id,
        platform: r.platform,
        name: r.name.clone(),
        objective: r.objective,
        daily_budget_minor: r.daily_budget_minor,
        currency: r.currency.clone(),
        monthly_budget_minor: monthly(r.daily_budget_minor),
        segment_id: r.segment_id,
        brand_id: r.brand_id,
        start_date: r.start_date,
        end_date: r.end_date,
        creatives: creatives_of(tx, r.id).await?,
        status: r.status,
        version: r.version,
        author_user_id: r.author_user_id,
        author_api_key_id: r.author_api_key_id,
        approved_version: r.approved_version,
        approved_daily_budget_minor: r.approved_daily_budget_minor,
        approved_by_user_id: r.approved_by_user_id,
        approved_by_api_key_id: r.approved_by_api_key_id,
        approved_at: r.approved_at,
        audience_count: r.audience_count,
        external_campaign_id: r.external_campaign_id.clone(),
        status_reason: r.status_reason.clone(),
        launched_at: r.launched_at,
        audience: audience_of(tx, r.id).await?,
        source: r.source.clone(),
        last_agent_actor_id: r.last_agent_actor_id,
        created_at: r.created_at,
        updated_at: r.updated_at,
    })
}

pub async fn get(tx: &mut Tx, ctx: &Ctx, id: Uuid) -> AppResult<AdCampaign> {
    ctx.require(Scope::MarketingRead)?;
    let r = row(tx, ctx, id).await?;
    to_campaign(tx, &r).await
}

pub async fn list(tx: &mut Tx, ctx: &Ctx, filter: AdCampaignFilter) -> AppResult<Page<AdCampaign>> {
    ctx.require(Scope::MarketingRead)?;
    let page = PageRequest::parse(filter.limit, filter.cursor.as_deref())?;
    let mut q = Q::new(format!("SELECT {COLUMNS} FROM ad_campaigns WHERE workspace_id = $1")).bind(ctx.workspace_id);
    if let Some(status) = filter.status {
        let p = q.arg(status.as_str());
        q.push(&format!(" AND status = {p}"));
    }
    if let Some(platform) = filter.platform {
        let p = q.arg(platform.as_str());
        q.push(&format!(" AND platform = {p}"));
    }
    if let Some(campaign) = filter.campaign_id {
        let p = q.arg(campaign);
        q.push(&format!(" AND campaign_id = {p}"));
    }
    page.apply(&mut q, "id");
    let rows: Vec<AdCampaignRow> = tx.fetch_all(q).await?;
    let mut items = Vec::with_capacity(rows.len());
    for r in &rows {
        items.push(to_campaign(tx, r).await?);
    }
    Ok(page.finish(items, |c| c.id, |c| c))
}

fn check_budget(field: &str, minor: i64) -> AppResult<i64> {
    in_range(field, minor, 100, MAX_DAILY_BUDGET_MINOR).map_err(|_| {
        AppError::validation(
            field,
            format!("a daily budget is between 1.00 and {} (minor units 100 to {MAX_DAILY_BUDGET_MINOR})", MAX_DAILY_BUDGET_MINOR / 100),
        )
    })
}

fn check_schedule(start: Option<NaiveDate>, end: Option<NaiveDate>) -> AppResult<()> {
    if let (Some(start), Some(end)) = (start, end) {
        if end < start {
            return Err(AppError::validation("end_date", "the end date is before the start date"));
        }
    }
    if let Some(end) = end {
        if end < Utc::now().date_naive() {
            return Err(AppError::validation("end_date", "the end date has passed"));
        }
    }
    Ok(())
}

async fn check_segment(tx: &mut Tx, ctx: &Ctx, segment_id: Uuid) -> AppResult<()> {
    crate::audience::lists::lead_members_query(tx, ctx, segment_id, "segment_id", "1").await?;
    Ok(())
}

async fn replace_creatives(tx: &mut Tx, ctx: &Ctx, id: Uuid, list: &[AdCreative]) -> AppResult<()> {
    tx.execute(Q::new("DELETE FROM ad_creatives WHERE ad_campaign_id = $1").bind(id)).await?;
    for (i, c) in list.iter().enumerate() {
        tx.execute(
            Q::new(
                "INSERT INTO ad_creatives (id, workspace_id, ad_campaign_id, position, headline, description, call_to_action, final_url, \
                 image_url) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
            )
            .bind(Uuid::now_v7())
            .bind(ctx.workspace_id)
            .bind(id)
            .bind(i as i64)
            .bind(c.headline.as_str())
            .bind(c.description.as_str())
            .bind(c.call_to_action.as_str())
            .bind(c.final_url.as_str())
            .bind(c.image_url.as_deref()),
        )
        .await?;
    }
    Ok(())
}

/// The brand and landing page new variants are written for (read before
/// the write's transaction, where a model may be asked).
pub async fn drafting_context(tx: &mut Tx, ctx: &Ctx, input: &NewAdCampaign) -> AppResult<(Platform, crate::marketing::types::Brand)> {
    let account = accounts::choose(tx, ctx, input.ad_account_id, input.platform).await?;
    let brand = brand_row(tx, ctx, input.brand_id).await.map_err(|_| AppError::validation("brand_id", "no such brand"))?;
    Ok((account.platform, brand))
}

/// Creates a draft ad campaign. `drafted` holds variants written before
/// the transaction when the input brought none.
pub async fn create(tx: &mut Tx, ctx: &Ctx, input: NewAdCampaign, drafted: Option<Vec<AdCreative>>) -> AppResult<AdCampaign> {
    ctx.require(Scope::MarketingWrite)?;
    let account = accounts::choose(tx, ctx, input.ad_account_id, input.platform).await?;
    let brand = brand_row(tx, ctx, input.brand_id).await.map_err(|_| AppError::validation("brand_id", "no such brand"))?;
    check_segment(tx, ctx, input.segment_id).await?;
    let budget = check_budget("daily_budget_minor", input.daily_budget_minor)?;
    check_schedule(input.start_date, input.end_date)?;
    let variants = match (input.creatives, drafted) {
        (Some(given), _) => given,
        (None, Some(drafted)) => drafted,
        (None, None) => {
            let url = input.final_url.as_deref().ok_or_else(|| {
                AppError::validation("creatives", "give creative variants, or a final_url to generate them from templates")
            })?;
            creatives::templates(account.platform, input.objective, &brand, url, 3)
        }
    };
    let variants = creatives::check(account.platform, &variants)?;
    let (segment_name, _) = crate::audience::lists::rules_version(tx, ctx, input.segment_id).await?;
    let name = match input.name {
        Some(name) => required_text("name", &name, 200)?,
        None => format!("{} · {} · {}", brand.name, segment_name, account.platform.label()),
    };
    let campaign_id = match input.campaign_id {
        Some(id) => {
            let campaign =
                crate::marketing::campaigns::get(tx, ctx, id).await.map_err(|_| AppError::validation("campaign_id", "no such campaign"))?;
            if campaign.channel != Channel::Ads {
                return Err(AppError::validation("campaign_id", "that campaign's channel is not ads"));
            }
            id
        }
        None => {
            crate::marketing::campaigns::create(
                tx,
                ctx,
                NewCampaign {
                    name: name.clone(),
                    channel: Some(Channel::Ads),
                    segment_id: Some(input.segment_id),
                    brand_id: Some(input.brand_id),
                    owner_id: None,
                },
            )
            .await?
            .id
        }
    };
    let id = Uuid::now_v7();
    let at = now();
    tx.execute(
        Q::new(
            "INSERT INTO ad_campaigns (id, workspace_id, campaign_id, ad_account_id, platform, name, objective, daily_budget_minor, currency, \
             segment_id, brand_id, start_date, end_date, status, version, author_user_id, author_api_key_id, source, last_agent_actor_id, \
             created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, 'draft', 1, $14, $15, $16, $17, $18, $18)",
        )
        .bind(id)
        .bind(ctx.workspace_id)
        .bind(campaign_id)
        .bind(account.id)
        .bind(account.platform.as_str())
        .bind(name)
        .bind(input.objective.as_str())
        .bind(budget)
        .bind(account.currency.as_str())
        .bind(input.segment_id)
        .bind(input.brand_id)
        .bind(input.start_date)
        .bind(input.end_date)
        .bind(ctx.user_id)
        .bind(ctx.api_key_id)
        .bind(ctx.record_source())
        .bind(ctx.api_key_id)
        .bind(at),
    )
    .await?;
    replace_creatives(tx, ctx, id, &variants).await?;
    let created = get(tx, ctx, id).await?;
    audit::record(tx, ctx, "ad_campaign.created", "ad_campaign", Some(id), None::<&()>, Some(&created)).await?;
    Ok(created)
}

/// Everything an approval covers apart from the budget (which has its own
/// rule): platform and account, objective, audience rules, brand,
/// schedule and creatives.
async fn terms(tx: &mut Tx, ctx: &Ctx, r: &AdCampaignRow) -> AppResult<Value> {
    let brand = brand_row(tx, ctx, r.brand_id).await?;
    let (segment_name, segment_version) = crate::audience::lists::rules_version(tx, ctx, r.segment_id).await?;
    Ok(json!({
        "version": r.version,
        "platform": r.platform,
        "ad_account_id": r.ad_account_id,
        "objective": r.objective,
        "currency": r.currency,
        "schedule": { "start_date": r.start_date, "end_date": r.end_date },
        "brand": { "id": brand.id, "name": brand.name },
        "segment": { "name": segment_name, "version": segment_version },
        "creatives": creatives_of(tx, r.id).await?,
    }))
}

async fn set_status(tx: &mut Tx, id: Uuid, status: AdCampaignStatus, reason: Option<&str>) -> AppResult<()> {
    tx.execute(
        Q::new("UPDATE ad_campaigns SET status = $1, status_reason = $2, updated_at = $3 WHERE id = $4")
            .bind(status.as_str())
            .bind(reason)
            .bind(now())
            .bind(id),
    )
    .await?;
    Ok(())
}

async fn audit_status(
    tx: &mut Tx,
    ctx: &Ctx,
    verb: &str,
    id: Uuid,
    before: AdCampaignStatus,
    after: AdCampaignStatus,
    extra: Value,
) -> AppResult<()> {
    audit::record(
        tx,
        ctx,
        &format!("ad_campaign.{verb}"),
        "ad_campaign",
        Some(id),
        Some(&json!({ "status": before })),
        Some(&json!({ "status": after, "detail": extra })),
    )
    .await
}

/// Edits a campaign. A change of what would run makes a new version and
/// voids the approval (the campaign is back to draft); a running campaign
/// only takes a new name or a budget within 150% of the approved one
/// (pushed to the platform).
pub async fn update(tx: &mut Tx, ctx: &Ctx, id: Uuid, patch: AdCampaignPatch) -> AppResult<AdCampaign> {
    ctx.require(Scope::MarketingWrite)?;
    let before = row(tx, ctx, id).await?;
    if matches!(before.status, AdCampaignStatus::Cancelled | AdCampaignStatus::Completed | AdCampaignStatus::Launching) {
        return Err(AppError::Conflict {
            code: "invalid_state",
            message: format!("a campaign that is {} cannot be edited", before.status.as_str()),
        });
    }
    let name = match &patch.name {
        Some(name) => required_text("name", name, 200)?,
        None => before.name.clone(),
    };
    let objective = patch.objective.unwrap_or(before.objective);
    let budget = match patch.daily_budget_minor {
        Some(b) => check_budget("daily_budget_minor", b)?,
        None => before.daily_budget_minor,
    };
    let segment_id = patch.segment_id.unwrap_or(before.segment_id);
    if segment_id != before.segment_id {
        check_segment(tx, ctx, segment_id).await?;
    }
    let brand_id = patch.brand_id.unwrap_or(before.brand_id);
    if brand_id != before.brand_id {
        brand_row(tx, ctx, brand_id).await.map_err(|_| AppError::validation("brand_id", "no such brand"))?;
    }
    let start_date = patch.start_date.unwrap_or(before.start_date);
    let end_date = patch.end_date.unwrap_or(before.end_date);
    check_schedule(start_date, end_date)?;
    let old_creatives = creatives_of(tx, id).await?;
    let new_creatives = match &patch.creatives {
        Some(list) => creatives::check(before.platform, list)?,
        None => old_creatives.clone(),
    };
    let material = objective != before.objective
        || segment_id != before.segment_id
        || brand_id != before.brand_id
        || start_date != before.start_date
        || end_date != before.end_date
        || new_creatives != old_creatives;
    let over_approved =
        before.approved_daily_budget_minor.is_none_or(|approved| budget as f64 > approved as f64 * BUDGET_RAISE_WITHOUT_APPROVAL);
    let budget_needs_approval = budget != before.daily_budget_minor && over_approved;
    if before.status == AdCampaignStatus::Active && (material || budget_needs_approval) {
        let what = if material {
            "its creatives, audience, brand, objective or schedule".to_string()
        } else {
            format!(
                "a daily budget more than 50% over the approved {}",
                crate::crm::deals::types::format_money(before.approved_daily_budget_minor.unwrap_or_default(), &before.currency)
            )
        };
        return Err(AppError::Conflict {
            code: "approval_required",
            message: format!("changing {what} needs a new approval: pause the campaign, edit it and submit it again"),
        });
    }
    let version = if material || budget_needs_approval { before.version + 1 } else { before.version };
    tx.execute(
        Q::new(
            "UPDATE ad_campaigns SET name = $1, objective = $2, daily_budget_minor = $3, segment_id = $4, brand_id = $5, start_date = $6, \
             end_date = $7, version = $8, updated_at = $9 WHERE id = $10",
        )
        .bind(name)
        .bind(objective.as_str())
        .bind(budget)
        .bind(segment_id)
        .bind(brand_id)
        .bind(start_date)
        .bind(end_date)
        .bind(version)
        .bind(now())
        .bind(id),
    )
    .await?;
    if new_creatives != old_creatives {
        replace_creatives(tx, ctx, id, &new_creatives).await?;
    }
    if version != before.version {
        let voids = matches!(
            before.status,
            AdCampaignStatus::PendingApproval | AdCampaignStatus::Approved | AdCampaignStatus::Paused | AdCampaignStatus::Failed
        );
        if voids || before.status == AdCampaignStatus::Rejected {
            let reason = if before.status == AdCampaignStatus::Rejected {
                format!("edited after it was rejected (now version {version}): submit it again")
            } else {
                format!(
                    "edited after {} (now version {version}): it needs a new approval",
                    if before.status == AdCampaignStatus::PendingApproval { "it was submitted" } else { "approval" }
                )
            };
            gate::void_pending(tx, ApprovalSubject::AdCampaign, id, &reason).await?;
            set_status(tx, id, AdCampaignStatus::Draft, Some(&reason)).await?;
            if voids && before.status != AdCampaignStatus::PendingApproval {
                audit_status(tx, ctx, "approval_voided", id, before.status, AdCampaignStatus::Draft, json!({ "reason": reason })).await?;
            }
        }
    } else if budget != before.daily_budget_minor && before.external_campaign_id.is_some() && before.status == AdCampaignStatus::Active {
        jobs::enqueue(tx, ctx.workspace_id, id, jobs::JobKind::SetBudget, json!({ "daily_budget_minor": budget })).await?;
    }
    let after = get(tx, ctx, id).await?;
    let before_view = AdCampaign { creatives: old_creatives, ..to_campaign(tx, &before).await? };
    audit::record(tx, ctx, "ad_campaign.updated", "ad_campaign", Some(id), Some(&before_view), Some(&after)).await?;
    Ok(after)
}

/// Puts a draft (or rejected, or failed) campaign in the approvers' queue.
pub async fn submit(tx: &mut Tx, ctx: &Ctx, id: Uuid) -> AppResult<ApprovalRequest> {
    gate::require_access(ctx)?;
    let r = row(tx, ctx, id).await?;
    match r.status {
        AdCampaignStatus::Draft | AdCampaignStatus::Rejected | AdCampaignStatus::Failed | AdCampaignStatus::PendingApproval => {}
        other => {
            return Err(AppError::Conflict {
                code: "invalid_state",
                message: format!("a campaign that is {} cannot be submitted for approval", other.as_str()),
            })
        }
    }
    let request = gate::open(tx, ctx, &r.subject()).await?;
    if r.status != AdCampaignStatus::PendingApproval {
        set_status(tx, id, AdCampaignStatus::PendingApproval, None).await?;
        let current = terms(tx, ctx, &r).await?;
        let changes = diff(r.approved_content.as_ref().map(|c| &c.0["terms"]), &current);
        audit_status(
            tx,
            ctx,
            "submitted",
            id,
            r.status,
            AdCampaignStatus::PendingApproval,
            json!({ "version": r.version, "changes_since_approval": changes }),
        )
        .await?;
    }
    Ok(request)
}

/// Approves when the caller may (see [`gate::may_decide`]); otherwise puts
/// the campaign in the approvers' queue and says so.
pub async fn approve(tx: &mut Tx, ctx: &Ctx, id: Uuid) -> AppResult<AdLaunchOutcome> {
    gate::require_access(ctx)?;
    let r = row(tx, ctx, id).await?;
    if !matches!(r.status, AdCampaignStatus::Draft | AdCampaignStatus::PendingApproval | AdCampaignStatus::Failed) {
        return Err(AppError::Conflict {
            code: "invalid_state",
            message: format!("a campaign that is {} cannot be approved", r.status.as_str()),
        });
    }
    if let Err(why) = gate::may_decide(ctx, &r.subject()) {
        let request = submit(tx, ctx, id).await?;
        return Ok(AdLaunchOutcome {
            status: AdCampaignStatus::PendingApproval,
            ad_campaign: get(tx, ctx, id).await?,
            approval_request: Some(request),
            message: format!("{why}. The campaign waits in the approvers' queue; nothing runs until an approver approves it."),
        });
    }
    let (count, ids_sha256) = audience::snapshot(tx, ctx, id, r.segment_id).await?;
    if count == 0 {
        return Err(AppError::validation("segment_id", "no one in the segment can be matched (no email or phone, or suppressed)"));
    }
    let current = terms(tx, ctx, &r).await?;
    let changes = diff(r.approved_content.as_ref().map(|c| &c.0["terms"]), &current);
    let content = json!({
        "terms": current,
        "daily_budget_minor": r.daily_budget_minor,
        "audience": { "count": count, "ids_sha256": ids_sha256 },
    });
    let stored = digest(&content);
    let at = now();
    tx.execute(
        Q::new(
            "UPDATE ad_campaigns SET status = 'approved', status_reason = NULL, approved_version = $1, approved_digest = $2, \
             approved_content = $3, approved_daily_budget_minor = $4, approved_by_user_id = $5, approved_by_api_key_id = $6, \
             approved_at = $7, audience_count = $8, updated_at = $7 WHERE id = $9",
        )
        .bind(r.version)
        .bind(stored.as_str())
        .bind(content)
        .bind(r.daily_budget_minor)
        .bind(ctx.user_id)
        .bind(ctx.api_key_id)
        .bind(at)
        .bind(count)
        .bind(id),
    )
    .await?;
    let decided = gate::decide(tx, ctx, &r.subject(), ApprovalStatus::Approved, None).await?;
    audit_status(
        tx,
        ctx,
        "approved",
        id,
        r.status,
        AdCampaignStatus::Approved,
        json!({ "version": r.version, "digest": stored, "audience_count": count, "daily_budget_minor": r.daily_budget_minor,
                "changes_since_approval": changes }),
    )
    .await?;
    Ok(AdLaunchOutcome {
        status: AdCampaignStatus::Approved,
        ad_campaign: get(tx, ctx, id).await?,
        approval_request: Some(decided),
        message: "approved: launch it to create the campaign on the platform (paused), upload the audience and activate it".into(),
    })
}

pub async fn reject(tx: &mut Tx, ctx: &Ctx, id: Uuid, input: Rejection) -> AppResult<AdCampaign> {
    gate::require_access(ctx)?;
    let reason = required_text("reason", &input.reason, 2000)?;
    let r = row(tx, ctx, id).await?;
    gate::may_decide(ctx, &r.subject()).map_err(AppError::Forbidden)?;
    if !matches!(r.status, AdCampaignStatus::Draft | AdCampaignStatus::PendingApproval) {
        return Err(AppError::Conflict {
            code: "invalid_state",
            message: format!("a campaign that is {} cannot be rejected", r.status.as_str()),
        });
    }
    gate::decide(tx, ctx, &r.subject(), ApprovalStatus::Rejected, Some(&reason)).await?;
    set_status(tx, id, AdCampaignStatus::Rejected, Some(&reason)).await?;
    audit_status(tx, ctx, "rejected", id, r.status, AdCampaignStatus::Rejected, json!({ "reason": reason, "version": r.version })).await?;
    get(tx, ctx, id).await
}

/// Launches an approved campaign: re-checks that the approval still covers
/// what would run, then queues the platform work. Without an approval the
/// campaign goes to the approvers' queue and the answer carries the request.
pub async fn launch(tx: &mut Tx, ctx: &Ctx, id: Uuid) -> AppResult<AdLaunchOutcome> {
    ctx.require(Scope::MarketingWrite)?;
    let r = row(tx, ctx, id).await?;
    let current = terms(tx, ctx, &r).await?;
    match r.status {
        AdCampaignStatus::Launching | AdCampaignStatus::Active => {
            return Ok(AdLaunchOutcome {
                status: r.status,
                ad_campaign: get(tx, ctx, id).await?,
                approval_request: None,
                message: format!("already {}", r.status.as_str()),
            })
        }
        AdCampaignStatus::Paused => {
            return Err(AppError::Conflict { code: "invalid_state", message: "the campaign is paused: resume it".into() })
        }
        AdCampaignStatus::Cancelled | AdCampaignStatus::Completed => {
            return Err(AppError::Conflict {
                code: "invalid_state",
                message: format!("a {} campaign cannot be launched", r.status.as_str()),
            })
        }
        AdCampaignStatus::Approved | AdCampaignStatus::Failed if r.approval_holds(&current) => {}
        _ => {
            let request = submit(tx, ctx, id).await?;
            return Ok(AdLaunchOutcome {
                status: AdCampaignStatus::PendingApproval,
                ad_campaign: get(tx, ctx, id).await?,
                approval_request: Some(request),
                message: "this campaign has no approval for its current version: it waits in the approvers' queue, and nothing is \
                          created on the platform until an approver approves it and it is launched"
                    .into(),
            });
        }
    }
    set_status(tx, id, AdCampaignStatus::Launching, None).await?;
    jobs::enqueue(tx, ctx.workspace_id, id, jobs::JobKind::Launch, json!({ "version": r.version })).await?;
    audit_status(tx, ctx, "launched", id, r.status, AdCampaignStatus::Launching, json!({ "version": r.version })).await?;
    Ok(AdLaunchOutcome {
        status: AdCampaignStatus::Launching,
        ad_campaign: get(tx, ctx, id).await?,
        approval_request: None,
        message: "launching: the campaign is created paused on the platform, the audience uploaded, then it is activated".into(),
    })
}

/// The seed's `launch_ad_campaign`: launches the campaign named by id, or
/// finds (or drafts and submits) the campaign those arguments describe.
pub async fn launch_described(
    tx: &mut Tx,
    ctx: &Ctx,
    input: LaunchAdCampaign,
    drafted: Option<Vec<AdCreative>>,
) -> AppResult<AdLaunchOutcome> {
    ctx.require(Scope::MarketingWrite)?;
    if let Some(id) = input.ad_campaign_id {
        return launch(tx, ctx, id).await;
    }
    let new = new_from_launch(&input)?;
    let account = accounts::choose(tx, ctx, new.ad_account_id, new.platform).await?;
    if account.currency != "USD" {
        return Err(AppError::validation(
            "daily_budget_usd",
            format!("the {} account bills in {}: create the campaign with daily_budget_minor", account.platform.label(), account.currency),
        ));
    }
    // The same description by the same caller, not yet running: that one.
    let existing: Option<(Uuid,)> = tx
        .fetch_optional(
            Q::new(
                "SELECT id FROM ad_campaigns WHERE workspace_id = $1 AND ad_account_id = $2 AND objective = $3 AND segment_id = $4 \
                 AND brand_id = $5 AND daily_budget_minor = $6 AND status IN ('draft', 'pending_approval', 'approved', 'failed') \
                 AND author_user_id IS NOT DISTINCT FROM $7 AND author_api_key_id IS NOT DISTINCT FROM $8 ORDER BY id DESC LIMIT 1",
            )
            .bind(ctx.workspace_id)
            .bind(account.id)
            .bind(new.objective.as_str())
            .bind(new.segment_id)
            .bind(new.brand_id)
            .bind(new.daily_budget_minor)
            .bind(ctx.user_id)
            .bind(ctx.api_key_id),
        )
        .await?;
    let id = match existing {
        Some((id,)) => id,
        None => create(tx, ctx, NewAdCampaign { ad_account_id: Some(account.id), ..new }, drafted).await?.id,
    };
    launch(tx, ctx, id).await
}

/// The new campaign `launch_ad_campaign`'s arguments describe.
pub fn new_from_launch(input: &LaunchAdCampaign) -> AppResult<NewAdCampaign> {
    let missing = |field: &str| AppError::validation(field, format!("{field} is required unless ad_campaign_id is given"));
    let usd = input.daily_budget_usd.ok_or_else(|| missing("daily_budget_usd"))?;
    if !usd.is_finite() || usd < 1.0 || usd > (MAX_DAILY_BUDGET_MINOR / 100) as f64 {
        return Err(AppError::validation(
            "daily_budget_usd",
            format!("a daily budget is between 1 and {} USD", MAX_DAILY_BUDGET_MINOR / 100),
        ));
    }
    Ok(NewAdCampaign {
        platform: Some(input.platform.ok_or_else(|| missing("platform"))?),
        ad_account_id: input.ad_account_id,
        objective: input.objective.ok_or_else(|| missing("objective"))?,
        segment_id: input.segment_id.ok_or_else(|| missing("segment_id"))?,
        brand_id: input.brand_id.ok_or_else(|| missing("brand_id"))?,
        daily_budget_minor: (usd * 100.0).round() as i64,
        ..NewAdCampaign::default()
    })
}

pub async fn pause(tx: &mut Tx, ctx: &Ctx, id: Uuid) -> AppResult<AdCampaign> {
    ctx.require(Scope::MarketingWrite)?;
    let r = row(tx, ctx, id).await?;
    if !matches!(r.status, AdCampaignStatus::Active | AdCampaignStatus::Launching) {
        return Err(AppError::Conflict {
            code: "invalid_state",
            message: format!("a campaign that is {} cannot be paused", r.status.as_str()),
        });
    }
    set_status(tx, id, AdCampaignStatus::Paused, None).await?;
    // A launch under way sees the pause and leaves the platform campaign paused.
    if r.status == AdCampaignStatus::Active {
        jobs::enqueue(tx, ctx.workspace_id, id, jobs::JobKind::SetStatus, json!({ "status": "paused" })).await?;
    }
    audit_status(tx, ctx, "paused", id, r.status, AdCampaignStatus::Paused, Value::Null).await?;
    get(tx, ctx, id).await
}

pub async fn resume(tx: &mut Tx, ctx: &Ctx, id: Uuid) -> AppResult<AdCampaign> {
    ctx.require(Scope::MarketingWrite)?;
    let r = row(tx, ctx, id).await?;
    if r.status != AdCampaignStatus::Paused {
        return Err(AppError::Conflict {
            code: "invalid_state",
            message: format!("a campaign that is {} cannot be resumed", r.status.as_str()),
        });
    }
    let current = terms(tx, ctx, &r).await?;
    if !r.approval_holds(&current) {
        return Err(AppError::Conflict { code: "not_approved", message: "this version has no approval; submit it for approval".into() });
    }
    let (to, job) = if r.launched_at.is_some() {
        (AdCampaignStatus::Active, (jobs::JobKind::SetStatus, json!({ "status": "active" })))
    } else {
        (AdCampaignStatus::Launching, (jobs::JobKind::Launch, json!({ "version": r.version })))
    };
    set_status(tx, id, to, None).await?;
    jobs::enqueue(tx, ctx.workspace_id, id, job.0, job.1).await?;
    audit_status(tx, ctx, "resumed", id, r.status, to, Value::Null).await?;
    get(tx, ctx, id).await
}

pub async fn cancel(tx: &mut Tx, ctx: &Ctx, id: Uuid) -> AppResult<AdCampaign> {
    ctx.require(Scope::MarketingWrite)?;
    let r = row(tx, ctx, id).await?;
    if matches!(r.status, AdCampaignStatus::Cancelled | AdCampaignStatus::Completed) {
        return Err(AppError::Conflict { code: "invalid_state", message: format!("the campaign is already {}", r.status.as_str()) });
    }
    set_status(tx, id, AdCampaignStatus::Cancelled, None).await?;
    gate::void_pending(tx, ApprovalSubject::AdCampaign, id, "cancelled").await?;
    if r.external_campaign_id.is_some() || r.status == AdCampaignStatus::Launching {
        jobs::enqueue(tx, ctx.workspace_id, id, jobs::JobKind::SetStatus, json!({ "status": "ended" })).await?;
    }
    audit_status(tx, ctx, "cancelled", id, r.status, AdCampaignStatus::Cancelled, Value::Null).await?;
    get(tx, ctx, id).await
}

/// Queues a sync of the last week's metrics now.
pub async fn sync_metrics(tx: &mut Tx, ctx: &Ctx, id: Uuid) -> AppResult<AdCampaign> {
    ctx.require(Scope::MarketingWrite)?;
    let r = row(tx, ctx, id).await?;
    if r.external_campaign_id.is_none() {
        return Err(AppError::Conflict { code: "invalid_state", message: "the campaign is not on the platform yet".into() });
    }
    jobs::enqueue(tx, ctx.workspace_id, id, jobs::JobKind::SyncMetrics, json!({ "days": 7 })).await?;
    get(tx, ctx, id).await
}

pub async fn metrics(tx: &mut Tx, ctx: &Ctx, id: Uuid) -> AppResult<AdMetrics> {
    ctx.require(Scope::MarketingRead)?;
    let r = row(tx, ctx, id).await?;
    let rows: Vec<(NaiveDate, i64, i64, i64, i64, DateTime<Utc>)> = tx
        .fetch_all(
            Q::new("SELECT day, spend_minor, impressions, clicks, conversions, synced_at FROM ad_metrics_daily WHERE ad_campaign_id = $1 ORDER BY day")
                .bind(id),
        )
        .await?;
    let last_synced_at = rows.iter().map(|r| r.5).max();
    let days: Vec<AdMetricsDay> = rows
        .into_iter()
        .map(|(day, spend_minor, impressions, clicks, conversions, _)| AdMetricsDay { day, spend_minor, impressions, clicks, conversions })
        .collect();
    Ok(AdMetrics {
        ad_campaign_id: id,
        currency: r.currency.clone(),
        spend_minor: days.iter().map(|d| d.spend_minor).sum(),
        impressions: days.iter().map(|d| d.impressions).sum(),
        clicks: days.iter().map(|d| d.clicks).sum(),
        conversions: days.iter().map(|d| d.conversions).sum(),
        days,
        last_synced_at,
    })
}

/// "Export for ads": the approved snapshot (or the segment now, before an
/// approval) hashed in the platform's upload format.
pub async fn export_audience(tx: &mut Tx, ctx: &Ctx, id: Uuid) -> AppResult<(String, String)> {
    ctx.require(Scope::MarketingRead)?;
    let r = row(tx, ctx, id).await?;
    let members = if r.approved_version.is_some() {
        audience::frozen_members(tx, id).await?
    } else {
        audience::current_members(tx, ctx, r.segment_id).await?
    };
    let name = format!("corral-{}-audience-{}.csv", r.platform.as_str(), r.id.simple());
    Ok((name, audience::export_csv(r.platform, &members)))
}

/// What an approver reviews.
pub async fn review(tx: &mut Tx, ctx: &Ctx, id: Uuid) -> AppResult<AdCampaignReview> {
    ctx.require(Scope::MarketingRead)?;
    let r = row(tx, ctx, id).await?;
    let campaign = to_campaign(tx, &r).await?;
    let account = accounts::get(tx, ctx, r.ad_account_id).await?;
    let brand = brand_row(tx, ctx, r.brand_id).await?;
    let (segment_name, _) = crate::audience::lists::rules_version(tx, ctx, r.segment_id).await?;
    let frozen = r.approved_version == Some(r.version);
    let audience_size = match (frozen, r.audience_count) {
        (true, Some(n)) => n,
        _ => audience::current_members(tx, ctx, r.segment_id).await?.len() as i64,
    };
    let current = terms(tx, ctx, &r).await?;
    let mut changes = diff(r.approved_content.as_ref().map(|c| &c.0["terms"]), &current);
    if let Some(approved) = r.approved_daily_budget_minor.filter(|b| *b != r.daily_budget_minor) {
        changes.push(crate::marketing::types::ContentChange {
            field: "daily_budget_minor".into(),
            before: json!(approved),
            after: json!(r.daily_budget_minor),
        });
    }
    let can_decide = gate::may_decide(ctx, &r.subject()).is_ok()
        && matches!(r.status, AdCampaignStatus::Draft | AdCampaignStatus::PendingApproval)
        && gate::require_access(ctx).is_ok();
    Ok(AdCampaignReview {
        previews: creatives::previews(r.platform, &brand, &campaign.creatives),
        ad_campaign: campaign,
        account_name: account.name,
        brand,
        segment_name,
        audience_size,
        changes_since_approval: changes,
        requests: gate::history(tx, ApprovalSubject::AdCampaign, id).await?,
        can_decide,
    })
}

/// One line of the approvers' queue for an ad campaign.
pub async fn queue_item(tx: &mut Tx, ctx: &Ctx, request: ApprovalRequest) -> AppResult<ApprovalQueueItem> {
    let r = row(tx, ctx, request.subject_id).await?;
    let (campaign_name,): (String,) = tx.fetch_one(Q::new("SELECT name FROM campaigns WHERE id = $1").bind(r.campaign_id)).await?;
    let author = gate::author_name(tx, r.author_user_id, r.author_api_key_id).await?;
    let audience_size = audience::current_members(tx, ctx, r.segment_id).await?.len() as i64;
    Ok(ApprovalQueueItem {
        subject_name: r.name.clone(),
        sequence_name: None,
        review_url: format!("/ads/{}", r.id),
        campaign_name,
        author,
        audience_size,
        first_send_at: Some(r.start_date.and_then(|d| d.and_hms_opt(0, 0, 0)).map(|d| d.and_utc()).unwrap_or_else(now)),
        summary: format!(
            "{} a day on {} ({} a month)",
            crate::crm::deals::types::format_money(r.daily_budget_minor, &r.currency),
            r.platform.label(),
            crate::crm::deals::types::format_money(monthly(r.daily_budget_minor), &r.currency)
        ),
        request,
    })
}

/// The recent platform work of a campaign, newest first.
pub async fn jobs_of(tx: &mut Tx, ctx: &Ctx, id: Uuid) -> AppResult<Vec<AdJob>> {
    ctx.require(Scope::MarketingRead)?;
    row(tx, ctx, id).await?;
    jobs::recent(tx, id).await
}
