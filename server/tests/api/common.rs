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
    // The outbox looks for due messages often, so sends show up at once.
    Config {
        data_dir: std::env::temp_dir().join("corral-test-data"),
        enrichment_private_networks: true,
        outbox_poll: std::time::Duration::from_millis(50),
        flow_poll: std::time::Duration::from_millis(20),
        ..Config::default()
    }
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

    /// The database this app runs on (for a second process).
    pub fn database_url(&self) -> &str {
        &self.database_url
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
        self.count_where(table, "TRUE").await
    }

    /// Counts the rows of a table that meet a condition (SQL).
    pub async fn count_where(&self, table: &str, condition: &str) -> i64 {
        let mut tx = self.db.begin_read().await.unwrap();
        let (n,): (i64,) =
            tx.fetch_one(app::platform::db::Q::new(format!("SELECT COUNT(*) FROM {table} WHERE {condition}"))).await.unwrap();
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

/// One message an SMTP server received.
#[derive(Clone, Debug)]
pub struct Received {
    pub from: String,
    pub to: Vec<String>,
    /// The message as sent (headers and body), dot-stuffing undone.
    pub data: String,
}

impl Received {
    /// A header's value (unfolded), by case-insensitive name.
    pub fn header(&self, name: &str) -> Option<String> {
        let head = self.data.split("\r\n\r\n").next().unwrap_or_default();
        let unfolded = head.replace("\r\n ", " ").replace("\r\n\t", " ");
        unfolded.lines().find_map(|line| {
            let (key, value) = line.split_once(':')?;
            key.eq_ignore_ascii_case(name).then(|| value.trim().to_string())
        })
    }

    /// The body with quoted-printable soft breaks and escapes undone
    /// (enough to read what a recipient would).
    pub fn body_text(&self) -> String {
        let body = self.data.split_once("\r\n\r\n").map(|(_, b)| b).unwrap_or_default();
        let joined = body.replace("=\r\n", "");
        let mut out = Vec::with_capacity(joined.len());
        let bytes = joined.as_bytes();
        let mut i = 0;
        while i < bytes.len() {
            if bytes[i] == b'=' && i + 2 < bytes.len() {
                if let Ok(b) = u8::from_str_radix(&joined[i + 1..i + 3], 16) {
                    out.push(b);
                    i += 3;
                    continue;
                }
            }
            out.push(bytes[i]);
            i += 1;
        }
        String::from_utf8_lossy(&out).into_owned()
    }
}

/// A real SMTP server on loopback (RFC 5321's commands, enough for any
/// client: EHLO/HELO, AUTH PLAIN/LOGIN, MAIL, RCPT, DATA, RSET, NOOP,
/// QUIT) that keeps what it receives.
pub struct SmtpSink {
    pub port: u16,
    pub received: std::sync::Arc<std::sync::Mutex<Vec<Received>>>,
    /// What clients authenticated with (base64, as sent).
    pub auth: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
    task: tokio::task::JoinHandle<()>,
}

impl SmtpSink {
    pub async fn start() -> SmtpSink {
        Self::start_keeping(true).await
    }

    /// `keep_data: false` keeps only who each message was for (benchmarks).
    pub async fn start_keeping(keep_data: bool) -> SmtpSink {
        use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let received = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let store = received.clone();
        let auth_log = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let auths = auth_log.clone();
        let task = tokio::spawn(async move {
            loop {
                let Ok((socket, _)) = listener.accept().await else { return };
                // As mail servers do: replies are small writes that Nagle's
                // algorithm would hold back for the client's delayed ACK.
                let _ = socket.set_nodelay(true);
                let store = store.clone();
                let auth = auths.clone();
                tokio::spawn(async move {
                    let (read, mut write) = socket.into_split();
                    let mut lines = BufReader::new(read);
                    let _ = write.write_all(b"220 sink.test ESMTP ready\r\n").await;
                    let (mut from, mut to) = (String::new(), Vec::new());
                    let mut line = String::new();
                    loop {
                        line.clear();
                        if lines.read_line(&mut line).await.unwrap_or(0) == 0 {
                            return;
                        }
                        let command = line.trim_end().to_string();
                        let upper = command.to_ascii_uppercase();
                        let reply: &[u8] = if upper.starts_with("EHLO") {
                            b"250-sink.test\r\n250-AUTH PLAIN LOGIN\r\n250 8BITMIME\r\n"
                        } else if upper.starts_with("AUTH PLAIN") {
                            let credentials = command[10..].trim().to_string();
                            auth.lock().unwrap().push(credentials);
                            b"235 2.7.0 Authentication successful\r\n"
                        } else if upper.starts_with("AUTH LOGIN") {
                            for prompt in [&b"334 VXNlcm5hbWU6\r\n"[..], b"334 UGFzc3dvcmQ6\r\n"] {
                                let _ = write.write_all(prompt).await;
                                line.clear();
                                if lines.read_line(&mut line).await.unwrap_or(0) == 0 {
                                    return;
                                }
                                auth.lock().unwrap().push(line.trim().to_string());
                            }
                            b"235 2.7.0 Authentication successful\r\n"
                        } else if upper.starts_with("MAIL FROM:") {
                            from = command[10..].trim().trim_matches(['<', '>']).to_string();
                            to.clear();
                            b"250 OK\r\n"
                        } else if upper.starts_with("RCPT TO:") {
                            to.push(command[8..].trim().trim_matches(['<', '>']).to_string());
                            b"250 OK\r\n"
                        } else if upper == "DATA" {
                            let _ = write.write_all(b"354 end with .\r\n").await;
                            let mut data = String::new();
                            loop {
                                line.clear();
                                if lines.read_line(&mut line).await.unwrap_or(0) == 0 {
                                    return;
                                }
                                if line == ".\r\n" || line == ".\n" {
                                    break;
                                }
                                data.push_str(line.strip_prefix('.').unwrap_or(&line));
                            }
                            let data = if keep_data { data } else { String::new() };
                            store.lock().unwrap().push(Received { from: from.clone(), to: to.clone(), data });
                            b"250 OK queued\r\n"
                        } else if upper == "QUIT" {
                            let _ = write.write_all(b"221 bye\r\n").await;
                            return;
                        } else {
                            b"250 OK\r\n"
                        };
                        if write.write_all(reply).await.is_err() {
                            return;
                        }
                    }
                });
            }
        });
        SmtpSink { port, received, auth: auth_log, task }
    }

    pub fn messages(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }

    /// Waits until at least `n` messages arrived (or panics after `secs`).
    pub async fn wait_for(&self, n: usize, secs: u64) -> Vec<Received> {
        for _ in 0..secs * 20 {
            if self.received.lock().unwrap().len() >= n {
                return self.messages();
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        panic!("the SMTP sink got {} messages, expected {n}", self.received.lock().unwrap().len());
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// A server process killed on drop.
pub struct ServerProcess(std::process::Child);

impl ServerProcess {
    pub fn start(database_url: &str) -> ServerProcess {
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let child = std::process::Command::new(env!("CARGO_BIN_EXE_corral"))
            .env("DATABASE_URL", database_url)
            .env("LEPTOS_SITE_ADDR", format!("127.0.0.1:{port}"))
            .env("LEPTOS_SITE_ROOT", "target/site")
            .env("CORRAL_JOB_LEASE_SECS", "2")
            .env("CORRAL_FLOW_POLL_MS", "20")
            .env("CORRAL_DATA_DIR", std::env::temp_dir().join("corral-test-data"))
            .env("RUST_LOG", "warn")
            .stdout(std::process::Stdio::null())
            .spawn()
            .expect("start the corral binary");
        ServerProcess(child)
    }

    /// SIGKILL: no shutdown, no flush, open transactions lost.
    pub fn kill(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        self.kill();
    }
}
