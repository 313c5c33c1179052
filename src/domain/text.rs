//! Text as people type or import it, cleaned at the boundary: control characters and the
//! invisible formatting characters that can make one string display as another never reach
//! the database.

/// Text without control characters (except newline and tab when `multiline`) and without
/// the formatting characters that reorder or hide text: bidi marks, embeddings, overrides and
/// isolates, zero-width spaces, word joiners, the BOM. Zero-width (non-)joiners stay: emoji
/// sequences and Persian or Indic words need them.
pub fn strip_controls(text: &str, multiline: bool) -> String {
    text.chars()
        .filter(|c| !(c.is_control() && !(multiline && matches!(c, '\n' | '\t'))) && !is_invisible_format(*c))
        .collect()
}

fn is_invisible_format(c: char) -> bool {
    matches!(
        c,
        '\u{200B}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2060}'..='\u{2069}' | '\u{FEFF}' | '\u{061C}'
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_stripped() {
        assert_eq!(strip_controls("a\u{0}b\u{202E}c\u{2066}d\re\n\tf", false), "abcdef");
        assert_eq!(strip_controls("line\r\nnext\tcell", true), "line\nnext\tcell");
        assert_eq!(
            strip_controls("Zoë 👨\u{200D}👩\u{200D}👧 東京", false),
            "Zoë 👨\u{200D}👩\u{200D}👧 東京"
        );
    }
}
