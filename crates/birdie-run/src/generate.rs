//! Text generation from a trained model with the models' step mode: the prompt is the bidirectional prefix (for
//! bidirectional models), followed by the start-of-generation token; then one token at a time — greedy by default,
//! or sampled with a temperature and top-k from a seeded generator.

use birdie_core::SampleRng;
use birdie_models::{Model, ModelError};
use burn::prelude::*;
use rand::Rng;

/// Sampling settings.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Sampling {
    /// 0 = greedy.
    pub temperature: f64,
    /// Keep the k most likely tokens (0 = all).
    pub top_k: usize,
    pub seed: u64,
}

impl Default for Sampling {
    fn default() -> Self {
        Sampling { temperature: 0.0, top_k: 0, seed: 0 }
    }
}

/// The next token from `logits` (one row).
pub fn pick(logits: &[f32], s: &Sampling, rng: &mut SampleRng) -> u32 {
    let argmax = || logits.iter().enumerate().max_by(|a, b| a.1.total_cmp(b.1)).map_or(0, |(i, _)| i as u32);
    if s.temperature <= 0.0 {
        return argmax();
    }
    let mut idx: Vec<usize> = (0..logits.len()).collect();
    idx.sort_by(|&a, &b| logits[b].total_cmp(&logits[a]).then(a.cmp(&b)));
    if s.top_k > 0 {
        idx.truncate(s.top_k);
    }
    let m = logits[idx[0]] as f64;
    let w: Vec<f64> = idx.iter().map(|&i| ((logits[i] as f64 - m) / s.temperature).exp()).collect();
    let total: f64 = w.iter().sum();
    let mut u = rng.random::<f64>() * total;
    for (&i, wi) in idx.iter().zip(&w) {
        if u < *wi {
            return i as u32;
        }
        u -= wi;
    }
    idx[idx.len() - 1] as u32
}

/// Generates up to `max_tokens` after `prefix` (token ids), stopping early at any of `stop` tokens (not returned).
pub fn generate(
    model: &Model,
    prefix: &[u32],
    start_of_generation: u32,
    max_tokens: usize,
    stop: &[u32],
    sampling: &Sampling,
    device: &Device,
) -> Result<Vec<u32>, ModelError> {
    let mut prompt: Vec<i32> = prefix.iter().map(|&t| t as i32).collect();
    prompt.push(start_of_generation as i32);
    let mut rng = SampleRng::derive(sampling.seed, 0x6E4E, 0);
    let (mut logits, mut state) = model.prompt(&prompt, 1, prefix.len(), device)?;
    let mut out = Vec::new();
    for _ in 0..max_tokens {
        let row = logits.into_data().try_to_vec::<f32>().expect("f32 logits");
        let next = pick(&row, sampling, &mut rng);
        if stop.contains(&next) {
            break;
        }
        out.push(next);
        if out.len() == max_tokens {
            break;
        }
        logits = match model.step(&[next as i32], &mut state, device) {
            Ok(l) => l,
            Err(ModelError::ContextFull { .. }) => break,
            Err(e) => return Err(e),
        };
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use birdie_models::HawkConfig;

    use super::*;

    #[test]
    fn greedy_generation_follows_the_full_forward() {
        let device = Device::flex();
        let model = Model::Hawk(HawkConfig::new(30, 16, 8, 2).with_bidirectional(true).init(&device));
        let out = generate(&model, &[3, 4, 5], 2, 6, &[], &Sampling::default(), &device).unwrap();
        assert_eq!(out.len(), 6);
        // Each greedy token is the argmax of the full forward over prefix + start + the tokens so far.
        for i in 0..out.len() {
            let mut toks: Vec<i32> = vec![3, 4, 5, 2];
            toks.extend(out[..i].iter().map(|&t| t as i32));
            let n = toks.len();
            let mask: Vec<i32> = (0..n).map(|j| if j < 3 { 1 } else { 3 }).collect();
            let b = birdie_models::SequenceBatch::new(&toks, &vec![-100; n], &vec![1; n], &mask, 1, n, 4, &device);
            let logits = model.forward(&b).into_data().try_to_vec::<f32>().unwrap();
            let last = &logits[(n - 1) * 30..];
            let want = last.iter().enumerate().max_by(|a, b| a.1.total_cmp(b.1)).unwrap().0 as u32;
            assert_eq!(out[i], want, "token {i}");
        }
    }

    #[test]
    fn sampling_is_seeded_and_respects_top_k() {
        let logits = [0.0f32, 5.0, 4.9, -3.0, 4.8];
        let s = Sampling { temperature: 1.0, top_k: 2, seed: 7 };
        let mut a = SampleRng::from_seed_u64(1);
        let mut b = SampleRng::from_seed_u64(1);
        let xs: Vec<u32> = (0..200).map(|_| pick(&logits, &s, &mut a)).collect();
        let ys: Vec<u32> = (0..200).map(|_| pick(&logits, &s, &mut b)).collect();
        assert_eq!(xs, ys);
        assert!(xs.iter().all(|&t| t == 1 || t == 2));
        assert!(xs.contains(&1) && xs.contains(&2));
        assert_eq!(pick(&logits, &Sampling::default(), &mut a), 1);
    }
}
