//! Changes and releases, as an auditor samples them: approved before they go in, assessed for
//! risk, with a way back and a test plan, emergency changes reviewed afterwards, and releases
//! authorised by a change and tested before deployment.

use std::collections::HashSet;

use super::{Check, Evidence, Examines, RecordKind, when};
use crate::model::{Change, ChangeType, Release};

/// Changes implemented on or before `as_of` that are not pre-authorised standard changes.
fn assessed_changes<'a>(cx: &super::Context<'a>) -> impl Iterator<Item = &'a Change> {
    let as_of = cx.as_of;
    cx.sms.tickets.changes.iter().filter(move |c| {
        c.kind != ChangeType::Standard && c.implemented_at.is_some_and(|t| t.date() <= as_of)
    })
}

/// Assessed changes of one kind.
fn assessed_of<'a>(cx: &super::Context<'a>, kind: ChangeType) -> impl Iterator<Item = &'a Change> {
    assessed_changes(cx).filter(move |c| c.kind == kind)
}

/// Releases deployed on or before `as_of`.
fn deployed_releases<'a>(cx: &super::Context<'a>) -> impl Iterator<Item = &'a Release> {
    let as_of = cx.as_of;
    cx.sms
        .tickets
        .releases
        .iter()
        .filter(move |r| r.deployed_at.is_some_and(|t| t.date() <= as_of))
}

pub(super) static CHANGE_NOT_APPROVED: Check = Check {
    id: "change-not-approved",
    pattern: "F-099",
    title: "Changes implemented before approval, or never approved",
    clauses_2018: &["8.5.1.3"],
    clauses_2011: &["9.2"],
    doc: "Fires for each normal change implemented with no approval, or approved only after it \
          was implemented. Emergency changes are left to `emergency-change-not-reviewed`. \
          Graded by extent over the normal changes implemented: systemic is major.",
    examines: Examines::Records(|cx| assessed_of(cx, ChangeType::Normal).count()),
    evaluate: |cx, out| {
        let normal: Vec<_> = assessed_of(cx, ChangeType::Normal).collect();
        let bad: Vec<_> = normal
            .iter()
            .filter_map(|c| {
                let implemented = c.implemented_at?;
                let note = match c.approved_at {
                    None if c.approver.is_none() => "implemented with no approval".to_string(),
                    None => return None,
                    Some(a) if a > implemented => {
                        format!(
                            "implemented {}, approved only {}",
                            when(implemented),
                            when(a)
                        )
                    }
                    Some(_) => return None,
                };
                Some(
                    Evidence::new(RecordKind::Change, &c.id, note)
                        .field("approved_at", c.approved_at.map(when)),
                )
            })
            .collect();
        CHANGE_NOT_APPROVED.report_extent(
            out,
            bad,
            normal.len(),
            "changes went in without prior approval",
            Some("changes"),
        );
    },
};

pub(super) static CHANGE_NO_RISK_ASSESSMENT: Check = Check {
    id: "change-no-risk-assessment",
    pattern: "F-100",
    title: "Changes without a risk and impact assessment",
    clauses_2018: &["8.5.1.3"],
    clauses_2011: &["9.2"],
    doc: "Fires for each normal or emergency change implemented with no risk assessment \
          recorded. Graded by extent over those changes.",
    examines: Examines::Records(|cx| assessed_changes(cx).count()),
    evaluate: |cx, out| {
        let changes: Vec<_> = assessed_changes(cx).collect();
        let bad: Vec<_> = changes
            .iter()
            .filter(|c| c.risk.is_none())
            .map(|c| {
                Evidence::new(RecordKind::Change, &c.id, "no risk assessment")
                    .field("risk", None::<String>)
            })
            .collect();
        CHANGE_NO_RISK_ASSESSMENT.report_extent(
            out,
            bad,
            changes.len(),
            "changes record no risk assessment",
            Some("changes"),
        );
    },
};

pub(super) static EMERGENCY_CHANGE_NOT_REVIEWED: Check = Check {
    id: "emergency-change-not-reviewed",
    pattern: "F-101",
    title: "Emergency changes never reviewed afterwards",
    clauses_2018: &["8.5.1.3"],
    clauses_2011: &["9.2"],
    doc: "Fires for each emergency change implemented with no post-implementation review \
          (noting when it was not even approved after the fact). Graded by extent over the \
          emergency changes.",
    examines: Examines::Records(|cx| assessed_of(cx, ChangeType::Emergency).count()),
    evaluate: |cx, out| {
        let emergency: Vec<_> = assessed_of(cx, ChangeType::Emergency).collect();
        let bad: Vec<_> = emergency
            .iter()
            .filter(|c| c.reviewed_on.is_none_or(|d| d > cx.as_of))
            .map(|c| {
                let note = if c.approved_at.is_none() {
                    "no review and no approval, even afterwards"
                } else {
                    "no post-implementation review"
                };
                Evidence::new(RecordKind::Change, &c.id, note).field("reviewed_on", None::<String>)
            })
            .collect();
        EMERGENCY_CHANGE_NOT_REVIEWED.report_extent(
            out,
            bad,
            emergency.len(),
            "emergency changes were never reviewed",
            Some("changes"),
        );
    },
};

pub(super) static CHANGE_NO_BACKOUT: Check = Check {
    id: "change-no-backout",
    pattern: "F-102",
    title: "Changes without a back-out or test plan; failed changes not reviewed",
    clauses_2018: &["8.5.1.3"],
    clauses_2011: &["9.2"],
    doc: "Fires for each normal or emergency change implemented with no back-out plan or no test \
          plan, and for each failed change with no review. Graded by extent over those changes.",
    examines: Examines::Records(|cx| assessed_changes(cx).count()),
    evaluate: |cx, out| {
        let changes: Vec<_> = assessed_changes(cx).collect();
        let bad: Vec<_> = changes
            .iter()
            .filter_map(|c| {
                let mut gaps = Vec::new();
                if !c.backout_plan {
                    gaps.push("no back-out plan");
                }
                if !c.test_plan {
                    gaps.push("no test plan");
                }
                if c.successful == Some(false) && c.reviewed_on.is_none() {
                    gaps.push("failed and not reviewed");
                }
                (!gaps.is_empty())
                    .then(|| Evidence::new(RecordKind::Change, &c.id, gaps.join(", ")))
            })
            .collect();
        CHANGE_NO_BACKOUT.report_extent(
            out,
            bad,
            changes.len(),
            "changes had no way back, no test plan or no review of failure",
            Some("changes"),
        );
    },
};

pub(super) static RELEASE_NO_CHANGE: Check = Check {
    id: "release-no-change",
    pattern: "F-105",
    title: "Releases deployed without an authorising change",
    clauses_2018: &["8.5.3"],
    clauses_2011: &["9.3"],
    doc: "Fires for each release deployed on or before the as-of date that names no change, or a \
          change not in the change records. Graded by extent over the releases deployed.",
    examines: Examines::Records(|cx| deployed_releases(cx).count()),
    evaluate: |cx, out| {
        let known: HashSet<&str> = cx
            .sms
            .tickets
            .changes
            .iter()
            .map(|c| c.id.as_str())
            .collect();
        let deployed: Vec<_> = deployed_releases(cx).collect();
        let bad: Vec<_> = deployed
            .iter()
            .filter_map(|r| match r.change.as_deref() {
                None => Some(
                    Evidence::new(RecordKind::Release, &r.id, "no change authorised it")
                        .field("change", None::<String>),
                ),
                Some(c) if !known.contains(c) => Some(
                    Evidence::new(
                        RecordKind::Release,
                        &r.id,
                        "names a change that is not in the change records",
                    )
                    .field("change", Some(c)),
                ),
                Some(_) => None,
            })
            .collect();
        RELEASE_NO_CHANGE.report_extent(
            out,
            bad,
            deployed.len(),
            "releases were deployed without an authorising change",
            Some("releases"),
        );
    },
};

pub(super) static RELEASE_NOT_TESTED: Check = Check {
    id: "release-not-tested",
    pattern: "F-106",
    title: "Releases deployed without test evidence",
    clauses_2018: &["8.5.3"],
    clauses_2011: &["9.3"],
    doc: "Fires for each release deployed on or before the as-of date with no test evidence. \
          Graded by extent over the releases deployed.",
    examines: Examines::Records(|cx| deployed_releases(cx).count()),
    evaluate: |cx, out| {
        let deployed: Vec<_> = deployed_releases(cx).collect();
        let bad: Vec<_> = deployed
            .iter()
            .filter(|r| !r.tested)
            .map(|r| {
                Evidence::new(RecordKind::Release, &r.id, "deployed with no test evidence")
                    .field("tested", Some("no"))
            })
            .collect();
        RELEASE_NOT_TESTED.report_extent(
            out,
            bad,
            deployed.len(),
            "releases were deployed untested",
            Some("releases"),
        );
    },
};

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::testing::{clean, fires, ids, quiet};
    use crate::kb::Grade;
    use jiff::civil::date;

    #[test]
    fn normal_changes_are_approved_before_they_go_in() {
        quiet(&CHANGE_NOT_APPROVED, &clean());
        let mut sms = clean();
        sms.tickets.changes[0].approved_at = Some(date(2026, 5, 4).at(9, 0, 0, 0));
        let f = fires(&CHANGE_NOT_APPROVED, &sms);
        assert_eq!((ids(&f), f.grade), (vec!["CHG-1"], Grade::Minor));
        sms.tickets.changes[0].kind = ChangeType::Standard;
        quiet(&CHANGE_NOT_APPROVED, &sms);
    }

    #[test]
    fn changes_are_assessed_for_risk() {
        quiet(&CHANGE_NO_RISK_ASSESSMENT, &clean());
        let mut sms = clean();
        sms.tickets.changes[1].risk = None;
        assert_eq!(ids(&fires(&CHANGE_NO_RISK_ASSESSMENT, &sms)), ["CHG-2"]);
    }

    #[test]
    fn emergency_changes_are_reviewed() {
        quiet(&EMERGENCY_CHANGE_NOT_REVIEWED, &clean());
        let mut sms = clean();
        sms.tickets.changes[1].reviewed_on = None;
        assert_eq!(ids(&fires(&EMERGENCY_CHANGE_NOT_REVIEWED, &sms)), ["CHG-2"]);
    }

    #[test]
    fn changes_have_a_way_back_and_failures_are_reviewed() {
        quiet(&CHANGE_NO_BACKOUT, &clean());
        let mut sms = clean();
        sms.tickets.changes[0].backout_plan = false;
        sms.tickets.changes[0].successful = Some(false);
        sms.tickets.changes[0].reviewed_on = None;
        assert_eq!(
            fires(&CHANGE_NO_BACKOUT, &sms).evidence[0].note,
            "no back-out plan, failed and not reviewed"
        );
    }

    #[test]
    fn releases_are_authorised_and_tested() {
        quiet(&RELEASE_NO_CHANGE, &clean());
        quiet(&RELEASE_NOT_TESTED, &clean());
        let mut sms = clean();
        sms.tickets.releases[0].change = Some("CHG-404".into());
        sms.tickets.releases[0].tested = false;
        assert_eq!(ids(&fires(&RELEASE_NO_CHANGE, &sms)), ["REL-1"]);
        assert_eq!(ids(&fires(&RELEASE_NOT_TESTED, &sms)), ["REL-1"]);
    }

    #[test]
    fn a_release_naming_a_change_on_record_is_authorised() {
        let mut sms = clean();
        sms.tickets.releases[0].change = Some("CHG-404".into());
        let f = fires(&RELEASE_NO_CHANGE, &sms);
        assert_eq!(f.evidence[0].value.as_deref(), Some("CHG-404"));
        sms.tickets.releases[0].change = Some("CHG-2".into());
        quiet(&RELEASE_NO_CHANGE, &sms);
    }
}
