// Saved example queries for the analysts' questions. The playground opens
// each as a tab (titled by its operation name, with `title` as a comment on
// top) and lists them in the Examples pane. Each is { title, query,
// variables? }, variables as a plain object written as JSON (the analysts'
// guide test, tests/http/analysts_doc.rs, runs every example through the
// API on the demo data).
export default [
  {
    title: "Tier C communities in a province that have not joined a programme",
    query: `query TierCNotJoined($province: String!) {
  communities(
    first: 100
    filter: { tiers: [C], provinceCodes: [$province], notEnrolled: true }
    orderBy: { field: NAME, direction: ASC }
  ) {
    totalCount
    nodes { code nameTh nameEn households province { nameEn } }
  }
}
`,
    variables: { "province": "TH-57" },
  },
  {
    title: "Enrolments month by month",
    query: `query EnrolmentsByMonth {
  enrolmentAggregate(groupBy: [NOMINATED_MONTH, STATUS]) {
    groups { key { month status } count }
  }
}
`,
  },
  {
    title: "Households the finance curriculum has reached, by province and by partner",
    query: `query FinanceReach {
  byProvince: enrolmentAggregate(
    filter: { themes: [COMMUNITY_FINANCE], statuses: [ENROLLED, IN_PROGRESS, COMPLETED] }
    groupBy: [PROVINCE]
  ) {
    total { communities households }
    groups { key { province { nameEn } } communities households }
  }
  byPartner: enrolmentAggregate(
    filter: { themes: [COMMUNITY_FINANCE], statuses: [ENROLLED, IN_PROGRESS, COMPLETED] }
    groupBy: [NOMINATING_PARTNER]
  ) {
    groups { key { nominatingPartner { code } } communities households }
  }
}
`,
  },
];
