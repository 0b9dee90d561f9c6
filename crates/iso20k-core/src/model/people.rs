use crate::Date;

/// Someone in the people register.
#[derive(Clone, Debug, Default)]
pub struct Person {
    /// Id used by every other record (often an email or staff number).
    pub id: String,
    /// Full name.
    pub name: String,
    /// Job title or SMS role.
    pub role: String,
    /// Organisational unit.
    pub unit: String,
    /// Whether the person belongs to top management.
    pub top_management: bool,
    /// The day the person left, if they have.
    pub left_on: Option<Date>,
}

impl Person {
    /// Whether the person is still with the organisation on `as_of`.
    pub fn is_active(&self, as_of: Date) -> bool {
        self.left_on.is_none_or(|d| d > as_of)
    }
}

/// An SMS process, such as incident management.
#[derive(Clone, Debug, Default)]
pub struct Process {
    /// Id, e.g. `change`.
    pub id: String,
    /// Name, e.g. "Change management".
    pub name: String,
    /// The process owner (person id).
    pub owner: Option<String>,
    /// Clauses (of the organisation's edition) the process answers.
    pub clauses: Vec<String>,
    /// The supplier (id) operating the process or part of it, if not the organisation itself.
    pub operated_by: Option<String>,
    /// The document (id) describing the process.
    pub document: Option<String>,
    /// The indicators the process is measured by.
    pub kpis: Vec<String>,
    /// How much could go wrong in it, as the organisation rates it.
    pub risk: Option<RiskLevel>,
}

/// A RACI letter.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Raci {
    /// Does the work.
    Responsible,
    /// Answers for the outcome; exactly one per process activity.
    Accountable,
    /// Asked before.
    Consulted,
    /// Told after.
    Informed,
}

/// One cell of the RACI matrix.
#[derive(Clone, Debug)]
pub struct RaciEntry {
    /// The process (id).
    pub process: String,
    /// The activity within the process; empty for the process as a whole.
    pub activity: String,
    /// The person (id).
    pub person: String,
    /// Their part.
    pub raci: Raci,
}

/// A training or competence record.
#[derive(Clone, Debug, Default)]
pub struct TrainingRecord {
    /// The person (id).
    pub person: String,
    /// The course or competence.
    pub course: String,
    /// When it was completed.
    pub completed_on: Option<Date>,
    /// When it stops being valid, if it expires.
    pub expires_on: Option<Date>,
    /// Whether its effectiveness was evaluated.
    pub evaluated: bool,
}

/// A rating of risk.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum RiskLevel {
    /// Low.
    Low,
    /// Medium.
    Medium,
    /// High.
    High,
}
