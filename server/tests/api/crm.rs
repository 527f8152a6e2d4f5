//! CRM core through the REST API: contacts and memberships, leads with
//! their filters, deal stages, deals and stage moves, and lead conversion.

use crate::common::{assert_error_shape, send, Api};
use reqwest::{Client, Method, StatusCode};
use serde_json::{json, Value};

async fn new_api() -> Api {
    Api::new("owner@crm.test", &["crm:read", "crm:write"]).await
}

async fn audit(api: &Api, query: &str) -> Vec<Value> {
    api.ok(Method::GET, &format!("/audit-events?limit=100&{query}"), None).await["data"].as_array().unwrap().clone()
}

fn names(page: &Value) -> Vec<String> {
    page["data"].as_array().unwrap().iter().map(|r| r["name"].as_str().unwrap().to_string()).collect()
}

#[tokio::test]
async fn contacts_link_to_companies_with_roles() {
    let api = new_api().await;
    let acme = api.ok(Method::POST, "/companies", Some(json!({"name": "Acme", "industry": "Manufacturing", "employee_count": 250, "annual_revenue_cents": 500_000_000i64, "country": "US"}))).await;
    assert_eq!(acme["industry"], "Manufacturing");
    assert_eq!(acme["employee_count"], 250);
    let globex = api.ok(Method::POST, "/companies", Some(json!({"name": "Globex"}))).await;
    let (acme_id, globex_id) = (acme["id"].as_str().unwrap(), globex["id"].as_str().unwrap());

    let ada = api
        .ok(
            Method::POST,
            "/contacts",
            Some(json!({"name": "Ada Lovelace", "email": "ADA@acme.com", "title": "CTO", "company_id": acme_id})),
        )
        .await;
    assert_eq!(ada["email"], "ada@acme.com");
    let ada_id = ada["id"].as_str().unwrap();
    let free = api.ok(Method::POST, "/contacts", Some(json!({"name": "Free Agent", "company_name": "Somewhere Ltd"}))).await;
    assert_eq!(free["company_name"], "Somewhere Ltd");
    assert!(free["company_id"].is_null());

    // Creating with a company links them; more links can be added with roles.
    let links = api.ok(Method::GET, &format!("/contacts/{ada_id}/companies"), None).await;
    assert_eq!(links.as_array().unwrap().len(), 1);
    assert_eq!(links[0]["company_name"], "Acme");
    let added =
        api.call(Method::POST, &format!("/contacts/{ada_id}/companies"), Some(json!({"company_id": globex_id, "role": "Advisor"}))).await;
    assert_eq!(added.0, StatusCode::CREATED, "{}", added.1);
    let (status, body) = api.call(Method::POST, &format!("/contacts/{ada_id}/companies"), Some(json!({"company_id": globex_id}))).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(assert_error_shape(&body), "already_member");
    let updated = api.ok(Method::PATCH, &format!("/contacts/{ada_id}/companies/{globex_id}"), Some(json!({"role": "Board member"}))).await;
    assert_eq!(updated["role"], "Board member");
    let of_globex = api.ok(Method::GET, &format!("/companies/{globex_id}/contacts"), None).await;
    assert_eq!(of_globex[0]["contact_name"], "Ada Lovelace");
    assert_eq!(of_globex[0]["role"], "Board member");
    let by_company = api.ok(Method::GET, &format!("/contacts?company_id={globex_id}"), None).await;
    assert_eq!(names(&by_company), ["Ada Lovelace"]);

    api.ok(Method::DELETE, &format!("/contacts/{ada_id}/companies/{acme_id}"), None).await;
    let ada_now = api.ok(Method::GET, &format!("/contacts/{ada_id}"), None).await;
    assert!(ada_now["company_id"].is_null(), "primary company follows the memberships");
    let (status, _) = api.call(Method::DELETE, &format!("/contacts/{ada_id}/companies/{acme_id}"), None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // Emails are unique per workspace; search covers name, email and company name.
    let (status, body) = api.call(Method::POST, "/contacts", Some(json!({"name": "Dup", "email": "ada@acme.com"}))).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(assert_error_shape(&body), "duplicate_email");
    assert_eq!(names(&api.ok(Method::GET, "/contacts?q=somewhere", None).await), ["Free Agent"]);
    assert_eq!(names(&api.ok(Method::GET, "/contacts?q=ADA%40", None).await), ["Ada Lovelace"]);
    let (status, body) =
        api.call(Method::POST, "/contacts", Some(json!({"name": "X", "company_id": "0190c5f0-0000-7000-8000-000000000000"}))).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body["error"]["field"], "company_id");

    let actions: Vec<String> =
        audit(&api, &format!("entity_id={ada_id}")).await.iter().map(|e| e["action"].as_str().unwrap().to_string()).collect();
    assert_eq!(
        actions,
        ["contact_company.removed", "contact_company.updated", "contact_company.added", "contact_company.added", "contact.created"]
    );
}

#[tokio::test]
async fn leads_filter_by_status_source_score_dates_owner_text_and_custom_fields() {
    let api = new_api().await;
    let me = api.ok(Method::GET, "/audit-events?action=workspace.created", None).await;
    let owner_id = me["data"][0]["actor_user_id"].as_str().unwrap().to_string();
    let leads = [
        json!({"name": "Grace Hopper", "email": "grace@navy.mil", "company_name": "US Navy", "source": "referral", "score": 90, "owner_id": owner_id, "custom_fields": {"tier": "gold", "seats": 40}}),
        json!({"name": "Alan Turing", "email": "alan@bletchley.uk", "source": "website", "status": "working", "score": 40, "custom_fields": {"tier": "silver"}}),
        json!({"name": "Edsger Dijkstra", "company_name": "Eindhoven", "score": 10, "custom_fields": {"tier": "gold", "seats": 5}}),
    ];
    for lead in leads {
        let (status, body) = api.call(Method::POST, "/leads", Some(lead)).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
    }
    let all = api.ok(Method::GET, "/leads", None).await;
    assert_eq!(names(&all), ["Edsger Dijkstra", "Alan Turing", "Grace Hopper"]);
    assert_eq!(all["data"][0]["source"], "api", "API-created leads default to source api");
    assert_eq!(all["data"][0]["status"], "new");

    let check = |query: &'static str, expected: &'static [&'static str]| {
        let api = &api;
        async move {
            let page = api.ok(Method::GET, &format!("/leads?{query}"), None).await;
            assert_eq!(names(&page), expected, "{query}");
        }
    };
    check("status=working", &["Alan Turing"]).await;
    check("source=referral", &["Grace Hopper"]).await;
    check("min_score=30", &["Alan Turing", "Grace Hopper"]).await;
    check("min_score=30&max_score=50", &["Alan Turing"]).await;
    check("q=navy", &["Grace Hopper"]).await;
    check("q=EINDHOVEN", &["Edsger Dijkstra"]).await;
    let mine = api.ok(Method::GET, &format!("/leads?owner={owner_id}"), None).await;
    assert_eq!(names(&mine), ["Grace Hopper"]);
    check("owner=unassigned", &["Edsger Dijkstra", "Alan Turing"]).await;
    check("cf.tier=gold", &["Edsger Dijkstra", "Grace Hopper"]).await;
    check("cf.tier=gold&cf.seats=40", &["Grace Hopper"]).await;
    check("cf.tier=bronze", &[]).await;
    check("created_after=2000-01-01&created_before=2999-01-01", &["Edsger Dijkstra", "Alan Turing", "Grace Hopper"]).await;
    check("created_after=2999-01-01", &[]).await;
    check("last_activity_after=2000-01-01", &[]).await;
}

#[tokio::test]
async fn lead_input_is_validated_and_updates_are_audited() {
    let api = new_api().await;
    for (body, field) in [
        (json!({"name": ""}), "name"),
        (json!({"name": "X", "source": "tv"}), "source"),
        (json!({"name": "X", "status": "converted"}), "status"),
        (json!({"name": "X", "score": 5000}), "score"),
        (json!({"name": "X", "email": "nope"}), "email"),
        (json!({"name": "X", "custom_fields": "tier=gold"}), "custom_fields"),
        (json!({"name": "X", "colour": "red"}), "colour"),
    ] {
        let (status, error) = api.call(Method::POST, "/leads", Some(body.clone())).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}: {error}");
        assert_eq!(error["error"]["field"], field, "{body}: {error}");
    }
    for (query, field) in [
        ("status=lost", "status"),
        ("min_score=high", "min_score"),
        ("created_after=yesterday", "created_after"),
        ("cf.bad%20key=1", "cf.bad key"),
        ("colour=red", "colour"),
        ("owner=me", "owner"),
    ] {
        let (status, error) = api.call(Method::GET, &format!("/leads?{query}"), None).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{query}: {error}");
        assert_eq!(error["error"]["field"], field, "{query}: {error}");
    }
    assert_eq!(api.app.count("leads").await, 0);

    let lead = api.ok(Method::POST, "/leads", Some(json!({"name": "Lin Clark", "source": "website"}))).await;
    let id = lead["id"].as_str().unwrap();
    let updated =
        api.ok(Method::PATCH, &format!("/leads/{id}"), Some(json!({"status": "qualified", "score": 70, "email": "lin@example.com"}))).await;
    assert_eq!(updated["status"], "qualified");
    assert_eq!(updated["score"], 70);
    let events = audit(&api, &format!("entity_id={id}")).await;
    assert_eq!(events[0]["action"], "lead.status_changed");
    assert_eq!(events[0]["before"]["status"], "new");
    assert_eq!(events[0]["after"]["status"], "qualified");
    assert_eq!(events[1]["action"], "lead.updated");

    let (status, _) = api.call(Method::PATCH, &format!("/leads/{id}"), Some(json!({"status": "converted"}))).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let deleted = api.ok(Method::DELETE, &format!("/leads/{id}"), None).await;
    assert_eq!(deleted["name"], "Lin Clark");
    let (status, _) = api.call(Method::GET, &format!("/leads/{id}"), None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(audit(&api, &format!("entity_id={id}")).await[0]["action"], "lead.deleted");
}

#[tokio::test]
async fn stages_have_defaults_custom_additions_and_a_reorder() {
    let api = new_api().await;
    let stages = api.ok(Method::GET, "/deal-stages", None).await;
    let keys: Vec<&str> = stages.as_array().unwrap().iter().map(|s| s["key"].as_str().unwrap()).collect();
    assert_eq!(keys, ["new", "qualified", "proposal", "negotiation", "won", "lost"]);
    assert_eq!(stages[4]["kind"], "won");
    assert_eq!(stages[2]["probability"], 50);

    let (status, demo) = api
        .call(
            Method::POST,
            "/deal-stages",
            Some(json!({"key": "demo", "name": "Demo booked", "kind": "open", "probability": 35, "color": "#123ABC", "position": 2})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{demo}");
    assert_eq!(demo["color"], "#123abc");
    let stages = api.ok(Method::GET, "/deal-stages", None).await;
    let keys: Vec<&str> = stages.as_array().unwrap().iter().map(|s| s["key"].as_str().unwrap()).collect();
    assert_eq!(keys, ["new", "qualified", "demo", "proposal", "negotiation", "won", "lost"]);

    for (body, field) in [
        (json!({"key": "Bad Key", "name": "x", "kind": "open", "probability": 5}), "key"),
        (json!({"key": "x", "name": "x", "kind": "maybe", "probability": 5}), "kind"),
        (json!({"key": "x", "name": "x", "kind": "open", "probability": 101}), "probability"),
        (json!({"key": "x", "name": "x", "kind": "open", "probability": 5, "color": "red"}), "color"),
    ] {
        let (status, error) = api.call(Method::POST, "/deal-stages", Some(body)).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{error}");
        assert_eq!(error["error"]["field"], field);
    }
    let (status, _) =
        api.call(Method::POST, "/deal-stages", Some(json!({"key": "demo", "name": "Again", "kind": "open", "probability": 5}))).await;
    assert_eq!(status, StatusCode::CONFLICT);

    let mut ids: Vec<Value> = stages.as_array().unwrap().iter().map(|s| s["id"].clone()).collect();
    ids.reverse();
    let reordered = api.ok(Method::POST, "/deal-stages/reorder", Some(json!({"stage_ids": ids}))).await;
    assert_eq!(reordered[0]["key"], "lost");
    assert_eq!(reordered[6]["key"], "new");
    assert_eq!(reordered[6]["position"], 6);
    let (status, _) = api.call(Method::POST, "/deal-stages/reorder", Some(json!({"stage_ids": [ids[0]]}))).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);

    let renamed = api
        .ok(Method::PATCH, &format!("/deal-stages/{}", demo["id"].as_str().unwrap()), Some(json!({"name": "Demo done", "probability": 40})))
        .await;
    assert_eq!(renamed["name"], "Demo done");
    let deal = api.ok(Method::POST, "/deals", Some(json!({"name": "D", "stage_id": demo["id"]}))).await;
    let (status, body) = api.call(Method::DELETE, &format!("/deal-stages/{}", demo["id"].as_str().unwrap()), None).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(assert_error_shape(&body), "stage_in_use");
    api.ok(Method::PATCH, &format!("/deals/{}", deal["id"].as_str().unwrap()), Some(json!({"stage_id": stages[0]["id"]}))).await;
    api.ok(Method::DELETE, &format!("/deal-stages/{}", demo["id"].as_str().unwrap()), None).await;
    assert_eq!(api.ok(Method::GET, "/deal-stages", None).await.as_array().unwrap().len(), 6);
}

#[tokio::test]
async fn deals_carry_money_and_stage_moves_are_audited_before_and_after() {
    let api = new_api().await;
    let stages = api.ok(Method::GET, "/deal-stages", None).await;
    let (new_stage, proposal, won) = (&stages[0], &stages[2], &stages[4]);
    let company = api.ok(Method::POST, "/companies", Some(json!({"name": "Initech"}))).await;
    let deal = api.ok(Method::POST, "/deals", Some(json!({"name": "Initech renewal", "company_id": company["id"], "amount_cents": 1_250_000, "expected_close_date": "2027-03-31"}))).await;
    assert_eq!(deal["stage_id"], new_stage["id"], "first open stage by default");
    assert_eq!(deal["currency"], "USD");
    assert_eq!(deal["amount_cents"], 1_250_000);
    assert_eq!(deal["expected_close_date"], "2027-03-31");
    assert!(deal["closed_at"].is_null());
    let id = deal["id"].as_str().unwrap();

    for (body, field) in [
        (json!({"name": "X", "amount_cents": -1}), "amount_cents"),
        (json!({"name": "X", "amount_cents": 10.5}), "amount_cents"),
        (json!({"name": "X", "currency": "dollars"}), "currency"),
        (json!({"name": "X", "stage_id": "0190c5f0-0000-7000-8000-000000000000"}), "stage_id"),
        (json!({"name": "X", "expected_close_date": "31/03/2027"}), "expected_close_date"),
    ] {
        let (status, error) = api.call(Method::POST, "/deals", Some(body.clone())).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}: {error}");
        assert_eq!(error["error"]["field"], field, "{body}: {error}");
    }

    let moved = api.ok(Method::PATCH, &format!("/deals/{id}"), Some(json!({"stage_id": proposal["id"], "currency": "eur"}))).await;
    assert_eq!(moved["stage_id"], proposal["id"]);
    assert_eq!(moved["currency"], "EUR");
    let closed = api.ok(Method::PATCH, &format!("/deals/{id}"), Some(json!({"stage_id": won["id"]}))).await;
    assert!(closed["closed_at"].is_string(), "winning closes the deal");

    let moves = audit(&api, &format!("entity_id={id}&action=deal.stage_changed")).await;
    assert_eq!(moves.len(), 2);
    assert_eq!(moves[0]["before"]["stage_key"], "proposal");
    assert_eq!(moves[0]["after"]["stage_key"], "won");
    assert_eq!(moves[1]["before"]["stage_key"], "new");
    assert_eq!(moves[1]["after"]["stage_key"], "proposal");

    let in_won = api.ok(Method::GET, &format!("/deals?stage_id={}", won["id"].as_str().unwrap()), None).await;
    assert_eq!(names(&in_won), ["Initech renewal"]);
    let of_company = api.ok(Method::GET, &format!("/deals?company_id={}", company["id"].as_str().unwrap()), None).await;
    assert_eq!(names(&of_company), ["Initech renewal"]);
}

#[tokio::test]
async fn converting_a_lead_makes_contact_company_and_deal_once() {
    let api = new_api().await;
    let stages = api.ok(Method::GET, "/deal-stages", None).await;
    let proposal = &stages[2];
    let lead = api.ok(Method::POST, "/leads", Some(json!({"name": "Katherine Johnson", "email": "kj@nasa.gov", "company_name": "NASA", "title": "Mathematician", "source": "website"}))).await;
    let id = lead["id"].as_str().unwrap();

    let (status, conversion) = api
        .call(
            Method::POST,
            &format!("/leads/{id}/convert"),
            Some(json!({"deal": {"stage_id": proposal["id"], "amount_cents": 900_000, "currency": "USD"}})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{conversion}");
    assert_eq!(conversion["lead"]["status"], "converted");
    assert_eq!(conversion["contact"]["email"], "kj@nasa.gov");
    assert_eq!(conversion["company"]["name"], "NASA");
    assert_eq!(conversion["deal"]["amount_cents"], 900_000);
    assert_eq!(conversion["deal"]["stage_id"], proposal["id"]);
    assert_eq!(conversion["deal"]["name"], "NASA deal");
    assert_eq!(conversion["deal"]["lead_id"], id);
    assert_eq!(conversion["lead"]["converted_deal_id"], conversion["deal"]["id"]);
    let contact_id = conversion["contact"]["id"].as_str().unwrap();
    let links = api.ok(Method::GET, &format!("/contacts/{contact_id}/companies"), None).await;
    assert_eq!(links[0]["company_name"], "NASA");

    let (status, body) = api.call(Method::POST, &format!("/leads/{id}/convert"), Some(json!({}))).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(assert_error_shape(&body), "already_converted");
    assert_eq!(api.app.count("contacts").await, 1);
    assert_eq!(api.app.count("deals").await, 1);
    let (status, _) = api.call(Method::DELETE, &format!("/leads/{id}"), None).await;
    assert_eq!(status, StatusCode::CONFLICT);

    let actions: Vec<String> = audit(&api, "").await.iter().map(|e| e["action"].as_str().unwrap().to_string()).collect();
    for expected in ["lead.converted", "deal.created", "contact.created", "contact_company.added", "company.created"] {
        assert!(actions.contains(&expected.to_string()), "{expected} missing from {actions:?}");
    }

    // The lead's timeline follows its deal through the pipeline.
    let deal_id = conversion["deal"]["id"].as_str().unwrap();
    api.ok(Method::PATCH, &format!("/deals/{deal_id}"), Some(json!({"stage_id": stages[3]["id"]}))).await;
    let timeline = api.ok(Method::GET, &format!("/leads/{id}/timeline"), None).await;
    assert_eq!(timeline[0]["kind"], "deal.stage_changed", "{timeline}");
    assert_eq!(timeline[0]["summary"], "Deal moved from Proposal to Negotiation");
    assert!(timeline.as_array().unwrap().iter().any(|e| e["kind"] == "lead.converted"));

    // A second lead from the same company with a known email links to what exists.
    let again = api.ok(Method::POST, "/leads", Some(json!({"name": "K. Johnson", "email": "KJ@nasa.gov", "company_name": "nasa"}))).await;
    let second = api.ok(Method::POST, &format!("/leads/{}/convert", again["id"].as_str().unwrap()), Some(json!({}))).await;
    assert_eq!(second["contact"]["id"], contact_id);
    assert_eq!(second["company"]["id"], conversion["company"]["id"]);
    assert!(second["deal"].is_null());
    assert_eq!(api.app.count("companies").await, 1);
    assert_eq!(api.app.count("contacts").await, 1);
}

#[tokio::test]
async fn a_failed_conversion_changes_nothing() {
    let api = new_api().await;
    let lead = api.ok(Method::POST, "/leads", Some(json!({"name": "Half Done", "email": "half@done.io", "company_name": "Half Co"}))).await;
    let id = lead["id"].as_str().unwrap();
    // The deal's stage is bad, so the company and contact made before it roll back.
    let (status, body) = api
        .call(Method::POST, &format!("/leads/{id}/convert"), Some(json!({"deal": {"stage_id": "0190c5f0-0000-7000-8000-000000000000"}})))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(api.app.count("companies").await, 0);
    assert_eq!(api.app.count("contacts").await, 0);
    assert_eq!(api.ok(Method::GET, &format!("/leads/{id}"), None).await["status"], "new");
}

#[tokio::test]
async fn crm_records_are_invisible_across_workspaces() {
    let a = new_api().await;
    let bob = a.app.sign_up("bob@other.test").await;
    let bob_key = a.app.api_key(&bob, &["crm:read", "crm:write"]).await;
    let company = a.ok(Method::POST, "/companies", Some(json!({"name": "Mine"}))).await;
    let contact = a.ok(Method::POST, "/contacts", Some(json!({"name": "Mine", "company_id": company["id"]}))).await;
    let lead = a.ok(Method::POST, "/leads", Some(json!({"name": "Mine", "custom_fields": {"tier": "gold"}}))).await;
    let deal = a.ok(Method::POST, "/deals", Some(json!({"name": "Mine"}))).await;
    let stage = &a.ok(Method::GET, "/deal-stages", None).await[0];
    let c = Client::new();
    let url = |p: String| a.app.url(&format!("/api/v1{p}"));
    for path in [
        format!("/companies/{}", company["id"].as_str().unwrap()),
        format!("/contacts/{}", contact["id"].as_str().unwrap()),
        format!("/contacts/{}/companies", contact["id"].as_str().unwrap()),
        format!("/companies/{}/contacts", company["id"].as_str().unwrap()),
        format!("/leads/{}", lead["id"].as_str().unwrap()),
        format!("/deals/{}", deal["id"].as_str().unwrap()),
        format!("/deal-stages/{}", stage["id"].as_str().unwrap()),
    ] {
        let (status, _) = send(&c, Method::GET, &url(path.clone()), Some(&bob_key), None).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "GET {path}");
        let (status, _) = send(&c, Method::PATCH, &url(path.clone()), Some(&bob_key), Some(json!({"name": "Pwned"}))).await;
        assert!(status == StatusCode::NOT_FOUND || status == StatusCode::METHOD_NOT_ALLOWED, "PATCH {path}: {status}");
    }
    let (status, _) =
        send(&c, Method::POST, &url(format!("/leads/{}/convert", lead["id"].as_str().unwrap())), Some(&bob_key), Some(json!({}))).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = send(&c, Method::DELETE, &url(format!("/leads/{}", lead["id"].as_str().unwrap())), Some(&bob_key), None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, body) =
        send(&c, Method::POST, &url("/deals".into()), Some(&bob_key), Some(json!({"name": "X", "stage_id": stage["id"]}))).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let (status, body) =
        send(&c, Method::POST, &url("/contacts".into()), Some(&bob_key), Some(json!({"name": "X", "company_id": company["id"]}))).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    for list in ["/companies", "/contacts", "/leads?cf.tier=gold", "/deals"] {
        let (_, page) = send(&c, Method::GET, &url(list.into()), Some(&bob_key), None).await;
        assert_eq!(page["data"], json!([]), "{list}");
    }
    let (_, bob_stages) = send(&c, Method::GET, &url("/deal-stages".into()), Some(&bob_key), None).await;
    assert!(bob_stages.as_array().unwrap().iter().all(|s| s["id"] != stage["id"]));
    assert_eq!(a.app.count("leads").await, 1);
}

#[tokio::test]
async fn activities_tasks_and_the_lead_timeline() {
    let api = new_api().await;
    let lead = api.ok(Method::POST, "/leads", Some(json!({"name": "Tim Line"}))).await;
    let id = lead["id"].as_str().unwrap();
    assert!(lead["last_activity_at"].is_null());

    let (status, call) = api.call(Method::POST, "/activities", Some(json!({"kind": "call", "subject": "Intro call", "body": "Wants a demo", "lead_id": id, "occurred_at": "2026-11-01T10:00:00Z"}))).await;
    assert_eq!(status, StatusCode::CREATED, "{call}");
    api.ok(Method::POST, "/activities", Some(json!({"kind": "note", "subject": "Budget approved", "lead_id": id}))).await;
    api.ok(Method::PATCH, &format!("/leads/{id}"), Some(json!({"status": "working"}))).await;

    for (body, field) in [
        (json!({"kind": "call", "subject": "No target"}), "lead_id"),
        (json!({"kind": "fax", "subject": "x", "lead_id": id}), "kind"),
        (json!({"kind": "call", "subject": "", "lead_id": id}), "subject"),
        (json!({"kind": "call", "subject": "x", "deal_id": "0190c5f0-0000-7000-8000-000000000000"}), "deal_id"),
    ] {
        let (status, error) = api.call(Method::POST, "/activities", Some(body.clone())).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}: {error}");
        assert_eq!(error["error"]["field"], field, "{body}: {error}");
    }

    let lead_now = api.ok(Method::GET, &format!("/leads/{id}"), None).await;
    assert!(lead_now["last_activity_at"].is_string(), "activity touches the lead");
    let recent = api.ok(Method::GET, "/leads?last_activity_after=2026-01-01", None).await;
    assert_eq!(names(&recent), ["Tim Line"]);

    let calls = api.ok(Method::GET, &format!("/activities?lead_id={id}&kind=call"), None).await;
    assert_eq!(calls["data"].as_array().unwrap().len(), 1);
    assert_eq!(calls["data"][0]["subject"], "Intro call");

    let timeline = api.ok(Method::GET, &format!("/leads/{id}/timeline"), None).await;
    let kinds: Vec<&str> = timeline.as_array().unwrap().iter().map(|e| e["kind"].as_str().unwrap()).collect();
    assert!(kinds.contains(&"call") && kinds.contains(&"note"), "{kinds:?}");
    assert!(kinds.contains(&"lead.status_changed") && kinds.contains(&"lead.created"), "{kinds:?}");
    let status_change = timeline.as_array().unwrap().iter().find(|e| e["kind"] == "lead.status_changed").unwrap();
    assert_eq!(status_change["summary"], "Status changed from new to working");
    assert_eq!(timeline.as_array().unwrap().last().unwrap()["kind"], "call", "oldest last: the backdated call");

    let task =
        api.ok(Method::POST, "/tasks", Some(json!({"title": "Send proposal", "due_at": "2026-12-01T09:00:00Z", "lead_id": id}))).await;
    assert_eq!(task["status"], "open");
    let done = api.ok(Method::PATCH, &format!("/tasks/{}", task["id"].as_str().unwrap()), Some(json!({"status": "done"}))).await;
    assert!(done["completed_at"].is_string());
    let open = api.ok(Method::GET, "/tasks?status=open", None).await;
    assert_eq!(open["data"], json!([]));
    let (status, _) =
        api.call(Method::POST, "/tasks", Some(json!({"title": "x", "assignee_id": "0190c5f0-0000-7000-8000-000000000000"}))).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(audit(&api, "action=task.updated").await.len(), 1);
}

#[tokio::test]
async fn one_search_covers_leads_contacts_companies_and_deals() {
    let api = new_api().await;
    api.ok(Method::POST, "/leads", Some(json!({"name": "Orbit Lead", "company_name": "Orbital"}))).await;
    api.ok(Method::POST, "/contacts", Some(json!({"name": "Olga Orbit", "email": "olga@orbit.space"}))).await;
    api.ok(Method::POST, "/companies", Some(json!({"name": "Orbit Systems", "domain": "orbit.space"}))).await;
    api.ok(Method::POST, "/deals", Some(json!({"name": "Orbit launch"}))).await;
    api.ok(Method::POST, "/companies", Some(json!({"name": "Unrelated"}))).await;
    let hits = api.ok(Method::GET, "/search?q=ORBIT", None).await;
    let mut kinds: Vec<&str> = hits.as_array().unwrap().iter().map(|h| h["entity_type"].as_str().unwrap()).collect();
    kinds.sort();
    assert_eq!(kinds, ["company", "contact", "deal", "lead"]);
    let (status, body) = api.call(Method::GET, "/search?q=", None).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let (status, _) = api.call(Method::GET, "/search", None).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn the_dashboard_aggregates_leads_pipeline_wins_and_activities() {
    let api = new_api().await;
    let stages = api.ok(Method::GET, "/deal-stages", None).await;
    let by_key = |key: &str| stages.as_array().unwrap().iter().find(|s| s["key"] == key).unwrap()["id"].clone();
    for (name, source, status) in [("A", "website", "new"), ("B", "website", "working"), ("C", "referral", "new")] {
        api.ok(Method::POST, "/leads", Some(json!({"name": name, "source": source, "status": status}))).await;
    }
    let lead = api.ok(Method::POST, "/leads", Some(json!({"name": "D"}))).await;
    api.ok(Method::POST, "/activities", Some(json!({"kind": "call", "subject": "c", "lead_id": lead["id"]}))).await;
    // proposal is 50%, negotiation 75%.
    api.ok(Method::POST, "/deals", Some(json!({"name": "p1", "stage_id": by_key("proposal"), "amount_cents": 100_000}))).await;
    api.ok(Method::POST, "/deals", Some(json!({"name": "p2", "stage_id": by_key("proposal"), "amount_cents": 50_001}))).await;
    api.ok(
        Method::POST,
        "/deals",
        Some(json!({"name": "n1", "stage_id": by_key("negotiation"), "amount_cents": 200_000, "currency": "EUR"})),
    )
    .await;
    for (name, stage) in [("w1", "won"), ("w2", "won"), ("w3", "won"), ("l1", "lost")] {
        api.ok(Method::POST, "/deals", Some(json!({"name": name, "stage_id": by_key(stage), "amount_cents": 1}))).await;
    }

    let d = api.ok(Method::GET, "/dashboard", None).await;
    let count =
        |list: &Value, label: &str| list.as_array().unwrap().iter().find(|c| c["label"] == label).map(|c| c["count"].as_i64().unwrap());
    assert_eq!(count(&d["leads_by_status"], "new"), Some(3));
    assert_eq!(count(&d["leads_by_status"], "working"), Some(1));
    assert_eq!(count(&d["leads_by_source"], "website"), Some(2));
    assert_eq!(count(&d["leads_by_source"], "api"), Some(1));
    let weeks = d["new_leads_per_week"].as_array().unwrap();
    assert_eq!(weeks.len(), 1, "{weeks:?}");
    assert_eq!(weeks[0]["count"], 4);
    let monday = chrono::NaiveDate::parse_from_str(weeks[0]["label"].as_str().unwrap(), "%Y-%m-%d").unwrap();
    assert_eq!(chrono::Datelike::weekday(&monday), chrono::Weekday::Mon);

    let pipeline = d["open_pipeline"].as_array().unwrap();
    assert_eq!(pipeline.len(), 2, "{pipeline:?}");
    assert_eq!(pipeline[0]["stage_name"], "Proposal");
    assert_eq!(pipeline[0]["deals"], 2);
    assert_eq!(pipeline[0]["amount_cents"], 150_001);
    assert_eq!(pipeline[0]["weighted_cents"], 75_000, "150001 × 50% in whole cents");
    assert_eq!(pipeline[1]["currency"], "EUR");
    assert_eq!(pipeline[1]["weighted_cents"], 150_000);
    assert_eq!(d["won_deals"], 3);
    assert_eq!(d["lost_deals"], 1);
    assert_eq!(d["win_rate_percent"], 75.0);
    assert_eq!(count(&d["activities_per_user"], "API"), Some(1));
}

/// The dashboard reads counters the database keeps (migration 22); they
/// must equal the figures computed from the records after every kind of
/// write: creates, status and source changes, conversion, deletes, stage
/// moves, amount and currency changes, activities by a user and by a key,
/// another workspace's writes, raw SQL behind Corral's back, a workspace
/// deleted with everything in it, and (PostgreSQL) folding.
#[tokio::test]
async fn the_dashboard_counters_equal_the_records_after_every_kind_of_write() {
    use app::crm::dashboard::ssr::{dashboard, dashboard_from_records, fold_counts};
    use app::platform::db::Q;
    let app = crate::common::TestApp::spawn().await;
    let owner = app.sign_up("owner@dash.test").await;
    let key = app.api_key(&owner, &["crm:read", "crm:write"]).await;
    let neighbour = app.sign_up("neighbour@dash.test").await;
    let neighbour_key = app.api_key(&neighbour, &["crm:read", "crm:write"]).await;
    let api = Api { app, key, client: Client::new() };
    let theirs_call = |method: Method, path: &str, body: Option<Value>| {
        let url = api.app.url(&format!("/api/v1{path}"));
        let key = neighbour_key.clone();
        async move {
            let (status, value) = send(&Client::new(), method, &url, Some(&key), body).await;
            assert!(status.is_success(), "{status} {value}");
            value
        }
    };
    let id_of = |v: Value| v["id"].as_str().unwrap().parse::<uuid::Uuid>().unwrap();
    let mine = id_of(api.ok(Method::GET, "/workspace", None).await);
    let theirs = id_of(theirs_call(Method::GET, "/workspace", None).await);
    let figures = |ws: uuid::Uuid| {
        let db = api.app.db.clone();
        async move {
            let ctx = app::platform::context::Ctx::system(ws);
            let mut tx = db.begin_read().await.unwrap();
            let (counted, recounted) = (dashboard(&mut tx, &ctx).await.unwrap(), dashboard_from_records(&mut tx, &ctx).await.unwrap());
            tx.commit().await.unwrap();
            (counted, recounted)
        }
    };
    let check = |when: &'static str| {
        let (api, figures) = (&api, &figures);
        async move {
            for ws in [mine, theirs] {
                let (counted, recounted) = figures(ws).await;
                assert_eq!(counted, recounted, "{when}");
            }
            let served = api.ok(Method::GET, "/dashboard", None).await;
            assert_eq!(serde_json::to_value(figures(mine).await.1).unwrap(), served, "{when}: GET /dashboard");
            // The board's column totals come from the same counters.
            let board = api.ok(Method::GET, "/pipeline", None).await;
            for column in board.as_array().unwrap() {
                let stage_id: uuid::Uuid = column["stage"]["id"].as_str().unwrap().parse().unwrap();
                let mut tx = api.app.db.begin_read().await.unwrap();
                let recounted: Vec<(String, i64, i64)> = tx
                    .fetch_all(
                        Q::new(
                            "SELECT currency, COUNT(*), CAST(SUM(amount_cents) AS BIGINT) FROM deals \
                             WHERE workspace_id = $1 AND stage_id = $2 GROUP BY currency ORDER BY currency",
                        )
                        .bind(mine)
                        .bind(stage_id),
                    )
                    .await
                    .unwrap();
                tx.commit().await.unwrap();
                let totals: Vec<Value> =
                    recounted.iter().map(|(currency, _, amount)| json!({"currency": currency, "amount_cents": amount})).collect();
                assert_eq!(column["totals"], json!(totals), "{when}: board totals of {}", column["stage"]["key"]);
                assert_eq!(
                    column["count"],
                    json!(recounted.iter().map(|r| r.1).sum::<i64>()),
                    "{when}: board count of {}",
                    column["stage"]["key"]
                );
            }
        }
    };
    check("empty workspaces").await;

    let stages = api.ok(Method::GET, "/deal-stages", None).await;
    let stage = |key: &str| stages.as_array().unwrap().iter().find(|s| s["key"] == key).unwrap()["id"].clone();
    let mut leads = Vec::new();
    for (i, (source, status)) in
        [("website", "new"), ("website", "working"), ("referral", "new"), ("manual", "qualified"), ("api", "new")].iter().enumerate()
    {
        let body = json!({"name": format!("L{i}"), "email": format!("l{i}@x.test"), "source": source, "status": status});
        leads.push(api.ok(Method::POST, "/leads", Some(body)).await["id"].as_str().unwrap().to_string());
    }
    theirs_call(Method::POST, "/leads", Some(json!({"name": "Theirs", "source": "website"}))).await;
    theirs_call(Method::POST, "/leads", Some(json!({"name": "Theirs too", "status": "working"}))).await;
    check("leads created").await;

    api.ok(Method::PATCH, &format!("/leads/{}", leads[0]), Some(json!({"status": "working", "source": "referral"}))).await;
    api.ok(Method::PATCH, &format!("/leads/{}", leads[1]), Some(json!({"score": 50}))).await;
    api.ok(Method::DELETE, &format!("/leads/{}", leads[2]), None).await;
    let converted = api
        .ok(
            Method::POST,
            &format!("/leads/{}/convert", leads[3]),
            Some(json!({"deal": {"stage_id": stage("proposal"), "amount_cents": 900_000, "currency": "USD"}})),
        )
        .await;
    check("leads changed, deleted and converted").await;

    let mut deals = vec![converted["deal"]["id"].as_str().unwrap().to_string()];
    for (name, key, amount, currency) in
        [("a", "proposal", 100_001, "USD"), ("b", "negotiation", 250_000, "EUR"), ("c", "won", 7, "USD"), ("d", "lost", 1, "USD")]
    {
        let body = json!({"name": name, "stage_id": stage(key), "amount_cents": amount, "currency": currency});
        deals.push(api.ok(Method::POST, "/deals", Some(body)).await["id"].as_str().unwrap().to_string());
    }
    api.ok(Method::PATCH, &format!("/deals/{}", deals[1]), Some(json!({"stage": "won"}))).await;
    api.ok(Method::PATCH, &format!("/deals/{}", deals[2]), Some(json!({"amount_cents": 333_333, "currency": "GBP"}))).await;
    check("deals created, moved and changed").await;

    api.ok(Method::POST, "/activities", Some(json!({"kind": "call", "subject": "by key", "lead_id": leads[4]}))).await;
    let (status, body) = send(
        &owner,
        Method::POST,
        &api.app.url("/api/v1/activities"),
        None,
        Some(json!({"kind": "note", "subject": "by a user", "lead_id": leads[4]})),
    )
    .await;
    assert!(status.is_success(), "{body}");
    api.ok(Method::DELETE, &format!("/leads/{}", leads[4]), None).await;
    check("activities logged, one lead with them deleted").await;

    // Behind Corral's back: raw SQL moves figures too.
    let mut tx = api.app.db.begin().await.unwrap();
    tx.execute(
        Q::new("UPDATE leads SET status = 'disqualified', created_at = $1 WHERE workspace_id = $2")
            .bind(chrono::Utc::now() - chrono::Duration::weeks(3))
            .bind(mine),
    )
    .await
    .unwrap();
    tx.execute(Q::new("UPDATE deals SET amount_cents = amount_cents * 2 WHERE workspace_id = $1").bind(mine)).await.unwrap();
    tx.execute(Q::new("DELETE FROM deals WHERE id = $1").bind(deals[4].parse::<uuid::Uuid>().unwrap())).await.unwrap();
    tx.commit().await.unwrap();
    check("raw updates and a raw delete").await;

    let folded = fold_counts(&api.app.db).await.unwrap();
    if crate::common::backend() == "postgres" {
        assert!(folded > 0, "appended rows were folded");
        assert_eq!(api.app.count_where("dashboard_counts", "NOT folded").await, 0);
    }
    check("after folding").await;

    // A workspace deleted with everything in it takes its counters along
    // (its cascaded deletes add none back).
    let counters_of = |ws: uuid::Uuid| {
        let db = api.app.db.clone();
        async move {
            let mut tx = db.begin_read().await.unwrap();
            let (n,): (i64,) =
                tx.fetch_one(Q::new("SELECT COUNT(*) FROM dashboard_counts WHERE workspace_id = $1").bind(ws)).await.unwrap();
            tx.commit().await.unwrap();
            n
        }
    };
    assert!(counters_of(theirs).await > 0);
    let mut tx = api.app.db.begin().await.unwrap();
    tx.execute(Q::new("DELETE FROM workspaces WHERE id = $1").bind(theirs)).await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!(counters_of(theirs).await, 0);
    let (counted, recounted) = figures(mine).await;
    assert_eq!(counted, recounted, "the other workspace's deletion");
}
