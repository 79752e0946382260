//! The trace of an evaluation: every parameter read, every figure computed and every test, in
//! the order they happened, worded for the clerk who must explain the decision.

use serde::Serialize;

use crate::param::Resolved;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Step {
    /// A parameter read, with its value, effective date and source.
    Parameter(Resolved),
    /// A figure computed: `家庭月收入 = 3,000.00元（工资 ...）`.
    Value { label: String, value: String },
    /// A condition checked, with the clause that sets it.
    Test {
        label: String,
        passed: bool,
        clause: String,
    },
}

/// Where an evaluation writes its steps. The batch path uses [`NoTrace`], whose steps are never
/// built: the closures are not called and compile away.
pub trait Tracer {
    fn step(&mut self, make: impl FnOnce() -> Step);

    /// Whether reasons and notes are wanted; the batch path skips building them.
    fn explains(&self) -> bool {
        true
    }

    /// A reason or note, built only when wanted.
    fn say(&self, text: impl FnOnce() -> String) -> Option<String> {
        self.explains().then(text)
    }

    fn value(&mut self, label: &str, value: impl FnOnce() -> String) {
        self.step(|| Step::Value {
            label: label.to_string(),
            value: value(),
        });
    }

    fn test(&mut self, label: impl FnOnce() -> String, passed: bool, clause: &str) -> bool {
        self.step(|| Step::Test {
            label: label(),
            passed,
            clause: clause.to_string(),
        });
        passed
    }

    fn param(&mut self, p: &Resolved) {
        self.step(|| Step::Parameter(p.clone()));
    }
}

/// Records every step.
#[derive(Debug, Default, Clone)]
pub struct Trace(pub Vec<Step>);

impl Tracer for Trace {
    fn step(&mut self, make: impl FnOnce() -> Step) {
        self.0.push(make());
    }
}

/// Records nothing.
pub struct NoTrace;

impl Tracer for NoTrace {
    #[inline(always)]
    fn step(&mut self, _make: impl FnOnce() -> Step) {}

    #[inline(always)]
    fn explains(&self) -> bool {
        false
    }
}
