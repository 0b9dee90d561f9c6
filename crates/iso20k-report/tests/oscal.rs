//! The OSCAL documents against the published OSCAL 1.2.1 JSON Schemas, for the demo and the clean
//! example in both editions, and what the schemas cannot check: unique ids, references that
//! resolve, every finding exported, the same bytes on every export.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use iso20k_core::Edition;
use iso20k_core::audit::{self, Options, Report};
use iso20k_report::oscal;
use serde_json::Value;

/// The published OSCAL 1.2.1 JSON Schemas, relative to the workspace.
const SCHEMAS: &str = "../shared/oscal/1.2.1";

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn report(example: &str, edition: Edition) -> Report {
    let sms = iso20k_bundle::read(&workspace().join("examples").join(example))
        .unwrap_or_else(|e| panic!("examples/{example}: {e:?}"));
    audit::audit(
        &sms,
        Options {
            edition,
            as_of: iso20k_core::Date::constant(2026, 6, 30),
        },
    )
}

/// Validates a document against an OSCAL 1.2.1 schema, listing every error.
fn validate(schema: &str, text: &str) -> Value {
    let path = workspace().join(SCHEMAS).join(schema);
    let schema: Value = serde_json::from_str(
        &std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display())),
    )
    .unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let doc: Value = serde_json::from_str(text).unwrap();
    let errors: Vec<String> = validator
        .iter_errors(&doc)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .take(20)
        .collect();
    assert!(errors.is_empty(), "{schema}:\n{}", errors.join("\n"));
    doc
}

/// Every value of `key` anywhere in the document.
fn all<'a>(v: &'a Value, key: &str, out: &mut Vec<&'a str>) {
    match v {
        Value::Object(map) => {
            for (k, v) in map {
                match v {
                    Value::String(s) if k == key => out.push(s),
                    _ => all(v, key, out),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|v| all(v, key, out)),
        _ => {}
    }
}

fn values<'a>(v: &'a Value, key: &str) -> Vec<&'a str> {
    let mut out = Vec::new();
    all(v, key, &mut out);
    out
}

fn assert_unique(what: &str, items: &[&str]) {
    let mut seen = HashSet::new();
    let dupes: Vec<_> = items.iter().filter(|i| !seen.insert(**i)).collect();
    assert!(dupes.is_empty(), "duplicate {what}: {dupes:?}");
}

fn prop<'a>(v: &'a Value, name: &str) -> Vec<&'a str> {
    v["props"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|p| p["name"] == name)
        .map(|p| p["value"].as_str().unwrap())
        .collect()
}

/// The clause numbers of the groups and controls, depth first: document order if they nest as
/// the clauses do.
fn clause_labels<'a>(v: &'a Value, out: &mut Vec<&'a str>) {
    for key in ["groups", "controls"] {
        for c in v[key].as_array().into_iter().flatten() {
            out.extend(prop(c, "label"));
            clause_labels(c, out);
        }
    }
}

#[test]
fn the_catalogs_are_valid_oscal_with_every_requirement_clause_once() {
    for edition in Edition::ALL {
        let text = oscal::catalog(edition);
        assert!(text.ends_with("}\n"));
        assert_eq!(
            text,
            oscal::catalog(edition),
            "{edition}: not deterministic"
        );
        let doc = validate("oscal_catalog_schema.json", &text);
        assert_eq!(doc["catalog"]["metadata"]["oscal-version"], "1.2.1");
        assert_unique("ids", &values(&doc, "id"));
        assert_unique("uuids", &values(&doc, "uuid"));

        let mut labels = Vec::new();
        clause_labels(&doc["catalog"], &mut labels);
        let requirements: Vec<&str> = iso20k_core::clause::catalogue(edition)
            .iter()
            .filter(|c| c.is_requirement())
            .map(|c| c.id)
            .collect();
        assert_eq!(labels, requirements, "{edition}: labels in catalogue order");
        let ids = values(&doc, "id");
        for c in &requirements {
            assert!(
                ids.contains(&oscal::control_id(edition, c).as_str()),
                "{edition} {c}"
            );
        }
    }
}

#[test]
fn every_clause_a_finding_can_fall_under_has_a_statement_to_target() {
    for edition in Edition::ALL {
        let catalog: Value = serde_json::from_str(&oscal::catalog(edition)).unwrap();
        let ids: HashSet<&str> = values(&catalog, "id").into_iter().collect();
        let clauses = iso20k_core::kb::patterns()
            .iter()
            .flat_map(|p| p.clauses(edition))
            .chain(
                iso20k_core::checks::ALL
                    .iter()
                    .flat_map(|c| c.clauses(edition)),
            );
        for c in clauses {
            let target = oscal::statement_id(edition, c);
            assert!(ids.contains(target.as_str()), "{edition}: no {target}");
        }
    }
}

#[test]
fn the_demo_exports_as_valid_assessment_results_with_every_finding() {
    for edition in Edition::ALL {
        let report = report("demo", edition);
        assert!(!report.findings.is_empty());
        let text = oscal::results(&report);
        assert_eq!(
            text,
            oscal::results(&self::report("demo", edition)),
            "{edition}: the same records must export to the same bytes"
        );
        let doc = validate("oscal_assessment-results_schema.json", &text);
        let ar = &doc["assessment-results"];
        assert_eq!(ar["metadata"]["oscal-version"], "1.2.1");
        assert_eq!(ar["metadata"]["last-modified"], "2026-06-30T00:00:00Z");
        assert!(
            ar["metadata"]["title"]
                .as_str()
                .unwrap()
                .contains(&report.organisation)
        );
        assert_unique("uuids", &values(&doc, "uuid"));

        // Every reference points at something in this document or in the edition's catalog.
        let uuids: HashSet<&str> = values(&doc, "uuid").into_iter().collect();
        for key in ["observation-uuid", "risk-uuid"] {
            for r in values(&doc, key) {
                assert!(uuids.contains(r), "{edition}: dangling {key} {r}");
            }
        }
        let href = ar["import-ap"]["href"].as_str().unwrap();
        assert!(uuids.contains(href.trim_start_matches('#')), "{href}");
        let catalog: Value = serde_json::from_str(&oscal::catalog(edition)).unwrap();
        let catalog_ids: HashSet<&str> = values(&catalog, "id").into_iter().collect();
        for key in ["control-id", "target-id"] {
            for id in values(&doc, key) {
                assert!(
                    catalog_ids.contains(id),
                    "{edition}: {key} {id} not in the catalog"
                );
            }
        }

        let result = &ar["results"][0];
        assert_eq!(result["start"], "2026-06-30T00:00:00Z");
        let findings = result["findings"].as_array().unwrap();
        assert_eq!(findings.len(), report.findings.len());
        assert_eq!(
            result["observations"].as_array().unwrap().len(),
            findings.len()
        );
        assert_eq!(result["risks"].as_array().unwrap().len(), findings.len());
        for (f, o) in report.findings.iter().zip(findings) {
            assert_eq!(o["description"], f.title);
            assert_eq!(prop(o, "check"), [f.check]);
            assert_eq!(prop(o, "pattern"), [f.pattern.id]);
            assert_eq!(prop(o, "grade"), [f.grade.as_str()]);
            assert_eq!(prop(o, "clause"), f.clauses(edition));
            assert_eq!(
                o["target"]["target-id"],
                oscal::statement_id(edition, f.clauses(edition)[0])
            );
            assert_eq!(o["target"]["status"]["state"], "not-satisfied");
        }
        let records: usize = report.findings.iter().map(|f| f.evidence.len()).sum();
        let exported: usize = result["observations"]
            .as_array()
            .unwrap()
            .iter()
            .map(|o| o["relevant-evidence"].as_array().map_or(0, Vec::len))
            .sum();
        assert_eq!(exported, records, "{edition}: every evidence item");
    }
}

#[test]
fn a_clean_organisation_exports_a_result_without_findings() {
    for edition in Edition::ALL {
        let report = report("clean", edition);
        assert!(report.findings.is_empty(), "{:?}", report.findings);
        let doc = validate(
            "oscal_assessment-results_schema.json",
            &oscal::results(&report),
        );
        let result = &doc["assessment-results"]["results"][0];
        for key in ["findings", "observations", "risks"] {
            assert!(result.get(key).is_none(), "{edition}: {key}");
        }
        let reviewed = &result["reviewed-controls"]["control-selections"][0]["include-controls"];
        assert!(!reviewed.as_array().unwrap().is_empty());
    }
}

#[test]
fn documents_of_different_organisations_share_no_uuid() {
    let demo = report("demo", Edition::Y2018);
    let mut other = demo.clone();
    other.organisation.push_str(" (another)");
    let a: Value = serde_json::from_str(&oscal::results(&demo)).unwrap();
    let b: Value = serde_json::from_str(&oscal::results(&other)).unwrap();
    let a: HashSet<&str> = values(&a, "uuid").into_iter().collect();
    assert!(values(&b, "uuid").iter().all(|u| !a.contains(u)));
}
