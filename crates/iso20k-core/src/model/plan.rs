use crate::Date;

/// One entry of the action plan: what the organisation decided about one finding.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct PlanEntry {
    /// The finding's stable id, e.g. `doc-review-overdue` or `checklist/F-012`.
    pub finding: String,
    /// Who is to fix it (person id); the default owner when not set.
    pub owner: Option<String>,
    /// When it is to be fixed by; the grade's deadline when not set.
    pub due: Option<Date>,
    /// Where it stands.
    pub status: PlanStatus,
    /// Why the risk is accepted (required for `risk-accepted`).
    pub reason: Option<String>,
    /// The top-management person (id) who accepted the risk (required for `risk-accepted`).
    pub approved_by: Option<String>,
    /// Notes on progress, oldest first.
    pub comments: Vec<PlanComment>,
}

/// Where an action of the plan stands.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum PlanStatus {
    /// Nobody has started on it.
    #[default]
    Open,
    /// Being worked on.
    InProgress,
    /// Fixed, as far as its owner knows.
    Done,
    /// Top management decided to live with it, for a recorded reason.
    RiskAccepted,
}

impl PlanStatus {
    /// Every status, in the order the format documents them.
    pub const ALL: [PlanStatus; 4] = [
        PlanStatus::Open,
        PlanStatus::InProgress,
        PlanStatus::Done,
        PlanStatus::RiskAccepted,
    ];

    /// The key used in files and JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            PlanStatus::Open => "open",
            PlanStatus::InProgress => "in-progress",
            PlanStatus::Done => "done",
            PlanStatus::RiskAccepted => "risk-accepted",
        }
    }

    /// The status whose key is `key`.
    pub fn parse(key: &str) -> Option<PlanStatus> {
        PlanStatus::ALL.into_iter().find(|s| s.as_str() == key)
    }

    /// In words, for people.
    pub fn describe(self) -> &'static str {
        match self {
            PlanStatus::Open => "open",
            PlanStatus::InProgress => "in progress",
            PlanStatus::Done => "done",
            PlanStatus::RiskAccepted => "risk accepted",
        }
    }
}

/// A note on an action's progress.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PlanComment {
    /// When it was written.
    pub on: Option<Date>,
    /// Who wrote it (person id).
    pub by: Option<String>,
    /// What it says.
    pub text: String,
}
