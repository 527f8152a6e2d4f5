//! `/mcp` with real clients: the official Python SDK in the stateless
//! 2026 protocol and in the `initialize` handshake, and raw HTTP for what
//! happens before any MCP message is read (authentication, Origin).

use reqwest::{Client, StatusCode};
use serde_json::{json, Value};

use crate::common::TestApp;

/// Runs `tests/mcp/agent.py` against the app and returns its report.
async fn python_agent(app: &TestApp, write_key: &str, read_key: &str, mode: &str) -> Value {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/mcp/agent.py");
    let output = tokio::process::Command::new("python3")
        .args([script, &app.url("/mcp"), write_key, read_key, mode])
        .output()
        .await
        .expect("run python3 (scripts/setup.sh --tests installs the mcp SDK)");
    assert!(output.status.success(), "the agent failed:\n{}", String::from_utf8_lossy(&output.stderr));
    serde_json::from_slice(&output.stdout).unwrap_or_else(|e| panic!("agent report: {e}: {}", String::from_utf8_lossy(&output.stdout)))
}

#[tokio::test]
async fn the_python_sdk_lists_and_calls_the_tools_in_both_protocols() {
    let app = TestApp::spawn().await;
    let owner = app.sign_up("agent@mcp.test").await;
    let write_key = app.api_key(&owner, &["crm:read", "crm:write", "revenue:read", "revenue:write"]).await;
    let read_key = app.api_key(&owner, &["crm:read"]).await;

    let mut answered_request_ids = Vec::new();
    for mode in ["auto", "legacy"] {
        let report = python_agent(&app, &write_key, &read_key, mode).await;
        answered_request_ids.push(report["create"]["structured"]["request_id"].clone());

        // The seed's names, strict schemas and annotations.
        let tools = report["tools"].as_object().unwrap();
        for name in [
            "create_lead",
            "list_leads",
            "search_contacts",
            "search_companies",
            "convert_lead",
            "list_deal_stages",
            "create_deal",
            "update_deal",
            "update_deal_stage",
            "log_activity",
            "create_invoice",
            "list_invoices",
            "record_payment",
            "create_accounting_account",
            "list_accounting_accounts",
            "create_journal_entry",
            "list_journal_entries",
            "create_contact",
            "create_company",
            "create_deal_stage",
            "search_leads",
            "create_segment",
        ] {
            assert!(tools.contains_key(name), "{mode}: {name} missing from {:?}", tools.keys());
            assert_eq!(tools[name]["input_schema"]["additionalProperties"], false, "{mode}: {name}");
        }
        let create = &tools["create_lead"]["input_schema"];
        assert_eq!(create["required"], json!(["name"]), "{mode}");
        assert!(create["properties"]["source"].to_string().contains("website"), "{mode}: source lists its values: {create}");
        assert_eq!(tools["create_lead"]["read_only"], false);
        assert_eq!(tools["list_leads"]["read_only"], true);

        // A write answers the seed's shape; a retry under its key replays it.
        let created = &report["create"];
        assert_eq!(created["is_error"], false, "{mode}: {created}");
        let lead = &created["structured"]["lead"];
        assert_eq!(
            (lead["name"].as_str(), lead["source"].as_str(), lead["status"].as_str()),
            (Some("Priya Shah"), Some("website"), Some("new"))
        );
        assert!(created["structured"]["request_id"].as_str().is_some_and(|id| id.starts_with("req_")), "{mode}: {created}");
        assert_eq!(report["retry"]["structured"], created["structured"], "{mode}: the retry replays");
        let reused = &report["reused_key"];
        assert_eq!((reused["is_error"].as_bool(), reused["structured"]["error"]["code"].as_str()), (Some(true), Some("validation_failed")));
        assert_eq!(report["default_source"]["structured"]["lead"]["source"], "mcp", "{mode}: leads made by agents say so");

        // Bad input is refused in the REST error shape, naming the field.
        let unknown = &report["unknown_property"];
        assert_eq!(unknown["is_error"], true, "{mode}: {unknown}");
        assert_eq!(unknown["structured"]["error"]["code"], "validation_failed");
        assert_eq!(unknown["structured"]["error"]["field"], "nickname");

        let listed = &report["list"]["structured"];
        assert!(listed["leads"].as_array().unwrap().iter().any(|l| l["id"] == lead["id"]), "{mode}: {listed}");
        assert!(listed.get("next_cursor").is_some());

        // A segment made by rules, searched by text within it.
        assert_eq!(report["segment"]["structured"]["segment"]["kind"], "segment", "{mode}: {}", report["segment"]);
        let found = report["segment_search"]["structured"]["leads"].as_array().unwrap();
        // One Priya per mode run so far (the second run finds both).
        assert!(!found.is_empty() && found.iter().all(|l| l["name"] == "Priya Shah" && l["source"] == "website"), "{mode}: {found:?}");
        assert_eq!(
            report["segment_miss"]["structured"]["leads"].as_array().map(Vec::len),
            Some(0),
            "{mode}: an mcp-source lead is outside the website segment"
        );
        let bad_rules = &report["bad_rules"]["structured"]["error"];
        assert!(bad_rules["field"].as_str().is_some_and(|f| f.starts_with("rules")), "{mode}: {bad_rules}");

        // Converted with a deal in the stage named by its key; the dry run
        // shows the audit it would write and changes nothing.
        assert_eq!(report["stages"]["structured"]["stages"][0]["key"], "proposal", "{mode}: {}", report["stages"]);
        let converted = &report["convert"]["structured"];
        assert_eq!(report["convert"]["is_error"], false, "{mode}: {converted}");
        assert_eq!(converted["lead"]["status"], "converted");
        assert_eq!((converted["deal"]["stage"].as_str(), converted["deal"]["amount_cents"].as_i64()), (Some("proposal"), Some(1_800_000)));
        assert_eq!(converted["contact"]["name"], "Priya Shah");
        assert_eq!(converted["company"]["name"], "Northstar Studio");
        let dry = &report["dry_run"]["structured"];
        assert_eq!((dry["dry_run"].as_bool(), dry["deal"]["stage"].as_str()), (Some(true), Some("won")), "{mode}: {dry}");
        assert!(dry["audit"]["action"].as_str().is_some_and(|a| a.starts_with("deal.")), "{mode}: {dry}");
        assert_eq!(report["after_dry_run"]["structured"]["deal"]["stage"], "proposal", "{mode}: the dry run wrote nothing");
        let updated = &report["update"]["structured"]["deal"];
        assert_eq!((updated["stage"].as_str(), updated["amount_cents"].as_i64()), (Some("negotiation"), Some(2_000_000)), "{mode}");
        let stage = &report["new_stage"]["structured"]["stage"];
        assert_eq!((stage["position"].as_i64(), stage["probability"].as_i64()), (Some(3), Some(50)), "{mode}: {}", report["new_stage"]);
        assert_eq!(stage["custom_fields"]["sla_days"], 5);
        assert_eq!(report["to_new_stage"]["structured"]["deal"]["stage"], format!("signed_{mode}"));
        assert_eq!(report["company"]["structured"]["company"]["notes"], "Met at a fair", "{mode}: {}", report["company"]);
        let contact = &report["contact"]["structured"]["contact"];
        assert_eq!(
            (contact["notes"].as_str(), contact["company_id"].clone()),
            (Some("Prefers email"), report["company"]["structured"]["company"]["id"].clone())
        );
        assert_eq!(report["contacts"]["structured"]["contacts"][0]["name"], "Jane Doe", "{mode}: {}", report["contacts"]);
        let bad_stage = &report["bad_stage"]["structured"]["error"];
        assert_eq!((bad_stage["code"].as_str(), bad_stage["field"].as_str()), (Some("validation_failed"), Some("stage_key")), "{mode}");
        assert_eq!(report["activity"]["structured"]["activity"]["subject"], "Kick-off call", "{mode}: {}", report["activity"]);

        // Invoiced, paid and booked: the invoice is issued at once, so the
        // payment settles it; the manual entry balances; the books balance.
        let invoice = &report["invoice"]["structured"]["invoice"];
        assert_eq!(report["invoice"]["is_error"], false, "{mode}: {}", report["invoice"]);
        assert_eq!(
            (invoice["invoice_number"].as_str(), invoice["status"].as_str()),
            (Some(format!("INV-{mode}-1").as_str()), Some("sent"))
        );
        assert_eq!(invoice["total_cents"], 900_000);
        let payment = &report["payment"]["structured"]["payment"];
        assert_eq!(
            (payment["amount_cents"].as_i64(), payment["provider_reference_id"].as_str()),
            (Some(900_000), Some(format!("wire-{mode}").as_str())),
            "{mode}: {}",
            report["payment"]
        );
        let duplicate = &report["duplicate_payment"]["structured"]["error"];
        assert_eq!(duplicate["field"], "provider_reference_id", "{mode}: {duplicate}");
        assert_eq!(report["account"]["structured"]["account"]["type"], "expense", "{mode}: {}", report["account"]);
        let entry = &report["entry"]["structured"]["journal_entry"];
        assert_eq!(
            (entry["status"].as_str(), entry["entry_number"].as_str()),
            (Some("posted"), Some(format!("JE-{mode}-1").as_str())),
            "{mode}: {}",
            report["entry"]
        );
        let unbalanced = &report["unbalanced"]["structured"]["error"];
        assert_eq!(
            (unbalanced["code"].as_str(), unbalanced["field"].as_str()),
            (Some("validation_failed"), Some("lines")),
            "{mode}: {unbalanced}"
        );
        assert_eq!(report["entries"]["structured"]["journal_entries"].as_array().map(Vec::len), Some(1), "{mode}: {}", report["entries"]);
        assert_eq!(report["invoices"]["structured"]["invoices"][0]["status"], "paid", "{mode}: {}", report["invoices"]);

        // A read-only key reads, and cannot write: the error names the scope.
        let refused = &report["read_only_write"];
        assert_eq!(refused["is_error"], true);
        assert_eq!(refused["structured"]["error"]["code"], "forbidden");
        assert!(refused["structured"]["error"]["message"].as_str().unwrap().contains("crm:write"), "{refused}");
        assert_eq!(report["read_only_read"]["is_error"], false, "{}", report["read_only_read"]);
    }
    // Two modes, one lead each from the keyed call, one default-source lead each.
    assert_eq!(app.count("leads").await, 4);
    let (_, balance) =
        crate::common::send(&Client::new(), reqwest::Method::GET, &app.url("/api/v1/trial-balance"), Some(&write_key), None).await;
    assert_eq!(balance["balanced"], true, "the books balance: {balance}");
    let usd = &balance["totals"][0];
    assert_eq!((usd["currency"].as_str(), usd["debit_cents"] == usd["credit_cents"]), (Some("USD"), true), "{balance}");
    assert_ne!(usd["debit_cents"], 0);

    // Every write's audit row names the key and the way it came in; the
    // tool's answer and its audit row share the request id.
    let rest = Client::new();
    let (status, _) =
        crate::common::send(&rest, reqwest::Method::POST, &app.url("/api/v1/leads"), Some(&write_key), Some(json!({"name": "By REST"})))
            .await;
    assert_eq!(status, StatusCode::CREATED);
    let (_, events) = crate::common::send(
        &rest,
        reqwest::Method::GET,
        &app.url("/api/v1/audit-events?entity_type=lead&limit=100"),
        Some(&write_key),
        None,
    )
    .await;
    let created: Vec<&Value> = events["data"].as_array().unwrap().iter().filter(|e| e["action"] == "lead.created").collect();
    assert_eq!(created.len(), 5, "{events}");
    for event in &created {
        assert!(event["actor_api_key_id"].is_string(), "{event}");
        assert!(event["request_id"].as_str().is_some_and(|id| id.starts_with("req_")), "{event}");
    }
    let via: Vec<&str> = created.iter().map(|e| e["via"].as_str().unwrap_or("?")).collect();
    assert_eq!(via.iter().filter(|v| **v == "mcp").count(), 4, "{via:?}");
    assert_eq!(via.iter().filter(|v| **v == "api").count(), 1, "{via:?}");
    for id in answered_request_ids {
        assert!(created.iter().any(|e| e["request_id"] == id), "no audit row has the answer's request id {id}");
    }
}

#[tokio::test]
async fn the_typescript_sdk_lists_and_calls_the_tools() {
    let app = TestApp::spawn().await;
    let owner = app.sign_up("ts@mcp.test").await;
    let key = app.api_key(&owner, &["crm:read", "crm:write"]).await;
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../end2end/mcp-agent.mjs");
    let output = tokio::process::Command::new("node")
        .args([script, &app.url("/mcp"), &key])
        .output()
        .await
        .expect("run node (scripts/setup.sh --tests installs the MCP TypeScript SDK in end2end/)");
    assert!(output.status.success(), "the agent failed:\n{}", String::from_utf8_lossy(&output.stderr));
    let report: Value = serde_json::from_slice(&output.stdout).expect("the agent's report");

    assert!(report["tools"].as_array().unwrap().len() >= 20, "{report}");
    let lead = &report["create"]["structured"]["lead"];
    assert_eq!((lead["name"].as_str(), lead["source"].as_str()), (Some("Tess Script"), Some("referral")), "{report}");
    let unknown = &report["unknown_property"];
    assert_eq!((unknown["is_error"].as_bool(), unknown["structured"]["error"]["field"].as_str()), (Some(true), Some("color")), "{report}");
    assert_eq!(report["list"]["structured"]["leads"][0]["id"], lead["id"], "{report}");
}

#[tokio::test]
async fn mcp_requests_need_a_key_and_a_local_origin() {
    let app = TestApp::spawn().await;
    let owner = app.sign_up("origin@mcp.test").await;
    let key = app.api_key(&owner, &["crm:read"]).await;
    let list = json!({"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {}});
    let post = |bearer: Option<&str>, origin: Option<&str>| {
        let mut request = Client::new()
            .post(app.url("/mcp"))
            .header("accept", "application/json, text/event-stream")
            .header("mcp-protocol-version", "2025-06-18")
            .json(&list);
        if let Some(key) = bearer {
            request = request.bearer_auth(key);
        }
        if let Some(origin) = origin {
            request = request.header("origin", origin);
        }
        request.send()
    };

    let response = post(None, None).await.unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(response.headers()["www-authenticate"], "Bearer");
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], "unauthenticated");
    assert_eq!(post(Some("corral_not-a-key"), None).await.unwrap().status(), StatusCode::UNAUTHORIZED);

    let response = post(Some(&key), Some("https://evil.example")).await.unwrap();
    assert_eq!(response.status(), StatusCode::FORBIDDEN, "a foreign Origin");
    let response = post(Some(&key), Some(&app.url(""))).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK, "the server's own origin");
    let response = post(Some(&key), None).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let text = response.text().await.unwrap();
    assert!(text.contains("create_lead"), "{text}");
}

#[tokio::test]
async fn each_key_has_one_budget_of_tool_calls_per_minute_across_server_processes() {
    let config = app::platform::context::Config { mcp_calls_per_minute: 3, ..crate::common::test_config() };
    let first = TestApp::spawn_with(config).await;
    let second = first.spawn_beside().await;
    let owner = first.sign_up("budget@mcp.test").await;
    let (busy, other) = (first.api_key(&owner, &["crm:read"]).await, first.api_key(&owner, &["crm:read"]).await);
    // Windows follow the clock's minutes; start well inside one.
    let second_of_minute = chrono::Utc::now().timestamp().rem_euclid(60);
    if second_of_minute >= 55 {
        tokio::time::sleep(std::time::Duration::from_secs((61 - second_of_minute) as u64)).await;
    }
    // Stateless: each call may reach either process; the budget is the key's.
    for app in [&first, &second, &first] {
        let result = call_tool(app, &busy, "list_leads", json!({})).await;
        assert_eq!(result["isError"], false, "{result}");
    }
    let refused = call_tool(&second, &busy, "list_leads", json!({})).await;
    assert_eq!(refused["isError"], true, "{refused}");
    let error = &refused["structuredContent"]["error"];
    assert_eq!(error["code"], "rate_limited");
    assert!(error["retry_after"].as_u64().is_some_and(|s| (1..=60).contains(&s)), "{error}");
    assert!(error["request_id"].as_str().is_some_and(|id| id.starts_with("req_")), "{error}");
    assert_eq!(call_tool(&first, &other, "list_leads", json!({})).await["isError"], false, "another key has its own budget");
}

/// One `tools/call` over the stateless protocol: the call's `result`.
pub(crate) async fn call_tool(app: &TestApp, key: &str, name: &str, arguments: Value) -> Value {
    let body = json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": name, "arguments": arguments}});
    let response = Client::new()
        .post(app.url("/mcp"))
        .bearer_auth(key)
        .header("accept", "application/json, text/event-stream")
        .header("mcp-protocol-version", "2025-06-18")
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    response.json::<Value>().await.unwrap()["result"].clone()
}

/// A value of the type a schema asks for (the first of an enum), so that
/// only the property under test can be what a call is refused for.
fn placeholder(schema: &Value, root: &Value) -> Value {
    if let Some(name) = schema["$ref"].as_str().and_then(|r| r.rsplit('/').next()) {
        return placeholder(&root["$defs"][name], root);
    }
    if let Some(first) = schema["enum"].get(0) {
        return first.clone();
    }
    let kind = match &schema["type"] {
        Value::Array(kinds) => kinds.iter().find(|k| *k != "null").cloned().unwrap_or(Value::Null),
        kind => kind.clone(),
    };
    match (kind.as_str(), schema["format"].as_str()) {
        (Some("string"), Some("uuid")) => json!(uuid::Uuid::now_v7()),
        (Some("string"), _) => json!("placeholder"),
        (Some("integer"), _) | (Some("number"), _) => json!(1),
        (Some("boolean"), _) => json!(false),
        (Some("array"), _) => json!([]),
        // A nested object gets its own required properties, so that only
        // the property under test is wrong.
        _ => {
            let mut object = serde_json::Map::new();
            for required in schema["required"].as_array().into_iter().flatten().filter_map(Value::as_str) {
                object.insert(required.into(), placeholder(&schema["properties"][required], root));
            }
            Value::Object(object)
        }
    }
}

#[tokio::test]
async fn every_tool_refuses_an_unknown_property_and_names_it() {
    let app = TestApp::spawn().await;
    let owner = app.sign_up("strict@mcp.test").await;
    let key = app
        .api_key(
            &owner,
            &["crm:read", "crm:write", "revenue:read", "revenue:write", "marketing:read", "marketing:write", "flows:read", "flows:write"],
        )
        .await;
    let listed = Client::new()
        .post(app.url("/mcp"))
        .bearer_auth(&key)
        .header("accept", "application/json, text/event-stream")
        .header("mcp-protocol-version", "2025-06-18")
        .json(&json!({"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {}}))
        .send()
        .await
        .unwrap()
        .json::<Value>()
        .await
        .unwrap();
    let tools = listed["result"]["tools"].as_array().expect("tools").clone();
    assert_eq!(tools.len(), app::mcp::registry::operations().len(), "every operation is listed");
    let audits_before = app.count("audit_events").await;
    for tool in &tools {
        let name = tool["name"].as_str().unwrap();
        let schema = &tool["inputSchema"];
        assert_eq!(schema["additionalProperties"], false, "{name}");
        let mut arguments = serde_json::Map::new();
        for required in schema["required"].as_array().into_iter().flatten() {
            let property = required.as_str().unwrap();
            arguments.insert(property.into(), placeholder(&schema["properties"][property], schema));
        }
        arguments.insert("zz_unexpected".into(), json!(true));
        let result = call_tool(&app, &key, name, Value::Object(arguments)).await;
        assert_eq!(result["isError"], true, "{name}: {result}");
        let error = &result["structuredContent"]["error"];
        assert_eq!(
            (error["code"].as_str(), error["field"].as_str()),
            (Some("validation_failed"), Some("zz_unexpected")),
            "{name}: {error}"
        );
        assert!(error["request_id"].as_str().is_some_and(|id| id.starts_with("req_")), "{name}: {error}");
    }
    assert_eq!(app.count("audit_events").await, audits_before, "a refused call writes nothing");
}

#[tokio::test]
async fn another_workspaces_records_are_not_found_through_any_tool() {
    let app = TestApp::spawn().await;
    let (alice, mallory) = (app.sign_up("alice@one.test").await, app.sign_up("mallory@two.test").await);
    let scopes = ["crm:read", "crm:write", "revenue:read", "revenue:write"];
    let (alice_key, mallory_key) = (app.api_key(&alice, &scopes).await, app.api_key(&mallory, &scopes).await);
    let lead = call_tool(&app, &alice_key, "create_lead", json!({"name": "Priya", "email": "priya@northstar.test"})).await;
    let lead_id = lead["structuredContent"]["lead"]["id"].clone();
    let company = call_tool(&app, &alice_key, "create_company", json!({"name": "Northstar Studio"})).await;
    let company_id = company["structuredContent"]["company"]["id"].clone();
    let contact = call_tool(&app, &alice_key, "create_contact", json!({"name": "Priya Raman", "company_id": company_id})).await;
    let contact_id = contact["structuredContent"]["contact"]["id"].clone();
    let segment = call_tool(&app, &alice_key, "create_segment", json!({"name": "All", "rules": {"match": "all", "rules": []}})).await;
    let list_id = segment["structuredContent"]["segment"]["id"].clone();
    for (tool, arguments) in [
        ("get_lead", json!({"lead_id": lead_id})),
        ("update_lead", json!({"lead_id": lead_id, "name": "Taken"})),
        ("delete_lead", json!({"lead_id": lead_id})),
        ("get_lead_timeline", json!({"lead_id": lead_id})),
        ("convert_lead", json!({"lead_id": lead_id})),
        ("get_company", json!({"company_id": company_id})),
        ("update_company", json!({"company_id": company_id, "name": "Taken"})),
        ("get_contact", json!({"contact_id": contact_id})),
        ("update_contact", json!({"contact_id": contact_id, "name": "Taken"})),
        ("add_contact_to_company", json!({"contact_id": contact_id, "company_id": company_id})),
        ("get_list", json!({"list_id": list_id})),
        ("delete_list", json!({"list_id": list_id})),
    ] {
        let result = call_tool(&app, &mallory_key, tool, arguments).await;
        assert_eq!(result["isError"], true, "{tool}: {result}");
        assert_eq!(result["structuredContent"]["error"]["code"], "not_found", "{tool}: {result}");
    }
    // A foreign id inside a filter is a field error, as in a REST body.
    let result = call_tool(&app, &mallory_key, "search_leads", json!({"segment_id": list_id})).await;
    let error = &result["structuredContent"]["error"];
    assert_eq!((error["code"].as_str(), error["field"].as_str()), (Some("validation_failed"), Some("segment_id")), "{result}");
    let still_there = call_tool(&app, &alice_key, "get_lead", json!({"lead_id": lead_id})).await;
    assert_eq!(still_there["structuredContent"]["lead"]["name"], "Priya", "{still_there}");
}
