//! Onboarding: sample data loaded into an empty workspace through the
//! operations every client uses (so the books balance and the audit trail
//! has it), removed in one step without touching the workspace's own
//! records, refused where removing would break the books; `corral demo`
//! does the same from the command line; the sidebar follows the role.

use reqwest::{Client, Method, StatusCode};
use serde_json::{json, Value};

use crate::common::{send, test_config, TestApp};

async fn call(app: &TestApp, client: &Client, method: Method, path: &str, body: Option<Value>) -> (StatusCode, Value) {
    send(client, method, &app.url(&format!("/api/v1{path}")), None, body).await
}

async fn ok(app: &TestApp, client: &Client, method: Method, path: &str, body: Option<Value>) -> Value {
    let (status, value) = call(app, client, method.clone(), path, body).await;
    assert!(status.is_success(), "{method} {path}: {status} {value}");
    value
}

/// Rows of the sample-bearing tables, for "nothing changed" checks.
async fn table_counts(app: &TestApp) -> Vec<(&'static str, i64)> {
    let mut counts = Vec::new();
    for table in [
        "companies",
        "contacts",
        "leads",
        "deals",
        "activities",
        "tasks",
        "invoices",
        "payments",
        "journal_entries",
        "lists",
        "campaigns",
        "email_sequences",
        "approval_requests",
        "sample_records",
    ] {
        counts.push((table, app.count(table).await));
    }
    counts
}

async fn invite(app: &TestApp, owner: &Client, email: &str, role: &str) -> Client {
    let (status, invitation) = call(app, owner, Method::POST, "/invitations", Some(json!({"email": email, "role": role}))).await;
    assert_eq!(status, StatusCode::CREATED, "{invitation}");
    let member = app.browser();
    let (status, me) = call(
        app,
        &member,
        Method::POST,
        "/invitations/accept",
        Some(json!({"token": invitation["token"], "name": format!("A {role}"), "password": "another good password"})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{me}");
    member
}

#[tokio::test]
async fn sample_data_loads_into_an_empty_workspace_and_is_removed_in_one_step() {
    let app = TestApp::spawn_with(test_config()).await;
    let owner = app.sign_up("owner@onboarding.test").await;

    let onboarding = ok(&app, &owner, Method::GET, "/workspace/onboarding", None).await;
    assert_eq!(onboarding["empty"], true, "{onboarding}");
    assert_eq!(onboarding["sample_data_loaded"], false);
    assert_eq!(onboarding["can_manage_sample_data"], true);
    let keys: Vec<&str> = onboarding["steps"].as_array().unwrap().iter().map(|s| s["key"].as_str().unwrap()).collect();
    assert_eq!(keys, ["import_leads", "create_api_key", "connect_agent"]);
    assert!(onboarding["steps"].as_array().unwrap().iter().all(|s| s["done"] == false));

    // Members who are not admins cannot load it; nothing is written.
    let member = invite(&app, &owner, "member@onboarding.test", "member").await;
    let (status, body) = call(&app, &member, Method::POST, "/workspace/sample-data", None).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert_eq!(app.count("sample_records").await, 0);

    let (status, summary) = call(&app, &owner, Method::POST, "/workspace/sample-data", None).await;
    assert_eq!(status, StatusCode::CREATED, "{summary}");
    assert_eq!(
        summary,
        json!({"companies": 8, "contacts": 12, "leads": 28, "deals": 14, "activities": 8, "tasks": 3, "invoices": 4,
               "payments": 2, "segments": 1, "campaigns": 1, "sequences": 1})
    );
    let (status, again) = call(&app, &owner, Method::POST, "/workspace/sample-data", None).await;
    assert_eq!((status, again["error"]["code"].as_str()), (StatusCode::CONFLICT, Some("sample_data_loaded")), "{again}");

    // What a new user then sees: leads from several sources over several
    // weeks, deals in every stage, a balanced ledger, receivables of
    // several ages, a sequence in the approval queue.
    let dashboard = ok(&app, &owner, Method::GET, "/dashboard", None).await;
    let sources = dashboard["leads_by_source"].as_array().unwrap();
    assert!(sources.len() >= 5, "{dashboard}");
    assert!(dashboard["new_leads_per_week"].as_array().unwrap().len() >= 8, "{dashboard}");
    assert_eq!((dashboard["won_deals"].as_i64(), dashboard["lost_deals"].as_i64()), (Some(3), Some(1)));
    let board = ok(&app, &owner, Method::GET, "/pipeline", None).await;
    assert!(board.as_array().unwrap().iter().all(|column| column["count"].as_i64().unwrap() > 0), "{board}");
    let balance = ok(&app, &owner, Method::GET, "/trial-balance", None).await;
    assert_eq!(balance["balanced"], true, "{balance}");
    let aging = ok(&app, &owner, Method::GET, "/receivables/aging", None).await;
    assert_eq!(aging["rows"].as_array().unwrap().len(), 2, "one invoice is paid in full: {aging}");
    let queue = ok(&app, &owner, Method::GET, "/marketing/approvals", None).await;
    assert_eq!(queue.as_array().unwrap().len(), 1, "{queue}");
    assert!(queue[0]["audience_size"].as_i64().unwrap() > 0, "{queue}");
    assert_eq!(app.count_where("audit_events", "action = 'sample_data.loaded'").await, 1);
    assert!(app.count_where("audit_events", "action = 'lead.created'").await >= 28, "every record is audited by its own operation");
    let onboarding = ok(&app, &owner, Method::GET, "/workspace/onboarding", None).await;
    assert_eq!((onboarding["empty"].as_bool(), onboarding["sample_data_loaded"].as_bool()), (Some(false), Some(true)));

    // The workspace's own records, one of them linked to a sample company.
    let own_company = ok(&app, &owner, Method::POST, "/companies", Some(json!({"name": "Our First Customer"}))).await;
    let sample_company = ok(&app, &owner, Method::GET, "/companies?q=Northwind", None).await["data"][0]["id"].clone();
    let own_deal =
        ok(&app, &owner, Method::POST, "/deals", Some(json!({"name": "Our own deal", "company_id": sample_company, "amount_cents": 5000})))
            .await;
    let own_lead = ok(&app, &owner, Method::POST, "/leads", Some(json!({"name": "Our own lead", "email": "own@lead.test"}))).await;

    // An invoice of our own for a sample company blocks the removal:
    // nothing is removed.
    let blocking = ok(
        &app,
        &owner,
        Method::POST,
        "/invoices",
        Some(json!({"company_id": sample_company,
        "lines": [{"kind": "service", "description": "Consulting", "quantity": 1, "unit_amount_cents": 10_000}]})),
    )
    .await;
    let before = table_counts(&app).await;
    let (status, refused) = call(&app, &member, Method::DELETE, "/workspace/sample-data", None).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{refused}");
    let (status, refused) = call(&app, &owner, Method::DELETE, "/workspace/sample-data", None).await;
    assert_eq!((status, refused["error"]["code"].as_str()), (StatusCode::CONFLICT, Some("sample_data_in_use")), "{refused}");
    assert!(refused["error"]["message"].as_str().unwrap().contains("invoice"), "{refused}");
    assert_eq!(table_counts(&app).await, before, "a refused removal changes nothing");
    ok(&app, &owner, Method::PATCH, &format!("/invoices/{}", blocking["id"].as_str().unwrap()), Some(json!({"company_id": null}))).await;

    let removed = ok(&app, &owner, Method::DELETE, "/workspace/sample-data", None).await;
    assert_eq!(removed, summary);
    for (table, expected) in [
        ("companies", 1),
        ("contacts", 0),
        ("leads", 1),
        ("deals", 1),
        ("payments", 0),
        ("invoices", 1),
        ("journal_entries", 0),
        ("lists", 0),
        ("campaigns", 0),
        ("email_sequences", 0),
        ("approval_requests", 0),
        ("activities", 0),
        ("tasks", 0),
        ("sample_records", 0),
    ] {
        assert_eq!(app.count(table).await, expected, "{table} after removal");
    }
    let deal = ok(&app, &owner, Method::GET, &format!("/deals/{}", own_deal["id"].as_str().unwrap()), None).await;
    assert_eq!(deal["company_id"], Value::Null, "our deal stays, without its link to the sample company");
    ok(&app, &owner, Method::GET, &format!("/companies/{}", own_company["id"].as_str().unwrap()), None).await;
    ok(&app, &owner, Method::GET, &format!("/leads/{}", own_lead["id"].as_str().unwrap()), None).await;
    assert_eq!(ok(&app, &owner, Method::GET, "/trial-balance", None).await["balanced"], true);
    assert_eq!(app.count_where("audit_events", "action = 'sample_data.removed'").await, 1);
    let (status, body) = call(&app, &owner, Method::DELETE, "/workspace/sample-data", None).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");

    // And it can come back.
    let (status, _) = call(&app, &owner, Method::POST, "/workspace/sample-data", None).await;
    assert_eq!(status, StatusCode::CREATED);
}

#[tokio::test]
async fn corral_demo_loads_and_removes_sample_data_from_the_command_line() {
    let app = TestApp::spawn_with(test_config()).await;
    // The command runs on a blocking thread: blocking the test's runtime
    // would freeze the in-process server mid-transaction and leave the CLI
    // waiting for SQLite's lock.
    let database_url = app.database_url();
    let demo = |args: &[&str]| {
        let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_corral"));
        command.arg("demo").args(args).env("DATABASE_URL", database_url).env("RUST_LOG", "warn");
        async move { tokio::task::spawn_blocking(move || command.output().expect("run corral demo")).await.unwrap() }
    };
    let out = demo(&[]).await;
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let printed: Value = serde_json::from_slice(&out.stdout).expect("one JSON line");
    assert_eq!(printed["sample_data"], "loaded");
    assert_eq!(printed["records"]["deals"], 14);
    let slug = printed["workspace"].as_str().unwrap().to_string();

    // The printed log-in works and shows the sample data.
    let browser = app.browser();
    let (status, me) = call(&app, &browser, Method::POST, "/auth/login", Some(printed["log_in"].clone())).await;
    assert_eq!(status, StatusCode::OK, "{me}");
    assert_eq!(ok(&app, &browser, Method::GET, "/leads?limit=100", None).await["data"].as_array().unwrap().len(), 28);

    let out = demo(&["--workspace", &slug, "--remove"]).await;
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(ok(&app, &browser, Method::GET, "/leads", None).await["data"].as_array().unwrap().len(), 0);
    let out = demo(&["--workspace", "no-such-workspace"]).await;
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("no workspace"), "{}", String::from_utf8_lossy(&out.stderr));
}

#[tokio::test]
async fn the_sidebar_follows_the_role_and_approvers_land_on_the_queue() {
    let app = TestApp::spawn_with(test_config()).await;
    let owner = app.sign_up("owner@sidebar.test").await;
    ok(&app, &owner, Method::POST, "/workspace/sample-data", None).await;
    let approver = invite(&app, &owner, "approver@sidebar.test", "approver").await;
    let member = invite(&app, &owner, "member@sidebar.test", "member").await;

    // The server function behind the sidebar, as the browser calls it.
    let sidebar = |client: Client| {
        let url = app.url("/sf/navigation");
        async move {
            let response = client.post(url).header("content-type", "application/x-www-form-urlencoded").body("").send().await.unwrap();
            assert_eq!(response.status(), StatusCode::OK);
            response.json::<Value>().await.unwrap()
        }
    };
    let links = |nav: &Value| -> Vec<String> {
        nav["groups"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|g| g["items"].as_array().unwrap().iter())
            .map(|i| i["href"].as_str().unwrap().to_string())
            .collect()
    };
    let groups = |nav: &Value| -> Vec<String> {
        nav["groups"].as_array().unwrap().iter().map(|g| g["label"].as_str().unwrap().to_string()).collect()
    };

    let owner_nav = sidebar(owner.clone()).await;
    assert_eq!(groups(&owner_nav), ["Sales", "Audience", "Marketing", "Flows", "Revenue", "Settings"]);
    assert_eq!(owner_nav["home"], "/dashboard");
    assert!(links(&owner_nav).contains(&"/settings/api-keys".to_string()));
    let approvals = owner_nav["groups"][2]["items"].as_array().unwrap().iter().find(|i| i["href"] == "/approvals").unwrap().clone();
    assert_eq!(approvals["badge"], 1, "owners can approve: they see the pending count");

    let member_nav = sidebar(member.clone()).await;
    assert!(
        !links(&member_nav).contains(&"/settings/api-keys".to_string()) && !links(&member_nav).contains(&"/settings/members".to_string())
    );
    let member_approvals = member_nav["groups"][2]["items"].as_array().unwrap().iter().find(|i| i["href"] == "/approvals").unwrap().clone();
    assert_eq!(member_approvals["badge"], Value::Null, "members cannot approve: no count");

    let approver_nav = sidebar(approver.clone()).await;
    assert_eq!(approver_nav["home"], "/approvals");
    assert_eq!(approver_nav["groups"][0]["label"], "Review");
    assert_eq!(approver_nav["groups"][0]["items"][0]["badge"], 1);
    for hidden in ["/imports", "/forms", "/enrichment", "/settings/stages", "/settings/members"] {
        assert!(!links(&approver_nav).contains(&hidden.to_string()), "{hidden} is not for approvers");
    }

    // Logging in through the page sends approvers to the approval queue.
    let fresh = app.browser();
    let response = fresh
        .post(app.url("/sf/log_in"))
        .form(&[("email", "approver@sidebar.test"), ("password", "another good password")])
        .send()
        .await
        .unwrap();
    let location = response.headers().get("location").map(|v| v.to_str().unwrap().to_string());
    assert_eq!(location.as_deref(), Some("/approvals"), "{}", response.status());
}
