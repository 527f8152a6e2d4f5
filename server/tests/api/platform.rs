//! Accounts, sessions, API keys, invitations, the error shape, idempotency,
//! audit and workspace isolation, through the real HTTP server.

use crate::common::{assert_error_shape, send, TestApp};
use reqwest::{Client, Method, StatusCode};
use serde_json::{json, Value};

#[tokio::test]
async fn sign_up_sets_a_safe_session_cookie_and_log_out_ends_it() {
    let app = TestApp::spawn().await;
    let client = app.browser();
    let response = client
        .post(app.url("/api/v1/auth/signup"))
        .json(&json!({"name": "Ada", "email": "Ada@Example.com", "password": "correct horse battery", "workspace_name": "Acme"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    let cookie = response.headers().get("set-cookie").expect("session cookie").to_str().unwrap().to_string();
    assert!(cookie.starts_with("corral_session="), "{cookie}");
    assert!(cookie.contains("HttpOnly"), "{cookie}");
    assert!(cookie.contains("SameSite=Lax"), "{cookie}");
    let me: Value = response.json().await.unwrap();
    assert_eq!(me["email"], "ada@example.com");
    assert_eq!(me["role"], "owner");
    assert_eq!(me["workspace_name"], "Acme");

    let (status, me) = send(&client, Method::GET, &app.url("/api/v1/me"), None, None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(me["name"], "Ada");

    let (status, _) = send(&client, Method::POST, &app.url("/api/v1/auth/logout"), None, None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, body) = send(&client, Method::GET, &app.url("/api/v1/me"), None, None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(assert_error_shape(&body), "unauthenticated");

    // Passwords are stored as argon2id hashes, never in clear.
    let mut tx = app.db.begin_read().await.unwrap();
    let (hash,): (String,) = tx.fetch_one(app::platform::db::Q::new("SELECT password_hash FROM users")).await.unwrap();
    assert!(hash.starts_with("$argon2id$"), "{hash}");
}

#[tokio::test]
async fn sign_up_validates_and_refuses_a_taken_email() {
    let app = TestApp::spawn().await;
    app.sign_up("taken@example.com").await;
    let client = app.browser();
    let url = app.url("/api/v1/auth/signup");
    let base = json!({"name": "B", "email": "TAKEN@example.com", "password": "correct horse battery", "workspace_name": "W"});
    let (status, body) = send(&client, Method::POST, &url, None, Some(base.clone())).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(assert_error_shape(&body), "email_taken");

    let mut short = base.clone();
    short["email"] = json!("new@example.com");
    short["password"] = json!("short");
    let (status, body) = send(&client, Method::POST, &url, None, Some(short)).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body["error"]["field"], "password");

    let mut bad_email = base.clone();
    bad_email["email"] = json!("not-an-email");
    let (status, body) = send(&client, Method::POST, &url, None, Some(bad_email)).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body["error"]["field"], "email");
    assert_eq!(app.count("users").await, 1);
    assert_eq!(app.count("workspaces").await, 1);
}

fn session_cookie(client_cookie_header: &str) -> String {
    client_cookie_header.split(';').next().unwrap().to_string()
}

#[tokio::test]
async fn log_in_rotates_the_session_id_and_wrong_passwords_are_refused() {
    let app = TestApp::spawn().await;
    app.sign_up("rotate@example.com").await;
    let raw = Client::new();
    let login = |password: &'static str, cookie: Option<String>| {
        let mut request = raw.post(app.url("/api/v1/auth/login")).json(&json!({"email": "rotate@example.com", "password": password}));
        if let Some(cookie) = cookie {
            request = request.header("cookie", cookie);
        }
        request.send()
    };
    let first = login("correct horse battery", None).await.unwrap();
    assert_eq!(first.status(), StatusCode::OK);
    let first_cookie = session_cookie(first.headers()["set-cookie"].to_str().unwrap());

    // Logging in again on an existing session issues a new id and retires
    // the old one.
    let second = login("correct horse battery", Some(first_cookie.clone())).await.unwrap();
    assert_eq!(second.status(), StatusCode::OK);
    let second_cookie = session_cookie(second.headers()["set-cookie"].to_str().unwrap());
    assert_ne!(first_cookie, second_cookie);
    let me = |cookie: String| raw.get(app.url("/api/v1/me")).header("cookie", cookie).send();
    assert_eq!(me(second_cookie).await.unwrap().status(), StatusCode::OK);
    assert_eq!(me(first_cookie).await.unwrap().status(), StatusCode::UNAUTHORIZED);

    let wrong = login("wrong password!!", None).await.unwrap();
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    assert!(wrong.headers().get("set-cookie").is_none());
    let body: Value = wrong.json().await.unwrap();
    assert_eq!(assert_error_shape(&body), "unauthenticated");
}

#[tokio::test]
async fn api_keys_are_shown_once_stored_hashed_scoped_and_revocable() {
    let app = TestApp::spawn().await;
    let owner = app.sign_up("keys@example.com").await;
    let secret = app.api_key(&owner, &["crm:read"]).await;
    assert!(secret.starts_with("corral_"), "{secret}");
    assert!(secret.len() > 40);

    // The listing never shows the secret, only its prefix.
    let (status, keys) = send(&owner, Method::GET, &app.url("/api/v1/api-keys"), None, None).await;
    assert_eq!(status, StatusCode::OK);
    let listed = keys.to_string();
    assert!(!listed.contains(&secret));
    assert_eq!(keys[0]["prefix"], secret[..14]);
    assert_eq!(keys[0]["scopes"], json!(["crm:read"]));
    assert!(keys[0]["last_used_at"].is_null());
    let mut tx = app.db.begin_read().await.unwrap();
    let (stored,): (String,) = tx.fetch_one(app::platform::db::Q::new("SELECT secret_hash FROM api_keys")).await.unwrap();
    tx.commit().await.unwrap();
    assert_ne!(stored, secret);
    assert_eq!(stored.len(), 64);

    let anonymous = Client::new();
    let companies = app.url("/api/v1/companies");
    let (status, _) = send(&anonymous, Method::GET, &companies, Some(&secret), None).await;
    assert_eq!(status, StatusCode::OK);
    let (_, keys) = send(&owner, Method::GET, &app.url("/api/v1/api-keys"), None, None).await;
    assert!(keys[0]["last_used_at"].is_string(), "last use recorded: {keys}");

    // Out of scope: 403.
    let (status, body) = send(&anonymous, Method::POST, &companies, Some(&secret), Some(json!({"name": "Nope"}))).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(assert_error_shape(&body), "forbidden");
    assert!(body["error"]["message"].as_str().unwrap().contains("crm:write"));
    assert_eq!(app.count("companies").await, 0);

    // Wrong key and malformed header: 401.
    let (status, body) = send(&anonymous, Method::GET, &companies, Some("corral_not-a-real-key"), None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(assert_error_shape(&body), "unauthenticated");
    let response = anonymous.get(&companies).header("authorization", "Basic abc").send().await.unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);

    // An API key cannot mint keys.
    let (status, _) = send(
        &anonymous,
        Method::POST,
        &app.url("/api/v1/api-keys"),
        Some(&secret),
        Some(json!({"name": "escalate", "scopes": ["crm:write"]})),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    // Revoked: 401 from then on.
    let id = keys[0]["id"].as_str().unwrap();
    let (status, revoked) = send(&owner, Method::POST, &app.url(&format!("/api/v1/api-keys/{id}/revoke")), None, None).await;
    assert_eq!(status, StatusCode::OK);
    assert!(revoked["revoked_at"].is_string());
    let (status, _) = send(&anonymous, Method::GET, &companies, Some(&secret), None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    // Unknown scopes and empty scope lists are refused.
    let (status, body) =
        send(&owner, Method::POST, &app.url("/api/v1/api-keys"), None, Some(json!({"name": "x", "scopes": ["crm:admin"]}))).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body["error"]["field"], "scopes[0]");
    let (status, _) = send(&owner, Method::POST, &app.url("/api/v1/api-keys"), None, Some(json!({"name": "x", "scopes": []}))).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn invited_members_join_with_their_role_and_only_admins_invite() {
    let app = TestApp::spawn().await;
    let owner = app.sign_up("owner@example.com").await;
    let (status, invitation) =
        send(&owner, Method::POST, &app.url("/api/v1/invitations"), None, Some(json!({"email": "member@example.com", "role": "member"})))
            .await;
    assert_eq!(status, StatusCode::CREATED, "{invitation}");
    let token = invitation["token"].as_str().unwrap().to_string();
    let (_, listed) = send(&owner, Method::GET, &app.url("/api/v1/invitations"), None, None).await;
    assert!(listed[0]["token"].is_null(), "tokens are not listed: {listed}");

    let member = app.browser();
    let (status, me) = send(
        &member,
        Method::POST,
        &app.url("/api/v1/invitations/accept"),
        None,
        Some(json!({"token": token, "name": "Mem Ber", "password": "another good password"})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{me}");
    assert_eq!(me["role"], "member");
    let (_, owner_me) = send(&owner, Method::GET, &app.url("/api/v1/me"), None, None).await;
    assert_eq!(me["workspace_id"], owner_me["workspace_id"]);

    // A used invitation cannot be used again.
    let (status, body) = send(
        &app.browser(),
        Method::POST,
        &app.url("/api/v1/invitations/accept"),
        None,
        Some(json!({"token": token, "name": "Again", "password": "another good password"})),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(assert_error_shape(&body), "invitation_used");

    let (_, members) = send(&owner, Method::GET, &app.url("/api/v1/members"), None, None).await;
    assert_eq!(members.as_array().unwrap().len(), 2);

    // Members work with CRM data but do not administer.
    let (status, _) = send(&member, Method::POST, &app.url("/api/v1/companies"), None, Some(json!({"name": "By member"}))).await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, body) =
        send(&member, Method::POST, &app.url("/api/v1/invitations"), None, Some(json!({"email": "x@example.com", "role": "admin"}))).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(assert_error_shape(&body), "forbidden");
    let (status, _) = send(&member, Method::GET, &app.url("/api/v1/api-keys"), None, None).await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    // Approvers read CRM data but cannot write it.
    let (_, invitation) = send(
        &owner,
        Method::POST,
        &app.url("/api/v1/invitations"),
        None,
        Some(json!({"email": "approver@example.com", "role": "approver"})),
    )
    .await;
    let approver = app.browser();
    let (status, _) = send(
        &approver,
        Method::POST,
        &app.url("/api/v1/invitations/accept"),
        None,
        Some(json!({"token": invitation["token"], "name": "Ap Prover", "password": "another good password"})),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = send(&approver, Method::GET, &app.url("/api/v1/companies"), None, None).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = send(&approver, Method::POST, &app.url("/api/v1/companies"), None, Some(json!({"name": "No"}))).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn errors_carry_the_request_id_of_their_response() {
    let app = TestApp::spawn().await;
    let response = Client::new().get(app.url("/api/v1/companies")).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    let header = response.headers()["x-request-id"].to_str().unwrap().to_string();
    let body: Value = response.json().await.unwrap();
    assert_error_shape(&body);
    assert_eq!(body["error"]["request_id"], header);

    let response = Client::new().get(app.url("/api/v1/no-such-thing")).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    let body: Value = response.json().await.unwrap();
    assert_eq!(assert_error_shape(&body), "not_found");

    let response = Client::new().delete(app.url("/api/v1/companies")).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::METHOD_NOT_ALLOWED);
    let body: Value = response.json().await.unwrap();
    assert_error_shape(&body);
}

/// The write guard itself: a write dropped before it commits (an early `?`
/// in a handler, a panic, a cancelled request) leaves nothing behind, and
/// its idempotency key is free for the retry; a finished one replays.
#[tokio::test]
async fn a_dropped_write_rolls_back_and_frees_its_idempotency_key() {
    use app::platform::context::Ctx;
    use app::platform::db::Q;
    use app::platform::transaction::{Claimed, WriteTx};

    let app = TestApp::spawn().await;
    let owner = app.sign_up("guard@platform.test").await;
    let (_, me) = send(&owner, Method::GET, &app.url("/api/v1/me"), None, None).await;
    let workspace_id: uuid::Uuid = me["workspace_id"].as_str().unwrap().parse().unwrap();
    let ctx = Ctx::maintenance(workspace_id);
    let audit_rows = app.count("audit_events").await;
    async fn write_something(tx: &mut app::platform::db::Tx, workspace_id: uuid::Uuid) {
        let row = Q::new(
            "INSERT INTO audit_events (id, workspace_id, action, entity_type, created_at) VALUES ($1, $2, 'guard.test', 'test', $3)",
        )
        .bind(uuid::Uuid::now_v7())
        .bind(workspace_id)
        .bind(app::platform::db::now());
        tx.execute(row).await.unwrap();
    }

    let Claimed::Fresh(mut tx) = WriteTx::begin_idempotent(&app.db, &ctx, "nightly", "POST /x\nbody").await.unwrap() else {
        panic!("a new key is fresh")
    };
    write_something(&mut tx, workspace_id).await;
    drop(tx);
    assert_eq!(app.count("audit_events").await, audit_rows, "the dropped write left nothing");
    assert_eq!(app.count("idempotency_keys").await, 0, "and freed its key");

    let Claimed::Fresh(mut tx) = WriteTx::begin_idempotent(&app.db, &ctx, "nightly", "POST /x\nbody").await.unwrap() else {
        panic!("the retry gets the key")
    };
    write_something(&mut tx, workspace_id).await;
    tx.commit_with_response(201, &serde_json::json!({"done": true})).await.unwrap();
    assert_eq!(app.count("audit_events").await, audit_rows + 1);
    match WriteTx::begin_idempotent(&app.db, &ctx, "nightly", "POST /x\nbody").await.unwrap() {
        Claimed::Replay { status, body } => assert_eq!((status, body), (201, serde_json::json!({"done": true}))),
        Claimed::Fresh(_) => panic!("a finished write replays"),
    }
    let reuse = WriteTx::begin_idempotent(&app.db, &ctx, "nightly", "POST /x\nanother body").await;
    assert!(matches!(reuse, Err(app::error::AppError::Validation { .. })), "another request under the same key is refused");
}
