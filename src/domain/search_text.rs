//! Search text: folding (case and accents) and turning what was typed into safe query terms.

use unicode_normalization::char::is_combining_mark;
use unicode_normalization::UnicodeNormalization;

/// Lower-case, accents removed: "Zoë CAFÉ" → "zoe cafe". Applied to stored text and to
/// queries alike, on both engines.
pub fn fold(text: &str) -> String {
    text.nfd().filter(|c| !is_combining_mark(*c)).flat_map(char::to_lowercase).collect()
}

/// The words of a folded text, split as the indexes split them.
pub fn words(folded: &str) -> impl Iterator<Item = &str> {
    folded.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty())
}

/// What a query becomes: its words (only letters and digits survive, so no query-language
/// syntax can), the last one matched as a prefix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Terms(Vec<String>);

/// Words beyond this many are ignored: enough for any real search, and a bound on the
/// query's cost.
const MAX_TERMS: usize = 8;

impl Terms {
    pub fn parse(query: &str) -> Terms {
        let mut terms: Vec<String> = words(&fold(query)).take(MAX_TERMS).map(str::to_string).collect();
        // A single Latin letter or digit as the prefix being typed matches a large share of
        // any calendar; wait for the second one. (One CJK character is a word of its own.)
        if terms.last().is_some_and(|last| last.len() == 1 && last.is_ascii()) {
            terms.pop();
        }
        Terms(terms)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The normalised form, for cache keys: "  Café   BAR " and "cafe bar" are one search.
    pub fn normalised(&self) -> String {
        self.0.join(" ")
    }

    pub fn all(&self) -> &[String] {
        &self.0
    }

    /// FTS5: every word in the given columns, the last as a prefix. Words are quoted, so
    /// even "AND" or "NEAR" are plain words.
    pub fn fts5(&self, columns: &str) -> String {
        let last = self.0.len().saturating_sub(1);
        let words: Vec<String> = self
            .0
            .iter()
            .enumerate()
            .map(|(i, w)| if i == last { format!("\"{w}\"*") } else { format!("\"{w}\"") })
            .collect();
        format!("{{{columns}}} : ({})", words.join(" AND "))
    }

    /// PostgreSQL `to_tsquery('simple', ..)`: every word, the last as a prefix.
    pub fn tsquery(&self) -> String {
        let last = self.0.len().saturating_sub(1);
        let words: Vec<String> = self
            .0
            .iter()
            .enumerate()
            .map(|(i, w)| if i == last { format!("{w}:*") } else { w.clone() })
            .collect();
        words.join(" & ")
    }

    /// Whether `word` (folded) is one the query asked for.
    fn matches(&self, word: &str) -> bool {
        let last = self.0.len().saturating_sub(1);
        self.0
            .iter()
            .enumerate()
            .any(|(i, term)| if i == last { word.starts_with(term.as_str()) } else { word == term })
    }

    /// `text` cut into plain and matched pieces, for the template to mark up (it escapes
    /// both). Words are compared folded, so "Café" is marked for the query "cafe".
    pub fn highlight(&self, text: &str) -> Vec<Piece> {
        let mut pieces: Vec<Piece> = Vec::new();
        let mut push = |text: &str, hit: bool| match pieces.last_mut() {
            Some(last) if last.hit == hit => last.text.push_str(text),
            _ => pieces.push(Piece { text: text.to_string(), hit }),
        };
        let mut word_start: Option<usize> = None;
        for (index, c) in text.char_indices().chain(std::iter::once((text.len(), ' '))) {
            let in_word = index < text.len() && c.is_alphanumeric();
            match (word_start, in_word) {
                (None, true) => word_start = Some(index),
                (Some(start), false) => {
                    let word = &text[start..index];
                    push(word, self.matches(&fold(word)));
                    word_start = None;
                    if index < text.len() {
                        push(&text[index..index + c.len_utf8()], false);
                    }
                }
                (None, false) if index < text.len() => push(&text[index..index + c.len_utf8()], false),
                _ => {}
            }
        }
        pieces
    }
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Piece {
    pub text: String,
    pub hit: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folding_removes_case_and_accents() {
        assert_eq!(fold("Zoë CAFÉ Ångström"), "zoe cafe angstrom");
    }

    #[test]
    fn hostile_queries_become_plain_words_or_nothing() {
        for hostile in ["\"", "*", "%", "-", "_", "'", "()", "\"*\"", "(^)", "^"] {
            assert!(Terms::parse(hostile).is_empty(), "{hostile}");
        }
        let terms = Terms::parse("AND OR NOT");
        assert_eq!(terms.fts5("title"), "{title} : (\"and\" AND \"or\" AND \"not\"*)");
        assert_eq!(terms.tsquery(), "and & or & not:*");
        assert_eq!(Terms::parse("ab%cd_ef").all(), ["ab", "cd", "ef"]);
        assert!(Terms::parse("p").is_empty(), "one letter waits for the next");
        assert_eq!(Terms::parse("budget p").all(), ["budget"]);
        assert_eq!(Terms::parse("東").all(), ["東"]);
    }

    #[test]
    fn highlighting_marks_whole_words_folded() {
        let terms = Terms::parse("cafe me");
        let pieces = terms.highlight("Café <b>meeting</b> & cafés");
        let marked: Vec<&str> = pieces.iter().filter(|p| p.hit).map(|p| p.text.as_str()).collect();
        assert_eq!(marked, ["Café", "meeting"]);
        let joined: String = pieces.iter().map(|p| p.text.as_str()).collect();
        assert_eq!(joined, "Café <b>meeting</b> & cafés");
    }
}
