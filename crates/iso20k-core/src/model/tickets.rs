use crate::{Date, DateTime};

/// The ticket tables, usually exported from an ITSM tool.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Tickets {
    /// Incidents.
    pub incidents: Vec<Incident>,
    /// Service requests.
    pub requests: Vec<ServiceRequest>,
    /// Problems.
    pub problems: Vec<Problem>,
    /// Changes.
    pub changes: Vec<Change>,
    /// Releases.
    pub releases: Vec<Release>,
    /// Configuration items.
    pub cis: Vec<ConfigurationItem>,
}

/// An incident.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Incident {
    /// Ticket number.
    pub id: String,
    /// When it was opened.
    pub opened_at: Option<DateTime>,
    /// When it was resolved.
    pub resolved_at: Option<DateTime>,
    /// When it was closed.
    pub closed_at: Option<DateTime>,
    /// Priority, 1 (highest) to 5.
    pub priority: Option<u8>,
    /// Whether it was declared a major incident.
    pub major: bool,
    /// Category.
    pub category: Option<String>,
    /// The service (id) affected.
    pub service: Option<String>,
    /// The configuration item (id) affected.
    pub ci: Option<String>,
    /// The problem record (id) raised for it.
    pub problem: Option<String>,
    /// The resolution or closure code and notes.
    pub resolution: Option<String>,
    /// Whether the SLA target was met; `None` when unknown.
    pub sla_met: Option<bool>,
    /// How many times it was reopened after resolution.
    pub reopen_count: u32,
    /// For a breached SLA: why it was breached and what was done, as reviewed.
    pub breach_review: Option<String>,
}

/// A service request.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ServiceRequest {
    /// Ticket number.
    pub id: String,
    /// When it was opened.
    pub opened_at: Option<DateTime>,
    /// When it was fulfilled and closed.
    pub closed_at: Option<DateTime>,
    /// Category or request type.
    pub category: Option<String>,
    /// The service (id) requested.
    pub service: Option<String>,
    /// Whether the SLA target was met; `None` when unknown.
    pub sla_met: Option<bool>,
}

/// A problem.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Problem {
    /// Ticket number.
    pub id: String,
    /// When it was opened.
    pub opened_at: Option<DateTime>,
    /// When it was closed.
    pub closed_at: Option<DateTime>,
    /// The service (id) affected.
    pub service: Option<String>,
    /// The root cause found.
    pub root_cause: Option<String>,
    /// Whether a known-error record exists.
    pub known_error: bool,
    /// The change (id) raised to fix it.
    pub change: Option<String>,
}

/// How a change is authorised.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ChangeType {
    /// Pre-authorised, low risk, repeatable.
    Standard,
    /// Assessed and approved before it is made.
    #[default]
    Normal,
    /// Made urgently, reviewed afterwards.
    Emergency,
}

/// A change.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Change {
    /// Ticket number.
    pub id: String,
    /// Standard, normal or emergency.
    pub kind: ChangeType,
    /// The service (id) changed.
    pub service: Option<String>,
    /// When it was requested.
    pub requested_at: Option<DateTime>,
    /// When it was approved.
    pub approved_at: Option<DateTime>,
    /// Who approved it.
    pub approver: Option<String>,
    /// When it was implemented.
    pub implemented_at: Option<DateTime>,
    /// The risk assessment, in the tool's words.
    pub risk: Option<String>,
    /// Whether a back-out plan was recorded.
    pub backout_plan: bool,
    /// Whether a test plan was recorded.
    pub test_plan: bool,
    /// When the post-implementation review was done.
    pub reviewed_on: Option<Date>,
    /// Whether it succeeded; `None` while unknown.
    pub successful: Option<bool>,
}

/// A release.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Release {
    /// Id.
    pub id: String,
    /// The change (id) authorising it.
    pub change: Option<String>,
    /// The service (id) released to.
    pub service: Option<String>,
    /// When it was deployed.
    pub deployed_at: Option<DateTime>,
    /// Whether test evidence was recorded.
    pub tested: bool,
}

/// A configuration item.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ConfigurationItem {
    /// Id.
    pub id: String,
    /// Name.
    pub name: String,
    /// Type, e.g. server, application, database.
    pub kind: Option<String>,
    /// Who owns it (person id or group).
    pub owner: Option<String>,
    /// The service (id) it supports.
    pub service: Option<String>,
    /// When the record was last verified against reality.
    pub last_verified_on: Option<Date>,
}
