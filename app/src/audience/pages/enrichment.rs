//! Enrichment connectors.

use leptos::either::Either;
use leptos::prelude::*;

use crate::api_error::ApiError;

use crate::audience::server_fns::*;
use crate::components::{action_error, page_errors};

#[component]
pub fn EnrichmentPage() -> impl IntoView {
    let create = ServerAction::<CreateEnrichmentConnector>::new();
    let toggle = ServerAction::<SetEnrichmentConnectorEnabled>::new();
    let delete = ServerAction::<DeleteEnrichmentConnector>::new();
    let connectors =
        Resource::new(move || (create.version().get(), toggle.version().get(), delete.version().get()), |_| enrichment_connectors());
    view! {
        <ErrorBoundary fallback=page_errors>
            <div class="page-head"><h1>"Enrichment"</h1></div>
            <p class="muted">
                "A connector posts a lead as JSON ({\"lead\": {…}}) to its URL and merges the JSON object it answers with "
                "(or its \"fields\"): empty standard fields fill in, tags add, other keys land in custom fields. "
                "Enrich a lead from its page."
            </p>
            <details class="card">
                <summary>"New HTTP connector"</summary>
                <ActionForm action=create>
                    <label>"Name"<input name="name" required/></label>
                    <label>"URL"<input name="url" type="url" required placeholder="https://enrich.example.com/lookup"/></label>
                    <label>"Authorization header (optional, never shown again)"<input name="auth_header" type="password" autocomplete="off" placeholder="Bearer …"/></label>
                    <button type="submit">"Add connector"</button>
                </ActionForm>
                {action_error(create.value())}
            </details>
            {action_error(toggle.value())}
            {action_error(delete.value())}
            <Transition fallback=|| view! { <p>"Loading…"</p> }>
                {move || Suspend::new(async move {
                    Ok::<_, ApiError>(match connectors.await? {
                        list if list.is_empty() => Either::Left(view! { <p class="empty">"No connectors yet."</p> }),
                        list => Either::Right(view! {
                            <table class="grid" data-testid="connectors">
                                <thead><tr><th>"Connector"</th><th>"URL"</th><th>"State"</th><th></th></tr></thead>
                                <tbody>
                                    {list.into_iter().map(|c| view! {
                                        <tr>
                                            <td>{c.name.clone()}</td>
                                            <td><code>{c.url.clone()}</code></td>
                                            <td>{if c.enabled { "enabled" } else { "disabled" }}</td>
                                            <td class="actions">
                                                <ActionForm action=toggle attr:class="inline">
                                                    <input type="hidden" name="id" value=c.id.to_string()/>
                                                    <input type="hidden" name="enabled" value=(!c.enabled).to_string()/>
                                                    <button type="submit" class="secondary">{if c.enabled { "Disable" } else { "Enable" }}</button>
                                                </ActionForm>
                                                <ActionForm action=delete attr:class="inline">
                                                    <input type="hidden" name="id" value=c.id.to_string()/>
                                                    <button type="submit" class="danger">"Delete"</button>
                                                </ActionForm>
                                            </td>
                                        </tr>
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
