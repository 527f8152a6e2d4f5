//! The REST API's one declaration: each domain lists its endpoints
//! (method, path, handler, who may call it, query, body and answer types,
//! and the MCP tool that calls the same operation). Routers are built from
//! those lists, so an endpoint cannot exist without being documented, and
//! `GET /api/v1/openapi.json` (OpenAPI 3.1) is generated from them with
//! schemas derived from the same Rust types the handlers read and write.

use axum::routing::MethodRouter;
use axum::Router;
use schemars::{JsonSchema, Schema, SchemaGenerator};
use serde_json::{json, Map, Value};

use super::context::AppState;
use super::types::Scope;
use crate::mcp::registry;

/// Who may call an endpoint.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Caller {
    /// A signed-in member or an API key holding this scope.
    Scoped(Scope),
    /// A signed-in member or any API key of the workspace (the operation
    /// decides; e.g. the audit trail).
    Member,
    /// A signed-in member only (browser sessions: keys, invitations).
    Session,
    /// Anyone (sign-up, log-in, public capture forms).
    Public,
}

/// What an endpoint answers with when it succeeds.
#[derive(Clone, Copy)]
pub enum Answer {
    Json(u16, fn(&mut SchemaGenerator) -> Schema),
    /// A file streamed back (CSV export).
    Csv,
    /// Server-sent events.
    EventStream,
    /// No body.
    Empty(u16),
}

#[derive(Clone, Copy)]
pub struct Endpoint {
    /// `get`, `post`, `patch`, `delete` or `options`.
    pub method: &'static str,
    /// Under `/api/v1`, with `{name}` path parameters.
    pub path: &'static str,
    pub summary: &'static str,
    pub caller: Caller,
    /// The MCP tool calling the same operation, when there is one.
    pub tool: Option<&'static str>,
    /// Why an endpoint open to API keys has no tool (a test asks for one
    /// or the other).
    pub no_tool_because: Option<&'static str>,
    pub query: Option<fn() -> Map<String, Value>>,
    pub body: Option<fn(&mut SchemaGenerator) -> Schema>,
    /// Whether the body is the raw file (imports) rather than JSON.
    pub raw_body: bool,
    pub answer: Answer,
    /// Whether the same body may also come with 202: the request was taken
    /// but waits on someone (an approval) before it is carried out.
    pub may_wait: bool,
    pub handler: fn() -> MethodRouter<AppState>,
}

/// Builders for the endpoint lists (`static` items need `const fn`s).
impl Endpoint {
    pub const fn new(
        method: &'static str,
        path: &'static str,
        caller: Caller,
        summary: &'static str,
        handler: fn() -> MethodRouter<AppState>,
    ) -> Endpoint {
        Endpoint {
            method,
            path,
            summary,
            caller,
            tool: None,
            no_tool_because: None,
            query: None,
            body: None,
            raw_body: false,
            answer: Answer::Empty(204),
            may_wait: false,
            handler,
        }
    }
    pub const fn tool(mut self, name: &'static str) -> Endpoint {
        self.tool = Some(name);
        self
    }
    pub const fn no_tool(mut self, because: &'static str) -> Endpoint {
        self.no_tool_because = Some(because);
        self
    }
    pub const fn query(mut self, schema: fn() -> Map<String, Value>) -> Endpoint {
        self.query = Some(schema);
        self
    }
    pub const fn body(mut self, schema: fn(&mut SchemaGenerator) -> Schema) -> Endpoint {
        self.body = Some(schema);
        self
    }
    pub const fn raw_body(mut self) -> Endpoint {
        self.raw_body = true;
        self
    }
    pub const fn answers(mut self, status: u16, schema: fn(&mut SchemaGenerator) -> Schema) -> Endpoint {
        self.answer = Answer::Json(status, schema);
        self
    }
    /// The answer may also be a 202 with the same body (queued for approval).
    pub const fn or_waits(mut self) -> Endpoint {
        self.may_wait = true;
        self
    }
    pub const fn answers_csv(mut self) -> Endpoint {
        self.answer = Answer::Csv;
        self
    }
    pub const fn answers_event_stream(mut self) -> Endpoint {
        self.answer = Answer::EventStream;
        self
    }
    pub const fn answers_nothing(mut self, status: u16) -> Endpoint {
        self.answer = Answer::Empty(status);
        self
    }
}

/// The schema of `T`, for `body` and `answers`.
pub fn json<T: JsonSchema>(generator: &mut SchemaGenerator) -> Schema {
    generator.subschema_for::<T>()
}

/// The query parameters of `T`, for `query`.
pub fn query_of<T: JsonSchema>() -> Map<String, Value> {
    registry::schema_of::<T>()
}

/// A router serving these endpoints.
pub fn router(endpoints: &[Endpoint]) -> Router<AppState> {
    endpoints.iter().fold(Router::new(), |router, endpoint| router.route(endpoint.path, (endpoint.handler)()))
}

/// Every endpoint of the API, in the order the domains declare them.
pub fn endpoints() -> Vec<Endpoint> {
    [
        super::routes::ENDPOINTS,
        crate::crm::leads::routes::ENDPOINTS,
        crate::crm::contacts::routes::ENDPOINTS,
        crate::crm::companies::routes::ENDPOINTS,
        crate::crm::deals::routes::ENDPOINTS,
        crate::crm::custom_fields::routes::ENDPOINTS,
        crate::crm::activities::routes::ENDPOINTS,
        crate::crm::dashboard::ssr::ENDPOINTS,
        crate::crm::search::ssr::routes::ENDPOINTS,
        crate::audience::routes::ENDPOINTS,
        crate::marketing::routes::ENDPOINTS,
        crate::marketing::ads::routes::ENDPOINTS,
        crate::marketing::blog::routes::ENDPOINTS,
        crate::flows::routes::ENDPOINTS,
        &crate::revenue::routes::ENDPOINTS,
    ]
    .concat()
}

/// The OpenAPI 3.1 document of the API.
pub fn document() -> Value {
    let mut generator = schemars::generate::SchemaSettings::draft2020_12()
        .with(|settings| settings.definitions_path = "#/components/schemas/".into())
        .into_generator();
    let mut paths = Map::new();
    for endpoint in endpoints() {
        let operation = operation(&endpoint, &mut generator);
        let path = paths.entry(endpoint.path.to_string()).or_insert_with(|| json!({}));
        path[endpoint.method] = operation;
    }
    let mut schemas: Map<String, Value> = generator.take_definitions(true).into_iter().collect();
    schemas.insert("Error".into(), error_schema());
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "Corral API",
            "version": "1",
            "description": "Lead-to-cash CRM. Every error has one shape: {\"error\": {\"code\", \"message\", \"field\"?, \"request_id\"}}. \
                            Writes take an Idempotency-Key header; a retry with the same key and body replays the first answer.",
        },
        "servers": [{ "url": "/api/v1" }],
        "security": [{ "bearer": [] }, { "session": [] }],
        "components": {
            "securitySchemes": {
                "bearer": { "type": "http", "scheme": "bearer", "description": "An API key (`corral_…`) from Settings → API keys." },
                "session": { "type": "apiKey", "in": "cookie", "name": "id", "description": "A signed-in member's session." },
            },
            "schemas": schemas,
            "responses": error_responses(),
        },
        "paths": paths,
    })
}

fn error_schema() -> Value {
    json!({
        "type": "object",
        "required": ["error"],
        "properties": {
            "error": {
                "type": "object",
                "required": ["code", "message", "request_id"],
                "properties": {
                    "code": { "type": "string", "description": "A stable machine-readable code: validation_failed, not_found, …" },
                    "message": { "type": "string" },
                    "field": { "type": "string", "description": "The input field at fault, when there is one." },
                    "request_id": { "type": "string" },
                    "retry_after": { "type": "integer", "description": "Seconds to wait (rate limits)." },
                },
            },
        },
    })
}

/// The error answers every endpoint may give, by status.
const ERRORS: [(&str, &str); 9] = [
    ("400", "Malformed request (bad JSON, a bad header)."),
    ("401", "No or unknown credentials."),
    ("403", "The caller may not do this (a missing scope, a role)."),
    ("404", "No such record in this workspace."),
    ("409", "Conflicts with the current state (a duplicate, an idempotency key reused for another request)."),
    ("413", "The body is too large."),
    ("415", "The body is not JSON."),
    ("422", "A field is invalid; `field` names it."),
    ("429", "Too many requests; `retry_after` says when to retry."),
];

fn error_responses() -> Value {
    let mut responses = Map::new();
    for (status, description) in ERRORS {
        responses.insert(
            format!("E{status}"),
            json!({ "description": description, "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Error" } } } }),
        );
    }
    Value::Object(responses)
}

fn operation(endpoint: &Endpoint, generator: &mut SchemaGenerator) -> Value {
    let mut parameters: Vec<Value> = Vec::new();
    for name in path_parameters(endpoint.path) {
        let schema = if name == "slug" { json!({ "type": "string" }) } else { json!({ "type": "string", "format": "uuid" }) };
        parameters.push(json!({ "name": name, "in": "path", "required": true, "schema": schema }));
    }
    if let Some(query) = endpoint.query {
        let schema = query();
        let required: Vec<&str> =
            schema.get("required").and_then(Value::as_array).map(|r| r.iter().filter_map(Value::as_str).collect()).unwrap_or_default();
        if let Some(Value::Object(properties)) = schema.get("properties") {
            for (name, property) in properties {
                let mut property = property.clone();
                let description = property.as_object_mut().and_then(|p| p.remove("description"));
                let mut parameter =
                    json!({ "name": name, "in": "query", "required": required.contains(&name.as_str()), "schema": property });
                if let Some(description) = description {
                    parameter["description"] = description;
                }
                parameters.push(parameter);
            }
        }
    }
    if endpoint.method != "get" && endpoint.method != "options" && endpoint.caller != Caller::Public {
        parameters.push(json!({
            "name": "Idempotency-Key", "in": "header", "required": false, "schema": { "type": "string", "maxLength": 200 },
            "description": "Makes a retry safe: the same key and body replay the first answer; another body is refused (409).",
        }));
    }

    let mut responses = Map::new();
    match endpoint.answer {
        Answer::Json(status, schema) => {
            let body = json!({ "application/json": { "schema": schema(generator) } });
            if endpoint.may_wait {
                responses.insert("202".into(), json!({ "description": "Taken, and waiting for an approval.", "content": body.clone() }));
            }
            responses.insert(status.to_string(), json!({ "description": "Success.", "content": body }));
        }
        Answer::Csv => {
            responses
                .insert("200".into(), json!({ "description": "The file.", "content": { "text/csv": { "schema": { "type": "string" } } } }));
        }
        Answer::EventStream => {
            responses.insert(
                "200".into(),
                json!({ "description": "Server-sent events.", "content": { "text/event-stream": { "schema": { "type": "string" } } } }),
            );
        }
        Answer::Empty(status) => {
            responses.insert(status.to_string(), json!({ "description": "Done." }));
        }
    }
    for (status, _) in ERRORS {
        responses.insert(status.into(), json!({ "$ref": format!("#/components/responses/E{status}") }));
    }

    let tool_description = endpoint.tool.and_then(registry::find).map(|op| op.description);
    let mut operation = json!({
        "operationId": format!("{}_{}", endpoint.method, endpoint.path.trim_matches('/').replace(['/', '-', '.'], "_").replace(['{', '}'], "")),
        "summary": endpoint.summary,
        "tags": [endpoint.path.trim_start_matches('/').split('/').next().unwrap_or("")],
        "parameters": parameters,
        "responses": responses,
    });
    if let Some(description) = tool_description {
        operation["description"] = json!(format!("{description} (MCP tool `{}`.)", endpoint.tool.unwrap_or_default()));
    }
    match endpoint.caller {
        Caller::Scoped(scope) => operation["x-required-scope"] = json!(scope.as_str()),
        Caller::Session => operation["security"] = json!([{ "session": [] }]),
        Caller::Public => operation["security"] = json!([]),
        Caller::Member => {}
    }
    if let Some(body) = endpoint.body {
        operation["requestBody"] = json!({ "required": true, "content": { "application/json": { "schema": body(generator) } } });
    } else if endpoint.raw_body {
        operation["requestBody"] = json!({
            "required": true,
            "content": { "text/csv": { "schema": { "type": "string" } }, "application/x-ndjson": { "schema": { "type": "string" } } },
        });
    }
    operation
}

fn path_parameters(path: &str) -> Vec<&str> {
    path.split('/').filter_map(|segment| segment.strip_prefix('{').and_then(|s| s.strip_suffix('}'))).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Agents reach every operation a key may call: each endpoint open to
    /// keys names its MCP tool (with the same scope and kind), or says why
    /// it has none.
    #[test]
    fn every_operation_open_to_api_keys_is_an_mcp_tool_too() {
        let mut missing = Vec::new();
        for endpoint in endpoints() {
            let Caller::Scoped(scope) = endpoint.caller else { continue };
            let name = format!("{} {}", endpoint.method.to_uppercase(), endpoint.path);
            match (endpoint.tool, endpoint.no_tool_because) {
                (Some(tool), None) => {
                    let op = registry::find(tool).unwrap_or_else(|| panic!("{name}: no tool {tool} in the registry"));
                    // The registry's own test holds each tool's kind to its scope.
                    assert_eq!(op.scope, scope, "{name} and {tool} need different scopes");
                }
                (None, Some(because)) => assert!(!because.is_empty(), "{name}"),
                (Some(_), Some(_)) => panic!("{name}: a tool and a reason for having none"),
                (None, None) => missing.push(name),
            }
        }
        assert!(missing.is_empty(), "open to API keys but no MCP tool (add one to the registry): {missing:#?}");
    }

    #[test]
    fn every_endpoint_is_declared_once() {
        let mut seen = std::collections::HashSet::new();
        for endpoint in endpoints() {
            assert!(seen.insert((endpoint.method, endpoint.path)), "{} {} twice", endpoint.method, endpoint.path);
        }
    }

    /// The document is committed (`openapi.json`), so a change to the API
    /// shows in review; `CORRAL_UPDATE_SNAPSHOTS=1` rewrites it.
    #[test]
    fn the_openapi_document_matches_its_snapshot() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../openapi.json");
        let current = serde_json::to_string_pretty(&document()).unwrap() + "\n";
        if std::env::var_os("CORRAL_UPDATE_SNAPSHOTS").is_some() {
            std::fs::write(path, &current).unwrap();
        }
        let committed = std::fs::read_to_string(path).unwrap_or_default();
        assert!(
            committed == current,
            "openapi.json is out of date; run CORRAL_UPDATE_SNAPSHOTS=1 cargo test -p app --features ssr --lib openapi"
        );
    }
}
