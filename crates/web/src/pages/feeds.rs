//! Department data pages: the files imported so far, the upload form (the file goes to the JSON
//! API as it is, with the session's CSRF token), one file's rejected rows, and those rows as a
//! CSV file the department can correct and send again.

use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use jiuzhu_services::export::spreadsheet_safe;
use minijinja::context;

use crate::auth::WebUser;
use crate::error::PageError;
use crate::render::frame;
use crate::AppState;

pub async fn list(State(state): State<AppState>, user: WebUser) -> Result<Response, PageError> {
    let files = state.services.feeds().files(&user.actor).await?;
    let categories: Vec<_> = state
        .services
        .feeds().importable_categories(&user.actor)
        .into_iter()
        .map(|c| {
            let columns: Vec<String> = c
                .columns
                .iter()
                .map(|col| {
                    if col.required {
                        format!("{}*", col.label)
                    } else {
                        col.label.to_string()
                    }
                })
                .collect();
            context! { code => c.code, label => c.label, department => c.department, columns => columns.join("，") }
        })
        .collect();
    let labels: std::collections::BTreeMap<&str, &str> = jiuzhu_feeds::CATEGORIES
        .iter()
        .map(|c| (c.code, c.label))
        .collect();
    let html = state.templates.render(
        "feeds.html",
        context! { ..frame(&user, "/feeds"), ..context! { files => files, categories => categories, labels => labels }},
    )?;
    Ok(html.into_response())
}

pub async fn show(
    State(state): State<AppState>,
    user: WebUser,
    Path(id): Path<i64>,
) -> Result<Response, PageError> {
    let report = state.services.feeds().file_report(&user.actor, id).await?;
    let html = state.templates.render(
        "feed_file.html",
        context! { ..frame(&user, "/feeds"), ..context! { r => report }},
    )?;
    Ok(html.into_response())
}

/// The rejected rows as CSV (UTF-8 with a byte-order mark, so Excel opens it as such).
pub async fn rejections_csv(
    State(state): State<AppState>,
    user: WebUser,
    Path(id): Path<i64>,
) -> Result<Response, PageError> {
    let report = state.services.feeds().file_report(&user.actor, id).await?;
    let mut w = csv::Writer::from_writer(b"\xEF\xBB\xBF".to_vec());
    let written = (|| -> Result<Vec<u8>, csv::Error> {
        w.write_record(["文件", "行号", "字段", "原因"])?;
        for x in &report.rejections {
            w.write_record([
                spreadsheet_safe(&report.file.file_name).as_ref(),
                &x.row_no.to_string(),
                spreadsheet_safe(&x.field_label).as_ref(),
                spreadsheet_safe(&x.reason).as_ref(),
            ])?;
        }
        w.into_inner().map_err(|e| e.into_error().into())
    })();
    let bytes = written.map_err(|e| PageError::Render(e.to_string()))?;
    let name = format!("attachment; filename=\"rejected-{id}.csv\"");
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (header::CONTENT_DISPOSITION, name),
        ],
        bytes,
    )
        .into_response())
}
