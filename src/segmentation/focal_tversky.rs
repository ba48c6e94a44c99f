//! The focal Tversky loss of segmentation, as segmentation_models_pytorch's `TverskyLoss`.

use burn::config::Config;
use burn::module::Module;
use burn::tensor::backend::Backend;
use burn::tensor::{Int, Tensor};

use super::jaccard::{SetScore, check_set_options};
use super::{JaccardLoss, SegmentationMode};
use crate::mechanics::reduction::Reduction;
use crate::mechanics::validation::{check_finite_option, fail_option};

const LOSS: &str = "FocalTverskyLoss";

/// Configuration of [`FocalTverskyLoss`], with the option names and defaults of
/// segmentation_models_pytorch's `TverskyLoss`.
#[derive(Config, Debug)]
pub struct FocalTverskyLossConfig {
    /// What the channels mean (smp's `mode`, which has no default).
    pub mode: SegmentationMode,
    /// The channels whose losses are kept, in this order; none: all. Not with `Binary`.
    pub classes: Option<Vec<usize>>,
    /// `-ln(max(T, eps))` instead of `1 - T`.
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
    /// The weight `α` (finite, >= 0) of the false positives.
    #[config(default = 0.5)]
    pub alpha: f32,
    /// The weight `β` (finite, >= 0) of the false negatives.
    #[config(default = 0.5)]
    pub beta: f32,
    /// The focal exponent `γ` (finite, > 0) of the mean loss; 1: the plain Tversky loss.
    #[config(default = 1.0)]
    pub gamma: f32,
    /// A weight per channel (finite, >= 0; one per input channel): the mean is then weighted.
    /// Not with `Binary`.
    pub class_weights: Option<Vec<f32>>,
    /// The reduction applied by `forward`: `Mean` (smp's), or with `gamma = 1` also `Sum` and
    /// `BatchMean` (see [`FocalTverskyLoss`]).
    #[config(default = "Reduction::Mean")]
    pub reduction: Reduction,
}

impl FocalTverskyLossConfig {
    /// Checks the options and builds the loss; the class weights live on `device`.
    ///
    /// # Panics
    /// If `smooth`, `eps`, `alpha` or `beta` is negative or not finite, `gamma` is not finite
    /// and > 0, the reduction is not `Mean` with `gamma != 1`, `class_weights` is empty,
    /// negative or not finite, or `classes` or `class_weights` is set with `Binary`.
    pub fn init<B: Backend>(&self, device: &B::Device) -> FocalTverskyLoss<B> {
        check_set_options(
            LOSS,
            self.mode,
            self.smooth,
            self.eps,
            self.classes.is_some(),
            self.class_weights.as_deref(),
        );
        for (option, value) in [("alpha", self.alpha), ("beta", self.beta)] {
            check_finite_option(LOSS, option, value);
            if value < 0.0 {
                fail_option(LOSS, option, "a finite value >= 0", value);
            }
        }
        if !(self.gamma.is_finite() && self.gamma > 0.0) {
            fail_option(LOSS, "gamma", "a finite value greater than 0", self.gamma);
        }
        if self.gamma != 1.0 && self.reduction != Reduction::Mean {
            fail_option(
                LOSS,
                "reduction",
                "Mean with `gamma` other than 1 (the exponent applies to the mean)",
                format_args!("{:?}", self.reduction),
            );
        }
        FocalTverskyLoss {
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
            alpha: self.alpha,
            beta: self.beta,
            gamma: self.gamma,
        }
    }
}

/// The (focal) Tversky loss over `(N, C, d1, ..., dk)` predictions, exactly as
/// segmentation_models_pytorch 0.6's `TverskyLoss`: one Tversky index per channel over the
/// whole batch, and the mean of the channels' losses raised to the power `γ` (Abraham and
/// Khan's focal Tversky loss; `γ = 1` is the Tversky loss, `α = β = 1` the Jaccard loss).
///
/// The probabilities, the ignored positions, the per-channel sums `P`, `G`, the soft-label
/// intersection `I` and the empty-channel rule are those of [`JaccardLoss`]; with
/// `FP = P - I` and `FN = G - I`:
///
/// ```text
/// T_c = (I + smooth) / max(I + α FP + β FN + smooth, eps)
/// ℓ_c = 1 - T_c,   or -ln(max(T_c, eps)) with log_loss
/// ℓ   = (mean over the kept channels of ℓ_c)^γ   (the class-weighted mean with class_weights)
/// ```
///
/// # Reduction
/// - `Mean`: smp's loss `ℓ` above.
/// - `Sum` (only with `γ = 1`): `Σ ℓ_c` (`Σ w_c ℓ_c` with `class_weights`).
/// - `BatchMean` (only with `γ = 1`): that sum over the batch size `N`.
/// - [`forward_no_reduction`](FocalTverskyLoss::forward_no_reduction): `ℓ_c` of every kept
///   channel, shape `(C')`, unweighted and without the exponent.
///
/// # Shapes
/// As [`JaccardLoss`].
///
/// # Differences from the reference
/// Those of [`JaccardLoss`]; and `Sum` and `BatchMean` are refused with `γ != 1`.
///
/// # Example
/// ```
/// use burn::backend::NdArray;
/// use burn::tensor::Tensor;
/// use burn_losses::*;
///
/// let device = Default::default();
/// let loss = FocalTverskyLossConfig::new(SegmentationMode::Binary)
///     .with_alpha(0.3)
///     .with_beta(0.7)
///     .with_gamma(0.75)
///     .init::<NdArray>(&device);
/// let logits = Tensor::<NdArray, 3>::from_floats([[[2.0, -1.0, 0.5, 0.0]], [[-2.0, 1.0, 1.5, -0.5]]], &device);
/// let mask = Tensor::<NdArray, 3>::from_floats([[[1.0, 0.0, 1.0, 1.0]], [[0.0, 1.0, 0.0, 0.0]]], &device);
/// let value = loss.forward(logits, mask).into_scalar();
/// assert!((value - 0.437_695).abs() < 1e-5); // smp 0.6: 0.43769471
/// ```
///
/// # References
/// - S. S. M. Salehi, D. Erdogmus, A. Gholipour, "Tversky loss function for image segmentation
///   using 3D fully convolutional deep networks", MLMI 2017.
/// - N. Abraham, N. M. Khan, "A Novel Focal Tversky Loss Function with Improved Attention U-Net
///   for Lesion Segmentation", ISBI 2019.
/// - segmentation_models_pytorch 0.6, `segmentation_models_pytorch.losses.TverskyLoss`.
#[derive(Module, Debug)]
pub struct FocalTverskyLoss<B: Backend> {
    /// The options shared with [`JaccardLoss`] (and its reduction).
    overlap: JaccardLoss<B>,
    /// The weight of the false positives.
    pub alpha: f32,
    /// The weight of the false negatives.
    pub beta: f32,
    /// The focal exponent of the mean loss.
    pub gamma: f32,
}

impl<B: Backend> FocalTverskyLoss<B> {
    /// The loss against binary masks of the input's shape (`Binary`, `Multilabel`), reduced
    /// with the configured reduction.
    ///
    /// # Panics
    /// As [`JaccardLoss::forward`].
    pub fn forward<const D: usize>(
        &self,
        input: Tensor<B, D>,
        target: Tensor<B, D>,
    ) -> Tensor<B, 1> {
        let batch_size = input.dims()[0];
        self.reduce(self.forward_no_reduction(input, target), batch_size)
    }

    /// The loss of every kept channel, `(C')`, unweighted and without the exponent.
    ///
    /// # Panics
    /// As [`JaccardLoss::forward`].
    pub fn forward_no_reduction<const D: usize>(
        &self,
        input: Tensor<B, D>,
        target: Tensor<B, D>,
    ) -> Tensor<B, 1> {
        self.overlap.mask_losses(&self.score(), input, target)
    }

    /// The loss against class indices `(N, d1, ..., dk)` (`Multiclass`), reduced with the
    /// configured reduction.
    ///
    /// # Panics
    /// As [`JaccardLoss::forward_indices`].
    pub fn forward_indices<const D: usize, const DT: usize>(
        &self,
        input: Tensor<B, D>,
        target: Tensor<B, DT, Int>,
    ) -> Tensor<B, 1> {
        let batch_size = input.dims()[0];
        self.reduce(self.forward_indices_no_reduction(input, target), batch_size)
    }

    /// [`forward_no_reduction`](Self::forward_no_reduction) against class indices.
    ///
    /// # Panics
    /// As [`JaccardLoss::forward_indices`].
    pub fn forward_indices_no_reduction<const D: usize, const DT: usize>(
        &self,
        input: Tensor<B, D>,
        target: Tensor<B, DT, Int>,
    ) -> Tensor<B, 1> {
        self.overlap.index_losses(&self.score(), input, target)
    }

    fn reduce(&self, losses: Tensor<B, 1>, batch_size: usize) -> Tensor<B, 1> {
        let parts = self.overlap.weighted_sum(losses);
        let reduced = self.overlap.reduction.finish(parts, batch_size);
        if self.gamma == 1.0 {
            reduced
        } else {
            reduced.powf_scalar(self.gamma as f64)
        }
    }

    fn score(&self) -> SetScore {
        SetScore {
            loss: LOSS,
            alpha: self.alpha as f64,
            beta: self.beta as f64,
        }
    }
}
