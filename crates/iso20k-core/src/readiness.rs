//! Readiness: a 0–100 score per clause and overall, where every point lost traces to a finding,
//! and a verdict on whether the organisation is ready for its stage 1 and stage 2 audits.
//!
//! Scoring works on the leaf clauses of the audited edition (those no other clause refines) that
//! were assessed: a check looks at them, the internal auditor answered a checklist question on
//! them, or a finding falls under them. A clause nothing looked
//! at is reported as not assessed, never as passed, and does not dilute the score.
//!
//! Each finding costs every leaf clause it falls under a weight by grade (major 50, minor 15,
//! observation 5); a leaf cannot lose more than 100, and when its findings would take more, each
//! one's share is scaled down in proportion. A parent clause scores the mean of its assessed
//! leaves, and the overall score is the mean of all assessed leaves, so a finding's cost to the
//! overall score is its deductions divided by the number of assessed leaves.

use crate::checklist;
use crate::checks::{self, Finding};
use crate::clause::{self, Clause};
use crate::kb::Grade;
use crate::model::Sms;
use crate::{Date, Edition};

/// Points a finding of each grade takes from each clause it falls under.
pub fn weight(grade: Grade) -> f64 {
    match grade {
        Grade::Major => 50.0,
        Grade::Minor => 15.0,
        Grade::Observation => 5.0,
    }
}

/// The scored outcome.
#[derive(Clone, Debug)]
pub struct Readiness {
    /// Overall score, 0–100.
    pub overall: f64,
    /// Every requirement clause of the edition, in document order.
    pub clauses: Vec<ClauseScore>,
    /// How many leaf clauses were assessed, and how many there are.
    pub assessed: (usize, usize),
    /// Points each finding costs the overall score, by the finding's index.
    pub finding_points: Vec<f64>,
    /// Whether a stage 1 audit would go ahead.
    pub stage1: Verdict,
    /// Whether a stage 2 audit would end in a recommendation.
    pub stage2: Verdict,
}

/// The score of one clause.
#[derive(Clone, Debug)]
pub struct ClauseScore {
    /// The clause.
    pub clause: &'static Clause,
    /// Score, 0–100 (100 when nothing was assessed).
    pub score: f64,
    /// Whether anything assessed this clause or a clause below it.
    pub assessed: bool,
    /// Points lost to each finding (by index), summed over the leaves below this clause and
    /// divided by their number, so that they add up to `100 - score`.
    pub lost: Vec<(usize, f64)>,
}

/// A readiness verdict and what stands in its way.
#[derive(Clone, Debug, PartialEq)]
pub struct Verdict {
    /// Whether nothing stands in the way.
    pub ready: bool,
    /// What stands in the way, worst first.
    pub reasons: Vec<String>,
}

/// Scores the findings against the clauses of `edition`.
pub fn score(sms: &Sms, edition: Edition, as_of: Date, findings: &[Finding]) -> Readiness {
    let mut looked_at = checks::assessed(edition);
    looked_at.extend(checklist::assessed(sms, edition, as_of));
    let touched: Vec<&str> = findings
        .iter()
        .flat_map(|f| f.clauses(edition).iter().copied())
        .collect();
    let leaves: Vec<&'static Clause> = clause::leaves(edition)
        .filter(|l| {
            looked_at
                .iter()
                .chain(&touched)
                .any(|c| clause::is_within(l.id, c))
        })
        .collect();
    // Per leaf: the (finding, points) it loses, after scaling to at most 100.
    let leaf_losses: Vec<Vec<(usize, f64)>> = leaves
        .iter()
        .map(|leaf| {
            let raw: Vec<(usize, f64)> = findings
                .iter()
                .enumerate()
                .filter(|(_, f)| {
                    f.clauses(edition)
                        .iter()
                        .any(|c| clause::is_within(leaf.id, c))
                })
                .map(|(i, f)| (i, weight(f.grade)))
                .collect();
            let total: f64 = raw.iter().map(|r| r.1).sum();
            let scale = if total > 100.0 { 100.0 / total } else { 1.0 };
            raw.into_iter().map(|(i, p)| (i, p * scale)).collect()
        })
        .collect();

    let clauses = clause::catalogue(edition)
        .iter()
        .filter(|c| c.is_requirement())
        .map(|c| {
            let below: Vec<_> = leaves
                .iter()
                .enumerate()
                .filter(|(_, l)| clause::is_within(l.id, c.id))
                .map(|(i, _)| i)
                .collect();
            let n = below.len().max(1) as f64;
            let mut lost: Vec<(usize, f64)> = Vec::new();
            for i in &below {
                for &(f, p) in &leaf_losses[*i] {
                    match lost.iter_mut().find(|l| l.0 == f) {
                        Some(l) => l.1 += p / n,
                        None => lost.push((f, p / n)),
                    }
                }
            }
            let score = 100.0 - lost.iter().map(|l| l.1).sum::<f64>();
            ClauseScore {
                clause: c,
                score: score.max(0.0),
                assessed: !below.is_empty(),
                lost,
            }
        })
        .collect();

    let n = leaves.len().max(1) as f64;
    let mut finding_points = vec![0.0; findings.len()];
    for losses in &leaf_losses {
        for &(f, p) in losses {
            finding_points[f] += p / n;
        }
    }
    let overall = (100.0 - finding_points.iter().sum::<f64>()).max(0.0);
    let (stage1, stage2) = verdicts(sms, as_of, findings);
    let assessed = (leaves.len(), clause::leaves(edition).count());
    Readiness {
        overall,
        clauses,
        assessed,
        finding_points,
        stage1,
        stage2,
    }
}

fn verdicts(sms: &Sms, as_of: Date, findings: &[Finding]) -> (Verdict, Verdict) {
    let mut stage1 = Vec::new();
    if findings.iter().any(|f| f.check == "policy-missing") {
        stage1.push("there is no approved service management policy".to_string());
    }
    for f in findings
        .iter()
        .filter(|f| f.check == "doc-required-missing" && f.grade == Grade::Major)
    {
        stage1.push(format!(
            "document missing: {}",
            f.title
                .trim_start_matches("No current ")
                .trim_end_matches(" in the document register")
        ));
    }
    let planned_or_held = |d: Option<Date>| d.is_some();
    if !sms
        .audits
        .iter()
        .any(|a| !a.cancelled && planned_or_held(a.date()))
    {
        stage1.push("no internal audit has been held or planned".to_string());
    }
    if !sms
        .management_reviews
        .iter()
        .any(|r| planned_or_held(r.held_on.or(r.planned_on)))
    {
        stage1.push("no management review has been held or planned".to_string());
    }
    if !sms
        .audits
        .iter()
        .any(|a| !a.cancelled && a.held_on.is_some_and(|d| d <= as_of))
    {
        stage1.push("no internal audit has been held yet".to_string());
    }
    if !sms
        .management_reviews
        .iter()
        .any(|r| r.held_on.is_some_and(|d| d <= as_of))
    {
        stage1.push("no management review has been held yet".to_string());
    }
    let mut stage2 = Vec::new();
    if !stage1.is_empty() {
        stage2.push("stage 1 is not ready".to_string());
    }
    let majors = findings.iter().filter(|f| f.grade == Grade::Major);
    stage2.extend(majors.map(|f| format!("major finding: {} ({})", f.title, f.check)));
    (
        Verdict {
            ready: stage1.is_empty(),
            reasons: stage1,
        },
        Verdict {
            ready: stage2.is_empty(),
            reasons: stage2,
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::{Evidence, RecordKind, testing};

    fn finding(check: &str, grade: Grade, clauses_2018: &[&'static str]) -> Finding {
        let mut f = checks::find(check).unwrap().finding(grade, "test");
        f.clauses_2018 = clauses_2018.to_vec();
        f.with(Evidence::new(RecordKind::Register, "x", "y"))
    }

    #[test]
    fn no_findings_scores_100_everywhere() {
        let r = score(&testing::clean(), Edition::Y2018, testing::as_of(), &[]);
        assert_eq!(r.overall, 100.0);
        assert!(
            r.clauses
                .iter()
                .all(|c| c.score == 100.0 && c.lost.is_empty())
        );
        assert!(
            r.stage1.ready && r.stage2.ready,
            "{:?} {:?}",
            r.stage1,
            r.stage2
        );
    }

    #[test]
    fn every_point_lost_traces_to_a_finding() {
        let findings = [
            finding("mr-overdue", Grade::Major, &["9.3"]),
            finding("mr-inputs-missing", Grade::Minor, &["9.3"]),
            finding("mr-no-top-management", Grade::Major, &["5.1", "9.3"]),
            finding("mr-no-outputs", Grade::Minor, &["9.3"]),
        ];
        let r = score(
            &testing::clean(),
            Edition::Y2018,
            testing::as_of(),
            &findings,
        );
        let c93 = r.clauses.iter().find(|c| c.clause.id == "9.3").unwrap();
        assert_eq!(
            c93.score, 0.0,
            "50 + 15 + 50 + 15 is more than a clause has"
        );
        let lost: f64 = c93.lost.iter().map(|l| l.1).sum();
        assert!((lost - 100.0).abs() < 1e-9);
        let c9 = r.clauses.iter().find(|c| c.clause.id == "9").unwrap();
        assert!(
            (c9.score - 200.0 / 3.0).abs() < 1e-9,
            "9.1, 9.2 and 9.3 are the assessed leaves of 9: {}",
            c9.score
        );
        let c94 = r.clauses.iter().find(|c| c.clause.id == "9.4").unwrap();
        assert!(!c94.assessed, "no check looks at service reporting yet");
        let total_lost: f64 = r.finding_points.iter().sum();
        assert!((100.0 - r.overall - total_lost).abs() < 1e-9);
        assert!(
            r.finding_points[2] > r.finding_points[0],
            "the top-management finding also costs 5.1"
        );
        assert!(!r.stage2.ready && r.stage2.reasons.len() == 2);
    }

    #[test]
    fn stage1_needs_audits_and_reviews_on_the_calendar() {
        let mut sms = testing::clean();
        sms.audits.clear();
        sms.management_reviews
            .iter_mut()
            .for_each(|r| r.held_on = None);
        let r = score(&sms, Edition::Y2018, testing::as_of(), &[]);
        assert!(!r.stage1.ready);
        assert!(
            r.stage1
                .reasons
                .contains(&"no internal audit has been held or planned".to_string())
        );
        assert!(
            r.stage1
                .reasons
                .contains(&"no management review has been held yet".to_string())
        );
        assert_eq!(r.stage2.reasons, ["stage 1 is not ready"]);
    }

    #[test]
    fn verdict_rules_name_real_checks() {
        for id in ["policy-missing", "doc-required-missing"] {
            assert!(checks::find(id).is_some(), "{id}");
        }
    }
}
