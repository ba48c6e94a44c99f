//! The Dice loss of segmentation as segmentation_models_pytorch's `DiceLoss`.

use burn::config::Config;
use burn::module::Module;
use burn::tensor::Tensor;
use burn::tensor::backend::Backend;

use super::jaccard::{SetScore, check_set_options, set_forwards};
use super::{JaccardLoss, SegmentationMode};
use crate::mechanics::reduction::Reduction;

const LOSS: &str = "SmpDiceLoss";

/// smp's soft Dice score: its Tversky score at `α = β = 1/2`.
const DICE: SetScore = SetScore {
    loss: LOSS,
    alpha: 0.5,
    beta: 0.5,
};

/// Configuration of [`SmpDiceLoss`], with the option names and defaults of
/// segmentation_models_pytorch's `DiceLoss`.
#[derive(Config, Debug)]
pub struct SmpDiceLossConfig {
    /// What the channels mean (smp's `mode`, which has no default).
    pub mode: SegmentationMode,
    /// The channels whose losses are kept, in this order (smp's `classes`); none: all.
    /// Not with `Binary`.
    pub classes: Option<Vec<usize>>,
    /// `-ln(max(Dice, eps))` instead of `1 - Dice`.
    #[config(default = false)]
    pub log_loss: bool,
    /// The input is logits (a softmax along the channels for `Multiclass`, a sigmoid
    /// otherwise); `false`: probabilities.
    #[config(default = true)]
    pub from_logits: bool,
    /// Added to the numerator and the denominator (finite, >= 0).
    #[config(default = 0.0)]
    pub smooth: f32,
    /// Positions whose target equals this value are left out of every sum.
    pub ignore_index: Option<i64>,
    /// The smallest denominator, and with `log_loss` the smallest score (finite, >= 0).
    #[config(default = 1e-7)]
    pub eps: f32,
    /// A weight per channel (finite, >= 0; one per input channel): the loss is then the
    /// weighted mean of the kept channels' losses. Not with `Binary`.
    pub class_weights: Option<Vec<f32>>,
    /// The reduction applied by `forward` (see [`SmpDiceLoss`]).
    #[config(default = "Reduction::Mean")]
    pub reduction: Reduction,
}

impl SmpDiceLossConfig {
    /// Checks the options and builds the loss; the class weights live on `device`.
    ///
    /// # Panics
    /// If `smooth` or `eps` is negative or not finite, `class_weights` is empty, negative or not
    /// finite, or `classes` or `class_weights` is set with `Binary` (smp refuses both).
    pub fn init<B: Backend>(&self, device: &B::Device) -> SmpDiceLoss<B> {
        check_set_options(
            LOSS,
            self.mode,
            self.smooth,
            self.eps,
            self.classes.is_some(),
            self.class_weights.as_deref(),
        );
        SmpDiceLoss {
            overlap: JaccardLoss {
                mode: self.mode,
                classes: self.classes.clone(),
                log_loss: self.log_loss,
                from_logits: self.from_logits,
                smooth: self.smooth,
                ignore_index: self.ignore_index,
                eps: self.eps,
                class_weights: self
                    .class_weights
                    .as_ref()
                    .map(|weight| Tensor::from_floats(weight.as_slice(), device)),
                reduction: self.reduction,
            },
        }
    }
}

/// The Dice loss over `(N, C, d1, ..., dk)` predictions, exactly as
/// segmentation_models_pytorch 0.6's `DiceLoss`: one soft Dice per channel over the whole
/// batch, in smp's modes (MONAI's Dice is [`DiceLoss`](crate::DiceLoss)).
///
/// The probabilities, the ignored positions, the per-channel sums `P`, `G`, the soft-label
/// intersection `I` and the empty-channel rule are those of [`JaccardLoss`]; with
/// `FP = P - I` and `FN = G - I`, smp scores each channel `c` with its Tversky score at
/// `α = β = 1/2`:
///
/// ```text
/// Dice_c = (I + smooth) / max(I + FP/2 + FN/2 + smooth, eps)
///        = (2I + 2 smooth) / max(P + G + 2 smooth, 2 eps)
/// ℓ_c    = 1 - Dice_c,   or -ln(max(Dice_c, eps)) with log_loss
/// ```
///
/// and `ℓ_c = 0` for a channel whose target is empty (`G = 0`). The channels of `classes` are
/// kept (all by default). smp's `DiceLoss` is its `TverskyLoss` with the defaults `α = β = 1/2`
/// and `γ = 1`, so this loss equals [`FocalTverskyLoss`](crate::FocalTverskyLoss) with its
/// defaults, under its own name.
///
/// # Reduction
/// - `Mean`: smp's loss: the mean of the kept channels' losses, or with `class_weights`
///   `Σ w_c ℓ_c / Σ w_c` (a sum of weights of 0: a loss of 0).
/// - `Sum`: `Σ ℓ_c` (`Σ w_c ℓ_c` with `class_weights`).
/// - `BatchMean`: that sum over the batch size `N`.
/// - [`forward_no_reduction`](SmpDiceLoss::forward_no_reduction): `ℓ_c` of every kept
///   channel, shape `(C')`, unweighted.
///
/// # Shapes
/// As [`JaccardLoss`]: input `(N, C, d1, ..., dk)`, `k >= 1` (`C = 1` for `Binary`); target a
/// float mask of the input's shape (`Binary`, `Multilabel`,
/// [`forward`](SmpDiceLoss::forward)) or class indices `(N, d1, ..., dk)`, `Int`, in `[0, C)`
/// or `ignore_index` (`Multiclass`, [`forward_indices`](SmpDiceLoss::forward_indices)).
///
/// # Differences from the reference
/// Those of [`JaccardLoss`]: a `Binary` target has the input's shape `(N, 1, d1, ..., dk)`;
/// `Multiclass` targets are `Int` indices, range-checked.
///
/// # Example
/// ```
/// use burn::backend::NdArray;
/// use burn::tensor::{Int, Tensor};
/// use burn_losses::*;
///
/// let device = Default::default();
/// let loss = SmpDiceLossConfig::new(SegmentationMode::Multiclass).init::<NdArray>(&device);
/// let logits = Tensor::<NdArray, 4>::from_floats(
///     [[[[2.0, -1.0], [0.5, 0.0]], [[-1.0, 1.0], [0.0, 1.5]]]],
///     &device,
/// );
/// let classes = Tensor::<NdArray, 3, Int>::from_ints([[[0, 1], [0, 1]]], &device);
/// let value = loss.forward_indices(logits, classes).into_scalar();
/// assert!((value - 0.181_822).abs() < 1e-5); // smp 0.6: 0.18182162
/// ```
///
/// # References
/// - F. Milletari, N. Navab, S.-A. Ahmadi, "V-Net: Fully Convolutional Neural Networks for
///   Volumetric Medical Image Segmentation", 3DV 2016.
/// - Z. Wang et al., "Dice Semimetric Losses", MICCAI 2023 (the soft-label intersection).
/// - segmentation_models_pytorch 0.6, `segmentation_models_pytorch.losses.DiceLoss`.
#[derive(Module, Debug)]
pub struct SmpDiceLoss<B: Backend> {
    /// The options shared with [`JaccardLoss`] (and its reduction).
    overlap: JaccardLoss<B>,
}

impl<B: Backend> SmpDiceLoss<B> {
    set_forwards!(DICE);

    /// The options shared with [`JaccardLoss`].
    fn set(&self) -> &JaccardLoss<B> {
        &self.overlap
    }
}
