//! Blog: Markdown drafts behind the approval gate, published by jobs to
//! stand-ins of WordPress, Ghost, Webflow and Sanity on loopback that check
//! each request as the CMS would (auth, path, body), scheduled publishing,
//! and a failed publish retried.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode as HttpStatus, Uri};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use hmac::{Hmac, Mac};
use reqwest::{Client, Method, StatusCode};
use serde_json::{json, Value};
use sha2::Sha256;

use crate::common::{send, test_config, TestApp};
use crate::mcp::call_tool;

const GHOST_KEY_ID: &str = "6489f1e2b1c0aa0001a1b2c3";
const GHOST_SECRET: &str = "a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90";

#[derive(Clone, Debug)]
struct Seen {
    path: String,
    body: Value,
}

struct Cms {
    url: String,
    seen: Arc<Mutex<Vec<Seen>>>,
    /// WordPress answers 503 this many times before it works.
    wordpress_failures: Arc<AtomicUsize>,
}

fn refuse(status: HttpStatus, why: &str) -> Response {
    (status, axum::Json(json!({ "message": why, "code": "rest_invalid" }))).into_response()
}

/// Checks a Ghost Admin API token as Ghost does: HS256 with the key's
/// secret, the key's id as `kid`, audience `/admin/`, at most 5 minutes.
fn ghost_token_ok(header: Option<&str>) -> bool {
    let Some(token) = header.and_then(|h| h.strip_prefix("Ghost ")) else { return false };
    let parts: Vec<&str> = token.split('.').collect();
    if parts.len() != 3 {
        return false;
    }
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let mut mac = Hmac::<Sha256>::new_from_slice(&hex::decode(GHOST_SECRET).unwrap()).unwrap();
    mac.update(format!("{}.{}", parts[0], parts[1]).as_bytes());
    if b64.decode(parts[2]).ok().is_none_or(|sig| mac.verify_slice(&sig).is_err()) {
        return false;
    }
    let head: Value = serde_json::from_slice(&b64.decode(parts[0]).unwrap_or_default()).unwrap_or_default();
    let claims: Value = serde_json::from_slice(&b64.decode(parts[1]).unwrap_or_default()).unwrap_or_default();
    head["alg"] == "HS256"
        && head["kid"] == GHOST_KEY_ID
        && claims["aud"] == "/admin/"
        && claims["exp"].as_i64().unwrap_or(0) - claims["iat"].as_i64().unwrap_or(0) <= 300
}

impl Cms {
    async fn start() -> Cms {
        let seen: Arc<Mutex<Vec<Seen>>> = Arc::default();
        let wordpress_failures = Arc::new(AtomicUsize::new(0));
        let (record, failures) = (seen.clone(), wordpress_failures.clone());
        let router = axum::Router::new().fallback(move |uri: Uri, headers: HeaderMap, body: Bytes| {
            let (record, failures) = (record.clone(), failures.clone());
            async move {
                let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
                record.lock().unwrap().push(Seen { path: uri.path().to_string(), body: body.clone() });
                let auth = headers.get("authorization").and_then(|v| v.to_str().ok());
                match uri.path() {
                    "/wp-json/wp/v2/posts" => {
                        let basic = format!("Basic {}", base64::engine::general_purpose::STANDARD.encode("editor:abcd efgh ijkl mnop"));
                        if auth != Some(basic.as_str()) {
                            return refuse(HttpStatus::UNAUTHORIZED, "Sorry, you are not allowed to create posts as this user.");
                        }
                        if failures.load(Ordering::SeqCst) > 0 {
                            failures.fetch_sub(1, Ordering::SeqCst);
                            return refuse(HttpStatus::SERVICE_UNAVAILABLE, "the database is busy");
                        }
                        if body["status"] != "publish" || !body["content"].as_str().unwrap_or_default().contains("<h2>") {
                            return refuse(HttpStatus::BAD_REQUEST, "Invalid parameter(s): status, content");
                        }
                        (HttpStatus::CREATED, axum::Json(json!({ "id": 42, "link": format!("https://blog.example.test/{}/", body["slug"].as_str().unwrap()) }))).into_response()
                    }
                    "/ghost/api/admin/posts/" => {
                        if uri.query() != Some("source=html") {
                            return refuse(HttpStatus::BAD_REQUEST, "html needs ?source=html");
                        }
                        if !ghost_token_ok(auth) {
                            return refuse(HttpStatus::UNAUTHORIZED, "Invalid token");
                        }
                        let post = &body["posts"][0];
                        if post["status"] != "published" || post["html"].is_null() {
                            return refuse(HttpStatus::UNPROCESSABLE_ENTITY, "Validation error");
                        }
                        (HttpStatus::CREATED, axum::Json(json!({ "posts": [{ "id": "ghost-1", "url": format!("https://ghost.example.test/{}/", post["slug"].as_str().unwrap()) }] }))).into_response()
                    }
                    "/v2/collections/col-77/items/live" => {
                        if auth != Some("Bearer wf-token") || body["fieldData"]["slug"].is_null() || body["isDraft"] != false {
                            return refuse(HttpStatus::BAD_REQUEST, "Validation Error");
                        }
                        (HttpStatus::ACCEPTED, axum::Json(json!({ "id": "wf-item-9", "fieldData": body["fieldData"] }))).into_response()
                    }
                    "/v2021-06-07/data/mutate/production" => {
                        let document = &body["mutations"][0]["createOrReplace"];
                        if auth != Some("Bearer sanity-token") || !document["_id"].as_str().unwrap_or_default().starts_with("corral-") || document["_type"] != "post" {
                            return refuse(HttpStatus::BAD_REQUEST, "invalid mutation");
                        }
                        axum::Json(json!({ "transactionId": "tx1", "results": [{ "id": document["_id"], "operation": "create" }] })).into_response()
                    }
                    _ => refuse(HttpStatus::NOT_FOUND, "no route"),
                }
            }
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
        Cms { url, seen, wordpress_failures }
    }

    fn calls_to(&self, path: &str) -> Vec<Seen> {
        self.seen.lock().unwrap().iter().filter(|s| s.path == path).cloned().collect()
    }
}

struct Blog {
    app: TestApp,
    author: String,
    approver: String,
    cms: Cms,
}

impl Blog {
    async fn new() -> Blog {
        let app = TestApp::spawn_with(test_config()).await;
        let owner = app.sign_up("owner-blog@example.com").await;
        let author = app.api_key(&owner, &["marketing:read", "marketing:write"]).await;
        let approver = app.api_key(&owner, &["marketing:read", "marketing:write", "marketing:approve"]).await;
        Blog { app, author, approver, cms: Cms::start().await }
    }

    async fn call(&self, key: &str, method: Method, path: &str, body: Option<Value>) -> (StatusCode, Value) {
        send(&Client::new(), method, &self.app.url(&format!("/api/v1{path}")), Some(key), body).await
    }

    async fn ok(&self, method: Method, path: &str, body: Option<Value>) -> Value {
        let (status, value) = self.call(&self.author, method.clone(), path, body).await;
        assert!(status.is_success(), "{method} {path}: {status} {value}");
        value
    }

    async fn connector(&self, kind: &str) -> String {
        let body = match kind {
            "wordpress" => {
                json!({"kind": "wordpress", "name": "WP", "base_url": self.cms.url, "settings": {"username": "editor"}, "secret": "abcd efgh ijkl mnop"})
            }
            "ghost" => {
                json!({"kind": "ghost", "name": "Ghost", "base_url": self.cms.url, "secret": format!("{GHOST_KEY_ID}:{GHOST_SECRET}")})
            }
            "webflow" => json!({"kind": "webflow", "name": "Webflow", "base_url": self.cms.url,
                                "settings": {"collection_id": "col-77", "post_url_template": "https://www.example.test/blog/{slug}"}, "secret": "wf-token"}),
            _ => json!({"kind": "sanity", "name": "Sanity", "base_url": self.cms.url,
                        "settings": {"project_id": "p1", "dataset": "production", "post_url_template": "https://example.test/posts/{slug}"}, "secret": "sanity-token"}),
        };
        let connector = self.ok(Method::POST, "/marketing/blog/connectors", Some(body)).await;
        assert!(
            connector.get("secret").is_none()
                && connector.to_string().find("token").is_none_or(|_| !connector.to_string().contains("wf-token")),
            "{connector}"
        );
        connector["id"].as_str().unwrap().to_string()
    }

    async fn post(&self, title: &str, connector: &str) -> String {
        let post = self
            .ok(
                Method::POST,
                "/marketing/blog/posts",
                Some(json!({"title": title, "body_markdown": "Intro.\n\n## Why\n\nBecause **it works**. <script>alert(1)</script>",
                            "tags": ["sales", "crm"], "cover_image_url": "https://img.example.test/c.png", "connector_id": connector})),
            )
            .await;
        assert!(
            post["body_html"].as_str().unwrap().contains("<h2>Why</h2>") && !post["body_html"].as_str().unwrap().contains("<script"),
            "{post}"
        );
        post["id"].as_str().unwrap().to_string()
    }

    async fn approve(&self, id: &str) {
        let (status, outcome) = self.call(&self.approver, Method::POST, &format!("/marketing/blog/posts/{id}/approve"), None).await;
        assert_eq!((status, outcome["status"].as_str()), (StatusCode::OK, Some("approved")), "{outcome}");
    }

    async fn wait_for(&self, id: &str, status: &str, secs: u64) -> Value {
        for _ in 0..secs * 20 {
            let post = self.ok(Method::GET, &format!("/marketing/blog/posts/{id}"), None).await;
            if post["status"] == status {
                return post;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("post {id} never became {status}: {}", self.ok(Method::GET, &format!("/marketing/blog/posts/{id}"), None).await);
    }
}

#[tokio::test]
async fn posts_publish_to_each_cms_only_after_approval() {
    let blog = Blog::new().await;
    let mut published = Vec::new();
    for (kind, title, path) in [
        ("wordpress", "Ten ways to sell", "/wp-json/wp/v2/posts"),
        ("ghost", "Ghost notes", "/ghost/api/admin/posts/"),
        ("webflow", "Flow of work", "/v2/collections/col-77/items/live"),
        ("sanity", "Sane pipelines", "/v2021-06-07/data/mutate/production"),
    ] {
        let connector = blog.connector(kind).await;
        let id = blog.post(title, &connector).await;
        // Publishing without approval queues the post; the CMS hears nothing.
        let (status, queued) = blog.call(&blog.author, Method::POST, &format!("/marketing/blog/posts/{id}/publish"), Some(json!({}))).await;
        assert_eq!((status, queued["status"].as_str()), (StatusCode::ACCEPTED, Some("pending_approval")), "{queued}");
        assert_eq!(queued["approval_request"]["subject_type"], "blog_post");
        let (status, own) = blog.call(&blog.author, Method::POST, &format!("/marketing/blog/posts/{id}/approve"), None).await;
        assert_eq!((status, own["status"].as_str()), (StatusCode::ACCEPTED, Some("pending_approval")), "the author cannot approve: {own}");
        tokio::time::sleep(Duration::from_millis(200)).await;
        assert!(blog.cms.calls_to(path).is_empty(), "{kind} heard of the post before approval");
        blog.approve(&id).await;
        let outcome = blog.ok(Method::POST, &format!("/marketing/blog/posts/{id}/publish"), Some(json!({}))).await;
        assert_eq!(outcome["status"], "publishing");
        let done = blog.wait_for(&id, "published", 10).await;
        published.push((kind, done["published_url"].as_str().unwrap().to_string(), done["external_id"].as_str().unwrap().to_string()));
        let call = &blog.cms.calls_to(path)[0].body;
        match kind {
            "wordpress" => {
                assert_eq!((call["title"].as_str(), call["slug"].as_str()), (Some("Ten ways to sell"), Some("ten-ways-to-sell")))
            }
            "ghost" => {
                assert_eq!(call["posts"][0]["tags"], json!([{"name": "sales"}, {"name": "crm"}]));
                assert_eq!(call["posts"][0]["feature_image"], "https://img.example.test/c.png");
            }
            "webflow" => assert_eq!(call["fieldData"]["post-summary"], "Intro. Why Because it works."),
            _ => assert_eq!(call["mutations"][0]["createOrReplace"]["slug"], json!({"_type": "slug", "current": "sane-pipelines"})),
        }
    }
    assert_eq!(
        published.iter().map(|(k, url, _)| (*k, url.as_str())).collect::<Vec<_>>(),
        [
            ("wordpress", "https://blog.example.test/ten-ways-to-sell/"),
            ("ghost", "https://ghost.example.test/ghost-notes/"),
            ("webflow", "https://www.example.test/blog/flow-of-work"),
            ("sanity", "https://example.test/posts/sane-pipelines"),
        ]
    );
    assert_eq!(published[0].2, "42");
    assert!(published[3].2.starts_with("corral-"));

    // An edit after publishing needs a new approval to go out again.
    let first = blog.ok(Method::GET, "/marketing/blog/posts?status=published", None).await["data"][0]["id"].as_str().unwrap().to_string();
    let edited = blog.ok(Method::PATCH, &format!("/marketing/blog/posts/{first}"), Some(json!({"title": "A new title"}))).await;
    assert_eq!((edited["status"].as_str(), edited["version"].as_i64()), (Some("draft"), Some(2)));
    let review = blog.ok(Method::GET, &format!("/marketing/blog/posts/{first}/review"), None).await;
    assert!(review["changes_since_approval"].as_array().unwrap().iter().any(|c| c["field"] == "title"), "{review}");
}

#[tokio::test]
async fn scheduled_posts_wait_for_their_time_and_a_failed_publish_is_retried() {
    let blog = Blog::new().await;
    let connector = blog.connector("wordpress").await;
    let id = blog.post("Later", &connector).await;
    blog.approve(&id).await;
    let at = (chrono::Utc::now() + chrono::Duration::milliseconds(1500)).to_rfc3339();
    blog.cms.wordpress_failures.store(1, Ordering::SeqCst);
    let outcome = blog.ok(Method::POST, &format!("/marketing/blog/posts/{id}/publish"), Some(json!({"publish_at": at}))).await;
    assert_eq!(outcome["status"], "scheduled", "{outcome}");
    tokio::time::sleep(Duration::from_millis(700)).await;
    assert!(blog.cms.calls_to("/wp-json/wp/v2/posts").is_empty(), "nothing before its time");
    // The first attempt meets a 503 and is retried two seconds later.
    let done = blog.wait_for(&id, "published", 15).await;
    assert_eq!(blog.cms.calls_to("/wp-json/wp/v2/posts").len(), 2);
    let review = blog.ok(Method::GET, &format!("/marketing/blog/posts/{id}/review"), None).await;
    assert_eq!(review["jobs"][0]["attempts"], 2, "{review}");
    assert_eq!(done["published_url"], "https://blog.example.test/later/");

    // MCP: the same gate. A draft written by the key cannot be published by it.
    let created = call_tool(
        &blog.app,
        &blog.author,
        "create_blog_post",
        json!({"title": "From an agent", "body_markdown": "Hello", "connector_id": connector}),
    )
    .await;
    let post_id = created["structuredContent"]["post"]["id"].as_str().unwrap().to_string();
    let refused = call_tool(&blog.app, &blog.author, "publish_blog_post", json!({"post_id": post_id})).await;
    assert_eq!(refused["structuredContent"]["status"], "pending_approval", "{refused}");
    // Bad input: the one error shape, nothing written.
    let before = blog.app.count("blog_posts").await;
    for (body, field) in [
        (json!({"title": "x", "body_markdown": ""}), "body_markdown"),
        (json!({"title": "x", "body_markdown": "b", "slug": "Not A Slug"}), "slug"),
        (json!({"title": "Later", "body_markdown": "b"}), "slug"),
        (json!({"title": "x", "body_markdown": "b", "cover_image_url": "javascript:alert(1)"}), "cover_image_url"),
    ] {
        let (status, error) = blog.call(&blog.author, Method::POST, "/marketing/blog/posts", Some(body)).await;
        assert_eq!((status, error["error"]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some(field)), "{error}");
    }
    assert_eq!(blog.app.count("blog_posts").await, before);
}
