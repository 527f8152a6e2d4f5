//! Revenue pages: invoices (list, new, the printable invoice with its
//! payments and postings), the ledger (journal, chart, trial balance), an
//! account's ledger, and receivables aging.

use crate::api_error::ApiError;
use leptos::either::Either;
use leptos::prelude::*;
use leptos_router::components::Form;
use leptos_router::hooks::use_query_map;

use super::server_fns::*;
use super::types::*;
use crate::components::{
    action_error, format_date, format_time, page_errors, use_record_id, Bar, Chart, ChartKind, ChartSpec, Series, Unit,
};
use crate::crm::deals::types::format_money;

fn status_badge(status: InvoiceStatus) -> impl IntoView {
    view! { <span class=format!("badge {}", status.as_str()) data-testid="invoice-status">{status.as_str().replace('_', " ")}</span> }
}

fn quantity_text(milli: i64) -> String {
    if milli % QUANTITY_SCALE == 0 {
        (milli / QUANTITY_SCALE).to_string()
    } else {
        format!("{}", milli as f64 / QUANTITY_SCALE as f64)
    }
}

/// The fields of one line, named `{prefix}[…]` for the server function's
/// `LineForm` argument.
fn line_fields(prefix: &'static str) -> impl IntoView {
    view! {
        <label>"Kind"
            <select name=format!("{prefix}[kind]")>
                <option value="service">"Service"</option>
                <option value="product">"Product"</option>
            </select>
        </label>
        <label>"Description"<input name=format!("{prefix}[description]") required/></label>
        <label>"Quantity"<input name=format!("{prefix}[quantity]") inputmode="decimal" value="1" required/></label>
        <label>"Unit price"<input name=format!("{prefix}[unit_price]") inputmode="decimal" placeholder="1,500.00" required/></label>
        <label>"Tax %"<input name=format!("{prefix}[tax_percent]") inputmode="decimal" placeholder="0"/></label>
    }
}

#[component]
pub fn InvoicesPage() -> impl IntoView {
    let query = use_query_map();
    let create = ServerAction::<CreateInvoice>::new();
    let invoices =
        Resource::new(move || (query.read().get("status"), query.read().get("cursor")), |(status, cursor)| list_invoices(status, cursor));
    let companies = Resource::new(|| (), |_| crate::crm::companies::server_fns::company_choices());
    view! {
        <ErrorBoundary fallback=page_errors>
            <div class="page-head">
                <h1>"Invoices"</h1>
                <a class="button secondary" href="/receivables">"Receivables aging"</a>
            </div>
            <details class="card">
                <summary>"New invoice"</summary>
                <ActionForm action=create>
                    <div class="row">
                        <label>"Customer"
                            <Transition fallback=|| ()>
                                {move || Suspend::new(async move {
                                    let companies = companies.await.unwrap_or_default();
                                    view! {
                                        <select name="form[company_id]">
                                            <option value="">"None"</option>
                                            {companies.into_iter().map(|(id, name)| view! { <option value=id.to_string()>{name}</option> }).collect_view()}
                                        </select>
                                    }
                                })}
                            </Transition>
                        </label>
                        <label>"Currency"<input name="form[currency]" value="USD" maxlength="3"/></label>
                        <label>"Due date"<input name="form[due_date]" type="date"/></label>
                    </div>
                    <div class="row">{line_fields("form[line]")}</div>
                    <label>"Notes"<input name="form[notes]"/></label>
                    <button type="submit">"Create invoice"</button>
                </ActionForm>
                {action_error(create.value())}
            </details>
            <Form method="GET" action="" attr:class="filters">
                <select name="status" aria-label="Status">
                    <option value="">"Any status"</option>
                    {InvoiceStatus::ALL.iter().map(|s| view! {
                        <option value=s.as_str() selected=move || query.read().get("status").as_deref() == Some(s.as_str())>{s.as_str().replace('_', " ")}</option>
                    }).collect_view()}
                </select>
                <button type="submit">"Filter"</button>
            </Form>
            <Transition fallback=|| view! { <p>"Loading…"</p> }>
                {move || Suspend::new(async move {
                    Ok::<_, ApiError>(match invoices.await? {
                        page if page.data.is_empty() => Either::Left(view! { <p class="empty">"No invoices yet."</p> }),
                        page => Either::Right(view! {
                            <table class="grid" data-testid="invoices">
                                <thead><tr><th>"Number"</th><th>"Status"</th><th>"Issued"</th><th>"Due"</th><th>"Total"</th><th>"Balance"</th></tr></thead>
                                <tbody>
                                    {page.data.into_iter().map(|i| view! {
                                        <tr>
                                            <td><a href=format!("/invoices/{}", i.id)>{i.number.clone()}</a></td>
                                            <td>{status_badge(i.status)}</td>
                                            <td>{format_date(i.issue_date)}</td>
                                            <td>{format_date(i.due_date)}</td>
                                            <td class="num">{format_money(i.total_cents, &i.currency)}</td>
                                            <td class="num">{format_money(i.balance_cents, &i.currency)}</td>
                                        </tr>
                                    }).collect_view()}
                                </tbody>
                            </table>
                            {page.next_cursor.map(|c| view! { <p class="pager"><a class="button secondary" href=format!("/invoices?cursor={c}")>"Next page →"</a></p> })}
                        }),
                    })
                })}
            </Transition>
        </ErrorBoundary>
    }
}

/// The invoice as a customer would print it, with the actions around it
/// hidden from print.
#[component]
pub fn InvoicePage() -> impl IntoView {
    let id = use_record_id();
    let add_line = ServerAction::<AddInvoiceLine>::new();
    let send = ServerAction::<SendInvoice>::new();
    let void = ServerAction::<VoidInvoice>::new();
    let pay = ServerAction::<RecordInvoicePayment>::new();
    let view_data = Resource::new(
        move || (id(), add_line.version().get(), send.version().get(), void.version().get(), pay.version().get()),
        |(id, ..)| async move {
            match id {
                Some(id) => invoice_view(id).await,
                None => Err(ApiError::new("not_found", "invoice not found")),
            }
        },
    );
    view! {
        <ErrorBoundary fallback=page_errors>
            <Transition fallback=|| view! { <p>"Loading…"</p> }>
                {move || Suspend::new(async move {
                    let InvoiceDetails { invoice, company_name, payments, entries } = view_data.await?;
                    let id = invoice.id;
                    let currency = invoice.currency.clone();
                    let money = move |cents: i64| format_money(cents, &currency);
                    let draft = invoice.status == InvoiceStatus::Draft;
                    let payable = matches!(invoice.status, InvoiceStatus::Sent | InvoiceStatus::PartiallyPaid);
                    let voidable = matches!(invoice.status, InvoiceStatus::Draft | InvoiceStatus::Sent);
                    let balance_text = crate::platform::formats::Formats::current().decimal(&format!("{}.{:02}", invoice.balance_cents / 100, invoice.balance_cents % 100));
                    Ok::<_, ApiError>(view! {
                        <article class="invoice-sheet" data-testid="invoice">
                            <header class="page-head">
                                <div>
                                    <h1>"Invoice "<span data-testid="invoice-number">{invoice.number.clone()}</span></h1>
                                    <p class="muted">"Billed to: "{company_name.clone().unwrap_or_else(|| "—".into())}</p>
                                </div>
                                {status_badge(invoice.status)}
                            </header>
                            <dl class="facts">
                                <dt>"Issued"</dt><dd>{format_date(invoice.issue_date)}</dd>
                                <dt>"Due"</dt><dd>{format_date(invoice.due_date)}</dd>
                                <dt>"Currency"</dt><dd>{invoice.currency.clone()}</dd>
                            </dl>
                            <table class="grid" data-testid="invoice-lines">
                                <thead><tr><th>"Item"</th><th>"Kind"</th><th class="num">"Qty"</th><th class="num">"Unit price"</th><th class="num">"Tax"</th><th class="num">"Amount"</th></tr></thead>
                                <tbody>
                                    {invoice.lines.iter().map(|l| view! {
                                        <tr>
                                            <td>{l.description.clone()}</td>
                                            <td>{l.kind.as_str()}</td>
                                            <td class="num">{quantity_text(l.quantity_milli)}</td>
                                            <td class="num">{money(l.unit_amount_cents)}</td>
                                            <td class="num">{format!("{}%", l.tax_rate_bps as f64 / 100.0)}</td>
                                            <td class="num">{money(l.amount_cents)}</td>
                                        </tr>
                                    }).collect_view()}
                                </tbody>
                                <tfoot>
                                    <tr><td colspan="5">"Subtotal"</td><td class="num">{money(invoice.subtotal_cents)}</td></tr>
                                    <tr><td colspan="5">"Tax"</td><td class="num">{money(invoice.tax_cents)}</td></tr>
                                    <tr><th colspan="5">"Total"</th><th class="num" data-testid="invoice-total">{money(invoice.total_cents)}</th></tr>
                                    <tr><td colspan="5">"Paid"</td><td class="num">{money(invoice.paid_cents)}</td></tr>
                                    <tr><th colspan="5">"Balance due"</th><th class="num" data-testid="invoice-balance">{money(invoice.balance_cents)}</th></tr>
                                </tfoot>
                            </table>
                            {invoice.notes.clone().map(|n| view! { <p class="description">{n}</p> })}
                        </article>
                        <div class="no-print">
                            <div class="actions">
                                <button type="button" class="secondary" onclick="window.print()">"Print"</button>
                                {draft.then(|| view! {
                                    <ActionForm action=send attr:class="inline">
                                        <input type="hidden" name="id" value=id.to_string()/>
                                        <button type="submit">"Send invoice"</button>
                                    </ActionForm>
                                })}
                                {voidable.then(|| view! {
                                    <ActionForm action=void attr:class="inline">
                                        <input type="hidden" name="id" value=id.to_string()/>
                                        <button type="submit" class="danger">"Void invoice"</button>
                                    </ActionForm>
                                })}
                            </div>
                            {action_error(send.value())}
                            {action_error(void.value())}
                            {draft.then(|| view! {
                                <section class="card">
                                    <h2>"Add a line"</h2>
                                    <ActionForm action=add_line attr:class="row">
                                        <input type="hidden" name="id" value=id.to_string()/>
                                        {line_fields("line")}
                                        <button type="submit">"Add line"</button>
                                    </ActionForm>
                                    {action_error(add_line.value())}
                                </section>
                            })}
                            {payable.then(|| view! {
                                <section class="card">
                                    <h2>"Record a payment"</h2>
                                    <ActionForm action=pay attr:class="row">
                                        <input type="hidden" name="invoice_id" value=id.to_string()/>
                                        <label>"Amount"<input name="amount" inputmode="decimal" value=balance_text.clone() prop:value=balance_text required/></label>
                                        <label>"Provider"<input name="provider" value="bank" required/></label>
                                        <label>"Reference"<input name="reference"/></label>
                                        <button type="submit">"Record payment"</button>
                                    </ActionForm>
                                    {action_error(pay.value())}
                                </section>
                            })}
                            <section class="card">
                                <h2>"Payments"</h2>
                                {if payments.is_empty() {
                                    Either::Left(view! { <p class="muted">"No payments yet."</p> })
                                } else {
                                    Either::Right(view! {
                                        <table class="grid" data-testid="payments">
                                            <thead><tr><th>"Paid at"</th><th>"Provider"</th><th>"Reference"</th><th class="num">"Amount"</th></tr></thead>
                                            <tbody>
                                                {payments.into_iter().map(|p| view! {
                                                    <tr><td>{format_time(p.paid_at)}</td><td>{p.provider}</td><td>{p.reference.unwrap_or_default()}</td><td class="num">{format_money(p.amount_cents, &p.currency)}</td></tr>
                                                }).collect_view()}
                                            </tbody>
                                        </table>
                                    })
                                }}
                            </section>
                            <section class="card">
                                <h2>"Journal entries"</h2>
                                {entries_table(entries)}
                            </section>
                            <p><a href="/invoices">"← All invoices"</a></p>
                        </div>
                    })
                })}
            </Transition>
        </ErrorBoundary>
    }
}

fn entries_table(entries: Vec<JournalEntry>) -> impl IntoView {
    if entries.is_empty() {
        return Either::Left(view! { <p class="muted">"Nothing posted."</p> });
    }
    Either::Right(view! {
        <table class="grid" data-testid="journal">
            <thead><tr><th>"#"</th><th>"Date"</th><th>"Memo"</th><th>"Account"</th><th class="num">"Debit"</th><th class="num">"Credit"</th></tr></thead>
            <tbody>
                {entries.into_iter().map(|e| {
                    let currency = e.currency.clone();
                    let head = format!("{} · {}", e.memo, e.source.as_str());
                    let lines = e.lines.clone();
                    let count = lines.len();
                    lines.into_iter().enumerate().map(|(i, l)| {
                        let amount = |cents: i64| if cents == 0 { String::new() } else { format_money(cents, &currency) };
                        view! {
                            <tr class=if i + 1 == count { "entry-end" } else { "" }>
                                <td>{(i == 0).then_some(e.number)}</td>
                                <td>{(i == 0).then(|| format_date(e.entry_date))}</td>
                                <td>{(i == 0).then(|| head.clone())}</td>
                                <td><a href=format!("/ledger/accounts/{}", l.account_id)>{format!("{} {}", l.account_code, l.account_name)}</a></td>
                                <td class="num">{amount(l.debit_cents)}</td>
                                <td class="num">{amount(l.credit_cents)}</td>
                            </tr>
                        }
                    }).collect_view()
                }).collect_view()}
            </tbody>
        </table>
    })
}

/// The journal and the trial balance, with the chart of accounts.
#[component]
pub fn LedgerPage() -> impl IntoView {
    let query = use_query_map();
    let entries = Resource::new(move || query.read().get("cursor"), journal);
    let overview = Resource::new(move || query.read().get("as_of"), ledger_overview);
    view! {
        <ErrorBoundary fallback=page_errors>
            <div class="page-head">
                <h1>"Ledger"</h1>
                <Form method="GET" action="" attr:class="filters">
                    <label>"Trial balance as of"<input type="date" name="as_of" prop:value=move || query.read().get("as_of").unwrap_or_default()/></label>
                    <button type="submit">"Show"</button>
                </Form>
            </div>
            <Transition fallback=|| view! { <p>"Loading…"</p> }>
                {move || Suspend::new(async move {
                    overview.await.map(|(accounts, tb)| view! {
                            <section class="card">
                                <h2>"Trial balance · "{format_date(tb.as_of)}" "
                                    {if tb.balanced { view! { <span class="badge paid" data-testid="tb-state">"balanced"</span> } } else { view! { <span class="badge void" data-testid="tb-state">"out of balance"</span> } }}
                                </h2>
                                <table class="grid" data-testid="trial-balance">
                                    <thead><tr><th>"Account"</th><th>"Type"</th><th class="num">"Debit"</th><th class="num">"Credit"</th></tr></thead>
                                    <tbody>
                                        {tb.rows.iter().map(|r| view! {
                                            <tr>
                                                <td><a href=format!("/ledger/accounts/{}", r.account_id)>{format!("{} {}", r.code, r.name)}</a></td>
                                                <td>{r.account_type.as_str()}</td>
                                                <td class="num">{format_money(r.debit_cents, &r.currency)}</td>
                                                <td class="num">{format_money(r.credit_cents, &r.currency)}</td>
                                            </tr>
                                        }).collect_view()}
                                    </tbody>
                                    <tfoot>
                                        {tb.totals.iter().map(|t| view! {
                                            <tr><th colspan="2">"Total "{t.currency.clone()}</th><th class="num">{format_money(t.debit_cents, &t.currency)}</th><th class="num">{format_money(t.credit_cents, &t.currency)}</th></tr>
                                        }).collect_view()}
                                    </tfoot>
                                </table>
                            </section>
                            <details class="card">
                                <summary>"Chart of accounts"</summary>
                                <table class="grid" data-testid="accounts">
                                    <thead><tr><th>"Code"</th><th>"Name"</th><th>"Type"</th></tr></thead>
                                    <tbody>
                                        {accounts.into_iter().map(|a| view! {
                                            <tr><td>{a.code.clone()}</td><td><a href=format!("/ledger/accounts/{}", a.id)>{a.name.clone()}</a></td><td>{a.account_type.as_str()}</td></tr>
                                        }).collect_view()}
                                    </tbody>
                                </table>
                            </details>
                        })
                })}
            </Transition>
            <h2>"Journal"</h2>
            <Transition fallback=|| view! { <p>"Loading…"</p> }>
                {move || Suspend::new(async move {
                    entries.await.map(|page| view! {
                            {entries_table(page.data)}
                            {page.next_cursor.map(|c| view! { <p class="pager"><a class="button secondary" href=format!("/ledger?cursor={c}")>"Older entries →"</a></p> })}
                        })
                })}
            </Transition>
        </ErrorBoundary>
    }
}

/// The account's balance after each of its last 60 postings (in the
/// currency of its most recent one).
fn balance_chart(rows: &[LedgerRow]) -> impl IntoView {
    let currency = rows.last().map(|r| r.currency.clone()).unwrap_or_default();
    let recent: Vec<&LedgerRow> = rows.iter().filter(|r| r.currency == currency).collect();
    let recent = &recent[recent.len().saturating_sub(60)..];
    let spec = ChartSpec {
        title: format!("Balance ({currency})"),
        unit: Unit::Money(currency.clone()),
        kind: ChartKind::Columns {
            x_labels: recent.iter().map(|r| r.entry_date.format("%m-%d").to_string()).collect(),
            series: vec![Series { name: "Balance".into(), color: "#2456d6", values: recent.iter().map(|r| r.balance_cents).collect() }],
            line: None,
        },
    };
    view! { <Chart spec/> }
}

#[component]
pub fn AccountLedgerPage() -> impl IntoView {
    let id = use_record_id();
    let ledger = Resource::new(id, |id| async move {
        match id {
            Some(id) => load_account_ledger(id).await,
            None => Err(ApiError::new("not_found", "ledger account not found")),
        }
    });
    view! {
        <ErrorBoundary fallback=page_errors>
            <Transition fallback=|| view! { <p>"Loading…"</p> }>
                {move || Suspend::new(async move {
                    ledger.await.map(|AccountLedger { account, rows }| view! {
                            <div class="page-head"><h1>{format!("{} {}", account.code, account.name)}</h1><span class="badge">{account.account_type.as_str()}</span></div>
                            {if rows.is_empty() {
                                Either::Left(view! { <p class="empty">"Nothing posted to this account."</p> })
                            } else {
                                Either::Right(view! {
                                    {balance_chart(&rows)}
                                    <table class="grid" data-testid="account-ledger">
                                        <thead><tr><th>"#"</th><th>"Date"</th><th>"Memo"</th><th class="num">"Debit"</th><th class="num">"Credit"</th><th class="num">"Balance"</th></tr></thead>
                                        <tbody>
                                            {rows.into_iter().map(|r| {
                                                let amount = |cents: i64| if cents == 0 { String::new() } else { format_money(cents, &r.currency) };
                                                view! {
                                                    <tr><td>{r.entry_number}</td><td>{format_date(r.entry_date)}</td><td>{r.memo.clone()}</td>
                                                    <td class="num">{amount(r.debit_cents)}</td><td class="num">{amount(r.credit_cents)}</td>
                                                    <td class="num">{format_money(r.balance_cents, &r.currency)}</td></tr>
                                                }
                                            }).collect_view()}
                                        </tbody>
                                    </table>
                                })
                            }}
                            <p><a href="/ledger">"← Ledger"</a></p>
                        })
                })}
            </Transition>
        </ErrorBoundary>
    }
}

#[component]
pub fn ReceivablesPage() -> impl IntoView {
    let query = use_query_map();
    let aging = Resource::new(move || query.read().get("as_of"), load_receivables_aging);
    view! {
        <ErrorBoundary fallback=page_errors>
            <div class="page-head">
                <h1>"Receivables aging"</h1>
                <Form method="GET" action="" attr:class="filters">
                    <label>"As of"<input type="date" name="as_of" prop:value=move || query.read().get("as_of").unwrap_or_default()/></label>
                    <button type="submit">"Show"</button>
                </Form>
            </div>
            <Transition fallback=|| view! { <p>"Loading…"</p> }>
                {move || Suspend::new(async move {
                    aging.await.map(|aging| view! {
                            <div class="charts">
                                {aging.totals.iter().map(|t| {
                                    let bars = AGING_BUCKETS.iter().zip([t.current_cents, t.days_1_30_cents, t.days_31_60_cents, t.days_61_90_cents, t.over_90_cents])
                                        .map(|(label, cents)| Bar { label: label.to_string(), value: cents })
                                        .collect();
                                    view! { <Chart spec=ChartSpec::bars(format!("Open balance by age ({})", t.currency), Unit::Money(t.currency.clone()), bars)/> }
                                }).collect_view()}
                            </div>
                            <table class="grid" data-testid="aging-totals">
                                <thead><tr><th>"Currency"</th>{AGING_BUCKETS.iter().map(|b| view! { <th class="num">{*b}</th> }).collect_view()}<th class="num">"Total"</th></tr></thead>
                                <tbody>
                                    {aging.totals.iter().map(|t| view! {
                                        <tr><td>{t.currency.clone()}</td>
                                        {[t.current_cents, t.days_1_30_cents, t.days_31_60_cents, t.days_61_90_cents, t.over_90_cents, t.total_cents].into_iter()
                                            .map(|c| view! { <td class="num">{format_money(c, &t.currency)}</td> }).collect_view()}</tr>
                                    }).collect_view()}
                                </tbody>
                            </table>
                            <h2>"Open invoices"</h2>
                            <table class="grid" data-testid="aging">
                                <thead><tr><th>"Invoice"</th><th>"Customer"</th><th>"Due"</th><th class="num">"Days overdue"</th><th>"Bucket"</th><th class="num">"Balance"</th></tr></thead>
                                <tbody>
                                    {aging.rows.into_iter().map(|r| view! {
                                        <tr><td><a href=format!("/invoices/{}", r.invoice_id)>{r.number.clone()}</a></td>
                                        <td>{r.company_name.clone().unwrap_or_default()}</td><td>{format_date(r.due_date)}</td>
                                        <td class="num">{r.days_overdue.max(0)}</td><td>{r.bucket.clone()}</td>
                                        <td class="num">{format_money(r.balance_cents, &r.currency)}</td></tr>
                                    }).collect_view()}
                                </tbody>
                            </table>
                        })
                })}
            </Transition>
        </ErrorBoundary>
    }
}
