//! The internal auditor's checklist: one question per pattern no check can detect, and the
//! answers kept with the records.
//!
//! An answer moves the readiness score: `yes` marks the pattern's clauses as assessed, `partly`
//! and `no` also raise a finding graded like the pattern (`partly` at most minor). A question
//! nobody answered, or answered `not-assessed`, leaves its clauses not assessed: never passed.

use crate::checks::{Evidence, Finding, RecordKind};
use crate::kb::{self, Grade, Pattern};
use crate::model::{Answer, ChecklistAnswer, Sms};
use crate::{Date, Edition};

/// The patterns of an edition that only the checklist can detect, in id order.
pub fn questions(edition: Edition) -> Vec<&'static Pattern> {
    kb::patterns()
        .iter()
        .filter(|p| !p.clauses(edition).is_empty() && p.checks().is_empty())
        .collect()
}

/// The latest answer on or before `as_of` for each pattern, in pattern order.
pub fn answers(sms: &Sms, as_of: Date) -> Vec<(&'static Pattern, &ChecklistAnswer)> {
    let mut out: Vec<(&'static Pattern, &ChecklistAnswer)> = Vec::new();
    for a in sms
        .checklist
        .iter()
        .filter(|a| a.answered_on.is_none_or(|d| d <= as_of))
    {
        let Some(p) = kb::find(&a.pattern) else {
            continue;
        };
        match out.iter_mut().find(|(q, _)| q.id == p.id) {
            Some(slot) if slot.1.answered_on <= a.answered_on => slot.1 = a,
            Some(_) => {}
            None => out.push((p, a)),
        }
    }
    out.sort_by_key(|(p, _)| p.id);
    out
}

/// Where the checklist of an edition stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Status {
    /// Questions only the checklist can answer.
    pub questions: usize,
    /// Of those, how many have an answer other than not-assessed.
    pub answered: usize,
}

/// Counts the questions of an edition and how many are answered.
pub fn status(sms: &Sms, edition: Edition, as_of: Date) -> Status {
    let questions = questions(edition);
    let given = answers(sms, as_of);
    let answered = questions
        .iter()
        .filter(|q| {
            given
                .iter()
                .any(|(p, a)| p.id == q.id && a.answer != Answer::NotAssessed)
        })
        .count();
    Status {
        questions: questions.len(),
        answered,
    }
}

/// The clauses of an edition the answers assess.
pub fn assessed(sms: &Sms, edition: Edition, as_of: Date) -> Vec<&'static str> {
    answers(sms, as_of)
        .into_iter()
        .filter(|(_, a)| a.answer != Answer::NotAssessed)
        .flat_map(|(p, _)| p.clauses(edition).iter().copied())
        .collect()
}

/// A finding for every `partly` or `no`.
pub fn findings(sms: &Sms, edition: Edition, as_of: Date) -> Vec<Finding> {
    answers(sms, as_of)
        .into_iter()
        .filter(|(p, _)| !p.clauses(edition).is_empty())
        .filter_map(|(p, a)| {
            let (grade, verdict) = match a.answer {
                Answer::No => (p.grade, "no"),
                Answer::Partly => (p.grade.min(Grade::Minor), "partly"),
                Answer::Yes | Answer::NotAssessed => return None,
            };
            let mut note = format!("answered {verdict}");
            if let Some(d) = a.answered_on {
                note.push_str(&format!(" on {d}"));
            }
            if let Some(by) = &a.answered_by {
                note.push_str(&format!(" by {by}"));
            }
            if let Some(n) = &a.note {
                note.push_str(&format!(": {n}"));
            }
            let evidence = Evidence::new(RecordKind::Checklist, p.id, note)
                .field("evidence", a.evidence.as_ref());
            Some(Finding {
                id: format!("checklist/{}", p.id),
                check: "checklist",
                pattern: p,
                grade,
                title: format!("Internal audit checklist: {}", p.title),
                evidence: vec![evidence],
                clauses_2018: p.clauses_2018.to_vec(),
                clauses_2011: p.clauses_2011.to_vec(),
                counts: None,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::testing;
    use jiff::civil::date;

    fn answer(pattern: &str, answer: Answer, on: Date) -> ChecklistAnswer {
        ChecklistAnswer {
            pattern: pattern.into(),
            answer,
            evidence: Some("interview notes".into()),
            note: None,
            answered_on: Some(on),
            answered_by: Some("ia".into()),
        }
    }

    #[test]
    fn questions_are_the_patterns_no_check_detects() {
        let qs = questions(Edition::Y2018);
        assert!(!qs.is_empty());
        assert!(qs.iter().all(|p| p.checks().is_empty()));
        assert!(
            !qs.iter().any(|p| p.id == "F-036"),
            "management review is checked from the records"
        );
        let only_2018 = qs
            .iter()
            .find(|p| p.clauses_2011.is_empty())
            .expect("some patterns are 2018-only");
        assert!(
            !questions(Edition::Y2011)
                .iter()
                .any(|p| p.id == only_2018.id)
        );
    }

    #[test]
    fn the_latest_answer_on_or_before_as_of_counts() {
        let q = questions(Edition::Y2018)[0].id;
        let mut sms = testing::clean();
        sms.checklist = vec![
            answer(q, Answer::No, date(2026, 3, 1)),
            answer(q, Answer::Yes, date(2026, 5, 1)),
            answer(q, Answer::No, date(2026, 8, 1)),
        ];
        let given = answers(&sms, testing::as_of());
        assert_eq!(given.len(), 1);
        assert_eq!(given[0].1.answer, Answer::Yes);
        assert!(findings(&sms, Edition::Y2018, testing::as_of()).is_empty());
        assert_eq!(status(&sms, Edition::Y2018, testing::as_of()).answered, 1);
    }

    #[test]
    fn no_and_partly_raise_findings_graded_from_the_pattern() {
        let qs = questions(Edition::Y2018);
        let mut sms = testing::clean();
        sms.checklist = vec![
            answer(qs[0].id, Answer::No, date(2026, 5, 1)),
            answer(qs[1].id, Answer::Partly, date(2026, 5, 1)),
        ];
        let found = findings(&sms, Edition::Y2018, testing::as_of());
        assert_eq!(found.len(), 2);
        assert_eq!(found[0].grade, qs[0].grade);
        assert!(found[1].grade <= Grade::Minor);
        assert_eq!(found[0].check, "checklist");
        assert_eq!(
            found[0].evidence[0].value.as_deref(),
            Some("interview notes")
        );
    }

    #[test]
    fn not_assessed_is_not_an_answer() {
        let q = questions(Edition::Y2018)[0].id;
        let mut sms = testing::clean();
        sms.checklist = vec![answer(q, Answer::NotAssessed, date(2026, 5, 1))];
        assert_eq!(status(&sms, Edition::Y2018, testing::as_of()).answered, 0);
        assert!(assessed(&sms, Edition::Y2018, testing::as_of()).is_empty());
    }
}
