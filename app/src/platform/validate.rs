//! Bounds on every number a client can write, decided here once so that
//! REST, server functions, imports and (later) MCP refuse the same values
//! with the same 422 naming the field.
//!
//! Why these numbers: a single stored amount of `i64::MAX` used to make
//! every sum over it overflow. With each amount at most [`MAX_MONEY_MINOR`]
//! (10^15 minor units: ten trillion in a two-decimal currency) a sum of up
//! to 9,223 amounts still fits an `i64`; sums over more rows than that are
//! carried in `i128` (see `platform::db::wide_sum`), so no row count the
//! product supports can overflow a total, and neither can rows stored
//! before these bounds existed.

/// The largest amount of money in one field, in minor units (10^15).
pub const MAX_MONEY_MINOR: i64 = 1_000_000_000_000_000;

/// The largest invoice line quantity, in thousandths (one billion units).
pub const MAX_QUANTITY_MILLI: i64 = 1_000_000_000_000;

/// The largest head count a company can have.
pub const MAX_EMPLOYEE_COUNT: i64 = 100_000_000;

/// The most lines one journal entry can hold.
pub const MAX_JOURNAL_LINES: usize = 500;

#[cfg(feature = "ssr")]
pub use checks::*;

#[cfg(feature = "ssr")]
mod checks {
    use super::*;
    use crate::error::{AppError, AppResult};
    use crate::platform::context::Ctx;
    use crate::platform::db::Tx;
    use uuid::Uuid;

    pub fn required_text(field: &str, value: &str, max: usize) -> AppResult<String> {
        let value = value.trim();
        if value.is_empty() {
            return Err(AppError::validation(field, format!("{field} is required")));
        }
        if value.chars().count() > max {
            return Err(AppError::validation(field, format!("{field} must be at most {max} characters")));
        }
        no_nul(field, value)?;
        Ok(value.to_string())
    }

    pub fn normalize_email(field: &str, email: &str) -> AppResult<String> {
        let email = email.trim().to_lowercase();
        let valid = email.len() <= 254
            && email.split_once('@').is_some_and(|(local, domain)| {
                !local.is_empty()
                    && domain.contains('.')
                    && !domain.starts_with('.')
                    && !domain.ends_with('.')
                    && !email.chars().any(char::is_whitespace)
            });
        if !valid {
            return Err(AppError::validation(field, "enter a valid email address"));
        }
        Ok(email)
    }

    /// Trims; empty means absent; longer than `max` characters is refused.
    pub fn optional_text(field: &str, value: Option<String>, max: usize) -> AppResult<Option<String>> {
        let Some(value) = value.map(|v| v.trim().to_string()).filter(|v| !v.is_empty()) else {
            return Ok(None);
        };
        if value.chars().count() > max {
            return Err(AppError::validation(field, format!("{field} must be at most {max} characters")));
        }
        no_nul(field, &value)?;
        Ok(Some(value))
    }

    /// PostgreSQL cannot store a NUL in text; refused on every backend.
    pub fn no_nul(field: &str, value: &str) -> AppResult<()> {
        match value.contains('\0') {
            true => Err(AppError::validation(field, format!("{field} must not contain NUL characters"))),
            false => Ok(()),
        }
    }

    pub fn optional_email(field: &str, value: Option<String>) -> AppResult<Option<String>> {
        match value.map(|v| v.trim().to_string()).filter(|v| !v.is_empty()) {
            None => Ok(None),
            Some(email) => normalize_email(field, &email).map(Some),
        }
    }

    pub fn check_custom_fields(value: &serde_json::Value) -> AppResult<()> {
        if !value.is_object() {
            return Err(AppError::validation("custom_fields", "custom_fields must be a JSON object"));
        }
        let text = value.to_string();
        if text.len() > 64 * 1024 {
            return Err(AppError::validation("custom_fields", "custom_fields must be at most 64 KiB"));
        }
        // PostgreSQL's JSONB holds no `\u0000` (imports and forms reach here
        // without the JSON body check).
        if text.contains("\\u0000") {
            return Err(AppError::validation("custom_fields", "custom_fields must not contain NUL characters"));
        }
        Ok(())
    }

    /// Whether `id` names a row of `table` (a trusted table name, never user
    /// input) in the acting workspace.
    /// A record's custom fields as given, or `{}`; checked like any.
    pub fn custom_fields_or_empty(value: Option<serde_json::Value>) -> AppResult<serde_json::Value> {
        let value = value.unwrap_or_else(|| serde_json::json!({}));
        check_custom_fields(&value)?;
        Ok(value)
    }

    pub async fn record_exists(tx: &mut Tx, ctx: &Ctx, table: &str, id: Uuid) -> AppResult<bool> {
        let found: Option<(Uuid,)> = tx
            .fetch_optional(
                crate::platform::db::Q::new(format!("SELECT id FROM {table} WHERE workspace_id = $1 AND id = $2"))
                    .bind(ctx.workspace_id)
                    .bind(id),
            )
            .await?;
        Ok(found.is_some())
    }

    /// A reference in the input (`field`, naming a row of `table`) must exist in
    /// the acting workspace; absent is fine.
    pub async fn check_reference(tx: &mut Tx, ctx: &Ctx, field: &str, table: &str, id: Option<Uuid>) -> AppResult<()> {
        if let Some(id) = id {
            if !record_exists(tx, ctx, table, id).await? {
                return Err(AppError::validation(field, format!("{field} does not name an existing record")));
            }
        }
        Ok(())
    }

    /// An amount of money from 0 to [`MAX_MONEY_MINOR`].
    pub fn money(field: &str, value: i64) -> AppResult<i64> {
        if value < 0 {
            return Err(AppError::validation(field, format!("{field} cannot be negative")));
        }
        at_most_money(field, value)
    }

    /// An amount of money from 1 to [`MAX_MONEY_MINOR`].
    pub fn positive_money(field: &str, value: i64) -> AppResult<i64> {
        if value <= 0 {
            return Err(AppError::validation(field, format!("{field} must be more than zero")));
        }
        at_most_money(field, value)
    }

    fn at_most_money(field: &str, value: i64) -> AppResult<i64> {
        if value > MAX_MONEY_MINOR {
            return Err(AppError::validation(field, format!("{field} must be at most {MAX_MONEY_MINOR} minor units (10^15)")));
        }
        Ok(value)
    }

    /// A computed amount (a line total, an invoice total) that must stay
    /// within the same bound as the amounts it came from; computed in
    /// `i128` so that the check itself cannot overflow.
    pub fn computed_money(field: &str, value: i128) -> AppResult<i64> {
        if !(0..=MAX_MONEY_MINOR as i128).contains(&value) {
            return Err(AppError::validation(
                field,
                format!("the computed amount is above the limit of {MAX_MONEY_MINOR} minor units (10^15)"),
            ));
        }
        Ok(value as i64)
    }

    /// A whole number in `min..=max`.
    pub fn in_range(field: &str, value: i64, min: i64, max: i64) -> AppResult<i64> {
        if !(min..=max).contains(&value) {
            return Err(AppError::validation(field, format!("{field} must be between {min} and {max}")));
        }
        Ok(value)
    }

    /// An IANA time zone name (`Europe/Paris`), as the tz database spells it.
    pub fn time_zone(field: &str, value: &str) -> AppResult<String> {
        match value.trim().parse::<chrono_tz::Tz>() {
            Ok(tz) => Ok(tz.name().to_string()),
            Err(_) => Err(AppError::validation(field, format!("{value:?} is not an IANA time zone (Europe/Paris, America/New_York, UTC)"))),
        }
    }

    /// An optional whole number in `min..=max`.
    pub fn optional_in_range(field: &str, value: Option<i64>, min: i64, max: i64) -> AppResult<Option<i64>> {
        value.map(|v| in_range(field, v, min, max)).transpose()
    }

    /// An optional amount of money from 0 to [`MAX_MONEY_MINOR`].
    pub fn optional_money(field: &str, value: Option<i64>) -> AppResult<Option<i64>> {
        value.map(|v| money(field, v)).transpose()
    }

    /// Whether a stored amount is within bounds (rows written before the
    /// bounds existed may not be).
    pub fn money_in_bounds(value: i64) -> bool {
        (0..=MAX_MONEY_MINOR).contains(&value)
    }

    /// SQL that is true where `column` lies outside `0..=max`, for finding
    /// rows stored before the bounds (`max` is one of the constants here,
    /// never input).
    pub fn sql_outside(column: &str, max: i64) -> String {
        format!("({column} < 0 OR {column} > {max})")
    }

    /// One thing a bounds repair did to a row stored before the bounds.
    #[derive(Clone, Debug, serde::Serialize)]
    pub struct BoundsRepair {
        pub entity_type: &'static str,
        pub entity_id: uuid::Uuid,
        pub action: String,
    }

    impl BoundsRepair {
        pub fn new(entity_type: &'static str, entity_id: uuid::Uuid, action: impl Into<String>) -> BoundsRepair {
            BoundsRepair { entity_type, entity_id, action: action.into() }
        }
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn money_bounds_include_both_ends() {
            assert_eq!(money("amount_cents", 0).unwrap(), 0);
            assert_eq!(money("amount_cents", MAX_MONEY_MINOR).unwrap(), MAX_MONEY_MINOR);
            assert_eq!(money("amount_cents", MAX_MONEY_MINOR + 1).unwrap_err().field(), Some("amount_cents"));
            assert_eq!(money("amount_cents", -1).unwrap_err().field(), Some("amount_cents"));
            assert!(money("amount_cents", i64::MAX).is_err());
            assert!(positive_money("amount_cents", 0).is_err());
            assert_eq!(positive_money("amount_cents", 1).unwrap(), 1);
            assert!(computed_money("lines", MAX_MONEY_MINOR as i128 + 1).is_err());
            assert!(computed_money("lines", i128::MAX).is_err());
            assert_eq!(computed_money("lines", 5).unwrap(), 5);
            assert!(in_range("probability", 101, 0, 100).is_err());
            assert_eq!(optional_in_range("employee_count", None, 0, 10).unwrap(), None);
        }
    }
}
