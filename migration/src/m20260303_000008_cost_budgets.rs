//! Cost budgets: one token bucket per organisation, shared by every API
//! replica on the database, so a partner's query-cost rate limit holds across
//! instances. Time is stored as epoch seconds (a float) written by the
//! service, so the same SQL works on SQLite and PostgreSQL.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

use crate::util::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        create_all(
            manager,
            vec![
                Table::create()
                    .table("cost_budgets")
                    .col(big_integer("organization_id").primary_key())
                    .col(double("tokens"))
                    .col(double("updated_at"))
                    .foreign_key(&mut fk("cost_budgets", "organization_id", "organizations"))
                    .to_owned(),
            ],
            vec![],
        )
        .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        drop_all(manager, &["cost_budgets"]).await
    }
}
