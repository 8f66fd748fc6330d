//! Every root query field, and time travel.

use crate::helpers::*;
use serde_json::json;

#[tokio::test]
async fn every_root_query_answers_with_the_demo_data() {
    let app = spawn_app().await;
    let budget = app.indicator_id("Thu ngân sách").await;
    let data = app
        .gql(
            "auditor",
            r#"query($id: ID!) {
                indicator(id: $id) { name period unit version
                    targets { track kind value document { number } }
                    latestActual { figure status supersedes }
                    achievement(track: STRETCH) { status percentOfTarget overTarget overTargetInPoints }
                    history(first: 2) { totalCount pageInfo { hasNextPage endCursor } edges { node { kind version actor { id role } } } } }
                indicators(filter: {orgUnit: "LA.CAN-DUOC", includeDescendants: true, period: "2025"}, first: 5) {
                    totalCount pageInfo { hasNextPage } edges { cursor node { name orgUnitCode } } }
                auditTrail(filter: {actor: "reporter.can-duoc", orgUnit: "LA"}, first: 10) { edges { node { kind actor { name } orgUnit } } }
                summary(orgUnit: "TV.TIEU-CAN", period: "2022") { exceeded met notMet noData withoutTarget total }
                orgUnits { code level parent }
                documents { number title }
                ledger { position hash projectedPosition }
                verifyLedger { ok checked position hash }
            }"#,
            json!({ "id": budget }),
        )
        .await;
    let indicator = &data["indicator"];
    assert_eq!(indicator["name"], "Thu ngân sách");
    assert_eq!(indicator["targets"][0]["track"], "ASSIGNED");
    assert_eq!(indicator["targets"][0]["value"], "581");
    assert_eq!(indicator["targets"][0]["document"]["number"], "101-NQ/TU");
    // The district's own 581 (its appendix) and stretch 600 (its body).
    assert_eq!(indicator["targets"][1]["track"], "RESOLUTION");
    assert_eq!(indicator["targets"][1]["value"], "581");
    assert_eq!(indicator["targets"][1]["document"]["number"], "38-CTr/HU");
    assert_eq!(indicator["targets"][2]["track"], "STRETCH");
    assert_eq!(indicator["targets"][2]["value"], "600");
    assert_eq!(indicator["latestActual"]["figure"], "612.4");
    assert_eq!(indicator["latestActual"]["status"], "FINAL");
    assert_eq!(indicator["achievement"]["percentOfTarget"], "102.07");
    assert_eq!(indicator["achievement"]["status"], "EXCEEDED");
    // Defined, three targets, an estimate and the final figure.
    assert_eq!(indicator["history"]["totalCount"], 6);
    assert_eq!(indicator["history"]["pageInfo"]["hasNextPage"], true);
    assert_eq!(
        indicator["history"]["edges"][0]["node"]["kind"],
        "indicator_defined"
    );
    assert_eq!(
        indicator["history"]["edges"][0]["node"]["actor"]["role"],
        "planner"
    );
    let list = &data["indicators"];
    assert_eq!(
        list["totalCount"], 57,
        "the 58 target rows of 38-CTr/HU, budget revenue's two tracks on one indicator"
    );
    assert_eq!(list["edges"].as_array().unwrap().len(), 5);
    assert_eq!(list["pageInfo"]["hasNextPage"], true);
    let trail = data["auditTrail"]["edges"].as_array().unwrap();
    assert_eq!(
        trail.len(),
        2,
        "the reporter's estimate and final figure in Long An"
    );
    assert!(trail.iter().all(|e| e["node"]["kind"] == "actual_reported"));
    let summary = &data["summary"];
    // Every 2022 result of 002 and the households' total the demo adds;
    // seven carry the target written next to them, and gross output the
    // growth target the report quotes (judged on the change it states).
    assert_eq!(summary["total"], 165);
    assert_eq!(
        summary["exceeded"], 6,
        "growth, gross output, investment, cash crops, enterprises, labour export"
    );
    assert_eq!(summary["met"], 1, "canals dredged 70/70");
    assert_eq!(summary["notMet"], 1, "disbursement 91,86%");
    assert_eq!(summary["withoutTarget"], 157);
    assert_eq!(
        data["orgUnits"].as_array().unwrap().len(),
        13,
        "4 provinces, 4 districts, a town, the 3 provinces of 2025 and a commune of 2025"
    );
    assert!(data["documents"]
        .as_array()
        .unwrap()
        .iter()
        .any(|d| d["number"] == "38-CTr/HU"));
    assert_eq!(data["verifyLedger"]["ok"], true);
    assert_eq!(data["verifyLedger"]["hash"], data["ledger"]["hash"]);
    assert_eq!(
        data["ledger"]["position"],
        data["ledger"]["projectedPosition"]
    );
}

#[tokio::test]
async fn paging_continues_after_the_cursor_and_name_search_ignores_diacritics() {
    let app = spawn_app().await;
    let page = |after: Option<String>| {
        let app = &app;
        async move {
            app.gql(
                "viewer",
                "query($after: String) { indicators(first: 4, after: $after) { totalCount pageInfo { hasNextPage endCursor } edges { node { id orgUnitCode } } } }",
                json!({ "after": after }),
            )
            .await
        }
    };
    let mut seen = Vec::new();
    let mut units = Vec::new();
    let mut after = None;
    loop {
        let data = page(after.clone()).await;
        for edge in data["indicators"]["edges"].as_array().unwrap() {
            seen.push(edge["node"]["id"].as_str().unwrap().to_owned());
            units.push(edge["node"]["orgUnitCode"].as_str().unwrap().to_owned());
        }
        if data["indicators"]["pageInfo"]["hasNextPage"] != true {
            assert_eq!(
                seen.len() as u64,
                data["indicators"]["totalCount"].as_u64().unwrap()
            );
            break;
        }
        after = data["indicators"]["pageInfo"]["endCursor"]
            .as_str()
            .map(str::to_owned);
    }
    let unique: std::collections::HashSet<_> = seen.iter().collect();
    assert_eq!(unique.len(), seen.len());
    // Every org unit's indicators in turn, units in the order of their codes.
    assert!(units.windows(2).all(|w| w[0] <= w[1]), "{units:?}");
    assert!(units.iter().collect::<std::collections::HashSet<_>>().len() > 3);
    let found = app
        .gql(
            "viewer",
            r#"{ indicators(filter: {name: "THU NGAN SACH"}) { edges { node { name } } } }"#,
            json!({}),
        )
        .await;
    let names: Vec<&str> = found["indicators"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"]["name"].as_str().unwrap())
        .collect();
    assert!(names.contains(&"Thu ngân sách"), "{names:?}");
    assert!(
        names
            .iter()
            .all(|n| n.to_lowercase().contains("thu ngân sách")),
        "{names:?}"
    );
}

#[tokio::test]
async fn as_of_returns_the_figure_believed_before_a_revision() {
    let app = spawn_app().await;
    let rice = app.indicator_id("Sản lượng lúa").await;
    let documents = app
        .gql("planner", "{ documents { id number } }", json!({}))
        .await;
    let report = documents["documents"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["number"].is_null())
        .unwrap()["id"]
        .clone();
    let before = chrono::Utc::now();
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    app.gql(
        "planner",
        r#"mutation($id: ID!, $doc: ID!) { reviseTarget(input: {indicator: $id, track: RESOLUTION,
            target: {kind: PLAIN, value: "83000"}, document: $doc, reason: "Hạn mặn kéo dài"}) { position } }"#,
        json!({ "id": rice, "doc": report }),
    )
    .await;
    let q = "query($id: ID!, $at: DateTime) { indicator(id: $id, asOf: $at) { targets { value revisions lastReason } } }";
    let then = app
        .gql(
            "auditor",
            q,
            json!({ "id": rice, "at": before.to_rfc3339() }),
        )
        .await;
    let now = app
        .gql("auditor", q, json!({ "id": rice, "at": null }))
        .await;
    assert_eq!(then["indicator"]["targets"][0]["value"], "85000");
    assert_eq!(then["indicator"]["targets"][0]["revisions"], 0);
    assert_eq!(now["indicator"]["targets"][0]["value"], "83000");
    assert_eq!(
        now["indicator"]["targets"][0]["lastReason"],
        "Hạn mặn kéo dài"
    );
    let listed = app
        .gql("auditor", "query($at: DateTime) { indicators(filter: {name: \"san luong lua\", orgUnit: \"LA.CAN-DUOC\"}, asOf: $at) { edges { node { targets { value } } } } }", json!({ "at": before.to_rfc3339() }))
        .await;
    assert_eq!(
        listed["indicators"]["edges"][0]["node"]["targets"][0]["value"],
        "85000"
    );
}

#[tokio::test]
async fn health_and_readiness() {
    let app = spawn_app().await;
    let health = app
        .client
        .get(format!("{}/healthz", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status().as_u16(), 200);
    let ready: serde_json::Value = app
        .client
        .get(format!("{}/readyz", app.base))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(ready["head"], ready["projected"]);
}

#[tokio::test]
async fn the_demo_computes_every_achievement_the_documents_state() {
    let app = spawn_app().await;
    let actuals = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/seeds/actuals.tsv"),
    )
    .unwrap();
    let mut lines = actuals.lines();
    let header: Vec<&str> = lines.next().unwrap().split('\t').collect();
    let col = |name: &str| header.iter().position(|h| *h == name).unwrap();
    let mut checked = 0;
    for line in lines {
        let f: Vec<&str> = line.split('\t').collect();
        let (name, target, stated) = (
            f[col("indicator_vi")],
            f[col("stated_target")],
            f[col("stated_achievement_pct")],
        );
        if target.is_empty() || stated.is_empty() {
            continue;
        }
        let data = app
            .gql(
                "auditor",
                "query($n: String!) { indicators(filter: {name: $n, orgUnit: \"TV.TIEU-CAN\", period: \"2022\"}) { edges { node { name achievement { percentOfTarget } } } } }",
                json!({ "n": name }),
            )
            .await;
        let node = data["indicators"]["edges"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| &e["node"])
            .find(|n| n["name"] == name)
            .unwrap_or_else(|| panic!("no indicator {name}"))
            .clone();
        let computed: f64 = node["achievement"]["percentOfTarget"]
            .as_str()
            .unwrap()
            .parse()
            .unwrap();
        let stated: f64 = stated.parse().unwrap();
        // The data README's rule: flagged when they differ by more than 0,01.
        assert!(
            (computed - stated).abs() <= 0.01,
            "{name}: the document states {stated}%, the system computes {computed}%"
        );
        checked += 1;
    }
    assert_eq!(checked, 5, "the five rows stating both");
}

#[tokio::test]
async fn the_report_of_an_org_unit_comes_as_csv_and_xlsx() {
    let app = spawn_app().await;
    let data = app
        .gql(
            "viewer",
            r#"{ today
                 csv: indicatorReportCsv(orgUnit: "LA.CAN-DUOC", period: "2025")
                 xlsx: indicatorReportXlsx(orgUnit: "LA.CAN-DUOC", period: "2025") }"#,
            json!({}),
        )
        .await;
    let today = data["today"].as_str().unwrap();
    assert!(
        chrono::NaiveDate::parse_from_str(today, "%Y-%m-%d").is_ok(),
        "{today}"
    );
    let csv = data["csv"].as_str().unwrap();
    let mut lines = csv.lines();
    assert!(lines.next().unwrap().starts_with("STT,Chỉ tiêu,"), "{csv}");
    assert_eq!(lines.count(), 57, "one row per indicator of 38-CTr/HU");
    // Budget revenue: 612,4 against the province's 581 (its primary track).
    let budget = csv
        .lines()
        .find(|l| l.starts_with("4,Thu ngân sách,"))
        .unwrap_or_else(|| panic!("{csv}"));
    assert!(
        budget.contains("612.4") && budget.contains("105.4"),
        "{budget}"
    );
    assert!(budget.contains("vượt"), "{budget}");
    // A workbook (a zip: "PK\x03\x04" is "UEsDB" in base64).
    assert!(data["xlsx"].as_str().unwrap().starts_with("UEsDB"));
}

#[tokio::test]
async fn the_audit_trail_says_what_changed_and_counts_every_match() {
    let app = spawn_app().await;
    app.principal("thong-ke.can-duoc-2", "REPORTER", Some("LA.CAN-DUOC"))
        .await;
    // Every page of a filtered trail reports the same, real total.
    let page = |after: Option<String>| {
        let app = &app;
        async move {
            app.gql(
                "auditor",
                r#"query($after: String) { auditTrail(filter: {kind: "actual_reported"}, first: 100, after: $after) {
                    totalCount pageInfo { hasNextPage endCursor } nodes { kind } } }"#,
                json!({ "after": after }),
            )
            .await["auditTrail"]
                .clone()
        }
    };
    let mut after = None;
    let mut seen = 0;
    let mut totals = Vec::new();
    loop {
        let p = page(after.clone()).await;
        totals.push(p["totalCount"].as_u64().unwrap());
        seen += p["nodes"].as_array().unwrap().len() as u64;
        if !p["pageInfo"]["hasNextPage"].as_bool().unwrap() {
            break;
        }
        after = p["pageInfo"]["endCursor"].as_str().map(str::to_owned);
    }
    assert!(totals.len() > 2, "several pages");
    assert!(totals.iter().all(|t| *t == seen), "{totals:?} for {seen}");
    // A revision says why, on what document, from what to what.
    let revised = app
        .gql(
            "auditor",
            r#"{ auditTrail(filter: {kind: "target_revised"}) { nodes { reason document { id } change { track before after reason
                beforeValue { __typename ... on TargetFigures { kind value wording document { id } } }
                afterValue { __typename ... on TargetFigures { kind value wording document { id } } } } } } }"#,
            json!({}),
        )
        .await;
    let entries = revised["auditTrail"]["nodes"].as_array().unwrap();
    assert!(!entries.is_empty());
    for entry in entries {
        assert!(entry["reason"].is_string(), "{entry}");
        assert!(entry["document"]["id"].is_string(), "{entry}");
        let change = &entry["change"];
        assert!(
            change["before"].is_object() && change["after"].is_object(),
            "{entry}"
        );
        assert_ne!(change["before"], change["after"]);
        assert_eq!(change["reason"], entry["reason"]);
        // Typed, as a client reads a target anywhere else.
        let (before, after) = (&change["beforeValue"], &change["afterValue"]);
        assert_eq!(before["__typename"], "TargetFigures", "{entry}");
        assert_eq!(after["document"], entry["document"]);
        assert_eq!(
            after["value"].as_str(),
            change["after"]["kind"]["value"].as_str(),
            "the typed figure is the stored one, scale kept"
        );
        assert_ne!(before["value"], after["value"]);
    }
    // A rights review: who was given what, where.
    let grants = app
        .gql(
            "auditor",
            r#"{ auditTrail(filter: {kind: "role_granted", actor: "admin"}, first: 100) { totalCount nodes { principal grant { role orgUnit } } } }"#,
            json!({}),
        )
        .await;
    let nodes = grants["auditTrail"]["nodes"].as_array().unwrap();
    assert_eq!(
        grants["auditTrail"]["totalCount"].as_u64().unwrap(),
        nodes.len() as u64
    );
    assert!(nodes.iter().any(|n| n["principal"] == "thong-ke.can-duoc-2"
        && n["grant"] == json!({ "role": "REPORTER", "orgUnit": "LA.CAN-DUOC" })));
}

#[tokio::test]
async fn as_of_lists_what_existed_then_and_pages_both_ways() {
    let app = spawn_app().await;
    let unit = "LA.CAN-DUOC";
    let count = |query: &'static str| {
        let app = &app;
        async move {
            app.gql("auditor", query, json!({ "org": unit })).await["indicators"]["totalCount"]
                .as_u64()
                .unwrap()
        }
    };
    let before_count =
        count("query($org: ID!) { indicators(filter: {orgUnit: $org}) { totalCount } }").await;
    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    let instant = chrono::Utc::now().to_rfc3339();
    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    let doc = app
        .gql("admin", "mutation($org: ID!) { registerDocument(input: {kind: PLAN, issuingBody: \"UBND\", orgUnit: $org, title: \"Kế hoạch bổ sung\"}) { document { id } } }", json!({ "org": unit }))
        .await["registerDocument"]["document"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    for name in [
        "Chỉ tiêu bổ sung A",
        "Chỉ tiêu bổ sung B",
        "Chỉ tiêu bổ sung C",
    ] {
        app.gql("admin", "mutation($org: ID!, $doc: ID!, $name: String!) { defineIndicator(input: {orgUnit: $org, period: \"2025\", category: ECONOMY, name: $name, unit: \"ha\", measure: AMOUNT, document: $doc}) { indicator { id } } }", json!({ "org": unit, "doc": doc, "name": name }))
            .await;
    }
    assert_eq!(
        count("query($org: ID!) { indicators(filter: {orgUnit: $org}) { totalCount } }").await,
        before_count + 3
    );
    // Then: only what existed, every page full until the last, no dead end.
    let page = |after: Option<String>| {
        let app = &app;
        let instant = instant.clone();
        async move {
            app.gql(
                "auditor",
                "query($org: ID!, $at: DateTime!, $after: String) { indicators(filter: {orgUnit: $org}, asOf: $at, first: 7, after: $after) { totalCount pageInfo { hasNextPage endCursor } nodes { id name } } }",
                json!({ "org": unit, "at": instant, "after": after }),
            )
            .await["indicators"]
                .clone()
        }
    };
    let mut after = None;
    let mut names = Vec::new();
    loop {
        let p = page(after).await;
        assert_eq!(p["totalCount"].as_u64().unwrap(), before_count);
        let nodes = p["nodes"].as_array().unwrap();
        let more = p["pageInfo"]["hasNextPage"].as_bool().unwrap();
        assert!(
            !nodes.is_empty() || !more,
            "an empty page that says more follow: {p}"
        );
        names.extend(nodes.iter().map(|n| n["name"].as_str().unwrap().to_owned()));
        if !more {
            break;
        }
        after = Some(
            p["pageInfo"]["endCursor"]
                .as_str()
                .expect("a cursor")
                .to_owned(),
        );
    }
    assert_eq!(names.len() as u64, before_count);
    assert!(!names.iter().any(|n| n.starts_with("Chỉ tiêu bổ sung")));

    // Backward: the last page, then the one before it, are the forward
    // list's tail in the same order.
    let forward: Vec<String> = app
        .gql(
            "viewer",
            "query($org: ID!) { indicators(filter: {orgUnit: $org}, first: 100) { nodes { id } } }",
            json!({ "org": unit }),
        )
        .await["indicators"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["id"].as_str().unwrap().to_owned())
        .collect();
    let last = app
        .gql(
            "viewer",
            "query($org: ID!) { indicators(filter: {orgUnit: $org}, last: 4) { pageInfo { hasPreviousPage startCursor } nodes { id } } }",
            json!({ "org": unit }),
        )
        .await["indicators"]
        .clone();
    let ids = |v: &serde_json::Value| -> Vec<String> {
        v["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| n["id"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(ids(&last), forward[forward.len() - 4..]);
    assert_eq!(last["pageInfo"]["hasPreviousPage"], true);
    let earlier = app
        .gql(
            "viewer",
            "query($org: ID!, $before: String) { indicators(filter: {orgUnit: $org}, last: 4, before: $before) { nodes { id } } }",
            json!({ "org": unit, "before": last["pageInfo"]["startCursor"] }),
        )
        .await["indicators"]
        .clone();
    assert_eq!(ids(&earlier), forward[forward.len() - 8..forward.len() - 4]);
    // A keyset cursor from a forward page works backward too.
    let first_page = app
        .gql(
            "viewer",
            "query($org: ID!) { indicators(filter: {orgUnit: $org}, first: 5) { pageInfo { endCursor } } }",
            json!({ "org": unit }),
        )
        .await;
    let back = app
        .gql(
            "viewer",
            "query($org: ID!, $before: String) { indicators(filter: {orgUnit: $org}, last: 2, before: $before) { nodes { id } } }",
            json!({ "org": unit, "before": first_page["indicators"]["pageInfo"]["endCursor"] }),
        )
        .await["indicators"]
        .clone();
    assert_eq!(ids(&back), forward[2..4]);
}

#[tokio::test]
async fn a_home_screen_in_one_query_with_roll_ups() {
    let app = spawn_app().await;
    let home = r#"{ me { units { orgUnit { code } roles periods { period summary { total } rollUp { total exceeded met notMet noData withoutTarget } reporting { status } } } } }"#;
    // A planner of one district: that district, its periods, newest first.
    let district = app.gql("planner.can-duoc", home, json!({})).await;
    let units = district["me"]["units"].as_array().unwrap();
    assert_eq!(units.len(), 1, "{district}");
    assert_eq!(units[0]["orgUnit"]["code"], "LA.CAN-DUOC");
    assert_eq!(units[0]["roles"], json!(["PLANNER"]));
    let periods = units[0]["periods"].as_array().unwrap();
    assert!(!periods.is_empty());
    for p in periods {
        let rolled = &p["rollUp"];
        let parts = ["exceeded", "met", "notMet", "noData", "withoutTarget"]
            .iter()
            .map(|k| rolled[k].as_u64().unwrap())
            .sum::<u64>();
        assert_eq!(parts, rolled["total"].as_u64().unwrap());
        assert!(rolled["total"].as_u64() >= p["summary"]["total"].as_u64());
    }
    // Someone granted everywhere: the top-level units, and a roll-up is the
    // subtree's count of indicators of that period.
    let everywhere = app.gql("viewer", home, json!({})).await;
    let units = everywhere["me"]["units"].as_array().unwrap();
    let province = units
        .iter()
        .find(|u| u["orgUnit"]["code"] == "LA")
        .expect("Long An is a top-level unit");
    for p in province["periods"].as_array().unwrap() {
        let listed = app
            .gql(
                "viewer",
                "query($p: String) { indicators(filter: {orgUnit: \"LA\", includeDescendants: true, period: $p}) { totalCount } }",
                json!({ "p": p["period"] }),
            )
            .await["indicators"]["totalCount"]
            .clone();
        assert_eq!(p["rollUp"]["total"], listed, "{p}");
    }
    // Tiểu Cần's 2022 is a reporting period the demo approved and locked.
    let tieu_can = app.gql("btv.tieu-can", home, json!({})).await;
    let y2022 = tieu_can["me"]["units"][0]["periods"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["period"] == "2022")
        .cloned()
        .expect("2022");
    assert_eq!(y2022["reporting"]["status"], "LOCKED", "{y2022}");
}

/// History entries are resolved by walking the selection set by hand
/// (`chitieu_graphql::fast`): aliases, fragments (named and inline), a key
/// given twice, `__typename`, `@skip`/`@include` and the fields left to the
/// generated resolvers must answer exactly as the plain selection does.
#[tokio::test]
async fn history_entries_answer_every_way_of_selecting_their_fields() {
    let app = spawn_app().await;
    let budget = app.indicator_id("Thu ngân sách").await;
    let plain = app
        .gql(
            "auditor",
            r#"query($id: ID!) { indicator(id: $id) { history(first: 50) { edges { node {
                __typename position version recordedAt kind track reason before after
                actor { __typename id name role } beforeValue { __typename } afterValue { __typename }
                document { number } } } } } }"#,
            json!({ "id": budget }),
        )
        .await;
    let other = app
        .gql(
            "auditor",
            r#"query($id: ID!, $no: Boolean!) { indicator(id: $id) { history(first: 50) { edges { node {
                t: __typename
                ...Entry
                ... on HistoryEntry { v: version actor { name } }
                ... { when: recordedAt }
                actor { id role }
                kind @skip(if: $no)
                reason @include(if: $no)
                d: document { number }
                after
                afterValue { __typename }
            } } } } }
            fragment Entry on HistoryEntry { p: position before track }"#,
            json!({ "id": budget, "no": true }),
        )
        .await;
    let plain = plain["indicator"]["history"]["edges"].as_array().unwrap();
    let other = other["indicator"]["history"]["edges"].as_array().unwrap();
    assert!(plain.len() > 3, "the demo's budget line has a history");
    assert_eq!(plain.len(), other.len());
    for (a, b) in plain.iter().zip(other) {
        let (a, b) = (&a["node"], &b["node"]);
        let mut keys: Vec<&str> = b.as_object().unwrap().keys().map(String::as_str).collect();
        keys.sort_unstable();
        assert_eq!(
            keys,
            [
                "actor",
                "after",
                "afterValue",
                "before",
                "d",
                "p",
                "reason",
                "t",
                "track",
                "v",
                "when"
            ],
            "a key given twice once, skipped fields left out"
        );
        assert_eq!(b["t"], "HistoryEntry");
        assert_eq!(a["__typename"], "HistoryEntry");
        assert_eq!(a["position"], b["p"]);
        assert_eq!(a["version"], b["v"]);
        assert_eq!(a["recordedAt"], b["when"]);
        assert_eq!(a["before"], b["before"]);
        assert_eq!(a["after"], b["after"]);
        assert_eq!(a["track"], b["track"]);
        assert_eq!(a["reason"], b["reason"]);
        assert_eq!(a["document"], b["d"]);
        assert_eq!(a["afterValue"], b["afterValue"]);
        assert_eq!(a["actor"]["__typename"], "Actor");
        // `actor { name }` and `actor { id role }` merge into one object.
        assert_eq!(
            b["actor"],
            json!({ "name": a["actor"]["name"], "id": a["actor"]["id"], "role": a["actor"]["role"] })
        );
        assert!(a["position"].as_u64().is_some() && a["kind"].is_string());
    }
    // A field the entry does not have is refused before anything runs.
    let refused = app
        .post(
            Some("auditor"),
            json!({ "query": "query($id: ID!) { indicator(id: $id) { history { edges { node { position nope } } } } }", "variables": { "id": budget } }),
        )
        .await;
    assert!(
        refused.body["errors"][0]["message"]
            .as_str()
            .unwrap_or_default()
            .contains("nope"),
        "{}",
        refused.body
    );
    assert!(refused.body["data"].is_null(), "{}", refused.body);
}

/// The same for indicators, targets and results (also resolved by
/// `chitieu_graphql::fast`): fragments, aliases and merged keys answer as
/// the plain selection does, and fields left to the generated resolvers
/// (with arguments, context or errors) still answer.
#[tokio::test]
async fn indicators_targets_and_results_answer_every_way_of_selecting_their_fields() {
    let app = spawn_app().await;
    let budget = app.indicator_id("Thu ngân sách").await;
    let plain = app
        .gql(
            "auditor",
            r#"query($id: ID!) { indicator(id: $id) {
                __typename id orgUnitCode period name code unit version updatedAt category
                targets { __typename track kind value revisions position changedAt changedBy strict wording }
                latestActual { __typename figure status refersTo reportedAt reportedBy position value note }
                achievement(track: RESOLUTION) { status } } }"#,
            json!({ "id": budget }),
        )
        .await;
    let other = app
        .gql(
            "auditor",
            r#"query($id: ID!) { indicator(id: $id) {
                ... on Indicator { i: id name }
                ...More
                targets { t: track ... { kind value } revisions }
                targets { position changedAt changedBy strict wording __typename }
                latestActual { ...Figure reportedAt reportedBy }
                latestActual { position value note }
                a: achievement(track: RESOLUTION) { status } } }
            fragment More on Indicator { __typename orgUnitCode period code unit version updatedAt category }
            fragment Figure on Actual { __typename figure status refersTo }"#,
            json!({ "id": budget }),
        )
        .await;
    let (a, b) = (&plain["indicator"], &other["indicator"]);
    assert_eq!(a["__typename"], "Indicator");
    assert_eq!(a["id"], b["i"]);
    for key in [
        "__typename",
        "orgUnitCode",
        "period",
        "name",
        "code",
        "unit",
        "version",
        "updatedAt",
        "category",
        "latestActual",
    ] {
        assert_eq!(a[key], b[key], "{key}");
    }
    assert_eq!(a["achievement"], b["a"]);
    let targets = a["targets"].as_array().unwrap();
    assert!(!targets.is_empty());
    for (x, y) in targets.iter().zip(b["targets"].as_array().unwrap()) {
        assert_eq!(x["track"], y["t"]);
        for key in [
            "__typename",
            "kind",
            "value",
            "revisions",
            "position",
            "changedAt",
            "changedBy",
            "strict",
            "wording",
        ] {
            assert_eq!(x[key], y[key], "{key}");
        }
    }
    assert_eq!(a["latestActual"]["__typename"], "Actual");
    assert!(a["latestActual"]["figure"].is_string(), "{a}");
}

/// An indicator's history connection is resolved by hand
/// (`chitieu_graphql::connection::HistoryConnection`), not by
/// async-graphql's generic `Connection`: paging, cursors, `pageInfo`,
/// `nodes`, `__typename`, aliases and fragments on the connection, its
/// edges and its page info must answer as a connection does.
#[tokio::test]
async fn the_history_connection_pages_and_selects_as_a_connection_does() {
    let app = spawn_app().await;
    let budget = app.indicator_id("Thu ngân sách").await;
    let all = app
        .gql(
            "auditor",
            "query($id: ID!) { indicator(id: $id) { history(first: 100) { totalCount edges { cursor node { version kind } } } } }",
            json!({ "id": budget }),
        )
        .await;
    let all = &all["indicator"]["history"];
    let total = all["totalCount"].as_u64().unwrap();
    let edges = all["edges"].as_array().unwrap();
    assert_eq!(edges.len() as u64, total);
    assert!(total >= 5, "the demo's budget line has a history");
    let page = r#"query($id: ID!, $after: String) { indicator(id: $id) { history(first: 2, after: $after) {
        __typename totalCount
        info: pageInfo { __typename hasPreviousPage hasNextPage startCursor endCursor }
        ...Conn
        edges { __typename c: cursor node { version } }
        nodes { __typename kind }
    } } }
    fragment Conn on HistoryEntryConnection { pageInfo { endCursor } edges { ... on HistoryEntryEdge { cursor node { kind } } } }"#;
    let mut after = serde_json::Value::Null;
    let mut seen = Vec::new();
    loop {
        let data = app
            .gql("auditor", page, json!({ "id": budget, "after": after }))
            .await;
        let h = &data["indicator"]["history"];
        assert_eq!(h["__typename"], "HistoryEntryConnection");
        assert_eq!(h["totalCount"], total);
        let info = &h["info"];
        assert_eq!(info["__typename"], "PageInfo");
        assert_eq!(info["hasPreviousPage"], !after.is_null());
        assert_eq!(info["endCursor"], h["pageInfo"]["endCursor"]);
        let got = h["edges"].as_array().unwrap();
        let nodes = h["nodes"].as_array().unwrap();
        assert_eq!(got.len(), nodes.len());
        for (edge, node) in got.iter().zip(nodes) {
            let expected = &edges[seen.len()];
            assert_eq!(edge["__typename"], "HistoryEntryEdge");
            assert_eq!(edge["c"], expected["cursor"]);
            assert_eq!(edge["cursor"], expected["cursor"]);
            assert_eq!(edge["node"]["version"], expected["node"]["version"]);
            assert_eq!(edge["node"]["kind"], expected["node"]["kind"]);
            assert_eq!(node["__typename"], "HistoryEntry");
            assert_eq!(node["kind"], expected["node"]["kind"]);
            seen.push(edge["node"]["version"].clone());
        }
        if got.is_empty() {
            assert!(info["startCursor"].is_null() && info["endCursor"].is_null());
        } else {
            assert_eq!(info["startCursor"], got[0]["cursor"]);
            assert_eq!(info["endCursor"], got[got.len() - 1]["cursor"]);
        }
        assert_eq!(info["hasNextPage"], (seen.len() as u64) < total);
        if info["hasNextPage"] == false {
            break;
        }
        after = info["endCursor"].clone();
    }
    assert_eq!(seen.len() as u64, total, "every entry once, in order");
    // After the last entry: an empty page.
    let last = edges[edges.len() - 1]["cursor"].clone();
    let data = app
        .gql("auditor", page, json!({ "id": budget, "after": last }))
        .await;
    let h = &data["indicator"]["history"];
    assert_eq!(h["edges"], json!([]));
    assert_eq!(h["info"]["hasNextPage"], false);
    assert!(h["info"]["startCursor"].is_null());
    // `first: 0`: nothing, and more to come.
    let none = app
        .gql(
            "auditor",
            "query($id: ID!) { indicator(id: $id) { history(first: 0) { edges { cursor } pageInfo { hasNextPage endCursor } } } }",
            json!({ "id": budget }),
        )
        .await;
    let h = &none["indicator"]["history"];
    assert_eq!(h["edges"], json!([]));
    assert_eq!(h["pageInfo"]["hasNextPage"], true);
    assert!(h["pageInfo"]["endCursor"].is_null());
}
