//! Marketing: email sequences behind the approval gate, sent through a
//! real SMTP server on loopback (the test's sink reads what arrived), the
//! built-in mailbox, unsubscribes, bounces, replies, suppression, and a
//! server killed with SIGKILL in the middle of a send.

use std::time::Duration;

use reqwest::{Client, Method, StatusCode};
use serde_json::{json, Value};

use crate::common::{assert_error_shape, send, test_config, Config, ServerProcess, SmtpSink, TestApp};
use crate::mcp::call_tool;

/// A workspace with an owner, an author key and a key the owner granted
/// `marketing:approve`.
struct Shop {
    app: TestApp,
    owner: Client,
    author: String,
    approver_key: String,
}

impl Shop {
    async fn new(config: Config) -> Shop {
        let app = TestApp::spawn_with(config).await;
        let owner = app.sign_up("owner-marketing@example.com").await;
        let author = app.api_key(&owner, &["crm:write", "marketing:write"]).await;
        let approver_key = app.api_key(&owner, &["marketing:write", "marketing:approve"]).await;
        Shop { app, owner, author, approver_key }
    }

    async fn call(&self, key: &str, method: Method, path: &str, body: Option<Value>) -> (StatusCode, Value) {
        send(&Client::new(), method, &self.app.url(&format!("/api/v1{path}")), Some(key), body).await
    }

    async fn ok(&self, key: &str, method: Method, path: &str, body: Option<Value>) -> Value {
        let (status, value) = self.call(key, method.clone(), path, body).await;
        assert!(status.is_success(), "{method} {path}: {status} {value}");
        value
    }

    async fn lead(&self, name: &str, email: Option<&str>, score: i64) -> String {
        let lead = self
            .ok(&self.author, Method::POST, "/leads", Some(json!({"name": name, "email": email, "score": score, "company_name": "Acme"})))
            .await;
        lead["id"].as_str().unwrap().to_string()
    }

    async fn brand(&self) -> String {
        let brand = self
            .ok(
                &self.author,
                Method::POST,
                "/marketing/brands",
                Some(json!({"name": "Acme", "from_name": "Acme Sales", "from_email": "sales@acme.test", "reply_to": "reply@acme.test",
                            "footer": "Acme Inc., 12 Harbour Street, Bristol BS1 4XX"})),
            )
            .await;
        brand["id"].as_str().unwrap().to_string()
    }

    async fn smtp_sender(&self, sink: &SmtpSink) -> (String, String) {
        let sender = self
            .ok(
                &self.author,
                Method::POST,
                "/marketing/senders",
                Some(json!({"name": "Loopback", "host": "127.0.0.1", "port": sink.port, "security": "none",
                            "username": "sales", "password": "s3cret", "per_minute_cap": 100000, "per_day_cap": 10000000})),
            )
            .await;
        assert!(sender.get("password").is_none() && sender["has_password"] == true, "secrets are write-only: {sender}");
        (sender["id"].as_str().unwrap().to_string(), sender["webhook_secret"].as_str().unwrap().to_string())
    }

    async fn segment(&self) -> String {
        let segment = self
            .ok(
                &self.author,
                Method::POST,
                "/lists",
                Some(json!({"name": "Warm leads", "rules": {"match": "all", "rules": [{"field": "score", "op": "gte", "value": 10}]}})),
            )
            .await;
        segment["id"].as_str().unwrap().to_string()
    }

    /// `n` leads (score 50, `p{k}@{domain}`) written straight to the
    /// database: setup for the large sends, not what is under test.
    async fn bulk_leads(&self, n: usize, domain: &str) {
        let me = send(&self.owner, Method::GET, &self.app.url("/api/v1/me"), None, None).await.1;
        let workspace: uuid::Uuid = me["workspace_id"].as_str().unwrap().parse().unwrap();
        let mut tx = self.app.db.begin().await.unwrap();
        let now = app::platform::db::now();
        for chunk in (0..n).collect::<Vec<_>>().chunks(500) {
            let mut q = app::platform::db::Q::new(
                "INSERT INTO leads (id, workspace_id, name, email, source, status, score, custom_fields, created_at, updated_at) VALUES ",
            );
            for (i, k) in chunk.iter().enumerate() {
                let (id, ws, name, email) =
                    (q.arg(uuid::Uuid::now_v7()), q.arg(workspace), q.arg(format!("Person {k}")), q.arg(format!("p{k}@{domain}")));
                let (cf, at) = (q.arg(json!({})), q.arg(now));
                q.push(&format!("{}({id}, {ws}, {name}, {email}, 'import', 'new', 50, {cf}, {at}, {at})", if i > 0 { ", " } else { "" }));
            }
            tx.execute(q).await.unwrap();
        }
        tx.commit().await.unwrap();
    }

    async fn sequence(&self, id: &str) -> Value {
        self.ok(&self.author, Method::GET, &format!("/marketing/sequences/{id}"), None).await
    }

    async fn wait_for_status(&self, id: &str, status: &str, secs: u64) -> Value {
        for _ in 0..secs * 10 {
            let sequence = self.sequence(id).await;
            if sequence["status"] == status {
                return sequence;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("sequence {id} is not {status}: {}", self.sequence(id).await);
    }
}

async fn invite(app: &TestApp, owner: &Client, email: &str, role: &str) -> Client {
    let (status, invitation) =
        send(owner, Method::POST, &app.url("/api/v1/invitations"), None, Some(json!({"email": email, "role": role}))).await;
    assert_eq!(status, StatusCode::CREATED, "{invitation}");
    let member = app.browser();
    let (status, me) = send(
        &member,
        Method::POST,
        &app.url("/api/v1/invitations/accept"),
        None,
        Some(json!({"token": invitation["token"], "name": "Avery Approver", "password": "another good password"})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{me}");
    member
}

fn messages_to<'a>(messages: &'a [crate::common::Received], email: &str) -> Vec<&'a crate::common::Received> {
    messages.iter().filter(|m| m.to.iter().any(|t| t == email)).collect()
}

#[tokio::test]
async fn a_sequence_goes_out_only_once_approved_and_stops_for_unsubscribes_bounces_and_replies() {
    let sink = SmtpSink::start().await;
    let shop = Shop::new(Config { sequence_day: Duration::from_secs(3), ..test_config() }).await;
    let brand = shop.brand().await;
    let (sender, webhook_secret) = shop.smtp_sender(&sink).await;
    for (name, email) in [("Ann Lee", "ann@a.test"), ("Bob Ray", "bob@b.test"), ("Carl Oz", "carl@c.test"), ("Dave Yu", "dave@d.test")] {
        shop.lead(name, Some(email), 50).await;
    }
    shop.lead("Dana No-Mail", None, 50).await;
    shop.lead("Eve Gone", Some("eve@e.test"), 50).await;
    shop.lead("Cold Carl", Some("cold@c.test"), 1).await;
    shop.ok(&shop.author, Method::POST, "/marketing/suppressions", Some(json!({"email": "EVE@e.test", "note": "asked by phone"}))).await;
    let segment = shop.segment().await;

    // An agent previews through MCP with the seed's arguments: nothing is sent.
    let start_later = (chrono::Utc::now() + chrono::Duration::hours(1)).to_rfc3339();
    let result = call_tool(
        &shop.app,
        &shop.author,
        "preview_email_sequence",
        json!({"segment_id": segment, "brand_id": brand, "objective": "book a demo", "sender_connector_id": sender,
               "num_emails": 2, "cadence_days": [0, 1], "start_at": start_later}),
    )
    .await;
    assert_eq!(result["isError"], false, "{result}");
    let preview = &result["structuredContent"]["preview"];
    let id = result["structuredContent"]["preview_id"].as_str().unwrap().to_string();
    assert_eq!(preview["recipient_count"], 4, "{preview}");
    assert_eq!(preview["exclusions"], json!({"segment_members": 6, "no_email": 1, "unsubscribed": 0, "suppressed": 1}));
    let sample = &preview["samples"][0];
    assert!(sample["steps"][0]["html"].as_str().unwrap().contains("Hi Ann"), "merge tags are filled: {sample}");
    assert_eq!(preview["sequence"]["status"], "draft");

    // Unknown merge tags are refused, naming the step.
    let (status, body) = shop
        .call(
            &shop.author,
            Method::PATCH,
            &format!("/marketing/sequences/{id}"),
            Some(json!({"steps": [
            {"subject": "Hi {{nickname}}", "body": "x"}, {"subject": "b", "body": "y"}]})),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body["error"]["field"], "steps[0].subject", "{body}");

    // The author's own key cannot approve: the sequence joins the approvers' queue.
    let result = call_tool(&shop.app, &shop.author, "approve_email_sequence", json!({"preview_id": id})).await;
    let answer = &result["structuredContent"];
    assert_eq!(answer["status"], "pending_approval", "{result}");
    assert!(answer["message"].as_str().unwrap().contains("marketing:approve"), "{answer}");
    let (status, _) = shop.call(&shop.author, Method::POST, &format!("/marketing/sequences/{id}/resume"), None).await;
    assert_eq!(status, StatusCode::CONFLICT, "nothing can start it before approval");
    let queue = shop.ok(&shop.author, Method::GET, "/marketing/approvals", None).await;
    assert_eq!(queue[0]["request"]["sequence_id"], id.as_str());
    assert_eq!(queue[0]["audience_size"], 4);

    // A key the owner granted marketing:approve approves; an edit then voids it.
    let (status, approved) = shop.call(&shop.approver_key, Method::POST, &format!("/marketing/sequences/{id}/approve"), None).await;
    assert_eq!(status, StatusCode::OK, "{approved}");
    assert_eq!(approved["sequence"]["status"], "approved");
    assert_eq!(approved["sequence"]["recipient_count"], 4);
    let edited = shop
        .ok(&shop.author, Method::PATCH, &format!("/marketing/sequences/{id}"), Some(json!({"start_at": null, "steps": [
            {"subject": "{{first_name|Hello}}, a 20-minute demo?", "body": "<p>Hi {{first_name|there}}, see <a href=\"https://acme.test/demo\">the demo</a>.</p>"},
            {"subject": "Last note, {{first_name}}", "body": "<p>Closing the loop.</p>"}]})))
        .await;
    assert_eq!(edited["status"], "draft", "an edit voids the approval: {edited}");
    assert!(edited["status_reason"].as_str().unwrap().contains("new approval"), "{edited}");
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert!(sink.messages().is_empty(), "nothing is sent without an approval");
    let voided =
        shop.ok(&shop.author, Method::GET, &format!("/audit-events?entity_id={id}&action=email_sequence.approval_voided"), None).await;
    assert_eq!(voided["data"].as_array().unwrap().len(), 1, "{voided}");

    // An approver (a member with that role) reviews the diff and approves.
    let approver = invite(&shop.app, &shop.owner, "avery@example.com", "approver").await;
    let (status, review) =
        send(&approver, Method::GET, &shop.app.url(&format!("/api/v1/marketing/sequences/{id}/review")), None, None).await;
    assert_eq!(status, StatusCode::OK, "{review}");
    assert!(review["can_decide"].as_bool().unwrap(), "{review}");
    let changed: Vec<&str> = review["changes_since_approval"].as_array().unwrap().iter().map(|c| c["field"].as_str().unwrap()).collect();
    assert!(changed.contains(&"steps[0].subject") && changed.contains(&"start_at"), "{changed:?}");
    let (status, approved) =
        send(&approver, Method::POST, &shop.app.url(&format!("/api/v1/marketing/sequences/{id}/approve")), None, None).await;
    assert_eq!(status, StatusCode::OK, "{approved}");

    // Step 1 reaches the four recipients through SMTP, with RFC 8058 headers.
    let first = sink.wait_for(4, 20).await;
    assert_eq!(first.len(), 4);
    let ann = messages_to(&first, "ann@a.test")[0].clone();
    assert_eq!(ann.header("Subject").as_deref(), Some("Ann, a 20-minute demo?"));
    assert_eq!(ann.header("List-Unsubscribe-Post").as_deref(), Some("List-Unsubscribe=One-Click"));
    let unsubscribe = ann.header("List-Unsubscribe").unwrap();
    assert!(unsubscribe.starts_with("<http") && unsubscribe.contains("/u/"), "{unsubscribe}");
    let body = ann.body_text();
    assert!(body.contains("12 Harbour Street") && body.contains("Hi Ann"), "footer and merge tags: {body}");
    assert!(body.contains("/t/c/") && !body.contains("href=\"https://acme.test/demo\""), "links are tracked: {body}");
    assert_eq!(ann.from, "sales@acme.test");
    assert!(messages_to(&first, "eve@e.test").is_empty() && messages_to(&first, "cold@c.test").is_empty());

    // Ann opens it (the pixel) and clicks the tracked link: a signed
    // redirect to where the author pointed it, and nowhere else.
    let link_in = |body: &str, marker: &str| {
        let at = body.find(marker).unwrap();
        let end = body[at..].find('"').unwrap();
        body[at..at + end].to_string()
    };
    let click = link_in(&body, "/t/c/");
    let no_redirect = Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let clicked = no_redirect.get(shop.app.url(&click)).send().await.unwrap();
    assert_eq!(clicked.status(), StatusCode::FOUND);
    assert_eq!(clicked.headers()["location"], "https://acme.test/demo");
    let elsewhere = click.replace("acme.test", "evil.test");
    assert_eq!(no_redirect.get(shop.app.url(&elsewhere)).send().await.unwrap().status(), StatusCode::NOT_FOUND);
    let pixel = no_redirect.get(shop.app.url(&link_in(&body, "/t/o/"))).send().await.unwrap();
    assert_eq!((pixel.status(), pixel.headers()["content-type"].to_str().unwrap()), (StatusCode::OK, "image/gif"));

    // Ann unsubscribes in one click (no cookie, no redirect: 200).
    let path = &unsubscribe[unsubscribe.find("/u/").unwrap()..unsubscribe.len() - 1];
    let page = Client::new().get(shop.app.url(path)).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    assert!(page.text().await.unwrap().contains("<form method=\"post\""));
    let client = Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let done = client.post(shop.app.url(path)).body("List-Unsubscribe=One-Click").send().await.unwrap();
    assert_eq!(done.status(), StatusCode::OK);
    // Flip the signature's last hex digit (appending a fixed "0" would leave
    // the token unchanged whenever it already ended in 0: one run in sixteen).
    let flipped = if path.ends_with('0') { '1' } else { '0' };
    let forged = client.post(shop.app.url(&format!("{}{flipped}", &path[..path.len() - 1]))).send().await.unwrap();
    assert_eq!(forged.status(), StatusCode::NOT_FOUND, "a tampered token unsubscribes no one");

    // Bob hard-bounces (signed webhook; an unsigned one is refused), Carl replies.
    let report = json!({"type": "bounce", "email": "bob@b.test", "hard": true}).to_string();
    let url = shop.app.url(&format!("/api/v1/public/email-events/{sender}"));
    let unsigned = Client::new().post(&url).header("content-type", "application/json").body(report.clone()).send().await.unwrap();
    assert_eq!(unsigned.status(), StatusCode::UNAUTHORIZED);
    let signature = {
        use hmac::Mac;
        let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(webhook_secret.as_bytes()).unwrap();
        mac.update(report.as_bytes());
        hex::encode(mac.finalize().into_bytes())
    };
    let signed = Client::new()
        .post(&url)
        .header("content-type", "application/json")
        .header("x-corral-signature", format!("sha256={signature}"))
        .body(report)
        .send()
        .await
        .unwrap();
    assert_eq!(signed.status(), StatusCode::NO_CONTENT);
    let reply = call_tool(&shop.app, &shop.author, "mark_email_reply", json!({"email": "carl@c.test"})).await;
    assert_eq!(reply["isError"], false, "{reply}");
    // The reply attributes Carl to the sequence's campaign (and only Carl).
    let campaign = shop.sequence(&id).await["campaign_id"].clone();
    let leads = shop.ok(&shop.author, Method::GET, "/leads?limit=100", None).await;
    let attributed: Vec<(&str, &str)> = leads["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|l| l["campaign_id"] == campaign)
        .map(|l| (l["email"].as_str().unwrap_or_default(), l["attribution"]["via"].as_str().unwrap_or_default()))
        .collect();
    assert_eq!(attributed, [("carl@c.test", "sequence_reply")]);

    // Step 2 (a "day" later) goes to Dave only; the sequence completes.
    let all = sink.wait_for(5, 20).await;
    shop.wait_for_status(&id, "completed", 20).await;
    let all = if all.len() > 5 { all } else { sink.messages() };
    assert_eq!(all.len(), 5, "{:?}", all.iter().map(|m| (&m.to, m.header("Subject"))).collect::<Vec<_>>());
    assert_eq!(messages_to(&all, "dave@d.test").len(), 2);
    for who in ["ann@a.test", "bob@b.test", "carl@c.test"] {
        assert_eq!(messages_to(&all, who).len(), 1, "{who} got only the first step");
    }
    let rollup = shop.ok(&shop.author, Method::GET, &format!("/marketing/sequences/{id}/rollup"), None).await;
    assert_eq!(rollup["steps"][0]["sent"], 4, "{rollup}");
    assert_eq!(rollup["steps"][1]["sent"], 1, "{rollup}");
    assert_eq!(rollup["steps"][1]["skipped"], 3, "{rollup}");
    assert_eq!(
        (rollup["totals"]["unsubscribed"].as_i64(), rollup["totals"]["bounced"].as_i64(), rollup["totals"]["replied"].as_i64()),
        (Some(1), Some(1), Some(1))
    );
    let campaign =
        shop.ok(&shop.author, Method::GET, &format!("/marketing/campaigns/{}/rollup", edited["campaign_id"].as_str().unwrap()), None).await;
    assert_eq!(campaign["totals"]["sent"], 5);

    // A re-import of Ann does not lift her unsubscribe.
    let (_, upload) = {
        let response = Client::new()
            .post(shop.app.url("/api/v1/imports?entity=lead&dedup=update"))
            .bearer_auth(&shop.author)
            .header("content-type", "text/csv")
            .body("name,email,score\nAnn Lee,ann@a.test,90\nNew Nora,nora@n.test,90\n")
            .send()
            .await
            .unwrap();
        (response.status(), response.json::<Value>().await.unwrap())
    };
    let import = upload["id"].as_str().unwrap();
    shop.ok(&shop.author, Method::POST, &format!("/imports/{import}/start"), Some(json!({}))).await;
    for _ in 0..100 {
        if shop.ok(&shop.author, Method::GET, &format!("/imports/{import}"), None).await["status"] == "completed" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let suppressions = shop.ok(&shop.author, Method::GET, "/marketing/suppressions", None).await;
    let reasons: Vec<(String, String)> = suppressions["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["email"].as_str().unwrap().to_string(), s["reason"].as_str().unwrap().to_string()))
        .collect();
    assert!(reasons.contains(&("ann@a.test".into(), "unsubscribed".into())), "{reasons:?}");
    assert!(reasons.contains(&("bob@b.test".into(), "hard_bounce".into())), "{reasons:?}");
    let again = shop
        .ok(
            &shop.author,
            Method::POST,
            "/marketing/sequences/preview",
            Some(json!({"segment_id": segment, "brand_id": brand, "objective": "webinar"})),
        )
        .await;
    assert_eq!(again["exclusions"]["unsubscribed"], 1, "{}", again["exclusions"]);
    assert_eq!(again["recipient_count"], 3, "carl, dave and nora: {}", again["exclusions"]);
    let (status, body) = shop.call(&shop.author, Method::DELETE, "/marketing/suppressions/ann@a.test", None).await;
    assert_eq!((status, assert_error_shape(&body)), (StatusCode::CONFLICT, "suppression_kept".to_string()));

    // The owner authored this one in the browser: they cannot approve it either.
    let mine = send(
        &shop.owner,
        Method::POST,
        &shop.app.url("/api/v1/marketing/sequences/preview"),
        None,
        Some(json!({"segment_id": segment, "brand_id": brand, "objective": "trial", "start_at": start_later})),
    )
    .await
    .1;
    let mine = mine["preview_id"].as_str().unwrap();
    let (status, outcome) =
        send(&shop.owner, Method::POST, &shop.app.url(&format!("/api/v1/marketing/sequences/{mine}/approve")), None, None).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{outcome}");
    assert!(outcome["message"].as_str().unwrap().contains("author"), "{outcome}");
    // Approvers reject with a reason the author sees.
    let (status, rejected) = send(
        &approver,
        Method::POST,
        &shop.app.url(&format!("/api/v1/marketing/sequences/{mine}/reject")),
        None,
        Some(json!({"reason": "Too pushy for a trial offer"})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{rejected}");
    let seen = shop.sequence(mine).await;
    assert_eq!((seen["status"].as_str(), seen["status_reason"].as_str()), (Some("rejected"), Some("Too pushy for a trial offer")));
    let (status, edited) = send(
        &shop.owner,
        Method::PATCH,
        &shop.app.url(&format!("/api/v1/marketing/sequences/{mine}")),
        None,
        Some(json!({"name": "Trial, gently"})),
    )
    .await;
    assert_eq!((status, edited["status"].as_str(), edited["version"].as_i64()), (StatusCode::OK, Some("draft"), Some(2)), "{edited}");
}

#[tokio::test]
async fn only_the_owner_grants_marketing_approve_and_members_never_approve() {
    let shop = Shop::new(test_config()).await;
    let admin = invite(&shop.app, &shop.owner, "admin-mkt@example.com", "admin").await;
    let (status, body) =
        send(&admin, Method::POST, &shop.app.url("/api/v1/api-keys"), None, Some(json!({"name": "x", "scopes": ["marketing:approve"]})))
            .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    // The owner's grant is refused without marketing:write, which approving
    // goes through: such a key could never approve.
    let url = shop.app.url("/api/v1/api-keys");
    let (status, body) = send(&shop.owner, Method::POST, &url, None, Some(json!({"name": "x", "scopes": ["marketing:approve"]}))).await;
    assert_eq!((status, body["error"]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("scopes")), "{body}");
    let member = invite(&shop.app, &shop.owner, "member-mkt@example.com", "member").await;
    let brand = shop.brand().await;
    shop.lead("Ann Lee", Some("ann@a.test"), 50).await;
    let segment = shop.segment().await;
    let preview = shop
        .ok(
            &shop.author,
            Method::POST,
            "/marketing/sequences/preview",
            Some(json!({"segment_id": segment, "brand_id": brand, "objective": "demo"})),
        )
        .await;
    let id = preview["preview_id"].as_str().unwrap();
    let (status, outcome) =
        send(&member, Method::POST, &shop.app.url(&format!("/api/v1/marketing/sequences/{id}/approve")), None, None).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{outcome}");
    let (status, _) = send(
        &member,
        Method::POST,
        &shop.app.url(&format!("/api/v1/marketing/sequences/{id}/reject")),
        None,
        Some(json!({"reason": "no"})),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    // A read-only key sees the queue but cannot queue or approve.
    let reader = shop.app.api_key(&shop.owner, &["marketing:read"]).await;
    assert_eq!(shop.ok(&reader, Method::GET, "/marketing/approvals", None).await.as_array().unwrap().len(), 1);
    let (status, _) = shop.call(&reader, Method::POST, &format!("/marketing/sequences/{id}/approve"), None).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn without_an_smtp_sender_the_builtin_mailbox_receives_and_single_emails_use_the_same_outbox() {
    let sink = SmtpSink::start().await;
    let shop = Shop::new(test_config()).await;
    let brand = shop.brand().await;
    let ann = shop.lead("Ann Lee", Some("ann@a.test"), 50).await;
    let segment = shop.segment().await;

    // Copy from the workspace's chat-completions endpoint (a stand-in that
    // checks the OpenAI wire format).
    let model = stand_in_chat_completions().await;
    shop.ok(
        &shop.author,
        Method::PUT,
        "/marketing/chat-completions",
        Some(json!({"base_url": model, "model": "gpt-test", "api_key": "sk-test"})),
    )
    .await;
    let settings = shop.ok(&shop.author, Method::GET, "/marketing/chat-completions", None).await;
    assert!(settings.get("api_key").is_none() && settings["has_api_key"] == true, "{settings}");
    let preview = shop
        .ok(
            &shop.author,
            Method::POST,
            "/marketing/sequences/preview",
            Some(json!({"segment_id": segment, "brand_id": brand, "objective": "book a demo", "num_emails": 1})),
        )
        .await;
    assert_eq!(preview["sequence"]["copy_source"], "ai", "{preview}");
    assert_eq!(preview["sequence"]["steps"][0]["subject"], "Quick question, {{first_name|there}}");
    let senders = shop.ok(&shop.author, Method::GET, "/marketing/senders", None).await;
    assert_eq!(senders[0]["kind"], "mailbox");
    assert_eq!(preview["sequence"]["sender_connector_id"], senders[0]["id"]);
    let id = preview["preview_id"].as_str().unwrap();
    shop.ok(&shop.approver_key, Method::POST, &format!("/marketing/sequences/{id}/approve"), None).await;
    shop.wait_for_status(id, "completed", 20).await;
    let mailbox = shop.ok(&shop.author, Method::GET, "/marketing/mailbox", None).await;
    assert_eq!(mailbox["data"].as_array().unwrap().len(), 1, "{mailbox}");
    assert_eq!(mailbox["data"][0]["subject"], "Quick question, Ann");
    let one = shop.ok(&shop.author, Method::GET, &format!("/marketing/mailbox/{}", mailbox["data"][0]["id"].as_str().unwrap()), None).await;
    let raw = one["raw"].as_str().unwrap();
    assert!(raw.contains("List-Unsubscribe-Post: List-Unsubscribe=One-Click") && raw.contains("List-Unsubscribe: <"), "{raw}");

    // Once an SMTP sender exists, the mailbox is never used.
    let (smtp, _) = shop.smtp_sender(&sink).await;
    let (status, body) = shop
        .call(&shop.author, Method::POST, "/marketing/sequences/preview",
            Some(json!({"segment_id": segment, "brand_id": brand, "objective": "demo", "sender_connector_id": senders[0]["id"], "copy": "template"})))
        .await;
    assert_eq!((status, body["error"]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("sender_connector_id")), "{body}");
    let connections = shop.ok(&shop.author, Method::GET, "/crm/outbound-email-connections", None).await;
    assert_eq!(connections.as_array().unwrap().len(), 1);
    assert_eq!(connections[0]["id"].as_str(), Some(smtp.as_str()));

    // Axiomatic's single outbound email: through the outbox to SMTP, on the lead's timeline.
    let (status, queued) = shop
        .call(
            &shop.author,
            Method::POST,
            "/crm/outbound-email",
            Some(json!({"leadId": ann, "connectionId": smtp, "channel": "gmail", "subject": "Following up", "htmlBody": "<p>Hi Ann</p>"})),
        )
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{queued}");
    let got = sink.wait_for(1, 20).await;
    assert_eq!(got[0].header("Subject").as_deref(), Some("Following up"));
    use base64::Engine;
    let auth = base64::engine::general_purpose::STANDARD.decode(&sink.auth.lock().unwrap()[0]).unwrap();
    assert_eq!(auth, b"\0sales\0s3cret", "the sender's credentials reach the server");
    assert!(got[0].header("List-Unsubscribe").is_some());
    let timeline = shop.ok(&shop.author, Method::GET, &format!("/leads/{ann}/timeline"), None).await;
    assert!(timeline.to_string().contains("Following up"), "{timeline}");

    // A test send goes straight to the chosen address, marked as a test.
    let tested = shop
        .ok(
            &shop.author,
            Method::POST,
            &format!("/marketing/senders/{smtp}/test"),
            Some(json!({"to": ["me@acme.test"], "sequence_id": id})),
        )
        .await;
    assert_eq!(tested["results"][0]["status"], "sent", "{tested}");
    let got = sink.wait_for(2, 20).await;
    assert_eq!(got[1].header("Subject").as_deref(), Some("[Test] Quick question, Ann"));
}

/// An OpenAI-compatible `/chat/completions` on loopback that checks the
/// request and answers two-step copy as the model's JSON content.
async fn stand_in_chat_completions() -> String {
    use axum::routing::post;
    async fn complete(headers: axum::http::HeaderMap, axum::Json(request): axum::Json<Value>) -> axum::response::Response {
        use axum::response::IntoResponse;
        let authorized = headers.get("authorization").and_then(|v| v.to_str().ok()) == Some("Bearer sk-test");
        let shaped = request["model"] == "gpt-test"
            && request["messages"][0]["role"] == "system"
            && request["messages"][1]["content"].as_str().is_some_and(|c| c.contains("book a demo"))
            && request["response_format"]["type"] == "json_object";
        if !authorized || !shaped {
            return (StatusCode::BAD_REQUEST, "unexpected request").into_response();
        }
        let content =
            json!({"emails": [{"subject": "Quick question, {{first_name|there}}", "body": "<p>Hi {{first_name|there}}, 20 minutes?</p>"}]});
        axum::Json(json!({"id": "chatcmpl-1", "object": "chat.completion", "model": "gpt-test",
            "choices": [{"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": content.to_string()}}]}))
        .into_response()
    }
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, axum::Router::new().route("/v1/chat/completions", post(complete))).await.unwrap() });
    format!("http://{addr}/v1")
}

#[tokio::test]
async fn two_server_processes_share_one_send_without_sending_twice() {
    const RECIPIENTS: usize = 1500;
    let sink = SmtpSink::start().await;
    let shop = Shop::new(Config { outbox_batch: 50, ..test_config() }).await;
    let second = shop.app.spawn_beside().await;
    let brand = shop.brand().await;
    let (sender, _) = shop.smtp_sender(&sink).await;
    shop.bulk_leads(RECIPIENTS, "two.test").await;
    let segment = shop.segment().await;
    let preview = shop
        .ok(
            &shop.author,
            Method::POST,
            "/marketing/sequences/preview",
            Some(json!({"segment_id": segment, "brand_id": brand, "objective": "demo", "sender_connector_id": sender, "num_emails": 1})),
        )
        .await;
    let id = preview["preview_id"].as_str().unwrap().to_string();
    shop.ok(&shop.approver_key, Method::POST, &format!("/marketing/sequences/{id}/approve"), None).await;
    shop.wait_for_status(&id, "completed", 120).await;
    let received = sink.messages();
    let distinct: std::collections::HashSet<&String> = received.iter().map(|m| &m.to[0]).collect();
    assert_eq!((received.len(), distinct.len()), (RECIPIENTS, RECIPIENTS), "each recipient exactly once");
    let mut tx = shop.app.db.begin_read().await.unwrap();
    let owners: Vec<(Option<String>,)> =
        tx.fetch_all(app::platform::db::Q::new("SELECT DISTINCT lease_owner FROM email_outbox")).await.unwrap();
    tx.commit().await.unwrap();
    assert!(owners.iter().all(|(o,)| o.is_none()), "every claim was settled");
    drop(second);
}

#[tokio::test]
async fn a_senders_cap_and_send_window_hold_and_changing_them_voids_the_approval() {
    let sink = SmtpSink::start().await;
    let shop = Shop::new(test_config()).await;
    let brand = shop.brand().await;
    let (sender, _) = shop.smtp_sender(&sink).await;
    shop.ok(&shop.author, Method::PATCH, &format!("/marketing/senders/{sender}"), Some(json!({"per_minute_cap": 3}))).await;
    shop.bulk_leads(10, "cap.test").await;
    let segment = shop.segment().await;
    let preview = shop
        .ok(
            &shop.author,
            Method::POST,
            "/marketing/sequences/preview",
            Some(json!({"segment_id": segment, "brand_id": brand, "objective": "demo", "sender_connector_id": sender, "num_emails": 1})),
        )
        .await;
    let id = preview["preview_id"].as_str().unwrap().to_string();
    shop.ok(&shop.approver_key, Method::POST, &format!("/marketing/sequences/{id}/approve"), None).await;
    sink.wait_for(3, 20).await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(sink.messages().len(), 3, "three a minute");
    let queued = shop.ok(&shop.author, Method::GET, &format!("/marketing/sequences/{id}/messages?status=queued"), None).await;
    assert_eq!(queued["data"].as_array().unwrap().len(), 7);

    // Closing the window (today is not a sending day) is a change of what
    // was approved: the approval is void and nothing more goes out.
    let today = chrono::Datelike::weekday(&chrono::Utc::now()).number_from_monday() as i64;
    let other_days: Vec<i64> = (1..=7).filter(|d| *d != today).collect();
    shop.ok(
        &shop.author,
        Method::PATCH,
        &format!("/marketing/senders/{sender}"),
        Some(json!({"window_days": other_days, "per_minute_cap": 100})),
    )
    .await;
    let voided = shop.wait_for_status(&id, "draft", 5).await;
    assert!(voided["status_reason"].as_str().unwrap().contains("sender changed"), "{voided}");
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert_eq!(sink.messages().len(), 3);
    // Approved again, the window still holds: nothing is sent today.
    shop.ok(&shop.approver_key, Method::POST, &format!("/marketing/sequences/{id}/approve"), None).await;
    shop.wait_for_status(&id, "sending", 5).await;
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert_eq!(sink.messages().len(), 3, "outside the send window");
}

#[tokio::test]
async fn a_server_killed_mid_send_never_sends_a_step_twice_and_the_counts_add_up() {
    const RECIPIENTS: usize = 5000;
    let sink = SmtpSink::start().await;
    // This process serves the API only; the sending happens in a child
    // process that is killed with SIGKILL in the middle.
    let shop = Shop::new(Config { run_workers: false, ..test_config() }).await;
    let brand = shop.brand().await;
    let (sender, _) = shop.smtp_sender(&sink).await;
    shop.bulk_leads(RECIPIENTS, "bulk.test").await;
    let segment = shop.segment().await;
    let preview = shop
        .ok(
            &shop.author,
            Method::POST,
            "/marketing/sequences/preview",
            Some(json!({"segment_id": segment, "brand_id": brand, "objective": "demo", "sender_connector_id": sender, "num_emails": 1})),
        )
        .await;
    let id = preview["preview_id"].as_str().unwrap().to_string();
    assert_eq!(preview["recipient_count"], RECIPIENTS as i64);
    shop.ok(&shop.approver_key, Method::POST, &format!("/marketing/sequences/{id}/approve"), None).await;

    let mut process = ServerProcess::start(shop.app.database_url());
    for _ in 0..600 {
        if sink.received.lock().unwrap().len() >= 700 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    process.kill();
    let at_kill = sink.messages().len();
    assert!(at_kill > 0 && at_kill < RECIPIENTS, "killed in the middle: {at_kill} sent");
    let _restarted = ServerProcess::start(shop.app.database_url());
    shop.wait_for_status(&id, "completed", 120).await;

    let received = sink.messages();
    let mut per_recipient = std::collections::HashMap::new();
    for message in &received {
        *per_recipient.entry(message.to[0].clone()).or_insert(0) += 1;
    }
    assert!(per_recipient.values().all(|n| *n == 1), "a recipient got the step twice");
    let rollup = shop.ok(&shop.author, Method::GET, &format!("/marketing/sequences/{id}/rollup"), None).await;
    let totals = &rollup["totals"];
    let (sent, unknown, failed, skipped) = (
        totals["sent"].as_i64().unwrap(),
        totals["unknown"].as_i64().unwrap(),
        totals["failed"].as_i64().unwrap(),
        totals["skipped"].as_i64().unwrap(),
    );
    assert_eq!(sent + unknown + failed + skipped, RECIPIENTS as i64, "every row has a fate: {totals}");
    assert_eq!((failed, skipped, totals["queued"].as_i64().unwrap()), (0, 0, 0), "{totals}");
    assert!(received.len() as i64 >= sent && received.len() as i64 <= sent + unknown, "{} received, {totals}", received.len());
    assert!(unknown <= 100, "only the batch in flight can be unknown: {totals}");
    let unknown_rows =
        shop.ok(&shop.author, Method::GET, &format!("/marketing/sequences/{id}/messages?status=unknown&limit=100"), None).await;
    assert_eq!(unknown_rows["data"].as_array().unwrap().len() as i64, unknown.min(100));
}

/// Benchmark, not a test (run by `scripts/bench-email.sh`, release build):
/// 100,000 recipients through the outbox to the loopback SMTP sink, in
/// messages per second and peak memory, against the sink's own accept
/// rate measured in the same run (one client conversation sending
/// prebuilt messages as fast as the sink takes them).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a benchmark: scripts/bench-email.sh"]
async fn bench_outbox_against_the_sinks_own_rate() {
    let recipients: usize = std::env::var("BENCH_RECIPIENTS").ok().and_then(|n| n.parse().ok()).unwrap_or(100_000);
    let sink = SmtpSink::start_keeping(false).await;

    // Baseline: the sink's accept rate for the same number of messages.
    let baseline = {
        use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
        let stream = tokio::net::TcpStream::connect(("127.0.0.1", sink.port)).await.unwrap();
        stream.set_nodelay(true).unwrap();
        let (read, mut write) = stream.into_split();
        let mut lines = BufReader::new(read);
        let mut line = String::new();
        let mut expect = async |lines: &mut BufReader<tokio::net::tcp::OwnedReadHalf>, code: &str| loop {
            line.clear();
            lines.read_line(&mut line).await.unwrap();
            if line.starts_with(code) && line.as_bytes().get(3) == Some(&b' ') {
                break;
            }
        };
        expect(&mut lines, "220").await;
        write.write_all(b"EHLO bench\r\n").await.unwrap();
        expect(&mut lines, "250").await;
        let body = format!("Subject: x\r\nFrom: a@b.test\r\nTo: c@d.test\r\n\r\n{}\r\n.\r\n", "x".repeat(1500));
        let started = std::time::Instant::now();
        for n in 0..recipients {
            write.write_all(format!("MAIL FROM:<a@b.test>\r\nRCPT TO:<p{n}@bench.test>\r\nDATA\r\n").as_bytes()).await.unwrap();
            expect(&mut lines, "250").await;
            expect(&mut lines, "250").await;
            expect(&mut lines, "354").await;
            write.write_all(body.as_bytes()).await.unwrap();
            expect(&mut lines, "250").await;
        }
        let elapsed = started.elapsed();
        sink.received.lock().unwrap().clear();
        recipients as f64 / elapsed.as_secs_f64()
    };

    let shop = Shop::new(Config { outbox_batch: 500, outbox_poll: Duration::from_millis(20), ..test_config() }).await;
    let brand = shop.brand().await;
    let (sender, _) = shop.smtp_sender(&sink).await;
    shop.bulk_leads(recipients, "bench.test").await;
    let segment = shop.segment().await;
    let preview = shop
        .ok(
            &shop.author,
            Method::POST,
            "/marketing/sequences/preview",
            Some(json!({"segment_id": segment, "brand_id": brand, "objective": "demo", "sender_connector_id": sender, "num_emails": 1})),
        )
        .await;
    let id = preview["preview_id"].as_str().unwrap().to_string();
    let started = std::time::Instant::now();
    shop.ok(&shop.approver_key, Method::POST, &format!("/marketing/sequences/{id}/approve"), None).await;
    sink.wait_for(recipients, 3600).await;
    let elapsed = started.elapsed();
    shop.wait_for_status(&id, "completed", 60).await;
    let rate = recipients as f64 / elapsed.as_secs_f64();
    let peak_kb = std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:").map(|v| v.trim().trim_end_matches(" kB").trim().parse::<u64>().unwrap_or(0)))
        .unwrap_or(0);
    println!(
        "BENCH backend={} recipients={recipients} outbox={rate:.0} msg/s sink_baseline={baseline:.0} msg/s ratio={:.2} elapsed={:.1}s peak_rss={} MB",
        crate::common::backend(),
        rate / baseline,
        elapsed.as_secs_f64(),
        peak_kb / 1024
    );
}

#[tokio::test]
async fn the_send_window_is_read_in_the_workspaces_time_zone_and_moving_it_voids_approvals() {
    let sink = SmtpSink::start().await;
    let shop = Shop::new(test_config()).await;
    let workspace = shop.ok(&shop.author, Method::GET, "/workspace", None).await;
    assert_eq!(workspace["time_zone"], "UTC", "{workspace}");
    let brand = shop.brand().await;
    let (sender, _) = shop.smtp_sender(&sink).await;
    // A window of the hours around now, in UTC.
    let hour = chrono::Timelike::hour(&chrono::Utc::now()) as i64;
    let (start, end) = ((hour - 1).max(0), (hour + 2).min(24));
    let sender_after = shop
        .ok(
            &shop.author,
            Method::PATCH,
            &format!("/marketing/senders/{sender}"),
            Some(json!({"window_start_hour": start, "window_end_hour": end})),
        )
        .await;
    assert_eq!(sender_after["time_zone"], "UTC", "a sender's window is read in the workspace's zone: {sender_after}");
    let (status, refused) =
        shop.call(&shop.author, Method::PATCH, &format!("/marketing/senders/{sender}"), Some(json!({"time_zone": "Europe/Paris"}))).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "the zone is the workspace's, not a sender's: {refused}");

    shop.bulk_leads(4, "zone.test").await;
    let segment = shop.segment().await;
    let preview = shop
        .ok(
            &shop.author,
            Method::POST,
            "/marketing/sequences/preview",
            Some(json!({"segment_id": segment, "brand_id": brand, "objective": "demo", "sender_connector_id": sender, "num_emails": 2, "cadence_days": [0, 1]})),
        )
        .await;
    let id = preview["preview_id"].as_str().unwrap().to_string();
    shop.ok(&shop.approver_key, Method::POST, &format!("/marketing/sequences/{id}/approve"), None).await;
    sink.wait_for(4, 20).await;

    // Only a signed-in owner or admin moves the workspace; a key cannot, and
    // a bad zone is refused naming the field, changing nothing.
    let (status, _) = shop.call(&shop.author, Method::PATCH, "/workspace", Some(json!({"time_zone": "Asia/Kathmandu"}))).await;
    assert!(status == StatusCode::FORBIDDEN || status == StatusCode::UNAUTHORIZED, "{status}");
    let url = shop.app.url("/api/v1/workspace");
    let (status, error) = send(&shop.owner, Method::PATCH, &url, None, Some(json!({"time_zone": "Mars/Olympus"}))).await;
    assert_eq!((status, error["error"]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("time_zone")), "{error}");
    assert_eq!(shop.sequence(&id).await["status"], "sending");

    // Kathmandu is 5 h 45 ahead: now is outside the window there. The
    // approval covered the old zone, so it is void, and approved again
    // nothing goes out until the window opens in the new zone.
    let (status, moved) = send(&shop.owner, Method::PATCH, &url, None, Some(json!({"time_zone": " Asia/Kathmandu "}))).await;
    assert_eq!((status, moved["time_zone"].as_str()), (StatusCode::OK, Some("Asia/Kathmandu")), "{moved}");
    let voided = shop.sequence(&id).await;
    assert_eq!(voided["status"], "draft", "{voided}");
    assert!(voided["status_reason"].as_str().unwrap().contains("time zone"), "{voided}");
    let audit = shop.ok(&shop.author, Method::GET, "/audit-events?action=workspace.updated", None).await;
    assert_eq!(audit["data"][0]["after"]["time_zone"], "Asia/Kathmandu", "{audit}");

    let in_zone = call_tool(&shop.app, &shop.author, "get_workspace", json!({})).await;
    assert_eq!(in_zone["structuredContent"]["workspace"]["time_zone"], "Asia/Kathmandu", "{in_zone}");

    // A new sequence to the same leads, approved now: its first step is due
    // at once but waits for the window in the new zone.
    let preview = shop
        .ok(
            &shop.author,
            Method::POST,
            "/marketing/sequences/preview",
            Some(json!({"segment_id": segment, "brand_id": brand, "objective": "demo", "sender_connector_id": sender, "num_emails": 1})),
        )
        .await;
    let second = preview["preview_id"].as_str().unwrap().to_string();
    shop.ok(&shop.approver_key, Method::POST, &format!("/marketing/sequences/{second}/approve"), None).await;
    shop.wait_for_status(&second, "sending", 5).await;
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert_eq!(sink.messages().len(), 4, "nothing outside the window");
    let queued = shop.ok(&shop.author, Method::GET, &format!("/marketing/sequences/{second}/messages?status=queued"), None).await;
    assert_eq!(queued["data"].as_array().unwrap().len(), 4, "due, held by the window");
}
