//! Dashboard aggregates, computed in SQL, drawn as server-rendered SVG.

use crate::api_error::ApiError;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct Count {
    pub label: String,
    pub count: i64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct StageValue {
    pub stage_id: Uuid,
    pub stage_name: String,
    pub currency: String,
    pub deals: i64,
    /// Sums over any number of deals: wider than one amount.
    pub amount_cents: i128,
    /// Amount times the stage's probability.
    pub weighted_cents: i128,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct Dashboard {
    pub leads_by_status: Vec<Count>,
    pub leads_by_source: Vec<Count>,
    /// Monday of each week (YYYY-MM-DD) with the leads created that week,
    /// for the last 12 weeks that had any.
    pub new_leads_per_week: Vec<Count>,
    pub open_pipeline: Vec<StageValue>,
    pub won_deals: i64,
    pub lost_deals: i64,
    /// Won ÷ (won + lost), in percent; `None` before any deal closed.
    pub win_rate_percent: Option<f64>,
    pub activities_per_user: Vec<Count>,
}

#[cfg(feature = "ssr")]
pub mod ssr {
    use super::*;
    use crate::error::AppResult;
    use crate::platform::context::Ctx;
    use crate::platform::db::{now, wide, wide_sum, wide_sum_of, Tx, Q};
    use crate::platform::types::Scope;

    async fn counts(tx: &mut Tx, q: Q) -> AppResult<Vec<Count>> {
        let rows: Vec<(String, i64)> = tx.fetch_all(q).await?;
        Ok(rows.into_iter().map(|(label, count)| Count { label, count }).collect())
    }

    /// One open stage's deals in one currency, summed in two parts.
    #[derive(sqlx::FromRow)]
    struct StageSum {
        stage_id: Uuid,
        stage_name: String,
        currency: String,
        deals: i64,
        amount_hi: i64,
        amount_lo: i64,
        weighted_hi: i64,
        weighted_lo: i64,
    }

    pub async fn dashboard(tx: &mut Tx, ctx: &Ctx) -> AppResult<Dashboard> {
        ctx.require(Scope::CrmRead)?;
        let ws = ctx.workspace_id;
        let leads_by_status = counts(
            tx,
            Q::new("SELECT status, COUNT(*) FROM leads WHERE workspace_id = $1 GROUP BY status ORDER BY COUNT(*) DESC, status").bind(ws),
        )
        .await?;
        let leads_by_source = counts(
            tx,
            Q::new("SELECT source, COUNT(*) FROM leads WHERE workspace_id = $1 GROUP BY source ORDER BY COUNT(*) DESC, source").bind(ws),
        )
        .await?;
        // Weeks start on Monday, in UTC.
        let week = tx.backend().week_start("created_at");
        let since = now() - chrono::Duration::weeks(12);
        let new_leads_per_week = counts(
            tx,
            Q::new(format!(
                "SELECT {week} AS week, COUNT(*) FROM leads WHERE workspace_id = $1 AND created_at >= $2 GROUP BY week ORDER BY week"
            ))
            .bind(ws)
            .bind(since),
        )
        .await?;
        let pipeline: Vec<StageSum> = tx
            .fetch_all(
                Q::new(format!(
                    "SELECT s.id AS stage_id, s.name AS stage_name, d.currency, COUNT(*) AS deals, {}, {} \
                     FROM deals d JOIN deal_stages s ON s.id = d.stage_id \
                     WHERE d.workspace_id = $1 AND s.kind = 'open' \
                     GROUP BY s.id, s.name, s.position, d.currency ORDER BY s.position, d.currency",
                    wide_sum("d.amount_cents", "amount"),
                    wide_sum_of("d.amount_cents", Some("s.probability"), None, "weighted"),
                ))
                .bind(ws),
            )
            .await?;
        let open_pipeline = pipeline
            .into_iter()
            .map(|row| StageValue {
                stage_id: row.stage_id,
                stage_name: row.stage_name,
                currency: row.currency,
                deals: row.deals,
                amount_cents: wide(row.amount_hi, row.amount_lo),
                weighted_cents: wide(row.weighted_hi, row.weighted_lo) / 100,
            })
            .collect();
        let closed: Vec<(String, i64)> = tx
            .fetch_all(
                Q::new(
                    "SELECT s.kind, COUNT(*) FROM deals d JOIN deal_stages s ON s.id = d.stage_id \
                     WHERE d.workspace_id = $1 AND s.kind IN ('won', 'lost') GROUP BY s.kind",
                )
                .bind(ws),
            )
            .await?;
        let of_kind = |kind: &str| closed.iter().find(|(k, _)| k == kind).map(|(_, n)| *n).unwrap_or(0);
        let (won_deals, lost_deals) = (of_kind("won"), of_kind("lost"));
        let win_rate_percent = (won_deals + lost_deals > 0).then(|| (won_deals as f64) * 100.0 / ((won_deals + lost_deals) as f64));
        let activities_per_user = counts(
            tx,
            Q::new(
                "SELECT COALESCE(u.name, 'API'), COUNT(*) FROM activities a LEFT JOIN users u ON u.id = a.actor_user_id \
                 WHERE a.workspace_id = $1 GROUP BY u.name ORDER BY COUNT(*) DESC",
            )
            .bind(ws),
        )
        .await?;
        Ok(Dashboard {
            leads_by_status,
            leads_by_source,
            new_leads_per_week,
            open_pipeline,
            won_deals,
            lost_deals,
            win_rate_percent,
            activities_per_user,
        })
    }

    use crate::platform::openapi::{self, json, Caller, Endpoint};

    pub static ENDPOINTS: &[Endpoint] =
        &[Endpoint::new("get", "/dashboard", Caller::Scoped(Scope::CrmRead), "The workspace's figures.", || {
            axum::routing::get(get_dashboard)
        })
        .tool("get_dashboard")
        .answers(200, json::<Dashboard>)];

    async fn get_dashboard(
        axum::extract::State(state): axum::extract::State<crate::platform::context::AppState>,
        ctx: Ctx,
    ) -> AppResult<axum::Json<Dashboard>> {
        let mut tx = state.db.begin_read().await?;
        let figures = dashboard(&mut tx, &ctx).await?;
        tx.commit().await?;
        Ok(axum::Json(figures))
    }

    pub fn router() -> axum::Router<crate::platform::context::AppState> {
        openapi::router(ENDPOINTS)
    }
}

use leptos::prelude::*;

use crate::components::{page_errors, Bar, Chart, ChartKind, ChartSpec, Series, Unit};

#[server(prefix = "/sf", endpoint = "dashboard")]
pub async fn load_dashboard() -> Result<Dashboard, ApiError> {
    use crate::platform::server_fns::ssr::member;
    let (state, ctx) = member().await?;
    let mut tx = state.db.begin_read().await?;
    let dashboard = ssr::dashboard(&mut tx, &ctx).await?;
    tx.commit().await?;
    Ok(dashboard)
}

fn counts_chart(title: &'static str, counts: Vec<Count>) -> impl IntoView {
    let bars = counts.into_iter().map(|c| Bar { label: c.label, value: c.count.into() }).collect();
    view! { <Chart spec=ChartSpec::bars(title, Unit::Count, bars)/> }
}

/// The weighted open pipeline per stage, one chart per currency.
fn pipeline_charts(stages: Vec<StageValue>) -> impl IntoView {
    let mut currencies: Vec<String> = stages.iter().map(|s| s.currency.clone()).collect();
    currencies.sort();
    currencies.dedup();
    if currencies.is_empty() {
        currencies.push("USD".into());
    }
    currencies
        .into_iter()
        .map(|currency| {
            let bars = stages
                .iter()
                .filter(|s| s.currency == currency)
                .map(|s| Bar { label: s.stage_name.clone(), value: s.weighted_cents })
                .collect();
            let title = format!("Weighted pipeline by stage ({currency})");
            view! { <Chart spec=ChartSpec::bars(title, Unit::Money(currency.clone()), bars)/> }
        })
        .collect_view()
}

fn weekly_chart(weeks: Vec<Count>) -> impl IntoView {
    let spec = ChartSpec {
        title: "New leads per week".into(),
        unit: Unit::Count,
        kind: ChartKind::Columns {
            x_labels: weeks.iter().map(|w| w.label.get(5..).unwrap_or(&w.label).to_string()).collect(),
            series: vec![Series { name: "Leads".into(), color: "#2456d6", values: weeks.iter().map(|w| w.count.into()).collect() }],
            line: None,
        },
    };
    view! { <Chart spec/> }
}

#[component]
pub fn DashboardPage() -> impl IntoView {
    use crate::crm::deals::types::format_money;
    let changed = RwSignal::new(0u32);
    let data = Resource::new(move || changed.get(), |_| load_dashboard());
    view! {
        <ErrorBoundary fallback=page_errors>
            <h1>"Dashboard"</h1>
            <crate::platform::pages::OnboardingPanel changed/>
            <Transition fallback=|| view! { <p>"Loading…"</p> }>
                {move || Suspend::new(async move {
                    data.await.map(|d| view! {
                            <div class="kpis">
                                <div class="kpi"><span class="muted">"Win rate"</span>
                                    <strong data-testid="win-rate">{d.win_rate_percent.map(|r| format!("{r:.0}%")).unwrap_or_else(|| "—".into())}</strong>
                                    <span class="muted">{format!("{} won · {} lost", d.won_deals, d.lost_deals)}</span></div>
                                {d.open_pipeline.iter().fold(Vec::<(String, i128, i128)>::new(), |mut acc, s| {
                                    match acc.iter_mut().find(|(c, _, _)| *c == s.currency) {
                                        Some(entry) => { entry.1 += s.amount_cents; entry.2 += s.weighted_cents; }
                                        None => acc.push((s.currency.clone(), s.amount_cents, s.weighted_cents)),
                                    }
                                    acc
                                }).into_iter().map(|(currency, amount, weighted)| view! {
                                    <div class="kpi"><span class="muted">"Open pipeline"</span>
                                        <strong>{format_money(amount, &currency)}</strong>
                                        <span class="muted">"weighted "{format_money(weighted, &currency)}</span></div>
                                }).collect_view()}
                            </div>
                            <div class="charts">
                                {counts_chart("Leads by status", d.leads_by_status)}
                                {counts_chart("Leads by source", d.leads_by_source)}
                                {weekly_chart(d.new_leads_per_week)}
                                {pipeline_charts(d.open_pipeline)}
                                {counts_chart("Activities per user", d.activities_per_user)}
                            </div>
                        })
                })}
            </Transition>
        </ErrorBoundary>
    }
}
