//! The OpenAPI 3.1 document of the API, generated from the code: every body and response
//! schema comes from the Rust type the handler reads or writes (through schemars, as the
//! bundle's JSON Schemas do), and the record routes are spelled out for each kind of record
//! from the bundle's catalogue, each with that kind's schema.
//!
//! The routes themselves are listed in `api.rs`; a test walks this document and calls every
//! operation in it, so a route missing from either side fails.

use std::sync::OnceLock;

use iso20k_bundle::records::KINDS;
use schemars::generate::SchemaSettings;
use schemars::{JsonSchema, SchemaGenerator};
use serde_json::{Map, Value, json};

use crate::api::*;
use crate::auth::Role;
use crate::error::ErrorBody;

mod audits;

/// The document served at `/api/openapi.json`.
pub fn document() -> &'static Value {
    static DOC: OnceLock<Value> = OnceLock::new();
    DOC.get_or_init(build)
}

struct Doc {
    generator: SchemaGenerator,
    /// Records' schemas, kept apart: they say ids are never blank, which holds for records but
    /// not for the ids a report quotes as evidence.
    records: SchemaGenerator,
    paths: Map<String, Value>,
}

/// Where an operation is documented: its method, path, id, summary and tag.
struct At<'a> {
    method: &'a str,
    path: &'a str,
    id: String,
    summary: String,
    tag: &'a str,
}

/// What an operation takes and answers.
#[derive(Default)]
struct Op {
    params: Vec<Value>,
    body: Option<Value>,
    ok: Vec<(u16, String, Option<Value>)>,
    errors: Vec<u16>,
    public: bool,
}

impl Doc {
    fn schema<T: JsonSchema>(&mut self) -> Value {
        self.generator.subschema_for::<T>().to_value()
    }

    fn add(&mut self, at: At<'_>, op: Op) {
        let mut responses = Map::new();
        for (status, description, schema) in op.ok {
            let mut r = json!({ "description": description });
            if let Some(content) = schema {
                r["content"] = content;
            }
            responses.insert(status.to_string(), r);
        }
        let error = self.schema::<ErrorBody>();
        // Any request can run past the server's deadline.
        let mut errors = op.errors;
        errors.push(408);
        for status in errors {
            let description = match status {
                401 => "no valid session or API token",
                403 => "no access to the organisation, or the role does not allow it",
                404 => "no such record, kind or file",
                409 => "the key is taken, or the record changed since it was read",
                408 => {
                    "the request took longer than the server allows and was stopped; nothing was saved"
                }
                413 => "the file is larger than the server accepts",
                422 => "the input is invalid; `fields` says where",
                429 => "too many failed logins; `Retry-After` says when to try again",
                _ => "error",
            };
            responses.insert(
                status.to_string(),
                json!({ "description": description, "content": json_content(error.clone()) }),
            );
        }
        let mut operation = json!({
            "operationId": at.id,
            "summary": at.summary,
            "tags": [at.tag],
            "parameters": op.params,
            "responses": responses,
        });
        if let Some(body) = op.body {
            operation["requestBody"] = body;
        }
        if op.public {
            operation["security"] = json!([]);
        }
        let item = self
            .paths
            .entry(at.path.to_owned())
            .or_insert_with(|| json!({}));
        item[at.method] = operation;
    }
}

fn json_content(schema: Value) -> Value {
    json!({ "application/json": { "schema": schema } })
}

fn json_body(schema: Value) -> Value {
    json!({ "required": true, "content": json_content(schema) })
}

fn path_param(name: &str, description: &str, schema: Value) -> Value {
    json!({ "name": name, "in": "path", "required": true, "description": description, "schema": schema })
}

fn query_param(name: &str, required: bool, description: &str, schema: Value) -> Value {
    json!({ "name": name, "in": "query", "required": required, "description": description, "schema": schema })
}

fn slug() -> Value {
    path_param(
        "slug",
        "The organisation's short name",
        json!({ "type": "string" }),
    )
}

fn string() -> Value {
    json!({ "type": "string" })
}

/// A file name as `clean_name` accepts it: something besides blanks and folder separators
/// after the last separator.
fn file_name() -> Value {
    json!({ "type": "string", "pattern": "[^\\s/\\\\\\u0000-\\u001f\"][^/\\\\]*$" })
}

fn integer() -> Value {
    json!({ "type": "integer", "format": "int64" })
}

/// The errors every operation on an organisation can answer.
const ORG: [u16; 3] = [401, 403, 422];

fn build() -> Value {
    let settings = SchemaSettings::draft2020_12().with(|s| {
        s.definitions_path = "/components/schemas".into();
        s.meta_schema = None;
    });
    let mut doc = Doc {
        records: settings
            .clone()
            .with_transform(iso20k_bundle::schema::NonBlankIds)
            .into_generator(),
        generator: settings.into_generator(),
        paths: Map::new(),
    };
    let d = &mut doc;

    let health = d.schema::<Health>();
    d.add(
        At {
            method: "get",
            path: "/healthz",
            id: "health".into(),
            summary: "Whether the server and its database answer".into(),
            tag: "server",
        },
        Op {
            ok: vec![(200, "the server is up".into(), Some(json_content(health)))],
            public: true,
            ..Op::default()
        },
    );
    d.add(
        At {
            method: "get",
            path: "/api/openapi.json",
            id: "openapi".into(),
            summary: "This document".into(),
            tag: "server",
        },
        Op {
            ok: vec![(
                200,
                "the OpenAPI document".into(),
                Some(json_content(json!({ "type": "object" }))),
            )],
            public: true,
            ..Op::default()
        },
    );

    // Sessions and tokens.
    let login = d.schema::<Login>();
    let session = d.schema::<SessionInfo>();
    d.add(
        At {
            method: "post",
            path: "/api/v1/session",
            id: "login".into(),
            summary: "Log in with a password: sets the session cookie and returns the CSRF token"
                .into(),
            tag: "session",
        },
        Op {
            body: Some(json_body(login)),
            ok: vec![(
                200,
                "logged in; the `iso20k_session` cookie is set".into(),
                Some(json_content(session.clone())),
            )],
            // 403: password sign-in is off (`--sso-only`) for this account.
            errors: vec![401, 403, 422, 429],
            public: true,
            ..Op::default()
        },
    );
    d.add(
        At {
            method: "get",
            path: "/api/v1/session",
            id: "whoami".into(),
            summary: "The caller and their organisations".into(),
            tag: "session",
        },
        Op {
            ok: vec![(200, "the caller".into(), Some(json_content(session)))],
            errors: vec![401],
            ..Op::default()
        },
    );
    d.add(
        At {
            method: "delete",
            path: "/api/v1/session",
            id: "logout".into(),
            summary: "Log out: ends the session".into(),
            tag: "session",
        },
        Op {
            ok: vec![(204, "logged out".into(), None)],
            errors: vec![401, 403],
            ..Op::default()
        },
    );
    let tokens = d.schema::<Vec<TokenInfo>>();
    let new_token = d.schema::<NewToken>();
    let token_created = d.schema::<TokenCreated>();
    d.add(
        At {
            method: "get",
            path: "/api/v1/tokens",
            id: "listTokens".into(),
            summary: "The caller's API tokens".into(),
            tag: "session",
        },
        Op {
            ok: vec![(200, "the tokens".into(), Some(json_content(tokens)))],
            errors: vec![401],
            ..Op::default()
        },
    );
    d.add(
        At {
            method: "post",
            path: "/api/v1/tokens",
            id: "createToken".into(),
            summary: "Create an API token for scripts; its secret is shown once".into(),
            tag: "session",
        },
        Op {
            body: Some(json_body(new_token)),
            ok: vec![(201, "the token".into(), Some(json_content(token_created)))],
            errors: vec![401, 403, 422],
            ..Op::default()
        },
    );
    d.add(
        At {
            method: "delete",
            path: "/api/v1/tokens/{id}",
            id: "revokeToken".into(),
            summary: "Revoke one of the caller's API tokens".into(),
            tag: "session",
        },
        Op {
            params: vec![path_param("id", "The token's id", integer())],
            ok: vec![(204, "revoked".into(), None)],
            errors: vec![401, 403, 404, 422],
            ..Op::default()
        },
    );

    // Organisations and members.
    let orgs = d.schema::<Vec<OrgInfo>>();
    let org = d.schema::<OrgInfo>();
    let new_org = d.schema::<NewOrg>();
    d.add(
        At {
            method: "get",
            path: "/api/v1/orgs",
            id: "listOrgs".into(),
            summary: "The organisations the caller belongs to".into(),
            tag: "organisations",
        },
        Op {
            ok: vec![(200, "the organisations".into(), Some(json_content(orgs)))],
            errors: vec![401],
            ..Op::default()
        },
    );
    d.add(
        At {
            method: "post",
            path: "/api/v1/orgs",
            id: "createOrg".into(),
            summary: "Create an organisation (for admins of another); the caller becomes its admin"
                .into(),
            tag: "organisations",
        },
        Op {
            body: Some(json_body(new_org)),
            ok: vec![(
                201,
                "the organisation".into(),
                Some(json_content(org.clone())),
            )],
            errors: vec![401, 403, 409, 422],
            ..Op::default()
        },
    );
    d.add(
        At {
            method: "get",
            path: "/api/v1/orgs/{slug}",
            id: "showOrg".into(),
            summary: "One organisation and the caller's role in it".into(),
            tag: "organisations",
        },
        Op {
            params: vec![slug()],
            ok: vec![(200, "the organisation".into(), Some(json_content(org)))],
            errors: ORG.to_vec(),
            ..Op::default()
        },
    );
    let members = d.schema::<Vec<MemberInfo>>();
    let member = d.schema::<MemberInfo>();
    let member_update = d.schema::<MemberUpdate>();
    let _ = d.schema::<Role>();
    d.add(
        At {
            method: "get",
            path: "/api/v1/orgs/{slug}/members",
            id: "listMembers".into(),
            summary: "Who has access to the organisation, with which role".into(),
            tag: "organisations",
        },
        Op {
            params: vec![slug()],
            ok: vec![(200, "the members".into(), Some(json_content(members)))],
            errors: ORG.to_vec(),
            ..Op::default()
        },
    );
    let email = path_param("email", "The member's email", string());
    d.add(
        At {
            method: "put",
            path: "/api/v1/orgs/{slug}/members/{email}",
            id: "setMember".into(),
            summary: "Give someone a role (admins); a new account needs a password, an expiry makes the access external and read-only".into(),
            tag: "organisations",
        },
        Op {
            params: vec![slug(), email.clone()],
            body: Some(json_body(member_update)),
            ok: vec![(200, "the member".into(), Some(json_content(member)))],
            errors: vec![401, 403, 409, 422],
            ..Op::default()
        },
    );
    d.add(
        At {
            method: "delete",
            path: "/api/v1/orgs/{slug}/members/{email}",
            id: "removeMember".into(),
            summary: "Remove someone's access (admins)".into(),
            tag: "organisations",
        },
        Op {
            params: vec![slug(), email],
            ok: vec![(204, "removed".into(), None)],
            errors: vec![401, 403, 404, 409, 422],
            ..Op::default()
        },
    );

    // Readiness and the audit trail.
    let report = iso20k_report::json::schema(&mut d.generator).to_value();
    d.add(
        At {
            method: "get",
            path: "/api/v1/orgs/{slug}/readiness",
            id: "readiness".into(),
            summary: "The readiness report, as `iso20k check --format json` prints it".into(),
            tag: "readiness",
        },
        Op {
            params: vec![
                slug(),
                query_param(
                    "edition",
                    false,
                    "2018 or 2011; the organisation's declared edition when left out",
                    json!({ "type": "string", "enum": ["2018", "2011"] }),
                ),
                query_param(
                    "as_of",
                    false,
                    "Judge the records as of this day; today when left out",
                    json!({ "type": "string", "format": "date" }),
                ),
            ],
            ok: vec![(200, "the report".into(), Some(json_content(report)))],
            errors: ORG.to_vec(),
            ..Op::default()
        },
    );
    let text = || json!({ "schema": { "type": "string" } });
    d.add(
        At {
            method: "get",
            path: "/api/v1/orgs/{slug}/reports/{format}",
            id: "report".into(),
            summary: "The report in a format of `iso20k report`, as a file to save".into(),
            tag: "readiness",
        },
        Op {
            params: vec![
                slug(),
                path_param(
                    "format",
                    "The format",
                    json!({ "type": "string", "enum": crate::api::ReportKind::names() }),
                ),
                query_param(
                    "edition",
                    false,
                    "2018 or 2011; the organisation's declared edition when left out",
                    json!({ "type": "string", "enum": ["2018", "2011"] }),
                ),
                query_param(
                    "as_of",
                    false,
                    "Judge the records as of this day; today when left out",
                    json!({ "type": "string", "format": "date" }),
                ),
            ],
            ok: vec![(
                200,
                "the report, as an attachment".into(),
                Some(json!({
                    "text/html": text(),
                    "text/markdown": text(),
                    "text/csv": text(),
                    "application/xml": text(),
                    "application/json": { "schema": { "type": "object" } },
                    "application/sarif+json": { "schema": { "type": "object" } },
                    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": { "schema": { "type": "string", "contentMediaType": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" } },
                    "application/pdf": { "schema": { "type": "string", "contentMediaType": "application/pdf" } }
                })),
            )],
            errors: vec![401, 403, 404, 422],
            ..Op::default()
        },
    );
    let change = json!({
        "type": "object",
        "required": ["id", "at", "actor", "action", "kind", "key"],
        "properties": {
            "id": integer(),
            "at": { "type": "string", "description": "When, RFC 3339 UTC" },
            "actor": { "type": "string", "description": "Who: an email, and the token's name for a script" },
            "action": { "type": "string", "enum": ["create", "update", "delete", "attach", "detach"] },
            "kind": string(),
            "key": string(),
            "before": { "description": "The record a delete removed (evidence: its metadata)" },
            "after": { "description": "The record a single create wrote (evidence: its metadata); a bulk import's creates keep only the digest" },
            "changed": { "type": ["object", "null"], "description": "For an update, each changed field with its value `from` before and `to` after (a side left out where the field is absent)" },
            "digest": { "type": ["string", "null"], "description": "SHA-256 (hex) of the record a create or update left" },
            "seq": { "type": "integer", "description": "The entry's place in the organisation's trail, 1 for the first" },
            "hash": { "type": "string", "description": "SHA-256 (hex) of the entry, chained to the entry before" }
        }
    });
    d.add(
        At {
            method: "get",
            path: "/api/v1/orgs/{slug}/changes",
            id: "changes".into(),
            summary: "The audit trail: who changed what, when, with the values before and after"
                .into(),
            tag: "records",
        },
        Op {
            params: vec![
                slug(),
                query_param("kind", false, "Only records of this kind", string()),
                query_param("key", false, "Only the record with this key", string()),
                query_param(
                    "before",
                    false,
                    "The `next` of the previous page",
                    integer(),
                ),
                query_param(
                    "limit",
                    false,
                    "How many, 1 to 1000 (100)",
                    json!({ "type": "integer", "minimum": 1, "maximum": 1000 }),
                ),
            ],
            ok: vec![(
                200,
                "changes, newest first".into(),
                Some(json_content(json!({
                    "type": "object",
                    "required": ["items", "next"],
                    "properties": {
                        "items": { "type": "array", "items": change },
                        "next": { "type": ["integer", "null"], "description": "Pass as `before` for the next page" }
                    }
                }))),
            )],
            errors: ORG.to_vec(),
            ..Op::default()
        },
    );

    let proof = d.schema::<crate::trail::TrailProof>();
    d.add(
        At {
            method: "get",
            path: "/api/v1/orgs/{slug}/trail",
            id: "proveTrail".into(),
            summary: "Proves the audit trail: every entry chained to the one before, and every \
                      record as its last change left it (administrators and auditors)"
                .into(),
            tag: "records",
        },
        Op {
            params: vec![slug()],
            ok: vec![(200, "the proof".into(), Some(json_content(proof)))],
            errors: ORG.to_vec(),
            ..Op::default()
        },
    );

    // Records, kind by kind.
    let kinds = d.schema::<Vec<KindInfo>>();
    d.add(
        At {
            method: "get",
            path: "/api/v1/orgs/{slug}/records",
            id: "listKinds".into(),
            summary: "The kinds of record, with how many the organisation holds".into(),
            tag: "records",
        },
        Op {
            params: vec![slug()],
            ok: vec![(200, "the kinds".into(), Some(json_content(kinds)))],
            errors: ORG.to_vec(),
            ..Op::default()
        },
    );
    let evidence = d.schema::<EvidenceInfo>();
    let evidence_list = d.schema::<Vec<EvidenceInfo>>();
    let warnings = json!({
        "type": "array",
        "items": d.schema::<crate::refs::Warning>(),
        "description": "The record's references that name no record once it is saved, one per value: the record is kept, and readiness reports each as `reference-unresolved`. Empty when all resolve."
    });
    let mut nc_saved = None;
    for kind in KINDS {
        let record = kind.schema(&mut d.records).to_value();
        let item = json!({
            "type": "object",
            "required": ["kind", "key", "version", "updated_at", "updated_by", "record"],
            "properties": {
                "kind": { "const": kind.name },
                "key": { "type": "string", "description": format!("Made of: {}", kind.key) },
                "version": { "type": "integer", "minimum": 1, "description": "Send it back with an update" },
                "updated_at": string(),
                "updated_by": string(),
                "record": record.clone()
            }
        });
        // A create or a replace answers the record with its references' warnings.
        let mut saved = item.clone();
        saved["required"]
            .as_array_mut()
            .expect("a list")
            .push(json!("warnings"));
        saved["properties"]["warnings"] = warnings.clone();
        if kind.name == crate::nc::KIND {
            nc_saved = Some(saved.clone());
        }
        let collection = format!("/api/v1/orgs/{{slug}}/records/{}", kind.name);
        let one = format!("{collection}/{{key}}");
        let name = camel(kind.name);
        let key = path_param(
            "key",
            &format!(
                "The record's key ({}); percent-encode a `/` in it",
                kind.key
            ),
            string(),
        );
        d.add(
            At {
                method: "get",
                path: &collection,
                id: format!("list{name}"),
                summary: format!("List {} records, by key", kind.what),
                tag: "records",
            },
            Op {
                params: vec![
                    slug(),
                    query_param(
                        "after",
                        false,
                        "The `next` of the previous page",
                        string(),
                    ),
                    query_param(
                        "limit",
                        false,
                        "How many, 1 to 1000 (100)",
                        json!({ "type": "integer", "minimum": 1, "maximum": 1000 }),
                    ),
                ],
                ok: vec![(
                    200,
                    "a page of records".into(),
                    Some(json_content(json!({
                        "type": "object",
                        "required": ["items", "next", "total"],
                        "properties": {
                            "items": { "type": "array", "items": item.clone() },
                            "next": { "type": ["string", "null"], "description": "Pass as `after` for the next page" },
                            "total": { "type": "integer" }
                        }
                    }))),
                )],
                errors: ORG.to_vec(),
                ..Op::default()
            },
        );
        d.add(
            At {
                method: "post",
                path: &collection,
                id: format!("create{name}"),
                summary: format!("Create a {} record", kind.what),
                tag: "records",
            },
            Op {
                params: vec![slug()],
                body: Some(json_body(json!({
                    "type": "object",
                    "required": ["record"],
                    "additionalProperties": false,
                    "properties": { "record": record.clone() }
                }))),
                ok: vec![(201, "created".into(), Some(json_content(saved.clone())))],
                errors: vec![401, 403, 409, 422],
                ..Op::default()
            },
        );
        d.add(
            At {
                method: "get",
                path: &one,
                id: format!("get{name}"),
                summary: format!("Read one {} record", kind.what),
                tag: "records",
            },
            Op {
                params: vec![slug(), key.clone()],
                ok: vec![(200, "the record".into(), Some(json_content(item.clone())))],
                errors: vec![401, 403, 404, 422],
                ..Op::default()
            },
        );
        d.add(
            At {
                method: "put",
                path: &one,
                id: format!("update{name}"),
                summary: format!(
                    "Replace a {} record; refused with 409 if it changed since the version given",
                    kind.what
                ),
                tag: "records",
            },
            Op {
                params: vec![slug(), key.clone()],
                body: Some(json_body(json!({
                    "type": "object",
                    "required": ["version", "record"],
                    "additionalProperties": false,
                    "properties": { "version": integer(), "record": record }
                }))),
                ok: vec![(200, "the new version".into(), Some(json_content(saved)))],
                errors: vec![401, 403, 404, 409, 422],
                ..Op::default()
            },
        );
        d.add(
            At {
                method: "delete",
                path: &one,
                id: format!("delete{name}"),
                summary: format!(
                    "Delete a {} record and its evidence; refused with 409 if it changed since the version given",
                    kind.what
                ),
                tag: "records",
            },
            Op {
                params: vec![
                    slug(),
                    key.clone(),
                    query_param("version", true, "The version last read", integer()),
                ],
                ok: vec![(204, "deleted".into(), None)],
                errors: vec![401, 403, 404, 409, 422],
                ..Op::default()
            },
        );
        let files = format!("{one}/evidence");
        d.add(
            At {
                method: "get",
                path: &files,
                id: format!("listEvidence{name}"),
                summary: format!("The evidence files of a {} record", kind.what),
                tag: "evidence",
            },
            Op {
                params: vec![slug(), key.clone()],
                ok: vec![(
                    200,
                    "the files".into(),
                    Some(json_content(evidence_list.clone())),
                )],
                errors: ORG.to_vec(),
                ..Op::default()
            },
        );
        d.add(
            At {
                method: "post",
                path: &files,
                id: format!("attachEvidence{name}"),
                summary: format!(
                    "Attach an evidence file to a {} record: the request body is the file",
                    kind.what
                ),
                tag: "evidence",
            },
            Op {
                params: vec![
                    slug(),
                    key,
                    query_param("name", true, "The file's name", file_name()),
                ],
                body: Some(json!({
                    "required": true,
                    "content": { "application/octet-stream": { "schema": { "type": "string", "format": "binary" } } }
                })),
                ok: vec![(
                    201,
                    "attached".into(),
                    Some(json_content(evidence.clone())),
                )],
                errors: vec![401, 403, 404, 413, 422],
                ..Op::default()
            },
        );
    }
    let id = path_param("id", "The evidence file's id", integer());
    d.add(
        At {
            method: "get",
            path: "/api/v1/orgs/{slug}/evidence/{id}",
            id: "downloadEvidence".into(),
            summary: "Download an evidence file".into(),
            tag: "evidence",
        },
        Op {
            params: vec![slug(), id.clone()],
            ok: vec![(
                200,
                "the file, as an attachment".into(),
                Some(json!({ "application/octet-stream": { "schema": { "type": "string", "format": "binary" } } })),
            )],
            errors: vec![401, 403, 404, 422],
            ..Op::default()
        },
    );
    d.add(
        At {
            method: "delete",
            path: "/api/v1/orgs/{slug}/evidence/{id}",
            id: "deleteEvidence".into(),
            summary: "Remove an evidence file".into(),
            tag: "evidence",
        },
        Op {
            params: vec![slug(), id],
            ok: vec![(204, "removed".into(), None)],
            errors: vec![401, 403, 404, 422],
            ..Op::default()
        },
    );
    let summary = d.schema::<TicketImportSummary>();
    d.add(
        At {
            method: "post",
            path: "/api/v1/orgs/{slug}/imports/tickets",
            id: "importTickets".into(),
            summary: "Import an ITSM export (ServiceNow, Jira, GLPI, iTop, CSV): the request body is the file".into(),
            tag: "records",
        },
        Op {
            params: vec![
                slug(),
                query_param(
                    "name",
                    true,
                    "The file's name; its extension tells the format",
                    file_name(),
                ),
                query_param(
                    "from",
                    false,
                    "The tool that wrote it; recognised when left out",
                    json!({ "type": "string", "enum": ["servicenow", "jira", "glpi", "itop", "csv"] }),
                ),
                query_param(
                    "kind",
                    false,
                    "The kind of ticket; recognised when left out",
                    json!({ "type": "string", "enum": ["incidents", "requests", "problems", "changes", "releases", "cis", "slas"] }),
                ),
            ],
            body: Some(json!({
                "required": true,
                "content": { "application/octet-stream": { "schema": { "type": "string", "format": "binary" } } }
            })),
            ok: vec![(200, "what the import did".into(), Some(json_content(summary)))],
            errors: vec![401, 403, 413, 422],
            ..Op::default()
        },
    );

    nonconformities(d, nc_saved.expect("nonconformities are a kind of record"));
    audits::add(d);

    let mut schemas = doc.generator.take_definitions(true);
    for (name, schema) in doc.records.take_definitions(true) {
        if let Some(other) = schemas.get(&name) {
            assert_eq!(*other, schema, "two schemas named {name}");
        }
        schemas.insert(name, schema);
    }
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "iso20k team server",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "An IT service provider's ISO/IEC 20000-1 records, their evidence, audit trail and readiness. Authenticate with the session cookie from POST /api/v1/session (and send its csrf_token in X-CSRF-Token with every change) or with an API token as Authorization: Bearer TOKEN."
        },
        "paths": doc.paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {
                "token": { "type": "http", "scheme": "bearer", "description": "An API token from POST /api/v1/tokens or `iso20k token create`" },
                "session": { "type": "apiKey", "in": "cookie", "name": crate::auth::SESSION_COOKIE }
            }
        },
        "security": [{ "token": [] }, { "session": [] }]
    })
}

/// `management-reviews` → `ManagementReviews`, for operation ids.
fn camel(name: &str) -> String {
    name.split('-')
        .map(|w| {
            let mut c = w.chars();
            c.next()
                .map(|f| f.to_uppercase().collect::<String>() + c.as_str())
                .unwrap_or_default()
        })
        .collect()
}

/// The nonconformity loop's routes (`nc.rs`); `saved` is a nonconformity as a write answers it.
fn nonconformities(d: &mut Doc, saved: Value) {
    let board = d.schema::<crate::nc::Board>();
    let raise = d.schema::<crate::nc::Raise>();
    let close = d.schema::<crate::nc::CloseBody>();
    let grade = d.schema::<crate::nc::GradeFilter>();
    d.add(
        At {
            method: "get",
            path: "/api/v1/orgs/{slug}/nonconformities/board",
            id: "nonconformityBoard".into(),
            summary: "Every nonconformity as a card of the board: its step in the loop, response \
                      due date and whether it is late, owner, grade and source; open ones first, \
                      overdue before the rest"
                .into(),
            tag: "nonconformities",
        },
        Op {
            params: vec![
                slug(),
                query_param("grade", false, "Only this grade", grade),
                query_param(
                    "owner",
                    false,
                    "Only those this person (an id of the people register) answers",
                    string(),
                ),
                query_param(
                    "overdue",
                    false,
                    "Only the overdue ones (true) or only the others (false)",
                    json!({ "type": "boolean" }),
                ),
                query_param(
                    "as_of",
                    false,
                    "Judge lateness as of this day; the organisation's day when left out",
                    json!({ "type": "string", "format": "date" }),
                ),
            ],
            ok: vec![(200, "the board".into(), Some(json_content(board)))],
            errors: ORG.to_vec(),
            ..Op::default()
        },
    );
    d.add(
        At {
            method: "post",
            path: "/api/v1/orgs/{slug}/nonconformities/raise",
            id: "raiseNonconformity".into(),
            summary: "Raise a nonconformity from an audit finding, a complaint, an incident or a \
                      management review: the next free id NC-YEAR-NN, prefilled from the source; an \
                      audit finding gets the new id in the same transaction. 409 for a finding \
                      that has one already, 422 for an observation"
                .into(),
            tag: "nonconformities",
        },
        Op {
            params: vec![slug()],
            body: Some(json_body(raise)),
            ok: vec![(
                201,
                "the new nonconformity".into(),
                Some(json_content(saved.clone())),
            )],
            errors: vec![401, 403, 404, 409, 422],
            ..Op::default()
        },
    );
    d.add(
        At {
            method: "post",
            path: "/api/v1/orgs/{slug}/nonconformities/{id}/close",
            id: "closeNonconformity".into(),
            summary: "Close a nonconformity (auditors and admins): refused with 409 and the \
                      reasons while its root cause, actions or effectiveness check are missing"
                .into(),
            tag: "nonconformities",
        },
        Op {
            params: vec![slug(), path_param("id", "The nonconformity's id", string())],
            body: Some(json!({ "required": false, "content": json_content(close) })),
            ok: vec![(
                200,
                "the closed nonconformity".into(),
                Some(json_content(saved)),
            )],
            errors: vec![401, 403, 404, 409, 422],
            ..Op::default()
        },
    );
}
