//! Builds a planned answer from its rows, field by field in the plan's
//! order, as the resolvers would answer.

use super::fetch::{NestedRow, Row, Rows};
use super::select::{Connection, ConnectionField, EdgeField, Field, Object, PageInfoField, Plan};
use crate::store::keyset::Page;
use async_graphql::indexmap::IndexMap;
use async_graphql::{Name, Value};

/// The `data` of a planned operation; `None` if the rows do not fit the
/// plan (a nested page without its parent's rows, an enrolment without its
/// programme): the resolvers then answer, and report it.
pub fn render(plan: &Plan, rows: &[Rows]) -> Option<Value> {
    let mut data = IndexMap::with_capacity(plan.roots.len());
    for (key, connection) in &plan.roots {
        let Some(Rows::Communities(page)) = rows.get(connection.index) else { return None };
        data.insert(key.clone(), render_connection(connection, page, |fields, m| community(fields, m, rows))?);
    }
    Some(Value::Object(data))
}

/// A connection over `page`, its nodes rendered by `node`.
fn render_connection<M>(
    connection: &Connection,
    page: &Page<M>,
    node: impl Fn(&Object, &M) -> Option<Value>,
) -> Option<Value> {
    let mut out = IndexMap::with_capacity(connection.fields.len());
    for (key, field) in &connection.fields {
        let value = match field {
            ConnectionField::Typename(name) => Value::String((*name).to_owned()),
            ConnectionField::Nodes(fields) => {
                Value::List(page.rows.iter().map(|(_, m)| node(fields, m)).collect::<Option<_>>()?)
            }
            ConnectionField::Edges(edge) => Value::List(
                page.rows
                    .iter()
                    .map(|(cursor, m)| {
                        let mut out = IndexMap::with_capacity(edge.len());
                        for (key, field) in edge {
                            let value = match field {
                                EdgeField::Typename(name) => Value::String((*name).to_owned()),
                                EdgeField::Cursor => Value::String(cursor.clone()),
                                EdgeField::Node(fields) => node(fields, m)?,
                            };
                            out.insert(key.clone(), value);
                        }
                        Some(Value::Object(out))
                    })
                    .collect::<Option<_>>()?,
            ),
            ConnectionField::PageInfo(info) => {
                let mut out = IndexMap::with_capacity(info.len());
                let cursor = |c: Option<&(String, M)>| c.map_or(Value::Null, |(c, _)| Value::String(c.clone()));
                for (key, field) in info {
                    let value = match field {
                        PageInfoField::Typename => Value::String("PageInfo".to_owned()),
                        PageInfoField::HasNextPage => Value::Boolean(page.has_next_page),
                        PageInfoField::HasPreviousPage => Value::Boolean(page.has_previous_page),
                        PageInfoField::StartCursor => cursor(page.rows.first()),
                        PageInfoField::EndCursor => cursor(page.rows.last()),
                    };
                    out.insert(key.clone(), value);
                }
                Value::Object(out)
            }
        };
        out.insert(key.clone(), value);
    }
    Some(Value::Object(out))
}

/// An object of `fields`, each rendered by `field` (`None` when one does
/// not belong to this type).
fn object(fields: &Object, mut field: impl FnMut(&Field) -> Option<Value>) -> Option<Value> {
    let mut out: IndexMap<Name, Value> = IndexMap::with_capacity(fields.len());
    for (key, f) in fields {
        let value = match f {
            Field::Typename(name) => Value::String((*name).to_owned()),
            _ => field(f)?,
        };
        out.insert(key.clone(), value);
    }
    Some(Value::Object(out))
}

fn community(fields: &Object, row: &Row, rows: &[Rows]) -> Option<Value> {
    object(fields, |field| match field {
        Field::Column(i) => row.values.get(*i).cloned(),
        Field::Contact { name, fields } => match row.values.get(*name)? {
            Value::Null => Some(Value::Null),
            _ => object(fields, |field| match field {
                Field::Column(i) => row.values.get(*i).cloned(),
                _ => None,
            }),
        },
        Field::Enrolments(connection) => {
            let Some(Rows::Enrolments(pages)) = rows.get(connection.index) else { return None };
            render_connection(connection, pages.get(&row.id)?, enrolment)
        }
        _ => None,
    })
}

fn enrolment(fields: &Object, row: &NestedRow) -> Option<Value> {
    object(fields, |field| match field {
        Field::Column(i) => row.values.get(*i).cloned(),
        Field::Programme(fields) if row.programme => object(fields, |field| match field {
            Field::Column(i) => row.values.get(*i).cloned(),
            Field::Mou(_) if !row.mou => Some(Value::Null),
            Field::Mou(fields) => object(fields, |field| match field {
                Field::Column(i) => row.values.get(*i).cloned(),
                _ => None,
            }),
            _ => None,
        }),
        _ => None,
    })
}
