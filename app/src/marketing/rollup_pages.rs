//! The rollups page: a date range, totals, the trend of leads, spend and
//! cash, the funnel, and every campaign and channel with its money — all
//! server-rendered SVG and tables.

use leptos::prelude::*;
use leptos_router::components::Form;
use leptos_router::hooks::use_query_map;

use super::server_fns::load_rollups;
use super::types::*;
use crate::api_error::ApiError;
use crate::components::{bar_chart, page_errors};
use crate::crm::deals::types::format_money;

fn money(list: &[MoneyTotal]) -> String {
    if list.is_empty() {
        return "–".into();
    }
    list.iter().map(|m| format_money(m.amount_cents, &m.currency)).collect::<Vec<_>>().join(" · ")
}

fn ratio(list: &[CurrencyRatio]) -> String {
    if list.is_empty() {
        return "–".into();
    }
    list.iter().map(|r| format!("{:.2}×", r.ratio)).collect::<Vec<_>>().join(" · ")
}

/// Leads per day as a line, spend and cash as bars, on one time axis.
fn trend_chart(trend: &[TrendDay], currency: &str) -> impl IntoView {
    let (width, height, left, bottom) = (640.0_f64, 180.0_f64, 8.0_f64, 20.0_f64);
    let n = trend.len().max(1) as f64;
    let step = (width - left * 2.0) / n;
    let max_money = trend.iter().map(|d| d.spend_minor.max(d.cash_minor)).max().unwrap_or(0).max(1) as f64;
    let max_leads = trend.iter().map(|d| d.leads).max().unwrap_or(0).max(1) as f64;
    let plot = height - bottom - 10.0;
    let points: Vec<String> = trend
        .iter()
        .enumerate()
        .map(|(i, d)| format!("{:.1},{:.1}", left + step * (i as f64 + 0.5), 10.0 + plot - d.leads as f64 / max_leads * plot))
        .collect();
    let first = trend.first().map(|d| d.day.to_string()).unwrap_or_default();
    let last = trend.last().map(|d| d.day.to_string()).unwrap_or_default();
    view! {
        <figure class="chart">
            <figcaption>{format!("Leads (line), spend and cash in {currency} (bars), per day")}</figcaption>
            <svg viewBox=format!("0 0 {width} {height}") width="100%" role="img" aria-label="Trend of leads, spend and cash">
                {trend.iter().enumerate().map(|(i, d)| {
                    let x = left + step * i as f64;
                    let bar = (step / 2.0 - 1.0).max(1.0);
                    let spend = d.spend_minor as f64 / max_money * plot;
                    let cash = d.cash_minor as f64 / max_money * plot;
                    view! {
                        <g>
                            <title>{format!("{}: {} leads, spend {}, cash {}", d.day, d.leads, format_money(d.spend_minor, currency), format_money(d.cash_minor, currency))}</title>
                            <rect x=format!("{x:.1}") y=format!("{:.1}", 10.0 + plot - spend) width=format!("{bar:.1}") height=format!("{spend:.1}") fill="#e07a2e"></rect>
                            <rect x=format!("{:.1}", x + bar + 1.0) y=format!("{:.1}", 10.0 + plot - cash) width=format!("{bar:.1}") height=format!("{cash:.1}") fill="#2e9e5b"></rect>
                        </g>
                    }
                }).collect_view()}
                <polyline points=points.join(" ") fill="none" stroke="#2456d6" stroke-width="2"></polyline>
                <text x=left y=height - 4.0 font-size="11" fill="#5e6b82">{first}</text>
                <text x=width - left y=height - 4.0 font-size="11" fill="#5e6b82" text-anchor="end">{last}</text>
            </svg>
            <p class="legend"><span class="swatch" style="background:#2456d6"></span>"Leads "<span class="swatch" style="background:#e07a2e"></span>"Spend "<span class="swatch" style="background:#2e9e5b"></span>"Cash"</p>
        </figure>
    }
}

#[component]
fn RollupTable(lines: Vec<RollupLine>, testid: &'static str) -> impl IntoView {
    view! {
        <div class="table-scroll">
            <table class="grid" data-testid=testid>
                <thead><tr>
                    <th>"Name"</th><th class="num">"Sends"</th><th class="num">"Replies"</th><th class="num">"Clicks"</th><th class="num">"Leads"</th>
                    <th class="num">"Conversions"</th><th class="num">"Deals won"</th><th class="num">"Booked"</th><th class="num">"Cash"</th>
                    <th class="num">"Spend"</th><th class="num">"CAC"</th><th class="num">"Return"</th>
                </tr></thead>
                <tbody>{lines.into_iter().map(|l| view! {
                    <tr>
                        <td>{match l.campaign_id { Some(id) => view! { <a href=format!("/marketing/campaigns/{id}")>{l.label.clone()}</a> }.into_any(), None => l.label.clone().into_any() }}</td>
                        <td class="num">{l.sends}</td><td class="num">{l.replies}</td><td class="num">{l.clicks}</td><td class="num">{l.leads}</td>
                        <td class="num">{l.conversions}</td><td class="num">{l.deals_won}</td><td class="num">{money(&l.revenue_booked)}</td>
                        <td class="num">{money(&l.cash_received)}</td><td class="num">{money(&l.spend)}</td><td class="num">{money(&l.cac)}</td>
                        <td class="num">{ratio(&l.return_on_spend)}</td>
                    </tr>
                }).collect_view()}</tbody>
            </table>
        </div>
    }
}

#[component]
pub fn RollupsPage() -> impl IntoView {
    let query = use_query_map();
    let rollups = Resource::new(move || (query.read().get("from"), query.read().get("to")), |(from, to)| load_rollups(from, to));
    view! {
        <ErrorBoundary fallback=page_errors>
            <div class="page-head"><h1>"Rollups"</h1><nav class="actions"><a href="/marketing/campaigns">"Campaigns"</a><a href="/ads">"Ads"</a></nav></div>
            <Transition fallback=|| view! { <p>"Loading…"</p> }>
                {move || Suspend::new(async move {
                    let r = rollups.await?;
                    let t = r.totals.clone();
                    let funnel = vec![
                        ("Sends".to_string(), t.sends as i128, t.sends.to_string()),
                        ("Clicks".to_string(), t.clicks as i128, t.clicks.to_string()),
                        ("Replies".to_string(), t.replies as i128, t.replies.to_string()),
                        ("Leads".to_string(), t.leads as i128, t.leads.to_string()),
                        ("Conversions".to_string(), t.conversions as i128, t.conversions.to_string()),
                        ("Deals won".to_string(), t.deals_won as i128, t.deals_won.to_string()),
                    ];
                    Ok::<_, ApiError>(view! {
                        <Form method="GET" action="/marketing/rollups" attr:class="inline-form">
                            <label>"From"<input type="date" name="from" value=r.from.to_string()/></label>
                            <label>"To"<input type="date" name="to" value=r.to.to_string()/></label>
                            <button type="submit">"Show"</button>
                        </Form>
                        <div class="cards" data-testid="rollup-totals">
                            <div class="card"><h3>"Leads"</h3><p>{t.leads}</p></div>
                            <div class="card"><h3>"Customers won"</h3><p>{t.customers_won}</p></div>
                            <div class="card"><h3>"Booked"</h3><p>{money(&t.revenue_booked)}</p></div>
                            <div class="card"><h3>"Cash received"</h3><p>{money(&t.cash_received)}</p></div>
                            <div class="card"><h3>"Ad spend"</h3><p>{money(&t.spend)}</p></div>
                            <div class="card"><h3>"CAC"</h3><p>{money(&t.cac)}</p></div>
                            <div class="card"><h3>"Return on spend"</h3><p>{ratio(&t.return_on_spend)}</p></div>
                        </div>
                        {trend_chart(&r.trend, &r.trend_currency)}
                        {bar_chart("Funnel", funnel)}
                        <h2>"By channel"</h2>
                        <RollupTable lines=r.channels.clone() testid="rollup-channels"/>
                        <h2>"By campaign"</h2>
                        <RollupTable lines=r.campaigns.clone() testid="rollup-campaigns"/>
                        <p class="hint">"Cash is what the ledger's cash account received for invoices of attributed leads and their deals; spend comes from the ad platforms' daily metrics."</p>
                    })
                })}
            </Transition>
        </ErrorBoundary>
    }
}
