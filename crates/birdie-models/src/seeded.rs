//! Seeded parameter initialisation.
//!
//! burn's CPU backend draws every random tensor from one process-wide generator that `Device::seed` resets. Two
//! threads that seed and initialise at the same time (parallel tests, an evaluation beside a training run) would
//! interleave their draws, and the same seed would give different parameters. [`seeded`] holds a process-wide lock
//! from the seed to the end of the initialisation, so a seed always gives the same parameters. Every initialisation
//! that must repeat goes through it.

use std::sync::Mutex;

use burn::prelude::*;

static BACKEND_RNG: Mutex<()> = Mutex::new(());

/// Runs `init` with the backend's generator seeded by `seed`, no other seeded initialisation in between.
pub fn seeded<T>(device: &Device, seed: u64, init: impl FnOnce() -> T) -> T {
    // A panic inside another initialisation leaves nothing half-done that matters here: the seed is set anew.
    let _only_one = BACKEND_RNG.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    device.seed(seed);
    init()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_seed_gives_the_same_draws_while_other_threads_draw() {
        let device = Device::flex();
        let draw = |seed| {
            seeded(&device, seed, || {
                Tensor::<1>::random([64], burn::tensor::Distribution::Default, &device).into_data().try_to_vec::<f32>()
            })
            .unwrap()
        };
        let first = draw(7);
        let others: Vec<_> = (0..4u64).map(|s| std::thread::spawn(move || draw_on(s))).collect();
        for _ in 0..8 {
            assert_eq!(draw(7), first);
        }
        for t in others {
            t.join().unwrap();
        }
        assert_ne!(draw(8), first, "another seed, other draws");
    }

    fn draw_on(seed: u64) -> Vec<f32> {
        let device = Device::flex();
        (0..8)
            .flat_map(|_| {
                seeded(&device, seed, || {
                    Tensor::<1>::random([256], burn::tensor::Distribution::Default, &device)
                        .into_data()
                        .try_to_vec::<f32>()
                        .unwrap()
                })
            })
            .collect()
    }
}
