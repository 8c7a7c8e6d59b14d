//! The SQL form of the read rules of `domain::access`.
//!
//! List reads and the change feed filter in SQL; single reads and writes
//! decide in Rust. Both start from the same values ([`access::read_rule`],
//! [`access::MOU_VISIBLE`]): this module only translates each
//! [`RowRule`] into a condition on `mous`, and says how a row of each record
//! type reaches its MOU. `tests/rules/` checks, on generated data and on
//! both engines, that the translation and [`access::ReadRule::allows`] agree.

use entity::{change_event, commitment, mou, mou_party};
use sea_orm::sea_query::{Query, SelectStatement};
use sea_orm::{ColumnTrait, Condition};

use crate::domain::access::{self, Actor, RowRule};
use crate::domain::ids::Kind;

/// The condition on `mous` rows under which any of `rules` holds for `actor`.
pub fn mou_rows(rules: &[RowRule], actor: &Actor) -> Condition {
    rules.iter().fold(Condition::any(), |any, rule| {
        any.add(match *rule {
            RowRule::MouStatusIn(statuses) => mou::Column::Status.is_in(statuses.iter().map(|s| s.as_str())),
            RowRule::CallerIsMouParty => mou::Column::Id.in_subquery(
                Query::select()
                    .column(mou_party::Column::MouId)
                    .from(mou_party::Entity)
                    .and_where(mou_party::Column::OrganizationId.eq(actor.org_id))
                    .to_owned(),
            ),
        })
    })
}

/// The MOUs `actor` may see ([`access::MOU_VISIBLE`]), as a condition on `mous`.
pub fn visible_mous(actor: &Actor) -> Condition {
    mou_rows(access::MOU_VISIBLE, actor)
}

/// `SELECT id FROM mous WHERE` any of `rules` holds.
fn mou_ids(rules: &[RowRule], actor: &Actor) -> SelectStatement {
    Query::select().column(mou::Column::Id).from(mou::Entity).cond_where(mou_rows(rules, actor)).to_owned()
}

/// The ids of records of `kind` whose MOU satisfies any of `rules`.
/// Only MOUs and commitments are MOU-bound.
fn bound_ids(kind: Kind, rules: &[RowRule], actor: &Actor) -> Option<SelectStatement> {
    match kind {
        Kind::Mou => Some(mou_ids(rules, actor)),
        Kind::Commitment => Some(
            Query::select()
                .column(commitment::Column::Id)
                .from(commitment::Entity)
                .and_where(commitment::Column::MouId.in_subquery(mou_ids(rules, actor)))
                .to_owned(),
        ),
        _ => None,
    }
}

/// Change events `actor` may read: those of record types whose
/// [`access::read_rule`] admits the record, evaluated in SQL.
pub fn readable_events(actor: &Actor) -> Condition {
    let mut any = Condition::any();
    for kind in Kind::ALL.into_iter().filter(|k| k.in_feed()) {
        let rule = access::read_rule(kind);
        if rule.scope.is_some_and(|s| !actor.has(s)) {
            continue;
        }
        let of_kind = change_event::Column::EntityType.eq(kind.name());
        any = match rule.rows {
            None => any.add(of_kind),
            Some(rows) => match bound_ids(kind, rows, actor) {
                Some(ids) => {
                    any.add(Condition::all().add(of_kind).add(change_event::Column::EntityId.in_subquery(ids)))
                }
                // A row rule on a type that is not MOU-bound admits nothing.
                None => any,
            },
        };
    }
    // No readable type at all: `any` of nothing would admit every row.
    if any.is_empty() { Condition::all().add(change_event::Column::Id.lt(0)) } else { any }
}
