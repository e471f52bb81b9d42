//! Choosing the next mixture (design §3.6, decisions A4, B6, B7): candidate mixtures, exploration, class-normalised
//! scores, the top-n average and a probability floor.

use rand::Rng;
use rand_distr::{Distribution, Pareto};
use serde::{Deserialize, Serialize};

use crate::SampleRng;

/// How candidate mixtures are drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CandidateKind {
    /// The paper: uniform U(0,1) vectors normalised to sum 1.
    #[default]
    Paper,
    /// The reference code: a uniform block plus three Pareto blocks (scale 5 α 3, scale 3 α 2, scale 2 α 1).
    Reference,
}

/// Arms grouped by objective kind, in order of first appearance (design §3.1 "explore classes").
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ArmClasses {
    /// Class id of each arm.
    pub class_of: Vec<usize>,
    pub num_classes: usize,
}

impl ArmClasses {
    /// Classes from each arm's kind name.
    pub fn from_kinds<S: AsRef<str>>(kinds: &[S]) -> Self {
        let mut names: Vec<&str> = Vec::new();
        let class_of = kinds
            .iter()
            .map(|k| match names.iter().position(|n| *n == k.as_ref()) {
                Some(i) => i,
                None => {
                    names.push(k.as_ref());
                    names.len() - 1
                }
            })
            .collect();
        ArmClasses { class_of, num_classes: names.len() }
    }

    pub fn num_arms(&self) -> usize {
        self.class_of.len()
    }

    /// Members of class `c`.
    pub fn members(&self, c: usize) -> Vec<usize> {
        (0..self.num_arms()).filter(|&i| self.class_of[i] == c).collect()
    }

    /// Per-arm score weight: (number of classes) / (size of the arm's class), so every class counts the same
    /// however many variants it has (design §3.6 step 5).
    pub fn weights(&self) -> Vec<f64> {
        let sizes: Vec<usize> = (0..self.num_classes).map(|c| self.members(c).len()).collect();
        self.class_of.iter().map(|&c| self.num_classes as f64 / sizes[c] as f64).collect()
    }
}

/// Normalises `v` (non-negative) to sum 1 in place; uniform when the sum is not positive (the pipeline's rule).
pub fn normalise(v: &mut [f64]) {
    let n = crate::pipeline::normalise(v);
    v.copy_from_slice(&n);
}

/// `n` candidate mixtures.
pub fn candidates(kind: CandidateKind, n: usize, k: usize, rng: &mut SampleRng) -> Vec<Vec<f64>> {
    let uniform = |rng: &mut SampleRng| -> Vec<f64> {
        let mut v: Vec<f64> = (0..k).map(|_| rng.random::<f64>()).collect();
        normalise(&mut v);
        v
    };
    match kind {
        CandidateKind::Paper => (0..n).map(|_| uniform(rng)).collect(),
        CandidateKind::Reference => {
            let block = n.div_ceil(4);
            let mut out: Vec<Vec<f64>> = (0..block).map(|_| uniform(rng)).collect();
            for (scale, alpha) in [(5.0, 3.0), (3.0, 2.0), (2.0, 1.0)] {
                let p = Pareto::new(scale, alpha).expect("valid Pareto parameters");
                for _ in 0..block {
                    let mut v: Vec<f64> = (0..k).map(|_| p.sample(rng)).collect();
                    normalise(&mut v);
                    out.push(v);
                }
            }
            out.truncate(n);
            out
        }
    }
}

/// One exploration mixture (design §3.6 step 2): pick one or two classes (with replacement); their members get random
/// weights summing to 1 within the class; every other class gets a small total `(K / max(1, K − c)) · 0.005 · c`.
pub fn explore_action(classes: &ArmClasses, rng: &mut SampleRng) -> Vec<f64> {
    let k = classes.num_arms();
    let c = rng.random_range(1..=2usize);
    let picked: Vec<usize> = (0..c).map(|_| rng.random_range(0..classes.num_classes)).collect();
    let mut v = vec![0.0; k];
    for cls in 0..classes.num_classes {
        let members = classes.members(cls);
        if picked.contains(&cls) {
            let mut w: Vec<f64> = members.iter().map(|_| rng.random::<f64>()).collect();
            normalise(&mut w);
            for (&i, wi) in members.iter().zip(w) {
                v[i] += wi;
            }
        } else {
            let total = (k as f64 / (k.saturating_sub(c)).max(1) as f64) * 0.005 * c as f64;
            for &i in &members {
                v[i] = total / members.len() as f64;
            }
        }
    }
    normalise(&mut v);
    v
}

/// Multiplies by the current losses (the optional single loss weighting, B7) and renormalises.
pub fn weight_by_loss(v: &mut [f64], losses: &[f64]) {
    for (x, l) in v.iter_mut().zip(losses) {
        *x *= l.max(0.0);
    }
    normalise(v);
}

/// Class-weighted score of each candidate's predicted per-arm rewards.
pub fn scores(predictions: &[Vec<f32>], class_weights: &[f64]) -> Vec<f64> {
    predictions.iter().map(|p| p.iter().zip(class_weights).map(|(&r, w)| r as f64 * w).sum()).collect()
}

/// Element-wise mean of the `top_n` best-scoring candidates (ties broken by candidate order).
pub fn top_n_mean(candidates: &[Vec<f64>], scores: &[f64], top_n: usize) -> Vec<f64> {
    let mut order: Vec<usize> = (0..candidates.len()).collect();
    order.sort_by(|&a, &b| scores[b].total_cmp(&scores[a]).then(a.cmp(&b)));
    let take = top_n.clamp(1, candidates.len().max(1));
    let k = candidates.first().map_or(0, Vec::len);
    let mut mean = vec![0.0; k];
    for &i in order.iter().take(take) {
        for (m, x) in mean.iter_mut().zip(&candidates[i]) {
            *m += x / take as f64;
        }
    }
    normalise(&mut mean);
    mean
}

/// Raises every arm below `floor` (at most 1/K) to it and scales the others down to keep the sum 1, repeating
/// while the scaling pushes another arm below the floor. Arms above the floor keep their ratios to each other, so
/// a decision is not shrunk towards uniform (mixing with the uniform distribution, p' = floor + (1 − K·floor)·p,
/// would halve every deviation at the default floor of 0.5/K).
pub fn apply_floor(p: &mut [f64], floor: f64) {
    let k = p.len();
    if k == 0 {
        return;
    }
    normalise(p);
    let floor = floor.clamp(0.0, 1.0 / k as f64);
    let mut fixed = vec![false; k];
    loop {
        let mut changed = false;
        for i in 0..k {
            if !fixed[i] && p[i] < floor {
                fixed[i] = true;
                changed = true;
            }
        }
        let free_mass: f64 = (0..k).filter(|&i| !fixed[i]).map(|i| p[i]).sum();
        let target = 1.0 - floor * fixed.iter().filter(|&&f| f).count() as f64;
        for i in 0..k {
            if fixed[i] {
                p[i] = floor;
            } else if free_mass > 0.0 {
                p[i] *= target / free_mass;
            }
        }
        if !changed {
            break;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds() -> Vec<&'static str> {
        vec!["plm", "inf", "inf", "inf", "ntp", "sc", "sc", "copy", "desh", "desh"]
    }

    #[test]
    fn classes_and_their_weights() {
        let c = ArmClasses::from_kinds(&kinds());
        assert_eq!(c.class_of, vec![0, 1, 1, 1, 2, 3, 3, 4, 5, 5]);
        assert_eq!(c.num_classes, 6);
        let w = c.weights();
        assert_eq!(w[0], 6.0);
        assert_eq!(w[1], 2.0);
        assert_eq!(w[5], 3.0);
        // Every class contributes num_classes in total.
        for cls in 0..6 {
            let total: f64 = c.members(cls).iter().map(|&i| w[i]).sum();
            assert!((total - 6.0).abs() < 1e-12);
        }
    }

    #[test]
    fn candidates_are_distributions() {
        let mut rng = SampleRng::from_seed_u64(1);
        for kind in [CandidateKind::Paper, CandidateKind::Reference] {
            let c = candidates(kind, 100, 7, &mut rng);
            assert_eq!(c.len(), 100);
            for v in &c {
                assert!((v.iter().sum::<f64>() - 1.0).abs() < 1e-9 && v.iter().all(|&x| x >= 0.0));
            }
        }
    }

    #[test]
    fn exploration_focuses_on_one_or_two_classes() {
        let classes = ArmClasses::from_kinds(&kinds());
        let mut rng = SampleRng::from_seed_u64(3);
        for _ in 0..50 {
            let v = explore_action(&classes, &mut rng);
            assert!((v.iter().sum::<f64>() - 1.0).abs() < 1e-9);
            let big: std::collections::BTreeSet<usize> =
                (0..v.len()).filter(|&i| v[i] > 0.02).map(|i| classes.class_of[i]).collect();
            assert!((1..=2).contains(&big.len()), "{v:?}");
        }
    }

    /// The floor raises only the arms below it; the others keep their ratios (no halving towards uniform).
    #[test]
    fn the_floor_must_not_halve_every_decision() {
        let mut p = vec![0.4, 0.3, 0.2, 0.1];
        apply_floor(&mut p, 0.125);
        let s = 0.875 / 0.9;
        let want = [0.4 * s, 0.3 * s, 0.2 * s, 0.125];
        for (x, w) in p.iter().zip(want) {
            assert!((x - w).abs() < 1e-12, "{p:?}");
        }
        // Scaling down can push a second arm under the floor: both end at the floor.
        let mut p = vec![0.79, 0.13, 0.05, 0.03];
        apply_floor(&mut p, 0.125);
        assert!((p[1] - 0.125).abs() < 1e-12 && (p[2] - 0.125).abs() < 1e-12 && (p[3] - 0.125).abs() < 1e-12);
        assert!((p.iter().sum::<f64>() - 1.0).abs() < 1e-12 && (p[0] - 0.625).abs() < 1e-12, "{p:?}");
        // A mixture already above the floor is unchanged.
        let mut p = vec![0.3, 0.3, 0.2, 0.2];
        apply_floor(&mut p, 0.125);
        for (x, w) in p.iter().zip([0.3, 0.3, 0.2, 0.2]) {
            assert!((x - w).abs() < 1e-12, "{p:?}");
        }
    }

    #[test]
    fn top_n_floor_and_weighting() {
        let cands = vec![vec![1.0, 0.0], vec![0.0, 1.0], vec![0.5, 0.5]];
        let mean = top_n_mean(&cands, &[3.0, 1.0, 2.0], 2);
        assert_eq!(mean, vec![0.75, 0.25]);
        let mut p = vec![1.0, 0.0, 0.0, 0.0];
        apply_floor(&mut p, 0.5 / 4.0);
        assert_eq!(p, vec![0.625, 0.125, 0.125, 0.125]);
        let mut v = vec![0.5, 0.5];
        weight_by_loss(&mut v, &[3.0, 1.0]);
        assert_eq!(v, vec![0.75, 0.25]);
    }
}
