//! The audit-readiness report as one self-contained HTML file (inline CSS and SVG, nothing
//! fetched), laid out as an audit report is expected to be: objectives, scope, criteria, dates,
//! method, summary and verdict, scores, findings with their objective evidence, clauses without
//! findings, an action plan with deadlines, and the records examined.

use std::fmt::Write as _;

use iso20k_core::audit::Report;
use iso20k_core::kb::Grade;
use iso20k_core::model::Sms;
use iso20k_core::readiness::figure;

use crate::Deadlines;
use crate::markup::escape as h;
use crate::svg::{Bar, bars};

fn grade_name(g: Grade) -> &'static str {
    match g {
        Grade::Major => "Major",
        Grade::Minor => "Minor",
        Grade::Observation => "Observation",
    }
}

const STYLE: &str = "
body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;color:#18181b;line-height:1.5;max-width:60rem;margin:2rem auto;padding:0 1.5rem}
h1{font-size:1.8rem;margin-bottom:.2rem}h2{font-size:1.35rem;margin-top:2.2rem;border-bottom:2px solid #e4e4e7}h3{font-size:1.1rem;margin-bottom:.3rem}
table{border-collapse:collapse;width:100%;margin:.5rem 0 1rem;font-size:.92rem}th,td{text-align:left;padding:.3rem .5rem;border-bottom:1px solid #d4d4d8;vertical-align:top}th{background:#f4f4f5}
td.num{text-align:right}.meta{color:#52525b;font-size:.9rem}.grade{border-radius:.25rem;padding:0 .4rem;font-weight:600;font-size:.85rem}
.major{background:#fee2e2;color:#7f1d1d}.minor{background:#fef3c7;color:#713f12}.observation{background:#e0f2fe;color:#0c4a6e}
.verdict{font-weight:700}.ready{color:#166534}.not-ready{color:#b91c1c}.finding{border-left:4px solid #d4d4d8;padding-left:1rem;margin:1.2rem 0;break-inside:avoid}
.bar-label,.bar-value{font-size:13px;fill:#18181b}svg{max-width:100%;height:auto}
@media print{body{margin:0;max-width:none}h2{break-after:avoid}.finding,tr{break-inside:avoid}}
";

/// The report. `sms` gives the scope and the records examined.
pub fn render(report: &Report, sms: &Sms, deadlines: &Deadlines) -> String {
    let e = report.edition;
    let r = &report.readiness;
    let org = &sms.organisation;
    let mut out = String::new();
    let _ = write!(
        out,
        "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>Audit readiness report: {}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n",
        h(&report.organisation)
    );
    let _ = writeln!(out, "<h1>Audit readiness report</h1>");
    let _ = writeln!(
        out,
        "<p class=\"meta\">{} · ISO/IEC 20000-1:{} · as of {} · iso20k {}</p>",
        h(&report.organisation),
        e.as_str(),
        report.as_of,
        env!("CARGO_PKG_VERSION")
    );

    let _ = writeln!(out, "<h2>1. Objectives, scope and criteria</h2>");
    let _ = writeln!(
        out,
        "<p><strong>Objectives.</strong> To establish how ready the service management system is for a certification audit against the criteria below, and what to fix first.</p>"
    );
    let scope = if org.scope.trim().is_empty() {
        "<em>No scope statement is recorded.</em>".to_owned()
    } else {
        h(&org.scope)
    };
    let _ = writeln!(out, "<p><strong>Scope.</strong> {scope}</p>");
    if !org.units.is_empty() || !org.locations.is_empty() {
        let _ = writeln!(
            out,
            "<p><strong>Units and locations.</strong> {}{}{}</p>",
            h(&org.units.join(", ")),
            if org.units.is_empty() || org.locations.is_empty() {
                ""
            } else {
                "; "
            },
            h(&org.locations.join(", "))
        );
    }
    let _ = writeln!(
        out,
        "<p><strong>Criteria.</strong> ISO/IEC 20000-1:{}, every requirement clause of it.</p>",
        e.as_str()
    );
    let mut dates = format!("Records judged as of {}.", report.as_of);
    if let Some(d) = org.stage1_on {
        let _ = write!(dates, " Stage 1 audit planned for {d}.");
    }
    if let Some(d) = org.stage2_on {
        let _ = write!(dates, " Stage 2 audit planned for {d}.");
    }
    let _ = writeln!(out, "<p><strong>Dates.</strong> {dates}</p>");

    let _ = writeln!(out, "<h2>2. Method</h2>");
    let _ = writeln!(
        out,
        "<p>{} automated checks read every record listed in the appendix, as an auditor samples them, each tied to a known audit-failure pattern. Where only people can tell, the internal auditor's checklist answers count: {} of {} questions are answered. Checks over ticket data count every affected record out of all examined and quote a sample as evidence. Clauses that nothing examined are reported as not assessed, never as passed.</p>",
        report.checks_run, report.checklist.answered, report.checklist.questions
    );

    let _ = writeln!(out, "<h2>3. Summary and verdict</h2>");
    let _ = writeln!(
        out,
        "<p><strong>Readiness: {} / 100</strong>. Coverage: {} of {} clauses assessed; a clause not assessed counts 0. Score of the assessed clauses: {}. Findings: {} major, {} minor, {} observation.</p>",
        figure(r.overall),
        r.assessed.0,
        r.assessed.1,
        figure(r.assessed_score),
        report.count(Grade::Major),
        report.count(Grade::Minor),
        report.count(Grade::Observation)
    );
    for (stage, v) in [("Stage 1", &r.stage1), ("Stage 2", &r.stage2)] {
        let (class, word) = if v.ready {
            ("ready", "ready")
        } else {
            ("not-ready", "not ready")
        };
        let _ = writeln!(out, "<p class=\"verdict {class}\">{stage}: {word}</p>");
        if !v.blockers.is_empty() {
            let _ = writeln!(out, "<ul>");
            for why in v.reasons() {
                let _ = writeln!(out, "<li>{}</li>", h(why));
            }
            let _ = writeln!(out, "</ul>");
        }
    }

    let _ = writeln!(out, "<h2>4. Score by clause</h2>");
    let main: Vec<Bar> = r
        .clauses
        .iter()
        .filter(|c| !c.clause.id.contains('.'))
        .map(|c| Bar {
            label: format!("{} {}", c.clause.id, c.clause.title),
            href: None,
            score: c.assessed.then_some(c.score),
        })
        .collect();
    let _ = writeln!(out, "{}", bars(&main));
    let _ = writeln!(
        out,
        "<table><thead><tr><th scope=\"col\">Clause</th><th scope=\"col\">Title</th><th scope=\"col\">Score</th><th scope=\"col\">Findings</th></tr></thead><tbody>"
    );
    for c in &r.clauses {
        let score = if c.assessed {
            figure(c.score)
        } else {
            "not assessed".to_owned()
        };
        let _ = writeln!(
            out,
            "<tr><td>{}</td><td>{}</td><td class=\"num\">{score}</td><td class=\"num\">{}</td></tr>",
            c.clause.id,
            h(c.clause.title),
            c.findings.len()
        );
    }
    let _ = writeln!(out, "</tbody></table>");

    let _ = writeln!(out, "<h2>5. Findings</h2>");
    if report.findings.is_empty() {
        let _ = writeln!(out, "<p>Nothing an auditor would raise was found.</p>");
    }
    let mut n = 0;
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
        let _ = writeln!(out, "<h3>{} ({})</h3>", grade_name(grade), found.len());
        for (f, gain) in found {
            n += 1;
            let _ = writeln!(out, "<section class=\"finding\" id=\"finding-{n}\">");
            let _ = writeln!(
                out,
                "<p><strong>{n}. {}</strong><br><span class=\"grade {}\">{}</span> <span class=\"meta\">clause {} · {} {} · check {} · resolving it adds {gain:.2} points</span></p>",
                h(&f.title),
                f.grade.as_str(),
                grade_name(f.grade),
                f.clauses(e).join(", "),
                f.pattern.id,
                h(f.pattern.title),
                h(f.check)
            );
            if let Some((affected, population)) = f.counts {
                let _ = writeln!(
                    out,
                    "<p>{affected} of {population} records examined are affected.</p>"
                );
            }
            if !f.evidence.is_empty() {
                let _ = writeln!(
                    out,
                    "<table><thead><tr><th scope=\"col\">Objective evidence</th><th scope=\"col\">Field</th><th scope=\"col\">Value</th><th scope=\"col\">What is wrong</th></tr></thead><tbody>"
                );
                for ev in &f.evidence {
                    let _ = writeln!(
                        out,
                        "<tr><td>{} {}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                        ev.kind.as_str(),
                        h(&ev.id),
                        ev.field.unwrap_or(""),
                        h(ev.value.as_deref().unwrap_or("")),
                        h(&ev.note)
                    );
                }
                let _ = writeln!(out, "</tbody></table>");
            }
            let _ = writeln!(
                out,
                "<p><strong>Why it matters.</strong> {}</p>",
                h(f.pattern.why_it_matters)
            );
            let _ = writeln!(out, "<p><strong>How to fix it.</strong></p><ol>");
            for step in f.pattern.how_to_fix {
                let _ = writeln!(out, "<li>{}</li>", h(step));
            }
            let _ = writeln!(out, "</ol></section>");
        }
    }

    let _ = writeln!(out, "<h2>6. Clauses without findings</h2>");
    let leaf_scores = || r.clauses.iter().filter(|c| c.clause.is_leaf());
    let clean: Vec<String> = leaf_scores()
        .filter(|c| c.assessed && c.findings.is_empty())
        .map(|c| format!("{} {}", c.clause.id, h(c.clause.title)))
        .collect();
    let unassessed: Vec<String> = leaf_scores()
        .filter(|c| !c.assessed)
        .map(|c| format!("{} {}", c.clause.id, h(c.clause.title)))
        .collect();
    if clean.is_empty() {
        let _ = writeln!(out, "<p>Every assessed sub-clause has a finding.</p>");
    } else {
        let _ = writeln!(out, "<p>Assessed, nothing found: {}.</p>", clean.join("; "));
    }
    if !unassessed.is_empty() {
        let _ = writeln!(
            out,
            "<p>Not assessed (no record or checklist answer covers them yet): {}.</p>",
            unassessed.join("; ")
        );
    }

    let _ = writeln!(out, "<h2>7. Action plan</h2>");
    let _ = writeln!(
        out,
        "<p class=\"meta\">Target dates count {}, {} and {} days from {} for majors, minors and observations.</p>",
        deadlines.days[0], deadlines.days[1], deadlines.days[2], report.as_of
    );
    let _ = writeln!(
        out,
        "<table><thead><tr><th scope=\"col\">#</th><th scope=\"col\">Grade</th><th scope=\"col\">Clause</th><th scope=\"col\">Finding</th><th scope=\"col\">First step</th><th scope=\"col\">Owner</th><th scope=\"col\">Target date</th><th scope=\"col\">Status</th></tr></thead><tbody>"
    );
    let mut plan: Vec<(usize, usize)> = Vec::new();
    let mut i = 0;
    for grade in [Grade::Major, Grade::Minor, Grade::Observation] {
        for (at, _) in report
            .findings
            .iter()
            .enumerate()
            .filter(|(_, f)| f.grade == grade)
        {
            i += 1;
            plan.push((i, at));
        }
    }
    for (i, at) in plan {
        let f = &report.findings[at];
        let a = report.plan.actions.get(at);
        let owner = a
            .and_then(|a| a.owner.as_deref())
            .map(|id| crate::person_name(sms, id))
            .unwrap_or_default();
        let due = a
            .map(|a| a.due)
            .unwrap_or_else(|| deadlines.due(f.grade, report.as_of));
        let status = a.map(crate::status_words).unwrap_or_else(|| "open".into());
        let _ = writeln!(
            out,
            "<tr><td><a href=\"#finding-{i}\">{i}</a></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{due}</td><td>{}</td></tr>",
            grade_name(f.grade),
            f.clauses(e).join(", "),
            h(&f.title),
            h(f.pattern.how_to_fix.first().copied().unwrap_or("")),
            h(&owner),
            h(&status)
        );
    }
    let _ = writeln!(out, "</tbody></table>");
    if !report.plan.closed.is_empty() {
        let closed: Vec<String> = report
            .plan
            .closed
            .iter()
            .map(|c| format!("{} ({})", h(&c.finding), c.status.describe()))
            .collect();
        let _ = writeln!(
            out,
            "<p>Closed actions (in the plan, and the finding no longer fires): {}.</p>",
            closed.join("; ")
        );
    }

    let _ = writeln!(out, "<h2>Appendix: records examined</h2>");
    let _ = writeln!(
        out,
        "<table><thead><tr><th scope=\"col\">Register</th><th scope=\"col\">Records</th></tr></thead><tbody>"
    );
    for (name, count) in crate::records_examined(sms) {
        let _ = writeln!(
            out,
            "<tr><td>{name}</td><td class=\"num\">{count}</td></tr>"
        );
    }
    let _ = writeln!(out, "</tbody></table>");
    let _ = writeln!(
        out,
        "<p class=\"meta\">Clause numbers and titles of ISO/IEC 20000-1 are used as references; every explanation in this report is iso20k's own wording.</p>\n</body>\n</html>"
    );
    out
}
