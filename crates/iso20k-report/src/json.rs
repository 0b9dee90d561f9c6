//! The JSON form of a report: the contract `iso20k check --format json` and the server's
//! readiness endpoint share.

use iso20k_core::Edition;
use iso20k_core::audit::Report;
use iso20k_core::checks::{Evidence, Finding};
use iso20k_core::kb::Grade;
use iso20k_core::model::PlanComment;
use iso20k_core::plan::Action;
use iso20k_core::readiness::{ClauseScore, Readiness as Scored, Verdict, round2};
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
    /// The entries of plan.yaml whose finding no longer fires: closed actions.
    closed_actions: Vec<JsonClosed<'a>>,
}

/// A comment on an action of the plan.
#[derive(Serialize, JsonSchema)]
struct JsonComment<'a> {
    on: Option<String>,
    by: Option<&'a str>,
    text: &'a str,
}

/// An entry of plan.yaml whose finding no longer fires.
#[derive(Serialize, JsonSchema)]
struct JsonClosed<'a> {
    finding: &'a str,
    owner: Option<&'a str>,
    due: Option<String>,
    /// `open`, `in-progress`, `done` or `risk-accepted`, as plan.yaml says.
    status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    approved_by: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    comments: Option<Vec<JsonComment<'a>>>,
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
    /// The mean score of every leaf clause of the edition (a clause not assessed scores 0),
    /// kept below 50 while anything blocks stage 1 and below 70 while anything blocks stage 2.
    overall: f64,
    /// The same mean before those caps.
    uncapped: f64,
    /// The mean score of the assessed leaf clauses only.
    assessed_score: f64,
    /// How many leaf clauses were assessed, of all the edition has.
    coverage: Coverage,
    stage1: JsonVerdict<'a>,
    stage2: JsonVerdict<'a>,
    /// The certification audits booked in organisation.yaml, in date order.
    bookings: Vec<JsonBooking>,
    clauses: Vec<JsonClause<'a>>,
}

#[derive(Serialize, JsonSchema)]
struct JsonBooking {
    /// `stage-1`, `stage-2`, `surveillance` or `recertification`.
    audit: &'static str,
    on: String,
    /// Days from `as_of` to the audit; negative once it is past.
    days: i64,
}

#[derive(Serialize, JsonSchema)]
struct Coverage {
    assessed: usize,
    total: usize,
}

#[derive(Serialize, JsonSchema)]
struct JsonVerdict<'a> {
    ready: bool,
    reasons: Vec<&'a str>,
    /// The same reasons, each with the id of the finding that reports it, where one does.
    blockers: Vec<JsonBlocker<'a>>,
}

#[derive(Serialize, JsonSchema)]
struct JsonBlocker<'a> {
    reason: &'a str,
    finding: Option<&'a str>,
}

#[derive(Serialize, JsonSchema)]
struct JsonClause<'a> {
    clause: &'static str,
    title: &'static str,
    score: f64,
    assessed: bool,
    leaf: bool,
    /// The ids of the findings under this clause or a clause below it.
    findings: Vec<&'a str>,
}

#[derive(Serialize, JsonSchema)]
struct JsonFinding<'a> {
    /// Unique within the report and stable across runs.
    id: &'a str,
    check: &'static str,
    pattern: &'static str,
    pattern_title: &'static str,
    grade: &'static str,
    clauses: Clauses<'a>,
    title: &'a str,
    evidence: Vec<JsonEvidence<'a>>,
    fix: &'static [&'static str],
    /// How much `readiness.overall` rises when this finding alone is resolved.
    gain: f64,
    /// How much `readiness.uncapped` rises when this finding alone is resolved.
    uncapped_gain: f64,
    /// The audit stage this finding stands in the way of, if any.
    blocks: Option<&'static str>,
    /// Records affected, where the check counts them; evidence may hold only a sample.
    #[serde(skip_serializing_if = "Option::is_none")]
    affected: Option<usize>,
    /// Records examined, where the check counts them.
    #[serde(skip_serializing_if = "Option::is_none")]
    population: Option<usize>,
    /// Who fixes it: plan.yaml's owner, else the accountable person of its process, the
    /// process owner, the SMS owner or top management (never someone who has left).
    owner: Option<&'a str>,
    /// Where `owner` came from: `plan`, `raci`, `process-owner`, `sms-owner` or
    /// `top-management`.
    owner_from: Option<&'static str>,
    /// When it is to be fixed by: plan.yaml's date, else the grade's deadline, brought forward
    /// to the day before a booked audit the finding would block.
    due: String,
    /// Where `due` came from: `plan`, `grade`, `stage-1` or `stage-2`.
    due_from: &'static str,
    /// `open`, `in-progress`, `done` or `risk-accepted`; `open` without a plan entry.
    status: &'static str,
    /// Whether plan.yaml marks it done although the records still show it.
    marked_done_but_still_fires: bool,
    /// Why the risk is accepted (`risk-accepted` only).
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<&'a str>,
    /// The top-management person who accepted the risk (`risk-accepted` only).
    #[serde(skip_serializing_if = "Option::is_none")]
    approved_by: Option<&'a str>,
    /// plan.yaml's comments on the action, oldest first.
    #[serde(skip_serializing_if = "Option::is_none")]
    comments: Option<Vec<JsonComment<'a>>>,
}

/// The comments, or nothing when there are none (the key is then left out).
fn comments(c: &[PlanComment]) -> Option<Vec<JsonComment<'_>>> {
    if c.is_empty() {
        return None;
    }
    let list = c
        .iter()
        .map(|c| JsonComment {
            on: c.on.map(|d| d.to_string()),
            by: c.by.as_deref(),
            text: &c.text,
        })
        .collect();
    Some(list)
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

fn verdict<'a>(v: &'a Verdict, findings: &'a [Finding]) -> JsonVerdict<'a> {
    JsonVerdict {
        ready: v.ready,
        reasons: v.reasons().collect(),
        blockers: v
            .blockers
            .iter()
            .map(|b| JsonBlocker {
                reason: &b.reason,
                finding: b.finding.map(|i| findings[i].id.as_str()),
            })
            .collect(),
    }
}

fn clause<'a>(c: &ClauseScore, findings: &'a [Finding]) -> JsonClause<'a> {
    JsonClause {
        clause: c.clause.id,
        title: c.clause.title,
        score: round2(c.score),
        assessed: c.assessed,
        leaf: c.clause.is_leaf(),
        findings: c
            .findings
            .iter()
            .map(|&i| findings[i].id.as_str())
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

fn finding<'a>(f: &'a Finding, r: &Scored, a: &'a Action, i: usize) -> JsonFinding<'a> {
    JsonFinding {
        id: &f.id,
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
        gain: r.gains[i],
        uncapped_gain: r.uncapped_gains[i],
        blocks: r.blocks[i].map(|s| s.as_str()),
        affected: f.counts.map(|c| c.0),
        population: f.counts.map(|c| c.1),
        owner: a.owner.as_deref(),
        owner_from: a.owner_from.map(|o| o.as_str()),
        due: a.due.to_string(),
        due_from: a.due_from.as_str(),
        status: a.status.as_str(),
        marked_done_but_still_fires: a.marked_done_but_still_fires,
        reason: a.reason.as_deref(),
        approved_by: a.approved_by.as_deref(),
        comments: comments(&a.comments),
    }
}

/// The JSON Schema of the report, added to `generator`'s definitions.
pub fn schema(generator: &mut SchemaGenerator) -> Schema {
    generator.subschema_for::<JsonReport<'static>>()
}

/// Renders the report as pretty JSON, ending with a newline.
pub fn render(report: &Report) -> String {
    let r = &report.readiness;
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
            overall: round2(r.overall),
            uncapped: round2(r.uncapped),
            assessed_score: round2(r.assessed_score),
            coverage: Coverage {
                assessed: r.assessed.0,
                total: r.assessed.1,
            },
            stage1: verdict(&r.stage1, &report.findings),
            stage2: verdict(&r.stage2, &report.findings),
            bookings: report
                .bookings
                .iter()
                .map(|b| JsonBooking {
                    audit: b.audit,
                    on: b.on.to_string(),
                    days: b.days,
                })
                .collect(),
            clauses: r
                .clauses
                .iter()
                .map(|c| clause(c, &report.findings))
                .collect(),
        },
        findings: (0..report.findings.len())
            .map(|i| finding(&report.findings[i], r, &report.plan.actions[i], i))
            .collect(),
        closed_actions: report
            .plan
            .closed
            .iter()
            .map(|e| JsonClosed {
                finding: &e.finding,
                owner: e.owner.as_deref(),
                due: e.due.map(|d| d.to_string()),
                status: e.status.as_str(),
                reason: e.reason.as_deref(),
                approved_by: e.approved_by.as_deref(),
                comments: comments(&e.comments),
            })
            .collect(),
    };
    let mut out = serde_json::to_string_pretty(&doc).expect("report types always serialize");
    out.push('\n');
    out
}
