//! The events that start flows and that waiting runs listen for.

/// CRM and marketing events a trigger can listen for.
pub const TRIGGER_EVENTS: &[&str] = &[
    "lead.created",
    "lead.updated",
    "lead.score_crossed",
    "segment.entered",
    "segment.left",
    "form.submitted",
    "deal.stage_changed",
    "invoice.paid",
    "email.replied",
    "email.unsubscribed",
    "webhook.received",
];

/// Events about a run's lead that a `wait` step can wait for.
pub const WAITABLE_EVENTS: &[&str] = &["lead.updated", "email.replied", "email.unsubscribed", "form.submitted", "deal.stage_changed"];
