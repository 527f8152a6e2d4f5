//! Pages: home, sign-up, log-in, invitation acceptance, members, API keys,
//! workspace settings.

use leptos::either::Either;
use leptos::prelude::*;

use crate::api_error::ApiError;
use leptos_router::hooks::use_params;
use leptos_router::params::Params;

use crate::components::{action_error, field_error, field_invalid, form_error, format_time, last_error, page_errors};
use crate::platform::server_fns::*;
use crate::platform::types::{Role, Scope};

#[component]
pub fn HomePage() -> impl IntoView {
    view! {
        <section class="hero">
            <h1>"Corral"</h1>
            <p>"Leads, companies, deals and revenue in one place."</p>
            <p class="actions">
                <a class="button" href="/signup">"Create a workspace"</a>
                <a class="button secondary" href="/login">"Log in"</a>
                <a class="button secondary" href="/companies">"Go to companies"</a>
            </p>
        </section>
    }
}

#[component]
pub fn SignUpPage() -> impl IntoView {
    let action = ServerAction::<SignUp>::new();
    let action_error = last_error(action.value());
    view! {
        <section class="card narrow">
            <h1>"Create your workspace"</h1>
            <ActionForm action=action>
                <label>"Your name"<input name="name" required autocomplete="name" aria-invalid=move || field_invalid(action_error, "name")/>{field_error(action_error, "name")}</label>
                <label>"Work email"<input name="email" type="email" required autocomplete="email" aria-invalid=move || field_invalid(action_error, "email")/>{field_error(action_error, "email")}</label>
                <label>"Password"<input name="password" type="password" required minlength="10" autocomplete="new-password" aria-invalid=move || field_invalid(action_error, "password")/>{field_error(action_error, "password")}</label>
                <label>"Workspace name"<input name="workspace_name" required placeholder="Acme Sales" aria-invalid=move || field_invalid(action_error, "workspace_name")/>{field_error(action_error, "workspace_name")}</label>
                <button type="submit">"Sign up"</button>
            </ActionForm>
            {form_error(action_error, &["name", "email", "password", "workspace_name"])}
            <p class="muted">"Already have an account? "<a href="/login">"Log in"</a></p>
        </section>
    }
}

#[component]
pub fn LogInPage() -> impl IntoView {
    let action = ServerAction::<LogIn>::new();
    view! {
        <section class="card narrow">
            <h1>"Log in"</h1>
            <ActionForm action=action>
                <label>"Email"<input name="email" type="email" required autocomplete="email"/></label>
                <label>"Password"<input name="password" type="password" required autocomplete="current-password"/></label>
                <button type="submit">"Log in"</button>
            </ActionForm>
            {action_error(action.value())}
            <p class="muted">"New here? "<a href="/signup">"Create a workspace"</a></p>
        </section>
    }
}

/// The path of an invitation link (`/invite/:token`).
#[derive(Params, Clone, Debug, PartialEq)]
struct InvitationPath {
    token: Option<String>,
}

#[component]
pub fn AcceptInvitationPage() -> impl IntoView {
    let path = use_params::<InvitationPath>();
    let token = move || path.read().as_ref().ok().and_then(|p| p.token.clone()).unwrap_or_default();
    let action = ServerAction::<AcceptInvitation>::new();
    view! {
        <section class="card narrow">
            <h1>"Join the workspace"</h1>
            <p class="muted">"New to Corral? Choose your name and a password. Already have an account? Enter its password."</p>
            <ActionForm action=action>
                <input type="hidden" name="token" prop:value=token/>
                <label>"Your name"<input name="name" autocomplete="name"/></label>
                <label>"Password"<input name="password" type="password" required autocomplete="new-password"/></label>
                <button type="submit">"Join"</button>
            </ActionForm>
            {action_error(action.value())}
        </section>
    }
}

#[component]
pub fn MembersPage() -> impl IntoView {
    let invite = ServerAction::<InviteMember>::new();
    let members = Resource::new(|| (), |_| list_members());
    let invitations = Resource::new(move || invite.version().get(), |_| list_invitations());
    view! {
        <ErrorBoundary fallback=page_errors>
            <h1>"Members"</h1>
            <Transition fallback=|| view! { <p>"Loading…"</p> }>
                {move || Suspend::new(async move {
                    members.await.map(|members| view! {
                            <table class="grid">
                                <thead><tr><th>"Name"</th><th>"Email"</th><th>"Role"</th><th>"Joined"</th></tr></thead>
                                <tbody>
                                    {members.into_iter().map(|m| view! {
                                        <tr><td>{m.name}</td><td>{m.email}</td><td>{m.role.as_str()}</td><td>{format_time(m.joined_at)}</td></tr>
                                    }).collect_view()}
                                </tbody>
                            </table>
                        })
                })}
            </Transition>
            <section class="card">
                <h2>"Invite someone"</h2>
                <ActionForm action=invite attr:class="row">
                    <label>"Email"<input name="email" type="email" required/></label>
                    <label>"Role"
                        <select name="role">
                            {Role::ALL.iter().copied().filter(|r| *r != Role::Owner).map(|r| view! {
                                <option value=r.as_str() selected={r == Role::Member}>{r.as_str()}</option>
                            }).collect_view()}
                        </select>
                    </label>
                    <button type="submit">"Send invitation"</button>
                </ActionForm>
                {move || invite.value().get().map(|result| match result {
                    Ok(invitation) => Either::Left(view! {
                        <p class="notice">"Share this link with "{invitation.email.clone()}": "
                            <code data-testid="invite-link">{format!("/invite/{}", invitation.token.unwrap_or_default())}</code>
                        </p>
                    }),
                    Err(error) => Either::Right(view! { <p class="error" role="alert">{error.message}</p> }),
                })}
                <Transition fallback=|| ()>
                    {move || Suspend::new(async move {
                        invitations.await.ok().filter(|list| !list.is_empty()).map(|list| view! {
                            <h3>"Invitations"</h3>
                            <table class="grid">
                                <thead><tr><th>"Email"</th><th>"Role"</th><th>"Sent"</th><th>"Status"</th></tr></thead>
                                <tbody>
                                    {list.into_iter().map(|i| view! {
                                        <tr>
                                            <td>{i.email}</td>
                                            <td>{i.role.as_str()}</td>
                                            <td>{format_time(i.created_at)}</td>
                                            <td>{if i.accepted_at.is_some() { "accepted" } else { "pending" }}</td>
                                        </tr>
                                    }).collect_view()}
                                </tbody>
                            </table>
                        })
                    })}
                </Transition>
            </section>
        </ErrorBoundary>
    }
}

#[component]
pub fn ApiKeysPage() -> impl IntoView {
    let create = ServerAction::<CreateApiKey>::new();
    let revoke = ServerAction::<RevokeApiKey>::new();
    let keys = Resource::new(move || (create.version().get(), revoke.version().get()), |_| list_api_keys());
    view! {
        <ErrorBoundary fallback=page_errors>
            <h1>"API keys"</h1>
            <p class="muted">"Keys call the JSON API under /api/v1 with "<code>"Authorization: Bearer …"</code>"."</p>
            <section class="card">
                <h2>"New key"</h2>
                <ActionForm action=create>
                    <label>"Name"<input name="name" required placeholder="Zapier sync"/></label>
                    <fieldset class="scopes">
                        <legend>"Scopes"</legend>
                        {Scope::ALL.iter().copied().map(|scope| view! {
                            <label class="check">
                                <input type="checkbox" name=scope.as_str().replace(':', "_") value="on"/>
                                {scope.as_str()}
                                {(scope == Scope::MarketingApprove).then(|| view! {
                                    <span class="muted">" (owners only, with marketing:write: the key signs off sends, never its own)"</span>
                                })}
                            </label>
                        }).collect_view()}
                    </fieldset>
                    <button type="submit">"Create key"</button>
                </ActionForm>
                {move || create.value().get().map(|result| match result {
                    Ok(created) => Either::Left(view! {
                        <div class="notice">
                            <p>"Copy this key now: it will not be shown again."</p>
                            <code class="secret" data-testid="api-key-secret">{created.secret}</code>
                        </div>
                    }),
                    Err(error) => Either::Right(view! { <p class="error" role="alert">{error.message}</p> }),
                })}
            </section>
            <Transition fallback=|| view! { <p>"Loading…"</p> }>
                {move || Suspend::new(async move {
                    Ok::<_, ApiError>(match keys.await? {
                        keys if keys.is_empty() => Either::Left(view! { <p class="empty">"No API keys yet."</p> }),
                        keys => Either::Right(view! {
                            <table class="grid">
                                <thead><tr><th>"Name"</th><th>"Key"</th><th>"Scopes"</th><th>"Created"</th><th>"Last used"</th><th></th></tr></thead>
                                <tbody>
                                    {keys.into_iter().map(|key| {
                                        let scopes = key.scopes.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", ");
                                        view! {
                                            <tr>
                                                <td>{key.name.clone()}</td>
                                                <td><code>{key.prefix.clone()}"…"</code></td>
                                                <td>{scopes}</td>
                                                <td>{format_time(key.created_at)}</td>
                                                <td>{key.last_used_at.map(format_time).unwrap_or_else(|| "never".into())}</td>
                                                <td>
                                                    {match key.revoked_at {
                                                        Some(at) => Either::Left(view! { <span class="muted">"revoked "{format_time(at)}</span> }),
                                                        None => Either::Right(view! {
                                                            <ActionForm action=revoke attr:class="inline">
                                                                <input type="hidden" name="id" value=key.id.to_string()/>
                                                                <button type="submit" class="danger">"Revoke"</button>
                                                            </ActionForm>
                                                        }),
                                                    }}
                                                </td>
                                            </tr>
                                        }
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

/// The workspace's name and time zone: send windows are read in the zone,
/// so moving it voids the approvals that covered the old one (said here).
/// How a locale writes a sample amount and date, beside its name.
fn example(locale: &str) -> String {
    let formats = crate::platform::formats::Formats { locale: locale.into(), time_zone: "UTC".into() };
    let day = chrono::NaiveDate::from_ymd_opt(2026, 12, 31).unwrap_or_default();
    format!("{} · {}", formats.money(123_456_789, "EUR"), formats.date(day))
}

#[component]
pub fn WorkspaceSettingsPage() -> impl IntoView {
    let save = ServerAction::<UpdateWorkspaceSettings>::new();
    let save_error = last_error(save.value());
    let settings = Resource::new(move || save.version().get(), |_| load_workspace_settings());
    view! {
        <ErrorBoundary fallback=page_errors>
            <h1>"Workspace settings"</h1>
            <Transition fallback=|| view! { <p>"Loading…"</p> }>
                {move || Suspend::new(async move {
                    let settings = settings.await?;
                    let workspace = settings.workspace;
                    let current = workspace.time_zone.clone();
                    Ok::<_, ApiError>(view! {
                        <section class="card narrow">
                            <ActionForm action=save>
                                <fieldset disabled=!settings.can_change>
                                    <label>"Name"
                                        <input name="name" required value=workspace.name.clone() aria-invalid=move || field_invalid(save_error, "name")/>
                                        {field_error(save_error, "name")}
                                    </label>
                                    <label>"Time zone"
                                        <select name="time_zone" data-testid="time-zone" aria-invalid=move || field_invalid(save_error, "time_zone")>
                                            {settings.time_zones.into_iter().map(|zone| {
                                                let selected = zone == current;
                                                view! { <option value=zone.clone() selected=selected>{zone.clone()}</option> }
                                            }).collect_view()}
                                        </select>
                                        {field_error(save_error, "time_zone")}
                                    </label>
                                    <label>"Numbers, money and dates"
                                        <select name="locale" data-testid="locale" aria-invalid=move || field_invalid(save_error, "locale")>
                                            {crate::platform::formats::LOCALES.iter().map(|(code, name)| {
                                                let selected = *code == workspace.locale;
                                                view! { <option value=*code selected=selected>{format!("{name} · {}", example(code))}</option> }
                                            }).collect_view()}
                                        </select>
                                        {field_error(save_error, "locale")}
                                    </label>
                                    <label>"Keep finished flow runs for (days; empty keeps them)"
                                        <input name="flow_run_retention_days" type="number" min="1" max="3650" aria-invalid=move || field_invalid(save_error, "flow_run_retention_days")
                                            value=workspace.flow_run_retention_days.map(|d| d.to_string()).unwrap_or_default()/>
                                        {field_error(save_error, "flow_run_retention_days")}
                                    </label>
                                    <p class="muted">
                                        "Senders' send windows are read in this zone. Changing it voids the approval of every \
                                         sequence that is approved or sending: approvers sign off the new hours."
                                    </p>
                                    <button type="submit">"Save"</button>
                                </fieldset>
                            </ActionForm>
                            {(!settings.can_change).then(|| view! { <p class="muted">"Only owners and admins change these settings."</p> })}
                            {form_error(save_error, &["name", "time_zone", "locale", "flow_run_retention_days"])}
                            {move || save.value().get().and_then(Result::ok).map(|saved| view! {
                                <p class="notice" role="status">"Saved: "{saved.name}" · "{saved.time_zone}" · "{saved.locale}</p>
                            })}
                        </section>
                    })
                })}
            </Transition>
        </ErrorBoundary>
    }
}

/// The dashboard's first-steps panel: sample data to load into an empty
/// workspace (or to remove again) and the short checklist of what makes
/// Corral useful. `changed` is bumped when sample data comes or goes, so
/// the page around it reloads its figures.
#[component]
pub fn OnboardingPanel(changed: RwSignal<u32>) -> impl IntoView {
    let load = ServerAction::<LoadSampleData>::new();
    let remove = ServerAction::<RemoveSampleData>::new();
    Effect::new(move |_| {
        if load.value().with(|v| matches!(v, Some(Ok(_)))) || remove.value().with(|v| matches!(v, Some(Ok(_)))) {
            changed.update(|n| *n += 1);
        }
    });
    let state = Resource::new(move || (load.version().get(), remove.version().get()), |_| onboarding());
    view! {
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                let Ok(state) = state.await else { return Either::Left(()) };
                let all_done = state.steps.iter().all(|s| s.done);
                if all_done && !state.empty && !state.sample_data_loaded {
                    return Either::Left(());
                }
                let done = state.steps.iter().filter(|s| s.done).count();
                let total = state.steps.len();
                Either::Right(view! {
                    <section class="card onboarding" data-testid="onboarding" aria-labelledby="onboarding-title">
                        <h2 id="onboarding-title">"Get started"</h2>
                        {(state.can_manage_sample_data && state.empty && !state.sample_data_loaded).then(|| view! {
                            <div class="sample-offer">
                                <p>"See Corral with a realistic sales team's data: companies, contacts, leads from several sources, deals across the pipeline, invoices and payments in the books, a segment and a sequence waiting for approval. Remove it in one step when you are done."</p>
                                <ActionForm action=load attr:class="inline">
                                    <button type="submit" disabled=move || load.pending().get()>"Load sample data"</button>
                                </ActionForm>
                            </div>
                        })}
                        {(state.can_manage_sample_data && state.sample_data_loaded).then(|| view! {
                            <div class="sample-offer">
                                <p>"This workspace holds sample data (marked nowhere else: it looks like your own). Your own records stay when you remove it."</p>
                                <ActionForm action=remove attr:class="inline">
                                    <button type="submit" class="danger" disabled=move || remove.pending().get()>"Remove sample data"</button>
                                </ActionForm>
                            </div>
                        })}
                        {action_error(load.value())}
                        {action_error(remove.value())}
                        <p class="muted">{format!("{done} of {total} first steps done")}</p>
                        <ol class="checklist">
                            {state.steps.into_iter().map(|step| view! {
                                <li class:done=step.done data-step=step.key.clone()>
                                    <span class="check" aria-hidden="true">{if step.done { "✓" } else { "○" }}</span>
                                    <span>
                                        <a href=step.href.clone()>{step.label.clone()}</a>
                                        {step.done.then(|| view! { <span class="visually-hidden">" (done)"</span> })}
                                        <br/><span class="muted">{step.hint.clone()}</span>
                                    </span>
                                </li>
                            }).collect_view()}
                        </ol>
                    </section>
                })
            })}
        </Transition>
    }
}
