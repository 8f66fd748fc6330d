//! Identities, grants and tokens: the access matrix, revocation, expiry,
//! attribution, rate limiting.

use crate::helpers::*;
use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::Message;

const INSIDE: &str = "LA.CAN-DUOC";
const OUTSIDE: &str = "TV.TIEU-CAN";

async fn document(app: &TestApp, org: &str) -> String {
    let d = app
        .gql("admin", "mutation($org: ID!) { registerDocument(input: {kind: PLAN, issuingBody: \"UBND\", orgUnit: $org, title: \"Kế hoạch\"}) { document { id } } }", json!({ "org": org }))
        .await;
    d["registerDocument"]["document"]["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// A fresh indicator in `org` made by the admin, with a target and a
/// final report when asked.
async fn indicator(
    app: &TestApp,
    org: &str,
    doc: &str,
    with_target: bool,
    with_report: bool,
) -> (String, Option<String>) {
    let d = app
        .gql("admin", "mutation($org: ID!, $doc: ID!) { defineIndicator(input: {orgUnit: $org, period: \"2025\", category: ECONOMY, name: \"Chỉ tiêu thử\", unit: \"ha\", measure: AMOUNT, document: $doc}) { indicator { id } } }", json!({ "org": org, "doc": doc }))
        .await;
    let id = d["defineIndicator"]["indicator"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    if with_target {
        app.gql("admin", "mutation($id: ID!, $doc: ID!) { setTarget(input: {indicator: $id, track: RESOLUTION, target: {kind: PLAIN, value: \"10\"}, document: $doc}) { position } }", json!({ "id": id, "doc": doc })).await;
    }
    let mut report = None;
    if with_report {
        let r = app
            .gql("admin", "mutation($id: ID!) { reportActual(input: {indicator: $id, value: {amount: \"9\"}, refersTo: \"2025-12-31\", status: FINAL, reason: \"Số liệu thống kê\"}) { indicator { latestActual { reportId } } } }", json!({ "id": id }))
            .await;
        report = r["reportActual"]["indicator"]["latestActual"]["reportId"]
            .as_str()
            .map(str::to_owned);
    }
    (id, report)
}

const MUTATIONS: [&str; 8] = [
    "registerOrgUnit",
    "registerDocument",
    "defineIndicator",
    "setTarget",
    "reviseTarget",
    "reportActual",
    "correctActual",
    "retireIndicator",
];

fn allowed(role: &str, mutation: &str) -> bool {
    match role {
        "admin" => true,
        "planner" => matches!(
            mutation,
            "registerDocument"
                | "defineIndicator"
                | "setTarget"
                | "reviseTarget"
                | "retireIndicator"
        ),
        "reporter" => matches!(mutation, "reportActual" | "correctActual"),
        _ => false,
    }
}

/// Runs one mutation of the matrix as `token` against `org`.
async fn attempt(app: &TestApp, token: &str, mutation: &str, org: &str, n: usize) -> Reply {
    let doc = document(app, org).await;
    let other_doc = document(app, org).await;
    let (query, variables): (&str, Value) = match mutation {
        "registerOrgUnit" => (
            "mutation($code: ID!, $parent: ID!) { registerOrgUnit(input: {code: $code, name: \"Xã mới\", level: COMMUNE, parent: $parent}) { position } }",
            json!({ "code": format!("{org}.X{n}"), "parent": org }),
        ),
        "registerDocument" => (
            "mutation($org: ID!) { registerDocument(input: {kind: PLAN, issuingBody: \"UBND\", orgUnit: $org, title: \"Kế hoạch\"}) { position } }",
            json!({ "org": org }),
        ),
        "defineIndicator" => (
            "mutation($org: ID!, $doc: ID!) { defineIndicator(input: {orgUnit: $org, period: \"2025\", category: SOCIETY, name: \"Mới\", measure: PERCENTAGE, document: $doc}) { position } }",
            json!({ "org": org, "doc": doc }),
        ),
        "setTarget" => {
            let (id, _) = indicator(app, org, &doc, false, false).await;
            ("mutation($id: ID!, $doc: ID!) { setTarget(input: {indicator: $id, track: RESOLUTION, target: {kind: AT_LEAST, value: \"5\"}, document: $doc}) { position } }", json!({ "id": id, "doc": doc }))
        }
        "reviseTarget" => {
            let (id, _) = indicator(app, org, &doc, true, false).await;
            ("mutation($id: ID!, $doc: ID!) { reviseTarget(input: {indicator: $id, track: RESOLUTION, target: {kind: PLAIN, value: \"12\"}, document: $doc, reason: \"Điều chỉnh\"}) { position } }", json!({ "id": id, "doc": other_doc }))
        }
        "reportActual" => {
            let (id, _) = indicator(app, org, &doc, true, false).await;
            ("mutation($id: ID!) { reportActual(input: {indicator: $id, value: {amount: \"11\"}, refersTo: \"2025-12-31\", status: ESTIMATE}) { position } }", json!({ "id": id }))
        }
        "correctActual" => {
            let (id, report) = indicator(app, org, &doc, true, true).await;
            ("mutation($id: ID!, $r: ID!) { correctActual(input: {indicator: $id, corrects: $r, value: {amount: \"8\"}, refersTo: \"2025-12-31\", status: FINAL, reason: \"Sai sót\"}) { position } }", json!({ "id": id, "r": report }))
        }
        "retireIndicator" => {
            let (id, _) = indicator(app, org, &doc, false, false).await;
            ("mutation($id: ID!) { retireIndicator(input: {indicator: $id, reason: \"Không còn phù hợp\"}) { position } }", json!({ "id": id }))
        }
        other => panic!("unknown mutation {other}"),
    };
    let before = app.ledger().await;
    let reply = app
        .post(
            Some(token),
            json!({ "query": query, "variables": variables }),
        )
        .await;
    if reply.body.get("errors").is_some() {
        assert_eq!(
            app.ledger().await,
            before,
            "{mutation}: a refused call appended something"
        );
    }
    reply
}

#[tokio::test]
async fn every_mutation_by_every_role_inside_and_outside_its_subtree() {
    let app = spawn_app().await;
    let mut n = 0;
    for role in ["admin", "planner", "reporter", "auditor", "viewer"] {
        let token = app
            .principal(
                &format!("{role}.matrix"),
                &role.to_uppercase(),
                Some(INSIDE),
            )
            .await;
        for mutation in MUTATIONS {
            for (place, org) in [("inside", INSIDE), ("outside", OUTSIDE)] {
                n += 1;
                let reply = attempt(&app, &token, mutation, org, n).await;
                let expected = allowed(role, mutation) && place == "inside";
                if expected {
                    assert!(
                        reply.body.get("errors").is_none(),
                        "{role} {mutation} {place}: {}",
                        reply.body
                    );
                } else {
                    assert_eq!(
                        reply.code(),
                        Some("FORBIDDEN"),
                        "{role} {mutation} {place}: {}",
                        reply.body
                    );
                }
            }
        }
    }
}

#[tokio::test]
async fn grants_are_events_an_auditor_can_trace() {
    let app = spawn_app().await;
    app.principal("thong-ke.tieu-can", "REPORTER", Some(OUTSIDE))
        .await;
    let trail = app
        .gql("auditor", r#"{ auditTrail(filter: {kind: "role_granted"}, first: 100) { edges { node { actor { id } stream } } } }"#, json!({}))
        .await;
    let edges = trail["auditTrail"]["edges"].as_array().unwrap();
    let last = &edges.last().unwrap()["node"];
    assert_eq!(last["stream"], "principal/thong-ke.tieu-can");
    assert_eq!(
        last["actor"]["id"], "admin",
        "who gave the right is recorded"
    );
    let principals = app
        .gql(
            "auditor",
            "{ principals { id grants { role orgUnit } } }",
            json!({}),
        )
        .await;
    let p = principals["principals"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["id"] == "thong-ke.tieu-can")
        .unwrap()
        .clone();
    assert_eq!(
        p["grants"][0],
        json!({ "role": "REPORTER", "orgUnit": OUTSIDE })
    );
    let viewer = app
        .gql_err(Some("viewer"), "{ principals { id } }", json!({}))
        .await;
    assert_eq!(viewer.code(), Some("FORBIDDEN"));
}

#[tokio::test]
async fn a_revoked_token_is_refused_at_once_even_on_an_open_subscription() {
    let app = spawn_app_with(Some("[limits]\nws_ping_ms = 200\n")).await;
    app.gql("admin", "mutation { createPrincipal(input: {id: \"xem.tam\", name: \"Xem tạm\", role: VIEWER}) { position } }", json!({})).await;
    let issued = app.gql("admin", "mutation { issueToken(principal: \"xem.tam\", expiresInDays: 1) { token tokenId expiresAt } }", json!({})).await;
    let token = issued["issueToken"]["token"].as_str().unwrap().to_owned();
    let token_id = issued["issueToken"]["tokenId"].as_str().unwrap().to_owned();
    assert!(issued["issueToken"]["expiresAt"].is_string());
    let me = app
        .gql(&token, "{ me { id activeTokens } }", json!({}))
        .await;
    assert_eq!(me["me"]["id"], "xem.tam");
    let mut ws = app.ws_init(&token).await;
    let ack = ws.next().await.unwrap().unwrap();
    assert!(ack.to_text().unwrap().contains("connection_ack"));
    let subscribe = json!({ "id": "1", "type": "subscribe", "payload": { "query": "subscription { indicatorEvents { position } }" } });
    ws.send(Message::Text(subscribe.to_string().into()))
        .await
        .unwrap();

    app.gql("admin", "mutation($t: ID!) { revokeToken(principal: \"xem.tam\", tokenId: $t) { principal { activeTokens } } }", json!({ "t": token_id })).await;
    let refused = app
        .post(Some(&token), json!({ "query": "{ orgUnits { code } }" }))
        .await;
    assert_eq!(refused.status, 401);
    let closed = tokio::time::timeout(std::time::Duration::from_secs(5), async {
        loop {
            match ws.next().await {
                Some(Ok(Message::Close(Some(frame)))) => return u16::from(frame.code),
                Some(Ok(_)) => continue,
                other => panic!("expected a close frame, got {other:?}"),
            }
        }
    })
    .await
    .expect("the subscription stayed open after the revocation");
    assert_eq!(closed, 4403);
}

#[tokio::test]
async fn a_disabled_principal_loses_every_token() {
    let app = spawn_app().await;
    let token = app.principal("bao-cao.tam", "REPORTER", None).await;
    app.gql(&token, "{ orgUnits { code } }", json!({})).await;
    app.gql("admin", "mutation { disablePrincipal(principal: \"bao-cao.tam\", reason: \"Chuyển công tác\") { principal { disabledReason } } }", json!({})).await;
    assert_eq!(
        app.post(Some(&token), json!({ "query": "{ orgUnits { code } }" }))
            .await
            .status,
        401
    );
}

#[tokio::test]
async fn the_actor_cannot_be_spoofed_by_any_input_field() {
    let app = spawn_app().await;
    let rice = app.indicator_id("Sản lượng lúa").await;
    let spoof = app
        .post(Some("reporter"), json!({ "query": "mutation($id: ID!) { reportActual(input: {indicator: $id, value: {amount: \"1\"}, refersTo: \"2025-12-31\", status: FINAL, reason: \"Số liệu thống kê\", actor: \"admin\"}) { position } }", "variables": { "id": rice } }))
        .await;
    assert!(
        spoof.body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("actor"),
        "{}",
        spoof.body
    );
    let ok = app
        .post(Some("reporter"), json!({ "query": "mutation($id: ID!) { reportActual(input: {indicator: $id, value: {amount: \"1\"}, refersTo: \"2025-12-31\", status: FINAL, reason: \"Số liệu thống kê\"}) { position } }", "variables": { "id": rice }, "extensions": { "actor": "admin" } }))
        .await;
    assert!(ok.body.get("errors").is_none());
    let trail = app.gql("auditor", "query($id: ID!) { indicator(id: $id) { history(first: 100) { edges { node { actor { id role } } } } } }", json!({ "id": rice })).await;
    let last = trail["indicator"]["history"]["edges"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()["node"]["actor"]
        .clone();
    assert_eq!(last, json!({ "id": "pkt-tieu-can", "role": "reporter" }));
}

#[tokio::test]
async fn failed_authentications_are_rate_limited_per_address() {
    let app = spawn_app().await;
    let mut statuses = Vec::new();
    for _ in 0..100 {
        statuses.push(
            app.post(
                Some("ct_forged_token"),
                json!({ "query": "{ orgUnits { code } }" }),
            )
            .await
            .status,
        );
    }
    assert_eq!(statuses[0], 401);
    assert_eq!(*statuses.last().unwrap(), 429);
    // A valid token from that address still goes through (behind a proxy
    // every client shares one address); failures stay refused.
    let valid = app
        .post(Some("viewer"), json!({ "query": "{ orgUnits { code } }" }))
        .await;
    assert_eq!(valid.status, 200, "{}", valid.body);
    assert!(valid.body.get("errors").is_none());
    let forged = app
        .post(
            Some("ct_forged_token"),
            json!({ "query": "{ orgUnits { code } }" }),
        )
        .await;
    assert_eq!(forged.status, 429);
}

#[tokio::test]
async fn the_bearer_scheme_is_case_insensitive() {
    let app = spawn_app().await;
    for scheme in ["bearer", "BEARER", "Bearer"] {
        let reply = app
            .client
            .post(&app.url)
            .header(
                "authorization",
                format!("{scheme} {}", app.tokens["viewer"]),
            )
            .json(&json!({ "query": "{ me { id } }" }))
            .send()
            .await
            .unwrap();
        assert_eq!(reply.status(), 200, "{scheme}");
        let body: serde_json::Value = reply.json().await.unwrap();
        assert_eq!(body["data"]["me"]["id"], "lanh-dao", "{scheme}: {body}");
    }
    let basic = app
        .client
        .post(&app.url)
        .header("authorization", format!("Basic {}", app.tokens["viewer"]))
        .json(&json!({ "query": "{ me { id } }" }))
        .send()
        .await
        .unwrap();
    assert_eq!(basic.status(), 401);
}

#[tokio::test]
async fn token_lifetimes_out_of_range_are_refused_with_a_code_not_a_dropped_connection() {
    let app = spawn_app().await;
    for days in [0u64, 3651, 2_147_483_647, 4_294_967_295] {
        let refused = app
            .gql_err(
                Some("admin"),
                "mutation($d: Int!) { issueToken(principal: \"lanh-dao\", expiresInDays: $d) { token } }",
                json!({ "d": days }),
            )
            .await;
        assert!(refused.status < 500, "{days}: {}", refused.status);
        assert!(refused.code().is_some(), "{days}: {}", refused.body);
    }
    let ok = app
        .gql(
            "admin",
            "mutation { issueToken(principal: \"lanh-dao\", expiresInDays: 3650) { expiresAt } }",
            json!({}),
        )
        .await;
    assert!(ok["issueToken"]["expiresAt"]
        .as_str()
        .unwrap()
        .starts_with("20"));
}

#[tokio::test]
async fn the_first_admin_comes_from_the_command_line_and_reads_need_a_token_unless_opened() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let run = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_chitieu"))
            .args(args)
            .arg("--data-dir")
            .arg(&data)
            .env("RUST_LOG", "warn")
            .output()
            .unwrap()
    };
    let created = run(&[
        "token",
        "create-admin",
        "--id",
        "quan-tri",
        "--name",
        "Quản trị",
    ]);
    assert!(
        created.status.success(),
        "{}",
        String::from_utf8_lossy(&created.stderr)
    );
    let out = String::from_utf8_lossy(&created.stdout).to_string();
    let token = out.split_whitespace().last().unwrap().to_owned();
    assert!(token.starts_with("ct_"));
    let again = run(&["token", "create-admin"]);
    assert!(
        !again.status.success(),
        "a second first admin must be refused"
    );

    let config = dir.path().join("chitieu.toml");
    std::fs::write(&config, "anonymous_reads = true\n").unwrap();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_chitieu"))
        .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(&data)
        .arg("--config")
        .arg(&config)
        .env("RUST_LOG", "warn")
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let url = tokio::task::spawn_blocking(move || {
        use std::io::BufRead;
        let mut url = String::new();
        for line in std::io::BufReader::new(stdout).lines() {
            let line = line.unwrap();
            if let Some(rest) = line.strip_prefix("chitieu: GraphQL at ") {
                url = rest.trim().to_owned();
            }
            if line == "chitieu: ready" {
                break;
            }
        }
        url
    })
    .await
    .unwrap();
    let client = reqwest::Client::new();
    let ask = |token: Option<&str>, query: &str| {
        let mut request = client.post(&url).json(&json!({ "query": query }));
        if let Some(t) = token {
            request = request.bearer_auth(t);
        }
        async move { request.send().await.unwrap().json::<Value>().await.unwrap() }
    };
    let me = ask(Some(&token), "{ me { id grants { role orgUnit } } }").await;
    assert_eq!(
        me["data"]["me"]["grants"][0],
        json!({ "role": "ADMIN", "orgUnit": null })
    );
    let anonymous = ask(None, "{ orgUnits { code } }").await;
    assert!(
        anonymous.get("errors").is_none(),
        "current state is open: {anonymous}"
    );
    let trail = ask(None, "{ auditTrail { totalCount } }").await;
    assert_eq!(
        trail["errors"][0]["extensions"]["code"], "UNAUTHENTICATED",
        "the audit trail never is"
    );
    let write = ask(None, r#"mutation { registerOrgUnit(input: {code: "X", name: "X", level: PROVINCE}) { position } }"#).await;
    assert_eq!(write["errors"][0]["extensions"]["code"], "UNAUTHENTICATED");
    let admin_write = ask(Some(&token), r#"mutation { registerOrgUnit(input: {code: "CT", name: "Thành phố Cần Thơ", level: PROVINCE}) { orgUnit { code } } }"#).await;
    assert_eq!(
        admin_write["data"]["registerOrgUnit"]["orgUnit"]["code"],
        "CT"
    );
    let _ = child.kill();
    let _ = child.wait();
}

#[tokio::test]
async fn a_grant_given_and_taken_back_opens_and_closes_writes_at_once() {
    let app = spawn_app().await;
    let token = app.principal("thong-ke.can-duoc", "VIEWER", None).await;
    let docs = app
        .gql("admin", "{ documents { id number } }", json!({}))
        .await;
    let ctr38 = docs["documents"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["number"] == "38-CTr/HU")
        .unwrap()["id"]
        .clone();
    let define = json!({
        "query": "mutation($doc: ID!) { defineIndicator(input: {orgUnit: \"LA.CAN-DUOC\", period: \"2025\", category: ECONOMY, name: \"Diện tích lúa chất lượng cao\", unit: \"ha\", measure: AMOUNT, document: $doc}) { position } }",
        "variables": { "doc": ctr38 }
    });
    let as_them = |body: serde_json::Value| {
        let app = &app;
        let token = token.clone();
        async move {
            let response = app
                .client
                .post(&app.url)
                .bearer_auth(token)
                .json(&body)
                .send()
                .await
                .unwrap();
            response.json::<serde_json::Value>().await.unwrap()
        }
    };
    let refused = as_them(define.clone()).await;
    assert_eq!(
        refused["errors"][0]["extensions"]["code"], "FORBIDDEN",
        "{refused}"
    );
    let grant = "mutation($p: ID!) { grantRole(input: {principal: $p, role: PLANNER, orgUnit: \"LA.CAN-DUOC\"}) { principal { grants { role orgUnit } } } }";
    let granted = app
        .gql("admin", grant, json!({ "p": "thong-ke.can-duoc" }))
        .await;
    assert!(
        granted["grantRole"]["principal"]["grants"]
            .as_array()
            .unwrap()
            .iter()
            .any(|g| g["role"] == "PLANNER" && g["orgUnit"] == "LA.CAN-DUOC"),
        "{granted}"
    );
    let allowed = as_them(define.clone()).await;
    assert!(allowed.get("errors").is_none(), "{allowed}");
    let revoke = "mutation($p: ID!) { revokeGrant(input: {principal: $p, role: PLANNER, orgUnit: \"LA.CAN-DUOC\"}) { position } }";
    app.gql("admin", revoke, json!({ "p": "thong-ke.can-duoc" }))
        .await;
    let again = as_them(define).await;
    assert_eq!(
        again["errors"][0]["extensions"]["code"], "FORBIDDEN",
        "{again}"
    );
}

#[tokio::test]
async fn behind_a_trusted_proxy_failures_count_per_forwarded_client() {
    let app = spawn_app_with(Some("trusted_proxies = [\"127.0.0.1\"]\n")).await;
    let forged = |client: &'static str| {
        app.client
            .post(&app.url)
            .header("authorization", "Bearer ct_forged_token")
            .header("x-forwarded-for", client)
            .json(&json!({ "query": "{ today }" }))
            .send()
    };
    let mut last = 0;
    for _ in 0..25 {
        last = forged("203.0.113.7").await.unwrap().status().as_u16();
    }
    assert_eq!(last, 429, "the attacker behind the proxy is limited");
    // Another client behind the same proxy is not.
    assert_eq!(forged("203.0.113.8").await.unwrap().status().as_u16(), 401);
}

#[tokio::test]
async fn an_auditor_scoped_to_one_district_reads_its_subtree_and_is_refused_elsewhere() {
    let app = spawn_app().await;
    let scoped = app
        .principal("ubkt.tieu-can", "AUDITOR", Some(OUTSIDE))
        .await;
    let everywhere = app
        .gql(
            "auditor",
            "{ indicators(first: 1) { totalCount } }",
            json!({}),
        )
        .await["indicators"]["totalCount"]
        .as_u64()
        .unwrap();
    let units: Vec<Value> = app
        .gql("viewer", "{ orgUnits { code parent } }", json!({}))
        .await["orgUnits"]
        .as_array()
        .unwrap()
        .clone();
    let inside = |code: &str| {
        let mut cursor = Some(code.to_owned());
        while let Some(c) = cursor {
            if c == OUTSIDE {
                return true;
            }
            cursor = units
                .iter()
                .find(|u| u["code"] == c.as_str())
                .and_then(|u| u["parent"].as_str().map(str::to_owned));
        }
        false
    };

    // Its own subtree: listed without naming it, and read in depth.
    let mine = app
        .gql(
            &scoped,
            "{ indicators(first: 100) { totalCount nodes { id name orgUnitCode } } }",
            json!({}),
        )
        .await;
    let total = mine["indicators"]["totalCount"].as_u64().unwrap();
    assert!(total > 0 && total < everywhere, "{total} of {everywhere}");
    let nodes = mine["indicators"]["nodes"].as_array().unwrap();
    assert!(nodes
        .iter()
        .all(|n| inside(n["orgUnitCode"].as_str().unwrap())));
    let own = nodes[0]["id"].as_str().unwrap();
    let history = app
        .gql(
            &scoped,
            "query($id: ID!) { indicator(id: $id) { history(first: 5) { totalCount } } }",
            json!({ "id": own }),
        )
        .await;
    assert!(
        history["indicator"]["history"]["totalCount"]
            .as_u64()
            .unwrap()
            > 0
    );
    let trail = app
        .gql(
            &scoped,
            "{ auditTrail(first: 100) { nodes { orgUnit stream } } }",
            json!({}),
        )
        .await;
    let entries = trail["auditTrail"]["nodes"].as_array().unwrap();
    assert!(!entries.is_empty());
    assert!(
        entries
            .iter()
            .all(|e| e["orgUnit"].as_str().is_some_and(inside)),
        "only its subtree, and no principals' changes: {entries:?}"
    );

    // Elsewhere: FORBIDDEN, and the error says nothing about what is there.
    let theirs = app
        .gql(
            "viewer",
            "query($org: ID!) { indicators(filter: {orgUnit: $org}, first: 1) { nodes { id name } } }",
            json!({ "org": INSIDE }),
        )
        .await["indicators"]["nodes"][0]
        .clone();
    let refusals = [
        (
            "query($id: ID!) { indicator(id: $id) { name targets { value } } }",
            json!({ "id": theirs["id"] }),
        ),
        (
            "query($org: ID!) { indicators(filter: {orgUnit: $org}) { nodes { name } } }",
            json!({ "org": INSIDE }),
        ),
        (
            "query($org: ID!) { auditTrail(filter: {orgUnit: $org}) { nodes { position } } }",
            json!({ "org": INSIDE }),
        ),
        (
            "query($org: ID!) { summary(orgUnit: $org, period: \"2025\") { total } }",
            json!({ "org": INSIDE }),
        ),
        (
            "query($org: ID!) { periods(orgUnit: $org) { period } }",
            json!({ "org": INSIDE }),
        ),
        ("{ principals { id } }", json!({})),
    ];
    for (query, variables) in refusals {
        let refused = app.gql_err(Some(&scoped), query, variables).await;
        assert_eq!(
            refused.code(),
            Some("FORBIDDEN"),
            "{query}: {}",
            refused.body
        );
        let text = refused.body.to_string();
        assert!(
            !text.contains(theirs["name"].as_str().unwrap()) && !text.contains("\"name\""),
            "{text}"
        );
        assert!(
            refused.body["data"].is_null()
                || refused.body["data"]
                    .as_object()
                    .is_some_and(|d| d.values().all(Value::is_null)),
            "{text}"
        );
    }
}

#[tokio::test]
async fn a_demo_restarted_on_its_store_keeps_one_valid_token_per_person() {
    let mut app = spawn_app().await;
    let first = app.tokens.clone();
    // One kept token stops working: the restart replaces it, and only it.
    let viewer_token = app
        .gql("admin", "{ principals { id activeTokens } }", json!({}))
        .await["principals"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["id"] == "lanh-dao")
        .unwrap()["activeTokens"][0]
        .as_str()
        .unwrap()
        .to_owned();
    app.gql(
        "admin",
        "mutation($t: ID!) { revokeToken(principal: \"lanh-dao\", tokenId: $t) { position } }",
        json!({ "t": viewer_token }),
    )
    .await;
    app.restart().await;
    app.restart().await;
    for (person, token) in &first {
        if person == "lanh-dao" || person == "viewer" {
            assert_ne!(&app.tokens[person], token, "a revoked token is replaced");
        } else {
            assert_eq!(&app.tokens[person], token, "{person} keeps its token");
        }
    }
    let principals = app
        .gql("admin", "{ principals { id activeTokens } }", json!({}))
        .await;
    for p in principals["principals"].as_array().unwrap() {
        if first.contains_key(p["id"].as_str().unwrap()) {
            assert_eq!(p["activeTokens"].as_array().unwrap().len(), 1, "{p}");
        }
    }
    let old = app
        .gql_err(Some(&first["lanh-dao"]), "{ me { id } }", json!({}))
        .await;
    assert_eq!(old.status, 401);
}
