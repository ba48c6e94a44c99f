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
    /// The reduced loss from its sum and normaliser: the sum (`Sum`), the mean
    /// ([`LossSum::mean`]) or the sum divided by `batch_size` (`BatchMean`).
    pub(crate) fn finish<B: Backend>(self, parts: LossSum<B>, batch_size: usize) -> Tensor<B, 1> {
        match self {
            Reduction::Sum => parts.sum,
            Reduction::Mean => parts.mean(),
            Reduction::BatchMean => parts.sum / batch_size as f64,
        }
    }

    /// Reduces `losses` whose mean divides by their element count.
    pub(crate) fn reduce<B: Backend, const D: usize>(
        self,
        losses: Tensor<B, D>,
        batch_size: usize,
    ) -> Tensor<B, 1> {
        self.finish(LossSum::of_elements(losses), batch_size)
    }
}

/// What a loss's mean divides its sum by, for one batch or added up over several (`+`).
///
/// Its [`total`](Self::total) is the denominator of [`Reduction::Mean`]: the number of elements
/// (or of samples, for a loss that gives one value per sample) for most losses, and the summed
/// class weight of the non-ignored targets for class-index cross entropy and NLL (PyTorch's
/// weighted mean). A weighted mean also keeps the number of non-ignored targets: a mean over
/// none is 0, as [`Reduction`] documents, where a plain mean over no elements is NaN, as in
/// PyTorch. Its tensors are constants (no gradient) of one element on the loss's device, so
/// nothing is read back.
#[derive(Clone, Debug)]
pub struct Normalizer<B: Backend> {
    total: Tensor<B, 1>,
    /// The number of non-ignored targets of a weighted mean; `None` for a plain count.
    valid: Option<Tensor<B, 1>>,
}

impl<B: Backend> Normalizer<B> {
    /// The normaliser of a plain mean over `count` elements (or samples).
    pub fn elements(count: usize, device: &B::Device) -> Self {
        Self {
            total: Tensor::full([1], count as f64, device),
            valid: None,
        }
    }

    /// The normaliser of a plain mean over the elements of `tensor`, in its float type.
    pub(crate) fn elements_of<const D: usize>(tensor: &Tensor<B, D>) -> Self {
        let count = tensor.shape().num_elements() as f64;
        Self {
            total: Tensor::full([1], count, (&tensor.device(), tensor.dtype())),
            valid: None,
        }
    }

    /// The normaliser of a weighted mean: `total` weight over `valid` non-ignored terms.
    pub(crate) fn weighted(total: Tensor<B, 1>, valid: Tensor<B, 1>) -> Self {
        Self {
            total: total.constant(),
            valid: Some(valid.constant()),
        }
    }

    /// The mean's denominator: the element (or sample) count, or the summed weight.
    pub fn total(&self) -> Tensor<B, 1> {
        self.total.clone()
    }

    /// This normaliser on `device` (to add normalisers computed on several devices).
    pub fn to_device(self, device: &B::Device) -> Self {
        Self {
            total: self.total.to_device(device),
            valid: self.valid.map(|valid| valid.to_device(device)),
        }
    }

    /// The denominator of a mean over this normaliser: its total, or 1 for a weighted mean
    /// over no non-ignored target, whose terms are all 0 (so the mean is the documented 0,
    /// while a real zero total weight still gives PyTorch's NaN or infinity).
    fn denominator(self) -> Tensor<B, 1> {
        match self.valid {
            Some(valid) => self.total.mask_fill(valid.equal_elem(0.0), 1.0),
            None => self.total,
        }
    }
}

impl<B: Backend> core::ops::Add for Normalizer<B> {
    type Output = Self;

    /// The normaliser of the two batches together. A plain count added to a weighted mean's
    /// normaliser counts each of its elements as one non-ignored term of weight 1.
    fn add(self, other: Self) -> Self {
        let valid = match (self.valid, other.valid) {
            (None, None) => None,
            (Some(valid), None) => Some(valid + other.total.clone()),
            (None, Some(valid)) => Some(self.total.clone() + valid),
            (Some(first), Some(second)) => Some(first + second),
        };
        Self {
            total: self.total + other.total,
            valid,
        }
    }
}

/// A loss's sum and its [`Normalizer`]: the numerator and the denominator of its mean, as
/// returned by every loss's `forward_sum`. `forward` with [`Reduction::Mean`] is
/// `forward_sum(..).mean()`.
///
/// The mean of several micro-batches' means is not the mean of their union when they average
/// different numbers of terms: ignored targets, class weights, an uneven last batch (the bug
/// Hugging Face Transformers fixed in 2024 with `num_items_in_batch`). Dividing each
/// micro-batch's sum by the normaliser of the whole batch ([`mean_over`](Self::mean_over))
/// gives exactly the loss and the gradient of the one large batch: the gradients of the parts
/// add up to the whole's. The whole's normaliser is the sum of the parts' normalisers; cross
/// entropy and NLL compute theirs from the targets alone (`normalizer(targets)`), before any
/// forward pass, and every other loss's is its element (or sample) count,
/// [`Normalizer::elements`].
///
/// ```
/// use burn::backend::{Autodiff, NdArray};
/// use burn::tensor::{Int, Tensor};
/// use burn_losses::*;
///
/// type B = Autodiff<NdArray>;
/// let device = Default::default();
/// let loss = CrossEntropyLossConfig::new().init::<B>(&device);
/// let logits = Tensor::<B, 2>::from_floats([[1.0, 0.0], [0.0, 2.0], [0.5, 0.5]], &device);
/// // The last two targets are ignored: the first micro-batch holds 1 of the 2 valid targets.
/// let targets = Tensor::<B, 1, Int>::from_ints([0, 1, -100], &device);
/// let whole = loss.forward(logits.clone(), targets.clone()).into_scalar();
///
/// let parts = [(0..1), (1..3)];
/// let total = parts
///     .iter()
///     .map(|rows| loss.normalizer(targets.clone().slice(rows.clone())))
///     .reduce(|a, b| a + b)
///     .unwrap();
/// let accumulated: f32 = parts
///     .iter()
///     .map(|rows| {
///         let part = loss.forward_sum(
///             logits.clone().slice(rows.clone()),
///             targets.clone().slice(rows.clone()),
///         );
///         // Each part's gradient is its share of the whole's: call `backward` here.
///         part.mean_over(total.clone()).into_scalar()
///     })
///     .sum();
/// assert!((accumulated - whole).abs() < 1e-6);
/// ```
#[derive(Clone, Debug)]
pub struct LossSum<B: Backend> {
    /// The numerator of the mean (differentiable): the sum of the losses of `forward_no_reduction`
    /// (CTC: of each loss divided by its target length, as PyTorch's mean).
    pub sum: Tensor<B, 1>,
    /// This batch's normaliser.
    pub normalizer: Normalizer<B>,
}

impl<B: Backend> LossSum<B> {
    /// The sum of `losses` and their element count.
    pub(crate) fn of_elements<const D: usize>(losses: Tensor<B, D>) -> Self {
        let normalizer = Normalizer::elements_of(&losses);
        Self {
            sum: sum(losses),
            normalizer,
        }
    }

    /// This batch's mean: [`mean_over`](Self::mean_over) its own normaliser.
    pub fn mean(self) -> Tensor<B, 1> {
        let normalizer = self.normalizer.clone();
        self.mean_over(normalizer)
    }

    /// The sum divided by `normalizer`'s total, the normaliser of a larger batch this one is
    /// part of (a weighted mean over no non-ignored target is 0, with a zero gradient).
    pub fn mean_over(self, normalizer: Normalizer<B>) -> Tensor<B, 1> {
        self.sum / normalizer.denominator().constant()
    }
}

impl<B: Backend> core::ops::Add for LossSum<B> {
    type Output = Self;

    fn add(self, other: Self) -> Self {
        Self {
            sum: self.sum + other.sum,
            normalizer: self.normalizer + other.normalizer,
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
