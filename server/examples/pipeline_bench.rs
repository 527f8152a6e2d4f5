//! Benchmark: the pipeline board with 2,000 open deals.
//!
//!     cargo run --profile server-release -p server --example pipeline_bench
//!     DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench cargo run --profile server-release -p server --example pipeline_bench
//!
//! Serves the real application on a loopback port, seeds 2,000 deals over
//! the API, then requests the board 50 times through the JSON API and 50
//! times as the server-rendered page, and prints the medians.

use std::time::{Duration, Instant};

use app::platform::context::Config;
use serde_json::{json, Value};
use server::ServerConfig;

const DEALS: usize = 2_000;
const RUNS: usize = 50;

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let database_url = std::env::var("DATABASE_URL").unwrap_or_else(|_| {
        let path = std::env::temp_dir().join(format!("corral-bench-{}.db", uuid::Uuid::now_v7().simple()));
        format!("sqlite://{}", path.display())
    });
    let config = ServerConfig {
        database_url: database_url.clone(),
        site_addr: "127.0.0.1:0".parse()?,
        site_root: "target/site".into(),
        app: Config::default(),
    };
    let (router, db) = server::build(&config).await?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}", listener.local_addr()?);
    tokio::spawn(server::listener::serve(listener, router, std::future::pending()));

    let browser = reqwest::Client::builder().cookie_store(true).build()?;
    let email = format!("bench-{}@example.com", uuid::Uuid::now_v7().simple());
    browser
        .post(format!("{base}/api/v1/auth/signup"))
        .json(&json!({"name": "Bench", "email": email, "password": "correct horse battery", "workspace_name": "Bench"}))
        .send()
        .await?
        .error_for_status()?;
    let key: Value = browser
        .post(format!("{base}/api/v1/api-keys"))
        .json(&json!({"name": "bench", "scopes": ["crm:write"]}))
        .send()
        .await?
        .json()
        .await?;
    let key = key["secret"].as_str().unwrap().to_string();
    let api = reqwest::Client::new();
    let stages: Value = api.get(format!("{base}/api/v1/deal-stages")).bearer_auth(&key).send().await?.json().await?;
    let open: Vec<String> =
        stages.as_array().unwrap().iter().filter(|s| s["kind"] == "open").map(|s| s["id"].as_str().unwrap().to_string()).collect();

    let seeding = Instant::now();
    for i in 0..DEALS {
        api.post(format!("{base}/api/v1/deals"))
            .bearer_auth(&key)
            .json(&json!({"name": format!("Deal {i}"), "stage_id": open[i % open.len()], "amount_cents": (i as i64 + 1) * 1_000}))
            .send()
            .await?
            .error_for_status()?;
    }
    let seed_time = seeding.elapsed();

    let mut json_samples = Vec::with_capacity(RUNS);
    let mut page_samples = Vec::with_capacity(RUNS);
    let mut page_bytes = 0;
    for _ in 0..RUNS {
        let start = Instant::now();
        let board: Value = api.get(format!("{base}/api/v1/pipeline")).bearer_auth(&key).send().await?.json().await?;
        json_samples.push(start.elapsed());
        let total: i64 = board.as_array().unwrap().iter().map(|c| c["count"].as_i64().unwrap()).sum();
        assert_eq!(total as usize, DEALS);

        let start = Instant::now();
        let html = browser.get(format!("{base}/pipeline")).send().await?.text().await?;
        page_samples.push(start.elapsed());
        page_bytes = html.len();
    }
    println!("backend: {:?}", db.backend());
    println!("seeded {DEALS} open deals over the API in {:.2?} ({:.2?} per deal)", seed_time, seed_time / DEALS as u32);
    println!("GET /api/v1/pipeline   median {:.2?} over {RUNS} runs", median(json_samples));
    println!("GET /pipeline (SSR)    median {:.2?} over {RUNS} runs, {page_bytes} bytes of HTML", median(page_samples));
    Ok(())
}
