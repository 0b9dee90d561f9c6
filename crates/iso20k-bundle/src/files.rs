//! The file types of the bundle format, exactly as written on disk, and their conversion into
//! the core model. Every struct denies unknown fields: a misspelt key must never silently drop
//! evidence. Doc comments here become the descriptions in the JSON Schemas under `schema/`.

use std::collections::BTreeMap;

use iso20k_core::Edition;
use iso20k_core::interval::Activity;
use iso20k_core::kb::Grade;
use iso20k_core::model::{self as m, Commitment, DocType, ReviewInput};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::value::{ClauseRef, Day, Flag, Key, PatternId, Period, Stamp, TargetValue, or_empty};

/// A record id, with where it was written (for duplicate-id errors).
pub type Id = serde_saphyr::Spanned<String>;

fn day(d: Option<Day>) -> Option<iso20k_core::Date> {
    d.map(|d| d.0)
}

fn period(p: Option<Period>) -> Option<iso20k_core::interval::Interval> {
    p.map(|p| p.0)
}

fn text(s: Option<String>) -> Option<String> {
    s.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty())
}

fn yes() -> bool {
    true
}

// ---------------------------------------------------------------------------------------------
// organisation.yaml

/// The organisation, the scope of its SMS, and its planned intervals.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct OrganisationFile {
    /// Legal or trading name.
    pub name: String,
    /// The edition of ISO/IEC 20000-1 the SMS works to: "2018" (default) or "2011".
    #[serde(default)]
    pub edition: Option<EditionKey>,
    /// The scope statement: which services, delivered by whom, from where.
    #[serde(default)]
    pub scope: Option<String>,
    /// Organisational units delivering the services in scope.
    #[serde(default, deserialize_with = "or_empty")]
    pub units: Vec<String>,
    /// Locations the services are delivered from.
    #[serde(default, deserialize_with = "or_empty")]
    pub locations: Vec<String>,
    /// Person id (from people.csv) with authority for the SMS as a whole (the 2011 management
    /// representative).
    #[serde(default)]
    pub sms_owner: Option<String>,
    /// Booked certification audits.
    #[serde(default)]
    pub certification: Option<Certification>,
    /// The analysis of context and interested parties (2018 clauses 4.1 and 4.2).
    #[serde(default)]
    pub context: Option<ContextEntry>,
    /// Incidents of this priority or higher (a lower number) count as major; 1 when left out.
    #[serde(default)]
    pub major_priority: Option<u8>,
    /// Planned intervals for recurring activities; any left out use the documented defaults.
    #[serde(default, deserialize_with = "or_empty")]
    pub intervals: BTreeMap<Key<Activity>, Period>,
    /// For a snapshot of records taken on one day (an export, a demo): that day, which
    /// reports judge as of unless told another. Leave it out for records kept up to date.
    #[serde(default)]
    pub records_as_of: Option<Day>,
}

/// The analysis of the organisation's context and interested parties.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ContextEntry {
    /// External and internal issues that bear on the SMS.
    #[serde(default, deserialize_with = "or_empty")]
    pub issues: Vec<String>,
    /// Interested parties and what they require.
    #[serde(default, deserialize_with = "or_empty")]
    pub interested_parties: Vec<String>,
    /// Whether climate change is a relevant issue (the decision the 2024 amendment asks for).
    #[serde(default)]
    pub climate_change_relevant: Option<bool>,
    /// When the analysis was last reviewed.
    #[serde(default)]
    pub reviewed_on: Option<Day>,
}

/// The edition, written as its year.
#[derive(Clone, Copy, Debug, Deserialize, Serialize, JsonSchema)]
pub enum EditionKey {
    /// ISO/IEC 20000-1:2018.
    #[serde(rename = "2018")]
    Y2018,
    /// ISO/IEC 20000-1:2011.
    #[serde(rename = "2011")]
    Y2011,
}

/// Booked certification audit dates.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Certification {
    /// Date of the stage 1 audit.
    #[serde(default)]
    pub stage1: Option<Day>,
    /// Date of the stage 2 audit.
    #[serde(default)]
    pub stage2: Option<Day>,
    /// Date of the next surveillance audit, once certified.
    #[serde(default)]
    pub surveillance: Option<Day>,
    /// Date of the recertification audit that ends the three-year cycle.
    #[serde(default)]
    pub recertification: Option<Day>,
    /// The certification body, by name.
    #[serde(default)]
    pub body: Option<String>,
    /// How long the certification body gives to answer its findings, when its rules differ
    /// from the usual practice (majors and minors 90 days each).
    #[serde(default)]
    pub response: Option<ResponseDeadlines>,
}

/// The certification body's response deadlines.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ResponseDeadlines {
    /// For a major nonconformity: correction with evidence, e.g. "90 days".
    #[serde(default)]
    pub major: Option<Period>,
    /// For a minor nonconformity: an accepted correction plan, e.g. "90 days".
    #[serde(default)]
    pub minor: Option<Period>,
}

impl OrganisationFile {
    pub(crate) fn apply(self, sms: &mut m::Sms) {
        let cert = self.certification;
        sms.organisation = m::Organisation {
            name: self.name,
            edition: self.edition.map(|e| match e {
                EditionKey::Y2018 => Edition::Y2018,
                EditionKey::Y2011 => Edition::Y2011,
            }),
            scope: self.scope.unwrap_or_default(),
            units: self.units,
            locations: self.locations,
            sms_owner: text(self.sms_owner),
            stage1_on: cert.as_ref().and_then(|c| day(c.stage1)),
            stage2_on: cert.as_ref().and_then(|c| day(c.stage2)),
            surveillance_on: cert.as_ref().and_then(|c| day(c.surveillance)),
            recertification_on: cert.as_ref().and_then(|c| day(c.recertification)),
            certification_body: cert.as_ref().and_then(|c| text(c.body.clone())),
            major_response: cert
                .as_ref()
                .and_then(|c| c.response.as_ref()?.major.as_ref().map(|p| p.0)),
            minor_response: cert
                .as_ref()
                .and_then(|c| c.response.as_ref()?.minor.as_ref().map(|p| p.0)),
            records_as_of: day(self.records_as_of),
            context: self.context.map(|c| m::ContextAnalysis {
                issues: c.issues,
                interested_parties: c.interested_parties,
                climate_change_relevant: c.climate_change_relevant,
                reviewed_on: day(c.reviewed_on),
            }),
            major_priority: self.major_priority,
        };
        sms.intervals = self
            .intervals
            .into_iter()
            .map(|(k, v)| (k.0, v.0))
            .collect();
    }
}

// ---------------------------------------------------------------------------------------------
// policy.yaml

/// The service management policy.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PolicyFile {
    /// Id of the document in documents.csv that holds the policy.
    #[serde(default)]
    pub document: Option<String>,
    /// Title as issued.
    pub title: String,
    /// Person id of who approved it (top management).
    #[serde(default)]
    pub approved_by: Option<String>,
    /// When it was approved.
    #[serde(default)]
    pub approved_on: Option<Day>,
    /// When it was last reviewed for continuing suitability.
    #[serde(default)]
    pub last_reviewed_on: Option<Day>,
    /// The policy's own review interval, if it sets one.
    #[serde(default)]
    pub review_interval: Option<Period>,
    /// The commitments the policy makes.
    #[serde(default, deserialize_with = "or_empty")]
    pub commitments: Vec<Key<Commitment>>,
    /// When it was last communicated to staff and interested parties.
    #[serde(default)]
    pub communicated_on: Option<Day>,
}

impl From<PolicyFile> for m::Policy {
    fn from(p: PolicyFile) -> Self {
        m::Policy {
            document: text(p.document),
            title: p.title,
            approved_by: text(p.approved_by),
            approved_on: day(p.approved_on),
            last_reviewed_on: day(p.last_reviewed_on),
            review_interval: period(p.review_interval),
            commitments: p.commitments.into_iter().map(|k| k.0).collect(),
            communicated_on: day(p.communicated_on),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// objectives.yaml

/// Service management objectives.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ObjectivesFile {
    /// The objectives.
    #[serde(default, deserialize_with = "or_empty")]
    pub objectives: Vec<ObjectiveEntry>,
}

/// One objective.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ObjectiveEntry {
    /// Id, unique in the file.
    #[schemars(with = "String")]
    pub id: Id,
    /// What the objective is.
    pub title: String,
    /// What is measured, and how.
    #[serde(default)]
    pub measure: Option<String>,
    /// The target: a number (words are reported as unmeasurable).
    #[serde(default)]
    pub target: Option<TargetValue>,
    /// Unit of the target, e.g. `%`.
    #[serde(default)]
    pub unit: Option<String>,
    /// Person id of the owner.
    #[serde(default)]
    pub owner: Option<String>,
    /// When it is to be met.
    #[serde(default)]
    pub due: Option<Day>,
    /// Measurements taken.
    #[serde(default, deserialize_with = "or_empty")]
    pub measurements: Vec<MeasurementEntry>,
}

/// A measurement of an objective.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MeasurementEntry {
    /// When it was taken.
    pub on: Day,
    /// The value measured.
    pub value: f64,
}

impl From<ObjectiveEntry> for m::Objective {
    fn from(o: ObjectiveEntry) -> Self {
        m::Objective {
            id: o.id.value,
            title: o.title,
            measure: text(o.measure),
            target: o.target.map(Into::into),
            unit: text(o.unit),
            owner: text(o.owner),
            due: day(o.due),
            measurements: o
                .measurements
                .into_iter()
                .map(|x| m::Measurement {
                    on: x.on.0,
                    value: x.value,
                })
                .collect(),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// processes.yaml

/// The SMS processes.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ProcessesFile {
    /// The processes.
    #[serde(default, deserialize_with = "or_empty")]
    pub processes: Vec<ProcessEntry>,
}

/// One process.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ProcessEntry {
    /// Id, e.g. `change`.
    #[schemars(with = "String")]
    pub id: Id,
    /// Name, e.g. "Change management".
    pub name: String,
    /// Person id of the process owner.
    #[serde(default)]
    pub owner: Option<String>,
    /// Clauses of the organisation's edition the process answers, e.g. ["8.5.1"].
    #[serde(default, deserialize_with = "or_empty")]
    pub clauses: Vec<ClauseRef>,
    /// Supplier id, when another party operates the process or part of it.
    #[serde(default)]
    pub operated_by: Option<String>,
    /// Id of the document describing the process.
    #[serde(default)]
    pub document: Option<String>,
    /// The indicators the process is measured by.
    #[serde(default, deserialize_with = "or_empty")]
    pub kpis: Vec<String>,
    /// high, medium or low: how much could go wrong in it, as the organisation rates it. A
    /// high-risk process is audited every year of the programme, not once a cycle.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub risk: Option<RiskLevelKey>,
}

impl From<ProcessEntry> for m::Process {
    fn from(p: ProcessEntry) -> Self {
        m::Process {
            id: p.id.value,
            name: p.name,
            owner: text(p.owner),
            clauses: p.clauses.into_iter().map(|c| c.0).collect(),
            operated_by: text(p.operated_by),
            document: text(p.document),
            kpis: p.kpis,
            risk: p.risk.map(|r| match r {
                RiskLevelKey::High => m::RiskLevel::High,
                RiskLevelKey::Medium => m::RiskLevel::Medium,
                RiskLevelKey::Low => m::RiskLevel::Low,
            }),
        }
    }
}

/// A rating of risk.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum RiskLevelKey {
    /// High.
    High,
    /// Medium.
    Medium,
    /// Low.
    Low,
}

// ---------------------------------------------------------------------------------------------
// management-reviews.yaml

/// Management reviews, held and planned.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ReviewsFile {
    /// The reviews.
    #[serde(default, deserialize_with = "or_empty")]
    pub reviews: Vec<ReviewEntry>,
}

/// One management review.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ReviewEntry {
    /// Id, unique in the file.
    #[schemars(with = "String")]
    pub id: Id,
    /// When it is planned for.
    #[serde(default)]
    pub planned_on: Option<Day>,
    /// When it was held; leave out while it is only planned.
    #[serde(default)]
    pub held_on: Option<Day>,
    /// Person ids of the attendees.
    #[serde(default, deserialize_with = "or_empty")]
    pub attendees: Vec<String>,
    /// The inputs the review considered.
    #[serde(default, deserialize_with = "or_empty")]
    pub inputs: Vec<Key<ReviewInput>>,
    /// Decisions taken.
    #[serde(default, deserialize_with = "or_empty")]
    pub decisions: Vec<String>,
    /// Actions raised.
    #[serde(default, deserialize_with = "or_empty")]
    pub actions: Vec<ActionEntry>,
    /// Ids of earlier reviews' actions whose status this review examined.
    #[serde(default, deserialize_with = "or_empty")]
    pub followed_up: Vec<String>,
    /// Id of the minutes in documents.csv.
    #[serde(default)]
    pub minutes: Option<String>,
}

/// An action raised by a management review.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ActionEntry {
    /// Id, unique across all reviews.
    #[schemars(with = "String")]
    pub id: Id,
    /// What is to be done.
    pub description: String,
    /// Person id of who does it.
    #[serde(default)]
    pub owner: Option<String>,
    /// When it is due.
    #[serde(default)]
    pub due: Option<Day>,
    /// open (default), done or cancelled.
    #[serde(default)]
    pub status: ActionStatusKey,
    /// When it was done or cancelled.
    #[serde(default)]
    pub closed_on: Option<Day>,
}

/// Where an action stands.
#[derive(Clone, Copy, Debug, Default, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum ActionStatusKey {
    /// Not finished.
    #[default]
    Open,
    /// Finished.
    Done,
    /// Dropped.
    Cancelled,
}

impl From<ReviewEntry> for m::ManagementReview {
    fn from(r: ReviewEntry) -> Self {
        m::ManagementReview {
            id: r.id.value,
            planned_on: day(r.planned_on),
            held_on: day(r.held_on),
            attendees: r.attendees,
            inputs: r.inputs.into_iter().map(|k| k.0).collect(),
            decisions: r.decisions,
            actions: r
                .actions
                .into_iter()
                .map(|a| m::ReviewAction {
                    id: a.id.value,
                    description: a.description,
                    owner: text(a.owner),
                    due: day(a.due),
                    status: match a.status {
                        ActionStatusKey::Open => m::ActionStatus::Open,
                        ActionStatusKey::Done => m::ActionStatus::Done,
                        ActionStatusKey::Cancelled => m::ActionStatus::Cancelled,
                    },
                    closed_on: day(a.closed_on),
                })
                .collect(),
            followed_up: r.followed_up,
            minutes: text(r.minutes),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// services.yaml, slas.yaml

/// The service catalogue.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ServicesFile {
    /// The services.
    #[serde(default, deserialize_with = "or_empty")]
    pub services: Vec<ServiceEntry>,
}

/// A service in the catalogue.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ServiceEntry {
    /// Id, e.g. `SVC-EMAIL`.
    #[schemars(with = "String")]
    pub id: Id,
    /// Name.
    pub name: String,
    /// Person id of the service owner.
    #[serde(default)]
    pub owner: Option<String>,
    /// Customers it is delivered to.
    #[serde(default, deserialize_with = "or_empty")]
    pub customers: Vec<String>,
    /// Ids of the services it depends on.
    #[serde(default, deserialize_with = "or_empty")]
    pub depends_on: Vec<String>,
    /// Whether the SMS scope covers it (default true).
    #[serde(default = "yes")]
    pub in_scope: bool,
    /// planned, transition, live (default) or retired.
    #[serde(default)]
    pub lifecycle: LifecycleKey,
    /// Whether losing it would seriously harm customers; critical services need a continuity plan.
    #[serde(default)]
    pub critical: bool,
    /// When it went live.
    #[serde(default)]
    pub live_on: Option<Day>,
    /// When it was withdrawn.
    #[serde(default)]
    pub retired_on: Option<Day>,
    /// Id of its design and transition plan in documents.csv, for a new or changed service.
    #[serde(default)]
    pub transition_plan: Option<String>,
}

/// Lifecycle stage of a service.
#[derive(Clone, Copy, Debug, Default, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum LifecycleKey {
    /// Approved but not built.
    Planned,
    /// Being built or transitioned.
    Transition,
    /// In operation.
    #[default]
    Live,
    /// Withdrawn.
    Retired,
}

impl From<ServiceEntry> for m::Service {
    fn from(s: ServiceEntry) -> Self {
        m::Service {
            id: s.id.value,
            name: s.name,
            owner: text(s.owner),
            customers: s.customers,
            depends_on: s.depends_on,
            in_scope: s.in_scope,
            lifecycle: match s.lifecycle {
                LifecycleKey::Planned => m::Lifecycle::Planned,
                LifecycleKey::Transition => m::Lifecycle::Transition,
                LifecycleKey::Live => m::Lifecycle::Live,
                LifecycleKey::Retired => m::Lifecycle::Retired,
            },
            critical: s.critical,
            live_on: day(s.live_on),
            retired_on: day(s.retired_on),
            transition_plan: text(s.transition_plan),
        }
    }
}

/// Service level agreements.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SlasFile {
    /// The SLAs.
    #[serde(default, deserialize_with = "or_empty")]
    pub slas: Vec<SlaEntry>,
}

/// One SLA.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SlaEntry {
    /// Id.
    #[schemars(with = "String")]
    pub id: Id,
    /// Id of the service in services.yaml.
    pub service: String,
    /// The customer.
    pub customer: String,
    /// Service level targets.
    #[serde(default, deserialize_with = "or_empty")]
    pub targets: Vec<TargetEntry>,
    /// Workload the targets assume.
    #[serde(default)]
    pub workload: Option<String>,
    /// Exceptions to the targets.
    #[serde(default)]
    pub exceptions: Option<String>,
    /// When it was agreed.
    #[serde(default)]
    pub agreed_on: Option<Day>,
    /// When it was last reviewed with the customer.
    #[serde(default)]
    pub last_reviewed_on: Option<Day>,
    /// Its own review interval, if it sets one.
    #[serde(default)]
    pub review_interval: Option<Period>,
    /// Id of the agreement in documents.csv.
    #[serde(default)]
    pub document: Option<String>,
    /// The share of incidents that must meet their resolution target, overall or by priority,
    /// e.g. `[{ priority: 1, target: 95 }, { target: 90 }]`.
    #[serde(default, deserialize_with = "or_empty")]
    pub attainment: Vec<AttainmentEntry>,
}

/// A promise on the share of incidents that meet their resolution target.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AttainmentEntry {
    /// The priority it covers (1 to 5); every priority when left out.
    #[serde(default)]
    pub priority: Option<u8>,
    /// The percentage of closed incidents that must meet their target, e.g. 95.
    pub target: f64,
}

/// One service level target.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TargetEntry {
    /// What is measured, e.g. "availability".
    pub metric: String,
    /// The target: a number (words are reported as unmeasurable).
    #[serde(default)]
    pub target: Option<TargetValue>,
    /// The unit, e.g. `%` or `hours`.
    #[serde(default)]
    pub unit: Option<String>,
}

impl From<SlaEntry> for m::Sla {
    fn from(a: SlaEntry) -> Self {
        m::Sla {
            id: a.id.value,
            service: a.service,
            customer: a.customer,
            targets: a
                .targets
                .into_iter()
                .map(|t| m::SlaTarget {
                    metric: t.metric,
                    target: t.target.map(Into::into),
                    unit: text(t.unit),
                })
                .collect(),
            workload: text(a.workload),
            exceptions: text(a.exceptions),
            agreed_on: day(a.agreed_on),
            last_reviewed_on: day(a.last_reviewed_on),
            review_interval: period(a.review_interval),
            document: text(a.document),
            attainment: a
                .attainment
                .into_iter()
                .map(|t| m::Attainment {
                    priority: t.priority,
                    target: t.target,
                })
                .collect(),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// suppliers.yaml

/// Suppliers and their contracts.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SuppliersFile {
    /// The suppliers.
    #[serde(default, deserialize_with = "or_empty")]
    pub suppliers: Vec<SupplierEntry>,
}

/// One supplier.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SupplierEntry {
    /// Id.
    #[schemars(with = "String")]
    pub id: Id,
    /// Name.
    pub name: String,
    /// external (default) or internal (an internal group or a customer acting as a supplier).
    #[serde(default)]
    pub kind: SupplierKindKey,
    /// Ids of the services it contributes to.
    #[serde(default, deserialize_with = "or_empty")]
    pub services: Vec<String>,
    /// Person id of who manages the contract.
    #[serde(default)]
    pub contract_manager: Option<String>,
    /// Whether the supplier is still used (default true).
    #[serde(default = "yes")]
    pub active: bool,
    /// When its performance against the contract's targets was last reviewed.
    #[serde(default)]
    pub performance_reviewed_on: Option<Day>,
    /// Contracts, or agreements for an internal supplier.
    #[serde(default, deserialize_with = "or_empty")]
    pub contracts: Vec<ContractEntry>,
}

/// Whether a supplier is outside the organisation.
#[derive(Clone, Copy, Debug, Default, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum SupplierKindKey {
    /// Another company.
    #[default]
    External,
    /// An internal group, or a customer acting as a supplier.
    Internal,
}

/// A contract or agreement.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ContractEntry {
    /// Id.
    #[schemars(with = "String")]
    pub id: Id,
    /// Title.
    pub title: String,
    /// When it starts.
    #[serde(default)]
    pub starts_on: Option<Day>,
    /// When it ends; leave out if open-ended.
    #[serde(default)]
    pub ends_on: Option<Day>,
    /// When it was last reviewed.
    #[serde(default)]
    pub last_reviewed_on: Option<Day>,
    /// Its own review interval, if it sets one.
    #[serde(default)]
    pub review_interval: Option<Period>,
    /// Id of the contract in documents.csv.
    #[serde(default)]
    pub document: Option<String>,
}

impl From<SupplierEntry> for m::Supplier {
    fn from(s: SupplierEntry) -> Self {
        m::Supplier {
            id: s.id.value,
            name: s.name,
            kind: match s.kind {
                SupplierKindKey::External => m::SupplierKind::External,
                SupplierKindKey::Internal => m::SupplierKind::Internal,
            },
            services: s.services,
            contract_manager: text(s.contract_manager),
            active: s.active,
            performance_reviewed_on: day(s.performance_reviewed_on),
            contracts: s
                .contracts
                .into_iter()
                .map(|c| m::Contract {
                    id: c.id.value,
                    title: c.title,
                    starts_on: day(c.starts_on),
                    ends_on: day(c.ends_on),
                    last_reviewed_on: day(c.last_reviewed_on),
                    review_interval: period(c.review_interval),
                    document: text(c.document),
                })
                .collect(),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// audits.yaml

/// The internal audit programme and its audits.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AuditsFile {
    /// The programme.
    #[serde(default)]
    pub programme: Option<Programme>,
    /// Audits, planned and held.
    #[serde(default, deserialize_with = "or_empty")]
    pub audits: Vec<AuditEntry>,
}

/// The audit programme.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Programme {
    /// When the current programme cycle started; the cycle lasts the `audit_cycle` interval.
    #[serde(default)]
    pub cycle_start: Option<Day>,
}

/// One audit: an internal audit of the programme, or an outside audit whose findings feed the
/// same nonconformity loop.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AuditEntry {
    /// Id.
    #[schemars(with = "String")]
    pub id: Id,
    /// What it is about.
    pub title: String,
    /// internal (default), stage1, stage2, surveillance, recertification or customer.
    #[serde(default, skip_serializing_if = "AuditKindKey::is_internal")]
    pub kind: AuditKindKey,
    /// For an outside audit, who held it: the certification body or the customer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
    /// planned, in-progress, reported or closed; read from the dates and the report when left
    /// out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<AuditStatusKey>,
    /// When it is (or was) planned for.
    #[serde(default)]
    pub planned_on: Option<Day>,
    /// When it was held (its first day); leave out while it is only planned.
    #[serde(default)]
    pub held_on: Option<Day>,
    /// Its last day, when fieldwork runs over several days.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ends_on: Option<Day>,
    /// Whether it was cancelled.
    #[serde(default)]
    pub cancelled: bool,
    /// Person id (or name, for an external auditor) of the lead auditor.
    #[serde(default)]
    pub auditor: Option<String>,
    /// The rest of the audit team: person ids, or names of outside auditors.
    #[serde(
        default,
        deserialize_with = "or_empty",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub team: Vec<String>,
    /// Ids of the processes audited.
    #[serde(default, deserialize_with = "or_empty")]
    pub processes: Vec<String>,
    /// Clauses of the organisation's edition audited, e.g. ["9.2", "9.3"].
    #[serde(default, deserialize_with = "or_empty")]
    pub clauses: Vec<ClauseRef>,
    /// Ids of the services in scope.
    #[serde(
        default,
        deserialize_with = "or_empty",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub services: Vec<String>,
    /// Sites in scope.
    #[serde(
        default,
        deserialize_with = "or_empty",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub sites: Vec<String>,
    /// What the audit sets out to establish.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub objectives: Option<String>,
    /// What it audits against: the standard, the SMS's own procedures, contracts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub criteria: Option<String>,
    /// How it is done: interviews, record sampling, observation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method: Option<String>,
    /// The audit team's conclusion.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conclusion: Option<String>,
    /// Id of the audit report in documents.csv.
    #[serde(default)]
    pub report: Option<String>,
    /// The audit's checklist: questions, each with what was found.
    #[serde(
        default,
        deserialize_with = "or_empty",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub checklist: Vec<AuditQuestionEntry>,
    /// Samples drawn as workpapers.
    #[serde(
        default,
        deserialize_with = "or_empty",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub samples: Vec<SampleEntry>,
    /// What the audit found.
    #[serde(default, deserialize_with = "or_empty")]
    pub findings: Vec<AuditFindingEntry>,
}

/// Who held an audit.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum AuditKindKey {
    /// The organisation's own internal audit.
    #[default]
    Internal,
    /// The certification body's stage 1 audit.
    Stage1,
    /// The certification body's stage 2 audit.
    Stage2,
    /// A surveillance audit.
    Surveillance,
    /// The recertification audit.
    Recertification,
    /// An audit by a customer or another outside party.
    Customer,
}

impl AuditKindKey {
    fn is_internal(&self) -> bool {
        *self == AuditKindKey::Internal
    }
}

/// An audit's status.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum AuditStatusKey {
    /// Planned, not started.
    Planned,
    /// Being held.
    InProgress,
    /// The report is issued.
    Reported,
    /// Every finding is answered.
    Closed,
}

/// A question on an audit's checklist.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AuditQuestionEntry {
    /// What to establish.
    pub question: String,
    /// The clause it serves.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub clause: Option<ClauseRef>,
    /// conforms, does-not-conform or not-applicable; left out while not asked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result: Option<ItemResultKey>,
    /// What the auditor noted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// A sample of records drawn as an audit workpaper.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SampleEntry {
    /// Id, unique within the audit.
    #[schemars(with = "String")]
    pub id: Id,
    /// What was sampled from.
    pub population: PopulationEntry,
    /// How many records the population held when the sample was drawn.
    #[serde(default)]
    pub population_size: u64,
    /// statistical (default) or judgement.
    #[serde(default)]
    pub method: SampleMethodKey,
    /// For a statistical sample, the confidence sought, e.g. 0.95.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub confidence: Option<f64>,
    /// For a statistical sample, the tolerable deviation rate, e.g. 0.05.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tdr: Option<f64>,
    /// For a judgement sample, why these records.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rationale: Option<String>,
    /// The seed of the draw: the same population and seed give the same items.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seed: Option<u64>,
    /// When it was drawn.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub drawn_on: Option<Day>,
    /// The sampled records in draw order, each with its result.
    #[serde(default, deserialize_with = "or_empty")]
    pub items: Vec<SampleItemEntry>,
    /// Id of the finding its results were rolled into.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finding: Option<String>,
}

/// What a sample was drawn from.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PopulationEntry {
    /// The kind of record: a ticket table (changes, incidents, problems, requests, releases,
    /// cis) or any register (documents, suppliers...).
    pub kind: String,
    /// First day of the period, inclusive.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<Day>,
    /// Last day of the period, inclusive.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<Day>,
    /// Filters on the records' fields, each `field=value` or `field!=value`.
    #[serde(
        rename = "where",
        default,
        deserialize_with = "or_empty",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub filters: Vec<String>,
}

/// How a sample was chosen.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum SampleMethodKey {
    /// At random, its size from a confidence and a tolerable deviation rate (or given).
    #[default]
    Statistical,
    /// Chosen by the auditor, for a written reason.
    Judgement,
}

/// One sampled record.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SampleItemEntry {
    /// The record's id.
    pub id: String,
    /// conforms, does-not-conform or not-applicable; left out while not yet tested.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result: Option<ItemResultKey>,
    /// What the auditor noted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// The result of testing one item.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum ItemResultKey {
    /// It meets the criterion.
    Conforms,
    /// It does not.
    DoesNotConform,
    /// The criterion does not apply to it.
    NotApplicable,
}

impl From<ItemResultKey> for m::ItemResult {
    fn from(r: ItemResultKey) -> Self {
        match r {
            ItemResultKey::Conforms => m::ItemResult::Conforms,
            ItemResultKey::DoesNotConform => m::ItemResult::DoesNotConform,
            ItemResultKey::NotApplicable => m::ItemResult::NotApplicable,
        }
    }
}

/// A finding of an internal audit.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AuditFindingEntry {
    /// Id, unique across audits.
    #[schemars(with = "String")]
    pub id: Id,
    /// major, minor or observation.
    pub grade: GradeKey,
    /// The clause it is raised against.
    #[serde(default)]
    pub clause: Option<ClauseRef>,
    /// What was found.
    pub statement: String,
    /// When it must be closed.
    #[serde(default)]
    pub due: Option<Day>,
    /// When it was closed.
    #[serde(default)]
    pub closed_on: Option<Day>,
    /// When the auditor verified the closure.
    #[serde(default)]
    pub verified_on: Option<Day>,
    /// Id of the nonconformity raised for it.
    #[serde(default)]
    pub nonconformity: Option<String>,
    /// Id of the process it concerns.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub process: Option<String>,
    /// Objective evidence: ids of records (tickets, documents) or of uploaded evidence files.
    #[serde(
        default,
        deserialize_with = "or_empty",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub evidence: Vec<String>,
    /// Id of the sample (in the same audit) whose results it reports.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sample: Option<String>,
}

/// A grade.
#[derive(Clone, Copy, Debug, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum GradeKey {
    /// Major nonconformity.
    Major,
    /// Minor nonconformity.
    Minor,
    /// Observation or opportunity for improvement.
    Observation,
}

impl From<GradeKey> for Grade {
    fn from(g: GradeKey) -> Self {
        match g {
            GradeKey::Major => Grade::Major,
            GradeKey::Minor => Grade::Minor,
            GradeKey::Observation => Grade::Observation,
        }
    }
}

impl From<AuditEntry> for m::InternalAudit {
    fn from(a: AuditEntry) -> Self {
        m::InternalAudit {
            id: a.id.value,
            title: a.title,
            kind: match a.kind {
                AuditKindKey::Internal => m::AuditKind::Internal,
                AuditKindKey::Stage1 => m::AuditKind::Stage1,
                AuditKindKey::Stage2 => m::AuditKind::Stage2,
                AuditKindKey::Surveillance => m::AuditKind::Surveillance,
                AuditKindKey::Recertification => m::AuditKind::Recertification,
                AuditKindKey::Customer => m::AuditKind::Customer,
            },
            body: text(a.body),
            recorded_status: a.status.map(|s| match s {
                AuditStatusKey::Planned => m::AuditStatus::Planned,
                AuditStatusKey::InProgress => m::AuditStatus::InProgress,
                AuditStatusKey::Reported => m::AuditStatus::Reported,
                AuditStatusKey::Closed => m::AuditStatus::Closed,
            }),
            planned_on: day(a.planned_on),
            held_on: day(a.held_on),
            ends_on: day(a.ends_on),
            cancelled: a.cancelled,
            auditor: text(a.auditor),
            team: a.team,
            processes: a.processes,
            clauses: a.clauses.into_iter().map(|c| c.0).collect(),
            services: a.services,
            sites: a.sites,
            objectives: text(a.objectives),
            criteria: text(a.criteria),
            method: text(a.method),
            conclusion: text(a.conclusion),
            report: text(a.report),
            checklist: a
                .checklist
                .into_iter()
                .map(|q| m::AuditQuestion {
                    question: q.question,
                    clause: q.clause.map(|c| c.0),
                    result: q.result.map(Into::into),
                    note: text(q.note),
                })
                .collect(),
            samples: a
                .samples
                .into_iter()
                .map(|s| m::Sample {
                    id: s.id.value,
                    population: m::PopulationDef {
                        kind: s.population.kind,
                        from: day(s.population.from),
                        to: day(s.population.to),
                        filters: s.population.filters,
                    },
                    population_size: s.population_size,
                    method: match s.method {
                        SampleMethodKey::Statistical => m::SampleMethod::Statistical,
                        SampleMethodKey::Judgement => m::SampleMethod::Judgement,
                    },
                    confidence: s.confidence,
                    tdr: s.tdr,
                    rationale: text(s.rationale),
                    seed: s.seed,
                    drawn_on: day(s.drawn_on),
                    items: s
                        .items
                        .into_iter()
                        .map(|i| m::SampleItem {
                            id: i.id,
                            result: i.result.map(Into::into),
                            note: text(i.note),
                        })
                        .collect(),
                    finding: text(s.finding),
                })
                .collect(),
            findings: a
                .findings
                .into_iter()
                .map(|f| m::AuditFinding {
                    id: f.id.value,
                    grade: f.grade.into(),
                    clause: f.clause.map(|c| c.0),
                    statement: f.statement,
                    due: day(f.due),
                    closed_on: day(f.closed_on),
                    verified_on: day(f.verified_on),
                    nonconformity: text(f.nonconformity),
                    process: text(f.process),
                    evidence: f.evidence,
                    sample: text(f.sample),
                })
                .collect(),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// nonconformities.yaml

/// Nonconformities and corrective actions.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NonconformitiesFile {
    /// The nonconformities.
    #[serde(default, deserialize_with = "or_empty")]
    pub nonconformities: Vec<NonconformityEntry>,
}

/// One nonconformity.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NonconformityEntry {
    /// Id.
    #[schemars(with = "String")]
    pub id: Id,
    /// What is wrong.
    pub description: String,
    /// When it was raised.
    #[serde(default)]
    pub raised_on: Option<Day>,
    /// internal-audit, external-audit, management-review, complaint, incident, monitoring or other.
    #[serde(default)]
    pub source: NcSourceKey,
    /// Id of the record it came from, e.g. an audit finding.
    #[serde(default)]
    pub source_ref: Option<String>,
    /// Clauses of the organisation's edition it breaches.
    #[serde(default, deserialize_with = "or_empty")]
    pub clauses: Vec<ClauseRef>,
    /// major, minor or observation.
    #[serde(default)]
    pub grade: Option<GradeKey>,
    /// The immediate fix of this one instance.
    #[serde(default)]
    pub correction: Option<String>,
    /// Why it happened.
    #[serde(default)]
    pub root_cause: Option<String>,
    /// Actions that remove the cause.
    #[serde(default, deserialize_with = "or_empty")]
    pub actions: Vec<CorrectiveActionEntry>,
    /// The check that the actions worked: planned, then held.
    #[serde(default)]
    pub effectiveness: Option<EffectivenessEntry>,
    /// Earlier effectiveness checks, each of which found the actions did not work.
    #[serde(
        default,
        deserialize_with = "or_empty",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub earlier_checks: Vec<EffectivenessEntry>,
    /// When it was closed.
    #[serde(default)]
    pub closed_on: Option<Day>,
    /// Id of the process it concerns; that process's owner answers it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub process: Option<String>,
    /// Person id of who is responsible for answering it, when not the process owner.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    /// When the response is due, when it is not the grade's usual deadline.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub due: Option<Day>,
    /// five-whys, fishbone or other: how the root cause was found.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub root_cause_method: Option<RootCauseMethodKey>,
}

/// How a root cause was analysed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum RootCauseMethodKey {
    /// Asking "why?" until the cause is one the organisation controls.
    FiveWhys,
    /// A cause-and-effect (Ishikawa) diagram.
    Fishbone,
    /// Another method, described in the root cause.
    Other,
}

/// Where a nonconformity came from.
#[derive(Clone, Copy, Debug, Default, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum NcSourceKey {
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

/// A corrective action.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CorrectiveActionEntry {
    /// Id.
    #[schemars(with = "String")]
    pub id: Id,
    /// What is to be done.
    pub description: String,
    /// Person id of who does it.
    #[serde(default)]
    pub owner: Option<String>,
    /// When it is due.
    #[serde(default)]
    pub due: Option<Day>,
    /// When it was implemented.
    #[serde(default)]
    pub implemented_on: Option<Day>,
    /// What shows it was done: ids of records or uploaded evidence files.
    #[serde(
        default,
        deserialize_with = "or_empty",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub evidence: Vec<String>,
}

/// The check of whether corrective actions worked: planned, then held.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EffectivenessEntry {
    /// When the check is planned for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub planned_on: Option<Day>,
    /// When it was checked; leave out while it is only planned.
    #[serde(default)]
    pub checked_on: Option<Day>,
    /// Person id of who checks.
    #[serde(default)]
    pub checked_by: Option<String>,
    /// Whether the actions worked; leave out until checked.
    #[serde(default)]
    pub effective: Option<bool>,
    /// What the check looked at.
    #[serde(default)]
    pub note: Option<String>,
    /// What shows it: ids of records or uploaded evidence files.
    #[serde(
        default,
        deserialize_with = "or_empty",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub evidence: Vec<String>,
}

impl From<EffectivenessEntry> for m::EffectivenessReview {
    fn from(e: EffectivenessEntry) -> Self {
        m::EffectivenessReview {
            planned_on: day(e.planned_on),
            checked_on: day(e.checked_on),
            checked_by: text(e.checked_by),
            effective: e.effective,
            note: text(e.note),
            evidence: e.evidence,
        }
    }
}

impl From<NonconformityEntry> for m::Nonconformity {
    fn from(n: NonconformityEntry) -> Self {
        m::Nonconformity {
            id: n.id.value,
            description: n.description,
            raised_on: day(n.raised_on),
            source: match n.source {
                NcSourceKey::InternalAudit => m::NcSource::InternalAudit,
                NcSourceKey::ExternalAudit => m::NcSource::ExternalAudit,
                NcSourceKey::ManagementReview => m::NcSource::ManagementReview,
                NcSourceKey::Complaint => m::NcSource::Complaint,
                NcSourceKey::Incident => m::NcSource::Incident,
                NcSourceKey::Monitoring => m::NcSource::Monitoring,
                NcSourceKey::Other => m::NcSource::Other,
            },
            source_ref: text(n.source_ref),
            clauses: n.clauses.into_iter().map(|c| c.0).collect(),
            grade: n.grade.map(Into::into),
            correction: text(n.correction),
            root_cause: text(n.root_cause),
            actions: n
                .actions
                .into_iter()
                .map(|a| m::CorrectiveAction {
                    id: a.id.value,
                    description: a.description,
                    owner: text(a.owner),
                    due: day(a.due),
                    implemented_on: day(a.implemented_on),
                    evidence: a.evidence,
                })
                .collect(),
            effectiveness: n.effectiveness.map(Into::into),
            earlier_checks: n.earlier_checks.into_iter().map(Into::into).collect(),
            closed_on: day(n.closed_on),
            process: text(n.process),
            owner: text(n.owner),
            due: day(n.due),
            root_cause_method: n.root_cause_method.map(|m| match m {
                RootCauseMethodKey::FiveWhys => m::RootCauseMethod::FiveWhys,
                RootCauseMethodKey::Fishbone => m::RootCauseMethod::Fishbone,
                RootCauseMethodKey::Other => m::RootCauseMethod::Other,
            }),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// continuity.yaml, capacity.yaml

/// Service continuity and availability plans, with their tests.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ContinuityFile {
    /// The plans.
    #[serde(default, deserialize_with = "or_empty")]
    pub plans: Vec<ContinuityPlanEntry>,
}

/// One continuity or availability plan.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ContinuityPlanEntry {
    /// Id.
    #[schemars(with = "String")]
    pub id: Id,
    /// Title.
    pub title: String,
    /// continuity (default) or availability.
    #[serde(default)]
    pub kind: PlanKindKey,
    /// Ids of the services it covers.
    #[serde(default, deserialize_with = "or_empty")]
    pub services: Vec<String>,
    /// Id of the plan in documents.csv.
    #[serde(default)]
    pub document: Option<String>,
    /// When it was last reviewed.
    #[serde(default)]
    pub last_reviewed_on: Option<Day>,
    /// Its own review interval, if it sets one.
    #[serde(default)]
    pub review_interval: Option<Period>,
    /// The recovery time objective agreed with customers, e.g. "4 hours".
    #[serde(default)]
    pub rto: Option<String>,
    /// The recovery point objective agreed with customers, e.g. "15 minutes".
    #[serde(default)]
    pub rpo: Option<String>,
    /// Tests and exercises of the plan.
    #[serde(default, deserialize_with = "or_empty")]
    pub tests: Vec<ContinuityTestEntry>,
}

/// Whether a plan is about continuity or availability.
#[derive(Clone, Copy, Debug, Default, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum PlanKindKey {
    /// Recovering after a major loss of service.
    #[default]
    Continuity,
    /// Meeting availability targets.
    Availability,
}

/// A test of a continuity plan.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ContinuityTestEntry {
    /// Id.
    #[schemars(with = "String")]
    pub id: Id,
    /// When it was held.
    pub held_on: Day,
    /// passed, partial or failed.
    pub result: TestResultKey,
    /// Actions raised on what did not work.
    #[serde(default, deserialize_with = "or_empty")]
    pub actions: Vec<String>,
}

/// The outcome of a test.
#[derive(Clone, Copy, Debug, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum TestResultKey {
    /// Met its objectives.
    Passed,
    /// Missed some objectives.
    Partial,
    /// Did not work.
    Failed,
}

impl From<ContinuityPlanEntry> for m::ContinuityPlan {
    fn from(p: ContinuityPlanEntry) -> Self {
        m::ContinuityPlan {
            id: p.id.value,
            title: p.title,
            kind: match p.kind {
                PlanKindKey::Continuity => m::PlanKind::Continuity,
                PlanKindKey::Availability => m::PlanKind::Availability,
            },
            services: p.services,
            document: text(p.document),
            last_reviewed_on: day(p.last_reviewed_on),
            review_interval: period(p.review_interval),
            rto: text(p.rto),
            rpo: text(p.rpo),
            tests: p
                .tests
                .into_iter()
                .map(|t| m::ContinuityTest {
                    id: t.id.value,
                    held_on: t.held_on.0,
                    result: match t.result {
                        TestResultKey::Passed => m::TestResult::Passed,
                        TestResultKey::Partial => m::TestResult::Partial,
                        TestResultKey::Failed => m::TestResult::Failed,
                    },
                    actions: t.actions,
                })
                .collect(),
        }
    }
}

/// Capacity plans.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CapacityFile {
    /// The plans.
    #[serde(default, deserialize_with = "or_empty")]
    pub plans: Vec<CapacityPlanEntry>,
}

/// One capacity plan.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CapacityPlanEntry {
    /// Id.
    #[schemars(with = "String")]
    pub id: Id,
    /// Title.
    pub title: String,
    /// Ids of the services it covers.
    #[serde(default, deserialize_with = "or_empty")]
    pub services: Vec<String>,
    /// Id of the plan in documents.csv.
    #[serde(default)]
    pub document: Option<String>,
    /// When it was last reviewed.
    #[serde(default)]
    pub last_reviewed_on: Option<Day>,
    /// Its own review interval, if it sets one.
    #[serde(default)]
    pub review_interval: Option<Period>,
    /// How many months ahead it forecasts demand.
    #[serde(default)]
    pub horizon_months: Option<u32>,
}

impl From<CapacityPlanEntry> for m::CapacityPlan {
    fn from(p: CapacityPlanEntry) -> Self {
        m::CapacityPlan {
            id: p.id.value,
            title: p.title,
            services: p.services,
            document: text(p.document),
            last_reviewed_on: day(p.last_reviewed_on),
            review_interval: period(p.review_interval),
            horizon_months: p.horizon_months,
        }
    }
}

// ---------------------------------------------------------------------------------------------
// customers.yaml

/// Customers, the relationship kept with each, and service complaints.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CustomersFile {
    /// The customers.
    #[serde(default, deserialize_with = "or_empty")]
    pub customers: Vec<CustomerEntry>,
    /// Service complaints.
    #[serde(default, deserialize_with = "or_empty")]
    pub complaints: Vec<ComplaintEntry>,
}

/// One customer.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CustomerEntry {
    /// Id; services name customers by it.
    #[schemars(with = "String")]
    pub id: Id,
    /// Name.
    pub name: String,
    /// Person id of who manages the relationship.
    #[serde(default)]
    pub relationship_owner: Option<String>,
    /// Satisfaction surveys run with the customer.
    #[serde(default, deserialize_with = "or_empty")]
    pub surveys: Vec<SurveyEntry>,
    /// Dates of service review meetings held with the customer.
    #[serde(default, deserialize_with = "or_empty")]
    pub service_reviews: Vec<Day>,
}

/// A satisfaction survey.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SurveyEntry {
    /// When it closed.
    pub on: Day,
    /// The score, on the organisation's own scale.
    #[serde(default)]
    pub score: Option<f64>,
}

/// A service complaint.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ComplaintEntry {
    /// Id.
    #[schemars(with = "String")]
    pub id: Id,
    /// Id of the customer who complained.
    #[serde(default)]
    pub customer: Option<String>,
    /// What the complaint is about.
    pub summary: String,
    /// When it was received.
    #[serde(default)]
    pub received_on: Option<Day>,
    /// What was done about it.
    #[serde(default)]
    pub action: Option<String>,
    /// When it was closed.
    #[serde(default)]
    pub closed_on: Option<Day>,
}

impl From<CustomerEntry> for m::Customer {
    fn from(c: CustomerEntry) -> Self {
        m::Customer {
            id: c.id.value,
            name: c.name,
            relationship_owner: text(c.relationship_owner),
            surveys: c
                .surveys
                .into_iter()
                .map(|s| m::Survey {
                    on: s.on.0,
                    score: s.score,
                })
                .collect(),
            service_reviews: c.service_reviews.into_iter().map(|d| d.0).collect(),
        }
    }
}

impl From<ComplaintEntry> for m::Complaint {
    fn from(c: ComplaintEntry) -> Self {
        m::Complaint {
            id: c.id.value,
            customer: text(c.customer),
            summary: c.summary,
            received_on: day(c.received_on),
            action: text(c.action),
            closed_on: day(c.closed_on),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// checklist.yaml

/// The internal auditor's answers to the knowledge base's checklist questions.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ChecklistFile {
    /// The answers; a later answer to the same question replaces an earlier one.
    #[serde(default, deserialize_with = "or_empty")]
    pub answers: Vec<AnswerEntry>,
}

/// One answer.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AnswerEntry {
    /// The pattern whose question is answered, e.g. F-010 (see `iso20k checklist DIR`).
    pub pattern: PatternId,
    /// yes, partly, no or not-assessed.
    pub answer: AnswerKey,
    /// The record that supports the answer (document id, minutes, interview notes).
    #[serde(default)]
    pub evidence: Option<String>,
    /// A note.
    #[serde(default)]
    pub note: Option<String>,
    /// When it was answered.
    #[serde(default)]
    pub answered_on: Option<Day>,
    /// Person id of who answered.
    #[serde(default)]
    pub answered_by: Option<String>,
}

/// An answer to a checklist question.
#[derive(Clone, Copy, Debug, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum AnswerKey {
    /// Conforms.
    Yes,
    /// Partly conforms.
    Partly,
    /// Does not conform.
    No,
    /// Not looked at yet.
    NotAssessed,
}

impl From<AnswerEntry> for m::ChecklistAnswer {
    fn from(a: AnswerEntry) -> Self {
        m::ChecklistAnswer {
            pattern: a.pattern.0.to_owned(),
            answer: match a.answer {
                AnswerKey::Yes => m::Answer::Yes,
                AnswerKey::Partly => m::Answer::Partly,
                AnswerKey::No => m::Answer::No,
                AnswerKey::NotAssessed => m::Answer::NotAssessed,
            },
            evidence: text(a.evidence),
            note: text(a.note),
            answered_on: day(a.answered_on),
            answered_by: text(a.answered_by),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// CSV registers. Columns are the field names; empty cells are "not recorded".

/// A row of people.csv.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PersonRow {
    /// Id used by every other record (a staff number or e-mail).
    pub id: String,
    /// Full name.
    pub name: String,
    /// Job title or SMS role.
    #[serde(default)]
    pub role: Option<String>,
    /// Organisational unit.
    #[serde(default)]
    pub unit: Option<String>,
    /// Whether the person is in top management.
    #[serde(default)]
    pub top_management: Flag,
    /// The day the person left, if they have.
    #[serde(default)]
    pub left_on: Option<Day>,
}

impl From<PersonRow> for m::Person {
    fn from(p: PersonRow) -> Self {
        m::Person {
            id: p.id,
            name: p.name,
            role: p.role.unwrap_or_default(),
            unit: p.unit.unwrap_or_default(),
            top_management: p.top_management.0,
            left_on: day(p.left_on),
        }
    }
}

/// A row of raci.csv: one person's part in one process (or one activity of it).
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RaciRow {
    /// Process id.
    pub process: String,
    /// Activity within the process; empty for the process as a whole.
    #[serde(default)]
    pub activity: Option<String>,
    /// Person id.
    pub person: String,
    /// R, A, C or I.
    pub raci: RaciKey,
}

/// A RACI letter.
#[derive(Clone, Copy, Debug, Deserialize, Serialize, JsonSchema)]
pub enum RaciKey {
    /// Responsible.
    #[serde(alias = "r")]
    R,
    /// Accountable.
    #[serde(alias = "a")]
    A,
    /// Consulted.
    #[serde(alias = "c")]
    C,
    /// Informed.
    #[serde(alias = "i")]
    I,
}

impl From<RaciRow> for m::RaciEntry {
    fn from(r: RaciRow) -> Self {
        m::RaciEntry {
            process: r.process,
            activity: r.activity.unwrap_or_default(),
            person: r.person,
            raci: match r.raci {
                RaciKey::R => m::Raci::Responsible,
                RaciKey::A => m::Raci::Accountable,
                RaciKey::C => m::Raci::Consulted,
                RaciKey::I => m::Raci::Informed,
            },
        }
    }
}

/// A row of documents.csv: one version of a controlled document.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DocumentRow {
    /// Document number, the same for every version.
    pub id: String,
    /// Version label.
    #[serde(default)]
    pub version: Option<String>,
    /// Title.
    pub title: String,
    /// Document type.
    #[serde(rename = "type")]
    pub kind: Key<DocType>,
    /// Person id of the owner.
    #[serde(default)]
    pub owner: Option<String>,
    /// Person id of who approved this version.
    #[serde(default)]
    pub approver: Option<String>,
    /// When this version was approved.
    #[serde(default)]
    pub approved_on: Option<Day>,
    /// draft, current or obsolete.
    pub status: DocStatusKey,
    /// Its own review interval, if it sets one.
    #[serde(default)]
    pub review_interval: Option<Period>,
    /// When it was last reviewed.
    #[serde(default)]
    pub last_reviewed_on: Option<Day>,
    /// Whether it comes from outside (contract, vendor manual, law).
    #[serde(default)]
    pub external: Flag,
}

/// Lifecycle state of a document version.
#[derive(Clone, Copy, Debug, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum DocStatusKey {
    /// Being written or awaiting approval.
    Draft,
    /// Issued and in use.
    Current,
    /// Withdrawn or superseded.
    Obsolete,
}

impl From<DocumentRow> for m::Document {
    fn from(d: DocumentRow) -> Self {
        m::Document {
            id: d.id,
            version: text(d.version),
            title: d.title,
            kind: d.kind.0,
            owner: text(d.owner),
            approver: text(d.approver),
            approved_on: day(d.approved_on),
            status: match d.status {
                DocStatusKey::Draft => m::DocStatus::Draft,
                DocStatusKey::Current => m::DocStatus::Current,
                DocStatusKey::Obsolete => m::DocStatus::Obsolete,
            },
            review_interval: period(d.review_interval),
            last_reviewed_on: day(d.last_reviewed_on),
            external: d.external.0,
        }
    }
}

/// A row of risks.csv.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RiskRow {
    /// Id.
    pub id: String,
    /// What could happen.
    pub title: String,
    /// Id of the service it threatens.
    #[serde(default)]
    pub service: Option<String>,
    /// Person id of the owner.
    #[serde(default)]
    pub owner: Option<String>,
    /// 1 (rare) to 5 (almost certain).
    #[serde(default)]
    pub likelihood: Option<u8>,
    /// 1 (negligible) to 5 (severe).
    #[serde(default)]
    pub impact: Option<u8>,
    /// How it is treated.
    #[serde(default)]
    pub treatment: Option<String>,
    /// open (default) or closed.
    #[serde(default)]
    pub status: Option<RiskStatusKey>,
    /// When it was last reviewed.
    #[serde(default)]
    pub last_reviewed_on: Option<Day>,
}

/// Whether a risk is still open.
#[derive(Clone, Copy, Debug, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum RiskStatusKey {
    /// Still to be managed.
    Open,
    /// No longer applies.
    Closed,
}

impl From<RiskRow> for m::Risk {
    fn from(r: RiskRow) -> Self {
        m::Risk {
            id: r.id,
            title: r.title,
            service: text(r.service),
            owner: text(r.owner),
            likelihood: r.likelihood,
            impact: r.impact,
            treatment: text(r.treatment),
            open: !matches!(r.status, Some(RiskStatusKey::Closed)),
            last_reviewed_on: day(r.last_reviewed_on),
        }
    }
}

/// A row of improvements.csv.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ImprovementRow {
    /// Id.
    pub id: String,
    /// What is to be improved.
    pub title: String,
    /// When it was raised.
    #[serde(default)]
    pub raised_on: Option<Day>,
    /// Person id of the owner.
    #[serde(default)]
    pub owner: Option<String>,
    /// The measurable outcome aimed for.
    #[serde(default)]
    pub target: Option<String>,
    /// When it is due.
    #[serde(default)]
    pub due: Option<Day>,
    /// Priority.
    #[serde(default)]
    pub priority: Option<String>,
    /// Person id of who approved it.
    #[serde(default)]
    pub approved_by: Option<String>,
    /// When it was completed.
    #[serde(default)]
    pub completed_on: Option<Day>,
    /// The outcome measured after completion.
    #[serde(default)]
    pub outcome: Option<String>,
}

impl From<ImprovementRow> for m::Improvement {
    fn from(i: ImprovementRow) -> Self {
        m::Improvement {
            id: i.id,
            title: i.title,
            raised_on: day(i.raised_on),
            owner: text(i.owner),
            target: text(i.target),
            due: day(i.due),
            priority: text(i.priority),
            approved_by: text(i.approved_by),
            completed_on: day(i.completed_on),
            outcome: text(i.outcome),
        }
    }
}

/// A row of training.csv.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TrainingRow {
    /// Person id.
    pub person: String,
    /// Course or competence.
    pub course: String,
    /// When it was completed.
    #[serde(default)]
    pub completed_on: Option<Day>,
    /// When it stops being valid.
    #[serde(default)]
    pub expires_on: Option<Day>,
    /// Whether its effectiveness was evaluated.
    #[serde(default)]
    pub evaluated: Flag,
}

impl From<TrainingRow> for m::TrainingRecord {
    fn from(t: TrainingRow) -> Self {
        m::TrainingRecord {
            person: t.person,
            course: t.course,
            completed_on: day(t.completed_on),
            expires_on: day(t.expires_on),
            evaluated: t.evaluated.0,
        }
    }
}

// ---------------------------------------------------------------------------------------------
// tickets/*.csv
//
// These types define the ticket tables' columns, their JSON Schemas and the form the server keeps
// tickets in. Ticket files themselves are read by `ticket_reader`, which streams millions of rows
// far faster than serde can, straight into the model; the conversions at the end of this file
// carry a ticket between the model and its row.

/// A row of tickets/incidents.csv.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct IncidentRow {
    /// Ticket number.
    pub id: String,
    /// When it was opened.
    #[serde(default)]
    pub opened_at: Option<Stamp>,
    /// When it was resolved.
    #[serde(default)]
    pub resolved_at: Option<Stamp>,
    /// When it was closed.
    #[serde(default)]
    pub closed_at: Option<Stamp>,
    /// Priority, 1 (highest) to 5.
    #[serde(default)]
    pub priority: Option<u8>,
    /// Whether it was declared a major incident.
    #[serde(default)]
    pub major: Flag,
    /// Category.
    #[serde(default)]
    pub category: Option<String>,
    /// Service id.
    #[serde(default)]
    pub service: Option<String>,
    /// Configuration item id.
    #[serde(default)]
    pub ci: Option<String>,
    /// Problem id raised for it.
    #[serde(default)]
    pub problem: Option<String>,
    /// The resolution or closure code and notes.
    #[serde(default)]
    pub resolution: Option<String>,
    /// Whether the SLA target was met; empty when unknown.
    #[serde(default)]
    pub sla_met: Option<Flag>,
    /// How many times it was reopened after resolution.
    #[serde(default)]
    pub reopen_count: Option<u32>,
    /// For a breached SLA: why it was breached and what was done, as reviewed.
    #[serde(default)]
    pub breach_review: Option<String>,
}

/// A row of tickets/requests.csv.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RequestRow {
    /// Ticket number.
    pub id: String,
    /// When it was opened.
    #[serde(default)]
    pub opened_at: Option<Stamp>,
    /// When it was fulfilled and closed.
    #[serde(default)]
    pub closed_at: Option<Stamp>,
    /// Category or request type.
    #[serde(default)]
    pub category: Option<String>,
    /// Service id.
    #[serde(default)]
    pub service: Option<String>,
    /// Whether the SLA target was met; empty when unknown.
    #[serde(default)]
    pub sla_met: Option<Flag>,
}

/// A row of tickets/problems.csv.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ProblemRow {
    /// Ticket number.
    pub id: String,
    /// When it was opened.
    #[serde(default)]
    pub opened_at: Option<Stamp>,
    /// When it was closed.
    #[serde(default)]
    pub closed_at: Option<Stamp>,
    /// Service id.
    #[serde(default)]
    pub service: Option<String>,
    /// The root cause found.
    #[serde(default)]
    pub root_cause: Option<String>,
    /// Whether a known-error record exists.
    #[serde(default)]
    pub known_error: Flag,
    /// Change id raised to fix it.
    #[serde(default)]
    pub change: Option<String>,
}

/// A row of tickets/changes.csv.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangeRow {
    /// Ticket number.
    pub id: String,
    /// standard, normal (default) or emergency.
    #[serde(default, rename = "type")]
    pub kind: Option<ChangeTypeKey>,
    /// Service id.
    #[serde(default)]
    pub service: Option<String>,
    /// When it was requested.
    #[serde(default)]
    pub requested_at: Option<Stamp>,
    /// When it was approved.
    #[serde(default)]
    pub approved_at: Option<Stamp>,
    /// Who approved it.
    #[serde(default)]
    pub approver: Option<String>,
    /// When it was implemented.
    #[serde(default)]
    pub implemented_at: Option<Stamp>,
    /// The risk assessment.
    #[serde(default)]
    pub risk: Option<String>,
    /// Whether a back-out plan was recorded.
    #[serde(default)]
    pub backout_plan: Flag,
    /// Whether a test plan was recorded.
    #[serde(default)]
    pub test_plan: Flag,
    /// When the post-implementation review was done.
    #[serde(default)]
    pub reviewed_on: Option<Day>,
    /// Whether it succeeded; empty while unknown.
    #[serde(default)]
    pub successful: Option<Flag>,
}

/// How a change is authorised.
#[derive(Clone, Copy, Debug, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum ChangeTypeKey {
    /// Pre-authorised.
    Standard,
    /// Approved before it is made.
    Normal,
    /// Made urgently, reviewed afterwards.
    Emergency,
}

/// A row of tickets/releases.csv.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ReleaseRow {
    /// Id.
    pub id: String,
    /// Change id authorising it.
    #[serde(default)]
    pub change: Option<String>,
    /// Service id.
    #[serde(default)]
    pub service: Option<String>,
    /// When it was deployed.
    #[serde(default)]
    pub deployed_at: Option<Stamp>,
    /// Whether test evidence was recorded.
    #[serde(default)]
    pub tested: Flag,
}

/// A row of tickets/cis.csv.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CiRow {
    /// Id.
    pub id: String,
    /// Name.
    pub name: String,
    /// Type, e.g. server, application, database.
    #[serde(default, rename = "type")]
    pub kind: Option<String>,
    /// Owner (person id or group).
    #[serde(default)]
    pub owner: Option<String>,
    /// Service id it supports.
    #[serde(default)]
    pub service: Option<String>,
    /// When the record was last verified against reality.
    #[serde(default)]
    pub last_verified_on: Option<Day>,
}

// ---------------------------------------------------------------------------------------------
// Tickets between the model and their rows. Text is trimmed and empty text is "not recorded",
// as in the ticket reader, so a ticket means the same whichever way it arrived.

fn stamp(s: Option<Stamp>) -> Option<iso20k_core::DateTime> {
    s.map(|s| s.0)
}

fn flag(f: Option<Flag>) -> Option<bool> {
    f.map(|f| f.0)
}

fn id(s: String) -> String {
    match s.trim() {
        t if t.len() == s.len() => s,
        t => t.to_owned(),
    }
}

impl From<IncidentRow> for m::Incident {
    fn from(r: IncidentRow) -> Self {
        m::Incident {
            id: id(r.id),
            opened_at: stamp(r.opened_at),
            resolved_at: stamp(r.resolved_at),
            closed_at: stamp(r.closed_at),
            priority: r.priority,
            major: r.major.0,
            category: text(r.category),
            service: text(r.service),
            ci: text(r.ci),
            problem: text(r.problem),
            resolution: text(r.resolution),
            sla_met: flag(r.sla_met),
            reopen_count: r.reopen_count.unwrap_or(0),
            breach_review: text(r.breach_review),
        }
    }
}

impl From<&m::Incident> for IncidentRow {
    fn from(i: &m::Incident) -> Self {
        IncidentRow {
            id: i.id.clone(),
            opened_at: i.opened_at.map(Stamp),
            resolved_at: i.resolved_at.map(Stamp),
            closed_at: i.closed_at.map(Stamp),
            priority: i.priority,
            major: Flag(i.major),
            category: i.category.clone(),
            service: i.service.clone(),
            ci: i.ci.clone(),
            problem: i.problem.clone(),
            resolution: i.resolution.clone(),
            sla_met: i.sla_met.map(Flag),
            reopen_count: Some(i.reopen_count),
            breach_review: i.breach_review.clone(),
        }
    }
}

impl From<RequestRow> for m::ServiceRequest {
    fn from(r: RequestRow) -> Self {
        m::ServiceRequest {
            id: id(r.id),
            opened_at: stamp(r.opened_at),
            closed_at: stamp(r.closed_at),
            category: text(r.category),
            service: text(r.service),
            sla_met: flag(r.sla_met),
        }
    }
}

impl From<&m::ServiceRequest> for RequestRow {
    fn from(r: &m::ServiceRequest) -> Self {
        RequestRow {
            id: r.id.clone(),
            opened_at: r.opened_at.map(Stamp),
            closed_at: r.closed_at.map(Stamp),
            category: r.category.clone(),
            service: r.service.clone(),
            sla_met: r.sla_met.map(Flag),
        }
    }
}

impl From<ProblemRow> for m::Problem {
    fn from(r: ProblemRow) -> Self {
        m::Problem {
            id: id(r.id),
            opened_at: stamp(r.opened_at),
            closed_at: stamp(r.closed_at),
            service: text(r.service),
            root_cause: text(r.root_cause),
            known_error: r.known_error.0,
            change: text(r.change),
        }
    }
}

impl From<&m::Problem> for ProblemRow {
    fn from(p: &m::Problem) -> Self {
        ProblemRow {
            id: p.id.clone(),
            opened_at: p.opened_at.map(Stamp),
            closed_at: p.closed_at.map(Stamp),
            service: p.service.clone(),
            root_cause: p.root_cause.clone(),
            known_error: Flag(p.known_error),
            change: p.change.clone(),
        }
    }
}

impl From<ChangeRow> for m::Change {
    fn from(r: ChangeRow) -> Self {
        m::Change {
            id: id(r.id),
            kind: match r.kind {
                None | Some(ChangeTypeKey::Normal) => m::ChangeType::Normal,
                Some(ChangeTypeKey::Standard) => m::ChangeType::Standard,
                Some(ChangeTypeKey::Emergency) => m::ChangeType::Emergency,
            },
            service: text(r.service),
            requested_at: stamp(r.requested_at),
            approved_at: stamp(r.approved_at),
            approver: text(r.approver),
            implemented_at: stamp(r.implemented_at),
            risk: text(r.risk),
            backout_plan: r.backout_plan.0,
            test_plan: r.test_plan.0,
            reviewed_on: day(r.reviewed_on),
            successful: flag(r.successful),
        }
    }
}

impl From<&m::Change> for ChangeRow {
    fn from(c: &m::Change) -> Self {
        ChangeRow {
            id: c.id.clone(),
            kind: Some(match c.kind {
                m::ChangeType::Standard => ChangeTypeKey::Standard,
                m::ChangeType::Normal => ChangeTypeKey::Normal,
                m::ChangeType::Emergency => ChangeTypeKey::Emergency,
            }),
            service: c.service.clone(),
            requested_at: c.requested_at.map(Stamp),
            approved_at: c.approved_at.map(Stamp),
            approver: c.approver.clone(),
            implemented_at: c.implemented_at.map(Stamp),
            risk: c.risk.clone(),
            backout_plan: Flag(c.backout_plan),
            test_plan: Flag(c.test_plan),
            reviewed_on: c.reviewed_on.map(Day),
            successful: c.successful.map(Flag),
        }
    }
}

impl From<ReleaseRow> for m::Release {
    fn from(r: ReleaseRow) -> Self {
        m::Release {
            id: id(r.id),
            change: text(r.change),
            service: text(r.service),
            deployed_at: stamp(r.deployed_at),
            tested: r.tested.0,
        }
    }
}

impl From<&m::Release> for ReleaseRow {
    fn from(r: &m::Release) -> Self {
        ReleaseRow {
            id: r.id.clone(),
            change: r.change.clone(),
            service: r.service.clone(),
            deployed_at: r.deployed_at.map(Stamp),
            tested: Flag(r.tested),
        }
    }
}

impl From<CiRow> for m::ConfigurationItem {
    fn from(r: CiRow) -> Self {
        m::ConfigurationItem {
            id: id(r.id),
            name: r.name.trim().to_owned(),
            kind: text(r.kind),
            owner: text(r.owner),
            service: text(r.service),
            last_verified_on: day(r.last_verified_on),
        }
    }
}

impl From<&m::ConfigurationItem> for CiRow {
    fn from(c: &m::ConfigurationItem) -> Self {
        CiRow {
            id: c.id.clone(),
            name: c.name.clone(),
            kind: c.kind.clone(),
            owner: c.owner.clone(),
            service: c.service.clone(),
            last_verified_on: c.last_verified_on.map(Day),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// plan.yaml

/// The action plan: what was decided about each finding (who fixes it, by when, where it
/// stands). Findings without an entry get the defaults `iso20k check` shows.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PlanFile {
    /// One entry per finding.
    #[serde(default, deserialize_with = "or_empty")]
    pub actions: Vec<PlanItem>,
}

/// What was decided about one finding.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PlanItem {
    /// The finding's stable id as reports show it, e.g. `doc-review-overdue` or
    /// `checklist/F-012`: a check's id, then optionally `/` and what tells its findings apart.
    #[schemars(with = "String")]
    pub finding: Id,
    /// Person id of who fixes it; the default owner when left out.
    #[serde(default)]
    pub owner: Option<String>,
    /// When it is to be fixed by; the grade's deadline when left out.
    #[serde(default)]
    pub due: Option<Day>,
    /// open (default), in-progress, done or risk-accepted.
    #[serde(default)]
    pub status: PlanStatusKey,
    /// Why the risk is accepted; required for risk-accepted.
    #[serde(default)]
    pub reason: Option<String>,
    /// Person id of the top-management member who accepted the risk; required for
    /// risk-accepted.
    #[serde(default)]
    pub approved_by: Option<String>,
    /// Notes on progress, oldest first.
    #[serde(default, deserialize_with = "or_empty")]
    pub comments: Vec<PlanCommentEntry>,
}

/// A note on an action's progress.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PlanCommentEntry {
    /// When it was written.
    #[serde(default)]
    pub on: Option<Day>,
    /// Person id of who wrote it.
    #[serde(default)]
    pub by: Option<String>,
    /// What it says.
    pub text: String,
}

/// Where an action stands.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum PlanStatusKey {
    /// Nobody has started on it.
    #[default]
    Open,
    /// Being worked on.
    InProgress,
    /// Fixed, as far as its owner knows; reports say so if the finding still fires.
    Done,
    /// Top management decided to live with it: give the reason and who approved it.
    RiskAccepted,
}

impl PlanStatusKey {
    /// The model's status.
    pub fn status(self) -> m::PlanStatus {
        match self {
            PlanStatusKey::Open => m::PlanStatus::Open,
            PlanStatusKey::InProgress => m::PlanStatus::InProgress,
            PlanStatusKey::Done => m::PlanStatus::Done,
            PlanStatusKey::RiskAccepted => m::PlanStatus::RiskAccepted,
        }
    }

    /// The file's key for the model's status.
    pub fn of(status: m::PlanStatus) -> PlanStatusKey {
        match status {
            m::PlanStatus::Open => PlanStatusKey::Open,
            m::PlanStatus::InProgress => PlanStatusKey::InProgress,
            m::PlanStatus::Done => PlanStatusKey::Done,
            m::PlanStatus::RiskAccepted => PlanStatusKey::RiskAccepted,
        }
    }
}

impl PlanItem {
    /// What is wrong with the entry on its own, by field: a finding id that names no check,
    /// or a risk accepted without a reason or an approver.
    pub fn problems(&self) -> Vec<(&'static str, String)> {
        let mut out = Vec::new();
        let id = self.finding.value.trim();
        if !id.is_empty()
            && let Err(e) = iso20k_core::plan::check_finding_id(id)
        {
            out.push(("finding", e));
        }
        if self.status == PlanStatusKey::RiskAccepted {
            let blank = |s: &Option<String>| s.as_deref().is_none_or(|s| s.trim().is_empty());
            if blank(&self.reason) {
                out.push((
                    "reason",
                    "required when the status is risk-accepted: say why the risk is accepted"
                        .to_owned(),
                ));
            }
            if blank(&self.approved_by) {
                out.push((
                    "approved_by",
                    "required when the status is risk-accepted: the person id of the \
                     top-management member who accepted it"
                        .to_owned(),
                ));
            }
        }
        out
    }
}

impl From<PlanItem> for m::PlanEntry {
    fn from(p: PlanItem) -> Self {
        m::PlanEntry {
            finding: p.finding.value.trim().to_owned(),
            owner: text(p.owner),
            due: day(p.due),
            status: p.status.status(),
            reason: text(p.reason),
            approved_by: text(p.approved_by),
            comments: p
                .comments
                .into_iter()
                .map(|c| m::PlanComment {
                    on: day(c.on),
                    by: text(c.by),
                    text: c.text,
                })
                .collect(),
        }
    }
}
