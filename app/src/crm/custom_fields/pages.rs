//! Settings: the workspace's declared lead fields — add, edit, forget.

use leptos::prelude::*;

use super::server_fns::{declared_custom_fields, ChangeCustomField, DeclareCustomField, ForgetCustomField};
use super::types::CustomFieldType;
use crate::components::{action_error, page_errors};

#[component]
pub fn CustomFieldsPage() -> impl IntoView {
    let declare = ServerAction::<DeclareCustomField>::new();
    let change = ServerAction::<ChangeCustomField>::new();
    let forget = ServerAction::<ForgetCustomField>::new();
    let fields =
        Resource::new(move || (declare.version().get(), change.version().get(), forget.version().get()), |_| declared_custom_fields());
    view! {
        <ErrorBoundary fallback=page_errors>
            <h1>"Custom fields"</h1>
            <p class="muted">
                "Declared fields of leads: each value is checked against its type when a lead is saved, imported or captured by a form, "
                "and segments compare it by type. An indexed field makes segment counts and filters on it fast at any size."
            </p>
            <Transition fallback=|| view! { <p>"Loading…"</p> }>
                {move || Suspend::new(async move {
                    fields.await.map(|fields| view! {
                        <table class="grid" data-testid="custom-fields">
                            <thead><tr><th>"Field"</th><th>"Key"</th><th>"Type"</th><th>"Options"</th><th>"Indexed"</th><th></th></tr></thead>
                            <tbody>
                                {fields.0.into_iter().map(|f| {
                                    let (id, id2) = (f.id.to_string(), f.id.to_string());
                                    let (edit, remove) = (format!("Edit {}", f.label), format!("Forget {}", f.label));
                                    let is_choice = f.field_type == CustomFieldType::Choice;
                                    view! {
                                        <tr>
                                            <td>{f.label.clone()}</td>
                                            <td><code>{f.key.clone()}</code></td>
                                            <td>{f.field_type.label()}</td>
                                            <td>{f.options.join(", ")}</td>
                                            <td>{if f.indexed { "yes" } else { "no" }}</td>
                                            <td class="actions">
                                                <ActionForm action=forget attr:class="inline">
                                                    <input type="hidden" name="id" value=id.clone()/>
                                                    <button type="submit" class="danger" aria-label=remove>"Forget"</button>
                                                </ActionForm>
                                                <details class="inline-edit">
                                                    <summary>"Edit"</summary>
                                                    <ActionForm action=change attr:class="row" attr:aria-label=edit>
                                                        <input type="hidden" name="id" value=id2/>
                                                        <label>"Label"<input name="form[label]" required value=f.label.clone()/></label>
                                                        {is_choice.then(|| view! {
                                                            <label>"Options"<textarea name="form[options]" rows="3">{f.options.join("\n")}</textarea></label>
                                                        })}
                                                        <label class="check"><input type="checkbox" name="form[indexed]" checked=f.indexed/>"Indexed"</label>
                                                        <button type="submit">"Save field"</button>
                                                    </ActionForm>
                                                </details>
                                            </td>
                                        </tr>
                                    }
                                }).collect_view()}
                            </tbody>
                        </table>
                    })
                })}
            </Transition>
            {action_error(change.value())}
            {action_error(forget.value())}
            <section class="card">
                <h2>"Declare a field"</h2>
                <ActionForm action=declare attr:class="row">
                    <label>"Key"<input name="key" required pattern="[A-Za-z0-9_-]{1,64}" placeholder="plan"/></label>
                    <label>"Label"<input name="form[label]" placeholder="Plan"/></label>
                    <label>"Type"
                        <select name="field_type">
                            {CustomFieldType::ALL.iter().map(|t| view! { <option value=t.as_str()>{t.label()}</option> }).collect_view()}
                        </select>
                    </label>
                    <label>"Options (a choice's values, one per line)"<textarea name="form[options]" rows="3"></textarea></label>
                    <label class="check"><input type="checkbox" name="form[indexed]"/>"Indexed"</label>
                    <button type="submit">"Declare field"</button>
                </ActionForm>
                {action_error(declare.value())}
            </section>
        </ErrorBoundary>
    }
}
