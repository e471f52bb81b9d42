//! [`Lcg`]: the deterministic pseudo-random inputs of the kernel tests, the overfitting test and `birdie bench step` —
//! one 64-bit linear congruential generator (Knuth's MMIX constants), the same values on every platform and thread
//! count. Model initialisation and the data pipeline draw from seeded generators instead (`seeded`, `SampleRng`).

/// A 64-bit linear congruential generator.
#[derive(Debug, Clone)]
pub struct Lcg(pub u64);

impl Lcg {
    fn advance(&mut self) -> u64 {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        self.0
    }

    /// Uniform in [0, 1), 24 bits.
    pub fn unit(&mut self) -> f32 {
        ((self.advance() >> 40) as f32) / (1u64 << 24) as f32
    }

    /// `n` values uniform in [lo, hi).
    pub fn vec(&mut self, n: usize, lo: f32, hi: f32) -> Vec<f32> {
        (0..n).map(|_| lo + (hi - lo) * self.unit()).collect()
    }

    /// Uniform in 0..m (m > 0).
    pub fn below(&mut self, m: usize) -> usize {
        ((self.advance() >> 33) % m as u64) as usize
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_fixed_by_the_seed_and_in_range() {
        let (mut a, mut b) = (Lcg(3), Lcg(3));
        let v = a.vec(1000, -2.0, 2.0);
        assert_eq!(v, b.vec(1000, -2.0, 2.0));
        assert!(v.iter().all(|x| (-2.0..2.0).contains(x)));
        assert!((0..1000).all(|_| a.below(7) < 7));
        assert_ne!(Lcg(4).vec(8, 0.0, 1.0), Lcg(3).vec(8, 0.0, 1.0));
    }
}
