//! Onboarding: the first steps of a new workspace, and sample data to see
//! the product with — companies, contacts, leads from several sources,
//! deals across the stages, invoices and payments in the books, a segment
//! and a sequence waiting for approval. Every sample record is written by
//! its domain's own operation (validated and audited like any other) and
//! remembered in `sample_records`, so one step removes exactly those.

use serde::{Deserialize, Serialize};

/// What the sample data holds, by kind of record.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct SampleDataSummary {
    pub companies: i64,
    pub contacts: i64,
    pub leads: i64,
    pub deals: i64,
    pub activities: i64,
    pub tasks: i64,
    pub invoices: i64,
    pub payments: i64,
    pub segments: i64,
    pub campaigns: i64,
    pub sequences: i64,
}

/// One first step of a new workspace.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct OnboardingStep {
    pub key: String,
    pub label: String,
    pub hint: String,
    pub href: String,
    pub done: bool,
}

/// The onboarding panel of the dashboard.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct Onboarding {
    /// No company, contact, lead or deal yet.
    pub empty: bool,
    pub sample_data_loaded: bool,
    /// Owners and admins load and remove sample data.
    pub can_manage_sample_data: bool,
    pub steps: Vec<OnboardingStep>,
}

#[cfg(feature = "ssr")]
pub mod ssr {
    use chrono::{Duration, Utc};
    use serde::de::DeserializeOwned;
    use serde_json::{json, Value};
    use uuid::Uuid;

    use super::*;
    use crate::error::{AppError, AppResult};
    use crate::platform::audit;
    use crate::platform::context::Ctx;
    use crate::platform::db::{now, Tx, Q};

    /// Builds an operation's input the way a client would send it.
    fn input<T: DeserializeOwned>(value: Value) -> AppResult<T> {
        serde_json::from_value(value).map_err(|e| AppError::Internal(format!("sample data input: {e}")))
    }

    async fn remember(tx: &mut Tx, ctx: &Ctx, record_type: &str, id: Uuid) -> AppResult<()> {
        tx.execute(
            Q::new("INSERT INTO sample_records (workspace_id, record_type, record_id, created_at) VALUES ($1, $2, $3, $4)")
                .bind(ctx.workspace_id)
                .bind(record_type)
                .bind(id)
                .bind(now()),
        )
        .await?;
        Ok(())
    }

    async fn count_sample(tx: &mut Tx, ctx: &Ctx) -> AppResult<i64> {
        let (n,): (i64,) =
            tx.fetch_one(Q::new("SELECT COUNT(*) FROM sample_records WHERE workspace_id = $1").bind(ctx.workspace_id)).await?;
        Ok(n)
    }

    async fn exists(tx: &mut Tx, sql: &str, ctx: &Ctx) -> AppResult<bool> {
        let (n,): (i64,) = tx.fetch_one(Q::new(format!("SELECT COUNT(*) FROM ({sql} LIMIT 1) AS x")).bind(ctx.workspace_id)).await?;
        Ok(n > 0)
    }

    /// The dashboard's onboarding panel: whether the workspace is empty,
    /// whether sample data is in it, and the first steps with what is done.
    pub async fn onboarding(tx: &mut Tx, ctx: &Ctx) -> AppResult<Onboarding> {
        ctx.require(crate::platform::types::Scope::CrmRead)?;
        // One read, as the dashboard shows this panel on every visit.
        let (anything, sample_data_loaded, imported, keyed, agent): (bool, bool, bool, bool, bool) = tx
            .fetch_one(
                Q::new(
                    "SELECT \
                     EXISTS (SELECT 1 FROM companies WHERE workspace_id = $1) \
                       OR EXISTS (SELECT 1 FROM contacts WHERE workspace_id = $1) \
                       OR EXISTS (SELECT 1 FROM leads WHERE workspace_id = $1) \
                       OR EXISTS (SELECT 1 FROM deals WHERE workspace_id = $1), \
                     EXISTS (SELECT 1 FROM sample_records WHERE workspace_id = $1), \
                     EXISTS (SELECT 1 FROM imports WHERE workspace_id = $1), \
                     EXISTS (SELECT 1 FROM api_keys WHERE workspace_id = $1 AND revoked_at IS NULL), \
                     EXISTS (SELECT 1 FROM api_keys WHERE workspace_id = $1 AND last_used_at IS NOT NULL)",
                )
                .bind(ctx.workspace_id),
            )
            .await?;
        let empty = !anything;
        let step = |key: &str, label: &str, hint: &str, href: &str, done: bool| OnboardingStep {
            key: key.into(),
            label: label.into(),
            hint: hint.into(),
            href: href.into(),
            done,
        };
        Ok(Onboarding {
            empty,
            sample_data_loaded,
            can_manage_sample_data: ctx.require_admin().is_ok(),
            steps: vec![
                step("import_leads", "Import your leads", "A CSV or JSON file; duplicates merge by email.", "/imports", imported),
                step(
                    "create_api_key",
                    "Create an API key",
                    "For scripts and agents, with only the scopes they need.",
                    "/settings/api-keys",
                    keyed,
                ),
                step(
                    "connect_agent",
                    "Connect an agent",
                    "Point an MCP client at /mcp with the key as a bearer token.",
                    "/settings/api-keys",
                    agent,
                ),
            ],
        })
    }

    struct Company {
        name: &'static str,
        domain: &'static str,
        industry: &'static str,
        employees: i64,
        country: &'static str,
        city: &'static str,
    }

    const COMPANIES: &[Company] = &[
        Company {
            name: "Northwind Traders",
            domain: "northwind.example",
            industry: "Wholesale",
            employees: 240,
            country: "US",
            city: "Seattle",
        },
        Company {
            name: "Globex Corporation",
            domain: "globex.example",
            industry: "Manufacturing",
            employees: 1800,
            country: "US",
            city: "Chicago",
        },
        Company { name: "Initech", domain: "initech.example", industry: "Software", employees: 95, country: "US", city: "Austin" },
        Company {
            name: "Umbrella Health",
            domain: "umbrella.example",
            industry: "Healthcare",
            employees: 620,
            country: "GB",
            city: "London",
        },
        Company { name: "Stark Logistics", domain: "stark.example", industry: "Logistics", employees: 410, country: "DE", city: "Hamburg" },
        Company {
            name: "Wayne Foods",
            domain: "waynefoods.example",
            industry: "Food & beverage",
            employees: 150,
            country: "US",
            city: "Denver",
        },
        Company { name: "Acme Robotics", domain: "acme.example", industry: "Robotics", employees: 75, country: "FR", city: "Lyon" },
        Company { name: "Soylent Labs", domain: "soylent.example", industry: "Biotech", employees: 40, country: "NL", city: "Utrecht" },
    ];

    /// name, title, company index
    const CONTACTS: &[(&str, &str, usize)] = &[
        ("Nancy Davolio", "Head of Purchasing", 0),
        ("Andrew Fuller", "VP Sales", 0),
        ("Hank Scorpio", "CEO", 1),
        ("Mindy Simmons", "Operations Director", 1),
        ("Bill Lumbergh", "Division VP", 2),
        ("Joanna Park", "IT Manager", 2),
        ("Alice Abernathy", "Chief Medical Officer", 3),
        ("Pepper Potts", "COO", 4),
        ("Happy Hogan", "Fleet Manager", 4),
        ("Lucius Fox", "CFO", 5),
        ("Wile Coyote", "Head of R&D", 6),
        ("Sol Roth", "Founder", 7),
    ];

    /// name, company, title, source, status, score, tags
    type SampleLead = (&'static str, &'static str, &'static str, &'static str, &'static str, i64, &'static [&'static str]);
    const LEADS: &[SampleLead] = &[
        ("Maria Anders", "Alfreds Futterkiste", "Owner", "website", "new", 82, &["webinar"]),
        ("Thomas Hardy", "Around the Horn", "Sales Rep", "referral", "working", 64, &[]),
        ("Christina Berglund", "Berglunds Snabbköp", "Order Administrator", "campaign", "qualified", 91, &["spring-launch"]),
        ("Hanna Moos", "Blauer See Delikatessen", "Sales Rep", "import", "new", 35, &["trade-show"]),
        ("Frédérique Citeaux", "Blondel père et fils", "Marketing Manager", "website", "working", 72, &["webinar"]),
        ("Martín Sommer", "Bólido Comidas", "Owner", "api", "new", 18, &[]),
        ("Laurence Lebihan", "Bon app'", "Owner", "campaign", "qualified", 88, &["spring-launch"]),
        ("Elizabeth Lincoln", "Bottom-Dollar Markets", "Accounting Manager", "import", "disqualified", 12, &["trade-show"]),
        ("Victoria Ashworth", "B's Beverages", "Sales Representative", "referral", "working", 57, &[]),
        ("Patricio Simpson", "Cactus Comidas", "Sales Agent", "website", "new", 44, &[]),
        ("Francisco Chang", "Centro comercial Moctezuma", "Marketing Manager", "manual", "working", 69, &[]),
        ("Yang Wang", "Chop-suey Chinese", "Owner", "website", "qualified", 95, &["webinar", "enterprise"]),
        ("Pedro Afonso", "Comércio Mineiro", "Sales Associate", "import", "new", 27, &["trade-show"]),
        ("Elizabeth Brown", "Consolidated Holdings", "Sales Representative", "campaign", "working", 76, &["spring-launch"]),
        ("Sven Ottlieb", "Drachenblut Delikatessen", "Order Administrator", "api", "new", 38, &[]),
        ("Janine Labrune", "Du monde entier", "Owner", "referral", "qualified", 84, &["enterprise"]),
        ("Ann Devon", "Eastern Connection", "Sales Agent", "website", "new", 51, &[]),
        ("Roland Mendel", "Ernst Handel", "Sales Manager", "import", "working", 66, &["trade-show"]),
        ("Aria Cruz", "Familia Arquibaldo", "Marketing Assistant", "campaign", "new", 22, &["spring-launch"]),
        ("Diego Roel", "FISSA Fabrica", "Accounting Manager", "manual", "disqualified", 9, &[]),
        ("Martine Rancé", "Folies gourmandes", "Assistant Sales Agent", "website", "working", 61, &["webinar"]),
        ("Maria Larsson", "Folk och fä HB", "Owner", "referral", "qualified", 87, &[]),
        ("Peter Franken", "Frankenversand", "Marketing Manager", "api", "new", 47, &[]),
        ("Carine Schmitt", "France restauration", "Marketing Manager", "campaign", "working", 73, &["spring-launch"]),
        ("Paolo Accorti", "Franchi S.p.A.", "Sales Representative", "import", "new", 31, &["trade-show"]),
        ("Lino Rodriguez", "Furia Bacalhau", "Sales Manager", "website", "new", 58, &[]),
        ("Eduardo Saavedra", "Galería del gastrónomo", "Marketing Manager", "referral", "working", 79, &["enterprise"]),
        ("José Pedro Freyre", "Godos Cocina Típica", "Sales Manager", "website", "qualified", 90, &["webinar"]),
    ];

    /// name, stage key, amount in cents, company index, contact index, days to close
    const DEALS: &[(&str, &str, i64, usize, usize, i64)] = &[
        ("Northwind annual supply", "new", 1_850_000, 0, 0, 45),
        ("Globex plant rollout", "new", 6_825_900, 1, 2, 60),
        ("Initech seat expansion", "qualified", 960_000, 2, 4, 30),
        ("Umbrella clinics pilot", "qualified", 2_400_000, 3, 6, 40),
        ("Stark fleet tracking", "qualified", 3_150_000, 4, 8, 35),
        ("Wayne Foods loyalty", "proposal", 1_275_000, 5, 9, 21),
        ("Acme warehouse bots", "proposal", 4_480_000, 6, 10, 18),
        ("Soylent lab CRM", "proposal", 580_000, 7, 11, 25),
        ("Globex support renewal", "negotiation", 2_200_000, 1, 3, 10),
        ("Northwind EU expansion", "negotiation", 3_900_000, 0, 1, 7),
        ("Initech onboarding", "won", 1_200_000, 2, 5, -20),
        ("Stark analytics add-on", "won", 1_640_000, 4, 7, -45),
        ("Umbrella data migration", "won", 890_000, 3, 6, -70),
        ("Wayne Foods POS", "lost", 2_750_000, 5, 9, -15),
    ];

    /// Loads the sample set into the workspace (owners and admins, once).
    pub async fn load(tx: &mut Tx, ctx: &Ctx) -> AppResult<SampleDataSummary> {
        use crate::audience::lists;
        use crate::crm::activities::ops as activities;
        use crate::crm::{companies::ops as companies, contacts::ops as contacts, deals::ops as deals, leads::ops as leads};
        use crate::marketing::{campaigns, copy, senders, sequences};
        use crate::revenue::invoices;

        ctx.require_admin()?;
        if count_sample(tx, ctx).await? > 0 {
            return Err(AppError::Conflict {
                code: "sample_data_loaded",
                message: "sample data is already in this workspace; remove it first to load it again".into(),
            });
        }
        let mut summary = SampleDataSummary::default();
        let today = Utc::now().date_naive();
        let days_ago = |days: i64| today - Duration::days(days);

        let mut company_ids = Vec::new();
        for c in COMPANIES {
            let company = companies::create(
                tx,
                ctx,
                input(json!({"name": c.name, "domain": c.domain, "website": format!("https://www.{}", c.domain), "industry": c.industry,
                             "employee_count": c.employees, "country": c.country, "city": c.city, "status": "prospect"}))?,
            )
            .await?;
            remember(tx, ctx, "company", company.id).await?;
            company_ids.push(company.id);
            summary.companies += 1;
        }

        let mut contact_ids = Vec::new();
        for (name, title, company) in CONTACTS {
            let first = name.split(' ').next().unwrap_or(name).to_lowercase();
            let email = format!("{first}@{}", COMPANIES[*company].domain);
            let contact = contacts::create(
                tx,
                ctx,
                input(json!({"name": name, "title": title, "email": email, "company_id": company_ids[*company],
                             "phone": format!("+1 206 555 01{:02}", contact_ids.len())}))?,
            )
            .await?;
            remember(tx, ctx, "contact", contact.id).await?;
            contact_ids.push(contact.id);
            summary.contacts += 1;
        }

        let mut lead_ids = Vec::new();
        for (i, (name, company, title, source, status, score, tags)) in LEADS.iter().enumerate() {
            let local: String = name
                .to_lowercase()
                .chars()
                .map(|c| match c {
                    'á' | 'à' | 'â' | 'ä' => 'a',
                    'é' | 'è' | 'ê' | 'ë' => 'e',
                    'í' | 'ì' | 'î' => 'i',
                    'ó' | 'ò' | 'ô' | 'ö' => 'o',
                    'ú' | 'ù' | 'ü' => 'u',
                    'ç' => 'c',
                    ' ' | '\'' => '.',
                    other => other,
                })
                .filter(|c| c.is_ascii_alphanumeric() || *c == '.')
                .collect();
            let lead = leads::create(
                tx,
                ctx,
                input(json!({"name": name, "company_name": company, "title": title, "source": source, "status": status,
                             "score": score, "tags": tags, "email": format!("{local}@leads.example")}))?,
            )
            .await?;
            // Spread over the last twelve weeks, so the weekly chart has shape.
            let created = Utc::now() - Duration::days((i as i64 * 3) % 84);
            tx.execute(
                Q::new("UPDATE leads SET created_at = $1 WHERE workspace_id = $2 AND id = $3")
                    .bind(created)
                    .bind(ctx.workspace_id)
                    .bind(lead.id),
            )
            .await?;
            remember(tx, ctx, "lead", lead.id).await?;
            lead_ids.push(lead.id);
            summary.leads += 1;
        }

        let mut deal_ids = Vec::new();
        for (name, stage, amount, company, contact, close_in) in DEALS {
            let deal = deals::create(
                tx,
                ctx,
                input(json!({"name": name, "stage_key": stage, "amount_cents": amount, "currency": "USD",
                             "company_id": company_ids[*company], "contact_id": contact_ids[*contact],
                             "expected_close_date": (today + Duration::days(*close_in)).to_string(), "owner_id": ctx.user_id}))?,
            )
            .await?;
            remember(tx, ctx, "deal", deal.id).await?;
            deal_ids.push((deal.id, *stage, *amount, *company, *contact));
            summary.deals += 1;
        }

        for (i, (deal_id, _, _, _, contact)) in deal_ids.iter().enumerate().take(8) {
            let (kind, subject, body) = match i % 3 {
                0 => ("call", "Discovery call", "Walked through their current process; they want a pilot by next quarter."),
                1 => ("meeting", "Demo with the team", "Showed the pipeline and invoicing; asked for a security questionnaire."),
                _ => ("email", "Sent the proposal", "Proposal and price sheet attached; follow up on Thursday."),
            };
            let activity = activities::create_activity(
                tx,
                ctx,
                input(json!({"kind": kind, "subject": subject, "body": body, "deal_id": deal_id, "contact_id": contact_ids[*contact],
                             "occurred_at": (Utc::now() - Duration::days(i as i64 + 1)).to_rfc3339()}))?,
            )
            .await?;
            remember(tx, ctx, "activity", activity.id).await?;
            summary.activities += 1;
        }
        for (title, due_in, deal) in
            [("Send the security questionnaire", 1_i64, 3_usize), ("Confirm pilot scope", -2, 5), ("Chase the signed order form", 3, 9)]
        {
            let task = activities::create_task(
                tx,
                ctx,
                input(json!({"title": title, "due_at": (Utc::now() + Duration::days(due_in)).to_rfc3339(),
                             "assignee_id": ctx.user_id, "deal_id": deal_ids[deal].0}))?,
            )
            .await?;
            remember(tx, ctx, "task", task.id).await?;
            summary.tasks += 1;
        }

        // Won deals are invoiced (issued 75, 40 and 20 days ago, due in 30
        // days) and partly paid, so receivables have every age; one more
        // invoice stays a draft.
        let won: Vec<_> = deal_ids.iter().filter(|d| d.1 == "won").cloned().collect();
        let issued: [i64; 3] = [75, 40, 20];
        let paid: [Option<i64>; 3] = [Some(100), Some(50), None];
        for (k, (deal_id, _, amount, company, contact)) in won.iter().enumerate() {
            let issue = days_ago(issued[k % 3]);
            let invoice = invoices::create(
                tx,
                ctx,
                input(json!({"company_id": company_ids[*company], "contact_id": contact_ids[*contact], "deal_id": deal_id,
                             "issue_date": issue.to_string(), "due_date": (issue + Duration::days(30)).to_string(),
                             "notes": "Thank you for your business.",
                             "lines": [{"kind": "service", "description": "Annual subscription", "quantity": 1, "unit_amount_cents": amount}]}))?,
            )
            .await?;
            remember(tx, ctx, "invoice", invoice.id).await?;
            summary.invoices += 1;
            let sent = invoices::send(tx, ctx, invoice.id).await?;
            if let Some(percent) = paid[k % 3] {
                let payment = invoices::record_payment(
                    tx,
                    ctx,
                    input(json!({"invoice_id": invoice.id, "amount_cents": sent.total_cents * percent / 100, "provider": "bank",
                                 "reference": format!("SAMPLE-{}", k + 1),
                                 "paid_at": (issue + Duration::days(12)).and_hms_opt(10, 0, 0).map(|t| t.and_utc().to_rfc3339())}))?,
                )
                .await?;
                remember(tx, ctx, "payment", payment.id).await?;
                summary.payments += 1;
            }
        }
        let draft = invoices::create(
            tx,
            ctx,
            input(json!({"company_id": company_ids[6], "issue_date": today.to_string(), "due_date": (today + Duration::days(30)).to_string(),
                         "lines": [{"kind": "product", "description": "Warehouse robot, model W2", "quantity": 2, "unit_amount_cents": 1_250_000},
                                   {"kind": "service", "description": "Installation, hours", "quantity": 16, "unit_amount_cents": 12_000}]}))?,
        )
        .await?;
        remember(tx, ctx, "invoice", draft.id).await?;
        summary.invoices += 1;
        // The postings of the sample invoices and payments are sample data
        // too: the books lose them with the rest.
        tx.execute(
            Q::new(format!(
                "INSERT INTO sample_records (workspace_id, record_type, record_id, created_at) \
                 SELECT workspace_id, 'journal_entry', id, $2 FROM journal_entries \
                 WHERE workspace_id = $1 AND (invoice_id IN {} OR payment_id IN {})",
                sample("invoice"),
                sample("payment")
            ))
            .bind(ctx.workspace_id)
            .bind(now()),
        )
        .await?;

        // A segment of warm leads, a campaign, and a two-email sequence to
        // them waiting for an approver (through the built-in mailbox, so
        // nothing leaves the server).
        let segment = lists::create(
            tx,
            ctx,
            input(json!({"name": "Hot leads (score 70+)", "kind": "segment",
                         "rules": {"match": "all", "rules": [{"field": "score", "op": "gte", "value": 70}]}}))?,
        )
        .await?;
        remember(tx, ctx, "list", segment.id).await?;
        summary.segments += 1;
        let brand = senders::create_brand(
            tx,
            ctx,
            input(json!({"name": "Corral sample brand", "from_name": "The sample sales team", "from_email": "hello@sample-brand.example",
                         "reply_to": "replies@sample-brand.example", "footer": "Sample Brand Ltd., 1 Example Street, Springfield"}))?,
        )
        .await?;
        remember(tx, ctx, "brand", brand.id).await?;
        let campaign = campaigns::create(
            tx,
            ctx,
            input(json!({"name": "Spring launch", "channel": "email", "segment_id": segment.id, "brand_id": brand.id}))?,
        )
        .await?;
        remember(tx, ctx, "campaign", campaign.id).await?;
        summary.campaigns += 1;
        let objective = "book a demo of the spring release";
        let preview = sequences::create_preview(
            tx,
            ctx,
            input(json!({"segment_id": segment.id, "brand_id": brand.id, "objective": objective, "num_emails": 2,
                         "cadence_days": [0, 3], "campaign_id": campaign.id, "name": "Spring launch: demo invitations"}))?,
            (crate::marketing::types::CopySource::Template, copy::template_steps(objective, 2)),
        )
        .await?;
        remember(tx, ctx, "email_sequence", preview.preview_id).await?;
        sequences::submit(tx, ctx, preview.preview_id).await?;
        summary.sequences += 1;

        audit::record(tx, ctx, "sample_data.loaded", "workspace", Some(ctx.workspace_id), None::<&()>, Some(&summary)).await?;
        Ok(summary)
    }

    fn sample(record_type: &str) -> String {
        format!("(SELECT record_id FROM sample_records WHERE workspace_id = $1 AND record_type = '{record_type}')")
    }

    /// Removes every sample record (owners and admins), leaving the
    /// workspace's own data. Records of the workspace that point at sample
    /// records lose that link; money booked against sample records, or a
    /// sequence or ad campaign of the workspace's own using the sample
    /// segment, brand or campaign, stops the removal (409) with nothing
    /// removed.
    pub async fn remove(tx: &mut Tx, ctx: &Ctx) -> AppResult<SampleDataSummary> {
        ctx.require_admin()?;
        let ws = ctx.workspace_id;
        let counts: Vec<(String, i64)> = tx
            .fetch_all(
                Q::new(
                    "SELECT record_type, COUNT(*) FROM sample_records WHERE workspace_id = $1 GROUP BY record_type ORDER BY record_type",
                )
                .bind(ws),
            )
            .await?;
        if counts.is_empty() {
            return Err(AppError::NotFound("sample data"));
        }
        let n = |t: &str| counts.iter().find(|(k, _)| k == t).map(|(_, n)| *n).unwrap_or(0);
        let summary = SampleDataSummary {
            companies: n("company"),
            contacts: n("contact"),
            leads: n("lead"),
            deals: n("deal"),
            activities: n("activity"),
            tasks: n("task"),
            invoices: n("invoice"),
            payments: n("payment"),
            segments: n("list"),
            campaigns: n("campaign"),
            sequences: n("email_sequence"),
        };

        let blockers: [(&str, String); 5] = [
            (
                "an invoice of the workspace's own is for a sample company, contact, deal or lead",
                format!(
                    "SELECT id FROM invoices WHERE workspace_id = $1 AND id NOT IN {} AND (company_id IN {} OR contact_id IN {} OR deal_id IN {} OR lead_id IN {})",
                    sample("invoice"),
                    sample("company"),
                    sample("contact"),
                    sample("deal"),
                    sample("lead")
                ),
            ),
            (
                "a payment of the workspace's own is recorded against a sample invoice or company",
                format!(
                    "SELECT id FROM payments WHERE workspace_id = $1 AND id NOT IN {} AND (invoice_id IN {} OR company_id IN {})",
                    sample("payment"),
                    sample("invoice"),
                    sample("company")
                ),
            ),
            (
                "a sequence of the workspace's own uses the sample segment, brand or campaign",
                format!(
                    "SELECT id FROM email_sequences WHERE workspace_id = $1 AND id NOT IN {} AND (segment_id IN {} OR brand_id IN {} OR campaign_id IN {})",
                    sample("email_sequence"),
                    sample("list"),
                    sample("brand"),
                    sample("campaign")
                ),
            ),
            (
                "an ad campaign uses the sample segment, brand or campaign",
                format!(
                    "SELECT id FROM ad_campaigns WHERE workspace_id = $1 AND (segment_id IN {} OR brand_id IN {} OR campaign_id IN {})",
                    sample("list"),
                    sample("brand"),
                    sample("campaign")
                ),
            ),
            (
                "the books hold entries of the workspace's own about sample invoices or payments (a reversal, a correction)",
                format!(
                    "SELECT id FROM journal_entries WHERE workspace_id = $1 AND id NOT IN {} \
                     AND (invoice_id IN {} OR payment_id IN {} OR reverses_entry_id IN {})",
                    sample("journal_entry"),
                    sample("invoice"),
                    sample("payment"),
                    sample("journal_entry")
                ),
            ),
        ];
        for (why, sql) in &blockers {
            if exists(tx, sql, ctx).await? {
                return Err(AppError::Conflict { code: "sample_data_in_use", message: format!("sample data cannot be removed: {why}") });
            }
        }

        let statements = [
            // Marketing: the approval requests, the sequence (its recipients
            // and outbox go with it), the campaign, brand and segment.
            format!(
                "DELETE FROM approval_requests WHERE workspace_id = $1 AND subject_type = 'email_sequence' AND subject_id IN {}",
                sample("email_sequence")
            ),
            format!("DELETE FROM email_events WHERE workspace_id = $1 AND sequence_id IN {}", sample("email_sequence")),
            format!("DELETE FROM email_sequences WHERE workspace_id = $1 AND id IN {}", sample("email_sequence")),
            format!("DELETE FROM campaigns WHERE workspace_id = $1 AND id IN {}", sample("campaign")),
            format!("DELETE FROM brands WHERE workspace_id = $1 AND id IN {}", sample("brand")),
            format!("DELETE FROM lists WHERE workspace_id = $1 AND id IN {}", sample("list")),
            format!("DELETE FROM list_members WHERE workspace_id = $1 AND member_id IN {}", sample("lead")),
            // Books: the entries of the sample invoices and payments (and
            // any reversal of them), then the payments and invoices.
            format!("DELETE FROM journal_lines WHERE workspace_id = $1 AND entry_id IN {}", sample("journal_entry")),
            format!("DELETE FROM journal_entries WHERE workspace_id = $1 AND id IN {}", sample("journal_entry")),
            format!("DELETE FROM payments WHERE workspace_id = $1 AND id IN {}", sample("payment")),
            format!("DELETE FROM invoices WHERE workspace_id = $1 AND id IN {}", sample("invoice")),
            // CRM: links from the workspace's own records are cut, then the
            // records go (their activities and tasks with them).
            format!("UPDATE deals SET lead_id = NULL WHERE workspace_id = $1 AND lead_id IN {}", sample("lead")),
            format!("UPDATE deals SET contact_id = NULL WHERE workspace_id = $1 AND contact_id IN {}", sample("contact")),
            format!("UPDATE deals SET company_id = NULL WHERE workspace_id = $1 AND company_id IN {}", sample("company")),
            format!(
                "UPDATE leads SET converted_contact_id = NULL WHERE workspace_id = $1 AND converted_contact_id IN {}",
                sample("contact")
            ),
            format!(
                "UPDATE leads SET converted_company_id = NULL WHERE workspace_id = $1 AND converted_company_id IN {}",
                sample("company")
            ),
            format!("UPDATE contacts SET company_id = NULL WHERE workspace_id = $1 AND company_id IN {}", sample("company")),
            format!("UPDATE companies SET parent_id = NULL WHERE workspace_id = $1 AND parent_id IN {}", sample("company")),
            format!("DELETE FROM activities WHERE workspace_id = $1 AND id IN {}", sample("activity")),
            format!("DELETE FROM tasks WHERE workspace_id = $1 AND id IN {}", sample("task")),
            format!("DELETE FROM deals WHERE workspace_id = $1 AND id IN {}", sample("deal")),
            format!("DELETE FROM leads WHERE workspace_id = $1 AND id IN {}", sample("lead")),
            format!("DELETE FROM contacts WHERE workspace_id = $1 AND id IN {}", sample("contact")),
            format!("DELETE FROM companies WHERE workspace_id = $1 AND id IN {}", sample("company")),
            "DELETE FROM sample_records WHERE workspace_id = $1".to_string(),
        ];
        for sql in statements {
            tx.execute(Q::new(sql).bind(ws)).await?;
        }
        audit::record(tx, ctx, "sample_data.removed", "workspace", Some(ws), Some(&summary), None::<&()>).await?;
        Ok(summary)
    }
}
