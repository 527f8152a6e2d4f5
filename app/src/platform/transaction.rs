//! The one way a write runs: [`WriteTx`], a transaction guard that REST
//! handlers, server functions and MCP tools all use.
//!
//! ```text
//! let mut tx = WriteTx::begin(&state.db).await?;   // or Idempotency::begin for REST
//! let lead = ops::update(&mut tx, &ctx, id, patch).await?;
//! tx.commit().await?;
//! ```
//!
//! Dropping the guard without finishing it (an early `?`) rolls the
//! transaction back, which also frees an idempotency key it claimed: the
//! claim is a row written in the same transaction.

use std::ops::{Deref, DerefMut};

use sha2::{Digest, Sha256};

use crate::error::{AppError, AppResult};
use crate::platform::context::Ctx;
use crate::platform::db::{now, Db, Tx, Q};

pub struct WriteTx {
    tx: Tx,
    claim: Option<KeyClaim>,
}

/// An idempotency key claimed by a write that has not committed yet.
struct KeyClaim {
    workspace_id: uuid::Uuid,
    actor_id: uuid::Uuid,
    key: String,
}

/// What claiming an idempotency key found.
pub enum Claimed {
    /// The key is new: the write goes ahead in this transaction.
    Fresh(WriteTx),
    /// The key already answered this same request: send that answer again.
    Replay { status: u16, body: serde_json::Value },
}

#[derive(sqlx::FromRow)]
struct StoredResponse {
    request_hash: String,
    response_status: i64,
    response_body: sqlx::types::Json<serde_json::Value>,
}

impl WriteTx {
    /// A write without an idempotency key.
    pub async fn begin(db: &Db) -> AppResult<WriteTx> {
        Ok(WriteTx { tx: db.begin().await?, claim: None })
    }

    /// A write under an idempotency key, claimed in the write's own
    /// transaction: a retry of the same request (same `fingerprint`) gets
    /// the stored answer, a reuse for another request is refused, and a
    /// concurrent duplicate waits on the key's row and then replays, so
    /// exactly one write happens.
    pub async fn begin_idempotent(db: &Db, ctx: &Ctx, key: &str, request: &str) -> AppResult<Claimed> {
        let mut tx = db.begin().await?;
        let fingerprint = hex::encode(Sha256::digest(request.as_bytes()));
        let claimed = tx
            .execute(
                Q::new(
                    "INSERT INTO idempotency_keys (workspace_id, actor_id, idem_key, request_hash, \
                     response_status, response_body, created_at) VALUES ($1, $2, $3, $4, 0, $5, $6) \
                     ON CONFLICT (workspace_id, actor_id, idem_key) DO NOTHING",
                )
                .bind(ctx.workspace_id)
                .bind(ctx.actor_id())
                .bind(key)
                .bind(fingerprint.as_str())
                .bind(serde_json::Value::Null)
                .bind(now()),
            )
            .await?;
        if claimed == 1 {
            let claim = KeyClaim { workspace_id: ctx.workspace_id, actor_id: ctx.actor_id(), key: key.to_string() };
            return Ok(Claimed::Fresh(WriteTx { tx, claim: Some(claim) }));
        }
        let stored: StoredResponse = tx
            .fetch_one(
                Q::new(
                    "SELECT request_hash, response_status, response_body FROM idempotency_keys \
                     WHERE workspace_id = $1 AND actor_id = $2 AND idem_key = $3",
                )
                .bind(ctx.workspace_id)
                .bind(ctx.actor_id())
                .bind(key),
            )
            .await?;
        tx.rollback().await?;
        if stored.request_hash != fingerprint {
            return Err(AppError::Validation {
                field: None,
                message: "this Idempotency-Key was already used with a different request".into(),
            });
        }
        Ok(Claimed::Replay { status: stored.response_status as u16, body: stored.response_body.0 })
    }

    /// Commits a write that has no response to store (no idempotency key).
    pub async fn commit(self) -> AppResult<()> {
        debug_assert!(self.claim.is_none(), "an idempotent write stores its response: use commit_with_response");
        self.tx.commit().await?;
        Ok(())
    }

    /// Commits the write together with the answer a retry of it will get.
    pub async fn commit_with_response(mut self, status: u16, body: &serde_json::Value) -> AppResult<()> {
        if let Some(claim) = self.claim.take() {
            self.tx
                .execute(
                    Q::new(
                        "UPDATE idempotency_keys SET response_status = $1, response_body = $2 \
                         WHERE workspace_id = $3 AND actor_id = $4 AND idem_key = $5",
                    )
                    .bind(status as i64)
                    .bind(body.clone())
                    .bind(claim.workspace_id)
                    .bind(claim.actor_id)
                    .bind(claim.key),
                )
                .await?;
        }
        self.tx.commit().await?;
        Ok(())
    }
}

impl Deref for WriteTx {
    type Target = Tx;

    fn deref(&self) -> &Tx {
        &self.tx
    }
}

impl DerefMut for WriteTx {
    fn deref_mut(&mut self) -> &mut Tx {
        &mut self.tx
    }
}
