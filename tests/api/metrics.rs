//! `/metrics` after some traffic: the counters moved by the right amounts.

use crate::helpers::*;
use serde_json::json;
use std::collections::HashMap;

/// Samples of the exposition by series (`name{labels}`).
async fn scrape(app: &TestApp) -> HashMap<String, f64> {
    let text = app
        .client
        .get(&app.metrics_url)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(text.trim_end().ends_with("# EOF"), "{text}");
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| {
            let (series, value) = l.rsplit_once(' ')?;
            Some((series.to_owned(), value.parse().ok()?))
        })
        .collect()
}

fn delta(before: &HashMap<String, f64>, after: &HashMap<String, f64>, series: &str) -> f64 {
    after.get(series).copied().unwrap_or(0.0) - before.get(series).copied().unwrap_or(0.0)
}

#[tokio::test]
async fn metrics_count_requests_appends_failures_and_lag() {
    let app = spawn_demo(None, &["--metrics-listen", "127.0.0.1:0"]).await;
    // Off the public listener when it has its own.
    let public = app
        .client
        .get(format!("{}/metrics", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(public.status(), 404);
    let rice = app.indicator_id("Sản lượng lúa").await;
    let before = scrape(&app).await;

    for _ in 0..3 {
        app.gql("viewer", "query Units { orgUnits { code } }", json!({}))
            .await;
    }
    app.gql(
        "reporter",
        r#"mutation Report($id: ID!) { reportActual(input: {indicator: $id, value: {amount: "84600"}, refersTo: "2025-12-31", status: ESTIMATE}) { position } }"#,
        json!({ "id": rice }),
    )
    .await;
    let refused = app
        .gql_err(Some("viewer"), "query Broken { nonsense }", json!({}))
        .await;
    assert_eq!(refused.code(), Some("VALIDATION"));
    for _ in 0..2 {
        app.gql_err(Some("ct_forged"), "{ today }", json!({})).await;
    }
    let after = scrape(&app).await;

    let requests = |operation: &str, outcome: &str| {
        delta(
            &before,
            &after,
            &format!(
                "chitieu_graphql_requests_total{{operation=\"{operation}\",outcome=\"{outcome}\"}}"
            ),
        )
    };
    assert_eq!(requests("Units", "ok"), 3.0);
    assert_eq!(requests("Report", "ok"), 1.0);
    assert_eq!(requests("Broken", "VALIDATION"), 1.0);
    assert_eq!(requests("anonymous", "UNAUTHENTICATED"), 2.0);
    assert_eq!(
        delta(
            &before,
            &after,
            "chitieu_graphql_request_duration_seconds_count{operation=\"Units\"}"
        ),
        3.0
    );
    // Two of the three were answered from the response cache.
    assert_eq!(
        delta(&before, &after, "chitieu_response_cache_hits_total"),
        2.0
    );
    assert_eq!(delta(&before, &after, "chitieu_log_appends_total"), 1.0);
    assert_eq!(delta(&before, &after, "chitieu_log_flushes_total"), 1.0);
    assert_eq!(delta(&before, &after, "chitieu_log_head_position"), 1.0);
    assert_eq!(delta(&before, &after, "chitieu_auth_failures_total"), 2.0);
    assert_eq!(after["chitieu_projector_lag_events"], 0.0);
    assert_eq!(after["chitieu_projector_lag_seconds"], 0.0);
    assert_eq!(after["chitieu_graphql_in_flight"], 0.0);
    assert!(after["chitieu_log_size_bytes"] > 0.0);
    assert_eq!(
        after.get("chitieu_build_info{version=\"0.1.0\",log=\"sled\"}"),
        Some(&1.0)
    );

    // A WebSocket and its subscription are counted while open.
    let mut ws = app.ws_init("viewer").await;
    use futures_util::{SinkExt, StreamExt};
    let _ack = ws.next().await;
    let subscribe = json!({ "id": "1", "type": "subscribe", "payload": { "query": "subscription { indicatorEvents { position } }" } });
    ws.send(tokio_tungstenite::tungstenite::Message::Text(
        subscribe.to_string().into(),
    ))
    .await
    .unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let open = scrape(&app).await;
    assert_eq!(open["chitieu_websocket_connections"], 1.0);
    assert_eq!(open["chitieu_websocket_subscriptions"], 1.0);
    drop(ws);
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    let closed = scrape(&app).await;
    assert_eq!(closed["chitieu_websocket_connections"], 0.0);
    assert_eq!(closed["chitieu_websocket_subscriptions"], 0.0);
}

/// A kept answer about one indicator is served again after a write to
/// another indicator (the cache drops only what a write touched), and not
/// after a write to the indicator itself.
#[tokio::test]
async fn a_write_to_one_indicator_keeps_the_answers_about_others() {
    let app = spawn_demo(None, &["--metrics-listen", "127.0.0.1:0"]).await;
    let rice = app.indicator_id("Sản lượng lúa").await;
    let other = app.indicator_id("Sản lượng tôm").await;
    let q = "query($id: ID!) { indicator(id: $id) { version latestActual { figure } } }";
    let write = |id: String, value: &'static str| {
        let app = &app;
        async move {
            app.gql(
                "reporter",
                "mutation($id: ID!, $v: Decimal!) { reportActual(input: {indicator: $id, value: {amount: $v}, refersTo: \"2025-06-30\", status: ESTIMATE}) { position } }",
                json!({ "id": id, "v": value }),
            )
            .await;
        }
    };
    let first = app.gql("viewer", q, json!({ "id": rice })).await;
    let before = scrape(&app).await;
    write(other, "1").await;
    let kept = app.gql("viewer", q, json!({ "id": rice })).await;
    let after = scrape(&app).await;
    assert_eq!(kept, first);
    assert_eq!(
        delta(&before, &after, "chitieu_response_cache_hits_total"),
        1.0,
        "answered from the cache across another indicator's write"
    );
    write(rice.clone(), "42000").await;
    let fresh = app.gql("viewer", q, json!({ "id": rice })).await;
    let last = scrape(&app).await;
    assert_eq!(fresh["indicator"]["latestActual"]["figure"], "42000");
    assert_eq!(
        delta(&after, &last, "chitieu_response_cache_hits_total"),
        0.0
    );
}
