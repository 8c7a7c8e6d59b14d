//! Governance: what the partners' security teams audit. Trusted documents
//! (each organisation's registered operations, and its mode) are served
//! from memory by [`documents`], so a refusal costs no database work; reads
//! of personal data are recorded off the request's path by [`pii_log`].
//! The before/after values of changes are recorded with each change event
//! (`store::changes`, `store::snapshots`).

pub mod documents;
pub mod pii_log;
pub mod report;

use std::sync::Arc;

/// The governance services a process shares with its schema's resolvers.
#[derive(Clone)]
pub struct Governance {
    /// Each organisation's trusted documents and mode.
    pub documents: Arc<documents::TrustedDocuments>,
    /// The personal-data access log's writer.
    pub pii: Arc<pii_log::PiiLog>,
}
