//! The departments and assistance items of "1+8+N" (seed 002 §三(二)): each item belongs to one
//! department, lists the materials an applicant brings, and has a statutory time limit.

use serde::{Deserialize, Serialize};

const SEED: &str = include_str!("../../../data/catalogue.json");

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Department {
    pub code: String,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Item {
    pub code: String,
    pub name: String,
    pub department: String,
    /// Statutory time limit for handling, in working days.
    pub time_limit_days: u32,
    /// The document the time limit comes from, or a note that it is a demo value.
    pub time_limit_source: String,
    pub materials: Vec<String>,
    /// 服务指南: who may apply and what they get, in plain words.
    pub guide: String,
    /// Paid every month once granted: the household is enrolled and kept on the register.
    #[serde(default)]
    pub recurring: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Catalogue {
    pub source: String,
    pub departments: Vec<Department>,
    pub items: Vec<Item>,
}

impl Catalogue {
    /// The 11 departments and 19 items the platform starts with.
    pub fn seed() -> Catalogue {
        serde_json::from_str(SEED).expect("built-in catalogue is valid")
    }

    pub fn item(&self, code: &str) -> Option<&Item> {
        self.items.iter().find(|i| i.code == code)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seed_has_eleven_departments_and_nineteen_items_each_owned() {
        let c = Catalogue::seed();
        assert_eq!(c.departments.len(), 11);
        assert_eq!(c.items.len(), 19);
        for item in &c.items {
            assert!(
                c.departments.iter().any(|d| d.code == item.department),
                "{} names an unknown department",
                item.code
            );
            assert!(!item.materials.is_empty() && item.time_limit_days > 0);
        }
        for d in &c.departments {
            assert!(
                c.items.iter().any(|i| i.department == d.code),
                "{} has no item",
                d.code
            );
        }
        assert_eq!(c.item("dibao").unwrap().department, "civil_affairs");
        let union_items = c
            .items
            .iter()
            .filter(|i| i.department == "trade_union")
            .count();
        assert_eq!(union_items, 3);
    }
}
