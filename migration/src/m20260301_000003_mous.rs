//! MOUs, their parties (with signatures) and the commitments owed under them.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

use crate::util::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let mut mous = Table::create();
        mous.table("mous")
            .col(id())
            .col(string_len("code", 40))
            .col(string_len("title_th", 500))
            .col(string_len_null("title_en", 500))
            .col(text_null("purpose"))
            .col(string_len("status", 20))
            .col(date_null("signed_on"))
            .col(date_null("starts_on"))
            .col(date_null("ends_on"))
            .col(reference("created_by"))
            .foreign_key(&mut fk("mous", "created_by", "organizations"));
        audit_columns(&mut mous);

        let mut commitments = Table::create();
        commitments
            .table("commitments")
            .col(id())
            .col(reference("mou_id"))
            .col(string_len("description", 2000))
            .col(reference("owner_id"))
            .col(date_null("due_on"))
            .col(string_len("status", 20))
            .foreign_key(&mut fk("commitments", "mou_id", "mous"))
            .foreign_key(&mut fk("commitments", "owner_id", "organizations"));
        audit_columns(&mut commitments);

        create_all(
            manager,
            vec![
                mous.to_owned(),
                Table::create()
                    .table("mou_parties")
                    .col(reference("mou_id"))
                    .col(reference("organization_id"))
                    .col(string_len("role", 20))
                    .col(integer("position"))
                    .col(timestamp_with_time_zone_null("signed_at"))
                    .primary_key(Index::create().col("mou_id").col("organization_id"))
                    .foreign_key(&mut fk("mou_parties", "mou_id", "mous"))
                    .foreign_key(&mut fk("mou_parties", "organization_id", "organizations"))
                    .to_owned(),
                commitments.to_owned(),
            ],
            vec![
                unique("mous", &["code"]),
                index("mous", &["status", "id"]),
                index("mou_parties", &["organization_id", "mou_id"]),
                index("commitments", &["mou_id", "id"]),
                index("commitments", &["owner_id"]),
            ],
        )
        .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        drop_all(manager, &["commitments", "mou_parties", "mous"]).await
    }
}
