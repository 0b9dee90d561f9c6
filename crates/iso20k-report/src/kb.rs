//! Knowledge-base patterns as JSON: the shape `iso20k kb list --format json` promises, which the
//! server's pages read too.

use iso20k_core::kb::Pattern;
use serde_json::{Value, json};

/// One pattern, whole.
pub fn pattern(p: &Pattern) -> Value {
    let checks = p.checks();
    let detection = if checks.is_empty() {
        json!({ "manual": p.question })
    } else {
        json!({ "checks": checks })
    };
    json!({
        "id": p.id,
        "title": p.title,
        "clauses": { "2011": p.clauses_2011, "2018": p.clauses_2018 },
        "what_goes_wrong": p.what_goes_wrong,
        "why_it_matters": p.why_it_matters,
        "how_to_fix": p.how_to_fix,
        "result": p.result,
        "evidence": p.evidence,
        "grade": p.grade.as_str(),
        "escalation": p.escalation,
        "basis": p.basis.as_str(),
        "question": p.question,
        "detection": detection,
    })
}
