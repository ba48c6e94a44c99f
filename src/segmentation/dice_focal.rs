//! The Dice loss plus the focal loss of segmentation, as MONAI's `DiceFocalLoss`.

use burn::config::Config;
use burn::module::Module;
use burn::tensor::activation::log_sigmoid;
use burn::tensor::backend::Backend;
use burn::tensor::{Int, Tensor};

use super::dice::check_smoothing;
use super::{
    DiceLoss, DiceLossConfig, check_activation, check_spatial_dims, flatten_spatial,
    one_hot_of_indices,
};
use crate::mechanics::reduction::{Reduction, sum};
use crate::mechanics::validation::{
    check_same_shape, check_weight_len, check_weight_option, fail, fail_option,
};

const LOSS: &str = "DiceFocalLoss";

/// Configuration of [`DiceFocalLoss`], with the option names and defaults of MONAI's
/// `DiceFocalLoss`.
#[derive(Config, Debug)]
pub struct DiceFocalLossConfig {
    /// Keep channel 0 (the background) in both terms; `false` leaves it out of both.
    #[config(default = true)]
    pub include_background: bool,
    /// A sigmoid before the Dice term (the focal term always takes the logits).
    #[config(default = false)]
    pub sigmoid: bool,
    /// A softmax before the Dice term (the focal term stays the sigmoid focal loss, as MONAI).
    #[config(default = false)]
    pub softmax: bool,
    /// The Dice term's `squared_pred`.
    #[config(default = false)]
    pub squared_pred: bool,
    /// The Dice term's `jaccard`.
    #[config(default = false)]
    pub jaccard: bool,
    /// The Dice term's `smooth_nr` (finite, >= 0).
    #[config(default = 1e-5)]
    pub smooth_nr: f32,
    /// The Dice term's `smooth_dr` (finite, >= 0).
    #[config(default = 1e-5)]
    pub smooth_dr: f32,
    /// The Dice term's `batch`.
    #[config(default = false)]
    pub batch: bool,
    /// The focal exponent `γ` (finite, >= 0) of the focal term.
    #[config(default = 2.0)]
    pub gamma: f32,
    /// A weight per kept channel (finite, >= 0; length `C`, or `C - 1` without
    /// `include_background`), of both terms: the Dice term's channel weight and the focal
    /// term's class weight. Not with one kept channel (MONAI's focal term refuses it).
    /// Default: none.
    pub weight: Option<Vec<f32>>,
    /// The weight (finite, >= 0) of the Dice term.
    #[config(default = 1.0)]
    pub lambda_dice: f32,
    /// The weight (finite, >= 0) of the focal term.
    #[config(default = 1.0)]
    pub lambda_focal: f32,
    /// The balancing factor `α` in `[0, 1]` of the focal term: `α` for target 1, `1 - α` for
    /// target 0. Default: none (no balancing).
    pub alpha: Option<f32>,
    /// The reduction of both terms (see [`DiceFocalLoss`]).
    #[config(default = "Reduction::Mean")]
    pub reduction: Reduction,
}

impl DiceFocalLossConfig {
    /// Checks the options and builds the loss; the channel weights live on `device`.
    ///
    /// # Panics
    /// If both `sigmoid` and `softmax` are set; `smooth_nr`, `smooth_dr`, `gamma`,
    /// `lambda_dice` or `lambda_focal` is negative or not finite; `alpha` is outside `[0, 1]`;
    /// or `weight` is empty, negative or not finite.
    pub fn init<B: Backend>(&self, device: &B::Device) -> DiceFocalLoss<B> {
        check_activation(LOSS, self.sigmoid, self.softmax);
        for (option, value) in [
            ("smooth_nr", self.smooth_nr),
            ("smooth_dr", self.smooth_dr),
            ("gamma", self.gamma),
            ("lambda_dice", self.lambda_dice),
            ("lambda_focal", self.lambda_focal),
        ] {
            check_smoothing(LOSS, option, value);
        }
        if let Some(alpha) = self.alpha
            && !(0.0..=1.0).contains(&alpha)
        {
            fail_option(LOSS, "alpha", "none or a value in [0, 1]", alpha);
        }
        check_weight_option(LOSS, "weight", self.weight.as_deref());
        DiceFocalLoss {
            dice: DiceLossConfig::new()
                .with_include_background(self.include_background)
                .with_sigmoid(self.sigmoid)
                .with_softmax(self.softmax)
                .with_squared_pred(self.squared_pred)
                .with_jaccard(self.jaccard)
                .with_smooth_nr(self.smooth_nr)
                .with_smooth_dr(self.smooth_dr)
                .with_batch(self.batch)
                .with_weight(self.weight.clone())
                .with_reduction(self.reduction)
                .init(device),
            gamma: self.gamma,
            alpha: self.alpha,
            lambda_dice: self.lambda_dice,
            lambda_focal: self.lambda_focal,
        }
    }
}

/// The Dice loss plus the focal loss, exactly as MONAI 1.6's `DiceFocalLoss`:
///
/// ```text
/// ℓ = lambda_dice · Dice(input, target) + lambda_focal · Focal(input, target)
/// ```
///
/// with the [`DiceLoss`] of the Dice options (its activation applies to the Dice term only)
/// and MONAI's sigmoid focal loss of the logits `x` against the target `t`, at every position of
/// every kept channel `c`:
///
/// ```text
/// focal = exp(γ · log σ(-x (2t - 1))) · (x - x t - log σ(x)) · α_t · w_c
/// α_t   = α t + (1 - α)(1 - t)        (1 without `alpha`)
/// ```
///
/// (`(1 - p_t)^γ` times the binary cross entropy for a target in `{0, 1}`). As MONAI, the focal
/// term is the sigmoid one also with `softmax`, and `weight` weighs both terms.
///
/// # Reduction
/// Each term is reduced as MONAI reduces it before they are added:
/// - `Mean`: MONAI's `"mean"`: the Dice term's mean over its `(N, C')` (or `(1, C')` with
///   `batch`) losses plus the focal term's mean over every position of every kept channel
///   (also the mean of the unreduced output).
/// - `Sum`: MONAI's `"sum"`: the sum of the Dice losses plus the sum over samples and kept
///   channels of the focal term's mean over the positions (MONAI's `FocalLoss` averages the
///   spatial dimensions before its sum). This is not the sum of the unreduced output.
/// - `BatchMean`: that sum over the batch size `N`.
/// - [`forward_no_reduction`](Self::forward_no_reduction): MONAI's `"none"`, shape
///   `(N, C', d1, ..., dk)`: every position's weighted focal loss plus its sample's and
///   channel's weighted Dice loss (the channel's over the batch with `batch`).
///
/// # Shapes
/// - input: logits `(N, C, d1, ..., dk)`, `k >= 1`
/// - target: the input's shape (one-hot or soft labels), or class indices `(N, d1, ..., dk)`,
///   `Int`, in `[0, C)` ([`forward_indices`](Self::forward_indices), MONAI's `to_onehot_y`)
///
/// # Differences from the reference
/// - Those of [`DiceLoss`]: class indices without MONAI's channel dimension of 1; one channel
///   with `softmax`, without `include_background` or with class indices panics; no
///   `other_act`.
/// - `weight` is a list (MONAI also takes one number for every channel); `alpha` one number
///   in `[0, 1]`, as MONAI's `DiceFocalLoss` documents it.
/// - MONAI's `FocalLoss` casts its input to float32; here the focal term keeps the input's
///   float type.
///
/// # Example
/// ```
/// use burn::backend::NdArray;
/// use burn::tensor::{Int, Tensor};
/// use burn_losses::*;
///
/// let device = Default::default();
/// let loss = DiceFocalLossConfig::new().with_softmax(true).init::<NdArray>(&device);
/// let logits = Tensor::<NdArray, 4>::from_floats(
///     [[[[2.0, -1.0], [0.5, 0.0]], [[-1.0, 1.0], [0.0, 1.5]]]],
///     &device,
/// );
/// let classes = Tensor::<NdArray, 3, Int>::from_ints([[[0, 1], [0, 1]]], &device);
/// let value = loss.forward_indices(logits, classes).into_scalar();
/// assert!((value - 0.243_150).abs() < 1e-5); // MONAI 1.6: 0.24314965
/// ```
///
/// # References
/// - F. Milletari, N. Navab, S.-A. Ahmadi, "V-Net", 3DV 2016 (the Dice loss).
/// - T.-Y. Lin, P. Goyal, R. Girshick, K. He, P. Dollár, "Focal Loss for Dense Object
///   Detection", ICCV 2017.
/// - W. Zhu et al., "AnatomyNet: Deep learning for fast and fully automated whole-volume
///   segmentation of head and neck anatomy", Medical Physics 2019 (Dice plus focal).
/// - MONAI 1.6, `monai.losses.DiceFocalLoss` and `monai.losses.FocalLoss`.
#[derive(Module, Debug)]
pub struct DiceFocalLoss<B: Backend> {
    /// The Dice term (its `weight` also weighs the focal term).
    pub dice: DiceLoss<B>,
    /// The focal exponent.
    pub gamma: f32,
    /// The balancing factor of the focal term.
    pub alpha: Option<f32>,
    /// The weight of the Dice term.
    pub lambda_dice: f32,
    /// The weight of the focal term.
    pub lambda_focal: f32,
}

/// The two terms of one call, unreduced: the Dice losses `(rows, C')` and the focal losses
/// `(N, C', S)`.
struct Terms<B: Backend> {
    dice: Tensor<B, 2>,
    focal: Tensor<B, 3>,
}

impl<B: Backend> DiceFocalLoss<B> {
    /// The loss against one-hot (or soft) targets of the input's shape, reduced with the
    /// configured reduction.
    ///
    /// # Panics
    /// If the input has rank < 3, the target's shape is not the input's, the input has one
    /// channel with `softmax` or without `include_background`, or `weight`'s length is not the
    /// number of kept channels (or it is set with one kept channel).
    pub fn forward<const D: usize>(
        &self,
        input: Tensor<B, D>,
        target: Tensor<B, D>,
    ) -> Tensor<B, 1> {
        let batch_size = input.dims()[0];
        self.reduce(self.terms(input, target), batch_size)
    }

    /// MONAI's `"none"`: every position's focal loss plus its sample's and channel's Dice loss,
    /// shape `(N, C', d1, ..., dk)`, each term weighted by its lambda.
    ///
    /// # Panics
    /// As [`forward`](Self::forward).
    pub fn forward_no_reduction<const D: usize>(
        &self,
        input: Tensor<B, D>,
        target: Tensor<B, D>,
    ) -> Tensor<B, D> {
        let dims = input.dims();
        self.unreduced(dims, self.terms(input, target))
    }

    /// The loss against class indices `(N, d1, ..., dk)` in `[0, C)` (MONAI's `to_onehot_y`),
    /// reduced with the configured reduction.
    ///
    /// # Panics
    /// As [`forward`](Self::forward); also if `DT != D - 1`, the target's shape is not the
    /// input's without dimension 1, the input has one channel, or an index is outside `[0, C)`
    /// (read back from the device).
    pub fn forward_indices<const D: usize, const DT: usize>(
        &self,
        input: Tensor<B, D>,
        target: Tensor<B, DT, Int>,
    ) -> Tensor<B, 1> {
        let batch_size = input.dims()[0];
        self.reduce(self.terms_of_indices(input, target), batch_size)
    }

    /// [`forward_no_reduction`](Self::forward_no_reduction) against class indices.
    ///
    /// # Panics
    /// As [`forward_indices`](Self::forward_indices).
    pub fn forward_indices_no_reduction<const D: usize, const DT: usize>(
        &self,
        input: Tensor<B, D>,
        target: Tensor<B, DT, Int>,
    ) -> Tensor<B, D> {
        let dims = input.dims();
        self.unreduced(dims, self.terms_of_indices(input, target))
    }

    #[track_caller]
    fn terms<const D: usize>(&self, input: Tensor<B, D>, target: Tensor<B, D>) -> Terms<B> {
        let dims = input.dims();
        check_spatial_dims(LOSS, &dims);
        check_same_shape(LOSS, "target", "input", &dims, &target.dims());
        self.terms_of_flat(input, flatten_spatial(target))
    }

    #[track_caller]
    fn terms_of_indices<const D: usize, const DT: usize>(
        &self,
        input: Tensor<B, D>,
        target: Tensor<B, DT, Int>,
    ) -> Terms<B> {
        let (one_hot, _) = one_hot_of_indices(LOSS, &input, target, None);
        self.terms_of_flat(input, one_hot)
    }

    /// Both terms against a target flattened to `(N, C, S)`.
    #[track_caller]
    fn terms_of_flat<const D: usize>(&self, input: Tensor<B, D>, target: Tensor<B, 3>) -> Terms<B> {
        let logits = flatten_spatial(input.clone());
        let sums = self
            .dice
            .options()
            .sums_of_flat(LOSS, input, target.clone(), None);
        let kept = sums.intersection.dims()[1];
        if let Some(weight) = &self.dice.weight {
            if kept == 1 {
                fail(
                    LOSS,
                    "weight",
                    "none with one kept channel (MONAI's focal term refuses a per-class weight \
                     there)",
                    "a weight",
                );
            }
            check_weight_len(
                LOSS,
                "weight",
                weight.dims()[0],
                kept,
                "the channels the loss keeps: dimension 1 of the input, less the background \
                 without `include_background`",
            );
        }
        let (logits, target) = if kept < target.dims()[1] {
            (logits.narrow(1, 1, kept), target.narrow(1, 1, kept))
        } else {
            (logits, target)
        };
        Terms {
            dice: self.dice.forward_sums(sums),
            focal: self.focal(logits, target),
        }
    }

    /// MONAI's sigmoid focal loss of every position of every kept channel, `(N, C', S)`.
    fn focal(&self, logits: Tensor<B, 3>, target: Tensor<B, 3>) -> Tensor<B, 3> {
        let cross_entropy =
            logits.clone() - logits.clone() * target.clone() - log_sigmoid(logits.clone());
        let sign = target.clone() * 2.0 - 1.0;
        let modulation = (log_sigmoid((logits * sign).neg()) * self.gamma as f64).exp();
        let mut losses = modulation * cross_entropy;
        if let Some(alpha) = self.alpha {
            let alpha = alpha as f64;
            losses = losses * (target * (2.0 * alpha - 1.0) + (1.0 - alpha));
        }
        match &self.dice.weight {
            Some(weight) => {
                let channels = losses.dims()[1];
                let weight = weight
                    .clone()
                    .cast(losses.dtype())
                    .reshape([1, channels, 1]);
                losses * weight
            }
            None => losses,
        }
    }

    fn reduce(&self, terms: Terms<B>, batch_size: usize) -> Tensor<B, 1> {
        let Terms { dice, focal } = terms;
        let dice_count = dice.shape().num_elements() as f64;
        let focal_count = focal.shape().num_elements() as f64;
        let positions = focal.dims()[2] as f64;
        let (dice, focal) = (sum(dice), sum(focal));
        let (dice, focal) = match self.reduction() {
            Reduction::Mean => (dice / dice_count, focal / focal_count),
            Reduction::Sum => (dice, focal / positions),
            Reduction::BatchMean => (
                dice / batch_size as f64,
                focal / (positions * batch_size as f64),
            ),
        };
        dice * self.lambda_dice as f64 + focal * self.lambda_focal as f64
    }

    /// The unreduced output `(N, C', d1, ..., dk)` of the input's `dims`.
    fn unreduced<const D: usize>(&self, mut dims: [usize; D], terms: Terms<B>) -> Tensor<B, D> {
        let Terms { dice, focal } = terms;
        let shape = focal.dims();
        let [rows, channels] = dice.dims();
        let dice = dice.reshape([rows, channels, 1]).expand(shape);
        dims[1] = shape[1];
        (dice * self.lambda_dice as f64 + focal * self.lambda_focal as f64).reshape(dims)
    }

    fn reduction(&self) -> Reduction {
        self.dice.reduction
    }
}
