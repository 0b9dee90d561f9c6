//! SARIF 2.1.0 for code-scanning tools: a rule per check, a result per finding, located in the
//! bundle file that holds the evidence, so a pull request that touches the records is annotated.

use iso20k_core::audit::Report;
use iso20k_core::checks;
use iso20k_core::kb::{Grade, Pattern};
use serde_json::{Value, json};

/// How many pieces of evidence become locations; the rest stay in the message.
const LOCATIONS: usize = 10;

fn level(g: Grade) -> &'static str {
    match g {
        Grade::Major => "error",
        Grade::Minor => "warning",
        Grade::Observation => "note",
    }
}

fn rule(id: &str, pattern: &Pattern, clauses: &[&str]) -> Value {
    let steps: Vec<String> = pattern
        .how_to_fix
        .iter()
        .enumerate()
        .map(|(i, s)| format!("{}. {s}", i + 1))
        .collect();
    json!({
        "id": id,
        "shortDescription": { "text": format!("{} {}", pattern.id, pattern.title) },
        "fullDescription": { "text": pattern.what_goes_wrong },
        "help": { "text": format!("{}\n\n{}", pattern.why_it_matters, steps.join("\n")) },
        "defaultConfiguration": { "level": level(pattern.grade) },
        "properties": { "tags": clauses, "pattern": pattern.id },
    })
}

/// The report as a SARIF log. `bundle` is the folder the records were read from, as the caller
/// named it (empty for records from a database): locations are the bundle files under it.
pub fn render(report: &Report, bundle: &str) -> String {
    let e = report.edition;
    let mut rules: Vec<Value> = checks::ALL
        .iter()
        .filter_map(|c| {
            let pattern = iso20k_core::kb::find(c.pattern)?;
            Some(rule(c.id, pattern, c.clauses(e)))
        })
        .collect();
    for f in report.findings.iter().filter(|f| f.check == "checklist") {
        rules.push(rule(&f.id, f.pattern, f.pattern.clauses(e)));
    }
    let index_of = |id: &str| rules.iter().position(|r| r["id"] == id);
    let prefix = match bundle.trim_end_matches('/') {
        "" | "." => String::new(),
        dir => format!("{dir}/"),
    };
    let results: Vec<Value> = report
        .findings
        .iter()
        .map(|f| {
            // A check is one rule; each checklist question is a rule of its own.
            let id = if f.check == "checklist" {
                f.id.as_str()
            } else {
                f.check
            };
            let locations: Vec<Value> = f
                .evidence
                .iter()
                .take(LOCATIONS)
                .filter_map(|ev| {
                    let pointer = iso20k_bundle::records::for_evidence(ev.kind.as_str(), &ev.id)?;
                    Some(json!({
                        "physicalLocation": {
                            "artifactLocation": { "uri": format!("{prefix}{}", pointer.kind.file) }
                        },
                        "logicalLocations": [{
                            "name": ev.id,
                            "kind": "object",
                            "fullyQualifiedName": format!("{}/{}", pointer.kind.name, ev.id),
                        }],
                        "message": { "text": ev.note },
                    }))
                })
                .collect();
            let mut text = f.title.clone();
            if let Some((affected, population)) = f.counts {
                text.push_str(&format!(" ({affected} of {population} records)"));
            }
            let first = f.evidence.first().map_or("", |ev| ev.id.as_str());
            json!({
                "ruleId": id,
                "ruleIndex": index_of(id),
                "level": level(f.grade),
                "message": { "text": text },
                "locations": locations,
                // Stable across runs, so a tool can tell a finding it has seen from a new one.
                "partialFingerprints": { "iso20k/v1": format!("{}:{first}", f.id) },
                "properties": {
                    "grade": f.grade.as_str(),
                    "clauses": f.clauses(e),
                    "evidence": f.evidence.len(),
                },
            })
        })
        .collect();
    let log = json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": { "driver": {
                "name": "iso20k",
                "version": env!("CARGO_PKG_VERSION"),
                "rules": rules,
            }},
            "properties": {
                "organisation": report.organisation,
                "edition": e.as_str(),
                "asOf": report.as_of.to_string(),
            },
            "results": results,
        }],
    });
    let mut out = serde_json::to_string_pretty(&log).expect("a SARIF log always serializes");
    out.push('\n');
    out
}
