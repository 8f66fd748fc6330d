//! Findings: the documents' internal inconsistencies, flagged from what is
//! recorded. The demo flags the nine of `../shared/data/README.md` (each
//! with the figures involved) and leaves the five consistent stated
//! percentages clean; a finding follows its figures as they are written.

use crate::helpers::*;
use rust_decimal::Decimal;
use serde_json::{json, Value};
use std::str::FromStr;

const FINDINGS: &str = "query($u: ID!) { findings(orgUnit: $u) { kind severity indicator indicatorName related report message messageEn figures { indicator role value } } }";

async fn findings(app: &TestApp, unit: &str) -> Vec<Value> {
    app.gql("auditor", FINDINGS, json!({ "u": unit })).await["findings"]
        .as_array()
        .unwrap()
        .clone()
}

/// The one finding of `kind` about the indicator named `name`.
fn one<'a>(found: &'a [Value], kind: &str, name: &str) -> &'a Value {
    let matching: Vec<&Value> = found
        .iter()
        .filter(|f| f["kind"] == kind && f["indicatorName"] == name)
        .collect();
    assert_eq!(
        matching.len(),
        1,
        "one {kind} about `{name}`, in {}",
        serde_json::to_string_pretty(found).unwrap()
    );
    matching[0]
}

/// The figure of `role` in a finding, as an exact decimal.
fn figure(finding: &Value, role: &str) -> Decimal {
    let value = finding["figures"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["role"] == role)
        .unwrap_or_else(|| panic!("no {role} in {finding}"))["value"]
        .as_str()
        .unwrap()
        .to_owned();
    Decimal::from_str(&value).unwrap()
}

fn d(s: &str) -> Decimal {
    Decimal::from_str(s).unwrap()
}

#[tokio::test]
async fn the_demo_flags_the_nine_inconsistencies_of_the_documents() {
    let app = spawn_app().await;
    let can_duoc = findings(&app, "LA.CAN-DUOC").await;
    let phung_hiep = findings(&app, "HG.PHUNG-HIEP").await;
    let tieu_can = findings(&app, "TV.TIEU-CAN").await;
    let cho_moi = findings(&app, "AG.CHO-MOI").await;

    // 1. 004 budget revenue: the appendix 581, the body "phấn đấu" 600.
    let budget = one(&can_duoc, "TRACKS_DISAGREE", "Thu ngân sách");
    assert_eq!(budget["severity"], "INFO");
    assert_eq!(figure(budget, "target:resolution"), d("581"));
    assert_eq!(figure(budget, "target:stretch"), d("600"));

    // 2. 001 poverty: the stretch (1%) asks less than the list's 1,8%.
    let poverty = one(&phung_hiep, "STRETCH_LESS_AMBITIOUS", "Tỷ lệ hộ nghèo giảm");
    assert_eq!(poverty["severity"], "WARNING");
    assert_eq!(figure(poverty, "target:resolution"), d("1.8"));
    assert_eq!(figure(poverty, "target:stretch"), d("1"));

    // 3. 002 gross output: 102,74% of plan with +16,02% on a 12% growth
    //    target, which gives 103,59%.
    let output = one(
        &tieu_can,
        "PERCENT_NOT_REPRODUCED",
        "Tổng giá trị sản xuất (theo giá so sánh 2010)",
    );
    assert_eq!(figure(output, "stated_percent_of_plan"), d("102.74"));
    assert_eq!(figure(output, "stated_change_on_previous_pct"), d("16.02"));
    assert_eq!(figure(output, "target:resolution"), d("12"));
    assert_eq!(figure(output, "computed_percent"), d("103.59"));
    assert!(output["report"].is_string(), "points at the report");

    // 4. 002 OCOP: 16 products at 75% of plan is no whole plan.
    let ocop = one(&tieu_can, "PERCENT_NOT_REPRODUCED", "Sản phẩm OCOP");
    assert_eq!(figure(ocop, "result"), d("16"));
    assert_eq!(figure(ocop, "implied_plan"), d("21.33"));

    // 5. 001 mass organisations: "đạt 85%" in the list, "đạt trên 85%" in
    //    II.1.6 of the same programme.
    let twice = one(
        &phung_hiep,
        "STATED_TWICE",
        "Tỷ lệ tổ chức đoàn thể chính trị - xã hội ở cơ sở được xếp loại vững mạnh",
    );
    let message = twice["message"].as_str().unwrap();
    assert!(
        message.contains("đạt trên 85%") && message.contains("đạt 85%"),
        "{message}"
    );

    // 6. 002 the 2023 targets against the 2022 results.
    for (name, target, before) in [
        (
            "Tỷ lệ dân số nông thôn được cung cấp nước sạch",
            "82.46",
            "82.46",
        ),
        (
            "Tập hợp dân số trong độ tuổi vào các tổ chức chính trị - xã hội, xã hội - nghề nghiệp",
            "86",
            "92.91",
        ),
        (
            "Tỷ lệ hộ sử dụng điện thường xuyên, an toàn",
            "99.8",
            "99.89",
        ),
        ("Thu ngân sách Nhà nước", "58.5", "713.275"),
    ] {
        let f = one(&tieu_can, "NO_IMPROVEMENT_PLANNED", name);
        assert_eq!(f["severity"], "INFO");
        assert_eq!(figure(f, "target:resolution"), d(target), "{name}");
        assert_eq!(figure(f, "previous_result"), d(before), "{name}");
        assert_eq!(
            f["related"].as_array().unwrap().len(),
            1,
            "the 2022 indicator"
        );
    }

    // 7. 000 health insurance: meets the resolution's 80%, misses the
    //    province's 88,91%, in a report of "15/15 chỉ tiêu đạt và vượt".
    let insurance = one(
        &cho_moi,
        "REPORTED_MET_BELOW_TARGET",
        "Tỉ lệ người dân tham gia bảo hiểm y tế",
    );
    assert_eq!(figure(insurance, "result"), d("84.51"));
    assert_eq!(figure(insurance, "target:resolution"), d("80"));
    assert_eq!(figure(insurance, "target:assigned"), d("88.91"));

    // 8. 002 households: the five classes sum to 29.494 of 29.643.
    let households = one(&tieu_can, "PARTS_DO_NOT_SUM", "Tổng số hộ");
    assert_eq!(figure(households, "result"), d("29643"));
    assert_eq!(figure(households, "sum_of_parts"), d("29494"));
    assert_eq!(households["related"].as_array().unwrap().len(), 5);

    // 9. 000 self-managed groups: 2.417 good + 552 average of 3.025.
    let groups = one(
        &cho_moi,
        "PARTS_DO_NOT_SUM",
        "Tổ tự quản đảm bảo an ninh trật tự",
    );
    assert_eq!(figure(groups, "result"), d("3025"));
    assert_eq!(figure(groups, "sum_of_parts"), d("2969"));

    // The five results whose stated percentage their figures reproduce
    // are not flagged at all.
    for name in [
        "Cây màu - tổng diện tích xuống giống",
        "Nạo vét tuyến kênh",
        "Phát triển mới doanh nghiệp",
        "Giải ngân vốn đầu tư công",
        "Tổng vốn đầu tư toàn xã hội",
    ] {
        assert!(
            !tieu_can.iter().any(|f| f["indicatorName"] == name),
            "{name} is consistent"
        );
    }
    // Every finding says it in both languages.
    for f in can_duoc
        .iter()
        .chain(&phung_hiep)
        .chain(&tieu_can)
        .chain(&cho_moi)
    {
        assert!(!f["message"].as_str().unwrap().is_empty());
        assert!(!f["messageEn"].as_str().unwrap().is_empty());
    }
}

/// A finding appears with the figures that make it and goes when a
/// correction makes them agree; parts are recorded after definition, and
/// a refused write changes nothing.
#[tokio::test]
async fn a_finding_follows_the_figures_it_rests_on() {
    let app = spawn_app().await;
    let doc = app.document_of("LA.CAN-DUOC").await;
    let define = "mutation($name: String!, $doc: ID!) { defineIndicator(input: {orgUnit: \"LA.CAN-DUOC\", period: \"2025\", category: ECONOMY, name: $name, unit: \"con\", measure: AMOUNT, document: $doc}) { indicator { id } } }";
    let mut ids = Vec::new();
    for name in ["Tổng đàn (thử)", "Đàn bò (thử)", "Đàn heo (thử)"] {
        let made = app
            .gql("planner", define, json!({ "name": name, "doc": doc }))
            .await;
        ids.push(
            made["defineIndicator"]["indicator"]["id"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }
    let (total, cows, pigs) = (&ids[0], &ids[1], &ids[2]);
    let report = "mutation($id: ID!, $v: Decimal!, $stated: StatedFiguresInput) { reportActual(input: {indicator: $id, value: {amount: $v}, refersTo: \"2025-12-31\", status: ESTIMATE, stated: $stated}) { indicator { latestActual { reportId stated { percentOfPlan changeOnPreviousPct } } } } }";
    app.gql("reporter", report, json!({ "id": total, "v": "700" }))
        .await;
    app.gql("reporter", report, json!({ "id": cows, "v": "694" }))
        .await;
    let reported = app
        .gql(
            "reporter",
            report,
            json!({ "id": pigs, "v": "10", "stated": { "percentOfPlan": "75" } }),
        )
        .await;
    let stated = &reported["reportActual"]["indicator"]["latestActual"]["stated"];
    assert_eq!(stated["percentOfPlan"], "75", "kept as written");
    assert!(stated["changeOnPreviousPct"].is_null());
    let pigs_report = reported["reportActual"]["indicator"]["latestActual"]["reportId"]
        .as_str()
        .unwrap()
        .to_owned();

    let ours = |found: Vec<Value>| -> Vec<Value> {
        found
            .into_iter()
            .filter(|f| ids.iter().any(|id| f["indicator"] == id.as_str()))
            .collect()
    };
    // 10 pigs at 75% of plan is a plan of 13,33: 10/13 = 76,9% and
    // 10/14 = 71,4%, no whole herd gives 75%.
    let found = ours(findings(&app, "LA.CAN-DUOC").await);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0]["kind"], "PERCENT_NOT_REPRODUCED");

    let parent = "mutation($id: ID!, $p: ID, $r: String) { setIndicatorParent(input: {indicator: $id, parent: $p, reason: $r}) { indicator { parentId } } }";
    for part in [cows, pigs] {
        let set = app
            .gql("planner", parent, json!({ "id": part, "p": total }))
            .await;
        assert_eq!(
            set["setIndicatorParent"]["indicator"]["parentId"],
            total.as_str()
        );
    }
    // 694 + 10 = 704 > 700: the parts exceed the total.
    let found = ours(findings(&app, "LA.CAN-DUOC").await);
    let sum = one(&found, "PARTS_DO_NOT_SUM", "Tổng đàn (thử)");
    assert_eq!(sum["severity"], "WARNING");
    assert_eq!(figure(sum, "sum_of_parts"), d("704"));

    // Refused: a part of itself through another; replacing a parent
    // without a reason. Nothing is appended.
    let head = app.ledger().await;
    let cycle = app
        .gql_err(Some("planner"), parent, json!({ "id": total, "p": cows }))
        .await;
    assert_eq!(cycle.code(), Some("VALIDATION"), "{}", cycle.body);
    let budget = app.indicator_id("Thu ngân sách").await;
    let no_reason = app
        .gql_err(Some("planner"), parent, json!({ "id": cows, "p": budget }))
        .await;
    assert_eq!(no_reason.code(), Some("VALIDATION"), "{}", no_reason.body);
    assert_eq!(app.ledger().await, head, "a refused write appends nothing");

    // Corrected to 6 pigs at 75%: a plan of 8, and 694 + 6 = 700.
    app.gql(
        "reporter",
        "mutation($id: ID!, $r: ID!) { correctActual(input: {indicator: $id, corrects: $r, value: {amount: \"6\"}, refersTo: \"2025-12-31\", status: ESTIMATE, reason: \"Nhầm số liệu\", stated: {percentOfPlan: \"75\"}}) { position } }",
        json!({ "id": pigs, "r": pigs_report }),
    )
    .await;
    let found = ours(findings(&app, "LA.CAN-DUOC").await);
    assert!(found.is_empty(), "{found:?}");

    // Stated figures are checked: a negative percentage of plan is refused.
    let refused = app
        .gql_err(
            Some("reporter"),
            report,
            json!({ "id": cows, "v": "1", "stated": { "percentOfPlan": "-5" } }),
        )
        .await;
    assert_eq!(refused.code(), Some("VALIDATION"), "{}", refused.body);
}

/// A restatement records another wording of a target without changing the
/// target in force; it needs its wording, and it is in the history.
#[tokio::test]
async fn a_restated_target_keeps_the_target_in_force_and_is_flagged() {
    let app = spawn_app().await;
    let id = app.indicator_id("Chi ngân sách").await;
    let doc = app
        .gql(
            "auditor",
            "query($id: ID!) { indicator(id: $id) { targets { track value document { id } } } }",
            json!({ "id": id }),
        )
        .await["indicator"]["targets"][0]["document"]["id"]
        .clone();
    let restate = "mutation($id: ID!, $doc: ID!, $w: String!) { restateTarget(input: {indicator: $id, track: RESOLUTION, target: {kind: AT_LEAST, value: \"1100\"}, document: $doc, wording: $w, reason: \"Phần III ghi khác bảng phụ lục\"}) { indicator { targets { value } history(first: 20) { edges { node { kind } } } } } }";
    let done = app
        .gql(
            "planner",
            restate,
            json!({ "id": id, "doc": doc, "w": "chi ngân sách trên 1.100 tỷ đồng" }),
        )
        .await;
    let indicator = &done["restateTarget"]["indicator"];
    assert_eq!(
        indicator["targets"][0]["value"], "1085.2",
        "the target in force stays"
    );
    assert!(indicator["history"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .any(|e| e["node"]["kind"] == "target_restated"));
    let found = findings(&app, "LA.CAN-DUOC").await;
    let twice = one(&found, "STATED_TWICE", "Chi ngân sách");
    assert!(twice["message"]
        .as_str()
        .unwrap()
        .contains("trên 1.100 tỷ đồng"));

    let head = app.ledger().await;
    let empty = app
        .gql_err(
            Some("planner"),
            restate,
            json!({ "id": id, "doc": doc, "w": "" }),
        )
        .await;
    assert_eq!(empty.code(), Some("VALIDATION"), "{}", empty.body);
    assert_eq!(app.ledger().await, head);
}

/// An import answers with the findings about what it wrote, and the
/// report prints them beside their indicator.
#[tokio::test]
async fn an_import_and_the_report_say_what_the_documents_get_wrong() {
    use base64::Engine as _;
    let app = spawn_app().await;
    let table = "seed_file\tdistrict\tprovince\tperiod\tcategory\tindicator_vi\tindicator_en\tactual_text_vi\tvalue\tunit\tstated_target\tstated_achievement_pct\tstated_vs_prev_year_pct\tstatus\tnotes\n\
        t.txt\tCần Đước\tLong An\t2025\teconomy\tSản phẩm OCOP mới (thử)\tNew OCOP products (test)\tcó 16 sản phẩm OCOP đạt 75% kế hoạch\t16\tsản phẩm\t\t75\t+12.5\testimate\t\n";
    let content = base64::engine::general_purpose::STANDARD.encode(table);
    let done = app
        .gql(
            "admin",
            "mutation($c: String!) { importTable(input: {contentBase64: $c}) { written findings { kind indicatorName message figures { role value } } } }",
            json!({ "c": content }),
        )
        .await;
    let payload = &done["importTable"];
    assert!(payload["written"].as_u64().unwrap() >= 2, "{payload}");
    let found = payload["findings"].as_array().unwrap();
    let ocop = one(found, "PERCENT_NOT_REPRODUCED", "Sản phẩm OCOP mới (thử)");
    assert_eq!(figure(ocop, "implied_plan"), d("21.33"));
    // Both stated figures are kept with the result, as written.
    let id = ocop_id(&app).await;
    let kept = app
        .gql(
            "auditor",
            "query($id: ID!) { indicator(id: $id) { latestActual { stated { percentOfPlan changeOnPreviousPct } } } }",
            json!({ "id": id }),
        )
        .await;
    let stated = &kept["indicator"]["latestActual"]["stated"];
    assert_eq!(stated["percentOfPlan"], "75");
    assert_eq!(stated["changeOnPreviousPct"], "12.5");

    // Tiểu Cần's 2022 report: gross output's line carries its finding.
    let csv = app
        .gql(
            "auditor",
            r#"{ indicatorReportCsv(orgUnit: "TV.TIEU-CAN", period: "2022") }"#,
            json!({}),
        )
        .await["indicatorReportCsv"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(csv.lines().next().unwrap().ends_with(",Phát hiện"), "{csv}");
    assert!(
        csv.contains("với chỉ tiêu tăng trưởng 12% thì phải là 103,59%"),
        "{csv}"
    );
}

async fn ocop_id(app: &TestApp) -> String {
    let data = app
        .gql(
            "auditor",
            "{ indicators(filter: {orgUnit: \"LA.CAN-DUOC\", period: \"2025\", name: \"OCOP mới\"}, first: 5) { edges { node { id name } } } }",
            json!({}),
        )
        .await;
    data["indicators"]["edges"][0]["node"]["id"]
        .as_str()
        .unwrap()
        .to_owned()
}
