//! Closing a period, as an inspection committee would check it: approve
//! and lock, every kind of write refused with nothing appended, an unlock
//! with a reason, `verifyApproval` naming exactly what changed, a second
//! approval; reports racing an approval; and the approval digest
//! recomputed from the log by an implementation written here, from the
//! documented serialisation alone.

use crate::helpers::*;
use serde_json::{json, Value};
use std::collections::BTreeMap;

const PERIOD_FIELDS: &str = "period { orgUnit period status frozen startsOn endsOn steps { kind position actor { id role } document { number title } reason approvalId } approvals { id digest position asOfPosition unlockedAfter indicatorCount approver { id } document { title } } currentApproval { id } } position replayed";

async fn document_of(app: &TestApp, number: &str) -> String {
    let docs = app
        .gql("auditor", "{ documents { id number } }", json!({}))
        .await;
    docs["documents"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["number"] == number)
        .map(|d| d["id"].as_str().unwrap().to_owned())
        .unwrap_or_else(|| panic!("no document {number}"))
}

async fn step(app: &TestApp, who: &str, mutation: &str, input: Value) -> Value {
    let name = mutation.to_owned();
    let input_type = format!("{}{}Input", name[..1].to_uppercase(), &name[1..]);
    let data = app
        .gql(
            who,
            &format!(
                "mutation($input: {input_type}!) {{ {name}(input: $input) {{ {PERIOD_FIELDS} }} }}"
            ),
            json!({ "input": input }),
        )
        .await;
    data[name.as_str()].clone()
}

/// A new amount indicator of Cần Đước 2025 with a target on RESOLUTION
/// and a final figure: its id, the figure's report id, the track with a
/// target, a track without.
async fn indicator_with_figures(app: &TestApp) -> (String, String, String, String) {
    let doc = document_of(app, "38-CTr/HU").await;
    let defined = app
        .gql(
            "planner",
            r#"mutation($doc: ID!) { defineIndicator(input: {orgUnit: "LA.CAN-DUOC", period: "2025", category: ECONOMY, name: "Giá trị sản xuất nông nghiệp (kiểm thử)", unit: "tỷ đồng", measure: AMOUNT, document: $doc}) { indicator { id } } }"#,
            json!({ "doc": doc }),
        )
        .await;
    let id = defined["defineIndicator"]["indicator"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    app.gql(
        "planner",
        r#"mutation($id: ID!, $doc: ID!) { setTarget(input: {indicator: $id, track: RESOLUTION, target: {kind: AT_LEAST, value: "1200"}, document: $doc}) { position } }"#,
        json!({ "id": id, "doc": doc }),
    )
    .await;
    let reported = app
        .gql(
            "reporter",
            r#"mutation($id: ID!, $doc: ID!) { reportActual(input: {indicator: $id, value: {amount: "1250.5"}, refersTo: "2025-12-31", status: FINAL, source: $doc}) { indicator { latestActual { reportId } } } }"#,
            json!({ "id": id, "doc": doc }),
        )
        .await;
    let report = reported["reportActual"]["indicator"]["latestActual"]["reportId"]
        .as_str()
        .unwrap()
        .to_owned();
    (id, report, "RESOLUTION".into(), "STRETCH".into())
}

async fn verify(app: &TestApp, approval: &str) -> Value {
    app.gql(
        "auditor",
        "query($id: ID!) { verifyApproval(id: $id) { intact approvedDigest currentDigest changed { indicatorId approvedDigest currentDigest events { kind position actor { id } } indicator { name } } } }",
        json!({ "id": approval }),
    )
    .await["verifyApproval"]
        .clone()
}

#[tokio::test]
async fn a_locked_period_refuses_every_write_and_an_unlock_shows_exactly_what_changed() {
    let app = spawn_app().await;
    let approver = app
        .principal("btv.can-duoc", "APPROVER", Some("LA.CAN-DUOC"))
        .await;
    let doc = document_of(&app, "38-CTr/HU").await;
    let (indicator, report, track, free) = indicator_with_figures(&app).await;
    let unit = json!({ "orgUnit": "LA.CAN-DUOC", "period": "2025" });

    // Nobody but an approver of the unit approves.
    step(
        &app,
        "planner",
        "submitPeriod",
        json!({ "orgUnit": "LA.CAN-DUOC", "period": "2025", "note": "Trình phê duyệt" }),
    )
    .await;
    let approve = json!({ "orgUnit": "LA.CAN-DUOC", "period": "2025", "document": doc });
    for who in ["planner", "reporter", "btv.tieu-can"] {
        let refused = app
            .gql_err(Some(who), "mutation($input: ApprovePeriodInput!) { approvePeriod(input: $input) { position } }", json!({ "input": approve }))
            .await;
        assert_eq!(refused.code(), Some("FORBIDDEN"), "{who}: {}", refused.body);
    }
    let approved = step(&app, &approver, "approvePeriod", approve.clone()).await;
    assert_eq!(approved["period"]["status"], "APPROVED");
    let first = approved["period"]["approvals"][0].clone();
    let first_id = first["id"].as_str().unwrap().to_owned();
    assert_eq!(first["approver"]["id"], "btv.can-duoc");
    assert!(first["indicatorCount"].as_u64().unwrap() > 10, "{first}");
    let locked = step(
        &app,
        &approver,
        "lockPeriod",
        json!({ "orgUnit": "LA.CAN-DUOC", "period": "2025", "document": doc }),
    )
    .await;
    assert_eq!(locked["period"]["status"], "LOCKED");
    assert_eq!(locked["period"]["frozen"], true);

    // Every kind of write into the period: PERIOD_LOCKED, nothing appended.
    let head = app.ledger().await;
    let writes = [
        (
            "reporter",
            r#"mutation($id: ID!) { reportActual(input: {indicator: $id, value: {amount: "1"}, refersTo: "2025-06-30", status: ESTIMATE}) { position } }"#,
        ),
        (
            "reporter",
            r#"mutation($id: ID!, $r: ID!) { correctActual(input: {indicator: $id, corrects: $r, value: {amount: "2"}, refersTo: "2025-12-31", status: FINAL, reason: "Sai sót"}) { position } }"#,
        ),
        (
            "reporter",
            r#"mutation($id: ID!, $r: ID!) { reportActual(input: {indicator: $id, value: {amount: "3"}, refersTo: "2025-12-31", status: FINAL, supersedes: $r, reason: "Quyết toán"}) { position } }"#,
        ),
        (
            "planner",
            r#"mutation($id: ID!, $doc: ID!, $free: TargetTrack!) { setTarget(input: {indicator: $id, track: $free, target: {kind: PLAIN, value: "4"}, document: $doc}) { position } }"#,
        ),
        (
            "admin",
            r#"mutation($id: ID!, $doc: ID!, $track: TargetTrack!) { reviseTarget(input: {indicator: $id, track: $track, target: {kind: PLAIN, value: "5"}, document: $doc, reason: "Điều chỉnh"}) { position } }"#,
        ),
    ];
    for (who, mutation) in writes {
        let refused = app
            .gql_err(
                Some(who),
                mutation,
                json!({ "id": indicator, "r": report, "doc": doc, "track": track, "free": free }),
            )
            .await;
        assert_eq!(
            refused.code(),
            Some("PERIOD_LOCKED"),
            "{mutation}: {}",
            refused.body
        );
        let message = refused.body["errors"][0]["message"].as_str().unwrap();
        assert!(
            message.contains("2025") && message.contains("locked"),
            "{message}"
        );
    }
    assert_eq!(app.ledger().await, head, "a refused write appends nothing");
    // Another year of the same unit stays open.
    app.gql(
        "reporter",
        r#"mutation($id: ID!) { reportActual(input: {indicator: $id, value: {amount: "6"}, refersTo: "2026-03-31", status: ESTIMATE}) { position } }"#,
        json!({ "id": indicator }),
    )
    .await;
    let check = verify(&app, &first_id).await;
    assert_eq!(check["intact"], true, "{check}");
    assert_eq!(check["changed"], json!([]));

    // Unlock needs a reason; with one, the write passes and the check
    // names exactly that indicator and the event that changed it.
    let refused = app
        .gql_err(Some(&approver), "mutation($input: UnlockPeriodInput!) { unlockPeriod(input: $input) { position } }", json!({ "input": { "orgUnit": "LA.CAN-DUOC", "period": "2025", "document": doc, "reason": " " } }))
        .await;
    assert_eq!(refused.code(), Some("VALIDATION"));
    let unlocked = step(&app, &approver, "unlockPeriod", json!({ "orgUnit": "LA.CAN-DUOC", "period": "2025", "document": doc, "reason": "Bổ sung số liệu quý II" })).await;
    assert_eq!(unlocked["period"]["status"], "OPEN");
    assert_eq!(unlocked["period"]["currentApproval"], Value::Null);
    let written = app
        .gql(
            "reporter",
            r#"mutation($id: ID!) { reportActual(input: {indicator: $id, value: {amount: "1"}, refersTo: "2025-06-30", status: ESTIMATE}) { position } }"#,
            json!({ "id": indicator }),
        )
        .await;
    let check = verify(&app, &first_id).await;
    assert_eq!(check["intact"], false);
    assert_ne!(check["approvedDigest"], check["currentDigest"]);
    let changed = check["changed"].as_array().unwrap();
    assert_eq!(changed.len(), 1, "{check}");
    assert_eq!(changed[0]["indicatorId"], indicator.as_str());
    // The 2026 estimate is not a figure of 2025: only the June one counts.
    let events = changed[0]["events"].as_array().unwrap();
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(events[0]["position"], written["reportActual"]["position"]);
    assert_eq!(events[0]["kind"], "actual_reported");
    assert_eq!(events[0]["actor"]["id"], "pkt-tieu-can");

    // Approved again: a second digest; the first stays on record.
    step(&app, "planner", "submitPeriod", unit.clone()).await;
    let again = step(&app, &approver, "approvePeriod", approve).await;
    let approvals = again["period"]["approvals"].as_array().unwrap();
    assert_eq!(approvals.len(), 2);
    assert_eq!(approvals[0]["unlockedAfter"], true);
    assert_ne!(approvals[0]["digest"], approvals[1]["digest"]);
    let second_id = approvals[1]["id"].as_str().unwrap().to_owned();
    assert_eq!(verify(&app, &second_id).await["intact"], true);
    let kinds: Vec<&str> = again["period"]["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["kind"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        [
            "submitted",
            "approved",
            "locked",
            "unlocked",
            "submitted",
            "approved"
        ]
    );
    let unlock_step = &again["period"]["steps"][3];
    assert_eq!(unlock_step["reason"], "Bổ sung số liệu quý II");
    assert_eq!(unlock_step["actor"]["id"], "btv.can-duoc");
    assert_eq!(unlock_step["actor"]["role"], "approver");
    assert_eq!(unlock_step["document"]["number"], "38-CTr/HU");

    // What was approved, as it was: the first approval still shows the
    // figures without the June estimate.
    let then = app
        .gql(
            "auditor",
            r#"query($a: ID!) { indicators(filter: {orgUnit: "LA.CAN-DUOC", period: "2025"}, first: 100, approval: $a) { edges { node { id latestEstimate { refersTo } } } } summary(orgUnit: "LA.CAN-DUOC", period: "2025", approval: $a) { total } now: summary(orgUnit: "LA.CAN-DUOC", period: "2025") { total } }"#,
            json!({ "a": first_id }),
        )
        .await;
    let node = then["indicators"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["node"]["id"] == indicator.as_str())
        .unwrap();
    assert_eq!(node["node"]["latestEstimate"], Value::Null);
    assert_eq!(then["summary"]["total"], then["now"]["total"]);
    let csv = app
        .gql(
            "auditor",
            r#"query($a: ID!) { indicatorReportCsv(orgUnit: "LA.CAN-DUOC", period: "2025", approval: $a) }"#,
            json!({ "a": first_id }),
        )
        .await;
    assert!(csv["indicatorReportCsv"].as_str().unwrap().lines().count() > 10);
}

#[tokio::test]
async fn a_second_final_without_supersedes_is_refused_saying_what_to_send() {
    let app = spawn_app().await;
    let (indicator, ..) = indicator_with_figures(&app).await;
    let final_of_september = |value: &str, extra: &str| {
        format!(
            r#"mutation($id: ID!) {{ reportActual(input: {{indicator: $id, value: {{amount: "{value}"}}, refersTo: "2025-09-30", status: FINAL{extra}}}) {{ position indicator {{ latestFinal {{ reportId figure }} }} }} }}"#
        )
    };
    let first_id = "0195f3c0-0000-7000-8000-0000000000f1";
    app.gql(
        "reporter",
        &final_of_september(
            "13",
            &format!(", reportId: \"{first_id}\", reason: \"Báo cáo quý III\""),
        ),
        json!({ "id": indicator }),
    )
    .await;
    let head = app.ledger().await;
    // 13 then 9 for the same day, silently: refused, saying what to send.
    let refused = app
        .gql_err(
            Some("reporter"),
            &final_of_september("9", ", reason: \"Số liệu mới\""),
            json!({ "id": indicator }),
        )
        .await;
    assert_eq!(refused.code(), Some("VALIDATION"));
    let message = refused.body["errors"][0]["message"].as_str().unwrap();
    assert!(message.contains(first_id), "{message}");
    assert!(
        message.contains("supersedes") && message.contains("correctActual"),
        "{message}"
    );
    // Without a reason or a source, a final is refused whatever the day.
    let no_source = app
        .gql_err(
            Some("reporter"),
            &final_of_september("9", ""),
            json!({ "id": indicator }),
        )
        .await;
    assert_eq!(no_source.code(), Some("VALIDATION"));
    assert_eq!(app.ledger().await, head, "refusals append nothing");
    // Naming the figure it supersedes, with a reason, it passes and both
    // stay in the history.
    let replaced = app
        .gql(
            "reporter",
            &final_of_september(
                "9",
                &format!(", supersedes: \"{first_id}\", reason: \"Số liệu quyết toán\""),
            ),
            json!({ "id": indicator }),
        )
        .await;
    // The figure that counts stays the year's (31 December); the
    // September one is replaced.
    assert_eq!(
        replaced["reportActual"]["indicator"]["latestFinal"]["figure"],
        "1250.5"
    );
    let history = app
        .gql(
            "auditor",
            "query($id: ID!) { indicator(id: $id) { history(first: 100) { edges { node { kind reason before after } } } } }",
            json!({ "id": indicator }),
        )
        .await;
    let edges = history["indicator"]["history"]["edges"].as_array().unwrap();
    let last = &edges.last().unwrap()["node"];
    assert_eq!(last["reason"], "Số liệu quyết toán");
    assert!(last["before"].to_string().contains(first_id), "{last}");
}

#[tokio::test]
async fn reports_racing_an_approval_are_inside_its_digest_or_refused() {
    let app = spawn_app().await;
    let approver = app
        .principal("btv.can-duoc", "APPROVER", Some("LA.CAN-DUOC"))
        .await;
    let doc = document_of(&app, "38-CTr/HU").await;
    let (indicator, ..) = indicator_with_figures(&app).await;
    let report = r#"mutation($id: ID!, $v: Decimal!) { reportActual(input: {indicator: $id, value: {amount: $v}, refersTo: "2025-09-30", status: ESTIMATE}) { position } }"#;
    let (mut accepted, mut refused) = (0, 0);
    for round in 0..6 {
        step(
            &app,
            "planner",
            "submitPeriod",
            json!({ "orgUnit": "LA.CAN-DUOC", "period": "2025" }),
        )
        .await;
        let reports = (0..8).map(|i| {
            let (app, indicator) = (&app, &indicator);
            async move {
                app.post(
                    Some("reporter"),
                    json!({ "query": report, "variables": { "id": indicator, "v": format!("{round}.{i}") } }),
                )
                .await
            }
        });
        let approve = async {
            loop {
                let reply = app
                    .post(
                        Some(&approver),
                        json!({ "query": "mutation($input: ApprovePeriodInput!) { approvePeriod(input: $input) { period { approvals { id position } } } }", "variables": { "input": { "orgUnit": "LA.CAN-DUOC", "period": "2025", "document": doc } } }),
                    )
                    .await;
                // Figures landing while it decides make it decide again;
                // past its attempts it answers CONFLICT and is sent again.
                if reply.code() == Some("CONFLICT") {
                    continue;
                }
                assert!(reply.body.get("errors").is_none(), "{}", reply.body);
                let approvals = reply.body["data"]["approvePeriod"]["period"]["approvals"].clone();
                break approvals.as_array().unwrap().last().unwrap().clone();
            }
        };
        let (replies, approval) = tokio::join!(futures_util::future::join_all(reports), approve);
        let approved_at = approval["position"].as_u64().unwrap();
        for reply in replies {
            match reply.body.get("errors") {
                None => {
                    accepted += 1;
                    let at = reply.body["data"]["reportActual"]["position"]
                        .as_u64()
                        .unwrap();
                    assert!(
                        at < approved_at,
                        "a report at {at} was accepted after the approval at {approved_at}"
                    );
                }
                Some(_) => {
                    refused += 1;
                    assert!(
                        matches!(reply.code(), Some("PERIOD_LOCKED" | "CONFLICT")),
                        "{}",
                        reply.body
                    );
                }
            }
        }
        let check = verify(&app, approval["id"].as_str().unwrap()).await;
        assert_eq!(check["intact"], true, "round {round}: {check}");
        step(&app, &approver, "unlockPeriod", json!({ "orgUnit": "LA.CAN-DUOC", "period": "2025", "document": doc, "reason": "Vòng tiếp theo" })).await;
    }
    eprintln!("reports racing approvals: {accepted} inside the digests, {refused} refused");
    assert_eq!(accepted + refused, 48);
}

/// The approval digest, recomputed from the log's raw payloads by the
/// serialisation documented in ARCHITECTURE.md, without chitieu's domain.
mod independent {
    use serde_json::Value;
    use sha2::{Digest, Sha256};
    use std::collections::BTreeMap;

    pub fn canonical(value: &Value) -> String {
        match value {
            Value::Object(map) => {
                let mut keys: Vec<&String> = map.keys().collect();
                keys.sort();
                let body: Vec<String> = keys
                    .into_iter()
                    .map(|k| format!("{}:{}", Value::String(k.clone()), canonical(&map[k])))
                    .collect();
                format!("{{{}}}", body.join(","))
            }
            Value::Array(items) => {
                format!(
                    "[{}]",
                    items.iter().map(canonical).collect::<Vec<_>>().join(",")
                )
            }
            other => other.to_string(),
        }
    }

    /// First and last day (ISO text) of an indicator period or a reporting year.
    fn span(period: &str) -> (String, String) {
        if let Some(y) = period.strip_prefix("by ") {
            return (format!("{y}-01-01"), format!("{y}-12-31"));
        }
        match period.split_once('-') {
            Some((a, b)) if b.parse::<i32>().unwrap() - a.parse::<i32>().unwrap() == 1 => {
                (format!("{a}-09-01"), format!("{b}-05-31"))
            }
            Some((a, b)) => (format!("{a}-01-01"), format!("{b}-12-31")),
            None => (format!("{period}-01-01"), format!("{period}-12-31")),
        }
    }

    pub struct Record {
        pub position: u64,
        pub event_type: String,
        pub payload: Value,
    }

    pub fn digest(records: &[Record], unit: &str, period: &str) -> String {
        let (first, last) = span(period);
        let inside = |date: &str| first.as_str() <= date && date <= last.as_str();
        let mut defined: BTreeMap<String, (String, String)> = BTreeMap::new();
        let mut targets: BTreeMap<String, BTreeMap<String, (u64, Value)>> = BTreeMap::new();
        let mut reports: BTreeMap<String, BTreeMap<String, (u64, Value, bool)>> = BTreeMap::new();
        for r in records {
            let p = &r.payload;
            match r.event_type.as_str() {
                "indicator_defined" => {
                    let d = &p["definition"];
                    defined.insert(
                        d["id"].as_str().unwrap().to_owned(),
                        (
                            d["org_unit"].as_str().unwrap().to_owned(),
                            d["period"].as_str().unwrap().to_owned(),
                        ),
                    );
                }
                "target_set" | "target_revised" => {
                    targets
                        .entry(p["indicator"].as_str().unwrap().to_owned())
                        .or_default()
                        .insert(
                            p["track"].as_str().unwrap().to_owned(),
                            (r.position, p["target"].clone()),
                        );
                }
                "actual_reported" | "actual_corrected" => {
                    let of = reports
                        .entry(p["indicator"].as_str().unwrap().to_owned())
                        .or_default();
                    for replaced in [&p["supersedes"], &p["corrects"]] {
                        if let Some(old) = replaced.as_str().and_then(|id| of.get_mut(id)) {
                            old.2 = false;
                        }
                    }
                    let report = &p["report"];
                    of.insert(
                        report["report_id"].as_str().unwrap().to_owned(),
                        (r.position, report.clone(), true),
                    );
                }
                _ => {}
            }
        }
        let mut sections = Vec::new();
        for (id, (org, own_period)) in &defined {
            if org != unit {
                continue;
            }
            let (a, b) = span(own_period);
            let covered = inside(&a) && inside(&b);
            let target_list: Vec<Value> = if covered {
                targets
                    .get(id)
                    .map(|t| {
                        t.iter()
                            .map(|(track, (pos, target))| serde_json::json!({"track": track, "position": pos, "target": target}))
                            .collect()
                    })
                    .unwrap_or_default()
            } else {
                Vec::new()
            };
            let mut figures: Vec<(u64, Value)> = reports
                .get(id)
                .map(|rs| {
                    rs.values()
                        .filter(|(_, r, live)| *live && inside(r["refers_to"].as_str().unwrap()))
                        .map(|(pos, r, _)| {
                            (*pos, serde_json::json!({"position": pos, "report": r}))
                        })
                        .collect()
                })
                .unwrap_or_default();
            if target_list.is_empty() && figures.is_empty() {
                continue;
            }
            figures.sort_by_key(|(p, _)| *p);
            sections.push(serde_json::json!({
                "indicator": id,
                "targets": target_list,
                "figures": figures.into_iter().map(|(_, v)| v).collect::<Vec<_>>(),
            }));
        }
        let document = serde_json::json!({
            "format": "chitieu.approval.v1",
            "org_unit": unit,
            "period": period,
            "indicators": sections,
        });
        hex::encode(Sha256::digest(canonical(&document).as_bytes()))
    }
}

#[tokio::test]
async fn the_demo_approvals_digests_are_reproduced_from_the_log_by_an_independent_implementation() {
    let mut app = spawn_app().await;
    let period = app
        .gql(
            "auditor",
            r#"{ period(orgUnit: "TV.TIEU-CAN", period: "2022") { status approvals { id digest position unlockedAfter } } periodDigest(orgUnit: "TV.TIEU-CAN", period: "2022") { digest } }"#,
            json!({}),
        )
        .await;
    assert_eq!(period["period"]["status"], "LOCKED");
    let approvals = period["period"]["approvals"].as_array().unwrap().clone();
    assert_eq!(
        approvals.len(),
        2,
        "the demo approves Tiểu Cần's 2022 twice"
    );
    assert_eq!(approvals[1]["digest"], period["periodDigest"]["digest"]);
    // The first approval predates the final cooperative revenue.
    let first = verify(&app, approvals[0]["id"].as_str().unwrap()).await;
    assert_eq!(first["intact"], false);
    assert_eq!(first["changed"].as_array().unwrap().len(), 1);
    assert_eq!(
        first["changed"][0]["indicator"]["name"],
        "Doanh thu hợp tác xã"
    );
    assert_eq!(
        verify(&app, approvals[1]["id"].as_str().unwrap()).await["intact"],
        true
    );

    app.stop();
    let log = chitieu_store::SledLog::open(app.data_dir.join("db")).unwrap();
    use chitieu_store::EventLog;
    let records: Vec<independent::Record> = log
        .read_all(1, usize::MAX)
        .unwrap()
        .into_iter()
        .map(|r| independent::Record {
            position: r.position,
            event_type: r.event_type.clone(),
            payload: serde_json::from_slice(&r.payload).unwrap(),
        })
        .collect();
    let mut by_position: BTreeMap<u64, String> = BTreeMap::new();
    for approval in &approvals {
        by_position.insert(
            approval["position"].as_u64().unwrap(),
            approval["digest"].as_str().unwrap().to_owned(),
        );
    }
    for (position, digest) in by_position {
        let before: Vec<independent::Record> = records
            .iter()
            .filter(|r| r.position < position)
            .map(|r| independent::Record {
                position: r.position,
                event_type: r.event_type.clone(),
                payload: r.payload.clone(),
            })
            .collect();
        assert_eq!(independent::digest(&before, "TV.TIEU-CAN", "2022"), digest);
    }
}

#[tokio::test]
async fn an_import_touching_a_locked_period_is_refused_whole_with_period_locked() {
    use base64::Engine;
    let app = spawn_app().await;
    let seed = include_str!("../../fixtures/seeds/actuals.tsv");
    let header = seed.lines().next().unwrap();
    // Tiểu Cần's rice area of 2022 (locked in the demo), with another figure.
    let row = seed
        .lines()
        .find(|l| l.contains("Tiểu Cần") && l.contains("Tổng diện tích lúa xuống giống"))
        .unwrap()
        .replace("31.261 ha", "31.300 ha")
        .replace("\t31261\t", "\t31300\t");
    let table = format!("{header}\n{row}\n");
    let head = app.ledger().await;
    let refused = app
        .gql_err(
            Some("admin"),
            r#"mutation($c: String!) { importTable(input: {contentBase64: $c}) { written } }"#,
            json!({ "c": base64::engine::general_purpose::STANDARD.encode(table) }),
        )
        .await;
    assert_eq!(refused.code(), Some("PERIOD_LOCKED"), "{}", refused.body);
    let problems = &refused.body["errors"][0]["extensions"]["problems"];
    assert_eq!(problems[0]["code"], "PERIOD_LOCKED", "{problems}");
    assert!(problems[0]["why"].as_str().unwrap().contains("2022"));
    assert_eq!(app.ledger().await, head);
}
