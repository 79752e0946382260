//! `jiuzhu calendar`: load a year's official holiday schedule, or list the years in force.

use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::Subcommand;
use jiuzhu_services::Services;

use crate::cli_actor;

#[derive(Subcommand)]
pub enum Command {
    /// Load a schedule file in the holiday-cn JSON format (data/holidays/2026.json is one).
    Load { file: PathBuf },
    /// Show the years in force.
    List,
}

pub async fn run(services: &Services, command: Command) -> Result<()> {
    match command {
        Command::Load { file } => {
            let text = std::fs::read_to_string(&file)
                .with_context(|| format!("读取 {}", file.display()))?;
            let actor = cli_actor(services).await?;
            let year = services.calendar().load_year(&actor, &text).await?;
            println!(
                "已载入{}年节假日安排：节假日{}天，调休上班{}天",
                year.year, year.holidays, year.adjusted_workdays
            );
        }
        Command::List => {
            for y in services.calendar().years() {
                println!(
                    "{}\t节假日{}天\t调休上班{}天\t{}",
                    y.year,
                    y.holidays,
                    y.adjusted_workdays,
                    y.papers.join(" ")
                );
            }
        }
    }
    Ok(())
}
