//! Charts drawn on the server as SVG: no script, no library, and they print as they look.

use std::fmt::Write as _;

use iso20k_core::{Edition, clause};
use iso20k_report::markup::escape as esc;
use iso20k_report::svg::{Bar, colours, describe};
use serde_json::Value;

struct Scored<'a> {
    id: &'a str,
    title: &'a str,
    score: Option<f64>,
    leaf: bool,
}

fn scored(report: &Value) -> Vec<Scored<'_>> {
    report["readiness"]["clauses"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|c| Scored {
            id: c["clause"].as_str().unwrap_or_default(),
            title: c["title"].as_str().unwrap_or_default(),
            score: c["assessed"]
                .as_bool()
                .unwrap_or(false)
                .then(|| c["score"].as_f64())
                .flatten(),
            leaf: c["leaf"].as_bool().unwrap_or(false),
        })
        .collect()
}

const CELL_W: u32 = 52;
const CELL_H: u32 = 30;
const GAP: u32 = 4;
const PER_ROW: u32 = 12;
const LABEL_W: u32 = 44;

/// Every leaf clause of the edition as a cell coloured by its score, a row per main clause;
/// each cell links to its clause page.
pub(crate) fn heatmap(report: &Value, edition: Edition, base: &str, query: &str) -> String {
    let clauses = scored(report);
    let tops: Vec<&clause::Clause> = clause::catalogue(edition)
        .iter()
        .filter(|c| !c.id.contains('.'))
        .collect();
    let mut body = String::new();
    let mut y = 0;
    for top in tops {
        let leaves: Vec<&Scored> = clauses
            .iter()
            .filter(|c| c.leaf && clause::is_within(c.id, top.id))
            .collect();
        if leaves.is_empty() {
            continue;
        }
        let _ = write!(
            body,
            r#"<text x="0" y="{}" class="hm-label">{}</text>"#,
            y + CELL_H / 2 + 5,
            esc(top.id)
        );
        for (i, c) in leaves.iter().enumerate() {
            let i = i as u32;
            let x = LABEL_W + (i % PER_ROW) * (CELL_W + GAP);
            let cy = y + (i / PER_ROW) * (CELL_H + GAP);
            let (fill, ink) = colours(c.score);
            let name = format!("{} {}: {}", c.id, c.title, describe(c.score));
            let _ = write!(
                body,
                r#"<a href="{base}/clauses/{id}{query}" aria-label="{label}"><title>{label}</title><rect x="{x}" y="{cy}" width="{CELL_W}" height="{CELL_H}" rx="3" fill="{fill}"{hatch}/><text x="{tx}" y="{ty}" fill="{ink}" class="hm-cell">{id}</text></a>"#,
                base = esc(base),
                id = esc(c.id),
                query = esc(query),
                label = esc(&name),
                hatch = if c.score.is_none() {
                    r##" stroke="#71717a" stroke-dasharray="3 2""##
                } else {
                    ""
                },
                tx = x + CELL_W / 2,
                ty = cy + CELL_H / 2 + 4,
            );
        }
        let rows = (leaves.len() as u32).div_ceil(PER_ROW);
        y += rows * (CELL_H + GAP) + GAP;
    }
    let width = LABEL_W + PER_ROW * (CELL_W + GAP);
    format!(
        r#"<svg xmlns="http://www.w3.org/2000/svg" class="heatmap" viewBox="0 0 {width} {y}" width="{width}" height="{y}" role="group" aria-label="Score of every clause">{body}</svg>"#
    )
}

/// The main clauses as horizontal bars of their score, each linking to its clause page.
pub(crate) fn clause_bars(report: &Value, edition: Edition, base: &str, query: &str) -> String {
    let bars: Vec<Bar> = scored(report)
        .into_iter()
        .filter(|c| !c.id.contains('.') && clause::find(edition, c.id).is_some())
        .map(|c| Bar {
            label: format!("{} {}", c.id, c.title),
            href: Some(format!("{base}/clauses/{}{query}", c.id)),
            score: c.score,
        })
        .collect();
    iso20k_report::svg::bars(&bars)
}

/// Incident SLA attainment by month as columns, with the share written above each.
pub(crate) fn monthly_attainment(figures: &Value) -> String {
    let months: Vec<(&str, Option<f64>, u64)> = figures["by_month"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|m| {
            (
                m["month"].as_str().unwrap_or_default(),
                m["incidents"]["sla_met_ratio"].as_f64(),
                m["incidents"]["count"].as_u64().unwrap_or(0),
            )
        })
        .collect();
    let col = 46u32;
    let plot_h = 160u32;
    let top = 20u32;
    let left = 36u32;
    let mut body = String::new();
    for pct in [0u32, 50, 100] {
        let y = top + plot_h - pct * plot_h / 100;
        let _ = write!(
            body,
            r##"<line x1="{left}" x2="{x2}" y1="{y}" y2="{y}" stroke="#d4d4d8"/><text x="{tx}" y="{ty}" class="axis">{pct}%</text>"##,
            x2 = left + months.len() as u32 * col,
            tx = left - 6,
            ty = y + 4,
        );
    }
    for (i, (month, ratio, count)) in months.iter().enumerate() {
        let x = left + i as u32 * col + 8;
        let label = match ratio {
            Some(r) => format!(
                "{month}: {:.0}% of {count} incidents met their SLA",
                r * 100.0
            ),
            None => format!("{month}: no incident with a known SLA outcome"),
        };
        let h = ratio.map_or(0.0, |r| r * plot_h as f64);
        let (fill, _) = colours(ratio.map(|r| r * 100.0));
        let _ = write!(
            body,
            r#"<g><title>{label}</title><rect x="{x}" y="{y:.1}" width="{w}" height="{h:.1}" fill="{fill}"/><text x="{cx}" y="{vy:.1}" class="col-value">{value}</text><text x="{cx}" y="{my}" class="col-label">{month}</text></g>"#,
            label = esc(&label),
            y = (top + plot_h) as f64 - h,
            w = col - 16,
            cx = x + (col - 16) / 2,
            vy = (top + plot_h) as f64 - h - 4.0,
            value = ratio.map_or("–".to_owned(), |r| format!("{:.0}%", r * 100.0)),
            my = top + plot_h + 16,
            month = esc(&month[month.len().saturating_sub(5)..]),
        );
    }
    let width = left + months.len().max(1) as u32 * col + 10;
    let height = top + plot_h + 24;
    format!(
        r#"<svg xmlns="http://www.w3.org/2000/svg" class="columns" viewBox="0 0 {width} {height}" width="{width}" height="{height}" role="img" aria-label="Incident SLA attainment by month">{body}</svg>"#
    )
}

/// The overall score day by day as a line, with the first and last values written.
pub(crate) fn trend(days: &[(String, f64)]) -> String {
    let (w, h, left, top) = (600.0_f64, 160.0_f64, 36.0_f64, 12.0_f64);
    let n = days.len().max(2) as f64 - 1.0;
    let point = |i: usize, score: f64| {
        (
            left + i as f64 * (w - left - 10.0) / n,
            top + (100.0 - score.clamp(0.0, 100.0)) * (h - top - 24.0) / 100.0,
        )
    };
    let mut body = String::new();
    for pct in [0u32, 50, 100] {
        let (_, y) = point(0, pct as f64);
        let _ = write!(
            body,
            r##"<line x1="{left}" x2="{x2}" y1="{y:.1}" y2="{y:.1}" stroke="#d4d4d8"/><text x="{tx}" y="{ty:.1}" class="axis">{pct}</text>"##,
            x2 = w - 10.0,
            tx = left - 6.0,
            ty = y + 4.0,
        );
    }
    let path: Vec<String> = days
        .iter()
        .enumerate()
        .map(|(i, (_, s))| {
            let (x, y) = point(i, *s);
            format!("{x:.1},{y:.1}")
        })
        .collect();
    let _ = write!(
        body,
        r##"<polyline points="{}" fill="none" stroke="#1d4ed8" stroke-width="2"/>"##,
        path.join(" ")
    );
    for (i, (day, score)) in days.iter().enumerate() {
        let (x, y) = point(i, *score);
        let _ = write!(
            body,
            r##"<circle cx="{x:.1}" cy="{y:.1}" r="3" fill="#1d4ed8"><title>{}: {score}</title></circle>"##,
            esc(day)
        );
    }
    for (i, anchor) in [(0, "start"), (days.len() - 1, "end")] {
        let (x, _) = point(i, 0.0);
        let _ = write!(
            body,
            r#"<text x="{x:.1}" y="{y}" class="axis" text-anchor="{anchor}">{}</text>"#,
            esc(&days[i].0),
            y = h - 4.0,
        );
    }
    let first = &days[0];
    let last = &days[days.len() - 1];
    format!(
        r#"<svg xmlns="http://www.w3.org/2000/svg" class="trend" viewBox="0 0 {w} {h}" width="{w}" height="{h}" role="img" aria-label="Overall score from {} ({}) to {} ({})">{body}</svg>"#,
        esc(&first.0),
        first.1,
        esc(&last.0),
        last.1
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report() -> Value {
        serde_json::json!({
            "readiness": { "clauses": [
                { "clause": "9", "title": "Performance evaluation", "score": 40.0, "assessed": true, "leaf": false },
                { "clause": "9.3", "title": "Management review", "score": 40.0, "assessed": true, "leaf": true },
                { "clause": "9.2", "title": "Internal audit <&>", "score": 0.0, "assessed": false, "leaf": true }
            ]}
        })
    }

    #[test]
    fn the_heat_map_links_every_leaf_and_says_its_score() {
        let svg = heatmap(&report(), Edition::Y2018, "/orgs/acme", "?edition=2018");
        assert!(
            svg.contains(r#"href="/orgs/acme/clauses/9.3?edition=2018""#),
            "{svg}"
        );
        assert!(svg.contains("9.3 Management review: 40 of 100"), "{svg}");
        assert!(
            svg.contains("9.2 Internal audit &lt;&amp;&gt;: not assessed"),
            "{svg}"
        );
        assert!(!svg.contains("clauses/9\""), "only leaves are cells");
    }

    #[test]
    fn bars_show_main_clauses_only() {
        let svg = clause_bars(&report(), Edition::Y2018, "/orgs/acme", "");
        assert!(svg.contains("9 Performance evaluation: 40 of 100"), "{svg}");
        assert!(!svg.contains("9.3"), "{svg}");
    }

    #[test]
    fn months_become_columns_with_their_share() {
        let figures = serde_json::json!({ "by_month": [
            { "month": "2026-01", "incidents": { "sla_met_ratio": 0.5, "count": 4 } },
            { "month": "2026-02", "incidents": { "sla_met_ratio": null, "count": 0 } }
        ]});
        let svg = monthly_attainment(&figures);
        assert!(
            svg.contains("2026-01: 50% of 4 incidents met their SLA"),
            "{svg}"
        );
        assert!(
            svg.contains("2026-02: no incident with a known SLA outcome"),
            "{svg}"
        );
        assert!(svg.contains(">50%</text>"), "{svg}");
    }

    #[test]
    fn the_trend_names_its_ends() {
        let svg = trend(&[("2026-11-01".into(), 40.0), ("2026-11-20".into(), 62.5)]);
        assert!(
            svg.contains("Overall score from 2026-11-01 (40) to 2026-11-20 (62.5)"),
            "{svg}"
        );
        assert_eq!(svg.matches("<circle").count(), 2);
    }
}
