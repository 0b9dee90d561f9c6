//! Continuity and capacity: every critical service covered by a continuity plan that is tested
//! at planned intervals, and capacity plans kept under review.

use super::{Check, Context, Evidence, Examines, RecordKind, n};
use crate::interval::Activity;
use crate::kb::Grade;
use crate::model::{ContinuityPlan, ContinuityTest, Lifecycle, PlanKind, Service, TestResult};

/// Critical services in scope and not retired: those that need a continuity plan.
fn critical_services<'a>(cx: &Context<'a>) -> impl Iterator<Item = &'a Service> {
    cx.sms
        .services
        .iter()
        .filter(|s| s.critical && s.in_scope && s.lifecycle != Lifecycle::Retired)
}

/// The continuity plans (not availability plans).
fn continuity_plans<'a>(cx: &Context<'a>) -> impl Iterator<Item = &'a ContinuityPlan> {
    cx.sms
        .continuity_plans
        .iter()
        .filter(|p| p.kind == PlanKind::Continuity)
}

/// Continuity plans covering a critical service.
fn critical_plans<'a>(cx: &Context<'a>) -> impl Iterator<Item = &'a ContinuityPlan> {
    let sms = cx.sms;
    continuity_plans(cx).filter(move |p| {
        p.services
            .iter()
            .any(|id| sms.service(id).is_some_and(|s| s.critical))
    })
}

/// Tests of any plan held on or before the as-of date.
fn tests_held<'a>(cx: &Context<'a>) -> impl Iterator<Item = &'a ContinuityTest> {
    let as_of = cx.as_of;
    cx.sms
        .continuity_plans
        .iter()
        .flat_map(|p| &p.tests)
        .filter(move |t| t.held_on <= as_of)
}

pub(super) static SERVICE_NO_CONTINUITY_PLAN: Check = Check {
    id: "service-no-continuity-plan",
    pattern: "F-063",
    title: "Critical service without a continuity plan",
    clauses_2018: &["8.7.2"],
    clauses_2011: &["6.3.2"],
    doc: "Fires for each critical, in-scope service not retired that no continuity plan covers. \
          Major: losing a critical service with no plan is the risk the clause exists for.",
    examines: Examines::Records(|cx| critical_services(cx).count()),
    evaluate: |cx, out| {
        let bad: Vec<_> = critical_services(cx)
            .filter(|s| {
                !cx.sms
                    .continuity_plans
                    .iter()
                    .any(|p| p.kind == PlanKind::Continuity && p.services.contains(&s.id))
            })
            .map(|s| {
                Evidence::new(
                    RecordKind::Service,
                    &s.id,
                    format!("{} is critical and no continuity plan covers it", s.name),
                )
            })
            .collect();
        if !bad.is_empty() {
            out.push(
                SERVICE_NO_CONTINUITY_PLAN
                    .finding(
                        Grade::Major,
                        format!(
                            "{} no continuity plan",
                            n(bad.len(), "critical service has", "critical services have")
                        ),
                    )
                    .with_all(bad),
            );
        }
    },
};

pub(super) static CONTINUITY_TEST_OVERDUE: Check = Check {
    id: "continuity-test-overdue",
    pattern: "F-066",
    title: "Continuity plan not tested within the interval",
    clauses_2018: &["8.7.2"],
    clauses_2011: &["6.3.3"],
    doc: "Fires for each continuity plan with no test held in the `continuity_test` interval \
          (default 12 months). Minor; major when a plan has never been tested.",
    examines: Examines::Records(|cx| continuity_plans(cx).count()),
    evaluate: |cx, out| {
        let interval = cx.interval(Activity::ContinuityTest);
        let mut grade = Grade::Minor;
        let bad: Vec<_> = continuity_plans(cx)
            .filter_map(|p| {
                let last = p
                    .tests
                    .iter()
                    .map(|t| t.held_on)
                    .filter(|d| *d <= cx.as_of)
                    .max();
                if last.is_none() {
                    grade = Grade::Major;
                }
                cx.overdue(last, interval).then(|| {
                    let note = if last.is_some() {
                        "not tested in the interval"
                    } else {
                        "never tested"
                    };
                    Evidence::new(RecordKind::ContinuityPlan, &p.id, note).field("tests", last)
                })
            })
            .collect();
        if !bad.is_empty() {
            out.push(
                CONTINUITY_TEST_OVERDUE
                    .finding(
                        grade,
                        format!(
                            "{} not tested in the last {interval}",
                            n(bad.len(), "continuity plan was", "continuity plans were")
                        ),
                    )
                    .with_all(bad),
            );
        }
    },
};

pub(super) static CAPACITY_REVIEW_OVERDUE: Check = Check {
    id: "capacity-review-overdue",
    pattern: "F-071",
    title: "Capacity plan not reviewed within the interval",
    clauses_2018: &["8.4.3"],
    clauses_2011: &["6.5"],
    doc: "Fires for each capacity plan whose last review is older than its own \
          `review_interval`, else the `capacity_plan_review` interval (default 12 months). Graded \
          by extent over the capacity plans.",
    examines: Examines::Records(|cx| cx.sms.capacity_plans.len()),
    evaluate: |cx, out| {
        let default = cx.interval(Activity::CapacityPlanReview);
        let plans = &cx.sms.capacity_plans;
        let bad: Vec<_> = plans
            .iter()
            .filter(|p| cx.overdue(p.last_reviewed_on, p.review_interval.unwrap_or(default)))
            .map(|p| {
                Evidence::new(
                    RecordKind::CapacityPlan,
                    &p.id,
                    "not reviewed in its interval",
                )
                .field("last_reviewed_on", p.last_reviewed_on)
            })
            .collect();
        CAPACITY_REVIEW_OVERDUE.report_extent(
            out,
            bad,
            plans.len(),
            "capacity plans are overdue for review",
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
    fn critical_services_need_a_continuity_plan() {
        quiet(&SERVICE_NO_CONTINUITY_PLAN, &clean());
        let mut sms = clean();
        sms.continuity_plans[0].kind = PlanKind::Availability;
        assert_eq!(
            ids(&fires(&SERVICE_NO_CONTINUITY_PLAN, &sms)),
            ["S-MAIL"],
            "an availability plan is not a continuity plan"
        );
        sms.services[0].critical = false;
        quiet(&SERVICE_NO_CONTINUITY_PLAN, &sms);
    }

    #[test]
    fn continuity_plans_are_tested_in_the_interval() {
        quiet(&CONTINUITY_TEST_OVERDUE, &clean());
        let mut sms = clean();
        sms.continuity_plans[0].tests[0].held_on = date(2025, 6, 1);
        let f = fires(&CONTINUITY_TEST_OVERDUE, &sms);
        assert_eq!((ids(&f), f.grade), (vec!["BCP-1"], Grade::Minor));
        sms.continuity_plans[0].tests.clear();
        assert_eq!(fires(&CONTINUITY_TEST_OVERDUE, &sms).grade, Grade::Major);
    }

    #[test]
    fn capacity_plans_are_reviewed() {
        quiet(&CAPACITY_REVIEW_OVERDUE, &clean());
        let mut sms = clean();
        sms.capacity_plans[0].last_reviewed_on = None;
        assert_eq!(ids(&fires(&CAPACITY_REVIEW_OVERDUE, &sms)), ["CAP-1"]);
    }
}

pub(super) static CONTINUITY_PLAN_REVIEW_OVERDUE: Check = Check {
    id: "continuity-plan-review-overdue",
    pattern: "F-064",
    title: "Continuity or availability plan not reviewed within its interval",
    clauses_2018: &["8.7.2"],
    clauses_2011: &["6.3.2"],
    doc: "Fires for each continuity or availability plan whose last review is older than its own \
          `review_interval`, else `continuity_plan_review` (default 12 months). Graded by extent \
          over the plans.",
    examines: Examines::Records(|cx| cx.sms.continuity_plans.len()),
    evaluate: |cx, out| {
        let default = cx.interval(Activity::ContinuityPlanReview);
        let plans = &cx.sms.continuity_plans;
        let bad: Vec<_> = plans
            .iter()
            .filter(|p| cx.overdue(p.last_reviewed_on, p.review_interval.unwrap_or(default)))
            .map(|p| {
                Evidence::new(
                    RecordKind::ContinuityPlan,
                    &p.id,
                    "not reviewed in its interval",
                )
                .field("last_reviewed_on", p.last_reviewed_on)
            })
            .collect();
        CONTINUITY_PLAN_REVIEW_OVERDUE.report_extent(
            out,
            bad,
            plans.len(),
            "continuity and availability plans are overdue for review",
            None,
        );
    },
};

pub(super) static CONTINUITY_TEST_NOT_ACTIONED: Check = Check {
    id: "continuity-test-not-actioned",
    pattern: "F-067",
    title: "Continuity test shortfalls without actions",
    clauses_2018: &["8.7.2"],
    clauses_2011: &["6.3.3"],
    doc: "Fires for each continuity test that passed only partly or failed and records no \
          actions. Minor.",
    examines: Examines::Records(|cx| tests_held(cx).count()),
    evaluate: |cx, out| {
        let evidence: Vec<_> = tests_held(cx)
            .filter(|t| t.result != TestResult::Passed && t.actions.is_empty())
            .map(|t| {
                Evidence::new(
                    RecordKind::ContinuityPlan,
                    &t.id,
                    format!(
                        "test {} with no actions",
                        if t.result == TestResult::Failed {
                            "failed"
                        } else {
                            "passed only partly"
                        }
                    ),
                )
            })
            .collect();
        if !evidence.is_empty() {
            out.push(
                CONTINUITY_TEST_NOT_ACTIONED
                    .finding(
                        Grade::Minor,
                        format!(
                            "{} no actions",
                            n(
                                evidence.len(),
                                "continuity test with shortfalls has",
                                "continuity tests with shortfalls have"
                            )
                        ),
                    )
                    .with_all(evidence),
            );
        }
    },
};

pub(super) static CONTINUITY_NO_RECOVERY_OBJECTIVES: Check = Check {
    id: "continuity-no-recovery-objectives",
    pattern: "F-062",
    title: "Continuity plan without agreed recovery objectives",
    clauses_2018: &["8.7.2"],
    clauses_2011: &["6.3.1"],
    doc: "Fires for each continuity plan covering a critical service that states no recovery \
          time objective (`rto`) or recovery point objective (`rpo`). Minor.",
    examines: Examines::Records(|cx| critical_plans(cx).count()),
    evaluate: |cx, out| {
        let evidence: Vec<_> = critical_plans(cx)
            .filter_map(|p| {
                let missing: Vec<_> = [("rto", p.rto.is_none()), ("rpo", p.rpo.is_none())]
                    .into_iter()
                    .filter(|m| m.1)
                    .map(|m| m.0)
                    .collect();
                (!missing.is_empty()).then(|| {
                    Evidence::new(
                        RecordKind::ContinuityPlan,
                        &p.id,
                        format!("covers a critical service, no {}", missing.join(", no ")),
                    )
                    .field(missing[0], None::<String>)
                })
            })
            .collect();
        if !evidence.is_empty() {
            out.push(
                CONTINUITY_NO_RECOVERY_OBJECTIVES
                    .finding(
                        Grade::Minor,
                        format!(
                            "{} no agreed recovery objectives",
                            n(
                                evidence.len(),
                                "continuity plan has",
                                "continuity plans have"
                            )
                        ),
                    )
                    .with_all(evidence),
            );
        }
    },
};

pub(super) static CAPACITY_PLAN_NO_FORECAST: Check = Check {
    id: "capacity-plan-no-forecast",
    pattern: "F-072",
    title: "Capacity plan without a demand forecast",
    clauses_2018: &["8.4.3"],
    clauses_2011: &["6.5"],
    doc: "Fires for each capacity plan that states no forecast horizon (`horizon_months`): a plan \
          that does not look ahead only describes today. Minor.",
    examines: Examines::Records(|cx| cx.sms.capacity_plans.len()),
    evaluate: |cx, out| {
        let evidence: Vec<_> = cx
            .sms
            .capacity_plans
            .iter()
            .filter(|p| p.horizon_months.is_none_or(|h| h == 0))
            .map(|p| {
                Evidence::new(RecordKind::CapacityPlan, &p.id, "no forecast horizon")
                    .field("horizon_months", None::<String>)
            })
            .collect();
        if !evidence.is_empty() {
            out.push(
                CAPACITY_PLAN_NO_FORECAST
                    .finding(
                        Grade::Minor,
                        format!(
                            "{} no demand forecast",
                            n(evidence.len(), "capacity plan has", "capacity plans have")
                        ),
                    )
                    .with_all(evidence),
            );
        }
    },
};

#[cfg(test)]
mod plan_tests {
    use super::*;
    use crate::checks::testing::{clean, fires, ids, quiet};
    use jiff::civil::date;

    #[test]
    fn continuity_plans_are_reviewed() {
        quiet(&CONTINUITY_PLAN_REVIEW_OVERDUE, &clean());
        let mut sms = clean();
        sms.continuity_plans[0].last_reviewed_on = Some(date(2025, 1, 1));
        assert_eq!(
            ids(&fires(&CONTINUITY_PLAN_REVIEW_OVERDUE, &sms)),
            ["BCP-1"]
        );
    }

    #[test]
    fn test_shortfalls_get_actions() {
        quiet(&CONTINUITY_TEST_NOT_ACTIONED, &clean());
        let mut sms = clean();
        sms.continuity_plans[0].tests[0].result = TestResult::Partial;
        assert_eq!(
            ids(&fires(&CONTINUITY_TEST_NOT_ACTIONED, &sms)),
            ["BCP-1-T1"]
        );
        sms.continuity_plans[0].tests[0]
            .actions
            .push("Fix DNS failover".into());
        quiet(&CONTINUITY_TEST_NOT_ACTIONED, &sms);
    }

    #[test]
    fn plans_for_critical_services_state_recovery_objectives() {
        quiet(&CONTINUITY_NO_RECOVERY_OBJECTIVES, &clean());
        let mut sms = clean();
        sms.continuity_plans[0].rpo = None;
        assert_eq!(
            fires(&CONTINUITY_NO_RECOVERY_OBJECTIVES, &sms).evidence[0].field,
            Some("rpo")
        );
        sms.services[0].critical = false;
        quiet(&CONTINUITY_NO_RECOVERY_OBJECTIVES, &sms);
    }

    #[test]
    fn capacity_plans_forecast() {
        quiet(&CAPACITY_PLAN_NO_FORECAST, &clean());
        let mut sms = clean();
        sms.capacity_plans[0].horizon_months = None;
        assert_eq!(ids(&fires(&CAPACITY_PLAN_NO_FORECAST, &sms)), ["CAP-1"]);
    }
}
