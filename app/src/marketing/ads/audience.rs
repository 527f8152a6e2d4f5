//! The audience hand-off: a segment's members normalised (trimmed,
//! lower-cased emails; E.164 phones) and SHA-256 hashed the way each
//! platform documents, frozen at approval and uploaded at launch, or
//! downloaded as a file ("Export for ads").

use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::types::Platform;
use crate::error::AppResult;
use crate::platform::context::Ctx;
use crate::platform::db::{Tx, Q};

/// Meta takes at most this many records per `/users` call.
pub const META_BATCH: usize = 10_000;
/// LinkedIn's DMP segment `/users` batch create takes at most this many.
pub const LINKEDIN_BATCH: usize = 5_000;
/// Google's offline user data job takes at most this many operations per call.
pub const GOOGLE_BATCH: usize = 10_000;

/// A member as it leaves Corral: normalised, not yet hashed.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct Member {
    pub lead_id: Uuid,
    pub email: Option<String>,
    pub phone: Option<String>,
}

/// Trimmed and lower-cased; `None` unless it looks like an address.
pub fn normalize_email(raw: &str) -> Option<String> {
    let email = raw.trim().to_lowercase();
    let (local, domain) = email.split_once('@')?;
    (!local.is_empty() && domain.contains('.') && !email.contains(char::is_whitespace)).then_some(email)
}

/// E.164 (`+` and 8 to 15 digits, no leading zero). Spaces, dots, dashes and
/// brackets are dropped; `00` becomes `+`; ten digits with no country code
/// are taken as North American (+1), as most CRMs do; anything else without
/// a country code cannot be matched and is left out.
pub fn normalize_phone(raw: &str) -> Option<String> {
    let trimmed = raw.trim();
    let international = trimmed.starts_with('+') || trimmed.starts_with("00");
    if trimmed.chars().any(|c| c.is_ascii_alphabetic()) {
        return None;
    }
    let mut digits: String = trimmed.chars().filter(|c| c.is_ascii_digit()).collect();
    if trimmed.starts_with("00") {
        digits.drain(..2);
    }
    if !international {
        match digits.len() {
            10 if !digits.starts_with('0') && !digits.starts_with('1') => digits.insert(0, '1'),
            11 if digits.starts_with('1') => {}
            _ => return None,
        }
    }
    (8..=15).contains(&digits.len()).then_some(())?;
    (!digits.starts_with('0')).then(|| format!("+{digits}"))
}

pub fn sha256_hex(text: &str) -> String {
    hex::encode(Sha256::digest(text.as_bytes()))
}

/// A phone's hash as the platform documents it: Google hashes the E.164
/// form with its `+`; Meta the digits with the country code and no `+`.
pub fn hashed_phone(platform: Platform, e164: &str) -> String {
    match platform {
        Platform::Meta => sha256_hex(e164.trim_start_matches('+')),
        _ => sha256_hex(e164),
    }
}

/// Freezes a segment's members (those with an email or phone that can be
/// matched, one row per lead) as the campaign's audience snapshot.
pub async fn snapshot(tx: &mut Tx, ctx: &Ctx, ad_campaign_id: Uuid, segment_id: Uuid) -> AppResult<(i64, String)> {
    let members = current_members(tx, ctx, segment_id).await?;
    tx.execute(Q::new("DELETE FROM ad_audience_members WHERE ad_campaign_id = $1").bind(ad_campaign_id)).await?;
    let mut ids = Vec::with_capacity(members.len());
    for chunk in members.chunks(200) {
        let mut q = Q::new("INSERT INTO ad_audience_members (ad_campaign_id, lead_id, workspace_id, email, phone) VALUES ");
        for (i, m) in chunk.iter().enumerate() {
            let (a, l, w, e, p) =
                (q.arg(ad_campaign_id), q.arg(m.lead_id), q.arg(ctx.workspace_id), q.arg(m.email.clone()), q.arg(m.phone.clone()));
            q.push(&format!("{}({a}, {l}, {w}, {e}, {p})", if i > 0 { ", " } else { "" }));
            ids.push(m.lead_id.to_string());
        }
        tx.execute(q).await?;
    }
    ids.sort();
    Ok((members.len() as i64, sha256_hex(&ids.join(","))))
}

/// The segment's members now, normalised; people with nothing to match on
/// and suppressed addresses are left out (a suppressed person asked not to
/// be marketed to, on any channel).
pub async fn current_members(tx: &mut Tx, ctx: &Ctx, segment_id: Uuid) -> AppResult<Vec<Member>> {
    let inner = crate::audience::lists::lead_members_query(
        tx,
        ctx,
        segment_id,
        "segment_id",
        "leads.id AS lead_id, leads.email AS email, leads.phone AS phone, (SELECT s.reason FROM suppressions s \
         WHERE s.workspace_id = leads.workspace_id AND s.email = LOWER(leads.email)) AS suppression",
    )
    .await?;
    let sql = format!("SELECT lead_id, email, phone FROM ({}) m WHERE suppression IS NULL ORDER BY lead_id", inner.sql());
    let rows: Vec<Member> = tx.fetch_all(inner.with_sql(sql)).await?;
    Ok(rows
        .into_iter()
        .map(|m| Member {
            lead_id: m.lead_id,
            email: m.email.as_deref().and_then(normalize_email),
            phone: m.phone.as_deref().and_then(normalize_phone),
        })
        .filter(|m| m.email.is_some() || m.phone.is_some())
        .collect())
}

/// The frozen snapshot of a campaign.
pub async fn frozen_members(tx: &mut Tx, ad_campaign_id: Uuid) -> AppResult<Vec<Member>> {
    Ok(tx
        .fetch_all(
            Q::new("SELECT lead_id, email, phone FROM ad_audience_members WHERE ad_campaign_id = $1 ORDER BY lead_id").bind(ad_campaign_id),
        )
        .await?)
}

/// "Export for ads": the members hashed in the platform's upload format.
/// Google Customer Match: `Email,Phone` columns of hashes. Meta: the
/// `email,phone` customer-file columns of hashes (Meta's phone hash has no
/// `+`). LinkedIn: its contact-list template, the hashed email in `email`.
pub fn export_csv(platform: Platform, members: &[Member]) -> String {
    let mut out = String::new();
    match platform {
        Platform::Google => {
            out.push_str("Email,Phone\n");
            for m in members {
                let email = m.email.as_deref().map(sha256_hex).unwrap_or_default();
                let phone = m.phone.as_deref().map(|p| hashed_phone(platform, p)).unwrap_or_default();
                out.push_str(&format!("{email},{phone}\n"));
            }
        }
        Platform::Meta => {
            out.push_str("email,phone\n");
            for m in members {
                let email = m.email.as_deref().map(sha256_hex).unwrap_or_default();
                let phone = m.phone.as_deref().map(|p| hashed_phone(platform, p)).unwrap_or_default();
                out.push_str(&format!("{email},{phone}\n"));
            }
        }
        Platform::Linkedin => {
            out.push_str("email,first_name,last_name,job_title,employee_company,country\n");
            for m in members.iter().filter(|m| m.email.is_some()) {
                out.push_str(&format!("{},,,,,\n", sha256_hex(m.email.as_deref().unwrap_or_default())));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_and_phones_normalise_as_the_platforms_ask() {
        assert_eq!(normalize_email("  Jane.Doe@Example.COM "), Some("jane.doe@example.com".into()));
        assert_eq!(normalize_email("not an email"), None);
        assert_eq!(normalize_phone("+44 20 7946 0958"), Some("+442079460958".into()));
        assert_eq!(normalize_phone("0044 (20) 7946-0958"), Some("+442079460958".into()));
        assert_eq!(normalize_phone("(415) 555-0100"), Some("+14155550100".into()));
        assert_eq!(normalize_phone("1-415-555-0100"), Some("+14155550100".into()));
        assert_eq!(normalize_phone("020 7946 0958"), None, "a national number without its country cannot be matched");
        assert_eq!(normalize_phone("call me"), None);
    }

    #[test]
    fn hashes_are_lowercase_hex_sha256_of_the_normal_form() {
        // printf 'jane.doe@example.com' | sha256sum, and the same for the phone forms.
        assert_eq!(sha256_hex("jane.doe@example.com"), "86e0b9e56c17cc4d12387e1949b85053fbe73bc3ce5a1188713a9d300cc6133d");
        assert_eq!(hashed_phone(Platform::Google, "+14155550100"), "40d3f4e02db27d66cf4cfdda506c2c945f115a7955cc8491dda98ce5beabcda0");
        assert_eq!(hashed_phone(Platform::Meta, "+14155550100"), "5e7ec4c79ccac6e420876e65ad0e6b4b2ccf73ec3dccb50297bf2890a1ec73b9");
        assert_ne!(hashed_phone(Platform::Google, "+14155550100"), hashed_phone(Platform::Meta, "+14155550100"));
        assert_eq!(hashed_phone(Platform::Meta, "+14155550100"), sha256_hex("14155550100"));
    }
}
