//! Persisted queries: Apollo's automatic persisted queries over POST and
//! GET, and a server that runs only the operations of its allow-list.

use crate::helpers::*;
use serde_json::json;
use sha2::{Digest, Sha256};

fn sha256(text: &str) -> String {
    hex::encode(Sha256::digest(text.as_bytes()))
}

fn persisted(hash: &str) -> serde_json::Value {
    json!({ "persistedQuery": { "version": 1, "sha256Hash": hash } })
}

#[tokio::test]
async fn a_client_sends_the_hash_alone_once_the_server_knows_its_text() {
    let app = spawn_app().await;
    let query = "query Units { orgUnits { code } }";
    let hash = sha256(query);
    // The Apollo flow: hash alone, refused as unknown; then hash and text.
    let unknown = app
        .post(Some("viewer"), json!({ "extensions": persisted(&hash) }))
        .await;
    assert_eq!(
        unknown.code(),
        Some("PERSISTED_QUERY_NOT_FOUND"),
        "{}",
        unknown.body
    );
    assert_eq!(
        unknown.body["errors"][0]["message"],
        "PersistedQueryNotFound"
    );
    let registered = app
        .post(
            Some("viewer"),
            json!({ "query": query, "extensions": persisted(&hash) }),
        )
        .await;
    assert_eq!(registered.status, 200, "{}", registered.body);
    let units = registered.body["data"]["orgUnits"].clone();
    assert!(units.as_array().is_some_and(|u| !u.is_empty()));
    let by_hash = app
        .post(Some("viewer"), json!({ "extensions": persisted(&hash) }))
        .await;
    assert_eq!(by_hash.body["data"]["orgUnits"], units);
    // GET, as Apollo's clients send hashed queries (cacheable by a CDN).
    let url = format!(
        "{}?extensions={}",
        app.url,
        urlencode(&persisted(&hash).to_string())
    );
    let got: serde_json::Value = app
        .client
        .get(url)
        .bearer_auth(&app.tokens["viewer"])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(got["data"]["orgUnits"], units);
    // A text that is not the hash's is refused, and nothing runs.
    let mismatch = app
        .post(
            Some("viewer"),
            json!({ "query": "{ today }", "extensions": persisted(&hash) }),
        )
        .await;
    assert_eq!(mismatch.code(), Some("VALIDATION"));
    assert!(mismatch.body["data"].is_null());
    // A mutation by hash over GET is still refused.
    let mutation =
        "mutation { revokeToken(tokenId: \"00000000-0000-0000-0000-000000000000\") { position } }";
    let mutation_hash = sha256(mutation);
    app.post(
        Some("admin"),
        json!({ "query": mutation, "extensions": persisted(&mutation_hash) }),
    )
    .await;
    let over_get = app
        .client
        .get(format!(
            "{}?extensions={}",
            app.url,
            urlencode(&persisted(&mutation_hash).to_string())
        ))
        .bearer_auth(&app.tokens["admin"])
        .send()
        .await
        .unwrap();
    assert_eq!(over_get.status(), 405);
}

fn urlencode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[tokio::test]
async fn a_persisted_only_server_runs_its_list_and_nothing_else() {
    let dir = tempfile::tempdir().unwrap();
    let known = "query Today { today }";
    let manifest = json!({
        "format": "apollo-persisted-query-manifest",
        "version": 1,
        "operations": [{ "id": sha256(known), "name": "Today", "type": "query", "body": known }]
    });
    let path = dir.path().join("operations.json");
    std::fs::write(&path, manifest.to_string()).unwrap();
    let app = spawn_demo(None, &["--persisted-only", path.to_str().unwrap()]).await;
    let by_hash = app
        .post(
            Some("viewer"),
            json!({ "extensions": persisted(&sha256(known)) }),
        )
        .await;
    assert!(
        by_hash.body["data"]["today"].is_string(),
        "{}",
        by_hash.body
    );
    let by_text = app.post(Some("viewer"), json!({ "query": known })).await;
    assert!(
        by_text.body["data"]["today"].is_string(),
        "{}",
        by_text.body
    );
    for body in [
        json!({ "query": "{ orgUnits { code } }" }),
        json!({ "query": "{ orgUnits { code } }", "extensions": persisted(&sha256("{ orgUnits { code } }")) }),
    ] {
        let refused = app.post(Some("viewer"), body).await;
        assert_eq!(
            refused.code(),
            Some("PERSISTED_QUERY_REQUIRED"),
            "{}",
            refused.body
        );
        assert!(refused.body["data"].is_null());
    }
    // WebSockets follow the list too.
    use futures_util::{SinkExt, StreamExt};
    let mut ws = app.ws_init("viewer").await;
    let subscribe = json!({ "id": "1", "type": "subscribe", "payload": { "query": "subscription { indicatorEvents { position } }" } });
    ws.send(tokio_tungstenite::tungstenite::Message::Text(
        subscribe.to_string().into(),
    ))
    .await
    .unwrap();
    let mut refused = None;
    while let Some(Ok(message)) =
        tokio::time::timeout(std::time::Duration::from_secs(10), ws.next())
            .await
            .expect("an answer")
    {
        if let tokio_tungstenite::tungstenite::Message::Text(text) = message {
            let value: serde_json::Value = serde_json::from_str(&text).unwrap();
            if value["id"] == "1" {
                refused = Some(value);
                break;
            }
        }
    }
    let refused = refused.expect("the subscription was answered");
    assert_eq!(
        refused["payload"]["errors"][0]["extensions"]["code"], "PERSISTED_QUERY_REQUIRED",
        "{refused}"
    );
}
