//! The team server, driven through its HTTP routes in process, on SQLite and (when
//! `ISO20K_TEST_POSTGRES` is set) PostgreSQL.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, Method, Request, StatusCode, header};
use http_body_util::BodyExt as _;
use iso20k_bundle::Bundle;
use iso20k_bundle::records::KINDS;
use iso20k_server::{App, Config, auth};
use iso20k_store::testing::{TestDb, engines};
use iso20k_store::{Org, Store, Write};
use serde_json::{Value, json};
use tower::ServiceExt as _;

mod sso;

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn demo() -> Bundle {
    Bundle::read(&workspace().join("examples/demo")).unwrap()
}

/// How a request proves who it is.
#[derive(Clone, Debug)]
enum Cred {
    None,
    Token(String),
    Cookie {
        cookie: String,
        csrf: Option<String>,
    },
}

/// A response, read whole.
struct Reply {
    status: StatusCode,
    headers: HeaderMap,
    body: Bytes,
}

impl Reply {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

async fn call(
    router: &Router,
    method: Method,
    uri: &str,
    cred: &Cred,
    body: Option<Value>,
) -> Reply {
    send(
        router,
        method,
        uri,
        cred,
        body.map(|b| ("application/json", b.to_string().into_bytes())),
        &[],
    )
    .await
}

async fn send(
    router: &Router,
    method: Method,
    uri: &str,
    cred: &Cred,
    body: Option<(&str, Vec<u8>)>,
    extra: &[(&str, &str)],
) -> Reply {
    let mut request = Request::builder().method(method).uri(uri);
    match cred {
        Cred::None => {}
        Cred::Token(t) => request = request.header(header::AUTHORIZATION, format!("Bearer {t}")),
        Cred::Cookie { cookie, csrf } => {
            request = request.header(header::COOKIE, format!("{}={cookie}", auth::SESSION_COOKIE));
            if let Some(csrf) = csrf {
                request = request.header(auth::CSRF_HEADER, csrf);
            }
        }
    }
    for (k, v) in extra {
        request = request.header(*k, *v);
    }
    let request = match body {
        Some((content_type, bytes)) => request
            .header(header::CONTENT_TYPE, content_type)
            .body(Body::from(bytes)),
        None => request.body(Body::empty()),
    }
    .unwrap();
    let response = router.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    Reply {
        status,
        headers,
        body,
    }
}

/// A server on one engine with the demo organisation loaded and a member of every kind.
struct Fixture {
    db: TestDb,
    router: Router,
    org: Org,
    /// Tokens by who holds them: admin, manager, auditor, viewer, external, outsider.
    tokens: Vec<(&'static str, String)>,
}

/// How many incidents the fixture's organisation holds.
async fn incidents(f: &Fixture) -> i64 {
    f.store()
        .kinds(f.org.id)
        .await
        .unwrap()
        .into_iter()
        .find(|(k, _)| k == "incidents")
        .map_or(0, |(_, n)| n)
}

impl Fixture {
    fn store(&self) -> &dyn Store {
        &self.db.store
    }

    fn token(&self, who: &str) -> Cred {
        Cred::Token(
            self.tokens
                .iter()
                .find(|t| t.0 == who)
                .unwrap_or_else(|| panic!("no {who}"))
                .1
                .clone(),
        )
    }
}

const PEOPLE: [&str; 6] = [
    "admin", "manager", "auditor", "viewer", "external", "outsider",
];

async fn fixtures(config: Config) -> Vec<Fixture> {
    let mut out = Vec::new();
    for db in engines().await {
        let store: &dyn Store = &db.store;
        let org = store
            .create_org("acme", "Acme Managed Services")
            .await
            .unwrap();
        let other = store.create_org("globex", "Globex").await.unwrap();
        iso20k_server::load::import(store, &org, &demo(), "test")
            .await
            .unwrap();
        let org = store.org("acme").await.unwrap().unwrap();
        let mut tokens = Vec::new();
        let later = iso20k_store::format_time(
            jiff::Timestamp::now() + jiff::SignedDuration::from_hours(48),
        );
        for who in PEOPLE {
            let user = store
                .create_user(&format!("{who}@acme.example"), who, None)
                .await
                .unwrap();
            match who {
                "outsider" => {
                    store
                        .set_membership(other.id, user.id, "admin", None)
                        .await
                        .unwrap();
                }
                "external" => {
                    store
                        .set_membership(org.id, user.id, "auditor", Some(&later))
                        .await
                        .unwrap();
                }
                role => {
                    store
                        .set_membership(org.id, user.id, role, None)
                        .await
                        .unwrap();
                }
            }
            let token = auth::new_token();
            store
                .create_token(user.id, "tests", &auth::digest(&token), None)
                .await
                .unwrap();
            tokens.push((who, token));
        }
        let app = App::new(
            Arc::new(iso20k_store::open(&db.url).await.unwrap()),
            config.clone(),
        );
        out.push(Fixture {
            router: app.router(),
            db,
            org,
            tokens,
        });
    }
    out
}

fn quiet() -> Config {
    // Background refreshes would race the assertions about what the cache holds.
    Config {
        refresh_in_background: false,
        ..Config::default()
    }
}

/// Percent-encodes a key for a path segment.
fn enc(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

async fn first(f: &Fixture, kind: &str) -> iso20k_store::Record {
    f.store()
        .records(f.org.id, kind, None, 1)
        .await
        .unwrap()
        .into_iter()
        .next()
        .unwrap_or_else(|| panic!("the demo has no {kind}"))
}

// ---------------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readiness_is_the_report_of_iso20k_check_and_follows_changes() {
    let sms = iso20k_bundle::read(&workspace().join("examples/demo")).unwrap();
    let as_of: iso20k_core::Date = "2026-06-30".parse().unwrap();
    let want = iso20k_report::json::render(&iso20k_core::audit::audit(
        &sms,
        iso20k_core::audit::Options {
            edition: sms.edition(),
            as_of,
        },
    ));
    for f in fixtures(quiet()).await {
        let viewer = f.token("viewer");
        let url = "/api/v1/orgs/acme/readiness?edition=2018&as_of=2026-06-30";
        let r = call(&f.router, Method::GET, url, &viewer, None).await;
        assert_eq!(r.status, StatusCode::OK, "{}: {}", f.db.label, r.text());
        assert_eq!(r.text(), want, "{}", f.db.label);
        let revision = f.store().revision(f.org.id).await.unwrap();
        let cached = f
            .store()
            .cached_readiness(f.org.id, "2018", "2026-06-30")
            .await
            .unwrap();
        assert_eq!(cached.map(|c| c.0), Some(revision), "{}", f.db.label);

        // The 2011 edition is a different report of the same records.
        let r2011 = call(
            &f.router,
            Method::GET,
            "/api/v1/orgs/acme/readiness?edition=2011&as_of=2026-06-30",
            &viewer,
            None,
        )
        .await;
        assert_eq!(r2011.json()["edition"], "2011");

        // A change to the records shows in the next report.
        let manager = f.token("manager");
        let policy = first(&f, "policy").await;
        let mut body: Value = serde_json::from_str(&policy.body).unwrap();
        body["approved_by"] = json!("h.strand");
        body["approved_on"] = json!("2026-01-10");
        let put = call(
            &f.router,
            Method::PUT,
            "/api/v1/orgs/acme/records/policy/policy",
            &manager,
            Some(json!({ "version": policy.version, "record": body })),
        )
        .await;
        assert_eq!(put.status, StatusCode::OK, "{}", put.text());
        let after = call(&f.router, Method::GET, url, &viewer, None)
            .await
            .json();
        let fired = |report: &Value, check: &str| {
            report["findings"]
                .as_array()
                .unwrap()
                .iter()
                .any(|x| x["check"] == check)
        };
        let before: Value = serde_json::from_str(&want).unwrap();
        assert!(fired(&before, "policy-missing"));
        assert!(!fired(&after, "policy-missing"), "{}", f.db.label);

        // Bad parameters name themselves.
        let bad = call(
            &f.router,
            Method::GET,
            "/api/v1/orgs/acme/readiness?as_of=30/06/2026",
            &viewer,
            None,
        )
        .await;
        assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(bad.json()["fields"][0]["field"], "as_of");

        // A day centuries away is refused at once rather than computed for ever.
        for url in [
            "/api/v1/orgs/acme/readiness?as_of=9999-12-31",
            "/api/v1/orgs/acme/reports/md?as_of=9999-12-31",
        ] {
            let far = call(&f.router, Method::GET, url, &viewer, None).await;
            assert_eq!(far.status, StatusCode::UNPROCESSABLE_ENTITY, "{url}");
            assert_eq!(far.json()["fields"][0]["field"], "as_of");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plan_entries_are_records_and_the_readiness_carries_their_owner_due_and_status() {
    for f in fixtures(quiet()).await {
        let manager = f.token("manager");
        let viewer = f.token("viewer");
        let url = "/api/v1/orgs/acme/readiness?edition=2018&as_of=2026-06-30";
        let finding = |report: &Value, id: &str| {
            report["findings"]
                .as_array()
                .unwrap()
                .iter()
                .find(|x| x["id"] == id)
                .cloned()
                .unwrap_or_else(|| panic!("no finding {id}"))
        };
        // The demo's plan came in with the bundle, one record per finding.
        let stored = first(&f, "plan").await;
        assert!(!stored.key.is_empty());
        let before = call(&f.router, Method::GET, url, &viewer, None)
            .await
            .json();
        let policy = finding(&before, "policy-missing");
        assert_eq!(
            (&policy["owner"], &policy["due"], &policy["status"]),
            (
                &json!("h.strand"),
                &json!("2026-08-14"),
                &json!("in-progress")
            ),
            "{}",
            f.db.label
        );
        let sla = finding(&before, "sla-review-overdue");
        assert_eq!(
            (&sla["owner"], &sla["status"]),
            (&json!("p.raval"), &json!("open"))
        );

        // A risk accepted without an approver is refused, naming the field.
        let refused = call(
            &f.router,
            Method::POST,
            "/api/v1/orgs/acme/records/plan",
            &manager,
            Some(json!({ "record": {
                "finding": "sla-review-overdue", "status": "risk-accepted", "reason": "r"
            }})),
        )
        .await;
        assert_eq!(
            refused.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{}",
            refused.text()
        );
        assert!(refused.text().contains("approved_by"), "{}", refused.text());

        // A new entry shows in the next report.
        let made = call(
            &f.router,
            Method::POST,
            "/api/v1/orgs/acme/records/plan",
            &manager,
            Some(json!({ "record": {
                "finding": "sla-review-overdue", "owner": "i.moreau", "due": "2026-08-31",
                "status": "in-progress"
            }})),
        )
        .await;
        assert_eq!(made.status, StatusCode::CREATED, "{}", made.text());
        let after = call(&f.router, Method::GET, url, &viewer, None)
            .await
            .json();
        let sla = finding(&after, "sla-review-overdue");
        assert_eq!(
            (
                &sla["owner"],
                &sla["owner_from"],
                &sla["due"],
                &sla["status"]
            ),
            (
                &json!("i.moreau"),
                &json!("plan"),
                &json!("2026-08-31"),
                &json!("in-progress")
            ),
            "{}",
            f.db.label
        );
        assert_eq!(
            after["readiness"]["overall"], before["readiness"]["overall"],
            "a plan changes no score"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn saving_a_dangling_reference_keeps_the_record_and_warns_on_its_field() {
    for f in fixtures(quiet()).await {
        let manager = f.token("manager");
        let url = "/api/v1/orgs/acme/readiness?edition=2018&as_of=2026-06-30";
        let fired = |report: &Value, check: &str| {
            report["findings"]
                .as_array()
                .unwrap()
                .iter()
                .any(|x| x["check"] == check)
        };
        let put = |approver: &'static str| {
            let f = &f;
            let manager = manager.clone();
            async move {
                let policy = first(f, "policy").await;
                let mut body: Value = serde_json::from_str(&policy.body).unwrap();
                body["approved_by"] = json!(approver);
                body["approved_on"] = json!("2026-01-10");
                call(
                    &f.router,
                    Method::PUT,
                    "/api/v1/orgs/acme/records/policy/policy",
                    &manager,
                    Some(json!({ "version": policy.version, "record": body })),
                )
                .await
            }
        };

        // Someone not in the people register: kept, with a warning on the field.
        let r = put("helena").await;
        assert_eq!(r.status, StatusCode::OK, "{}: {}", f.db.label, r.text());
        let saved = r.json();
        assert_eq!(saved["record"]["approved_by"], "helena");
        assert_eq!(saved["kind"], "policy");
        assert_eq!(
            saved["warnings"],
            json!([{
                "field": "approved_by",
                "message": "names person helena, which is not in the people register"
            }]),
            "{}",
            f.db.label
        );
        let report = call(&f.router, Method::GET, url, &manager, None)
            .await
            .json();
        assert!(fired(&report, "policy-missing"), "{}", f.db.label);
        let unresolved: Vec<&Value> = report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|x| x["check"] == "reference-unresolved")
            .collect();
        assert!(
            unresolved.iter().any(|x| x.to_string().contains("helena")),
            "{}: {unresolved:?}",
            f.db.label
        );

        // The real managing director: nothing to warn of, and the policy is approved.
        let r = put("h.strand").await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
        assert_eq!(r.json()["warnings"], json!([]), "{}", f.db.label);
        let report = call(&f.router, Method::GET, url, &manager, None)
            .await
            .json();
        assert!(!fired(&report, "policy-missing"), "{}", f.db.label);
        assert!(
            !report.to_string().contains("helena"),
            "{}: the old value is forgotten",
            f.db.label
        );

        // A create answers its warnings too; a read does not carry them.
        let created = call(
            &f.router,
            Method::POST,
            "/api/v1/orgs/acme/records/risks",
            &manager,
            Some(json!({ "record": {
                "id": "R-WARN", "title": "Owner unknown", "owner": "nobody"
            }})),
        )
        .await;
        assert_eq!(created.status, StatusCode::CREATED, "{}", created.text());
        assert_eq!(created.json()["warnings"][0]["field"], "owner");
        let read = call(
            &f.router,
            Method::GET,
            "/api/v1/orgs/acme/records/risks/R-WARN",
            &manager,
            None,
        )
        .await
        .json();
        assert!(read.get("warnings").is_none(), "{read}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_policy_form_picks_its_approver_from_the_people_and_warns_beside_the_field() {
    for f in fixtures(quiet()).await {
        let r = &f.router;
        let hash = auth::hash_password("correct horse battery").unwrap();
        let user = f
            .store()
            .create_user("pat@acme.example", "", Some(&hash))
            .await
            .unwrap();
        f.store()
            .set_membership(f.org.id, user.id, "manager", None)
            .await
            .unwrap();
        let pat = browser_sign_in(r, "pat@acme.example", "correct horse battery").await;

        // A select of the people register, each by name and role, with an empty choice.
        let form = page(r, "/orgs/acme/records/policy/policy", &pat).await;
        assert_eq!(form.status, StatusCode::OK);
        let html = form.html();
        let select = html
            .split(r#"<select id="f-approved_by" name="approved_by""#)
            .nth(1)
            .unwrap_or_else(|| panic!("{}: no select for approved_by: {html}", f.db.label));
        let select = &select[..select.find("</select>").unwrap()];
        assert!(select.contains(r#"<option value="" selected>"#), "{select}");
        assert!(
            select.contains(r#"<option value="h.strand">h.strand — Helena Strand"#),
            "{select}"
        );
        assert!(!select.contains("helena"), "{select}");

        // Posting the form as drawn, with an approver who is not in the register.
        let policy = first(&f, "policy").await;
        let body: Value = serde_json::from_str(&policy.body).unwrap();
        let csrf = csrf_of(&html);
        let version = policy.version.to_string();
        let mut pairs: Vec<(String, String)> =
            vec![("csrf".into(), csrf.clone()), ("_version".into(), version)];
        for (k, v) in body.as_object().unwrap() {
            match v {
                Value::Array(items) => {
                    for i in items {
                        pairs.push((k.clone(), i.as_str().unwrap().to_owned()));
                    }
                }
                Value::String(s) => pairs.push((k.clone(), s.clone())),
                other => pairs.push((k.clone(), other.to_string())),
            }
        }
        pairs.push(("approved_by".into(), "helena".into()));
        let borrowed: Vec<(&str, &str)> = pairs
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let saved = post_form(r, "/orgs/acme/records/policy/policy", Some(&pat), &borrowed).await;
        assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.html());
        let location = saved.headers[header::LOCATION].to_str().unwrap().to_owned();
        assert_eq!(location, "/orgs/acme/records/policy/policy?saved=1");
        let stored: Value = serde_json::from_str(&first(&f, "policy").await.body).unwrap();
        assert_eq!(stored["approved_by"], "helena", "{}", f.db.label);
        let mut unchanged = body.clone();
        unchanged["approved_by"] = json!("helena");
        assert_eq!(stored, unchanged, "the form round-trips every other field");

        // The record page says so at the top and beside the field, and keeps the value.
        let shown = page(r, &location, &pat).await;
        let html = shown.html();
        assert!(
            html.contains("Saved. 1 reference does not resolve: Approved by names person helena, which is not in the people register."),
            "{html}"
        );
        let beside = r#"<p class="field-warning warning" id="f-approved_by-warning" role="status">Names person helena, which is not in the people register</p>"#;
        assert!(html.contains(beside), "{}: {html}", f.db.label);
        let select = html
            .split(r#"<select id="f-approved_by" name="approved_by""#)
            .nth(1)
            .unwrap();
        let select = &select[..select.find("</select>").unwrap()];
        assert!(select.contains("f-approved_by-warning"), "described by it");
        assert!(
            select.contains(
                r#"<option value="helena" selected>helena (not in the register)</option>"#
            ),
            "{select}"
        );

        // Picking Helena Strand from the list clears it.
        let fresh = first(&f, "policy").await;
        let mut pairs: Vec<(String, String)> = pairs
            .into_iter()
            .filter(|(k, _)| k != "approved_by" && k != "_version")
            .collect();
        pairs.push(("_version".into(), fresh.version.to_string()));
        pairs.push(("approved_by".into(), "h.strand".into()));
        let borrowed: Vec<(&str, &str)> = pairs
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let saved = post_form(r, "/orgs/acme/records/policy/policy", Some(&pat), &borrowed).await;
        assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.html());
        let html = page(r, "/orgs/acme/records/policy/policy?saved=1", &pat)
            .await
            .html();
        assert!(html.contains("Saved. The readiness score"), "{html}");
        assert!(!html.contains("field-warning"), "{html}");
        assert!(
            html.contains(r#"<option value="h.strand" selected>h.strand — Helena Strand"#),
            "{html}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bundle_to_server_to_bundle_is_lossless() {
    for f in fixtures(quiet()).await {
        let out = tempfile::tempdir().unwrap();
        let dir = out.path().join("exported");
        iso20k_server::load::export_to(f.store(), &f.org, &dir)
            .await
            .unwrap();
        let again = Bundle::read(&dir).unwrap_or_else(|e| panic!("{}: {e}", f.db.label));
        let sorted = |b: &Bundle| {
            let mut v: Vec<_> = b
                .records()
                .into_iter()
                .map(|r| (r.kind.name, r.key, r.body))
                .collect();
            v.sort();
            v
        };
        assert_eq!(sorted(&demo()), sorted(&again), "{}", f.db.label);
        assert_eq!(
            format!("{:?}", demo().into_sms()),
            format!("{:?}", again.into_sms()),
            "{}",
            f.db.label
        );
        // Importing what was exported changes nothing.
        let summary =
            iso20k_server::load::import(f.store(), &f.org, &Bundle::read(&dir).unwrap(), "test")
                .await
                .unwrap();
        assert_eq!(
            (summary.created, summary.updated, summary.deleted),
            (0, 0, 0),
            "{}",
            f.db.label
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn records_are_versioned_checked_and_audited() {
    for f in fixtures(quiet()).await {
        let m = f.token("manager");
        let r = &f.router;
        let base = "/api/v1/orgs/acme/records/management-reviews";
        let review = json!({
            "id": "MR-T1",
            "held_on": "2026-05-04",
            "attendees": ["c.dunmore"],
            "actions": [{ "id": "MR-T1-A1", "description": "Renew the DR contract", "owner": "c.dunmore", "due": "2026-07-01" }]
        });
        let created = call(r, Method::POST, base, &m, Some(json!({ "record": review }))).await;
        assert_eq!(created.status, StatusCode::CREATED, "{}", created.text());
        assert_eq!(created.headers[header::LOCATION], format!("{base}/MR-T1"));
        let item = created.json();
        assert_eq!(
            (item["version"].as_i64(), item["updated_by"].as_str()),
            (Some(1), Some("manager@acme.example (token tests)"))
        );

        let again = call(r, Method::POST, base, &m, Some(json!({ "record": review }))).await;
        assert_eq!(again.status, StatusCode::CONFLICT);

        // Field errors name the field within the request body.
        let bad = call(
            r,
            Method::POST,
            base,
            &m,
            Some(json!({ "record": { "id": "MR-T2", "held_on": "2026-02-30" } })),
        )
        .await;
        assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(bad.json()["fields"][0]["field"], "record.held_on");
        let unknown = call(
            r,
            Method::POST,
            base,
            &m,
            Some(json!({ "record": { "id": "MR-T2", "colour": "red" } })),
        )
        .await;
        assert_eq!(unknown.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(unknown.json()["error"].as_str().unwrap().contains("colour"));
        let not_json = send(
            r,
            Method::POST,
            base,
            &m,
            Some(("application/json", b"{".to_vec())),
            &[],
        )
        .await;
        assert_eq!(not_json.status, StatusCode::UNPROCESSABLE_ENTITY);

        // An action id another review uses would make the exported file unreadable.
        let taken = first(&f, "management-reviews").await;
        let other: Value = serde_json::from_str(&taken.body).unwrap();
        if let Some(action) = other["actions"][0]["id"].as_str() {
            let clash = call(
                r,
                Method::POST,
                base,
                &m,
                Some(json!({ "record": { "id": "MR-T3", "actions": [{ "id": action, "description": "x" }] } })),
            )
            .await;
            assert_eq!(
                clash.status,
                StatusCode::UNPROCESSABLE_ENTITY,
                "{}",
                clash.text()
            );
            assert_eq!(clash.json()["fields"][0]["field"], "record.actions[0].id");
        }

        // Updates name the version they were made against; a stale one is refused.
        let mut changed = review.clone();
        changed["decisions"] = json!(["Fund the DR contract renewal"]);
        let put = call(
            r,
            Method::PUT,
            &format!("{base}/MR-T1"),
            &m,
            Some(json!({ "version": 1, "record": changed })),
        )
        .await;
        assert_eq!(put.status, StatusCode::OK, "{}", put.text());
        assert_eq!(put.json()["version"], 2);
        let stale = call(
            r,
            Method::PUT,
            &format!("{base}/MR-T1"),
            &m,
            Some(json!({ "version": 1, "record": review })),
        )
        .await;
        assert_eq!(stale.status, StatusCode::CONFLICT);
        assert_eq!(stale.json()["current_version"], 2);
        let renamed = call(
            r,
            Method::PUT,
            &format!("{base}/MR-T1"),
            &m,
            Some(json!({ "version": 2, "record": { "id": "MR-T9" } })),
        )
        .await;
        assert_eq!(renamed.status, StatusCode::UNPROCESSABLE_ENTITY);
        let missing = call(
            r,
            Method::PUT,
            &format!("{base}/MR-NONE"),
            &m,
            Some(json!({ "version": 1, "record": { "id": "MR-NONE" } })),
        )
        .await;
        assert_eq!(missing.status, StatusCode::NOT_FOUND);

        let stale_delete = call(
            r,
            Method::DELETE,
            &format!("{base}/MR-T1?version=1"),
            &m,
            None,
        )
        .await;
        assert_eq!(stale_delete.status, StatusCode::CONFLICT);
        let delete = call(
            r,
            Method::DELETE,
            &format!("{base}/MR-T1?version=2"),
            &m,
            None,
        )
        .await;
        assert_eq!(delete.status, StatusCode::NO_CONTENT);
        let gone = call(r, Method::GET, &format!("{base}/MR-T1"), &m, None).await;
        assert_eq!(gone.status, StatusCode::NOT_FOUND);

        // The audit trail has who, when and what: the whole record a delete removed, the
        // fields an update changed.
        let trail = call(
            r,
            Method::GET,
            "/api/v1/orgs/acme/changes?kind=management-reviews&key=MR-T1",
            &f.token("viewer"),
            None,
        )
        .await
        .json();
        let items = trail["items"].as_array().unwrap();
        let actions: Vec<&str> = items
            .iter()
            .map(|c| c["action"].as_str().unwrap())
            .collect();
        assert_eq!(actions, ["delete", "update", "create"], "{}", f.db.label);
        assert!(items[0]["after"].is_null());
        assert_eq!(
            items[0]["before"]["decisions"][0],
            "Fund the DR contract renewal"
        );
        assert!(items[1]["before"].is_null() && items[1]["after"].is_null());
        assert_eq!(
            items[1]["changed"]["decisions"]["to"][0],
            "Fund the DR contract renewal"
        );
        assert!(items[1]["changed"]["decisions"].get("from").is_none());
        assert!(
            items[1]["changed"].get("id").is_none(),
            "unchanged fields are left out"
        );
        assert_eq!(items[2]["after"]["id"], "MR-T1");
        assert!(items[2]["before"].is_null());
        // Each entry chained to the one before: places count down, hashes differ.
        let seqs: Vec<i64> = items.iter().map(|c| c["seq"].as_i64().unwrap()).collect();
        assert!(seqs[0] > seqs[1] && seqs[1] > seqs[2], "{seqs:?}");
        assert_eq!(items[0]["hash"].as_str().unwrap().len(), 64);
        assert!(
            items
                .iter()
                .all(|c| c["actor"] == "manager@acme.example (token tests)"
                    && c["at"].as_str().unwrap().ends_with('Z'))
        );

        // Keys with a slash travel percent-encoded.
        let raci = first(&f, "raci").await;
        assert!(raci.key.contains('/'));
        let got = call(
            r,
            Method::GET,
            &format!("/api/v1/orgs/acme/records/raci/{}", enc(&raci.key)),
            &m,
            None,
        )
        .await;
        assert_eq!(got.status, StatusCode::OK, "{}", got.text());
        assert_eq!(got.json()["key"], raci.key);

        // Pages follow keys.
        let page = call(
            r,
            Method::GET,
            "/api/v1/orgs/acme/records/people?limit=3",
            &m,
            None,
        )
        .await
        .json();
        assert_eq!(page["items"].as_array().unwrap().len(), 3);
        let next = page["next"].as_str().unwrap();
        let page2 = call(
            r,
            Method::GET,
            &format!(
                "/api/v1/orgs/acme/records/people?limit=3&after={}",
                enc(next)
            ),
            &m,
            None,
        )
        .await
        .json();
        assert!(page2["items"][0]["key"].as_str().unwrap() > next);
        let over = call(
            r,
            Method::GET,
            "/api/v1/orgs/acme/records/people?limit=5000",
            &m,
            None,
        )
        .await;
        assert_eq!(over.status, StatusCode::UNPROCESSABLE_ENTITY);
        let nokind = call(
            r,
            Method::GET,
            "/api/v1/orgs/acme/records/unicorns",
            &m,
            None,
        )
        .await;
        assert_eq!(nokind.status, StatusCode::NOT_FOUND);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sessions_cookies_csrf_and_tokens() {
    for f in fixtures(quiet()).await {
        let r = &f.router;
        let hash = auth::hash_password("correct horse battery").unwrap();
        let user = f
            .store()
            .create_user("Alice@Acme.example", "Alice", Some(&hash))
            .await
            .unwrap();
        f.store()
            .set_membership(f.org.id, user.id, "manager", None)
            .await
            .unwrap();

        let wrong = call(
            r,
            Method::POST,
            "/api/v1/session",
            &Cred::None,
            Some(json!({ "email": "alice@acme.example", "password": "nope nope nope" })),
        )
        .await;
        assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
        let nobody = call(
            r,
            Method::POST,
            "/api/v1/session",
            &Cred::None,
            Some(json!({ "email": "bob@acme.example", "password": "whatever it is" })),
        )
        .await;
        assert_eq!(nobody.status, StatusCode::UNAUTHORIZED);
        assert_eq!(wrong.json()["error"], nobody.json()["error"]);

        let login = call(
            r,
            Method::POST,
            "/api/v1/session",
            &Cred::None,
            Some(json!({ "email": " ALICE@acme.example", "password": "correct horse battery" })),
        )
        .await;
        assert_eq!(login.status, StatusCode::OK, "{}", login.text());
        let set_cookie = login.headers[header::SET_COOKIE]
            .to_str()
            .unwrap()
            .to_owned();
        assert!(
            set_cookie.contains("HttpOnly")
                && set_cookie.contains("SameSite=Lax")
                && !set_cookie.contains("Secure"),
            "{set_cookie}"
        );
        let cookie = set_cookie
            .split(';')
            .next()
            .unwrap()
            .split_once('=')
            .unwrap()
            .1
            .to_owned();
        let info = login.json();
        let csrf = info["csrf_token"].as_str().unwrap().to_owned();
        assert_eq!(info["orgs"][0]["slug"], "acme");
        assert_eq!(info["orgs"][0]["role"], "manager");
        // The store keeps a hash of the cookie, never the cookie.
        assert!(f.store().session(&cookie).await.unwrap().is_none());
        assert!(
            f.store()
                .session(&auth::digest(&cookie))
                .await
                .unwrap()
                .is_some()
        );

        let behind_tls = send(
            r,
            Method::POST,
            "/api/v1/session",
            &Cred::None,
            Some((
                "application/json",
                json!({ "email": "alice@acme.example", "password": "correct horse battery" })
                    .to_string()
                    .into_bytes(),
            )),
            &[("x-forwarded-proto", "https")],
        )
        .await;
        assert!(
            behind_tls.headers[header::SET_COOKIE]
                .to_str()
                .unwrap()
                .contains("; Secure")
        );

        let session = Cred::Cookie {
            cookie: cookie.clone(),
            csrf: None,
        };
        let with_csrf = Cred::Cookie {
            cookie: cookie.clone(),
            csrf: Some(csrf.clone()),
        };
        let me = call(r, Method::GET, "/api/v1/session", &session, None).await;
        assert_eq!(me.json()["user"]["email"], "alice@acme.example");
        // Reading needs no CSRF token; changing does.
        let read = call(
            r,
            Method::GET,
            "/api/v1/orgs/acme/records/people?limit=1",
            &session,
            None,
        )
        .await;
        assert_eq!(read.status, StatusCode::OK);
        let forged = call(
            r,
            Method::POST,
            "/api/v1/tokens",
            &session,
            Some(json!({ "name": "ci" })),
        )
        .await;
        assert_eq!(forged.status, StatusCode::FORBIDDEN);
        assert!(forged.json()["error"].as_str().unwrap().contains("CSRF"));
        let wrong_csrf = Cred::Cookie {
            cookie: cookie.clone(),
            csrf: Some("guess".into()),
        };
        assert_eq!(
            call(
                r,
                Method::POST,
                "/api/v1/tokens",
                &wrong_csrf,
                Some(json!({ "name": "ci" }))
            )
            .await
            .status,
            StatusCode::FORBIDDEN
        );
        let token = call(
            r,
            Method::POST,
            "/api/v1/tokens",
            &with_csrf,
            Some(json!({ "name": "ci" })),
        )
        .await;
        assert_eq!(token.status, StatusCode::CREATED, "{}", token.text());
        let secret = token.json()["token"].as_str().unwrap().to_owned();
        assert!(secret.starts_with(auth::TOKEN_PREFIX));
        let id = token.json()["id"].as_i64().unwrap();

        // A token works without cookies or CSRF, until revoked.
        let bearer = Cred::Token(secret.clone());
        let listed = call(r, Method::GET, "/api/v1/tokens", &bearer, None)
            .await
            .json();
        assert_eq!(listed.as_array().unwrap().len(), 1);
        assert!(listed[0].get("token").is_none(), "the secret is shown once");
        let revoke = call(
            r,
            Method::DELETE,
            &format!("/api/v1/tokens/{id}"),
            &bearer,
            None,
        )
        .await;
        assert_eq!(revoke.status, StatusCode::NO_CONTENT);
        assert_eq!(
            call(r, Method::GET, "/api/v1/session", &bearer, None)
                .await
                .status,
            StatusCode::UNAUTHORIZED
        );

        let logout = call(r, Method::DELETE, "/api/v1/session", &with_csrf, None).await;
        assert_eq!(logout.status, StatusCode::NO_CONTENT);
        assert!(
            logout.headers[header::SET_COOKIE]
                .to_str()
                .unwrap()
                .contains("Max-Age=0")
        );
        let after = call(r, Method::GET, "/api/v1/session", &session, None).await;
        assert_eq!(after.status, StatusCode::UNAUTHORIZED);
        assert!(after.headers.contains_key(header::WWW_AUTHENTICATE));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_logins_are_limited_across_servers() {
    for f in fixtures(quiet()).await {
        let hash = auth::hash_password("correct horse battery").unwrap();
        f.store()
            .create_user("carol@acme.example", "Carol", Some(&hash))
            .await
            .unwrap();
        // A second server on the same database counts the same failures.
        let other = App::new(
            Arc::new(iso20k_store::open(&f.db.url).await.unwrap()),
            quiet(),
        )
        .router();
        let attempt = |router: Router, password: &'static str| async move {
            call(
                &router,
                Method::POST,
                "/api/v1/session",
                &Cred::None,
                Some(json!({ "email": "carol@acme.example", "password": password })),
            )
            .await
        };
        for i in 0..5 {
            let router = if i % 2 == 0 {
                f.router.clone()
            } else {
                other.clone()
            };
            assert_eq!(
                attempt(router, "wrong password!").await.status,
                StatusCode::UNAUTHORIZED
            );
        }
        let limited = attempt(f.router.clone(), "correct horse battery").await;
        assert_eq!(
            limited.status,
            StatusCode::TOO_MANY_REQUESTS,
            "{}",
            f.db.label
        );
        assert_eq!(limited.headers[header::RETRY_AFTER], "900");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn behind_a_proxy_failed_logins_count_per_forwarded_address() {
    let f = fixtures(Config {
        behind_proxy: true,
        ..quiet()
    })
    .await
    .remove(0);
    let attempt = |who: String, forwarded: &'static str| {
        let router = f.router.clone();
        async move {
            send(
                &router,
                Method::POST,
                "/api/v1/session",
                &Cred::None,
                Some((
                    "application/json",
                    json!({ "email": who, "password": "wrong password!" })
                        .to_string()
                        .into_bytes(),
                )),
                &[("x-forwarded-for", forwarded)],
            )
            .await
            .status
        }
    };
    // Twenty failures on twenty accounts from one address (whatever the client claimed before
    // the proxy's entry) close that address, and only that one.
    for i in 0..20 {
        let status = attempt(format!("nobody{i}@acme.example"), "10.9.9.9, 203.0.113.7").await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "attempt {i}");
    }
    assert_eq!(
        attempt("fresh@acme.example".into(), "198.51.100.1, 203.0.113.7").await,
        StatusCode::TOO_MANY_REQUESTS
    );
    assert_eq!(
        attempt("fresh@acme.example".into(), "203.0.113.7, 198.51.100.1").await,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_servers_on_one_database_see_each_others_writes() {
    for f in fixtures(quiet()).await {
        let a = &f.router;
        let b = App::new(
            Arc::new(iso20k_store::open(&f.db.url).await.unwrap()),
            quiet(),
        )
        .router();
        let m = f.token("manager");
        let risk = json!({ "id": "R-T1", "title": "Both data centres share one power feed", "owner": "c.dunmore" });
        let created = call(
            a,
            Method::POST,
            "/api/v1/orgs/acme/records/risks",
            &m,
            Some(json!({ "record": risk })),
        )
        .await;
        assert_eq!(created.status, StatusCode::CREATED);
        let seen = call(
            &b,
            Method::GET,
            "/api/v1/orgs/acme/records/risks/R-T1",
            &m,
            None,
        )
        .await;
        assert_eq!(seen.status, StatusCode::OK, "{}", f.db.label);
        assert_eq!(seen.json()["record"]["title"], risk["title"]);

        // A session opened on one server works on the other.
        let hash = auth::hash_password("correct horse battery").unwrap();
        let u = f
            .store()
            .create_user("dave@acme.example", "Dave", Some(&hash))
            .await
            .unwrap();
        f.store()
            .set_membership(f.org.id, u.id, "viewer", None)
            .await
            .unwrap();
        let login = call(
            a,
            Method::POST,
            "/api/v1/session",
            &Cred::None,
            Some(json!({ "email": "dave@acme.example", "password": "correct horse battery" })),
        )
        .await;
        let cookie = login.headers[header::SET_COOKIE]
            .to_str()
            .unwrap()
            .split(';')
            .next()
            .unwrap()
            .split_once('=')
            .unwrap()
            .1
            .to_owned();
        let me = call(
            &b,
            Method::GET,
            "/api/v1/session",
            &Cred::Cookie { cookie, csrf: None },
            None,
        )
        .await;
        assert_eq!(me.status, StatusCode::OK, "{}", f.db.label);

        // A report computed on one is current on the other until a write through either.
        let url = "/api/v1/orgs/acme/readiness?as_of=2026-06-30";
        let first = call(a, Method::GET, url, &m, None).await.text();
        assert_eq!(call(&b, Method::GET, url, &m, None).await.text(), first);
        let record = call(
            &b,
            Method::GET,
            "/api/v1/orgs/acme/records/risks/R-T1",
            &m,
            None,
        )
        .await
        .json();
        let delete = call(
            &b,
            Method::DELETE,
            &format!(
                "/api/v1/orgs/acme/records/risks/R-T1?version={}",
                record["version"]
            ),
            &m,
            None,
        )
        .await;
        assert_eq!(delete.status, StatusCode::NO_CONTENT);
        let gone = call(
            a,
            Method::GET,
            "/api/v1/orgs/acme/records/risks/R-T1",
            &m,
            None,
        )
        .await;
        assert_eq!(gone.status, StatusCode::NOT_FOUND, "{}", f.db.label);
        let revision = f.store().revision(f.org.id).await.unwrap();
        call(a, Method::GET, url, &m, None).await;
        let cached = f
            .store()
            .cached_readiness(f.org.id, "2018", "2026-06-30")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(cached.0, revision);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn evidence_is_hashed_limited_and_served_as_an_attachment() {
    let config = Config {
        max_upload: 64 * 1024,
        ..quiet()
    };
    for f in fixtures(config).await {
        let r = &f.router;
        let auditor = f.token("auditor");
        let audit = first(&f, "audits").await;
        let files = format!(
            "/api/v1/orgs/acme/records/audits/{}/evidence",
            enc(&audit.key)
        );
        let data: Vec<u8> = (0..=255u8).cycle().take(40_000).collect();
        let up = send(
            r,
            Method::POST,
            &format!("{files}?name=..%2Freports%2Faudit%20report.pdf"),
            &auditor,
            Some(("application/pdf", data.clone())),
            &[],
        )
        .await;
        assert_eq!(up.status, StatusCode::CREATED, "{}", up.text());
        let meta = up.json();
        assert_eq!(meta["name"], "audit report.pdf");
        assert_eq!(meta["size"], 40_000);
        assert_eq!(meta["media_type"], "application/pdf");
        let digest = {
            use sha2::Digest as _;
            sha2::Sha256::digest(&data)
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect::<String>()
        };
        assert_eq!(meta["sha256"], digest);

        let too_big = send(
            r,
            Method::POST,
            &format!("{files}?name=big.bin"),
            &auditor,
            Some(("application/octet-stream", vec![0u8; 70_000])),
            &[],
        )
        .await;
        assert_eq!(
            too_big.status,
            StatusCode::PAYLOAD_TOO_LARGE,
            "{}",
            too_big.text()
        );
        let no_record = send(
            r,
            Method::POST,
            "/api/v1/orgs/acme/records/audits/NOPE/evidence?name=x.txt",
            &auditor,
            Some(("text/plain", b"x".to_vec())),
            &[],
        )
        .await;
        assert_eq!(no_record.status, StatusCode::NOT_FOUND);

        let listed = call(r, Method::GET, &files, &f.token("viewer"), None)
            .await
            .json();
        assert_eq!(listed.as_array().unwrap().len(), 1);
        let id = meta["id"].as_i64().unwrap();
        let down = call(
            r,
            Method::GET,
            &format!("/api/v1/orgs/acme/evidence/{id}"),
            &f.token("external"),
            None,
        )
        .await;
        assert_eq!(down.status, StatusCode::OK);
        assert_eq!(down.body.as_ref(), data.as_slice());
        assert!(
            down.headers[header::CONTENT_DISPOSITION]
                .to_str()
                .unwrap()
                .starts_with("attachment;")
        );
        assert_eq!(down.headers[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
        assert_eq!(down.headers[header::ETAG], format!("\"{digest}\""));
        // Another organisation's admin cannot reach it.
        let outsider = call(
            r,
            Method::GET,
            &format!("/api/v1/orgs/acme/evidence/{id}"),
            &f.token("outsider"),
            None,
        )
        .await;
        assert_eq!(outsider.status, StatusCode::FORBIDDEN);
        let globex = call(
            r,
            Method::GET,
            &format!("/api/v1/orgs/globex/evidence/{id}"),
            &f.token("outsider"),
            None,
        )
        .await;
        assert_eq!(globex.status, StatusCode::NOT_FOUND);

        let trail = call(
            r,
            Method::GET,
            "/api/v1/orgs/acme/changes?limit=1",
            &auditor,
            None,
        )
        .await
        .json();
        assert_eq!(trail["items"][0]["action"], "attach");
        assert_eq!(trail["items"][0]["after"]["sha256"], digest);
        let delete = call(
            r,
            Method::DELETE,
            &format!("/api/v1/orgs/acme/evidence/{id}"),
            &auditor,
            None,
        )
        .await;
        assert_eq!(delete.status, StatusCode::NO_CONTENT);
        assert_eq!(
            call(
                r,
                Method::GET,
                &format!("/api/v1/orgs/acme/evidence/{id}"),
                &auditor,
                None
            )
            .await
            .status,
            StatusCode::NOT_FOUND
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ticket_exports_import_through_the_api() {
    let data = workspace().join("crates/iso20k-import/tests/data");
    let export = std::fs::read(data.join("servicenow/incident.csv")).unwrap();
    for f in fixtures(quiet()).await {
        let r = &f.router;
        let m = f.token("manager");
        let url = "/api/v1/orgs/acme/imports/tickets?name=incident.csv";
        let before = incidents(&f).await;
        let first = send(
            r,
            Method::POST,
            url,
            &m,
            Some(("text/csv", export.clone())),
            &[],
        )
        .await;
        assert_eq!(first.status, StatusCode::OK, "{}", first.text());
        let summary = first.json();
        assert_eq!(summary["source"], "servicenow");
        let added = summary["tables"][0]["added"].as_u64().unwrap();
        assert!(added > 0);
        assert_eq!(incidents(&f).await, before + added as i64);
        let again = send(
            r,
            Method::POST,
            url,
            &m,
            Some(("text/csv", export.clone())),
            &[],
        )
        .await
        .json();
        assert_eq!(again["tables"][0]["added"], 0);
        assert_eq!(again["tables"][0]["unchanged"], added);

        let bad = std::fs::read(data.join("malformed/incident_bad_date.csv")).unwrap();
        let revision = f.store().revision(f.org.id).await.unwrap();
        let refused = send(
            r,
            Method::POST,
            "/api/v1/orgs/acme/imports/tickets?name=incident_bad_date.csv&from=servicenow",
            &m,
            Some(("text/csv", bad)),
            &[],
        )
        .await;
        assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
        let message = refused.json()["error"].as_str().unwrap().to_owned();
        assert!(message.starts_with("incident_bad_date.csv:"), "{message}");
        assert_eq!(
            f.store().revision(f.org.id).await.unwrap(),
            revision,
            "nothing was written"
        );
        let viewer = send(
            r,
            Method::POST,
            url,
            &f.token("auditor"),
            Some(("text/csv", export.clone())),
            &[],
        )
        .await;
        assert_eq!(viewer.status, StatusCode::FORBIDDEN);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn members_admins_and_external_access() {
    for f in fixtures(quiet()).await {
        let r = &f.router;
        let admin = f.token("admin");
        let url = "/api/v1/orgs/acme/members/eve@audit.example";
        let no_password = call(
            r,
            Method::PUT,
            url,
            &admin,
            Some(json!({ "role": "viewer" })),
        )
        .await;
        assert_eq!(no_password.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(no_password.json()["fields"][0]["field"], "password");
        let past = call(r, Method::PUT, url, &admin, Some(json!({ "role": "auditor", "password": "long enough pw", "expires_at": "2020-01-01T00:00:00Z" }))).await;
        assert_eq!(past.json()["fields"][0]["field"], "expires_at");
        let until = iso20k_store::format_time(
            jiff::Timestamp::now() + jiff::SignedDuration::from_hours(24 * 21),
        );
        let put = call(r, Method::PUT, url, &admin, Some(json!({ "role": "auditor", "name": "Eve", "password": "long enough pw", "expires_at": until }))).await;
        assert_eq!(put.status, StatusCode::OK, "{}", put.text());
        assert_eq!(put.json()["expires_at"], until);
        let members = call(
            r,
            Method::GET,
            "/api/v1/orgs/acme/members",
            &f.token("viewer"),
            None,
        )
        .await
        .json();
        assert!(
            members
                .as_array()
                .unwrap()
                .iter()
                .any(|m| m["email"] == "eve@audit.example")
        );

        // The last admin cannot leave or step down.
        let me = call(
            r,
            Method::PUT,
            "/api/v1/orgs/acme/members/admin@acme.example",
            &admin,
            Some(json!({ "role": "viewer" })),
        )
        .await;
        assert_eq!(me.status, StatusCode::CONFLICT, "{}", me.text());
        let leave = call(
            r,
            Method::DELETE,
            "/api/v1/orgs/acme/members/admin@acme.example",
            &admin,
            None,
        )
        .await;
        assert_eq!(leave.status, StatusCode::CONFLICT);
        let remove = call(r, Method::DELETE, url, &admin, None).await;
        assert_eq!(remove.status, StatusCode::NO_CONTENT);

        // An expired external access is refused with a reason.
        let ext = f
            .store()
            .user_by_email("external@acme.example")
            .await
            .unwrap()
            .unwrap();
        f.store()
            .set_membership(
                f.org.id,
                ext.id,
                "auditor",
                Some("2020-01-01T00:00:00.000Z"),
            )
            .await
            .unwrap();
        let expired = call(
            r,
            Method::GET,
            "/api/v1/orgs/acme/readiness",
            &f.token("external"),
            None,
        )
        .await;
        assert_eq!(expired.status, StatusCode::FORBIDDEN);
        assert!(
            expired.json()["error"]
                .as_str()
                .unwrap()
                .contains("expired")
        );

        // Admins of one organisation may open another; others may not.
        let new = call(
            r,
            Method::POST,
            "/api/v1/orgs",
            &admin,
            Some(json!({ "slug": "initech", "name": "Initech" })),
        )
        .await;
        assert_eq!(new.status, StatusCode::CREATED, "{}", new.text());
        let bad_slug = call(
            r,
            Method::POST,
            "/api/v1/orgs",
            &admin,
            Some(json!({ "slug": "Not A Slug", "name": "X" })),
        )
        .await;
        assert_eq!(bad_slug.status, StatusCode::UNPROCESSABLE_ENTITY);
        let taken = call(
            r,
            Method::POST,
            "/api/v1/orgs",
            &admin,
            Some(json!({ "slug": "initech", "name": "Initech" })),
        )
        .await;
        assert_eq!(taken.status, StatusCode::CONFLICT);
        let manager = call(
            r,
            Method::POST,
            "/api/v1/orgs",
            &f.token("manager"),
            Some(json!({ "slug": "umbrella", "name": "Umbrella" })),
        )
        .await;
        assert_eq!(manager.status, StatusCode::FORBIDDEN);
        let orgs = call(r, Method::GET, "/api/v1/orgs", &admin, None)
            .await
            .json();
        let slugs: Vec<_> = orgs
            .as_array()
            .unwrap()
            .iter()
            .map(|o| o["slug"].as_str().unwrap().to_owned())
            .collect();
        assert_eq!(slugs, ["acme", "initech"]);
    }
}

/// What a role may do, by operation. Returns whether the call should be allowed.
fn allowed(who: &str, method: &str, template: &str, kind: Option<&str>) -> bool {
    let member = who != "outsider";
    let read_only = matches!(who, "viewer" | "external");
    let auditor_kind = matches!(kind, Some("audit-programme" | "audits" | "checklist"));
    match (method, template) {
        (
            "get",
            "/healthz" | "/api/openapi.json" | "/api/v1/session" | "/api/v1/tokens"
            | "/api/v1/orgs",
        ) => true,
        ("post" | "delete", "/api/v1/session")
        | ("post", "/api/v1/tokens")
        | ("delete", "/api/v1/tokens/{id}") => true,
        ("post", "/api/v1/orgs") => matches!(who, "admin" | "outsider"),
        ("put" | "delete", t) if t.starts_with("/api/v1/orgs/{slug}/members") => who == "admin",
        ("post", "/api/v1/orgs/{slug}/imports/tickets") => matches!(who, "admin" | "manager"),
        ("post" | "delete", t) if t.contains("evidence") => member && !read_only,
        ("post" | "put", t) if t.starts_with("/api/v1/orgs/{slug}/audit") => {
            matches!(who, "admin" | "auditor")
        }
        ("get", "/api/v1/orgs/{slug}/trail") => matches!(who, "admin" | "auditor" | "external"),
        ("get", _) => member,
        ("post", "/api/v1/orgs/{slug}/nonconformities/raise") => {
            matches!(who, "admin" | "manager" | "auditor")
        }
        // The auditor verifies and closes.
        ("post", "/api/v1/orgs/{slug}/nonconformities/{id}/close") => {
            matches!(who, "admin" | "auditor")
        }
        // The first nonconformity is closed: created again, it records an effectiveness check
        // and a closure, which only an auditor (or an admin) records.
        ("post", "/api/v1/orgs/{slug}/records/nonconformities") if who == "manager" => false,
        (_, t) if t.contains("/records/") => match who {
            "admin" => true,
            "manager" => !auditor_kind,
            "auditor" => auditor_kind || kind == Some("nonconformities"),
            _ => false,
        },
        _ => panic!("no rule for {method} {template}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_route_answers_each_role_as_its_rights_say() {
    let doc = iso20k_server::openapi_document();
    let documented: BTreeSet<(String, String)> = doc["paths"]
        .as_object()
        .unwrap()
        .iter()
        .flat_map(|(path, item)| {
            item.as_object()
                .unwrap()
                .keys()
                .map(move |m| (m.clone(), path.clone()))
        })
        .collect();
    let export =
        std::fs::read(workspace().join("crates/iso20k-import/tests/data/servicenow/problem.csv"))
            .unwrap();
    // Only SQLite: the matrix is about the server's rules, which the engine does not change,
    // and it makes about 1,500 calls.
    let f = fixtures(quiet()).await.remove(0);
    let r = &f.router;
    let mut walked: BTreeSet<(String, String)> = BTreeSet::new();
    let mut failures = Vec::new();
    for who in PEOPLE {
        let cred = f.token(who);
        let mut check = |method: &str, template: String, kind: Option<&str>, reply: &Reply| {
            let ok = reply.status.is_success();
            let want = allowed(who, method, &template, kind);
            let refused = reply.status == StatusCode::FORBIDDEN;
            if (want && !ok) || (!want && !refused) {
                failures.push(format!(
                    "{who} {method} {template}: {} {}",
                    reply.status,
                    reply.text().chars().take(160).collect::<String>()
                ));
            }
            walked.insert((method.to_owned(), template));
        };
        for (method, path) in [
            ("get", "/healthz"),
            ("get", "/api/openapi.json"),
            ("get", "/api/v1/session"),
            ("get", "/api/v1/tokens"),
            ("get", "/api/v1/orgs"),
            ("get", "/api/v1/orgs/acme"),
            ("get", "/api/v1/orgs/acme/members"),
            ("get", "/api/v1/orgs/acme/readiness?as_of=2026-06-30"),
            ("get", "/api/v1/orgs/acme/changes"),
            ("get", "/api/v1/orgs/acme/trail"),
            ("get", "/api/v1/orgs/acme/records"),
        ] {
            let reply = call(r, Method::GET, path, &cred, None).await;
            let template = path.split('?').next().unwrap().replace("/acme", "/{slug}");
            check(method, template, None, &reply);
        }
        let report = call(r, Method::GET, "/api/v1/orgs/acme/reports/md", &cred, None).await;
        check(
            "get",
            "/api/v1/orgs/{slug}/reports/{format}".into(),
            None,
            &report,
        );
        let created = call(
            r,
            Method::POST,
            "/api/v1/tokens",
            &cred,
            Some(json!({ "name": "matrix" })),
        )
        .await;
        check("post", "/api/v1/tokens".into(), None, &created);
        let id = created.json()["id"].as_i64().unwrap();
        let revoked = call(
            r,
            Method::DELETE,
            &format!("/api/v1/tokens/{id}"),
            &cred,
            None,
        )
        .await;
        check("delete", "/api/v1/tokens/{id}".into(), None, &revoked);
        let org = call(
            r,
            Method::POST,
            "/api/v1/orgs",
            &cred,
            Some(json!({ "slug": format!("new-{who}"), "name": "New" })),
        )
        .await;
        check("post", "/api/v1/orgs".into(), None, &org);
        let member = format!("/api/v1/orgs/acme/members/{who}-friend@acme.example");
        let put = call(
            r,
            Method::PUT,
            &member,
            &cred,
            Some(json!({ "role": "viewer", "password": "long enough pw" })),
        )
        .await;
        check(
            "put",
            "/api/v1/orgs/{slug}/members/{email}".into(),
            None,
            &put,
        );
        let target = if put.status.is_success() {
            member.clone()
        } else {
            "/api/v1/orgs/acme/members/viewer@acme.example".to_owned()
        };
        let delete = call(r, Method::DELETE, &target, &cred, None).await;
        check(
            "delete",
            "/api/v1/orgs/{slug}/members/{email}".into(),
            None,
            &delete,
        );
        let import = send(
            r,
            Method::POST,
            "/api/v1/orgs/acme/imports/tickets?name=problem.csv",
            &cred,
            Some(("text/csv", export.clone())),
            &[],
        )
        .await;
        check(
            "post",
            "/api/v1/orgs/{slug}/imports/tickets".into(),
            None,
            &import,
        );
        // The nonconformity loop: the board, raising one from a complaint, and closing an
        // observation of one's own (which closes freely).
        let board = call(
            r,
            Method::GET,
            "/api/v1/orgs/acme/nonconformities/board",
            &cred,
            None,
        )
        .await;
        check(
            "get",
            "/api/v1/orgs/{slug}/nonconformities/board".into(),
            None,
            &board,
        );
        let raised = call(
            r,
            Method::POST,
            "/api/v1/orgs/acme/nonconformities/raise",
            &cred,
            Some(json!({ "source": "complaint", "source_ref": "COMP-2025-007" })),
        )
        .await;
        check(
            "post",
            "/api/v1/orgs/{slug}/nonconformities/raise".into(),
            None,
            &raised,
        );
        let observation = format!("NC-OBS-{who}");
        f.store()
            .create(
                f.org.id,
                "test",
                &Write {
                    kind: "nonconformities".into(),
                    key: observation.clone(),
                    body:
                        json!({ "id": observation, "description": "seen", "grade": "observation" })
                            .to_string(),
                },
            )
            .await
            .unwrap();
        let closed = call(
            r,
            Method::POST,
            &format!("/api/v1/orgs/acme/nonconformities/{observation}/close"),
            &cred,
            None,
        )
        .await;
        check(
            "post",
            "/api/v1/orgs/{slug}/nonconformities/{id}/close".into(),
            None,
            &closed,
        );

        // The internal audit's routes: each allowed role works on an audit (and a day) of its
        // own, so that every step it takes is one the audit allows.
        let (audit, day) = match who {
            "admin" => ("IA-2026-01", ""),
            _ => ("IA-2026-02", "?as_of=2027-09-01"),
        };
        for (path, template) in [
            (
                "/api/v1/orgs/acme/audit-programme?as_of=2026-06-30".to_owned(),
                "/api/v1/orgs/{slug}/audit-programme",
            ),
            (
                "/api/v1/orgs/acme/diff?from=2026-01-01&to=2026-06-30".to_owned(),
                "/api/v1/orgs/{slug}/diff",
            ),
            (
                format!("/api/v1/orgs/acme/audits/{audit}/report"),
                "/api/v1/orgs/{slug}/audits/{id}/report",
            ),
        ] {
            let reply = call(r, Method::GET, &path, &cred, None).await;
            check("get", template.into(), None, &reply);
        }
        let at = format!("/api/v1/orgs/acme/audits/{audit}");
        for (method, path, template, body) in [
            (
                Method::POST,
                format!("{at}/status"),
                "/api/v1/orgs/{slug}/audits/{id}/status",
                json!({ "status": "in-progress", "on": "2026-06-01" }),
            ),
            (
                Method::POST,
                format!("{at}/findings"),
                "/api/v1/orgs/{slug}/audits/{id}/findings",
                json!({ "grade": "observation", "statement": "Seen." }),
            ),
        ] {
            let reply = call(r, method.clone(), &path, &cred, Some(body)).await;
            check(
                &method.as_str().to_lowercase(),
                template.into(),
                None,
                &reply,
            );
        }
        let drawn = call(
            r,
            Method::POST,
            &format!("{at}/samples"),
            &cred,
            Some(json!({ "kind": "changes", "seed": 1 })),
        )
        .await;
        check(
            "post",
            "/api/v1/orgs/{slug}/audits/{id}/samples".into(),
            None,
            &drawn,
        );
        let sample = drawn.json()["sample"]["id"]
            .as_str()
            .unwrap_or("S1")
            .to_owned();
        let item = drawn.json()["sample"]["items"][0]["id"]
            .as_str()
            .unwrap_or("CHG-X")
            .to_owned();
        let tested = call(
            r,
            Method::PUT,
            &format!("{at}/samples/{sample}/items"),
            &cred,
            Some(json!([{ "id": item, "result": "does-not-conform" }])),
        )
        .await;
        check(
            "put",
            "/api/v1/orgs/{slug}/audits/{id}/samples/{sample}/items".into(),
            None,
            &tested,
        );
        let rolled = call(
            r,
            Method::POST,
            &format!("{at}/samples/{sample}/finding"),
            &cred,
            Some(json!({})),
        )
        .await;
        check(
            "post",
            "/api/v1/orgs/{slug}/audits/{id}/samples/{sample}/finding".into(),
            None,
            &rolled,
        );
        let next = call(
            r,
            Method::POST,
            &format!("/api/v1/orgs/acme/audit-programme/next-cycle{day}"),
            &cred,
            None,
        )
        .await;
        check(
            "post",
            "/api/v1/orgs/{slug}/audit-programme/next-cycle".into(),
            None,
            &next,
        );

        for kind in KINDS {
            let collection = format!("/api/v1/orgs/{{slug}}/records/{}", kind.name);
            let one = format!("{collection}/{{key}}");
            let files = format!("{one}/evidence");
            let url = format!("/api/v1/orgs/acme/records/{}", kind.name);
            let list = call(r, Method::GET, &url, &cred, None).await;
            check("get", collection.clone(), Some(kind.name), &list);
            let record = first(&f, kind.name).await;
            let item = format!("{url}/{}", enc(&record.key));
            let get = call(r, Method::GET, &item, &cred, None).await;
            check("get", one.clone(), Some(kind.name), &get);
            let evidence = call(r, Method::GET, &format!("{item}/evidence"), &cred, None).await;
            check("get", files.clone(), Some(kind.name), &evidence);
            let up = send(
                r,
                Method::POST,
                &format!("{item}/evidence?name=note.txt"),
                &cred,
                Some(("text/plain", b"seen".to_vec())),
                &[],
            )
            .await;
            check("post", files, Some(kind.name), &up);
            if up.status.is_success() {
                let id = up.json()["id"].as_i64().unwrap();
                let down = call(
                    r,
                    Method::GET,
                    &format!("/api/v1/orgs/acme/evidence/{id}"),
                    &cred,
                    None,
                )
                .await;
                check(
                    "get",
                    "/api/v1/orgs/{slug}/evidence/{id}".into(),
                    None,
                    &down,
                );
                let gone = call(
                    r,
                    Method::DELETE,
                    &format!("/api/v1/orgs/acme/evidence/{id}"),
                    &cred,
                    None,
                )
                .await;
                check(
                    "delete",
                    "/api/v1/orgs/{slug}/evidence/{id}".into(),
                    None,
                    &gone,
                );
            } else {
                let deny = call(
                    r,
                    Method::DELETE,
                    "/api/v1/orgs/acme/evidence/1",
                    &cred,
                    None,
                )
                .await;
                check(
                    "delete",
                    "/api/v1/orgs/{slug}/evidence/{id}".into(),
                    None,
                    &deny,
                );
            }
            // Change, delete and re-create the record: allowed callers leave it as it was.
            let body: Value = serde_json::from_str(&record.body).unwrap();
            let put = call(
                r,
                Method::PUT,
                &item,
                &cred,
                Some(json!({ "version": record.version, "record": body })),
            )
            .await;
            check("put", one.clone(), Some(kind.name), &put);
            let delete = call(
                r,
                Method::DELETE,
                &format!("{item}?version={}", record.version),
                &cred,
                None,
            )
            .await;
            check("delete", one, Some(kind.name), &delete);
            let post = call(
                r,
                Method::POST,
                &url,
                &cred,
                Some(json!({ "record": body })),
            )
            .await;
            check("post", collection, Some(kind.name), &post);
        }
    }
    assert!(
        failures.is_empty(),
        "{} calls broke the rules:\n{}",
        failures.len(),
        failures.join("\n")
    );
    // Signing in and out needs a password, which these people lack: the session test walks
    // both, for everyone, and they are public.
    walked.insert(("post".into(), "/api/v1/session".into()));
    walked.insert(("delete".into(), "/api/v1/session".into()));
    let missed: Vec<_> = documented.difference(&walked).collect();
    assert!(missed.is_empty(), "documented but not walked: {missed:?}");
    let undocumented: Vec<_> = walked.difference(&documented).collect();
    assert!(
        undocumented.is_empty(),
        "walked but not documented: {undocumented:?}"
    );

    // Without credentials every operation but the public ones is 401.
    for (method, template) in &documented {
        let path = template
            .replace("{slug}", "acme")
            .replace("{key}", "x")
            .replace("{id}", "1")
            .replace("{sample}", "S1")
            .replace("{email}", "a@b.example");
        let m = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
        let reply = call(r, m, &path, &Cred::None, None).await;
        let public = matches!(template.as_str(), "/healthz" | "/api/openapi.json")
            || (template == "/api/v1/session" && method == "post");
        if !public {
            assert_eq!(
                reply.status,
                StatusCode::UNAUTHORIZED,
                "{method} {template}"
            );
            assert!(reply.json()["error"].is_string());
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn responses_match_the_openapi_document() {
    let doc = iso20k_server::openapi_document().clone();
    assert_eq!(doc["openapi"], "3.1.0");
    // Validate bodies against the document's own schemas, resolved within it.
    let validator = |schema: &Value| {
        let wrapped = json!({
            "$ref": "#/$defs/target",
            "$defs": { "target": schema },
            "components": doc["components"].clone()
        });
        jsonschema::validator_for(&wrapped).unwrap()
    };
    let response_schema = |path: &str, method: &str, status: &str| -> Value {
        doc["paths"][path][method]["responses"][status]["content"]["application/json"]["schema"]
            .clone()
    };
    let f = fixtures(quiet()).await.remove(0);
    let r = &f.router;
    let cred = f.token("admin");
    for (path, url) in [
        (
            "/api/v1/orgs/{slug}/readiness",
            "/api/v1/orgs/acme/readiness?as_of=2026-06-30".to_owned(),
        ),
        (
            "/api/v1/orgs/{slug}/records",
            "/api/v1/orgs/acme/records".to_owned(),
        ),
        (
            "/api/v1/orgs/{slug}/changes",
            "/api/v1/orgs/acme/changes?limit=5".to_owned(),
        ),
        (
            "/api/v1/orgs/{slug}/trail",
            "/api/v1/orgs/acme/trail".to_owned(),
        ),
        ("/api/v1/session", "/api/v1/session".to_owned()),
        (
            "/api/v1/orgs/{slug}/members",
            "/api/v1/orgs/acme/members".to_owned(),
        ),
        (
            "/api/v1/orgs/{slug}/audit-programme",
            "/api/v1/orgs/acme/audit-programme?as_of=2026-06-30".to_owned(),
        ),
        (
            "/api/v1/orgs/{slug}/diff",
            "/api/v1/orgs/acme/diff?from=2025-06-30&to=2026-06-30".to_owned(),
        ),
    ] {
        let reply = call(r, Method::GET, &url, &cred, None).await;
        let v = validator(&response_schema(path, "get", "200"));
        let body = reply.json();
        let errors: Vec<String> = v
            .iter_errors(&body)
            .map(|e| format!("{} at {}", e, e.instance_path()))
            .take(5)
            .collect();
        assert!(errors.is_empty(), "{path}: {errors:?}");
    }
    // Every record the demo holds, of every kind, as the list endpoint returns it.
    for kind in KINDS {
        let path = format!("/api/v1/orgs/{{slug}}/records/{}", kind.name);
        let reply = call(
            r,
            Method::GET,
            &format!("/api/v1/orgs/acme/records/{}?limit=1000", kind.name),
            &cred,
            None,
        )
        .await;
        let v = validator(&response_schema(&path, "get", "200"));
        let body = reply.json();
        let errors: Vec<String> = v
            .iter_errors(&body)
            .map(|e| format!("{} at {}", e, e.instance_path()))
            .take(5)
            .collect();
        assert!(errors.is_empty(), "{}: {errors:?}", kind.name);
    }
    // The audit routes' answers, as they change an audit.
    let audit = "/api/v1/orgs/acme/audits/IA-2026-01";
    for (method, url, path, status, body) in [
        (
            Method::POST,
            format!("{audit}/status"),
            "/api/v1/orgs/{slug}/audits/{id}/status",
            "200",
            Some(json!({ "status": "in-progress" })),
        ),
        (
            Method::POST,
            format!("{audit}/samples"),
            "/api/v1/orgs/{slug}/audits/{id}/samples",
            "201",
            Some(json!({ "kind": "incidents", "confidence": 0.9, "tdr": 0.1, "seed": 5 })),
        ),
        (
            Method::PUT,
            format!("{audit}/samples/S1/items"),
            "/api/v1/orgs/{slug}/audits/{id}/samples/{sample}/items",
            "200",
            Some(json!([])),
        ),
        (
            Method::POST,
            format!("{audit}/findings"),
            "/api/v1/orgs/{slug}/audits/{id}/findings",
            "201",
            Some(json!({ "grade": "minor", "statement": "Seen.", "sample": "S1" })),
        ),
        (
            Method::POST,
            "/api/v1/orgs/acme/audit-programme/next-cycle".to_owned(),
            "/api/v1/orgs/{slug}/audit-programme/next-cycle",
            "201",
            None,
        ),
    ] {
        let method_name = method.as_str().to_lowercase();
        let reply = call(r, method, &url, &cred, body).await;
        assert_eq!(reply.status.as_str(), status, "{url}: {}", reply.text());
        let v = validator(&response_schema(path, &method_name, status));
        let body = reply.json();
        let errors: Vec<String> = v
            .iter_errors(&body)
            .map(|e| format!("{} at {}", e, e.instance_path()))
            .take(5)
            .collect();
        assert!(errors.is_empty(), "{path}: {errors:?}");
    }
    // Errors too.
    let reply = call(
        r,
        Method::GET,
        "/api/v1/orgs/acme/readiness?edition=1999",
        &cred,
        None,
    )
    .await;
    let v = validator(
        &doc["paths"]["/api/v1/orgs/{slug}/readiness"]["get"]["responses"]["422"]["content"]["application/json"]
            ["schema"],
    );
    assert!(v.is_valid(&reply.json()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn totals_and_counts_follow_changes() {
    for f in fixtures(quiet()).await {
        let r = &f.router;
        let m = f.token("manager");
        let seen = || async {
            let page = call(
                r,
                Method::GET,
                "/api/v1/orgs/acme/records/risks?limit=1",
                &m,
                None,
            )
            .await
            .json();
            let kinds = call(r, Method::GET, "/api/v1/orgs/acme/records", &m, None)
                .await
                .json();
            let count = kinds
                .as_array()
                .unwrap()
                .iter()
                .find(|k| k["name"] == "risks")
                .unwrap()["count"]
                .as_i64()
                .unwrap();
            (page["total"].as_i64().unwrap(), count)
        };
        let (total, count) = seen().await;
        assert_eq!(total, count);
        assert!(total > 1, "{}", f.db.label);
        let risk = json!({ "id": "R-COUNT", "title": "Counted", "owner": "c.dunmore" });
        let created = call(
            r,
            Method::POST,
            "/api/v1/orgs/acme/records/risks",
            &m,
            Some(json!({ "record": risk })),
        )
        .await;
        assert_eq!(created.status, StatusCode::CREATED);
        assert_eq!(seen().await, (total + 1, total + 1), "{}", f.db.label);
        let gone = call(
            r,
            Method::DELETE,
            "/api/v1/orgs/acme/records/risks/R-COUNT?version=1",
            &m,
            None,
        )
        .await;
        assert_eq!(gone.status, StatusCode::NO_CONTENT);
        assert_eq!(seen().await, (total, total), "{}", f.db.label);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resolving_the_finding_with_the_highest_gain_raises_the_score_by_exactly_that() {
    for f in fixtures(quiet()).await {
        let r = &f.router;
        let viewer = f.token("viewer");
        let url = "/api/v1/orgs/acme/readiness?as_of=2026-06-30";
        let before = call(r, Method::GET, url, &viewer, None).await.json();
        let best = before["findings"]
            .as_array()
            .unwrap()
            .iter()
            .max_by(|a, b| {
                a["gain"]
                    .as_f64()
                    .unwrap()
                    .total_cmp(&b["gain"].as_f64().unwrap())
            })
            .unwrap()
            .clone();
        // In the demo that is the unapproved policy: approving it lifts the stage 1 cap.
        assert_eq!(best["id"], "policy-missing", "{}", f.db.label);
        assert_eq!(best["blocks"], "stage-1");
        let policy = first(&f, "policy").await;
        let mut body: Value = serde_json::from_str(&policy.body).unwrap();
        body["approved_by"] = json!("h.strand");
        let put = call(
            r,
            Method::PUT,
            "/api/v1/orgs/acme/records/policy/policy",
            &f.token("manager"),
            Some(json!({ "version": policy.version, "record": body })),
        )
        .await;
        assert_eq!(put.status, StatusCode::OK, "{}", put.text());
        let after = call(r, Method::GET, url, &viewer, None).await.json();
        let overall = |r: &Value| r["readiness"]["overall"].as_f64().unwrap();
        let rise = ((overall(&after) - overall(&before)) * 100.0).round() / 100.0;
        assert_eq!(rise, best["gain"].as_f64().unwrap(), "{}", f.db.label);
        assert!(rise > 0.0);
        assert_eq!(after["readiness"]["stage1"]["ready"], true);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_organisation_with_no_records_does_not_look_ready() {
    for f in fixtures(quiet()).await {
        let r = &f.router;
        let admin = f.token("admin");
        let new = call(
            r,
            Method::POST,
            "/api/v1/orgs",
            &admin,
            Some(json!({ "slug": "blank", "name": "Blank Ltd" })),
        )
        .await;
        assert_eq!(new.status, StatusCode::CREATED, "{}", new.text());
        let report = call(r, Method::GET, "/api/v1/orgs/blank/readiness", &admin, None)
            .await
            .json();
        let readiness = &report["readiness"];
        assert!(
            readiness["overall"].as_f64().unwrap() <= 20.0,
            "{readiness:#}"
        );
        assert_eq!(readiness["stage1"]["ready"], false);
        let coverage = &readiness["coverage"];
        assert!(coverage["assessed"].as_u64() < coverage["total"].as_u64());
        // Its dashboard says how much nobody assessed.
        let hash = auth::hash_password("correct horse battery").unwrap();
        let user = f
            .store()
            .create_user("bea@blank.example", "Bea", Some(&hash))
            .await
            .unwrap();
        let blank = f.store().org("blank").await.unwrap().unwrap();
        f.store()
            .set_membership(blank.id, user.id, "viewer", None)
            .await
            .unwrap();
        let bea = browser_sign_in(r, "bea@blank.example", "correct horse battery").await;
        let html = page(r, "/orgs/blank", &bea).await.html();
        assert!(
            html.contains(&format!(
                "<strong>{} of {}</strong> clauses assessed;",
                coverage["assessed"], coverage["total"]
            )),
            "{html}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_count_requests_and_readiness_in_prometheus_text() {
    for f in fixtures(quiet()).await {
        let r = &f.router;
        let viewer = f.token("viewer");
        let ok = call(
            r,
            Method::GET,
            "/api/v1/orgs/acme/readiness?as_of=2026-06-29",
            &viewer,
            None,
        )
        .await;
        assert_eq!(ok.status, StatusCode::OK);
        let missing = call(
            r,
            Method::GET,
            "/api/v1/orgs/acme/records/risks/NOPE",
            &viewer,
            None,
        )
        .await;
        assert_eq!(missing.status, StatusCode::NOT_FOUND);
        let metrics = call(r, Method::GET, "/metrics", &Cred::None, None).await;
        assert_eq!(metrics.status, StatusCode::OK);
        assert!(
            metrics.headers[header::CONTENT_TYPE]
                .to_str()
                .unwrap()
                .starts_with("text/plain; version=0.0.4")
        );
        let text = metrics.text();
        let value = |name: &str| -> f64 {
            text.lines()
                .find_map(|l| l.strip_prefix(name).map(|v| v.trim().parse().unwrap()))
                .unwrap_or_else(|| panic!("{name} in {text}"))
        };
        assert!(value("iso20k_http_requests_total{status=\"2xx\"}") >= 1.0);
        assert!(value("iso20k_http_requests_total{status=\"4xx\"}") >= 1.0);
        assert!(value("iso20k_http_request_duration_seconds_count") >= 2.0);
        assert!(
            value("iso20k_readiness_computed_total") >= 1.0,
            "{}",
            f.db.label
        );
        // Nothing in it names an organisation.
        assert!(!text.contains("acme"));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_control_character_anywhere_is_refused_naming_where() {
    for f in fixtures(quiet()).await {
        let r = &f.router;
        let admin = f.token("admin");
        let manager = f.token("manager");
        let refused = |reply: &Reply, field: &str, what: &str| {
            assert_eq!(
                reply.status,
                StatusCode::UNPROCESSABLE_ENTITY,
                "{what} on {}: {}",
                f.db.label,
                reply.text()
            );
            assert_eq!(
                reply.json()["fields"][0]["field"],
                field,
                "{what}: {}",
                reply.text()
            );
        };
        let org = call(
            r,
            Method::POST,
            "/api/v1/orgs",
            &admin,
            Some(json!({ "slug": "nul", "name": "Nul\0 Ltd" })),
        )
        .await;
        refused(&org, "name", "an organisation's name");
        let record = call(
            r,
            Method::POST,
            "/api/v1/orgs/acme/records/risks",
            &manager,
            Some(json!({ "record": { "id": "R-\0", "title": "t" } })),
        )
        .await;
        refused(&record, "record.id", "a record key");
        let key = call(
            r,
            Method::GET,
            "/api/v1/orgs/acme/records/risks/R%00X",
            &manager,
            None,
        )
        .await;
        refused(&key, "path", "a key in the path");
        let member = call(
            r,
            Method::PUT,
            "/api/v1/orgs/acme/members/eve%00@acme.example",
            &admin,
            Some(json!({ "role": "viewer" })),
        )
        .await;
        refused(&member, "path", "a member's e-mail");
        let token = call(
            r,
            Method::POST,
            "/api/v1/tokens",
            &admin,
            Some(json!({ "name": "ci\0" })),
        )
        .await;
        refused(&token, "name", "a token's name");
        let login = call(
            r,
            Method::POST,
            "/api/v1/session",
            &Cred::None,
            Some(json!({ "email": "a\0@acme.example", "password": "x" })),
        )
        .await;
        refused(&login, "email", "a login");
        let form = post_form(
            r,
            "/login",
            None,
            &[("email", "a\0@acme.example"), ("password", "x")],
        )
        .await;
        refused(&form, "email", "the sign-in form");
        let cursor = call(
            r,
            Method::GET,
            "/api/v1/orgs/acme/records/risks?after=%00",
            &manager,
            None,
        )
        .await;
        refused(&cursor, "after", "a cursor");
        // Line breaks and tabs in free text are fine.
        let fine = call(
            r,
            Method::POST,
            "/api/v1/orgs/acme/records/risks",
            &manager,
            Some(json!({ "record": { "id": "R-TAB", "title": "two\nlines\tand a tab", "owner": "c.dunmore" } })),
        )
        .await;
        assert_eq!(fine.status, StatusCode::CREATED, "{}", fine.text());
    }
}

/// Posts a form as a browser does.
async fn post_form(
    router: &Router,
    uri: &str,
    cookie: Option<&str>,
    pairs: &[(&str, &str)],
) -> Reply {
    let body: String = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish();
    let cred = match cookie {
        Some(c) => Cred::Cookie {
            cookie: c.to_owned(),
            csrf: None,
        },
        None => Cred::None,
    };
    send(
        router,
        Method::POST,
        uri,
        &cred,
        Some(("application/x-www-form-urlencoded", body.into_bytes())),
        &[],
    )
    .await
}

/// Signs in through the page and returns the session cookie's value.
async fn browser_sign_in(router: &Router, email: &str, password: &str) -> String {
    let reply = post_form(
        router,
        "/login",
        None,
        &[("email", email), ("password", password)],
    )
    .await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.text());
    let set = reply.headers[header::SET_COOKIE].to_str().unwrap();
    set.split(';')
        .next()
        .unwrap()
        .split_once('=')
        .unwrap()
        .1
        .to_owned()
}

impl Reply {
    /// The page with the entities the templates escape decoded, to search it as a browser sees it.
    fn html(&self) -> String {
        self.text()
            .replace("&#x2f;", "/")
            .replace("&#x27;", "'")
            .replace("&quot;", "\"")
            .replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&amp;", "&")
    }
}

/// The value of the hidden CSRF field on a page.
fn csrf_of(html: &str) -> String {
    let at = html
        .find(r#"name="csrf" value=""#)
        .expect("a form with a CSRF field")
        + 19;
    html[at..].split('"').next().unwrap().to_owned()
}

async fn page(router: &Router, uri: &str, cookie: &str) -> Reply {
    send(
        router,
        Method::GET,
        uri,
        &Cred::Cookie {
            cookie: cookie.to_owned(),
            csrf: None,
        },
        None,
        &[],
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_browser_pages_sign_in_show_readiness_and_fix_a_finding() {
    // The pages' rules are the server's, whatever the engine: SQLite is enough.
    let f = fixtures(quiet()).await.remove(0);
    let r = &f.router;
    let hash = auth::hash_password("correct horse battery").unwrap();
    for (email, role) in [
        ("pat@acme.example", "manager"),
        ("vic@acme.example", "viewer"),
        ("ada@acme.example", "auditor"),
    ] {
        let user = f.store().create_user(email, "", Some(&hash)).await.unwrap();
        f.store()
            .set_membership(f.org.id, user.id, role, None)
            .await
            .unwrap();
    }

    // Signed out, a page sends you to sign in and back.
    let away = call(r, Method::GET, "/orgs/acme", &Cred::None, None).await;
    assert_eq!(away.status, StatusCode::SEE_OTHER);
    assert_eq!(away.headers[header::LOCATION], "/login?next=%2Forgs%2Facme");
    let login = call(r, Method::GET, "/login", &Cred::None, None).await;
    let html = login.html();
    for part in [r#"name="email""#, r#"name="password""#, r#"type="submit""#] {
        assert!(html.contains(part), "{part}");
    }
    let wrong = post_form(
        r,
        "/login",
        None,
        &[
            ("email", "pat@acme.example"),
            ("password", "nope nope nope"),
        ],
    )
    .await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    assert!(wrong.html().contains("Wrong email or password"));
    let back = post_form(
        r,
        "/login",
        None,
        &[
            ("email", "pat@acme.example"),
            ("password", "correct horse battery"),
            ("next", "https://evil.example/"),
        ],
    )
    .await;
    assert_eq!(
        back.headers[header::LOCATION],
        "/orgs/acme/my",
        "never off-site: a manager lands on My work"
    );
    let pat = browser_sign_in(r, "pat@acme.example", "correct horse battery").await;

    // The dashboard shows the score the API gives.
    let as_of = "as_of=2026-06-30";
    let viewer = f.token("viewer");
    let score = || async {
        call(
            r,
            Method::GET,
            &format!("/api/v1/orgs/acme/readiness?{as_of}"),
            &viewer,
            None,
        )
        .await
        .json()["readiness"]
            .clone()
    };
    let before = score().await["overall"].as_f64().unwrap();
    let dashboard = page(r, &format!("/orgs/acme?{as_of}"), &pat).await;
    assert_eq!(dashboard.status, StatusCode::OK);
    let html = dashboard.html();
    assert!(
        html.contains(&format!(
            r#"<span id="overall">{}</span>"#,
            iso20k_core::readiness::figure(before)
        )),
        "{before}"
    );
    assert!(html.contains("/orgs/acme/findings/mr-no-top-management?as_of=2026-06-30"));
    assert!(html.contains("/api/v1/orgs/acme/reports/xlsx?edition=2018&as_of=2026-06-30"));
    let older = page(r, &format!("/orgs/acme?edition=2011&{as_of}"), &pat).await;
    assert_eq!(older.status, StatusCode::OK);
    assert!(
        older
            .html()
            .contains("/orgs/acme/clauses/4.5.4.3?edition=2011&as_of=2026-06-30"),
        "the heat map switches to the 2011 clauses"
    );
    let clause = page(r, &format!("/orgs/acme/clauses/9.3?{as_of}"), &pat).await;
    assert_eq!(clause.status, StatusCode::OK);
    assert!(clause.html().contains("What auditors look for"));
    // An unanswered checklist question links the auditor to a form with its pattern filled in.
    let ada = browser_sign_in(r, "ada@acme.example", "correct horse battery").await;
    let clause = page(r, &format!("/orgs/acme/clauses/7.1?{as_of}"), &ada)
        .await
        .html();
    let link = clause
        .split("href=\"")
        .map(|l| l.split('"').next().unwrap())
        .find(|l| l.starts_with("/orgs/acme/records/checklist/new?pattern="))
        .expect("an Answer link")
        .to_owned();
    let pattern = link.rsplit('=').next().unwrap().to_owned();
    let form = page(r, &link, &ada).await.html();
    assert!(
        form.contains(&format!(r#"value="{pattern}" selected"#))
            || form.contains(&format!(r#"value="{pattern}""#)),
        "{pattern}"
    );

    let metrics = page(r, "/orgs/acme/metrics?from=2026-01-01", &pat)
        .await
        .html();
    assert!(metrics.contains(r#"aria-label="Incident SLA attainment by month""#));
    assert!(metrics.contains("<title>2026-03:"), "a column per month");

    // Ticket exports upload from the browser, all or nothing.
    let upload = |file: &'static str, bytes: Vec<u8>, csrf: String| {
        let cookie = pat.clone();
        async move {
            let boundary = "iso20k-test-boundary";
            let mut body = Vec::new();
            body.extend_from_slice(format!("--{boundary}\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\n{csrf}\r\n").as_bytes());
            body.extend_from_slice(
                format!(
                    "--{boundary}\r\nContent-Disposition: form-data; name=\"from\"\r\n\r\n\r\n"
                )
                .as_bytes(),
            );
            body.extend_from_slice(format!("--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{file}\"\r\nContent-Type: text/csv\r\n\r\n").as_bytes());
            body.extend_from_slice(&bytes);
            body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
            send(
                r,
                Method::POST,
                "/orgs/acme/tickets/import",
                &Cred::Cookie { cookie, csrf: None },
                Some((&format!("multipart/form-data; boundary={boundary}"), body)),
                &[],
            )
            .await
        }
    };
    let import_page = page(r, "/orgs/acme/tickets/import", &pat).await.html();
    let import_csrf = csrf_of(&import_page);
    let export =
        std::fs::read(workspace().join("crates/iso20k-import/tests/data/servicenow/problem.csv"))
            .unwrap();
    let done = upload("problem.csv", export, import_csrf.clone()).await;
    assert_eq!(done.status, StatusCode::OK);
    assert!(
        done.html().contains("as servicenow") && done.html().contains("problems: "),
        "{}",
        done.html()
    );
    let junk = upload("junk.csv", b"a,b\n1,2\n".to_vec(), import_csrf).await;
    assert_eq!(junk.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(junk.html().contains("Nothing was imported") && junk.html().contains("junk.csv"));

    // The score the fix below must raise, with the import counted.
    let uncapped_before = score().await["uncapped"].as_f64().unwrap();

    // The finding leads to the form that fixes it.
    let finding = page(
        r,
        &format!("/orgs/acme/findings/mr-no-top-management?{as_of}"),
        &pat,
    )
    .await;
    let html = finding.html();
    assert!(
        html.contains(r#"href="/orgs/acme/records/management-reviews/new""#),
        "{html}"
    );
    let form = page(r, "/orgs/acme/records/management-reviews/new", &pat).await;
    let csrf = csrf_of(&form.html());
    let review = [
        ("id", "MR-2026-9"),
        ("held_on", "2026-06-20"),
        ("attendees", "h.strand\no.adeyemi\nm.castell"),
        ("inputs", "previous-actions"),
        ("inputs", "customer-feedback"),
        ("inputs", "service-performance"),
        ("decisions", "Approve the 2026 objectives"),
        ("actions.0.id", "MR-2026-9-A1"),
        ("actions.0.description", "Publish the revised policy"),
        ("actions.0.owner", "m.castell"),
        ("actions.0.due", "2026-07-31"),
        ("actions.0.status", "open"),
    ];
    let forged = post_form(
        r,
        "/orgs/acme/records/management-reviews",
        Some(&pat),
        &review,
    )
    .await;
    assert_eq!(
        forged.status,
        StatusCode::FORBIDDEN,
        "no CSRF token, no change"
    );
    let mut bad: Vec<(&str, &str)> = vec![("csrf", &csrf)];
    bad.extend(review.iter().map(|(k, v)| {
        if *k == "held_on" {
            (*k, "2026-13-40")
        } else {
            (*k, *v)
        }
    }));
    let invalid = post_form(r, "/orgs/acme/records/management-reviews", Some(&pat), &bad).await;
    assert_eq!(invalid.status, StatusCode::UNPROCESSABLE_ENTITY);
    let html = invalid.html();
    assert!(
        html.contains(r#"id="f-held_on-error""#),
        "the message sits by its field"
    );
    assert!(
        html.contains("value=\"MR-2026-9\""),
        "what was typed is kept"
    );
    let mut good: Vec<(&str, &str)> = vec![("csrf", &csrf)];
    good.extend(review.iter().copied());
    let saved = post_form(
        r,
        "/orgs/acme/records/management-reviews",
        Some(&pat),
        &good,
    )
    .await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.html());
    assert_eq!(
        saved.headers[header::LOCATION],
        "/orgs/acme/records/management-reviews/MR-2026-9?saved=1"
    );
    // A delete form that does not say which version it shows deletes nothing.
    let blind = post_form(
        r,
        "/orgs/acme/records/management-reviews/MR-2026-9/delete",
        Some(&pat),
        &[("csrf", &csrf)],
    )
    .await;
    assert_eq!(blind.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        f.store()
            .record(f.org.id, "management-reviews", "MR-2026-9")
            .await
            .unwrap()
            .is_some(),
        "the review is still there"
    );
    // The policy still blocks stage 1 and caps the score; beneath the cap it rises.
    let after = score().await["uncapped"].as_f64().unwrap();
    assert!(
        after > uncapped_before,
        "the score rises: {uncapped_before} → {after}"
    );
    let stored: Value = serde_json::from_str(
        &f.store()
            .record(f.org.id, "management-reviews", "MR-2026-9")
            .await
            .unwrap()
            .unwrap()
            .body,
    )
    .unwrap();
    assert_eq!(
        stored["attendees"],
        json!(["h.strand", "o.adeyemi", "m.castell"])
    );
    assert_eq!(stored["actions"][0]["owner"], "m.castell");

    // A draft document is approved from its page, in one step.
    let draft = page(r, "/orgs/acme/records/documents/CHP-001%2F0.3", &pat).await;
    let html = draft.html();
    assert!(html.contains("Approve"), "{html}");
    let approve = post_form(
        r,
        "/orgs/acme/records/documents/CHP-001%2F0.3/lifecycle",
        Some(&pat),
        &[
            ("csrf", &csrf),
            ("version", "1"),
            ("action", "approve"),
            ("approver", "h.strand"),
            ("on", "2026-06-21"),
        ],
    )
    .await;
    assert_eq!(approve.status, StatusCode::SEE_OTHER, "{}", approve.html());
    let doc: Value = serde_json::from_str(
        &f.store()
            .record(f.org.id, "documents", "CHP-001/0.3")
            .await
            .unwrap()
            .unwrap()
            .body,
    )
    .unwrap();
    assert_eq!(doc["status"], "current");
    assert_eq!(doc["approver"], "h.strand");
    assert_eq!(doc["approved_on"], "2026-06-21");
    let next = post_form(
        r,
        "/orgs/acme/records/documents/CHP-001%2F0.3/lifecycle",
        Some(&pat),
        &[
            ("csrf", &csrf),
            ("action", "new-version"),
            ("next_version", "1.0"),
        ],
    )
    .await;
    assert_eq!(
        next.headers[header::LOCATION],
        "/orgs/acme/records/documents/CHP-001%2F1.0?saved=1"
    );
    let old = page(r, "/orgs/acme/records/documents/CHP-001%2F1.0", &pat)
        .await
        .html();
    assert!(
        old.contains("<strong>draft</strong>"),
        "the new version starts as a draft"
    );

    // The RACI grid changes a cell's letters, record by record.
    let grid = page(r, "/orgs/acme/raci", &pat).await.html();
    assert!(grid.contains(r#"name="cell.portfolio.p.raval""#), "{grid}");
    let saved = post_form(
        r,
        "/orgs/acme/raci",
        Some(&pat),
        &[
            ("csrf", &csrf),
            ("cell.portfolio.p.raval", "C"),
            ("cell.portfolio.m.castell", "A"),
        ],
    )
    .await;
    assert_eq!(saved.headers[header::LOCATION], "/orgs/acme/raci?saved=1");
    let has = |key: &'static str| {
        let store = f.store();
        let org = f.org.id;
        async move { store.record(org, "raci", key).await.unwrap().is_some() }
    };
    assert!(has("portfolio/p.raval/C").await);
    assert!(!has("portfolio/p.raval/R").await);
    assert!(
        has("portfolio/m.castell/A").await,
        "an unchanged cell stays"
    );

    // A viewer reads the same record but has no way to change it.
    let vic = browser_sign_in(r, "vic@acme.example", "correct horse battery").await;
    let seen = page(r, "/orgs/acme/records/management-reviews/MR-2026-9", &vic).await;
    assert_eq!(seen.status, StatusCode::OK);
    let html = seen.html();
    assert!(!html.contains("Save changes") && !html.contains("Delete this"));
    let vic_csrf = csrf_of(&html);
    let mut edit: Vec<(&str, &str)> = vec![("csrf", &vic_csrf), ("_version", "1")];
    edit.extend(review.iter().copied());
    let refused = post_form(
        r,
        "/orgs/acme/records/management-reviews/MR-2026-9",
        Some(&vic),
        &edit,
    )
    .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);

    // Every page reachable from the dashboard draws.
    let mut queue = vec![
        format!("/orgs/acme?{as_of}"),
        "/orgs/acme/kb?q=emergency+change".to_owned(),
    ];
    let mut seen = BTreeSet::new();
    let mut from: std::collections::BTreeMap<String, String> = Default::default();
    while let Some(url) = queue.pop() {
        if !seen.insert(url.clone()) || seen.len() > 400 {
            continue;
        }
        let reply = page(r, &url, &pat).await;
        let origin = from.get(&url).map_or("", String::as_str);
        // A singleton's register sends on to its one record.
        if reply.status == StatusCode::SEE_OTHER {
            let to = reply.headers["location"].to_str().unwrap().to_owned();
            assert!(
                to.starts_with("/orgs/acme/"),
                "{url} (linked from {origin}) -> {to}"
            );
            queue.push(to);
            continue;
        }
        assert_eq!(reply.status, StatusCode::OK, "{url} (linked from {origin})");
        let html = reply.html();
        for link in html.split("href=\"").skip(1) {
            let link = link.split('"').next().unwrap().to_owned();
            // Ticket lists run long: one page of each is enough.
            // An audit report's PDF takes seconds to typeset in a debug build; the audit tests
            // fetch one.
            if link.starts_with("/orgs/acme")
                && !link.contains("after=")
                && !link.contains("/records/incidents/")
                && !link.ends_with(".pdf")
            {
                from.entry(link.clone()).or_insert_with(|| url.clone());
                queue.push(link);
            }
        }
    }
    assert!(seen.len() > 150, "crawled {}", seen.len());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn today_s_score_is_kept_for_the_trend() {
    for f in fixtures(quiet()).await {
        let r = &f.router;
        let viewer = f.token("viewer");
        let today = jiff::ZonedDateTime::now().date().to_string();
        let now = call(r, Method::GET, "/api/v1/orgs/acme/readiness", &viewer, None)
            .await
            .json();
        let kept = f.store().score_history(f.org.id, "2018", 30).await.unwrap();
        assert_eq!(kept.len(), 1, "{}", f.db.label);
        assert_eq!(kept[0].0, today);
        assert_eq!(kept[0].1, now["readiness"]["overall"].as_f64().unwrap());
        // The demo's records declare their day, and the score of that day is today's point;
        // another day's report is not.
        assert_eq!(now["as_of"], "2026-06-30");
        call(
            r,
            Method::GET,
            "/api/v1/orgs/acme/readiness?as_of=2026-05-31",
            &viewer,
            None,
        )
        .await;
        assert_eq!(
            f.store()
                .score_history(f.org.id, "2018", 30)
                .await
                .unwrap()
                .len(),
            1
        );

        // With an earlier day on record, the dashboard draws the trend.
        f.store()
            .record_score(f.org.id, "2018", "2020-01-01", 0, 12.5)
            .await
            .unwrap();
        let hash = auth::hash_password("correct horse battery").unwrap();
        let user = f
            .store()
            .create_user("tina@acme.example", "", Some(&hash))
            .await
            .unwrap();
        f.store()
            .set_membership(f.org.id, user.id, "viewer", None)
            .await
            .unwrap();
        let tina = browser_sign_in(r, "tina@acme.example", "correct horse battery").await;
        let html = page(r, "/orgs/acme", &tina).await.html();
        assert!(
            html.contains("Overall score from 2020-01-01 (12.5) to "),
            "{}",
            f.db.label
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reports_download_in_every_format_as_the_command_line_writes_them() {
    let f = fixtures(quiet()).await.remove(0);
    let r = &f.router;
    let viewer = f.token("viewer");
    let sms = iso20k_bundle::read(&workspace().join("examples/demo")).unwrap();
    let as_of = "2026-06-30".parse().unwrap();
    let report = iso20k_core::audit::audit(
        &sms,
        iso20k_core::audit::Options {
            edition: sms.edition(),
            as_of,
        },
    );
    for format in iso20k_report::Format::ALL {
        let reply = call(
            r,
            Method::GET,
            &format!(
                "/api/v1/orgs/acme/reports/{}?as_of=2026-06-30",
                format.name()
            ),
            &viewer,
            None,
        )
        .await;
        assert_eq!(reply.status, StatusCode::OK, "{}", format.name());
        assert_eq!(reply.headers[header::CONTENT_TYPE], format.media_type());
        assert_eq!(
            reply.headers[header::CONTENT_DISPOSITION],
            format!(
                "attachment; filename=\"acme-readiness-2026-06-30.{}\"",
                format.extension()
            )
        );
        let expected = format
            .render(&report, &sms, &iso20k_report::Deadlines::default(), "")
            .unwrap();
        assert!(reply.body == expected, "{}", format.name());
    }
    let unknown = call(
        r,
        Method::GET,
        "/api/v1/orgs/acme/reports/pdfx",
        &viewer,
        None,
    )
    .await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    assert!(
        unknown.text().contains("html, xlsx, md"),
        "{}",
        unknown.text()
    );
}

/// With the `pdf` feature (the iso20k binary turns it on, and so does `cargo test --workspace`)
/// the server writes the PDF report too.
#[cfg(feature = "pdf")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_pdf_report_downloads_when_built_with_it() {
    let f = fixtures(quiet()).await.remove(0);
    let reply = call(
        &f.router,
        Method::GET,
        "/api/v1/orgs/acme/reports/pdf?as_of=2026-06-30",
        &f.token("viewer"),
        None,
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.headers[header::CONTENT_TYPE], "application/pdf");
    assert!(reply.body.starts_with(b"%PDF-"));
    let doc = iso20k_server::openapi_document();
    let formats = &doc["paths"]["/api/v1/orgs/{slug}/reports/{format}"]["get"]["parameters"][1]["schema"]
        ["enum"];
    assert!(
        formats.as_array().unwrap().contains(&json!("pdf")),
        "{formats}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_past_its_deadline_is_stopped_with_a_408_and_saves_nothing() {
    let config = Config {
        request_timeout: std::time::Duration::from_millis(1),
        workers: 1,
        ..quiet()
    };
    let export =
        std::fs::read(workspace().join("crates/iso20k-import/tests/data/servicenow/incident.csv"))
            .unwrap();
    for f in fixtures(config).await {
        let r = &f.router;
        let m = f.token("manager");
        // Building the model and scoring the demo takes far longer than a millisecond.
        let api = call(r, Method::GET, "/api/v1/orgs/acme/readiness", &m, None).await;
        assert_eq!(api.status, StatusCode::REQUEST_TIMEOUT, "{}", api.text());
        let error = api.json()["error"].as_str().unwrap().to_owned();
        assert!(error.contains("longer than the 1 ms"), "{error}");
        let revision = f.store().revision(f.org.id).await.unwrap();
        let before = incidents(&f).await;
        let import = send(
            r,
            Method::POST,
            "/api/v1/orgs/acme/imports/tickets?name=incident.csv",
            &m,
            Some(("text/csv", export.clone())),
            &[],
        )
        .await;
        assert_eq!(import.status, StatusCode::REQUEST_TIMEOUT);
        assert_eq!(incidents(&f).await, before, "nothing was imported");
        assert_eq!(f.store().revision(f.org.id).await.unwrap(), revision);
    }
}

/// Sends one HTTP/1.1 request over a fresh connection and returns the status and body.
async fn raw_http(addr: std::net::SocketAddr, head: &str, body: &[u8]) -> (u16, String) {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let request = format!(
        "{head}\r\nHost: {addr}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    stream.write_all(body).await.unwrap();
    let mut reply = Vec::new();
    stream.read_to_end(&mut reply).await.unwrap();
    let reply = String::from_utf8_lossy(&reply).into_owned();
    let status = reply
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no status line in {reply:?}"));
    let body = reply
        .split_once("\r\n\r\n")
        .map_or("", |(_, b)| b)
        .to_owned();
    (status, body)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_shutdown_finishes_the_import_in_flight_before_it_stops() {
    let export =
        std::fs::read(workspace().join("crates/iso20k-import/tests/data/servicenow/incident.csv"))
            .unwrap();
    for f in fixtures(quiet()).await {
        let Cred::Token(token) = f.token("manager") else {
            unreachable!()
        };
        let app = App::new(
            Arc::new(iso20k_store::open(&f.db.url).await.unwrap()),
            quiet(),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let server = tokio::spawn(iso20k_server::serve_until(app, listener, async {
            let _ = stopped.await;
        }));
        let before = incidents(&f).await;
        let head = format!(
            "POST /api/v1/orgs/acme/imports/tickets?name=incident.csv HTTP/1.1\r\n\
             Authorization: Bearer {token}\r\nContent-Type: text/csv"
        );
        let export = export.clone();
        let import = tokio::spawn(async move { raw_http(addr, &head, &export).await });
        // Ask the server to stop while the import is being read and written.
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        stop.send(()).unwrap();
        let (status, body) = import.await.unwrap();
        assert_eq!(status, 200, "{body}");
        let added: Value = serde_json::from_str(&body).unwrap();
        let added = added["tables"][0]["added"].as_i64().unwrap();
        assert!(added > 0);
        assert_eq!(
            incidents(&f).await,
            before + added,
            "the import was committed"
        );
        // The server has stopped: it returns, and takes no new connection.
        tokio::time::timeout(std::time::Duration::from_secs(30), server)
            .await
            .expect("the server stops once the request is answered")
            .unwrap()
            .unwrap();
        assert!(tokio::net::TcpStream::connect(addr).await.is_err());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_trail_proves_itself_and_names_a_hand_edited_entry() {
    for f in fixtures(quiet()).await {
        let r = &f.router;
        let label = f.db.label;
        let hash = auth::hash_password("correct horse battery").unwrap();
        for (email, role) in [
            ("ada@acme.example", "auditor"),
            ("pat@acme.example", "manager"),
        ] {
            let user = f.store().create_user(email, "", Some(&hash)).await.unwrap();
            f.store()
                .set_membership(f.org.id, user.id, role, None)
                .await
                .unwrap();
        }
        // A change through the API: the record's history names the field it changed.
        let sla = first(&f, "services").await;
        let mut body: Value = serde_json::from_str(&sla.body).unwrap();
        body["name"] = json!("Renamed by the trail test");
        let url = format!("/api/v1/orgs/acme/records/services/{}", enc(&sla.key));
        let put = call(
            r,
            Method::PUT,
            &url,
            &f.token("admin"),
            Some(json!({ "version": sla.version, "record": body })),
        )
        .await;
        assert_eq!(put.status, StatusCode::OK, "{label}: {}", put.text());

        let proof = call(
            r,
            Method::GET,
            "/api/v1/orgs/acme/trail",
            &f.token("auditor"),
            None,
        )
        .await
        .json();
        assert_eq!(proof["intact"], true, "{label}: {proof}");
        assert!(
            proof["entries"].as_i64().unwrap() > 100,
            "the demo import and the change"
        );
        assert!(proof["broken"].is_null());

        let ada = browser_sign_in(r, "ada@acme.example", "correct horse battery").await;
        let trail = page(r, "/orgs/acme/trail", &ada).await;
        assert_eq!(trail.status, StatusCode::OK);
        let html = trail.html();
        assert!(html.contains("The trail is intact"), "{label}");
        assert!(html.contains(proof["head"].as_str().unwrap()));
        assert!(
            html.contains("Renamed by the trail test"),
            "the newest entry, with its field"
        );
        assert!(
            html.contains(">Audit trail</a>"),
            "in the menu for an auditor"
        );
        let record = page(
            r,
            &format!("/orgs/acme/records/services/{}", enc(&sla.key)),
            &ada,
        )
        .await
        .html();
        assert!(
            record.contains("<strong>name</strong>")
                && record.contains("<ins>Renamed by the trail test</ins>"),
            "{label}: the record's history shows the field before and after"
        );
        // A manager neither sees the link nor the page.
        let pat = browser_sign_in(r, "pat@acme.example", "correct horse battery").await;
        assert!(
            !page(r, "/orgs/acme", &pat)
                .await
                .html()
                .contains(">Audit trail</a>")
        );
        assert_eq!(
            page(r, "/orgs/acme/trail", &pat).await.status,
            StatusCode::FORBIDDEN
        );

        // Someone edits an entry in the database: the API and the page name it.
        let edited =
            f.db.tamper(&format!(
                "UPDATE changes SET actor = 'nobody' WHERE org_id = {} AND seq = 5",
                f.org.id
            ))
            .await;
        assert_eq!(edited, 1);
        let proof = call(
            r,
            Method::GET,
            "/api/v1/orgs/acme/trail",
            &f.token("admin"),
            None,
        )
        .await
        .json();
        assert_eq!(proof["intact"], false, "{label}");
        assert_eq!(proof["broken"]["seq"], 5);
        assert_eq!(proof["entries"], 4);
        let html = page(r, "/orgs/acme/trail", &ada).await.html();
        assert!(html.contains("The trail is broken"), "{label}");
        assert!(html.contains("Entry 5:"));
    }
}

/// The API's JSON bodies, mutated: whatever arrives, the answer is a 2xx or a 4xx, never a
/// server error, on both engines (PostgreSQL's text cannot hold a NUL, which SQLite's can).
/// The cases are drawn afresh on each run, except in CI, which fixes the seed.
#[test]
fn mutated_json_bodies_never_get_a_server_error() {
    use proptest::prelude::*;
    use proptest::test_runner::{Config as Cases, TestRunner};

    #[derive(Clone, Debug)]
    enum Mutation {
        Flip(usize, u8),
        Truncate(usize),
        Insert(usize, &'static str),
        Repeat(usize, usize),
    }
    fn mutation() -> impl Strategy<Value = Mutation> {
        prop_oneof![
            (any::<usize>(), any::<u8>()).prop_map(|(p, b)| Mutation::Flip(p, b)),
            any::<usize>().prop_map(Mutation::Truncate),
            (
                any::<usize>(),
                prop::sample::select(vec![
                    " ",
                    "\n",
                    "\\u0000",
                    "\u{0}",
                    "\\ud800",
                    "\u{ffff}",
                    "\u{feff}",
                    "\u{1b}[31m",
                    "1e999999",
                    "-99999999999999999999999999",
                    "\"id\":\"X\",",
                    "\"extra\":1,",
                    "null",
                    "[]",
                    "{}",
                    "\"",
                    ",",
                    ":",
                    "\"2026-02-30\"",
                    "\"9999-12-31\"",
                    "\"0001-01-01T00:00:00Z\"",
                    "\"../../etc/passwd\"",
                    "\"<script>alert(1)</script>\"",
                ]),
            )
                .prop_map(|(p, s)| Mutation::Insert(p, s)),
            // A span repeated: deep nesting, long strings, many keys.
            (any::<usize>(), 1usize..3000).prop_map(|(p, n)| Mutation::Repeat(p, n)),
        ]
    }
    fn apply(bytes: &mut Vec<u8>, mutations: &[Mutation]) {
        for m in mutations {
            let len = bytes.len().max(1);
            match m {
                Mutation::Flip(p, b) if !bytes.is_empty() => bytes[p % len] ^= b | 1,
                Mutation::Flip(..) => {}
                Mutation::Truncate(p) => bytes.truncate(p % len),
                Mutation::Insert(p, s) => {
                    let at = (p % len).min(bytes.len());
                    bytes.splice(at..at, s.bytes());
                }
                Mutation::Repeat(p, n) => {
                    let at = (p % len).min(bytes.len());
                    let end = (at + 8).min(bytes.len());
                    let span = bytes[at..end].to_vec();
                    let repeated: Vec<u8> =
                        span.iter().copied().cycle().take(span.len() * n).collect();
                    bytes.splice(at..at, repeated);
                }
            }
        }
    }

    /// A value a hostile client might put anywhere a body holds one.
    fn hostile(n: usize) -> Value {
        match n % 14 {
            0 => json!("a\u{0}b"),
            1 => json!("\u{ffff}\u{fffe}\u{1b}[2J"),
            2 => json!("x".repeat(300_000)),
            3 => json!(""),
            4 => json!(1e300),
            5 => json!(-1),
            6 => json!(i64::MIN),
            7 => json!(null),
            8 => Value::Array(vec![json!("a"); 5000]),
            9 => (0..200).fold(json!(1), |v, _| json!([v])),
            10 => json!({ "nested": { "deeper": [1, "two", null] } }),
            11 => json!("9999-12-31"),
            12 => json!("0001-01-01T00:00:00Z"),
            _ => json!(true),
        }
    }
    /// Replaces the value at the `pick`-th place of a depth-first walk.
    fn replace_at(value: &mut Value, pick: &mut usize, with: &Value) -> bool {
        if *pick == 0 {
            *value = with.clone();
            return true;
        }
        *pick -= 1;
        match value {
            Value::Array(items) => items.iter_mut().any(|v| replace_at(v, pick, with)),
            Value::Object(map) => map.values_mut().any(|v| replace_at(v, pick, with)),
            _ => false,
        }
    }

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    for f in runtime.block_on(fixtures(quiet())) {
        let r = &f.router;
        let admin = f.token("admin");
        // One body of each shape the API reads: a record of every kind the demo holds,
        // created and updated, and the bodies of the other routes.
        let mut seeds: Vec<(Method, String, Vec<u8>)> = vec![
            (
                Method::POST,
                "/api/v1/session".into(),
                br#"{"email":"admin@acme.example","password":"correct horse battery"}"#.to_vec(),
            ),
            (
                Method::POST,
                "/api/v1/tokens".into(),
                br#"{"name":"nightly","expires_at":"2030-01-01T00:00:00Z"}"#.to_vec(),
            ),
            (
                Method::POST,
                "/api/v1/orgs".into(),
                br#"{"slug":"new-org","name":"New"}"#.to_vec(),
            ),
            (
                Method::PUT,
                "/api/v1/orgs/acme/members/new%40acme.example".into(),
                br#"{"role":"viewer","expires_at":"2030-01-01T00:00:00Z","name":"New"}"#.to_vec(),
            ),
            (
                Method::POST,
                "/api/v1/orgs/acme/audits/IA-2026-01/samples".into(),
                br#"{"kind":"changes","from":"2025-01-01","to":"2026-06-30","where":["type!=emergency"],"method":"judgement","size":5,"rationale":"why","seed":9,"drawn_on":"2026-06-01"}"#.to_vec(),
            ),
            (
                Method::POST,
                "/api/v1/orgs/acme/audits/IA-2026-01/samples".into(),
                br#"{"kind":"incidents","confidence":0.9,"tdr":0.1}"#.to_vec(),
            ),
            (
                Method::PUT,
                "/api/v1/orgs/acme/audits/IA-2026-01/samples/S1/items".into(),
                br#"[{"id":"CHG0030001","result":"does-not-conform","note":"no review"}]"#.to_vec(),
            ),
            (
                Method::POST,
                "/api/v1/orgs/acme/audits/IA-2026-01/samples/S1/finding".into(),
                br#"{"grade":"minor","clause":"8.5.1","process":"change","statement":"Seen."}"#.to_vec(),
            ),
            (
                Method::POST,
                "/api/v1/orgs/acme/audits/IA-2026-01/findings".into(),
                br#"{"grade":"minor","clause":"9.1","process":"change","statement":"Seen.","evidence":["CHG0030001"],"due":"2026-12-31","sample":"S1","version":1}"#.to_vec(),
            ),
            (
                Method::POST,
                "/api/v1/orgs/acme/audits/IA-2026-02/status".into(),
                br#"{"status":"in-progress","on":"2026-06-01"}"#.to_vec(),
            ),
        ];
        for kind in KINDS {
            let Some(record) = runtime
                .block_on(f.store().records(f.org.id, kind.name, None, 1))
                .unwrap()
                .into_iter()
                .next()
            else {
                continue;
            };
            seeds.push((
                Method::POST,
                format!("/api/v1/orgs/acme/records/{}", kind.name),
                format!(r#"{{"record":{}}}"#, record.body).into_bytes(),
            ));
            seeds.push((
                Method::PUT,
                format!(
                    "/api/v1/orgs/acme/records/{}/{}",
                    kind.name,
                    enc(&record.key)
                ),
                format!(
                    r#"{{"version":{},"record":{}}}"#,
                    record.version, record.body
                )
                .into_bytes(),
            ));
        }
        let mut runner = TestRunner::new(Cases {
            cases: 400,
            failure_persistence: None,
            ..Cases::default()
        });
        // Half the cases flip bytes (the parser's side), half put hostile values into a body
        // that still parses (the checks' and the store's side).
        let strategy = (
            any::<prop::sample::Index>(),
            prop::collection::vec(mutation(), 1..4),
            prop::option::of((any::<usize>(), any::<usize>(), any::<prop::sample::Index>())),
        );
        let label = f.db.label;
        let (accepted, refused) = (
            std::sync::atomic::AtomicUsize::new(0),
            std::sync::atomic::AtomicUsize::new(0),
        );
        let result = runner.run(&strategy, |(seed, mutations, values)| {
            let (method, uri, body) = &seeds[seed.index(seeds.len())];
            let body = match values {
                None => {
                    let mut body = body.clone();
                    apply(&mut body, &mutations);
                    body
                }
                Some((place, which, _)) => {
                    let mut value: Value = serde_json::from_slice(body).unwrap();
                    // Past the top level, so the body keeps its shape around the value.
                    let mut pick = 1 + place % 40;
                    replace_at(&mut value, &mut pick, &hostile(which));
                    serde_json::to_vec(&value).unwrap()
                }
            };
            let reply = runtime.block_on(send(
                r,
                method.clone(),
                uri,
                &admin,
                Some(("application/json", body.clone())),
                &[],
            ));
            prop_assert!(
                !reply.status.is_server_error(),
                "{label}: {method} {uri} answered {} to {:?}: {}",
                reply.status,
                String::from_utf8_lossy(&body)
                    .chars()
                    .take(300)
                    .collect::<String>(),
                reply.text()
            );
            // A conflict comes after every check of the body passed: it reached the store.
            let reached = reply.status.is_success() || reply.status == StatusCode::CONFLICT;
            let counter = if reached { &accepted } else { &refused };
            counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            Ok(())
        });
        if let Err(e) = result {
            panic!("{e}");
        }
        // The mutations reach both sides: bodies still valid enough to reach the store, and bodies
        // refused; a fuzzer whose every case bounced off the parser would prove little.
        let (accepted, refused) = (accepted.into_inner(), refused.into_inner());
        assert!(
            accepted >= 20 && refused >= 100,
            "{label}: {accepted} accepted, {refused} refused"
        );
        // And it still answers.
        let health = runtime.block_on(call(r, Method::GET, "/healthz", &Cred::None, None));
        assert_eq!(health.status, StatusCode::OK, "{label}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_member_linked_to_a_person_lands_on_their_work_and_an_admin_links_them() {
    let f = fixtures(quiet()).await.remove(0);
    let r = &f.router;
    let hash = auth::hash_password("correct horse battery").unwrap();
    for (email, role) in [
        ("cal@acme.example", "manager"),
        ("root@acme.example", "admin"),
    ] {
        let user = f.store().create_user(email, "", Some(&hash)).await.unwrap();
        f.store()
            .set_membership(f.org.id, user.id, role, None)
            .await
            .unwrap();
    }
    // Not linked yet: My work says so, in words, and the landing page is still My work.
    let cal = browser_sign_in(r, "cal@acme.example", "correct horse battery").await;
    let landed = post_form(
        r,
        "/login",
        None,
        &[
            ("email", "cal@acme.example"),
            ("password", "correct horse battery"),
        ],
    )
    .await;
    assert_eq!(landed.headers[header::LOCATION], "/orgs/acme/my");
    let root = browser_sign_in(r, "root@acme.example", "correct horse battery").await;
    let unlinked = page(r, "/orgs/acme/my", &cal).await.html();
    assert!(unlinked.contains("not linked to a person"), "{unlinked}");

    // The admin links the account on the members page; a person not in the register is
    // refused in words, and a manager may not open the page.
    let members = page(r, "/orgs/acme/members", &root).await;
    assert_eq!(members.status, StatusCode::OK);
    let html = members.html();
    assert!(
        html.contains("c.dunmore — Callum Dunmore"),
        "the people register to pick from"
    );
    let csrf = csrf_of(&html);
    let save = |person: &'static str| {
        let csrf = csrf.clone();
        let root = root.clone();
        async move {
            send(
                r,
                Method::POST,
                "/orgs/acme/members",
                &Cred::Cookie {
                    cookie: root,
                    csrf: None,
                },
                Some((
                    "application/x-www-form-urlencoded",
                    form_urlencoded::Serializer::new(String::new())
                        .extend_pairs([
                            ("csrf", csrf.as_str()),
                            ("email", "cal@acme.example"),
                            ("role", "manager"),
                            ("person", person),
                        ])
                        .finish()
                        .into_bytes(),
                )),
                &[],
            )
            .await
        }
    };
    let refused = save("nobody").await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        refused
            .html()
            .contains("no `nobody` in the people register")
    );
    let saved = save("c.dunmore").await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.text());
    assert_eq!(
        page(r, "/orgs/acme/members", &cal).await.status,
        StatusCode::FORBIDDEN
    );
    let listed = call(
        r,
        Method::GET,
        "/api/v1/orgs/acme/members",
        &f.token("admin"),
        None,
    )
    .await
    .json();
    let cal_info = listed
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["email"] == "cal@acme.example")
        .unwrap();
    assert_eq!(cal_info["person"], "c.dunmore");

    // Linked: the findings the plan gives them and the documents they own, late first, each
    // linking to where it is done.
    let mine = page(r, "/orgs/acme/my", &cal).await.html();
    assert!(mine.contains("My work: Callum Dunmore"), "{mine}");
    let late = mine
        .split("id=\"late-title\"")
        .nth(1)
        .expect("a late section");
    assert!(late.contains("Review a document"), "{late}");
    assert!(
        late.contains("/orgs/acme/records/documents/PRC-005%2F2.0"),
        "the document's own page"
    );
    assert!(
        mine.contains("Minor finding"),
        "findings the plan gives them"
    );
    assert!(mine.contains("/orgs/acme/findings/"));
    // Another person's work is not theirs.
    assert!(!mine.contains("Helena"), "{mine}");
}

/// The stored revision of a document version.
async fn doc_version(f: &Fixture, key: &str) -> i64 {
    f.store()
        .record(f.org.id, "documents", key)
        .await
        .unwrap()
        .unwrap()
        .version
}

/// The keys a register page lists, in the order of its rows.
fn listed(html: &str, kind: &str) -> Vec<String> {
    let body = html.split("<tbody>").nth(1).unwrap_or_default();
    let body = body.split("</tbody>").next().unwrap_or_default();
    let prefix = format!(r#"<td style="white-space: nowrap"><a href="/orgs/acme/records/{kind}/"#);
    body.split(prefix.as_str())
        .skip(1)
        .map(|rest| {
            rest.split("\">")
                .nth(1)
                .unwrap()
                .split('<')
                .next()
                .unwrap()
                .to_owned()
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn registers_search_filter_sort_show_findings_and_review_documents_in_bulk() {
    let f = fixtures(quiet()).await.remove(0);
    let r = &f.router;
    let hash = auth::hash_password("correct horse battery").unwrap();
    for (email, role) in [
        ("pat@acme.example", "manager"),
        ("vic@acme.example", "viewer"),
    ] {
        let user = f.store().create_user(email, "", Some(&hash)).await.unwrap();
        f.store()
            .set_membership(f.org.id, user.id, role, None)
            .await
            .unwrap();
    }
    let pat = browser_sign_in(r, "pat@acme.example", "correct horse battery").await;
    let vic = browser_sign_in(r, "vic@acme.example", "correct horse battery").await;
    let viewer = f.token("viewer");
    let report = call(r, Method::GET, "/api/v1/orgs/acme/readiness", &viewer, None)
        .await
        .json();
    let cited = |kind: &str| -> BTreeSet<String> {
        report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|f| f["evidence"].as_array().unwrap().iter())
            .filter(|e| e["kind"] == kind)
            .map(|e| e["id"].as_str().unwrap().to_owned())
            .collect()
    };
    let changes: Vec<(String, Value)> = f
        .store()
        .records(f.org.id, "changes", None, 1000)
        .await
        .unwrap()
        .into_iter()
        .map(|c| (c.key, serde_json::from_str(&c.body).unwrap()))
        .collect();
    let all: Vec<String> = changes.iter().map(|(k, _)| k.clone()).collect();
    assert!(all.len() > 5, "the demo has changes");

    // Unfiltered: every change, in key order, with the columns a change is judged by.
    let plain = page(r, "/orgs/acme/records/changes", &pat).await;
    assert_eq!(plain.status, StatusCode::OK);
    let html = plain.html();
    assert_eq!(listed(&html, "changes"), all);
    for head in [
        "Type",
        "Service",
        "Approved",
        "Implemented",
        "Successful",
        "Findings",
    ] {
        assert!(
            html.contains(&format!(">{head}</a></th>"))
                || html.contains(&format!(">{head} ▲</a></th>")),
            "{head}"
        );
    }
    assert!(
        html.contains(r#"aria-sort="ascending""#),
        "key order is said"
    );
    assert!(html.contains(r#"<label for="register-q">Search</label>"#));

    // A filter narrows to the rows it names.
    let emergency: Vec<String> = changes
        .iter()
        .filter(|(_, c)| c["type"] == "emergency")
        .map(|(k, _)| k.clone())
        .collect();
    assert!(!emergency.is_empty());
    let html = page(r, "/orgs/acme/records/changes?type=emergency", &pat)
        .await
        .html();
    assert_eq!(listed(&html, "changes"), emergency);
    assert!(html.contains(&format!(
        "{} of {} records match",
        emergency.len(),
        all.len()
    )));
    let unapproved: Vec<String> = changes
        .iter()
        .filter(|(_, c)| c["approved_at"].is_null())
        .map(|(k, _)| k.clone())
        .collect();
    let html = page(r, "/orgs/acme/records/changes?approved=no", &pat)
        .await
        .html();
    assert_eq!(listed(&html, "changes"), unapproved);
    // Has findings: the changes the report cites, and only those.
    let with_findings: Vec<String> = all
        .iter()
        .filter(|k| cited("change").contains(*k))
        .cloned()
        .collect();
    assert!(with_findings.contains(&"CHG0004498".to_owned()));
    let html = page(r, "/orgs/acme/records/changes?findings=yes", &pat)
        .await
        .html();
    assert_eq!(listed(&html, "changes"), with_findings);
    assert!(
        html.contains(r#"href="/orgs/acme/records/changes/CHG0004498#findings-title">2</a>"#),
        "the count links to the record's findings"
    );
    let html = page(r, "/orgs/acme/records/changes?findings=no", &pat)
        .await
        .html();
    assert_eq!(
        listed(&html, "changes").len(),
        all.len() - with_findings.len()
    );

    // The search box matches the key and the words of the columns, whatever the case.
    let html = page(r, "/orgs/acme/records/changes?q=chg0004437", &pat)
        .await
        .html();
    assert_eq!(listed(&html, "changes"), ["CHG0004437"]);
    let service = changes[1].1["service"].as_str().unwrap().to_owned();
    let same_service: Vec<String> = changes
        .iter()
        .filter(|(_, c)| c["service"] == service.as_str())
        .map(|(k, _)| k.clone())
        .collect();
    let html = page(
        r,
        &format!("/orgs/acme/records/changes?q={}", service.to_lowercase()),
        &pat,
    )
    .await
    .html();
    assert_eq!(listed(&html, "changes"), same_service);
    let html = page(r, "/orgs/acme/records/changes?q=no-such-thing-at-all", &pat)
        .await
        .html();
    assert!(listed(&html, "changes").is_empty());
    assert!(html.contains("No record matches"));

    // Sorting: by key backwards, then by a column, ties by key; the header says which way.
    let html = page(r, "/orgs/acme/records/changes?sort=key&dir=desc", &pat)
        .await
        .html();
    let mut backwards = all.clone();
    backwards.reverse();
    assert_eq!(listed(&html, "changes"), backwards);
    assert!(html.contains(r#"aria-sort="descending""#));
    let html = page(r, "/orgs/acme/records/changes?sort=type&dir=asc", &pat)
        .await
        .html();
    let mut by_type: Vec<(String, String)> = changes
        .iter()
        .map(|(k, c)| (c["type"].as_str().unwrap_or("normal").to_owned(), k.clone()))
        .collect();
    by_type.sort();
    assert_eq!(
        listed(&html, "changes"),
        by_type.into_iter().map(|(_, k)| k).collect::<Vec<_>>()
    );
    assert!(
        html.contains(r#"<th scope="col" aria-sort="ascending"><a href="?sort=type&dir=desc""#)
    );
    // A filter and a sort together keep each other in their links.
    let html = page(
        r,
        "/orgs/acme/records/changes?approved=yes&sort=successful&dir=desc",
        &pat,
    )
    .await
    .html();
    assert!(
        html.contains(r#"href="?approved=yes&sort=key&dir=asc""#),
        "{html}"
    );
    assert!(
        !listed(&html, "changes")
            .iter()
            .any(|k| unapproved.contains(k))
    );

    // What the page cannot do is said in words, with a 4xx, never a 500.
    for (uri, words) in [
        (
            "/orgs/acme/records/changes?sort=colour",
            "no column `colour` to sort by",
        ),
        ("/orgs/acme/records/changes?dir=sideways", "neither asc"),
        (
            "/orgs/acme/records/changes?type=urgent",
            "cannot be filtered by `urgent`",
        ),
        ("/orgs/acme/records/changes?page=0", "not a page number"),
        (
            "/orgs/acme/records/changes?q=x&page=99",
            "no page 99 of these changes",
        ),
    ] {
        let reply = page(r, uri, &pat).await;
        assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "{uri}");
        assert!(reply.html().contains(words), "{uri}: {}", reply.html());
    }
    let long = format!("/orgs/acme/records/changes?q={}", "a".repeat(201));
    let reply = page(r, &long, &pat).await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(reply.html().contains("at most 200 characters"));

    // Incidents filter by priority and breach; documents by status.
    let incidents: Vec<(String, Value)> = f
        .store()
        .records(f.org.id, "incidents", None, 10_000)
        .await
        .unwrap()
        .into_iter()
        .map(|c| (c.key, serde_json::from_str(&c.body).unwrap()))
        .collect();
    let breached: Vec<String> = incidents
        .iter()
        .filter(|(_, i)| i["priority"] == 1 && (i["sla_met"] == false || i["sla_met"] == "no"))
        .map(|(k, _)| k.clone())
        .collect();
    let html = page(
        r,
        "/orgs/acme/records/incidents?priority=1&breached=yes",
        &pat,
    )
    .await
    .html();
    assert_eq!(listed(&html, "incidents"), breached);

    // A record page lists the findings citing it.
    let html = page(r, "/orgs/acme/records/changes/CHG0004498", &pat)
        .await
        .html();
    assert!(html.contains("Findings about this record"));
    assert!(html.contains(r#"href="/orgs/acme/findings/emergency-change-not-reviewed""#));
    assert!(html.contains(r#"href="/orgs/acme/findings/change-no-backout""#));
    let quiet_change = all.iter().find(|k| !with_findings.contains(k)).unwrap();
    let html = page(
        r,
        &format!("/orgs/acme/records/changes/{quiet_change}"),
        &vic,
    )
    .await
    .html();
    assert!(
        html.contains("No finding cites this record"),
        "a viewer sees it too"
    );
    // A document's finding cites the version it names, not its drafts.
    let html = page(r, "/orgs/acme/records/documents/POL-001%2F2.1", &pat)
        .await
        .html();
    assert!(html.contains(r#"href="/orgs/acme/findings/doc-review-overdue""#));
    assert!(
        html.contains("POL-001 v2.1 overdue for its 12 months review"),
        "what the finding says of this record"
    );
    let html = page(r, "/orgs/acme/records/documents/POL-001%2F3.0", &pat)
        .await
        .html();
    assert!(!html.contains(r#"href="/orgs/acme/findings/doc-review-overdue""#));

    // The documents overdue for review, filtered, then marked reviewed together.
    let overdue = |report: &Value| {
        report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["check"] == "doc-review-overdue")
            .map_or(0, |f| f["evidence"].as_array().unwrap().len())
    };
    let finding = page(r, "/orgs/acme/findings/doc-review-overdue", &pat)
        .await
        .html();
    assert!(
        finding.contains(r#"href="/orgs/acme/records/documents?overdue=yes">Mark the overdue documents reviewed</a>"#),
        "the finding leads to the bulk review"
    );
    let before = overdue(&report);
    assert!(before >= 3, "{before}");
    let list = page(r, "/orgs/acme/records/documents?overdue=yes", &pat).await;
    let html = list.html();
    let due = listed(&html, "documents");
    assert_eq!(due.len(), before, "{due:?}");
    assert!(html.contains(r#"action="/orgs/acme/documents/review""#));
    assert!(
        !page(r, "/orgs/acme/records/documents", &vic)
            .await
            .html()
            .contains("/documents/review"),
        "not for a viewer"
    );
    let csrf = csrf_of(&html);
    let mut picks = Vec::new();
    for key in &due[..due.len() - 1] {
        picks.push(format!("{}:{key}", doc_version(&f, key).await));
    }
    // The last one changed since the page was drawn.
    let stale = due.last().unwrap().clone();
    picks.push(format!("{}:{stale}", doc_version(&f, &stale).await));
    let mut changed = f
        .store()
        .record(f.org.id, "documents", &stale)
        .await
        .unwrap()
        .unwrap();
    let mut body: Value = serde_json::from_str(&changed.body).unwrap();
    body["title"] = json!("Retitled meanwhile");
    changed.body = body.to_string();
    f.store()
        .update(
            f.org.id,
            "someone",
            &iso20k_store::Write {
                kind: "documents".into(),
                key: stale.clone(),
                body: changed.body.clone(),
            },
            changed.version,
        )
        .await
        .unwrap();
    let picks = picks
        .iter()
        .map(|p| ("doc", p.as_str()))
        .chain([("csrf", csrf.as_str()), ("back", "?overdue=yes")])
        .collect::<Vec<_>>();
    let forged: Vec<(&str, &str)> = picks
        .iter()
        .filter(|(k, _)| *k != "csrf")
        .cloned()
        .collect();
    let refused = post_form(r, "/orgs/acme/documents/review", Some(&pat), &forged).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    let viewer_try = post_form(r, "/orgs/acme/documents/review", Some(&vic), &picks).await;
    assert_eq!(viewer_try.status, StatusCode::FORBIDDEN);
    let done = post_form(r, "/orgs/acme/documents/review", Some(&pat), &picks).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.text());
    let back = done.headers[header::LOCATION].to_str().unwrap().to_owned();
    assert!(
        back.starts_with("/orgs/acme/records/documents?overdue=yes&reviewed="),
        "{back}"
    );
    let today = jiff::ZonedDateTime::now().date().to_string();
    let html = page(r, &back, &pat).await.html();
    assert!(
        html.contains(&format!(
            "{} documents marked reviewed on {today}; 1 had changed meanwhile and was left: {stale}.",
            due.len() - 1
        )),
        "{html}"
    );
    assert_eq!(
        listed(&html, "documents"),
        [stale.as_str()],
        "only the one left is still overdue"
    );
    for key in &due[..due.len() - 1] {
        let record = f
            .store()
            .record(f.org.id, "documents", key)
            .await
            .unwrap()
            .unwrap();
        let body: Value = serde_json::from_str(&record.body).unwrap();
        assert_eq!(body["last_reviewed_on"], today.as_str(), "{key}");
    }
    let after = call(r, Method::GET, "/api/v1/orgs/acme/readiness", &viewer, None)
        .await
        .json();
    assert_eq!(
        overdue(&after),
        1,
        "the finding now names only the one left"
    );

    // With a new version: the review date, and the next version started as a draft.
    let html = page(r, "/orgs/acme/records/documents?overdue=yes", &pat)
        .await
        .html();
    let csrf = csrf_of(&html);
    let pick = format!("{}:{stale}", doc_version(&f, &stale).await);
    let done = post_form(
        r,
        "/orgs/acme/documents/review",
        Some(&pat),
        &[("csrf", &csrf), ("doc", &pick), ("new_version", "1")],
    )
    .await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.text());
    let html = page(r, done.headers[header::LOCATION].to_str().unwrap(), &pat)
        .await
        .html();
    assert!(
        html.contains(&format!(
            "1 document marked reviewed on {today}, with 1 new draft version started."
        )),
        "{html}"
    );
    let id = stale.split('/').next().unwrap();
    let versions = listed(
        &page(r, &format!("/orgs/acme/records/documents?q={id}"), &pat)
            .await
            .html(),
        "documents",
    );
    assert!(versions.len() >= 2, "{versions:?}");
    let nothing = post_form(
        r,
        "/orgs/acme/documents/review",
        Some(&pat),
        &[("csrf", &csrf)],
    )
    .await;
    assert_eq!(nothing.status, StatusCode::SEE_OTHER);
    let html = page(r, nothing.headers[header::LOCATION].to_str().unwrap(), &pat)
        .await
        .html();
    assert!(html.contains("No document was picked"), "{html}");
    assert!(html.contains(r#"<p class="notice warning" role="status">No document"#));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_register_search_past_its_cap_says_what_it_left_out() {
    let f = fixtures(Config {
        register_cap: 10,
        ..quiet()
    })
    .await
    .remove(0);
    let r = &f.router;
    let hash = auth::hash_password("correct horse battery").unwrap();
    let user = f
        .store()
        .create_user("pat@acme.example", "", Some(&hash))
        .await
        .unwrap();
    f.store()
        .set_membership(f.org.id, user.id, "manager", None)
        .await
        .unwrap();
    let pat = browser_sign_in(r, "pat@acme.example", "correct horse battery").await;
    let total = incidents(&f).await;
    assert!(total > 10);
    // Listed plainly, tickets page by key whatever their number: nothing is left out.
    let plain = page(r, "/orgs/acme/records/incidents", &pat).await.html();
    assert!(!plain.contains("were not looked at"));
    assert_eq!(listed(&plain, "incidents").len(), total.min(50) as usize);
    let searched = page(
        r,
        "/orgs/acme/records/incidents?q=inc&sort=key&dir=desc",
        &pat,
    )
    .await
    .html();
    assert!(
        searched.contains(&format!(
            "Only the first 10 incidents by key, of {total}, were searched, filtered and sorted here; the other {} were not looked at",
            total - 10
        )),
        "{searched}"
    );
    assert_eq!(listed(&searched, "incidents").len(), 10);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_plan_page_filters_by_owner_grade_status_and_lateness() {
    let f = fixtures(quiet()).await.remove(0);
    let r = &f.router;
    let hash = auth::hash_password("correct horse battery").unwrap();
    for (email, role) in [
        ("pat@acme.example", "manager"),
        ("vic@acme.example", "viewer"),
    ] {
        let user = f.store().create_user(email, "", Some(&hash)).await.unwrap();
        f.store()
            .set_membership(f.org.id, user.id, role, None)
            .await
            .unwrap();
    }
    let pat = browser_sign_in(r, "pat@acme.example", "correct horse battery").await;
    let report = call(
        r,
        Method::GET,
        "/api/v1/orgs/acme/readiness",
        &f.token("viewer"),
        None,
    )
    .await
    .json();
    let findings = report["findings"].as_array().unwrap();
    let majors = findings.iter().filter(|x| x["grade"] == "major").count();
    let rows = |html: &str| html.matches("<tr").count() - 1;

    let all = page(r, "/orgs/acme/plan", &pat).await;
    assert_eq!(all.status, StatusCode::OK);
    let html = all.html();
    assert_eq!(rows(&html), findings.len(), "every finding, one row each");
    assert!(
        html.contains("/orgs/acme/records/plan/new?finding="),
        "a default entry is created when changed"
    );
    let major = page(r, "/orgs/acme/plan?grade=major", &pat).await.html();
    assert_eq!(rows(&major), majors);
    assert!(major.contains(&format!("{majors} findings shown")));
    let owner = findings[0]["owner"].as_str().unwrap();
    let theirs = findings.iter().filter(|x| x["owner"] == owner).count();
    let by_owner = page(r, &format!("/orgs/acme/plan?owner={owner}"), &pat)
        .await
        .html();
    assert_eq!(rows(&by_owner), theirs, "{owner}");
    let in_progress = findings
        .iter()
        .filter(|x| x["status"] == "in-progress")
        .count();
    let shown = page(r, "/orgs/acme/plan?status=in-progress", &pat)
        .await
        .html();
    assert_eq!(
        rows(&shown),
        in_progress.max(1),
        "in progress, or the 'No finding matches' row"
    );
    let as_of = report["as_of"].as_str().unwrap();
    let late = findings
        .iter()
        .filter(|x| {
            x["due"].as_str().is_some_and(|d| d < as_of)
                && matches!(x["status"].as_str(), Some("open" | "in-progress"))
        })
        .count();
    let late_page = page(r, "/orgs/acme/plan?late=1", &pat).await.html();
    assert_eq!(rows(&late_page), late.max(1));
    // A filter value that is not one is refused in words; a viewer reads without Change links.
    let bad = page(r, "/orgs/acme/plan?grade=catastrophic", &pat).await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        bad.html()
            .contains("is not one of major, minor, observation")
    );
    let vic = browser_sign_in(r, "vic@acme.example", "correct horse battery").await;
    let viewer = page(r, "/orgs/acme/plan", &vic).await.html();
    assert!(!viewer.contains("records/plan/"), "no Change for a viewer");
}

/// The events of an iCalendar file, read with the `ical` crate (not the one that wrote it):
/// each as its properties by name, a property's parameters joined in after a `;`.
fn ics_events(text: &str) -> Vec<std::collections::BTreeMap<String, String>> {
    let mut calendars = ical::IcalParser::new(std::io::BufReader::new(text.as_bytes()));
    let calendar = calendars
        .next()
        .expect("one calendar")
        .unwrap_or_else(|e| panic!("not iCalendar ({e}): {text}"));
    assert!(calendars.next().is_none(), "one calendar only");
    calendar
        .events
        .iter()
        .map(|e| {
            e.properties
                .iter()
                .map(|p| {
                    let params: String = p
                        .params
                        .iter()
                        .flatten()
                        .map(|(k, v)| format!(";{k}={}", v.join(",")))
                        .collect();
                    (
                        format!("{}{params}", p.name),
                        p.value.clone().unwrap_or_default(),
                    )
                })
                .collect()
        })
        .collect()
}

#[tokio::test]
async fn a_calendar_feed_carries_my_dated_work_and_the_booked_audits_until_revoked() {
    for f in fixtures(quiet()).await {
        let r = &f.router;
        let hash = auth::hash_password("correct horse battery").unwrap();
        let user = f
            .store()
            .create_user("cal@acme.example", "", Some(&hash))
            .await
            .unwrap();
        f.store()
            .set_membership(f.org.id, user.id, "manager", None)
            .await
            .unwrap();
        f.store()
            .set_person(f.org.id, user.id, Some("c.dunmore"))
            .await
            .unwrap();
        let cal = browser_sign_in(r, "cal@acme.example", "correct horse battery").await;
        let mine = page(r, "/orgs/acme/my", &cal).await.html();
        assert!(mine.contains("Subscribe in your calendar"), "{mine}");
        let csrf = csrf_of(&mine);
        let form = |action: &'static str, csrf: &str| {
            let body = form_urlencoded::Serializer::new(String::new())
                .extend_pairs([("csrf", csrf), ("action", action)])
                .finish()
                .into_bytes();
            let cookie = cal.clone();
            async move {
                send(
                    r,
                    Method::POST,
                    "/orgs/acme/my/calendar",
                    &Cred::Cookie { cookie, csrf: None },
                    Some(("application/x-www-form-urlencoded", body)),
                    &[("host", "iso20k.test")],
                )
                .await
            }
        };
        // Without the form's CSRF token nothing is made.
        assert_eq!(form("create", "wrong").await.status, StatusCode::FORBIDDEN);
        let made = form("create", &csrf).await;
        assert_eq!(made.status, StatusCode::OK, "{}", made.text());
        let html = made.html();
        let at = html
            .find("http://iso20k.test/calendar/")
            .expect("the feed's address, shown once");
        let url = html[at..].split('"').next().unwrap().to_owned();
        assert!(url.ends_with(".ics"), "{url}");
        let path = url.trim_start_matches("http://iso20k.test").to_owned();
        let secret = path
            .trim_start_matches("/calendar/")
            .trim_end_matches(".ics");
        // Only its digest is kept.
        let shown_again = page(r, "/orgs/acme/my", &cal).await.html();
        assert!(
            !shown_again.contains(secret),
            "the secret is shown only once"
        );
        assert!(shown_again.contains("You have a calendar feed"));

        // No session: the secret is the key.
        let feed = send(
            r,
            Method::GET,
            &path,
            &Cred::None,
            None,
            &[("host", "iso20k.test")],
        )
        .await;
        assert_eq!(feed.status, StatusCode::OK, "{}", feed.text());
        assert_eq!(
            feed.headers[header::CONTENT_TYPE],
            "text/calendar; charset=utf-8"
        );
        let events = ics_events(&feed.text());
        let uid = |e: &std::collections::BTreeMap<String, String>| e["UID"].clone();
        let document = events
            .iter()
            .find(|e| e["SUMMARY"].contains("PRC-005"))
            .unwrap_or_else(|| panic!("the overdue document: {events:#?}"));
        assert_eq!(document["DTSTART;VALUE=DATE"], "20250610", "{document:?}");
        assert!(document["UID"].ends_with("@acme.iso20k"), "{document:?}");
        assert_eq!(
            document["URL"],
            "http://iso20k.test/orgs/acme/records/documents/PRC-005%2F2.0"
        );
        // Every dated item of My work is an event: the findings the plan gives them too.
        let todos = events
            .iter()
            .filter(|e| !e["UID"].starts_with("booking/"))
            .count();
        assert!(todos >= 2, "{events:#?}");
        assert!(events.iter().any(|e| e["UID"].starts_with("finding/")));
        let stage1 = events
            .iter()
            .find(|e| e["UID"] == "booking/stage-1@acme.iso20k")
            .unwrap_or_else(|| panic!("the booked stage 1 audit: {events:#?}"));
        assert_eq!(stage1["DTSTART;VALUE=DATE"], "20260908");
        assert!(stage1["SUMMARY"].contains("Stage 1 audit"));
        assert_eq!(stage1["URL"], "http://iso20k.test/orgs/acme");
        assert!(
            events
                .iter()
                .any(|e| e["UID"] == "booking/stage-2@acme.iso20k")
        );
        // The UIDs are stable: the same feed twice, the same events.
        let again = send(
            r,
            Method::GET,
            &path,
            &Cred::None,
            None,
            &[("host", "iso20k.test")],
        )
        .await;
        let uids: BTreeSet<String> = events.iter().map(uid).collect();
        let uids_again: BTreeSet<String> = ics_events(&again.text()).iter().map(uid).collect();
        assert_eq!(uids, uids_again);
        assert_eq!(uids.len(), events.len(), "no UID twice");

        // A new link replaces the old; revoking ends it. Unknown secrets are 404s.
        let replaced = form("create", &csrf).await.html();
        let at = replaced.find("http://iso20k.test/calendar/").unwrap();
        let new_path = replaced[at..]
            .split('"')
            .next()
            .unwrap()
            .trim_start_matches("http://iso20k.test")
            .to_owned();
        assert_ne!(new_path, path);
        let old = send(
            r,
            Method::GET,
            &path,
            &Cred::None,
            None,
            &[("host", "iso20k.test")],
        )
        .await;
        assert_eq!(old.status, StatusCode::NOT_FOUND);
        let new = send(
            r,
            Method::GET,
            &new_path,
            &Cred::None,
            None,
            &[("host", "iso20k.test")],
        )
        .await;
        assert_eq!(new.status, StatusCode::OK);
        let revoked = form("revoke", &csrf).await;
        assert_eq!(revoked.status, StatusCode::SEE_OTHER);
        let gone = send(
            r,
            Method::GET,
            &new_path,
            &Cred::None,
            None,
            &[("host", "iso20k.test")],
        )
        .await;
        assert_eq!(gone.status, StatusCode::NOT_FOUND);
        for unknown in ["/calendar/nothing.ics", "/calendar/.ics", "/calendar/x"] {
            let reply = send(
                r,
                Method::GET,
                unknown,
                &Cred::None,
                None,
                &[("host", "iso20k.test")],
            )
            .await;
            assert_eq!(reply.status, StatusCode::NOT_FOUND, "{unknown}");
        }
        assert!(
            page(r, "/orgs/acme/my", &cal)
                .await
                .html()
                .contains("Subscribe in your calendar")
        );

        // The digest opt-out is a checkbox on the same page.
        let membership = || async {
            f.store()
                .membership(f.org.id, user.id)
                .await
                .unwrap()
                .unwrap()
        };
        assert!(!membership().await.digest_opt_out);
        let opt = |ticked: bool| {
            let csrf = csrf.clone();
            let cal = cal.clone();
            async move {
                let mut pairs = vec![("csrf", csrf.as_str())];
                if ticked {
                    pairs.push(("digest", "on"));
                }
                post_form(r, "/orgs/acme/my/digest", Some(&cal), &pairs).await
            }
        };
        assert_eq!(opt(false).await.status, StatusCode::SEE_OTHER);
        assert!(membership().await.digest_opt_out);
        assert!(
            !page(r, "/orgs/acme/my", &cal)
                .await
                .html()
                .contains(r#"value="on" checked"#)
        );
        assert_eq!(opt(true).await.status, StatusCode::SEE_OTHER);
        assert!(!membership().await.digest_opt_out);
        assert!(
            page(r, "/orgs/acme/my", &cal)
                .await
                .html()
                .contains(r#"value="on" checked"#)
        );
    }
}

// ---------------------------------------------------------------------------------------------
// The nonconformity loop

/// A nonconformity record as stored, with its version.
async fn nc_record(f: &Fixture, id: &str) -> (i64, Value) {
    let r = f
        .store()
        .record(f.org.id, "nonconformities", id)
        .await
        .unwrap()
        .unwrap_or_else(|| panic!("no {id}"));
    (r.version, serde_json::from_str(&r.body).unwrap())
}

/// Replaces a nonconformity through the API with `edit` applied to it as stored.
async fn nc_put(f: &Fixture, cred: &Cred, id: &str, edit: impl FnOnce(&mut Value)) -> Reply {
    let (version, mut body) = nc_record(f, id).await;
    edit(&mut body);
    call(
        &f.router,
        Method::PUT,
        &format!("/api/v1/orgs/acme/records/nonconformities/{}", enc(id)),
        cred,
        Some(json!({ "version": version, "record": body })),
    )
    .await
}

/// Checks a reply's body against the OpenAPI document's schema for its operation and status.
fn matches_schema(path: &str, method: &str, reply: &Reply) {
    let doc = iso20k_server::openapi_document().clone();
    let schema = doc["paths"][path][method]["responses"][reply.status.as_str()]["content"]
        ["application/json"]["schema"]
        .clone();
    assert!(
        !schema.is_null(),
        "{method} {path} documents no {}",
        reply.status
    );
    let wrapped = json!({
        "$ref": "#/$defs/target",
        "$defs": { "target": schema },
        "components": doc["components"].clone()
    });
    let v = jsonschema::validator_for(&wrapped).unwrap();
    let body = reply.json();
    let errors: Vec<String> = v
        .iter_errors(&body)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .take(5)
        .collect();
    assert!(errors.is_empty(), "{method} {path}: {errors:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn closing_a_nonconformity_waits_for_its_root_cause_actions_and_an_effective_check() {
    for f in fixtures(quiet()).await {
        let r = &f.router;
        let auditor = f.token("auditor");
        let manager = f.token("manager");
        let label = f.db.label;
        let created = call(
            r,
            Method::POST,
            "/api/v1/orgs/acme/records/nonconformities",
            &auditor,
            Some(json!({ "record": {
                "id": "NC-T-1", "description": "Changes without review", "grade": "minor",
                "raised_on": "2026-01-10",
            } })),
        )
        .await;
        assert_eq!(created.status, StatusCode::CREATED, "{}", created.text());

        // Closing through the record API and through /close: refused, with every reason.
        let put = nc_put(&f, &auditor, "NC-T-1", |b| {
            b["closed_on"] = json!("2026-02-01")
        })
        .await;
        assert_eq!(put.status, StatusCode::CONFLICT, "{label}: {}", put.text());
        assert_eq!(
            put.json()["error"],
            "NC-T-1 cannot be closed yet: no root cause is recorded; no corrective action is \
             recorded; no effectiveness check has found that the actions worked."
        );
        let close = |body: Option<Value>| {
            call(
                r,
                Method::POST,
                "/api/v1/orgs/acme/nonconformities/NC-T-1/close",
                &auditor,
                body,
            )
        };
        let refused = close(None).await;
        assert_eq!(refused.status, StatusCode::CONFLICT);
        matches_schema(
            "/api/v1/orgs/{slug}/nonconformities/{id}/close",
            "post",
            &refused,
        );
        assert_eq!(nc_record(&f, "NC-T-1").await.0, 1, "nothing saved");

        // The manager answers it: root cause and an action, not yet implemented.
        let answered = nc_put(&f, &manager, "NC-T-1", |b| {
            b["correction"] = json!("Reviews held for the three changes");
            b["root_cause"] = json!("The tool closed changes before the review");
            b["actions"] = json!([{ "id": "NC-T-1-CA1", "description": "Block closure",
                                    "owner": "c.dunmore", "due": "2026-03-01" }]);
        })
        .await;
        assert_eq!(answered.status, StatusCode::OK, "{}", answered.text());
        let refused = close(None).await;
        assert_eq!(
            refused.json()["error"],
            "NC-T-1 cannot be closed yet: corrective action NC-T-1-CA1 is not implemented; no \
             effectiveness check has found that the actions worked."
        );
        // A manager neither records the check nor closes.
        let by_manager = nc_put(&f, &manager, "NC-T-1", |b| {
            b["effectiveness"] = json!({ "checked_on": "2026-04-01", "effective": true });
        })
        .await;
        assert_eq!(by_manager.status, StatusCode::FORBIDDEN);
        assert!(
            by_manager.json()["error"]
                .as_str()
                .unwrap()
                .contains("the auditor verifies"),
            "{}",
            by_manager.text()
        );
        let by_manager = call(
            r,
            Method::POST,
            "/api/v1/orgs/acme/nonconformities/NC-T-1/close",
            &manager,
            None,
        )
        .await;
        assert_eq!(by_manager.status, StatusCode::FORBIDDEN);

        // Implemented and checked effective: it closes, on the day given.
        let done = nc_put(&f, &manager, "NC-T-1", |b| {
            b["actions"][0]["implemented_on"] = json!("2026-02-20");
        })
        .await;
        assert_eq!(done.status, StatusCode::OK, "{}", done.text());
        let early = nc_put(&f, &auditor, "NC-T-1", |b| {
            b["effectiveness"] = json!({ "checked_on": "2026-02-10", "effective": true });
        })
        .await;
        assert_eq!(early.status, StatusCode::OK);
        let refused = close(None).await;
        assert!(
            refused.json()["error"]
                .as_str()
                .unwrap()
                .contains("the effectiveness check was held before corrective action NC-T-1-CA1 was implemented"),
            "{}",
            refused.text()
        );
        let checked = nc_put(&f, &auditor, "NC-T-1", |b| {
            b["effectiveness"] = json!({ "checked_on": "2026-04-01", "checked_by": "c.dunmore",
                                         "effective": true, "note": "No change closed unreviewed" });
        })
        .await;
        assert_eq!(checked.status, StatusCode::OK);
        let before_check = close(Some(json!({ "on": "2026-03-15" }))).await;
        assert_eq!(before_check.status, StatusCode::CONFLICT);
        assert!(
            before_check
                .text()
                .contains("before its effectiveness check on 2026-04-01")
        );
        let bad_day = close(Some(json!({ "on": "2026-02-30" }))).await;
        assert_eq!(bad_day.status, StatusCode::UNPROCESSABLE_ENTITY);
        let closed = close(Some(json!({ "on": "2026-04-02" }))).await;
        assert_eq!(closed.status, StatusCode::OK, "{label}: {}", closed.text());
        matches_schema(
            "/api/v1/orgs/{slug}/nonconformities/{id}/close",
            "post",
            &closed,
        );
        assert_eq!(closed.json()["record"]["closed_on"], "2026-04-02");
        let again = close(None).await;
        assert_eq!(again.status, StatusCode::CONFLICT);
        assert!(again.text().contains("closed already, since 2026-04-02"));
        let unknown = call(
            r,
            Method::POST,
            "/api/v1/orgs/acme/nonconformities/NC-NONE/close",
            &auditor,
            None,
        )
        .await;
        assert_eq!(unknown.status, StatusCode::NOT_FOUND);

        // A create that arrives closed is gated the same way; an observation closes freely.
        let arrives_closed = call(
            r,
            Method::POST,
            "/api/v1/orgs/acme/records/nonconformities",
            &auditor,
            Some(json!({ "record": {
                "id": "NC-T-2", "description": "x", "grade": "major", "closed_on": "2026-02-01",
            } })),
        )
        .await;
        assert_eq!(arrives_closed.status, StatusCode::CONFLICT);
        assert!(
            f.store()
                .record(f.org.id, "nonconformities", "NC-T-2")
                .await
                .unwrap()
                .is_none()
        );
        let observation = call(
            r,
            Method::POST,
            "/api/v1/orgs/acme/records/nonconformities",
            &auditor,
            Some(json!({ "record": {
                "id": "NC-T-3", "description": "x", "grade": "observation", "closed_on": "2026-02-01",
            } })),
        )
        .await;
        assert_eq!(
            observation.status,
            StatusCode::CREATED,
            "{}",
            observation.text()
        );
        // The bulk import is not gated: the demo's NC-2025-02 was closed without a check.
        let (_, imported) = nc_record(&f, "NC-2025-02").await;
        assert_eq!(imported["closed_on"], "2025-07-15");
        assert!(imported.get("effectiveness").is_none());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_ineffective_check_reopens_the_nonconformity_and_needs_a_new_action() {
    for f in fixtures(quiet()).await {
        let auditor = f.token("auditor");
        // NC-2024-01 is closed after an effective check; a later check finds it came back.
        let without = nc_put(&f, &auditor, "NC-2024-01", |b| {
            b["effectiveness"] = json!({ "checked_on": "2025-09-01", "checked_by": "r.ashdown",
                                         "effective": false, "note": "The RACI lagged again" });
        })
        .await;
        assert_eq!(without.status, StatusCode::CONFLICT, "{}", without.text());
        assert!(
            without.json()["error"]
                .as_str()
                .unwrap()
                .contains("must add a new corrective action"),
            "{}",
            without.text()
        );
        let with = nc_put(&f, &auditor, "NC-2024-01", |b| {
            b["effectiveness"] = json!({ "checked_on": "2025-09-01", "checked_by": "r.ashdown",
                                         "effective": false, "note": "The RACI lagged again" });
            b["actions"].as_array_mut().unwrap().push(json!({
                "id": "NC-2024-01-CA2", "description": "Quarterly RACI review",
                "owner": "r.ashdown", "due": "2025-12-31",
            }));
        })
        .await;
        assert_eq!(with.status, StatusCode::OK, "{}", with.text());
        let (_, body) = nc_record(&f, "NC-2024-01").await;
        assert!(body.get("closed_on").is_none(), "reopened: {body}");
        assert!(body.get("effectiveness").is_none(), "{body}");
        assert_eq!(
            body["earlier_checks"][0]["note"], "The RACI lagged again",
            "{body}"
        );
        let board = call(
            &f.router,
            Method::GET,
            "/api/v1/orgs/acme/nonconformities/board",
            &f.token("viewer"),
            None,
        )
        .await
        .json();
        let card = board["cards"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["id"] == "NC-2024-01")
            .unwrap()
            .clone();
        assert_eq!(card["step"], "implementation", "{card}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn raising_from_an_audit_finding_links_both_ways_and_only_once() {
    for f in fixtures(quiet()).await {
        let r = &f.router;
        let auditor = f.token("auditor");
        let year = jiff::ZonedDateTime::now().date().year();
        let raise = |cred: Cred, source: &'static str, id: String| async move {
            call(
                r,
                Method::POST,
                "/api/v1/orgs/acme/nonconformities/raise",
                &cred,
                Some(json!({ "source": source, "source_ref": id })),
            )
            .await
        };
        let raised = raise(auditor.clone(), "internal-audit", "IA-2025-01-F2".into()).await;
        assert_eq!(raised.status, StatusCode::CREATED, "{}", raised.text());
        matches_schema("/api/v1/orgs/{slug}/nonconformities/raise", "post", &raised);
        let nc = raised.json()["record"].clone();
        let id = nc["id"].as_str().unwrap().to_owned();
        let number = |id: &str| -> u32 {
            id.strip_prefix(&format!("NC-{year}-"))
                .unwrap_or_else(|| panic!("{id} is not NC-{year}-NN"))
                .parse()
                .unwrap()
        };
        let n = number(&id);
        assert_eq!(nc["source"], "internal-audit");
        assert_eq!(nc["source_ref"], "IA-2025-01-F2");
        assert_eq!(nc["grade"], "minor");
        assert_eq!(nc["clauses"], json!(["8.6.3"]));
        assert!(
            nc["description"]
                .as_str()
                .unwrap()
                .starts_with("Two of the five problems sampled")
        );
        assert_eq!(
            nc["raised_on"],
            jiff::ZonedDateTime::now().date().to_string().as_str()
        );
        let audit = call(
            r,
            Method::GET,
            "/api/v1/orgs/acme/records/audits/IA-2025-01",
            &auditor,
            None,
        )
        .await
        .json();
        let finding = audit["record"]["findings"]
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["id"] == "IA-2025-01-F2")
            .unwrap()
            .clone();
        assert_eq!(finding["nonconformity"], id.as_str());

        // Once only; observations are not nonconformities; unknown findings are not found.
        let again = raise(auditor.clone(), "internal-audit", "IA-2025-01-F2".into()).await;
        assert_eq!(again.status, StatusCode::CONFLICT);
        assert!(
            again
                .text()
                .contains(&format!("already has nonconformity {id}"))
        );
        let observation = raise(auditor.clone(), "internal-audit", "IA-2025-01-F3".into()).await;
        assert_eq!(observation.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(
            observation
                .text()
                .contains("observations are not nonconformities")
        );
        let unknown = raise(auditor.clone(), "internal-audit", "IA-NONE".into()).await;
        assert_eq!(unknown.status, StatusCode::NOT_FOUND);
        // A manager answers nonconformities but does not write the audit's findings.
        let manager = raise(f.token("manager"), "internal-audit", "IA-2025-02-F1".into()).await;
        assert_eq!(manager.status, StatusCode::FORBIDDEN);
        // A nonconformity that names the finding as its source counts too.
        let named = call(
            r,
            Method::POST,
            "/api/v1/orgs/acme/records/nonconformities",
            &auditor,
            Some(json!({ "record": {
                "id": "NC-NAMED", "description": "Supplier reviews unminuted",
                "source": "internal-audit", "source_ref": "IA-2025-02-F1",
            } })),
        )
        .await;
        assert_eq!(named.status, StatusCode::CREATED);
        let twice = raise(auditor.clone(), "internal-audit", "IA-2025-02-F1".into()).await;
        assert_eq!(twice.status, StatusCode::CONFLICT);
        assert!(twice.text().contains("already has nonconformity NC-NAMED"));

        // From a complaint, an incident and a management review: their own words, next ids.
        let complaint = raise(f.token("manager"), "complaint", "COMP-2026-003".into()).await;
        assert_eq!(
            complaint.status,
            StatusCode::CREATED,
            "{}",
            complaint.text()
        );
        let c = complaint.json()["record"].clone();
        assert_eq!(number(c["id"].as_str().unwrap()), n + 1);
        assert_eq!(
            c["description"],
            "Monthly service reports for January and February 2026 arrived late"
        );
        assert_eq!(c["source"], "complaint");
        let incident = first(&f, "incidents").await;
        let i = raise(f.token("manager"), "incident", incident.key.clone()).await;
        assert_eq!(i.status, StatusCode::CREATED, "{}", i.text());
        assert!(
            i.json()["record"]["description"]
                .as_str()
                .unwrap()
                .starts_with(&format!("Incident {} (priority", incident.key)),
            "{}",
            i.text()
        );
        let review = raise(f.token("admin"), "management-review", "MR-2024-2".into()).await;
        assert_eq!(review.status, StatusCode::CREATED, "{}", review.text());
        assert!(
            review.json()["record"]["description"]
                .as_str()
                .unwrap()
                .starts_with("Raised by management review MR-2024-2")
        );
        let bad = call(
            r,
            Method::POST,
            "/api/v1/orgs/acme/nonconformities/raise",
            &auditor,
            Some(json!({ "source": "gossip", "source_ref": "x" })),
        )
        .await;
        assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(bad.json()["fields"][0]["field"], "source");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_board_puts_overdue_nonconformities_first_and_filters() {
    for f in fixtures(quiet()).await {
        let r = &f.router;
        // Raised in January with nothing done: a minor's plan was due after 90 days.
        let late = call(
            r,
            Method::POST,
            "/api/v1/orgs/acme/records/nonconformities",
            &f.token("auditor"),
            Some(json!({ "record": {
                "id": "NC-LATE", "description": "Nobody answered", "grade": "major",
                "raised_on": "2026-01-01", "owner": "d.varga",
            } })),
        )
        .await;
        assert_eq!(late.status, StatusCode::CREATED, "{}", late.text());
        let board = call(
            r,
            Method::GET,
            "/api/v1/orgs/acme/nonconformities/board",
            &f.token("viewer"),
            None,
        )
        .await;
        assert_eq!(board.status, StatusCode::OK);
        matches_schema("/api/v1/orgs/{slug}/nonconformities/board", "get", &board);
        let board = board.json();
        assert_eq!(board["as_of"], "2026-06-30", "the demo's own day");
        let cards = board["cards"].as_array().unwrap();
        assert_eq!(cards[0]["id"], "NC-LATE", "{board}");
        assert_eq!(cards[0]["overdue"], true);
        assert_eq!(cards[0]["due"], "2026-04-01");
        assert_eq!(cards[0]["overdue_days"], 90);
        assert_eq!(cards[0]["step"], "correction");
        assert_eq!(cards[0]["owner"], "d.varga");
        assert!(cards[0]["owner_name"].is_string());
        // Overdue before the rest, closed last.
        let rank = |c: &Value| {
            if c["step"] == "closed" {
                2
            } else if c["overdue"] == true {
                0
            } else {
                1
            }
        };
        let ranks: Vec<i32> = cards.iter().map(rank).collect();
        let mut sorted = ranks.clone();
        sorted.sort();
        assert_eq!(ranks, sorted, "{board}");
        let source = cards
            .iter()
            .find(|c| c["id"] == "NC-2025-01")
            .unwrap()
            .clone();
        assert_eq!(source["source"], "complaint");
        assert_eq!(
            source["source_link"],
            "/orgs/acme/records/complaints/COMP-2025-007"
        );
        let viewer = f.token("viewer");
        let only = |q: &'static str| {
            let viewer = viewer.clone();
            async move {
                call(
                    r,
                    Method::GET,
                    &format!("/api/v1/orgs/acme/nonconformities/board?{q}"),
                    &viewer,
                    None,
                )
                .await
            }
        };
        let overdue = only("overdue=true").await.json();
        assert!(
            overdue["cards"]
                .as_array()
                .unwrap()
                .iter()
                .all(|c| c["overdue"] == true)
        );
        let majors = only("grade=major").await.json();
        assert_eq!(majors["cards"].as_array().unwrap().len(), 1, "{majors}");
        let theirs = only("owner=d.varga").await.json();
        assert!(
            theirs["cards"]
                .as_array()
                .unwrap()
                .iter()
                .all(|c| c["owner"] == "d.varga")
        );
        assert_eq!(
            only("grade=catastrophic").await.status,
            StatusCode::UNPROCESSABLE_ENTITY
        );
        assert_eq!(
            only("as_of=tomorrow").await.status,
            StatusCode::UNPROCESSABLE_ENTITY
        );
    }
}

/// Posts a form of a page with its session's CSRF token; follows nothing.
async fn submit(r: &Router, uri: &str, cookie: &str, csrf: &str, fields: &[(&str, &str)]) -> Reply {
    let mut pairs = vec![("csrf", csrf)];
    pairs.extend_from_slice(fields);
    post_form(r, uri, Some(cookie), &pairs).await
}

/// Where a redirect goes.
fn location(reply: &Reply) -> String {
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.text());
    reply.headers[header::LOCATION].to_str().unwrap().to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_nonconformity_page_walks_the_loop_through_its_forms() {
    // The pages' rules are the server's, whatever the engine: SQLite is enough.
    let f = fixtures(quiet()).await.remove(0);
    let r = &f.router;
    let today = jiff::ZonedDateTime::now().date().to_string();
    let hash = auth::hash_password("correct horse battery").unwrap();
    for (email, role) in [
        ("ada@acme.example", "auditor"),
        ("pat@acme.example", "manager"),
        ("vic@acme.example", "viewer"),
    ] {
        let user = f.store().create_user(email, "", Some(&hash)).await.unwrap();
        f.store()
            .set_membership(f.org.id, user.id, role, None)
            .await
            .unwrap();
    }
    let ada = browser_sign_in(r, "ada@acme.example", "correct horse battery").await;
    let pat = browser_sign_in(r, "pat@acme.example", "correct horse battery").await;
    let vic = browser_sign_in(r, "vic@acme.example", "correct horse battery").await;

    // The audit's page offers to raise a nonconformity for its open finding, not its
    // observation, and links the finding that has one.
    let audit = page(r, "/orgs/acme/records/audits/IA-2025-01", &ada).await;
    assert_eq!(audit.status, StatusCode::OK);
    let html = audit.html();
    assert!(
        html.contains("Raise a nonconformity<span class=\"visually-hidden\"> for IA-2025-01-F2")
    );
    assert!(!html.contains("for IA-2025-01-F3"), "an observation");
    assert!(html.contains("href=\"/orgs/acme/nonconformities/NC-2025-02\""));
    let csrf = csrf_of(&html);
    let raised = submit(
        r,
        "/orgs/acme/nonconformities/raise",
        &ada,
        &csrf,
        &[
            ("source", "internal-audit"),
            ("source_ref", "IA-2025-01-F2"),
        ],
    )
    .await;
    let to = location(&raised);
    assert!(to.ends_with("?saved=raised"), "{to}");
    let here = to.split('?').next().unwrap().to_owned();
    let id = here.rsplit('/').next().unwrap().to_owned();
    let shown = page(r, &to, &ada).await;
    assert_eq!(shown.status, StatusCode::OK);
    let html = shown.html();
    assert!(html.contains("Raised. Record the correction"));
    assert!(html.contains("href=\"/orgs/acme/records/audits/IA-2025-01#finding-IA-2025-01-F2\""));
    assert!(html.contains("Needs a correction"));
    // Both ways: the audit's page now links the new nonconformity.
    let audit = page(r, "/orgs/acme/records/audits/IA-2025-01", &vic)
        .await
        .html();
    assert!(audit.contains(&format!("href=\"{here}\"")), "{id}");

    // The manager answers: correction, root cause, an action with an owner and a date.
    let mine = page(r, &here, &pat).await.html();
    let csrf_pat = csrf_of(&mine);
    assert!(mine.contains("Only an auditor or an administrator records the effectiveness check"));
    assert!(!mine.contains("Save the check"));
    let v = nc_record(&f, &id).await.0.to_string();
    let saved = submit(
        r,
        &format!("{here}/correction"),
        &pat,
        &csrf_pat,
        &[
            ("version", &v),
            ("correction", "Known errors recorded for the two problems"),
        ],
    )
    .await;
    assert_eq!(
        location(&saved),
        format!("{here}?saved=correction#correction")
    );
    let v = nc_record(&f, &id).await.0.to_string();
    let saved = submit(
        r,
        &format!("{here}/root-cause"),
        &pat,
        &csrf_pat,
        &[
            ("version", &v),
            (
                "root_cause",
                "The problem procedure never said when to record a known error",
            ),
            ("root_cause_method", "five-whys"),
        ],
    )
    .await;
    location(&saved);
    // A date that is not one is said in words beside the form, and nothing is saved.
    let v = nc_record(&f, &id).await.0.to_string();
    let bad = submit(
        r,
        &format!("{here}/actions"),
        &pat,
        &csrf_pat,
        &[
            ("version", &v),
            ("description", "Add the rule"),
            ("owner", "c.dunmore"),
            ("due", "soon"),
        ],
    )
    .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        bad.html().contains("Due: “soon” is not a date"),
        "{}",
        bad.html()
    );
    assert!(
        bad.html().contains(">Add the rule</textarea>"),
        "what was typed stays"
    );
    assert_eq!(nc_record(&f, &id).await.0.to_string(), v);
    let saved = submit(
        r,
        &format!("{here}/actions"),
        &pat,
        &csrf_pat,
        &[
            ("version", &v),
            ("description", "Add the rule"),
            ("owner", "c.dunmore"),
            ("due", "2026-12-31"),
        ],
    )
    .await;
    location(&saved);
    let (_, body) = nc_record(&f, &id).await;
    assert_eq!(body["root_cause_method"], "five-whys");
    let action = format!("{id}-CA1");
    assert_eq!(body["actions"][0]["id"], action.as_str());
    assert_eq!(body["actions"][0]["owner"], "c.dunmore");
    // Managers do not close; a stale form saves nothing.
    let v = nc_record(&f, &id).await.0.to_string();
    let refused = submit(
        r,
        &format!("{here}/close"),
        &pat,
        &csrf_pat,
        &[("version", &v)],
    )
    .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    let stale = submit(
        r,
        &format!("{here}/correction"),
        &pat,
        &csrf_pat,
        &[("version", "1"), ("correction", "Overwritten")],
    )
    .await;
    assert_eq!(stale.status, StatusCode::CONFLICT);
    assert!(
        stale
            .html()
            .contains("Someone else changed this nonconformity")
    );

    // The auditor cannot close it yet: the reasons are beside the button, nothing saved.
    let html = page(r, &here, &ada).await.html();
    let csrf_ada = csrf_of(&html);
    assert!(html.contains(&format!("Corrective action {action} is not implemented.")));
    let v = nc_record(&f, &id).await.0.to_string();
    let refused = submit(
        r,
        &format!("{here}/close"),
        &ada,
        &csrf_ada,
        &[("version", &v), ("on", &today)],
    )
    .await;
    assert_eq!(refused.status, StatusCode::CONFLICT);
    assert!(refused.html().contains(&format!(
        "{id} cannot be closed yet: corrective action {action} is not implemented"
    )));
    assert!(nc_record(&f, &id).await.1.get("closed_on").is_none());

    // Implemented (by the manager), then checked: not effective needs the new action.
    let saved = submit(
        r,
        &format!("{here}/actions/{}/implemented", enc(&action)),
        &pat,
        &csrf_pat,
        &[
            ("version", &v),
            ("on", "2026-07-01"),
            ("evidence", "PRB0001, PRB0002"),
        ],
    )
    .await;
    location(&saved);
    let (_, body) = nc_record(&f, &id).await;
    assert_eq!(body["actions"][0]["implemented_on"], "2026-07-01");
    assert_eq!(
        body["actions"][0]["evidence"],
        json!(["PRB0001", "PRB0002"])
    );
    let v = nc_record(&f, &id).await.0.to_string();
    let ineffective = [
        ("version", v.as_str()),
        ("checked_by", "c.dunmore"),
        ("checked_on", "2026-09-01"),
        ("result", "not-effective"),
        ("note", "Two new problems again had no known error"),
    ];
    let refused = submit(
        r,
        &format!("{here}/effectiveness"),
        &ada,
        &csrf_ada,
        &ineffective,
    )
    .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        refused
            .html()
            .contains("describe the new corrective action")
    );
    let mut with_action = ineffective.to_vec();
    with_action.extend([
        ("new_description", "Make the known error a required field"),
        ("new_owner", "c.dunmore"),
        ("new_due", "2026-10-31"),
    ]);
    let saved = submit(
        r,
        &format!("{here}/effectiveness"),
        &ada,
        &csrf_ada,
        &with_action,
    )
    .await;
    assert_eq!(
        location(&saved),
        format!("{here}?saved=reopened#effectiveness")
    );
    let html = page(r, &location(&saved), &ada).await.html();
    assert!(html.contains("Earlier checks that found the actions did not work"));
    assert!(html.contains("Two new problems again had no known error"));
    assert!(html.contains("Make the known error a required field"));
    let (_, body) = nc_record(&f, &id).await;
    assert!(body.get("effectiveness").is_none());
    let second = format!("{id}-CA2");
    assert_eq!(body["actions"][1]["id"], second.as_str());

    // The second action done and found effective: it closes.
    let v = nc_record(&f, &id).await.0.to_string();
    location(
        &submit(
            r,
            &format!("{here}/actions/{}/implemented", enc(&second)),
            &pat,
            &csrf_pat,
            &[("version", &v), ("on", "2026-10-20")],
        )
        .await,
    );
    let v = nc_record(&f, &id).await.0.to_string();
    location(
        &submit(
            r,
            &format!("{here}/effectiveness"),
            &ada,
            &csrf_ada,
            &[
                ("version", &v),
                ("checked_by", "c.dunmore"),
                ("checked_on", "2026-11-30"),
                ("result", "effective"),
                ("note", "Every problem since had its known error"),
            ],
        )
        .await,
    );
    let v = nc_record(&f, &id).await.0.to_string();
    let closed = submit(
        r,
        &format!("{here}/close"),
        &ada,
        &csrf_ada,
        &[("version", &v), ("on", &today)],
    )
    .await;
    assert_eq!(location(&closed), format!("{here}?saved=close#close"));
    let html = page(r, &location(&closed), &vic).await.html();
    assert!(html.contains(&format!("Closed on {today}.")));
    assert!(!html.contains("Save the correction"), "a viewer reads");
    assert!(!html.contains("Raise a nonconformity"));
    let board = page(r, "/orgs/acme/nonconformities", &vic).await;
    assert_eq!(board.status, StatusCode::OK);

    // The generic record form is gated too: closing there says why beside the form.
    let record_page = page(r, "/orgs/acme/records/nonconformities/NC-2026-01", &ada)
        .await
        .html();
    assert!(record_page.contains("href=\"/orgs/acme/nonconformities/NC-2026-01\""));
    let (v, body) = nc_record(&f, "NC-2026-01").await;
    let mut fields: Vec<(String, String)> = vec![
        ("csrf".into(), csrf_ada.clone()),
        ("_version".into(), v.to_string()),
        ("id".into(), "NC-2026-01".into()),
        (
            "description".into(),
            body["description"].as_str().unwrap().into(),
        ),
        ("grade".into(), "minor".into()),
        ("closed_on".into(), "2026-12-01".into()),
    ];
    fields.push(("source".into(), "monitoring".into()));
    let pairs: Vec<(&str, &str)> = fields
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let refused = post_form(
        r,
        "/orgs/acme/records/nonconformities/NC-2026-01",
        Some(&ada),
        &pairs,
    )
    .await;
    assert_eq!(refused.status, StatusCode::CONFLICT, "{}", refused.html());
    assert!(
        refused
            .html()
            .contains("NC-2026-01 cannot be closed yet: no root cause is recorded")
    );
    assert_eq!(nc_record(&f, "NC-2026-01").await.0, v, "nothing saved");

    // An observation: no root cause, actions or check, and it closes.
    let created = call(
        r,
        Method::POST,
        "/api/v1/orgs/acme/records/nonconformities",
        &f.token("auditor"),
        Some(json!({ "record": { "id": "NC-OBS", "description": "Categories drift", "grade": "observation" } })),
    )
    .await;
    assert_eq!(created.status, StatusCode::CREATED);
    let html = page(r, "/orgs/acme/nonconformities/NC-OBS", &ada)
        .await
        .html();
    assert!(html.contains("An observation needs no root cause or corrective action"));
    assert!(!html.contains("Save the root cause"));
    assert!(!html.contains("Save the check"));
    let closed = submit(
        r,
        "/orgs/acme/nonconformities/NC-OBS/close",
        &ada,
        &csrf_ada,
        &[("version", "1")],
    )
    .await;
    location(&closed);

    // A complaint's page lists what was raised from it and offers to raise another.
    let complaint = page(r, "/orgs/acme/records/complaints/COMP-2025-007", &pat)
        .await
        .html();
    assert!(complaint.contains("href=\"/orgs/acme/nonconformities/NC-2025-01\""));
    assert!(complaint.contains("name=\"source\" value=\"complaint\""));
    let unknown = page(r, "/orgs/acme/nonconformities/NC-NONE", &ada).await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
}

// ---------------------------------------------------------------------------------------------
// The internal audit programme, audits, samples and reports

/// The row of a programme table with this key.
fn programme_row<'a>(p: &'a Value, table: &str, key: &str) -> &'a Value {
    p[table]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["key"] == key)
        .unwrap_or_else(|| panic!("no {table} row {key}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_audit_programme_shows_the_cycle_its_gaps_and_the_yearly_rows() {
    for f in fixtures(quiet()).await {
        let r = &f.router;
        let viewer = f.token("viewer");
        let reply = call(
            r,
            Method::GET,
            "/api/v1/orgs/acme/audit-programme?as_of=2026-06-30",
            &viewer,
            None,
        )
        .await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
        let p = reply.json();
        assert_eq!(p["as_of"], "2026-06-30");
        assert_eq!(p["cycle"]["start"], "2024-09-01", "{}", f.db.label);
        assert_eq!(p["cycle"]["end"], "2027-08-31");
        assert_eq!(p["cycle"]["length"], "3 years");
        assert_eq!(p["cycle"]["years"].as_array().unwrap().len(), 3);
        assert_eq!(p["cycle"]["years"][1]["start"], "2025-09-01");
        assert!(p["rule"].as_str().unwrap().contains("high risk"));
        // Budgeting was to be audited by IA-2025-03, which was cancelled: a gap every year.
        let budget = programme_row(&p, "processes", "budget");
        assert_eq!(budget["frequency"], "once-per-cycle");
        assert!(
            budget["cells"]
                .as_array()
                .unwrap()
                .iter()
                .all(|c| c["state"] == "gap" && c["label"] == "gap"),
            "{budget}"
        );
        // Change management was audited with a report in the first year.
        let change = programme_row(&p, "processes", "change");
        assert_eq!(change["cells"][0]["state"], "audited");
        assert_eq!(change["cells"][0]["audits"], json!(["IA-2025-01"]));
        // Incidents, problems and the known-error records: three nonconformities in the cycle.
        let clause = programme_row(&p, "clauses", "8.6");
        assert_eq!(clause["frequency"], "yearly", "{clause}");
        assert_eq!(clause["frequency_label"], "every year");
        assert_eq!(
            clause["reasons"],
            json!(["3 nonconformities in the last cycle"])
        );
        assert!(p["gaps"].as_u64().unwrap() > 0);
        // A day out of bounds is refused like everywhere else.
        let bad = call(
            r,
            Method::GET,
            "/api/v1/orgs/acme/audit-programme?as_of=1989-12-31",
            &viewer,
            None,
        )
        .await;
        assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(bad.json()["fields"][0]["field"], "as_of");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn planning_an_audit_with_the_owner_of_its_process_warns_at_once() {
    for f in fixtures(quiet()).await {
        let r = &f.router;
        let auditor = f.token("auditor");
        // From the gap in the change row of the last year, with the process owner as auditor.
        let planned = call(
            r,
            Method::POST,
            "/api/v1/orgs/acme/records/audits",
            &auditor,
            Some(json!({ "record": {
                "id": "IA-2026-09",
                "title": "Change management",
                "planned_on": "2026-10-01",
                "processes": ["change"],
                "auditor": "c.dunmore",
                "team": ["z.hollis"],
            } })),
        )
        .await;
        assert_eq!(planned.status, StatusCode::CREATED, "{}", planned.text());
        let warnings = planned.json()["warnings"].clone();
        assert_eq!(
            warnings,
            json!([{
                "field": "auditor",
                "message": "c.dunmore owns the change process this audit covers: an auditor must not audit their own work"
            }]),
            "{}",
            f.db.label
        );
        // Someone independent: no warning.
        let mut record = planned.json()["record"].clone();
        record["auditor"] = json!("z.hollis");
        let fixed = call(
            r,
            Method::PUT,
            "/api/v1/orgs/acme/records/audits/IA-2026-09",
            &auditor,
            Some(json!({ "version": 1, "record": record })),
        )
        .await;
        assert_eq!(fixed.status, StatusCode::OK, "{}", fixed.text());
        assert_eq!(fixed.json()["warnings"], json!([]));
        // The programme now shows it planned in that year.
        let p = call(
            r,
            Method::GET,
            "/api/v1/orgs/acme/audit-programme?as_of=2026-06-30",
            &auditor,
            None,
        )
        .await
        .json();
        let change = programme_row(&p, "processes", "change");
        assert_eq!(change["cells"][2]["state"], "planned");
        assert_eq!(change["cells"][2]["audits"], json!(["IA-2026-09"]));
    }
}

/// The demo organisation's incidents, as the bundle holds them.
fn demo_draw(seed: u64) -> Vec<String> {
    let def = iso20k_core::model::PopulationDef {
        kind: "incidents".into(),
        ..Default::default()
    };
    iso20k_bundle::population::draw(
        &demo(),
        &def,
        iso20k_bundle::population::Size::Statistical {
            confidence: 0.9,
            tdr: 0.1,
        },
        seed,
    )
    .unwrap()
    .items
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sample_is_drawn_reproducibly_tested_and_rolled_into_a_finding() {
    for f in fixtures(quiet()).await {
        let r = &f.router;
        let auditor = f.token("auditor");
        let url = "/api/v1/orgs/acme/audits/IA-2026-01/samples";
        let ask = json!({ "kind": "incidents", "confidence": 0.9, "tdr": 0.1, "seed": 7 });
        let first = call(r, Method::POST, url, &auditor, Some(ask.clone())).await;
        assert_eq!(first.status, StatusCode::CREATED, "{}", first.text());
        let first = first.json();
        assert_eq!(first["required"], 22);
        let s = &first["sample"];
        assert_eq!(s["id"], "S1");
        assert_eq!(s["population_size"], incidents(&f).await);
        assert_eq!(s["method"], "statistical");
        assert_eq!(
            (s["confidence"].as_f64(), s["tdr"].as_f64()),
            (Some(0.9), Some(0.1))
        );
        assert_eq!(s["seed"], 7);
        let items: Vec<String> = s["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["id"].as_str().unwrap().to_owned())
            .collect();
        assert_eq!(items.len(), 22);
        // The same definition and seed draw the same items, as the command line does.
        assert_eq!(items, demo_draw(7), "{}", f.db.label);
        let again = call(r, Method::POST, url, &auditor, Some(ask)).await.json();
        assert_eq!(again["sample"]["id"], "S2");
        assert_eq!(again["sample"]["items"], s["items"]);
        // And it is kept in the audit record.
        let stored = call(
            r,
            Method::GET,
            "/api/v1/orgs/acme/records/audits/IA-2026-01",
            &auditor,
            None,
        )
        .await
        .json();
        let kept: Vec<&str> = stored["record"]["samples"][0]["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["id"].as_str().unwrap())
            .collect();
        assert_eq!(kept, items);
        assert_eq!(
            stored["record"]["samples"][0]["population"],
            json!({ "kind": "incidents" })
        );
        assert_eq!(
            stored["record"]["samples"][0]["population_size"],
            s["population_size"]
        );

        // Results, all at once: three fail.
        let results: Vec<Value> = items
            .iter()
            .enumerate()
            .map(|(i, id)| {
                if i < 3 {
                    json!({ "id": id, "result": "does-not-conform", "note": if i == 0 { "no category" } else { "" } })
                } else {
                    json!({ "id": id, "result": "conforms" })
                }
            })
            .collect();
        let saved = call(
            r,
            Method::PUT,
            "/api/v1/orgs/acme/audits/IA-2026-01/samples/S1/items",
            &auditor,
            Some(json!(results)),
        )
        .await;
        assert_eq!(saved.status, StatusCode::OK, "{}", saved.text());
        let tally = saved.json()["sample"]["tally"].clone();
        assert_eq!(tally["words"], "22 tested: 19 conform, 3 do not");
        assert_eq!(tally["do_not_conform"], 3);
        let unknown = call(
            r,
            Method::PUT,
            "/api/v1/orgs/acme/audits/IA-2026-01/samples/S1/items",
            &auditor,
            Some(json!([{ "id": "INC-NOPE", "result": "conforms" }])),
        )
        .await;
        assert_eq!(unknown.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(unknown.json()["fields"][0]["field"], "[0].id");

        // Rolled into a finding with the figures, the failing items and links both ways.
        let roll = "/api/v1/orgs/acme/audits/IA-2026-01/samples/S1/finding";
        let rolled = call(
            r,
            Method::POST,
            roll,
            &auditor,
            Some(json!({ "clause": "8.6.1" })),
        )
        .await;
        assert_eq!(rolled.status, StatusCode::CREATED, "{}", rolled.text());
        let rolled = rolled.json();
        assert_eq!(rolled["finding"], "IA-2026-01-F1");
        assert_eq!(
            rolled["statement"],
            format!(
                "3 of 22 sampled incidents did not conform: {} (no category), {}, {}.",
                items[0], items[1], items[2]
            )
        );
        assert_eq!(rolled["evidence"], json!(items[..3]));
        let audit = call(
            r,
            Method::GET,
            "/api/v1/orgs/acme/records/audits/IA-2026-01",
            &auditor,
            None,
        )
        .await
        .json()["record"]
            .clone();
        let finding = &audit["findings"][0];
        assert_eq!(finding["grade"], "minor");
        assert_eq!(finding["clause"], "8.6.1");
        assert_eq!(finding["sample"], "S1");
        assert_eq!(finding["evidence"], json!(items[..3]));
        assert_eq!(audit["samples"][0]["finding"], "IA-2026-01-F1");
        let twice = call(r, Method::POST, roll, &auditor, Some(json!({}))).await;
        assert_eq!(twice.status, StatusCode::CONFLICT);
        assert!(
            twice.json()["error"]
                .as_str()
                .unwrap()
                .contains("rolled into finding IA-2026-01-F1 already")
        );
        let nothing = call(
            r,
            Method::POST,
            "/api/v1/orgs/acme/audits/IA-2026-01/samples/S2/finding",
            &auditor,
            Some(json!({})),
        )
        .await;
        assert_eq!(nothing.status, StatusCode::CONFLICT);

        // Bad draws name their field; nobody but the auditor's roles may draw.
        for (body, field) in [
            (json!({ "kind": "policy" }), "kind"),
            (json!({ "kind": "suppliers", "from": "2026-01-01" }), "from"),
            (
                json!({ "kind": "changes", "from": "2026-07-01", "to": "2026-01-01" }),
                "to",
            ),
            (json!({ "kind": "changes", "confidence": 95 }), "confidence"),
            (json!({ "kind": "changes", "size": 5 }), "size"),
            (
                json!({ "kind": "changes", "method": "judgement", "size": 5 }),
                "rationale",
            ),
            (
                json!({ "kind": "changes", "method": "judgement", "size": 10001, "rationale": "x" }),
                "size",
            ),
            (
                json!({ "kind": "changes", "where": vec!["type=normal"; 21] }),
                "where",
            ),
            (json!({ "kind": "changes", "where": ["colour=red"] }), ""),
        ] {
            let bad = call(r, Method::POST, url, &auditor, Some(body.clone())).await;
            assert_eq!(
                bad.status,
                StatusCode::UNPROCESSABLE_ENTITY,
                "{body}: {}",
                bad.text()
            );
            assert_eq!(bad.json()["fields"][0]["field"], field, "{body}");
        }
        let judged = call(
            r,
            Method::POST,
            url,
            &auditor,
            Some(json!({ "kind": "changes", "method": "judgement", "size": 5, "rationale": "The emergency changes of the quarter", "where": ["type=emergency"], "seed": 3 })),
        )
        .await;
        assert_eq!(judged.status, StatusCode::CREATED, "{}", judged.text());
        assert_eq!(
            judged.json()["sample"]["rationale"],
            "The emergency changes of the quarter"
        );
        // A judgement sample may be the auditor's own pick, each record from the population.
        let changes = iso20k_bundle::read(&workspace().join("examples/demo"))
            .unwrap()
            .tickets
            .changes;
        let (a, b) = (changes[3].id.clone(), changes[1].id.clone());
        let picked = call(
            r,
            Method::POST,
            url,
            &auditor,
            Some(json!({ "kind": "changes", "method": "judgement", "rationale": "The two changes the complaint named", "items": [a, b, a] })),
        )
        .await;
        assert_eq!(picked.status, StatusCode::CREATED, "{}", picked.text());
        let ids: Vec<String> = picked.json()["sample"]["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["id"].as_str().unwrap().to_owned())
            .collect();
        assert_eq!(ids, [a, b], "in the order chosen, once each");
        assert!(
            picked.json()["sample"]["seed"].is_null(),
            "nothing was drawn at random"
        );
        let outside = call(
            r,
            Method::POST,
            url,
            &auditor,
            Some(json!({ "kind": "changes", "method": "judgement", "rationale": "x", "items": ["CHG-NOPE"] })),
        )
        .await;
        assert_eq!(outside.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(outside.json()["fields"][0]["field"], "items");
        assert!(
            outside
                .text()
                .contains("not in the population defined: CHG-NOPE")
        );
        let manager = call(
            r,
            Method::POST,
            url,
            &f.token("manager"),
            Some(json!({ "kind": "changes" })),
        )
        .await;
        assert_eq!(manager.status, StatusCode::FORBIDDEN);
        let missing = call(
            r,
            Method::POST,
            "/api/v1/orgs/acme/audits/IA-NOPE/samples",
            &auditor,
            Some(json!({ "kind": "changes" })),
        )
        .await;
        assert_eq!(missing.status, StatusCode::NOT_FOUND);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_audit_moves_step_by_step_and_refuses_in_words() {
    for f in fixtures(quiet()).await {
        let r = &f.router;
        let auditor = f.token("auditor");
        let url = "/api/v1/orgs/acme/audits/IA-2026-01/status";
        let step = |status: &str| json!({ "status": status, "on": "2026-05-19" });
        let skip = call(r, Method::POST, url, &auditor, Some(step("reported"))).await;
        assert_eq!(skip.status, StatusCode::CONFLICT);
        assert_eq!(
            skip.json()["error"],
            "audit IA-2026-01 is planned: its next step is in progress, not reported"
        );
        let started = call(r, Method::POST, url, &auditor, Some(step("in-progress"))).await;
        assert_eq!(started.status, StatusCode::OK, "{}", started.text());
        assert_eq!(started.json()["held_on"], "2026-05-19");
        assert_eq!(started.json()["label"], "In progress");
        let unready = call(r, Method::POST, url, &auditor, Some(step("reported"))).await;
        assert_eq!(unready.status, StatusCode::CONFLICT);
        assert_eq!(
            unready.json()["error"],
            "audit IA-2026-01 cannot be reported without its objectives: record them first"
        );
        // Objectives recorded, and a minor finding raised.
        let record = call(
            r,
            Method::GET,
            "/api/v1/orgs/acme/records/audits/IA-2026-01",
            &auditor,
            None,
        )
        .await
        .json();
        let mut body = record["record"].clone();
        body["objectives"] = json!("Whether performance evaluation feeds improvement");
        let put = call(
            r,
            Method::PUT,
            "/api/v1/orgs/acme/records/audits/IA-2026-01",
            &auditor,
            Some(json!({ "version": record["version"], "record": body })),
        )
        .await;
        assert_eq!(put.status, StatusCode::OK, "{}", put.text());
        let added = call(
            r,
            Method::POST,
            "/api/v1/orgs/acme/audits/IA-2026-01/findings",
            &auditor,
            Some(json!({ "grade": "minor", "clause": "9.1", "process": "design-transition", "statement": "No measure of transition success.", "evidence": ["DOC-STP-01"] })),
        )
        .await;
        assert_eq!(added.status, StatusCode::CREATED, "{}", added.text());
        assert_eq!(added.json()["finding"], "IA-2026-01-F1");
        for (body, field) in [
            (json!({ "grade": "minor", "statement": " " }), "statement"),
            (
                json!({ "grade": "minor", "statement": "x", "clause": "99.9" }),
                "clause",
            ),
            (
                json!({ "grade": "minor", "statement": "x", "process": "nope" }),
                "process",
            ),
            (
                json!({ "grade": "minor", "statement": "x", "due": "2026-02-30" }),
                "due",
            ),
            (
                json!({ "grade": "minor", "statement": "x", "sample": "S9" }),
                "sample",
            ),
        ] {
            let bad = call(
                r,
                Method::POST,
                "/api/v1/orgs/acme/audits/IA-2026-01/findings",
                &auditor,
                Some(body.clone()),
            )
            .await;
            assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
            assert_eq!(bad.json()["fields"][0]["field"], field, "{body}");
        }
        let reported = call(r, Method::POST, url, &auditor, Some(step("reported"))).await;
        assert_eq!(reported.status, StatusCode::OK, "{}", reported.text());
        let open = call(r, Method::POST, url, &auditor, Some(step("closed"))).await;
        assert_eq!(open.status, StatusCode::CONFLICT);
        assert_eq!(
            open.json()["error"],
            "audit IA-2026-01 cannot be closed while a major or minor finding is open: \
             IA-2026-01-F1 (minor); record when each was closed first"
        );
        let again = call(r, Method::POST, url, &auditor, Some(step("reported"))).await;
        assert_eq!(
            again.json()["error"],
            "audit IA-2026-01 is reported already"
        );
        let cancelled = call(
            r,
            Method::POST,
            "/api/v1/orgs/acme/audits/IA-2025-03/status",
            &auditor,
            Some(step("in-progress")),
        )
        .await;
        assert_eq!(cancelled.status, StatusCode::CONFLICT);
        assert!(
            cancelled.json()["error"]
                .as_str()
                .unwrap()
                .contains("was cancelled")
        );
        let viewer = call(
            r,
            Method::POST,
            url,
            &f.token("viewer"),
            Some(step("closed")),
        )
        .await;
        assert_eq!(viewer.status, StatusCode::FORBIDDEN);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_audit_report_downloads_with_its_sections() {
    let f = fixtures(quiet()).await.remove(0);
    let r = &f.router;
    let viewer = f.token("viewer");
    let html = call(
        r,
        Method::GET,
        "/api/v1/orgs/acme/audits/IA-2025-01/report?format=html",
        &viewer,
        None,
    )
    .await;
    assert_eq!(html.status, StatusCode::OK, "{}", html.text());
    assert_eq!(
        html.headers[header::CONTENT_TYPE],
        "text/html; charset=utf-8"
    );
    assert_eq!(
        html.headers[header::CONTENT_DISPOSITION],
        "attachment; filename=\"acme-audit-IA-2025-01.html\""
    );
    let text = html.text();
    for section in [
        "1. Objectives",
        "2. Scope",
        "3. Criteria",
        "4. Team and dates",
        "5. Method",
        "6. Samples",
        "Findings",
        "Conclusion",
        "IA-2025-01-F1",
    ] {
        assert!(text.contains(section), "{section}");
    }
    let missing = call(
        r,
        Method::GET,
        "/api/v1/orgs/acme/audits/IA-NOPE/report",
        &viewer,
        None,
    )
    .await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    let word = call(
        r,
        Method::GET,
        "/api/v1/orgs/acme/audits/IA-2025-01/report?format=docx",
        &viewer,
        None,
    )
    .await;
    assert_eq!(word.status, StatusCode::UNPROCESSABLE_ENTITY);
    #[cfg(feature = "pdf")]
    {
        let pdf = call(
            r,
            Method::GET,
            "/api/v1/orgs/acme/audits/IA-2025-01/report?format=pdf",
            &viewer,
            None,
        )
        .await;
        assert_eq!(pdf.status, StatusCode::OK);
        assert_eq!(pdf.headers[header::CONTENT_TYPE], "application/pdf");
        assert!(pdf.body.starts_with(b"%PDF"));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_next_cycle_carries_the_audits_forward_once() {
    for f in fixtures(quiet()).await {
        let r = &f.router;
        let auditor = f.token("auditor");
        let url = "/api/v1/orgs/acme/audit-programme/next-cycle";
        let done = call(r, Method::POST, url, &auditor, None).await;
        assert_eq!(done.status, StatusCode::CREATED, "{}", done.text());
        let done = done.json();
        assert_eq!(done["from"]["start"], "2024-09-01", "{}", f.db.label);
        assert_eq!(done["cycle_start"], "2027-09-01");
        assert_eq!(done["cycle_end"], "2030-08-31");
        let carried = done["carried"].as_array().unwrap();
        assert!(
            carried.contains(
                &json!({ "from": "IA-2025-01", "id": "IA-2028-01", "planned_on": "2028-03-11" })
            ),
            "{carried:?}"
        );
        assert!(
            carried.contains(
                &json!({ "from": "IA-2026-02", "id": "IA-2029-02", "planned_on": "2029-08-18" })
            ),
            "{carried:?}"
        );
        // The plan carried, the results left behind.
        let new = call(
            r,
            Method::GET,
            "/api/v1/orgs/acme/records/audits/IA-2028-01",
            &auditor,
            None,
        )
        .await
        .json()["record"]
            .clone();
        let old = call(
            r,
            Method::GET,
            "/api/v1/orgs/acme/records/audits/IA-2025-01",
            &auditor,
            None,
        )
        .await
        .json()["record"]
            .clone();
        for field in ["title", "processes", "clauses", "auditor"] {
            assert_eq!(new[field], old[field], "{field}");
        }
        for field in ["held_on", "report", "findings", "status"] {
            assert!(new.get(field).is_none(), "{field}: {new}");
        }
        assert_eq!(new["planned_on"], "2028-03-11");
        let programme = call(
            r,
            Method::GET,
            "/api/v1/orgs/acme/records/audit-programme/audit-programme",
            &auditor,
            None,
        )
        .await
        .json();
        assert_eq!(programme["record"]["cycle_start"], "2027-09-01");
        // The next cycle, seen from its own first day, holds the carried audits as planned.
        let next = call(
            r,
            Method::GET,
            "/api/v1/orgs/acme/audit-programme?as_of=2027-09-01",
            &auditor,
            None,
        )
        .await
        .json();
        assert_eq!(next["cycle"]["start"], "2027-09-01");
        let change = programme_row(&next, "processes", "change");
        assert_eq!(change["cells"][0]["state"], "planned", "{change}");
        // Seen from the organisation's day, the programme is still the current cycle.
        let now = call(
            r,
            Method::GET,
            "/api/v1/orgs/acme/audit-programme",
            &auditor,
            None,
        )
        .await
        .json();
        assert_eq!(now["cycle"]["start"], "2024-09-01");
        assert_eq!(now["declared_start"], "2027-09-01");
        // A second time is refused, and nothing changes.
        let revision = f.store().revision(f.org.id).await.unwrap();
        let twice = call(r, Method::POST, url, &auditor, None).await;
        assert_eq!(twice.status, StatusCode::CONFLICT, "{}", twice.text());
        assert!(
            twice.json()["error"]
                .as_str()
                .unwrap()
                .contains("already holds audits carried from this one: IA-2027-01 (from IA-2024-01), IA-2028-01 (from IA-2025-01)"),
            "{}",
            twice.text()
        );
        assert_eq!(f.store().revision(f.org.id).await.unwrap(), revision);
        let manager = call(r, Method::POST, url, &f.token("manager"), None).await;
        assert_eq!(manager.status, StatusCode::FORBIDDEN);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_diff_compares_two_days_as_the_command_line_does() {
    let sms = iso20k_bundle::read(&workspace().join("examples/demo")).unwrap();
    let judge = |day: &str| {
        iso20k_core::audit::audit(
            &sms,
            iso20k_core::audit::Options {
                edition: sms.edition(),
                as_of: day.parse().unwrap(),
            },
        )
    };
    let (then, now) = (judge("2025-06-30"), judge("2026-06-30"));
    let want = iso20k_core::diff::compare(&then, &now);
    let ids =
        |v: &[&iso20k_core::checks::Finding]| v.iter().map(|f| f.id.clone()).collect::<Vec<_>>();
    for f in fixtures(quiet()).await {
        let r = &f.router;
        let viewer = f.token("viewer");
        let d = call(
            r,
            Method::GET,
            "/api/v1/orgs/acme/diff?from=2025-06-30&to=2026-06-30",
            &viewer,
            None,
        )
        .await;
        assert_eq!(d.status, StatusCode::OK, "{}", d.text());
        let d = d.json();
        for key in [
            "from",
            "to",
            "edition",
            "overall",
            "new",
            "resolved",
            "recurring",
            "findings",
            "clauses",
        ] {
            assert!(d.get(key).is_some(), "{key}");
        }
        assert_eq!(d["new"], json!(ids(&want.new)));
        assert_eq!(d["resolved"], json!(ids(&want.resolved)));
        assert_eq!(d["recurring"], json!(ids(&want.recurring)));
        assert_eq!(d["overall"]["then"].as_f64(), Some(want.overall.0));
        assert_eq!(d["overall"]["now"].as_f64(), Some(want.overall.1));
        assert_eq!(d["clauses"].as_array().unwrap().len(), want.clauses.len());
        assert_eq!(d["clauses"][0]["clause"], want.clauses[0].clause);
        // By default: from the start of the current cycle to the organisation's day.
        let plain = call(r, Method::GET, "/api/v1/orgs/acme/diff", &viewer, None)
            .await
            .json();
        assert_eq!(
            (plain["from"].as_str(), plain["to"].as_str()),
            (Some("2024-09-01"), Some("2026-06-30"))
        );
        let backwards = call(
            r,
            Method::GET,
            "/api/v1/orgs/acme/diff?from=2026-06-30&to=2025-06-30",
            &viewer,
            None,
        )
        .await;
        assert_eq!(backwards.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(backwards.json()["fields"][0]["field"], "from");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_audit_pages_plan_from_a_gap_sample_roll_into_a_finding_and_step_through() {
    // The pages' rules are the server's, whatever the engine: SQLite is enough.
    let f = fixtures(quiet()).await.remove(0);
    let r = &f.router;
    let hash = auth::hash_password("correct horse battery").unwrap();
    for (email, role) in [
        ("ada@acme.example", "auditor"),
        ("vic@acme.example", "viewer"),
    ] {
        let user = f.store().create_user(email, "", Some(&hash)).await.unwrap();
        f.store()
            .set_membership(f.org.id, user.id, role, None)
            .await
            .unwrap();
    }
    let ada = browser_sign_in(r, "ada@acme.example", "correct horse battery").await;

    // The programme: the cycle's years, each row's frequency and why, gaps to plan from.
    let programme = page(r, "/orgs/acme/audit-programme?as_of=2026-06-30", &ada).await;
    assert_eq!(programme.status, StatusCode::OK);
    let html = programme.html();
    for part in [
        "2024-09-01 to 2025-08-31",
        "every year: 3 nonconformities in the last cycle",
        "once per cycle",
        "audited with evidence",
        "held, no evidence",
        "gap",
        "A process or a second-level clause is audited every year",
        r#"href="/orgs/acme/audits/IA-2025-01""#,
        "Carry this cycle's audits into the next cycle",
        r#"aria-current="page">Audit programme"#,
    ] {
        assert!(html.contains(part), "{part}");
    }
    // Each year's gap plans inside that year: a month on from the day judged, or from the
    // year's start, and at the latest on its last day.
    let budget: Vec<&str> = html
        .split(r#"href="/orgs/acme/audits/new?process=budget&planned_on="#)
        .skip(1)
        .map(|s| s.split('"').next().unwrap())
        .collect();
    assert_eq!(budget, ["2025-08-31", "2026-07-30", "2026-10-01"]);
    assert!(html.contains(r#"href="/orgs/acme/audits/new?clause=8.4&planned_on=2026-07-30""#));

    // Plan an audit from the gap, with the process's own owner as auditor.
    let form = page(
        r,
        "/orgs/acme/audits/new?process=budget&planned_on=2026-10-01",
        &ada,
    )
    .await;
    assert_eq!(form.status, StatusCode::OK);
    let html = form.html();
    assert!(
        html.contains(r#"value="IA-2026-03""#),
        "a free id is offered"
    );
    assert!(html.contains(r#"<option value="budget" selected>"#));
    assert!(html.contains(r#"value="2026-10-01""#));
    let csrf = csrf_of(&html);
    let created = post_form(
        r,
        "/orgs/acme/audits",
        Some(&ada),
        &[
            ("csrf", &csrf),
            ("id", "IA-2026-03"),
            ("title", "Budgeting and accounting"),
            ("kind", "internal"),
            ("planned_on", "2026-10-01"),
            ("auditor", "f.lindqvist"),
            ("processes", "budget"),
            ("clauses", "8.4"),
        ],
    )
    .await;
    assert_eq!(created.status, StatusCode::SEE_OTHER, "{}", created.text());
    assert_eq!(
        created.headers[header::LOCATION],
        "/orgs/acme/audits/IA-2026-03?saved=1"
    );
    let shown = page(r, "/orgs/acme/audits/IA-2026-03?saved=1", &ada).await;
    let html = shown.html();
    assert!(html.contains("Saved."));
    assert!(
        html.contains(r#"id="f-auditor-warning" role="status">f.lindqvist owns the budget process this audit covers: an auditor must not audit their own work"#),
        "the warning sits beside the auditor"
    );
    assert!(html.contains("Independence"));
    // A taken id or a bad date is said beside its field.
    let again = post_form(
        r,
        "/orgs/acme/audits",
        Some(&ada),
        &[
            ("csrf", &csrf),
            ("id", "IA-2026-03"),
            ("title", "Again"),
            ("planned_on", "2026-02-30"),
        ],
    )
    .await;
    assert_eq!(again.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        again.html().contains(r#"id="f-planned_on-error""#),
        "{}",
        again.text()
    );

    // Draw a sample of the changes: 90 % and 10 % need 22.
    let csrf = csrf_of(&html);
    assert!(html.contains("Draw a sample"));
    assert!(
        html.contains("<td class=\"num\">22</td>")
            && html.contains("<td class=\"num\">59</td>")
            && html.contains("<td class=\"num\">149</td>")
    );
    let drawn = post_form(
        r,
        "/orgs/acme/audits/IA-2026-03/samples",
        Some(&ada),
        &[
            ("csrf", &csrf),
            ("kind", "changes"),
            ("from", ""),
            ("to", ""),
            ("where", ""),
            ("method", "statistical"),
            ("confidence", "0.90"),
            ("tdr", "0.10"),
            ("size", ""),
            ("rationale", ""),
            ("seed", "11"),
        ],
    )
    .await;
    assert_eq!(drawn.status, StatusCode::SEE_OTHER, "{}", drawn.text());
    assert_eq!(
        drawn.headers[header::LOCATION],
        "/orgs/acme/audits/IA-2026-03/samples/S1?drawn=1"
    );
    let sample = page(r, "/orgs/acme/audits/IA-2026-03/samples/S1?drawn=1", &ada).await;
    assert_eq!(sample.status, StatusCode::OK);
    let html = sample.html();
    assert!(html.contains("22 of 27 records"), "{html}");
    assert!(html.contains("which needs 22"));
    assert!(html.contains("--confidence 0.9 --tdr 0.1 --seed 11"));
    let ids: Vec<String> = html
        .split(r#"<input type="hidden" name="item."#)
        .skip(1)
        .map(|s| {
            s.split("value=\"")
                .nth(1)
                .unwrap()
                .split('"')
                .next()
                .unwrap()
                .to_owned()
        })
        .collect();
    assert_eq!(ids.len(), 22);
    assert!(html.contains(&format!(r#"href="/orgs/acme/records/changes/{}""#, ids[0])));
    // A judgement sample without its reason is refused on the audit page.
    let unreasoned = post_form(
        r,
        "/orgs/acme/audits/IA-2026-03/samples",
        Some(&ada),
        &[
            ("csrf", &csrf),
            ("kind", "changes"),
            ("method", "judgement"),
            ("size", "5"),
            ("rationale", ""),
        ],
    )
    .await;
    assert_eq!(unreasoned.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        unreasoned
            .html()
            .contains("Rationale: A judgement sample needs its reason written down")
    );

    // Test each item: two do not conform.
    let csrf = csrf_of(&html);
    let mut results: Vec<(String, String)> = vec![("csrf".into(), csrf.clone())];
    for (i, id) in ids.iter().enumerate() {
        results.push((format!("item.{i}"), id.clone()));
        let verdict = if i < 2 {
            "does-not-conform"
        } else {
            "conforms"
        };
        results.push((format!("result.{i}"), verdict.into()));
        results.push((
            format!("note.{i}"),
            if i == 0 {
                "no review".into()
            } else {
                String::new()
            },
        ));
    }
    let pairs: Vec<(&str, &str)> = results
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let saved = post_form(
        r,
        "/orgs/acme/audits/IA-2026-03/samples/S1",
        Some(&ada),
        &pairs,
    )
    .await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.text());
    let sample = page(r, "/orgs/acme/audits/IA-2026-03/samples/S1?saved=1", &ada).await;
    let html = sample.html();
    assert!(html.contains("22 tested: 20 conform, 2 do not"));
    assert!(html.contains("Roll into a finding"));
    let sentence = format!(
        "2 of 22 sampled changes did not conform: {} (no review), {}.",
        ids[0], ids[1]
    );
    assert!(html.contains(&sentence), "{html}");

    // Roll them into a finding, with the sentence edited and a grade and clause picked.
    let csrf = csrf_of(&html);
    let statement = format!("{sentence} Both were emergency changes.");
    let rolled = post_form(
        r,
        "/orgs/acme/audits/IA-2026-03/samples/S1/finding",
        Some(&ada),
        &[
            ("csrf", &csrf),
            ("statement", &statement),
            ("grade", "major"),
            ("clause", "8.5.1"),
            ("process", ""),
        ],
    )
    .await;
    assert_eq!(rolled.status, StatusCode::SEE_OTHER, "{}", rolled.text());
    assert_eq!(
        rolled.headers[header::LOCATION],
        "/orgs/acme/audits/IA-2026-03?finding=IA-2026-03-F1#findings"
    );
    let audit = page(
        r,
        "/orgs/acme/audits/IA-2026-03?finding=IA-2026-03-F1",
        &ada,
    )
    .await;
    let html = audit.html();
    assert!(html.contains("Finding IA-2026-03-F1 added."));
    assert!(html.contains("Both were emergency changes."));
    assert!(html.contains(&format!(
        r#"<a href="/orgs/acme/records/changes/{}">{}</a>"#,
        ids[0], ids[0]
    )));
    assert!(
        html.contains(r#"From sample <a href="/orgs/acme/audits/IA-2026-03/samples/S1">S1</a>"#)
    );
    assert!(html.contains("rolled into IA-2026-03-F1"));
    let sample = page(r, "/orgs/acme/audits/IA-2026-03/samples/S1", &ada).await;
    assert!(
        !sample.html().contains("Roll into a finding"),
        "rolled once"
    );

    // A file attached to the audit, then cited by a finding added by hand.
    let csrf = csrf_of(&html);
    let boundary = "iso20k-audit-boundary";
    let mut body = Vec::new();
    body.extend_from_slice(
        format!("--{boundary}\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\n{csrf}\r\n")
            .as_bytes(),
    );
    body.extend_from_slice(format!("--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"interview.txt\"\r\nContent-Type: text/plain\r\n\r\nThe budget owner said so.\r\n--{boundary}--\r\n").as_bytes());
    let attached = send(
        r,
        Method::POST,
        "/orgs/acme/audits/IA-2026-03/evidence",
        &Cred::Cookie {
            cookie: ada.clone(),
            csrf: None,
        },
        Some((&format!("multipart/form-data; boundary={boundary}"), body)),
        &[],
    )
    .await;
    assert_eq!(
        attached.status,
        StatusCode::SEE_OTHER,
        "{}",
        attached.text()
    );
    let added = post_form(
        r,
        "/orgs/acme/audits/IA-2026-03/findings",
        Some(&ada),
        &[
            ("csrf", &csrf),
            ("grade", "observation"),
            ("clause", "8.4"),
            ("process", "budget"),
            (
                "statement",
                "Budget variances are explained by e-mail only.",
            ),
            ("files", "interview.txt"),
            ("other", "DOC-FIN-01\n"),
            ("due", ""),
            ("sample", ""),
        ],
    )
    .await;
    assert_eq!(added.status, StatusCode::SEE_OTHER, "{}", added.text());
    let html = page(r, "/orgs/acme/audits/IA-2026-03", &ada).await.html();
    assert!(html.contains("IA-2026-03-F2"));
    assert!(html.contains(">interview.txt</a>, DOC-FIN-01"), "{html}");
    let refused = post_form(
        r,
        "/orgs/acme/audits/IA-2026-03/findings",
        Some(&ada),
        &[("csrf", &csrf), ("grade", "minor"), ("statement", "")],
    )
    .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        refused.html().contains("Statement: Say what was found."),
        "{}",
        refused.text()
    );

    // Step by step, refused in words where the audit lacks what the step needs.
    let html = page(r, "/orgs/acme/audits/IA-2026-03", &ada).await.html();
    let csrf = csrf_of(&html);
    assert!(html.contains("Start the audit (in progress)"));
    let started = post_form(
        r,
        "/orgs/acme/audits/IA-2026-03/status",
        Some(&ada),
        &[
            ("csrf", &csrf),
            ("status", "in-progress"),
            ("on", "2026-10-01"),
        ],
    )
    .await;
    assert_eq!(started.status, StatusCode::SEE_OTHER, "{}", started.text());
    let html = page(r, "/orgs/acme/audits/IA-2026-03?moved=in-progress", &ada)
        .await
        .html();
    assert!(html.contains("The audit is in progress now."));
    assert!(html.contains("Mark reported"));
    let unready = post_form(
        r,
        "/orgs/acme/audits/IA-2026-03/status",
        Some(&ada),
        &[("csrf", &csrf), ("status", "reported")],
    )
    .await;
    assert_eq!(unready.status, StatusCode::CONFLICT);
    assert!(unready.html().contains(
        "Audit IA-2026-03 cannot be reported without its objectives: record them first."
    ));

    // The plan saved with objectives and an independent auditor: the warning goes.
    let version = f
        .store()
        .record(f.org.id, "audits", "IA-2026-03")
        .await
        .unwrap()
        .unwrap()
        .version
        .to_string();
    let plan = post_form(
        r,
        "/orgs/acme/audits/IA-2026-03",
        Some(&ada),
        &[
            ("csrf", &csrf),
            ("_version", &version),
            ("title", "Budgeting and accounting"),
            ("kind", "internal"),
            ("planned_on", "2026-10-01"),
            ("held_on", "2026-10-01"),
            ("auditor", "z.hollis"),
            ("team", "r.ashdown"),
            ("team_other", "Pellworth Assurance"),
            ("processes", "budget"),
            ("clauses", "8.4"),
            ("sites", "Wakefield\nYork"),
            (
                "objectives",
                "Whether budgets are set, monitored and explained",
            ),
            (
                "criteria",
                "ISO/IEC 20000-1 clause 8.4; the budgeting procedure",
            ),
            ("method", "Interviews and a sample of changes"),
        ],
    )
    .await;
    assert_eq!(plan.status, StatusCode::SEE_OTHER, "{}", plan.text());
    let stored: Value = serde_json::from_str(
        &f.store()
            .record(f.org.id, "audits", "IA-2026-03")
            .await
            .unwrap()
            .unwrap()
            .body,
    )
    .unwrap();
    assert_eq!(stored["team"], json!(["r.ashdown", "Pellworth Assurance"]));
    assert_eq!(stored["sites"], json!(["Wakefield", "York"]));
    assert_eq!(
        stored["samples"][0]["id"], "S1",
        "the plan form keeps the samples"
    );
    assert_eq!(stored["findings"].as_array().unwrap().len(), 2);
    let html = page(r, "/orgs/acme/audits/IA-2026-03?saved=1", &ada)
        .await
        .html();
    assert!(!html.contains("f-auditor-warning"));
    let reported = post_form(
        r,
        "/orgs/acme/audits/IA-2026-03/status",
        Some(&ada),
        &[("csrf", &csrf), ("status", "reported")],
    )
    .await;
    assert_eq!(
        reported.status,
        StatusCode::SEE_OTHER,
        "{}",
        reported.text()
    );
    let closing = post_form(
        r,
        "/orgs/acme/audits/IA-2026-03/status",
        Some(&ada),
        &[("csrf", &csrf), ("status", "closed")],
    )
    .await;
    assert_eq!(closing.status, StatusCode::CONFLICT);
    assert!(closing.html().contains("IA-2026-03-F1 (major)"));

    // The report, from the page.
    let report = page(r, "/orgs/acme/audits/IA-2026-03/report.html", &ada).await;
    assert_eq!(report.status, StatusCode::OK);
    assert_eq!(
        report.headers[header::CONTENT_TYPE],
        "text/html; charset=utf-8"
    );
    let text = report.html();
    for part in [
        "1. Objectives",
        "Whether budgets are set",
        "6. Samples",
        "IA-2026-03-F1",
        "20 conform, 2 do not",
    ] {
        assert!(text.contains(part), "{part}");
    }

    // Everyone reads; a viewer gets no form, and a manager cannot draw.
    let vic = browser_sign_in(r, "vic@acme.example", "correct horse battery").await;
    let html = page(r, "/orgs/acme/audits/IA-2026-03", &vic).await.html();
    assert!(html.contains("Your role lets you read this audit"));
    assert!(!html.contains("Draw a sample") && !html.contains("Add a finding"));
    let list = page(r, "/orgs/acme/audits", &vic).await;
    assert_eq!(list.status, StatusCode::OK);
    assert!(list.html().contains(
        r#"<a href="/orgs/acme/audits/IA-2026-03">IA-2026-03</a> Budgeting and accounting"#
    ));
    assert!(!list.html().contains("New audit"));
    let vic_csrf = csrf_of(&html);
    let denied = post_form(
        r,
        "/orgs/acme/audits/IA-2026-03/samples",
        Some(&vic),
        &[("csrf", &vic_csrf), ("kind", "changes")],
    )
    .await;
    assert_eq!(denied.status, StatusCode::FORBIDDEN);
    let forged = post_form(
        r,
        "/orgs/acme/audits/IA-2026-03/samples",
        Some(&ada),
        &[("csrf", "forged"), ("kind", "changes")],
    )
    .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);

    // The cycle: a bad start is refused in words; the next cycle carried by the button, once.
    let html = page(r, "/orgs/acme/audit-programme", &ada).await.html();
    let csrf = csrf_of(&html);
    let bad = post_form(
        r,
        "/orgs/acme/audit-programme",
        Some(&ada),
        &[("csrf", &csrf), ("cycle_start", "1 Sept 2024")],
    )
    .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        bad.html().contains("Cycle start: Invalid date"),
        "{}",
        bad.text()
    );
    let next = post_form(
        r,
        "/orgs/acme/audit-programme/next-cycle",
        Some(&ada),
        &[("csrf", &csrf), ("as_of", "")],
    )
    .await;
    assert_eq!(next.status, StatusCode::SEE_OTHER, "{}", next.text());
    assert_eq!(
        next.headers[header::LOCATION],
        "/orgs/acme/audit-programme?as_of=2027-09-01&carried=7"
    );
    let html = page(
        r,
        "/orgs/acme/audit-programme?as_of=2027-09-01&carried=7",
        &ada,
    )
    .await
    .html();
    assert!(html.contains("7 audits carried forward into the cycle starting 2027-09-01"));
    assert!(
        html.contains(r#"href="/orgs/acme/audits/IA-2029-03""#),
        "IA-2026-03 carried"
    );
    let html = page(r, "/orgs/acme/audit-programme", &ada).await.html();
    assert!(html.contains("The programme has moved on: its cycle now starts on 2027-09-01"));
    let twice = post_form(
        r,
        "/orgs/acme/audit-programme/next-cycle",
        Some(&ada),
        &[("csrf", &csrf), ("as_of", "")],
    )
    .await;
    assert_eq!(twice.status, StatusCode::CONFLICT);
    assert!(twice.html().contains("it was carried forward before"));
    let moved = post_form(
        r,
        "/orgs/acme/audit-programme",
        Some(&ada),
        &[("csrf", &csrf), ("cycle_start", "2024-09-01")],
    )
    .await;
    assert_eq!(moved.status, StatusCode::SEE_OTHER);

    // Two days compared, only the clauses that moved, or all.
    let diff = page(r, "/orgs/acme/diff?from=2025-06-30&to=2026-06-30", &ada).await;
    assert_eq!(diff.status, StatusCode::OK);
    let html = diff.html();
    for part in [
        "2025-06-30 against 2026-06-30",
        "New (",
        "Resolved (",
        "Recurring (",
        "Show every clause",
        "Clauses whose score moved",
    ] {
        assert!(html.contains(part), "{part}");
    }
    assert!(
        html.contains("/orgs/acme/findings/"),
        "findings link to their pages"
    );
    let all = page(
        r,
        "/orgs/acme/diff?from=2025-06-30&to=2026-06-30&all=1",
        &ada,
    )
    .await;
    assert!(all.html().contains("Every clause ("));
    let backwards = page(r, "/orgs/acme/diff?from=2026-06-30&to=2025-06-30", &ada).await;
    assert_eq!(backwards.status, StatusCode::UNPROCESSABLE_ENTITY);
}
