//! Who may do what: every access decision, in one place.
//!
//! Each rule is a pure function over the caller ([`Actor`]) and facts the
//! store loads ([`MouFacts`], [`ProgrammeFacts`], [`CurriculumFacts`]); no
//! I/O here. Row rules that list reads must also apply in SQL are written as
//! data ([`ReadRule`], [`RowRule`]): [`ReadRule::allows`] evaluates them in
//! Rust, and `store::rules` translates the very same values into SQL
//! conditions, so the two cannot drift (a property test in
//! `tests/rules/` checks that they agree on generated data).
//!
//! The rules are those of docs/domain.md ("Who may do what"):
//! - reading a record type needs its `*:read` scope ([`read_rule`]);
//!   `Community.contact` also needs `communities:pii`;
//! - a DRAFT or NEGOTIATING MOU (and its commitments) is visible only to its
//!   parties ([`MOU_VISIBLE`]);
//! - writes need the type's `*:write` scope ([`write_scope`]), and then the
//!   row rule: a party of the MOU, the lead (or a partner) of the programme,
//!   the owner (or a contributor) of the curriculum, and the enrolment rules
//!   ([`may_move_enrolment`]).

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};

use super::enums::{EnrolmentStatus, MouStatus, PartyRole};
use super::ids::Kind;
use crate::error::AppError;

/// A permission carried in a token's `scope` claim.
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Scope {
    CommunitiesRead,
    CommunitiesWrite,
    CommunitiesClassify,
    CommunitiesPii,
    MousRead,
    MousWrite,
    ProgrammesRead,
    ProgrammesWrite,
    CurriculaRead,
    CurriculaWrite,
    EnrolmentsRead,
    EnrolmentsWrite,
    ChangesRead,
    WebhooksManage,
    OperationsManage,
    OperationsAdhoc,
    AuditRead,
    ExportsRun,
}

impl Scope {
    /// Every scope.
    pub const ALL: [Scope; 18] = [
        Scope::CommunitiesRead,
        Scope::CommunitiesWrite,
        Scope::CommunitiesClassify,
        Scope::CommunitiesPii,
        Scope::MousRead,
        Scope::MousWrite,
        Scope::ProgrammesRead,
        Scope::ProgrammesWrite,
        Scope::CurriculaRead,
        Scope::CurriculaWrite,
        Scope::EnrolmentsRead,
        Scope::EnrolmentsWrite,
        Scope::ChangesRead,
        Scope::WebhooksManage,
        Scope::OperationsManage,
        Scope::OperationsAdhoc,
        Scope::AuditRead,
        Scope::ExportsRun,
    ];

    /// The scope's name in tokens.
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::CommunitiesRead => "communities:read",
            Scope::CommunitiesWrite => "communities:write",
            Scope::CommunitiesClassify => "communities:classify",
            Scope::CommunitiesPii => "communities:pii",
            Scope::MousRead => "mous:read",
            Scope::MousWrite => "mous:write",
            Scope::ProgrammesRead => "programmes:read",
            Scope::ProgrammesWrite => "programmes:write",
            Scope::CurriculaRead => "curricula:read",
            Scope::CurriculaWrite => "curricula:write",
            Scope::EnrolmentsRead => "enrolments:read",
            Scope::EnrolmentsWrite => "enrolments:write",
            Scope::ChangesRead => "changes:read",
            Scope::WebhooksManage => "webhooks:manage",
            Scope::OperationsManage => "operations:manage",
            Scope::OperationsAdhoc => "operations:adhoc",
            Scope::AuditRead => "audit:read",
            Scope::ExportsRun => "exports:run",
        }
    }

    /// The scope named `name`, exactly (no case folding, no trimming).
    pub fn parse(name: &str) -> Option<Scope> {
        Scope::ALL.into_iter().find(|s| s.as_str() == name)
    }
}

/// The read-only scopes: what the demo playground token carries.
pub const READ_SCOPES: [Scope; 6] = [
    Scope::CommunitiesRead,
    Scope::MousRead,
    Scope::ProgrammesRead,
    Scope::CurriculaRead,
    Scope::EnrolmentsRead,
    Scope::ChangesRead,
];

/// The verified caller of a request.
#[derive(Clone, Debug)]
pub struct Actor {
    /// The caller's organisation (row id).
    pub org_id: i64,
    /// The caller's organisation code, as in the token.
    pub org_code: String,
    /// The person or system calling (`sub`).
    pub subject: String,
    /// The scopes granted.
    pub scopes: BTreeSet<Scope>,
    /// When the token expires.
    pub expires_at: DateTime<Utc>,
    /// The token's issuer.
    pub issuer: String,
}

impl Actor {
    /// Whether the caller holds `scope`.
    pub fn has(&self, scope: Scope) -> bool {
        self.scopes.contains(&scope)
    }

    /// `FORBIDDEN` unless the caller holds `scope`.
    pub fn require(&self, scope: Scope) -> Result<(), AppError> {
        if self.has(scope) {
            Ok(())
        } else {
            Err(AppError::forbidden(format!("this needs the {} scope", scope.as_str())))
        }
    }
}

/// Whether `actor` may list, register and remove its organisation's trusted
/// documents, and set its mode (`operations:manage`).
pub fn may_manage_operations(actor: &Actor) -> Result<(), AppError> {
    actor.require(Scope::OperationsManage)
}

/// The organisation whose entries of the personal-data access log `actor`
/// may read (`audit:read`, for a partner's data-protection officer): its
/// own. A partner answers for the reads its own people and systems made;
/// the reads another partner made are that partner's to answer for.
pub fn audit_log_org(actor: &Actor) -> Result<i64, AppError> {
    actor.require(Scope::AuditRead)?;
    Ok(actor.org_id)
}

/// Whether `actor` may run an operation its organisation has not
/// registered while the organisation enforces its trusted documents:
/// with `operations:adhoc` (analysts in the playground) any operation; with
/// `operations:manage` only the trusted-document operations themselves
/// (`manages_documents`), so whoever registers documents and sets the mode
/// can always reach those. Limits and budget still apply.
pub fn may_run_adhoc(actor: &Actor, manages_documents: impl FnOnce() -> bool) -> bool {
    actor.has(Scope::OperationsAdhoc) || (actor.has(Scope::OperationsManage) && manages_documents())
}

// ------------------------------------------------------------------ facts

/// What the rules need to know about one MOU: its status and its parties.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MouFacts {
    /// The MOU's status.
    pub status: MouStatus,
    /// Its parties: organisation id and role.
    pub parties: Vec<(i64, PartyRole)>,
}

impl MouFacts {
    /// Whether `org` is a party (in any role).
    pub fn is_party(&self, org: i64) -> bool {
        self.parties.iter().any(|(o, _)| *o == org)
    }

    /// Whether `org` is a party in one of `roles`.
    pub fn has_role(&self, org: i64, roles: &[PartyRole]) -> bool {
        self.parties.iter().any(|(o, r)| *o == org && roles.contains(r))
    }
}

/// What the rules need to know about one programme: its lead and partners.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProgrammeFacts {
    /// The leading organisation.
    pub lead: i64,
    /// The partner organisations.
    pub partners: Vec<i64>,
}

/// What the rules need to know about one curriculum: owner and contributors.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CurriculumFacts {
    /// The owning organisation.
    pub owner: i64,
    /// The contributing organisations.
    pub contributors: Vec<i64>,
}

// ------------------------------------------------------------------ read rules, as data

/// A condition on the row being read, evaluated in Rust by
/// [`RowRule::holds`] and translated to SQL by `store::rules`.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum RowRule {
    /// The (row's) MOU has one of these statuses.
    MouStatusIn(&'static [MouStatus]),
    /// The caller's organisation is a party of the (row's) MOU.
    CallerIsMouParty,
}

impl RowRule {
    /// Whether the condition holds for `actor` on an MOU with `mou` facts.
    pub fn holds(self, actor: &Actor, mou: Option<&MouFacts>) -> bool {
        match (self, mou) {
            (RowRule::MouStatusIn(statuses), Some(m)) => statuses.contains(&m.status),
            (RowRule::CallerIsMouParty, Some(m)) => m.is_party(actor.org_id),
            (_, None) => false,
        }
    }
}

/// The MOU statuses every reader may see.
pub const PUBLIC_MOU_STATUSES: &[MouStatus] = &[MouStatus::Signed, MouStatus::Terminated];

/// Who may see an MOU (any of these): SIGNED and TERMINATED ones are public;
/// DRAFT and NEGOTIATING ones only their parties see.
pub const MOU_VISIBLE: &[RowRule] = &[RowRule::MouStatusIn(PUBLIC_MOU_STATUSES), RowRule::CallerIsMouParty];

/// The rule for reading records of one type.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct ReadRule {
    /// The scope needed, if any.
    pub scope: Option<Scope>,
    /// Row conditions, any of which admits a row; `None`: every row.
    pub rows: Option<&'static [RowRule]>,
}

impl ReadRule {
    /// Whether `actor` may read a row whose MOU (for MOU-bound types) has `mou` facts.
    pub fn allows(self, actor: &Actor, mou: Option<&MouFacts>) -> bool {
        self.scope.is_none_or(|s| actor.has(s)) && self.rows.is_none_or(|rows| rows.iter().any(|r| r.holds(actor, mou)))
    }
}

/// The rule for reading records of `kind` (in lists, by id and in the change feed).
pub fn read_rule(kind: Kind) -> ReadRule {
    let scoped = |scope| ReadRule { scope: Some(scope), rows: None };
    match kind {
        Kind::Organization => ReadRule { scope: None, rows: None },
        Kind::Community => scoped(Scope::CommunitiesRead),
        Kind::Mou | Kind::Commitment => ReadRule { scope: Some(Scope::MousRead), rows: Some(MOU_VISIBLE) },
        Kind::Programme => scoped(Scope::ProgrammesRead),
        Kind::Curriculum => scoped(Scope::CurriculaRead),
        Kind::Enrolment => scoped(Scope::EnrolmentsRead),
        Kind::WebhookSubscription => scoped(Scope::WebhooksManage),
        Kind::Export => scoped(Scope::ExportsRun),
    }
}

/// `FORBIDDEN` unless `actor` holds the scope reading records of `kind` needs
/// (row rules apply where the records are read).
pub fn may_read(actor: &Actor, kind: Kind) -> Result<(), AppError> {
    read_rule(kind).scope.map_or(Ok(()), |scope| actor.require(scope))
}

/// Whether an MOU with `mou` facts is visible to `actor` (scopes aside).
pub fn mou_visible(actor: &Actor, mou: &MouFacts) -> bool {
    MOU_VISIBLE.iter().any(|r| r.holds(actor, Some(mou)))
}

// ------------------------------------------------------------------ write rules

/// The scope writing records of `kind` needs.
pub fn write_scope(kind: Kind) -> Option<Scope> {
    match kind {
        Kind::Community => Some(Scope::CommunitiesWrite),
        Kind::Mou | Kind::Commitment => Some(Scope::MousWrite),
        Kind::Programme => Some(Scope::ProgrammesWrite),
        Kind::Curriculum => Some(Scope::CurriculaWrite),
        Kind::Enrolment => Some(Scope::EnrolmentsWrite),
        Kind::WebhookSubscription => Some(Scope::WebhooksManage),
        Kind::Export => Some(Scope::ExportsRun),
        Kind::Organization => None,
    }
}

/// `FORBIDDEN` unless `actor` may write records of `kind` (scope only; the
/// row rules below come after the record is loaded).
pub fn may_write(actor: &Actor, kind: Kind) -> Result<(), AppError> {
    match write_scope(kind) {
        Some(scope) => actor.require(scope),
        None => Err(AppError::forbidden(format!("{} records cannot be written", kind.name()))),
    }
}

/// `FORBIDDEN` unless `actor` may set a community's tourism tier.
pub fn may_classify(actor: &Actor) -> Result<(), AppError> {
    actor.require(Scope::CommunitiesClassify)
}

/// `FORBIDDEN` unless `actor` may read the change feed (query, live
/// subscription, webhooks).
pub fn may_read_feed(actor: &Actor) -> Result<(), AppError> {
    actor.require(Scope::ChangesRead)
}

/// `FORBIDDEN` unless `actor` may read or write contact persons (personal data).
pub fn may_read_contacts(actor: &Actor) -> Result<(), AppError> {
    actor.require(Scope::CommunitiesPii)
}

/// The organisation whose exports `actor` may start, list, cancel and
/// download (`exports:run`): its own. What an export reads still needs the
/// read scopes of what it reads: it runs as the caller.
pub fn exports_org(actor: &Actor) -> Result<i64, AppError> {
    actor.require(Scope::ExportsRun)?;
    Ok(actor.org_id)
}

/// `FORBIDDEN` unless `actor` may create or change webhook subscriptions: it
/// needs `webhooks:manage`, and `changes:read`, because a subscription reads
/// the feed with its writer's scopes.
pub fn may_manage_webhooks(actor: &Actor) -> Result<(), AppError> {
    actor.require(Scope::WebhooksManage)?;
    actor.require(Scope::ChangesRead)
}

/// `FORBIDDEN` unless `actor` is a LEAD or PARTNER party: changing an MOU's terms or status.
pub fn may_change_mou(actor: &Actor, mou: &MouFacts) -> Result<(), AppError> {
    if mou.has_role(actor.org_id, &[PartyRole::Lead, PartyRole::Partner]) {
        Ok(())
    } else {
        Err(AppError::forbidden("only the MOU's parties may change it"))
    }
}

/// `FORBIDDEN` unless `actor` is a party (any role): signing an MOU.
pub fn may_sign_mou(actor: &Actor, mou: &MouFacts) -> Result<(), AppError> {
    if mou.is_party(actor.org_id) { Ok(()) } else { Err(AppError::forbidden("only the MOU's parties may sign it")) }
}

/// `FORBIDDEN` unless `actor` is a party (any role): adding a commitment.
pub fn may_add_commitment(actor: &Actor, mou: &MouFacts) -> Result<(), AppError> {
    if mou.is_party(actor.org_id) {
        Ok(())
    } else {
        Err(AppError::forbidden("only the MOU's parties may add commitments"))
    }
}

/// `FORBIDDEN` unless `actor` owns the commitment or leads its MOU.
pub fn may_change_commitment(actor: &Actor, mou: &MouFacts, owner: i64) -> Result<(), AppError> {
    if actor.org_id == owner || mou.has_role(actor.org_id, &[PartyRole::Lead]) {
        Ok(())
    } else {
        Err(AppError::forbidden("only the commitment's owner or the MOU's lead may change it"))
    }
}

/// `FORBIDDEN` unless the programme's lead is a party of its MOU; a partner
/// who is not a party is bad input (`partnerCodes`).
pub fn may_run_programme_under(mou: &MouFacts, programme: &ProgrammeFacts) -> Result<(), AppError> {
    if !mou.is_party(programme.lead) {
        return Err(AppError::forbidden("only a party of the MOU may run a programme under it"));
    }
    if programme.partners.iter().any(|p| !mou.is_party(*p)) {
        return Err(AppError::bad_input("partnerCodes", "every partner must be a party of the MOU"));
    }
    Ok(())
}

/// `FORBIDDEN` unless `actor` leads the programme or is one of its partners.
pub fn may_change_programme(actor: &Actor, programme: &ProgrammeFacts) -> Result<(), AppError> {
    lead_or_partner(actor, programme, "change it")
}

/// `FORBIDDEN` unless `actor` leads the programme: changing its partners.
pub fn may_change_programme_partners(actor: &Actor, programme: &ProgrammeFacts) -> Result<(), AppError> {
    if actor.org_id == programme.lead {
        Ok(())
    } else {
        Err(AppError::forbidden("only the programme's lead may change its partners"))
    }
}

/// `FORBIDDEN` unless `actor` leads the programme or is one of its partners.
pub fn may_nominate(actor: &Actor, programme: &ProgrammeFacts) -> Result<(), AppError> {
    lead_or_partner(actor, programme, "nominate communities")
}

fn lead_or_partner(actor: &Actor, programme: &ProgrammeFacts, what: &str) -> Result<(), AppError> {
    if actor.org_id == programme.lead || programme.partners.contains(&actor.org_id) {
        Ok(())
    } else {
        Err(AppError::forbidden(format!("only the programme's lead or partners may {what}")))
    }
}

/// `FORBIDDEN` unless `actor` owns the curriculum or contributes to it.
pub fn may_edit_curriculum(actor: &Actor, curriculum: &CurriculumFacts) -> Result<(), AppError> {
    if actor.org_id == curriculum.owner || curriculum.contributors.contains(&actor.org_id) {
        Ok(())
    } else {
        Err(AppError::forbidden("only the curriculum's owner or contributors may change it"))
    }
}

/// Who may move an enrolment to a status.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum EnrolmentMover {
    /// Only the programme's lead.
    Lead,
    /// The programme's lead or one of its partners.
    LeadOrPartner,
    /// The nominating organisation or the programme's lead.
    NominatorOrLead,
}

/// Who may move an enrolment to `to`: the lead accepts or declines, the
/// nominator or the lead withdraws, the lead or a partner records progress.
pub fn enrolment_mover(to: EnrolmentStatus) -> EnrolmentMover {
    match to {
        EnrolmentStatus::Enrolled | EnrolmentStatus::Declined => EnrolmentMover::Lead,
        EnrolmentStatus::Withdrawn => EnrolmentMover::NominatorOrLead,
        EnrolmentStatus::Nominated | EnrolmentStatus::InProgress | EnrolmentStatus::Completed => {
            EnrolmentMover::LeadOrPartner
        }
    }
}

/// `FORBIDDEN` unless `actor` may move an enrolment nominated by
/// `nominated_by` in `programme` to `to` ([`enrolment_mover`]).
pub fn may_move_enrolment(
    actor: &Actor,
    programme: &ProgrammeFacts,
    nominated_by: i64,
    to: EnrolmentStatus,
) -> Result<(), AppError> {
    let org = actor.org_id;
    let (allowed, who) = match enrolment_mover(to) {
        EnrolmentMover::Lead => (org == programme.lead, "the programme's lead"),
        EnrolmentMover::LeadOrPartner => {
            (org == programme.lead || programme.partners.contains(&org), "the programme's lead or partners")
        }
        EnrolmentMover::NominatorOrLead => {
            (org == programme.lead || org == nominated_by, "the nominating organisation or the programme's lead")
        }
    };
    if allowed { Ok(()) } else { Err(AppError::forbidden(format!("only {who} may move an enrolment to {to}"))) }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn actor(org_id: i64) -> Actor {
        Actor {
            org_id,
            org_code: "X".into(),
            subject: "s".into(),
            scopes: BTreeSet::from([Scope::MousRead]),
            expires_at: Utc::now(),
            issuer: "i".into(),
        }
    }

    fn mou(status: MouStatus, parties: &[(i64, PartyRole)]) -> MouFacts {
        MouFacts { status, parties: parties.to_vec() }
    }

    #[test]
    fn draft_mous_are_visible_only_to_parties() {
        let parties = [(1, PartyRole::Lead), (2, PartyRole::Witness)];
        assert!(mou_visible(&actor(1), &mou(MouStatus::Draft, &parties)));
        assert!(mou_visible(&actor(2), &mou(MouStatus::Negotiating, &parties)));
        assert!(!mou_visible(&actor(3), &mou(MouStatus::Negotiating, &parties)));
        assert!(mou_visible(&actor(3), &mou(MouStatus::Signed, &parties)));
        assert!(read_rule(Kind::Commitment).allows(&actor(3), Some(&mou(MouStatus::Terminated, &parties))));
        assert!(!read_rule(Kind::Community).allows(&actor(1), None));
    }

    #[test]
    fn witnesses_sign_but_do_not_change_terms() {
        let m = mou(MouStatus::Negotiating, &[(1, PartyRole::Lead), (2, PartyRole::Witness)]);
        assert!(may_sign_mou(&actor(2), &m).is_ok());
        assert!(may_change_mou(&actor(2), &m).is_err());
        assert!(may_change_commitment(&actor(2), &m, 2).is_ok());
        assert!(may_change_commitment(&actor(2), &m, 1).is_err());
        assert!(may_change_commitment(&actor(1), &m, 2).is_ok());
    }

    #[test]
    fn enrolment_moves_name_their_movers() {
        let p = ProgrammeFacts { lead: 1, partners: vec![2] };
        assert!(may_move_enrolment(&actor(1), &p, 3, EnrolmentStatus::Enrolled).is_ok());
        assert!(may_move_enrolment(&actor(2), &p, 3, EnrolmentStatus::Enrolled).is_err());
        assert!(may_move_enrolment(&actor(3), &p, 3, EnrolmentStatus::Withdrawn).is_ok());
        assert!(may_move_enrolment(&actor(2), &p, 3, EnrolmentStatus::InProgress).is_ok());
        assert!(may_move_enrolment(&actor(3), &p, 3, EnrolmentStatus::Completed).is_err());
    }

    #[test]
    fn scopes_parse_exactly() {
        assert_eq!(Scope::parse("mous:read"), Some(Scope::MousRead));
        assert_eq!(Scope::parse("MOUS:READ"), None);
        assert_eq!(Scope::parse(" mous:read"), None);
        assert!(actor(1).require(Scope::MousWrite).is_err());
    }
}
