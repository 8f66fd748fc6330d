//! Output types: how indicators, targets, results, history and the audit
//! trail look to clients, one file per subject.

use crate::connection::{history_connection, HistoryConnection};
use crate::error::ApiResult;
use crate::scalars::{Date, Decimal};
use crate::App;
use async_graphql::{ComplexObject, Context, Enum, MergedObject, Object, SimpleObject, Union, ID};
use chitieu_domain::achievement::AchievementStatus as DomainStatus;
use chitieu_domain::{self as domain, TargetKind};
use chitieu_projector::{view::ReportView, IndicatorView, TrackView};
use chrono::{DateTime, Utc};

mod enums;
mod figures;
mod findings;
mod history;
mod indicator;
mod ledger;
mod org_units;
mod principals;

pub use enums::*;
pub use figures::*;
pub use findings::*;
pub use history::*;
pub use indicator::*;
pub use ledger::*;
pub use org_units::*;
pub use principals::*;
