//! `jiuzhu generate-feeds`: department files as departments send them, for demonstration and
//! for the import and verification benchmarks. A quarter of the rows are about registered
//! people (so verification finds something), the rest about other residents of the city; about
//! one row in 20,000 is malformed the way real files are (a wrong check digit, a month 13, a
//! missing name). Wages and social insurance come GBK-encoded as HR systems export them.

// Amounts in fen are written `1_800_00`: yuan, then the two fen digits.
#![allow(clippy::inconsistent_digit_grouping)]

use std::io::Write;
use std::path::{Path, PathBuf};

use chrono::{Datelike, Months, NaiveDate};
use jiuzhu_domain::IdNumber;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::io::Result;

pub struct Options {
    pub out: PathBuf,
    pub rows: u64,
    pub seed: u64,
    /// The county's 6-digit code, for residents who are not registered.
    pub county: String,
    pub today: NaiveDate,
}

/// One written file.
pub struct Written {
    pub path: PathBuf,
    pub category: &'static str,
    pub rows: u64,
}

#[derive(Clone, Copy)]
enum Enc {
    Gbk,
    Utf8,
    Utf8Bom,
}

struct Plan {
    category: &'static str,
    header: &'static str,
    /// Parts per thousand of all rows.
    share: u64,
    monthly: bool,
    enc: Enc,
}

const PLANS: &[Plan] = &[
    Plan {
        category: "wage",
        header: "公民身份号码,姓名,所属期,应发工资,单位名称",
        share: 340,
        monthly: true,
        enc: Enc::Gbk,
    },
    Plan {
        category: "social_insurance",
        header: "公民身份号码,参保人姓名,费款所属期,缴费基数,参保单位",
        share: 280,
        monthly: true,
        enc: Enc::Gbk,
    },
    Plan {
        category: "pension",
        header: "身份证号码,姓名,待遇所属期,发放金额",
        share: 120,
        monthly: true,
        enc: Enc::Utf8,
    },
    Plan {
        category: "tax",
        header: "证件号码,姓名,税款所属期,收入额,已缴税额",
        share: 80,
        monthly: true,
        enc: Enc::Utf8Bom,
    },
    Plan {
        category: "provident_fund",
        header: "身份证号,姓名,所属期,月缴存额,账户余额",
        share: 50,
        monthly: true,
        enc: Enc::Utf8,
    },
    Plan {
        category: "medical_claim",
        header: "身份证号,姓名,结算日期,医疗总费用,个人自付,大病保险支付,出院诊断",
        share: 40,
        monthly: false,
        enc: Enc::Gbk,
    },
    Plan {
        category: "bank_deposit",
        header: "证件号码,户名,开户银行,账号,存款余额,截止日期",
        share: 30,
        monthly: false,
        enc: Enc::Utf8,
    },
    Plan {
        category: "vehicle",
        header: "身份证号码,姓名,号牌号码,车辆类型,初次登记日期",
        share: 15,
        monthly: false,
        enc: Enc::Gbk,
    },
    Plan {
        category: "real_estate",
        header: "身份证号码,姓名,房屋坐落,建筑面积,规划用途,登簿日期",
        share: 15,
        monthly: false,
        enc: Enc::Utf8,
    },
    Plan {
        category: "securities",
        header: "证件号码,姓名,托管机构,证券账户,持有市值,截止日期",
        share: 5,
        monthly: false,
        enc: Enc::Utf8,
    },
    Plan {
        category: "business",
        header: "身份证号码,姓名,企业名称,注册资本,成立日期,登记状态",
        share: 5,
        monthly: false,
        enc: Enc::Utf8,
    },
    Plan {
        category: "unemployment",
        header: "身份证号码,姓名,失业登记日期,失业保险金",
        share: 8,
        monthly: false,
        enc: Enc::Gbk,
    },
    Plan {
        category: "disability",
        header: "身份证号码,姓名,残疾等级,残疾类别,发证日期",
        share: 4,
        monthly: false,
        enc: Enc::Utf8,
    },
    Plan {
        category: "school",
        header: "身份证号码,姓名,学校名称,学段,入学日期",
        share: 4,
        monthly: false,
        enc: Enc::Utf8,
    },
    Plan {
        category: "court_enforcement",
        header: "身份证号码,姓名,执行案号,执行标的,立案日期",
        share: 2,
        monthly: false,
        enc: Enc::Utf8,
    },
    Plan {
        category: "death",
        header: "公民身份号码,姓名,死亡日期",
        share: 2,
        monthly: false,
        enc: Enc::Gbk,
    },
];

const SURNAMES: &[&str] = &[
    "王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周", "徐", "孙", "朱", "顾", "陆", "钱",
    "沈", "缪", "季", "瞿",
];
const GIVEN: &[&str] = &[
    "伟", "强", "军", "芳", "娟", "敏", "静", "建国", "秀英", "志强", "海峰", "丽华", "文", "凤英",
    "晨", "欣怡", "浩然", "桂兰", "国平", "卫东",
];
const EMPLOYERS: &[&str] = &[
    "张家港市沙洲纺织有限公司",
    "江苏永钢集团有限公司",
    "张家港保税区港务有限公司",
    "张家港市第一人民医院",
    "张家港市杨舍镇人民政府",
    "苏州华昌化工有限公司",
    "张家港市金港建筑工程有限公司",
    "张家港市长江物流有限公司",
];
const BANKS: &[&str] = &[
    "中国工商银行张家港支行",
    "中国农业银行张家港支行",
    "江苏张家港农村商业银行",
    "中国建设银行张家港分行",
    "中国邮政储蓄银行张家港支行",
];
const ROADS: &[&str] = &["人民路", "长安路", "沙洲路", "港城大道", "暨阳路", "谷渎路"];

struct Person {
    id: String,
    name: String,
    /// Registered people earn less, as applicants do.
    registered: bool,
}

struct Generator {
    rng: StdRng,
    registry: Vec<(String, String)>,
    residents: Vec<Person>,
    months: Vec<NaiveDate>,
    today: NaiveDate,
    written: u64,
}

fn yuan(fen: i64) -> String {
    format!("{}.{:02}", fen / 100, fen % 100)
}

impl Generator {
    fn person(&mut self) -> Person {
        if !self.registry.is_empty() && self.rng.gen_ratio(1, 4) {
            let (id, name) = &self.registry[self.rng.gen_range(0..self.registry.len())];
            Person {
                id: id.clone(),
                name: name.clone(),
                registered: true,
            }
        } else {
            let p = &self.residents[self.rng.gen_range(0..self.residents.len())];
            Person {
                id: p.id.clone(),
                name: p.name.clone(),
                registered: false,
            }
        }
    }

    fn date_within(&mut self, from: NaiveDate, to: NaiveDate) -> NaiveDate {
        let days = (to - from).num_days().max(1);
        from + chrono::Duration::days(self.rng.gen_range(0..days))
    }

    fn last_year(&mut self) -> NaiveDate {
        let from = self.months[0];
        let to = self.today;
        self.date_within(from, to)
    }

    /// A malformed copy of a good row, one in 20,000: what departments' exports get wrong, each
    /// a reason to reject the row.
    fn spoil(&mut self, fields: &mut [String], monthly: bool) {
        self.written += 1;
        if !self.written.is_multiple_of(20_000) {
            return;
        }
        match self.rng.gen_range(0..3) {
            0 => {
                let id = &mut fields[0];
                let last = id.pop().unwrap_or('0');
                id.push(if last == '1' { '2' } else { '1' });
            }
            1 if monthly => fields[2] = "2025-13".to_string(),
            _ => fields[1].clear(),
        }
    }

    fn rows(&mut self, plan: &Plan, p: &Person, out: &mut Vec<Vec<String>>) {
        let id = p.id.clone();
        let name = p.name.clone();
        let base = |fields: &[String]| {
            let mut v = vec![id.clone(), name.clone()];
            v.extend_from_slice(fields);
            v
        };
        let r = &mut self.rng;
        match plan.category {
            "wage" => {
                let wage = if p.registered {
                    r.gen_range(1_800_00..5_200_00)
                } else {
                    r.gen_range(2_500_00..15_000_00)
                };
                let employer = EMPLOYERS[r.gen_range(0..EMPLOYERS.len())];
                for m in &self.months {
                    let this = wage + r.gen_range(-200_00..200_00);
                    out.push(base(&[
                        m.format("%Y%m").to_string(),
                        yuan(this),
                        employer.to_string(),
                    ]));
                }
            }
            "social_insurance" => {
                let b = r.gen_range(4_494_00..20_000_00) / 100 * 100;
                let employer = EMPLOYERS[r.gen_range(0..EMPLOYERS.len())];
                for m in &self.months {
                    out.push(base(&[
                        m.format("%Y-%m").to_string(),
                        yuan(b),
                        employer.to_string(),
                    ]));
                }
            }
            "pension" => {
                let a = r.gen_range(1_200_00..4_500_00);
                for m in &self.months {
                    out.push(base(&[m.format("%Y年%-m月").to_string(), yuan(a)]));
                }
            }
            "tax" => {
                let income = r.gen_range(6_000_00..40_000_00);
                for m in &self.months {
                    let tax = (income - 5_000_00) * 3 / 100;
                    out.push(base(&[
                        m.format("%Y-%m").to_string(),
                        yuan(income),
                        yuan(tax),
                    ]));
                }
            }
            "provident_fund" => {
                let deposit = r.gen_range(300_00..3_000_00);
                let mut balance = r.gen_range(0..200_000_00);
                for m in &self.months {
                    balance += deposit;
                    out.push(base(&[
                        m.format("%Y-%m").to_string(),
                        yuan(deposit),
                        yuan(balance),
                    ]));
                }
            }
            _ => {
                let row = self.event(plan.category);
                out.push(base(&row));
            }
        }
    }

    fn event(&mut self, category: &str) -> Vec<String> {
        let day = self.last_year();
        let r = &mut self.rng;
        let d = |d: NaiveDate| d.format("%Y-%m-%d").to_string();
        match category {
            "medical_claim" => {
                let total = r.gen_range(500_00..80_000_00);
                let own = total * r.gen_range(15..45) / 100;
                let critical = if total > 30_000_00 {
                    yuan(total / 5)
                } else {
                    String::new()
                };
                let diagnosis = [
                    "高血压",
                    "2型糖尿病",
                    "脑梗死",
                    "肺部感染",
                    "骨折",
                    "恶性肿瘤",
                ][r.gen_range(0..6)];
                vec![d(day), yuan(total), yuan(own), critical, diagnosis.into()]
            }
            "bank_deposit" => {
                let bank = BANKS[r.gen_range(0..BANKS.len())];
                let account = format!("6222{:015}", r.gen_range(0..1_000_000_000_000_000u64));
                let balance = if r.gen_ratio(1, 3) {
                    r.gen_range(0..5_000_00)
                } else {
                    r.gen_range(5_000_00..600_000_00)
                };
                let at = self.months[self.months.len() - 1];
                vec![bank.into(), account, yuan(balance), d(at)]
            }
            "vehicle" => {
                let letters = "ABCDEFGHJKLMNPQRSTUVWXYZ".as_bytes();
                let plate = format!(
                    "苏E{}{:04}",
                    letters[r.gen_range(0..letters.len())] as char,
                    r.gen_range(0..10_000)
                );
                let kind =
                    ["小型轿车", "小型普通客车", "轻型货车", "二轮摩托车"][r.gen_range(0..4)];
                let from = NaiveDate::from_ymd_opt(2008, 1, 1).expect("date");
                let when = from + chrono::Duration::days(r.gen_range(0..6500));
                vec![plate, kind.into(), d(when)]
            }
            "real_estate" => {
                let place = format!(
                    "杨舍镇{}{}号{}幢{}室",
                    ROADS[r.gen_range(0..ROADS.len())],
                    r.gen_range(1..300),
                    r.gen_range(1..30),
                    r.gen_range(101..2402)
                );
                let area = r.gen_range(45..180);
                let from = NaiveDate::from_ymd_opt(2000, 1, 1).expect("date");
                let when = from + chrono::Duration::days(r.gen_range(0..9000));
                vec![place, area.to_string(), "住宅".into(), d(when)]
            }
            "securities" => {
                let broker = ["东吴证券张家港营业部", "华泰证券张家港营业部"][r.gen_range(0..2)];
                let account = format!("A{:09}", r.gen_range(0..1_000_000_000));
                vec![
                    broker.into(),
                    account,
                    yuan(r.gen_range(1_000_00..300_000_00)),
                    d(self.months[self.months.len() - 1]),
                ]
            }
            "business" => {
                let name = format!(
                    "张家港市{}{}商贸有限公司",
                    SURNAMES[r.gen_range(0..SURNAMES.len())],
                    ["记", "氏", "家", "兴"][r.gen_range(0..4)]
                );
                let from = NaiveDate::from_ymd_opt(2010, 1, 1).expect("date");
                let when = from + chrono::Duration::days(r.gen_range(0..5800));
                vec![
                    name,
                    yuan(r.gen_range(10_000_00..1_000_000_00)),
                    d(when),
                    "存续".into(),
                ]
            }
            "unemployment" => vec![d(day), yuan(1_944_00)],
            "disability" => {
                let kind = ["肢体", "视力", "听力", "智力", "精神"][r.gen_range(0..5)];
                vec![r.gen_range(1..5).to_string(), kind.into(), d(day)]
            }
            "school" => {
                let (school, stage) = [
                    ("张家港市实验小学", "小学"),
                    ("张家港市第一中学", "初中"),
                    ("江苏省梁丰高级中学", "高中"),
                    ("苏州大学", "本科"),
                ][r.gen_range(0..4)];
                vec![school.into(), stage.into(), d(day)]
            }
            "court_enforcement" => vec![
                format!("（{}）苏0582执{}号", day.year(), r.gen_range(100..9999)),
                yuan(r.gen_range(5_000_00..500_000_00)),
                d(day),
            ],
            "death" => vec![d(day)],
            other => unreachable!("no generator for {other}"),
        }
    }
}

fn resident(rng: &mut StdRng, county: &str, today: NaiveDate) -> Person {
    let age = rng.gen_range(18..90);
    let birth = today
        .checked_sub_months(Months::new(12 * age))
        .expect("date in range")
        - chrono::Duration::days(rng.gen_range(0..364));
    let id = IdNumber::from_parts(county, birth, rng.gen_range(0..1000)).expect("valid parts");
    let name = format!(
        "{}{}",
        SURNAMES[rng.gen_range(0..SURNAMES.len())],
        GIVEN[rng.gen_range(0..GIVEN.len())]
    );
    Person {
        id: id.expose().to_string(),
        name,
        registered: false,
    }
}

/// Writes one file per category under `out` and says what it wrote.
/// An I/O error that names the path it concerns.
fn named(e: std::io::Error, what: &str, path: &Path) -> std::io::Error {
    std::io::Error::new(e.kind(), format!("{what} {}：{e}", path.display()))
}

pub fn generate(registry: Vec<(String, String)>, o: &Options) -> Result<Vec<Written>> {
    std::fs::create_dir_all(&o.out).map_err(|e| named(e, "无法创建", &o.out))?;
    let mut rng = StdRng::seed_from_u64(o.seed);
    let residents = (0..(o.rows / 15).max(1000))
        .map(|_| resident(&mut rng, &o.county, o.today))
        .collect();
    let this_month = o.today.with_day(1).expect("first of month");
    let months = (1..=12)
        .rev()
        .map(|k| this_month - Months::new(k))
        .collect();
    let mut g = Generator {
        rng,
        registry,
        residents,
        months,
        today: o.today,
        written: 0,
    };
    let mut files = Vec::new();
    for plan in PLANS {
        let target = o.rows * plan.share / 1000;
        let path = o.out.join(format!("{}.csv", plan.category));
        let rows = write_file(&mut g, plan, target, &path)?;
        files.push(Written {
            path,
            category: plan.category,
            rows,
        });
    }
    Ok(files)
}

fn write_file(g: &mut Generator, plan: &Plan, target: u64, path: &Path) -> Result<u64> {
    let file = std::fs::File::create(path).map_err(|e| named(e, "无法写入", path))?;
    let mut w = std::io::BufWriter::with_capacity(1 << 20, file);
    let encode = |w: &mut std::io::BufWriter<std::fs::File>, line: &str| -> Result<()> {
        match plan.enc {
            Enc::Gbk => w.write_all(&encoding_rs::GBK.encode(line).0)?,
            Enc::Utf8 | Enc::Utf8Bom => w.write_all(line.as_bytes())?,
        }
        Ok(())
    };
    if let Enc::Utf8Bom = plan.enc {
        w.write_all("\u{feff}".as_bytes())?;
    }
    encode(&mut w, &format!("{}\r\n", plan.header))?;
    let mut written = 0u64;
    let mut rows = Vec::new();
    let mut line = String::new();
    while written < target {
        let p = g.person();
        rows.clear();
        g.rows(plan, &p, &mut rows);
        for fields in rows.iter_mut() {
            if written == target && !plan.monthly {
                break;
            }
            g.spoil(fields, plan.monthly);
            line.clear();
            line.push_str(&fields.join(","));
            line.push_str("\r\n");
            encode(&mut w, &line)?;
            written += 1;
        }
    }
    w.flush()?;
    Ok(written)
}
