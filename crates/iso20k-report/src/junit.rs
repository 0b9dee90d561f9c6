//! JUnit XML for CI systems: one test case per check, failing with its findings; one per
//! checklist question answered partly or no.

use std::fmt::Write as _;

use iso20k_core::audit::Report;
use iso20k_core::checks::{self, Finding};
use iso20k_core::kb::Grade;

use crate::markup::escape as xml;

fn failure(out: &mut String, f: &Finding, edition: iso20k_core::Edition) {
    let grade = match f.grade {
        Grade::Major => "major",
        Grade::Minor => "minor",
        Grade::Observation => "observation",
    };
    let _ = writeln!(
        out,
        r#"      <failure type="{grade}" message="{}">"#,
        xml(&f.title)
    );
    let _ = writeln!(
        out,
        "{} {} (clauses {})",
        f.pattern.id,
        xml(f.pattern.title),
        f.clauses(edition).join(", ")
    );
    for e in &f.evidence {
        let _ = writeln!(
            out,
            "- {} {}: {}",
            e.kind.as_str(),
            xml(&e.id),
            xml(&e.note)
        );
    }
    if let Some(step) = f.pattern.how_to_fix.first() {
        let _ = writeln!(out, "Fix: {}", xml(step));
    }
    let _ = writeln!(out, "      </failure>");
}

/// The report as a JUnit test suite.
pub fn render(report: &Report) -> String {
    let e = report.edition;
    let answered: Vec<&Finding> = report
        .findings
        .iter()
        .filter(|f| f.check == "checklist")
        .collect();
    let cases = checks::ALL.len() + answered.len();
    let failed: std::collections::BTreeSet<&str> = report
        .findings
        .iter()
        .filter(|f| f.check != "checklist")
        .map(|f| f.check)
        .collect();
    let failures = failed.len() + answered.len();
    let mut out = String::new();
    let _ = writeln!(out, r#"<?xml version="1.0" encoding="UTF-8"?>"#);
    let name = format!(
        "iso20k ISO/IEC 20000-1:{} {} as of {}",
        e.as_str(),
        report.organisation,
        report.as_of
    );
    let _ = writeln!(
        out,
        r#"<testsuites name="{}" tests="{cases}" failures="{failures}">"#,
        xml(&name)
    );
    let _ = writeln!(
        out,
        r#"  <testsuite name="{}" tests="{cases}" failures="{failures}" errors="0" skipped="0">"#,
        xml(&name)
    );
    for check in checks::ALL {
        let clauses = check.clauses(e);
        let class = if clauses.is_empty() {
            "iso20k".to_owned()
        } else {
            format!("clause {}", clauses.join(" "))
        };
        let _ = write!(
            out,
            r#"    <testcase classname="{}" name="{}""#,
            xml(&class),
            xml(check.id)
        );
        let mine: Vec<&Finding> = report
            .findings
            .iter()
            .filter(|f| f.check == check.id)
            .collect();
        if mine.is_empty() {
            let _ = writeln!(out, "/>");
            continue;
        }
        let _ = writeln!(out, ">");
        for f in mine {
            failure(&mut out, f, e);
        }
        let _ = writeln!(out, "    </testcase>");
    }
    for f in answered {
        let _ = writeln!(
            out,
            r#"    <testcase classname="checklist" name="{}">"#,
            xml(f.pattern.id)
        );
        failure(&mut out, f, e);
        let _ = writeln!(out, "    </testcase>");
    }
    let _ = writeln!(out, "  </testsuite>\n</testsuites>");
    out
}
