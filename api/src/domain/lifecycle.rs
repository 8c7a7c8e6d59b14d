//! The lifecycles of MOUs, programmes, curricula, commitments and
//! enrolments: which status moves exist. Who may make them is in `access`.

use super::enums::{CommitmentStatus, CurriculumStatus, EnrolmentStatus, MouStatus, ProgrammeStatus};
use crate::error::AppError;

/// The status moves `updateMou` may make. `SIGNED` is reached only by `signMou`.
pub const MOU_MOVES: &[(MouStatus, MouStatus)] =
    &[(MouStatus::Draft, MouStatus::Negotiating), (MouStatus::Signed, MouStatus::Terminated)];

/// The status moves of a programme.
pub const PROGRAMME_MOVES: &[(ProgrammeStatus, ProgrammeStatus)] = &[
    (ProgrammeStatus::Planned, ProgrammeStatus::Open),
    (ProgrammeStatus::Planned, ProgrammeStatus::Closed),
    (ProgrammeStatus::Open, ProgrammeStatus::Closed),
];

/// The status moves of a curriculum.
pub const CURRICULUM_MOVES: &[(CurriculumStatus, CurriculumStatus)] = &[
    (CurriculumStatus::Draft, CurriculumStatus::Proposed),
    (CurriculumStatus::Draft, CurriculumStatus::Retired),
    (CurriculumStatus::Proposed, CurriculumStatus::Draft),
    (CurriculumStatus::Proposed, CurriculumStatus::Approved),
    (CurriculumStatus::Proposed, CurriculumStatus::Retired),
    (CurriculumStatus::Approved, CurriculumStatus::Retired),
];

/// The status moves of a commitment.
pub const COMMITMENT_MOVES: &[(CommitmentStatus, CommitmentStatus)] = &[
    (CommitmentStatus::Open, CommitmentStatus::Done),
    (CommitmentStatus::Open, CommitmentStatus::Dropped),
    (CommitmentStatus::Done, CommitmentStatus::Open),
];

/// The status moves of an enrolment.
pub const ENROLMENT_MOVES: &[(EnrolmentStatus, EnrolmentStatus)] = &[
    (EnrolmentStatus::Nominated, EnrolmentStatus::Enrolled),
    (EnrolmentStatus::Nominated, EnrolmentStatus::Declined),
    (EnrolmentStatus::Enrolled, EnrolmentStatus::InProgress),
    (EnrolmentStatus::Enrolled, EnrolmentStatus::Withdrawn),
    (EnrolmentStatus::InProgress, EnrolmentStatus::Completed),
    (EnrolmentStatus::InProgress, EnrolmentStatus::Withdrawn),
];

/// Checks that `from → to` is one of `moves`; the error names the moves allowed from `from`.
pub fn check_move<S: Copy + PartialEq + std::fmt::Display>(
    field: &str,
    moves: &[(S, S)],
    from: S,
    to: S,
) -> Result<(), AppError> {
    if moves.iter().any(|&(f, t)| f == from && t == to) {
        return Ok(());
    }
    let allowed: Vec<String> = moves.iter().filter(|&&(f, _)| f == from).map(|(_, t)| t.to_string()).collect();
    let allowed = if allowed.is_empty() { "none".to_owned() } else { allowed.join(", ") };
    Err(AppError::bad_input(field, format!("cannot move from {from} to {to}; allowed from {from}: {allowed}")))
}

/// Statuses that count against a programme's capacity.
pub const CAPACITY_STATUSES: [EnrolmentStatus; 3] =
    [EnrolmentStatus::Enrolled, EnrolmentStatus::InProgress, EnrolmentStatus::Completed];

/// Statuses after which a community may be nominated again.
pub const ENDED_STATUSES: [EnrolmentStatus; 2] = [EnrolmentStatus::Withdrawn, EnrolmentStatus::Declined];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enrolment_moves_follow_the_lifecycle() {
        use EnrolmentStatus::*;
        assert!(check_move("to", ENROLMENT_MOVES, Nominated, Enrolled).is_ok());
        assert!(check_move("to", ENROLMENT_MOVES, InProgress, Withdrawn).is_ok());
        let err = check_move("to", ENROLMENT_MOVES, Nominated, Completed).err();
        let text = err.map(|e| e.message()).unwrap_or_default();
        assert!(text.contains("ENROLLED, DECLINED"), "{text}");
        assert!(check_move("to", ENROLMENT_MOVES, Completed, Withdrawn).is_err());
    }
}
