//! Communities in CDD's network and the awards they have won.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

use crate::util::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let mut communities = Table::create();
        communities
            .table("communities")
            .col(id())
            .col(string_len("code", 40))
            .col(string_len("name_th", 300))
            .col(string_len_null("name_en", 300))
            .col(string_len("province_code", 8))
            .col(string_len_null("district", 200))
            .col(string_len_null("subdistrict", 200))
            .col(integer_null("village_no"))
            .col(integer_null("households"))
            .col(text_null("description"))
            .col(string_len_null("tourism_tier", 1))
            .col(reference_null("tier_assessed_by"))
            .col(timestamp_with_time_zone_null("tier_assessed_at"))
            .col(string_len_null("contact_name", 200))
            .col(string_len_null("contact_phone", 40))
            .col(string_len_null("contact_email", 254))
            .col(reference("created_by"))
            .foreign_key(
                ForeignKey::create()
                    .name("fk_communities_province_code")
                    .from("communities", "province_code")
                    .to("provinces", "code"),
            )
            .foreign_key(&mut fk("communities", "tier_assessed_by", "organizations"))
            .foreign_key(&mut fk("communities", "created_by", "organizations"));
        audit_columns(&mut communities);

        create_all(
            manager,
            vec![
                communities.to_owned(),
                Table::create()
                    .table("community_awards")
                    .col(id())
                    .col(reference("community_id"))
                    .col(integer("year"))
                    .col(string_len("category", 40))
                    .col(string_len_null("title", 300))
                    .foreign_key(&mut fk("community_awards", "community_id", "communities"))
                    .to_owned(),
            ],
            vec![
                unique("communities", &["code"]),
                // Keyset pagination: every ordering ends in `id` so it is total.
                index("communities", &["name_th", "id"]),
                index("communities", &["updated_at", "id"]),
                index("communities", &["tourism_tier", "id"]),
                index("communities", &["province_code", "id"]),
                index("community_awards", &["community_id"]),
                index("community_awards", &["category", "community_id"]),
            ],
        )
        .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        drop_all(manager, &["community_awards", "communities"]).await
    }
}
