//! Service-report figures as JSON (`iso20k metrics --format json`) and as text.

use std::fmt::Write as _;

use anstyle::Style;
use iso20k_core::metrics::{ChangeFigures, IncidentFigures, Metrics, Slice};
use serde_json::{Value, json};

fn round(x: f64, places: i32) -> f64 {
    let f = 10f64.powi(places);
    (x * f).round() / f
}

fn ratio(r: Option<f64>) -> Value {
    r.map_or(Value::Null, |r| json!(round(r, 4)))
}

fn incidents(i: &IncidentFigures) -> Value {
    json!({
        "count": i.count,
        "closed": i.closed,
        "sla_met_ratio": ratio(i.sla_met_ratio),
        "sla_known": i.sla_known,
        "reopen_rate": ratio(i.reopen_rate),
        "backlog": i.backlog,
        "major": i.major,
        "resolution_hours": i.resolution.iter().map(|r| json!({
            "priority": r.priority,
            "count": r.count,
            "median": round(r.median_hours, 2),
            "p90": round(r.p90_hours, 2),
        })).collect::<Vec<_>>(),
    })
}

fn changes(c: &ChangeFigures) -> Value {
    json!({ "count": c.count, "success_rate": ratio(c.success_rate), "emergency_ratio": ratio(c.emergency_ratio) })
}

fn slice(s: &Slice, key: &str) -> Value {
    json!({ key: s.key, "incidents": incidents(&s.incidents), "changes": changes(&s.changes) })
}

/// The figures as pretty JSON, ending with a newline.
pub fn json(m: &Metrics) -> String {
    let doc = json!({
        "from": m.from.map(|d| d.to_string()),
        "to": m.to.map(|d| d.to_string()),
        "incidents": incidents(&m.incidents),
        "requests": { "count": m.requests.0, "sla_met_ratio": ratio(m.requests.1) },
        "problems": { "count": m.problems.0, "open": m.problems.1 },
        "changes": changes(&m.changes),
        "by_service": m.by_service.iter().map(|s| slice(s, "service")).collect::<Vec<_>>(),
        "by_month": m.by_month.iter().map(|s| slice(s, "month")).collect::<Vec<_>>(),
    });
    let mut out = serde_json::to_string_pretty(&doc).expect("figures always serialize");
    out.push('\n');
    out
}

fn pct(r: Option<f64>) -> String {
    r.map_or("-".into(), |r| format!("{:.1}%", r * 100.0))
}

/// The figures as text tables for a terminal.
pub fn text(m: &Metrics) -> String {
    const BOLD: Style = Style::new().bold();
    let mut out = String::new();
    let period = match (m.from, m.to) {
        (None, None) => "all tickets".to_owned(),
        (f, t) => format!(
            "tickets opened {} to {}",
            f.map_or("the start".into(), |d| d.to_string()),
            t.map_or("now".into(), |d| d.to_string())
        ),
    };
    let i = &m.incidents;
    let _ = writeln!(out, "{BOLD}Service figures: {period}{BOLD:#}");
    let _ = writeln!(
        out,
        "Incidents {}  closed {}  SLA met {} (of {} known)  reopened {}  backlog {}  major {}",
        i.count,
        i.closed,
        pct(i.sla_met_ratio),
        i.sla_known,
        pct(i.reopen_rate),
        i.backlog,
        i.major
    );
    let _ = writeln!(
        out,
        "Requests {}  SLA met {}",
        m.requests.0,
        pct(m.requests.1)
    );
    let _ = writeln!(out, "Problems {}  open {}", m.problems.0, m.problems.1);
    let _ = writeln!(
        out,
        "Changes {}  successful {}  emergency {}",
        m.changes.count,
        pct(m.changes.success_rate),
        pct(m.changes.emergency_ratio)
    );
    let _ = writeln!(
        out,
        "\n{BOLD}Resolution time by priority (hours){BOLD:#}\n  priority   count   median      p90"
    );
    for r in &i.resolution {
        let p = r.priority.map_or("none".to_owned(), |p| p.to_string());
        let _ = writeln!(
            out,
            "  {p:>8} {:>7} {:>8.1} {:>8.1}",
            r.count, r.median_hours, r.p90_hours
        );
    }
    for (title, slices) in [("By service", &m.by_service), ("By month", &m.by_month)] {
        let _ = writeln!(
            out,
            "\n{BOLD}{title}{BOLD:#}\n  {:<24} {:>9} {:>8} {:>8} {:>8} {:>9}",
            "", "incidents", "SLA met", "backlog", "changes", "succeeded"
        );
        for s in slices.iter() {
            let _ = writeln!(
                out,
                "  {:<24} {:>9} {:>8} {:>8} {:>8} {:>9}",
                s.key,
                s.incidents.count,
                pct(s.incidents.sla_met_ratio),
                s.incidents.backlog,
                s.changes.count,
                pct(s.changes.success_rate)
            );
        }
    }
    out
}
