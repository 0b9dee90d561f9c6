//! References that resolve to nothing: an owner who is not in the people register, minutes that
//! are not in the document register, an incident linked to a problem that is not in the tickets.

use super::{Check, EVIDENCE_LIMIT, Evidence, Examines, RecordKind};
use crate::kb::Grade;
use crate::refs::{self, FIELDS};

/// The records a kind of record is, in a title.
fn records(kind: RecordKind) -> &'static str {
    match kind {
        RecordKind::Organisation => "the organisation",
        RecordKind::Policy => "the policy",
        RecordKind::Objective => "objectives",
        RecordKind::Process => "processes",
        RecordKind::Raci => "the RACI matrix",
        RecordKind::ManagementReview => "management reviews",
        RecordKind::Document => "the document register",
        RecordKind::Service => "services",
        RecordKind::Sla => "SLAs",
        RecordKind::Supplier => "suppliers",
        RecordKind::Risk => "risks",
        RecordKind::InternalAudit => "internal audits",
        RecordKind::Nonconformity => "nonconformities",
        RecordKind::Improvement => "improvements",
        RecordKind::ContinuityPlan => "continuity plans",
        RecordKind::CapacityPlan => "capacity plans",
        RecordKind::Training => "training records",
        RecordKind::Customer => "customers",
        RecordKind::Complaint => "complaints",
        RecordKind::Incident => "incidents",
        RecordKind::ServiceRequest => "service requests",
        RecordKind::Problem => "problems",
        RecordKind::Change => "changes",
        RecordKind::Release => "releases",
        RecordKind::ConfigurationItem => "configuration items",
        _ => "records",
    }
}

type Clauses = (&'static [&'static str], &'static [&'static str]);

pub(super) static REFERENCE_UNRESOLVED: Check = Check {
    id: "reference-unresolved",
    pattern: "F-117",
    title: "A record names a person, document or ticket that does not exist",
    clauses_2018: &["7.5.2", "5.3"],
    clauses_2011: &["4.3.2", "4.1.3"],
    doc: "Follows every field that names another record (listed in the bundle format's \
          References section) and fires for each value that names no record in its register: \
          people by id, documents by document id across versions, services by id or name. One \
          minor finding per group of fields sharing the same clauses, placed under those \
          clauses only, with one piece of evidence per dangling reference. Fields whose \
          dangling values another check already reports as unknown records (SLA and ticket \
          services, RACI people, customers a service names) are left to that check.",
    examines: Examines::Nothing,
    evaluate: |cx, out| {
        // Groups of fields sharing their clauses, in FIELDS order.
        let mut groups: Vec<Group> = Vec::new();
        let index = refs::Index::new(cx.sms);
        for f in FIELDS.iter().filter(|f| f.reported_by.is_none()) {
            let key: Clauses = (f.clauses_2018, f.clauses_2011);
            let g = match groups.iter().position(|g| g.clauses == key) {
                Some(g) => &mut groups[g],
                None => {
                    groups.push(Group {
                        clauses: key,
                        ..Group::default()
                    });
                    groups.last_mut().expect("just pushed")
                }
            };
            f.each(cx.sms, &mut |record, item, value| {
                g.population += 1;
                if index.has(f.target, value) {
                    return;
                }
                g.dangling += 1;
                if !g.kinds.contains(&f.kind) {
                    g.kinds.push(f.kind);
                }
                // Ticket tables can hold a million rows: keep a sample, count them all.
                if g.evidence.len() < EVIDENCE_LIMIT {
                    g.evidence.push(
                        Evidence::new(
                            f.kind,
                            record,
                            format!(
                                "{}names {} {value}, which is not in the {}",
                                item.map(|i| format!("{i} ")).unwrap_or_default(),
                                f.target.noun(),
                                f.target.register()
                            ),
                        )
                        .field(f.field, Some(value)),
                    );
                }
            });
        }
        for mut g in groups.into_iter().filter(|g| g.dangling > 0) {
            let n = g.dangling;
            if n > g.evidence.len() {
                g.evidence.push(Evidence::new(
                    RecordKind::Register,
                    "references",
                    format!("and {} more references like these", n - g.evidence.len()),
                ));
            }
            let what: Vec<_> = g.kinds.iter().map(|k| records(*k)).collect();
            let title = if n == 1 {
                format!(
                    "1 reference in {} names a record that does not exist",
                    what.join(", ")
                )
            } else {
                format!(
                    "{n} references in {} name records that do not exist",
                    what.join(", ")
                )
            };
            let mut finding = REFERENCE_UNRESOLVED
                .finding(Grade::Minor, title)
                .counted(n, g.population)
                .part(g.clauses.0.first().copied().unwrap_or("other"))
                .with_all(g.evidence);
            finding.clauses_2018 = g.clauses.0.to_vec();
            finding.clauses_2011 = g.clauses.1.to_vec();
            out.push(finding);
        }
    },
};

#[derive(Default)]
struct Group {
    clauses: Clauses,
    kinds: Vec<RecordKind>,
    evidence: Vec<Evidence>,
    dangling: usize,
    population: usize,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Edition;
    use crate::checks::testing::{clean, fires, quiet, run, run_in};
    use crate::model::{ServiceRequest, Sms};

    const NOPE: &str = "NOPE";

    fn nope() -> Option<String> {
        Some(NOPE.into())
    }

    type Case = (RecordKind, &'static str, fn(&mut Sms));

    /// One way to make each reference field dangle on the clean records.
    const CASES: &[Case] = &[
        (RecordKind::Organisation, "sms_owner", |s| {
            s.organisation.sms_owner = nope()
        }),
        (RecordKind::Policy, "approved_by", |s| {
            s.policy.as_mut().unwrap().approved_by = nope()
        }),
        (RecordKind::Policy, "document", |s| {
            s.policy.as_mut().unwrap().document = nope()
        }),
        (RecordKind::Objective, "owner", |s| {
            s.objectives[0].owner = nope()
        }),
        (RecordKind::Process, "owner", |s| {
            s.processes[0].owner = nope()
        }),
        (RecordKind::Process, "operated_by", |s| {
            s.processes[0].operated_by = nope()
        }),
        (RecordKind::Process, "document", |s| {
            s.processes[0].document = nope()
        }),
        (RecordKind::Raci, "process", |s| {
            s.raci[0].process = NOPE.into()
        }),
        (RecordKind::Raci, "person", |s| {
            s.raci[0].person = NOPE.into()
        }),
        (RecordKind::ManagementReview, "attendees", |s| {
            s.management_reviews[0].attendees.push(NOPE.into())
        }),
        (RecordKind::ManagementReview, "minutes", |s| {
            s.management_reviews[0].minutes = nope()
        }),
        (RecordKind::ManagementReview, "actions.owner", |s| {
            s.management_reviews[0].actions[0].owner = nope()
        }),
        (RecordKind::ManagementReview, "followed_up", |s| {
            s.management_reviews[1].followed_up.push(NOPE.into())
        }),
        (RecordKind::Document, "owner", |s| {
            s.documents[0].owner = nope()
        }),
        (RecordKind::Document, "approver", |s| {
            s.documents[0].approver = nope()
        }),
        (RecordKind::Service, "owner", |s| {
            s.services[0].owner = nope()
        }),
        (RecordKind::Service, "customers", |s| {
            s.services[0].customers.push(NOPE.into())
        }),
        (RecordKind::Service, "depends_on", |s| {
            s.services[0].depends_on.push(NOPE.into())
        }),
        (RecordKind::Service, "transition_plan", |s| {
            s.services[0].transition_plan = nope()
        }),
        (RecordKind::Sla, "service", |s| {
            s.slas[0].service = NOPE.into()
        }),
        (RecordKind::Sla, "document", |s| s.slas[0].document = nope()),
        (RecordKind::Supplier, "services", |s| {
            s.suppliers[0].services.push(NOPE.into())
        }),
        (RecordKind::Supplier, "contract_manager", |s| {
            s.suppliers[0].contract_manager = nope()
        }),
        (RecordKind::Supplier, "contracts.document", |s| {
            s.suppliers[0].contracts[0].document = nope()
        }),
        (RecordKind::Risk, "owner", |s| s.risks[0].owner = nope()),
        (RecordKind::Risk, "service", |s| s.risks[0].service = nope()),
        (RecordKind::InternalAudit, "processes", |s| {
            s.audits[0].processes.push(NOPE.into())
        }),
        (RecordKind::InternalAudit, "report", |s| {
            s.audits[0].report = nope()
        }),
        (RecordKind::InternalAudit, "findings.nonconformity", |s| {
            s.audits[0].findings[0].nonconformity = nope()
        }),
        (RecordKind::InternalAudit, "services", |s| {
            s.audits[0].services.push(NOPE.into())
        }),
        (RecordKind::InternalAudit, "findings.process", |s| {
            s.audits[0].findings[0].process = nope()
        }),
        (RecordKind::Nonconformity, "process", |s| {
            s.nonconformities[0].process = nope()
        }),
        (RecordKind::Nonconformity, "owner", |s| {
            s.nonconformities[0].owner = nope()
        }),
        (RecordKind::Nonconformity, "actions.owner", |s| {
            s.nonconformities[0].actions[0].owner = nope()
        }),
        (RecordKind::Nonconformity, "effectiveness.checked_by", |s| {
            s.nonconformities[0]
                .effectiveness
                .as_mut()
                .unwrap()
                .checked_by = nope()
        }),
        (RecordKind::Improvement, "owner", |s| {
            s.improvements[0].owner = nope()
        }),
        (RecordKind::Improvement, "approved_by", |s| {
            s.improvements[0].approved_by = nope()
        }),
        (RecordKind::ContinuityPlan, "services", |s| {
            s.continuity_plans[0].services.push(NOPE.into())
        }),
        (RecordKind::ContinuityPlan, "document", |s| {
            s.continuity_plans[0].document = nope()
        }),
        (RecordKind::CapacityPlan, "services", |s| {
            s.capacity_plans[0].services.push(NOPE.into())
        }),
        (RecordKind::CapacityPlan, "document", |s| {
            s.capacity_plans[0].document = nope()
        }),
        (RecordKind::Training, "person", |s| {
            s.training[0].person = NOPE.into()
        }),
        (RecordKind::Customer, "relationship_owner", |s| {
            s.customers[0].relationship_owner = nope()
        }),
        (RecordKind::Complaint, "customer", |s| {
            s.complaints[0].customer = nope()
        }),
        (RecordKind::Incident, "problem", |s| {
            s.tickets.incidents[0].problem = nope()
        }),
        (RecordKind::Incident, "ci", |s| {
            s.tickets.incidents[0].ci = nope()
        }),
        (RecordKind::Incident, "service", |s| {
            s.tickets.incidents[0].service = nope()
        }),
        (RecordKind::ServiceRequest, "service", |s| {
            s.tickets.requests.push(ServiceRequest {
                id: "REQ-1".into(),
                service: nope(),
                ..Default::default()
            })
        }),
        (RecordKind::Problem, "change", |s| {
            s.tickets.problems[0].change = nope()
        }),
        (RecordKind::Problem, "service", |s| {
            s.tickets.problems[0].service = nope()
        }),
        (RecordKind::Change, "service", |s| {
            s.tickets.changes[0].service = nope()
        }),
        (RecordKind::Release, "change", |s| {
            s.tickets.releases[0].change = nope()
        }),
        (RecordKind::Release, "service", |s| {
            s.tickets.releases[0].service = nope()
        }),
        (RecordKind::ConfigurationItem, "service", |s| {
            s.tickets.cis[0].service = nope()
        }),
    ];

    #[test]
    fn clean_records_have_no_dangling_reference() {
        quiet(&REFERENCE_UNRESOLVED, &clean());
        assert!(run_in(&REFERENCE_UNRESOLVED, &clean(), Edition::Y2011).is_empty());
    }

    #[test]
    fn every_case_names_a_listed_field() {
        for (kind, field, _) in CASES {
            assert!(
                refs::field(*kind, field).is_some(),
                "case {}.{field} is not in refs::FIELDS",
                kind.as_str()
            );
        }
    }

    #[test]
    fn each_dangling_field_fires_under_its_own_clauses() {
        for f in FIELDS {
            let (_, _, make) = CASES
                .iter()
                .find(|c| c.0 == f.kind && c.1 == f.field)
                .unwrap_or_else(|| panic!("no test case for {f:?}"));
            let mut sms = clean();
            make(&mut sms);
            let dangling = refs::unresolved(&sms);
            assert_eq!(dangling.len(), 1, "{f:?}: {dangling:#?}");
            assert!(std::ptr::eq(dangling[0].field, f), "{f:?}: {dangling:#?}");
            assert_eq!(dangling[0].value, NOPE);
            if let Some(by) = f.reported_by {
                // Left to the check that already reports it, which must then fire.
                quiet(&REFERENCE_UNRESOLVED, &sms);
                let other = crate::checks::find(by).unwrap_or_else(|| panic!("{f:?}: no {by}"));
                assert!(!run(other, &sms).is_empty(), "{f:?}: {by} is silent");
                continue;
            }
            let found = fires(&REFERENCE_UNRESOLVED, &sms);
            assert_eq!(found.grade, Grade::Minor);
            assert_eq!(found.clauses_2018, f.clauses_2018, "{f:?}");
            assert_eq!(found.clauses_2011, f.clauses_2011, "{f:?}");
            assert_eq!(found.counts.map(|c| c.0), Some(1));
            assert_eq!(found.evidence.len(), 1, "{f:?}");
            let e = &found.evidence[0];
            assert_eq!((e.kind, e.field), (f.kind, Some(f.field)), "{f:?}");
            assert_eq!(e.value.as_deref(), Some(NOPE));
            assert!(
                e.note.contains(&format!("names {} NOPE", f.target.noun())),
                "{f:?}: {}",
                e.note
            );
            assert!(
                found.title.starts_with("1 reference in "),
                "{}",
                found.title
            );
        }
    }

    #[test]
    fn fields_with_the_same_clauses_share_one_finding() {
        let mut sms = clean();
        sms.management_reviews[0].attendees.push("ghost".into());
        sms.management_reviews[0].minutes = Some("DOC-none".into());
        sms.policy.as_mut().unwrap().approved_by = Some("helena".into());
        let found = run_in(&REFERENCE_UNRESOLVED, &sms, Edition::Y2018);
        assert_eq!(found.len(), 2, "{found:#?}");
        assert_eq!(found[0].clauses_2018, ["5.2.1"]);
        assert_eq!(found[0].evidence[0].id, "DOC-policy");
        assert_eq!(found[1].clauses_2018, ["9.3"]);
        assert_eq!(found[1].clauses_2011, ["4.5.4.3"]);
        assert_eq!(
            found[1].title,
            "2 references in management reviews name records that do not exist"
        );
        assert_eq!(found[1].evidence.len(), 2);
    }

    #[test]
    fn large_tables_keep_a_sample_and_count_everything() {
        let mut sms = clean();
        let proto = sms.tickets.incidents[0].clone();
        sms.tickets.incidents = (0..250)
            .map(|n| crate::model::Incident {
                id: format!("INC-{n}"),
                problem: Some(format!("PRB-X{n}")),
                ..proto.clone()
            })
            .collect();
        let f = fires(&REFERENCE_UNRESOLVED, &sms);
        assert_eq!(
            f.counts,
            Some((250, 500)),
            "problem and ci of 250 incidents"
        );
        assert_eq!(f.evidence.len(), EVIDENCE_LIMIT + 1);
        assert!(f.evidence[EVIDENCE_LIMIT].note.contains("150 more"));
    }

    #[test]
    fn a_field_inside_a_list_points_at_its_record_and_names_the_entry() {
        let mut sms = clean();
        sms.management_reviews[0].actions[0].owner = Some("helena".into());
        let d = refs::unresolved(&sms);
        assert_eq!(
            (d[0].record.as_str(), d[0].item.as_deref()),
            ("MR-1", Some("MR-1-A1"))
        );
        let f = fires(&REFERENCE_UNRESOLVED, &sms);
        let e = &f.evidence[0];
        assert_eq!(
            (e.kind, e.id.as_str()),
            (RecordKind::ManagementReview, "MR-1")
        );
        assert_eq!(
            e.note,
            "MR-1-A1 names person helena, which is not in the people register"
        );
    }
}
