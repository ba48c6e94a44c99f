//! The generalized Dice loss of segmentation, as MONAI's `GeneralizedDiceLoss`.

use burn::config::Config;
use burn::empty;
use burn::module::Module;
use burn::tensor::Tensor;
use burn::tensor::backend::Backend;

use super::dice::check_smoothing;
use super::{OverlapOptions, OverlapSums, check_activation, overlap_forwards};
use crate::mechanics::reduction::Reduction;

const LOSS: &str = "GeneralizedDiceLoss";

/// How [`GeneralizedDiceLoss`] weighs a channel from its target mass `G` (MONAI's `w_type`).
#[derive(Config, Debug, Copy, PartialEq, Eq)]
pub enum DiceWeight {
    /// `1 / G²` (Sudre et al.'s choice, MONAI's default `"square"`).
    Square,
    /// `1 / G` (MONAI's `"simple"`).
    Simple,
    /// `1` for every channel (MONAI's `"uniform"`).
    Uniform,
}

// Lets the loss keep the weighting as a plain field of its `Module`: a constant.
burn::empty!(DiceWeight);

/// Configuration of [`GeneralizedDiceLoss`], with the option names and defaults of MONAI's
/// `GeneralizedDiceLoss`.
#[derive(Config, Debug)]
pub struct GeneralizedDiceLossConfig {
    /// Keep channel 0 (the background); `false` leaves it out of every sum.
    #[config(default = true)]
    pub include_background: bool,
    /// Apply a sigmoid to the input (logits of independent channels: multilabel or binary).
    #[config(default = false)]
    pub sigmoid: bool,
    /// Apply a softmax along the channels (logits of exclusive classes: multiclass).
    #[config(default = false)]
    pub softmax: bool,
    /// The weight of a channel from its target mass `G`.
    #[config(default = "DiceWeight::Square")]
    pub w_type: DiceWeight,
    /// Added to the numerator (finite, >= 0).
    #[config(default = 1e-5)]
    pub smooth_nr: f32,
    /// Added to the denominator (finite, >= 0).
    #[config(default = 1e-5)]
    pub smooth_dr: f32,
    /// One loss over the whole batch (its sums taken over the samples too), instead of one per
    /// sample.
    #[config(default = false)]
    pub batch: bool,
    /// MONAI's soft-label formulation of the overlap (Wang et al.), equal to the default for
    /// targets in `{0, 1}`.
    #[config(default = false)]
    pub soft_label: bool,
    /// The reduction applied by `forward` (see [`GeneralizedDiceLoss`]).
    #[config(default = "Reduction::Mean")]
    pub reduction: Reduction,
}

impl GeneralizedDiceLossConfig {
    /// Checks the options and builds the loss.
    ///
    /// # Panics
    /// If both `sigmoid` and `softmax` are set, or `smooth_nr` or `smooth_dr` is negative or not
    /// finite.
    pub fn init<B: Backend>(&self, _device: &B::Device) -> GeneralizedDiceLoss<B> {
        check_activation(LOSS, self.sigmoid, self.softmax);
        check_smoothing(LOSS, "smooth_nr", self.smooth_nr);
        check_smoothing(LOSS, "smooth_dr", self.smooth_dr);
        GeneralizedDiceLoss {
            include_background: self.include_background,
            sigmoid: self.sigmoid,
            softmax: self.softmax,
            w_type: self.w_type,
            smooth_nr: self.smooth_nr,
            smooth_dr: self.smooth_dr,
            batch: self.batch,
            soft_label: self.soft_label,
            reduction: self.reduction,
            _backend: core::marker::PhantomData,
        }
    }
}

/// The generalized Dice loss of Sudre et al. over `(N, C, d1, ..., dk)` predictions, exactly as
/// MONAI 1.6's `GeneralizedDiceLoss`: one Dice over all kept channels, each weighted by the
/// inverse of its target mass, so small structures count as much as large ones.
///
/// The input goes through the chosen activation, channel 0 is dropped without
/// `include_background`, and per sample `n` (with `batch`: once, summing over the samples too),
/// with `I_c = Σ p·g`, `P_c = Σ p` and `G_c = Σ g` over the spatial positions of channel `c`
/// ([`OverlapSums`]) and the channel weights `w_c = 1 / G_c²` (`Square`), `1 / G_c`
/// (`Simple`) or `1` (`Uniform`):
///
/// ```text
/// ℓ_n = 1 - (2 Σ_c w_c I_c + smooth_nr) / (Σ_c w_c (P_c + G_c) + smooth_dr)
/// ```
///
/// A channel with an empty target (`G_c = 0`, an infinite weight) takes the largest weight of
/// the other channels of its sample (of the batch, with `batch`), as MONAI; the weights are
/// functions of the target alone.
///
/// # Reduction
/// - `Mean`: the mean over the samples (the one loss with `batch`), MONAI's `"mean"`.
/// - `Sum`: their sum, MONAI's `"sum"`.
/// - `BatchMean`: their sum over the batch size `N` (also with `batch`).
/// - [`forward_no_reduction`](GeneralizedDiceLoss::forward_no_reduction): MONAI's `"none"`,
///   shape `(N)`, and `(1)` with `batch` (MONAI: `(N, 1, ..., 1)` and `(1, ..., 1)`).
///
/// # Shapes
/// - input: `(N, C, d1, ..., dk)`, `k >= 1`
/// - target: the input's shape (one-hot or soft labels,
///   [`forward`](GeneralizedDiceLoss::forward)), or class indices `(N, d1, ..., dk)`, `Int`, in
///   `[0, C)` ([`forward_indices`](GeneralizedDiceLoss::forward_indices), MONAI's `to_onehot_y`)
///
/// # Differences from the reference
/// - Class-index targets have shape `(N, d1, ..., dk)`, where MONAI's `to_onehot_y` takes
///   `(N, 1, d1, ..., dk)`; there is no `to_onehot_y` option: the method chooses.
/// - With one channel, MONAI warns and ignores `softmax`, `include_background = false` and
///   `to_onehot_y`; here each of these panics instead.
/// - MONAI computes the weights in float32 (`ground_o.float()`) whatever the input's type; here
///   they are in the input's float type.
/// - With `soft_label`, MONAI's `G_c` of the weights is `Σ g` and that of the denominator
///   `Σ |g|`; here both are `Σ |g|` (equal for targets >= 0).
/// - MONAI's `other_act` (a Python callable) is not supported.
///
/// # Example
/// ```
/// use burn::backend::NdArray;
/// use burn::tensor::{Int, Tensor};
/// use burn_losses::*;
///
/// let device = Default::default();
/// let loss = GeneralizedDiceLossConfig::new().with_softmax(true).init::<NdArray>(&device);
/// // Three classes over a 1 x 4 strip, one sample; class 2 is absent from the target.
/// let logits = Tensor::<NdArray, 3>::from_floats(
///     [[[2.0, -1.0, 0.5, 0.0], [-1.0, 1.0, 0.0, 1.5], [0.0, 0.0, -1.0, 0.5]]],
///     &device,
/// );
/// let classes = Tensor::<NdArray, 2, Int>::from_ints([[0, 1, 0, 1]], &device);
/// let value = loss.forward_indices(logits, classes).into_scalar();
/// assert!((value - 0.328_969).abs() < 1e-5); // MONAI 1.6: 0.32896916
/// ```
///
/// # References
/// - C. H. Sudre, W. Li, T. Vercauteren, S. Ourselin, M. J. Cardoso, "Generalised Dice overlap
///   as a deep learning loss function for highly unbalanced segmentations", DLMIA 2017.
/// - MONAI 1.6, `monai.losses.GeneralizedDiceLoss`.
#[derive(Module, Debug)]
pub struct GeneralizedDiceLoss<B: Backend> {
    /// Whether channel 0 is kept.
    pub include_background: bool,
    /// Whether a sigmoid is applied to the input.
    pub sigmoid: bool,
    /// Whether a softmax along the channels is applied to the input.
    pub softmax: bool,
    /// The channel weighting.
    pub w_type: DiceWeight,
    /// Added to the numerator.
    pub smooth_nr: f32,
    /// Added to the denominator.
    pub smooth_dr: f32,
    /// Whether one loss is computed over the whole batch.
    pub batch: bool,
    /// Whether the soft-label formulation is used.
    pub soft_label: bool,
    /// The reduction applied by `forward`.
    pub reduction: Reduction,
    _backend: core::marker::PhantomData<B>,
}

impl<B: Backend> GeneralizedDiceLoss<B> {
    overlap_forwards!(
        finish: losses,
        rank: 1,
        count: "(`N`, or 1 with `batch`),",
        unreduced: "MONAI's `\"none\"`: the loss of every sample, shape `(N)`, or of the whole \
         batch, `(1)`, with `batch`.",
        panics: "If the input has rank < 3, the target's shape is not the input's, or the \
         input has one channel with `softmax` or without `include_background`.",
    );

    /// One loss per row of the sums, `(rows)`.
    fn losses(&self, sums: OverlapSums<B>) -> Tensor<B, 1> {
        let OverlapSums {
            intersection,
            prediction,
            target,
        } = sums;
        let rows = intersection.dims()[0];
        let weights = self.channel_weights(target.clone());
        let numerator = (intersection * weights.clone()).sum_dim(1) * 2.0 + self.smooth_nr as f64;
        let denominator = ((prediction + target) * weights).sum_dim(1) + self.smooth_dr as f64;
        ((numerator / denominator).neg() + 1.0).reshape([rows])
    }

    /// The weight of every channel of every row from its target mass, an infinite one (an
    /// empty target) replaced by the row's largest finite weight, as MONAI.
    fn channel_weights(&self, target_mass: Tensor<B, 2>) -> Tensor<B, 2> {
        let weights = match self.w_type {
            DiceWeight::Square => target_mass.powi_scalar(2).recip(),
            DiceWeight::Simple => target_mass.recip(),
            DiceWeight::Uniform => return target_mass.ones_like(),
        };
        let infinite = weights.clone().is_inf();
        let finite = weights.mask_fill(infinite.clone(), 0.0);
        let largest = finite.clone().max_dim(1);
        finite + infinite.float().cast(largest.dtype()) * largest
    }

    fn options(&self) -> OverlapOptions {
        OverlapOptions {
            sigmoid: self.sigmoid,
            softmax: self.softmax,
            include_background: self.include_background,
            squared: false,
            soft_label: self.soft_label,
            batch: self.batch,
            ignore_index: None,
        }
    }
}
