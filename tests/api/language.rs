//! Messages follow `Accept-Language`: Vietnamese by default, English on
//! request; the codes never change.

use crate::helpers::*;
use serde_json::{json, Value};

async fn ask(
    client: &reqwest::Client,
    app: &TestApp,
    language: Option<&str>,
    token: Option<&str>,
    query: &str,
    variables: Value,
) -> (u16, Option<String>, Value) {
    let mut request = client
        .post(&app.url)
        .json(&json!({ "query": query, "variables": variables }));
    if let Some(language) = language {
        request = request.header("accept-language", language);
    }
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let content_language = response
        .headers()
        .get("content-language")
        .map(|v| v.to_str().unwrap().to_owned());
    (status, content_language, response.json().await.unwrap())
}

fn first_error(body: &Value) -> (&str, &str) {
    (
        body["errors"][0]["message"].as_str().unwrap_or(""),
        body["errors"][0]["extensions"]["code"]
            .as_str()
            .unwrap_or(""),
    )
}

#[tokio::test]
async fn messages_are_vietnamese_unless_english_is_asked_and_codes_stay() {
    let app = spawn_app().await;
    let plain = reqwest::Client::new();
    let rice = app.indicator_id("Sản lượng lúa").await;
    let reporter = app.tokens["reporter"].clone();
    // A rule of the domain: a final figure without a source or a reason.
    let final_without_reason = r#"mutation($id: ID!) { reportActual(input: {indicator: $id, value: {amount: "1"}, refersTo: "2025-12-31", status: FINAL}) { position } }"#;
    let (_, language, body) = ask(
        &plain,
        &app,
        None,
        Some(&reporter),
        final_without_reason,
        json!({ "id": rice }),
    )
    .await;
    let (message, code) = first_error(&body);
    assert_eq!(code, "VALIDATION", "{body}");
    assert!(
        message.starts_with("số liệu chính thức phải dẫn văn bản nguồn"),
        "{body}"
    );
    assert_eq!(language.as_deref(), Some("vi"));
    let (_, language, body) = ask(
        &plain,
        &app,
        Some("en-US,en;q=0.9,vi;q=0.5"),
        Some(&reporter),
        final_without_reason,
        json!({ "id": rice }),
    )
    .await;
    let (message, code) = first_error(&body);
    assert_eq!(code, "VALIDATION");
    assert!(
        message.starts_with("a final figure must cite its source document"),
        "{body}"
    );
    assert_eq!(language.as_deref(), Some("en"));
    let (_, _, body) = ask(
        &plain,
        &app,
        Some("vi-VN,vi;q=0.9,en;q=0.8"),
        Some(&reporter),
        final_without_reason,
        json!({ "id": rice }),
    )
    .await;
    assert!(
        first_error(&body).0.starts_with("số liệu chính thức"),
        "{body}"
    );

    // Not found, decided by the domain.
    let (_, _, body) = ask(
        &plain,
        &app,
        None,
        Some(&reporter),
        final_without_reason,
        json!({ "id": "01890000-0000-7000-8000-000000000000" }),
    )
    .await;
    let (message, code) = first_error(&body);
    assert_eq!(code, "NOT_FOUND", "{body}");
    assert!(message.contains("không tồn tại"), "{body}");

    // A document that does not validate (async-graphql's own error).
    let (status, _, body) = ask(
        &plain,
        &app,
        None,
        Some(&reporter),
        "{ nonsense }",
        json!({}),
    )
    .await;
    let (message, code) = first_error(&body);
    assert_eq!((status, code), (400, "VALIDATION"), "{body}");
    assert!(message.starts_with("Trường không tồn tại"), "{body}");
    let (_, _, body) = ask(
        &plain,
        &app,
        Some("en"),
        Some(&reporter),
        "{ nonsense }",
        json!({}),
    )
    .await;
    assert!(first_error(&body).0.starts_with("Unknown field"), "{body}");

    // The transport's own refusals.
    let (status, language, body) = ask(
        &plain,
        &app,
        None,
        Some("not-a-token"),
        "{ today }",
        json!({}),
    )
    .await;
    let (message, code) = first_error(&body);
    assert_eq!((status, code), (401, "UNAUTHENTICATED"), "{body}");
    assert_eq!(message, "mã truy cập (bearer token) không hợp lệ");
    assert_eq!(language.as_deref(), Some("vi"));
    let (status, _, body) = ask(
        &plain,
        &app,
        Some("en"),
        Some("not-a-token"),
        "{ today }",
        json!({}),
    )
    .await;
    assert_eq!(
        (status, first_error(&body).0),
        (401, "the bearer token is not valid")
    );

    // A table refused by the importer: every problem in both languages.
    use base64::Engine;
    let table = base64::engine::general_purpose::STANDARD.encode("a\tb\n1\t2\n");
    let import = r#"mutation($c: String!) { importTable(input: {contentBase64: $c, orgUnit: "LA.CAN-DUOC", period: "2025", document: "38-CTr/HU", dryRun: true}) { planned } }"#;
    let planner = app.tokens["planner"].clone();
    let (_, _, body) = ask(
        &plain,
        &app,
        None,
        Some(&planner),
        import,
        json!({ "c": table }),
    )
    .await;
    let (message, code) = first_error(&body);
    assert_eq!(code, "VALIDATION", "{body}");
    assert!(
        message.starts_with("bảng bị từ chối, không nhập dòng nào: dòng 1: chưa có dòng tiêu đề"),
        "{body}"
    );
    let problem = &body["errors"][0]["extensions"]["problems"][0];
    assert!(
        problem["why"]
            .as_str()
            .unwrap()
            .starts_with("no header row"),
        "{body}"
    );
    assert!(
        problem["whyVi"]
            .as_str()
            .unwrap()
            .starts_with("chưa có dòng tiêu đề"),
        "{body}"
    );

    // A limit, with its figures in either language.
    let deep = format!(
        "{{ {} }}",
        "orgUnits { children { ".repeat(8) + "code" + &" } }".repeat(8)
    );
    let (_, _, body) = ask(&plain, &app, None, Some(&reporter), &deep, json!({})).await;
    let (message, code) = first_error(&body);
    assert_eq!(code, "LIMIT_EXCEEDED", "{body}");
    assert!(message.starts_with("truy vấn lồng"), "{body}");
}

#[tokio::test]
async fn a_websocket_speaks_the_language_of_its_upgrade() {
    use futures_util::{SinkExt, StreamExt};
    use tokio_tungstenite::tungstenite::Message;
    let app = spawn_app().await;
    for (language, expected) in [
        (None, "vượt quá đầu sổ ghi"),
        (Some("en"), "is past the log's head"),
    ] {
        let (mut ws, _) = app.ws_connect_in(language).await;
        let token = app.tokens["auditor"].clone();
        ws.send(Message::text(json!({ "type": "connection_init", "payload": { "Authorization": format!("Bearer {token}") } }).to_string()))
            .await
            .unwrap();
        let _ack = ws.next().await.unwrap().unwrap();
        ws.send(Message::text(json!({ "id": "1", "type": "subscribe", "payload": { "query": "subscription { indicatorEvents(after: 999999999) { position } }" } }).to_string()))
            .await
            .unwrap();
        let reply: Value = loop {
            let message = tokio::time::timeout(std::time::Duration::from_secs(10), ws.next())
                .await
                .unwrap()
                .unwrap()
                .unwrap();
            if let Message::Text(text) = message {
                let value: Value = serde_json::from_str(&text).unwrap();
                if value["type"] != "ping" && value["type"] != "pong" {
                    break value;
                }
            }
        };
        let errors = if reply["type"] == "error" {
            reply["payload"].clone()
        } else {
            reply["payload"]["errors"].clone()
        };
        let message = errors[0]["message"].as_str().unwrap_or("");
        assert!(message.contains(expected), "{reply}");
        assert_eq!(errors[0]["extensions"]["code"], "VALIDATION", "{reply}");
    }
}
