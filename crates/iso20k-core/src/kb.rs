//! The knowledge base: audit-failure patterns keyed to both editions.
//!
//! A pattern says what goes wrong, why an auditor cares, how to fix it and what the fix buys. It
//! is found either by the checks that name it (see [`Pattern::checks`]) or, where no record can
//! tell, by the internal auditor answering its checklist question. The data lives in
//! `data/patterns/*.yaml`.

use std::fmt;
use std::str::FromStr;

use crate::Edition;
use crate::checks;
use crate::generated::PATTERNS;

/// How a certification auditor would grade a finding.
///
/// Ordered from least to most severe, so `max()` gives the worst.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Grade {
    /// Not a nonconformity: a weakness or an opportunity for improvement.
    Observation,
    /// A real but isolated nonconformity.
    Minor,
    /// A missing process, a missing audit or review, or a systemic breakdown.
    Major,
}

impl Grade {
    /// The lowercase name used in files and JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Grade::Observation => "observation",
            Grade::Minor => "minor",
            Grade::Major => "major",
        }
    }
}

impl fmt::Display for Grade {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Grade {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "major" => Ok(Grade::Major),
            "minor" => Ok(Grade::Minor),
            "observation" => Ok(Grade::Observation),
            other => Err(format!(
                "unknown grade `{other}` (expected major, minor or observation)"
            )),
        }
    }
}

/// Why the pattern is in the knowledge base.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Basis {
    /// It follows directly from a requirement of the standard.
    Requirement,
    /// Practitioners or certification bodies name it as a common finding.
    Source,
    /// Auditors expect it, though the standard does not say it in so many words.
    AuditorExpectation,
}

impl Basis {
    /// The kebab-case name used in files and JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Basis::Requirement => "requirement",
            Basis::Source => "source",
            Basis::AuditorExpectation => "auditor-expectation",
        }
    }
}

/// One audit-failure pattern.
#[derive(Debug)]
pub struct Pattern {
    /// Stable id, `F-001` onwards.
    pub id: &'static str,
    /// One line naming the failure.
    pub title: &'static str,
    /// Clauses of ISO/IEC 20000-1:2018 it falls under.
    pub clauses_2018: &'static [&'static str],
    /// Clauses of ISO/IEC 20000-1:2011 it falls under (empty for 2018-only requirements).
    pub clauses_2011: &'static [&'static str],
    /// What goes wrong in organisations.
    pub what_goes_wrong: &'static str,
    /// Why it matters in an audit.
    pub why_it_matters: &'static str,
    /// How to fix it, as ordered steps.
    pub how_to_fix: &'static [&'static str],
    /// What fixing it achieves.
    pub result: &'static str,
    /// The evidence an auditor asks for.
    pub evidence: &'static [&'static str],
    /// The grade an auditor typically gives.
    pub grade: Grade,
    /// When the grade escalates.
    pub escalation: &'static str,
    /// Why it is in the knowledge base.
    pub basis: Basis,
    /// The question an internal auditor answers when no record can tell.
    pub question: &'static str,
}

impl Pattern {
    /// The clauses in one edition.
    pub fn clauses(&self, edition: Edition) -> &'static [&'static str] {
        match edition {
            Edition::Y2011 => self.clauses_2011,
            Edition::Y2018 => self.clauses_2018,
        }
    }

    /// The ids of the checks that detect this pattern; empty when only the checklist can.
    pub fn checks(&self) -> Vec<&'static str> {
        checks::ALL
            .iter()
            .filter(|c| c.pattern == self.id)
            .map(|c| c.id)
            .collect()
    }
}

/// Every pattern, ordered by id.
pub fn patterns() -> &'static [Pattern] {
    PATTERNS
}

/// The patterns that contain every word of `query` anywhere (case-insensitive), best first:
/// words in the title count most, then how often the words occur at all.
pub fn search(query: &str) -> Vec<&'static Pattern> {
    let words: Vec<String> = query.split_whitespace().map(str::to_lowercase).collect();
    if words.is_empty() {
        return Vec::new();
    }
    let mut hits: Vec<(usize, &Pattern)> = PATTERNS
        .iter()
        .filter_map(|p| {
            let text = searchable(p);
            let title = p.title.to_lowercase();
            words.iter().all(|w| text.contains(w.as_str())).then(|| {
                let score = words
                    .iter()
                    .map(|w| {
                        title.matches(w.as_str()).count() * 10 + text.matches(w.as_str()).count()
                    })
                    .sum();
                (score, p)
            })
        })
        .collect();
    hits.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.id.cmp(b.1.id)));
    hits.into_iter().map(|(_, p)| p).collect()
}

/// Every word of a pattern, lowercased, for [`search`].
fn searchable(p: &Pattern) -> String {
    let mut parts = vec![
        p.id,
        p.title,
        p.what_goes_wrong,
        p.why_it_matters,
        p.result,
        p.escalation,
        p.question,
    ];
    parts.extend(p.how_to_fix);
    parts.extend(p.evidence);
    parts.extend(p.clauses_2018);
    parts.extend(p.clauses_2011);
    parts.join("\n").to_lowercase()
}

/// Looks a pattern up by id (case-insensitive, so `f-035` works).
pub fn find(id: &str) -> Option<&'static Pattern> {
    PATTERNS.iter().find(|p| p.id.eq_ignore_ascii_case(id))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clause;

    #[test]
    fn search_needs_every_word_and_ranks_titles_first() {
        let hits = search("Emergency CHANGE");
        assert!(!hits.is_empty());
        for p in &hits {
            let text = searchable(p);
            assert!(
                text.contains("emergency") && text.contains("change"),
                "{}",
                p.id
            );
        }
        assert!(
            hits[0].title.to_lowercase().contains("emergency"),
            "{}",
            hits[0].id
        );
        assert!(search("   ").is_empty());
        assert!(search("emergency xyzzy").is_empty());
    }

    #[test]
    fn ids_are_sequential_and_clauses_exist() {
        for (i, p) in patterns().iter().enumerate() {
            assert_eq!(
                p.id,
                format!("F-{:03}", i + 1),
                "ids must run F-001, F-002, … without gaps"
            );
            assert!(!p.clauses_2018.is_empty(), "{} has no 2018 clause", p.id);
            for e in Edition::ALL {
                for c in p.clauses(e) {
                    let found = clause::find(e, c);
                    assert!(
                        found.is_some_and(|c| c.is_requirement()),
                        "{}: no {e} clause {c}",
                        p.id
                    );
                }
            }
        }
    }

    #[test]
    fn every_leaf_clause_of_both_editions_has_a_pattern() {
        for e in Edition::ALL {
            let uncovered: Vec<_> = clause::leaves(e)
                .filter(|leaf| {
                    !patterns()
                        .iter()
                        .any(|p| p.clauses(e).iter().any(|c| clause::is_within(leaf.id, c)))
                })
                .map(|leaf| leaf.id)
                .collect();
            assert!(
                uncovered.is_empty(),
                "{e} clauses with no pattern: {uncovered:?}"
            );
        }
    }

    #[test]
    fn at_least_110_patterns_and_none_is_a_placeholder() {
        assert!(patterns().len() >= 110);
        for p in patterns() {
            let all = [
                p.title,
                p.what_goes_wrong,
                p.why_it_matters,
                p.result,
                p.escalation,
                p.question,
            ];
            for text in all.iter().chain(p.how_to_fix).chain(p.evidence) {
                assert!(
                    !text.contains("TODO") && text.len() > 10,
                    "{}: {text:?}",
                    p.id
                );
            }
        }
    }

    #[test]
    fn fix_steps_and_evidence_are_not_empty() {
        for p in patterns() {
            for s in p.how_to_fix.iter().chain(p.evidence) {
                assert!(
                    !s.trim().is_empty(),
                    "{} has an empty step or evidence item",
                    p.id
                );
            }
        }
    }
}
