//! Curricula (with contributors, ordered modules and model communities) and
//! programmes (with partners and the curricula they use).

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

use crate::util::*;

/// A two-column link table whose primary key is both columns.
fn link(
    table: &'static str,
    left: (&'static str, &'static str),
    right: (&'static str, &'static str),
) -> TableCreateStatement {
    Table::create()
        .table(table)
        .col(reference(left.0))
        .col(reference(right.0))
        .primary_key(Index::create().col(left.0).col(right.0))
        .foreign_key(&mut fk(table, left.0, left.1))
        .foreign_key(&mut fk(table, right.0, right.1))
        .to_owned()
}

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let mut curricula = Table::create();
        curricula
            .table("curricula")
            .col(id())
            .col(string_len("code", 40))
            .col(string_len("title_th", 500))
            .col(string_len_null("title_en", 500))
            .col(string_len("kind", 20))
            .col(string_len("status", 20))
            // Space-separated FocusArea names: a small closed set.
            .col(string_len("focus_areas", 400))
            .col(reference("owner_id"))
            .foreign_key(&mut fk("curricula", "owner_id", "organizations"));
        audit_columns(&mut curricula);

        let mut programmes = Table::create();
        programmes
            .table("programmes")
            .col(id())
            .col(string_len("code", 40))
            .col(string_len("name_th", 500))
            .col(string_len_null("name_en", 500))
            .col(string_len("theme", 40))
            .col(string_len("status", 20))
            .col(reference_null("mou_id"))
            .col(reference("lead_id"))
            // Space-separated TourismTier letters; empty means any tier.
            .col(string_len("target_tiers", 16))
            .col(integer_null("capacity"))
            .col(date_null("starts_on"))
            .col(date_null("ends_on"))
            .foreign_key(&mut fk("programmes", "mou_id", "mous"))
            .foreign_key(&mut fk("programmes", "lead_id", "organizations"));
        audit_columns(&mut programmes);

        create_all(
            manager,
            vec![
                curricula.to_owned(),
                link("curriculum_contributors", ("curriculum_id", "curricula"), ("organization_id", "organizations")),
                Table::create()
                    .table("curriculum_modules")
                    .col(reference("curriculum_id"))
                    .col(integer("position"))
                    .col(string_len("title", 500))
                    .col(double_null("hours"))
                    .col(text_null("objectives"))
                    .primary_key(Index::create().col("curriculum_id").col("position"))
                    .foreign_key(&mut fk("curriculum_modules", "curriculum_id", "curricula"))
                    .to_owned(),
                link("curriculum_model_communities", ("curriculum_id", "curricula"), ("community_id", "communities")),
                programmes.to_owned(),
                link("programme_partners", ("programme_id", "programmes"), ("organization_id", "organizations")),
                link("programme_curricula", ("programme_id", "programmes"), ("curriculum_id", "curricula")),
            ],
            vec![
                unique("curricula", &["code"]),
                index("curriculum_contributors", &["organization_id"]),
                index("curriculum_model_communities", &["community_id"]),
                unique("programmes", &["code"]),
                index("programmes", &["mou_id", "id"]),
                index("programmes", &["lead_id", "id"]),
                index("programmes", &["status", "id"]),
                index("programme_partners", &["organization_id"]),
                index("programme_curricula", &["curriculum_id"]),
            ],
        )
        .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        drop_all(
            manager,
            &[
                "programme_curricula",
                "programme_partners",
                "programmes",
                "curriculum_model_communities",
                "curriculum_modules",
                "curriculum_contributors",
                "curricula",
            ],
        )
        .await
    }
}
