//! Continuity and capacity: every critical service covered by a continuity plan that is tested
//! at planned intervals, and capacity plans kept under review.

use super::{Check, Evidence, RecordKind, by_extent, n};
use crate::interval::Activity;
use crate::kb::Grade;
use crate::model::{Lifecycle, PlanKind};

pub(super) static SERVICE_NO_CONTINUITY_PLAN: Check = Check {
    id: "service-no-continuity-plan",
    pattern: "F-063",
    title: "Critical service without a continuity plan",
    clauses_2018: &["8.7.2"],
    clauses_2011: &["6.3.2"],
    doc: "Fires for each critical, in-scope service not retired that no continuity plan covers. \
          Major: losing a critical service with no plan is the risk the clause exists for.",
    evaluate: |cx, out| {
        let bad: Vec<_> = cx
            .sms
            .services
            .iter()
            .filter(|s| s.critical && s.in_scope && s.lifecycle != Lifecycle::Retired)
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
    evaluate: |cx, out| {
        let interval = cx.interval(Activity::ContinuityTest);
        let mut grade = Grade::Minor;
        let bad: Vec<_> = cx
            .sms
            .continuity_plans
            .iter()
            .filter(|p| p.kind == PlanKind::Continuity)
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
        if !bad.is_empty() {
            out.push(
                CAPACITY_REVIEW_OVERDUE
                    .finding(
                        by_extent(bad.len(), plans.len()),
                        format!(
                            "{} of {} capacity plans are overdue for review",
                            bad.len(),
                            plans.len()
                        ),
                    )
                    .with_all(bad),
            );
        }
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
