//! How a loss turns its per-element values into one number.

use crate::backends::kernels;
use crate::mechanics::gradient::Constant;
use crate::mechanics::gradient::needs_gradient;
use burn::config::Config;
use burn::empty;
use burn::tensor::Tensor;
use burn::tensor::backend::Backend;

/// The reduction applied by `forward`; `forward_no_reduction` returns the unreduced losses.
///
/// | variant | value | PyTorch |
/// |---|---|---|
/// | `Mean` | the loss's own mean (the weighted mean over non-ignored targets for class-index cross entropy and NLL) | `'mean'` |
/// | `Sum` | the sum of the unreduced losses | `'sum'` |
/// | `BatchMean` | the sum divided by the size of dimension 0 of the first input | `'batchmean'` of `kl_div` |
///
/// A mean over zero valid elements (every target ignored) is `0` with a zero gradient, where
/// PyTorch gives NaN: one fully padded batch must not poison training.
#[derive(Config, Debug, Copy, PartialEq, Eq)]
pub enum Reduction {
    /// The loss's mean (PyTorch's `'mean'`).
    Mean,
    /// The sum of the unreduced losses.
    Sum,
    /// The sum divided by the batch size (dimension 0 of the first input).
    BatchMean,
}

// `#[derive(Default)]` cannot be used: `Config` copies the variants' attributes into generated
// code where `#[default]` is unknown.
#[allow(clippy::derivable_impls)]
impl Default for Reduction {
    fn default() -> Self {
        Reduction::Mean
    }
}

// Lets a loss keep its reduction as a plain field of its `Module`: a constant, not a parameter.
burn::empty!(Reduction);

impl Reduction {
    /// Reduces `losses` whose plain mean divides by the element count.
    pub(crate) fn reduce<B: Backend, const D: usize>(
        self,
        losses: Tensor<B, D>,
        batch_size: usize,
    ) -> Tensor<B, 1> {
        let count = losses.shape().num_elements();
        self.reduce_with_normalizer(losses, batch_size, count as f64)
    }

    /// The factor a reduction multiplies the sum by: 1, `1 / mean_normalizer` or `1 / batch_size`.
    pub(crate) fn factor(self, mean_normalizer: f64, batch_size: usize) -> f64 {
        match self {
            Reduction::Sum => 1.0,
            Reduction::Mean => 1.0 / mean_normalizer,
            Reduction::BatchMean => 1.0 / batch_size as f64,
        }
    }

    /// Reduces `losses` whose mean divides by `mean_normalizer` (the element count, or a
    /// sample count when a loss averages a dimension itself).
    pub(crate) fn reduce_with_normalizer<B: Backend, const D: usize>(
        self,
        losses: Tensor<B, D>,
        batch_size: usize,
        mean_normalizer: f64,
    ) -> Tensor<B, 1> {
        sum(losses) * self.factor(mean_normalizer, batch_size)
    }

    /// Reduces `losses` whose mean is a weighted mean: the sum over valid elements divided by
    /// `total_weight` (a one-element tensor). Zero valid elements give a mean of 0.
    pub(crate) fn reduce_weighted<B: Backend, const D: usize>(
        self,
        losses: Tensor<B, D>,
        batch_size: usize,
        total_weight: Tensor<B, 1>,
        valid_count: Tensor<B, 1>,
    ) -> Tensor<B, 1> {
        match self {
            Reduction::Mean => {
                // Every loss term is masked to 0 when nothing is valid, so dividing by 1
                // instead of 0 yields the documented 0 without touching a real zero total weight.
                let nothing_valid = valid_count.equal_elem(0.0);
                let denominator = total_weight.mask_fill(nothing_valid, 1.0);
                sum(losses).div(denominator.constant())
            }
            other => other.reduce(losses, batch_size),
        }
    }
}

/// Elements summed by one backend `sum` before the partial sums are summed the same way.
const SUM_BLOCK: usize = 256;

/// The sum of every element of `values`, accurate at any size: blocks of [`SUM_BLOCK`]
/// elements are summed by the backend, then their sums, level by level (a blocked pairwise
/// sum, `log_256 n` levels). A backend's plain `sum` may run one accumulator through all `n`
/// elements (NdArray's does): in f32 it stops taking in digits once the total dwarfs each term,
/// 3% off for the mean of 1.3·10^8 squared errors, where this stays within ~1e-7 (issue 13).
/// The blocks are reshaped views of the flattened tensor, and the extra sums are `n / 255`
/// elements in all. On NdArray, whose reshape copies the buffer, untracked values are summed in
/// place by the NdArray kernel (`crate::backends::kernels::sum`) (blocks of 4096 across threads, their totals in
/// f64).
pub(crate) fn sum<B: Backend, const D: usize>(values: Tensor<B, D>) -> Tensor<B, 1> {
    if !needs_gradient(&values)
        && let Some(total) = kernels::sum(&values)
    {
        return total;
    }
    let count = values.shape().num_elements();
    if count > SUM_BLOCK && count.is_multiple_of(SUM_BLOCK) {
        // Straight to the blocks: one reshape where flattening first would be two (each a copy
        // on NdArray).
        let blocks = count / SUM_BLOCK;
        let block_sums = values.reshape([blocks, SUM_BLOCK]).sum_dim(1);
        return blocked_sum(block_sums.reshape([blocks]), blocks);
    }
    blocked_sum(values.flatten(0, D - 1), count)
}

fn blocked_sum<B: Backend>(values: Tensor<B, 1>, count: usize) -> Tensor<B, 1> {
    if count <= SUM_BLOCK {
        return values.sum();
    }
    let blocks = count / SUM_BLOCK;
    let whole = blocks * SUM_BLOCK;
    let (head, tail) = if whole == count {
        (values, None)
    } else {
        (
            values.clone().slice(0..whole),
            Some(values.slice(whole..count)),
        )
    };
    let block_sums = head
        .reshape([blocks, SUM_BLOCK])
        .sum_dim(1)
        .reshape([blocks]);
    let total = blocked_sum(block_sums, blocks);
    match tail {
        Some(tail) => total + tail.sum(),
        None => total,
    }
}

/// `values.sum_dim(dim)`, blocked as [`sum`] where the dimension is longer than a block: along
/// a single line (every other dimension of size 1, e.g. one row of 5·10^7 classes) through
/// [`sum`], and along a dimension that is a whole number of blocks as a view
/// `[outer, blocks, SUM_BLOCK, inner]` summed level by level. A longer dimension of another
/// length in a tensor of several lines is summed by the backend alone: splitting it into blocks
/// would copy the tensor on backends whose narrowed views are not contiguous (NdArray, CubeCL).
/// On NdArray, untracked rows (the dimensions after `dim` of size 1) are summed in place by
/// the NdArray kernel (`crate::backends::kernels::sum_rows`), blocked at any length.
pub(crate) fn sum_dim<B: Backend, const D: usize>(
    values: Tensor<B, D>,
    dim: usize,
) -> Tensor<B, D> {
    let dims = values.dims();
    let size = dims[dim];
    let mut reduced = dims;
    reduced[dim] = 1;
    let outer: usize = dims[..dim].iter().product();
    let inner: usize = dims[dim + 1..].iter().product();
    if size <= SUM_BLOCK {
        return values.sum_dim(dim);
    }
    if !needs_gradient(&values)
        && let Some(sums) = kernels::sum_rows(&values, dim)
    {
        return sums;
    }
    if outer * inner > 1 && !size.is_multiple_of(SUM_BLOCK) {
        return values.sum_dim(dim);
    }
    if outer * inner == 1 {
        return sum(values).reshape(reduced);
    }
    let blocks = size / SUM_BLOCK;
    // Rows (`inner == 1`, the class dimension of `(N, C)`) keep the summed dimension last: a
    // backend reduces its innermost dimension fastest (NdArray: ~10x a middle dimension).
    let block_sums = if inner == 1 {
        values
            .reshape([outer, blocks, SUM_BLOCK])
            .sum_dim(2)
            .reshape([outer, blocks, 1])
    } else {
        values
            .reshape([outer, blocks, SUM_BLOCK, inner])
            .sum_dim(2)
            .reshape([outer, blocks, inner])
    };
    sum_dim(block_sums, 1).reshape(reduced)
}

#[cfg(all(test, feature = "ndarray"))]
mod tests {
    use super::*;
    use burn::tensor::TensorData;

    /// Without the NdArray kernels (32-bit integers make it another type): the blocked tensor
    /// operations of every other backend.
    type Generic = burn::backend::NdArray<f32, i32>;
    /// With them.
    type Kernels = burn::backend::NdArray<f32>;

    #[test]
    fn blocked_sum_adds_every_element_at_every_length() {
        let device = Default::default();
        for count in [1, 255, 256, 257, 256 * 256, 256 * 256 + 3, 70_001] {
            let values: Vec<f32> = (0..count).map(|i| (i % 13) as f32 - 6.0).collect();
            let exact: f64 = values.iter().map(|&v| v as f64).sum();
            let generic =
                Tensor::<Generic, 1>::from_data(TensorData::new(values.clone(), [count]), &device);
            assert_eq!(sum(generic).into_scalar() as f64, exact, "{count} elements");
            let kernels =
                Tensor::<Kernels, 1>::from_data(TensorData::new(values, [count]), &device);
            assert_eq!(sum(kernels).into_scalar() as f64, exact, "{count} elements");
        }
    }

    #[test]
    fn blocked_sum_dim_matches_the_backends_sum_dim() {
        let device = Default::default();
        for dims in [
            [2, 300, 3],
            [2, 512, 3],
            [1, 70_001, 1],
            [3, 1024, 1],
            [4, 5, 2],
        ] {
            let count: usize = dims.iter().product();
            let values: Vec<f32> = (0..count).map(|i| (i % 11) as f32 - 5.0).collect();
            let generic =
                Tensor::<Generic, 3>::from_data(TensorData::new(values.clone(), dims), &device);
            let expected = generic.clone().sum_dim(1).into_data();
            assert_eq!(sum_dim(generic, 1).into_data(), expected, "{dims:?}");
            let kernels = Tensor::<Kernels, 3>::from_data(TensorData::new(values, dims), &device);
            assert_eq!(sum_dim(kernels, 1).into_data(), expected, "{dims:?}");
        }
    }
}
