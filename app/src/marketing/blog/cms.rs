//! The CMS connectors, each speaking its CMS's own API: WordPress REST
//! (`/wp-json/wp/v2/posts`, application password over Basic auth), the
//! Ghost Admin API (a short-lived HS256 JWT from the Admin API key), the
//! Webflow Data API v2 (a live collection item) and Sanity mutations
//! (`createOrReplace` of a document whose id is the post's, so a retry
//! replaces rather than duplicates).

use std::time::Duration;

use base64::Engine;
use hmac::{Hmac, Mac};
use serde_json::{json, Value};
use sha2::Sha256;

use super::types::{BlogConnector, BlogPost, CmsKind};
use crate::error::{AppError, AppResult};

/// What the CMS answered: its id for the post and where it is shown.
#[derive(Clone, Debug, PartialEq)]
pub struct Published {
    pub external_id: String,
    pub url: String,
}

pub async fn publish(connector: &BlogConnector, secret: &str, post: &BlogPost, allow_private_networks: bool) -> AppResult<Published> {
    let client = crate::audience::enrichment::outbound_client(&connector.base_url, Duration::from_secs(30), allow_private_networks).await?;
    let label = connector.kind.label();
    let fail = |e: reqwest::Error| AppError::Upstream(format!("{label} could not be reached: {e}"));
    let (request, kind) = match connector.kind {
        CmsKind::Wordpress => {
            let username = connector.settings.username.clone().unwrap_or_default();
            let body = json!({
                "title": post.title,
                "slug": post.slug,
                "content": post.body_html,
                "excerpt": post.excerpt,
                "status": "publish",
            });
            (
                client.post(format!("{}/wp-json/wp/v2/posts", connector.base_url)).basic_auth(username, Some(secret)).json(&body),
                CmsKind::Wordpress,
            )
        }
        CmsKind::Ghost => {
            let token = ghost_token(secret, chrono::Utc::now().timestamp())?;
            let mut ghost_post = json!({
                "title": post.title,
                "slug": post.slug,
                "html": post.body_html,
                "custom_excerpt": post.excerpt,
                "status": "published",
                "tags": post.tags.iter().map(|t| json!({ "name": t })).collect::<Vec<_>>(),
            });
            if let Some(cover) = &post.cover_image_url {
                ghost_post["feature_image"] = json!(cover);
            }
            (
                client
                    .post(format!("{}/ghost/api/admin/posts/?source=html", connector.base_url))
                    .header("Authorization", format!("Ghost {token}"))
                    .header("Accept-Version", "v5.0")
                    .json(&json!({ "posts": [ghost_post] })),
                CmsKind::Ghost,
            )
        }
        CmsKind::Webflow => {
            let collection = connector.settings.collection_id.clone().unwrap_or_default();
            let mut fields = json!({
                "name": post.title,
                "slug": post.slug,
                "post-body": post.body_html,
                "post-summary": post.excerpt,
            });
            if let Some(cover) = &post.cover_image_url {
                fields["main-image"] = json!({ "url": cover });
            }
            (
                client
                    .post(format!("{}/v2/collections/{collection}/items/live", connector.base_url))
                    .bearer_auth(secret)
                    .json(&json!({ "isArchived": false, "isDraft": false, "fieldData": fields })),
                CmsKind::Webflow,
            )
        }
        CmsKind::Sanity => {
            let dataset = connector.settings.dataset.clone().unwrap_or_else(|| "production".into());
            let doc_type = connector.settings.document_type.clone().unwrap_or_else(|| "post".into());
            let mut document = json!({
                "_id": format!("corral-{}", post.id),
                "_type": doc_type,
                "title": post.title,
                "slug": { "_type": "slug", "current": post.slug },
                "bodyHtml": post.body_html,
                "bodyMarkdown": post.body_markdown,
                "excerpt": post.excerpt,
                "tags": post.tags,
                "publishedAt": chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            });
            if let Some(cover) = &post.cover_image_url {
                document["coverImageUrl"] = json!(cover);
            }
            (
                client
                    .post(format!("{}/v2021-06-07/data/mutate/{dataset}?returnIds=true&visibility=sync", connector.base_url))
                    .bearer_auth(secret)
                    .json(&json!({ "mutations": [{ "createOrReplace": document }] })),
                CmsKind::Sanity,
            )
        }
    };
    let response = request.send().await.map_err(fail)?;
    let status = response.status();
    let body: Value = response.json().await.unwrap_or(Value::Null);
    if !status.is_success() {
        let message = body["message"]
            .as_str()
            .or_else(|| body["errors"][0]["message"].as_str())
            .or_else(|| body["error"]["description"].as_str())
            .unwrap_or("no message");
        return Err(AppError::Upstream(format!("{label} answered {}: {message}", status.as_u16())));
    }
    let from_template = |slug: &str| connector.settings.post_url_template.as_deref().unwrap_or("{slug}").replace("{slug}", slug);
    let published = match kind {
        CmsKind::Wordpress => Published { external_id: id_text(&body["id"]), url: body["link"].as_str().unwrap_or_default().to_string() },
        CmsKind::Ghost => Published {
            external_id: id_text(&body["posts"][0]["id"]),
            url: body["posts"][0]["url"].as_str().unwrap_or_default().to_string(),
        },
        CmsKind::Webflow => Published { external_id: id_text(&body["id"]), url: from_template(&post.slug) },
        CmsKind::Sanity => Published { external_id: id_text(&body["results"][0]["id"]), url: from_template(&post.slug) },
    };
    if published.external_id.is_empty() {
        return Err(AppError::Upstream(format!("{label} did not say which post it made")));
    }
    Ok(published)
}

fn id_text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        _ => String::new(),
    }
}

/// A Ghost Admin API token: HS256 over `{"iat", "exp" (+5 min), "aud":
/// "/admin/"}` with the key's id as `kid`, signed with its hex secret.
pub fn ghost_token(admin_key: &str, now: i64) -> AppResult<String> {
    let (id, secret) =
        admin_key.split_once(':').ok_or_else(|| AppError::Upstream("the Ghost Admin API key is not <id>:<secret>".into()))?;
    let secret = hex::decode(secret).map_err(|_| AppError::Upstream("the Ghost Admin API key's secret is not hex".into()))?;
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let header = b64.encode(json!({ "alg": "HS256", "typ": "JWT", "kid": id }).to_string());
    let claims = b64.encode(json!({ "iat": now, "exp": now + 300, "aud": "/admin/" }).to_string());
    let signing_input = format!("{header}.{claims}");
    let mut mac = Hmac::<Sha256>::new_from_slice(&secret).map_err(|e| AppError::Internal(e.to_string()))?;
    mac.update(signing_input.as_bytes());
    Ok(format!("{signing_input}.{}", b64.encode(mac.finalize().into_bytes())))
}
