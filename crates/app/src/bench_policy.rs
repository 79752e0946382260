//! `jiuzhu bench policy`: the columnar batch path over a persons CSV, streamed in chunks of
//! whole households so memory stays flat whatever the file size. With `--threads N > 1`, one
//! thread reads, N work and one writes, in file order.

use std::fs::File;
use std::io::{Read, Write};
use std::path::PathBuf;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use jiuzhu_policy::batch::{self, BatchRules, Households, Totals};
use jiuzhu_policy::household::parse_month;
use jiuzhu_policy::{Overrides, PolicyBook};

/// The columnar batch path on a persons CSV (the OpenFisca comparison's format): writes the
/// nine household outputs and prints phase times and totals.
#[derive(clap::Args)]
pub struct Args {
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
}

/// Bytes read per chunk: small enough to stay in cache, large enough that per-chunk costs vanish.
const CHUNK: usize = 1 << 18;

#[derive(Default, Clone, Copy)]
struct Phases {
    /// Reading the rows into household columns (OpenFisca's CSV parse and build).
    parse: Duration,
    calc: Duration,
    format: Duration,
}

impl Phases {
    fn add(&mut self, o: &Phases) {
        self.parse += o.parse;
        self.calc += o.calc;
        self.format += o.format;
    }
}

/// The work on one chunk: rows into household columns, decide, format.
struct Worker {
    households: Households,
}

impl Worker {
    fn new() -> Worker {
        Worker {
            households: Households::default(),
        }
    }

    /// Returns the length of the output written at the start of `out`.
    fn run(
        &mut self,
        rules: &BatchRules,
        chunk: &[u8],
        first_line: u64,
        out: &mut Vec<u8>,
        totals: &mut Totals,
        phases: &mut Phases,
    ) -> Result<usize> {
        let t0 = Instant::now();
        self.households.clear();
        batch::parse_households(chunk, first_line, rules, &mut self.households)?;
        let t2 = Instant::now();
        batch::decide(&mut self.households, rules);
        let t3 = Instant::now();
        let written = batch::format(&self.households, out);
        totals.add(&self.households);
        let t4 = Instant::now();
        phases.parse += t2 - t0;
        phases.calc += t3 - t2;
        phases.format += t4 - t3;
        Ok(written)
    }
}

/// Reads the persons file as chunks of whole households, each with its first line number, into
/// one buffer that is allocated once and only grows (for a household larger than a chunk).
struct Chunks {
    file: File,
    buf: Vec<u8>,
    /// Unread data is `buf[start..end]`.
    start: usize,
    end: usize,
    line: u64,
    eof: bool,
}

impl Chunks {
    fn open(path: &PathBuf) -> Result<Chunks> {
        let file = File::open(path).with_context(|| format!("无法打开 {}", path.display()))?;
        let mut chunks = Chunks {
            file,
            buf: vec![0; CHUNK * 2],
            start: 0,
            end: 0,
            line: 1,
            eof: false,
        };
        chunks.fill()?;
        let data = &chunks.buf[..chunks.end];
        let header_end = data
            .iter()
            .position(|&b| b == b'\n')
            .context("文件没有表头行")?;
        let header = String::from_utf8_lossy(&data[..header_end]);
        let header = header.trim_end_matches('\r').trim_start_matches('\u{feff}');
        if header != batch::PERSONS_HEADER {
            bail!(
                "第1行 表头：应为“{}”，实际为“{header}”",
                batch::PERSONS_HEADER
            );
        }
        chunks.start = header_end + 1;
        chunks.line = 2;
        Ok(chunks)
    }

    /// Moves the unread data to the front and reads at least a chunk more behind it.
    fn fill(&mut self) -> Result<()> {
        if self.start > 0 {
            self.buf.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
        }
        if self.end + CHUNK > self.buf.len() {
            self.buf.resize(self.end + CHUNK, 0);
        }
        let n = self.file.read(&mut self.buf[self.end..])?;
        self.end += n;
        self.eof = n == 0;
        Ok(())
    }

    /// The next chunk of whole households (valid until the next call) and its first line
    /// number, or `None` at the end.
    fn next_slice(&mut self) -> Result<Option<(&[u8], u64)>> {
        loop {
            let available = self.end - self.start;
            if !self.eof && available < CHUNK {
                self.fill()?;
                continue;
            }
            if available == 0 {
                return Ok(None);
            }
            let data = &self.buf[self.start..self.end];
            let cut = if self.eof {
                Some(data.len())
            } else {
                batch::household_boundary(data).filter(|&c| c > 0)
            };
            let Some(cut) = cut else {
                // One household larger than what is buffered: read more.
                self.fill()?;
                continue;
            };
            let (from, first) = (self.start, self.line);
            self.start += cut;
            let chunk = &self.buf[from..from + cut];
            self.line += memchr::memchr_iter(b'\n', chunk).count() as u64;
            return Ok(Some((chunk, first)));
        }
    }

    fn next(&mut self) -> Result<Option<(Vec<u8>, u64)>> {
        Ok(self
            .next_slice()?
            .map(|(chunk, first)| (chunk.to_vec(), first)))
    }
}

pub fn run(o: Args) -> Result<()> {
    let started = Instant::now();
    let book = PolicyBook::shipped();
    let month = parse_month(&o.month)?;
    let mut overrides = Overrides::default();
    for s in &o.set {
        overrides.set_text(s)?;
    }
    let ps = book.params(&o.jurisdiction, month, &overrides)?;
    let rules = BatchRules::read(&ps)?;
    let mut out = File::create(&o.out).with_context(|| format!("无法写入 {}", o.out.display()))?;
    out.write_all(batch::HOUSEHOLDS_HEADER.as_bytes())?;
    out.write_all(b"\n")?;
    let mut chunks = Chunks::open(&o.persons)?;
    let mut totals = Totals::default();
    let mut phases = Phases::default();
    if o.threads <= 1 {
        let mut worker = Worker::new();
        let mut buf = Vec::new();
        while let Some((chunk, first)) = chunks.next_slice()? {
            let n = worker.run(&rules, chunk, first, &mut buf, &mut totals, &mut phases)?;
            out.write_all(&buf[..n])?;
        }
    } else {
        (totals, phases) = run_threads(&rules, &mut chunks, &mut out, o.threads)?;
    }
    out.flush()?;
    let wall = started.elapsed();
    let secs = |d: Duration| d.as_secs_f64();
    // With several threads the phases are summed over the workers (CPU time, not wall time).
    eprintln!(
        "{} 人，{} 户，{} 线程：解析并组户 {:.3} s，计算 {:.3} s，输出 {:.3} s，全程 {:.3} s；全程 {:.2} 百万人/秒",
        totals.persons,
        totals.households,
        o.threads.max(1),
        secs(phases.parse),
        secs(phases.calc),
        secs(phases.format),
        secs(wall),
        totals.persons as f64 / secs(wall).max(1e-9) / 1e6
    );
    eprintln!(
        "低保 {} 户，收入型 {} 户，支出型 {} 户；Σ低保金 {} 元，Σ高龄津贴 {} 元，Σ家庭收入 {} 元",
        totals.dibao_eligible,
        totals.income_poverty,
        totals.expense_poverty,
        jiuzhu_domain::Money::from_fen(totals.dibao_amount).to_plain_yuan(),
        jiuzhu_domain::Money::from_fen(totals.elderly_allowance).to_plain_yuan(),
        jiuzhu_domain::Money::from_fen(totals.household_income).to_plain_yuan(),
    );
    Ok(())
}

type Done = (u64, Vec<u8>, Totals, Phases);

/// Workers take chunks from a shared queue; the writer puts their output back in file order.
fn run_threads(
    rules: &BatchRules,
    chunks: &mut Chunks,
    out: &mut File,
    threads: usize,
) -> Result<(Totals, Phases)> {
    std::thread::scope(|scope| {
        let (work_tx, work_rx) = mpsc::sync_channel::<(u64, Vec<u8>, u64)>(threads * 2);
        let work_rx = std::sync::Arc::new(std::sync::Mutex::new(work_rx));
        let (done_tx, done_rx) = mpsc::sync_channel::<Result<Done>>(threads * 2);
        for _ in 0..threads {
            let (work_rx, done_tx) = (work_rx.clone(), done_tx.clone());
            scope.spawn(move || {
                let mut worker = Worker::new();
                let mut buf = Vec::new();
                loop {
                    let next = work_rx.lock().expect("queue lock").recv();
                    let Ok((seq, chunk, first)) = next else { break };
                    let mut totals = Totals::default();
                    let mut phases = Phases::default();
                    let r = worker
                        .run(rules, &chunk, first, &mut buf, &mut totals, &mut phases)
                        .map(|n| (seq, buf[..n].to_vec(), totals, phases));
                    if done_tx.send(r).is_err() {
                        break;
                    }
                }
            });
        }
        drop(done_tx);
        let writer = scope.spawn(move || -> Result<(Totals, Phases)> {
            let mut pending = std::collections::BTreeMap::new();
            let (mut next, mut totals, mut phases) = (0u64, Totals::default(), Phases::default());
            for r in done_rx {
                let (seq, buf, t, p) = r?;
                pending.insert(seq, buf);
                totals.merge(&t);
                phases.add(&p);
                while let Some(buf) = pending.remove(&next) {
                    out.write_all(&buf)?;
                    next += 1;
                }
            }
            Ok((totals, phases))
        });
        let mut seq = 0;
        let mut failed = None;
        loop {
            match chunks.next() {
                Ok(Some((chunk, first))) => {
                    if work_tx.send((seq, chunk, first)).is_err() {
                        break;
                    }
                    seq += 1;
                }
                Ok(None) => break,
                Err(e) => {
                    failed = Some(e);
                    break;
                }
            }
        }
        drop(work_tx);
        let result = writer.join().expect("writer thread");
        match failed {
            Some(e) => Err(e),
            None => result,
        }
    })
}
