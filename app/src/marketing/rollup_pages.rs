//! The rollups page: a date range, totals, the trend of leads, spend and
//! cash, the funnel, and every campaign and channel with its money — all
//! server-rendered SVG and tables.

use leptos::prelude::*;
use leptos_router::components::Form;
use leptos_router::hooks::use_query_map;

use super::server_fns::load_rollups;
use super::types::*;
use crate::api_error::ApiError;
use crate::components::{page_errors, Bar, Chart, ChartKind, ChartSpec, Series, Unit};
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

/// Spend and cash per day as columns, leads as a line on its own axis.
fn trend_chart(trend: &[TrendDay], currency: &str) -> impl IntoView {
    let spec = ChartSpec {
        title: format!("Spend and cash in {currency} (columns), leads (line), per day"),
        unit: Unit::Money(currency.to_string()),
        kind: ChartKind::Columns {
            x_labels: trend.iter().map(|d| d.day.format("%m-%d").to_string()).collect(),
            series: vec![
                Series { name: "Spend".into(), color: "#c2410c", values: trend.iter().map(|d| d.spend_minor as i128).collect() },
                Series { name: "Cash".into(), color: "#15803d", values: trend.iter().map(|d| d.cash_minor as i128).collect() },
            ],
            line: Some((
                Series { name: "Leads".into(), color: "#2456d6", values: trend.iter().map(|d| d.leads as i128).collect() },
                Unit::Count,
            )),
        },
    };
    view! { <Chart spec/> }
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
                    let funnel = Bar::counts([
                        ("Sends", t.sends),
                        ("Clicks", t.clicks),
                        ("Replies", t.replies),
                        ("Leads", t.leads),
                        ("Conversions", t.conversions),
                        ("Deals won", t.deals_won),
                    ]);
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
                        <Chart spec=ChartSpec::bars("Funnel", Unit::Count, funnel)/>
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
