//! The answers to the main queries on the demo data, as reviewed
//! snapshots (`tests/api/snapshots/`): a change of their shape or content
//! shows as a diff to accept (`cargo insta review`, or
//! `INSTA_UPDATE=always`) or to fix. Times of recording differ at every
//! run and are redacted; the demo's ids and positions are deterministic.

use crate::helpers::*;
use serde_json::json;

macro_rules! snapshot {
    ($name:expr, $value:expr) => {
        insta::assert_json_snapshot!($name, $value, {
            ".**.recordedAt" => "[recordedAt]",
            ".**.reportedAt" => "[reportedAt]",
            ".**.changedAt" => "[changedAt]",
            ".**.updatedAt" => "[updatedAt]",
        })
    };
}

const INDICATOR: &str = "id code name unit measure category better betterBecause \
    targets { track kind value strict low high rate base reduction comparedPeriod direction deadline wording revisions lastReason document { title } } \
    latestActual { figure value numerator denominator done status refersTo note supersedes corrects correctionReason reportedBy } \
    achievement { track status percentOfTarget overTarget overTargetInPoints changeFromBase }";

#[tokio::test]
async fn the_indicators_of_a_district_and_a_year() {
    let app = spawn_app().await;
    let query = format!(
        "{{ indicators(filter: {{orgUnit: \"TV.TIEU-CAN\", period: \"2022\"}}, first: 100) {{ totalCount nodes {{ {INDICATOR} }} }} }}"
    );
    let answer = app.gql("auditor", &query, json!({})).await;
    snapshot!("indicators_tieu_can_2022", &answer);
}

#[tokio::test]
async fn summaries_of_a_district_and_of_a_province_with_its_districts() {
    let app = spawn_app().await;
    let answer = app
        .gql(
            "auditor",
            "{ district: summary(orgUnit: \"TV.TIEU-CAN\", period: \"2022\") { orgUnit period exceeded met notMet noData withoutTarget total }
               province: summary(orgUnit: \"LA\", period: \"2025\") { orgUnit period exceeded met notMet noData withoutTarget total }
               own: summary(orgUnit: \"LA\", period: \"2025\", includeDescendants: false) { total } }",
            json!({}),
        )
        .await;
    snapshot!("summaries", &answer);
}

#[tokio::test]
async fn the_history_of_a_revised_target() {
    let app = spawn_app().await;
    let answer = app
        .gql(
            "auditor",
            "{ indicators(filter: {orgUnit: \"TV.TIEU-CAN\", period: \"2022\", name: \"Tổng vốn đầu tư toàn xã hội\"}) { nodes { name
                 history(first: 10) { totalCount edges { node { position version recordedAt actor { id name role } kind track before after reason document { title } } } } } } }",
            json!({}),
        )
        .await;
    snapshot!("history_investment_tieu_can_2022", &answer);
}

#[tokio::test]
async fn an_org_unit_across_the_2025_reorganisation() {
    let app = spawn_app().await;
    let answer = app
        .gql(
            "auditor",
            "{ orgUnit(code: \"VL\") { code name level parent successors ceasedOn
                 predecessors { code name level ceasedOn successors }
                 lineage { code name(on: \"2024-01-01\") ceasedOn } } }",
            json!({}),
        )
        .await;
    snapshot!("org_unit_vinh_long", &answer);
}

#[tokio::test]
async fn the_audit_trail_of_a_locked_period() {
    let app = spawn_app().await;
    let answer = app
        .gql(
            "auditor",
            "{ auditTrail(filter: {orgUnit: \"TV.TIEU-CAN\", kind: \"period_unlocked\"}, first: 10) { totalCount edges { node {
                 position recordedAt actor { id role } orgUnit stream kind reason period document { title } } } } }",
            json!({}),
        )
        .await;
    snapshot!("audit_period_unlocked", &answer);
}
