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
        {"id": "enrich", "action": {"type": "enrich_lead", "lead_id": "{{input.lead_id}}", "connector_id": "{{input.connector_id}}"}, "next": "hot"},
        {"id": "hot", "action": {"type": "branch", "rules": [
            {"label": "score over 50", "when": {"var": "steps.enrich.output.score", "op": "gt", "value": 50}, "next": "call"}],
            "default": "nurture"}},
        {"id": "call", "action": {"type": "create_task", "title": "Call {{steps.enrich.output.name}}", "lead_id": "{{input.lead_id}}"}},
        {"id": "nurture", "action": {"type": "add_tag", "lead_id": "{{input.lead_id}}", "tag": "nurture"}},
    ]})
}

fn lead_input() -> Value {
    json!({"type": "object", "properties": {"lead_id": {"type": "string"}, "connector_id": {"type": "string"}}, "required": ["lead_id"]})
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

/// Polls a run until it has ended (or `secs` pass): its detail.
async fn wait_for_end(app: &TestApp, key: &str, run: &str, secs: u64) -> Value {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(secs);
    loop {
        let detail = call(app, key, Method::GET, &format!("/flows/runs/{run}"), None).await.1;
        if ["succeeded", "failed", "cancelled"].contains(&detail["status"].as_str().unwrap_or_default())
            || std::time::Instant::now() > deadline
        {
            return detail;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

pub(crate) fn steps_taken(detail: &Value) -> Vec<String> {
    detail["trace"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| format!("{}:{}", t["step_id"].as_str().unwrap(), t["outcome"].as_str().unwrap()))
        .collect()
}

#[tokio::test]
async fn a_run_branches_both_ways_acts_on_the_lead_once_and_keeps_a_trace() {
    let app = TestApp::spawn().await;
    let owner = app.sign_up("flows-runs@example.com").await;
    let key = app.api_key(&owner, &["crm:write", "flows:write"]).await;
    let hot = call(&app, &key, Method::POST, "/leads", Some(json!({"name": "Hana Hot", "email": "hana@hot.test", "score": 80}))).await.1;
    let cold = call(&app, &key, Method::POST, "/leads", Some(json!({"name": "Cole Cold", "email": "cole@cold.test", "score": 10}))).await.1;
    let graph = json!({"entry": "split", "steps": [
        {"id": "split", "action": {"type": "branch", "rules": [
            {"label": "hot", "when": {"var": "input.score", "op": "gt", "value": 50}, "next": "call"}], "default": "tag"}},
        {"id": "call", "action": {"type": "create_task", "title": "Call {{input.name}} today", "lead_id": "{{input.lead_id}}", "due_in_hours": 4}, "next": "note"},
        {"id": "tag", "action": {"type": "add_tag", "lead_id": "{{input.lead_id}}", "tag": "nurture"}, "next": "note"},
        {"id": "note", "action": {"type": "log_activity", "lead_id": "{{input.lead_id}}", "kind": "note", "subject": "Routed by score {{input.score}}"}},
    ]});
    let schema = json!({"type": "object", "required": ["lead_id", "score"], "properties": {
        "lead_id": {"type": "string"}, "score": {"type": "integer"}, "name": {"type": "string"}}});
    let workflow =
        call(&app, &key, Method::POST, "/flows/workflows", Some(json!({"name": "Route by score", "graph": graph, "input_schema": schema})))
            .await
            .1;
    let id = workflow["id"].as_str().unwrap().to_string();

    // A draft does not run; a payload must fit the input schema.
    let runs_url = format!("/flows/workflows/{id}/runs");
    let (status, refused) = call(&app, &key, Method::POST, &runs_url, Some(json!({"payload": {"lead_id": hot["id"], "score": 80}}))).await;
    assert_eq!((status, refused["error"]["code"].as_str()), (StatusCode::CONFLICT, Some("invalid_state")), "{refused}");
    call(&app, &key, Method::POST, &format!("/flows/workflows/{id}/publish"), Some(json!({}))).await;
    for (payload, field) in [
        (json!({"score": 80}), "payload.lead_id"),
        (json!({"lead_id": hot["id"], "score": "high"}), "payload.score"),
        (json!({"lead_id": hot["id"], "score": 1, "colour": "red"}), "payload.colour"),
    ] {
        let (status, refused) = call(&app, &key, Method::POST, &runs_url, Some(json!({"payload": payload}))).await;
        assert_eq!((status, refused["error"]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some(field)), "{refused}");
    }
    assert_eq!(app.count("workflow_runs").await, 0, "a refused trigger starts nothing");

    let (status, hot_run) =
        call(&app, &key, Method::POST, &runs_url, Some(json!({"payload": {"lead_id": hot["id"], "score": 80, "name": "Hana"}}))).await;
    assert_eq!(
        (status, hot_run["status"].as_str(), hot_run["version"].as_i64()),
        (StatusCode::CREATED, Some("queued"), Some(1)),
        "{hot_run}"
    );
    let cold_run =
        call_tool(&app, &key, "trigger_workflow", json!({"workflow_id": id, "payload": {"lead_id": cold["id"], "score": 10}})).await;
    assert_eq!(cold_run["isError"], false, "{cold_run}");
    let cold_run_id = cold_run["structuredContent"]["run"]["id"].as_str().unwrap().to_string();

    let hot_done = wait_for_end(&app, &key, hot_run["id"].as_str().unwrap(), 20).await;
    assert_eq!(hot_done["status"], "succeeded", "{hot_done}");
    assert_eq!(steps_taken(&hot_done), ["split:succeeded", "call:succeeded", "note:succeeded"]);
    assert_eq!(hot_done["trace"][0]["output"], json!({"next": "call", "rule": "hot"}));
    assert_eq!(hot_done["trace"][1]["input"]["title"], "Call Hana today", "variables are filled in the trace's input");
    let cold_done = wait_for_end(&app, &key, &cold_run_id, 20).await;
    assert_eq!(steps_taken(&cold_done), ["split:succeeded", "tag:succeeded", "note:succeeded"], "{cold_done}");

    // What the steps did, once each.
    let cold_lead = call(&app, &key, Method::GET, &format!("/leads/{}", cold["id"].as_str().unwrap()), None).await.1;
    assert_eq!(cold_lead["tags"], json!(["nurture"]), "{cold_lead}");
    let tasks = call(&app, &key, Method::GET, &format!("/tasks?lead_id={}", hot["id"].as_str().unwrap()), None).await.1;
    let titles: Vec<&str> = tasks["data"].as_array().unwrap().iter().filter_map(|t| t["title"].as_str()).collect();
    assert_eq!(titles, ["Call Hana today"], "{tasks}");
    let timeline = call(&app, &key, Method::GET, &format!("/leads/{}/timeline", cold["id"].as_str().unwrap()), None).await.1;
    assert!(timeline.to_string().contains("Routed by score 10"), "{timeline}");

    let listed = call(&app, &key, Method::GET, &format!("/flows/runs?workflow_id={id}&status=succeeded"), None).await.1;
    assert_eq!(listed["data"].as_array().unwrap().len(), 2, "{listed}");
    let read = call_tool(&app, &key, "get_workflow_run", json!({"run_id": cold_run_id})).await;
    assert_eq!(read["structuredContent"]["run"]["status"], "succeeded", "{read}");
}

/// A loopback HTTP server that fails the first request with a 503 and
/// then answers 200, keeping every request's idempotency key and body.
async fn flaky_target() -> (String, std::sync::Arc<std::sync::Mutex<Vec<(String, Value)>>>) {
    use axum::routing::post;
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::<(String, Value)>::new()));
    let record = seen.clone();
    let handler = move |headers: axum::http::HeaderMap, axum::Json(body): axum::Json<Value>| {
        let record = record.clone();
        async move {
            let key = headers.get("idempotency-key").and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
            let mut seen = record.lock().unwrap();
            seen.push((key, body));
            if seen.len() == 1 {
                (axum::http::StatusCode::SERVICE_UNAVAILABLE, axum::Json(json!({"error": "busy"})))
            } else {
                (axum::http::StatusCode::OK, axum::Json(json!({"accepted": true, "ticket": 42})))
            }
        }
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, axum::Router::new().route("/hooks/lead", post(handler))).await.unwrap() });
    (format!("http://{addr}/hooks/lead"), seen)
}

#[tokio::test]
async fn a_failing_request_is_retried_with_the_same_idempotency_key_and_runs_pause_resume_and_cancel() {
    let app = TestApp::spawn().await;
    let owner = app.sign_up("flows-retry@example.com").await;
    let key = app.api_key(&owner, &["crm:write", "flows:write"]).await;
    let (url, seen) = flaky_target().await;
    let graph = json!({"entry": "pause", "steps": [
        {"id": "pause", "action": {"type": "wait", "seconds": 1}, "next": "notify"},
        {"id": "notify", "action": {"type": "http_request", "method": "POST", "url": url,
            "body": {"lead": "{{input.lead_id}}", "text": "New lead {{input.lead_id}}"}}, "max_attempts": 3},
    ]});
    let schema = json!({"type": "object", "properties": {"lead_id": {"type": "string"}}});
    let workflow = call(
        &app,
        &key,
        Method::POST,
        "/flows/workflows",
        Some(json!({"name": "Notify", "graph": graph, "input_schema": schema, "publish": true})),
    )
    .await
    .1;
    let runs_url = format!("/flows/workflows/{}/runs", workflow["id"].as_str().unwrap());
    let run = call(&app, &key, Method::POST, &runs_url, Some(json!({"payload": {"lead_id": "L-1"}}))).await.1;
    let run_id = run["id"].as_str().unwrap().to_string();
    let done = wait_for_end(&app, &key, &run_id, 20).await;
    assert_eq!(done["status"], "succeeded", "{done}");
    assert_eq!(steps_taken(&done), ["pause:waiting", "pause:succeeded", "notify:failed", "notify:succeeded"], "{done}");
    assert_eq!(done["trace"][3]["attempt"], 2);
    assert_eq!(done["trace"][3]["output"]["body"]["ticket"], 42);
    assert!(done["trace"][2]["error"].as_str().unwrap().contains("HTTP 503"), "{done}");
    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 2);
    assert_eq!(seen[0].0, format!("{run_id}:notify"), "the key names the run and the step");
    assert_eq!(seen[0].0, seen[1].0, "a retry carries the same key");
    assert_eq!(seen[1].1, json!({"lead": "L-1", "text": "New lead L-1"}));

    // A long wait can be paused, resumed and cancelled; a cancelled run
    // cannot be resumed.
    let long = json!({"entry": "hold", "steps": [{"id": "hold", "action": {"type": "wait", "seconds": 3600}}]});
    let waiting = call(&app, &key, Method::POST, "/flows/workflows", Some(json!({"name": "Hold", "graph": long, "publish": true}))).await.1;
    let run =
        call(&app, &key, Method::POST, &format!("/flows/workflows/{}/runs", waiting["id"].as_str().unwrap()), Some(json!({}))).await.1;
    let run_id = run["id"].as_str().unwrap().to_string();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while call(&app, &key, Method::GET, &format!("/flows/runs/{run_id}"), None).await.1["status"] != "waiting" {
        assert!(std::time::Instant::now() < deadline, "the run never began waiting");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let paused = call(&app, &key, Method::POST, &format!("/flows/runs/{run_id}/pause"), None).await.1;
    assert_eq!(paused["status"], "paused", "{paused}");
    let resumed = call(&app, &key, Method::POST, &format!("/flows/runs/{run_id}/resume"), None).await.1;
    assert_eq!((resumed["status"].as_str(), resumed["current_step"].as_str()), (Some("running"), Some("hold")), "{resumed}");
    let cancelled = call_tool(&app, &key, "cancel_workflow_run", json!({"run_id": run_id})).await;
    assert_eq!(cancelled["structuredContent"]["run"]["status"], "cancelled", "{cancelled}");
    let (status, refused) = call(&app, &key, Method::POST, &format!("/flows/runs/{run_id}/resume"), None).await;
    assert_eq!((status, refused["error"]["code"].as_str()), (StatusCode::CONFLICT, Some("invalid_state")), "{refused}");
}

#[tokio::test]
async fn killing_the_server_at_random_moments_never_loses_or_repeats_a_finished_step() {
    const RUNS: usize = 12;
    const ROUNDS: usize = 20;
    // This process serves the API only; a child process executes the runs
    // and is killed with SIGKILL over and over.
    let app = TestApp::spawn_with(crate::common::Config { run_workers: false, ..crate::common::test_config() }).await;
    let owner = app.sign_up("flows-crash@example.com").await;
    let key = app.api_key(&owner, &["crm:write", "flows:write"]).await;
    let mut steps = Vec::new();
    for k in 1..=8 {
        let next = if k < 8 { json!(format!("s{}", k + 1)) } else { Value::Null };
        let action = if k % 3 == 0 {
            json!({"type": "wait", "seconds": 1})
        } else {
            json!({"type": "log_activity", "lead_id": "{{input.lead_id}}", "kind": "note", "subject": format!("step {k}")})
        };
        steps.push(json!({"id": format!("s{k}"), "action": action, "next": next}));
    }
    let schema = json!({"type": "object", "required": ["lead_id"], "properties": {"lead_id": {"type": "string"}}});
    let workflow = call(
        &app,
        &key,
        Method::POST,
        "/flows/workflows",
        Some(json!({"name": "Crash loop", "graph": {"entry": "s1", "steps": steps}, "input_schema": schema, "concurrency_limit": 100, "publish": true})),
    )
    .await
    .1;
    let runs_url = format!("/flows/workflows/{}/runs", workflow["id"].as_str().unwrap());
    let mut runs = Vec::new();
    for i in 0..RUNS {
        let lead = call(&app, &key, Method::POST, "/leads", Some(json!({"name": format!("Crash {i}")}))).await.1;
        let run = call(&app, &key, Method::POST, &runs_url, Some(json!({"payload": {"lead_id": lead["id"]}}))).await.1;
        runs.push((lead["id"].as_str().unwrap().to_string(), run["id"].as_str().unwrap().to_string()));
    }

    // Kill at pseudo-random moments (a fixed sequence, so a failure repeats).
    let mut seed: u64 = 0x2545_f491_4f6c_dd1d;
    let mut killed_mid_run = 0;
    for _ in 0..ROUNDS {
        let mut process = crate::common::ServerProcess::start(app.database_url());
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        tokio::time::sleep(std::time::Duration::from_millis(150 + seed % 400)).await;
        process.kill();
        // Eight steps a run, and a row for each of the two waits beginning.
        let journaled = app.count("workflow_run_steps").await;
        if journaled > 0 && journaled < (RUNS * 10) as i64 {
            killed_mid_run += 1;
        }
    }
    let _last = crate::common::ServerProcess::start(app.database_url());
    for (_, run) in &runs {
        let done = wait_for_end(&app, &key, run, 60).await;
        assert_eq!(done["status"], "succeeded", "{done}");
        // Each step succeeded exactly once (a wait also has the row that began it).
        let mut succeeded = std::collections::HashMap::new();
        for t in done["trace"].as_array().unwrap() {
            if t["outcome"] == "succeeded" {
                *succeeded.entry(t["step_id"].as_str().unwrap().to_string()).or_insert(0) += 1;
            }
        }
        assert_eq!(succeeded.len(), 8, "{done}");
        assert!(succeeded.values().all(|n| *n == 1), "a finished step ran again: {done}");
    }
    for (lead, _) in &runs {
        let timeline = call(&app, &key, Method::GET, &format!("/leads/{lead}/timeline"), None).await.1;
        for k in [1, 2, 4, 5, 7, 8] {
            let logged = timeline.as_array().unwrap().iter().filter(|e| e["data"]["subject"] == format!("step {k}")).count();
            assert_eq!(logged, 1, "step {k} logged once on {lead}: {timeline}");
        }
    }
    assert!(killed_mid_run >= 5, "the kills landed while runs were in flight ({killed_mid_run} of {ROUNDS})");
}
