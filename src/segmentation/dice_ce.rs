//! The Dice loss plus cross entropy of segmentation, as MONAI's `DiceCELoss`.

use burn::config::Config;
use burn::module::Module;
use burn::tensor::backend::Backend;
use burn::tensor::{Int, Tensor};

use super::{DiceLoss, DiceLossConfig};
use crate::classification::{
    BinaryCrossEntropyWithLogitsLoss, BinaryCrossEntropyWithLogitsLossConfig, CrossEntropyLoss,
    CrossEntropyLossConfig,
};
use crate::mechanics::reduction::Reduction;
use crate::mechanics::validation::{check_finite_option, check_weight_option, fail_option};

const LOSS: &str = "DiceCeLoss";

/// Configuration of [`DiceCeLoss`], with the option names and defaults of MONAI's
/// `DiceCELoss`.
#[derive(Config, Debug)]
pub struct DiceCeLossConfig {
    /// Keep channel 0 in the Dice term (the cross entropy always covers every class).
    #[config(default = true)]
    pub include_background: bool,
    /// A sigmoid before the Dice term (the cross entropy takes the logits).
    #[config(default = false)]
    pub sigmoid: bool,
    /// A softmax before the Dice term (the cross entropy takes the logits).
    #[config(default = false)]
    pub softmax: bool,
    /// The Dice term's `squared_pred`.
    #[config(default = false)]
    pub squared_pred: bool,
    /// The Dice term's `jaccard`.
    #[config(default = false)]
    pub jaccard: bool,
    /// The Dice term's `smooth_nr`.
    #[config(default = 1e-5)]
    pub smooth_nr: f32,
    /// The Dice term's `smooth_dr`.
    #[config(default = 1e-5)]
    pub smooth_dr: f32,
    /// The Dice term's `batch`.
    #[config(default = false)]
    pub batch: bool,
    /// A weight per class (length `C`, finite, >= 0): the cross entropy's class weight (with one
    /// channel, the binary cross entropy's `pos_weight`), and the Dice term's channel weight
    /// (without channel 0 when `include_background` is off). Default: none.
    pub weight: Option<Vec<f32>>,
    /// The weight (finite, >= 0) of the Dice term.
    #[config(default = 1.0)]
    pub lambda_dice: f32,
    /// The weight (finite, >= 0) of the cross-entropy term.
    #[config(default = 1.0)]
    pub lambda_ce: f32,
    /// The cross entropy's label smoothing, in `[0, 1]`.
    #[config(default = 0.0)]
    pub label_smoothing: f32,
    /// The reduction of both terms (see [`DiceCeLoss`]).
    #[config(default = "Reduction::Mean")]
    pub reduction: Reduction,
}

impl DiceCeLossConfig {
    /// Checks the options and builds the loss; the class weights live on `device`.
    ///
    /// # Panics
    /// If `lambda_dice` or `lambda_ce` is negative or not finite, `label_smoothing` is outside
    /// `[0, 1]`, `weight` is empty, negative or not finite, or has one entry without
    /// `include_background`; or as [`DiceLossConfig::init`].
    pub fn init<B: Backend>(&self, device: &B::Device) -> DiceCeLoss<B> {
        for (option, value) in [
            ("lambda_dice", self.lambda_dice),
            ("lambda_ce", self.lambda_ce),
        ] {
            check_finite_option(LOSS, option, value);
            if value < 0.0 {
                fail_option(LOSS, option, "a finite value >= 0", value);
            }
        }
        if !(0.0..=1.0).contains(&self.label_smoothing) {
            fail_option(
                LOSS,
                "label_smoothing",
                "a value in [0, 1]",
                self.label_smoothing,
            );
        }
        check_weight_option(LOSS, "weight", self.weight.as_deref());
        let dice_weight = match &self.weight {
            Some(weight) if !self.include_background => {
                if weight.len() < 2 {
                    fail_option(
                        LOSS,
                        "weight",
                        "a weight per class, at least 2 without `include_background`",
                        format_args!("{} weight", weight.len()),
                    );
                }
                Some(weight[1..].to_vec())
            }
            weight => weight.clone(),
        };
        DiceCeLoss {
            dice: DiceLossConfig::new()
                .with_include_background(self.include_background)
                .with_sigmoid(self.sigmoid)
                .with_softmax(self.softmax)
                .with_squared_pred(self.squared_pred)
                .with_jaccard(self.jaccard)
                .with_smooth_nr(self.smooth_nr)
                .with_smooth_dr(self.smooth_dr)
                .with_batch(self.batch)
                .with_weight(dice_weight)
                .with_reduction(self.reduction)
                .init(device),
            cross_entropy: CrossEntropyLossConfig::new()
                .with_weight(self.weight.clone())
                .with_ignore_index(None)
                .with_label_smoothing(self.label_smoothing)
                .with_reduction(self.reduction)
                .init(device),
            binary_cross_entropy: BinaryCrossEntropyWithLogitsLossConfig::new()
                .with_pos_weight(self.weight.clone())
                .with_reduction(self.reduction)
                .init(device),
            lambda_dice: self.lambda_dice,
            lambda_ce: self.lambda_ce,
        }
    }
}

/// The Dice loss plus cross entropy, exactly as MONAI 1.6's `DiceCELoss`:
///
/// ```text
/// ℓ = lambda_dice · Dice(input, target) + lambda_ce · CE(input, target)
/// ```
///
/// with the [`DiceLoss`] of the Dice options (its activation applies to the Dice term only) and
/// the cross entropy of the logits over every class: [`CrossEntropyLoss`] with the class
/// `weight` and `label_smoothing`, of class indices ([`forward_indices`](Self::forward_indices))
/// or of the one-hot (or soft) target as class probabilities ([`forward`](Self::forward)); with
/// one channel, [`BinaryCrossEntropyWithLogitsLoss`] with `pos_weight = weight`, as MONAI.
///
/// # Reduction
/// Both terms are reduced alike before they are added:
/// - `Mean`: MONAI's `"mean"`: the Dice term's mean over samples and channels plus the cross
///   entropy's mean over positions (weighted by the class weights of the targets, as PyTorch).
/// - `Sum`: MONAI's `"sum"`: the sum of the Dice losses plus that of the cross entropies.
/// - `BatchMean`: each sum over the batch size `N` (MONAI's `"sum"` over `N`).
///
/// There is no `forward_no_reduction`: the two terms have different shapes, `(N, C')` and
/// `(N, d1, ..., dk)` (MONAI refuses `"none"` too); the parts are the public fields `dice`,
/// `cross_entropy` and `binary_cross_entropy`.
///
/// # Shapes
/// - input: logits `(N, C, d1, ..., dk)`, `k >= 1`
/// - target: the input's shape (one-hot or soft labels), or class indices `(N, d1, ..., dk)`,
///   `Int`, in `[0, C)` (MONAI's `to_onehot_y` with a target of one channel)
///
/// # Differences from the reference
/// - Those of [`DiceLoss`]: class indices without MONAI's channel dimension of 1; one channel
///   with `softmax`, without `include_background` or with class indices panics; no
///   `other_act`.
/// - A bad call panics with the message of the part that checks it (`DiceLoss`, then
///   `CrossEntropyLoss` or `BinaryCrossEntropyWithLogitsLoss`).
///
/// # Example
/// ```
/// use burn::backend::NdArray;
/// use burn::tensor::{Int, Tensor};
/// use burn_losses::*;
///
/// let device = Default::default();
/// let loss = DiceCeLossConfig::new().with_softmax(true).init::<NdArray>(&device);
/// let logits = Tensor::<NdArray, 4>::from_floats(
///     [[[[2.0, -1.0], [0.5, 0.0]], [[-1.0, 1.0], [0.0, 1.5]]]],
///     &device,
/// );
/// let classes = Tensor::<NdArray, 3, Int>::from_ints([[[0, 1], [0, 1]]], &device);
/// let value = loss.forward_indices(logits, classes).into_scalar();
/// assert!((value - 0.394_573).abs() < 1e-5); // MONAI 1.6: 0.39457257
/// ```
///
/// # References
/// - F. Isensee et al., "nnU-Net: a self-configuring method for deep learning-based biomedical
///   image segmentation", Nature Methods 2021 (Dice plus cross entropy).
/// - MONAI 1.6, `monai.losses.DiceCELoss`.
#[derive(Module, Debug)]
pub struct DiceCeLoss<B: Backend> {
    /// The Dice term.
    pub dice: DiceLoss<B>,
    /// The cross-entropy term of two channels or more.
    pub cross_entropy: CrossEntropyLoss<B>,
    /// The cross-entropy term of one channel.
    pub binary_cross_entropy: BinaryCrossEntropyWithLogitsLoss<B>,
    /// The weight of the Dice term.
    pub lambda_dice: f32,
    /// The weight of the cross-entropy term.
    pub lambda_ce: f32,
}

impl<B: Backend> DiceCeLoss<B> {
    /// The loss against one-hot (or soft) targets of the input's shape.
    ///
    /// # Panics
    /// As [`DiceLoss::forward`] and [`CrossEntropyLoss::forward_probs`].
    pub fn forward<const D: usize>(
        &self,
        input: Tensor<B, D>,
        target: Tensor<B, D>,
    ) -> Tensor<B, 1> {
        let dice = self.dice.forward(input.clone(), target.clone());
        let cross_entropy = if input.dims()[1] == 1 {
            self.binary_cross_entropy.forward(input, target)
        } else {
            self.cross_entropy.forward_probs(input, target)
        };
        self.combine(dice, cross_entropy)
    }

    /// The loss against class indices `(N, d1, ..., dk)` in `[0, C)`.
    ///
    /// # Panics
    /// As [`DiceLoss::forward_indices`] and [`CrossEntropyLoss::forward`].
    pub fn forward_indices<const D: usize, const DT: usize>(
        &self,
        input: Tensor<B, D>,
        target: Tensor<B, DT, Int>,
    ) -> Tensor<B, 1> {
        let dice = self.dice.forward_indices(input.clone(), target.clone());
        let cross_entropy = self.cross_entropy.forward(input, target);
        self.combine(dice, cross_entropy)
    }

    fn combine(&self, dice: Tensor<B, 1>, cross_entropy: Tensor<B, 1>) -> Tensor<B, 1> {
        dice * self.lambda_dice as f64 + cross_entropy * self.lambda_ce as f64
    }
}
