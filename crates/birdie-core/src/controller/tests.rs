//! Protocol, persistence and distributed tests of the controller with a small deterministic reward model.

use super::simulator::{run_simulation, simulation_config, SimulatedProcess};
use super::*;

/// Per-arm least squares of reward on the mixture's own entry (reward_i ≈ w_i · p_i + b_i).
#[derive(Debug, Clone, Default)]
struct PerArmLinear {
    w: Vec<f32>,
    b: Vec<f32>,
    trained: usize,
}

impl RewardModel for PerArmLinear {
    fn train(&mut self, history: &[Vec<f32>], targets: &[Vec<f32>]) -> TrainSummary {
        let k = targets[0].len();
        self.w = vec![0.0; k];
        self.b = vec![0.0; k];
        for i in 0..k {
            let xs: Vec<f32> = history.iter().map(|r| r[k + i]).collect();
            let ys: Vec<f32> = targets.iter().map(|t| t[i]).collect();
            let n = xs.len() as f32;
            let (mx, my) = (xs.iter().sum::<f32>() / n, ys.iter().sum::<f32>() / n);
            let var: f32 = xs.iter().map(|x| (x - mx) * (x - mx)).sum();
            let cov: f32 = xs.iter().zip(&ys).map(|(x, y)| (x - mx) * (y - my)).sum();
            self.w[i] = if var > 1e-12 { cov / var } else { 0.0 };
            self.b[i] = my - self.w[i] * mx;
        }
        self.trained += 1;
        TrainSummary { iterations: 1, final_mse: 0.0 }
    }
    fn predict(&mut self, _history: &[Vec<f32>], candidates: &[Vec<f32>]) -> Vec<Vec<f32>> {
        let k = self.w.len();
        candidates.iter().map(|c| (0..k).map(|i| self.w[i] * c[k + i] + self.b[i]).collect()).collect()
    }
    fn save(&self) -> Vec<u8> {
        serde_json::to_vec(&(&self.w, &self.b, self.trained)).unwrap()
    }
    fn load(&mut self, bytes: &[u8]) -> Result<(), RewardStateError> {
        let (w, b, t) = serde_json::from_slice(bytes)
            .map_err(|e| RewardStateError::Record { part: "test state", message: e.to_string() })?;
        (self.w, self.b, self.trained) = (w, b, t);
        Ok(())
    }
}

const KINDS: [&str; 6] = ["infilling", "infilling", "copying", "deshuffling", "deshuffling", "next_token_prediction"];

fn controller(config: ControllerConfig, total: u64, seed: u64) -> Controller {
    Controller::new(config, total, &KINDS, &[1.0; 6], seed, Box::new(PerArmLinear::default())).unwrap()
}

#[test]
fn update_runs_when_the_last_loss_is_in() {
    let mut c = controller(ControllerConfig::default(), 3277, 1);
    assert!(c.is_eval_step(1) && c.is_eval_step(25) && !c.is_eval_step(2));
    assert_eq!(c.record_validation_loss(0, 5.0), Err(ControllerError::NotEvaluating { arm: 0 }));
    c.begin_evaluation(1, None);
    for arm in 0..5 {
        assert_eq!(c.record_validation_loss(arm, 6.0), Ok(None));
    }
    assert_eq!(c.record_validation_loss(0, 6.0), Err(ControllerError::Duplicate { arm: 0, step: 1 }));
    assert_eq!(c.record_validation_loss(9, 6.0), Err(ControllerError::NoSuchArm { arm: 9, arms: 6 }));
    assert!(matches!(c.record_validation_loss(5, -1.0), Err(ControllerError::BadLoss { .. })));
    let first = c.record_validation_loss(5, 6.0).unwrap().expect("update");
    assert!(first.rewards.is_none() && !first.agent);
    // Before the agent's start (step 25 here) the mixture stays uniform, but the history grows.
    c.begin_evaluation(5, None);
    let mut r = None;
    for arm in 0..6 {
        r = c.record_validation_loss(arm, 5.9 - arm as f64 * 0.01).unwrap();
    }
    let r = r.unwrap();
    assert!(r.rewards.is_some() && !r.agent);
    assert!(r.mixture.iter().all(|&p| (p - 1.0 / 6.0).abs() < 1e-12));
    assert_eq!(c.state().history.len(), 1);
    c.begin_evaluation(25, None);
    let mut r = None;
    for arm in 0..6 {
        r = c.record_validation_loss(arm, 5.8 - arm as f64 * 0.02).unwrap();
    }
    let r = r.unwrap();
    assert!(r.agent);
    assert!((r.mixture.iter().sum::<f64>() - 1.0).abs() < 1e-9);
    assert!(r.mixture.iter().all(|&p| p >= 0.5 / 6.0 - 1e-12), "floor: {:?}", r.mixture);
}

#[test]
fn saved_and_restored_controllers_make_the_same_decisions() {
    let process = SimulatedProcess::birdie(&KINDS);
    let cfg = simulation_config(&ControllerConfig::default());
    let mut a = controller(cfg.clone(), 30, 7);
    let (full, _) = run_simulation(&process, &mut a, 30, 3).unwrap();
    // Run 12 evaluations, save, restore into a fresh controller, then continue by hand with the same losses.
    let mut b = controller(cfg.clone(), 30, 7);
    let mut losses = vec![process.initial_loss; 6];
    let mut previous = b.mixture().to_vec();
    for (e, want) in full.iter().enumerate() {
        if e == 12 {
            let (state, bytes) = b.save();
            let json = serde_json::to_string(&state).unwrap();
            b = controller(cfg.clone(), 30, 7);
            b.restore(serde_json::from_str(&json).unwrap(), &bytes).unwrap();
        }
        let mut trained_on = None;
        if e > 0 {
            let p = process.trained_on(&previous, b.mixture());
            losses = process.advance(&losses, &p, e - 1, 30, 3);
            trained_on = Some(p);
        }
        previous = b.mixture().to_vec();
        b.begin_evaluation(e as u64, trained_on);
        let mut r = None;
        for (arm, &l) in losses.iter().enumerate() {
            r = b.record_validation_loss(arm, l).unwrap();
        }
        assert_eq!(r.unwrap().mixture, want.mixture, "evaluation {e}");
    }
    let mut wrong = Controller::new(cfg, 30, &KINDS[..3], &[1.0; 3], 7, Box::new(PerArmLinear::default())).unwrap();
    assert_eq!(wrong.restore(a.save().0, &a.save().1), Err(ControllerError::StateArms { got: 6, arms: 3 }));
}

#[test]
fn ranks_adopt_rank_zero_decisions() {
    let world = 3;
    let comms = LocalCollective::group(world);
    let cfg = simulation_config(&ControllerConfig::default());
    let handles: Vec<_> = comms
        .into_iter()
        .map(|comm| {
            let cfg = cfg.clone();
            std::thread::spawn(move || {
                // Each rank has its own controller (rank-dependent seed, to show only rank 0 decides).
                let mut c = controller(cfg, 10, 100 + comm.rank() as u64);
                let mut mixtures = Vec::new();
                for step in 0..6u64 {
                    // Rank r holds r+1 rows per arm with losses around 6 − step/10.
                    let local: Vec<(f64, f64)> = (0..6)
                        .map(|arm| {
                            let rows = (comm.rank() + 1) as f64;
                            let l = 6.0 - step as f64 * 0.1 - arm as f64 * 0.01 * (comm.rank() as f64 + 1.0);
                            (l * rows, rows)
                        })
                        .collect();
                    let (m, report) = distributed_evaluation(&mut c, step, &local, None, &comm);
                    assert_eq!(report.is_some(), comm.rank() == 0);
                    assert!(report.is_none_or(|r| r.is_ok()));
                    assert_eq!(c.mixture(), &m[..]);
                    mixtures.push(m);
                }
                mixtures
            })
        })
        .collect();
    let results: Vec<Vec<Vec<f64>>> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    assert!(results.iter().all(|r| r == &results[0]));
    assert_ne!(results[0][5], results[0][0], "the mixture changed");
    let reduced = reduce_losses(&[vec![(12.0, 2.0)], vec![(3.0, 1.0)]]);
    assert_eq!(reduced, vec![Some(5.0)]);
}

/// `reduce_losses` never hands NaN on: an arm without rows, or with a non-finite sum on some rank, is missing.
#[test]
fn reduce_losses_marks_missing_arms() {
    let reduced =
        reduce_losses(&[vec![(12.0, 2.0), (0.0, 0.0), (f64::NAN, 1.0)], vec![(3.0, 1.0), (0.0, 0.0), (2.0, 1.0)]]);
    assert_eq!(reduced, vec![Some(5.0), None, None]);
}

/// The history row records the mixture the interval trained on, not the one the controller set at its start.
#[test]
fn credit_for_the_mixture_actually_trained_on() {
    let mut c = controller(simulation_config(&ControllerConfig::default()), 10, 2);
    c.begin_evaluation(0, None);
    for arm in 0..6 {
        c.record_validation_loss(arm, 6.0).unwrap();
    }
    assert_eq!(c.last_evaluation_step(), Some(0));
    let trained_on = vec![0.5, 0.1, 0.1, 0.1, 0.1, 0.1];
    c.begin_evaluation(1, Some(trained_on.clone()));
    let mut r = None;
    for arm in 0..6 {
        r = c.record_validation_loss(arm, 5.9).unwrap();
    }
    let r = r.unwrap();
    let recorded = r.trained_on.unwrap();
    assert!(recorded.iter().zip(&trained_on).all(|(a, b)| (a - b).abs() < 1e-12), "{recorded:?}");
    let row = &c.state().history[0];
    for (x, want) in row[6..].iter().zip(&trained_on) {
        assert!((f64::from(*x) - want).abs() < 1e-6, "{row:?}");
    }
    // A malformed mixture is an error, not a row.
    c.begin_evaluation(2, Some(vec![1.0; 3]));
    let mut last = Ok(None);
    for arm in 0..6 {
        last = c.record_validation_loss(arm, 5.8);
    }
    assert!(matches!(last, Err(ControllerError::BadTrainedOn { .. })), "{last:?}");
}

/// A non-finite validation loss is missing: reported, no reward across it, the mixture kept, no number written
/// into the history.
#[test]
fn validation_losses_the_controller_can_trust() {
    let mut c = controller(simulation_config(&ControllerConfig::default()), 10, 2);
    let evaluate = |c: &mut Controller, step: u64, losses: &[f64]| {
        c.begin_evaluation(step, None);
        let mut r = None;
        for (arm, &l) in losses.iter().enumerate() {
            r = c.record_validation_loss(arm, l).unwrap();
        }
        r.unwrap()
    };
    evaluate(&mut c, 0, &[6.0; 6]);
    let r = evaluate(&mut c, 1, &[5.9, 5.9, 5.8, 5.9, 5.9, 5.7]);
    assert!(r.agent && c.state().history.len() == 1);
    let mixture = c.mixture().to_vec();
    let r = evaluate(&mut c, 2, &[5.8, f64::NAN, 5.7, f64::INFINITY, 5.8, 5.6]);
    assert_eq!(r.losses[1], None);
    assert_eq!(r.losses[3], None);
    assert_eq!(r.losses[0], Some(5.8));
    assert!(r.rewards.is_none() && !r.agent && r.trained_on.is_none());
    assert_eq!(c.mixture(), &mixture[..], "the mixture is kept at an evaluation with a missing loss");
    // The interval starting at the incomplete evaluation has no old losses: no row either, but the agent decides.
    let r = evaluate(&mut c, 3, &[5.7, 5.7, 5.6, 5.7, 5.7, 5.5]);
    assert!(r.rewards.is_none() && r.agent);
    assert_eq!(c.state().history.len(), 1);
    let r = evaluate(&mut c, 4, &[5.6, 5.6, 5.5, 5.6, 5.6, 5.4]);
    assert!(r.rewards.is_some());
    assert_eq!(c.state().history.len(), 2);
    assert!(c.state().history.iter().flatten().chain(c.state().targets.iter().flatten()).all(|x| x.is_finite()));
}

#[test]
fn config_defaults_and_errors() {
    let c: ControllerConfig = toml::from_str("reward = \"standardised\"\ntop_n = 4").unwrap();
    assert_eq!((c.reward, c.top_n, c.num_candidates()), (RewardKind::Standardised, 4, 2048));
    assert!(toml::from_str::<ControllerConfig>("topn = 4").is_err());
    let bad: ControllerConfig = toml::from_str("min_prob_factor = 2.0").unwrap();
    assert!(bad.validate().unwrap_err().to_string().contains("min_prob_factor"));
    let c: ControllerConfig = toml::from_str("eval_steps = [100, 20]\neval_every = 50\nagent_start = 20").unwrap();
    let s = c.schedule(1000);
    assert_eq!(s.steps_until(250), vec![20, 100, 150, 200, 250]);
    let c: ControllerConfig = toml::from_str("[exploration]\nrate_min = 0.0\nrate_max = 0.1").unwrap();
    let e = c.exploration(2000);
    assert_eq!((e.total_steps, e.rate_max, e.cook_prob), (2000, 0.1, 1.0));
}
