//! Escaping for the markup formats (HTML, SVG, XML): one function, so no writer forgets a case.

/// Escapes text for element content and quoted attribute values of HTML, SVG and XML.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            // XML 1.0 has no place for most control characters, even escaped.
            c if (c as u32) < 0x20 && !matches!(c, '\t' | '\n' | '\r') => out.push(' '),
            // Nor for these two non-characters.
            '\u{FFFE}' | '\u{FFFF}' => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn markup_and_control_characters_are_neutralised() {
        assert_eq!(
            super::escape("<a href=\"x\">Tom & Jerry's</a>\u{7}\u{FFFE}\u{FFFF}"),
            "&lt;a href=&quot;x&quot;&gt;Tom &amp; Jerry&#39;s&lt;/a&gt; \u{FFFD}\u{FFFD}"
        );
    }
}
