//! Management review: held at planned intervals, by top management, on the inputs the edition
//! expects, ending in decisions and actions that are followed through.

use super::{Check, Context, Evidence, Examines, RecordKind, n};
use crate::interval::Activity;
use crate::kb::Grade;
use crate::model::{ActionStatus, ManagementReview, ReviewAction, ReviewInput};
use crate::refs::Target;

/// Reviews held on or before `as_of`, oldest first.
fn held<'a>(cx: &Context<'a>) -> Vec<&'a ManagementReview> {
    let mut v: Vec<_> = cx
        .sms
        .management_reviews
        .iter()
        .filter(|r| r.held_on.is_some_and(|d| d <= cx.as_of))
        .collect();
    v.sort_by_key(|r| r.held_on);
    v
}

/// The reviews an auditor would sample: those held within the interval, or else the last one.
fn sampled<'a>(cx: &Context<'a>) -> Vec<&'a ManagementReview> {
    let all = held(cx);
    let since = cx.since(Activity::ManagementReview);
    let recent: Vec<_> = all
        .iter()
        .copied()
        .filter(|r| r.held_on.is_some_and(|d| d >= since))
        .collect();
    if recent.is_empty() {
        all.last().copied().into_iter().collect()
    } else {
        recent
    }
}

/// The actions mr-actions-incomplete examines: those of held reviews still open, or raised at a
/// review held within the interval.
fn current_actions<'a>(
    cx: &Context<'a>,
) -> impl Iterator<Item = (&'a ManagementReview, &'a ReviewAction)> {
    let since = cx.since(Activity::ManagementReview);
    held(cx)
        .into_iter()
        .flat_map(|r| r.actions.iter().map(move |a| (r, a)))
        .filter(move |(r, a)| {
            a.status == ActionStatus::Open || r.held_on.is_some_and(|d| d >= since)
        })
}

fn review(r: &ManagementReview, note: impl Into<String>) -> Evidence {
    Evidence::new(RecordKind::ManagementReview, &r.id, note)
}

pub(super) static MR_OVERDUE: Check = Check {
    id: "mr-overdue",
    pattern: "F-036",
    title: "No management review within the planned interval",
    clauses_2018: &["9.3"],
    clauses_2011: &["4.5.4.3"],
    doc: "Fires when no management review was held in the `management_review` interval before \
          the as-of date (default 12 months). Always major: certification bodies treat a missing \
          review as a missing part of the system.",
    examines: Examines::Presence,
    evaluate: |cx, out| {
        let interval = cx.interval(Activity::ManagementReview);
        match held(cx).last() {
            None => out.push(
                MR_OVERDUE
                    .finding(Grade::Major, "No management review has ever been recorded")
                    .with(Evidence::new(
                        RecordKind::Register,
                        "management-reviews",
                        "no review held on or before the as-of date",
                    )),
            ),
            Some(last) if cx.overdue(last.held_on, interval) => out.push(
                MR_OVERDUE
                    .finding(
                        Grade::Major,
                        format!("No management review in the {interval} before {}", cx.as_of),
                    )
                    .with(review(last, "last review held").field("held_on", last.held_on)),
            ),
            Some(_) => {}
        }
    },
};

pub(super) static MR_NO_TOP_MANAGEMENT: Check = Check {
    id: "mr-no-top-management",
    pattern: "F-001",
    title: "Management review without top management",
    clauses_2018: &["5.1", "9.3"],
    clauses_2011: &["4.1.1", "4.5.4.3"],
    doc: "Looks at the reviews held within the interval (or the last one) and fires for each \
          without an attendee flagged `top_management` in the people register. Major when none \
          of them had top management present, minor when only some lacked it.",
    examines: Examines::Records(|cx| sampled(cx).len()),
    evaluate: |cx, out| {
        let sample = sampled(cx);
        let without: Vec<_> = sample
            .iter()
            .filter(|r| {
                !r.attendees
                    .iter()
                    .any(|a| cx.sms.person(a).is_some_and(|p| p.top_management))
            })
            .collect();
        if without.is_empty() {
            return;
        }
        let grade = if without.len() == sample.len() {
            Grade::Major
        } else {
            Grade::Minor
        };
        out.push(
            MR_NO_TOP_MANAGEMENT
                .finding(
                    grade,
                    format!(
                        "{} of {} management reviews had no top manager present",
                        without.len(),
                        sample.len()
                    ),
                )
                .with_all(without.iter().map(|r| {
                    review(r, "no attendee is flagged top_management")
                        .field("attendees", Some(r.attendees.join(", ")))
                })),
        );
    },
};

pub(super) static MR_INPUTS_MISSING: Check = Check {
    id: "mr-inputs-missing",
    pattern: "F-037",
    title: "Management review did not consider every required input",
    clauses_2018: &["9.3"],
    clauses_2011: &["4.5.4.3"],
    doc: "For each review within the interval (or the last one), compares the `inputs` recorded \
          with those the audited edition expects. Minor.",
    examines: Examines::Records(|cx| sampled(cx).len()),
    evaluate: |cx, out| {
        let evidence: Vec<_> = sampled(cx)
            .into_iter()
            .filter_map(|r| {
                let missing: Vec<_> = ReviewInput::ALL
                    .iter()
                    .filter(|i| i.required_by(cx.edition) && !r.inputs.contains(i))
                    .map(|i| i.key())
                    .collect();
                (!missing.is_empty()).then(|| {
                    review(
                        r,
                        format!(
                            "{} not covered",
                            n(missing.len(), "required input", "required inputs")
                        ),
                    )
                    .field("inputs", Some(missing.join(", ")))
                })
            })
            .collect();
        if !evidence.is_empty() {
            out.push(
                MR_INPUTS_MISSING
                    .finding(
                        Grade::Minor,
                        format!(
                            "{} required inputs out",
                            n(
                                evidence.len(),
                                "management review left",
                                "management reviews left"
                            )
                        ),
                    )
                    .with_all(evidence),
            );
        }
    },
};

pub(super) static MR_NO_OUTPUTS: Check = Check {
    id: "mr-no-outputs",
    pattern: "F-038",
    title: "Management review recorded no decisions or actions",
    clauses_2018: &["9.3"],
    clauses_2011: &["4.5.4.3"],
    doc: "Fires for each review within the interval (or the last one) with neither decisions nor \
          actions recorded. Minor.",
    examines: Examines::Records(|cx| sampled(cx).len()),
    evaluate: |cx, out| {
        let evidence: Vec<_> = sampled(cx)
            .into_iter()
            .filter(|r| r.decisions.is_empty() && r.actions.is_empty())
            .map(|r| review(r, "no decisions and no actions recorded"))
            .collect();
        if !evidence.is_empty() {
            out.push(
                MR_NO_OUTPUTS
                    .finding(
                        Grade::Minor,
                        format!(
                            "{} without decisions or actions",
                            n(
                                evidence.len(),
                                "management review ended",
                                "management reviews ended"
                            )
                        ),
                    )
                    .with_all(evidence),
            );
        }
    },
};

pub(super) static MR_ACTIONS_INCOMPLETE: Check = Check {
    id: "mr-actions-incomplete",
    pattern: "F-038",
    title: "Management review actions without owner or due date",
    clauses_2018: &["9.3"],
    clauses_2011: &["4.5.4.3"],
    doc: "Fires for every action of any review that is still open, or was raised within the \
          interval, and lacks an owner in the people register or a due date. Graded by extent over those actions.",
    examines: Examines::Records(|cx| current_actions(cx).count()),
    evaluate: |cx, out| {
        let actions: Vec<_> = current_actions(cx).collect();
        let bad: Vec<_> = actions
            .iter()
            .filter_map(|(_, a)| {
                // An owner who is not in the people register counts as none.
                let owned = a
                    .owner
                    .as_deref()
                    .is_some_and(|o| cx.resolves(Target::Person, o));
                let missing: Vec<_> = [("owner", !owned), ("due", a.due.is_none())]
                    .into_iter()
                    .filter(|m| m.1)
                    .map(|m| m.0)
                    .collect();
                (!missing.is_empty()).then(|| {
                    Evidence::new(
                        RecordKind::ReviewAction,
                        &a.id,
                        format!("no {}", missing.join(" and no ")),
                    )
                    .field(missing[0], None::<String>)
                })
            })
            .collect();
        if !bad.is_empty() {
            out.push(
                MR_ACTIONS_INCOMPLETE
                    .finding(
                        super::by_extent(bad.len(), actions.len()),
                        format!(
                            "{} of {} management review actions have no owner or no due date",
                            bad.len(),
                            actions.len()
                        ),
                    )
                    .with_all(bad),
            );
        }
    },
};

pub(super) static MR_ACTIONS_NOT_FOLLOWED: Check = Check {
    id: "mr-actions-not-followed",
    pattern: "F-039",
    title: "Management review actions overdue or never followed up",
    clauses_2018: &["9.3"],
    clauses_2011: &["4.5.4.3"],
    doc: "Fires for open actions past their due date, and for actions still open when a later \
          review was held that did not list them in `followed_up`. Minor; major when half or \
          more of the actions raised are affected (at least three).",
    examines: Examines::Records(|cx| held(cx).iter().map(|r| r.actions.len()).sum()),
    evaluate: |cx, out| {
        let reviews = held(cx);
        let mut evidence = Vec::new();
        let mut total = 0;
        for (i, r) in reviews.iter().enumerate() {
            for a in &r.actions {
                total += 1;
                let open_on = |d: crate::Date| match a.status {
                    ActionStatus::Open => true,
                    _ => a.closed_on.is_none_or(|c| c > d),
                };
                if a.status == ActionStatus::Open && a.due.is_some_and(|d| d < cx.as_of) {
                    evidence.push(
                        Evidence::new(
                            RecordKind::ReviewAction,
                            &a.id,
                            format!("open past its due date (raised at {})", r.id),
                        )
                        .field("due", a.due),
                    );
                } else if let Some(next) = reviews[i + 1..]
                    .iter()
                    .find(|n| n.held_on.is_some_and(open_on) && !n.followed_up.contains(&a.id))
                {
                    evidence.push(Evidence::new(
                        RecordKind::ReviewAction,
                        &a.id,
                        format!(
                            "raised at {}, still open at {} which did not follow it up",
                            r.id, next.id
                        ),
                    ));
                }
            }
        }
        if !evidence.is_empty() {
            let grade = if evidence.len() >= 3 && evidence.len() * 2 >= total {
                Grade::Major
            } else {
                Grade::Minor
            };
            out.push(
                MR_ACTIONS_NOT_FOLLOWED
                    .finding(
                        grade,
                        format!(
                            "{} overdue or never followed up",
                            n(
                                evidence.len(),
                                "management review action is",
                                "management review actions are"
                            )
                        ),
                    )
                    .with_all(evidence),
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
    fn overdue_fires_when_the_last_review_is_older_than_the_interval() {
        quiet(&MR_OVERDUE, &clean());
        let mut sms = clean();
        sms.management_reviews[1].held_on = Some(date(2025, 6, 29));
        sms.management_reviews[0].held_on = Some(date(2024, 6, 1));
        let f = fires(&MR_OVERDUE, &sms);
        assert_eq!(f.grade, Grade::Major);
        assert_eq!(ids(&f), ["MR-2"]);
    }

    #[test]
    fn overdue_uses_the_declared_interval_and_ignores_future_reviews() {
        let mut sms = clean();
        sms.intervals.insert(
            Activity::ManagementReview,
            crate::interval::Interval::Months(3),
        );
        assert_eq!(ids(&fires(&MR_OVERDUE, &sms)), ["MR-2"]);
        let mut sms = clean();
        for r in &mut sms.management_reviews {
            r.held_on = Some(date(2026, 7, 1));
        }
        assert_eq!(ids(&fires(&MR_OVERDUE, &sms)), ["management-reviews"]);
    }

    #[test]
    fn top_management_must_attend() {
        quiet(&MR_NO_TOP_MANAGEMENT, &clean());
        let mut sms = clean();
        sms.management_reviews[1].attendees.retain(|a| a != "ceo");
        let f = fires(&MR_NO_TOP_MANAGEMENT, &sms);
        assert_eq!(
            (f.grade, ids(&f)),
            (Grade::Minor, vec!["MR-2"]),
            "MR-1 had the CEO"
        );
        sms.management_reviews[0].attendees.clear();
        assert_eq!(fires(&MR_NO_TOP_MANAGEMENT, &sms).grade, Grade::Major);
    }

    #[test]
    fn inputs_are_judged_against_the_audited_edition() {
        quiet(&MR_INPUTS_MISSING, &clean());
        let mut sms = clean();
        sms.management_reviews[1]
            .inputs
            .retain(|i| *i != ReviewInput::SupplierPerformance);
        let f = fires(&MR_INPUTS_MISSING, &sms);
        assert_eq!(f.evidence[0].value.as_deref(), Some("supplier-performance"));
        let in_2011 =
            crate::checks::testing::run_in(&MR_INPUTS_MISSING, &sms, crate::Edition::Y2011);
        assert!(
            in_2011.is_empty(),
            "2011 does not name supplier performance as an input"
        );
    }

    #[test]
    fn a_review_needs_decisions_or_actions() {
        quiet(&MR_NO_OUTPUTS, &clean());
        let mut sms = clean();
        sms.management_reviews[1].decisions.clear();
        quiet(&MR_NO_OUTPUTS, &sms);
        sms.management_reviews[1].actions.clear();
        assert_eq!(ids(&fires(&MR_NO_OUTPUTS, &sms)), ["MR-2"]);
    }

    #[test]
    fn actions_need_owner_and_due_date() {
        quiet(&MR_ACTIONS_INCOMPLETE, &clean());
        let mut sms = clean();
        sms.management_reviews[1].actions[0].owner = None;
        let f = fires(&MR_ACTIONS_INCOMPLETE, &sms);
        assert_eq!(
            (ids(&f), f.evidence[0].field),
            (vec!["MR-2-A1"], Some("owner"))
        );
    }

    #[test]
    fn actions_must_be_closed_on_time_and_followed_up() {
        quiet(&MR_ACTIONS_NOT_FOLLOWED, &clean());
        let mut sms = clean();
        sms.management_reviews[1].actions[0].due = Some(date(2026, 6, 1));
        assert_eq!(ids(&fires(&MR_ACTIONS_NOT_FOLLOWED, &sms)), ["MR-2-A1"]);

        let mut sms = clean();
        sms.management_reviews[1].followed_up.clear();
        quiet(&MR_ACTIONS_NOT_FOLLOWED, &sms);
        sms.management_reviews[0].actions[0].closed_on = Some(date(2026, 4, 1));
        let f = fires(&MR_ACTIONS_NOT_FOLLOWED, &sms);
        assert_eq!(
            ids(&f),
            ["MR-1-A1"],
            "closed only after MR-2, which never asked about it"
        );
    }

    #[test]
    fn an_action_owner_outside_the_people_register_is_no_owner() {
        let mut sms = clean();
        sms.management_reviews[1].actions[0].owner = Some("helena".into());
        let f = fires(&MR_ACTIONS_INCOMPLETE, &sms);
        assert_eq!(
            (ids(&f), f.evidence[0].field),
            (vec!["MR-2-A1"], Some("owner"))
        );
        sms.management_reviews[1].actions[0].owner = Some("ops".into());
        quiet(&MR_ACTIONS_INCOMPLETE, &sms);
    }

    #[test]
    fn an_attendee_outside_the_people_register_is_not_top_management() {
        let mut sms = clean();
        for r in &mut sms.management_reviews {
            r.attendees = vec!["helena".into(), "sm".into()];
        }
        fires(&MR_NO_TOP_MANAGEMENT, &sms);
        for r in &mut sms.management_reviews {
            r.attendees.push("ceo".into());
        }
        quiet(&MR_NO_TOP_MANAGEMENT, &sms);
    }
}
