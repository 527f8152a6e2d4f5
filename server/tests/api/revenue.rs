//! Revenue through the REST API: the chart of accounts, manual journal
//! entries and reversals, invoices and payments with their automatic
//! postings, the ledger reports, and the lead-to-cash path end to end.

use crate::common::{assert_error_shape, send, Api};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

async fn new_api() -> Api {
    Api::new("owner@revenue.test", &["crm:write", "revenue:write"]).await
}

/// Asserts a refusal with the error shape and returns its code.
async fn refused(api: &Api, method: Method, path: &str, body: Option<Value>, expected: StatusCode) -> String {
    let (status, value) = api.call(method.clone(), path, body).await;
    assert_eq!(status, expected, "{method} {path}: {value}");
    assert_error_shape(&value)
}

async fn actions(api: &Api, query: &str) -> Vec<String> {
    api.ok(Method::GET, &format!("/audit-events?limit=100&{query}"), None).await["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap().to_string())
        .collect()
}

/// The account's balance in its normal direction, from the trial balance.
async fn balance(api: &Api, code: &str) -> i64 {
    let tb = api.ok(Method::GET, "/trial-balance", None).await;
    assert_eq!(tb["balanced"], true, "{tb}");
    tb["rows"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["code"] == code)
        .map(|r| {
            let (d, c) = (r["debit_cents"].as_i64().unwrap(), r["credit_cents"].as_i64().unwrap());
            if matches!(r["account_type"].as_str(), Some("asset" | "expense")) {
                d - c
            } else {
                c - d
            }
        })
        .sum()
}

fn sides(entry: &Value) -> Vec<(String, i64, i64)> {
    entry["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| (l["account_code"].as_str().unwrap().to_string(), l["debit_cents"].as_i64().unwrap(), l["credit_cents"].as_i64().unwrap()))
        .collect()
}

#[tokio::test]
async fn chart_of_accounts_and_balanced_manual_entries() {
    let api = new_api().await;
    let chart = api.ok(Method::GET, "/ledger-accounts", None).await;
    let codes: Vec<&str> = chart.as_array().unwrap().iter().map(|a| a["code"].as_str().unwrap()).collect();
    assert_eq!(codes, ["1000", "1100", "2000", "2100", "2200", "3000", "4000", "4100", "5000"]);
    let bank = api.ok(Method::POST, "/ledger-accounts", Some(json!({"code": "1010", "name": "Bank", "account_type": "asset"}))).await;
    assert_eq!(bank["account_type"], "asset");
    assert_eq!(
        refused(
            &api,
            Method::POST,
            "/ledger-accounts",
            Some(json!({"code": "1010", "name": "Again", "account_type": "asset"})),
            StatusCode::CONFLICT
        )
        .await,
        "duplicate_account_code"
    );
    assert_eq!(
        refused(
            &api,
            Method::POST,
            "/ledger-accounts",
            Some(json!({"code": "1020", "name": "X", "account_type": "cash"})),
            StatusCode::UNPROCESSABLE_ENTITY
        )
        .await,
        "validation_failed"
    );

    // Entries that do not balance, or are malformed, are refused and leave nothing behind.
    let entries_before = api.app.count("journal_entries").await;
    for (body, field) in [
        (
            json!({"memo": "Off by one", "lines": [{"account_code": "1000", "debit_cents": 100}, {"account_code": "3000", "credit_cents": 99}]}),
            "lines",
        ),
        (json!({"memo": "One line", "lines": [{"account_code": "1000", "debit_cents": 100}]}), "lines"),
        (
            json!({"memo": "Both sides", "lines": [{"account_code": "1000", "debit_cents": 100, "credit_cents": 100}, {"account_code": "3000", "credit_cents": 0}]}),
            "lines[0]",
        ),
        (
            json!({"memo": "Negative", "lines": [{"account_code": "1000", "debit_cents": -100}, {"account_code": "3000", "credit_cents": -100}]}),
            "lines[0].debit_cents",
        ),
        (
            json!({"memo": "Unknown account", "lines": [{"account_code": "9999", "debit_cents": 100}, {"account_code": "3000", "credit_cents": 100}]}),
            "lines[0]",
        ),
        (json!({"memo": "", "lines": []}), "memo"),
    ] {
        let (status, error) = api.call(Method::POST, "/journal-entries", Some(body.clone())).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}: {error}");
        assert_eq!(error["error"]["field"], field, "{body}: {error}");
    }
    let (status, error) = api.call(Method::POST, "/journal-entries", Some(json!({"memo": "x", "lines": [], "approved": true}))).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(error["error"]["message"].as_str().unwrap().contains("approved"), "{error}");
    assert_eq!(api.app.count("journal_entries").await, entries_before);

    // A draft can be posted once; a posted entry cannot be deleted, only reversed, once.
    let draft = api
        .ok(Method::POST, "/journal-entries", Some(json!({
            "memo": "Owner invests", "entry_date": "2026-11-01",
            "lines": [{"account_id": bank["id"], "debit_cents": 500_000}, {"account_code": "3000", "credit_cents": 500_000, "memo": "capital"}]
        })))
        .await;
    assert_eq!(draft["status"], "draft");
    let draft_id = draft["id"].as_str().unwrap();
    assert_eq!(balance(&api, "1010").await, 0, "drafts are not in the trial balance");
    let posted = api.ok(Method::POST, &format!("/journal-entries/{draft_id}/post"), None).await;
    assert_eq!(posted["status"], "posted");
    assert_eq!(balance(&api, "1010").await, 500_000);
    assert_eq!(balance(&api, "3000").await, 500_000);
    assert_eq!(
        refused(&api, Method::POST, &format!("/journal-entries/{draft_id}/post"), None, StatusCode::CONFLICT).await,
        "already_posted"
    );
    assert_eq!(refused(&api, Method::DELETE, &format!("/journal-entries/{draft_id}"), None, StatusCode::CONFLICT).await, "entry_posted");

    let (status, reversal) =
        api.call(Method::POST, &format!("/journal-entries/{draft_id}/reverse"), Some(json!({"memo": "Entered twice"}))).await;
    assert_eq!(status, StatusCode::CREATED, "{reversal}");
    assert_eq!(reversal["source"], "reversal");
    assert_eq!(reversal["reverses_entry_id"], draft_id);
    assert_eq!(sides(&reversal), [("1010".to_string(), 0, 500_000), ("3000".to_string(), 500_000, 0)]);
    assert_eq!(balance(&api, "1010").await, 0);
    let original = api.ok(Method::GET, &format!("/journal-entries/{draft_id}"), None).await;
    assert_eq!(original["reversed_by_entry_id"], reversal["id"]);
    assert_eq!(sides(&original), sides(&posted), "the original is untouched");
    assert_eq!(
        refused(&api, Method::POST, &format!("/journal-entries/{draft_id}/reverse"), Some(json!({})), StatusCode::CONFLICT).await,
        "already_reversed"
    );

    // A draft that is thrown away; a draft cannot be reversed.
    let scrap = api.ok(Method::POST, "/journal-entries", Some(json!({"memo": "Scrap", "lines": [{"account_code": "5000", "debit_cents": 1}, {"account_code": "1000", "credit_cents": 1}]}))).await;
    let scrap_id = scrap["id"].as_str().unwrap();
    assert_eq!(
        refused(&api, Method::POST, &format!("/journal-entries/{scrap_id}/reverse"), Some(json!({})), StatusCode::CONFLICT).await,
        "entry_not_posted"
    );
    api.ok(Method::DELETE, &format!("/journal-entries/{scrap_id}"), None).await;
    refused(&api, Method::GET, &format!("/journal-entries/{scrap_id}"), None, StatusCode::NOT_FOUND).await;

    // The database itself refuses to change a posted entry.
    let mut tx = api.app.db.begin().await.unwrap();
    let tampered = tx.execute(app::platform::db::Q::new("UPDATE journal_lines SET debit_cents = 1 WHERE debit_cents = 500000")).await;
    assert!(tampered.is_err(), "a posted line was changed");
    tx.rollback().await.unwrap();

    // The account ledger runs its balance.
    let ledger = api.ok(Method::GET, &format!("/ledger-accounts/{}/ledger", bank["id"].as_str().unwrap()), None).await;
    let balances: Vec<i64> = ledger["rows"].as_array().unwrap().iter().map(|r| r["balance_cents"].as_i64().unwrap()).collect();
    assert_eq!(balances, [500_000, 0]);

    let actions = actions(&api, "entity_type=journal_entry").await;
    for expected in ["journal_entry.created", "journal_entry.posted", "journal_entry.reversed", "journal_entry.deleted"] {
        assert!(actions.contains(&expected.to_string()), "{expected} missing from {actions:?}");
    }
}

#[tokio::test]
async fn invoices_payments_and_their_postings() {
    let api = new_api().await;
    let acme = api.ok(Method::POST, "/companies", Some(json!({"name": "Acme"}))).await;
    let acme_id = acme["id"].as_str().unwrap();
    let invoice = api
        .ok(
            Method::POST,
            "/invoices",
            Some(json!({
                "company_id": acme_id, "issue_date": "2026-10-01", "due_date": "2026-10-31", "notes": "Thanks!",
                "lines": [
                    {"kind": "product", "description": "Widget", "quantity": 2, "unit_amount_cents": 1_500, "tax_rate_bps": 2_000},
                    {"kind": "service", "description": "Setup, hours", "quantity": 1.5, "unit_amount_cents": 10_000}
                ]
            })),
        )
        .await;
    assert_eq!(invoice["number"], "INV-000001");
    assert_eq!(invoice["status"], "draft");
    assert_eq!(invoice["currency"], "USD");
    assert_eq!(invoice["lines"][0]["amount_cents"], 3_000);
    assert_eq!(invoice["lines"][0]["tax_cents"], 600);
    assert_eq!(invoice["lines"][1]["quantity"], 1.5);
    assert_eq!(invoice["lines"][1]["amount_cents"], 15_000);
    assert_eq!(
        (invoice["subtotal_cents"].as_i64(), invoice["tax_cents"].as_i64(), invoice["total_cents"].as_i64()),
        (Some(18_000), Some(600), Some(18_600))
    );
    let id = invoice["id"].as_str().unwrap().to_string();

    // Bad input is refused with the field named; nothing is created.
    for (body, field) in [
        (json!({"lines": [{"kind": "product", "description": "x", "quantity": 0, "unit_amount_cents": 1}]}), "lines[0].quantity"),
        (json!({"lines": [{"kind": "product", "description": "x", "quantity": 1, "unit_amount_cents": -1}]}), "lines[0].unit_amount_cents"),
        (
            json!({"lines": [{"kind": "product", "description": "x", "quantity": 1, "unit_amount_cents": 1, "tax_rate_bps": 10_001}]}),
            "lines[0].tax_rate_bps",
        ),
        (json!({"lines": [{"kind": "product", "description": " ", "quantity": 1, "unit_amount_cents": 1}]}), "lines[0].description"),
        (json!({"lines": [{"kind": "hardware", "description": "x", "quantity": 1, "unit_amount_cents": 1}]}), "lines[0].kind"),
        (json!({"lines": [{"kind": "product", "description": "x", "quantity": 1.0001, "unit_amount_cents": 1}]}), "lines[0].quantity"),
        (json!({"issue_date": "2026-10-10", "due_date": "2026-10-01"}), "due_date"),
        (json!({"currency": "dollars"}), "currency"),
        (json!({"company_id": "0190b0a0-0000-7000-8000-000000000000"}), "company_id"),
        (json!({"number": "INV-000001"}), ""),
    ] {
        let (status, error) = api.call(Method::POST, "/invoices", Some(body.clone())).await;
        assert!(status == StatusCode::UNPROCESSABLE_ENTITY || status == StatusCode::CONFLICT, "{body}: {status} {error}");
        assert_error_shape(&error);
        if !field.is_empty() {
            assert_eq!(error["error"]["field"], field, "{body}: {error}");
        } else {
            assert_eq!(error["error"]["code"], "duplicate_invoice_number");
        }
    }
    assert_eq!(api.app.count("invoices").await, 1);

    // Drafts are edited; replacing the lines recomputes the totals.
    let edited = api
        .ok(
            Method::PATCH,
            &format!("/invoices/{id}"),
            Some(json!({"lines": [
                {"kind": "product", "description": "Widget", "quantity": 2, "unit_amount_cents": 1_500, "tax_rate_bps": 2_000},
                {"kind": "service", "description": "Setup, hours", "quantity": 2, "unit_amount_cents": 10_000}
            ]})),
        )
        .await;
    assert_eq!(edited["total_cents"], 23_600);
    assert_eq!(api.ok(Method::GET, &format!("/invoices/{id}"), None).await["lines"].as_array().unwrap().len(), 2);

    // A draft takes no payment; sending books receivable against revenue and tax.
    assert_eq!(
        refused(
            &api,
            Method::POST,
            "/payments",
            Some(json!({"invoice_id": id, "amount_cents": 100, "provider": "bank"})),
            StatusCode::CONFLICT
        )
        .await,
        "invoice_not_sent"
    );
    let sent = api.ok(Method::POST, &format!("/invoices/{id}/send"), None).await;
    assert_eq!(sent["status"], "sent");
    assert_eq!(refused(&api, Method::POST, &format!("/invoices/{id}/send"), None, StatusCode::CONFLICT).await, "invoice_not_draft");
    assert_eq!(
        refused(&api, Method::PATCH, &format!("/invoices/{id}"), Some(json!({"notes": "late edit"})), StatusCode::CONFLICT).await,
        "invoice_not_draft"
    );
    let booked = api.ok(Method::GET, &format!("/journal-entries?invoice_id={id}"), None).await;
    assert_eq!(booked["data"].as_array().unwrap().len(), 1);
    let booking = &booked["data"][0];
    assert_eq!(booking["source"], "invoice");
    assert_eq!(booking["entry_date"], "2026-10-01");
    assert_eq!(
        sides(booking),
        [("1100".into(), 23_600, 0), ("4000".into(), 0, 3_000), ("4100".into(), 0, 20_000), ("2100".into(), 0, 600)]
    );
    assert_eq!(balance(&api, "1100").await, 23_600);

    // Overpaying is refused and changes nothing; partial then full payment.
    let entries_before = api.app.count("journal_entries").await;
    let (status, error) =
        api.call(Method::POST, "/payments", Some(json!({"invoice_id": id, "amount_cents": 23_601, "provider": "bank"}))).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(error["error"]["field"], "amount_cents");
    assert!(error["error"]["message"].as_str().unwrap().contains("balance of 23600"), "{error}");
    assert_eq!(api.app.count("payments").await, 0);
    assert_eq!(api.app.count("journal_entries").await, entries_before);
    let (status, error) = api
        .call(Method::POST, "/payments", Some(json!({"invoice_id": id, "amount_cents": 100, "provider": "bank", "currency": "EUR"})))
        .await;
    assert_eq!((status, error["error"]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("currency")));

    let first = api.ok(Method::POST, "/payments", Some(json!({"invoice_id": id, "amount_cents": 10_000, "provider": "stripe", "reference": "ch_1", "paid_at": "2026-10-15T10:00:00Z"}))).await;
    assert_eq!(first["company_id"], acme_id);
    let after_first = api.ok(Method::GET, &format!("/invoices/{id}"), None).await;
    assert_eq!(
        (after_first["status"].as_str(), after_first["paid_cents"].as_i64(), after_first["balance_cents"].as_i64()),
        (Some("partially_paid"), Some(10_000), Some(13_600))
    );
    assert_eq!(
        refused(
            &api,
            Method::POST,
            "/payments",
            Some(json!({"invoice_id": id, "amount_cents": 1, "provider": "stripe", "reference": "ch_1"})),
            StatusCode::CONFLICT
        )
        .await,
        "duplicate_payment"
    );
    assert_eq!(refused(&api, Method::POST, &format!("/invoices/{id}/void"), None, StatusCode::CONFLICT).await, "invoice_has_payments");
    api.ok(Method::POST, "/payments", Some(json!({"invoice_id": id, "amount_cents": 13_600, "provider": "stripe", "reference": "ch_2"})))
        .await;
    let paid = api.ok(Method::GET, &format!("/invoices/{id}"), None).await;
    assert_eq!((paid["status"].as_str(), paid["balance_cents"].as_i64()), (Some("paid"), Some(0)));
    assert_eq!(
        refused(
            &api,
            Method::POST,
            "/payments",
            Some(json!({"invoice_id": id, "amount_cents": 1, "provider": "bank"})),
            StatusCode::CONFLICT
        )
        .await,
        "invoice_closed"
    );
    assert_eq!(balance(&api, "1100").await, 0);
    assert_eq!(balance(&api, "1000").await, 23_600);
    let payments = api.ok(Method::GET, &format!("/payments?invoice_id={id}"), None).await;
    assert_eq!(payments["data"].as_array().unwrap().len(), 2);

    // Money without an invoice is held as the customer's credit, never lost.
    api.ok(Method::POST, "/payments", Some(json!({"company_id": acme_id, "amount_cents": 5_000, "provider": "bank"}))).await;
    assert_eq!(balance(&api, "2200").await, 5_000);
    assert_eq!(
        refused(
            &api,
            Method::POST,
            "/payments",
            Some(json!({"amount_cents": 5_000, "provider": "bank"})),
            StatusCode::UNPROCESSABLE_ENTITY
        )
        .await,
        "validation_failed"
    );

    // Voiding a sent, unpaid invoice reverses its booking; a draft voids plainly.
    let second = api.ok(Method::POST, "/invoices", Some(json!({"company_id": acme_id, "issue_date": "2026-09-01", "due_date": "2026-09-15", "lines": [{"kind": "service", "description": "Audit", "quantity": 1, "unit_amount_cents": 70_000}]}))).await;
    assert_eq!(second["number"], "INV-000002");
    let second_id = second["id"].as_str().unwrap();
    api.ok(Method::POST, &format!("/invoices/{second_id}/send"), None).await;
    let third = api.ok(Method::POST, "/invoices", Some(json!({"number": "CUSTOM-7", "lines": [{"kind": "product", "description": "Box", "quantity": 3, "unit_amount_cents": 1_000}], "issue_date": "2026-11-01", "due_date": "2026-12-01"}))).await;
    let third_id = third["id"].as_str().unwrap();
    api.ok(Method::POST, &format!("/invoices/{third_id}/send"), None).await;

    let aging = api.ok(Method::GET, "/receivables/aging?as_of=2026-11-20", None).await;
    let rows = aging["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 2, "{aging}");
    assert_eq!(
        (rows[0]["number"].as_str(), rows[0]["bucket"].as_str(), rows[0]["days_overdue"].as_i64()),
        (Some("INV-000002"), Some("61-90"), Some(66))
    );
    assert_eq!(rows[0]["company_name"], "Acme");
    assert_eq!((rows[1]["number"].as_str(), rows[1]["bucket"].as_str()), (Some("CUSTOM-7"), Some("current")));
    assert_eq!(aging["totals"][0]["total_cents"], 73_000);
    assert_eq!(aging["totals"][0]["days_61_90_cents"], 70_000);
    assert_eq!(balance(&api, "1100").await, 73_000, "receivable equals the open balances");

    let voided = api.ok(Method::POST, &format!("/invoices/{second_id}/void"), None).await;
    assert_eq!(voided["status"], "void");
    assert_eq!(refused(&api, Method::POST, &format!("/invoices/{second_id}/void"), None, StatusCode::CONFLICT).await, "invoice_void");
    assert_eq!(balance(&api, "1100").await, 3_000);
    assert_eq!(balance(&api, "4100").await, 20_000);
    let draft = api.ok(Method::POST, "/invoices", Some(json!({}))).await;
    assert_eq!(
        refused(&api, Method::POST, &format!("/invoices/{}/send", draft["id"].as_str().unwrap()), None, StatusCode::UNPROCESSABLE_ENTITY)
            .await,
        "validation_failed"
    );
    api.ok(Method::POST, &format!("/invoices/{}/void", draft["id"].as_str().unwrap()), None).await;

    // Lists filter by status; the trial balance balances throughout.
    let open = api.ok(Method::GET, "/invoices?status=sent", None).await;
    assert_eq!(open["data"].as_array().unwrap().iter().map(|i| i["number"].as_str().unwrap()).collect::<Vec<_>>(), ["CUSTOM-7"]);
    let tb = api.ok(Method::GET, "/trial-balance", None).await;
    assert_eq!(tb["balanced"], true);
    assert_eq!(tb["totals"][0]["debit_cents"], tb["totals"][0]["credit_cents"]);
    let earlier = api.ok(Method::GET, "/trial-balance?as_of=2026-09-30", None).await;
    assert_eq!(earlier["rows"].as_array().unwrap().iter().find(|r| r["code"] == "1100").unwrap()["debit_cents"], 70_000);

    let actions = actions(&api, "").await;
    for expected in ["invoice.created", "invoice.updated", "invoice.sent", "payment.recorded", "invoice.payment_applied", "invoice.voided"]
    {
        assert!(actions.contains(&expected.to_string()), "{expected} missing from {actions:?}");
    }
}

#[tokio::test]
async fn revenue_needs_its_scopes_and_stays_in_its_workspace() {
    let api = new_api().await;
    let invoice = api
        .ok(
            Method::POST,
            "/invoices",
            Some(json!({"lines": [{"kind": "service", "description": "x", "quantity": 1, "unit_amount_cents": 100}]})),
        )
        .await;
    let id = invoice["id"].as_str().unwrap();

    let owner = api.app.sign_up("second@revenue.test").await;
    let crm_only = api.app.api_key(&owner, &["crm:write"]).await;
    let (status, body) = send(&api.client, Method::GET, &api.app.url("/api/v1/invoices"), Some(&crm_only), None).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(assert_error_shape(&body), "forbidden");
    let reader = api.app.api_key(&owner, &["revenue:read"]).await;
    let (status, _) = send(&api.client, Method::POST, &api.app.url("/api/v1/invoices"), Some(&reader), Some(json!({}))).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    for path in [format!("/api/v1/invoices/{id}"), format!("/api/v1/invoices/{id}/send")] {
        let method = if path.ends_with("send") { Method::POST } else { Method::GET };
        let other = api.app.api_key(&owner, &["revenue:write"]).await;
        let (status, _) = send(&api.client, method, &api.app.url(&path), Some(&other), None).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
    }
    let (_, theirs) = send(&api.client, Method::GET, &api.app.url("/api/v1/invoices"), Some(&reader), None).await;
    assert_eq!(theirs["data"].as_array().unwrap().len(), 0);
    let (_, tb) = send(&api.client, Method::GET, &api.app.url("/api/v1/trial-balance"), Some(&reader), None).await;
    assert_eq!(tb["rows"].as_array().unwrap().len(), 0);
    assert_eq!(api.ok(Method::GET, &format!("/invoices/{id}"), None).await["status"], "draft");
}

/// The lead-to-cash path: website lead → conversion → custom stage → deal
/// update → invoice → $9,000 payment → journal entries → activity, with an
/// audit row at each step.
#[tokio::test]
async fn lead_to_cash_end_to_end() {
    let api = new_api().await;
    let mut expected_actions: Vec<&str> = Vec::new();

    let lead = api
        .ok(
            Method::POST,
            "/leads",
            Some(json!({"name": "Grace Hopper", "email": "grace@navy.example", "company_name": "US Navy", "source": "website"})),
        )
        .await;
    assert_eq!(lead["source"], "website");
    expected_actions.push("lead.created");
    let lead_id = lead["id"].as_str().unwrap();

    let stages = api.ok(Method::GET, "/deal-stages", None).await;
    let qualified = stages.as_array().unwrap().iter().find(|s| s["key"] == "qualified").unwrap().clone();
    let conversion = api
        .ok(
            Method::POST,
            &format!("/leads/{lead_id}/convert"),
            Some(json!({"deal": {"stage_id": qualified["id"], "amount_cents": 800_000}})),
        )
        .await;
    expected_actions.extend(["lead.converted", "contact.created", "company.created", "deal.created"]);
    let deal_id = conversion["deal"]["id"].as_str().unwrap().to_string();
    let company_id = conversion["company"]["id"].as_str().unwrap().to_string();
    let contact_id = conversion["contact"]["id"].as_str().unwrap().to_string();

    let (status, security_review) = api
        .call(
            Method::POST,
            "/deal-stages",
            Some(json!({"key": "security_review", "name": "Security review", "kind": "open", "probability": 70, "position": 3})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{security_review}");
    expected_actions.push("deal_stage.created");
    let moved = api.ok(Method::PATCH, &format!("/deals/{deal_id}"), Some(json!({"stage_id": security_review["id"]}))).await;
    assert_eq!(moved["stage_id"], security_review["id"]);
    expected_actions.push("deal.stage_changed");
    let won = stages.as_array().unwrap().iter().find(|s| s["key"] == "won").unwrap().clone();
    let updated = api
        .ok(
            Method::PATCH,
            &format!("/deals/{deal_id}"),
            Some(json!({"amount_cents": 900_000, "expected_close_date": "2026-12-15", "stage_id": won["id"]})),
        )
        .await;
    assert_eq!(updated["amount_cents"], 900_000);
    assert!(updated["closed_at"].is_string());

    let invoice = api
        .ok(
            Method::POST,
            "/invoices",
            Some(json!({
                "deal_id": deal_id, "company_id": company_id, "contact_id": contact_id, "lead_id": lead_id,
                "lines": [{"kind": "service", "description": "Annual subscription", "quantity": 1, "unit_amount_cents": 900_000}]
            })),
        )
        .await;
    assert_eq!(invoice["currency"], "USD", "the deal's currency");
    expected_actions.push("invoice.created");
    let invoice_id = invoice["id"].as_str().unwrap().to_string();
    api.ok(Method::POST, &format!("/invoices/{invoice_id}/send"), None).await;
    expected_actions.push("invoice.sent");
    let payment = api
        .ok(
            Method::POST,
            "/payments",
            Some(json!({"invoice_id": invoice_id, "amount_cents": 900_000, "provider": "stripe", "reference": "pi_9000"})),
        )
        .await;
    expected_actions.extend(["payment.recorded", "invoice.payment_applied"]);
    assert_eq!(payment["amount_cents"], 900_000);
    assert_eq!(api.ok(Method::GET, &format!("/invoices/{invoice_id}"), None).await["status"], "paid");

    let journal = api.ok(Method::GET, &format!("/journal-entries?invoice_id={invoice_id}"), None).await;
    let entries = journal["data"].as_array().unwrap();
    assert_eq!(entries.len(), 2);
    let by_source = |source: &str| entries.iter().find(|e| e["source"] == source).unwrap().clone();
    assert_eq!(sides(&by_source("invoice")), [("1100".into(), 900_000, 0), ("4100".into(), 0, 900_000)]);
    assert_eq!(sides(&by_source("payment")), [("1000".into(), 900_000, 0), ("1100".into(), 0, 900_000)]);
    assert_eq!(by_source("payment")["payment_id"], payment["id"]);
    assert_eq!(balance(&api, "1000").await, 900_000);
    assert_eq!(balance(&api, "1100").await, 0);
    assert_eq!(balance(&api, "4100").await, 900_000);

    let (status, activity) = api
        .call(
            Method::POST,
            "/activities",
            Some(json!({"kind": "email", "subject": "Receipt sent for INV-000001", "deal_id": deal_id, "company_id": company_id})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{activity}");
    expected_actions.push("activity.created");

    let actions = actions(&api, "").await;
    for expected in expected_actions {
        assert!(actions.contains(&expected.to_string()), "{expected} missing from {actions:?}");
    }
    let stage_moves = api.ok(Method::GET, &format!("/audit-events?action=deal.stage_changed&entity_id={deal_id}"), None).await;
    let moves = stage_moves["data"].as_array().unwrap();
    assert_eq!(moves.len(), 2, "{stage_moves}");
    assert_eq!(moves[1]["before"]["stage_key"], "qualified");
    assert_eq!(moves[1]["after"]["stage_key"], "security_review");
    assert_eq!(moves[0]["after"]["stage_key"], "won");
}
