//! The demo's people, and the rate limit on failed authentications.
//! Tokens themselves are events in the log (only their SHA-256 digests):
//! see `chitieu_domain::principal`.

use chitieu_domain::{Grant, OrgUnitCode, Role};
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// A demo person: id, name, grants.
pub struct DemoPerson {
    /// Principal id.
    pub id: &'static str,
    /// Display name.
    pub name: &'static str,
    /// Role and subtree (`None`: everywhere).
    pub grant: (Role, Option<&'static str>),
}

/// The demo's people: one per role for everywhere, a planner and a
/// reporter of Cần Đước only, and the approver of Tiểu Cần.
pub fn demo_people() -> Vec<DemoPerson> {
    let p = |id, name, role, scope| DemoPerson {
        id,
        name,
        grant: (role, scope),
    };
    vec![
        p("admin", "Quản trị hệ thống", Role::Admin, None),
        p(
            "vp-huyen-uy",
            "Văn phòng Huyện ủy (lập kế hoạch)",
            Role::Planner,
            None,
        ),
        p(
            "pkt-tieu-can",
            "Phòng Tài chính – Kế hoạch (báo cáo)",
            Role::Reporter,
            None,
        ),
        p("ubkt", "Ủy ban Kiểm tra Huyện ủy", Role::Auditor, None),
        p("lanh-dao", "Lãnh đạo (xem)", Role::Viewer, None),
        p(
            "planner.can-duoc",
            "Văn phòng Huyện ủy Cần Đước",
            Role::Planner,
            Some("LA.CAN-DUOC"),
        ),
        p(
            "reporter.can-duoc",
            "Chi cục Thống kê Cần Đước",
            Role::Reporter,
            Some("LA.CAN-DUOC"),
        ),
        p(
            "btv.tieu-can",
            "Ban Thường vụ Huyện ủy Tiểu Cần (phê duyệt)",
            Role::Approver,
            Some("TV.TIEU-CAN"),
        ),
    ]
}

impl DemoPerson {
    /// The grant as the domain has it.
    pub fn domain_grant(&self) -> Grant {
        Grant {
            role: self.grant.0,
            scope: self.grant.1.and_then(|s| OrgUnitCode::parse(s).ok()),
        }
    }
}

/// Failed authentications per client address: past `max` in `window`,
/// the address is refused (429) until the window ends.
pub struct FailedAuths {
    max: u32,
    window: Duration,
    seen: Mutex<HashMap<IpAddr, (u32, Instant)>>,
}

impl FailedAuths {
    /// A limiter allowing `max` failures per `window` and address.
    pub fn new(max: u32, window: Duration) -> Self {
        FailedAuths {
            max,
            window,
            seen: Mutex::new(HashMap::new()),
        }
    }

    /// Whether the address is currently refused.
    pub fn blocked(&self, address: IpAddr) -> bool {
        let Ok(seen) = self.seen.lock() else {
            return false;
        };
        seen.get(&address)
            .is_some_and(|(count, since)| *count >= self.max && since.elapsed() < self.window)
    }

    /// Records a failure.
    pub fn failed(&self, address: IpAddr) {
        if let Ok(mut seen) = self.seen.lock() {
            if seen.len() > 100_000 {
                seen.retain(|_, (_, since)| since.elapsed() < self.window);
            }
            let entry = seen.entry(address).or_insert((0, Instant::now()));
            if entry.1.elapsed() >= self.window {
                *entry = (0, Instant::now());
            }
            entry.0 += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_address_is_refused_after_too_many_failures_until_the_window_ends() {
        let limiter = FailedAuths::new(3, Duration::from_millis(50));
        let a: IpAddr = [10, 0, 0, 1].into();
        let b: IpAddr = [10, 0, 0, 2].into();
        for _ in 0..3 {
            assert!(!limiter.blocked(a));
            limiter.failed(a);
        }
        assert!(limiter.blocked(a));
        assert!(!limiter.blocked(b));
        std::thread::sleep(Duration::from_millis(60));
        assert!(!limiter.blocked(a));
    }
}
