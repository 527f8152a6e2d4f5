//! The companies slice through REST, server functions and pages, and the
//! API conventions it shares with every resource: strict schemas, cursor
//! pagination, idempotency, audit and isolation.

use std::collections::HashSet;

use crate::common::{assert_error_shape, send, server_fn, TestApp};
use reqwest::{Client, Method, StatusCode};
use serde_json::{json, Value};

async fn setup() -> (TestApp, Client, String) {
    let app = TestApp::spawn().await;
    let owner = app.sign_up("owner@acme.test").await;
    let key = app.api_key(&owner, &["crm:read", "crm:write"]).await;
    (app, owner, key)
}

#[tokio::test]
async fn companies_are_created_read_listed_searched_and_updated() {
    let (app, _owner, key) = setup().await;
    let c = Client::new();
    let url = app.url("/api/v1/companies");
    let (status, acme) = send(
        &c,
        Method::POST,
        &url,
        Some(&key),
        Some(json!({"name": "  Acme Corp ", "domain": "https://www.ACME.com/", "website": "https://acme.com", "status": "active", "custom_fields": {"tier": "gold"}})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{acme}");
    assert_eq!(acme["name"], "Acme Corp");
    assert_eq!(acme["domain"], "acme.com");
    assert_eq!(acme["status"], "active");
    assert_eq!(acme["custom_fields"]["tier"], "gold");
    let id = acme["id"].as_str().unwrap().to_string();

    let (status, _) = send(&c, Method::POST, &url, Some(&key), Some(json!({"name": "Globex", "domain": "globex.io"}))).await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, subsidiary) = send(&c, Method::POST, &url, Some(&key), Some(json!({"name": "Acme Labs", "parent_id": id}))).await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(subsidiary["status"], "prospect");
    assert_eq!(subsidiary["parent_id"], id.as_str());

    let (status, got) = send(&c, Method::GET, &format!("{url}/{id}"), Some(&key), None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(got, acme);

    let names = |page: &Value| -> Vec<String> {
        page["data"].as_array().unwrap().iter().map(|c| c["name"].as_str().unwrap().to_string()).collect()
    };
    let (_, all) = send(&c, Method::GET, &url, Some(&key), None).await;
    assert_eq!(names(&all), ["Acme Labs", "Globex", "Acme Corp"]);
    assert!(all["next_cursor"].is_null());
    let (_, found) = send(&c, Method::GET, &format!("{url}?q=ACME"), Some(&key), None).await;
    assert_eq!(names(&found), ["Acme Labs", "Acme Corp"]);
    let (_, by_domain) = send(&c, Method::GET, &format!("{url}?q=globex.io"), Some(&key), None).await;
    assert_eq!(names(&by_domain), ["Globex"]);
    let (_, wildcard) = send(&c, Method::GET, &format!("{url}?q=%25"), Some(&key), None).await;
    assert_eq!(names(&wildcard), Vec::<String>::new(), "% is matched literally");
    let (_, active) = send(&c, Method::GET, &format!("{url}?status=active"), Some(&key), None).await;
    assert_eq!(names(&active), ["Acme Corp"]);
    let (_, unassigned) = send(&c, Method::GET, &format!("{url}?owner=unassigned&q=acme"), Some(&key), None).await;
    assert_eq!(names(&unassigned), ["Acme Labs", "Acme Corp"]);

    let (status, updated) =
        send(&c, Method::PATCH, &format!("{url}/{id}"), Some(&key), Some(json!({"status": "inactive", "website": null}))).await;
    assert_eq!(status, StatusCode::OK, "{updated}");
    assert_eq!(updated["status"], "inactive");
    assert!(updated["website"].is_null());
    assert_eq!(updated["domain"], "acme.com", "absent fields are left alone");
    assert_ne!(updated["updated_at"], acme["updated_at"]);

    // A duplicate domain and a parent cycle are refused.
    let (status, body) = send(&c, Method::POST, &url, Some(&key), Some(json!({"name": "Dup", "domain": "acme.com"}))).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(assert_error_shape(&body), "duplicate_domain");
    let (status, body) = send(&c, Method::PATCH, &format!("{url}/{id}"), Some(&key), Some(json!({"parent_id": subsidiary["id"]}))).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body["error"]["field"], "parent_id");
}

#[tokio::test]
async fn bad_input_gets_a_clear_4xx_and_changes_nothing() {
    let (app, _owner, key) = setup().await;
    let c = Client::new();
    let url = app.url("/api/v1/companies");
    let (_, existing) = send(&c, Method::POST, &url, Some(&key), Some(json!({"name": "Keep"}))).await;
    let id = existing["id"].as_str().unwrap().to_string();
    let audit_before = app.count("audit_events").await;

    let raw = |method: Method, target: String, content_type: &'static str, body: Vec<u8>| {
        c.request(method, target).bearer_auth(&key).header("content-type", content_type).body(body).send()
    };
    let cases: Vec<(Method, String, &str, Vec<u8>, StatusCode, &str, Option<&str>)> = vec![
        (Method::POST, url.clone(), "application/json", b"{\"name\": ".to_vec(), StatusCode::BAD_REQUEST, "malformed_json", None),
        (
            Method::POST,
            url.clone(),
            "application/json",
            b"{\"name\": \"a\"} trailing".to_vec(),
            StatusCode::BAD_REQUEST,
            "malformed_json",
            None,
        ),
        (
            Method::POST,
            url.clone(),
            "application/json",
            b"{\"name\": \"A\", \"colour\": \"red\"}".to_vec(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
            Some("colour"),
        ),
        (
            Method::POST,
            url.clone(),
            "application/json",
            b"{\"name\": 42}".to_vec(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
            Some("name"),
        ),
        (
            Method::POST,
            url.clone(),
            "application/json",
            b"{}".to_vec(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
            Some("name"),
        ),
        (
            Method::POST,
            url.clone(),
            "application/json",
            b"{\"name\": \"   \"}".to_vec(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
            Some("name"),
        ),
        (
            Method::POST,
            url.clone(),
            "application/json",
            b"{\"name\": \"A\", \"status\": \"zombie\"}".to_vec(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
            Some("status"),
        ),
        (
            Method::POST,
            url.clone(),
            "application/json",
            b"{\"name\": \"A\", \"domain\": \"not a domain\"}".to_vec(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
            Some("domain"),
        ),
        (
            Method::POST,
            url.clone(),
            "application/json",
            b"{\"name\": \"A\", \"website\": \"javascript:alert(1)\"}".to_vec(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
            Some("website"),
        ),
        (
            Method::POST,
            url.clone(),
            "application/json",
            b"{\"name\": \"A\", \"owner_id\": \"not-a-uuid\"}".to_vec(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
            Some("owner_id"),
        ),
        (
            Method::POST,
            url.clone(),
            "application/json",
            b"{\"name\": \"A\", \"owner_id\": \"0190c5f0-0000-7000-8000-000000000000\"}".to_vec(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
            Some("owner_id"),
        ),
        (
            Method::POST,
            url.clone(),
            "application/json",
            b"{\"name\": \"A\", \"custom_fields\": [1]}".to_vec(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
            Some("custom_fields"),
        ),
        (
            Method::POST,
            url.clone(),
            "text/plain",
            b"{\"name\": \"A\"}".to_vec(),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            None,
        ),
        (
            Method::POST,
            url.clone(),
            "application/json",
            format!("{{\"name\": \"{}\"}}", "x".repeat(2 * 1024 * 1024)).into_bytes(),
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            None,
        ),
        (
            Method::PATCH,
            format!("{url}/{id}"),
            "application/json",
            b"{\"nme\": \"typo\"}".to_vec(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
            Some("nme"),
        ),
        (
            Method::PATCH,
            format!("{url}/{id}"),
            "application/json",
            b"{\"name\": null}".to_vec(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
            Some("name"),
        ),
        (
            Method::PATCH,
            format!("{url}/not-a-uuid"),
            "application/json",
            b"{\"name\": \"A\"}".to_vec(),
            StatusCode::BAD_REQUEST,
            "bad_request",
            None,
        ),
    ];
    for (method, target, content_type, body, expected_status, expected_code, expected_field) in cases {
        let preview = String::from_utf8_lossy(&body[..body.len().min(60)]).to_string();
        let response = raw(method, target, content_type, body).await.unwrap();
        let status = response.status();
        let body: Value = response.json().await.unwrap();
        assert_eq!(status, expected_status, "{preview}: {body}");
        assert_eq!(assert_error_shape(&body), expected_code, "{preview}: {body}");
        if let Some(field) = expected_field {
            assert_eq!(body["error"]["field"], field, "{preview}: {body}");
        }
    }

    // Query strings are strict too.
    for (query, field) in [
        ("limit=0", "limit"),
        ("limit=101", "limit"),
        ("limit=ten", "limit"),
        ("cursor=zzz", "cursor"),
        ("colour=red", "colour"),
        ("status=zombie", "status"),
        ("owner=bob", "owner"),
    ] {
        let (status, body) = send(&c, Method::GET, &format!("{url}?{query}"), Some(&key), None).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{query}: {body}");
        assert_eq!(body["error"]["field"], field, "{query}: {body}");
    }
    let (status, body) = send(&c, Method::GET, &format!("{url}/12345"), Some(&key), None).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");

    // Nothing changed.
    assert_eq!(app.count("companies").await, 1);
    assert_eq!(app.count("audit_events").await, audit_before);
    let (_, kept) = send(&c, Method::GET, &format!("{url}/{id}"), Some(&key), None).await;
    assert_eq!(kept, existing);
}

#[tokio::test]
async fn cursor_pagination_walks_every_row_once() {
    let (app, _owner, key) = setup().await;
    let c = Client::new();
    let url = app.url("/api/v1/companies");
    for i in 0..7 {
        let (status, _) = send(&c, Method::POST, &url, Some(&key), Some(json!({"name": format!("Company {i}")}))).await;
        assert_eq!(status, StatusCode::CREATED);
    }
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    let mut pages = 0;
    loop {
        let target = match &cursor {
            Some(c) => format!("{url}?limit=3&cursor={c}"),
            None => format!("{url}?limit=3"),
        };
        let (status, page) = send(&c, Method::GET, &target, Some(&key), None).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        pages += 1;
        for company in page["data"].as_array().unwrap() {
            seen.push(company["name"].as_str().unwrap().to_string());
        }
        match page["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_string()),
            None => break,
        }
    }
    assert_eq!(pages, 3);
    let expected: Vec<String> = (0..7).rev().map(|i| format!("Company {i}")).collect();
    assert_eq!(seen, expected, "newest first, no gaps, no repeats");
}

#[tokio::test]
async fn idempotency_keys_replay_refuse_reuse_and_collapse_concurrent_duplicates() {
    let (app, _owner, key) = setup().await;
    let c = Client::new();
    let url = app.url("/api/v1/companies");
    let post = |idem: &'static str, body: Value| c.post(&url).bearer_auth(&key).header("idempotency-key", idem).json(&body).send();
    let first = post("create-initech", json!({"name": "Initech"})).await.unwrap();
    assert_eq!(first.status(), StatusCode::CREATED);
    let first_body: Value = first.json().await.unwrap();
    let replay = post("create-initech", json!({"name": "Initech"})).await.unwrap();
    assert_eq!(replay.status(), StatusCode::CREATED);
    assert_eq!(replay.headers()["idempotent-replayed"], "true");
    let replay_body: Value = replay.json().await.unwrap();
    assert_eq!(replay_body, first_body);
    assert_eq!(app.count("companies").await, 1);

    let reuse = post("create-initech", json!({"name": "Initrode"})).await.unwrap();
    assert_eq!(reuse.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let reuse_body: Value = reuse.json().await.unwrap();
    assert_error_shape(&reuse_body);
    assert_eq!(app.count("companies").await, 1);

    // The same key on another endpoint is another request.
    let id = first_body["id"].as_str().unwrap();
    let patch = c
        .patch(format!("{url}/{id}"))
        .bearer_auth(&key)
        .header("idempotency-key", "create-initech")
        .json(&json!({"name": "Initech"}))
        .send()
        .await
        .unwrap();
    assert_eq!(patch.status(), StatusCode::UNPROCESSABLE_ENTITY);

    // A failed write frees its key.
    let failed = post("retry-me", json!({"name": ""})).await.unwrap();
    assert_eq!(failed.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let retried = post("retry-me", json!({"name": ""})).await.unwrap();
    assert_eq!(retried.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(retried.headers().get("idempotent-replayed").is_none());

    // Twenty concurrent duplicates make one company and one answer.
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..20 {
        let c = c.clone();
        let url = url.clone();
        let key = key.clone();
        tasks.spawn(async move {
            let response =
                c.post(&url).bearer_auth(&key).header("idempotency-key", "burst").json(&json!({"name": "Burst Inc"})).send().await.unwrap();
            (response.status(), response.json::<Value>().await.unwrap())
        });
    }
    let mut ids = HashSet::new();
    while let Some(result) = tasks.join_next().await {
        let (status, body) = result.unwrap();
        assert_eq!(status, StatusCode::CREATED, "{body}");
        ids.insert(body["id"].as_str().unwrap().to_string());
    }
    assert_eq!(ids.len(), 1);
    assert_eq!(app.count("companies").await, 2);
}

#[tokio::test]
async fn idempotency_keys_expire_after_their_replay_window() {
    use app::platform::housekeeping::{expire_idempotency_keys, IDEMPOTENCY_WINDOW};
    let (app, _owner, key) = setup().await;
    let c = Client::new();
    let url = app.url("/api/v1/companies");
    let post = || c.post(&url).bearer_auth(&key).header("idempotency-key", "nightly-sync").json(&json!({"name": "Nightly"})).send();
    let first: Value = post().await.unwrap().json().await.unwrap();

    // Inside the window the sweep keeps the key and the retry replays.
    let now = chrono::Utc::now();
    assert_eq!(expire_idempotency_keys(&app.db, now - IDEMPOTENCY_WINDOW).await.unwrap(), 0);
    let replay = post().await.unwrap();
    assert_eq!(replay.headers()["idempotent-replayed"], "true");
    assert_eq!(app.count("idempotency_keys").await, 1);

    // Past it (a day later) the key is gone and the same request is new.
    let day_later = now + IDEMPOTENCY_WINDOW + chrono::Duration::seconds(1);
    assert_eq!(expire_idempotency_keys(&app.db, day_later - IDEMPOTENCY_WINDOW).await.unwrap(), 1);
    let again = post().await.unwrap();
    assert_eq!(again.status(), StatusCode::CREATED);
    assert!(again.headers().get("idempotent-replayed").is_none());
    let again: Value = again.json().await.unwrap();
    assert_ne!(again["id"], first["id"]);
    assert_eq!(app.count("companies").await, 2);
}

#[tokio::test]
async fn every_write_leaves_an_audit_event_with_before_and_after() {
    let (app, owner, key) = setup().await;
    let c = Client::new();
    let url = app.url("/api/v1/companies");
    let (_, company) = send(&c, Method::POST, &url, Some(&key), Some(json!({"name": "Audited"}))).await;
    let id = company["id"].as_str().unwrap();
    let (_, _) = send(&owner, Method::PATCH, &format!("{url}/{id}"), None, Some(json!({"status": "active"}))).await;

    let (status, page) =
        send(&c, Method::GET, &app.url(&format!("/api/v1/audit-events?entity_type=company&entity_id={id}")), Some(&key), None).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    let events = page["data"].as_array().unwrap();
    assert_eq!(events.len(), 2);
    let (update, create) = (&events[0], &events[1]);
    assert_eq!(create["action"], "company.created");
    assert!(create["before"].is_null());
    assert_eq!(create["after"]["name"], "Audited");
    assert!(create["actor_api_key_id"].is_string());
    assert!(create["actor_user_id"].is_null());
    assert!(create["request_id"].is_string());
    assert_eq!(update["action"], "company.updated");
    assert_eq!(update["before"]["status"], "prospect");
    assert_eq!(update["after"]["status"], "active");
    assert!(update["actor_user_id"].is_string());

    // Sign-up and key creation were audited too.
    let (_, all) = send(&c, Method::GET, &app.url("/api/v1/audit-events?limit=100"), Some(&key), None).await;
    let actions: Vec<&str> = all["data"].as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
    assert_eq!(actions, ["company.updated", "company.created", "api_key.created", "workspace.created"]);
}

#[tokio::test]
async fn one_workspace_cannot_see_or_touch_another() {
    let app = TestApp::spawn().await;
    let alice = app.sign_up("alice@a.test").await;
    let bob = app.sign_up("bob@b.test").await;
    let alice_key = app.api_key(&alice, &["crm:read", "crm:write"]).await;
    let bob_key = app.api_key(&bob, &["crm:read", "crm:write"]).await;
    let c = Client::new();
    let url = app.url("/api/v1/companies");
    let (_, secret) =
        send(&c, Method::POST, &url, Some(&alice_key), Some(json!({"name": "Alice Secret Co", "domain": "shared.com"}))).await;
    let id = secret["id"].as_str().unwrap();
    let (_, alice_keys) = send(&alice, Method::GET, &app.url("/api/v1/api-keys"), None, None).await;
    let alice_key_id = alice_keys[0]["id"].as_str().unwrap();

    // Bob, by key and by session, gets 404 for every one of Alice's resources.
    for (client, bearer) in [(&c, Some(bob_key.as_str())), (&bob, None)] {
        let (status, body) = send(client, Method::GET, &format!("{url}/{id}"), bearer, None).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
        assert_eq!(assert_error_shape(&body), "not_found");
        let (status, _) = send(client, Method::PATCH, &format!("{url}/{id}"), bearer, Some(json!({"name": "Pwned"}))).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        let (_, list) = send(client, Method::GET, &url, bearer, None).await;
        assert_eq!(list["data"], json!([]));
        let (_, list) = send(client, Method::GET, &format!("{url}?q=secret"), bearer, None).await;
        assert_eq!(list["data"], json!([]));
        let (_, events) = send(client, Method::GET, &app.url(&format!("/api/v1/audit-events?entity_id={id}")), bearer, None).await;
        assert_eq!(events["data"], json!([]), "{events}");
    }
    let (status, _) = send(&bob, Method::POST, &app.url(&format!("/api/v1/api-keys/{alice_key_id}/revoke")), None, None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    // Bob cannot point his records at Alice's.
    let (status, body) = send(&c, Method::POST, &url, Some(&bob_key), Some(json!({"name": "Child", "parent_id": id}))).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    // Domains are unique per workspace, not globally.
    let (status, _) = send(&c, Method::POST, &url, Some(&bob_key), Some(json!({"name": "Bob Co", "domain": "shared.com"}))).await;
    assert_eq!(status, StatusCode::CREATED);
    // Idempotency keys are per principal: Bob's same key is his own.
    let (_, alice_page) = send(&c, Method::GET, &format!("{url}/{id}"), Some(&alice_key), None).await;
    assert_eq!(alice_page["name"], "Alice Secret Co");
    let (status, _) = send(&c, Method::GET, &format!("{url}/{id}"), Some(&alice_key), None).await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn pages_render_on_the_server_and_server_functions_share_the_operations() {
    let (app, owner, key) = setup().await;
    let c = Client::new();
    let (_, company) =
        send(&c, Method::POST, &app.url("/api/v1/companies"), Some(&key), Some(json!({"name": "Rendered Ltd", "domain": "rendered.io"})))
            .await;
    let id = company["id"].as_str().unwrap();

    let html = owner.get(app.url("/companies")).send().await.unwrap().text().await.unwrap();
    assert!(html.contains("Rendered Ltd"), "list page renders the company");
    assert!(html.contains("/pkg/corral.js"), "page loads the hydration bundle");
    let html = owner.get(app.url(&format!("/companies/{id}"))).send().await.unwrap().text().await.unwrap();
    assert!(html.contains("rendered.io"));
    // The page is written in the workspace's formats, read with the member.
    let mut tx = app.db.begin().await.unwrap();
    tx.execute(app::platform::db::Q::new("UPDATE workspaces SET locale = 'de-DE', time_zone = 'Europe/Berlin'")).await.unwrap();
    tx.commit().await.unwrap();
    let html = owner.get(app.url("/companies")).send().await.unwrap().text().await.unwrap();
    assert!(html.contains(r#"name="corral-formats" content="de-DE|Europe/Berlin""#), "{html}");
    let html = Client::new().get(app.url("/companies")).send().await.unwrap().text().await.unwrap();
    assert!(html.contains(r#"name="corral-formats" content="en-US|UTC""#), "visitors get the defaults");
    assert!(!html.contains("Rendered Ltd"), "visitors see no data");
    assert!(html.contains("sign in"));

    // The form's server function writes through the same operation: audited,
    // validated, workspace-scoped.
    let (status, _) = server_fn(
        &owner,
        &app,
        "create_company",
        &[
            ("form[name]", "Via Server Fn"),
            ("form[domain]", "serverfn.dev"),
            ("form[website]", ""),
            ("form[status]", "active"),
            ("form[employee_count]", "12"),
        ],
    )
    .await;
    assert!(status.is_success() || status.is_redirection(), "{status}");
    let (_, list) = send(&c, Method::GET, &app.url("/api/v1/companies?q=server"), Some(&key), None).await;
    assert_eq!(list["data"][0]["name"], "Via Server Fn");
    assert_eq!(list["data"][0]["status"], "active");
    assert_eq!(list["data"][0]["employee_count"], 12);
    let (_, events) = send(&c, Method::GET, &app.url("/api/v1/audit-events?action=company.created"), Some(&key), None).await;
    assert_eq!(events["data"].as_array().unwrap().len(), 2);

    let (status, _) = server_fn(&owner, &app, "create_company", &[("form[name]", "Bad"), ("form[domain]", "no spaces allowed.com")]).await;
    assert!(status.is_server_error() || status.is_client_error());
    let (_, list) = send(&c, Method::GET, &app.url("/api/v1/companies"), Some(&key), None).await;
    assert_eq!(list["data"].as_array().unwrap().len(), 2);

    let (anonymous, _) = server_fn(&Client::new(), &app, "create_company", &[("name", "Anon")]).await;
    assert!(!anonymous.is_success());
    let (_, list) = send(&c, Method::GET, &app.url("/api/v1/companies"), Some(&key), None).await;
    assert_eq!(list["data"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn the_body_limit_error_names_the_configured_limit() {
    let app = TestApp::spawn_with(crate::common::Config { max_body_bytes: 64 * 1024, ..crate::common::test_config() }).await;
    let owner = app.sign_up("limits@example.com").await;
    let key = app.api_key(&owner, &["crm:write"]).await;
    let body = json!({"name": "x".repeat(100 * 1024)});
    let (status, response) = send(&Client::new(), Method::POST, &app.url("/api/v1/companies"), Some(&key), Some(body)).await;
    assert_eq!((status, assert_error_shape(&response).as_str()), (StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large"));
    assert!(response["error"]["message"].as_str().unwrap().contains("65536 bytes"), "{response}");
    assert_eq!(app.count("companies").await, 0);
}
