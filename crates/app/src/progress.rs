//! Progress of the long jobs: a bar on a terminal, a line every few seconds in a log.

use std::io::IsTerminal;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};

pub struct Progress {
    bar: Option<ProgressBar>,
    what: &'static str,
    unit: &'static str,
    started: Instant,
    last_line: Instant,
}

impl Progress {
    /// `what` is the job ("复核"), `unit` what is counted ("户").
    pub fn new(what: &'static str, unit: &'static str) -> Progress {
        let bar = std::io::stderr().is_terminal().then(|| {
            let bar = ProgressBar::new(0);
            bar.set_style(
                ProgressStyle::with_template(
                    "{msg} [{bar:40.red/white}] {pos}/{len} 约{eta}后完成",
                )
                .expect("a valid template")
                .progress_chars("=> "),
            );
            bar.set_message(what);
            bar
        });
        Progress {
            bar,
            what,
            unit,
            started: Instant::now(),
            last_line: Instant::now(),
        }
    }

    pub fn set(&mut self, done: usize, total: usize) {
        match &self.bar {
            Some(bar) => {
                bar.set_length(total as u64);
                bar.set_position(done as u64);
            }
            None => {
                if self.last_line.elapsed() >= Duration::from_secs(5) || done == total {
                    eprintln!(
                        "{}：{done}/{total} {}（{:.0} 秒）",
                        self.what,
                        self.unit,
                        self.started.elapsed().as_secs_f64()
                    );
                    self.last_line = Instant::now();
                }
            }
        }
    }

    pub fn finish(self) {
        if let Some(bar) = self.bar {
            bar.finish_and_clear();
        }
    }
}
