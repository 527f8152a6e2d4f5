//! `corral demo [--workspace SLUG] [--remove]`: the dashboard's "Load
//! sample data" from the command line. Without `--workspace` it creates a
//! workspace with an owner (the log-in is printed once) and loads the
//! sample set into it; with it, the set goes into that workspace, acting as
//! its first owner; `--remove` takes the sample set out again.

use app::platform::context::Ctx;
use app::platform::db::{Db, Q};
use app::platform::types::{Role, SignUp};
use uuid::Uuid;

use crate::ServerConfig;

pub async fn run(config: &ServerConfig, args: &[String]) -> anyhow::Result<()> {
    let mut workspace: Option<String> = None;
    let mut remove = false;
    let mut rest = args.iter();
    while let Some(arg) = rest.next() {
        match arg.as_str() {
            "--workspace" => workspace = Some(rest.next().cloned().ok_or_else(|| anyhow::anyhow!("--workspace needs a slug"))?),
            "--remove" => remove = true,
            other => anyhow::bail!("unknown option {other:?}; usage: corral demo [--workspace SLUG] [--remove]"),
        }
    }
    let db = Db::connect(&config.database_url).await?;
    db.migrate().await?;
    let outcome = run_on(&db, workspace.as_deref(), remove).await;
    db.close().await;
    outcome
}

async fn run_on(db: &Db, workspace: Option<&str>, remove: bool) -> anyhow::Result<()> {
    // The workspace is looked up before the write transaction is taken.
    let existing = match workspace {
        Some(slug) => {
            let mut read = db.begin_read().await?;
            let owner: Option<(Uuid, Uuid)> = read
                .fetch_optional(
                    Q::new(
                        "SELECT w.id, m.user_id FROM workspaces w JOIN memberships m ON m.workspace_id = w.id \
                         WHERE w.slug = $1 AND m.role = 'owner' ORDER BY m.created_at LIMIT 1",
                    )
                    .bind(slug),
                )
                .await?;
            read.commit().await?;
            Some(owner.ok_or_else(|| anyhow::anyhow!("no workspace with the slug {slug:?}"))?)
        }
        None if remove => anyhow::bail!("--remove needs --workspace SLUG"),
        None => None,
    };
    let mut tx = db.begin().await?;
    let (ctx, login) = match existing {
        Some((workspace_id, user_id)) => (Ctx::for_member(workspace_id, user_id, Role::Owner), None),
        None => {
            let suffix = &Uuid::now_v7().simple().to_string()[20..];
            let email = format!("demo-{suffix}@corral.example");
            let password = app::platform::auth::random_token();
            let input = SignUp {
                name: "Demo Owner".into(),
                email: email.clone(),
                password: password.clone(),
                workspace_name: format!("Demo {suffix}"),
            };
            let signed_in = app::platform::accounts::sign_up(&mut tx, crate::WORKSPACE_SEEDERS, input).await?;
            (Ctx::for_member(signed_in.workspace_id, signed_in.user_id, Role::Owner), Some((email, password)))
        }
    };
    let summary = if remove {
        app::platform::sample_data::ssr::remove(&mut tx, &ctx).await?
    } else {
        app::platform::sample_data::ssr::load(&mut tx, &ctx).await?
    };
    tx.commit().await?;
    let (slug,): (String,) = {
        let mut tx = db.begin_read().await?;
        let row = tx.fetch_one(Q::new("SELECT slug FROM workspaces WHERE id = $1").bind(ctx.workspace_id)).await?;
        tx.commit().await?;
        row
    };
    println!(
        "{}",
        serde_json::json!({
            "workspace": slug,
            "sample_data": if remove { "removed" } else { "loaded" },
            "records": summary,
            "log_in": login.as_ref().map(|(email, password)| serde_json::json!({"email": email, "password": password})),
        })
    );
    if let Some((email, _)) = login {
        eprintln!("Log in as {email} with the password above (shown once), then open /dashboard.");
    }
    Ok(())
}
