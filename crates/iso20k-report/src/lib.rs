//! Renders an audit [`Report`](iso20k_core::audit::Report) for the people and programs that read
//! it: [`text`] for a terminal, [`json`] for pipelines and the team server, [`markdown`] for a
//! wiki, [`html`] for people who print, [`xlsx`] for a gap analysis in Excel, [`oscal`] for GRC
//! platforms, [`junit`] and [`sarif`] for CI systems, [`findings_csv`] for spreadsheets.

pub mod audit_report;
pub mod findings_csv;
pub mod html;
pub mod json;
pub mod junit;
pub mod kb;
pub mod markdown;
pub mod markup;
pub mod metrics;
pub mod oscal;
pub mod sarif;
pub mod svg;
pub mod text;
pub mod xlsx;

/// How many records of each register the audit examined, for a report's appendix.
pub fn records_examined(sms: &iso20k_core::model::Sms) -> [(&'static str, usize); 26] {
    let t = &sms.tickets;
    [
        (
            "Service management policy",
            usize::from(sms.policy.is_some()),
        ),
        ("People", sms.people.len()),
        ("Processes", sms.processes.len()),
        ("RACI assignments", sms.raci.len()),
        ("Objectives", sms.objectives.len()),
        ("Management reviews", sms.management_reviews.len()),
        ("Documents (versions)", sms.documents.len()),
        ("Services", sms.services.len()),
        ("SLAs", sms.slas.len()),
        ("Suppliers", sms.suppliers.len()),
        ("Risks", sms.risks.len()),
        ("Internal audits", sms.audits.len()),
        ("Nonconformities", sms.nonconformities.len()),
        ("Improvements", sms.improvements.len()),
        ("Continuity plans", sms.continuity_plans.len()),
        ("Capacity plans", sms.capacity_plans.len()),
        ("Training records", sms.training.len()),
        ("Customers", sms.customers.len()),
        ("Complaints", sms.complaints.len()),
        ("Checklist answers", sms.checklist.len()),
        ("Incidents", t.incidents.len()),
        ("Service requests", t.requests.len()),
        ("Problems", t.problems.len()),
        ("Changes", t.changes.len()),
        ("Releases", t.releases.len()),
        ("Configuration items", t.cis.len()),
    ]
}

/// How long the action plan gives to fix a finding, by grade (kept in the core, with the plan).
pub use iso20k_core::plan::Deadlines;

/// A person as reports show them: their name and id, or the id alone when not in the register.
pub fn person_name(sms: &iso20k_core::model::Sms, id: &str) -> String {
    match sms.person(id) {
        Some(p) if !p.name.trim().is_empty() => format!("{} ({id})", p.name.trim()),
        _ => id.to_owned(),
    }
}

/// An action's status in words, saying when plan.yaml marks done what the records still show,
/// and who accepted a risk.
pub fn status_words(a: &iso20k_core::plan::Action) -> String {
    let mut out = a.status.describe().to_owned();
    if a.marked_done_but_still_fires {
        out.push_str(": marked done, but the records still show it");
    }
    if let Some(by) = &a.approved_by {
        out.push_str(&format!(" by {by}"));
        if let Some(reason) = &a.reason {
            out.push_str(&format!(": {reason}"));
        }
    }
    out
}

/// Every format a report can be written in, by the CLI and by the server alike.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// The audit-readiness report as one self-contained HTML file.
    Html,
    /// The gap analysis workbook.
    Xlsx,
    /// The report as Markdown.
    Md,
    /// The readiness report as JSON.
    Json,
    /// The findings register as CSV.
    Csv,
    /// JUnit XML.
    Junit,
    /// SARIF 2.1.0.
    Sarif,
    /// The clause catalogue as an OSCAL catalog.
    OscalCatalog,
    /// The findings as OSCAL assessment results.
    OscalResults,
}

impl Format {
    /// Every format, in the order menus list them.
    pub const ALL: [Format; 9] = [
        Format::Html,
        Format::Xlsx,
        Format::Md,
        Format::Json,
        Format::Csv,
        Format::Junit,
        Format::Sarif,
        Format::OscalCatalog,
        Format::OscalResults,
    ];

    /// The name used on the command line and in URLs.
    pub fn name(self) -> &'static str {
        match self {
            Format::Html => "html",
            Format::Xlsx => "xlsx",
            Format::Md => "md",
            Format::Json => "json",
            Format::Csv => "csv",
            Format::Junit => "junit",
            Format::Sarif => "sarif",
            Format::OscalCatalog => "oscal-catalog",
            Format::OscalResults => "oscal-results",
        }
    }

    /// The format named `name`.
    pub fn named(name: &str) -> Option<Format> {
        Format::ALL.into_iter().find(|f| f.name() == name)
    }

    /// The media type to serve it as.
    pub fn media_type(self) -> &'static str {
        match self {
            Format::Html => "text/html; charset=utf-8",
            Format::Xlsx => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            Format::Md => "text/markdown; charset=utf-8",
            Format::Json | Format::OscalCatalog | Format::OscalResults => "application/json",
            Format::Csv => "text/csv; charset=utf-8",
            Format::Junit => "application/xml",
            Format::Sarif => "application/sarif+json",
        }
    }

    /// The file name extension it is saved with.
    pub fn extension(self) -> &'static str {
        match self {
            Format::Html => "html",
            Format::Xlsx => "xlsx",
            Format::Md => "md",
            Format::Csv => "csv",
            Format::Junit => "xml",
            Format::Sarif => "sarif",
            Format::Json | Format::OscalCatalog | Format::OscalResults => "json",
        }
    }

    /// Writes `report` on `sms` in this format. `bundle` is the folder the records came from,
    /// as the caller named it (empty for a database): SARIF locates findings in its files.
    pub fn render(
        self,
        report: &iso20k_core::audit::Report,
        sms: &iso20k_core::model::Sms,
        deadlines: &Deadlines,
        bundle: &str,
    ) -> Result<Vec<u8>, String> {
        let text = match self {
            Format::Html => html::render(report, sms, deadlines),
            Format::Xlsx => {
                return xlsx::render(report, sms, deadlines)
                    .map_err(|e| format!("cannot build the workbook: {e}"));
            }
            Format::Md => markdown::render(report),
            Format::Json => json::render(report),
            Format::Csv => findings_csv::render(report),
            Format::Junit => junit::render(report),
            Format::Sarif => sarif::render(report, bundle),
            Format::OscalCatalog => oscal::catalog(report.edition),
            Format::OscalResults => oscal::results(report),
        };
        Ok(text.into_bytes())
    }
}
