//! Numbers at and past their bounds, and errors raised outside handlers.
//!
//! Every numeric field of every write endpoint gets the boundary values of
//! its own range (its minimum and maximum, one past each, 0, -1,
//! `i64::MAX`, 1e30 and a fraction); what is inside the range is accepted,
//! everything else is a 422 naming the field that writes nothing. Then
//! every read endpoint and page of the workspace must answer without a
//! 5xx, with sums carried past what one `i64` holds.

use app::crm::deals::types::NewDeal;
use app::platform::context::Ctx;
use app::platform::db::Q;
use app::platform::validate::{MAX_EMPLOYEE_COUNT, MAX_MONEY_MINOR};
use app::revenue::ledger::{write_entry, EntrySpec, Posting};
use app::revenue::types::EntrySource;
use reqwest::{Client, Method, StatusCode};
use serde_json::{json, Value};
use uuid::Uuid;

use crate::common::{assert_error_shape, send, test_config, Api, TestApp};

/// A numeric field of a write endpoint and the range it accepts.
struct NumericField {
    /// Where the value goes in the body, as the 422 names it.
    path: &'static str,
    min: i64,
    max: i64,
    /// Whether a non-integer inside the range is valid (quantities).
    fractions: bool,
}

const fn field(path: &'static str, min: i64, max: i64) -> NumericField {
    NumericField { path, min, max, fractions: false }
}

/// One write endpoint: how to call it (`n` makes names unique per call)
/// and its numeric fields.
struct WriteEndpoint {
    method: Method,
    path: String,
    body: Box<dyn Fn(usize) -> Value + Send + Sync>,
    fields: Vec<NumericField>,
}

/// Sets `value` at a path like `lines[0].unit_amount_cents`.
fn set_path(body: &mut Value, path: &str, value: Value) {
    let mut target = body;
    let parts: Vec<&str> = path.split('.').collect();
    for (i, part) in parts.iter().enumerate() {
        let (name, index) = match part.split_once('[') {
            Some((name, rest)) => (name, Some(rest.trim_end_matches(']').parse::<usize>().unwrap())),
            None => (*part, None),
        };
        let last = i == parts.len() - 1;
        if last && index.is_none() {
            target[name] = value;
            return;
        }
        target = &mut target[name];
        if let Some(index) = index {
            if last {
                target[index] = value;
                return;
            }
            target = &mut target[index];
        }
    }
}

/// The values to try on a field, each with whether it must be accepted.
fn boundary_values(f: &NumericField) -> Vec<(Value, bool)> {
    let inside = |v: i64| (f.min..=f.max).contains(&v);
    let mut values: Vec<i64> = vec![0, -1, f.min, f.max, i64::MAX];
    values.extend(f.min.checked_sub(1));
    values.extend(f.max.checked_add(1));
    values.dedup();
    let mut cases: Vec<(Value, bool)> = values.into_iter().map(|v| (json!(v), inside(v))).collect();
    cases.push((json!(1e30), false));
    cases.push((json!(f.min as f64 + 0.5), f.fractions && f.min < f.max));
    cases
}

async fn audit_rows(app: &TestApp) -> i64 {
    app.count("audit_events").await
}

/// Workspace A with an owner session and a key holding every scope; ids
/// of one record of each kind for paths and references.
struct Fixture {
    api: Api,
    owner: Client,
    workspace_id: Uuid,
    company: String,
    contact: String,
    lead: String,
    stage: String,
    deal: String,
    draft_invoice: String,
}

async fn fixture() -> Fixture {
    let app = TestApp::spawn_with(test_config()).await;
    let owner = app.sign_up("bounds@corral.test").await;
    let key = app.api_key(&owner, &["crm:read", "crm:write", "revenue:read", "revenue:write"]).await;
    let (_, me) = send(&owner, Method::GET, &app.url("/api/v1/me"), None, None).await;
    let workspace_id: Uuid = me["workspace_id"].as_str().unwrap().parse().unwrap();
    let api = Api { app, key, client: Client::new() };
    let id = |v: Value| v["id"].as_str().unwrap().to_string();
    let company = id(api.ok(Method::POST, "/companies", Some(json!({"name": "Acme"}))).await);
    let contact = id(api.ok(Method::POST, "/contacts", Some(json!({"name": "Ada", "email": "ada@acme.test"}))).await);
    let lead = id(api.ok(Method::POST, "/leads", Some(json!({"name": "Lead"}))).await);
    let stages = api.ok(Method::GET, "/deal-stages", None).await;
    let stage = stages.as_array().unwrap()[0]["id"].as_str().unwrap().to_string();
    let deal = id(api.ok(Method::POST, "/deals", Some(json!({"name": "Deal", "amount_cents": 100}))).await);
    let draft_invoice = id(api
        .ok(
            Method::POST,
            "/invoices",
            Some(json!({"company_id": company, "lines": [{"kind": "service", "description": "Work", "quantity": 1, "unit_amount_cents": 100}]})),
        )
        .await);
    Fixture { api, owner, workspace_id, company, contact, lead, stage, deal, draft_invoice }
}

fn write_endpoints(f: &Fixture) -> Vec<WriteEndpoint> {
    let money = |path| field(path, 0, MAX_MONEY_MINOR);
    let company = f.company.clone();
    let invoice_line = |n: usize| json!({"kind": "service", "description": format!("Line {n}"), "quantity": 1, "unit_amount_cents": 100, "tax_rate_bps": 0});
    let company_for_invoice = company.clone();
    let company_for_payment = company.clone();
    vec![
        WriteEndpoint {
            method: Method::POST,
            path: "/companies".into(),
            body: Box::new(|n| json!({"name": format!("Company {n}")})),
            fields: vec![field("employee_count", 0, MAX_EMPLOYEE_COUNT), money("annual_revenue_cents")],
        },
        WriteEndpoint {
            method: Method::PATCH,
            path: format!("/companies/{}", f.company),
            body: Box::new(|_| json!({})),
            fields: vec![field("employee_count", 0, MAX_EMPLOYEE_COUNT), money("annual_revenue_cents")],
        },
        WriteEndpoint {
            method: Method::POST,
            path: "/leads".into(),
            body: Box::new(|n| json!({"name": format!("Lead {n}")})),
            fields: vec![field("score", 0, 1000)],
        },
        WriteEndpoint {
            method: Method::PATCH,
            path: format!("/leads/{}", f.lead),
            body: Box::new(|_| json!({})),
            fields: vec![field("score", 0, 1000)],
        },
        WriteEndpoint {
            method: Method::POST,
            path: "/deal-stages".into(),
            body: Box::new(|n| json!({"key": format!("stage_{n}"), "name": format!("Stage {n}"), "kind": "open", "probability": 10})),
            fields: vec![field("probability", 0, 100), field("position", i64::MIN, i64::MAX)],
        },
        WriteEndpoint {
            method: Method::PATCH,
            path: format!("/deal-stages/{}", f.stage),
            body: Box::new(|_| json!({})),
            fields: vec![field("probability", 0, 100)],
        },
        WriteEndpoint {
            method: Method::POST,
            path: "/deals".into(),
            body: Box::new(|n| json!({"name": format!("Deal {n}")})),
            fields: vec![money("amount_cents")],
        },
        WriteEndpoint {
            method: Method::PATCH,
            path: format!("/deals/{}", f.deal),
            body: Box::new(|_| json!({})),
            fields: vec![money("amount_cents")],
        },
        WriteEndpoint {
            method: Method::POST,
            path: "/invoices".into(),
            body: Box::new(move |n| json!({"company_id": company_for_invoice, "lines": [invoice_line(n)]})),
            fields: vec![
                NumericField { path: "lines[0].quantity", min: 1, max: 1_000_000_000, fractions: true },
                money("lines[0].unit_amount_cents"),
                field("lines[0].tax_rate_bps", 0, 10_000),
            ],
        },
        WriteEndpoint {
            method: Method::PATCH,
            path: format!("/invoices/{}", f.draft_invoice),
            body: Box::new(move |n| json!({"lines": [invoice_line(n)]})),
            fields: vec![money("lines[0].unit_amount_cents")],
        },
        WriteEndpoint {
            method: Method::POST,
            path: "/payments".into(),
            body: Box::new(move |_| json!({"company_id": company_for_payment, "provider": "bank"})),
            fields: vec![field("amount_cents", 1, MAX_MONEY_MINOR)],
        },
        WriteEndpoint {
            method: Method::POST,
            path: "/journal-entries".into(),
            body: Box::new(|n| {
                json!({"memo": format!("Entry {n}"), "post": true, "lines": [
                    {"account_code": "1000", "debit_cents": 100},
                    {"account_code": "3000", "credit_cents": 100},
                ]})
            }),
            fields: vec![field("lines[0].debit_cents", 1, MAX_MONEY_MINOR), field("lines[1].credit_cents", 1, MAX_MONEY_MINOR)],
        },
    ]
}

/// Sends every boundary value to every numeric field; returns how many
/// calls were made.
async fn probe_writes(f: &Fixture) -> usize {
    let mut calls = 0;
    for endpoint in write_endpoints(f) {
        for numeric in &endpoint.fields {
            for (value, accept) in boundary_values(numeric) {
                calls += 1;
                let mut body = (endpoint.body)(calls);
                // A balanced entry needs both sides to carry the value (and
                // a refusal may then name either).
                let paths: Vec<&str> = if endpoint.path == "/journal-entries" {
                    vec!["lines[0].debit_cents", "lines[1].credit_cents"]
                } else {
                    vec![numeric.path]
                };
                for path in &paths {
                    set_path(&mut body, path, value.clone());
                }
                let audit_before = audit_rows(&f.api.app).await;
                let (status, response) = f.api.call(endpoint.method.clone(), &endpoint.path, Some(body.clone())).await;
                let what = format!("{} {} with {} = {value}", endpoint.method, endpoint.path, numeric.path);
                assert!(!status.is_server_error(), "{what}: {status} {response}");
                if accept {
                    assert!(status.is_success(), "{what} must be accepted: {status} {response}");
                } else {
                    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{what} must be refused: {response}");
                    assert_eq!(assert_error_shape(&response), "validation_failed");
                    let named = response["error"]["field"].as_str().unwrap_or_default();
                    assert!(
                        !named.is_empty() && paths.iter().any(|p| p.starts_with(named)),
                        "{what}: the 422 names {named:?}, not the field: {response}"
                    );
                    assert_eq!(audit_rows(&f.api.app).await, audit_before, "{what}: a refused request wrote something");
                }
            }
        }
    }
    calls
}

/// The records of a list answer: a page's `data`, or a bare array.
fn items(list: &Value) -> &Vec<Value> {
    list.get("data").unwrap_or(list).as_array().expect("a list")
}

/// Every read endpoint of the workspace, answered without a 5xx.
async fn read_everything(f: &Fixture) -> Value {
    let accounts = f.api.ok(Method::GET, "/ledger-accounts", None).await;
    let mut paths: Vec<String> = [
        "/companies",
        "/contacts",
        "/leads",
        "/deal-stages",
        "/deals",
        "/pipeline",
        "/activities",
        "/tasks",
        "/search?q=a",
        "/dashboard",
        "/invoices",
        "/payments",
        "/ledger-accounts",
        "/journal-entries",
        "/trial-balance",
        "/receivables/aging",
        "/lists",
        "/audience-events",
        "/imports",
        "/forms",
        "/enrichment-connectors",
        "/audit-events",
    ]
    .map(String::from)
    .to_vec();
    paths.extend([
        format!("/companies/{}", f.company),
        format!("/companies/{}/contacts", f.company),
        format!("/contacts/{}", f.contact),
        format!("/contacts/{}/companies", f.contact),
        format!("/leads/{}", f.lead),
        format!("/leads/{}/timeline", f.lead),
        format!("/deals/{}", f.deal),
        format!("/invoices/{}", f.draft_invoice),
    ]);
    for account in items(&accounts) {
        paths.push(format!("/ledger-accounts/{}/ledger", account["id"].as_str().unwrap()));
    }
    for path in &paths {
        let (status, body) = f.api.call(Method::GET, path, None).await;
        assert_eq!(status, StatusCode::OK, "GET {path}: {body}");
    }
    let mut pages: Vec<String> = [
        "/dashboard",
        "/pipeline",
        "/leads",
        "/contacts",
        "/companies",
        "/tasks",
        "/invoices",
        "/ledger",
        "/receivables",
        "/audience",
        "/search?q=a",
    ]
    .map(String::from)
    .to_vec();
    pages.extend([
        format!("/leads/{}", f.lead),
        format!("/companies/{}", f.company),
        format!("/contacts/{}", f.contact),
        format!("/deals/{}", f.deal),
        format!("/invoices/{}", f.draft_invoice),
    ]);
    for account in items(&accounts) {
        pages.push(format!("/ledger/accounts/{}", account["id"].as_str().unwrap()));
    }
    for page in &pages {
        let response = f.owner.get(f.api.app.url(page)).header("accept", "text/html").send().await.unwrap();
        let status = response.status();
        let html = response.text().await.unwrap();
        assert_eq!(status, StatusCode::OK, "page {page}");
        assert!(!html.contains("internal server error"), "page {page} shows an error");
    }
    f.api.ok(Method::GET, "/trial-balance", None).await
}

#[tokio::test]
async fn every_numeric_field_is_bounded_and_every_read_survives_the_bounds() {
    let f = fixture().await;
    let calls = probe_writes(&f).await;
    assert!(calls > 100, "the probe made only {calls} calls");

    // More deals at the bound in one stage than an i64 sum can hold
    // (9,224 × 10^15 > i64::MAX), written through the deals operation.
    let ctx = Ctx::maintenance(f.workspace_id);
    let mut tx = f.api.app.db.begin().await.unwrap();
    for n in 0..9_300 {
        let whale = NewDeal { name: format!("Whale {n}"), amount_cents: Some(MAX_MONEY_MINOR), ..NewDeal::default() };
        app::crm::deals::ops::create(&mut tx, &ctx, whale).await.unwrap();
    }
    tx.commit().await.unwrap();
    for n in 0..10 {
        f.api
            .ok(
                Method::POST,
                "/journal-entries",
                Some(json!({"memo": format!("Big {n}"), "post": true, "lines": [
                    {"account_code": "1000", "debit_cents": MAX_MONEY_MINOR},
                    {"account_code": "3000", "credit_cents": MAX_MONEY_MINOR},
                ]})),
            )
            .await;
    }
    let trial = read_everything(&f).await;
    assert_eq!(trial["balanced"], true, "{trial}");
    let board = f.api.ok(Method::GET, "/pipeline", None).await;
    let widest = board
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|c| c["totals"].as_array().unwrap().iter())
        .map(|t| t["amount_cents"].as_f64().unwrap())
        .fold(0.0, f64::max);
    assert!(widest > i64::MAX as f64, "a column sums 9,300 deals at the bound: {widest}");
    let dashboard = f.api.ok(Method::GET, "/dashboard", None).await;
    let open: f64 = dashboard["open_pipeline"].as_array().unwrap().iter().map(|s| s["amount_cents"].as_f64().unwrap()).sum();
    assert!(open > i64::MAX as f64, "{dashboard}");
}

/// Plants what the landed code accepted before the bounds: a deal and a
/// company at `i64::MAX`, two posted entries of `i64::MAX` on both sides,
/// a payment of `i64::MAX` into customer credit and a draft invoice above
/// the bound.
async fn plant_out_of_bounds_rows(f: &Fixture) {
    let ctx = Ctx::maintenance(f.workspace_id);
    let mut tx = f.api.app.db.begin().await.unwrap();
    tx.execute(Q::new("UPDATE deals SET amount_cents = $1 WHERE id = $2").bind(i64::MAX).bind(f.deal.parse::<Uuid>().unwrap()))
        .await
        .unwrap();
    tx.execute(
        Q::new("UPDATE companies SET annual_revenue_cents = $1, employee_count = $1 WHERE id = $2")
            .bind(i64::MAX)
            .bind(f.company.parse::<Uuid>().unwrap()),
    )
    .await
    .unwrap();
    let invoice: Uuid = f.draft_invoice.parse().unwrap();
    tx.execute(
        Q::new("UPDATE invoice_lines SET unit_amount_cents = $1, amount_cents = $1 WHERE invoice_id = $2").bind(i64::MAX).bind(invoice),
    )
    .await
    .unwrap();
    tx.execute(Q::new("UPDATE invoices SET subtotal_cents = $1, total_cents = $1 WHERE id = $2").bind(i64::MAX).bind(invoice))
        .await
        .unwrap();
    let account =
        |code: &'static str| Q::new("SELECT id FROM ledger_accounts WHERE workspace_id = $1 AND code = $2").bind(f.workspace_id).bind(code);
    let (cash,): (Uuid,) = tx.fetch_one(account("1000")).await.unwrap();
    let (equity,): (Uuid,) = tx.fetch_one(account("3000")).await.unwrap();
    let (credits,): (Uuid,) = tx.fetch_one(account("2200")).await.unwrap();
    let today = chrono::Utc::now().date_naive();
    let spec = |memo: &str, source: EntrySource, payment_id: Option<Uuid>, debit: Uuid, credit: Uuid| EntrySpec {
        entry_date: today,
        memo: memo.into(),
        currency: "USD".into(),
        source,
        invoice_id: None,
        payment_id,
        reverses_entry_id: None,
        lines: vec![Posting::debit(debit, i64::MAX), Posting::credit(credit, i64::MAX)],
        post: true,
        entry_number: None,
        custom_fields: serde_json::json!({}),
    };
    for memo in ["Huge one", "Huge two"] {
        write_entry(&mut tx, &ctx, spec(memo, EntrySource::Manual, None, cash, equity)).await.unwrap();
    }
    let payment = Uuid::now_v7();
    let at = app::platform::db::now();
    tx.execute(
        Q::new(
            "INSERT INTO payments (id, workspace_id, invoice_id, company_id, amount_cents, currency, provider, reference, paid_at, created_at) \
             VALUES ($1, $2, NULL, $3, $4, 'USD', 'bank', NULL, $5, $5)",
        )
        .bind(payment)
        .bind(f.workspace_id)
        .bind(f.company.parse::<Uuid>().unwrap())
        .bind(i64::MAX)
        .bind(at),
    )
    .await
    .unwrap();
    write_entry(&mut tx, &ctx, spec("Payment", EntrySource::Payment, Some(payment), cash, credits)).await.unwrap();
    tx.commit().await.unwrap();
}

#[tokio::test]
async fn rows_stored_before_the_bounds_still_read_and_are_repaired_by_correcting_entries() {
    let f = fixture().await;
    plant_out_of_bounds_rows(&f).await;

    // Everything reads, and the sums are exact past i64.
    let trial = read_everything(&f).await;
    assert_eq!(trial["balanced"], true, "{trial}");
    // (Read as text: a JSON number this wide is exact on the wire, not in an f64.)
    let raw = f.api.client.get(f.api.app.url("/api/v1/trial-balance")).bearer_auth(&f.api.key).send().await.unwrap().text().await.unwrap();
    assert!(raw.contains(&format!("\"debit_cents\":{}", 3 * i64::MAX as i128)), "cash holds 3 × i64::MAX: {raw}");
    // Nothing out of bounds can be posted or sent from here on.
    let (status, body) = f.api.call(Method::POST, &format!("/invoices/{}/send", f.draft_invoice), None).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");

    let journal_before = f.api.app.count("journal_entries").await;
    let dry = server::repair::repair_bounds(&f.api.app.db, true).await.unwrap();
    assert_eq!(f.api.app.count("journal_entries").await, journal_before, "a dry run writes nothing");
    let repairs = server::repair::repair_bounds(&f.api.app.db, false).await.unwrap();
    assert_eq!(dry.len(), repairs.len());
    let kinds: Vec<&str> = repairs.iter().map(|(_, r)| r.entity_type).collect();
    assert_eq!(kinds, ["deal", "company", "invoice", "payment", "journal_entry", "journal_entry"], "{repairs:?}");
    assert!(server::repair::repair_bounds(&f.api.app.db, false).await.unwrap().is_empty(), "a second run has nothing to do");

    // Posted entries were not edited: three correcting entries were added,
    // and every balance is back within bounds.
    assert_eq!(f.api.app.count("journal_entries").await, journal_before + 3);
    let trial = read_everything(&f).await;
    for row in trial["rows"].as_array().unwrap() {
        let balance = row["debit_cents"].as_f64().unwrap() - row["credit_cents"].as_f64().unwrap();
        assert!(balance.abs() <= MAX_MONEY_MINOR as f64, "{row}");
    }
    let deal = f.api.ok(Method::GET, &format!("/deals/{}", f.deal), None).await;
    assert_eq!(deal["amount_cents"], 0);
    let invoice = f.api.ok(Method::GET, &format!("/invoices/{}", f.draft_invoice), None).await;
    assert_eq!(invoice["status"], "void");
    let audit = f.api.ok(Method::GET, &format!("/audit-events?entity_id={}", f.deal), None).await;
    let repaired = audit["data"].as_array().unwrap().iter().find(|e| e["action"] == "deal.bounds_repaired").expect("audited");
    assert_eq!(repaired["before"]["amount_cents"], json!(i64::MAX));
}

#[tokio::test]
async fn errors_raised_outside_handlers_have_the_one_shape() {
    let panicking = axum::Router::new().route(
        "/test/panic",
        axum::routing::get(|| async {
            panic!("deliberate test panic");
            #[allow(unreachable_code)]
            ""
        }),
    );
    let app = TestApp::spawn_with_routes(test_config(), panicking).await;
    let client = Client::new();
    let shape = |status: StatusCode, body: &str, what: &str| {
        let body: Value = serde_json::from_str(body).unwrap_or_else(|_| panic!("{what}: {status} is not JSON: {body:?}"));
        assert_error_shape(&body)
    };

    // Unknown paths (API and not), a method a route lacks, on pages too.
    for (method, path, expected) in [
        (Method::GET, "/api/v1/no-such-thing", StatusCode::NOT_FOUND),
        (Method::GET, "/no-such-page", StatusCode::NOT_FOUND),
        (Method::DELETE, "/api/v1/companies", StatusCode::METHOD_NOT_ALLOWED),
        (Method::POST, "/dashboard", StatusCode::METHOD_NOT_ALLOWED),
        (Method::GET, "/pkg/missing.wasm", StatusCode::NOT_FOUND),
    ] {
        let response = client.request(method.clone(), app.url(path)).send().await.unwrap();
        let status = response.status();
        assert_eq!(status, expected, "{method} {path}");
        assert!(response.headers().contains_key("x-request-id"));
        shape(status, &response.text().await.unwrap(), &format!("{method} {path}"));
    }
    // A browser asking for a missing page still gets a page.
    let page = client.get(app.url("/no-such-page")).header("accept", "text/html").send().await.unwrap();
    assert!(page.text().await.unwrap().contains("Page not found"));

    // 413 and 415 before any handler logic.
    let owner = app.sign_up("shape@corral.test").await;
    let big = "x".repeat(2 * 1024 * 1024);
    let response = owner.post(app.url("/api/v1/companies")).header("content-type", "application/json").body(big).send().await.unwrap();
    let status = response.status();
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(shape(status, &response.text().await.unwrap(), "413"), "payload_too_large");
    let response = owner.post(app.url("/api/v1/companies")).header("content-type", "text/plain").body("{}").send().await.unwrap();
    let status = response.status();
    assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    shape(status, &response.text().await.unwrap(), "415");

    // 414: a 100 KB query string, refused by the HTTP parser itself (sent
    // over a raw socket: HTTP clients refuse to build such a URI).
    let raw =
        raw_request(&app.base, &format!("GET /api/v1/companies?q={} HTTP/1.1\r\nHost: localhost\r\n\r\n", "a".repeat(100 * 1024))).await;
    let (head, body) = raw.split_once("\r\n\r\n").expect("a response");
    assert!(head.starts_with("HTTP/1.1 414"), "{head}");
    assert!(head.to_ascii_lowercase().contains("x-request-id:"), "{head}");
    assert_eq!(shape(StatusCode::URI_TOO_LONG, body, "414"), "uri_too_long");
    // …and the server goes on serving.
    let (status, _) = send(&client, Method::GET, &app.url("/api/v1/no-such-thing"), None, None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // A panic in a handler is a 500 in the one shape, and the server lives.
    let response = client.get(app.url("/api/v1/test/panic")).send().await.unwrap();
    let status = response.status();
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
    let text = response.text().await.unwrap();
    assert_eq!(shape(status, &text, "panic"), "internal_error");
    assert!(!text.contains("deliberate"), "the panic's text stays in the log: {text}");
    let (status, _) = send(&owner, Method::GET, &app.url("/api/v1/companies"), None, None).await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn a_request_over_the_time_limit_is_a_503_in_the_one_shape() {
    let slow = axum::Router::new().route(
        "/test/slow",
        axum::routing::get(|| async {
            tokio::time::sleep(std::time::Duration::from_secs(30)).await;
            "too late"
        }),
    );
    let config = app::platform::context::Config { request_timeout: std::time::Duration::from_millis(200), ..test_config() };
    let app = TestApp::spawn_with_routes(config, slow).await;
    let started = std::time::Instant::now();
    let response = Client::new().get(app.url("/api/v1/test/slow")).send().await.unwrap();
    assert!(started.elapsed() < std::time::Duration::from_secs(10), "the limit cut the request short");
    let status = response.status();
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    let body: Value = response.json().await.unwrap();
    assert_eq!(assert_error_shape(&body), "timeout");
    // Requests within the limit are untouched.
    let (status, _) = send(&Client::new(), Method::GET, &app.url("/api/v1/no-such-thing"), None, None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

/// Sends raw bytes on a new connection and reads the whole answer.
async fn raw_request(base: &str, request: &str) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(base.trim_start_matches("http://")).await.unwrap();
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).await.unwrap();
    String::from_utf8_lossy(&answer).into_owned()
}

#[tokio::test]
async fn imports_refuse_the_same_out_of_bounds_numbers_row_by_row() {
    use crate::audience::{import_errors, upload, wait_for_import};
    let api = Api::new("bounds-import@corral.test", &["crm:read", "crm:write"]).await;
    let csv = format!(
        "name,employee_count\nSmall,10\nAt the bound,{MAX_EMPLOYEE_COUNT}\nHuge,{}\nNegative,-5\nWide,{}\n",
        MAX_EMPLOYEE_COUNT + 1,
        i64::MAX
    );
    let (status, import) = upload(&api, "entity=company&format=csv", csv.into_bytes()).await;
    assert_eq!(status, StatusCode::CREATED, "{import}");
    let id = import["id"].as_str().unwrap().to_string();
    api.ok(Method::POST, &format!("/imports/{id}/start"), Some(json!({}))).await;
    let done = wait_for_import(&api, &id).await;
    assert_eq!(done["rows_created"], 2, "{done}");
    assert_eq!(done["rows_failed"], 3, "{done}");
    let errors = import_errors(&api, &id).await;
    assert_eq!(errors.iter().map(|e| e.0).collect::<Vec<_>>(), [4, 5, 6], "{errors:?}");
    assert!(errors.iter().all(|(_, reason)| reason.contains("employee_count")), "{errors:?}");
}
