//! Test harness: each test gets a fresh database on the backend chosen by
//! `CORRAL_TEST_BACKEND` (sqlite, the default, or postgres) and the real
//! application served on a random loopback port.

use std::net::SocketAddr;

pub use app::platform::context::{AppState, Config};
use app::platform::db::Db;
use reqwest::{Client, Method, StatusCode};
use serde_json::{json, Value};
use server::ServerConfig;
use sqlx::Connection;
use uuid::Uuid;

pub struct TestApp {
    pub base: String,
    pub db: Db,
    sqlite_file: Option<std::path::PathBuf>,
    database_url: String,
    config: Config,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

/// Test configuration: uploads go to the system's temp directory.
pub fn test_config() -> Config {
    // The enrichment tests' remote service listens on 127.0.0.1.
    Config { data_dir: std::env::temp_dir().join("corral-test-data"), enrichment_private_networks: true, ..Config::default() }
}

pub fn backend() -> String {
    std::env::var("CORRAL_TEST_BACKEND").unwrap_or_else(|_| "sqlite".into())
}

/// Makes an empty database for one test.
async fn fresh_database_url() -> (String, Option<std::path::PathBuf>) {
    let tag = Uuid::now_v7().simple().to_string();
    match backend().as_str() {
        "postgres" => {
            let admin = std::env::var("CORRAL_TEST_POSTGRES_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into());
            let name = format!("corral_test_{tag}");
            let mut conn = sqlx::PgConnection::connect(&admin).await.expect("connect to PostgreSQL (set CORRAL_TEST_POSTGRES_URL)");
            sqlx::query(&format!("CREATE DATABASE {name}")).execute(&mut conn).await.expect("create test database");
            let base = admin.rsplit_once('/').map(|(b, _)| b.to_string()).unwrap_or(admin);
            (format!("{base}/{name}"), None)
        }
        "sqlite" => {
            let path = std::env::temp_dir().join(format!("corral-test-{tag}.db"));
            (format!("sqlite://{}", path.display()), Some(path))
        }
        other => panic!("unknown CORRAL_TEST_BACKEND {other:?}"),
    }
}

impl TestApp {
    pub async fn spawn() -> TestApp {
        Self::spawn_with(test_config()).await
    }

    pub async fn spawn_with(app_config: Config) -> TestApp {
        let (database_url, sqlite_file) = fresh_database_url().await;
        Self::serve(database_url, sqlite_file, app_config).await
    }

    /// A fresh app with `extra_api` routes mounted under /api/v1 inside
    /// every layer (for routes that misbehave on purpose).
    pub async fn spawn_with_routes(app_config: Config, extra_api: axum::Router<AppState>) -> TestApp {
        let (database_url, sqlite_file) = fresh_database_url().await;
        Self::serve_with(database_url, sqlite_file, app_config, extra_api).await
    }

    async fn serve(database_url: String, sqlite_file: Option<std::path::PathBuf>, app_config: Config) -> TestApp {
        Self::serve_with(database_url, sqlite_file, app_config, axum::Router::new()).await
    }

    async fn serve_with(
        database_url: String,
        sqlite_file: Option<std::path::PathBuf>,
        app_config: Config,
        extra_api: axum::Router<AppState>,
    ) -> TestApp {
        let config = ServerConfig {
            database_url: database_url.clone(),
            site_addr: "127.0.0.1:0".parse().unwrap(),
            site_root: "target/site".into(),
            app: app_config.clone(),
        };
        let (router, db, mut tasks) = server::build_parts_with(&config, extra_api).await.expect("build app");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr: SocketAddr = listener.local_addr().unwrap();
        tasks.push(tokio::spawn(async move {
            server::listener::serve(listener, router, std::future::pending()).await.unwrap();
        }));
        TestApp { base: format!("http://{addr}"), db, sqlite_file, database_url, config: app_config, tasks }
    }

    /// A second server on this one's database (as a second process would
    /// be: its own pool, workers and memory); the first keeps the database.
    pub async fn spawn_beside(&self) -> TestApp {
        Self::serve(self.database_url.clone(), None, self.config.clone()).await
    }

    /// Kills the server and its workers mid-flight (as a crash would: open
    /// transactions roll back) and starts a new one on the same database.
    pub async fn crash_and_restart(mut self) -> TestApp {
        for task in self.tasks.drain(..) {
            task.abort();
            let _ = task.await;
        }
        self.db.close().await;
        let sqlite_file = self.sqlite_file.take();
        Self::serve(self.database_url.clone(), sqlite_file, self.config.clone()).await
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    /// A browser-like client that keeps cookies.
    pub fn browser(&self) -> Client {
        Client::builder().cookie_store(true).redirect(reqwest::redirect::Policy::none()).build().unwrap()
    }

    /// Signs up a new user with their own workspace; returns their
    /// cookie-carrying client.
    pub async fn sign_up(&self, email: &str) -> Client {
        let client = self.browser();
        let response = client
            .post(self.url("/api/v1/auth/signup"))
            .json(&json!({
                "name": "Test User",
                "email": email,
                "password": "correct horse battery",
                "workspace_name": format!("Workspace of {email}"),
            }))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::CREATED, "{}", response.text().await.unwrap());
        client
    }

    /// Creates an API key through the session client; returns its secret.
    pub async fn api_key(&self, session: &Client, scopes: &[&str]) -> String {
        let (status, body) =
            send(session, Method::POST, &self.url("/api/v1/api-keys"), None, Some(json!({"name": "test key", "scopes": scopes}))).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        body["secret"].as_str().unwrap().to_string()
    }

    /// Counts rows of a table in every workspace, straight from the database.
    pub async fn count(&self, table: &str) -> i64 {
        let mut tx = self.db.begin_read().await.unwrap();
        let (n,): (i64,) = tx.fetch_one(app::platform::db::Q::new(format!("SELECT COUNT(*) FROM {table}"))).await.unwrap();
        tx.commit().await.unwrap();
        n
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
        if let Some(path) = &self.sqlite_file {
            for suffix in ["", "-wal", "-shm"] {
                let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
            }
        }
    }
}

/// Sends a JSON request (optionally with a bearer key) and returns the
/// status and the parsed body (`Value::Null` when empty).
pub async fn send(client: &Client, method: Method, url: &str, bearer: Option<&str>, body: Option<Value>) -> (StatusCode, Value) {
    let mut request = client.request(method, url);
    if let Some(key) = bearer {
        request = request.bearer_auth(key);
    }
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.unwrap();
    let status = response.status();
    let text = response.text().await.unwrap();
    let body = if text.is_empty() { Value::Null } else { serde_json::from_str(&text).unwrap_or(Value::String(text)) };
    (status, body)
}

/// Calls a server function the way the browser's forms do (URL-encoded,
/// asking for JSON); returns the status and the parsed body.
pub async fn server_fn(client: &Client, app: &TestApp, name: &str, form: &[(&str, &str)]) -> (StatusCode, Value) {
    let response = client.post(app.url(&format!("/sf/{name}"))).header("accept", "application/json").form(form).send().await.unwrap();
    let status = response.status();
    let text = response.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
}

/// Asserts the one error shape and returns its code.
pub fn assert_error_shape(body: &Value) -> String {
    let error = &body["error"];
    assert!(error.is_object(), "not the error shape: {body}");
    assert!(error["code"].is_string(), "error without code: {body}");
    assert!(error["message"].is_string(), "error without message: {body}");
    assert!(error["request_id"].is_string(), "error without request_id: {body}");
    error["code"].as_str().unwrap().to_string()
}

/// A workspace reached through the REST API with one API key.
pub struct Api {
    pub app: TestApp,
    pub key: String,
    pub client: Client,
}

impl Api {
    /// A fresh app and database, an owner signed up as `email`, and a key
    /// with `scopes`.
    pub async fn new(email: &str, scopes: &[&str]) -> Api {
        let app = TestApp::spawn().await;
        let owner = app.sign_up(email).await;
        let key = app.api_key(&owner, scopes).await;
        Api { app, key, client: Client::new() }
    }

    pub async fn call(&self, method: Method, path: &str, body: Option<Value>) -> (StatusCode, Value) {
        send(&self.client, method, &self.app.url(&format!("/api/v1{path}")), Some(&self.key), body).await
    }

    /// Calls and asserts success.
    pub async fn ok(&self, method: Method, path: &str, body: Option<Value>) -> Value {
        let (status, value) = self.call(method.clone(), path, body).await;
        assert!(status.is_success(), "{method} {path}: {status} {value}");
        value
    }
}
