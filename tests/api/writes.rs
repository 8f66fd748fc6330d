//! Every mutation, attribution, conflicts, idempotent retries, refusals.

use crate::helpers::*;
use serde_json::json;

const FIELDS: &str = "indicator { id version targets { track value revisions } latestActual { reportId figure status corrects correctionReason reportedBy } retiredReason } position replayed";

async fn document_and_org(app: &TestApp) -> (String, String) {
    let data = app
        .gql(
            "admin",
            r#"mutation { registerOrgUnit(input: {code: "TV.TIEU-CAN.PHU-CAN", name: "Xã Phú Cần", level: COMMUNE, parent: "TV.TIEU-CAN"}) { orgUnit { code level parent } position } }"#,
            json!({}),
        )
        .await;
    assert_eq!(data["registerOrgUnit"]["orgUnit"]["parent"], "TV.TIEU-CAN");
    let data = app
        .gql(
            "planner",
            r#"mutation { registerDocument(input: {number: "12-NQ/ĐU", kind: RESOLUTION, issuingBody: "Đảng ủy xã Phú Cần", orgUnit: "TV.TIEU-CAN.PHU-CAN", issuedOn: "2023-01-10", title: "Nghị quyết năm 2023"}) { document { id number issuedOn } } }"#,
            json!({}),
        )
        .await;
    assert_eq!(
        data["registerDocument"]["document"]["issuedOn"],
        "2023-01-10"
    );
    (
        data["registerDocument"]["document"]["id"]
            .as_str()
            .unwrap()
            .to_owned(),
        "TV.TIEU-CAN.PHU-CAN".to_owned(),
    )
}

#[tokio::test]
async fn every_mutation_returns_the_state_after_it_attributed_to_the_token() {
    let app = spawn_app().await;
    let (doc, org) = document_and_org(&app).await;
    let define = app
        .gql(
            "planner",
            &format!("mutation($org: ID!, $doc: ID!) {{ defineIndicator(input: {{orgUnit: $org, period: \"2023\", category: SOCIETY, name: \"Tỷ lệ hộ có nhà tiêu hợp vệ sinh\", unit: \"%\", measure: PERCENTAGE, document: $doc}}) {{ {FIELDS} }} }}"),
            json!({ "org": org, "doc": doc }),
        )
        .await;
    let id = define["defineIndicator"]["indicator"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(define["defineIndicator"]["indicator"]["version"], 1);
    let set = app
        .gql(
            "planner",
            &format!("mutation($id: ID!, $doc: ID!) {{ setTarget(input: {{indicator: $id, track: RESOLUTION, target: {{kind: AT_LEAST, value: \"85.5\"}}, document: $doc}}) {{ {FIELDS} }} }}"),
            json!({ "id": id, "doc": doc }),
        )
        .await;
    assert_eq!(set["setTarget"]["indicator"]["targets"][0]["value"], "85.5");
    let reported = app
        .gql(
            "reporter",
            &format!("mutation($id: ID!) {{ reportActual(input: {{indicator: $id, value: {{numerator: \"1710\", denominator: \"2000\"}}, refersTo: \"2023-12-31\", status: FINAL, reason: \"Số liệu thống kê\"}}) {{ {FIELDS} }} }}"),
            json!({ "id": id }),
        )
        .await;
    let actual = &reported["reportActual"]["indicator"]["latestActual"];
    assert_eq!(actual["figure"], "85.5");
    assert_eq!(
        actual["reportedBy"], "pkt-tieu-can",
        "the actor comes from the token"
    );
    let report_id = actual["reportId"].as_str().unwrap().to_owned();
    let corrected = app
        .gql(
            "reporter",
            &format!("mutation($id: ID!, $r: ID!) {{ correctActual(input: {{indicator: $id, corrects: $r, value: {{numerator: \"1690\", denominator: \"2000\"}}, refersTo: \"2023-12-31\", status: FINAL, reason: \"Trùng 20 hộ\"}}) {{ {FIELDS} }} }}"),
            json!({ "id": id, "r": report_id }),
        )
        .await;
    let actual = &corrected["correctActual"]["indicator"]["latestActual"];
    assert_eq!(actual["figure"], "84.5");
    assert_eq!(actual["corrects"], report_id);
    assert_eq!(actual["correctionReason"], "Trùng 20 hộ");
    let revised = app
        .gql(
            "planner",
            &format!("mutation($id: ID!) {{ reviseTarget(input: {{indicator: $id, track: RESOLUTION, target: {{kind: AT_LEAST, value: \"84\"}}, document: \"{}\", reason: \"Điều chỉnh\"}}) {{ {FIELDS} }} }}", demo_document(&app, "38-CTr/HU").await),
            json!({ "id": id }),
        )
        .await;
    assert_eq!(
        revised["reviseTarget"]["indicator"]["targets"][0]["revisions"],
        1
    );
    let retired = app
        .gql("planner", &format!("mutation($id: ID!) {{ retireIndicator(input: {{indicator: $id, reason: \"Sáp nhập xã\"}}) {{ {FIELDS} }} }}"), json!({ "id": id }))
        .await;
    assert_eq!(
        retired["retireIndicator"]["indicator"]["retiredReason"],
        "Sáp nhập xã"
    );
    assert_eq!(retired["retireIndicator"]["indicator"]["version"], 6);
    let history = app
        .gql("auditor", "query($id: ID!) { indicator(id: $id) { history { edges { node { kind actor { id } } } } } }", json!({ "id": id }))
        .await;
    let actors: Vec<_> = history["indicator"]["history"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"]["actor"]["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        actors,
        [
            "vp-huyen-uy",
            "vp-huyen-uy",
            "pkt-tieu-can",
            "pkt-tieu-can",
            "vp-huyen-uy",
            "vp-huyen-uy"
        ]
    );
}

async fn demo_document(app: &TestApp, number: &str) -> String {
    let docs = app
        .gql("planner", "{ documents { id number } }", json!({}))
        .await;
    docs["documents"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["number"] == number)
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[tokio::test]
async fn a_concurrent_edit_gets_a_conflict_with_the_current_version() {
    let app = spawn_app().await;
    let rice = app.indicator_id("Sản lượng lúa").await;
    let version = app
        .gql(
            "viewer",
            "query($id: ID!) { indicator(id: $id) { version } }",
            json!({ "id": rice }),
        )
        .await["indicator"]["version"]
        .as_u64()
        .unwrap();
    let q = r#"mutation($id: ID!, $v: Int!, $value: Decimal!) { reportActual(input: {indicator: $id, value: {amount: $value}, refersTo: "2025-06-30", status: ESTIMATE, expectedVersion: $v}) { indicator { version } } }"#;
    let (a, b) = tokio::join!(
        app.post(
            Some("reporter"),
            json!({ "query": q, "variables": { "id": rice, "v": version, "value": "41000" } })
        ),
        app.post(
            Some("reporter"),
            json!({ "query": q, "variables": { "id": rice, "v": version, "value": "42000" } })
        ),
    );
    let (won, lost) = if a.body.get("errors").is_none() {
        (a, b)
    } else {
        (b, a)
    };
    assert_eq!(
        won.body["data"]["reportActual"]["indicator"]["version"],
        version + 1
    );
    assert_eq!(lost.code(), Some("CONFLICT"), "{}", lost.body);
    assert_eq!(
        lost.body["errors"][0]["extensions"]["currentVersion"],
        version + 1
    );
    let after = app
        .gql(
            "viewer",
            "query($id: ID!) { indicator(id: $id) { version } }",
            json!({ "id": rice }),
        )
        .await;
    assert_eq!(
        after["indicator"]["version"],
        version + 1,
        "the loser wrote nothing"
    );
}

#[tokio::test]
async fn an_idempotent_retry_returns_the_first_result_and_writes_nothing() {
    let app = spawn_app().await;
    let rice = app.indicator_id("Sản lượng lúa").await;
    let q = r#"mutation($id: ID!, $value: Decimal!) { reportActual(input: {indicator: $id, value: {amount: $value}, refersTo: "2025-12-31", status: FINAL, reason: "Số liệu thống kê", idempotencyKey: "bc-2025-lua"}) { position replayed indicator { version latestActual { figure } } } }"#;
    let first = app
        .gql("reporter", q, json!({ "id": rice, "value": "84120.5" }))
        .await;
    let again = app
        .gql("reporter", q, json!({ "id": rice, "value": "84120.5" }))
        .await;
    assert_eq!(first["reportActual"]["replayed"], false);
    assert_eq!(again["reportActual"]["replayed"], true);
    assert_eq!(
        again["reportActual"]["position"],
        first["reportActual"]["position"]
    );
    assert_eq!(
        again["reportActual"]["indicator"]["version"],
        first["reportActual"]["indicator"]["version"]
    );
    let other = app
        .gql_err(Some("reporter"), q, json!({ "id": rice, "value": "1" }))
        .await;
    assert_eq!(other.code(), Some("VALIDATION"));
    let ledger = app
        .gql("auditor", "{ ledger { position } }", json!({}))
        .await;
    assert_eq!(
        ledger["ledger"]["position"],
        first["reportActual"]["position"]
    );
}

#[tokio::test]
async fn refused_writes_say_why_and_write_nothing() {
    let app = spawn_app().await;
    let rice = app.indicator_id("Sản lượng lúa").await;
    let before = app
        .gql("auditor", "{ ledger { position } }", json!({}))
        .await["ledger"]["position"]
        .clone();
    let report = r#"mutation($id: ID!) { reportActual(input: {indicator: $id, value: {amount: "1"}, refersTo: "2025-12-31", status: FINAL, reason: "Số liệu thống kê"}) { position } }"#;
    let anonymous = app.gql_err(None, report, json!({ "id": rice })).await;
    assert_eq!(anonymous.code(), Some("UNAUTHENTICATED"));
    let viewer = app
        .gql_err(Some("viewer"), report, json!({ "id": rice }))
        .await;
    assert_eq!(viewer.code(), Some("FORBIDDEN"));
    let planner = app
        .gql_err(Some("planner"), report, json!({ "id": rice }))
        .await;
    assert_eq!(
        planner.code(),
        Some("FORBIDDEN"),
        "planners set targets, reporters report"
    );
    let bad_token = app
        .client
        .post(&app.url)
        .bearer_auth("ct_forged")
        .json(&json!({ "query": "{ orgUnits { code } }" }))
        .send()
        .await
        .unwrap();
    assert_eq!(bad_token.status().as_u16(), 401);
    let no_reason = app
        .gql_err(Some("planner"), r#"mutation($id: ID!) { retireIndicator(input: {indicator: $id, reason: "  "}) { position } }"#, json!({ "id": rice }))
        .await;
    assert_eq!(no_reason.code(), Some("VALIDATION"));
    assert!(no_reason.body["errors"][0]["message"]
        .as_str()
        .unwrap()
        .contains("reason"));
    let float = app
        .gql_err(Some("reporter"), r#"mutation($id: ID!) { reportActual(input: {indicator: $id, value: {amount: 0.1}, refersTo: "2025-12-31", status: FINAL, reason: "Số liệu thống kê"}) { position } }"#, json!({ "id": rice }))
        .await;
    assert!(
        float.body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("strings"),
        "{}",
        float.body
    );
    let missing = app
        .gql_err(Some("reporter"), r#"mutation { reportActual(input: {indicator: "0195f3c0-0000-7000-8000-000000000001", value: {amount: "1"}, refersTo: "2025-12-31", status: FINAL, reason: "Số liệu thống kê"}) { position } }"#, json!({}))
        .await;
    assert_eq!(missing.code(), Some("NOT_FOUND"));
    let after = app
        .gql("auditor", "{ ledger { position } }", json!({}))
        .await["ledger"]["position"]
        .clone();
    assert_eq!(before, after, "nothing was written");
}

#[tokio::test]
async fn a_kept_answer_is_never_served_after_a_write() {
    let app = spawn_app().await;
    let rice = app.indicator_id("Sản lượng lúa").await;
    let q = "query($id: ID!) { indicator(id: $id) { version latestActual { figure } } me { id } }";
    // Asked twice: the second answer may come from the response cache.
    let first = app.gql("viewer", q, json!({ "id": rice })).await;
    let again = app.gql("viewer", q, json!({ "id": rice })).await;
    assert_eq!(first, again);
    assert_eq!(first["indicator"]["latestActual"], serde_json::Value::Null);
    // The same query by someone else answers for them.
    let auditor = app.gql("auditor", q, json!({ "id": rice })).await;
    assert_eq!(auditor["me"]["id"], "ubkt");
    assert_eq!(again["me"]["id"], "lanh-dao");
    // A write through the API, then the same query.
    app.gql(
        "reporter",
        r#"mutation($id: ID!) { reportActual(input: {indicator: $id, value: {amount: "84120.5"}, refersTo: "2025-12-31", status: FINAL, reason: "Số liệu thống kê"}) { position } }"#,
        json!({ "id": rice }),
    )
    .await;
    let after = app.gql("viewer", q, json!({ "id": rice })).await;
    assert_eq!(after["indicator"]["latestActual"]["figure"], "84120.5");
    assert_eq!(
        after["indicator"]["version"].as_u64().unwrap(),
        first["indicator"]["version"].as_u64().unwrap() + 1
    );
}

/// Kept answers about one indicator survive writes to others; so none may
/// survive a write that changes it through a link: its previous period's
/// figure (its "so cùng kỳ"), nor a list whose membership a new indicator
/// changes.
#[tokio::test]
async fn a_kept_answer_follows_writes_to_the_indicators_it_depends_on() {
    let app = spawn_app().await;
    let org = "LA.CAN-DUOC";
    let doc = app.document_of(org).await;
    let define = |period: &str, previous: Option<&str>| {
        app.gql(
            "admin",
            "mutation($org: ID!, $doc: ID!, $period: String!, $previous: ID) { defineIndicator(input: {orgUnit: $org, period: $period, category: ECONOMY, name: \"Diện tích cây ăn trái\", unit: \"ha\", measure: AMOUNT, document: $doc, previous: $previous}) { indicator { id } } }",
            json!({ "org": org, "doc": doc, "period": period, "previous": previous }),
        )
    };
    let last_year = define("2024", None).await["defineIndicator"]["indicator"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let this_year = define("2025", Some(&last_year)).await["defineIndicator"]["indicator"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let report = |id: String, value: &'static str, on: &'static str| {
        let app = &app;
        async move {
            app.gql(
                "admin",
                "mutation($id: ID!, $v: Decimal!, $on: Date!) { reportActual(input: {indicator: $id, value: {amount: $v}, refersTo: $on, status: ESTIMATE}) { position } }",
                json!({ "id": id, "v": value, "on": on }),
            )
            .await;
        }
    };
    report(this_year.clone(), "1100", "2025-12-31").await;
    let q =
        "query($id: ID!) { indicator(id: $id) { latestActual { figure } changeOnPreviousPeriod } }";
    let first = app.gql("viewer", q, json!({ "id": this_year })).await;
    assert_eq!(
        first["indicator"]["changeOnPreviousPeriod"],
        serde_json::Value::Null
    );
    assert_eq!(
        app.gql("viewer", q, json!({ "id": this_year })).await,
        first
    );
    // Another indicator written: the same answer (it may be kept).
    let rice = app.indicator_id("Sản lượng lúa").await;
    report(rice, "84000", "2025-12-31").await;
    assert_eq!(
        app.gql("viewer", q, json!({ "id": this_year })).await,
        first
    );
    // The previous period written: this one's change on it moves.
    report(last_year.clone(), "1000", "2024-12-31").await;
    let linked = app.gql("viewer", q, json!({ "id": this_year })).await;
    assert_eq!(linked["indicator"]["latestActual"]["figure"], "1100");
    assert!(
        !linked["indicator"]["changeOnPreviousPeriod"].is_null(),
        "a kept answer missed the previous period's figure: {linked}"
    );
    // A list, then a new indicator in it.
    let list = "query($org: ID!) { indicators(first: 100, filter: {orgUnit: $org, period: \"2024\"}) { totalCount } }";
    let before = app.gql("viewer", list, json!({ "org": org })).await["indicators"]["totalCount"]
        .as_u64()
        .unwrap();
    define("2024", None).await;
    let after = app.gql("viewer", list, json!({ "org": org })).await["indicators"]["totalCount"]
        .as_u64()
        .unwrap();
    assert_eq!(after, before + 1);
}

/// A reason that does not parse is refused as it is (VALIDATION, saying
/// why), never dropped and then reported as missing; nothing is appended.
#[tokio::test]
async fn a_reason_with_a_control_character_is_refused_saying_why() {
    let app = spawn_app().await;
    let rice = app.indicator_id("Sản lượng lúa").await;
    let documents = app.gql("auditor", "{ documents { id } }", json!({})).await;
    let doc = documents["documents"][0]["id"].clone();
    let before = app.ledger().await;
    let refused = app
        .gql_err(
            Some("planner"),
            "mutation($id: ID!, $doc: ID!, $why: String!) { reviseTarget(input: {indicator: $id, track: RESOLUTION, target: {kind: PLAIN, value: \"83000\"}, document: $doc, reason: $why}) { position } }",
            json!({ "id": rice, "doc": doc, "why": "Hạn mặn\u{7} kéo dài" }),
        )
        .await;
    assert_eq!(refused.code(), Some("VALIDATION"));
    let message = refused.body["errors"][0]["message"].as_str().unwrap();
    assert!(message.contains("control"), "{message}");
    assert_eq!(app.ledger().await, before);
}

#[tokio::test]
async fn figures_keep_their_scale_and_what_does_not_fit_exactly_is_refused() {
    let app = spawn_app().await;
    let rice = app.indicator_id("Sản lượng lúa").await;
    let written = app
        .gql(
            "reporter",
            r#"mutation($id: ID!) { reportActual(input: {indicator: $id, value: {amount: "71.50"}, refersTo: "2025-06-30", status: ESTIMATE}) { indicator { latestEstimate { value figure } } } }"#,
            json!({ "id": rice }),
        )
        .await;
    let estimate = &written["reportActual"]["indicator"]["latestEstimate"];
    assert_eq!(estimate["value"], "71.50");
    assert_eq!(estimate["figure"], "71.50");
    let head = app.ledger().await;
    for too_precise in [
        "0.00000000000000000000000000001",
        "1234567890123456789012345678901",
    ] {
        let refused = app
            .gql_err(
                Some("reporter"),
                r#"mutation($id: ID!, $v: Decimal!) { reportActual(input: {indicator: $id, value: {amount: $v}, refersTo: "2025-06-30", status: ESTIMATE}) { position } }"#,
                json!({ "id": rice, "v": too_precise }),
            )
            .await;
        assert!(refused.code().is_some(), "{}", refused.body);
        assert!(
            refused.body.to_string().contains("exactly"),
            "{}",
            refused.body
        );
    }
    assert_eq!(app.ledger().await, head);
}

#[tokio::test]
async fn names_with_invisible_format_characters_are_refused_saying_which_and_where() {
    let app = spawn_app().await;
    let head = app.ledger().await;
    let refused = app
        .gql_err(
            Some("admin"),
            "mutation($name: String!) { registerOrgUnit(input: {code: \"TV.TIEU-CAN.X\", name: $name, level: COMMUNE, parent: \"TV.TIEU-CAN\"}) { position } }",
            json!({ "name": "Xã \u{202E}nầC úhP" }),
        )
        .await;
    assert_eq!(refused.code(), Some("VALIDATION"), "{}", refused.body);
    let message = refused.body["errors"][0]["message"].as_str().unwrap();
    assert!(
        message.contains("RIGHT-TO-LEFT OVERRIDE (U+202E) at character 4"),
        "{message}"
    );
    assert_eq!(app.ledger().await, head);
}

/// 001's "Tỷ lệ trẻ em dưới 5 tuổi suy dinh dưỡng về cân nặng: 11‰" is an
/// exact figure on a lower-is-better indicator: 9‰ beats it, 13‰ misses
/// it (it was judged upside down), and the indicator says why.
#[tokio::test]
async fn an_exact_target_on_a_lower_is_better_indicator_is_judged_as_a_ceiling() {
    let app = spawn_app().await;
    let found = app
        .gql(
            "auditor",
            r#"{ indicators(first: 5, filter: {name: "suy dinh dưỡng về cân nặng", orgUnit: "HG.PHUNG-HIEP", period: "2024"}) { nodes { id better betterBecause targets { kind value } } } }"#,
            json!({}),
        )
        .await;
    let node = &found["indicators"]["nodes"][0];
    assert_eq!(node["better"], "LOWER");
    assert_eq!(node["betterBecause"], "NAME");
    assert_eq!(node["targets"][0]["kind"], "PLAIN");
    let id = node["id"].as_str().unwrap();
    let report = |value: &str| {
        let q = r#"mutation($id: ID!, $v: Decimal!) { reportActual(input: {indicator: $id, value: {amount: $v}, refersTo: "2024-12-31", status: ESTIMATE}) { indicator { achievement { status percentOfTarget } } } }"#;
        app.gql("reporter", q, json!({ "id": id, "v": value }))
    };
    let status =
        |v: &serde_json::Value| v["reportActual"]["indicator"]["achievement"]["status"].clone();
    assert_eq!(status(&report("9").await), "EXCEEDED");
    assert_eq!(status(&report("11").await), "MET");
    assert_eq!(status(&report("13").await), "NOT_MET");
    // A bare figure elsewhere is still read as at least.
    let rice = app.indicator_id("Sản lượng lúa").await;
    let rice_better = app
        .gql(
            "auditor",
            "query($id: ID!) { indicator(id: $id) { better betterBecause } }",
            json!({ "id": rice }),
        )
        .await;
    assert_eq!(rice_better["indicator"]["better"], "HIGHER");
}

/// A planner says which way is good where the name and kind would judge
/// it wrong; the judgement follows at once, `betterBecause` says SET, the
/// history keeps who and why, and a refused setting appends nothing.
#[tokio::test]
async fn a_direction_set_by_a_planner_changes_the_judgement_and_is_in_the_history() {
    let app = spawn_app().await;
    let rice = app.indicator_id("Sản lượng lúa").await;
    let set = r#"mutation($id: ID!, $b: Better!, $r: String!) { setIndicatorDirection(input: {indicator: $id, better: $b, reason: $r}) { indicator { better betterBecause achievement { status } } } }"#;
    let head = app.ledger().await;
    let no_reason = app
        .gql_err(
            Some("planner"),
            set,
            json!({ "id": rice, "b": "LOWER", "r": " " }),
        )
        .await;
    assert_eq!(no_reason.code(), Some("VALIDATION"), "{}", no_reason.body);
    let reporter = app
        .gql_err(
            Some("reporter"),
            set,
            json!({ "id": rice, "b": "LOWER", "r": "Giảm diện tích lúa" }),
        )
        .await;
    assert_eq!(reporter.code(), Some("FORBIDDEN"), "{}", reporter.body);
    assert_eq!(
        app.ledger().await,
        head,
        "a refused setting appends nothing"
    );

    let report = r#"mutation($id: ID!) { reportActual(input: {indicator: $id, value: {amount: "80000"}, refersTo: "2025-12-31", status: ESTIMATE}) { indicator { achievement { status } } } }"#;
    let before = app.gql("reporter", report, json!({ "id": rice })).await;
    assert_eq!(
        before["reportActual"]["indicator"]["achievement"]["status"], "NOT_MET",
        "80.000 t against 85.000 t, higher is better"
    );
    let reason = "Chuyển đổi diện tích lúa kém hiệu quả sang cây ăn trái";
    let set_lower = app
        .gql(
            "planner",
            set,
            json!({ "id": rice, "b": "LOWER", "r": reason }),
        )
        .await;
    let indicator = &set_lower["setIndicatorDirection"]["indicator"];
    assert_eq!(indicator["better"], "LOWER");
    assert_eq!(indicator["betterBecause"], "SET");
    assert_eq!(indicator["achievement"]["status"], "EXCEEDED");
    let again = app
        .gql_err(
            Some("planner"),
            set,
            json!({ "id": rice, "b": "LOWER", "r": reason }),
        )
        .await;
    assert_eq!(again.code(), Some("VALIDATION"), "{}", again.body);

    let history = app
        .gql(
            "auditor",
            "query($id: ID!) { indicator(id: $id) { history { edges { node { kind reason actor { id } } } } } }",
            json!({ "id": rice }),
        )
        .await;
    let set_entry = history["indicator"]["history"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| &e["node"])
        .find(|n| n["kind"] == "indicator_direction_set")
        .cloned()
        .unwrap_or_default();
    assert_eq!(set_entry["reason"], reason);
    let me = app.gql("planner", "{ me { id } }", json!({})).await;
    assert_eq!(set_entry["actor"]["id"], me["me"]["id"]);
}
