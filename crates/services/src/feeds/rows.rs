//! Reading a department's file into rows to store: the file is parsed on its own thread and
//! handed over in batches; each good row becomes a fact in the form it is stored in.

use std::fmt::Write as _;
use std::io::Read;

use jiuzhu_feeds::{parse_excel, Category, Fact, FeedReader, Rejection, Value};
use jiuzhu_store::{crypto_contexts, push_iso_date, FeedRejection, NewFact};

use super::Batch;
use crate::{ServiceError, Services};

/// Facts are written in groups of this many rows.
pub(super) const BATCH: usize = 5000;

/// SQLite's page cache while importing: the facts' person index of a city (ten million facts
/// make some 250 MB) stays in memory instead of being read back page by page.
pub(super) const IMPORT_CACHE_MIB: u32 = 384;

/// Account numbers are kept to their last four characters.
fn mask_account(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let keep = chars.len().min(4);
    format!(
        "****{}",
        chars[chars.len() - keep..].iter().collect::<String>()
    )
}

/// A JSON string, escaped, appended to `out`.
fn push_json_str(out: &mut String, text: &str) {
    let mut bytes = Vec::with_capacity(text.len() + 2);
    serde_json::to_writer(&mut bytes, text).expect("a string serialises");
    out.push_str(std::str::from_utf8(&bytes).expect("JSON is UTF-8"));
}

/// The row as stored: the date and amount that matter to verification in their own columns,
/// every typed value in the JSON detail (account numbers masked). Written by hand rather than
/// through a JSON map: this runs for every one of ten million rows.
pub(super) fn fact_of(services: &Services, c: &Category, f: jiuzhu_feeds::Fact) -> NewFact {
    let mut detail = String::with_capacity(128);
    detail.push_str("{\"name\":");
    push_json_str(&mut detail, &f.name);
    let (mut date, mut amount) = (None, None);
    for col in c.columns {
        let Some(v) = f.values.get(col.key) else {
            continue;
        };
        detail.push_str(",\"");
        detail.push_str(col.key);
        detail.push_str("\":");
        match v {
            Value::Date(d) | Value::Month(d) => {
                date = date.or(Some(*d));
                detail.push('"');
                push_iso_date(&mut detail, *d);
                detail.push('"');
            }
            Value::Money(fen) => {
                amount = amount.or(Some(*fen));
                let _ = write!(detail, "{fen}");
            }
            Value::Count(n) => {
                let _ = write!(detail, "{n}");
            }
            Value::Text(t) if col.key == "account" => push_json_str(&mut detail, &mask_account(t)),
            Value::Text(t) => push_json_str(&mut detail, t),
        }
    }
    detail.push('}');
    NewFact {
        row_no: f.row as i64,
        person_key: services
            .store
            .cipher()
            .blind_key(crypto_contexts::ID_NUMBER, f.id_number.expose()),
        fact_date: date,
        amount_fen: amount,
        detail,
    }
}

pub(super) fn reading_failed(reading: std::thread::JoinHandle<()>) -> ServiceError {
    let _ = reading.join();
    ServiceError::invalid("file", "读取文件时出错".to_string())
}

/// Reads a whole file (a workbook, or CSV in any encoding), says how it was encoded, then sends
/// its rows in batches until the file ends or the writer stops listening.
pub(super) fn read_file(
    services: &Services,
    c: &'static Category,
    reader: Box<dyn Read + Send>,
    today: chrono::NaiveDate,
    encoding: tokio::sync::oneshot::Sender<
        std::result::Result<jiuzhu_feeds::Encoding, jiuzhu_feeds::FeedError>,
    >,
    sender: tokio::sync::mpsc::Sender<Batch>,
) {
    let mut reader = std::io::BufReader::with_capacity(1 << 16, reader);
    let head = match std::io::BufRead::fill_buf(&mut reader) {
        Ok(h) => h,
        Err(e) => {
            let _ = encoding.send(Err(jiuzhu_feeds::FeedError::Malformed {
                row: 1,
                reason: e.to_string(),
            }));
            return;
        }
    };
    // A zip (.xlsx) or an OLE compound file (.xls) is a workbook; anything else is text.
    let excel =
        head.starts_with(b"PK\x03\x04") || head.starts_with(b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1");
    let rows: Box<dyn Iterator<Item = std::result::Result<Fact, Rejection>>> = if excel {
        let mut bytes = Vec::new();
        let parsed = match reader.read_to_end(&mut bytes) {
            Ok(_) => parse_excel(c, &bytes, today),
            Err(e) => Err(jiuzhu_feeds::FeedError::Malformed {
                row: 1,
                reason: e.to_string(),
            }),
        };
        match parsed {
            Ok(p) => {
                let _ = encoding.send(Ok(p.encoding));
                Box::new(
                    p.facts
                        .into_iter()
                        .map(Ok)
                        .chain(p.rejected.into_iter().map(Err)),
                )
            }
            Err(e) => {
                let _ = encoding.send(Err(e));
                return;
            }
        }
    } else {
        match FeedReader::new(c, reader, today) {
            Ok(r) => {
                let _ = encoding.send(Ok(r.encoding));
                Box::new(r)
            }
            Err(e) => {
                let _ = encoding.send(Err(e));
                return;
            }
        }
    };
    let mut batch = Batch {
        facts: Vec::with_capacity(BATCH),
        rejections: Vec::new(),
    };
    for row in rows {
        match row {
            Ok(f) => batch.facts.push(fact_of(services, c, f)),
            Err(r) => batch.rejections.push(FeedRejection {
                row_no: r.row as i64,
                field: r.field,
                reason: r.reason,
            }),
        }
        if batch.facts.len() == BATCH {
            let full = std::mem::replace(
                &mut batch,
                Batch {
                    facts: Vec::with_capacity(BATCH),
                    rejections: Vec::new(),
                },
            );
            if sender.blocking_send(full).is_err() {
                return;
            }
        }
    }
    let _ = sender.blocking_send(batch);
}
