//! The report for people at a terminal: findings grouped by clause, the worst first, with the
//! evidence and the first step of the fix, and one summary line at the end.
//!
//! Output carries ANSI styles; the caller strips them when stdout is not a terminal.

use std::fmt::Write as _;

use anstyle::{AnsiColor, Style};
use iso20k_core::audit::Report;
use iso20k_core::checks::Finding;
use iso20k_core::clause;
use iso20k_core::kb::Grade;
use iso20k_core::readiness::figure;

/// How much evidence to show per finding before summarising the rest.
const EVIDENCE_SHOWN: usize = 5;

fn style(grade: Grade) -> Style {
    match grade {
        Grade::Major => AnsiColor::Red.on_default().bold(),
        Grade::Minor => AnsiColor::Yellow.on_default().bold(),
        Grade::Observation => AnsiColor::Cyan.on_default(),
    }
}

const DIM: Style = Style::new().dimmed();
const BOLD: Style = Style::new().bold();

fn label(grade: Grade) -> &'static str {
    match grade {
        Grade::Major => "MAJOR",
        Grade::Minor => "MINOR",
        Grade::Observation => "OBS  ",
    }
}

/// The first lines of the report: the score, the stage verdicts and what blocks them, and the
/// findings by grade; for a start-up banner.
pub fn summary(report: &Report) -> String {
    let mut out = String::new();
    heading(&mut out, report);
    let _ = writeln!(
        out,
        "{} major, {} minor, {} observation{} ({} checks run)",
        report.count(Grade::Major),
        report.count(Grade::Minor),
        report.count(Grade::Observation),
        if report.count(Grade::Observation) == 1 {
            ""
        } else {
            "s"
        },
        report.checks_run
    );
    out
}

fn heading(out: &mut String, report: &Report) {
    let e = report.edition;
    let r = &report.readiness;
    let _ = writeln!(
        out,
        "{BOLD}{}{BOLD:#}: ISO/IEC 20000-1:{e} readiness as of {}",
        report.organisation, report.as_of
    );
    let _ = writeln!(
        out,
        "Readiness {BOLD}{}/100{BOLD:#}   stage 1: {}   stage 2: {}",
        figure(r.overall),
        verdict(r.stage1.ready),
        verdict(r.stage2.ready)
    );
    let _ = writeln!(
        out,
        "{DIM}{} of {} clauses assessed (a clause not assessed counts 0); the assessed clauses score {}{DIM:#}",
        r.assessed.0,
        r.assessed.1,
        figure(r.assessed_score)
    );
    for (stage, v) in [("stage 1", &r.stage1), ("stage 2", &r.stage2)] {
        if !v.ready {
            let _ = writeln!(out, "{DIM}{stage} blocked by:{DIM:#}");
            for reason in v.reasons() {
                let _ = writeln!(out, "  - {reason}");
            }
        }
    }
}

/// What resolving a finding adds, and what it will add once the cap no longer holds the
/// score down, when that differs.
fn gain_text(gain: f64, uncapped: f64) -> String {
    if (gain - uncapped).abs() < 0.005 {
        format!("+{gain:.2} if fixed")
    } else {
        format!("+{gain:.2} if fixed, +{uncapped:.2} before the stage caps")
    }
}

/// Renders the report.
pub fn render(report: &Report) -> String {
    let mut out = String::new();
    let e = report.edition;
    let r = &report.readiness;
    heading(&mut out, report);

    // Each finding sits under its first clause; groups are ordered by their worst finding,
    // then by clause order.
    let mut groups: Vec<(&'static str, Vec<(usize, &Finding)>)> = Vec::new();
    for (i, f) in report.findings.iter().enumerate() {
        let Some(&c) = f.clauses(e).first() else {
            continue;
        };
        match groups.iter_mut().find(|g| g.0 == c) {
            Some(g) => g.1.push((i, f)),
            None => groups.push((c, vec![(i, f)])),
        }
    }
    let position = |id: &str| {
        clause::catalogue(e)
            .iter()
            .position(|c| c.id == id)
            .unwrap_or(usize::MAX)
    };
    groups.sort_by_key(|g| {
        (
            std::cmp::Reverse(g.1.iter().map(|f| f.1.grade).max()),
            position(g.0),
        )
    });

    for (c, findings) in &groups {
        let title = clause::find(e, c).map(|c| c.title).unwrap_or("");
        let score = r
            .clauses
            .iter()
            .find(|s| s.clause.id == *c)
            .map(|s| s.score)
            .unwrap_or(0.0);
        let _ = writeln!(
            out,
            "\n{BOLD}{c} {title}{BOLD:#}  {DIM}score {score:.0}{DIM:#}"
        );
        for (i, f) in findings {
            finding(&mut out, f, r.gains[*i], r.uncapped_gains[*i]);
            if let Some(a) = report.plan.actions.get(*i) {
                action(&mut out, a);
            }
        }
    }

    if !report.plan.closed.is_empty() {
        let _ = writeln!(
            out,
            "\n{BOLD}Closed actions{BOLD:#} {DIM}(in plan.yaml; the finding no longer fires){DIM:#}"
        );
        for e in &report.plan.closed {
            let _ = writeln!(out, "  {}  {DIM}{}{DIM:#}", e.finding, e.status.describe());
        }
    }

    let c = report.checklist;
    if c.answered < c.questions {
        let _ = writeln!(
            out,
            "\n{DIM}Checklist: {} of {} questions no record can answer are answered; `iso20k checklist` lists the rest.{DIM:#}",
            c.answered, c.questions
        );
    }

    let clauses_hit = groups.len();
    let _ = writeln!(
        out,
        "\n{BOLD}{} major, {} minor, {} observation{} in {clauses_hit} clause{}; readiness {:.0}/100; stage 1 {}, stage 2 {}{BOLD:#}",
        report.count(Grade::Major),
        report.count(Grade::Minor),
        report.count(Grade::Observation),
        if report.count(Grade::Observation) == 1 {
            ""
        } else {
            "s"
        },
        if clauses_hit == 1 { "" } else { "s" },
        r.overall,
        verdict(r.stage1.ready),
        verdict(r.stage2.ready),
    );
    out
}

/// What plan.yaml says about a finding, shown only for findings it has an entry for.
fn action(out: &mut String, a: &iso20k_core::plan::Action) {
    if !a.planned {
        return;
    }
    let owner = a.owner.as_deref().unwrap_or("no owner");
    let _ = writeln!(
        out,
        "        {BOLD}plan:{BOLD:#} {}, {owner}, due {}",
        a.status.describe(),
        a.due
    );
    if a.marked_done_but_still_fires {
        let _ = writeln!(
            out,
            "        {BOLD}marked done in plan.yaml, but the records still show it{BOLD:#}"
        );
    }
    if let Some(by) = &a.approved_by {
        let _ = writeln!(
            out,
            "        {DIM}risk accepted by {by}: {}{DIM:#}",
            a.reason.as_deref().unwrap_or("")
        );
    }
}

fn verdict(ready: bool) -> String {
    if ready {
        let s = AnsiColor::Green.on_default().bold();
        format!("{s}ready{s:#}")
    } else {
        let s = AnsiColor::Red.on_default().bold();
        format!("{s}not ready{s:#}")
    }
}

fn finding(out: &mut String, f: &Finding, gain: f64, uncapped: f64) {
    let s = style(f.grade);
    let _ = writeln!(
        out,
        "  {s}{}{s:#} {}  {DIM}[{} · {} · {}]{DIM:#}",
        label(f.grade),
        f.title,
        f.check,
        f.pattern.id,
        gain_text(gain, uncapped)
    );
    for e in f.evidence.iter().take(EVIDENCE_SHOWN) {
        let mut line = format!("{} {}: {}", e.kind.as_str(), e.id, e.note);
        if let Some(field) = e.field {
            match &e.value {
                Some(v) => {
                    let _ = write!(line, " ({field}: {v})");
                }
                None => {
                    let _ = write!(line, " ({field} empty)");
                }
            }
        }
        let _ = writeln!(out, "        {line}");
    }
    // Ticket checks count every record they found but keep only a sample as evidence.
    let total = f.counts.map_or(f.evidence.len(), |(affected, _)| {
        affected.max(f.evidence.len())
    });
    if total > EVIDENCE_SHOWN {
        let _ = writeln!(
            out,
            "        {DIM}… and {} more{DIM:#}",
            total - EVIDENCE_SHOWN
        );
    }
    if let Some(step) = f.fix().first() {
        let _ = writeln!(
            out,
            "        {BOLD}fix:{BOLD:#} {step} {DIM}(iso20k kb show {}){DIM:#}",
            f.pattern.id
        );
    }
}
