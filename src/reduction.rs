//! How a loss turns its per-element values into one number.

use crate::gradient::Constant;
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
        losses.sum() * self.factor(mean_normalizer, batch_size)
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
                losses.sum().div(denominator.constant())
            }
            other => other.reduce(losses, batch_size),
        }
    }
}
