//! References between records: every field of the model that names another record by its id,
//! the register that id must be found in, and the clauses the reference is there to satisfy.
//!
//! The reader accepts references that do not resolve (see the bundle format). They are never
//! evidence: a check that asks for an owner, an approver or a linked ticket treats a dangling
//! id as absent, and `reference-unresolved` reports each one under its field's clauses.

use std::collections::HashSet;

use crate::checks::RecordKind;
use crate::model::Sms;

/// The kind of record a reference names.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Target {
    /// Someone in `people.csv`, by id.
    Person,
    /// A process in `processes.yaml`.
    Process,
    /// A service in `services.yaml`, by id or by name (exports use either).
    Service,
    /// A customer in `customers.yaml`.
    Customer,
    /// A supplier in `suppliers.yaml`.
    Supplier,
    /// A document in `documents.csv`, by its document id (any version).
    Document,
    /// An action raised by a management review.
    ReviewAction,
    /// A nonconformity in `nonconformities.yaml`.
    Nonconformity,
    /// A problem in `tickets/problems.csv`.
    Problem,
    /// A change in `tickets/changes.csv`.
    Change,
    /// A configuration item in `tickets/cis.csv`.
    ConfigurationItem,
}

impl Target {
    /// What the reference names, in a word or two.
    pub fn noun(self) -> &'static str {
        match self {
            Target::Person => "person",
            Target::Process => "process",
            Target::Service => "service",
            Target::Customer => "customer",
            Target::Supplier => "supplier",
            Target::Document => "document",
            Target::ReviewAction => "review action",
            Target::Nonconformity => "nonconformity",
            Target::Problem => "problem",
            Target::Change => "change",
            Target::ConfigurationItem => "configuration item",
        }
    }

    /// The register the id must be found in.
    pub fn register(self) -> &'static str {
        match self {
            Target::Person => "people register",
            Target::Process => "process register",
            Target::Service => "service catalogue",
            Target::Customer => "customer register",
            Target::Supplier => "supplier register",
            Target::Document => "document register",
            Target::ReviewAction => "management reviews' actions",
            Target::Nonconformity => "nonconformity register",
            Target::Problem => "problem table",
            Target::Change => "change table",
            Target::ConfigurationItem => "configuration item table",
        }
    }
}

/// What a visit reports for each value: the record's id, the id of the item inside it holding
/// the field (an action of a review), if any, and the value.
type Sink<'a> = dyn FnMut(&str, Option<&str>, &str) + 'a;

/// Calls the sink for every value a field holds in the records.
type Visit = fn(&Sms, &mut Sink<'_>);

/// A field that names another record.
pub struct RefField {
    /// The kind of record (the bundle file) holding the field.
    pub kind: RecordKind,
    /// The field's path in the bundle, e.g. `approved_by` or `actions.owner`.
    pub field: &'static str,
    /// What it must name.
    pub target: Target,
    /// Whether it holds a list of ids rather than one.
    pub many: bool,
    /// The 2018 clauses the reference is there to satisfy.
    pub clauses_2018: &'static [&'static str],
    /// The 2011 clauses the reference is there to satisfy.
    pub clauses_2011: &'static [&'static str],
    /// Another check that already reports every unresolved value of this field under the same
    /// clause; `reference-unresolved` leaves the field to it rather than say it twice.
    pub reported_by: Option<&'static str>,
    visit: Visit,
}

impl std::fmt::Debug for RefField {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}", self.kind.as_str(), self.field)
    }
}

impl RefField {
    /// The clauses in one edition.
    pub fn clauses(&self, edition: crate::Edition) -> &'static [&'static str] {
        match edition {
            crate::Edition::Y2011 => self.clauses_2011,
            crate::Edition::Y2018 => self.clauses_2018,
        }
    }

    /// Calls `f(record id, item id, value)` for every non-empty value the field holds in
    /// `sms`. The record is the one a report points at (a review, an audit); the item, for a
    /// field inside a list of the record (`actions.owner`), names the entry holding it.
    pub fn each(&self, sms: &Sms, f: &mut Sink<'_>) {
        (self.visit)(sms, &mut |id, item, v| {
            if !v.is_empty() {
                f(id, item, v)
            }
        });
    }
}

fn one(f: &mut Sink<'_>, id: &str, v: &Option<String>) {
    if let Some(v) = v {
        f(id, None, v);
    }
}

fn all(f: &mut Sink<'_>, id: &str, vs: &[String]) {
    for v in vs {
        f(id, None, v);
    }
}

fn inner(f: &mut Sink<'_>, id: &str, item: &str, v: &Option<String>) {
    if let Some(v) = v {
        f(id, Some(item), v);
    }
}

/// The id findings use for the policy: its document, else `policy`.
pub fn policy_id(sms: &Sms) -> &str {
    sms.policy
        .as_ref()
        .and_then(|p| p.document.as_deref())
        .unwrap_or("policy")
}

macro_rules! fields {
    ($($kind:ident $field:literal -> $target:ident $(($many:ident))? [$($c18:literal),*] [$($c11:literal),*] $(by $by:literal)? : $visit:expr;)*) => {
        /// Every field of the model that names another record.
        pub static FIELDS: &[RefField] = &[$(RefField {
            kind: RecordKind::$kind,
            field: $field,
            target: Target::$target,
            many: fields!(@many $($many)?),
            clauses_2018: &[$($c18),*],
            clauses_2011: &[$($c11),*],
            reported_by: fields!(@by $($by)?),
            visit: $visit,
        },)*];
    };
    (@many) => { false };
    (@many many) => { true };
    (@by) => { None };
    (@by $by:literal) => { Some($by) };
}

fields! {
    Organisation "sms_owner" -> Person ["5.3"] ["4.1.4"]:
        |s, f| one(f, "organisation", &s.organisation.sms_owner);
    Policy "approved_by" -> Person ["5.2.1"] ["4.1.2"]:
        |s, f| if let Some(p) = &s.policy { one(f, policy_id(s), &p.approved_by) };
    Policy "document" -> Document ["5.2.1"] ["4.1.2"]:
        |s, f| if let Some(p) = &s.policy { one(f, policy_id(s), &p.document) };
    Objective "owner" -> Person ["6.2.1"] ["4.1.1"]:
        |s, f| for o in &s.objectives { one(f, &o.id, &o.owner) };
    Process "owner" -> Person ["5.3"] ["4.1.3"]:
        |s, f| for p in &s.processes { one(f, &p.id, &p.owner) };
    Process "operated_by" -> Supplier ["8.2.3"] ["4.2"]:
        |s, f| for p in &s.processes { one(f, &p.id, &p.operated_by) };
    Process "document" -> Document ["7.5.2"] ["4.3.2"]:
        |s, f| for p in &s.processes { one(f, &p.id, &p.document) };
    Raci "process" -> Process ["5.3"] ["4.1.3"]:
        |s, f| for e in &s.raci { f(&e.process, None, &e.process) };
    Raci "person" -> Person ["5.3"] ["4.1.3"] by "raci-unknown-person":
        |s, f| for e in &s.raci { f(&e.process, None, &e.person) };
    ManagementReview "attendees" -> Person (many) ["9.3"] ["4.5.4.3"]:
        |s, f| for r in &s.management_reviews { all(f, &r.id, &r.attendees) };
    ManagementReview "minutes" -> Document ["9.3"] ["4.5.4.3"]:
        |s, f| for r in &s.management_reviews { one(f, &r.id, &r.minutes) };
    ManagementReview "actions.owner" -> Person ["9.3"] ["4.5.4.3"]:
        |s, f| for r in &s.management_reviews {
            for a in &r.actions { inner(f, &r.id, &a.id, &a.owner) }
        };
    ManagementReview "followed_up" -> ReviewAction (many) ["9.3"] ["4.5.4.3"]:
        |s, f| for r in &s.management_reviews { all(f, &r.id, &r.followed_up) };
    Document "owner" -> Person ["7.5.2"] ["4.3.2"]:
        |s, f| for d in &s.documents { inner(f, &d.id, &d.label(), &d.owner) };
    Document "approver" -> Person ["7.5.2"] ["4.3.2"]:
        |s, f| for d in &s.documents { inner(f, &d.id, &d.label(), &d.approver) };
    Service "owner" -> Person ["8.2.4"] ["6.1"]:
        |s, f| for v in &s.services { one(f, &v.id, &v.owner) };
    Service "customers" -> Customer (many) ["8.3.2"] ["7.1"] by "customer-no-relationship-owner":
        |s, f| for v in &s.services { all(f, &v.id, &v.customers) };
    Service "depends_on" -> Service (many) ["8.2.4"] ["6.1"]:
        |s, f| for v in &s.services { all(f, &v.id, &v.depends_on) };
    Service "transition_plan" -> Document ["8.5.2.1"] ["5.2"]:
        |s, f| for v in &s.services { one(f, &v.id, &v.transition_plan) };
    Sla "service" -> Service ["8.3.3"] ["6.1"] by "service-not-in-catalogue":
        |s, f| for a in &s.slas { f(&a.id, None, &a.service) };
    Sla "document" -> Document ["8.3.3"] ["6.1"]:
        |s, f| for a in &s.slas { one(f, &a.id, &a.document) };
    Supplier "services" -> Service (many) ["8.3.4.1"] ["7.2"]:
        |s, f| for x in &s.suppliers { all(f, &x.id, &x.services) };
    Supplier "contract_manager" -> Person ["8.3.4.1"] ["7.2"]:
        |s, f| for x in &s.suppliers { one(f, &x.id, &x.contract_manager) };
    Supplier "contracts.document" -> Document ["8.3.4.1"] ["7.2"]:
        |s, f| for x in &s.suppliers {
            for c in &x.contracts { inner(f, &x.id, &c.id, &c.document) }
        };
    Risk "owner" -> Person ["6.1"] ["4.5.2"]:
        |s, f| for r in &s.risks { one(f, &r.id, &r.owner) };
    Risk "service" -> Service ["6.1"] ["4.5.2"]:
        |s, f| for r in &s.risks { one(f, &r.id, &r.service) };
    InternalAudit "processes" -> Process (many) ["9.2"] ["4.5.4.2"]:
        |s, f| for a in &s.audits { all(f, &a.id, &a.processes) };
    InternalAudit "report" -> Document ["9.2"] ["4.5.4.2"]:
        |s, f| for a in &s.audits { one(f, &a.id, &a.report) };
    InternalAudit "findings.nonconformity" -> Nonconformity ["9.2"] ["4.5.4.2"]:
        |s, f| for a in &s.audits {
            for x in &a.findings { inner(f, &a.id, &x.id, &x.nonconformity) }
        };
    InternalAudit "services" -> Service (many) ["9.2"] ["4.5.4.2"]:
        |s, f| for a in &s.audits { all(f, &a.id, &a.services) };
    InternalAudit "findings.process" -> Process ["9.2"] ["4.5.4.2"]:
        |s, f| for a in &s.audits {
            for x in &a.findings { inner(f, &a.id, &x.id, &x.process) }
        };
    Nonconformity "process" -> Process ["10.1"] ["4.5.5.1"]:
        |s, f| for n in &s.nonconformities { one(f, &n.id, &n.process) };
    Nonconformity "owner" -> Person ["10.1"] ["4.5.5.1"]:
        |s, f| for n in &s.nonconformities { one(f, &n.id, &n.owner) };
    Nonconformity "actions.owner" -> Person ["10.1"] ["4.5.5.1"]:
        |s, f| for n in &s.nonconformities {
            for a in &n.actions { inner(f, &n.id, &a.id, &a.owner) }
        };
    Nonconformity "effectiveness.checked_by" -> Person ["10.1"] ["4.5.5.1"]:
        |s, f| for n in &s.nonconformities {
            if let Some(e) = &n.effectiveness { one(f, &n.id, &e.checked_by) }
        };
    Improvement "owner" -> Person ["10.2"] ["4.5.5.2"]:
        |s, f| for i in &s.improvements { one(f, &i.id, &i.owner) };
    Improvement "approved_by" -> Person ["10.2"] ["4.5.5.2"]:
        |s, f| for i in &s.improvements { one(f, &i.id, &i.approved_by) };
    ContinuityPlan "services" -> Service (many) ["8.7.2"] ["6.3.2"]:
        |s, f| for p in &s.continuity_plans { all(f, &p.id, &p.services) };
    ContinuityPlan "document" -> Document ["8.7.2"] ["6.3.2"]:
        |s, f| for p in &s.continuity_plans { one(f, &p.id, &p.document) };
    CapacityPlan "services" -> Service (many) ["8.4.3"] ["6.5"]:
        |s, f| for p in &s.capacity_plans { all(f, &p.id, &p.services) };
    CapacityPlan "document" -> Document ["8.4.3"] ["6.5"]:
        |s, f| for p in &s.capacity_plans { one(f, &p.id, &p.document) };
    Training "person" -> Person ["7.2"] ["4.4.2"]:
        |s, f| for t in &s.training { f(&format!("{}: {}", t.person, t.course), None, &t.person) };
    Customer "relationship_owner" -> Person ["8.3.2"] ["7.1"]:
        |s, f| for c in &s.customers { one(f, &c.id, &c.relationship_owner) };
    Complaint "customer" -> Customer ["8.3.2"] ["7.1"]:
        |s, f| for c in &s.complaints { one(f, &c.id, &c.customer) };
    Incident "problem" -> Problem ["8.6.1"] ["8.1"]:
        |s, f| for i in &s.tickets.incidents { one(f, &i.id, &i.problem) };
    Incident "ci" -> ConfigurationItem ["8.6.1"] ["8.1"]:
        |s, f| for i in &s.tickets.incidents { one(f, &i.id, &i.ci) };
    Incident "service" -> Service ["8.6.1"] ["8.1"] by "service-not-in-catalogue":
        |s, f| for i in &s.tickets.incidents { one(f, &i.id, &i.service) };
    ServiceRequest "service" -> Service ["8.6.2"] ["8.1"]:
        |s, f| for r in &s.tickets.requests { one(f, &r.id, &r.service) };
    Problem "change" -> Change ["8.6.3"] ["8.2"]:
        |s, f| for p in &s.tickets.problems { one(f, &p.id, &p.change) };
    Problem "service" -> Service ["8.6.3"] ["8.2"] by "service-not-in-catalogue":
        |s, f| for p in &s.tickets.problems { one(f, &p.id, &p.service) };
    Change "service" -> Service ["8.5.1.3"] ["9.2"] by "service-not-in-catalogue":
        |s, f| for c in &s.tickets.changes { one(f, &c.id, &c.service) };
    Release "change" -> Change ["8.5.3"] ["9.3"]:
        |s, f| for r in &s.tickets.releases { one(f, &r.id, &r.change) };
    Release "service" -> Service ["8.5.3"] ["9.3"] by "service-not-in-catalogue":
        |s, f| for r in &s.tickets.releases { one(f, &r.id, &r.service) };
    ConfigurationItem "service" -> Service ["8.2.6"] ["9.1"] by "service-not-in-catalogue":
        |s, f| for c in &s.tickets.cis { one(f, &c.id, &c.service) };
}

/// The reference field of a kind of record, by its path.
pub fn field(kind: RecordKind, path: &str) -> Option<&'static RefField> {
    FIELDS.iter().find(|f| f.kind == kind && f.field == path)
}

/// The ids of every register a reference can name, gathered once so that resolving is a
/// lookup however large the ticket tables are.
pub struct Index<'a> {
    people: HashSet<&'a str>,
    processes: HashSet<&'a str>,
    services: HashSet<&'a str>,
    customers: HashSet<&'a str>,
    suppliers: HashSet<&'a str>,
    documents: HashSet<&'a str>,
    review_actions: HashSet<&'a str>,
    nonconformities: HashSet<&'a str>,
    problems: HashSet<&'a str>,
    changes: HashSet<&'a str>,
    cis: HashSet<&'a str>,
}

impl<'a> Index<'a> {
    /// Gathers the ids of `sms`.
    pub fn new(sms: &'a Sms) -> Self {
        fn ids<'a, T: 'a>(rows: &'a [T], id: impl Fn(&'a T) -> &'a str) -> HashSet<&'a str> {
            rows.iter().map(id).collect()
        }
        let t = &sms.tickets;
        Index {
            people: ids(&sms.people, |p| &p.id),
            processes: ids(&sms.processes, |p| &p.id),
            services: sms
                .services
                .iter()
                .flat_map(|s| [s.id.as_str(), s.name.as_str()])
                .collect(),
            customers: ids(&sms.customers, |c| &c.id),
            suppliers: ids(&sms.suppliers, |s| &s.id),
            documents: ids(&sms.documents, |d| &d.id),
            review_actions: sms
                .management_reviews
                .iter()
                .flat_map(|r| &r.actions)
                .map(|a| a.id.as_str())
                .collect(),
            nonconformities: ids(&sms.nonconformities, |n| &n.id),
            problems: ids(&t.problems, |p| &p.id),
            changes: ids(&t.changes, |c| &c.id),
            cis: ids(&t.cis, |c| &c.id),
        }
    }

    /// Whether `id` names a record of `target`.
    pub fn has(&self, target: Target, id: &str) -> bool {
        let set = match target {
            Target::Person => &self.people,
            Target::Process => &self.processes,
            Target::Service => &self.services,
            Target::Customer => &self.customers,
            Target::Supplier => &self.suppliers,
            Target::Document => &self.documents,
            Target::ReviewAction => &self.review_actions,
            Target::Nonconformity => &self.nonconformities,
            Target::Problem => &self.problems,
            Target::Change => &self.changes,
            Target::ConfigurationItem => &self.cis,
        };
        set.contains(id)
    }

    /// The reference if it resolves, else `None`: a dangling id counts as no reference.
    pub fn resolved<'v>(&self, target: Target, id: Option<&'v str>) -> Option<&'v str> {
        id.filter(|id| self.has(target, id))
    }
}

/// Whether `id` names a record of `target` in `sms`, for a single lookup (a scan; build an
/// [`Index`] to resolve many).
pub fn resolves(sms: &Sms, target: Target, id: &str) -> bool {
    let t = &sms.tickets;
    match target {
        Target::Person => sms.people.iter().any(|p| p.id == id),
        Target::Process => sms.processes.iter().any(|p| p.id == id),
        Target::Service => sms.services.iter().any(|s| s.id == id || s.name == id),
        Target::Customer => sms.customers.iter().any(|c| c.id == id),
        Target::Supplier => sms.suppliers.iter().any(|s| s.id == id),
        Target::Document => sms.documents.iter().any(|d| d.id == id),
        Target::ReviewAction => sms
            .management_reviews
            .iter()
            .flat_map(|r| &r.actions)
            .any(|a| a.id == id),
        Target::Nonconformity => sms.nonconformities.iter().any(|n| n.id == id),
        Target::Problem => t.problems.iter().any(|p| p.id == id),
        Target::Change => t.changes.iter().any(|c| c.id == id),
        Target::ConfigurationItem => t.cis.iter().any(|c| c.id == id),
    }
}

/// Whether `id` names someone in the people register flagged as top management.
pub fn is_top_management(sms: &Sms, id: &str) -> bool {
    sms.person(id).is_some_and(|p| p.top_management)
}

/// A reference that names no record.
#[derive(Clone, Debug)]
pub struct Dangling {
    /// The field holding it.
    pub field: &'static RefField,
    /// The id of the record holding the field.
    pub record: String,
    /// The entry inside the record holding it (an action of a review), if any.
    pub item: Option<String>,
    /// The id it names.
    pub value: String,
}

/// Every reference in `sms` that names no record, in [`FIELDS`] order.
pub fn unresolved(sms: &Sms) -> Vec<Dangling> {
    let index = Index::new(sms);
    let mut out = Vec::new();
    for field in FIELDS {
        field.each(sms, &mut |record, item, value| {
            if !index.has(field.target, value) {
                out.push(Dangling {
                    field,
                    record: record.to_owned(),
                    item: item.map(str::to_owned),
                    value: value.to_owned(),
                });
            }
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Edition, clause};

    #[test]
    fn every_field_clause_is_a_requirement_of_its_edition() {
        for f in FIELDS {
            assert!(!f.clauses_2018.is_empty(), "{f:?} has no 2018 clause");
            for e in Edition::ALL {
                for id in f.clauses(e) {
                    assert!(
                        clause::find(e, id).is_some_and(|c| c.is_requirement()),
                        "{f:?}: no {e} clause {id}"
                    );
                }
            }
        }
    }

    #[test]
    fn fields_are_listed_once_and_found_by_path() {
        for (i, f) in FIELDS.iter().enumerate() {
            assert!(
                FIELDS[..i]
                    .iter()
                    .all(|g| (g.kind, g.field) != (f.kind, f.field)),
                "{f:?} is listed twice"
            );
            assert!(std::ptr::eq(field(f.kind, f.field).unwrap(), f));
        }
        assert!(field(RecordKind::Policy, "title").is_none());
    }

    #[test]
    fn the_clean_records_resolve() {
        let sms = crate::checks::testing::clean();
        assert!(unresolved(&sms).is_empty(), "{:#?}", unresolved(&sms));
    }

    #[test]
    fn documents_resolve_by_id_across_versions_and_services_by_name() {
        let mut sms = crate::checks::testing::clean();
        let mut v2 = sms.documents[0].clone();
        v2.version = Some("2.0".into());
        sms.documents.push(v2);
        let id = sms.documents[0].id.clone();
        assert!(resolves(&sms, Target::Document, &id));
        assert!(Index::new(&sms).has(Target::Document, &id));
        assert!(resolves(&sms, Target::Service, "Managed e-mail"));
        assert!(!resolves(&sms, Target::Person, "helena"));
        assert!(!Index::new(&sms).has(Target::Person, "helena"));
    }

    #[test]
    fn a_dangling_value_names_its_field_record_and_value() {
        let mut sms = crate::checks::testing::clean();
        sms.policy.as_mut().unwrap().approved_by = Some("helena".into());
        let d = unresolved(&sms);
        assert_eq!(d.len(), 1);
        assert_eq!(d[0].field.field, "approved_by");
        assert_eq!(d[0].record, "DOC-policy");
        assert_eq!(d[0].value, "helena");
    }
}
