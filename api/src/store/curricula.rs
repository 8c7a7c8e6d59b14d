//! Curricula: queries, creates and updates.

use entity::{community, curriculum, curriculum_contributor, curriculum_model_community, curriculum_module};
use sea_orm::sea_query::{Expr, Func};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, EntityTrait, ExprTrait, QueryFilter,
    Select,
};

use super::keyset::{self, Page, PageArgs, SortKey};
use super::versioned::{bump, check_version, diff};
use super::{Store, changes, commit_returning, idempotency, now, organizations};
use crate::domain::access::{self, Actor, CurriculumFacts};
use crate::domain::commands::{CurriculumChanges, Module, NewCurriculum};
use crate::domain::enums::{self, ChangeOperation, CurriculumKind, CurriculumStatus, FocusArea};
use crate::domain::ids::Kind;
use crate::domain::lifecycle::{self, CURRICULUM_MOVES};

use crate::error::{AppError, AppResult};

/// The keyset of the curriculum list (creation order).
pub const SORT: SortKey = SortKey::by_id("curriculum.id");

/// Which curricula to list.
#[derive(Clone, Debug, Default)]
pub struct Filter {
    pub kinds: Option<Vec<CurriculumKind>>,
    pub statuses: Option<Vec<CurriculumStatus>>,
    /// Curricula with any of these focus areas.
    pub focus_areas: Option<Vec<FocusArea>>,
}

/// The filtered selection.
pub fn filtered(filter: &Filter) -> Select<curriculum::Entity> {
    let mut select = curriculum::Entity::find();
    if let Some(kinds) = &filter.kinds {
        select = select.filter(curriculum::Column::Kind.is_in(kinds.iter().map(|k| k.as_str())));
    }
    if let Some(statuses) = &filter.statuses {
        select = select.filter(curriculum::Column::Status.is_in(statuses.iter().map(|s| s.as_str())));
    }
    if let Some(areas) = &filter.focus_areas {
        // The stored list is space-separated; pad it so whole names match.
        let padded = Func::cust("CONCAT").arg(" ").arg(Expr::col(curriculum::Column::FocusAreas)).arg(" ");
        let any = areas.iter().fold(Condition::any(), |cond, area| {
            cond.add(Expr::expr(padded.clone()).like(format!("% {} %", area.as_str())))
        });
        select = select.filter(any);
    }
    select
}

/// One page of curricula.
pub async fn page(
    store: &Store,
    select: Select<curriculum::Entity>,
    args: &PageArgs,
) -> AppResult<Page<curriculum::Model>> {
    keyset::window(args, SORT)?.fetch(&store.db, select, |_| None, |m| m.id).await
}

/// The curriculum with `code`.
pub async fn by_code(store: &Store, code: &str) -> AppResult<Option<curriculum::Model>> {
    Ok(curriculum::Entity::find()
        .filter(curriculum::Column::Code.eq(code.trim().to_uppercase()))
        .one(&store.db)
        .await?)
}

type ModuleRow = (String, Option<f64>, Option<String>);

fn module_rows(modules: &[Module]) -> Vec<ModuleRow> {
    modules.iter().map(|m| (m.title.clone(), m.hours, m.objectives.clone())).collect()
}

async fn replace_parts<C: ConnectionTrait>(
    conn: &C,
    id: i64,
    contributors: Option<&[i64]>,
    modules: Option<Vec<ModuleRow>>,
    models: Option<&[i64]>,
) -> AppResult<()> {
    if let Some(list) = contributors {
        curriculum_contributor::Entity::delete_many()
            .filter(curriculum_contributor::Column::CurriculumId.eq(id))
            .exec(conn)
            .await?;
        for org in list {
            curriculum_contributor::ActiveModel { curriculum_id: Set(id), organization_id: Set(*org) }
                .insert(conn)
                .await?;
        }
    }
    if let Some(list) = modules {
        curriculum_module::Entity::delete_many()
            .filter(curriculum_module::Column::CurriculumId.eq(id))
            .exec(conn)
            .await?;
        for (i, (title, hours, objectives)) in list.into_iter().enumerate() {
            curriculum_module::ActiveModel {
                curriculum_id: Set(id),
                position: Set(i as i32 + 1),
                title: Set(title),
                hours: Set(hours),
                objectives: Set(objectives),
            }
            .insert(conn)
            .await?;
        }
    }
    if let Some(list) = models {
        curriculum_model_community::Entity::delete_many()
            .filter(curriculum_model_community::Column::CurriculumId.eq(id))
            .exec(conn)
            .await?;
        for c in list {
            curriculum_model_community::ActiveModel { curriculum_id: Set(id), community_id: Set(*c) }
                .insert(conn)
                .await?;
        }
    }
    Ok(())
}

/// Creates a curriculum in DRAFT (the `createCurriculum` mutation); the
/// caller's organisation owns it.
pub async fn create(store: &Store, actor: &Actor, new: NewCurriculum, key: Option<&str>) -> AppResult<i64> {
    access::may_write(actor, Kind::Curriculum)?;
    let fingerprint = serde_json::to_value(&new).unwrap_or_default();
    let actor_tx = actor.clone();
    idempotency::create(
        store,
        actor,
        key,
        "createCurriculum",
        Kind::Curriculum,
        &fingerprint,
        Box::new(move |tx| Box::pin(async move { create_in(tx, &actor_tx, &new).await })),
    )
    .await
}

/// Creates a curriculum inside `conn` (API and demo data): contributors and
/// model communities must exist; version 1 and the `CREATED` event.
pub async fn create_in<C: ConnectionTrait>(conn: &C, actor: &Actor, new: &NewCurriculum) -> AppResult<i64> {
    access::may_write(actor, Kind::Curriculum)?;
    let mut contributors = organizations::ids_for_codes(conn, &new.contributor_codes, "contributorCodes").await?;
    contributors.retain(|c| *c != actor.org_id);
    let models = super::existing_ids::<community::Entity, _>(
        conn,
        &new.model_community_ids,
        Kind::Community,
        "modelCommunityIds",
    )
    .await?;
    let at = now();
    let created = curriculum::ActiveModel {
        code: Set(new.code.clone()),
        title_th: Set(new.title_th.clone()),
        title_en: Set(new.title_en.clone()),
        kind: Set(new.kind),
        status: Set(CurriculumStatus::Draft),
        focus_areas: Set(enums::join_list(&new.focus_areas, FocusArea::as_str)),
        owner_id: Set(actor.org_id),
        version: Set(1),
        created_at: Set(at),
        updated_at: Set(at),
        ..Default::default()
    }
    .insert(conn)
    .await?;
    replace_parts(conn, created.id, Some(&contributors), Some(module_rows(&new.modules)), Some(&models)).await?;
    changes::record(conn, actor, ChangeOperation::Created, Kind::Curriculum, created.id, &["*"], None).await?;
    Ok(created.id)
}

/// The contributor ids of a curriculum.
pub async fn contributor_ids<C: ConnectionTrait>(conn: &C, id: i64) -> AppResult<Vec<i64>> {
    let mut ids: Vec<i64> = curriculum_contributor::Entity::find()
        .filter(curriculum_contributor::Column::CurriculumId.eq(id))
        .all(conn)
        .await?
        .into_iter()
        .map(|c| c.organization_id)
        .collect();
    ids.sort_unstable();
    Ok(ids)
}

/// Updates a curriculum (the `updateCurriculum` mutation): its owner or contributors.
pub async fn update(store: &Store, actor: &Actor, changes: CurriculumChanges) -> AppResult<curriculum::Model> {
    access::may_write(actor, Kind::Curriculum)?;
    let tx = store.begin_write().await?;
    update_in(&tx, actor, &changes).await?;
    commit_returning::<curriculum::Entity>(store, tx, changes.id).await
}

/// Applies `changes` inside `conn` (API and demo data): the editor rule, the
/// lifecycle, and, when a field changed, the version and the `UPDATED` event.
pub async fn update_in<C: ConnectionTrait>(
    conn: &C,
    actor: &Actor,
    changes: &CurriculumChanges,
) -> AppResult<Vec<&'static str>> {
    access::may_write(actor, Kind::Curriculum)?;
    let id = changes.id;
    let contributors = match &changes.contributor_codes {
        Some(codes) => Some(organizations::ids_for_codes(conn, codes, "contributorCodes").await?),
        None => None,
    };
    let Some(found) = curriculum::Entity::find_by_id(id).one(conn).await? else {
        return Err(AppError::not_found("no Curriculum with that id"));
    };
    let facts = CurriculumFacts { owner: found.owner_id, contributors: contributor_ids(conn, id).await? };
    access::may_edit_curriculum(actor, &facts)?;
    // The row read above is the current one: check its version, do not read it again.
    if let Some(expected) = changes.expected_version {
        check_version(Kind::Curriculum, found.version, expected)?;
    }
    let cur = found;
    let mut fields = Vec::new();
    let mut am = <curriculum::ActiveModel as Default>::default();
    if let Some(v) = diff(&mut fields, "titleTh", &cur.title_th, changes.title_th.clone()) {
        am.title_th = Set(v);
    }
    if let Some(v) = diff(&mut fields, "titleEn", &cur.title_en, changes.title_en.clone()) {
        am.title_en = Set(v);
    }
    let areas = changes.focus_areas.as_deref().map(|a| enums::join_list(a, FocusArea::as_str));
    if let Some(v) = diff(&mut fields, "focusAreas", &cur.focus_areas, areas) {
        am.focus_areas = Set(v);
    }
    let status = cur.status;
    if let Some(to) = changes.status.filter(|to| *to != status) {
        lifecycle::check_move("status", CURRICULUM_MOVES, status, to)?;
        fields.push("status");
        am.status = Set(to);
    }
    let contributors = contributors.map(|mut list| {
        list.retain(|c| *c != cur.owner_id);
        list
    });
    let contributors = diff(&mut fields, "contributors", &facts.contributors, contributors);
    let modules = match &changes.modules {
        Some(list) => {
            let existing: Vec<ModuleRow> = curriculum_module::Entity::find()
                .filter(curriculum_module::Column::CurriculumId.eq(id))
                .all(conn)
                .await?
                .into_iter()
                .map(|m| (m.title, m.hours, m.objectives))
                .collect();
            diff(&mut fields, "modules", &existing, Some(module_rows(list)))
        }
        None => None,
    };
    let models = match &changes.model_community_ids {
        Some(ids_in) => {
            let wanted =
                super::existing_ids::<community::Entity, _>(conn, ids_in, Kind::Community, "modelCommunityIds").await?;
            let mut existing: Vec<i64> = curriculum_model_community::Entity::find()
                .filter(curriculum_model_community::Column::CurriculumId.eq(id))
                .all(conn)
                .await?
                .into_iter()
                .map(|m| m.community_id)
                .collect();
            existing.sort_unstable();
            diff(&mut fields, "modelCommunities", &existing, Some(wanted))
        }
        None => None,
    };
    if fields.is_empty() {
        return Ok(fields);
    }
    let before = super::snapshots::take(conn, Kind::Curriculum, id).await?;
    replace_parts(conn, id, contributors.as_deref(), modules, models.as_deref()).await?;
    bump(conn, am, id, cur.version, Kind::Curriculum).await?;
    super::changes::record(conn, actor, ChangeOperation::Updated, Kind::Curriculum, id, &fields, Some(before)).await?;
    Ok(fields)
}
