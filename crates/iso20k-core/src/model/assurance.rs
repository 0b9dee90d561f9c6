use crate::Date;
use crate::interval::Interval;

/// An entry in the risk register.
#[derive(Clone, Debug, Default)]
pub struct Risk {
    /// Id.
    pub id: String,
    /// What could happen.
    pub title: String,
    /// The service (id) it threatens, if one.
    pub service: Option<String>,
    /// Who owns it (person id).
    pub owner: Option<String>,
    /// Likelihood, 1 (rare) to 5 (almost certain).
    pub likelihood: Option<u8>,
    /// Impact, 1 (negligible) to 5 (severe).
    pub impact: Option<u8>,
    /// How it is treated: mitigate, accept, transfer or avoid, in the organisation's words.
    pub treatment: Option<String>,
    /// Whether it is still open.
    pub open: bool,
    /// When it was last reviewed.
    pub last_reviewed_on: Option<Date>,
}

/// Whether a plan is about continuity or availability.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum PlanKind {
    /// Recovering service after a major loss.
    #[default]
    Continuity,
    /// Meeting availability targets day to day.
    Availability,
}

/// A service continuity or availability plan.
#[derive(Clone, Debug, Default)]
pub struct ContinuityPlan {
    /// Id.
    pub id: String,
    /// Title.
    pub title: String,
    /// Continuity or availability.
    pub kind: PlanKind,
    /// Services (ids) it covers.
    pub services: Vec<String>,
    /// The controlled document (id).
    pub document: Option<String>,
    /// When it was last reviewed.
    pub last_reviewed_on: Option<Date>,
    /// Its own review interval, if it sets one.
    pub review_interval: Option<Interval>,
    /// The recovery time objective agreed with customers, e.g. "4 hours".
    pub rto: Option<String>,
    /// The recovery point objective agreed with customers, e.g. "15 minutes".
    pub rpo: Option<String>,
    /// Tests and exercises of the plan.
    pub tests: Vec<ContinuityTest>,
}

/// A test or exercise of a continuity plan.
#[derive(Clone, Debug)]
pub struct ContinuityTest {
    /// Id.
    pub id: String,
    /// When it was held.
    pub held_on: Date,
    /// How it went.
    pub result: TestResult,
    /// Actions raised on what did not work.
    pub actions: Vec<String>,
}

/// The outcome of a continuity test.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TestResult {
    /// Recovery met its objectives.
    Passed,
    /// Some objectives were missed.
    Partial,
    /// Recovery did not work.
    Failed,
}

/// A capacity plan.
#[derive(Clone, Debug, Default)]
pub struct CapacityPlan {
    /// Id.
    pub id: String,
    /// Title.
    pub title: String,
    /// Services (ids) it covers.
    pub services: Vec<String>,
    /// The controlled document (id).
    pub document: Option<String>,
    /// When it was last reviewed.
    pub last_reviewed_on: Option<Date>,
    /// Its own review interval, if it sets one.
    pub review_interval: Option<Interval>,
    /// How many months ahead it forecasts demand.
    pub horizon_months: Option<u32>,
}
