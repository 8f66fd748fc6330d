//! A subscription over graphql-transport-ws receives an event.

use crate::helpers::*;
use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::Message;

async fn next_json<S>(ws: &mut S) -> Value
where
    S: futures_util::Stream<Item = Result<Message, tokio_tungstenite::tungstenite::Error>> + Unpin,
{
    loop {
        let message = tokio::time::timeout(std::time::Duration::from_secs(15), ws.next())
            .await
            .expect("no message")
            .unwrap()
            .unwrap();
        if let Message::Text(text) = message {
            let value: Value = serde_json::from_str(&text).unwrap();
            if value["type"] == "ping" {
                continue;
            }
            return value;
        }
    }
}

/// Subscribes as `role` with `query` (its variable `$id`: the indicator
/// `id`), has the reporter report an estimate of 84,500 on it, and returns
/// the next message with the protocol the server chose.
async fn a_report_seen_by(app: &TestApp, role: &str, query: &str, id: &str) -> (Value, String) {
    let (mut ws, response) = app.ws_connect().await;
    let protocol = response.headers()["sec-websocket-protocol"]
        .to_str()
        .unwrap()
        .to_owned();
    let init = json!({ "type": "connection_init", "payload": { "Authorization": format!("Bearer {}", app.tokens[role]) } });
    ws.send(Message::Text(init.to_string().into()))
        .await
        .unwrap();
    assert_eq!(next_json(&mut ws).await["type"], "connection_ack");
    let subscribe = json!({
        "id": "1",
        "type": "subscribe",
        "payload": { "query": query, "variables": { "id": id } }
    });
    ws.send(Message::Text(subscribe.to_string().into()))
        .await
        .unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    app.gql(
        "reporter",
        r#"mutation($id: ID!) { reportActual(input: {indicator: $id, value: {amount: "84500"}, refersTo: "2025-12-31", status: ESTIMATE}) { position } }"#,
        json!({ "id": id }),
    )
    .await;
    let event = next_json(&mut ws).await;
    assert_eq!(event["type"], "next", "{event}");
    (event, protocol)
}

#[tokio::test]
async fn a_subscriber_receives_a_reported_figure() {
    let app = spawn_app().await;
    let rice = app.indicator_id("Sản lượng lúa").await;
    let query = "subscription($id: ID!) { indicatorEvents(filter: {indicator: $id}) { position kind actor { id } indicator { latestActual { figure } } } }";
    let (event, protocol) = a_report_seen_by(&app, "viewer", query, &rice).await;
    assert_eq!(protocol, "graphql-transport-ws");
    let data = &event["payload"]["data"]["indicatorEvents"];
    assert_eq!(data["kind"], "actual_reported");
    assert_eq!(data["actor"]["id"], "pkt-tieu-can");
    assert_eq!(data["indicator"]["latestActual"]["figure"], "84500");
}

/// A history entry's stored values are written into responses as JSON
/// text (`raw_json` in the graphql crate); a subscription's messages carry
/// them as the same objects an HTTP response does.
#[tokio::test]
async fn a_subscriber_reads_history_values_as_objects() {
    let app = spawn_app().await;
    let rice = app.indicator_id("Sản lượng lúa").await;
    let history = "history(first: 100) { edges { node { kind before after } } }";
    let query = format!("subscription($id: ID!) {{ indicatorEvents(filter: {{indicator: $id}}) {{ indicator {{ {history} }} }} }}");
    let (event, _) = a_report_seen_by(&app, "auditor", &query, &rice).await;
    let pushed = &event["payload"]["data"]["indicatorEvents"]["indicator"]["history"];
    let fetched = app
        .gql(
            "auditor",
            &format!("query($id: ID!) {{ indicator(id: $id) {{ {history} }} }}"),
            json!({ "id": rice }),
        )
        .await;
    assert_eq!(pushed, &fetched["indicator"]["history"]);
    let last = pushed["edges"].as_array().unwrap().last().unwrap();
    assert_eq!(last["node"]["kind"], "actual_reported");
    assert!(last["node"]["after"].is_object(), "{last}");
    assert_eq!(last["node"]["after"]["value"]["value"], "84500", "{last}");
}

#[tokio::test]
async fn a_websocket_without_a_valid_token_is_refused() {
    let app = spawn_app().await;
    let (mut ws, _) = app.ws_connect().await;
    let init =
        json!({ "type": "connection_init", "payload": { "Authorization": "Bearer ct_forged" } });
    ws.send(Message::Text(init.to_string().into()))
        .await
        .unwrap();
    let closed = tokio::time::timeout(std::time::Duration::from_secs(10), ws.next())
        .await
        .expect("no answer");
    match closed {
        Some(Ok(Message::Close(Some(frame)))) => assert_eq!(u16::from(frame.code), 4403),
        other => panic!("expected a close frame, got {other:?}"),
    }
}

#[tokio::test]
async fn a_subscription_with_too_many_aliases_is_refused() {
    let app = spawn_app().await;
    let mut ws = app.ws_init("viewer").await;
    assert_eq!(next_json(&mut ws).await["type"], "connection_ack");
    // The default limit is 30 aliases.
    let aliases = (0..31)
        .map(|i| format!("p{i}: position"))
        .collect::<Vec<_>>()
        .join(" ");
    let subscribe = json!({
        "id": "1",
        "type": "subscribe",
        "payload": { "query": format!("subscription {{ indicatorEvents {{ {aliases} }} }}") }
    });
    ws.send(Message::Text(subscribe.to_string().into()))
        .await
        .unwrap();
    let reply = next_json(&mut ws).await;
    // async-graphql answers a refused operation with one `next` carrying the error.
    assert_eq!(reply["payload"]["data"], Value::Null, "{reply}");
    assert_eq!(
        reply["payload"]["errors"][0]["extensions"]["code"], "VALIDATION",
        "{reply}"
    );
}

#[tokio::test]
async fn the_server_pings_an_idle_websocket_at_the_configured_interval() {
    let app = spawn_app_with(Some("[limits]\nws_ping_ms = 200\n")).await;
    let mut ws = app.ws_init("viewer").await;
    let started = std::time::Instant::now();
    let mut pings = 0;
    while pings < 3 {
        let message = tokio::time::timeout(std::time::Duration::from_secs(5), ws.next())
            .await
            .expect("no ping within 5 s")
            .unwrap()
            .unwrap();
        if let Message::Text(text) = message {
            let value: Value = serde_json::from_str(&text).unwrap();
            if value["type"] == "ping" {
                pings += 1;
            }
        }
    }
    // Three pings at 200 ms take at least 400 ms (the first may come at once).
    assert!(
        started.elapsed() >= std::time::Duration::from_millis(400),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn a_subscriber_sees_a_period_submitted_and_approved() {
    let app = spawn_app().await;
    let mut ws = app.ws_init("auditor").await;
    assert_eq!(next_json(&mut ws).await["type"], "connection_ack");
    let subscribe = json!({
        "id": "1",
        "type": "subscribe",
        "payload": { "query": "subscription { periodEvents(orgUnit: \"LA.CAN-DUOC\") { kind actor { id } period { period status approvals { digest } } } }" }
    });
    ws.send(Message::Text(subscribe.to_string().into()))
        .await
        .unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    // A step of another unit is not sent.
    app.gql(
        "planner",
        r#"mutation { submitPeriod(input: {orgUnit: "HG.PHUNG-HIEP", period: "2024-H1"}) { position } }"#,
        json!({}),
    )
    .await;
    app.gql(
        "planner",
        r#"mutation { submitPeriod(input: {orgUnit: "LA.CAN-DUOC", period: "2025-Q4", note: "Trình phê duyệt quý IV"}) { position } }"#,
        json!({}),
    )
    .await;
    let event = next_json(&mut ws).await;
    let data = &event["payload"]["data"]["periodEvents"];
    assert_eq!(data["kind"], "period_submitted", "{event}");
    assert_eq!(data["actor"]["id"], "vp-huyen-uy");
    assert_eq!(data["period"]["period"], "2025-Q4");
    assert_eq!(data["period"]["status"], "SUBMITTED");
}

#[tokio::test]
async fn a_subscription_resumes_after_a_position_with_no_gap_and_includes_descendants() {
    let app = spawn_app().await;
    let rice = app.indicator_id("Sản lượng lúa").await;
    let report = |amount: &str| {
        format!(
            r#"mutation($id: ID!) {{ reportActual(input: {{indicator: $id, value: {{amount: "{amount}"}}, refersTo: "2025-12-31", status: ESTIMATE}}) {{ position }} }}"#
        )
    };
    // Three figures while nobody listens; the client had seen the first.
    let mut positions = Vec::new();
    for amount in ["84100", "84200", "84300"] {
        let written = app
            .gql("reporter", &report(amount), json!({ "id": rice }))
            .await;
        positions.push(written["reportActual"]["position"].as_u64().unwrap());
    }
    let unit: String = app
        .gql(
            "viewer",
            "query($id: ID!) { indicator(id: $id) { orgUnit { code parent } } }",
            json!({ "id": rice }),
        )
        .await["indicator"]["orgUnit"]["parent"]
        .as_str()
        .expect("the rice indicator's unit has a parent")
        .to_owned();
    let mut ws = app.ws_init("viewer").await;
    assert_eq!(next_json(&mut ws).await["type"], "connection_ack");
    // The parent unit with its descendants: the commune's figures arrive.
    let subscribe = json!({
        "id": "1",
        "type": "subscribe",
        "payload": {
            "query": "subscription($unit: ID!, $after: Int) { indicatorEvents(filter: {orgUnit: $unit, includeDescendants: true}, after: $after) { position indicator { latestActual { figure } } } }",
            "variables": { "unit": unit, "after": positions[0] }
        }
    });
    ws.send(Message::Text(subscribe.to_string().into()))
        .await
        .unwrap();
    let mut seen = Vec::new();
    for _ in 0..2 {
        let event = next_json(&mut ws).await;
        assert_eq!(event["type"], "next", "{event}");
        seen.push(
            event["payload"]["data"]["indicatorEvents"]["position"]
                .as_u64()
                .unwrap(),
        );
    }
    assert_eq!(
        seen,
        positions[1..],
        "caught up with what was missed, in order"
    );
    // Then live, without a duplicate at the switch.
    let live = app
        .gql("reporter", &report("84400"), json!({ "id": rice }))
        .await;
    let event = next_json(&mut ws).await;
    let data = &event["payload"]["data"]["indicatorEvents"];
    assert_eq!(data["position"], live["reportActual"]["position"]);
    assert_eq!(data["indicator"]["latestActual"]["figure"], "84400");
    // A position the log has not given is refused, with a code.
    let bad = json!({
        "id": "2",
        "type": "subscribe",
        "payload": { "query": "subscription { indicatorEvents(after: 999999999) { position } }" }
    });
    ws.send(Message::Text(bad.to_string().into()))
        .await
        .unwrap();
    let refused = next_json(&mut ws).await;
    assert_eq!(refused["id"], "2", "{refused}");
    assert_eq!(
        refused["payload"]["errors"][0]["extensions"]["code"], "VALIDATION",
        "{refused}"
    );
}
