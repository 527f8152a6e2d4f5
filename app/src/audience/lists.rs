//! Static lists and rule-based segments, their members and the log of
//! membership changes. Every membership query is set-based SQL: adding a
//! segment's 200,000 leads to a list is two INSERT … SELECT statements.

use chrono::{DateTime, Utc};
use serde_json::json;
use uuid::Uuid;

use super::rules::{self, Rule};
use super::types::*;
use crate::crm::custom_fields::ops::declared;
use crate::crm::custom_fields::types::DeclaredFields;
use crate::crm::leads::types::{Lead, LeadFilter};
use crate::error::{AppError, AppResult};
use crate::platform::context::Ctx;
use crate::platform::db::{now, Tx, Q};
use crate::platform::pagination::PageRequest;
use crate::platform::types::{Page, Scope};
use crate::platform::validate::required_text;
use crate::platform::{audit, events};

pub const MAX_IDS_PER_REQUEST: usize = 1000;

#[derive(sqlx::FromRow)]
struct ListRow {
    id: Uuid,
    name: String,
    #[sqlx(try_from = "String")]
    kind: ListKind,
    #[sqlx(try_from = "String")]
    entity: ListEntity,
    rules: Option<sqlx::types::Json<Rule>>,
    refreshed_at: Option<DateTime<Utc>>,
    fully_refreshed_at: Option<DateTime<Utc>>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

const LIST_COLUMNS: &str = "id, name, kind, entity, rules, refreshed_at, fully_refreshed_at, created_at, updated_at";

impl ListRow {
    fn into_list(self, member_count: i64) -> List {
        List {
            id: self.id,
            name: self.name,
            kind: self.kind,
            entity: self.entity,
            rules: self.rules.map(|r| r.0),
            member_count,
            refreshed_at: self.refreshed_at,
            created_at: self.created_at,
            updated_at: self.updated_at,
        }
    }
}

async fn find_row(tx: &mut Tx, ctx: &Ctx, id: Uuid) -> AppResult<Option<ListRow>> {
    Ok(tx
        .fetch_optional(
            Q::new(format!("SELECT {LIST_COLUMNS} FROM lists WHERE workspace_id = $1 AND id = $2")).bind(ctx.workspace_id).bind(id),
        )
        .await?)
}

async fn row(tx: &mut Tx, ctx: &Ctx, id: Uuid) -> AppResult<ListRow> {
    find_row(tx, ctx, id).await?.ok_or(AppError::NotFound("list"))
}

fn table_of(entity: ListEntity) -> &'static str {
    match entity {
        ListEntity::Lead => "leads",
        ListEntity::Company => "companies",
    }
}

/// `SELECT … FROM leads WHERE workspace_id = $1 AND (rules)`: the live
/// members of a segment, for counting, listing, exporting and refreshing.
/// Rules compare custom fields by the workspace's declarations.
pub async fn segment_query(tx: &mut Tx, ctx: &Ctx, select: &str, rules: &Rule) -> AppResult<Q> {
    let fields = declared(tx, ctx).await?;
    segment_query_with(tx, ctx, select, rules, &fields)
}

/// [`segment_query`] with the declarations already loaded, for operations
/// that compile the same rules more than once.
fn segment_query_with(tx: &Tx, ctx: &Ctx, select: &str, rules: &Rule, fields: &DeclaredFields) -> AppResult<Q> {
    let mut q = Q::new(format!("SELECT {select} FROM leads WHERE leads.workspace_id = $1")).bind(ctx.workspace_id);
    rules::push_condition(&mut q, tx.backend(), rules, fields, now())?;
    Ok(q)
}

/// Static members that still exist (a deleted record leaves its lists).
fn static_query(ctx: &Ctx, list_id: Uuid, entity: ListEntity, select: &str) -> Q {
    let table = table_of(entity);
    Q::new(format!(
        "SELECT {select} FROM {table} WHERE {table}.workspace_id = $1 AND EXISTS \
         (SELECT 1 FROM list_members m WHERE m.list_id = $2 AND m.member_id = {table}.id)"
    ))
    .bind(ctx.workspace_id)
    .bind(list_id)
}

async fn members_query(tx: &mut Tx, ctx: &Ctx, list: &ListRow, select: &str) -> AppResult<Q> {
    match (&list.kind, &list.rules) {
        (ListKind::Segment, Some(rules)) => segment_query(tx, ctx, select, &rules.0).await,
        _ => Ok(static_query(ctx, list.id, list.entity, select)),
    }
}

/// The live members of a list or segment of leads, selecting `select`
/// from `leads` (for sequences, which send to them).
pub(crate) async fn lead_members_query(tx: &mut Tx, ctx: &Ctx, list_id: Uuid, field: &str, select: &str) -> AppResult<Q> {
    let list = find_row(tx, ctx, list_id).await?.ok_or_else(|| AppError::validation(field, "no such segment or list"))?;
    if list.entity != ListEntity::Lead {
        return Err(AppError::validation(field, "emails go to a segment or list of leads, not of companies"));
    }
    members_query(tx, ctx, &list, select).await
}

/// A list's name and what changes when its rules do (for approvals that
/// freeze a segment's rules version).
pub(crate) async fn rules_version(tx: &mut Tx, ctx: &Ctx, list_id: Uuid) -> AppResult<(String, serde_json::Value)> {
    let list = row(tx, ctx, list_id).await?;
    Ok((list.name.clone(), json!({ "id": list.id, "kind": list.kind, "rules": list.rules.map(|r| r.0), "updated_at": list.updated_at })))
}

pub fn member_select(entity: ListEntity) -> &'static str {
    match entity {
        ListEntity::Lead => {
            "leads.id AS id, leads.name AS name, leads.email AS email, leads.company_name AS detail, \
             leads.score AS score, leads.status AS status"
        }
        ListEntity::Company => {
            "companies.id AS id, companies.name AS name, companies.domain AS email, companies.industry AS detail, \
             CAST(NULL AS BIGINT) AS score, companies.status AS status"
        }
    }
}

async fn count(tx: &mut Tx, ctx: &Ctx, list: &ListRow) -> AppResult<i64> {
    let q = members_query(tx, ctx, list, "COUNT(*)").await?;
    let (n,): (i64,) = tx.fetch_one(q).await?;
    Ok(n)
}

pub async fn get(tx: &mut Tx, ctx: &Ctx, id: Uuid) -> AppResult<List> {
    ctx.require(Scope::CrmRead)?;
    let list = row(tx, ctx, id).await?;
    let n = count(tx, ctx, &list).await?;
    Ok(list.into_list(n))
}

pub async fn list(tx: &mut Tx, ctx: &Ctx, limit: Option<i64>, cursor: Option<&str>) -> AppResult<Page<List>> {
    ctx.require(Scope::CrmRead)?;
    let page = PageRequest::parse(limit, cursor)?;
    let mut q = Q::new(format!("SELECT {LIST_COLUMNS} FROM lists WHERE workspace_id = $1")).bind(ctx.workspace_id);
    page.apply(&mut q, "id");
    let rows: Vec<ListRow> = tx.fetch_all(q).await?;
    let page = page.finish(rows, |r| r.id, |r| r);
    let mut data = Vec::with_capacity(page.data.len());
    for list in page.data {
        let n = count(tx, ctx, &list).await?;
        data.push(list.into_list(n));
    }
    Ok(Page { data, next_cursor: page.next_cursor })
}

async fn check_name_free(tx: &mut Tx, ctx: &Ctx, name: &str, except: Option<Uuid>) -> AppResult<()> {
    let taken: Option<(Uuid,)> = tx
        .fetch_optional(
            Q::new("SELECT id FROM lists WHERE workspace_id = $1 AND LOWER(name) = $2").bind(ctx.workspace_id).bind(name.to_lowercase()),
        )
        .await?;
    if taken.is_some_and(|(id,)| Some(id) != except) {
        return Err(AppError::Duplicate {
            code: "name_taken",
            field: "name".into(),
            message: format!("a list named {name:?} already exists"),
        });
    }
    Ok(())
}

pub async fn create(tx: &mut Tx, ctx: &Ctx, input: NewList) -> AppResult<List> {
    ctx.require(Scope::CrmWrite)?;
    let name = required_text("name", &input.name, 200)?;
    let kind = input.kind.unwrap_or(if input.rules.is_some() { ListKind::Segment } else { ListKind::Static });
    let entity = input.entity.unwrap_or(ListEntity::Lead);
    match kind {
        ListKind::Segment => {
            let rules = input.rules.as_ref().ok_or_else(|| AppError::validation("rules", "a segment needs rules"))?;
            rules::validate(rules, &declared(tx, ctx).await?)?;
            if entity != ListEntity::Lead {
                return Err(AppError::validation("entity", "segments select leads"));
            }
        }
        ListKind::Static => {
            if input.rules.is_some() {
                return Err(AppError::validation("rules", "a static list has no rules; use kind segment"));
            }
        }
    }
    check_name_free(tx, ctx, &name, None).await?;
    let at = now();
    let id = Uuid::now_v7();
    tx.execute(
        Q::new(
            "INSERT INTO lists (id, workspace_id, name, kind, entity, rules, created_by, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(id)
        .bind(ctx.workspace_id)
        .bind(name.as_str())
        .bind(kind.as_str())
        .bind(entity.as_str())
        .bind(input.rules.as_ref().map(|r| json!(r)))
        .bind(ctx.user_id)
        .bind(at)
        .bind(at),
    )
    .await?;
    if kind == ListKind::Segment {
        refresh_row(tx, ctx, id, MembershipReason::SegmentSaved).await?;
    }
    let list = get(tx, ctx, id).await?;
    audit::record(tx, ctx, "list.created", "list", Some(id), None::<&()>, Some(&list)).await?;
    Ok(list)
}

pub async fn update(tx: &mut Tx, ctx: &Ctx, id: Uuid, patch: ListPatch) -> AppResult<List> {
    ctx.require(Scope::CrmWrite)?;
    let before = get(tx, ctx, id).await?;
    let name = match patch.name {
        Some(name) => {
            let name = required_text("name", &name, 200)?;
            check_name_free(tx, ctx, &name, Some(id)).await?;
            name
        }
        None => before.name.clone(),
    };
    let rules = match patch.rules {
        Some(rules) => {
            if before.kind != ListKind::Segment {
                return Err(AppError::validation("rules", "a static list has no rules"));
            }
            rules::validate(&rules, &declared(tx, ctx).await?)?;
            Some(rules)
        }
        None => before.rules.clone(),
    };
    tx.execute(
        Q::new("UPDATE lists SET name = $1, rules = $2, updated_at = $3 WHERE workspace_id = $4 AND id = $5")
            .bind(name.as_str())
            .bind(rules.as_ref().map(|r| json!(r)))
            .bind(now())
            .bind(ctx.workspace_id)
            .bind(id),
    )
    .await?;
    if before.kind == ListKind::Segment && rules != before.rules {
        refresh_row(tx, ctx, id, MembershipReason::SegmentSaved).await?;
    }
    let after = get(tx, ctx, id).await?;
    audit::record(tx, ctx, "list.updated", "list", Some(id), Some(&before), Some(&after)).await?;
    Ok(after)
}

pub async fn delete(tx: &mut Tx, ctx: &Ctx, id: Uuid) -> AppResult<List> {
    ctx.require(Scope::CrmWrite)?;
    let list = get(tx, ctx, id).await?;
    tx.execute(Q::new("DELETE FROM list_members WHERE list_id = $1").bind(id)).await?;
    tx.execute(Q::new("DELETE FROM lists WHERE workspace_id = $1 AND id = $2").bind(ctx.workspace_id).bind(id)).await?;
    audit::record(tx, ctx, "list.deleted", "list", Some(id), Some(&list), None::<&()>).await?;
    Ok(list)
}

/// A page of members, newest record first.
pub async fn members(tx: &mut Tx, ctx: &Ctx, id: Uuid, limit: Option<i64>, cursor: Option<&str>) -> AppResult<Page<Member>> {
    ctx.require(Scope::CrmRead)?;
    let list = row(tx, ctx, id).await?;
    let page = PageRequest::parse(limit, cursor)?;
    let mut q = members_query(tx, ctx, &list, member_select(list.entity)).await?;
    page.apply(&mut q, &format!("{}.id", table_of(list.entity)));
    let rows: Vec<Member> = tx.fetch_all(q).await?;
    Ok(page.finish(rows, |m| m.id, |m| m))
}

/// Leads whose name, email, company or title contains `query`, among the
/// members of a segment or static list of leads when `segment_id` names
/// one: an agent's search of an audience.
pub async fn search_leads(
    tx: &mut Tx,
    ctx: &Ctx,
    segment_id: Option<Uuid>,
    query: Option<&str>,
    limit: Option<i64>,
    cursor: Option<&str>,
) -> AppResult<Page<Lead>> {
    ctx.require(Scope::CrmRead)?;
    let Some(segment_id) = segment_id else {
        let filter = LeadFilter { q: query.map(str::to_string), limit, cursor: cursor.map(str::to_string), ..Default::default() };
        return crate::crm::leads::ops::list(tx, ctx, filter).await;
    };
    let list =
        row(tx, ctx, segment_id).await.map_err(|_| AppError::validation("segment_id", "no such segment or list in this workspace"))?;
    if list.entity != ListEntity::Lead {
        return Err(AppError::validation("segment_id", "this list holds companies, not leads"));
    }
    let page = PageRequest::parse(limit, cursor)?;
    let mut q = members_query(tx, ctx, &list, crate::crm::leads::ops::COLUMNS).await?;
    crate::platform::db::text_search(&mut q, query, &["leads.name", "leads.email", "leads.company_name", "leads.title"])?;
    page.apply(&mut q, "leads.id");
    let rows: Vec<Lead> = tx.fetch_all(q).await?;
    Ok(page.finish(rows, |l| l.id, |l| l))
}

pub async fn preview(tx: &mut Tx, ctx: &Ctx, rules: &Rule) -> AppResult<SegmentPreview> {
    ctx.require(Scope::CrmRead)?;
    let fields = declared(tx, ctx).await?;
    rules::validate(rules, &fields)?;
    let counting = segment_query_with(tx, ctx, "COUNT(*)", rules, &fields)?;
    let (count,): (i64,) = tx.fetch_one(counting).await?;
    let mut q = segment_query_with(tx, ctx, member_select(ListEntity::Lead), rules, &fields)?;
    q.push(" ORDER BY leads.id DESC LIMIT 10");
    let sample: Vec<Member> = tx.fetch_all(q).await?;
    Ok(SegmentPreview { count, sample })
}

fn static_list(list: &ListRow) -> AppResult<()> {
    if list.kind != ListKind::Static {
        return Err(AppError::Conflict {
            code: "segment_membership_is_computed",
            message: "a segment's members follow its rules; edit the rules or use a static list".into(),
        });
    }
    Ok(())
}

/// Adds by id (every id must name a record of the list's kind in this
/// workspace, or nothing is added) and/or every current member of a
/// segment. Already-present members are left alone and not counted.
pub async fn add_members(tx: &mut Tx, ctx: &Ctx, id: Uuid, change: MemberChange) -> AppResult<MemberChangeResult> {
    ctx.require(Scope::CrmWrite)?;
    let reason = MembershipReason::for_addition(&change);
    let list = row(tx, ctx, id).await?;
    static_list(&list)?;
    if change.ids.is_empty() && change.from_segment.is_none() {
        return Err(AppError::validation("ids", "give ids or from_segment"));
    }
    if change.ids.len() > MAX_IDS_PER_REQUEST {
        return Err(AppError::validation("ids", format!("at most {MAX_IDS_PER_REQUEST} ids per request")));
    }
    let table = table_of(list.entity);
    let at = now();
    let mut added = 0;
    if !change.ids.is_empty() {
        let mut ids = change.ids.clone();
        ids.sort();
        ids.dedup();
        let mut q = Q::new(format!("SELECT COUNT(*) FROM {table} WHERE workspace_id = $1")).bind(ctx.workspace_id);
        let placeholders: Vec<String> = ids.iter().map(|i| q.arg(*i)).collect();
        q.push(&format!(" AND id IN ({})", placeholders.join(", ")));
        let (found,): (i64,) = tx.fetch_one(q).await?;
        if found != ids.len() as i64 {
            return Err(AppError::validation(
                "ids",
                format!("{} of the ids do not name a {} in this workspace", ids.len() as i64 - found, list.entity.as_str()),
            ));
        }
        for chunk in ids.chunks(200) {
            let mut select = Q::new("").bind(ctx.workspace_id);
            let placeholders: Vec<String> = chunk.iter().map(|i| select.arg(*i)).collect();
            select.push(&format!("SELECT id FROM {table} WHERE workspace_id = $1 AND id IN ({})", placeholders.join(", ")));
            added += insert_members_from(tx, ctx, id, select, reason, at).await?;
        }
    }
    if let Some(segment_id) = change.from_segment {
        let segment = find_row(tx, ctx, segment_id)
            .await?
            .ok_or_else(|| AppError::validation("from_segment", "from_segment does not name a list in this workspace"))?;
        if list.entity != segment.entity {
            return Err(AppError::validation("from_segment", "the segment holds a different kind of record"));
        }
        let source = members_query(tx, ctx, &segment, &format!("{table}.id")).await?;
        added += insert_members_from(tx, ctx, id, source, reason, at).await?;
    }
    let member_count = count(tx, ctx, &list).await?;
    audit::record(tx, ctx, "list.members_added", "list", Some(id), None::<&()>, Some(&json!({"added": added, "reason": reason.as_str()})))
        .await?;
    Ok(MemberChangeResult { added, removed: 0, member_count })
}

/// Inserts the ids `source` selects (as `id`) that are not members yet,
/// with an `added` event each; events first, for exactly those ids.
pub(crate) async fn insert_members_from(
    tx: &mut Tx,
    ctx: &Ctx,
    list_id: Uuid,
    source: Q,
    reason: MembershipReason,
    at: DateTime<Utc>,
) -> AppResult<i64> {
    let not_member = "NOT EXISTS (SELECT 1 FROM list_members m WHERE m.list_id = {list} AND m.member_id = candidate.id)";
    let mut events = source.clone();
    let (list, rsn, t) = (events.arg(list_id), events.arg(reason.as_str()), events.arg(at));
    let ws = events.arg(ctx.workspace_id);
    let inner = events.sql().to_string();
    let events = events.with_sql(format!(
        "INSERT INTO audience_events (workspace_id, list_id, member_id, change, reason, created_at) \
         SELECT {ws}, {list}, candidate.id, 'added', {rsn}, {t} FROM ({inner}) candidate WHERE {}",
        not_member.replace("{list}", &list)
    ));
    tx.execute(events).await?;
    let mut members = source;
    let (list, t, ws) = (members.arg(list_id), members.arg(at), members.arg(ctx.workspace_id));
    let inner = members.sql().to_string();
    let members = members.with_sql(format!(
        "INSERT INTO list_members (list_id, member_id, workspace_id, added_at) \
         SELECT {list}, candidate.id, {ws}, {t} FROM ({inner}) candidate WHERE {}",
        not_member.replace("{list}", &list)
    ));
    Ok(tx.execute(members).await? as i64)
}

/// Puts one lead on a capture form's list: a static list takes it; a
/// segment takes it only if its rules select the lead, checked now rather
/// than at the next sweep so the membership event follows the submission.
pub(crate) async fn place_lead(tx: &mut Tx, ctx: &Ctx, list_id: Uuid, lead_id: Uuid, reason: MembershipReason) -> AppResult<()> {
    let Some(list) = find_row(tx, ctx, list_id).await? else { return Ok(()) };
    if list.entity != ListEntity::Lead {
        return Ok(());
    }
    let mut source = match (&list.kind, &list.rules) {
        (ListKind::Segment, Some(rules)) => segment_query(tx, ctx, "leads.id AS id", &rules.0).await?,
        _ => Q::new("SELECT leads.id AS id FROM leads WHERE leads.workspace_id = $1").bind(ctx.workspace_id),
    };
    let p = source.arg(lead_id);
    source.push(&format!(" AND leads.id = {p}"));
    let at = now();
    if insert_members_from(tx, ctx, list_id, source, reason, at).await? > 0 && list.kind == ListKind::Segment {
        emit_segment_events(tx, ctx, list_id, at).await?;
    }
    Ok(())
}

/// `segment.entered` and `segment.left` for the membership changes of a
/// segment written at `at`, one per audience event (its sequence number
/// makes the event's key, so a change is one event however often it is seen).
async fn emit_segment_events(tx: &mut Tx, ctx: &Ctx, list_id: Uuid, at: DateTime<Utc>) -> AppResult<()> {
    for (change, event) in [("added", "segment.entered"), ("removed", "segment.left")] {
        if !events::has_listeners(tx, ctx.workspace_id, event).await? {
            continue;
        }
        let changes: Vec<(i64, Uuid)> = tx
            .fetch_all(
                Q::new(
                    "SELECT seq, member_id FROM audience_events WHERE workspace_id = $1 AND list_id = $2 AND change = $3                      AND created_at = $4",
                )
                .bind(ctx.workspace_id)
                .bind(list_id)
                .bind(change)
                .bind(at),
            )
            .await?;
        for (seq, member_id) in changes {
            let data = json!({ "lead_id": member_id, "segment_id": list_id });
            events::insert(tx, ctx.workspace_id, event, Some(member_id.to_string()), data, format!("{event}:{seq}")).await?;
        }
    }
    Ok(())
}

pub async fn remove_members(tx: &mut Tx, ctx: &Ctx, id: Uuid, change: MemberChange) -> AppResult<MemberChangeResult> {
    ctx.require(Scope::CrmWrite)?;
    let reason = MembershipReason::Manual;
    let list = row(tx, ctx, id).await?;
    static_list(&list)?;
    if change.from_segment.is_some() {
        return Err(AppError::validation("from_segment", "remove members by ids"));
    }
    if change.ids.is_empty() || change.ids.len() > MAX_IDS_PER_REQUEST {
        return Err(AppError::validation("ids", format!("give 1 to {MAX_IDS_PER_REQUEST} ids")));
    }
    let at = now();
    let mut removed = 0;
    for chunk in change.ids.chunks(200) {
        let mut events = Q::new("").bind(id);
        let ids: Vec<String> = chunk.iter().map(|i| events.arg(*i)).collect();
        let ids = ids.join(", ");
        let (rsn, t) = (events.arg(reason.as_str()), events.arg(at));
        events.push(&format!(
            "INSERT INTO audience_events (workspace_id, list_id, member_id, change, reason, created_at) \
             SELECT workspace_id, list_id, member_id, 'removed', {rsn}, {t} FROM list_members \
             WHERE list_id = $1 AND member_id IN ({ids})"
        ));
        tx.execute(events).await?;
        let mut delete = Q::new("").bind(id);
        let ids: Vec<String> = chunk.iter().map(|i| delete.arg(*i)).collect();
        delete.push(&format!("DELETE FROM list_members WHERE list_id = $1 AND member_id IN ({})", ids.join(", ")));
        removed += tx.execute(delete).await? as i64;
    }
    let member_count = count(tx, ctx, &list).await?;
    audit::record(
        tx,
        ctx,
        "list.members_removed",
        "list",
        Some(id),
        None::<&()>,
        Some(&json!({"removed": removed, "reason": reason.as_str()})),
    )
    .await?;
    Ok(MemberChangeResult { added: 0, removed, member_count })
}

/// How far before the last sweep an incremental sweep looks again: a
/// transaction that stamped a lead before the sweep began but committed
/// after it was invisible to it, and is caught by the next one.
const SWEEP_OVERLAP_SECONDS: i64 = 300;
/// Rules relative to today ("within the last 7 days") change membership
/// with time alone; such segments are evaluated in full this often.
const TIME_RELATIVE_FULL_EVERY_SECONDS: i64 = 900;

/// Which leads a refresh re-evaluates.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Reach {
    /// Every lead: when the rules are saved, refreshed by hand, or a
    /// declared field they compare changed.
    Everything,
    /// Leads changed (`updated_at`) since this time: the periodic sweep,
    /// which at a million leads must not read them all every minute.
    ChangedSince(DateTime<Utc>),
}

/// Re-evaluates a segment and records who entered and who left since the
/// last evaluation: four set-based statements in the caller's transaction.
async fn refresh_row(tx: &mut Tx, ctx: &Ctx, id: Uuid, reason: MembershipReason) -> AppResult<RefreshResult> {
    let list = row(tx, ctx, id).await?;
    let (entered, left) = refresh_reaching(tx, ctx, &list, reason, Reach::Everything).await?;
    let member_count = count(tx, ctx, &list).await?;
    Ok(RefreshResult { entered, left, member_count })
}

/// The segment's leads among those the refresh looks at. Changed leads are
/// found first through `leads_by_updated` and joined to by id (`CROSS
/// JOIN` keeps SQLite from starting at an index of the rules instead,
/// which at a million leads may hold hundreds of thousands).
fn reach_query(tx: &Tx, ctx: &Ctx, select: &str, rules: &Rule, fields: &DeclaredFields, reach: Reach) -> AppResult<Q> {
    let Reach::ChangedSince(since) = reach else { return segment_query_with(tx, ctx, select, rules, fields) };
    let changed = tx.backend().leads_by_updated();
    let mut q = Q::new(format!(
        "SELECT {select} FROM (SELECT id AS changed_id FROM {changed} WHERE workspace_id = $1 AND updated_at >= $2) changed \
         CROSS JOIN leads WHERE leads.id = changed.changed_id AND leads.workspace_id = $1"
    ))
    .bind(ctx.workspace_id)
    .bind(since);
    rules::push_condition(&mut q, tx.backend(), rules, fields, now())?;
    Ok(q)
}

/// Who entered and who left among the leads `reach` names.
async fn refresh_reaching(tx: &mut Tx, ctx: &Ctx, list: &ListRow, reason: MembershipReason, reach: Reach) -> AppResult<(i64, i64)> {
    let Some(rules) = list.rules.as_ref().map(|r| &r.0) else {
        return Err(AppError::Conflict { code: "not_a_segment", message: "only segments are refreshed".into() });
    };
    let (id, at) = (list.id, now());
    let fields = declared(tx, ctx).await?;
    let selected = reach_query(tx, ctx, "leads.id AS id", rules, &fields, reach)?;
    let entered = insert_members_from(tx, ctx, id, selected, reason, at).await?;

    // Leavers: members (among the leads looked at) the rules no longer select.
    let mut still = reach_query(tx, ctx, "leads.id", rules, &fields, reach)?;
    let inner = still.sql().to_string();
    let (list_p, rsn, t) = (still.arg(id), still.arg(reason.as_str()), still.arg(at));
    let leavers = match reach {
        Reach::Everything => format!("list_id = {list_p} AND member_id NOT IN ({inner})"),
        Reach::ChangedSince(since) => {
            let (ws, since) = (still.arg(ctx.workspace_id), still.arg(since));
            let changed = tx.backend().leads_by_updated();
            format!(
                "list_id = {list_p} AND member_id IN \
                 (SELECT id FROM {changed} WHERE workspace_id = {ws} AND updated_at >= {since} AND id NOT IN ({inner}))"
            )
        }
    };
    let events = still.clone().with_sql(format!(
        "INSERT INTO audience_events (workspace_id, list_id, member_id, change, reason, created_at) \
         SELECT workspace_id, list_id, member_id, 'removed', {rsn}, {t} FROM list_members WHERE {leavers}"
    ));
    tx.execute(events).await?;
    let delete = still.with_sql(format!("DELETE FROM list_members WHERE {leavers}"));
    let left = tx.execute(delete).await? as i64;
    let full = if reach == Reach::Everything { ", fully_refreshed_at = $1" } else { "" };
    tx.execute(Q::new(format!("UPDATE lists SET refreshed_at = $1{full} WHERE id = $2")).bind(at).bind(id)).await?;
    if entered + left > 0 {
        emit_segment_events(tx, ctx, id, at).await?;
    }
    Ok((entered, left))
}

/// What the periodic sweep re-evaluates of a segment: only the leads
/// changed since its last refresh, unless it was never refreshed (or a
/// declared field it may compare changed, which clears `refreshed_at`), or
/// its rules are relative to today and a full pass is due.
fn sweep_reach(list: &ListRow, now: DateTime<Utc>) -> Reach {
    let time_relative = list.rules.as_ref().is_some_and(|r| rules::is_time_relative(&r.0));
    match (list.refreshed_at, list.fully_refreshed_at) {
        (Some(_), Some(full)) if time_relative && now - full >= chrono::Duration::seconds(TIME_RELATIVE_FULL_EVERY_SECONDS) => {
            Reach::Everything
        }
        (Some(last), _) => Reach::ChangedSince(last - chrono::Duration::seconds(SWEEP_OVERLAP_SECONDS)),
        (None, _) => Reach::Everything,
    }
}

pub async fn refresh(tx: &mut Tx, ctx: &Ctx, id: Uuid) -> AppResult<RefreshResult> {
    ctx.require(Scope::CrmWrite)?;
    let result = refresh_row(tx, ctx, id, MembershipReason::SegmentRefresh).await?;
    if result.entered + result.left > 0 {
        audit::record(tx, ctx, "segment.refreshed", "list", Some(id), None::<&()>, Some(&result)).await?;
    }
    Ok(result)
}

/// Every segment of every workspace, for the periodic sweep that keeps
/// membership events flowing as leads change.
pub async fn segment_ids(tx: &mut Tx) -> AppResult<Vec<(Uuid, Uuid)>> {
    Ok(tx.fetch_all(Q::new("SELECT workspace_id, id FROM lists WHERE kind = 'segment' ORDER BY id")).await?)
}

/// A deleted record leaves every list, with an event for each.
pub async fn forget_member(tx: &mut Tx, ctx: &Ctx, member_id: Uuid, reason: MembershipReason) -> AppResult<()> {
    tx.execute(
        Q::new(
            "INSERT INTO audience_events (workspace_id, list_id, member_id, change, reason, created_at) \
             SELECT workspace_id, list_id, member_id, 'removed', $1, $2 FROM list_members \
             WHERE workspace_id = $3 AND member_id = $4",
        )
        .bind(reason.as_str())
        .bind(now())
        .bind(ctx.workspace_id)
        .bind(member_id),
    )
    .await?;
    tx.execute(Q::new("DELETE FROM list_members WHERE workspace_id = $1 AND member_id = $2").bind(ctx.workspace_id).bind(member_id))
        .await?;
    Ok(())
}

pub async fn events(tx: &mut Tx, ctx: &Ctx, query: EventQuery) -> AppResult<EventPage> {
    ctx.require(Scope::CrmRead)?;
    let limit = query.limit.unwrap_or(100);
    if !(1..=1000).contains(&limit) {
        return Err(AppError::validation("limit", "limit must be between 1 and 1000"));
    }
    let mut q = Q::new("SELECT seq, list_id, member_id, change, reason, created_at FROM audience_events WHERE workspace_id = $1")
        .bind(ctx.workspace_id);
    if let Some(list_id) = query.list_id {
        let p = q.arg(list_id);
        q.push(&format!(" AND list_id = {p}"));
    }
    if let Some(after) = query.after {
        let p = q.arg(after);
        q.push(&format!(" AND seq > {p}"));
    }
    let p = q.arg(limit);
    q.push(&format!(" ORDER BY seq LIMIT {p}"));
    let data: Vec<AudienceEvent> = tx.fetch_all(q).await?;
    let next_after = data.last().map(|e| e.seq).or(query.after);
    Ok(EventPage { data, next_after })
}

/// Re-evaluates every segment now and then, so that leads changing (a score
/// rising, a tag added) show up as membership events without anyone
/// opening the segment.
pub fn spawn_segment_refresher(db: crate::platform::db::Db, every: std::time::Duration) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(every).await;
            if let Err(e) = refresh_all(&db).await {
                tracing::warn!(error = %e, "segment refresh failed");
            }
        }
    })
}

pub async fn refresh_all(db: &crate::platform::db::Db) -> AppResult<()> {
    let mut tx = db.begin_read().await?;
    let segments = segment_ids(&mut tx).await?;
    tx.commit().await?;
    for (workspace_id, id) in segments {
        let ctx = Ctx::system(workspace_id);
        let mut tx = db.begin().await?;
        let Some(list) = find_row(&mut tx, &ctx, id).await? else { continue };
        let reach = sweep_reach(&list, now());
        refresh_reaching(&mut tx, &ctx, &list, MembershipReason::SegmentRefresh, reach).await?;
        tx.commit().await?;
    }
    Ok(())
}

/// A declared field's new type or options may change what rules comparing
/// it select: the workspace's segments are evaluated in full at the next
/// sweep.
pub(crate) async fn refresh_fully_at_next_sweep(tx: &mut Tx, ctx: &Ctx) -> AppResult<()> {
    tx.execute(Q::new("UPDATE lists SET refreshed_at = NULL WHERE workspace_id = $1 AND kind = 'segment'").bind(ctx.workspace_id)).await?;
    Ok(())
}
