//! Who may do what: scopes and row rules, in one place.
//!
//! Resolvers and stores call these functions; nothing else decides access.
//! The rules are those of docs/domain.md ("Who may do what"):
//! - reading a record type needs its `*:read` scope; `Community.contact`
//!   also needs `communities:pii`;
//! - a DRAFT or NEGOTIATING MOU (and what hangs off it) is visible only to
//!   its parties;
//! - writes need the type's `*:write` scope, and then the row rule: a party
//!   of the MOU, the lead (or a partner) of the programme, the owner (or a
//!   contributor) of the curriculum, and the enrolment rules.

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};

use super::enums::{MouStatus, PartyRole};
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
}

impl Scope {
    /// Every scope.
    pub const ALL: [Scope; 14] = [
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

/// Whether an MOU in `status` with parties `parties` (org ids) is visible to `actor`.
pub fn mou_visible(actor: &Actor, status: MouStatus, parties: &[i64]) -> bool {
    match status {
        MouStatus::Draft | MouStatus::Negotiating => parties.contains(&actor.org_id),
        MouStatus::Signed | MouStatus::Terminated => true,
    }
}

/// `FORBIDDEN` unless `actor` is one of the MOU's parties (optionally with a required role).
pub fn require_mou_party(
    actor: &Actor,
    parties: &[(i64, PartyRole)],
    roles: &[PartyRole],
    what: &str,
) -> Result<(), AppError> {
    let ok = parties.iter().any(|(org, role)| *org == actor.org_id && (roles.is_empty() || roles.contains(role)));
    if ok { Ok(()) } else { Err(AppError::forbidden(format!("only the MOU's parties may {what}"))) }
}

/// `FORBIDDEN` unless `actor` is the programme's lead, or (when `partners_too`) one of its partners.
pub fn require_programme_role(
    actor: &Actor,
    lead: i64,
    partners: &[i64],
    partners_too: bool,
    what: &str,
) -> Result<(), AppError> {
    if actor.org_id == lead || (partners_too && partners.contains(&actor.org_id)) {
        return Ok(());
    }
    let who = if partners_too { "the programme's lead or partners" } else { "the programme's lead" };
    Err(AppError::forbidden(format!("only {who} may {what}")))
}

/// `FORBIDDEN` unless `actor` owns the curriculum or contributes to it.
pub fn require_curriculum_editor(actor: &Actor, owner: i64, contributors: &[i64]) -> Result<(), AppError> {
    if actor.org_id == owner || contributors.contains(&actor.org_id) {
        Ok(())
    } else {
        Err(AppError::forbidden("only the curriculum's owner or contributors may change it"))
    }
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

    #[test]
    fn draft_mous_are_visible_only_to_parties() {
        assert!(mou_visible(&actor(1), MouStatus::Draft, &[1, 2]));
        assert!(!mou_visible(&actor(3), MouStatus::Negotiating, &[1, 2]));
        assert!(mou_visible(&actor(3), MouStatus::Signed, &[1, 2]));
    }

    #[test]
    fn scopes_parse_exactly() {
        assert_eq!(Scope::parse("mous:read"), Some(Scope::MousRead));
        assert_eq!(Scope::parse("MOUS:READ"), None);
        assert_eq!(Scope::parse(" mous:read"), None);
        assert!(actor(1).require(Scope::MousWrite).is_err());
    }
}
