//! Credentials: argon2id passwords, hashed API-key secrets, sessions, and
//! the cookie-or-token extractor that turns a request into a [`Ctx`].

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use base64::Engine;
use chrono::{Duration, Utc};
use rand::RngCore;
use sha2::{Digest, Sha256};
use tower_sessions::Session;
use uuid::Uuid;

use crate::error::{AppError, AppResult};
use crate::platform::context::{AppState, Ctx};
use crate::platform::db::{Db, Q};
use crate::platform::types::{Role, Scope};

pub const SESSION_USER_ID: &str = "user_id";
pub const SESSION_WORKSPACE_ID: &str = "workspace_id";

/// Every API key starts with this, so leaked keys are recognisable by
/// secret scanners and by people.
pub const API_KEY_PREFIX: &str = "corral_";

pub async fn hash_password(password: String) -> AppResult<String> {
    tokio::task::spawn_blocking(move || {
        let salt = SaltString::generate(&mut rand::rngs::OsRng);
        Argon2::default()
            .hash_password(password.as_bytes(), &salt)
            .map(|hash| hash.to_string())
            .map_err(|e| AppError::Internal(format!("hashing password: {e}")))
    })
    .await
    .map_err(|e| AppError::Internal(e.to_string()))?
}

pub async fn verify_password(password: String, hash: String) -> AppResult<bool> {
    tokio::task::spawn_blocking(move || {
        let parsed = PasswordHash::new(&hash).map_err(|e| AppError::Internal(format!("stored hash unreadable: {e}")))?;
        Ok(Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok())
    })
    .await
    .map_err(|e| AppError::Internal(e.to_string()))?
}

/// 32 random bytes, URL-safe.
pub fn random_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// Secrets are high-entropy random strings, so a fast digest is enough to
/// store them; a leaked table reveals no usable key.
pub fn digest(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

pub fn new_api_key_secret() -> String {
    format!("{API_KEY_PREFIX}{}", random_token())
}

#[derive(sqlx::FromRow)]
struct KeyRow {
    id: Uuid,
    workspace_id: Uuid,
    scopes: sqlx::types::Json<Vec<String>>,
    last_used_at: Option<chrono::DateTime<Utc>>,
    revoked_at: Option<chrono::DateTime<Utc>>,
}

/// Resolves a bearer secret to its key's context; wrong and revoked keys are
/// both 401 and look the same to the caller.
pub async fn ctx_from_api_key(db: &Db, secret: &str) -> AppResult<Ctx> {
    let invalid = || AppError::Unauthenticated("invalid or revoked API key".into());
    if !secret.starts_with(API_KEY_PREFIX) {
        return Err(invalid());
    }
    let mut tx = db.begin_read().await?;
    let row: Option<KeyRow> = tx
        .fetch_optional(
            Q::new("SELECT id, workspace_id, scopes, last_used_at, revoked_at FROM api_keys WHERE secret_hash = $1").bind(digest(secret)),
        )
        .await?;
    tx.commit().await?;
    let row = row.ok_or_else(invalid)?;
    if row.revoked_at.is_some() {
        return Err(invalid());
    }
    // Recording every use would turn each read into a write (on SQLite, the
    // database-wide write lock); a minute's resolution is what "last used"
    // needs, so a key used within the minute costs no write at all.
    let now = crate::platform::db::now();
    let stale_before = now - Duration::seconds(60);
    if row.last_used_at.is_none_or(|at| at < stale_before) {
        let mut tx = db.begin().await?;
        tx.execute(
            Q::new(
                "UPDATE api_keys SET last_used_at = $1 \
                 WHERE id = $2 AND (last_used_at IS NULL OR last_used_at < $3)",
            )
            .bind(now)
            .bind(row.id)
            .bind(stale_before),
        )
        .await?;
        tx.commit().await?;
    }
    Ok(Ctx {
        workspace_id: row.workspace_id,
        user_id: None,
        api_key_id: Some(row.id),
        role: None,
        scopes: row.scopes.0.iter().filter_map(|s| Scope::parse(s)).collect(),
        via: crate::platform::context::Via::Api,
    })
}

#[derive(sqlx::FromRow)]
struct RoleRow {
    role: String,
}

/// The user and workspace a session is signed into; "sign in" without them.
async fn session_ids(session: &Session) -> AppResult<(Uuid, Uuid)> {
    let user_id: Option<Uuid> = session.get(SESSION_USER_ID).await.map_err(|e| AppError::Internal(format!("session store: {e}")))?;
    let workspace_id: Option<Uuid> =
        session.get(SESSION_WORKSPACE_ID).await.map_err(|e| AppError::Internal(format!("session store: {e}")))?;
    match (user_id, workspace_id) {
        (Some(user_id), Some(workspace_id)) => Ok((user_id, workspace_id)),
        _ => Err(AppError::Unauthenticated("sign in or send an API key".into())),
    }
}

/// Loads the member's current role on every request, so removing someone
/// from a workspace takes effect at once.
pub async fn ctx_from_session(db: &Db, session: &Session) -> AppResult<Ctx> {
    let unauthenticated = || AppError::Unauthenticated("sign in or send an API key".into());
    let (user_id, workspace_id) = session_ids(session).await?;
    let row: Option<RoleRow> = db
        .fetch_optional(Q::new("SELECT role FROM memberships WHERE workspace_id = $1 AND user_id = $2").bind(workspace_id).bind(user_id))
        .await?;
    let role = row.and_then(|r| Role::parse(&r.role)).ok_or_else(unauthenticated)?;
    Ok(Ctx::for_member(workspace_id, user_id, role))
}

/// A signed-in member as a page needs them: who they are, what they may
/// do, and how their workspace writes numbers and times. Read once per page
/// request (one query) and carried in the request's extensions, so the
/// page's frame and its data, rendered in the same request, do not each
/// read the membership again.
#[derive(Clone, Debug)]
pub struct SignedIn {
    pub ctx: Ctx,
    pub user: crate::platform::types::CurrentUser,
    pub formats: crate::platform::formats::Formats,
    /// Approval requests waiting in the workspace: the navigation's badge
    /// for those who approve.
    pub pending_approvals: i64,
}

#[derive(sqlx::FromRow)]
struct SignedInRow {
    name: String,
    email: String,
    workspace_name: String,
    role: String,
    locale: String,
    time_zone: String,
    pending_approvals: i64,
}

/// The session's member, their user, their workspace's formats and its
/// pending approvals in one statement; like [`ctx_from_session`], the role
/// is read afresh.
pub async fn signed_in(db: &Db, session: &Session) -> AppResult<SignedIn> {
    let unauthenticated = || AppError::Unauthenticated("sign in or send an API key".into());
    let (user_id, workspace_id) = session_ids(session).await?;
    let row: Option<SignedInRow> = db
        .fetch_optional(
            Q::new(
                "SELECT u.name, u.email, w.name AS workspace_name, m.role, w.locale, w.time_zone, \
                 (SELECT COUNT(*) FROM approval_requests a WHERE a.workspace_id = m.workspace_id AND a.status = 'pending') AS pending_approvals \
                 FROM memberships m JOIN users u ON u.id = m.user_id JOIN workspaces w ON w.id = m.workspace_id \
                 WHERE m.workspace_id = $1 AND m.user_id = $2",
            )
            .bind(workspace_id)
            .bind(user_id),
        )
        .await?;
    let row = row.ok_or_else(unauthenticated)?;
    let role = Role::parse(&row.role).ok_or_else(unauthenticated)?;
    Ok(SignedIn {
        ctx: Ctx::for_member(workspace_id, user_id, role),
        user: crate::platform::types::CurrentUser {
            user_id,
            name: row.name,
            email: row.email,
            workspace_id,
            workspace_name: row.workspace_name,
            role,
        },
        formats: crate::platform::formats::Formats { locale: row.locale, time_zone: row.time_zone },
        pending_approvals: row.pending_approvals,
    })
}

/// Cookie-or-token: a request with an `Authorization` header is judged by
/// that header alone; otherwise by its session cookie.
impl FromRequestParts<AppState> for Ctx {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Ctx, AppError> {
        if let Some(value) = parts.headers.get(AUTHORIZATION) {
            let value = value.to_str().map_err(|_| AppError::Unauthenticated("malformed Authorization header".into()))?;
            let secret = value
                .strip_prefix("Bearer ")
                .ok_or_else(|| AppError::Unauthenticated("Authorization must be `Bearer <api key>`".into()))?
                .trim();
            return ctx_from_api_key(&state.db, secret).await;
        }
        let session = parts.extensions.get::<Session>().cloned().ok_or_else(|| AppError::Internal("session layer missing".into()))?;
        ctx_from_session(&state.db, &session).await
    }
}
