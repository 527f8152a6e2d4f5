//! Email copy: merge tags (checked when saved, filled per recipient),
//! built-in templates per objective, and drafts from the workspace's
//! OpenAI-compatible chat-completions endpoint.

use std::time::Duration;

use serde_json::{json, Value};
use uuid::Uuid;

use super::types::{CopySource, SequenceStep};
use crate::error::{AppError, AppResult};
use crate::platform::context::Ctx;
use crate::platform::db::Db;
use crate::platform::validate::{no_nul, required_text};

pub const MERGE_TAGS: &[&str] = &["first_name", "last_name", "name", "email", "company_name", "title"];
pub const MAX_STEPS: i64 = 10;
const MAX_SUBJECT: usize = 200;
const MAX_BODY: usize = 20_000;

/// What a recipient's merge tags are filled from.
#[derive(Clone, Debug, Default, sqlx::FromRow)]
pub struct Recipient {
    pub lead_id: Uuid,
    pub name: String,
    pub email: Option<String>,
    pub company_name: Option<String>,
    pub title: Option<String>,
}

impl Recipient {
    fn tag(&self, tag: &str) -> Option<String> {
        let mut words = self.name.split_whitespace();
        let value = match tag {
            "first_name" => words.next().map(str::to_string),
            "last_name" => Some(words.skip(1).collect::<Vec<_>>().join(" ")),
            "name" => Some(self.name.clone()),
            "email" => self.email.clone(),
            "company_name" => self.company_name.clone(),
            "title" => self.title.clone(),
            _ => None,
        };
        value.filter(|v| !v.trim().is_empty())
    }
}

/// One `{{tag|fallback}}` found in a text.
struct Tag<'a> {
    start: usize,
    end: usize,
    name: &'a str,
    fallback: Option<&'a str>,
}

fn tags<'a>(text: &'a str, field: &str) -> AppResult<Vec<Tag<'a>>> {
    let mut found = Vec::new();
    let mut at = 0;
    while let Some(open) = text[at..].find("{{") {
        let start = at + open;
        let Some(close) = text[start..].find("}}") else {
            return Err(AppError::validation(field, format!("{field} has a merge tag that is never closed (\"{{{{\" without \"}}}}\")")));
        };
        let end = start + close + 2;
        let inner = &text[start + 2..end - 2];
        let (name, fallback) = match inner.split_once('|') {
            Some((name, fallback)) => (name.trim(), Some(fallback.trim())),
            None => (inner.trim(), None),
        };
        if !MERGE_TAGS.contains(&name) {
            return Err(AppError::validation(
                field,
                format!("{field} uses the unknown merge tag {{{{{name}}}}}; known tags: {}", MERGE_TAGS.join(", ")),
            ));
        }
        found.push(Tag { start, end, name, fallback });
        at = end;
    }
    Ok(found)
}

/// Checks a sequence's steps: text bounds and merge tags, naming the step.
pub fn check_steps(steps: &[SequenceStep]) -> AppResult<Vec<SequenceStep>> {
    if steps.is_empty() || steps.len() as i64 > MAX_STEPS {
        return Err(AppError::validation("steps", format!("a sequence has 1 to {MAX_STEPS} emails")));
    }
    steps
        .iter()
        .enumerate()
        .map(|(i, step)| {
            let subject_field = format!("steps[{i}].subject");
            let body_field = format!("steps[{i}].body");
            let subject = required_text(&subject_field, &step.subject, MAX_SUBJECT)?;
            let body = required_text(&body_field, &step.body, MAX_BODY)?;
            no_nul(&body_field, &body)?;
            tags(&subject, &subject_field)?;
            tags(&body, &body_field)?;
            Ok(SequenceStep { subject, body })
        })
        .collect()
}

/// Checks the cadence against the number of steps: days from the first
/// send, starting at 0 or later, never going back.
pub fn check_cadence(cadence: &[i64], steps: usize) -> AppResult<()> {
    if cadence.len() != steps {
        return Err(AppError::validation("cadence_days", format!("cadence_days needs one day per email ({steps})")));
    }
    if cadence.iter().any(|d| !(0..=365).contains(d)) {
        return Err(AppError::validation("cadence_days", "each day is between 0 and 365"));
    }
    if cadence.windows(2).any(|w| w[1] < w[0]) {
        return Err(AppError::validation("cadence_days", "cadence_days never go back (e.g. [0, 3, 7])"));
    }
    Ok(())
}

/// Fills the merge tags; `html` escapes the values for an HTML body.
pub fn render(text: &str, recipient: &Recipient, html: bool) -> String {
    let Ok(found) = tags(text, "text") else { return text.to_string() };
    let mut out = String::with_capacity(text.len() + 32);
    let mut at = 0;
    for tag in found {
        out.push_str(&text[at..tag.start]);
        let value = recipient.tag(tag.name).or_else(|| tag.fallback.map(str::to_string)).unwrap_or_default();
        out.push_str(&if html { escape_html(&value) } else { value });
        at = tag.end;
    }
    out.push_str(&text[at..]);
    out
}

pub fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// The default cadence for `n` emails: day 0, 3, 7, then a week apart.
pub fn default_cadence(n: usize) -> Vec<i64> {
    (0..n).map(|i| [0, 3, 7].get(i).copied().unwrap_or(7 * i as i64 - 7)).collect()
}

/// Built-in copy for an objective: an opener, follow-ups that add value,
/// and a polite last note.
pub fn template_steps(objective: &str, n: usize) -> Vec<SequenceStep> {
    let objective = objective.trim().trim_end_matches('.');
    let lower = objective.to_lowercase();
    let ask = if lower.contains("demo") {
        "Would you have 20 minutes this week for a short demo?".to_string()
    } else if lower.contains("webinar") || lower.contains("event") {
        "Can I save you a seat?".to_string()
    } else if lower.contains("trial") || lower.contains("onboard") {
        "Want me to set up a trial workspace for your team?".to_string()
    } else {
        format!("Would it make sense to talk about this ({objective})?")
    };
    let pool = [
        (
            "{{first_name|Hi there}}, a quick idea for {{company_name|your team}}".to_string(),
            format!(
                "<p>Hi {{{{first_name|there}}}},</p><p>I am reaching out because teams like {{{{company_name|yours}}}} \
                 usually want to {objective}.</p><p>{ask}</p>"
            ),
        ),
        (
            "Following up, {{first_name|there}}".to_string(),
            format!("<p>Hi {{{{first_name|there}}}},</p><p>Just bringing this back to the top of your inbox. {ask}</p>"),
        ),
        (
            "How others at {{company_name|companies like yours}} did it".to_string(),
            format!(
                "<p>Hi {{{{first_name|there}}}},</p><p>A team similar to {{{{company_name|yours}}}} went from a first call \
                 to results in a few weeks. Happy to show you how.</p><p>{ask}</p>"
            ),
        ),
        (
            "Should I close your file, {{first_name|there}}?".to_string(),
            "<p>Hi {{first_name|there}},</p><p>I have not heard back, so I will stop here. If the timing is better \
             later, just reply to this email.</p>"
                .to_string(),
        ),
    ];
    (0..n)
        .map(|i| {
            let (subject, body) = if i + 1 == n && n > 1 { &pool[3] } else { &pool[i.min(2)] };
            SequenceStep { subject: subject.clone(), body: body.clone() }
        })
        .collect()
}

/// Drafts the copy of a new sequence: from the workspace's
/// chat-completions endpoint when one is configured (or `ai` is asked
/// for), else from the built-in templates. Runs before the write's
/// transaction: a model can take seconds.
pub async fn draft(
    db: &Db,
    ctx: &Ctx,
    objective: &str,
    n: usize,
    asked: Option<CopySource>,
    allow_private_networks: bool,
) -> AppResult<(CopySource, Vec<SequenceStep>)> {
    let mut tx = db.begin_read().await?;
    let endpoint = super::senders::chat_endpoint(&mut tx, ctx.workspace_id).await?;
    tx.commit().await?;
    match (asked, endpoint) {
        (Some(CopySource::Template), _) | (None, None) => Ok((CopySource::Template, template_steps(objective, n))),
        (Some(CopySource::Edited), _) => Err(AppError::validation("copy", "copy is template or ai")),
        (Some(CopySource::Ai), None) => {
            Err(AppError::validation("copy", "no chat-completions endpoint is configured (PUT /api/v1/marketing/chat-completions)"))
        }
        (_, Some((base_url, model, api_key))) => {
            let steps = chat_completion_steps(&base_url, &model, api_key.as_deref(), objective, n, allow_private_networks).await?;
            Ok((CopySource::Ai, steps))
        }
    }
}

/// One chat-completions request (the OpenAI wire format) asking for a JSON
/// object; answers the object the model wrote.
pub async fn chat_completion_json(
    base_url: &str,
    model: &str,
    api_key: Option<&str>,
    system: &str,
    user: &str,
    allow_private_networks: bool,
) -> AppResult<Value> {
    let url = format!("{base_url}/chat/completions");
    let client = crate::audience::enrichment::outbound_client(&url, Duration::from_secs(60), allow_private_networks).await?;
    let request = json!({
        "model": model,
        "response_format": { "type": "json_object" },
        "messages": [
            { "role": "system", "content": system },
            { "role": "user", "content": user },
        ],
    });
    let mut call = client.post(&url).json(&request);
    if let Some(key) = api_key {
        call = call.bearer_auth(key);
    }
    let response = call.send().await.map_err(|e| AppError::Upstream(format!("the chat-completions endpoint could not be reached: {e}")))?;
    if !response.status().is_success() {
        return Err(AppError::Upstream(format!("the chat-completions endpoint answered {}", response.status())));
    }
    let body: Value =
        response.json().await.map_err(|_| AppError::Upstream("the chat-completions endpoint did not answer with JSON".into()))?;
    let content = body["choices"][0]["message"]["content"]
        .as_str()
        .ok_or_else(|| AppError::Upstream("the chat-completions answer has no choices[0].message.content".into()))?;
    serde_json::from_str(content.trim().trim_start_matches("```json").trim_matches('`'))
        .map_err(|_| AppError::Upstream("the model's answer is not the JSON object asked for".into()))
}

/// Asks the model for a JSON object `{"emails": [{"subject", "body"}]}`.
async fn chat_completion_steps(
    base_url: &str,
    model: &str,
    api_key: Option<&str>,
    objective: &str,
    n: usize,
    allow_private_networks: bool,
) -> AppResult<Vec<SequenceStep>> {
    let system = format!(
        "You write B2B sales email sequences. Answer with a JSON object {{\"emails\": [{{\"subject\": string, \"body\": string}}]}} \
         holding exactly {n} emails. Bodies are short HTML paragraphs. Use only these merge tags, with a fallback: \
         {{{{first_name|there}}}}, {{{{company_name|your team}}}}, {{{{title}}}}, {{{{last_name}}}}, {{{{name}}}}, {{{{email}}}}. \
         Do not add a signature, footer or unsubscribe link."
    );
    let user = format!("Objective: {objective}. Write {n} emails, each following up on the last.");
    let parsed = chat_completion_json(base_url, model, api_key, &system, &user, allow_private_networks).await?;
    let emails = parsed["emails"].as_array().ok_or_else(|| AppError::Upstream("the model's answer has no emails array".into()))?;
    let steps: Vec<SequenceStep> = emails
        .iter()
        .take(n)
        .map(|e| SequenceStep {
            subject: e["subject"].as_str().unwrap_or_default().to_string(),
            body: e["body"].as_str().unwrap_or_default().to_string(),
        })
        .collect();
    if steps.len() != n {
        return Err(AppError::Upstream(format!("the model wrote {} emails, {n} were asked for", steps.len())));
    }
    check_steps(&steps).map_err(|e| AppError::Upstream(format!("the model's copy was refused: {}", e.public_message())))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jane() -> Recipient {
        Recipient { lead_id: Uuid::nil(), name: "Jane Q Doe".into(), email: Some("jane@acme.test".into()), company_name: None, title: None }
    }

    #[test]
    fn merge_tags_fill_with_values_or_fallbacks_and_escape_html() {
        let r = Recipient { company_name: Some("A&B <Ltd>".into()), ..jane() };
        assert_eq!(render("Hi {{first_name}} {{ last_name }} at {{company_name|you}}", &r, false), "Hi Jane Q Doe at A&B <Ltd>");
        assert_eq!(render("{{company_name}}", &r, true), "A&amp;B &lt;Ltd&gt;");
        assert_eq!(render("{{title|friend}}, {{company_name}}", &jane(), false), "friend, ");
    }

    #[test]
    fn unknown_and_unclosed_tags_are_refused_naming_the_step() {
        let bad = vec![
            SequenceStep { subject: "ok".into(), body: "x".into() },
            SequenceStep { subject: "{{nickname}}".into(), body: "x".into() },
        ];
        let error = check_steps(&bad).unwrap_err();
        assert!(format!("{error:?}").contains("steps[1].subject"), "{error:?}");
        let unclosed = vec![SequenceStep { subject: "a".into(), body: "Hi {{first_name".into() }];
        assert!(check_steps(&unclosed).is_err());
    }

    #[test]
    fn templates_pass_their_own_checks() {
        for n in 1..=10 {
            let steps = template_steps("book a demo", n);
            assert_eq!(check_steps(&steps).unwrap().len(), n);
            check_cadence(&default_cadence(n), n).unwrap();
        }
    }
}
