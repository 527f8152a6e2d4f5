//! `X-Corral-Signature: t=<unix time>,v1=<hex HMAC-SHA256 of "t." + body>`:
//! how signed capture-form submissions and flow webhooks (in and out) prove
//! who sent them, in the scheme Stripe made familiar.

use chrono::Utc;
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::error::{AppError, AppResult};

/// A signature more than this far from now is refused (replays).
pub const SIGNATURE_TOLERANCE_SECS: i64 = 300;

pub fn hmac_hex(secret: &str, message: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes any key length");
    mac.update(message.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

pub fn verify_hmac(secret: &str, message: &[u8], signature_hex: &str) -> bool {
    let Ok(signature) = hex::decode(signature_hex.trim()) else { return false };
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes any key length");
    mac.update(message);
    mac.verify_slice(&signature).is_ok()
}

/// The `X-Corral-Signature` value for `body` sent at `t`.
pub fn body_signature(secret: &str, t: i64, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes any key length");
    mac.update(format!("{t}.").as_bytes());
    mac.update(body);
    format!("t={t},v1={}", hex::encode(mac.finalize().into_bytes()))
}

/// Checks an `X-Corral-Signature` header over `body`; `whose` names the
/// secret in the refusal ("this form's secret").
pub fn verify_body_signature(secret: &str, header: &str, body: &[u8], whose: &str) -> AppResult<()> {
    let mut t = None;
    let mut v1 = None;
    for part in header.split(',') {
        match part.trim().split_once('=') {
            Some(("t", value)) => t = value.parse::<i64>().ok(),
            Some(("v1", value)) => v1 = Some(value.to_string()),
            _ => {}
        }
    }
    let (Some(t), Some(v1)) = (t, v1) else {
        return Err(AppError::Unauthenticated("X-Corral-Signature must be t=<unix time>,v1=<hex HMAC-SHA256>".into()));
    };
    if (Utc::now().timestamp() - t).abs() > SIGNATURE_TOLERANCE_SECS {
        return Err(AppError::Unauthenticated("the signature's timestamp is more than 5 minutes off".into()));
    }
    let mut message = format!("{t}.").into_bytes();
    message.extend_from_slice(body);
    if !verify_hmac(secret, &message, &v1) {
        return Err(AppError::Unauthenticated(format!("the signature does not match {whose}")));
    }
    Ok(())
}
