//! The report as Markdown, for a repository or a wiki: the summary, the verdicts, the score of
//! every main clause, and each finding with its evidence and fix.

use std::fmt::Write as _;

use iso20k_core::audit::Report;
use iso20k_core::kb::Grade;
use iso20k_core::readiness::figure;

/// Escapes what Markdown would read as markup in table cells and running text.
fn md(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '|' | '*' | '_' | '`' | '[' | ']' | '<' | '>' | '#' | '\\' => {
                out.push('\\');
                out.push(c);
            }
            '\n' => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

fn grade_name(g: Grade) -> &'static str {
    match g {
        Grade::Major => "Major",
        Grade::Minor => "Minor",
        Grade::Observation => "Observation",
    }
}

/// The whole report.
pub fn render(report: &Report) -> String {
    let r = &report.readiness;
    let e = report.edition;
    let mut out = String::new();
    let _ = writeln!(out, "# Audit readiness: {}\n", md(&report.organisation));
    let _ = writeln!(
        out,
        "Judged against ISO/IEC 20000-1:{} as of {} by iso20k {}: {} checks on the records, {} of {} checklist questions answered.\n",
        e.as_str(),
        report.as_of,
        env!("CARGO_PKG_VERSION"),
        report.checks_run,
        report.checklist.answered,
        report.checklist.questions
    );
    let _ = writeln!(out, "## Summary\n");
    let _ = writeln!(
        out,
        "- **Readiness: {}/100**\n- Coverage: {} of {} clauses assessed (a clause not assessed counts 0)\n- Score of the assessed clauses: {}",
        figure(r.overall),
        r.assessed.0,
        r.assessed.1,
        figure(r.assessed_score)
    );
    for (stage, v) in [("Stage 1", &r.stage1), ("Stage 2", &r.stage2)] {
        let _ = write!(
            out,
            "- **{stage}: {}**",
            if v.ready { "ready" } else { "not ready" }
        );
        if v.blockers.is_empty() {
            let _ = writeln!(out);
        } else {
            let _ = writeln!(out, ":");
            for why in v.reasons() {
                let _ = writeln!(out, "  - {}", md(why));
            }
        }
    }
    let _ = writeln!(
        out,
        "- Findings: {} major, {} minor, {} observation\n",
        report.count(Grade::Major),
        report.count(Grade::Minor),
        report.count(Grade::Observation)
    );

    let _ = writeln!(out, "## Score by clause\n");
    let _ = writeln!(out, "| Clause | Title | Score |\n|---|---|---:|");
    for c in r.clauses.iter().filter(|c| !c.clause.id.contains('.')) {
        let score = if c.assessed {
            figure(c.score)
        } else {
            "not assessed".to_owned()
        };
        let _ = writeln!(
            out,
            "| {} | {} | {score} |",
            c.clause.id,
            md(c.clause.title)
        );
    }
    let _ = writeln!(out);

    for grade in [Grade::Major, Grade::Minor, Grade::Observation] {
        let found: Vec<_> = report
            .findings
            .iter()
            .zip(&r.gains)
            .filter(|(f, _)| f.grade == grade)
            .collect();
        if found.is_empty() {
            continue;
        }
        let _ = writeln!(out, "## {} findings\n", grade_name(grade));
        for (f, gain) in found {
            let _ = writeln!(out, "### {}\n", md(&f.title));
            let _ = writeln!(
                out,
                "{} · {} {} · clauses {} · check `{}` · resolving it adds {:.2} points\n",
                grade_name(f.grade),
                f.pattern.id,
                md(f.pattern.title),
                f.clauses(e).join(", "),
                f.check,
                gain
            );
            if let Some((affected, population)) = f.counts {
                let _ = writeln!(out, "{affected} of {population} records affected.\n");
            }
            if !f.evidence.is_empty() {
                let _ = writeln!(out, "| Record | Field | Value | Why |\n|---|---|---|---|");
                for ev in &f.evidence {
                    let _ = writeln!(
                        out,
                        "| {} {} | {} | {} | {} |",
                        ev.kind.as_str(),
                        md(&ev.id),
                        ev.field.unwrap_or(""),
                        md(ev.value.as_deref().unwrap_or("")),
                        md(&ev.note)
                    );
                }
                let _ = writeln!(out);
            }
            let _ = writeln!(out, "How to fix it:\n");
            for (i, step) in f.pattern.how_to_fix.iter().enumerate() {
                let _ = writeln!(out, "{}. {}", i + 1, md(step));
            }
            let _ = writeln!(out);
        }
    }
    if report.findings.is_empty() {
        let _ = writeln!(out, "Nothing an auditor would raise was found.\n");
    } else {
        let _ = writeln!(out, "## Action plan\n");
        let _ = writeln!(
            out,
            "| Finding | Grade | Owner | Due | Status |\n|---|---|---|---|---|"
        );
        for (f, a) in report.findings.iter().zip(&report.plan.actions) {
            let status = crate::status_words(a);
            let _ = writeln!(
                out,
                "| `{}` {} | {} | {} | {} | {} |",
                f.id,
                md(&f.title),
                grade_name(f.grade),
                md(a.owner.as_deref().unwrap_or("")),
                a.due,
                md(&status)
            );
        }
        let _ = writeln!(out);
    }
    if !report.plan.closed.is_empty() {
        let _ = writeln!(
            out,
            "Closed actions (the finding no longer fires): {}.\n",
            report
                .plan
                .closed
                .iter()
                .map(|e| format!("`{}` ({})", e.finding, e.status.describe()))
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    out
}
