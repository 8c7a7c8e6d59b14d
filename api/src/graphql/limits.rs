//! Query limits and cost, checked after parsing and before any database
//! work: depth, aliases, root fields and an estimated cost in which a
//! connection costs according to its page size. Within the limits, the
//! cost is spent from the caller's organisation's budget (a rate limit by
//! query cost, shared by all replicas).
//!
//! Operations that only introspect the schema (`__schema`, `__type`,
//! `__typename`) are exempt: they touch no data, and GraphiQL's docs and
//! autocomplete need them (its introspection query is 13 levels deep).

use std::collections::HashSet;

use async_graphql::parser::types::{DocumentOperations, ExecutableDocument, Selection, SelectionSet};
use async_graphql::{Name, Positioned, Response, ServerError, Value, Variables};

use crate::domain::access::Actor;
use crate::store::Store;
use crate::store::budget::{self, Spend};

pub use crate::config::Limits;

/// Connection fields: their cost is multiplied by their page size (20 by default).
const CONNECTIONS: &[&str] = &["communities", "mous", "programmes", "curricula", "enrolments", "changes"];
/// Unpaged list fields, estimated at this many items each.
const LIST_ESTIMATE: usize = 10;
const LISTS: &[&str] = &[
    "parties",
    "partners",
    "commitments",
    "awards",
    "history",
    "modules",
    "modelCommunities",
    "contributors",
    "organizations",
    "provinces",
    "communitiesByTier",
    "communitiesByProvince",
    "enrolmentsByStatus",
];
/// Aggregate fields: the database reads every row the filter admits, so
/// each costs this much on top of its selection.
const AGGREGATES: &[&str] = &["communityAggregate", "enrolmentAggregate", "programmeAggregate"];
pub const AGGREGATE_COST: usize = 100;
/// An aggregate's `groups`, estimated at this many groups.
const GROUPS_ESTIMATE: usize = 100;
/// The cap on nesting (fields and fragments) the analysis follows; deeper
/// documents are refused by async-graphql's own recursion check (32 levels).
const MAX_WALK: usize = 64;

/// What a document asks for.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Analysis {
    pub depth: usize,
    pub complexity: usize,
    pub aliases: usize,
    pub root_fields: usize,
    pub introspection_only: bool,
}

struct Walker<'a> {
    doc: &'a ExecutableDocument,
    variables: &'a Variables,
    aliases: usize,
    depth: usize,
    nesting: usize,
}

impl Walker<'_> {
    fn number(&self, value: &async_graphql::parser::types::Field, name: &str) -> Option<usize> {
        let (_, arg) = value.arguments.iter().find(|(n, _)| n.node.as_str() == name)?;
        let value = arg.node.clone().into_const_with(|var: Name| self.variables.get(&var).cloned().ok_or(())).ok()?;
        match value {
            Value::Number(n) => n.as_u64().map(|n| n as usize),
            Value::List(items) => Some(items.len()),
            _ => None,
        }
    }

    fn multiplier(&self, field: &async_graphql::parser::types::Field) -> usize {
        let name = field.name.node.as_str();
        if name == "nodes" && field.arguments.iter().any(|(n, _)| n.node.as_str() == "ids") {
            return self.number(field, "ids").unwrap_or(100);
        }
        if let Some(n) = self.number(field, "first").or_else(|| self.number(field, "last")) {
            return n;
        }
        if CONNECTIONS.contains(&name) && field.arguments.iter().all(|(n, _)| n.node.as_str() != "id") {
            return 20;
        }
        if name == "groups" {
            return GROUPS_ESTIMATE;
        }
        if LISTS.contains(&name) || CONNECTIONS.contains(&name) {
            return LIST_ESTIMATE;
        }
        1
    }

    /// The cost of a selection set at `level` (root = 1); counts aliases and depth.
    fn cost(&mut self, set: &SelectionSet, level: usize, fragments: &mut Vec<Name>) -> usize {
        // Fields, fragments and inline fragments all nest: the guard counts
        // every level so a chain of fragments cannot exhaust the stack.
        if level > MAX_WALK || self.nesting > MAX_WALK {
            // Past any sane depth: report it as such, so the check refuses it.
            self.depth = self.depth.max(MAX_WALK + 1);
            return 0;
        }
        self.nesting += 1;
        let total = self.cost_of_items(set, level, fragments);
        self.nesting -= 1;
        total
    }

    fn cost_of_items(&mut self, set: &SelectionSet, level: usize, fragments: &mut Vec<Name>) -> usize {
        let mut total = 0usize;
        for selection in &set.items {
            match &selection.node {
                Selection::Field(field) => {
                    let field = &field.node;
                    if field.alias.is_some() {
                        self.aliases += 1;
                    }
                    self.depth = self.depth.max(level);
                    if !field.selection_set.node.items.is_empty() {
                        let inner = self.cost(&field.selection_set.node, level + 1, fragments);
                        total =
                            total.saturating_add(1usize.saturating_add(self.multiplier(field).saturating_mul(inner)));
                        if AGGREGATES.contains(&field.name.node.as_str()) {
                            total = total.saturating_add(AGGREGATE_COST);
                        }
                    }
                }
                Selection::InlineFragment(inline) => {
                    total = total.saturating_add(self.cost(&inline.node.selection_set.node, level, fragments));
                }
                Selection::FragmentSpread(spread) => {
                    let name = spread.node.fragment_name.node.clone();
                    if fragments.contains(&name) {
                        continue;
                    }
                    if let Some(fragment) = self.doc.fragments.get(&name) {
                        fragments.push(name);
                        total = total.saturating_add(self.cost(&fragment.node.selection_set.node, level, fragments));
                        fragments.pop();
                    }
                }
            }
        }
        total
    }
}

/// The root field names of a selection set (through fragments).
fn root_names(
    doc: &ExecutableDocument,
    set: &SelectionSet,
    out: &mut Vec<String>,
    seen: &mut HashSet<Name>,
    nesting: usize,
) {
    if nesting > MAX_WALK {
        return;
    }
    for selection in &set.items {
        match &selection.node {
            Selection::Field(f) => out.push(f.node.name.node.to_string()),
            Selection::InlineFragment(i) => root_names(doc, &i.node.selection_set.node, out, seen, nesting + 1),
            Selection::FragmentSpread(s) => {
                let name = s.node.fragment_name.node.clone();
                if seen.insert(name.clone())
                    && let Some(fragment) = doc.fragments.get(&name)
                {
                    root_names(doc, &fragment.node.selection_set.node, out, seen, nesting + 1);
                }
            }
        }
    }
}

/// Analyses every operation of `doc` and keeps the largest figures.
pub fn analyse(doc: &ExecutableDocument, variables: &Variables) -> Analysis {
    let operations: Vec<&Positioned<_>> = match &doc.operations {
        DocumentOperations::Single(op) => vec![op],
        DocumentOperations::Multiple(ops) => ops.values().collect(),
    };
    let mut result = Analysis { introspection_only: true, ..Default::default() };
    for op in operations {
        let set = &op.node.selection_set.node;
        let mut names = Vec::new();
        root_names(doc, set, &mut names, &mut HashSet::new(), 0);
        // An operation with no root field reached (say, past the nesting
        // cap) is not exempt.
        if names.is_empty() || !names.iter().all(|n| n.starts_with("__")) {
            result.introspection_only = false;
        }
        let mut walker = Walker { doc, variables, aliases: 0, depth: 0, nesting: 0 };
        let complexity = walker.cost(set, 1, &mut Vec::new());
        result.depth = result.depth.max(walker.depth);
        result.complexity = result.complexity.max(complexity);
        result.aliases = result.aliases.max(walker.aliases);
        result.root_fields = result.root_fields.max(names.len());
    }
    result
}

fn error(code: &'static str, message: String, extra: Option<(&'static str, Value)>) -> ServerError {
    let mut error = ServerError::new(message, None);
    let mut extensions = async_graphql::ErrorExtensionValues::default();
    extensions.set("code", code);
    if let Some((key, value)) = extra {
        extensions.set(key, value);
    }
    error.extensions = Some(extensions);
    error
}

/// Refuses a document past any limit.
pub fn check(analysis: &Analysis, limits: &Limits) -> Result<(), ServerError> {
    let over = [
        ("depth", analysis.depth, limits.depth),
        ("complexity", analysis.complexity, limits.complexity),
        ("aliases", analysis.aliases, limits.aliases),
        ("root fields", analysis.root_fields, limits.root_fields),
    ]
    .into_iter()
    .find(|(_, value, max)| value > max);
    match over {
        Some((what, value, max)) => Err(error(
            "QUERY_TOO_COMPLEX",
            format!("the query's {what}: {value}, past the limit of {max}"),
            Some(("limit", Value::from(what))),
        )),
        None => Ok(()),
    }
}

/// What a request cost, for its response's `extensions.cost`.
#[derive(Clone, Debug)]
pub struct Cost {
    requested: usize,
    remaining: Option<f64>,
}

/// Admits `request` or refuses it, before any database work: parses it
/// (unless the planner holds it `parsed` already), checks it against `limits` and spends its cost from the caller's
/// organisation's budget. Returns the cost to report (`None` for an
/// introspection-only operation, which is free).
///
/// This runs in the endpoint rather than as a schema extension: any
/// extension makes async-graphql wrap every field's resolution in its
/// extension chain, which measurably slowed large nested pages.
pub async fn admit(
    request: &mut async_graphql::Request,
    parsed: Option<&ExecutableDocument>,
    limits: &Limits,
    store: &Store,
    actor: &Actor,
) -> Result<Option<Cost>, ServerError> {
    let analysis = match parsed {
        Some(document) => analyse(document, &request.variables),
        None => {
            let variables = std::mem::take(&mut request.variables);
            let analysis = request.parsed_query().map(|doc| analyse(doc, &variables));
            request.variables = variables;
            analysis?
        }
    };
    if analysis.introspection_only {
        return Ok(None);
    }
    check(&analysis, limits)?;
    let mut remaining = None;
    if let Some(budget) = limits.budget {
        let cost = analysis.complexity.max(1) as f64;
        match budget::spend(store, budget, actor.org_id, cost).await {
            Ok(Spend::Spent { remaining: left }) => remaining = Some(left),
            Ok(Spend::Exhausted { remaining: left, retry_after }) => {
                let retry = retry_after.ceil().max(1.0) as u64;
                let mut e = error(
                    "RATE_LIMITED",
                    format!(
                        "your organisation's query budget is spent: this query costs {cost}, {} points are left; retry in {retry} s",
                        left.floor().max(0.0)
                    ),
                    Some(("retryAfter", Value::from(retry))),
                );
                if let Some(ext) = e.extensions.as_mut() {
                    ext.set("cost", Value::from(cost as u64));
                }
                return Err(e);
            }
            Err(e) => return Err(async_graphql::Error::from(e).into_server_error(Default::default())),
        }
    }
    Ok(Some(Cost { requested: analysis.complexity, remaining }))
}

/// Adds `extensions.cost` (what the request cost, what is left of the
/// budget) to `response`.
pub fn report(response: &mut Response, cost: &Cost, limits: &Limits) {
    let mut map = async_graphql::indexmap::IndexMap::new();
    map.insert(Name::new("requested"), Value::from(cost.requested as u64));
    if let (Some(remaining), Some(budget)) = (cost.remaining, limits.budget) {
        map.insert(Name::new("remaining"), Value::from(remaining.floor().max(0.0) as u64));
        map.insert(Name::new("limit"), Value::from(budget.capacity as u64));
        map.insert(Name::new("refillPerSecond"), Value::from(budget.refill_per_sec as u64));
    }
    response.extensions.insert("cost".to_owned(), Value::Object(map));
}
