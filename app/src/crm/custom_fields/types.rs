use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

text_enum!(CustomFieldType {
    Text => "text",
    Number => "number",
    Date => "date",
    Boolean => "boolean",
    Choice => "choice",
});

impl CustomFieldType {
    pub fn label(self) -> &'static str {
        match self {
            CustomFieldType::Text => "Text",
            CustomFieldType::Number => "Number",
            CustomFieldType::Date => "Date",
            CustomFieldType::Boolean => "Yes / no",
            CustomFieldType::Choice => "Choice",
        }
    }
}

/// A declared custom field of leads. Its values live in
/// `leads.custom_fields` under `key`, as JSON of the field's type: text a
/// string, number a number, date a `YYYY-MM-DD` string, boolean `true` or
/// `false`, choice one of `options` as spelled there.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct CustomField {
    pub id: Uuid,
    pub key: String,
    pub label: String,
    #[serde(rename = "type")]
    pub field_type: CustomFieldType,
    /// The allowed values of a choice field (empty for other types).
    pub options: Vec<String>,
    /// Whether the field has a database index, so segment rules and lead
    /// filters on it read an index range instead of every lead.
    pub indexed: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct NewCustomField {
    /// The key in `custom_fields`: 1-64 letters, digits, `_` or `-`.
    pub key: String,
    /// What people read (the key when absent).
    #[serde(default)]
    pub label: Option<String>,
    #[serde(rename = "type")]
    pub field_type: Option<CustomFieldType>,
    /// A choice field's values, 1 to 100 of them.
    #[serde(default)]
    pub options: Option<Vec<String>>,
    #[serde(default)]
    pub indexed: Option<bool>,
}

patch!(
    /// Changes to a declared field. A new type or fewer options must fit
    /// every value leads already hold.
    CustomFieldPatch {
        label: required String,
        #[serde(rename = "type")]
        field_type: required CustomFieldType,
        options: required Vec<String>,
        indexed: required bool,
    }
);

/// A workspace's declared lead fields, as rules, the segment builder and
/// every lead write read them.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct DeclaredFields(pub Vec<CustomField>);

impl DeclaredFields {
    pub fn get(&self, key: &str) -> Option<&CustomField> {
        self.0.iter().find(|f| f.key == key)
    }

    /// The field a rule's `cf.<key>` names, when declared.
    pub fn of_rule_field(&self, field: &str) -> Option<&CustomField> {
        field.strip_prefix("cf.").and_then(|key| self.get(key))
    }
}
