//! Planned reads.
//!
//! A query whose whole selection the planner knows is read with one
//! statement per level of connections (the to-one records of a level joined
//! into its statement, row rules in its SQL) and answered straight from the
//! rows, instead of resolving field by field through the schema's resolvers
//! and loaders. Today the planner knows `communities`: every column field of
//! a community, its contact, its nested `enrolments` pages, their
//! programmes and those programmes' MOUs, through `nodes`, `edges` and
//! `pageInfo`, with aliases and fragments.
//!
//! Anything else is left to the resolvers: [`Planner::run`] answers `None`
//! for a selection it does not know, a directive, an argument it cannot
//! coerce, a field the caller may not read (whose `FORBIDDEN` error and
//! null the resolvers give), a document that has not yet passed the
//! schema's validation (see [`Planner::validated`]) and a database error.
//! Both paths answer alike; `tests/http/planned.rs` compares them on both
//! engines, and `bench/` measures what planning saves.
//!
//! - [`select`] turns the document into a [`select::Plan`];
//! - [`fetch`] reads each level's rows;
//! - [`render`] writes the answer's JSON.

mod fetch;
mod fields;
mod render;
mod select;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use async_graphql::parser::types::ExecutableDocument;

use crate::domain::access::Actor;
use crate::store::Store;

/// How many validated documents are remembered before the set starts over.
const REMEMBERED: usize = 512;

/// The longest document remembered (and so planned), in bytes of text;
/// longer ones are left to the resolvers. With [`REMEMBERED`] this bounds
/// the memory the remembered documents take.
const LONGEST: usize = 16 * 1024;

/// A document the schema validated, parsed once.
struct Validated {
    /// The operation names it was validated with (`None`: the only one).
    operations: Vec<Option<String>>,
    document: Arc<ExecutableDocument>,
}

/// Plans and runs reads; remembers which documents passed validation.
#[derive(Default)]
pub struct Planner {
    /// The documents the schema validated, by their text.
    validated: Mutex<HashMap<String, Validated>>,
}

impl Planner {
    /// A planner that has validated nothing yet.
    pub fn new() -> Self {
        Planner::default()
    }

    /// Records that the schema executed `query` (as `operation_name`)
    /// without a request error: it is valid GraphQL for this schema, so the
    /// planner may answer it next time, from the document parsed here once.
    /// (Validation does not depend on variable values; the planner coerces
    /// those itself and declines what it cannot coerce.)
    pub fn validated(&self, query: &str, operation_name: Option<&str>) {
        if query.len() > LONGEST {
            return;
        }
        let mut set = self.validated.lock().unwrap_or_else(|e| e.into_inner());
        let operation = operation_name.map(str::to_owned);
        if let Some(known) = set.get_mut(query) {
            if !known.operations.contains(&operation) {
                known.operations.push(operation);
            }
            return;
        }
        let Ok(document) = async_graphql::parser::parse_query(query) else { return };
        if set.len() >= REMEMBERED {
            set.clear();
        }
        set.insert(query.to_owned(), Validated { operations: vec![operation], document: Arc::new(document) });
    }

    /// The parsed document of `request`, if the schema validated it (the
    /// limits analyse it too, instead of parsing the text again).
    pub fn document(&self, request: &async_graphql::Request) -> Option<Arc<ExecutableDocument>> {
        let set = self.validated.lock().unwrap_or_else(|e| e.into_inner());
        let known = set.get(request.query.as_str())?;
        let operation = request.operation_name.as_deref();
        known.operations.iter().any(|o| o.as_deref() == operation).then(|| known.document.clone())
    }

    /// The JSON text of the `data` answering `request` (whose validated
    /// `document` is [`Self::document`]'s), when the planner knows its
    /// whole selection and the caller may read all of it, with the ids of
    /// the communities whose contact it holds (for the personal-data access
    /// log); `None` leaves it to the resolvers.
    pub async fn run(
        &self,
        store: &Store,
        actor: &Actor,
        request: &async_graphql::Request,
        document: &ExecutableDocument,
    ) -> Option<(Vec<u8>, Vec<i64>)> {
        let variables = request.variables.clone();
        let plan = select::plan(document, request.operation_name.as_deref(), variables, actor)?;
        let rows = match fetch::fetch(store, actor, &plan).await {
            Ok(rows) => rows,
            Err(error) => {
                tracing::debug!(?error, "a planned read failed; the resolvers answer instead");
                return None;
            }
        };
        let contacts = std::cell::RefCell::new(Vec::new());
        let data = render::render(&plan, &rows, &contacts)?;
        Some((data, contacts.into_inner()))
    }
}
