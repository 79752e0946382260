//! Banks' batch-file layouts: the two shipped (`pipe`, `csv`) and those a bureau administrator
//! adds for the bank the bureau pays through.

use chrono::{DateTime, Utc};
use jiuzhu_domain::payment::{BankColumn, BankTemplate, FileEncoding};
use jiuzhu_domain::Permission;
use jiuzhu_store::BankTemplateRecord;
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::{Actor, Payments, Result, ServiceError};

/// A bank's layout as entered on the 银行代发模板 page or the API.
#[derive(Debug, Clone, Default, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(default)]
pub struct BankTemplateInput {
    /// Short code used to ask for it (`?layout=`), letters, digits and `_`, e.g. `abc_zjg`.
    pub code: String,
    /// Its name, e.g. 农业银行张家港支行批量代发.
    pub name: String,
    /// Columns in order: seq (序号), name (姓名), account (账号), amount (金额), id_type
    /// (证件类型), id_number (身份证号), memo (摘要).
    pub columns: Vec<String>,
    /// One character: `|`, `,`, a tab, `;`.
    pub separator: String,
    /// gbk or utf8.
    pub encoding: String,
    /// A first line `日期|单位代码|笔数|总金额`.
    pub summary_line: bool,
    /// A row of column titles before the details.
    pub header_row: bool,
    /// A 合计 row after the details.
    pub total_row: bool,
    /// Amounts in fen (integer) rather than yuan with two decimals.
    pub amount_in_fen: bool,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct BankTemplateView {
    pub code: String,
    pub name: String,
    /// Column titles in order, e.g. 序号、姓名、账号、金额.
    pub columns_label: String,
    pub separator_label: String,
    pub encoding_label: String,
    pub summary_line: bool,
    pub header_row: bool,
    pub total_row: bool,
    pub amount_label: String,
    /// Shipped with the platform (not editable).
    pub builtin: bool,
    pub created_by: Option<String>,
    pub created_at: Option<DateTime<Utc>>,
}

fn view(code: &str, name: &str, t: &BankTemplate) -> BankTemplateView {
    BankTemplateView {
        code: code.into(),
        name: name.into(),
        columns_label: t
            .columns
            .iter()
            .map(|c| c.label())
            .collect::<Vec<_>>()
            .join("、"),
        separator_label: match t.separator {
            '\t' => "制表符".into(),
            ',' => "逗号 ,".into(),
            '|' => "竖线 |".into(),
            c => format!("“{c}”"),
        },
        encoding_label: t.encoding.label().into(),
        summary_line: t.summary_line,
        header_row: t.header_row,
        total_row: t.total_row,
        amount_label: if t.amount_in_fen { "分" } else { "元" }.into(),
        builtin: true,
        created_by: None,
        created_at: None,
    }
}

const BUILTIN: [(&str, &str); 2] = [
    ("pipe", "文本格式（汇总行+竖线分隔，GBK）"),
    ("csv", "表格格式（序号、姓名、身份证号、账号、金额、摘要）"),
];

fn builtin(code: &str) -> Option<BankTemplate> {
    match code {
        "pipe" => Some(BankTemplate::pipe()),
        "csv" => Some(BankTemplate::csv()),
        _ => None,
    }
}

impl BankTemplateInput {
    fn template(&self) -> Result<BankTemplate> {
        let mut columns = Vec::new();
        for c in &self.columns {
            columns.push(
                BankColumn::from_code(c.trim())
                    .or_else(|| {
                        BankColumn::ALL
                            .iter()
                            .copied()
                            .find(|k| k.label() == c.trim())
                    })
                    .ok_or_else(|| ServiceError::invalid("columns", format!("没有“{c}”这一列")))?,
            );
        }
        let separator = match self.separator.as_str() {
            "\\t" | "tab" | "制表符" => '\t',
            s => {
                let mut chars = s.chars();
                match (chars.next(), chars.next()) {
                    (Some(c), None) => c,
                    _ => {
                        return Err(ServiceError::invalid(
                            "separator",
                            "分隔符应为一个字符，如 | 或 ,",
                        ))
                    }
                }
            }
        };
        let encoding = FileEncoding::from_code(self.encoding.trim())
            .ok_or_else(|| ServiceError::invalid("encoding", "编码应为 GBK 或 UTF-8"))?;
        let t = BankTemplate {
            columns,
            separator,
            encoding,
            summary_line: self.summary_line,
            header_row: self.header_row,
            total_row: self.total_row,
            amount_in_fen: self.amount_in_fen,
        };
        t.check()
            .map_err(|e| ServiceError::invalid(&e.field, e.why))?;
        Ok(t)
    }
}

impl Payments<'_> {
    /// The layouts one can export a roll in: the shipped two, then the bureau's own.
    pub async fn bank_templates(&self, actor: &Actor) -> Result<Vec<BankTemplateView>> {
        actor.require(Permission::ReadPeople)?;
        let mut out: Vec<BankTemplateView> = BUILTIN
            .iter()
            .map(|(code, name)| view(code, name, &builtin(code).expect("shipped")))
            .collect();
        let mut tx = self.store.begin_read().await?;
        for r in tx.bank_templates().await? {
            let t: BankTemplate = serde_json::from_str(&r.config).map_err(|e| {
                ServiceError::Internal(jiuzhu_store::StoreError::Corrupt(format!(
                    "银行模板{}：{e}",
                    r.code
                )))
            })?;
            let mut v = view(&r.code, &r.name, &t);
            v.builtin = false;
            v.created_by = Some(r.created_by);
            v.created_at = Some(r.created_at);
            out.push(v);
        }
        Ok(out)
    }

    /// Adds (or replaces) a bank's layout. Bureau administrators only; the shipped codes are
    /// kept.
    pub async fn put_bank_template(
        &self,
        actor: &Actor,
        input: &BankTemplateInput,
    ) -> Result<BankTemplateView> {
        actor.require(Permission::EditCatalogue)?;
        let code = input.code.trim();
        if code.is_empty()
            || code.len() > 32
            || !code.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
        {
            return Err(ServiceError::invalid(
                "code",
                "代码应为1至32位字母、数字或下划线",
            ));
        }
        if builtin(code).is_some() {
            return Err(ServiceError::invalid("code", "这是系统自带模板的代码"));
        }
        let name = crate::cases::text("name", &input.name, "模板名称")?;
        let template = input.template()?;
        let record = BankTemplateRecord {
            id: 0,
            code: code.to_string(),
            name: name.clone(),
            config: serde_json::to_string(&template).expect("a layout serialises"),
            created_by: actor.username.clone(),
            created_at: self.now(),
        };
        let mut tx = self.store.begin().await?;
        tx.put_bank_template(&record).await?;
        tx.append_audit(&actor.audit(
            "bank_template.put",
            "bank_template",
            0,
            None,
            json!({"code": code, "name": name, "config": record.config}),
        ))
        .await?;
        tx.commit().await?;
        let mut v = view(code, &name, &template);
        v.builtin = false;
        v.created_by = Some(actor.username.clone());
        v.created_at = Some(record.created_at);
        Ok(v)
    }

    /// The layout under a code, shipped or added.
    pub async fn bank_template(&self, code: &str) -> Result<BankTemplate> {
        if let Some(t) = builtin(code) {
            return Ok(t);
        }
        let mut tx = self.store.begin_read().await?;
        let r = tx
            .bank_templates()
            .await?
            .into_iter()
            .find(|r| r.code == code)
            .ok_or_else(|| {
                ServiceError::invalid("layout", format!("没有代码为“{code}”的银行模板"))
            })?;
        serde_json::from_str(&r.config).map_err(|e| {
            ServiceError::Internal(jiuzhu_store::StoreError::Corrupt(format!(
                "银行模板{code}：{e}"
            )))
        })
    }
}
