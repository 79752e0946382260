//! 掌上办 (seed 004 §23): a resident applies from a phone without signing in. The identity
//! number is checked and, for someone already registered, must go with their name; a newcomer
//! is registered with their household. The signed consent to verification (授权书, 逢救必核) is
//! required and kept with the case; the case lands in the township window's queue with channel
//! 网上申请; the same application sent twice the same day is one case. The applicant is given an
//! application number for the status page.

use chrono::NaiveDate;
use jiuzhu_domain::{IdNumber, RegionCode, RegionLevel, Role};
use jiuzhu_store::{ConsentRecord, Interface};
use serde::{Deserialize, Serialize};
use serde_json::json;
use sha2::{Digest, Sha256};

use super::ApplicationInput;
use crate::households::{HouseholdInput, MemberInput};
use crate::openness::{bounded, public_audit};
use crate::people::PersonInput;
use crate::{Actor, Cases, Result, ServiceError};

/// The words of the consent an online applicant signs.
pub const VERIFICATION_CONSENT: &str = "本人及共同生活的家庭成员授权民政部门会同有关部门、机构核对我们的户籍、收入、财产、社会保险等家庭经济状况信息，用于审核社会救助申请（逢救必核）。";

#[derive(Debug, Clone, Default, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(default)]
pub struct OnlineMember {
    pub id_number: String,
    pub name: String,
    /// spouse, child, parent, grandchild, grandparent, sibling, child_in_law, other
    pub relation: String,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(default)]
pub struct OnlineApplication {
    pub id_number: String,
    pub name: String,
    pub phone: String,
    /// The village or community lived in (12 digits).
    pub village: String,
    pub address: String,
    pub hardship: String,
    pub causes: Vec<String>,
    pub items: Vec<String>,
    pub members: Vec<OnlineMember>,
    /// The consent to verification, read and accepted.
    pub consent: bool,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct OnlineReceipt {
    /// 网上申请编号, with the last four characters of the identity number, for `/status`.
    pub application_no: String,
    pub township: String,
    /// The same application was already received today: nothing new was filed.
    pub merged: bool,
    /// What to bring or send, item by item.
    pub materials: Vec<(String, Vec<String>)>,
}

/// The application number of an online case: 网上 + the case number.
pub fn application_no(case_id: i64) -> String {
    format!("WS{case_id:08}")
}

/// The case of an application number, if it is one.
pub fn case_of_application_no(text: &str) -> Option<i64> {
    text.trim().strip_prefix("WS").and_then(|n| n.parse().ok())
}

impl Cases<'_> {
    /// An application from the public page. See the module.
    pub async fn apply_online(&self, ip: &str, input: &OnlineApplication) -> Result<OnlineReceipt> {
        let today = self.today();
        if !input.consent {
            return Err(ServiceError::invalid(
                "consent",
                "请阅读并同意家庭经济状况核对授权书：未经授权无法核对，也就无法审核救助申请",
            ));
        }
        let id = IdNumber::parse(&input.id_number, today)
            .map_err(|e| ServiceError::invalid("id_number", e.to_string()))?;
        let name = bounded("name", &input.name, "姓名", 30)?;
        let phone = bounded("phone", &input.phone, "联系电话", 20)?;
        let address = bounded("address", &input.address, "详细住址", 100)?;
        let hardship = bounded("hardship", &input.hardship, "困难情况", 2000)?;
        if input.items.is_empty() {
            return Err(ServiceError::invalid(
                "items",
                "请至少选择一项申请的救助事项",
            ));
        }
        if input.members.len() > 10 {
            return Err(ServiceError::invalid(
                "members",
                "网上申请最多填写10名共同生活的家庭成员，更多请到窗口办理",
            ));
        }
        let village = RegionCode::parse(input.village.trim())
            .ok()
            .filter(|r| r.level() == RegionLevel::Village)
            .ok_or_else(|| ServiceError::invalid("village", "请选择居住的村（社区）"))?;
        let mut members = Vec::new();
        for (i, m) in input.members.iter().enumerate() {
            let field = |f: &str| format!("members[{i}].{f}");
            let mid = IdNumber::parse(&m.id_number, today).map_err(|e| {
                ServiceError::invalid(&field("id_number"), format!("成员{}：{e}", i + 1))
            })?;
            if mid.expose() == id.expose() {
                return Err(ServiceError::invalid(
                    &field("id_number"),
                    format!("成员{}与申请人是同一人", i + 1),
                ));
            }
            let mname = bounded(&field("name"), &m.name, &format!("成员{}的姓名", i + 1), 30)?;
            members.push((mid, mname, m.relation.clone()));
        }
        let mut read = self.store.begin_read().await?;
        let place = read.get_region(village.as_str()).await?;
        if place.is_none() {
            return Err(ServiceError::invalid("village", "未知的村（社区）"));
        }
        // Whoever is already registered: the name must match, and they apply where they live.
        let registered = read.find_id_number(&id).await?;
        drop(read);
        let township = village
            .at_level(RegionLevel::Township)
            .expect("a village has a township");
        let window = |region: &str| -> Result<Actor> {
            let region = RegionCode::parse(&region[..9.min(region.len())])
                .map_err(|e| ServiceError::invalid("village", e.to_string()))?;
            Ok(Actor {
                role: Role::WindowClerk,
                username: "online".into(),
                display_name: "网上申请".into(),
                ip: ip.to_string(),
                ..Actor::system(region, Interface::Web)
            })
        };
        let (person_id, actor) = match registered {
            Some((pid, region)) => {
                let actor = window(&region)?;
                let mut read = self.store.begin_read().await?;
                let p = read
                    .get_person(pid, "")
                    .await?
                    .ok_or(ServiceError::NotFound)?;
                if p.person.name != name {
                    return Err(ServiceError::invalid(
                        "name",
                        "姓名与登记的身份证号不一致，请核对；如已改名请到窗口办理",
                    ));
                }
                (pid, actor)
            }
            None => {
                let actor = window(township.as_str())?;
                let created = self
                    .people()
                    .create(
                        &actor,
                        &self.newcomer(&id, &name, &village, Some(phone.clone())),
                    )
                    .await?;
                (created.id, actor)
            }
        };
        // A household for whoever has none, with the members named.
        let mut read = self.store.begin_read().await?;
        let household = read
            .get_person(person_id, "")
            .await?
            .and_then(|p| p.household_id);
        drop(read);
        if household.is_none() {
            let h = self
                .households()
                .create(
                    &actor,
                    &HouseholdInput {
                        region_code: village.to_string(),
                        address,
                        head_person_id: person_id,
                        from_date: None,
                    },
                )
                .await?;
            for (mid, mname, relation) in &members {
                let mut read = self.store.begin_read().await?;
                let found = read.find_id_number(mid).await?;
                drop(read);
                let member = match found {
                    Some((pid, _)) => pid,
                    None => {
                        self.people()
                            .create(&actor, &self.newcomer(mid, mname, &village, None))
                            .await?
                            .id
                    }
                };
                self.households()
                    .add_member(
                        &actor,
                        h.household.id,
                        &MemberInput {
                            person_id: member,
                            relation: relation.clone(),
                            from_date: None,
                        },
                    )
                    .await?;
            }
        }
        let mut items = input.items.clone();
        items.sort();
        items.dedup();
        let key = format!(
            "online:{:x}",
            Sha256::digest(format!("{}|{}|{today}", id.expose(), items.join(",")).as_bytes())
        );
        let mut read = self.store.begin_read().await?;
        let merged = read.case_by_key(&key).await?.is_some();
        drop(read);
        let case = self
            .file(
                &actor,
                &ApplicationInput {
                    applicant_person_id: person_id,
                    channel: "online".into(),
                    hardship,
                    causes: if input.causes.is_empty() {
                        vec!["other".into()]
                    } else {
                        input.causes.clone()
                    },
                    items: items.clone(),
                    received_at: None,
                    idempotency_key: key,
                },
            )
            .await?;
        let mut tx = self.store.begin().await?;
        if !merged {
            tx.insert_consent(&ConsentRecord {
                id: 0,
                household_id: case.household_id,
                person_id,
                case_id: Some(case.id),
                kind: "verification".into(),
                channel: "online".into(),
                text: VERIFICATION_CONSENT.into(),
                given_at: self.now(),
                recorded_by: "online".into(),
                ip: ip.into(),
            })
            .await?;
        }
        tx.append_audit(&public_audit(
            ip,
            "case.apply_online",
            "case",
            case.id,
            &case.region_code,
            json!({"items": items, "merged": merged, "applicant": id.masked()}),
        ))
        .await?;
        tx.commit().await?;
        let catalogue = self.catalogue().all().await?;
        Ok(OnlineReceipt {
            application_no: application_no(case.id),
            township: self.region_name_of(&case.region_code[..9]).await?,
            merged,
            materials: items
                .iter()
                .filter_map(|c| catalogue.items.iter().find(|i| &i.code == c))
                .map(|i| (i.name.clone(), i.materials.clone()))
                .collect(),
        })
    }

    fn newcomer(
        &self,
        id: &IdNumber,
        name: &str,
        village: &RegionCode,
        phone: Option<String>,
    ) -> PersonInput {
        PersonInput {
            id_number: id.expose().to_string(),
            name: name.into(),
            // The registration place is confirmed at the window; the residence is what was given.
            hukou_region: village.to_string(),
            residence_region: village.to_string(),
            residence_since: None::<NaiveDate>,
            phone,
            disability_grade: None,
            disability_kind: None,
            serious_illness: None,
            labour_capacity: "full".into(),
            self_care: "full".into(),
            residence_permit: false,
        }
    }

    async fn region_name_of(&self, code: &str) -> Result<String> {
        let mut tx = self.store.begin_read().await?;
        self.region_name(&mut tx, code).await
    }
}
