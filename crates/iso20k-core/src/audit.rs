//! Runs every check on an organisation's records and scores the result.

use crate::checks::{self, Context, Finding};
use crate::clause;
use crate::kb::Grade;
use crate::model::Sms;
use crate::readiness::{self, Readiness};
use crate::{Date, Edition};

/// What to audit against.
#[derive(Clone, Copy, Debug)]
pub struct Options {
    /// The edition audited against.
    pub edition: Edition,
    /// The day the audit is imagined to happen; every interval is measured back from it.
    pub as_of: Date,
}

/// The outcome of an audit of the records.
#[derive(Clone, Debug)]
pub struct Report {
    /// The organisation's name.
    pub organisation: String,
    /// The edition audited against.
    pub edition: Edition,
    /// The day the audit was imagined to happen.
    pub as_of: Date,
    /// How many checks ran.
    pub checks_run: usize,
    /// What was found, worst first, then in clause order.
    pub findings: Vec<Finding>,
    /// The scores and verdicts.
    pub readiness: Readiness,
}

impl Report {
    /// How many findings have a grade.
    pub fn count(&self, grade: Grade) -> usize {
        self.findings.iter().filter(|f| f.grade == grade).count()
    }

    /// The worst grade found, if anything was found.
    pub fn worst(&self) -> Option<Grade> {
        self.findings.iter().map(|f| f.grade).max()
    }
}

/// Audits the records.
pub fn audit(sms: &Sms, options: Options) -> Report {
    let cx = Context {
        sms,
        as_of: options.as_of,
        edition: options.edition,
    };
    let mut findings: Vec<Finding> = checks::run(&cx)
        .into_iter()
        .filter(|f| !f.clauses(options.edition).is_empty())
        .collect();
    let order = |f: &Finding| {
        let clause = f
            .clauses(options.edition)
            .iter()
            .filter_map(|c| {
                clause::catalogue(options.edition)
                    .iter()
                    .position(|x| x.id == *c)
            })
            .min()
            .unwrap_or(usize::MAX);
        let check = checks::ALL
            .iter()
            .position(|c| c.id == f.check.id)
            .unwrap_or(usize::MAX);
        (std::cmp::Reverse(f.grade), clause, check)
    };
    findings.sort_by_key(order);
    let readiness = readiness::score(sms, options.edition, options.as_of, &findings);
    Report {
        organisation: sms.organisation.name.clone(),
        edition: options.edition,
        as_of: options.as_of,
        checks_run: checks::ALL.len(),
        findings,
        readiness,
    }
}
