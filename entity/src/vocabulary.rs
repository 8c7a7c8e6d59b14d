//! The closed vocabularies of the domain. Each is stored as its name in a
//! text column (a sea-orm string active enum, so entity models hold the
//! typed value) and, with the `graphql` feature, is a GraphQL enum of the
//! same names.

use sea_orm::entity::prelude::*;

/// Declares an enum stored as text, with `as_str` and, behind the `graphql`
/// feature, the GraphQL derive. Each variant's text is its stored and its
/// GraphQL name.
macro_rules! vocabulary {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, EnumIter, DeriveActiveEnum)]
        #[cfg_attr(feature = "graphql", derive(async_graphql::Enum))]
        #[sea_orm(rs_type = "String", db_type = "Text")]
        pub enum $name {
            $(
                $(#[$vmeta])*
                #[sea_orm(string_value = $text)]
                #[cfg_attr(feature = "graphql", graphql(name = $text))]
                $variant
            ),+
        }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The stored (and GraphQL) name.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

vocabulary! {
    /// What kind of body a partner organisation is.
    OrganizationKind {
        /// A foundation, such as the Sammachiv Foundation.
        Foundation => "FOUNDATION",
        /// A government department, such as CDD.
        GovernmentDepartment => "GOVERNMENT_DEPARTMENT",
        /// A bank, such as the Government Savings Bank.
        Bank => "BANK",
        /// A fund, such as the Village and Urban Community Fund.
        Fund => "FUND",
        /// Any other kind of organisation.
        Other => "OTHER",
    }
}

vocabulary! {
    /// CDD's tourism classification of a community.
    TourismTier {
        /// Tourism potential, ready to be taken on to promotion.
        A => "A",
        /// Tourism potential, still needs infrastructure improvement.
        B => "B",
        /// Potential for learning (study visits).
        C => "C",
        /// Community products.
        D => "D",
    }
}

vocabulary! {
    /// The category of a Model Community Enterprise award.
    AwardCategory {
        /// Finance and community welfare.
        FinanceAndWelfare => "FINANCE_AND_WELFARE",
        /// Community tourism.
        CommunityTourism => "COMMUNITY_TOURISM",
        /// Community products.
        CommunityProducts => "COMMUNITY_PRODUCTS",
        /// Agriculture and food.
        AgricultureAndFood => "AGRICULTURE_AND_FOOD",
        /// Environment and energy.
        EnvironmentAndEnergy => "ENVIRONMENT_AND_ENERGY",
    }
}

vocabulary! {
    /// Where an MOU stands: `DRAFT → NEGOTIATING → SIGNED → TERMINATED`.
    MouStatus {
        /// Being drafted; visible only to its parties.
        Draft => "DRAFT",
        /// Under negotiation; visible only to its parties; parties may sign.
        Negotiating => "NEGOTIATING",
        /// Every lead and partner party has signed.
        Signed => "SIGNED",
        /// Ended.
        Terminated => "TERMINATED",
    }
}

vocabulary! {
    /// A party's role in an MOU.
    PartyRole {
        /// The leading party; its signature is required.
        Lead => "LEAD",
        /// A partner; its signature is required.
        Partner => "PARTNER",
        /// A witness; it may sign, but its signature is not required.
        Witness => "WITNESS",
    }
}

vocabulary! {
    /// Where a commitment stands.
    CommitmentStatus {
        /// Still owed.
        Open => "OPEN",
        /// Done.
        Done => "DONE",
        /// Dropped; it will not be done.
        Dropped => "DROPPED",
    }
}

vocabulary! {
    /// What a programme is about.
    ProgrammeTheme {
        /// Community tourism enterprise development.
        CommunityTourism => "COMMUNITY_TOURISM",
        /// Community finance.
        CommunityFinance => "COMMUNITY_FINANCE",
        /// Model villages (Khok Nong Na model).
        ModelVillage => "MODEL_VILLAGE",
        /// Community energy.
        CommunityEnergy => "COMMUNITY_ENERGY",
    }
}

vocabulary! {
    /// Where a programme stands: `PLANNED → OPEN → CLOSED`.
    ProgrammeStatus {
        /// Planned; takes no nominations yet.
        Planned => "PLANNED",
        /// Open; takes nominations.
        Open => "OPEN",
        /// Closed; takes no nominations.
        Closed => "CLOSED",
    }
}

vocabulary! {
    /// Whether a curriculum is the core one or an alternative.
    CurriculumKind {
        /// A core curriculum.
        Core => "CORE",
        /// An optional curriculum beside the core one.
        Alternative => "ALTERNATIVE",
    }
}

vocabulary! {
    /// Where a curriculum stands: `DRAFT → PROPOSED → APPROVED → RETIRED`.
    CurriculumStatus {
        /// Being drafted.
        Draft => "DRAFT",
        /// Proposed for joint delivery.
        Proposed => "PROPOSED",
        /// Approved for delivery.
        Approved => "APPROVED",
        /// No longer delivered.
        Retired => "RETIRED",
    }
}

vocabulary! {
    /// A focus area of a curriculum.
    FocusArea {
        /// Risk management.
        RiskManagement => "RISK_MANAGEMENT",
        /// Building the economy on the community finance base.
        CommunityFinanceEconomy => "COMMUNITY_FINANCE_ECONOMY",
        /// Savings schools, as CDD runs them.
        SavingsSchool => "SAVINGS_SCHOOL",
        /// Entrepreneurship skills.
        Entrepreneurship => "ENTREPRENEURSHIP",
        /// Tourism services.
        TourismService => "TOURISM_SERVICE",
        /// Food security.
        FoodSecurity => "FOOD_SECURITY",
        /// Community energy.
        CommunityEnergy => "COMMUNITY_ENERGY",
    }
}

vocabulary! {
    /// Where an enrolment stands.
    EnrolmentStatus {
        /// Nominated by a lead or partner of the programme.
        Nominated => "NOMINATED",
        /// Accepted by the programme's lead.
        Enrolled => "ENROLLED",
        /// Taking part.
        InProgress => "IN_PROGRESS",
        /// Finished the programme.
        Completed => "COMPLETED",
        /// Withdrawn by the nominating organisation or the lead.
        Withdrawn => "WITHDRAWN",
        /// Declined by the programme's lead.
        Declined => "DECLINED",
    }
}

vocabulary! {
    /// What a change did to its record.
    ChangeOperation {
        /// The record was created.
        Created => "CREATED",
        /// The record was updated.
        Updated => "UPDATED",
    }
}

vocabulary! {
    /// Whether a webhook subscription is being delivered.
    WebhookStatus {
        /// Events are delivered as they come.
        Active => "ACTIVE",
        /// The partner paused it: events wait, nothing is lost, and they are
        /// delivered from where it stopped once it is active again.
        Paused => "PAUSED",
        /// Deliveries failed for longer than the retry horizon, so the
        /// service paused it; `pausedReason` says why. Set it active again
        /// (or replay) once the endpoint is fixed.
        Failing => "FAILING",
    }
}

vocabulary! {
    /// Whether an organisation's requests must be operations it registered
    /// (trusted documents).
    TrustedDocumentMode {
        /// Any valid operation runs.
        Off => "OFF",
        /// Unregistered operations run, and are counted and logged by
        /// operation name, so the organisation can see what it would refuse.
        Log => "LOG",
        /// Unregistered operations are refused (`PERSISTED_QUERY_NOT_IN_LIST`)
        /// before any database work, unless the token has `operations:adhoc`.
        Enforce => "ENFORCE",
    }
}

vocabulary! {
    /// Where an export stands.
    ExportStatus {
        /// Accepted; waiting for a replica to run it.
        Queued => "QUEUED",
        /// Being written, page after page, at one snapshot.
        Running => "RUNNING",
        /// Written whole: download it from `url` until `expiresAt`.
        Completed => "COMPLETED",
        /// Stopped with an error (`error` says which); nothing of it can be downloaded.
        Failed => "FAILED",
        /// Canceled by the organisation; nothing of it can be downloaded.
        Canceled => "CANCELED",
        /// Completed, but past `expiresAt`: its data has been removed.
        Expired => "EXPIRED",
    }
}

vocabulary! {
    /// The file format of an export.
    ExportFormat {
        /// JSON Lines (`application/x-ndjson`): one JSON object per node, per line;
        /// nested lists stay nested in their line.
        Jsonl => "JSONL",
        /// CSV (RFC 4180, UTF-8, CRLF line ends): a header row of the selected
        /// field names (or aliases), then one row per node. Only for flat
        /// selections: every selected field of the node a scalar or enum.
        Csv => "CSV",
    }
}
