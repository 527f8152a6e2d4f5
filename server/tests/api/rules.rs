//! Rules decided once in the operations: each is called through two
//! transports (REST with a session or a key, and the server functions the
//! pages use) and must come out the same.

use reqwest::{Client, Method, StatusCode};
use serde_json::{json, Value};

use crate::common::{send, server_fn, TestApp};

/// An owner, a plain member of the same workspace (both sessions), and a
/// CRM key.
async fn team() -> (TestApp, Client, Client, String) {
    let app = TestApp::spawn().await;
    let owner = app.sign_up("owner@rules.test").await;
    let (status, invitation) =
        send(&owner, Method::POST, &app.url("/api/v1/invitations"), None, Some(json!({"email": "member@rules.test", "role": "member"})))
            .await;
    assert_eq!(status, StatusCode::CREATED, "{invitation}");
    let member = app.browser();
    let accept = json!({"token": invitation["token"], "name": "Mem Ber", "password": "another good password"});
    let (status, body) = send(&member, Method::POST, &app.url("/api/v1/invitations/accept"), None, Some(accept)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let key = app.api_key(&owner, &["crm:read", "crm:write"]).await;
    (app, owner, member, key)
}

#[tokio::test]
async fn a_new_record_belongs_to_the_member_who_adds_it_whichever_way() {
    let (app, _, member, key) = team().await;
    let (_, me) = send(&member, Method::GET, &app.url("/api/v1/me"), None, None).await;
    let my_id = me["user_id"].as_str().or(me["id"].as_str()).expect("me has an id").to_string();

    // The member over REST with a session, and through the page's server function.
    let (status, by_rest) = send(&member, Method::POST, &app.url("/api/v1/leads"), None, Some(json!({"name": "By REST"}))).await;
    assert_eq!(status, StatusCode::CREATED, "{by_rest}");
    let (status, by_page) = server_fn(&member, &app, "create_lead", &[("name", "By page")]).await;
    assert_eq!(status, StatusCode::OK, "{by_page}");
    assert_eq!(by_rest["owner_id"], json!(my_id));
    assert_eq!(by_page["owner_id"], json!(my_id));
    for (path, body) in [("/api/v1/contacts", json!({"name": "Contact"})), ("/api/v1/companies", json!({"name": "Company"}))] {
        let (status, created) = send(&member, Method::POST, &app.url(path), None, Some(body)).await;
        assert_eq!(status, StatusCode::CREATED, "{created}");
        assert_eq!(created["owner_id"], json!(my_id), "{path}");
    }
    let (status, company) = server_fn(&member, &app, "create_company", &[("form[name]", "Company by page")]).await;
    assert_eq!(status, StatusCode::OK, "{company}");
    assert_eq!(company["owner_id"], json!(my_id));

    // A key acts for no person: its records stay unassigned unless named.
    let (_, by_key) = send(&Client::new(), Method::POST, &app.url("/api/v1/leads"), Some(&key), Some(json!({"name": "By key"}))).await;
    assert_eq!(by_key["owner_id"], Value::Null);
    let named = json!({"name": "Named", "owner_id": my_id});
    let (_, by_key) = send(&Client::new(), Method::POST, &app.url("/api/v1/leads"), Some(&key), Some(named)).await;
    assert_eq!(by_key["owner_id"], json!(my_id));
}

#[tokio::test]
async fn the_audit_trail_is_for_admins_and_keys_whichever_way_it_is_asked() {
    let (app, owner, member, key) = team().await;
    let (status, _) = send(&owner, Method::GET, &app.url("/api/v1/audit-events"), None, None).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = send(&Client::new(), Method::GET, &app.url("/api/v1/audit-events"), Some(&key), None).await;
    assert_eq!(status, StatusCode::OK);
    let (status, body) = send(&member, Method::GET, &app.url("/api/v1/audit-events"), None, None).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    // A member still sees a lead's own history on its timeline.
    let (_, lead) = send(&member, Method::POST, &app.url("/api/v1/leads"), None, Some(json!({"name": "Timeline"}))).await;
    let path = format!("/api/v1/leads/{}/timeline", lead["id"].as_str().unwrap());
    let (status, timeline) = send(&member, Method::GET, &app.url(&path), None, None).await;
    assert_eq!(status, StatusCode::OK, "{timeline}");
}

#[tokio::test]
async fn membership_reasons_are_decided_by_the_operation_not_the_caller() {
    let (app, owner, _, key) = team().await;
    let api = |method: Method, path: &str, body: Option<Value>| {
        let (client, key, url) = (Client::new(), key.clone(), app.url(&format!("/api/v1{path}")));
        async move { send(&client, method, &url, Some(&key), body).await.1 }
    };
    let mut ids = Vec::new();
    for (name, email) in [("Ada", "ada@rules.test"), ("Bob", "bob@rules.test"), ("Cy", "cy@rules.test")] {
        ids.push(api(Method::POST, "/leads", Some(json!({"name": name, "email": email}))).await["id"].clone());
    }
    let list = api(Method::POST, "/lists", Some(json!({"name": "Hand-picked"}))).await;
    let list_id = list["id"].as_str().unwrap().to_string();
    let segment = api(Method::POST, "/lists", Some(json!({"name": "Everyone", "rules": {"match": "all", "rules": []}}))).await;

    // REST: one id is manual, several are bulk; server functions: one lead
    // by email is manual, a whole segment is bulk.
    let members = format!("/lists/{list_id}/members");
    api(Method::POST, &members, Some(json!({"ids": [ids[0], ids[0]]}))).await;
    api(Method::POST, &members, Some(json!({"ids": [ids[1], ids[2]]}))).await;
    api(Method::POST, &format!("{members}/remove"), Some(json!({"ids": [ids[0], ids[1], ids[2]]}))).await;
    let (status, body) = server_fn(&owner, &app, "add_lead_by_email", &[("id", &list_id), ("email", "cy@rules.test")]).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) =
        server_fn(&owner, &app, "add_from_segment", &[("id", &list_id), ("segment_id", segment["id"].as_str().unwrap())]).await;
    assert_eq!(status, StatusCode::OK, "{body}");

    let events = api(Method::GET, &format!("/audience-events?list_id={list_id}"), None).await;
    let reasons: Vec<(String, String)> = events["data"]
        .as_array()
        .or(events.as_array())
        .expect("events")
        .iter()
        .map(|e| (e["change"].as_str().unwrap().to_string(), e["reason"].as_str().unwrap().to_string()))
        .collect();
    let expected: Vec<(String, String)> = [
        ("added", "manual"),
        ("added", "bulk"),
        ("added", "bulk"),
        ("removed", "manual"),
        ("removed", "manual"),
        ("removed", "manual"),
        ("added", "manual"),
        ("added", "bulk"),
        ("added", "bulk"),
    ]
    .iter()
    .map(|(c, r)| (c.to_string(), r.to_string()))
    .collect();
    assert_eq!(reasons, expected, "{events}");
}
