//! Free text that is parsed, not trusted: NFC-normalised, trimmed, non-empty
//! and bounded in length.

use serde::{Deserialize, Serialize};
use std::fmt;
use unicode_normalization::UnicodeNormalization;

/// Longest free text accepted anywhere in the domain, in characters.
pub const MAX_TEXT_CHARS: usize = 4000;

/// Why a piece of text was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TextError {
    /// Blank after trimming.
    #[error("must not be empty")]
    Empty,
    /// Longer than the limit.
    #[error("must be at most {max} characters, got {got}")]
    TooLong {
        /// The limit.
        max: usize,
        /// The length given.
        got: usize,
    },
    /// Contains a control character (other than tab or line break).
    #[error("must not contain control characters")]
    ControlCharacter,
}

/// Non-empty, NFC-normalised, trimmed text (a name, a title, a note).
///
/// Vietnamese text arrives both precomposed and decomposed (some seed passages
/// are NFD); normalising on the way in makes equal words compare equal.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Text(String);

impl Text {
    /// Parses text with the default length limit.
    pub fn parse(raw: &str) -> Result<Self, TextError> {
        Self::parse_with_limit(raw, MAX_TEXT_CHARS)
    }

    /// Parses text, refusing more than `max` characters.
    pub fn parse_with_limit(raw: &str, max: usize) -> Result<Self, TextError> {
        let trimmed = raw.trim();
        // Most text is already NFC (and all text read back from the log is):
        // the quick check spares the allocation and the normalisation.
        let normalised: String = match unicode_normalization::is_nfc_quick(trimmed.chars()) {
            unicode_normalization::IsNormalized::Yes => trimmed.to_owned(),
            _ => trimmed.nfc().collect(),
        };
        if normalised.is_empty() {
            return Err(TextError::Empty);
        }
        if normalised
            .chars()
            .any(|c| c.is_control() && c != '\n' && c != '\t' && c != '\r')
        {
            return Err(TextError::ControlCharacter);
        }
        let got = normalised.chars().count();
        if got > max {
            return Err(TextError::TooLong { max, got });
        }
        Ok(Text(normalised))
    }

    /// The text itself.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Text {
    type Error = TextError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Text::parse(&value)
    }
}

impl From<Text> for String {
    fn from(value: Text) -> Self {
        value.0
    }
}

impl fmt::Display for Text {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A search key for text: lowercase, without Vietnamese diacritics, `đ` as
/// `d`, whitespace collapsed. "Thu ngân sách" and "thu ngan sach" share
/// the key "thu ngan sach".
pub fn search_key(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    let mut space = false;
    for c in raw.nfd() {
        if unicode_normalization::char::is_combining_mark(c) {
            continue;
        }
        let c = match c {
            'đ' | 'Đ' => 'd',
            c => c,
        };
        if c.is_whitespace() {
            space = !out.is_empty();
            continue;
        }
        if space {
            out.push(' ');
            space = false;
        }
        out.extend(c.to_lowercase());
    }
    out
}

/// The reason given for a revision, a correction or a retirement (lý do).
/// Auditors read it, so it may not be blank.
pub type Reason = Text;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decomposed_and_precomposed_vietnamese_compare_equal() {
        let nfd = "Thu nga\u{302}n sa\u{301}ch";
        let nfc = "Thu ngân sách";
        assert_eq!(Text::parse(nfd), Text::parse(nfc));
    }

    #[test]
    fn search_keys_ignore_diacritics_case_and_spacing() {
        assert_eq!(search_key("Thu ngân sách"), "thu ngan sach");
        assert_eq!(search_key("  THU   NGÂN\tSÁCH "), "thu ngan sach");
        assert_eq!(search_key("Đường liên xã"), "duong lien xa");
        assert_eq!(search_key("Thu nga\u{302}n sa\u{301}ch"), "thu ngan sach");
    }

    #[test]
    fn blank_and_control_characters_are_refused() {
        assert_eq!(Text::parse("   "), Err(TextError::Empty));
        assert_eq!(Text::parse("a\u{0}b"), Err(TextError::ControlCharacter));
        assert!(matches!(
            Text::parse_with_limit("abcd", 3),
            Err(TextError::TooLong { max: 3, got: 4 })
        ));
    }
}
