//! Corral: a lead-to-cash CRM. This crate holds the domain modules; each
//! has its shared types, its operations and REST routes (server only), its
//! server functions and its pages.

#![recursion_limit = "256"]

#[macro_use]
mod macros;

pub mod api_error;
pub mod audience;
pub mod components;
pub mod crm;
pub mod flows;
pub mod marketing;
pub mod platform;
pub mod revenue;

#[cfg(feature = "ssr")]
pub mod error;
#[cfg(feature = "ssr")]
pub mod mcp;

use leptos::prelude::*;
use leptos_meta::{provide_meta_context, MetaTags, Stylesheet, Title};
use leptos_router::components::{Route, Router, Routes};
use leptos_router::path;

use crate::components::Layout;
use crate::crm::companies::pages::{CompaniesPage, CompanyPage, NewCompanyPage};
use crate::crm::contacts::pages::ContactsPage;
use crate::crm::deals::pages::PipelinePage;
use crate::crm::leads::pages::{LeadPage, LeadsPage};
use crate::platform::pages::{AcceptInvitationPage, ApiKeysPage, HomePage, LogInPage, MembersPage, SignUpPage};

/// The formats of the page being rendered: on the server, what the
/// request carries (the signed-in member's workspace); in the browser, what
/// the server wrote into the page's meta tag.
fn page_formats() -> crate::platform::formats::Formats {
    #[cfg(feature = "ssr")]
    {
        crate::platform::server_fns::ssr::page_member().map(|member| member.formats).unwrap_or_default()
    }
    #[cfg(not(feature = "ssr"))]
    {
        document()
            .query_selector("meta[name=corral-formats]")
            .ok()
            .flatten()
            .and_then(|meta| meta.get_attribute("content"))
            .map(|content| crate::platform::formats::Formats::decode(&content))
            .unwrap_or_default()
    }
}

pub fn shell(options: LeptosOptions) -> impl IntoView {
    let formats = page_formats().encode();
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <link rel="icon" href="data:,"/>
                <meta name="corral-formats" content=formats/>
                <AutoReload options=options.clone()/>
                <HydrationScripts options/>
                <MetaTags/>
            </head>
            <body>
                <App/>
            </body>
        </html>
    }
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    provide_context(page_formats());
    view! {
        <Stylesheet id="leptos" href="/pkg/corral.css"/>
        <Title text="Corral"/>
        <Router>
            <Layout>
                <Routes fallback=|| view! { <h1>"Page not found"</h1> }>
                    <Route path=path!("/") view=HomePage/>
                    <Route path=path!("/signup") view=SignUpPage/>
                    <Route path=path!("/login") view=LogInPage/>
                    <Route path=path!("/invite/:token") view=AcceptInvitationPage/>
                    <Route path=path!("/companies") view=CompaniesPage/>
                    <Route path=path!("/companies/new") view=NewCompanyPage/>
                    <Route path=path!("/companies/:id") view=CompanyPage/>
                    <Route path=path!("/leads") view=LeadsPage/>
                    <Route path=path!("/leads/:id") view=LeadPage/>
                    <Route path=path!("/contacts") view=ContactsPage/>
                    <Route path=path!("/contacts/:id") view=crate::crm::contacts::pages::ContactPage/>
                    <Route path=path!("/pipeline") view=PipelinePage/>
                    <Route path=path!("/deals/:id") view=crate::crm::deals::pages::DealPage/>
                    <Route path=path!("/invoices") view=crate::revenue::pages::InvoicesPage/>
                    <Route path=path!("/invoices/:id") view=crate::revenue::pages::InvoicePage/>
                    <Route path=path!("/ledger") view=crate::revenue::pages::LedgerPage/>
                    <Route path=path!("/ledger/accounts/:id") view=crate::revenue::pages::AccountLedgerPage/>
                    <Route path=path!("/receivables") view=crate::revenue::pages::ReceivablesPage/>
                    <Route path=path!("/audience") view=crate::audience::pages::AudiencePage/>
                    <Route path=path!("/segments/new") view=crate::audience::pages::SegmentNewPage/>
                    <Route path=path!("/lists/:id") view=crate::audience::pages::ListPage/>
                    <Route path=path!("/imports") view=crate::audience::pages::ImportsPage/>
                    <Route path=path!("/imports/:id") view=crate::audience::pages::ImportPage/>
                    <Route path=path!("/forms") view=crate::audience::pages::FormsPage/>
                    <Route path=path!("/forms/:id") view=crate::audience::pages::FormPage/>
                    <Route path=path!("/enrichment") view=crate::audience::pages::EnrichmentPage/>
                    <Route path=path!("/search") view=crate::crm::search::SearchPage/>
                    <Route path=path!("/marketing") view=crate::marketing::pages::MarketingPage/>
                    <Route path=path!("/marketing/sequences/:id") view=crate::marketing::pages::SequencePage/>
                    <Route path=path!("/marketing/campaigns") view=crate::marketing::campaign_pages::CampaignsPage/>
                    <Route path=path!("/marketing/campaigns/:id") view=crate::marketing::campaign_pages::CampaignPage/>
                    <Route path=path!("/marketing/rollups") view=crate::marketing::rollup_pages::RollupsPage/>
                    <Route path=path!("/ads") view=crate::marketing::ads::pages::AdsPage/>
                    <Route path=path!("/ads/:id") view=crate::marketing::ads::pages::AdCampaignPage/>
                    <Route path=path!("/blog") view=crate::marketing::blog::pages::BlogPage/>
                    <Route path=path!("/blog/:id") view=crate::marketing::blog::pages::BlogPostPage/>
                    <Route path=path!("/approvals") view=crate::marketing::pages::ApprovalsPage/>
                    <Route path=path!("/approvals/:id") view=crate::marketing::pages::ReviewPage/>
                    <Route path=path!("/mailbox") view=crate::marketing::pages::MailboxPage/>
                    <Route path=path!("/mailbox/:id") view=crate::marketing::pages::MailboxMessagePage/>
                    <Route path=path!("/flows") view=crate::flows::pages::FlowsPage/>
                    <Route path=path!("/flows/templates") view=crate::flows::pages::TemplatesPage/>
                    <Route path=path!("/flows/runs") view=crate::flows::pages::RunsPage/>
                    <Route path=path!("/flows/runs/:id") view=crate::flows::pages::RunPage/>
                    <Route path=path!("/flows/:id") view=crate::flows::pages::WorkflowPage/>
                    <Route path=path!("/dashboard") view=crate::crm::dashboard::DashboardPage/>
                    <Route path=path!("/tasks") view=crate::crm::activities::pages::TasksPage/>
                    <Route path=path!("/settings/stages") view=crate::crm::deals::settings::StagesPage/>
                    <Route path=path!("/settings/custom-fields") view=crate::crm::custom_fields::pages::CustomFieldsPage/>
                    <Route path=path!("/settings/api-keys") view=ApiKeysPage/>
                    <Route path=path!("/settings/members") view=MembersPage/>
                    <Route path=path!("/settings/workspace") view=crate::platform::pages::WorkspaceSettingsPage/>
                </Routes>
            </Layout>
        </Router>
    }
}
