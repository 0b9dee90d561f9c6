//! OSCAL 1.2.1 documents, for GRC tools and assessors: the clause catalogue of an edition as a
//! `catalog`, and a report as `assessment-results` against it.
//!
//! Both are pure functions of their input: every UUID is a version 5 UUID derived from stable
//! names (the document's own from its content), and every date is the report's `as_of`, so
//! exporting the same records twice gives the same bytes and a re-export diffs cleanly.
//!
//! The catalogue holds clause numbers, titles and our own paraphrases only, never the standard's
//! text. OSCAL ids cannot start with a digit, so clause `9.3` of 2018 is control
//! `iso20k-2018-9.3`; the edition is in the id so that both catalogues can sit side by side in
//! one tool.

use std::sync::LazyLock;

use iso20k_core::audit::Report;
use iso20k_core::checks::{Evidence, Finding};
use iso20k_core::clause::{self, Clause};
use iso20k_core::kb::{self, Grade, Pattern};
use iso20k_core::{Date, Edition};
use serde::Serialize;
use uuid::Uuid;

const OSCAL_VERSION: &str = "1.2.1";

/// The namespace of our own properties and part names: OSCAL defines no grade, check or
/// pattern, so they are qualified by a URI of the project.
const NS: &str = "https://github.com/iso20k/iso20k/ns/oscal";

/// The property namespace NIST's assessment catalogues (SP 800-53A) use for `method`.
const NS_RMF: &str = "http://csrc.nist.gov/ns/rmf";

/// The check id of findings that come from the internal auditor's checklist.
const CHECKLIST: &str = "checklist";

/// Every UUID here is a version 5 UUID in this namespace, itself derived from [`NS`].
static NAMESPACE: LazyLock<Uuid> =
    LazyLock::new(|| Uuid::new_v5(&Uuid::NAMESPACE_URL, NS.as_bytes()));

fn uuid(name: &str) -> String {
    Uuid::new_v5(&NAMESPACE, name.as_bytes()).to_string()
}

/// The OSCAL id of a clause of an edition.
pub fn control_id(edition: Edition, clause: &str) -> String {
    format!("iso20k-{edition}-{clause}")
}

/// The id of a clause's statement part, which findings on the clause target.
pub fn statement_id(edition: Edition, clause: &str) -> String {
    format!("{}_smt", control_id(edition, clause))
}

/// The catalogue of an edition as an OSCAL catalog: a group per main clause, a control per
/// sub-clause (nested as the clauses nest), each with our paraphrase as its statement, what
/// auditors look for as its assessment method and the failure patterns under it as guidance.
/// Pretty JSON, ending with a newline.
///
/// Clauses 1 to 3 (scope, references, terms) are left out: they hold no requirement anyone
/// could be assessed against.
pub fn catalog(edition: Edition) -> String {
    let groups = clause::catalogue(edition)
        .iter()
        .filter(|c| c.is_requirement() && c.depth() == 1)
        .map(|c| control(edition, c))
        .collect();
    let catalog = Catalog {
        uuid: String::new(),
        metadata: Metadata {
            title: format!("ISO/IEC 20000-1:{edition} clause catalogue (iso20k paraphrase)"),
            last_modified: timestamp(CATALOGUE_MODIFIED),
            version: env!("CARGO_PKG_VERSION"),
            oscal_version: OSCAL_VERSION,
            remarks: Some(
                "Clause numbers and titles identify the clauses of the standard; every statement \
                 and all guidance are iso20k's own words, not the standard's text."
                    .into(),
            ),
        },
        groups,
    };
    document("catalog", &catalog)
}

/// When the clause catalogues or the knowledge base last changed: change it with them. The
/// catalog's date cannot come from the clock, or the same data would export differently daily.
const CATALOGUE_MODIFIED: Date = Date::constant(2026, 11, 26);

/// A clause and the clauses directly below it. A main clause is a group, whose summary is an
/// overview; below it, clauses are controls, whose summary is their statement.
fn control(edition: Edition, c: &'static Clause) -> Control {
    let id = control_id(edition, c.id);
    let (class, name, suffix) = if c.depth() == 1 {
        ("clause", "overview", "ovw")
    } else {
        ("requirement", "statement", "smt")
    };
    let mut parts = vec![Part {
        id: format!("{id}_{suffix}"),
        name,
        prose: Some(c.summary.into()),
        ..Part::default()
    }];
    if !c.looks_for.is_empty() {
        let asm = format!("{id}_asm");
        parts.push(Part {
            name: "assessment-method",
            title: Some("What auditors look for".into()),
            props: vec![Prop::new("method", "EXAMINE").ns(NS_RMF)],
            parts: c
                .looks_for
                .iter()
                .enumerate()
                .map(|(i, item)| Part {
                    id: format!("{asm}.{}", i + 1),
                    name: "assessment-objects",
                    prose: Some((*item).into()),
                    ..Part::default()
                })
                .collect(),
            id: asm,
            ..Part::default()
        });
    }
    parts.extend(
        kb::patterns()
            .iter()
            .filter(|p| p.clauses(edition).contains(&c.id))
            .map(|p| guidance(&id, p)),
    );
    Control {
        title: c.title.into(),
        class,
        props: vec![Prop::new("label", c.id)],
        parts,
        controls: clause::catalogue(edition)
            .iter()
            .filter(|sub| sub.parent().is_some_and(|parent| parent.id == c.id))
            .map(|sub| control(edition, sub))
            .collect(),
        id,
    }
}

/// A failure pattern under a clause: what goes wrong, and how to fix it.
fn guidance(control: &str, p: &Pattern) -> Part {
    let id = format!("{control}_gdn.{}", p.id);
    Part {
        name: "guidance",
        title: Some(p.title.into()),
        props: vec![Prop::new("pattern", p.id).ns(NS)],
        prose: Some(p.what_goes_wrong.into()),
        parts: vec![Part {
            id: format!("{id}.fix"),
            name: "how-to-fix",
            ns: Some(NS),
            title: Some("How to fix".into()),
            prose: Some(steps(p.how_to_fix)),
            ..Part::default()
        }],
        id,
        ..Part::default()
    }
}

/// The report as OSCAL assessment-results: one result holding a finding, an observation (its
/// evidence) and a risk (with the fix as remediation) per finding of the report. Findings
/// target the statement of their first clause in the catalog of [`catalog`]`(report.edition)`.
/// Pretty JSON, ending with a newline.
pub fn results(report: &Report) -> String {
    let edition = report.edition;
    let at = timestamp(report.as_of);
    // Everything in the document is named under the organisation, edition and date, so two
    // organisations' exports never share a UUID while re-exports of one report always do.
    let scope = format!("{}/{edition}/{}", report.organisation, report.as_of);
    let assessed: Vec<ControlRef> = report
        .readiness
        .clauses
        .iter()
        .filter(|s| s.assessed)
        .map(|s| ControlRef {
            control_id: control_id(edition, s.clause.id),
        })
        .collect();

    let mut findings = Vec::new();
    let mut observations = Vec::new();
    let mut risks = Vec::new();
    for (i, f) in report.findings.iter().enumerate() {
        // A check may raise its pattern more than once; report order tells the instances apart.
        let nth = report.findings[..i]
            .iter()
            .filter(|g| g.check == f.check && g.pattern.id == f.pattern.id)
            .count();
        let name = format!("{scope}/{}/{}/{nth}", f.check, f.pattern.id);
        let observation_uuid = uuid(&format!("observation/{name}"));
        let risk_uuid = uuid(&format!("risk/{name}"));
        observations.push(observation(f, observation_uuid.clone(), &at));
        risks.push(Risk {
            uuid: risk_uuid.clone(),
            title: f.pattern.title.into(),
            description: f.pattern.what_goes_wrong.into(),
            statement: f.pattern.why_it_matters.into(),
            props: vec![Prop::new("pattern", f.pattern.id).ns(NS)],
            status: "open",
            remediations: vec![Remediation {
                uuid: uuid(&format!("remediation/{name}")),
                // A tool's suggestion, not yet a plan the organisation has accepted.
                lifecycle: "recommendation",
                title: format!("Fix: {}", f.pattern.title),
                description: steps(f.fix()),
                remarks: format!("What fixing it achieves: {}", f.pattern.result),
            }],
            related_observations: vec![RelatedObservation {
                observation_uuid: observation_uuid.clone(),
            }],
        });
        findings.push(finding(
            f,
            edition,
            uuid(&format!("finding/{name}")),
            observation_uuid,
            risk_uuid,
        ));
    }

    let r = &report.readiness;
    let plan = uuid(&format!("assessment-plan/{scope}"));
    let doc = AssessmentResults {
        uuid: String::new(),
        metadata: Metadata {
            title: one_line(&format!(
                "{}: ISO/IEC 20000-1:{edition} readiness on {}",
                report.organisation, report.as_of
            )),
            last_modified: at.clone(),
            version: env!("CARGO_PKG_VERSION"),
            oscal_version: OSCAL_VERSION,
            remarks: None,
        },
        // OSCAL requires a reference to an assessment plan, but iso20k has none to point at: the
        // plan is its registry of checks and the checklist. The reference resolves to a
        // back-matter resource saying so, which keeps the document self-contained.
        import_ap: ImportAp {
            href: format!("#{plan}"),
        },
        results: vec![AssessmentResult {
            uuid: uuid(&format!("result/{scope}")),
            title: format!("Readiness check against ISO/IEC 20000-1:{edition}"),
            description: format!(
                "iso20k read the organisation's records with {} checks as of {}, with {} of the \
                 {} internal audit checklist questions answered. Readiness {:.1} of 100; stage \
                 1: {}; stage 2: {}.",
                report.checks_run,
                report.as_of,
                report.checklist.answered,
                report.checklist.questions,
                r.overall,
                verdict(r.stage1.ready),
                verdict(r.stage2.ready),
            ),
            start: at,
            props: vec![
                Prop::new("readiness-score", format!("{:.1}", r.overall)).ns(NS),
                Prop::new("stage-1-ready", r.stage1.ready.to_string()).ns(NS),
                Prop::new("stage-2-ready", r.stage2.ready.to_string()).ns(NS),
            ],
            reviewed_controls: ReviewedControls {
                description: "The requirement clauses a check, a checklist answer or a finding \
                              assessed. The others were not assessed, which is not a pass."
                    .into(),
                control_selections: vec![ControlSelection {
                    include_controls: assessed,
                }],
            },
            observations,
            risks,
            findings,
        }],
        back_matter: BackMatter {
            resources: vec![Resource {
                uuid: plan,
                title: "Assessment plan".into(),
                description: format!(
                    "No separate assessment plan: the checks of iso20k {} and the internal \
                     auditor's checklist, run against the records as of {}.",
                    env!("CARGO_PKG_VERSION"),
                    report.as_of
                ),
            }],
        },
    };
    document("assessment-results", &doc)
}

fn verdict(ready: bool) -> &'static str {
    if ready { "ready" } else { "not ready" }
}

fn finding(
    f: &Finding,
    edition: Edition,
    uuid: String,
    observation: String,
    risk: String,
) -> OscalFinding {
    let clauses = f.clauses(edition);
    let first = clauses
        .first()
        .expect("audit drops findings with no clause in the audited edition");
    let mut props = vec![
        Prop::new("grade", f.grade.as_str()).ns(NS),
        Prop::new("check", f.check).ns(NS),
        Prop::new("pattern", f.pattern.id).ns(NS),
    ];
    props.extend(clauses.iter().map(|c| Prop::new("clause", *c).ns(NS)));
    OscalFinding {
        uuid,
        title: format!("{}: {}", grade_title(f.grade), f.pattern.title),
        description: one_line(&f.title),
        props,
        target: Target {
            kind: "statement-id",
            target_id: statement_id(edition, first),
            status: Status {
                state: "not-satisfied",
            },
        },
        related_observations: vec![RelatedObservation {
            observation_uuid: observation,
        }],
        related_risks: vec![RelatedRisk { risk_uuid: risk }],
    }
}

fn grade_title(grade: Grade) -> &'static str {
    match grade {
        Grade::Major => "Major nonconformity",
        Grade::Minor => "Minor nonconformity",
        Grade::Observation => "Observation",
    }
}

/// The evidence of a finding: the organisation's records that show it.
fn observation(f: &Finding, uuid: String, collected: &str) -> Observation {
    let (method, source) = if f.check == CHECKLIST {
        (
            "INTERVIEW",
            "The internal auditor's checklist answer.".to_string(),
        )
    } else {
        (
            "EXAMINE",
            format!("Found by the check `{}` in the records.", f.check),
        )
    };
    let mut props = Vec::new();
    let extent = match f.counts {
        Some((affected, population)) => {
            props.push(Prop::new("affected", affected.to_string()).ns(NS));
            props.push(Prop::new("population", population.to_string()).ns(NS));
            let listed = if f.evidence.len() < affected {
                "a sample"
            } else {
                "all of them"
            };
            format!(
                " {affected} of {population} records examined are affected; the evidence lists {listed}."
            )
        }
        None => String::new(),
    };
    Observation {
        uuid,
        title: one_line(&f.title),
        description: format!("{source}{extent}"),
        props,
        methods: vec![method],
        types: vec!["finding"],
        relevant_evidence: f.evidence.iter().map(evidence).collect(),
        collected: collected.into(),
    }
}

fn evidence(e: &Evidence) -> RelevantEvidence {
    let mut description = format!("{} `{}`: {}", e.kind.as_str(), e.id, e.note);
    if let Some(field) = e.field {
        match &e.value {
            Some(value) => description.push_str(&format!(" (`{field}`: {value})")),
            None => description.push_str(&format!(" (`{field}` empty)")),
        }
    }
    let mut props = vec![Prop::new("record-kind", e.kind.as_str()).ns(NS)];
    // Property values must be one non-blank line; an id that is not one stays in the description.
    let id = one_line(&e.id);
    if !id.is_empty() {
        props.push(Prop::new("record-id", id).ns(NS));
    }
    RelevantEvidence { description, props }
}

/// Ordered steps as a Markdown list.
fn steps(steps: &[&str]) -> String {
    steps
        .iter()
        .enumerate()
        .map(|(i, s)| format!("{}. {s}", i + 1))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Text from the records on one line: OSCAL titles and property values may not span lines or
/// start or end with blanks.
fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Midnight UTC of a day, as OSCAL's timestamps need a time and a zone.
fn timestamp(day: Date) -> String {
    format!("{day}T00:00:00Z")
}

/// The document as pretty JSON under its model's key, ending with a newline. OSCAL asks for a
/// new document UUID whenever the content changes, so it is derived from the content itself
/// (serialised with an empty `uuid`): a re-export of unchanged content keeps it.
fn document(model: &str, body: &impl Serialize) -> String {
    let mut body = serde_json::to_value(body).expect("OSCAL types always serialize");
    body["uuid"] = uuid(&format!("{model}/{body}")).into();
    let doc = serde_json::json!({ model: body });
    let mut out = serde_json::to_string_pretty(&doc).expect("JSON values always serialize");
    out.push('\n');
    out
}

// The subset of the OSCAL models written here, fields in the order OSCAL lists them.

#[derive(Serialize)]
#[serde(rename_all = "kebab-case")]
struct Metadata {
    title: String,
    last_modified: String,
    version: &'static str,
    oscal_version: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    remarks: Option<String>,
}

#[derive(Serialize)]
struct Prop {
    name: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    ns: Option<&'static str>,
    value: String,
}

impl Prop {
    fn new(name: &'static str, value: impl Into<String>) -> Prop {
        Prop {
            name,
            ns: None,
            value: value.into(),
        }
    }

    fn ns(self, ns: &'static str) -> Prop {
        Prop {
            ns: Some(ns),
            ..self
        }
    }
}

#[derive(Serialize)]
struct Catalog {
    uuid: String,
    metadata: Metadata,
    groups: Vec<Control>,
}

/// A control, or a group: OSCAL gives both the same fields (a group's `controls` are its
/// sub-clauses, as are a control's).
#[derive(Serialize)]
struct Control {
    id: String,
    class: &'static str,
    title: String,
    props: Vec<Prop>,
    parts: Vec<Part>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    controls: Vec<Control>,
}

#[derive(Serialize, Default)]
struct Part {
    id: String,
    name: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    ns: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    title: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    props: Vec<Prop>,
    #[serde(skip_serializing_if = "Option::is_none")]
    prose: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    parts: Vec<Part>,
}

#[derive(Serialize)]
#[serde(rename_all = "kebab-case")]
struct AssessmentResults {
    uuid: String,
    metadata: Metadata,
    import_ap: ImportAp,
    results: Vec<AssessmentResult>,
    back_matter: BackMatter,
}

#[derive(Serialize)]
struct ImportAp {
    href: String,
}

#[derive(Serialize)]
#[serde(rename_all = "kebab-case")]
struct AssessmentResult {
    uuid: String,
    title: String,
    description: String,
    start: String,
    props: Vec<Prop>,
    reviewed_controls: ReviewedControls,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    observations: Vec<Observation>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    risks: Vec<Risk>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    findings: Vec<OscalFinding>,
}

#[derive(Serialize)]
#[serde(rename_all = "kebab-case")]
struct ReviewedControls {
    description: String,
    control_selections: Vec<ControlSelection>,
}

#[derive(Serialize)]
#[serde(rename_all = "kebab-case")]
struct ControlSelection {
    include_controls: Vec<ControlRef>,
}

#[derive(Serialize)]
#[serde(rename_all = "kebab-case")]
struct ControlRef {
    control_id: String,
}

#[derive(Serialize)]
#[serde(rename_all = "kebab-case")]
struct Observation {
    uuid: String,
    title: String,
    description: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    props: Vec<Prop>,
    methods: Vec<&'static str>,
    types: Vec<&'static str>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    relevant_evidence: Vec<RelevantEvidence>,
    collected: String,
}

#[derive(Serialize)]
struct RelevantEvidence {
    description: String,
    props: Vec<Prop>,
}

#[derive(Serialize)]
#[serde(rename_all = "kebab-case")]
struct Risk {
    uuid: String,
    title: String,
    description: String,
    statement: String,
    props: Vec<Prop>,
    status: &'static str,
    remediations: Vec<Remediation>,
    related_observations: Vec<RelatedObservation>,
}

#[derive(Serialize)]
struct Remediation {
    uuid: String,
    lifecycle: &'static str,
    title: String,
    description: String,
    remarks: String,
}

#[derive(Serialize)]
#[serde(rename_all = "kebab-case")]
struct OscalFinding {
    uuid: String,
    title: String,
    description: String,
    props: Vec<Prop>,
    target: Target,
    related_observations: Vec<RelatedObservation>,
    related_risks: Vec<RelatedRisk>,
}

#[derive(Serialize)]
#[serde(rename_all = "kebab-case")]
struct Target {
    #[serde(rename = "type")]
    kind: &'static str,
    target_id: String,
    status: Status,
}

#[derive(Serialize)]
struct Status {
    state: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "kebab-case")]
struct RelatedObservation {
    observation_uuid: String,
}

#[derive(Serialize)]
#[serde(rename_all = "kebab-case")]
struct RelatedRisk {
    risk_uuid: String,
}

#[derive(Serialize)]
struct BackMatter {
    resources: Vec<Resource>,
}

#[derive(Serialize)]
struct Resource {
    uuid: String,
    title: String,
    description: String,
}
