//! Webhook subscriptions (a partner's endpoints, with their signing secrets
//! and delivery state) and the delivery log (one row per attempt).

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

use crate::util::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let mut subscriptions = Table::create();
        subscriptions
            .table("webhook_subscriptions")
            .col(id())
            .col(reference("organization_id"))
            .col(text("url"))
            .col(text_null("description"))
            // Space-separated GraphQL type names; NULL: every type.
            .col(text_null("entity_types"))
            // Space-separated CREATED/UPDATED; NULL: every operation.
            .col(text_null("operations"))
            // The scopes of the token that created or last updated it.
            .col(text("scopes"))
            .col(string_len("subject", 200))
            .col(text("secret"))
            .col(text_null("previous_secret"))
            .col(timestamp_with_time_zone_null("previous_secret_expires_at"))
            .col(string_len("status", 20))
            .col(text_null("paused_reason"))
            // The feed position of the last event handled (delivered or
            // skipped by the filters); 0 before the first.
            .col(big_integer("cursor_position"))
            .col(timestamp_with_time_zone("next_attempt_at"))
            .col(integer("attempt").default(0))
            .col(timestamp_with_time_zone_null("failing_since"))
            .col(timestamp_with_time_zone_null("last_success_at"))
            .col(timestamp_with_time_zone_null("last_failure_at"))
            .col(string_len_null("lease_owner", 80))
            .col(timestamp_with_time_zone_null("lease_until"))
            .foreign_key(&mut fk("webhook_subscriptions", "organization_id", "organizations"));
        audit_columns(&mut subscriptions);
        create_all(
            manager,
            vec![
                subscriptions.to_owned(),
                Table::create()
                    .table("webhook_deliveries")
                    .col(id())
                    .col(reference("subscription_id"))
                    .col(big_integer("event_id"))
                    .col(string_len("message_id", 80))
                    .col(integer("attempt"))
                    .col(timestamp_with_time_zone("at"))
                    .col(integer_null("status_code"))
                    .col(integer("latency_ms"))
                    .col(text_null("response_excerpt"))
                    .col(text_null("error"))
                    .col(boolean("succeeded"))
                    .foreign_key(&mut fk("webhook_deliveries", "subscription_id", "webhook_subscriptions"))
                    .to_owned(),
            ],
            vec![
                index("webhook_subscriptions", &["organization_id", "id"]),
                index("webhook_subscriptions", &["status", "next_attempt_at"]),
                index("webhook_deliveries", &["subscription_id", "id"]),
                index("webhook_deliveries", &["at"]),
            ],
        )
        .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        drop_all(manager, &["webhook_deliveries", "webhook_subscriptions"]).await
    }
}
