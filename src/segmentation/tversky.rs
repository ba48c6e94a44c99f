//! The Tversky loss of segmentation, as MONAI's `TverskyLoss`.

use burn::config::Config;
use burn::module::Module;
use burn::tensor::Tensor;
use burn::tensor::backend::Backend;

use super::dice::check_smoothing;
use super::{OverlapOptions, OverlapSums, check_activation, overlap_forwards};
use crate::mechanics::reduction::Reduction;
use crate::mechanics::validation::{check_finite_option, fail_option};

const LOSS: &str = "TverskyLoss";

/// Configuration of [`TverskyLoss`], with the option names and defaults of MONAI's
/// `TverskyLoss`.
#[derive(Config, Debug)]
pub struct TverskyLossConfig {
    /// Keep channel 0 (the background); `false` leaves it out of every sum and of the output.
    #[config(default = true)]
    pub include_background: bool,
    /// Apply a sigmoid to the input (logits of independent channels: multilabel or binary).
    #[config(default = false)]
    pub sigmoid: bool,
    /// Apply a softmax along the channels (logits of exclusive classes: multiclass).
    #[config(default = false)]
    pub softmax: bool,
    /// The weight `α` (finite, >= 0) of the false positives.
    #[config(default = 0.5)]
    pub alpha: f32,
    /// The weight `β` (finite, >= 0) of the false negatives.
    #[config(default = 0.5)]
    pub beta: f32,
    /// Added to the numerator (finite, >= 0).
    #[config(default = 1e-5)]
    pub smooth_nr: f32,
    /// Added to the denominator (finite, >= 0).
    #[config(default = 1e-5)]
    pub smooth_dr: f32,
    /// One loss per channel over the whole batch (its sums taken over the samples too), instead
    /// of one per sample and channel.
    #[config(default = false)]
    pub batch: bool,
    /// MONAI's soft-label formulation (Wang et al.), equal to the default for targets in
    /// `{0, 1}`.
    #[config(default = false)]
    pub soft_label: bool,
    /// MONAI's `ignore_index`: the positions it names are left out of every sum (prediction
    /// and target 0 there). Against class indices, those whose index is `ignore_index` (inside
    /// or outside `[0, C)`); against a float target of one channel, those whose value is
    /// `ignore_index`; of more channels, those of class `ignore_index` if it is a channel
    /// (weighted `1 - target[ignore_index]` for soft labels), else those of no class (every
    /// channel 0). Default: none.
    pub ignore_index: Option<i64>,
    /// The reduction applied by `forward` (see [`TverskyLoss`]).
    #[config(default = "Reduction::Mean")]
    pub reduction: Reduction,
}

impl TverskyLossConfig {
    /// Checks the options and builds the loss.
    ///
    /// # Panics
    /// If both `sigmoid` and `softmax` are set, or `alpha`, `beta`, `smooth_nr` or `smooth_dr`
    /// is negative or not finite.
    pub fn init<B: Backend>(&self, _device: &B::Device) -> TverskyLoss<B> {
        check_activation(LOSS, self.sigmoid, self.softmax);
        for (option, value) in [("alpha", self.alpha), ("beta", self.beta)] {
            check_finite_option(LOSS, option, value);
            if value < 0.0 {
                fail_option(LOSS, option, "a finite value >= 0", value);
            }
        }
        check_smoothing(LOSS, "smooth_nr", self.smooth_nr);
        check_smoothing(LOSS, "smooth_dr", self.smooth_dr);
        TverskyLoss {
            include_background: self.include_background,
            sigmoid: self.sigmoid,
            softmax: self.softmax,
            alpha: self.alpha,
            beta: self.beta,
            smooth_nr: self.smooth_nr,
            smooth_dr: self.smooth_dr,
            batch: self.batch,
            soft_label: self.soft_label,
            ignore_index: self.ignore_index,
            reduction: self.reduction,
            _backend: core::marker::PhantomData,
        }
    }
}

/// The Tversky loss of Salehi et al. over `(N, C, d1, ..., dk)` predictions, exactly as MONAI
/// 1.6's `TverskyLoss`: a Dice loss that weighs false positives by `α` and false negatives by
/// `β` (`α = β = 0.5` is the Dice loss, `α = β = 1` the Jaccard loss).
///
/// The input goes through the chosen activation (`sigmoid`, `softmax` along the channels, or
/// none: probabilities), channel 0 is dropped without `include_background`, and then per sample
/// `n` and kept channel `c` (with `batch`: per channel, summing over the samples too), with
/// `TP = Σ p·g`, `FP = Σ p·(1 - g) = P - TP` and `FN = Σ (1 - p)·g = G - TP` over the spatial
/// positions (with `soft_label`, MONAI's soft-label `TP` of [`OverlapSums`]):
///
/// ```text
/// ℓ_nc = 1 - (TP + smooth_nr) / (TP + α FP + β FN + smooth_dr)
/// ```
///
/// # Reduction
/// MONAI reduces over its `(N, C')` (or `(C')` with `batch`) losses:
/// - `Mean`: their mean, MONAI's `"mean"`.
/// - `Sum`: their sum, MONAI's `"sum"`.
/// - `BatchMean`: their sum over the batch size `N` (also with `batch`).
/// - [`forward_no_reduction`](TverskyLoss::forward_no_reduction): MONAI's `"none"`, shape
///   `(N, C')`, and `(1, C')` with `batch` (MONAI: `(C')`).
///
/// # Shapes
/// - input: `(N, C, d1, ..., dk)`, `k >= 1`
/// - target: the input's shape (one-hot or soft labels, [`forward`](TverskyLoss::forward)), or
///   class indices `(N, d1, ..., dk)`, `Int`, in `[0, C)`
///   ([`forward_indices`](TverskyLoss::forward_indices), MONAI's `to_onehot_y`)
///
/// # Differences from the reference
/// - Class-index targets have shape `(N, d1, ..., dk)`, where MONAI's `to_onehot_y` takes
///   `(N, 1, d1, ..., dk)`; there is no `to_onehot_y` option: the method chooses.
/// - With one channel, MONAI warns and ignores `softmax`, `include_background = false` and
///   `to_onehot_y`; here each of these panics instead.
/// - MONAI's `other_act` (a Python callable) is not supported.
/// - `FP` and `FN` are computed as `P - TP` and `G - TP` (MONAI: `Σ p·(1 - g)` and
///   `Σ (1 - p)·g`): equal in exact arithmetic, different in the last bits.
///
/// # Example
/// ```
/// use burn::backend::NdArray;
/// use burn::tensor::Tensor;
/// use burn_losses::*;
///
/// let device = Default::default();
/// let loss = TverskyLossConfig::new()
///     .with_sigmoid(true)
///     .with_alpha(0.3)
///     .with_beta(0.7)
///     .init::<NdArray>(&device);
/// // One binary channel over four pixels, two samples.
/// let logits = Tensor::<NdArray, 3>::from_floats([[[2.0, -1.0, 0.5, 0.0]], [[-2.0, 1.0, 1.5, -0.5]]], &device);
/// let mask = Tensor::<NdArray, 3>::from_floats([[[1.0, 0.0, 1.0, 1.0]], [[0.0, 1.0, 0.0, 0.0]]], &device);
/// let value = loss.forward(logits, mask).into_scalar();
/// assert!((value - 0.361_652).abs() < 1e-5); // MONAI 1.6: 0.36165228
/// ```
///
/// # References
/// - S. S. M. Salehi, D. Erdogmus, A. Gholipour, "Tversky loss function for image segmentation
///   using 3D fully convolutional deep networks", MLMI 2017.
/// - MONAI 1.6, `monai.losses.TverskyLoss`.
#[derive(Module, Debug)]
pub struct TverskyLoss<B: Backend> {
    /// Whether channel 0 is kept.
    pub include_background: bool,
    /// Whether a sigmoid is applied to the input.
    pub sigmoid: bool,
    /// Whether a softmax along the channels is applied to the input.
    pub softmax: bool,
    /// The weight of the false positives.
    pub alpha: f32,
    /// The weight of the false negatives.
    pub beta: f32,
    /// Added to the numerator.
    pub smooth_nr: f32,
    /// Added to the denominator.
    pub smooth_dr: f32,
    /// Whether one loss per channel is computed over the whole batch.
    pub batch: bool,
    /// Whether the soft-label formulation is used.
    pub soft_label: bool,
    /// The target value of the positions left out.
    pub ignore_index: Option<i64>,
    /// The reduction applied by `forward`.
    pub reduction: Reduction,
    _backend: core::marker::PhantomData<B>,
}

impl<B: Backend> TverskyLoss<B> {
    overlap_forwards!(
        finish: losses,
        rank: 2,
        count: "(`N·C'`, or `C'` with `batch`),",
        unreduced: "MONAI's `\"none\"`: the loss of every sample and kept channel, shape `(N, \
         C')`, or of every kept channel over the whole batch, `(1, C')`, with \
         `batch`.",
        panics: "If the input has rank < 3, the target's shape is not the input's, or the \
         input has one channel with `softmax` or without `include_background`.",
    );

    fn losses(&self, sums: OverlapSums<B>) -> Tensor<B, 2> {
        let OverlapSums {
            intersection,
            prediction,
            target,
        } = sums;
        let false_positives = prediction - intersection.clone();
        let false_negatives = target - intersection.clone();
        let numerator = intersection.clone() + self.smooth_nr as f64;
        let denominator = intersection
            + false_positives * self.alpha as f64
            + false_negatives * self.beta as f64
            + self.smooth_dr as f64;
        (numerator / denominator).neg() + 1.0
    }

    fn options(&self) -> OverlapOptions {
        OverlapOptions {
            sigmoid: self.sigmoid,
            softmax: self.softmax,
            include_background: self.include_background,
            squared: false,
            soft_label: self.soft_label,
            batch: self.batch,
            ignore_index: self.ignore_index,
        }
    }
}
