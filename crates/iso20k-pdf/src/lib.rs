//! The audit-readiness report as PDF, typeset by typst: the same sections as
//! `iso20k_report::html`, with real text a reader can search and copy.
//!
//! The layout is written once, in `report.typ`; the report reaches it as JSON through a virtual
//! file, so text from the records is always data and never markup. Fonts come from
//! `typst-assets`, built into the binary: nothing is read from the system or the network, and
//! the same report always gives the same bytes (the PDF's date and id derive from the report).

use std::sync::LazyLock;

use iso20k_core::audit::Report;
use iso20k_core::kb::Grade;
use iso20k_core::model::Sms;
use iso20k_report::Deadlines;
use iso20k_report::svg::{colours, describe};
use serde_json::{Value, json};
use typst::diag::{FileError, FileResult, SourceDiagnostic};
use typst::foundations::{Bytes, Datetime, Duration, Smart};
use typst::syntax::{DiagSpanKind, FileId, RootedPath, Source, VirtualPath, VirtualRoot};
use typst::text::{Font, FontBook};
use typst::utils::LazyHash;
use typst::{Library, LibraryExt as _, World, WorldExt as _};
use typst_layout::PagedDocument;
use typst_pdf::{PdfOptions, Timestamp};

const TEMPLATE: &str = include_str!("report.typ");
const AUDIT_TEMPLATE: &str = include_str!("audit.typ");

/// Renders one audit's report (see `iso20k_report::audit_report`) as a PDF file. The same
/// report always gives the same bytes: its date is the audit's, never the clock's.
pub fn audit_report(report: &iso20k_report::audit_report::AuditReport) -> Result<Vec<u8>, String> {
    // The PDF is dated by the audit (held, else planned), else a fixed day.
    let day = report
        .dates
        .iter()
        .filter_map(|(_, v)| v.parse::<iso20k_core::Date>().ok())
        .next_back()
        .unwrap_or(iso20k_core::FIRST_AS_OF);
    let date = Datetime::from_ymd(
        i32::from(day.year()),
        day.month().unsigned_abs(),
        day.day().unsigned_abs(),
    )
    .ok_or_else(|| format!("{day} is not a date typst can write"))?;
    let json = serde_json::to_string(report).map_err(|e| e.to_string())?;
    let world = ReportWorld::new(AUDIT_TEMPLATE, json, date);
    let document: PagedDocument = typst::compile(&world)
        .output
        .map_err(|errors| diagnostics(&world, &errors))?;
    let options = PdfOptions {
        ident: Smart::Custom(format!(
            "iso20k audit report {} {}",
            report.organisation, report.id
        )),
        creator: Smart::Custom(Some(format!("iso20k {}", env!("CARGO_PKG_VERSION")))),
        timestamp: Some(Timestamp::new_utc(date)),
        ..PdfOptions::default()
    };
    typst_pdf::pdf(&document, &options).map_err(|errors| diagnostics(&world, &errors))
}

/// Renders the report on `sms` as a PDF file, its action plan dated by `deadlines`.
pub fn render(report: &Report, sms: &Sms, deadlines: &Deadlines) -> Result<Vec<u8>, String> {
    let as_of = report.as_of;
    let date = Datetime::from_ymd(
        i32::from(as_of.year()),
        as_of.month().unsigned_abs(),
        as_of.day().unsigned_abs(),
    )
    .ok_or_else(|| format!("{as_of} is not a date typst can write"))?;
    let world = ReportWorld::new(TEMPLATE, data(report, sms, deadlines).to_string(), date);
    let document: PagedDocument = typst::compile(&world)
        .output
        .map_err(|errors| diagnostics(&world, &errors))?;
    let options = PdfOptions {
        // The id derives from the report (typst's default hashes only title and author, the
        // same for every date of one organisation) and the creation date is the report's, not
        // the clock's: the same report always gives the same bytes.
        ident: Smart::Custom(format!(
            "iso20k readiness {} {} {as_of}",
            report.organisation,
            report.edition.as_str()
        )),
        creator: Smart::Custom(Some(format!("iso20k {}", env!("CARGO_PKG_VERSION")))),
        timestamp: Some(Timestamp::new_utc(date)),
        ..PdfOptions::default()
    };
    typst_pdf::pdf(&document, &options).map_err(|errors| diagnostics(&world, &errors))
}

/// The report as the template reads it. Numbers are formatted here, as the HTML report formats
/// them, so both say the same to the digit.
fn data(report: &Report, sms: &Sms, deadlines: &Deadlines) -> Value {
    let e = report.edition;
    let r = &report.readiness;
    let org = &sms.organisation;

    let scope = (!org.scope.trim().is_empty()).then(|| org.scope.clone());
    let units_and_locations = (!org.units.is_empty() || !org.locations.is_empty()).then(|| {
        let sep = if org.units.is_empty() || org.locations.is_empty() {
            ""
        } else {
            "; "
        };
        format!("{}{sep}{}", org.units.join(", "), org.locations.join(", "))
    });
    let mut dates = format!("Records judged as of {}.", report.as_of);
    if let Some(d) = org.stage1_on {
        dates.push_str(&format!(" Stage 1 audit planned for {d}."));
    }
    if let Some(d) = org.stage2_on {
        dates.push_str(&format!(" Stage 2 audit planned for {d}."));
    }
    let method = format!(
        "{} automated checks read every record listed in the appendix, as an auditor samples them, each tied to a known audit-failure pattern. Where only people can tell, the internal auditor's checklist answers count: {} of {} questions are answered. Checks over ticket data count every affected record out of all examined and quote a sample as evidence. Clauses that nothing examined are reported as not assessed, never as passed.",
        report.checks_run, report.checklist.answered, report.checklist.questions
    );
    let summary = format!(
        "Coverage: {} of {} clauses assessed; a clause not assessed counts 0. Score of the assessed clauses: {}. Findings: {} major, {} minor, {} observation.",
        r.assessed.0,
        r.assessed.1,
        iso20k_core::readiness::figure(r.assessed_score),
        report.count(Grade::Major),
        report.count(Grade::Minor),
        report.count(Grade::Observation)
    );
    let verdicts: Vec<Value> = [("Stage 1", &r.stage1), ("Stage 2", &r.stage2)]
        .into_iter()
        .map(|(stage, v)| json!({ "stage": stage, "ready": v.ready, "reasons": v.reasons().collect::<Vec<_>>() }))
        .collect();

    let bars: Vec<Value> = r
        .clauses
        .iter()
        .filter(|c| !c.clause.id.contains('.'))
        .map(|c| {
            let score = c.assessed.then_some(c.score);
            json!({
                "label": format!("{} {}", c.clause.id, c.clause.title),
                "score": score,
                "fill": colours(score).0,
                "value": describe(score),
            })
        })
        .collect();
    let clauses: Vec<Value> = r
        .clauses
        .iter()
        .map(|c| {
            let score = if c.assessed {
                iso20k_core::readiness::figure(c.score)
            } else {
                "not assessed".to_owned()
            };
            json!({
                "id": c.clause.id,
                "title": c.clause.title,
                "score": score,
                "findings": c.findings.len().to_string(),
            })
        })
        .collect();

    // Findings are numbered across grades, worst first, and the action plan uses the numbers.
    let mut n = 0;
    let mut grades = Vec::new();
    let mut plan = Vec::new();
    for grade in [Grade::Major, Grade::Minor, Grade::Observation] {
        let mut findings = Vec::new();
        for (i, (f, gain)) in report
            .findings
            .iter()
            .zip(&r.gains)
            .enumerate()
            .filter(|(_, (f, _))| f.grade == grade)
        {
            let action = report.plan.actions.get(i);
            n += 1;
            let clauses = f.clauses(e).join(", ");
            let evidence: Vec<Value> = f
                .evidence
                .iter()
                .map(|ev| {
                    json!({
                        "record": format!("{} {}", ev.kind.as_str(), ev.id),
                        "field": ev.field.unwrap_or(""),
                        "value": ev.value.as_deref().unwrap_or(""),
                        "note": ev.note,
                    })
                })
                .collect();
            findings.push(json!({
                "n": n,
                "title": f.title,
                "grade": grade_name(grade),
                "clauses": clauses,
                "pattern": format!("{} {}", f.pattern.id, f.pattern.title),
                "check": f.check,
                "gain": format!("{gain:.2}"),
                "counts": f.counts.map(|(affected, population)| {
                    format!("{affected} of {population} records examined are affected.")
                }),
                "evidence": evidence,
                "why": f.pattern.why_it_matters,
                "fix": f.pattern.how_to_fix,
            }));
            plan.push(json!({
                "n": n,
                "grade": grade_name(grade),
                "clauses": clauses,
                "title": f.title,
                "first_step": f.pattern.how_to_fix.first().copied().unwrap_or(""),
                "owner": action
                    .and_then(|a| a.owner.as_deref())
                    .map(|o| iso20k_report::person_name(sms, o))
                    .unwrap_or_default(),
                "due": action
                    .map(|a| a.due)
                    .unwrap_or_else(|| deadlines.due(grade, report.as_of))
                    .to_string(),
                "status": action.map(iso20k_report::status_words).unwrap_or_else(|| "open".into()),
            }));
        }
        if !findings.is_empty() {
            grades.push(json!({ "grade": grade_name(grade), "findings": findings }));
        }
    }

    let leaf = || r.clauses.iter().filter(|c| c.clause.is_leaf());
    let name =
        |c: &iso20k_core::readiness::ClauseScore| format!("{} {}", c.clause.id, c.clause.title);
    let clean: Vec<String> = leaf()
        .filter(|c| c.assessed && c.findings.is_empty())
        .map(name)
        .collect();
    let unassessed: Vec<String> = leaf().filter(|c| !c.assessed).map(name).collect();

    let registers: Vec<Value> = iso20k_report::records_examined(sms)
        .into_iter()
        .map(|(name, count)| json!({ "name": name, "count": count }))
        .collect();

    json!({
        "organisation": report.organisation,
        "edition": e.as_str(),
        "as_of": report.as_of.to_string(),
        "version": env!("CARGO_PKG_VERSION"),
        "scope": scope,
        "units_and_locations": units_and_locations,
        "dates": dates,
        "method": method,
        "readiness": format!("Readiness: {} / 100", iso20k_core::readiness::figure(r.overall)),
        "summary": summary,
        "verdicts": verdicts,
        "bars": bars,
        "clauses": clauses,
        "grades": grades,
        "clean": clean,
        "unassessed": unassessed,
        "deadlines": format!(
            "Target dates count {}, {} and {} days from {} for majors, minors and observations.",
            deadlines.days[0], deadlines.days[1], deadlines.days[2], report.as_of
        ),
        "plan": plan,
        "closed": report
            .plan
            .closed
            .iter()
            .map(|c| format!("{} ({})", c.finding, c.status.describe()))
            .collect::<Vec<_>>(),
        "registers": registers,
    })
}

fn grade_name(g: Grade) -> &'static str {
    match g {
        Grade::Major => "Major",
        Grade::Minor => "Minor",
        Grade::Observation => "Observation",
    }
}

/// The bundled fonts, parsed once per process: every report uses the same ones.
static FONTS: LazyLock<(LazyHash<FontBook>, Vec<Font>)> = LazyLock::new(|| {
    let fonts: Vec<Font> = typst_assets::fonts()
        .flat_map(|data| Font::iter(Bytes::new(data)))
        .collect();
    (LazyHash::new(FontBook::from_fonts(&fonts)), fonts)
});

static LIBRARY: LazyLock<LazyHash<Library>> =
    LazyLock::new(|| LazyHash::new(Library::builder().build()));

/// Everything typst may see: the template as the one source, the report's JSON as the one
/// other file, and the report's date as today. No file system, no packages, no clock.
struct ReportWorld {
    main: Source,
    data_id: FileId,
    data: Bytes,
    today: Datetime,
}

impl ReportWorld {
    fn new(template: &str, data: String, today: Datetime) -> Self {
        let path = |p: &str| {
            RootedPath::new(
                VirtualRoot::Project,
                VirtualPath::new(p).expect("a valid virtual path"),
            )
            .intern()
        };
        ReportWorld {
            main: Source::new(path("/report.typ"), template.to_owned()),
            data_id: path("/report.json"),
            data: Bytes::from_string(data),
            today,
        }
    }
}

impl World for ReportWorld {
    fn library(&self) -> &LazyHash<Library> {
        &LIBRARY
    }

    fn book(&self) -> &LazyHash<FontBook> {
        &FONTS.0
    }

    fn main(&self) -> FileId {
        self.main.id()
    }

    fn source(&self, id: FileId) -> FileResult<Source> {
        if id == self.main.id() {
            Ok(self.main.clone())
        } else {
            Err(FileError::NotSource)
        }
    }

    fn file(&self, id: FileId) -> FileResult<Bytes> {
        if id == self.data_id {
            Ok(self.data.clone())
        } else if id == self.main.id() {
            // The World contract: a file readable as a source is readable as bytes too.
            Ok(Bytes::from_string(self.main.text().to_owned()))
        } else {
            Err(FileError::AccessDenied)
        }
    }

    fn font(&self, index: usize) -> Option<Font> {
        FONTS.1.get(index).cloned()
    }

    fn today(&self, _offset: Option<Duration>) -> Option<Datetime> {
        Some(self.today)
    }
}

/// Typst's errors in one message. They can only come from the template, so they name its line.
fn diagnostics(world: &ReportWorld, errors: &[SourceDiagnostic]) -> String {
    let mut out = String::from("cannot typeset the PDF report:");
    for d in errors {
        let line = match d.span.get() {
            DiagSpanKind::Number { id, .. } if id == world.main.id() => world
                .range(d.span)
                .and_then(|r| world.main.lines().byte_to_line(r.start))
                .map(|l| format!(" (report.typ line {})", l + 1)),
            _ => None,
        };
        out.push_str(&format!("\n  {}{}", d.message, line.unwrap_or_default()));
        for hint in &d.hints {
            out.push_str(&format!("\n    hint: {}", hint.v));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use typst::layout::{Frame, FrameItem};

    fn text(frame: &Frame, out: &mut String) {
        for (_, item) in frame.items() {
            match item {
                FrameItem::Group(g) => text(&g.frame, out),
                FrameItem::Text(t) => out.push_str(&t.text),
                _ => {}
            }
        }
    }

    #[test]
    fn text_from_the_records_is_never_read_as_markup() {
        // Everything in a record that typst markup or code would act on.
        let nasty = r#"#panic("x") *bold* _em_ $x$ <l> @ref \ "q" // c /* c */ [x] {x} = h"#;
        let world = ReportWorld::new(
            "#let d = json(\"/report.json\")\n#d.s",
            json!({ "s": nasty }).to_string(),
            Datetime::from_ymd(2026, 6, 30).unwrap(),
        );
        let document: PagedDocument = typst::compile(&world)
            .output
            .map_err(|e| diagnostics(&world, &e))
            .unwrap();
        let mut out = String::new();
        text(&document.pages()[0].frame, &mut out);
        assert_eq!(out.replace(' ', ""), nasty.replace(' ', ""));
    }
}
