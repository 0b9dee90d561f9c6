//! Competence: people in SMS roles can show training or competence records, and the
//! organisation checks that the training worked.

use std::collections::BTreeSet;

use super::{Check, Context, Evidence, Examines, RecordKind};
use crate::interval::Activity;
use crate::model::{Raci, TrainingRecord};

/// Everyone still here who owns a process or is responsible or accountable for one in the RACI.
fn role_holders<'a>(cx: &Context<'a>) -> Vec<&'a str> {
    let sms = cx.sms;
    let mut holders: BTreeSet<&str> = sms
        .processes
        .iter()
        .filter_map(|p| p.owner.as_deref())
        .collect();
    holders.extend(
        sms.raci
            .iter()
            .filter(|e| matches!(e.raci, Raci::Responsible | Raci::Accountable))
            .map(|e| e.person.as_str()),
    );
    holders
        .into_iter()
        .filter(|p| cx.is_active_person(p))
        .collect()
}

/// Training completed within the `training_evaluation` interval, up to the as-of date.
fn recent_training<'a>(cx: &Context<'a>) -> impl Iterator<Item = &'a TrainingRecord> {
    let since = cx.since(Activity::TrainingEvaluation);
    let as_of = cx.as_of;
    cx.sms
        .training
        .iter()
        .filter(move |t| t.completed_on.is_some_and(|d| d >= since && d <= as_of))
}

pub(super) static TRAINING_MISSING: Check = Check {
    id: "training-missing",
    pattern: "F-022",
    title: "People in SMS roles without training or competence records",
    clauses_2018: &["7.2"],
    clauses_2011: &["4.4.2"],
    doc: "Takes everyone still here who owns a process or is responsible or accountable for one \
          in the RACI, and fires for each with no training record in force (completed, and not \
          expired on the as-of date). Graded by extent over those people.",
    examines: Examines::Records(|cx| role_holders(cx).len()),
    evaluate: |cx, out| {
        let sms = cx.sms;
        let holders = role_holders(cx);
        let bad: Vec<_> = holders
            .iter()
            .filter(|p| {
                !sms.training.iter().any(|t| {
                    t.person == **p
                        && t.completed_on.is_some_and(|d| d <= cx.as_of)
                        && t.expires_on.is_none_or(|d| d >= cx.as_of)
                })
            })
            .map(|p| {
                Evidence::new(
                    RecordKind::Person,
                    *p,
                    "holds an SMS role with no training record in force",
                )
            })
            .collect();
        TRAINING_MISSING.report_extent(
            out,
            bad,
            holders.len(),
            "people in SMS roles show no training or competence record",
            None,
        );
    },
};

pub(super) static TRAINING_NOT_EVALUATED: Check = Check {
    id: "training-not-evaluated",
    pattern: "F-023",
    title: "Training effectiveness not evaluated",
    clauses_2018: &["7.2"],
    clauses_2011: &["4.4.2"],
    doc: "Fires for each training completed within the `training_evaluation` interval (default \
          12 months) whose effectiveness was not evaluated. Graded by extent over that training.",
    examines: Examines::Records(|cx| recent_training(cx).count()),
    evaluate: |cx, out| {
        let recent: Vec<_> = recent_training(cx).collect();
        let bad: Vec<_> = recent
            .iter()
            .filter(|t| !t.evaluated)
            .map(|t| {
                Evidence::new(
                    RecordKind::Training,
                    &t.person,
                    format!("{}: effectiveness not evaluated", t.course),
                )
                .field("evaluated", Some("no"))
            })
            .collect();
        TRAINING_NOT_EVALUATED.report_extent(
            out,
            bad,
            recent.len(),
            "recent trainings were never checked for effect",
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
    fn role_holders_show_training_in_force() {
        quiet(&TRAINING_MISSING, &clean());
        let mut sms = clean();
        sms.training.retain(|t| t.person != "cm");
        assert_eq!(ids(&fires(&TRAINING_MISSING, &sms)), ["cm"]);
        let mut sms = clean();
        sms.training
            .iter_mut()
            .filter(|t| t.person == "ops")
            .for_each(|t| t.expires_on = Some(date(2026, 1, 1)));
        assert_eq!(ids(&fires(&TRAINING_MISSING, &sms)), ["ops"]);
    }

    #[test]
    fn recent_training_is_evaluated() {
        quiet(&TRAINING_NOT_EVALUATED, &clean());
        let mut sms = clean();
        sms.training[0].evaluated = false;
        let f = fires(&TRAINING_NOT_EVALUATED, &sms);
        assert_eq!(ids(&f), [sms.training[0].person.as_str()]);
    }
}
