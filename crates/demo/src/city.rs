//! A realistic synthetic county-level city for demonstration, training and benchmarks:
//! townships and villages, households of plausible composition, valid identity numbers, ages,
//! disabilities, illnesses and declared incomes, and a user for every role.
//!
//! Everything is generated from a seed, so the same seed gives the same city. The people are
//! invented; the township names follow Zhangjiagang (seed 000) so the city feels familiar.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use chrono::{Datelike, NaiveDate};
use jiuzhu_domain::{
    Disability, DisabilityGrade, DisabilityKind, IdNumber, IncomeKind, LabourCapacity, Money,
    Person, Phone, RegionCode, Relation, Role, SelfCare, Sex,
};
use jiuzhu_store::{NewHousehold, NewIncome, NewPersonRow, NewUser, Region};
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};

use jiuzhu_services::auth::hash_password;
use jiuzhu_services::people::name_search;
use jiuzhu_services::{Result, ServiceError, Services};

pub const COUNTY_CODE: &str = "320582";
pub const COUNTY_NAME: &str = "张家港市";
/// The password of every demo user, printed by `jiuzhu demo`.
pub const DEMO_PASSWORD: &str = "jiuzhu2026";

const TOWNSHIPS: [(&str, &str); 9] = [
    ("001", "金港街道"),
    ("100", "杨舍镇"),
    ("101", "塘桥镇"),
    ("102", "锦丰镇"),
    ("103", "乐余镇"),
    ("104", "凤凰镇"),
    ("105", "南丰镇"),
    ("106", "大新镇"),
    ("107", "常阴沙管理区"),
];

const SURNAMES: [&str; 60] = [
    "王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周", "徐", "孙", "马", "朱", "胡", "郭",
    "何", "林", "高", "罗", "郑", "梁", "谢", "宋", "唐", "许", "韩", "冯", "邓", "曹", "彭", "曾",
    "肖", "田", "董", "潘", "袁", "蔡", "蒋", "余", "于", "杜", "叶", "程", "魏", "苏", "吕", "丁",
    "任", "沈", "姚", "卢", "钱", "陆", "顾", "缪", "季", "瞿", "单", "查",
];
const MALE_CHARS: [&str; 40] = [
    "伟", "强", "军", "勇", "杰", "涛", "明", "超", "斌", "磊", "鹏", "华", "建", "国", "平", "志",
    "海", "峰", "刚", "林", "东", "波", "辉", "健", "俊", "宇", "浩", "凯", "鑫", "晨", "文", "卫",
    "荣", "根", "福", "兴", "德", "忠", "宏", "良",
];
const FEMALE_CHARS: [&str; 40] = [
    "芳", "娟", "敏", "静", "丽", "艳", "娜", "秀", "霞", "玲", "红", "燕", "萍", "琴", "梅", "英",
    "慧", "婷", "雪", "莉", "兰", "凤", "珍", "洁", "佳", "怡", "欣", "颖", "琳", "倩", "月", "菊",
    "彩", "桂", "春", "美", "云", "蓉", "婉", "晴",
];
const VILLAGE_HEADS: [&str; 30] = [
    "东", "西", "南", "北", "新", "永", "长", "金", "乐", "福", "安", "和", "兴", "庆", "善", "港",
    "湖", "河", "红", "光", "明", "联", "合", "德", "积", "民", "丰", "建", "胜", "友",
];
const VILLAGE_TAILS: [&str; 16] = [
    "港", "桥", "湖", "塘", "沙", "园", "庄", "浜", "圩", "泾", "溪", "联", "丰", "兴", "盛", "墩",
];
const ROADS: [&str; 12] = [
    "人民路",
    "长安路",
    "沙洲路",
    "港城大道",
    "暨阳路",
    "东环路",
    "西环路",
    "南二环路",
    "步行街",
    "谷渎路",
    "新丰路",
    "乐红路",
];
/// Hukou counties of migrant residents (Anhui, Henan, Sichuan, Guizhou, Hunan, Jiangxi).
const MIGRANT_COUNTIES: [&str; 6] = ["341221", "412722", "511321", "522121", "430521", "360429"];
const ILLNESSES: [&str; 6] = [
    "尿毒症",
    "恶性肿瘤",
    "白血病",
    "重性精神障碍",
    "慢性心力衰竭",
    "脑卒中后遗症",
];

#[derive(Debug, Clone)]
pub struct DemoUser {
    pub username: String,
    pub display_name: String,
    pub role: Role,
    pub region_name: String,
    pub department: Option<String>,
}

#[derive(Debug, Clone)]
pub struct DemoReport {
    pub county: String,
    pub townships: usize,
    pub villages: usize,
    pub households: usize,
    pub persons: usize,
    pub incomes: usize,
    /// Applications in every state of the one-window journey, some of them overdue.
    pub cases: usize,
    /// Households and persons enrolled in recurring programs, with their histories.
    pub enrolments: usize,
    pub users: Vec<DemoUser>,
    pub password: &'static str,
    pub elapsed: Duration,
}

struct Generator {
    rng: StdRng,
    today: NaiveDate,
    used_ids: HashSet<[u8; 18]>,
}

struct Member {
    person: Person,
    relation: Relation,
    incomes: Vec<(IncomeKind, Money)>,
}

impl Generator {
    fn given_name(&mut self, sex: Sex) -> String {
        let pool: &[&str] = if sex == Sex::Male {
            &MALE_CHARS
        } else {
            &FEMALE_CHARS
        };
        let n = if self.rng.gen_bool(0.7) { 2 } else { 1 };
        (0..n)
            .map(|_| *pool.choose(&mut self.rng).expect("non-empty"))
            .collect()
    }

    /// A birth date giving exactly `age` completed years today.
    fn birth(&mut self, age: u32) -> NaiveDate {
        let anniversary = self
            .today
            .checked_sub_months(chrono::Months::new(12 * age))
            .expect("date in range");
        anniversary - chrono::Duration::days(self.rng.gen_range(0..364))
    }

    fn id_number(&mut self, region6: &str, birth: NaiveDate, sex: Sex) -> IdNumber {
        loop {
            let base: u16 = self.rng.gen_range(0..500) * 2;
            let seq = if sex == Sex::Male { base + 1 } else { base };
            let id = IdNumber::from_parts(region6, birth, seq).expect("generated parts are valid");
            let key: [u8; 18] = id.expose().as_bytes().try_into().expect("18 characters");
            if self.used_ids.insert(key) {
                return id;
            }
        }
    }

    fn phone(&mut self) -> Phone {
        let prefix = [
            "138", "139", "137", "150", "151", "152", "158", "180", "181", "189", "177",
        ]
        .choose(&mut self.rng)
        .expect("non-empty");
        Phone::parse(&format!(
            "{prefix}{:08}",
            self.rng.gen_range(0..100_000_000)
        ))
        .expect("valid mobile")
    }

    fn yuan(&mut self, low: i64, high: i64) -> Money {
        // Whole tens of yuan, as people declare them.
        Money::from_yuan(self.rng.gen_range(low / 10..=high / 10) * 10)
    }

    #[allow(clippy::too_many_arguments)]
    fn member(
        &mut self,
        surname: &str,
        sex: Sex,
        age: u32,
        relation: Relation,
        village: &RegionCode,
        migrant: Option<&str>,
        poor: bool,
    ) -> Member {
        let birth = self.birth(age);
        let region6 = migrant.unwrap_or(COUNTY_CODE);
        let id_number = self.id_number(region6, birth, sex);
        let disabled = self.rng.gen_bool(if age >= 60 { 0.10 } else { 0.04 });
        let disability = disabled.then(|| Disability {
            grade: DisabilityGrade::new(self.rng.gen_range(1..=4)).expect("1..=4"),
            kind: *DisabilityKind::ALL
                .choose(&mut self.rng)
                .expect("non-empty"),
        });
        let ill = self.rng.gen_bool(if age >= 50 { 0.04 } else { 0.01 });
        let serious_illness = ill.then(|| {
            ILLNESSES
                .choose(&mut self.rng)
                .expect("non-empty")
                .to_string()
        });
        let severe = disability.is_some_and(|d| d.grade.is_severe()) || ill;
        let labour_capacity = if !(16..60).contains(&age) || (severe && self.rng.gen_bool(0.8)) {
            LabourCapacity::None
        } else if disability.is_some() || ill {
            LabourCapacity::Partial
        } else {
            LabourCapacity::Full
        };
        let self_care =
            if (age >= 85 && self.rng.gen_bool(0.35)) || (severe && self.rng.gen_bool(0.3)) {
                if self.rng.gen_bool(0.4) {
                    SelfCare::None
                } else {
                    SelfCare::Partial
                }
            } else {
                SelfCare::Full
            };
        let mut incomes = Vec::new();
        match labour_capacity {
            LabourCapacity::Full if age >= 18 => {
                let wage = if poor {
                    self.yuan(600, 1800)
                } else {
                    self.yuan(2600, 9000)
                };
                let kind = if self.rng.gen_bool(0.85) {
                    IncomeKind::Wage
                } else {
                    IncomeKind::Business
                };
                incomes.push((kind, wage));
            }
            LabourCapacity::Partial if age >= 18 => {
                let wage = if poor {
                    self.yuan(300, 900)
                } else {
                    self.yuan(1000, 2600)
                };
                incomes.push((IncomeKind::Wage, wage));
            }
            _ => {}
        }
        if age >= 60 {
            let pension = if poor || self.rng.gen_bool(0.3) {
                self.yuan(260, 700)
            } else {
                self.yuan(1500, 4200)
            };
            incomes.push((IncomeKind::Pension, pension));
            if self.rng.gen_bool(0.02) {
                incomes.push((IncomeKind::SpecialCare, self.yuan(800, 2400)));
            }
        }
        if !poor && self.rng.gen_bool(0.05) {
            incomes.push((IncomeKind::Property, self.yuan(200, 1500)));
        }
        let residence_since = match migrant {
            Some(_) => Some(
                self.today
                    - chrono::Duration::days(self.rng.gen_range(60..3000)).min(self.today - birth),
            ),
            None => Some(birth),
        };
        let phone = (age >= 16 && self.rng.gen_bool(0.8)).then(|| self.phone());
        let name = format!("{surname}{}", self.given_name(sex));
        Member {
            person: Person {
                id_number,
                name,
                hukou_region: if migrant.is_some() {
                    RegionCode::parse(region6).expect("six digits")
                } else {
                    village.clone()
                },
                residence_region: village.clone(),
                residence_since,
                phone,
                disability,
                serious_illness,
                labour_capacity,
                self_care,
                residence_permit: migrant.is_some() && self.rng.gen_bool(0.7),
            },
            relation,
            incomes,
        }
    }

    /// A child of the head: age below `max_age`, sex drawn as births fall.
    fn child(
        &mut self,
        surname: &str,
        max_age: u32,
        v: &RegionCode,
        migrant: Option<&str>,
        poor: bool,
    ) -> Member {
        let child_age = self.rng.gen_range(0..max_age);
        let sex = if self.rng.gen_bool(0.52) {
            Sex::Male
        } else {
            Sex::Female
        };
        self.member(surname, sex, child_age, Relation::Child, v, migrant, poor)
    }

    fn surname(&mut self) -> &'static str {
        SURNAMES.choose(&mut self.rng).expect("non-empty")
    }

    fn household(&mut self, village: &RegionCode) -> Vec<Member> {
        let migrant = self
            .rng
            .gen_bool(0.08)
            .then(|| *MIGRANT_COUNTIES.choose(&mut self.rng).expect("non-empty"));
        let poor = self.rng.gen_bool(0.07);
        let surname = self.surname();
        let head_sex = if self.rng.gen_bool(0.75) {
            Sex::Male
        } else {
            Sex::Female
        };
        let other = |s: Sex| {
            if s == Sex::Male {
                Sex::Female
            } else {
                Sex::Male
            }
        };
        let roll: f64 = self.rng.gen();
        let mut members = Vec::new();
        let v = village;
        if roll < 0.14 {
            // An older person living alone.
            let age = self.rng.gen_range(62..99);
            members.push(self.member(surname, head_sex, age, Relation::Head, v, migrant, poor));
        } else if roll < 0.30 {
            // An older couple.
            let age = self.rng.gen_range(60..92);
            members.push(self.member(surname, head_sex, age, Relation::Head, v, migrant, poor));
            let s2 = self.surname();
            let age2 = (age as i32 + self.rng.gen_range(-4..4)).clamp(58, 100) as u32;
            members.push(self.member(
                s2,
                other(head_sex),
                age2,
                Relation::Spouse,
                v,
                migrant,
                poor,
            ));
        } else if roll < 0.68 {
            // Parents with children.
            let age = self.rng.gen_range(28..56);
            members.push(self.member(surname, head_sex, age, Relation::Head, v, migrant, poor));
            if self.rng.gen_bool(0.9) {
                let s2 = self.surname();
                let age2 = (age as i32 + self.rng.gen_range(-4..4)).max(22) as u32;
                members.push(self.member(
                    s2,
                    other(head_sex),
                    age2,
                    Relation::Spouse,
                    v,
                    migrant,
                    poor,
                ));
            }
            for _ in 0..self.rng.gen_range(1..=3) {
                members.push(self.child(surname, (age - 20).min(30), v, migrant, poor));
            }
        } else if roll < 0.90 {
            // Three generations.
            let age = self.rng.gen_range(36..58);
            members.push(self.member(surname, head_sex, age, Relation::Head, v, migrant, poor));
            let s2 = self.surname();
            members.push(self.member(
                s2,
                other(head_sex),
                age + 1,
                Relation::Spouse,
                v,
                migrant,
                poor,
            ));
            let parent_age = (age + self.rng.gen_range(22..32)).min(100);
            let psex = if self.rng.gen_bool(0.6) {
                Sex::Female
            } else {
                Sex::Male
            };
            members.push(self.member(
                surname,
                psex,
                parent_age,
                Relation::Parent,
                v,
                migrant,
                poor,
            ));
            for _ in 0..self.rng.gen_range(1..=2) {
                members.push(self.child(surname, age - 20, v, migrant, poor));
            }
        } else {
            // A single adult, some with a child.
            let age = self.rng.gen_range(20..60);
            members.push(self.member(surname, head_sex, age, Relation::Head, v, migrant, poor));
            if self.rng.gen_bool(0.4) && age > 24 {
                members.push(self.child(surname, (age - 20).min(18), v, migrant, poor));
            }
        }
        members
    }
}

fn village_names(rng: &mut StdRng, n: usize) -> Vec<String> {
    let mut names = HashSet::new();
    let mut out = Vec::new();
    while out.len() < n {
        let name = format!(
            "{}{}",
            VILLAGE_HEADS.choose(rng).expect("non-empty"),
            VILLAGE_TAILS.choose(rng).expect("non-empty")
        );
        if names.insert(name.clone()) {
            out.push(name);
        }
    }
    out
}

/// Writes the demo city into an empty database. `households` is the number of households
/// (20,000 by default in the CLI); the same `seed` gives the same city.
pub async fn generate(
    services: &Services,
    households: usize,
    seed: u64,
    today: NaiveDate,
    mut progress: impl FnMut(usize, usize),
) -> Result<DemoReport> {
    let started = Instant::now();
    if !services.is_empty().await? {
        return Err(ServiceError::Conflict {
            field: None,
            message: "数据库中已有数据：示范数据只能写入空数据库".into(),
        });
    }
    let mut rng = StdRng::seed_from_u64(seed);
    let county = RegionCode::parse(COUNTY_CODE).expect("county code");
    let mut regions = vec![Region {
        code: county.to_string(),
        name: COUNTY_NAME.into(),
        level: "county".into(),
        parent_code: None,
    }];
    let mut villages: Vec<(RegionCode, String, String)> = Vec::new();
    // Larger cities get more villages per township, up to the 3-digit code space.
    let per_town = (households / 1500).clamp(12, 300);
    for (suffix, town_name) in TOWNSHIPS {
        let town = RegionCode::parse(&format!("{COUNTY_CODE}{suffix}")).expect("township code");
        regions.push(Region {
            code: town.to_string(),
            name: town_name.into(),
            level: "township".into(),
            parent_code: Some(county.to_string()),
        });
        let n = per_town + rng.gen_range(0..4);
        let names = village_names(&mut rng, n.min(VILLAGE_HEADS.len() * VILLAGE_TAILS.len()));
        let communities = n / 4;
        for (i, base) in names.into_iter().enumerate() {
            // Communities (居委会) take codes 001.., villages (村委会) 200..
            let (code, name) = if i < communities {
                (
                    town.child(1 + i as u16).expect("code"),
                    format!("{base}社区"),
                )
            } else {
                (
                    town.child(200 + (i - communities) as u16).expect("code"),
                    format!("{base}村"),
                )
            };
            regions.push(Region {
                code: code.to_string(),
                name: name.clone(),
                level: "village".into(),
                parent_code: Some(town.to_string()),
            });
            villages.push((code, name, town_name.to_string()));
        }
    }
    let mut tx = services.store.begin().await?;
    tx.insert_regions(&regions).await?;
    let users = demo_users(&villages);
    let hash = hash_password(DEMO_PASSWORD);
    for u in &users {
        tx.insert_user(NewUser {
            username: &u.0,
            display_name: &u.1,
            role: u.2,
            region: &u.3,
            department_code: u.4.as_deref(),
            organisation_id: None,
            password_hash: &hash,
            system_account: u.0.ends_with("_system"),
            // The demo's printed password stays, so anyone can try the platform.
            must_change_password: false,
        })
        .await?;
    }
    tx.commit().await?;

    let mut generator = Generator {
        rng,
        today,
        used_ids: HashSet::new(),
    };
    let (mut persons, mut incomes) = (0usize, 0usize);
    let mut candidates = Vec::new();
    const CHUNK: usize = 2000;
    let mut done = 0;
    while done < households {
        let n = CHUNK.min(households - done);
        let mut batch: Vec<(usize, Vec<Member>, String)> = Vec::with_capacity(n);
        for _ in 0..n {
            let v = generator.rng.gen_range(0..villages.len());
            let members = generator.household(&villages[v].0);
            let address = format!(
                "{}{}{}号",
                villages[v].1,
                ROADS.choose(&mut generator.rng).expect("non-empty"),
                generator.rng.gen_range(1..400)
            );
            batch.push((v, members, address));
        }
        let mut tx = services.store.begin().await?;
        let searches: Vec<_> = batch
            .iter()
            .flat_map(|(_, ms, _)| ms.iter().map(|m| name_search(&m.person.name)))
            .collect();
        let rows: Vec<NewPersonRow<'_>> = batch
            .iter()
            .flat_map(|(_, ms, _)| ms.iter().map(|m| &m.person))
            .zip(&searches)
            .map(|(person, s)| NewPersonRow {
                person,
                name_pinyin: &s.pinyin,
                name_initials: &s.initials,
            })
            .collect();
        let ids = tx.insert_persons(&rows).await?;
        let mut heads = Vec::with_capacity(n);
        let mut cursor = 0;
        for (v, ms, address) in &batch {
            heads.push(NewHousehold {
                region_code: villages[*v].0.as_str(),
                address,
                head_person_id: ids[cursor],
            });
            cursor += ms.len();
        }
        let household_ids = tx.insert_households(&heads).await?;
        let mut memberships = Vec::with_capacity(ids.len());
        let mut income_rows = Vec::new();
        let mut cursor = 0;
        for ((v, ms, _), hid) in batch.iter().zip(&household_ids) {
            let region = villages[*v].0.as_str();
            for m in ms {
                let pid = ids[cursor];
                cursor += 1;
                let since = m.person.residence_since.unwrap_or(m.person.birth_date());
                memberships.push((*hid, pid, region, m.relation.code(), since));
                for (kind, amount) in &m.incomes {
                    income_rows.push(NewIncome {
                        person_id: pid,
                        region_code: region,
                        kind: *kind,
                        monthly: *amount,
                        since: NaiveDate::from_ymd_opt(today.year(), 1, 1).expect("1 January"),
                        source: "declared",
                    });
                }
            }
        }
        // Some households are in assistance: picked here, written after the cases.
        let mut cursor = 0;
        for ((v, ms, _), hid) in batch.iter().zip(&household_ids) {
            let income: i64 = ms
                .iter()
                .flat_map(|m| m.incomes.iter().map(|(_, a)| a.fen()))
                .sum();
            let per_capita = income / ms.len().max(1) as i64;
            // Poor households are the ones in assistance; a few others get disability
            // subsidies or the like.
            let pick = if per_capita < crate::recipients::POOR_PER_CAPITA_FEN {
                generator
                    .rng
                    .gen_ratio(crate::recipients::POOR_PER_THOUSAND, 1000)
            } else {
                generator.rng.gen_ratio(3, 1000)
            };
            if pick {
                candidates.push(crate::recipients::Candidate {
                    household_id: *hid,
                    income_fen: income,
                    names: ms
                        .iter()
                        .enumerate()
                        .map(|(i, m)| (ids[cursor + i], m.person.name.clone()))
                        .collect(),
                    region_code: villages[*v].0.to_string(),
                    members: ms
                        .iter()
                        .enumerate()
                        .map(|(i, m)| {
                            (
                                ids[cursor + i],
                                jiuzhu_domain::age_between(m.person.birth_date(), today),
                            )
                        })
                        .collect(),
                });
            }
            cursor += ms.len();
        }
        tx.add_members(&memberships).await?;
        tx.insert_incomes(&income_rows).await?;
        tx.commit().await?;
        persons += ids.len();
        incomes += income_rows.len();
        done += n;
        progress(done, households);
    }
    organisations(services).await?;
    let cases = cases(services, &mut generator.rng, households, today).await?;
    let enrolments =
        crate::recipients::write(services, &mut generator.rng, &candidates, today).await?;
    crate::openness::write(services, today).await?;
    let org_user = crate::social::write(services, today).await?;
    let mut tx = services.store.begin().await?;
    tx.set_setting("demo_seed", &seed.to_string()).await?;
    tx.commit().await?;
    services.store.refresh_statistics(&[]).await?;

    let catalogue = jiuzhu_domain::Catalogue::seed();
    Ok(DemoReport {
        county: COUNTY_NAME.into(),
        townships: TOWNSHIPS.len(),
        villages: villages.len(),
        households,
        persons,
        incomes,
        cases,
        enrolments,
        users: users
            .iter()
            .map(|u| DemoUser {
                username: u.0.clone(),
                display_name: u.1.clone(),
                role: u.2,
                region_name: u.5.clone(),
                department: u.4.as_ref().map(|code| {
                    catalogue
                        .departments
                        .iter()
                        .find(|d| &d.code == code)
                        .map_or_else(|| code.clone(), |d| d.name.clone())
                }),
            })
            .chain(org_user)
            .collect(),
        password: DEMO_PASSWORD,
        elapsed: started.elapsed(),
    })
}

/// One user of every role: (username, name, role, region, department, region name).
fn demo_users(
    villages: &[(RegionCode, String, String)],
) -> Vec<(String, String, Role, RegionCode, Option<String>, String)> {
    let county = RegionCode::parse(COUNTY_CODE).expect("county");
    let town =
        |suffix: &str| RegionCode::parse(&format!("{COUNTY_CODE}{suffix}")).expect("township");
    let first_village = villages
        .iter()
        .find(|v| v.0.parent() == Some(town("100")))
        .expect("杨舍镇 has villages");
    vec![
        (
            "admin".into(),
            "周建国".into(),
            Role::BureauAdmin,
            county.clone(),
            None,
            COUNTY_NAME.into(),
        ),
        (
            "clerk".into(),
            "陈丽华".into(),
            Role::WindowClerk,
            town("100"),
            None,
            "杨舍镇".into(),
        ),
        (
            "clerk2".into(),
            "顾晓峰".into(),
            Role::WindowClerk,
            town("101"),
            None,
            "塘桥镇".into(),
        ),
        (
            "assistant".into(),
            "钱芳".into(),
            Role::VillageAssistant,
            first_village.0.clone(),
            None,
            format!("杨舍镇{}", first_village.1),
        ),
        (
            "reviewer".into(),
            "沈志明".into(),
            Role::TownshipReviewer,
            town("100"),
            None,
            "杨舍镇".into(),
        ),
        (
            "reviewer2".into(),
            "邹雅琴".into(),
            Role::TownshipReviewer,
            town("100"),
            None,
            "杨舍镇".into(),
        ),
        (
            "approver".into(),
            "黄国平".into(),
            Role::CountyApprover,
            county.clone(),
            None,
            COUNTY_NAME.into(),
        ),
        (
            "liaison".into(),
            "陆文斌".into(),
            Role::DepartmentLiaison,
            county.clone(),
            Some("medical_insurance".into()),
            COUNTY_NAME.into(),
        ),
        (
            "liaison3".into(),
            "张建华".into(),
            Role::DepartmentLiaison,
            county.clone(),
            Some("civil_affairs".into()),
            COUNTY_NAME.into(),
        ),
        (
            "liaison2".into(),
            "蒋红".into(),
            Role::DepartmentLiaison,
            county.clone(),
            Some("hrss".into()),
            COUNTY_NAME.into(),
        ),
        (
            "supervisor".into(),
            "吴卫东".into(),
            Role::Supervisor,
            county.clone(),
            None,
            COUNTY_NAME.into(),
        ),
        (
            "security".into(),
            "赵敏".into(),
            Role::SecurityAdmin,
            county.clone(),
            None,
            COUNTY_NAME.into(),
        ),
        (
            "auditor".into(),
            "许静".into(),
            Role::Auditor,
            county.clone(),
            None,
            COUNTY_NAME.into(),
        ),
        // The account of 人社局's system: its API tokens act as it; it never signs in.
        (
            "hrss_system".into(),
            "人社局数据交换系统".into(),
            Role::DepartmentLiaison,
            county,
            Some("hrss".into()),
            COUNTY_NAME.into(),
        ),
    ]
}

/// How far a demo case has come.
#[derive(Clone, Copy)]
enum Progress {
    Filed,
    MaterialsMissing,
    Accepted,
    Transferred,
    Received,
    InitialChecked,
    Completed,
    ClosedGranted,
    ClosedRefused,
}

const PROGRESS: [Progress; 9] = [
    Progress::Filed,
    Progress::MaterialsMissing,
    Progress::Accepted,
    Progress::Transferred,
    Progress::Received,
    Progress::InitialChecked,
    Progress::Completed,
    Progress::ClosedGranted,
    Progress::ClosedRefused,
];

const DEMO_ITEMS: [&str; 9] = [
    "dibao",
    "temporary_assistance",
    "medical_assistance",
    "education_assistance",
    "employment_assistance",
    "disability_subsidies",
    "housing_assistance",
    "near_dibao",
    "legal_aid",
];

const HARDSHIPS: [(&str, jiuzhu_domain::case::Cause); 6] = [
    (
        "丈夫患尿毒症每周透析三次，家中仅靠妻子打零工维持生活",
        jiuzhu_domain::case::Cause::Illness,
    ),
    (
        "本人因工伤致肢体残疾，失去劳动能力，孩子正在读高中",
        jiuzhu_domain::case::Cause::Disability,
    ),
    (
        "台风导致房屋倒塌，家中财物损失严重",
        jiuzhu_domain::case::Cause::Disaster,
    ),
    (
        "企业停产后失业半年，无其他收入来源",
        jiuzhu_domain::case::Cause::Unemployment,
    ),
    (
        "两个孩子同时上大学，学费生活费负担过重",
        jiuzhu_domain::case::Cause::Education,
    ),
    (
        "交通事故住院，自付医疗费用八万余元",
        jiuzhu_domain::case::Cause::Accident,
    ),
];

/// Social organisations and charity projects the window can refer cases to.
async fn organisations(services: &Services) -> Result<()> {
    use jiuzhu_store::Organisation;
    let orgs = [
        (
            "张家港市慈善总会“99公益日”助医项目",
            "charity",
            "大病医疗费用资助",
        ),
        (
            "港城社会工作服务中心",
            "social_work",
            "困难家庭个案社工服务、心理疏导",
        ),
        (
            "杨舍镇邻里互助志愿服务队",
            "volunteer",
            "探访独居老人、代购代办、家政维修",
        ),
        ("暨阳助学公益基金", "charity", "困难家庭学生助学金"),
    ];
    let mut tx = services.store.begin().await?;
    for (name, kind, services) in orgs {
        let o = Organisation {
            id: 0,
            name: name.into(),
            kind: kind.into(),
            region_code: COUNTY_CODE.into(),
            services: services.into(),
            contact: "0512-5868xxxx（示范）".into(),
            active: true,
        };
        tx.insert_organisation(&o).await?;
    }
    tx.commit().await?;
    Ok(())
}

/// Applications in every state, filed over the last weeks, at a rate of about one per fifty
/// households (at least 60): new ones, waiting for materials, with each department, overdue
/// ones, and closed ones.
async fn cases(
    services: &Services,
    rng: &mut StdRng,
    households: usize,
    today: NaiveDate,
) -> Result<usize> {
    use jiuzhu_domain::case::{CaseEvent, Channel, MissingMaterials, Outcome, Recorded};
    let wanted = (households / 50).clamp(60.min(households), 5_000);
    let catalogue = jiuzhu_domain::Catalogue::seed();
    let calendar = services.calendar().current();
    // Households spread evenly over the city (ids are dense in a fresh demo database).
    let mut tx = services.store.begin_read().await?;
    let mut sample = Vec::with_capacity(wanted);
    for n in 0..wanted {
        let id = 1
            + (n * households / wanted) as i64
            + rng.gen_range(0..(households / wanted).max(1)) as i64;
        if let Some(h) = tx
            .get_household(id.min(households as i64), COUNTY_CODE)
            .await?
        {
            sample.push((h.id, h.region_code, h.head_person_id));
        }
    }
    drop(tx);
    let at = |day: NaiveDate, hour: u32| {
        jiuzhu_services::clock::china()
            .from_local_datetime(&day.and_hms_opt(hour, 0, 0).expect("valid hour"))
            .single()
            .expect("fixed offset")
            .to_utc()
    };
    use chrono::TimeZone;
    let mut written = 0;
    let mut tx = services.store.begin().await?;
    for (n, (household_id, region_code, head_person_id)) in sample.into_iter().enumerate() {
        let progress = PROGRESS[n % PROGRESS.len()];
        let (hardship, cause) = HARDSHIPS[rng.gen_range(0..HARDSHIPS.len())];
        let count = rng.gen_range(1..=2);
        let mut items: Vec<&str> = DEMO_ITEMS.choose_multiple(rng, count).copied().collect();
        items.sort_unstable();
        // Filed 1 to 25 working days ago, so some steps are overdue and some due today.
        let back = rng.gen_range(1..=25u32);
        let mut filed = today;
        let mut k = 0;
        while k < back {
            filed = filed.pred_opt().expect("date in range");
            if calendar.is_working_day(filed).working {
                k += 1;
            }
        }
        let next = |d: NaiveDate, n: u32| calendar.add_working_days(d, n).date.min(today);
        let window = |when, event| Recorded {
            at: when,
            actor: "clerk".into(),
            department: None,
            event,
        };
        let dept = |when, item: &str, event| Recorded {
            at: when,
            actor: match catalogue.item(item).map(|i| i.department.as_str()) {
                Some("medical_insurance") => "liaison".into(),
                Some("hrss") => "liaison2".into(),
                Some("civil_affairs") => "liaison3".into(),
                Some(other) => format!("{other}-liaison"),
                None => "liaison".into(),
            },
            department: catalogue.item(item).map(|i| i.department.clone()),
            event,
        };
        let mut events = vec![window(
            at(filed, 9),
            CaseEvent::Filed {
                channel: *Channel::ALL.choose(rng).expect("non-empty"),
                applicant_person_id: head_person_id,
                household_id,
                hardship: hardship.into(),
                causes: vec![cause],
                items: items.iter().map(|s| s.to_string()).collect(),
            },
        )];
        if matches!(progress, Progress::Filed) {
            // Nothing more yet.
        } else if matches!(progress, Progress::MaterialsMissing) {
            let missing = items
                .iter()
                .map(|i| MissingMaterials {
                    item: i.to_string(),
                    materials: catalogue
                        .item(i)
                        .map(|x| x.materials.iter().take(2).cloned().collect())
                        .unwrap_or_default(),
                })
                .collect();
            events.push(window(
                at(filed, 10),
                CaseEvent::MaterialsMissing { missing },
            ));
        } else {
            let rank = progress as usize;
            for item in &items {
                let form_no = services
                    .cases()
                    .next_form_no(&mut tx, &region_code, filed)
                    .await?;
                events.push(window(
                    at(filed, 10),
                    CaseEvent::ItemAccepted {
                        item: item.to_string(),
                        form_no,
                    },
                ));
                // Transfers of "accepted" cases are left undone (overdue after a day).
                if rank < Progress::Transferred as usize {
                    continue;
                }
                let department = catalogue
                    .item(item)
                    .map(|i| i.department.clone())
                    .unwrap_or_default();
                let t = next(filed, 1);
                events.push(window(
                    at(t, 11),
                    CaseEvent::Transferred {
                        item: item.to_string(),
                        department,
                        late_reason: None,
                    },
                ));
                if rank < Progress::Received as usize {
                    continue;
                }
                events.push(dept(
                    at(t, 15),
                    item,
                    CaseEvent::TransferReceived {
                        item: item.to_string(),
                    },
                ));
                if matches!(progress, Progress::ClosedRefused) {
                    events.push(dept(
                        at(next(t, 2), 10),
                        item,
                        CaseEvent::DepartmentRefused {
                            item: item.to_string(),
                            reason: "经核对，家庭人均收入高于规定标准".into(),
                        },
                    ));
                    continue;
                }
                if rank < Progress::InitialChecked as usize {
                    continue;
                }
                let checked = next(t, rng.gen_range(2..=7));
                events.push(dept(
                    at(checked, 10),
                    item,
                    CaseEvent::InitialCheckDone {
                        item: item.to_string(),
                        note: "经入户调查和经济状况核对，初核符合".into(),
                    },
                ));
                if rank < Progress::Completed as usize {
                    continue;
                }
                let done = next(checked, rng.gen_range(1..=5));
                let outcome = if item.contains("assistance")
                    || *item == "dibao"
                    || *item == "near_dibao"
                    || *item == "disability_subsidies"
                {
                    Outcome::Amount {
                        amount: Money::from_yuan(rng.gen_range(30..=260) * 10),
                        monthly: *item == "dibao",
                        note: "按规定标准核定".into(),
                    }
                } else {
                    Outcome::Service {
                        description: "已安排相应服务".into(),
                    }
                };
                events.push(dept(
                    at(done, 14),
                    item,
                    CaseEvent::DepartmentCompleted {
                        item: item.to_string(),
                        outcome,
                    },
                ));
                if matches!(progress, Progress::ClosedGranted) {
                    events.push(dept(
                        at(next(done, 1), 10),
                        item,
                        CaseEvent::FeedbackGiven {
                            item: item.to_string(),
                            note: "已书面告知申请人和窗口".into(),
                        },
                    ));
                }
            }
            if matches!(progress, Progress::ClosedGranted | Progress::ClosedRefused) {
                let last = events.last().map_or(at(filed, 16), |e| e.at);
                let summary = if matches!(progress, Progress::ClosedGranted) {
                    "各项救助已落实，已告知申请人"
                } else {
                    "经核查不符合条件，已书面告知申请人并解释政策"
                };
                events.push(window(
                    last + chrono::Duration::hours(2),
                    CaseEvent::Closed {
                        summary: summary.into(),
                    },
                ));
            }
        }
        // A tenth of the open cases carry a supervision note not yet answered.
        let closed = matches!(progress, Progress::ClosedGranted | Progress::ClosedRefused);
        if !closed && n % 10 == 4 {
            let last = events.last().map_or(at(filed, 16), |e| e.at);
            events.push(Recorded {
                at: last + chrono::Duration::hours(1),
                actor: "supervisor".into(),
                department: None,
                event: CaseEvent::SupervisionNoted {
                    number: 1,
                    item: Some(items[0].to_string()),
                    note: "请说明办理进度，抓紧办结".into(),
                },
            });
        }
        let key = format!("demo-{household_id}-{n}");
        services
            .cases()
            .record_history(
                &mut tx,
                &region_code,
                household_id,
                head_person_id,
                &key,
                events,
            )
            .await?;
        written += 1;
        if written % 500 == 0 {
            tx.commit().await?;
            tx = services.store.begin().await?;
        }
    }
    tx.commit().await?;
    Ok(written)
}
