//! The 2025 reorganisation: successions with effective dates and their
//! documents, the hierarchy on a date, lineage, and summaries that count
//! the units under a unit.

use crate::helpers::*;
use serde_json::{json, Value};

const UNIT: &str = "code name ceasedOn successors predecessors { code } lineage { code }";

async fn units_on(app: &TestApp, on: &str) -> Vec<String> {
    let found = app
        .gql(
            "viewer",
            "query($on: Date) { orgUnits(on: $on) { code } }",
            json!({ "on": on }),
        )
        .await;
    found["orgUnits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["code"].as_str().unwrap().to_owned())
        .collect()
}

fn codes(list: &Value) -> Vec<&str> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|u| u["code"].as_str().unwrap())
        .collect()
}

/// The demo records what the sources state: the districts ended on
/// 1 July 2025 and four provinces merged; the old units keep their
/// history and are reached from their successors.
#[tokio::test]
async fn the_demo_records_the_2025_arrangement_of_the_seeds_places() {
    let app = spawn_app().await;
    let before = units_on(&app, "2025-06-30").await;
    let after = units_on(&app, "2025-07-01").await;
    for district in ["LA.CAN-DUOC", "HG.PHUNG-HIEP", "TV.TIEU-CAN", "AG.CHO-MOI"] {
        assert!(before.iter().any(|c| c == district), "{district} before");
        assert!(!after.iter().any(|c| c == district), "{district} after");
    }
    assert!(after.iter().any(|c| c == "AG"), "An Giang continues");
    assert!(
        !after.iter().any(|c| c == "LA"),
        "Long An merged into Tây Ninh"
    );
    let tay_ninh = app
        .gql(
            "viewer",
            &format!("{{ orgUnit(code: \"TN\") {{ {UNIT} }} }}"),
            json!({}),
        )
        .await;
    let tn = &tay_ninh["orgUnit"];
    let mut predecessors = codes(&tn["predecessors"]);
    predecessors.sort();
    assert_eq!(predecessors, vec!["LA", "LA.CAN-DUOC"]);
    assert!(codes(&tn["lineage"]).contains(&"LA.CAN-DUOC"));
    // The ended district's figures stay readable under its own name.
    let old = app
        .gql(
            "viewer",
            r#"{ orgUnit(code: "LA.CAN-DUOC") { name ceasedOn successors } indicators(filter: {orgUnit: "LA.CAN-DUOC", period: "2025"}, first: 1) { totalCount } }"#,
            json!({}),
        )
        .await;
    assert_eq!(old["orgUnit"]["name"], "Huyện Cần Đước");
    assert_eq!(old["orgUnit"]["ceasedOn"], "2025-07-01");
    assert_eq!(old["orgUnit"]["successors"], json!(["TN"]));
    assert!(old["indicators"]["totalCount"].as_u64().unwrap() > 20);
}

/// Two communes merged into a new one on a date: the hierarchy on either
/// side of the date, predecessors, a second succession refused, and only
/// an admin may record one.
#[tokio::test]
async fn two_communes_merge_on_a_date() {
    let app = spawn_app().await;
    let register = |code: &'static str, name: &'static str| {
        let app = &app;
        async move {
            app.gql(
                "admin",
                "mutation($c: ID!, $n: String!) { registerOrgUnit(input: {code: $c, name: $n, level: COMMUNE, parent: \"TN\"}) { orgUnit { code } } }",
                json!({ "c": code, "n": name }),
            )
            .await;
        }
    };
    register("TN.XA-A", "Xã A (minh họa)").await;
    register("TN.XA-B", "Xã B (minh họa)").await;
    register("TN.XA-AB", "Xã AB (minh họa)").await;
    let doc = app
        .gql(
            "admin",
            r#"mutation { registerDocument(input: {kind: RESOLUTION, issuingBody: "Ủy ban Thường vụ Quốc hội", title: "Nghị quyết sắp xếp đơn vị hành chính cấp xã (minh họa)"}) { document { id } } }"#,
            json!({}),
        )
        .await["registerDocument"]["document"]["id"]
        .clone();
    let merge = "mutation($u: ID!, $doc: ID) { recordSuccession(input: {unit: $u, successors: [\"TN.XA-AB\"], effective: \"2026-01-01\", document: $doc}) { orgUnit { code ceasedOn successors } } }";
    let head = app.ledger().await;
    let planner = app
        .gql_err(
            Some("planner"),
            merge,
            json!({ "u": "TN.XA-A", "doc": doc }),
        )
        .await;
    assert_eq!(planner.code(), Some("FORBIDDEN"), "{}", planner.body);
    assert_eq!(
        app.ledger().await,
        head,
        "a refused succession appends nothing"
    );
    for unit in ["TN.XA-A", "TN.XA-B"] {
        let done = app
            .gql("admin", merge, json!({ "u": unit, "doc": doc }))
            .await;
        assert_eq!(
            done["recordSuccession"]["orgUnit"]["ceasedOn"],
            "2026-01-01"
        );
    }
    let again = app
        .gql_err(Some("admin"), merge, json!({ "u": "TN.XA-A", "doc": doc }))
        .await;
    assert_eq!(again.code(), Some("VALIDATION"), "{}", again.body);

    let before = units_on(&app, "2025-12-31").await;
    let after = units_on(&app, "2026-01-01").await;
    assert!(before.contains(&"TN.XA-A".to_owned()) && before.contains(&"TN.XA-B".to_owned()));
    assert!(!after.contains(&"TN.XA-A".to_owned()) && !after.contains(&"TN.XA-B".to_owned()));
    assert!(after.contains(&"TN.XA-AB".to_owned()));
    let merged = app
        .gql(
            "viewer",
            &format!("{{ orgUnit(code: \"TN.XA-AB\") {{ {UNIT} }} tn: orgUnit(code: \"TN\") {{ before: children(on: \"2025-12-31\") {{ code }} after: children(on: \"2026-01-01\") {{ code }} }} }}"),
            json!({}),
        )
        .await;
    let mut predecessors = codes(&merged["orgUnit"]["predecessors"]);
    predecessors.sort();
    assert_eq!(predecessors, vec!["TN.XA-A", "TN.XA-B"]);
    // (The demo's own commune of Tây Ninh is left out of the count.)
    let ours = |list: &Value| -> Vec<String> {
        let mut found: Vec<String> = codes(list)
            .into_iter()
            .filter(|c| c.starts_with("TN.XA-"))
            .map(str::to_owned)
            .collect();
        found.sort();
        found
    };
    assert_eq!(
        ours(&merged["tn"]["before"]),
        vec!["TN.XA-A", "TN.XA-AB", "TN.XA-B"]
    );
    assert_eq!(ours(&merged["tn"]["after"]), vec!["TN.XA-AB"]);
}

/// A district's summary counts its town's indicators (it omitted them);
/// `includeDescendants: false` counts its own.
#[tokio::test]
async fn a_summary_counts_the_units_under_its_unit() {
    let app = spawn_app().await;
    let q = r#"{ all: summary(orgUnit: "LA.CAN-DUOC", period: "2025") { total } own: summary(orgUnit: "LA.CAN-DUOC", period: "2025", includeDescendants: false) { total } town: summary(orgUnit: "LA.CAN-DUOC.TT-CAN-DUOC", period: "2025") { total } }"#;
    let before = app.gql("viewer", q, json!({})).await;
    let total = |v: &Value, k: &str| v[k]["total"].as_u64().unwrap();
    assert_eq!(
        total(&before, "all"),
        total(&before, "own") + total(&before, "town")
    );
    let doc = app.document_of("LA.CAN-DUOC").await;
    app.gql(
        "admin",
        r#"mutation($doc: ID!) { defineIndicator(input: {orgUnit: "LA.CAN-DUOC.TT-CAN-DUOC", period: "2025", category: SOCIETY, name: "Tỷ lệ hộ dùng nước sạch đô thị", unit: "%", measure: PERCENTAGE, document: $doc}) { indicator { id } } }"#,
        json!({ "doc": doc }),
    )
    .await;
    let after = app.gql("viewer", q, json!({})).await;
    assert_eq!(total(&after, "all"), total(&before, "all") + 1);
    assert_eq!(total(&after, "own"), total(&before, "own"));
    assert_eq!(total(&after, "town"), total(&before, "town") + 1);
}

/// An indicator linked after it was defined to its previous period's
/// counterpart: its change on that period appears; a second link needs a
/// reason and is in the history; a later period cannot be "previous".
#[tokio::test]
async fn an_indicator_is_linked_to_its_previous_period() {
    let app = spawn_app().await;
    let org = "LA.CAN-DUOC";
    let doc = app.document_of(org).await;
    let define = |period: &'static str| {
        let (app, doc) = (&app, doc.clone());
        async move {
            app.gql(
                "admin",
                "mutation($org: ID!, $doc: ID!, $period: String!) { defineIndicator(input: {orgUnit: $org, period: $period, category: ECONOMY, name: \"Diện tích nuôi tôm\", unit: \"ha\", measure: AMOUNT, document: $doc}) { indicator { id } } }",
                json!({ "org": org, "doc": doc, "period": period }),
            )
            .await["defineIndicator"]["indicator"]["id"]
                .as_str()
                .unwrap()
                .to_owned()
        }
    };
    let (y2023, y2024, y2025) = (
        define("2023").await,
        define("2024").await,
        define("2025").await,
    );
    for (id, value, on) in [
        (&y2024, "1000", "2024-12-31"),
        (&y2025, "1100", "2025-12-31"),
    ] {
        app.gql(
            "admin",
            "mutation($id: ID!, $v: Decimal!, $on: Date!) { reportActual(input: {indicator: $id, value: {amount: $v}, refersTo: $on, status: ESTIMATE}) { position } }",
            json!({ "id": id, "v": value, "on": on }),
        )
        .await;
    }
    let link = "mutation($id: ID!, $p: ID!, $r: String) { linkPreviousPeriod(input: {indicator: $id, previous: $p, reason: $r}) { indicator { previousId changeOnPreviousPeriod } } }";
    let later = app
        .gql_err(Some("planner"), link, json!({ "id": y2024, "p": y2025 }))
        .await;
    assert_eq!(later.code(), Some("VALIDATION"), "{}", later.body);
    let linked = app
        .gql("planner", link, json!({ "id": y2025, "p": y2024 }))
        .await;
    let indicator = &linked["linkPreviousPeriod"]["indicator"];
    assert_eq!(indicator["previousId"], y2024.as_str());
    assert!(
        !indicator["changeOnPreviousPeriod"].is_null(),
        "1.100 ha against 1.000 ha: {indicator}"
    );
    let no_reason = app
        .gql_err(Some("planner"), link, json!({ "id": y2025, "p": y2023 }))
        .await;
    assert_eq!(no_reason.code(), Some("VALIDATION"), "{}", no_reason.body);
    let relinked = app
        .gql(
            "planner",
            link,
            json!({ "id": y2025, "p": y2023, "r": "Nhầm năm: so với năm 2023 theo nghị quyết" }),
        )
        .await;
    let indicator = &relinked["linkPreviousPeriod"]["indicator"];
    assert_eq!(indicator["previousId"], y2023.as_str());
    assert!(
        indicator["changeOnPreviousPeriod"].is_null(),
        "2023 has no figure"
    );
    let history = app
        .gql(
            "auditor",
            "query($id: ID!) { indicator(id: $id) { history { edges { node { kind reason } } } } }",
            json!({ "id": y2025 }),
        )
        .await;
    let reasons: Vec<&Value> = history["indicator"]["history"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["node"]["kind"] == "indicator_previous_linked")
        .map(|e| &e["node"]["reason"])
        .collect();
    assert_eq!(reasons.len(), 2);
    assert_eq!(reasons[1], "Nhầm năm: so với năm 2023 theo nghị quyết");
}

/// Import links an indicator to the same one of the period before by its
/// unit and name: the demo's 2023 targets of Tiểu Cần that carry a name
/// of its 2022 results are linked to them.
#[tokio::test]
async fn import_links_the_same_indicator_of_consecutive_periods_by_name() {
    let app = spawn_app().await;
    let q = r#"query($y: String!) { indicators(filter: {orgUnit: "TV.TIEU-CAN", period: $y, name: "Tổng vốn đầu tư toàn xã hội"}, first: 5) { nodes { id name previousId } } }"#;
    let y2022 = app.gql("viewer", q, json!({ "y": "2022" })).await;
    let y2023 = app.gql("viewer", q, json!({ "y": "2023" })).await;
    let (earlier, later) = (
        &y2022["indicators"]["nodes"][0],
        &y2023["indicators"]["nodes"][0],
    );
    assert_eq!(earlier["name"], later["name"]);
    assert_eq!(later["previousId"], earlier["id"], "{y2022} {y2023}");
    assert_eq!(earlier["previousId"], Value::Null);
}

/// A commune made by a merger, seen in a year before it existed, is the
/// communes it was made of: amounts add up, rates do not (and say so).
#[tokio::test]
async fn a_successor_seen_before_its_creation_adds_its_predecessors_amounts_not_rates() {
    let app = spawn_app().await;
    register_communes_c_d_and_cd(&app).await;
    let doc = app
        .gql(
            "admin",
            r#"mutation { registerDocument(input: {kind: REPORT, issuingBody: "UBND tỉnh Tây Ninh", orgUnit: "TN", title: "Báo cáo năm 2024 (minh họa)"}) { document { id } } }"#,
            json!({}),
        )
        .await["registerDocument"]["document"]["id"]
        .clone();
    for (unit, rice, poverty) in [("TN.XA-C", "1200.5", "3.2"), ("TN.XA-D", "800", "4.1")] {
        for (name, measure, u, value) in [
            ("Sản lượng lúa", "AMOUNT", "tấn", rice),
            ("Tỷ lệ hộ nghèo", "PERCENTAGE", "%", poverty),
        ] {
            let id = app
                .gql(
                    "admin",
                    "mutation($org: ID!, $doc: ID!, $n: String!, $m: Measure!, $u: String!) { defineIndicator(input: {orgUnit: $org, period: \"2024\", category: ECONOMY, name: $n, unit: $u, measure: $m, document: $doc}) { indicator { id } } }",
                    json!({ "org": unit, "doc": doc, "n": name, "m": measure, "u": u }),
                )
                .await["defineIndicator"]["indicator"]["id"]
                .clone();
            app.gql(
                "admin",
                "mutation($id: ID!, $v: Decimal!) { reportActual(input: {indicator: $id, value: {amount: $v}, refersTo: \"2024-12-31\", status: ESTIMATE}) { position } }",
                json!({ "id": id, "v": value }),
            )
            .await;
        }
        app.gql(
            "admin",
            "mutation($u: ID!) { recordSuccession(input: {unit: $u, successors: [\"TN.XA-CD\"], effective: \"2025-07-01\"}) { orgUnit { code } } }",
            json!({ "u": unit }),
        )
        .await;
    }
    let seen = app
        .gql(
            "viewer",
            r#"{ lineageFigures(orgUnit: "TN.XA-CD", period: "2024") { name measure additive total noTotalBecause parts { orgUnit figure } } }"#,
            json!({}),
        )
        .await;
    let figures = seen["lineageFigures"].as_array().unwrap();
    let by_name = |n: &str| figures.iter().find(|f| f["name"] == n).cloned().unwrap();
    let rice = by_name("Sản lượng lúa");
    assert_eq!(rice["additive"], true);
    assert_eq!(rice["total"], "2000.5");
    assert_eq!(rice["parts"].as_array().unwrap().len(), 2);
    let poverty = by_name("Tỷ lệ hộ nghèo");
    assert_eq!(poverty["additive"], false);
    assert_eq!(poverty["total"], Value::Null);
    assert_eq!(poverty["noTotalBecause"], "NOT_ADDITIVE");
    assert_eq!(poverty["parts"].as_array().unwrap().len(), 2);
}

/// A rename takes effect on its date: the old name stays on earlier days;
/// renaming to the same name or a ceased unit is refused.
#[tokio::test]
async fn a_unit_renamed_keeps_its_former_name_on_earlier_days() {
    let app = spawn_app().await;
    let rename = "mutation($u: ID!, $n: String!) { renameOrgUnit(input: {unit: $u, name: $n, effective: \"2026-01-01\"}) { orgUnit { code name } } }";
    // The demo's commune made on 1 July 2025 from the town of Cần Đước.
    let commune = "TN.CAN-DUOC";
    let done = app
        .gql(
            "admin",
            rename,
            json!({ "u": commune, "n": "Xã Cần Đước Mới (minh họa)" }),
        )
        .await;
    assert_eq!(
        done["renameOrgUnit"]["orgUnit"]["name"],
        "Xã Cần Đước Mới (minh họa)"
    );
    let names = app
        .gql(
            "viewer",
            &format!("{{ orgUnit(code: \"{commune}\") {{ now: name before: name(on: \"2025-12-31\") after: name(on: \"2026-01-01\") }} }}"),
            json!({}),
        )
        .await;
    assert_eq!(names["orgUnit"]["before"], "Xã Cần Đước (minh họa)");
    assert_eq!(names["orgUnit"]["after"], "Xã Cần Đước Mới (minh họa)");
    assert_eq!(names["orgUnit"]["now"], "Xã Cần Đước Mới (minh họa)");
    let same = app
        .gql_err(
            Some("admin"),
            rename,
            json!({ "u": commune, "n": "Xã Cần Đước Mới (minh họa)" }),
        )
        .await;
    assert_eq!(same.code(), Some("VALIDATION"), "{}", same.body);
    let ceased = app
        .gql_err(
            Some("admin"),
            rename,
            json!({ "u": "LA.CAN-DUOC", "n": "Huyện mới" }),
        )
        .await;
    assert_eq!(ceased.code(), Some("VALIDATION"), "{}", ceased.body);
}

/// A decree's mapping table through `importTable`: communes merged by the
/// table, refused whole for a planner (successions are an admin's), and
/// once only.
#[tokio::test]
async fn a_mapping_table_imports_the_successions_of_a_decree() {
    use base64::Engine as _;
    let app = spawn_app().await;
    register_communes_c_d_and_cd(&app).await;
    let table = "mã cũ\tmã mới\tngày hiệu lực\tvăn bản\n\
                 TN.XA-C\tTN.XA-CD\t01/01/2026\t72/2025/QH15\n\
                 TN.XA-D\tTN.XA-CD\t01/01/2026\t72/2025/QH15\n";
    let content = base64::engine::general_purpose::STANDARD.encode(table.as_bytes());
    let import = "mutation($c: String!) { importTable(input: {contentBase64: $c}) { planned written alreadyThere } }";
    let head = app.ledger().await;
    let planner = app
        .gql_err(Some("planner"), import, json!({ "c": content }))
        .await;
    assert_eq!(planner.code(), Some("FORBIDDEN"), "{}", planner.body);
    assert_eq!(app.ledger().await, head, "a refused table appends nothing");
    let done = app.gql("admin", import, json!({ "c": content })).await;
    assert_eq!(done["importTable"]["written"], 2, "{done}");
    let again = app.gql("admin", import, json!({ "c": content })).await;
    assert_eq!(again["importTable"]["written"], 0, "{again}");
    assert_eq!(again["importTable"]["alreadyThere"], 2, "{again}");
    let merged = app
        .gql(
            "auditor",
            "{ orgUnit(code: \"TN.XA-CD\") { predecessors { code ceasedOn } } }",
            json!({}),
        )
        .await;
    let predecessors: Vec<&str> = merged["orgUnit"]["predecessors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["code"].as_str().unwrap())
        .collect();
    assert_eq!(predecessors, vec!["TN.XA-C", "TN.XA-D"], "{merged}");
}

/// Registers the communes C, D and CD (minh họa) under Tây Ninh.
async fn register_communes_c_d_and_cd(app: &TestApp) {
    for (code, name) in [
        ("TN.XA-C", "Xã C (minh họa)"),
        ("TN.XA-D", "Xã D (minh họa)"),
        ("TN.XA-CD", "Xã CD (minh họa)"),
    ] {
        app.gql(
            "admin",
            "mutation($c: ID!, $n: String!) { registerOrgUnit(input: {code: $c, name: $n, level: COMMUNE, parent: \"TN\"}) { orgUnit { code } } }",
            json!({ "c": code, "n": name }),
        )
        .await;
    }
}

const JUDGED: &str = "query($u: ID!, $p: String!, $n: String!) { indicators(filter: {orgUnit: $u, period: $p, name: $n}, first: 5) { edges { node { id name previousId achievement { status percentOfTarget overTarget overTargetInPoints changeFromBase } } } } }";

async fn judged(app: &TestApp, unit: &str, period: &str, name: &str) -> Value {
    let found = app
        .gql(
            "auditor",
            JUDGED,
            json!({ "u": unit, "p": period, "n": name }),
        )
        .await;
    found["indicators"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"].clone())
        .find(|n| n["name"] == name)
        .unwrap_or_else(|| panic!("no {name} in {found}"))
}

/// The seeds' growth and reduction targets are judged on the linked
/// previous period (or on the change the report states), with the
/// documents' "% of plan" (base × (1 + rate)) beside the difference in
/// points; where the document states another percentage, the findings
/// say so.
#[tokio::test]
async fn growth_and_reduction_targets_are_judged_on_the_previous_period() {
    let app = spawn_app().await;
    // 002, 2022: gross output 8.839,9 "tăng 16,02% so cùng kỳ" against the
    // resolution's 12%: 116,02 / 112 = 103,59% of plan, 4,02 points over.
    let output = judged(
        &app,
        "TV.TIEU-CAN",
        "2022",
        "Tổng giá trị sản xuất (theo giá so sánh 2010)",
    )
    .await;
    let a = &output["achievement"];
    assert_eq!(a["status"], "EXCEEDED", "{output}");
    assert_eq!(a["changeFromBase"], "16.02");
    assert_eq!(a["percentOfTarget"], "103.59");
    assert_eq!(
        (a["overTarget"].as_str(), a["overTargetInPoints"].as_bool()),
        (Some("4.02"), Some(true))
    );

    // 002, 2023: the poverty reduction (0,19 points) is linked to 2022's
    // 0,79%; an illustrative 2023 result of 0,55% is a 0,24-point fall.
    let poverty = judged(&app, "TV.TIEU-CAN", "2023", "Giảm tỷ lệ hộ nghèo").await;
    assert!(poverty["previousId"].is_string(), "{poverty}");
    let growth = judged(
        &app,
        "TV.TIEU-CAN",
        "2023",
        "Tốc độ tăng trưởng giá trị sản xuất",
    )
    .await;
    assert!(growth["previousId"].is_string(), "{growth}");
    let report = "mutation($id: ID!, $v: Decimal!) { reportActual(input: {indicator: $id, value: {amount: $v}, refersTo: \"2023-12-31\", status: ESTIMATE, note: \"minh họa\"}) { position } }";
    app.gql(
        "reporter",
        report,
        json!({ "id": poverty["id"], "v": "0.55" }),
    )
    .await;
    app.gql(
        "reporter",
        report,
        json!({ "id": growth["id"], "v": "12.5" }),
    )
    .await;
    let poverty = judged(&app, "TV.TIEU-CAN", "2023", "Giảm tỷ lệ hộ nghèo").await;
    assert_eq!(poverty["achievement"]["status"], "EXCEEDED", "{poverty}");
    assert_eq!(poverty["achievement"]["changeFromBase"], "0.24");
    // The growth rate is the figure of a growth-rate indicator: 12,5%
    // against 12% is 0,5 points over.
    let growth = judged(
        &app,
        "TV.TIEU-CAN",
        "2023",
        "Tốc độ tăng trưởng giá trị sản xuất",
    )
    .await;
    assert_eq!(growth["achievement"]["status"], "EXCEEDED", "{growth}");
    assert_eq!(growth["achievement"]["overTarget"], "0.5");

    // 004, 2025: a sector's growth target states its base and figure
    // (1.577,95 / 1.560,781 = +1,1%); reaching the figure is 100% of plan,
    // and the target's own arithmetic raises no finding.
    let sector = judged(
        &app,
        "LA.CAN-DUOC",
        "2025",
        "Tăng trưởng GO Khu vực I (Nông, lâm, thủy sản)",
    )
    .await;
    app.gql(
        "reporter",
        &report.replace("2023-12-31", "2025-12-31"),
        json!({ "id": sector["id"], "v": "1577.95" }),
    )
    .await;
    let sector = judged(
        &app,
        "LA.CAN-DUOC",
        "2025",
        "Tăng trưởng GO Khu vực I (Nông, lâm, thủy sản)",
    )
    .await;
    assert_eq!(sector["achievement"]["status"], "MET", "{sector}");
    assert_eq!(sector["achievement"]["percentOfTarget"], "100");
    assert_eq!(sector["achievement"]["changeFromBase"], "1.1");
    let findings = app
        .gql(
            "auditor",
            "{ findings(orgUnit: \"LA.CAN-DUOC\", period: \"2025\") { kind indicatorName } }",
            json!({}),
        )
        .await;
    assert!(
        !findings["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["indicatorName"]
                .as_str()
                .unwrap()
                .starts_with("Tăng trưởng GO")),
        "{findings}"
    );
}

/// A unit moved under another parent keeps its earlier parent on earlier
/// days; a unit made by a reorganisation does not exist before its date;
/// refused moves append nothing.
#[tokio::test]
async fn a_moved_unit_keeps_its_earlier_parent_and_a_new_unit_its_start() {
    let app = spawn_app().await;
    // The demo's commune of Tây Ninh began on 1 July 2025.
    let before = units_on(&app, "2025-06-30").await;
    let after = units_on(&app, "2025-07-01").await;
    assert!(
        !before.iter().any(|c| c == "TN.CAN-DUOC"),
        "not before its start"
    );
    assert!(after.iter().any(|c| c == "TN.CAN-DUOC"));
    let register = "mutation($c: ID!, $n: String!, $e: Date) { registerOrgUnit(input: {code: $c, name: $n, level: COMMUNE, parent: \"TN\", established: $e}) { orgUnit { code established } } }";
    let made = app
        .gql(
            "admin",
            register,
            json!({ "c": "TN.XA-BIEN", "n": "Xã Biên (minh họa)" }),
        )
        .await;
    assert!(
        made["registerOrgUnit"]["orgUnit"]["established"].is_null(),
        "{made}"
    );
    let commune = "TN.CAN-DUOC";

    // It moves under Vĩnh Long from 1 March 2026 (minh họa).
    let move_unit = "mutation($u: ID!, $p: ID!, $e: Date!) { moveOrgUnit(input: {unit: $u, parent: $p, effective: $e}) { orgUnit { code parent } } }";
    let moved = app
        .gql(
            "admin",
            move_unit,
            json!({ "u": commune, "p": "VL", "e": "2026-03-01" }),
        )
        .await;
    assert_eq!(moved["moveOrgUnit"]["orgUnit"]["parent"], "VL");
    let parents = app
        .gql(
            "viewer",
            "{ orgUnit(code: \"TN.CAN-DUOC\") { then: parent(on: \"2026-02-28\") now: parent(on: \"2026-03-01\") latest: parent } }",
            json!({}),
        )
        .await;
    assert_eq!(parents["orgUnit"]["then"], "TN");
    assert_eq!(parents["orgUnit"]["now"], "VL");
    assert_eq!(parents["orgUnit"]["latest"], "VL");
    let children = |parent: &'static str, on: &'static str| {
        let app = &app;
        async move {
            let found = app
                .gql(
                    "viewer",
                    "query($c: ID!, $on: Date) { orgUnit(code: $c) { children(on: $on) { code } } }",
                    json!({ "c": parent, "on": on }),
                )
                .await;
            codes(&found["orgUnit"]["children"])
                .into_iter()
                .map(str::to_owned)
                .collect::<Vec<_>>()
        }
    };
    assert!(children("TN", "2026-01-01")
        .await
        .contains(&commune.to_owned()));
    assert!(!children("TN", "2026-03-01")
        .await
        .contains(&commune.to_owned()));
    assert!(children("VL", "2026-03-01")
        .await
        .contains(&commune.to_owned()));
    assert!(!children("VL", "2026-01-01")
        .await
        .contains(&commune.to_owned()));

    // Refused: under a unit of its own level; back again before the move;
    // by a planner. Nothing is appended.
    let head = app.ledger().await;
    let level = app
        .gql_err(
            Some("admin"),
            move_unit,
            json!({ "u": commune, "p": "TN.XA-BIEN", "e": "2026-04-01" }),
        )
        .await;
    assert_eq!(level.code(), Some("VALIDATION"), "{}", level.body);
    let early = app
        .gql_err(
            Some("admin"),
            move_unit,
            json!({ "u": commune, "p": "TN", "e": "2026-02-01" }),
        )
        .await;
    assert_eq!(early.code(), Some("VALIDATION"), "{}", early.body);
    let planner = app
        .gql_err(
            Some("planner"),
            move_unit,
            json!({ "u": commune, "p": "TN", "e": "2026-05-01" }),
        )
        .await;
    assert_eq!(planner.code(), Some("FORBIDDEN"), "{}", planner.body);
    assert_eq!(app.ledger().await, head, "a refused move appends nothing");
}

/// The seeds' "so cùng kỳ" comparisons: every result whose document states
/// a change on the year before keeps it as written; where the year before
/// is in the demo, the computed change is the document's (to 0,01), and
/// where it is not (2021 is not in the seeds) none is invented.
#[tokio::test]
async fn the_seeds_so_cung_ky_is_kept_and_computed_only_where_both_years_are_recorded() {
    let app = spawn_app().await;
    let seeds = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/seeds/actuals.tsv"),
    )
    .unwrap();
    let mut lines = seeds.lines();
    let header: Vec<&str> = lines.next().unwrap().split('\t').collect();
    let col = |name: &str| header.iter().position(|h| *h == name).unwrap();
    let (name_col, change_col, period_col) = (
        col("indicator_vi"),
        col("stated_vs_prev_year_pct"),
        col("period"),
    );
    let query = "query($n: String!, $p: String!) { indicators(filter: {orgUnit: \"TV.TIEU-CAN\", period: $p, name: $n}, first: 10) { edges { node { name previousId changeOnPreviousPeriod latestActual { stated { changeOnPreviousPct } } } } } }";
    let (mut rows, mut compared) = (0, 0);
    for line in lines {
        let cells: Vec<&str> = line.split('\t').collect();
        let stated = cells[change_col];
        if stated.is_empty() {
            continue;
        }
        rows += 1;
        let name = cells[name_col];
        let found = app
            .gql(
                "auditor",
                query,
                json!({ "n": name, "p": cells[period_col] }),
            )
            .await;
        let node = found["indicators"]["edges"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| &e["node"])
            .find(|n| n["name"] == name)
            .unwrap_or_else(|| panic!("{name}: {found}"))
            .clone();
        let kept = node["latestActual"]["stated"]["changeOnPreviousPct"]
            .as_str()
            .unwrap();
        let stated: f64 = stated.parse().unwrap();
        assert_eq!(
            kept.parse::<f64>().unwrap(),
            stated,
            "{name}: kept as written"
        );
        match node["changeOnPreviousPeriod"].as_str() {
            Some(change) => {
                compared += 1;
                assert!(node["previousId"].is_string(), "{name}");
                let change: f64 = change.parse().unwrap();
                assert!(
                    (change - stated).abs() <= 0.01,
                    "{name}: {change} vs {stated}"
                );
            }
            None => assert!(
                node["previousId"].is_null(),
                "{name}: linked, yet no change"
            ),
        }
    }
    assert_eq!(rows, 10, "the seeds' ten stated changes on the year before");
    assert_eq!(compared, 0, "no 2021 figure is in the seeds");
}
