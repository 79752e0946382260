//! The regions a user works in, for choosing and for display.

use jiuzhu_store::Region;
use serde::Serialize;

use crate::{Actor, Regions, Result};

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct RegionView {
    pub code: String,
    pub name: String,
    /// county, township, village
    pub level: String,
    pub parent_code: Option<String>,
}

impl From<Region> for RegionView {
    fn from(r: Region) -> Self {
        RegionView {
            code: r.code,
            name: r.name,
            level: r.level,
            parent_code: r.parent_code,
        }
    }
}

impl Regions<'_> {
    /// The user's region and everything under it.
    pub async fn list(&self, actor: &Actor) -> Result<Vec<RegionView>> {
        let mut tx = self.store.begin_read().await?;
        Ok(tx
            .regions_under(actor.scope())
            .await?
            .into_iter()
            .map(RegionView::from)
            .collect())
    }
}

impl Regions<'_> {
    /// Every village (community) of the platform as people write it, "杨舍镇西丰村", for
    /// picking a place by name.
    pub async fn village_names(&self) -> Result<Vec<String>> {
        let mut tx = self.store.begin_read().await?;
        let all = tx.regions_under("").await?;
        let town = |code: &Option<String>| {
            all.iter()
                .find(|t| Some(&t.code) == code.as_ref())
                .map_or("", |t| t.name.as_str())
        };
        Ok(all
            .iter()
            .filter(|r| r.level == "village")
            .map(|r| format!("{}{}", town(&r.parent_code), r.name))
            .collect())
    }

    /// The division code of a place written by name ("杨舍镇西丰村", "杨舍镇 西丰村", "西丰村"
    /// when only one village has that name, "杨舍镇"), or a code as typed.
    pub async fn place(&self, field: &str, text: &str) -> Result<String> {
        let typed: String = text.chars().filter(|c| !c.is_whitespace()).collect();
        if typed.is_empty() || typed.bytes().all(|b| b.is_ascii_digit()) {
            return Ok(typed);
        }
        let mut tx = self.store.begin_read().await?;
        let all = tx.regions_under("").await?;
        let town = |code: &Option<String>| {
            all.iter()
                .find(|t| Some(&t.code) == code.as_ref())
                .map_or(String::new(), |t| t.name.clone())
        };
        let found: Vec<&Region> = all
            .iter()
            .filter(|r| {
                r.name == typed
                    || (r.level == "village"
                        && format!("{}{}", town(&r.parent_code), r.name) == typed)
            })
            .collect();
        match found.as_slice() {
            [one] => Ok(one.code.clone()),
            [] => Err(crate::ServiceError::invalid(
                field,
                format!("没有名为“{typed}”的区划：请从列表中选择，如“杨舍镇西丰村”，外地户籍填县级区划代码"),
            )),
            many => Err(crate::ServiceError::invalid(
                field,
                format!(
                    "有{}个区划名为“{typed}”，请连同乡镇（街道）填写，如“{}{}”",
                    many.len(),
                    town(&many[0].parent_code),
                    many[0].name
                ),
            )),
        }
    }

    /// A region's name as people say it: "杨舍镇 东湖村", "杨舍镇", "张家港市".
    pub async fn name_of(&self, code: &str) -> Result<String> {
        if let Some(n) = self.region_names.read().expect("region lock").get(code) {
            if jiuzhu_domain::RegionCode::parse(code)
                .is_ok_and(|r| r.level() == jiuzhu_domain::RegionLevel::County)
            {
                return Ok(n.clone());
            }
        }
        let mut tx = self.store.begin_read().await?;
        let name = self.region_name(&mut tx, code).await?;
        if !name.is_empty() {
            return Ok(name);
        }
        let county = tx
            .get_region(code)
            .await?
            .map(|r| r.name)
            .unwrap_or_default();
        self.region_names
            .write()
            .expect("region lock")
            .insert(code.to_string(), county.clone());
        Ok(county)
    }

    /// The county (or county-level city) the installation serves: the root of its region tree.
    pub async fn county(&self) -> Result<Option<jiuzhu_domain::RegionCode>> {
        let mut tx = self.store.begin_read().await?;
        let all = tx.regions_under("").await?;
        Ok(all
            .into_iter()
            .find(|r| r.level == "county")
            .and_then(|r| jiuzhu_domain::RegionCode::parse(&r.code).ok()))
    }
}
