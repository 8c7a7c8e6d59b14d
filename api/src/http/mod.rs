//! HTTP: the router, the GraphQL endpoint, health checks and the playground.

pub mod caller;
pub mod endpoint;
pub mod exports;
pub mod health;
pub mod live;
pub mod media;
pub mod metrics;
pub mod playground;
pub mod router;
