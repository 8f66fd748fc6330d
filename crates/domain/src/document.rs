//! Documents (văn bản) that set, revise and report figures: resolutions,
//! action programmes, reports, plans.

use crate::org_unit::OrgUnitCode;
use crate::text::Text;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use std::fmt;
use uuid::Uuid;

/// Identity of a registered document. Many documents carry no number (three
/// of the four seeds), so identity is a UUID and the number is an attribute.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct DocumentId(pub Uuid);

impl fmt::Display for DocumentId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// Why a document number was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DocumentNumberError {
    /// Not of the form `<number>-<KIND>/<BODY>`.
    #[error("document number must look like `38-CTr/HU` or `101-NQ/TU`, got `{0}`")]
    Invalid(String),
}

/// A document number such as `38-CTr/HU` (number, kind abbreviation, issuing
/// body abbreviation) or `15/2024/NQ-HĐND`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct DocumentNumber(String);

impl DocumentNumber {
    /// Parses a number: it must start with digits and contain a `/`.
    pub fn parse(raw: &str) -> Result<Self, DocumentNumberError> {
        let text = Text::parse_with_limit(raw, 64)
            .map_err(|_| DocumentNumberError::Invalid(raw.to_owned()))?;
        let s = text.as_str();
        let starts_with_digit = s.chars().next().is_some_and(|c| c.is_ascii_digit());
        let ok = starts_with_digit
            && s.contains('/')
            && !s.chars().any(char::is_whitespace)
            && !s.ends_with('/');
        if ok {
            Ok(DocumentNumber(s.to_owned()))
        } else {
            Err(DocumentNumberError::Invalid(raw.to_owned()))
        }
    }

    /// The number as written.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for DocumentNumber {
    type Error = DocumentNumberError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        DocumentNumber::parse(&value)
    }
}

impl From<DocumentNumber> for String {
    fn from(value: DocumentNumber) -> Self {
        value.0
    }
}

/// Kind of document.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DocumentKind {
    /// Nghị quyết (NQ): sets targets.
    Resolution,
    /// Chương trình hành động / công tác (CTr): implements a resolution.
    ActionProgramme,
    /// Kế hoạch (KH).
    Plan,
    /// Báo cáo (BC): reports results.
    Report,
    /// Quyết định (QĐ).
    Decision,
    /// Công văn, thông báo and anything else.
    Other,
}

/// A registered document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Document {
    /// Identity.
    pub id: DocumentId,
    /// Number, where the document has one.
    pub number: Option<DocumentNumber>,
    /// Kind.
    pub kind: DocumentKind,
    /// Issuing body as written, e.g. "Ban Thường vụ Huyện ủy Cần Đước".
    pub issuing_body: Text,
    /// The org unit whose body issued it, where registered.
    pub org_unit: Option<OrgUnitCode>,
    /// Date of issue, where the document states it.
    pub issued_on: Option<NaiveDate>,
    /// Title as written.
    pub title: Text,
}

impl Document {
    /// Whether a person naming a document as `raw` (its number as written,
    /// or its id) means this one.
    pub fn is_named(&self, raw: &str) -> bool {
        self.id.to_string() == raw || self.number.as_ref().is_some_and(|n| n.as_str() == raw)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_of_the_seeds_parse() {
        assert!(DocumentNumber::parse("38-CTr/HU").is_ok());
        assert!(DocumentNumber::parse("101-NQ/TU").is_ok());
        assert!(DocumentNumber::parse("15/2024/NQ-HĐND").is_ok());
        assert!(DocumentNumber::parse("CTr/HU").is_err());
        assert!(DocumentNumber::parse("38 CTr/HU").is_err());
        assert!(DocumentNumber::parse("38").is_err());
    }
}
