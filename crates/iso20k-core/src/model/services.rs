use crate::Date;
use crate::interval::Interval;
use crate::model::Target;

/// A service in the catalogue.
#[derive(Clone, Debug, Default)]
pub struct Service {
    /// Id, e.g. `SVC-EMAIL`.
    pub id: String,
    /// Name.
    pub name: String,
    /// Who owns it (person id).
    pub owner: Option<String>,
    /// Customers it is delivered to.
    pub customers: Vec<String>,
    /// Services (ids) it depends on.
    pub depends_on: Vec<String>,
    /// Whether the SMS scope covers it.
    pub in_scope: bool,
    /// Where it is in its lifecycle.
    pub lifecycle: Lifecycle,
    /// Whether its loss would seriously harm customers (it then needs a continuity plan).
    pub critical: bool,
    /// When it went live.
    pub live_on: Option<Date>,
    /// When it was withdrawn.
    pub retired_on: Option<Date>,
    /// The design and transition plan (document id) for a new or changed service.
    pub transition_plan: Option<String>,
}

/// Lifecycle stage of a service.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Lifecycle {
    /// Approved but not yet built.
    Planned,
    /// Being built or transitioned.
    Transition,
    /// In operation.
    #[default]
    Live,
    /// Withdrawn.
    Retired,
}

/// A service level agreement.
#[derive(Clone, Debug, Default)]
pub struct Sla {
    /// Id, e.g. `SLA-EMAIL-ACME`.
    pub id: String,
    /// The service (id).
    pub service: String,
    /// The customer.
    pub customer: String,
    /// Service level targets.
    pub targets: Vec<SlaTarget>,
    /// Workload the targets assume, e.g. "up to 400 tickets a month".
    pub workload: Option<String>,
    /// Exceptions to the targets.
    pub exceptions: Option<String>,
    /// When it was agreed.
    pub agreed_on: Option<Date>,
    /// When it was last reviewed with the customer.
    pub last_reviewed_on: Option<Date>,
    /// The SLA's own review interval, if it sets one.
    pub review_interval: Option<Interval>,
    /// The controlled document (id) holding the agreement.
    pub document: Option<String>,
    /// The share of incidents that must meet their resolution target, overall or by priority.
    pub attainment: Vec<Attainment>,
}

/// A promise on how many incidents meet their resolution target, e.g. 95% of priority 1.
#[derive(Clone, Debug, PartialEq)]
pub struct Attainment {
    /// The priority it covers; every priority when `None`.
    pub priority: Option<u8>,
    /// The percentage of closed incidents that must meet their target.
    pub target: f64,
}

impl Sla {
    /// The last date the SLA was reviewed or agreed.
    pub fn reviewed(&self) -> Option<Date> {
        self.last_reviewed_on.max(self.agreed_on)
    }
}

/// One service level target.
#[derive(Clone, Debug)]
pub struct SlaTarget {
    /// What is measured, e.g. "availability".
    pub metric: String,
    /// The target.
    pub target: Option<Target>,
    /// The unit, e.g. `%` or `hours`.
    pub unit: Option<String>,
}

/// A supplier, external or internal.
#[derive(Clone, Debug, Default)]
pub struct Supplier {
    /// Id.
    pub id: String,
    /// Name.
    pub name: String,
    /// External supplier, or an internal group or customer acting as a supplier.
    pub kind: SupplierKind,
    /// Services (ids) it contributes to.
    pub services: Vec<String>,
    /// Who manages the relationship (person id).
    pub contract_manager: Option<String>,
    /// Whether the supplier is still used.
    pub active: bool,
    /// When its performance against the contract's targets was last reviewed.
    pub performance_reviewed_on: Option<Date>,
    /// Contracts or agreements with it.
    pub contracts: Vec<Contract>,
}

/// Whether a supplier is outside the organisation.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum SupplierKind {
    /// Another company.
    #[default]
    External,
    /// A group inside the organisation, or a customer acting as a supplier.
    Internal,
}

/// A contract (or, for an internal supplier, an agreement).
#[derive(Clone, Debug, Default)]
pub struct Contract {
    /// Id.
    pub id: String,
    /// Title.
    pub title: String,
    /// When it starts.
    pub starts_on: Option<Date>,
    /// When it ends, if it does.
    pub ends_on: Option<Date>,
    /// When it was last reviewed.
    pub last_reviewed_on: Option<Date>,
    /// Its own review interval, if it sets one.
    pub review_interval: Option<Interval>,
    /// The controlled document (id).
    pub document: Option<String>,
}
