//! The upload: streamed to disk under the data directory, with its digest
//! for idempotency, never held in memory.

use super::*;

pub struct StoredUpload {
    pub path: PathBuf,
    pub bytes: u64,
    /// SHA-256 of the content, for Idempotency-Key fingerprints.
    pub digest: String,
}

impl StoredUpload {
    pub async fn discard(self) {
        let _ = tokio::fs::remove_file(&self.path).await;
    }
}

fn uploads_dir(config: &Config) -> PathBuf {
    config.data_dir.join("imports")
}

/// Streams a request body to a file in the data directory, chunk by chunk,
/// refusing it (and removing the partial file) past the size limit.
pub async fn store_upload<S, E>(config: &Config, mut body: S) -> AppResult<StoredUpload>
where
    S: Stream<Item = Result<Bytes, E>> + Unpin,
    E: std::fmt::Display,
{
    let dir = uploads_dir(config);
    tokio::fs::create_dir_all(&dir).await.map_err(|e| AppError::Internal(format!("cannot create {}: {e}", dir.display())))?;
    let path = dir.join(format!("{}.upload", Uuid::now_v7()));
    let mut file = tokio::fs::File::create(&path).await.map_err(|e| AppError::Internal(e.to_string()))?;
    let mut bytes: u64 = 0;
    let mut hasher = <sha2::Sha256 as sha2::Digest>::new();
    let result: AppResult<()> = async {
        while let Some(chunk) = body.next().await {
            let chunk = chunk.map_err(|e| AppError::BadRequest(format!("the upload was interrupted: {e}")))?;
            bytes += chunk.len() as u64;
            if bytes > config.max_import_bytes {
                return Err(AppError::PayloadTooLarge(config.max_import_bytes as usize));
            }
            sha2::Digest::update(&mut hasher, &chunk);
            file.write_all(&chunk).await.map_err(|e| AppError::Internal(e.to_string()))?;
        }
        file.flush().await.map_err(|e| AppError::Internal(e.to_string()))?;
        file.sync_all().await.map_err(|e| AppError::Internal(e.to_string()))?;
        Ok(())
    }
    .await;
    if let Err(e) = result {
        let _ = tokio::fs::remove_file(&path).await;
        return Err(e);
    }
    if bytes == 0 {
        let _ = tokio::fs::remove_file(&path).await;
        return Err(AppError::validation("file", "the upload is empty"));
    }
    Ok(StoredUpload { path, bytes, digest: hex::encode(sha2::Digest::finalize(hasher)) })
}
