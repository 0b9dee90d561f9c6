//! Readiness: a 0–100 score per clause and overall, and a verdict on whether the organisation is
//! ready for its stage 1 and stage 2 audits. docs/scoring.md explains the model with a worked
//! example; this is the one place it is computed.
//!
//! The score works on the leaf clauses of the audited edition (those no other clause refines).
//! A leaf is *assessed* when something relevant to it was examined: a check looked at a
//! non-empty population of records under it, a required record's presence was judged, the
//! internal auditor answered a checklist question on it, or a finding falls under it. An
//! assessed leaf scores 100 × Π(1 − w) over the findings under it, with w = 0.6 for a major,
//! 0.15 for a minor and 0.05 for an observation, so one major leaves it at 40. A leaf nothing
//! looked at scores 0: an auditor will look at every clause, and what nobody has shown is not
//! evidence of conformity.
//!
//! The overall score is the mean over every leaf, assessed or not, capped below 50 while
//! anything blocks stage 1 and below 70 while anything blocks stage 2; the stage verdicts in
//! turn need the uncapped mean to reach 50 and 70. So the bands and the verdicts always agree:
//! 70 and above is ready for stage 2, 50 and above is ready for stage 1.

use crate::checklist;
use crate::checks::{self, Finding};
use crate::clause::{self, Clause};
use crate::kb::Grade;
use crate::model::Sms;
use crate::{Date, Edition};

/// The share of a leaf clause's score a finding of each grade takes.
pub fn weight(grade: Grade) -> f64 {
    match grade {
        Grade::Major => 0.6,
        Grade::Minor => 0.15,
        Grade::Observation => 0.05,
    }
}

/// The lowest overall score at which stage 1 is ready; while anything blocks stage 1 the
/// overall score stays below it.
pub const STAGE1_BAND: f64 = 50.0;
/// The lowest overall score at which stage 2 is ready.
pub const STAGE2_BAND: f64 = 70.0;
/// How far below a band a capped score sits: one point, so that no rounding of the figure can
/// show a blocked organisation at the band.
const BELOW_BAND: f64 = 1.0;

/// The scored outcome.
#[derive(Clone, Debug)]
pub struct Readiness {
    /// Overall score, 0–100 to two decimals: the mean over every leaf clause, capped by the
    /// stage blockers.
    pub overall: f64,
    /// The mean over every leaf clause before any cap.
    pub uncapped: f64,
    /// The mean over the assessed leaf clauses only (0 when none was assessed).
    pub assessed_score: f64,
    /// Every requirement clause of the edition, in document order.
    pub clauses: Vec<ClauseScore>,
    /// How many leaf clauses were assessed, and how many there are.
    pub assessed: (usize, usize),
    /// How much the overall score rises when each finding (by index) alone is resolved, with
    /// what was examined held fixed, to two decimals.
    pub gains: Vec<f64>,
    /// How much the uncapped score rises when each finding alone is resolved: what it will
    /// count for once nothing blocks the stages any more.
    pub uncapped_gains: Vec<f64>,
    /// Which stage each finding (by index) blocks, if any.
    pub blocks: Vec<Option<Stage>>,
    /// Whether a stage 1 audit would go ahead.
    pub stage1: Verdict,
    /// Whether a stage 2 audit would end in a recommendation.
    pub stage2: Verdict,
}

/// A certification audit stage.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Stage {
    /// The documentation and readiness review.
    One,
    /// The audit of the SMS in operation.
    Two,
}

impl Stage {
    /// `stage-1` or `stage-2`.
    pub fn as_str(self) -> &'static str {
        match self {
            Stage::One => "stage-1",
            Stage::Two => "stage-2",
        }
    }
}

/// The score of one clause.
#[derive(Clone, Debug)]
pub struct ClauseScore {
    /// The clause.
    pub clause: &'static Clause,
    /// Score, 0–100: for a leaf, its own score (0 when not assessed); above, the mean of the
    /// leaves below it.
    pub score: f64,
    /// Whether anything assessed this clause or a clause below it.
    pub assessed: bool,
    /// The findings (by index) that fall under this clause or a clause below it.
    pub findings: Vec<usize>,
}

/// A readiness verdict and what stands in its way.
#[derive(Clone, Debug, PartialEq)]
pub struct Verdict {
    /// Whether nothing stands in the way.
    pub ready: bool,
    /// What stands in the way, worst first.
    pub blockers: Vec<Blocker>,
}

impl Verdict {
    /// The reasons, in words.
    pub fn reasons(&self) -> impl Iterator<Item = &str> {
        self.blockers.iter().map(|b| b.reason.as_str())
    }
}

/// One thing standing in the way of a stage.
#[derive(Clone, Debug, PartialEq)]
pub struct Blocker {
    /// What stands in the way, in words.
    pub reason: String,
    /// The finding (by index) that reports it, where one does.
    pub finding: Option<usize>,
}

/// The clauses of an edition the records let the checks and the checklist examine.
pub fn examined(cx: &checks::Context<'_>) -> Vec<&'static str> {
    let mut out = checks::examined(cx);
    for c in checklist::assessed(cx.sms, cx.edition, cx.as_of) {
        if !out.contains(&c) {
            out.push(c);
        }
    }
    out
}

/// Scores the findings against the clauses of `edition`, where `examined` lists the clauses
/// the checks and the checklist examined (see [`examined`]).
pub fn score(
    sms: &Sms,
    edition: Edition,
    as_of: Date,
    examined: &[&'static str],
    findings: &[Finding],
) -> Readiness {
    let leaves: Vec<&'static Clause> = clause::leaves(edition).collect();
    let assessed: Vec<bool> = leaves
        .iter()
        .map(|l| {
            examined
                .iter()
                .copied()
                .chain(
                    findings
                        .iter()
                        .flat_map(|f| f.clauses(edition).iter().copied()),
                )
                .any(|c| clause::is_within(l.id, c))
        })
        .collect();
    // Which findings fall under each leaf.
    let under: Vec<Vec<usize>> = leaves
        .iter()
        .map(|leaf| {
            findings
                .iter()
                .enumerate()
                .filter(|(_, f)| {
                    f.clauses(edition)
                        .iter()
                        .any(|c| clause::is_within(leaf.id, c))
                })
                .map(|(i, _)| i)
                .collect()
        })
        .collect();
    let everything: Vec<bool> = vec![true; findings.len()];
    let scores = leaf_scores(findings, &assessed, &under, &everything);
    let (uncapped, assessed_score) = means(&scores, &assessed);
    let (uncapped, assessed_score) = (round2(uncapped), round2(assessed_score));
    let (stage1, stage2) = verdicts(sms, as_of, findings, &everything, uncapped);
    let overall = round2(capped(uncapped, &stage1, &stage2));

    // Each finding's gain: the overall score re-computed without it, what was examined held
    // fixed, compared at the precision it is shown.
    let (gains, uncapped_gains) = (0..findings.len())
        .map(|i| {
            let mut kept = everything.clone();
            kept[i] = false;
            let without = leaf_scores(findings, &assessed, &under, &kept);
            let raw = round2(means(&without, &assessed).0);
            let (s1, s2) = verdicts(sms, as_of, findings, &kept, raw);
            (
                round2(round2(capped(raw, &s1, &s2)) - overall),
                round2(raw - uncapped),
            )
        })
        .unzip();
    let blocks = (0..findings.len())
        .map(|i| {
            let names = |v: &Verdict| v.blockers.iter().any(|b| b.finding == Some(i));
            if names(&stage1) {
                Some(Stage::One)
            } else if names(&stage2) {
                Some(Stage::Two)
            } else {
                None
            }
        })
        .collect();

    let clauses = clause::catalogue(edition)
        .iter()
        .filter(|c| c.is_requirement())
        .map(|c| {
            let below: Vec<usize> = (0..leaves.len())
                .filter(|&i| clause::is_within(leaves[i].id, c.id))
                .collect();
            let score = if below.is_empty() {
                0.0
            } else {
                below.iter().map(|&i| scores[i]).sum::<f64>() / below.len() as f64
            };
            let mut cited: Vec<usize> = below.iter().flat_map(|&i| under[i].clone()).collect();
            cited.sort_unstable();
            cited.dedup();
            ClauseScore {
                clause: c,
                score,
                assessed: below.iter().any(|&i| assessed[i]),
                findings: cited,
            }
        })
        .collect();

    Readiness {
        overall,
        uncapped,
        assessed_score,
        clauses,
        assessed: (assessed.iter().filter(|a| **a).count(), leaves.len()),
        gains,
        uncapped_gains,
        blocks,
        stage1,
        stage2,
    }
}

/// Two decimals, the precision scores are computed to and published at, so that the verdicts
/// compare with the bands exactly the figure people see.
pub fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

/// A score for people to read, to one decimal, rounded down: 69.99 reads 69.9, never 70.0,
/// so no figure shown rounds up into a band it has not reached.
pub fn figure(score: f64) -> String {
    format!("{:.1}", (round2(score) * 10.0 + 1e-9).floor() / 10.0)
}

fn leaf_scores(
    findings: &[Finding],
    assessed: &[bool],
    under: &[Vec<usize>],
    kept: &[bool],
) -> Vec<f64> {
    assessed
        .iter()
        .zip(under)
        .map(|(&assessed, under)| {
            if !assessed {
                return 0.0;
            }
            under
                .iter()
                .filter(|&&i| kept[i])
                .fold(100.0, |s, &i| s * (1.0 - weight(findings[i].grade)))
        })
        .collect()
}

/// The mean over every leaf, and over the assessed leaves.
fn means(scores: &[f64], assessed: &[bool]) -> (f64, f64) {
    let all = scores.iter().sum::<f64>() / scores.len().max(1) as f64;
    let n = assessed.iter().filter(|a| **a).count();
    let of_assessed = scores
        .iter()
        .zip(assessed)
        .filter(|(_, a)| **a)
        .map(|(s, _)| s)
        .sum::<f64>()
        / n.max(1) as f64;
    (all, of_assessed)
}

fn capped(uncapped: f64, stage1: &Verdict, stage2: &Verdict) -> f64 {
    let mut score = uncapped;
    if !stage1.ready {
        score = score.min(STAGE1_BAND - BELOW_BAND);
    }
    if !stage2.ready {
        score = score.min(STAGE2_BAND - BELOW_BAND);
    }
    score.max(0.0)
}

/// The verdicts over the findings still `kept`, given the uncapped score.
fn verdicts(
    sms: &Sms,
    as_of: Date,
    findings: &[Finding],
    kept: &[bool],
    uncapped: f64,
) -> (Verdict, Verdict) {
    let open = || findings.iter().enumerate().filter(|(i, _)| kept[*i]);
    let first = |check: &str| open().find(|(_, f)| f.check == check).map(|(i, _)| i);
    let blocker = |reason: String, finding: Option<usize>| Blocker { reason, finding };

    let mut stage1 = Vec::new();
    if let Some(i) = first("policy-missing") {
        stage1.push(blocker(
            "there is no approved service management policy".into(),
            Some(i),
        ));
    }
    for (i, f) in
        open().filter(|(_, f)| f.check == "doc-required-missing" && f.grade == Grade::Major)
    {
        let what = f
            .title
            .trim_start_matches("No current ")
            .trim_end_matches(" in the document register");
        stage1.push(blocker(format!("document missing: {what}"), Some(i)));
    }
    // Whether an audit or a review was ever held or planned is a fact of the records, not of a
    // finding; the finding that reports the gap is named so the reason links to it, and
    // resolving that finding alone does not make the audit happen.
    let audit = first("audit-overdue").or_else(|| first("audit-programme-gaps"));
    let review = first("mr-overdue");
    let audits = || {
        sms.audits
            .iter()
            .filter(|a| !a.cancelled && !a.kind.is_external())
    };
    if !audits().any(|a| a.date().is_some()) {
        stage1.push(blocker(
            "no internal audit has been held or planned".into(),
            audit,
        ));
    } else if !audits().any(|a| a.held_on.is_some_and(|d| d <= as_of)) {
        stage1.push(blocker("no internal audit has been held yet".into(), audit));
    }
    let reviews = || sms.management_reviews.iter();
    if !reviews().any(|r| r.held_on.or(r.planned_on).is_some()) {
        stage1.push(blocker(
            "no management review has been held or planned".into(),
            review,
        ));
    } else if !reviews().any(|r| r.held_on.is_some_and(|d| d <= as_of)) {
        stage1.push(blocker(
            "no management review has been held yet".into(),
            review,
        ));
    }
    if stage1.is_empty() && uncapped < STAGE1_BAND {
        stage1.push(blocker(
            format!(
                "readiness is {:.1}, below the {STAGE1_BAND:.0} a stage 1 audit needs",
                uncapped
            ),
            None,
        ));
    }

    let mut stage2 = Vec::new();
    if !stage1.is_empty() {
        stage2.push(blocker("stage 1 is not ready".into(), None));
    }
    for (i, f) in open().filter(|(_, f)| f.grade == Grade::Major) {
        if stage1.iter().all(|b| b.finding != Some(i)) {
            stage2.push(blocker(
                format!("major finding: {} ({})", f.title, f.check),
                Some(i),
            ));
        }
    }
    if stage2.is_empty() && uncapped < STAGE2_BAND {
        stage2.push(blocker(
            format!(
                "readiness is {:.1}, below the {STAGE2_BAND:.0} a stage 2 audit needs",
                uncapped
            ),
            None,
        ));
    }
    (
        Verdict {
            ready: stage1.is_empty(),
            blockers: stage1,
        },
        Verdict {
            ready: stage2.is_empty(),
            blockers: stage2,
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::{Options, audit};
    use crate::checks::{Context, testing};
    use crate::model::Organisation;
    use proptest::prelude::*;

    fn run(sms: &Sms, edition: Edition, as_of: Date) -> crate::audit::Report {
        audit(sms, Options { edition, as_of })
    }

    /// The clauses examined in `sms`, as the audit sees them.
    fn examined_in(sms: &Sms, edition: Edition, as_of: Date) -> Vec<&'static str> {
        examined(&Context {
            sms,
            as_of,
            edition,
        })
    }

    fn empty() -> Sms {
        Sms {
            organisation: Organisation {
                name: "Nothing Yet Ltd".into(),
                ..Organisation::default()
            },
            ..Sms::default()
        }
    }

    #[test]
    fn an_organisation_with_no_records_scores_at_most_20() {
        for edition in Edition::ALL {
            let r = run(&empty(), edition, testing::as_of()).readiness;
            assert!(r.overall <= 20.0, "{edition}: {}", r.overall);
            assert!(!r.stage1.ready && !r.stage2.ready);
            assert!(
                r.assessed.0 < r.assessed.1,
                "{edition}: not everything was looked at"
            );
        }
    }

    #[test]
    fn the_clean_organisation_scores_100_and_is_ready() {
        for edition in Edition::ALL {
            let r = run(&testing::clean(), edition, testing::as_of()).readiness;
            let unassessed: Vec<_> = r
                .clauses
                .iter()
                .filter(|c| c.clause.is_leaf() && !c.assessed)
                .map(|c| c.clause.id)
                .collect();
            // The checklist answers what no record can show; without them some clauses stay
            // unassessed, and count 0.
            assert_eq!(
                r.overall == 100.0,
                unassessed.is_empty(),
                "{edition}: {} with {unassessed:?} unassessed",
                r.overall
            );
            assert!(r.stage1.ready, "{edition}: {:?}", r.stage1);
        }
    }

    #[test]
    fn one_major_leaves_its_clause_at_40_and_the_score_below_70() {
        let mut sms = testing::clean();
        sms.management_reviews.clear();
        let report = run(&sms, Edition::Y2018, testing::as_of());
        let r = &report.readiness;
        let major = report
            .findings
            .iter()
            .position(|f| f.check == "mr-overdue")
            .unwrap();
        let c93 = r.clauses.iter().find(|c| c.clause.id == "9.3").unwrap();
        assert!(c93.score <= 40.0 && c93.findings.contains(&major));
        assert!(r.overall < STAGE2_BAND);
        assert_eq!(r.blocks[major], Some(Stage::One));
        assert_eq!(
            r.stage1.blockers[0].finding,
            Some(major),
            "the reason links to its finding"
        );
    }

    #[test]
    fn below_the_band_the_stage_is_not_ready_even_without_a_blocker() {
        let sms = testing::clean();
        let examined = examined_in(&sms, Edition::Y2018, testing::as_of());
        let r = score(&sms, Edition::Y2018, testing::as_of(), &examined[..3], &[]);
        assert!(r.uncapped < STAGE1_BAND);
        assert!(!r.stage1.ready && !r.stage2.ready);
        assert!(r.stage1.blockers[0].reason.contains("below the 50"));
    }

    #[test]
    fn figures_never_round_up_into_a_band() {
        assert_eq!(figure(69.99), "69.9");
        assert_eq!(figure(70.0), "70.0");
        assert_eq!(figure(49.0), "49.0");
        assert_eq!(figure(12.345), "12.3");
    }

    /// Ways a well-run organisation's records go wrong, each one of which a generated bundle
    /// may suffer.
    const BREAKAGES: &[fn(&mut Sms)] = &[
        |s| s.management_reviews.clear(),
        |s| s.audits.clear(),
        |s| s.policy = None,
        |s| {
            if let Some(p) = s.policy.as_mut() {
                p.approved_by = Some("helena".into());
            }
        },
        |s| s.people.clear(),
        |s| s.documents.clear(),
        |s| s.documents.iter_mut().for_each(|d| d.approver = None),
        |s| s.processes.iter_mut().for_each(|p| p.owner = None),
        |s| s.processes.clear(),
        |s| s.services.clear(),
        |s| s.slas.clear(),
        |s| s.suppliers.clear(),
        |s| s.risks.clear(),
        |s| s.tickets.incidents.clear(),
        |s| {
            s.tickets.incidents.iter_mut().for_each(|i| {
                i.major = true;
                i.problem = Some("PRB-NOWHERE".into());
            })
        },
        |s| s.tickets.changes.clear(),
        |s| s.checklist.clear(),
        |s| s.customers.clear(),
        |s| s.continuity_plans.clear(),
        |s| s.capacity_plans.clear(),
        |s| s.training.clear(),
        |s| s.organisation.sms_owner = None,
        |s| s.nonconformities.clear(),
        |s| s.improvements.clear(),
        |s| s.objectives.clear(),
    ];

    fn bundle() -> impl Strategy<Value = (Sms, Edition, Date)> {
        (
            proptest::collection::vec(any::<bool>(), BREAKAGES.len()),
            0i64..900,
            any::<bool>(),
        )
            .prop_map(|(broken, days, y2011)| {
                let mut sms = testing::clean();
                for (breaks, breakage) in broken.iter().zip(BREAKAGES) {
                    if *breaks {
                        breakage(&mut sms);
                    }
                }
                let as_of = testing::as_of()
                    .checked_add(jiff::Span::new().days(days))
                    .unwrap();
                let edition = if y2011 {
                    Edition::Y2011
                } else {
                    Edition::Y2018
                };
                (sms, edition, as_of)
            })
    }

    fn scores(r: &Readiness) -> Vec<f64> {
        let mut all = vec![r.overall, r.uncapped, r.assessed_score];
        all.extend(r.clauses.iter().map(|c| c.score));
        all
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

        /// The number and the verdicts never disagree, and every score is a percentage.
        #[test]
        fn verdicts_and_bands_agree((sms, edition, as_of) in bundle()) {
            let r = run(&sms, edition, as_of).readiness;
            prop_assert_eq!(r.stage1.ready, r.overall >= STAGE1_BAND);
            prop_assert_eq!(r.stage2.ready, r.overall >= STAGE2_BAND);
            prop_assert!(r.overall <= r.uncapped);
            for s in scores(&r) {
                prop_assert!((0.0..=100.0).contains(&s), "{}", s);
            }
            prop_assert!(r.clauses.iter().all(|c| c.assessed || c.score == 0.0));
        }

        /// Any open major leaves every leaf clause it falls under at 40 or below, and the
        /// overall score below 70.
        #[test]
        fn a_major_caps_its_clauses_and_the_score((sms, edition, as_of) in bundle()) {
            let report = run(&sms, edition, as_of);
            let r = &report.readiness;
            for (i, f) in report.findings.iter().enumerate() {
                if f.grade != Grade::Major {
                    continue;
                }
                prop_assert!(r.overall < STAGE2_BAND);
                for c in r.clauses.iter().filter(|c| c.clause.is_leaf() && c.findings.contains(&i)) {
                    prop_assert!(c.score <= 40.0, "{} {} at {}", f.check, c.clause.id, c.score);
                }
            }
        }

        /// Resolving findings never lowers any score, and adding them never raises one, what
        /// was examined held fixed.
        #[test]
        fn fewer_findings_never_score_lower(
            (sms, edition, as_of) in bundle(),
            keep in proptest::collection::vec(any::<bool>(), 64),
        ) {
            let report = run(&sms, edition, as_of);
            let fewer: Vec<Finding> = report
                .findings
                .iter()
                .zip(keep.iter().chain(std::iter::repeat(&true)))
                .filter(|(_, k)| **k)
                .map(|(f, _)| f.clone())
                .collect();
            // The findings removed still assess their clauses: they were looked at.
            let mut looked = examined_in(&sms, edition, as_of);
            looked.extend(report.findings.iter().flat_map(|f| f.clauses(edition).iter().copied()));
            let some = score(&sms, edition, as_of, &looked, &fewer);
            let all = score(&sms, edition, as_of, &looked, &report.findings);
            for (a, b) in scores(&all).into_iter().zip(scores(&some)) {
                prop_assert!(b >= a, "{} < {}", b, a);
            }
        }

        /// A finding's gain is exactly what re-scoring without it gives.
        #[test]
        fn gain_is_what_resolving_the_finding_alone_gives((sms, edition, as_of) in bundle()) {
            let report = run(&sms, edition, as_of);
            let r = &report.readiness;
            let mut looked = examined_in(&sms, edition, as_of);
            looked.extend(report.findings.iter().flat_map(|f| f.clauses(edition).iter().copied()));
            for i in 0..report.findings.len() {
                let mut without = report.findings.clone();
                without.remove(i);
                let again = score(&sms, edition, as_of, &looked, &without);
                prop_assert_eq!(round2(again.overall - r.overall), r.gains[i]);
                prop_assert_eq!(round2(again.uncapped - r.uncapped), r.uncapped_gains[i]);
                prop_assert!(r.gains[i] >= 0.0);
            }
            // Findings are listed worst first, then by what resolving them gains.
            for w in report.findings.windows(2).zip(r.gains.windows(2)) {
                let (f, g) = w;
                prop_assert!(f[0].grade > f[1].grade || (f[0].grade == f[1].grade && g[0] >= g[1]));
            }
        }
    }
}
