//! Flows: workflows as checked graphs of steps, with immutable versions.

use reqwest::{Client, Method, StatusCode};
use serde_json::{json, Value};

use crate::common::{send, TestApp};
use crate::mcp::call_tool;

async fn call(app: &TestApp, key: &str, method: Method, path: &str, body: Option<Value>) -> (StatusCode, Value) {
    send(&Client::new(), method, &app.url(&format!("/api/v1{path}")), Some(key), body).await
}

fn lead_to_task() -> Value {
    json!({"entry": "enrich", "steps": [
        {"id": "enrich", "action": {"type": "enrich_lead", "lead_id": "{{input.lead_id}}"}, "next": "hot"},
        {"id": "hot", "action": {"type": "branch", "rules": [
            {"label": "score over 50", "when": {"var": "steps.enrich.output.score", "op": "gt", "value": 50}, "next": "call"}],
            "default": "nurture"}},
        {"id": "call", "action": {"type": "create_task", "title": "Call {{steps.enrich.output.name}}", "lead_id": "{{input.lead_id}}"}},
        {"id": "nurture", "action": {"type": "add_tag", "lead_id": "{{input.lead_id}}", "tag": "nurture"}},
    ]})
}

fn lead_input() -> Value {
    json!({"type": "object", "properties": {"lead_id": {"type": "string"}}, "required": ["lead_id"]})
}

#[tokio::test]
async fn a_workflow_is_saved_as_checked_immutable_versions_and_published() {
    let app = TestApp::spawn().await;
    let owner = app.sign_up("flows-owner@example.com").await;
    let key = app.api_key(&owner, &["flows:write"]).await;
    let reader = app.api_key(&owner, &["crm:read"]).await;

    let (status, created) = call(
        &app,
        &key,
        Method::POST,
        "/flows/workflows",
        Some(json!({"name": "Hot lead follow-up", "graph": lead_to_task(), "input_schema": lead_input()})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let id = created["id"].as_str().unwrap().to_string();
    assert_eq!((created["latest_version"].as_i64(), created["published_version"].as_i64()), (Some(1), None), "a draft: {created}");
    assert_eq!(created["versions"][0]["state"], "draft");
    assert_eq!(created["source"], "api");
    let (status, _) = call(&app, &reader, Method::GET, &format!("/flows/workflows/{id}"), None).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "flows need a flows scope");

    let published = call(&app, &key, Method::POST, &format!("/flows/workflows/{id}/publish"), Some(json!({}))).await.1;
    assert_eq!(published["published_version"], 1, "{published}");

    // A new graph is a new draft version; the published one stays.
    let mut graph = lead_to_task();
    graph["steps"][3]["action"]["tag"] = json!("cold");
    let (status, edited) = call(&app, &key, Method::PATCH, &format!("/flows/workflows/{id}"), Some(json!({"graph": graph}))).await;
    assert_eq!(status, StatusCode::OK, "{edited}");
    assert_eq!((edited["latest_version"].as_i64(), edited["published_version"].as_i64()), (Some(2), Some(1)), "{edited}");
    let states: Vec<&str> = edited["versions"].as_array().unwrap().iter().map(|v| v["state"].as_str().unwrap()).collect();
    assert_eq!(states, ["draft", "published"]);
    assert_eq!(edited["versions"][1]["graph"]["steps"][3]["action"]["tag"], "nurture", "version 1 is unchanged");
    // Saving the same graph again makes no version.
    let again = call(&app, &key, Method::PATCH, &format!("/flows/workflows/{id}"), Some(json!({"graph": graph}))).await.1;
    assert_eq!(again["latest_version"], 2);

    let published = call(&app, &key, Method::POST, &format!("/flows/workflows/{id}/publish"), Some(json!({}))).await.1;
    let states: Vec<&str> = published["versions"].as_array().unwrap().iter().map(|v| v["state"].as_str().unwrap()).collect();
    assert_eq!((published["published_version"].as_i64(), states), (Some(2), vec!["published", "archived"]), "{published}");
    let (status, refused) = call(&app, &key, Method::POST, &format!("/flows/workflows/{id}/versions/2/archive"), None).await;
    assert_eq!((status, refused["error"]["code"].as_str()), (StatusCode::CONFLICT, Some("invalid_state")), "{refused}");

    // An input schema that drops a variable the graph uses is refused.
    let (status, refused) = call(
        &app,
        &key,
        Method::PATCH,
        &format!("/flows/workflows/{id}"),
        Some(json!({"input_schema": {"type": "object", "properties": {"email": {"type": "string"}}}})),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{refused}");
    assert!(refused["error"]["message"].as_str().unwrap().contains("step \"enrich\""), "{refused}");

    let audit = call(&app, &key, Method::GET, "/flows/workflows", None).await.1;
    assert_eq!(audit["data"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn a_graph_with_a_cycle_or_an_undefined_variable_is_refused_naming_the_step_and_nothing_is_saved() {
    let app = TestApp::spawn().await;
    let owner = app.sign_up("flows-cycle@example.com").await;
    let key = app.api_key(&owner, &["flows:write"]).await;
    let cycle = json!({"entry": "a", "steps": [
        {"id": "a", "action": {"type": "add_tag", "lead_id": "{{input.lead_id}}", "tag": "x"}, "next": "b"},
        {"id": "b", "action": {"type": "wait", "seconds": 3600}, "next": "a"},
    ]});
    let (status, refused) =
        call(&app, &key, Method::POST, "/flows/workflows", Some(json!({"name": "Loop", "graph": cycle, "input_schema": lead_input()})))
            .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{refused}");
    assert_eq!(refused["error"]["code"], "validation_failed");
    assert!(refused["error"]["field"].as_str().unwrap().starts_with("graph.steps."), "{refused}");
    assert!(refused["error"]["message"].as_str().unwrap().contains("cycle"), "{refused}");

    // Over MCP the same check answers as a tool error naming the step.
    let undefined = json!({"entry": "task", "steps": [
        {"id": "task", "action": {"type": "create_task", "title": "{{steps.enrich.output.name}}"}},
    ]});
    let result = call_tool(&app, &key, "create_workflow", json!({"name": "Broken", "graph": undefined})).await;
    assert_eq!(result["isError"], true, "{result}");
    let text = result["content"][0]["text"].as_str().unwrap();
    assert!(text.contains("step \\\"task\\\"") || text.contains("step \"task\""), "{text}");
    assert!(text.contains("no step \\\"enrich\\\"") || text.contains("no step \"enrich\""), "{text}");

    let listed = call_tool(&app, &key, "list_workflows", json!({})).await;
    assert_eq!(listed["structuredContent"]["workflows"].as_array().unwrap().len(), 0, "nothing saved: {listed}");
    let created = call_tool(
        &app,
        &key,
        "create_workflow",
        json!({"name": "Fine", "graph": lead_to_task(), "input_schema": lead_input(), "publish": true}),
    )
    .await;
    assert_eq!(created["isError"], false, "{created}");
    assert_eq!(created["structuredContent"]["workflow"]["published_version"], 1, "{created}");
}
