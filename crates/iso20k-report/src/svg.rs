//! Charts as SVG, for the HTML report and the server's pages: no script, no library, and they
//! print as they look.

use std::fmt::Write as _;

use crate::markup::escape;

/// Fill and text colour for a score: dark text on light fills and white on dark ones, so every
/// label keeps a contrast of at least 4.5:1.
pub fn colours(score: Option<f64>) -> (&'static str, &'static str) {
    match score {
        None => ("#e4e4e7", "#27272a"),
        Some(s) if s >= 90.0 => ("#166534", "#ffffff"),
        Some(s) if s >= 75.0 => ("#86efac", "#14532d"),
        Some(s) if s >= 50.0 => ("#fcd34d", "#422006"),
        Some(_) => ("#b91c1c", "#ffffff"),
    }
}

/// A score in words, for labels and screen readers.
pub fn describe(score: Option<f64>) -> String {
    match score {
        None => "not assessed".to_owned(),
        Some(s) => format!("{s:.0} of 100"),
    }
}

/// One bar: what it is, where it links to, and its score (`None`: not assessed).
pub struct Bar {
    /// What the bar measures, e.g. "9 Performance evaluation".
    pub label: String,
    /// Where the bar links to, if anywhere.
    pub href: Option<String>,
    /// The score out of 100; `None` when nothing assessed it.
    pub score: Option<f64>,
}

/// Horizontal bars of scores out of 100, labelled with their values.
pub fn bars(items: &[Bar]) -> String {
    let row = 26;
    let label_w = 380;
    let bar_w = 320;
    let mut body = String::new();
    for (i, b) in items.iter().enumerate() {
        let y = i as u32 * row;
        let (fill, _) = colours(b.score);
        let width = b.score.map_or(0.0, |s| s / 100.0 * bar_w as f64);
        let label = escape(&b.label);
        let value = escape(&describe(b.score));
        let bar = format!(
            r##"<title>{label}: {value}</title><text x="0" y="{ty}" class="bar-label">{label}</text><rect x="{label_w}" y="{ry}" width="{bar_w}" height="16" fill="#f4f4f5"/><rect x="{label_w}" y="{ry}" width="{width:.1}" height="16" fill="{fill}"/><text x="{vx}" y="{ty}" class="bar-value">{value}</text>"##,
            ty = y + 15,
            ry = y + 3,
            vx = label_w + bar_w + 8,
        );
        let _ = match &b.href {
            Some(href) => write!(body, r#"<a href="{}">{bar}</a>"#, escape(href)),
            None => write!(body, "<g>{bar}</g>"),
        };
    }
    let height = items.len() as u32 * row;
    let width = label_w + bar_w + 110;
    format!(
        r#"<svg xmlns="http://www.w3.org/2000/svg" class="bars" viewBox="0 0 {width} {height}" width="{width}" height="{height}" role="group" aria-label="Score by main clause">{body}</svg>"#
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bars_say_their_value_and_link_when_asked() {
        let svg = bars(&[
            Bar {
                label: "9 Performance <evaluation>".into(),
                href: Some("/x?a=1&b=2".into()),
                score: Some(40.0),
            },
            Bar {
                label: "10 Improvement".into(),
                href: None,
                score: None,
            },
        ]);
        assert!(svg.contains("<title>9 Performance &lt;evaluation&gt;: 40 of 100</title>"));
        assert!(svg.contains(r#"href="/x?a=1&amp;b=2""#));
        assert!(svg.contains("10 Improvement: not assessed"));
    }

    #[test]
    fn colours_keep_their_contrast_bands() {
        assert_eq!(colours(Some(95.0)).1, "#ffffff");
        assert_eq!(colours(Some(10.0)).0, "#b91c1c");
        assert_eq!(colours(None).0, "#e4e4e7");
    }
}
