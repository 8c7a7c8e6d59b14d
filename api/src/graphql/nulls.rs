//! Field errors and non-null types, as the GraphQL spec asks ("Handling
//! Execution Errors", "Errors and Non-Null Types"): a field that fails is
//! `null`, with its error at its path; when its type is non-null, the `null`
//! goes to its parent, and on up to the nearest nullable field (or to
//! `data` itself). A key is never missing.
//!
//! async-graphql 7 does not do this. When a field fails, its
//! `resolve_container` records the error and leaves the field's key out of
//! the parent object, whatever the field's type; an object whose every
//! field failed becomes `null`; nothing is propagated. [`propagate`] puts
//! the response right after execution, from the errors' paths, the
//! operation's text and the schema's field types. A response without field
//! errors is not touched (and costs nothing more).

use std::collections::HashMap;
use std::sync::{Arc, LazyLock};

use async_graphql::parser::types::{
    BaseType, DocumentOperations, ExecutableDocument, OperationType, Selection, SelectionSet, Type, TypeKind,
    TypeSystemDefinition,
};
use async_graphql::{Data, Executor, PathSegment, Request, Response, Value};
use futures_util::StreamExt;
use futures_util::stream::BoxStream;

/// The declared type of every field of the schema's object and interface
/// types, and the names of its root types.
pub struct FieldTypes {
    fields: HashMap<String, HashMap<String, Type>>,
    query: String,
    mutation: String,
    subscription: String,
}

/// The service's own schema, read once.
static SERVICE: LazyLock<FieldTypes> = LazyLock::new(|| FieldTypes::from_sdl(&super::sdl()));

impl FieldTypes {
    /// The field types of the schema `sdl` (empty when it does not parse).
    pub fn from_sdl(sdl: &str) -> FieldTypes {
        let mut types = FieldTypes {
            fields: HashMap::new(),
            query: "Query".to_owned(),
            mutation: "Mutation".to_owned(),
            subscription: "Subscription".to_owned(),
        };
        let Ok(document) = async_graphql::parser::parse_schema(sdl) else {
            return types;
        };
        for definition in document.definitions {
            match definition {
                TypeSystemDefinition::Type(t) => {
                    let t = t.node;
                    let fields = match t.kind {
                        TypeKind::Object(o) => o.fields,
                        TypeKind::Interface(i) => i.fields,
                        _ => continue,
                    };
                    let fields = fields.into_iter().map(|f| (f.node.name.node.to_string(), f.node.ty.node)).collect();
                    types.fields.insert(t.name.node.to_string(), fields);
                }
                TypeSystemDefinition::Schema(s) => {
                    let s = s.node;
                    for (root, name) in [
                        (&mut types.query, s.query),
                        (&mut types.mutation, s.mutation),
                        (&mut types.subscription, s.subscription),
                    ] {
                        if let Some(name) = name {
                            *root = name.node.to_string();
                        }
                    }
                }
                TypeSystemDefinition::Directive(_) => {}
            }
        }
        types
    }

    fn field(&self, on: &str, name: &str) -> Option<&Type> {
        self.fields.get(on)?.get(name)
    }

    fn root(&self, operation: OperationType) -> &str {
        match operation {
            OperationType::Query => &self.query,
            OperationType::Mutation => &self.mutation,
            OperationType::Subscription => &self.subscription,
        }
    }
}

/// Puts `response`, the result of the operation `operation_name` of `query`
/// on the service's schema, in the shape the spec asks for.
pub fn propagate(query: &str, operation_name: Option<&str>, response: &mut Response) {
    propagate_with(&SERVICE, query, operation_name, response);
}

/// The service's schema with [`propagate`] on every response, for the
/// executors that take a schema as it is (the WebSocket transport).
#[derive(Clone)]
pub struct Propagating(pub super::AppSchema);

impl Executor for Propagating {
    async fn execute(&self, request: Request) -> Response {
        let (query, operation_name) = (request.query.clone(), request.operation_name.clone());
        let mut response = self.0.execute(request).await;
        propagate(&query, operation_name.as_deref(), &mut response);
        response
    }

    fn execute_stream(&self, request: Request, session_data: Option<Arc<Data>>) -> BoxStream<'static, Response> {
        let (query, operation_name) = (request.query.clone(), request.operation_name.clone());
        Executor::execute_stream(&self.0, request, session_data)
            .map(move |mut response| {
                propagate(&query, operation_name.as_deref(), &mut response);
                response
            })
            .boxed()
    }
}

/// [`propagate`], on the schema of `types`.
pub fn propagate_with(types: &FieldTypes, query: &str, operation_name: Option<&str>, response: &mut Response) {
    if response.errors.iter().all(|e| e.path.is_empty()) {
        return;
    }
    let Ok(document) = async_graphql::parser::parse_query(query) else {
        return;
    };
    let operation = match (&document.operations, operation_name) {
        (DocumentOperations::Single(operation), _) => Some(operation),
        (DocumentOperations::Multiple(operations), Some(name)) => operations.get(name),
        (DocumentOperations::Multiple(operations), None) => {
            operations.values().next().filter(|_| operations.len() == 1)
        }
    };
    let Some(operation) = operation else {
        return;
    };
    let root = types.root(operation.node.ty);
    let set = &operation.node.selection_set.node;
    let Response { data, errors, .. } = response;
    // Each field error's path, with the declared type at each of its steps.
    let typed: Vec<(&[PathSegment], Vec<Type>)> = errors
        .iter()
        .filter(|e| !e.path.is_empty())
        .filter_map(|e| Some((e.path.as_slice(), types_along(types, &document, root, set, &e.path)?)))
        .collect();
    // First every failed field gets its `null` (and an object whose every
    // field failed is an object again), then the nulls of non-null fields
    // move up: an object nulled for one error may hold another's path.
    for (path, _) in &typed {
        restore(data, path);
    }
    for (path, types) in &typed {
        bubble(data, path, types);
    }
}

/// The declared type at each step of `path` (a list index steps into the
/// list's item type), or `None` when it cannot be told.
fn types_along(
    types: &FieldTypes,
    document: &ExecutableDocument,
    root: &str,
    set: &SelectionSet,
    path: &[PathSegment],
) -> Option<Vec<Type>> {
    let mut out: Vec<Type> = Vec::with_capacity(path.len());
    let mut sets = vec![set];
    let mut parent = root.to_owned();
    for segment in path {
        let ty = match segment {
            PathSegment::Field(key) => {
                let mut found = None;
                let mut next = Vec::new();
                for set in &sets {
                    collect(types, document, set, &parent, key, &mut found, &mut next);
                }
                sets = next;
                found?
            }
            PathSegment::Index(_) => match &out.last()?.base {
                BaseType::List(item) => (**item).clone(),
                BaseType::Named(_) => return None,
            },
        };
        parent = named(&ty).to_owned();
        out.push(ty);
    }
    Some(out)
}

/// Finds the fields answered under `key` in `set` (on type `on`), through
/// fragments: the type of the first one goes in `found` (fields that share
/// a response key have the same shape, validation makes sure), and the
/// selection sets of all of them, merged as execution merges them, in `next`.
fn collect<'a>(
    types: &FieldTypes,
    document: &'a ExecutableDocument,
    set: &'a SelectionSet,
    on: &str,
    key: &str,
    found: &mut Option<Type>,
    next: &mut Vec<&'a SelectionSet>,
) {
    for selection in &set.items {
        match &selection.node {
            Selection::Field(field) => {
                if field.node.response_key().node.as_str() == key {
                    if found.is_none() {
                        *found = types.field(on, field.node.name.node.as_str()).cloned();
                    }
                    next.push(&field.node.selection_set.node);
                }
            }
            Selection::FragmentSpread(spread) => {
                if let Some(fragment) = document.fragments.get(&spread.node.fragment_name.node) {
                    let on = fragment.node.type_condition.node.on.node.as_str();
                    collect(types, document, &fragment.node.selection_set.node, on, key, found, next);
                }
            }
            Selection::InlineFragment(inline) => {
                let on = inline.node.type_condition.as_ref().map_or(on, |c| c.node.on.node.as_str());
                collect(types, document, &inline.node.selection_set.node, on, key, found, next);
            }
        }
    }
}

fn named(ty: &Type) -> &str {
    match &ty.base {
        BaseType::Named(name) => name.as_str(),
        BaseType::List(item) => named(item),
    }
}

/// Gives the failed field at `path` its `null` (async-graphql left its key
/// out), and turns an ancestor that async-graphql made `null` because every
/// one of its fields failed back into an object. (A `null` a resolver
/// returned has no errors below it.)
fn restore(data: &mut Value, path: &[PathSegment]) {
    let mut current = data;
    for (i, segment) in path.iter().enumerate() {
        let last = i + 1 == path.len();
        current = match segment {
            PathSegment::Field(key) => {
                if *current == Value::Null {
                    *current = Value::Object(Default::default());
                }
                let Value::Object(fields) = current else { return };
                if last {
                    fields.entry(async_graphql::Name::new(key)).or_insert(Value::Null);
                    return;
                }
                match fields.get_mut(key.as_str()) {
                    Some(value) => value,
                    None => return,
                }
            }
            PathSegment::Index(index) => match current {
                Value::List(items) => match items.get_mut(*index) {
                    Some(item) => item,
                    None => return,
                },
                _ => return,
            },
        };
    }
}

/// While the `null` at `path` is at a non-null position, moves it to the
/// parent; past the root, `data` is `null`.
fn bubble(data: &mut Value, path: &[PathSegment], types: &[Type]) {
    let mut depth = path.len();
    while depth > 0 {
        if types[depth - 1].nullable || at(data, &path[..depth]) != Some(&Value::Null) {
            // Nullable; or already nulled higher up, by another error.
            return;
        }
        depth -= 1;
        let parent = path[..depth].iter().try_fold(&mut *data, |value, segment| step(value, segment));
        if let Some(parent) = parent {
            *parent = Value::Null;
        }
    }
}

fn at<'a>(data: &'a Value, path: &[PathSegment]) -> Option<&'a Value> {
    path.iter().try_fold(data, |value, segment| match (segment, value) {
        (PathSegment::Field(key), Value::Object(fields)) => fields.get(key.as_str()),
        (PathSegment::Index(index), Value::List(items)) => items.get(*index),
        _ => None,
    })
}

fn step<'a>(value: &'a mut Value, segment: &PathSegment) -> Option<&'a mut Value> {
    match (segment, value) {
        (PathSegment::Field(key), Value::Object(fields)) => fields.get_mut(key.as_str()),
        (PathSegment::Index(index), Value::List(items)) => items.get_mut(*index),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use async_graphql::{PathSegment, Response, ServerError, Value};
    use serde_json::json;

    use super::{FieldTypes, propagate_with};

    const SDL: &str = r#"
        type Query { a: A! b: A list: [A!]! items: [A] node(id: ID!): Node other: Int }
        interface Node { id: ID! }
        type A implements Node { id: ID! x: Int! y: Int z: B! zs: [B!] }
        type B { w: Int! v: Int }
    "#;

    fn run(query: &str, data: serde_json::Value, paths: &[serde_json::Value]) -> serde_json::Value {
        let types = FieldTypes::from_sdl(SDL);
        let mut response = Response::new(Value::from_json(data).expect("data"));
        for path in paths {
            let mut error = ServerError::new("refused", None);
            error.path = serde_json::from_value::<Vec<PathSegment>>(path.clone()).expect("path");
            response.errors.push(error);
        }
        propagate_with(&types, query, None, &mut response);
        response.data.into_json().expect("json")
    }

    #[test]
    fn a_nullable_field_that_failed_is_null() {
        let data = run("{ b { id y } }", json!({ "b": { "id": "1" } }), &[json!(["b", "y"])]);
        assert_eq!(data, json!({ "b": { "id": "1", "y": null } }));
    }

    #[test]
    fn a_non_null_field_that_failed_nulls_its_nearest_nullable_parent() {
        let data = run("{ b { id z { w } } other }", json!({ "b": { "id": "1" }, "other": 1 }), &[json!(["b", "z"])]);
        assert_eq!(data, json!({ "b": null, "other": 1 }));
        let data = run("{ b { zs { w v } } }", json!({ "b": { "zs": [{ "v": 1 }] } }), &[json!(["b", "zs", 0, "w"])]);
        assert_eq!(data, json!({ "b": { "zs": null } }));
    }

    #[test]
    fn up_to_data_when_every_ancestor_is_non_null() {
        let data = run("{ a { x } other }", json!({ "a": { "id": "1" }, "other": 1 }), &[json!(["a", "x"])]);
        assert_eq!(data, json!(null));
        let data = run(
            "{ list { id x } }",
            json!({ "list": [{ "id": "1" }, { "id": "2", "x": 2 }] }),
            &[json!(["list", 0, "x"])],
        );
        assert_eq!(data, json!(null));
    }

    #[test]
    fn a_nullable_list_item_takes_the_null() {
        let data = run("{ items { x } }", json!({ "items": [null, { "x": 2 }] }), &[json!(["items", 0, "x"])]);
        assert_eq!(data, json!({ "items": [null, { "x": 2 }] }));
    }

    #[test]
    fn an_object_whose_every_field_failed_is_an_object_of_nulls() {
        let data = run("{ b { y } }", json!({ "b": null }), &[json!(["b", "y"])]);
        assert_eq!(data, json!({ "b": { "y": null } }));
        let data = run("{ b }", json!(null), &[json!(["b"])]);
        assert_eq!(data, json!({ "b": null }));
    }

    #[test]
    fn aliases_and_fragments_are_followed() {
        let query = "query { n: node(id: 1) { ...F } } fragment F on A { id ... on A { zz: z { w } } }";
        let data = run(query, json!({ "n": { "id": "1" } }), &[json!(["n", "zz"])]);
        assert_eq!(data, json!({ "n": null }));
    }

    #[test]
    fn a_response_without_field_errors_is_untouched() {
        let data = run("{ b { id } }", json!({ "b": { "id": "1" } }), &[]);
        assert_eq!(data, json!({ "b": { "id": "1" } }));
    }
}
