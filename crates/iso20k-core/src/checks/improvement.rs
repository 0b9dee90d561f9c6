//! Improvement: nonconformities traced to a root cause, corrective actions checked for effect
//! before closure, and improvements with an owner and a measurable target.

use super::{Check, Context, Evidence, Examines, RecordKind, n};
use crate::interval::Activity;
use crate::kb::Grade;
use crate::model::{Improvement, Nonconformity};
use crate::refs::Target;

/// Nonconformities raised on or before the as-of date, or undated.
fn raised_by<'a>(cx: &Context<'a>) -> impl Iterator<Item = &'a Nonconformity> {
    let as_of = cx.as_of;
    cx.sms
        .nonconformities
        .iter()
        .filter(move |n| n.raised_on.is_none_or(|d| d <= as_of))
}

/// Nonconformities closed on or before the as-of date.
fn closed_by<'a>(cx: &Context<'a>) -> impl Iterator<Item = &'a Nonconformity> {
    let as_of = cx.as_of;
    cx.sms
        .nonconformities
        .iter()
        .filter(move |n| n.closed_on.is_some_and(|d| d <= as_of))
}

/// Nonconformities with a date raised on or before the as-of date.
fn dated_by<'a>(cx: &Context<'a>) -> impl Iterator<Item = &'a Nonconformity> {
    let as_of = cx.as_of;
    cx.sms
        .nonconformities
        .iter()
        .filter(move |n| n.raised_on.is_some_and(|d| d <= as_of))
}

/// Improvements completed on or before the as-of date.
fn completed_by<'a>(cx: &Context<'a>) -> impl Iterator<Item = &'a Improvement> {
    let as_of = cx.as_of;
    cx.sms
        .improvements
        .iter()
        .filter(move |i| i.completed_on.is_some_and(|d| d <= as_of))
}

pub(super) static NC_NO_ROOT_CAUSE: Check = Check {
    id: "nc-no-root-cause",
    pattern: "F-041",
    title: "Nonconformity without a root cause",
    clauses_2018: &["10.1"],
    clauses_2011: &["4.5.5.1"],
    doc: "Fires for each nonconformity with no `root_cause` that is closed, already has \
          corrective actions, or was raised longer ago than `nonconformity_root_cause` (default \
          30 days). Graded by extent over the nonconformities.",
    examines: Examines::Records(|cx| raised_by(cx).count()),
    evaluate: |cx, out| {
        let ncs: Vec<_> = raised_by(cx).collect();
        let grace = cx.since(Activity::NonconformityRootCause);
        let bad: Vec<_> = ncs
            .iter()
            .filter(|n| n.root_cause.is_none() && !crate::nc::is_observation(n))
            .filter(|n| {
                n.closed_on.is_some()
                    || !n.actions.is_empty()
                    || n.raised_on.is_none_or(|d| d < grace)
            })
            .map(|n| {
                let why = if n.closed_on.is_some() {
                    "closed without a root cause"
                } else if !n.actions.is_empty() {
                    "actions chosen without a root cause"
                } else {
                    "no root cause recorded in time"
                };
                Evidence::new(RecordKind::Nonconformity, &n.id, why)
                    .field("root_cause", None::<String>)
            })
            .collect();
        NC_NO_ROOT_CAUSE.report_extent(
            out,
            bad,
            ncs.len(),
            "nonconformities have no root cause",
            None,
        );
    },
};

pub(super) static CA_NO_EFFECTIVENESS_CHECK: Check = Check {
    id: "ca-no-effectiveness-check",
    pattern: "F-042",
    title: "Corrective action closed without an effectiveness check",
    clauses_2018: &["10.1"],
    clauses_2011: &["4.5.5.1"],
    doc: "Fires for each nonconformity closed on or before the as-of date with no effectiveness \
          review, with one dated before its last action was implemented, or with one that found \
          the actions did not work. Graded by extent over the closed nonconformities.",
    examines: Examines::Records(|cx| closed_by(cx).count()),
    evaluate: |cx, out| {
        let closed: Vec<_> = closed_by(cx).collect();
        let bad: Vec<_> = closed
            .iter()
            .filter_map(|n| {
                let implemented = n.actions.iter().filter_map(|a| a.implemented_on).max();
                let note = match &n.effectiveness {
                    _ if crate::nc::is_observation(n) => return None,
                    None => "closed with no effectiveness check",
                    Some(e) if e.checked_on.is_none() => {
                        "closed while the effectiveness check was only planned"
                    }
                    Some(e) if implemented.is_some_and(|i| e.checked_on < Some(i)) => {
                        "effectiveness checked before the actions were implemented"
                    }
                    Some(e) if e.effective != Some(true) => {
                        "closed although the check found the actions did not work"
                    }
                    Some(_) => return None,
                };
                Some(Evidence::new(RecordKind::Nonconformity, &n.id, note).field(
                    "effectiveness",
                    n.effectiveness.as_ref().and_then(|e| e.checked_on),
                ))
            })
            .collect();
        CA_NO_EFFECTIVENESS_CHECK.report_extent(
            out,
            bad,
            closed.len(),
            "closed nonconformities were not shown to be fixed",
            None,
        );
    },
};

pub(super) static IMPROVEMENT_INCOMPLETE: Check = Check {
    id: "improvement-incomplete",
    pattern: "F-044",
    title: "Improvement without owner or measurable target",
    clauses_2018: &["10.2"],
    clauses_2011: &["4.5.5.2"],
    doc: "Fires when the improvement register is empty, or for each improvement not yet \
          completed that lacks an `owner` (in the people register) or a `target`. Minor; graded by extent over the open \
          improvements.",
    examines: Examines::Presence,
    evaluate: |cx, out| {
        if cx.sms.improvements.is_empty() {
            out.push(
                IMPROVEMENT_INCOMPLETE
                    .finding(Grade::Minor, "The improvement register is empty")
                    .with(Evidence::new(
                        RecordKind::Register,
                        "improvements",
                        "no improvements recorded",
                    )),
            );
            return;
        }
        let open: Vec<_> = cx
            .sms
            .improvements
            .iter()
            .filter(|i| i.completed_on.is_none())
            .collect();
        let bad: Vec<_> = open
            .iter()
            .filter_map(|i| {
                // An owner who is not in the people register counts as none.
                let owned = i
                    .owner
                    .as_deref()
                    .is_some_and(|o| cx.resolves(Target::Person, o));
                let missing: Vec<_> = [("owner", !owned), ("target", i.target.is_none())]
                    .into_iter()
                    .filter(|m| m.1)
                    .map(|m| m.0)
                    .collect();
                (!missing.is_empty()).then(|| {
                    Evidence::new(
                        RecordKind::Improvement,
                        &i.id,
                        format!("no {}", missing.join(" and no ")),
                    )
                    .field(missing[0], None::<String>)
                })
            })
            .collect();
        IMPROVEMENT_INCOMPLETE.report_extent(
            out,
            bad,
            open.len(),
            "open improvements have no owner or no target",
            None,
        );
    },
};

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::testing::{clean, fires, ids, quiet};
    use jiff::civil::date;

    #[test]
    fn nonconformities_need_a_root_cause_once_acted_on_or_after_the_grace_period() {
        quiet(&NC_NO_ROOT_CAUSE, &clean());
        let mut sms = clean();
        let nc = &mut sms.nonconformities[0];
        nc.root_cause = None;
        nc.closed_on = None;
        nc.actions.clear();
        nc.raised_on = Some(date(2026, 6, 10));
        quiet(&NC_NO_ROOT_CAUSE, &sms);
        sms.nonconformities[0].raised_on = Some(date(2026, 5, 1));
        let f = fires(&NC_NO_ROOT_CAUSE, &sms);
        assert_eq!(
            (ids(&f), f.evidence[0].note.as_str()),
            (vec!["NC-1"], "no root cause recorded in time")
        );
    }

    #[test]
    fn closure_needs_a_later_effectiveness_check_that_worked() {
        quiet(&CA_NO_EFFECTIVENESS_CHECK, &clean());
        let mut sms = clean();
        sms.nonconformities[0]
            .effectiveness
            .as_mut()
            .unwrap()
            .checked_on = Some(date(2026, 5, 1));
        assert_eq!(
            fires(&CA_NO_EFFECTIVENESS_CHECK, &sms).evidence[0].note,
            "effectiveness checked before the actions were implemented"
        );
        sms.nonconformities[0].effectiveness = None;
        assert_eq!(ids(&fires(&CA_NO_EFFECTIVENESS_CHECK, &sms)), ["NC-1"]);
        sms.nonconformities[0].closed_on = None;
        quiet(&CA_NO_EFFECTIVENESS_CHECK, &sms);
    }

    #[test]
    fn improvements_need_owner_and_target() {
        quiet(&IMPROVEMENT_INCOMPLETE, &clean());
        let mut sms = clean();
        sms.improvements[0].target = None;
        assert_eq!(
            fires(&IMPROVEMENT_INCOMPLETE, &sms).evidence[0].field,
            Some("target")
        );
        sms.improvements[0].completed_on = Some(date(2026, 6, 1));
        quiet(&IMPROVEMENT_INCOMPLETE, &sms);
        sms.improvements.clear();
        assert_eq!(ids(&fires(&IMPROVEMENT_INCOMPLETE, &sms)), ["improvements"]);
    }
}

pub(super) static NC_RECURRING: Check = Check {
    id: "nc-recurring",
    pattern: "F-043",
    title: "The same nonconformity recurs after its corrective action",
    clauses_2018: &["10.1"],
    clauses_2011: &["4.5.5.1"],
    doc: "Fires for each nonconformity raised against a clause on which an earlier \
          nonconformity was already closed, within two years: the corrective action did not \
          remove the cause. Major, as certification bodies grade a repeat.",
    examines: Examines::Records(|cx| dated_by(cx).count()),
    evaluate: |cx, out| {
        let ncs: Vec<_> = dated_by(cx).collect();
        let window = crate::interval::Interval::Months(24);
        let evidence: Vec<_> = ncs
            .iter()
            .filter_map(|later| {
                let raised = later.raised_on?;
                let earlier = ncs.iter().find(|e| {
                    e.id != later.id
                        && e.closed_on
                            .is_some_and(|c| c <= raised && window.after(c) >= raised)
                        && e.clauses.iter().any(|c| later.clauses.contains(c))
                })?;
                let clause = earlier.clauses.iter().find(|c| later.clauses.contains(c))?;
                Some(
                    Evidence::new(
                        RecordKind::Nonconformity,
                        &later.id,
                        format!(
                            "repeats {} on clause {clause}, closed {}",
                            earlier.id, earlier.closed_on?
                        ),
                    )
                    .field("clauses", Some(clause)),
                )
            })
            .collect();
        if !evidence.is_empty() {
            out.push(
                NC_RECURRING
                    .finding(
                        Grade::Major,
                        format!(
                            "{} after its corrective action",
                            n(
                                evidence.len(),
                                "nonconformity recurred",
                                "nonconformities recurred"
                            )
                        ),
                    )
                    .with_all(evidence),
            );
        }
    },
};

pub(super) static IMPROVEMENT_OUTCOME_MISSING: Check = Check {
    id: "improvement-outcome-missing",
    pattern: "F-045",
    title: "Completed improvement not measured against its target",
    clauses_2018: &["10.2"],
    clauses_2011: &["4.5.5.2"],
    doc: "Fires for each improvement completed on or before the as-of date with no measured \
          `outcome`: nobody knows whether it reached its target. Graded by extent over the \
          completed improvements.",
    examines: Examines::Records(|cx| completed_by(cx).count()),
    evaluate: |cx, out| {
        let done: Vec<_> = completed_by(cx).collect();
        let bad: Vec<_> = done
            .iter()
            .filter(|i| i.outcome.is_none())
            .map(|i| {
                Evidence::new(
                    RecordKind::Improvement,
                    &i.id,
                    "completed, outcome not measured",
                )
                .field("outcome", None::<String>)
            })
            .collect();
        IMPROVEMENT_OUTCOME_MISSING.report_extent(
            out,
            bad,
            done.len(),
            "completed improvements were not measured",
            None,
        );
    },
};

#[cfg(test)]
mod recurrence_tests {
    use super::*;
    use crate::checks::testing::{clean, fires, ids, quiet};
    use jiff::civil::date;

    #[test]
    fn a_nonconformity_on_a_clause_closed_before_is_a_repeat() {
        quiet(&NC_RECURRING, &clean());
        let mut sms = clean();
        let mut again = sms.nonconformities[0].clone();
        again.id = "NC-2".into();
        again.raised_on = Some(date(2026, 6, 20));
        again.closed_on = None;
        sms.nonconformities.push(again);
        let f = fires(&NC_RECURRING, &sms);
        assert_eq!((ids(&f), f.grade), (vec!["NC-2"], Grade::Major));
    }

    #[test]
    fn completed_improvements_are_measured() {
        quiet(&IMPROVEMENT_OUTCOME_MISSING, &clean());
        let mut sms = clean();
        sms.improvements[0].completed_on = Some(date(2026, 6, 1));
        assert_eq!(ids(&fires(&IMPROVEMENT_OUTCOME_MISSING, &sms)), ["IMP-1"]);
        sms.improvements[0].outcome = Some("28% fewer tickets".into());
        quiet(&IMPROVEMENT_OUTCOME_MISSING, &sms);
    }

    #[test]
    fn an_improvement_owner_outside_the_people_register_is_no_owner() {
        let mut sms = clean();
        sms.improvements[0].owner = Some("helena".into());
        let f = fires(&IMPROVEMENT_INCOMPLETE, &sms);
        assert_eq!(
            (ids(&f), f.evidence[0].field),
            (vec!["IMP-1"], Some("owner"))
        );
        sms.improvements[0].owner = Some("sm".into());
        quiet(&IMPROVEMENT_INCOMPLETE, &sms);
    }
}

pub(super) static NC_RESPONSE_OVERDUE: Check = Check {
    id: "nc-response-overdue",
    pattern: "F-119",
    title: "Nonconformity not answered by its response deadline",
    clauses_2018: &["10.1"],
    clauses_2011: &["4.5.5.1"],
    doc: "Fires for each open major or minor nonconformity whose response was due before the \
          as-of date (its own `due`, else the certification body's response period for its \
          grade from the day it was raised, 90 days by default) and which lacks the response its \
          grade needs: a major corrected, with every action implemented; a minor with a root \
          cause and actions that have owners and due dates. Outside-audit findings are judged by \
          `external-finding-unanswered` instead. Observations need no response. Graded by extent \
          over the nonconformities raised (a closed one was answered); major when one of them \
          is a major.",
    examines: Examines::Records(|cx| graded(cx).count()),
    evaluate: |cx, out| {
        let response = crate::nc::Response::of(&cx.sms.organisation);
        let all = graded(cx).count();
        let open: Vec<_> = graded(cx)
            .filter(|n| n.closed_on.is_none_or(|c| c > cx.as_of))
            .collect();
        let mut major = false;
        let bad: Vec<_> = open
            .iter()
            .filter(|n| !answers_outside_audit(cx, n))
            .filter_map(|n| {
                let due = response.due(n)?;
                if due >= cx.as_of || crate::nc::responded(n) {
                    return None;
                }
                major |= n.grade == Some(Grade::Major);
                let missing = match n.grade {
                    Some(Grade::Major) => "not corrected (correction and every action implemented)",
                    _ => "no plan yet (root cause and actions with owners and due dates)",
                };
                Some(
                    Evidence::new(
                        RecordKind::Nonconformity,
                        &n.id,
                        format!("response due {due}: {missing}"),
                    )
                    .field("due", Some(due)),
                )
            })
            .collect();
        if bad.is_empty() {
            return;
        }
        let count = bad.len();
        let mut f = NC_RESPONSE_OVERDUE
            .finding(
                super::by_extent(count, all),
                format!("{count} of {all} nonconformities are past their response deadline"),
            )
            .counted(count, all)
            .with_all(bad);
        if major {
            f.grade = Grade::Major;
        }
        out.push(f);
    },
};

/// Nonconformities raised on or before the as-of date, observations left out.
fn graded<'a>(cx: &Context<'a>) -> impl Iterator<Item = &'a Nonconformity> {
    raised_by(cx).filter(|n| !crate::nc::is_observation(n))
}

/// Whether a nonconformity answers a finding of an outside audit, which has its own check.
fn answers_outside_audit(cx: &Context<'_>, n: &Nonconformity) -> bool {
    cx.sms
        .audits
        .iter()
        .filter(|a| a.kind.is_external())
        .flat_map(|a| &a.findings)
        .any(|f| f.nonconformity.as_deref() == Some(n.id.as_str()))
}

#[cfg(test)]
mod response_tests {
    use super::*;
    use crate::checks::testing::{clean, fires, ids, quiet};
    use jiff::civil::date;

    #[test]
    fn an_open_nonconformity_needs_its_response_by_the_deadline() {
        quiet(&NC_RESPONSE_OVERDUE, &clean());
        let mut sms = clean();
        let nc = &mut sms.nonconformities[0];
        nc.closed_on = None;
        nc.raised_on = Some(date(2026, 1, 5));
        nc.root_cause = None;
        let f = fires(&NC_RESPONSE_OVERDUE, &sms);
        assert_eq!(ids(&f), ["NC-1"]);
        assert!(f.evidence[0].note.contains("no plan yet"));
        sms.nonconformities[0].root_cause = Some("found".into());
        quiet(&NC_RESPONSE_OVERDUE, &sms);
        sms.nonconformities[0].grade = Some(Grade::Major);
        sms.nonconformities[0].actions[0].implemented_on = None;
        assert_eq!(fires(&NC_RESPONSE_OVERDUE, &sms).grade, Grade::Major);
        sms.nonconformities[0].grade = Some(Grade::Observation);
        quiet(&NC_RESPONSE_OVERDUE, &sms);
    }
}
