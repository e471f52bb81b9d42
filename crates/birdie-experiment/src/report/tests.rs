//! The report on a fabricated experiment directory with known numbers.

use std::path::Path;

use birdie_eval::report::EvalReport;

use super::*;

const EXPERIMENT: &str = r#"
name = "fake"
base = "tiny-hawk-birdie"
reference = "ntp"
seeds = [0, 1, 2]
lrs = [1e-3]
[set]
total_steps = 10
data = { seq_len = 64, batch_size = 2 }
[[variants]]
name = "birdie"
procedure = "birdie"
arch = "hawk"
bidirectional = true
[[variants]]
name = "ntp"
procedure = "ntp"
arch = "hawk"
[[evals]]
task = "phonebook"
entries = [4]
[[evals]]
task = "ppl"
"#;

/// Digit accuracy per seed: birdie − ntp = 0.2, 0.1, 0.3.
const BIRDIE_DIGITS: [f64; 3] = [0.3, 0.4, 0.5];
const NTP_DIGITS: [f64; 3] = [0.1, 0.3, 0.2];

fn write_run(dir: &Path, seed: u64, digits: f64, loss: f64) {
    let mut pb = EvalReport::new("phonebook", &dir.to_string_lossy(), 0);
    pb.n = 16;
    pb.push("digit_accuracy", digits, 0.1, "entries=4, queries=1");
    pb.push("exact_match", 0.0, 0.0, "entries=4, queries=1");
    pb.push("digit_accuracy", digits, 0.1, "all");
    pb.write(&dir.join("eval/phonebook.json")).unwrap();
    let mut ppl = EvalReport::new("ppl", &dir.to_string_lossy(), 0);
    ppl.push("loss", loss, 9.011, "all");
    ppl.push("perplexity", loss.exp(), 8192.0, "all");
    ppl.write(&dir.join("eval/ppl.json")).unwrap();
    // Final validation loss: mean of 5 + seed/10 and 6 (the null arm is left out).
    let lines = [
        r#"{"step":1,"train_loss":9.0}"#.to_string(),
        r#"{"step":5,"train_loss":8.0,"eval":{"val_loss":[["a",7.0],["b",8.0]],"mixture":[0.5,0.5]}}"#.to_string(),
        format!(
            r#"{{"step":10,"train_loss":7.0,"eval":{{"val_loss":[["a",{}],["b",6.0],["c",null]],"mixture":[0.5,0.5]}}}}"#,
            5.0 + seed as f64 / 10.0
        ),
    ];
    std::fs::write(dir.join("metrics.jsonl"), lines.join("\n") + "\n").unwrap();
}

/// An experiment directory with every run trained and evaluated.
fn fake_experiment() -> tempfile::TempDir {
    let root = tempfile::tempdir().unwrap();
    std::fs::write(root.path().join("experiment.toml"), EXPERIMENT).unwrap();
    let exp = Experiment::load(&root.path().join("experiment.toml")).unwrap();
    for (i, &seed) in exp.seeds.iter().enumerate() {
        write_run(&RunSpec::new(&exp, 0, seed, 1e-3).dir(root.path()), seed, BIRDIE_DIGITS[i], 6.0 + i as f64 / 10.0);
        write_run(&RunSpec::new(&exp, 1, seed, 1e-3).dir(root.path()), seed, NTP_DIGITS[i], 6.5);
    }
    std::fs::write(RunSpec::new(&exp, 0, 0, 1e-3).dir(root.path()).join("mixture.png"), b"png").unwrap();
    root
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-9
}

#[test]
fn results_json_holds_every_number_in_order() {
    let root = fake_experiment();
    let summary = write_report(root.path()).unwrap();
    assert_eq!((summary.runs_found, summary.runs_missing), (6, 0));
    // Per run: phonebook 3, ppl 2, training 1.
    assert_eq!(summary.records, 36);
    let r = read_results(&summary.results_json).unwrap();
    assert_eq!((r.experiment.as_str(), r.reference.as_str(), r.records.len()), ("fake", "ntp", 36));
    assert_eq!((r.total_steps, r.tokens_per_run), (Some(10), Some(10 * 2 * 64)));
    assert!(r.lr_choice.is_empty() && r.missing.is_empty());
    // Variant order, then seed, then the file's task order with training last.
    let first = &r.records[0];
    assert_eq!((first.procedure.as_str(), first.seed, first.task.as_str()), ("birdie", 0, "phonebook"));
    assert_eq!((first.arch.as_str(), first.bidirectional, first.lr), ("hawk", true, 1e-3));
    let tasks: Vec<&str> = r.records[..6].iter().map(|x| x.task.as_str()).collect();
    assert_eq!(tasks, ["phonebook", "phonebook", "phonebook", "ppl", "ppl", "training"]);
    assert_eq!(r.records[18].procedure, "ntp");
    let training = r.values("birdie", "training", "final_val_loss", "all");
    assert!(close(training[2].1, (5.2 + 6.0) / 2.0), "{training:?}");
    assert_eq!(r.records[5].chance, None);
    assert_eq!(r.values("ntp", "phonebook", "digit_accuracy", "all").len(), 3);
    let raw: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&summary.results_json).unwrap()).unwrap();
    assert!(raw["records"][5]["chance"].is_null() && raw["lr_choice"].as_array().unwrap().is_empty());
}

#[test]
fn the_report_shows_means_intervals_and_the_paired_test() {
    let root = fake_experiment();
    let summary = write_report(root.path()).unwrap();
    let r = read_results(&summary.results_json).unwrap();
    let xs: Vec<f64> = r.values("birdie", "phonebook", "digit_accuracy", "all").into_iter().map(|(_, x)| x).collect();
    let ci = crate::stats::mean_ci95(&xs);
    // Mean 0.4, sd 0.1: half-width t(2) · 0.1 / √3 = 4.3027 · 0.05774 = 0.2484.
    assert!(close(ci.mean, 0.4) && (ci.half_width.unwrap() - 0.2484).abs() < 1e-4);
    let md = std::fs::read_to_string(&summary.report_md).unwrap();
    assert!(md.contains("| digit_accuracy | all | 0.4000 ± 0.2484 (3) | 0.2000 ± 0.2484 (3) | 0.1000 |"), "{md}");
    // Differences 0.2, 0.1, 0.3: t = 2√3 with 2 df, p = 1 − t / √(2 + t²) = 0.0742; the interval holds 0.
    let p = markdown::paired_values(&r, "birdie", "phonebook", "digit_accuracy", "all");
    let test = p.test.unwrap();
    assert!((test.p - (1.0 - 12f64.sqrt() / 14f64.sqrt())).abs() < 1e-9 && !p.significant(), "{p:?}");
    assert!(
        md.contains(
            "| phonebook | digit_accuracy | all | 3 | +0.2000 | [-0.04841, +0.4484] | 0.074 | not significant |"
        ),
        "{md}"
    );
    // ppl: birdie − ntp = −0.5, −0.4, −0.3: significant; ppl and training are marked as not transfer.
    assert!(md.contains("| ppl (not transfer) | loss | all | 3 | -0.4000 |") && md.contains("| significant |"), "{md}");
    assert!(md.contains("### training (not transfer)") && md.contains("## Paired comparison against ntp (same seeds)"));
    // Every exact_match difference is 0: no test.
    assert!(md.contains("no test (no variance)"), "{md}");
    for plot in ["plots/validation_loss.png", "plots/evals.png", "plots/mixture-birdie.png"] {
        assert!(root.path().join(plot).is_file() && md.contains(&format!("]({plot})")), "{plot}: {md}");
    }
    assert!(root.path().join("plots/validation_loss.svg").is_file());
    assert!(!root.path().join("plots/mixture-ntp.png").exists() && !md.contains("mixture-birdie.svg"));
}

#[test]
fn the_same_runs_give_the_same_bytes() {
    let root = fake_experiment();
    let first = write_report(root.path()).unwrap();
    let json = std::fs::read(&first.results_json).unwrap();
    let md = std::fs::read(&first.report_md).unwrap();
    let second = write_report(root.path()).unwrap();
    assert_eq!(first, second);
    assert!(json == std::fs::read(&second.results_json).unwrap() && md == std::fs::read(&second.report_md).unwrap());
}

#[test]
fn a_run_without_results_is_listed_as_missing() {
    let root = fake_experiment();
    let exp = Experiment::load(&root.path().join("experiment.toml")).unwrap();
    let ntp2 = RunSpec::new(&exp, 1, 2, 1e-3);
    std::fs::remove_dir_all(ntp2.dir(root.path()).join("eval")).unwrap();
    let summary = write_report(root.path()).unwrap();
    assert_eq!((summary.runs_found, summary.runs_missing, summary.records), (5, 1, 31));
    assert!(summary.to_string().contains("1 of 6 runs lack results (listed in report.md)"), "{summary}");
    let r = read_results(&summary.results_json).unwrap();
    assert_eq!(
        r.missing,
        vec![MissingRun {
            run: ntp2.name.clone(),
            procedure: "ntp".into(),
            seed: 2,
            tasks: vec!["phonebook".into(), "ppl".into()]
        }]
    );
    let md = std::fs::read_to_string(&summary.report_md).unwrap();
    assert!(md.contains(&format!("- `{}`: phonebook, ppl", ntp2.name)), "{md}");
    // The comparison pairs the two seeds both variants have.
    assert_eq!(markdown::paired_values(&r, "birdie", "phonebook", "digit_accuracy", "all").n, 2);
    assert!(md.contains("| 0.2000 ± 1.271 (2) |"), "{md}");
}

#[test]
fn a_malformed_eval_file_is_an_error_naming_it() {
    let root = fake_experiment();
    let exp = Experiment::load(&root.path().join("experiment.toml")).unwrap();
    let path = RunSpec::new(&exp, 0, 1, 1e-3).dir(root.path()).join("eval/ppl.json");
    std::fs::write(&path, "{\"task\": 1}").unwrap();
    let err = write_report(root.path()).unwrap_err().to_string();
    assert!(err.contains("ppl.json"), "{err}");
}

#[test]
fn the_sweep_table_shows_each_learning_rate_and_the_choice() {
    let root = fake_experiment();
    let toml = EXPERIMENT.replace("lrs = [1e-3]", "lrs = [1e-3, 3e-3]");
    std::fs::write(root.path().join("experiment.toml"), toml).unwrap();
    let exp = Experiment::load(&root.path().join("experiment.toml")).unwrap();
    for v in 0..2 {
        write_run(&RunSpec::new(&exp, v, 0, 3e-3).dir(root.path()), 0, 0.0, 7.0);
    }
    let summary = write_report(root.path()).unwrap();
    let r = read_results(&summary.results_json).unwrap();
    let choice: Vec<(&str, f64, Option<f64>, bool)> =
        r.lr_choice.iter().map(|c| (c.procedure.as_str(), c.lr, c.ppl_loss, c.chosen)).collect();
    assert_eq!(
        choice,
        [
            ("birdie", 1e-3, Some(6.0), true),
            ("birdie", 3e-3, Some(7.0), false),
            ("ntp", 1e-3, Some(6.5), true),
            ("ntp", 3e-3, Some(7.0), false)
        ]
    );
    let md = std::fs::read_to_string(&summary.report_md).unwrap();
    assert!(md.contains("| birdie | 1e-3 | 6.000 | yes |") && md.contains("| ntp | 3e-3 | 7.000 |  |"), "{md}");
}

/// The summary states which variants clear chance and which differ from the reference, from the same numbers as
/// the tables; a hand-written findings.md comes first.
#[test]
fn the_summary_computes_above_chance_and_significance_and_findings_lead() {
    let root = fake_experiment();
    std::fs::write(root.path().join("findings.md"), "Birdie copies; nothing looks up.\n").unwrap();
    let md = std::fs::read_to_string(write_report(root.path()).unwrap().report_md).unwrap();
    // birdie: 0.4 ± 0.2484 lies above 0.1; ntp: 0.2 ± 0.2484 does not.
    let above = "- `birdie`: phonebook digit_accuracy (entries=4, queries=1): 0.4000 vs 0.1000; \
                 phonebook digit_accuracy (all): 0.4000 vs 0.1000\n- `ntp`: none\n";
    assert!(md.contains(above), "{md}");
    // Differences 0.2, 0.1, 0.3: the interval [-0.048, 0.448] includes 0.
    assert!(
        md.contains("Significant differences from `ntp`") && md.contains("excludes 0):\n\n- `birdie`: none\n"),
        "{md}"
    );
    let findings = md.find("## Findings (written by hand from the numbers below)\n\nBirdie copies; nothing looks up.");
    assert!(findings.is_some_and(|f| f < md.find("## Summary").unwrap()), "{md}");
}
