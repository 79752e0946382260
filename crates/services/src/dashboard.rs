//! What each role's home page opens on: the person's work for today with counts that lead to the
//! lists, and for those who watch the bureau, the month's applications, timeliness, overdue items
//! by township and department, and the money paid.

use chrono::{Datelike, Months, TimeZone};
use jiuzhu_domain::case::ItemStage;
use jiuzhu_domain::{Permission, Role};
use serde::Serialize;

use crate::{Actor, Result, Services};

/// One count on a home page, with the list it leads to.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Tile {
    pub label: String,
    pub count: i64,
    /// The page that lists them.
    pub href: String,
    /// Needs doing today or is late: shown as urgent.
    pub urgent: bool,
    /// A word on what the count holds, e.g. 其中逾期3项.
    pub note: String,
}

/// A month of applications: filed, items, and the share of items on time.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct MonthTrend {
    /// 2026年12月
    pub month: String,
    pub cases: i64,
    pub items: i64,
    /// Items within their limits, in per cent (none when no item).
    pub on_time_percent: Option<i64>,
}

/// Overdue items of a township with one department.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct OverdueCell {
    pub township: String,
    pub department: String,
    pub items: i64,
}

/// A role's home page.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Today {
    /// 今日待办 of the person: what to do, with counts.
    pub tiles: Vec<Tile>,
    /// The last six months, oldest first (for those who watch the bureau or the township).
    pub trend: Vec<MonthTrend>,
    /// Overdue items by township and department, most first.
    pub overdue: Vec<OverdueCell>,
    /// This month's payments on approved rolls: households, persons, amount.
    pub paid_households: i64,
    pub paid_persons: i64,
    pub paid_fen: i64,
}

impl Services {
    /// The home page of the person signed in: their work today, and for a township or the
    /// bureau the trends behind it.
    pub async fn today_work(&self, actor: &Actor) -> Result<Today> {
        let today = self.today();
        let scope = actor.scope().to_string();
        let department = (actor.role == Role::DepartmentLiaison)
            .then(|| actor.department.clone())
            .flatten();
        let mut tx = self.store.begin_read().await?;
        let stages = tx
            .stage_counts(&scope, department.as_deref(), today)
            .await?;
        drop(tx);
        let of = |wanted: &[ItemStage]| {
            stages
                .iter()
                .filter(|s| ItemStage::from_code(&s.stage).is_some_and(|x| wanted.contains(&x)))
                .fold((0, 0, 0), |(n, d, o), s| {
                    (n + s.items, d + s.due_today, o + s.overdue)
                })
        };
        let tile = |label: &str, (n, due, late): (i64, i64, i64), href: &str| Tile {
            label: label.into(),
            count: n,
            href: href.into(),
            urgent: due + late > 0,
            note: match (due, late) {
                (0, 0) => String::new(),
                (d, 0) => format!("今日到期{d}项"),
                (0, l) => format!("逾期{l}项"),
                (d, l) => format!("今日到期{d}项、逾期{l}项"),
            },
        };
        let mut tiles = Vec::new();
        let watcher = matches!(
            actor.role,
            Role::Supervisor | Role::CountyApprover | Role::TownshipReviewer
        );
        match actor.role {
            Role::WindowClerk | Role::VillageAssistant | Role::TownshipReviewer => {
                tiles.push(tile(
                    "待受理登记",
                    of(&[ItemStage::Requested, ItemStage::MaterialsMissing]),
                    "/queue",
                ));
                tiles.push(tile("待转办", of(&[ItemStage::Accepted]), "/queue"));
                tiles.push(tile(
                    "部门办理中",
                    of(ItemStage::WITH_DEPARTMENT),
                    "/overdue",
                ));
                let to_close = self.cases().ready_to_close(actor).await?;
                let late = to_close.iter().filter(|c| c.due <= today).count() as i64;
                tiles.push(Tile {
                    label: "待告知结果并结案".into(),
                    count: to_close.len() as i64,
                    href: "/queue#to-close".into(),
                    urgent: late > 0,
                    note: if late > 0 {
                        format!("今日应告知或已逾期{late}件")
                    } else {
                        String::new()
                    },
                });
            }
            Role::DepartmentLiaison => {
                tiles.push(tile("待接收", of(&[ItemStage::Transferred]), "/inbox"));
                tiles.push(tile(
                    "核查、办理中",
                    of(&[ItemStage::Received, ItemStage::InitialChecked]),
                    "/inbox",
                ));
                tiles.push(tile("待反馈结果", of(&[ItemStage::Completed]), "/inbox"));
            }
            Role::Organisation => {
                let board = self.social().board(actor).await?;
                let mine: i64 = board
                    .iter()
                    .flat_map(|n| &n.mine)
                    .filter(|c| !c.delivered)
                    .count() as i64;
                tiles.push(Tile {
                    label: "待认领的帮扶需求".into(),
                    count: board.iter().filter(|n| n.status == "open").count() as i64,
                    href: "/needs".into(),
                    urgent: false,
                    note: String::new(),
                });
                tiles.push(Tile {
                    label: "已认领待完成".into(),
                    count: mine,
                    href: "/needs".into(),
                    urgent: false,
                    note: String::new(),
                });
                let logs = self.social().service_logs(actor).await?;
                tiles.push(Tile {
                    label: "志愿服务待核实".into(),
                    count: logs.iter().filter(|l| l.status == "logged").count() as i64,
                    href: "/volunteers".into(),
                    urgent: false,
                    note: String::new(),
                });
            }
            _ => {}
        }
        if actor.role.allows(Permission::HandleComplaints) {
            let open: Vec<_> = self
                .openness()
                .complaints(actor)
                .await?
                .into_iter()
                .filter(|c| c.status != "answered")
                .collect();
            let late = open.iter().filter(|c| c.escalated).count();
            let offered = open.iter().filter(|c| c.may_accept).count();
            let mut note = Vec::new();
            if offered > 0 {
                note.push(format!("待接收转办{offered}件"));
            }
            if late > 0 {
                note.push(format!("逾期升级督办{late}件"));
            }
            tiles.push(Tile {
                label: "投诉举报待答复".into(),
                count: open.len() as i64,
                href: "/complaints".into(),
                urgent: late > 0,
                note: note.join("，"),
            });
        }
        if actor.role.allows(Permission::ManageRecipients) {
            let open = self
                .openness()
                .objections(actor)
                .await?
                .iter()
                .filter(|o| o.status == "open")
                .count() as i64;
            tiles.push(Tile {
                label: "公示异议待答复".into(),
                count: open,
                href: "/publicity".into(),
                urgent: open > 0,
                note: if open > 0 {
                    "答复前不能确认纳入".into()
                } else {
                    String::new()
                },
            });
        }
        if actor.role.allows(Permission::ReadPeople) && actor.role != Role::Supervisor {
            let r = self.recipients();
            if matches!(
                actor.role,
                Role::VillageAssistant | Role::WindowClerk | Role::TownshipReviewer
            ) {
                let visits = r.visits_due(actor, today).await?;
                let late = visits.iter().filter(|v| v.overdue).count() as i64;
                tiles.push(Tile {
                    label: "本月应走访".into(),
                    count: visits.len() as i64,
                    href: "/visits".into(),
                    urgent: late > 0,
                    note: if late > 0 {
                        format!("逾期未走访{late}户")
                    } else {
                        String::new()
                    },
                });
            }
            if actor.role.allows(Permission::ApproveAssistance) {
                let proposals = r.proposals(actor).await?.len() as i64;
                tiles.push(Tile {
                    label: "复核结果待确认".into(),
                    count: proposals,
                    href: "/reviews".into(),
                    urgent: false,
                    note: String::new(),
                });
                let awaiting = r.awaiting(actor).await?.len() as i64;
                tiles.push(Tile {
                    label: "保障待审核、确认".into(),
                    count: awaiting,
                    href: "/enrolments".into(),
                    urgent: false,
                    note: String::new(),
                });
                let rolls = self.payments().rolls(actor).await?;
                let waiting = rolls
                    .iter()
                    .filter(|x| matches!(x.stage.as_str(), "draft" | "checked"))
                    .count() as i64;
                tiles.push(Tile {
                    label: "发放花名册待审核、审批".into(),
                    count: waiting,
                    href: "/rolls".into(),
                    urgent: false,
                    note: String::new(),
                });
            }
        }
        if actor.role.allows(Permission::ReadPeople) {
            let towns = self.monitoring().by_township(actor).await?;
            let open: i64 = towns.iter().map(|t| t.open).sum();
            let late: i64 = towns.iter().map(|t| t.overdue).sum();
            let red: i64 = towns.iter().map(|t| t.red_open).sum();
            let mut note = Vec::new();
            if red > 0 {
                note.push(format!("红色{red}条"));
            }
            if late > 0 {
                note.push(format!("逾期{late}条"));
            }
            tiles.push(Tile {
                label: "监测预警待办结".into(),
                count: open,
                href: if late > 0 {
                    "/warnings?overdue=1".into()
                } else {
                    "/warnings?status=open".into()
                },
                urgent: red > 0 || late > 0,
                note: note.join("，"),
            });
        }
        let mut trend = Vec::new();
        let mut overdue = Vec::new();
        let (mut paid_households, mut paid_persons, mut paid_fen) = (0, 0, 0);
        if watcher {
            let first = today
                .with_day(1)
                .and_then(|d| d.checked_sub_months(Months::new(5)))
                .expect("a month");
            let from = chrono::FixedOffset::east_opt(8 * 3600)
                .expect("UTC+8")
                .from_local_datetime(&first.and_hms_opt(0, 0, 0).expect("midnight"))
                .single()
                .expect("China has no gaps")
                .to_utc();
            let mut tx = self.store.begin_read().await?;
            let months = tx.monthly_applications(&scope, from, today).await?;
            let open: Vec<String> = std::iter::once(ItemStage::Accepted)
                .chain(ItemStage::WITH_DEPARTMENT.iter().copied())
                .chain([ItemStage::Requested, ItemStage::MaterialsMissing])
                .map(|s| s.code().to_string())
                .collect();
            let cells = tx.overdue_by_place(&scope, &open, today).await?;
            let mut names = std::collections::HashMap::new();
            for (code, _, _) in &cells {
                if !names.contains_key(code) {
                    // The cached names the rest of the platform shows places by.
                    let name = self.region_name(&mut tx, code).await?;
                    names.insert(
                        code.clone(),
                        if name.is_empty() { code.clone() } else { name },
                    );
                }
            }
            drop(tx);
            for k in 0..6u32 {
                let m = first.checked_add_months(Months::new(k)).expect("a month");
                let key = m.format("%Y-%m").to_string();
                let row = months.iter().find(|r| r.month == key);
                let (cases, items, late) = row.map_or((0, 0, 0), |r| (r.cases, r.items, r.late));
                trend.push(MonthTrend {
                    month: format!("{}年{}月", m.year(), m.month()),
                    cases,
                    items,
                    on_time_percent: (items > 0).then(|| (items - late) * 100 / items),
                });
            }
            let catalogue = self.catalogue().all().await?;
            overdue = cells
                .into_iter()
                .map(|(code, dept, items)| OverdueCell {
                    township: names.get(&code).cloned().unwrap_or(code),
                    department: catalogue
                        .departments
                        .iter()
                        .find(|d| d.code == dept)
                        .map_or(dept, |d| d.name.clone()),
                    items,
                })
                .collect();
            if actor.role.allows(Permission::ReadPeople) {
                let report = self
                    .payments()
                    .report(actor, &today.format("%Y-%m").to_string())
                    .await?;
                paid_households = report.households;
                paid_persons = report.persons;
                paid_fen = report.amount_fen;
            }
        }
        Ok(Today {
            tiles,
            trend,
            overdue,
            paid_households,
            paid_persons,
            paid_fen,
        })
    }
}
