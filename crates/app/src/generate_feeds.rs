//! `jiuzhu generate-feeds`: department files about the people of the database's city, as
//! departments send them, for demonstration and benchmarks.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::Result;
use jiuzhu_services::{clock, Services};

use crate::cli_actor;

#[derive(clap::Args)]
pub struct Args {
    #[arg(long)]
    out: PathBuf,
    /// Rows in all, over sixteen categories.
    #[arg(long, default_value_t = 100_000)]
    rows: u64,
    #[arg(long, default_value_t = 2026)]
    seed: u64,
}

pub async fn run(services: &Services, Args { out, rows, seed }: Args) -> Result<()> {
    let actor = cli_actor(services).await?;
    let started = Instant::now();
    let registry = services.feeds().registry_identities(&actor).await?;
    let county = actor.region.as_str().chars().take(6).collect();
    let written = jiuzhu_demo::feeds::generate(
        registry,
        &jiuzhu_demo::feeds::Options {
            out,
            rows,
            seed,
            county,
            today: clock::today(),
        },
    )?;
    let mut total = 0;
    for w in &written {
        println!("{}\t{}\t{}行", w.path.display(), w.category, w.rows);
        total += w.rows;
    }
    println!(
        "共{}个文件、{}行，用时{:.1}秒",
        written.len(),
        total,
        started.elapsed().as_secs_f64()
    );
    Ok(())
}
