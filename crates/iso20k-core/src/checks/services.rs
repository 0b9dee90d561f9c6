//! Services and SLAs: a catalogue that names every service and its owner, an SLA with numeric
//! targets for each service in scope, reviewed with the customer, and a plan for each new one.

use std::collections::{BTreeMap, HashSet};

use super::{Check, Context, Evidence, Examines, RecordKind, by_extent, n};
use crate::interval::Activity;
use crate::model::{Lifecycle, Service};

fn in_service<'a>(cx: &Context<'a>) -> impl Iterator<Item = &'a Service> {
    cx.sms
        .services
        .iter()
        .filter(|s| s.lifecycle != Lifecycle::Retired)
}

/// Live services in scope: those that need an SLA.
fn live_in_scope<'a>(cx: &Context<'a>) -> impl Iterator<Item = &'a Service> {
    in_service(cx).filter(|s| s.in_scope && s.lifecycle == Lifecycle::Live)
}

/// Every record that names a service (SLAs, incidents, problems, changes, releases and
/// configuration items): its kind, its id and the service it names.
fn naming_records<'a>(cx: &Context<'a>) -> impl Iterator<Item = (RecordKind, &'a str, &'a str)> {
    let t = &cx.sms.tickets;
    cx.sms
        .slas
        .iter()
        .map(|a| (RecordKind::Sla, a.id.as_str(), Some(a.service.as_str())))
        .chain(
            t.incidents
                .iter()
                .map(|i| (RecordKind::Incident, i.id.as_str(), i.service.as_deref())),
        )
        .chain(
            t.problems
                .iter()
                .map(|p| (RecordKind::Problem, p.id.as_str(), p.service.as_deref())),
        )
        .chain(
            t.changes
                .iter()
                .map(|c| (RecordKind::Change, c.id.as_str(), c.service.as_deref())),
        )
        .chain(
            t.releases
                .iter()
                .map(|r| (RecordKind::Release, r.id.as_str(), r.service.as_deref())),
        )
        .chain(t.cis.iter().map(|c| {
            (
                RecordKind::ConfigurationItem,
                c.id.as_str(),
                c.service.as_deref(),
            )
        }))
        .filter_map(|(kind, id, service)| Some((kind, id, service.filter(|s| !s.is_empty())?)))
}

/// New services: planned, in transition, or gone live within the `new_service_window`.
fn new_services<'a>(cx: &Context<'a>) -> impl Iterator<Item = &'a Service> {
    let since = cx.since(Activity::NewServiceWindow);
    let as_of = cx.as_of;
    in_service(cx).filter(move |s| match s.lifecycle {
        Lifecycle::Planned | Lifecycle::Transition => true,
        Lifecycle::Live => s.live_on.is_some_and(|d| d >= since && d <= as_of),
        Lifecycle::Retired => false,
    })
}

/// Services retired within the `new_service_window`, or retired with no date.
fn recently_retired<'a>(cx: &Context<'a>) -> impl Iterator<Item = &'a Service> {
    let since = cx.since(Activity::NewServiceWindow);
    let as_of = cx.as_of;
    cx.sms.services.iter().filter(move |s| {
        s.lifecycle == Lifecycle::Retired && s.retired_on.is_none_or(|d| d >= since && d <= as_of)
    })
}

pub(super) static SERVICE_NO_SLA: Check = Check {
    id: "service-no-sla",
    pattern: "F-005",
    title: "In-scope service without an SLA",
    clauses_2018: &["8.3.3"],
    clauses_2011: &["6.1"],
    doc: "Fires for each live, in-scope service that no SLA names. Graded by extent over the \
          live services in scope.",
    examines: Examines::Records(|cx| live_in_scope(cx).count()),
    evaluate: |cx, out| {
        let live: Vec<_> = live_in_scope(cx).collect();
        let bad: Vec<_> = live
            .iter()
            .filter(|s| !cx.sms.slas.iter().any(|a| a.service == s.id))
            .map(|s| Evidence::new(RecordKind::Service, &s.id, format!("{} has no SLA", s.name)))
            .collect();
        SERVICE_NO_SLA.report_extent(
            out,
            bad,
            live.len(),
            "live services in scope have no SLA",
            None,
        );
    },
};

pub(super) static SLA_NO_NUMERIC_TARGET: Check = Check {
    id: "sla-no-numeric-target",
    pattern: "F-054",
    title: "SLA without a numeric target",
    clauses_2018: &["8.3.3"],
    clauses_2011: &["6.1"],
    doc: "Fires for each SLA with no targets, or with a target written in words rather than as \
          a number. Graded by extent over the SLAs.",
    examines: Examines::Records(|cx| cx.sms.slas.len()),
    evaluate: |cx, out| {
        let slas = &cx.sms.slas;
        let bad: Vec<_> = slas
            .iter()
            .filter_map(|a| {
                if a.targets.is_empty() {
                    return Some(
                        Evidence::new(RecordKind::Sla, &a.id, "no service level targets")
                            .field("targets", None::<String>),
                    );
                }
                let vague: Vec<_> = a
                    .targets
                    .iter()
                    .filter(|t| t.target.as_ref().and_then(|t| t.number()).is_none())
                    .map(|t| match &t.target {
                        Some(crate::model::Target::Text(words)) => format!("{}: {words}", t.metric),
                        _ => format!("{}: no target", t.metric),
                    })
                    .collect();
                (!vague.is_empty()).then(|| {
                    Evidence::new(RecordKind::Sla, &a.id, "target not a number")
                        .field("targets", Some(vague.join("; ")))
                })
            })
            .collect();
        SLA_NO_NUMERIC_TARGET.report_extent(
            out,
            bad,
            slas.len(),
            "SLAs have a target nobody can measure",
            None,
        );
    },
};

pub(super) static SLA_REVIEW_OVERDUE: Check = Check {
    id: "sla-review-overdue",
    pattern: "F-055",
    title: "SLA not reviewed within its interval",
    clauses_2018: &["8.3.3"],
    clauses_2011: &["6.1"],
    doc: "Fires for each SLA whose last review with the customer (or its agreement) is older \
          than its own `review_interval`, else the `sla_review` interval (default 12 months). \
          Graded by extent over the SLAs.",
    examines: Examines::Records(|cx| cx.sms.slas.len()),
    evaluate: |cx, out| {
        let slas = &cx.sms.slas;
        let default = cx.interval(Activity::SlaReview);
        let bad: Vec<_> = slas
            .iter()
            .filter(|a| cx.overdue(a.reviewed(), a.review_interval.unwrap_or(default)))
            .map(|a| {
                Evidence::new(
                    RecordKind::Sla,
                    &a.id,
                    format!("not reviewed with {} in its interval", a.customer),
                )
                .field("last_reviewed_on", a.reviewed())
            })
            .collect();
        SLA_REVIEW_OVERDUE.report_extent(out, bad, slas.len(), "SLAs are overdue for review", None);
    },
};

pub(super) static SERVICE_NO_OWNER: Check = Check {
    id: "service-no-owner",
    pattern: "F-053",
    title: "Catalogue service without an owner",
    clauses_2018: &["8.2.4"],
    clauses_2011: &["6.1"],
    doc: "Fires for each service not retired whose `owner` is empty, unknown or gone. Graded by \
          extent over those services.",
    examines: Examines::Records(|cx| in_service(cx).count()),
    evaluate: |cx, out| {
        let services: Vec<_> = in_service(cx).collect();
        let bad: Vec<_> = services
            .iter()
            .filter_map(|s| match &s.owner {
                None => Some(
                    Evidence::new(RecordKind::Service, &s.id, "no owner")
                        .field("owner", None::<String>),
                ),
                Some(o) if !cx.is_active_person(o) => Some(
                    Evidence::new(RecordKind::Service, &s.id, "owner unknown or gone")
                        .field("owner", Some(o)),
                ),
                Some(_) => None,
            })
            .collect();
        SERVICE_NO_OWNER.report_extent(out, bad, services.len(), "services have no owner", None);
    },
};

/// The first record naming an unknown service, and how many records of each kind name it.
type Naming<'a> = (RecordKind, &'a str, Vec<(RecordKind, usize)>);

pub(super) static SERVICE_NOT_IN_CATALOGUE: Check = Check {
    id: "service-not-in-catalogue",
    pattern: "F-053",
    title: "Service named in SLAs or tickets but missing from the catalogue",
    clauses_2018: &["8.2.4"],
    clauses_2011: &["6.1"],
    doc: "Collects the services named by SLAs, incidents, problems, changes, releases and \
          configuration items, and fires for each one the catalogue lacks (by id or by name), \
          pointing at the first \
          record that names it and counting the rest. Minor; major when the unknown services are \
          three or more and a third of the catalogue's size.",
    examines: Examines::Records(|cx| naming_records(cx).count()),
    evaluate: |cx, out| {
        // Unknown service -> the first record naming it, and how many records of each kind do.
        let mut unknown: BTreeMap<&str, Naming> = BTreeMap::new();
        // Exports name services by their display name as often as by id; either will do.
        let catalogue: HashSet<&str> = cx
            .sms
            .services
            .iter()
            .flat_map(|s| [s.id.as_str(), s.name.as_str()])
            .collect();
        for (kind, id, service) in naming_records(cx) {
            if catalogue.contains(service) {
                continue;
            }
            let counts = &mut unknown.entry(service).or_insert((kind, id, Vec::new())).2;
            match counts.iter_mut().find(|c| c.0 == kind) {
                Some(c) => c.1 += 1,
                None => counts.push((kind, 1)),
            }
        }
        if unknown.is_empty() {
            return;
        }
        let grade = by_extent(unknown.len(), cx.sms.services.len() + unknown.len());
        let evidence = unknown.iter().map(|(service, (kind, id, counts))| {
            let total: usize = counts.iter().map(|c| c.1).sum();
            let note = if total == 1 {
                format!("names service {service}, which the catalogue lacks")
            } else {
                let by_kind: Vec<_> = counts.iter().map(|(k, c)| format!("{c} {}", k.as_str())).collect();
                format!("first of {total} records ({}) naming service {service}, which the catalogue lacks", by_kind.join(", "))
            };
            Evidence::new(*kind, *id, note).field("service", Some(service))
        });
        out.push(
            SERVICE_NOT_IN_CATALOGUE
                .finding(
                    grade,
                    format!(
                        "{} missing from the service catalogue",
                        n(unknown.len(), "service in use is", "services in use are")
                    ),
                )
                .counted(unknown.len(), cx.sms.services.len() + unknown.len())
                .with_all(evidence),
        );
    },
};

pub(super) static SERVICE_NO_TRANSITION_PLAN: Check = Check {
    id: "service-no-transition-plan",
    pattern: "F-047",
    title: "New service without a design and transition plan",
    clauses_2018: &["8.5.2.1"],
    clauses_2011: &["5.2"],
    doc: "A service is new while planned or in transition, or when it went live within the \
          `new_service_window` (default 12 months). Fires for each new service whose \
          `transition_plan` is empty or names no document in the register. Graded by extent over \
          the new services.",
    examines: Examines::Records(|cx| new_services(cx).count()),
    evaluate: |cx, out| {
        let new: Vec<_> = new_services(cx).collect();
        let bad: Vec<_> = new
            .iter()
            .filter_map(|s| match &s.transition_plan {
                None => Some(
                    Evidence::new(RecordKind::Service, &s.id, "no design and transition plan")
                        .field("transition_plan", None::<String>),
                ),
                Some(p) if !cx.sms.documents.iter().any(|d| &d.id == p) => Some(
                    Evidence::new(
                        RecordKind::Service,
                        &s.id,
                        "plan not in the document register",
                    )
                    .field("transition_plan", Some(p)),
                ),
                Some(_) => None,
            })
            .collect();
        SERVICE_NO_TRANSITION_PLAN.report_extent(
            out,
            bad,
            new.len(),
            "new services have no design and transition plan",
            None,
        );
    },
};

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::testing::{clean, fires, ids, quiet};
    use crate::kb::Grade;
    use crate::model::{Incident, Service, Target};
    use jiff::civil::date;

    fn service(id: &str) -> Service {
        Service {
            id: id.into(),
            name: id.into(),
            owner: Some("sm".into()),
            in_scope: true,
            ..Default::default()
        }
    }

    #[test]
    fn live_services_in_scope_need_an_sla() {
        quiet(&SERVICE_NO_SLA, &clean());
        let mut sms = clean();
        sms.services.push(service("S-WEB"));
        let mut out_of_scope = service("S-LAB");
        out_of_scope.in_scope = false;
        sms.services.push(out_of_scope);
        let f = fires(&SERVICE_NO_SLA, &sms);
        assert_eq!((ids(&f), f.grade), (vec!["S-WEB"], Grade::Minor));
    }

    #[test]
    fn sla_targets_must_be_numbers() {
        quiet(&SLA_NO_NUMERIC_TARGET, &clean());
        let mut sms = clean();
        sms.slas[0].targets[0].target = Some(Target::Text("best effort".into()));
        let f = fires(&SLA_NO_NUMERIC_TARGET, &sms);
        assert_eq!(
            f.evidence[0].value.as_deref(),
            Some("availability: best effort")
        );
    }

    #[test]
    fn slas_are_reviewed_within_their_interval() {
        quiet(&SLA_REVIEW_OVERDUE, &clean());
        let mut sms = clean();
        sms.slas[0].last_reviewed_on = Some(date(2025, 5, 1));
        assert_eq!(ids(&fires(&SLA_REVIEW_OVERDUE, &sms)), ["SLA-1"]);
        sms.slas[0].review_interval = Some(crate::interval::Interval::Months(18));
        quiet(&SLA_REVIEW_OVERDUE, &sms);
    }

    #[test]
    fn services_need_an_owner_still_here() {
        quiet(&SERVICE_NO_OWNER, &clean());
        let mut sms = clean();
        sms.services[0].owner = Some("ghost".into());
        assert_eq!(ids(&fires(&SERVICE_NO_OWNER, &sms)), ["S-MAIL"]);
    }

    #[test]
    fn services_in_use_must_be_in_the_catalogue() {
        quiet(&SERVICE_NOT_IN_CATALOGUE, &clean());
        let mut sms = clean();
        for n in 2..5 {
            let i = Incident {
                id: format!("INC-{n}"),
                service: Some("S-VPN".into()),
                ..Default::default()
            };
            sms.tickets.incidents.push(i);
        }
        sms.slas[0].service = "S-MAIL2".into();
        let f = fires(&SERVICE_NOT_IN_CATALOGUE, &sms);
        assert_eq!(ids(&f), ["SLA-1", "INC-2"]);
        assert!(
            f.evidence[1]
                .note
                .starts_with("first of 3 records (3 incident)"),
            "{}",
            f.evidence[1].note
        );
    }

    #[test]
    fn new_services_need_a_transition_plan_on_file() {
        quiet(&SERVICE_NO_TRANSITION_PLAN, &clean());
        let mut sms = clean();
        let mut s = service("S-NEW");
        s.live_on = Some(date(2026, 2, 1));
        sms.services.push(s);
        let mut planned = service("S-PLAN");
        planned.lifecycle = Lifecycle::Planned;
        planned.transition_plan = Some("TP-1".into());
        sms.services.push(planned);
        assert_eq!(ids(&fires(&SERVICE_NO_TRANSITION_PLAN, &sms)), ["S-NEW"]);
        sms.services[1].transition_plan = Some("TP-404".into());
        assert_eq!(
            fires(&SERVICE_NO_TRANSITION_PLAN, &sms).evidence[0]
                .value
                .as_deref(),
            Some("TP-404")
        );
    }
}

pub(super) static SERVICE_RETIRED_NO_PLAN: Check = Check {
    id: "service-retired-no-plan",
    pattern: "F-049",
    title: "Service removed without a plan",
    clauses_2018: &["8.5.2.1"],
    clauses_2011: &["5.2"],
    doc: "Fires for each service retired within the `new_service_window` (default 12 months), or \
          retired with no date, whose `transition_plan` (here: the removal plan) is empty or \
          names no document in the register. Minor.",
    examines: Examines::Records(|cx| recently_retired(cx).count()),
    evaluate: |cx, out| {
        let evidence: Vec<_> = recently_retired(cx)
            .filter(|s| {
                s.transition_plan
                    .as_ref()
                    .is_none_or(|p| !cx.sms.documents.iter().any(|d| &d.id == p))
            })
            .map(|s| {
                Evidence::new(
                    RecordKind::Service,
                    &s.id,
                    format!("{} retired with no removal plan on file", s.name),
                )
                .field("retired_on", s.retired_on)
            })
            .collect();
        if !evidence.is_empty() {
            out.push(
                SERVICE_RETIRED_NO_PLAN
                    .finding(
                        crate::kb::Grade::Minor,
                        format!(
                            "{} without a plan",
                            n(
                                evidence.len(),
                                "service was removed",
                                "services were removed"
                            )
                        ),
                    )
                    .with_all(evidence),
            );
        }
    },
};

#[cfg(test)]
mod removal_tests {
    use super::*;
    use crate::checks::testing::{clean, fires, ids, quiet};
    use jiff::civil::date;

    #[test]
    fn removing_a_service_is_planned() {
        quiet(&SERVICE_RETIRED_NO_PLAN, &clean());
        let mut sms = clean();
        sms.services[0].lifecycle = Lifecycle::Retired;
        sms.services[0].retired_on = Some(date(2026, 5, 1));
        assert_eq!(ids(&fires(&SERVICE_RETIRED_NO_PLAN, &sms)), ["S-MAIL"]);
        sms.services[0].retired_on = Some(date(2024, 5, 1));
        quiet(&SERVICE_RETIRED_NO_PLAN, &sms);
    }
}
