//! The bundle reader against real files: the starting bundle, broken copies of it, the
//! examples, and the committed JSON Schemas.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// A fresh starting bundle in a temporary folder, as `iso20k init` writes it.
fn fresh() -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("sms");
    iso20k_bundle::init(&dir).unwrap();
    (tmp, dir)
}

/// A starting bundle with its commented examples taken in, as its notes tell a person to do:
/// remove the `# ` in front of each example line; `## ` lines are notes and stay.
fn scaffold() -> (tempfile::TempDir, PathBuf) {
    let (tmp, dir) = fresh();
    for sub in ["", "tickets"] {
        for entry in std::fs::read_dir(dir.join(sub)).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                continue;
            }
            let text = std::fs::read_to_string(&path).unwrap();
            let csv = path.extension().is_some_and(|x| x == "csv");
            let mut examples = csv;
            let mut out = String::new();
            for line in text.lines() {
                match line.strip_prefix("# ") {
                    Some(rest) if examples => out.push_str(rest),
                    _ => out.push_str(line),
                }
                out.push('\n');
                examples |= line.contains("Lines starting \"## \" are notes.");
            }
            std::fs::write(&path, out).unwrap();
        }
    }
    (tmp, dir)
}

#[test]
fn the_starting_bundle_holds_no_records_until_its_examples_are_taken_in() {
    let (_tmp, dir) = fresh();
    let sms = iso20k_bundle::read(&dir).unwrap();
    assert_eq!(sms.organisation.name, "Example Services Ltd");
    assert!(sms.people.is_empty() && sms.documents.is_empty() && sms.services.is_empty());
    assert!(sms.policy.is_none() && sms.audits.is_empty() && sms.management_reviews.is_empty());

    let (_tmp, dir) = scaffold();
    let sms = iso20k_bundle::read(&dir).unwrap();
    assert_eq!(sms.organisation.name, "Example Services Ltd");
    assert_eq!(sms.people.len(), 3);
    assert!(sms.documents.len() >= 10);
    assert_eq!(sms.services.len(), 2);
    assert_eq!(sms.intervals.len(), 2);
}

#[test]
fn init_refuses_a_folder_that_is_not_empty_and_leaves_it_alone() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("notes.txt"), "mine").unwrap();
    let err = iso20k_bundle::init(tmp.path()).unwrap_err();
    assert!(
        err.to_string().contains("already exists and is not empty"),
        "{err}"
    );
    let left: Vec<_> = std::fs::read_dir(tmp.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(left, ["notes.txt"]);
}

/// Each case replaces one file of the starting bundle and shows what the reader says.
const BROKEN: &[(&str, &str, &str)] = &[
    (
        "misspelt YAML field",
        "management-reviews.yaml",
        "reviews:\n  - id: MR-1\n    held_on: 2026-03-01\n    atendees: [a.smith]\n",
    ),
    (
        "impossible date",
        "management-reviews.yaml",
        "reviews:\n  - id: MR-1\n    held_on: 2026-02-30\n",
    ),
    (
        "date in the wrong format",
        "policy.yaml",
        "title: Policy\napproved_on: 15/01/2026\n",
    ),
    (
        "unknown review input",
        "management-reviews.yaml",
        "reviews:\n  - id: MR-1\n    inputs: [customer-feedback, gossip]\n",
    ),
    (
        "bad interval",
        "organisation.yaml",
        "name: X\nintervals:\n  management_review: soonish\n",
    ),
    (
        "unknown activity",
        "organisation.yaml",
        "name: X\nintervals:\n  managment_review: 12 months\n",
    ),
    (
        "missing required field",
        "services.yaml",
        "services:\n  - id: SVC-1\n    owner: p.jones\n",
    ),
    (
        "duplicate id",
        "services.yaml",
        "services:\n  - id: SVC-1\n    name: One\n  - id: SVC-1\n    name: Two\n",
    ),
    (
        "wrong type",
        "objectives.yaml",
        "objectives:\n  - id: O-1\n    title: T\n    measurements: yes\n",
    ),
    ("broken YAML", "slas.yaml", "slas:\n  - id: [SLA-1\n"),
    (
        "unknown CSV column",
        "people.csv",
        "id,name,top_managment\na.smith,Alex,yes\n",
    ),
    (
        "missing CSV column",
        "documents.csv",
        "id,version,title,type\nPOL-1,1.0,Policy,policy\n",
    ),
    (
        "bad CSV date",
        "documents.csv",
        "id,version,title,type,status,approved_on\nPOL-1,1.0,Policy,policy,current,2026-1-15\n",
    ),
    (
        "bad CSV flag",
        "people.csv",
        "id,name,top_management\na.smith,Alex,sometimes\n",
    ),
    (
        "unknown document type",
        "documents.csv",
        "id,title,type,status\nX-1,Thing,policey,current\n",
    ),
    ("empty required cell", "people.csv", "id,name\n,Alex\n"),
    (
        "short row",
        "raci.csv",
        "process,activity,person,raci\nincident,,p.jones\n",
    ),
    (
        "duplicate CSV row",
        "documents.csv",
        "id,version,title,type,status\nPOL-1,1.0,Policy,policy,current\nPOL-1,1.0,Policy again,policy,draft\n",
    ),
    (
        "bad ticket time",
        "tickets/changes.csv",
        "id,approved_at\nCHG1,2026-05-01 25:00\n",
    ),
];

#[test]
fn broken_files_are_reported_with_file_line_and_field() {
    let mut out = String::new();
    for (what, file, text) in BROKEN {
        let (tmp, dir) = scaffold();
        std::fs::write(dir.join(file), text).unwrap();
        let errors = iso20k_bundle::read(&dir).expect_err(what);
        let shown = errors
            .to_string()
            .replace(&tmp.path().display().to_string(), "$TMP");
        assert!(
            shown.contains(file),
            "{what}: the message must name the file: {shown}"
        );
        writeln!(out, "## {what}\n{shown}\n").unwrap();
    }
    insta::assert_snapshot!(out);
}

#[test]
fn every_problem_is_reported_at_once_and_unknown_files_are_errors() {
    let (tmp, dir) = scaffold();
    std::fs::write(dir.join("managment-reviews.yaml"), "reviews: []\n").unwrap();
    std::fs::write(dir.join("tickets/incident.csv"), "id\n").unwrap();
    std::fs::write(
        dir.join("people.csv"),
        "id,name,role,unit,top_managment,left_on\n",
    )
    .unwrap();
    std::fs::write(dir.join("notes.md"), "not data, so ignored").unwrap();
    let errors = iso20k_bundle::read(&dir).unwrap_err();
    let shown = errors
        .to_string()
        .replace(&tmp.path().display().to_string(), "$TMP");
    assert_eq!(errors.0.len(), 3, "{shown}");
    assert!(
        shown.contains(
            "managment-reviews.yaml: not a bundle file; did you mean management-reviews.yaml?"
        ),
        "{shown}"
    );
    assert!(
        shown.contains(
            "tickets/incident.csv: not a bundle file; did you mean tickets/incidents.csv?"
        ),
        "{shown}"
    );
}

#[test]
fn a_folder_without_organisation_yaml_is_not_a_bundle() {
    let tmp = tempfile::tempdir().unwrap();
    let err = iso20k_bundle::read(tmp.path()).unwrap_err().to_string();
    assert!(err.contains("organisation.yaml: missing"), "{err}");
    let err = iso20k_bundle::read(&tmp.path().join("nope"))
        .unwrap_err()
        .to_string();
    assert!(err.contains("no such folder"), "{err}");
}

#[test]
fn a_byte_order_mark_from_a_spreadsheet_is_fine() {
    let (_tmp, dir) = scaffold();
    let text = std::fs::read_to_string(dir.join("people.csv")).unwrap();
    std::fs::write(dir.join("people.csv"), format!("\u{feff}{text}")).unwrap();
    assert_eq!(iso20k_bundle::read(&dir).unwrap().people.len(), 3);
}

#[test]
fn committed_schemas_match_the_reader() {
    let dir = workspace().join("schema");
    for (file, schema) in iso20k_bundle::schema::all() {
        let path = dir.join(iso20k_bundle::schema::file_name(file));
        let committed = std::fs::read_to_string(&path).unwrap_or_default();
        let generated = serde_json::to_string_pretty(&schema).unwrap() + "\n";
        assert!(
            committed == generated,
            "{} is stale: run `cargo run -q -- schema --out schema`",
            path.display()
        );
    }
}

#[test]
fn yaml_files_of_every_bundle_we_ship_pass_their_schemas() {
    let (_tmp, scaffolded) = scaffold();
    let (_tmp2, fresh) = fresh();
    let mut bundles = vec![scaffolded, fresh];
    for example in ["demo", "clean"] {
        bundles.push(workspace().join("examples").join(example));
    }
    let schemas = iso20k_bundle::schema::all();
    for bundle in &bundles {
        for (file, schema) in &schemas {
            let path = bundle.join(file);
            if !file.ends_with(".yaml") || !path.exists() {
                continue;
            }
            let text = std::fs::read_to_string(&path).unwrap();
            // A file of comments holds nothing yet, and is read as absent.
            if text
                .lines()
                .all(|l| l.trim().is_empty() || l.trim_start().starts_with('#'))
            {
                continue;
            }
            let value: serde_json::Value = serde_saphyr::from_str(&text).unwrap();
            let validator = jsonschema::validator_for(schema.as_value()).unwrap();
            let errors: Vec<_> = validator
                .iter_errors(&value)
                .map(|e| format!("{} at {}", e, e.instance_path()))
                .collect();
            assert!(errors.is_empty(), "{}: {errors:#?}", path.display());
        }
    }
}

#[test]
fn ticket_tables_round_trip_every_field_and_stay_all_or_nothing() {
    use iso20k_core::model::*;
    let (_tmp, dir) = scaffold();
    let t = |s: &str| Some(s.parse::<iso20k_core::DateTime>().unwrap());
    let tickets = Tickets {
        incidents: vec![
            Incident {
                id: "INC2".into(),
                opened_at: t("2026-05-01T08:00:00"),
                resolved_at: t("2026-05-01T09:30:15.25"),
                closed_at: t("2026-05-02T10:00:00"),
                priority: Some(1),
                major: true,
                category: Some("network, core".into()),
                service: Some("SVC-MAIL".into()),
                ci: Some("CI-1".into()),
                problem: Some("PRB1".into()),
                resolution: Some("Restarted \"mx-01\"\nand the relay".into()),
                sla_met: Some(false),
                reopen_count: 2,
                breach_review: Some("Carrier fault, reviewed 2026-05-04".into()),
            },
            Incident {
                id: "INC1".into(),
                ..Default::default()
            },
        ],
        requests: vec![ServiceRequest {
            id: "REQ1".into(),
            opened_at: t("2026-05-01T08:00:00"),
            sla_met: Some(true),
            ..Default::default()
        }],
        problems: vec![Problem {
            id: "PRB1".into(),
            root_cause: Some("queue limit".into()),
            known_error: true,
            change: Some("CHG1".into()),
            ..Default::default()
        }],
        changes: vec![Change {
            id: "CHG1".into(),
            kind: ChangeType::Emergency,
            approved_at: t("2026-05-03T01:00:00"),
            implemented_at: t("2026-05-03T00:30:00"),
            backout_plan: true,
            reviewed_on: Some(jiff::civil::date(2026, 5, 5)),
            successful: Some(true),
            ..Default::default()
        }],
        releases: vec![Release {
            id: "REL1".into(),
            change: Some("CHG1".into()),
            tested: true,
            ..Default::default()
        }],
        cis: vec![ConfigurationItem {
            id: "CI-1".into(),
            name: "mx-01".into(),
            last_verified_on: Some(jiff::civil::date(2026, 1, 1)),
            ..Default::default()
        }],
    };
    iso20k_bundle::tickets::write(&dir, &tickets).unwrap();
    assert_eq!(iso20k_bundle::tickets::read(&dir).unwrap(), tickets);

    // Two rows with one id, out of order: the duplicate is found even when ids are not sorted.
    let text = std::fs::read_to_string(dir.join("tickets/incidents.csv")).unwrap();
    std::fs::write(
        dir.join("tickets/incidents.csv"),
        format!(
            "{text}INC1{}\n",
            ",".repeat(iso20k_bundle::tickets::INCIDENT_COLUMNS.len() - 1)
        ),
    )
    .unwrap();
    let err = iso20k_bundle::read(&dir).unwrap_err().to_string();
    assert!(err.contains("`INC1` appears twice (first on line"), "{err}");
}

#[test]
fn large_ticket_tables_are_read_in_halves_with_the_right_line_numbers() {
    let (_tmp, dir) = scaffold();
    let mut text = String::from("id,opened_at,priority\n");
    for i in 0..200_000 {
        text.push_str(&format!("INC{i:07},2026-05-01 08:00:00,3\n"));
    }
    // A bad cell far into the second half.
    text.push_str("INC9999999,2026-05-01 08:00:00,high\n");
    std::fs::write(dir.join("tickets/incidents.csv"), &text).unwrap();
    let err = iso20k_bundle::read(&dir).unwrap_err().to_string();
    assert!(err.contains("tickets/incidents.csv:200002:32: field `priority`: not a whole number in the allowed range"), "{err}");
}

#[test]
fn ticket_rows_are_checked_against_the_header() {
    let (tmp, dir) = scaffold();
    let cases = [
        (
            "tickets/incidents.csv",
            "id,priority\n\n   \nINC1,3,extra\n",
            "tickets/incidents.csv:4: row has 3 fields but the header has 2",
        ),
        (
            "tickets/incidents.csv",
            "id,priority\nINC1\n",
            "tickets/incidents.csv:2: row has 1 fields but the header has 2",
        ),
        (
            "tickets/cis.csv",
            "id,owner\n",
            "tickets/cis.csv:1: field `name`: required column `name` is missing",
        ),
    ];
    for (file, text, want) in cases {
        std::fs::write(dir.join(file), text).unwrap();
        let err = iso20k_bundle::read(&dir)
            .unwrap_err()
            .to_string()
            .replace(&tmp.path().display().to_string(), "");
        assert!(err.contains(want), "{want}\n{err}");
        std::fs::remove_file(dir.join(file)).unwrap();
    }
}

/// Every bundle we ship, plus the starting bundle `init` writes.
fn shipped_bundles() -> Vec<(String, PathBuf, Option<tempfile::TempDir>)> {
    let (tmp, scaffolded) = scaffold();
    vec![
        ("demo".into(), workspace().join("examples/demo"), None),
        ("clean".into(), workspace().join("examples/clean"), None),
        ("init with its examples".into(), scaffolded, Some(tmp)),
    ]
}

#[test]
fn bundles_written_back_read_as_the_same_records_and_model() {
    use iso20k_bundle::Bundle;
    for (name, dir, _keep) in shipped_bundles() {
        let original = Bundle::read(&dir).unwrap_or_else(|e| panic!("{name}: {e}"));
        let out = tempfile::tempdir().unwrap();
        let copy = out.path().join("copy");
        original.write(&copy).unwrap();
        let again = Bundle::read(&copy).unwrap_or_else(|e| panic!("{name} written back: {e}"));
        assert_eq!(original.records(), again.records(), "{name}");
        assert_eq!(
            format!("{:?}", original.into_sms()),
            format!("{:?}", again.into_sms()),
            "{name}"
        );
    }
}

#[test]
fn bundles_split_into_records_and_rebuilt_are_the_same() {
    use iso20k_bundle::Bundle;
    for (name, dir, _keep) in shipped_bundles() {
        let original = Bundle::read(&dir).unwrap();
        let records = original.records();
        assert!(records.len() > 3, "{name}");
        let mut rebuilt = Bundle::default();
        for r in &records {
            // What the server does with a record sent to it: check it, then keep its canonical
            // form, which must be what the bundle split into.
            let entry = r.kind.parse(&r.body).unwrap();
            assert_eq!((&entry.key, &entry.body), (&r.key, &r.body), "{name}");
            rebuilt.push(r.kind, &r.body).unwrap();
        }
        assert_eq!(records, rebuilt.records(), "{name}");
        assert_eq!(
            format!("{:?}", original.into_sms()),
            format!("{:?}", rebuilt.into_sms()),
            "{name}"
        );
    }
}

#[test]
fn every_kind_of_record_appears_in_the_demo() {
    let demo = iso20k_bundle::Bundle::read(&workspace().join("examples/demo")).unwrap();
    let records = demo.records();
    for kind in iso20k_bundle::records::KINDS {
        assert!(
            records.iter().any(|r| r.kind == kind),
            "the demo has no {}",
            kind.name
        );
    }
}

#[test]
fn records_sent_as_json_are_checked_field_by_field() {
    use iso20k_bundle::records::kind;
    let check = |k: &str, json: &str| -> String {
        match kind(k).unwrap().parse(json) {
            Ok(e) => format!("ok {} {:?} {}", e.key, e.nested, e.body),
            Err(errors) => errors
                .iter()
                .map(|e| format!("{}: {}", e.field, e.message))
                .collect::<Vec<_>>()
                .join("; "),
        }
    };
    for (k, json, want) in [
        (
            "slas",
            r#"{"id": "SLA-1", "service": "S1", "customer": "C1", "targets": [{"metric": "availability", "value": "lots"}]}"#,
            "targets[0].value: unknown field `value`, expected one of",
        ),
        (
            "management-reviews",
            r#"{"id": "MR-1", "held_on": "2026-02-30"}"#,
            "held_on: invalid date `2026-02-30`: no such day",
        ),
        (
            "management-reviews",
            r#"{"id": "MR-1", "actions": [{"id": "A1", "description": "x"}, {"id": "A1", "description": "y"}]}"#,
            "actions[1].id: id `A1` is used twice in the record",
        ),
        (
            "people",
            r#"{"id": " ", "name": "N"}"#,
            "id: a value is required",
        ),
        ("people", r#"{"name": "N"}"#, ": missing field `id`"),
        (
            "incidents",
            r#"{"id": "INC1", "opened_at": "2026-01-05 10:00", "major": "yes", "sla_met": null}"#,
            r#"ok INC1 [] {"id":"INC1","opened_at":"2026-01-05 10:00:00","major":true}"#,
        ),
        (
            "raci",
            r#"{"process": "incident", "person": "p1", "raci": "a"}"#,
            r#"ok incident/p1/A [] {"process":"incident","person":"p1","raci":"A"}"#,
        ),
        (
            "documents",
            r#"{"id": "D1", "version": "2.0", "title": "T", "type": "policy", "status": "current"}"#,
            "ok D1/2.0",
        ),
    ] {
        let got = check(k, json);
        assert!(
            got.starts_with(want),
            "{k} {json}\n got: {got}\nwant: {want}"
        );
    }
}

#[test]
fn written_bundles_refuse_a_folder_with_files_and_leave_it_alone() {
    let demo = iso20k_bundle::Bundle::read(&workspace().join("examples/demo")).unwrap();
    let out = tempfile::tempdir().unwrap();
    std::fs::write(out.path().join("notes.txt"), "mine").unwrap();
    let err = demo.write(out.path()).unwrap_err();
    assert!(err.to_string().contains("already holds files"), "{err}");
    let names: Vec<_> = std::fs::read_dir(out.path()).unwrap().collect();
    assert_eq!(names.len(), 1);
}

#[test]
fn every_kind_of_evidence_the_checks_cite_points_into_a_kind_of_record() {
    let sms = iso20k_bundle::read(&workspace().join("examples/demo")).unwrap();
    let as_of = "2026-06-30".parse().unwrap();
    for edition in iso20k_core::Edition::ALL {
        let report =
            iso20k_core::audit::audit(&sms, iso20k_core::audit::Options { edition, as_of });
        for f in &report.findings {
            for e in &f.evidence {
                assert!(
                    iso20k_bundle::records::for_evidence(e.kind.as_str(), &e.id).is_some(),
                    "{}: evidence `{} {}` has no record kind",
                    f.check,
                    e.kind.as_str(),
                    e.id
                );
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Fuzzing: one file of an example bundle mutated at a time (byte flips, truncation, repeated
// lines, inserted NULs, huge numbers, deep nesting), read whole. The reader must never panic,
// and answer a model or errors that name a file of the bundle, quickly.

mod fuzz {
    use super::*;
    use proptest::prelude::*;

    #[derive(Debug, Clone)]
    enum Mutation {
        Flip(usize, u8),
        Truncate(usize),
        DuplicateLine(usize),
        Insert(usize, &'static str),
    }

    fn mutation() -> impl Strategy<Value = Mutation> {
        prop_oneof![
            (any::<usize>(), any::<u8>()).prop_map(|(p, b)| Mutation::Flip(p, b)),
            any::<usize>().prop_map(Mutation::Truncate),
            any::<usize>().prop_map(Mutation::DuplicateLine),
            (
                any::<usize>(),
                prop::sample::select(vec![
                    "\0",
                    "\u{7}",
                    "99999999999999999999999999999999999999",
                    "-1e999999",
                    "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[",
                    "{a: {a: {a: {a: {a: {a: {a: {a: {a: {a: {a: {a: {a: {a:",
                    "- - - - - - - - - - - - - - - - - - - - - - - - - - - -",
                    "&a [*a, *a, *a, *a]",
                    "!!binary AAAA",
                    "\"",
                    ",",
                    ":",
                    "\n  ",
                    "\t",
                    "\u{feff}",
                    "2026-02-30",
                    "9999-99-99 99:99:99",
                    "P99999999999Y",
                ]),
            )
                .prop_map(|(p, s)| Mutation::Insert(p, s)),
        ]
    }

    fn apply(bytes: &mut Vec<u8>, mutations: &[Mutation]) {
        for m in mutations {
            let len = bytes.len().max(1);
            match m {
                Mutation::Flip(p, b) => {
                    if !bytes.is_empty() {
                        bytes[p % len] ^= b | 1;
                    }
                }
                Mutation::Truncate(p) => bytes.truncate(p % len),
                Mutation::DuplicateLine(p) => {
                    let lines: Vec<Vec<u8>> =
                        bytes.split(|b| *b == b'\n').map(<[u8]>::to_vec).collect();
                    let i = p % lines.len();
                    let mut out = Vec::new();
                    for (j, l) in lines.iter().enumerate() {
                        let times = if j == i { 4 } else { 1 };
                        for _ in 0..times {
                            out.extend_from_slice(l);
                            out.push(b'\n');
                        }
                    }
                    out.pop();
                    *bytes = out;
                }
                Mutation::Insert(p, s) => {
                    let at = p % (bytes.len() + 1);
                    bytes.splice(at..at, s.bytes());
                }
            }
        }
    }

    /// Every file of examples/demo and examples/clean, relative to its bundle.
    fn seeds() -> Vec<(&'static str, PathBuf)> {
        let mut out = Vec::new();
        for example in ["demo", "clean"] {
            let root = workspace().join("examples").join(example);
            let mut stack = vec![root.clone()];
            while let Some(dir) = stack.pop() {
                for e in std::fs::read_dir(&dir).unwrap().flatten() {
                    let p = e.path();
                    if p.is_dir() {
                        stack.push(p);
                    } else {
                        out.push((example, p.strip_prefix(&root).unwrap().to_owned()));
                    }
                }
            }
        }
        out.sort();
        out
    }

    fn copy(from: &Path, to: &Path) {
        std::fs::create_dir_all(to).unwrap();
        for e in std::fs::read_dir(from).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                copy(&p, &to.join(e.file_name()));
            } else {
                std::fs::copy(&p, to.join(e.file_name())).unwrap();
            }
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 200, failure_persistence: None, ..ProptestConfig::default() })]

        #[test]
        fn a_bundle_with_one_mutated_file_reads_or_fails_with_errors_naming_its_files(
            seed in any::<prop::sample::Index>(),
            mutations in prop::collection::vec(mutation(), 1..5),
        ) {
            let seeds = seeds();
            let (example, file) = &seeds[seed.index(seeds.len())];
            let tmp = tempfile::tempdir().unwrap();
            let dir = tmp.path().join("sms");
            copy(&workspace().join("examples").join(example), &dir);
            let mut bytes = std::fs::read(dir.join(file)).unwrap();
            apply(&mut bytes, &mutations);
            std::fs::write(dir.join(file), &bytes).unwrap();
            let start = std::time::Instant::now();
            let result = iso20k_bundle::read(&dir);
            prop_assert!(start.elapsed().as_secs() < 10, "{}: {:?}", file.display(), start.elapsed());
            if let Err(errors) = result {
                prop_assert!(!errors.0.is_empty());
                for e in &errors.0 {
                    prop_assert!(e.file.starts_with(&dir), "{e}");
                    prop_assert!(!e.message.is_empty());
                }
            }
            // The record view of the same folder, which the server imports.
            let _ = iso20k_bundle::Bundle::read(&dir);
        }
    }
}

#[test]
fn plan_entries_are_checked_as_they_are_read_naming_file_line_and_field() {
    let (tmp, dir) = scaffold();
    let plan = dir.join("plan.yaml");
    let read = |text: &str| {
        std::fs::write(&plan, text).unwrap();
        iso20k_bundle::read(&dir).map(|sms| sms.plan).map_err(|e| {
            e.to_string()
                .replace(&tmp.path().display().to_string(), "$TMP")
        })
    };
    // A risk accepted without a reason or an approver.
    let err = read(
        "actions:\n  - finding: mr-overdue\n    status: done\n  - finding: process-no-kpi\n    status: risk-accepted\n",
    )
    .unwrap_err();
    assert!(
        err.contains("$TMP/sms/plan.yaml:4:") && err.contains("field `actions[1].reason`"),
        "{err}"
    );
    assert!(err.contains("field `actions[1].approved_by`"), "{err}");
    // Approved by someone who is not top management (p.jones), or by nobody known.
    let err = read(
        "actions:\n  - finding: process-no-kpi\n    status: risk-accepted\n    reason: measured elsewhere\n    approved_by: p.jones\n",
    )
    .unwrap_err();
    assert!(
        err.contains("plan.yaml:2:")
            && err.contains("field `actions[0].approved_by`")
            && err.contains("not top management"),
        "{err}"
    );
    let err = read(
        "actions:\n  - finding: process-no-kpi\n    status: risk-accepted\n    reason: r\n    approved_by: ghost\n",
    )
    .unwrap_err();
    assert!(err.contains("`ghost` is not in people.csv"), "{err}");
    // A finding id that names no check, the same finding twice, a status that is none.
    let err = read("actions:\n  - finding: no-such-check/x\n").unwrap_err();
    assert!(
        err.contains("field `actions[0].finding`")
            && err.contains("`no-such-check` is not a check"),
        "{err}"
    );
    let err = read("actions:\n  - finding: mr-overdue\n  - finding: mr-overdue\n").unwrap_err();
    assert!(err.contains("used twice"), "{err}");
    let err = read("actions:\n  - finding: mr-overdue\n    status: finished\n").unwrap_err();
    assert!(err.contains("actions[0].status"), "{err}");

    // Accepted by top management (a.smith), with a reason: read into the model.
    let entries = read(
        "actions:\n  - finding: process-no-kpi\n    status: risk-accepted\n    reason: measured elsewhere\n    approved_by: a.smith\n    comments:\n      - on: 2026-06-01\n        by: a.smith\n        text: agreed\n  - finding: checklist/F-012\n    owner: p.jones\n    due: 2026-07-31\n",
    )
    .unwrap();
    assert_eq!(entries.len(), 2);
    let accepted = entries
        .iter()
        .find(|e| e.finding == "process-no-kpi")
        .unwrap();
    assert_eq!(
        accepted.status,
        iso20k_core::model::PlanStatus::RiskAccepted
    );
    assert_eq!(accepted.approved_by.as_deref(), Some("a.smith"));
    assert_eq!(accepted.comments[0].text, "agreed");
}

#[test]
fn a_plan_record_sent_to_the_server_is_checked_like_the_file() {
    let kind = iso20k_bundle::records::kind("plan").unwrap();
    assert_eq!(kind.file, "plan.yaml");
    let errors = kind
        .parse(r#"{"finding": "process-no-kpi", "status": "risk-accepted", "reason": "r"}"#)
        .unwrap_err();
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(errors[0].field, "approved_by");
    let errors = kind.parse(r#"{"finding": "nothing-like-it"}"#).unwrap_err();
    assert_eq!(errors[0].field, "finding");
    let entry = kind
        .parse(r#"{"finding": "mr-overdue", "owner": "a", "status": "in-progress"}"#)
        .unwrap();
    assert_eq!(entry.key, "mr-overdue");
}
