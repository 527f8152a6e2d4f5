//! The sidebar: which pages a signed-in member sees, grouped by module,
//! with the counts that ask for attention (approvals waiting), and where
//! each role lands after logging in. Decided here, so the page frame only
//! draws what it is given.

use serde::{Deserialize, Serialize};

use crate::platform::types::{CurrentUser, Role};

/// One link of the sidebar.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NavItem {
    pub label: String,
    pub href: String,
    /// A number shown beside the link (pending approvals).
    pub badge: Option<i64>,
}

/// A labelled group of links (Sales, Audience, …).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NavGroup {
    pub label: String,
    pub items: Vec<NavItem>,
}

/// Everything the page frame needs about the signed-in member.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Navigation {
    pub user: CurrentUser,
    pub groups: Vec<NavGroup>,
    /// Where this member starts: the approval queue for approvers, the
    /// dashboard for everyone else.
    pub home: String,
    /// How the workspace writes numbers, money and times.
    pub formats: crate::platform::formats::Formats,
}

impl Role {
    /// The first page after logging in.
    pub fn home_path(self) -> &'static str {
        match self {
            Role::Approver => "/approvals",
            _ => "/dashboard",
        }
    }
}

/// The link among `items` that the current `path` belongs to: the longest
/// `href` that is the path or a parent of it (`/flows/runs/…` marks "Runs",
/// not "Workflows"); record pages whose list lives elsewhere (`/deals/…`)
/// mark that list ("Pipeline").
pub fn current_link<'a>(groups: &'a [NavGroup], path: &str) -> Option<&'a str> {
    // Record pages whose list lives under another path.
    let path = match path {
        p if p.starts_with("/deals/") => "/pipeline",
        p if p.starts_with("/contacts/") => "/contacts",
        p if p.starts_with("/lists/") || p.starts_with("/segments/") => "/audience",
        p if p.starts_with("/marketing/sequences/") => "/marketing",
        p if p.starts_with("/ledger/") => "/ledger",
        p => p,
    };
    groups
        .iter()
        .flat_map(|g| g.items.iter())
        .filter(|item| path == item.href || path.starts_with(&format!("{}/", item.href)))
        .max_by_key(|item| item.href.len())
        .map(|item| item.href.as_str())
}

#[cfg(feature = "ssr")]
pub mod ssr {
    use super::*;
    use crate::platform::auth::SignedIn;
    use crate::platform::types::Scope;

    fn item(label: &str, href: &str) -> NavItem {
        NavItem { label: label.into(), href: href.into(), badge: None }
    }

    /// The sidebar of the signed-in member: each role sees the pages it can
    /// use. Approvers read the CRM and revenue, work in marketing and see
    /// the approval queue first; only owners and admins see members and
    /// API keys.
    pub fn navigation(member: &SignedIn) -> Navigation {
        let (ctx, user) = (&member.ctx, member.user.clone());
        let can = |scope: Scope| ctx.require(scope).is_ok();
        let approver = can(Scope::MarketingApprove);
        let pending = approver.then_some(member.pending_approvals);

        let mut groups = Vec::new();
        let approvals = NavItem { badge: pending.filter(|n| *n > 0), ..item("Approvals", "/approvals") };
        if user.role == Role::Approver {
            groups.push(NavGroup { label: "Review".into(), items: vec![approvals.clone()] });
        }
        if can(Scope::CrmRead) {
            groups.push(NavGroup {
                label: "Sales".into(),
                items: vec![
                    item("Dashboard", "/dashboard"),
                    item("Leads", "/leads"),
                    item("Contacts", "/contacts"),
                    item("Companies", "/companies"),
                    item("Pipeline", "/pipeline"),
                    item("Tasks", "/tasks"),
                ],
            });
            let mut audience = vec![item("Lists & segments", "/audience")];
            if can(Scope::CrmWrite) {
                audience.extend([item("Imports", "/imports"), item("Capture forms", "/forms"), item("Enrichment", "/enrichment")]);
            }
            groups.push(NavGroup { label: "Audience".into(), items: audience });
        }
        if can(Scope::MarketingRead) {
            let mut marketing = vec![item("Campaigns", "/marketing/campaigns"), item("Sequences", "/marketing")];
            if user.role != Role::Approver {
                marketing.push(approvals);
            }
            marketing.extend([
                item("Ads", "/ads"),
                item("Blog", "/blog"),
                item("Rollups", "/marketing/rollups"),
                item("Mailbox", "/mailbox"),
            ]);
            groups.push(NavGroup { label: "Marketing".into(), items: marketing });
        }
        if can(Scope::FlowsRead) {
            groups.push(NavGroup {
                label: "Flows".into(),
                items: vec![item("Workflows", "/flows"), item("Templates", "/flows/templates"), item("Runs", "/flows/runs")],
            });
        }
        if can(Scope::RevenueRead) {
            groups.push(NavGroup {
                label: "Revenue".into(),
                items: vec![item("Invoices", "/invoices"), item("Ledger", "/ledger"), item("Receivables", "/receivables")],
            });
        }
        let mut settings = vec![item("Workspace", "/settings/workspace")];
        if can(Scope::CrmWrite) {
            settings.extend([item("Stages", "/settings/stages"), item("Custom fields", "/settings/custom-fields")]);
        }
        if user.role.can_administer() {
            settings.extend([item("Members", "/settings/members"), item("API keys", "/settings/api-keys")]);
        }
        groups.push(NavGroup { label: "Settings".into(), items: settings });

        Navigation { home: user.role.home_path().into(), user, groups, formats: member.formats.clone() }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn group(items: &[&str]) -> Vec<NavGroup> {
        vec![NavGroup {
            label: "g".into(),
            items: items.iter().map(|h| NavItem { label: h.to_string(), href: h.to_string(), badge: None }).collect(),
        }]
    }

    #[test]
    fn the_longest_matching_link_is_current() {
        let groups = group(&["/flows", "/flows/runs", "/marketing", "/marketing/campaigns", "/pipeline", "/ledger"]);
        assert_eq!(current_link(&groups, "/flows/runs/0193"), Some("/flows/runs"));
        assert_eq!(current_link(&groups, "/flows/0193"), Some("/flows"));
        assert_eq!(current_link(&groups, "/marketing/campaigns/1"), Some("/marketing/campaigns"));
        assert_eq!(current_link(&groups, "/marketing/sequences/1"), Some("/marketing"));
        assert_eq!(current_link(&groups, "/deals/1"), Some("/pipeline"));
        assert_eq!(current_link(&groups, "/ledger/accounts/1"), Some("/ledger"));
        assert_eq!(current_link(&groups, "/flowsx"), None);
        assert_eq!(current_link(&groups, "/search"), None);
    }
}
