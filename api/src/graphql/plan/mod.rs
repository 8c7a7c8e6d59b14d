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
//! - [`render`] builds the answer.

mod fetch;
mod fields;
mod render;
mod select;

use std::collections::HashSet;
use std::hash::{Hash, Hasher};
use std::sync::Mutex;

use crate::domain::access::Actor;
use crate::store::Store;

/// How many validated documents are remembered before the set starts over.
const REMEMBERED: usize = 4096;

/// Plans and runs reads; remembers which documents passed validation.
#[derive(Default)]
pub struct Planner {
    /// Hashes of `(query, operationName)` the schema validated.
    validated: Mutex<HashSet<u64>>,
}

/// What the validated set remembers of a request.
fn key(query: &str, operation_name: Option<&str>) -> u64 {
    let mut hasher = std::hash::DefaultHasher::new();
    query.hash(&mut hasher);
    operation_name.hash(&mut hasher);
    hasher.finish()
}

impl Planner {
    /// A planner that has validated nothing yet.
    pub fn new() -> Self {
        Planner::default()
    }

    /// Records that the schema executed `request`'s document without a
    /// request error: it is valid GraphQL for this schema, so the planner
    /// may answer it next time. (Validation does not depend on variable
    /// values; the planner coerces those itself and declines what it
    /// cannot coerce.)
    pub fn validated(&self, query: &str, operation_name: Option<&str>) {
        let mut set = self.validated.lock().unwrap_or_else(|e| e.into_inner());
        if set.len() >= REMEMBERED {
            set.clear();
        }
        set.insert(key(query, operation_name));
    }

    fn is_validated(&self, request: &async_graphql::Request) -> bool {
        self.validated
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .contains(&key(&request.query, request.operation_name.as_deref()))
    }

    /// The answer to `request`, when the planner knows its whole selection
    /// and the caller may read all of it; `None` leaves it to the resolvers.
    pub async fn run(
        &self,
        store: &Store,
        actor: &Actor,
        request: &mut async_graphql::Request,
    ) -> Option<async_graphql::Response> {
        if !self.is_validated(request) {
            return None;
        }
        let variables = request.variables.clone();
        let operation_name = request.operation_name.clone();
        let document = request.parsed_query().ok()?;
        let plan = select::plan(document, operation_name.as_deref(), variables, actor)?;
        let rows = match fetch::fetch(store, actor, &plan).await {
            Ok(rows) => rows,
            Err(error) => {
                tracing::debug!(?error, "a planned read failed; the resolvers answer instead");
                return None;
            }
        };
        let data = render::render(&plan, &rows)?;
        Some(async_graphql::Response::new(data))
    }
}
