//! Shared UI pieces: the page frame, error messages, charts, formatting.

mod chart;
mod layout;

pub use chart::*;
pub use layout::Layout;

use crate::api_error::ApiError;
use chrono::{DateTime, Utc};
use leptos::prelude::*;
use leptos_router::hooks::use_params;
use leptos_router::params::Params;
use uuid::Uuid;

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

/// `aria-invalid="true"` on a field while the last answer names it (its
/// message is drawn inside the field's label, so it is read with it).
pub fn field_invalid(error: Signal<Option<ApiError>>, field: &'static str) -> Option<&'static str> {
    error.get().and_then(|e| e.message_for(field).map(|_| "true"))
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

/// A moment in the workspace's time zone and locale.
pub fn format_time(time: DateTime<Utc>) -> String {
    crate::platform::formats::Formats::current().time(time)
}

/// A date in the workspace's locale.
pub fn format_date(date: chrono::NaiveDate) -> String {
    crate::platform::formats::Formats::current().date(date)
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
