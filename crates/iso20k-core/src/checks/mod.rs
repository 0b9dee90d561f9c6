//! The checks: each one reads the records the way an auditor samples them and reports one
//! failure pattern of the knowledge base.
//!
//! A check is one `static` [`Check`] with its id, pattern, clauses, documentation and
//! `evaluate` function, followed by its tests in the same file, and listed once in [`ALL`].
//! Checks grade what they find the way certification bodies do: an absent process, review or
//! audit, or a gap across much of a register, is major; an isolated gap is minor.

mod changes;
mod competence;
mod configuration;
mod context;
mod continuity;
mod customers;
mod documents;
mod improvement;
mod incidents;
mod internal_audit;
mod management_review;
mod policy;
mod references;
mod roles;
mod services;
mod suppliers;
#[cfg(test)]
pub(crate) mod testing;

use std::fmt;

use crate::interval::{Activity, Interval};
use crate::kb::{self, Grade, Pattern};
use crate::model::Sms;
use crate::{Date, Edition};

/// A check of the records against one failure pattern.
pub struct Check {
    /// Stable id, e.g. `mr-overdue`.
    pub id: &'static str,
    /// The knowledge-base pattern (id) the check detects.
    pub pattern: &'static str,
    /// What the check looks for, in one line.
    pub title: &'static str,
    /// The 2018 clauses its findings fall under.
    pub clauses_2018: &'static [&'static str],
    /// The 2011 clauses its findings fall under (empty for 2018-only requirements).
    pub clauses_2011: &'static [&'static str],
    /// How the check decides, and how it grades.
    pub doc: &'static str,
    /// What the check examines, which decides whether its clauses count as assessed.
    pub examines: Examines,
    /// Reads the records and reports what it finds.
    pub evaluate: fn(&Context<'_>, &mut Vec<Finding>),
}

/// What a check looks at, so that the score can tell "nothing to look at" from "looked and
/// found nothing".
#[derive(Clone, Copy)]
pub enum Examines {
    /// Whether a required record exists at all (a policy, a review held in its interval): the
    /// answer is evidence either way, so the check's clauses are always assessed.
    Presence,
    /// A population of records, counted by the function: the check's clauses are assessed only
    /// when there is at least one record to look at.
    Records(fn(&Context<'_>) -> usize),
    /// Nothing of its own: the check reads fields other checks judge, so only the clauses its
    /// findings fall under count as assessed.
    Nothing,
}

impl Examines {
    /// How many records the check examines in `cx` (1 for a presence check).
    pub fn population(self, cx: &Context<'_>) -> usize {
        match self {
            Examines::Presence => 1,
            Examines::Records(count) => count(cx),
            Examines::Nothing => 0,
        }
    }
}

impl Check {
    /// The clauses in one edition.
    pub fn clauses(&self, edition: Edition) -> &'static [&'static str] {
        match edition {
            Edition::Y2011 => self.clauses_2011,
            Edition::Y2018 => self.clauses_2018,
        }
    }

    /// The knowledge-base pattern.
    pub fn pattern(&self) -> &'static Pattern {
        kb::find(self.pattern).expect("every check names an existing pattern (tested)")
    }

    /// Reports the records found at fault, out of those examined, as one finding graded by
    /// extent and titled "N of M {what}". Where the records are tickets, `register` names their
    /// table and only a sample is kept as evidence. Nothing is reported when none is at fault.
    pub fn report_extent(
        &'static self,
        out: &mut Vec<Finding>,
        bad: Vec<Evidence>,
        population: usize,
        what: &str,
        register: Option<&str>,
    ) {
        if bad.is_empty() {
            return;
        }
        let n = bad.len();
        let evidence = match register {
            Some(r) => capped(bad, r),
            None => bad,
        };
        out.push(
            self.finding(
                by_extent(n, population),
                format!("{n} of {population} {what}"),
            )
            .counted(n, population)
            .with_all(evidence),
        );
    }

    /// Starts a finding of this check.
    pub fn finding(&'static self, grade: Grade, title: impl Into<String>) -> Finding {
        Finding {
            id: self.id.to_owned(),
            check: self.id,
            pattern: self.pattern(),
            grade,
            title: title.into(),
            evidence: Vec::new(),
            clauses_2018: self.clauses_2018.to_vec(),
            clauses_2011: self.clauses_2011.to_vec(),
            counts: None,
        }
    }
}

impl fmt::Debug for Check {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Check")
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

/// Every check, in the order reports list them when nothing else decides.
pub static ALL: &[&Check] = &[
    &context::SCOPE_INCOMPLETE,
    &context::CONTEXT_NOT_REVIEWED,
    &context::CLIMATE_DECISION_MISSING,
    &context::SMS_PLAN_OUTDATED,
    &context::RISKS_UNTREATED,
    &management_review::MR_OVERDUE,
    &management_review::MR_NO_TOP_MANAGEMENT,
    &management_review::MR_INPUTS_MISSING,
    &management_review::MR_NO_OUTPUTS,
    &management_review::MR_ACTIONS_INCOMPLETE,
    &management_review::MR_ACTIONS_NOT_FOLLOWED,
    &policy::POLICY_MISSING,
    &policy::POLICY_REVIEW_OVERDUE,
    &policy::POLICY_COMMITMENTS_MISSING,
    &policy::POLICY_NOT_COMMUNICATED,
    &policy::OBJECTIVES_NOT_MEASURABLE,
    &policy::OBJECTIVES_NOT_MEASURED,
    &roles::PROCESS_NO_OWNER,
    &roles::RACI_ACCOUNTABLE,
    &roles::RACI_UNKNOWN_PERSON,
    &roles::SMS_OWNER_MISSING,
    &roles::PROCESS_NO_KPI,
    &competence::TRAINING_MISSING,
    &competence::TRAINING_NOT_EVALUATED,
    &documents::DOC_UNCONTROLLED,
    &documents::DOC_REVIEW_OVERDUE,
    &documents::DOC_DUPLICATE_CURRENT,
    &documents::DOC_REQUIRED_MISSING,
    &documents::EXTERNAL_DOC_UNCONTROLLED,
    &services::SERVICE_NO_SLA,
    &services::SLA_NO_NUMERIC_TARGET,
    &services::SLA_REVIEW_OVERDUE,
    &services::SERVICE_NO_OWNER,
    &services::SERVICE_NOT_IN_CATALOGUE,
    &services::SERVICE_NO_TRANSITION_PLAN,
    &services::SERVICE_RETIRED_NO_PLAN,
    &customers::CUSTOMER_NO_RELATIONSHIP_OWNER,
    &customers::CUSTOMER_SATISFACTION_OVERDUE,
    &customers::CUSTOMER_REVIEW_OVERDUE,
    &customers::COMPLAINT_UNRESOLVED,
    &internal_audit::AUDIT_OVERDUE,
    &internal_audit::AUDIT_PROGRAMME_GAPS,
    &internal_audit::AUDITOR_NOT_INDEPENDENT,
    &internal_audit::AUDIT_FINDINGS_OVERDUE,
    &internal_audit::AUDIT_NO_SCOPE,
    &internal_audit::AUDIT_FREQUENCY_NOT_MET,
    &internal_audit::EXTERNAL_FINDING_UNANSWERED,
    &improvement::NC_NO_ROOT_CAUSE,
    &improvement::CA_NO_EFFECTIVENESS_CHECK,
    &improvement::IMPROVEMENT_INCOMPLETE,
    &improvement::NC_RECURRING,
    &improvement::IMPROVEMENT_OUTCOME_MISSING,
    &improvement::NC_RESPONSE_OVERDUE,
    &suppliers::CONTRACT_REVIEW_OVERDUE,
    &suppliers::CONTRACT_EXPIRED,
    &suppliers::SUPPLIER_NO_CONTRACT_MANAGER,
    &suppliers::SUPPLIER_PERFORMANCE_NOT_REVIEWED,
    &suppliers::INTERNAL_SUPPLIER_NO_AGREEMENT,
    &suppliers::OUTSOURCED_PROCESS_UNGOVERNED,
    &continuity::SERVICE_NO_CONTINUITY_PLAN,
    &continuity::CONTINUITY_TEST_OVERDUE,
    &continuity::CONTINUITY_PLAN_REVIEW_OVERDUE,
    &continuity::CONTINUITY_TEST_NOT_ACTIONED,
    &continuity::CONTINUITY_NO_RECOVERY_OBJECTIVES,
    &continuity::CAPACITY_REVIEW_OVERDUE,
    &continuity::CAPACITY_PLAN_NO_FORECAST,
    &incidents::INCIDENT_UNCLASSIFIED,
    &incidents::INCIDENT_CLOSED_WITHOUT_RESOLUTION,
    &incidents::MAJOR_INCIDENT_NO_PROBLEM,
    &incidents::RECURRING_INCIDENTS_NO_PROBLEM,
    &incidents::PROBLEM_NO_ROOT_CAUSE,
    &incidents::PROBLEM_FIX_NO_CHANGE,
    &incidents::KNOWN_ERRORS_MISSING,
    &incidents::SLA_ATTAINMENT_BELOW_TARGET,
    &incidents::BREACHES_NOT_REVIEWED,
    &configuration::CI_INCOMPLETE,
    &configuration::CI_NOT_VERIFIED,
    &changes::CHANGE_NOT_APPROVED,
    &changes::CHANGE_NO_RISK_ASSESSMENT,
    &changes::EMERGENCY_CHANGE_NOT_REVIEWED,
    &changes::CHANGE_NO_BACKOUT,
    &changes::RELEASE_NO_CHANGE,
    &changes::RELEASE_NOT_TESTED,
    &references::REFERENCE_UNRESOLVED,
];

/// Looks a check up by id.
pub fn find(id: &str) -> Option<&'static Check> {
    ALL.iter().copied().find(|c| c.id == id)
}

/// What a check sees: the records, the date everything is judged at, and the edition.
pub struct Context<'a> {
    /// The records.
    pub sms: &'a Sms,
    /// The day the audit is imagined to happen.
    pub as_of: Date,
    /// The edition audited against.
    pub edition: Edition,
}

impl Context<'_> {
    /// The planned interval for an activity.
    pub fn interval(&self, activity: Activity) -> Interval {
        self.sms.interval(activity)
    }

    /// The first day of the window `activity`'s interval reaches back to from `as_of`.
    pub fn since(&self, activity: Activity) -> Date {
        self.interval(activity).before(self.as_of)
    }

    /// Whether a record last done on `last` is overdue under `interval` on `as_of`.
    pub fn overdue(&self, last: Option<Date>, interval: Interval) -> bool {
        last.is_none_or(|d| interval.after(d) < self.as_of)
    }

    /// Clause references written in the records (in the organisation's edition), expressed in
    /// the audited edition. Unknown numbers are dropped: they cannot cover anything.
    pub fn audited_clauses<'s>(
        &self,
        refs: impl IntoIterator<Item = &'s String>,
    ) -> Vec<&'static str> {
        let from = self.sms.edition();
        let mut out = Vec::new();
        for r in refs {
            let mapped = if from == self.edition {
                crate::clause::find(from, r)
                    .map(|c| vec![c.id])
                    .unwrap_or_default()
            } else {
                crate::clause::counterparts(from, r)
            };
            for c in mapped {
                if !out.contains(&c) {
                    out.push(c);
                }
            }
        }
        out
    }

    /// Whether a reference names a record of `target` (one scan; build a
    /// [`crate::refs::Index`] to resolve many). A dangling reference counts as none.
    pub fn resolves(&self, target: crate::refs::Target, id: &str) -> bool {
        crate::refs::resolves(self.sms, target, id)
    }

    /// Whether a person id names someone in the register who has not left.
    pub fn is_active_person(&self, id: &str) -> bool {
        self.sms.person(id).is_some_and(|p| p.is_active(self.as_of))
    }
}

/// One audit failure found in the records.
#[derive(Clone, Debug)]
pub struct Finding {
    /// Unique, stable id within a report: the check's id, followed by `/` and what tells its
    /// findings apart when a check reports several (`checklist/F-012` for an answer).
    pub id: String,
    /// The id of the check that found it (`checklist` for an internal auditor's answer).
    pub check: &'static str,
    /// The failure pattern it is an instance of.
    pub pattern: &'static Pattern,
    /// How an auditor would likely grade it.
    pub grade: Grade,
    /// One line saying what is wrong, with the figures that matter.
    pub title: String,
    /// The records that show it.
    pub evidence: Vec<Evidence>,
    /// The 2018 clauses it falls under.
    pub clauses_2018: Vec<&'static str>,
    /// The 2011 clauses it falls under.
    pub clauses_2011: Vec<&'static str>,
    /// How many records are affected, out of how many examined, where the check counts them
    /// (evidence may list only a sample).
    pub counts: Option<(usize, usize)>,
}

impl Finding {
    /// Tells this finding apart from the check's others by `part`, for its id.
    pub fn part(mut self, part: &str) -> Self {
        self.id = format!("{}/{part}", self.check);
        self
    }

    /// Adds a piece of evidence.
    pub fn with(mut self, evidence: Evidence) -> Self {
        self.evidence.push(evidence);
        self
    }

    /// Adds pieces of evidence.
    pub fn with_all(mut self, evidence: impl IntoIterator<Item = Evidence>) -> Self {
        self.evidence.extend(evidence);
        self
    }

    /// Records how many records are affected out of how many were examined.
    pub fn counted(mut self, affected: usize, population: usize) -> Self {
        self.counts = Some((affected, population));
        self
    }

    /// Adds clauses that are more specific than the check's own.
    pub fn also_under(
        mut self,
        clause_2011: Option<&'static str>,
        clause_2018: Option<&'static str>,
    ) -> Self {
        for (list, c) in [
            (&mut self.clauses_2011, clause_2011),
            (&mut self.clauses_2018, clause_2018),
        ] {
            if let Some(c) = c.filter(|c| !list.contains(c)) {
                list.push(c);
            }
        }
        self
    }

    /// The clauses in one edition.
    pub fn clauses(&self, edition: Edition) -> &[&'static str] {
        match edition {
            Edition::Y2011 => &self.clauses_2011,
            Edition::Y2018 => &self.clauses_2018,
        }
    }

    /// The fix, as ordered steps.
    pub fn fix(&self) -> &'static [&'static str] {
        self.pattern.how_to_fix
    }
}

/// A record that shows a finding, and what about it.
#[derive(Clone, Debug, PartialEq)]
pub struct Evidence {
    /// What kind of record it is.
    pub kind: RecordKind,
    /// The record's id as written in the organisation's records.
    pub id: String,
    /// The field at fault, if one.
    pub field: Option<&'static str>,
    /// The offending value, if there is one to show.
    pub value: Option<String>,
    /// What is wrong with it, in a few words.
    pub note: String,
}

impl Evidence {
    /// Evidence about a record.
    pub fn new(kind: RecordKind, id: impl Into<String>, note: impl Into<String>) -> Self {
        Evidence {
            kind,
            id: id.into(),
            field: None,
            value: None,
            note: note.into(),
        }
    }

    /// Names the field at fault and its value.
    pub fn field(mut self, field: &'static str, value: Option<impl ToString>) -> Self {
        self.field = Some(field);
        self.value = value.map(|v| v.to_string());
        self
    }
}

macro_rules! record_kinds {
    ($($variant:ident = $key:literal;)*) => {
        /// The kinds of record evidence can point at.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum RecordKind {
            $(#[doc = concat!("A `", $key, "` record.")] $variant,)*
        }

        impl RecordKind {
            /// The kebab-case name used in reports.
            pub fn as_str(self) -> &'static str {
                match self { $(RecordKind::$variant => $key,)* }
            }
        }
    };
}

record_kinds! {
    Organisation = "organisation";
    Register = "register";
    Policy = "policy";
    Objective = "objective";
    Person = "person";
    Process = "process";
    Raci = "raci";
    ManagementReview = "management-review";
    ReviewAction = "review-action";
    Document = "document";
    Service = "service";
    Sla = "sla";
    Supplier = "supplier";
    Contract = "contract";
    Risk = "risk";
    InternalAudit = "internal-audit";
    AuditFinding = "audit-finding";
    Nonconformity = "nonconformity";
    Improvement = "improvement";
    ContinuityPlan = "continuity-plan";
    CapacityPlan = "capacity-plan";
    Training = "training";
    Incident = "incident";
    ServiceRequest = "request";
    Problem = "problem";
    Change = "change";
    Release = "release";
    ConfigurationItem = "ci";
    Checklist = "checklist";
    Customer = "customer";
    Complaint = "complaint";
}

/// Evidence beyond this many records is summarised: a finding about forty thousand tickets
/// needs a sample and a count, not forty thousand lines.
pub const EVIDENCE_LIMIT: usize = 100;

/// Keeps the first [`EVIDENCE_LIMIT`] pieces of evidence and sums up the rest in one line
/// pointing at the register they come from.
pub fn capped(mut evidence: Vec<Evidence>, register: &str) -> Vec<Evidence> {
    if evidence.len() > EVIDENCE_LIMIT {
        let rest = evidence.len() - EVIDENCE_LIMIT;
        evidence.truncate(EVIDENCE_LIMIT);
        evidence.push(Evidence::new(
            RecordKind::Register,
            register,
            format!("and {rest} more records like these"),
        ));
    }
    evidence
}

/// A date and time as people write it in records: `2026-03-05 22:00`.
pub fn when(t: crate::DateTime) -> String {
    t.strftime("%Y-%m-%d %H:%M").to_string()
}

/// `count` followed by the singular or plural form, e.g. `n(1, "plan is", "plans are")`.
pub fn n(count: usize, one: &str, many: &str) -> String {
    format!("{count} {}", if count == 1 { one } else { many })
}

/// Grades a gap by how much of a register it touches: a third or more (and at least three
/// records) is a systemic breakdown, anything less is isolated.
pub fn by_extent(affected: usize, population: usize) -> Grade {
    if affected >= 3 && affected * 3 >= population {
        Grade::Major
    } else {
        Grade::Minor
    }
}

/// The clauses the checks examine in `cx`: those of every presence check, and of every check
/// that has at least one record to look at. A clause only a check with nothing to look at
/// covers is not examined, so an empty register never passes for a good one.
pub fn examined(cx: &Context<'_>) -> Vec<&'static str> {
    let mut out: Vec<&'static str> = Vec::new();
    for check in ALL.iter().filter(|c| c.examines.population(cx) > 0) {
        let extra: Vec<&'static str> = if check.id == documents::DOC_REQUIRED_MISSING.id {
            documents::required_clauses(cx.edition).collect()
        } else {
            Vec::new()
        };
        for &c in check.clauses(cx.edition).iter().chain(&extra) {
            if !out.contains(&c) {
                out.push(c);
            }
        }
    }
    out
}

/// Runs every check on the records, in registry order. The checks share the work between two
/// threads: ticket checks over millions of rows dominate, and the machines this runs on have
/// at least two cores.
pub fn run(cx: &Context<'_>) -> Vec<Finding> {
    let evaluate = |checks: Vec<(usize, &&Check)>| -> Vec<(usize, Vec<Finding>)> {
        checks
            .into_iter()
            .map(|(i, check)| {
                let mut out = Vec::new();
                (check.evaluate)(cx, &mut out);
                (i, out)
            })
            .collect()
    };
    let (even, odd): (Vec<_>, Vec<_>) = ALL.iter().enumerate().partition(|(i, _)| i % 2 == 0);
    let mut results = std::thread::scope(|s| {
        let other = s.spawn(|| evaluate(odd));
        let mut mine = evaluate(even);
        mine.extend(other.join().expect("checks do not panic"));
        mine
    });
    results.sort_by_key(|r| r.0);
    results.into_iter().flat_map(|r| r.1).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clause;

    #[test]
    fn ids_are_unique_kebab_case() {
        let mut seen = std::collections::BTreeSet::new();
        for c in ALL {
            assert!(seen.insert(c.id), "check {} is registered twice", c.id);
            assert!(
                c.id.chars()
                    .all(|ch| ch.is_ascii_lowercase() || ch.is_ascii_digit() || ch == '-'),
                "check id {} is not kebab-case",
                c.id
            );
            assert!(
                !c.title.is_empty() && !c.doc.is_empty(),
                "{} lacks its docs",
                c.id
            );
        }
    }

    #[test]
    fn every_check_names_a_pattern_and_stays_within_its_clauses() {
        for c in ALL {
            let p =
                kb::find(c.pattern).unwrap_or_else(|| panic!("{}: no pattern {}", c.id, c.pattern));
            assert!(!c.clauses_2018.is_empty(), "{} has no 2018 clause", c.id);
            for e in Edition::ALL {
                for id in c.clauses(e) {
                    let found = clause::find(e, id);
                    assert!(
                        found.is_some_and(|c| c.is_requirement()),
                        "{}: no {e} clause {id}",
                        c.id
                    );
                    assert!(
                        p.clauses(e).iter().any(|pc| clause::is_within(id, pc)),
                        "{}: {e} clause {id} is outside pattern {}'s clauses",
                        c.id,
                        p.id
                    );
                }
            }
        }
    }

    /// Adds to records the one a check needs to have something to examine.
    type AddRecord = fn(&mut Sms);

    /// Record checks the clean organisation gives nothing to look at, each with the record that
    /// would. The records are services, and `testing::clean` keeps its one service: the
    /// transition-plan test pushes services and then edits the one it pushed as `services[1]`.
    const EMPTY_ON_CLEAN: &[(&str, AddRecord)] = &[
        // Needs a new service; S-MAIL has been live for years. A planned service in the fixture
        // would take `services[1]`, and the test would go on passing only because that service
        // is new as well.
        ("service-no-transition-plan", |sms| {
            let mut s = sms.services[0].clone();
            s.id = "S-NEW".into();
            s.lifecycle = crate::model::Lifecycle::Planned;
            s.transition_plan = Some("TP-1".into());
            sms.services.push(s);
        }),
        // Needs a recently retired service. One in the fixture would take `services[1]` and
        // fail the transition-plan test.
        ("service-retired-no-plan", |sms| {
            let mut s = sms.services[0].clone();
            s.id = "S-OLD".into();
            s.lifecycle = crate::model::Lifecycle::Retired;
            s.retired_on = Some(testing::as_of());
            s.transition_plan = Some("TP-1".into());
            sms.services.push(s);
        }),
        // Needs an outside audit; the clean organisation has had none.
        ("external-finding-unanswered", |sms| {
            let mut a = sms.audits[0].clone();
            a.id = "S2".into();
            a.kind = crate::model::AuditKind::Stage2;
            a.findings[0].id = "S2-F1".into();
            sms.audits.push(a);
        }),
    ];

    #[test]
    fn record_checks_count_records_on_the_clean_organisation_and_none_on_empty_records() {
        let clean = testing::clean();
        let empty = Sms::default();
        fn cx(sms: &Sms, edition: Edition) -> Context<'_> {
            Context {
                sms,
                as_of: testing::as_of(),
                edition,
            }
        }
        for c in ALL {
            let Examines::Records(count) = c.examines else {
                continue;
            };
            let exception = EMPTY_ON_CLEAN.iter().find(|e| e.0 == c.id);
            for edition in Edition::ALL {
                match exception {
                    None => assert!(
                        count(&cx(&clean, edition)) > 0,
                        "{}: nothing to examine in the clean organisation ({edition})",
                        c.id
                    ),
                    Some((_, add)) => {
                        assert_eq!(
                            count(&cx(&clean, edition)),
                            0,
                            "{}: no longer an exception",
                            c.id
                        );
                        let mut sms = clean.clone();
                        add(&mut sms);
                        assert!(count(&cx(&sms, edition)) > 0, "{} ({edition})", c.id);
                    }
                }
                assert_eq!(
                    count(&cx(&empty, edition)),
                    0,
                    "{}: examines records in empty records ({edition})",
                    c.id
                );
            }
        }
        for (id, _) in EMPTY_ON_CLEAN {
            assert!(
                find(id).is_some_and(|c| matches!(c.examines, Examines::Records(_))),
                "{id}: not a record check"
            );
        }
    }

    #[test]
    fn grading_by_extent() {
        assert_eq!(
            by_extent(1, 1),
            Grade::Minor,
            "one record is isolated even in a small register"
        );
        assert_eq!(by_extent(2, 40), Grade::Minor);
        assert_eq!(by_extent(3, 9), Grade::Major);
        assert_eq!(by_extent(3, 10), Grade::Minor);
    }
}
