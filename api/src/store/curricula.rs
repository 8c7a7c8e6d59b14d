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
use crate::domain::access::{self, Actor, Scope};
use crate::domain::enums::{self, ChangeOperation, CurriculumKind, CurriculumStatus, FocusArea};
use crate::domain::ids::{self, Kind};
use crate::domain::inputs::{CreateCurriculumInput, CurriculumModuleInput, UpdateCurriculumInput};
use crate::domain::lifecycle::{self, CURRICULUM_MOVES};
use crate::domain::text::{self, limits};
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

type Module = (String, Option<f64>, Option<String>);

fn validate_modules(modules: &[CurriculumModuleInput]) -> AppResult<Vec<Module>> {
    if modules.len() > 100 {
        return Err(AppError::bad_input("modules", "at most 100 modules"));
    }
    modules
        .iter()
        .map(|m| {
            if let Some(h) = m.hours
                && !(h.is_finite() && (0.0..=10_000.0).contains(&h))
            {
                return Err(AppError::bad_input("modules.hours", "hours must be between 0 and 10000"));
            }
            Ok((
                text::required("modules.title", &m.title, limits::NAME)?,
                m.hours,
                text::optional("modules.objectives", m.objectives.as_deref(), limits::LONG)?,
            ))
        })
        .collect()
}

fn validate_areas(areas: &[FocusArea]) -> AppResult<String> {
    if areas.is_empty() {
        return Err(AppError::bad_input("focusAreas", "a curriculum has at least one focus area"));
    }
    Ok(enums::join_list(areas, FocusArea::as_str))
}

async fn replace_parts<C: ConnectionTrait>(
    conn: &C,
    id: i64,
    contributors: Option<&[i64]>,
    modules: Option<Vec<Module>>,
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

/// Creates a curriculum in DRAFT; the caller's organisation owns it.
pub async fn create(store: &Store, actor: &Actor, input: CreateCurriculumInput, key: Option<&str>) -> AppResult<i64> {
    actor.require(Scope::CurriculaWrite)?;
    let code = text::code("code", &input.code)?;
    let title_th = text::required("titleTh", &input.title_th, limits::NAME)?;
    let title_en = text::optional("titleEn", input.title_en.as_deref(), limits::NAME)?;
    let areas = validate_areas(&input.focus_areas)?;
    let modules = validate_modules(input.modules.as_deref().unwrap_or_default())?;
    let mut contributors =
        organizations::ids_for_codes(store, input.contributor_codes.as_deref().unwrap_or_default(), "contributorCodes")
            .await?;
    contributors.retain(|c| *c != actor.org_id);
    let models_in = input.model_community_ids.clone().unwrap_or_default();
    let fingerprint = serde_json::to_value(&input).unwrap_or_default();
    let actor_tx = actor.clone();
    idempotency::create(
        store,
        actor,
        key,
        "createCurriculum",
        Kind::Curriculum,
        &fingerprint,
        Box::new(move |tx| {
            Box::pin(async move {
                let models = super::existing_ids::<community::Entity, _>(
                    tx,
                    &models_in,
                    Kind::Community,
                    "modelCommunityIds",
                    200,
                )
                .await?;
                let at = now();
                let created = curriculum::ActiveModel {
                    code: Set(code),
                    title_th: Set(title_th),
                    title_en: Set(title_en),
                    kind: Set(input.kind),
                    status: Set(CurriculumStatus::Draft),
                    focus_areas: Set(areas),
                    owner_id: Set(actor_tx.org_id),
                    version: Set(1),
                    created_at: Set(at),
                    updated_at: Set(at),
                    ..Default::default()
                }
                .insert(tx)
                .await?;
                replace_parts(tx, created.id, Some(&contributors), Some(modules), Some(&models)).await?;
                changes::record(tx, &actor_tx, ChangeOperation::Created, Kind::Curriculum, created.id, &["*"]).await?;
                Ok(created.id)
            })
        }),
    )
    .await
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

/// Updates a curriculum: its owner or contributors.
pub async fn update(store: &Store, actor: &Actor, input: UpdateCurriculumInput) -> AppResult<curriculum::Model> {
    actor.require(Scope::CurriculaWrite)?;
    let id = ids::decode(Kind::Curriculum, &input.id, "id")?;
    let title_th = input.title_th.as_deref().map(|v| text::required("titleTh", v, limits::NAME)).transpose()?;
    let title_en = input.title_en.as_deref().map(|v| text::optional("titleEn", Some(v), limits::NAME)).transpose()?;
    let areas = input.focus_areas.as_deref().map(validate_areas).transpose()?;
    let modules = input.modules.as_deref().map(validate_modules).transpose()?;
    let contributors = match &input.contributor_codes {
        Some(codes) => Some(organizations::ids_for_codes(store, codes, "contributorCodes").await?),
        None => None,
    };

    let tx = store.begin_write().await?;
    let Some(found) = curriculum::Entity::find_by_id(id).one(&tx).await? else {
        return Err(AppError::not_found("no Curriculum with that id"));
    };
    let current_contributors = contributor_ids(&tx, id).await?;
    access::require_curriculum_editor(actor, found.owner_id, &current_contributors)?;
    // The row read above is the current one: check its version, do not read it again.
    check_version(Kind::Curriculum, found.version, input.expected_version)?;
    let cur = found;
    let mut fields = Vec::new();
    let mut am = <curriculum::ActiveModel as Default>::default();
    if let Some(v) = diff(&mut fields, "titleTh", &cur.title_th, title_th) {
        am.title_th = Set(v);
    }
    if let Some(v) = diff(&mut fields, "titleEn", &cur.title_en, title_en) {
        am.title_en = Set(v);
    }
    if let Some(v) = diff(&mut fields, "focusAreas", &cur.focus_areas, areas) {
        am.focus_areas = Set(v);
    }
    let status = cur.status;
    if let Some(to) = input.status.filter(|to| *to != status) {
        lifecycle::check_move("status", CURRICULUM_MOVES, status, to)?;
        fields.push("status");
        am.status = Set(to);
    }
    let contributors = contributors.map(|mut list| {
        list.retain(|c| *c != cur.owner_id);
        list
    });
    let contributors = diff(&mut fields, "contributors", &current_contributors, contributors);
    let modules = match modules {
        Some(list) => {
            let existing: Vec<Module> = curriculum_module::Entity::find()
                .filter(curriculum_module::Column::CurriculumId.eq(id))
                .all(&tx)
                .await?
                .into_iter()
                .map(|m| (m.title, m.hours, m.objectives))
                .collect();
            diff(&mut fields, "modules", &existing, Some(list))
        }
        None => None,
    };
    let models = match &input.model_community_ids {
        Some(ids_in) => {
            let wanted =
                super::existing_ids::<community::Entity, _>(&tx, ids_in, Kind::Community, "modelCommunityIds", 200)
                    .await?;
            let mut existing: Vec<i64> = curriculum_model_community::Entity::find()
                .filter(curriculum_model_community::Column::CurriculumId.eq(id))
                .all(&tx)
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
        return commit_returning::<curriculum::Entity>(store, tx, id).await;
    }
    replace_parts(&tx, id, contributors.as_deref(), modules, models.as_deref()).await?;
    bump(&tx, am, id, input.expected_version, Kind::Curriculum).await?;
    changes::record(&tx, actor, ChangeOperation::Updated, Kind::Curriculum, id, &fields).await?;
    commit_returning::<curriculum::Entity>(store, tx, id).await
}
