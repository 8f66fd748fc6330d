//! [`Vietnamese`]: the wording in Vietnamese of every error the domain
//! gives, beside the English of its `Display`. The API answers in
//! Vietnamese unless a client asks for English (`Accept-Language`); the
//! codes stay the same in both. A test (below) holds every variant to a
//! wording of its own, without English left in it.

use crate::actual::ResultValueError;
use crate::document::DocumentNumberError;
use crate::error::DomainError;
use crate::indicator::{Measure, PeriodError};
use crate::number::NumberError;
use crate::org_unit::{OrgUnitCodeError, OrgUnitLevel};
use crate::period::{PeriodStatus, ReportingPeriodError};
use crate::principal::{AccessError, Permission, PrincipalIdError, TokenLifetimeError};
use crate::target::{TargetError, TargetTrack};
use crate::text::TextError;

/// An error's message in Vietnamese.
pub trait Vietnamese {
    /// The message, in Vietnamese.
    fn vi(&self) -> String;
}

fn level(level: OrgUnitLevel) -> &'static str {
    match level {
        OrgUnitLevel::Province => "tỉnh",
        OrgUnitLevel::District => "huyện",
        OrgUnitLevel::Commune => "xã",
        OrgUnitLevel::Town => "thị trấn",
        OrgUnitLevel::Hamlet => "ấp, khóm",
    }
}

fn track(track: TargetTrack) -> &'static str {
    match track {
        TargetTrack::Assigned => "chỉ tiêu trên giao",
        TargetTrack::Resolution => "chỉ tiêu nghị quyết",
        TargetTrack::Stretch => "chỉ tiêu phấn đấu",
    }
}

fn measure(measure: Measure) -> &'static str {
    match measure {
        Measure::Amount => "đo bằng số lượng",
        Measure::Percentage => "đo bằng tỷ lệ %",
        Measure::PerMille => "đo bằng tỷ lệ ‰",
        Measure::Ratio => "đo bằng tỷ số (tử số/mẫu số)",
        Measure::Milestone => "đo bằng mốc hoàn thành",
    }
}

fn status(status: PeriodStatus) -> &'static str {
    match status {
        PeriodStatus::Open => "đang mở",
        PeriodStatus::Submitted => "đã trình duyệt",
        PeriodStatus::Approved => "đã được phê duyệt",
        PeriodStatus::Locked => "đã khóa sổ",
    }
}

/// The period lifecycle's action and required status words, as
/// `crate::decide` names them.
fn phrase(words: &str) -> &str {
    match words {
        "submitting" => "trình duyệt",
        "approving" => "phê duyệt",
        "locking" => "khóa sổ",
        "unlocking" => "mở khóa",
        "open" => "đang mở",
        "submitted" => "đã trình duyệt",
        "approved" => "đã được phê duyệt",
        "approved or locked" => "đã được phê duyệt hoặc đã khóa sổ",
        other => other,
    }
}

fn permission(permission: Permission) -> &'static str {
    match permission {
        Permission::ReadCurrent => "xem số liệu hiện hành",
        Permission::ReadAudit => "xem lịch sử, nhật ký kiểm tra và sổ cái",
        Permission::ManagePrincipals => "quản lý người dùng, quyền và mã truy cập",
        Permission::ManageOrgUnits => "quản lý đơn vị",
        Permission::Plan => "lập văn bản, chỉ tiêu",
        Permission::Report => "báo cáo kết quả",
        Permission::Approve => "phê duyệt, khóa và mở khóa kỳ báo cáo",
    }
}

impl Vietnamese for DomainError {
    fn vi(&self) -> String {
        use DomainError as E;
        match self {
            E::OrgUnitAlreadyRegistered(c) => format!("đơn vị {c} đã được đăng ký"),
            E::UnknownOrgUnit(c) => format!("đơn vị {c} chưa được đăng ký"),
            E::ParentLevelNotAbove { parent, child } => format!(
                "một đơn vị cấp {} không thể trực thuộc một đơn vị cấp {}",
                level(*child),
                level(*parent)
            ),
            E::ParentRequired(l) => {
                format!("một đơn vị cấp {} phải trực thuộc một đơn vị cấp trên", level(*l))
            }
            E::OrgUnitAlreadySucceeded(c) => format!("đơn vị {c} đã có đơn vị kế thừa"),
            E::MoveUnderItself(c) => {
                format!("không thể chuyển đơn vị {c} về trực thuộc chính nó hoặc một đơn vị cấp dưới của nó")
            }
            E::MoveOutOfOrder(d) => format!(
                "việc chuyển đơn vị phải có hiệu lực sau lần chuyển trước, ngày {}",
                d.format("%d/%m/%Y")
            ),
            E::InvalidSuccessors => {
                "việc kế thừa phải nêu ít nhất một đơn vị khác đã được đăng ký".into()
            }
            E::DocumentAlreadyRegistered(d) => format!("văn bản {d} đã được đăng ký"),
            E::UnknownDocument(d) => format!("văn bản {d} chưa được đăng ký"),
            E::IndicatorAlreadyDefined(i) => format!("chỉ tiêu {i} đã được xác lập"),
            E::UnknownIndicator(i) => format!("chỉ tiêu {i} không tồn tại"),
            E::FiguresNotLoaded(i) => {
                format!("số liệu của chỉ tiêu {i} chưa được nạp cho quyết định này")
            }
            E::IndicatorRetired(i) => format!("chỉ tiêu {i} đã ngừng theo dõi"),
            E::DirectionUnchanged(b) => format!(
                "chỉ tiêu đã được đánh giá theo hướng {} là tốt",
                match b {
                    crate::direction::Better::Higher => "cao hơn",
                    crate::direction::Better::Lower => "thấp hơn",
                    crate::direction::Better::Within => "nằm trong khoảng",
                }
            ),
            E::ParentIndicatorMismatch(i) => format!(
                "chỉ tiêu cha {i} phải cùng kỳ và thuộc cùng đơn vị hoặc một đơn vị cấp trên"
            ),
            E::PreviousPeriodMismatch {
                previous,
                previous_period,
                period,
            } => format!(
                "chỉ tiêu {previous} của kỳ {previous_period} không đứng trước kỳ {period}"
            ),
            E::InvalidTarget(e) => format!("chỉ tiêu không hợp lệ: {}", e.vi()),
            E::ComparedPeriodNotEarlier { compared, period } => format!(
                "chỉ tiêu so với kỳ {compared} phải so với một kỳ trước kỳ {period}"
            ),
            E::TargetAlreadySet(t) => format!(
                "{} đã có; muốn thay đổi, hãy điều chỉnh kèm lý do và văn bản",
                capitalised(track(*t))
            ),
            E::NoTargetOnTrack(t) => format!("chưa có {} để điều chỉnh", track(*t)),
            E::ReasonRequired => "cần nêu lý do".into(),
            E::RestatementNeedsWording => {
                "nêu lại chỉ tiêu phải kèm nguyên văn câu chữ trong văn bản".into()
            }
            E::RevisionNeedsNewDocument(d) => format!(
                "việc điều chỉnh phải dẫn văn bản cho phép điều chỉnh, không phải văn bản {d} đã đặt chỉ tiêu hiện hành"
            ),
            E::NoChange => "không có gì thay đổi: giá trị mới bằng giá trị hiện hành".into(),
            E::InvalidResult(e) => format!("kết quả không hợp lệ: {}", e.vi()),
            E::ReportAlreadyExists(r) => format!("báo cáo {r} đã tồn tại"),
            E::UnknownReport(r) => format!("báo cáo {r} không có trong chỉ tiêu này"),
            E::ReportAlreadyReplaced { report, by } => {
                format!("báo cáo {report} đã được thay thế bởi báo cáo {by}")
            }
            E::PrincipalAlreadyExists(p) => format!("người dùng {p} đã tồn tại"),
            E::UnknownPrincipal(p) => format!("người dùng {p} không tồn tại"),
            E::PrincipalDisabled(p) => format!("người dùng {p} đã bị vô hiệu hóa"),
            E::GrantAlreadyHeld(p) => format!("{p} đã có quyền này"),
            E::GrantNotHeld(p) => format!("{p} không có quyền này"),
            E::TokenAlreadyIssued(t) => format!("mã truy cập {} đã được cấp trước đó", t.0),
            E::UnknownToken(t) => format!("mã truy cập {} không được cấp cho người dùng này", t.0),
            E::TokenAlreadyRevoked(t) => format!("mã truy cập {} đã bị thu hồi", t.0),
            E::InvalidDigest => "mã băm của mã truy cập phải gồm 64 chữ số thập lục phân viết thường".into(),
            E::SupersedesFinal(r) => format!(
                "báo cáo {r} là số liệu chính thức: thay thế nó phải nêu lý do (hoặc đính chính bằng correctActual kèm lý do)"
            ),
            E::FinalAlreadyReported { existing, refers_to } => format!(
                "đã có số liệu chính thức ({existing}) cho ngày {}: muốn thay thế, gửi `supersedes: \"{existing}\"` kèm lý do, hoặc đính chính bằng correctActual",
                refers_to.format("%d/%m/%Y")
            ),
            E::FinalNeedsSourceOrReason => {
                "số liệu chính thức phải dẫn văn bản nguồn (`source`) hoặc nêu lý do".into()
            }
            E::PeriodLocked { unit, period, status: s } => format!(
                "kỳ {period} của {unit} {}: phải mở khóa (người phê duyệt, kèm lý do và văn bản) trước khi thay đổi số liệu",
                status(*s)
            ),
            E::PeriodTransition {
                unit,
                period,
                status: s,
                action,
                needs,
            } => format!(
                "kỳ {period} của {unit} {}; muốn {}, kỳ phải ở trạng thái {}",
                status(*s),
                phrase(action),
                phrase(needs)
            ),
            E::ApprovalDigestMismatch { expected, actual } => format!(
                "số liệu đã thay đổi kể từ khi được xem xét: mã băm hiện là {actual}, không phải {expected}"
            ),
            E::ApprovalAlreadyExists(a) => format!("phê duyệt {a} đã tồn tại"),
            E::DocumentRequired => "cần nêu văn bản".into(),
        }
    }
}

fn capitalised(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

impl Vietnamese for TargetError {
    fn vi(&self) -> String {
        match self {
            TargetError::InvertedRange { low, high } => {
                format!("cận dưới {low} của khoảng lớn hơn cận trên {high}")
            }
            TargetError::OutOfRange {
                value,
                max,
                measure: m,
            } => format!(
                "{value} nằm ngoài khoảng 0..{max} của một chỉ tiêu {}",
                measure(*m)
            ),
            TargetError::Negative { what, value } => {
                format!("{what} không được âm, nhận được {value}")
            }
            TargetError::NonPositiveBase(b) => {
                format!("giá trị gốc để tính tăng trưởng phải dương, nhận được {b}")
            }
            TargetError::KindDoesNotFitMeasure { kind, measure: m } => format!(
                "chỉ tiêu dạng {kind} không phù hợp với một chỉ tiêu {}",
                measure(*m)
            ),
        }
    }
}

impl Vietnamese for ResultValueError {
    fn vi(&self) -> String {
        match self {
            ResultValueError::NonPositiveDenominator(d) => {
                format!("mẫu số phải dương, nhận được {d}")
            }
            ResultValueError::NegativeNumerator(n) => {
                format!("tử số không được âm, nhận được {n}")
            }
            ResultValueError::DoesNotFitMeasure { value, measure: m } => format!(
                "kết quả dạng {value} không phù hợp với một chỉ tiêu {}",
                measure(*m)
            ),
            ResultValueError::NegativePercentOfPlan(p) => {
                format!("tỷ lệ đạt so kế hoạch ghi trong văn bản không được âm, nhận được {p}")
            }
            ResultValueError::ChangeAtOrBelowMinus100(c) => {
                format!("mức tăng/giảm so cùng kỳ phải lớn hơn -100%, nhận được {c}")
            }
            ResultValueError::EmptyStatedFigures => {
                "số liệu ghi kèm phải có ít nhất một con số (nếu không có thì bỏ trống)".into()
            }
        }
    }
}

impl Vietnamese for TextError {
    fn vi(&self) -> String {
        match self {
            TextError::Empty => "không được để trống".into(),
            TextError::TooLong { max, got } => {
                format!("dài tối đa {max} ký tự, nhận được {got}")
            }
            TextError::ControlCharacter => "không được chứa ký tự điều khiển".into(),
            TextError::InvisibleCharacter {
                code_point,
                name,
                position,
            } => format!(
                "không được chứa ký tự định dạng vô hình: {name} (U+{code_point:04X}) ở ký tự thứ {position}"
            ),
        }
    }
}

impl Vietnamese for NumberError {
    fn vi(&self) -> String {
        match self {
            NumberError::Invalid(s) => format!("`{s}` không phải là một số thập phân"),
            NumberError::TooPrecise(s) => format!(
                "`{s}` có nhiều chữ số hơn mức có thể lưu chính xác (tối đa 28 chữ số thập phân và 28 chữ số có nghĩa)"
            ),
        }
    }
}

impl Vietnamese for TokenLifetimeError {
    fn vi(&self) -> String {
        match self {
            TokenLifetimeError::Zero => {
                "mã truy cập phải có hiệu lực ít nhất 1 ngày (expiresInDays: 0 sẽ cấp một mã đã hết hạn)".into()
            }
            TokenLifetimeError::TooLong(days) => format!(
                "mã truy cập có hiệu lực tối đa {} ngày, không phải {days}",
                crate::principal::MAX_TOKEN_DAYS
            ),
        }
    }
}

impl Vietnamese for AccessError {
    fn vi(&self) -> String {
        match self {
            AccessError::InvalidToken => "mã truy cập không hợp lệ".into(),
            AccessError::Forbidden {
                principal,
                permission: p,
                scope,
            } => format!("{principal} không có quyền {} tại {scope}", permission(*p)),
        }
    }
}

impl Vietnamese for DocumentNumberError {
    fn vi(&self) -> String {
        let DocumentNumberError::Invalid(s) = self;
        format!("số văn bản phải có dạng `38-CTr/HU` hoặc `101-NQ/TU`, nhận được `{s}`")
    }
}

impl Vietnamese for PeriodError {
    fn vi(&self) -> String {
        let PeriodError::Invalid(s) = self;
        format!(
            "kỳ phải là một năm `2024`, một nhiệm kỳ `2020-2025`, một năm học `2022-2023` hoặc một hạn `by 2025`, nhận được `{s}`"
        )
    }
}

impl Vietnamese for ReportingPeriodError {
    fn vi(&self) -> String {
        let ReportingPeriodError::Invalid(s) = self;
        format!(
            "kỳ báo cáo là một năm `2022`, sáu tháng `2022-H1`, một quý `2022-Q3` hoặc một nhiệm kỳ `2020-2025`, nhận được `{s}`"
        )
    }
}

impl Vietnamese for OrgUnitCodeError {
    fn vi(&self) -> String {
        let OrgUnitCodeError::Invalid(s) = self;
        format!("mã đơn vị gồm 1-64 ký tự A-Z, 0-9, `-`, `_` hoặc `.`, nhận được `{s}`")
    }
}

impl Vietnamese for PrincipalIdError {
    fn vi(&self) -> String {
        let PrincipalIdError::Invalid(s) = self;
        format!("mã người dùng gồm 1-64 ký tự a-z, 0-9, `.`, `_` hoặc `-`, nhận được `{s}`")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::org_unit::OrgUnitCode;

    /// Words that mark an English sentence left in a Vietnamese message.
    const ENGLISH: &[&str] = &[
        " the ",
        " is ",
        " must ",
        " not ",
        " already ",
        " has ",
        " got ",
    ];

    fn vietnamese(message: &str) {
        let padded = format!(" {message} ");
        for word in ENGLISH {
            assert!(!padded.contains(word), "English `{word}` in: {message}");
        }
    }

    #[test]
    fn every_domain_error_has_vietnamese_words_of_its_own() {
        let unit = OrgUnitCode::parse("LA.CAN-DUOC").unwrap_or_else(|e| panic!("{e}"));
        let errors = [
            DomainError::UnknownOrgUnit(unit.clone()),
            DomainError::ParentRequired(OrgUnitLevel::Commune),
            DomainError::ReasonRequired,
            DomainError::NoChange,
            DomainError::TargetAlreadySet(TargetTrack::Resolution),
            DomainError::InvalidTarget(TargetError::NonPositiveBase(rust_decimal::Decimal::ZERO)),
            DomainError::PeriodLocked {
                unit: unit.clone(),
                period: crate::period::ReportingPeriod::parse("2022")
                    .unwrap_or_else(|e| panic!("{e}")),
                status: PeriodStatus::Locked,
            },
            DomainError::PeriodTransition {
                unit,
                period: crate::period::ReportingPeriod::parse("2022")
                    .unwrap_or_else(|e| panic!("{e}")),
                status: PeriodStatus::Open,
                action: "approving",
                needs: "submitted",
            },
            DomainError::DocumentRequired,
        ];
        for error in errors {
            let vi = error.vi();
            assert_ne!(vi, error.to_string());
            vietnamese(&vi);
        }
        vietnamese(&TextError::Empty.vi());
        vietnamese(&NumberError::TooPrecise("1".into()).vi());
        vietnamese(&TokenLifetimeError::Zero.vi());
        assert!(DomainError::TargetAlreadySet(TargetTrack::Resolution)
            .vi()
            .starts_with("Chỉ tiêu nghị quyết đã có"));
    }
}
