//! The `jiuzhu` binary: the command table. Each command lives in its own file.

mod audit;
mod backup;
mod bench;
mod bench_policy;
mod calendar;
mod config;
mod demo;
mod evaluate;
mod generate_feeds;
mod import;
mod keys;
mod monitor;
mod progress;
mod review;
mod roll;
mod serve;
mod simulate;
mod user;

use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};
use config::{Config, Overrides};
use jiuzhu_services::{Actor, Services};
use jiuzhu_store::{FieldCipher, Interface, Store};

#[derive(Parser)]
#[command(
    name = "jiuzhu",
    version,
    about = "救助：社会救助综合服务平台（一门受理、协同办理）"
)]
struct Cli {
    /// Configuration file (TOML); `jiuzhu.toml` in the working directory is read when present.
    #[arg(long, global = true)]
    config: Option<PathBuf>,
    /// Database URL: sqlite://jiuzhu.db or postgres://user@host:5432/db [env: JIUZHU_DATABASE_URL]
    #[arg(long, global = true)]
    database_url: Option<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the web pages and the JSON API.
    Serve(serve::Args),
    /// Create or upgrade the database schema, and exit.
    Migrate,
    /// Write a realistic synthetic city into an empty database, and exit.
    Demo(demo::Args),
    /// Working-day calendar: load a year's official holiday schedule.
    Calendar {
        #[command(subcommand)]
        command: calendar::Command,
    },
    /// Print a new random encryption key (Base64) for `encryption_key_file`.
    Keygen,
    /// Encryption keys: add one for a rotation.
    Key {
        #[command(subcommand)]
        command: keys::Command,
    },
    /// Re-encrypt every encrypted field under the newest key and the configured cipher, while
    /// the platform serves; resumes where an interrupted run stopped.
    Rekey(keys::RekeyArgs),
    /// Evaluate one household (JSON) under every program of its jurisdiction, with the trace.
    Evaluate(evaluate::Args),
    /// What-if: the households in the database under changed parameters, compared with the
    /// parameters in force, per program and township.
    Simulate(simulate::Args),
    /// Import a department's feed file (CSV in UTF-8, GBK or GB18030): good rows become facts,
    /// bad rows are listed with row, field and reason; the same file twice changes nothing.
    Import(import::Args),
    /// Periodic review (定期复核) of those in assistance: verify and evaluate every enrolment
    /// due (or all), proposing each outcome for a reviewer to confirm.
    Review(review::ReviewArgs),
    /// Verify households against the department facts and write one line per household; those
    /// whose facts need a look are counted.
    CheckHouseholds(review::Args),
    /// Write department files (CSV, GBK and UTF-8) about the people of the database's city and
    /// other residents, with the malformed rows real files have, for demonstration and benchmarks.
    GenerateFeeds(generate_feeds::Args),
    /// Write a consistent copy of the SQLite database while it serves.
    Backup(backup::BackupArgs),
    /// Put a backup in the database's place, after checking it with the configured key.
    Restore(backup::RestoreArgs),
    /// Accounts made at installation: the system, security and audit administrators.
    User {
        #[command(subcommand)]
        command: user::Command,
    },
    /// The audit log: check its seals, or export a period for the archive.
    Audit {
        #[command(subcommand)]
        command: audit::Command,
    },
    /// The monthly roll from files: make the draft, write the bank file, import the return.
    Roll {
        #[command(subcommand)]
        command: roll::Command,
    },
    /// The month's dynamic monitoring run: graded warnings from the department facts.
    Monitor(monitor::Args),
    /// Benchmarks.
    Bench {
        #[command(subcommand)]
        command: bench::Command,
    },
}

fn main() -> Result<()> {
    let cli = Cli::parse();
    // Commands that need no database run without starting the async runtime.
    match cli.command {
        Command::Keygen => {
            println!("{}", FieldCipher::generate_key());
            Ok(())
        }
        Command::Evaluate(args) => evaluate::run(args),
        Command::Bench {
            command: bench::Command::Policy(args),
        } => bench_policy::run(args),
        _ => tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()?
            .block_on(run(cli)),
    }
}

async fn run(cli: Cli) -> Result<()> {
    let bind = match &cli.command {
        Command::Serve(args) => args.bind.clone(),
        _ => None,
    };
    let config = Config::load(
        cli.config.as_deref(),
        Overrides {
            database_url: cli.database_url.clone(),
            bind,
        },
    )?;
    let filter =
        tracing_subscriber::EnvFilter::try_new(&config.log).unwrap_or_else(|_| "info".into());
    let logs = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match config.log_format {
        config::LogFormat::Text => logs.init(),
        config::LogFormat::Json => logs.json().flatten_event(true).init(),
    }
    match cli.command {
        // The database is replaced, not opened.
        Command::Restore(args) => return backup::restore(&config, args).await,
        // Only the key file is touched.
        Command::Key { command } => return keys::run(&config, command),
        _ => {}
    }
    let services = open(&config).await?;
    match cli.command {
        Command::Migrate => {
            println!("数据库已是最新结构（{}）", config.database_url);
            Ok(())
        }
        Command::Serve(args) => serve::run(services, &config, args).await,
        Command::Demo(args) => demo::run(&services, args).await,
        Command::Calendar { command } => calendar::run(&services, command).await,
        Command::Import(args) => import::run(&services, args).await,
        Command::Review(args) => review::review(&services, args).await,
        Command::CheckHouseholds(args) => review::run(&services, args).await,
        Command::GenerateFeeds(args) => generate_feeds::run(&services, args).await,
        Command::Simulate(args) => simulate::run(&services, args).await,
        Command::Audit { command } => audit::run(&services, command).await,
        Command::Backup(args) => backup::backup(&services, args).await,
        Command::User { command } => user::run(&services, command).await,
        Command::Bench { command } => bench::run_on(services, command).await,
        Command::Roll { command } => roll::run(&services, command).await,
        Command::Monitor(args) => monitor::run(&services, args).await,
        Command::Rekey(args) => keys::rekey(&services, args).await,
        Command::Keygen | Command::Key { .. } | Command::Evaluate(_) | Command::Restore(_) => {
            unreachable!("run before the database opens")
        }
    }
}

/// The platform acting from the command line over the database's county.
pub(crate) async fn cli_actor(services: &Services) -> Result<Actor> {
    let county = services
        .regions()
        .county()
        .await?
        .context("数据库中没有区划：请先运行 jiuzhu demo 或导入区划")?;
    Ok(Actor::system(county, Interface::Cli))
}

async fn open(config: &Config) -> Result<Services> {
    let cipher = config.cipher()?;
    let store = Store::connect(&config.database_url, cipher)
        .await
        .with_context(|| format!("无法连接数据库 {}", config.database_url))?;
    Ok(Services::open(store).await?)
}
