//! The service management records an auditor samples, as plain data.
//!
//! Ids are the ones written in the organisation's own records, so a finding can point straight
//! back at them. References between records (a process owner, an SLA's service) are kept as ids
//! and are not required to resolve: a dangling reference is itself something a check reports
//! ([`crate::refs`] lists every such field and resolves them).
//! Clause numbers written in records use the organisation's declared edition.

mod assurance;
mod customers;
mod documents;
mod governance;
mod improvement;
mod people;
mod plan;
mod services;
mod tickets;

pub use assurance::{CapacityPlan, ContinuityPlan, ContinuityTest, PlanKind, Risk, TestResult};
pub use customers::{Complaint, Customer, Survey};
pub use documents::{DocStatus, DocType, Document};
pub use governance::{
    ActionStatus, Commitment, ManagementReview, Measurement, Objective, Policy, ReviewAction,
    ReviewInput, Target,
};
pub use improvement::{
    Answer, AuditFinding, AuditKind, AuditQuestion, AuditStatus, ChecklistAnswer, CorrectiveAction,
    EffectivenessReview, Improvement, InternalAudit, ItemResult, NcSource, Nonconformity,
    PopulationDef, RootCauseMethod, Sample, SampleItem, SampleMethod,
};
pub use people::{Person, Process, Raci, RaciEntry, RiskLevel, TrainingRecord};
pub use plan::{PlanComment, PlanEntry, PlanStatus};
pub use services::{
    Attainment, Contract, Lifecycle, Service, Sla, SlaTarget, Supplier, SupplierKind,
};
pub use tickets::{
    Change, ChangeType, ConfigurationItem, Incident, Problem, Release, ServiceRequest, Tickets,
};

use std::collections::BTreeMap;

use crate::Edition;
use crate::interval::{Activity, Interval};

/// Everything iso20k knows about one organisation's service management system.
#[derive(Clone, Debug, Default)]
pub struct Sms {
    /// Who the organisation is and what its SMS covers.
    pub organisation: Organisation,
    /// The planned intervals the organisation declared; others fall back to defaults.
    pub intervals: BTreeMap<Activity, Interval>,
    /// The service management policy.
    pub policy: Option<Policy>,
    /// Service management objectives.
    pub objectives: Vec<Objective>,
    /// The people register.
    pub people: Vec<Person>,
    /// The SMS processes and their owners.
    pub processes: Vec<Process>,
    /// Who is responsible, accountable, consulted and informed for each process.
    pub raci: Vec<RaciEntry>,
    /// Management reviews held.
    pub management_reviews: Vec<ManagementReview>,
    /// The register of controlled documents, one entry per version.
    pub documents: Vec<Document>,
    /// The service catalogue.
    pub services: Vec<Service>,
    /// Service level agreements.
    pub slas: Vec<Sla>,
    /// External and internal suppliers, with their contracts.
    pub suppliers: Vec<Supplier>,
    /// The risk register.
    pub risks: Vec<Risk>,
    /// When the current internal audit programme cycle started, if declared.
    pub audit_cycle_start: Option<crate::Date>,
    /// Internal audits, planned and held.
    pub audits: Vec<InternalAudit>,
    /// Nonconformities and their corrective actions.
    pub nonconformities: Vec<Nonconformity>,
    /// The improvement register.
    pub improvements: Vec<Improvement>,
    /// Service continuity and availability plans, with their tests.
    pub continuity_plans: Vec<ContinuityPlan>,
    /// Capacity plans.
    pub capacity_plans: Vec<CapacityPlan>,
    /// Training and competence records.
    pub training: Vec<TrainingRecord>,
    /// Ticket data: incidents, problems, changes, releases, configuration items.
    pub tickets: Tickets,
    /// The internal auditor's answers to the knowledge base's checklist questions.
    pub checklist: Vec<ChecklistAnswer>,
    /// Customers, their relationship owners, satisfaction surveys and service reviews.
    pub customers: Vec<Customer>,
    /// Service complaints.
    pub complaints: Vec<Complaint>,
    /// The action plan: what was decided about findings, one entry per finding id.
    pub plan: Vec<PlanEntry>,
}

impl Sms {
    /// The planned interval for an activity: the declared one, else the documented default.
    pub fn interval(&self, activity: Activity) -> Interval {
        self.intervals
            .get(&activity)
            .copied()
            .unwrap_or_else(|| activity.default_interval())
    }

    /// The edition the records' own clause references use.
    pub fn edition(&self) -> Edition {
        self.organisation.edition.unwrap_or(Edition::Y2018)
    }

    /// A person by id.
    pub fn person(&self, id: &str) -> Option<&Person> {
        self.people.iter().find(|p| p.id == id)
    }

    /// A service by id.
    pub fn service(&self, id: &str) -> Option<&Service> {
        self.services.iter().find(|s| s.id == id)
    }
}

/// The organisation and the scope of its SMS.
#[derive(Clone, Debug, Default)]
pub struct Organisation {
    /// Legal or trading name.
    pub name: String,
    /// The edition the organisation works to; 2018 when not declared.
    pub edition: Option<Edition>,
    /// The scope statement, in the organisation's words.
    pub scope: String,
    /// Organisational units delivering the services in scope.
    pub units: Vec<String>,
    /// Locations the services are delivered from.
    pub locations: Vec<String>,
    /// The person (id) with authority for the SMS: the 2011 "management representative".
    pub sms_owner: Option<String>,
    /// Planned date of the stage 1 certification audit, if booked.
    pub stage1_on: Option<crate::Date>,
    /// Planned date of the stage 2 certification audit, if booked.
    pub stage2_on: Option<crate::Date>,
    /// Planned date of the next surveillance audit, if booked.
    pub surveillance_on: Option<crate::Date>,
    /// Planned date of the recertification audit, if booked.
    pub recertification_on: Option<crate::Date>,
    /// The certification body, by name.
    pub certification_body: Option<String>,
    /// How long the certification body gives to answer a major nonconformity, when it sets its
    /// own; `nc::Response` holds the usual practice.
    pub major_response: Option<crate::interval::Interval>,
    /// The same for a minor nonconformity.
    pub minor_response: Option<crate::interval::Interval>,
    /// The day a snapshot of records describes, which reports judge as of by default.
    pub records_as_of: Option<crate::Date>,
    /// The analysis of the organisation's context and interested parties (2018 clauses 4.1, 4.2).
    pub context: Option<ContextAnalysis>,
    /// Incidents of this priority or higher (a lower number) count as major; 1 when not declared.
    pub major_priority: Option<u8>,
}

impl Organisation {
    /// Whether an incident of this priority counts as major.
    pub fn is_major_priority(&self, priority: u8) -> bool {
        priority <= self.major_priority.unwrap_or(1)
    }
}

/// The analysis of the organisation's context and its interested parties.
#[derive(Clone, Debug, Default)]
pub struct ContextAnalysis {
    /// External and internal issues that bear on the SMS.
    pub issues: Vec<String>,
    /// Interested parties and what they require.
    pub interested_parties: Vec<String>,
    /// Whether climate change is a relevant issue: the decision the 2024 amendment asks for.
    pub climate_change_relevant: Option<bool>,
    /// When the analysis was last reviewed.
    pub reviewed_on: Option<crate::Date>,
}
