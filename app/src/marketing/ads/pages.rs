//! Ad pages: the accounts and campaigns (with the forms to connect an
//! account and draft a campaign), and one campaign — what an approver
//! reviews (variants as each platform shows them, budget, audience, changes
//! since approval), the gate's buttons, spend and the platform work.

use leptos::either::Either;
use leptos::prelude::*;

use super::server_fns::*;
use super::types::*;
use crate::api_error::ApiError;
use crate::components::{action_error, format_time, page_errors, use_record_id};
use crate::crm::deals::types::format_money;

fn status_label(status: AdCampaignStatus) -> &'static str {
    match status {
        AdCampaignStatus::Draft => "Draft",
        AdCampaignStatus::PendingApproval => "Waiting for approval",
        AdCampaignStatus::Approved => "Approved",
        AdCampaignStatus::Rejected => "Rejected",
        AdCampaignStatus::Launching => "Launching",
        AdCampaignStatus::Active => "Active",
        AdCampaignStatus::Paused => "Paused",
        AdCampaignStatus::Cancelled => "Cancelled",
        AdCampaignStatus::Completed => "Completed",
        AdCampaignStatus::Failed => "Failed",
    }
}

#[component]
fn AdStatus(status: AdCampaignStatus) -> impl IntoView {
    view! { <span class=format!("badge status-{}", status.as_str()) data-testid="ad-status">{status_label(status)}</span> }
}

#[component]
pub fn AdsPage() -> impl IntoView {
    let connect = ServerAction::<ConnectAdAccount>::new();
    let create = ServerAction::<CreateAdCampaign>::new();
    let overview = Resource::new(move || connect.version().get(), |_| load_ads());
    view! {
        <ErrorBoundary fallback=page_errors>
            <div class="page-head">
                <h1>"Ads"</h1>
                <nav class="actions"><a href="/marketing/campaigns">"Campaigns"</a><a href="/approvals">"Approvals"</a></nav>
            </div>
            <Transition fallback=|| view! { <p>"Loading…"</p> }>
                {move || Suspend::new(async move {
                    let AdsOverview { accounts, campaigns, brands, segments } = overview.await?;
                    let no_accounts = accounts.is_empty();
                    let account_options = accounts.clone();
                    Ok::<_, ApiError>(view! {
                        <h2>"Ad campaigns"</h2>
                        {if campaigns.is_empty() {
                            Either::Left(view! { <p class="empty">"No ad campaigns yet."</p> })
                        } else {
                            Either::Right(view! {
                                <table class="grid" data-testid="ad-campaigns">
                                    <thead><tr><th>"Name"</th><th>"Platform"</th><th>"Status"</th><th class="num">"Daily budget"</th><th class="num">"Monthly"</th><th>"Created"</th></tr></thead>
                                    <tbody>
                                        {campaigns.into_iter().map(|c| view! {
                                            <tr>
                                                <td><a href=format!("/ads/{}", c.id)>{c.name.clone()}</a></td>
                                                <td>{c.platform.label()}</td>
                                                <td><AdStatus status=c.status/></td>
                                                <td class="num">{format_money(c.daily_budget_minor, &c.currency)}</td>
                                                <td class="num">{format_money(c.monthly_budget_minor, &c.currency)}</td>
                                                <td>{format_time(c.created_at)}</td>
                                            </tr>
                                        }).collect_view()}
                                    </tbody>
                                </table>
                            })
                        }}
                        <h2>"New ad campaign"</h2>
                        {if no_accounts {
                            Either::Left(view! { <p class="empty">"Connect an ad account first."</p> })
                        } else {
                            Either::Right(view! {
                                <ActionForm action=create attr:class="card form-grid" attr:data-testid="new-ad-campaign">
                                    <label>"Ad account"<select name="form[ad_account_id]" required>
                                        {account_options.iter().map(|a| view! { <option value=a.id.to_string()>{format!("{} · {} ({})", a.platform.label(), a.name, a.currency)}</option> }).collect_view()}
                                    </select></label>
                                    <label>"Name"<input name="form[name]" placeholder="Named after the brand, segment and platform when empty"/></label>
                                    <label>"Objective"<select name="form[objective]">
                                        <option value="leads">"Leads"</option><option value="traffic">"Traffic"</option><option value="awareness">"Awareness"</option>
                                    </select></label>
                                    <label>"Segment"<select name="form[segment_id]" required>
                                        {segments.iter().map(|(id, name)| view! { <option value=id.to_string()>{name.clone()}</option> }).collect_view()}
                                    </select></label>
                                    <label>"Brand"<select name="form[brand_id]" required>
                                        {brands.iter().map(|b| view! { <option value=b.id.to_string()>{b.name.clone()}</option> }).collect_view()}
                                    </select></label>
                                    <label>"Daily budget"<input name="form[daily_budget]" inputmode="decimal" required placeholder="100.00"/></label>
                                    <label>"Landing page"<input name="form[final_url]" type="url" required placeholder="https://"/></label>
                                    <label>"Start"<input name="form[start_date]" type="date"/></label>
                                    <label>"End"<input name="form[end_date]" type="date"/></label>
                                    <button type="submit">"Draft campaign"</button>
                                    <p class="hint">"Three variants are written from templates; edit them on the next page. Nothing reaches the platform before an approver approves it."</p>
                                </ActionForm>
                            })
                        }}
                        {action_error(create.value())}
                        <h2>"Ad accounts"</h2>
                        <ul class="plain" data-testid="ad-accounts">
                            {accounts.iter().map(|a| view! {
                                <li>{format!("{} · {} · {} · {}", a.platform.label(), a.name, a.external_account_id, a.currency)}</li>
                            }).collect_view()}
                        </ul>
                        <details class="card" open=no_accounts>
                            <summary>"Connect an ad account"</summary>
                            <ActionForm action=connect attr:class="form-grid">
                                <label>"Platform"<select name="form[platform]">
                                    <option value="google">"Google Ads"</option><option value="linkedin">"LinkedIn"</option><option value="meta">"Meta"</option>
                                </select></label>
                                <label>"Name"<input name="form[name]" required/></label>
                                <label>"Account id"<input name="form[external_account_id]" required placeholder="123-456-7890, 507404993 or act_…"/></label>
                                <label>"Currency"<input name="form[currency]" placeholder="USD" maxlength="3"/></label>
                                <label>"Access token"<input name="form[access_token]" type="password" required autocomplete="off"/></label>
                                <label>"Developer token (Google)"<input name="form[developer_token]" type="password" autocomplete="off"/></label>
                                <label>"Campaign group id (LinkedIn)"<input name="form[campaign_group_id]"/></label>
                                <label>"API root (proxies only)"<input name="form[api_base_url]" type="url"/></label>
                                <button type="submit">"Connect"</button>
                                <p class="hint">"Tokens are stored for the platform calls and never shown again."</p>
                            </ActionForm>
                            {action_error(connect.value())}
                        </details>
                    })
                })}
            </Transition>
        </ErrorBoundary>
    }
}

#[component]
pub fn AdCampaignPage() -> impl IntoView {
    let act = ServerAction::<AdCampaignAction>::new();
    let reject = ServerAction::<RejectAdCampaign>::new();
    let save = ServerAction::<SaveAdCreative>::new();
    let id = use_record_id();
    let page = Resource::new(
        move || (id(), act.version().get() + reject.version().get() + save.version().get()),
        |(id, _)| async move {
            match id {
                Some(id) => load_ad_campaign(id).await,
                None => Err(ApiError::new("not_found", "no such ad campaign")),
            }
        },
    );
    // A launch finishes in the background: look again while it is under way.
    let (tick, set_tick) = signal(0u32);
    Effect::new(move |_| {
        if let Some(Ok(view)) = page.get() {
            if view.review.ad_campaign.status == AdCampaignStatus::Launching {
                set_timeout(
                    move || {
                        set_tick.update(|t| *t += 1);
                        page.refetch();
                    },
                    std::time::Duration::from_millis(700),
                );
            }
        }
        tick.get()
    });
    view! {
        <ErrorBoundary fallback=page_errors>
            <Transition fallback=|| view! { <p>"Loading…"</p> }>
                {move || Suspend::new(async move {
                    let AdCampaignView { review, metrics, jobs } = page.await?;
                    let campaign = review.ad_campaign.clone();
                    let campaign_id = campaign.id;
                    let status = campaign.status;
                    let editable = !matches!(status, AdCampaignStatus::Active | AdCampaignStatus::Launching | AdCampaignStatus::Cancelled | AdCampaignStatus::Completed);
                    let button = move |action: &'static str, label: &'static str| view! {
                        <ActionForm action=act>
                            <input type="hidden" name="id" value=campaign_id.to_string()/>
                            <input type="hidden" name="action" value=action/>
                            <button type="submit">{label}</button>
                        </ActionForm>
                    };
                    let currency = campaign.currency.clone();
                    Ok::<_, ApiError>(view! {
                        <div class="page-head">
                            <h1>{campaign.name.clone()}</h1>
                            <AdStatus status/>
                        </div>
                        {campaign.status_reason.clone().map(|reason| view! { <p class="notice" data-testid="status-reason">{reason}</p> })}
                        <dl class="facts">
                            <dt>"Platform"</dt><dd>{format!("{} · {}", campaign.platform.label(), review.account_name)}</dd>
                            <dt>"Objective"</dt><dd>{campaign.objective.as_str()}</dd>
                            <dt>"Daily budget"</dt><dd data-testid="daily-budget">{format!("{} ({} a month)", format_money(campaign.daily_budget_minor, &currency), format_money(campaign.monthly_budget_minor, &currency))}</dd>
                            <dt>"Audience"</dt><dd>{format!("{} · {} people to match", review.segment_name, review.audience_size)}</dd>
                            <dt>"Brand"</dt><dd>{review.brand.name.clone()}</dd>
                            <dt>"Schedule"</dt><dd>{format!("{} – {}", campaign.start_date.map(crate::components::format_date).unwrap_or_else(|| "on launch".into()), campaign.end_date.map(crate::components::format_date).unwrap_or_else(|| "no end".into()))}</dd>
                            <dt>"Version"</dt><dd>{campaign.version}</dd>
                            {campaign.audience.clone().map(|a| view! {
                                <dt>"Audience upload"</dt>
                                <dd data-testid="audience-upload">{format!("{} · {} of {} sent{}", a.status.as_str(), a.uploaded_count, a.member_count,
                                    a.matched_count.map(|m| format!(" · {m} received")).unwrap_or_default())}</dd>
                            })}
                        </dl>
                        <div class="actions">
                            {matches!(status, AdCampaignStatus::Draft | AdCampaignStatus::Rejected | AdCampaignStatus::Failed).then(|| button("submit", "Request approval"))}
                            {review.can_decide.then(|| button("approve", "Approve"))}
                            {matches!(status, AdCampaignStatus::Approved | AdCampaignStatus::Failed).then(|| button("launch", "Launch"))}
                            {matches!(status, AdCampaignStatus::Active | AdCampaignStatus::Launching).then(|| button("pause", "Pause"))}
                            {(status == AdCampaignStatus::Paused).then(|| button("resume", "Resume"))}
                            {campaign.external_campaign_id.is_some().then(|| button("sync", "Sync metrics"))}
                            {(!matches!(status, AdCampaignStatus::Cancelled | AdCampaignStatus::Completed)).then(|| button("cancel", "Cancel campaign"))}
                            <a href=format!("/api/v1/marketing/ads/{campaign_id}/audience.csv") download="">"Export for ads"</a>
                        </div>
                        {action_error(act.value())}
                        {move || act.value().get().and_then(Result::ok).map(|message| view! { <p class="notice" role="status">{message}</p> })}
                        {review.can_decide.then(|| view! {
                            <ActionForm action=reject attr:class="inline-form">
                                <input type="hidden" name="id" value=campaign_id.to_string()/>
                                <label>"Reason"<input name="reason" required/></label>
                                <button type="submit">"Reject"</button>
                            </ActionForm>
                            {action_error(reject.value())}
                        })}
                        {(!review.changes_since_approval.is_empty()).then(|| view! {
                            <h2>"Changed since the last approval"</h2>
                            <ul data-testid="changes">
                                {review.changes_since_approval.iter().map(|c| view! {
                                    <li><code>{c.field.clone()}</code>{format!(": {} → {}", c.before, c.after)}</li>
                                }).collect_view()}
                            </ul>
                        })}
                        <h2>"Creative variants"</h2>
                        {action_error(save.value())}
                        <div class="ad-previews">
                            {review.previews.into_iter().enumerate().map(|(i, p)| view! {
                                <section class="card ad-preview" data-testid="ad-preview">
                                    <p class="hint">{format!("{} · {} · sponsored", p.platform.label(), p.advertiser)}</p>
                                    <h3>{p.headline.clone()}</h3>
                                    <p>{p.description.clone()}</p>
                                    <p class="hint">{p.display_url.clone()}</p>
                                    <span class="badge">{p.call_to_action_label.clone()}</span>
                                    {editable.then(|| view! {
                                        <ActionForm action=save>
                                            <input type="hidden" name="id" value=campaign_id.to_string()/>
                                            <input type="hidden" name="index" value=i.to_string()/>
                                            <label>{format!("Headline (at most {})", p.limits.headline)}<input name="headline" value=p.headline.clone() required/></label>
                                            <label>{format!("Description (at most {})", p.limits.description)}<textarea name="description" rows="2" required>{p.description.clone()}</textarea></label>
                                            <button type="submit">"Save variant"</button>
                                        </ActionForm>
                                    })}
                                </section>
                            }).collect_view()}
                        </div>
                        <h2>"Spend"</h2>
                        <p data-testid="ad-spend">{format!("{} spent · {} impressions · {} clicks · {} conversions{}", format_money(metrics.spend_minor, &metrics.currency),
                            metrics.impressions, metrics.clicks, metrics.conversions,
                            metrics.last_synced_at.map(|t| format!(" · synced {}", format_time(t))).unwrap_or_default())}</p>
                        {(!metrics.days.is_empty()).then(|| view! {
                            <table class="grid">
                                <thead><tr><th>"Day"</th><th class="num">"Spend"</th><th class="num">"Impressions"</th><th class="num">"Clicks"</th><th class="num">"Conversions"</th></tr></thead>
                                <tbody>{metrics.days.iter().map(|d| view! {
                                    <tr><td>{crate::components::format_date(d.day)}</td><td class="num">{format_money(d.spend_minor, &metrics.currency)}</td><td class="num">{d.impressions}</td><td class="num">{d.clicks}</td><td class="num">{d.conversions}</td></tr>
                                }).collect_view()}</tbody>
                            </table>
                        })}
                        <h2>"Platform work"</h2>
                        <ul class="plain" data-testid="ad-jobs">
                            {jobs.into_iter().map(|j| view! {
                                <li>{format!("{} · {} · {} attempt(s){} · {}", j.kind.replace('_', " "), j.status, j.attempts,
                                    j.last_error.map(|e| format!(" · {e}")).unwrap_or_default(), format_time(j.created_at))}</li>
                            }).collect_view()}
                        </ul>
                        <h2>"Approval history"</h2>
                        <ul class="plain">
                            {review.requests.into_iter().map(|r| view! {
                                <li>{format!("{} · version {} · {}{}", format_time(r.created_at), r.subject_version, r.status.as_str(),
                                    r.reason.map(|x| format!(" · {x}")).unwrap_or_default())}</li>
                            }).collect_view()}
                        </ul>
                    })
                })}
            </Transition>
        </ErrorBoundary>
    }
}
