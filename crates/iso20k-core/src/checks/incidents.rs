//! Incidents and problems, as an auditor samples them from the ticket tool: classified and
//! resolved incidents, a problem record behind every major or recurring incident, and problems
//! that end in a root cause, a known error or a change.

use std::collections::{HashMap, HashSet};

use super::{Check, Context, Evidence, Examines, RecordKind, by_extent, capped, n};
use crate::interval::Activity;
use crate::kb::Grade;
use crate::model::{Attainment, Incident, Problem, Sla};
use crate::refs::{Index, Target};

fn opened_by(i: &Incident, as_of: crate::Date) -> bool {
    i.opened_at.is_none_or(|t| t.date() <= as_of)
}

/// Incidents opened on or before the as-of date (or undated).
fn opened<'a>(cx: &Context<'a>) -> impl Iterator<Item = &'a Incident> {
    let as_of = cx.as_of;
    cx.sms
        .tickets
        .incidents
        .iter()
        .filter(move |i| opened_by(i, as_of))
}

/// Incidents closed on or before the as-of date.
fn closed_incidents<'a>(cx: &Context<'a>) -> impl Iterator<Item = &'a Incident> {
    let as_of = cx.as_of;
    cx.sms
        .tickets
        .incidents
        .iter()
        .filter(move |i| i.closed_at.is_some_and(|t| t.date() <= as_of))
}

/// Major incidents (flagged, or of a major priority) opened longer ago than
/// `major_incident_problem`, or undated.
fn major_incidents<'a>(cx: &Context<'a>) -> impl Iterator<Item = &'a Incident> {
    let org = &cx.sms.organisation;
    let deadline = cx.since(Activity::MajorIncidentProblem);
    cx.sms
        .tickets
        .incidents
        .iter()
        .filter(move |i| i.major || i.priority.is_some_and(|p| org.is_major_priority(p)))
        .filter(move |i| i.opened_at.is_none_or(|t| t.date() <= deadline))
}

/// The configuration item of an incident and the day it was opened, when it names one and was
/// opened on or before `as_of`.
fn on_item(i: &Incident, as_of: crate::Date) -> Option<(&str, crate::Date)> {
    let (ci, opened) = (i.ci.as_deref()?, i.opened_at?.date());
    (opened <= as_of).then_some((ci, opened))
}

/// The configuration items with incidents opened on or before the as-of date.
fn items_with_incidents(cx: &Context<'_>) -> usize {
    cx.sms
        .tickets
        .incidents
        .iter()
        .filter_map(|i| on_item(i, cx.as_of).map(|(ci, _)| ci))
        .collect::<HashSet<_>>()
        .len()
}

/// Problems closed on or before the as-of date.
fn closed_problems<'a>(cx: &Context<'a>) -> impl Iterator<Item = &'a Problem> {
    let as_of = cx.as_of;
    cx.sms
        .tickets
        .problems
        .iter()
        .filter(move |p| p.closed_at.is_some_and(|t| t.date() <= as_of))
}

/// Problems closed on or before the as-of date with a root cause: fixed.
fn fixed_problems<'a>(cx: &Context<'a>) -> impl Iterator<Item = &'a Problem> {
    closed_problems(cx).filter(|p| p.root_cause.is_some())
}

/// Problems open on the as-of date whose root cause is known.
fn open_with_known_cause<'a>(cx: &Context<'a>) -> impl Iterator<Item = &'a Problem> {
    let as_of = cx.as_of;
    cx.sms
        .tickets
        .problems
        .iter()
        .filter(move |p| {
            p.opened_at.is_none_or(|t| t.date() <= as_of)
                && p.closed_at.is_none_or(|t| t.date() > as_of)
        })
        .filter(|p| p.root_cause.is_some())
}

/// Incidents closed within `ticket_window` whose SLA outcome is known.
fn sla_outcomes<'a>(cx: &Context<'a>) -> impl Iterator<Item = &'a Incident> {
    let since = cx.since(Activity::TicketWindow);
    let as_of = cx.as_of;
    cx.sms.tickets.incidents.iter().filter(move |i| {
        i.closed_at
            .is_some_and(|t| t.date() >= since && t.date() <= as_of)
            && i.sla_met.is_some()
    })
}

/// The names an SLA's service goes by: its id, and its name in the catalogue.
fn service_names<'a>(cx: &Context<'a>, sla: &'a Sla) -> Vec<&'a str> {
    std::iter::once(sla.service.as_str())
        .chain(cx.sms.service(&sla.service).map(|s| s.name.as_str()))
        .collect()
}

/// Whether an attainment promise of an SLA whose service goes by `names` covers an incident.
fn covers(names: &[&str], promise: &Attainment, i: &Incident) -> bool {
    i.service.as_deref().is_some_and(|s| names.contains(&s))
        && promise.priority.is_none_or(|p| i.priority == Some(p))
}

/// The incidents some SLA attainment promise is judged on.
fn promised_incidents(cx: &Context<'_>) -> usize {
    let promises: Vec<(Vec<&str>, &Attainment)> = cx
        .sms
        .slas
        .iter()
        .filter(|sla| !sla.attainment.is_empty())
        .flat_map(|sla| {
            let names = service_names(cx, sla);
            sla.attainment.iter().map(move |p| (names.clone(), p))
        })
        .collect();
    if promises.is_empty() {
        return 0;
    }
    sla_outcomes(cx)
        .filter(|i| promises.iter().any(|(names, p)| covers(names, p, i)))
        .count()
}

/// Incidents closed within `ticket_window` that breached their SLA.
fn breached_incidents<'a>(cx: &Context<'a>) -> impl Iterator<Item = &'a Incident> {
    let since = cx.since(Activity::TicketWindow);
    let as_of = cx.as_of;
    cx.sms.tickets.incidents.iter().filter(move |i| {
        i.sla_met == Some(false)
            && i.closed_at
                .is_some_and(|t| t.date() >= since && t.date() <= as_of)
    })
}

pub(super) static INCIDENT_UNCLASSIFIED: Check = Check {
    id: "incident-unclassified",
    pattern: "F-087",
    title: "Incidents without priority, category or configuration item",
    clauses_2018: &["8.6.1"],
    clauses_2011: &["8.1"],
    doc: "Fires for each incident recorded without a priority, a category or a configuration \
          item: it cannot have been prioritised or routed consistently. Graded by extent over the \
          incidents.",
    examines: Examines::Records(|cx| opened(cx).count()),
    evaluate: |cx, out| {
        let incidents: Vec<_> = opened(cx).collect();
        let bad: Vec<_> = incidents
            .iter()
            .filter_map(|i| {
                let missing: Vec<_> = [
                    ("priority", i.priority.is_none()),
                    ("category", i.category.is_none()),
                    ("ci", i.ci.is_none()),
                ]
                .into_iter()
                .filter(|m| m.1)
                .map(|m| m.0)
                .collect();
                (!missing.is_empty()).then(|| {
                    Evidence::new(
                        RecordKind::Incident,
                        &i.id,
                        format!("no {}", missing.join(", no ")),
                    )
                    .field(missing[0], None::<String>)
                })
            })
            .collect();
        INCIDENT_UNCLASSIFIED.report_extent(
            out,
            bad,
            incidents.len(),
            "incidents are not fully classified",
            Some("incidents"),
        );
    },
};

pub(super) static INCIDENT_CLOSED_WITHOUT_RESOLUTION: Check = Check {
    id: "incident-closed-without-resolution",
    pattern: "F-088",
    title: "Incidents closed without a resolution",
    clauses_2018: &["8.6.1"],
    clauses_2011: &["8.1"],
    doc: "Fires for each incident closed on or before the as-of date with no resolution code or \
          notes. Graded by extent over the closed incidents.",
    examines: Examines::Records(|cx| closed_incidents(cx).count()),
    evaluate: |cx, out| {
        let closed: Vec<_> = closed_incidents(cx).collect();
        let bad: Vec<_> = closed
            .iter()
            .filter(|i| i.resolution.is_none())
            .map(|i| {
                Evidence::new(
                    RecordKind::Incident,
                    &i.id,
                    "closed with no resolution recorded",
                )
                .field("resolution", None::<String>)
            })
            .collect();
        INCIDENT_CLOSED_WITHOUT_RESOLUTION.report_extent(
            out,
            bad,
            closed.len(),
            "closed incidents record no resolution",
            Some("incidents"),
        );
    },
};

pub(super) static MAJOR_INCIDENT_NO_PROBLEM: Check = Check {
    id: "major-incident-no-problem",
    pattern: "F-091",
    title: "Major or priority 1 incident without a problem record",
    clauses_2018: &["8.6.1", "8.6.3"],
    clauses_2011: &["8.1", "8.2"],
    doc: "An incident is major when flagged so or when its priority is at or above the \
          organisation's `major_priority` (default 1). Fires for each major incident opened \
          longer ago than `major_incident_problem` (default 5 days) with no linked problem (a `problem` the problem table lacks links nothing), and \
          lists every one. An auditor expectation rather than the standard's words; graded by \
          extent over the major incidents.",
    examines: Examines::Records(|cx| major_incidents(cx).count()),
    evaluate: |cx, out| {
        // A problem id the problem table lacks links to nothing.
        let index = Index::new(cx.sms);
        let major: Vec<_> = major_incidents(cx).collect();
        let bad: Vec<_> = major
            .iter()
            .filter(|i| {
                index
                    .resolved(Target::Problem, i.problem.as_deref())
                    .is_none()
            })
            .map(|i| {
                let p = i
                    .priority
                    .map(|p| format!("priority {p}"))
                    .unwrap_or_else(|| "major".into());
                let note = match &i.problem {
                    None => format!("{p} incident with no problem record"),
                    Some(x) => format!("{p} incident linked to problem {x}, which is not recorded"),
                };
                Evidence::new(RecordKind::Incident, &i.id, note)
                    .field("problem", i.problem.as_deref())
            })
            .collect();
        if !bad.is_empty() {
            // Every such incident is listed: this is the sample an auditor asks for first.
            out.push(
                MAJOR_INCIDENT_NO_PROBLEM
                    .finding(
                        by_extent(bad.len(), major.len()),
                        format!(
                            "{} of {} major incidents have no problem record",
                            bad.len(),
                            major.len()
                        ),
                    )
                    .counted(bad.len(), major.len())
                    .with_all(bad),
            );
        }
    },
};

pub(super) static RECURRING_INCIDENTS_NO_PROBLEM: Check = Check {
    id: "recurring-incidents-no-problem",
    pattern: "F-092",
    title: "Repeated incidents on one configuration item without a problem record",
    clauses_2018: &["8.6.3"],
    clauses_2011: &["8.2"],
    doc: "Fires for each configuration item with three or more incidents opened within one \
          `recurring_incidents` window (default 30 days) none of which is linked to a problem in the problem table: \
          nobody looked for the common cause. Graded by extent over the items with incidents.",
    examines: Examines::Records(items_with_incidents),
    evaluate: |cx, out| {
        let window = cx.interval(Activity::RecurringIncidents);
        // A problem id the problem table lacks links to nothing.
        let index = Index::new(cx.sms);
        // Number the items, then one sort of plain integers by item and date and a walk along
        // each item: far cheaper than grouping or sorting a million incidents by name.
        let mut numbers: HashMap<&str, u32> = HashMap::new();
        let mut names: Vec<&str> = Vec::new();
        let mut all: Vec<(u32, crate::Date, bool, u32)> = cx
            .sms
            .tickets
            .incidents
            .iter()
            .enumerate()
            .filter_map(|(n, i)| {
                let (ci, opened) = on_item(i, cx.as_of)?;
                let item = *numbers.entry(ci).or_insert_with(|| {
                    names.push(ci);
                    names.len() as u32 - 1
                });
                let linked = index
                    .resolved(Target::Problem, i.problem.as_deref())
                    .is_some();
                Some((item, opened, linked, n as u32))
            })
            .collect();
        all.sort_unstable();
        let incidents = &cx.sms.tickets.incidents;
        let mut items = 0;
        let mut bad = Vec::new();
        for list in all.chunk_by(|a, b| a.0 == b.0) {
            items += 1;
            let ci = names[list[0].0 as usize];
            // Slide a window of dates over the incidents: every incident on the window's last
            // day belongs to it, so the result does not depend on the order within a day. A
            // burst of three with no problem among them is enough.
            let mut start = 0;
            let mut end = 0;
            while end < list.len() {
                let day = list[end].1;
                while end + 1 < list.len() && list[end + 1].1 == day {
                    end += 1;
                }
                let earliest = window.before(day);
                while list[start].1 < earliest {
                    start += 1;
                }
                let burst = &list[start..=end];
                if burst.len() >= 3 && burst.iter().all(|x| !x.2) {
                    let ids: Vec<_> = burst
                        .iter()
                        .map(|x| incidents[x.3 as usize].id.as_str())
                        .collect();
                    bad.push(
                        Evidence::new(
                            RecordKind::ConfigurationItem,
                            ci,
                            format!(
                                "{} incidents from {} to {}, none linked to a problem",
                                burst.len(),
                                burst[0].1,
                                burst[burst.len() - 1].1
                            ),
                        )
                        .field("incidents", Some(ids.join(", "))),
                    );
                    break;
                }
                end += 1;
            }
        }
        bad.sort_by(|a, b| a.id.cmp(&b.id));
        if !bad.is_empty() {
            out.push(
                RECURRING_INCIDENTS_NO_PROBLEM
                    .finding(
                        by_extent(bad.len(), items),
                        format!(
                            "{} repeated incidents and no problem record",
                            n(
                                bad.len(),
                                "configuration item has",
                                "configuration items have"
                            )
                        ),
                    )
                    .counted(bad.len(), items)
                    .with_all(capped(bad, "cis")),
            );
        }
    },
};

pub(super) static PROBLEM_NO_ROOT_CAUSE: Check = Check {
    id: "problem-no-root-cause",
    pattern: "F-093",
    title: "Problems closed without a root cause",
    clauses_2018: &["8.6.3"],
    clauses_2011: &["8.2"],
    doc: "Fires for each problem closed on or before the as-of date with no root cause recorded. \
          Graded by extent over the closed problems.",
    examines: Examines::Records(|cx| closed_problems(cx).count()),
    evaluate: |cx, out| {
        let closed: Vec<_> = closed_problems(cx).collect();
        let bad: Vec<_> = closed
            .iter()
            .filter(|p| p.root_cause.is_none())
            .map(|p| {
                Evidence::new(RecordKind::Problem, &p.id, "closed with no root cause")
                    .field("root_cause", None::<String>)
            })
            .collect();
        PROBLEM_NO_ROOT_CAUSE.report_extent(
            out,
            bad,
            closed.len(),
            "closed problems have no root cause",
            Some("problems"),
        );
    },
};

pub(super) static PROBLEM_FIX_NO_CHANGE: Check = Check {
    id: "problem-fix-no-change",
    pattern: "F-094",
    title: "Problems fixed without a change record",
    clauses_2018: &["8.6.3"],
    clauses_2011: &["8.2"],
    doc: "Fires for each problem closed with a root cause and linked to no change in the change \
          table: the \
          permanent fix went in outside change management. Graded by extent over those problems.",
    examines: Examines::Records(|cx| fixed_problems(cx).count()),
    evaluate: |cx, out| {
        // A change id the change table lacks links to nothing.
        let index = Index::new(cx.sms);
        let fixed: Vec<_> = fixed_problems(cx).collect();
        let bad: Vec<_> = fixed
            .iter()
            .filter(|p| {
                index
                    .resolved(Target::Change, p.change.as_deref())
                    .is_none()
            })
            .map(|p| {
                let note = match &p.change {
                    None => "fixed with no change linked".to_string(),
                    Some(c) => {
                        format!("fixed under change {c}, which is not in the change records")
                    }
                };
                Evidence::new(RecordKind::Problem, &p.id, note).field("change", p.change.as_deref())
            })
            .collect();
        PROBLEM_FIX_NO_CHANGE.report_extent(
            out,
            bad,
            fixed.len(),
            "fixed problems link to no change",
            Some("problems"),
        );
    },
};

pub(super) static KNOWN_ERRORS_MISSING: Check = Check {
    id: "known-errors-missing",
    pattern: "F-110",
    title: "Open problems with a known cause but no known-error record",
    clauses_2018: &["7.6"],
    clauses_2011: &[],
    doc: "2018 only. Fires for each open problem whose root cause is known but which has no \
          known-error record, so the service desk cannot use what is already known. Observation.",
    examines: Examines::Records(|cx| open_with_known_cause(cx).count()),
    evaluate: |cx, out| {
        let evidence: Vec<_> = open_with_known_cause(cx)
            .filter(|p| !p.known_error)
            .map(|p| {
                Evidence::new(
                    RecordKind::Problem,
                    &p.id,
                    "root cause known, no known-error record",
                )
                .field("known_error", Some("no"))
            })
            .collect();
        if !evidence.is_empty() {
            out.push(
                KNOWN_ERRORS_MISSING
                    .finding(
                        Grade::Observation,
                        format!(
                            "{} known cause but no known-error record",
                            n(evidence.len(), "open problem has a", "open problems have a")
                        ),
                    )
                    .counted(evidence.len(), evidence.len())
                    .with_all(capped(evidence, "problems")),
            );
        }
    },
};

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::testing::{clean, fires, ids, quiet};
    use crate::model::{Incident, Problem};
    use jiff::civil::date;

    fn incident(id: &str, day: i8, ci: &str) -> Incident {
        Incident {
            id: id.into(),
            opened_at: Some(date(2026, 5, day).at(9, 0, 0, 0)),
            priority: Some(3),
            category: Some("network".into()),
            ci: Some(ci.into()),
            service: Some("S-MAIL".into()),
            ..Default::default()
        }
    }

    #[test]
    fn incidents_are_classified() {
        quiet(&INCIDENT_UNCLASSIFIED, &clean());
        let mut sms = clean();
        sms.tickets.incidents[0].category = None;
        assert_eq!(
            fires(&INCIDENT_UNCLASSIFIED, &sms).evidence[0].field,
            Some("category")
        );
    }

    #[test]
    fn closed_incidents_record_a_resolution() {
        quiet(&INCIDENT_CLOSED_WITHOUT_RESOLUTION, &clean());
        let mut sms = clean();
        sms.tickets.incidents[0].resolution = None;
        assert_eq!(
            ids(&fires(&INCIDENT_CLOSED_WITHOUT_RESOLUTION, &sms)),
            ["INC-1"]
        );
    }

    #[test]
    fn major_and_priority_1_incidents_get_a_problem_record() {
        quiet(&MAJOR_INCIDENT_NO_PROBLEM, &clean());
        let mut sms = clean();
        let mut p1 = incident("INC-P1", 10, "CI-1");
        p1.priority = Some(1);
        let mut flagged = incident("INC-MAJ", 11, "CI-1");
        flagged.major = true;
        let mut recent = incident("INC-NEW", 1, "CI-1");
        recent.opened_at = Some(date(2026, 6, 28).at(9, 0, 0, 0));
        recent.priority = Some(1);
        sms.tickets.incidents.extend([p1, flagged, recent]);
        let f = fires(&MAJOR_INCIDENT_NO_PROBLEM, &sms);
        assert_eq!(
            ids(&f),
            ["INC-P1", "INC-MAJ"],
            "an incident two days old still has time"
        );
        sms.organisation.major_priority = Some(2);
        sms.tickets.incidents[0].priority = Some(2);
        assert_eq!(fires(&MAJOR_INCIDENT_NO_PROBLEM, &sms).evidence.len(), 3);
    }

    #[test]
    fn three_incidents_on_one_item_within_the_window_need_a_problem() {
        quiet(&RECURRING_INCIDENTS_NO_PROBLEM, &clean());
        let mut sms = clean();
        sms.tickets.incidents.extend([
            incident("A", 1, "CI-9"),
            incident("B", 20, "CI-9"),
            incident("C", 31, "CI-9"),
        ]);
        let f = fires(&RECURRING_INCIDENTS_NO_PROBLEM, &sms);
        assert_eq!(f.evidence[0].value.as_deref(), Some("A, B, C"));
        sms.tickets.incidents.last_mut().unwrap().problem = Some("PRB-1".into());
        quiet(&RECURRING_INCIDENTS_NO_PROBLEM, &sms);
        let mut sms = clean();
        sms.tickets
            .incidents
            .extend([incident("A", 1, "CI-9"), incident("B", 2, "CI-9")]);
        quiet(&RECURRING_INCIDENTS_NO_PROBLEM, &sms);
    }

    #[test]
    fn closed_problems_have_a_root_cause_and_a_change() {
        quiet(&PROBLEM_NO_ROOT_CAUSE, &clean());
        quiet(&PROBLEM_FIX_NO_CHANGE, &clean());
        let mut sms = clean();
        sms.tickets.problems[0].change = None;
        assert_eq!(ids(&fires(&PROBLEM_FIX_NO_CHANGE, &sms)), ["PRB-1"]);
        sms.tickets.problems[0].root_cause = None;
        assert_eq!(ids(&fires(&PROBLEM_NO_ROOT_CAUSE, &sms)), ["PRB-1"]);
        quiet(&PROBLEM_FIX_NO_CHANGE, &sms);
    }

    #[test]
    fn known_causes_become_known_errors() {
        quiet(&KNOWN_ERRORS_MISSING, &clean());
        let mut sms = clean();
        sms.tickets.problems.push(Problem {
            id: "PRB-2".into(),
            root_cause: Some("memory leak".into()),
            ..Default::default()
        });
        let f = fires(&KNOWN_ERRORS_MISSING, &sms);
        assert_eq!((ids(&f), f.grade), (vec!["PRB-2"], Grade::Observation));
    }

    #[test]
    fn a_problem_the_tickets_lack_is_no_problem_record() {
        let mut sms = clean();
        let mut p1 = incident("INC-P1", 10, "CI-1");
        p1.priority = Some(1);
        p1.problem = Some("PRB-404".into());
        sms.tickets.incidents.push(p1);
        let f = fires(&MAJOR_INCIDENT_NO_PROBLEM, &sms);
        assert_eq!(ids(&f), ["INC-P1"]);
        assert_eq!(f.evidence[0].value.as_deref(), Some("PRB-404"));
        sms.tickets.incidents.last_mut().unwrap().problem = Some("PRB-1".into());
        quiet(&MAJOR_INCIDENT_NO_PROBLEM, &sms);

        let mut sms = clean();
        sms.tickets.incidents.extend([
            incident("A", 1, "CI-9"),
            incident("B", 20, "CI-9"),
            incident("C", 31, "CI-9"),
        ]);
        sms.tickets.incidents.last_mut().unwrap().problem = Some("PRB-404".into());
        fires(&RECURRING_INCIDENTS_NO_PROBLEM, &sms);
        sms.tickets.incidents.last_mut().unwrap().problem = Some("PRB-1".into());
        quiet(&RECURRING_INCIDENTS_NO_PROBLEM, &sms);
    }

    #[test]
    fn a_change_the_tickets_lack_is_no_change() {
        let mut sms = clean();
        sms.tickets.problems[0].change = Some("CHG-404".into());
        let f = fires(&PROBLEM_FIX_NO_CHANGE, &sms);
        assert_eq!(
            (ids(&f), f.evidence[0].value.as_deref()),
            (vec!["PRB-1"], Some("CHG-404"))
        );
        sms.tickets.problems[0].change = Some("CHG-2".into());
        quiet(&PROBLEM_FIX_NO_CHANGE, &sms);
    }
}

pub(super) static SLA_ATTAINMENT_BELOW_TARGET: Check = Check {
    id: "sla-attainment-below-target",
    pattern: "F-056",
    title: "Incidents meet their SLA less often than the SLA promises",
    clauses_2018: &["8.3.3"],
    clauses_2011: &["6.1"],
    doc: "For each SLA `attainment` promise (a share of incidents, overall or of one priority, \
          that meet their resolution target), takes the incidents of the SLA's service (by id \
          or name) closed within `ticket_window` (default 12 months) whose SLA outcome is known, \
          and fires when fewer met it than promised, listing the breached ones. Minor; major \
          when the shortfall is ten points or more.",
    examines: Examines::Records(promised_incidents),
    evaluate: |cx, out| {
        let incidents: Vec<_> = sla_outcomes(cx).collect();
        let mut evidence = Vec::new();
        let mut worst = 0.0f64;
        let (mut breached_total, mut examined_total) = (0, 0);
        for sla in &cx.sms.slas {
            let names = service_names(cx, sla);
            for promise in &sla.attainment {
                let covered: Vec<_> = incidents
                    .iter()
                    .filter(|i| covers(&names, promise, i))
                    .collect();
                if covered.is_empty() {
                    continue;
                }
                let breached: Vec<_> = covered
                    .iter()
                    .filter(|i| i.sla_met == Some(false))
                    .collect();
                let met = 100.0 * (covered.len() - breached.len()) as f64 / covered.len() as f64;
                if met + 1e-9 >= promise.target {
                    continue;
                }
                worst = worst.max(promise.target - met);
                breached_total += breached.len();
                examined_total += covered.len();
                let scope = promise
                    .priority
                    .map(|p| format!("priority {p} "))
                    .unwrap_or_default();
                evidence.push(
                    Evidence::new(
                        RecordKind::Sla,
                        &sla.id,
                        format!(
                            "{met:.1}% of {} closed {scope}incidents met their target; {} promised",
                            covered.len(),
                            promise.target
                        ),
                    )
                    .field("attainment", Some(format!("{}%", promise.target))),
                );
                evidence.extend(breached.iter().take(super::EVIDENCE_LIMIT / 4).map(|i| {
                    Evidence::new(
                        RecordKind::Incident,
                        &i.id,
                        format!("breached its target ({})", sla.id),
                    )
                    .field("sla_met", Some("no"))
                }));
            }
        }
        let promises = evidence
            .iter()
            .filter(|e| e.kind == RecordKind::Sla)
            .count();
        if promises > 0 {
            let grade = if worst >= 10.0 {
                Grade::Major
            } else {
                Grade::Minor
            };
            out.push(
                SLA_ATTAINMENT_BELOW_TARGET
                    .finding(
                        grade,
                        format!(
                            "{} by the incidents of the last {}",
                            n(
                                promises,
                                "SLA attainment promise is not kept",
                                "SLA attainment promises are not kept"
                            ),
                            cx.interval(Activity::TicketWindow)
                        ),
                    )
                    .counted(breached_total, examined_total)
                    .with_all(evidence),
            );
        }
    },
};

#[cfg(test)]
mod attainment_tests {
    use super::*;
    use crate::checks::testing::{clean, fires, ids, quiet};
    use crate::model::{Attainment, Incident};
    use jiff::civil::date;

    fn closed(id: &str, priority: u8, met: bool) -> Incident {
        Incident {
            id: id.into(),
            opened_at: Some(date(2026, 5, 1).at(8, 0, 0, 0)),
            closed_at: Some(date(2026, 5, 2).at(8, 0, 0, 0)),
            priority: Some(priority),
            service: Some("Managed e-mail".into()),
            sla_met: Some(met),
            ..Default::default()
        }
    }

    #[test]
    fn promised_attainment_is_compared_with_the_incidents_of_the_window() {
        let mut sms = clean();
        sms.slas[0].attainment = vec![Attainment {
            priority: Some(1),
            target: 90.0,
        }];
        quiet(&SLA_ATTAINMENT_BELOW_TARGET, &sms);
        sms.tickets
            .incidents
            .extend((0..9).map(|i| closed(&format!("P1-{i}"), 1, true)));
        sms.tickets.incidents.push(closed("P1-9", 1, false));
        quiet(&SLA_ATTAINMENT_BELOW_TARGET, &sms);
        sms.tickets.incidents.push(closed("P1-10", 1, false));
        sms.tickets.incidents.push(closed("P3-1", 3, false));
        let f = fires(&SLA_ATTAINMENT_BELOW_TARGET, &sms);
        assert_eq!(ids(&f), ["SLA-1", "P1-9", "P1-10"]);
        assert_eq!((f.grade, f.counts), (Grade::Minor, Some((2, 11))));
        assert!(
            f.evidence[0]
                .note
                .starts_with("81.8% of 11 closed priority 1 incidents"),
            "{}",
            f.evidence[0].note
        );
        sms.slas[0].attainment = vec![Attainment {
            priority: None,
            target: 99.0,
        }];
        assert_eq!(
            fires(&SLA_ATTAINMENT_BELOW_TARGET, &sms).grade,
            Grade::Major
        );
    }
}

pub(super) static BREACHES_NOT_REVIEWED: Check = Check {
    id: "breaches-not-reviewed",
    pattern: "F-056",
    title: "Incidents that breached their SLA were never reviewed",
    clauses_2018: &["8.3.3"],
    clauses_2011: &["6.1"],
    doc: "Fires for each incident closed within `ticket_window` (default 12 months) that breached \
          its SLA and records no `breach_review` (why it breached and what was done). Graded \
          by extent over the breached incidents.",
    examines: Examines::Records(|cx| breached_incidents(cx).count()),
    evaluate: |cx, out| {
        let breached: Vec<_> = breached_incidents(cx).collect();
        let bad: Vec<_> = breached
            .iter()
            .filter(|i| i.breach_review.is_none())
            .map(|i| {
                Evidence::new(
                    RecordKind::Incident,
                    &i.id,
                    "breached its SLA, no review recorded",
                )
                .field("breach_review", None::<String>)
            })
            .collect();
        BREACHES_NOT_REVIEWED.report_extent(
            out,
            bad,
            breached.len(),
            "incidents that breached their SLA were never reviewed",
            Some("incidents"),
        );
    },
};

#[cfg(test)]
mod breach_tests {
    use super::*;
    use crate::checks::testing::{clean, fires, ids, quiet};

    #[test]
    fn breaches_are_reviewed() {
        quiet(&BREACHES_NOT_REVIEWED, &clean());
        let mut sms = clean();
        sms.tickets.incidents[0].sla_met = Some(false);
        assert_eq!(ids(&fires(&BREACHES_NOT_REVIEWED, &sms)), ["INC-1"]);
        sms.tickets.incidents[0].breach_review =
            Some("Carrier fault; escalated to the supplier review".into());
        quiet(&BREACHES_NOT_REVIEWED, &sms);
    }
}
