//! The feed categories: what each department sends, as typed columns with the names departments
//! write them under. Every category names its department.

use serde::Serialize;

/// What a column holds once read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// Free text (a name, a plate, an employer).
    Text,
    /// An amount of money in yuan, stored in fen.
    Money,
    /// A calendar date.
    Date,
    /// A calendar month (`2025-03`, `2025年3月`, `202503`).
    Month,
    /// A whole number (a grade, an area in square metres rounded).
    Count,
}

#[derive(Debug, Serialize)]
pub struct Column {
    pub key: &'static str,
    pub label: &'static str,
    /// Header names departments use for it, besides `key` and `label`.
    pub aliases: &'static [&'static str],
    pub kind: Kind,
    pub required: bool,
}

#[derive(Debug, Serialize)]
pub struct Category {
    pub code: &'static str,
    pub label: &'static str,
    pub department: &'static str,
    /// Every category identifies the person by identity number and name first.
    pub columns: &'static [Column],
}

macro_rules! col {
    ($key:literal, $label:literal, $kind:ident, req, [$($a:literal),*]) => {
        Column { key: $key, label: $label, aliases: &[$($a),*], kind: Kind::$kind, required: true }
    };
    ($key:literal, $label:literal, $kind:ident, opt, [$($a:literal),*]) => {
        Column { key: $key, label: $label, aliases: &[$($a),*], kind: Kind::$kind, required: false }
    };
}

macro_rules! person {
    () => {
        [
            col!(
                "id_number",
                "身份证号",
                Text,
                req,
                ["公民身份号码", "身份证号码", "证件号码", "身份证"]
            ),
            col!(
                "name",
                "姓名",
                Text,
                req,
                ["人员姓名", "户主姓名", "参保人姓名", "户名", "名称"]
            ),
        ]
    };
}

macro_rules! category {
    ($code:literal, $label:literal, $dept:literal, [$($col:expr),* $(,)?]) => {
        Category {
            code: $code,
            label: $label,
            department: $dept,
            columns: &{
                let [a, b] = person!();
                [a, b, $($col),*]
            },
        }
    };
}

/// Every category the platform takes, after the breadth of the Xiamen verification platform.
pub const CATEGORIES: &[Category] = &[
    category!(
        "hukou_change",
        "户籍变动",
        "公安局",
        [
            col!("change", "变动类型", Text, req, ["变动类别", "业务类型"]),
            col!("date", "变动日期", Date, req, ["办理日期", "变动时间"]),
            col!(
                "region",
                "户籍地行政区划",
                Text,
                opt,
                ["户籍地", "区划代码"]
            ),
        ]
    ),
    category!(
        "death",
        "死亡登记",
        "公安局",
        [col!(
            "date",
            "死亡日期",
            Date,
            req,
            ["注销日期", "死亡时间"]
        ),]
    ),
    category!(
        "cremation",
        "火化记录",
        "民政局（殡葬）",
        [col!("date", "火化日期", Date, req, ["火化时间"]),]
    ),
    category!(
        "social_insurance",
        "社会保险缴费",
        "人力资源和社会保障局",
        [
            col!(
                "month",
                "缴费月份",
                Month,
                req,
                ["费款所属期", "所属期", "缴费年月"]
            ),
            col!("base", "缴费基数", Money, req, ["月缴费基数", "缴费工资"]),
            col!("employer", "参保单位", Text, opt, ["单位名称", "缴费单位"]),
        ]
    ),
    category!(
        "pension",
        "养老金发放",
        "人力资源和社会保障局",
        [
            col!("month", "发放月份", Month, req, ["待遇所属期", "发放年月"]),
            col!(
                "amount",
                "月养老金",
                Money,
                req,
                ["发放金额", "待遇金额", "养老金"]
            ),
        ]
    ),
    category!(
        "unemployment",
        "失业登记",
        "人力资源和社会保障局",
        [
            col!("date", "登记日期", Date, req, ["失业登记日期"]),
            col!("benefit", "失业保险金", Money, opt, ["月失业金", "失业金"]),
        ]
    ),
    category!(
        "wage",
        "工资收入",
        "人力资源和社会保障局",
        [
            col!("month", "工资月份", Month, req, ["所属期", "发放月份"]),
            col!(
                "amount",
                "应发工资",
                Money,
                req,
                ["工资", "收入额", "月工资"]
            ),
            col!("employer", "工作单位", Text, opt, ["单位名称"]),
        ]
    ),
    category!(
        "business",
        "市场主体登记",
        "市场监督管理局",
        [
            col!(
                "entity",
                "市场主体名称",
                Text,
                req,
                ["企业名称", "字号名称", "主体名称"]
            ),
            col!("capital", "注册资本", Money, opt, ["注册资金", "出资额"]),
            col!("date", "成立日期", Date, req, ["登记日期", "注册日期"]),
            col!("status", "登记状态", Text, opt, ["经营状态", "状态"]),
        ]
    ),
    category!(
        "real_estate",
        "不动产登记",
        "自然资源和规划局",
        [
            col!("location", "坐落", Text, req, ["房屋坐落", "不动产坐落"]),
            col!(
                "area",
                "建筑面积",
                Count,
                req,
                ["面积", "建筑面积（平方米）"]
            ),
            col!("use", "用途", Text, opt, ["房屋用途", "规划用途"]),
            col!("date", "登记日期", Date, req, ["登簿日期", "登记时间"]),
        ]
    ),
    category!(
        "housing_subsidy",
        "住房保障",
        "住房和城乡建设局",
        [
            col!("kind", "保障方式", Text, req, ["保障类型"]),
            col!("amount", "月补贴金额", Money, opt, ["补贴金额"]),
            col!("date", "起始日期", Date, req, ["开始日期"]),
        ]
    ),
    category!(
        "vehicle",
        "机动车登记",
        "公安局交通警察支队",
        [
            col!("plate", "号牌号码", Text, req, ["车牌号", "号牌"]),
            col!("vehicle_type", "车辆类型", Text, opt, ["车型"]),
            col!("date", "初次登记日期", Date, req, ["登记日期"]),
        ]
    ),
    category!(
        "provident_fund",
        "住房公积金",
        "住房公积金管理中心",
        [
            col!("month", "缴存月份", Month, req, ["所属期"]),
            col!("deposit", "月缴存额", Money, opt, ["月缴额"]),
            col!("balance", "账户余额", Money, req, ["余额"]),
        ]
    ),
    category!(
        "bank_deposit",
        "银行存款",
        "金融机构",
        [
            col!("bank", "开户银行", Text, req, ["银行", "金融机构"]),
            col!("account", "账号", Text, opt, ["账户", "卡号"]),
            col!("balance", "余额", Money, req, ["存款余额", "账户余额"]),
            col!("date", "查询日期", Date, req, ["截止日期", "余额日期"]),
        ]
    ),
    category!(
        "securities",
        "证券持有",
        "证券登记结算机构",
        [
            col!("broker", "证券公司", Text, opt, ["托管机构"]),
            col!("account", "证券账户", Text, opt, ["账户"]),
            col!("value", "市值", Money, req, ["持有市值", "证券市值"]),
            col!("date", "查询日期", Date, req, ["截止日期"]),
        ]
    ),
    category!(
        "tax",
        "个人所得税",
        "税务局",
        [
            col!("month", "所属期", Month, req, ["税款所属期", "月份"]),
            col!("income", "收入额", Money, req, ["收入", "应税收入"]),
            col!("tax", "已缴税额", Money, opt, ["税额"]),
        ]
    ),
    category!(
        "medical_claim",
        "医疗费用结算",
        "医疗保障局",
        [
            col!("date", "结算日期", Date, req, ["出院日期", "结算时间"]),
            col!("total", "医疗总费用", Money, req, ["总费用"]),
            col!("own", "个人自付", Money, req, ["个人负担", "自付金额"]),
            col!(
                "critical",
                "大病保险支付",
                Money,
                opt,
                ["大病保险", "大病保险报销"]
            ),
            col!("diagnosis", "诊断", Text, opt, ["疾病名称", "出院诊断"]),
        ]
    ),
    category!(
        "disability",
        "残疾人证",
        "残疾人联合会",
        [
            col!("grade", "残疾等级", Count, req, ["等级"]),
            col!("kind", "残疾类别", Text, req, ["类别"]),
            col!("date", "发证日期", Date, opt, ["办证日期"]),
        ]
    ),
    category!(
        "school",
        "学籍",
        "教育和体育局",
        [
            col!("school", "学校", Text, req, ["学校名称", "就读学校"]),
            col!("stage", "学段", Text, opt, ["年级", "学历层次"]),
            col!("date", "入学日期", Date, opt, ["入学时间"]),
        ]
    ),
    category!(
        "court_enforcement",
        "法院执行",
        "人民法院",
        [
            col!("case_no", "案号", Text, req, ["执行案号"]),
            col!("amount", "执行标的", Money, opt, ["标的金额"]),
            col!("date", "立案日期", Date, req, ["立案时间"]),
        ]
    ),
    category!(
        "marriage",
        "婚姻登记",
        "民政局（婚姻登记）",
        [
            col!("change", "登记类型", Text, req, ["业务类型"]),
            col!("date", "登记日期", Date, req, ["办理日期"]),
        ]
    ),
    category!(
        "veteran",
        "优抚对象",
        "退役军人事务局",
        [
            col!("kind", "优抚类别", Text, req, ["人员类别"]),
            col!("amount", "月抚恤补助", Money, req, ["补助金额", "抚恤金"]),
        ]
    ),
    category!(
        "assistance_paid",
        "救助金发放",
        "民政局",
        [
            col!("month", "发放月份", Month, req, ["所属期"]),
            col!("program", "救助项目", Text, req, ["项目"]),
            col!("amount", "发放金额", Money, req, ["金额"]),
        ]
    ),
];

pub fn category(code: &str) -> Option<&'static Category> {
    CATEGORIES.iter().find(|c| c.code == code)
}

impl Category {
    /// The column a header names: its key, its label or an alias, ignoring spaces and full-width
    /// brackets departments add.
    pub fn column_for(&self, header: &str) -> Option<&'static Column> {
        let h: String = header
            .trim()
            .trim_start_matches('\u{feff}')
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect();
        self.columns
            .iter()
            .find(|c| c.key == h || c.label == h || c.aliases.contains(&h.as_str()))
    }
}
