use crate::Date;
use crate::kb::Grade;

/// An internal audit, planned or held.
#[derive(Clone, Debug, Default)]
pub struct InternalAudit {
    /// Id, e.g. `IA-2026-02`.
    pub id: String,
    /// What it is about.
    pub title: String,
    /// When it is (or was) planned for.
    pub planned_on: Option<Date>,
    /// When it was held; `None` while it is only planned.
    pub held_on: Option<Date>,
    /// Whether it was cancelled.
    pub cancelled: bool,
    /// Who audits (person id, or the name of an external auditor).
    pub auditor: Option<String>,
    /// Processes (ids) audited.
    pub processes: Vec<String>,
    /// Clauses (of the organisation's edition) audited.
    pub clauses: Vec<String>,
    /// The audit report (document id).
    pub report: Option<String>,
    /// What the audit found.
    pub findings: Vec<AuditFinding>,
}

impl InternalAudit {
    /// The date the audit counts for: when held, else when planned.
    pub fn date(&self) -> Option<Date> {
        self.held_on.or(self.planned_on)
    }
}

/// A finding of an internal audit.
#[derive(Clone, Debug)]
pub struct AuditFinding {
    /// Id.
    pub id: String,
    /// Major, minor or observation.
    pub grade: Grade,
    /// The clause (of the organisation's edition) it is raised against.
    pub clause: Option<String>,
    /// What was found.
    pub statement: String,
    /// When it must be closed.
    pub due: Option<Date>,
    /// When it was closed.
    pub closed_on: Option<Date>,
    /// When the auditor verified the closure.
    pub verified_on: Option<Date>,
    /// The nonconformity record (id) it raised, if any.
    pub nonconformity: Option<String>,
}

/// Where a nonconformity came from.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum NcSource {
    /// An internal audit.
    InternalAudit,
    /// A certification or customer audit.
    ExternalAudit,
    /// A management review.
    ManagementReview,
    /// A customer complaint.
    Complaint,
    /// An incident or problem.
    Incident,
    /// Monitoring and measurement.
    Monitoring,
    /// Anything else.
    #[default]
    Other,
}

/// A nonconformity and what was done about it.
///
/// Shaped for the whole loop: correction, root cause, corrective actions, and a later check that
/// the actions worked.
#[derive(Clone, Debug, Default)]
pub struct Nonconformity {
    /// Id, e.g. `NC-2026-004`.
    pub id: String,
    /// What is wrong.
    pub description: String,
    /// When it was raised.
    pub raised_on: Option<Date>,
    /// Where it came from.
    pub source: NcSource,
    /// The record (id) it came from, e.g. an audit finding.
    pub source_ref: Option<String>,
    /// Clauses (of the organisation's edition) it breaches.
    pub clauses: Vec<String>,
    /// Its grade, if graded.
    pub grade: Option<Grade>,
    /// The immediate fix of this one instance.
    pub correction: Option<String>,
    /// Why it happened.
    pub root_cause: Option<String>,
    /// Actions that remove the cause.
    pub actions: Vec<CorrectiveAction>,
    /// The check that the actions worked.
    pub effectiveness: Option<EffectivenessReview>,
    /// When it was closed.
    pub closed_on: Option<Date>,
}

/// A corrective action.
#[derive(Clone, Debug, Default)]
pub struct CorrectiveAction {
    /// Id.
    pub id: String,
    /// What is to be done.
    pub description: String,
    /// Who does it (person id).
    pub owner: Option<String>,
    /// When it is due.
    pub due: Option<Date>,
    /// When it was implemented.
    pub implemented_on: Option<Date>,
}

/// The review of whether corrective actions worked.
#[derive(Clone, Debug)]
pub struct EffectivenessReview {
    /// When it was checked.
    pub checked_on: Date,
    /// Who checked (person id).
    pub checked_by: Option<String>,
    /// Whether the actions worked.
    pub effective: bool,
    /// What the check looked at.
    pub note: Option<String>,
}

/// An entry in the improvement register.
#[derive(Clone, Debug, Default)]
pub struct Improvement {
    /// Id.
    pub id: String,
    /// What is to be improved.
    pub title: String,
    /// When it was raised.
    pub raised_on: Option<Date>,
    /// Who owns it (person id).
    pub owner: Option<String>,
    /// The measurable outcome aimed for.
    pub target: Option<String>,
    /// When it is due.
    pub due: Option<Date>,
    /// Priority, in the organisation's words.
    pub priority: Option<String>,
    /// Who approved it (person id).
    pub approved_by: Option<String>,
    /// When it was completed.
    pub completed_on: Option<Date>,
    /// The outcome measured after completion.
    pub outcome: Option<String>,
}

/// An internal auditor's answer to a checklist question.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Answer {
    /// Conforms.
    Yes,
    /// Partly conforms.
    Partly,
    /// Does not conform.
    No,
    /// Not looked at yet.
    NotAssessed,
}

/// One answered checklist question.
#[derive(Clone, Debug)]
pub struct ChecklistAnswer {
    /// The pattern (id) whose question is answered.
    pub pattern: String,
    /// The answer.
    pub answer: Answer,
    /// The record that supports the answer.
    pub evidence: Option<String>,
    /// A note.
    pub note: Option<String>,
    /// When it was answered.
    pub answered_on: Option<Date>,
    /// Who answered (person id).
    pub answered_by: Option<String>,
}
