//! The pipeline board: a column per stage with its count and totals, and
//! cards that move by drag and drop (or by the "Move to" menu).

use leptos::either::Either;
use leptos::prelude::*;
use leptos_router::components::Form;
use leptos_router::hooks::use_query_map;
use uuid::Uuid;

use crate::api_error::ApiError;

use super::server_fns::*;
use super::types::*;
use crate::components::{action_error, field_error, field_invalid, form_error, last_error, page_errors, use_record_id};
use crate::crm::companies::server_fns::company_choices;

#[component]
pub fn PipelinePage() -> impl IntoView {
    let query = use_query_map();
    let move_deal = ServerAction::<MoveDeal>::new();
    let create = ServerAction::<CreateDeal>::new();
    let create_error = last_error(create.value());
    let board = Resource::new(
        move || (query.read().get("owner").filter(|o| !o.is_empty()), move_deal.version().get(), create.version().get()),
        |(owner, _, _)| pipeline_board(owner),
    );
    let announcement = RwSignal::new(String::new());
    let mover = Mover { action: move_deal, dragging: RwSignal::new(None), refocus: RwSignal::new(None), announcement };
    let owner = move || query.read_untracked().get("owner").filter(|o| !o.is_empty());
    view! {
        <ErrorBoundary fallback=page_errors>
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
                    <label>"Deal name"<input name="name" required aria-invalid=move || field_invalid(create_error, "name")/>{field_error(create_error, "name")}</label>
                    <label>"Deal stage"
                        <Transition fallback=|| ()>
                            // The board's columns are the stages: no second read.
                            {move || Suspend::new(async move {
                                let columns = board.await.unwrap_or_default();
                                view! {
                                    <select name="stage_id">
                                        {columns.into_iter().map(|c| c.stage).filter(|s| s.kind == StageKind::Open).map(|s| view! { <option value=s.id.to_string()>{s.name}</option> }).collect_view()}
                                    </select>
                                }
                            })}
                        </Transition>
                    </label>
                    <label>"Deal amount"<input name="amount" inputmode="decimal" placeholder="9,000.00" aria-invalid=move || field_invalid(create_error, "amount")/>{field_error(create_error, "amount")}</label>
                    <label>"Deal currency"<input name="currency" value="USD" maxlength="3" aria-invalid=move || field_invalid(create_error, "currency")/>{field_error(create_error, "currency")}</label>
                    <button type="submit">"Create deal"</button>
                </ActionForm>
                {form_error(create_error, &["name", "amount", "currency"])}
            </details>
            {action_error(move_deal.value())}
            <p class="visually-hidden" aria-live="polite">{move || announcement.get()}</p>
            <Transition fallback=|| view! { <p>"Loading…"</p> }>
                {move || Suspend::new(async move {
                    board.await.map(|columns| {
                            // Shared by every card's "Move to" menu (hundreds of cards).
                            let order: StageOrder = std::sync::Arc::new(columns.iter().map(|c| (c.stage.id, c.stage.name.clone())).collect());
                            view! {
                                <div class="board" data-testid="board">
                                    {columns.into_iter().map(|column| {
                                        view! { <StageColumn column order=order.clone() owner=owner() mover/> }
                                    }).collect_view()}
                                </div>
                            }
                        })
                })}
            </Transition>
        </ErrorBoundary>
    }
}

/// The board's stages in order (id and name).
type StageOrder = std::sync::Arc<Vec<(Uuid, String)>>;

/// What a column needs to move a card: the move action, the card being
/// dragged, the card to focus again after a keyboard move, and the live
/// region's text.
#[derive(Clone, Copy)]
struct Mover {
    action: ServerAction<MoveDeal>,
    dragging: RwSignal<Option<Uuid>>,
    /// The deal and the stage it moves to: only the card drawn in that
    /// stage takes the focus (the one it leaves is still on screen until
    /// the board is drawn again).
    refocus: RwSignal<Option<(Uuid, Uuid)>>,
    announcement: RwSignal<String>,
}

impl Mover {
    fn move_to(&self, deal_id: Uuid, deal_name: &str, stage: &(Uuid, String)) {
        self.announcement.set(format!("Moved {deal_name} to {}", stage.1));
        self.action.dispatch(MoveDeal { deal_id, stage_id: stage.0 });
    }
}

/// One stage of the board: a header that stays in view (count and totals
/// over every deal of the stage) and its cards, the first hundred and more
/// on request.
#[component]
fn StageColumn(column: BoardColumn, order: StageOrder, owner: Option<String>, mover: Mover) -> impl IntoView {
    let stage_id = column.stage.id;
    let totals = if column.totals.is_empty() {
        "0.00".to_string()
    } else {
        column.totals.iter().map(|t| format_money(t.amount_cents, &t.currency)).collect::<Vec<_>>().join(" · ")
    };
    let count = column.count;
    let extra = RwSignal::new(Vec::<DealCard>::new());
    let first_count = column.deals.len();
    let shown = move || first_count + extra.with(Vec::len);
    let loading_more = RwSignal::new(false);
    let more_error = RwSignal::new(None::<ApiError>);
    let show_more = move |_| {
        let offset = (first_count + extra.with_untracked(Vec::len)) as i64;
        let owner = owner.clone();
        loading_more.set(true);
        leptos::task::spawn_local(async move {
            match more_stage_cards(stage_id, owner, offset).await {
                Ok(cards) => extra.update(|e| e.extend(cards)),
                Err(error) => more_error.set(Some(error)),
            }
            loading_more.set(false);
        });
    };
    let drop_hover = RwSignal::new(false);
    let cards_order = order.clone();
    let card_view = move |deal: DealCard| view! { <Card deal stage_id order=cards_order.clone() mover/> };
    let initial: Vec<DealCard> = column.deals;
    view! {
        <section class="column" class:drop-target=move || drop_hover.get() data-stage=column.stage.key.clone()
            aria-label=format!("{} stage", column.stage.name)
            style=format!("border-top-color: {}", column.stage.color)
            on:dragover=move |ev| { ev.prevent_default(); drop_hover.set(true); }
            on:dragleave=move |_| drop_hover.set(false)
            on:drop=move |ev| {
                ev.prevent_default();
                drop_hover.set(false);
                if let Some(deal_id) = mover.dragging.get_untracked() {
                    mover.dragging.set(None);
                    mover.action.dispatch(MoveDeal { deal_id, stage_id });
                }
            }>
            <header>
                <h2>{column.stage.name.clone()}</h2>
                <p class="muted"><span data-testid="stage-count">{count}</span>{if count == 1 { " deal · " } else { " deals · " }}<span data-testid="stage-total">{totals}</span></p>
            </header>
            <div class="cards">
                {initial.into_iter().map(card_view.clone()).collect_view()}
                {move || extra.get().into_iter().map(card_view.clone()).collect_view()}
                {move || more_error.get().map(|e| view! { <p class="error" role="alert">{e.message}</p> })}
                {move || ((shown() as i64) < count).then(|| view! {
                    <button type="button" class="secondary show-more" disabled=move || loading_more.get() on:click=show_more.clone()>
                        {format!("Show more ({} of {count} shown)", shown())}
                    </button>
                })}
            </div>
        </section>
    }
}

/// A deal on the board: draggable, and movable from the keyboard with the
/// arrow keys (or the "Move to" menu).
#[component]
fn Card(deal: DealCard, stage_id: Uuid, order: StageOrder, mover: Mover) -> impl IntoView {
    let deal_id = deal.id;
    let name = deal.name.clone();
    let position = order.iter().position(|(id, _)| *id == stage_id).unwrap_or(0);
    let card = NodeRef::<leptos::html::Article>::new();
    // After a keyboard move the board is drawn again; the moved card takes
    // the focus back so the next arrow key keeps moving it.
    Effect::new(move |_| {
        if mover.refocus.get() == Some((deal_id, stage_id)) {
            if let Some(el) = card.get() {
                let _ = el.focus();
                mover.refocus.set(None);
            }
        }
    });
    let keys_order = order.clone();
    let keys_name = name.clone();
    let menu_name = name.clone();
    let menu_order = order.clone();
    view! {
        <article class="deal-card" node_ref=card draggable="true" tabindex="0" data-deal=deal.name.clone()
            aria-label=format!("{}, {}. Left and right arrow keys move it between stages.", deal.name, order.get(position).map(|s| s.1.clone()).unwrap_or_default())
            on:dragstart=move |_| mover.dragging.set(Some(deal_id))
            on:keydown=move |ev| {
                if ev.target() != ev.current_target() {
                    return;
                }
                let target = match ev.key().as_str() {
                    "ArrowRight" => keys_order.get(position + 1),
                    "ArrowLeft" => position.checked_sub(1).and_then(|p| keys_order.get(p)),
                    _ => None,
                };
                if let Some(stage) = target {
                    ev.prevent_default();
                    mover.refocus.set(Some((deal_id, stage.0)));
                    mover.move_to(deal_id, &keys_name, stage);
                }
            }>
            <strong><a href=format!("/deals/{}", deal.id)>{deal.name.clone()}</a></strong>
            <span class="muted">{deal.company_name.clone().unwrap_or_default()}</span>
            <span>{format_money(deal.amount_cents, &deal.currency)}</span>
            <select aria-label=format!("Move {}", deal.name) on:change=move |ev| {
                if let Ok(target) = Uuid::parse_str(&event_target_value(&ev)) {
                    if let Some(stage) = menu_order.iter().find(|(id, _)| *id == target) {
                        mover.move_to(deal_id, &menu_name, stage);
                    }
                }
            }>
                {order.iter().map(|(id, stage_name)| view! { <option value=id.to_string() selected={*id == stage_id}>{stage_name.clone()}</option> }).collect_view()}
            </select>
        </article>
    }
}

/// One deal: its facts, an edit form for every field, and its activity.
#[component]
pub fn DealPage() -> impl IntoView {
    use super::server_fns::{contact_choices, get_deal, UpdateDeal};
    use crate::crm::activities::pages::ActivityPanel;
    use crate::platform::server_fns::list_members;

    let id = use_record_id();
    let update = ServerAction::<UpdateDeal>::new();
    let deal = Resource::new(
        move || (id(), update.version().get()),
        |(id, _)| async move {
            match id {
                Some(id) => get_deal(id).await,
                None => Err(ApiError::new("not_found", "deal not found")),
            }
        },
    );
    let choices = Resource::new(
        || (),
        |_| async move { Ok::<_, ApiError>((list_stages().await?, list_members().await?, company_choices().await?, contact_choices().await?)) },
    );
    view! {
        <ErrorBoundary fallback=page_errors>
            <Transition fallback=|| view! { <p>"Loading…"</p> }>
                {move || Suspend::new(async move {
                    let deal = deal.await?;
                    let (stages, members, companies, contacts) = choices.await?;
                    let stage = stages.iter().find(|s| s.id == deal.stage_id).cloned();
                    let name_of = |id: Option<Uuid>, list: &[(Uuid, String)]| {
                        id.and_then(|id| list.iter().find(|(i, _)| *i == id).map(|(_, n)| n.clone())).unwrap_or_else(|| "—".into())
                    };
                    let owner_name = deal.owner_id
                        .and_then(|id| members.iter().find(|m| m.user_id == id).map(|m| m.name.clone()))
                        .unwrap_or_else(|| "Unassigned".into());
                    let amount_text = crate::platform::formats::Formats::current().decimal(&format!("{}.{:02}", deal.amount_cents / 100, deal.amount_cents % 100));
                    let option = |id: Uuid, name: String, selected: bool| view! { <option value=id.to_string() selected=selected>{name}</option> };
                    Ok::<_, ApiError>(view! {
                        <div class="page-head">
                            <h1 data-testid="deal-name">{deal.name.clone()}</h1>
                            <span class="badge" data-testid="deal-stage">{stage.as_ref().map(|s| s.name.clone()).unwrap_or_default()}</span>
                        </div>
                        <dl class="facts">
                            <dt>"Amount"</dt><dd data-testid="deal-amount">{format_money(deal.amount_cents, &deal.currency)}</dd>
                            <dt>"Company"</dt><dd>{deal.company_id.map(|id| Either::Left(view! { <a href=format!("/companies/{id}")>{name_of(Some(id), &companies)}</a> })).unwrap_or_else(|| Either::Right("—"))}</dd>
                            <dt>"Contact"</dt><dd>{deal.contact_id.map(|id| Either::Left(view! { <a href=format!("/contacts/{id}")>{name_of(Some(id), &contacts)}</a> })).unwrap_or_else(|| Either::Right("—"))}</dd>
                            <dt>"Owner"</dt><dd>{owner_name}</dd>
                            <dt>"Expected close"</dt><dd>{deal.expected_close_date.map(crate::components::format_date).unwrap_or_else(|| "—".into())}</dd>
                            <dt>"Updated"</dt><dd>{crate::components::format_time(deal.updated_at)}</dd>
                        </dl>
                        <section class="card">
                            <h2>"Edit deal"</h2>
                            <ActionForm action=update>
                                <input type="hidden" name="id" value=deal.id.to_string()/>
                                <label>"Deal name"<input name="form[name]" required value=deal.name.clone()/></label>
                                <label>"Stage"
                                    <select name="form[stage_id]">
                                        {stages.iter().map(|s| option(s.id, s.name.clone(), s.id == deal.stage_id)).collect_view()}
                                    </select>
                                </label>
                                <div class="row">
                                    <label>"Amount"<input name="form[amount]" inputmode="decimal" value=amount_text/></label>
                                    <label>"Currency"<input name="form[currency]" maxlength="3" value=deal.currency.clone()/></label>
                                    <label>"Expected close"<input name="form[expected_close_date]" type="date"
                                        value=deal.expected_close_date.map(|d| d.to_string()).unwrap_or_default()/></label>
                                </div>
                                <label>"Owner"
                                    <select name="form[owner_id]">
                                        <option value="">"Unassigned"</option>
                                        {members.iter().map(|m| option(m.user_id, m.name.clone(), Some(m.user_id) == deal.owner_id)).collect_view()}
                                    </select>
                                </label>
                                <label>"Company"
                                    <select name="form[company_id]">
                                        <option value="">"None"</option>
                                        {companies.iter().map(|(id, name)| option(*id, name.clone(), Some(*id) == deal.company_id)).collect_view()}
                                    </select>
                                </label>
                                <label>"Contact"
                                    <select name="form[contact_id]">
                                        <option value="">"None"</option>
                                        {contacts.iter().map(|(id, name)| option(*id, name.clone(), Some(*id) == deal.contact_id)).collect_view()}
                                    </select>
                                </label>
                                <button type="submit">"Save deal"</button>
                            </ActionForm>
                            {action_error(update.value())}
                            {move || update.value().get().and_then(|r| r.ok()).map(|_| view! { <p class="notice">"Saved."</p> })}
                        </section>
                        <ActivityPanel record="deal" id=deal.id/>
                        <p><a href="/pipeline">"← Pipeline"</a></p>
                    })
                })}
            </Transition>
        </ErrorBoundary>
    }
}
