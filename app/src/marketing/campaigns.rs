//! Campaigns tie a segment, a brand and an owner to what goes out (email
//! sequences now; ads and posts later), and roll up what it did — down to
//! deals won and cash received, from Corral's own pipeline and ledger.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::types::*;
use crate::error::{AppError, AppResult};
use crate::platform::audit;
use crate::platform::context::Ctx;
use crate::platform::db::{now, Tx, Q};
use crate::platform::pagination::PageRequest;
use crate::platform::types::{Page, Scope};
use crate::platform::validate::required_text;

#[derive(sqlx::FromRow)]
struct CampaignRow {
    id: Uuid,
    workspace_id: Uuid,
    name: String,
    #[sqlx(try_from = "String")]
    channel: Channel,
    #[sqlx(try_from = "String")]
    status: CampaignStatus,
    segment_id: Option<Uuid>,
    brand_id: Option<Uuid>,
    owner_id: Option<Uuid>,
    sequence_count: i64,
    source: String,
    last_agent_actor_id: Option<Uuid>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

const CAMPAIGN_COLUMNS: &str = "c.id, c.workspace_id, c.name, c.channel, c.status, c.segment_id, c.brand_id, c.owner_id, \
     (SELECT COUNT(*) FROM email_sequences s WHERE s.campaign_id = c.id) AS sequence_count, c.source, c.last_agent_actor_id, \
     c.created_at, c.updated_at";

impl From<CampaignRow> for Campaign {
    fn from(r: CampaignRow) -> Campaign {
        Campaign {
            id: r.id,
            workspace_id: r.workspace_id,
            name: r.name,
            channel: r.channel,
            status: r.status,
            segment_id: r.segment_id,
            brand_id: r.brand_id,
            owner_id: r.owner_id,
            sequence_count: r.sequence_count,
            source: r.source,
            last_agent_actor_id: r.last_agent_actor_id,
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}

async fn row(tx: &mut Tx, ctx: &Ctx, id: Uuid) -> AppResult<Campaign> {
    let row: Option<CampaignRow> = tx
        .fetch_optional(
            Q::new(format!("SELECT {CAMPAIGN_COLUMNS} FROM campaigns c WHERE c.workspace_id = $1 AND c.id = $2"))
                .bind(ctx.workspace_id)
                .bind(id),
        )
        .await?;
    row.map(Campaign::from).ok_or(AppError::NotFound("campaign"))
}

pub async fn get(tx: &mut Tx, ctx: &Ctx, id: Uuid) -> AppResult<Campaign> {
    ctx.require(Scope::MarketingRead)?;
    row(tx, ctx, id).await
}

pub async fn list(tx: &mut Tx, ctx: &Ctx, filter: CampaignFilter) -> AppResult<Page<Campaign>> {
    ctx.require(Scope::MarketingRead)?;
    let page = PageRequest::parse(filter.limit, filter.cursor.as_deref())?;
    let mut q = Q::new(format!("SELECT {CAMPAIGN_COLUMNS} FROM campaigns c WHERE c.workspace_id = $1")).bind(ctx.workspace_id);
    if let Some(channel) = filter.channel {
        let p = q.arg(channel.as_str());
        q.push(&format!(" AND c.channel = {p}"));
    }
    if let Some(status) = filter.status {
        let p = q.arg(status.as_str());
        q.push(&format!(" AND c.status = {p}"));
    }
    if let Some(segment_id) = filter.segment_id {
        let p = q.arg(segment_id);
        q.push(&format!(" AND c.segment_id = {p}"));
    }
    if let Some(from) = filter.created_from {
        let p = q.arg(from);
        q.push(&format!(" AND c.created_at >= {p}"));
    }
    if let Some(to) = filter.created_to {
        let p = q.arg(to);
        q.push(&format!(" AND c.created_at < {p}"));
    }
    page.apply(&mut q, "c.id");
    let rows: Vec<CampaignRow> = tx.fetch_all(q).await?;
    Ok(page.finish(rows, |r| r.id, Campaign::from))
}

async fn check_refs(tx: &mut Tx, ctx: &Ctx, segment_id: Option<Uuid>, brand_id: Option<Uuid>, owner_id: Option<Uuid>) -> AppResult<()> {
    if let Some(segment_id) = segment_id {
        crate::audience::lists::lead_members_query(tx, ctx, segment_id, "segment_id", "1").await?;
    }
    if let Some(brand_id) = brand_id {
        super::senders::brand_row(tx, ctx, brand_id).await.map_err(|_| AppError::validation("brand_id", "no such brand"))?;
    }
    if let Some(owner_id) = owner_id {
        let member: Option<(Uuid,)> = tx
            .fetch_optional(
                Q::new("SELECT user_id FROM memberships WHERE workspace_id = $1 AND user_id = $2").bind(ctx.workspace_id).bind(owner_id),
            )
            .await?;
        if member.is_none() {
            return Err(AppError::validation("owner_id", "the owner must be a member of the workspace"));
        }
    }
    Ok(())
}

pub async fn create(tx: &mut Tx, ctx: &Ctx, input: NewCampaign) -> AppResult<Campaign> {
    ctx.require(Scope::MarketingWrite)?;
    let name = required_text("name", &input.name, 200)?;
    let owner_id = input.owner_id.or(ctx.user_id);
    check_refs(tx, ctx, input.segment_id, input.brand_id, input.owner_id).await?;
    let id = Uuid::now_v7();
    let at = now();
    tx.execute(
        Q::new(
            "INSERT INTO campaigns (id, workspace_id, name, channel, status, segment_id, brand_id, owner_id, source, \
             last_agent_actor_id, created_at, updated_at) VALUES ($1, $2, $3, $4, 'draft', $5, $6, $7, $8, $9, $10, $10)",
        )
        .bind(id)
        .bind(ctx.workspace_id)
        .bind(name)
        .bind(input.channel.unwrap_or(Channel::Email).as_str())
        .bind(input.segment_id)
        .bind(input.brand_id)
        .bind(owner_id)
        .bind(ctx.record_source())
        .bind(ctx.api_key_id)
        .bind(at),
    )
    .await?;
    let campaign = row(tx, ctx, id).await?;
    audit::record(tx, ctx, "campaign.created", "campaign", Some(id), None::<&()>, Some(&campaign)).await?;
    Ok(campaign)
}

pub async fn update(tx: &mut Tx, ctx: &Ctx, id: Uuid, patch: CampaignPatch) -> AppResult<Campaign> {
    ctx.require(Scope::MarketingWrite)?;
    let before = row(tx, ctx, id).await?;
    let name = match patch.name {
        Some(name) => required_text("name", &name, 200)?,
        None => before.name.clone(),
    };
    let segment_id = patch.segment_id.unwrap_or(before.segment_id);
    let brand_id = patch.brand_id.unwrap_or(before.brand_id);
    let owner_id = patch.owner_id.unwrap_or(before.owner_id);
    check_refs(tx, ctx, segment_id, brand_id, owner_id).await?;
    tx.execute(
        Q::new(
            "UPDATE campaigns SET name = $1, status = $2, segment_id = $3, brand_id = $4, owner_id = $5, updated_at = $6 \
             WHERE workspace_id = $7 AND id = $8",
        )
        .bind(name)
        .bind(patch.status.unwrap_or(before.status).as_str())
        .bind(segment_id)
        .bind(brand_id)
        .bind(owner_id)
        .bind(now())
        .bind(ctx.workspace_id)
        .bind(id),
    )
    .await?;
    let after = row(tx, ctx, id).await?;
    audit::record(tx, ctx, "campaign.updated", "campaign", Some(id), Some(&before), Some(&after)).await?;
    Ok(after)
}

#[derive(sqlx::FromRow)]
struct CountRow {
    sequence_id: Uuid,
    step_index: i64,
    status: String,
    n: i64,
}

#[derive(sqlx::FromRow)]
struct EventCountRow {
    sequence_id: Uuid,
    step_index: i64,
    kind: String,
    n: i64,
}

/// Sends, deliveries, bounces, opens (unique), clicks (unique), replies
/// and unsubscribes per step; then conversions after the first send.
pub async fn rollup(tx: &mut Tx, ctx: &Ctx, campaign_id: Option<Uuid>, sequence_id: Option<Uuid>) -> AppResult<Rollup> {
    ctx.require(Scope::MarketingRead)?;
    let sequences: Vec<super::sequences::SequenceRow> = match (campaign_id, sequence_id) {
        (Some(campaign), _) => {
            row(tx, ctx, campaign).await?;
            tx.fetch_all(
                Q::new(format!(
                    "SELECT {} FROM email_sequences WHERE workspace_id = $1 AND campaign_id = $2 ORDER BY id",
                    super::sequences::SEQUENCE_COLUMNS
                ))
                .bind(ctx.workspace_id)
                .bind(campaign),
            )
            .await?
        }
        (None, Some(id)) => {
            vec![super::sequences::find_row(tx, ctx.workspace_id, id).await?.ok_or(AppError::NotFound("email sequence"))?]
        }
        (None, None) => return Err(AppError::validation("id", "a rollup is of a campaign or a sequence")),
    };
    let mut steps = Vec::new();
    let mut totals = StepCounts::default();
    let mut recipients = 0;
    let mut conversions = Conversions::default();
    for sequence in &sequences {
        let seq = sequence.to_sequence();
        recipients += seq.recipient_count.unwrap_or_default();
        let counts: Vec<CountRow> = tx
            .fetch_all(
                Q::new(
                    "SELECT sequence_id, step_index, status, COUNT(*) AS n FROM email_outbox WHERE sequence_id = $1 \
                     GROUP BY sequence_id, step_index, status",
                )
                .bind(seq.id),
            )
            .await?;
        let events: Vec<EventCountRow> = tx
            .fetch_all(
                Q::new(
                    "SELECT sequence_id, step_index, kind, COUNT(DISTINCT outbox_id) AS n FROM email_events \
                     WHERE sequence_id = $1 AND outbox_id IS NOT NULL GROUP BY sequence_id, step_index, kind",
                )
                .bind(seq.id),
            )
            .await?;
        for (i, step) in seq.steps.iter().enumerate() {
            let mut c = StepCounts::default();
            for row in counts.iter().filter(|r| r.step_index == i as i64 && r.sequence_id == seq.id) {
                match row.status.as_str() {
                    "queued" | "sending" => c.queued += row.n,
                    "sent" => c.sent += row.n,
                    "failed" => c.failed += row.n,
                    "unknown" => c.unknown += row.n,
                    "skipped" | "cancelled" => c.skipped += row.n,
                    _ => {}
                }
            }
            for row in events.iter().filter(|r| r.step_index == i as i64 && r.sequence_id == seq.id) {
                match row.kind.as_str() {
                    "delivered" => c.delivered += row.n,
                    "bounced" => c.bounced += row.n,
                    "opened" => c.opened += row.n,
                    "clicked" => c.clicked += row.n,
                    "replied" => c.replied += row.n,
                    "unsubscribed" => c.unsubscribed += row.n,
                    _ => {}
                }
            }
            add(&mut totals, &c);
            steps.push(StepRollup { sequence_id: seq.id, step_index: i as i64, subject: step.subject.clone(), counts: c });
        }
        if let Some(started) = seq.started_at {
            add_conversions(tx, ctx, seq.id, started, &mut conversions).await?;
        }
    }
    Ok(Rollup { campaign_id, sequence_id, recipients, totals, steps, conversions })
}

fn add(totals: &mut StepCounts, c: &StepCounts) {
    totals.queued += c.queued;
    totals.sent += c.sent;
    totals.delivered += c.delivered;
    totals.bounced += c.bounced;
    totals.opened += c.opened;
    totals.clicked += c.clicked;
    totals.replied += c.replied;
    totals.unsubscribed += c.unsubscribed;
    totals.skipped += c.skipped;
    totals.failed += c.failed;
    totals.unknown += c.unknown;
}

/// Adds an amount to the total of its currency (one total per currency).
pub(super) fn add_money(totals: &mut Vec<MoneyTotal>, currency: &str, amount: i64) {
    match totals.iter_mut().find(|t| t.currency == currency) {
        Some(t) => t.amount_cents = t.amount_cents.saturating_add(amount),
        None => totals.push(MoneyTotal { currency: currency.to_string(), amount_cents: amount }),
    }
}

/// Recipients converted after the first send, the deals won from those
/// conversions, and the invoices of those deals paid, with the cash.
async fn add_conversions(tx: &mut Tx, ctx: &Ctx, sequence_id: Uuid, started: DateTime<Utc>, out: &mut Conversions) -> AppResult<()> {
    let recipients = "SELECT r.lead_id FROM sequence_recipients r WHERE r.sequence_id = $2";
    let (converted,): (i64,) = tx
        .fetch_one(
            Q::new(format!(
                "SELECT COUNT(*) FROM leads WHERE workspace_id = $1 AND id IN ({recipients}) AND converted_at IS NOT NULL AND converted_at >= $3"
            ))
            .bind(ctx.workspace_id)
            .bind(sequence_id)
            .bind(started),
        )
        .await?;
    out.leads_converted += converted;
    let deals = format!(
        "SELECT d.id, d.currency, d.amount_cents FROM deals d JOIN deal_stages st ON st.id = d.stage_id \
         WHERE d.workspace_id = $1 AND st.kind = 'won' AND d.id IN \
         (SELECT converted_deal_id FROM leads WHERE workspace_id = $1 AND id IN ({recipients}) AND converted_at >= $3)"
    );
    let won: Vec<(Uuid, String, i64)> = tx.fetch_all(Q::new(deals.clone()).bind(ctx.workspace_id).bind(sequence_id).bind(started)).await?;
    out.deals_won += won.len() as i64;
    for (_, currency, amount) in won {
        add_money(&mut out.deals_won_amount, &currency, amount);
    }
    let paid: Vec<(String, i64)> = tx
        .fetch_all(
            Q::new(format!(
                "SELECT i.currency, i.paid_cents FROM invoices i WHERE i.workspace_id = $1 AND i.status = 'paid' \
                 AND i.deal_id IN (SELECT converted_deal_id FROM leads WHERE workspace_id = $1 AND id IN ({recipients}) AND converted_at >= $3)"
            ))
            .bind(ctx.workspace_id)
            .bind(sequence_id)
            .bind(started),
        )
        .await?;
    out.invoices_paid += paid.len() as i64;
    for (currency, amount) in paid {
        add_money(&mut out.cash_received, &currency, amount);
    }
    Ok(())
}
