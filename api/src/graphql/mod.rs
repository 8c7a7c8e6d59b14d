//! The GraphQL schema: one module per domain, merged into the roots.

pub mod aggregates;
pub mod audit;
pub mod changes;
pub mod communities;
pub mod connection;
pub mod context;
pub mod curricula;
pub mod date;
pub mod enrolments;
pub mod exports;
pub mod inputs;
pub mod limits;
pub mod live;
pub mod mous;
pub mod node;
pub mod nulls;
pub mod organizations;
pub mod plan;
pub mod programmes;
pub mod stats;
pub mod trusted_documents;
pub mod webhooks;

use std::sync::Arc;

use async_graphql::{MergedObject, Schema, SchemaBuilder};

use crate::auth::OrgDirectory;
use crate::store::Store;
use context::Provinces;

/// Every query.
#[derive(MergedObject, Default)]
pub struct Query(
    organizations::OrganizationQuery,
    node::NodeQuery,
    communities::CommunityQuery,
    mous::MouQuery,
    programmes::ProgrammeQuery,
    curricula::CurriculumQuery,
    enrolments::EnrolmentQuery,
    changes::ChangeQuery,
    stats::StatsQuery,
    aggregates::AggregateQuery,
    webhooks::WebhookQuery,
    trusted_documents::TrustedDocumentQuery,
    audit::AuditQuery,
    exports::ExportQuery,
);

/// Every mutation.
#[derive(MergedObject, Default)]
pub struct Mutation(
    communities::CommunityMutation,
    mous::MouMutation,
    programmes::ProgrammeMutation,
    curricula::CurriculumMutation,
    enrolments::EnrolmentMutation,
    webhooks::WebhookMutation,
    trusted_documents::TrustedDocumentMutation,
    exports::ExportMutation,
);

/// The service's schema.
pub type AppSchema = Schema<Query, Mutation, live::Subscription>;

/// The schema's shape, without data: what `export-schema` prints.
pub fn builder() -> SchemaBuilder<Query, Mutation, live::Subscription> {
    Schema::build(Query::default(), Mutation::default(), live::Subscription)
}

/// The process's services resolvers reach through the schema's data.
pub struct Services {
    /// Webhook settings.
    pub webhooks: Arc<crate::config::WebhookSettings>,
    /// Live subscriptions of this process.
    pub live: Arc<live::Registry>,
    /// The query limits and budget.
    pub limits: Arc<limits::Limits>,
    /// Trusted documents and the personal-data access log.
    pub governance: crate::governance::Governance,
    /// Exports: settings, the worker's wake-up, metrics.
    pub exports: Arc<crate::exports::Exports>,
}

/// The schema with its shared data.
///
/// The query limits are not a schema extension: the endpoint checks them
/// before execution ([`limits::admit`]).
pub fn build(store: Store, provinces: Arc<Provinces>, orgs: Arc<OrgDirectory>, services: Services) -> AppSchema {
    builder()
        .data(store)
        .data(provinces)
        .data(orgs)
        .data(services.webhooks)
        .data(services.live)
        .data(services.limits)
        .data(services.governance.documents)
        .data(services.governance.pii)
        .data(services.exports)
        .finish()
}

/// The operation of `document` a request runs, as the spec's GetOperation
/// picks it: the one named `name`, or the only one; `None` when there is no
/// such operation (execution then reports why).
pub fn operation<'a>(
    document: &'a async_graphql::parser::types::ExecutableDocument,
    name: Option<&str>,
) -> Option<&'a async_graphql::parser::types::OperationDefinition> {
    use async_graphql::parser::types::DocumentOperations;
    match (&document.operations, name) {
        (DocumentOperations::Single(op), _) => Some(&op.node),
        (DocumentOperations::Multiple(ops), Some(name)) => ops.get(name).map(|op| &op.node),
        (DocumentOperations::Multiple(ops), None) if ops.len() == 1 => ops.values().next().map(|op| &op.node),
        (DocumentOperations::Multiple(_), None) => None,
    }
}

/// The SDL checked in as `schema.graphql`.
pub fn sdl() -> String {
    builder().finish().sdl()
}
