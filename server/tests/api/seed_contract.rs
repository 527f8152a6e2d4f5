//! The seed is the contract on REST too: its field names and paths work
//! beside Corral's own, through the seed's lead-to-cash sequence.

use reqwest::Method;
use serde_json::json;

use crate::common::Api;

#[tokio::test]
async fn rest_accepts_the_seeds_field_names_and_paths_through_lead_to_cash() {
    let api = Api::new("seed@rest.test", &["crm:read", "crm:write", "revenue:read", "revenue:write"]).await;

    let lead = api
        .ok(
            Method::POST,
            "/leads",
            Some(json!({"name": "Priya", "email": "priya@northstar.test", "company_name": "Northstar Studio", "source": "website"})),
        )
        .await;
    let stage = api
        .ok(Method::POST, "/deal-stages", Some(json!({"key": "legal_review", "name": "Legal review", "custom_fields": {"sla_days": 5}})))
        .await;
    assert_eq!(stage["custom_fields"]["sla_days"], 5, "{stage}");

    // Flat conversion fields, and mixing them with the deal object refused.
    let lead_path = format!("/leads/{}/convert", lead["id"].as_str().unwrap());
    let (status, mixed) =
        api.call(Method::POST, &lead_path, Some(json!({"create_deal": true, "deal_name": "X", "deal": {"name": "Y"}}))).await;
    assert_eq!((status.as_u16(), mixed["error"]["field"].as_str()), (422, Some("deal")), "{mixed}");
    let (status, orphan) = api.call(Method::POST, &lead_path, Some(json!({"deal_name": "X"}))).await;
    assert_eq!((status.as_u16(), orphan["error"]["field"].as_str()), (422, Some("create_deal")), "{orphan}");
    let converted = api
        .ok(
            Method::POST,
            &lead_path,
            Some(json!({"create_deal": true, "deal_name": "Northstar website", "stage_key": "legal_review", "amount_cents": 900000,
                        "currency": "USD", "conversion_reason": "Asked for a quote"})),
        )
        .await;
    let deal = &converted["deal"];
    assert_eq!((deal["name"].as_str(), deal["stage_id"].as_str()), (Some("Northstar website"), stage["id"].as_str()), "{converted}");
    let deal_path = format!("/deals/{}", deal["id"].as_str().unwrap());

    // A deal moves by stage key under either spelling; two different stages are refused.
    let stages = api.ok(Method::GET, "/deal-stages", None).await;
    let won = stages.as_array().unwrap().iter().find(|s| s["kind"] == "won").unwrap().clone();
    let (status, clash) = api.call(Method::PATCH, &deal_path, Some(json!({"stage": "legal_review", "stage_key": won["key"]}))).await;
    assert_eq!((status.as_u16(), clash["error"]["field"].as_str()), (422, Some("stage_key")), "{clash}");
    let moved = api.ok(Method::PATCH, &deal_path, Some(json!({"stage_key": won["key"], "custom_fields": {"motion": "inbound"}}))).await;
    assert_eq!(moved["stage_id"], won["id"], "{moved}");
    let (status, unknown) = api.call(Method::PATCH, &deal_path, Some(json!({"stage": "no_such_stage"}))).await;
    assert_eq!((status.as_u16(), unknown["error"]["field"].as_str()), (422, Some("stage")), "{unknown}");

    // invoice_number and line_items with name.
    let invoice = api
        .ok(
            Method::POST,
            "/invoices",
            Some(json!({"invoice_number": "INV-SEED-1", "company_id": converted["company"]["id"], "currency": "USD",
                        "line_items": [{"kind": "service", "name": "Website build", "description": "Phase one", "quantity": 1,
                                        "unit_amount_cents": 900000}],
                        "custom_fields": {"po": "PO-7"}})),
        )
        .await;
    assert_eq!(invoice["number"], "INV-SEED-1", "{invoice}");
    assert_eq!(invoice["lines"][0]["description"], "Website build — Phase one", "{invoice}");
    assert_eq!(invoice["custom_fields"]["po"], "PO-7");
    let invoice_id = invoice["id"].as_str().unwrap();
    api.ok(Method::POST, &format!("/invoices/{invoice_id}/send"), None).await;

    // A payment with no provider (manual) and the seed's provider_reference_id.
    let payment = api
        .ok(
            Method::POST,
            "/payments",
            Some(json!({"invoice_id": invoice_id, "amount_cents": 900000, "provider_reference_id": "ch_9000", "custom_fields": {"batch": 3}})),
        )
        .await;
    assert_eq!((payment["provider"].as_str(), payment["reference"].as_str()), (Some("manual"), Some("ch_9000")), "{payment}");
    let (status, again) = api
        .call(Method::POST, "/payments", Some(json!({"invoice_id": invoice_id, "amount_cents": 1, "provider_reference_id": "ch_9000"})))
        .await;
    assert_eq!(status.as_u16(), 409, "the same provider reference twice: {again}");

    // The seed's accounting paths, account `type` and `description`, entry `entry_number` and `status`.
    let account = api
        .ok(
            Method::POST,
            "/accounting/accounts",
            Some(json!({"code": "4150", "name": "Website revenue", "type": "revenue", "description": "Build projects", "custom_fields": {"line": "web"}})),
        )
        .await;
    assert_eq!((account["account_type"].as_str(), account["description"].as_str()), (Some("revenue"), Some("Build projects")), "{account}");
    let accounts = api.ok(Method::GET, "/accounting/accounts", None).await;
    let cash = accounts.as_array().unwrap().iter().find(|a| a["account_type"] == "asset").unwrap().clone();
    let entry = api
        .ok(
            Method::POST,
            "/accounting/journal-entries",
            Some(json!({"memo": "Website deposit", "entry_number": "JE-SEED-1", "status": "posted",
                        "lines": [{"account_id": cash["id"], "debit_cents": 900000}, {"account_id": account["id"], "credit_cents": 900000}]})),
        )
        .await;
    assert_eq!((entry["status"].as_str(), entry["entry_number"].as_str()), (Some("posted"), Some("JE-SEED-1")), "{entry}");
    let (status, disagree) = api
        .call(
            Method::POST,
            "/accounting/journal-entries",
            Some(json!({"memo": "x", "status": "draft", "post": true,
                        "lines": [{"account_id": cash["id"], "debit_cents": 1}, {"account_id": account["id"], "credit_cents": 1}]})),
        )
        .await;
    assert_eq!((status.as_u16(), disagree["error"]["field"].as_str()), (422, Some("status")), "{disagree}");
    let listed = api.ok(Method::GET, "/accounting/journal-entries", None).await;
    assert!(listed["data"].as_array().unwrap().iter().any(|e| e["entry_number"] == "JE-SEED-1"), "{listed}");
    let same = api.ok(Method::GET, &format!("/journal-entries/{}", entry["id"].as_str().unwrap()), None).await;
    assert_eq!(same["id"], entry["id"], "both prefixes reach the same journal");
    let balance = api.ok(Method::GET, "/trial-balance", None).await;
    assert_eq!(balance["balanced"], true, "{balance}");
}

/// The seed's shared fields: `workspace_id`, `created_at`, `updated_at`,
/// `source` (how a record was created) and `last_agent_actor_id` (the key
/// that last wrote it), on records made in the browser, by REST and by MCP.
#[tokio::test]
async fn every_crm_record_says_how_it_was_made_and_which_key_last_wrote_it() {
    use crate::common::{send, TestApp};
    let app = TestApp::spawn().await;
    let member = app.sign_up("shared@fields.test").await;
    let key = app.api_key(&member, &["crm:read", "crm:write"]).await;
    let url = |path: &str| app.url(&format!("/api/v1{path}"));

    let (_, by_member) = send(&member, Method::POST, &url("/companies"), None, Some(json!({"name": "Made in the app"}))).await;
    assert_eq!((by_member["source"].as_str(), by_member["last_agent_actor_id"].as_str()), (Some("ui"), None), "{by_member}");
    let (_, me) = send(&member, Method::GET, &url("/me"), None, None).await;
    assert_eq!(by_member["workspace_id"], me["workspace_id"], "{by_member}");

    let company_path = format!("/companies/{}", by_member["id"].as_str().unwrap());
    let (_, touched) = send(&member, Method::PATCH, &url(&company_path), Some(&key), Some(json!({"industry": "Design"}))).await;
    let key_id = touched["last_agent_actor_id"].as_str().expect("a key's write names the key").to_string();
    assert_eq!(touched["source"], "ui", "source is how it was created: {touched}");
    let (_, read_back) = send(&member, Method::GET, &url(&company_path), None, None).await;
    assert_eq!(read_back["last_agent_actor_id"], key_id.as_str(), "stored, not only answered");
    let (_, after_member) = send(&member, Method::PATCH, &url(&company_path), None, Some(json!({"industry": "Print"}))).await;
    assert_eq!(after_member["last_agent_actor_id"], key_id.as_str(), "a member's edit keeps the last agent");

    let (_, by_key) = send(&member, Method::POST, &url("/contacts"), Some(&key), Some(json!({"name": "Made by a script"}))).await;
    assert_eq!((by_key["source"].as_str(), by_key["last_agent_actor_id"].as_str()), (Some("api"), Some(key_id.as_str())), "{by_key}");
    let (_, audit) =
        send(&member, Method::GET, &url(&format!("/audit-events?entity_id={}", by_key["id"].as_str().unwrap())), None, None).await;
    assert_eq!(audit["data"][0]["actor_api_key_id"], key_id.as_str(), "{audit}");

    let body = json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call",
                      "params": {"name": "create_deal", "arguments": {"name": "Made by an agent"}}});
    let answer: serde_json::Value = reqwest::Client::new()
        .post(app.url("/mcp"))
        .bearer_auth(&key)
        .header("accept", "application/json, text/event-stream")
        .json(&body)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let deal = &answer["result"]["structuredContent"]["deal"];
    assert_eq!((deal["source"].as_str(), deal["last_agent_actor_id"].as_str()), (Some("mcp"), Some(key_id.as_str())), "{answer}");
    for record in [&by_member, &by_key, deal] {
        assert_eq!(record["workspace_id"], me["workspace_id"], "{record}");
        assert!(record["created_at"].is_string() && record["updated_at"].is_string(), "{record}");
    }
}
