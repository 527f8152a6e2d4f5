//! The page frame: a sidebar grouped by module (collapsible, a menu on
//! narrow screens), the command palette (Ctrl/⌘-K) and the keyboard
//! shortcuts (`?`). Which links a member sees is decided by
//! `platform::navigation`; this only draws it.

use leptos::either::Either;
use leptos::prelude::*;
use leptos_router::hooks::{use_location, use_navigate};
use leptos_router::NavigateOptions;

use crate::crm::search::search_everything;
use crate::platform::navigation::{current_link, NavGroup, Navigation};
use crate::platform::server_fns::{navigation, LogOut};

/// Pages a `g` followed by a letter jumps to.
const JUMPS: &[(&str, &str, &str)] = &[
    ("d", "/dashboard", "Dashboard"),
    ("l", "/leads", "Leads"),
    ("c", "/contacts", "Contacts"),
    ("o", "/companies", "Companies"),
    ("p", "/pipeline", "Pipeline"),
    ("t", "/tasks", "Tasks"),
    ("a", "/approvals", "Approvals"),
    ("f", "/flows", "Workflows"),
    ("i", "/invoices", "Invoices"),
];

/// Whether a key press happened while typing (shortcuts then stay out of
/// the way).
fn typing(ev: &leptos::ev::KeyboardEvent) -> bool {
    let Some(target) = ev.target() else { return false };
    let element: leptos::web_sys::HtmlElement = leptos::wasm_bindgen::JsCast::unchecked_into(target);
    matches!(element.tag_name().as_str(), "INPUT" | "TEXTAREA" | "SELECT") || element.is_content_editable()
}

#[component]
pub fn Layout(children: Children) -> impl IntoView {
    let location = use_location();
    // Refetched on every navigation, so the frame follows log-in and
    // log-out redirects and the approval count stays current.
    let nav = Resource::new(move || location.pathname.get(), |_| navigation());
    // The palette lives outside the sidebar, which is drawn again on each
    // navigation: an open palette keeps its input and focus meanwhile.
    let groups = Memo::new(move |_| nav.get().and_then(Result::ok).flatten().map(|n| n.groups).unwrap_or_default());
    let collapsed = RwSignal::new(false);
    let menu_open = RwSignal::new(false);
    let palette_open = RwSignal::new(false);
    let shortcuts_open = RwSignal::new(false);
    let awaiting_jump = RwSignal::new(false);

    // The page was drawn in the formats it was served with; when the member
    // signed in (or the workspace changed its locale or zone) since, it is
    // loaded again so every number and time is written the new way.
    let drawn_with = crate::platform::formats::Formats::current();
    Effect::new(move |_| {
        if let Some(Ok(Some(nav))) = nav.get() {
            if nav.formats != drawn_with {
                let _ = window().location().reload();
            }
        }
    });

    // A navigation closes the menu and the palette.
    Effect::new(move |_| {
        location.pathname.track();
        menu_open.set(false);
        palette_open.set(false);
    });

    let navigate = use_navigate();
    let _ = window_event_listener(leptos::ev::keydown, move |ev| {
        let key = ev.key();
        if (ev.ctrl_key() || ev.meta_key()) && key.eq_ignore_ascii_case("k") {
            ev.prevent_default();
            if groups.with_untracked(Vec::is_empty) {
                return; // signed out: nothing to search
            }
            shortcuts_open.set(false);
            palette_open.update(|open| *open = !*open);
            return;
        }
        if key == "Escape" {
            palette_open.set(false);
            shortcuts_open.set(false);
            menu_open.set(false);
            return;
        }
        if typing(&ev) || ev.ctrl_key() || ev.meta_key() || ev.alt_key() {
            return;
        }
        if awaiting_jump.get_untracked() {
            awaiting_jump.set(false);
            if let Some((_, href, _)) = JUMPS.iter().find(|(k, _, _)| *k == key) {
                ev.prevent_default();
                navigate(href, NavigateOptions::default());
            }
            return;
        }
        match key.as_str() {
            "?" => {
                ev.prevent_default();
                palette_open.set(false);
                shortcuts_open.update(|open| *open = !*open);
            }
            "g" => awaiting_jump.set(true),
            _ => {}
        }
    });

    let log_out = ServerAction::<LogOut>::new();
    view! {
        <a class="skip-link" href="#main">"Skip to content"</a>
        <div class="app" class:collapsed=move || collapsed.get() class:menu-open=move || menu_open.get()>
            <Transition fallback=|| ()>
                {move || Suspend::new(async move {
                    match nav.await {
                        Ok(Some(nav)) => Either::Left(view! {
                            <Sidebar nav collapsed menu_open palette_open shortcuts_open log_out/>
                        }),
                        _ => Either::Right(view! {
                            <header class="topbar">
                                <a class="brand" href="/">"Corral"</a>
                                <nav class="nav" aria-label="Account">
                                    <a href="/login">"Log in"</a>
                                    <a href="/signup">"Sign up"</a>
                                </nav>
                            </header>
                        }),
                    }
                })}
            </Transition>
            <main class="content" id="main" tabindex="-1">{children()}</main>
        </div>
        <CommandPalette groups=groups open=palette_open/>
        <ShortcutsDialog open=shortcuts_open/>
    }
}

#[component]
fn Sidebar(
    nav: Navigation,
    collapsed: RwSignal<bool>,
    menu_open: RwSignal<bool>,
    palette_open: RwSignal<bool>,
    shortcuts_open: RwSignal<bool>,
    log_out: ServerAction<LogOut>,
) -> impl IntoView {
    let location = use_location();
    let groups = nav.groups.clone();
    let current = Memo::new(move |_| current_link(&groups, &location.pathname.get()).map(str::to_string));
    view! {
        <header class="mobile-bar">
            <button type="button" class="secondary menu-toggle" aria-controls="sidebar"
                aria-expanded=move || menu_open.get().to_string()
                on:click=move |_| menu_open.update(|o| *o = !*o)>"Menu"</button>
            <a class="brand" href=nav.home.clone()>"Corral"</a>
            <button type="button" class="secondary" on:click=move |_| palette_open.set(true)>"Search"</button>
        </header>
        <aside id="sidebar" class="sidebar">
            <div class="sidebar-head">
                <a class="brand" href=nav.home.clone()>"Corral"</a>
                <button type="button" class="link collapse-toggle"
                    aria-expanded=move || (!collapsed.get()).to_string()
                    aria-controls="sidebar-nav"
                    on:click=move |_| collapsed.update(|c| *c = !*c)>
                    {move || if collapsed.get() { "Show menu" } else { "Hide menu" }}
                </button>
            </div>
            <div class="sidebar-body">
                <button type="button" class="palette-button" on:click=move |_| palette_open.set(true)>
                    "Search or jump to…"<kbd>"Ctrl K"</kbd>
                </button>
                <nav id="sidebar-nav" aria-label="Main">
                    {nav.groups.into_iter().map(|group| {
                        let NavGroup { label, items } = group;
                        view! {
                            <details class="nav-group" open>
                                <summary>{label}</summary>
                                <ul>
                                    {items.into_iter().map(|item| {
                                        let href = item.href.clone();
                                        let is_current = move || current.get().as_deref() == Some(href.as_str());
                                        view! {
                                            <li>
                                                <a href=item.href.clone() aria-current=move || is_current().then_some("page")>
                                                    <span>{item.label.clone()}</span>
                                                    {item.badge.map(|n| view! {
                                                        <span class="count" data-testid="pending-approvals">{n}<span class="visually-hidden">" pending"</span></span>
                                                    })}
                                                </a>
                                            </li>
                                        }
                                    }).collect_view()}
                                </ul>
                            </details>
                        }
                    }).collect_view()}
                </nav>
                <div class="sidebar-foot">
                    <span class="who" data-testid="current-user">{nav.user.name.clone()}" · "{nav.user.workspace_name.clone()}</span>
                    <span class="muted role">{nav.user.role.as_str()}</span>
                    <button type="button" class="link" on:click=move |_| shortcuts_open.set(true)>"Keyboard shortcuts"</button>
                    <ActionForm action=log_out attr:class="inline">
                        <button type="submit" class="link">"Log out"</button>
                    </ActionForm>
                </div>
            </div>
        </aside>
    }
}

/// Choices beside the sidebar's pages: label, group, address.
const EXTRA_CHOICES: &[(&str, &str, &str)] =
    &[("New company", "Create", "/companies/new"), ("New segment", "Create", "/segments/new"), ("Search everything", "Search", "/search")];

/// One choice of the palette: a page or a record.
#[derive(Clone, Debug, PartialEq)]
struct Choice {
    label: String,
    hint: String,
    href: String,
}

#[component]
fn CommandPalette(groups: Memo<Vec<NavGroup>>, open: RwSignal<bool>) -> impl IntoView {
    let query = RwSignal::new(String::new());
    let selected = RwSignal::new(0usize);
    let input = NodeRef::<leptos::html::Input>::new();
    let navigate = use_navigate();
    let pages = move || -> Vec<Choice> {
        groups.with(|groups| {
            groups
                .iter()
                .flat_map(|g| g.items.iter().map(|i| Choice { label: i.label.clone(), hint: g.label.clone(), href: i.href.clone() }))
                .chain(EXTRA_CHOICES.iter().map(|(label, hint, href)| Choice {
                    label: label.to_string(),
                    hint: hint.to_string(),
                    href: href.to_string(),
                }))
                .collect()
        })
    };
    // Records are searched once two characters are typed, from the input
    // handler (so only in the browser); an answer to an older query than
    // the one now typed is dropped.
    let hits = RwSignal::new(Vec::<crate::crm::search::SearchHit>::new());
    let search = move |q: String| {
        if q.trim().chars().count() < 2 {
            hits.set(Vec::new());
            return;
        }
        leptos::task::spawn_local(async move {
            let found = search_everything(q.clone()).await.unwrap_or_default();
            if query.get_untracked() == q {
                hits.set(found);
            }
        });
    };
    let choices = Memo::new(move |_| {
        let q = query.get().trim().to_lowercase();
        let mut list: Vec<Choice> = pages()
            .into_iter()
            .filter(|c| q.is_empty() || c.label.to_lowercase().contains(&q) || c.hint.to_lowercase().contains(&q))
            .collect();
        if !q.is_empty() {
            list.extend(hits.get().into_iter().map(|h| Choice {
                label: h.title.clone(),
                hint: match &h.subtitle {
                    Some(s) if !s.is_empty() => format!("{} · {s}", h.entity_type),
                    _ => h.entity_type.clone(),
                },
                href: h.href(),
            }));
            list.push(Choice {
                label: format!("Search for “{}”", query.get().trim()),
                hint: "Search".into(),
                href: format!("/search?q={}", super::encode_query_value(query.get().trim())),
            });
        }
        list
    });
    Effect::new(move |_| {
        if open.get() {
            query.set(String::new());
            hits.set(Vec::new());
            selected.set(0);
            request_animation_frame(move || {
                if let Some(el) = input.get_untracked() {
                    let _ = el.focus();
                }
            });
        }
    });
    let go = move |index: usize| {
        if let Some(choice) = choices.get_untracked().get(index) {
            open.set(false);
            navigate(&choice.href, NavigateOptions::default());
        }
    };
    let go_key = go.clone();
    view! {
        <div class="overlay" hidden=move || !open.get() on:click=move |_| open.set(false)>
            <div class="palette" role="dialog" aria-modal="true" aria-label="Command palette" on:click=|ev| ev.stop_propagation()>
                <input node_ref=input type="text" role="combobox" aria-label="Search pages and records"
                    aria-expanded="true" aria-controls="palette-choices" autocomplete="off"
                    placeholder="Search pages and records…"
                    aria-activedescendant=move || format!("palette-choice-{}", selected.get())
                    prop:value=move || query.get()
                    on:input=move |ev| {
                        let typed = event_target_value(&ev);
                        query.set(typed.clone());
                        selected.set(0);
                        search(typed);
                    }
                    on:keydown=move |ev| {
                        let count = choices.get_untracked().len();
                        match ev.key().as_str() {
                            "ArrowDown" if count > 0 => { ev.prevent_default(); selected.update(|s| *s = (*s + 1) % count); }
                            "ArrowUp" if count > 0 => { ev.prevent_default(); selected.update(|s| *s = (*s + count - 1) % count); }
                            "Enter" => { ev.prevent_default(); go_key(selected.get_untracked()); }
                            _ => {}
                        }
                    }/>
                <ul id="palette-choices" role="listbox" aria-label="Results" data-testid="palette-choices">
                    // Drawn only while open: the server never draws it, so
                    // hydration has nothing to match.
                    {move || if open.get() { choices.get() } else { Vec::new() }.into_iter().enumerate().map(|(i, choice)| {
                        let go = go.clone();
                        view! {
                            <li id=format!("palette-choice-{i}") role="option" aria-selected=move || (selected.get() == i).to_string()
                                on:mousedown=move |ev| { ev.prevent_default(); go(i); }
                                on:mouseenter=move |_| selected.set(i)>
                                <span>{choice.label}</span><span class="muted">{choice.hint}</span>
                            </li>
                        }
                    }).collect_view()}
                </ul>
            </div>
        </div>
    }
}

#[component]
fn ShortcutsDialog(open: RwSignal<bool>) -> impl IntoView {
    view! {
        <div class="overlay" hidden=move || !open.get() on:click=move |_| open.set(false)>
            // Drawn only while open, so its text never mixes with the page's.
            {move || open.get().then(|| view! {
            <div class="palette shortcuts" role="dialog" aria-modal="true" aria-labelledby="shortcuts-title" on:click=|ev| ev.stop_propagation()>
                <h2 id="shortcuts-title">"Keyboard shortcuts"</h2>
                <dl class="shortcut-list">
                    <dt><kbd>"Ctrl K"</kbd>" / "<kbd>"⌘ K"</kbd></dt><dd>"Search records and jump to pages"</dd>
                    <dt><kbd>"?"</kbd></dt><dd>"Show this list"</dd>
                    <dt><kbd>"Esc"</kbd></dt><dd>"Close the palette, this list or the menu"</dd>
                    {JUMPS.iter().map(|(key, _, label)| view! {
                        <dt><kbd>"g"</kbd>" then "<kbd>{*key}</kbd></dt><dd>{format!("Go to {label}")}</dd>
                    }).collect_view()}
                    <dt><kbd>"←"</kbd>" / "<kbd>"→"</kbd></dt><dd>"On the pipeline board: move the focused deal to the previous or next stage"</dd>
                </dl>
                <button type="button" on:click=move |_| open.set(false)>"Close"</button>
            </div>
            })}
        </div>
    }
}
