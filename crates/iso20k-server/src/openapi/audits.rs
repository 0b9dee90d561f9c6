//! The routes of the internal audit programme, its audits, samples and reports, and the two-day
//! comparison (`audits.rs`), in the OpenAPI document.

use serde_json::json;

use super::{At, Doc, Op, json_body, json_content, path_param, query_param, slug, string};
use crate::audits::*;

fn audit_id() -> serde_json::Value {
    path_param("id", "The audit's id (its record key)", string())
}

fn sample_id() -> serde_json::Value {
    path_param(
        "sample",
        "The sample's id within the audit: S1, S2…",
        string(),
    )
}

fn as_of(what: &str) -> serde_json::Value {
    query_param(
        "as_of",
        false,
        what,
        json!({ "type": "string", "format": "date" }),
    )
}

fn version_note() -> &'static str {
    "Each change writes a new version of the audit record, checked as the record API checks it; \
     409 when the audit changed since the `version` given, or when its state refuses the step"
}

pub(super) fn add(d: &mut Doc) {
    let programme = d.schema::<ProgrammeView>();
    d.add(
        At {
            method: "get",
            path: "/api/v1/orgs/{slug}/audit-programme",
            id: "auditProgramme".into(),
            summary:
                "The internal audit programme: its cycle and years, and the coverage matrix of \
                      processes and second-level clauses by year, each row with its risk-based \
                      frequency and reasons"
                    .into(),
            tag: "audits",
        },
        Op {
            params: vec![
                slug(),
                as_of(
                    "Judge the programme as of this day; the organisation's own day when left out",
                ),
            ],
            ok: vec![(200, "the programme".into(), Some(json_content(programme)))],
            errors: vec![401, 403, 422],
            ..Op::default()
        },
    );
    let next = d.schema::<NextCycle>();
    d.add(
        At {
            method: "post",
            path: "/api/v1/orgs/{slug}/audit-programme/next-cycle",
            id: "nextAuditCycle".into(),
            summary: "Carry the current cycle's internal audits into the next cycle (planned a cycle \
                      later, results cleared) and move the programme's cycle start there, all or \
                      nothing; 409 when the next cycle already holds them (auditors and admins)"
                .into(),
            tag: "audits",
        },
        Op {
            params: vec![
                slug(),
                as_of("The current cycle is the one holding this day; the organisation's own day when left out"),
            ],
            ok: vec![(201, "carried forward".into(), Some(json_content(next)))],
            errors: vec![401, 403, 409, 422],
            ..Op::default()
        },
    );
    let change = d.schema::<StatusChange>();
    let changed = d.schema::<StatusChanged>();
    d.add(
        At {
            method: "post",
            path: "/api/v1/orgs/{slug}/audits/{id}/status",
            id: "auditStatus".into(),
            summary: format!(
                "Move an audit to its next step (planned → in-progress → reported → closed); \
                 reporting needs objectives and a scope, closing needs every major and minor \
                 finding closed. {}",
                version_note()
            ),
            tag: "audits",
        },
        Op {
            params: vec![slug(), audit_id()],
            body: Some(json_body(change)),
            ok: vec![(
                200,
                "the audit's new status".into(),
                Some(json_content(changed)),
            )],
            errors: vec![401, 403, 404, 409, 422],
            ..Op::default()
        },
    );
    let new_finding = d.schema::<NewFinding>();
    let added = d.schema::<FindingAdded>();
    d.add(
        At {
            method: "post",
            path: "/api/v1/orgs/{slug}/audits/{id}/findings",
            id: "addAuditFinding".into(),
            summary: format!("Add a finding to an audit. {}", version_note()),
            tag: "audits",
        },
        Op {
            params: vec![slug(), audit_id()],
            body: Some(json_body(new_finding)),
            ok: vec![(
                201,
                "the finding added".into(),
                Some(json_content(added.clone())),
            )],
            errors: vec![401, 403, 404, 409, 422],
            ..Op::default()
        },
    );
    let draw = d.schema::<DrawRequest>();
    let drawn = d.schema::<SampleDrawn>();
    d.add(
        At {
            method: "post",
            path: "/api/v1/orgs/{slug}/audits/{id}/samples",
            id: "drawAuditSample".into(),
            summary: format!(
                "Draw a sample of the organisation's records (a kind, a period, filters; sized by \
                 confidence and tolerable deviation rate, or by judgement with a reason) and keep \
                 it in the audit as its next sample; the same definition and seed draw the same \
                 items. {}",
                version_note()
            ),
            tag: "audits",
        },
        Op {
            params: vec![slug(), audit_id()],
            body: Some(json_body(draw)),
            ok: vec![(201, "the sample drawn".into(), Some(json_content(drawn)))],
            errors: vec![401, 403, 404, 409, 422],
            ..Op::default()
        },
    );
    let updates = d.schema::<Vec<ItemUpdate>>();
    let saved = d.schema::<SampleSaved>();
    d.add(
        At {
            method: "put",
            path: "/api/v1/orgs/{slug}/audits/{id}/samples/{sample}/items",
            id: "saveSampleResults".into(),
            summary: format!(
                "Save what testing found for sampled items, all at once (items left out stay as \
                 they were). {}",
                version_note()
            ),
            tag: "audits",
        },
        Op {
            params: vec![slug(), audit_id(), sample_id()],
            body: Some(json_body(updates)),
            ok: vec![(
                200,
                "the sample as it is now".into(),
                Some(json_content(saved)),
            )],
            errors: vec![401, 403, 404, 409, 422],
            ..Op::default()
        },
    );
    let roll = d.schema::<RollFinding>();
    d.add(
        At {
            method: "post",
            path: "/api/v1/orgs/{slug}/audits/{id}/samples/{sample}/finding",
            id: "rollSampleIntoFinding".into(),
            summary: format!(
                "Roll a sample's items that do not conform into a new finding of the same audit: \
                 the figures in its statement, the failing items as evidence, the sample linked \
                 both ways. {}",
                version_note()
            ),
            tag: "audits",
        },
        Op {
            params: vec![slug(), audit_id(), sample_id()],
            body: Some(json_body(roll)),
            ok: vec![(201, "the finding added".into(), Some(json_content(added)))],
            errors: vec![401, 403, 404, 409, 422],
            ..Op::default()
        },
    );
    d.add(
        At {
            method: "get",
            path: "/api/v1/orgs/{slug}/audits/{id}/report",
            id: "auditReport".into(),
            summary: "One audit's report (objectives, scope, criteria, team, dates, method, \
                      samples, findings, conclusion), as a file to save"
                .into(),
            tag: "audits",
        },
        Op {
            params: vec![
                slug(),
                audit_id(),
                query_param(
                    "format",
                    false,
                    "html (when left out) or pdf",
                    json!({ "type": "string", "enum": report_formats() }),
                ),
            ],
            ok: vec![(
                200,
                "the report, as an attachment".into(),
                Some(json!({
                    "text/html": { "schema": { "type": "string" } },
                    "application/pdf": { "schema": { "type": "string", "contentMediaType": "application/pdf" } }
                })),
            )],
            errors: vec![401, 403, 404, 422],
            ..Op::default()
        },
    );
    let diff = d.schema::<DiffView>();
    d.add(
        At {
            method: "get",
            path: "/api/v1/orgs/{slug}/diff",
            id: "diff".into(),
            summary: "Readiness on two days compared, as `iso20k diff --format json` prints it: \
                      findings new, resolved and recurring, and each clause's score then and now"
                .into(),
            tag: "readiness",
        },
        Op {
            params: vec![
                slug(),
                query_param(
                    "from",
                    false,
                    "The earlier day; the first day of the programme's current cycle when left out",
                    json!({ "type": "string", "format": "date" }),
                ),
                query_param(
                    "to",
                    false,
                    "The later day; the organisation's own day when left out",
                    json!({ "type": "string", "format": "date" }),
                ),
                query_param(
                    "edition",
                    false,
                    "2018 or 2011; the organisation's declared edition when left out",
                    json!({ "type": "string", "enum": ["2018", "2011"] }),
                ),
            ],
            ok: vec![(200, "the comparison".into(), Some(json_content(diff)))],
            errors: vec![401, 403, 422],
            ..Op::default()
        },
    );
}
