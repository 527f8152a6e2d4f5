//! Dashboard figures, kept as counters by the database (migration 22),
//! drawn as server-rendered SVG.

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
    /// Monday of each week (YYYY-MM-DD, weeks in UTC) with the leads
    /// created that week, for the twelve weeks up to and including this
    /// one; weeks without any are left out.
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
    use crate::platform::db::{now, wide, wide_sum, Backend, Db, Tx, Q};
    use crate::platform::types::Scope;

    async fn counts(tx: &mut Tx, q: Q) -> AppResult<Vec<Count>> {
        let rows: Vec<(String, i64)> = tx.fetch_all(q).await?;
        Ok(rows.into_iter().map(|(label, count)| Count { label, count }).collect())
    }

    /// One stage's deals in one currency, the amount summed in two parts.
    #[derive(sqlx::FromRow)]
    struct StageSum {
        stage_id: Uuid,
        stage_name: String,
        kind: String,
        probability: i64,
        currency: String,
        deals: i64,
        amount_hi: i64,
        amount_lo: i64,
    }

    /// The deal figures of a dashboard from its per-stage sums, however they
    /// were summed: the open pipeline (weighted by each stage's
    /// probability), won, lost and the win rate. The lead and activity
    /// figures are left empty for the caller to fill.
    fn pipeline_figures(stages: Vec<StageSum>) -> Dashboard {
        let closed = |kind: &str| stages.iter().filter(|s| s.kind == kind).map(|s| s.deals).sum::<i64>();
        let (won_deals, lost_deals) = (closed("won"), closed("lost"));
        let win_rate_percent = (won_deals + lost_deals > 0).then(|| (won_deals as f64) * 100.0 / ((won_deals + lost_deals) as f64));
        let open_pipeline = stages
            .into_iter()
            .filter(|s| s.kind == "open")
            .map(|s| {
                let amount_cents = wide(s.amount_hi, s.amount_lo);
                StageValue {
                    stage_id: s.stage_id,
                    stage_name: s.stage_name,
                    currency: s.currency,
                    deals: s.deals,
                    amount_cents,
                    weighted_cents: amount_cents * s.probability as i128 / 100,
                }
            })
            .collect();
        Dashboard {
            leads_by_status: Vec::new(),
            leads_by_source: Vec::new(),
            new_leads_per_week: Vec::new(),
            open_pipeline,
            won_deals,
            lost_deals,
            win_rate_percent,
            activities_per_user: Vec::new(),
        }
    }

    /// The first week [`Dashboard::new_leads_per_week`] shows: the Monday
    /// eleven weeks before this week's, so twelve whole weeks in all.
    fn first_week_shown(today: chrono::NaiveDate) -> String {
        use chrono::Datelike;
        let monday = today - chrono::Duration::days(today.weekday().num_days_from_monday() as i64);
        (monday - chrono::Duration::weeks(11)).format("%Y-%m-%d").to_string()
    }

    /// The workspace's figures, read from the counters the database keeps
    /// (`dashboard_counts`, migration 22): a few dozen rows whatever the
    /// number of leads, deals and activities.
    pub async fn dashboard(tx: &mut Tx, ctx: &Ctx) -> AppResult<Dashboard> {
        ctx.require(Scope::CrmRead)?;
        let ws = ctx.workspace_id;
        // A figure is the sum of its rows: one on SQLite, and on PostgreSQL
        // one plus those appended since the last fold.
        let figure = |metric: &str| {
            Q::new(format!(
                "SELECT label, CAST(SUM(n) AS BIGINT) AS n FROM dashboard_counts WHERE workspace_id = $1 AND metric = '{metric}' \
                 GROUP BY label HAVING SUM(n) <> 0 ORDER BY SUM(n) DESC, label"
            ))
            .bind(ws)
        };
        let leads_by_status = counts(tx, figure("lead_status")).await?;
        let leads_by_source = counts(tx, figure("lead_source")).await?;
        let first_week = first_week_shown(now().date_naive());
        let new_leads_per_week = counts(
            tx,
            Q::new(
                "SELECT label, CAST(SUM(n) AS BIGINT) AS n FROM dashboard_counts \
                 WHERE workspace_id = $1 AND metric = 'lead_week' AND label >= $2 GROUP BY label HAVING SUM(n) <> 0 ORDER BY label",
            )
            .bind(ws)
            .bind(first_week),
        )
        .await?;
        let stages: Vec<StageSum> = tx
            .fetch_all(
                Q::new(
                    "SELECT s.id AS stage_id, s.name AS stage_name, s.kind, CAST(s.probability AS BIGINT) AS probability, c.label AS currency, \
                     CAST(SUM(c.n) AS BIGINT) AS deals, CAST(SUM(c.amount_hi) AS BIGINT) AS amount_hi, \
                     CAST(SUM(c.amount_lo) AS BIGINT) AS amount_lo \
                     FROM dashboard_counts c JOIN deal_stages s ON s.id = c.key_id \
                     WHERE c.workspace_id = $1 AND c.metric = 'deal_stage' \
                     GROUP BY s.id, s.name, s.kind, s.probability, s.position, c.label HAVING SUM(c.n) <> 0 \
                     ORDER BY s.position, c.label",
                )
                .bind(ws),
            )
            .await?;
        let activities_per_user = counts(
            tx,
            Q::new(
                "SELECT COALESCE(u.name, 'API'), CAST(SUM(c.n) AS BIGINT) FROM dashboard_counts c LEFT JOIN users u ON u.id = c.key_id \
                 WHERE c.workspace_id = $1 AND c.metric = 'activity_by' GROUP BY u.name HAVING SUM(c.n) <> 0 ORDER BY SUM(c.n) DESC, 1",
            )
            .bind(ws),
        )
        .await?;
        Ok(Dashboard { leads_by_status, leads_by_source, new_leads_per_week, activities_per_user, ..pipeline_figures(stages) })
    }

    /// The same figures computed from the records themselves (GROUP BY
    /// over every lead, deal and activity): what the counters must always
    /// equal, checked by the tests, and the baseline the dashboard
    /// benchmark measures the counters against.
    pub async fn dashboard_from_records(tx: &mut Tx, ctx: &Ctx) -> AppResult<Dashboard> {
        ctx.require(Scope::CrmRead)?;
        let ws = ctx.workspace_id;
        let grouped = |column: &str| {
            Q::new(format!(
                "SELECT {column}, COUNT(*) FROM leads WHERE workspace_id = $1 GROUP BY {column} ORDER BY COUNT(*) DESC, {column}"
            ))
            .bind(ws)
        };
        let leads_by_status = counts(tx, grouped("status")).await?;
        let leads_by_source = counts(tx, grouped("source")).await?;
        let week = tx.backend().week_start("created_at");
        let new_leads_per_week = counts(
            tx,
            Q::new(format!(
                "SELECT week, n FROM (SELECT {week} AS week, COUNT(*) AS n FROM leads WHERE workspace_id = $1 GROUP BY week) w \
                 WHERE week >= $2 ORDER BY week"
            ))
            .bind(ws)
            .bind(first_week_shown(now().date_naive())),
        )
        .await?;
        let stages: Vec<StageSum> = tx
            .fetch_all(
                Q::new(format!(
                    "SELECT s.id AS stage_id, s.name AS stage_name, s.kind, CAST(s.probability AS BIGINT) AS probability, d.currency, COUNT(*) AS deals, {} \
                     FROM deals d JOIN deal_stages s ON s.id = d.stage_id WHERE d.workspace_id = $1 \
                     GROUP BY s.id, s.name, s.kind, s.probability, s.position, d.currency ORDER BY s.position, d.currency",
                    wide_sum("d.amount_cents", "amount"),
                ))
                .bind(ws),
            )
            .await?;
        let activities_per_user = counts(
            tx,
            Q::new(
                "SELECT COALESCE(u.name, 'API'), COUNT(*) FROM activities a LEFT JOIN users u ON u.id = a.actor_user_id \
                 WHERE a.workspace_id = $1 GROUP BY u.name ORDER BY COUNT(*) DESC, 1",
            )
            .bind(ws),
        )
        .await?;
        Ok(Dashboard { leads_by_status, leads_by_source, new_leads_per_week, activities_per_user, ..pipeline_figures(stages) })
    }

    /// Sums each PostgreSQL figure's appended rows back into one (SQLite
    /// keeps one row per figure already), up to 10,000 figures a round.
    /// One process folds at a time; rows appended meanwhile wait for the
    /// next round. Returns how many folded rows were written (a figure
    /// that sums to nothing leaves none).
    pub async fn fold_counts(db: &Db) -> AppResult<u64> {
        if db.backend() != Backend::Postgres {
            return Ok(0);
        }
        let mut tx = db.begin().await?;
        let (mine,): (bool,) = tx.fetch_one(Q::new("SELECT pg_try_advisory_xact_lock(hashtext('dashboard_counts'))")).await?;
        if !mine {
            return Ok(0);
        }
        let folded = tx
            .execute(Q::new(
                "WITH figures AS (SELECT DISTINCT workspace_id, metric, key_id, label FROM dashboard_counts WHERE NOT folded LIMIT 10000), \
                 gone AS (DELETE FROM dashboard_counts c USING figures f WHERE c.workspace_id = f.workspace_id \
                 AND c.metric = f.metric AND c.key_id = f.key_id AND c.label = f.label RETURNING c.*) \
                 INSERT INTO dashboard_counts (workspace_id, metric, key_id, label, n, amount_hi, amount_lo, folded) \
                 SELECT workspace_id, metric, key_id, label, SUM(n), SUM(amount_hi), SUM(amount_lo), TRUE FROM gone \
                 GROUP BY workspace_id, metric, key_id, label \
                 HAVING SUM(n) <> 0 OR SUM(amount_hi) <> 0 OR SUM(amount_lo) <> 0",
            ))
            .await?;
        tx.commit().await?;
        Ok(folded)
    }

    /// Folds the counters every `every` (PostgreSQL only).
    pub fn spawn_count_folder(db: Db, every: std::time::Duration) -> tokio::task::JoinHandle<()> {
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(every).await;
                if let Err(error) = fold_counts(&db).await {
                    tracing::warn!(%error, "folding the dashboard counters failed; retrying next round");
                }
            }
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
