//! The focal loss of segmentation as segmentation_models_pytorch's `FocalLoss`.

use burn::config::Config;
use burn::module::Module;
use burn::tensor::activation::log_sigmoid;
use burn::tensor::backend::Backend;
use burn::tensor::{Int, Tensor};

use super::SegmentationMode;
use super::jaccard::{ModeOptions, ModeTargets, check_set_options};
use crate::mechanics::reduction::{LossSum, Normalizer, Reduction, sum, sum_dim};
use crate::mechanics::validation::{check_positive_option, fail_option};
use crate::multilabel::logistic::pow_non_negative;

const LOSS: &str = "SmpFocalLoss";

/// The smallest sum of focal terms that `normalized` divides by (smp's
/// `focal_loss_with_logits` default `eps`).
const NORMALIZED_EPS: f64 = 1e-6;

/// Configuration of [`SmpFocalLoss`], with the option names and defaults of
/// segmentation_models_pytorch's `FocalLoss`.
#[derive(Config, Debug)]
pub struct SmpFocalLossConfig {
    /// What the channels mean (smp's `mode`, which has no default).
    pub mode: SegmentationMode,
    /// The balancing factor `α` in `[0, 1]`: `α` for target 1, `1 - α` for target 0.
    /// Default: none (no balancing).
    pub alpha: Option<f32>,
    /// The focal exponent `γ` (finite, >= 0).
    #[config(default = 2.0)]
    pub gamma: f32,
    /// Positions whose target equals this value are left out. Not with `Multilabel` (smp
    /// 0.6 fails there).
    pub ignore_index: Option<i64>,
    /// The input is logits; `false`: probabilities, clamped to `[eps, 1 - eps]` and turned into
    /// logits (`ln(p / (1 - p))`; `ln p` for `Multiclass`, as smp).
    #[config(default = true)]
    pub from_logits: bool,
    /// The clamp of probabilities with `from_logits = false` (finite, >= 0).
    #[config(default = 1e-7)]
    pub eps: f32,
    /// Divide each channel's losses by the sum of its focal terms (Lin et al.'s normalised
    /// focal loss, arXiv:1909.07829).
    #[config(default = false)]
    pub normalized: bool,
    /// The reduced focal loss (Sergievskiy and Ponamarev, arXiv:1903.01347): the focal term is
    /// `((1 - p_t) / reduced_threshold)^γ`, and 1 where `p_t < reduced_threshold` (finite,
    /// > 0). Default: none.
    pub reduced_threshold: Option<f32>,
    /// A weight per channel (finite, >= 0; one per input channel): the mean is then the
    /// class-weighted mean of the channels' means. Not with `Binary`.
    pub class_weights: Option<Vec<f32>>,
    /// The reduction applied by `forward` (see [`SmpFocalLoss`]).
    #[config(default = "Reduction::Mean")]
    pub reduction: Reduction,
}

impl SmpFocalLossConfig {
    /// Checks the options and builds the loss; the class weights live on `device`.
    ///
    /// # Panics
    /// If `gamma` or `eps` is negative or not finite, `alpha` is outside `[0, 1]`,
    /// `reduced_threshold` is not finite and > 0, `class_weights` is empty, negative or not
    /// finite or set with `Binary`, or `ignore_index` is set with `Multilabel`.
    pub fn init<B: Backend>(&self, device: &B::Device) -> SmpFocalLoss<B> {
        check_set_options(
            LOSS,
            self.mode,
            0.0,
            self.eps,
            false,
            self.class_weights.as_deref(),
        );
        if !(self.gamma.is_finite() && self.gamma >= 0.0) {
            fail_option(LOSS, "gamma", "a finite value >= 0", self.gamma);
        }
        if let Some(alpha) = self.alpha
            && !(0.0..=1.0).contains(&alpha)
        {
            fail_option(LOSS, "alpha", "none or a value in [0, 1]", alpha);
        }
        if let Some(threshold) = self.reduced_threshold {
            check_positive_option(LOSS, "reduced_threshold", threshold);
        }
        if let Some(ignored) = self.ignore_index
            && self.mode == SegmentationMode::Multilabel
        {
            fail_option(
                LOSS,
                "ignore_index",
                "none with mode Multilabel (smp 0.6 fails on it)",
                ignored,
            );
        }
        SmpFocalLoss {
            mode: self.mode,
            alpha: self.alpha,
            gamma: self.gamma,
            ignore_index: self.ignore_index,
            from_logits: self.from_logits,
            eps: self.eps,
            normalized: self.normalized,
            reduced_threshold: self.reduced_threshold,
            class_weights: self
                .class_weights
                .as_ref()
                .map(|weight| Tensor::from_floats(weight.as_slice(), device)),
            reduction: self.reduction,
        }
    }
}

/// The focal loss over `(N, C, d1, ..., dk)` predictions, exactly as
/// segmentation_models_pytorch 0.6's `FocalLoss`: a binary (sigmoid) focal loss of every
/// position of every channel, also in mode `Multiclass` (each class against the rest).
///
/// With `x` the logits (the input, or with `from_logits = false` the logits of the clamped
/// probabilities) and `t` the target (one-hot for `Multiclass`), at every position kept (whose
/// target is not `ignore_index`):
///
/// ```text
/// bce  = x - x t - ln σ(x)                 (binary cross entropy with logits)
/// 1 - p_t = 1 - exp(-bce)
/// f    = (1 - p_t)^γ,   or with reduced_threshold r: ((1 - p_t) / r)^γ, and 1 where p_t < r
/// ℓ    = f · bce · α_t · w_c,   α_t = α t + (1 - α)(1 - t)   (1 without alpha)
/// ```
///
/// With `normalized`, each channel's losses are divided by `max(Σ f, 1e-6)` over its kept
/// positions.
///
/// # Reduction
/// - `Mean`: smp's loss: the mean over the kept positions of each channel, averaged over the
///   channels (weighted by `class_weights`: `Σ_c w_c mean_c / Σ_c w_c`); a mean over no kept
///   position (or a total class weight of 0) is 0 (smp: NaN).
/// - `Sum`: the sum of every loss (weighted by `class_weights`), smp's `"sum"` times the
///   channel count (or the sum of the class weights): smp's `"sum"` is the mean over the
///   channels of their sums.
/// - `BatchMean`: that sum over the batch size `N`.
/// - [`forward_no_reduction`](SmpFocalLoss::forward_no_reduction): every position's loss
///   (weighted by `class_weights`), 0 where ignored, of the input's shape (smp's `"none"`
///   returns the mean in modes `Multiclass` and `Multilabel`, and drops the ignored positions
///   in mode `Binary`).
///
/// # Shapes
/// - input: `(N, C, d1, ..., dk)`, `k >= 1`; `C = 1` for `Binary`
/// - target: `Binary`, `Multilabel`: the input's shape ([`forward`](SmpFocalLoss::forward));
///   `Multiclass`: class indices `(N, d1, ..., dk)`, `Int`, in `[0, C)` or `ignore_index`
///   ([`forward_indices`](SmpFocalLoss::forward_indices))
///
/// # Differences from the reference
/// - A `Binary` target has the input's shape `(N, 1, d1, ..., dk)` (smp also takes any shape
///   of as many elements); `Multiclass` targets are `Int` indices, checked to lie in `[0, C)`
///   or to be `ignore_index` (smp counts another index as no class).
/// - `ignore_index` with `Multilabel` panics in `init` (smp 0.6 raises an `IndexError` in
///   `forward`); `gamma` and `alpha` are checked.
///
/// # Example
/// ```
/// use burn::backend::NdArray;
/// use burn::tensor::{Int, Tensor};
/// use burn_losses::*;
///
/// let device = Default::default();
/// let loss = SmpFocalLossConfig::new(SegmentationMode::Multiclass).init::<NdArray>(&device);
/// let logits = Tensor::<NdArray, 4>::from_floats(
///     [[[[2.0, -1.0], [0.5, 0.0]], [[-1.0, 1.0], [0.0, 1.5]]]],
///     &device,
/// );
/// let classes = Tensor::<NdArray, 3, Int>::from_ints([[[0, 1], [0, 1]]], &device);
/// let value = loss.forward_indices(logits, classes).into_scalar();
/// assert!((value - 0.061_328).abs() < 1e-5); // smp 0.6: 0.06132846
/// ```
///
/// # References
/// - T.-Y. Lin, P. Goyal, R. Girshick, K. He, P. Dollár, "Focal Loss for Dense Object
///   Detection", ICCV 2017.
/// - N. Sergievskiy, A. Ponamarev, "Reduced Focal Loss", arXiv:1903.01347, 2019.
/// - segmentation_models_pytorch 0.6, `segmentation_models_pytorch.losses.FocalLoss`.
#[derive(Module, Debug)]
pub struct SmpFocalLoss<B: Backend> {
    /// What the channels mean.
    pub mode: SegmentationMode,
    /// The balancing factor.
    pub alpha: Option<f32>,
    /// The focal exponent.
    pub gamma: f32,
    /// The target value of the positions left out.
    pub ignore_index: Option<i64>,
    /// Whether the input is logits.
    pub from_logits: bool,
    /// The clamp of probabilities.
    pub eps: f32,
    /// Whether each channel's losses are divided by the sum of its focal terms.
    pub normalized: bool,
    /// The threshold of the reduced focal loss.
    pub reduced_threshold: Option<f32>,
    /// Channel weights, shape `[C]`.
    pub class_weights: Option<Tensor<B, 1>>,
    /// The reduction applied by `forward`.
    pub reduction: Reduction,
}

impl<B: Backend> SmpFocalLoss<B> {
    /// The loss against float masks of the input's shape (`Binary`, `Multilabel`), reduced
    /// with the configured reduction.
    ///
    /// # Panics
    /// If the mode is `Multiclass` (class indices: [`forward_indices`](Self::forward_indices)),
    /// the input has rank < 3 (or more than one channel for `Binary`), the target's shape is
    /// not the input's, or `class_weights` has not one weight per channel.
    pub fn forward<const D: usize>(
        &self,
        input: Tensor<B, D>,
        target: Tensor<B, D>,
    ) -> Tensor<B, 1> {
        let batch_size = input.dims()[0];
        self.reduction
            .finish(self.forward_sum(input, target), batch_size)
    }

    /// The (weighted) sum of the losses and its normaliser (the kept positions times the
    /// channel count, or the sum of the class weights), whose [`mean`](LossSum::mean) is the
    /// `Mean` reduction.
    ///
    /// # Panics
    /// As [`forward`](Self::forward).
    pub fn forward_sum<const D: usize>(
        &self,
        input: Tensor<B, D>,
        target: Tensor<B, D>,
    ) -> LossSum<B> {
        self.summed(self.losses(self.options().of_mask(input, target)))
    }

    /// Every position's loss, of the input's shape, 0 where ignored.
    ///
    /// # Panics
    /// As [`forward`](Self::forward).
    pub fn forward_no_reduction<const D: usize>(
        &self,
        input: Tensor<B, D>,
        target: Tensor<B, D>,
    ) -> Tensor<B, D> {
        let dims = input.dims();
        let (losses, _) = self.losses(self.options().of_mask(input, target));
        losses.reshape(dims)
    }

    /// The loss against class indices `(N, d1, ..., dk)` (`Multiclass`), reduced with the
    /// configured reduction.
    ///
    /// # Panics
    /// If the mode is not `Multiclass`, `DT != D - 1`, the target's shape is not the input's
    /// without dimension 1, an index is outside `[0, C)` and not `ignore_index` (read back from
    /// the device), or `class_weights` has not one weight per channel.
    pub fn forward_indices<const D: usize, const DT: usize>(
        &self,
        input: Tensor<B, D>,
        target: Tensor<B, DT, Int>,
    ) -> Tensor<B, 1> {
        let batch_size = input.dims()[0];
        let parts = self.forward_indices_sum(input, target);
        self.reduction.finish(parts, batch_size)
    }

    /// [`forward_sum`](Self::forward_sum) against class indices.
    ///
    /// # Panics
    /// As [`forward_indices`](Self::forward_indices).
    pub fn forward_indices_sum<const D: usize, const DT: usize>(
        &self,
        input: Tensor<B, D>,
        target: Tensor<B, DT, Int>,
    ) -> LossSum<B> {
        self.summed(self.losses(self.options().of_indices(input, target)))
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
        let (losses, _) = self.losses(self.options().of_indices(input, target));
        losses.reshape(dims)
    }

    fn options(&self) -> ModeOptions<'_, B> {
        ModeOptions {
            loss: LOSS,
            mode: self.mode,
            ignore_index: self.ignore_index,
            class_weights: self.class_weights.as_ref(),
        }
    }

    /// The weighted losses `(N, C, S)` and the number of kept positions (of each channel).
    fn losses(&self, targets: ModeTargets<B>) -> (Tensor<B, 3>, Tensor<B, 1>) {
        let ModeTargets {
            input,
            target,
            kept,
        } = targets;
        let [batch_size, channels, positions] = input.dims();
        let logits = if self.from_logits {
            input
        } else {
            let eps = self.eps as f64;
            let probabilities = input.clamp(eps, 1.0 - eps);
            match self.mode {
                SegmentationMode::Multiclass => probabilities.log(),
                _ => (probabilities.clone() / (probabilities.neg() + 1.0)).log(),
            }
        };
        let cross_entropy = logits.clone() - logits.clone() * target.clone() - log_sigmoid(logits);
        let hit = cross_entropy.clone().neg().exp(); // p_t
        // 1 - p_t, at least 0 (a cross entropy rounded below 0 would make it negative).
        let miss = (hit.clone().neg() + 1.0).clamp_min(0.0);
        let focal_term = match self.reduced_threshold {
            None => pow_non_negative(miss, self.gamma),
            Some(threshold) => {
                let below = hit.lower_elem(threshold as f64);
                let scaled = pow_non_negative(miss / threshold as f64, self.gamma);
                scaled.mask_fill(below, 1.0)
            }
        };
        let mut losses = focal_term.clone() * cross_entropy;
        if let Some(alpha) = self.alpha {
            let alpha = alpha as f64;
            losses = losses * (target * (2.0 * alpha - 1.0) + (1.0 - alpha));
        }
        let (losses, focal_term, count) = match kept {
            Some(kept) => {
                let count = sum(kept.clone().narrow(1, 0, 1));
                (losses * kept.clone(), focal_term * kept, count)
            }
            None => {
                let count = (batch_size * positions) as f64;
                let count = Tensor::full([1], count, (&losses.device(), losses.dtype()));
                (losses, focal_term, count)
            }
        };
        let losses = if self.normalized {
            let per_channel = sum_dim(sum_dim(focal_term, 2), 0).reshape([1, channels, 1]);
            losses / per_channel.clamp_min(NORMALIZED_EPS)
        } else {
            losses
        };
        let losses = match &self.class_weights {
            Some(weights) => {
                let weights = weights
                    .clone()
                    .cast(losses.dtype())
                    .reshape([1, channels, 1]);
                losses * weights
            }
            None => losses,
        };
        (losses, count)
    }

    /// The sum of the losses over the kept positions times the channels' total weight.
    fn summed(&self, (losses, count): (Tensor<B, 3>, Tensor<B, 1>)) -> LossSum<B> {
        let channels = losses.dims()[1];
        let total_weight = match &self.class_weights {
            Some(weights) => weights.clone().cast(losses.dtype()).sum(),
            None => Tensor::full([1], channels as f64, (&losses.device(), losses.dtype())),
        };
        let total = count * total_weight;
        LossSum {
            sum: sum(losses),
            normalizer: Normalizer::weighted(total.clone(), total),
        }
    }
}
