//! `report.md`, built from the parsed `results.json` alone (plus the names of the plot files to link): what was run,
//! one table per task (mean ± 95% half-width over seeds), and the paired comparisons against the reference.

use std::fmt::Write as _;

use super::results::Results;
use crate::stats::{self, MeanCi, Paired};

/// A number with four significant digits (no exponent), `–` when not finite.
pub fn num(v: f64) -> String {
    if !v.is_finite() {
        return "–".into();
    }
    if v == 0.0 {
        return "0".into();
    }
    let decimals = (3 - v.abs().log10().floor() as i32).clamp(0, 6) as usize;
    format!("{v:.decimals$}")
}

/// `mean ± half-width (n)`; no interval for one value; `–` for none.
pub fn mean_cell(ci: &MeanCi) -> String {
    match (ci.n, ci.half_width) {
        (0, _) => "–".into(),
        (n, Some(h)) => format!("{} ± {} ({n})", num(ci.mean), num(h)),
        (n, None) => format!("{} ({n})", num(ci.mean)),
    }
}

fn p_value(p: f64) -> String {
    if p < 0.001 {
        "< 0.001".into()
    } else {
        format!("{p:.3}")
    }
}

fn signed(v: f64) -> String {
    if v > 0.0 {
        format!("+{}", num(v))
    } else {
        num(v)
    }
}

/// The whole report; `plots` are paths relative to the experiment directory; `findings` is the experiment's
/// hand-written `findings.md`, if it has one (put first, under its own heading).
pub fn render(r: &Results, plots: &[String], findings: Option<&str>) -> String {
    let mut md = format!("# Experiment `{}`\n\n", r.experiment);
    if let Some(text) = findings {
        md.push_str("## Findings (written by hand from the numbers below)\n\n");
        md.push_str(text.trim());
        md.push_str("\n\n");
    }
    summary(&mut md, r);
    what_was_run(&mut md, r);
    plot_links(&mut md, plots);
    md.push_str("## Results\n\nEach cell: mean ± half-width of the 95% confidence interval over seeds (Student's t), ");
    md.push_str("and the number of seeds with a value.\n\n");
    for t in &r.tasks {
        task_table(&mut md, r, &t.task, t.transfer);
    }
    paired_section(&mut md, r);
    md
}

/// The verdicts the tables below support, computed: which variants are above chance on the transfer tasks (the
/// 95% interval over seeds lies above the chance level), and where a variant differs significantly from the
/// reference.
fn summary(md: &mut String, r: &Results) {
    md.push_str("## Summary\n\n");
    md.push_str(
        "Transfer tasks only (retrieval the procedures do not train on; every metric there is higher-better).\n\n",
    );
    md.push_str(
        "Above chance (95% interval over seeds entirely above chance; seeds that all agree give no interval):\n\n",
    );
    for v in &r.variants {
        let mut above = Vec::new();
        for t in r.tasks.iter().filter(|t| t.transfer) {
            for (metric, setting) in r.rows(&t.task) {
                let ci = seed_ci(r, &v.name, &t.task, &metric, &setting);
                // A zero-width interval (every seed the same value) is no evidence of anything.
                if let (Some(h), Some(chance)) = (ci.half_width, r.chance(&t.task, &metric, &setting)) {
                    if h > 0.0 && ci.mean - h > chance {
                        above.push(format!("{} {metric} ({setting}): {} vs {}", t.task, num(ci.mean), num(chance)));
                    }
                }
            }
        }
        let list = if above.is_empty() { "none".to_string() } else { above.join("; ") };
        let _ = writeln!(md, "- `{}`: {list}", v.name);
    }
    let _ = writeln!(
        md,
        "\nSignificant differences from `{}` (paired over seeds, 95% interval excludes 0):\n",
        r.reference
    );
    for v in r.variants.iter().filter(|v| v.name != r.reference) {
        let mut found = Vec::new();
        for t in r.tasks.iter().filter(|t| t.transfer) {
            for (metric, setting) in r.rows(&t.task) {
                let p = paired_values(r, &v.name, &t.task, &metric, &setting);
                if let Some(test) = p.test.filter(|_| p.significant()) {
                    found.push(format!(
                        "{} {metric} ({setting}): {} [{}, {}]",
                        t.task,
                        signed(p.mean_diff),
                        signed(test.ci.0),
                        signed(test.ci.1)
                    ));
                }
            }
        }
        let list = if found.is_empty() { "none".to_string() } else { found.join("; ") };
        let _ = writeln!(md, "- `{}`: {list}", v.name);
    }
    md.push('\n');
}

fn transfer_note(transfer: bool) -> &'static str {
    if transfer {
        ""
    } else {
        " (not transfer)"
    }
}

fn what_was_run(md: &mut String, r: &Results) {
    md.push_str("## What was run\n\n| variant | procedure | arch | bidirectional | lr |\n|---|---|---|---|---|\n");
    for v in &r.variants {
        let _ = writeln!(md, "| {} | {} | {} | {} | {:e} |", v.name, v.procedure, v.arch, v.bidirectional, v.lr);
    }
    let seeds: Vec<String> = r.seeds.iter().map(u64::to_string).collect();
    let _ = write!(md, "\nSeeds: {} ({} per variant).", seeds.join(", "), r.seeds.len());
    if let Some(steps) = r.total_steps {
        let _ = write!(md, " Every run: {steps} steps");
        if let Some(tokens) = r.tokens_per_run {
            let _ = write!(md, ", {tokens} tokens");
        }
        md.push('.');
    }
    let _ = writeln!(md, " Reference: `{}`.\n", r.reference);
    if !r.lr_choice.is_empty() {
        md.push_str("Learning rates: the sweep's lowest `ppl` loss (mean over the sweep seeds) per variant.\n\n");
        md.push_str("| variant | lr | ppl loss | chosen |\n|---|---|---|---|\n");
        for c in &r.lr_choice {
            let loss = c.ppl_loss.map_or("missing".into(), num);
            let _ = writeln!(md, "| {} | {:e} | {loss} | {} |", c.procedure, c.lr, if c.chosen { "yes" } else { "" });
        }
        md.push('\n');
    }
    if r.missing.is_empty() {
        md.push_str("Every run has every result.\n\n");
    } else {
        let _ = writeln!(md, "Missing results ({} runs; left out of the tables):\n", r.missing.len());
        for m in &r.missing {
            let _ = writeln!(md, "- `{}`: {}", m.run, m.tasks.join(", "));
        }
        md.push('\n');
    }
}

fn plot_links(md: &mut String, plots: &[String]) {
    if plots.is_empty() {
        return;
    }
    md.push_str("## Plots\n\n");
    for p in plots.iter().filter(|p| p.ends_with(".png")) {
        let name = p.rsplit('/').next().unwrap_or(p).trim_end_matches(".png");
        let svg = p.replace(".png", ".svg");
        let svg = if plots.contains(&svg) { format!(" ([svg]({svg}))") } else { String::new() };
        let _ = writeln!(md, "- [{name}]({p}){svg}\n\n  ![{name}]({p})");
    }
    md.push('\n');
}

fn task_table(md: &mut String, r: &Results, task: &str, transfer: bool) {
    let rows = r.rows(task);
    if rows.is_empty() {
        return;
    }
    let _ = writeln!(md, "### {task}{}\n", transfer_note(transfer));
    let names: Vec<&str> = r.variants.iter().map(|v| v.name.as_str()).collect();
    let _ = writeln!(md, "| metric | setting | {} | chance |", names.join(" | "));
    let _ = writeln!(md, "|---|---|{}---|", "---|".repeat(names.len()));
    for (metric, setting) in &rows {
        let cells: Vec<String> = names.iter().map(|v| mean_cell(&seed_ci(r, v, task, metric, setting))).collect();
        let chance = r.chance(task, metric, setting).map_or("–".into(), num);
        let _ = writeln!(md, "| {metric} | {setting} | {} | {chance} |", cells.join(" | "));
    }
    md.push('\n');
}

/// Mean and 95% interval of `variant`'s values over its seeds.
fn seed_ci(r: &Results, variant: &str, task: &str, metric: &str, setting: &str) -> MeanCi {
    let xs: Vec<f64> = r.values(variant, task, metric, setting).into_iter().map(|(_, x)| x).collect();
    stats::mean_ci95(&xs)
}

/// `variant`'s values paired with the reference's by seed (seeds where both have one).
pub fn paired_values(r: &Results, variant: &str, task: &str, metric: &str, setting: &str) -> Paired {
    let reference = r.values(&r.reference, task, metric, setting);
    let (a, b): (Vec<f64>, Vec<f64>) = r
        .values(variant, task, metric, setting)
        .into_iter()
        .filter_map(|(seed, x)| reference.iter().find(|(s, _)| *s == seed).map(|(_, y)| (x, *y)))
        .unzip();
    stats::paired(&a, &b)
}

fn paired_section(md: &mut String, r: &Results) {
    let _ = writeln!(md, "## Paired comparison against {} (same seeds)\n", r.reference);
    md.push_str("Difference = variant − reference over the seeds where both have a value; 95% confidence interval ");
    md.push_str("and two-sided p from the paired t-test (n − 1 degrees of freedom); significant when the interval ");
    md.push_str("excludes 0. No test with fewer than two pairs or when every difference is the same.\n\n");
    for v in r.variants.iter().filter(|v| v.name != r.reference) {
        let _ = writeln!(md, "### {} − {}\n", v.name, r.reference);
        md.push_str(
            "| task | metric | setting | n | mean difference | 95% CI | p | |\n|---|---|---|---|---|---|---|---|\n",
        );
        for t in &r.tasks {
            for (metric, setting) in r.rows(&t.task) {
                let p = paired_values(r, &v.name, &t.task, &metric, &setting);
                let task = format!("{}{}", t.task, transfer_note(t.transfer));
                let _ = writeln!(md, "| {task} | {metric} | {setting} | {} | {} |", p.n, paired_cells(&p));
            }
        }
        md.push('\n');
    }
}

fn paired_cells(p: &Paired) -> String {
    match (p.n, p.test) {
        (0, _) => "– | – | – | no pairs".into(),
        (_, Some(t)) => {
            let verdict = if p.significant() { "significant" } else { "not significant" };
            let ci = format!("[{}, {}]", signed(t.ci.0), signed(t.ci.1));
            format!("{} | {ci} | {} | {verdict}", signed(p.mean_diff), p_value(t.p))
        }
        (1, None) => format!("{} | – | – | no test (one pair)", signed(p.mean_diff)),
        (_, None) => format!("{} | – | – | no test (no variance)", signed(p.mean_diff)),
    }
}
