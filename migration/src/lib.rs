//! Schema migrations of the partner records.
//!
//! Every migration has a working `down`; PostgreSQL runs each one in a
//! transaction, SQLite does not (sea-orm's convention).

pub use sea_orm_migration::prelude::*;

pub mod collation;

mod m20260301_000001_reference;
mod m20260301_000002_communities;
mod m20260301_000003_mous;
mod m20260301_000004_curricula_programmes;
mod m20260301_000005_enrolments;
mod m20260301_000006_changes;
mod m20260303_000008_cost_budgets;
mod m20260304_000009_tier_code_index;
mod m20261201_000010_feed_inbox;
mod m20261201_000011_webhooks;
mod m20261202_000012_trusted_documents;
mod m20261202_000013_event_diffs;
mod m20261202_000014_pii_access_log;
mod m20261202_000015_pii_log_batches;
mod m20261202_000016_thai_text;
mod m20261202_000017_exports;
mod util;

/// All migrations, oldest first.
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20260301_000001_reference::Migration),
            Box::new(m20260301_000002_communities::Migration),
            Box::new(m20260301_000003_mous::Migration),
            Box::new(m20260301_000004_curricula_programmes::Migration),
            Box::new(m20260301_000005_enrolments::Migration),
            Box::new(m20260301_000006_changes::Migration),
            Box::new(m20260303_000008_cost_budgets::Migration),
            Box::new(m20260304_000009_tier_code_index::Migration),
            Box::new(m20261201_000010_feed_inbox::Migration),
            Box::new(m20261201_000011_webhooks::Migration),
            Box::new(m20261202_000012_trusted_documents::Migration),
            Box::new(m20261202_000013_event_diffs::Migration),
            Box::new(m20261202_000014_pii_access_log::Migration),
            Box::new(m20261202_000015_pii_log_batches::Migration),
            Box::new(m20261202_000016_thai_text::Migration),
            Box::new(m20261202_000017_exports::Migration),
        ]
    }
}
