//! Policy and objectives: an approved, reviewed policy with the commitments the standard asks
//! for, and objectives someone owns, can measure, and does measure.

use super::{Check, Context, Evidence, Examines, RecordKind, by_extent};
use crate::interval::Activity;
use crate::kb::Grade;
use crate::model::{Commitment, DocStatus, Objective};
use crate::refs::{self, Target};

fn policy_id(cx: &Context<'_>) -> String {
    cx.sms
        .policy
        .as_ref()
        .and_then(|p| p.document.clone())
        .unwrap_or_else(|| "policy".into())
}

/// The policy, when there is one: the record the policy checks other than presence look at.
fn policy_count(cx: &Context<'_>) -> usize {
    usize::from(cx.sms.policy.is_some())
}

/// Objectives still in force: due on or after the start of the measurement window.
fn in_force<'a>(cx: &Context<'a>) -> impl Iterator<Item = &'a Objective> {
    let since = cx.since(Activity::ObjectiveMeasurement);
    cx.sms
        .objectives
        .iter()
        .filter(move |o| o.due.is_none_or(|d| d >= since))
}

pub(super) static POLICY_MISSING: Check = Check {
    id: "policy-missing",
    pattern: "F-002",
    title: "No approved, current service management policy",
    clauses_2018: &["5.2.1"],
    clauses_2011: &["4.1.2"],
    doc: "Fires when `policy.yaml` is absent, lacks an approver or approval date (or is approved \
          after the as-of date), names an approver who is not in the people register or not \
          flagged `top_management`, or names a register document that is not current. Major: \
          without an approved policy the SMS has no stated direction.",
    examines: Examines::Presence,
    evaluate: |cx, out| {
        let Some(p) = &cx.sms.policy else {
            out.push(
                POLICY_MISSING
                    .finding(Grade::Major, "No service management policy is recorded")
                    .with(Evidence::new(
                        RecordKind::Register,
                        "policy",
                        "no policy record",
                    )),
            );
            return;
        };
        let id = policy_id(cx);
        let mut evidence = Vec::new();
        // Only someone in the people register flagged as top management can approve it.
        match p.approved_by.as_deref() {
            None => evidence.push(
                Evidence::new(RecordKind::Policy, &id, "no approver")
                    .field("approved_by", None::<String>),
            ),
            Some(a) if !cx.resolves(Target::Person, a) => evidence.push(
                Evidence::new(
                    RecordKind::Policy,
                    &id,
                    format!("approver {a} is not in the people register"),
                )
                .field("approved_by", Some(a)),
            ),
            Some(a) if !refs::is_top_management(cx.sms, a) => evidence.push(
                Evidence::new(
                    RecordKind::Policy,
                    &id,
                    format!("approver {a} is not top management"),
                )
                .field("approved_by", Some(a)),
            ),
            Some(_) => {}
        }
        match p.approved_on {
            None => evidence.push(
                Evidence::new(RecordKind::Policy, &id, "no approval date")
                    .field("approved_on", None::<String>),
            ),
            Some(d) if d > cx.as_of => evidence.push(
                Evidence::new(
                    RecordKind::Policy,
                    &id,
                    "approved only after the as-of date",
                )
                .field("approved_on", Some(d)),
            ),
            Some(_) => {}
        }
        if let Some(doc) = &p.document {
            let current = cx
                .sms
                .documents
                .iter()
                .any(|d| &d.id == doc && d.status == DocStatus::Current);
            if !current {
                evidence.push(
                    Evidence::new(
                        RecordKind::Document,
                        doc,
                        "the register has no current version of the policy document",
                    )
                    .field("status", None::<String>),
                );
            }
        }
        if !evidence.is_empty() {
            out.push(
                POLICY_MISSING
                    .finding(
                        Grade::Major,
                        "The service management policy is not approved and current",
                    )
                    .with_all(evidence),
            );
        }
    },
};

pub(super) static POLICY_REVIEW_OVERDUE: Check = Check {
    id: "policy-review-overdue",
    pattern: "F-007",
    title: "Service management policy not reviewed within its interval",
    clauses_2018: &["5.2.1"],
    clauses_2011: &["4.1.2"],
    doc: "Fires when the policy's last review (or approval) is older than its own \
          `review_interval`, else the `policy_review` interval (default 12 months). Minor.",
    examines: Examines::Records(policy_count),
    evaluate: |cx, out| {
        let Some(p) = &cx.sms.policy else { return };
        let interval = p
            .review_interval
            .unwrap_or_else(|| cx.interval(Activity::PolicyReview));
        let last = p.last_reviewed_on.max(p.approved_on);
        if cx.overdue(last, interval) {
            out.push(
                POLICY_REVIEW_OVERDUE
                    .finding(
                        Grade::Minor,
                        format!("The policy has not been reviewed in the last {interval}"),
                    )
                    .with(
                        Evidence::new(
                            RecordKind::Policy,
                            policy_id(cx),
                            "last reviewed or approved",
                        )
                        .field("last_reviewed_on", last),
                    ),
            );
        }
    },
};

pub(super) static POLICY_COMMITMENTS_MISSING: Check = Check {
    id: "policy-commitments-missing",
    pattern: "F-002",
    title: "Policy lacks a required commitment",
    clauses_2018: &["5.2.1"],
    clauses_2011: &["4.1.2"],
    doc: "Fires when the policy's `commitments` leave out meeting service requirements, continual \
          improvement, or a framework for objectives; both editions ask for all three. Minor.",
    examines: Examines::Records(policy_count),
    evaluate: |cx, out| {
        let Some(p) = &cx.sms.policy else { return };
        let missing: Vec<_> = Commitment::ALL
            .iter()
            .filter(|c| !p.commitments.contains(c))
            .collect();
        if !missing.is_empty() {
            let words: Vec<_> = missing.iter().map(|c| c.describe()).collect();
            out.push(
                POLICY_COMMITMENTS_MISSING
                    .finding(
                        Grade::Minor,
                        format!("The policy makes no commitment to {}", words.join(" or ")),
                    )
                    .with(
                        Evidence::new(RecordKind::Policy, policy_id(cx), "commitments missing")
                            .field(
                                "commitments",
                                Some(
                                    missing
                                        .iter()
                                        .map(|c| c.key())
                                        .collect::<Vec<_>>()
                                        .join(", "),
                                ),
                            ),
                    ),
            );
        }
    },
};

pub(super) static OBJECTIVES_NOT_MEASURABLE: Check = Check {
    id: "objectives-not-measurable",
    pattern: "F-008",
    title: "Objectives without a numeric target, owner or due date",
    clauses_2018: &["6.2.1"],
    clauses_2011: &["4.1.1"],
    doc: "Fires when no objectives are recorded (major), or for each objective lacking a numeric \
          `target`, an `owner` in the people register or a `due` date (graded by extent).",
    examines: Examines::Presence,
    evaluate: |cx, out| {
        let objectives = &cx.sms.objectives;
        if objectives.is_empty() {
            out.push(
                OBJECTIVES_NOT_MEASURABLE
                    .finding(
                        Grade::Major,
                        "No service management objectives are recorded",
                    )
                    .with(Evidence::new(
                        RecordKind::Register,
                        "objectives",
                        "no objectives",
                    )),
            );
            return;
        }
        let bad: Vec<_> = objectives
            .iter()
            .filter_map(|o| {
                let target_text = match &o.target {
                    Some(crate::model::Target::Text(t)) => Some(t.clone()),
                    _ => None,
                };
                let lacks = [
                    (
                        "target",
                        o.target.as_ref().and_then(|t| t.number()).is_none(),
                    ),
                    (
                        "owner",
                        !o.owner
                            .as_deref()
                            .is_some_and(|w| cx.resolves(Target::Person, w)),
                    ),
                    ("due", o.due.is_none()),
                ];
                let missing: Vec<_> = lacks.iter().filter(|l| l.1).map(|l| l.0).collect();
                (!missing.is_empty()).then(|| {
                    let field = missing[0];
                    Evidence::new(
                        RecordKind::Objective,
                        &o.id,
                        format!("no measurable {}", missing.join(", no ")),
                    )
                    .field(field, if field == "target" { target_text } else { None })
                })
            })
            .collect();
        OBJECTIVES_NOT_MEASURABLE.report_extent(
            out,
            bad,
            objectives.len(),
            "objectives cannot be measured or have no owner or deadline",
            None,
        );
    },
};

pub(super) static OBJECTIVES_NOT_MEASURED: Check = Check {
    id: "objectives-not-measured",
    pattern: "F-009",
    title: "Objectives never measured within the interval",
    clauses_2018: &["6.2.2"],
    clauses_2011: &["4.1.1"],
    doc: "Fires for each objective still in force (due on or after the start of the window) with \
          no measurement in the `objective_measurement` interval (default 6 months). Graded by \
          extent.",
    examines: Examines::Records(|cx| in_force(cx).count()),
    evaluate: |cx, out| {
        let since = cx.since(Activity::ObjectiveMeasurement);
        let live: Vec<_> = in_force(cx).collect();
        let bad: Vec<_> = live
            .iter()
            .filter_map(|o| {
                let last = o
                    .measurements
                    .iter()
                    .map(|m| m.on)
                    .filter(|d| *d <= cx.as_of)
                    .max();
                (last.is_none_or(|d| d < since)).then(|| {
                    Evidence::new(
                        RecordKind::Objective,
                        &o.id,
                        "no measurement in the interval",
                    )
                    .field("measurements", last)
                })
            })
            .collect();
        if !bad.is_empty() {
            out.push(
                OBJECTIVES_NOT_MEASURED
                    .finding(
                        by_extent(bad.len(), live.len()),
                        format!(
                            "{} of {} objectives were not measured in the last {}",
                            bad.len(),
                            live.len(),
                            cx.interval(Activity::ObjectiveMeasurement)
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
    use crate::model::Target;
    use jiff::civil::date;

    #[test]
    fn policy_must_exist_be_approved_and_current() {
        quiet(&POLICY_MISSING, &clean());
        let mut sms = clean();
        sms.policy = None;
        assert_eq!(ids(&fires(&POLICY_MISSING, &sms)), ["policy"]);
        let mut sms = clean();
        sms.policy.as_mut().unwrap().approved_by = None;
        sms.documents
            .iter_mut()
            .filter(|d| d.id == "DOC-policy")
            .for_each(|d| d.status = DocStatus::Draft);
        let f = fires(&POLICY_MISSING, &sms);
        assert_eq!(f.grade, Grade::Major);
        assert_eq!(
            f.evidence.iter().map(|e| e.field).collect::<Vec<_>>(),
            [Some("approved_by"), Some("status")]
        );
    }

    #[test]
    fn policy_review_honours_its_own_interval() {
        quiet(&POLICY_REVIEW_OVERDUE, &clean());
        let mut sms = clean();
        let p = sms.policy.as_mut().unwrap();
        p.approved_on = Some(date(2025, 1, 10));
        p.last_reviewed_on = Some(date(2025, 6, 1));
        let f = fires(&POLICY_REVIEW_OVERDUE, &sms);
        assert_eq!(f.evidence[0].value.as_deref(), Some("2025-06-01"));
        sms.policy.as_mut().unwrap().review_interval = Some(crate::interval::Interval::Months(24));
        quiet(&POLICY_REVIEW_OVERDUE, &sms);
    }

    #[test]
    fn policy_needs_every_commitment() {
        quiet(&POLICY_COMMITMENTS_MISSING, &clean());
        let mut sms = clean();
        sms.policy.as_mut().unwrap().commitments = vec![Commitment::ServiceRequirements];
        let f = fires(&POLICY_COMMITMENTS_MISSING, &sms);
        assert_eq!(
            f.evidence[0].value.as_deref(),
            Some("continual-improvement, objectives-framework")
        );
    }

    #[test]
    fn objectives_need_numeric_target_owner_and_due_date() {
        quiet(&OBJECTIVES_NOT_MEASURABLE, &clean());
        let mut sms = clean();
        sms.objectives[0].target = Some(Target::Text("as good as possible".into()));
        let f = fires(&OBJECTIVES_NOT_MEASURABLE, &sms);
        assert_eq!(f.evidence[0].value.as_deref(), Some("as good as possible"));
        sms.objectives.clear();
        assert_eq!(fires(&OBJECTIVES_NOT_MEASURABLE, &sms).grade, Grade::Major);
    }

    #[test]
    fn objectives_need_a_recent_measurement() {
        quiet(&OBJECTIVES_NOT_MEASURED, &clean());
        let mut sms = clean();
        sms.objectives[0].measurements[0].on = date(2025, 11, 30);
        assert_eq!(ids(&fires(&OBJECTIVES_NOT_MEASURED, &sms)), ["OBJ-1"]);
        sms.objectives[0].due = Some(date(2025, 6, 30));
        quiet(&OBJECTIVES_NOT_MEASURED, &sms);
    }
}

pub(super) static POLICY_NOT_COMMUNICATED: Check = Check {
    id: "policy-not-communicated",
    pattern: "F-006",
    title: "Policy not communicated since it was approved",
    clauses_2018: &["5.2.2"],
    clauses_2011: &["4.1.2"],
    doc: "Fires when the policy records no communication to staff, or when its last \
          communication predates its current approval, so staff may know an older version. Minor.",
    examines: Examines::Records(policy_count),
    evaluate: |cx, out| {
        let Some(p) = &cx.sms.policy else { return };
        let note = match (p.communicated_on, p.approved_on) {
            (None, _) => "no communication recorded",
            (Some(c), Some(a)) if c < a => {
                "last communicated before the current version was approved"
            }
            _ => return,
        };
        out.push(
            POLICY_NOT_COMMUNICATED
                .finding(
                    Grade::Minor,
                    "The current policy has not been communicated to staff",
                )
                .with(
                    Evidence::new(RecordKind::Policy, policy_id(cx), note)
                        .field("communicated_on", p.communicated_on),
                ),
        );
    },
};

#[cfg(test)]
mod communication_tests {
    use super::*;
    use crate::checks::testing::{clean, fires, quiet};
    use jiff::civil::date;

    #[test]
    fn the_approved_policy_is_communicated() {
        quiet(&POLICY_NOT_COMMUNICATED, &clean());
        let mut sms = clean();
        sms.policy.as_mut().unwrap().communicated_on = Some(date(2025, 12, 1));
        assert_eq!(
            fires(&POLICY_NOT_COMMUNICATED, &sms).evidence[0]
                .value
                .as_deref(),
            Some("2025-12-01")
        );
    }

    #[test]
    fn the_approver_must_be_top_management_in_the_people_register() {
        let mut sms = clean();
        sms.policy.as_mut().unwrap().approved_by = Some("helena".into());
        let f = fires(&POLICY_MISSING, &sms);
        assert_eq!(f.grade, Grade::Major);
        assert_eq!(
            (f.evidence[0].field, f.evidence[0].value.as_deref()),
            (Some("approved_by"), Some("helena"))
        );
        assert!(f.evidence[0].note.contains("not in the people register"));
        sms.policy.as_mut().unwrap().approved_by = Some("sm".into());
        let f = fires(&POLICY_MISSING, &sms);
        assert!(f.evidence[0].note.contains("not top management"), "{f:#?}");
        sms.policy.as_mut().unwrap().approved_by = Some("ceo".into());
        quiet(&POLICY_MISSING, &sms);
    }

    #[test]
    fn an_objective_owner_outside_the_people_register_is_no_owner() {
        let mut sms = clean();
        sms.objectives[0].owner = Some("helena".into());
        let f = fires(&OBJECTIVES_NOT_MEASURABLE, &sms);
        assert_eq!(f.evidence[0].field, Some("owner"));
        sms.objectives[0].owner = Some("cm".into());
        quiet(&OBJECTIVES_NOT_MEASURABLE, &sms);
    }
}
