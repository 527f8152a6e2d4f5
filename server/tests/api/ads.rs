//! Ads: accounts per platform, campaigns behind the approval gate, each
//! platform adapter against a stand-in of its API on loopback that checks
//! the requests it gets (headers, paths, bodies) and answers as the
//! platform does, the hashed audience hand-off, and metric syncs.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::http::{HeaderMap, Method as HttpMethod, StatusCode as HttpStatus, Uri};
use axum::response::{IntoResponse, Response};
use reqwest::{Client, Method, StatusCode};
use serde_json::{json, Value};

use crate::common::{send, test_config, TestApp};
use crate::mcp::call_tool;

/// One request the stand-in received.
#[derive(Clone, Debug)]
struct Seen {
    method: String,
    path: String,
    query: String,
    headers: HeaderMap,
    body: String,
}

impl Seen {
    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or(Value::Null)
    }

    fn form(&self) -> Vec<(String, String)> {
        form_urlencoded::parse(self.body.as_bytes()).into_owned().collect()
    }

    fn field(&self, name: &str) -> Option<String> {
        self.form().into_iter().find(|(k, _)| k == name).map(|(_, v)| v)
    }
}

/// A stand-in of Google Ads, LinkedIn Marketing and Meta Graph APIs: it
/// refuses requests missing what the real API requires, and answers with
/// the real API's shapes.
struct StandIn {
    url: String,
    seen: Arc<Mutex<Vec<Seen>>>,
}

fn refuse(why: &str) -> Response {
    (HttpStatus::BAD_REQUEST, axum::Json(json!({ "error": { "message": why } }))).into_response()
}

fn answer(method: &HttpMethod, uri: &Uri, headers: &HeaderMap, body: &str) -> Response {
    let path = uri.path();
    let bearer = headers.get("authorization").and_then(|v| v.to_str().ok()).unwrap_or_default();
    if bearer != "Bearer token-123" {
        return (HttpStatus::UNAUTHORIZED, axum::Json(json!({ "error": { "message": "invalid access token" } }))).into_response();
    }
    let json_body: Value = serde_json::from_str(body).unwrap_or(Value::Null);
    // Google Ads: every call needs the developer token; mutate bodies hold operations.
    if let Some(rest) = path.strip_prefix("/v22/") {
        if headers.get("developer-token").and_then(|v| v.to_str().ok()) != Some("dev-456") {
            return refuse("missing developer-token");
        }
        if rest.ends_with("googleAds:search") {
            let query = json_body["query"].as_str().unwrap_or_default();
            if !query.contains("metrics.cost_micros") || !query.contains("segments.date BETWEEN") {
                return refuse("bad GAQL");
            }
            return axum::Json(json!({ "results": [
                { "campaign": { "resourceName": "customers/1234567890/campaigns/222" },
                  "metrics": { "costMicros": "12345678", "impressions": "1000", "clicks": "40", "conversions": 3.0 },
                  "segments": { "date": "2026-11-23" } },
                { "campaign": { "resourceName": "customers/1234567890/campaigns/222" },
                  "metrics": { "costMicros": "5000000", "impressions": "500", "clicks": "10", "conversions": 1.0 },
                  "segments": { "date": "2026-11-24" } },
            ]}))
            .into_response();
        }
        if rest.ends_with("offlineUserDataJobs:create") {
            if json_body["job"]["type"] != "CUSTOMER_MATCH_USER_LIST"
                || json_body["job"]["customerMatchUserListMetadata"]["userList"].is_null()
            {
                return refuse("bad job");
            }
            return axum::Json(json!({ "resourceName": "customers/1234567890/offlineUserDataJobs/444" })).into_response();
        }
        if rest.ends_with(":addOperations") {
            if json_body["operations"].as_array().is_none_or(|o| o.is_empty() || o.len() > 10_000) {
                return refuse("operations");
            }
            return axum::Json(json!({})).into_response();
        }
        if rest.ends_with(":run") {
            return axum::Json(json!({ "name": "customers/1234567890/operations/1" })).into_response();
        }
        let Some(operation) = json_body["operations"][0].as_object() else { return refuse("no operations") };
        let kind = if rest.ends_with("campaignBudgets:mutate") {
            "campaignBudgets/111"
        } else if rest.ends_with("campaigns:mutate") {
            if let Some(create) = operation.get("create") {
                if create["status"] != "PAUSED" || create["campaignBudget"] != "customers/1234567890/campaignBudgets/111" {
                    return refuse("a new campaign must be paused and name its budget");
                }
            }
            "campaigns/222"
        } else if rest.ends_with("userLists:mutate") {
            "userLists/333"
        } else {
            return refuse("unknown method");
        };
        return axum::Json(json!({ "results": [{ "resourceName": format!("customers/1234567890/{kind}") }] })).into_response();
    }
    // Meta Graph API: form posts.
    if let Some(rest) = path.strip_prefix("/v25.0/") {
        let form: Vec<(String, String)> = form_urlencoded::parse(body.as_bytes()).into_owned().collect();
        let field = |n: &str| form.iter().find(|(k, _)| k == n).map(|(_, v)| v.clone());
        if *method == HttpMethod::GET && rest.ends_with("/insights") {
            return axum::Json(json!({ "data": [
                { "date_start": "2026-11-24", "date_stop": "2026-11-24", "spend": "12.34", "impressions": "900", "clicks": "31",
                  "actions": [{ "action_type": "lead", "value": "4" }, { "action_type": "link_click", "value": "31" }] }
            ], "paging": {} }))
            .into_response();
        }
        if rest == "act_5550001/campaigns" {
            if field("status").as_deref() != Some("PAUSED") || field("objective").is_none() || field("special_ad_categories").is_none() {
                return refuse("campaigns need objective, status PAUSED and special_ad_categories");
            }
            return axum::Json(json!({ "id": "120001" })).into_response();
        }
        if rest == "act_5550001/customaudiences" {
            if field("subtype").as_deref() != Some("CUSTOM") || field("customer_file_source").is_none() {
                return refuse("customer file audiences need subtype CUSTOM and customer_file_source");
            }
            return axum::Json(json!({ "id": "230001" })).into_response();
        }
        if rest == "230001/users" {
            let payload: Value = field("payload").and_then(|p| serde_json::from_str(&p).ok()).unwrap_or(Value::Null);
            let rows = payload["data"].as_array().map(|d| d.len()).unwrap_or(0);
            if payload["schema"] != json!(["EMAIL_SHA256", "PHONE_SHA256"]) || rows == 0 || rows > 10_000 {
                return refuse("payload: schema and 1 to 10,000 rows");
            }
            return axum::Json(json!({ "audience_id": "230001", "session_id": "1", "num_received": rows, "num_invalid_entries": 0 }))
                .into_response();
        }
        if rest == "120001" {
            return axum::Json(json!({ "success": true })).into_response();
        }
        return refuse("unknown Graph path");
    }
    // LinkedIn: versioned REST with Rest.li 2.0.
    if let Some(rest) = path.strip_prefix("/rest/") {
        if headers.get("linkedin-version").is_none()
            || headers.get("x-restli-protocol-version").and_then(|v| v.to_str().ok()) != Some("2.0.0")
        {
            return refuse("LinkedIn-Version and X-Restli-Protocol-Version are required");
        }
        let restli_method = headers.get("x-restli-method").and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
        if rest == "adAccounts/507404993/adCampaigns" {
            if json_body["status"] != "PAUSED"
                || json_body["campaignGroup"] != "urn:li:sponsoredCampaignGroup:9001"
                || json_body["dailyBudget"]["currencyCode"] != "USD"
            {
                return refuse("a campaign needs a campaign group, a daily budget and status PAUSED");
            }
            return (HttpStatus::CREATED, [("x-restli-id", "345")]).into_response();
        }
        if rest == "adAccounts/507404993/adCampaigns/345" {
            if restli_method != "PARTIAL_UPDATE" || json_body["patch"]["$set"].is_null() {
                return refuse("partial updates need X-RestLi-Method: PARTIAL_UPDATE and a patch");
            }
            return HttpStatus::NO_CONTENT.into_response();
        }
        if rest == "dmpSegments" {
            if json_body["type"] != "USER" || json_body["account"] != "urn:li:sponsoredAccount:507404993" {
                return refuse("bad segment");
            }
            return (HttpStatus::CREATED, [("x-restli-id", "678")]).into_response();
        }
        if rest == "dmpSegments/678/users" {
            if restli_method != "BATCH_CREATE" || json_body["elements"][0]["userIds"][0]["idType"] != "SHA256_EMAIL" {
                return refuse("users are a BATCH_CREATE of SHA256_EMAIL ids");
            }
            let n = json_body["elements"].as_array().map(|e| e.len()).unwrap_or(0);
            return axum::Json(json!({ "elements": vec![json!({ "status": 201 }); n] })).into_response();
        }
        if rest == "adAnalytics" {
            let query = uri.query().unwrap_or_default();
            if !query.contains("q=analytics") || !query.contains("timeGranularity=DAILY") || !query.contains("sponsoredCampaign%3A345") {
                return refuse("bad analytics query");
            }
            return axum::Json(json!({ "elements": [
                { "costInLocalCurrency": "45.5", "impressions": 2000, "clicks": 25, "oneClickLeads": 2, "externalWebsiteConversions": 1,
                  "dateRange": { "start": { "year": 2026, "month": 11, "day": 24 }, "end": { "year": 2026, "month": 11, "day": 24 } } }
            ]}))
            .into_response();
        }
        return refuse("unknown LinkedIn path");
    }
    refuse("unknown API")
}

impl StandIn {
    async fn start() -> StandIn {
        let seen: Arc<Mutex<Vec<Seen>>> = Arc::default();
        let record = seen.clone();
        let router = axum::Router::new().fallback(move |method: HttpMethod, uri: Uri, headers: HeaderMap, body: Bytes| {
            let record = record.clone();
            async move {
                let body = String::from_utf8_lossy(&body).to_string();
                record.lock().unwrap().push(Seen {
                    method: method.to_string(),
                    path: uri.path().to_string(),
                    query: uri.query().unwrap_or_default().to_string(),
                    headers: headers.clone(),
                    body: body.clone(),
                });
                answer(&method, &uri, &headers, &body)
            }
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
        StandIn { url, seen }
    }

    fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }

    fn calls_to(&self, suffix: &str) -> Vec<Seen> {
        self.seen().into_iter().filter(|s| s.path.ends_with(suffix)).collect()
    }
}

/// A workspace with an owner, an author key, an approver key, a brand, a
/// segment of leads with emails and phones, and the stand-in platform.
struct Ads {
    app: TestApp,
    author: String,
    approver: String,
    brand: String,
    segment: String,
    platform: StandIn,
}

impl Ads {
    async fn new() -> Ads {
        let app = TestApp::spawn_with(test_config()).await;
        let owner = app.sign_up("owner-ads@example.com").await;
        let author = app.api_key(&owner, &["crm:read", "crm:write", "marketing:read", "marketing:write"]).await;
        let approver = app.api_key(&owner, &["marketing:read", "marketing:write", "marketing:approve"]).await;
        let platform = StandIn::start().await;
        let mut ads = Ads { app, author, approver, brand: String::new(), segment: String::new(), platform };
        ads.brand = ads
            .ok(
                Method::POST,
                "/marketing/brands",
                json!({"name": "Acme", "from_name": "Acme", "from_email": "hi@acme.test", "footer": "Acme Inc., 1 Main St"}),
            )
            .await["id"]
            .as_str()
            .unwrap()
            .to_string();
        ads.segment = ads
            .ok(
                Method::POST,
                "/lists",
                json!({"name": "Hot", "rules": {"match": "all", "rules": [{"field": "score", "op": "gte", "value": 50}]}}),
            )
            .await["id"]
            .as_str()
            .unwrap()
            .to_string();
        for (name, email, phone) in [
            ("Jane Doe", Some(" Jane.Doe@Example.COM "), Some("(415) 555-0100")),
            ("Raj Patel", Some("raj@example.org"), None),
            ("No Email", None, Some("+44 20 7946 0958")),
        ] {
            ads.ok(Method::POST, "/leads", json!({"name": name, "email": email, "phone": phone, "score": 60})).await;
        }
        ads.ok(Method::POST, "/leads", json!({"name": "Cold", "email": "cold@example.com", "score": 1})).await;
        ads
    }

    async fn call_as(&self, key: &str, method: Method, path: &str, body: Option<Value>) -> (StatusCode, Value) {
        send(&Client::new(), method, &self.app.url(&format!("/api/v1{path}")), Some(key), body).await
    }

    async fn ok(&self, method: Method, path: &str, body: Value) -> Value {
        let body = if body.is_null() { None } else { Some(body) };
        let (status, value) = self.call_as(&self.author, method.clone(), path, body).await;
        assert!(status.is_success(), "{method} {path}: {status} {value}");
        value
    }

    async fn account(&self, platform: &str) -> String {
        let (external, credentials) = match platform {
            "google" => ("123-456-7890", json!({"access_token": "token-123", "developer_token": "dev-456"})),
            "linkedin" => ("507404993", json!({"access_token": "token-123", "campaign_group_id": "9001"})),
            _ => ("act_5550001", json!({"access_token": "token-123"})),
        };
        let account = self
            .ok(
                Method::POST,
                "/marketing/ad-accounts",
                json!({"platform": platform, "name": format!("{platform} main"), "external_account_id": external,
                       "api_base_url": self.platform.url, "credentials": credentials}),
            )
            .await;
        assert!(account.get("credentials").is_none() && account["credentials_set"][0] == "access_token", "write-only: {account}");
        account["id"].as_str().unwrap().to_string()
    }

    async fn draft(&self, platform: &str, budget: i64) -> Value {
        self.ok(
            Method::POST,
            "/marketing/ads",
            json!({"platform": platform, "objective": "leads", "segment_id": self.segment, "brand_id": self.brand,
                   "daily_budget_minor": budget, "final_url": "https://acme.test/demo"}),
        )
        .await
    }

    async fn get(&self, id: &str) -> Value {
        self.ok(Method::GET, &format!("/marketing/ads/{id}"), Value::Null).await
    }

    async fn wait_for(&self, id: &str, status: &str) -> Value {
        for _ in 0..200 {
            let campaign = self.get(id).await;
            if campaign["status"] == status {
                return campaign;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("ad campaign {id} never became {status}: {}", self.get(id).await);
    }

    async fn wait_for_calls(&self, suffix: &str, n: usize) -> Vec<Seen> {
        for _ in 0..200 {
            let calls = self.platform.calls_to(suffix);
            if calls.len() >= n {
                return calls;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("the platform never got {n} calls to {suffix}: {:?}", self.platform.seen().iter().map(|s| &s.path).collect::<Vec<_>>());
    }

    async fn approve(&self, id: &str) {
        let (status, outcome) = self.call_as(&self.approver, Method::POST, &format!("/marketing/ads/{id}/approve"), None).await;
        assert_eq!(status, StatusCode::OK, "{outcome}");
        assert_eq!(outcome["status"], "approved");
    }
}

#[tokio::test]
async fn an_ad_campaign_reaches_its_platform_only_after_approval_and_pause_and_cancel_reach_it_too() {
    let ads = Ads::new().await;
    ads.account("meta").await;
    let draft = ads.draft("meta", 10_000).await;
    let id = draft["id"].as_str().unwrap().to_string();
    assert_eq!(draft["status"], "draft");
    assert_eq!(draft["monthly_budget_minor"], 304_000, "USD 100 a day is USD 3,040 a month");
    assert_eq!(draft["creatives"].as_array().unwrap().len(), 3, "variants from templates: {draft}");

    // Every launch path without an approval: nothing reaches the platform.
    let (status, refused) = ads.call_as(&ads.author, Method::POST, &format!("/marketing/ads/{id}/launch"), None).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{refused}");
    assert_eq!(refused["status"], "pending_approval");
    assert!(refused["approval_request"]["id"].is_string() && refused["approval_request"]["subject_type"] == "ad_campaign");
    let by_tool = call_tool(
        &ads.app,
        &ads.author,
        "launch_ad_campaign",
        json!({"platform": "meta", "objective": "leads", "segment_id": ads.segment, "brand_id": ads.brand, "daily_budget_usd": 100}),
    )
    .await;
    let by_tool = &by_tool["structuredContent"];
    assert_eq!(by_tool["status"], "pending_approval", "{by_tool}");
    assert_eq!(by_tool["ad_campaign"]["id"], id.as_str(), "the same description is the same campaign");
    assert_eq!(by_tool["approval_request"]["id"], refused["approval_request"]["id"]);
    let (status, _) = ads.call_as(&ads.author, Method::POST, &format!("/marketing/ads/{id}/resume"), None).await;
    assert_eq!(status, StatusCode::CONFLICT);
    // The author cannot approve its own campaign: it stays queued.
    let (status, own) = ads.call_as(&ads.author, Method::POST, &format!("/marketing/ads/{id}/approve"), None).await;
    assert_eq!((status, own["status"].as_str()), (StatusCode::ACCEPTED, Some("pending_approval")), "{own}");
    let queue = ads.ok(Method::GET, "/marketing/approvals", Value::Null).await;
    let item = queue.as_array().unwrap().iter().find(|i| i["request"]["subject_id"] == id.as_str()).expect("in the approvers' queue");
    assert_eq!(item["review_url"], format!("/ads/{id}"));
    assert!(item["summary"].as_str().unwrap().contains("100.00 USD a day on Meta"), "{item}");
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(ads.platform.seen().is_empty(), "nothing reached the platform before approval: {:?}", ads.platform.seen());

    // Approved, then a creative edit voids the approval.
    ads.approve(&id).await;
    let approved = ads.get(&id).await;
    assert_eq!(approved["audience_count"], 3, "three people can be matched (the cold lead is not in the segment)");
    let mut creatives = approved["creatives"].clone();
    creatives[0]["headline"] = json!("A new headline");
    let edited = ads.ok(Method::PATCH, &format!("/marketing/ads/{id}"), json!({"creatives": creatives})).await;
    assert_eq!(edited["status"], "draft", "{edited}");
    assert_eq!(edited["version"], 2);
    assert!(edited["status_reason"].as_str().unwrap().contains("needs a new approval"));
    let review = ads.ok(Method::GET, &format!("/marketing/ads/{id}/review"), Value::Null).await;
    assert!(review["changes_since_approval"].as_array().unwrap().iter().any(|c| c["field"] == "creatives[0].headline"), "{review}");
    let (status, _) = ads.call_as(&ads.author, Method::POST, &format!("/marketing/ads/{id}/launch"), None).await;
    assert_eq!(status, StatusCode::ACCEPTED, "an edited campaign is not launched on the old approval");
    assert!(ads.platform.seen().is_empty());
    let voided = ads.app.count_where("audit_events", "action = 'ad_campaign.approval_voided'").await;
    assert_eq!(voided, 1);

    // Approved again and launched: created paused, audience uploaded, then activated.
    ads.approve(&id).await;
    let (status, launched) = ads.call_as(&ads.author, Method::POST, &format!("/marketing/ads/{id}/launch"), None).await;
    assert_eq!((status, launched["status"].as_str()), (StatusCode::OK, Some("launching")), "{launched}");
    let active = ads.wait_for(&id, "active").await;
    assert_eq!(active["external_campaign_id"], "120001");
    assert_eq!(active["audience"]["status"], "uploaded", "{active}");
    assert_eq!(active["audience"]["matched_count"], 3);
    let order: Vec<String> = ads.platform.seen().iter().map(|s| format!("{} {}", s.method, s.path)).collect();
    assert_eq!(
        order,
        ["POST /v25.0/act_5550001/campaigns", "POST /v25.0/act_5550001/customaudiences", "POST /v25.0/230001/users", "POST /v25.0/120001",]
    );
    let created = &ads.platform.calls_to("act_5550001/campaigns")[0];
    assert_eq!(created.field("daily_budget").as_deref(), Some("10000"));
    assert_eq!(created.field("objective").as_deref(), Some("OUTCOME_LEADS"));
    let users = &ads.platform.calls_to("230001/users")[0];
    let payload: Value = serde_json::from_str(&users.field("payload").unwrap()).unwrap();
    let mut rows: Vec<Value> = payload["data"].as_array().unwrap().clone();
    rows.sort_by_key(|r| r.to_string());
    let mut expected = vec![
        // printf 'jane.doe@example.com' | sha256sum; printf '14155550100' | sha256sum (Meta: no +)
        json!([
            "86e0b9e56c17cc4d12387e1949b85053fbe73bc3ce5a1188713a9d300cc6133d",
            "5e7ec4c79ccac6e420876e65ad0e6b4b2ccf73ec3dccb50297bf2890a1ec73b9"
        ]),
        // printf 'raj@example.org' | sha256sum
        json!(["d95245cd62e159de63050f71ad37e571b21573b6a716d42a5b99438959adc762", ""]),
        // printf '442079460958' | sha256sum
        json!(["", "35e206e5dec4c89b9e8b71b8c32724a5bb518483ac5a20c6617d738375b3b823"]),
    ];
    expected.sort_by_key(|r| r.to_string());
    assert_eq!(rows.len(), 3);
    assert_eq!(rows, expected, "hashed as Meta documents");
    assert_eq!(ads.platform.calls_to("/120001")[0].field("status").as_deref(), Some("ACTIVE"));

    // A raise within 50% of the approved budget goes to the platform; more needs a new approval.
    ads.ok(Method::PATCH, &format!("/marketing/ads/{id}"), json!({"daily_budget_minor": 14_000})).await;
    let budget = ads.wait_for_calls("/120001", 2).await;
    assert_eq!(budget[1].field("daily_budget").as_deref(), Some("14000"));
    let (status, refused) =
        ads.call_as(&ads.author, Method::PATCH, &format!("/marketing/ads/{id}"), Some(json!({"daily_budget_minor": 16_000}))).await;
    assert_eq!(status, StatusCode::CONFLICT, "{refused}");
    assert_eq!(refused["error"]["code"], "approval_required");
    assert_eq!(ads.get(&id).await["daily_budget_minor"], 14_000, "the refused raise changed nothing");

    // Pause and cancel reach the platform.
    let paused = ads.ok(Method::POST, &format!("/marketing/ads/{id}/pause"), Value::Null).await;
    assert_eq!(paused["status"], "paused");
    let calls = ads.wait_for_calls("/120001", 3).await;
    assert_eq!(calls[2].field("status").as_deref(), Some("PAUSED"));
    let cancelled = ads.ok(Method::POST, &format!("/marketing/ads/{id}/cancel"), Value::Null).await;
    assert_eq!(cancelled["status"], "cancelled");
    let calls = ads.wait_for_calls("/120001", 4).await;
    assert_eq!(calls[3].field("status").as_deref(), Some("ARCHIVED"));

    // Metrics: the Graph insights' decimal spend in cents, leads from its actions.
    ads.ok(Method::POST, &format!("/marketing/ads/{id}/sync"), Value::Null).await;
    let insights = ads.wait_for_calls("/120001/insights", 1).await;
    assert!(insights[0].query.contains("time_increment=1") && insights[0].query.contains("fields=spend"), "{}", insights[0].query);
    let mut metrics = Value::Null;
    for _ in 0..100 {
        metrics = ads.ok(Method::GET, &format!("/marketing/ads/{id}/metrics"), Value::Null).await;
        if metrics["spend_minor"] != 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(
        (metrics["spend_minor"].as_i64(), metrics["clicks"].as_i64(), metrics["conversions"].as_i64()),
        (Some(1234), Some(31), Some(4)),
        "{metrics}"
    );
}

#[tokio::test]
async fn google_and_linkedin_adapters_speak_their_apis_and_metrics_sync() {
    let ads = Ads::new().await;
    ads.account("google").await;
    ads.account("linkedin").await;
    for platform in ["google", "linkedin"] {
        let id = ads.draft(platform, 5_000).await["id"].as_str().unwrap().to_string();
        ads.ok(Method::POST, &format!("/marketing/ads/{id}/submit"), Value::Null).await;
        ads.approve(&id).await;
        ads.ok(Method::POST, &format!("/marketing/ads/{id}/launch"), Value::Null).await;
        let active = ads.wait_for(&id, "active").await;
        assert_eq!(active["audience"]["status"], "uploaded", "{active}");
        ads.ok(Method::POST, &format!("/marketing/ads/{id}/sync"), Value::Null).await;
        let mut metrics = Value::Null;
        for _ in 0..100 {
            metrics = ads.ok(Method::GET, &format!("/marketing/ads/{id}/metrics"), Value::Null).await;
            if !metrics["days"].as_array().unwrap().is_empty() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        match platform {
            "google" => {
                assert_eq!(active["external_campaign_id"], "customers/1234567890/campaigns/222");
                // 12,345,678 + 5,000,000 micros = 17.35 USD (rounded to the cent per day: 12.35 + 5.00).
                assert_eq!(
                    (metrics["spend_minor"].as_i64(), metrics["clicks"].as_i64(), metrics["conversions"].as_i64()),
                    (Some(1735), Some(50), Some(4)),
                    "{metrics}"
                );
                let budget = &ads.platform.calls_to("campaignBudgets:mutate")[0].json();
                assert_eq!(budget["operations"][0]["create"]["amountMicros"], "50000000", "USD 50 in micros");
                let operations = &ads.platform.calls_to(":addOperations")[0].json()["operations"];
                let identifiers: Vec<&Value> =
                    operations.as_array().unwrap().iter().flat_map(|o| o["create"]["userIdentifiers"].as_array().unwrap()).collect();
                // printf '+14155550100' | sha256sum (Google keeps the +)
                assert!(
                    identifiers
                        .contains(&&json!({"hashedPhoneNumber": "40d3f4e02db27d66cf4cfdda506c2c945f115a7955cc8491dda98ce5beabcda0"})),
                    "{identifiers:?}"
                );
                assert!(identifiers.contains(&&json!({"hashedEmail": "86e0b9e56c17cc4d12387e1949b85053fbe73bc3ce5a1188713a9d300cc6133d"})));
                let enabled = ads.platform.calls_to("campaigns:mutate");
                assert_eq!(enabled.last().unwrap().json()["operations"][0]["update"]["status"], "ENABLED");
                assert_eq!(enabled.last().unwrap().json()["operations"][0]["updateMask"], "status");
            }
            _ => {
                assert_eq!(active["external_campaign_id"], "345");
                assert_eq!(
                    (metrics["spend_minor"].as_i64(), metrics["impressions"].as_i64(), metrics["conversions"].as_i64()),
                    (Some(4550), Some(2000), Some(3)),
                    "{metrics}"
                );
                let create_call = &ads.platform.calls_to("adAccounts/507404993/adCampaigns")[0];
                assert_eq!(create_call.headers["linkedin-version"], "202511");
                let created = &create_call.json();
                assert_eq!(created["dailyBudget"], json!({"amount": "50.00", "currencyCode": "USD"}));
                assert_eq!(created["objectiveType"], "LEAD_GENERATION");
                let users = &ads.platform.calls_to("dmpSegments/678/users")[0].json();
                assert_eq!(users["elements"].as_array().unwrap().len(), 2, "LinkedIn matches on emails only: {users}");
                let activated = ads.platform.calls_to("adCampaigns/345");
                assert_eq!(activated.last().unwrap().json(), json!({"patch": {"$set": {"status": "ACTIVE"}}}));
            }
        }
        let paused = ads.ok(Method::POST, &format!("/marketing/ads/{id}/pause"), Value::Null).await;
        assert_eq!(paused["status"], "paused");
    }
    let linkedin_pause = ads.wait_for_calls("adCampaigns/345", 2).await;
    assert_eq!(linkedin_pause.last().unwrap().json(), json!({"patch": {"$set": {"status": "PAUSED"}}}));
    let google_pause = ads.wait_for_calls("campaigns:mutate", 3).await;
    assert_eq!(google_pause.last().unwrap().json()["operations"][0]["update"]["status"], "PAUSED");
    assert!(ads.platform.seen().iter().all(|s| s.query.is_empty() || s.path.ends_with("adAnalytics")));
}

#[tokio::test]
async fn export_for_ads_is_hashed_byte_for_byte_and_bad_input_changes_nothing() {
    let ads = Ads::new().await;
    ads.account("meta").await;
    ads.account("linkedin").await;
    let meta = ads.draft("meta", 2_000).await["id"].as_str().unwrap().to_string();
    let linkedin = ads.draft("linkedin", 2_000).await["id"].as_str().unwrap().to_string();
    let csv = |id: String| {
        let app = ads.app.url(&format!("/api/v1/marketing/ads/{id}/audience.csv"));
        let key = ads.author.clone();
        async move { Client::new().get(app).bearer_auth(key).send().await.unwrap().text().await.unwrap() }
    };
    let jane = "86e0b9e56c17cc4d12387e1949b85053fbe73bc3ce5a1188713a9d300cc6133d";
    let raj = "d95245cd62e159de63050f71ad37e571b21573b6a716d42a5b99438959adc762";
    let mut meta_lines: Vec<String> = csv(meta.clone()).await.lines().map(str::to_string).collect();
    assert_eq!(meta_lines.remove(0), "email,phone");
    meta_lines.sort();
    let mut expected = vec![
        format!("{jane},5e7ec4c79ccac6e420876e65ad0e6b4b2ccf73ec3dccb50297bf2890a1ec73b9"),
        format!("{raj},"),
        ",35e206e5dec4c89b9e8b71b8c32724a5bb518483ac5a20c6617d738375b3b823".to_string(),
    ];
    expected.sort();
    assert_eq!(meta_lines, expected);
    let mut linkedin_lines: Vec<String> = csv(linkedin).await.lines().map(str::to_string).collect();
    assert_eq!(linkedin_lines.remove(0), "email,first_name,last_name,job_title,employee_company,country");
    linkedin_lines.sort();
    let mut expected = vec![format!("{jane},,,,,"), format!("{raj},,,,,")];
    expected.sort();
    assert_eq!(linkedin_lines, expected);

    // Refusals in the one error shape, nothing written.
    let before = ads.app.count("ad_campaigns").await;
    for (body, field) in [
        (
            json!({"platform": "google", "objective": "leads", "segment_id": ads.segment, "brand_id": ads.brand, "daily_budget_minor": 5000, "final_url": "https://a.test"}),
            "platform",
        ),
        (
            json!({"platform": "meta", "objective": "leads", "segment_id": ads.segment, "brand_id": ads.brand, "daily_budget_minor": 50}),
            "daily_budget_minor",
        ),
        (
            json!({"platform": "meta", "objective": "leads", "segment_id": ads.segment, "brand_id": ads.brand, "daily_budget_minor": 5000,
                "creatives": [{"headline": "x".repeat(41), "description": "d", "call_to_action": "learn_more", "final_url": "https://a.test"}]}),
            "creatives[0].headline",
        ),
        (
            json!({"platform": "meta", "objective": "leads", "segment_id": ads.segment, "brand_id": ads.brand, "daily_budget_minor": 5000,
                "creatives": [{"headline": "h", "description": "d", "call_to_action": "learn_more", "final_url": "http://a.test"}]}),
            "creatives[0].final_url",
        ),
        (
            json!({"platform": "meta", "objective": "leads", "segment_id": ads.segment, "brand_id": ads.brand, "daily_budget_minor": 5000,
                "end_date": "2020-01-01", "final_url": "https://a.test"}),
            "end_date",
        ),
    ] {
        let (status, error) = ads.call_as(&ads.author, Method::POST, "/marketing/ads", Some(body)).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{error}");
        assert_eq!(error["error"]["field"], field, "{error}");
    }
    let (status, error) = ads
        .call_as(
            &ads.author,
            Method::POST,
            "/marketing/ad-accounts",
            Some(json!({"platform": "google", "name": "g", "external_account_id": "123", "credentials": {"access_token": "t"}})),
        )
        .await;
    assert_eq!((status, error["error"]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("credentials.developer_token")));
    assert_eq!(ads.app.count("ad_campaigns").await, before);
    let refused =
        call_tool(&ads.app, &ads.author, "launch_ad_campaign", json!({"platform": "meta", "objective": "leads", "daily_budget_usd": 100}))
            .await;
    assert_eq!(refused["isError"], true, "{refused}");
    assert_eq!(ads.app.count("ad_campaigns").await, before);
}

/// A chat-completions stand-in that checks the OpenAI wire format and
/// answers ad variants; the second variant's headline is too long for Google
/// when `too_long` is set.
async fn stand_in_model(too_long: bool) -> String {
    let app = axum::Router::new().route(
        "/v1/chat/completions",
        axum::routing::post(move |headers: HeaderMap, axum::Json(request): axum::Json<Value>| async move {
            let shaped = headers.get("authorization").and_then(|v| v.to_str().ok()) == Some("Bearer sk-ads")
                && request["response_format"]["type"] == "json_object"
                && request["messages"][0]["content"].as_str().is_some_and(|c| c.contains("Headlines are at most 30 characters"));
            if !shaped {
                return (HttpStatus::BAD_REQUEST, "unexpected request").into_response();
            }
            let second = if too_long { "A headline far longer than thirty characters" } else { "Book your demo" };
            let content = json!({"variants": [
                {"headline": "See Acme live", "description": "A 20-minute walkthrough for sales teams.", "call_to_action": "request_demo"},
                {"headline": second, "description": "Pick a time that suits you.", "call_to_action": "sign_up"},
            ]});
            axum::Json(json!({"choices": [{"index": 0, "message": {"role": "assistant", "content": content.to_string()}}]})).into_response()
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{addr}/v1")
}

#[tokio::test]
async fn variants_come_from_the_chat_completions_endpoint_within_the_platforms_limits() {
    let ads = Ads::new().await;
    ads.account("google").await;
    let id = ads.draft("google", 5_000).await["id"].as_str().unwrap().to_string();
    ads.ok(
        Method::PUT,
        "/marketing/chat-completions",
        json!({"base_url": stand_in_model(false).await, "model": "gpt-ads", "api_key": "sk-ads"}),
    )
    .await;
    let generated = ads
        .ok(Method::POST, &format!("/marketing/ads/{id}/creatives/generate"), json!({"count": 2, "copy_source": "ai", "replace": true}))
        .await;
    assert_eq!(generated["copy_source"], "ai");
    assert_eq!(generated["ad_campaign"]["creatives"][0]["headline"], "See Acme live", "{generated}");
    assert_eq!(generated["ad_campaign"]["creatives"][1]["call_to_action"], "sign_up");
    assert_eq!(generated["ad_campaign"]["creatives"][0]["final_url"], "https://acme.test/demo", "the campaign's landing page");
    let previews = ads.ok(Method::GET, &format!("/marketing/ads/{id}/preview"), Value::Null).await;
    assert_eq!(
        (previews[0]["call_to_action_label"].as_str(), previews[0]["display_url"].as_str()),
        (Some("Request demo"), Some("acme.test"))
    );

    // A model that ignores the limit: refused, the campaign untouched.
    ads.ok(
        Method::PUT,
        "/marketing/chat-completions",
        json!({"base_url": stand_in_model(true).await, "model": "gpt-ads", "api_key": "sk-ads"}),
    )
    .await;
    let (status, refused) = ads
        .call_as(
            &ads.author,
            Method::POST,
            &format!("/marketing/ads/{id}/creatives/generate"),
            Some(json!({"count": 2, "copy_source": "ai", "replace": true})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_GATEWAY, "{refused}");
    assert!(refused["error"]["message"].as_str().unwrap().contains("creatives[1].headline"), "{refused}");
    assert_eq!(ads.get(&id).await["creatives"][1]["headline"], "Book your demo");
}

#[tokio::test]
async fn meta_audiences_upload_in_batches_of_at_most_ten_thousand() {
    let ads = Ads::new().await;
    ads.account("meta").await;
    // 10,050 more leads in the segment, written straight to the database (setup, not under test).
    let workspace: uuid::Uuid = ads.draft("meta", 1_000).await["workspace_id"].as_str().unwrap().parse().unwrap();
    let mut tx = ads.app.db.begin().await.unwrap();
    let now = app::platform::db::now();
    for chunk in (0..10_050).collect::<Vec<_>>().chunks(500) {
        let mut q = app::platform::db::Q::new(
            "INSERT INTO leads (id, workspace_id, name, email, source, status, score, custom_fields, created_at, updated_at) VALUES ",
        );
        for (i, k) in chunk.iter().enumerate() {
            let (id, ws, name, email) =
                (q.arg(uuid::Uuid::now_v7()), q.arg(workspace), q.arg(format!("P {k}")), q.arg(format!("P{k}@Bulk.test")));
            let (cf, at) = (q.arg(json!({})), q.arg(now));
            q.push(&format!("{}({id}, {ws}, {name}, {email}, 'import', 'new', 90, {cf}, {at}, {at})", if i > 0 { ", " } else { "" }));
        }
        tx.execute(q).await.unwrap();
    }
    tx.commit().await.unwrap();
    let id = ads.draft("meta", 2_000).await["id"].as_str().unwrap().to_string();
    ads.ok(Method::POST, &format!("/marketing/ads/{id}/submit"), Value::Null).await;
    ads.approve(&id).await;
    ads.ok(Method::POST, &format!("/marketing/ads/{id}/launch"), Value::Null).await;
    let active = ads.wait_for(&id, "active").await;
    assert_eq!(
        (active["audience"]["member_count"].as_i64(), active["audience"]["matched_count"].as_i64()),
        (Some(10_053), Some(10_053)),
        "{active}"
    );
    let batches: Vec<(usize, Value)> = ads
        .platform
        .calls_to("230001/users")
        .iter()
        .map(|s| {
            let payload: Value = serde_json::from_str(&s.field("payload").unwrap()).unwrap();
            let session: Value = serde_json::from_str(&s.field("session").unwrap()).unwrap();
            (payload["data"].as_array().unwrap().len(), json!([session["batch_seq"], session["last_batch_flag"]]))
        })
        .collect();
    assert_eq!(batches, [(10_000, json!([1, false])), (53, json!([2, true]))]);
    // Emails were lower-cased before hashing: printf 'p0@bulk.test' | sha256sum
    let first = &ads.platform.calls_to("230001/users")[0];
    assert!(first.field("payload").unwrap().contains(&sha256("p0@bulk.test")));
}

fn sha256(text: &str) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(text.as_bytes()))
}
