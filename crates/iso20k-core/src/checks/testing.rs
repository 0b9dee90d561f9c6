//! A small, well-run organisation on which no check fires, and helpers to break it one record
//! at a time. Each check's tests start from [`clean`], change one thing, and assert what fires.

use jiff::civil::date;

use super::{Check, Context, Finding};
use crate::Edition;
use crate::kb::Grade;
use crate::model::*;

/// The date every fixture is judged at.
pub fn as_of() -> crate::Date {
    date(2026, 6, 30)
}

fn s(v: &str) -> String {
    v.to_owned()
}

fn some(v: &str) -> Option<String> {
    Some(v.to_owned())
}

fn person(id: &str, top: bool) -> Person {
    Person {
        id: s(id),
        name: id.to_uppercase(),
        role: s("staff"),
        unit: s("IT"),
        top_management: top,
        left_on: None,
    }
}

fn process(id: &str, owner: &str, clause: &str) -> Process {
    Process {
        id: s(id),
        name: s(id),
        owner: some(owner),
        clauses: vec![s(clause)],
        operated_by: None,
        document: None,
        kpis: vec![format!("{id} tickets handled within target")],
        risk: None,
    }
}

fn raci(process: &str, person: &str, raci: Raci) -> RaciEntry {
    RaciEntry {
        process: s(process),
        activity: String::new(),
        person: s(person),
        raci,
    }
}

/// A current, approved, recently reviewed document.
pub fn document(id: &str, kind: DocType) -> Document {
    Document {
        id: s(id),
        version: some("1.0"),
        title: format!("{} ({})", kind.describe(), id),
        kind,
        owner: some("sm"),
        approver: some("ceo"),
        approved_on: Some(date(2026, 1, 10)),
        status: DocStatus::Current,
        review_interval: None,
        last_reviewed_on: Some(date(2026, 1, 10)),
        external: false,
    }
}

/// The well-run organisation.
pub fn clean() -> Sms {
    let mut documents: Vec<Document> = DocType::ALL
        .iter()
        .filter(|t| Edition::ALL.iter().any(|e| t.required_by(*e).is_some()))
        .map(|t| document(&format!("DOC-{}", t.key()), *t))
        .collect();
    documents.push(document("TP-1", DocType::TransitionPlan));
    let mut manual = document("EXT-mail-admin", DocType::Other);
    manual.external = true;
    documents.push(manual);
    let mut processes = vec![
        process("incident", "ops", "8.6.1"),
        process("change", "cm", "8.5.1"),
        process("slm", "sm", "8.3.3"),
    ];
    processes[0].operated_by = some("GRP-DESK");
    Sms {
        organisation: Organisation {
            name: s("Fixture Ltd"),
            edition: Some(Edition::Y2018),
            scope: s("Managed e-mail for fixture customers"),
            units: vec![s("IT")],
            locations: vec![s("Leeds")],
            sms_owner: some("sm"),
            stage1_on: None,
            stage2_on: None,
            surveillance_on: None,
            recertification_on: None,
            certification_body: None,
            major_response: None,
            minor_response: None,
            records_as_of: None,
            context: Some(ContextAnalysis {
                issues: vec![s("Customers moving to cloud e-mail")],
                interested_parties: vec![s("Acme: 99.9% availability")],
                climate_change_relevant: Some(false),
                reviewed_on: Some(date(2026, 1, 10)),
            }),
            major_priority: None,
        },
        intervals: Default::default(),
        policy: Some(Policy {
            document: some("DOC-policy"),
            title: s("Service management policy"),
            approved_by: some("ceo"),
            approved_on: Some(date(2026, 1, 10)),
            last_reviewed_on: Some(date(2026, 1, 10)),
            review_interval: None,
            commitments: Commitment::ALL.to_vec(),
            communicated_on: Some(date(2026, 1, 20)),
        }),
        objectives: vec![Objective {
            id: s("OBJ-1"),
            title: s("Resolve P1 incidents fast"),
            measure: some("share of P1 incidents resolved within 4 hours"),
            target: Some(Target::Number(95.0)),
            unit: some("%"),
            owner: some("sm"),
            due: Some(date(2026, 12, 31)),
            measurements: vec![Measurement {
                on: date(2026, 5, 31),
                value: 96.0,
            }],
        }],
        people: vec![
            person("ceo", true),
            person("sm", false),
            person("cm", false),
            person("ops", false),
            person("ia", false),
        ],
        processes,
        raci: vec![
            raci("incident", "ops", Raci::Accountable),
            raci("incident", "sm", Raci::Responsible),
            raci("change", "cm", Raci::Accountable),
            raci("change", "ops", Raci::Responsible),
            raci("slm", "sm", Raci::Accountable),
            raci("slm", "ceo", Raci::Informed),
        ],
        management_reviews: vec![
            ManagementReview {
                id: s("MR-1"),
                planned_on: None,
                held_on: Some(date(2025, 9, 15)),
                attendees: vec![s("ceo"), s("sm")],
                inputs: ReviewInput::ALL.to_vec(),
                decisions: vec![s("Fund a second on-call engineer")],
                actions: vec![ReviewAction {
                    id: s("MR-1-A1"),
                    description: s("Hire an on-call engineer"),
                    owner: some("sm"),
                    due: Some(date(2026, 1, 31)),
                    status: ActionStatus::Done,
                    closed_on: Some(date(2026, 1, 15)),
                }],
                followed_up: vec![],
                minutes: None,
            },
            ManagementReview {
                id: s("MR-2"),
                planned_on: None,
                held_on: Some(date(2026, 3, 15)),
                attendees: vec![s("ceo"), s("sm")],
                inputs: ReviewInput::ALL.to_vec(),
                decisions: vec![s("Keep the SLA targets")],
                actions: vec![ReviewAction {
                    id: s("MR-2-A1"),
                    description: s("Renegotiate the hosting contract"),
                    owner: some("cm"),
                    due: Some(date(2026, 9, 30)),
                    status: ActionStatus::Open,
                    closed_on: None,
                }],
                followed_up: vec![s("MR-1-A1")],
                minutes: None,
            },
        ],
        documents,
        services: vec![Service {
            id: s("S-MAIL"),
            name: s("Managed e-mail"),
            owner: some("sm"),
            customers: vec![s("Acme")],
            depends_on: vec![],
            in_scope: true,
            lifecycle: Lifecycle::Live,
            critical: true,
            live_on: Some(date(2020, 1, 1)),
            retired_on: None,
            transition_plan: None,
        }],
        slas: vec![Sla {
            id: s("SLA-1"),
            service: s("S-MAIL"),
            customer: s("Acme"),
            targets: vec![SlaTarget {
                metric: s("availability"),
                target: Some(Target::Number(99.9)),
                unit: some("%"),
            }],
            workload: some("up to 2,000 mailboxes"),
            exceptions: some("planned maintenance windows"),
            agreed_on: Some(date(2024, 1, 1)),
            last_reviewed_on: Some(date(2026, 2, 1)),
            review_interval: None,
            document: some("DOC-sla"),
            attainment: vec![Attainment {
                priority: Some(3),
                target: 95.0,
            }],
        }],
        suppliers: vec![
            Supplier {
                id: s("SUP-1"),
                name: s("Hosting Co"),
                kind: SupplierKind::External,
                services: vec![s("S-MAIL")],
                contract_manager: some("cm"),
                active: true,
                performance_reviewed_on: Some(date(2026, 2, 15)),
                contracts: vec![Contract {
                    id: s("C-1"),
                    title: s("Hosting"),
                    starts_on: Some(date(2024, 1, 1)),
                    ends_on: Some(date(2027, 12, 31)),
                    last_reviewed_on: Some(date(2026, 1, 20)),
                    review_interval: None,
                    document: None,
                }],
            },
            Supplier {
                id: s("GRP-DESK"),
                name: s("Service desk team"),
                kind: SupplierKind::Internal,
                services: vec![s("S-MAIL")],
                contract_manager: some("sm"),
                active: true,
                performance_reviewed_on: Some(date(2026, 2, 15)),
                contracts: vec![Contract {
                    id: s("OLA-1"),
                    title: s("Service desk agreement"),
                    starts_on: Some(date(2024, 1, 1)),
                    ends_on: None,
                    last_reviewed_on: Some(date(2026, 1, 20)),
                    review_interval: None,
                    document: None,
                }],
            },
        ],
        risks: vec![Risk {
            id: s("R-1"),
            title: s("Hosting outage"),
            service: some("S-MAIL"),
            owner: some("cm"),
            likelihood: Some(2),
            impact: Some(4),
            treatment: some("mitigate: second region"),
            open: true,
            last_reviewed_on: Some(date(2026, 3, 1)),
        }],
        audit_cycle_start: Some(date(2026, 1, 1)),
        audits: vec![InternalAudit {
            id: s("IA-1"),
            title: s("Whole SMS"),
            planned_on: Some(date(2026, 4, 10)),
            held_on: Some(date(2026, 4, 10)),
            cancelled: false,
            auditor: some("ia"),
            processes: vec![s("incident"), s("change"), s("slm")],
            clauses: ["4", "5", "6", "7", "8", "9", "10"].map(s).to_vec(),
            report: None,
            findings: vec![AuditFinding {
                id: s("IA-1-F1"),
                grade: Grade::Minor,
                clause: some("8.5.1.3"),
                statement: s("One change lacked a back-out plan"),
                due: Some(date(2026, 5, 31)),
                closed_on: Some(date(2026, 5, 20)),
                verified_on: Some(date(2026, 6, 1)),
                nonconformity: some("NC-1"),
                process: None,
                evidence: Vec::new(),
                sample: None,
            }],
            ..Default::default()
        }],
        nonconformities: vec![Nonconformity {
            id: s("NC-1"),
            description: s("Change without back-out plan"),
            raised_on: Some(date(2026, 4, 10)),
            source: NcSource::InternalAudit,
            source_ref: some("IA-1-F1"),
            clauses: vec![s("8.5.1.3")],
            grade: Some(Grade::Minor),
            correction: some("Back-out plan added"),
            root_cause: some("The change form did not require a back-out plan"),
            actions: vec![CorrectiveAction {
                id: s("NC-1-CA1"),
                description: s("Make the back-out field mandatory"),
                owner: some("cm"),
                due: Some(date(2026, 5, 15)),
                implemented_on: Some(date(2026, 5, 10)),
                ..Default::default()
            }],
            effectiveness: Some(EffectivenessReview {
                checked_on: Some(date(2026, 6, 10)),
                checked_by: some("ia"),
                effective: Some(true),
                note: some("25 changes sampled, all with back-out plans"),
                ..Default::default()
            }),
            closed_on: Some(date(2026, 6, 10)),
            ..Default::default()
        }],
        improvements: vec![
            Improvement {
                id: s("IMP-1"),
                title: s("Self-service password reset"),
                raised_on: Some(date(2026, 2, 1)),
                owner: some("ops"),
                target: some("30% fewer password tickets"),
                due: Some(date(2026, 10, 31)),
                priority: some("high"),
                approved_by: some("sm"),
                completed_on: None,
                outcome: None,
            },
            Improvement {
                id: s("IMP-2"),
                title: s("Spam filter tuning"),
                raised_on: Some(date(2025, 11, 1)),
                owner: some("ops"),
                target: some("half the spam complaints"),
                due: Some(date(2026, 3, 31)),
                priority: some("medium"),
                approved_by: some("sm"),
                completed_on: Some(date(2026, 3, 20)),
                outcome: some("spam complaints down 60%"),
            },
        ],
        continuity_plans: vec![ContinuityPlan {
            id: s("BCP-1"),
            title: s("E-mail continuity"),
            kind: PlanKind::Continuity,
            services: vec![s("S-MAIL")],
            document: some("DOC-continuity-plan"),
            last_reviewed_on: Some(date(2026, 2, 1)),
            review_interval: None,
            rto: some("4 hours"),
            rpo: some("15 minutes"),
            tests: vec![ContinuityTest {
                id: s("BCP-1-T1"),
                held_on: date(2026, 2, 20),
                result: TestResult::Passed,
                actions: vec![],
            }],
        }],
        capacity_plans: vec![CapacityPlan {
            id: s("CAP-1"),
            title: s("E-mail capacity"),
            services: vec![s("S-MAIL")],
            // No document: audit.rs's tests remove the capacity plan from the register, and a
            // plan naming it would then also raise `reference-unresolved`.
            document: None,
            last_reviewed_on: Some(date(2026, 1, 15)),
            review_interval: None,
            horizon_months: Some(12),
        }],
        training: ["sm", "cm", "ops"]
            .map(|p| TrainingRecord {
                person: s(p),
                course: s("ISO/IEC 20000 foundation"),
                completed_on: Some(date(2026, 2, 1)),
                expires_on: None,
                evaluated: true,
            })
            .to_vec(),
        tickets: Tickets {
            incidents: vec![
                Incident {
                    id: s("INC-1"),
                    opened_at: Some(date(2026, 5, 2).at(8, 30, 0, 0)),
                    resolved_at: Some(date(2026, 5, 2).at(10, 0, 0, 0)),
                    closed_at: Some(date(2026, 5, 3).at(9, 0, 0, 0)),
                    priority: Some(3),
                    category: some("mail delivery"),
                    service: some("S-MAIL"),
                    ci: some("CI-1"),
                    resolution: some("Restarted the mail queue"),
                    sla_met: Some(true),
                    ..Default::default()
                },
                Incident {
                    id: s("INC-5"),
                    opened_at: Some(date(2026, 3, 30).at(7, 0, 0, 0)),
                    resolved_at: Some(date(2026, 3, 30).at(9, 0, 0, 0)),
                    closed_at: Some(date(2026, 3, 31).at(9, 0, 0, 0)),
                    priority: Some(1),
                    category: some("mail delivery"),
                    service: some("S-MAIL"),
                    ci: some("CI-1"),
                    problem: some("PRB-1"),
                    resolution: some("Queue flushed, limit raised temporarily"),
                    ..Default::default()
                },
                Incident {
                    id: s("INC-6"),
                    opened_at: Some(date(2026, 1, 12).at(9, 0, 0, 0)),
                    resolved_at: Some(date(2026, 1, 14).at(9, 0, 0, 0)),
                    closed_at: Some(date(2026, 1, 14).at(10, 0, 0, 0)),
                    priority: Some(4),
                    category: some("mailbox"),
                    service: some("S-MAIL"),
                    ci: some("CI-1"),
                    resolution: some("Mailbox quota raised"),
                    sla_met: Some(false),
                    breach_review: some("Waited on the customer's approval; reviewed with Acme"),
                    ..Default::default()
                },
            ],
            requests: vec![],
            problems: vec![
                Problem {
                    id: s("PRB-1"),
                    opened_at: Some(date(2026, 4, 1).at(9, 0, 0, 0)),
                    closed_at: Some(date(2026, 5, 10).at(9, 0, 0, 0)),
                    service: some("S-MAIL"),
                    root_cause: some("Queue size limit too low"),
                    known_error: false,
                    change: some("CHG-1"),
                },
                Problem {
                    id: s("PRB-3"),
                    opened_at: Some(date(2026, 6, 2).at(9, 0, 0, 0)),
                    closed_at: None,
                    service: some("S-MAIL"),
                    root_cause: some("The spam filter update leaks memory"),
                    known_error: true,
                    change: None,
                },
            ],
            changes: vec![
                Change {
                    id: s("CHG-1"),
                    kind: ChangeType::Normal,
                    service: some("S-MAIL"),
                    requested_at: Some(date(2026, 5, 1).at(9, 0, 0, 0)),
                    approved_at: Some(date(2026, 5, 2).at(9, 0, 0, 0)),
                    approver: some("cm"),
                    implemented_at: Some(date(2026, 5, 3).at(22, 0, 0, 0)),
                    risk: some("low"),
                    backout_plan: true,
                    test_plan: true,
                    reviewed_on: Some(date(2026, 5, 5)),
                    successful: Some(true),
                },
                Change {
                    id: s("CHG-2"),
                    kind: ChangeType::Emergency,
                    service: some("S-MAIL"),
                    requested_at: Some(date(2026, 6, 1).at(2, 0, 0, 0)),
                    approved_at: Some(date(2026, 6, 1).at(9, 0, 0, 0)),
                    approver: some("cm"),
                    implemented_at: Some(date(2026, 6, 1).at(3, 0, 0, 0)),
                    risk: some("medium"),
                    backout_plan: true,
                    test_plan: true,
                    reviewed_on: Some(date(2026, 6, 3)),
                    successful: Some(true),
                },
            ],
            releases: vec![Release {
                id: s("REL-1"),
                change: some("CHG-1"),
                service: some("S-MAIL"),
                deployed_at: Some(date(2026, 5, 3).at(22, 30, 0, 0)),
                tested: true,
            }],
            cis: vec![ConfigurationItem {
                id: s("CI-1"),
                name: s("mail-01"),
                kind: some("server"),
                owner: some("ops"),
                service: some("S-MAIL"),
                last_verified_on: Some(date(2026, 3, 1)),
            }],
        },
        checklist: vec![],
        customers: vec![Customer {
            id: s("Acme"),
            name: s("Acme Ltd"),
            relationship_owner: some("sm"),
            surveys: vec![Survey {
                on: date(2026, 3, 31),
                score: Some(4.2),
            }],
            service_reviews: vec![date(2026, 4, 20)],
        }],
        complaints: vec![Complaint {
            id: s("CMP-1"),
            customer: some("Acme"),
            summary: s("Slow mail in April"),
            received_on: Some(date(2026, 4, 1)),
            action: some("Queue limit raised under CHG-1"),
            closed_on: Some(date(2026, 5, 4)),
        }],
        plan: Vec::new(),
    }
}

/// Runs one check on the records, judged on [`as_of`] against 2018.
pub fn run(check: &'static Check, sms: &Sms) -> Vec<Finding> {
    run_in(check, sms, Edition::Y2018)
}

/// Runs one check against an edition.
pub fn run_in(check: &'static Check, sms: &Sms, edition: Edition) -> Vec<Finding> {
    let cx = Context {
        sms,
        as_of: as_of(),
        edition,
    };
    let mut out = Vec::new();
    (check.evaluate)(&cx, &mut out);
    out
}

/// Asserts the check finds nothing in `sms`.
#[track_caller]
pub fn quiet(check: &'static Check, sms: &Sms) {
    let found = run(check, sms);
    assert!(found.is_empty(), "{} fired: {:#?}", check.id, found);
}

/// Asserts the check reports exactly one finding, and returns it.
#[track_caller]
pub fn fires(check: &'static Check, sms: &Sms) -> Finding {
    let mut found = run(check, sms);
    assert_eq!(
        found.len(),
        1,
        "{} should fire once: {:#?}",
        check.id,
        found
    );
    found.pop().unwrap()
}

/// The evidence ids of a finding, in order.
pub fn ids(f: &Finding) -> Vec<&str> {
    f.evidence.iter().map(|e| e.id.as_str()).collect()
}

#[test]
fn no_check_fires_on_the_clean_fixture_in_either_edition() {
    let sms = clean();
    for e in Edition::ALL {
        let cx = Context {
            sms: &sms,
            as_of: as_of(),
            edition: e,
        };
        let found = super::run(&cx);
        assert!(
            found.is_empty(),
            "{e}: {:#?}",
            found
                .iter()
                .map(|f| (f.check, &f.title))
                .collect::<Vec<_>>()
        );
    }
}
