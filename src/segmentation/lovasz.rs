//! The Lovász-softmax and Lovász-hinge losses, as segmentation_models_pytorch's `LovaszLoss`.

use burn::config::Config;
use burn::module::Module;
use burn::tensor::activation::softmax;
use burn::tensor::backend::Backend;
use burn::tensor::{Int, Tensor};

use super::SegmentationMode;
use super::jaccard::ModeOptions;
use crate::mechanics::reduction::{LossSum, Reduction};

const LOSS: &str = "LovaszLoss";

/// Configuration of [`LovaszLoss`], with the option names and defaults of
/// segmentation_models_pytorch's `LovaszLoss`.
#[derive(Config, Debug)]
pub struct LovaszLossConfig {
    /// `Multiclass`: the Lovász-softmax loss of class indices; `Binary` and `Multilabel`: the
    /// Lovász hinge of binary masks (smp's `mode`, which has no default).
    pub mode: SegmentationMode,
    /// One loss per sample, averaged (`true`), or one over the whole batch.
    #[config(default = false)]
    pub per_image: bool,
    /// Positions whose target equals this value are left out.
    pub ignore_index: Option<i64>,
    /// The reduction applied by `forward` (see [`LovaszLoss`]).
    #[config(default = "Reduction::Mean")]
    pub reduction: Reduction,
}

impl LovaszLossConfig {
    /// Builds the loss (every option is valid).
    pub fn init<B: Backend>(&self, _device: &B::Device) -> LovaszLoss<B> {
        LovaszLoss {
            mode: self.mode,
            per_image: self.per_image,
            ignore_index: self.ignore_index,
            reduction: self.reduction,
            _backend: core::marker::PhantomData,
        }
    }
}

/// The Lovász losses of Berman et al., convex surrogates of the Jaccard loss, exactly as
/// segmentation_models_pytorch 0.6's `LovaszLoss` over `(N, C, d1, ..., dk)` inputs.
///
/// Both take a vector of errors `e` over positions with ground truth `g ∈ {0, 1}`, sort it in
/// decreasing order (`π`), and weight the sorted errors by the gradient of the Lovász
/// extension of the Jaccard loss:
///
/// ```text
/// J_i = 1 - (G - Σ_{j<=i} g_π(j)) / (G + Σ_{j<=i} (1 - g_π(j))),   G = Σ g
/// loss(e, g) = Σ_i f(e_π(i)) (J_i - J_{i-1}),   J_0 = 0
/// ```
///
/// - `Binary`, `Multilabel` (the Lovász hinge): the input is logits, every channel and position
///   of a row one entry, `e = 1 - x·(2g - 1)`, `f = relu`.
/// - `Multiclass` (the Lovász-softmax): `p = softmax(x)` along the channels and, for each class
///   `c` present in the row's targets, `e = |[y = c] - p_c|`, `f = identity`; the row's loss is
///   the mean over those classes (0 if none is present).
///
/// A row is one sample with `per_image`, else the whole batch. Positions whose target is
/// `ignore_index` are left out.
///
/// # Reduction
/// - `Mean`: smp's loss, the mean over the rows (the one row without `per_image`).
/// - `Sum`: the sum over the rows.
/// - `BatchMean`: that sum over the batch size `N`.
/// - [`forward_no_reduction`](LovaszLoss::forward_no_reduction): the loss of every row, shape
///   `(N)` with `per_image`, `(1)` without.
///
/// # Shapes
/// - input: logits `(N, C, d1, ..., dk)`, `k >= 1` (`C = 1` for `Binary`)
/// - target: `Binary`, `Multilabel`: the input's shape, binary masks
///   ([`forward`](LovaszLoss::forward)); `Multiclass`: class indices `(N, d1, ..., dk)`, `Int`,
///   in `[0, C)` or `ignore_index` ([`forward_indices`](LovaszLoss::forward_indices))
///
/// # Differences from the reference
/// - Ignored positions are kept in place and given no weight, where smp removes them: the same
///   numbers. A row whose positions are all ignored has a loss of 0 (smp: 0 for the hinge, an
///   empty tensor for the softmax).
/// - Ties between errors are ordered by Burn's sort, not torch's: the loss is the same (the
///   Lovász extension is continuous), its gradient at a tie may take another subgradient.
/// - A `Multiclass` target is `Int` class indices, range-checked.
///
/// # Example
/// ```
/// use burn::backend::NdArray;
/// use burn::tensor::{Int, Tensor};
/// use burn_losses::*;
///
/// let device = Default::default();
/// let loss = LovaszLossConfig::new(SegmentationMode::Multiclass).init::<NdArray>(&device);
/// let logits = Tensor::<NdArray, 4>::from_floats(
///     [[[[2.0, -1.0], [0.5, 0.0]], [[-1.0, 1.0], [0.0, 1.5]]]],
///     &device,
/// );
/// let classes = Tensor::<NdArray, 3, Int>::from_ints([[[0, 1], [0, 1]]], &device);
/// let value = loss.forward_indices(logits, classes).into_scalar();
/// assert!((value - 0.233_677).abs() < 1e-5); // smp 0.6: 0.23367718
/// ```
///
/// # References
/// - M. Berman, A. Rannen Triki, M. B. Blaschko, "The Lovász-Softmax loss: A tractable
///   surrogate for the optimization of the intersection-over-union measure in neural
///   networks", CVPR 2018.
/// - segmentation_models_pytorch 0.6, `segmentation_models_pytorch.losses.LovaszLoss`.
#[derive(Module, Debug)]
pub struct LovaszLoss<B: Backend> {
    /// Which Lovász loss.
    pub mode: SegmentationMode,
    /// Whether there is one loss per sample.
    pub per_image: bool,
    /// The target value of the positions left out.
    pub ignore_index: Option<i64>,
    /// The reduction applied by `forward`.
    pub reduction: Reduction,
    _backend: core::marker::PhantomData<B>,
}

impl<B: Backend> LovaszLoss<B> {
    /// The Lovász hinge against binary masks of the input's shape (`Binary`, `Multilabel`),
    /// reduced with the configured reduction.
    ///
    /// # Panics
    /// If the mode is `Multiclass`, the input has rank < 3 (or more than one channel for
    /// `Binary`), or the target's shape is not the input's.
    pub fn forward<const D: usize>(
        &self,
        input: Tensor<B, D>,
        target: Tensor<B, D>,
    ) -> Tensor<B, 1> {
        let batch_size = input.dims()[0];
        let losses = self.forward_no_reduction(input, target);
        self.reduction
            .finish(LossSum::of_elements(losses), batch_size)
    }

    /// The Lovász hinge of every row, `(N)` with `per_image`, `(1)` without.
    ///
    /// # Panics
    /// As [`forward`](Self::forward).
    pub fn forward_no_reduction<const D: usize>(
        &self,
        input: Tensor<B, D>,
        target: Tensor<B, D>,
    ) -> Tensor<B, 1> {
        let targets = self.options().of_mask(input, target);
        let rows = if self.per_image {
            targets.input.dims()[0]
        } else {
            1
        };
        let count = targets.input.shape().num_elements() / rows;
        let logits = targets.input.reshape([rows, count]);
        // The target, 0 where ignored.
        let truth = targets.target.reshape([rows, count]);
        let valid = match targets.kept {
            Some(kept) => kept.reshape([rows, count]),
            None => truth.ones_like(),
        };
        let signs = truth.clone() * 2.0 - 1.0;
        let errors = (logits * signs).neg() + 1.0;
        let weighted = lovasz_weighted_errors(errors, truth, valid, true);
        weighted.sum_dim(1).reshape([rows])
    }

    /// The Lovász-softmax against class indices `(N, d1, ..., dk)` (`Multiclass`), reduced
    /// with the configured reduction.
    ///
    /// # Panics
    /// If the mode is not `Multiclass`, the input has rank < 3, `DT != D - 1`, the target's
    /// shape is not the input's without dimension 1, or an index is outside `[0, C)` and not
    /// `ignore_index` (read back from the device).
    pub fn forward_indices<const D: usize, const DT: usize>(
        &self,
        input: Tensor<B, D>,
        target: Tensor<B, DT, Int>,
    ) -> Tensor<B, 1> {
        let batch_size = input.dims()[0];
        let losses = self.forward_indices_no_reduction(input, target);
        self.reduction
            .finish(LossSum::of_elements(losses), batch_size)
    }

    /// The Lovász-softmax of every row, `(N)` with `per_image`, `(1)` without.
    ///
    /// # Panics
    /// As [`forward_indices`](Self::forward_indices).
    pub fn forward_indices_no_reduction<const D: usize, const DT: usize>(
        &self,
        input: Tensor<B, D>,
        target: Tensor<B, DT, Int>,
    ) -> Tensor<B, 1> {
        let targets = self.options().of_indices(input, target);
        let [batch_size, channels, voxels] = targets.input.dims();
        let dtype = targets.input.dtype();
        // Rows: (R, C, P), a row per sample or one for the batch (its positions side by side).
        let (rows, positions) = if self.per_image {
            (batch_size, voxels)
        } else {
            (1, batch_size * voxels)
        };
        let rows_of = |values: Tensor<B, 3>| {
            if self.per_image {
                values
            } else {
                // (N, C, S) -> (1, C, N·S), the positions sample by sample.
                values
                    .swap_dims(0, 1)
                    .reshape([channels, 1, positions])
                    .swap_dims(0, 1)
            }
        };
        let probabilities = rows_of(softmax(targets.input, 1));
        // The one-hot target, 0 where ignored.
        let foreground = rows_of(targets.target);
        let valid = match targets.kept {
            Some(kept) => rows_of(kept),
            None => foreground.ones_like(),
        };
        let errors = (foreground.clone() - probabilities).abs();
        let flat = [rows * channels, positions];
        let weighted = lovasz_weighted_errors(
            errors.reshape(flat),
            foreground.clone().reshape(flat),
            valid.reshape(flat),
            false,
        );
        let class_losses = weighted.sum_dim(1).reshape([rows, channels]);
        let present = foreground
            .sum_dim(2)
            .reshape([rows, channels])
            .greater_elem(0.0)
            .float()
            .cast(dtype);
        let present_count = present.clone().sum_dim(1).clamp_min(1.0);
        ((class_losses * present).sum_dim(1) / present_count).reshape([rows])
    }

    fn options(&self) -> ModeOptions<'_, B> {
        ModeOptions {
            loss: LOSS,
            mode: self.mode,
            ignore_index: self.ignore_index,
            class_weights: None,
        }
    }
}

/// Each row's errors `(R, P)` sorted in decreasing order and weighted by the Lovász gradient
/// of its ground truth (`truth`, 0 at ignored positions), `relu`-ed first for the hinge. The
/// ignored positions (`valid` 0) sort last and weigh 0: the loss of the valid positions alone.
fn lovasz_weighted_errors<B: Backend>(
    errors: Tensor<B, 2>,
    truth: Tensor<B, 2>,
    valid: Tensor<B, 2>,
    hinge: bool,
) -> Tensor<B, 2> {
    let ignored = valid.clone().equal_elem(0.0);
    // The order is a constant of the loss (as torch's sort indices); ignored positions last.
    let keys = errors
        .clone()
        .detach()
        .mask_fill(ignored, f64::NEG_INFINITY);
    let (_, order) = keys.sort_descending_with_indices(1);
    let sorted_errors = errors.gather(1, order.clone());
    let sorted_truth = truth.gather(1, order.clone());
    let sorted_valid = valid.gather(1, order);
    // From the sorted truth (the same sum): on Burn 0.21's fusion, a cumulative sum of a gather
    // of a tensor that also feeds another reduction fails to run.
    let total = sorted_truth.clone().sum_dim(1);
    let intersection = total.clone() - sorted_truth.clone().cumsum(1);
    let union = total + ((sorted_truth.clone().neg() + 1.0) * sorted_valid.clone()).cumsum(1);
    // A valid position's union is at least 1; a row of ignored positions only would be 0 / 0.
    let jaccard = (intersection / union.clamp_min(1.0)).neg() + 1.0;
    let [rows, positions] = jaccard.dims();
    let previous = Tensor::cat(
        vec![
            jaccard.zeros_like().slice([0..rows, 0..1]),
            jaccard.clone().slice([0..rows, 0..positions - 1]),
        ],
        1,
    );
    let gradient = (jaccard - previous) * sorted_valid;
    let sorted_errors = if hinge {
        sorted_errors.clamp_min(0.0)
    } else {
        sorted_errors
    };
    sorted_errors * gradient
}
