//! Search words: what one search of the diarium may ask for. A search is bounded in the
//! number of its words and the length of each, so that no request can make the database
//! build an expression too deep for it or a pattern too complex to match (a thousand words,
//! or one word of 64 KB, once took a worker down).

/// The most words one search may have.
pub const MAX_WORDS: usize = 20;
/// The most characters one word may have.
pub const MAX_WORD_CHARS: usize = 100;

/// The lower-cased words of a search, each of which must occur in what is found.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SearchWords(Vec<String>);

/// Why a search's text was refused. `Display` is the English of the API and the CLI;
/// [`SearchWordsError::swedish`] is the pages'.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SearchWordsError {
    /// More than [`MAX_WORDS`] words.
    #[error("the search has {count} words; at most {MAX_WORDS} are allowed")]
    TooManyWords {
        /// How many there were.
        count: usize,
    },
    /// A word longer than [`MAX_WORD_CHARS`] characters.
    #[error(
        "a search word ({beginning}…) is {chars} characters long; at most {MAX_WORD_CHARS} are allowed"
    )]
    WordTooLong {
        /// The word's first characters, to recognise it by.
        beginning: String,
        /// Its length in characters.
        chars: usize,
    },
}

impl SearchWordsError {
    /// The refusal for a page.
    pub fn swedish(&self) -> String {
        match self {
            Self::TooManyWords { count } => format!(
                "Sökningen har {count} ord; högst {MAX_WORDS} ord går att söka på samtidigt."
            ),
            Self::WordTooLong { beginning, chars } => format!(
                "Ordet ”{beginning}…” har {chars} tecken; ett sökord får ha högst \
                 {MAX_WORD_CHARS} tecken."
            ),
        }
    }
}

impl SearchWords {
    /// The words of `text`, lower-cased (Rust lower-cases å, ä and ö, which SQLite's
    /// `lower()` would not); none when it has none. Counted without collecting, so a huge
    /// text costs no more than one pass.
    pub fn parse(text: &str) -> Result<Option<Self>, SearchWordsError> {
        let count = text.split_whitespace().count();
        if count > MAX_WORDS {
            return Err(SearchWordsError::TooManyWords { count });
        }
        let mut words = Vec::with_capacity(count);
        for word in text.split_whitespace() {
            let chars = word.chars().count();
            if chars > MAX_WORD_CHARS {
                return Err(SearchWordsError::WordTooLong {
                    beginning: word.chars().take(20).collect(),
                    chars,
                });
            }
            words.push(word.to_lowercase());
        }
        Ok((!words.is_empty()).then_some(Self(words)))
    }

    /// The words, lower-cased.
    pub fn words(&self) -> &[String] {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_are_lower_cased_and_blank_text_is_none() {
        let words = SearchWords::parse("  Aktiva  ÅTGÄRDER ").unwrap().unwrap();
        assert_eq!(words.words(), ["aktiva", "åtgärder"]);
        assert_eq!(SearchWords::parse(" \t ").unwrap(), None);
    }

    #[test]
    fn the_bounds_hold_at_their_edges() {
        let at_most = vec!["ord"; MAX_WORDS].join(" ");
        assert!(SearchWords::parse(&at_most).is_ok());
        let one_more = vec!["ord"; MAX_WORDS + 1].join(" ");
        assert_eq!(
            SearchWords::parse(&one_more),
            Err(SearchWordsError::TooManyWords {
                count: MAX_WORDS + 1
            })
        );
        let longest = "å".repeat(MAX_WORD_CHARS);
        assert!(SearchWords::parse(&longest).is_ok());
        let too_long = "å".repeat(MAX_WORD_CHARS + 1);
        assert!(matches!(
            SearchWords::parse(&too_long),
            Err(SearchWordsError::WordTooLong { chars, .. }) if chars == MAX_WORD_CHARS + 1
        ));
    }
}
