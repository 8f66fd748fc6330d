//! Authentication of a request: the bearer token of an `Authorization`
//! header, the client's address behind trusted proxies (the limiter of
//! failed authentications counts per client).

use super::*;

/// Why a request's credentials were not accepted.
pub(super) enum AuthFailure {
    /// A malformed, unknown, revoked or expired token.
    Invalid,
    /// The log could not be read to check it: not the client's fault.
    Storage(String),
}

/// The principal of an `Authorization` header value: `Ok(None)` without
/// one. The scheme is matched case-insensitively (RFC 9110 §11.1).
pub(super) fn authenticate(
    app: &App,
    header: Option<&str>,
) -> Result<Option<Authenticated>, AuthFailure> {
    let Some(value) = header else { return Ok(None) };
    let (scheme, token) = value.trim().split_once(' ').ok_or(AuthFailure::Invalid)?;
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Err(AuthFailure::Invalid);
    }
    match app.service.authenticate(token.trim()) {
        Ok(principal) => Ok(Some(principal)),
        Err(chitieu_service::ServiceError::Unavailable(error)) => {
            Err(AuthFailure::Storage(error.to_string()))
        }
        Err(_) => Err(AuthFailure::Invalid),
    }
}

/// Whether a response has errors, all of them `UNAUTHENTICATED`, and no
/// data (every root field null).
pub(super) fn only_unauthenticated(response: &async_graphql::Response) -> bool {
    let no_data = match &response.data {
        async_graphql::Value::Null => true,
        async_graphql::Value::Object(fields) => {
            fields.values().all(|v| *v == async_graphql::Value::Null)
        }
        _ => false,
    };
    no_data
        && !response.errors.is_empty()
        && response.errors.iter().all(|e| {
            e.extensions.as_ref().and_then(|x| x.get("code"))
                == Some(&async_graphql::Value::from("UNAUTHENTICATED"))
        })
}

pub(super) fn too_many_failures() -> Msg {
    Msg::new(
        "too many failed authentications from this address; try again later",
        "quá nhiều lần xác thực thất bại từ địa chỉ này; hãy thử lại sau",
    )
}

/// The client's address: the peer, unless the peer is a trusted proxy;
/// then the last address in `X-Forwarded-For` that is not itself a trusted
/// proxy (what the nearest untrusted hop said, which a client cannot forge
/// past the proxies).
pub fn client_address(
    headers: &HeaderMap,
    peer: SocketAddr,
    trusted: &[std::net::IpAddr],
) -> SocketAddr {
    if !trusted.contains(&peer.ip()) {
        return peer;
    }
    let forwarded = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .collect::<Vec<_>>();
    forwarded
        .iter()
        .rev()
        .filter_map(|a| a.parse::<std::net::IpAddr>().ok())
        .find(|ip| !trusted.contains(ip))
        .map_or(peer, |ip| SocketAddr::new(ip, 0))
}
