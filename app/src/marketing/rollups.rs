//! Rollups per campaign, per channel and in total for a date range: what
//! went out (sends, deliveries, replies, clicks, impressions), what came
//! back (attributed leads, conversions, deals won, customers), the money
//! (invoices booked, cash received from the ledger, ad spend) and what it
//! cost (CAC = spend / customers won; return = cash / spend).

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::{Duration, NaiveDate, Utc};
use uuid::Uuid;

use super::campaigns::add_money;
use super::types::*;
use crate::error::{AppError, AppResult};
use crate::platform::context::Ctx;
use crate::platform::db::{Backend, Tx, Q};
use crate::platform::types::Scope;

/// The longest range one rollup covers.
pub const MAX_DAYS: i64 = 400;

fn merge(into: &mut RollupLine, line: &RollupLine) {
    into.sends += line.sends;
    into.deliveries += line.deliveries;
    into.replies += line.replies;
    into.clicks += line.clicks;
    into.impressions += line.impressions;
    into.leads += line.leads;
    into.conversions += line.conversions;
    into.deals_won += line.deals_won;
    into.customers_won += line.customers_won;
    for (from, to) in
        [(&line.revenue_booked, &mut into.revenue_booked), (&line.cash_received, &mut into.cash_received), (&line.spend, &mut into.spend)]
    {
        for m in from {
            add_money(to, &m.currency, m.amount_cents);
        }
    }
}

/// CAC and return on spend, from the line's own sums.
fn derive(line: &mut RollupLine) {
    line.cac = if line.customers_won > 0 {
        line.spend.iter().map(|s| MoneyTotal { currency: s.currency.clone(), amount_cents: s.amount_cents / line.customers_won }).collect()
    } else {
        Vec::new()
    };
    line.return_on_spend = line
        .spend
        .iter()
        .filter(|s| s.amount_cents > 0)
        .map(|s| {
            let cash = line.cash_received.iter().find(|c| c.currency == s.currency).map(|c| c.amount_cents).unwrap_or(0);
            CurrencyRatio { currency: s.currency.clone(), ratio: (cash as f64 / s.amount_cents as f64 * 100.0).round() / 100.0 }
        })
        .collect();
    for list in [&mut line.revenue_booked, &mut line.cash_received, &mut line.spend, &mut line.cac] {
        list.sort_by(|a, b| a.currency.cmp(&b.currency));
    }
}

/// A timestamp column's UTC day as `YYYY-MM-DD` text, on either backend.
fn day_of(backend: Backend, column: &str) -> String {
    match backend {
        Backend::Sqlite => format!("substr({column}, 1, 10)"),
        Backend::Postgres => format!("to_char({column} AT TIME ZONE 'UTC', 'YYYY-MM-DD')"),
    }
}

/// Invoices (with the campaign of the lead they come from) attributed to
/// a campaign: issued to an attributed lead, or for the deal it converted
/// into or that names it.
const ATTRIBUTED_INVOICES: &str = "SELECT DISTINCT l.campaign_id AS campaign_id, i.id AS invoice_id FROM invoices i JOIN leads l \
     ON l.workspace_id = i.workspace_id AND (i.lead_id = l.id OR (i.deal_id IS NOT NULL AND (i.deal_id = l.converted_deal_id \
     OR i.deal_id IN (SELECT d.id FROM deals d WHERE d.lead_id = l.id)))) WHERE i.workspace_id = $1 AND l.campaign_id IS NOT NULL";

pub async fn rollups(tx: &mut Tx, ctx: &Ctx, query: RollupQuery) -> AppResult<Rollups> {
    ctx.require(Scope::MarketingRead)?;
    let to = query.to.unwrap_or_else(|| Utc::now().date_naive());
    let from = query.from.unwrap_or(to - Duration::days(29));
    if from > to {
        return Err(AppError::validation("from", "from is after to"));
    }
    if (to - from).num_days() >= MAX_DAYS {
        return Err(AppError::validation("from", format!("a rollup covers at most {MAX_DAYS} days")));
    }
    let start = from.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc();
    let end = (to + Duration::days(1)).and_hms_opt(0, 0, 0).unwrap_or_default().and_utc();
    let ws = ctx.workspace_id;
    let backend = tx.backend();

    let campaigns: Vec<(Uuid, String, String)> =
        tx.fetch_all(Q::new("SELECT id, name, channel FROM campaigns WHERE workspace_id = $1 ORDER BY id").bind(ws)).await?;
    let mut lines: BTreeMap<Uuid, RollupLine> = campaigns
        .iter()
        .map(|(id, name, channel)| {
            (*id, RollupLine { campaign_id: Some(*id), label: name.clone(), channel: Channel::parse(channel), ..Default::default() })
        })
        .collect();
    let mut trend: BTreeMap<NaiveDate, TrendDay> = BTreeMap::new();
    let mut day = from;
    while day <= to {
        trend.insert(day, TrendDay { day, leads: 0, sends: 0, spend_minor: 0, cash_minor: 0 });
        day += Duration::days(1);
    }
    let keep = |id: &Uuid, lines: &BTreeMap<Uuid, RollupLine>| {
        query.campaign_id.is_none_or(|c| c == *id) && query.channel.is_none_or(|ch| lines.get(id).is_some_and(|l| l.channel == Some(ch)))
    };
    let parse_day = |text: &str| NaiveDate::parse_from_str(text, "%Y-%m-%d").ok();

    // Email: sends, per day too.
    let sends: Vec<(Uuid, String, i64)> = tx
        .fetch_all(
            Q::new(format!(
                "SELECT s.campaign_id, {} AS day, COUNT(*) FROM email_outbox o JOIN email_sequences s ON s.id = o.sequence_id \
                 WHERE o.workspace_id = $1 AND o.status = 'sent' AND o.sent_at >= $2 AND o.sent_at < $3 GROUP BY s.campaign_id, {}",
                day_of(backend, "o.sent_at"),
                day_of(backend, "o.sent_at")
            ))
            .bind(ws)
            .bind(start)
            .bind(end),
        )
        .await?;
    let mut trend_sends: Vec<(Uuid, NaiveDate, i64)> = Vec::new();
    for (campaign, day, n) in sends {
        if let Some(line) = lines.get_mut(&campaign) {
            line.sends += n;
        }
        if let Some(d) = parse_day(&day) {
            trend_sends.push((campaign, d, n));
        }
    }
    let events: Vec<(Uuid, String, i64)> = tx
        .fetch_all(
            Q::new(
                "SELECT s.campaign_id, e.kind, COUNT(DISTINCT e.outbox_id) FROM email_events e JOIN email_sequences s ON s.id = e.sequence_id \
                 WHERE e.workspace_id = $1 AND e.created_at >= $2 AND e.created_at < $3 AND e.kind IN ('delivered', 'replied', 'clicked') \
                 GROUP BY s.campaign_id, e.kind",
            )
            .bind(ws)
            .bind(start)
            .bind(end),
        )
        .await?;
    for (campaign, kind, n) in events {
        if let Some(line) = lines.get_mut(&campaign) {
            match kind.as_str() {
                "delivered" => line.deliveries += n,
                "replied" => line.replies += n,
                _ => line.clicks += n,
            }
        }
    }

    // Ads: spend, clicks and impressions from the synced metrics.
    let ads: Vec<(Uuid, String, NaiveDate, i64, i64, i64)> = tx
        .fetch_all(
            Q::new(
                "SELECT a.campaign_id, a.currency, m.day, m.spend_minor, m.clicks, m.impressions FROM ad_metrics_daily m \
                 JOIN ad_campaigns a ON a.id = m.ad_campaign_id WHERE m.workspace_id = $1 AND m.day >= $2 AND m.day <= $3",
            )
            .bind(ws)
            .bind(from)
            .bind(to),
        )
        .await?;

    // Attributed leads and conversions.
    let leads: Vec<(Uuid, String)> = tx
        .fetch_all(
            Q::new(format!(
                "SELECT campaign_id, {} FROM leads WHERE workspace_id = $1 AND campaign_id IS NOT NULL AND created_at >= $2 AND created_at < $3",
                day_of(backend, "created_at")
            ))
            .bind(ws)
            .bind(start)
            .bind(end),
        )
        .await?;
    let converted: Vec<(Uuid, i64)> = tx
        .fetch_all(
            Q::new(
                "SELECT campaign_id, COUNT(*) FROM leads WHERE workspace_id = $1 AND campaign_id IS NOT NULL AND converted_at >= $2 \
                 AND converted_at < $3 GROUP BY campaign_id",
            )
            .bind(ws)
            .bind(start)
            .bind(end),
        )
        .await?;
    for (campaign, n) in converted {
        if let Some(line) = lines.get_mut(&campaign) {
            line.conversions += n;
        }
    }

    // Deals won from attributed leads, and their customers.
    let won: Vec<(Uuid, Uuid, Option<Uuid>, Option<Uuid>)> = tx
        .fetch_all(
            Q::new(
                "SELECT DISTINCT l.campaign_id, d.id, d.contact_id, d.company_id FROM deals d JOIN deal_stages st ON st.id = d.stage_id \
                 JOIN leads l ON l.workspace_id = d.workspace_id AND (l.converted_deal_id = d.id OR d.lead_id = l.id) \
                 WHERE d.workspace_id = $1 AND st.kind = 'won' AND l.campaign_id IS NOT NULL AND d.closed_at >= $2 AND d.closed_at < $3",
            )
            .bind(ws)
            .bind(start)
            .bind(end),
        )
        .await?;
    let mut customers: HashMap<Uuid, HashSet<Uuid>> = HashMap::new();
    let mut deals: HashMap<Uuid, HashSet<Uuid>> = HashMap::new();
    for (campaign, deal, contact, company) in won {
        deals.entry(campaign).or_default().insert(deal);
        customers.entry(campaign).or_default().insert(contact.or(company).unwrap_or(deal));
    }

    // Invoices issued in the range for attributed leads and deals.
    let booked: Vec<(Uuid, String, i64)> = tx
        .fetch_all(
            Q::new(format!(
                "SELECT a.campaign_id, i.currency, i.total_cents FROM ({ATTRIBUTED_INVOICES}) a JOIN invoices i ON i.id = a.invoice_id \
                 WHERE i.status NOT IN ('draft', 'void') AND i.issue_date >= $2 AND i.issue_date <= $3"
            ))
            .bind(ws)
            .bind(from)
            .bind(to),
        )
        .await?;
    // Cash: the cash account's postings (payments and their reversals) for those invoices.
    let cash: Vec<(Uuid, String, NaiveDate, i64)> = tx
        .fetch_all(
            Q::new(format!(
                "SELECT a.campaign_id, e.currency, e.entry_date, l.debit_cents - l.credit_cents FROM journal_entries e \
                 JOIN journal_lines l ON l.entry_id = e.id JOIN ledger_accounts acc ON acc.id = l.account_id AND acc.system_role = 'cash' \
                 LEFT JOIN journal_entries o ON o.id = e.reverses_entry_id \
                 JOIN payments p ON p.id = COALESCE(e.payment_id, o.payment_id) \
                 JOIN ({ATTRIBUTED_INVOICES}) a ON a.invoice_id = p.invoice_id \
                 WHERE e.workspace_id = $1 AND e.status = 'posted' AND e.entry_date >= $2 AND e.entry_date <= $3"
            ))
            .bind(ws)
            .bind(from)
            .bind(to),
        )
        .await?;

    let mut currency_use: HashMap<String, i64> = HashMap::new();
    for (campaign, currency, day, spend, clicks, impressions) in &ads {
        if let Some(line) = lines.get_mut(campaign) {
            add_money(&mut line.spend, currency, *spend);
            line.clicks += clicks;
            line.impressions += impressions;
        }
        *currency_use.entry(currency.clone()).or_default() += spend;
        let _ = day;
    }
    for (campaign, currency, total) in &booked {
        if let Some(line) = lines.get_mut(campaign) {
            add_money(&mut line.revenue_booked, currency, *total);
        }
        *currency_use.entry(currency.clone()).or_default() += total;
    }
    for (campaign, currency, _, amount) in &cash {
        if let Some(line) = lines.get_mut(campaign) {
            add_money(&mut line.cash_received, currency, *amount);
        }
    }
    for (campaign, _) in &leads {
        if let Some(line) = lines.get_mut(campaign) {
            line.leads += 1;
        }
    }
    for (campaign, line) in lines.iter_mut() {
        line.deals_won = deals.get(campaign).map(|d| d.len() as i64).unwrap_or(0);
        line.customers_won = customers.get(campaign).map(|c| c.len() as i64).unwrap_or(0);
    }

    // The trend, over the kept campaigns, in the most used currency.
    let trend_currency =
        currency_use.into_iter().max_by_key(|(c, n)| (*n, std::cmp::Reverse(c.clone()))).map(|(c, _)| c).unwrap_or_else(|| "USD".into());
    for (campaign, day) in &leads {
        if let (true, Some(d)) = (keep(campaign, &lines), parse_day(day)) {
            if let Some(t) = trend.get_mut(&d) {
                t.leads += 1;
            }
        }
    }
    for (campaign, d, n) in &trend_sends {
        if keep(campaign, &lines) {
            if let Some(t) = trend.get_mut(d) {
                t.sends += n;
            }
        }
    }
    for (campaign, currency, d, spend, _, _) in &ads {
        if keep(campaign, &lines) && *currency == trend_currency {
            if let Some(t) = trend.get_mut(d) {
                t.spend_minor += spend;
            }
        }
    }
    for (campaign, currency, d, amount) in &cash {
        if keep(campaign, &lines) && *currency == trend_currency {
            if let Some(t) = trend.get_mut(d) {
                t.cash_minor += amount;
            }
        }
    }

    let kept: Vec<RollupLine> = lines.iter().filter(|(id, _)| keep(id, &lines)).map(|(_, l)| l.clone()).collect();
    let mut totals = RollupLine { label: "All campaigns".into(), ..Default::default() };
    let mut channels: Vec<RollupLine> = Vec::new();
    for line in &kept {
        merge(&mut totals, line);
        let channel = line.channel;
        match channels.iter_mut().find(|c| c.channel == channel) {
            Some(c) => merge(c, line),
            None => {
                let mut c =
                    RollupLine { channel, label: channel.map(|c| c.as_str().to_string()).unwrap_or_default(), ..Default::default() };
                merge(&mut c, line);
                channels.push(c);
            }
        }
    }
    derive(&mut totals);
    for c in channels.iter_mut() {
        derive(c);
    }
    channels.sort_by(|a, b| a.label.cmp(&b.label));
    let mut campaigns: Vec<RollupLine> = kept
        .into_iter()
        .map(|mut l| {
            derive(&mut l);
            l
        })
        .collect();
    campaigns.sort_by(|a, b| b.leads.cmp(&a.leads).then(a.label.cmp(&b.label)));
    Ok(Rollups { from, to, totals, channels, campaigns, trend: trend.into_values().collect(), trend_currency })
}
