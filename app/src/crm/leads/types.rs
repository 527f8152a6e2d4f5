use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::crm::companies::types::Company;
use crate::crm::contacts::types::Contact;
use crate::crm::deals::types::Deal;

text_enum!(LeadSource {
    Manual => "manual",
    Website => "website",
    Referral => "referral",
    Campaign => "campaign",
    Import => "import",
    Api => "api",
    Mcp => "mcp",
    Other => "other",
});

text_enum!(LeadStatus {
    New => "new",
    Working => "working",
    Qualified => "qualified",
    Disqualified => "disqualified",
    Converted => "converted",
});

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[cfg_attr(feature = "ssr", derive(sqlx::FromRow))]
pub struct Lead {
    pub id: Uuid,
    pub workspace_id: Uuid,
    pub name: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub company_name: Option<String>,
    pub title: Option<String>,
    #[cfg_attr(feature = "ssr", sqlx(try_from = "String"))]
    pub source: LeadSource,
    #[cfg_attr(feature = "ssr", sqlx(try_from = "String"))]
    pub status: LeadStatus,
    pub score: i64,
    pub owner_id: Option<Uuid>,
    #[cfg_attr(feature = "ssr", sqlx(json))]
    pub custom_fields: serde_json::Value,
    /// Free labels for segmenting ("webinar-2026", "vip").
    #[cfg_attr(feature = "ssr", sqlx(json))]
    pub tags: Vec<String>,
    pub last_activity_at: Option<DateTime<Utc>>,
    pub converted_at: Option<DateTime<Utc>>,
    pub converted_contact_id: Option<Uuid>,
    pub converted_company_id: Option<Uuid>,
    pub converted_deal_id: Option<Uuid>,
    /// The marketing campaign that brought the lead (first touch).
    #[serde(default)]
    pub campaign_id: Option<Uuid>,
    /// How it came: `via` (form, utm, ad_click, sequence_reply), UTM
    /// parameters, the ad click id, the form or sequence.
    #[serde(default)]
    pub attribution: Option<serde_json::Value>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// The API key that last wrote the record (agents and scripts).
    pub last_agent_actor_id: Option<Uuid>,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct NewLead {
    pub name: String,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub phone: Option<String>,
    #[serde(default)]
    pub company_name: Option<String>,
    #[serde(default)]
    pub title: Option<String>,
    /// `api` when created through the API, `manual` in the UI, when absent.
    #[serde(default)]
    pub source: Option<LeadSource>,
    #[serde(default)]
    pub status: Option<LeadStatus>,
    #[serde(default)]
    pub score: Option<i64>,
    #[serde(default)]
    pub owner_id: Option<Uuid>,
    #[serde(default)]
    pub custom_fields: Option<serde_json::Value>,
    #[serde(default)]
    pub tags: Option<Vec<String>>,
}

patch!(
    LeadPatch {
        name: required String,
        email: optional String,
        phone: optional String,
        company_name: optional String,
        title: optional String,
        source: required LeadSource,
        status: required LeadStatus,
        score: required i64,
        owner_id: optional Uuid,
        custom_fields: required serde_json::Value,
        tags: required Vec<String>,
    }
);

/// Lead list filters. Custom fields filter as `cf.<key>=<value>`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct LeadFilter {
    pub q: Option<String>,
    pub status: Option<LeadStatus>,
    pub source: Option<LeadSource>,
    pub min_score: Option<i64>,
    pub max_score: Option<i64>,
    pub owner: Option<String>,
    pub created_after: Option<DateTime<Utc>>,
    pub created_before: Option<DateTime<Utc>>,
    pub last_activity_after: Option<DateTime<Utc>>,
    pub last_activity_before: Option<DateTime<Utc>>,
    pub custom_fields: Vec<(String, String)>,
    pub limit: Option<i64>,
    pub cursor: Option<String>,
}

/// What to make of a lead. Without ids, the contact is found by the lead's
/// email or created, and the company found by name or created from the
/// lead's company name.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct ConvertLead {
    #[serde(default)]
    pub contact_id: Option<Uuid>,
    #[serde(default)]
    pub company_id: Option<Uuid>,
    #[serde(default)]
    pub deal: Option<ConvertDeal>,
    /// Why the lead was converted; kept in the audit trail.
    #[serde(default)]
    pub conversion_reason: Option<String>,
    /// The seed's flat spelling of `deal`: open a deal too.
    #[serde(default)]
    pub create_deal: Option<bool>,
    /// With `create_deal`: the deal's name.
    #[serde(default)]
    pub deal_name: Option<String>,
    /// With `create_deal`: the deal's stage by key (the first open stage when absent).
    #[serde(default)]
    pub stage_key: Option<String>,
    /// With `create_deal`: the deal's value in minor units.
    #[serde(default)]
    pub amount_cents: Option<i64>,
    /// With `create_deal`: the deal's currency.
    #[serde(default)]
    pub currency: Option<String>,
}

impl ConvertLead {
    /// The deal to open, from the `deal` object or the seed's flat fields
    /// (`create_deal`, `deal_name`, `stage_key`, `amount_cents`,
    /// `currency`); mixing the two, or flat details without
    /// `create_deal: true`, is refused naming the field.
    pub fn deal_spec(&self) -> Result<Option<ConvertDeal>, (&'static str, &'static str)> {
        let flat_details = self.deal_name.is_some() || self.stage_key.is_some() || self.amount_cents.is_some() || self.currency.is_some();
        match (&self.deal, self.create_deal) {
            (Some(_), Some(_)) | (Some(_), None) if flat_details => Err(("deal", "give the deal object or the flat deal fields, not both")),
            (Some(_), Some(false)) => Err(("create_deal", "create_deal is false but a deal object is given")),
            (Some(deal), _) => Ok(Some(deal.clone())),
            (None, Some(true)) => Ok(Some(ConvertDeal {
                name: self.deal_name.clone(),
                stage_key: self.stage_key.clone(),
                amount_cents: self.amount_cents,
                currency: self.currency.clone(),
                ..Default::default()
            })),
            (None, _) if flat_details => Err(("create_deal", "set create_deal to true to open a deal with these details")),
            (None, _) => Ok(None),
        }
    }
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct ConvertDeal {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub stage_id: Option<Uuid>,
    /// The stage by key, instead of `stage_id`.
    #[serde(default)]
    pub stage_key: Option<String>,
    #[serde(default)]
    pub amount_cents: Option<i64>,
    #[serde(default)]
    pub currency: Option<String>,
    #[serde(default)]
    pub expected_close_date: Option<NaiveDate>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct Conversion {
    pub lead: Lead,
    pub contact: Contact,
    pub company: Option<Company>,
    pub deal: Option<Deal>,
}

/// Whether `key` may name a custom field in rules, mappings, forms and the
/// lead page: 1-64 characters of a-z, A-Z, 0-9, `_` or `-`.
pub fn is_custom_field_key(key: &str) -> bool {
    !key.is_empty() && key.len() <= 64 && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

/// A custom field's value as a person reads and types it: text as is,
/// anything else as JSON.
pub fn custom_field_text(value: &serde_json::Value) -> String {
    match value {
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Applies the lead page's custom-field edits to `current`: each edited
/// key keeps its JSON type when its text did not change (or still reads as
/// the same type), a blank value removes the key, and `added` appends a
/// new text field. Returns the new object, or an error naming the problem.
pub fn apply_custom_field_edits(
    current: &serde_json::Value,
    edits: &std::collections::BTreeMap<String, String>,
    added: Option<(String, String)>,
) -> Result<serde_json::Value, String> {
    use serde_json::Value;
    let mut fields = current.as_object().cloned().unwrap_or_default();
    for (key, text) in edits {
        let text = text.trim();
        let Some(old) = fields.get(key) else { continue };
        if text.is_empty() {
            fields.remove(key);
        } else if custom_field_text(old) != text {
            let typed = match old {
                Value::Number(_) => text
                    .parse::<i64>()
                    .map(Value::from)
                    .ok()
                    .or_else(|| text.parse::<f64>().ok().and_then(|f| serde_json::Number::from_f64(f).map(Value::Number))),
                Value::Bool(_) => text.parse::<bool>().ok().map(Value::Bool),
                _ => None,
            };
            fields.insert(key.clone(), typed.unwrap_or_else(|| Value::String(text.to_string())));
        }
    }
    if let Some((key, value)) = added {
        let (key, value) = (key.trim().to_string(), value.trim().to_string());
        if !key.is_empty() {
            if !is_custom_field_key(&key) {
                return Err(format!("{key:?}: a field name is up to 64 letters, digits, _ or -"));
            }
            if fields.contains_key(&key) {
                return Err(format!("the lead already has a field {key}; edit it above"));
            }
            if value.is_empty() {
                return Err(format!("give {key} a value"));
            }
            fields.insert(key, Value::String(value));
        }
    }
    Ok(Value::Object(fields))
}

#[cfg(test)]
mod tests {
    use super::apply_custom_field_edits;
    use serde_json::json;
    use std::collections::BTreeMap;

    fn edits(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn unchanged_fields_keep_their_types_and_blank_removes() {
        let current = json!({"employees": 120, "vip": true, "linkedin": "x", "nested": {"a": 1}});
        let same = edits(&[("employees", "120"), ("vip", "true"), ("linkedin", "x"), ("nested", "{\"a\":1}")]);
        assert_eq!(apply_custom_field_edits(&current, &same, None).unwrap(), current);
        let changed = edits(&[("employees", "150"), ("vip", "no"), ("linkedin", "")]);
        assert_eq!(apply_custom_field_edits(&current, &changed, None).unwrap(), json!({"employees": 150, "vip": "no", "nested": {"a": 1}}));
    }

    #[test]
    fn new_fields_are_checked() {
        let current = json!({"seats": "10"});
        let add = |k: &str, v: &str| apply_custom_field_edits(&current, &BTreeMap::new(), Some((k.into(), v.into())));
        assert_eq!(add("plan", " pro ").unwrap(), json!({"seats": "10", "plan": "pro"}));
        assert_eq!(add("", "").unwrap(), current, "an empty new row adds nothing");
        assert!(add("bad key", "x").unwrap_err().contains("field name"));
        assert!(add("seats", "11").unwrap_err().contains("already"));
        assert!(add("plan", "").unwrap_err().contains("value"));
    }
}
