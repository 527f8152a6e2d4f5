//! Marketing pages: sequences and their setup, one sequence (edit, submit,
//! watch it send), the approvers' queue and review, and the built-in
//! mailbox. Email bodies are shown in sandboxed frames: they are HTML the
//! author wrote, and must not run in the app.

use crate::api_error::ApiError;
use leptos::either::Either;
use leptos::prelude::*;

use super::server_fns::*;
use super::types::*;
use crate::components::{action_error, format_time, page_errors, use_record_id, Bar, Chart, ChartSpec, Unit};

fn status_label(status: SequenceStatus) -> &'static str {
    match status {
        SequenceStatus::Draft => "Draft",
        SequenceStatus::PendingApproval => "Waiting for approval",
        SequenceStatus::Approved => "Approved",
        SequenceStatus::Rejected => "Rejected",
        SequenceStatus::Sending => "Sending",
        SequenceStatus::Completed => "Completed",
        SequenceStatus::Paused => "Paused",
        SequenceStatus::Cancelled => "Cancelled",
    }
}

#[component]
pub(super) fn StatusBadge(status: SequenceStatus) -> impl IntoView {
    view! { <span class=format!("badge status-{}", status.as_str()) data-testid="sequence-status">{status_label(status)}</span> }
}

/// An email as the recipient would see it, in a frame that runs nothing.
#[component]
fn EmailFrame(html: String, title: String) -> impl IntoView {
    view! { <iframe class="email-frame" sandbox="" srcdoc=html title=title></iframe> }
}

#[component]
pub fn MarketingPage() -> impl IntoView {
    let preview = ServerAction::<PreviewSequence>::new();
    let brand = ServerAction::<CreateBrand>::new();
    let sender = ServerAction::<CreateSmtpSender>::new();
    let home = Resource::new(move || (brand.version().get(), sender.version().get()), |_| load_marketing());
    view! {
        <ErrorBoundary fallback=page_errors>
            <Transition fallback=|| view! { <p>"Loading…"</p> }>
                {move || Suspend::new(async move {
                    let home = home.await?;
                    let no_brand = home.brands.is_empty();
                    let (brands, senders) = (home.brands.clone(), home.senders.clone());
                    Ok::<_, ApiError>(view! {
                        <div class="page-head">
                            <h1>"Email sequences"</h1>
                            <nav class="actions">
                                <a href="/marketing/campaigns">{format!("Campaigns ({})", home.campaigns.len())}</a>
                                <a href="/approvals">{format!("Approvals ({} pending)", home.pending_approvals)}</a>
                                <a href="/mailbox">"Mailbox"</a>
                            </nav>
                        </div>
                        {if home.sequences.is_empty() {
                            Either::Left(view! { <p class="empty">"No sequences yet. Set up a brand, then preview one below."</p> })
                        } else {
                            Either::Right(view! {
                                <table class="grid">
                                    <thead><tr><th>"Sequence"</th><th>"Status"</th><th class="num">"Emails"</th><th class="num">"Recipients"</th><th>"Created"</th></tr></thead>
                                    <tbody>
                                        {home.sequences.iter().map(|s| view! {
                                            <tr>
                                                <td><a href=format!("/marketing/sequences/{}", s.id)>{s.name.clone()}</a></td>
                                                <td><StatusBadge status=s.status/></td>
                                                <td class="num">{s.steps.len()}</td>
                                                <td class="num">{s.recipient_count.map(|n| n.to_string()).unwrap_or_else(|| "–".into())}</td>
                                                <td>{format_time(s.created_at)}</td>
                                            </tr>
                                        }).collect_view()}
                                    </tbody>
                                </table>
                            })
                        }}
                        <details class="card" open=no_brand.then_some("")>
                            <summary>"New sequence"</summary>
                            <SequenceForm preview segments=home.segments.clone() brands=brands.clone() senders=senders.clone() campaign_id=None/>
                        </details>
                        <details class="card">
                            <summary>{format!("Brands ({})", home.brands.len())}</summary>
                            <ul>{home.brands.iter().map(|b| view! { <li>{format!("{} — {} <{}>", b.name, b.from_name, b.from_email)}</li> }).collect_view()}</ul>
                            <ActionForm action=brand>
                                <label>"Name"<input name="name" required/></label>
                                <label>"From name"<input name="from_name" required/></label>
                                <label>"From address"<input name="from_email" type="email" required/></label>
                                <label>"Reply-to (optional)"<input name="reply_to" type="email"/></label>
                                <label>"Footer with your postal address"<textarea name="footer" required placeholder="Acme Inc., 12 Harbour Street, Bristol"></textarea></label>
                                <button type="submit">"Add brand"</button>
                            </ActionForm>
                            {action_error(brand.value())}
                        </details>
                        <details class="card">
                            <summary>{format!("Senders ({})", home.senders.len())}</summary>
                            <ul>{home.senders.iter().map(|s| view! {
                                <li>{match s.kind {
                                    SenderKind::Mailbox => s.name.clone(),
                                    SenderKind::Smtp => format!(
                                        "{} — {}:{} · {} a minute, {} a day · {}:00–{}:00 on days {:?} ({})",
                                        s.name, s.host.clone().unwrap_or_default(), s.port.unwrap_or_default(), s.per_minute_cap, s.per_day_cap,
                                        s.window_start_hour, s.window_end_hour, s.window_days, s.time_zone
                                    ),
                                }}</li>
                            }).collect_view()}</ul>
                            <p class="hint">"With no SMTP sender, messages go to the built-in Mailbox (nothing leaves this server); once you add one, the mailbox is no longer used."</p>
                            <ActionForm action=sender>
                                <label>"Name"<input name="form[name]" required/></label>
                                <label>"SMTP host"<input name="form[host]" required/></label>
                                <label>"Port"<input name="form[port]" type="number" value="587" required/></label>
                                <label>"Security"
                                    <select name="form[security]">
                                        <option value="starttls">"STARTTLS (587)"</option>
                                        <option value="tls">"TLS (465)"</option>
                                        <option value="none">"None (trusted relay)"</option>
                                    </select>
                                </label>
                                <label>"User name"<input name="form[username]" autocomplete="off"/></label>
                                <label>"Password (never shown again)"<input name="form[password]" type="password" autocomplete="new-password"/></label>
                                <label>"Per minute"<input name="form[per_minute_cap]" type="number" value="60" required/></label>
                                <label>"Per day"<input name="form[per_day_cap]" type="number" value="10000" required/></label>
                                <fieldset>
                                    <legend>"Send window (in the workspace's time zone, set under Workspace)"</legend>
                                    <label>"From hour"<input name="form[window_start_hour]" type="number" min="0" max="23" value="0" required/></label>
                                    <label>"Until hour"<input name="form[window_end_hour]" type="number" min="1" max="24" value="24" required/></label>
                                    <label>"Days (1 = Monday … 7 = Sunday)"<input name="form[window_days]" value="1, 2, 3, 4, 5, 6, 7" required/></label>
                                </fieldset>
                                <button type="submit">"Add SMTP sender"</button>
                            </ActionForm>
                            {action_error(sender.value())}
                            {move || sender.value().get().and_then(Result::ok).map(|created| view! {
                                <p class="notice">"Bounce webhook secret (shown once): "<code>{created.webhook_secret}</code></p>
                            })}
                        </details>
                    })
                })}
            </Transition>
        </ErrorBoundary>
    }
}

/// The "new sequence" form: a preview of N emails for a segment, in a
/// campaign when one is given (a new email campaign otherwise).
#[component]
pub(super) fn SequenceForm(
    preview: ServerAction<PreviewSequence>,
    segments: Vec<(uuid::Uuid, String)>,
    brands: Vec<Brand>,
    senders: Vec<Sender>,
    campaign_id: Option<uuid::Uuid>,
) -> impl IntoView {
    view! {
        <ActionForm action=preview>
            {campaign_id.map(|id| view! { <input type="hidden" name="campaign_id" value=id.to_string()/> })}
            <label>"Segment"
                <select name="segment_id" required>
                    <option value="">"Choose…"</option>
                    {segments.into_iter().map(|(id, name)| view! { <option value=id.to_string()>{name}</option> }).collect_view()}
                </select>
            </label>
            <label>"Brand"
                <select name="brand_id" required>
                    {brands.into_iter().map(|b| view! { <option value=b.id.to_string()>{b.name}</option> }).collect_view()}
                </select>
            </label>
            <label>"Objective"<input name="objective" placeholder="book a demo" required/></label>
            <label>"Number of emails"<input name="num_emails" type="number" min="1" max="10" value="3" required/></label>
            <label>"Send on days (from the first send)"<input name="cadence_days" placeholder="0, 3, 7"/></label>
            <label>"Sender"
                <select name="sender_connector_id">
                    <option value="">"Default"</option>
                    {senders.into_iter().map(|s| view! { <option value=s.id.to_string()>{s.name}</option> }).collect_view()}
                </select>
            </label>
            <button type="submit">"Preview"</button>
        </ActionForm>
        {action_error(preview.value())}
    }
}

#[component]
fn Exclusions(preview: SequencePreview) -> impl IntoView {
    let e = preview.exclusions;
    view! {
        <p data-testid="audience">
            {format!(
                "{} recipients. The segment holds {}; left out: {} without an email, {} unsubscribed, {} otherwise suppressed.",
                preview.recipient_count, e.segment_members, e.no_email, e.unsubscribed, e.suppressed
            )}
        </p>
    }
}

#[component]
pub(super) fn RollupTable(rollup: Rollup) -> impl IntoView {
    let t = &rollup.totals;
    let funnel = Bar::counts([
        ("Sent", t.sent),
        ("Opened", t.opened),
        ("Clicked", t.clicked),
        ("Replied", t.replied),
        ("Unsubscribed", t.unsubscribed),
        ("Bounced", t.bounced),
        ("Unknown", t.unknown),
    ]);
    view! {
        <Chart spec=ChartSpec::bars("What recipients did", Unit::Count, funnel)/>
        <table class="grid">
            <thead><tr><th>"Step"</th><th class="num">"Queued"</th><th class="num">"Sent"</th><th class="num">"Opened"</th><th class="num">"Clicked"</th>
                <th class="num">"Replied"</th><th class="num">"Unsubscribed"</th><th class="num">"Bounced"</th><th class="num">"Skipped"</th><th class="num">"Unknown"</th></tr></thead>
            <tbody>
                {rollup.steps.into_iter().map(|s| view! {
                    <tr>
                        <td>{format!("{}. {}", s.step_index + 1, s.subject)}</td>
                        <td class="num">{s.counts.queued}</td><td class="num">{s.counts.sent}</td><td class="num">{s.counts.opened}</td>
                        <td class="num">{s.counts.clicked}</td><td class="num">{s.counts.replied}</td><td class="num">{s.counts.unsubscribed}</td>
                        <td class="num">{s.counts.bounced}</td><td class="num">{s.counts.skipped}</td><td class="num">{s.counts.unknown}</td>
                    </tr>
                }).collect_view()}
            </tbody>
        </table>
        <p>{format!(
            "Conversions since the first send: {} leads converted, {} deals won, {} invoices paid.",
            rollup.conversions.leads_converted, rollup.conversions.deals_won, rollup.conversions.invoices_paid
        )}</p>
    }
}

/// The sequence named in the path, loaded again whenever `changes` moves
/// (an action of the page was submitted).
fn sequence_resource(changes: impl Fn() -> usize + Send + Sync + 'static) -> Resource<Result<SequenceView, ApiError>> {
    let id = use_record_id();
    Resource::new(
        move || (id(), changes()),
        |(id, _)| async move {
            match id {
                Some(id) => load_sequence(id).await,
                None => Err(ApiError::new("not_found", "no such sequence")),
            }
        },
    )
}

#[component]
pub fn SequencePage() -> impl IntoView {
    let save = ServerAction::<SaveSequenceStep>::new();
    let act = ServerAction::<SequenceAction>::new();
    let page = sequence_resource(move || save.version().get() + act.version().get());
    view! {
        <ErrorBoundary fallback=page_errors>
            <Transition fallback=|| view! { <p>"Loading…"</p> }>
                {move || Suspend::new(async move {
                    let SequenceView { review, rollup } = page.await?;
                    let sequence = review.preview.sequence.clone();
                    let editable = !matches!(sequence.status, SequenceStatus::Sending | SequenceStatus::Completed | SequenceStatus::Cancelled);
                    let sample = review.preview.samples.first().cloned();
                    let (sequence_id, cadence) = (sequence.id, sequence.cadence_days.clone());
                    let action_button = move |action: &'static str, label: &'static str| view! {
                        <ActionForm action=act>
                            <input type="hidden" name="id" value=sequence_id.to_string()/>
                            <input type="hidden" name="action" value=action/>
                            <button type="submit">{label}</button>
                        </ActionForm>
                    };
                    Ok::<_, ApiError>(view! {
                        <div class="page-head">
                            <h1>{sequence.name.clone()}</h1>
                            <StatusBadge status=sequence.status/>
                        </div>
                        {sequence.status_reason.clone().map(|reason| view! { <p class="notice" data-testid="status-reason">{reason}</p> })}
                        <p>{format!("Version {} · from {} <{}> · via {} · days {:?}", sequence.version, review.brand.from_name, review.brand.from_email, review.sender.name, sequence.cadence_days)}</p>
                        <Exclusions preview=review.preview.clone()/>
                        <div class="actions">
                            {matches!(sequence.status, SequenceStatus::Draft | SequenceStatus::Rejected).then(|| action_button("submit", "Submit for approval"))}
                            {review.can_decide.then(|| view! { <a href=format!("/approvals/{}", sequence.id)>"Review for approval"</a> })}
                            {matches!(sequence.status, SequenceStatus::Sending | SequenceStatus::Approved).then(|| action_button("pause", "Pause"))}
                            {(sequence.status == SequenceStatus::Paused).then(|| action_button("resume", "Resume"))}
                            {editable.then(|| action_button("cancel", "Cancel sequence"))}
                        </div>
                        {action_error(act.value())}
                        {move || act.value().get().and_then(Result::ok).map(|message| view! { <p class="notice" role="status">{message}</p> })}
                        <h2>"Emails"</h2>
                        {action_error(save.value())}
                        {sequence.steps.clone().into_iter().enumerate().map(|(i, step)| {
                            let rendered = sample.as_ref().and_then(|s| s.steps.get(i).cloned());
                            let sample_name = sample.as_ref().map(|s| s.name.clone()).unwrap_or_default();
                            view! {
                                <section class="card step" data-testid="step">
                                    <h3>{format!("Email {} · day {}", i + 1, cadence.get(i).copied().unwrap_or_default())}</h3>
                                    <ActionForm action=save>
                                        <input type="hidden" name="id" value=sequence_id.to_string()/>
                                        <input type="hidden" name="index" value=i.to_string()/>
                                        <label>"Subject"<input name="subject" value=step.subject.clone() required disabled=!editable/></label>
                                        <label>"Body (HTML; merge tags such as {{first_name|there}})"<textarea name="body" rows="6" required disabled=!editable>{step.body.clone()}</textarea></label>
                                        {editable.then(|| view! { <button type="submit">"Save email"</button> })}
                                    </ActionForm>
                                    {rendered.map(|r| view! {
                                        <p class="hint">{format!("As {} will see it: {}", sample_name, r.subject)}</p>
                                        <EmailFrame html=r.html title=format!("Email {} for {}", i + 1, sample_name)/>
                                    })}
                                </section>
                            }
                        }).collect_view()}
                        <h2>"Results"</h2>
                        <RollupTable rollup/>
                    })
                })}
            </Transition>
        </ErrorBoundary>
    }
}

#[component]
pub fn ApprovalsPage() -> impl IntoView {
    let queue = Resource::new(|| (), |_| approval_queue());
    view! {
        <ErrorBoundary fallback=page_errors>
            <div class="page-head"><h1>"Approvals"</h1></div>
            <Transition fallback=|| view! { <p>"Loading…"</p> }>
                {move || Suspend::new(async move {
                    Ok::<_, ApiError>(match queue.await? {
                        items if items.is_empty() => Either::Left(view! { <p class="empty">"Nothing is waiting for approval."</p> }),
                        items => Either::Right(view! {
                            <table class="grid" data-testid="approval-queue">
                                <thead><tr><th>"What"</th><th>"Kind"</th><th>"Campaign"</th><th>"Author"</th><th class="num">"Audience"</th><th>"Starts"</th><th>"Asked"</th></tr></thead>
                                <tbody>
                                    {items.into_iter().map(|item| view! {
                                        <tr>
                                            <td><a href=item.review_url>{item.subject_name}</a><br/><small>{item.summary}</small></td>
                                            <td>{match item.request.subject_type {
                                                ApprovalSubject::EmailSequence => "Email sequence",
                                                ApprovalSubject::AdCampaign => "Ad campaign",
                                                ApprovalSubject::BlogPost => "Blog post",
                                            }}</td>
                                            <td>{item.campaign_name}</td>
                                            <td>{item.author}</td>
                                            <td class="num">{item.audience_size}</td>
                                            <td>{item.first_send_at.map(format_time).unwrap_or_default()}</td>
                                            <td>{format_time(item.request.created_at)}</td>
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

#[component]
pub fn ReviewPage() -> impl IntoView {
    let act = ServerAction::<SequenceAction>::new();
    let reject = ServerAction::<RejectSequence>::new();
    let page = sequence_resource(move || act.version().get() + reject.version().get());
    view! {
        <ErrorBoundary fallback=page_errors>
            <Transition fallback=|| view! { <p>"Loading…"</p> }>
                {move || Suspend::new(async move {
                    let SequenceView { review, .. } = page.await?;
                    let sequence = review.preview.sequence.clone();
                    Ok::<_, ApiError>(view! {
                        <div class="page-head">
                            <h1>{format!("Review: {}", sequence.name)}</h1>
                            <StatusBadge status=sequence.status/>
                        </div>
                        <p>{format!("To the segment {} · from {} <{}> · via {} ({} a minute, {} a day) · days {:?}",
                            review.segment_name, review.brand.from_name, review.brand.from_email, review.sender.name,
                            review.sender.per_minute_cap, review.sender.per_day_cap, sequence.cadence_days)}</p>
                        <Exclusions preview=review.preview.clone()/>
                        {(!review.changes_since_approval.is_empty()).then(|| view! {
                            <h2>"Changed since the last approval"</h2>
                            <table class="grid" data-testid="changes">
                                <thead><tr><th>"What"</th><th>"Approved"</th><th>"Now"</th></tr></thead>
                                <tbody>
                                    {review.changes_since_approval.iter().map(|c| view! {
                                        <tr><td>{c.field.clone()}</td><td><code>{c.before.to_string()}</code></td><td><code>{c.after.to_string()}</code></td></tr>
                                    }).collect_view()}
                                </tbody>
                            </table>
                        })}
                        {if review.can_decide {
                            Either::Left(view! {
                                <div class="card decide">
                                    <ActionForm action=act>
                                        <input type="hidden" name="id" value=sequence.id.to_string()/>
                                        <input type="hidden" name="action" value="approve"/>
                                        <button type="submit">"Approve and release"</button>
                                    </ActionForm>
                                    <ActionForm action=reject>
                                        <input type="hidden" name="id" value=sequence.id.to_string()/>
                                        <label>"Reason for rejecting"<textarea name="reason" required></textarea></label>
                                        <button type="submit">"Reject"</button>
                                    </ActionForm>
                                    {action_error(act.value())}
                                    {action_error(reject.value())}
                                </div>
                            })
                        } else {
                            Either::Right(view! { <p class="hint">"You cannot decide on this sequence (you wrote it, your role does not approve, or it is not waiting for a decision)."</p> })
                        }}
                        {move || act.value().get().and_then(Result::ok).map(|message| view! { <p class="notice" role="status">{message}</p> })}
                        <h2>"As recipients will see it"</h2>
                        {review.preview.samples.iter().map(|sample| view! {
                            <section class="card">
                                <h3>{format!("{} <{}>", sample.name, sample.email)}</h3>
                                {sample.steps.iter().map(|step| view! {
                                    <p><strong>{format!("Day {}: ", step.send_on_day)}</strong>{step.subject.clone()}</p>
                                    <EmailFrame html=step.html.clone() title=format!("{} for {}", step.subject, sample.name)/>
                                }).collect_view()}
                            </section>
                        }).collect_view()}
                        <h2>"Decisions"</h2>
                        <ul>
                            {review.requests.iter().map(|r| view! {
                                <li>{format!("{} · version {} · {}{}", format_time(r.created_at), r.subject_version, r.status.as_str(),
                                    r.reason.as_ref().map(|reason| format!(": {reason}")).unwrap_or_default())}</li>
                            }).collect_view()}
                        </ul>
                    })
                })}
            </Transition>
        </ErrorBoundary>
    }
}

#[component]
pub fn MailboxPage() -> impl IntoView {
    let messages = Resource::new(|| (), |_| list_mailbox(None));
    view! {
        <ErrorBoundary fallback=page_errors>
            <div class="page-head"><h1>"Mailbox"</h1></div>
            <p class="hint">"The built-in mailbox: what sequences sent while no SMTP sender was set up. Nothing here left this server."</p>
            <Transition fallback=|| view! { <p>"Loading…"</p> }>
                {move || Suspend::new(async move {
                    Ok::<_, ApiError>(match messages.await?.data {
                        list if list.is_empty() => Either::Left(view! { <p class="empty">"No messages yet."</p> }),
                        list => Either::Right(view! {
                            <table class="grid">
                                <thead><tr><th>"To"</th><th>"Subject"</th><th>"From"</th><th>"Received"</th></tr></thead>
                                <tbody>
                                    {list.into_iter().map(|m| view! {
                                        <tr>
                                            <td>{m.to_email}</td>
                                            <td><a href=format!("/mailbox/{}", m.id)>{m.subject}</a></td>
                                            <td>{m.from}</td>
                                            <td>{format_time(m.created_at)}</td>
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

#[component]
pub fn MailboxMessagePage() -> impl IntoView {
    let id = use_record_id();
    let message = Resource::new(id, |id| async move {
        match id {
            Some(id) => read_mailbox_message(id).await,
            None => Err(ApiError::new("not_found", "no such message")),
        }
    });
    view! {
        <ErrorBoundary fallback=page_errors>
            <Transition fallback=|| view! { <p>"Loading…"</p> }>
                {move || Suspend::new(async move {
                    let m = message.await?;
                    let headers = m.raw.clone().unwrap_or_default().split("\r\n\r\n").next().unwrap_or_default().to_string();
                    Ok::<_, ApiError>(view! {
                        <div class="page-head"><h1>{m.subject.clone()}</h1></div>
                        <p>{format!("From {} to {} · {}", m.from, m.to_email, format_time(m.created_at))}</p>
                        <EmailFrame html=m.html_body.clone() title=m.subject.clone()/>
                        <details class="card"><summary>"Headers"</summary><pre>{headers}</pre></details>
                    })
                })}
            </Transition>
        </ErrorBoundary>
    }
}
