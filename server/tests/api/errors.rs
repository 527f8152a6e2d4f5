//! Errors name what went wrong the same way over REST and through the
//! server functions: a unique violation names its field, and a server
//! function's error carries `code`, `message` and `field` for the page.

use reqwest::{Client, Method, StatusCode};
use serde_json::json;

use app::error::AppError;
use app::platform::db::Q;

use crate::common::{assert_error_shape, send, server_fn, TestApp};

#[tokio::test]
async fn a_taken_value_is_refused_naming_its_field_over_rest_and_forms() {
    let app = TestApp::spawn().await;
    let owner = app.sign_up("owner@errors.test").await;
    let key = app.api_key(&owner, &["crm:read", "crm:write", "revenue:write"]).await;
    let rest = Client::new();
    let post = |path: &'static str, body: serde_json::Value| {
        let (rest, url, key) = (rest.clone(), app.url(path), key.clone());
        async move { send(&rest, Method::POST, &url, Some(&key), Some(body)).await }
    };

    // Checked by the operation, with the record that holds the value.
    let (status, _) = post("/api/v1/companies", json!({"name": "Acme", "domain": "acme.com"})).await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, body) = post("/api/v1/companies", json!({"name": "Acme again", "domain": "acme.com"})).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(assert_error_shape(&body), "duplicate_domain");
    assert_eq!(body["error"]["field"], "domain");
    for (path, first, field) in [
        ("/api/v1/contacts", json!({"name": "Ann", "email": "ann@acme.com"}), "email"),
        ("/api/v1/ledger-accounts", json!({"code": "1999", "name": "Petty cash", "account_type": "asset"}), "code"),
    ] {
        let (status, created) = post(path, first.clone()).await;
        assert_eq!(status, StatusCode::CREATED, "{path}: {created}");
        let (status, body) = post(path, first).await;
        assert_eq!(status, StatusCode::CONFLICT, "{path}: {body}");
        assert_eq!(body["error"]["field"], field, "{path}: {body}");
    }

    let (status, _) = post("/api/v1/lists", json!({"name": "VIP"})).await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, body) = post("/api/v1/lists", json!({"name": "VIP"})).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert_eq!(body["error"]["field"], "name");

    // What only the database's unique index catches (a concurrent write
    // that passed the operation's check) names the field too, on both
    // backends: the column comes from the index's error.
    let (status, _) = post("/api/v1/companies", json!({"name": "Other", "domain": "other.com"})).await;
    assert_eq!(status, StatusCode::CREATED);
    let mut tx = app.db.begin().await.unwrap();
    let error = tx.execute(Q::new("UPDATE companies SET domain = 'acme.com' WHERE domain = 'other.com'")).await.unwrap_err();
    drop(tx);
    let error = AppError::from(error);
    assert_eq!((error.status(), error.code(), error.field()), (axum::http::StatusCode::CONFLICT, "conflict", Some("domain")));
    assert_eq!(error.public_message(), "a company with this domain already exists");

    // The page's form gets the same code and field.
    let (status, body) = server_fn(&owner, &app, "create_company", &[("form[name]", "Acme by page"), ("form[domain]", "acme.com")]).await;
    assert!(status.is_server_error() || status.is_client_error(), "{status}");
    assert_eq!(body["code"], "duplicate_domain", "{body}");
    assert_eq!(body["field"], "domain", "{body}");
    assert!(body["message"].as_str().unwrap().contains("acme.com"), "{body}");
    let (_, body) = server_fn(&owner, &app, "create_static_list", &[("name", "VIP"), ("entity", "lead")]).await;
    assert_eq!((body["code"].as_str(), body["field"].as_str()), (Some("name_taken"), Some("name")), "{body}");
    assert_eq!(app.count("companies").await, 2, "nothing refused was written");
}

#[tokio::test]
async fn server_functions_answer_with_code_message_and_field() {
    let app = TestApp::spawn().await;
    // No session: the page offers the log-in link because of the code.
    let (_, body) = server_fn(&app.browser(), &app, "list_leads", &[]).await;
    assert_eq!(body["code"], "unauthenticated", "{body}");
    assert!(body["message"].is_string());

    let owner = app.sign_up("owner@fields.test").await;
    // A form value the server function cannot read names its input.
    let (_, body) = server_fn(&owner, &app, "create_lead", &[("name", "Lead"), ("source", "carrier pigeon")]).await;
    assert_eq!((body["code"].as_str(), body["field"].as_str()), (Some("validation_failed"), Some("source")), "{body}");
    // A value the operation refuses names the operation's field.
    let (_, body) = server_fn(&owner, &app, "create_lead", &[("name", "Lead"), ("email", "not an email")]).await;
    assert_eq!((body["code"].as_str(), body["field"].as_str()), (Some("validation_failed"), Some("email")), "{body}");
    let (status, body) = server_fn(&owner, &app, "create_lead", &[("name", "Lead"), ("email", "lead@example.com")]).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(app.count("leads").await, 1);
}

/// PostgreSQL stores no NUL in text and no `\u0000` in JSONB; found by
/// schemathesis as 500s on PostgreSQL. Now a 422 naming the field on both
/// backends, for bodies, custom fields and query strings, and nothing is written.
#[tokio::test]
async fn a_nul_character_is_refused_naming_the_field() {
    let api = crate::common::Api::new("nul@errors.test", &["crm:read", "crm:write"]).await;
    let before = api.app.count("leads").await;
    for (path, body, field) in [
        ("/leads", json!({"name": "Pri\u{0}ya"}), "name"),
        ("/leads", json!({"name": "Priya", "custom_fields": {"note": "a\u{0}b"}}), "custom_fields.note"),
        ("/deals", json!({"name": "Deal", "custom_fields": {"k\u{0}": 1}}), "custom_fields"),
    ] {
        let (status, error) = api.call(reqwest::Method::POST, path, Some(body)).await;
        assert_eq!((status.as_u16(), error["error"]["field"].as_str()), (422, Some(field)), "{path}: {error}");
    }
    for path in ["/leads?q=a%00b", "/contacts?q=%00", "/audit-events?action=%00"] {
        let (status, error) = api.call(reqwest::Method::GET, path, None).await;
        assert_eq!(status.as_u16(), 422, "{path}: {error}");
    }
    assert_eq!(api.app.count("leads").await, before);

    // An upload whose header row holds a NUL (found by schemathesis: its
    // audit row could not be stored on PostgreSQL).
    let response = api
        .client
        .post(api.app.url("/api/v1/imports?entity=company&dedup=create"))
        .bearer_auth(&api.key)
        .header("content-type", "text/csv")
        .body("name\u{0}x,domain\nAcme,acme.test\n")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 422);
    let error: serde_json::Value = response.json().await.unwrap();
    assert_eq!(error["error"]["field"], "file", "{error}");
    assert_eq!(api.app.count("imports").await, 0);
}
