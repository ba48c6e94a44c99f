//! The sigmoid focal loss of RetinaNet (`torchvision.ops.sigmoid_focal_loss`).

use burn::config::Config;
use burn::module::Module;
use burn::tensor::Tensor;
use burn::tensor::backend::Backend;

use super::logistic::{Logistic, pow_non_negative};
use crate::mechanics::assembly::{Elementwise, elementwise_forwards};
use crate::mechanics::gradient::Constant;
use crate::mechanics::numerics::finite_or_zero;
use crate::mechanics::reduction::Reduction;
use crate::mechanics::validation::{check_same_shape, fail_option};

const LOSS: &str = "SigmoidFocalLoss";

/// Configuration of [`SigmoidFocalLoss`] (`torchvision.ops.sigmoid_focal_loss`).
#[derive(Config, Debug)]
pub struct SigmoidFocalLossConfig {
    /// The weight of the positive class, `α` in `[0, 1]` (negatives get `1 - α`). `None` or a
    /// negative value disables the weighting, as torchvision's `alpha = -1`. Default: 0.25.
    #[config(default = "Some(0.25)")]
    pub alpha: Option<f32>,
    /// The focusing exponent `γ >= 0`: `0` gives (α-weighted) binary cross entropy.
    #[config(default = 2.0)]
    pub gamma: f32,
    /// The reduction applied by `forward`. torchvision defaults to `'none'`; like every loss of
    /// this crate, this one defaults to `Mean` (`forward_no_reduction` is `'none'`).
    #[config(default = "Reduction::Mean")]
    pub reduction: Reduction,
}

impl SigmoidFocalLossConfig {
    /// Checks the options and builds the loss.
    ///
    /// # Panics
    /// If `gamma` is negative or not finite, or `alpha` is NaN or above 1 (torchvision accepts
    /// any `alpha`; above 1 the negatives' weight `1 - α` is negative, which rewards wrong
    /// predictions, so it is rejected here as a configuration error).
    pub fn init<B: Backend>(&self, _device: &B::Device) -> SigmoidFocalLoss<B> {
        if !(self.gamma.is_finite() && self.gamma >= 0.0) {
            fail_option(LOSS, "gamma", "a finite value >= 0", self.gamma);
        }
        if let Some(alpha) = self.alpha
            && (alpha.is_nan() || alpha > 1.0)
        {
            fail_option(
                LOSS,
                "alpha",
                "None, a negative value (no weighting) or a value in [0, 1]",
                alpha,
            );
        }
        SigmoidFocalLoss {
            alpha: self.alpha.filter(|alpha| *alpha >= 0.0),
            gamma: self.gamma,
            reduction: self.reduction,
            _backend: core::marker::PhantomData,
        }
    }
}

/// The focal loss of logits `x` against targets `y` in `[0, 1]` (Lin et al., "Focal Loss for
/// Dense Object Detection", 2017), exactly as `torchvision.ops.sigmoid_focal_loss`:
///
/// ```text
/// p = σ(x)      ce = (1 - y) · x - log σ(x)         (binary cross entropy with logits)
/// 1 - p_t = p · (1 - y) + (1 - p) · y
/// α_t = α · y + (1 - α) · (1 - y)                    (1 when the weighting is disabled)
/// ℓ = α_t · ce · (1 - p_t)^γ
/// ```
///
/// Hard (0/1) and soft targets are allowed. `Mean` divides by the number of elements, `Sum`
/// is torchvision's `'sum'`; torchvision's default `'none'` is `forward_no_reduction` (this
/// loss's own default is `Mean`, as for every loss of the crate).
///
/// # Numerics
/// Every term is computed in log space or from `σ(x)` and `σ(-x)` evaluated separately, so the
/// loss and its gradient are finite for every finite logit (probabilities of exactly 0 or 1,
/// logits ±1e4, included); torchvision computes `1 - p_t` from `1 - σ(x)` and agrees to
/// rounding. Where `1 - p_t = 0` and `0 < γ < 1`, `(1 - p_t)^γ` is not differentiable and
/// PyTorch's autograd gives NaN; the gradient here is the finite one-sided limit, 0 for that
/// term. Gradients are closed-form:
///
/// ```text
/// ∂ℓ/∂x = α_t · [ (p - y) · (1 - p_t)^γ + γ · ce · (1 - p_t)^γ · p (1 - p) / (1 - p_t) · (1 - 2y) ]
/// ∂ℓ/∂y = (2α - 1) · ce · (1 - p_t)^γ - α_t · x · (1 - p_t)^γ + α_t · γ · ce · (1 - p_t)^(γ - 1) · (1 - 2p)
/// ```
///
/// (the `2α - 1` term only with the weighting; a target gradient PyTorch leaves infinite or
/// NaN is 0, as for binary cross entropy).
///
/// # Shapes
/// - logits, targets, unreduced output: any shape, the same for all three
///
/// # Example
/// ```
/// use burn::backend::NdArray;
/// use burn::tensor::Tensor;
/// use burn_losses::*;
///
/// let device = Default::default();
/// let loss = SigmoidFocalLossConfig::new().init::<NdArray>(&device);
/// let logits = Tensor::<NdArray, 2>::from_floats([[2.0, -1.0, 0.5], [-3.0, 0.0, 4.0]], &device);
/// let targets = Tensor::<NdArray, 2>::from_floats([[1.0, 0.0, 0.0], [1.0, 0.0, 1.0]], &device);
/// let value = loss.forward(logits, targets).into_scalar();
/// assert!((value - 0.187007).abs() < 1e-5); // PyTorch: 0.18700665
/// ```
#[derive(Module, Debug)]
pub struct SigmoidFocalLoss<B: Backend> {
    /// The positive-class weight `α`, `None` when the weighting is disabled.
    pub alpha: Option<f32>,
    /// The focusing exponent `γ`.
    pub gamma: f32,
    /// The reduction applied by `forward`.
    pub reduction: Reduction,
    _backend: core::marker::PhantomData<B>,
}

impl<B: Backend> SigmoidFocalLoss<B> {
    elementwise_forwards!(
        logits,
        targets,
        panics: "If the shapes of `logits` and `targets` differ."
    );

    /// The loss of every element (torchvision's `'none'`) and its closed-form gradients.
    fn elementwise<const D: usize>(
        &self,
        logits: Tensor<B, D>,
        targets: Tensor<B, D>,
    ) -> Elementwise<B, D> {
        check_same_shape(LOSS, "targets", "logits", &logits.dims(), &targets.dims());
        let gamma = self.gamma;
        let x = logits.clone().constant();
        let y = targets.clone().constant();
        let logistic = Logistic::new(x.clone());
        let one_minus_y = y.clone().neg() + 1.0;
        let ce = logistic.binary_cross_entropy(x.clone(), y.clone());
        // 1 - p_t as a sum of two non-negative terms: no cancellation for y in [0, 1].
        let q = logistic.sigmoid.clone() * one_minus_y.clone()
            + logistic.sigmoid_neg.clone() * y.clone();
        let modulation = pow_non_negative(q.clone(), gamma);
        // α_t = (1 - α) + (2α - 1) y
        let alpha_t = self
            .alpha
            .map(|alpha| y.clone().mul_scalar(2.0 * alpha - 1.0) + (1.0 - alpha));
        let weighted = |values: Tensor<B, D>| match &alpha_t {
            Some(alpha_t) => values * alpha_t.clone(),
            None => values,
        };
        let losses = weighted(ce.clone() * modulation.clone());

        let q_is_zero = q.clone().equal_elem(0.0);
        Elementwise::new(losses)
            .gradient(&logits, || {
                let mut gradient = (logistic.sigmoid.clone() - y.clone()) * modulation.clone();
                if gamma > 0.0 {
                    // p (1 - p) / (1 - p_t) <= 1 for y in [0, 1]; the term vanishes where
                    // 1 - p_t = 0 (its limit), whatever γ.
                    let ratio =
                        (logistic.derivative() / q.clone()).mask_fill(q_is_zero.clone(), 0.0);
                    let sign = one_minus_y.clone() - y.clone();
                    gradient = gradient + ce.clone() * modulation.clone() * ratio * sign * gamma;
                }
                weighted(gradient)
            })
            .gradient(&targets, || {
                let mut gradient = weighted(-x.clone() * modulation.clone());
                if let Some(alpha) = self.alpha {
                    gradient = gradient + ce.clone() * modulation.clone() * (2.0 * alpha - 1.0);
                }
                if gamma > 0.0 {
                    // (1 - p_t)^(γ - 1): 0^0 = 1; where γ < 1 and 1 - p_t = 0 PyTorch's value is
                    // infinite, and the convention for such target gradients is 0.
                    let power = if gamma >= 1.0 {
                        pow_non_negative(q.clone(), gamma - 1.0)
                    } else {
                        q.clone().powf_scalar(gamma - 1.0).mask_fill(q_is_zero, 0.0)
                    };
                    let sign = logistic.sigmoid_neg.clone() - logistic.sigmoid.clone();
                    gradient = gradient + weighted(ce * power * sign * gamma);
                }
                finite_or_zero(gradient)
            })
    }
}
