//! Enums mirrored from the domain (with their Vietnamese descriptions first) and the kind of a target.

use super::*;

macro_rules! mirror_enum {
    ($(#[$meta:meta])* $name:ident <=> $domain:path { $($(#[$vmeta:meta])* $variant:ident),* $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
        pub enum $name { $($(#[$vmeta])* $variant),* }
        impl From<$domain> for $name {
            fn from(v: $domain) -> Self { match v { $(<$domain>::$variant => $name::$variant),* } }
        }
        impl From<$name> for $domain {
            fn from(v: $name) -> Self { match v { $($name::$variant => <$domain>::$variant),* } }
        }
    };
}

mirror_enum!(
    /// Lĩnh vực: the field of an indicator.
    Category <=> domain::Category {
        /// Kinh tế: economy.
        Economy,
        /// Văn hóa – xã hội: society and culture.
        Society,
        /// Môi trường: environment.
        Environment,
        /// Quốc phòng – an ninh: defence and security.
        DefenseSecurity,
        /// Xây dựng Đảng, chính quyền, Mặt trận và đoàn thể: Party and government building.
        PartyBuilding,
    }
);
mirror_enum!(
    /// Đơn vị đo: the kind of value an indicator has.
    Measure <=> domain::Measure {
        /// Số lượng theo đơn vị tính (tỷ đồng, tấn, hộ…): an amount in the indicator's unit.
        Amount,
        /// Tỷ lệ %: a percentage (differences in percentage points).
        Percentage,
        /// Tỷ lệ ‰: a per-mille rate.
        PerMille,
        /// Tỷ số (22/45 trường): numerator over denominator, valued as a share in percent.
        Ratio,
        /// Mốc hoàn thành: something done or not.
        Milestone,
    }
);
mirror_enum!(
    /// Loại chỉ tiêu: whose target it is.
    TargetTrack <=> domain::TargetTrack {
        /// Chỉ tiêu trên giao (tỉnh giao, pháp lệnh): assigned by the upper level.
        Assigned,
        /// Chỉ tiêu nghị quyết: the unit's own resolution.
        Resolution,
        /// Chỉ tiêu phấn đấu: a stretch target the unit sets itself.
        Stretch,
    }
);
mirror_enum!(
    /// Tính chất số liệu: an estimate or final.
    ResultStatus <=> domain::ResultStatus {
        /// Ước thực hiện: an estimate before the period's figures are in.
        Estimate,
        /// Số liệu chính thức: final.
        Final,
    }
);
mirror_enum!(
    /// Mức độ đạt: where a result stands against a target.
    AchievementStatus <=> DomainStatus {
        /// Vượt chỉ tiêu: exceeded.
        Exceeded,
        /// Đạt chỉ tiêu: met.
        Met,
        /// Không đạt: not met.
        NotMet,
        /// Chưa có số liệu: no figure to judge.
        NoData,
        /// Chưa đến hạn: not due yet.
        NotDue,
    }
);
mirror_enum!(
    /// Cấp hành chính: administrative level.
    OrgUnitLevel <=> domain::OrgUnitLevel {
        /// Tỉnh, thành phố trực thuộc trung ương: province.
        Province,
        /// Huyện, thị xã, thành phố thuộc tỉnh (ended on 1 July 2025): district.
        District,
        /// Xã, phường: commune.
        Commune,
        /// Thị trấn: a town at commune level.
        Town,
        /// Ấp, khóm: hamlet.
        Hamlet,
    }
);
mirror_enum!(
    /// Loại văn bản: kind of document.
    DocumentKind <=> domain::DocumentKind {
        /// Nghị quyết: resolution.
        Resolution,
        /// Chương trình hành động: action programme.
        ActionProgramme,
        /// Kế hoạch: plan.
        Plan,
        /// Báo cáo: report.
        Report,
        /// Quyết định: decision.
        Decision,
        /// Văn bản khác: other.
        Other,
    }
);
mirror_enum!(
    /// Vai trò: what a grant lets its holder do.
    Role <=> domain::Role {
        /// Quản trị: principals, grants, tokens and org units; everything in its scope.
        Admin,
        /// Lập kế hoạch: documents, indicators and targets.
        Planner,
        /// Báo cáo: results.
        Reporter,
        /// Kiểm tra, giám sát (Ủy ban Kiểm tra): reads everything, history and the audit trail included.
        Auditor,
        /// Phê duyệt: approves, locks and unlocks reporting periods.
        Approver,
        /// Xem: current state.
        Viewer,
    }
);
mirror_enum!(
    /// Cách tính mức giảm: how a reduction is measured.
    Reduction <=> domain::Reduction {
        /// Giảm theo số tuyệt đối (or percentage points on a rate): absolute.
        Absolute,
        /// Giảm theo % của giá trị gốc: a percentage of the base.
        PercentOfBase,
    }
);
mirror_enum!(
    /// Hướng so sánh với kỳ khác: direction of a comparison with another period.
    Direction <=> domain::Direction {
        /// Thấp hơn: lower.
        Lower,
        /// Cao hơn: higher.
        Higher,
    }
);

mirror_enum!(
    /// Chiều tốt: which way is good for an indicator.
    Better <=> chitieu_domain::direction::Better {
        /// Càng cao càng tốt: higher is better.
        Higher,
        /// Càng thấp càng tốt (hộ nghèo, suy dinh dưỡng, tai nạn…): lower is better.
        Lower,
        /// Trong khoảng là đạt: within the range.
        Within,
    }
);
mirror_enum!(
    /// Căn cứ xác định chiều tốt: how the direction was decided.
    BetterBecause <=> chitieu_domain::direction::BetterBecause {
        /// Theo dạng chỉ tiêu (trở lên, không quá, tăng, giảm, khoảng): by the target's kind.
        Kind,
        /// Theo tên chỉ tiêu (danh mục từ ngữ đã công bố): by the indicator's name, from the documented word list.
        Name,
        /// Theo thông lệ (một con số được hiểu là "đạt và vượt"): by practice, an exact figure read as at least.
        Practice,
        /// Do người có thẩm quyền xác định, có lý do (setIndicatorDirection): set by a person, with a reason.
        Set,
    }
);

/// Dạng chỉ tiêu: kind of target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
pub enum TargetKindName {
    /// Trở lên, ít nhất: ≥ value (`strict`: trên, more than).
    AtLeast,
    /// Không quá, tối đa: ≤ value (`strict`: dưới, below).
    AtMost,
    /// Một con số (đạt …): a bare figure, read as at least.
    Plain,
    /// Từ … đến …: low ≤ actual ≤ high.
    Range,
    /// Tăng trưởng `rate` % so với `base`: growth.
    Growth,
    /// Giảm `amount`: a reduction.
    ReduceBy,
    /// Thấp hơn hoặc cao hơn kỳ khác: lower or higher than another period's actual.
    RelativeToPeriod,
    /// Hoàn thành trước hạn: done by the deadline.
    Milestone,
    /// Duy trì: keep the level.
    Maintain,
}
mirror_enum!(
    /// Loại phát hiện: what kind of inconsistency a finding is.
    FindingKind <=> chitieu_domain::findings::FindingKind {
        /// Tỷ lệ đạt ghi trong văn bản không khớp với số liệu của chính nó: a stated percentage its own figures do not give.
        PercentNotReproduced,
        /// Các thành phần cộng lại không bằng tổng: parts that do not sum to their total.
        PartsDoNotSum,
        /// Báo cáo là đạt nhưng không đạt một mức chỉ tiêu: reported as met, but a target is missed.
        ReportedMetBelowTarget,
        /// Các mức (nghị quyết, cấp trên giao, phấn đấu) khác nhau: the tracks state different figures.
        TracksDisagree,
        /// Mức phấn đấu thấp hơn mức chính: the stretch asks less than the main target.
        StretchLessAmbitious,
        /// Cùng một văn bản nêu chỉ tiêu theo hai cách: one document states the target two ways.
        StatedTwice,
        /// Mức tăng/giảm so cùng kỳ không khớp số liệu kỳ trước: the stated change does not match the previous figure.
        PreviousFigureDiffers,
        /// Chỉ tiêu không cao hơn kết quả kỳ trước: a target that plans no improvement on the previous result.
        NoImprovementPlanned,
    }
);
mirror_enum!(
    /// Mức độ: how much a finding matters.
    Severity <=> chitieu_domain::findings::Severity {
        /// Cảnh báo: the figures cannot all be true as written.
        Warning,
        /// Lưu ý: worth a look; the figures can be reconciled.
        Info,
    }
);
