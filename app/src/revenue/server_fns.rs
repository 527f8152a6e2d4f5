//! Server functions for the revenue pages: the signed-in member calls the
//! same operations as the REST API.

use crate::api_error::ApiError;
#[cfg(feature = "ssr")]
use crate::platform::transaction::WriteTx;
use leptos::prelude::*;
use uuid::Uuid;

use super::types::*;
use crate::platform::types::Page;

#[cfg(feature = "ssr")]
use crate::platform::server_fns::ssr::{blank_to_none, member};

/// An invoice with what its page shows next to it.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct InvoiceDetails {
    pub invoice: Invoice,
    pub company_name: Option<String>,
    pub payments: Vec<Payment>,
    pub entries: Vec<JournalEntry>,
}

#[server(prefix = "/sf", endpoint = "list_invoices")]
pub async fn list_invoices(status: Option<String>, cursor: Option<String>) -> Result<Page<Invoice>, ApiError> {
    let (state, ctx) = member().await?;
    let status = blank_to_none(status).and_then(|s| InvoiceStatus::parse(&s));
    let filter = InvoiceFilter { status, cursor: blank_to_none(cursor), ..Default::default() };
    let mut tx = state.db.begin_read().await?;
    let found = super::invoices::list(&mut tx, &ctx, filter).await?;
    tx.commit().await?;
    Ok(found)
}

#[server(prefix = "/sf", endpoint = "invoice_view")]
pub async fn invoice_view(id: Uuid) -> Result<InvoiceDetails, ApiError> {
    let (state, ctx) = member().await?;
    let mut tx = state.db.begin_read().await?;
    let invoice = super::invoices::get(&mut tx, &ctx, id).await?;
    let company_name = match invoice.company_id {
        Some(company_id) => Some(crate::crm::companies::ops::get(&mut tx, &ctx, company_id).await?.name),
        None => None,
    };
    let payments =
        super::invoices::list_payments(&mut tx, &ctx, PaymentFilter { invoice_id: Some(id), limit: Some(100), ..Default::default() })
            .await?
            .data;
    let entries =
        super::ledger::list_entries(&mut tx, &ctx, JournalFilter { invoice_id: Some(id), limit: Some(100), ..Default::default() })
            .await?
            .data;
    let details = InvoiceDetails { invoice, company_name, payments, entries };
    tx.commit().await?;
    Ok(details)
}

/// One invoice line as typed in the form: quantity and price in major
/// units, the tax rate in percent.
#[derive(Clone, Debug, Default, serde::Serialize, serde::Deserialize)]
pub struct LineForm {
    pub kind: String,
    pub description: String,
    pub quantity: String,
    pub unit_price: String,
    #[serde(default)]
    pub tax_percent: Option<String>,
}

#[cfg(feature = "ssr")]
impl LineForm {
    fn parse(self, formats: &crate::platform::formats::Formats) -> Result<NewInvoiceLine, ApiError> {
        let kind = LineKind::parse(self.kind.trim()).ok_or_else(|| ApiError::field("line.kind", "choose product or service"))?;
        let quantity_milli = formats
            .parse_decimal(&self.quantity, 3)
            .ok_or_else(|| ApiError::field("line.quantity", "quantity must be a number with at most three decimals"))?;
        let unit_amount_cents = formats.parse_money(&self.unit_price).ok_or_else(|| {
            ApiError::field("line.unit_price", format!("unit price must be an amount like {}", formats.amount_example(150_000)))
        })?;
        let tax_rate_bps = match blank_to_none(self.tax_percent) {
            Some(text) => formats.parse_decimal(&text, 2).ok_or_else(|| {
                ApiError::field("line.tax_percent", format!("tax must be a percentage like 20 or {}", formats.decimal("8.25")))
            })?,
            None => 0,
        };
        Ok(NewInvoiceLine { kind, name: None, description: self.description, quantity_milli, unit_amount_cents, tax_rate_bps })
    }
}

#[derive(Clone, Debug, Default, serde::Serialize, serde::Deserialize)]
pub struct InvoiceForm {
    #[serde(default)]
    pub company_id: Option<String>,
    #[serde(default)]
    pub currency: Option<String>,
    #[serde(default)]
    pub due_date: Option<String>,
    #[serde(default)]
    pub notes: Option<String>,
    pub line: LineForm,
}

#[server(prefix = "/sf", endpoint = "create_invoice")]
pub async fn create_invoice(form: InvoiceForm) -> Result<Invoice, ApiError> {
    use crate::platform::server_fns::ssr::{optional_date, optional_id};
    let (state, ctx) = member().await?;
    let formats = crate::platform::server_fns::ssr::member_formats(&state, &ctx).await?;
    let input = NewInvoice {
        company_id: optional_id(form.company_id, "company_id")?,
        currency: blank_to_none(form.currency),
        due_date: optional_date(form.due_date, "due_date")?,
        notes: blank_to_none(form.notes),
        lines: vec![form.line.parse(&formats)?],
        ..Default::default()
    };
    let mut tx = WriteTx::begin(&state.db).await?;
    let invoice = super::invoices::create(&mut tx, &ctx, input).await?;
    tx.commit().await?;
    leptos_axum::redirect(&format!("/invoices/{}", invoice.id));
    Ok(invoice)
}

/// Appends a line to a draft (the lines are replaced as a whole).
#[server(prefix = "/sf", endpoint = "add_invoice_line")]
pub async fn add_invoice_line(id: Uuid, line: LineForm) -> Result<(), ApiError> {
    let (state, ctx) = member().await?;
    let line = line.parse(&crate::platform::server_fns::ssr::member_formats(&state, &ctx).await?)?;
    let mut tx = WriteTx::begin(&state.db).await?;
    let invoice = super::invoices::get(&mut tx, &ctx, id).await?;
    let mut lines: Vec<NewInvoiceLine> = invoice
        .lines
        .into_iter()
        .map(|l| NewInvoiceLine {
            kind: l.kind,
            name: None,
            description: l.description,
            quantity_milli: l.quantity_milli,
            unit_amount_cents: l.unit_amount_cents,
            tax_rate_bps: l.tax_rate_bps,
        })
        .collect();
    lines.push(line);
    super::invoices::update(&mut tx, &ctx, id, InvoicePatch { lines: Some(lines), ..Default::default() }).await?;
    tx.commit().await?;
    Ok(())
}

#[server(prefix = "/sf", endpoint = "send_invoice")]
pub async fn send_invoice(id: Uuid) -> Result<(), ApiError> {
    let (state, ctx) = member().await?;
    let mut tx = WriteTx::begin(&state.db).await?;
    super::invoices::send(&mut tx, &ctx, id).await?;
    tx.commit().await?;
    Ok(())
}

#[server(prefix = "/sf", endpoint = "void_invoice")]
pub async fn void_invoice(id: Uuid) -> Result<(), ApiError> {
    let (state, ctx) = member().await?;
    let mut tx = WriteTx::begin(&state.db).await?;
    super::invoices::void(&mut tx, &ctx, id).await?;
    tx.commit().await?;
    Ok(())
}

#[server(prefix = "/sf", endpoint = "record_invoice_payment")]
pub async fn record_invoice_payment(invoice_id: Uuid, amount: String, provider: String, reference: Option<String>) -> Result<(), ApiError> {
    let (state, ctx) = member().await?;
    let formats = crate::platform::server_fns::ssr::member_formats(&state, &ctx).await?;
    let amount_cents = formats.parse_money(&amount).filter(|a| *a > 0).ok_or_else(|| {
        ApiError::field("amount", format!("amount must be an amount above zero like {}", formats.amount_example(900_000)))
    })?;
    let input = NewPayment {
        invoice_id: Some(invoice_id),
        amount_cents,
        provider: Some(provider),
        reference: blank_to_none(reference),
        ..Default::default()
    };
    let mut tx = WriteTx::begin(&state.db).await?;
    super::invoices::record_payment(&mut tx, &ctx, input).await?;
    tx.commit().await?;
    Ok(())
}

#[server(prefix = "/sf", endpoint = "journal")]
pub async fn journal(cursor: Option<String>) -> Result<Page<JournalEntry>, ApiError> {
    let (state, ctx) = member().await?;
    let filter = JournalFilter { cursor: blank_to_none(cursor), limit: Some(50), ..Default::default() };
    let mut tx = state.db.begin_read().await?;
    let entries = super::ledger::list_entries(&mut tx, &ctx, filter).await?;
    tx.commit().await?;
    Ok(entries)
}

#[server(prefix = "/sf", endpoint = "ledger_overview")]
pub async fn ledger_overview(as_of: Option<String>) -> Result<(Vec<LedgerAccount>, TrialBalance), ApiError> {
    use crate::platform::server_fns::ssr::optional_date;
    let (state, ctx) = member().await?;
    let as_of = optional_date(as_of, "as_of")?;
    let mut tx = state.db.begin_read().await?;
    let accounts = (super::ledger::list_accounts(&mut tx, &ctx).await?, super::ledger::trial_balance(&mut tx, &ctx, as_of).await?);
    tx.commit().await?;
    Ok(accounts)
}

#[server(prefix = "/sf", endpoint = "account_ledger")]
pub async fn load_account_ledger(id: Uuid) -> Result<AccountLedger, ApiError> {
    let (state, ctx) = member().await?;
    let mut tx = state.db.begin_read().await?;
    let account_ledger = super::ledger::account_ledger(&mut tx, &ctx, id, Default::default()).await?;
    tx.commit().await?;
    Ok(account_ledger)
}

#[server(prefix = "/sf", endpoint = "receivables_aging")]
pub async fn load_receivables_aging(as_of: Option<String>) -> Result<ReceivablesAging, ApiError> {
    use crate::platform::server_fns::ssr::optional_date;
    let (state, ctx) = member().await?;
    let as_of = optional_date(as_of, "as_of")?;
    let mut tx = state.db.begin_read().await?;
    let receivables_aging = super::ledger::receivables_aging(&mut tx, &ctx, as_of).await?;
    tx.commit().await?;
    Ok(receivables_aging)
}
