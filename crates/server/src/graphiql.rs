//! GraphiQL from assets embedded in the binary (`crates/server/assets/graphiql`):
//! no CDN, so it works on an intranet. Served only where introspection is
//! on. The page's own script keeps the bearer token in the browser and
//! sends it with every request; a Content-Security-Policy keeps the page
//! to this server.

use axum::extract::Path;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

/// The page.
const INDEX: &str = include_str!("../assets/graphiql/index.html");

/// Files under `/graphiql/assets/`: name, media type, content.
const ASSETS: [(&str, &str, &[u8]); 6] = [
    (
        "graphiql.min.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../assets/graphiql/graphiql.min.js"),
    ),
    (
        "graphiql.min.css",
        "text/css; charset=utf-8",
        include_bytes!("../assets/graphiql/graphiql.min.css"),
    ),
    (
        "react.production.min.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../assets/graphiql/react.production.min.js"),
    ),
    (
        "react-dom.production.min.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../assets/graphiql/react-dom.production.min.js"),
    ),
    (
        "chitieu-graphiql.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../assets/graphiql/chitieu-graphiql.js"),
    ),
    (
        "chitieu-graphiql.css",
        "text/css; charset=utf-8",
        include_bytes!("../assets/graphiql/chitieu-graphiql.css"),
    ),
];

/// Scripts and styles from this server only (GraphiQL sets inline
/// styles); requests to this server only, over HTTP or WebSocket.
const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
     img-src 'self' data:; font-src 'self' data:; connect-src 'self' ws: wss:; \
     base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/// `GET /graphiql`.
pub fn page() -> Response {
    let mut response = (StatusCode::OK, INDEX).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    response
}

/// `GET /graphiql/assets/{name}`.
pub fn asset(Path(name): Path<String>) -> Response {
    let Some((_, media, body)) = ASSETS.iter().find(|(n, _, _)| *n == name) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let mut response = (StatusCode::OK, *body).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(media));
    // Versioned with the binary: a browser revalidates once per hour.
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=3600"),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_page_names_only_embedded_assets() {
        for src in INDEX
            .split(['"', '\''])
            .filter(|s| s.starts_with("/graphiql/assets/"))
        {
            let name = src.trim_start_matches("/graphiql/assets/");
            assert!(
                ASSETS.iter().any(|(n, _, _)| *n == name),
                "{name} is not embedded"
            );
        }
        assert!(!INDEX.contains("http://") && !INDEX.contains("https://"));
    }
}
