use tracing_subscriber::EnvFilter;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")))
        .init();
    let config = server::ServerConfig::from_env()?;
    let (router, db) = server::build(&config).await?;
    let listener = tokio::net::TcpListener::bind(config.site_addr).await?;
    tracing::info!(
        addr = %listener.local_addr()?,
        backend = ?db.backend(),
        "Corral listening on http://{}",
        listener.local_addr()?
    );
    axum::serve(listener, router.into_make_service_with_connect_info::<std::net::SocketAddr>())
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await?;
    db.close().await;
    Ok(())
}
