//! Benchmarks at scale (issue 14), not tests: each is `#[ignore]`d, run by
//! its script in the release profile, and prints one `BENCH` line with the
//! figure and its ratio to a baseline measured in the same run. CI runs
//! each once on a small N (`scripts/test.sh`) to prove it still works.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::json;
use sqlx::Connection;

use crate::audience::{import_errors, upload};
use crate::common::*;

fn bench_size(var: &str, default: usize) -> usize {
    std::env::var(var).ok().and_then(|n| n.replace('_', "").parse().ok()).unwrap_or(default)
}

fn rss_kb(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix(field).map(|v| v.trim().trim_end_matches(" kB").trim().parse::<u64>().unwrap_or(0)))
        .unwrap_or(0)
}

/// Samples this process's resident memory until dropped; `peak` holds the
/// highest reading in kB (VmHWM would include the upload's buffer).
struct RssSampler {
    peak: Arc<AtomicU64>,
    task: tokio::task::JoinHandle<()>,
}

impl RssSampler {
    fn start() -> RssSampler {
        let peak = Arc::new(AtomicU64::new(rss_kb("VmRSS:")));
        let task = tokio::spawn({
            let peak = peak.clone();
            async move {
                loop {
                    peak.fetch_max(rss_kb("VmRSS:"), Ordering::Relaxed);
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
            }
        });
        RssSampler { peak, task }
    }

    fn stop(self) -> u64 {
        self.task.abort();
        self.peak.load(Ordering::Relaxed).max(rss_kb("VmRSS:"))
    }
}

/// Row `i` of the benchmark's lead file, as its fields. Every 1,000th row
/// has a bad score (reported by line), every 500th repeats the previous
/// row's email (skipped as a duplicate).
fn bench_lead(i: usize) -> [String; 6] {
    let email = if i.is_multiple_of(500) && i > 0 { format!("lead{}@bench.test", i - 1) } else { format!("lead{i}@bench.test") };
    let score = if i % 1000 == 999 { "lots".to_string() } else { (i % 1000).to_string() };
    [
        format!("Lead Person {i}"),
        email,
        format!("Company {}", i % 5000),
        score,
        format!("plan{}", i % 4),
        format!("tag{};cohort{}", i % 10, i % 7),
    ]
}

/// How many of the first `n` rows of [`bench_lead`] fail (bad score) and
/// how many are skipped (a duplicate of the row before, when that one
/// was good).
fn lead_rows_expected(n: usize) -> (usize, usize) {
    let bad = (0..n).filter(|i| i % 1000 == 999).count();
    let duplicates = (0..n).filter(|i| i % 500 == 0 && *i > 0 && i % 1000 != 999 && (i - 1) % 1000 != 999).count();
    (bad, duplicates)
}

/// The engine's own rate for the same rows: a copy of `leads` with its
/// indexes, filled by the database itself — on SQLite one INSERT … SELECT
/// over a recursive counter, on PostgreSQL `COPY … FROM STDIN` of the rows
/// in COPY's text format. Returns rows per second.
async fn raw_engine_rate(app: &TestApp, workspace: uuid::Uuid, n: usize) -> f64 {
    let columns = "id, workspace_id, name, email, company_name, source, status, score, custom_fields, tags, created_at, updated_at";
    match backend().as_str() {
        "postgres" => {
            let mut conn = sqlx::PgConnection::connect(app.database_url()).await.unwrap();
            sqlx::query("CREATE TABLE bench_leads (LIKE leads INCLUDING ALL)").execute(&mut conn).await.unwrap();
            let mut data = String::with_capacity(n * 200);
            let at = chrono::Utc::now().to_rfc3339();
            for i in 0..n {
                let [name, email, company, _score, plan, tags] = bench_lead(i);
                let tags: Vec<&str> = tags.split(';').collect();
                data.push_str(&format!(
                    "{}\t{workspace}\t{name}\t{email}\t{company}\timport\tnew\t{}\t{{\"plan\": \"{plan}\"}}\t[\"{}\"]\t{at}\t{at}\n",
                    uuid::Uuid::now_v7(),
                    i % 1000,
                    tags.join("\", \"")
                ));
            }
            let started = Instant::now();
            let mut copy = conn.copy_in_raw(&format!("COPY bench_leads ({columns}) FROM STDIN")).await.unwrap();
            for chunk in data.as_bytes().chunks(1 << 20) {
                copy.send(chunk).await.unwrap();
            }
            copy.finish().await.unwrap();
            let elapsed = started.elapsed();
            sqlx::query("DROP TABLE bench_leads").execute(&mut conn).await.unwrap();
            n as f64 / elapsed.as_secs_f64()
        }
        _ => {
            let mut conn = sqlx::SqliteConnection::connect(app.database_url()).await.unwrap();
            // The table, its search index (FTS5, filled by triggers), its
            // indexes and its dashboard counters (triggers), renamed.
            let schema: Vec<(String,)> = sqlx::query_as(
                "SELECT sql FROM sqlite_master WHERE tbl_name IN ('leads', 'leads_search') \
                 AND type IN ('table', 'index', 'trigger') AND sql IS NOT NULL \
                 ORDER BY CASE type WHEN 'table' THEN 0 WHEN 'index' THEN 1 ELSE 2 END, tbl_name",
            )
            .fetch_all(&mut conn)
            .await
            .unwrap();
            for (sql,) in &schema {
                let copied = sql
                    .replace("leads_search", "bench_search")
                    .replace("CREATE TABLE leads", "CREATE TABLE bench_leads")
                    .replace(" ON leads ", " ON bench_leads ")
                    .replace(" ON leads\n", " ON bench_leads\n")
                    .replace("CREATE TRIGGER leads_", "CREATE TRIGGER bench_leads_")
                    .replace("content = 'leads'", "content = 'bench_leads'")
                    .replacen("CREATE INDEX leads_", "CREATE INDEX bench_leads_", 1);
                sqlx::query(&copied).execute(&mut conn).await.unwrap();
            }
            let started = Instant::now();
            let sql = format!(
                "INSERT INTO bench_leads ({columns}) \
                 WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < ?1 - 1) \
                 SELECT randomblob(16), ?2, 'Lead Person ' || i, 'lead' || i || '@bench.test', 'Company ' || (i % 5000), \
                 'import', 'new', i % 1000, json_object('plan', 'plan' || (i % 4), 'seats', i % 500), \
                 json_array('tag' || (i % 10), 'cohort' || (i % 7)), ?3, ?3 FROM n"
            );
            let at = chrono::Utc::now().to_rfc3339();
            let mut tx = conn.begin().await.unwrap();
            sqlx::query(&sql).bind(n as i64).bind(workspace).bind(&at).execute(&mut *tx).await.unwrap();
            tx.commit().await.unwrap();
            let elapsed = started.elapsed();
            sqlx::query("DROP TABLE bench_leads").execute(&mut conn).await.unwrap();
            sqlx::query("DROP TABLE IF EXISTS bench_search").execute(&mut conn).await.unwrap();
            n as f64 / elapsed.as_secs_f64()
        }
    }
}

/// Benchmark (`scripts/bench-import.sh`): a CSV of N leads (default
/// 1,000,000) with a custom field, tags, bad rows and duplicate emails
/// through the import job (dedup by email, validation, errors by line),
/// in rows per second from start to completed, against the engine's own
/// insert rate for the same rows measured in the same run; with the peak
/// resident memory of the process (server, worker and harness) while the
/// import runs.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a benchmark: scripts/bench-import.sh"]
async fn bench_import_against_the_engines_own_rate() {
    let n = bench_size("BENCH_LEADS", 1_000_000);
    let api = Api::new("bench-import@example.com", &["crm:read", "crm:write"]).await;
    let workspace: uuid::Uuid = api.ok(Method::GET, "/workspace", None).await["id"].as_str().unwrap().parse().unwrap();

    let baseline = raw_engine_rate(&api.app, workspace, n).await;

    let mut file = Vec::with_capacity(n * 90);
    file.extend_from_slice(b"Full Name,Email,Company,Score,Plan,Tags\n");
    for i in 0..n {
        file.extend_from_slice(bench_lead(i).join(",").as_bytes());
        file.push(b'\n');
    }
    let (status, body) = upload(&api, "entity=lead&file_name=bench.csv", file).await;
    assert!(status.is_success(), "{body}");
    let id = body["id"].as_str().unwrap().to_string();
    assert_eq!(body["mapping"]["Plan"], "cf.plan", "{body}");

    let sampler = RssSampler::start();
    let started = Instant::now();
    api.ok(Method::POST, &format!("/imports/{id}/start"), Some(json!({}))).await;
    let done = loop {
        let import = api.ok(Method::GET, &format!("/imports/{id}"), None).await;
        if ["completed", "failed", "cancelled"].contains(&import["status"].as_str().unwrap()) {
            break import;
        }
        assert!(started.elapsed() < Duration::from_secs(3600), "the import takes over an hour: {import}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let elapsed = started.elapsed();
    let peak_kb = sampler.stop();

    let (bad, duplicates) = lead_rows_expected(n);
    assert_eq!(done["status"], "completed", "{done}");
    assert_eq!(done["rows_failed"].as_u64(), Some(bad as u64), "{done}");
    assert_eq!(done["rows_skipped"].as_u64(), Some(duplicates as u64), "{done}");
    assert_eq!(done["rows_created"].as_u64(), Some((n - bad - duplicates) as u64), "{done}");
    let errors = import_errors(&api, &id).await;
    if n >= 1000 {
        assert_eq!(errors[0].0, 1001, "row 999 is on line 1,001: {:?}", errors.first());
    }
    assert_eq!(
        api.app.count_where("leads", "import_id IS NOT NULL AND source = 'import' AND CAST(tags AS TEXT) LIKE '%cohort%'").await as usize,
        n - bad - duplicates
    );

    let rate = n as f64 / elapsed.as_secs_f64();
    println!(
        "BENCH import backend={} rows={n} import={rate:.0} rows/s engine_baseline={baseline:.0} rows/s ratio={:.2} elapsed={:.1}s peak_rss={} MB",
        backend(),
        rate / baseline,
        elapsed.as_secs_f64(),
        peak_kb / 1024
    );
}

/// Fills `workspace` with `n` leads written by the database itself (the
/// fastest way to a million): statuses, sources, scores, a custom field,
/// tags and creation times spread over a year. The search index follows
/// through its triggers (SQLite); PostgreSQL indexes as it inserts.
async fn seed_leads(app: &TestApp, workspace: uuid::Uuid, n: usize) {
    let statuses = "CASE i % 4 WHEN 0 THEN 'new' WHEN 1 THEN 'working' WHEN 2 THEN 'qualified' ELSE 'disqualified' END";
    let sources = "CASE i % 5 WHEN 0 THEN 'website' WHEN 1 THEN 'referral' WHEN 2 THEN 'import' WHEN 3 THEN 'api' ELSE 'manual' END";
    match backend().as_str() {
        "postgres" => {
            let mut conn = sqlx::PgConnection::connect(app.database_url()).await.unwrap();
            let sql = format!(
                "INSERT INTO leads (id, workspace_id, name, email, company_name, source, status, score, custom_fields, tags, created_at, updated_at) \
                 SELECT (lpad(to_hex(i), 12, '0') || '7000800000000000' || lpad(to_hex(i), 4, '0'))::uuid, $1, 'Lead Person ' || i, \
                 'lead' || i || '@bench.test', 'Company ' || (i % 5000), {sources}, {statuses}, i % 1000, \
                 jsonb_build_object('plan', 'plan' || (i % 4), 'seats', i % 500), jsonb_build_array('tag' || (i % 10)), \
                 now() - make_interval(secs => ($2 - i) * 31536000.0 / $2), now() FROM generate_series(0, $2 - 1) AS i"
            );
            sqlx::query(&sql).bind(workspace).bind(n as i64).execute(&mut conn).await.unwrap();
            sqlx::query("ANALYZE leads").execute(&mut conn).await.unwrap();
        }
        _ => {
            let mut conn = sqlx::SqliteConnection::connect(app.database_url()).await.unwrap();
            // Ids that sort by creation time, as v7 UUIDs do.
            let sql = format!(
                "INSERT INTO leads (id, workspace_id, name, email, company_name, source, status, score, custom_fields, tags, created_at, updated_at) \
                 WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < ?1 - 1) \
                 SELECT unhex(printf('%012x7000800000000000%04x', i, i % 65536)), ?2, 'Lead Person ' || i, 'lead' || i || '@bench.test', \
                 'Company ' || (i % 5000), {sources}, {statuses}, i % 1000, json_object('plan', 'plan' || (i % 4), 'seats', i % 500), \
                 json_array('tag' || (i % 10)), strftime('%Y-%m-%dT%H:%M:%fZ', 'now', '-' || ((?1 - i) * 31536 / ?1 * 1000) || ' seconds'), \
                 strftime('%Y-%m-%dT%H:%M:%fZ', 'now') FROM n"
            );
            // IMMEDIATE: the write lock is waited for up front (a deferred
            // transaction that first reads the schema fails at once when
            // another connection wrote meanwhile).
            sqlx::query("BEGIN IMMEDIATE").execute(&mut conn).await.unwrap();
            sqlx::query(&sql).bind(n as i64).bind(workspace).execute(&mut conn).await.unwrap();
            sqlx::query("COMMIT").execute(&mut conn).await.unwrap();
            sqlx::query("ANALYZE").execute(&mut conn).await.unwrap();
        }
    }
}

/// The median of `runs` timed calls of `call`, in milliseconds.
async fn median_ms<F, Fut>(runs: usize, mut call: F) -> f64
where
    F: FnMut(usize) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let mut times = Vec::with_capacity(runs);
    for i in 0..runs {
        let started = Instant::now();
        call(i).await;
        times.push(started.elapsed().as_secs_f64() * 1000.0);
    }
    times.sort_by(|a, b| a.partial_cmp(b).unwrap());
    times[times.len() / 2]
}

/// The database's plan for `sql` (EXPLAIN QUERY PLAN / EXPLAIN), one line.
async fn plan(app: &TestApp, sql: &str, workspace: uuid::Uuid, text: &str) -> String {
    match backend().as_str() {
        "postgres" => {
            let mut conn = sqlx::PgConnection::connect(app.database_url()).await.unwrap();
            let rows: Vec<(String,)> =
                sqlx::query_as(&format!("EXPLAIN {sql}")).bind(workspace).bind(text).fetch_all(&mut conn).await.unwrap();
            rows.into_iter().map(|(l,)| l.trim().to_string()).collect::<Vec<_>>().join(" | ")
        }
        _ => {
            let mut conn = sqlx::SqliteConnection::connect(app.database_url()).await.unwrap();
            let sql = sql.replace("$1", "?1").replace("$2", "?2");
            let rows: Vec<(i64, i64, i64, String)> =
                sqlx::query_as(&format!("EXPLAIN QUERY PLAN {sql}")).bind(workspace).bind(text).fetch_all(&mut conn).await.unwrap();
            rows.into_iter().map(|(.., l)| l).collect::<Vec<_>>().join(" | ")
        }
    }
}

/// Benchmark (`scripts/bench-reads.sh`): at N leads (default 1,000,000),
/// the median latency of a filtered lead list, a `q` search for one lead,
/// the search box, and the rows per second of a segment's CSV export,
/// each against its baseline measured in the same run: a one-lead read
/// (`GET /leads/{id}`, the floor of any API call) for the reads, and the
/// database handing the same rows to a client (a plain SELECT of the
/// export's columns, streamed) for the export. Prints the plans.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a benchmark: scripts/bench-reads.sh"]
async fn bench_reads_against_a_one_lead_read() {
    let n = bench_size("BENCH_LEADS", 1_000_000);
    let runs = bench_size("BENCH_SAMPLES", 200);
    let api = Api::new("bench-reads@example.com", &["crm:read", "crm:write"]).await;
    let workspace: uuid::Uuid = api.ok(Method::GET, "/workspace", None).await["id"].as_str().unwrap().parse().unwrap();
    // The segment exists before the leads arrive: saving it at a million
    // leads writes a million memberships, which is not what is measured.
    let segment = api
        .ok(
            Method::POST,
            "/lists",
            Some(json!({"name": "Everyone", "kind": "segment", "rules": {"match": "all", "rules": [{"field": "score", "op": "gte", "value": 0}]}})),
        )
        .await;
    seed_leads(&api.app, workspace, n).await;
    let one = api.ok(Method::GET, "/leads?limit=1", None).await["data"][0]["id"].as_str().unwrap().to_string();

    let get = |path: String| {
        let api = &api;
        async move {
            let (status, body) = api.call(Method::GET, &path, None).await;
            assert!(status.is_success(), "{path}: {status} {body}");
        }
    };
    let baseline = median_ms(runs, |_| get(format!("/leads/{one}"))).await;
    let list = median_ms(runs, |i| get(format!("/leads?status=working&source={}&limit=50", ["website", "referral"][i % 2]))).await;
    let search = median_ms(runs, |i| {
        let api = &api;
        let k = (i * 7919) % n;
        async move {
            let found = api.ok(Method::GET, &format!("/leads?q=lead{k}%40bench"), None).await;
            assert_eq!(found["data"].as_array().unwrap().len(), 1, "lead{k}@bench: {found}");
        }
    })
    .await;
    let search_box = median_ms(runs, |i| get(format!("/search?q=Person%20{}", (i * 7919) % n + n / 10))).await;

    let sampler = RssSampler::start();
    let started = Instant::now();
    let response = api
        .client
        .get(api.app.url(&format!("/api/v1/lists/{}/export.csv", segment["id"].as_str().unwrap())))
        .bearer_auth(&api.key)
        .send()
        .await
        .unwrap();
    let (mut response, mut lines) = (response, 0usize);
    while let Some(chunk) = response.chunk().await.unwrap() {
        lines += chunk.iter().filter(|b| **b == b'\n').count();
    }
    let export_rate = (lines - 1) as f64 / started.elapsed().as_secs_f64();
    let export_peak = sampler.stop();
    assert_eq!(lines - 1, n, "every lead exported once");
    let raw_export = {
        use futures::TryStreamExt;
        let sql = format!("SELECT {} FROM leads WHERE workspace_id = $1 ORDER BY id", app::crm::leads::ops::COLUMNS);
        let started = Instant::now();
        let rows = match backend().as_str() {
            "postgres" => {
                let mut conn = sqlx::PgConnection::connect(api.app.database_url()).await.unwrap();
                let rows = sqlx::query_as::<_, app::crm::leads::types::Lead>(&sql).bind(workspace).fetch(&mut conn);
                rows.try_fold(0usize, |n, _| async move { Ok(n + 1) }).await.unwrap()
            }
            _ => {
                let mut conn = sqlx::SqliteConnection::connect(api.app.database_url()).await.unwrap();
                let rows = sqlx::query_as::<_, app::crm::leads::types::Lead>(&sql).bind(workspace).fetch(&mut conn);
                rows.try_fold(0usize, |n, _| async move { Ok(n + 1) }).await.unwrap()
            }
        };
        assert_eq!(rows, n);
        rows as f64 / started.elapsed().as_secs_f64()
    };

    let search_sql = match backend().as_str() {
        "postgres" => "SELECT id FROM leads WHERE workspace_id = $1 AND lower(coalesce(name, '') || ' ' || coalesce(email, '') || ' ' || coalesce(company_name, '')) LIKE '%' || $2 || '%' ORDER BY id LIMIT 51",
        _ => "SELECT id FROM leads WHERE workspace_id = $1 AND leads.rowid IN (SELECT rowid FROM leads_search WHERE leads_search MATCH $2) ORDER BY id LIMIT 51",
    };
    let needle = if backend() == "postgres" { "lead4242@bench" } else { "\"lead4242@bench\"" };
    let search_plan = plan(&api.app, search_sql, workspace, needle).await;
    let list_plan = plan(
        &api.app,
        "SELECT id FROM leads WHERE workspace_id = $1 AND status = 'working' AND source = $2 ORDER BY id LIMIT 51",
        workspace,
        "website",
    )
    .await;
    println!("BENCH plan search: {search_plan}");
    println!("BENCH plan list: {list_plan}");
    println!(
        "BENCH reads backend={} leads={n} one_lead_p50={baseline:.2}ms list_p50={list:.2}ms ({:.1}x) q_search_p50={search:.2}ms ({:.1}x) search_box_p50={search_box:.2}ms ({:.1}x) export={export_rate:.0} rows/s raw_select={raw_export:.0} rows/s ratio={:.2} export_peak_rss={} MB",
        backend(),
        list / baseline,
        search / baseline,
        search_box / baseline,
        export_rate / raw_export,
        export_peak / 1024
    );
}

/// Benchmark (`scripts/bench-segments.sh`): at N leads (default 1,000,000)
/// with two indexed declared fields (`plan`, a choice; `seats`, a number),
/// the median live count of segments over standard and custom fields as
/// the segment page reads it (`GET /lists/{id}`), against the same
/// compiled count run straight on the database; then the periodic sweep:
/// a full pass, and an incremental one after changes to a few leads.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a benchmark: scripts/bench-segments.sh"]
async fn bench_segment_counts_against_the_raw_count() {
    let n = bench_size("BENCH_LEADS", 1_000_000);
    let runs = bench_size("BENCH_SAMPLES", 50);
    let changed = (n / 1000).clamp(10, 1000);
    let api = Api::new("bench-segments@example.com", &["crm:read", "crm:write"]).await;
    let workspace: uuid::Uuid = api.ok(Method::GET, "/workspace", None).await["id"].as_str().unwrap().parse().unwrap();
    let plans = json!(["plan0", "plan1", "plan2", "plan3"]);
    api.ok(Method::POST, "/custom-fields", Some(json!({"key": "plan", "type": "choice", "options": plans, "indexed": true}))).await;
    api.ok(Method::POST, "/custom-fields", Some(json!({"key": "seats", "type": "number", "indexed": true}))).await;
    let segments = [
        ("status+score", json!([{"field": "status", "op": "eq", "value": "working"}, {"field": "score", "op": "gte", "value": 900}])),
        ("hot score", json!([{"field": "score", "op": "gte", "value": 990}])),
        ("cf choice", json!([{"field": "cf.plan", "op": "eq", "value": "plan1"}])),
        ("cf number", json!([{"field": "cf.seats", "op": "gt", "value": 490}])),
        ("cf both", json!([{"field": "cf.plan", "op": "in", "value": ["plan2", "plan3"]}, {"field": "cf.seats", "op": "lt", "value": 5}])),
    ];
    let mut ids = Vec::new();
    for (name, rules) in &segments {
        let body = json!({"name": name, "kind": "segment", "rules": {"match": "all", "rules": rules}});
        ids.push(api.ok(Method::POST, "/lists", Some(body)).await["id"].as_str().unwrap().to_string());
    }
    seed_leads(&api.app, workspace, n).await;
    // Leads seeded by the database were changed over the past year, not now.
    {
        let mut tx = api.app.db.begin().await.unwrap();
        tx.execute(app::platform::db::Q::new("UPDATE leads SET updated_at = created_at WHERE workspace_id = $1").bind(workspace))
            .await
            .unwrap();
        tx.execute(app::platform::db::Q::new("ANALYZE")).await.unwrap();
        tx.commit().await.unwrap();
    }

    let mut report = Vec::new();
    let mut worst: f64 = 0.0;
    for ((name, rules), id) in segments.iter().zip(&ids) {
        let live = median_ms(runs, |_| {
            let api = &api;
            async move {
                let list = api.ok(Method::GET, &format!("/lists/{id}"), None).await;
                assert!(list["member_count"].as_i64().unwrap() > 0, "{list}");
            }
        })
        .await;
        let rule: app::audience::rules::Rule = serde_json::from_value(json!({"match": "all", "rules": rules})).unwrap();
        let ctx = app::platform::context::Ctx::system(workspace);
        let raw = median_ms(runs, |_| {
            let (api, rule, ctx) = (&api, &rule, &ctx);
            async move {
                let mut tx = api.app.db.begin_read().await.unwrap();
                let q = app::audience::lists::segment_query(&mut tx, ctx, "COUNT(*)", rule).await.unwrap();
                let (count,): (i64,) = tx.fetch_one(q).await.unwrap();
                assert!(count > 0);
                tx.commit().await.unwrap();
            }
        })
        .await;
        let mut tx = api.app.db.begin_read().await.unwrap();
        let q = app::audience::lists::segment_query(&mut tx, &ctx, "COUNT(*)", &rule).await.unwrap();
        let explain = if backend() == "postgres" { "EXPLAIN" } else { "EXPLAIN QUERY PLAN" };
        let plan_sql = format!("{explain} {}", q.sql());
        let plan: Vec<String> = if backend() == "postgres" {
            let rows: Vec<(String,)> = tx.fetch_all(q.with_sql(plan_sql)).await.unwrap();
            rows.into_iter().map(|(l,)| l.trim().to_string()).collect()
        } else {
            let rows: Vec<(i64, i64, i64, String)> = tx.fetch_all(q.with_sql(plan_sql)).await.unwrap();
            rows.into_iter().map(|(.., l)| l).collect()
        };
        tx.commit().await.unwrap();
        println!("BENCH plan segment {name}: {}", plan.join(" | "));
        worst = worst.max(live);
        report.push(format!("{name}={live:.2}ms/raw {raw:.2}ms ({:.2}x)", live / raw));
    }

    // The sweep: a full pass (what follows a change of a declared field)
    // reads every lead; then a few leads change through the API and the
    // next pass reads only the leads changed since.
    {
        let mut tx = api.app.db.begin().await.unwrap();
        tx.execute(app::platform::db::Q::new("UPDATE lists SET refreshed_at = NULL")).await.unwrap();
        tx.commit().await.unwrap();
    }
    let started = Instant::now();
    app::audience::lists::refresh_all(&api.app.db).await.unwrap();
    let full_sweep = started.elapsed().as_secs_f64() * 1000.0;
    let page = api.ok(Method::GET, &format!("/leads?limit={}", changed.min(100)), None).await;
    let sample: Vec<String> = page["data"].as_array().unwrap().iter().map(|l| l["id"].as_str().unwrap().to_string()).collect();
    for i in 0..changed {
        let id = &sample[i % sample.len()];
        api.ok(Method::PATCH, &format!("/leads/{id}"), Some(json!({"score": 995 - (i % 2) * 990}))).await;
    }
    let started = Instant::now();
    app::audience::lists::refresh_all(&api.app.db).await.unwrap();
    let incremental_sweep = started.elapsed().as_secs_f64() * 1000.0;
    let hot = api.ok(Method::GET, &format!("/lists/{}", ids[1]), None).await;
    let members = api.app.count_where("list_members", "TRUE").await;
    assert!(members > 0, "the sweep filled the segments");
    println!(
        "BENCH segments backend={} leads={n} {} worst_live_p50={worst:.2}ms full_sweep={full_sweep:.0}ms incremental_sweep={incremental_sweep:.0}ms ({changed} leads changed, {:.3}x of full) hot_members={}",
        backend(),
        report.join(" "),
        incremental_sweep / full_sweep,
        hot["member_count"]
    );
}

/// Adds `deals` deals (the first `open` in the open stages, the rest won
/// or lost, in three currencies) and `activities` activities (half by the
/// owner, half by a key) to `workspace`, written by the database itself.
async fn seed_deals_and_activities(app: &TestApp, workspace: uuid::Uuid, deals: usize, open: usize, activities: usize) {
    let open_stages = "open_stages AS (SELECT id, ROW_NUMBER() OVER (ORDER BY position) - 1 AS k \
                       FROM deal_stages WHERE workspace_id = $2 AND kind = 'open')";
    let stage = "CASE WHEN i < $3 THEN (SELECT id FROM open_stages WHERE k = i % (SELECT COUNT(*) FROM open_stages)) \
                 ELSE (SELECT id FROM deal_stages s WHERE s.workspace_id = $2 \
                 AND s.kind = CASE WHEN i % 3 = 0 THEN 'lost' ELSE 'won' END ORDER BY s.position LIMIT 1) END";
    let currency = "CASE i % 3 WHEN 0 THEN 'USD' WHEN 1 THEN 'EUR' ELSE 'GBP' END";
    let actor = "CASE WHEN i % 2 = 0 THEN (SELECT user_id FROM memberships m WHERE m.workspace_id = $2 LIMIT 1) END";
    let (deals_sql, activities_sql) = match backend().as_str() {
        "postgres" => (
            format!(
                "WITH {open_stages} INSERT INTO deals (id, workspace_id, name, stage_id, amount_cents, currency, created_at, updated_at) \
                 SELECT gen_random_uuid(), $2, 'Deal ' || i, {stage}, 1000 + i % 100000, {currency}, now(), now() FROM generate_series(0, $1 - 1) AS i"
            ),
            format!(
                "INSERT INTO activities (id, workspace_id, kind, subject, occurred_at, actor_user_id, created_at) \
                 SELECT gen_random_uuid(), $2, 'call', 'Call ' || i, now(), {actor}, now() FROM generate_series(0, $1 - 1) AS i"
            ),
        ),
        _ => {
            let counter = "WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < $1 - 1)";
            let at = "strftime('%Y-%m-%dT%H:%M:%fZ', 'now')";
            (
                format!(
                    "INSERT INTO deals (id, workspace_id, name, stage_id, amount_cents, currency, created_at, updated_at) {counter}, {open_stages} \
                     SELECT randomblob(16), $2, 'Deal ' || i, {stage}, 1000 + i % 100000, {currency}, {at}, {at} FROM n"
                ),
                format!(
                    "INSERT INTO activities (id, workspace_id, kind, subject, occurred_at, actor_user_id, created_at) {counter} \
                     SELECT randomblob(16), $2, 'call', 'Call ' || i, {at}, {actor}, {at} FROM n"
                ),
            )
        }
    };
    let mut tx = app.db.begin().await.unwrap();
    tx.execute(app::platform::db::Q::new(deals_sql).bind(deals as i64).bind(workspace).bind(open as i64)).await.unwrap();
    tx.execute(app::platform::db::Q::new(activities_sql).bind(activities as i64).bind(workspace)).await.unwrap();
    tx.execute(app::platform::db::Q::new("ANALYZE")).await.unwrap();
    tx.commit().await.unwrap();
}

/// `connections` clients at once, each with its own kept-alive connection,
/// each asking for `url` `per_connection` times: the median latency in
/// milliseconds over all of them.
async fn concurrent_p50(session: &reqwest::Client, url: &str, connections: usize, per_connection: usize) -> f64 {
    let mut tasks = Vec::new();
    for _ in 0..connections {
        let (client, url) = (session.clone(), url.to_string());
        tasks.push(tokio::spawn(async move {
            let mut times = Vec::with_capacity(per_connection);
            for _ in 0..per_connection {
                let started = Instant::now();
                let response = client.get(&url).send().await.unwrap();
                let status = response.status();
                let body = response.bytes().await.unwrap();
                assert!(status.is_success(), "{url}: {status} {}", String::from_utf8_lossy(&body));
                times.push(started.elapsed().as_secs_f64() * 1000.0);
            }
            times
        }));
    }
    let mut times = Vec::new();
    for task in tasks {
        times.extend(task.await.unwrap());
    }
    times.sort_by(|a, b| a.partial_cmp(b).unwrap());
    times[times.len() / 2]
}

/// Benchmark (`scripts/bench-pages.sh`): at N leads (default 1,000,000),
/// N/10 deals (2,000 of them open) and N/10 activities, the dashboard's
/// figures (`GET /dashboard`, read from the counters the database keeps)
/// against the same figures computed from the records in the same run
/// (GROUP BY over every lead, deal and activity); then every heavy page —
/// `/pipeline`, `/dashboard`, `/leads` — at 16 concurrent kept-alive
/// connections against the JSON call that carries the same data, through
/// the same session.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a benchmark: scripts/bench-pages.sh"]
async fn bench_pages_and_dashboard_against_json_and_records() {
    let n = bench_size("BENCH_LEADS", 1_000_000);
    let runs = bench_size("BENCH_SAMPLES", 50);
    let connections = bench_size("BENCH_CONNECTIONS", 16);
    let (deals, open) = ((n / 10).max(100), (n / 10).clamp(50, 2000));
    let app = TestApp::spawn().await;
    let session = app.sign_up("bench-pages@example.com").await;
    let key = app.api_key(&session, &["crm:read", "crm:write"]).await;
    let api = Api { app, key, client: reqwest::Client::new() };
    let workspace: uuid::Uuid = api.ok(Method::GET, "/workspace", None).await["id"].as_str().unwrap().parse().unwrap();
    seed_leads(&api.app, workspace, n).await;
    seed_deals_and_activities(&api.app, workspace, deals, open, n / 10).await;

    let served = api.ok(Method::GET, "/dashboard", None).await;
    let ctx = app::platform::context::Ctx::system(workspace);
    let recounted = {
        let mut tx = api.app.db.begin_read().await.unwrap();
        let figures = app::crm::dashboard::ssr::dashboard_from_records(&mut tx, &ctx).await.unwrap();
        tx.commit().await.unwrap();
        figures
    };
    assert_eq!(served, serde_json::to_value(&recounted).unwrap(), "the counters equal the records");
    let board = api.ok(Method::GET, "/pipeline", None).await;
    let on_board: i64 = board.as_array().unwrap().iter().map(|c| c["count"].as_i64().unwrap()).sum();
    let dashboard = median_ms(runs, |_| async {
        api.ok(Method::GET, "/dashboard", None).await;
    })
    .await;
    let records = median_ms(runs.min(20), |_| {
        let (api, ctx) = (&api, &ctx);
        async move {
            let mut tx = api.app.db.begin_read().await.unwrap();
            app::crm::dashboard::ssr::dashboard_from_records(&mut tx, ctx).await.unwrap();
            tx.commit().await.unwrap();
        }
    })
    .await;

    let per_connection = (runs / 4).max(3);
    let mut pages = Vec::new();
    for (page, json) in [("/pipeline", "/api/v1/pipeline"), ("/dashboard", "/api/v1/dashboard"), ("/leads", "/api/v1/leads")] {
        let (page_url, json_url) = (api.app.url(page), api.app.url(json));
        // Warm: the connections open and the caches fill before timing.
        concurrent_p50(&session, &page_url, connections, 2).await;
        concurrent_p50(&session, &json_url, connections, 2).await;
        let page_p50 = concurrent_p50(&session, &page_url, connections, per_connection).await;
        let json_p50 = concurrent_p50(&session, &json_url, connections, per_connection).await;
        pages.push(format!("{page}={page_p50:.2}ms/json {json_p50:.2}ms ({:.2}x)", page_p50 / json_p50));
    }
    println!(
        "BENCH pages backend={} leads={n} deals={deals} deals_on_board={on_board} activities={} dashboard_p50={dashboard:.2}ms records_p50={records:.2}ms ({:.3}x) at {connections} connections: {}",
        backend(),
        n / 10,
        dashboard / records,
        pages.join(" ")
    );
}
