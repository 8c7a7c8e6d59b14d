//! Reference data: the province list (ISO 3166-2:TH, loaded from the CSV
//! shipped beside this crate) and the partner organisations.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

use crate::util::*;

/// The province list, as published in `shared/data/th-provinces.csv`.
const PROVINCES_CSV: &str = include_str!("../data/th-provinces.csv");

/// The four founding partners of the MOUs (code, Thai name, English name, kind).
const PARTNERS: [(&str, &str, &str, &str); 4] = [
    ("FOUNDATION", "มูลนิธิสัมมาชีพ", "Sammachiv Foundation", "FOUNDATION"),
    ("CDD", "กรมการพัฒนาชุมชน", "Community Development Department", "GOVERNMENT_DEPARTMENT"),
    ("GSB", "ธนาคารออมสิน", "Government Savings Bank", "BANK"),
    ("VILLAGE_FUND", "กองทุนหมู่บ้านและชุมชนเมืองแห่งชาติ", "Village and Urban Community Fund", "FUND"),
];

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        create_all(
            manager,
            vec![
                Table::create()
                    .table("provinces")
                    .col(string_len("code", 8).primary_key())
                    .col(string_len("name_th", 100))
                    .col(string_len("name_en", 100))
                    .to_owned(),
                Table::create()
                    .table("organizations")
                    .col(id())
                    .col(string_len_uniq("code", 40))
                    .col(string_len("name_th", 300))
                    .col(string_len("name_en", 300))
                    .col(string_len("kind", 40))
                    .col(timestamp_with_time_zone("created_at"))
                    .to_owned(),
            ],
            vec![],
        )
        .await?;

        let mut provinces = Query::insert();
        provinces.into_table("provinces").columns(["code", "name_th", "name_en"]);
        for line in PROVINCES_CSV.lines().skip(1).filter(|l| !l.trim().is_empty()) {
            let fields: Vec<&str> = line.split(',').map(str::trim).collect();
            let [code, name_th, name_en] = fields[..] else {
                return Err(DbErr::Migration(format!("bad province line: {line}")));
            };
            provinces.values_panic([code.into(), name_th.into(), name_en.into()]);
        }
        manager.exec_stmt(provinces).await?;

        let now: SimpleExpr = chrono::Utc::now().into();
        let mut orgs = Query::insert();
        orgs.into_table("organizations").columns(["code", "name_th", "name_en", "kind", "created_at"]);
        for (code, name_th, name_en, kind) in PARTNERS {
            orgs.values_panic([code.into(), name_th.into(), name_en.into(), kind.into(), now.clone()]);
        }
        manager.exec_stmt(orgs).await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        drop_all(manager, &["organizations", "provinces"]).await
    }
}
