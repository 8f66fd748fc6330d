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
