//! Page rendering with minijinja. Templates are compiled into the binary and HTML-escaped by
//! default; a test renders every page, so a template mistake fails the build's tests.

use axum::response::Html;
use chrono::{DateTime, Utc};
use jiuzhu_domain::{Money, Permission};
use minijinja::{Environment, Value};
use serde::Serialize;

use crate::auth::WebUser;
use crate::error::PageError;

pub struct Templates {
    env: Environment<'static>,
}

macro_rules! templates {
    ($env:expr, $($name:literal),* $(,)?) => {
        $( $env.add_template($name, include_str!(concat!("../templates/", $name))).expect($name); )*
    };
}

/// Fen to `1,234.50`.
fn yuan(fen: i64) -> String {
    Money::from_fen(fen).to_string()
}

/// Fen to yuan as typed into a form: `1234.50`, no separators.
fn plain_yuan(fen: i64) -> String {
    Money::from_fen(fen).to_plain_yuan()
}

/// Fen to 大写.
fn capital(fen: i64) -> String {
    Money::from_fen(fen).to_capital()
}

/// An RFC 3339 instant shown in China time.
fn local(value: String) -> String {
    value
        .parse::<DateTime<Utc>>()
        .map(jiuzhu_services::clock::local)
        .unwrap_or(value)
}

/// `2026-12` → `2026年12月`; anything else unchanged.
fn month_cn(value: String) -> String {
    match value.split_once('-') {
        Some((y, m)) if y.len() == 4 && m.len() == 2 && m.bytes().all(|b| b.is_ascii_digit()) => {
            format!("{y}年{}月", m.trim_start_matches('0'))
        }
        _ => value,
    }
}

impl Templates {
    pub fn new() -> Self {
        let mut env = Environment::new();
        templates!(
            env,
            "base.html",
            "login.html",
            "password.html",
            "two_factor.html",
            "home.html",
            "people_list.html",
            "person_form.html",
            "person.html",
            "households_list.html",
            "household.html",
            "household_form.html",
            "catalogue.html",
            "item.html",
            "item_form.html",
            "users.html",
            "tokens.html",
            "audit.html",
            "calendar.html",
            "case_new.html",
            "case.html",
            "queue.html",
            "print.html",
            "status.html",
            "register.html",
            "decisions.html",
            "policy.html",
            "simulate.html",
            "simulate_households.html",
            "organisations.html",
            "warnings.html",
            "warning.html",
            "population.html",
            "evaluate.html",
            "feeds.html",
            "feed_file.html",
            "verification.html",
            "verification_body.html",
            "recipients.html",
            "enrolments.html",
            "enrolment.html",
            "reviews.html",
            "household_file.html",
            "visits.html",
            "rolls.html",
            "roll.html",
            "receivables.html",
            "bank_templates.html",
            "publicity.html",
            "notice.html",
            "notice_print.html",
            "objection.html",
            "complaints.html",
            "complaint.html",
            "inspections.html",
            "inspection.html",
            "statistics.html",
            "performance.html",
            "public_base.html",
            "public_index.html",
            "public_notice.html",
            "public_complaint.html",
            "public_lookup.html",
            "public_statistics.html",
            "social.html",
            "needs.html",
            "volunteers.html",
            "new_citizens.html",
            "public_guides.html",
            "public_guide.html",
            "public_apply.html",
            "public_honour.html",
            "public_materials.html",
        );
        env.add_filter("yuan", yuan);
        env.add_filter("plain_yuan", plain_yuan);
        env.add_filter("capital", capital);
        env.add_filter("local", local);
        env.add_filter("month_cn", month_cn);
        Templates { env }
    }

    pub fn render(&self, name: &str, ctx: Value) -> Result<Html<String>, PageError> {
        let t = self
            .env
            .get_template(name)
            .map_err(|e| PageError::Render(e.to_string()))?;
        t.render(ctx)
            .map(Html)
            .map_err(|e| PageError::Render(format!("{name}: {e:#}")))
    }
}

#[derive(Serialize)]
struct NavItem {
    href: &'static str,
    label: &'static str,
    active: bool,
    /// Reference pages opened now and then: under 更多, so the daily menu fits one line.
    more: bool,
}

/// Pages under 更多.
const NAV_MORE: &[&str] = &[
    "/social",
    "/new-citizens",
    "/statistics",
    "/performance",
    "/inspections",
    "/catalogue",
    "/policy",
    "/policy/simulate",
    "/calendar",
    "/bank-templates",
    "/organisations",
];

/// What every signed-in page shows: who is working, where, and the menu their role allows.
pub fn frame(user: &WebUser, active: &str) -> Value {
    let a = &user.actor;
    let mut nav = vec![NavItem {
        href: "/",
        label: "首页",
        active: active == "/",
        more: false,
    }];
    let mut add = |href: &'static str, label: &'static str, ok: bool| {
        if ok {
            nav.push(NavItem {
                href,
                label,
                active: active == href,
                more: NAV_MORE.contains(&href),
            });
        }
    };
    let window = a.role.allows(Permission::WritePeople);
    let liaison = a.role == jiuzhu_domain::Role::DepartmentLiaison;
    add(
        "/queue",
        "窗口待办",
        window || a.role == jiuzhu_domain::Role::TownshipReviewer,
    );
    add("/inbox", "转办收件箱", liaison);
    add(
        "/overdue",
        "督办看板",
        a.role.allows(Permission::ReadPeople) || liaison,
    );
    add("/register", "登记表", a.role.allows(Permission::ReadPeople));
    add(
        "/recipients",
        "救助对象",
        a.role.allows(Permission::ReadPeople),
    );
    add(
        "/enrolments",
        "待审批",
        a.role.allows(Permission::ApproveAssistance),
    );
    add(
        "/reviews",
        "定期复核",
        a.role.allows(Permission::ReadPeople),
    );
    add("/visits", "走访", a.role.allows(Permission::ReadPeople));
    add("/warnings", "预警", a.role.allows(Permission::ReadPeople));
    add("/publicity", "公示", a.role.allows(Permission::ReadPeople));
    add(
        "/complaints",
        "投诉",
        a.role.allows(Permission::HandleComplaints),
    );
    add("/rolls", "发放", a.role.allows(Permission::ReadPeople));
    add(
        "/receivables",
        "追回",
        a.role.allows(Permission::ReadPeople),
    );
    add("/people", "人员", a.role.allows(Permission::ReadPeople));
    add("/households", "家庭", a.role.allows(Permission::ReadPeople));
    add("/catalogue", "救助事项", true);
    add(
        "/bank-templates",
        "代发模板",
        a.role.allows(Permission::EditCatalogue),
    );
    add(
        "/organisations",
        "转介机构",
        a.role.allows(Permission::EditCatalogue),
    );
    add("/users", "用户", a.role.allows(Permission::ManageUsers));
    add("/policy", "政策参数", true);
    add(
        "/policy/evaluate",
        "救助测算",
        a.role != jiuzhu_domain::Role::Auditor,
    );
    add(
        "/policy/simulate",
        "调整模拟",
        a.role.allows(Permission::Simulate),
    );
    add(
        "/feeds",
        "部门数据",
        a.role.allows(Permission::ImportFeeds) || liaison,
    );
    add("/calendar", "工作日历", true);
    add(
        "/statistics",
        "统计月报",
        a.role.allows(Permission::ReadPeople),
    );
    add(
        "/performance",
        "绩效指标",
        matches!(
            a.role,
            jiuzhu_domain::Role::Supervisor
                | jiuzhu_domain::Role::CountyApprover
                | jiuzhu_domain::Role::TownshipReviewer
        ),
    );
    add(
        "/inspections",
        "双随机抽查",
        a.role.allows(Permission::ReadPeople),
    );
    add(
        "/social",
        "社会帮扶",
        a.role.allows(Permission::ReadPeople) || a.role.allows(Permission::EditCatalogue),
    );
    add(
        "/new-citizens",
        "新市民",
        a.role.allows(Permission::ReadPeople),
    );
    let organisation = a.role == jiuzhu_domain::Role::Organisation;
    add("/needs", "帮扶需求", organisation);
    add("/volunteers", "志愿服务", organisation);
    add("/audit", "审计日志", a.role.allows(Permission::ReadAudit));
    add(
        "/audit",
        "审计员操作",
        matches!(
            a.role,
            jiuzhu_domain::Role::BureauAdmin | jiuzhu_domain::Role::SecurityAdmin
        ),
    );
    minijinja::context! {
        user => minijinja::context! {
            name => a.display_name,
            username => a.username,
            role => a.role.label(),
            role_code => a.role.code(),
            region => user.region_name,
            can_write_people => a.role.allows(Permission::WritePeople),
            can_read_people => a.role.allows(Permission::ReadPeople),
            can_edit_catalogue => a.role.allows(Permission::EditCatalogue),
            can_manage_calendar => a.role.allows(Permission::ManageCalendar),
        },
        csrf => user.csrf,
        nav => nav,
    }
}

/// A QR code as inline SVG (for binding an authenticator): no image file, nothing leaves the page.
pub fn qr_svg(text: &str) -> String {
    use qrcodegen::{QrCode, QrCodeEcc};
    let Ok(qr) = QrCode::encode_text(text, QrCodeEcc::Medium) else {
        return String::new();
    };
    let border = 4;
    let size = qr.size() + border * 2;
    let mut path = String::new();
    for y in 0..qr.size() {
        for x in 0..qr.size() {
            if qr.get_module(x, y) {
                path.push_str(&format!("M{},{}h1v1h-1z", x + border, y + border));
            }
        }
    }
    format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {size} {size}\" width=\"220\" height=\"220\" role=\"img\" aria-label=\"绑定动态口令的二维码\" shape-rendering=\"crispEdges\"><rect width=\"100%\" height=\"100%\" fill=\"#fff\"/><path d=\"{path}\" fill=\"#000\"/></svg>"
    )
}

/// A workbook as a download.
pub fn xlsx_download(bytes: Vec<u8>, file_name: &str) -> axum::response::Response {
    use axum::response::IntoResponse;
    (
        [
            (
                axum::http::header::CONTENT_TYPE,
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet".to_string(),
            ),
            (
                axum::http::header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{file_name}\""),
            ),
        ],
        bytes,
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_render_money() {
        assert_eq!(yuan(123_450), "1,234.50");
        assert_eq!(capital(123_450), "壹仟贰佰叁拾肆元伍角整");
        assert_eq!(local("2026-11-23T01:00:00Z".into()), "2026-11-23 09:00:00");
    }
}
