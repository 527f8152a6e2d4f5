//! Creative variants: each platform's text limits, built-in templates,
//! drafts from the workspace's chat-completions endpoint, and previews as
//! each platform would show them.

use serde_json::Value;

use super::types::*;
use crate::error::{AppError, AppResult};
use crate::marketing::types::{Brand, CopySource};
use crate::platform::context::Ctx;
use crate::platform::db::Db;

pub const MAX_CREATIVES: usize = 5;

/// Text limits, in characters, past which a platform refuses the ad or
/// cuts it off: Google responsive search ads (headline 30, description 90),
/// LinkedIn sponsored content (headline 70 and introductory text 150 before
/// they are truncated), Meta (headline 40, primary text 125 before "See more").
pub fn limits(platform: Platform) -> CreativeLimits {
    match platform {
        Platform::Google => CreativeLimits { headline: 30, description: 90 },
        Platform::Linkedin => CreativeLimits { headline: 70, description: 150 },
        Platform::Meta => CreativeLimits { headline: 40, description: 125 },
    }
}

/// The button's label on a platform.
pub fn call_to_action_label(platform: Platform, cta: CallToAction) -> &'static str {
    match (platform, cta) {
        (_, CallToAction::LearnMore) => "Learn more",
        (_, CallToAction::SignUp) => "Sign up",
        (Platform::Meta, CallToAction::RequestDemo) => "Book now",
        (_, CallToAction::RequestDemo) => "Request demo",
        (_, CallToAction::GetQuote) => "Get quote",
        (_, CallToAction::ContactUs) => "Contact us",
        (_, CallToAction::Download) => "Download",
        (_, CallToAction::Register) => "Register",
        (_, CallToAction::Subscribe) => "Subscribe",
        (Platform::Linkedin, CallToAction::ApplyNow) => "Apply",
        (_, CallToAction::ApplyNow) => "Apply now",
    }
}

/// The platform's own name for a call to action, as its API takes it.
pub fn call_to_action_code(platform: Platform, cta: CallToAction) -> &'static str {
    match (platform, cta) {
        (Platform::Linkedin, CallToAction::ApplyNow) => "APPLY",
        (Platform::Meta, CallToAction::RequestDemo) => "BOOK_NOW",
        (_, CallToAction::LearnMore) => "LEARN_MORE",
        (_, CallToAction::SignUp) => "SIGN_UP",
        (_, CallToAction::RequestDemo) => "REQUEST_DEMO",
        (_, CallToAction::GetQuote) => "GET_QUOTE",
        (_, CallToAction::ContactUs) => "CONTACT_US",
        (_, CallToAction::Download) => "DOWNLOAD",
        (_, CallToAction::Register) => "REGISTER",
        (_, CallToAction::Subscribe) => "SUBSCRIBE",
        (_, CallToAction::ApplyNow) => "APPLY_NOW",
    }
}

fn check_url(field: &str, url: &str) -> AppResult<String> {
    let url = url.trim();
    let parsed = reqwest::Url::parse(url).map_err(|_| AppError::validation(field, "must be an absolute https URL"))?;
    if parsed.scheme() != "https" || parsed.host_str().is_none() {
        return Err(AppError::validation(field, "must be an absolute https URL"));
    }
    if url.len() > 2048 {
        return Err(AppError::validation(field, "must be at most 2,048 characters"));
    }
    Ok(url.to_string())
}

/// Checks variants against the platform's limits; every problem names its
/// field (`creatives[1].headline`).
pub fn check(platform: Platform, creatives: &[AdCreative]) -> AppResult<Vec<AdCreative>> {
    if creatives.is_empty() {
        return Err(AppError::validation("creatives", "an ad campaign needs at least one creative variant"));
    }
    if creatives.len() > MAX_CREATIVES {
        return Err(AppError::validation("creatives", format!("at most {MAX_CREATIVES} variants")));
    }
    let limit = limits(platform);
    let mut out = Vec::with_capacity(creatives.len());
    for (i, c) in creatives.iter().enumerate() {
        let field = |name: &str| format!("creatives[{i}].{name}");
        let headline = c.headline.trim().to_string();
        let description = c.description.trim().to_string();
        for (name, text, max) in [("headline", &headline, limit.headline), ("description", &description, limit.description)] {
            let n = text.chars().count();
            if n == 0 {
                return Err(AppError::validation(field(name), format!("the {name} is empty")));
            }
            if n > max {
                return Err(AppError::validation(field(name), format!("the {name} is {n} characters; {} allows {max}", platform.label())));
            }
            if text.chars().any(|ch| ch.is_control()) {
                return Err(AppError::validation(field(name), "control characters are not allowed"));
            }
        }
        let final_url = check_url(&field("final_url"), &c.final_url)?;
        let image_url = match c.image_url.as_deref().map(str::trim).filter(|u| !u.is_empty()) {
            Some(u) => Some(check_url(&field("image_url"), u)?),
            None => None,
        };
        out.push(AdCreative { headline, description, call_to_action: c.call_to_action, final_url, image_url });
    }
    Ok(out)
}

fn cut(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let mut out: String = text.chars().take(max.saturating_sub(1)).collect();
    while out.ends_with(' ') {
        out.pop();
    }
    out.push('…');
    out
}

/// Built-in variants for an objective, fitted to the platform's limits.
pub fn templates(platform: Platform, objective: AdObjective, brand: &Brand, final_url: &str, n: usize) -> Vec<AdCreative> {
    let name = brand.name.as_str();
    let pool: [(String, String, CallToAction); 3] = match objective {
        AdObjective::Leads => [
            (
                format!("See {name} in action"),
                format!("Book a 20-minute demo and see how {name} fits your team."),
                CallToAction::RequestDemo,
            ),
            ("Talk to an expert".into(), format!("Tell us what you need; {name} answers within a day."), CallToAction::ContactUs),
            (format!("Try {name} free"), "Set up in minutes. No credit card, cancel any time.".into(), CallToAction::SignUp),
        ],
        AdObjective::Traffic => [
            (format!("Discover {name}"), format!("Read how teams use {name} to do more with less."), CallToAction::LearnMore),
            ("Our latest guide".into(), format!("Practical ideas from the {name} team, free to read."), CallToAction::LearnMore),
            (format!("What's new at {name}"), "See what we shipped this month.".into(), CallToAction::LearnMore),
        ],
        AdObjective::Awareness => [
            (format!("Meet {name}"), format!("{name}: built for teams who sell."), CallToAction::LearnMore),
            (format!("{name}, made simple"), "Everything your team needs, in one place.".into(), CallToAction::LearnMore),
            (format!("Why teams pick {name}"), "Fast, clear and easy to start.".into(), CallToAction::Subscribe),
        ],
    };
    let limit = limits(platform);
    pool.iter()
        .cycle()
        .take(n.clamp(1, MAX_CREATIVES))
        .map(|(headline, description, cta)| AdCreative {
            headline: cut(headline, limit.headline),
            description: cut(description, limit.description),
            call_to_action: *cta,
            final_url: final_url.to_string(),
            image_url: None,
        })
        .collect()
}

/// Drafts variants: from the chat-completions endpoint when asked (`ai`),
/// else from templates. Runs before any transaction: a model can take
/// seconds. The model's variants pass the same checks as a person's.
#[allow(clippy::too_many_arguments)]
pub async fn draft(
    db: &Db,
    ctx: &Ctx,
    platform: Platform,
    objective: AdObjective,
    brand: &Brand,
    final_url: &str,
    n: usize,
    asked: Option<CopySource>,
    allow_private_networks: bool,
) -> AppResult<(CopySource, Vec<AdCreative>)> {
    let final_url = check_url("final_url", final_url)?;
    match asked.unwrap_or(CopySource::Template) {
        CopySource::Template => Ok((CopySource::Template, templates(platform, objective, brand, &final_url, n))),
        CopySource::Edited => Err(AppError::validation("copy_source", "copy_source is template or ai")),
        CopySource::Ai => {
            let mut tx = db.begin_read().await?;
            let endpoint = crate::marketing::senders::chat_endpoint(&mut tx, ctx.workspace_id).await?;
            tx.commit().await?;
            let Some((base_url, model, api_key)) = endpoint else {
                return Err(AppError::validation(
                    "copy_source",
                    "no chat-completions endpoint is configured (PUT /api/v1/marketing/chat-completions)",
                ));
            };
            let limit = limits(platform);
            let ctas: Vec<&str> = CallToAction::ALL.iter().map(|c| c.as_str()).collect();
            let system = format!(
                "You write {} ad copy. Answer with a JSON object {{\"variants\": [{{\"headline\": string, \"description\": string, \
                 \"call_to_action\": string}}]}} holding exactly {n} variants. Headlines are at most {} characters, descriptions at \
                 most {} characters. call_to_action is one of: {}.",
                platform.label(),
                limit.headline,
                limit.description,
                ctas.join(", ")
            );
            let user = format!("Brand: {}. Objective: {}. Landing page: {final_url}.", brand.name, objective.as_str());
            let answer =
                crate::marketing::copy::chat_completion_json(&base_url, &model, api_key.as_deref(), &system, &user, allow_private_networks)
                    .await?;
            let variants =
                answer["variants"].as_array().ok_or_else(|| AppError::Upstream("the model's answer has no variants array".into()))?;
            let creatives: Vec<AdCreative> = variants
                .iter()
                .take(n)
                .map(|v: &Value| AdCreative {
                    headline: v["headline"].as_str().unwrap_or_default().to_string(),
                    description: v["description"].as_str().unwrap_or_default().to_string(),
                    call_to_action: v["call_to_action"].as_str().and_then(CallToAction::parse).unwrap_or(CallToAction::LearnMore),
                    final_url: final_url.clone(),
                    image_url: None,
                })
                .collect();
            let creatives = check(platform, &creatives).map_err(|e| {
                let why = match &e {
                    AppError::Validation { field: Some(field), message } => format!("{field}: {message}"),
                    other => other.public_message(),
                };
                AppError::Upstream(format!("the model's variants were refused: {why}"))
            })?;
            Ok((CopySource::Ai, creatives))
        }
    }
}

/// The variants as the platform would show them.
pub fn previews(platform: Platform, brand: &Brand, creatives: &[AdCreative]) -> Vec<CreativePreview> {
    let limit = limits(platform);
    creatives
        .iter()
        .map(|c| CreativePreview {
            platform,
            headline: cut(&c.headline, limit.headline),
            description: cut(&c.description, limit.description),
            call_to_action_label: call_to_action_label(platform, c.call_to_action).to_string(),
            display_url: reqwest::Url::parse(&c.final_url).ok().and_then(|u| u.host_str().map(str::to_string)).unwrap_or_default(),
            final_url: c.final_url.clone(),
            image_url: c.image_url.clone(),
            advertiser: brand.name.clone(),
            limits: limit.clone(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn creative(headline: &str) -> AdCreative {
        AdCreative {
            headline: headline.into(),
            description: "A description".into(),
            call_to_action: CallToAction::LearnMore,
            final_url: "https://example.test/landing".into(),
            image_url: None,
        }
    }

    #[test]
    fn limits_differ_by_platform_and_name_the_variant() {
        let thirty_five = "x".repeat(35);
        let error = check(Platform::Google, &[creative("ok"), creative(&thirty_five)]).unwrap_err();
        let text = format!("{error:?}");
        assert!(text.contains("creatives[1].headline") && text.contains("35 characters") && text.contains("30"), "{text}");
        assert!(check(Platform::Meta, &[creative(&thirty_five)]).is_ok());
        assert!(check(Platform::Linkedin, &[creative(&"y".repeat(71))]).is_err());
        let mut http = creative("ok");
        http.final_url = "http://example.test".into();
        assert!(format!("{:?}", check(Platform::Meta, &[http]).unwrap_err()).contains("creatives[0].final_url"));
    }

    #[test]
    fn templates_pass_every_platforms_checks() {
        let brand = Brand {
            id: uuid::Uuid::nil(),
            workspace_id: uuid::Uuid::nil(),
            name: "Northstar Analytics Platform".into(),
            from_name: "N".into(),
            from_email: "n@example.test".into(),
            reply_to: None,
            footer: "f".into(),
            source: "api".into(),
            last_agent_actor_id: None,
            created_at: chrono::Utc::now(),
            updated_at: chrono::Utc::now(),
        };
        for platform in Platform::ALL {
            for objective in AdObjective::ALL {
                let made = templates(*platform, *objective, &brand, "https://example.test", 5);
                assert_eq!(check(*platform, &made).unwrap().len(), 5, "{platform:?} {objective:?}");
            }
        }
    }
}
