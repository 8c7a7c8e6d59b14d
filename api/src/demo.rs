//! Demo data from the seed story (`docs/domain.md`, "Where it comes from" and
//! "The demo data"): the 2 March 2020 meeting between the
//! Sammachiv Foundation and the Community Development Department (CDD).
//!
//! [`seed`] loads, in one transaction: the tourism MOU (NEGOTIATING) and the
//! community energy MOU (DRAFT) with their parties and the commitments the
//! meeting produced; the core community finance curriculum and the
//! alternative savings-school curriculum; the four programmes (tier C tourism
//! enterprises, community finance, Khok Nong Na model villages, community
//! energy); 36 clearly fictional demo communities (codes `DEMO-001` to
//! `DEMO-036`) across real provinces and all four tourism tiers, some with
//! Model Community Enterprise awards; and a few enrolments with a valid
//! status history. Every created record gets a `CREATED` change event, as a
//! mutation would write.
//!
//! The four partner organisations are not created here: a migration inserts
//! them, and they are looked up by code.

use std::collections::HashMap;

use chrono::{Duration, NaiveDate, Utc};
use entity::{enrolment, enrolment_transition, mou, organization};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, DatabaseConnection, DatabaseTransaction, DbErr, EntityTrait, QueryFilter, QueryOrder,
    SqliteTransactionMode, TransactionOptions, TransactionTrait,
};

use crate::domain::access::{self, Actor, EnrolmentMover, Scope};
use crate::domain::commands::{
    Award, Contact, CurriculumChanges, EnrolmentMove, Module, MouChanges, MouParty, NewCommitment, NewCommunity,
    NewCurriculum, NewMou, NewProgramme, Nomination, ProgrammeChanges, focus_areas,
};
use crate::domain::enums::{
    AwardCategory, CurriculumKind, CurriculumStatus, EnrolmentStatus, FocusArea, MouStatus, PartyRole, ProgrammeStatus,
    ProgrammeTheme, TourismTier,
};
use crate::domain::text::{self, limits};
use crate::error::{AppError, AppResult};
use crate::store::{communities, curricula, enrolments, mous, programmes};

/// The `subject` of every change event the seed writes.
const SUBJECT: &str = "demo-seed";

/// The code of the tourism MOU; its presence means the demo data is loaded.
const TOURISM_MOU: &str = "MOU-TOURISM-2020";

/// Appended to every demo community's description so nobody mistakes it for
/// a real one ("fictional data for demonstration").
const FICTIONAL: &str = " (ข้อมูลสมมติเพื่อการสาธิต)";

/// Loads the demo data unless it is already there.
///
/// Returns `Ok(false)` and changes nothing when an MOU with code
/// `MOU-TOURISM-2020` already exists, `Ok(true)` after inserting everything.
/// All of it commits in one transaction or not at all. On SQLite the
/// transaction is `BEGIN IMMEDIATE`, so the existence check and the inserts
/// hold the write lock together; on PostgreSQL a concurrent second seed fails
/// on the unique MOU code instead of loading the data twice.
///
/// # Errors
///
/// Any database error; [`DbErr::RecordNotFound`] if one of the partner
/// organisations (`FOUNDATION`, `CDD`, `GSB`, `VILLAGE_FUND`) is missing.
pub async fn seed(db: &DatabaseConnection) -> Result<bool, DbErr> {
    let options =
        TransactionOptions { sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate), ..Default::default() };
    let txn = db.begin_with_options(options).await?;
    let existing = mou::Entity::find().filter(mou::Column::Code.eq(TOURISM_MOU)).one(&txn).await?;
    if existing.is_some() {
        txn.rollback().await?;
        return Ok(false);
    }
    let seeder = Seeder { txn: &txn, orgs: Orgs::load(&txn).await? };
    seeder.run().await?;
    txn.commit().await?;
    // Number the seed's events now, whether or not a service runs.
    crate::feed::sequencer::drain(db).await?;
    Ok(true)
}

// ------------------------------------------------------------------ the data

/// The partner organisations the demo data refers to.
#[derive(Copy, Clone, Debug)]
enum Org {
    /// The Sammachiv Foundation.
    Foundation,
    /// The Community Development Department.
    Cdd,
    /// The Government Savings Bank.
    Gsb,
    /// The Village and Urban Community Fund.
    VillageFund,
}

impl Org {
    /// Every organisation, in the order of [`Orgs::ids`].
    const ALL: [Org; 4] = [Org::Foundation, Org::Cdd, Org::Gsb, Org::VillageFund];

    /// The organisation's code in `organizations`.
    fn code(self) -> &'static str {
        match self {
            Org::Foundation => "FOUNDATION",
            Org::Cdd => "CDD",
            Org::Gsb => "GSB",
            Org::VillageFund => "VILLAGE_FUND",
        }
    }
}

/// A date known to be valid, checked when the constant is compiled.
const fn ymd(year: i32, month: u32, day: u32) -> NaiveDate {
    match NaiveDate::from_ymd_opt(year, month, day) {
        Some(date) => date,
        None => panic!("invalid date in the demo data"),
    }
}

/// One demo community: code, Thai name, English name, province (ISO code),
/// district, subdistrict, village number, households, CDD's tourism tier
/// (`None`: not yet classified) and a short Thai description.
type CommunityRow = (
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    i32,
    i32,
    Option<&'static str>,
    &'static str,
);

/// The 36 fictional demo communities. Districts and subdistricts are real
/// places in their provinces; the villages and everything about them are
/// made up. Five tier C communities are in Chiang Rai (TH-57), and two of
/// those (DEMO-004, DEMO-005) have no enrolment.
#[rustfmt::skip]
const COMMUNITIES: [CommunityRow; 36] = [
    ("DEMO-001", "ชุมชนบ้านดอยดาวเรือง", "Ban Doi Dao Rueang", "TH-57", "แม่สาย", "เวียงพางคำ", 7, 184, Some("C"), "หมู่บ้านบนดอย ปลูกชาและรักษาวิถีชีวิตดั้งเดิม เหมาะแก่การศึกษาดูงาน"),
    ("DEMO-002", "ชุมชนบ้านห้วยน้ำใส", "Ban Huai Nam Sai", "TH-57", "เชียงแสน", "เวียง", 4, 236, Some("C"), "แหล่งเรียนรู้การทอผ้าและเกษตรริมแม่น้ำโขง"),
    ("DEMO-003", "ชุมชนบ้านป่าเมี่ยงงาม", "Ban Pa Miang Ngam", "TH-57", "แม่จัน", "ป่าซาง", 9, 97, Some("C"), "เรียนรู้การทำเมี่ยงและการจัดการป่าชุมชน"),
    ("DEMO-004", "ชุมชนบ้านโป่งทองคำ", "Ban Pong Thong Kham", "TH-57", "เวียงป่าเป้า", "แม่เจดีย์", 5, 148, Some("C"), "ชุมชนน้ำพุร้อน เรียนรู้การแปรรูปผลผลิตเกษตร"),
    ("DEMO-005", "ชุมชนบ้านผาหมอกงาม", "Ban Pha Mok Ngam", "TH-57", "แม่ฟ้าหลวง", "เทอดไทย", 12, 210, Some("C"), "เรียนรู้วัฒนธรรมชาติพันธุ์และการปลูกกาแฟบนที่สูง"),
    ("DEMO-006", "ชุมชนบ้านริมโขงสุข", "Ban Rim Khong Suk", "TH-57", "เชียงของ", "ริมโขง", 2, 320, Some("B"), "มีศักยภาพท่องเที่ยวริมโขง แต่ยังต้องปรับปรุงที่พักและท่าเรือ"),
    ("DEMO-007", "ชุมชนบ้านแม่ลายทอง", "Ban Mae Lai Thong", "TH-50", "แม่ริม", "โป่งแยง", 6, 175, Some("A"), "ท่องเที่ยวเชิงเกษตรบนดอย พร้อมต่อยอดสู่การส่งเสริมการตลาด"),
    ("DEMO-008", "ชุมชนบ้านหัตถศิลป์ออนงาม", "Ban Hattasin On Ngam", "TH-50", "สันกำแพง", "ออนใต้", 3, 268, Some("D"), "ผลิตภัณฑ์ผ้าทอมือและเครื่องจักสาน"),
    ("DEMO-009", "ชุมชนบ้านผาน้ำตกเงิน", "Ban Pha Namtok Ngoen", "TH-50", "จอมทอง", "บ้านหลวง", 14, 88, Some("C"), "เรียนรู้การอนุรักษ์ต้นน้ำและเกษตรที่สูง"),
    ("DEMO-010", "ชุมชนบ้านทุ่งดอกคำ", "Ban Thung Dok Kham", "TH-50", "สันกำแพง", "ออนใต้", 8, 143, None, "กลุ่มเกษตรอินทรีย์ รอการประเมินระดับ"),
    ("DEMO-011", "ชุมชนบ้านศิลาเพชรงาม", "Ban Sila Phet Ngam", "TH-55", "ปัว", "ศิลาแลง", 5, 196, Some("C"), "ศึกษาดูงานการทอผ้าลายน้ำไหลและนาขั้นบันได"),
    ("DEMO-012", "ชุมชนบ้านน้ำรินทอง", "Ban Nam Rin Thong", "TH-55", "ท่าวังผา", "ป่าคา", 10, 124, Some("D"), "ผลิตภัณฑ์ข้าวเกรียบและผ้าพื้นเมือง"),
    ("DEMO-013", "ชุมชนบ้านหมอกปายงาม", "Ban Mok Pai Ngam", "TH-58", "ปาย", "เวียงใต้", 4, 158, Some("A"), "แหล่งท่องเที่ยวธรรมชาติ มีโฮมสเตย์พร้อมรับนักท่องเที่ยว"),
    ("DEMO-014", "ชุมชนบ้านดงน้ำพุ", "Ban Dong Nam Phu", "TH-52", "เมืองปาน", "แจ้ซ้อน", 7, 142, Some("B"), "มีบ่อน้ำพุร้อน แต่ยังต้องพัฒนาเส้นทางและห้องน้ำ"),
    ("DEMO-015", "ชุมชนบ้านหาดทองเสี้ยว", "Ban Hat Thong Siao", "TH-64", "ศรีสัชนาลัย", "หาดเสี้ยว", 2, 410, Some("D"), "ผ้าซิ่นตีนจกและเครื่องประดับเงิน"),
    ("DEMO-016", "ชุมชนบ้านหมูสีสุขใจ", "Ban Mu Si Suk Jai", "TH-30", "ปากช่อง", "หมูสี", 11, 530, Some("A"), "ท่องเที่ยวเชิงเกษตรใกล้อุทยานแห่งชาติ มีที่พักพร้อม"),
    ("DEMO-017", "ชุมชนบ้านเสมาทอง", "Ban Sema Thong", "TH-30", "พิมาย", "ในเมือง", 6, 287, Some("B"), "ใกล้แหล่งโบราณสถาน ต้องพัฒนาป้ายบอกทางและลานจอดรถ"),
    ("DEMO-018", "ชุมชนบ้านโนนหอมดี", "Ban Non Hom Di", "TH-30", "พิมาย", "ในเมือง", 9, 176, None, "กลุ่มแปรรูปข้าวหอมมะลิ รอการประเมินระดับ"),
    ("DEMO-019", "ชุมชนบ้านโคกไดโน", "Ban Khok Dino", "TH-40", "ภูเวียง", "ในเมือง", 3, 215, Some("B"), "ใกล้แหล่งขุดค้นไดโนเสาร์ ต้องปรับปรุงเส้นทางเข้าถึง"),
    ("DEMO-020", "ชุมชนบ้านหนองไหมทอง", "Ban Nong Mai Thong", "TH-40", "ชุมแพ", "ชุมแพ", 8, 342, Some("D"), "ผ้าไหมมัดหมี่และผลิตภัณฑ์ชุมชน"),
    ("DEMO-021", "ชุมชนบ้านท่าสองสี", "Ban Tha Song Si", "TH-34", "โขงเจียม", "โขงเจียม", 1, 265, Some("A"), "จุดชมแม่น้ำสองสี มีโฮมสเตย์และเรือนำเที่ยว"),
    ("DEMO-022", "ชุมชนบ้านลานหินงาม", "Ban Lan Hin Ngam", "TH-34", "สิรินธร", "ช่องเม็ก", 5, 132, Some("C"), "เรียนรู้ธรณีวิทยาลานหินและวิถีประมงพื้นบ้าน"),
    ("DEMO-023", "ชุมชนบ้านนาคาริมโขง", "Ban Naka Rim Khong", "TH-48", "ท่าอุเทน", "ท่าอุเทน", 6, 188, Some("C"), "ศึกษาวิถีชุมชนริมโขงและการแปรรูปปลา"),
    ("DEMO-024", "ชุมชนบ้านธาตุทองคำ", "Ban That Thong Kham", "TH-48", "ธาตุพนม", "ธาตุพนม", 10, 455, Some("D"), "ผลิตภัณฑ์ผ้าย้อมครามและของที่ระลึก"),
    ("DEMO-025", "ชุมชนบ้านไทรทองผา", "Ban Sai Thong Pha", "TH-71", "ทองผาภูมิ", "ท่าขนุน", 4, 203, Some("C"), "เรียนรู้การจัดการท่องเที่ยวโดยชุมชนในผืนป่าตะวันตก"),
    ("DEMO-026", "ชุมชนบ้านหนองลูริมน้ำ", "Ban Nong Lu Rim Nam", "TH-71", "สังขละบุรี", "หนองลู", 3, 376, Some("A"), "ท่องเที่ยววัฒนธรรมริมทะเลสาบ พร้อมรับนักท่องเที่ยว"),
    ("DEMO-027", "ชุมชนบ้านแก่งผาหอม", "Ban Kaeng Pha Hom", "TH-76", "แก่งกระจาน", "แก่งกระจาน", 7, 115, Some("C"), "เรียนรู้การเลี้ยงผึ้งและการอนุรักษ์ป่า"),
    ("DEMO-028", "ชุมชนบ้านป่าชายเลนสุข", "Ban Pa Chai Len Suk", "TH-76", "บ้านแหลม", "บางตะบูน", 2, 298, Some("B"), "ท่องเที่ยวป่าชายเลน ต้องพัฒนาสะพานไม้และท่าเรือ"),
    ("DEMO-029", "ชุมชนบ้านอ่าวสายรุ้ง", "Ban Ao Sai Rung", "TH-81", "เกาะลันตา", "ศาลาด่าน", 5, 420, Some("A"), "ท่องเที่ยวทางทะเลโดยชุมชน มีเรือและที่พักพร้อม"),
    ("DEMO-030", "ชุมชนบ้านแหลมสักงาม", "Ban Laem Sak Ngam", "TH-81", "อ่าวลึก", "แหลมสัก", 1, 590, Some("D"), "ผลิตภัณฑ์อาหารทะเลแปรรูป"),
    ("DEMO-031", "ชุมชนบ้านตาลโตนดงาม", "Ban Tan Tanot Ngam", "TH-90", "สทิงพระ", "จะทิ้งพระ", 4, 233, Some("C"), "เรียนรู้วิถีตาลโตนดและการทำน้ำตาลโตนด"),
    ("DEMO-032", "ชุมชนบ้านควนรัตนา", "Ban Khuan Rattana", "TH-90", "รัตภูมิ", "กำแพงเพชร", 9, 167, None, "กลุ่มออมทรัพย์และสวนยางพารา รอการประเมินระดับ"),
    ("DEMO-033", "ชุมชนบ้านสวนมังคุดทอง", "Ban Suan Mangkhut Thong", "TH-22", "ท่าใหม่", "ท่าใหม่", 6, 254, Some("B"), "ท่องเที่ยวสวนผลไม้ ต้องพัฒนาที่พักและป้ายบอกทาง"),
    ("DEMO-034", "ชุมชนบ้านปากน้ำสุขสันต์", "Ban Pak Nam Suk San", "TH-22", "แหลมสิงห์", "ปากน้ำแหลมสิงห์", 3, 312, Some("D"), "ผลิตภัณฑ์กุ้งแห้งและปลาหมึกแปรรูป"),
    ("DEMO-035", "ชุมชนบ้านนาข้าวหอม", "Ban Na Khao Hom", "TH-35", "เมืองยโสธร", "ทุ่งแต้", 5, 221, None, "กลุ่มข้าวอินทรีย์และหมอนขิด รอการประเมินระดับ"),
    ("DEMO-036", "ชุมชนบ้านกระจูดงาม", "Ban Krachut Ngam", "TH-93", "ควนขนุน", "ทะเลน้อย", 8, 279, Some("D"), "ผลิตภัณฑ์จักสานกระจูด"),
];

/// Contact persons of some demo communities: community code, name, phone,
/// email. All fictional.
#[rustfmt::skip]
const CONTACTS: [(&str, &str, &str, Option<&str>); 8] = [
    ("DEMO-001", "สมชาย ใจดี", "080-000-0001", Some("doi-dao-rueang@example.org")),
    ("DEMO-002", "มาลี ศรีสุข", "080-000-0002", Some("huai-nam-sai@example.org")),
    ("DEMO-007", "ประเสริฐ มั่นคง", "080-000-0007", None),
    ("DEMO-011", "บุญมี รักถิ่น", "080-000-0011", Some("sila-phet-ngam@example.org")),
    ("DEMO-016", "วันดี สุขสวัสดิ์", "080-000-0016", Some("mu-si-suk-jai@example.org")),
    ("DEMO-020", "สมศรี ทองดี", "080-000-0020", None),
    ("DEMO-027", "สุดา แก้วใส", "080-000-0027", Some("kaeng-pha-hom@example.org")),
    ("DEMO-031", "อารี ชื่นใจ", "080-000-0031", Some("tan-tanot-ngam@example.org")),
];

/// Model Community Enterprise awards: community code, year (C.E.) and
/// category. The FINANCE_AND_WELFARE winners become the model communities of
/// the core finance curriculum.
#[rustfmt::skip]
const AWARDS: [(&str, i32, AwardCategory); 10] = [
    ("DEMO-002", 2019, AwardCategory::FinanceAndWelfare),
    ("DEMO-011", 2018, AwardCategory::FinanceAndWelfare),
    ("DEMO-018", 2019, AwardCategory::FinanceAndWelfare),
    ("DEMO-020", 2018, AwardCategory::FinanceAndWelfare),
    ("DEMO-032", 2019, AwardCategory::FinanceAndWelfare),
    ("DEMO-035", 2018, AwardCategory::FinanceAndWelfare),
    ("DEMO-015", 2018, AwardCategory::CommunityProducts),
    ("DEMO-016", 2019, AwardCategory::CommunityTourism),
    ("DEMO-027", 2019, AwardCategory::AgricultureAndFood),
    ("DEMO-036", 2019, AwardCategory::CommunityProducts),
];

/// The Thai name of an award category, for the award's title.
fn award_label(category: AwardCategory) -> &'static str {
    match category {
        AwardCategory::FinanceAndWelfare => "ด้านการเงินและสวัสดิการชุมชน",
        AwardCategory::CommunityTourism => "ด้านการท่องเที่ยวชุมชน",
        AwardCategory::CommunityProducts => "ด้านผลิตภัณฑ์ชุมชน",
        AwardCategory::AgricultureAndFood => "ด้านเกษตรและอาหาร",
        AwardCategory::EnvironmentAndEnergy => "ด้านสิ่งแวดล้อมและพลังงาน",
    }
}

/// An MOU of the demo data, with its parties in order.
struct MouSeed {
    /// Business code.
    code: &'static str,
    /// Thai title.
    title_th: &'static str,
    /// English title.
    title_en: &'static str,
    /// What the MOU is for, in English.
    purpose: &'static str,
    /// Its status.
    status: MouStatus,
    /// Planned start.
    starts_on: Option<NaiveDate>,
    /// Planned end.
    ends_on: Option<NaiveDate>,
    /// The creator; also the first party.
    created_by: Org,
    /// Parties with their `PartyRole` name, in position order. None signed.
    parties: &'static [(Org, PartyRole)],
}

/// The two MOUs the meeting discussed.
const MOUS: [MouSeed; 2] = [
    MouSeed {
        code: TOURISM_MOU,
        title_th: "สานพลังขับเคลื่อน พัฒนาวิสาหกิจท่องเที่ยวชุมชน",
        title_en: "Joining forces to drive community tourism enterprise development",
        purpose: "CDD proposes tourism communities from its network, classified into tiers A to D; \
                  the foundation develops the entrepreneurship skills of tier C communities \
                  (potential for learning), selecting areas and agreeing with CDD how to develop them together.",
        status: MouStatus::Negotiating,
        starts_on: Some(ymd(2020, 6, 1)),
        ends_on: Some(ymd(2023, 5, 31)),
        created_by: Org::Foundation,
        parties: &[(Org::Foundation, PartyRole::Lead), (Org::Cdd, PartyRole::Partner)],
    },
    MouSeed {
        code: "MOU-ENERGY",
        title_th: "ความร่วมมือขับเคลื่อนโครงการพลังงานชุมชน",
        title_en: "Cooperation on the community energy project",
        purpose: "Following on from the Khok Nong Na model villages, help communities become \
                  secure in energy as well as in food.",
        status: MouStatus::Draft,
        starts_on: None,
        ends_on: None,
        created_by: Org::Foundation,
        parties: &[(Org::Foundation, PartyRole::Lead), (Org::Cdd, PartyRole::Partner)],
    },
];

/// The commitments the meeting produced: MOU code, owner, description, due date.
#[rustfmt::skip]
const COMMITMENTS: [(&str, Org, &str, NaiveDate); 3] = [
    (TOURISM_MOU, Org::Foundation, "Obtain the tier C community data from CDD, select areas and agree with CDD how to develop them together.", ymd(2020, 3, 31)),
    (TOURISM_MOU, Org::Foundation, "Request the savings-school data from CDD and draft the alternative curriculum, to propose for joint delivery.", ymd(2020, 4, 30)),
    ("MOU-ENERGY", Org::Cdd, "Sign the community energy MOU between CDD and the foundation.", ymd(2020, 9, 30)),
];

/// A curriculum of the demo data, with its modules.
struct CurriculumSeed {
    /// Business code.
    code: &'static str,
    /// Thai title.
    title_th: &'static str,
    /// English title.
    title_en: &'static str,
    /// CORE or ALTERNATIVE.
    kind: CurriculumKind,
    /// Its status.
    status: CurriculumStatus,
    /// Its focus areas.
    focus_areas: &'static [FocusArea],
    /// The owner.
    owner: Org,
    /// Contributing organisations besides the owner.
    contributors: &'static [Org],
    /// Modules in order (positions 1, 2, ...): title, hours, objectives.
    modules: &'static [(&'static str, f64, &'static str)],
    /// Communities holding an award of this category become model communities.
    models_from_award: Option<AwardCategory>,
}

/// The core finance curriculum and CDD's proposed alternative.
const CURRICULA: [CurriculumSeed; 2] = [
    CurriculumSeed {
        code: "CUR-FINANCE-CORE",
        title_th: "หลักสูตรการเงินชุมชน",
        title_en: "Community finance curriculum",
        kind: CurriculumKind::Core,
        status: CurriculumStatus::Approved,
        focus_areas: &[FocusArea::RiskManagement, FocusArea::CommunityFinanceEconomy],
        owner: Org::Foundation,
        contributors: &[Org::Cdd, Org::Gsb, Org::VillageFund],
        modules: &[
            (
                "การบริหารจัดการความเสี่ยงของกลุ่มการเงินชุมชน",
                6.0,
                "ระบุ ประเมิน และจัดการความเสี่ยงด้านสินเชื่อ สภาพคล่อง และธรรมาภิบาลของกลุ่ม",
            ),
            ("การจัดทำบัญชีและรายงานการเงินของกลุ่ม", 6.0, "จัดทำบัญชีรับจ่ายและงบการเงิน และรายงานต่อสมาชิกอย่างโปร่งใส"),
            ("การสร้างเศรษฐกิจจากฐานการเงินชุมชน", 9.0, "ใช้เงินทุนของกลุ่มต่อยอดวิสาหกิจชุมชนและสร้างรายได้ให้สมาชิก"),
            ("ศึกษาดูงานชุมชนต้นแบบด้านการเงินและสวัสดิการชุมชน", 6.0, "เรียนรู้จากชุมชนที่ได้รับรางวัลวิสาหกิจชุมชนต้นแบบสัมมาชีพ"),
        ],
        models_from_award: Some(AwardCategory::FinanceAndWelfare),
    },
    CurriculumSeed {
        code: "CUR-SAVINGS-ALT",
        title_th: "หลักสูตรทางเลือก โรงเรียนออมทรัพย์",
        title_en: "Alternative curriculum: savings schools",
        kind: CurriculumKind::Alternative,
        status: CurriculumStatus::Draft,
        focus_areas: &[FocusArea::SavingsSchool],
        owner: Org::Foundation,
        contributors: &[Org::Cdd],
        modules: &[
            ("หลักการและการจัดตั้งโรงเรียนออมทรัพย์", 3.0, "เข้าใจแนวคิดโรงเรียนออมทรัพย์ของกรมการพัฒนาชุมชนและขั้นตอนการจัดตั้ง"),
            ("การส่งเสริมการออมในครัวเรือนและเยาวชน", 3.0, "ออกแบบกิจกรรมส่งเสริมวินัยการออมสำหรับครัวเรือนและเยาวชนในชุมชน"),
        ],
        models_from_award: None,
    },
];

/// A programme of the demo data.
struct ProgrammeSeed {
    /// Business code.
    code: &'static str,
    /// Thai name.
    name_th: &'static str,
    /// English name.
    name_en: &'static str,
    /// Its theme.
    theme: ProgrammeTheme,
    /// Its status.
    status: ProgrammeStatus,
    /// Code of the MOU it runs under, if any.
    mou: Option<&'static str>,
    /// The lead (and creator).
    lead: Org,
    /// Partner organisations.
    partners: &'static [Org],
    /// The tiers it takes; empty means any tier.
    target_tiers: &'static [TourismTier],
    /// Most enrolments ENROLLED, IN_PROGRESS or COMPLETED at once.
    capacity: Option<i32>,
    /// First day.
    starts_on: NaiveDate,
    /// Last day.
    ends_on: NaiveDate,
    /// Codes of the curricula it uses.
    curricula: &'static [&'static str],
}

/// The four programmes of the seed document.
const PROGRAMMES: [ProgrammeSeed; 4] = [
    ProgrammeSeed {
        code: "PRG-TOURISM-C",
        name_th: "พัฒนาผู้ประกอบการวิสาหกิจท่องเที่ยวชุมชน ระดับ C",
        name_en: "Community tourism enterprise development (tier C)",
        theme: ProgrammeTheme::CommunityTourism,
        status: ProgrammeStatus::Open,
        mou: Some(TOURISM_MOU),
        lead: Org::Foundation,
        partners: &[Org::Cdd],
        target_tiers: &[TourismTier::C],
        capacity: Some(20),
        starts_on: ymd(2020, 6, 1),
        ends_on: ymd(2021, 5, 31),
        curricula: &[],
    },
    ProgrammeSeed {
        code: "PRG-FINANCE",
        name_th: "พัฒนากลุ่มและองค์กรการเงินชุมชน",
        name_en: "Community finance groups and organisations",
        theme: ProgrammeTheme::CommunityFinance,
        status: ProgrammeStatus::Open,
        mou: None,
        lead: Org::Foundation,
        partners: &[Org::Cdd, Org::Gsb, Org::VillageFund],
        target_tiers: &[],
        capacity: None,
        starts_on: ymd(2020, 4, 1),
        ends_on: ymd(2021, 3, 31),
        curricula: &["CUR-FINANCE-CORE", "CUR-SAVINGS-ALT"],
    },
    ProgrammeSeed {
        code: "PRG-KHOK-NONG-NA",
        name_th: "หมู่บ้านต้นแบบสัมมาชีพ โคก หนอง นา โมเดล",
        name_en: "Sammachiv model villages: the Khok Nong Na model",
        theme: ProgrammeTheme::ModelVillage,
        status: ProgrammeStatus::Open,
        mou: None,
        lead: Org::Foundation,
        partners: &[Org::Cdd],
        target_tiers: &[],
        capacity: None,
        starts_on: ymd(2020, 7, 1),
        ends_on: ymd(2022, 6, 30),
        curricula: &[],
    },
    ProgrammeSeed {
        code: "PRG-ENERGY",
        name_th: "โครงการพลังงานชุมชน",
        name_en: "Community energy project",
        theme: ProgrammeTheme::CommunityEnergy,
        status: ProgrammeStatus::Planned,
        mou: Some("MOU-ENERGY"),
        lead: Org::Foundation,
        partners: &[Org::Cdd],
        target_tiers: &[],
        capacity: None,
        starts_on: ymd(2021, 1, 1),
        ends_on: ymd(2022, 12, 31),
        curricula: &[],
    },
];

/// One demo enrolment: community code, programme code, curriculum code,
/// nominating organisation, the statuses it went through (starting with
/// NOMINATED; the last is its status) and a note on the last step.
type EnrolmentRow =
    (&'static str, &'static str, Option<&'static str>, Org, &'static [EnrolmentStatus], Option<&'static str>);

/// Enrolments in the tourism and the finance programmes. In PRG-TOURISM-C
/// (capacity 20) three count against the capacity.
#[rustfmt::skip]
const ENROLMENTS: [EnrolmentRow; 11] = [
    ("DEMO-001", "PRG-TOURISM-C", None, Org::Cdd, &[EnrolmentStatus::Nominated, EnrolmentStatus::Enrolled, EnrolmentStatus::InProgress], None),
    ("DEMO-002", "PRG-TOURISM-C", None, Org::Cdd, &[EnrolmentStatus::Nominated, EnrolmentStatus::Enrolled], None),
    ("DEMO-003", "PRG-TOURISM-C", None, Org::Foundation, &[EnrolmentStatus::Nominated], None),
    ("DEMO-011", "PRG-TOURISM-C", None, Org::Cdd, &[EnrolmentStatus::Nominated, EnrolmentStatus::Enrolled, EnrolmentStatus::InProgress], None),
    ("DEMO-022", "PRG-TOURISM-C", None, Org::Cdd, &[EnrolmentStatus::Nominated], None),
    ("DEMO-002", "PRG-FINANCE", Some("CUR-FINANCE-CORE"), Org::Foundation, &[EnrolmentStatus::Nominated, EnrolmentStatus::Enrolled, EnrolmentStatus::InProgress, EnrolmentStatus::Completed], None),
    ("DEMO-020", "PRG-FINANCE", Some("CUR-FINANCE-CORE"), Org::Cdd, &[EnrolmentStatus::Nominated, EnrolmentStatus::Enrolled, EnrolmentStatus::InProgress], None),
    ("DEMO-017", "PRG-FINANCE", Some("CUR-FINANCE-CORE"), Org::Cdd, &[EnrolmentStatus::Nominated, EnrolmentStatus::Enrolled, EnrolmentStatus::Withdrawn], Some("ชุมชนขอถอนตัวเนื่องจากติดช่วงฤดูเก็บเกี่ยว")),
    ("DEMO-032", "PRG-FINANCE", Some("CUR-FINANCE-CORE"), Org::Cdd, &[EnrolmentStatus::Nominated, EnrolmentStatus::Enrolled], None),
    ("DEMO-033", "PRG-FINANCE", Some("CUR-SAVINGS-ALT"), Org::Cdd, &[EnrolmentStatus::Nominated], None),
    ("DEMO-024", "PRG-FINANCE", None, Org::Foundation, &[EnrolmentStatus::Nominated, EnrolmentStatus::Declined], Some("กลุ่มยังไม่มีระบบบัญชีตามเกณฑ์ความพร้อมของหลักสูตร")),
];

// ------------------------------------------------------------------ the loader

/// The partner organisations, as the callers the demo data is written by.
struct Orgs {
    /// Organisation ids, in the order of [`Org::ALL`].
    ids: [i64; 4],
}

impl Orgs {
    /// Looks the partners up by code.
    async fn load(txn: &DatabaseTransaction) -> Result<Self, DbErr> {
        let codes = Org::ALL.map(Org::code);
        let rows = organization::Entity::find().filter(organization::Column::Code.is_in(codes)).all(txn).await?;
        let mut ids = [0; 4];
        for (slot, code) in ids.iter_mut().zip(codes) {
            *slot = rows
                .iter()
                .find(|row| row.code == code)
                .map(|row| row.id)
                .ok_or_else(|| DbErr::RecordNotFound(format!("organization {code}")))?;
        }
        Ok(Orgs { ids })
    }

    /// `org` as a caller with every scope: the demo data is written through
    /// the use-case functions, under the same rules as the API.
    fn actor(&self, org: Org) -> Actor {
        Actor {
            org_id: self.ids[org as usize],
            org_code: org.code().to_owned(),
            subject: SUBJECT.to_owned(),
            scopes: Scope::ALL.into(),
            expires_at: Utc::now(),
            issuer: SUBJECT.to_owned(),
        }
    }
}

/// Looks up an id by code in a map the seeder built, or fails naming it.
fn id_of(ids: &HashMap<&'static str, i64>, what: &str, code: &str) -> AppResult<i64> {
    ids.get(code).copied().ok_or_else(|| AppError::internal(format!("demo data refers to unknown {what} {code}")))
}

/// A rule the demo data broke, as a database error (the seed rolls back).
fn refused(error: AppError) -> DbErr {
    DbErr::Custom(format!("the demo data breaks a rule: {}", error.message()))
}

/// Writes the demo data inside one open transaction, through the use-case
/// functions of `store`: every record passes the API's validation and rules,
/// and gets the version and change events a mutation would give it.
struct Seeder<'a> {
    /// The seed's transaction.
    txn: &'a DatabaseTransaction,
    /// The partner organisations.
    orgs: Orgs,
}

impl Seeder<'_> {
    /// Writes everything, in dependency order.
    async fn run(&self) -> Result<(), DbErr> {
        let communities = self.communities().await.map_err(refused)?;
        let mous = self.mous().await.map_err(refused)?;
        self.commitments(&mous).await.map_err(refused)?;
        let curricula = self.curricula(&communities).await.map_err(refused)?;
        let programmes = self.programmes(&mous, &curricula).await.map_err(refused)?;
        self.enrolments(&communities, &programmes, &curricula).await.map_err(refused)
    }

    /// The demo communities (created and classified by CDD), their contacts
    /// and awards. Returns their ids by code.
    async fn communities(&self) -> AppResult<HashMap<&'static str, i64>> {
        let mut news = Vec::with_capacity(COMMUNITIES.len());
        for (code, name_th, name_en, province, district, subdistrict, village_no, households, tier, description) in
            COMMUNITIES
        {
            let contact = CONTACTS.iter().find(|contact| contact.0 == code);
            let awards = AWARDS
                .iter()
                .filter(|award| award.0 == code)
                .map(|&(_, year, category)| {
                    // The award in Thai, with the Buddhist-era year.
                    let title = format!("รางวัลวิสาหกิจชุมชนต้นแบบสัมมาชีพ {} ปี {}", award_label(category), year + 543);
                    Award::parse(year, category, Some(&title))
                })
                .collect::<AppResult<Vec<_>>>()?;
            news.push(NewCommunity {
                code: text::code("code", code)?,
                name_th: text::required("nameTh", name_th, limits::NAME)?,
                name_en: text::optional("nameEn", Some(name_en), limits::NAME)?,
                province_code: province.to_owned(),
                district: text::optional("district", Some(district), limits::PLACE)?,
                subdistrict: text::optional("subdistrict", Some(subdistrict), limits::PLACE)?,
                village_no: text::non_negative("villageNo", Some(village_no))?,
                households: text::non_negative("households", Some(households))?,
                description: text::optional("description", Some(&format!("{description}{FICTIONAL}")), limits::LONG)?,
                contact: contact.map(|c| Contact::parse(c.1, Some(c.2), c.3)).transpose()?,
                awards: Award::list(awards)?,
                tier: tier.map(tier_of),
            });
        }
        let ids = communities::create_many_in(self.txn, &self.orgs.actor(Org::Cdd), &news).await?;
        Ok(COMMUNITIES.iter().map(|row| row.0).zip(ids).collect())
    }

    /// The MOUs, created by their lead and moved to their status. Returns
    /// their ids by code.
    async fn mous(&self) -> AppResult<HashMap<&'static str, i64>> {
        let mut ids = HashMap::new();
        for seed in &MOUS {
            let parties = seed
                .parties
                .iter()
                .map(|&(org, role)| MouParty { organization_code: org.code().to_owned(), role })
                .collect();
            let new = NewMou {
                code: text::code("code", seed.code)?,
                title_th: text::required("titleTh", seed.title_th, limits::NAME)?,
                title_en: text::optional("titleEn", Some(seed.title_en), limits::NAME)?,
                purpose: text::optional("purpose", Some(seed.purpose), limits::LONG)?,
                starts_on: seed.starts_on,
                ends_on: seed.ends_on,
                parties,
            };
            let actor = self.orgs.actor(seed.created_by);
            let id = mous::create_in(self.txn, &actor, &new).await?;
            if seed.status != MouStatus::Draft {
                let changes = MouChanges { id, status: Some(seed.status), ..MouChanges::default() };
                mous::update_in(self.txn, &actor, &changes).await?;
            }
            ids.insert(seed.code, id);
        }
        Ok(ids)
    }

    /// The commitments the meeting produced, all OPEN, each added by its owner.
    async fn commitments(&self, mous: &HashMap<&'static str, i64>) -> AppResult<()> {
        for (mou_code, owner, description, due_on) in COMMITMENTS {
            let new = NewCommitment {
                mou_id: id_of(mous, "MOU", mou_code)?,
                description: text::required("description", description, limits::NOTE)?,
                owner_code: owner.code().to_owned(),
                due_on: Some(due_on),
            };
            mous::create_commitment_in(self.txn, &self.orgs.actor(owner), &new).await?;
        }
        Ok(())
    }

    /// The curricula with their contributors, modules and model communities,
    /// moved along their lifecycle by their owner. Returns their ids by code.
    async fn curricula(&self, communities: &HashMap<&'static str, i64>) -> AppResult<HashMap<&'static str, i64>> {
        let mut ids = HashMap::new();
        for seed in &CURRICULA {
            let mut models = Vec::new();
            for (code, _, category) in AWARDS {
                if Some(category) == seed.models_from_award {
                    models.push(id_of(communities, "community", code)?);
                }
            }
            // A community with two such awards is still one model.
            models.sort_unstable();
            models.dedup();
            let modules = seed
                .modules
                .iter()
                .map(|&(title, hours, objectives)| Module::parse(title, Some(hours), Some(objectives)))
                .collect::<AppResult<Vec<_>>>()?;
            let new = NewCurriculum {
                code: text::code("code", seed.code)?,
                title_th: text::required("titleTh", seed.title_th, limits::NAME)?,
                title_en: text::optional("titleEn", Some(seed.title_en), limits::NAME)?,
                kind: seed.kind,
                focus_areas: focus_areas(seed.focus_areas.to_vec())?,
                contributor_codes: seed.contributors.iter().map(|org| org.code().to_owned()).collect(),
                modules: Module::list(modules)?,
                model_community_ids: models,
            };
            let owner = self.orgs.actor(seed.owner);
            let id = curricula::create_in(self.txn, &owner, &new).await?;
            for &status in lifecycle_path(CURRICULUM_PATH, seed.status) {
                let changes = CurriculumChanges { id, status: Some(status), ..CurriculumChanges::default() };
                curricula::update_in(self.txn, &owner, &changes).await?;
            }
            ids.insert(seed.code, id);
        }
        Ok(ids)
    }

    /// The programmes with their partners and curricula, created by their
    /// lead and opened where they are open. Returns their ids by code.
    async fn programmes(
        &self,
        mous: &HashMap<&'static str, i64>,
        curricula: &HashMap<&'static str, i64>,
    ) -> AppResult<HashMap<&'static str, i64>> {
        let mut ids = HashMap::new();
        for seed in &PROGRAMMES {
            let mut curriculum_ids = seed
                .curricula
                .iter()
                .map(|code| id_of(curricula, "curriculum", code))
                .collect::<AppResult<Vec<_>>>()?;
            curriculum_ids.sort_unstable();
            let new = NewProgramme {
                code: text::code("code", seed.code)?,
                name_th: text::required("nameTh", seed.name_th, limits::NAME)?,
                name_en: text::optional("nameEn", Some(seed.name_en), limits::NAME)?,
                theme: seed.theme,
                mou_id: seed.mou.map(|code| id_of(mous, "MOU", code)).transpose()?,
                partner_codes: seed.partners.iter().map(|org| org.code().to_owned()).collect(),
                target_tiers: seed.target_tiers.to_vec(),
                capacity: text::non_negative("capacity", seed.capacity)?,
                starts_on: Some(seed.starts_on),
                ends_on: Some(seed.ends_on),
                curriculum_ids,
            };
            let lead = self.orgs.actor(seed.lead);
            let id = programmes::create_in(self.txn, &lead, &new).await?;
            if seed.status != ProgrammeStatus::Planned {
                let changes = ProgrammeChanges { id, status: Some(seed.status), ..ProgrammeChanges::default() };
                programmes::update_in(self.txn, &lead, &changes).await?;
            }
            ids.insert(seed.code, id);
        }
        Ok(ids)
    }

    /// The enrolments and their status histories: the nominator nominates,
    /// records progress and withdraws; the programme's lead accepts or
    /// declines (`access::enrolment_mover`).
    async fn enrolments(
        &self,
        communities: &HashMap<&'static str, i64>,
        programmes: &HashMap<&'static str, i64>,
        curricula: &HashMap<&'static str, i64>,
    ) -> AppResult<()> {
        for (index, (community_code, programme_code, curriculum_code, nominator, path, note)) in
            ENROLMENTS.into_iter().enumerate()
        {
            let lead = PROGRAMMES
                .iter()
                .find(|p| p.code == programme_code)
                .map(|p| p.lead)
                .ok_or_else(|| AppError::internal(format!("unknown programme {programme_code}")))?;
            let note_on = |step: usize| if step + 1 == path.len() { note.map(str::to_owned) } else { None };
            let nomination = Nomination {
                programme_id: id_of(programmes, "programme", programme_code)?,
                community_id: id_of(communities, "community", community_code)?,
                curriculum_id: curriculum_code.map(|code| id_of(curricula, "curriculum", code)).transpose()?,
                note: note_on(0),
            };
            let id = enrolments::nominate_in(self.txn, &self.orgs.actor(nominator), &nomination).await?;
            for (step, &to) in path.iter().enumerate().skip(1) {
                let by = if access::enrolment_mover(to) == EnrolmentMover::Lead { lead } else { nominator };
                let change = EnrolmentMove { id, expected_version: None, to, note: note_on(step) };
                enrolments::transition_in(self.txn, &self.orgs.actor(by), &change).await?;
            }
            self.date_enrolment(id, index).await?;
        }
        Ok(())
    }

    /// Dates enrolment `id`, the `index`th of [`ENROLMENTS`], in the story's
    /// year: nominations from 11 January 2021, one every 23 days, and each
    /// later step 30 days after the one before. (The write path stamps them
    /// with the time of loading, which would put every nomination of the
    /// demo in one month, with nothing for month-by-month figures to show.)
    async fn date_enrolment(&self, id: i64, index: usize) -> AppResult<()> {
        let start = ymd(2021, 1, 11).and_hms_opt(3, 0, 0).unwrap_or_default().and_utc();
        let nominated = start + Duration::days(23 * index as i64);
        let steps = enrolment_transition::Entity::find()
            .filter(enrolment_transition::Column::EnrolmentId.eq(id))
            .order_by_asc(enrolment_transition::Column::Id)
            .all(self.txn)
            .await?;
        let mut at = nominated;
        for (step, transition) in steps.iter().enumerate() {
            at = nominated + Duration::days(30 * step as i64);
            enrolment_transition::Entity::update_many()
                .col_expr(enrolment_transition::Column::At, Expr::value(at))
                .filter(enrolment_transition::Column::Id.eq(transition.id))
                .exec(self.txn)
                .await?;
        }
        enrolment::Entity::update_many()
            .col_expr(enrolment::Column::NominatedAt, Expr::value(nominated))
            .col_expr(enrolment::Column::CreatedAt, Expr::value(nominated))
            .col_expr(enrolment::Column::UpdatedAt, Expr::value(at))
            .filter(enrolment::Column::Id.eq(id))
            .exec(self.txn)
            .await?;
        Ok(())
    }
}

/// The curriculum statuses a new (DRAFT) curriculum passes through.
const CURRICULUM_PATH: &[CurriculumStatus] =
    &[CurriculumStatus::Proposed, CurriculumStatus::Approved, CurriculumStatus::Retired];

/// The steps of `path` up to and including `to` (none when `to` is not on it).
fn lifecycle_path<S: PartialEq>(path: &[S], to: S) -> &[S] {
    path.iter().position(|s| *s == to).map_or(&[], |i| &path[..=i])
}

/// CDD's tier from its letter in the demo data.
fn tier_of(letter: &str) -> TourismTier {
    match letter {
        "A" => TourismTier::A,
        "B" => TourismTier::B,
        "C" => TourismTier::C,
        _ => TourismTier::D,
    }
}
