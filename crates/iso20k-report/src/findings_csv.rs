//! The findings register as CSV: a row per finding, for a spreadsheet or a GRC tool.

use iso20k_core::audit::Report;

/// The columns of the register.
pub(crate) const HEADER: [&str; 12] = [
    "finding",
    "grade",
    "pattern",
    "pattern_title",
    "title",
    "clauses_2018",
    "clauses_2011",
    "affected",
    "population",
    "evidence",
    "gain",
    "first_fix_step",
];

/// The register's rows, one per finding, as plain text: what the CSV and the workbook's sheet
/// both hold.
pub(crate) fn rows(report: &Report) -> Vec<[String; 12]> {
    report
        .findings
        .iter()
        .zip(&report.readiness.gains)
        .map(|(f, gain)| {
            let evidence: Vec<String> = f
                .evidence
                .iter()
                .map(|e| format!("{} {}: {}", e.kind.as_str(), e.id, e.note))
                .collect();
            let (affected, population) = match f.counts {
                Some((a, p)) => (a.to_string(), p.to_string()),
                None => (String::new(), String::new()),
            };
            [
                f.id.clone(),
                f.grade.as_str().to_owned(),
                f.pattern.id.to_owned(),
                f.pattern.title.to_owned(),
                f.title.clone(),
                f.clauses_2018.join(" "),
                f.clauses_2011.join(" "),
                affected,
                population,
                evidence.join("; "),
                format!("{gain:.2}"),
                f.pattern
                    .how_to_fix
                    .first()
                    .copied()
                    .unwrap_or("")
                    .to_owned(),
            ]
        })
        .collect()
}

/// A cell a spreadsheet would read as a formula (`=`, `+`, `-`, `@`, or a leading tab or
/// carriage return) gets a leading apostrophe, so opening the file runs nothing. Every cell
/// goes through here, whatever its column.
pub fn neutralise(cell: &str) -> std::borrow::Cow<'_, str> {
    match cell.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{cell}").into(),
        _ => cell.into(),
    }
}

/// The register, with a header row.
pub fn render(report: &Report) -> String {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(HEADER).expect("writing to memory");
    for row in rows(report) {
        w.write_record(row.iter().map(|c| neutralise(c).into_owned()))
            .expect("writing to memory");
    }
    String::from_utf8(w.into_inner().expect("writing to memory")).expect("CSV of UTF-8 text")
}

#[cfg(test)]
mod tests {
    use super::neutralise;

    #[test]
    fn cells_that_would_start_a_formula_are_neutralised() {
        for bad in ["=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx"] {
            assert!(neutralise(bad).starts_with('\''), "{bad:?}");
        }
        for fine in ["1 of 3", "mr-overdue", "", "a=b"] {
            assert_eq!(neutralise(fine), fine);
        }
    }
}
