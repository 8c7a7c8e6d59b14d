//! Enrolments of communities in programmes, and their status history.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

use crate::util::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let mut enrolments = Table::create();
        enrolments
            .table("enrolments")
            .col(id())
            .col(reference("community_id"))
            .col(reference("programme_id"))
            .col(reference_null("curriculum_id"))
            .col(string_len("status", 20))
            .col(reference("nominated_by"))
            .col(timestamp_with_time_zone("nominated_at"))
            .foreign_key(&mut fk("enrolments", "community_id", "communities"))
            .foreign_key(&mut fk("enrolments", "programme_id", "programmes"))
            .foreign_key(&mut fk("enrolments", "curriculum_id", "curricula"))
            .foreign_key(&mut fk("enrolments", "nominated_by", "organizations"));
        audit_columns(&mut enrolments);

        create_all(
            manager,
            vec![
                enrolments.to_owned(),
                Table::create()
                    .table("enrolment_transitions")
                    .col(id())
                    .col(reference("enrolment_id"))
                    .col(string_len_null("from_status", 20))
                    .col(string_len("to_status", 20))
                    .col(timestamp_with_time_zone("at"))
                    .col(reference("by_org"))
                    .col(string_len_null("note", 2000))
                    .foreign_key(&mut fk("enrolment_transitions", "enrolment_id", "enrolments"))
                    .foreign_key(&mut fk("enrolment_transitions", "by_org", "organizations"))
                    .to_owned(),
            ],
            vec![
                index("enrolments", &["community_id", "id"]),
                index("enrolments", &["programme_id", "id"]),
                index("enrolments", &["programme_id", "status"]),
                index("enrolments", &["status", "id"]),
                index("enrolment_transitions", &["enrolment_id", "id"]),
            ],
        )
        .await?;

        // At most one live (not WITHDRAWN or DECLINED) enrolment per community
        // and programme: a partial unique index, which both engines support
        // but the schema builder cannot express.
        manager
            .get_connection()
            .execute_unprepared(
                "CREATE UNIQUE INDEX ux_enrolments_live ON enrolments (community_id, programme_id) \
                 WHERE status NOT IN ('WITHDRAWN', 'DECLINED')",
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        drop_all(manager, &["enrolment_transitions", "enrolments"]).await
    }
}
