//! Parameters, packs, input checking and the batch path, through the public interface.

use chrono::NaiveDate;
use jiuzhu_domain::Money;
use jiuzhu_policy::batch::{self, BatchRules, Households};
use jiuzhu_policy::evaluate::{decide, evaluate_input};
use jiuzhu_policy::household::MemberInput;
use jiuzhu_policy::{HouseholdInput, Overrides, Pack, PolicyBook, PolicyError, Program, Step};
use proptest::prelude::*;

fn date(y: i32, m: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, 1).unwrap()
}

fn household(json: serde_json::Value) -> HouseholdInput {
    serde_json::from_value(json).unwrap()
}

#[test]
fn a_region_is_governed_by_its_nearest_pack() {
    let book = PolicyBook::shipped();
    assert_eq!(book.jurisdiction("320582101").unwrap().id, "zhangjiagang");
    assert_eq!(book.jurisdiction("320582").unwrap().id, "zhangjiagang");
    assert_eq!(book.jurisdiction("140105").unwrap().id, "shanxi");
    assert_eq!(book.jurisdiction("350203001").unwrap().id, "xiamen");
    assert_eq!(book.jurisdiction("yubei").unwrap().id, "yubei");
    assert_eq!(
        book.jurisdiction("110101").unwrap_err(),
        PolicyError::UnknownJurisdiction("110101".into())
    );
    assert!(book.jurisdiction("nowhere").is_err());
}

#[test]
fn values_are_taken_by_date_and_inherited_with_their_source() {
    let book = PolicyBook::shipped();
    let none = Overrides::default();
    let zjg = |d| book.params("zhangjiagang", d, &none).unwrap();
    assert_eq!(
        zjg(date(2024, 6)).get("dibao.standard").unwrap().money(),
        Money::from_yuan(1286)
    );
    let july = zjg(date(2024, 7)).get("dibao.standard").unwrap();
    assert_eq!(july.money(), Money::from_yuan(1389));
    assert_eq!(july.from, NaiveDate::from_ymd_opt(2024, 7, 1).unwrap());
    assert!(july.demo, "a standard no document gives is unconfirmed");
    // Zhangjiagang's own clause, confirmed.
    let medical = zjg(date(2024, 7)).get("low_income.medical_ratio").unwrap();
    assert!(!medical.demo);
    assert!(medical.source.contains("三(一)3"), "{}", medical.source);
    // Inherited from the defaults: unconfirmed for Zhangjiagang.
    let basic = zjg(date(2024, 7)).get("tekun.basic_ratio").unwrap();
    assert_eq!(basic.jurisdiction, "通用默认值");
    assert!(basic.demo);
    // Shanxi states it itself.
    let shanxi = book
        .params("shanxi", date(2024, 7), &none)
        .unwrap()
        .get("tekun.basic_ratio")
        .unwrap();
    assert_eq!(shanxi.jurisdiction, "山西省");
    assert!(!shanxi.demo);
}

#[test]
fn a_month_before_any_value_is_an_error_naming_the_parameter() {
    let book = PolicyBook::shipped();
    let ps = book
        .params("shanxi", date(2023, 6), &Overrides::default())
        .unwrap();
    let err = ps.get("dibao.standard").unwrap_err();
    assert_eq!(err.field(), "parameters.dibao.standard");
    assert!(err.to_string().contains("最早自2024-01-01起"), "{err}");
    let input = household(serde_json::json!({
        "jurisdiction": "shanxi", "month": "2023-06", "members": [{"age": 40}]
    }));
    let err = evaluate_input(&book, &input, &[], None).unwrap_err();
    assert!(matches!(err, PolicyError::NotInForce { .. }), "{err}");
}

#[test]
fn overrides_apply_to_one_evaluation_and_are_marked() {
    let book = PolicyBook::shipped();
    let input = household(serde_json::json!({
        "jurisdiction": "openfisca-bench", "month": "2024-01",
        "members": [{"age": 40, "incomes": [{"kind": "wage", "monthly": 900}]}]
    }));
    let plain = evaluate_input(&book, &input, &[], None).unwrap();
    assert!(!plain.decision(Program::Dibao).unwrap().eligible);
    let raised = evaluate_input(&book, &input, &["dibao.standard=1000".into()], None).unwrap();
    let d = raised.decision(Program::Dibao).unwrap();
    assert!(d.eligible);
    assert_eq!(d.amount(), Money::from_yuan(100));
    let standard = d.parameters().find(|p| p.name == "dibao.standard").unwrap();
    assert!(standard.overridden);
    let mut json = input.clone();
    json.parameters
        .insert("dibao.standard".into(), serde_json::json!("1000.00"));
    assert_eq!(
        evaluate_input(&book, &json, &[], None)
            .unwrap()
            .decision(Program::Dibao)
            .unwrap()
            .amount(),
        d.amount()
    );
    let mut o = Overrides::default();
    assert_eq!(
        o.set_text("dibao.standrad=1").unwrap_err(),
        PolicyError::UnknownParameter("dibao.standrad".into())
    );
    let err = o.set_text("tekun.basic_ratio=abc").unwrap_err();
    assert_eq!(err.field(), "parameters.tekun.basic_ratio");
    assert!(o.set_text("dibao.standard").is_err());
}

#[test]
fn packs_with_mistakes_are_refused_with_the_file_and_value() {
    let bad = |text: &str| Pack::parse("bad.toml", text).unwrap_err().to_string();
    let head = "id = \"x\"\nname = \"x\"\ndocument = \"d\"\n";
    let unknown = bad(&format!("{head}[[value]]\nname = \"dibao.standrad\"\nfrom = \"2024-01-01\"\nvalue = \"1\"\nclause = \"c\"\n"));
    assert!(
        unknown.contains("bad.toml") && unknown.contains("dibao.standrad"),
        "{unknown}"
    );
    let kind = bad(&format!("{head}[[value]]\nname = \"dibao.standard\"\nfrom = \"2024-01-01\"\nvalue = \"many\"\nclause = \"c\"\n"));
    assert!(kind.contains("第1个参数值"), "{kind}");
    let twice = format!("{head}[[value]]\nname = \"dibao.standard\"\nfrom = \"2024-01-01\"\nvalue = \"1\"\nclause = \"c\"\n");
    assert!(bad(&format!("{twice}{}", &twice[head.len()..])).contains("已有数值"));
    let program = bad(&format!("{head}programs = [\"dibao\", \"lottery\"]\n"));
    assert!(program.contains("lottery"), "{program}");
    let cycle = PolicyBook::from_files([
        (
            "a.toml",
            "id = \"a\"\nname = \"a\"\ndocument = \"d\"\nparent = \"b\"\n",
        ),
        (
            "b.toml",
            "id = \"b\"\nname = \"b\"\ndocument = \"d\"\nparent = \"a\"\n",
        ),
    ]);
    assert!(cycle.unwrap_err().to_string().contains("成环"));
}

#[test]
fn contradictory_or_impossible_input_names_its_field() {
    let book = PolicyBook::shipped();
    let check = |json: serde_json::Value| {
        let input: HouseholdInput = serde_json::from_value(json).unwrap();
        evaluate_input(&book, &input, &[], Some("zhangjiagang")).unwrap_err()
    };
    let e = check(
        serde_json::json!({"month": "2024-01", "members": [{"age": 40}, {"age": 16, "birth_date": "1950-03-01"}]}),
    );
    assert_eq!(e.field(), "members[2].age");
    assert!(e.to_string().contains("1950-03-01"), "{e}");
    let e = check(
        serde_json::json!({"month": "2024-01", "members": [{"age": 40, "incomes": [{"kind": "wage", "monthly": "-5"}]}]}),
    );
    assert_eq!(e.field(), "members[1].incomes[1].monthly");
    let e = check(
        serde_json::json!({"month": "2024-01", "members": [{"id_number": "110101199003071234"}]}),
    );
    assert_eq!(e.field(), "members[1].id_number");
    let e = check(serde_json::json!({"month": "2024-13", "members": [{"age": 1}]}));
    assert_eq!(e.field(), "month");
    let e = check(serde_json::json!({"month": "2024-01", "members": []}));
    assert_eq!(e.field(), "members");
    let e = check(serde_json::json!({"month": "2024-01", "members": [{}]}));
    assert_eq!(e.field(), "members[1].age");
    let e =
        check(serde_json::json!({"month": "2024-01", "apply_alone": 3, "members": [{"age": 3}]}));
    assert_eq!(e.field(), "apply_alone");
    let e = check(
        serde_json::json!({"month": "2024-01", "members": [{"age": 50, "medical": {"own_costs": 100, "insurance_repaid": 200}}]}),
    );
    assert_eq!(e.field(), "members[1].medical.insurance_repaid");
    let e = check(
        serde_json::json!({"jurisdiction": "atlantis", "month": "2024-01", "members": [{"age": 3}]}),
    );
    assert_eq!(e.field(), "jurisdiction");
    assert!(serde_json::from_value::<HouseholdInput>(
        serde_json::json!({"members": [{"agee": 3}]})
    )
    .is_err());
}

#[test]
fn an_identity_number_gives_the_age_and_the_trace_names_members_not_numbers() {
    let book = PolicyBook::shipped();
    // 110101194401010011: born 1944-01-01, 80 on 2024-01-01.
    let input = household(serde_json::json!({
        "jurisdiction": "xiamen", "month": "2024-01",
        "members": [{"name": "陈阿婆", "id_number": "110101194401010011"}]
    }));
    let e = evaluate_input(&book, &input, &[], None).unwrap();
    let d = e.decision(Program::ElderlyAllowance).unwrap();
    assert_eq!(d.amount(), Money::from_yuan(100));
    let text = serde_json::to_string(&e).unwrap();
    assert!(text.contains("成员1（陈阿婆）"));
    assert!(
        !text.contains("110101194401010011"),
        "the trace never carries an identity number"
    );
}

#[test]
fn a_decision_shows_every_parameter_test_and_figure_behind_it() {
    let book = PolicyBook::shipped();
    let input = household(serde_json::json!({
        "jurisdiction": "zhangjiagang", "month": "2024-01",
        "members": [{"age": 50, "incomes": [{"kind": "wage", "monthly": "1000"}]}, {"age": 20}]
    }));
    let e = evaluate_input(&book, &input, &[], None).unwrap();
    let d = e.decision(Program::Dibao).unwrap();
    assert!(d.eligible);
    assert_eq!(d.amount(), Money::from_yuan(1286 * 2 - 1000));
    assert_eq!(d.amount_text, "每月1,572.00元");
    assert!(d.unconfirmed, "the 低保 standard is a demo value");
    let standard = d.parameters().find(|p| p.name == "dibao.standard").unwrap();
    assert_eq!(standard.text, "1,286.00元");
    assert!(d.trace.iter().any(|s| matches!(s, Step::Test { passed: true, label, .. } if label.contains("低于低保标准1,286.00元×2人=2,572.00元"))));
    assert!(d.trace.iter().any(|s| matches!(s, Step::Value { label, value } if label.contains("差额") && value.contains("1,572.00元"))));
    // Every program the jurisdiction runs is there, eligible or not, each with a reason when not.
    assert_eq!(
        e.decisions.len(),
        book.params("zhangjiagang", date(2024, 1), &Overrides::default())
            .unwrap()
            .programs()
            .len()
    );
    for d in &e.decisions {
        assert!(
            d.eligible || d.reason.is_some(),
            "{} without a reason",
            d.label
        );
    }
}

#[test]
fn batch_rows_that_cannot_be_read_say_line_field_and_why() {
    let book = PolicyBook::shipped();
    let rules = rules(&book);
    let parse = |text: &str| {
        let mut h = Households::default();
        batch::parse_households(text.as_bytes(), 2, &rules, &mut h)
            .map(|()| h.size.iter().sum::<i64>())
    };
    assert_eq!(
        parse("0,0,40,100,0,0,0\n0,1,38,0,0,0,0\n1,2,5,0.5,0,0,12.25\n").unwrap(),
        3
    );
    let mut h = Households::default();
    batch::parse_households(
        b"0,0,40,100,0,0,0\n0,1,81,0.5,0.25,0,0\n1,2,5,0.5,0,0,12.25\n",
        2,
        &rules,
        &mut h,
    )
    .unwrap();
    assert_eq!((h.id.clone(), h.size.clone()), (vec![0, 1], vec![2, 1]));
    assert_eq!(
        (h.income.clone(), h.rigid.clone(), h.elderly.clone()),
        (vec![10_025, 50], vec![0, 1_225], vec![10_000, 0])
    );
    let e = parse("0,0,40,100,0,0,0\n0,1,abc,0,0,0,0\n").unwrap_err();
    assert_eq!((e.line, e.field), (3, "age"));
    let e = parse("0,0,40,100,0,0\n").unwrap_err();
    assert_eq!((e.line, e.field), (2, "rigid_expense"));
    assert!(e.message.contains("缺少"));
    let e = parse("0,0,40,100,200,0,0\n").unwrap_err();
    assert_eq!(e.field, "excluded_income");
    let e = parse("0,0,40,-100,0,0,0\n").unwrap_err();
    assert_eq!(e.field, "monthly_income");
    let e = parse("0,0,40,1.234,0,0,0\n").unwrap_err();
    assert_eq!(e.field, "monthly_income");
    let e = parse("0,0,40,100,0,7,0\n").unwrap_err();
    assert_eq!(e.field, "disability_level");
    let e = parse("5,0,40,100,0,0,0\n4,1,40,100,0,0,0\n").unwrap_err();
    assert_eq!((e.line, e.field), (3, "household_id"));
    let e = parse("0,0,40,100,0,0,0,9\n").unwrap_err();
    assert!(e.message.contains("多于7列"));
    assert_eq!(e.to_string(), "第2行 rigid_expense：列数多于7列");
    // CRLF lines and a last line without a newline are read.
    assert_eq!(parse("0,0,40,100,0,0,0\r\n0,1,40,100,0,0,0").unwrap(), 2);
}

#[test]
fn a_chunk_is_cut_before_the_last_household() {
    let text = b"0,0,1,0,0,0,0\n1,1,1,0,0,0,0\n1,2,1,0,0,0,0\n2,3,1,0,";
    assert_eq!(batch::household_boundary(text), Some(14));
    assert_eq!(
        batch::household_boundary(b"7,0,1,0,0,0,0\n7,1,1,0,0,0,0\n"),
        None
    );
}

fn rules(book: &PolicyBook) -> BatchRules {
    let ps = book
        .params("openfisca-bench", date(2024, 1), &Overrides::default())
        .unwrap();
    BatchRules::read(&ps).unwrap()
}

proptest! {
    /// The batch path and one household's evaluation agree on every output: they share the
    /// program code, and this holds them to it.
    #[test]
    fn batch_and_single_household_agree(
        members in prop::collection::vec((0u32..105, 0i64..4000, 0i64..100, 0i64..3000), 1..7)
    ) {
        let book = PolicyBook::shipped();
        let rules = rules(&book);
        let mut csv = String::new();
        for (i, (age, income, excluded, rigid)) in members.iter().enumerate() {
            let excluded = (*excluded).min(*income);
            csv.push_str(&format!("0,{i},{age},{income},{excluded},0,{rigid}\n"));
        }
        let mut h = Households::default();
        batch::parse_households(csv.as_bytes(), 2, &rules, &mut h).unwrap();
        prop_assert_eq!(h.len(), 1);
        batch::decide(&mut h, &rules);

        let rigid: i64 = members.iter().map(|m| m.3).sum();
        let input = HouseholdInput {
            month: Some("2024-01".into()),
            members: members.iter().map(|(age, income, excluded, _)| {
                let excluded = (*excluded).min(*income);
                let mut incomes = vec![serde_json::json!({"kind": "wage", "monthly": income - excluded})];
                if excluded > 0 {
                    incomes.push(serde_json::json!({"kind": "special_care", "monthly": excluded}));
                }
                serde_json::from_value::<MemberInput>(serde_json::json!({
                    "age": age, "incomes": incomes, "labour_capacity": "full"
                })).unwrap()
            }).collect(),
            rigid_expenditure_12m: serde_json::from_value(serde_json::json!({"medical": rigid * 12})).unwrap(),
            ..Default::default()
        };
        let hh = input.check(None).unwrap();
        let ps = book.params("openfisca-bench", date(2024, 1), &Overrides::default()).unwrap();
        let job_free = |p| decide(&hh, &ps, p).unwrap();
        let dibao = job_free(Program::Dibao);
        prop_assert_eq!(h.dibao_eligible[0], dibao.eligible);
        prop_assert_eq!(h.dibao_amount[0], dibao.amount_fen);
        prop_assert_eq!(h.income_poverty[0], job_free(Program::IncomePoverty).eligible);
        prop_assert_eq!(h.expense_poverty[0], job_free(Program::ExpensePoverty).eligible);
        prop_assert_eq!(h.elderly[0], job_free(Program::ElderlyAllowance).amount_fen);
    }
}
