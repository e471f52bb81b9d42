//! A linear map whose weight is block-diagonal over H heads (recurrentgemma's `BlockDiagonalLinear`): the width
//! N = H·bw splits into H blocks of bw channels and each block is mapped by its own bw × bw matrix.
//!
//! ```text
//! y[.., h, j] = Σ_i x[.., h, i] · W[h, i, j] + b[h·bw + j]
//! ```
//!
//! One head (H = 1) is a dense N × N linear map with bias.

use burn::module::Param;
use burn::prelude::*;
use burn::tensor::module::linear;
use burn::tensor::Distribution;

/// Block-diagonal linear map of width `heads · block`.
#[derive(Module, Debug)]
pub struct BlockDiagonalLinear {
    /// `[heads, block, block]` (input index, then output index, as burn's `Linear`); normal, std √(1/block).
    pub weight: Param<Tensor<3>>,
    /// `[heads · block]`; zeros.
    pub bias: Param<Tensor<1>>,
}

impl BlockDiagonalLinear {
    /// `heads` blocks of `width / heads` channels.
    ///
    /// # Panics
    /// If `heads` is 0 or does not divide `width`.
    pub fn new(width: usize, heads: usize, device: &Device) -> Self {
        assert!(heads > 0 && width % heads == 0, "{heads} heads do not divide the width {width}");
        let bw = width / heads;
        BlockDiagonalLinear {
            weight: Param::from_tensor(Tensor::random(
                [heads, bw, bw],
                Distribution::Normal(0.0, (1.0 / bw as f64).sqrt()),
                device,
            )),
            bias: Param::from_tensor(Tensor::zeros([width], device)),
        }
    }

    /// Number of heads H.
    pub fn heads(&self) -> usize {
        self.weight.dims()[0]
    }

    /// `x` `[.., heads · block]` → `[.., heads · block]`.
    pub fn forward<const D: usize>(&self, x: Tensor<D>) -> Tensor<D> {
        let shape = x.dims();
        let [h, bw, _] = self.weight.dims();
        let n = h * bw;
        assert_eq!(shape[D - 1], n, "input width {} for a block-diagonal map of width {n}", shape[D - 1]);
        if h == 1 {
            // One block: burn's dense linear map (the same op as `Linear`).
            return linear(x, self.weight.val().reshape([n, n]), Some(self.bias.val()));
        }
        let rows = shape[..D - 1].iter().product::<usize>();
        let per_head = x.reshape([rows, h, bw]).swap_dims(0, 1); // [H, rows, bw]
        let y = per_head.matmul(self.weight.val()).swap_dims(0, 1).reshape([rows, n]);
        (y + self.bias.val().reshape([1, n])).reshape(shape)
    }
}

#[cfg(test)]
mod tests {
    use burn::nn::LinearConfig;
    use burn::prelude::*;

    use super::*;

    #[test]
    fn block_diagonal_equals_a_dense_linear_with_the_block_diagonal_weight() {
        let device = Device::flex();
        for (heads, bw) in [(3, 4), (1, 6)] {
            check_against_dense(heads, bw, &device);
        }
    }

    fn check_against_dense(heads: usize, bw: usize, device: &Device) {
        let n = heads * bw;
        let mut map = BlockDiagonalLinear::new(n, heads, device);
        map.bias = Param::from_tensor(Tensor::random([n], Distribution::Normal(0.0, 1.0), device));
        let w: Vec<f32> = map.weight.val().into_data().try_to_vec().unwrap();
        let mut dense_w = vec![0f32; n * n];
        for h in 0..heads {
            for i in 0..bw {
                for j in 0..bw {
                    dense_w[(h * bw + i) * n + h * bw + j] = w[(h * bw + i) * bw + j];
                }
            }
        }
        let mut dense = LinearConfig::new(n, n).init(device);
        dense.weight = Param::from_tensor(Tensor::from_data(TensorData::new(dense_w, [n, n]), device));
        dense.bias = Some(map.bias.clone());
        let x = Tensor::<3>::random([2, 5, n], Distribution::Normal(0.0, 1.0), device);
        let (got, want) = (map.forward(x.clone()), dense.forward(x));
        let err = (got - want).abs().max().into_scalar::<f32>();
        assert!(err < 1e-5, "{heads} heads: max |block-diagonal − dense| = {err}");
        assert_eq!(map.heads(), heads);
    }
}
