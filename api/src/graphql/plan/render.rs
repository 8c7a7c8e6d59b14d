//! Writes a planned answer's `data` as JSON text straight from its rows,
//! field by field in the plan's order, as the resolvers would answer: no
//! tree of values is built and serialised, and each row's values are
//! already JSON ([`super::fetch::Values`]).

use std::cell::RefCell;

use super::fetch::{NestedRow, Row, Rows};
use super::select::{Connection, ConnectionField, EdgeField, Field, Object, PageInfoField, Plan};
use crate::store::keyset::Page;

/// The JSON of the `data` of a planned operation; `None` if the rows do
/// not fit the plan (a nested page without its parent's rows, an enrolment
/// without its programme): the resolvers then answer, and report it. The
/// ids of the communities whose contact it writes are added to `contacts`.
pub fn render(plan: &Plan, rows: &[Rows], contacts: &RefCell<Vec<i64>>) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(16 * 1024);
    out.push(b'{');
    for (n, (key, connection)) in plan.roots.iter().enumerate() {
        separate(&mut out, n, key);
        let Some(Rows::Communities(page)) = rows.get(connection.index) else { return None };
        render_connection(&mut out, connection, page, |out, fields, m| community(out, fields, m, rows, contacts))?;
    }
    out.push(b'}');
    Some(out)
}

/// A JSON string.
fn string(out: &mut Vec<u8>, text: &str) {
    // Writing to a Vec cannot fail, and a &str is always valid JSON text.
    let _ = serde_json::to_writer(&mut *out, text);
}

/// A comma before every member but the first, then the member's key.
fn separate(out: &mut Vec<u8>, n: usize, key: &str) {
    if n > 0 {
        out.push(b',');
    }
    string(out, key);
    out.push(b':');
}

fn boolean(out: &mut Vec<u8>, value: bool) {
    out.extend_from_slice(if value { b"true" } else { b"false" });
}

/// A connection over `page`, its nodes written by `node`.
fn render_connection<M>(
    out: &mut Vec<u8>,
    connection: &Connection,
    page: &Page<M>,
    node: impl Fn(&mut Vec<u8>, &Object, &M) -> Option<()>,
) -> Option<()> {
    out.push(b'{');
    for (n, (key, field)) in connection.fields.iter().enumerate() {
        separate(out, n, key);
        match field {
            ConnectionField::Typename(name) => string(out, name),
            ConnectionField::Nodes(fields) => {
                out.push(b'[');
                for (i, (_, m)) in page.rows.iter().enumerate() {
                    if i > 0 {
                        out.push(b',');
                    }
                    node(out, fields, m)?;
                }
                out.push(b']');
            }
            ConnectionField::Edges(edge) => {
                out.push(b'[');
                for (i, (cursor, m)) in page.rows.iter().enumerate() {
                    if i > 0 {
                        out.push(b',');
                    }
                    out.push(b'{');
                    for (n, (key, field)) in edge.iter().enumerate() {
                        separate(out, n, key);
                        match field {
                            EdgeField::Typename(name) => string(out, name),
                            EdgeField::Cursor => string(out, cursor),
                            EdgeField::Node(fields) => node(out, fields, m)?,
                        }
                    }
                    out.push(b'}');
                }
                out.push(b']');
            }
            ConnectionField::PageInfo(info) => {
                let cursor = |out: &mut Vec<u8>, c: Option<&(String, M)>| match c {
                    Some((c, _)) => string(out, c),
                    None => out.extend_from_slice(b"null"),
                };
                out.push(b'{');
                for (n, (key, field)) in info.iter().enumerate() {
                    separate(out, n, key);
                    match field {
                        PageInfoField::Typename => string(out, "PageInfo"),
                        PageInfoField::HasNextPage => boolean(out, page.has_next_page),
                        PageInfoField::HasPreviousPage => boolean(out, page.has_previous_page),
                        PageInfoField::StartCursor => cursor(out, page.rows.first()),
                        PageInfoField::EndCursor => cursor(out, page.rows.last()),
                    }
                }
                out.push(b'}');
            }
        }
    }
    out.push(b'}');
    Some(())
}

/// An object of `fields`, each written by `field` (`None` when one does
/// not belong to this type).
fn object(out: &mut Vec<u8>, fields: &Object, mut field: impl FnMut(&mut Vec<u8>, &Field) -> Option<()>) -> Option<()> {
    out.push(b'{');
    for (n, (key, f)) in fields.iter().enumerate() {
        separate(out, n, key);
        match f {
            Field::Typename(name) => string(out, name),
            _ => field(out, f)?,
        }
    }
    out.push(b'}');
    Some(())
}

fn community(out: &mut Vec<u8>, fields: &Object, row: &Row, rows: &[Rows], contacts: &RefCell<Vec<i64>>) -> Option<()> {
    object(out, fields, |out, field| match field {
        Field::Column(i) => row.values.write(out, *i),
        Field::Contact { name, fields } => match row.values.is_null(*name)? {
            true => {
                out.extend_from_slice(b"null");
                Some(())
            }
            false => {
                contacts.borrow_mut().push(row.id);
                object(out, fields, |out, field| match field {
                    Field::Column(i) => row.values.write(out, *i),
                    _ => None,
                })
            }
        },
        Field::Enrolments(connection) => {
            let Some(Rows::Enrolments(pages)) = rows.get(connection.index) else { return None };
            render_connection(out, connection, pages.get(&row.id)?, enrolment)
        }
        _ => None,
    })
}

fn enrolment(out: &mut Vec<u8>, fields: &Object, row: &NestedRow) -> Option<()> {
    object(out, fields, |out, field| match field {
        Field::Column(i) => row.values.write(out, *i),
        Field::Programme(fields) if row.programme => object(out, fields, |out, field| match field {
            Field::Column(i) => row.values.write(out, *i),
            Field::Mou(_) if !row.mou => {
                out.extend_from_slice(b"null");
                Some(())
            }
            Field::Mou(fields) => object(out, fields, |out, field| match field {
                Field::Column(i) => row.values.write(out, *i),
                _ => None,
            }),
            _ => None,
        }),
        _ => None,
    })
}
