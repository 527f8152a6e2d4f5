//! The double-entry journal: a chart of accounts per workspace and entries
//! whose debits equal their credits. Entries are drafts until posted; a
//! posted entry never changes (the database refuses too) and is corrected
//! by a reversal entry.

use chrono::{NaiveDate, Utc};
use uuid::Uuid;

use super::types::*;
use crate::crm::deals::ops::check_currency;
use crate::error::{AppError, AppResult};
use crate::platform::audit;
use crate::platform::context::Ctx;
use crate::platform::db::{now, wide, wide_sum, wide_sum_of, Tx, Q};
use crate::platform::pagination::PageRequest;
use crate::platform::types::{Page, Scope};
use crate::platform::validate::optional_text;
use crate::platform::validate::{custom_fields_or_empty, required_text};
use crate::platform::validate::{money, MAX_JOURNAL_LINES};

/// The accounts every workspace starts with; `system_role` marks those the
/// automatic postings of invoices and payments use.
pub const DEFAULT_CHART: [(&str, &str, AccountType, Option<&str>); 9] = [
    ("1000", "Cash", AccountType::Asset, Some(ROLE_CASH)),
    ("1100", "Accounts receivable", AccountType::Asset, Some(ROLE_RECEIVABLE)),
    ("2000", "Accounts payable", AccountType::Liability, None),
    ("2100", "Sales tax payable", AccountType::Liability, Some(ROLE_TAX_PAYABLE)),
    ("2200", "Customer credits", AccountType::Liability, Some(ROLE_CUSTOMER_CREDIT)),
    ("3000", "Owner's equity", AccountType::Equity, None),
    ("4000", "Product revenue", AccountType::Revenue, Some(ROLE_PRODUCT_REVENUE)),
    ("4100", "Service revenue", AccountType::Revenue, Some(ROLE_SERVICE_REVENUE)),
    ("5000", "Operating expenses", AccountType::Expense, None),
];

pub const ROLE_CASH: &str = "cash";
pub const ROLE_RECEIVABLE: &str = "receivable";
pub const ROLE_TAX_PAYABLE: &str = "tax_payable";
pub const ROLE_CUSTOMER_CREDIT: &str = "customer_credit";
pub const ROLE_PRODUCT_REVENUE: &str = "product_revenue";
pub const ROLE_SERVICE_REVENUE: &str = "service_revenue";

const ACCOUNT_COLUMNS: &str = "workspace_id, id, code, name, account_type, system_role, description, custom_fields, created_at, updated_at, source, last_agent_actor_id";

const ENTRY_SELECT: &str = "SELECT e.id, e.workspace_id, e.number, e.entry_number, e.entry_date, e.memo, e.currency, e.status, e.source, \
     e.invoice_id, e.payment_id, e.reverses_entry_id, \
     (SELECT r.id FROM journal_entries r WHERE r.reverses_entry_id = e.id) AS reversed_by_entry_id, \
     e.created_by_user_id, e.posted_at, e.custom_fields, e.created_at, e.updated_at, e.last_agent_actor_id FROM journal_entries e";

const LINE_SELECT: &str = "SELECT l.id, l.entry_id, l.position, l.account_id, a.code AS account_code, \
     a.name AS account_name, l.debit_cents, l.credit_cents, l.memo \
     FROM journal_lines l JOIN ledger_accounts a ON a.id = l.account_id";

#[derive(sqlx::FromRow)]
struct Counter {
    value: i64,
}

/// The next value of a per-workspace sequence (invoice numbers, entry
/// numbers). The upsert takes the row's lock, so concurrent writers get
/// distinct values on both backends.
pub async fn next_number(tx: &mut Tx, workspace_id: Uuid, name: &str) -> AppResult<i64> {
    let counter: Counter = tx
        .fetch_one(
            Q::new(
                "INSERT INTO counters (workspace_id, name, value) VALUES ($1, $2, 1) \
                 ON CONFLICT (workspace_id, name) DO UPDATE SET value = counters.value + 1 RETURNING value",
            )
            .bind(workspace_id)
            .bind(name),
        )
        .await?;
    Ok(counter.value)
}

pub fn today() -> NaiveDate {
    Utc::now().date_naive()
}

// ---------------------------------------------------------------- accounts

/// The [`Seeder`](crate::platform::seeding::Seeder) of revenue: a new
/// workspace's chart of accounts.
pub fn seed_workspace(tx: &mut Tx, workspace_id: Uuid) -> crate::platform::BoxFuture<'_, AppResult<()>> {
    Box::pin(create_default_chart(tx, workspace_id))
}

pub async fn create_default_chart(tx: &mut Tx, workspace_id: Uuid) -> AppResult<()> {
    let at = now();
    for (code, name, account_type, role) in DEFAULT_CHART {
        tx.execute(
            Q::new(format!("INSERT INTO ledger_accounts ({ACCOUNT_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)"))
                .bind(workspace_id)
                .bind(Uuid::now_v7())
                .bind(code)
                .bind(name)
                .bind(account_type.as_str())
                .bind(role)
                .bind(None::<String>)
                .bind(serde_json::json!({}))
                .bind(at)
                .bind(at)
                .bind("system")
                .bind(None::<Uuid>),
        )
        .await?;
    }
    Ok(())
}

pub async fn list_accounts(tx: &mut Tx, ctx: &Ctx) -> AppResult<Vec<LedgerAccount>> {
    ctx.require(Scope::RevenueRead)?;
    Ok(tx
        .fetch_all(
            Q::new(format!("SELECT {ACCOUNT_COLUMNS} FROM ledger_accounts WHERE workspace_id = $1 ORDER BY code")).bind(ctx.workspace_id),
        )
        .await?)
}

async fn find_account(tx: &mut Tx, ctx: &Ctx, id: Uuid) -> AppResult<Option<LedgerAccount>> {
    Ok(tx
        .fetch_optional(
            Q::new(format!("SELECT {ACCOUNT_COLUMNS} FROM ledger_accounts WHERE workspace_id = $1 AND id = $2"))
                .bind(ctx.workspace_id)
                .bind(id),
        )
        .await?)
}

async fn find_account_by_code(tx: &mut Tx, ctx: &Ctx, code: &str) -> AppResult<Option<LedgerAccount>> {
    Ok(tx
        .fetch_optional(
            Q::new(format!("SELECT {ACCOUNT_COLUMNS} FROM ledger_accounts WHERE workspace_id = $1 AND code = $2"))
                .bind(ctx.workspace_id)
                .bind(code),
        )
        .await?)
}

/// Accounts of one type and/or whose code or name contains `query` (any
/// case), in code order, a page at a time.
pub async fn search_accounts(
    tx: &mut Tx,
    ctx: &Ctx,
    account_type: Option<AccountType>,
    query: Option<&str>,
    limit: Option<i64>,
    cursor: Option<&str>,
) -> AppResult<Page<LedgerAccount>> {
    let needle = query.map(|q| q.trim().to_lowercase()).filter(|q| !q.is_empty());
    let matching = list_accounts(tx, ctx)
        .await?
        .into_iter()
        .filter(|a| account_type.is_none_or(|t| a.account_type == t))
        .filter(|a| needle.as_ref().is_none_or(|n| a.code.to_lowercase().contains(n) || a.name.to_lowercase().contains(n)))
        .collect();
    crate::platform::pagination::page_of(matching, limit, cursor)
}

pub async fn get_account(tx: &mut Tx, ctx: &Ctx, id: Uuid) -> AppResult<LedgerAccount> {
    ctx.require(Scope::RevenueRead)?;
    find_account(tx, ctx, id).await?.ok_or(AppError::NotFound("ledger account"))
}

/// The account automatic postings use for `role`.
pub async fn account_for_role(tx: &mut Tx, ctx: &Ctx, role: &str) -> AppResult<LedgerAccount> {
    tx.fetch_optional(
        Q::new(format!("SELECT {ACCOUNT_COLUMNS} FROM ledger_accounts WHERE workspace_id = $1 AND system_role = $2"))
            .bind(ctx.workspace_id)
            .bind(role),
    )
    .await?
    .ok_or_else(|| AppError::Internal(format!("the chart of accounts has no {role} account")))
}

fn check_code(code: &str) -> AppResult<String> {
    let code = required_text("code", code, 20)?;
    if !code.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.') {
        return Err(AppError::validation("code", "code may hold letters, digits, '-' and '.' only"));
    }
    Ok(code)
}

pub async fn create_account(tx: &mut Tx, ctx: &Ctx, input: NewLedgerAccount) -> AppResult<LedgerAccount> {
    ctx.require(Scope::RevenueWrite)?;
    let code = check_code(&input.code)?;
    let name = required_text("name", &input.name, 200)?;
    if let Some(other) = find_account_by_code(tx, ctx, &code).await? {
        return Err(AppError::Duplicate {
            code: "duplicate_account_code",
            field: "code".into(),
            message: format!("account {} ({}) already has the code {code}", other.name, other.id),
        });
    }
    let at = now();
    let account = LedgerAccount {
        id: Uuid::now_v7(),
        workspace_id: ctx.workspace_id,
        code,
        name,
        account_type: input.account_type,
        system_role: None,
        description: optional_text("description", input.description, 1000)?,
        custom_fields: custom_fields_or_empty(input.custom_fields)?,
        source: ctx.record_source().into(),
        last_agent_actor_id: ctx.api_key_id,
        created_at: at,
        updated_at: at,
    };
    tx.execute(
        Q::new(format!("INSERT INTO ledger_accounts ({ACCOUNT_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)"))
            .bind(ctx.workspace_id)
            .bind(account.id)
            .bind(account.code.as_str())
            .bind(account.name.as_str())
            .bind(account.account_type.as_str())
            .bind(None::<String>)
            .bind(account.description.clone())
            .bind(account.custom_fields.clone())
            .bind(at)
            .bind(at)
            .bind(ctx.record_source())
            .bind(ctx.api_key_id),
    )
    .await?;
    audit::record(tx, ctx, "ledger_account.created", "ledger_account", Some(account.id), None::<&()>, Some(&account)).await?;
    Ok(account)
}

/// Only the name changes: code and type are what past entries were booked
/// against.
pub async fn update_account(tx: &mut Tx, ctx: &Ctx, id: Uuid, patch: LedgerAccountPatch) -> AppResult<LedgerAccount> {
    ctx.require(Scope::RevenueWrite)?;
    let before = find_account(tx, ctx, id).await?.ok_or(AppError::NotFound("ledger account"))?;
    let mut after = before.clone();
    // A key that changes the record becomes its last agent (audit::record stores it).
    after.last_agent_actor_id = ctx.api_key_id.or(before.last_agent_actor_id);
    if let Some(name) = patch.name {
        after.name = required_text("name", &name, 200)?;
    }
    after.updated_at = now();
    tx.execute(
        Q::new("UPDATE ledger_accounts SET name = $3, updated_at = $4 WHERE workspace_id = $1 AND id = $2")
            .bind(ctx.workspace_id)
            .bind(id)
            .bind(after.name.as_str())
            .bind(after.updated_at),
    )
    .await?;
    audit::record(tx, ctx, "ledger_account.updated", "ledger_account", Some(id), Some(&before), Some(&after)).await?;
    Ok(after)
}

// ----------------------------------------------------------------- entries

/// One resolved line of an entry about to be written.
#[derive(Clone, Debug)]
pub struct Posting {
    pub account_id: Uuid,
    pub debit_cents: i64,
    pub credit_cents: i64,
    pub memo: Option<String>,
}

impl Posting {
    pub fn debit(account_id: Uuid, cents: i64) -> Posting {
        Posting { account_id, debit_cents: cents, credit_cents: 0, memo: None }
    }
    pub fn credit(account_id: Uuid, cents: i64) -> Posting {
        Posting { account_id, debit_cents: 0, credit_cents: cents, memo: None }
    }
}

/// Everything an entry is made of; [`write_entry`] checks and stores it.
pub struct EntrySpec {
    pub entry_date: NaiveDate,
    pub memo: String,
    pub currency: String,
    pub source: EntrySource,
    pub invoice_id: Option<Uuid>,
    pub payment_id: Option<Uuid>,
    pub reverses_entry_id: Option<Uuid>,
    pub lines: Vec<Posting>,
    pub post: bool,
    /// The client's own number for a manual entry.
    pub entry_number: Option<String>,
    pub custom_fields: serde_json::Value,
}

/// The balance rule: at least two lines, each a positive debit or a positive
/// credit, and debits equal to credits.
pub fn check_balanced(lines: &[Posting]) -> AppResult<()> {
    if lines.len() < 2 {
        return Err(AppError::validation("lines", "an entry needs at least two lines"));
    }
    let (mut debits, mut credits) = (0i128, 0i128);
    for (i, line) in lines.iter().enumerate() {
        let one_side = (line.debit_cents > 0) != (line.credit_cents > 0);
        if line.debit_cents < 0 || line.credit_cents < 0 || !one_side {
            return Err(AppError::validation(
                format!("lines[{i}]"),
                "each line needs either a positive debit_cents or a positive credit_cents",
            ));
        }
        debits += line.debit_cents as i128;
        credits += line.credit_cents as i128;
    }
    if debits != credits {
        return Err(AppError::validation("lines", format!("the entry does not balance: debits {debits} ≠ credits {credits}")));
    }
    if debits > i64::MAX as i128 {
        return Err(AppError::validation("lines", "the entry's total is too large"));
    }
    Ok(())
}

/// Checks and inserts an entry with its lines, posting it if asked. The
/// lines go in while the entry is a draft; posting is the last write.
pub async fn write_entry(tx: &mut Tx, ctx: &Ctx, spec: EntrySpec) -> AppResult<JournalEntry> {
    check_balanced(&spec.lines)?;
    let number = next_number(tx, ctx.workspace_id, "journal_entry").await?;
    let id = Uuid::now_v7();
    let at = now();
    tx.execute(
        Q::new(
            "INSERT INTO journal_entries (id, workspace_id, number, entry_date, memo, currency, status, source, \
             invoice_id, payment_id, reverses_entry_id, created_by_user_id, posted_at, created_at, updated_at, entry_number, custom_fields, \
             last_agent_actor_id) \
             VALUES ($1, $2, $3, $4, $5, $6, 'draft', $7, $8, $9, $10, $11, NULL, $12, $12, $13, $14, $15)",
        )
        .bind(id)
        .bind(ctx.workspace_id)
        .bind(number)
        .bind(spec.entry_date)
        .bind(spec.memo.as_str())
        .bind(spec.currency.as_str())
        .bind(spec.source.as_str())
        .bind(spec.invoice_id)
        .bind(spec.payment_id)
        .bind(spec.reverses_entry_id)
        .bind(ctx.user_id)
        .bind(at)
        .bind(spec.entry_number.clone())
        .bind(spec.custom_fields.clone())
        .bind(ctx.api_key_id),
    )
    .await?;
    insert_lines(tx, ctx, id, &spec.lines).await?;
    if spec.post {
        mark_posted(tx, ctx, id).await?;
    }
    find_entry(tx, ctx, id).await?.ok_or_else(|| AppError::Internal("entry vanished".into()))
}

async fn insert_lines(tx: &mut Tx, ctx: &Ctx, entry_id: Uuid, lines: &[Posting]) -> AppResult<()> {
    for (position, line) in lines.iter().enumerate() {
        tx.execute(
            Q::new(
                "INSERT INTO journal_lines (id, workspace_id, entry_id, position, account_id, debit_cents, credit_cents, memo) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            )
            .bind(Uuid::now_v7())
            .bind(ctx.workspace_id)
            .bind(entry_id)
            .bind(position as i64)
            .bind(line.account_id)
            .bind(line.debit_cents)
            .bind(line.credit_cents)
            .bind(line.memo.clone()),
        )
        .await?;
    }
    Ok(())
}

async fn mark_posted(tx: &mut Tx, ctx: &Ctx, id: Uuid) -> AppResult<()> {
    let at = now();
    let changed = tx
        .execute(
            Q::new(
                "UPDATE journal_entries SET status = 'posted', posted_at = $3, updated_at = $3, \
                 last_agent_actor_id = COALESCE($4, last_agent_actor_id) \
                 WHERE workspace_id = $1 AND id = $2 AND status = 'draft'",
            )
            .bind(ctx.workspace_id)
            .bind(id)
            .bind(at)
            .bind(ctx.api_key_id),
        )
        .await?;
    if changed == 0 {
        return Err(AppError::Conflict { code: "already_posted", message: "the entry is already posted".into() });
    }
    Ok(())
}

pub async fn find_entry(tx: &mut Tx, ctx: &Ctx, id: Uuid) -> AppResult<Option<JournalEntry>> {
    let entry: Option<JournalEntry> = tx
        .fetch_optional(Q::new(format!("{ENTRY_SELECT} WHERE e.workspace_id = $1 AND e.id = $2")).bind(ctx.workspace_id).bind(id))
        .await?;
    match entry {
        Some(entry) => Ok(with_lines(tx, ctx, vec![entry]).await?.pop()),
        None => Ok(None),
    }
}

/// Attaches each entry's lines with one query.
async fn with_lines(tx: &mut Tx, ctx: &Ctx, mut entries: Vec<JournalEntry>) -> AppResult<Vec<JournalEntry>> {
    if entries.is_empty() {
        return Ok(entries);
    }
    let mut q = Q::new(format!("{LINE_SELECT} WHERE l.workspace_id = $1 AND l.entry_id IN (")).bind(ctx.workspace_id);
    for (i, entry) in entries.iter().enumerate() {
        let p = q.arg(entry.id);
        q.push(if i == 0 { "" } else { ", " }).push(&p);
    }
    q.push(") ORDER BY l.entry_id, l.position");
    let lines: Vec<JournalLine> = tx.fetch_all(q).await?;
    for entry in &mut entries {
        entry.lines = lines.iter().filter(|l| l.entry_id == entry.id).cloned().collect();
    }
    Ok(entries)
}

pub async fn get_entry(tx: &mut Tx, ctx: &Ctx, id: Uuid) -> AppResult<JournalEntry> {
    ctx.require(Scope::RevenueRead)?;
    find_entry(tx, ctx, id).await?.ok_or(AppError::NotFound("journal entry"))
}

/// The journal, newest first, each entry with its lines.
pub async fn list_entries(tx: &mut Tx, ctx: &Ctx, filter: JournalFilter) -> AppResult<Page<JournalEntry>> {
    ctx.require(Scope::RevenueRead)?;
    let page = PageRequest::parse(filter.limit, filter.cursor.as_deref())?;
    let mut q = Q::new(format!("{ENTRY_SELECT} WHERE e.workspace_id = $1")).bind(ctx.workspace_id);
    if let Some(status) = filter.status {
        let p = q.arg(status.as_str());
        q.push(&format!(" AND e.status = {p}"));
    }
    if let Some(source) = filter.source {
        let p = q.arg(source.as_str());
        q.push(&format!(" AND e.source = {p}"));
    }
    if let Some(invoice_id) = filter.invoice_id {
        let p = q.arg(invoice_id);
        q.push(&format!(" AND e.invoice_id = {p}"));
    }
    crate::platform::db::text_search(&mut q, filter.q.as_deref(), &["e.memo", "e.entry_number"])?;
    page.apply(&mut q, "e.id");
    let rows: Vec<JournalEntry> = tx.fetch_all(q).await?;
    let page = page.finish(rows, |e| e.id, |e| e);
    let data = with_lines(tx, ctx, page.data).await?;
    Ok(Page { data, next_cursor: page.next_cursor })
}

/// A manual entry: lines name accounts by id or code.
/// Both sides of line `i` within the money bound (the balance rule, which
/// wants exactly one side positive, is [`check_balanced`]'s).
fn check_line_bounds(i: usize, debit_cents: i64, credit_cents: i64) -> AppResult<()> {
    money(&format!("lines[{i}].debit_cents"), debit_cents)?;
    money(&format!("lines[{i}].credit_cents"), credit_cents)?;
    Ok(())
}

pub async fn create_entry(tx: &mut Tx, ctx: &Ctx, input: NewJournalEntry) -> AppResult<JournalEntry> {
    ctx.require(Scope::RevenueWrite)?;
    let memo = required_text("memo", &input.memo, 500)?;
    let currency = check_currency(input.currency)?;
    if input.lines.len() > MAX_JOURNAL_LINES {
        return Err(AppError::validation("lines", format!("an entry holds at most {MAX_JOURNAL_LINES} lines")));
    }
    let mut lines = Vec::with_capacity(input.lines.len());
    for (i, line) in input.lines.into_iter().enumerate() {
        let field = format!("lines[{i}]");
        let account = match (line.account_id, line.account_code.as_deref()) {
            (Some(id), None) => find_account(tx, ctx, id).await?,
            (None, Some(code)) => find_account_by_code(tx, ctx, code.trim()).await?,
            _ => return Err(AppError::validation(field, "name the account by account_id or by account_code (one of them)")),
        }
        .ok_or_else(|| AppError::validation(format!("lines[{i}]"), "no such account in this workspace"))?;
        let (debit_cents, credit_cents) = (line.debit_cents.unwrap_or(0), line.credit_cents.unwrap_or(0));
        check_line_bounds(i, debit_cents, credit_cents)?;
        lines.push(Posting { account_id: account.id, debit_cents, credit_cents, memo: optional_text("memo", line.memo, 500)? });
    }
    let spec = EntrySpec {
        entry_date: input.entry_date.unwrap_or_else(today),
        memo,
        currency,
        source: EntrySource::Manual,
        invoice_id: None,
        payment_id: None,
        reverses_entry_id: None,
        lines,
        post: match (input.status, input.post) {
            (Some(EntryStatus::Draft), true) => {
                return Err(AppError::validation("status", "status draft and post true disagree; give one"))
            }
            (Some(status), _) => status == EntryStatus::Posted,
            (None, post) => post,
        },
        entry_number: optional_text("entry_number", input.entry_number, 60)?,
        custom_fields: custom_fields_or_empty(input.custom_fields)?,
    };
    let entry = write_entry(tx, ctx, spec).await?;
    audit::record(tx, ctx, "journal_entry.created", "journal_entry", Some(entry.id), None::<&()>, Some(&entry)).await?;
    Ok(entry)
}

pub async fn post_entry(tx: &mut Tx, ctx: &Ctx, id: Uuid) -> AppResult<JournalEntry> {
    ctx.require(Scope::RevenueWrite)?;
    let before = find_entry(tx, ctx, id).await?.ok_or(AppError::NotFound("journal entry"))?;
    if before.status == EntryStatus::Posted {
        return Err(AppError::Conflict { code: "already_posted", message: "the entry is already posted".into() });
    }
    // A draft saved before amounts were bounded may hold a line above the
    // bound; it never reaches the books.
    for (i, line) in before.lines.iter().enumerate() {
        check_line_bounds(i, line.debit_cents, line.credit_cents)?;
    }
    mark_posted(tx, ctx, id).await?;
    let after = find_entry(tx, ctx, id).await?.ok_or(AppError::NotFound("journal entry"))?;
    audit::record(tx, ctx, "journal_entry.posted", "journal_entry", Some(id), Some(&before), Some(&after)).await?;
    Ok(after)
}

/// Drafts can be thrown away; posted entries cannot.
pub async fn delete_draft(tx: &mut Tx, ctx: &Ctx, id: Uuid) -> AppResult<JournalEntry> {
    ctx.require(Scope::RevenueWrite)?;
    let entry = find_entry(tx, ctx, id).await?.ok_or(AppError::NotFound("journal entry"))?;
    if entry.status == EntryStatus::Posted {
        return Err(AppError::Conflict { code: "entry_posted", message: "a posted entry cannot be deleted; reverse it instead".into() });
    }
    tx.execute(Q::new("DELETE FROM journal_entries WHERE workspace_id = $1 AND id = $2").bind(ctx.workspace_id).bind(id)).await?;
    audit::record(tx, ctx, "journal_entry.deleted", "journal_entry", Some(id), Some(&entry), None::<&()>).await?;
    Ok(entry)
}

/// Books the mirror image of a posted entry (debits and credits swapped),
/// dated today unless told otherwise. Used by people and by invoice voids.
pub async fn reverse_posted(
    tx: &mut Tx,
    ctx: &Ctx,
    original: &JournalEntry,
    memo: Option<String>,
    entry_date: Option<NaiveDate>,
) -> AppResult<JournalEntry> {
    if original.status != EntryStatus::Posted {
        return Err(AppError::Conflict {
            code: "entry_not_posted",
            message: "only posted entries are reversed; delete a draft instead".into(),
        });
    }
    if original.reversed_by_entry_id.is_some() {
        return Err(AppError::Conflict { code: "already_reversed", message: "the entry has already been reversed".into() });
    }
    let lines = original
        .lines
        .iter()
        .map(|l| Posting { account_id: l.account_id, debit_cents: l.credit_cents, credit_cents: l.debit_cents, memo: l.memo.clone() })
        .collect();
    let spec = EntrySpec {
        entry_date: entry_date.unwrap_or_else(today),
        memo: memo.unwrap_or_else(|| format!("Reversal of entry {}", original.number)),
        currency: original.currency.clone(),
        source: EntrySource::Reversal,
        invoice_id: original.invoice_id,
        payment_id: original.payment_id,
        reverses_entry_id: Some(original.id),
        lines,
        post: true,
        entry_number: None,
        custom_fields: serde_json::json!({}),
    };
    write_entry(tx, ctx, spec).await
}

#[derive(Clone, Debug, Default, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct ReverseEntry {
    #[serde(default)]
    pub memo: Option<String>,
    #[serde(default)]
    pub entry_date: Option<NaiveDate>,
}

pub async fn reverse_entry(tx: &mut Tx, ctx: &Ctx, id: Uuid, input: ReverseEntry) -> AppResult<JournalEntry> {
    ctx.require(Scope::RevenueWrite)?;
    let original = find_entry(tx, ctx, id).await?.ok_or(AppError::NotFound("journal entry"))?;
    // Automatic bookings follow their invoice or payment; reversing one by
    // hand would leave the receivable disagreeing with the invoices.
    if original.source != EntrySource::Manual {
        return Err(AppError::Conflict {
            code: "entry_is_automatic",
            message: format!(
                "entry {} was booked by its {}; void the invoice instead of reversing the entry",
                original.number,
                original.source.as_str()
            ),
        });
    }
    let memo = optional_text("memo", input.memo, 500)?;
    let reversal = reverse_posted(tx, ctx, &original, memo, input.entry_date).await?;
    audit::record(tx, ctx, "journal_entry.reversed", "journal_entry", Some(id), Some(&original), Some(&reversal)).await?;
    Ok(reversal)
}

// ----------------------------------------------------------------- reports

#[derive(sqlx::FromRow)]
struct TrialBalanceSums {
    account_id: Uuid,
    code: String,
    name: String,
    #[sqlx(try_from = "String")]
    account_type: AccountType,
    currency: String,
    debit_hi: i64,
    debit_lo: i64,
    credit_hi: i64,
    credit_lo: i64,
}

pub async fn trial_balance(tx: &mut Tx, ctx: &Ctx, as_of: Option<NaiveDate>) -> AppResult<TrialBalance> {
    ctx.require(Scope::RevenueRead)?;
    let as_of = as_of.unwrap_or_else(today);
    let sums: Vec<TrialBalanceSums> = tx
        .fetch_all(
            Q::new(format!(
                "SELECT a.id AS account_id, a.code, a.name, a.account_type, e.currency, {}, {} \
                 FROM journal_lines l \
                 JOIN journal_entries e ON e.id = l.entry_id \
                 JOIN ledger_accounts a ON a.id = l.account_id \
                 WHERE l.workspace_id = $1 AND e.status = 'posted' AND e.entry_date <= $2 \
                 GROUP BY a.id, a.code, a.name, a.account_type, e.currency \
                 ORDER BY e.currency, a.code",
                wide_sum("l.debit_cents", "debit"),
                wide_sum("l.credit_cents", "credit"),
            ))
            .bind(ctx.workspace_id)
            .bind(as_of),
        )
        .await?;
    let rows: Vec<TrialBalanceRow> = sums
        .into_iter()
        .map(|s| TrialBalanceRow {
            account_id: s.account_id,
            code: s.code,
            name: s.name,
            account_type: s.account_type,
            currency: s.currency,
            debit_cents: wide(s.debit_hi, s.debit_lo),
            credit_cents: wide(s.credit_hi, s.credit_lo),
        })
        .collect();
    let mut totals: Vec<CurrencyTotals> = Vec::new();
    for row in &rows {
        match totals.iter_mut().find(|t| t.currency == row.currency) {
            Some(t) => {
                t.debit_cents += row.debit_cents;
                t.credit_cents += row.credit_cents;
            }
            None => {
                totals.push(CurrencyTotals { currency: row.currency.clone(), debit_cents: row.debit_cents, credit_cents: row.credit_cents })
            }
        }
    }
    let balanced = totals.iter().all(|t| t.debit_cents == t.credit_cents);
    Ok(TrialBalance { as_of, rows, totals, balanced })
}

#[derive(Clone, Debug, Default, serde::Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct LedgerQuery {
    #[serde(default)]
    pub limit: Option<i64>,
}

#[derive(sqlx::FromRow)]
struct LedgerLine {
    line_id: Uuid,
    entry_id: Uuid,
    entry_number: i64,
    entry_date: NaiveDate,
    memo: String,
    currency: String,
    debit_cents: i64,
    credit_cents: i64,
    balance_hi: i64,
    balance_lo: i64,
}

/// An account's posted lines, oldest first, each with the running balance;
/// `limit` keeps the most recent lines (the balance still counts them all).
pub async fn account_ledger(tx: &mut Tx, ctx: &Ctx, id: Uuid, query: LedgerQuery) -> AppResult<AccountLedger> {
    ctx.require(Scope::RevenueRead)?;
    let account = find_account(tx, ctx, id).await?.ok_or(AppError::NotFound("ledger account"))?;
    let limit = query.limit.unwrap_or(500);
    if !(1..=5000).contains(&limit) {
        return Err(AppError::validation("limit", "limit must be between 1 and 5000"));
    }
    let running = wide_sum_of(
        "l.debit_cents - l.credit_cents",
        None,
        Some("PARTITION BY e.currency ORDER BY e.entry_date, e.number, l.position ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW"),
        "balance",
    );
    let mut lines: Vec<LedgerLine> = tx
        .fetch_all(
            Q::new(format!(
                "SELECT * FROM (\
                   SELECT l.id AS line_id, e.id AS entry_id, e.number AS entry_number, e.entry_date, e.memo, e.currency, \
                   l.position, l.debit_cents, l.credit_cents, {running} \
                   FROM journal_lines l JOIN journal_entries e ON e.id = l.entry_id \
                   WHERE l.workspace_id = $1 AND l.account_id = $2 AND e.status = 'posted'\
                 ) t ORDER BY entry_date DESC, entry_number DESC, position DESC LIMIT $3"
            ))
            .bind(ctx.workspace_id)
            .bind(id)
            .bind(limit),
        )
        .await?;
    lines.reverse();
    let sign = if account.account_type.debit_normal() { 1 } else { -1 };
    let rows = lines
        .into_iter()
        .map(|l| LedgerRow {
            line_id: l.line_id,
            entry_id: l.entry_id,
            entry_number: l.entry_number,
            entry_date: l.entry_date,
            memo: l.memo,
            currency: l.currency,
            debit_cents: l.debit_cents,
            credit_cents: l.credit_cents,
            balance_cents: sign * wide(l.balance_hi, l.balance_lo),
        })
        .collect();
    Ok(AccountLedger { account, rows })
}

#[derive(sqlx::FromRow)]
struct OpenInvoice {
    id: Uuid,
    number: String,
    company_id: Option<Uuid>,
    company_name: Option<String>,
    due_date: NaiveDate,
    currency: String,
    balance_cents: i64,
}

/// Open invoices by how long they are overdue on `as_of`.
pub async fn receivables_aging(tx: &mut Tx, ctx: &Ctx, as_of: Option<NaiveDate>) -> AppResult<ReceivablesAging> {
    ctx.require(Scope::RevenueRead)?;
    let as_of = as_of.unwrap_or_else(today);
    let open: Vec<OpenInvoice> = tx
        .fetch_all(
            Q::new(
                "SELECT i.id, i.number, i.company_id, c.name AS company_name, i.due_date, i.currency, \
                 i.total_cents - i.paid_cents AS balance_cents \
                 FROM invoices i LEFT JOIN companies c ON c.id = i.company_id \
                 WHERE i.workspace_id = $1 AND i.status IN ('sent', 'partially_paid') AND i.issue_date <= $2 \
                 ORDER BY i.due_date, i.number",
            )
            .bind(ctx.workspace_id)
            .bind(as_of),
        )
        .await?;
    let mut totals: Vec<AgingTotals> = Vec::new();
    let rows = open
        .into_iter()
        .map(|i| {
            let days_overdue = (as_of - i.due_date).num_days();
            let bucket = aging_bucket(days_overdue);
            let t = match totals.iter().position(|t| t.currency == i.currency) {
                Some(p) => &mut totals[p],
                None => {
                    totals.push(AgingTotals { currency: i.currency.clone(), ..Default::default() });
                    totals.last_mut().unwrap()
                }
            };
            *match bucket {
                "current" => &mut t.current_cents,
                "1-30" => &mut t.days_1_30_cents,
                "31-60" => &mut t.days_31_60_cents,
                "61-90" => &mut t.days_61_90_cents,
                _ => &mut t.over_90_cents,
            } += i.balance_cents as i128;
            t.total_cents += i.balance_cents as i128;
            AgingRow {
                invoice_id: i.id,
                number: i.number,
                company_id: i.company_id,
                company_name: i.company_name,
                due_date: i.due_date,
                days_overdue,
                bucket: bucket.to_string(),
                currency: i.currency,
                balance_cents: i.balance_cents,
            }
        })
        .collect();
    Ok(ReceivablesAging { as_of, rows, totals })
}
