//! Attribution and rollups: a lead arrives through a capture form with UTM
//! parameters and an ad click id, carries its campaign through conversion,
//! a deal won, an invoice and a payment; the rollup's leads, deals,
//! revenue, cash, spend, CAC and return agree with the ledger to the cent.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::common::{Api, TestApp};
use crate::mcp::call_tool;

async fn signed_submit(app: &TestApp, slug: &str, secret: &str, body: Value) -> (StatusCode, Value) {
    let bytes = serde_json::to_vec(&body).unwrap();
    let signature = app::audience::forms::body_signature(secret, chrono::Utc::now().timestamp(), &bytes);
    let response = reqwest::Client::new()
        .post(app.url(&format!("/api/v1/public/forms/{slug}")))
        .header("content-type", "application/json")
        .header("x-corral-signature", signature)
        .body(bytes)
        .send()
        .await
        .unwrap();
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// The public answer never says which lead a submission made.
async fn lead_by_email(api: &Api, email: &str) -> Value {
    let found = api.ok(Method::GET, &format!("/leads?q={}", email.replace('@', "%40")), None).await;
    let lead = found["data"].as_array().unwrap().iter().find(|l| l["email"] == email).expect("the lead").clone();
    api.ok(Method::GET, &format!("/leads/{}", lead["id"].as_str().unwrap()), None).await
}

#[tokio::test]
async fn a_campaigns_leads_carry_it_to_cash_and_the_rollup_agrees_with_the_ledger() {
    let api =
        Api::new("rollups@example.com", &["crm:read", "crm:write", "revenue:read", "revenue:write", "marketing:read", "marketing:write"])
            .await;
    let campaign = api.ok(Method::POST, "/marketing/campaigns", Some(json!({"name": "Spring launch", "channel": "ads"}))).await;
    let campaign_id = campaign["id"].as_str().unwrap().to_string();
    let other = api.ok(Method::POST, "/marketing/campaigns", Some(json!({"name": "Webinar", "channel": "email"}))).await;

    // Two forms: one names its campaign; the other's leads name theirs in utm_campaign.
    let form = api
        .ok(
            Method::POST,
            "/forms",
            Some(json!({"name": "Demo request", "fields": [{"name": "email"}, {"name": "name"}], "campaign_id": campaign_id})),
        )
        .await;
    let plain = api.ok(Method::POST, "/forms", Some(json!({"name": "Newsletter", "fields": [{"name": "email"}]}))).await;
    let (status, submitted) = signed_submit(
        &api.app,
        form["slug"].as_str().unwrap(),
        form["signing_secret"].as_str().unwrap(),
        json!({"email": "ada@example.com", "name": "Ada", "utm_source": "google", "utm_medium": "cpc", "gclid": "Cj0KCQ-test"}),
    )
    .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{submitted}");
    let lead = lead_by_email(&api, "ada@example.com").await;
    let lead_id = lead["id"].as_str().unwrap().to_string();
    assert_eq!(lead["campaign_id"], campaign_id.as_str(), "{lead}");
    assert_eq!(
        (lead["attribution"]["via"].as_str(), lead["attribution"]["gclid"].as_str()),
        (Some("ad_click"), Some("Cj0KCQ-test")),
        "{lead}"
    );
    let (status, second) = signed_submit(
        &api.app,
        plain["slug"].as_str().unwrap(),
        plain["signing_secret"].as_str().unwrap(),
        json!({"email": "grace@example.com", "utm_campaign": "webinar"}),
    )
    .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{second}");
    let grace = lead_by_email(&api, "grace@example.com").await;
    assert_eq!((grace["campaign_id"].as_str(), grace["attribution"]["via"].as_str()), (other["id"].as_str(), Some("utm")), "{grace}");
    // First touch wins: Ada coming back through the other form keeps her campaign.
    signed_submit(
        &api.app,
        plain["slug"].as_str().unwrap(),
        plain["signing_secret"].as_str().unwrap(),
        json!({"email": "ada@example.com", "utm_campaign": "webinar"}),
    )
    .await;
    assert_eq!(api.ok(Method::GET, &format!("/leads/{lead_id}"), None).await["campaign_id"], campaign_id.as_str());

    // Conversion, a deal won, an invoice and a part payment.
    let converted = api
        .ok(
            Method::POST,
            &format!("/leads/{lead_id}/convert"),
            Some(json!({"create_deal": true, "deal_name": "Ada's rollout", "amount_cents": 1_200_000})),
        )
        .await;
    let deal_id = converted["deal"]["id"].as_str().unwrap().to_string();
    let stages = api.ok(Method::GET, "/deal-stages", None).await;
    let won = stages.as_array().unwrap().iter().find(|s| s["kind"] == "won").unwrap().clone();
    api.ok(Method::PATCH, &format!("/deals/{deal_id}"), Some(json!({"stage_key": won["key"]}))).await;
    let invoice = api
        .ok(
            Method::POST,
            "/invoices",
            Some(json!({"deal_id": deal_id, "company_id": converted["company"]["id"], "currency": "USD",
                        "line_items": [{"kind": "service", "name": "Rollout", "quantity": 1, "unit_amount_cents": 1_200_000}]})),
        )
        .await;
    let invoice_id = invoice["id"].as_str().unwrap().to_string();
    api.ok(Method::POST, &format!("/invoices/{invoice_id}/send"), None).await;
    api.ok(Method::POST, "/payments", Some(json!({"invoice_id": invoice_id, "amount_cents": 450_055}))).await;

    // Ad spend synced for the campaign (written as the ad worker writes it).
    let account = api
        .ok(
            Method::POST,
            "/marketing/ad-accounts",
            Some(json!({"platform": "meta", "name": "Meta", "external_account_id": "act_1", "credentials": {"access_token": "t"}})),
        )
        .await;
    let segment = api
        .ok(
            Method::POST,
            "/lists",
            Some(json!({"name": "All", "rules": {"match": "all", "rules": [{"field": "score", "op": "gte", "value": 0}]}})),
        )
        .await;
    let brand = api
        .ok(
            Method::POST,
            "/marketing/brands",
            Some(json!({"name": "B", "from_name": "B", "from_email": "b@b.test", "footer": "B Inc, 1 St"})),
        )
        .await;
    let ad = api
        .ok(
            Method::POST,
            "/marketing/ads",
            Some(json!({"ad_account_id": account["id"], "campaign_id": campaign_id, "objective": "leads", "segment_id": segment["id"],
                        "brand_id": brand["id"], "daily_budget_minor": 10_000, "final_url": "https://b.test"})),
        )
        .await;
    let today = chrono::Utc::now().date_naive();
    {
        let mut tx = api.app.db.begin().await.unwrap();
        for (days_ago, spend, clicks) in [(1i64, 12_345i64, 40i64), (0, 7_655, 10)] {
            let ad_id: uuid::Uuid = ad["id"].as_str().unwrap().parse().unwrap();
            let workspace: uuid::Uuid = ad["workspace_id"].as_str().unwrap().parse().unwrap();
            tx.execute(
                app::platform::db::Q::new(
                    "INSERT INTO ad_metrics_daily (ad_campaign_id, workspace_id, day, spend_minor, impressions, clicks, conversions, synced_at) \
                     VALUES ($1, $2, $3, $4, 1000, $5, 1, $6)",
                )
                .bind(ad_id)
                .bind(workspace)
                .bind(today - chrono::Duration::days(days_ago))
                .bind(spend)
                .bind(clicks)
                .bind(app::platform::db::now()),
            )
            .await
            .unwrap();
        }
        tx.commit().await.unwrap();
    }

    let from = (today - chrono::Duration::days(6)).to_string();
    let rollups = api.ok(Method::GET, &format!("/marketing/rollups?from={from}&to={today}"), None).await;
    let line = rollups["campaigns"].as_array().unwrap().iter().find(|l| l["campaign_id"] == campaign_id.as_str()).unwrap().clone();
    assert_eq!(
        (
            line["leads"].as_i64(),
            line["conversions"].as_i64(),
            line["deals_won"].as_i64(),
            line["customers_won"].as_i64(),
            line["clicks"].as_i64()
        ),
        (Some(1), Some(1), Some(1), Some(1), Some(50)),
        "{line}"
    );
    assert_eq!(line["revenue_booked"], json!([{"currency": "USD", "amount_cents": 1_200_000}]));
    assert_eq!(line["cash_received"], json!([{"currency": "USD", "amount_cents": 450_055}]));
    assert_eq!(line["spend"], json!([{"currency": "USD", "amount_cents": 20_000}]));
    assert_eq!(line["cac"], json!([{"currency": "USD", "amount_cents": 20_000}]), "one customer won");
    assert_eq!(line["return_on_spend"], json!([{"currency": "USD", "ratio": 22.5}]), "450,055 / 20,000");

    // The cash agrees with the ledger's cash account to the cent.
    let accounts = api.ok(Method::GET, "/ledger-accounts", None).await;
    let cash = accounts.as_array().unwrap().iter().find(|a| a["system_role"] == "cash" || a["code"] == "1000").unwrap().clone();
    let ledger = api.ok(Method::GET, &format!("/ledger-accounts/{}/ledger", cash["id"].as_str().unwrap()), None).await;
    let in_ledger: i64 =
        ledger["rows"].as_array().unwrap().iter().map(|r| r["debit_cents"].as_i64().unwrap() - r["credit_cents"].as_i64().unwrap()).sum();
    assert_eq!(rollups["totals"]["cash_received"][0]["amount_cents"].as_i64(), Some(in_ledger));
    assert_eq!(rollups["totals"]["leads"], 2, "both attributed leads arrived in the range");
    let ads_channel = rollups["channels"].as_array().unwrap().iter().find(|c| c["channel"] == "ads").unwrap();
    assert_eq!(ads_channel["spend"][0]["amount_cents"], 20_000);
    let trend = rollups["trend"].as_array().unwrap();
    assert_eq!(trend.len(), 7);
    assert_eq!(trend.iter().map(|d| d["spend_minor"].as_i64().unwrap()).sum::<i64>(), 20_000);
    assert_eq!(trend.last().unwrap()["cash_minor"], 450_055);

    // Filters, MCP, and bad ranges.
    let only = api.ok(Method::GET, &format!("/marketing/rollups?from={from}&to={today}&channel=email"), None).await;
    assert_eq!((only["campaigns"].as_array().unwrap().len(), only["totals"]["leads"].as_i64()), (1, Some(1)));
    let by_tool =
        call_tool(&api.app, &api.key, "get_marketing_rollups", json!({"from": from, "to": today.to_string(), "campaign_id": campaign_id}))
            .await;
    assert_eq!(by_tool["structuredContent"]["rollups"]["totals"]["cash_received"][0]["amount_cents"], 450_055, "{by_tool}");
    let (status, error) = api.call(Method::GET, &format!("/marketing/rollups?from={today}&to={from}"), None).await;
    assert_eq!((status, error["error"]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("from")));
}
