use crate::Date;
use crate::kb::Grade;

/// Who held an audit, and for what.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum AuditKind {
    /// The organisation's own internal audit (clause 9.2), part of its programme.
    #[default]
    Internal,
    /// The certification body's stage 1 audit.
    Stage1,
    /// The certification body's stage 2 audit.
    Stage2,
    /// A certification body's surveillance audit.
    Surveillance,
    /// The certification body's recertification audit.
    Recertification,
    /// An audit by a customer or another outside party.
    Customer,
}

impl AuditKind {
    /// Whether the audit is held by someone outside the organisation.
    pub fn is_external(self) -> bool {
        self != AuditKind::Internal
    }

    /// Whether the audit is a certification body's.
    pub fn is_certification(self) -> bool {
        matches!(
            self,
            AuditKind::Stage1
                | AuditKind::Stage2
                | AuditKind::Surveillance
                | AuditKind::Recertification
        )
    }

    /// The kind in words.
    pub fn label(self) -> &'static str {
        match self {
            AuditKind::Internal => "Internal audit",
            AuditKind::Stage1 => "Stage 1 certification audit",
            AuditKind::Stage2 => "Stage 2 certification audit",
            AuditKind::Surveillance => "Surveillance audit",
            AuditKind::Recertification => "Recertification audit",
            AuditKind::Customer => "Customer audit",
        }
    }
}

/// Where an audit is on its way from plan to closure.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum AuditStatus {
    /// Planned, not started.
    Planned,
    /// Being held: fieldwork, sampling, findings.
    InProgress,
    /// The report is issued; findings are being answered.
    Reported,
    /// Every finding is answered; nothing more to do.
    Closed,
    /// Called off.
    Cancelled,
}

impl AuditStatus {
    /// The status in words.
    pub fn label(self) -> &'static str {
        match self {
            AuditStatus::Planned => "Planned",
            AuditStatus::InProgress => "In progress",
            AuditStatus::Reported => "Reported",
            AuditStatus::Closed => "Closed",
            AuditStatus::Cancelled => "Cancelled",
        }
    }
}

/// An audit, planned or held: an internal audit of the programme, or a certification body's or
/// customer's audit whose findings feed the same loop.
#[derive(Clone, Debug, Default)]
pub struct InternalAudit {
    /// Id, e.g. `IA-2026-02`.
    pub id: String,
    /// What it is about.
    pub title: String,
    /// Internal, or which outside audit.
    pub kind: AuditKind,
    /// For an outside audit, who held it (the certification body, the customer).
    pub body: Option<String>,
    /// The status as recorded; `None` leaves it to [`InternalAudit::status`] to derive.
    pub recorded_status: Option<AuditStatus>,
    /// The last day of fieldwork, when it runs over several days.
    pub ends_on: Option<Date>,
    /// The rest of the audit team (person ids or names).
    pub team: Vec<String>,
    /// Services (ids) in scope.
    pub services: Vec<String>,
    /// Sites in scope.
    pub sites: Vec<String>,
    /// What the audit sets out to establish.
    pub objectives: Option<String>,
    /// What it audits against (the standard, the SMS's own procedures, contracts).
    pub criteria: Option<String>,
    /// How it was done: interviews, record sampling, observation.
    pub method: Option<String>,
    /// The audit team's conclusion.
    pub conclusion: Option<String>,
    /// Samples drawn as workpapers.
    pub samples: Vec<Sample>,
    /// The audit's checklist of questions.
    pub checklist: Vec<AuditQuestion>,
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

    /// The status: as recorded, else read from the record (cancelled; a report issued and every
    /// finding closed; a report issued; held; planned).
    pub fn status(&self) -> AuditStatus {
        if self.cancelled {
            return AuditStatus::Cancelled;
        }
        if let Some(s) = self.recorded_status {
            return s;
        }
        match (&self.report, self.held_on) {
            (Some(_), _) if self.findings.iter().all(|f| f.closed_on.is_some()) => {
                AuditStatus::Closed
            }
            (Some(_), _) => AuditStatus::Reported,
            (None, Some(_)) => AuditStatus::InProgress,
            (None, None) => AuditStatus::Planned,
        }
    }
}

/// A sample drawn from a population of records, as an audit workpaper.
#[derive(Clone, Debug, Default)]
pub struct Sample {
    /// Id, unique within its audit.
    pub id: String,
    /// What was sampled from: a kind of record, a period and filters.
    pub population: PopulationDef,
    /// How many records the population held when drawn.
    pub population_size: u64,
    /// Statistical or by judgement.
    pub method: SampleMethod,
    /// For a statistical sample: the confidence sought (0.95).
    pub confidence: Option<f64>,
    /// For a statistical sample: the tolerable deviation rate (0.05).
    pub tdr: Option<f64>,
    /// For a judgement sample: why these records.
    pub rationale: Option<String>,
    /// The seed the draw used, so it can be drawn again.
    pub seed: Option<u64>,
    /// When it was drawn.
    pub drawn_on: Option<Date>,
    /// The sampled records, in draw order, each with its result.
    pub items: Vec<SampleItem>,
    /// The finding (id) its results were rolled into.
    pub finding: Option<String>,
}

/// The definition of a population: enough to draw the same sample again.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PopulationDef {
    /// The kind of record (`changes`, `incidents`, `documents`...).
    pub kind: String,
    /// First day of the period (inclusive).
    pub from: Option<Date>,
    /// Last day of the period (inclusive).
    pub to: Option<Date>,
    /// Filters, each `field=value` or `field!=value`.
    pub filters: Vec<String>,
}

/// How a sample was chosen.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum SampleMethod {
    /// Drawn at random, its size from a confidence and a tolerable deviation rate.
    #[default]
    Statistical,
    /// Chosen by the auditor, for a written reason.
    Judgement,
}

/// One sampled record and what the auditor found in it.
#[derive(Clone, Debug, Default)]
pub struct SampleItem {
    /// The record's id.
    pub id: String,
    /// What testing it showed; `None` while not yet tested.
    pub result: Option<ItemResult>,
    /// The auditor's note.
    pub note: Option<String>,
}

/// The result of testing one sampled record (or answering one checklist question).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ItemResult {
    /// It meets the criterion.
    Conforms,
    /// It does not.
    DoesNotConform,
    /// The criterion does not apply to it.
    NotApplicable,
}

impl ItemResult {
    /// The result in words.
    pub fn label(self) -> &'static str {
        match self {
            ItemResult::Conforms => "Conforms",
            ItemResult::DoesNotConform => "Does not conform",
            ItemResult::NotApplicable => "Not applicable",
        }
    }
}

/// A question on an audit's checklist.
#[derive(Clone, Debug, Default)]
pub struct AuditQuestion {
    /// What to establish.
    pub question: String,
    /// The clause it serves.
    pub clause: Option<String>,
    /// What the auditor found; `None` while not asked.
    pub result: Option<ItemResult>,
    /// The auditor's note.
    pub note: Option<String>,
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
    /// The process (id) it concerns.
    pub process: Option<String>,
    /// Objective evidence: ids of records or uploaded evidence files.
    pub evidence: Vec<String>,
    /// The sample (id, in the same audit) whose results it reports.
    pub sample: Option<String>,
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
    /// The process (id) it concerns, whose owner answers it.
    pub process: Option<String>,
    /// Who is responsible for answering it (person id).
    pub owner: Option<String>,
    /// When the response is due, if set on the record rather than from the grade's deadline.
    pub due: Option<Date>,
    /// How the root cause was found.
    pub root_cause_method: Option<RootCauseMethod>,
    /// Earlier effectiveness checks, each of which found the actions did not work.
    pub earlier_checks: Vec<EffectivenessReview>,
}

/// How a root cause was analysed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RootCauseMethod {
    /// Asking "why?" until the cause is one the organisation controls.
    FiveWhys,
    /// An Ishikawa (cause-and-effect) diagram.
    Fishbone,
    /// Another method, described in the root cause.
    Other,
}

impl RootCauseMethod {
    /// The method in words.
    pub fn label(self) -> &'static str {
        match self {
            RootCauseMethod::FiveWhys => "5 whys",
            RootCauseMethod::Fishbone => "Fishbone (cause and effect)",
            RootCauseMethod::Other => "Other",
        }
    }
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
    /// What shows it was done: ids of records or uploaded evidence files.
    pub evidence: Vec<String>,
}

/// The check of whether corrective actions worked: planned, then held.
#[derive(Clone, Debug, Default)]
pub struct EffectivenessReview {
    /// When it is planned for.
    pub planned_on: Option<Date>,
    /// When it was checked; `None` while only planned.
    pub checked_on: Option<Date>,
    /// Who checks (person id).
    pub checked_by: Option<String>,
    /// Whether the actions worked; `None` while not yet checked.
    pub effective: Option<bool>,
    /// What the check looked at.
    pub note: Option<String>,
    /// What shows it: ids of records or uploaded evidence files.
    pub evidence: Vec<String>,
}

impl EffectivenessReview {
    /// The day it was checked and found the actions worked.
    pub fn found_effective(&self) -> Option<Date> {
        self.checked_on.filter(|_| self.effective == Some(true))
    }
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
