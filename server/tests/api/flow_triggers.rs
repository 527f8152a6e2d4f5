//! Flows driven from outside: CRM and audience events start runs through
//! external triggers (once per event and trigger), signed webhooks start
//! runs once per key, waits wake on events, templates build the seed's
//! flows, lifecycle events go out signed, and two server processes share
//! the runs without executing a step twice.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use reqwest::{Client, Method, StatusCode};
use serde_json::{json, Value};

use crate::common::{send, test_config, Config, ServerProcess, TestApp};
use crate::flows::steps_taken;
use crate::mcp::call_tool;

struct Api {
    app: TestApp,
    key: String,
}

impl Api {
    async fn new(config: Config, email: &str) -> (Api, Client) {
        let app = TestApp::spawn_with(config).await;
        let owner = app.sign_up(email).await;
        let key = app.api_key(&owner, &["crm:write", "marketing:write", "flows:write"]).await;
        (Api { app, key }, owner)
    }

    async fn call(&self, method: Method, path: &str, body: Option<Value>) -> (StatusCode, Value) {
        send(&Client::new(), method, &self.app.url(&format!("/api/v1{path}")), Some(&self.key), body).await
    }

    async fn ok(&self, method: Method, path: &str, body: Option<Value>) -> Value {
        let (status, value) = self.call(method.clone(), path, body).await;
        assert!(status.is_success(), "{method} {path}: {status} {value}");
        value
    }

    async fn lead(&self, name: &str, email: &str, score: i64) -> String {
        let lead = self.ok(Method::POST, "/leads", Some(json!({"name": name, "email": email, "score": score}))).await;
        lead["id"].as_str().unwrap().to_string()
    }

    async fn workflow(&self, name: &str, graph: Value, extra: Value) -> String {
        let mut body = json!({"name": name, "graph": graph, "publish": true,
            "input_schema": {"type": "object", "properties": {"lead_id": {"type": "string"}}}});
        for (k, v) in extra.as_object().unwrap() {
            body[k] = v.clone();
        }
        self.ok(Method::POST, "/flows/workflows", Some(body)).await["id"].as_str().unwrap().to_string()
    }

    /// A webhook trigger on the workflow: its URL and the signing secret.
    async fn webhook_trigger(&self, workflow: &str) -> (String, String) {
        let trigger = self.ok(Method::POST, "/flows/triggers", Some(json!({"workflow_id": workflow, "kind": "webhook"}))).await;
        let secret = self.ok(Method::POST, &format!("/flows/workflows/{workflow}/signing-secret"), Some(json!({}))).await;
        (self.app.url(trigger["webhook_path"].as_str().unwrap()), secret["secret"].as_str().unwrap().to_string())
    }

    async fn runs_of(&self, workflow: &str) -> Vec<Value> {
        self.ok(Method::GET, &format!("/flows/runs?workflow_id={workflow}&limit=100"), None).await["data"].as_array().unwrap().clone()
    }

    /// Waits until the workflow has `n` runs, all ended; answers their details.
    async fn ended_runs(&self, workflow: &str, n: usize, secs: u64) -> Vec<Value> {
        let deadline = Instant::now() + Duration::from_secs(secs);
        loop {
            let runs = self.runs_of(workflow).await;
            let ended = runs.iter().filter(|r| ["succeeded", "failed", "cancelled"].contains(&r["status"].as_str().unwrap())).count();
            if (runs.len() >= n && ended == runs.len()) || Instant::now() > deadline {
                assert_eq!(runs.len(), n, "runs of {workflow}: {:?}", runs.iter().map(|r| &r["status"]).collect::<Vec<_>>());
                let mut details = Vec::new();
                for run in runs {
                    details.push(self.ok(Method::GET, &format!("/flows/runs/{}", run["id"].as_str().unwrap()), None).await);
                }
                return details;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    async fn run_status(&self, run: &str, status: &str, secs: u64) -> Value {
        let deadline = Instant::now() + Duration::from_secs(secs);
        loop {
            let detail = self.ok(Method::GET, &format!("/flows/runs/{run}"), None).await;
            if detail["status"] == status || Instant::now() > deadline {
                assert_eq!(detail["status"], status, "{detail}");
                return detail;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

type Seen = Arc<Mutex<Vec<(axum::http::HeaderMap, Value)>>>;

/// A loopback HTTP server that answers 200 to any POST and keeps each
/// request's headers and JSON body.
async fn recorder(answer: Value) -> (String, Seen) {
    use axum::routing::post;
    let seen: Seen = Arc::default();
    let record = seen.clone();
    let handler = move |headers: axum::http::HeaderMap, axum::Json(body): axum::Json<Value>| {
        let (record, answer) = (record.clone(), answer.clone());
        async move {
            record.lock().unwrap().push((headers, body));
            axum::Json(answer)
        }
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, axum::Router::new().route("/{*path}", post(handler))).await.unwrap() });
    (format!("http://{addr}"), seen)
}

fn header(headers: &axum::http::HeaderMap, name: &str) -> String {
    headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or_default().to_string()
}

/// Checks `X-Corral-Signature` over the JSON body the way a receiver would.
fn signed_by(secret: &str, headers: &axum::http::HeaderMap, body: &Value) -> bool {
    let signature = header(headers, "x-corral-signature");
    app::platform::signing::verify_body_signature(secret, &signature, &serde_json::to_vec(body).unwrap(), "the secret").is_ok()
}

#[tokio::test]
async fn the_seeds_lead_to_sequence_flow_enriches_a_segment_newcomer_and_adds_it_to_the_approved_sequence() {
    let (api, owner) = Api::new(test_config(), "flows-seed@example.com").await;
    let approver = api.app.api_key(&owner, &["marketing:write", "marketing:approve"]).await;
    let (enricher, enriched) = recorder(json!({"fields": {"title": "Head of Ops", "tags": ["enriched"]}})).await;
    let connector =
        api.ok(Method::POST, "/enrichment-connectors", Some(json!({"name": "Stand-in", "url": format!("{enricher}/enrich")}))).await;
    let brand = api
        .ok(
            Method::POST,
            "/marketing/brands",
            Some(json!({"name": "Acme", "from_name": "Acme Sales", "from_email": "sales@acme.test", "footer": "Acme Inc., 1 Quay St, Bristol"})),
        )
        .await;
    let segment = api
        .ok(
            Method::POST,
            "/lists",
            Some(json!({"name": "Warm", "rules": {"match": "all", "rules": [{"field": "score", "op": "gte", "value": 10}]}})),
        )
        .await["id"]
        .as_str()
        .unwrap()
        .to_string();
    api.lead("Ann Lee", "ann@a.test", 50).await;
    let preview = api
        .ok(
            Method::POST,
            "/marketing/sequences/preview",
            Some(json!({"segment_id": segment, "brand_id": brand["id"], "objective": "book a demo", "num_emails": 1})),
        )
        .await;
    let sequence = preview["sequence"]["id"].as_str().unwrap().to_string();
    let (status, approved) =
        send(&Client::new(), Method::POST, &api.app.url(&format!("/api/v1/marketing/sequences/{sequence}/approve")), Some(&approver), None)
            .await;
    assert_eq!((status, approved["sequence"]["status"].as_str()), (StatusCode::OK, Some("approved")), "{approved}");
    // Ann is a member before the flow exists.
    api.ok(Method::POST, &format!("/lists/{segment}/refresh"), None).await;

    // An agent finds the template and builds the flow with the seed's call.
    let gallery = call_tool(&api.app, &api.key, "list_workflow_templates", json!({})).await;
    let slugs: Vec<&str> =
        gallery["structuredContent"]["templates"].as_array().unwrap().iter().filter_map(|t| t["slug"].as_str()).collect();
    assert_eq!(slugs, ["lead-to-sequence", "speed-to-lead", "score-threshold-alert", "stale-deal-nudge", "invoice-paid-thank-you"]);
    let refused = call_tool(
        &api.app,
        &api.key,
        "create_workflow_from_template",
        json!({"template_slug": "lead-to-sequence", "inputs": {"segment_id": segment, "sequence_id": 42}}),
    )
    .await;
    assert_eq!(refused["isError"], true, "{refused}");
    assert!(refused.to_string().contains("inputs."), "the refusal names the input: {refused}");
    assert_eq!(api.app.count("workflows").await, 0, "a refused template makes nothing");
    let created = call_tool(
        &api.app,
        &api.key,
        "create_workflow_from_template",
        json!({"template_slug": "lead-to-sequence", "publish": true,
               "inputs": {"segment_id": segment, "enrichment_connector_id": connector["id"], "sequence_id": sequence}}),
    )
    .await;
    assert_eq!(created["isError"], false, "{created}");
    let workflow = &created["structuredContent"]["workflow"];
    let workflow_id = workflow["id"].as_str().unwrap().to_string();
    assert_eq!(workflow["triggers"][0]["event"], "segment.entered", "{workflow}");
    assert_eq!(workflow["triggers"][0]["filters"]["segment_id"], segment.as_str());
    assert_eq!(workflow["published_version"], 1);

    // A lead enters the segment (the sweep finds it): one run enriches it
    // and adds it to the sequence, which queues its email.
    let neo = api.lead("Neo Newcomer", "neo@n.test", 60).await;
    let refreshed = api.ok(Method::POST, &format!("/lists/{segment}/refresh"), None).await;
    assert_eq!(refreshed["entered"], 1, "{refreshed}");
    let runs = api.ended_runs(&workflow_id, 1, 30).await;
    let run = &runs[0];
    assert_eq!(
        (run["status"].as_str(), run["trigger_type"].as_str(), run["subject_id"].as_str()),
        (Some("succeeded"), Some("segment.entered"), Some(neo.as_str())),
        "{run}"
    );
    assert_eq!(steps_taken(run), ["enrich:succeeded", "sequence:succeeded"]);
    assert_eq!(run["trace"][1]["output"]["enrolled"], true, "{run}");
    let sent_to_enricher = enriched.lock().unwrap().clone();
    assert_eq!(sent_to_enricher.len(), 1);
    assert_eq!(sent_to_enricher[0].1["lead"]["email"], "neo@n.test", "{:?}", sent_to_enricher[0].1);
    let lead = api.ok(Method::GET, &format!("/leads/{neo}"), None).await;
    assert_eq!(lead["title"], "Head of Ops", "enriched: {lead}");
    let deadline = Instant::now() + Duration::from_secs(20);
    while api.app.count_where("email_outbox", "to_email = 'neo@n.test'").await == 0 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(api.app.count_where("email_outbox", "to_email = 'neo@n.test'").await, 1, "the newcomer gets the approved step once");

    // Refreshing again changes no membership: no event, no second run.
    api.ok(Method::POST, &format!("/lists/{segment}/refresh"), None).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(api.runs_of(&workflow_id).await.len(), 1);

    // The gate holds inside flows: a lead the segment's rules do not select
    // is never added (the step fails, the run fails, nothing is queued).
    let cold = api.lead("Cole Cold", "cole@c.test", 1).await;
    let run = api
        .ok(
            Method::POST,
            &format!("/flows/workflows/{workflow_id}/runs"),
            Some(json!({"payload": {"lead_id": cold, "segment_id": segment}})),
        )
        .await;
    let failed = api.run_status(run["id"].as_str().unwrap(), "failed", 30).await;
    assert!(failed["error"].as_str().unwrap().contains("not in the sequence's segment"), "{failed}");
    assert_eq!(api.app.count_where("email_outbox", "to_email = 'cole@c.test'").await, 0);
}

#[tokio::test]
async fn events_start_each_matching_trigger_once_and_waits_wake_on_their_event() {
    let (api, _) = Api::new(test_config(), "flows-events@example.com").await;
    let note = |subject: &str| json!({"type": "log_activity", "lead_id": "{{input.lead_id}}", "kind": "note", "subject": subject});
    let greet = api.workflow("Greet", json!({"entry": "hello", "steps": [{"id": "hello", "action": note("Welcome")}]}), json!({})).await;
    let hot_schema = json!({"type": "object", "properties": {"lead_id": {"type": "string"}, "new_score": {"type": "integer"}}});
    let hot = api
        .workflow(
            "Hot",
            json!({"entry": "task", "steps": [{"id": "task", "action": {"type": "create_task", "title": "Call: score {{input.new_score}}", "lead_id": "{{input.lead_id}}"}}]}),
            json!({"input_schema": hot_schema}),
        )
        .await;

    // Filters are checked against the event; an unknown event is refused.
    for (body, field) in [
        (json!({"workflow_id": greet, "event": "lead.exploded"}), "event"),
        (json!({"workflow_id": greet, "event": "lead.created", "filters": {"threshold": 5}}), "filters.threshold"),
        (json!({"workflow_id": hot, "event": "lead.score_crossed"}), "filters.threshold"),
        (json!({"workflow_id": greet, "event": "segment.entered", "filters": {"segment_id": uuid::Uuid::now_v7()}}), "filters.segment_id"),
    ] {
        let (status, refused) = api.call(Method::POST, "/flows/triggers", Some(body)).await;
        assert_eq!((status, refused["error"]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some(field)), "{refused}");
    }
    api.ok(Method::POST, "/flows/triggers", Some(json!({"workflow_id": greet, "event": "lead.created"}))).await;
    let via_mcp = call_tool(
        &api.app,
        &api.key,
        "create_workflow_trigger",
        json!({"workflow_id": hot, "event": "lead.score_crossed", "filters": {"threshold": 70}}),
    )
    .await;
    assert_eq!(via_mcp["isError"], false, "{via_mcp}");

    let lead = api.lead("Lia", "lia@l.test", 50).await;
    for score in [80, 90, 60] {
        api.ok(Method::PATCH, &format!("/leads/{lead}"), Some(json!({"score": score}))).await;
    }
    let greeted = api.ended_runs(&greet, 1, 20).await;
    assert_eq!((greeted[0]["trigger_type"].as_str(), greeted[0]["status"].as_str()), (Some("lead.created"), Some("succeeded")));
    let alerted = api.ended_runs(&hot, 1, 20).await;
    assert_eq!(alerted[0]["input"]["new_score"], 80, "only 50→80 crosses 70: {alerted:?}");
    assert_eq!(api.app.count_where("tasks", "title = 'Call: score 80'").await, 1);

    // A trigger turned off starts nothing.
    let triggers = api.ok(Method::GET, &format!("/flows/triggers?workflow_id={greet}"), None).await;
    let trigger_id = triggers[0]["id"].as_str().unwrap().to_string();
    api.ok(Method::PATCH, &format!("/flows/triggers/{trigger_id}"), Some(json!({"active": false}))).await;
    api.lead("Quiet", "quiet@q.test", 5).await;
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert_eq!(api.runs_of(&greet).await.len(), 1);

    // A wait for an event about the run's lead ends when it happens, with
    // the event's data; one that never comes times out.
    let waiting = json!({"entry": "listen", "steps": [
        {"id": "listen", "action": {"type": "wait", "event": "lead.updated", "timeout_seconds": 2}, "next": "done"},
        {"id": "done", "action": note("Heard back")}]});
    let listener = api.workflow("Listen", waiting, json!({})).await;
    let start = |lead: String| {
        let api = &api;
        let url = format!("/flows/workflows/{listener}/runs");
        async move { api.ok(Method::POST, &url, Some(json!({"payload": {"lead_id": lead}}))).await["id"].as_str().unwrap().to_string() }
    };
    let woken = start(lead.clone()).await;
    api.run_status(&woken, "waiting", 10).await;
    api.ok(Method::PATCH, &format!("/leads/{lead}"), Some(json!({"title": "CFO"}))).await;
    let done = api.run_status(&woken, "succeeded", 10).await;
    let heard =
        &done["trace"].as_array().unwrap().iter().find(|t| t["step_id"] == "listen" && t["outcome"] == "succeeded").unwrap()["output"];
    assert_eq!((heard["timed_out"].as_bool(), heard["received"]["changed"].clone()), (Some(false), json!(["title"])), "{done}");
    let other = api.lead("Otto", "otto@o.test", 5).await;
    let silent = start(other).await;
    let done = api.run_status(&silent, "succeeded", 15).await;
    let heard =
        &done["trace"].as_array().unwrap().iter().find(|t| t["step_id"] == "listen" && t["outcome"] == "succeeded").unwrap()["output"];
    assert_eq!(heard["timed_out"], true, "{done}");
}

#[tokio::test]
async fn a_signed_webhook_starts_one_run_per_key_and_lifecycle_events_go_out_signed() {
    let (api, _) = Api::new(test_config(), "flows-hooks@example.com").await;
    let (target, delivered) = recorder(json!({"ok": true})).await;
    let (notified_url, notified) = recorder(json!({})).await;
    let graph = json!({"entry": "big", "steps": [
        {"id": "big", "action": {"type": "branch", "rules": [
            {"label": "large order", "when": {"var": "input.amount", "op": "gt", "value": 100}, "next": "post"}]}},
        {"id": "post", "action": {"type": "send_webhook", "url": format!("{target}/orders"), "body": {"amount": "{{input.amount}}"}}}]});
    let schema =
        json!({"type": "object", "required": ["amount"], "properties": {"amount": {"type": "number"}, "order": {"type": "string"}}});
    let workflow = api.workflow("Orders", graph, json!({"input_schema": schema, "notify_url": format!("{notified_url}/lifecycle")})).await;
    let (hook, secret) = api.webhook_trigger(&workflow).await;
    let post = |body: Value, signature: Option<String>, key: &str| {
        let request = Client::new().post(&hook).header("Idempotency-Key", key).json(&body);
        let request = match signature {
            Some(s) => request.header("X-Corral-Signature", s),
            None => request,
        };
        async move {
            let response = request.send().await.unwrap();
            (response.status(), response.json::<Value>().await.unwrap_or(Value::Null))
        }
    };
    let sign =
        |body: &Value| app::platform::signing::body_signature(&secret, chrono::Utc::now().timestamp(), &serde_json::to_vec(body).unwrap());

    let order = json!({"amount": 250, "order": "A-1"});
    for (signature, why) in [(None, "unsigned"), (Some(sign(&json!({"amount": 1}))), "signed for another body")] {
        let (status, body) = post(order.clone(), signature, "k-0").await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{why}: {body}");
    }
    let (status, body) = post(json!({"amount": "lots"}), Some(sign(&json!({"amount": "lots"}))), "k-bad").await;
    assert_eq!((status, body["error"]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("payload.amount")), "{body}");
    assert_eq!(api.app.count("workflow_runs").await, 0);

    let (status, first) = post(order.clone(), Some(sign(&order)), "k-1").await;
    assert_eq!((status, first["duplicate"].as_bool()), (StatusCode::ACCEPTED, Some(false)), "{first}");
    let (status, again) = post(order.clone(), Some(sign(&order)), "k-1").await;
    assert_eq!(
        (status, again["duplicate"].as_bool(), again["run_id"].clone()),
        (StatusCode::ACCEPTED, Some(true), first["run_id"].clone())
    );
    let small = json!({"amount": 5});
    post(small.clone(), Some(sign(&small)), "k-2").await;
    let runs = api.ended_runs(&workflow, 2, 20).await;
    assert!(runs.iter().all(|r| r["status"] == "succeeded" && r["trigger_type"] == "webhook.received"), "{runs:?}");

    // The step's POST is signed, keyed by run and step; the small order took the default (none).
    let posted = delivered.lock().unwrap().clone();
    assert_eq!(posted.len(), 1, "{posted:?}");
    let (headers, body) = &posted[0];
    assert!(signed_by(&secret, headers, body), "the step's POST carries a valid signature");
    assert_eq!(header(headers, "idempotency-key"), format!("{}:post", first["run_id"].as_str().unwrap()));
    assert_eq!(body["data"]["amount"], 250);

    // Lifecycle events: started and succeeded for each run, signed.
    let deadline = Instant::now() + Duration::from_secs(20);
    while notified.lock().unwrap().len() < 4 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let events = notified.lock().unwrap().clone();
    let mut kinds: Vec<String> = events.iter().map(|(_, b)| b["type"].as_str().unwrap().to_string()).collect();
    kinds.sort();
    assert_eq!(kinds, ["run.started", "run.started", "run.succeeded", "run.succeeded"], "{events:?}");
    assert!(events.iter().all(|(h, b)| signed_by(&secret, h, b) && header(h, "x-corral-event") == b["type"].as_str().unwrap()));

    // Rotating the secret: the old one no longer signs.
    api.ok(Method::POST, &format!("/flows/workflows/{workflow}/signing-secret"), Some(json!({"rotate": true}))).await;
    let (status, _) = post(order.clone(), Some(sign(&order)), "k-3").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_wait_survives_a_restart_and_two_processes_execute_each_step_once() {
    const RUNS: usize = 30;
    let app = TestApp::spawn_with(Config { run_workers: false, ..test_config() }).await;
    let owner = app.sign_up("flows-two@example.com").await;
    let key = app.api_key(&owner, &["crm:write", "flows:write"]).await;
    let api = Api { app, key };
    let mut steps = Vec::new();
    for k in 1..=4 {
        let action = if k == 2 {
            json!({"type": "wait", "seconds": 2})
        } else {
            json!({"type": "log_activity", "lead_id": "{{input.lead_id}}", "kind": "note", "subject": format!("step {k}")})
        };
        steps
            .push(json!({"id": format!("s{k}"), "action": action, "next": if k < 4 { json!(format!("s{}", k + 1)) } else { Value::Null }}));
    }
    let workflow = api.workflow("Two", json!({"entry": "s1", "steps": steps}), json!({"concurrency_limit": 1000})).await;
    let mut leads = Vec::new();
    for i in 0..RUNS {
        let lead = api.lead(&format!("Pat {i}"), &format!("pat{i}@p.test"), 1).await;
        api.ok(Method::POST, &format!("/flows/workflows/{workflow}/runs"), Some(json!({"payload": {"lead_id": lead}}))).await;
        leads.push(lead);
    }

    // One process takes the runs into their wait and is stopped; the runs
    // wait on, stored; then two processes on the same database finish them.
    let mut first = ServerProcess::start(api.app.database_url());
    let deadline = Instant::now() + Duration::from_secs(30);
    while api.app.count_where("workflow_runs", "status = 'waiting'").await < RUNS as i64 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    first.kill();
    assert_eq!(api.app.count_where("workflow_runs", "status = 'waiting'").await, RUNS as i64, "every run is in its wait");
    let _a = ServerProcess::start(api.app.database_url());
    let _b = ServerProcess::start(api.app.database_url());
    let runs = api.ended_runs(&workflow, RUNS, 60).await;
    for run in &runs {
        assert_eq!(run["status"], "succeeded", "{run}");
        let finished: Vec<String> = steps_of(run);
        assert_eq!(finished, ["s1", "s2", "s3", "s4"], "each step once: {run}");
    }
    for lead in &leads {
        assert_eq!(
            api.app.count_where("activities", &format!("subject LIKE 'step %' AND lead_id = {}", id_literal(&api.app, lead))).await,
            3
        );
    }
}

fn steps_of(run: &Value) -> Vec<String> {
    run["trace"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["outcome"] == "succeeded")
        .map(|t| t["step_id"].as_str().unwrap().to_string())
        .collect()
}

/// A uuid as a SQL literal for the test's backend.
fn id_literal(app: &TestApp, id: &str) -> String {
    if app.database_url().starts_with("postgres") {
        format!("'{id}'")
    } else {
        format!("X'{}'", id.replace('-', ""))
    }
}

#[tokio::test]
async fn finished_runs_past_the_workspaces_retention_are_pruned_and_sqlite_gives_the_space_back() {
    let (api, owner) = Api::new(Config { run_workers: false, ..test_config() }, "flows-retention@example.com").await;
    let (status, refused) =
        send(&owner, Method::PATCH, &api.app.url("/api/v1/workspace"), None, Some(json!({"flow_run_retention_days": 0}))).await;
    assert_eq!((status, refused["error"]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("flow_run_retention_days")));
    let (status, workspace) =
        send(&owner, Method::PATCH, &api.app.url("/api/v1/workspace"), None, Some(json!({"flow_run_retention_days": 2}))).await;
    assert_eq!((status, workspace["flow_run_retention_days"].as_i64()), (StatusCode::OK, Some(2)), "{workspace}");
    let note = json!({"type": "log_activity", "lead_id": "{{input.lead_id}}", "kind": "note", "subject": "x"});
    let workflow: uuid::Uuid =
        api.workflow("Kept", json!({"entry": "a", "steps": [{"id": "a", "action": note}]}), json!({})).await.parse().unwrap();
    let workspace_id: uuid::Uuid = workspace["id"].as_str().unwrap().parse().unwrap();

    // 300 finished runs with a sizeable trace each: 240 from a week ago, 60 from today.
    let padding = "x".repeat(4000);
    let mut tx = api.app.db.begin().await.unwrap();
    for i in 0..300 {
        let finished = chrono::Utc::now() - chrono::Duration::days(if i < 240 { 7 } else { 0 });
        let id = uuid::Uuid::now_v7();
        tx.execute(
            app::platform::db::Q::new(
                "INSERT INTO workflow_runs (id, workspace_id, workflow_id, version, status, trigger_type, input, source, created_at, \
                 started_at, finished_at, updated_at) VALUES ($1, $2, $3, 1, 'succeeded', 'manual', $4, 'api', $5, $5, $5, $5)",
            )
            .bind(id)
            .bind(workspace_id)
            .bind(workflow)
            .bind(json!({"padding": padding}))
            .bind(finished),
        )
        .await
        .unwrap();
        tx.execute(
            app::platform::db::Q::new(
                "INSERT INTO workflow_run_steps (run_id, step_id, attempt, workspace_id, kind, outcome, input, output, started_at, finished_at) \
                 VALUES ($1, 'a', 1, $2, 'log_activity', 'succeeded', $3, $3, $4, $4)",
            )
            .bind(id)
            .bind(workspace_id)
            .bind(json!({"padding": padding}))
            .bind(finished),
        )
        .await
        .unwrap();
    }
    tx.commit().await.unwrap();
    let sqlite = !api.app.database_url().starts_with("postgres");
    let pages = || async {
        let mut tx = api.app.db.begin_read().await.unwrap();
        let (count,): (i64,) = tx.fetch_one(app::platform::db::Q::new("PRAGMA page_count")).await.unwrap();
        let (free,): (i64,) = tx.fetch_one(app::platform::db::Q::new("PRAGMA freelist_count")).await.unwrap();
        tx.commit().await.unwrap();
        (count, free)
    };
    let before = if sqlite { pages().await } else { (0, 0) };

    let pruned = app::flows::retention::prune(&api.app.db).await.unwrap();
    assert_eq!(pruned.runs, 240);
    assert_eq!(api.app.count("workflow_runs").await, 60, "today's runs are kept");
    assert_eq!(api.app.count("workflow_run_steps").await, 60, "the pruned runs' traces go with them");
    assert_eq!(app::flows::retention::prune(&api.app.db).await.unwrap().runs, 0, "a second pass finds nothing");
    if sqlite {
        let after = pages().await;
        assert_eq!(after.1, 0, "no free pages are left in the file");
        assert!(after.0 < before.0 - 200, "the file shrank: {before:?} → {after:?}");
    }
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(|a, b| a.partial_cmp(b).unwrap());
    values.get(values.len() / 2).copied().unwrap_or(0.0)
}

/// Runs per second of a webhook-triggered flow (a branch, then an HTTP
/// request to a loopback server), against that server's own rate for the
/// same requests sent straight to it in the same run; and the median delay
/// from a webhook or a CRM event to its run starting, at the default poll
/// interval (200 ms).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a benchmark: scripts/bench-flows.sh"]
async fn bench_flow_runs_per_second() {
    const CONCURRENCY: usize = 16;
    let runs: usize = std::env::var("BENCH_RUNS").ok().and_then(|n| n.parse().ok()).unwrap_or(2000);
    let (target, seen) = recorder(json!({"ok": true})).await;
    let client = Client::new();

    // Baseline: the same number of POSTs straight to the loopback server.
    let started = Instant::now();
    let mut tasks = Vec::new();
    for worker in 0..CONCURRENCY {
        let (client, url) = (client.clone(), format!("{target}/orders"));
        tasks.push(tokio::spawn(async move {
            for n in (worker..runs).step_by(CONCURRENCY) {
                client.post(&url).json(&json!({"amount": 250, "n": n})).send().await.unwrap();
            }
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    let baseline = runs as f64 / started.elapsed().as_secs_f64();
    seen.lock().unwrap().clear();

    let (api, _) = Api::new(Config { flow_poll: Duration::from_millis(200), ..test_config() }, "bench-flows@example.com").await;
    let graph = json!({"entry": "big", "steps": [
        {"id": "big", "action": {"type": "branch", "rules": [
            {"label": "large", "when": {"var": "input.amount", "op": "gt", "value": 100}, "next": "post"}]}},
        {"id": "post", "action": {"type": "http_request", "method": "POST", "url": format!("{target}/orders"), "body": {"amount": "{{input.amount}}", "n": "{{input.n}}"}}}]});
    let schema = json!({"type": "object", "properties": {"amount": {"type": "number"}, "n": {"type": "integer"}}});
    let workflow = api.workflow("Bench", graph, json!({"input_schema": schema, "concurrency_limit": 1000})).await;
    let (hook, secret) = api.webhook_trigger(&workflow).await;

    let started = Instant::now();
    let mut tasks = Vec::new();
    for worker in 0..CONCURRENCY {
        let (client, hook, secret) = (client.clone(), hook.clone(), secret.clone());
        tasks.push(tokio::spawn(async move {
            for n in (worker..runs).step_by(CONCURRENCY) {
                let body = serde_json::to_vec(&json!({"amount": 250, "n": n})).unwrap();
                let signature = app::platform::signing::body_signature(&secret, chrono::Utc::now().timestamp(), &body);
                let response = client
                    .post(&hook)
                    .header("X-Corral-Signature", signature)
                    .header("Idempotency-Key", format!("order-{n}"))
                    .header("Content-Type", "application/json")
                    .body(body)
                    .send()
                    .await
                    .unwrap();
                assert_eq!(response.status(), StatusCode::ACCEPTED);
            }
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    let deadline = Instant::now() + Duration::from_secs(3600);
    while api.app.count_where("workflow_runs", "status = 'succeeded'").await < runs as i64 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let elapsed = started.elapsed();
    let rate = runs as f64 / elapsed.as_secs_f64();
    assert_eq!(seen.lock().unwrap().len(), runs, "each run posted once");
    let mut tx = api.app.db.begin_read().await.unwrap();
    let times: Vec<(chrono::DateTime<chrono::Utc>, chrono::DateTime<chrono::Utc>)> =
        tx.fetch_all(app::platform::db::Q::new("SELECT created_at, started_at FROM workflow_runs")).await.unwrap();
    tx.commit().await.unwrap();
    let webhook_start = median(times.iter().map(|(c, s)| (*s - *c).num_microseconds().unwrap() as f64 / 1000.0).collect());

    // A CRM event: leads created one by one, each starting a run.
    let note = json!({"type": "log_activity", "lead_id": "{{input.lead_id}}", "kind": "note", "subject": "hello"});
    let greet =
        api.workflow("Greet", json!({"entry": "a", "steps": [{"id": "a", "action": note}]}), json!({"concurrency_limit": 1000})).await;
    api.ok(Method::POST, "/flows/triggers", Some(json!({"workflow_id": greet, "event": "lead.created"}))).await;
    for i in 0..200 {
        api.lead(&format!("Bench {i}"), &format!("b{i}@bench.test"), 1).await;
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let deadline = Instant::now() + Duration::from_secs(120);
    while api.app.count_where("workflow_runs", "trigger_type = 'lead.created' AND status = 'succeeded'").await < 200
        && Instant::now() < deadline
    {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let mut tx = api.app.db.begin_read().await.unwrap();
    let events: Vec<(uuid::Uuid, chrono::DateTime<chrono::Utc>)> =
        tx.fetch_all(app::platform::db::Q::new("SELECT id, created_at FROM domain_events")).await.unwrap();
    let started_runs: Vec<(String, chrono::DateTime<chrono::Utc>)> = tx
        .fetch_all(app::platform::db::Q::new("SELECT trigger_key, started_at FROM workflow_runs WHERE trigger_type = 'lead.created'"))
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let event_start = median(
        started_runs
            .iter()
            .filter_map(|(key, started)| {
                let event = key.split(':').nth(1)?;
                let (_, at) = events.iter().find(|(id, _)| id.to_string() == event)?;
                Some((*started - *at).num_microseconds()? as f64 / 1000.0)
            })
            .collect(),
    );
    println!(
        "BENCH backend={} runs={runs} flow={rate:.0} runs/s direct_baseline={baseline:.0} req/s ratio={:.3} elapsed={:.1}s \
         webhook_to_start_p50={webhook_start:.0}ms event_to_start_p50={event_start:.0}ms",
        crate::common::backend(),
        rate / baseline,
        elapsed.as_secs_f64()
    );
}

#[tokio::test]
async fn a_workflow_at_its_concurrency_limit_finishes_its_runs_and_starts_the_queued_ones_in_turn() {
    // The runs are all queued before a worker starts (a second process).
    let (api, _) = Api::new(Config { run_workers: false, ..test_config() }, "flows-limit@example.com").await;
    let note = |k: i64| json!({"type": "log_activity", "lead_id": "{{input.lead_id}}", "kind": "note", "subject": format!("step {k}")});
    let graph = json!({"entry": "a", "steps": [{"id": "a", "action": note(1), "next": "b"}, {"id": "b", "action": note(2)}]});
    let one_at_a_time = api.workflow("One at a time", graph, json!({"concurrency_limit": 1})).await;
    let lead = api.lead("Lin", "lin@l.test", 1).await;
    // More queued runs than one claim takes: they must not hold up the run under way.
    for _ in 0..60 {
        api.ok(Method::POST, &format!("/flows/workflows/{one_at_a_time}/runs"), Some(json!({"payload": {"lead_id": lead}}))).await;
    }
    let _worker = ServerProcess::start(api.app.database_url());
    let deadline = Instant::now() + Duration::from_secs(60);
    while api.app.count_where("workflow_runs", "status = 'succeeded'").await < 60 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(api.app.count_where("workflow_runs", "status = 'succeeded'").await, 60);
    // One at a time: each run started after the one before it ended.
    let mut tx = api.app.db.begin_read().await.unwrap();
    let spans: Vec<(chrono::DateTime<chrono::Utc>, chrono::DateTime<chrono::Utc>)> =
        tx.fetch_all(app::platform::db::Q::new("SELECT started_at, finished_at FROM workflow_runs ORDER BY started_at")).await.unwrap();
    tx.commit().await.unwrap();
    assert!(spans.windows(2).all(|w| w[1].0 >= w[0].1), "runs overlapped under a limit of 1");
}
