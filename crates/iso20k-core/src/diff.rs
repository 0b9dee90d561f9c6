//! Cycle to cycle: the same records judged on two days, compared.
//!
//! Findings are matched by id, which stays put for the same failure in the same record (see
//! [`crate::audit`]). A finding is **new** when only the later day has it, **resolved** when only
//! the earlier day has it, and **recurring** when both have it: it was not fixed in between, or
//! was fixed and came back. A recurring finding also says which of its records it no longer
//! names and which it names anew (the same failure fixed in one record and found in another).
//! Each clause's score is given on both days.

use crate::Date;
use crate::audit::Report;
use crate::checks::Finding;

/// One clause's score on both days.
#[derive(Clone, Debug, PartialEq)]
pub struct ClauseChange {
    /// The clause number.
    pub clause: &'static str,
    /// Its title.
    pub title: &'static str,
    /// The score on the earlier day.
    pub then: f64,
    /// The score on the later day.
    pub now: f64,
}

/// Two reports compared.
#[derive(Clone, Debug)]
pub struct Diff<'a> {
    /// The earlier day.
    pub from: Date,
    /// The later day.
    pub to: Date,
    /// Found only on the later day.
    pub new: Vec<&'a Finding>,
    /// Found only on the earlier day.
    pub resolved: Vec<&'a Finding>,
    /// Found on both days (as the later day has it).
    pub recurring: Vec<&'a Finding>,
    /// For each recurring finding (same order), the records (`kind id`) of its evidence only
    /// the earlier day named, and those only the later day names.
    pub moved: Vec<(Vec<String>, Vec<String>)>,
    /// Every clause, with its score on both days.
    pub clauses: Vec<ClauseChange>,
    /// The overall score on both days.
    pub overall: (f64, f64),
}

/// Compares the report of an earlier day with one of a later day, of the same edition.
pub fn compare<'a>(then: &'a Report, now: &'a Report) -> Diff<'a> {
    let had = |id: &str| then.findings.iter().any(|f| f.id == id);
    let has = |id: &str| now.findings.iter().any(|f| f.id == id);
    let clauses = now
        .readiness
        .clauses
        .iter()
        .map(|c| ClauseChange {
            clause: c.clause.id,
            title: c.clause.title,
            then: then
                .readiness
                .clauses
                .iter()
                .find(|t| t.clause.id == c.clause.id)
                .map_or(0.0, |t| t.score),
            now: c.score,
        })
        .collect();
    let recurring: Vec<&Finding> = now.findings.iter().filter(|f| had(&f.id)).collect();
    let records = |f: &Finding| -> Vec<String> {
        let mut v: Vec<String> = f
            .evidence
            .iter()
            .map(|e| format!("{} {}", e.kind.as_str(), e.id))
            .collect();
        v.dedup();
        v
    };
    let moved = recurring
        .iter()
        .map(|f| {
            let before = then
                .findings
                .iter()
                .find(|t| t.id == f.id)
                .map(records)
                .unwrap_or_default();
            let after = records(f);
            (
                before
                    .iter()
                    .filter(|r| !after.contains(r))
                    .cloned()
                    .collect(),
                after
                    .iter()
                    .filter(|r| !before.contains(r))
                    .cloned()
                    .collect(),
            )
        })
        .collect();
    Diff {
        from: then.as_of,
        to: now.as_of,
        new: now.findings.iter().filter(|f| !had(&f.id)).collect(),
        resolved: then.findings.iter().filter(|f| !has(&f.id)).collect(),
        recurring,
        moved,
        clauses,
        overall: (then.readiness.overall, now.readiness.overall),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::{Options, audit};
    use crate::checks::testing::clean;
    use jiff::civil::date;

    #[test]
    fn findings_are_new_resolved_or_recurring() {
        let opts = |as_of| Options {
            edition: crate::Edition::Y2018,
            as_of,
        };
        let mut broken = clean();
        broken.nonconformities[0].root_cause = None;
        broken.policy = None;
        let then = audit(&broken, opts(date(2026, 6, 30)));
        let mut fixed = clean();
        fixed.policy = None;
        let now = audit(&fixed, opts(date(2028, 6, 30)));
        let d = compare(&then, &now);
        let ids = |v: &[&Finding]| v.iter().map(|f| f.id.clone()).collect::<Vec<_>>();
        assert!(ids(&d.resolved).contains(&"nc-no-root-cause".to_owned()));
        assert!(!d.new.is_empty(), "two years on, reviews are overdue");
        assert!(
            !d.recurring.is_empty(),
            "the policy is missing on both days"
        );
        assert_eq!(d.new.len() + d.recurring.len(), now.findings.len());
        assert_eq!(d.resolved.len() + d.recurring.len(), then.findings.len());
        assert_eq!(d.clauses.len(), now.readiness.clauses.len());
        let same = compare(&now, &now);
        assert!(same.new.is_empty() && same.resolved.is_empty());
        assert_eq!(same.recurring.len(), now.findings.len());
    }
}
