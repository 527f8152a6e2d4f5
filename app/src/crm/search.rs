//! One search box over leads, contacts, companies and deals.

use crate::api_error::ApiError;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[cfg_attr(feature = "ssr", derive(sqlx::FromRow))]
pub struct SearchHit {
    pub entity_type: String,
    pub id: Uuid,
    pub title: String,
    pub subtitle: Option<String>,
}

impl SearchHit {
    /// The record's own page.
    pub fn href(&self) -> String {
        match self.entity_type.as_str() {
            "lead" => format!("/leads/{}", self.id),
            "company" => format!("/companies/{}", self.id),
            "deal" => format!("/deals/{}", self.id),
            _ => format!("/contacts/{}", self.id),
        }
    }
}

#[cfg(feature = "ssr")]
pub mod ssr {
    use super::SearchHit;
    use crate::crm::fields::text_search;
    use crate::error::{AppError, AppResult};
    use crate::platform::context::Ctx;
    use crate::platform::db::{Tx, Q};
    use crate::platform::types::Scope;

    pub const HITS_PER_KIND: i64 = 10;

    /// Up to ten hits of each kind, newest first within a kind.
    pub async fn search(tx: &mut Tx, ctx: &Ctx, text: &str) -> AppResult<Vec<SearchHit>> {
        ctx.require(Scope::CrmRead)?;
        if text.trim().is_empty() {
            return Err(AppError::validation("q", "type something to search for"));
        }
        let sources: [(&str, &str, &str, &str, &[&str]); 4] = [
            ("lead", "leads", "name", "COALESCE(email, company_name)", &["name", "email", "company_name"]),
            ("contact", "contacts", "name", "COALESCE(email, company_name)", &["name", "email", "company_name"]),
            ("company", "companies", "name", "domain", &["name", "domain"]),
            ("deal", "deals", "name", "currency", &["name"]),
        ];
        let mut hits = Vec::new();
        for (kind, table, title, subtitle, columns) in sources {
            let mut q = Q::new(format!(
                "SELECT '{kind}' AS entity_type, id, {title} AS title, {subtitle} AS subtitle FROM {table} WHERE workspace_id = $1"
            ))
            .bind(ctx.workspace_id);
            if kind == "lead" {
                crate::platform::db::lead_text_search(&mut q, tx.backend(), Some(text), "leads")?;
            } else {
                text_search(&mut q, Some(text), columns)?;
            }
            let limit = q.arg(HITS_PER_KIND);
            q.push(&format!(" ORDER BY id DESC LIMIT {limit}"));
            let found: Vec<SearchHit> = tx.fetch_all(q).await?;
            hits.extend(found);
        }
        Ok(hits)
    }

    pub mod routes {
        use axum::extract::State;
        use axum::routing::get;
        use axum::{Json, Router};

        use super::super::SearchHit;
        use crate::error::AppResult;
        use crate::platform::context::{AppState, Ctx};
        use crate::platform::http::ApiQuery;

        use crate::platform::openapi::{self, json, query_of, Caller, Endpoint};
        use crate::platform::types::Scope;

        #[derive(serde::Deserialize, schemars::JsonSchema)]
        #[serde(deny_unknown_fields)]
        struct SearchQuery {
            /// Matched against names, emails, companies and domains.
            q: String,
        }

        pub static ENDPOINTS: &[Endpoint] =
            &[Endpoint::new("get", "/search", Caller::Scoped(Scope::CrmRead), "Search leads, contacts, companies and deals.", || {
                get(search)
            })
            .tool("search_records")
            .query(query_of::<SearchQuery>)
            .answers(200, json::<Vec<SearchHit>>)];

        pub fn router() -> Router<AppState> {
            openapi::router(ENDPOINTS)
        }

        async fn search(
            State(state): State<AppState>,
            ctx: Ctx,
            ApiQuery(query): ApiQuery<SearchQuery>,
        ) -> AppResult<Json<Vec<SearchHit>>> {
            let mut tx = state.db.begin_read().await?;
            let hits = super::search(&mut tx, &ctx, &query.q).await?;
            tx.commit().await?;
            Ok(Json(hits))
        }
    }
}

use leptos::either::Either;
use leptos::prelude::*;

use crate::components::page_errors;

#[server(prefix = "/sf", endpoint = "search")]
pub async fn search_everything(q: String) -> Result<Vec<SearchHit>, ApiError> {
    use crate::platform::server_fns::ssr::member;
    let (state, ctx) = member().await?;
    let mut tx = state.db.begin_read().await?;
    let hits = ssr::search(&mut tx, &ctx, &q).await?;
    tx.commit().await?;
    Ok(hits)
}

#[component]
pub fn SearchPage() -> impl IntoView {
    use leptos_router::hooks::use_query_map;
    let query = use_query_map();
    let hits = Resource::new(
        move || query.read().get("q").unwrap_or_default(),
        |q| async move {
            if q.trim().is_empty() {
                Ok(Vec::new())
            } else {
                search_everything(q).await
            }
        },
    );
    view! {
        <ErrorBoundary fallback=page_errors>
            <h1>"Search"</h1>
            <Transition fallback=|| view! { <p>"Searching…"</p> }>
                {move || Suspend::new(async move {
                    Ok::<_, ApiError>(match hits.await? {
                        hits if hits.is_empty() => Either::Left(view! { <p class="empty">"Nothing found."</p> }),
                        hits => Either::Right(view! {
                            <table class="grid" data-testid="search-results">
                                <thead><tr><th>"Type"</th><th>"Name"</th><th>"Details"</th></tr></thead>
                                <tbody>
                                    {hits.into_iter().map(|h| {
                                        let href = h.href();
                                        view! { <tr><td>{h.entity_type.clone()}</td><td><a href=href>{h.title}</a></td><td class="muted">{h.subtitle.unwrap_or_default()}</td></tr> }
                                    }).collect_view()}
                                </tbody>
                            </table>
                        }),
                    })
                })}
            </Transition>
        </ErrorBoundary>
    }
}
