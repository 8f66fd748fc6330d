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
    /// Contains an invisible format character (a bidirectional control, a
    /// zero-width character, a soft hyphen …) that would let an audit view
    /// show something other than what is stored.
    #[error("must not contain invisible format characters: {name} (U+{code_point:04X}) at character {position}")]
    InvisibleCharacter {
        /// The character's code point.
        code_point: u32,
        /// Its name.
        name: &'static str,
        /// Its position, from 1, in characters.
        position: usize,
    },
}

/// The Unicode format characters (general category Cf): invisible, and
/// some reorder what is displayed around them. Returns a name for each.
pub fn invisible_format_character(c: char) -> Option<&'static str> {
    Some(match c {
        '\u{00AD}' => "SOFT HYPHEN",
        '\u{061C}' => "ARABIC LETTER MARK",
        '\u{180E}' => "MONGOLIAN VOWEL SEPARATOR",
        '\u{200B}' => "ZERO WIDTH SPACE",
        '\u{200C}' => "ZERO WIDTH NON-JOINER",
        '\u{200D}' => "ZERO WIDTH JOINER",
        '\u{200E}' => "LEFT-TO-RIGHT MARK",
        '\u{200F}' => "RIGHT-TO-LEFT MARK",
        '\u{202A}' => "LEFT-TO-RIGHT EMBEDDING",
        '\u{202B}' => "RIGHT-TO-LEFT EMBEDDING",
        '\u{202C}' => "POP DIRECTIONAL FORMATTING",
        '\u{202D}' => "LEFT-TO-RIGHT OVERRIDE",
        '\u{202E}' => "RIGHT-TO-LEFT OVERRIDE",
        '\u{2060}' => "WORD JOINER",
        '\u{2066}' => "LEFT-TO-RIGHT ISOLATE",
        '\u{2067}' => "RIGHT-TO-LEFT ISOLATE",
        '\u{2068}' => "FIRST STRONG ISOLATE",
        '\u{2069}' => "POP DIRECTIONAL ISOLATE",
        '\u{FEFF}' => "ZERO WIDTH NO-BREAK SPACE",
        '\u{0600}'..='\u{0605}'
        | '\u{06DD}'
        | '\u{070F}'
        | '\u{0890}'..='\u{0891}'
        | '\u{08E2}'
        | '\u{2061}'..='\u{2064}'
        | '\u{206A}'..='\u{206F}'
        | '\u{FFF9}'..='\u{FFFB}'
        | '\u{110BD}'
        | '\u{110CD}'
        | '\u{13430}'..='\u{1343F}'
        | '\u{1BCA0}'..='\u{1BCA3}'
        | '\u{1D173}'..='\u{1D17A}'
        | '\u{E0001}'
        | '\u{E0020}'..='\u{E007F}' => "FORMAT CHARACTER",
        _ => return None,
    })
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

    /// Parses new text (from a request, a file), refusing more than `max`
    /// characters and any invisible format character.
    pub fn parse_with_limit(raw: &str, max: usize) -> Result<Self, TextError> {
        let text = Self::parse_stored(raw, max)?;
        if let Some((position, c, name)) = text
            .0
            .chars()
            .enumerate()
            .find_map(|(i, c)| invisible_format_character(c).map(|n| (i + 1, c, n)))
        {
            return Err(TextError::InvisibleCharacter {
                code_point: u32::from(c),
                name,
                position,
            });
        }
        Ok(text)
    }

    /// Reads text as events stored it. Events written before format
    /// characters were refused still read (the log is never rewritten).
    fn parse_stored(raw: &str, max: usize) -> Result<Self, TextError> {
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
        if normalised.chars().any(is_refused_control) {
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

/// A control character text may not hold (line breaks and tabs it may).
fn is_refused_control(c: char) -> bool {
    c.is_control() && c != '\n' && c != '\t' && c != '\r'
}

impl TryFrom<String> for Text {
    type Error = TextError;
    /// The stored form: what was accepted once is always read back.
    fn try_from(value: String) -> Result<Self, Self::Error> {
        // What the log holds is trimmed and NFC already: then the string
        // is kept as it came, without a copy (a rebuild reads millions).
        let kept_as_is = !value.is_empty()
            && value.trim().len() == value.len()
            && if value.is_ascii() {
                !value.bytes().map(char::from).any(is_refused_control)
            } else {
                unicode_normalization::is_nfc_quick(value.chars())
                    == unicode_normalization::IsNormalized::Yes
                    && !value.chars().any(is_refused_control)
            };
        if kept_as_is {
            return Ok(Text(value));
        }
        Text::parse_stored(&value, usize::MAX)
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
    fn stored_text_reads_back_as_the_slow_path_reads_it() {
        for raw in [
            "Thu ngân sách",
            "Thu nga\u{302}n sa\u{301}ch",
            "  padded  ",
            "plain ascii",
            "tab\tand\nnewline",
            "bell\u{7}",
            "bell\u{7} ư",
            "",
            "   ",
            "\u{200B}zero width space, stored before it was refused",
        ] {
            assert_eq!(
                Text::try_from(raw.to_owned()),
                Text::parse_stored(raw, usize::MAX),
                "{raw:?}"
            );
        }
    }

    #[test]
    fn decomposed_and_precomposed_vietnamese_compare_equal() {
        let nfd = "Thu nga\u{302}n sa\u{301}ch";
        let nfc = "Thu ngân sách";
        assert_eq!(Text::parse(nfd), Text::parse(nfc));
    }

    #[test]
    fn invisible_format_characters_are_refused_naming_the_character_and_where() {
        assert_eq!(
            Text::parse("Xã \u{202E}nầC úhP"),
            Err(TextError::InvisibleCharacter {
                code_point: 0x202E,
                name: "RIGHT-TO-LEFT OVERRIDE",
                position: 4,
            })
        );
        let message = Text::parse("Cần\u{200B}Đước").unwrap_err().to_string();
        assert!(
            message.contains("ZERO WIDTH SPACE (U+200B) at character 4"),
            "{message}"
        );
        for c in ['\u{00AD}', '\u{2066}', '\u{FEFF}', '\u{E0041}', '\u{200D}'] {
            assert!(
                Text::parse(&format!("a{c}b")).is_err(),
                "{:X}",
                u32::from(c)
            );
        }
        // Text stored before the rule still reads back.
        let stored: Result<Text, _> = serde_json::from_str("\"a\\u202Eb\"");
        assert!(stored.is_ok());
        // Vietnamese, with its combining marks, is not format text.
        assert!(Text::parse("Tiểu Cần – Trà Vinh ‰ ≥ “x”").is_ok());
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
