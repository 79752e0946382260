//! Social forces in the demo city: an account for the first registered organisation (`org`), its
//! volunteers with verified hours on this month's honour board, a need of a 杨舍镇 household
//! published with the household's consent, the year's special funds with a social-work and a
//! charity project, and residence permits for some of the migrants.

use chrono::{Datelike, NaiveDate, Utc};
use jiuzhu_domain::enrolment::month_of;
use jiuzhu_domain::{RegionCode, Role};
use jiuzhu_services::auth::hash_password;
use jiuzhu_services::people::PermitInput;
use jiuzhu_services::social::{ConsentInput, NeedInput, ProjectInput};
use jiuzhu_services::{Result, Services};
use jiuzhu_store::{ConsentRecord, NewUser, ServiceLogRecord, VolunteerRecord};

use crate::city::{DemoUser, COUNTY_CODE, DEMO_PASSWORD};
use crate::openness::actor;

pub(crate) async fn write(services: &Services, today: NaiveDate) -> Result<Option<DemoUser>> {
    // The online applications of the demo city came with their signed consent to verification.
    let mut tx = services.store.begin().await?;
    let since = chrono::DateTime::<Utc>::from_timestamp(0, 0).expect("epoch");
    for c in tx
        .cases_filed(
            COUNTY_CODE,
            since,
            Utc::now() + chrono::Duration::days(1),
            1_000_000,
        )
        .await?
    {
        if c.channel == "online" {
            tx.insert_consent(&ConsentRecord {
                id: 0,
                household_id: c.household_id,
                person_id: c.applicant_person_id,
                case_id: Some(c.id),
                kind: "verification".into(),
                channel: "online".into(),
                text: jiuzhu_services::cases::VERIFICATION_CONSENT.into(),
                given_at: c.filed_at,
                recorded_by: "online".into(),
                ip: "-".into(),
            })
            .await?;
        }
    }
    tx.commit().await?;
    let clerk = actor(services, "clerk").await?;
    let admin = actor(services, "admin").await?;
    let Some(org) = services
        .organisations()
        .list(&clerk)
        .await?
        .into_iter()
        .find(|o| o.active)
    else {
        return Ok(None);
    };
    let county = RegionCode::parse(COUNTY_CODE).expect("county");
    let mut tx = services.store.begin().await?;
    tx.insert_user(NewUser {
        username: "org",
        display_name: "顾敏",
        role: Role::Organisation,
        region: &county,
        department_code: None,
        organisation_id: Some(org.id),
        password_hash: &hash_password(DEMO_PASSWORD),
        system_account: false,
        must_change_password: false,
    })
    .await?;
    // Volunteers with this month's verified services: points earned the way the page earns them.
    let month = month_of(today);
    for (i, (name, show, hours)) in [
        ("沈晓燕", true, 36),
        ("陆建明", true, 25),
        ("钱佳怡", false, 18),
    ]
    .into_iter()
    .enumerate()
    {
        let v = tx
            .insert_volunteer(&VolunteerRecord {
                id: 0,
                name: name.into(),
                organisation_id: org.id,
                region_code: "320582100".into(),
                show_on_board: show,
                created_by: "org".into(),
                created_at: Utc::now(),
            })
            .await?;
        let day =
            NaiveDate::from_ymd_opt(month.year(), month.month(), 1 + i as u32).unwrap_or(month);
        let log = tx
            .insert_service_log(&ServiceLogRecord {
                id: 0,
                volunteer_id: v,
                household_id: None,
                region_code: "320582100".into(),
                kind: ["visit", "tutoring", "housework"][i].into(),
                service_date: day,
                hours_tenths: hours,
                note: [
                    "探访独居老人",
                    "为困境儿童辅导功课",
                    "帮助重度残疾人打扫卫生",
                ][i]
                    .into(),
                status: "verified".into(),
                logged_by: "org".into(),
                logged_at: Utc::now(),
                verified_by: Some("org".into()),
                verified_at: Some(Utc::now()),
            })
            .await?;
        tx.insert_point_entry(
            v,
            Some(log),
            hours,
            "核实服务时长",
            month,
            "org",
            Utc::now(),
        )
        .await?;
    }
    tx.commit().await?;
    // A need of a 杨舍镇 plan, with the household's consent.
    if let Some(p) = services
        .social()
        .publishable(&clerk)
        .await?
        .into_iter()
        .next()
    {
        services
            .social()
            .record_consent(
                &clerk,
                &ConsentInput {
                    household_id: p.household_id,
                    person_id: p.head_person_id,
                    kind: "share_needs".into(),
                    channel: "visit".into(),
                },
            )
            .await?;
        services
            .social()
            .publish_need(
                &clerk,
                &NeedInput {
                    plan_id: p.plan_id,
                    need_index: p.need_index,
                    description: "家中老人患慢性病行动不便，需要志愿者每月陪同就医复查".into(),
                    quantity: 6,
                    unit: "visits".into(),
                },
            )
            .await?;
    }
    let year = today.year() as i64;
    services
        .social()
        .set_special_funds(&admin, year, 8_500_000_000)
        .await?;
    for (kind, name, region, target, raised) in [
        (
            "social_work",
            "困境儿童关爱社工服务",
            "320582100",
            60_000_000,
            0,
        ),
        (
            "charity",
            "99公益日·助学圆梦",
            "320582",
            30_000_000,
            18_642_000,
        ),
    ] {
        services
            .social()
            .add_project(
                &admin,
                &ProjectInput {
                    kind: kind.into(),
                    name: name.into(),
                    organisation_id: Some(org.id),
                    region: region.into(),
                    year: Some(year),
                    target_fen: target,
                    raised_fen: raised,
                },
            )
            .await?;
    }
    // Residence permits for some of 杨舍镇's migrants.
    let mut tx = services.store.begin_read().await?;
    let migrants: Vec<(i64, String)> = tx.permit_candidates("320582100", 6).await?;
    drop(tx);
    for (i, (_, number)) in migrants.iter().enumerate() {
        let months = [30u32, 14, 9, 4, 20, 2][i % 6];
        services
            .people()
            .record_permit(
                &clerk,
                &PermitInput {
                    id_number: number.clone(),
                    issued_on: today.checked_sub_months(chrono::Months::new(months)),
                    resident_since: today.checked_sub_months(chrono::Months::new(months + 3)),
                    working: i % 3 != 2,
                },
            )
            .await?;
    }
    Ok(Some(DemoUser {
        username: "org".into(),
        display_name: "顾敏".into(),
        role: Role::Organisation,
        region_name: crate::city::COUNTY_NAME.into(),
        department: Some(org.name),
    }))
}
