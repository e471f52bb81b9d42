//! `birdie eval all`: a fixed, quick suite — every task at a small size — whose reports are printed as one table.

use crate::dictqa::DictQaOptions;
use crate::evaluator::Evaluator;
use crate::infill::InfillOptions;
use crate::mqar::MqarOptions;
use crate::phonebook::PhonebookOptions;
use crate::ppl::PplOptions;
use crate::report::EvalReport;
use crate::selective_copying::SelectiveCopyingOptions;
use crate::{dictqa, infill, mqar, phonebook, ppl, selective_copying, EvalError};

/// The suite's task names, in run order.
pub const TASKS: [&str; 6] = ["phonebook", "mqar", "selective-copying", "infill", "dictqa", "ppl"];

/// Runs the quick suite; `progress` sees (task name, done, total).
pub fn run_all(
    ev: &mut Evaluator,
    seed: u64,
    progress: &mut dyn FnMut(&str, usize, usize),
) -> Result<Vec<EvalReport>, EvalError> {
    let mut out = Vec::new();
    let phone = PhonebookOptions { entries: vec![20], queries: vec![1, 4], n: 8, seed, ..Default::default() };
    out.push(phonebook::run(ev, &phone, &mut |d, t| progress("phonebook", d, t))?);
    let mq = MqarOptions { settings: vec![(64, 4), (128, 8)], n: 64, seed, train: None };
    out.push(mqar::run_checkpoint(ev, &mq)?);
    let sc = SelectiveCopyingOptions { spans: vec![1, 2], n: 8, seed, ..Default::default() };
    out.push(selective_copying::run(ev, &sc, &mut |d, t| progress("selective-copying", d, t))?);
    out.push(infill::run(ev, &InfillOptions { n: 24, seed }, &mut |d, t| progress("infill", d, t))?);
    let dq = DictQaOptions { entries: vec![5], n: 8, seed, ..Default::default() };
    out.push(dictqa::run(ev, &dq, &mut |d, t| progress("dictqa", d, t))?);
    out.push(ppl::run(ev, &PplOptions { max_tokens: 16_384, seed, ..Default::default() }, &mut |d, t| {
        progress("ppl", d, t)
    })?);
    Ok(out)
}
