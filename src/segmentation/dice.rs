//! The Dice (and Jaccard) loss of segmentation, as MONAI's `DiceLoss`.

use burn::config::Config;
use burn::module::Module;
use burn::tensor::backend::Backend;
use burn::tensor::{Int, Tensor};

use super::{OverlapOptions, OverlapSums, check_activation, overlap_forwards, weighted_by_channel};
use crate::mechanics::reduction::{LossSum, Reduction};
use crate::mechanics::validation::{check_finite_option, check_weight_option, fail, fail_option};

const LOSS: &str = "DiceLoss";

/// Configuration of [`DiceLoss`], with the option names and defaults of MONAI's `DiceLoss`.
#[derive(Config, Debug)]
pub struct DiceLossConfig {
    /// Keep channel 0 (the background); `false` leaves it out of every sum and of the output.
    #[config(default = true)]
    pub include_background: bool,
    /// Apply a sigmoid to the input (logits of independent channels: multilabel or binary).
    #[config(default = false)]
    pub sigmoid: bool,
    /// Apply a softmax along the channels (logits of exclusive classes: multiclass).
    #[config(default = false)]
    pub softmax: bool,
    /// Squares of the prediction and of the target in the denominator (V-Net's form).
    #[config(default = false)]
    pub squared_pred: bool,
    /// The Jaccard index (soft IoU) instead of the Dice coefficient.
    #[config(default = false)]
    pub jaccard: bool,
    /// Added to the numerator (finite, >= 0).
    #[config(default = 1e-5)]
    pub smooth_nr: f32,
    /// Added to the denominator (finite, >= 0): the loss of an empty channel predicted empty is
    /// `1 - smooth_nr / smooth_dr`.
    #[config(default = 1e-5)]
    pub smooth_dr: f32,
    /// One Dice per channel over the whole batch (its sums taken over the samples too), instead
    /// of one per sample and channel.
    #[config(default = false)]
    pub batch: bool,
    /// A weight per kept channel (finite, >= 0; length `C`, or `C - 1` without
    /// `include_background`) multiplying each channel's loss; ignored with one kept channel, as
    /// MONAI. Default: none (every channel 1).
    pub weight: Option<Vec<f32>>,
    /// MONAI's soft-label formulation (Wang et al.), equal to the default for targets in
    /// `{0, 1}` and still 0 for a prediction equal to a soft target.
    #[config(default = false)]
    pub soft_label: bool,
    /// MONAI's `ignore_index`: the positions it names are left out of every sum (prediction
    /// and target 0 there). Against class indices, those whose index is `ignore_index` (inside
    /// or outside `[0, C)`); against a float target of one channel, those whose value is
    /// `ignore_index`; of more channels, those of class `ignore_index` if it is a channel
    /// (weighted `1 - target[ignore_index]` for soft labels), else those of no class (every
    /// channel 0). Default: none.
    pub ignore_index: Option<i64>,
    /// The reduction applied by `forward` (see [`DiceLoss`]).
    #[config(default = "Reduction::Mean")]
    pub reduction: Reduction,
}

impl DiceLossConfig {
    /// Checks the options and builds the loss; the channel weights live on `device`.
    ///
    /// # Panics
    /// If both `sigmoid` and `softmax` are set, `smooth_nr` or `smooth_dr` is negative or not
    /// finite, or `weight` is empty, negative or not finite.
    pub fn init<B: Backend>(&self, device: &B::Device) -> DiceLoss<B> {
        check_activation(LOSS, self.sigmoid, self.softmax);
        check_smoothing(LOSS, "smooth_nr", self.smooth_nr);
        check_smoothing(LOSS, "smooth_dr", self.smooth_dr);
        check_weight_option(LOSS, "weight", self.weight.as_deref());
        DiceLoss {
            include_background: self.include_background,
            sigmoid: self.sigmoid,
            softmax: self.softmax,
            squared_pred: self.squared_pred,
            jaccard: self.jaccard,
            smooth_nr: self.smooth_nr,
            smooth_dr: self.smooth_dr,
            batch: self.batch,
            soft_label: self.soft_label,
            ignore_index: self.ignore_index,
            weight: self
                .weight
                .as_ref()
                .map(|weight| Tensor::from_floats(weight.as_slice(), device)),
            reduction: self.reduction,
        }
    }
}

/// Checks a smoothing term: finite and not negative.
#[track_caller]
pub(crate) fn check_smoothing(loss: &str, option: &str, value: f32) {
    check_finite_option(loss, option, value);
    if value < 0.0 {
        fail_option(loss, option, "a finite value >= 0", value);
    }
}

/// The Dice loss of Milletari et al. (V-Net) over `(N, C, d1, ..., dk)` predictions, exactly as
/// MONAI 1.6's `DiceLoss`, or with `jaccard` the soft Jaccard (IoU) loss.
///
/// The input goes through the chosen activation (`sigmoid`, `softmax` along the channels, or
/// none: probabilities), channel 0 is dropped without `include_background`, and then per sample
/// `n` and kept channel `c` (with `batch`: per channel, summing over the samples too), with
/// `I = Σ p·g`, `P = Σ p` and `G = Σ g` over the spatial positions (see [`OverlapSums`] for
/// `squared_pred` and `soft_label`):
///
/// ```text
/// Dice:    ℓ_nc = 1 - (2 I + smooth_nr) / (P + G + smooth_dr)
/// Jaccard: ℓ_nc = 1 - (2 I + smooth_nr) / (2 (P + G - I) + smooth_dr)
/// ```
///
/// each multiplied by its channel's `weight`. (MONAI's Jaccard keeps Dice's `2 I` over
/// `2 (P + G - I)`: the IoU `I / (P + G - I)` with the smoothing terms halved.)
///
/// # Reduction
/// MONAI reduces over its `(N, C')` (or `(C')` with `batch`) losses:
/// - `Mean`: their mean, MONAI's `"mean"` (the batch and channel average).
/// - `Sum`: their sum, MONAI's `"sum"`.
/// - `BatchMean`: their sum over the batch size `N` (also with `batch`).
/// - [`forward_no_reduction`](DiceLoss::forward_no_reduction): MONAI's `"none"`, shape
///   `(N, C')`, and `(1, C')` with `batch` (MONAI: `(N, C', 1, ..., 1)` and `(C', 1, ..., 1)`).
///
/// # Shapes
/// - input: `(N, C, d1, ..., dk)`, `k >= 1`
/// - target: the input's shape (one-hot or soft labels, [`forward`](DiceLoss::forward)), or
///   class indices `(N, d1, ..., dk)`, `Int`, in `[0, C)`
///   ([`forward_indices`](DiceLoss::forward_indices), MONAI's `to_onehot_y`)
///
/// # Differences from the reference
/// - Class-index targets have shape `(N, d1, ..., dk)` (the crate's rule for class indices),
///   where MONAI's `to_onehot_y` takes `(N, 1, d1, ..., dk)`; there is no `to_onehot_y` option:
///   the method chooses.
/// - With one channel, MONAI warns and ignores `softmax`, `include_background = false` and
///   `to_onehot_y`; here each of these panics instead (a softmax over one channel is 1, and
///   leaving out the only channel leaves nothing).
/// - `weight` is a list of one weight per kept channel (MONAI also takes one number for every
///   channel). As MONAI, it is ignored (and its length not checked) with one kept channel.
/// - MONAI's `other_act` (a Python callable) is not supported.
/// - MONAI computes the `squared_pred` and `soft_label` overlap as `(‖p‖² + ‖g‖² - ‖p - g‖²) / 2`,
///   here `Σ p·g`: equal in exact arithmetic, different in the last bits.
///
/// # Example
/// ```
/// use burn::backend::NdArray;
/// use burn::tensor::{Int, Tensor};
/// use burn_losses::*;
///
/// let device = Default::default();
/// let loss = DiceLossConfig::new().with_softmax(true).init::<NdArray>(&device);
/// // Two classes over a 2 x 2 image, one sample.
/// let logits = Tensor::<NdArray, 4>::from_floats(
///     [[[[2.0, -1.0], [0.5, 0.0]], [[-1.0, 1.0], [0.0, 1.5]]]],
///     &device,
/// );
/// let classes = Tensor::<NdArray, 3, Int>::from_ints([[[0, 1], [0, 1]]], &device);
/// let value = loss.forward_indices(logits, classes).into_scalar();
/// assert!((value - 0.181_821).abs() < 1e-5); // MONAI 1.6: 0.18182116
/// ```
///
/// # References
/// - F. Milletari, N. Navab, S.-A. Ahmadi, "V-Net: Fully Convolutional Neural Networks for
///   Volumetric Medical Image Segmentation", 3DV 2016.
/// - Z. Wang, X. Ning, M. B. Blaschko, "Jaccard Metric Losses: Optimizing the Jaccard Index with
///   Soft Labels", NeurIPS 2023; "Dice Semimetric Losses", MICCAI 2023 (`soft_label`).
/// - MONAI 1.6, `monai.losses.DiceLoss`.
#[derive(Module, Debug)]
pub struct DiceLoss<B: Backend> {
    /// Whether channel 0 is kept.
    pub include_background: bool,
    /// Whether a sigmoid is applied to the input.
    pub sigmoid: bool,
    /// Whether a softmax along the channels is applied to the input.
    pub softmax: bool,
    /// Whether the denominator sums squares.
    pub squared_pred: bool,
    /// Whether the loss is the Jaccard one.
    pub jaccard: bool,
    /// Added to the numerator.
    pub smooth_nr: f32,
    /// Added to the denominator.
    pub smooth_dr: f32,
    /// Whether one Dice per channel is computed over the whole batch.
    pub batch: bool,
    /// Whether the soft-label formulation is used.
    pub soft_label: bool,
    /// The target value of the positions left out.
    pub ignore_index: Option<i64>,
    /// Channel weights, shape `[C']`.
    pub weight: Option<Tensor<B, 1>>,
    /// The reduction applied by `forward`.
    pub reduction: Reduction,
}

impl<B: Backend> DiceLoss<B> {
    overlap_forwards!(
        finish: forward_sums,
        rank: 2,
        count: "(`N·C'`, or `C'` with `batch`),",
        unreduced: "MONAI's `\"none\"`: the loss of every sample and kept channel, shape `(N, \
         C')`, or of every kept channel over the whole batch, `(1, C')`, with \
         `batch`.",
        panics: "If the input has rank < 3, the target's shape is not the input's, the input \
         has one channel with `softmax` or without `include_background`, or \
         `weight`'s length is not the number of kept channels.",
    );

    /// The per-channel sums over a micro-batch, shape `(1, C')`, whose sum over the
    /// micro-batches of a batch [`forward_sums`](Self::forward_sums) turns into exactly the
    /// loss of the whole batch, with `batch` (one Dice per channel over the batch, a ratio of
    /// sums). Each micro-batch's gradient is its share of the whole's when its own sums are
    /// tracked and the others' [detached](OverlapSums::detach):
    ///
    /// ```
    /// use burn::backend::{Autodiff, NdArray};
    /// use burn::tensor::Tensor;
    /// use burn_losses::*;
    ///
    /// type B = Autodiff<NdArray>;
    /// let device = Default::default();
    /// let loss = DiceLossConfig::new().with_sigmoid(true).with_batch(true).init::<B>(&device);
    /// let input = Tensor::<B, 3>::from_floats([[[1.0, -2.0]], [[0.5, 3.0]], [[-1.0, 0.0]]], &device);
    /// let target = Tensor::<B, 3>::from_floats([[[1.0, 0.0]], [[0.0, 1.0]], [[0.0, 1.0]]], &device);
    /// let whole = loss.forward(input.clone(), target.clone()).into_scalar();
    ///
    /// let parts = [0..1, 1..3];
    /// let part_sums: Vec<_> = parts
    ///     .iter()
    ///     .map(|rows| {
    ///         let sums = loss.batch_sums(
    ///             input.clone().slice(rows.clone()),
    ///             target.clone().slice(rows.clone()),
    ///         );
    ///         sums.detach()
    ///     })
    ///     .collect();
    /// for (k, rows) in parts.iter().enumerate() {
    ///     let own = loss.batch_sums(
    ///         input.clone().slice(rows.clone()),
    ///         target.clone().slice(rows.clone()),
    ///     );
    ///     let others = part_sums
    ///         .iter()
    ///         .enumerate()
    ///         .filter(|(j, _)| *j != k)
    ///         .map(|(_, sums)| sums.clone())
    ///         .reduce(|a, b| a + b)
    ///         .unwrap();
    ///     let value = loss.reduce(loss.forward_sums(own + others), 3);
    ///     // `value.backward()` here: this micro-batch's share of the whole batch's gradient.
    ///     assert!((value.into_scalar() - whole).abs() < 1e-6);
    /// }
    /// ```
    ///
    /// # Panics
    /// If the option `batch` is off (the losses of samples then do not share sums: add the
    /// micro-batches' [`forward_sum`](Self::forward_sum) instead); otherwise as
    /// [`forward`](Self::forward).
    pub fn batch_sums<const D: usize>(
        &self,
        input: Tensor<B, D>,
        target: Tensor<B, D>,
    ) -> OverlapSums<B> {
        self.check_batch("batch_sums");
        self.options().sums(LOSS, input, target)
    }

    /// [`batch_sums`](Self::batch_sums) against class indices `(N, d1, ..., dk)`.
    ///
    /// # Panics
    /// As [`batch_sums`](Self::batch_sums) and [`forward_indices`](Self::forward_indices).
    pub fn batch_sums_of_indices<const D: usize, const DT: usize>(
        &self,
        input: Tensor<B, D>,
        target: Tensor<B, DT, Int>,
    ) -> OverlapSums<B> {
        self.check_batch("batch_sums_of_indices");
        self.options().sums_of_indices(LOSS, input, target)
    }

    /// The unreduced losses, `(rows, C')`, from per-channel sums (of one batch, or added over
    /// micro-batches with `batch`).
    ///
    /// # Panics
    /// If `weight`'s length is not the number of channels of the sums.
    pub fn forward_sums(&self, sums: OverlapSums<B>) -> Tensor<B, 2> {
        let OverlapSums {
            intersection,
            prediction,
            target,
        } = sums;
        let numerator = intersection.clone() * 2.0 + self.smooth_nr as f64;
        let denominator = if self.jaccard {
            (prediction + target - intersection) * 2.0
        } else {
            prediction + target
        } + self.smooth_dr as f64;
        let losses = (numerator / denominator).neg() + 1.0;
        weighted_by_channel(LOSS, losses, self.weight.as_ref())
    }

    /// The unreduced losses of [`forward_sums`](Self::forward_sums) reduced with the configured
    /// reduction, `batch_size` the `N` that `BatchMean` divides by.
    pub fn reduce(&self, losses: Tensor<B, 2>, batch_size: usize) -> Tensor<B, 1> {
        self.reduction
            .finish(LossSum::of_elements(losses), batch_size)
    }

    #[track_caller]
    fn check_batch(&self, method: &str) {
        if !self.batch {
            fail(
                LOSS,
                method,
                "the option `batch` (one Dice over the batch)",
                "`batch` false",
            );
        }
    }

    pub(super) fn options(&self) -> OverlapOptions {
        OverlapOptions {
            sigmoid: self.sigmoid,
            softmax: self.softmax,
            include_background: self.include_background,
            squared: self.squared_pred,
            soft_label: self.soft_label,
            batch: self.batch,
            ignore_index: self.ignore_index,
        }
    }
}
