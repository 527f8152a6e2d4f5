//! Workspaces, users, memberships, invitations and API keys.

use chrono::{DateTime, Duration, Utc};
use serde_json::json;
use uuid::Uuid;

use crate::error::{AppError, AppResult};
use crate::platform::audit;
use crate::platform::auth::{digest, hash_password, new_api_key_secret, random_token, verify_password};
use crate::platform::context::Ctx;
use crate::platform::db::{Tx, Q};
use crate::platform::seeding::{self, Seeder, WorkspaceHook};
use crate::platform::types::*;
use crate::platform::validate::{in_range, normalize_email, required_text, time_zone};

const MIN_PASSWORD_LEN: usize = 10;
const INVITATION_TTL_DAYS: i64 = 7;

/// Where a successful sign-up, log-in or acceptance lands the user.
#[derive(Clone, Copy, Debug)]
pub struct SignedIn {
    pub user_id: Uuid,
    pub workspace_id: Uuid,
}

fn check_password(password: &str) -> AppResult<()> {
    if password.chars().count() < MIN_PASSWORD_LEN {
        return Err(AppError::validation("password", format!("password must be at least {MIN_PASSWORD_LEN} characters")));
    }
    if password.len() > 1024 {
        return Err(AppError::validation("password", "password is too long"));
    }
    Ok(())
}

pub(crate) fn slugify(name: &str) -> String {
    let mut slug = String::new();
    for c in name.to_lowercase().chars() {
        if c.is_ascii_alphanumeric() {
            slug.push(c);
        } else if !slug.ends_with('-') && !slug.is_empty() {
            slug.push('-');
        }
    }
    let slug = slug.trim_end_matches('-');
    let base = if slug.is_empty() { "workspace" } else { slug };
    // A short random tail keeps slugs unique without a retry loop.
    format!("{}-{:06x}", &base[..base.len().min(40)], rand::random::<u32>() & 0xff_ffff)
}

#[derive(sqlx::FromRow)]
struct UserRow {
    id: Uuid,
    password_hash: String,
}

async fn user_by_email(tx: &mut Tx, email: &str) -> AppResult<Option<UserRow>> {
    Ok(tx.fetch_optional(Q::new("SELECT id, password_hash FROM users WHERE email = $1").bind(email)).await?)
}

async fn insert_user(tx: &mut Tx, name: &str, email: &str, password: String) -> AppResult<Uuid> {
    let id = Uuid::now_v7();
    let hash = hash_password(password).await?;
    tx.execute(
        Q::new("INSERT INTO users (id, email, name, password_hash, created_at) VALUES ($1, $2, $3, $4, $5)")
            .bind(id)
            .bind(email)
            .bind(name)
            .bind(hash)
            .bind(crate::platform::db::now()),
    )
    .await?;
    Ok(id)
}

async fn insert_membership(tx: &mut Tx, workspace_id: Uuid, user_id: Uuid, role: Role) -> AppResult<()> {
    tx.execute(
        Q::new("INSERT INTO memberships (workspace_id, user_id, role, created_at) VALUES ($1, $2, $3, $4)")
            .bind(workspace_id)
            .bind(user_id)
            .bind(role.as_str())
            .bind(crate::platform::db::now()),
    )
    .await?;
    Ok(())
}

/// Creates a user, their workspace, and makes them its owner.
/// `seeders` fill the new workspace with each domain's defaults.
pub async fn sign_up(tx: &mut Tx, seeders: &[Seeder], input: SignUp) -> AppResult<SignedIn> {
    let name = required_text("name", &input.name, 200)?;
    let email = normalize_email("email", &input.email)?;
    let workspace_name = required_text("workspace_name", &input.workspace_name, 200)?;
    check_password(&input.password)?;
    if user_by_email(tx, &email).await?.is_some() {
        return Err(AppError::Conflict {
            code: "email_taken",
            message: "an account with this email already exists; log in instead".into(),
        });
    }
    let workspace_id = Uuid::now_v7();
    let now = crate::platform::db::now();
    let slug = slugify(&workspace_name);
    tx.execute(
        Q::new("INSERT INTO workspaces (id, name, slug, created_at) VALUES ($1, $2, $3, $4)")
            .bind(workspace_id)
            .bind(workspace_name.as_str())
            .bind(slug.as_str())
            .bind(now),
    )
    .await?;
    let user_id = insert_user(tx, &name, &email, input.password).await?;
    insert_membership(tx, workspace_id, user_id, Role::Owner).await?;
    seeding::seed(tx, seeders, workspace_id).await?;
    let ctx = Ctx::for_member(workspace_id, user_id, Role::Owner);
    audit::record(
        tx,
        &ctx,
        "workspace.created",
        "workspace",
        Some(workspace_id),
        None::<&()>,
        Some(&json!({"name": workspace_name, "slug": slug, "owner_email": email})),
    )
    .await?;
    Ok(SignedIn { user_id, workspace_id })
}

/// The caller's workspace and its settings; any member or key reads it.
pub async fn get_workspace(tx: &mut Tx, ctx: &Ctx) -> AppResult<Workspace> {
    tx.fetch_optional(
        Q::new("SELECT id, name, slug, time_zone, locale, flow_run_retention_days, created_at FROM workspaces WHERE id = $1")
            .bind(ctx.workspace_id),
    )
    .await?
    .ok_or(AppError::NotFound("workspace"))
}

/// Renames a workspace or moves it to another time zone (owners and
/// admins). `hooks` let each domain react in the same transaction: a new
/// time zone moves every send window, so marketing voids the approvals
/// that covered the old one.
pub async fn update_workspace(tx: &mut Tx, ctx: &Ctx, hooks: &[WorkspaceHook], patch: WorkspacePatch) -> AppResult<Workspace> {
    ctx.require_admin()?;
    let before = get_workspace(tx, ctx).await?;
    let name = match patch.name {
        Some(name) => required_text("name", &name, 200)?,
        None => before.name.clone(),
    };
    let zone = match patch.time_zone {
        Some(zone) => time_zone("time_zone", &zone)?,
        None => before.time_zone.clone(),
    };
    let locale = match patch.locale {
        Some(locale) => crate::platform::formats::ssr::locale("locale", &locale)?,
        None => before.locale.clone(),
    };
    let retention = match patch.flow_run_retention_days {
        Some(days) => days.map(|d| in_range("flow_run_retention_days", d, 1, 3650)).transpose()?,
        None => before.flow_run_retention_days,
    };
    tx.execute(
        Q::new("UPDATE workspaces SET name = $1, time_zone = $2, flow_run_retention_days = $3, locale = $4 WHERE id = $5")
            .bind(name)
            .bind(zone)
            .bind(retention)
            .bind(locale)
            .bind(ctx.workspace_id),
    )
    .await?;
    let after = get_workspace(tx, ctx).await?;
    if after != before {
        audit::record(tx, ctx, "workspace.updated", "workspace", Some(ctx.workspace_id), Some(&before), Some(&after)).await?;
        for hook in hooks {
            hook(tx, ctx, &before, &after).await?;
        }
    }
    Ok(after)
}

/// Checks the password and picks the user's oldest workspace. A wrong email
/// and a wrong password give the same answer.
pub async fn log_in(tx: &mut Tx, input: LogIn) -> AppResult<SignedIn> {
    let wrong = || AppError::Unauthenticated("email or password is incorrect".into());
    let email = input.email.trim().to_lowercase();
    let Some(user) = user_by_email(tx, &email).await? else {
        // Spend the same time as a real check so timing does not reveal
        // which emails have accounts.
        let _ = hash_password(input.password).await;
        return Err(wrong());
    };
    if !verify_password(input.password, user.password_hash).await? {
        return Err(wrong());
    }
    #[derive(sqlx::FromRow)]
    struct WorkspaceOfUser {
        workspace_id: Uuid,
    }
    let membership: Option<WorkspaceOfUser> = tx
        .fetch_optional(Q::new("SELECT workspace_id FROM memberships WHERE user_id = $1 ORDER BY created_at LIMIT 1").bind(user.id))
        .await?;
    let membership = membership.ok_or_else(|| AppError::Forbidden("this account belongs to no workspace".into()))?;
    Ok(SignedIn { user_id: user.id, workspace_id: membership.workspace_id })
}

/// The role of a member who just signed in, for where they land.
pub async fn role_of(tx: &mut Tx, signed_in: &SignedIn) -> AppResult<Role> {
    let (role,): (String,) = tx
        .fetch_one(
            Q::new("SELECT role FROM memberships WHERE workspace_id = $1 AND user_id = $2")
                .bind(signed_in.workspace_id)
                .bind(signed_in.user_id),
        )
        .await?;
    Ok(Role::parse(&role).unwrap_or(Role::Member))
}

#[derive(sqlx::FromRow)]
struct CurrentUserRow {
    user_id: Uuid,
    name: String,
    email: String,
    workspace_id: Uuid,
    workspace_name: String,
    role: String,
}

pub async fn current_user(tx: &mut Tx, ctx: &Ctx) -> AppResult<CurrentUser> {
    let user_id = ctx.user_id.ok_or_else(|| AppError::Forbidden("an API key is not a user".into()))?;
    let row: CurrentUserRow = tx
        .fetch_optional(
            Q::new(
                "SELECT u.id AS user_id, u.name, u.email, w.id AS workspace_id, \
                 w.name AS workspace_name, m.role FROM memberships m \
                 JOIN users u ON u.id = m.user_id JOIN workspaces w ON w.id = m.workspace_id \
                 WHERE m.workspace_id = $1 AND m.user_id = $2",
            )
            .bind(ctx.workspace_id)
            .bind(user_id),
        )
        .await?
        .ok_or_else(|| AppError::Unauthenticated("sign in again".into()))?;
    Ok(CurrentUser {
        user_id: row.user_id,
        name: row.name,
        email: row.email,
        workspace_id: row.workspace_id,
        workspace_name: row.workspace_name,
        role: Role::parse(&row.role).unwrap_or(Role::Member),
    })
}

#[derive(sqlx::FromRow)]
struct MemberRow {
    user_id: Uuid,
    name: String,
    email: String,
    role: String,
    created_at: DateTime<Utc>,
}

pub async fn list_members(tx: &mut Tx, ctx: &Ctx) -> AppResult<Vec<Member>> {
    let rows: Vec<MemberRow> = tx
        .fetch_all(
            Q::new(
                "SELECT u.id AS user_id, u.name, u.email, m.role, m.created_at FROM memberships m \
                 JOIN users u ON u.id = m.user_id WHERE m.workspace_id = $1 ORDER BY m.created_at",
            )
            .bind(ctx.workspace_id),
        )
        .await?;
    Ok(rows
        .into_iter()
        .map(|r| Member {
            user_id: r.user_id,
            name: r.name,
            email: r.email,
            role: Role::parse(&r.role).unwrap_or(Role::Member),
            joined_at: r.created_at,
        })
        .collect())
}

/// True when `user_id` is a member of the acting workspace; used to check
/// owner fields.
pub async fn is_member(tx: &mut Tx, ctx: &Ctx, user_id: Uuid) -> AppResult<bool> {
    #[derive(sqlx::FromRow)]
    struct Found {
        #[allow(dead_code)]
        user_id: Uuid,
    }
    let found: Option<Found> = tx
        .fetch_optional(
            Q::new("SELECT user_id FROM memberships WHERE workspace_id = $1 AND user_id = $2").bind(ctx.workspace_id).bind(user_id),
        )
        .await?;
    Ok(found.is_some())
}

#[derive(sqlx::FromRow)]
struct InvitationRow {
    id: Uuid,
    workspace_id: Uuid,
    email: String,
    role: String,
    created_at: DateTime<Utc>,
    expires_at: DateTime<Utc>,
    accepted_at: Option<DateTime<Utc>>,
}

impl InvitationRow {
    fn into_invitation(self, token: Option<String>) -> Invitation {
        Invitation {
            id: self.id,
            email: self.email,
            role: Role::parse(&self.role).unwrap_or(Role::Member),
            created_at: self.created_at,
            expires_at: self.expires_at,
            accepted_at: self.accepted_at,
            token,
        }
    }
}

const INVITATION_COLUMNS: &str = "id, workspace_id, email, role, created_at, expires_at, accepted_at";

pub async fn invite(tx: &mut Tx, ctx: &Ctx, input: NewInvitation) -> AppResult<Invitation> {
    ctx.require_admin()?;
    if input.role == Role::Owner && ctx.role != Some(Role::Owner) {
        return Err(AppError::Forbidden("only an owner can invite another owner".into()));
    }
    let email = normalize_email("email", &input.email)?;
    #[derive(sqlx::FromRow)]
    struct Existing {
        #[allow(dead_code)]
        user_id: Uuid,
    }
    let already: Option<Existing> = tx
        .fetch_optional(
            Q::new(
                "SELECT m.user_id FROM memberships m JOIN users u ON u.id = m.user_id \
                 WHERE m.workspace_id = $1 AND u.email = $2",
            )
            .bind(ctx.workspace_id)
            .bind(email.as_str()),
        )
        .await?;
    if already.is_some() {
        return Err(AppError::Conflict { code: "already_member", message: format!("{email} is already a member of this workspace") });
    }
    let token = random_token();
    let now = crate::platform::db::now();
    let row = InvitationRow {
        id: Uuid::now_v7(),
        workspace_id: ctx.workspace_id,
        email,
        role: input.role.as_str().to_string(),
        created_at: now,
        expires_at: now + Duration::days(INVITATION_TTL_DAYS),
        accepted_at: None,
    };
    tx.execute(
        Q::new(
            "INSERT INTO invitations (id, workspace_id, email, role, token_hash, invited_by, \
             created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(row.id)
        .bind(row.workspace_id)
        .bind(row.email.as_str())
        .bind(row.role.as_str())
        .bind(digest(&token))
        .bind(ctx.user_id)
        .bind(row.created_at)
        .bind(row.expires_at),
    )
    .await?;
    let invitation = row.into_invitation(None);
    audit::record(tx, ctx, "invitation.created", "invitation", Some(invitation.id), None::<&()>, Some(&invitation)).await?;
    Ok(Invitation { token: Some(token), ..invitation })
}

pub async fn list_invitations(tx: &mut Tx, ctx: &Ctx) -> AppResult<Vec<Invitation>> {
    ctx.require_admin()?;
    let rows: Vec<InvitationRow> = tx
        .fetch_all(
            Q::new(format!("SELECT {INVITATION_COLUMNS} FROM invitations WHERE workspace_id = $1 ORDER BY id DESC")).bind(ctx.workspace_id),
        )
        .await?;
    Ok(rows.into_iter().map(|r| r.into_invitation(None)).collect())
}

/// Joins the invited workspace: a new email becomes a new user; an existing
/// user proves it is them with their password.
pub async fn accept_invitation(tx: &mut Tx, input: AcceptInvitation) -> AppResult<SignedIn> {
    let invalid = || AppError::NotFound("invitation");
    let row: InvitationRow = tx
        .fetch_optional(
            Q::new(format!("SELECT {INVITATION_COLUMNS} FROM invitations WHERE token_hash = $1")).bind(digest(input.token.trim())),
        )
        .await?
        .ok_or_else(invalid)?;
    if row.accepted_at.is_some() {
        return Err(AppError::Conflict { code: "invitation_used", message: "this invitation was already accepted".into() });
    }
    if row.expires_at < crate::platform::db::now() {
        return Err(AppError::Conflict { code: "invitation_expired", message: "this invitation has expired; ask for a new one".into() });
    }
    let role = Role::parse(&row.role).unwrap_or(Role::Member);
    let user_id = match user_by_email(tx, &row.email).await? {
        Some(user) => {
            if !verify_password(input.password, user.password_hash).await? {
                return Err(AppError::Unauthenticated("an account with this email exists; enter its password".into()));
            }
            user.id
        }
        None => {
            let name = required_text("name", &input.name, 200)?;
            check_password(&input.password)?;
            insert_user(tx, &name, &row.email, input.password).await?
        }
    };
    insert_membership(tx, row.workspace_id, user_id, role).await?;
    let accepted_at = crate::platform::db::now();
    tx.execute(Q::new("UPDATE invitations SET accepted_at = $1 WHERE id = $2").bind(accepted_at).bind(row.id)).await?;
    let ctx = Ctx::for_member(row.workspace_id, user_id, role);
    let invitation_id = row.id;
    let before = row.into_invitation(None);
    let after = Invitation { accepted_at: Some(accepted_at), ..before.clone() };
    audit::record(tx, &ctx, "invitation.accepted", "invitation", Some(invitation_id), Some(&before), Some(&after)).await?;
    Ok(SignedIn { user_id, workspace_id: ctx.workspace_id })
}

#[derive(sqlx::FromRow)]
struct ApiKeyRow {
    id: Uuid,
    name: String,
    prefix: String,
    scopes: sqlx::types::Json<Vec<Scope>>,
    created_at: DateTime<Utc>,
    last_used_at: Option<DateTime<Utc>>,
    revoked_at: Option<DateTime<Utc>>,
}

impl From<ApiKeyRow> for ApiKey {
    fn from(r: ApiKeyRow) -> Self {
        ApiKey {
            id: r.id,
            name: r.name,
            prefix: r.prefix,
            scopes: r.scopes.0,
            created_at: r.created_at,
            last_used_at: r.last_used_at,
            revoked_at: r.revoked_at,
        }
    }
}

const API_KEY_COLUMNS: &str = "id, name, prefix, scopes, created_at, last_used_at, revoked_at";

pub async fn create_api_key(tx: &mut Tx, ctx: &Ctx, input: NewApiKey) -> AppResult<CreatedApiKey> {
    ctx.require_admin()?;
    let name = required_text("name", &input.name, 100)?;
    let mut scopes = Vec::new();
    for scope in input.scopes {
        if !scopes.contains(&scope) {
            scopes.push(scope);
        }
    }
    if scopes.is_empty() {
        return Err(AppError::validation("scopes", "give the key at least one scope"));
    }
    if scopes.contains(&Scope::MarketingApprove) && ctx.role != Some(crate::platform::types::Role::Owner) {
        return Err(AppError::Forbidden(
            "only the workspace owner can grant marketing:approve (a key that approves sends on its own)".into(),
        ));
    }
    // Approving goes through the marketing write operations (approve,
    // reject): without marketing:write the grant could never be used.
    if scopes.contains(&Scope::MarketingApprove) && !scopes.contains(&Scope::MarketingWrite) {
        return Err(AppError::validation("scopes", "marketing:approve works together with marketing:write: grant both"));
    }
    let secret = new_api_key_secret();
    let key = ApiKey {
        id: Uuid::now_v7(),
        name,
        prefix: secret.chars().take(14).collect(),
        scopes,
        created_at: crate::platform::db::now(),
        last_used_at: None,
        revoked_at: None,
    };
    tx.execute(
        Q::new(
            "INSERT INTO api_keys (id, workspace_id, name, prefix, secret_hash, scopes, created_by, \
             created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(key.id)
        .bind(ctx.workspace_id)
        .bind(key.name.as_str())
        .bind(key.prefix.as_str())
        .bind(digest(&secret))
        .bind(serde_json::to_value(&key.scopes).unwrap_or_default())
        .bind(ctx.user_id)
        .bind(key.created_at),
    )
    .await?;
    audit::record(tx, ctx, "api_key.created", "api_key", Some(key.id), None::<&()>, Some(&key)).await?;
    Ok(CreatedApiKey { key, secret })
}

pub async fn list_api_keys(tx: &mut Tx, ctx: &Ctx) -> AppResult<Vec<ApiKey>> {
    ctx.require_admin()?;
    let rows: Vec<ApiKeyRow> = tx
        .fetch_all(
            Q::new(format!("SELECT {API_KEY_COLUMNS} FROM api_keys WHERE workspace_id = $1 ORDER BY id DESC")).bind(ctx.workspace_id),
        )
        .await?;
    Ok(rows.into_iter().map(ApiKey::from).collect())
}

/// Revoking is immediate and final; revoking twice is harmless.
pub async fn revoke_api_key(tx: &mut Tx, ctx: &Ctx, id: Uuid) -> AppResult<ApiKey> {
    ctx.require_admin()?;
    let before: ApiKey = tx
        .fetch_optional::<ApiKeyRow>(
            Q::new(format!("SELECT {API_KEY_COLUMNS} FROM api_keys WHERE workspace_id = $1 AND id = $2")).bind(ctx.workspace_id).bind(id),
        )
        .await?
        .ok_or(AppError::NotFound("API key"))?
        .into();
    if before.revoked_at.is_some() {
        return Ok(before);
    }
    let after = ApiKey { revoked_at: Some(crate::platform::db::now()), ..before.clone() };
    tx.execute(
        Q::new("UPDATE api_keys SET revoked_at = $1 WHERE workspace_id = $2 AND id = $3")
            .bind(after.revoked_at)
            .bind(ctx.workspace_id)
            .bind(id),
    )
    .await?;
    audit::record(tx, ctx, "api_key.revoked", "api_key", Some(id), Some(&before), Some(&after)).await?;
    Ok(after)
}
