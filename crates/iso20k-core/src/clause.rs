//! The clause catalogues of both editions and the mapping between them.
//!
//! Numbers and titles are factual identifiers; summaries and what auditors look for are our own
//! paraphrase. The data lives in `data/clauses-*.yaml` and `data/mapping-2011-2018.yaml`.

use crate::Edition;
use crate::generated::{CLAUSES_2011, CLAUSES_2018, MAPPING};

/// One clause or sub-clause of an edition.
#[derive(Debug, PartialEq, Eq)]
pub struct Clause {
    /// The edition this clause belongs to.
    pub edition: Edition,
    /// The clause number, e.g. `"8.5.1.3"`.
    pub id: &'static str,
    /// The clause heading.
    pub title: &'static str,
    /// One line, in our words, on what the clause asks for.
    pub summary: &'static str,
    /// What a certification auditor typically asks to see.
    pub looks_for: &'static [&'static str],
}

impl Clause {
    /// How deep the clause sits: `"9"` is 1, `"9.3"` is 2, `"8.5.1.3"` is 4.
    pub fn depth(&self) -> usize {
        self.id.split('.').count()
    }

    /// The enclosing clause, if any.
    pub fn parent(&self) -> Option<&'static Clause> {
        let (parent, _) = self.id.rsplit_once('.')?;
        find(self.edition, parent)
    }

    /// Whether this is a requirement clause (4 onwards); 1–3 are scope, references and terms.
    pub fn is_requirement(&self) -> bool {
        top_number(self.id) >= 4
    }

    /// Whether no other clause sits below this one.
    pub fn is_leaf(&self) -> bool {
        !catalogue(self.edition)
            .iter()
            .any(|c| is_within(c.id, self.id) && c.id != self.id)
    }
}

fn top_number(id: &str) -> u32 {
    id.split('.')
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}

/// Whether `id` is `ancestor` itself or sits below it (`"8.5.1"` is within `"8.5"`).
pub fn is_within(id: &str, ancestor: &str) -> bool {
    id == ancestor || (id.starts_with(ancestor) && id.as_bytes().get(ancestor.len()) == Some(&b'.'))
}

/// Every clause of an edition, in document order.
pub fn catalogue(edition: Edition) -> &'static [Clause] {
    match edition {
        Edition::Y2011 => CLAUSES_2011,
        Edition::Y2018 => CLAUSES_2018,
    }
}

/// Looks a clause up by number.
pub fn find(edition: Edition, id: &str) -> Option<&'static Clause> {
    catalogue(edition).iter().find(|c| c.id == id)
}

/// The requirement clauses no other clause refines: the unit of scoring and coverage.
pub fn leaves(edition: Edition) -> impl Iterator<Item = &'static Clause> {
    catalogue(edition)
        .iter()
        .filter(|c| c.is_requirement() && c.is_leaf())
}

/// One row of the 2011 → 2018 mapping.
#[derive(Debug)]
pub struct Correspondence {
    /// The 2011 clause.
    pub clause_2011: &'static str,
    /// Where its content lives in 2018, main home first.
    pub clauses_2018: &'static [&'static str],
    /// What changed, in a few words.
    pub note: &'static str,
}

/// The mapping rows, in 2011 order.
pub fn mapping() -> impl Iterator<Item = Correspondence> {
    MAPPING
        .iter()
        .map(|&(clause_2011, clauses_2018, note)| Correspondence {
            clause_2011,
            clauses_2018,
            note,
        })
}

/// The clauses of the other edition that carry the content of `id` in `from`.
///
/// A parent clause maps to everything its sub-clauses map to, and a 2018 clause maps back to
/// every 2011 clause whose content landed in it or below it. Clauses new in 2018 map to nothing.
pub fn counterparts(from: Edition, id: &str) -> Vec<&'static str> {
    let mut out: Vec<&'static str> = Vec::new();
    let mut push = |c: &'static str| {
        if !out.contains(&c) {
            out.push(c);
        }
    };
    for row in mapping() {
        match from {
            Edition::Y2011 => {
                if is_within(row.clause_2011, id) {
                    row.clauses_2018.iter().for_each(|c| push(c));
                }
            }
            Edition::Y2018 => {
                if row
                    .clauses_2018
                    .iter()
                    .any(|c| is_within(c, id) || is_within(id, c))
                {
                    push(row.clause_2011);
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catalogues_are_in_document_order_with_parents_first() {
        for e in Edition::ALL {
            let cat = catalogue(e);
            for (i, c) in cat.iter().enumerate() {
                if c.depth() > 1 {
                    let parent = c
                        .parent()
                        .unwrap_or_else(|| panic!("{e} {} has no parent", c.id));
                    let at = cat.iter().position(|p| p.id == parent.id).unwrap();
                    assert!(at < i, "{e} {} comes before its parent", c.id);
                }
            }
        }
    }

    #[test]
    fn every_requirement_leaf_says_what_auditors_look_for() {
        for e in Edition::ALL {
            for c in leaves(e) {
                assert!(!c.looks_for.is_empty(), "{e} {} has no `looks_for`", c.id);
            }
        }
    }

    #[test]
    fn mapping_uses_real_clauses_and_covers_every_2011_leaf() {
        for row in mapping() {
            assert!(
                find(Edition::Y2011, row.clause_2011).is_some(),
                "2011 {}",
                row.clause_2011
            );
            for c in row.clauses_2018 {
                assert!(
                    find(Edition::Y2018, c).is_some(),
                    "2018 {c} (from {})",
                    row.clause_2011
                );
            }
        }
        for c in leaves(Edition::Y2011) {
            assert!(
                !counterparts(Edition::Y2011, c.id).is_empty(),
                "2011 {} is unmapped",
                c.id
            );
        }
    }

    #[test]
    fn counterparts_work_both_ways() {
        assert_eq!(counterparts(Edition::Y2011, "4.5.4.3"), ["9.3"]);
        assert_eq!(counterparts(Edition::Y2018, "9.3"), ["4.1.1", "4.5.4.3"]);
        assert!(
            counterparts(Edition::Y2018, "7.6").is_empty(),
            "knowledge is new in 2018"
        );
        assert!(counterparts(Edition::Y2011, "4.5.4").contains(&"9.2"));
    }

    #[test]
    fn is_within_respects_number_boundaries() {
        assert!(is_within("8.5.1", "8.5"));
        assert!(is_within("8.5", "8.5"));
        assert!(!is_within("8.51", "8.5"));
        assert!(!is_within("8", "8.5"));
    }
}
