//! Matching an upload's columns to the fields of the records it fills.

use super::*;

fn normalize_header(column: &str) -> String {
    let mut out = String::new();
    for c in column.trim().to_lowercase().chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c);
        } else if !out.ends_with('_') && !out.is_empty() {
            out.push('_');
        }
    }
    out.trim_end_matches('_').chars().take(64).collect()
}

/// Maps columns whose names match a field (or a common synonym) to it, and
/// every other column to a custom field of the same name.
pub fn suggest_mapping(entity: ImportEntity, columns: &[String]) -> BTreeMap<String, String> {
    let targets = import_targets(entity);
    let synonym = |key: &str| -> Option<&'static str> {
        Some(match key {
            "e_mail" | "email_address" | "mail" => "email",
            "company" | "organization" | "organisation" | "account" | "company_name" => {
                if entity == ImportEntity::Company {
                    "name"
                } else {
                    "company_name"
                }
            }
            "full_name" | "contact_name" | "lead_name" => "name",
            "firstname" | "given_name" => "first_name",
            "lastname" | "surname" | "family_name" => "last_name",
            "job_title" | "position" | "role" => "title",
            "telephone" | "phone_number" | "mobile" => "phone",
            "url" | "web" | "site" => "website",
            "employees" | "headcount" => "employee_count",
            "label" | "labels" | "tag" => "tags",
            _ => return None,
        })
    };
    let mut mapping = BTreeMap::new();
    let mut used: Vec<String> = Vec::new();
    for column in columns {
        let key = normalize_header(column);
        let target = if targets.contains(&key.as_str()) {
            key.clone()
        } else if let Some(t) = synonym(&key).filter(|t| targets.contains(t)) {
            t.to_string()
        } else if key.is_empty() {
            String::new()
        } else {
            format!("cf.{key}")
        };
        // One column per field: a second "Email" column becomes custom.
        let target = if !target.is_empty() && used.contains(&target) { format!("cf.{key}") } else { target };
        if !target.is_empty() {
            used.push(target.clone());
        }
        mapping.insert(column.clone(), target);
    }
    mapping
}

pub(super) fn check_mapping(entity: ImportEntity, columns: &[String], mapping: &BTreeMap<String, String>) -> AppResult<()> {
    let targets = import_targets(entity);
    let mut used: Vec<&str> = Vec::new();
    for (column, target) in mapping {
        if !columns.contains(column) {
            return Err(AppError::validation(format!("mapping.{column}"), format!("the file has no column {column:?}")));
        }
        if target.is_empty() {
            continue;
        }
        let valid =
            targets.contains(&target.as_str()) || target.strip_prefix("cf.").is_some_and(crate::crm::leads::types::is_custom_field_key);
        if !valid {
            return Err(AppError::validation(
                format!("mapping.{column}"),
                format!("{target:?} is not a field; use one of {} or cf.<key>, or \"\" to skip", targets.join(", ")),
            ));
        }
        if used.contains(&target.as_str()) {
            return Err(AppError::validation(format!("mapping.{column}"), format!("two columns map to {target}")));
        }
        used.push(target);
    }
    if !["name", "first_name", "last_name"].iter().any(|field| used.contains(field)) {
        return Err(AppError::validation("mapping", "map a column to name (or first_name/last_name)"));
    }
    Ok(())
}
