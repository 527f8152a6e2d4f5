//! Settings: the workspace's deal stages — add, reorder, remove.

use leptos::prelude::*;

use super::server_fns::UpdateStage;
use super::server_fns::{list_stages, CreateStage, DeleteStage, ShiftStage};
use crate::components::{action_error, page_errors};

#[component]
pub fn StagesPage() -> impl IntoView {
    let create = ServerAction::<CreateStage>::new();
    let shift = ServerAction::<ShiftStage>::new();
    let delete = ServerAction::<DeleteStage>::new();
    let update = ServerAction::<UpdateStage>::new();
    let stages = Resource::new(
        move || (create.version().get(), shift.version().get(), delete.version().get(), update.version().get()),
        |_| list_stages(),
    );
    view! {
        <ErrorBoundary fallback=page_errors>
            <h1>"Deal stages"</h1>
            <Transition fallback=|| view! { <p>"Loading…"</p> }>
                {move || Suspend::new(async move {
                    stages.await.map(|stages| view! {
                            <table class="grid" data-testid="stages">
                                <thead><tr><th>"Stage"</th><th>"Key"</th><th>"Kind"</th><th>"Probability"</th><th></th></tr></thead>
                                <tbody>
                                    {stages.into_iter().map(|s| {
                                        let (up, down, remove) = (format!("Move {} up", s.name), format!("Move {} down", s.name), format!("Delete {}", s.name));
                                        let edit = format!("Edit {}", s.name);
                                        let id = s.id;
                                        view! {
                                        <tr>
                                            <td><span class="swatch" style=format!("background: {}", s.color)></span>{s.name.clone()}</td>
                                            <td><code>{s.key.clone()}</code></td>
                                            <td>{s.kind.as_str()}</td>
                                            <td>{s.probability}"%"</td>
                                            <td class="actions">
                                                <ActionForm action=shift attr:class="inline">
                                                    <input type="hidden" name="id" value=id.to_string()/>
                                                    <input type="hidden" name="up" value="true"/>
                                                    <button type="submit" class="secondary" aria-label=up>"↑"</button>
                                                </ActionForm>
                                                <ActionForm action=shift attr:class="inline">
                                                    <input type="hidden" name="id" value=id.to_string()/>
                                                    <input type="hidden" name="up" value="false"/>
                                                    <button type="submit" class="secondary" aria-label=down>"↓"</button>
                                                </ActionForm>
                                                <ActionForm action=delete attr:class="inline">
                                                    <input type="hidden" name="id" value=id.to_string()/>
                                                    <button type="submit" class="danger" aria-label=remove>"Delete"</button>
                                                </ActionForm>
                                                <details class="inline-edit">
                                                    <summary>"Edit"</summary>
                                                    <ActionForm action=update attr:class="row" attr:aria-label=edit>
                                                        <input type="hidden" name="id" value=id.to_string()/>
                                                        <label>"Stage name"<input name="name" required value=s.name.clone()/></label>
                                                        <label>"Stage probability %"<input name="probability" type="number" min="0" max="100" required value=s.probability.to_string()/></label>
                                                        <label>"Stage color"<input name="color" type="color" value=s.color.clone()/></label>
                                                        <button type="submit">"Save stage"</button>
                                                    </ActionForm>
                                                </details>
                                            </td>
                                        </tr>
                                    }}).collect_view()}
                                </tbody>
                            </table>
                        })
                })}
            </Transition>
            {action_error(shift.value())}
            {action_error(delete.value())}
            {action_error(update.value())}
            <section class="card">
                <h2>"Add a stage"</h2>
                <ActionForm action=create attr:class="row">
                    <label>"Name"<input name="name" required/></label>
                    <label>"Key"<input name="key" required pattern="[a-z0-9_-]+" placeholder="demo"/></label>
                    <label>"Kind"
                        <select name="kind"><option value="open">"open"</option><option value="won">"won"</option><option value="lost">"lost"</option></select>
                    </label>
                    <label>"Probability %"<input name="probability" type="number" min="0" max="100" value="50" required/></label>
                    <label>"Color"<input name="color" type="color" value="#94a3b8"/></label>
                    <button type="submit">"Add stage"</button>
                </ActionForm>
                {action_error(create.value())}
            </section>
        </ErrorBoundary>
    }
}
