//! Push delivery of the change feed to partners' HTTPS endpoints.
//!
//! - [`signing`]: Standard Webhooks signatures (`webhook-id`,
//!   `webhook-timestamp`, `webhook-signature: v1,...`).
//! - [`target`]: which URLs and addresses may be called (no SSRF).
//! - [`payload`]: what one delivery carries.
//! - [`dispatcher`]: the worker that leases subscriptions, sends their
//!   events in feed order and retries with backoff.
//!
//! The subscriptions and the delivery log live in `store::webhooks`; the
//! GraphQL types and mutations in `graphql::webhooks`.

pub mod dispatcher;
pub mod payload;
pub mod signing;
pub mod target;
