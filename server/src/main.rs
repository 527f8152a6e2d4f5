use tracing_subscriber::EnvFilter;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt().with_env_filter(EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"))).init();
    let config = server::ServerConfig::from_env()?;
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        None | Some("serve") => {}
        Some("repair-bounds") => return repair_bounds(&config, args.iter().any(|a| a == "--dry-run")).await,
        Some("demo") => return server::demo::run(&config, &args[1..]).await,
        Some(other) => anyhow::bail!(
            "unknown command {other:?}; commands: serve (the default), demo [--workspace SLUG] [--remove], repair-bounds [--dry-run]"
        ),
    }
    let (router, db) = server::build(&config).await?;
    let listener = tokio::net::TcpListener::bind(config.site_addr).await?;
    tracing::info!(
        addr = %listener.local_addr()?,
        backend = ?db.backend(),
        "Corral listening on http://{}",
        listener.local_addr()?
    );
    server::listener::serve(listener, router, async {
        let _ = tokio::signal::ctrl_c().await;
    })
    .await?;
    db.close().await;
    Ok(())
}

/// Repairs out-of-bounds numbers stored before the bounds existed and
/// prints one JSON line per repair.
async fn repair_bounds(config: &server::ServerConfig, dry_run: bool) -> anyhow::Result<()> {
    let db = app::platform::db::Db::connect(&config.database_url).await?;
    db.migrate().await?;
    let repairs = server::repair::repair_bounds(&db, dry_run).await?;
    for (workspace_id, repair) in &repairs {
        println!("{}", serde_json::json!({"workspace_id": workspace_id, "repair": repair}));
    }
    eprintln!("{} repair(s){}", repairs.len(), if dry_run { " found (dry run: nothing written)" } else { " made" });
    db.close().await;
    Ok(())
}
