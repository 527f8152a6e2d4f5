//! The one declaration of each operation an agent can call. `tools/list`
//! and `tools/call` are served from it (and the OpenAPI document will be).

use schemars::JsonSchema;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use crate::error::{AppError, AppResult};
use crate::platform::context::{AppState, Ctx};
use crate::platform::http::parse_strict_json;
use crate::platform::types::Scope;
use crate::platform::BoxFuture;

/// Whether an operation only reads, or writes (and then whether a repeat
/// of the same call changes nothing more).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    Read,
    Write { idempotent: bool, destructive: bool },
}

/// What ends a tool call early: an error, or the stored answer to a call
/// retried under its `idempotency_key`.
pub enum Exit {
    Error(AppError),
    Replay(Value),
}

impl From<AppError> for Exit {
    fn from(error: AppError) -> Exit {
        Exit::Error(error)
    }
}

impl From<sqlx::Error> for Exit {
    fn from(error: sqlx::Error) -> Exit {
        Exit::Error(error.into())
    }
}

/// The result of a tool: `?` works on operations, the database and
/// idempotency replays alike.
pub type ToolResult = Result<Value, Exit>;

/// Calls an operation with the tool's arguments; answers the tool's
/// structured result.
pub type Call = for<'a> fn(&'a AppState, &'a Ctx, Map<String, Value>) -> BoxFuture<'a, ToolResult>;

#[derive(Clone)]
pub struct Operation {
    /// The tool name, exactly as the seed spells it.
    pub name: &'static str,
    pub description: &'static str,
    pub scope: Scope,
    pub access: Access,
    /// The JSON Schema of the input object (`additionalProperties: false`).
    pub input_schema: fn() -> Map<String, Value>,
    pub call: Call,
}

/// Every operation agents can call.
pub fn operations() -> &'static [Operation] {
    super::tools::OPERATIONS.as_slice()
}

pub fn find(name: &str) -> Option<&'static Operation> {
    operations().iter().find(|op| op.name == name)
}

/// The input schema of a tool: the type's schema with every subschema
/// inlined (clients read one self-contained object).
pub fn schema_of<T: JsonSchema>() -> Map<String, Value> {
    let generator = schemars::generate::SchemaSettings::draft2020_12()
        .with(|settings| {
            settings.inline_subschemas = true;
            settings.meta_schema = None;
        })
        .into_generator();
    let schema = generator.into_root_schema_for::<T>();
    let mut value = schema.to_value();
    objects_for_any(&mut value);
    match value {
        Value::Object(mut map) => {
            map.remove("title");
            map
        }
        _ => Map::new(),
    }
}

/// schemars writes "any value" (a `serde_json::Value` field) as the schema
/// `true`; clients such as the TypeScript SDK accept only object schemas
/// for properties, so it becomes the equivalent `{}`.
fn objects_for_any(schema: &mut Value) {
    match schema {
        Value::Object(map) => {
            if let Some(Value::Object(properties)) = map.get_mut("properties") {
                properties.values_mut().filter(|p| **p == Value::Bool(true)).for_each(|p| *p = Value::Object(Map::new()));
            }
            if map.get("items") == Some(&Value::Bool(true)) {
                map.insert("items".into(), Value::Object(Map::new()));
            }
            map.values_mut().for_each(objects_for_any);
        }
        Value::Array(items) => items.iter_mut().for_each(objects_for_any),
        _ => {}
    }
}

/// A tool's arguments read as strictly as a REST body: an unknown
/// property, a wrong type or a missing field is a 422 naming the field.
pub fn arguments<T: DeserializeOwned>(arguments: Map<String, Value>) -> AppResult<T> {
    let bytes = serde_json::to_vec(&Value::Object(arguments)).map_err(|e| AppError::Internal(e.to_string()))?;
    parse_strict_json(&bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A write needs a write scope, a read a read scope: a tool declared
    /// otherwise would let a read-only key change data.
    #[test]
    fn every_operation_is_guarded_by_the_scope_its_access_needs() {
        let write_scopes = [Scope::CrmWrite, Scope::RevenueWrite, Scope::MarketingWrite, Scope::FlowsWrite];
        for op in operations() {
            match op.access {
                Access::Write { .. } => assert!(write_scopes.contains(&op.scope), "{} writes under {:?}", op.name, op.scope),
                Access::Read => assert!(!write_scopes.contains(&op.scope), "{} only reads but asks for {:?}", op.name, op.scope),
            }
        }
    }

    fn references(schema: &Value) -> Vec<String> {
        match schema {
            Value::Object(map) => map
                .iter()
                .flat_map(|(key, value)| match (key.as_str(), value) {
                    ("$ref", Value::String(reference)) => vec![reference.clone()],
                    _ => references(value),
                })
                .collect(),
            Value::Array(items) => items.iter().flat_map(references).collect(),
            _ => Vec::new(),
        }
    }

    #[test]
    fn every_input_schema_is_a_closed_object() {
        for op in operations() {
            let schema = (op.input_schema)();
            assert_eq!(schema.get("type"), Some(&Value::from("object")), "{}", op.name);
            assert_eq!(schema.get("additionalProperties"), Some(&Value::Bool(false)), "{}: unknown properties must be refused", op.name);
            let defs = schema.get("$defs").and_then(Value::as_object).cloned().unwrap_or_default();
            for reference in references(&Value::Object(schema.clone())) {
                // Subschemas are inlined; only a recursive one (a segment's
                // rule groups) stays a reference, into the schema's own $defs.
                let name = reference.strip_prefix("#/$defs/").unwrap_or_else(|| panic!("{}: {reference} leaves the schema", op.name));
                assert!(defs.contains_key(name), "{}: {reference} is not defined", op.name);
            }
        }
        let mut names: Vec<_> = operations().iter().map(|op| op.name).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), operations().len(), "tool names are unique");
    }
}

/// The tool list of the README's "Connect an agent" section, written from
/// the registry (a test keeps the README equal to it).
pub fn markdown_tool_table() -> String {
    let mut table = String::from("| tool | scope | kind | what it does |\n| --- | --- | --- | --- |\n");
    for op in operations() {
        let kind = match op.access {
            Access::Read => "read",
            Access::Write { .. } => "write",
        };
        table.push_str(&format!("| `{}` | `{}` | {kind} | {} |\n", op.name, op.scope.as_str(), op.description));
    }
    table
}

#[cfg(test)]
mod readme {
    /// `CORRAL_UPDATE_SNAPSHOTS=1` rewrites the table in README.md.
    #[test]
    fn the_readme_lists_every_tool_as_the_registry_declares_it() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../README.md");
        let readme = std::fs::read_to_string(path).unwrap();
        let table = super::markdown_tool_table();
        if std::env::var_os("CORRAL_UPDATE_SNAPSHOTS").is_some() && !readme.contains(&table) {
            let start = readme.find("| tool | scope | kind |").expect("README.md has the tool table");
            let end = readme[start..].find("\n\n").map(|i| start + i + 1).unwrap_or(readme.len());
            std::fs::write(path, format!("{}{table}{}", &readme[..start], &readme[end..])).unwrap();
            return;
        }
        assert!(
            readme.contains(&table),
            "README.md's tool table is out of date (CORRAL_UPDATE_SNAPSHOTS=1 rewrites it); it should read:\n{table}"
        );
    }
}
