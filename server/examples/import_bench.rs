//! Benchmark: a 1,000,000-row CSV import of leads, start to finish.
//!
//!     cargo run --profile server-release -p server --example import_bench
//!     cargo run --profile server-release -p server --example import_bench -- 100000
//!     DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench cargo run --profile server-release -p server --example import_bench
//!
//! Writes a CSV file (name, email, company, score, plan, city; 1 % repeated
//! emails, 0.1 % ragged rows), streams it through the same upload code the
//! API uses, starts the import with dedup=skip and lets the real background
//! worker run it. Prints the wall time, rows per second, and the process's
//! peak resident memory (VmHWM) before and after, which shows whether
//! memory stays flat as the file grows.

use std::io::Write;
use std::time::{Duration, Instant};

use app::audience::{imports, types::*};
use app::platform::accounts;
use app::platform::context::{Config, Ctx};
use app::platform::types::{Role, SignUp};
use server::ServerConfig;

fn peak_rss_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|kb| kb.parse::<f64>().ok())
        .map(|kb| kb / 1024.0)
        .unwrap_or(0.0)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let rows: usize = std::env::args().nth(1).map(|a| a.parse()).transpose()?.unwrap_or(1_000_000);
    let tmp = std::env::temp_dir().join(format!("corral-import-bench-{}", uuid::Uuid::now_v7().simple()));
    std::fs::create_dir_all(&tmp)?;
    let database_url = std::env::var("DATABASE_URL").unwrap_or_else(|_| format!("sqlite://{}", tmp.join("bench.db").display()));

    let csv_path = tmp.join("leads.csv");
    {
        let mut out = std::io::BufWriter::new(std::fs::File::create(&csv_path)?);
        writeln!(out, "Full Name,Email,Company,Score,Plan,City")?;
        for i in 0..rows {
            if i % 1000 == 999 {
                writeln!(out, "Ragged Row {i},ragged{i}@bench.example")?;
                continue;
            }
            let n = if i % 100 == 99 { i - 1 } else { i };
            writeln!(
                out,
                "Lead {i},lead{n}@bench.example,\"Company {}, Inc.\",{},{},City {}",
                i % 5000,
                i % 101,
                ["gold", "silver", "bronze"][i % 3],
                i % 300
            )?;
        }
    }
    let bytes = std::fs::metadata(&csv_path)?.len();

    let app_config = Config { data_dir: tmp.join("data"), run_workers: true, ..Config::default() };
    let config = ServerConfig { database_url, site_addr: "127.0.0.1:0".parse()?, site_root: "target/site".into(), app: app_config.clone() };
    let (_router, db, _workers) = server::build_parts(&config).await?;
    let mut tx = db.begin().await?;
    let signed = accounts::sign_up(
        &mut tx,
        server::WORKSPACE_SEEDERS,
        SignUp {
            name: "Bench".into(),
            email: format!("bench-{}@example.com", uuid::Uuid::now_v7().simple()),
            password: "correct horse battery".into(),
            workspace_name: "Bench".into(),
        },
    )
    .await?;
    tx.commit().await?;
    let ctx = Ctx::for_member(signed.workspace_id, signed.user_id, Role::Owner);
    let baseline = peak_rss_mib();

    let started = Instant::now();
    let file = tokio::fs::File::open(&csv_path).await?;
    let chunks = futures_chunks(file);
    let upload = imports::store_upload(&app_config, Box::pin(chunks)).await?;
    let mut tx = db.begin().await?;
    let import = imports::create(
        &mut tx,
        &ctx,
        NewImport { entity: ImportEntity::Lead, file_name: Some("leads.csv".into()), ..Default::default() },
        &upload,
    )
    .await?;
    imports::start(&mut tx, &ctx, import.id, StartImport::default()).await?;
    tx.commit().await?;
    let uploaded = started.elapsed();
    let done = loop {
        tokio::time::sleep(Duration::from_millis(200)).await;
        let mut tx = db.begin_read().await?;
        let import = imports::get(&mut tx, &ctx, import.id).await?;
        tx.commit().await?;
        if import.status.is_finished() {
            break import;
        }
    };
    let elapsed = started.elapsed();
    println!("backend:        {:?}", db.backend());
    println!("rows in file:   {rows} ({:.1} MiB)", bytes as f64 / 1048576.0);
    println!("status:         {}", done.status.as_str());
    println!("created:        {}  skipped (duplicates): {}  failed: {}", done.rows_created, done.rows_skipped, done.rows_failed);
    println!("upload+map:     {:.2} s", uploaded.as_secs_f64());
    println!("total:          {:.1} s ({:.0} rows/s)", elapsed.as_secs_f64(), rows as f64 / elapsed.as_secs_f64());
    println!("peak RSS:       {:.1} MiB (before the import: {:.1} MiB)", peak_rss_mib(), baseline);
    let _ = std::fs::remove_dir_all(&tmp);
    Ok(())
}

/// The file as a stream of 256 KiB chunks, like a request body.
fn futures_chunks(file: tokio::fs::File) -> impl futures::Stream<Item = Result<axum::body::Bytes, std::io::Error>> {
    use tokio::io::AsyncReadExt;
    futures::stream::unfold(file, |mut file| async move {
        let mut buffer = vec![0u8; 256 * 1024];
        match file.read(&mut buffer).await {
            Ok(0) => None,
            Ok(n) => {
                buffer.truncate(n);
                Some((Ok(axum::body::Bytes::from(buffer)), file))
            }
            Err(e) => Some((Err(e), file)),
        }
    })
}
