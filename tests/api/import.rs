//! `chitieu import` on the appendix of 38-CTr/HU as it stands in the document.

use crate::helpers::*;

fn import(app: &TestApp, principal: &str, file: &str) -> (bool, String) {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(file);
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_chitieu"))
        .args([
            "import",
            "--as",
            principal,
            "--org-unit",
            "LA.CAN-DUOC",
            "--period",
            "2025",
            "--document",
            "38-CTr/HU",
            "--data-dir",
        ])
        .arg(&app.data_dir)
        .arg(path)
        .env("RUST_LOG", "warn")
        .env("RUST_BACKTRACE", "0")
        .output()
        .unwrap();
    (
        output.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        ),
    )
}

#[tokio::test]
async fn the_appendix_imports_once_by_a_planner_of_the_district_and_never_twice() {
    let mut app = spawn_app().await;
    app.stop();
    let (ok, out) = import(&app, "reporter.can-duoc", "38-CTr-HU-phu-luc.tsv");
    assert!(
        !ok && out.contains("nothing imported") && out.contains("Plan"),
        "{out}"
    );
    let (ok, out) = import(&app, "planner.can-duoc", "38-CTr-HU-phu-luc.tsv");
    assert!(ok, "{out}");
    assert!(
        out.contains("76 commands written, 0 already there"),
        "{out}"
    );
    let (ok, out) = import(&app, "planner.can-duoc", "38-CTr-HU-phu-luc.tsv");
    assert!(
        ok && out.contains("0 commands written, 76 already there"),
        "{out}"
    );
    // Export: the imported rows come out in the documents' layout.
    let export = std::process::Command::new(env!("CARGO_BIN_EXE_chitieu"))
        .args([
            "export",
            "--org-unit",
            "LA.CAN-DUOC",
            "--period",
            "2025",
            "--data-dir",
        ])
        .arg(&app.data_dir)
        .env("RUST_LOG", "warn")
        .output()
        .unwrap();
    let csv = String::from_utf8_lossy(&export.stdout);
    assert!(
        export.status.success(),
        "{}",
        String::from_utf8_lossy(&export.stderr)
    );
    assert!(
        csv.starts_with("STT,Chỉ tiêu,Đơn vị,Chỉ tiêu kế hoạch,Kết quả"),
        "{csv}"
    );
    assert!(
        csv.lines()
            .any(|l| l.starts_with("1.1,Sản lượng lúa,") && l.contains("85.000 tấn")),
        "{csv}"
    );
    assert!(
        csv.lines()
            .any(|l| l.starts_with("9,Tỷ lệ hồ sơ tiếp nhận qua dịch vụ công trực tuyến,%,≥78%")),
        "{csv}"
    );
    let xlsx = app.data_dir.with_file_name("bao-cao.xlsx");
    let written = std::process::Command::new(env!("CARGO_BIN_EXE_chitieu"))
        .args([
            "export",
            "--org-unit",
            "LA.CAN-DUOC",
            "--period",
            "2025",
            "--xlsx",
        ])
        .arg(&xlsx)
        .arg("--data-dir")
        .arg(&app.data_dir)
        .env("RUST_LOG", "warn")
        .status()
        .unwrap();
    assert!(written.success());
    assert_eq!(&std::fs::read(&xlsx).unwrap()[..2], b"PK");
    let (ok, out) = import(&app, "planner.can-duoc", "bad-table.tsv");
    assert!(!ok, "{out}");
    assert!(
        out.contains("line 3, column NỘI DUNG") && out.contains("line 4, column CHỈ TIÊU"),
        "every problem is listed: {out}"
    );
}

/// Runs `chitieu` with `args` on `data_dir`; (success, stdout, stderr).
fn chitieu(data_dir: &std::path::Path, args: &[&str]) -> (bool, String, String) {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_chitieu"))
        .args(args)
        .arg("--data-dir")
        .arg(data_dir)
        .env("RUST_LOG", "warn")
        .env("RUST_BACKTRACE", "0")
        .output()
        .unwrap();
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

fn seed_table(name: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../fixtures/seeds")
        .join(name)
}

/// The rows of a tab-separated table as maps from header to field.
fn rows(table: &str) -> Vec<std::collections::HashMap<String, String>> {
    let mut lines = table.lines();
    let header: Vec<&str> = lines.next().unwrap().split('\t').collect();
    lines
        .map(|l| {
            header
                .iter()
                .zip(l.split('\t'))
                .map(|(h, f)| (h.to_string(), f.to_string()))
                .collect()
        })
        .collect()
}

#[test]
fn every_seed_target_round_trips_through_import_and_export() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let (ok, _, err) = chitieu(&data, &["token", "create-admin"]);
    assert!(ok, "{err}");
    let targets = seed_table("targets.tsv");
    let file = targets.to_str().unwrap();
    let (ok, out, err) = chitieu(&data, &["import", "--as", "admin", file]);
    assert!(ok, "{out}{err}");
    // 8 org units, 4 documents, 182 indicators, 183 targets.
    assert!(
        out.contains("377 commands written, 0 already there"),
        "{out}"
    );
    let (ok, out, err) = chitieu(&data, &["import", "--as", "admin", file]);
    assert!(ok && out.contains("0 commands written"), "{out}{err}");

    let (ok, exported, err) = chitieu(&data, &["export", "--layout", "targets"]);
    assert!(ok, "{err}");
    // Each target as (where it stands, what it says, the code it is numbered under).
    let compared = |table: &str| -> Vec<([String; 7], [String; 7], String)> {
        rows(table)
            .iter()
            .map(|r| {
                (
                    [
                        "district",
                        "province",
                        "document",
                        "issued_on",
                        "period",
                        "indicator_vi",
                        "track",
                    ]
                    .map(|c| r[c].clone()),
                    [
                        "category",
                        "target_text_vi",
                        "kind",
                        "value",
                        "value_high",
                        "unit",
                        "base_value",
                    ]
                    .map(|c| r[c].clone()),
                    r["code"].clone(),
                )
            })
            .collect()
    };
    let original = std::fs::read_to_string(&targets).unwrap();
    let mut expected = compared(&original);
    let mut got = compared(&exported);
    assert_eq!(got.len(), 183);
    expected.sort();
    got.sort();
    for (e, g) in expected.iter().zip(&got) {
        assert_eq!((&e.0, &e.1), (&g.0, &g.1));
        // The code is the indicator's: 004's budget revenue is numbered 4 in
        // the appendix, and its stretch target stated in section III.1.
        if e.2 != g.2 {
            assert_eq!((e.2.as_str(), g.2.as_str()), ("III.1", "4"), "{:?}", e.0);
        }
    }

    // The exported table imports into an empty store and exports the same.
    let other = dir.path().join("other");
    let (ok, _, err) = chitieu(&other, &["token", "create-admin"]);
    assert!(ok, "{err}");
    let copy = dir.path().join("exported.tsv");
    std::fs::write(&copy, &exported).unwrap();
    let (ok, out, err) = chitieu(&other, &["import", "--as", "admin", copy.to_str().unwrap()]);
    assert!(ok, "{out}{err}");
    let (ok, again, err) = chitieu(&other, &["export", "--layout", "targets"]);
    assert!(ok, "{err}");
    assert_eq!(again, exported);

    // And as a workbook whose figures are numeric cells (binary doubles):
    // 1577.95, 32665.544 and 114.01 come back exact.
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    let numeric = ["value", "value_high", "base_value"];
    let header: Vec<&str> = exported.lines().next().unwrap().split('\t').collect();
    for (i, line) in exported.lines().enumerate() {
        for (j, cell) in line.split('\t').enumerate() {
            let (r, c) = (i as u32, j as u16);
            match cell.parse::<f64>() {
                Ok(n) if i > 0 && numeric.contains(&header[j]) => {
                    sheet.write_number(r, c, n).map(|_| ())
                }
                _ => sheet.write_string(r, c, cell).map(|_| ()),
            }
            .unwrap();
        }
    }
    let xlsx = dir.path().join("exported.xlsx");
    book.save(&xlsx).unwrap();
    let third = dir.path().join("third");
    let (ok, _, err) = chitieu(&third, &["token", "create-admin"]);
    assert!(ok, "{err}");
    let (ok, out, err) = chitieu(&third, &["import", "--as", "admin", xlsx.to_str().unwrap()]);
    assert!(ok, "{out}{err}");
    let (ok, from_xlsx, err) = chitieu(&third, &["export", "--layout", "targets"]);
    assert!(ok, "{err}");
    assert_eq!(from_xlsx, exported);

    // Results: every row of actuals.tsv, onto the same indicators where named alike.
    let actuals = seed_table("actuals.tsv");
    let (ok, out, err) = chitieu(
        &data,
        &["import", "--as", "admin", actuals.to_str().unwrap()],
    );
    assert!(ok, "{out}{err}");
    assert!(out.contains("already there"), "{out}");
}

#[test]
fn a_spreadsheet_with_its_place_in_the_file_imports_like_the_tsv_with_flags() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let (ok, _, err) = chitieu(&data, &["token", "create-admin"]);
    assert!(ok, "{err}");
    // Units first, from the seed table's 004 rows (one row is enough).
    let targets = std::fs::read_to_string(seed_table("targets.tsv")).unwrap();
    let mut lines = targets.lines();
    let header = lines.next().unwrap();
    let row = lines.find(|l| l.starts_with("004_")).unwrap();
    let one = dir.path().join("one.tsv");
    std::fs::write(&one, format!("{header}\n{row}\n")).unwrap();
    let (ok, out, err) = chitieu(&data, &["import", "--as", "admin", one.to_str().unwrap()]);
    assert!(ok, "{out}{err}");

    // The appendix as a workbook: where it belongs above the header, the
    // document registered from those rows, figures in numeric cells.
    let appendix = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/38-CTr-HU-phu-luc.tsv"),
    )
    .unwrap();
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    let place = [
        ("Đơn vị", "Cần Đước"),
        ("Kỳ", "2025"),
        ("Văn bản", "101-NQ/TU"),
        ("Cơ quan ban hành", "Ban Chấp hành Đảng bộ tỉnh Long An"),
        ("Ngày ban hành", "06/12/2024"),
        ("Trích yếu", "Nghị quyết về phương hướng, nhiệm vụ năm 2025"),
        ("Loại chỉ tiêu", "tỉnh giao"),
    ];
    for (i, (k, v)) in place.iter().enumerate() {
        sheet.write_string(i as u32, 0, *k).unwrap();
        sheet.write_string(i as u32, 1, *v).unwrap();
    }
    for (i, line) in appendix.lines().enumerate() {
        for (j, cell) in line.split('\t').enumerate() {
            let (r, c) = ((place.len() + 1 + i) as u32, j as u16);
            // "85.000 tấn" stays text; a bare "150" becomes a number cell.
            match cell.parse::<f64>() {
                Ok(n) if j == 2 => sheet.write_number(r, c, n).map(|_| ()),
                _ => sheet.write_string(r, c, cell).map(|_| ()),
            }
            .unwrap();
        }
    }
    let xlsx = dir.path().join("phu-luc.xlsx");
    book.save(&xlsx).unwrap();
    let (ok, out, err) = chitieu(&data, &["import", "--as", "admin", xlsx.to_str().unwrap()]);
    assert!(ok, "{out}{err}");
    // The document, then the same 76 commands as the TSV with flags.
    assert!(
        out.contains("77 commands written, 0 already there"),
        "{out}"
    );
    let (ok, exported, err) = chitieu(
        &data,
        &[
            "export",
            "--layout",
            "targets",
            "--org-unit",
            "LA.CAN-DUOC",
            "--period",
            "2025",
        ],
    );
    assert!(ok, "{err}");
    let rice: Vec<&str> = exported
        .lines()
        .filter(|l| l.contains("\tSản lượng lúa\t") && l.contains("101-NQ/TU"))
        .collect();
    assert_eq!(rice.len(), 1, "{exported}");
    assert!(
        rice[0].contains("\texact\t85000\t") && rice[0].contains("\tassigned_by_province\t"),
        "{}",
        rice[0]
    );
    // A flag that contradicts the file is a problem, and nothing is written.
    let (ok, out, err) = chitieu(
        &data,
        &[
            "import",
            "--as",
            "admin",
            "--period",
            "2024",
            xlsx.to_str().unwrap(),
        ],
    );
    assert!(
        !ok && err.contains("the file says period `2025`"),
        "{out}{err}"
    );
}

#[tokio::test]
async fn a_table_uploaded_through_the_api_is_planned_checked_and_imported_once() {
    use base64::Engine as _;
    let app = spawn_app().await;
    let appendix = std::fs::read(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/38-CTr-HU-phu-luc.tsv"),
    )
    .unwrap();
    let content = base64::engine::general_purpose::STANDARD.encode(&appendix);
    let planner = app
        .principal("ke-hoach.can-duoc", "PLANNER", Some("LA.CAN-DUOC"))
        .await;
    let reporter = app
        .principal("so-lieu.can-duoc", "REPORTER", Some("LA.CAN-DUOC"))
        .await;
    let q = r#"mutation($c: String!, $dry: Boolean!) { importTable(input: {contentBase64: $c, orgUnit: "LA.CAN-DUOC", period: "2025", document: "38-CTr/HU", dryRun: $dry}) { planned written alreadyThere position dryRun notices { line message } } }"#;
    let send = |token: String, content: String, dry: bool| {
        let app = &app;
        async move {
            app.client
                .post(&app.url)
                .bearer_auth(token)
                .json(&serde_json::json!({ "query": q, "variables": { "c": content, "dry": dry } }))
                .send()
                .await
                .unwrap()
                .json::<serde_json::Value>()
                .await
                .unwrap()
        }
    };
    let before = app.ledger().await;
    // A reporter may not define indicators: refused whole.
    let refused = send(reporter, content.clone(), false).await;
    assert_eq!(
        refused["errors"][0]["extensions"]["code"], "FORBIDDEN",
        "{refused}"
    );
    // A dry run plans and checks, and writes nothing.
    let dry = send(planner.clone(), content.clone(), true).await;
    assert_eq!(dry["data"]["importTable"]["planned"], 76, "{dry}");
    assert_eq!(dry["data"]["importTable"]["written"], 0);
    assert_eq!(app.ledger().await, before, "nothing written so far");
    let done = send(planner.clone(), content.clone(), false).await;
    assert_eq!(done["data"]["importTable"]["written"], 76, "{done}");
    let again = send(planner.clone(), content.clone(), false).await;
    assert_eq!(again["data"]["importTable"]["written"], 0, "{again}");
    assert_eq!(again["data"]["importTable"]["alreadyThere"], 76);
    // Downloaded in the seed-table layout, the targets upload back as they are.
    let table = app
        .gql(
            "viewer",
            r#"{ targetsTable(orgUnit: "LA.CAN-DUOC", period: "2025") }"#,
            serde_json::json!({}),
        )
        .await["targetsTable"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        table.starts_with("indicator_id\torg_unit\tdistrict\tprovince\tdocument"),
        "{table}"
    );
    assert!(
        table
            .lines()
            .any(|l| l.contains("\tSản lượng lúa\t") && l.contains("\texact\t85000\t")),
        "{table}"
    );
    let round = send(
        planner.clone(),
        base64::engine::general_purpose::STANDARD.encode(table.as_bytes()),
        false,
    )
    .await;
    assert_eq!(round["data"]["importTable"]["written"], 0, "{round}");
    assert_eq!(
        round["data"]["importTable"]["planned"], 0,
        "every row is already there: {round}"
    );
    // A bad table: every problem, by line and column, and nothing written.
    let head = app.ledger().await;
    let bad = std::fs::read(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/bad-table.tsv"),
    )
    .unwrap();
    let bad = send(
        planner,
        base64::engine::general_purpose::STANDARD.encode(bad),
        false,
    )
    .await;
    let error = &bad["errors"][0];
    assert_eq!(error["extensions"]["code"], "VALIDATION", "{bad}");
    let problems = error["extensions"]["problems"].as_array().unwrap();
    assert!(
        problems
            .iter()
            .any(|p| p["line"] == 3 && p["column"] == "NỘI DUNG"),
        "{bad}"
    );
    assert!(
        problems
            .iter()
            .any(|p| p["line"] == 4 && p["column"] == "CHỈ TIÊU"),
        "{bad}"
    );
    assert_eq!(app.ledger().await, head);
}

/// Every kind of target, set through the API without wording (so nothing
/// can be read back from the text): the targets table of the period
/// imports into an empty store and exports again unchanged, a strict
/// bound, a reduction in percent of its base and a comparison with
/// another period included.
#[tokio::test]
async fn every_kind_of_target_reads_back_from_the_targets_table() {
    let app = spawn_app().await;
    let doc = app
        .gql("admin", "mutation { registerDocument(input: {kind: PLAN, issuingBody: \"UBND huyện\", orgUnit: \"LA.CAN-DUOC\", title: \"Kế hoạch năm 2027\"}) { document { id } } }", serde_json::json!({}))
        .await["registerDocument"]["document"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let targets = [
        r#"{kind: AT_LEAST, value: "78", strict: true}"#,
        r#"{kind: AT_MOST, value: "4", strict: true}"#,
        r#"{kind: AT_MOST, value: "5"}"#,
        r#"{kind: PLAIN, value: "1577.95", base: "1560.781"}"#,
        r#"{kind: RANGE, low: "103", high: "105"}"#,
        r#"{kind: GROWTH, rate: "12", base: "2000", value: "2240"}"#,
        r#"{kind: REDUCE_BY, value: "15", reduction: PERCENT_OF_BASE, base: "120"}"#,
        r#"{kind: REDUCE_BY, value: "26", reduction: ABSOLUTE}"#,
        r#"{kind: RELATIVE_TO_PERIOD, comparedPeriod: "2026", direction: LOWER}"#,
        r#"{kind: MILESTONE, deadline: "2027-06-30"}"#,
        r#"{kind: MAINTAIN, value: "15"}"#,
    ];
    for (n, target) in targets.iter().enumerate() {
        let id = app
            .gql("admin", &format!("mutation($doc: ID!) {{ defineIndicator(input: {{orgUnit: \"LA.CAN-DUOC\", period: \"2027\", category: ECONOMY, name: \"Chỉ tiêu thử {n}\", unit: \"%\", measure: AMOUNT, document: $doc}}) {{ indicator {{ id }} }} }}"), serde_json::json!({ "doc": doc }))
            .await["defineIndicator"]["indicator"]["id"]
            .as_str()
            .unwrap()
            .to_owned();
        app.gql(
            "admin",
            &format!("mutation($id: ID!, $doc: ID!) {{ setTarget(input: {{indicator: $id, track: RESOLUTION, target: {target}, document: $doc}}) {{ position }} }}"),
            serde_json::json!({ "id": id, "doc": doc }),
        )
        .await;
    }
    let table = app
        .gql(
            "auditor",
            "{ targetsTable(orgUnit: \"LA.CAN-DUOC\", period: \"2027\") }",
            serde_json::json!({}),
        )
        .await["targetsTable"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(table.lines().count(), 1 + targets.len(), "{table}");
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let (ok, _, err) = chitieu(&data, &["token", "create-admin"]);
    assert!(ok, "{err}");
    let file = dir.path().join("targets.tsv");
    std::fs::write(&file, &table).unwrap();
    let (ok, out, err) = chitieu(&data, &["import", "--as", "admin", file.to_str().unwrap()]);
    assert!(ok, "{out}{err}");
    let (ok, again, err) = chitieu(
        &data,
        &[
            "export",
            "--layout",
            "targets",
            "--org-unit",
            "LA.CAN-DUOC",
            "--period",
            "2027",
        ],
    );
    assert!(ok, "{err}");
    assert_eq!(again, table);
}
