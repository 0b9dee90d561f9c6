//! The findings register as CSV: a row per finding, for a spreadsheet or a GRC tool.

use iso20k_core::audit::Report;

/// The register, with a header row.
pub fn render(report: &Report) -> String {
    let mut w = csv::Writer::from_writer(Vec::new());
    let header = [
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
    w.write_record(header).expect("writing to memory");
    for (f, gain) in report.findings.iter().zip(&report.readiness.gains) {
        let id = f.id.clone();
        let evidence: Vec<String> = f
            .evidence
            .iter()
            .map(|e| format!("{} {}: {}", e.kind.as_str(), e.id, e.note))
            .collect();
        let (affected, population) = match f.counts {
            Some((a, p)) => (a.to_string(), p.to_string()),
            None => (String::new(), String::new()),
        };
        w.write_record([
            id.as_str(),
            f.grade.as_str(),
            f.pattern.id,
            f.pattern.title,
            f.title.as_str(),
            &f.clauses_2018.join(" "),
            &f.clauses_2011.join(" "),
            &affected,
            &population,
            &evidence.join("; "),
            &format!("{gain:.2}"),
            f.pattern.how_to_fix.first().copied().unwrap_or(""),
        ])
        .expect("writing to memory");
    }
    String::from_utf8(w.into_inner().expect("writing to memory")).expect("CSV of UTF-8 text")
}
