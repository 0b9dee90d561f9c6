//! Renders an audit [`Report`](iso20k_core::audit::Report) for the people and programs that read
//! it: [`text`] for a terminal, [`json`] for pipelines and the team server, [`markdown`] for a
//! wiki, [`html`] for people who print, [`xlsx`] for a gap analysis in Excel, [`oscal`] for GRC
//! platforms, [`junit`] and [`sarif`] for CI systems, [`findings_csv`] for spreadsheets.

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

use iso20k_core::Date;
use iso20k_core::checks::Finding;
use iso20k_core::kb::Grade;

/// The id a finding has in every register and log: its check, or `checklist/F-NNN` for an
/// internal auditor's answer (one check, many questions).
pub fn finding_id(f: &Finding) -> String {
    if f.check == "checklist" {
        format!("checklist/{}", f.pattern.id)
    } else {
        f.check.to_owned()
    }
}

/// How long the action plan gives to fix a finding, by grade.
#[derive(Clone, Copy, Debug)]
pub struct Deadlines {
    /// Days from the report's date to fix a major, a minor and an observation. The defaults
    /// follow common certification practice: majors closed before a certificate is granted
    /// (about 90 days), minors planned within about six months, observations within the year.
    pub days: [i64; 3],
}

impl Default for Deadlines {
    fn default() -> Self {
        Deadlines {
            days: [90, 180, 365],
        }
    }
}

impl Deadlines {
    /// The day a finding of `grade`, found on `as_of`, should be fixed by.
    pub fn due(&self, grade: Grade, as_of: Date) -> Date {
        let days = match grade {
            Grade::Major => self.days[0],
            Grade::Minor => self.days[1],
            Grade::Observation => self.days[2],
        };
        as_of
            .checked_add(jiff::Span::new().days(days))
            .unwrap_or(as_of)
    }
}
