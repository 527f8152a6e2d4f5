//! How the workspace writes numbers, money, dates and times: its locale
//! (separators, date order) and its time zone. Pages format through
//! [`Formats::current`], which the page frame provides: on the server from
//! the signed-in member's workspace (put on the request before rendering),
//! in the browser from the `corral-formats` meta tag the server wrote, so
//! both render the same text.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

/// The locales a workspace can choose, with their names in themselves.
pub const LOCALES: &[(&str, &str)] = &[
    ("en-US", "English (United States)"),
    ("en-GB", "English (United Kingdom)"),
    ("de-DE", "Deutsch (Deutschland)"),
    ("fr-FR", "Français (France)"),
    ("es-ES", "Español (España)"),
    ("nl-NL", "Nederlands (Nederland)"),
    ("sv-SE", "Svenska (Sverige)"),
    ("pt-BR", "Português (Brasil)"),
    ("ja-JP", "日本語 (日本)"),
];

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Formats {
    pub locale: String,
    pub time_zone: String,
}

impl Default for Formats {
    fn default() -> Self {
        Formats { locale: "en-US".into(), time_zone: "UTC".into() }
    }
}

impl Formats {
    /// The formats of the page being rendered (the default outside one).
    pub fn current() -> Formats {
        leptos::prelude::use_context::<Formats>().unwrap_or_default()
    }

    /// `de-DE|Europe/Berlin`: the meta tag's content.
    pub fn encode(&self) -> String {
        format!("{}|{}", self.locale, self.time_zone)
    }

    pub fn decode(text: &str) -> Formats {
        match text.split_once('|') {
            Some((locale, zone)) if LOCALES.iter().any(|(l, _)| *l == locale) => Formats { locale: locale.into(), time_zone: zone.into() },
            _ => Formats::default(),
        }
    }

    /// The thousands separator and the decimal mark.
    fn separators(&self) -> (&'static str, char) {
        match self.locale.as_str() {
            "de-DE" | "es-ES" | "nl-NL" | "pt-BR" => (".", ','),
            // A narrow no-break space, as CLDR writes French numbers.
            "fr-FR" => ("\u{202f}", ','),
            "sv-SE" => ("\u{a0}", ','),
            _ => (",", '.'),
        }
    }

    fn group(&self, digits: &str) -> String {
        let (separator, _) = self.separators();
        let mut grouped = String::new();
        for (i, c) in digits.chars().enumerate() {
            if i > 0 && (digits.len() - i).is_multiple_of(3) {
                grouped.push_str(separator);
            }
            grouped.push(c);
        }
        grouped
    }

    /// A whole number: 1234567 → "1,234,567" (en-US), "1.234.567" (de-DE).
    pub fn number(&self, n: impl Into<i128>) -> String {
        let n: i128 = n.into();
        format!("{}{}", if n < 0 { "-" } else { "" }, self.group(&n.unsigned_abs().to_string()))
    }

    /// A decimal written with the locale's mark: 12.5 → "12,5" (de-DE).
    pub fn decimal(&self, text: &str) -> String {
        let (_, mark) = self.separators();
        text.replace('.', &mark.to_string())
    }

    /// Minor units with the currency's code after them: 900000 USD →
    /// "9,000.00 USD" (en-US), "9.000,00 USD" (de-DE). Two decimals.
    pub fn money(&self, minor: impl Into<i128>, currency: &str) -> String {
        let minor: i128 = minor.into();
        let (_, mark) = self.separators();
        let cents = minor.unsigned_abs();
        format!("{}{}{mark}{:02} {currency}", if minor < 0 { "-" } else { "" }, self.group(&(cents / 100).to_string()), cents % 100)
    }

    /// An amount as this locale writes it without its currency, for hints
    /// in error messages: 900050 → "9,000.50" (en-US), "9.000,50" (de-DE).
    pub fn amount_example(&self, minor: i64) -> String {
        self.money(minor, "").trim_end().to_string()
    }

    /// Reads an amount typed by a person in this locale as minor units
    /// ("9,000.50" in en-US, "9.000,50" in de-DE); blank is zero.
    pub fn parse_money(&self, text: &str) -> Option<i64> {
        if text.trim().is_empty() {
            return Some(0);
        }
        self.parse_decimal(text, 2)
    }

    /// Reads a non-negative decimal typed in this locale, with at most
    /// `places` decimals, as an integer scaled by 10^places. Thousands
    /// separators are taken only in groups of three ("1.234.567,5" in
    /// de-DE); where the locale's mark is a comma, a lone point that cannot
    /// be a thousands separator ("12.50") is read as the decimal point, as
    /// people paste numbers from elsewhere.
    pub fn parse_decimal(&self, text: &str, places: u32) -> Option<i64> {
        let (group, mark) = self.separators();
        let text: String = text.trim().chars().filter(|c| !matches!(c, ' ' | '\u{a0}' | '\u{202f}')).collect();
        let group = group.trim_matches(|c| matches!(c, ' ' | '\u{a0}' | '\u{202f}'));
        let (units, fraction) = match text.rsplit_once(mark) {
            Some((units, fraction)) => (units.to_string(), Some(fraction.to_string())),
            None => (text.clone(), None),
        };
        let units = match group {
            "" => units,
            group => match ungroup(&units, group) {
                Some(digits) => digits,
                // "12.50" in de-DE: not thousands, so the decimal point.
                None if fraction.is_none() && mark != '.' => return plain_decimal(&units, places),
                None => return None,
            },
        };
        match fraction {
            Some(fraction) => plain_decimal(&format!("{units}.{fraction}"), places),
            None => plain_decimal(&units, places),
        }
    }

    /// A date in the locale's order: 11/25/2026 (en-US), 25.11.2026 (de-DE),
    /// 2026-11-25 (sv-SE).
    pub fn date(&self, date: NaiveDate) -> String {
        let pattern = match self.locale.as_str() {
            "en-US" => "%m/%d/%Y",
            "de-DE" => "%d.%m.%Y",
            "nl-NL" => "%d-%m-%Y",
            "sv-SE" => "%Y-%m-%d",
            "ja-JP" => "%Y/%m/%d",
            _ => "%d/%m/%Y",
        };
        date.format(pattern).to_string()
    }

    /// A moment in the workspace's time zone, with the zone's abbreviation:
    /// "11/25/2026 09:30 EST".
    pub fn time(&self, time: DateTime<Utc>) -> String {
        match self.time_zone.parse::<chrono_tz::Tz>() {
            Ok(zone) => {
                let local = time.with_timezone(&zone);
                format!("{} {}", self.date(local.date_naive()), local.format("%H:%M %Z"))
            }
            Err(_) => format!("{} {} UTC", self.date(time.date_naive()), time.format("%H:%M")),
        }
    }
}

/// Reads a non-negative decimal with at most `places` decimals as an
/// integer scaled by 10^places: ("1.5", 3) → 1500. Digits and one point only.
fn plain_decimal(text: &str, places: u32) -> Option<i64> {
    let text = text.trim();
    let (units, fraction) = text.split_once('.').unwrap_or((text, ""));
    if units.is_empty() && fraction.is_empty() || fraction.len() > places as usize {
        return None;
    }
    if !units.chars().chain(fraction.chars()).all(|c| c.is_ascii_digit()) {
        return None;
    }
    let units: i64 = if units.is_empty() { 0 } else { units.parse().ok()? };
    let fraction: i64 = if fraction.is_empty() { 0 } else { format!("{fraction:0<width$}", width = places as usize).parse().ok()? };
    units.checked_mul(10i64.pow(places))?.checked_add(fraction)
}

/// Digits written with `group` between thousands ("1,234,567"), without
/// it; `None` when a group is not three digits. Digits without any
/// separator pass as they are.
fn ungroup(text: &str, group: &str) -> Option<String> {
    let parts: Vec<&str> = text.split(group).collect();
    if parts.len() == 1 {
        return Some(text.to_string());
    }
    let first_ok = (1..=3).contains(&parts[0].len());
    (first_ok && parts[1..].iter().all(|p| p.len() == 3)).then(|| parts.concat())
}

#[cfg(feature = "ssr")]
pub mod ssr {
    use super::Formats;
    use crate::error::{AppError, AppResult};
    use crate::platform::db::{Db, Tx, Q};

    /// A locale Corral writes in, or a validation error naming `field`.
    pub fn locale(field: &str, value: &str) -> AppResult<String> {
        super::LOCALES.iter().find(|(l, _)| l.eq_ignore_ascii_case(value.trim())).map(|(l, _)| l.to_string()).ok_or_else(|| {
            let known: Vec<&str> = super::LOCALES.iter().map(|(l, _)| *l).collect();
            AppError::validation(field, format!("{value:?} is not a supported locale ({})", known.join(", ")))
        })
    }

    /// The formats of a workspace.
    pub async fn of_workspace(db: &Db, workspace_id: uuid::Uuid) -> AppResult<Formats> {
        let mut tx = db.begin_read().await?;
        let formats = in_tx(&mut tx, workspace_id).await?;
        tx.commit().await?;
        Ok(formats)
    }

    /// The formats of a workspace, read in a transaction already open.
    pub async fn in_tx(tx: &mut Tx, workspace_id: uuid::Uuid) -> AppResult<Formats> {
        let row: Option<(String, String)> =
            tx.fetch_optional(Q::new("SELECT locale, time_zone FROM workspaces WHERE id = $1").bind(workspace_id)).await?;
        Ok(row.map(|(locale, time_zone)| Formats { locale, time_zone }).unwrap_or_default())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn of(locale: &str, zone: &str) -> Formats {
        Formats { locale: locale.into(), time_zone: zone.into() }
    }

    #[test]
    fn money_numbers_and_dates_follow_the_locale() {
        assert_eq!(of("en-US", "UTC").money(6_825_900, "USD"), "68,259.00 USD");
        assert_eq!(of("de-DE", "UTC").money(6_825_900, "EUR"), "68.259,00 EUR");
        assert_eq!(of("fr-FR", "UTC").money(-123_456_789, "EUR"), "-1\u{202f}234\u{202f}567,89 EUR");
        assert_eq!(of("sv-SE", "UTC").number(1_234_567), "1\u{a0}234\u{a0}567");
        assert_eq!(of("en-GB", "UTC").number(999), "999");
        let day = NaiveDate::from_ymd_opt(2026, 11, 25).unwrap();
        assert_eq!(of("en-US", "UTC").date(day), "11/25/2026");
        assert_eq!(of("de-DE", "UTC").date(day), "25.11.2026");
        assert_eq!(of("ja-JP", "UTC").date(day), "2026/11/25");
        assert_eq!(of("de-DE", "UTC").decimal("12.5k"), "12,5k");
    }

    #[test]
    fn decimals_parse_exactly() {
        assert_eq!(plain_decimal("1.5", 3), Some(1_500));
        assert_eq!(plain_decimal("8.25", 2), Some(825));
        assert_eq!(plain_decimal("20", 2), Some(2_000));
        assert_eq!(plain_decimal("1.0005", 3), None);
        assert_eq!(plain_decimal("-1", 3), None);
        assert_eq!(plain_decimal("", 3), None);
    }

    #[test]
    fn amounts_are_read_as_the_locale_writes_them() {
        let (us, de, fr) = (of("en-US", "UTC"), of("de-DE", "UTC"), of("fr-FR", "UTC"));
        assert_eq!(us.parse_money("9,000.50"), Some(900_050));
        assert_eq!(us.parse_money("9000"), Some(900_000));
        assert_eq!(us.parse_money(""), Some(0));
        assert_eq!(us.parse_money("9,00"), None);
        assert_eq!(us.parse_money("9.000,50"), None);
        assert_eq!(de.parse_money("9.000,50"), Some(900_050));
        assert_eq!(de.parse_money("9000,5"), Some(900_050));
        assert_eq!(de.parse_money("1.234.567"), Some(123_456_700));
        // A point that cannot be thousands is the decimal point.
        assert_eq!(de.parse_money("12.50"), Some(1_250));
        assert_eq!(de.parse_money("12,345"), None);
        assert_eq!(de.parse_money("-5"), None);
        assert_eq!(fr.parse_money("1\u{202f}234,56"), Some(123_456));
        assert_eq!(fr.parse_money("1 234,56"), Some(123_456));
        assert_eq!(de.parse_decimal("8,25", 2), Some(825));
        assert_eq!(de.parse_decimal("1,5", 3), Some(1_500));
        assert_eq!(de.amount_example(900_050), "9.000,50");
        assert_eq!(us.amount_example(900_050), "9,000.50");
    }

    #[test]
    fn times_are_shown_in_the_workspace_time_zone() {
        let moment = Utc.with_ymd_and_hms(2026, 11, 25, 14, 30, 0).unwrap();
        assert_eq!(of("en-US", "America/New_York").time(moment), "11/25/2026 09:30 EST");
        assert_eq!(of("de-DE", "Europe/Berlin").time(moment), "25.11.2026 15:30 CET");
        // Past midnight in Tokyo: the date moves too.
        assert_eq!(of("ja-JP", "Asia/Tokyo").time(Utc.with_ymd_and_hms(2026, 11, 25, 20, 0, 0).unwrap()), "2026/11/26 05:00 JST");
        assert_eq!(Formats::decode("de-DE|Europe/Berlin"), of("de-DE", "Europe/Berlin"));
        assert_eq!(Formats::decode("xx|Nowhere"), Formats::default());
    }
}
