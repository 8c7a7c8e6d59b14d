//! What an export runs: the caller's query, checked and rewritten to page
//! its one root connection.
//!
//! The query must have exactly one root field, written in the operation
//! itself, that is a connection of the schema (a root field whose type is
//! a `...Connection` and that takes `first` and `after`), without `first`,
//! `last`, `after` or `before`: the export pages it. The connection must
//! select `nodes { ... }` or `edges { node { ... } }`; each node becomes
//! one line of the file. CSV needs a flat node selection (scalars and
//! enums only), whose response keys are the header.
//!
//! The rewrite splices text into the document rather than printing a new
//! one, so everything else (comments, fragments, directives, string
//! escapes) stays as the caller wrote it: `first: $exportFirst_, after:
//! $exportAfter_` into the root field's arguments, their variable
//! definitions into the operation's, and `exportPage_: pageInfo {
//! hasNextPage endCursor }` into the root field's selection. The parser's
//! positions are (line, column) with columns counted in characters (and a
//! carriage return resetting the column, as its own position calculator
//! does); [`offset`] turns them into byte offsets, and a small scanner
//! finds the ends of names and parenthesised lists from there. The result
//! is parsed again before it is used.

use std::collections::HashMap;
use std::sync::OnceLock;

use async_graphql::Positioned;
use async_graphql::parser::types::{
    BaseType, DocumentOperations, ExecutableDocument, Field, OperationDefinition, OperationType, Selection, TypeKind,
    TypeSystemDefinition,
};
use async_graphql::parser::{Pos, parse_query, parse_schema};

use crate::domain::enums::ExportFormat;
use crate::error::AppError;

/// The variable holding the page size.
pub const FIRST_VAR: &str = "exportFirst_";
/// The variable holding the cursor after which the page starts.
pub const AFTER_VAR: &str = "exportAfter_";
/// The response key of the page info the rewrite adds.
pub const PAGE_KEY: &str = "exportPage_";
/// Nodes per page: the API's largest page.
pub const PAGE_SIZE: u64 = crate::store::keyset::MAX_PAGE_SIZE;

/// Where a page's nodes are in the root connection's answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Items {
    /// `nodes` (under this response key).
    Nodes(String),
    /// `edges[].node` (under these response keys).
    Edges(String, String),
}

/// A checked, rewritten export query.
#[derive(Clone, Debug)]
pub struct Plan {
    /// The rewritten document.
    pub text: String,
    /// The operation to run.
    pub operation_name: Option<String>,
    /// The root connection's field name.
    pub root_field: String,
    /// Its type's name (`CommunityConnection`, ...).
    pub root_type: String,
    /// The response key of the root connection.
    pub root_key: String,
    /// Where its nodes are.
    pub items: Items,
    /// CSV only: the header, the node's response keys in selection order.
    pub columns: Option<Vec<String>>,
}

fn bad(message: impl Into<String>) -> AppError {
    AppError::bad_input("query", message)
}

/// The schema's root connections: name → type name.
fn root_connections() -> &'static HashMap<String, String> {
    static ROOTS: OnceLock<HashMap<String, String>> = OnceLock::new();
    ROOTS.get_or_init(|| {
        let mut roots = HashMap::new();
        let Ok(schema) = parse_schema(crate::graphql::sdl()) else { return roots };
        for definition in schema.definitions {
            let TypeSystemDefinition::Type(ty) = definition else { continue };
            let (name, TypeKind::Object(object)) = (ty.node.name.node.as_str(), &ty.node.kind) else { continue };
            if name != "Query" {
                continue;
            }
            for field in &object.fields {
                let field = &field.node;
                let BaseType::Named(ty) = &field.ty.node.base else { continue };
                let has = |arg: &str| field.arguments.iter().any(|a| a.node.name.node.as_str() == arg);
                if ty.as_str().ends_with("Connection") && has("first") && has("after") {
                    roots.insert(field.name.node.to_string(), ty.to_string());
                }
            }
        }
        roots
    })
}

/// The names of the root connections an export may page, sorted.
pub fn connection_names() -> Vec<String> {
    let mut names: Vec<String> = root_connections().keys().cloned().collect();
    names.sort();
    names
}

/// The operation of `doc` named `name` (or the only one), with its position.
fn operation<'a>(
    doc: &'a ExecutableDocument,
    name: Option<&str>,
) -> Result<&'a Positioned<OperationDefinition>, AppError> {
    match (&doc.operations, name) {
        (DocumentOperations::Single(op), _) => Ok(op),
        (DocumentOperations::Multiple(ops), Some(name)) => {
            ops.get(name).ok_or_else(|| bad(format!("the query has no operation named `{name}`")))
        }
        (DocumentOperations::Multiple(ops), None) if ops.len() == 1 => {
            ops.values().next().ok_or_else(|| bad("the query has no operation"))
        }
        (DocumentOperations::Multiple(_), None) => {
            Err(bad("the query has several operations: name the one to export in operationName"))
        }
    }
}

/// Checks `query` for an export in `format` and rewrites it to page its
/// root connection.
pub fn plan(query: &str, operation_name: Option<&str>, format: ExportFormat) -> Result<Plan, AppError> {
    let doc = parse_query(query).map_err(|e| bad(format!("the query does not parse: {e}")))?;
    let op = operation(&doc, operation_name)?;
    if op.node.ty != OperationType::Query {
        return Err(bad("only a query can be exported"));
    }
    for var in &op.node.variable_definitions {
        let name = var.node.name.node.as_str();
        if name == FIRST_VAR || name == AFTER_VAR {
            return Err(bad(format!("the variable names ${FIRST_VAR} and ${AFTER_VAR} are reserved for the export")));
        }
    }
    let items = &op.node.selection_set.node.items;
    let field = match items.as_slice() {
        [one] => match &one.node {
            Selection::Field(field) => field,
            _ => return Err(bad("write the root field in the operation itself, not in a fragment")),
        },
        _ => {
            return Err(bad(format!(
                "an export's query has exactly one root field, a connection; this one has {}",
                items.len()
            )));
        }
    };
    let name = field.node.name.node.as_str();
    let Some(root_type) = root_connections().get(name) else {
        return Err(bad(format!(
            "`{name}` is not a connection: an export pages one of {}",
            connection_names().join(", ")
        )));
    };
    if let Some((arg, _)) =
        field.node.arguments.iter().find(|(n, _)| ["first", "last", "after", "before"].contains(&n.node.as_str()))
    {
        return Err(bad(format!("do not pass `{}` to `{name}`: the export pages it itself", arg.node)));
    }
    if !field.node.directives.is_empty() {
        return Err(bad(format!("directives on `{name}` are not supported in an export")));
    }
    let selection = &field.node.selection_set.node.items;
    let direct = |wanted: &str| -> Option<&Positioned<Field>> {
        selection.iter().find_map(|s| match &s.node {
            Selection::Field(f) if f.node.name.node.as_str() == wanted => Some(f),
            _ => None,
        })
    };
    if selection.iter().any(|s| match &s.node {
        Selection::Field(f) => f.node.response_key().node.as_str() == PAGE_KEY,
        _ => false,
    }) {
        return Err(bad(format!("the response key `{PAGE_KEY}` is reserved for the export")));
    }
    let (items, node) = match (direct("nodes"), direct("edges")) {
        (Some(nodes), _) => (Items::Nodes(nodes.node.response_key().node.to_string()), nodes),
        (None, Some(edges)) => {
            let node = edges.node.selection_set.node.items.iter().find_map(|s| match &s.node {
                Selection::Field(f) if f.node.name.node.as_str() == "node" => Some(f),
                _ => None,
            });
            let Some(node) = node else {
                return Err(bad(format!("select `edges {{ node {{ ... }} }}` of `{name}`")));
            };
            let keys = (edges.node.response_key().node.to_string(), node.node.response_key().node.to_string());
            (Items::Edges(keys.0, keys.1), node)
        }
        (None, None) => {
            return Err(bad(format!(
                "select `nodes {{ ... }}` or `edges {{ node {{ ... }} }}` of `{name}` (written directly in it): each node is one line of the export"
            )));
        }
    };
    let columns = match format {
        ExportFormat::Jsonl => None,
        ExportFormat::Csv => Some(csv_columns(node)?),
    };
    let text = splice(query, op, field)?;
    // The rewritten text must still be one valid document.
    parse_query(&text).map_err(|e| AppError::internal(format!("the export's rewritten query does not parse: {e}")))?;
    Ok(Plan {
        text,
        operation_name: operation_name.map(str::to_owned),
        root_field: name.to_owned(),
        root_type: root_type.clone(),
        root_key: field.node.response_key().node.to_string(),
        items,
        columns,
    })
}

/// The CSV header of a node selection: its response keys, in order; every
/// field must be a scalar or an enum (no selection of its own).
fn csv_columns(node: &Positioned<Field>) -> Result<Vec<String>, AppError> {
    let mut columns: Vec<String> = Vec::new();
    for selection in &node.node.selection_set.node.items {
        match &selection.node {
            Selection::Field(f) => {
                let key = f.node.response_key().node.to_string();
                if !f.node.selection_set.node.items.is_empty() {
                    return Err(bad(format!(
                        "CSV needs a flat selection: `{key}` is an object; export JSONL for nested data"
                    )));
                }
                if !columns.contains(&key) {
                    columns.push(key);
                }
            }
            _ => return Err(bad("CSV needs the node's fields listed directly, without fragments")),
        }
    }
    if columns.is_empty() {
        return Err(bad("CSV needs at least one field of the node"));
    }
    Ok(columns)
}

/// The byte offset of `pos` in `text`, counting as the parser does: lines
/// end at `\n`, columns count characters, and `\r` restarts the column.
pub fn offset(text: &str, pos: Pos) -> Option<usize> {
    let (mut line, mut column) = (1usize, 1usize);
    for (i, ch) in text.char_indices() {
        if line == pos.line && column == pos.column {
            return Some(i);
        }
        match ch {
            '\r' => column = 1,
            '\n' => {
                line += 1;
                column = 1;
            }
            _ => column += 1,
        }
    }
    (line == pos.line && column == pos.column).then_some(text.len())
}

/// The offset past whitespace, commas, a byte-order mark and comments from `i`.
fn skip_ignored(text: &str, mut i: usize) -> usize {
    let bytes = text.as_bytes();
    while i < bytes.len() {
        match bytes[i] {
            b' ' | b'\t' | b'\n' | b'\r' | b',' => i += 1,
            b'#' => {
                while i < bytes.len() && bytes[i] != b'\n' && bytes[i] != b'\r' {
                    i += 1;
                }
            }
            0xEF if text[i..].starts_with('\u{feff}') => i += '\u{feff}'.len_utf8(),
            _ => break,
        }
    }
    i
}

/// The offset past the name that starts at `i`.
fn name_end(text: &str, mut i: usize) -> usize {
    let bytes = text.as_bytes();
    while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_') {
        i += 1;
    }
    i
}

/// The offset of the `)` that closes the `(` at `open`, skipping strings,
/// block strings and comments.
fn closing_paren(text: &str, open: usize) -> Option<usize> {
    let bytes = text.as_bytes();
    let mut depth = 0usize;
    let mut i = open;
    while i < bytes.len() {
        match bytes[i] {
            b'(' => depth += 1,
            b')' => {
                depth -= 1;
                if depth == 0 {
                    return Some(i);
                }
            }
            b'#' => {
                i = skip_ignored(text, i);
                continue;
            }
            b'"' if text[i..].starts_with("\"\"\"") => {
                // A block string ends at the next unescaped `"""`.
                i += 3;
                loop {
                    if i >= bytes.len() {
                        return None;
                    }
                    if text[i..].starts_with("\\\"\"\"") {
                        i += 4;
                    } else if text[i..].starts_with("\"\"\"") {
                        i += 3;
                        break;
                    } else {
                        i += 1;
                    }
                }
                continue;
            }
            b'"' => {
                i += 1;
                while i < bytes.len() && bytes[i] != b'"' {
                    i += if bytes[i] == b'\\' { 2 } else { 1 };
                }
            }
            _ => {}
        }
        i += 1;
    }
    None
}

/// Splices the paging arguments, variables and page info into `query`.
fn splice(query: &str, op: &Positioned<OperationDefinition>, field: &Positioned<Field>) -> Result<String, AppError> {
    let lost = || AppError::internal("the export's query could not be rewritten");
    let mut inserts: Vec<(usize, String)> = Vec::new();
    let definitions = format!("${FIRST_VAR}: Int!, ${AFTER_VAR}: String");
    // The variable definitions.
    let start = offset(query, op.pos).ok_or_else(lost)?;
    if query[start..].starts_with('{') {
        inserts.push((start, format!("query({definitions}) ")));
    } else {
        let mut i = skip_ignored(query, name_end(query, start));
        if query[i..].starts_with(|c: char| c.is_ascii_alphabetic() || c == '_') {
            i = name_end(query, i);
        }
        let after_name = i;
        i = skip_ignored(query, i);
        if query[i..].starts_with('(') {
            let close = closing_paren(query, i).ok_or_else(lost)?;
            inserts.push((close, format!(", {definitions}")));
        } else {
            inserts.push((after_name, format!("({definitions})")));
        }
    }
    // The root field's arguments.
    let name_at = offset(query, field.node.name.pos).ok_or_else(lost)?;
    let name_to = name_end(query, name_at);
    if &query[name_at..name_to] != field.node.name.node.as_str() {
        return Err(lost());
    }
    let paging = format!("first: ${FIRST_VAR}, after: ${AFTER_VAR}");
    let i = skip_ignored(query, name_to);
    if query[i..].starts_with('(') {
        inserts.push((i + 1, format!("{paging}, ")));
    } else {
        inserts.push((name_to, format!("({paging})")));
    }
    // The page info, first in the root field's selection.
    let brace = offset(query, field.node.selection_set.pos).ok_or_else(lost)?;
    if !query[brace..].starts_with('{') {
        return Err(lost());
    }
    inserts.push((brace + 1, format!(" {PAGE_KEY}: pageInfo {{ hasNextPage endCursor }} ")));
    inserts.sort_by_key(|insert| std::cmp::Reverse(insert.0));
    let mut text = query.to_owned();
    for (at, insert) in inserts {
        text.insert_str(at, &insert);
    }
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rewritten(query: &str) -> String {
        plan(query, None, ExportFormat::Jsonl).expect("a valid export query").text
    }

    #[test]
    fn a_shorthand_query_gets_an_operation_with_the_paging_variables() {
        assert_eq!(
            rewritten("{ communities { nodes { code } } }"),
            "query($exportFirst_: Int!, $exportAfter_: String) { communities(first: $exportFirst_, after: $exportAfter_) { exportPage_: pageInfo { hasNextPage endCursor }  nodes { code } } }"
        );
    }

    #[test]
    fn existing_arguments_and_variables_are_kept() {
        let text = rewritten(
            "# ชุมชน \"(\"\nquery Q($f: CommunityFilter = {search: \"a)b\"}) {\n  list: communities(filter: $f) {\n edges { node { nameTh } } } }",
        );
        assert!(
            text.contains(
                "query Q($f: CommunityFilter = {search: \"a)b\"}, $exportFirst_: Int!, $exportAfter_: String)"
            ),
            "{text}"
        );
        assert!(text.contains("list: communities(first: $exportFirst_, after: $exportAfter_, filter: $f)"), "{text}");
    }

    #[test]
    fn a_named_query_without_variables_gets_them() {
        let text = rewritten("query  All @skip(if: false) { enrolments { nodes { status } } }");
        assert!(text.starts_with("query  All($exportFirst_: Int!, $exportAfter_: String) @skip"), "{text}");
    }

    #[test]
    fn positions_count_characters_not_bytes() {
        let text = rewritten("{ # ชุมชนไทย\n  communities { nodes { nameTh } } }");
        assert!(text.contains("communities(first: $exportFirst_"), "{text}");
    }

    #[test]
    fn refusals_say_what_is_wrong() {
        let refused = |q: &str, f: ExportFormat| plan(q, None, f).expect_err(q).message();
        assert!(
            refused("{ communities { nodes { code } } mous { nodes { code } } }", ExportFormat::Jsonl)
                .contains("exactly one root field")
        );
        assert!(refused("{ viewer { subject } }", ExportFormat::Jsonl).contains("not a connection"));
        assert!(refused("{ communities(first: 5) { nodes { code } } }", ExportFormat::Jsonl).contains("`first`"));
        assert!(refused("{ communities { totalCount } }", ExportFormat::Jsonl).contains("nodes"));
        assert!(
            refused("{ communities { nodes { code province { code } } } }", ExportFormat::Csv)
                .contains("CSV needs a flat selection: `province` is an object")
        );
        assert!(refused("mutation { x }", ExportFormat::Jsonl).contains("only a query"));
    }
}
