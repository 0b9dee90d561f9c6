//! The JSON form of a report: the contract `iso20k check --format json` and the server's
//! readiness endpoint share.

use iso20k_core::Edition;
use iso20k_core::audit::Report;
use iso20k_core::checks::{Evidence, Finding};
use iso20k_core::kb::Grade;
use iso20k_core::readiness::{ClauseScore, Verdict};
use schemars::{JsonSchema, Schema, SchemaGenerator};
use serde::Serialize;

/// A readiness report: what `iso20k check --format json` prints and the server's readiness
/// endpoint returns.
#[derive(Serialize, JsonSchema)]
#[schemars(rename = "ReadinessReport")]
struct JsonReport<'a> {
    tool: Tool,
    organisation: &'a str,
    edition: &'static str,
    as_of: String,
    checks_run: usize,
    checklist: Checklist,
    summary: Summary,
    readiness: Readiness<'a>,
    findings: Vec<JsonFinding<'a>>,
}

#[derive(Serialize, JsonSchema)]
struct Tool {
    name: &'static str,
    version: &'static str,
}

/// Questions only the internal auditor can answer, and how many are answered.
#[derive(Serialize, JsonSchema)]
struct Checklist {
    questions: usize,
    answered: usize,
}

#[derive(Serialize, JsonSchema)]
struct Summary {
    major: usize,
    minor: usize,
    observation: usize,
    total: usize,
}

#[derive(Serialize, JsonSchema)]
struct Readiness<'a> {
    overall: f64,
    /// Leaf clauses assessed by a check or a finding, out of all leaf clauses of the edition.
    assessed_clauses: usize,
    leaf_clauses: usize,
    stage1: JsonVerdict<'a>,
    stage2: JsonVerdict<'a>,
    clauses: Vec<JsonClause>,
}

#[derive(Serialize, JsonSchema)]
struct JsonVerdict<'a> {
    ready: bool,
    reasons: &'a [String],
}

#[derive(Serialize, JsonSchema)]
struct JsonClause {
    clause: &'static str,
    title: &'static str,
    score: f64,
    assessed: bool,
    leaf: bool,
    /// Points lost to each finding, by index into `findings`.
    lost: Vec<Lost>,
}

#[derive(Serialize, JsonSchema)]
struct Lost {
    finding: usize,
    points: f64,
}

#[derive(Serialize, JsonSchema)]
struct JsonFinding<'a> {
    check: &'static str,
    pattern: &'static str,
    pattern_title: &'static str,
    grade: &'static str,
    clauses: Clauses<'a>,
    title: &'a str,
    evidence: Vec<JsonEvidence<'a>>,
    fix: &'static [&'static str],
    points: f64,
    /// Records affected, where the check counts them; evidence may hold only a sample.
    #[serde(skip_serializing_if = "Option::is_none")]
    affected: Option<usize>,
    /// Records examined, where the check counts them.
    #[serde(skip_serializing_if = "Option::is_none")]
    population: Option<usize>,
}

#[derive(Serialize, JsonSchema)]
struct Clauses<'a> {
    #[serde(rename = "2011")]
    e2011: &'a [&'static str],
    #[serde(rename = "2018")]
    e2018: &'a [&'static str],
}

#[derive(Serialize, JsonSchema)]
struct JsonEvidence<'a> {
    kind: &'static str,
    id: &'a str,
    field: Option<&'static str>,
    value: Option<&'a str>,
    note: &'a str,
}

/// One decimal is what people read; more only adds noise to diffs.
fn round(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}

fn verdict(v: &Verdict) -> JsonVerdict<'_> {
    JsonVerdict {
        ready: v.ready,
        reasons: &v.reasons,
    }
}

fn clause(c: &ClauseScore) -> JsonClause {
    JsonClause {
        clause: c.clause.id,
        title: c.clause.title,
        score: round(c.score),
        assessed: c.assessed,
        leaf: c.clause.is_leaf(),
        lost: c
            .lost
            .iter()
            .map(|&(finding, points)| Lost {
                finding,
                points: round(points),
            })
            .collect(),
    }
}

fn evidence(e: &Evidence) -> JsonEvidence<'_> {
    JsonEvidence {
        kind: e.kind.as_str(),
        id: &e.id,
        field: e.field,
        value: e.value.as_deref(),
        note: &e.note,
    }
}

fn finding(f: &Finding, points: f64) -> JsonFinding<'_> {
    JsonFinding {
        check: f.check,
        pattern: f.pattern.id,
        pattern_title: f.pattern.title,
        grade: f.grade.as_str(),
        clauses: Clauses {
            e2011: f.clauses(Edition::Y2011),
            e2018: f.clauses(Edition::Y2018),
        },
        title: &f.title,
        evidence: f.evidence.iter().map(evidence).collect(),
        fix: f.fix(),
        points: round(points),
        affected: f.counts.map(|c| c.0),
        population: f.counts.map(|c| c.1),
    }
}

/// The JSON Schema of the report, added to `generator`'s definitions.
pub fn schema(generator: &mut SchemaGenerator) -> Schema {
    generator.subschema_for::<JsonReport<'static>>()
}

/// Renders the report as pretty JSON, ending with a newline.
pub fn render(report: &Report) -> String {
    let doc = JsonReport {
        tool: Tool {
            name: "iso20k",
            version: env!("CARGO_PKG_VERSION"),
        },
        organisation: &report.organisation,
        edition: report.edition.as_str(),
        as_of: report.as_of.to_string(),
        checks_run: report.checks_run,
        checklist: Checklist {
            questions: report.checklist.questions,
            answered: report.checklist.answered,
        },
        summary: Summary {
            major: report.count(Grade::Major),
            minor: report.count(Grade::Minor),
            observation: report.count(Grade::Observation),
            total: report.findings.len(),
        },
        readiness: Readiness {
            overall: round(report.readiness.overall),
            assessed_clauses: report.readiness.assessed.0,
            leaf_clauses: report.readiness.assessed.1,
            stage1: verdict(&report.readiness.stage1),
            stage2: verdict(&report.readiness.stage2),
            clauses: report.readiness.clauses.iter().map(clause).collect(),
        },
        findings: report
            .findings
            .iter()
            .zip(&report.readiness.finding_points)
            .map(|(f, p)| finding(f, *p))
            .collect(),
    };
    let mut out = serde_json::to_string_pretty(&doc).expect("report types always serialize");
    out.push('\n');
    out
}
