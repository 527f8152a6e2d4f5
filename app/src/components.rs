//! Shared UI pieces: the page frame, error messages, formatting.

use crate::api_error::ApiError;
use chrono::{DateTime, Utc};
use leptos::either::Either;
use leptos::prelude::*;
use leptos_router::hooks::{use_location, use_params};
use leptos_router::params::Params;
use uuid::Uuid;

use crate::platform::server_fns::{current_user, LogOut};

/// An error box; when the visitor has to sign in, it links to the log-in
/// page.
#[component]
pub fn ErrorBox(error: ApiError) -> impl IntoView {
    let needs_login = error.needs_sign_in();
    view! {
        <div class="error" role="alert">
            <p>{error.message}</p>
            {needs_login.then(|| view! { <p><a href="/login">"Log in"</a>" or "<a href="/signup">"sign up"</a>"."</p> })}
        </div>
    }
}

/// The one place a page shows what went wrong: each page wraps its view in
/// `<ErrorBoundary fallback=page_errors>`, and every `Result` it renders
/// (a resource that failed) throws its error here. The box offers the
/// log-in link when the error's code says the visitor must sign in.
pub fn page_errors(errors: ArcRwSignal<Errors>) -> impl IntoView {
    move || {
        errors
            .get()
            .into_iter()
            .map(|(_, error)| {
                let error = error.downcast_ref::<ApiError>().cloned().unwrap_or_else(|| ApiError::new("internal_error", error.to_string()));
                view! { <ErrorBox error/> }
            })
            .collect_view()
    }
}

/// Shows the error of the last submission of an action.
pub fn action_error<T, S>(value: S) -> impl IntoView
where
    T: Clone + Send + Sync + 'static,
    S: Get<Value = Option<Result<T, ApiError>>> + Send + Sync + 'static,
{
    form_error(last_error(value), &[])
}

/// The error of an action's last submission, for [`field_error`] and
/// [`form_error`] to show where it belongs.
pub fn last_error<T, S>(value: S) -> Signal<Option<ApiError>>
where
    T: Clone + Send + Sync + 'static,
    S: Get<Value = Option<Result<T, ApiError>>> + Send + Sync + 'static,
{
    Signal::derive(move || value.get().and_then(|result| result.err()))
}

/// The error when it is about `field`, shown next to that input.
pub fn field_error(error: Signal<Option<ApiError>>, field: &'static str) -> impl IntoView {
    move || {
        error.get().and_then(|e| e.message_for(field).map(str::to_string)).map(|message| {
            view! { <span class="field-error" role="alert" data-field=field>{message}</span> }
        })
    }
}

/// The error under a form, unless it is about one of the `inline` fields
/// that show their own.
pub fn form_error(error: Signal<Option<ApiError>>, inline: &'static [&'static str]) -> impl IntoView {
    move || {
        error.get().filter(|e| !e.field.as_deref().is_some_and(|f| inline.contains(&f))).map(|e| {
            let needs_login = e.needs_sign_in();
            view! {
                <p class="error" role="alert">
                    {e.message}
                    {needs_login.then(|| view! { " "<a href="/login">"Log in"</a> })}
                </p>
            }
        })
    }
}

/// The path of a record's page (`/leads/:id`, `/invoices/:id`, …).
#[derive(Params, Clone, Debug, PartialEq)]
pub struct RecordPath {
    pub id: Option<Uuid>,
}

/// The id in a record page's path; `None` when it is not a valid id (the
/// page then shows "not found").
pub fn use_record_id() -> impl Fn() -> Option<Uuid> + Copy + Send + Sync + 'static {
    let path = use_params::<RecordPath>();
    move || path.read().as_ref().ok().and_then(|p| p.id)
}

pub fn format_time(time: DateTime<Utc>) -> String {
    time.format("%Y-%m-%d %H:%M UTC").to_string()
}

/// Percent-encodes a query-string value.
pub fn encode_query_value(value: &str) -> String {
    let mut out = String::new();
    for byte in value.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => out.push(byte as char),
            _ => out.push_str(&format!("%{byte:02X}")),
        }
    }
    out
}

#[component]
pub fn Layout(children: Children) -> impl IntoView {
    let location = use_location();
    // Refetched on every navigation, so the header follows log-in and
    // log-out redirects.
    let user = Resource::new(move || location.pathname.get(), |_| current_user());
    let log_out = ServerAction::<LogOut>::new();
    view! {
        <header class="topbar">
            <a class="brand" href="/">"Corral"</a>
            <Transition fallback=|| ()>
                {move || Suspend::new(async move {
                    match user.await {
                        Ok(Some(me)) => Either::Left(view! {
                            <nav class="nav">
                                <a href="/dashboard">"Dashboard"</a>
                                <a href="/leads">"Leads"</a>
                                <a href="/contacts">"Contacts"</a>
                                <a href="/companies">"Companies"</a>
                                <a href="/pipeline">"Pipeline"</a>
                                <a href="/audience">"Audience"</a>
                                <a href="/marketing">"Marketing"</a>
                                <a href="/ads">"Ads"</a>
                                <a href="/blog">"Blog"</a>
                                <a href="/approvals">"Approvals"</a>
                                <a href="/flows">"Flows"</a>
                                <a href="/tasks">"Tasks"</a>
                                <a href="/invoices">"Invoices"</a>
                                <a href="/ledger">"Ledger"</a>
                                <a href="/settings/stages">"Stages"</a>
                                <a href="/settings/members">"Members"</a>
                                <a href="/settings/api-keys">"API keys"</a>
                                <a href="/settings/workspace">"Workspace"</a>
                                <form method="GET" action="/search" class="search-box">
                                    <input type="search" name="q" placeholder="Search everything" aria-label="Search everything"/>
                                </form>
                                <span class="who" data-testid="current-user">
                                    {me.name.clone()}" · "{me.workspace_name.clone()}
                                </span>
                                <ActionForm action=log_out attr:class="inline">
                                    <button type="submit" class="link">"Log out"</button>
                                </ActionForm>
                            </nav>
                        }),
                        _ => Either::Right(view! {
                            <nav class="nav">
                                <a href="/login">"Log in"</a>
                                <a href="/signup">"Sign up"</a>
                            </nav>
                        }),
                    }
                })}
            </Transition>
        </header>
        <main class="content">{children()}</main>
    }
}

/// A horizontal bar chart as plain SVG: readable without scripts.
pub fn bar_chart(title: &'static str, bars: Vec<(String, i128, String)>) -> impl IntoView {
    let max = bars.iter().map(|b| b.1).max().unwrap_or(0).max(1);
    let row = 28;
    let height = (bars.len().max(1) * row) as i64 + 8;
    view! {
        <figure class="chart">
            <figcaption>{title}</figcaption>
            {if bars.is_empty() {
                Either::Left(view! { <p class="muted">"No data yet."</p> })
            } else {
                Either::Right(view! {
                    <svg viewBox=format!("0 0 420 {height}") width="100%" role="img" aria-label=title>
                        {bars.into_iter().enumerate().map(|(i, (label, value, shown))| {
                            let y = (i * row) as i64 + 4;
                            // Bars are drawn in proportion; negative values get
                            // the minimum width rather than a negative one.
                            let width = (value.saturating_mul(220) / max).max(2) as i64;
                            view! {
                                <g>
                                    <text x="0" y=y + 17 font-size="12" fill="#5e6b82">{label}</text>
                                    <rect x="120" y=y width=width height="20" rx="3" fill="#2456d6"></rect>
                                    <text x=130 + width y=y + 15 font-size="12" fill="#1d2433">{shown}</text>
                                </g>
                            }
                        }).collect_view()}
                    </svg>
                })
            }}
        </figure>
    }
}
