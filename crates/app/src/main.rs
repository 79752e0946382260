//! `jiuzhu`: serves the platform and runs its jobs.

mod bench;
mod bench_policy;
mod config;
mod evaluate;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Instant;

use anyhow::{bail, Context, Result};
use clap::{Parser, Subcommand};
use config::{Config, Overrides};
use jiuzhu_demo::DemoReport;
use jiuzhu_services::{clock, Actor, Services};
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
    Serve {
        /// Address to listen on [env: JIUZHU_BIND]
        #[arg(long)]
        bind: Option<String>,
        /// Write the demo city first when the database is empty.
        #[arg(long)]
        demo: bool,
        /// Households of that demo city.
        #[arg(long, default_value_t = 20_000)]
        demo_households: usize,
    },
    /// Create or upgrade the database schema, and exit.
    Migrate,
    /// Write a realistic synthetic city into an empty database, and exit.
    Demo {
        #[arg(long, default_value_t = 20_000)]
        households: usize,
        #[arg(long, default_value_t = 2026)]
        seed: u64,
    },
    /// Working-day calendar: load a year's official holiday schedule.
    Calendar {
        #[command(subcommand)]
        command: CalendarCommand,
    },
    /// Print a new random encryption key (Base64) for `encryption_key_file`.
    Keygen,
    /// Evaluate one household (JSON) under every program of its jurisdiction, with the trace.
    Evaluate {
        /// The household as JSON (see README, "Evaluating a household"); `-` reads standard input.
        #[arg(long)]
        input: PathBuf,
        /// Policy pack id (zhangjiagang, xiamen, ...) or division code; overrides the file's.
        #[arg(long)]
        jurisdiction: Option<String>,
        /// Month evaluated, YYYY-MM; overrides the file's.
        #[arg(long)]
        month: Option<String>,
        /// A parameter for this evaluation only: --set dibao.standard=1000 (repeatable).
        #[arg(long = "set")]
        set: Vec<String>,
        /// Print the decisions as JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// What-if: the households in the database under changed parameters, compared with the
    /// parameters in force, per program and township.
    Simulate {
        /// A change: --set dibao.standard=1500, or --set dibao.standard=+8% (repeatable).
        #[arg(long = "set", required = true)]
        set: Vec<String>,
        /// Month, YYYY-MM (this month by default).
        #[arg(long)]
        month: Option<String>,
        /// Policy pack id; the one governing the database's county by default.
        #[arg(long)]
        jurisdiction: Option<String>,
        /// Write every affected household to this CSV file.
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Import a department's feed file (CSV in UTF-8, GBK or GB18030): good rows become facts,
    /// bad rows are listed with row, field and reason; the same file twice changes nothing.
    Import {
        /// Feed category: wage, pension, social_insurance, vehicle, real_estate, bank_deposit, ...
        /// Without it, each file's category is the start of its name (`wage.csv`,
        /// `wage-2026-10.xlsx`).
        #[arg(long)]
        category: Option<String>,
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Annual or semi-annual review (复核): verify households against the department facts and
    /// write one line per household; those whose facts need a look are counted.
    Review {
        /// A file of household ids, one per line; every household of the city without it.
        #[arg(long)]
        households: Option<PathBuf>,
        /// Month reviewed, YYYY-MM (this month by default): facts of the 12 months before it.
        #[arg(long)]
        month: Option<String>,
        /// Where to write the CSV (UTF-8 with BOM).
        #[arg(long)]
        out: PathBuf,
    },
    /// Write department files (CSV, GBK and UTF-8) about the people of the database's city and
    /// other residents, with the malformed rows real files have, for demonstration and benchmarks.
    GenerateFeeds {
        #[arg(long)]
        out: PathBuf,
        /// Rows in all, over sixteen categories.
        #[arg(long, default_value_t = 100_000)]
        rows: u64,
        #[arg(long, default_value_t = 2026)]
        seed: u64,
    },
    /// Benchmarks.
    Bench {
        #[command(subcommand)]
        command: BenchCommand,
    },
}

#[derive(Subcommand)]
enum BenchCommand {
    /// Concurrent clients filing applications, then reading case pages, over HTTP against the
    /// platform served on this database (which must hold the demo city).
    Load {
        #[arg(long, default_value_t = 64)]
        clients: usize,
        /// Seconds per phase.
        #[arg(long, default_value_t = 20)]
        seconds: u64,
    },
    /// Verification of single cases against the facts in the database: the case page's 核对,
    /// one case after another, with the time each took.
    Verify {
        /// Cases 1..=N.
        #[arg(long, default_value_t = 500)]
        cases: i64,
    },
    /// The columnar batch path on a persons CSV (the OpenFisca comparison's format): writes the
    /// nine household outputs and prints phase times and totals.
    Policy {
        #[arg(long)]
        persons: PathBuf,
        #[arg(long)]
        out: PathBuf,
        #[arg(long, default_value = "2024-01")]
        month: String,
        #[arg(long, default_value = "openfisca-bench")]
        jurisdiction: String,
        /// Worker threads; 1 runs everything on one thread.
        #[arg(long, default_value_t = 1)]
        threads: usize,
        /// A parameter for this run only: --set dibao.standard=1000 (repeatable).
        #[arg(long = "set")]
        set: Vec<String>,
    },
}

#[derive(Subcommand)]
enum CalendarCommand {
    /// Load a schedule file in the holiday-cn JSON format (data/holidays/2026.json is one).
    Load { file: PathBuf },
    /// Show the years in force.
    List,
}

fn main() -> Result<()> {
    let cli = Cli::parse();
    // Commands that need no database run without starting the async runtime.
    match cli.command {
        Command::Keygen => {
            println!("{}", FieldCipher::generate_key());
            return Ok(());
        }
        Command::Evaluate {
            input,
            jurisdiction,
            month,
            set,
            json,
        } => {
            return evaluate::run(evaluate::Options {
                input,
                jurisdiction,
                month,
                set,
                json,
            })
        }
        Command::Bench {
            command:
                BenchCommand::Policy {
                    persons,
                    out,
                    month,
                    jurisdiction,
                    threads,
                    set,
                },
        } => {
            return bench_policy::run(bench_policy::Options {
                persons,
                out,
                month,
                jurisdiction,
                threads,
                set,
            })
        }
        _ => {}
    }
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?
        .block_on(run(cli))
}

async fn run(cli: Cli) -> Result<()> {
    let bind = match &cli.command {
        Command::Serve { bind, .. } => bind.clone(),
        _ => None,
    };
    let config = Config::load(
        cli.config.as_deref(),
        Overrides {
            database_url: cli.database_url.clone(),
            bind,
        },
    )?;
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_new(&config.log).unwrap_or_else(|_| "info".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let services = open(&config).await?;
    match cli.command {
        Command::Migrate => {
            println!("数据库已是最新结构（{}）", config.database_url);
        }
        Command::Demo { households, seed } => {
            let report = demo(&services, households, seed).await?;
            print_report(&report);
            demo_feeds(&services, households, seed).await?;
        }
        Command::Serve {
            demo: with_demo,
            demo_households,
            ..
        } => {
            if with_demo && services.is_empty().await? {
                let report = demo(&services, demo_households, 2026).await?;
                print_report(&report);
                demo_feeds(&services, demo_households, 2026).await?;
            }
            let addr: SocketAddr = config
                .bind
                .parse()
                .with_context(|| format!("监听地址“{}”无效", config.bind))?;
            let state = jiuzhu_web::AppState::new(
                services,
                jiuzhu_web::WebConfig {
                    secure_cookies: config.secure_cookies,
                    trust_proxy: config.trust_proxy,
                },
            );
            let listener = tokio::net::TcpListener::bind(addr)
                .await
                .with_context(|| format!("无法监听 {addr}"))?;
            println!("救助平台已启动：http://{addr}/  （Ctrl-C 停止）");
            jiuzhu_web::serve_on(state, listener).await?;
        }
        Command::Calendar {
            command: CalendarCommand::Load { file },
        } => {
            let text = std::fs::read_to_string(&file)
                .with_context(|| format!("读取 {}", file.display()))?;
            let actor = cli_actor(&services).await?;
            let year = services
                .calendar()
                .load_year(&actor, &text)
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            println!(
                "已载入{}年节假日安排：节假日{}天，调休上班{}天",
                year.year, year.holidays, year.adjusted_workdays
            );
        }
        Command::Calendar {
            command: CalendarCommand::List,
        } => {
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
        Command::Import { category, files } => {
            let actor = cli_actor(&services).await?;
            let all = Instant::now();
            let mut rows = 0;
            for file in &files {
                let code = match &category {
                    Some(c) => c.clone(),
                    None => category_of(file)?,
                };
                rows += import_one(&services, &actor, &code, file).await?;
            }
            if files.len() > 1 {
                println!(
                    "共{}个文件、{}行，用时{:.1}秒",
                    files.len(),
                    rows,
                    all.elapsed().as_secs_f64()
                );
            }
        }
        Command::Review {
            households,
            month,
            out,
        } => {
            let actor = cli_actor(&services).await?;
            let only = match households {
                Some(path) => Some(read_ids(&path)?),
                None => None,
            };
            let month = match month {
                Some(m) => jiuzhu_policy::household::parse_month(&m)
                    .map_err(|e| anyhow::anyhow!("--month：{e}"))?,
                None => clock::today(),
            };
            let review = services
                .verification()
                .review_households(&actor, only.as_deref(), month)
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            write_review(&out, &review)?;
            let attention = review
                .households
                .iter()
                .filter(|h| h.report.findings.iter().any(|f| f.attention))
                .count();
            println!(
                "复核{}：{}户，读取部门数据{}条，需关注{}户；读取用时{:.1}秒，共用时{:.1}秒；结果已写入{}",
                review.month,
                review.households.len(),
                review.facts_read,
                attention,
                review.loaded_ms as f64 / 1000.0,
                review.elapsed_ms as f64 / 1000.0,
                out.display()
            );
        }
        Command::GenerateFeeds { out, rows, seed } => {
            let actor = cli_actor(&services).await?;
            let started = Instant::now();
            let registry = services
                .feeds()
                .registry_identities(&actor)
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
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
        }
        Command::Simulate {
            set,
            month,
            jurisdiction,
            out,
        } => {
            let actor = cli_actor(&services).await?;
            let input = jiuzhu_services::policy::simulate::SimulationInput {
                month,
                jurisdiction,
                set,
                list_limit: Some(if out.is_some() { usize::MAX } else { 20 }),
            };
            let report = services
                .policy()
                .simulate(&actor, &input)
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            print!("{}", simulate_text(&report));
            if let Some(path) = out {
                write_affected(&path, &report)?;
                println!(
                    "受影响家庭清单：{}（{}行）",
                    path.display(),
                    report.affected.len()
                );
            }
        }
        Command::Bench {
            command: BenchCommand::Verify { cases },
        } => {
            let actor = cli_actor(&services).await?;
            bench::verify(services, actor, cases).await?;
        }
        Command::Bench {
            command: BenchCommand::Load { clients, seconds },
        } => {
            bench::run(services, bench::LoadOptions { clients, seconds }).await?;
        }
        Command::Keygen
        | Command::Evaluate { .. }
        | Command::Bench {
            command: BenchCommand::Policy { .. },
        } => unreachable!("handled above"),
    }
    Ok(())
}

fn simulate_text(r: &jiuzhu_services::policy::simulate::SimulationReport) -> String {
    let yuan = |fen: i64| jiuzhu_domain::Money::from_fen(fen).to_string();
    let mut s = format!(
        "{}，{}：{}户、{}人\n",
        r.jurisdiction, r.month, r.households, r.persons
    );
    for c in &r.changes {
        s.push_str(&format!("  调整 {}：{} → {}\n", c.label, c.before, c.after));
    }
    s.push_str("\n项目\t调整前户数\t调整后户数\t新增\t退出\t金额变化户\t调整前月支出(元)\t调整后月支出(元)\t变化(元)\n");
    for p in &r.programs {
        s.push_str(&format!(
            "{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\n",
            p.label,
            p.before_households,
            p.after_households,
            p.gained,
            p.lost,
            p.changed,
            yuan(p.before_monthly_fen),
            yuan(p.after_monthly_fen),
            yuan(p.after_monthly_fen - p.before_monthly_fen)
        ));
    }
    s.push_str("\n乡镇（街道）\t户数\t新增\t退出\t月支出变化(元)\n");
    for t in &r.townships {
        s.push_str(&format!(
            "{}\t{}\t{}\t{}\t{}\n",
            t.name,
            t.households,
            t.gained,
            t.lost,
            yuan(t.after_monthly_fen - t.before_monthly_fen)
        ));
    }
    s.push_str(&format!(
        "\n受影响 {} 户次；读取登记库 {} 毫秒，共用时 {} 毫秒\n",
        r.affected_total, r.loaded_ms, r.elapsed_ms
    ));
    for a in &r.assumptions {
        s.push_str(&format!("  假设：{a}\n"));
    }
    s
}

fn write_affected(
    path: &std::path::Path,
    r: &jiuzhu_services::policy::simulate::SimulationReport,
) -> Result<()> {
    use std::io::Write;
    let yuan = |fen: Option<i64>| {
        fen.map(|f| jiuzhu_domain::Money::from_fen(f).to_plain_yuan())
            .unwrap_or_default()
    };
    let mut w = std::io::BufWriter::new(
        std::fs::File::create(path).with_context(|| format!("无法写入 {}", path.display()))?,
    );
    writeln!(
        w,
        "household_id,township,program,change,before_yuan,after_yuan"
    )?;
    for a in &r.affected {
        writeln!(
            w,
            "{},{},{},{},{},{}",
            a.household_id,
            a.township,
            a.program,
            a.change,
            yuan(a.before_fen),
            yuan(a.after_fen)
        )?;
    }
    w.flush()?;
    Ok(())
}

/// Household ids, one per line (blank lines and `#` comments ignored).
fn read_ids(path: &std::path::Path) -> Result<Vec<i64>> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("无法读取 {}", path.display()))?;
    text.lines()
        .enumerate()
        .map(|(i, l)| (i, l.trim()))
        .filter(|(_, l)| !l.is_empty() && !l.starts_with('#'))
        .map(|(i, l)| {
            l.parse()
                .with_context(|| format!("{} 第{}行：“{l}”不是家庭编号", path.display(), i + 1))
        })
        .collect()
}

fn write_review(
    path: &std::path::Path,
    review: &jiuzhu_services::verification::Review,
) -> Result<()> {
    use std::io::Write;
    let yuan = |fen: i64| jiuzhu_domain::Money::from_fen(fen).to_plain_yuan();
    let mut w = std::io::BufWriter::new(
        std::fs::File::create(path).with_context(|| format!("无法写入 {}", path.display()))?,
    );
    w.write_all("\u{feff}household_id,region_code,members,declared_income_yuan,verified_income_yuan,deposits_yuan,securities_yuan,vehicles,real_estate,businesses,medical_own_costs_yuan,attention,findings\n".as_bytes())?;
    for h in &review.households {
        let r = &h.report;
        let findings: Vec<String> = r
            .findings
            .iter()
            .filter(|f| f.attention)
            .map(|f| format!("{}：{}", f.member, f.text))
            .collect();
        writeln!(
            w,
            "{},{},{},{},{},{},{},{},{},{},{},{},\"{}\"",
            h.household_id,
            h.region_code,
            h.members,
            yuan(r.declared_monthly_income_fen),
            yuan(r.verified_monthly_income_fen),
            yuan(r.deposits_fen),
            yuan(r.securities_fen),
            r.vehicles,
            r.real_estate,
            r.businesses,
            yuan(r.medical_own_costs_fen),
            findings.len(),
            findings.join("；").replace('"', "\"\"")
        )?;
    }
    w.flush()?;
    Ok(())
}

/// The category a file's name starts with: `wage.csv`, `bank_deposit-2026-10.xlsx`.
fn category_of(file: &std::path::Path) -> Result<String> {
    let name = file
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    jiuzhu_feeds::CATEGORIES
        .iter()
        .map(|c| c.code)
        .filter(|code| {
            name.strip_prefix(code)
                .is_some_and(|rest| rest.starts_with(['.', '-', '_']))
        })
        .max_by_key(|code| code.len())
        .map(str::to_string)
        .with_context(|| format!("无法从文件名“{name}”判断数据类别，请用 --category 指定"))
}

/// Imports one file and prints what happened; returns the rows read.
async fn import_one(
    services: &Services,
    actor: &Actor,
    category: &str,
    file: &std::path::Path,
) -> Result<i64> {
    let started = Instant::now();
    let r = services
        .feeds()
        .import_file(actor, category, file)
        .await
        .map_err(|e| anyhow::anyhow!("{}：{e}", file.display()))?;
    if r.already_imported {
        println!(
            "{}：该文件已于{}导入（第{}号），未作改动",
            file.display(),
            jiuzhu_services::clock::local(r.file.imported_at),
            r.file.id
        );
        return Ok(0);
    }
    println!(
        "{}（{}，{}）：接收{}行，拒收{}行，用时{:.1}秒",
        file.display(),
        r.category_label,
        r.file.encoding,
        r.file.accepted,
        r.file.rejected,
        started.elapsed().as_secs_f64()
    );
    for x in r.rejections.iter().take(20) {
        println!("  第{}行 {}：{}", x.row_no, x.field, x.reason);
    }
    if r.rejections.len() > 20 {
        println!("  ……共{}行被拒收", r.rejections.len());
    }
    Ok(r.file.accepted + r.file.rejected)
}

/// The platform acting from the command line over the database's county.
async fn cli_actor(services: &Services) -> Result<Actor> {
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
    Services::open(store)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))
}

async fn demo(services: &Services, households: usize, seed: u64) -> Result<DemoReport> {
    if households == 0 {
        bail!("--households 应大于0");
    }
    let started = Instant::now();
    let mut last = Instant::now();
    let report =
        jiuzhu_demo::generate(services, households, seed, clock::today(), |done, total| {
            if last.elapsed().as_secs() >= 5 || done == total {
                eprintln!(
                    "示范数据：{done}/{total} 户（{:.0} 秒）",
                    started.elapsed().as_secs_f64()
                );
                last = Instant::now();
            }
        })
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok(report)
}

/// Department files for the demo city (five rows a household, at most 200,000), imported as a
/// bureau would, so the 部门数据 page and verification have something to show.
async fn demo_feeds(services: &Services, households: usize, seed: u64) -> Result<()> {
    let actor = cli_actor(services).await?;
    let registry = services
        .feeds()
        .registry_identities(&actor)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let dir = std::env::temp_dir().join(format!("jiuzhu-demo-feeds-{}", std::process::id()));
    let written = jiuzhu_demo::feeds::generate(
        registry,
        &jiuzhu_demo::feeds::Options {
            out: dir.clone(),
            rows: (households as u64 * 5).clamp(1_000, 200_000),
            seed,
            county: actor.region.as_str().chars().take(6).collect(),
            today: clock::today(),
        },
    )?;
    let (mut files, mut rows) = (0, 0);
    let imported = async {
        for w in &written {
            let r = services
                .feeds()
                .import_file(&actor, w.category, &w.path)
                .await
                .map_err(|e| anyhow::anyhow!("{}：{e}", w.path.display()))?;
            files += 1;
            rows += r.file.accepted;
        }
        anyhow::Ok(())
    }
    .await;
    let _ = std::fs::remove_dir_all(&dir);
    imported?;
    println!("已导入示范部门数据：{files}个文件、{rows}行");
    Ok(())
}

fn print_report(r: &DemoReport) {
    println!(
        "已生成示范城市“{}”：{}个乡镇（街道）、{}个村（社区）、{}户、{}人、{}条收入记录、{}件救助申请，用时{:.1}秒",
        r.county,
        r.townships,
        r.villages,
        r.households,
        r.persons,
        r.incomes,
        r.cases,
        r.elapsed.as_secs_f64()
    );
    println!("示范账号（密码均为 {}）：", r.password);
    for u in &r.users {
        let dept = u
            .department
            .as_deref()
            .map(|d| format!("，{d}"))
            .unwrap_or_default();
        println!(
            "  {:<11} {}（{}，{}{}）",
            u.username,
            u.display_name,
            u.role.label(),
            u.region_name,
            dept
        );
    }
}
