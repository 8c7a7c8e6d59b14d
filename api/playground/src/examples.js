// Saved example queries for the analysts' questions. The playground opens
// each as a tab (titled by its operation name, with `title` as a comment on
// top) and lists them in the Examples pane. Each is { title, query,
// variables? }, variables as a plain object.
export default [
  {
    title: "Tier C communities in a province that have not joined a programme",
    query: `query TierCNotEnrolled($province: String!) {
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
    variables: { province: "NAN" },
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
  enrolmentAggregate(filter: { theme: FINANCE }, groupBy: [PROVINCE, NOMINATING_PARTNER]) {
    groups {
      key { province { nameEn } nominatingPartner { code } }
      count
      households
    }
  }
}
`,
  },
];
