//! The pipeline board: a column per stage with its count and totals, and
//! cards that move by drag and drop (or by the "Move to" menu).

use leptos::either::Either;
use leptos::prelude::*;
use leptos_router::components::Form;
use leptos_router::hooks::use_query_map;
use uuid::Uuid;

use super::types::*;
use crate::components::ErrorBox;
use crate::crm::server_fns::*;

#[component]
pub fn PipelinePage() -> impl IntoView {
    let query = use_query_map();
    let move_deal = ServerAction::<MoveDeal>::new();
    let create = ServerAction::<CreateDeal>::new();
    let board = Resource::new(
        move || (query.read().get("owner").filter(|o| !o.is_empty()), move_deal.version().get(), create.version().get()),
        |(owner, _, _)| pipeline_board(owner),
    );
    let stages = Resource::new(|| (), |_| list_stages());
    let dragging = RwSignal::new(None::<Uuid>);
    let drop_on = move |stage_id: Uuid| {
        if let Some(deal_id) = dragging.get_untracked() {
            dragging.set(None);
            move_deal.dispatch(MoveDeal { deal_id, stage_id });
        }
    };
    view! {
        <div class="page-head">
            <h1>"Pipeline"</h1>
            <Form method="GET" action="" attr:class="filters">
                <select name="owner" aria-label="Owner">
                    <option value="">"All owners"</option>
                    <option value="me" selected=move || query.read().get("owner").as_deref() == Some("me")>"My deals"</option>
                    <option value="unassigned" selected=move || query.read().get("owner").as_deref() == Some("unassigned")>"Unassigned"</option>
                </select>
                <button type="submit">"Filter"</button>
            </Form>
        </div>
        <details class="card">
            <summary>"New deal"</summary>
            <ActionForm action=create attr:class="row">
                <label>"Deal name"<input name="name" required/></label>
                <label>"Deal stage"
                    <Transition fallback=|| ()>
                        {move || Suspend::new(async move {
                            let stages = stages.await.unwrap_or_default();
                            view! {
                                <select name="stage_id">
                                    {stages.into_iter().filter(|s| s.kind == StageKind::Open).map(|s| view! { <option value=s.id.to_string()>{s.name}</option> }).collect_view()}
                                </select>
                            }
                        })}
                    </Transition>
                </label>
                <label>"Deal amount"<input name="amount" inputmode="decimal" placeholder="9,000.00"/></label>
                <label>"Deal currency"<input name="currency" value="USD" maxlength="3"/></label>
                <button type="submit">"Create deal"</button>
            </ActionForm>
            {crate::components::action_error(create.value())}
        </details>
        {move || move_deal.value().get().and_then(|r| r.err()).map(|e| view! { <p class="error" role="alert">{crate::components::error_text(&e)}</p> })}
        <Transition fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match board.await {
                    Ok(columns) => {
                        let stage_choices: Vec<(Uuid, String)> = columns.iter().map(|c| (c.stage.id, c.stage.name.clone())).collect();
                        Either::Left(view! {
                            <div class="board">
                                {columns.into_iter().map(|column| {
                                    let stage_id = column.stage.id;
                                    let totals = if column.totals.is_empty() {
                                        "0.00".to_string()
                                    } else {
                                        column.totals.iter().map(|t| format_money(t.amount_cents, &t.currency)).collect::<Vec<_>>().join(" · ")
                                    };
                                    let hidden = column.count - column.deals.len() as i64;
                                    let choices = stage_choices.clone();
                                    view! {
                                        <section class="column" data-stage=column.stage.key.clone()
                                            style=format!("border-top-color: {}", column.stage.color)
                                            on:dragover=move |ev| ev.prevent_default()
                                            on:drop=move |ev| { ev.prevent_default(); drop_on(stage_id); }>
                                            <header>
                                                <h2>{column.stage.name.clone()}</h2>
                                                <p class="muted"><span data-testid="stage-count">{column.count}</span>{if column.count == 1 { " deal · " } else { " deals · " }}{totals}</p>
                                            </header>
                                            {column.deals.into_iter().map(|deal| {
                                                let deal_id = deal.id;
                                                let choices = choices.clone();
                                                view! {
                                                    <article class="deal-card" draggable="true" data-deal=deal.name.clone()
                                                        on:dragstart=move |_| dragging.set(Some(deal_id))
                                                        on:dragend=move |_| {}>
                                                        <strong>{deal.name.clone()}</strong>
                                                        <span class="muted">{deal.company_name.clone().unwrap_or_default()}</span>
                                                        <span>{format_money(deal.amount_cents, &deal.currency)}</span>
                                                        <select aria-label=format!("Move {}", deal.name) on:change=move |ev| {
                                                            if let Ok(stage_id) = Uuid::parse_str(&event_target_value(&ev)) {
                                                                move_deal.dispatch(MoveDeal { deal_id, stage_id });
                                                            }
                                                        }>
                                                            {choices.into_iter().map(|(id, name)| view! { <option value=id.to_string() selected={id == stage_id}>{name}</option> }).collect_view()}
                                                        </select>
                                                    </article>
                                                }
                                            }).collect_view()}
                                            {(hidden > 0).then(|| view! { <p class="muted">"+"{hidden}" more"</p> })}
                                        </section>
                                    }
                                }).collect_view()}
                            </div>
                        })
                    }
                    Err(error) => Either::Right(view! { <ErrorBox error/> }),
                }
            })}
        </Transition>
    }
}
