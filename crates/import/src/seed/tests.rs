//! The seed tables import whole, twice without change, and refuse what they must.

use super::super::{plan, Options, Table};
use super::*;

const TARGETS: &str = include_str!("../../../../fixtures/seeds/targets.tsv");
const ACTUALS: &str = include_str!("../../../../fixtures/seeds/actuals.tsv");

fn apply(state: &mut DomainState, steps: &[Step]) {
    for step in steps {
        let events = decide(state, &step.command).unwrap_or_else(|e| panic!("{e}"));
        events.iter().for_each(|e| evolve(state, e));
    }
}

fn count(steps: &[Step], f: impl Fn(&Command) -> bool) -> usize {
    steps.iter().filter(|s| f(&s.command)).count()
}

#[test]
fn every_seed_target_and_result_plans_and_a_second_import_plans_nothing() {
    let mut state = DomainState::default();
    let targets = Table::from_text(TARGETS);
    let steps =
        plan(&targets, &Options::default(), &state, |_| false).unwrap_or_else(|p| panic!("{p:#?}"));
    assert_eq!(
        count(&steps, |c| matches!(c, Command::SetTarget { .. })),
        183
    );
    // 182 indicators: 004's budget revenue carries two tracks.
    assert_eq!(
        count(&steps, |c| matches!(c, Command::DefineIndicator(_))),
        182
    );
    assert_eq!(
        count(&steps, |c| matches!(c, Command::RegisterOrgUnit(_))),
        8
    );
    assert_eq!(
        count(&steps, |c| matches!(c, Command::RegisterDocument(_))),
        4
    );
    apply(&mut state, &steps);
    let codes: Vec<String> = state.org_units.keys().map(|c| c.to_string()).collect();
    assert!(codes.contains(&"LA.CAN-DUOC".to_owned()), "{codes:?}");
    assert!(codes.contains(&"HG.PHUNG-HIEP".to_owned()), "{codes:?}");

    let actuals = Table::from_text(ACTUALS);
    let steps =
        plan(&actuals, &Options::default(), &state, |_| false).unwrap_or_else(|p| panic!("{p:#?}"));
    assert_eq!(
        count(&steps, |c| matches!(c, Command::ReportActual { .. })),
        242
    );
    assert_eq!(
        count(&steps, |c| matches!(c, Command::RegisterOrgUnit(_))),
        0
    );
    // The eight targets written next to their results.
    assert_eq!(count(&steps, |c| matches!(c, Command::SetTarget { .. })), 8);
    apply(&mut state, &steps);

    for table in [&targets, &actuals] {
        let again = plan(table, &Options::default(), &state, |_| false)
            .unwrap_or_else(|p| panic!("{p:#?}"));
        assert!(again.is_empty(), "{again:#?}");
    }
}

#[test]
fn a_row_that_contradicts_the_store_is_refused_with_its_line() {
    let mut state = DomainState::default();
    let targets = Table::from_text(TARGETS);
    let steps =
        plan(&targets, &Options::default(), &state, |_| false).unwrap_or_else(|p| panic!("{p:#?}"));
    apply(&mut state, &steps);
    let changed = TARGETS.replacen("\t581\t", "\t590\t", 1);
    let problems = plan(
        &Table::from_text(&changed),
        &Options::default(),
        &state,
        |_| false,
    )
    .err()
    .unwrap_or_default();
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(problems[0].why.contains("reviseTarget"), "{}", problems[0]);
    let line = TARGETS
        .lines()
        .position(|l| l.contains("\t581\t"))
        .unwrap_or(0)
        + 1;
    assert_eq!(problems[0].line, line);
}

#[test]
fn bad_rows_are_all_listed() {
    let header = TARGETS.lines().next().unwrap_or("");
    let good = TARGETS.lines().nth(1).unwrap_or("");
    let bad_kind = good.replace("at_least", "more_or_less");
    let bad_value = good.replace("\t707\t", "\t7,07x\t");
    let bad_period = good.replace("\t2025\t", "\t2025-2027\t");
    let text = [header, good, &bad_kind, &bad_value, &bad_period].join("\n");
    let problems = plan(
        &Table::from_text(&text),
        &Options::default(),
        &DomainState::default(),
        |_| false,
    )
    .err()
    .unwrap_or_default();
    let lines: Vec<(usize, Option<&str>)> = problems
        .iter()
        .map(|p| (p.line, p.column.as_deref()))
        .collect();
    assert_eq!(
        lines,
        vec![(3, Some("kind")), (4, Some("value")), (5, Some("period"))],
        "{problems:#?}"
    );
}

#[test]
fn a_result_named_like_two_indicators_needs_its_document() {
    let mut state = DomainState::default();
    let targets = Table::from_text(TARGETS);
    let steps =
        plan(&targets, &Options::default(), &state, |_| false).unwrap_or_else(|p| panic!("{p:#?}"));
    apply(&mut state, &steps);
    // A second document of Cần Đước defines another "Thu ngân sách" of 2025.
    let header = TARGETS.lines().next().unwrap_or("");
    let budget = TARGETS
        .lines()
        .find(|l| l.contains("\t4\tThu ngân sách\t"))
        .unwrap_or("");
    let other = budget.replace("38-CTr/HU Chương trình", "39-CTr/HU Chương trình");
    let steps = plan(
        &Table::from_text(&format!("{header}\n{other}\n")),
        &Options::default(),
        &state,
        |_| false,
    )
    .unwrap_or_else(|p| panic!("{p:#?}"));
    apply(&mut state, &steps);
    let result = "seed_file\tdistrict\tprovince\tperiod\tcategory\tindicator_vi\tactual_text_vi\tvalue\tunit\tstatus\n\
         x\tCần Đước\tLong An\t2025\teconomy\tThu ngân sách\tước thu 590 tỷ đồng\t590\ttỷ đồng\testimate\n";
    let problems = plan(
        &Table::from_text(result),
        &Options::default(),
        &state,
        |_| false,
    )
    .err()
    .unwrap_or_default();
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(problems[0].why.contains("2 indicators"), "{}", problems[0]);
    // Naming the document settles it.
    let document = state
        .documents
        .values()
        .find(|d| d.number.as_ref().map(|n| n.as_str()) == Some("39-CTr/HU"))
        .map(|d| d.id);
    let options = Options {
        document,
        ..Options::default()
    };
    let steps = plan(&Table::from_text(result), &options, &state, |_| false)
        .unwrap_or_else(|p| panic!("{p:#?}"));
    assert_eq!(steps.len(), 1);
}

#[test]
fn a_percentage_the_figures_do_not_give_is_flagged_not_agreed_with() {
    let mut state = DomainState::default();
    let steps = plan(
        &Table::from_text(TARGETS),
        &Options::default(),
        &state,
        |_| false,
    )
    .unwrap_or_else(|p| panic!("{p:#?}"));
    apply(&mut state, &steps);
    let steps = plan(
        &Table::from_text(ACTUALS),
        &Options::default(),
        &state,
        |_| false,
    )
    .unwrap_or_else(|p| panic!("{p:#?}"));
    assert!(
        steps.iter().all(|s| s.notice.is_none()),
        "the seeds' five stated percentages agree with their figures"
    );
    // 41/40 enterprises is 102,5 %; a table saying 105 % is flagged.
    let wrong = ACTUALS.replace(
        "\t41\tdoanh nghiệp\t40\t102.5\t",
        "\t41\tdoanh nghiệp\t40\t105\t",
    );
    assert_ne!(wrong, ACTUALS);
    let steps = plan(
        &Table::from_text(&wrong),
        &Options::default(),
        &state,
        |_| false,
    )
    .unwrap_or_else(|p| panic!("{p:#?}"));
    let flagged: Vec<&Step> = steps.iter().filter(|s| s.notice.is_some()).collect();
    assert_eq!(flagged.len(), 1);
    let notice = flagged[0].notice.as_deref().unwrap_or("");
    assert!(
        notice.starts_with("văn bản ghi đạt 105% kế hoạch;") && notice.contains("102,5%"),
        "{notice}"
    );
    match &flagged[0].command {
        Command::ReportActual { report, .. } => {
            let note = report
                .note
                .as_ref()
                .map(|n| n.to_string())
                .unwrap_or_default();
            assert!(note.contains("⚠"), "{note}");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn result_periods_as_the_tables_write_them() {
    let d = |y, m, dd| NaiveDate::from_ymd_opt(y, m, dd).unwrap_or_default();
    assert_eq!(
        actual_period("2022"),
        Some((Period::Year(2022), d(2022, 12, 31)))
    );
    assert_eq!(
        actual_period("2015-2020"),
        Some((Period::Term(2015, 2020), d(2020, 12, 31)))
    );
    assert_eq!(
        actual_period("đến 16/12/2022"),
        Some((Period::Year(2022), d(2022, 12, 16)))
    );
    assert_eq!(
        actual_period("đầu năm 2015"),
        Some((Period::Year(2015), d(2015, 1, 1)))
    );
    assert_eq!(
        actual_period("năm học 2022-2023"),
        Some((Period::SchoolYear(2022), d(2023, 5, 31)))
    );
    assert_eq!(
        actual_period("lũy kế từ khi xuất hiện dịch đến nay (2022)"),
        Some((Period::Year(2022), d(2022, 12, 31)))
    );
    assert_eq!(actual_period("sometime"), None);
}

/// A table written before a unit's rename names it by its former name: the
/// import finds the renamed unit (by either name), registers nothing new.
#[test]
fn a_unit_renamed_since_the_table_was_written_is_found_by_its_former_name() {
    let mut state = DomainState::default();
    let targets = Table::from_text(TARGETS);
    let steps = plan(&targets, &Options::default(), &state, |_| false).unwrap();
    apply(&mut state, &steps);
    let district = OrgUnitCode::parse("LA.CAN-DUOC").unwrap();
    let rename = Command::RenameOrgUnit {
        unit: district.clone(),
        name: Text::parse("Huyện Cần Đước Mới (minh họa)").unwrap(),
        effective: NaiveDate::from_ymd_opt(2025, 1, 1).unwrap(),
        document: None,
    };
    apply(
        &mut state,
        &[Step {
            line: 0,
            key: String::new(),
            command: rename,
            notice: None,
        }],
    );
    assert_eq!(
        state.org_units[&district].former_names[0].as_str(),
        "Cần Đước"
    );
    // The same table again: every unit, document and target is found.
    let again = plan(&targets, &Options::default(), &state, |_| false).unwrap();
    assert_eq!(
        count(&again, |c| matches!(c, Command::RegisterOrgUnit(_))),
        0
    );
    assert_eq!(again.len(), 0, "{:?}", again.first().map(|s| &s.command));
    // A row naming only its district, by the former name.
    let mut lines = TARGETS.lines();
    let header = lines.next().unwrap();
    let columns: Vec<&str> = header.split('\t').collect();
    let province = columns.iter().position(|c| *c == "province").unwrap();
    let district_column = columns.iter().position(|c| *c == "district").unwrap();
    let row = lines
        .find(|l| l.split('\t').nth(district_column) == Some("Cần Đước"))
        .unwrap();
    let mut fields: Vec<&str> = row.split('\t').collect();
    fields[province] = "";
    let table = Table::from_text(&format!("{header}\n{}\n", fields.join("\t")));
    let again =
        plan(&table, &Options::default(), &state, |_| false).unwrap_or_else(|p| panic!("{p:#?}"));
    assert!(again.is_empty(), "{:?}", again.first().map(|s| &s.command));
    assert_eq!(
        crate::office::find_org_unit(&state, "Huyện Cần Đước"),
        Some(district.clone())
    );
    assert_eq!(
        crate::office::find_org_unit(&state, "Cần Đước Mới (minh họa)"),
        Some(district)
    );
}

/// A decree's mapping table records the successions: a merger (two old
/// units to one), checked against the rules; the same table twice plans
/// nothing new; a bad row is refused by line.
#[test]
fn a_mapping_table_records_who_took_over_from_whom() {
    let mut state = DomainState::default();
    let targets = Table::from_text(TARGETS);
    let steps = plan(&targets, &Options::default(), &state, |_| false).unwrap();
    apply(&mut state, &steps);
    let document = DocumentId(uuid::Uuid::from_u128(0x72));
    let province = |code: &str, name: &str| {
        Command::RegisterOrgUnit(OrgUnit {
            code: OrgUnitCode::parse(code).unwrap(),
            name: Text::parse(name).unwrap(),
            level: OrgUnitLevel::Province,
            parent: None,
            established: None,
        })
    };
    let law = Command::RegisterDocument(Document {
        id: document,
        number: Some(DocumentNumber::parse("72/2025/QH15").unwrap()),
        kind: DocumentKind::Other,
        issuing_body: Text::parse("Quốc hội").unwrap(),
        org_unit: None,
        issued_on: None,
        title: Text::parse("Luật Tổ chức chính quyền địa phương").unwrap(),
    });
    let step = |command| Step {
        line: 0,
        key: String::new(),
        command,
        notice: None,
    };
    apply(
        &mut state,
        &[step(province("TN", "Tỉnh Tây Ninh")), step(law)],
    );
    let table = Table::from_text(
        "mã cũ\tmã mới\tngày hiệu lực\tvăn bản\n\
         LA\tTN\t01/07/2025\t72/2025/QH15\n\
         LA.CAN-DUOC\tTN\t2025-07-01\t72/2025/QH15\n",
    );
    let steps =
        plan(&table, &Options::default(), &state, |_| false).unwrap_or_else(|p| panic!("{p:#?}"));
    assert_eq!(steps.len(), 2);
    assert!(steps.iter().all(|s| matches!(
        &s.command,
        Command::RecordSuccession { successors, document: Some(d), .. }
            if successors[0].as_str() == "TN" && *d == document
    )));
    let keys: Vec<String> = steps.iter().map(|s| s.key.clone()).collect();
    apply(&mut state, &steps);
    assert_eq!(
        state.org_units[&OrgUnitCode::parse("LA").unwrap()].successors[0].as_str(),
        "TN"
    );
    // Again: the steps are the same and all replays.
    let again = plan(&table, &Options::default(), &state, |k| {
        keys.contains(&k.to_owned())
    })
    .unwrap();
    assert_eq!(
        again.iter().map(|s| s.key.clone()).collect::<Vec<_>>(),
        keys
    );
    // Unknown units, a bad date, an unknown document, a second date: each by line.
    let bad = Table::from_text(
        "old code\tnew code\teffective\tdocument\n\
         XX\tTN\t2025-07-01\t72/2025/QH15\n\
         HG\tTN\t31/02/2025\t72/2025/QH15\n\
         HG.PHUNG-HIEP\tTN\t2025-07-01\t99/2025/QH15\n\
         AG\tTN\t2025-07-01\t\n\
         AG\tTN\t2025-08-01\t\n",
    );
    let problems = plan(&bad, &Options::default(), &state, |_| false).unwrap_err();
    let lines: Vec<usize> = problems.iter().map(|p| p.line).collect();
    assert_eq!(lines, vec![2, 3, 4, 6], "{problems:#?}");
}

/// A mapping table may create the unit that takes over: its name, level
/// and parent in the row; registered before the successions, once.
#[test]
fn a_mapping_table_registers_a_new_unit_it_describes() {
    let mut state = DomainState::default();
    let targets = Table::from_text(TARGETS);
    let steps = plan(&targets, &Options::default(), &state, |_| false).unwrap();
    apply(&mut state, &steps);
    let table = Table::from_text(
        "mã cũ\tmã mới\tngày hiệu lực\ttên mới\tcấp mới\ttrực thuộc\n\
         HG.PHUNG-HIEP\tCT.XA-PHUNG-HIEP\t2025-07-01\tXã Phụng Hiệp\txã\tCT\n\
         HG\tCT\t2025-07-01\tThành phố Cần Thơ\ttỉnh\t\n\
         TV\tVL\t2025-07-01\tTỉnh Vĩnh Long\t\t\n",
    );
    let steps =
        plan(&table, &Options::default(), &state, |_| false).unwrap_or_else(|p| panic!("{p:#?}"));
    let registered: Vec<String> = steps
        .iter()
        .filter_map(|s| match &s.command {
            Command::RegisterOrgUnit(u) => Some(format!("{} {:?} {:?}", u.code, u.level, u.parent)),
            _ => None,
        })
        .collect();
    assert_eq!(
        registered,
        vec![
            "CT Province None".to_owned(),
            "VL Province None".to_owned(),
            "CT.XA-PHUNG-HIEP Commune Some(OrgUnitCode(\"CT\"))".to_owned()
        ]
    );
    assert_eq!(
        count(&steps, |c| matches!(c, Command::RecordSuccession { .. })),
        3
    );
    apply(&mut state, &steps);
    // Described otherwise on two lines, or with no level for a new unit
    // whose old unit is unknown: refused by line.
    let bad = Table::from_text(
        "old code\tnew code\teffective\tnew name\tnew level\n\
         AG\tKG\t2025-07-01\tTỉnh Kiên Giang (minh họa)\tprovince\n\
         AG.CHO-MOI\tKG\t2025-07-01\tKiên Giang\tprovince\n\
         LA\tLA.XA-MOI\t2025-07-01\tXã Mới\tplanet\n",
    );
    let problems = plan(&bad, &Options::default(), &state, |_| false).unwrap_err();
    let lines: Vec<usize> = problems.iter().map(|p| p.line).collect();
    assert_eq!(lines, vec![3, 4], "{problems:#?}");
}
