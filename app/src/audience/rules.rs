//! Segment rules: a tree of all/any groups over lead fields, validated with
//! the path of the offending rule and compiled into one SQL condition, so a
//! segment of a million leads is counted and listed by the database, never
//! by loading rows.

use serde::{Deserialize, Serialize};

use crate::crm::custom_fields::types::{CustomFieldType, DeclaredFields};

/// A group (`match` + `rules`) or a condition (`field` + `op` + `value`).
/// One shape for both keeps the JSON obvious and lets validation name the
/// exact rule that is wrong (`rules.rules[1].op`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct Rule {
    #[serde(rename = "match", default, skip_serializing_if = "Option::is_none")]
    pub match_: Option<Match>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rules: Option<Vec<Rule>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub op: Option<Op>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<serde_json::Value>,
}

impl Rule {
    pub fn group(match_: Match, rules: Vec<Rule>) -> Rule {
        Rule { match_: Some(match_), rules: Some(rules), ..Default::default() }
    }

    pub fn condition(field: &str, op: Op, value: Option<serde_json::Value>) -> Rule {
        Rule { field: Some(field.to_string()), op: Some(op), value, ..Default::default() }
    }

    pub fn is_group(&self) -> bool {
        self.rules.is_some() || self.match_.is_some()
    }
}

text_enum!(Match {
    All => "all",
    Any => "any",
});

text_enum!(Op {
    Eq => "eq",
    Neq => "neq",
    Contains => "contains",
    NotContains => "not_contains",
    StartsWith => "starts_with",
    In => "in",
    NotIn => "not_in",
    Gt => "gt",
    Gte => "gte",
    Lt => "lt",
    Lte => "lte",
    WithinLastDays => "within_last_days",
    MoreThanDaysAgo => "more_than_days_ago",
    IsSet => "is_set",
    IsNotSet => "is_not_set",
});

impl Op {
    pub fn label(self) -> &'static str {
        match self {
            Op::Eq => "is",
            Op::Neq => "is not",
            Op::Contains => "contains",
            Op::NotContains => "does not contain",
            Op::StartsWith => "starts with",
            Op::In => "is one of",
            Op::NotIn => "is none of",
            Op::Gt => "greater than / after",
            Op::Gte => "at least / on or after",
            Op::Lt => "less than / before",
            Op::Lte => "at most / on or before",
            Op::WithinLastDays => "within the last N days",
            Op::MoreThanDaysAgo => "more than N days ago",
            Op::IsSet => "is set",
            Op::IsNotSet => "is empty",
        }
    }

    pub fn takes_value(self) -> bool {
        !matches!(self, Op::IsSet | Op::IsNotSet)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FieldKind {
    Text,
    Choice,
    Number,
    Date,
    Tags,
    Owner,
    Boolean,
    /// An undeclared custom field: free-form JSON, compared by what the
    /// value looks like.
    Custom,
}

impl FieldKind {
    pub fn ops(self) -> &'static [Op] {
        use Op::*;
        match self {
            FieldKind::Text => &[Eq, Neq, Contains, NotContains, StartsWith, In, NotIn, IsSet, IsNotSet],
            FieldKind::Choice => &[Eq, Neq, In, NotIn],
            FieldKind::Number => &[Eq, Neq, Gt, Gte, Lt, Lte],
            FieldKind::Date => &[Gt, Gte, Lt, Lte, WithinLastDays, MoreThanDaysAgo, IsSet, IsNotSet],
            FieldKind::Tags => &[Contains, NotContains, IsSet, IsNotSet],
            FieldKind::Owner => &[Eq, Neq, IsSet, IsNotSet],
            FieldKind::Boolean => &[Eq, Neq, IsSet, IsNotSet],
            FieldKind::Custom => &[Eq, Neq, Contains, NotContains, StartsWith, Gt, Gte, Lt, Lte, IsSet, IsNotSet],
        }
    }
}

/// The lead fields a rule can test: (name, label, kind).
pub const LEAD_FIELDS: &[(&str, &str, FieldKind)] = &[
    ("name", "Name", FieldKind::Text),
    ("email", "Email", FieldKind::Text),
    ("phone", "Phone", FieldKind::Text),
    ("company_name", "Company", FieldKind::Text),
    ("title", "Title", FieldKind::Text),
    ("source", "Source", FieldKind::Choice),
    ("status", "Status", FieldKind::Choice),
    ("score", "Score", FieldKind::Number),
    ("tags", "Tags", FieldKind::Tags),
    ("owner_id", "Owner", FieldKind::Owner),
    ("created_at", "Created", FieldKind::Date),
    ("updated_at", "Updated", FieldKind::Date),
    ("last_activity_at", "Last activity", FieldKind::Date),
    ("converted_at", "Converted", FieldKind::Date),
];

/// `cf.<key>` tests a custom field (by its declared type, else as
/// free-form JSON); everything else must be in [`LEAD_FIELDS`].
pub fn field_kind(field: &str, fields: &DeclaredFields) -> Option<FieldKind> {
    if let Some(key) = field.strip_prefix("cf.") {
        if let Some(declared) = fields.get(key) {
            return Some(match declared.field_type {
                CustomFieldType::Text => FieldKind::Text,
                CustomFieldType::Number => FieldKind::Number,
                CustomFieldType::Date => FieldKind::Date,
                CustomFieldType::Boolean => FieldKind::Boolean,
                CustomFieldType::Choice => FieldKind::Choice,
            });
        }
        return crate::crm::leads::types::is_custom_field_key(key).then_some(FieldKind::Custom);
    }
    LEAD_FIELDS.iter().find(|(name, _, _)| *name == field).map(|(_, _, kind)| *kind)
}

/// The operators a field takes: its kind's, and for a declared custom
/// field (which may be absent on a lead) also "is set" / "is empty", and
/// "is" for dates (a declared date has no time of day).
pub fn ops_of(field: &str, fields: &DeclaredFields) -> &'static [Op] {
    use Op::*;
    let Some(kind) = field_kind(field, fields) else { return &[] };
    if fields.of_rule_field(field).is_none() {
        return kind.ops();
    }
    match kind {
        FieldKind::Number => &[Eq, Neq, Gt, Gte, Lt, Lte, IsSet, IsNotSet],
        FieldKind::Choice => &[Eq, Neq, In, NotIn, IsSet, IsNotSet],
        FieldKind::Date => &[Eq, Gt, Gte, Lt, Lte, WithinLastDays, MoreThanDaysAgo, IsSet, IsNotSet],
        other => other.ops(),
    }
}

/// Whether the rules compare with today ("within the last 7 days"), so
/// that membership changes with time even when no lead does.
pub fn is_time_relative(rule: &Rule) -> bool {
    rule.rules.iter().flatten().any(is_time_relative) || rule.op.is_some_and(|op| matches!(op, Op::WithinLastDays | Op::MoreThanDaysAgo))
}

pub const MAX_DEPTH: usize = 4;
pub const MAX_CONDITIONS: usize = 100;

#[cfg(feature = "ssr")]
pub use ssr::*;

#[cfg(feature = "ssr")]
mod ssr {
    use chrono::{DateTime, Duration, NaiveDate, Utc};
    use serde_json::Value;
    use uuid::Uuid;

    use super::*;
    use crate::crm::custom_fields::types::CustomField;
    use crate::crm::fields::like_pattern;
    use crate::crm::leads::types::{LeadSource, LeadStatus};
    use crate::error::{AppError, AppResult};
    use crate::platform::db::{Arg, Backend, Q};

    /// Checks a rule tree; the error names the rule by its path.
    pub fn validate(root: &Rule, fields: &DeclaredFields) -> AppResult<()> {
        if !root.is_group() {
            return Err(AppError::validation("rules", "the top level of rules must be a group: {\"match\": \"all\", \"rules\": [...]}"));
        }
        let mut conditions = 0;
        check(root, "rules", 1, &mut conditions, fields)
    }

    fn check(rule: &Rule, path: &str, depth: usize, conditions: &mut usize, fields: &DeclaredFields) -> AppResult<()> {
        if rule.is_group() {
            if rule.field.is_some() || rule.op.is_some() || rule.value.is_some() {
                return Err(AppError::validation(
                    path,
                    "a rule is either a group (match, rules) or a condition (field, op, value), not both",
                ));
            }
            if rule.match_.is_none() {
                return Err(AppError::validation(format!("{path}.match"), "a group needs match: all or any"));
            }
            if depth > MAX_DEPTH {
                return Err(AppError::validation(path, format!("groups nest at most {MAX_DEPTH} deep")));
            }
            for (i, child) in rule.rules.iter().flatten().enumerate() {
                check(child, &format!("{path}.rules[{i}]"), depth + 1, conditions, fields)?;
            }
            return Ok(());
        }
        *conditions += 1;
        if *conditions > MAX_CONDITIONS {
            return Err(AppError::validation(path, format!("a segment has at most {MAX_CONDITIONS} conditions")));
        }
        let field = rule.field.as_deref().ok_or_else(|| AppError::validation(format!("{path}.field"), "a condition needs a field"))?;
        let kind = field_kind(field, fields).ok_or_else(|| {
            AppError::validation(format!("{path}.field"), format!("unknown field {field:?}; use a lead field or cf.<key>"))
        })?;
        let op = rule.op.ok_or_else(|| AppError::validation(format!("{path}.op"), "a condition needs an op"))?;
        let ops = ops_of(field, fields);
        if !ops.contains(&op) {
            let allowed: Vec<&str> = ops.iter().map(|o| o.as_str()).collect();
            return Err(AppError::validation(
                format!("{path}.op"),
                format!("{field} does not support {}; use one of {}", op.as_str(), allowed.join(", ")),
            ));
        }
        let value_path = format!("{path}.value");
        if !op.takes_value() {
            if rule.value.as_ref().is_some_and(|v| !v.is_null()) {
                return Err(AppError::validation(value_path, format!("{} takes no value", op.as_str())));
            }
            return Ok(());
        }
        let value = rule
            .value
            .as_ref()
            .filter(|v| !v.is_null())
            .ok_or_else(|| AppError::validation(&value_path, "this condition needs a value"))?;
        // Parsing here is the validation; compile parses again infallibly.
        operand(field, kind, op, value, &value_path, fields).map(|_| ())
    }

    /// A condition's value, parsed for its field and op.
    enum Operand {
        Text(String),
        Texts(Vec<String>),
        Number(f64),
        Bool(bool),
        Time(DateTime<Utc>),
        Days(i64),
        Id(Uuid),
    }

    fn text_of(value: &Value, path: &str) -> AppResult<String> {
        let text = match value {
            Value::String(s) => s.clone(),
            Value::Number(n) => n.to_string(),
            _ => return Err(AppError::validation(path, "expected text")),
        };
        if text.chars().count() > 500 {
            return Err(AppError::validation(path, "values are at most 500 characters"));
        }
        Ok(text)
    }

    fn operand(field: &str, kind: FieldKind, op: Op, value: &Value, path: &str, fields: &DeclaredFields) -> AppResult<Operand> {
        if matches!(op, Op::In | Op::NotIn) {
            let items = value.as_array().ok_or_else(|| AppError::validation(path, format!("{} takes a list of values", op.as_str())))?;
            if items.is_empty() || items.len() > 100 {
                return Err(AppError::validation(path, "give 1 to 100 values"));
            }
            let texts = items.iter().map(|v| text_of(v, path)).collect::<AppResult<Vec<_>>>()?;
            let texts = texts.iter().map(|t| check_choice(field, t, path, fields)).collect::<AppResult<Vec<_>>>()?;
            return Ok(Operand::Texts(texts));
        }
        if matches!(op, Op::WithinLastDays | Op::MoreThanDaysAgo) {
            let days = value
                .as_i64()
                .or_else(|| value.as_str().and_then(|s| s.trim().parse().ok()))
                .filter(|d| (0..=36_500).contains(d))
                .ok_or_else(|| AppError::validation(path, "give a whole number of days between 0 and 36500"))?;
            return Ok(Operand::Days(days));
        }
        match kind {
            FieldKind::Text | FieldKind::Tags => Ok(Operand::Text(text_of(value, path)?)),
            FieldKind::Choice => {
                let text = text_of(value, path)?;
                Ok(Operand::Text(check_choice(field, &text, path, fields)?))
            }
            FieldKind::Boolean => match value {
                Value::Bool(b) => Ok(Operand::Bool(*b)),
                Value::String(s) if matches!(s.trim(), "true" | "false") => Ok(Operand::Bool(s.trim() == "true")),
                _ => Err(AppError::validation(path, format!("{field} compares with true or false"))),
            },
            FieldKind::Number => value
                .as_f64()
                .or_else(|| value.as_str().and_then(|s| s.trim().parse().ok()))
                .filter(|n: &f64| n.is_finite())
                .map(Operand::Number)
                .ok_or_else(|| AppError::validation(path, format!("{field} compares with a number"))),
            FieldKind::Date => parse_time(value)
                .map(Operand::Time)
                .ok_or_else(|| AppError::validation(path, "give a date (2026-01-31) or a time (2026-01-31T09:00:00Z)")),
            FieldKind::Owner => value
                .as_str()
                .and_then(|s| Uuid::parse_str(s.trim()).ok())
                .map(Operand::Id)
                .ok_or_else(|| AppError::validation(path, "owner_id compares with a user id")),
            FieldKind::Custom => match value {
                Value::Bool(b) if matches!(op, Op::Eq | Op::Neq) => Ok(Operand::Bool(*b)),
                Value::Number(n) => Ok(Operand::Number(n.as_f64().unwrap_or(0.0))),
                Value::String(_) if matches!(op, Op::Gt | Op::Gte | Op::Lt | Op::Lte) => {
                    let text = text_of(value, path)?;
                    match text.trim().parse::<f64>() {
                        Ok(n) if n.is_finite() => Ok(Operand::Number(n)),
                        _ => Ok(Operand::Text(text)),
                    }
                }
                Value::String(_) => Ok(Operand::Text(text_of(value, path)?)),
                _ => Err(AppError::validation(path, "custom fields compare with text, a number or true/false")),
            },
        }
    }

    /// A choice as the field spells it: a declared field's option matched
    /// case-insensitively, or a lead source or status as given.
    fn check_choice(field: &str, text: &str, path: &str, fields: &DeclaredFields) -> AppResult<String> {
        if let Some(declared) = fields.of_rule_field(field) {
            if declared.field_type != CustomFieldType::Choice {
                return Ok(text.to_string());
            }
            return declared
                .options
                .iter()
                .find(|o| o.to_lowercase() == text.trim().to_lowercase())
                .cloned()
                .ok_or_else(|| AppError::validation(path, format!("{} is one of {}", declared.key, declared.options.join(", "))));
        }
        let known = match field {
            "source" => LeadSource::parse(text).is_some(),
            "status" => LeadStatus::parse(text).is_some(),
            _ => true,
        };
        if !known {
            let options: Vec<&str> = match field {
                "source" => LeadSource::ALL.iter().map(|s| s.as_str()).collect(),
                _ => LeadStatus::ALL.iter().map(|s| s.as_str()).collect(),
            };
            return Err(AppError::validation(path, format!("{field} is one of {}", options.join(", "))));
        }
        Ok(text.to_string())
    }

    fn parse_time(value: &Value) -> Option<DateTime<Utc>> {
        let text = value.as_str()?.trim();
        if let Ok(t) = DateTime::parse_from_rfc3339(text) {
            return Some(t.with_timezone(&Utc));
        }
        let date = NaiveDate::parse_from_str(text, "%Y-%m-%d").ok()?;
        Some(date.and_hms_opt(0, 0, 0)?.and_utc())
    }

    /// Appends ` AND (<rules>)` to a query over `leads`. The rules must
    /// have passed [`validate`]; `now` anchors relative dates.
    pub fn push_condition(q: &mut Q, backend: Backend, root: &Rule, fields: &DeclaredFields, now: DateTime<Utc>) -> AppResult<()> {
        let sql = compile(q, backend, root, fields, now, "rules")?;
        q.push(&format!(" AND ({sql})"));
        Ok(())
    }

    fn compile(q: &mut Q, backend: Backend, rule: &Rule, fields: &DeclaredFields, now: DateTime<Utc>, path: &str) -> AppResult<String> {
        if rule.is_group() {
            let children = rule.rules.as_deref().unwrap_or(&[]);
            if children.is_empty() {
                // An empty group constrains nothing: a new segment starts
                // as "all leads" and narrows as conditions are added.
                return Ok("1 = 1".into());
            }
            let parts = children
                .iter()
                .enumerate()
                .map(|(i, c)| compile(q, backend, c, fields, now, &format!("{path}.rules[{i}]")))
                .collect::<AppResult<Vec<_>>>()?;
            let joiner = if rule.match_ == Some(Match::Any) { " OR " } else { " AND " };
            return Ok(format!("({})", parts.join(joiner)));
        }
        let field = rule.field.as_deref().unwrap_or_default();
        let kind = field_kind(field, fields).ok_or_else(|| AppError::validation(format!("{path}.field"), "unknown field"))?;
        let op = rule.op.ok_or_else(|| AppError::validation(format!("{path}.op"), "missing op"))?;
        let value = rule.value.clone().unwrap_or(Value::Null);
        let operand = if op.takes_value() { Some(operand(field, kind, op, &value, &format!("{path}.value"), fields)?) } else { None };
        if let Some(declared) = fields.of_rule_field(field) {
            return Ok(declared_condition(q, backend, declared, op, operand, now));
        }
        Ok(match kind {
            FieldKind::Custom => custom_condition(q, backend, &field[3..], op, operand),
            FieldKind::Tags => tags_condition(q, backend, op, operand),
            _ => column_condition(q, field, kind, op, operand, now),
        })
    }

    fn bind(q: &mut Q, value: impl Into<Arg>) -> String {
        q.arg(value)
    }

    fn lower_list(q: &mut Q, texts: &[String]) -> String {
        texts.iter().map(|t| bind(q, t.to_lowercase())).collect::<Vec<_>>().join(", ")
    }

    fn list(q: &mut Q, texts: &[String]) -> String {
        texts.iter().map(|t| bind(q, t.as_str())).collect::<Vec<_>>().join(", ")
    }

    fn column_condition(q: &mut Q, column: &str, kind: FieldKind, op: Op, operand: Option<Operand>, now: DateTime<Utc>) -> String {
        let text_col = format!("LOWER(COALESCE({column}, ''))");
        if kind == FieldKind::Choice {
            // Sources and statuses are stored as their canonical lower-case
            // names: compared as they are, the column's index serves.
            return match (op, operand) {
                (Op::Eq, Some(Operand::Text(t))) => format!("{column} = {}", bind(q, t)),
                (Op::Neq, Some(Operand::Text(t))) => format!("{column} <> {}", bind(q, t)),
                (Op::In, Some(Operand::Texts(ts))) => format!("{column} IN ({})", list(q, &ts)),
                (Op::NotIn, Some(Operand::Texts(ts))) => format!("{column} NOT IN ({})", list(q, &ts)),
                _ => "1 = 0".into(),
            };
        }
        match (op, operand) {
            (Op::IsSet, _) if kind == FieldKind::Text => format!("COALESCE({column}, '') <> ''"),
            (Op::IsNotSet, _) if kind == FieldKind::Text => format!("COALESCE({column}, '') = ''"),
            (Op::IsSet, _) => format!("{column} IS NOT NULL"),
            (Op::IsNotSet, _) => format!("{column} IS NULL"),
            (Op::Eq, Some(Operand::Text(t))) => format!("{text_col} = {}", bind(q, t.to_lowercase())),
            (Op::Neq, Some(Operand::Text(t))) => format!("{text_col} <> {}", bind(q, t.to_lowercase())),
            (Op::Contains, Some(Operand::Text(t))) => format!("{text_col} LIKE {} ESCAPE '\\'", bind(q, like_pattern(&t))),
            (Op::NotContains, Some(Operand::Text(t))) => format!("{text_col} NOT LIKE {} ESCAPE '\\'", bind(q, like_pattern(&t))),
            (Op::StartsWith, Some(Operand::Text(t))) => {
                let pattern = like_pattern(&t);
                format!("{text_col} LIKE {} ESCAPE '\\'", bind(q, pattern[1..].to_string()))
            }
            (Op::In, Some(Operand::Texts(ts))) => format!("{text_col} IN ({})", lower_list(q, &ts)),
            (Op::NotIn, Some(Operand::Texts(ts))) => format!("{text_col} NOT IN ({})", lower_list(q, &ts)),
            (op, Some(Operand::Number(n))) => {
                // Scores are integers: compared with an integer the column's
                // index serves (PostgreSQL casts the column for a float).
                // `> 49.5` is `> 49`, `>= 49.5` is `>= 50`; bounds far beyond
                // any score clamp without changing the answer.
                let whole = match op {
                    Op::Gt | Op::Lte => n.floor(),
                    Op::Gte | Op::Lt => n.ceil(),
                    _ => n,
                };
                if whole.fract() != 0.0 {
                    return if op == Op::Neq { "1 = 1".into() } else { "1 = 0".into() };
                }
                let whole = whole.clamp(-9.0e15, 9.0e15) as i64;
                format!("{column} {} {}", sql_op(op), bind(q, whole))
            }
            (op, Some(Operand::Time(t))) => format!("{column} {} {}", sql_op(op), bind(q, t)),
            (Op::WithinLastDays, Some(Operand::Days(d))) => format!("{column} >= {}", bind(q, now - Duration::days(d))),
            (Op::MoreThanDaysAgo, Some(Operand::Days(d))) => format!("{column} < {}", bind(q, now - Duration::days(d))),
            (Op::Eq, Some(Operand::Id(id))) => format!("{column} = {}", bind(q, id)),
            (Op::Neq, Some(Operand::Id(id))) => format!("({column} IS NULL OR {column} <> {})", bind(q, id)),
            _ => "1 = 0".into(),
        }
    }

    fn sql_op(op: Op) -> &'static str {
        match op {
            Op::Eq => "=",
            Op::Neq => "<>",
            Op::Gt => ">",
            Op::Gte => ">=",
            Op::Lt => "<",
            _ => "<=",
        }
    }

    fn tags_condition(q: &mut Q, backend: Backend, op: Op, operand: Option<Operand>) -> String {
        let (elements, length) = (backend.json_array_elements("leads.tags"), backend.json_array_length("leads.tags"));
        match (op, operand) {
            (Op::IsSet, _) => format!("{length} > 0"),
            (Op::IsNotSet, _) => format!("{length} = 0"),
            (op, Some(Operand::Text(t))) => {
                let exists = format!("EXISTS (SELECT 1 FROM ({elements}) t WHERE LOWER(t.element) = {})", bind(q, t.to_lowercase()));
                if op == Op::NotContains {
                    format!("NOT {exists}")
                } else {
                    exists
                }
            }
            _ => "1 = 0".into(),
        }
    }

    /// Custom fields compare by type: numbers numerically (text that is not
    /// a number never matches a numeric comparison), booleans as booleans,
    /// everything else by its text, case-insensitively.
    fn custom_condition(q: &mut Q, backend: Backend, key: &str, op: Op, operand: Option<Operand>) -> String {
        let field = backend.json_key("leads.custom_fields", key);
        let text = format!("LOWER({})", field.text);
        match (op, operand) {
            (Op::IsSet, _) => field.is_set(),
            (Op::IsNotSet, _) => format!("NOT ({})", field.is_set()),
            (op, Some(Operand::Bool(b))) => {
                let is = field.is_bool(b);
                if op == Op::Neq {
                    format!("NOT COALESCE({is}, FALSE)")
                } else {
                    is
                }
            }
            (op, Some(Operand::Number(n))) => field.compare_number(sql_op(op), &bind(q, n)),
            (Op::Eq, Some(Operand::Text(t))) => format!("{text} = {}", bind(q, t.to_lowercase())),
            (Op::Neq, Some(Operand::Text(t))) => format!("COALESCE({text}, '') <> {}", bind(q, t.to_lowercase())),
            (Op::Contains, Some(Operand::Text(t))) => format!("{text} LIKE {} ESCAPE '\\'", bind(q, like_pattern(&t))),
            (Op::NotContains, Some(Operand::Text(t))) => {
                format!("COALESCE({text}, '') NOT LIKE {} ESCAPE '\\'", bind(q, like_pattern(&t)))
            }
            (Op::StartsWith, Some(Operand::Text(t))) => {
                let pattern = like_pattern(&t);
                format!("{text} LIKE {} ESCAPE '\\'", bind(q, pattern[1..].to_string()))
            }
            (op, Some(Operand::Text(t))) => format!("{text} {} {}", sql_op(op), bind(q, t.to_lowercase())),
            _ => "1 = 0".into(),
        }
    }

    /// A declared custom field compared by its type, through the same
    /// expressions its index (when it has one) was built on: numbers as
    /// numbers, booleans as booleans, dates as `YYYY-MM-DD` text, text and
    /// choices as lower-cased text. "Is not" and "does not contain" also
    /// hold for leads without a value, as for the lead's own columns.
    fn declared_condition(
        q: &mut Q,
        backend: Backend,
        declared: &CustomField,
        op: Op,
        operand: Option<Operand>,
        now: DateTime<Utc>,
    ) -> String {
        let field = backend.json_key("leads.custom_fields", &declared.key);
        let text = &field.lower_text;
        let day = |t: DateTime<Utc>| t.date_naive().format("%Y-%m-%d").to_string();
        match (declared.field_type, op, operand) {
            (_, Op::IsSet, _) => field.is_set(),
            (_, Op::IsNotSet, _) => format!("NOT ({})", field.is_set()),
            (CustomFieldType::Boolean, Op::Eq, Some(Operand::Bool(b))) => field.is_bool(b),
            (CustomFieldType::Boolean, Op::Neq, Some(Operand::Bool(b))) => format!("NOT COALESCE({}, FALSE)", field.is_bool(b)),
            // A declared number holds only numbers (declaring refuses other
            // values, writes are converted), so the index alone answers: no
            // type check that would read every matching lead.
            (CustomFieldType::Number, Op::Neq, Some(Operand::Number(n))) => {
                format!("NOT COALESCE({} = {}, FALSE)", field.number, bind(q, n))
            }
            (CustomFieldType::Number, op, Some(Operand::Number(n))) => format!("{} {} {}", field.number, sql_op(op), bind(q, n)),
            (CustomFieldType::Date, Op::WithinLastDays, Some(Operand::Days(d))) => {
                format!("{text} >= {}", bind(q, day(now - Duration::days(d))))
            }
            (CustomFieldType::Date, Op::MoreThanDaysAgo, Some(Operand::Days(d))) => {
                format!("{text} < {}", bind(q, day(now - Duration::days(d))))
            }
            (CustomFieldType::Date, op, Some(Operand::Time(t))) => format!("{text} {} {}", sql_op(op), bind(q, day(t))),
            (_, Op::Eq, Some(Operand::Text(t))) => format!("{text} = {}", bind(q, t.to_lowercase())),
            (_, Op::Neq, Some(Operand::Text(t))) => format!("COALESCE({text}, '') <> {}", bind(q, t.to_lowercase())),
            (_, Op::Contains, Some(Operand::Text(t))) => format!("{text} LIKE {} ESCAPE '\\'", bind(q, like_pattern(&t))),
            (_, Op::NotContains, Some(Operand::Text(t))) => {
                format!("COALESCE({text}, '') NOT LIKE {} ESCAPE '\\'", bind(q, like_pattern(&t)))
            }
            (_, Op::StartsWith, Some(Operand::Text(t))) => {
                let pattern = like_pattern(&t);
                format!("{text} LIKE {} ESCAPE '\\'", bind(q, pattern[1..].to_string()))
            }
            (_, Op::In, Some(Operand::Texts(ts))) => format!("{text} IN ({})", lower_list(q, &ts)),
            (_, Op::NotIn, Some(Operand::Texts(ts))) => format!("COALESCE({text}, '') NOT IN ({})", lower_list(q, &ts)),
            _ => "1 = 0".into(),
        }
    }

    /// ` AND <custom field> = <value>` for a lead list's `cf.<key>=value`
    /// filter on a declared field: the value read as the field's type
    /// (`"42"` a number, `"true"` a boolean, an option of a choice).
    pub fn push_declared_equals(
        q: &mut Q,
        backend: Backend,
        declared: &CustomField,
        value: &str,
        fields: &DeclaredFields,
    ) -> AppResult<()> {
        let field = format!("cf.{}", declared.key);
        let kind = field_kind(&field, fields).unwrap_or(FieldKind::Text);
        // The field's name is also the path a refusal names.
        let operand = operand(&field, kind, Op::Eq, &Value::String(value.to_string()), &field, fields)?;
        let sql = declared_condition(q, backend, declared, Op::Eq, Some(operand), crate::platform::db::now());
        q.push(&format!(" AND {sql}"));
        Ok(())
    }
}
