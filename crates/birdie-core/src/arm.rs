//! An arm: one entry of the objective mixture (design §3.1, decision A2) — an objective kind with its typed
//! parameters (used identically for training and validation, B1), its initial probability, an optional length range
//! that limits the text a sample consumes (paper A.2), and where the paradigm token goes (paper A.6).

use birdie_data::{Paradigm, SpecialTokens, SENTINEL_COUNT};
use rand::Rng;

use crate::objectives::{
    AutoencodingObjective, AutoencodingParams, CopyingObjective, CopyingParams, DeshufflingObjective,
    DeshufflingParams, InfillingObjective, InfillingParams, NextTokenObjective, NextTokenParams, Objective,
    PrefixLmObjective, PrefixLmParams, Sample, SampleError, SelectiveCopyingObjective, SelectiveCopyingParams,
};
use crate::rng::SampleRng;

/// An objective kind with its parameters; the tag is the design §1.0 registry name.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "objective", rename_all = "snake_case")]
pub enum ObjectiveSpec {
    NextTokenPrediction(NextTokenParams),
    PrefixLanguageModeling(PrefixLmParams),
    Infilling(InfillingParams),
    Copying(CopyingParams),
    Deshuffling(DeshufflingParams),
    Autoencoding(AutoencodingParams),
    AutoencodingWithDeshuffling(AutoencodingParams),
    SelectiveCopying(SelectiveCopyingParams),
}

impl ObjectiveSpec {
    /// Every registry name, in design §1.0 order.
    pub const NAMES: [&'static str; 8] = [
        "next_token_prediction",
        "selective_copying",
        "copying",
        "deshuffling",
        "infilling",
        "autoencoding",
        "autoencoding_with_deshuffling",
        "prefix_language_modeling",
    ];

    /// The spec with default parameters for a registry name (hyphens accepted).
    pub fn default_for(name: &str) -> Option<Self> {
        Some(match name.replace('-', "_").as_str() {
            "next_token_prediction" => ObjectiveSpec::NextTokenPrediction(Default::default()),
            "prefix_language_modeling" => ObjectiveSpec::PrefixLanguageModeling(Default::default()),
            "infilling" => ObjectiveSpec::Infilling(Default::default()),
            "copying" => ObjectiveSpec::Copying(Default::default()),
            "deshuffling" => ObjectiveSpec::Deshuffling(Default::default()),
            "autoencoding" => ObjectiveSpec::Autoencoding(Default::default()),
            "autoencoding_with_deshuffling" => ObjectiveSpec::AutoencodingWithDeshuffling(Default::default()),
            "selective_copying" => ObjectiveSpec::SelectiveCopying(Default::default()),
            _ => return None,
        })
    }

    /// The registry name.
    pub fn name(&self) -> &'static str {
        match self {
            ObjectiveSpec::NextTokenPrediction(_) => "next_token_prediction",
            ObjectiveSpec::PrefixLanguageModeling(_) => "prefix_language_modeling",
            ObjectiveSpec::Infilling(_) => "infilling",
            ObjectiveSpec::Copying(_) => "copying",
            ObjectiveSpec::Deshuffling(_) => "deshuffling",
            ObjectiveSpec::Autoencoding(_) => "autoencoding",
            ObjectiveSpec::AutoencodingWithDeshuffling(_) => "autoencoding_with_deshuffling",
            ObjectiveSpec::SelectiveCopying(_) => "selective_copying",
        }
    }

    /// The paradigm token of this kind.
    pub fn paradigm(&self) -> Paradigm {
        match self {
            ObjectiveSpec::NextTokenPrediction(_) => Paradigm::NextTokenPrediction,
            ObjectiveSpec::PrefixLanguageModeling(_) => Paradigm::PrefixLanguageModeling,
            ObjectiveSpec::Infilling(_) => Paradigm::Infilling,
            ObjectiveSpec::Copying(_) => Paradigm::Copying,
            ObjectiveSpec::Deshuffling(_) => Paradigm::Deshuffling,
            ObjectiveSpec::Autoencoding(_) => Paradigm::Autoencoding,
            ObjectiveSpec::AutoencodingWithDeshuffling(_) => Paradigm::AutoencodingWithDeshuffling,
            ObjectiveSpec::SelectiveCopying(_) => Paradigm::SelectiveCopying,
        }
    }

    /// Checks parameter ranges; the error names the parameter and value.
    pub fn validate(&self) -> Result<(), ArmError> {
        let bad = |key: &str, value: String, expected: &str| {
            Err(ArmError::BadParameter { key: key.to_string(), value, expected: expected.to_string() })
        };
        let rate_ok = |r: f64| r > 0.0 && r < 1.0;
        match self {
            ObjectiveSpec::PrefixLanguageModeling(p) if !(0.0..=1.0).contains(&p.prefix_fraction) => {
                bad("prefix_fraction", p.prefix_fraction.to_string(), "a fraction in [0, 1]")
            }
            ObjectiveSpec::Deshuffling(p) if !(0.0..=1.0).contains(&p.percentage_to_shuffle) => {
                bad("percentage_to_shuffle", p.percentage_to_shuffle.to_string(), "a fraction in [0, 1]")
            }
            ObjectiveSpec::Infilling(p) => {
                if !rate_ok(p.corruption_rate) {
                    bad("corruption_rate", p.corruption_rate.to_string(), "a rate in (0, 1)")
                } else if p.mean_tokens_per_span < 1.0 {
                    bad("mean_tokens_per_span", p.mean_tokens_per_span.to_string(), "at least 1")
                } else if p.max_mask_spans == 0 || p.max_mask_spans > SENTINEL_COUNT {
                    bad("max_mask_spans", p.max_mask_spans.to_string(), "1 to 512 (the sentinel tokens available)")
                } else {
                    Ok(())
                }
            }
            ObjectiveSpec::Autoencoding(p) | ObjectiveSpec::AutoencodingWithDeshuffling(p) => {
                if !rate_ok(p.corruption_rate) {
                    bad("corruption_rate", p.corruption_rate.to_string(), "a rate in (0, 1)")
                } else if p.tokens_per_mask < 1.0 {
                    bad("tokens_per_mask", p.tokens_per_mask.to_string(), "at least 1")
                } else if p.max_mask_spans == 0 || p.max_mask_spans > SENTINEL_COUNT {
                    bad("max_mask_spans", p.max_mask_spans.to_string(), "1 to 512 (the sentinel tokens available)")
                } else if let Some(f) = p.deshuffle_fraction.filter(|f| !(0.0..=1.0).contains(f)) {
                    bad("deshuffle_fraction", f.to_string(), "a fraction in [0, 1]")
                } else {
                    Ok(())
                }
            }
            ObjectiveSpec::SelectiveCopying(p) => {
                if p.tokens_per_mask < 1.0 {
                    bad("tokens_per_mask", p.tokens_per_mask.to_string(), "at least 1")
                } else if p.min_spans == 0 || p.min_spans > p.max_spans || p.max_spans > SENTINEL_COUNT {
                    bad("min_spans/max_spans", format!("{}/{}", p.min_spans, p.max_spans), "1 ≤ min ≤ max ≤ 512")
                } else if p.min_delimiter == 0 || p.min_delimiter > p.max_delimiter {
                    bad(
                        "min_delimiter/max_delimiter",
                        format!("{}/{}", p.min_delimiter, p.max_delimiter),
                        "1 ≤ min ≤ max",
                    )
                } else {
                    Ok(())
                }
            }
            _ => Ok(()),
        }
    }

    /// Builds the objective.
    pub fn build(&self) -> Box<dyn Objective + Send + Sync> {
        match self.clone() {
            ObjectiveSpec::NextTokenPrediction(p) => Box::new(NextTokenObjective(p)),
            ObjectiveSpec::PrefixLanguageModeling(p) => Box::new(PrefixLmObjective(p)),
            ObjectiveSpec::Infilling(p) => Box::new(InfillingObjective::new(p)),
            ObjectiveSpec::Copying(p) => Box::new(CopyingObjective(p)),
            ObjectiveSpec::Deshuffling(p) => Box::new(DeshufflingObjective(p)),
            ObjectiveSpec::Autoencoding(p) => Box::new(AutoencodingObjective::new(p, false)),
            ObjectiveSpec::AutoencodingWithDeshuffling(p) => Box::new(AutoencodingObjective::new(p, true)),
            ObjectiveSpec::SelectiveCopying(p) => Box::new(SelectiveCopyingObjective::new(p)),
        }
    }
}

/// Where the paradigm token goes (paper A.6: appended instead of prepended half of the time).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ParadigmPlacement {
    /// Before the input (reference behaviour).
    #[default]
    Prefix,
    /// After the input.
    Suffix,
    /// Before or after with probability ½ each.
    Random,
}

/// Invalid arm configuration.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ArmError {
    #[error("{key} = {value}: expected {expected}")]
    BadParameter { key: String, value: String, expected: String },
}

/// One arm of the mixture, ready to make samples.
pub struct Arm {
    /// Display name (given, or the registry name).
    pub name: String,
    /// Initial (unnormalised) probability.
    pub prob: f64,
    pub spec: ObjectiveSpec,
    /// Inclusive range of text tokens a sample may consume; `None` = as much as the budget allows.
    pub length: Option<(usize, usize)>,
    pub paradigm: ParadigmPlacement,
    objective: Box<dyn Objective + Send + Sync>,
}

impl std::fmt::Debug for Arm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Arm")
            .field("name", &self.name)
            .field("prob", &self.prob)
            .field("spec", &self.spec)
            .field("length", &self.length)
            .field("paradigm", &self.paradigm)
            .finish()
    }
}

impl Clone for Arm {
    fn clone(&self) -> Self {
        Arm {
            name: self.name.clone(),
            prob: self.prob,
            spec: self.spec.clone(),
            length: self.length,
            paradigm: self.paradigm,
            objective: self.spec.build(),
        }
    }
}

impl Arm {
    /// Validates the parameters and builds the arm.
    pub fn new(
        name: Option<String>,
        prob: f64,
        spec: ObjectiveSpec,
        length: Option<(usize, usize)>,
        paradigm: ParadigmPlacement,
    ) -> Result<Self, ArmError> {
        spec.validate()?;
        if !(prob >= 0.0 && prob.is_finite()) {
            return Err(ArmError::BadParameter {
                key: "prob".into(),
                value: prob.to_string(),
                expected: "a finite probability ≥ 0".into(),
            });
        }
        if let Some((lo, hi)) = length {
            if lo == 0 || lo > hi {
                return Err(ArmError::BadParameter {
                    key: "length".into(),
                    value: format!("[{lo}, {hi}]"),
                    expected: "[min, max] with 1 ≤ min ≤ max".into(),
                });
            }
        }
        let objective = spec.build();
        Ok(Arm { name: name.unwrap_or_else(|| spec.name().to_string()), prob, spec, length, paradigm, objective })
    }

    /// An arm with default parameters.
    pub fn default_for(spec: ObjectiveSpec) -> Self {
        Arm::new(None, 1.0, spec, None, ParadigmPlacement::Prefix).expect("default parameters are valid")
    }

    /// Smallest packer budget with which this arm can succeed (paradigm token included).
    pub fn min_budget(&self) -> usize {
        1 + self.objective.min_budget()
    }

    /// Smallest packer budget with which this arm never fails for lack of space on a long enough text (paradigm
    /// token included); the pipeline draws the arm only where this much space is free.
    pub fn reliable_budget(&self) -> usize {
        1 + self.objective.reliable_budget().max(self.objective.min_budget())
    }

    /// One sample from the start of `tokens` within `budget` (input + label, paradigm token included).
    pub fn apply(
        &self,
        tokens: &[u32],
        budget: usize,
        specials: &SpecialTokens,
        rng: &mut SampleRng,
    ) -> Result<Sample, SampleError> {
        if budget < self.min_budget() {
            return Err(SampleError::NoSpace { budget, needed: self.min_budget() });
        }
        let view = match self.length {
            Some((lo, hi)) => {
                if tokens.len() < lo {
                    return Err(SampleError::TooShort { needed: lo, got: tokens.len() });
                }
                let l = rng.random_range(lo..=hi);
                &tokens[..tokens.len().min(l)]
            }
            None => tokens,
        };
        let mut sample = self.objective.apply(view, budget - 1, specials, rng)?;
        let p = specials.paradigm(self.spec.paradigm());
        let before = match self.paradigm {
            ParadigmPlacement::Prefix => true,
            ParadigmPlacement::Suffix => false,
            ParadigmPlacement::Random => rng.random_bool(0.5),
        };
        if before {
            sample.input.insert(0, p);
        } else {
            sample.input.push(p);
        }
        debug_assert!(sample.input.len() + sample.label.len() <= budget);
        Ok(sample)
    }
}

/// Runs of kept tokens of an autoencoding input (the non-empty stretches between sentinels) that are not in their
/// own slot, and how many runs there are. On a text of increasing ids (`objectives::testing::text`) the runs are in
/// their slots exactly when they appear in increasing order; shuffling permutes non-empty runs among non-empty slots,
/// so the k-th slot's own run is the k-th smallest.
#[cfg(test)]
pub(crate) fn moved_runs(input: &[u32], sentinels: &[u32]) -> (usize, usize) {
    let runs: Vec<&[u32]> = input.split(|t| sentinels.contains(t)).filter(|r| !r.is_empty()).collect();
    let mut own = runs.clone();
    own.sort();
    (runs.iter().zip(&own).filter(|(a, b)| a != b).count(), runs.len())
}

/// The share of runs moved over 20 samples of `input(seed)` (autoencoding inputs without the paradigm token) and
/// the share expected when round(fraction · runs) runs are permuted uniformly (all but one of them leave their slot
/// on average); checks that no sample moves more runs than were chosen.
#[cfg(test)]
pub(crate) fn moved_share(fraction: f64, sentinels: &[u32], input: impl Fn(u64) -> Vec<u32>) -> (f64, f64) {
    let (mut moved, mut runs, mut expected) = (0, 0, 0.0);
    for seed in 0..20 {
        let (m, n) = moved_runs(&input(seed), sentinels);
        let chosen = (fraction * n as f64).round();
        assert!(m as f64 <= chosen, "fraction {fraction}, seed {seed}: {m} of {n} runs moved, {chosen} chosen");
        moved += m;
        runs += n;
        expected += (chosen - 1.0).max(0.0);
    }
    (moved as f64 / runs as f64, expected / runs as f64)
}

/// Short names of the parameters that tell arms of one kind apart in [`labels`] (empty: the value alone). ASCII,
/// so the plots' bundled font has every glyph.
const SHORT_KEYS: [(&str, &str); 8] = [
    ("corruption_rate", "r"),
    ("mean_tokens_per_span", "span"),
    ("tokens_per_mask", "span"),
    ("percentage_to_shuffle", "shuffle"),
    ("prefix_fraction", "prefix"),
    ("format_style", ""),
    ("deshuffle_fraction", "deshuffle"),
    ("max_delimiter", "delim"),
];

/// A parameter value as a label shows it: strings bare, whole numbers without a fraction.
fn param_text(v: &serde_json::Value) -> String {
    match (v.as_str(), v.as_f64()) {
        (Some(s), _) => s.to_string(),
        (None, Some(x)) if x.fract() == 0.0 && x.abs() < 1e15 => format!("{}", x as i64),
        _ => v.to_string(),
    }
}

/// A display label per arm, for metrics, plots and progress lines: the arm's name when no other arm shares it,
/// else the name with the parameters that differ within the group of arms sharing it, e.g. `infilling(r=0.15,
/// span=3)`; arms that still coincide get `#index`.
pub fn labels(arms: &[Arm]) -> Vec<String> {
    let params = |a: &Arm| -> Vec<(String, String)> {
        let value = serde_json::to_value(&a.spec).unwrap_or_default();
        let mut out: Vec<(String, String)> = value
            .as_object()
            .map(|m| {
                m.iter().filter(|(k, _)| k.as_str() != "objective").map(|(k, v)| (k.clone(), param_text(v))).collect()
            })
            .unwrap_or_default();
        out.push(("length".into(), format!("{:?}", a.length)));
        out.push(("paradigm".into(), format!("{:?}", a.paradigm)));
        out
    };
    let all: Vec<Vec<(String, String)>> = arms.iter().map(params).collect();
    let mut out: Vec<String> = arms
        .iter()
        .enumerate()
        .map(|(i, a)| {
            let group: Vec<usize> = (0..arms.len()).filter(|&j| arms[j].name == a.name).collect();
            if group.len() == 1 {
                return a.name.clone();
            }
            let differing: Vec<String> = all[i]
                .iter()
                .filter(|(k, v)| group.iter().any(|&j| all[j].iter().any(|(k2, v2)| k2 == k && v2 != v)))
                .map(|(k, v)| match SHORT_KEYS.iter().find(|(long, _)| long == k).map_or(k.as_str(), |(_, s)| s) {
                    "" => v.clone(),
                    key => format!("{key}={v}"),
                })
                .collect();
            if differing.is_empty() {
                a.name.clone()
            } else {
                format!("{}({})", a.name, differing.join(", "))
            }
        })
        .collect();
    let repeated: Vec<bool> = out.iter().map(|l| out.iter().filter(|m| *m == l).count() > 1).collect();
    for (i, label) in out.iter_mut().enumerate() {
        if repeated[i] {
            *label = format!("{label}#{i}");
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::objectives::testing::{specials, text};

    #[test]
    fn paradigm_token_is_placed_and_budget_kept() {
        let st = specials();
        for name in ObjectiveSpec::NAMES {
            let arm = Arm::default_for(ObjectiveSpec::default_for(name).unwrap());
            let s = arm.apply(&text(2000), 512, &st, &mut SampleRng::from_seed_u64(1)).unwrap();
            assert_eq!(s.input[0], st.paradigm(arm.spec.paradigm()), "{name}");
            assert!(s.input.len() + s.label.len() <= 512, "{name}");
            assert!(!s.label.is_empty() && s.consumed > 0, "{name}");
        }
        let arm = Arm::new(None, 1.0, ObjectiveSpec::default_for("copying").unwrap(), None, ParadigmPlacement::Suffix)
            .unwrap();
        let s = arm.apply(&text(10), 512, &st, &mut SampleRng::from_seed_u64(1)).unwrap();
        assert_eq!(*s.input.last().unwrap(), st.paradigm(Paradigm::Copying));
    }

    #[test]
    fn length_range_limits_consumed_text() {
        let st = specials();
        let arm = Arm::new(
            None,
            1.0,
            ObjectiveSpec::default_for("next_token_prediction").unwrap(),
            Some((10, 20)),
            ParadigmPlacement::Prefix,
        )
        .unwrap();
        for seed in 0..20 {
            let s = arm.apply(&text(1000), 512, &st, &mut SampleRng::from_seed_u64(seed)).unwrap();
            assert!((10..=20).contains(&s.consumed));
        }
        assert!(matches!(
            arm.apply(&text(5), 512, &st, &mut SampleRng::from_seed_u64(0)),
            Err(SampleError::TooShort { needed: 10, got: 5 })
        ));
    }

    /// B3 regression: the `autoencoding_with_deshuffling` arm with default parameters shuffles the share of runs
    /// its default `deshuffle_fraction` sets (0.75, the reference's `deshuffling_percentage`). m = round(0.75 · runs)
    /// runs are permuted uniformly among their slots, so m − 1 of them leave their slot on average (a uniform
    /// permutation keeps one element in place on average) and never more than m.
    #[test]
    fn default_autoencoding_with_deshuffling_shuffles() {
        const FRACTION: f64 = 0.75;
        let st = specials();
        let arm = Arm::default_for(ObjectiveSpec::default_for("autoencoding_with_deshuffling").unwrap());
        let (measured, expected) = moved_share(FRACTION, st.sentinels(), |seed| {
            arm.apply(&text(2000), 600, &st, &mut SampleRng::from_seed_u64(seed)).unwrap().input[1..].to_vec()
        });
        // About 50 runs per sample: the runs left in place cost ≈ 1/50 of the share; their count over 20 samples has
        // a standard deviation of ≈ √20 runs, 0.005 of the ≈ 1000 runs.
        assert!((measured - expected).abs() < 0.02, "moved share {measured}, expected {expected}");
        assert!((measured - FRACTION).abs() < 0.05, "moved share {measured} against deshuffle_fraction {FRACTION}");
    }

    /// Arms of one kind are named by what tells them apart.
    #[test]
    fn labels_name_arms_by_their_parameters() {
        let arms = crate::config::preset("birdie").unwrap();
        let l = labels(&arms);
        assert_eq!(l[0], "prefix_language_modeling");
        assert_eq!(l[1], "infilling(r=0.15, span=3)");
        assert_eq!(l[5], "infilling(r=0.15, span=64)");
        assert_eq!(l[8], "selective_copying(context_query, span=16)");
        let unique: std::collections::BTreeSet<&String> = l.iter().collect();
        assert_eq!(unique.len(), l.len(), "{l:?}");
        let twins = vec![arms[7].clone(), arms[7].clone()];
        assert_eq!(labels(&twins), vec!["next_token_prediction#0", "next_token_prediction#1"]);
    }

    #[test]
    fn bad_parameters_are_named() {
        let spec = ObjectiveSpec::Infilling(InfillingParams { max_mask_spans: 600, ..Default::default() });
        let err = Arm::new(None, 1.0, spec, None, ParadigmPlacement::Prefix).unwrap_err();
        assert!(err.to_string().contains("max_mask_spans = 600"), "{err}");
    }
}
