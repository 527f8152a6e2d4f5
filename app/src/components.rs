//! Shared UI pieces: the page frame, error messages, formatting.

use chrono::{DateTime, Utc};
use leptos::either::Either;
use leptos::prelude::*;
use leptos_router::hooks::use_location;

use crate::platform::server_fns::{current_user, LogOut};

/// The message a person should read: the server's words without the
/// transport's framing.
pub fn error_text(error: &ServerFnError) -> String {
    match error {
        ServerFnError::ServerError(message) => message.clone(),
        other => other.to_string(),
    }
}

/// An error box; "sign in" errors link to the log-in page.
#[component]
pub fn ErrorBox(error: ServerFnError) -> impl IntoView {
    let text = error_text(&error);
    let needs_login = text.contains("sign in");
    view! {
        <div class="error" role="alert">
            <p>{text}</p>
            {needs_login.then(|| view! { <p><a href="/login">"Log in"</a>" or "<a href="/signup">"sign up"</a>"."</p> })}
        </div>
    }
}

/// Shows the error of the last submission of an action, if any.
pub fn action_error<T, S>(value: S) -> impl IntoView
where
    T: Clone + Send + Sync + 'static,
    S: Get<Value = Option<Result<T, ServerFnError>>> + Send + Sync + 'static,
{
    move || value.get().and_then(|result| result.err()).map(|error| view! { <p class="error" role="alert">{error_text(&error)}</p> })
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
                                <a href="/tasks">"Tasks"</a>
                                <a href="/invoices">"Invoices"</a>
                                <a href="/ledger">"Ledger"</a>
                                <a href="/settings/stages">"Stages"</a>
                                <a href="/settings/members">"Members"</a>
                                <a href="/settings/api-keys">"API keys"</a>
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
