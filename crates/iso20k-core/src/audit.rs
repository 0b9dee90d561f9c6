//! Runs every check on an organisation's records and scores the result.

use crate::checklist;
use crate::checks::{self, Context, Finding};
use crate::clause;
use crate::kb::Grade;
use crate::model::Sms;
use crate::plan::{self, Deadlines, Plan};
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
    /// Where the internal auditor's checklist stands.
    pub checklist: checklist::Status,
    /// What was found, worst first, then in clause order.
    pub findings: Vec<Finding>,
    /// The scores and verdicts.
    pub readiness: Readiness,
    /// The certification audits booked, in date order.
    pub bookings: Vec<Booking>,
    /// The action plan: an action per finding (by index), and the plan's closed entries.
    /// [`audit`] dates it with the default [`Deadlines`]; [`Report::replan`] with others.
    pub plan: Plan,
}

/// A certification audit the organisation has booked.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Booking {
    /// `stage-1`, `stage-2`, `surveillance` or `recertification`.
    pub audit: &'static str,
    /// The day it is booked for.
    pub on: Date,
    /// Days from the day judged to the audit (negative once it is past).
    pub days: i64,
}

fn bookings(sms: &Sms, as_of: Date) -> Vec<Booking> {
    let o = &sms.organisation;
    let mut out: Vec<Booking> = [
        ("stage-1", o.stage1_on),
        ("stage-2", o.stage2_on),
        ("surveillance", o.surveillance_on),
        ("recertification", o.recertification_on),
    ]
    .into_iter()
    .filter_map(|(audit, on)| {
        let on = on?;
        let days = i64::from((on - as_of).get_days());
        Some(Booking { audit, on, days })
    })
    .collect();
    out.sort_by_key(|b| b.on);
    out
}

impl Report {
    /// How many findings have a grade.
    pub fn count(&self, grade: Grade) -> usize {
        self.findings.iter().filter(|f| f.grade == grade).count()
    }

    /// Dates the action plan with `deadlines` instead of the defaults.
    pub fn replan(&mut self, sms: &Sms, deadlines: &Deadlines) {
        self.plan = plan::plan(
            sms,
            &self.findings,
            &self.readiness.blocks,
            &self.bookings,
            self.as_of,
            deadlines,
        );
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
        .chain(checklist::findings(sms, options.edition, options.as_of))
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
            .position(|c| c.id == f.check)
            .unwrap_or(usize::MAX);
        (std::cmp::Reverse(f.grade), clause, check)
    };
    findings.sort_by_key(order);
    name_apart(&mut findings);
    let examined = readiness::examined(&cx);
    let scored = readiness::score(sms, options.edition, options.as_of, &examined, &findings);
    // Worst grade first, then what resolving it gains; the clause order breaks ties.
    let mut order: Vec<usize> = (0..findings.len()).collect();
    order.sort_by(|&a, &b| {
        findings[b]
            .grade
            .cmp(&findings[a].grade)
            .then(scored.gains[b].total_cmp(&scored.gains[a]))
    });
    let findings: Vec<Finding> = order.into_iter().map(|i| findings[i].clone()).collect();
    let readiness = readiness::score(sms, options.edition, options.as_of, &examined, &findings);
    let bookings = bookings(sms, options.as_of);
    let plan = plan::plan(
        sms,
        &findings,
        &readiness.blocks,
        &bookings,
        options.as_of,
        &Deadlines::default(),
    );
    Report {
        organisation: sms.organisation.name.clone(),
        edition: options.edition,
        as_of: options.as_of,
        checks_run: checks::ALL.len(),
        checklist: checklist::status(sms, options.edition, options.as_of),
        findings,
        readiness,
        bookings,
        plan,
    }
}

/// Gives every finding of a check that reported several, and did not tell them apart itself,
/// an id of its own from the record its evidence starts with, so that ids stay put when other
/// findings come and go.
fn name_apart(findings: &mut [Finding]) {
    let mut seen = std::collections::HashSet::new();
    for i in 0..findings.len() {
        let check = findings[i].check;
        let several = findings.iter().filter(|f| f.check == check).count() > 1;
        if several && check != "checklist" && findings[i].id == check {
            let part = findings[i]
                .evidence
                .first()
                .map(|e| slug(&e.id))
                .filter(|s| !s.is_empty())
                .unwrap_or_else(|| "finding".into());
            findings[i].id = format!("{check}/{part}");
        }
        let base = findings[i].id.clone();
        let mut n = 2;
        while !seen.insert(findings[i].id.clone()) {
            findings[i].id = format!("{base}-{n}");
            n += 1;
        }
    }
}

/// Lower-case letters, digits and single dashes.
fn slug(text: &str) -> String {
    let mut out = String::new();
    for c in text.chars().flat_map(char::to_lowercase) {
        if c.is_ascii_alphanumeric() {
            out.push(c);
        } else if !out.is_empty() && !out.ends_with('-') {
            out.push('-');
        }
    }
    out.trim_end_matches('-').to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checklist;
    use crate::checks::testing;
    use crate::model::{Answer, ChecklistAnswer};

    fn run(sms: &Sms) -> Report {
        audit(
            sms,
            Options {
                edition: Edition::Y2018,
                as_of: testing::as_of(),
            },
        )
    }

    fn answer(pattern: &str, answer: Answer) -> ChecklistAnswer {
        ChecklistAnswer {
            pattern: pattern.into(),
            answer,
            evidence: None,
            note: None,
            answered_on: None,
            answered_by: None,
        }
    }

    #[test]
    fn checklist_answers_move_the_score() {
        let mut sms = testing::clean();
        sms.documents
            .retain(|d| d.kind != crate::model::DocType::CapacityPlan);
        let base = run(&sms);
        assert_eq!(base.findings.len(), 1);

        // A question on a clause no check examines.
        let cx = Context {
            sms: &sms,
            as_of: testing::as_of(),
            edition: Edition::Y2018,
        };
        let examined = checks::examined(&cx);
        let q = checklist::questions(Edition::Y2018)
            .into_iter()
            .find(|p| p.clauses_2018.iter().all(|c| !examined.contains(c)))
            .unwrap();
        sms.checklist = vec![answer(q.id, Answer::Yes)];
        let yes = run(&sms);
        assert!(
            yes.readiness.assessed.0 > base.readiness.assessed.0,
            "yes assesses the clause"
        );
        assert!(
            yes.readiness.uncapped > base.readiness.uncapped,
            "a clause at 100 joins the average"
        );

        sms.checklist = vec![answer(q.id, Answer::No)];
        let no = run(&sms);
        assert_eq!(no.findings.len(), 2);
        assert_eq!(
            no.readiness.assessed, yes.readiness.assessed,
            "any answer assesses"
        );
        assert!(no.readiness.uncapped < yes.readiness.uncapped);
        assert!(no.readiness.overall <= yes.readiness.overall);
        assert_eq!(no.checklist.answered, 1);

        sms.checklist = vec![answer(q.id, Answer::NotAssessed)];
        let unknown = run(&sms);
        assert_eq!(
            (unknown.readiness.overall, unknown.readiness.assessed),
            (base.readiness.overall, base.readiness.assessed)
        );
    }

    #[test]
    fn findings_are_ordered_worst_first_then_by_clause() {
        let mut sms = testing::clean();
        sms.management_reviews.clear();
        sms.slas[0].last_reviewed_on = Some(jiff::civil::date(2024, 1, 1));
        sms.slas[0].agreed_on = None;
        sms.organisation.sms_owner = None;
        let r = run(&sms);
        let order: Vec<_> = r.findings.iter().map(|f| f.check).collect();
        assert_eq!(
            order,
            ["mr-overdue", "sms-owner-missing", "sla-review-overdue"]
        );
    }
}
