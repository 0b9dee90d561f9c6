//! The `iso20k` binary as a user drives it: exit codes, output formats, and the promises the
//! JSON output makes to other tools.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::{Value, json};

mod smtp;

const AS_OF: &str = "2026-06-30";

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn example(name: &str) -> PathBuf {
    workspace().join("examples").join(name)
}

fn iso20k(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_iso20k"))
        .args(args)
        .output()
        .expect("the binary runs")
}

fn stdout(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8(o.stderr.clone()).unwrap()
}

fn check_json(dir: &Path, extra: &[&str]) -> (i32, Value) {
    let mut args = vec![
        "check",
        dir.to_str().unwrap(),
        "--as-of",
        AS_OF,
        "--format",
        "json",
    ];
    args.extend_from_slice(extra);
    let o = iso20k(&args);
    let code = o.status.code().unwrap();
    assert!(code != 2, "input error: {}", stderr(&o));
    (
        code,
        serde_json::from_str(&stdout(&o)).expect("stdout is JSON"),
    )
}

fn all_check_ids() -> Vec<&'static str> {
    iso20k_core::checks::ALL.iter().map(|c| c.id).collect()
}

#[test]
fn every_check_fires_on_the_demo_with_evidence_from_real_records() {
    let dir = example("demo");
    let (code, report) = check_json(&dir, &[]);
    assert_eq!(code, 1, "the demo has major findings");
    let findings = report["findings"].as_array().unwrap();
    let fired: Vec<&str> = findings
        .iter()
        .map(|f| f["check"].as_str().unwrap())
        .collect();
    let silent: Vec<_> = all_check_ids()
        .into_iter()
        .filter(|id| !fired.contains(id))
        .collect();
    assert!(
        silent.is_empty(),
        "checks that never fire on the demo: {silent:?}"
    );

    // Every piece of evidence names a record (or a register) that is written in the bundle.
    let mut text = String::new();
    for entry in walk(&dir) {
        text.push_str(&std::fs::read_to_string(entry).unwrap());
    }
    for f in findings {
        for e in f["evidence"].as_array().unwrap() {
            let id = e["id"].as_str().unwrap();
            let register = e["kind"] == "register" || e["kind"] == "organisation";
            assert!(
                register || text.contains(id),
                "{}: evidence id {id} is not in the bundle",
                f["check"]
            );
        }
    }
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else if p.extension().is_some_and(|x| x == "yaml" || x == "csv") {
            out.push(p);
        }
    }
    out
}

#[test]
fn the_clean_example_passes_in_both_editions() {
    for edition in ["2018", "2011"] {
        let (code, report) = check_json(
            &example("clean"),
            &["--edition", edition, "--fail-on", "observation"],
        );
        assert_eq!(
            report["findings"].as_array().unwrap().len(),
            0,
            "{edition}: {:#}",
            report["findings"]
        );
        assert_eq!(code, 0);
        assert_eq!(report["readiness"]["overall"], 100.0);
        let coverage = &report["readiness"]["coverage"];
        assert_eq!(
            coverage["assessed"], coverage["total"],
            "{edition}: every leaf clause is assessed"
        );
        assert_eq!(report["readiness"]["stage2"]["ready"], true);
    }
}

#[test]
fn json_output_keeps_its_contract() {
    let (_, r) = check_json(&example("demo"), &[]);
    assert_eq!(r["edition"], "2018");
    assert_eq!(r["as_of"], AS_OF);
    let overall = r["readiness"]["overall"].as_f64().unwrap();
    assert!((0.0..=100.0).contains(&overall));
    let clauses = r["readiness"]["clauses"].as_array().unwrap();
    assert!(
        clauses
            .iter()
            .any(|c| c["clause"] == "9.3" && c["title"] == "Management review")
    );
    assert!(clauses.iter().all(|c| {
        c["score"]
            .as_f64()
            .is_some_and(|s| (0.0..=100.0).contains(&s))
    }));
    let findings = r["findings"].as_array().unwrap();
    let counted = ["major", "minor", "observation"].map(|g| r["summary"][g].as_u64().unwrap());
    assert_eq!(counted.iter().sum::<u64>() as usize, findings.len());
    for f in findings {
        for key in ["check", "pattern", "grade", "title"] {
            assert!(f[key].is_string(), "{key} in {f}");
        }
        assert!(f["clauses"]["2011"].is_array() && f["clauses"]["2018"].is_array());
        assert!(
            !f["evidence"].as_array().unwrap().is_empty(),
            "{} has no evidence",
            f["check"]
        );
        assert!(
            f["evidence"]
                .as_array()
                .unwrap()
                .iter()
                .all(|e| e["id"].is_string())
        );
        assert!(!f["fix"].as_array().unwrap().is_empty());
    }
    // Ids are unique, and every gain is a score difference, to two decimals.
    let mut ids: Vec<&str> = findings.iter().map(|f| f["id"].as_str().unwrap()).collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), findings.len(), "finding ids are unique");
    for f in findings {
        for key in ["gain", "uncapped_gain"] {
            let g = f[key].as_f64().unwrap();
            assert!((0.0..=100.0).contains(&g), "{key} {g}");
            assert!(((g * 100.0).round() - g * 100.0).abs() < 1e-6, "{key} {g}");
        }
    }
    // The uncapped score is the mean of every leaf clause, an unassessed one counting 0, and
    // coverage counts the assessed leaves.
    let leaves: Vec<&Value> = clauses.iter().filter(|c| c["leaf"] == true).collect();
    let mean = leaves
        .iter()
        .map(|c| c["score"].as_f64().unwrap())
        .sum::<f64>()
        / leaves.len() as f64;
    let uncapped = r["readiness"]["uncapped"].as_f64().unwrap();
    assert!((mean - uncapped).abs() < 0.01, "{mean} {uncapped}");
    assert!(overall <= uncapped);
    let coverage = &r["readiness"]["coverage"];
    assert_eq!(coverage["total"].as_u64().unwrap() as usize, leaves.len());
    assert_eq!(
        coverage["assessed"].as_u64().unwrap() as usize,
        leaves.iter().filter(|c| c["assessed"] == true).count()
    );
    assert!(
        leaves
            .iter()
            .all(|c| c["assessed"] == true || c["score"] == 0.0)
    );
    // The verdicts and the bands agree.
    let ready = |s: &str| r["readiness"][s]["ready"].as_bool().unwrap();
    assert_eq!(ready("stage1"), overall >= 50.0);
    assert_eq!(ready("stage2"), overall >= 70.0);
    for stage in ["stage1", "stage2"] {
        for b in r["readiness"][stage]["blockers"].as_array().unwrap() {
            assert!(b["reason"].is_string());
            assert!(b["finding"].is_null() || ids.contains(&b["finding"].as_str().unwrap()));
        }
    }
}

#[test]
fn the_demo_readme_quotes_the_figures_the_demo_gives() {
    let readme = std::fs::read_to_string(example("demo").join("README.md")).unwrap();
    let readme = readme.split_whitespace().collect::<Vec<_>>().join(" ");
    // No --as-of: the demo declares its own day.
    let o = iso20k(&[
        "check",
        example("demo").to_str().unwrap(),
        "--format",
        "json",
    ]);
    let r: Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(r["as_of"], AS_OF);
    let n = |v: &Value| v.as_u64().unwrap();
    let figure = |key: &str| iso20k_core::readiness::figure(r["readiness"][key].as_f64().unwrap());
    let coverage = &r["readiness"]["coverage"];
    for quoted in [
        format!("**{}/100**", figure("overall")),
        format!(
            "{} of {} clauses assessed",
            n(&coverage["assessed"]),
            n(&coverage["total"])
        ),
        format!("the assessed clauses scoring {}", figure("assessed_score")),
        format!(
            "{} major, {} minor and {} observation findings",
            n(&r["summary"]["major"]),
            n(&r["summary"]["minor"]),
            n(&r["summary"]["observation"])
        ),
        format!("it is {} before that cap", figure("uncapped")),
    ] {
        assert!(
            readme.contains(&quoted),
            "examples/demo/README.md should say {quoted}"
        );
    }
    let policy = r["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["id"] == "policy-missing")
        .unwrap();
    let gain = format!("worth {:.1} points", policy["gain"].as_f64().unwrap());
    assert!(readme.contains(&gain), "{gain}");
}

#[test]
fn the_same_records_and_date_give_the_same_report() {
    let a = iso20k(&[
        "check",
        example("demo").to_str().unwrap(),
        "--as-of",
        AS_OF,
        "--format",
        "json",
    ]);
    let b = iso20k(&[
        "check",
        example("demo").to_str().unwrap(),
        "--as-of",
        AS_OF,
        "--format",
        "json",
    ]);
    assert_eq!(a.stdout, b.stdout);
}

#[test]
fn the_text_report_reads_well() {
    let o = iso20k(&["check", example("demo").to_str().unwrap(), "--as-of", AS_OF]);
    let text = stdout(&o);
    assert!(
        !text.contains('\u{1b}'),
        "no colour codes when stdout is not a terminal"
    );
    let last = text.lines().last().unwrap();
    assert!(
        last.contains("major") && last.contains("readiness"),
        "{last}"
    );
    insta::assert_snapshot!("demo-text", text);
}

#[test]
fn fail_on_sets_the_exit_code() {
    let demo = example("demo");
    let d = demo.to_str().unwrap();
    assert_eq!(
        iso20k(&["check", d, "--as-of", AS_OF]).status.code(),
        Some(1)
    );
    assert_eq!(
        iso20k(&["check", d, "--as-of", AS_OF, "--fail-on", "never"])
            .status
            .code(),
        Some(0)
    );
    let clean = example("clean");
    let c = clean.to_str().unwrap();
    assert_eq!(
        iso20k(&["check", c, "--as-of", AS_OF, "--fail-on", "observation"])
            .status
            .code(),
        Some(0)
    );
}

#[test]
fn a_new_bundle_from_init_scores_at_most_20_in_both_editions() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("sms");
    assert!(iso20k(&["init", dir.to_str().unwrap()]).status.success());
    for edition in ["2018", "2011"] {
        let (_, r) = check_json(&dir, &["--edition", edition]);
        let readiness = &r["readiness"];
        let overall = readiness["overall"].as_f64().unwrap();
        assert!(overall <= 20.0, "{edition}: {overall}");
        assert_eq!(readiness["stage1"]["ready"], false, "{edition}");
        let findings = r["findings"].as_array().unwrap();
        for id in ["policy-missing", "mr-overdue", "audit-overdue"] {
            assert!(findings.iter().any(|f| f["id"] == id), "{edition}: {id}");
        }
    }
}

#[test]
fn input_and_usage_errors_exit_2_and_say_where() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("sms");
    let d = dir.to_str().unwrap();
    assert!(iso20k(&["init", d]).status.success());
    assert_eq!(
        iso20k(&["init", d]).status.code(),
        Some(2),
        "init refuses a folder that is not empty"
    );

    std::fs::write(
        dir.join("policy.yaml"),
        "title: Policy\napprovd_by: a.smith\n",
    )
    .unwrap();
    let o = iso20k(&["check", d]);
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert!(err.contains("policy.yaml:2:1: field `approvd_by`"), "{err}");
    assert!(
        stdout(&o).is_empty(),
        "nothing is reported from a bundle that did not read"
    );

    std::fs::write(
        dir.join("policy.yaml"),
        "title: Policy\napproved_on: 2026-13-01\n",
    )
    .unwrap();
    let err = stderr(&iso20k(&["check", d]));
    assert!(
        err.contains("policy.yaml:2:14: field `approved_on`: invalid date"),
        "{err}"
    );

    assert_eq!(
        iso20k(&["check", d, "--as-of", "30/06/2026"]).status.code(),
        Some(2)
    );
    assert_eq!(
        iso20k(&["check", d, "--edition", "2005"]).status.code(),
        Some(2)
    );
    assert_eq!(iso20k(&["check", "/no/such/bundle"]).status.code(), Some(2));
}

#[test]
fn a_fresh_scaffold_checks_with_only_the_gaps_a_new_sms_has() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("sms");
    assert!(iso20k(&["init", dir.to_str().unwrap()]).status.success());
    let (code, r) = check_json(&dir, &[]);
    assert_eq!(code, 1);
    let fired: Vec<&str> = r["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["check"].as_str().unwrap())
        .collect();
    assert!(
        fired.contains(&"mr-overdue") && fired.contains(&"audit-overdue"),
        "{fired:?}"
    );
    assert_eq!(r["readiness"]["stage1"]["ready"], false);
}

#[test]
fn the_knowledge_base_lists_at_least_110_complete_patterns() {
    let o = iso20k(&["kb", "list", "--format", "json"]);
    assert!(o.status.success());
    let all: Vec<Value> = serde_json::from_str(&stdout(&o)).unwrap();
    assert!(all.len() >= 110, "{}", all.len());
    for p in &all {
        for key in [
            "id",
            "title",
            "what_goes_wrong",
            "why_it_matters",
            "result",
            "grade",
        ] {
            assert!(
                p[key].as_str().is_some_and(|s| !s.is_empty()),
                "{key} of {}",
                p["id"]
            );
        }
        for key in ["how_to_fix", "evidence"] {
            assert!(
                p[key].as_array().is_some_and(|a| !a.is_empty()),
                "{key} of {}",
                p["id"]
            );
        }
        let d = &p["detection"];
        assert!(
            d["checks"].as_array().is_some_and(|c| !c.is_empty()) || d["manual"].is_string(),
            "{}",
            p["id"]
        );
    }
    let detected = all
        .iter()
        .filter(|p| p["detection"]["checks"].is_array())
        .count();
    assert!(
        detected >= 70,
        "only {detected} patterns are detected by checks"
    );
    let shown = stdout(&iso20k(&["kb", "show", "F-036"]));
    assert!(
        shown.contains("How to fix it") && shown.contains("mr-overdue"),
        "{shown}"
    );
    assert_eq!(iso20k(&["kb", "show", "F-999"]).status.code(), Some(2));
}

#[test]
fn kb_commands_filter_search_and_show() {
    let o = iso20k(&[
        "kb",
        "list",
        "--edition",
        "2011",
        "--clause",
        "4.5.4.3",
        "--format",
        "json",
    ]);
    let list: Vec<Value> = serde_json::from_str(&stdout(&o)).unwrap();
    assert!(list.iter().any(|p| p["id"] == "F-036"));
    assert!(list.iter().all(|p| {
        p["clauses"]["2011"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c.as_str().unwrap().starts_with("4.5.4"))
    }));
    let only_2018 = stdout(&iso20k(&[
        "kb",
        "list",
        "--edition",
        "2011",
        "--format",
        "json",
    ]));
    assert!(
        !only_2018.contains("\"F-111\""),
        "the climate pattern has no 2011 clause"
    );

    let text = stdout(&iso20k(&["kb", "search", "emergency", "change"]));
    assert!(text.lines().next().unwrap().contains("F-101"), "{text}");
    assert_eq!(
        iso20k(&["kb", "list", "--clause", "99.9"]).status.code(),
        Some(2)
    );
}

#[test]
fn clauses_list_both_editions_and_map_between_them() {
    for (edition, leaf, parent) in [("2018", "8.5.1.3", "8.5"), ("2011", "4.5.4.2", "4.5")] {
        let o = iso20k(&["clauses", "--edition", edition, "--format", "json"]);
        let all: Vec<Value> = serde_json::from_str(&stdout(&o)).unwrap();
        for id in [leaf, parent] {
            assert!(
                all.iter()
                    .any(|c| c["clause"] == id && c["title"].is_string()),
                "{edition} {id}"
            );
        }
    }
    let text = stdout(&iso20k(&["clauses", "map", "4.5.4.3"]));
    assert!(text.contains("2018 9.3 Management review"), "{text}");
    let json: Vec<Value> = serde_json::from_str(&stdout(&iso20k(&[
        "clauses", "map", "9.3", "--format", "json",
    ])))
    .unwrap();
    assert_eq!(
        json.len(),
        2,
        "9.3 exists in both editions, so both directions are shown"
    );
    let from_2018 = stdout(&iso20k(&["clauses", "map", "9.3", "--from", "2018"]));
    assert!(
        from_2018.contains("4.5.4.3") && !from_2018.contains("8.5.3"),
        "{from_2018}"
    );
    assert!(stdout(&iso20k(&["clauses", "map", "7.6"])).contains("new in 2018"));
    assert_eq!(iso20k(&["clauses", "map", "12.1"]).status.code(), Some(2));
}

#[test]
fn checklist_answers_are_listed_and_move_the_score() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("sms");
    let d = dir.to_str().unwrap();
    assert!(iso20k(&["init", d]).status.success());
    std::fs::write(dir.join("checklist.yaml"), "answers: []\n").unwrap();
    let open: Vec<Value> = serde_json::from_str(&stdout(&iso20k(&[
        "checklist",
        d,
        "--as-of",
        AS_OF,
        "--format",
        "json",
    ])))
    .unwrap();
    assert!(open.len() > 40);
    assert!(
        open.iter()
            .all(|q| q["answer"] == "not-assessed" && q["question"].is_string())
    );
    let q = open
        .iter()
        .find(|q| q["clauses"].as_array().unwrap().iter().any(|c| c == "9.4"))
        .unwrap();
    let pattern = q["pattern"].as_str().unwrap();

    let (_, before) = check_json(&dir, &[]);
    let answer = |a: &str| {
        let text = format!(
            "answers:\n  - {{ pattern: {pattern}, answer: {a}, answered_on: 2026-06-01, evidence: interview }}\n"
        );
        std::fs::write(dir.join("checklist.yaml"), text).unwrap();
        check_json(&dir, &[]).1
    };
    let yes = answer("yes");
    let no = answer("no");
    let overall = |r: &Value| r["readiness"]["uncapped"].as_f64().unwrap();
    let assessed = |r: &Value| r["readiness"]["coverage"]["assessed"].as_u64().unwrap();
    assert!(
        assessed(&yes) > assessed(&before) && overall(&yes) > overall(&before),
        "yes adds an assessed clause"
    );
    assert!(overall(&no) < overall(&yes), "no raises a finding");
    assert!(
        no["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["check"] == "checklist" && f["pattern"] == pattern)
    );
    let remaining: Vec<Value> = serde_json::from_str(&stdout(&iso20k(&[
        "checklist",
        d,
        "--as-of",
        AS_OF,
        "--format",
        "json",
    ])))
    .unwrap();
    assert_eq!(remaining.len(), open.len() - 1);

    std::fs::write(
        dir.join("checklist.yaml"),
        "answers:\n  - { pattern: F-999, answer: yes }\n",
    )
    .unwrap();
    let err = stderr(&iso20k(&["check", d]));
    assert!(
        err.contains("checklist.yaml:2:16: field `answers[0].pattern`: unknown pattern `F-999`"),
        "{err}"
    );
}

#[test]
fn metrics_give_the_figures_of_a_service_report() {
    let demo = example("demo");
    let o = iso20k(&["metrics", demo.to_str().unwrap(), "--format", "json"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let m: Value = serde_json::from_str(&stdout(&o)).unwrap();
    let count = m["incidents"]["count"].as_u64().unwrap();
    assert!(count >= 40, "{count}");
    let ratio = m["incidents"]["sla_met_ratio"].as_f64().unwrap();
    assert!((0.0..=1.0).contains(&ratio));
    assert!(m["by_service"].as_array().unwrap().len() > 3);
    assert!(
        m["by_month"]
            .as_array()
            .unwrap()
            .iter()
            .all(|s| s["month"].as_str().unwrap().len() == 7)
    );
    let may = iso20k(&[
        "metrics",
        demo.to_str().unwrap(),
        "--from",
        "2026-05-01",
        "--to",
        "2026-05-31",
        "--format",
        "json",
    ]);
    let may: Value = serde_json::from_str(&stdout(&may)).unwrap();
    assert!(may["incidents"]["count"].as_u64().unwrap() < count);
    assert!(
        stdout(&iso20k(&["metrics", demo.to_str().unwrap()]))
            .contains("Resolution time by priority")
    );
}

/// Runs `iso20k` with `ISO20K_DATA_DIR` set, so nothing touches the user's own data directory.
fn iso20k_in(data: &Path, args: &[&str], stdin: Option<&str>) -> Output {
    use std::io::Write as _;
    use std::process::Stdio;
    let mut child = Command::new(env!("CARGO_BIN_EXE_iso20k"))
        .args(args)
        .env("ISO20K_DATA_DIR", data)
        .env_remove("ISO20K_DATABASE_URL")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary runs");
    let mut input = child.stdin.take().unwrap();
    input.write_all(stdin.unwrap_or("").as_bytes()).unwrap();
    drop(input);
    child.wait_with_output().unwrap()
}

fn ok(o: Output) -> String {
    assert!(o.status.success(), "{}\n{}", stdout(&o), stderr(&o));
    stdout(&o)
}

fn check_org_json(data: &Path, database: &str, org: &str) -> Value {
    let o = iso20k_in(
        data,
        &[
            "check",
            "--org",
            org,
            "--database",
            database,
            "--as-of",
            AS_OF,
            "--format",
            "json",
        ],
        None,
    );
    assert_ne!(o.status.code(), Some(2), "{}", stderr(&o));
    serde_json::from_str(&stdout(&o)).expect("stdout is JSON")
}

#[test]
fn the_demo_loads_once_and_checks_as_the_folder_does() {
    let data = tempfile::tempdir().unwrap();
    let first = ok(iso20k_in(data.path(), &["demo", "--no-serve"], None));
    assert!(
        first.starts_with("Loaded the demo organisation: "),
        "{first}"
    );
    assert!(first.contains("demo@iso20k.example"), "{first}");
    // The demo prints the figure `check` gives for the demo folder on the demo's own day.
    let checked = stdout(&iso20k(&[
        "check",
        example("demo").to_str().unwrap(),
        "--as-of",
        AS_OF,
    ]));
    let figure = checked
        .lines()
        .find(|l| l.starts_with("Readiness "))
        .expect("check prints the readiness line");
    assert!(first.contains(figure), "{first}\n---\n{figure}");
    let again = ok(iso20k_in(data.path(), &["demo", "--no-serve"], None));
    assert!(
        again.starts_with("Opened the demo organisation ("),
        "{again}"
    );
    // The demo database holds the demo folder: checking either gives one report.
    let database = format!("sqlite://{}", data.path().join("demo.db").display());
    let (_, folder) = check_json(&example("demo"), &[]);
    assert_eq!(check_org_json(data.path(), &database, "demo"), folder);
}

#[test]
fn bundles_go_into_a_database_and_come_back_unchanged() {
    let data = tempfile::tempdir().unwrap();
    let database = format!("sqlite://{}", data.path().join("team.db").display());
    let demo = example("demo");
    let demo = demo.to_str().unwrap();
    let import = |dir: &str| {
        iso20k_in(
            data.path(),
            &[
                "import-bundle",
                dir,
                "--org",
                "acme",
                "--database",
                &database,
            ],
            None,
        )
    };
    let first = ok(import(demo));
    assert!(first.starts_with("Created `acme` from "), "{first}");
    assert!(
        first.contains(" 0 updated, 0 unchanged, 0 deleted"),
        "{first}"
    );
    let again = ok(import(demo));
    assert!(again.contains(" 0 created, 0 updated, "), "{again}");
    assert!(again.ends_with(" unchanged, 0 deleted\n"), "{again}");

    let out = data.path().join("exported");
    let exported = ok(iso20k_in(
        data.path(),
        &[
            "export-bundle",
            out.to_str().unwrap(),
            "--org",
            "acme",
            "--database",
            &database,
        ],
        None,
    ));
    assert!(exported.starts_with("Exported `acme` to "), "{exported}");
    let (_, from_folder) = check_json(&example("demo"), &[]);
    let (_, from_export) = check_json(&out, &[]);
    assert_eq!(from_export, from_folder);
    assert_eq!(check_org_json(data.path(), &database, "acme"), from_folder);

    // The import's trail proves itself; an entry edited by hand is named.
    let verify = || {
        iso20k_in(
            data.path(),
            &["verify", "--org", "acme", "--database", &database],
            None,
        )
    };
    let intact = ok(verify());
    assert!(
        intact.starts_with("The audit trail of `acme` is intact: "),
        "{intact}"
    );
    assert!(intact.contains("\nHead: "), "{intact}");
    tokio::runtime::Runtime::new().unwrap().block_on(async {
        let store = iso20k_store::open(&database).await.unwrap();
        let edited = iso20k_store::testing::tamper(
            &store,
            "UPDATE changes SET actor = 'someone else' WHERE seq = 7",
        )
        .await;
        assert_eq!(edited, 1);
    });
    let broken = verify();
    assert_eq!(broken.status.code(), Some(1), "{}", stdout(&broken));
    assert!(
        stdout(&broken).starts_with("The audit trail of `acme` is broken at entry 7 (id "),
        "{}",
        stdout(&broken)
    );
    assert!(stdout(&broken).contains("The 6 entries before it verify."));

    // Ticket exports go straight into the organisation, through the same importers.
    let export = workspace().join("crates/iso20k-import/tests/data/servicenow/problem.csv");
    let export = export.to_str().unwrap();
    let tickets = |file: &str| {
        iso20k_in(
            data.path(),
            &["import", "--org", "acme", "--database", &database, file],
            None,
        )
    };
    let stored = ok(tickets(export));
    assert!(stored.contains("problems: "), "{stored}");
    assert!(stored.contains("Stored in `acme`."), "{stored}");
    let same = ok(tickets(export));
    assert!(
        same.contains("Nothing changed: `acme` already holds these tickets."),
        "{same}"
    );
    let junk = data.path().join("junk.csv");
    std::fs::write(&junk, "a,b\n1,2\n").unwrap();
    let refused = tickets(junk.to_str().unwrap());
    assert_eq!(refused.status.code(), Some(2));
    assert!(
        stderr(&refused).contains("junk.csv"),
        "{}",
        stderr(&refused)
    );

    // A folder that is not empty is never written into.
    let refused = iso20k_in(
        data.path(),
        &[
            "export-bundle",
            out.to_str().unwrap(),
            "--org",
            "acme",
            "--database",
            &database,
        ],
        None,
    );
    assert_eq!(refused.status.code(), Some(2));
    assert!(
        stderr(&refused).contains("exported"),
        "{}",
        stderr(&refused)
    );

    // A broken bundle is reported file:line and leaves the database as it was.
    let broken = tempfile::tempdir().unwrap();
    std::fs::copy(
        example("demo").join("organisation.yaml"),
        broken.path().join("organisation.yaml"),
    )
    .unwrap();
    std::fs::write(broken.path().join("people.csv"), "id,name\nP1\n").unwrap();
    let bad = iso20k_in(
        data.path(),
        &[
            "import-bundle",
            broken.path().to_str().unwrap(),
            "--org",
            "other",
            "--database",
            &database,
        ],
        None,
    );
    assert_eq!(bad.status.code(), Some(2));
    assert!(stderr(&bad).contains("people.csv:2"), "{}", stderr(&bad));
    let unknown = iso20k_in(
        data.path(),
        &["check", "--org", "other", "--database", &database],
        None,
    );
    assert_eq!(unknown.status.code(), Some(2));
    assert!(
        stderr(&unknown).contains("no organisation `other`"),
        "{}",
        stderr(&unknown)
    );
}

/// One HTTP/1.1 request over a plain socket; returns the status and the body.
fn http(addr: &str, request: &str) -> (u16, String) {
    use std::io::{Read as _, Write as _};
    let mut socket = std::net::TcpStream::connect(addr).unwrap();
    socket.write_all(request.as_bytes()).unwrap();
    let mut reply = String::new();
    socket.read_to_string(&mut reply).unwrap();
    let (head, body) = reply.split_once("\r\n\r\n").unwrap();
    let status = head.split(' ').nth(1).unwrap().parse().unwrap();
    let chunked = head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked");
    if !chunked {
        return (status, body.to_owned());
    }
    let mut rest = body;
    let mut out = String::new();
    loop {
        let (size, tail) = rest.split_once("\r\n").unwrap();
        let size = usize::from_str_radix(size.trim(), 16).unwrap();
        if size == 0 {
            return (status, out);
        }
        out.push_str(&tail[..size]);
        rest = &tail[size + 2..];
    }
}

#[test]
fn a_served_database_answers_a_token_made_on_the_command_line() {
    use std::io::BufRead as _;
    let data = tempfile::tempdir().unwrap();
    let database = format!("sqlite://{}", data.path().join("iso20k.db").display());
    let demo = example("demo");
    ok(iso20k_in(
        data.path(),
        &["import-bundle", demo.to_str().unwrap(), "--org", "acme"],
        None,
    ));
    let added = ok(iso20k_in(
        data.path(),
        &[
            "user",
            "add",
            "ann@acme.example",
            "--org",
            "acme",
            "--role",
            "auditor",
            "--password-stdin",
        ],
        Some("a long enough password\n"),
    ));
    assert_eq!(added, "ann@acme.example is auditor of `acme`\n");
    let short = iso20k_in(
        data.path(),
        &[
            "user",
            "add",
            "bo@acme.example",
            "--org",
            "acme",
            "--role",
            "viewer",
            "--password-stdin",
        ],
        Some("short\n"),
    );
    assert_eq!(short.status.code(), Some(2));
    let token = ok(iso20k_in(
        data.path(),
        &["token", "create", "ann@acme.example"],
        None,
    ));
    let token = token.trim();
    assert!(token.starts_with("iso20k_"), "{token}");

    // The default database is the one in the data directory, as for the commands above.
    let mut server = Command::new(env!("CARGO_BIN_EXE_iso20k"))
        .args(["serve", "--listen", "127.0.0.1:0", "--log-format", "json"])
        .env("ISO20K_DATA_DIR", data.path())
        .env_remove("ISO20K_DATABASE_URL")
        .env_remove("ISO20K_LOG")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufReader::new(server.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let addr = line
        .strip_prefix("Serving on http://")
        .and_then(|l| l.split(' ').next())
        .unwrap_or_else(|| panic!("{line}"))
        .to_owned();
    let get = |path: &str, token: &str| {
        http(
            &addr,
            &format!(
                "GET {path} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\nConnection: close\r\n\r\n"
            ),
        )
    };
    let (status, body) = get("/api/v1/orgs/acme/readiness?as_of=2026-06-30", token);
    let (refused, _) = get("/api/v1/orgs/acme/readiness", "iso20k_not-a-token");
    server.kill().unwrap();
    let log = server.wait_with_output().unwrap().stderr;
    assert_eq!(status, 200, "{body}");
    assert_eq!(refused, 401);
    // Every log line is a JSON object, and each request has one naming its path and status.
    let log: Vec<Value> = String::from_utf8(log)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    let requests: Vec<(&str, u64)> = log
        .iter()
        .filter(|l| l["target"] == "iso20k::request")
        .map(|l| (l["path"].as_str().unwrap(), l["status"].as_u64().unwrap()))
        .collect();
    assert_eq!(
        requests,
        [
            ("/api/v1/orgs/acme/readiness", 200),
            ("/api/v1/orgs/acme/readiness", 401)
        ]
    );
    let served: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(served, check_org_json(data.path(), &database, "acme"));
}

/// `iso20k report` on the demo in `format`, read back from the file it wrote.
fn report_of(format: &str, source: &[&str], data: &Path) -> String {
    let out = data.join(format!("report.{format}"));
    let mut args = vec!["report"];
    args.extend_from_slice(source);
    args.extend_from_slice(&[
        "--as-of",
        AS_OF,
        "--format",
        format,
        "-o",
        out.to_str().unwrap(),
    ]);
    ok(iso20k_in(data, &args, None));
    std::fs::read_to_string(&out).unwrap()
}

#[test]
fn reports_in_every_format_say_the_same_from_a_folder_and_a_database() {
    let data = tempfile::tempdir().unwrap();
    let demo = example("demo");
    let demo = demo.to_str().unwrap();
    let database = format!("sqlite://{}", data.path().join("team.db").display());
    ok(iso20k_in(
        data.path(),
        &[
            "import-bundle",
            demo,
            "--org",
            "acme",
            "--database",
            &database,
        ],
        None,
    ));
    let from_db = ["--org", "acme", "--database", database.as_str()];
    for format in ["md", "junit", "csv", "json", "html"] {
        let folder = report_of(format, &[demo], data.path());
        if format != "html" {
            insta::assert_snapshot!(format!("report-{format}"), folder);
        }
        assert_eq!(report_of(format, &from_db, data.path()), folder, "{format}");
    }

    // OSCAL: the same documents from either source; the findings pinned in short.
    let mut oscal = Vec::new();
    for format in ["oscal-catalog", "oscal-results"] {
        let folder = report_of(format, &[demo], data.path());
        assert_eq!(report_of(format, &from_db, data.path()), folder, "{format}");
        oscal.push(serde_json::from_str::<Value>(&folder).unwrap());
    }
    let controls = oscal[0]["catalog"]["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| {
            format!(
                "{} {}",
                g["id"].as_str().unwrap(),
                g["title"].as_str().unwrap()
            )
        })
        .collect::<Vec<_>>();
    let findings = oscal[1]["assessment-results"]["results"][0]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            format!(
                "{} -> {}",
                f["title"].as_str().unwrap(),
                f["target"]["target-id"].as_str().unwrap()
            )
        })
        .collect::<Vec<_>>();
    insta::assert_json_snapshot!(
        "report-oscal",
        json!({ "groups": controls, "findings": findings })
    );

    // HTML: one file with everything in it, and nothing fetched from elsewhere.
    let html = report_of("html", &[demo], data.path());
    for section in [
        "1. Objectives, scope and criteria",
        "2. Method",
        "3. Summary and verdict",
        "4. Score by clause",
        "5. Findings",
        "6. Clauses without findings",
        "7. Action plan",
        "Appendix: records examined",
    ] {
        assert!(html.contains(section), "{section}");
    }
    let (_, json) = check_json(&example("demo"), &[]);
    for f in json["findings"].as_array().unwrap() {
        let title = f["title"]
            .as_str()
            .unwrap()
            .replace('&', "&amp;")
            .replace('\'', "&#39;")
            .replace('<', "&lt;")
            .replace('>', "&gt;");
        assert!(html.contains(&title), "{title}");
    }
    assert!(
        !html.contains("src=\"http") && !html.contains("href=\"http"),
        "self-contained"
    );
    // A major found on 2026-06-30 is due 90 days later unless told otherwise.
    assert!(html.contains("<td>2026-09-28</td>"));
    // The action plan is plan.yaml's, owners by name, with what it marks done but still fires.
    assert!(
        html.contains("<td>Helena Strand (h.strand)</td><td>2026-08-14</td><td>in progress</td>")
    );
    assert!(html.contains("done: marked done, but the records still show it"));
    assert!(html.contains(
        "Closed actions (in the plan, and the finding no longer fires): checklist/F-074 (done)"
    ));
    let md = report_of("md", &[demo], data.path());
    assert!(md.contains("## Action plan") && md.contains("| `policy-missing` "));
    assert!(
        md.contains("| h.strand | 2026-08-14 | in progress |"),
        "the Markdown plan names the owner"
    );
    let custom = data.path().join("custom.html");
    ok(iso20k_in(
        data.path(),
        &[
            "report",
            demo,
            "--as-of",
            AS_OF,
            "--format",
            "html",
            "--deadlines",
            "30,60,90",
            "-o",
            custom.to_str().unwrap(),
        ],
        None,
    ));
    assert!(
        std::fs::read_to_string(&custom)
            .unwrap()
            .contains("<td>2026-07-30</td>")
    );
    insta::assert_snapshot!("report-html", html);

    // SARIF: every result answers to a rule and points into the bundle's files.
    let sarif: Value =
        serde_json::from_str(&report_of("sarif", &["../../examples/demo"], data.path())).unwrap();
    assert_eq!(sarif["version"], "2.1.0");
    let run = &sarif["runs"][0];
    let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
    let results = run["results"].as_array().unwrap();
    let (_, json) = check_json(&example("demo"), &[]);
    assert_eq!(results.len(), json["findings"].as_array().unwrap().len());
    for r in results {
        let i = r["ruleIndex"].as_u64().unwrap() as usize;
        assert_eq!(rules[i]["id"], r["ruleId"]);
        assert!(["error", "warning", "note"].contains(&r["level"].as_str().unwrap()));
        for l in r["locations"].as_array().unwrap() {
            let uri = l["physicalLocation"]["artifactLocation"]["uri"]
                .as_str()
                .unwrap();
            assert!(uri.starts_with("../../examples/demo/"), "{uri}");
            assert!(
                example("demo")
                    .join(&uri["../../examples/demo/".len()..])
                    .exists(),
                "{uri}"
            );
        }
    }
    insta::assert_json_snapshot!(
        "report-sarif-results",
        results
            .iter()
            .map(|r| format!(
                "{} {} {}",
                r["level"].as_str().unwrap(),
                r["ruleId"].as_str().unwrap(),
                r["message"]["text"].as_str().unwrap()
            ))
            .collect::<Vec<_>>()
    );

    // A report that cannot be written leaves nothing behind and says where.
    let refused = iso20k_in(
        data.path(),
        &[
            "report",
            demo,
            "--format",
            "md",
            "-o",
            "/nonexistent/dir/report.md",
        ],
        None,
    );
    assert_eq!(refused.status.code(), Some(2));
    assert!(
        stderr(&refused).contains("/nonexistent/dir"),
        "{}",
        stderr(&refused)
    );
}

#[test]
fn the_pdf_report_holds_every_finding_as_text_and_is_the_same_each_time() {
    let data = tempfile::tempdir().unwrap();
    let demo = example("demo");
    let write = |name: &str| {
        let out = data.path().join(name);
        ok(iso20k_in(
            data.path(),
            &[
                "report",
                demo.to_str().unwrap(),
                "--as-of",
                AS_OF,
                "--format",
                "pdf",
                "-o",
                out.to_str().unwrap(),
            ],
            None,
        ));
        std::fs::read(out).unwrap()
    };
    let pdf = write("report.pdf");
    assert!(pdf.starts_with(b"%PDF-"));
    // Its date and id come from the report, not the clock.
    assert!(
        write("again.pdf") == pdf,
        "the same report gives the same bytes"
    );

    // Read back by another library than the one that wrote it.
    let text = words(&pdf_extract::extract_text_from_mem(&pdf).unwrap());
    for section in [
        "1. Objectives, scope and criteria",
        "2. Method",
        "3. Summary and verdict",
        "4. Score by clause",
        "5. Findings",
        "6. Clauses without findings",
        "7. Action plan",
        "Appendix: records examined",
    ] {
        assert!(text.contains(section), "{section}");
    }
    let (_, json) = check_json(&example("demo"), &[]);
    for f in json["findings"].as_array().unwrap() {
        let title = words(f["title"].as_str().unwrap());
        assert!(text.contains(&title), "{title}");
    }
    // A major found on 2026-06-30 is due 90 days later.
    assert!(text.contains("2026-09-28"));
    // The plan's owners, statuses and closed entries.
    assert!(text.contains("Helena Strand"), "owners are named");
    assert!(text.contains("marked done, but the records still show it"));
    assert!(text.contains(
        "Closed actions (in the plan, and the finding no longer fires): checklist/F-074 (done)."
    ));
}

/// Text with every run of whitespace as one space: a PDF breaks lines where the page does.
fn words(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Copies a folder and everything in it.
fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let p = e.unwrap().path();
        let target = to.join(p.file_name().unwrap());
        if p.is_dir() {
            copy_dir(&p, &target);
        } else {
            std::fs::copy(&p, &target).unwrap();
        }
    }
}

/// The cells of one sheet of a workbook, read with calamine, not the library that wrote them.
fn sheet(path: &Path, name: &str) -> Vec<Vec<calamine::Data>> {
    use calamine::Reader as _;
    let mut book = calamine::open_workbook_auto(path).unwrap();
    let range = book.worksheet_range(name).unwrap();
    assert_eq!(range.start(), Some((0, 0)), "{name} starts at A1");
    range.rows().map(<[calamine::Data]>::to_vec).collect()
}

/// The rows of a sheet as maps from its header's column names to the cells' text.
fn records(rows: &[Vec<calamine::Data>]) -> Vec<std::collections::HashMap<String, String>> {
    let header: Vec<String> = rows[0].iter().map(ToString::to_string).collect();
    rows[1..]
        .iter()
        .map(|r| {
            header
                .iter()
                .cloned()
                .zip(r.iter().map(ToString::to_string))
                .collect()
        })
        .collect()
}

/// A value typed into a cell of the gap analysis.
enum Typed<'a> {
    Text(&'a str),
    /// A real date cell, as Excel stores a typed date.
    Date(u16, u8, u8),
}

/// A copy of the "Gap analysis" sheet of `from` in `to`, written with rust_xlsxwriter as a
/// spreadsheet program would save it, with `typed` (pattern, column, value) filled in.
fn fill(from: &Path, to: &Path, typed: &[(&str, &str, Typed)]) {
    use calamine::Data;
    use rust_xlsxwriter::{ExcelDateTime, Format, Workbook};
    let rows = sheet(from, "Gap analysis");
    let column = |name: &str| {
        rows[0]
            .iter()
            .position(|h| *h == name)
            .unwrap_or_else(|| panic!("no column {name}")) as u16
    };
    let date = Format::new().set_num_format("yyyy-mm-dd");
    let mut book = Workbook::new();
    let ws = book.add_worksheet();
    ws.set_name("Gap analysis").unwrap();
    for (r, row) in (0u32..).zip(&rows) {
        for (c, cell) in (0u16..).zip(row) {
            match cell {
                Data::Empty => {}
                Data::Float(f) => {
                    ws.write_number(r, c, *f).unwrap();
                }
                Data::DateTime(d) => {
                    ws.write_number_with_format(r, c, d.as_f64(), &date)
                        .unwrap();
                }
                other => {
                    ws.write_string(r, c, other.to_string()).unwrap();
                }
            }
        }
    }
    for (pattern, name, value) in typed {
        let r = rows
            .iter()
            .position(|row| row[column("pattern") as usize] == *pattern)
            .unwrap_or_else(|| panic!("no row for {pattern}")) as u32;
        match value {
            Typed::Text(s) => ws.write_string(r, column(name), *s).unwrap(),
            Typed::Date(y, m, d) => ws
                .write_datetime_with_format(
                    r,
                    column(name),
                    ExcelDateTime::from_ymd(*y, *m, *d).unwrap(),
                    &date,
                )
                .unwrap(),
        };
    }
    book.save(to).unwrap();
}

#[test]
fn the_gap_analysis_workbook_round_trips_checklist_answers() {
    use iso20k_core::Edition;
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("demo");
    copy_dir(&example("demo"), &dir);
    let d = dir.to_str().unwrap();
    let book = tmp.path().join("gap.xlsx");
    let write = |out: &Path| {
        ok(iso20k_in(
            tmp.path(),
            &[
                "report",
                d,
                "--as-of",
                AS_OF,
                "--format",
                "xlsx",
                "-o",
                out.to_str().unwrap(),
            ],
            None,
        ))
    };
    write(&book);

    // Three sheets, the gap analysis first.
    let names = {
        use calamine::Reader as _;
        calamine::open_workbook_auto(&book).unwrap().sheet_names()
    };
    assert_eq!(names, ["Gap analysis", "Findings", "Action plan"]);

    // A row per leaf clause in catalogue order, then a row per checklist question.
    let gap = records(&sheet(&book, "Gap analysis"));
    let of = |kind: &str, column: &str| -> Vec<String> {
        gap.iter()
            .filter(|r| r["kind"] == kind)
            .map(|r| r[column].clone())
            .collect()
    };
    let leaves: Vec<&str> = iso20k_core::clause::leaves(Edition::Y2018)
        .map(|c| c.id)
        .collect();
    assert_eq!(of("clause", "clause"), leaves);
    let questions: Vec<&str> = iso20k_core::checklist::questions(Edition::Y2018)
        .iter()
        .map(|p| p.id)
        .collect();
    assert_eq!(of("question", "pattern"), questions);
    assert_eq!(gap.len(), leaves.len() + questions.len());
    let statuses = [
        "compliant",
        "partially_compliant",
        "non_compliant",
        "not_assessed",
    ];
    assert!(gap.iter().all(|r| statuses.contains(&r["status"].as_str())));
    // The gap analysis pinned in short: each row's clause or question, status and grade.
    let pinned: Vec<String> = gap
        .iter()
        .map(|r| {
            let id = if r["kind"] == "clause" {
                &r["clause"]
            } else {
                &r["pattern"]
            };
            format!("{} {id}: {} {}", r["kind"], r["status"], r["grade"])
        })
        .collect();
    insta::assert_json_snapshot!("report-xlsx-gap-analysis", pinned);

    // A finding shows under its clause, in the register and in the action plan.
    let (_, before) = check_json(&dir, &[]);
    let findings = before["findings"].as_array().unwrap();
    let major = &findings[0];
    assert_eq!(major["grade"], "major", "the worst comes first");
    let check = major["check"].as_str().unwrap();
    let under: Vec<_> = gap
        .iter()
        .filter(|r| r["kind"] == "clause" && r["findings"].contains(check))
        .collect();
    assert!(!under.is_empty(), "{check} shows under a clause");
    assert!(under.iter().all(|r| r["status"] == "non_compliant"));
    let register = records(&sheet(&book, "Findings"));
    assert_eq!(register.len(), findings.len());
    assert_eq!(register[0]["finding"], check);
    assert_eq!(register[0]["title"], major["title"].as_str().unwrap());
    let plan = sheet(&book, "Action plan");
    let closed = before["closed_actions"].as_array().unwrap().len();
    assert_eq!(plan.len(), findings.len() + closed + 1);
    // A major blocking stage 2 (booked for 2026-11-10), with no plan entry.
    let unplanned = findings
        .iter()
        .position(|f| f["grade"] == "major" && f["blocks"] == "stage-2" && f["due_from"] == "grade")
        .unwrap();
    let due = plan[0].iter().position(|h| *h == "Due").unwrap();
    let calamine::Data::DateTime(due) = &plan[1 + unplanned][due] else {
        panic!("a due date is a date cell: {:?}", plan[1 + unplanned][due]);
    };
    let (y, m, day, ..) = due.to_ymd_hms_milli();
    assert_eq!(
        (y, m, day),
        (2026, 9, 28),
        "a major found on 2026-06-30 is due 90 days later"
    );

    // The same records give the same bytes.
    let again = tmp.path().join("again.xlsx");
    write(&again);
    assert_eq!(
        std::fs::read(&book).unwrap(),
        std::fs::read(&again).unwrap()
    );

    // The workbook as written hands back only the answers already recorded.
    let checklist = dir.join("checklist.yaml");
    let original = std::fs::read_to_string(&checklist).unwrap();
    let same = ok(iso20k_in(
        tmp.path(),
        &["import-checklist", d, book.to_str().unwrap()],
        None,
    ));
    assert!(same.starts_with("0 of "), "{same}");
    assert_eq!(std::fs::read_to_string(&checklist).unwrap(), original);

    // Two open questions answered in a spreadsheet program, one date typed as a date.
    let open: Vec<String> = gap
        .iter()
        .filter(|r| r["kind"] == "question" && r["answer"].is_empty())
        .map(|r| r["pattern"].clone())
        .collect();
    let (yes, no) = (open[0].as_str(), open[1].as_str());
    let filled = tmp.path().join("filled.xlsx");
    fill(
        &book,
        &filled,
        &[
            (yes, "answer", Typed::Text("yes")),
            (
                yes,
                "answer_evidence",
                Typed::Text("Interview with the service desk lead"),
            ),
            (yes, "answered_on", Typed::Date(2026, 6, 20)),
            (yes, "answered_by", Typed::Text("z.hollis")),
            (no, "answer", Typed::Text("No")),
            (no, "answer_note", Typed::Text("Nothing written down")),
            (no, "answered_on", Typed::Text("2026-06-21")),
            (no, "answered_by", Typed::Text("z.hollis")),
        ],
    );
    let answered = |pattern: &str| -> Value {
        let list: Vec<Value> = serde_json::from_str(&ok(iso20k_in(
            tmp.path(),
            &[
                "checklist",
                d,
                "--as-of",
                AS_OF,
                "--all",
                "--format",
                "json",
            ],
            None,
        )))
        .unwrap();
        list.into_iter().find(|q| q["pattern"] == pattern).unwrap()
    };
    assert_eq!(answered(yes)["answer"], "not-assessed");
    let imported = ok(iso20k_in(
        tmp.path(),
        &["import-checklist", d, filled.to_str().unwrap()],
        None,
    ));
    assert!(imported.starts_with("2 of "), "{imported}");
    assert_eq!(answered(yes)["answer"], "yes");
    assert_eq!(answered(yes)["answered_on"], "2026-06-20");
    assert_eq!(
        answered(yes)["evidence"],
        "Interview with the service desk lead"
    );
    assert_eq!(answered(no)["answer"], "no");
    assert_eq!(answered(no)["answered_on"], "2026-06-21");

    let (_, after) = check_json(&dir, &[]);
    let score = |r: &Value| {
        (
            r["readiness"]["coverage"]["assessed"].as_u64().unwrap(),
            r["readiness"]["uncapped"].as_f64().unwrap(),
        )
    };
    assert!(
        score(&after).0 > score(&before).0,
        "the answers assess clauses"
    );
    assert_ne!(score(&after).1, score(&before).1, "and move the score");
    assert!(
        after["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["check"] == "checklist" && f["pattern"] == no)
    );
    // Other answers and the file's opening comment stay.
    let text = std::fs::read_to_string(&checklist).unwrap();
    assert!(
        text.starts_with("# The internal auditor's answers"),
        "{text}"
    );
    assert_eq!(answered("F-010")["answer"], "partly");

    // A bad answer names its row and column, exits 2 and changes nothing.
    let bad = tmp.path().join("bad.xlsx");
    fill(
        &book,
        &bad,
        &[
            (open[2].as_str(), "answer", Typed::Text("maybe")),
            (open[3].as_str(), "answer", Typed::Text("yes")),
        ],
    );
    let row = 2 + gap.iter().position(|r| r["pattern"] == open[2]).unwrap();
    let refused = iso20k_in(
        tmp.path(),
        &["import-checklist", d, bad.to_str().unwrap()],
        None,
    );
    assert_eq!(refused.status.code(), Some(2), "{}", stderr(&refused));
    let err = stderr(&refused);
    assert!(
        err.contains(&format!(
            "sheet `Gap analysis`, row {row}, column `answer` (K{row}): `maybe` is not an answer"
        )),
        "{err}"
    );
    assert!(err.contains("bad.xlsx"), "{err}");
    assert_eq!(std::fs::read_to_string(&checklist).unwrap(), text);
}

#[test]
fn an_organisation_backs_up_and_restores_on_either_engine_and_checks_the_same() {
    let data = tempfile::tempdir().unwrap();
    let source = format!("sqlite://{}", data.path().join("team.db").display());
    let demo = example("demo");
    ok(iso20k_in(
        data.path(),
        &[
            "import-bundle",
            demo.to_str().unwrap(),
            "--org",
            "acme",
            "--database",
            &source,
        ],
        None,
    ));
    let file = data.path().join("acme.iso20k.gz");
    let file = file.to_str().unwrap();
    let backed = ok(iso20k_in(
        data.path(),
        &["backup", "--org", "acme", "-o", file, "--database", &source],
        None,
    ));
    assert!(backed.starts_with("Backed up `acme` to "), "{backed}");
    let expected = check_org_json(data.path(), &source, "acme");

    let runtime = tokio::runtime::Runtime::new().unwrap();
    // A fresh database on each engine (PostgreSQL when ISO20K_TEST_POSTGRES is set).
    for target in runtime.block_on(iso20k_store::testing::engines()) {
        let restore = |extra: &[&str]| {
            let mut args = vec!["restore", file, "--database", &target.url];
            args.extend_from_slice(extra);
            iso20k_in(data.path(), &args, None)
        };
        let restored = ok(restore(&[]));
        assert!(
            restored.starts_with("Restored `acme` from "),
            "{}: {restored}",
            target.label
        );
        assert!(
            restored.contains("Its audit trail verifies: "),
            "{restored}"
        );
        assert_eq!(
            check_org_json(data.path(), &target.url, "acme"),
            expected,
            "{}: the restored organisation checks the same",
            target.label
        );
        let verified = ok(iso20k_in(
            data.path(),
            &["verify", "--org", "acme", "--database", &target.url],
            None,
        ));
        assert!(verified.contains("is intact"), "{verified}");

        // The slug is taken now: refused with a way out, and nothing is written.
        let again = restore(&[]);
        assert_eq!(again.status.code(), Some(2), "{}", target.label);
        assert!(stderr(&again).contains("--as"), "{}", stderr(&again));
        ok(restore(&["--as", "acme-copy"]));
        assert_eq!(
            check_org_json(data.path(), &target.url, "acme-copy"),
            expected
        );
    }

    // A file that is not a backup, or one cut short, restores nothing.
    let junk = data.path().join("junk.gz");
    std::fs::write(&junk, b"not gzip at all").unwrap();
    let cut = data.path().join("cut.gz");
    let whole = std::fs::read(file).unwrap();
    std::fs::write(&cut, &whole[..whole.len() / 2]).unwrap();
    let target = format!("sqlite://{}", data.path().join("other.db").display());
    for (bad, says) in [(&junk, "junk.gz line 1"), (&cut, "cut.gz line ")] {
        let refused = iso20k_in(
            data.path(),
            &["restore", bad.to_str().unwrap(), "--database", &target],
            None,
        );
        assert_eq!(refused.status.code(), Some(2));
        assert!(stderr(&refused).contains(says), "{}", stderr(&refused));
        assert!(
            stderr(&refused).contains("nothing was restored"),
            "{}",
            stderr(&refused)
        );
    }
    let orgs = iso20k_in(
        data.path(),
        &["verify", "--org", "acme", "--database", &target],
        None,
    );
    assert_eq!(orgs.status.code(), Some(2), "no organisation was created");
}

#[test]
fn single_sign_on_flags_are_checked_before_the_server_starts() {
    let o = iso20k(&[
        "serve",
        "--oidc-issuer",
        "https://idp.example",
        "--oidc-client-id",
        "iso20k",
        "--oidc-role",
        "admins=acme:owner",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("the role must be one of admin, manager, auditor, viewer"),
        "{}",
        stderr(&o)
    );
    let o = iso20k(&["serve", "--oidc-role", "admins=acme"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("VALUE=ORG:ROLE"), "{}", stderr(&o));
    // --sso-only needs a provider, --break-glass needs --sso-only, a client id needs an issuer.
    for args in [
        &["serve", "--sso-only"][..],
        &["serve", "--break-glass", "ann@acme.example"],
        &["serve", "--oidc-client-id", "iso20k"],
    ] {
        let o = iso20k(args);
        assert_eq!(o.status.code(), Some(2), "{args:?}");
        assert!(stderr(&o).contains("required"), "{args:?}: {}", stderr(&o));
    }
    let o = iso20k(&[
        "serve",
        "--oidc-issuer",
        "idp.example",
        "--oidc-client-id",
        "iso20k",
        "--listen",
        "127.0.0.1:0",
    ]);
    assert!(!o.status.success());
    assert!(
        stderr(&o).contains("is not an http(s) URL"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn check_gives_every_finding_an_owner_a_due_date_and_a_status() {
    let (_, r) = check_json(&example("demo"), &[]);
    let findings = r["findings"].as_array().unwrap();
    let find = |id: &str| {
        findings
            .iter()
            .find(|f| f["id"] == id)
            .unwrap_or_else(|| panic!("no finding {id}"))
    };
    // The demo's SMS owner has left, and so have two others: none of them owns anything.
    let left = ["r.ashdown", "g.haigh", "l.marsh"];
    for f in findings {
        let owner = f["owner"]
            .as_str()
            .unwrap_or_else(|| panic!("{} has no owner", f["id"]));
        assert!(
            !left.contains(&owner),
            "{} is owned by {owner}, who left",
            f["id"]
        );
        assert!(f["due"].as_str().unwrap().len() == 10, "{f}");
        assert!(
            ["open", "in-progress", "done", "risk-accepted"]
                .contains(&f["status"].as_str().unwrap())
        );
        assert!(f["marked_done_but_still_fires"].is_boolean());
    }
    // plan.yaml's entries.
    let policy = find("policy-missing");
    assert_eq!(
        (
            &policy["owner"],
            &policy["owner_from"],
            &policy["due"],
            &policy["status"]
        ),
        (
            &json!("h.strand"),
            &json!("plan"),
            &json!("2026-08-14"),
            &json!("in-progress")
        )
    );
    assert_eq!(policy["comments"].as_array().unwrap().len(), 2);
    let done = find("policy-not-communicated");
    assert_eq!(done["status"], "done");
    assert_eq!(done["marked_done_but_still_fires"], true);
    let accepted = find("known-errors-missing");
    assert_eq!(accepted["status"], "risk-accepted");
    assert_eq!(accepted["approved_by"], "o.adeyemi");
    assert!(accepted["reason"].as_str().unwrap().contains("workaround"));
    let closed = r["closed_actions"].as_array().unwrap();
    assert_eq!(closed.len(), 1, "{closed:?}");
    assert_eq!(closed[0]["finding"], "checklist/F-074");
    assert_eq!(closed[0]["status"], "done");
    // The defaults: the accountable person of the finding's process (slm: p.raval), open, and
    // a minor due 180 days on.
    let sla = find("sla-review-overdue");
    assert_eq!(
        (
            &sla["owner"],
            &sla["owner_from"],
            &sla["due"],
            &sla["due_from"],
            &sla["status"]
        ),
        (
            &json!("p.raval"),
            &json!("raci"),
            &json!("2026-12-27"),
            &json!("grade"),
            &json!("open")
        )
    );
    assert_eq!(sla["marked_done_but_still_fires"], false);

    // Without plan.yaml, the finding blocking stage 1 (booked for 2026-09-08) is due the day
    // before, not 90 days on; the text says nothing of a plan.
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("demo");
    copy_dir(&example("demo"), &dir);
    std::fs::remove_file(dir.join("plan.yaml")).unwrap();
    let (_, bare) = check_json(&dir, &[]);
    let policy = bare["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["id"] == "policy-missing")
        .unwrap();
    assert_eq!(policy["blocks"], "stage-1");
    assert_eq!(
        (&policy["due"], &policy["due_from"]),
        (&json!("2026-09-07"), &json!("stage-1"))
    );
    assert_eq!(policy["status"], "open");
    assert_eq!(bare["closed_actions"], json!([]));

    // A risk accepted without its approver stops the check, naming file, line and field.
    std::fs::write(
        dir.join("plan.yaml"),
        "actions:\n  - finding: known-errors-missing\n    status: risk-accepted\n    reason: later\n",
    )
    .unwrap();
    let refused = iso20k(&["check", dir.to_str().unwrap(), "--as-of", AS_OF]);
    assert_eq!(refused.status.code(), Some(2));
    let err = stderr(&refused);
    assert!(
        err.contains("plan.yaml:2:") && err.contains("field `actions[0].approved_by`"),
        "{err}"
    );

    // The text report says in words what plan.yaml marks done but still fires.
    let text = stdout(&iso20k(&[
        "check",
        example("demo").to_str().unwrap(),
        "--as-of",
        AS_OF,
    ]));
    assert!(
        text.contains("marked done in plan.yaml, but the records still show it"),
        "{text}"
    );
    assert!(
        text.contains("checklist/F-074"),
        "closed actions are listed"
    );
}

/// A copy of the "Action plan" sheet of `from` in `to`, as a spreadsheet program would save
/// it, with `typed` (finding, column, text) filled in.
fn fill_plan(from: &Path, to: &Path, typed: &[(&str, &str, &str)]) {
    use calamine::Data;
    use rust_xlsxwriter::{Format, Workbook};
    let rows = sheet(from, "Action plan");
    let column = |name: &str| {
        rows[0]
            .iter()
            .position(|h| *h == name)
            .unwrap_or_else(|| panic!("no column {name}")) as u16
    };
    let date = Format::new().set_num_format("yyyy-mm-dd");
    let mut book = Workbook::new();
    let ws = book.add_worksheet();
    ws.set_name("Action plan").unwrap();
    for (r, row) in (0u32..).zip(&rows) {
        for (c, cell) in (0u16..).zip(row) {
            match cell {
                Data::Empty => {}
                Data::Float(f) => {
                    ws.write_number(r, c, *f).unwrap();
                }
                Data::DateTime(d) => {
                    ws.write_number_with_format(r, c, d.as_f64(), &date)
                        .unwrap();
                }
                other => {
                    ws.write_string(r, c, other.to_string()).unwrap();
                }
            }
        }
    }
    for (finding, name, value) in typed {
        let r = rows
            .iter()
            .position(|row| row[column("Finding") as usize] == *finding)
            .unwrap_or_else(|| panic!("no row for {finding}")) as u32;
        ws.write_string(r, column(name), *value).unwrap();
    }
    book.save(to).unwrap();
}

#[test]
fn the_action_plan_round_trips_through_the_workbook() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("demo");
    copy_dir(&example("demo"), &dir);
    let d = dir.to_str().unwrap();
    let write = |out: &Path| {
        ok(iso20k_in(
            tmp.path(),
            &[
                "report",
                d,
                "--as-of",
                AS_OF,
                "--format",
                "xlsx",
                "-o",
                out.to_str().unwrap(),
            ],
            None,
        ))
    };
    let import = |book: &Path| {
        iso20k_in(
            tmp.path(),
            &["import-plan", d, book.to_str().unwrap(), "--as-of", AS_OF],
            None,
        )
    };
    let book = tmp.path().join("plan.xlsx");
    write(&book);
    let rows = sheet(&book, "Action plan");
    let header: Vec<String> = rows[0].iter().map(ToString::to_string).collect();
    assert_eq!(header[..4], ["Finding", "Owner", "Due", "Status"]);
    let plan = records(&rows);
    let row = |id: &str| plan.iter().find(|r| r["Finding"] == id).unwrap();
    assert_eq!(row("policy-missing")["Owner"], "h.strand");
    assert_eq!(row("policy-missing")["Status"], "in-progress");
    assert!(row("policy-not-communicated")["Title"].contains("marked done"));
    assert_eq!(row("known-errors-missing")["Approved by"], "o.adeyemi");
    assert_eq!(
        row("checklist/F-074")["Status"],
        "done",
        "closed entries are rows too"
    );

    // Straight back: nothing changes, to the byte.
    let file = dir.join("plan.yaml");
    let original = std::fs::read_to_string(&file).unwrap();
    let same = ok(import(&book));
    assert!(same.contains("nothing changed"), "{same}");
    assert_eq!(std::fs::read_to_string(&file).unwrap(), original);

    // Edited in a spreadsheet program: an owner and a status changed, a risk accepted.
    let edited = tmp.path().join("edited.xlsx");
    fill_plan(
        &book,
        &edited,
        &[
            ("mr-overdue", "Owner", "o.adeyemi"),
            ("mr-overdue", "Status", "in-progress"),
            (
                "mr-overdue",
                "Comments",
                "2026-06-29 z.hollis: review booked for 21 July",
            ),
            ("process-no-kpi", "Status", "risk-accepted"),
            (
                "process-no-kpi",
                "Reason",
                "Measured through the finance reports",
            ),
            ("process-no-kpi", "Approved by", "f.lindqvist"),
        ],
    );
    let (_, before) = check_json(&dir, &[]);
    let imported = ok(import(&edited));
    assert!(imported.contains("recorded in"), "{imported}");
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(
        text.starts_with("# The action plan Zara Hollis keeps"),
        "the opening comment stays"
    );
    let (_, after) = check_json(&dir, &[]);
    let find = |r: &Value, id: &str| {
        r["findings"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["id"] == id)
            .unwrap()
            .clone()
    };
    let mr = find(&after, "mr-overdue");
    assert_eq!(
        (&mr["owner"], &mr["owner_from"], &mr["status"]),
        (&json!("o.adeyemi"), &json!("plan"), &json!("in-progress"))
    );
    assert_eq!(mr["comments"][0]["text"], "review booked for 21 July");
    assert_eq!(
        mr["due"],
        find(&before, "mr-overdue")["due"],
        "the default date was not written down"
    );
    let kpi = find(&after, "process-no-kpi");
    assert_eq!(
        (&kpi["status"], &kpi["approved_by"]),
        (&json!("risk-accepted"), &json!("f.lindqvist"))
    );
    // The other entries are as they were; unchanged rows added nothing.
    for id in [
        "policy-missing",
        "policy-not-communicated",
        "known-errors-missing",
    ] {
        let (a, b) = (find(&after, id), find(&before, id));
        assert_eq!(
            (&a["owner"], &a["due"], &a["status"], &a["comments"]),
            (&b["owner"], &b["due"], &b["status"], &b["comments"]),
            "{id}"
        );
    }
    assert_eq!(after["closed_actions"], before["closed_actions"]);
    let sms = iso20k_bundle::read(&dir).unwrap();
    assert_eq!(sms.plan.len(), 6, "{:?}", sms.plan);
    // And that plan written out and read back once more changes nothing.
    let again = tmp.path().join("again.xlsx");
    write(&again);
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(ok(import(&again)).contains("nothing changed"));
    assert_eq!(std::fs::read_to_string(&file).unwrap(), text);

    // Bad rows name their sheet, row and column, exit 2 and leave plan.yaml alone.
    let bad = tmp.path().join("bad.xlsx");
    fill_plan(
        &again,
        &bad,
        &[
            ("sla-review-overdue", "Status", "risk-accepted"),
            ("sla-review-overdue", "Reason", ""),
            ("doc-review-overdue", "Owner", "nobody"),
            ("doc-uncontrolled", "Due", "soon"),
            ("ci-incomplete", "Status", "maybe"),
            ("contract-expired", "Approved by", "p.raval"),
            ("service-no-owner", "Finding", "no-such-check"),
        ],
    );
    let rows = records(&sheet(&again, "Action plan"));
    let at = |id: &str| 2 + rows.iter().position(|r| r["Finding"] == id).unwrap();
    let refused = import(&bad);
    assert_eq!(refused.status.code(), Some(2), "{}", stderr(&refused));
    let err = stderr(&refused);
    for want in [
        format!(
            "sheet `Action plan`, row {}, column `Reason` (I{0}): required when the status is risk-accepted",
            at("sla-review-overdue")
        ),
        format!(
            "sheet `Action plan`, row {}, column `Approved by` (J{0}): required",
            at("sla-review-overdue")
        ),
        format!(
            "row {}, column `Owner` (B{0}): `nobody` is not in people.csv",
            at("doc-review-overdue")
        ),
        format!(
            "row {}, column `Due` (C{0}): `soon` is not a date",
            at("doc-uncontrolled")
        ),
        format!(
            "row {}, column `Status` (D{0}): `maybe` is not a status",
            at("ci-incomplete")
        ),
        format!(
            "row {}, column `Approved by` (J{0}): `p.raval` is not top management",
            at("contract-expired")
        ),
        format!(
            "row {}, column `Finding` (A{0}): `no-such-check` is not a finding id",
            at("service-no-owner")
        ),
    ] {
        assert!(err.contains(&want), "{want}\n{err}");
    }
    assert!(err.contains("plan.yaml was not changed"), "{err}");
    assert_eq!(std::fs::read_to_string(&file).unwrap(), text);
}

#[test]
fn accounts_link_to_the_people_of_the_records() {
    let data = tempfile::tempdir().unwrap();
    let database = format!("sqlite://{}", data.path().join("team.db").display());
    let demo = example("demo");
    ok(iso20k_in(
        data.path(),
        &[
            "import-bundle",
            demo.to_str().unwrap(),
            "--org",
            "acme",
            "--database",
            &database,
        ],
        None,
    ));
    let user = |args: &[&str]| {
        let mut all = vec!["user"];
        all.extend_from_slice(args);
        all.extend_from_slice(&["--org", "acme", "--database", &database]);
        iso20k_in(data.path(), &all, None)
    };
    let added = ok(user(&[
        "add",
        "cal@acme.example",
        "--role",
        "manager",
        "--person",
        "c.dunmore",
    ]));
    assert!(
        added.contains("cal@acme.example is manager of `acme`, linked to c.dunmore"),
        "{added}"
    );
    let refused = user(&[
        "add",
        "ann@acme.example",
        "--role",
        "viewer",
        "--person",
        "nobody",
    ]);
    assert_eq!(refused.status.code(), Some(2));
    assert!(
        stderr(&refused).contains("there is no `nobody` in the people register of `acme`"),
        "{}",
        stderr(&refused)
    );
    ok(user(&["add", "ann@acme.example", "--role", "viewer"]));
    let linked = ok(user(&["link", "ann@acme.example", "--person", "h.strand"]));
    assert_eq!(linked, "ann@acme.example is linked to h.strand in `acme`\n");
    let stranger = user(&["link", "nobody@acme.example", "--person", "h.strand"]);
    assert_eq!(stranger.status.code(), Some(2));
    assert!(stderr(&stranger).contains("no account nobody@acme.example"));
}

#[test]
fn the_daily_digest_goes_to_a_real_smtp_server_once_a_day() {
    let Some(server) = smtp::Smtp::start() else {
        return;
    };
    let data = tempfile::tempdir().unwrap();
    let database = format!("sqlite://{}", data.path().join("team.db").display());
    let demo = example("demo");
    ok(iso20k_in(
        data.path(),
        &[
            "import-bundle",
            demo.to_str().unwrap(),
            "--org",
            "acme",
            "--database",
            &database,
        ],
        None,
    ));
    let user = |args: &[&str]| {
        let mut all = vec!["user"];
        all.extend_from_slice(args);
        all.extend_from_slice(&["--org", "acme", "--database", &database]);
        ok(iso20k_in(data.path(), &all, None))
    };
    user(&[
        "add",
        "cal@acme.example",
        "--role",
        "manager",
        "--person",
        "c.dunmore",
    ]);
    user(&[
        "add",
        "hel@acme.example",
        "--role",
        "manager",
        "--person",
        "h.strand",
    ]);
    user(&["add", "nobody@acme.example", "--role", "viewer"]);
    // Helena opts out (as the My work form does).
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        use iso20k_store::Store as _;
        let store = iso20k_store::open(&database).await.unwrap();
        let org = store.org("acme").await.unwrap().unwrap();
        let hel = store
            .user_by_email("hel@acme.example")
            .await
            .unwrap()
            .unwrap();
        store
            .set_digest_opt_out(org.id, hel.id, true)
            .await
            .unwrap();
    });
    let url = server.url();
    let digest = || {
        iso20k_in(
            data.path(),
            &[
                "digest",
                "--org",
                "acme",
                "--database",
                &database,
                "--smtp",
                &url,
                "--smtp-from",
                "iso20k <iso20k@acme.example>",
                "--public-url",
                "https://iso20k.acme.example",
            ],
            None,
        )
    };
    let first = ok(digest());
    assert!(first.contains("Sent to cal@acme.example: "), "{first}");
    assert!(
        first.contains("Not sent to hel@acme.example: opted out"),
        "{first}"
    );
    assert!(
        !first.contains("nobody@acme.example"),
        "not linked: no digest, {first}"
    );
    assert!(
        first.contains("1 digest sent for `acme` through smtp://127.0.0.1:"),
        "{first}"
    );

    let received = server.received();
    assert_eq!(received.len(), 1, "{received:#?}");
    let mail = &received[0];
    assert_eq!(mail["rcpt_tos"], json!(["cal@acme.example"]));
    assert_eq!(mail["mail_from"], "iso20k@acme.example");
    assert!(
        mail["to"].as_str().unwrap().contains("Callum Dunmore"),
        "{mail}"
    );
    let subject = mail["subject"].as_str().unwrap();
    assert!(subject.starts_with("iso20k, "), "{subject}");
    assert!(subject.contains(" late"), "{subject}");
    assert_eq!(mail["content_type"], "text/plain");
    let body = mail["body"].as_str().unwrap();
    assert!(body.starts_with("Hello Callum Dunmore,"), "{body}");
    assert!(body.contains("as of 2026-06-30"), "{body}");
    let late = body.split("Late:").nth(1).expect("a late section");
    assert!(late.contains("Review a document: "), "{body}");
    assert!(
        late.contains("https://iso20k.acme.example/orgs/acme/records/documents/PRC-005%2F2.0"),
        "a link to the overdue document: {body}"
    );
    assert!(late.contains("days late"), "{body}");
    assert!(
        body.contains("https://iso20k.acme.example/orgs/acme/my"),
        "{body}"
    );
    assert!(!body.contains("Helena"), "{body}");

    // The same day again: nothing is sent twice.
    let second = ok(digest());
    assert!(
        second.contains("Not sent to cal@acme.example: today's digest went already"),
        "{second}"
    );
    assert!(second.contains("0 digests sent"), "{second}");
    assert_eq!(server.received().len(), 1);

    // No SMTP server: refused in words, before anything is read.
    let none = iso20k_in(
        data.path(),
        &["digest", "--org", "acme", "--database", &database],
        None,
    );
    assert!(!none.status.success());
    assert!(
        stderr(&none).contains("--smtp smtp://HOST:PORT"),
        "{}",
        stderr(&none)
    );
}

#[test]
fn a_sample_is_sized_by_confidence_and_drawn_again_from_its_seed() {
    let demo = example("demo");
    let sample = |extra: &[&str]| {
        let mut args = vec![
            "sample",
            demo.to_str().unwrap(),
            "--kind",
            "changes",
            "--from",
            "2026-01-01",
            "--to",
            "2026-06-30",
            "--format",
            "json",
        ];
        args.extend_from_slice(extra);
        let o = iso20k(&args);
        (o.status.code().unwrap(), stdout(&o), stderr(&o))
    };
    let (code, out, err) = sample(&["--confidence", "0.9", "--tdr", "0.1", "--seed", "42"]);
    assert_eq!(code, 0, "{err}");
    let s: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        (&s["population"], &s["size"], &s["seed"], &s["method"]),
        (&json!(27), &json!(22), &json!(42), &json!("statistical"))
    );
    let items = s["items"].as_array().unwrap();
    assert_eq!(items.len(), 22);
    let again = sample(&["--confidence", "0.9", "--tdr", "0.1", "--seed", "42"]).1;
    assert_eq!(again, out, "same arguments, same items");
    let other: Value =
        serde_json::from_str(&sample(&["--confidence", "0.9", "--tdr", "0.1", "--seed", "43"]).1)
            .unwrap();
    assert_ne!(other["items"], s["items"]);

    // 95 % and 5 % need 59; a smaller population is tested whole.
    let (_, out, _) = sample(&["--where", "type=emergency", "--seed", "1"]);
    let s: Value = serde_json::from_str(&out).unwrap();
    assert_eq!((&s["required"], &s["size"]), (&json!(59), &json!(3)));
    let (_, out, _) = sample(&["--size", "5", "--seed", "1"]);
    let s: Value = serde_json::from_str(&out).unwrap();
    assert_eq!((&s["method"], &s["size"]), (&json!("random"), &json!(5)));

    let (code, _, err) = sample(&["--where", "colour=red", "--seed", "1"]);
    assert_eq!(code, 2);
    assert!(err.contains("changes have no field `colour`"), "{err}");
    let (code, _, err) = sample(&["--confidence", "95", "--tdr", "0.05"]);
    assert_eq!(code, 2);
    assert!(err.contains("0.95 for 95 %"), "{err}");
}

#[test]
fn the_cycle_diff_on_the_demo_splits_findings_into_new_resolved_and_recurring() {
    let demo = example("demo");
    let o = iso20k(&[
        "diff",
        demo.to_str().unwrap(),
        "--from-date",
        "2025-07-10",
        "--to-date",
        AS_OF,
        "--format",
        "json",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let d: Value = serde_json::from_str(&stdout(&o)).unwrap();
    let ids = |key: &str| -> Vec<String> {
        d[key]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap().to_owned())
            .collect()
    };
    let findings_on = |day: &str| -> Vec<String> {
        let o = iso20k(&[
            "check",
            demo.to_str().unwrap(),
            "--as-of",
            day,
            "--format",
            "json",
        ]);
        let r: Value = serde_json::from_str(&stdout(&o)).unwrap();
        r["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["id"].as_str().unwrap().to_owned())
            .collect()
    };
    let then = findings_on("2025-07-10");
    let now = findings_on(AS_OF);
    let (new, resolved, recurring) = (ids("new"), ids("resolved"), ids("recurring"));
    // The demo only got worse over the year: nothing it had then is gone whole.
    assert!(!new.is_empty() && !recurring.is_empty());
    // But the finding that was late then was closed, and another is late now.
    let moved = d["moved"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["finding"] == "audit-findings-overdue")
        .expect("the overdue audit findings moved");
    assert_eq!(moved["no_longer"], json!(["audit-finding IA-2025-01-F1"]));
    assert_eq!(moved["now_also"], json!(["audit-finding IA-2025-01-F2"]));
    for id in &new {
        assert!(now.contains(id) && !then.contains(id), "{id}");
    }
    for id in &resolved {
        assert!(then.contains(id) && !now.contains(id), "{id}");
    }
    for id in &recurring {
        assert!(then.contains(id) && now.contains(id), "{id}");
    }
    assert_eq!(new.len() + recurring.len(), now.len());
    assert_eq!(resolved.len() + recurring.len(), then.len());
    let clause = d["clauses"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["clause"] == "9.2")
        .unwrap();
    assert!(clause["then"].is_number() && clause["now"].is_number());

    let o = iso20k(&[
        "diff",
        demo.to_str().unwrap(),
        "--from-date",
        AS_OF,
        "--to-date",
        "2025-06-30",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("must come before"));
}

#[test]
fn an_audit_report_has_the_sections_a_certification_body_expects() {
    let dir = tempfile::tempdir().unwrap();
    let demo = example("demo");
    let write = |name: &str| {
        let out = dir.path().join(name);
        let o = iso20k(&[
            "audit-report",
            demo.to_str().unwrap(),
            "IA-2025-01",
            "-o",
            out.to_str().unwrap(),
        ]);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        std::fs::read(out).unwrap()
    };
    let sections = [
        "1. Objectives",
        "2. Scope",
        "3. Criteria",
        "4. Team and dates",
        "5. Method",
        "6. Samples",
        "7. Findings",
        "8. Conclusion",
    ];
    let html = String::from_utf8(write("IA-2025-01.html")).unwrap();
    for s in sections {
        assert!(html.contains(s), "{s}");
    }
    for fact in [
        "12 of 12 tested: 9 conform, 3 do not",
        "Reported as finding IA-2025-01-F1",
        "CHG0003862, CHG0003940, CHG0004039",
        "NC-2025-02: closed",
        "c.dunmore owns the change process this audit covers",
    ] {
        assert!(html.contains(fact), "{fact}");
    }
    let pdf = write("IA-2025-01.pdf");
    assert!(pdf.starts_with(b"%PDF-"));
    assert!(
        write("again.pdf") == pdf,
        "the same audit gives the same bytes"
    );
    let text = words(&pdf_extract::extract_text_from_mem(&pdf).unwrap());
    for s in sections {
        assert!(text.contains(s), "{s} in the PDF");
    }
    assert!(text.contains("12 of 12 tested: 9 conform, 3 do not"));

    let o = iso20k(&[
        "audit-report",
        demo.to_str().unwrap(),
        "IA-1999",
        "-o",
        dir.path().join("x.html").to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("there is no audit `IA-1999`"));
    assert!(!dir.path().join("x.html").exists(), "nothing half-written");
}

#[test]
fn a_nonconformity_closes_from_the_command_line_only_when_its_loop_is_done() {
    let data = tempfile::tempdir().unwrap();
    let database = format!("sqlite://{}", data.path().join("team.db").display());
    // The demo, with one more nonconformity whose loop is done.
    let bundle = data.path().join("bundle");
    copy_dir(&example("demo"), &bundle);
    let ncs = bundle.join("nonconformities.yaml");
    let mut yaml = std::fs::read_to_string(&ncs).unwrap();
    yaml.push_str(
        "
  - id: NC-2026-09
    description: Change approvals recorded after the change was made
    raised_on: 2026-01-05
    grade: minor
    root_cause: The approval step was optional in the tool
    actions:
      - id: NC-2026-09-CA1
        description: Make the approval step mandatory
        owner: c.dunmore
        due: 2026-02-01
        implemented_on: 2026-01-20
    effectiveness:
      checked_on: 2026-03-01
      checked_by: c.dunmore
      effective: true
",
    );
    std::fs::write(&ncs, yaml).unwrap();
    ok(iso20k_in(
        data.path(),
        &[
            "import-bundle",
            bundle.to_str().unwrap(),
            "--org",
            "acme",
            "--database",
            &database,
        ],
        None,
    ));
    let close = |args: &[&str]| {
        let mut all = vec!["nonconformity", "close", "--org", "acme"];
        all.extend_from_slice(args);
        all.extend_from_slice(&["--database", &database]);
        iso20k_in(data.path(), &all, None)
    };
    // Not done: no root cause, an action open, no check. Exit 2 with the reasons.
    let refused = close(&["NC-2026-01"]);
    assert_eq!(refused.status.code(), Some(2), "{}", stdout(&refused));
    assert!(
        stderr(&refused).contains(
            "NC-2026-01 cannot be closed yet: no root cause is recorded; corrective action \
             NC-2026-01-CA1 is not implemented; no effectiveness check has found that the \
             actions worked."
        ),
        "{}",
        stderr(&refused)
    );
    let unknown = close(&["NC-NONE"]);
    assert_eq!(unknown.status.code(), Some(2));
    assert!(stderr(&unknown).contains("no nonconformity `NC-NONE`"));
    let early = close(&["NC-2026-09", "--on", "2026-02-15"]);
    assert_eq!(early.status.code(), Some(2));
    assert!(
        stderr(&early).contains("before its effectiveness check on 2026-03-01"),
        "{}",
        stderr(&early)
    );
    let closed = ok(close(&["NC-2026-09", "--on", "2026-03-02"]));
    assert!(
        closed.starts_with("Closed NC-2026-09 of `acme` on 2026-03-02"),
        "{closed}"
    );
    let again = close(&["NC-2026-09"]);
    assert_eq!(again.status.code(), Some(2));
    assert!(stderr(&again).contains("closed already, since 2026-03-02"));
    // The trail holds the closure and still proves itself.
    ok(iso20k_in(
        data.path(),
        &["verify", "--org", "acme", "--database", &database],
        None,
    ));
}
