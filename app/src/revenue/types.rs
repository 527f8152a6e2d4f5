//! Revenue's shared types: ledger accounts, journal entries, invoices,
//! payments and the ledger reports. Money is integer minor units.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use uuid::Uuid;

use crate::platform::types::non_null;

text_enum!(AccountType {
    Asset => "asset",
    Liability => "liability",
    Equity => "equity",
    Revenue => "revenue",
    Expense => "expense",
});

impl AccountType {
    /// Assets and expenses grow with debits; the rest with credits.
    pub fn debit_normal(self) -> bool {
        matches!(self, AccountType::Asset | AccountType::Expense)
    }
}

text_enum!(EntryStatus { Draft => "draft", Posted => "posted" });
text_enum!(EntrySource { Manual => "manual", Invoice => "invoice", Payment => "payment", Reversal => "reversal" });
text_enum!(InvoiceStatus {
    Draft => "draft",
    Sent => "sent",
    PartiallyPaid => "partially_paid",
    Paid => "paid",
    Void => "void",
});
text_enum!(LineKind { Product => "product", Service => "service" });

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[cfg_attr(feature = "ssr", derive(sqlx::FromRow))]
pub struct LedgerAccount {
    pub id: Uuid,
    pub workspace_id: Uuid,
    pub code: String,
    pub name: String,
    #[cfg_attr(feature = "ssr", sqlx(try_from = "String"))]
    pub account_type: AccountType,
    /// Set on the accounts automatic postings use (cash, receivable, …).
    pub system_role: Option<String>,
    pub description: Option<String>,
    /// Queryable workspace JSON.
    #[cfg_attr(feature = "ssr", sqlx(json))]
    pub custom_fields: serde_json::Value,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// How the record was created: ui, api, mcp, import, form, flow or system.
    pub source: String,
    /// The API key that last wrote the record (agents and scripts).
    pub last_agent_actor_id: Option<Uuid>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct NewLedgerAccount {
    pub code: String,
    pub name: String,
    /// The seed spells it `type`.
    #[serde(alias = "type")]
    pub account_type: AccountType,
    #[serde(default)]
    pub description: Option<String>,
    /// Queryable workspace JSON (an object).
    #[serde(default)]
    pub custom_fields: Option<serde_json::Value>,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct LedgerAccountPatch {
    #[serde(default, deserialize_with = "non_null")]
    pub name: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[cfg_attr(feature = "ssr", derive(sqlx::FromRow))]
pub struct JournalEntry {
    pub id: Uuid,
    pub workspace_id: Uuid,
    pub number: i64,
    /// The client's own number for the entry (`JE-1001`), when it gave one.
    pub entry_number: Option<String>,
    pub entry_date: NaiveDate,
    pub memo: String,
    pub currency: String,
    #[cfg_attr(feature = "ssr", sqlx(try_from = "String"))]
    pub status: EntryStatus,
    #[cfg_attr(feature = "ssr", sqlx(try_from = "String"))]
    pub source: EntrySource,
    pub invoice_id: Option<Uuid>,
    pub payment_id: Option<Uuid>,
    pub reverses_entry_id: Option<Uuid>,
    /// The entry that reversed this one, if any (entries never change; this
    /// is looked up).
    pub reversed_by_entry_id: Option<Uuid>,
    pub created_by_user_id: Option<Uuid>,
    pub posted_at: Option<DateTime<Utc>>,
    /// Queryable workspace JSON.
    #[cfg_attr(feature = "ssr", sqlx(json))]
    pub custom_fields: serde_json::Value,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    #[cfg_attr(feature = "ssr", sqlx(skip))]
    pub lines: Vec<JournalLine>,
    /// The API key that last wrote the record (agents and scripts).
    pub last_agent_actor_id: Option<Uuid>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[cfg_attr(feature = "ssr", derive(sqlx::FromRow))]
pub struct JournalLine {
    pub id: Uuid,
    pub entry_id: Uuid,
    pub position: i64,
    pub account_id: Uuid,
    pub account_code: String,
    pub account_name: String,
    pub debit_cents: i64,
    pub credit_cents: i64,
    pub memo: Option<String>,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct NewJournalEntry {
    /// Today (UTC) when absent.
    #[serde(default)]
    pub entry_date: Option<NaiveDate>,
    pub memo: String,
    /// USD when absent.
    #[serde(default)]
    pub currency: Option<String>,
    pub lines: Vec<NewJournalLine>,
    /// Post at once instead of saving a draft.
    #[serde(default)]
    pub post: bool,
    /// The seed's spelling of `post`: `posted` posts at once, `draft` keeps a draft.
    #[serde(default)]
    pub status: Option<EntryStatus>,
    /// The client's own number for the entry, unique in the workspace.
    #[serde(default)]
    pub entry_number: Option<String>,
    /// Queryable workspace JSON (an object).
    #[serde(default)]
    pub custom_fields: Option<serde_json::Value>,
}

/// One side of an entry: name the account by id or by code, and give a
/// debit or a credit (not both).
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct NewJournalLine {
    #[serde(default)]
    pub account_id: Option<Uuid>,
    #[serde(default)]
    pub account_code: Option<String>,
    #[serde(default)]
    pub debit_cents: Option<i64>,
    #[serde(default)]
    pub credit_cents: Option<i64>,
    #[serde(default)]
    pub memo: Option<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct JournalFilter {
    /// Text in the memo or the client's entry number.
    #[serde(default)]
    pub q: Option<String>,
    #[serde(default)]
    pub status: Option<EntryStatus>,
    #[serde(default)]
    pub source: Option<EntrySource>,
    #[serde(default)]
    pub invoice_id: Option<Uuid>,
    #[serde(default)]
    pub limit: Option<i64>,
    #[serde(default)]
    pub cursor: Option<String>,
}

/// Quantities carry up to three decimals and are stored as thousandths.
pub const QUANTITY_SCALE: i64 = 1000;

fn serialize_quantity<S: Serializer>(milli: &i64, serializer: S) -> Result<S::Ok, S::Error> {
    if milli % QUANTITY_SCALE == 0 {
        serializer.serialize_i64(milli / QUANTITY_SCALE)
    } else {
        serializer.serialize_f64(*milli as f64 / QUANTITY_SCALE as f64)
    }
}

fn deserialize_quantity<'de, D: Deserializer<'de>>(deserializer: D) -> Result<i64, D::Error> {
    let value = f64::deserialize(deserializer)?;
    let scaled = value * QUANTITY_SCALE as f64;
    let milli = scaled.round();
    if !milli.is_finite() || (scaled - milli).abs() > 1e-6 || milli.abs() > 1e15 {
        return Err(serde::de::Error::custom("quantity must be a number with at most three decimals"));
    }
    Ok(milli as i64)
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[cfg_attr(feature = "ssr", derive(sqlx::FromRow))]
pub struct InvoiceLine {
    pub id: Uuid,
    pub position: i64,
    #[cfg_attr(feature = "ssr", sqlx(try_from = "String"))]
    pub kind: LineKind,
    pub description: String,
    #[serde(rename = "quantity", serialize_with = "serialize_quantity", deserialize_with = "deserialize_quantity")]
    pub quantity_milli: i64,
    pub unit_amount_cents: i64,
    /// Basis points: 2000 is 20 %.
    pub tax_rate_bps: i64,
    pub amount_cents: i64,
    pub tax_cents: i64,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct NewInvoiceLine {
    pub kind: LineKind,
    /// What is sold (the seed's `name`); `description` adds detail under it.
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub description: String,
    #[serde(rename = "quantity", serialize_with = "serialize_quantity", deserialize_with = "deserialize_quantity")]
    pub quantity_milli: i64,
    pub unit_amount_cents: i64,
    #[serde(default)]
    pub tax_rate_bps: i64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[cfg_attr(feature = "ssr", derive(sqlx::FromRow))]
pub struct Invoice {
    pub id: Uuid,
    pub workspace_id: Uuid,
    pub number: String,
    #[cfg_attr(feature = "ssr", sqlx(try_from = "String"))]
    pub status: InvoiceStatus,
    pub company_id: Option<Uuid>,
    pub contact_id: Option<Uuid>,
    pub deal_id: Option<Uuid>,
    pub lead_id: Option<Uuid>,
    pub currency: String,
    pub issue_date: NaiveDate,
    pub due_date: NaiveDate,
    pub subtotal_cents: i64,
    pub tax_cents: i64,
    pub total_cents: i64,
    pub paid_cents: i64,
    pub balance_cents: i64,
    pub notes: Option<String>,
    pub sent_at: Option<DateTime<Utc>>,
    pub voided_at: Option<DateTime<Utc>>,
    /// Queryable workspace JSON.
    #[cfg_attr(feature = "ssr", sqlx(json))]
    pub custom_fields: serde_json::Value,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    #[cfg_attr(feature = "ssr", sqlx(skip))]
    pub lines: Vec<InvoiceLine>,
    /// How the record was created: ui, api, mcp, import, form, flow or system.
    pub source: String,
    /// The API key that last wrote the record (agents and scripts).
    pub last_agent_actor_id: Option<Uuid>,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct NewInvoice {
    /// The next `INV-000001`-style number when absent.
    /// The seed spells it `invoice_number`.
    #[serde(default, alias = "invoice_number")]
    pub number: Option<String>,
    #[serde(default)]
    pub company_id: Option<Uuid>,
    #[serde(default)]
    pub contact_id: Option<Uuid>,
    #[serde(default)]
    pub deal_id: Option<Uuid>,
    #[serde(default)]
    pub lead_id: Option<Uuid>,
    /// The deal's currency, else USD, when absent.
    #[serde(default)]
    pub currency: Option<String>,
    /// Today (UTC) when absent.
    #[serde(default)]
    pub issue_date: Option<NaiveDate>,
    /// 30 days after the issue date when absent.
    #[serde(default)]
    pub due_date: Option<NaiveDate>,
    #[serde(default)]
    pub notes: Option<String>,
    /// The seed spells it `line_items`.
    #[serde(default, alias = "line_items")]
    pub lines: Vec<NewInvoiceLine>,
    /// Queryable workspace JSON (an object).
    #[serde(default)]
    pub custom_fields: Option<serde_json::Value>,
}

patch!(
    /// Changes to a draft; `lines`, when given, replaces all of them.
    InvoicePatch {
        company_id: optional Uuid,
        contact_id: optional Uuid,
        deal_id: optional Uuid,
        currency: required String,
        issue_date: required NaiveDate,
        due_date: required NaiveDate,
        notes: optional String,
        lines: required Vec<NewInvoiceLine>,
    }
);

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct InvoiceFilter {
    #[serde(default)]
    pub status: Option<InvoiceStatus>,
    #[serde(default)]
    pub company_id: Option<Uuid>,
    #[serde(default)]
    pub contact_id: Option<Uuid>,
    #[serde(default)]
    pub deal_id: Option<Uuid>,
    #[serde(default)]
    pub limit: Option<i64>,
    #[serde(default)]
    pub cursor: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[cfg_attr(feature = "ssr", derive(sqlx::FromRow))]
pub struct Payment {
    pub id: Uuid,
    pub workspace_id: Uuid,
    pub invoice_id: Option<Uuid>,
    pub company_id: Option<Uuid>,
    pub amount_cents: i64,
    pub currency: String,
    pub provider: String,
    pub reference: Option<String>,
    pub paid_at: DateTime<Utc>,
    /// Queryable workspace JSON.
    #[cfg_attr(feature = "ssr", sqlx(json))]
    pub custom_fields: serde_json::Value,
    pub created_at: DateTime<Utc>,
    /// How the record was created: ui, api, mcp, import, form, flow or system.
    pub source: String,
    /// The API key that last wrote the record (agents and scripts).
    pub last_agent_actor_id: Option<Uuid>,
}

/// A payment against an invoice, or (with only `company_id`) money held on
/// the customer's account as credit.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct NewPayment {
    #[serde(default)]
    pub invoice_id: Option<Uuid>,
    #[serde(default)]
    pub company_id: Option<Uuid>,
    pub amount_cents: i64,
    /// The invoice's currency (or USD) when absent.
    #[serde(default)]
    pub currency: Option<String>,
    /// `manual` when absent.
    #[serde(default)]
    pub provider: Option<String>,
    /// The provider's id for the payment (the seed's `provider_reference_id`).
    #[serde(default, alias = "provider_reference_id")]
    pub reference: Option<String>,
    /// Now when absent.
    #[serde(default)]
    pub paid_at: Option<DateTime<Utc>>,
    /// Queryable workspace JSON (an object).
    #[serde(default)]
    pub custom_fields: Option<serde_json::Value>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct PaymentFilter {
    #[serde(default)]
    pub invoice_id: Option<Uuid>,
    #[serde(default)]
    pub company_id: Option<Uuid>,
    #[serde(default)]
    pub limit: Option<i64>,
    #[serde(default)]
    pub cursor: Option<String>,
}

/// Sums over any number of lines are `i128`: wider than one amount.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct TrialBalanceRow {
    pub account_id: Uuid,
    pub code: String,
    pub name: String,
    pub account_type: AccountType,
    pub currency: String,
    pub debit_cents: i128,
    pub credit_cents: i128,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct CurrencyTotals {
    pub currency: String,
    pub debit_cents: i128,
    pub credit_cents: i128,
}

/// Posted entries up to `as_of`, summed per account and currency.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct TrialBalance {
    pub as_of: NaiveDate,
    pub rows: Vec<TrialBalanceRow>,
    pub totals: Vec<CurrencyTotals>,
    pub balanced: bool,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct LedgerRow {
    pub line_id: Uuid,
    pub entry_id: Uuid,
    pub entry_number: i64,
    pub entry_date: NaiveDate,
    pub memo: String,
    pub currency: String,
    pub debit_cents: i64,
    pub credit_cents: i64,
    /// The account's balance after this line, in its normal direction
    /// (debits minus credits for assets and expenses, the reverse
    /// otherwise); a running sum, so wider than one amount.
    pub balance_cents: i128,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct AccountLedger {
    pub account: LedgerAccount,
    pub rows: Vec<LedgerRow>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct AgingRow {
    pub invoice_id: Uuid,
    pub number: String,
    pub company_id: Option<Uuid>,
    pub company_name: Option<String>,
    pub due_date: NaiveDate,
    pub days_overdue: i64,
    pub bucket: String,
    pub currency: String,
    pub balance_cents: i64,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct AgingTotals {
    pub currency: String,
    pub current_cents: i128,
    pub days_1_30_cents: i128,
    pub days_31_60_cents: i128,
    pub days_61_90_cents: i128,
    pub over_90_cents: i128,
    pub total_cents: i128,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct ReceivablesAging {
    pub as_of: NaiveDate,
    pub rows: Vec<AgingRow>,
    pub totals: Vec<AgingTotals>,
}

pub const AGING_BUCKETS: [&str; 5] = ["current", "1-30", "31-60", "61-90", "90+"];

pub fn aging_bucket(days_overdue: i64) -> &'static str {
    match days_overdue {
        d if d <= 0 => "current",
        1..=30 => "1-30",
        31..=60 => "31-60",
        61..=90 => "61-90",
        _ => "90+",
    }
}

/// A line's amount and tax: quantity × unit price, then tax on that, each
/// rounded half away from zero to the minor unit. Computed in `i128`; the
/// caller holds the results to the money bound.
pub fn line_amounts(quantity_milli: i64, unit_amount_cents: i64, tax_rate_bps: i64) -> (i128, i128) {
    fn div_round(n: i128, d: i128) -> i128 {
        let q = n / d;
        let r = n % d;
        if 2 * r.abs() >= d {
            q + n.signum()
        } else {
            q
        }
    }
    let amount = div_round(quantity_milli as i128 * unit_amount_cents as i128, QUANTITY_SCALE as i128);
    // Saturating: at the extreme of both i64 inputs the product passes
    // i128; such a line is refused by the bounds anyway.
    let tax = div_round(amount.saturating_mul(tax_rate_bps as i128), 10_000);
    (amount, tax)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_amounts_round_half_away_from_zero() {
        assert_eq!(line_amounts(1_000, 900_000, 0), (900_000, 0));
        assert_eq!(line_amounts(1_500, 999, 2_000), (1_499, 300)); // 1498.5 → 1499; 299.8 → 300
        assert_eq!(line_amounts(333, 100, 1_000), (33, 3)); // 33.3 → 33; 3.3 → 3
        assert_eq!(line_amounts(2_000, 125, 825), (250, 21)); // 20.625 → 21
                                                              // The widest inputs cannot overflow the computation itself.
        let (amount, _) = line_amounts(i64::MAX, i64::MAX, 10_000);
        assert!(amount > i64::MAX as i128);
    }

    #[test]
    fn quantities_keep_three_decimals() {
        let line: NewInvoiceLine =
            serde_json::from_str(r#"{"kind":"service","description":"x","quantity":1.5,"unit_amount_cents":100}"#).unwrap();
        assert_eq!(line.quantity_milli, 1_500);
        assert!(serde_json::from_str::<NewInvoiceLine>(
            r#"{"kind":"service","description":"x","quantity":1.0005,"unit_amount_cents":100}"#
        )
        .is_err());
        assert_eq!(serde_json::to_value(&line).unwrap()["quantity"], serde_json::json!(1.5));
    }

    #[test]
    fn aging_buckets_by_days_overdue() {
        assert_eq!(aging_bucket(-3), "current");
        assert_eq!(aging_bucket(0), "current");
        assert_eq!(aging_bucket(30), "1-30");
        assert_eq!(aging_bucket(31), "31-60");
        assert_eq!(aging_bucket(91), "90+");
    }
}
