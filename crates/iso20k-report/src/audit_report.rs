//! One audit's report, in the shape certification bodies write theirs: objectives, scope,
//! criteria, team, dates, method, the samples tested, the findings with their evidence, and the
//! conclusion. [`data`] gathers it from the records (the PDF crate typesets the same data);
//! [`html`] writes it as one self-contained page.
//!
//! What the records do not say is written as "not recorded", never left out or filled in, so a
//! reader sees the report's gaps as plainly as its findings.

use iso20k_core::clause;
use iso20k_core::model::{InternalAudit, ItemResult, SampleMethod, Sms};
use iso20k_core::{nc, programme};
use serde::Serialize;

use crate::markup::escape;
use crate::person_name;

/// The report's data, as the HTML page and the PDF template read it.
#[derive(Clone, Debug, Serialize)]
pub struct AuditReport {
    /// The organisation's name.
    pub organisation: String,
    /// The edition the audit's clauses are numbered in.
    pub edition: &'static str,
    /// iso20k's version.
    pub version: &'static str,
    /// The audit's id.
    pub id: String,
    /// Its title.
    pub title: String,
    /// Internal, or which outside audit, in words.
    pub kind: &'static str,
    /// For an outside audit, who held it.
    pub body: Option<String>,
    /// Its status in words.
    pub status: &'static str,
    /// When it was planned, held and ended, as written (or "not recorded").
    pub dates: Vec<(String, String)>,
    /// The lead auditor, by name.
    pub auditor: Option<String>,
    /// The rest of the team, by name.
    pub team: Vec<String>,
    /// Whether anyone on the team audits their own work, each in a sentence.
    pub independence: Vec<String>,
    /// Scope: clauses, each "number title".
    pub clauses: Vec<String>,
    /// Scope: processes, each by name.
    pub processes: Vec<String>,
    /// Scope: services, each by name.
    pub services: Vec<String>,
    /// Scope: sites.
    pub sites: Vec<String>,
    /// What the audit set out to establish.
    pub objectives: Option<String>,
    /// What it audited against.
    pub criteria: Option<String>,
    /// How it was done.
    pub method: Option<String>,
    /// The samples tested.
    pub samples: Vec<SampleReport>,
    /// The checklist asked.
    pub checklist: Vec<QuestionReport>,
    /// The findings.
    pub findings: Vec<FindingReport>,
    /// Majors, minors and observations.
    pub counts: [usize; 3],
    /// The audit team's conclusion.
    pub conclusion: Option<String>,
    /// The report's document id in the register.
    pub document: Option<String>,
}

/// One sample, as reported.
#[derive(Clone, Debug, Serialize)]
pub struct SampleReport {
    /// Its id.
    pub id: String,
    /// The population in words.
    pub population: String,
    /// How many records the population held.
    pub population_size: u64,
    /// How it was chosen, in words, with the size's basis.
    pub method: String,
    /// The seed, for a random draw.
    pub seed: Option<u64>,
    /// Each item: id, result in words, note.
    pub items: Vec<(String, String, String)>,
    /// The tally in words: "25 tested: 22 conform, 3 do not".
    pub tally: String,
    /// The finding it was rolled into.
    pub finding: Option<String>,
}

/// One checklist question, as reported.
#[derive(Clone, Debug, Serialize)]
pub struct QuestionReport {
    /// The question.
    pub question: String,
    /// Its clause.
    pub clause: String,
    /// The result in words.
    pub result: String,
    /// The note.
    pub note: String,
}

/// One finding, as reported.
#[derive(Clone, Debug, Serialize)]
pub struct FindingReport {
    /// Its id.
    pub id: String,
    /// Major, Minor or Observation.
    pub grade: &'static str,
    /// Its clause, "number title".
    pub clause: Option<String>,
    /// The process, by name.
    pub process: Option<String>,
    /// What was found.
    pub statement: String,
    /// The objective evidence: record or evidence-file ids.
    pub evidence: Vec<String>,
    /// The sample it reports, with its tally.
    pub sample: Option<String>,
    /// The nonconformity raised, with where it stands.
    pub nonconformity: Option<String>,
    /// Due, closed and verified, in words.
    pub status: String,
}

fn clause_line(sms: &Sms, id: &str) -> String {
    match clause::find(sms.edition(), id) {
        Some(c) => format!("{} {}", c.id, c.title),
        None => id.to_owned(),
    }
}

fn process_name(sms: &Sms, id: &str) -> String {
    match sms.processes.iter().find(|p| p.id == id) {
        Some(p) if !p.name.trim().is_empty() => format!("{} ({id})", p.name.trim()),
        _ => id.to_owned(),
    }
}

fn service_name(sms: &Sms, id: &str) -> String {
    match sms.service(id) {
        Some(s) if !s.name.trim().is_empty() => format!("{} ({id})", s.name.trim()),
        _ => id.to_owned(),
    }
}

fn tally(items: &[iso20k_core::model::SampleItem]) -> (String, [usize; 4]) {
    let count = |r: Option<ItemResult>| items.iter().filter(|i| i.result == r).count();
    let n = [
        count(Some(ItemResult::Conforms)),
        count(Some(ItemResult::DoesNotConform)),
        count(Some(ItemResult::NotApplicable)),
        count(None),
    ];
    let tested = n[0] + n[1];
    let mut words = format!(
        "{tested} of {} tested: {} conform, {} do not",
        items.len(),
        n[0],
        n[1]
    );
    if n[2] > 0 {
        words.push_str(&format!("; {} not applicable", n[2]));
    }
    if n[3] > 0 {
        words.push_str(&format!("; {} not yet tested", n[3]));
    }
    (words, n)
}

fn population_words(s: &iso20k_core::model::Sample) -> String {
    let p = &s.population;
    let mut out = p.kind.clone();
    match (p.from, p.to) {
        (Some(f), Some(t)) => out.push_str(&format!(" from {f} to {t}")),
        (Some(f), None) => out.push_str(&format!(" from {f}")),
        (None, Some(t)) => out.push_str(&format!(" up to {t}")),
        (None, None) => {}
    }
    if !p.filters.is_empty() {
        out.push_str(&format!(" where {}", p.filters.join(" and ")));
    }
    out
}

fn sample_report(s: &iso20k_core::model::Sample) -> SampleReport {
    let method = match (s.method, s.confidence, s.tdr) {
        (SampleMethod::Statistical, Some(c), Some(t)) => {
            let needed = iso20k_core::sampling::statistical_size(c, t)
                .map(|n| format!(", which needs {n}"))
                .unwrap_or_default();
            format!(
                "Statistical: {}% confidence that deviations stay below {}%{needed}; drawn at \
                 random with seed {}",
                c * 100.0,
                t * 100.0,
                s.seed.map_or("not recorded".to_owned(), |x| x.to_string())
            )
        }
        (SampleMethod::Statistical, _, _) => format!(
            "Random draw of a chosen size, seed {}",
            s.seed.map_or("not recorded".to_owned(), |x| x.to_string())
        ),
        (SampleMethod::Judgement, _, _) => format!(
            "Judgement: {}",
            s.rationale.as_deref().unwrap_or("no rationale recorded")
        ),
    };
    SampleReport {
        id: s.id.clone(),
        population: population_words(s),
        population_size: s.population_size,
        method,
        seed: s.seed,
        items: s
            .items
            .iter()
            .map(|i| {
                (
                    i.id.clone(),
                    i.result
                        .map_or("Not yet tested", ItemResult::label)
                        .to_owned(),
                    i.note.clone().unwrap_or_default(),
                )
            })
            .collect(),
        tally: tally(&s.items).0,
        finding: s.finding.clone(),
    }
}

/// Gathers the report of audit `id`. Errors name an unknown audit.
pub fn data(sms: &Sms, id: &str) -> Result<AuditReport, String> {
    let audit: &InternalAudit = sms.audits.iter().find(|a| a.id == id).ok_or_else(|| {
        let ids: Vec<&str> = sms.audits.iter().map(|a| a.id.as_str()).collect();
        if ids.is_empty() {
            format!("there is no audit `{id}`: audits.yaml records none")
        } else {
            format!(
                "there is no audit `{id}`; the audits are {}",
                ids.join(", ")
            )
        }
    })?;
    let date =
        |d: Option<iso20k_core::Date>| d.map_or("not recorded".to_owned(), |d| d.to_string());
    let mut dates = vec![
        ("Planned for".to_owned(), date(audit.planned_on)),
        (
            "Held".to_owned(),
            audit
                .held_on
                .map_or("not held yet".to_owned(), |d| d.to_string()),
        ),
    ];
    if let Some(end) = audit.ends_on {
        dates.push(("Last day".to_owned(), end.to_string()));
    }
    let findings: Vec<FindingReport> = audit
        .findings
        .iter()
        .map(|f| {
            let nonconformity = f.nonconformity.as_ref().map(|id| {
                match sms.nonconformities.iter().find(|n| &n.id == id) {
                    Some(n) => format!("{id}: {}", nc::step(n).label().to_lowercase()),
                    None => format!("{id} (not in the nonconformity register)"),
                }
            });
            let mut status = Vec::new();
            if let Some(d) = f.due {
                status.push(format!("due {d}"));
            }
            status.push(match f.closed_on {
                Some(d) => format!("closed {d}"),
                None => "open".to_owned(),
            });
            if let Some(d) = f.verified_on {
                status.push(format!("closure verified {d}"));
            }
            FindingReport {
                id: f.id.clone(),
                grade: match f.grade {
                    iso20k_core::kb::Grade::Major => "Major",
                    iso20k_core::kb::Grade::Minor => "Minor",
                    iso20k_core::kb::Grade::Observation => "Observation",
                },
                clause: f.clause.as_deref().map(|c| clause_line(sms, c)),
                process: f.process.as_deref().map(|p| process_name(sms, p)),
                statement: f.statement.trim().to_owned(),
                evidence: f.evidence.clone(),
                sample: f.sample.as_ref().map(|sid| {
                    match audit.samples.iter().find(|s| &s.id == sid) {
                        Some(s) => format!("{sid}: {}", tally(&s.items).0),
                        None => sid.clone(),
                    }
                }),
                nonconformity,
                status: status.join(", "),
            }
        })
        .collect();
    let count = |g| audit.findings.iter().filter(|f| f.grade == g).count();
    use iso20k_core::kb::Grade;
    Ok(AuditReport {
        organisation: sms.organisation.name.clone(),
        edition: sms.edition().as_str(),
        version: env!("CARGO_PKG_VERSION"),
        id: audit.id.clone(),
        title: audit.title.clone(),
        kind: audit.kind.label(),
        body: audit.body.clone(),
        status: audit.status().label(),
        dates,
        auditor: audit.auditor.as_deref().map(|a| person_name(sms, a)),
        team: audit.team.iter().map(|t| person_name(sms, t)).collect(),
        independence: if audit.kind.is_external() {
            Vec::new()
        } else {
            programme::conflicts(sms, audit)
        },
        clauses: audit.clauses.iter().map(|c| clause_line(sms, c)).collect(),
        processes: audit
            .processes
            .iter()
            .map(|p| process_name(sms, p))
            .collect(),
        services: audit
            .services
            .iter()
            .map(|s| service_name(sms, s))
            .collect(),
        sites: audit.sites.clone(),
        objectives: audit.objectives.clone(),
        criteria: audit.criteria.clone(),
        method: audit.method.clone(),
        samples: audit.samples.iter().map(sample_report).collect(),
        checklist: audit
            .checklist
            .iter()
            .map(|q| QuestionReport {
                question: q.question.clone(),
                clause: q
                    .clause
                    .as_deref()
                    .map(|c| clause_line(sms, c))
                    .unwrap_or_default(),
                result: q.result.map_or("Not asked", ItemResult::label).to_owned(),
                note: q.note.clone().unwrap_or_default(),
            })
            .collect(),
        findings,
        counts: [
            count(Grade::Major),
            count(Grade::Minor),
            count(Grade::Observation),
        ],
        conclusion: audit.conclusion.clone(),
        document: audit.report.clone(),
    })
}

/// Text ending in one full stop.
fn sentence(text: &str) -> String {
    format!("{}.", text.trim_end().trim_end_matches('.'))
}

const NOT_RECORDED: &str = "<em class=\"missing\">Not recorded.</em>";

fn text_or_missing(t: &Option<String>) -> String {
    match t {
        Some(t) if !t.trim().is_empty() => escape(t.trim()),
        _ => NOT_RECORDED.to_owned(),
    }
}

fn list_or_missing(items: &[String]) -> String {
    if items.is_empty() {
        return NOT_RECORDED.to_owned();
    }
    let lis: String = items
        .iter()
        .map(|i| format!("<li>{}</li>", escape(i)))
        .collect();
    format!("<ul>{lis}</ul>")
}

/// The report as one self-contained HTML page.
pub fn html(r: &AuditReport) -> String {
    let mut h = String::new();
    let title = format!("{}: {}", r.id, r.title);
    h.push_str(&format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>Audit report {}</title><style>{CSS}</style></head><body><main>",
        escape(&title)
    ));
    h.push_str(&format!(
        "<h1>Audit report</h1><p class=\"lead\">{}</p><p class=\"meta\">{} · {} · {}{} · \
         ISO/IEC 20000-1:{} · iso20k {}</p>",
        escape(&title),
        escape(&r.organisation),
        r.kind,
        r.status,
        r.body
            .as_deref()
            .map(|b| format!(" · {}", escape(b)))
            .unwrap_or_default(),
        r.edition,
        r.version
    ));
    let [major, minor, obs] = r.counts;
    h.push_str(&format!(
        "<p class=\"summary\"><span class=\"tag major\">{major} major</span> \
         <span class=\"tag minor\">{minor} minor</span> \
         <span class=\"tag observation\">{obs} observation{}</span></p>",
        if obs == 1 { "" } else { "s" }
    ));

    h.push_str("<h2>1. Objectives</h2>");
    h.push_str(&format!("<p>{}</p>", text_or_missing(&r.objectives)));
    h.push_str("<h2>2. Scope</h2><dl>");
    for (label, items) in [
        ("Clauses", &r.clauses),
        ("Processes", &r.processes),
        ("Services", &r.services),
        ("Sites", &r.sites),
    ] {
        h.push_str(&format!(
            "<dt>{label}</dt><dd>{}</dd>",
            list_or_missing(items)
        ));
    }
    h.push_str("</dl><h2>3. Criteria</h2>");
    h.push_str(&format!("<p>{}</p>", text_or_missing(&r.criteria)));
    h.push_str("<h2>4. Team and dates</h2><dl>");
    h.push_str(&format!(
        "<dt>Lead auditor</dt><dd>{}</dd><dt>Team</dt><dd>{}</dd>",
        text_or_missing(&r.auditor),
        if r.team.is_empty() {
            "No one else.".to_owned()
        } else {
            escape(&r.team.join(", "))
        }
    ));
    for (label, value) in &r.dates {
        h.push_str(&format!(
            "<dt>{}</dt><dd>{}</dd>",
            escape(label),
            escape(value)
        ));
    }
    h.push_str("<dt>Independence</dt><dd>");
    if r.independence.is_empty() {
        h.push_str("No one on the team audits a process they own or run.");
    } else {
        h.push_str(&list_or_missing(&r.independence));
    }
    h.push_str("</dd></dl><h2>5. Method</h2>");
    h.push_str(&format!("<p>{}</p>", text_or_missing(&r.method)));

    h.push_str("<h2>6. Samples</h2>");
    if r.samples.is_empty() {
        h.push_str("<p>No sample was drawn.</p>");
    }
    for s in &r.samples {
        h.push_str(&format!(
            "<section class=\"sample\"><h3>{}: {}</h3><p>Population: {} records. {}</p>\
             <p><strong>{}</strong>{}</p><table><thead><tr><th>#</th><th>Record</th>\
             <th>Result</th><th>Note</th></tr></thead><tbody>",
            escape(&s.id),
            escape(&s.population),
            s.population_size,
            escape(&sentence(&s.method)),
            escape(&s.tally),
            s.finding
                .as_deref()
                .map(|f| format!(" Reported as finding {}.", escape(f)))
                .unwrap_or_default()
        ));
        for (i, (id, result, note)) in s.items.iter().enumerate() {
            h.push_str(&format!(
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                i + 1,
                escape(id),
                escape(result),
                escape(note)
            ));
        }
        h.push_str("</tbody></table></section>");
    }

    if !r.checklist.is_empty() {
        h.push_str(
            "<h2>7. Checklist</h2><table><thead><tr><th>Question</th><th>Clause</th>\
                    <th>Result</th><th>Note</th></tr></thead><tbody>",
        );
        for q in &r.checklist {
            h.push_str(&format!(
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                escape(&q.question),
                escape(&q.clause),
                escape(&q.result),
                escape(&q.note)
            ));
        }
        h.push_str("</tbody></table>");
    }

    let n = if r.checklist.is_empty() { 7 } else { 8 };
    h.push_str(&format!("<h2>{n}. Findings</h2>"));
    if r.findings.is_empty() {
        h.push_str("<p>No finding was recorded.</p>");
    }
    for f in &r.findings {
        h.push_str(&format!(
            "<section class=\"finding\"><h3><span class=\"tag {}\">{}</span> {}</h3><p>{}</p><dl>",
            f.grade.to_lowercase(),
            f.grade,
            escape(&f.id),
            escape(&f.statement)
        ));
        let rows = [
            ("Clause", f.clause.clone()),
            ("Process", f.process.clone()),
            ("Sample", f.sample.clone()),
            ("Nonconformity", f.nonconformity.clone()),
            ("Status", Some(f.status.clone())),
        ];
        for (label, value) in rows {
            if let Some(v) = value {
                h.push_str(&format!("<dt>{label}</dt><dd>{}</dd>", escape(&v)));
            }
        }
        h.push_str(&format!(
            "<dt>Objective evidence</dt><dd>{}</dd></dl></section>",
            if f.evidence.is_empty() {
                NOT_RECORDED.to_owned()
            } else {
                escape(&f.evidence.join(", "))
            }
        ));
    }
    h.push_str(&format!("<h2>{}. Conclusion</h2>", n + 1));
    h.push_str(&format!("<p>{}</p>", text_or_missing(&r.conclusion)));
    if let Some(d) = &r.document {
        h.push_str(&format!(
            "<p class=\"meta\">Filed in the document register as {}.</p>",
            escape(d)
        ));
    }
    h.push_str("</main></body></html>\n");
    h
}

const CSS: &str = "body{font:15px/1.5 system-ui,sans-serif;color:#18181b;margin:0;background:#fafafa}\
main{max-width:52rem;margin:0 auto;padding:2rem 1.25rem;background:#fff}\
h1{margin:0;font-size:1.8rem}h2{border-bottom:2px solid #e4e4e7;padding-bottom:.2rem;margin-top:2rem}\
h3{font-size:1.05rem}.lead{font-size:1.2rem;margin:.2rem 0}.meta{color:#52525b;font-size:.9rem}\
dl{display:grid;grid-template-columns:11rem 1fr;gap:.3rem 1rem}dt{font-weight:600}dd{margin:0}\
dd ul{margin:0;padding-left:1.1rem}table{border-collapse:collapse;width:100%;font-size:.92rem}\
th,td{text-align:left;border-bottom:1px solid #e4e4e7;padding:.3rem .4rem;vertical-align:top}\
th{background:#f4f4f5}.tag{display:inline-block;border-radius:3px;padding:0 .35rem;font-size:.85rem;font-weight:700}\
.major{background:#fee2e2;color:#7f1d1d}.minor{background:#fef3c7;color:#713f12}\
.observation{background:#e0f2fe;color:#0c4a6e}.missing{color:#9a3412}\
@media(max-width:40rem){dl{grid-template-columns:1fr}dt{margin-top:.4rem}}";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_parts_say_so_and_text_is_escaped() {
        let mut sms = Sms::default();
        sms.organisation.name = "A & B".into();
        sms.audits.push(InternalAudit {
            id: "IA-1".into(),
            title: "<script>".into(),
            ..Default::default()
        });
        let r = data(&sms, "IA-1").unwrap();
        let page = html(&r);
        assert!(page.contains("A &amp; B") && page.contains("&lt;script&gt;"));
        assert!(!page.contains("<script>"));
        assert_eq!(page.matches("Not recorded.").count(), 9, "{page}");
        assert!(
            data(&sms, "IA-9")
                .unwrap_err()
                .contains("the audits are IA-1")
        );
    }
}
