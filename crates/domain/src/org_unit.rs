//! Org units (đơn vị hành chính): province > district > commune / town > hamlet.

use crate::text::Text;
use serde::{Deserialize, Serialize};
use std::fmt;

/// Why an org-unit code was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OrgUnitCodeError {
    /// Wrong length or characters.
    #[error("org unit code must be 1-64 characters of A-Z, 0-9, `-`, `_` or `.`, got `{0}`")]
    Invalid(String),
}

/// Stable code of an org unit, such as `LA.CAN-DUOC` (uppercase ASCII).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct OrgUnitCode(String);

impl OrgUnitCode {
    /// Parses a code; lowercase letters are upper-cased.
    pub fn parse(raw: &str) -> Result<Self, OrgUnitCodeError> {
        let code = raw.trim().to_ascii_uppercase();
        let ok = !code.is_empty()
            && code.len() <= 64
            && code
                .bytes()
                .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b"-_.".contains(&b));
        if ok {
            Ok(OrgUnitCode(code))
        } else {
            Err(OrgUnitCodeError::Invalid(raw.to_owned()))
        }
    }

    /// The code itself.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for OrgUnitCode {
    type Error = OrgUnitCodeError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        OrgUnitCode::parse(&value)
    }
}

impl From<OrgUnitCode> for String {
    fn from(value: OrgUnitCode) -> Self {
        value.0
    }
}

impl fmt::Display for OrgUnitCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Administrative level (cấp).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OrgUnitLevel {
    /// Tỉnh, thành phố trực thuộc trung ương.
    Province,
    /// Huyện, thị xã, thành phố thuộc tỉnh (abolished on 1 July 2025).
    District,
    /// Xã.
    Commune,
    /// Thị trấn (a town at commune level).
    Town,
    /// Ấp, khóm.
    Hamlet,
}

impl OrgUnitLevel {
    /// Rank from the top: a parent must rank strictly above its child.
    pub fn rank(self) -> u8 {
        match self {
            OrgUnitLevel::Province => 0,
            OrgUnitLevel::District => 1,
            OrgUnitLevel::Commune | OrgUnitLevel::Town => 2,
            OrgUnitLevel::Hamlet => 3,
        }
    }
}

/// A registered org unit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrgUnit {
    /// Stable code.
    pub code: OrgUnitCode,
    /// Name as written, e.g. "Huyện Cần Đước".
    pub name: Text,
    /// Administrative level.
    pub level: OrgUnitLevel,
    /// The unit it belongs to; `None` only for a province.
    pub parent: Option<OrgUnitCode>,
    /// The day it began, where recorded (a unit made by a reorganisation:
    /// its effective date); before it, the unit did not exist. `None`: it
    /// existed before anything recorded here (v2 of
    /// `org_unit_registered`; left out of the payload when `None`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub established: Option<chrono::NaiveDate>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_normalised_and_checked() {
        assert_eq!(
            OrgUnitCode::parse(" la.can-duoc ").map(|c| c.0),
            Ok("LA.CAN-DUOC".into())
        );
        assert!(OrgUnitCode::parse("").is_err());
        assert!(OrgUnitCode::parse("Cần Đước").is_err());
        assert!(OrgUnitCode::parse(&"A".repeat(65)).is_err());
    }
}
