//! Enrichment: connectors that look a lead up elsewhere and hand back
//! fields to merge. The HTTP connector posts the lead as JSON to a
//! configured URL and merges the JSON object it answers with.
//!
//! Merging never clobbers what a person typed: standard fields fill only
//! when empty, tags are added, everything else lands in custom fields.

use std::time::Duration;

use serde_json::{json, Map, Value};
use uuid::Uuid;

use super::types::*;
use crate::crm::leads::{
    ops as leads,
    types::{Lead, LeadPatch},
};
use crate::error::{AppError, AppResult};
use crate::platform::audit;
use crate::platform::context::Ctx;
use crate::platform::db::{now, Db, Tx, Q};
use crate::platform::types::Scope;
use crate::platform::validate::required_text;
use crate::platform::BoxFuture;

/// A source of extra facts about a lead.
pub trait Connector: Send + Sync {
    /// Fields to merge into the lead (lead field names or custom keys).
    fn enrich<'a>(&'a self, lead: &'a Lead) -> BoxFuture<'a, AppResult<Map<String, Value>>>;
}

pub const MAX_RESPONSE_BYTES: usize = 1024 * 1024;

pub struct HttpConnector {
    pub url: String,
    pub auth_header: Option<String>,
    pub timeout: Duration,
    /// Whether the URL may lead into loopback or private networks. Off in
    /// production: otherwise any member could make the server call its
    /// neighbours (cloud metadata, the database's admin port) and read
    /// the answer back through the lead.
    pub allow_private_networks: bool,
}

/// Whether an address is on the public internet (not loopback, private,
/// link-local, shared, documentation, multicast or reserved space).
pub fn is_public_address(ip: std::net::IpAddr) -> bool {
    use std::net::IpAddr;
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, c, _] = v4.octets();
            !(v4.is_private()
                || v4.is_loopback()
                || v4.is_link_local()
                || v4.is_broadcast()
                || v4.is_unspecified()
                || v4.is_documentation()
                || v4.is_multicast()
                || a == 0
                || a >= 240
                || (a == 100 && (64..128).contains(&b))
                || (a == 192 && b == 0 && c == 0)
                || (a == 198 && (18..20).contains(&b)))
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_public_address(IpAddr::V4(v4));
            }
            let first = v6.segments()[0];
            !(v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (first & 0xfe00) == 0xfc00
                || (first & 0xffc0) == 0xfe80
                || (first == 0x2001 && v6.segments()[1] == 0x0db8)
                || (first == 0x0064 && v6.segments()[1] == 0xff9b))
        }
    }
}

/// Resolves names to their public addresses only, so that a name that
/// resolves (or is re-pointed after the check) into a private network is
/// never connected to.
struct PublicOnlyResolver;

impl reqwest::dns::Resolve for PublicOnlyResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        Box::pin(async move {
            let host = name.as_str().to_string();
            let public: Vec<std::net::SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.filter(|a| is_public_address(a.ip())).collect();
            if public.is_empty() {
                return Err(format!("{host} resolves to no public address").into());
            }
            Ok(Box::new(public.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

fn private_network_refusal(field: &str) -> AppError {
    AppError::validation(
        field,
        "the URL leads into a private network (loopback, private or link-local addresses); enrichment calls public services only",
    )
}

/// The URL's host when it is an IP address (`[::1]` unbracketed).
fn literal_ip(url: &reqwest::Url) -> Option<std::net::IpAddr> {
    url.host_str()?.trim_start_matches('[').trim_end_matches(']').parse().ok()
}

fn parse_target(url: &str) -> AppResult<reqwest::Url> {
    reqwest::Url::parse(url).map_err(|_| AppError::validation("url", "give an http:// or https:// URL"))
}

/// Refuses a host that is a non-public address or `localhost`.
fn refuse_internal_literal(url: &reqwest::Url) -> AppResult<()> {
    let host = url.host_str().unwrap_or_default().trim_end_matches('.').to_ascii_lowercase();
    if host == "localhost" || host.ends_with(".localhost") || literal_ip(url).is_some_and(|ip| !is_public_address(ip)) {
        return Err(private_network_refusal("url"));
    }
    Ok(())
}

/// Refuses, without a DNS lookup, URLs whose host is a non-public address
/// or `localhost`: cheap enough to run inside the write transaction.
pub fn check_literal_target(url: &str) -> AppResult<()> {
    refuse_internal_literal(&parse_target(url)?)
}

/// Refuses URLs whose host is, or resolves only to, non-public addresses.
/// The resolver checks again at connect time, against re-pointed names.
async fn check_public_target(url: &str) -> AppResult<()> {
    let parsed = parse_target(url)?;
    refuse_internal_literal(&parsed)?;
    if literal_ip(&parsed).is_some() {
        return Ok(());
    }
    let (host, port) = (parsed.host_str().unwrap_or_default().to_string(), parsed.port_or_known_default().unwrap_or(80));
    if let Ok(found) = tokio::net::lookup_host((host.as_str(), port)).await {
        let addresses: Vec<std::net::SocketAddr> = found.collect();
        if !addresses.is_empty() && !addresses.iter().any(|a| is_public_address(a.ip())) {
            return Err(private_network_refusal("url"));
        }
    }
    Ok(())
}

/// An HTTP client for calling a URL a workspace configured (enrichment,
/// chat completions): no redirects, and unless private networks are
/// allowed, only public addresses, checked now and again at connect time.
pub async fn outbound_client(url: &str, timeout: Duration, allow_private_networks: bool) -> AppResult<reqwest::Client> {
    let mut builder = reqwest::Client::builder().timeout(timeout).redirect(reqwest::redirect::Policy::none());
    if !allow_private_networks {
        check_public_target(url).await?;
        builder = builder.dns_resolver(std::sync::Arc::new(PublicOnlyResolver));
    }
    builder.build().map_err(|e| AppError::Internal(e.to_string()))
}

impl Connector for HttpConnector {
    fn enrich<'a>(&'a self, lead: &'a Lead) -> BoxFuture<'a, AppResult<Map<String, Value>>> {
        Box::pin(async move {
            let client = outbound_client(&self.url, self.timeout, self.allow_private_networks)
                .await
                .map_err(|_| private_network_refusal("connector_id"))?;
            let mut request = client.post(&self.url).json(&json!({ "lead": lead }));
            if let Some(auth) = &self.auth_header {
                request = request.header(reqwest::header::AUTHORIZATION, auth);
            }
            let mut response = request.send().await.map_err(|e| {
                AppError::Upstream(if e.is_timeout() {
                    "the enrichment service did not answer in time".into()
                } else {
                    format!("the enrichment service could not be reached: {e}")
                })
            })?;
            if !response.status().is_success() {
                return Err(AppError::Upstream(format!("the enrichment service answered {}", response.status())));
            }
            let mut body = Vec::new();
            while let Some(chunk) =
                response.chunk().await.map_err(|e| AppError::Upstream(format!("the enrichment answer broke off: {e}")))?
            {
                body.extend_from_slice(&chunk);
                if body.len() > MAX_RESPONSE_BYTES {
                    return Err(AppError::Upstream("the enrichment answer is larger than 1 MiB".into()));
                }
            }
            match serde_json::from_slice::<Value>(&body) {
                Ok(Value::Object(mut map)) => Ok(match map.remove("fields") {
                    Some(Value::Object(fields)) => fields,
                    Some(_) => return Err(AppError::Upstream("the enrichment answer's fields is not an object".into())),
                    None => map,
                }),
                _ => Err(AppError::Upstream("the enrichment service did not answer with a JSON object".into())),
            }
        })
    }
}

fn check_url(url: &str) -> AppResult<String> {
    let url = url.trim();
    let valid = (url.starts_with("https://") || url.starts_with("http://")) && url.len() <= 2000 && reqwest::Url::parse(url).is_ok();
    if !valid {
        return Err(AppError::validation("url", "give an http:// or https:// URL"));
    }
    Ok(url.to_string())
}

const COLUMNS: &str = "id, name, kind, url, auth_header, enabled, created_at, updated_at";

pub async fn get(tx: &mut Tx, ctx: &Ctx, id: Uuid) -> AppResult<EnrichmentConnector> {
    ctx.require(Scope::CrmRead)?;
    tx.fetch_optional(
        Q::new(format!("SELECT {COLUMNS} FROM enrichment_connectors WHERE workspace_id = $1 AND id = $2")).bind(ctx.workspace_id).bind(id),
    )
    .await?
    .ok_or(AppError::NotFound("connector"))
}

pub async fn list(tx: &mut Tx, ctx: &Ctx) -> AppResult<Vec<EnrichmentConnector>> {
    ctx.require(Scope::CrmRead)?;
    Ok(tx
        .fetch_all(
            Q::new(format!("SELECT {COLUMNS} FROM enrichment_connectors WHERE workspace_id = $1 ORDER BY id")).bind(ctx.workspace_id),
        )
        .await?)
}

/// `allow_private_networks`: see [`HttpConnector`].
pub async fn create(tx: &mut Tx, ctx: &Ctx, input: NewEnrichmentConnector, allow_private_networks: bool) -> AppResult<EnrichmentConnector> {
    ctx.require(Scope::CrmWrite)?;
    let name = required_text("name", &input.name, 200)?;
    let url = check_url(&input.url)?;
    if !allow_private_networks {
        check_literal_target(&url)?;
    }
    let auth = crate::platform::validate::optional_text("auth_header", input.auth_header, 2000)?;
    let (id, at) = (Uuid::now_v7(), now());
    tx.execute(
        Q::new(
            "INSERT INTO enrichment_connectors (id, workspace_id, name, kind, url, auth_header, enabled, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, TRUE, $7, $8)",
        )
        .bind(id)
        .bind(ctx.workspace_id)
        .bind(name.as_str())
        .bind(input.kind.unwrap_or_default().as_str())
        .bind(url.as_str())
        .bind(auth)
        .bind(at)
        .bind(at),
    )
    .await?;
    let connector = get(tx, ctx, id).await?;
    audit::record(tx, ctx, "enrichment_connector.created", "enrichment_connector", Some(id), None::<&()>, Some(&connector)).await?;
    Ok(connector)
}

pub async fn update(
    tx: &mut Tx,
    ctx: &Ctx,
    id: Uuid,
    patch: EnrichmentConnectorPatch,
    allow_private_networks: bool,
) -> AppResult<EnrichmentConnector> {
    ctx.require(Scope::CrmWrite)?;
    let before = get(tx, ctx, id).await?;
    let name = match patch.name {
        Some(n) => required_text("name", &n, 200)?,
        None => before.name.clone(),
    };
    let url = match patch.url {
        Some(u) => {
            let url = check_url(&u)?;
            if !allow_private_networks {
                check_literal_target(&url)?;
            }
            url
        }
        None => before.url.clone(),
    };
    let auth = match patch.auth_header {
        Some(a) => crate::platform::validate::optional_text("auth_header", a, 2000)?,
        None => before.auth_header.clone(),
    };
    tx.execute(
        Q::new("UPDATE enrichment_connectors SET name = $1, url = $2, auth_header = $3, enabled = $4, updated_at = $5 WHERE workspace_id = $6 AND id = $7")
            .bind(name.as_str())
            .bind(url.as_str())
            .bind(auth)
            .bind(patch.enabled.unwrap_or(before.enabled))
            .bind(now())
            .bind(ctx.workspace_id)
            .bind(id),
    )
    .await?;
    let after = get(tx, ctx, id).await?;
    audit::record(tx, ctx, "enrichment_connector.updated", "enrichment_connector", Some(id), Some(&before), Some(&after)).await?;
    Ok(after)
}

pub async fn delete(tx: &mut Tx, ctx: &Ctx, id: Uuid) -> AppResult<EnrichmentConnector> {
    ctx.require(Scope::CrmWrite)?;
    let connector = get(tx, ctx, id).await?;
    tx.execute(Q::new("DELETE FROM enrichment_connectors WHERE workspace_id = $1 AND id = $2").bind(ctx.workspace_id).bind(id)).await?;
    audit::record(tx, ctx, "enrichment_connector.deleted", "enrichment_connector", Some(id), Some(&connector), None::<&()>).await?;
    Ok(connector)
}

/// What the merge changes on `lead`, as a patch (None: nothing new).
pub fn merge_patch(lead: &Lead, fields: &Map<String, Value>) -> AppResult<Option<LeadPatch>> {
    let mut patch = LeadPatch::default();
    let mut custom = lead.custom_fields.as_object().cloned().unwrap_or_default();
    let mut tags = lead.tags.clone();
    let mut changed = false;
    let text = |v: &Value| match v {
        Value::String(s) => Some(s.trim().to_string()).filter(|s| !s.is_empty()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    };
    for (key, value) in fields {
        match key.as_str() {
            "phone" if lead.phone.is_none() => {
                patch.phone = text(value).map(Some);
                changed |= patch.phone.is_some();
            }
            "company_name" if lead.company_name.is_none() => {
                patch.company_name = text(value).map(Some);
                changed |= patch.company_name.is_some();
            }
            "title" if lead.title.is_none() => {
                patch.title = text(value).map(Some);
                changed |= patch.title.is_some();
            }
            "tags" => {
                for tag in value.as_array().into_iter().flatten().filter_map(|t| t.as_str()) {
                    if !tags.iter().any(|t| t.eq_ignore_ascii_case(tag)) {
                        tags.push(tag.to_string());
                        changed = true;
                    }
                }
            }
            "name" | "email" | "phone" | "company_name" | "title" | "id" | "status" | "source" | "score" | "owner_id" => {}
            _ => {
                let key: String = key.chars().filter(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '-').take(64).collect();
                if !key.is_empty() && custom.get(&key) != Some(value) {
                    custom.insert(key, value.clone());
                    changed = true;
                }
            }
        }
    }
    if !changed {
        return Ok(None);
    }
    if Value::Object(custom.clone()) != lead.custom_fields {
        patch.custom_fields = Some(Value::Object(custom));
    }
    if tags != lead.tags {
        patch.tags = Some(tags);
    }
    Ok(Some(patch))
}

/// Enriches a lead through a connector. The remote call happens outside
/// any transaction; the merge re-reads the lead and writes in one.
pub async fn enrich_lead(db: &Db, ctx: &Ctx, lead_id: Uuid, input: EnrichLead, allow_private_networks: bool) -> AppResult<Lead> {
    ctx.require(Scope::CrmWrite)?;
    let mut tx = db.begin_read().await?;
    let lead = leads::get(&mut tx, ctx, lead_id).await?;
    let connector = get(&mut tx, ctx, input.connector_id)
        .await
        .map_err(|_| AppError::validation("connector_id", "connector_id does not name a connector"))?;
    tx.commit().await?;
    if !connector.enabled {
        return Err(AppError::Conflict { code: "connector_disabled", message: "this connector is disabled".into() });
    }
    let http = HttpConnector {
        url: connector.url.clone(),
        auth_header: connector.auth_header.clone(),
        timeout: Duration::from_secs(10),
        allow_private_networks,
    };
    let fields = http.enrich(&lead).await?;

    let mut tx = db.begin().await?;
    let current = leads::get(&mut tx, ctx, lead_id).await?;
    let result = match merge_patch(&current, &fields)? {
        None => current.clone(),
        Some(patch) => leads::update(&mut tx, ctx, lead_id, patch).await?,
    };
    audit::record(
        &mut tx,
        ctx,
        "lead.enriched",
        "lead",
        Some(lead_id),
        Some(&current),
        Some(&json!({"connector_id": connector.id, "lead": result, "received": fields})),
    )
    .await?;
    tx.commit().await?;
    Ok(result)
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::dns::Resolve;

    #[test]
    fn public_addresses_are_told_from_internal_ones() {
        for internal in [
            "127.0.0.1",
            "10.0.0.1",
            "172.16.5.4",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "198.18.0.1",
            "::1",
            "fd00::1",
            "fe80::1",
            "::ffff:10.0.0.1",
            "64:ff9b::a00:1",
        ] {
            assert!(!is_public_address(internal.parse().unwrap()), "{internal}");
        }
        for public in ["93.184.215.14", "8.8.8.8", "2606:4700::1111", "::ffff:8.8.8.8"] {
            assert!(is_public_address(public.parse().unwrap()), "{public}");
        }
    }

    #[tokio::test]
    async fn the_resolver_refuses_names_that_lead_inside() {
        let name: reqwest::dns::Name = "localhost".parse().unwrap();
        let error = PublicOnlyResolver.resolve(name).await.err().expect("localhost has no public address");
        assert!(error.to_string().contains("no public address"), "{error}");
    }
}
