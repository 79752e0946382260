//! Openness in the demo city: 杨舍镇's notice of this month's 低保 decisions (when there are
//! any), a complaint from the public page and one taken from the 12345 hotline, and a random
//! inspection drawn by the supervisor — so each page opens on something real.

use chrono::NaiveDate;
use jiuzhu_services::openness::{ComplaintInput, InspectionInput, NoticeInput};
use jiuzhu_services::{Actor, Result, ServiceError, Services};
use jiuzhu_store::Interface;

/// A demo user as the services see them, acting from the command line.
pub(crate) async fn actor(services: &Services, username: &str) -> Result<Actor> {
    let mut tx = services.store.begin_read().await?;
    let user = tx
        .user_by_name(username)
        .await?
        .ok_or(ServiceError::NotFound)?;
    Ok(Actor::from_user(&user, Interface::Cli, "local"))
}

pub(crate) async fn write(services: &Services, today: NaiveDate) -> Result<()> {
    let clerk = actor(services, "clerk").await?;
    let supervisor = actor(services, "supervisor").await?;
    let o = services.openness();
    let notice = o
        .publish(
            &clerk,
            &NoticeInput {
                program: "dibao".into(),
                region: "320582100".into(),
                from: today.format("%Y-%m-01").to_string(),
                to: today.to_string(),
                contact: "电话0512-58681234；杨舍镇人民政府社会事务办公室（人民中路88号）".into(),
            },
        )
        .await;
    // A month without a reviewed decision yet has nothing to publish.
    match notice {
        Ok(_) | Err(ServiceError::Invalid { .. }) => {}
        Err(e) => return Err(e),
    }
    o.complain(
        "demo",
        &ComplaintInput {
            category: "service".into(),
            region: "320582100".into(),
            content:
                "在镇便民服务中心办理低保，窗口说材料不全让下次再来，但没有一次性告知缺哪些材料"
                    .into(),
            anonymous: true,
            ..Default::default()
        },
    )
    .await?;
    o.record_complaint(
        &clerk,
        &ComplaintInput {
            category: "payments".into(),
            channel: "hotline".into(),
            region: "320582100".into(),
            content: "12345转办：市民反映其母亲本月残疾人护理补贴未到账".into(),
            name: "王建新".into(),
            contact: "13962251234".into(),
            ..Default::default()
        },
    )
    .await?;
    let planned = o
        .plan_inspection(
            &supervisor,
            &InspectionInput {
                title: format!(
                    "{}年{}月社会救助双随机抽查",
                    today.format("%Y"),
                    today.format("%-m")
                ),
                month: String::new(),
                programs: vec!["dibao".into(), "tekun".into()],
                percent: Some(5),
                seed: format!("{}-张家港-抽查", today.format("%Y%m")),
                inspectors: vec!["clerk".into(), "clerk2".into(), "reviewer".into()],
            },
        )
        .await;
    match planned {
        Ok(_) | Err(ServiceError::Invalid { .. }) => Ok(()),
        Err(e) => Err(e),
    }
}
