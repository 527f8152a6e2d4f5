//! Audience: segments evaluated in SQL with membership events, static
//! lists, CSV export, and streamed imports that survive a crash.

use std::time::Duration;

use crate::common::{assert_error_shape, test_config, Api, TestApp};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

async fn lead(api: &Api, body: Value) -> String {
    api.ok(Method::POST, "/leads", Some(body)).await["id"].as_str().unwrap().to_string()
}

async fn preview(api: &Api, rules: Value) -> (StatusCode, Value) {
    api.call(Method::POST, "/segments/preview", Some(json!({ "rules": rules }))).await
}

async fn count_of(api: &Api, rules: Value) -> i64 {
    let (status, body) = preview(api, rules.clone()).await;
    assert_eq!(status, StatusCode::OK, "{rules}: {body}");
    body["count"].as_i64().unwrap()
}

fn all(rules: Value) -> Value {
    json!({"match": "all", "rules": rules})
}

async fn events(api: &Api, list_id: &str) -> Vec<(String, String, String)> {
    let body = api.ok(Method::GET, &format!("/audience-events?list_id={list_id}&limit=1000"), None).await;
    body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["member_id"].as_str().unwrap().to_string(),
                e["change"].as_str().unwrap().to_string(),
                e["reason"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[tokio::test]
async fn segments_evaluate_rules_in_sql_and_log_who_enters_and_leaves() {
    let api = Api::new("seg@example.com", &["crm:write"]).await;
    let ada = lead(&api, json!({"name": "Ada", "email": "ada@x.io", "score": 80, "source": "website", "tags": ["vip", "webinar"], "custom_fields": {"plan": "gold", "seats": 50, "trial": true}})).await;
    let bob = lead(
        &api,
        json!({"name": "Bob", "email": "bob@x.io", "score": 60, "source": "referral", "custom_fields": {"plan": "Silver", "seats": 5}}),
    )
    .await;
    let cy = lead(
        &api,
        json!({"name": "Cy", "score": 90, "source": "import", "status": "working", "tags": ["VIP"], "custom_fields": {"seats": "many"}}),
    )
    .await;
    let _dee = lead(
        &api,
        json!({"name": "Dee", "email": "dee@y.io", "score": 10, "source": "website", "custom_fields": {"plan": "gold", "trial": false}}),
    )
    .await;

    // Fields, ops and nesting, each checked against a hand count.
    assert_eq!(count_of(&api, all(json!([]))).await, 4);
    assert_eq!(count_of(&api, all(json!([{"field": "score", "op": "gte", "value": 60}]))).await, 3);
    assert_eq!(count_of(&api, all(json!([{"field": "tags", "op": "contains", "value": "vip"}]))).await, 2, "tags match case-insensitively");
    assert_eq!(count_of(&api, all(json!([{"field": "tags", "op": "is_not_set"}]))).await, 2);
    assert_eq!(count_of(&api, all(json!([{"field": "source", "op": "in", "value": ["website", "referral"]}]))).await, 3);
    assert_eq!(count_of(&api, all(json!([{"field": "status", "op": "neq", "value": "new"}]))).await, 1);
    assert_eq!(count_of(&api, all(json!([{"field": "email", "op": "is_not_set"}]))).await, 1);
    assert_eq!(count_of(&api, all(json!([{"field": "email", "op": "contains", "value": "@X.io"}]))).await, 2);
    assert_eq!(count_of(&api, all(json!([{"field": "name", "op": "starts_with", "value": "d"}]))).await, 1);
    assert_eq!(count_of(&api, all(json!([{"field": "cf.plan", "op": "eq", "value": "GOLD"}]))).await, 2);
    assert_eq!(count_of(&api, all(json!([{"field": "cf.seats", "op": "gt", "value": 10}]))).await, 1, "text 'many' is not a number");
    assert_eq!(count_of(&api, all(json!([{"field": "cf.trial", "op": "eq", "value": true}]))).await, 1);
    assert_eq!(count_of(&api, all(json!([{"field": "cf.trial", "op": "neq", "value": true}]))).await, 3);
    assert_eq!(count_of(&api, all(json!([{"field": "cf.plan", "op": "is_set"}]))).await, 3);
    assert_eq!(count_of(&api, all(json!([{"field": "created_at", "op": "within_last_days", "value": 1}]))).await, 4);
    assert_eq!(count_of(&api, all(json!([{"field": "created_at", "op": "lt", "value": "2020-01-01"}]))).await, 0);
    assert_eq!(count_of(&api, all(json!([{"field": "last_activity_at", "op": "is_not_set"}]))).await, 4);
    let nested = all(json!([
        {"field": "score", "op": "gte", "value": 50},
        {"match": "any", "rules": [
            {"field": "tags", "op": "contains", "value": "webinar"},
            {"field": "cf.plan", "op": "eq", "value": "silver"}
        ]}
    ]));
    let (_, body) = preview(&api, nested.clone()).await;
    assert_eq!(body["count"], 2);
    let mut names: Vec<&str> = body["sample"].as_array().unwrap().iter().map(|m| m["name"].as_str().unwrap()).collect();
    names.sort();
    assert_eq!(names, vec!["Ada", "Bob"]);

    // Bad rules: 422 naming the rule, in the one error shape.
    for (rules, field) in [
        (all(json!([{"field": "shoe_size", "op": "eq", "value": 1}])), "rules.rules[0].field"),
        (all(json!([{"field": "score", "op": "contains", "value": "1"}])), "rules.rules[0].op"),
        (all(json!([{"field": "score", "op": "gt"}])), "rules.rules[0].value"),
        (all(json!([{"field": "score", "op": "gt", "value": "high"}])), "rules.rules[0].value"),
        (all(json!([{"field": "source", "op": "eq", "value": "carrier-pigeon"}])), "rules.rules[0].value"),
        (
            all(json!([{"match": "any", "rules": [{"field": "created_at", "op": "gt", "value": "yesterday"}]}])),
            "rules.rules[0].rules[0].value",
        ),
        (json!({"field": "score", "op": "gt", "value": 1}), "rules"),
        (
            all(
                json!([{"match": "all", "rules": [{"match": "all", "rules": [{"match": "all", "rules": [{"match": "all", "rules": []}]}]}]}]),
            ),
            "rules.rules[0].rules[0].rules[0].rules[0]",
        ),
    ] {
        let (status, body) = preview(&api, rules.clone()).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{rules}: {body}");
        assert_eq!(assert_error_shape(&body), "validation_failed");
        assert_eq!(body["error"]["field"], field, "{body}");
    }
    let (status, body) = preview(&api, all(json!([{"field": "score", "op": "gt", "value": 1, "weight": 2}]))).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "unknown keys are refused: {body}");

    // Saving the segment records its first members as events.
    let segment = api.ok(Method::POST, "/lists", Some(json!({"name": "Hot leads", "rules": nested}))).await;
    let segment_id = segment["id"].as_str().unwrap().to_string();
    assert_eq!(segment["kind"], "segment");
    assert_eq!(segment["member_count"], 2);
    let mut first = events(&api, &segment_id).await;
    first.sort();
    let mut expected =
        vec![(ada.clone(), "added".to_string(), "segment_saved".to_string()), (bob.clone(), "added".into(), "segment_saved".into())];
    expected.sort();
    assert_eq!(first, expected);

    // Leads change; a refresh logs who left and who entered, once.
    api.ok(Method::PATCH, &format!("/leads/{bob}"), Some(json!({"score": 20}))).await;
    api.ok(Method::PATCH, &format!("/leads/{cy}"), Some(json!({"tags": ["VIP", "webinar"]}))).await;
    let refreshed = api.ok(Method::POST, &format!("/lists/{segment_id}/refresh"), None).await;
    assert_eq!(
        (refreshed["entered"].as_i64(), refreshed["left"].as_i64(), refreshed["member_count"].as_i64()),
        (Some(1), Some(1), Some(2))
    );
    let after = events(&api, &segment_id).await;
    assert_eq!(after.len(), 4);
    assert!(after.contains(&(bob.clone(), "removed".into(), "segment_refresh".into())));
    assert!(after.contains(&(cy.clone(), "added".into(), "segment_refresh".into())));
    let again = api.ok(Method::POST, &format!("/lists/{segment_id}/refresh"), None).await;
    assert_eq!((again["entered"].as_i64(), again["left"].as_i64()), (Some(0), Some(0)));
    assert_eq!(events(&api, &segment_id).await.len(), 4);

    // Members page, and a segment's members cannot be edited by hand.
    let members = api.ok(Method::GET, &format!("/lists/{segment_id}/members"), None).await;
    assert_eq!(members["data"].as_array().unwrap().len(), 2);
    let (status, body) = api.call(Method::POST, &format!("/lists/{segment_id}/members"), Some(json!({"ids": [bob]}))).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");

    // Editing the rules re-evaluates at once.
    let edited = api
        .ok(
            Method::PATCH,
            &format!("/lists/{segment_id}"),
            Some(json!({"rules": all(json!([{"field": "score", "op": "lt", "value": 50}]))})),
        )
        .await;
    assert_eq!(edited["member_count"], 2);

    // Another workspace sees none of it.
    let other = TestApp::sign_up(&api.app, "other-seg@example.com").await;
    let other_key = api.app.api_key(&other, &["crm:write"]).await;
    let (status, body) = crate::common::send(
        &reqwest::Client::new(),
        Method::POST,
        &api.app.url("/api/v1/segments/preview"),
        Some(&other_key),
        Some(json!({"rules": all(json!([]))})),
    )
    .await;
    assert_eq!((status, body["count"].as_i64()), (StatusCode::OK, Some(0)));
    let (status, _) = crate::common::send(
        &reqwest::Client::new(),
        Method::GET,
        &api.app.url(&format!("/api/v1/lists/{segment_id}")),
        Some(&other_key),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn static_lists_take_members_by_id_or_in_bulk_and_export_safe_csv() {
    let api = Api::new("lists@example.com", &["crm:write"]).await;
    let formula = lead(
        &api,
        json!({"name": "=HYPERLINK(\"http://evil.example\",\"click\")", "email": "f@x.io", "score": 70, "company_name": "Acme, Inc."}),
    )
    .await;
    let plain = lead(&api, json!({"name": "Plain", "email": "p@x.io", "score": 75, "tags": ["a", "b"]})).await;
    let low = lead(&api, json!({"name": "Low", "score": 5})).await;
    let list = api.ok(Method::POST, "/lists", Some(json!({"name": "Newsletter"}))).await;
    let list_id = list["id"].as_str().unwrap().to_string();
    assert_eq!((list["kind"].as_str(), list["member_count"].as_i64()), (Some("static"), Some(0)));
    let (status, body) = api.call(Method::POST, "/lists", Some(json!({"name": "newsletter"}))).await;
    assert_eq!((status, assert_error_shape(&body).as_str()), (StatusCode::CONFLICT, "name_taken"));

    // One unknown id refuses the whole request.
    let (status, body) =
        api.call(Method::POST, &format!("/lists/{list_id}/members"), Some(json!({"ids": [low, uuid::Uuid::now_v7()]}))).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(api.ok(Method::GET, &format!("/lists/{list_id}"), None).await["member_count"], 0);

    let added = api.ok(Method::POST, &format!("/lists/{list_id}/members"), Some(json!({"ids": [low, low]}))).await;
    assert_eq!((added["added"].as_i64(), added["member_count"].as_i64()), (Some(1), Some(1)));
    // Bulk: every member of a segment, in one statement; present ones stay.
    let segment = api
        .ok(Method::POST, "/lists", Some(json!({"name": "Warm", "rules": all(json!([{"field": "score", "op": "gte", "value": 5}]))})))
        .await;
    let bulk = api.ok(Method::POST, &format!("/lists/{list_id}/members"), Some(json!({"from_segment": segment["id"]}))).await;
    assert_eq!((bulk["added"].as_i64(), bulk["member_count"].as_i64()), (Some(2), Some(3)));
    let removed = api.ok(Method::POST, &format!("/lists/{list_id}/members/remove"), Some(json!({"ids": [low]}))).await;
    assert_eq!((removed["removed"].as_i64(), removed["member_count"].as_i64()), (Some(1), Some(2)));
    let log = events(&api, &list_id).await;
    assert_eq!(
        log.iter().map(|(_, c, r)| format!("{c}:{r}")).collect::<Vec<_>>(),
        vec!["added:manual", "added:bulk", "added:bulk", "removed:manual"]
    );

    // Export: streamed CSV, formulas neutralised, quoting intact.
    let response = api.client.get(api.app.url(&format!("/api/v1/lists/{list_id}/export.csv"))).bearer_auth(&api.key).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert!(response.headers()["content-type"].to_str().unwrap().starts_with("text/csv"));
    assert!(response.headers()["content-disposition"].to_str().unwrap().contains("Newsletter.csv"));
    let csv = response.text().await.unwrap();
    let lines: Vec<&str> = csv.trim_end().split("\r\n").collect();
    assert_eq!(lines.len(), 3, "{csv}");
    assert!(lines[0].starts_with("id,name,email,phone,company_name"));
    assert!(csv.contains(&format!("{formula},\"'=HYPERLINK(\"\"http://evil.example\"\",\"\"click\"\")\",f@x.io,,\"Acme, Inc.\"")), "{csv}");
    assert!(csv.contains(&format!("{plain},Plain,p@x.io,")) && csv.contains(",a;b,"), "{csv}");
    // A segment exports its live members the same way.
    let seg_csv = api
        .client
        .get(api.app.url(&format!("/api/v1/lists/{}/export.csv", segment["id"].as_str().unwrap())))
        .bearer_auth(&api.key)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(seg_csv.trim_end().split("\r\n").count(), 4);

    // A deleted lead leaves its lists, with an event.
    api.ok(Method::DELETE, &format!("/leads/{plain}"), None).await;
    assert_eq!(api.ok(Method::GET, &format!("/lists/{list_id}"), None).await["member_count"], 1);
    assert!(events(&api, &list_id).await.contains(&(plain.clone(), "removed".into(), "lead_deleted".into())));

    // Company lists hold companies.
    let company = api.ok(Method::POST, "/companies", Some(json!({"name": "Globex", "domain": "globex.example"}))).await;
    let accounts = api.ok(Method::POST, "/lists", Some(json!({"name": "Target accounts", "entity": "company"}))).await;
    let (status, _) =
        api.call(Method::POST, &format!("/lists/{}/members", accounts["id"].as_str().unwrap()), Some(json!({"ids": [formula]}))).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "a lead is not a company");
    api.ok(Method::POST, &format!("/lists/{}/members", accounts["id"].as_str().unwrap()), Some(json!({"ids": [company["id"]]}))).await;
    let members = api.ok(Method::GET, &format!("/lists/{}/members", accounts["id"].as_str().unwrap()), None).await;
    assert_eq!(members["data"][0]["email"], "globex.example");

    // Read-only keys read but do not write.
    let reader = api.app.api_key(&api.app.sign_up("reader-lists@example.com").await, &["crm:read"]).await;
    let (status, _) =
        crate::common::send(&api.client, Method::POST, &api.app.url("/api/v1/lists"), Some(&reader), Some(json!({"name": "x"}))).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}

pub(crate) async fn upload(api: &Api, query: &str, bytes: Vec<u8>) -> (StatusCode, Value) {
    let response = api
        .client
        .post(api.app.url(&format!("/api/v1/imports?{query}")))
        .bearer_auth(&api.key)
        .header("content-type", "text/csv")
        .body(bytes)
        .send()
        .await
        .unwrap();
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

pub(crate) async fn wait_for_import(api: &Api, id: &str) -> Value {
    for _ in 0..1200 {
        let import = api.ok(Method::GET, &format!("/imports/{id}"), None).await;
        if ["completed", "failed", "cancelled"].contains(&import["status"].as_str().unwrap()) {
            return import;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("import {id} did not finish");
}

pub(crate) async fn import_errors(api: &Api, id: &str) -> Vec<(i64, String)> {
    api.ok(Method::GET, &format!("/imports/{id}/errors"), None)
        .await
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["line"].as_i64().unwrap(), e["reason"].as_str().unwrap().to_string()))
        .collect()
}

async fn lead_count(api: &Api) -> i64 {
    let rules = all(json!([]));
    count_of(api, rules).await
}

#[tokio::test]
async fn csv_imports_map_columns_dedup_by_email_and_report_bad_rows_by_line() {
    let api = Api::new("import@example.com", &["crm:write"]).await;
    let existing = lead(&api, json!({"name": "Old Name", "email": "dup@x.io", "score": 1, "custom_fields": {"keep": "me"}})).await;
    let list = api.ok(Method::POST, "/lists", Some(json!({"name": "Imported"}))).await;

    let big = "x".repeat(1024 * 1024);
    let mut file = Vec::new();
    file.extend_from_slice("\u{feff}Full Name,E-mail,Company,Score,Plan,Tags,Notes\r\n".as_bytes()); // line 1
    file.extend_from_slice(b"Ada Lovelace,ADA@x.io,Analytical,90,gold,vip;webinar,\r\n"); // 2 ok
    file.extend_from_slice(b"Dup Person,dup@x.io,,50,silver,,\r\n"); // 3 duplicate
    file.extend_from_slice(b"Ragged,r@x.io\r\n"); // 4 ragged
    file.extend_from_slice(b"Bad \xff\xfe Bytes,b@x.io,,1,,,\r\n"); // 5 bad encoding
    file.extend_from_slice(b"Score Text,s@x.io,,lots,,,\r\n"); // 6 bad number
    file.extend_from_slice(b"\"Quoted, \"\"Name\"\"\nSecond line\",q@x.io,\"A, B\",10,,,\r\n"); // 7-8 ok
    file.extend_from_slice(format!("Big Plan,bp@x.io,,1,{big},,\r\n").as_bytes()); // 9 custom field too large
    file.extend_from_slice(format!("Big Note,bn@x.io,,2,,,{big}\r\n").as_bytes()); // 10 ok: Notes ignored
    file.extend_from_slice(b"Bad Email,not-an-email,,3,,,\r\n"); // 11 bad email
    file.extend_from_slice(b",,,,,,\r\n"); // 12 blank: skipped silently
    file.extend_from_slice(b"Last Row,last@x.io,,4,,,"); // 13 ok, no newline

    let (status, body) = upload(&api, "entity=lead&file_name=leads.csv", file).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let id = body["id"].as_str().unwrap().to_string();
    assert_eq!(body["status"], "mapping");
    assert_eq!(body["columns"], json!(["Full Name", "E-mail", "Company", "Score", "Plan", "Tags", "Notes"]));
    assert_eq!(
        body["mapping"],
        json!({"Full Name": "name", "E-mail": "email", "Company": "company_name", "Score": "score", "Plan": "cf.plan", "Tags": "tags", "Notes": "cf.notes"})
    );

    // Bad mappings are refused and the import stays startable.
    for (mapping, field) in [
        (json!({"Full Name": "shoe_size"}), "mapping.Full Name"),
        (json!({"Nope": "name"}), "mapping.Nope"),
        (json!({"E-mail": "email"}), "mapping"),
        (json!({"Full Name": "name", "E-mail": "name"}), "mapping.Full Name"),
    ] {
        let (status, body) = api.call(Method::POST, &format!("/imports/{id}/start"), Some(json!({"mapping": mapping}))).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{mapping}: {body}");
        assert_eq!(body["error"]["field"], field, "{body}");
    }
    let mapping = json!({"Full Name": "name", "E-mail": "email", "Company": "company_name", "Score": "score", "Plan": "cf.plan", "Tags": "tags", "Notes": ""});
    let started = api.ok(Method::POST, &format!("/imports/{id}/start"), Some(json!({"mapping": mapping, "list_id": list["id"]}))).await;
    assert_eq!(started["status"], "queued");
    let (status, _) = api.call(Method::POST, &format!("/imports/{id}/start"), Some(json!({}))).await;
    assert_eq!(status, StatusCode::CONFLICT);

    let done = wait_for_import(&api, &id).await;
    assert_eq!(done["status"], "completed", "{done}");
    assert_eq!(
        (done["rows_done"].as_i64(), done["rows_created"].as_i64(), done["rows_skipped"].as_i64(), done["rows_failed"].as_i64()),
        (Some(10), Some(4), Some(1), Some(5)),
        "{done}"
    );
    assert_eq!(done["bytes_done"], done["bytes_total"]);
    let errors = import_errors(&api, &id).await;
    let lines: Vec<i64> = errors.iter().map(|(l, _)| *l).collect();
    assert_eq!(lines, vec![4, 5, 6, 9, 11], "{errors:?}");
    assert!(errors[0].1.contains("expected 7 fields"), "{errors:?}");
    assert!(errors[1].1.contains("UTF-8"), "{errors:?}");
    assert!(errors[2].1.contains("not a whole number"), "{errors:?}");
    assert!(errors[3].1.contains("custom_fields"), "{errors:?}");
    assert!(errors[4].1.contains("email"), "{errors:?}");

    // Good rows landed whole; bad rows left nothing behind.
    assert_eq!(lead_count(&api).await, 5);
    let ada = api.ok(Method::GET, "/leads?q=ada%40x.io", None).await;
    let ada = &ada["data"][0];
    assert_eq!((ada["name"].as_str(), ada["email"].as_str(), ada["score"].as_i64()), (Some("Ada Lovelace"), Some("ada@x.io"), Some(90)));
    assert_eq!((ada["source"].as_str(), ada["tags"].clone()), (Some("import"), json!(["vip", "webinar"])));
    assert_eq!(ada["custom_fields"], json!({"plan": "gold"}));
    // Audited per batch, and each lead's timeline names its import.
    let ada_id = ada["id"].as_str().unwrap();
    let batch = api.ok(Method::GET, &format!("/audit-events?entity_id={id}&action=import.leads_created"), None).await;
    let named: Vec<&str> = batch["data"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|e| e["after"]["lead_ids"].as_array().unwrap())
        .map(|v| v.as_str().unwrap())
        .collect();
    assert_eq!(named.len(), 4, "{batch}");
    assert!(named.contains(&ada_id), "{batch}");
    let timeline = api.ok(Method::GET, &format!("/leads/{ada_id}/timeline"), None).await;
    assert_eq!(timeline[0]["kind"], "lead.imported", "{timeline}");
    assert_eq!(timeline[0]["summary"], format!("Imported by import {id} (leads.csv)"), "{timeline}");
    // The search index found them: substrings of name, email and company, any case.
    for (q, hits) in [("LOVEL", 1), ("alytic", 1), ("@x.io", 5), ("zzz", 0), ("la", 2)] {
        let found = api.ok(Method::GET, &format!("/leads?q={}", q.replace('@', "%40")), None).await;
        assert_eq!(found["data"].as_array().unwrap().len(), hits, "{q}: {found}");
    }
    let quoted = api.ok(Method::GET, "/leads?q=q%40x.io", None).await;
    assert_eq!(quoted["data"][0]["name"], "Quoted, \"Name\"\nSecond line");
    assert_eq!(quoted["data"][0]["company_name"], "A, B");
    let old = api.ok(Method::GET, &format!("/leads/{existing}"), None).await;
    assert_eq!((old["name"].as_str(), old["score"].as_i64()), (Some("Old Name"), Some(1)), "skip leaves the duplicate alone");
    // Every row that made it in (and the skipped duplicate) joined the list.
    let joined = api.ok(Method::GET, &format!("/lists/{}", list["id"].as_str().unwrap()), None).await;
    assert_eq!(joined["member_count"], 5);

    // dedup=update merges into the existing lead: fields set, custom fields merged.
    let (_, body) = upload(&api, "entity=lead&dedup=update", b"name,email,score,plan\nNew Name,DUP@x.io,77,gold\n".to_vec()).await;
    let id2 = body["id"].as_str().unwrap().to_string();
    api.ok(Method::POST, &format!("/imports/{id2}/start"), Some(json!({}))).await;
    let done = wait_for_import(&api, &id2).await;
    assert_eq!((done["rows_updated"].as_i64(), done["rows_created"].as_i64()), (Some(1), Some(0)), "{done}");
    let old = api.ok(Method::GET, &format!("/leads/{existing}"), None).await;
    assert_eq!((old["name"].as_str(), old["score"].as_i64()), (Some("New Name"), Some(77)));
    assert_eq!(old["custom_fields"], json!({"keep": "me", "plan": "gold"}));

    // dedup=create makes a second lead with the same email.
    let (_, body) = upload(&api, "entity=lead&dedup=create", b"name,email\nTwin,dup@x.io\n".to_vec()).await;
    let id3 = body["id"].as_str().unwrap().to_string();
    api.ok(Method::POST, &format!("/imports/{id3}/start"), Some(json!({}))).await;
    assert_eq!(wait_for_import(&api, &id3).await["rows_created"], 1);
    assert_eq!(lead_count(&api).await, 6);

    // Files that cannot be read at all are refused at upload, nothing kept.
    let utf16: Vec<u8> = [0xff, 0xfe].into_iter().chain("name,email\n".encode_utf16().flat_map(|u| u.to_le_bytes())).collect();
    let imports_before = api.ok(Method::GET, "/imports", None).await["data"].as_array().unwrap().len();
    for (bytes, needle) in [(utf16, "UTF-8"), (Vec::new(), "empty"), (b"name,name\n".to_vec(), "twice"), (b",email\n".to_vec(), "no name")]
    {
        let (status, body) = upload(&api, "entity=lead", bytes).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert!(body["error"]["message"].as_str().unwrap().contains(needle), "{body}");
    }
    let (status, body) = upload(&api, "entity=lead&colour=blue", b"name\nx\n".to_vec()).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "unknown query fields are refused: {body}");
    assert_eq!(api.ok(Method::GET, "/imports", None).await["data"].as_array().unwrap().len(), imports_before);
}

#[tokio::test]
async fn json_imports_of_contacts_and_companies() {
    let api = Api::new("json-import@example.com", &["crm:write"]).await;
    let contacts = br#"[
  {"name": "Grace Hopper", "email": "grace@navy.mil", "title": "Rear Admiral", "ship": "USS Hopper"},
  {"name": "No Nest", "email": "n@x.io", "address": {"city": "Paris"}},
  "just a string",
  {"name": "Ada Again", "email": "GRACE@navy.mil"},
  {"name": "Unclosed", "email": "u@x.io"
"#;
    let (status, body) = upload(&api, "entity=contact&format=json&dedup=skip", contacts.to_vec()).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["mapping"], json!({"email": "email", "name": "name", "ship": "cf.ship", "title": "title"}));
    let id = body["id"].as_str().unwrap().to_string();
    api.ok(Method::POST, &format!("/imports/{id}/start"), Some(json!({}))).await;
    let done = wait_for_import(&api, &id).await;
    assert_eq!(
        (done["rows_created"].as_i64(), done["rows_skipped"].as_i64(), done["rows_failed"].as_i64()),
        (Some(1), Some(1), Some(3)),
        "{done}"
    );
    let errors = import_errors(&api, &id).await;
    assert_eq!(errors.iter().map(|e| e.0).collect::<Vec<_>>(), vec![3, 4, 6], "{errors:?}");
    assert!(errors[0].1.contains("nested") && errors[1].1.contains("JSON object") && errors[2].1.contains("not closed"), "{errors:?}");
    let grace = api.ok(Method::GET, "/contacts?q=grace", None).await;
    assert_eq!(grace["data"][0]["custom_fields"], json!({"ship": "USS Hopper"}));

    // Companies dedup by domain; newline-delimited JSON works too.
    let companies = b"{\"name\": \"Initech\", \"domain\": \"initech.example\", \"employees\": 200}\n{\"name\": \"Initech Again\", \"domain\": \"INITECH.example\", \"employees\": 250}\n{\"name\": \"Umbrella\", \"employees\": \"lots\"}\n";
    let (status, body) = upload(&api, "entity=company&format=json&dedup=update", companies.to_vec()).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let id = body["id"].as_str().unwrap().to_string();
    api.ok(Method::POST, &format!("/imports/{id}/start"), Some(json!({}))).await;
    let done = wait_for_import(&api, &id).await;
    assert_eq!(
        (done["rows_created"].as_i64(), done["rows_updated"].as_i64(), done["rows_failed"].as_i64()),
        (Some(1), Some(1), Some(1)),
        "{done}"
    );
    let initech = api.ok(Method::GET, "/companies?q=initech", None).await;
    assert_eq!(initech["data"].as_array().unwrap().len(), 1);
    assert_eq!((initech["data"][0]["name"].as_str(), initech["data"][0]["employee_count"].as_i64()), (Some("Initech Again"), Some(250)));
}

#[tokio::test]
async fn an_import_resumes_after_a_crash_without_duplicating_rows() {
    let config = crate::common::Config {
        import_batch: 25,
        import_pause: Duration::from_millis(15),
        job_lease: Duration::from_millis(800),
        ..test_config()
    };
    let app = TestApp::spawn_with(config).await;
    let owner = app.sign_up("crash@example.com").await;
    let key = app.api_key(&owner, &["crm:write"]).await;
    let api = Api { app, key, client: reqwest::Client::new() };

    let rows = 6000;
    let mut file = String::from("name,email,score\n");
    for i in 0..rows {
        file.push_str(&format!("Lead {i},lead{i}@crash.example,{}\n", i % 100));
        if i % 1000 == 999 {
            file.push_str("broken row\n");
        }
    }
    let (status, body) = upload(&api, "entity=lead", file.into_bytes()).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let id = body["id"].as_str().unwrap().to_string();
    api.ok(Method::POST, &format!("/imports/{id}/start"), Some(json!({}))).await;

    // Let it get going, then kill the server mid-import.
    let mut progressed = 0;
    for _ in 0..600 {
        let import = api.ok(Method::GET, &format!("/imports/{id}"), None).await;
        progressed = import["rows_done"].as_i64().unwrap();
        if progressed >= 500 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(progressed >= 500, "the import never got going");
    let Api { app, key, client } = api;
    let app = app.crash_and_restart().await;
    let api = Api { app, key, client };
    let interrupted = api.ok(Method::GET, &format!("/imports/{id}"), None).await;
    assert!(interrupted["rows_done"].as_i64().unwrap() < rows, "the crash came too late to test anything: {interrupted}");
    // What was committed matches the job's own record exactly.
    let committed = api.app.count("leads").await;
    assert_eq!(committed, interrupted["rows_created"].as_i64().unwrap());

    let done = wait_for_import(&api, &id).await;
    assert_eq!(done["status"], "completed", "{done}");
    assert_eq!((done["rows_created"].as_i64(), done["rows_failed"].as_i64()), (Some(rows), Some(6)), "{done}");
    assert_eq!(api.app.count("leads").await, rows, "no row imported twice, none lost");
    let mut tx = api.app.db.begin_read().await.unwrap();
    let (distinct,): (i64,) = tx.fetch_one(app::platform::db::Q::new("SELECT COUNT(DISTINCT email) FROM leads")).await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!(distinct, rows);
    let errors = import_errors(&api, &id).await;
    assert_eq!(errors.iter().map(|e| e.0).collect::<Vec<_>>(), vec![1002, 2003, 3004, 4005, 5006, 6007]);
}

async fn public_post(
    app: &TestApp,
    slug: &str,
    origin: Option<&str>,
    signature: Option<String>,
    content_type: &str,
    body: Vec<u8>,
) -> (StatusCode, Value, reqwest::header::HeaderMap) {
    let mut request =
        reqwest::Client::new().post(app.url(&format!("/api/v1/public/forms/{slug}"))).header("content-type", content_type).body(body);
    if let Some(origin) = origin {
        request = request.header("origin", origin);
    }
    if let Some(signature) = signature {
        request = request.header("x-corral-signature", signature);
    }
    let response = request.send().await.unwrap();
    let (status, headers) = (response.status(), response.headers().clone());
    (status, response.json().await.unwrap_or(Value::Null), headers)
}

fn form_body(pairs: &[(&str, &str)]) -> Vec<u8> {
    form_urlencoded::Serializer::new(String::new()).extend_pairs(pairs).finish().into_bytes()
}

#[tokio::test]
async fn capture_forms_accept_public_submissions_only_when_origin_signature_and_rate_allow() {
    let app = TestApp::spawn_with(crate::common::Config { form_submissions_per_minute: 30, ..test_config() }).await;
    let owner = app.sign_up("forms@example.com").await;
    let key = app.api_key(&owner, &["crm:write"]).await;
    let api = Api { app, key, client: reqwest::Client::new() };
    let list = api.ok(Method::POST, "/lists", Some(json!({"name": "Website signups"}))).await;
    let site = "https://www.example.com";

    for (body, field) in [
        (json!({"name": "No email", "fields": [{"name": "name"}]}), "fields"),
        (json!({"name": "Bad field", "fields": [{"name": "email"}, {"name": "password"}]}), "fields[1].name"),
        (json!({"name": "Bad origin", "fields": [{"name": "email"}], "allowed_origins": ["www.example.com/page"]}), "allowed_origins[0]"),
        (json!({"name": "Bad list", "fields": [{"name": "email"}], "list_id": uuid::Uuid::now_v7()}), "list_id"),
    ] {
        let (status, response) = api.call(Method::POST, "/forms", Some(body)).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{response}");
        assert_eq!(response["error"]["field"], field, "{response}");
    }
    let form = api
        .ok(
            Method::POST,
            "/forms",
            Some(json!({
                "name": "Demo request",
                "slug": "demo-request-forms-test",
                "fields": [{"name": "name", "label": "Your name", "required": true}, {"name": "email"}, {"name": "company_name"}, {"name": "cf.message", "label": "Message"}],
                "list_id": list["id"],
                "allowed_origins": ["https://www.example.com/"],
            })),
        )
        .await;
    assert_eq!((form["lead_source"].as_str(), form["allowed_origins"].clone()), (Some("website"), json!([site])));
    let slug = form["slug"].as_str().unwrap().to_string();
    let secret = form["signing_secret"].as_str().unwrap().to_string();
    let form_id = form["id"].as_str().unwrap().to_string();

    // The embed snippet carries a token for its origin only.
    let (status, _) = api.call(Method::GET, &format!("/forms/{form_id}/embed?origin=https://evil.example"), None).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let snippet = api.ok(Method::GET, &format!("/forms/{form_id}/embed?origin={site}"), None).await;
    let html = snippet["html"].as_str().unwrap();
    assert!(
        html.contains(&format!("/api/v1/public/forms/{slug}\"")) && html.contains("name=\"email\"") && html.contains("<script>"),
        "{html}"
    );
    let token = app::audience::forms::origin_token(&secret, &slug, site);
    assert!(html.contains(&format!("name=\"_token\" value=\"{token}\"")));

    // A browser on the allowed origin: a new lead on the list.
    let first = form_body(&[
        ("name", "Ada"),
        ("email", "Ada@Example.com"),
        ("company_name", "Analytical"),
        ("cf.message", "Call me"),
        ("_token", &token),
    ]);
    let (status, body, headers) = public_post(&api.app, &slug, Some(site), None, "application/x-www-form-urlencoded", first).await;
    assert_eq!((status, body["status"].as_str()), (StatusCode::ACCEPTED, Some("received")), "{body}");
    assert_eq!(headers["access-control-allow-origin"], site);
    let leads = api.ok(Method::GET, "/leads?q=ada%40example.com", None).await;
    let lead = &leads["data"][0];
    assert_eq!((lead["source"].as_str(), lead["custom_fields"]["message"].as_str()), (Some("website"), Some("Call me")));
    let lead_id = lead["id"].as_str().unwrap().to_string();
    assert_eq!(events(&api, list["id"].as_str().unwrap()).await, vec![(lead_id.clone(), "added".to_string(), "form".to_string())]);

    // The same email again updates the lead (never its name).
    let again =
        form_body(&[("name", "Someone Else"), ("email", "ada@example.com"), ("company_name", "Analytical Engines"), ("_token", &token)]);
    let (status, _, _) = public_post(&api.app, &slug, Some(site), None, "application/x-www-form-urlencoded", again).await;
    assert_eq!(status, StatusCode::ACCEPTED);
    let lead = api.ok(Method::GET, &format!("/leads/{lead_id}"), None).await;
    assert_eq!(
        (lead["name"].as_str(), lead["company_name"].as_str(), lead["custom_fields"]["message"].as_str()),
        (Some("Ada"), Some("Analytical Engines"), Some("Call me"))
    );

    // A server signs the raw body instead.
    let json_body = serde_json::to_vec(&json!({"name": "Grace", "email": "grace@example.com"})).unwrap();
    let now = chrono::Utc::now().timestamp();
    let signed = app::audience::forms::body_signature(&secret, now, &json_body);
    let (status, body, _) = public_post(&api.app, &slug, None, Some(signed.clone()), "application/json", json_body.clone()).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");

    let leads_before = api.app.count("leads").await;
    let good = |pairs: &[(&str, &str)]| form_body(pairs);
    let stale = app::audience::forms::body_signature(&secret, now - 600, &json_body);
    let tampered = serde_json::to_vec(&json!({"name": "Mallory", "email": "grace@example.com"})).unwrap();
    let cases: Vec<(Option<&str>, Option<String>, &str, Vec<u8>, StatusCode, &str)> = vec![
        (
            Some("https://evil.example"),
            None,
            "application/x-www-form-urlencoded",
            good(&[("name", "E"), ("email", "e@x.io"), ("_token", &token)]),
            StatusCode::FORBIDDEN,
            "not allowed",
        ),
        (
            Some(site),
            None,
            "application/x-www-form-urlencoded",
            good(&[("name", "E"), ("email", "e@x.io")]),
            StatusCode::UNAUTHORIZED,
            "token",
        ),
        (
            Some(site),
            None,
            "application/x-www-form-urlencoded",
            good(&[("name", "E"), ("email", "e@x.io"), ("_token", "00ff")]),
            StatusCode::UNAUTHORIZED,
            "token",
        ),
        (None, None, "application/x-www-form-urlencoded", good(&[("name", "E"), ("email", "e@x.io")]), StatusCode::UNAUTHORIZED, "sign"),
        (None, Some(stale), "application/json", json_body.clone(), StatusCode::UNAUTHORIZED, "5 minutes"),
        (None, Some(signed.clone()), "application/json", tampered, StatusCode::UNAUTHORIZED, "does not match"),
        (
            Some(site),
            None,
            "application/x-www-form-urlencoded",
            good(&[("name", "E"), ("_token", &token)]),
            StatusCode::UNPROCESSABLE_ENTITY,
            "email is required",
        ),
        (
            Some(site),
            None,
            "application/x-www-form-urlencoded",
            good(&[("email", "e@x.io"), ("_token", &token)]),
            StatusCode::UNPROCESSABLE_ENTITY,
            "Your name is required",
        ),
        (
            Some(site),
            None,
            "application/x-www-form-urlencoded",
            good(&[("name", "E"), ("email", "not an email"), ("_token", &token)]),
            StatusCode::UNPROCESSABLE_ENTITY,
            "valid email",
        ),
        (
            Some(site),
            None,
            "application/x-www-form-urlencoded",
            good(&[("name", "E"), ("email", "e@x.io"), ("password", "x"), ("_token", &token)]),
            StatusCode::UNPROCESSABLE_ENTITY,
            "no field",
        ),
        (Some(site), None, "application/json", b"{\"name\": ".to_vec(), StatusCode::BAD_REQUEST, "not valid JSON"),
        (Some(site), None, "application/xml", b"<lead/>".to_vec(), StatusCode::UNSUPPORTED_MEDIA_TYPE, "application/json"),
    ];
    for (origin, signature, content_type, body, expected, needle) in cases {
        let (status, response, _) = public_post(&api.app, &slug, origin, signature, content_type, body).await;
        assert_eq!(status, expected, "{response}");
        assert_error_shape(&response);
        assert!(response["error"]["message"].as_str().unwrap().contains(needle), "{needle}: {response}");
    }
    assert_eq!(api.app.count("leads").await, leads_before, "refused submissions change nothing");
    let (status, response, _) =
        public_post(&api.app, "no-such-form", Some(site), None, "application/x-www-form-urlencoded", good(&[("email", "e@x.io")])).await;
    assert_eq!((status, assert_error_shape(&response).as_str()), (StatusCode::NOT_FOUND, "not_found"));

    // CORS preflight answers allowed origins only.
    let preflight = |origin: &'static str| {
        reqwest::Client::new()
            .request(Method::OPTIONS, api.app.url(&format!("/api/v1/public/forms/{slug}")))
            .header("origin", origin)
            .send()
    };
    let allowed = preflight("https://www.example.com").await.unwrap();
    assert_eq!((allowed.status(), allowed.headers()["access-control-allow-origin"].to_str().unwrap()), (StatusCode::NO_CONTENT, site));
    assert!(preflight("https://evil.example").await.unwrap().headers().get("access-control-allow-origin").is_none());

    // Rate limit per IP and form: the 31st request in a minute is refused,
    // while another form still takes submissions.
    let second =
        api.ok(Method::POST, "/forms", Some(json!({"name": "Newsletter", "fields": [{"name": "email"}], "allowed_origins": [site]}))).await;
    let second_slug = second["slug"].as_str().unwrap().to_string();
    let second_token = app::audience::forms::origin_token(second["signing_secret"].as_str().unwrap(), &second_slug, site);
    for i in 0..30 {
        let email = format!("n{i}@x.io");
        let (status, _, _) = public_post(
            &api.app,
            &second_slug,
            Some(site),
            None,
            "application/x-www-form-urlencoded",
            form_body(&[("email", &email), ("_token", &second_token)]),
        )
        .await;
        assert_eq!(status, StatusCode::ACCEPTED);
    }
    let (status, response, headers) = public_post(
        &api.app,
        &second_slug,
        Some(site),
        None,
        "application/x-www-form-urlencoded",
        form_body(&[("email", "n31@x.io"), ("_token", &second_token)]),
    )
    .await;
    assert_eq!((status, assert_error_shape(&response).as_str()), (StatusCode::TOO_MANY_REQUESTS, "rate_limited"));
    assert_eq!(headers["retry-after"], "60");
    assert_eq!(api.ok(Method::GET, &format!("/forms/{}", second["id"].as_str().unwrap()), None).await["submissions"], 30);

    // A deactivated form is gone for the public.
    api.ok(Method::PATCH, &format!("/forms/{form_id}"), Some(json!({"active": false}))).await;
    let (status, _, _) = public_post(
        &api.app,
        &slug,
        Some(site),
        None,
        "application/x-www-form-urlencoded",
        form_body(&[("email", "late@x.io"), ("_token", &token)]),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_form_tags_its_leads_and_feeds_a_segment_whose_rules_select_them() {
    let app = TestApp::spawn().await;
    let owner = app.sign_up("form-segment@example.com").await;
    let key = app.api_key(&owner, &["crm:write"]).await;
    let api = Api { app, key, client: reqwest::Client::new() };
    let rules = json!({"match": "all", "rules": [{"field": "tags", "op": "contains", "value": "webinar"}, {"field": "source", "op": "eq", "value": "campaign"}]});
    let segment = api.ok(Method::POST, "/lists", Some(json!({"name": "Webinar sign-ups", "rules": rules}))).await;
    let segment_id = segment["id"].as_str().unwrap().to_string();
    let companies = api.ok(Method::POST, "/lists", Some(json!({"name": "Accounts", "entity": "company"}))).await;

    let (status, response) =
        api.call(Method::POST, "/forms", Some(json!({"name": "Bad", "fields": [{"name": "email"}], "list_id": companies["id"]}))).await;
    assert_eq!((status, response["error"]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("list_id")), "{response}");
    let (status, response) =
        api.call(Method::POST, "/forms", Some(json!({"name": "Bad", "fields": [{"name": "email"}], "tags": [""]}))).await;
    assert_eq!((status, response["error"]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("tags")), "{response}");

    let form = api
        .ok(
            Method::POST,
            "/forms",
            Some(json!({"name": "Webinar", "fields": [{"name": "email"}, {"name": "name"}], "list_id": segment_id, "lead_source": "campaign", "tags": ["webinar", "spring"]})),
        )
        .await;
    assert_eq!(form["tags"], json!(["webinar", "spring"]));
    let (slug, secret) = (form["slug"].as_str().unwrap().to_string(), form["signing_secret"].as_str().unwrap().to_string());
    let signed_post = |body: Value| {
        let bytes = serde_json::to_vec(&body).unwrap();
        let signature = app::audience::forms::body_signature(&secret, chrono::Utc::now().timestamp(), &bytes);
        public_post(&api.app, &slug, None, Some(signature), "application/json", bytes)
    };

    // A new lead is tagged and joins the segment at once, with an event.
    let (status, body, _) = signed_post(json!({"email": "new@example.com", "name": "New"})).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    let new = api.ok(Method::GET, "/leads?q=new%40example.com", None).await["data"][0].clone();
    assert_eq!((new["tags"].clone(), new["source"].as_str()), (json!(["webinar", "spring"]), Some("campaign")));
    let new_id = new["id"].as_str().unwrap().to_string();
    assert_eq!(events(&api, &segment_id).await, vec![(new_id.clone(), "added".to_string(), "form".to_string())]);

    // An existing lead keeps its tags and source and gains the form's tags;
    // its source (api) keeps it out of the segment, as the rules say.
    let old_id = lead(&api, json!({"name": "Old", "email": "old@example.com", "tags": ["vip"]})).await;
    let (status, _, _) = signed_post(json!({"email": "old@example.com"})).await;
    assert_eq!(status, StatusCode::ACCEPTED);
    let old = api.ok(Method::GET, &format!("/leads/{old_id}"), None).await;
    assert_eq!((old["tags"].clone(), old["source"].as_str()), (json!(["vip", "webinar", "spring"]), Some("api")));
    assert_eq!(events(&api, &segment_id).await.len(), 1, "the rules do not select an api lead");
    assert_eq!(api.ok(Method::GET, &format!("/lists/{segment_id}"), None).await["member_count"], 1);

    // Submitting twice changes nothing more.
    let (status, _, _) = signed_post(json!({"email": "new@example.com"})).await;
    assert_eq!(status, StatusCode::ACCEPTED);
    assert_eq!(events(&api, &segment_id).await.len(), 1);
    let again = api.ok(Method::GET, &format!("/leads/{new_id}"), None).await;
    assert_eq!(again["tags"], json!(["webinar", "spring"]));

    // Tags are edited like the rest; the audit row has no secret.
    let patched = api.ok(Method::PATCH, &format!("/forms/{}", form["id"].as_str().unwrap()), Some(json!({"tags": ["autumn"]}))).await;
    assert_eq!(patched["tags"], json!(["autumn"]));
    let audit =
        api.ok(Method::GET, &format!("/audit-events?entity_id={}&action=capture_form.updated", form["id"].as_str().unwrap()), None).await;
    assert_eq!(audit["data"][0]["after"]["tags"], json!(["autumn"]));
    assert!(!audit.to_string().contains(&secret));
}

#[tokio::test]
async fn enrichment_posts_the_lead_to_a_real_http_service_and_merges_its_answer() {
    use axum::routing::post;
    use std::sync::{Arc, Mutex};

    // The remote service: checks its key, remembers what it was sent.
    let received: Arc<Mutex<Vec<(Option<String>, Value)>>> = Arc::default();
    let seen = received.clone();
    let service = axum::Router::new()
        .route(
            "/enrich",
            post(move |headers: axum::http::HeaderMap, axum::Json(body): axum::Json<Value>| {
                let seen = seen.clone();
                async move {
                    let auth = headers.get("authorization").map(|h| h.to_str().unwrap().to_string());
                    seen.lock().unwrap().push((auth, body));
                    axum::Json(json!({"fields": {
                        "name": "Not Her Name", "company_name": "Analytical Engines Ltd", "title": "CTO",
                        "employees": 120, "linkedin": "https://linkedin.example/ada", "tags": ["enriched", "VIP"]
                    }}))
                }
            }),
        )
        .route("/broken", post(|| async { (axum::http::StatusCode::INTERNAL_SERVER_ERROR, "boom") }))
        .route("/prose", post(|| async { "hello" }));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let remote = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, service).await.unwrap() });

    let api = Api::new("enrich@example.com", &["crm:write"]).await;
    let lead_id = lead(&api, json!({"name": "Ada", "email": "ada@enrich.example", "title": "Countess", "tags": ["vip"]})).await;
    let (status, body) = api.call(Method::POST, "/enrichment-connectors", Some(json!({"name": "Bad", "url": "ftp://x"}))).await;
    assert_eq!((status, body["error"]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("url")));
    let connector = api
        .ok(
            Method::POST,
            "/enrichment-connectors",
            Some(json!({"name": "Clearbit-ish", "url": format!("{remote}/enrich"), "auth_header": "Bearer s3cret"})),
        )
        .await;
    assert!(connector.get("auth_header").is_none(), "the credential is never shown back");

    let enriched = api.ok(Method::POST, &format!("/leads/{lead_id}/enrich"), Some(json!({"connector_id": connector["id"]}))).await;
    assert_eq!(enriched["name"], "Ada", "identity is not overwritten");
    assert_eq!(enriched["title"], "Countess", "typed values win over enrichment");
    assert_eq!(enriched["company_name"], "Analytical Engines Ltd", "empty fields fill in");
    assert_eq!(enriched["custom_fields"], json!({"employees": 120, "linkedin": "https://linkedin.example/ada"}));
    assert_eq!(enriched["tags"], json!(["vip", "enriched"]));
    {
        let received = received.lock().unwrap();
        assert_eq!(received.len(), 1);
        assert_eq!(received[0].0.as_deref(), Some("Bearer s3cret"));
        assert_eq!(received[0].1["lead"]["email"], "ada@enrich.example");
    }
    let audit = api.ok(Method::GET, &format!("/audit-events?entity_id={lead_id}&action=lead.enriched"), None).await;
    assert_eq!(audit["data"].as_array().unwrap().len(), 1);
    assert_eq!(audit["data"][0]["before"]["company_name"], Value::Null);

    // Failures are 502 in the one error shape, and change nothing.
    for path in ["/broken", "/prose"] {
        let bad = api.ok(Method::POST, "/enrichment-connectors", Some(json!({"name": path, "url": format!("{remote}{path}")}))).await;
        let (status, body) = api.call(Method::POST, &format!("/leads/{lead_id}/enrich"), Some(json!({"connector_id": bad["id"]}))).await;
        assert_eq!((status, assert_error_shape(&body).as_str()), (StatusCode::BAD_GATEWAY, "upstream_failed"), "{body}");
    }
    let unreachable =
        api.ok(Method::POST, "/enrichment-connectors", Some(json!({"name": "Gone", "url": "http://127.0.0.1:9/enrich"}))).await;
    let (status, _) = api.call(Method::POST, &format!("/leads/{lead_id}/enrich"), Some(json!({"connector_id": unreachable["id"]}))).await;
    assert_eq!(status, StatusCode::BAD_GATEWAY);
    assert_eq!(api.ok(Method::GET, &format!("/leads/{lead_id}"), None).await, enriched);
    let (status, body) =
        api.call(Method::POST, &format!("/leads/{lead_id}/enrich"), Some(json!({"connector_id": uuid::Uuid::now_v7()}))).await;
    assert_eq!((status, body["error"]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("connector_id")));
}

#[tokio::test]
async fn enrichment_refuses_private_network_targets_unless_configured_to_allow_them() {
    let app = TestApp::spawn_with(crate::common::Config { enrichment_private_networks: false, ..test_config() }).await;
    let owner = app.sign_up("ssrf@example.com").await;
    let key = app.api_key(&owner, &["crm:write"]).await;
    let api = Api { app, key, client: reqwest::Client::new() };
    let connectors_before = api.app.count("enrichment_connectors").await;
    for url in [
        "http://127.0.0.1:8080/enrich",
        "http://localhost/enrich",
        "http://api.localhost/enrich",
        "http://10.1.2.3/enrich",
        "http://192.168.0.10/enrich",
        "http://169.254.169.254/latest/meta-data",
        "http://[::1]/enrich",
        "http://[::ffff:127.0.0.1]/enrich",
        "http://[fd00::1]/enrich",
        "http://0.0.0.0/enrich",
    ] {
        let (status, body) = api.call(Method::POST, "/enrichment-connectors", Some(json!({"name": "Inside", "url": url}))).await;
        assert_eq!((status, body["error"]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("url")), "{url}: {body}");
        assert!(body["error"]["message"].as_str().unwrap().contains("private network"), "{body}");
    }
    assert_eq!(api.app.count("enrichment_connectors").await, connectors_before, "refused connectors leave nothing behind");

    // A public URL is taken (nothing is called until a lead is enriched);
    // moving it inside is refused like creating it there.
    let connector =
        api.ok(Method::POST, "/enrichment-connectors", Some(json!({"name": "Outside", "url": "https://93.184.215.14/enrich"}))).await;
    let id = connector["id"].as_str().unwrap().to_string();
    let (status, body) =
        api.call(Method::PATCH, &format!("/enrichment-connectors/{id}"), Some(json!({"url": "http://127.0.0.1:9/enrich"}))).await;
    assert_eq!((status, body["error"]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("url")), "{body}");

    // A URL that got inside anyway (stored before the setting changed) is
    // refused at call time, before any connection.
    {
        let mut tx = api.app.db.begin().await.unwrap();
        tx.execute(app::platform::db::Q::new("UPDATE enrichment_connectors SET url = 'http://127.0.0.1:9/enrich'")).await.unwrap();
        tx.commit().await.unwrap();
    }
    let lead_id = lead(&api, json!({"name": "Ada", "email": "ada@ssrf.example"})).await;
    let (status, body) = api.call(Method::POST, &format!("/leads/{lead_id}/enrich"), Some(json!({"connector_id": id}))).await;
    assert_eq!((status, body["error"]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("connector_id")), "{body}");

    // Disabled connectors are refused; the toggle is audited.
    let disabled = api.ok(Method::PATCH, &format!("/enrichment-connectors/{id}"), Some(json!({"enabled": false}))).await;
    assert_eq!(disabled["enabled"], false);
    let (status, body) = api.call(Method::POST, &format!("/leads/{lead_id}/enrich"), Some(json!({"connector_id": id}))).await;
    assert_eq!((status, assert_error_shape(&body).as_str()), (StatusCode::CONFLICT, "connector_disabled"));
    let audit = api.ok(Method::GET, &format!("/audit-events?entity_id={id}&action=enrichment_connector.updated"), None).await;
    assert_eq!(audit["data"][0]["after"]["enabled"], false);
}

#[tokio::test]
async fn uploads_nobody_maps_expire_and_their_files_are_removed() {
    use app::platform::housekeeping::UNSTARTED_IMPORT_TTL;
    let api = Api::new("expiry@example.com", &["crm:write"]).await;
    let (status, waiting) = upload(&api, "entity=lead&format=csv", b"name,email\nAda,ada@x.io\n".to_vec()).await;
    assert_eq!(status, StatusCode::CREATED, "{waiting}");
    let (status, started) = upload(&api, "entity=lead&format=csv", b"name,email\nBob,bob@x.io\n".to_vec()).await;
    assert_eq!(status, StatusCode::CREATED);
    let started_id = started["id"].as_str().unwrap().to_string();
    api.ok(Method::POST, &format!("/imports/{started_id}/start"), Some(json!({}))).await;
    wait_for_import(&api, &started_id).await;
    let waiting_id = waiting["id"].as_str().unwrap().to_string();
    let (file,): (String,) = {
        let mut tx = api.app.db.begin_read().await.unwrap();
        let id = uuid::Uuid::parse_str(&waiting_id).unwrap();
        tx.fetch_one(app::platform::db::Q::new("SELECT file_path FROM imports WHERE id = $1").bind(id)).await.unwrap()
    };
    assert!(std::path::Path::new(&file).exists());

    let now = chrono::Utc::now();
    assert_eq!(app::audience::imports::expire_unstarted(&api.app.db, now - UNSTARTED_IMPORT_TTL).await.unwrap(), 0, "a fresh upload waits");
    assert_eq!(
        app::audience::imports::expire_unstarted(&api.app.db, now + chrono::Duration::seconds(1)).await.unwrap(),
        1,
        "only the unstarted one"
    );
    let expired = api.ok(Method::GET, &format!("/imports/{waiting_id}"), None).await;
    assert_eq!(expired["status"], "cancelled");
    assert!(expired["error"].as_str().unwrap().contains("7 days"), "{expired}");
    assert!(!std::path::Path::new(&file).exists(), "the file is removed");
    assert_eq!(api.ok(Method::GET, &format!("/imports/{started_id}"), None).await["status"], "completed");
    let (status, _) = api.call(Method::POST, &format!("/imports/{waiting_id}/start"), Some(json!({}))).await;
    assert_eq!(status, StatusCode::CONFLICT, "an expired import cannot start");
    let audit = api.ok(Method::GET, &format!("/audit-events?entity_id={waiting_id}&action=import.expired"), None).await;
    assert_eq!(audit["data"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn the_form_rate_limit_believes_x_forwarded_for_only_from_trusted_proxies() {
    // The test's requests come from 127.0.0.1, standing in for the proxy.
    for (trusted_proxies, per_client) in [(Vec::new(), false), (vec!["127.0.0.1".parse().unwrap()], true)] {
        let config = crate::common::Config { form_submissions_per_minute: 2, trusted_proxies, ..test_config() };
        let app = TestApp::spawn_with(config).await;
        let owner = app.sign_up("proxy@example.com").await;
        let key = app.api_key(&owner, &["crm:write"]).await;
        let api = Api { app, key, client: reqwest::Client::new() };
        let form = api.ok(Method::POST, "/forms", Some(json!({"name": "Proxy test", "fields": [{"name": "email"}]}))).await;
        let (slug, secret) = (form["slug"].as_str().unwrap().to_string(), form["signing_secret"].as_str().unwrap().to_string());
        let submit = |n: usize, client: &'static str| {
            let body = serde_json::to_vec(&json!({"email": format!("p{n}@x.io")})).unwrap();
            let signature = app::audience::forms::body_signature(&secret, chrono::Utc::now().timestamp(), &body);
            api.client
                .post(api.app.url(&format!("/api/v1/public/forms/{slug}")))
                .header("content-type", "application/json")
                .header("x-corral-signature", signature)
                .header("x-forwarded-for", client)
                .body(body)
                .send()
        };
        assert_eq!(submit(1, "198.51.100.1").await.unwrap().status(), StatusCode::ACCEPTED);
        assert_eq!(submit(2, "198.51.100.1").await.unwrap().status(), StatusCode::ACCEPTED);
        // Another client behind the proxy has its own budget only when the
        // proxy is trusted; otherwise a forged header buys nothing.
        let other = submit(3, "198.51.100.2").await.unwrap().status();
        assert_eq!(other, if per_client { StatusCode::ACCEPTED } else { StatusCode::TOO_MANY_REQUESTS }, "trusted: {per_client}");
        assert_eq!(submit(4, "198.51.100.1").await.unwrap().status(), StatusCode::TOO_MANY_REQUESTS);
    }
}
